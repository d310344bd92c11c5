/* SPDX-License-Identifier: MIT
 *
 * Audio files through libsndfile: reading any file it supports (WAV, FLAC, Ogg/Vorbis, Opus,
 * AIFF, AU, MP3 where the library has it, …) as mono float, and writing the Speak workshop's
 * exports — mono WAV as 16-bit PCM, 24-bit PCM or 32-bit float, at the model's rate or a chosen
 * one, with the generation parameters in the file's INFO strings (DESIGN §3.3).
 *
 * Reading checks, and reports as a GError naming the file: a missing file or a folder, an
 * empty file, containers libsndfile cannot read (MP4/M4A, MIDI, …), WAV files cut short (the
 * data chunk announces more bytes than the file holds), files libsndfile rejects (garbage,
 * broken headers, unknown codecs), no samples at all, sample rates outside
 * AIGC_SAMPLE_RATE_MIN … MAX, more than AIGC_AUDIO_MAX_FRAMES frames, and NaN/Inf samples in
 * float files. Several channels are averaged to one.
 */
#pragma once

#include "dsp/aigc-resample.h"

#include <glib.h>

G_BEGIN_DECLS

/* 2^30 frames: 6.2 hours at 48 kHz, 4 GiB as float. */
#define AIGC_AUDIO_MAX_FRAMES ((gint64)1 << 30)

typedef struct {
    float *samples;    /* [n_samples] mono; integer formats scaled to [−1, 1) */
    gint64 n_samples;
    int sample_rate;   /* Hz */
    int n_channels;    /* in the file, before the downmix */
    char *format_name; /* e.g. "WAV (Microsoft) 16 bit PCM" */
    char *title;       /* (nullable) the file's title string, valid UTF-8 */
    char *comment;     /* (nullable) its comment string (generation parameters) */
    char *software;    /* (nullable) the software that wrote it (libsndfile appends its own
                        * name to what the engine writes: "aigc-studio 0.1.0 (libsndfile-1.2.0)") */
} AigcAudio;

void aigc_audio_free(AigcAudio *audio);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcAudio, aigc_audio_free)

/* (transfer full) (nullable) Reads a whole file as mono float. Error codes: IO (missing,
 * unreadable, a folder), FORMAT (empty, truncated, corrupt, no samples), UNSUPPORTED (a format,
 * codec, rate or length the engine does not take), NUMERIC (NaN/Inf samples). */
AigcAudio *aigc_audio_file_read(const char *path, GError **error);

typedef enum {
    AIGC_AUDIO_PCM16,   /* 16-bit integer PCM (default) */
    AIGC_AUDIO_PCM24,   /* 24-bit integer PCM */
    AIGC_AUDIO_FLOAT32, /* IEEE 32-bit float */
} AigcAudioEncoding;

typedef struct {
    AigcAudioEncoding encoding;
    int sample_rate_out;         /* 0 = write at the samples' own rate (default 0) */
    AigcResampleQuality quality; /* when resampling (default AIGC_RESAMPLE_BEST) */
    const char *title;           /* (nullable) INFO strings, UTF-8 */
    const char *comment;         /* (nullable) e.g. "Model: tacotron2, Seed: 42, …" */
    const char *software;        /* (nullable) e.g. "aigc-studio 0.1.0" */
} AigcWavWriteParams;

AigcWavWriteParams aigc_wav_write_default_params(void);

/* Writes mono samples [n_samples] (1 ≤ n_samples ≤ AIGC_AUDIO_MAX_FRAMES, finite; PCM clips to
 * [−1, 1]) recorded at sample_rate as a WAV file, atomically: the file appears whole or not at
 * all. `params` may be NULL for the defaults. */
gboolean aigc_audio_file_write_wav(const char *path, const float *samples, gint64 n_samples,
                                   int sample_rate, const AigcWavWriteParams *params,
                                   GError **error);

G_END_DECLS
