/* SPDX-License-Identifier: MIT
 *
 * The small dense layers of the NeRF field (widths 3 to 256, a few hundred rows at a time), as
 * register-tiled AVX2 + FMA kernels with the bias and the activation fused in: at these sizes a
 * general GEMM spends more time packing its operands and in separate bias / activation passes
 * than multiplying. Without AVX2 the same calls go through cblas_sgemm.
 *
 * A layer's weights are first packed (aigc_nerf_dense_pack) as Wᵀ with its rows padded to a
 * multiple of 8 floats, so a row of outputs is whole vectors. Layers are nn.Linear-shaped:
 * W (out, in), y = x·Wᵀ + b.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    int n_in, n_out;
    int ld;    /* n_out rounded up to 8 */
    float *wt; /* (n_in, ld) Wᵀ, zero beyond n_out */
    float *b;  /* (ld) bias, zero beyond n_out (all zero for a layer without one) */
    float *w;  /* (n_out, n_in) W itself, kept for layers narrower than 8 (dot products) */
} AigcNerfDense;

typedef enum {
    AIGC_NERF_ACT_NONE,
    AIGC_NERF_ACT_RELU,
    AIGC_NERF_ACT_RELU_MASK, /* y = 0 wherever mask ≤ 0 (a ReLU's backward, mask its output) */
} AigcNerfAct;

/* Room for a layer of n_in → n_out; aigc_nerf_dense_clear frees it. */
void aigc_nerf_dense_init(AigcNerfDense *d, int n_in, int n_out);
void aigc_nerf_dense_clear(AigcNerfDense *d);
/* Packs w (n_out, n_in) and b (n_out, nullable). */
void aigc_nerf_dense_pack(AigcNerfDense *d, const float *w, const float *b);
/* Packs w (n_in, n_out; row stride ldw) as it stands, so that the forward computes x·w: the
 * product of a layer's backward, dx = dz·W[:, :n_out], when w is that layer's weight. */
void aigc_nerf_dense_pack_plain(AigcNerfDense *d, const float *w, int ldw);

/* y (m, n_out; row stride ldy) = act(x (m, n_in; row stride ldx)·Wᵀ + b); for
 * AIGC_NERF_ACT_RELU_MASK, mask (m, n_out; row stride ldmask) selects the outputs kept. */
void aigc_nerf_dense_forward(const AigcNerfDense *d, int m, const float *x, int ldx, float *y,
                             int ldy, AigcNerfAct act, const float *mask, int ldmask);

/* The weight gradients of a layer: dw (n_out, n_in) += dzᵀ·x and db (n_out, nullable) += Σ dz
 * over m rows, dz (m, n_out; row stride lddz), x (m, n_in; row stride ldx). */
void aigc_nerf_dense_grad(int m, int n_out, int n_in, const float *dz, int lddz, const float *x,
                          int ldx, float *dw, float *db);

G_END_DECLS
