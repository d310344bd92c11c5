/* SPDX-License-Identifier: MIT
 *
 * Losses, each returning a 1-element tensor (shape [1]): cross entropy over logits (softmax and
 * NLL fused), mean squared error, mean absolute error, binary cross entropy with logits, and the
 * two Gaussian KL terms of VAEs and diffusion models.
 *
 * Kernels follow llm.c's order (outputs, inputs, sizes); backward kernels add into their
 * gradient buffers, any of which may be NULL, and take the upstream gradient dloss.
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* ---- kernels ---- */

/* Per row n of logits [N, C]: stats[n] = (m, l) with m the row's max and l = log Σ_c
 * e^{logits[n, c] − m}, and losses[n] = (m − logits[n, targets[n]]) + l (0 for rows whose
 * target is ignore_index); m and l stay apart so huge logits lose no precision. Targets are in
 * [0, C) or ignore_index. */
void aigc_cross_entropy_forward(float *losses, float *stats, const float *logits,
                                const gint32 *targets, int N, int C, int ignore_index);
/* dlogits[n, c] += dscale · (softmax(logits)[n, c] − [c == targets[n]]) for non-ignored rows;
 * the mean loss uses dscale = dloss / (number of non-ignored rows). stats [N, 2] from the
 * forward. */
void aigc_cross_entropy_backward(float *dlogits, const float *logits, const float *stats,
                                 const gint32 *targets, float dscale, int N, int C,
                                 int ignore_index);

/* *loss = mean (pred − target)² */
void aigc_mse_forward(float *loss, const float *pred, const float *target, gint64 n);
void aigc_mse_backward(float *dpred, float *dtarget, float dloss, const float *pred,
                       const float *target, gint64 n);
/* *loss = mean |pred − target| (the gradient of |0| is 0, as in PyTorch) */
void aigc_l1_forward(float *loss, const float *pred, const float *target, gint64 n);
void aigc_l1_backward(float *dpred, float *dtarget, float dloss, const float *pred,
                      const float *target, gint64 n);
/* *loss = mean max(x, 0) − x·y + log(1 + e^{−|x|}) for logits x, targets y in [0, 1] */
void aigc_bce_with_logits_forward(float *loss, const float *logits, const float *targets, gint64 n);
void aigc_bce_with_logits_backward(float *dlogits, float *dtargets, float dloss,
                                   const float *logits, const float *targets, gint64 n);
/* *loss = (1/B) Σ 0.5·(e^{logvar} + mu² − 1 − logvar): KL(N(mu, e^{logvar}) ‖ N(0, 1)) summed
 * over all but the first dimension (of size B) and averaged over it. */
void aigc_kl_normal_forward(float *loss, const float *mu, const float *logvar, gint64 n, gint64 B);
void aigc_kl_normal_backward(float *dmu, float *dlogvar, float dloss, const float *mu,
                             const float *logvar, gint64 n, gint64 B);
/* *loss = (1/B) Σ KL(N(mu1, e^{logvar1}) ‖ N(mu2, e^{logvar2})), elementwise
 * 0.5·(logvar2 − logvar1 + e^{logvar1 − logvar2} + (mu1 − mu2)²·e^{−logvar2} − 1). */
void aigc_kl_diag_gaussians_forward(float *loss, const float *mu1, const float *logvar1,
                                    const float *mu2, const float *logvar2, gint64 n, gint64 B);
void aigc_kl_diag_gaussians_backward(float *dmu1, float *dlogvar1, float *dmu2, float *dlogvar2,
                                     float dloss, const float *mu1, const float *logvar1,
                                     const float *mu2, const float *logvar2, gint64 n, gint64 B);

/* ---- differentiable ops (transfer none); every result has shape [1] ---- */

/* Mean cross entropy of logits [N, C] against class ids targets[N]; rows whose target is
 * ignore_index do not count (NaN when every row is ignored, as in PyTorch). A target outside
 * [0, C) that is not ignore_index is a programmer error. */
AigcTensor *aigc_cross_entropy(AigcCtx *ctx, AigcTensor *logits, const gint32 *targets,
                               int ignore_index);
/* pred and target have the same shape; both may require grad. */
AigcTensor *aigc_mse_loss(AigcCtx *ctx, AigcTensor *pred, AigcTensor *target);
AigcTensor *aigc_l1_loss(AigcCtx *ctx, AigcTensor *pred, AigcTensor *target);
AigcTensor *aigc_bce_with_logits(AigcCtx *ctx, AigcTensor *logits, AigcTensor *targets);
/* mu and logvar [B, …] of equal shape. */
AigcTensor *aigc_kl_normal(AigcCtx *ctx, AigcTensor *mu, AigcTensor *logvar);
/* All four [B, …] of equal shape. */
AigcTensor *aigc_kl_diag_gaussians(AigcCtx *ctx, AigcTensor *mu1, AigcTensor *logvar1,
                                   AigcTensor *mu2, AigcTensor *logvar2);

G_END_DECLS
