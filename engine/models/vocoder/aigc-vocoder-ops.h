/* SPDX-License-Identifier: MIT
 *
 * Layers the neural vocoders need beyond engine/nn: weight normalisation (MelGAN's generator and
 * discriminators), WaveNet's gated activation unit tanh(a)·σ(b), a grouped strided conv1d (the
 * MelGAN discriminator's downsampling layers) and a matrix–vector product for one-sample-at-a-time
 * generation.
 *
 * Each has a kernel pair on contiguous float arrays (outputs first, then inputs, then sizes;
 * backward kernels add into their gradient buffers, any of which may be NULL) and a
 * differentiable op.
 */
#pragma once

#include "nn/aigc-elementwise.h"
#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* σ(x) and tanh(x) = 2σ(2x) − 1 on the branch-free exp (vectorisable), shared by the gated unit's
 * kernels and WaveNet's per-sample generation so both compute the same numbers. */
static inline float aigc_sigmoidf_fast(float x)
{
    return 1.0f / (1.0f + aigc_vexpf(-x));
}

static inline float aigc_tanhf_fast(float x)
{
    return 2.0f / (1.0f + aigc_vexpf(-2.0f * x)) - 1.0f;
}

/* ---- weight normalisation (Salimans and Kingma, 2016), as torch.nn.utils.weight_norm with its
 * default dim = 0: w[i, …] = g[i] · v[i, …] / ‖v[i, …]‖ for each slice i along the first
 * dimension (the output channel of a conv weight [OC, C, K]; the *input* channel of a transposed
 * conv weight [C, OC, K], as PyTorch does). A zero slice gives a zero weight (PyTorch: NaN). ----
 * w, v [D0, inner]; g, norms [D0] (norms receives ‖v[i]‖ for the backward). */
void aigc_weight_norm_forward(float *w, float *norms, const float *v, const float *g, int D0,
                              gint64 inner);
/* dv += g/‖v‖ · (dw − (dw·v̂) v̂), dg += dw·v̂ per slice, with v̂ = v/‖v‖. */
void aigc_weight_norm_backward(float *dv, float *dg, const float *dw, const float *v,
                               const float *g, const float *norms, int D0, gint64 inner);
/* (transfer none) v [D0, …], g [D0] → w in v's shape. */
AigcTensor *aigc_weight_norm(AigcCtx *ctx, AigcTensor *v, AigcTensor *g);
/* The exact inverse reparametrisation of a plain weight: v = w, g = ‖w[i]‖ (weight_norm's own
 * initialisation), so a folded weight can be trained further. */
void aigc_weight_norm_unfold(float *v, float *g, const float *w, int D0, gint64 inner);

/* ---- gated activation unit: x [N, 2G, T] (+ cond, same shape, nullable) → y [N, G, T],
 * y = tanh(p[:, :G]) · σ(p[:, G:]) with p = x + cond. Adding WaveNet's condition inside the unit
 * saves a tensor of the layer's full size per layer. ---- */
void aigc_gated_forward(float *out, const float *inp, const float *cond, int N, int G, gint64 T);
/* dinp and dcond (either nullable) both receive ∂L/∂p. */
void aigc_gated_backward(float *dinp, float *dcond, const float *dout, const float *inp,
                         const float *cond, int N, int G, gint64 T);
/* One row of it: z[i] = tanh(a[i]) · σ(b[i]) for i < n (vectorised; the per-sample generator
 * uses it too, so both paths compute the same numbers). */
void aigc_gated_row(float *z, const float *a, const float *b, gint64 n);
/* (transfer none) cond may be NULL. */
AigcTensor *aigc_gated_tanh_sigmoid(AigcCtx *ctx, AigcTensor *x, AigcTensor *cond);

/* ---- linear upsampling (align_corners = False, as aigc_upsample_linear1d) of x [N, C, L] by
 * `factor`, computing only the output positions [offset, offset + T): y [N, C, T]. WaveNet's
 * condition for a training segment inside a window of frames, without the whole window's
 * upsampled copy. aigc_linear_tap gives output position dst's two inputs and weights (PyTorch's
 * source index rounding), for the per-sample generator. ---- */
void aigc_linear_tap(gint64 dst, gint64 n_in, int factor, gint64 *i0, gint64 *i1, float *l0,
                     float *l1);
AigcTensor *aigc_upsample_linear1d_window(AigcCtx *ctx, AigcTensor *x, int factor, gint64 offset,
                                          gint64 T);

/* ---- grouped conv1d: x [N, C, L], w [OC, C/groups, K], bias [OC] → y [N, OC, Lout], zero
 * padding `pad` on both sides, any stride; channels c of group gi = c / (C/groups) meet outputs
 * of the same group. Direct polyphase kernel (each stride phase of the padded input is made
 * contiguous once, so every inner loop is a unit-stride multiply-add), which suits the
 * discriminator's many thin groups better than im2col products. ----
 * scratch: aigc_conv1d_grouped_scratch_size() floats. */
gint64 aigc_conv1d_grouped_scratch_size(int N, int C, int L, int K, int stride, int pad);
void aigc_conv1d_grouped_forward(float *out, float *scratch, const float *inp, const float *weight,
                                 const float *bias, int N, int C, int L, int OC, int K, int stride,
                                 int pad, int groups);
void aigc_conv1d_grouped_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                                  const float *dout, const float *inp, const float *weight, int N,
                                  int C, int L, int OC, int K, int stride, int pad, int groups);
/* (transfer none) b may be NULL. With groups = 1 this is aigc_conv1d (im2col + sgemm). */
AigcTensor *aigc_conv1d_grouped(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b,
                                int stride, int padding, int groups);

/* ---- y [M] = Wt [K, M]ᵀ · x [K] (+ bias [M], nullable), single-threaded, for per-sample
 * generation: W is stored transposed (K rows of M) so the product streams it once, adding
 * x[k]·row k into M accumulators. accumulate: add into y instead of overwriting it. ---- */
void aigc_matvec_t(float *y, const float *Wt, const float *x, const float *bias, int M, int K,
                   gboolean accumulate);
/* The same with Wt stored as IEEE half floats (half the bytes to stream per product: generation
 * is bound by how fast the weights arrive, not by arithmetic). Sums in float. */
void aigc_matvec_t_f16(float *y, const guint16 *Wt, const float *x, const float *bias, int M, int K,
                       gboolean accumulate);

G_END_DECLS
