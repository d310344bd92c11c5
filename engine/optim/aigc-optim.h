/* SPDX-License-Identifier: MIT
 *
 * Optimisers (SGD, Adam, AdamW), global gradient-norm clipping and an exponential moving average
 * of the weights, all working on the flat value and gradient buffers of an AigcParams (llm.c
 * style): one fused pass over the flat arrays per step, split across the compute threads.
 *
 * The update rules are those of torch.optim.SGD (dampening 0), torch.optim.Adam (L2 weight decay
 * added to the gradient) and torch.optim.AdamW (decoupled weight decay), so hyperparameters and
 * curves carry over from PyTorch recipes.
 *
 * DESIGN (checkpoint format): aigc_optimizer_save() adds, under a caller-chosen prefix,
 *   PREFIX "kind" (I32 [1]) and PREFIX "step" (I64 [1]), and per parameter NAME
 *   PREFIX "momentum_buffer." NAME  (SGD with momentum),
 *   PREFIX "exp_avg." NAME, PREFIX "exp_avg_sq." NAME  (Adam, AdamW), F32 in the parameter's shape;
 * aigc_ema_save() adds PREFIX "n_updates" (I64 [1]) and PREFIX "shadow." NAME (F32). State is
 * stored exactly, so a run resumed from a checkpoint continues bit for bit.
 */
#pragma once

#include "tensor/aigc-params.h"

G_BEGIN_DECLS

typedef enum {
    AIGC_OPTIM_SGD,
    AIGC_OPTIM_ADAM,
    AIGC_OPTIM_ADAMW,
    AIGC_N_OPTIM_KINDS
} AigcOptimKind;

/* Decides once, when the optimiser is made, whether a parameter gets weight decay. */
typedef gboolean (*AigcDecayFunc)(const AigcTensor *param, gpointer user_data);

typedef struct {
    float momentum;           /* SGD: 0 = plain SGD */
    gboolean nesterov;        /* SGD: needs momentum > 0 */
    float beta1, beta2;       /* Adam, AdamW */
    float eps;                /* Adam, AdamW */
    float weight_decay;       /* SGD and Adam: L2 added to the gradient; AdamW: decoupled */
    AigcDecayFunc decay_func; /* (nullable) NULL = every parameter is decayed */
    gpointer decay_data;
} AigcOptimizerParams;

/* PyTorch's defaults for `kind`: momentum 0, betas (0.9, 0.999), eps 1e-8, weight decay 0
 * (0.01 for AdamW), every parameter decayed. */
AigcOptimizerParams aigc_optimizer_default_params(AigcOptimKind kind);

/* An AigcDecayFunc that decays only parameters with two or more dimensions (weight matrices,
 * conv kernels, embeddings) and leaves biases and normalisation gains alone. */
gboolean aigc_optimizer_decay_matrices(const AigcTensor *param, gpointer user_data);

typedef struct _AigcOptimizer AigcOptimizer;

/* (transfer full) An optimiser over every parameter of `params` (allocated; borrowed, it must
 * outlive the optimiser), with its state (momentum or first and second moments) zeroed and step
 * count 0. `hp` may be NULL for the defaults of `kind`. */
AigcOptimizer *aigc_optimizer_new(AigcOptimKind kind, const AigcOptimizerParams *hp,
                                  AigcParams *params);
void aigc_optimizer_free(AigcOptimizer *opt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcOptimizer, aigc_optimizer_free)

/* One update of every parameter from the current gradients, with learning rate `lr`. Parameters
 * whose requires_grad is FALSE at the time of the step are left alone (their state too), as
 * PyTorch skips parameters without a gradient; unlike PyTorch, which counts steps per parameter,
 * Adam's bias correction then uses the optimiser's one step count for all. No allocation. */
void aigc_optimizer_step(AigcOptimizer *opt, float lr);

