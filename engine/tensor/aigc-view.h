/* SPDX-License-Identifier: MIT
 *
 * Shape ops: reshape, transpose, permute, slice (views that share storage), contiguous, concat
 * and split. All are differentiable.
 */
#pragma once

#include "aigc-tensor.h"

G_BEGIN_DECLS

/* A view with a new shape (one entry may be -1); copies first if x is not contiguous. */
AigcTensor *aigc_reshape(AigcCtx *ctx, AigcTensor *x, int n_dims, const gint64 *shape);
/* Swaps two dimensions (a view). */
AigcTensor *aigc_transpose(AigcCtx *ctx, AigcTensor *x, int dim0, int dim1);
/* Output dim d is input dim perm[d] (a view). */
AigcTensor *aigc_permute(AigcCtx *ctx, AigcTensor *x, const int *perm);
/* Elements [start, end) along dim (a view). */
AigcTensor *aigc_slice(AigcCtx *ctx, AigcTensor *x, int dim, gint64 start, gint64 end);
/* x itself if contiguous, else a contiguous copy. */
AigcTensor *aigc_contiguous(AigcCtx *ctx, AigcTensor *x);
/* Joins tensors of equal shape except along dim. */
AigcTensor *aigc_concat(AigcCtx *ctx, int n, AigcTensor *const *xs, int dim);
/* Splits x along dim into n views of the given sizes (which sum to the dim's size). */
void aigc_split(AigcCtx *ctx, AigcTensor *x, int dim, int n, const gint64 *sizes,
                AigcTensor **out);

/* Kernel: dst[idx] (+)= src[idx] over a strided index space. */
void aigc_strided_copy(float *dst, const gint64 *dst_stride, const float *src,
                       const gint64 *src_stride, const gint64 *shape, int n_dims,
                       gboolean accumulate);

G_END_DECLS
