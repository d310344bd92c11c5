/* SPDX-License-Identifier: MIT
 *
 * WaveNet vocoder (van den Oord et al., 2016; conditioned on mels as in Tacotron 2 and r9y9's
 * wavenet_vocoder): an autoregressive model of 16-bit audio as 256 μ-law levels.
 *
 *     input     causal conv, kernel 2 (previous sample, μ-law decoded → R channels)
 *     n_layers  dilated causal conv, kernel 2, dilation 2^(l mod (n_layers/n_stacks)) (R → 2G)
 *               + the mel condition for this layer,
 *               gated unit z = tanh(a) · σ(b) (G channels),
 *               1×1 conv z → residual R (added to the input, scaled by √½) and skip S (summed)
 *     output    relu, 1×1 (S → S), relu, 1×1 (S → 256): logits of the next sample's level
 *
 * The condition: the log-mel frames go through a conv (kernel 3, n_mels → cond_channels) and a
 * leaky ReLU at frame rate; each layer projects that by its own 1×1 conv (→ 2G) and the result is
 * linearly interpolated to the sample rate (align_corners = False: frame f sits at sample
 * f·hop + hop/2 − ½). Projecting before interpolating is exact (both are linear) and lets
 * generation interpolate 2G numbers per layer and sample instead of running a conv per sample.
 *
 * Output: a 256-way softmax over μ-law levels (not a mixture of logistics): the classic
 * WaveNet choice, trained by plain cross-entropy, robust with small models and short runs; its
 * cost per sample (S·256 multiply-adds) is a small part of the whole at these sizes.
 *
 * Pre-emphasis (WaveRNN, LPCNet, FFTNet): the levels are those of y[t] = x[t] − α·x[t−1], not of
 * the audio x itself, and generation undoes it (x[t] = y[t] + α·x[t−1]). Speech falls ~6 dB an
 * octave, so on the raw signal the formants above 1 kHz sit near the 8-bit μ-law noise and the
 * cross-entropy hardly sees them; emphasised they weigh as much as the first harmonics, and
 * de-emphasis pushes the model's noise under the strong low frequencies. α = 0 turns it off (files
 * from before it read as 0).
 *
 * Generation runs one sample at a time with cached convolution queues (fast-wavenet, r9y9's
 * incremental_forward): each layer keeps the last `dilation` inputs it saw in a ring buffer, so a
 * sample costs one pass through the layers as matrix–vector products. It is polled for cancel
 * every few hundred samples.
 */
#pragma once

#include "dsp/aigc-speech-features.h"
#include "io/aigc-safetensors.h"
#include "tensor/aigc-params.h"

G_BEGIN_DECLS

#define AIGC_WAVENET_FAMILY  "wavenet"
#define AIGC_WAVENET_CLASSES 256

typedef struct {
    int n_mels;            /* 80 */
    int residual_channels; /* R (64) */
    int gate_channels;     /* 2G before the gated unit (128) */
    int skip_channels;     /* S (128) */
    int cond_channels;     /* width of the frame-rate condition (128) */
    int n_layers;          /* 16 */
    int n_stacks;          /* 2: dilations 1 … 128, twice */
    float preemphasis;     /* α, 0 … 0.99 (0.97; 0: none) */
} AigcWavenetConfig;

AigcWavenetConfig aigc_wavenet_default_config(void);
gboolean aigc_wavenet_config_validate(const AigcWavenetConfig *c, GError **error);
/* "key=value": residual_channels, gate_channels, skip_channels, cond_channels, n_layers,
 * n_stacks, n_mels, preemphasis. */
gboolean aigc_wavenet_config_set(AigcWavenetConfig *c, const char *key, const char *value,
                                 GError **error);
char *aigc_wavenet_config_to_json(const AigcWavenetConfig *c);
gboolean aigc_wavenet_config_from_json(AigcWavenetConfig *c, const char *json, GError **error);
/* Samples each output depends on: 1 + Σ dilations + 1 (the input conv). */
int aigc_wavenet_config_get_receptive_field(const AigcWavenetConfig *c);

