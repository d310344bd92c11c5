/* SPDX-License-Identifier: MIT
 *
 * The acoustic features every Speak model shares: one sample rate and one log-mel analysis, so
 * a Tacotron 2 trained here feeds any vocoder trained here. Stored in each speech model's
 * metadata ("speech.features") and checked when a voice and a vocoder are paired.
 *
 * Defaults (the teacher corpus of data/speech/prepare-teacher.py is 16 kHz): 16,000 Hz,
 * n_fft 1024, Hann window 1024, hop 256 (16 ms, 62.5 frames per second — the product of the
 * MelGAN upsampling factors 8·8·2·2), 80 Slaney mel bands from 0 to 8,000 Hz, natural-log
 * magnitude with floor 1e-5 (aigc-mel.h). Audio is peak-normalised to 0.95 before analysis
 * only when asked (the teacher's level is kept by default).
 */
#pragma once

#include "dsp/aigc-mel.h"
#include "dsp/aigc-stft.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    int sample_rate; /* Hz, 8000 … 48000 */
    int n_fft;       /* 256 … 4096, even */
    int win_length;  /* ≤ n_fft */
    int hop_length;  /* samples per mel frame, 1 … win_length */
    int n_mels;      /* 1 … 256 */
    float f_min;     /* Hz */
    float f_max;     /* Hz, ≤ sample_rate/2 */
    float log_floor; /* ln(max(mel, log_floor)) */
} AigcSpeechFeatures;

AigcSpeechFeatures aigc_speech_features_default(void);
/* FALSE + AIGC_ENGINE_ERROR_INVALID naming the field when out of range. */
gboolean aigc_speech_features_validate(const AigcSpeechFeatures *f, GError **error);
/* TRUE when two models can be chained (same rate, hop and mel analysis). */
gboolean aigc_speech_features_equal(const AigcSpeechFeatures *a, const AigcSpeechFeatures *b);
/* (transfer full) A JSON object, e.g. for the "speech.features" metadata key. */
char *aigc_speech_features_to_json(const AigcSpeechFeatures *f);
/* Parses and validates that JSON (missing keys take the defaults). */
gboolean aigc_speech_features_from_json(AigcSpeechFeatures *f, const char *json,
                                        GError **error);

/* The analysis itself: STFT + filterbank made once, reusable from one thread at a time. */
typedef struct _AigcMelAnalyzer AigcMelAnalyzer;

/* (transfer full) (nullable) */
AigcMelAnalyzer *aigc_mel_analyzer_new(const AigcSpeechFeatures *f, GError **error);
void aigc_mel_analyzer_free(AigcMelAnalyzer *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcMelAnalyzer, aigc_mel_analyzer_free)
const AigcSpeechFeatures *aigc_mel_analyzer_get_features(AigcMelAnalyzer *a);
/* Frames of n_samples samples (centred STFT: n_samples / hop + 1). */
gint64 aigc_mel_analyzer_get_n_frames(AigcMelAnalyzer *a, gint64 n_samples);
/* log_mel [n_frames, n_mels] of x [n_samples] at the features' sample rate. */
gboolean aigc_mel_analyzer_run(AigcMelAnalyzer *a, const float *x, gint64 n_samples,
                               float *log_mel, GError **error);
/* (transfer full) (nullable) Reads an audio file, downmixes, resamples to the features' rate
 * and returns its log-mel [*n_frames, n_mels]; *samples_out (nullable) receives the resampled
 * audio [*n_samples] (free with g_free). */
float *aigc_mel_analyzer_run_file(AigcMelAnalyzer *a, const char *path, gint64 *n_frames,
                                  float **samples_out, gint64 *n_samples, GError **error);

G_END_DECLS
