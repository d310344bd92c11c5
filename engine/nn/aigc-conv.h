/* SPDX-License-Identifier: MIT
 *
 * Convolutions: conv1d (strided, dilated, causal), conv2d, and the transposed convolutions
 * conv_transpose1d / conv_transpose2d, with PyTorch's layouts and output-size formulas:
 * inputs NCL / NCHW, conv weight [OC, C, K…], transposed-conv weight [C, OC, K…] (C = input
 * channels, OC = output channels in both cases), bias [OC] or NULL; groups = 1.
 *
 * Each has a kernel pair on contiguous float arrays (outputs first, then inputs, then sizes)
 * and a differentiable op. The kernels need a scratch buffer of aigc_conv*_scratch_size()
 * floats (the same size serves forward and backward); the ops take it from the context's arena.
 * Backward kernels add into their gradient buffers, and any of them may be NULL.
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* Output length of a convolution: (in + pad_begin + pad_end − dilation·(kernel − 1) − 1) /
 * stride + 1, or 0 when the kernel does not fit. */
int aigc_conv_out_size(int in, int kernel, int stride, int pad_begin, int pad_end, int dilation);
/* Output length of a transposed convolution: (in − 1)·stride − 2·pad + dilation·(kernel − 1) +
 * output_padding + 1. */
int aigc_conv_transpose_out_size(int in, int kernel, int stride, int pad, int output_padding,
                                 int dilation);

/* ---- conv1d: x [N, C, L], w [OC, C, K] → y [N, OC, Lout] ----
 * pad_left / pad_right are the zeros added on each side (a causal conv pads (K − 1)·dilation
 * on the left only, so y[t] sees x[≤ t]). */
gint64 aigc_conv1d_scratch_size(int N, int C, int L, int OC, int K, int stride, int pad_left,
                                int pad_right, int dilation);
void aigc_conv1d_forward(float *out, float *scratch, const float *inp, const float *weight,
                         const float *bias, int N, int C, int L, int OC, int K, int stride,
                         int pad_left, int pad_right, int dilation);
void aigc_conv1d_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                          const float *dout, const float *inp, const float *weight, int N, int C,
                          int L, int OC, int K, int stride, int pad_left, int pad_right,
                          int dilation);
/* (transfer none) b may be NULL. With causal, padding must be 0: the op pads
 * (K − 1)·dilation on the left (WaveNet), and with stride 1 keeps the length. */
AigcTensor *aigc_conv1d(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b, int stride,
                        int padding, int dilation, gboolean causal);

/* ---- conv2d: x [N, C, H, W], w [OC, C, KH, KW] → y [N, OC, OH, OW] ---- */
gint64 aigc_conv2d_scratch_size(int N, int C, int H, int W, int OC, int KH, int KW, int stride,
                                int pad);
void aigc_conv2d_forward(float *out, float *scratch, const float *inp, const float *weight,
                         const float *bias, int N, int C, int H, int W, int OC, int KH, int KW,
                         int stride, int pad);
void aigc_conv2d_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                          const float *dout, const float *inp, const float *weight, int N, int C,
                          int H, int W, int OC, int KH, int KW, int stride, int pad);
/* (transfer none) b may be NULL. */
AigcTensor *aigc_conv2d(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b, int stride,
                        int padding);

/* ---- conv_transpose1d: x [N, C, L], w [C, OC, K] → y [N, OC, Lout] ----
 * output_padding < stride (extra length on the right, as in PyTorch). */
gint64 aigc_conv_transpose1d_scratch_size(int N, int C, int L, int OC, int K, int stride, int pad,
                                          int output_padding);
void aigc_conv_transpose1d_forward(float *out, float *scratch, const float *inp,
                                   const float *weight, const float *bias, int N, int C, int L,
                                   int OC, int K, int stride, int pad, int output_padding);
void aigc_conv_transpose1d_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                                    const float *dout, const float *inp, const float *weight, int N,
                                    int C, int L, int OC, int K, int stride, int pad,
                                    int output_padding);
AigcTensor *aigc_conv_transpose1d(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b,
                                  int stride, int padding, int output_padding);

/* ---- conv_transpose2d: x [N, C, H, W], w [C, OC, KH, KW] → y [N, OC, OH, OW] ---- */
gint64 aigc_conv_transpose2d_scratch_size(int N, int C, int H, int W, int OC, int KH, int KW,
                                          int stride, int pad, int output_padding);
void aigc_conv_transpose2d_forward(float *out, float *scratch, const float *inp,
                                   const float *weight, const float *bias, int N, int C, int H,
                                   int W, int OC, int KH, int KW, int stride, int pad,
                                   int output_padding);
void aigc_conv_transpose2d_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                                    const float *dout, const float *inp, const float *weight, int N,
                                    int C, int H, int W, int OC, int KH, int KW, int stride,
                                    int pad, int output_padding);
AigcTensor *aigc_conv_transpose2d(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b,
                                  int stride, int padding, int output_padding);

G_END_DECLS
