/* SPDX-License-Identifier: MIT
 *
 * Embedding lookup: rows of a weight table [V, C] gathered by integer ids, as
 * torch.nn.Embedding. The backward scatter-adds the output gradient into the table's rows.
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* out[t, :] = weight[ids[t], :] for t < N; out is [N, C], weight [V, C], ids in [0, V). */
void aigc_embedding_forward(float *out, const float *weight, const gint32 *ids, int N, int C);
/* dweight[ids[t], :] += dout[t, :]; repeated ids accumulate in order of t. */
void aigc_embedding_backward(float *dweight, const float *dout, const gint32 *ids, int N, int C);

/* (transfer none) weight [V, C] looked up at ids, an integer array of the given shape
 * (n_dims ≤ 4 entries): the result has shape `shape` + [C]. Ids outside [0, V) are a
 * programmer error. */
AigcTensor *aigc_embedding(AigcCtx *ctx, AigcTensor *weight, const gint32 *ids, int n_dims,
                           const gint64 *shape);

G_END_DECLS
