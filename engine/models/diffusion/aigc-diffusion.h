/* SPDX-License-Identifier: MIT
 *
 * The diffusion model of the Paint workshop (issue 6, item 2): a small UNet that predicts the
 * noise ε in a noised image x_t, given the timestep t and (optionally) a class, plus the noise
 * schedule it was trained with. Sampling, the training loss and img2img / inpainting live in
 * aigc-ddpm.h; the training job in aigc-diffusion-train.h.
 *
 * The UNet (DDPM's, made lean for two CPU cores). Widths W_l = ch·ch_mult[l] at resolutions
 * S, S/2, … (28, 14, 7 for Fashion-MNIST, so no padding to 32 is needed):
 *
 *   emb   = Linear(E) ∘ SiLU ∘ Linear(E) (sinusoidal(t, ch)) + class_embed[c]      E = 4·ch
 *   h     = conv_in 3×3 (x)                                                          W_0
 *   down  level l: n_res_blocks × ResBlock(W_l) (+ self-attention at the lowest level), each
 *         output kept as a skip; then a 3×3 stride-2 conv (not after the last level)
 *   mid   ResBlock, self-attention, ResBlock                                         W_{L−1}
 *   up    level l (from the lowest): n_res_blocks × ResBlock(concat(h, skip) → W_l)
 *         (+ attention at the lowest level); then nearest ×2 and a 3×3 conv to W_{l−1}
 *   out   GroupNorm, SiLU, conv_out 3×3 → ε                                         channels
 *
 *   ResBlock(x) = skip(x) + conv2(dropout(SiLU(GN(conv1(SiLU(GN(x))) + Linear(SiLU(emb))))))
 *   Attention(x) = x + proj(MHA(qkv(GN(x))))   (1×1 convs, n_heads heads over the S² positions)
 *
 * skip is a 1×1 conv where the width changes. Group norms have norm_groups groups (eps 1e-5).
 * Class conditioning: class_embed has n_classes + 1 rows; row n_classes is the "null" class
 * that classifier-free guidance uses for the unconditional prediction (AIGC_DIFFUSION_NULL_CLASS
 * in a class array means it). Weight names follow PyTorch module paths
 * ("down.0.res.0.conv1.weight"), with PyTorch's layouts, so tests/bench/torch_diffusion_sample.py
 * builds the same network.
 *
 * Hot path (two CPU cores): every 3×3 stride-1 convolution runs as Winograd F(2×2, 3×3)
 * (aigc-winograd.h) and every group norm + SiLU pair as one fused node (aigc-diffusion-ops.h).
 *
 * The noise schedule (n_timesteps, 1000): "cosine" (Nichol & Dhariwal 2021: ᾱ(t) =
 * f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s)·π/2), s = 0.008, each β clipped to 0.999) or
 * "linear" (Ho et al. 2020: β from 1e-4 to 0.02). Timestep t in 0 … T−1 is the t + 1-th
 * noising step: ᾱ_t = Π_{k ≤ t} (1 − β_k). Cosine suits 28×28 images better: linear spends most
 * steps at nearly pure noise.
 *
 * Model files: "family" = "diffusion", "diffusion.config" (JSON, the fields below),
 * "diffusion.classes" (JSON array of the class names, when conditional).
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "tensor/aigc-params.h"

G_BEGIN_DECLS

#define AIGC_DIFFUSION_FAMILY     "diffusion"
#define AIGC_DIFFUSION_MAX_LEVELS 4
/* In a class array: no class (the unconditional prediction). */
#define AIGC_DIFFUSION_NULL_CLASS (-1)
#define AIGC_DIFFUSION_MAX_TEXT_LEN 16

typedef enum {
    AIGC_BETA_COSINE,
    AIGC_BETA_LINEAR,
} AigcBetaSchedule;

typedef struct {
    int image_size; /* S: images are S×S; S divisible by 2^(n_levels − 1) (28) */
    int channels;   /* image channels: 1 gray, 3 RGB (1) */
    int ch;         /* base width (32); the embedding width E is 4·ch */
    int n_levels;   /* resolutions (3) */
    int ch_mult[AIGC_DIFFUSION_MAX_LEVELS]; /* level l has ch·ch_mult[l] channels (1, 2, 4) */
    int n_res_blocks;                       /* residual blocks per level, on each side (1) */
    int n_heads;     /* self-attention heads at the lowest resolution (4); 0 = no attention */
    int norm_groups; /* group-norm groups; divides every width (8) */
    float dropout;   /* in the residual blocks, training only (0.1) */
    int n_classes;   /* class conditioning (10); 0 = unconditional. With text_len > 0 these
                      * "classes" are the words of a vocabulary (the class names) */
    int text_len;    /* text conditioning: each sample's condition is up to text_len words
                      * (0 = one class per sample); their embeddings are averaged */
    AigcBetaSchedule schedule; /* (cosine) */
    int n_timesteps;           /* T (1000) */
} AigcDiffusionConfig;

AigcDiffusionConfig aigc_diffusion_default_config(void);
/* FALSE + AIGC_ENGINE_ERROR_INVALID naming the fault when a number is out of range or the
 * widths, groups, heads and levels do not fit together. */
