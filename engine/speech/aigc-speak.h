/* SPDX-License-Identifier: MIT
 *
 * Text to speech as an engine job: the text is normalised and split into sentences; each is
 * read by a voice (Tacotron 2: phonemes → mel spectrogram + attention alignment), optionally
 * sped up or slowed down (the mel is resampled in time, so the pitch stays), and turned into
 * sound by a vocoder (MelGAN, WaveNet or Griffin-Lim). Every finished sentence is streamed as
 * previews — its audio, its mel and its alignment — so playback can start with the first.
 */
#pragma once

#include "jobs/aigc-job.h"
#include "models/tacotron2/aigc-tacotron2.h"
#include "models/vocoder/aigc-vocoder.h"

G_BEGIN_DECLS

/* Longest sentence handed to the voice, in characters; longer ones are cut at commas/spaces. */
#define AIGC_SPEAK_MAX_SENTENCE 200
/* Longest text one job reads (characters). */
#define AIGC_SPEAK_MAX_TEXT 100000

typedef struct {
    const char *text;
    float speed;       /* 0.5 … 2 (1): > 1 is faster */
    guint64 seed;      /* the voice's pre-net dropout and the vocoder's sampling (1) */
    float pause;       /* seconds of silence between sentences, 0 … 2 (0.25) */
} AigcSpeakParams;

AigcSpeakParams aigc_speak_default_params(void);

typedef struct {
    float *samples;     /* [n_samples] at sample_rate */
    gint64 n_samples;
    int sample_rate;
    float *mel;         /* [n_frames, n_mels] of the whole text (pauses as the log floor) */
    gint64 n_frames;
    int n_mels;
    int n_sentences;
    char **sentences;   /* (n_sentences + 1, NULL-terminated) as read */
    double seconds;     /* compute time */
    double real_time_factor; /* compute time ÷ audio duration */
    int n_capped;       /* sentences the voice stopped only by its length cap */
} AigcSpeakResult;

void aigc_speak_result_free(AigcSpeakResult *result);

/* Preview labels: "audio" (AIGC_PREVIEW_AUDIO_F32, one sentence and its pause), "mel"
 * (AIGC_PREVIEW_VALUES, width n_mels × height n_frames) and "alignment" (AIGC_PREVIEW_VALUES,
 * width n_symbols × height n_steps), in that order for each sentence. */

/* (transfer full) (nullable) Checks the text (not empty, not longer than AIGC_SPEAK_MAX_TEXT,
 * something to say after normalising), the speed and that voice and vocoder share their
 * features (rate, hop, mels); NULL + AIGC_ENGINE_ERROR_INVALID naming the fault. The job takes
 * ownership of neither model: both must outlive it. */
AigcJob *aigc_speak_job_new(AigcTacotron2 *voice, AigcVocoder *vocoder,
                            const AigcSpeakParams *params, GError **error);

/* Resamples a mel [n_frames, n_mels] in time by 1/speed (linear interpolation between
 * frames); returns the new frame count. out has room for ceil(n_frames / speed) + 1 frames. */
gint64 aigc_speak_stretch_mel(const float *mel, gint64 n_frames, int n_mels, float speed,
                              float *out);

G_END_DECLS
