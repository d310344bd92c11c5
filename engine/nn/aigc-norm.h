/* SPDX-License-Identifier: MIT
 *
 * Normalisations: layer norm and RMS norm over the last dim, group norm and batch norm over the
 * channels of [N, C, *spatial] tensors. Each is a forward/backward kernel pair on contiguous
 * floats plus a differentiable op; the formulas and layouts are PyTorch's (biased variance in
 * the normalisation, eps inside the square root).
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* ---- layer norm over the last dim: (x − mean) · rstd · weight + bias ---- */

/* out [N, C], mean [N], rstd [N] (both nullable: not kept), inp [N, C], weight [C] and bias [C]
 * (nullable: 1 and 0). */
void aigc_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                            const float *weight, const float *bias, int N, int C, float eps);
/* Adds into dinp [N, C], dweight [C], dbias [C]; any of them may be NULL. */
void aigc_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const float *mean,
                             const float *rstd, int N, int C);
/* (transfer none) x [..., C], weight [C] and bias [C] nullable. */
AigcTensor *aigc_layernorm(AigcCtx *ctx, AigcTensor *x, AigcTensor *weight, AigcTensor *bias,
                           float eps);

/* ---- RMS norm over the last dim (Llama): x · rsqrt(mean(x²) + eps) · weight ---- */

/* out [N, C], rstd [N] (nullable), inp [N, C], weight [C] (nullable: 1). */
void aigc_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *weight, int N,
                          int C, float eps);
void aigc_rmsnorm_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                           const float *weight, const float *rstd, int N, int C);
/* (transfer none) x [..., C], weight [C] nullable. */
AigcTensor *aigc_rmsnorm(AigcCtx *ctx, AigcTensor *x, AigcTensor *weight, float eps);

/* ---- group norm: statistics per sample over each group of C / G channels ---- */

/* out, inp [N, C, S] (S = product of the spatial dims), mean and rstd [N, G] (nullable),
 * weight [C] and bias [C] nullable. C is a multiple of G. */
void aigc_groupnorm_forward(float *out, float *mean, float *rstd, const float *inp,
                            const float *weight, const float *bias, int N, int C, int S, int G,
                            float eps);
void aigc_groupnorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const float *mean,
                             const float *rstd, int N, int C, int S, int G);
/* (transfer none) x [N, C, *spatial] (at least 2 dims), weight [C] and bias [C] nullable. */
AigcTensor *aigc_groupnorm(AigcCtx *ctx, AigcTensor *x, int n_groups, AigcTensor *weight,
                           AigcTensor *bias, float eps);

/* ---- batch norm: statistics per channel over the batch and spatial dims ---- */

/* out, inp [N, C, S]; mean [C] and rstd [C] receive the statistics used (needed by the
 * backward; nullable); weight [C] and bias [C] nullable.
 * training: batch statistics (at least 2 values per channel); running_mean and running_var [C]
 * (nullable) are updated as running = (1 − momentum)·running + momentum·batch, with the
 * unbiased batch variance. Otherwise the running statistics normalise. */
void aigc_batchnorm_forward(float *out, float *mean, float *rstd, float *running_mean,
                            float *running_var, const float *inp, const float *weight,
                            const float *bias, int N, int C, int S, float momentum, float eps,
                            gboolean training);
/* mean and rstd as given by the forward; `training` as in the forward (with running statistics
 * mean and rstd are constants and the gradient is a per-channel scale). */
void aigc_batchnorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const float *mean,
                             const float *rstd, int N, int C, int S, gboolean training);
/* (transfer none) x [N, C, *spatial] (at least 2 dims). In training mode
 * (aigc_ctx_get_training) normalises with the batch statistics and updates the caller-owned
 * running_mean and running_var [C] (PyTorch's momentum convention, usually 0.1); in eval mode
 * normalises with them. Without running statistics (both NULL) batch statistics are used in
 * both modes, like PyTorch's track_running_stats=False. */
AigcTensor *aigc_batchnorm(AigcCtx *ctx, AigcTensor *x, AigcTensor *weight, AigcTensor *bias,
                           float *running_mean, float *running_var, float momentum, float eps);

G_END_DECLS