gboolean aigc_diffusion_config_validate(const AigcDiffusionConfig *config, GError **error);
/* Sets a field from "key=value" text: image_size, channels, ch, ch_mult (e.g. "1,2,4", which
 * also sets n_levels), n_res_blocks, n_heads, norm_groups, dropout, n_classes, text_len,
 * schedule (cosine, linear), n_timesteps. FALSE + error for unknown keys or bad values. */
gboolean aigc_diffusion_config_set(AigcDiffusionConfig *config, const char *key, const char *value,
                                   GError **error);
/* (transfer full) */
char *aigc_diffusion_config_to_json(const AigcDiffusionConfig *config);
/* Reads and validates a config written by aigc_diffusion_config_to_json. */
gboolean aigc_diffusion_config_from_json(AigcDiffusionConfig *config, const char *json,
                                         GError **error);
const char *aigc_beta_schedule_name(AigcBetaSchedule schedule);

typedef struct _AigcDiffusion AigcDiffusion;

/* (transfer full) Parameters allocated and zero; classes named "0", "1", …. The config must
 * be valid. */
AigcDiffusion *aigc_diffusion_new(const AigcDiffusionConfig *config);
void aigc_diffusion_free(AigcDiffusion *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcDiffusion, aigc_diffusion_free)
/* PyTorch's default initialisation (U(±1/√fan_in) for convs and linears, N(0, 1) for the class
 * embedding, group norms 1 and 0), except that the last conv of every residual branch (conv2,
 * the attention's proj) and conv_out start at zero, as in DDPM: each block starts as the
 * identity and the first prediction is 0. */
void aigc_diffusion_init_weights(AigcDiffusion *model, AigcRng *rng);
/* (transfer none) */
const AigcDiffusionConfig *aigc_diffusion_get_config(AigcDiffusion *model);
/* (transfer none) */
AigcParams *aigc_diffusion_get_params(AigcDiffusion *model);

/* ---- classes ---- */

/* Names the n_classes classes (names: n_classes strings, copied). */
void aigc_diffusion_set_class_names(AigcDiffusion *model, const char *const *names);
/* (transfer none) "?" when out of range. */
const char *aigc_diffusion_get_class_name(AigcDiffusion *model, int i_class);
/* The class called `name` (ASCII case-insensitive, or its number); −1 + AIGC_ENGINE_ERROR_NOT_FOUND
 * listing the known names when there is none (or the model is unconditional). */
int aigc_diffusion_find_class(AigcDiffusion *model, const char *name, GError **error);

/* The words of a text for a text model: lower-cased runs of letters and digits, each looked up in
 * the vocabulary (the class names); unknown words are skipped (listed in *unknown, nullable,
 * space-separated) and at most text_len kept. ids gets text_len entries, padded with
 * AIGC_DIFFUSION_NULL_CLASS. Returns the number of known words; 0 + error naming some known
 * words when none is known (an empty text included). */
int aigc_diffusion_encode_text(AigcDiffusion *model, const char *text, gint32 *ids,
                               char **unknown, GError **error);
/* The same splitting into words, for building a vocabulary: (transfer full) NULL-terminated. */
GStrv aigc_diffusion_text_words(const char *text);

/* ---- the noise schedule ---- */

/* (transfer none) ᾱ_t for t = 0 … n_timesteps − 1, in float64. */
const double *aigc_diffusion_get_alphas_cumprod(AigcDiffusion *model);
/* Fills alphas_cumprod (n_timesteps) for a schedule. */
void aigc_beta_schedule_alphas_cumprod(AigcBetaSchedule schedule, int n_timesteps,
                                       double *alphas_cumprod);

/* ---- the network ---- */

/* ε̂ (N, channels, S, S) for x_t (N, channels, S, S) at timesteps t (N, may be fractional) and
 * classes (N) in 0 … n_classes − 1 or AIGC_DIFFUSION_NULL_CLASS (nullable: all null; ignored
 * when the model is unconditional) — for a text model (text_len > 0), N × text_len word ids,
 * each row padded with AIGC_DIFFUSION_NULL_CLASS (a row of only those is the null condition).
 * Differentiable; dropout follows the context's training mode. Classes outside that range are
 * a programmer error. */
AigcTensor *aigc_diffusion_forward(AigcCtx *ctx, AigcDiffusion *model, AigcTensor *x,
                                   const float *t, const gint32 *classes);

/* ---- files ---- */

/* Adds the weights (stored as dtype) and "family", "diffusion.config", "diffusion.classes"
 * metadata to a writer (which borrows the weights until it writes). */
gboolean aigc_diffusion_save(AigcDiffusion *model, AigcSafetensorsWriter *writer, AigcDtype dtype,
                             GError **error);
/* (transfer full) (nullable) From a weights file: family, config and class names checked, every
 * tensor present with its shape and finite. */
AigcDiffusion *aigc_diffusion_load(AigcSafetensors *st, GError **error);
/* (transfer full) (nullable) Opens and loads a model file. */
AigcDiffusion *aigc_diffusion_load_file(const char *path, GError **error);

G_END_DECLS
