/* SPDX-License-Identifier: MIT
 *
 * One interface for every vocoder, so the CLI and the Speak panel can run any of them: log-mel
 * frames [F, n_mels] (the shared speech features, aigc-speech-features.h) in, F·hop samples out,
 * with a progress callback that can stop the work.
 *
 *   griffin-lim  training-free baseline: the log-mel is mapped to a linear magnitude through the
 *                filterbank's pseudo-inverse and phases are found by fast Griffin-Lim
 *   melgan       a trained MelGAN generator (aigc-melgan.h): fast, parallel
 *   wavenet      a trained WaveNet (aigc-wavenet.h): autoregressive, sampled with a seed
 *
 * A vocoder never changes once made: any number of threads may synthesise with one at a time.
 */
#pragma once

#include "dsp/aigc-speech-features.h"
#include "io/aigc-safetensors.h"

G_BEGIN_DECLS

#define AIGC_VOCODER_GRIFFIN_LIM "griffin-lim"

/* Called now and then with the fraction done; return FALSE to stop (the call then fails with
 * AIGC_ENGINE_ERROR_CANCELLED). */
typedef gboolean (*AigcVocoderProgressFunc)(double fraction, gpointer user_data);

typedef struct {
    guint64 seed;          /* WaveNet's sampling, Griffin-Lim's initial phases (default 0) */
    int griffin_lim_iters; /* (default 32) */
    AigcVocoderProgressFunc progress; /* (nullable) */
    gpointer user_data;
} AigcVocoderParams;

AigcVocoderParams aigc_vocoder_default_params(void);

typedef struct _AigcVocoder AigcVocoder;

/* (transfer full) (nullable) The Griffin-Lim baseline for these features. */
AigcVocoder *aigc_vocoder_new_griffin_lim(const AigcSpeechFeatures *features, GError **error);
/* (transfer full) (nullable) From an opened model file of family melgan or wavenet. */
AigcVocoder *aigc_vocoder_new_from_file(AigcSafetensors *st, GError **error);
/* (transfer full) (nullable) "griffin-lim" (with the default features), a model name from the
 * catalogue (aigc_models_find) or a path to a .safetensors file. A model of another family is
 * refused with AIGC_ENGINE_ERROR_UNSUPPORTED. */
AigcVocoder *aigc_vocoder_load(const char *name_or_path, GError **error);
void aigc_vocoder_free(AigcVocoder *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcVocoder, aigc_vocoder_free)

/* "griffin-lim", "melgan" or "wavenet". */
const char *aigc_vocoder_get_family(AigcVocoder *v);
const AigcSpeechFeatures *aigc_vocoder_get_features(AigcVocoder *v);

/* (transfer full) (nullable) Samples [*n_samples = n_frames·hop] at the features' rate from
 * mel [n_frames, n_mels]. `params` may be NULL for the defaults. Errors: INVALID for no frames,
 * NUMERIC for NaN/Inf in the mel, CANCELLED when the progress callback stopped it. */
float *aigc_vocoder_synthesize(AigcVocoder *v, const float *mel, gint64 n_frames,
                               const AigcVocoderParams *params, gint64 *n_samples, GError **error);

G_END_DECLS
