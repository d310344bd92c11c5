/* SPDX-License-Identifier: MIT
 *
 * Activations: relu, leaky_relu, gelu (exact erf form, PyTorch's default) and gelu_tanh (the
 * tanh approximation), silu, tanh, sigmoid, softplus (β = 1, threshold 20 as PyTorch), softmax
 * and log_softmax over the last dimension, and inverted dropout.
 *
 * Each is a kernel pair on contiguous floats (n elements, or N rows of C for the softmaxes;
 * backward kernels add into dinp) plus a differentiable op on tensors.
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* ---- kernels ---- */

void aigc_relu_forward(float *out, const float *inp, gint64 n);
void aigc_relu_backward(float *dinp, const float *dout, const float *inp, gint64 n);
void aigc_leaky_relu_forward(float *out, const float *inp, float slope, gint64 n);
void aigc_leaky_relu_backward(float *dinp, const float *dout, const float *inp, float slope,
                              gint64 n);
void aigc_gelu_forward(float *out, const float *inp, gint64 n);
void aigc_gelu_backward(float *dinp, const float *dout, const float *inp, gint64 n);
void aigc_gelu_tanh_forward(float *out, const float *inp, gint64 n);
void aigc_gelu_tanh_backward(float *dinp, const float *dout, const float *inp, gint64 n);
void aigc_silu_forward(float *out, const float *inp, gint64 n);
void aigc_silu_backward(float *dinp, const float *dout, const float *inp, gint64 n);
void aigc_tanh_forward(float *out, const float *inp, gint64 n);
/* tanh and sigmoid backwards read the forward's output. */
void aigc_tanh_backward(float *dinp, const float *dout, const float *out, gint64 n);
void aigc_sigmoid_forward(float *out, const float *inp, gint64 n);
void aigc_sigmoid_backward(float *dinp, const float *dout, const float *out, gint64 n);
void aigc_softplus_forward(float *out, const float *inp, gint64 n);
void aigc_softplus_backward(float *dinp, const float *dout, const float *inp, gint64 n);

/* Over the last dimension: inp and out are [N, C]; the backwards read the forward's output. */
void aigc_softmax_forward(float *out, const float *inp, int N, int C);
void aigc_softmax_backward(float *dinp, const float *dout, const float *out, int N, int C);
void aigc_log_softmax_forward(float *out, const float *inp, int N, int C);
void aigc_log_softmax_backward(float *dinp, const float *dout, const float *out, int N, int C);

/* On entry mask holds n uniforms in [0, 1); on return, the multipliers 0 (dropped, probability
 * p) or 1 / (1 − p), and out = inp · mask. 0 ≤ p < 1. */
void aigc_dropout_forward(float *out, float *mask, const float *inp, float p, gint64 n);
void aigc_dropout_backward(float *dinp, const float *dout, const float *mask, gint64 n);

/* Scalar references used by the kernels (vectorisable), exposed for tests: the standard normal
 * CDF Φ(x) and tanh, both to a few ulp. */
float aigc_normal_cdf(float x);
float aigc_tanhf(float x);

/* ---- differentiable ops (transfer none) ---- */

AigcTensor *aigc_relu(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_leaky_relu(AigcCtx *ctx, AigcTensor *x, float slope);
AigcTensor *aigc_gelu(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_gelu_tanh(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_silu(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_tanh(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_sigmoid(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_softplus(AigcCtx *ctx, AigcTensor *x);
/* Over the last dimension, any number of leading dimensions. */
AigcTensor *aigc_softmax(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_log_softmax(AigcCtx *ctx, AigcTensor *x);

/* Inverted dropout: zeroes each element with probability p and scales the rest by 1 / (1 − p),
 * with a mask drawn from aigc_ctx_get_rng(ctx). Returns x itself when the context is not
 * training or p == 0; zeros when p == 1. 0 ≤ p ≤ 1. */
AigcTensor *aigc_dropout(AigcCtx *ctx, AigcTensor *x, float p);

G_END_DECLS