typedef struct _AigcWavenet AigcWavenet;

/* (transfer full) Zero weights. features' n_mels must equal the config's. */
AigcWavenet *aigc_wavenet_new(const AigcWavenetConfig *config, const AigcSpeechFeatures *features);
void aigc_wavenet_free(AigcWavenet *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcWavenet, aigc_wavenet_free)
gboolean aigc_wavenet_check_features(const AigcWavenetConfig *c, const AigcSpeechFeatures *f,
                                     GError **error);
/* Kaiming-uniform like PyTorch's conv default (bound 1/√fan_in) for weights and biases. */
void aigc_wavenet_init_weights(AigcWavenet *w, AigcRng *rng);
const AigcWavenetConfig *aigc_wavenet_get_config(AigcWavenet *w);
const AigcSpeechFeatures *aigc_wavenet_get_features(AigcWavenet *w);
/* (transfer none) */
AigcParams *aigc_wavenet_get_params(AigcWavenet *w);

/* The training graph. x [B, 1, T]: the previous sample at each position (μ-law decoded, so
 * generation feeds what it can produce); mel [B, n_mels, Fw]: the frames around the segment;
 * the segment's first sample sits at `offset` samples into the window's upsampled condition
 * (offset + T ≤ Fw·hop). Returns logits [B, 256, T]. */
AigcTensor *aigc_wavenet_forward(AigcCtx *ctx, AigcWavenet *w, AigcTensor *x, AigcTensor *mel,
                                 gint64 offset);
/* Teacher forcing for audio [T] whose two preceding samples are before[0], before[1] (0 at an
 * utterance's start): targets [T] the μ-law levels of the (pre-emphasised) signal and x [T] the
 * input at each position, the previous level decoded, as generation feeds it. */
void aigc_wavenet_teacher_forcing(const AigcWavenetConfig *c, const float *audio, gint64 T,
                                  const float before[2], float *x, gint32 *targets);
/* Mean cross-entropy (nats per sample) of the levels targets [B·T] (b-major). */
AigcTensor *aigc_wavenet_loss(AigcCtx *ctx, AigcWavenet *w, AigcTensor *x, AigcTensor *mel,
                              gint64 offset, const gint32 *targets);

/* ---- generation ---- */

/* Called every few hundred samples with the fraction done; return FALSE to stop. */
typedef gboolean (*AigcWavenetProgressFunc)(double fraction, gpointer user_data);

/* Samples out [F·hop] one at a time from mel [F, n_mels] (frame-major), drawing each level from
 * the softmax with a counter-based RNG seeded by `seed` and undoing the pre-emphasis (the
 * result clamped to ±1). The per-sample products use half-float
 * copies of the weights (see aigc_wavenet_incremental_logits). FALSE + AIGC_ENGINE_ERROR_CANCELLED
 * when stopped, AIGC_ENGINE_ERROR_INVALID / NUMERIC for bad input. */
gboolean aigc_wavenet_generate(AigcWavenet *w, const float *mel, gint64 F, guint64 seed, float *out,
                               AigcWavenetProgressFunc progress, gpointer user_data,
                               GError **error);
/* The incremental path on given inputs (teacher forcing): x [T] previous samples as in
 * aigc_wavenet_forward with offset 0 and the whole mel, logits [T, 256]. For tests: it must agree
 * with the full causal forward. half: products with half-float weights, as generation uses
 * (they halve the bytes streamed per sample; relative weight error ≤ 2^-11). */
gboolean aigc_wavenet_incremental_logits(AigcWavenet *w, const float *mel, gint64 F, const float *x,
                                         gint64 T, gboolean half, float *logits, GError **error);

/* ---- files ---- */

gboolean aigc_wavenet_save(AigcWavenet *w, AigcSafetensorsWriter *writer, AigcDtype dtype,
                           GError **error);
/* (transfer full) (nullable) */
AigcWavenet *aigc_wavenet_load(AigcSafetensors *st, GError **error);

G_END_DECLS
