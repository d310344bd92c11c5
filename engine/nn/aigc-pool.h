/* SPDX-License-Identifier: MIT
 *
 * Pooling and upsampling on NCHW / NCL tensors, with PyTorch's formulas (ceil_mode = False):
 * max_pool2d, avg_pool2d, avg_pool1d (MelGAN's discriminator downsamples with it), nearest
 * upsampling and linear / bilinear upsampling (align_corners = False) by an integer factor.
 *
 * Each has a kernel pair on contiguous float arrays (outputs first, then inputs, then sizes) and
 * a differentiable op. Pooled size: (in + 2·pad − kernel) / stride + 1; pad ≤ kernel / 2.
 * Backward kernels add into dinp.
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* Output length of a pooling window: (in + 2·pad − kernel) / stride + 1, or 0 if none fits. */
int aigc_pool_out_size(int in, int kernel, int stride, int pad);

/* ---- max_pool2d: x [N, C, H, W] → y [N, C, OH, OW]; padding counts as −∞ ----
 * argmax (nullable in the forward) [N, C, OH, OW] receives the index ih·W + iw of each window's
 * maximum within its plane (the first one on ties; NaN wins, as in PyTorch). */
void aigc_max_pool2d_forward(float *out, gint32 *argmax, const float *inp, int N, int C, int H,
                             int W, int K, int stride, int pad);
void aigc_max_pool2d_backward(float *dinp, const float *dout, const gint32 *argmax, int N, int C,
                              int H, int W, int K, int stride, int pad);
/* (transfer none) Keeps the argmax indices in the arena when gradients are needed. */
AigcTensor *aigc_max_pool2d(AigcCtx *ctx, AigcTensor *x, int kernel, int stride, int padding);

/* ---- avg_pool2d / avg_pool1d ----
 * count_include_pad: divide by the whole window (PyTorch's default) rather than by the number
 * of real elements in it (MelGAN uses FALSE). */
void aigc_avg_pool2d_forward(float *out, const float *inp, int N, int C, int H, int W, int K,
                             int stride, int pad, gboolean count_include_pad);
void aigc_avg_pool2d_backward(float *dinp, const float *dout, int N, int C, int H, int W, int K,
                              int stride, int pad, gboolean count_include_pad);
AigcTensor *aigc_avg_pool2d(AigcCtx *ctx, AigcTensor *x, int kernel, int stride, int padding,
                            gboolean count_include_pad);

/* x [N, C, L] → y [N, C, Lout]. */
void aigc_avg_pool1d_forward(float *out, const float *inp, int N, int C, int L, int K, int stride,
                             int pad, gboolean count_include_pad);
void aigc_avg_pool1d_backward(float *dinp, const float *dout, int N, int C, int L, int K,
                              int stride, int pad, gboolean count_include_pad);
AigcTensor *aigc_avg_pool1d(AigcCtx *ctx, AigcTensor *x, int kernel, int stride, int padding,
                            gboolean count_include_pad);

/* ---- nearest upsampling by an integer factor: y[…, i] = x[…, i / factor] ---- */
void aigc_upsample_nearest1d_forward(float *out, const float *inp, int N, int C, int L, int factor);
void aigc_upsample_nearest1d_backward(float *dinp, const float *dout, int N, int C, int L,
                                      int factor);
/* x [N, C, L] → y [N, C, L·factor]. */
AigcTensor *aigc_upsample_nearest1d(AigcCtx *ctx, AigcTensor *x, int factor);

void aigc_upsample_nearest2d_forward(float *out, const float *inp, int N, int C, int H, int W,
                                     int factor);
void aigc_upsample_nearest2d_backward(float *dinp, const float *dout, int N, int C, int H, int W,
                                      int factor);
/* x [N, C, H, W] → y [N, C, H·factor, W·factor]. */
AigcTensor *aigc_upsample_nearest2d(AigcCtx *ctx, AigcTensor *x, int factor);

/* ---- linear / bilinear upsampling by an integer factor, align_corners = False ----
 * PyTorch's source index: src = (dst + 0.5) / factor − 0.5, clamped at 0; the two neighbours
 * floor(src) and the next one (clamped to the last), weighted by the fractional part. */
void aigc_upsample_linear1d_forward(float *out, const float *inp, int N, int C, int L, int factor);
void aigc_upsample_linear1d_backward(float *dinp, const float *dout, int N, int C, int L,
                                     int factor);
/* x [N, C, L] → y [N, C, L·factor]. */
AigcTensor *aigc_upsample_linear1d(AigcCtx *ctx, AigcTensor *x, int factor);

void aigc_upsample_bilinear2d_forward(float *out, const float *inp, int N, int C, int H, int W,
                                      int factor);
void aigc_upsample_bilinear2d_backward(float *dinp, const float *dout, int N, int C, int H, int W,
                                       int factor);
/* x [N, C, H, W] → y [N, C, H·factor, W·factor]. */
AigcTensor *aigc_upsample_bilinear2d(AigcCtx *ctx, AigcTensor *x, int factor);

G_END_DECLS