/* Lets the optimisers use their AVX2 kernels on CPUs that have it (the default) or not. Both
 * kernels give the same bits; this is for tests and benchmarks. Process-wide. */
void aigc_optimizer_set_avx2_allowed(gboolean allowed);

AigcOptimKind aigc_optimizer_get_kind(AigcOptimizer *opt);
/* Steps taken so far (Adam's bias correction uses it). */
gint64 aigc_optimizer_get_step(AigcOptimizer *opt);
/* (transfer none) */
const AigcOptimizerParams *aigc_optimizer_get_params(AigcOptimizer *opt);
/* Whether parameter i (in AigcParams order) gets weight decay. */
gboolean aigc_optimizer_get_decayed(AigcOptimizer *opt, guint i);
/* Forgets all state: zero moments, step 0. */
void aigc_optimizer_reset(AigcOptimizer *opt);

/* Adds the state to a writer under `prefix` (nullable = ""). The writer borrows the state: write
 * it before the next step. */
gboolean aigc_optimizer_save(AigcOptimizer *opt, AigcSafetensorsWriter *writer, const char *prefix,
                             GError **error);
/* Restores state saved by aigc_optimizer_save() for the same kind and parameter shapes. Every
 * tensor is checked (present, shape, finite) before anything changes: on failure the optimiser
 * is as it was. */
gboolean aigc_optimizer_load(AigcOptimizer *opt, AigcSafetensors *st, const char *prefix,
                             GError **error);

/* Clips the gradients of `params` to a global L2 norm of at most `max_norm`, as
 * torch.nn.utils.clip_grad_norm_: the norm is accumulated in double over every gradient; when it
 * exceeds max_norm every gradient is scaled by max_norm / (norm + 1e-6). Returns the norm before
 * clipping. A non-finite norm (NaN or infinite gradients) leaves the gradients unchanged, so the
 * caller can skip the step. The result does not depend on the thread count. */
double aigc_clip_grad_norm(AigcParams *params, double max_norm);

/* ---- exponential moving average of the weights ---- */

typedef struct _AigcEma AigcEma;

/* (transfer full) An average of `params` (borrowed; must outlive it), starting as a copy of the
 * current values. With `warmup`, update n (counting from 0) uses min(decay, (1 + n) / (10 + n)),
 * so early averages are not dominated by the random initialisation. */
AigcEma *aigc_ema_new(AigcParams *params, float decay, gboolean warmup);
void aigc_ema_free(AigcEma *ema);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcEma, aigc_ema_free)

/* The decay the next update will use. */
float aigc_ema_get_decay(AigcEma *ema);
gint64 aigc_ema_get_n_updates(AigcEma *ema);
/* shadow = d·shadow + (1 − d)·params, with d = aigc_ema_get_decay(); call after each optimiser
 * step. Not while swapped in. */
void aigc_ema_update(AigcEma *ema);
/* (transfer none) The averaged values, laid out as aigc_params_get_data(). */
const float *aigc_ema_get_data(AigcEma *ema);
/* Copies the averaged values into `dest`, a second AigcParams with the same parameters (names
 * and shapes, in the same order), e.g. the sampling copy of a model. */
void aigc_ema_copy_to(AigcEma *ema, AigcParams *dest);
/* Exchanges the averaged and the live values of the tracked parameters: call once to sample
 * with the average, once more to go back to training. */
void aigc_ema_swap(AigcEma *ema);
gboolean aigc_ema_get_swapped(AigcEma *ema);

/* Adds the average and its update count under `prefix` (borrowed until the write). The averaged
 * weights alone load into a model with aigc_params_load(params, st, PREFIX "shadow."). */
gboolean aigc_ema_save(AigcEma *ema, AigcSafetensorsWriter *writer, const char *prefix,
                       GError **error);
/* Restores a saved average; checked in full before anything changes. Not while swapped in. */
gboolean aigc_ema_load(AigcEma *ema, AigcSafetensors *st, const char *prefix, GError **error);

G_END_DECLS
