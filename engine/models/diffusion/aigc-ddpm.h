/* SPDX-License-Identifier: MIT
 *
 * The diffusion process around the UNet (aigc-diffusion.h): the DDPM training loss and the
 * samplers.
 *
 * Training (Ho et al. 2020, ε-prediction): for clean images x₀ in [−1, 1], a timestep t uniform
 * in 0 … T−1 and noise ε ~ N(0, I), x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, and the loss is the mean
 * squared error between ε and the UNet's ε̂(x_t, t, c). For classifier-free guidance the class
 * is replaced by the null class with probability p_uncond (0.1).
 *
 * Sampling walks a subsequence of `steps` timesteps, evenly spaced and ending at T − 1
 * ("trailing": τ_i = ⌊(i + 1)·T / steps⌋ − 1, i = 0 … steps − 1), from τ_{steps−1} down to τ_0
 * and then to the clean image (ᾱ = 1). Each step predicts ε̂ — with guidance g, as
 * ε̂_null + g·(ε̂_class − ε̂_null), both in one batched forward — then
 * x̂₀ = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t, clipped to [−1, 1] (ε̂ recomputed from the clipped x̂₀, so the
 * two stay consistent), and
 *   DDIM (Song et al. 2021):  x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ²)·ε̂ + σ·z,
 *                             σ = eta·√((1 − ᾱ_prev)/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_prev);
 *   DDPM (ancestral):         x_prev = μ̃(x_t, x̂₀) + √β̃·z over the respaced schedule
 *                             (β_t = 1 − ᾱ_t/ᾱ_prev; μ̃, β̃ the Gaussian posterior of Ho et al.);
 *                             with all T steps this is the original DDPM sampler, and it equals
 *                             DDIM with eta = 1 (a test checks it).
 *
 * img2img: of the `steps` timesteps only the last ⌈steps·strength⌉ are walked, from
 * x = √ᾱ·init + √(1 − ᾱ)·z at the first of them. Inpainting (mask 1 = repaint, 0 = keep): after
 * every step the kept region is replaced by the init image noised to the new timestep (fresh
 * noise; at the end, the init image itself), so the repainted region grows to fit it.
 *
 * Randomness: image b of a batch draws all its noise (the start, each step's z, the noised
 * init) from its own stream, forked from the seed by b, in a fixed order — so an image depends
 * on the seed and its index only, not on the batch size.
 */
#pragma once

#include "jobs/aigc-job.h"
#include "models/diffusion/aigc-diffusion.h"

G_BEGIN_DECLS

#define AIGC_DIFFUSION_MAX_GUIDANCE 30.0f

/* ---- training ---- */

/* The mean ε-prediction loss (shape [1], on the tape) of a batch x0 (B, channels, S, S) in
 * [−1, 1] with classes (B; B × text_len word ids for a text model, see aigc_diffusion_forward)
 * (nullable: unconditional). t, ε and the class drops (probability
 * p_uncond) are drawn from rng. When t_out is non-NULL it receives the B timesteps used. */
AigcTensor *aigc_diffusion_loss(AigcCtx *ctx, AigcDiffusion *model, const float *x0,
                                const gint32 *classes, int B, float p_uncond, AigcRng *rng,
                                gint32 *t_out);

/* ---- sampling ---- */

typedef enum {
    AIGC_SAMPLER_DDIM,
    AIGC_SAMPLER_DDPM,
} AigcSamplerKind;

const char *aigc_sampler_name(AigcSamplerKind sampler);
/* "ddim" or "ddpm" (any case); FALSE + AIGC_ENGINE_ERROR_INVALID otherwise. */
gboolean aigc_sampler_from_name(const char *name, AigcSamplerKind *sampler, GError **error);

/* Called after each step with the current prediction of the clean images, x0_pred (n,
 * channels, S, S) in [−1, 1] (borrowed for the call): `step` counts from 1 to n_steps. Return
 * FALSE to stop the sampling (it then fails with AIGC_ENGINE_ERROR_CANCELLED). */
typedef gboolean (*AigcDiffusionStepFunc)(int step, int n_steps, const float *x0_pred, int n,
                                          gpointer user_data);

typedef struct {
    AigcSamplerKind sampler;
    int steps;      /* 1 … n_timesteps (50) */
    float eta;      /* DDIM: 0 deterministic … 1 (0); ignored by DDPM */
    float guidance; /* classifier-free guidance scale, 0 … 30: 1 = the class alone, 0 = the
                     * unconditional model alone (3) */
    guint64 seed;
    const float *init; /* (nullable) img2img / inpainting: one image (channels, S, S) in
                        * [−1, 1], the start of every image of the batch */
    float strength;    /* with init: how much to change it, (0, 1] (1 = start from noise) */
    const float *mask; /* (nullable) inpainting (needs init): (S, S) in [0, 1], 1 = repaint */
    gboolean clip_x0;  /* clip x̂₀ to [−1, 1] (TRUE) */
    AigcDiffusionStepFunc step_func; /* (nullable) */
    gpointer user_data;
} AigcDiffusionSampleParams;

/* DDIM, 50 steps, eta 0, guidance 3, seed 0, strength 1, clip on. */
AigcDiffusionSampleParams aigc_diffusion_sample_default_params(void);

/* Checks params against the model: steps, eta, guidance, strength, mask without init; FALSE +
 * AIGC_ENGINE_ERROR_INVALID with a message naming the fault. */
gboolean aigc_diffusion_sample_params_validate(AigcDiffusion *model,
                                               const AigcDiffusionSampleParams *params,
                                               GError **error);

/* Generates n images into out (n, channels, S, S), values in [−1, 1]. classes (n; n × text_len
 * word ids for a text model) in 0 … n_classes − 1 or AIGC_DIFFUSION_NULL_CLASS (nullable: all
 * unconditional); a class outside
 * that range fails with AIGC_ENGINE_ERROR_NOT_FOUND. `job` (nullable) is polled for cancel
 * between steps (FALSE + AIGC_ENGINE_ERROR_CANCELLED). Inference only; callable from one
 * thread at a time per model. */
gboolean aigc_diffusion_sample(AigcDiffusion *model, const AigcDiffusionSampleParams *params,
                               const gint32 *classes, int n, float *out, AigcJob *job,
                               GError **error);

/* The timesteps a sampler walks: steps of them, ascending (τ_0 … τ_{steps−1} above); tau has
 * room for `steps`. */
void aigc_diffusion_timesteps(int n_timesteps, int steps, int *tau);

/* ---- judging (aigc-image-eval.h) ---- */

typedef struct {
    AigcDiffusion *model;             /* borrowed; a one-channel model */
    AigcDiffusionSampleParams params; /* seed is set per call */
} AigcDiffusionEvalSampler;

/* An AigcImageSampleFunc: n images of the given classes in [0, 1] (n, S, S), with the sampler
 * settings of `sampler` (an AigcDiffusionEvalSampler), generated in batches of at most 64. */
gboolean aigc_diffusion_eval_sample(gpointer sampler, const gint32 *labels, gint64 n, guint64 seed,
                                    float *images, AigcJob *job, GError **error);

G_END_DECLS
