/* SPDX-License-Identifier: MIT
 *
 * MelGAN (Kumar et al., 2019): a fully convolutional, non-autoregressive vocoder. The generator
 * turns a log-mel spectrogram [n_mels, F] into F·hop samples:
 *
 *     conv 7 (n_mels → C)
 *     for each upsampling factor r (8, 8, 2, 2 — their product is the hop, 256):
 *         leaky ReLU, transposed conv (kernel 2r, stride r) halving the channels,
 *         a residual stack of n_res blocks x + conv1×1(lrelu(conv3_dilated(lrelu(x)))) with
 *         dilations 1, 3, 9 (dilation_base^j)
 *     leaky ReLU, conv 7 (→ 1), tanh
 *
 * Differences from the paper, for a CPU budget: the first width C is 256 (the paper: 512), the
 * residual shortcut is the identity (the paper: a 1×1 conv), and convolutions pad with zeros
 * rather than by reflection.
 *
 * Weight normalisation is a reparametrisation while training (every weight is g·v/‖v‖, v and g
 * are what the optimiser sees); for inference the weights are folded once into plain tensors,
 * which is also what a model file stores. Training graphs run on the tape; synthesis runs the
 * folded weights on the raw conv kernels (im2col + sgemm on the engine's threads) with no tape.
 *
 * The multi-scale discriminator that trains it lives in aigc-melgan-disc.h.
 */
#pragma once

#include "dsp/aigc-speech-features.h"
#include "io/aigc-safetensors.h"
#include "tensor/aigc-params.h"

G_BEGIN_DECLS

#define AIGC_MELGAN_FAMILY       "melgan"
#define AIGC_MELGAN_MAX_UPSAMPLE 6

typedef struct {
    int n_mels;                             /* input bands (the features' n_mels) */
    int channels;                           /* width after the first conv (256) */
    int n_upsample;                         /* stages (4) */
    int upsample[AIGC_MELGAN_MAX_UPSAMPLE]; /* factors (8, 8, 2, 2); product = hop */
    int n_res;                              /* residual blocks per stage (3) */
    int dilation_base;                      /* block j has dilation base^j (3: 1, 3, 9) */
    float slope;                            /* leaky ReLU slope (0.2) */
    /* the multi-scale discriminator (training only) */
    int disc_scales;       /* 3: the audio, then average-pooled by 2, by 4 */
    int disc_channels;     /* first layer's width (16) */
    int disc_max_channels; /* cap on the widths (256; the paper: 1024) */
} AigcMelganConfig;

AigcMelganConfig aigc_melgan_default_config(void);
/* FALSE + AIGC_ENGINE_ERROR_INVALID naming the field. */
gboolean aigc_melgan_config_validate(const AigcMelganConfig *c, GError **error);
/* "key=value": n_mels, channels, upsample (e.g. "8,8,2,2"), n_res, dilation_base, slope,
 * disc_scales, disc_channels, disc_max_channels. */
gboolean aigc_melgan_config_set(AigcMelganConfig *c, const char *key, const char *value,
                                GError **error);
char *aigc_melgan_config_to_json(const AigcMelganConfig *c);
gboolean aigc_melgan_config_from_json(AigcMelganConfig *c, const char *json, GError **error);
/* Samples per mel frame: the product of the upsampling factors. */
int aigc_melgan_config_get_hop(const AigcMelganConfig *c);

typedef struct _AigcMelgan AigcMelgan;

/* (transfer full) A generator with zero weights. The features' hop must equal the product of the
 * factors and their n_mels the config's (checked: FALSE cases are programmer errors here; use
 * aigc_melgan_check_features first). */
AigcMelgan *aigc_melgan_new(const AigcMelganConfig *config, const AigcSpeechFeatures *features);
void aigc_melgan_free(AigcMelgan *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcMelgan, aigc_melgan_free)
gboolean aigc_melgan_check_features(const AigcMelganConfig *c, const AigcSpeechFeatures *f,
                                    GError **error);
/* v ~ N(0, 0.02), g = ‖v‖, biases 0 (the paper's initialisation), then folded. */
void aigc_melgan_init_weights(AigcMelgan *m, AigcRng *rng);
const AigcMelganConfig *aigc_melgan_get_config(AigcMelgan *m);
const AigcSpeechFeatures *aigc_melgan_get_features(AigcMelgan *m);
/* (transfer none) The training parameters (NAME.weight_v, NAME.weight_g, NAME.bias). */
AigcParams *aigc_melgan_get_params(AigcMelgan *m);
/* (transfer none) The folded inference weights (NAME.weight, NAME.bias). */
AigcParams *aigc_melgan_get_weights(AigcMelgan *m);
/* Recomputes the inference weights from the training parameters (after optimiser steps). */
void aigc_melgan_fold(AigcMelgan *m);
/* Sets the training parameters from the inference weights (v = w, g = ‖w‖: the same function). */
void aigc_melgan_unfold(AigcMelgan *m);

/* The training graph: mel [B, n_mels, F] → audio [B, 1, F·hop], differentiable. */
AigcTensor *aigc_melgan_forward(AigcCtx *ctx, AigcMelgan *m, AigcTensor *mel);

/* Called between layers with the fraction done; return FALSE to stop. */
typedef gboolean (*AigcMelganProgressFunc)(double fraction, gpointer user_data);

/* Synthesis with the folded weights: log-mel frames mel [F, n_mels] (frame-major, as
 * AigcMelAnalyzer and Tacotron 2 give them) → out [F·hop]. Memory: about 3·channels·F floats per
 * buffer stage, a few MB per second of audio. FALSE + AIGC_ENGINE_ERROR_CANCELLED when
 * `progress` asks to stop; AIGC_ENGINE_ERROR_INVALID for F < 1 or non-finite input. */
gboolean aigc_melgan_synthesize(AigcMelgan *m, const float *mel, gint64 F, float *out,
                                AigcMelganProgressFunc progress, gpointer user_data,
                                GError **error);

/* ---- files ---- */

/* Adds the folded weights (as dtype) and "family", "melgan.config", "speech.features". */
gboolean aigc_melgan_save(AigcMelgan *m, AigcSafetensorsWriter *writer, AigcDtype dtype,
                          GError **error);
/* (transfer full) (nullable) A generator from a model file: config and features checked, every
 * weight present with its shape and finite; training parameters unfolded from it. */
AigcMelgan *aigc_melgan_load(AigcSafetensors *st, GError **error);

G_END_DECLS
