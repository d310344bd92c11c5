/* SPDX-License-Identifier: MIT
 *
 * Matrix products: the fully connected layer (linear) and the (batched) matrix product of two
 * tensors (matmul). Both run entirely on cblas_sgemm / sgemv, the fastest products on this
 * machine; the kernels here only arrange the calls and add the bias.
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* ---- linear: out = inp · weightᵀ + bias ---- */

/* out [N, OC], inp [N, C], weight [OC, C], bias [OC] (nullable). */
void aigc_linear_forward(float *out, const float *inp, const float *weight, const float *bias,
                         int N, int C, int OC);
/* Adds into dinp [N, C], dweight [OC, C], dbias [OC]; any of them may be NULL. */
void aigc_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, int N, int C, int OC);

/* (transfer none) x [..., in], weight [out, in] (PyTorch layout), bias [out] (nullable)
 * → [..., out]. No copy is made when x and weight are contiguous. */
AigcTensor *aigc_linear(AigcCtx *ctx, AigcTensor *x, AigcTensor *weight, AigcTensor *bias);

/* ---- matmul: out = op(a) · op(b), op = optional transpose of the last two dims ---- */

/* Contiguous kernels. out [B, M, N]; a [B, M, K] ([B, K, M] when transpose_a); b [B, K, N]
 * ([B, N, K] when transpose_b), or one matrix shared by every batch when broadcast_b. */
void aigc_matmul_forward(float *out, const float *a, const float *b, int B, int M, int K, int N,
                         gboolean transpose_a, gboolean transpose_b, gboolean broadcast_b);
/* Adds into da and db (either may be NULL); a shared b receives the sum over the batches. */
void aigc_matmul_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                          int B, int M, int K, int N, gboolean transpose_a, gboolean transpose_b,
                          gboolean broadcast_b);

/* (transfer none) a [..., M, K], b [..., K, N] (each after its optional transpose) → [..., M, N].
 * The leading (batch) dims of a and b are equal, or one of them has none and is shared by every
 * batch (its gradient is summed). Views whose last two dims have one unit stride (transposes,
 * permuted heads) are read in place, without a copy. */
AigcTensor *aigc_matmul(AigcCtx *ctx, AigcTensor *a, AigcTensor *b, gboolean transpose_a,
                        gboolean transpose_b);

G_END_DECLS
