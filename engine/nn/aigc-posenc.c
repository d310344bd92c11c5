/* SPDX-License-Identifier: MIT
 *
 * Rotary position embedding (forward, backward, one-position decoding) and the sinusoidal
 * timestep embedding. The formulas and conventions are documented in aigc-posenc.h.
 *
 * Legend: B batch, T positions, H heads, D head size; fcos, fsin (T, D/2).
 * RoPE's angles are computed exactly as llama2.c's run.c does (float powf, cosf, sinf), so the
 * table-driven full-sequence op and aigc_rope_apply() produce the same bits.
 */
#include "aigc-posenc.h"

#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <math.h>
#include <string.h>

/* ---- RoPE ---- */

static inline float rope_angle(int pos, int i, int D, float theta)
{
    /* run.c: freq = 1.0f / powf(10000.0f, head_dim / (float)head_size), head_dim = 2i. */
    float freq = 1.0f / powf(theta, (float)(2 * i) / (float)D);
    return (float)pos * freq;
}

void aigc_rope_freqs(float *fcos, float *fsin, int T, int D, int pos_offset, float theta)
{
    int half = D / 2;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            float val = rope_angle(pos_offset + t, i, D, theta);
            fcos[(gint64)t * half + i] = cosf(val);
            fsin[(gint64)t * half + i] = sinf(val);
        }
}

typedef struct {
    float *dst;
    const float *src, *fcos, *fsin;
    int T, H, D;
    float sign; /* +1 rotates forward; −1 rotates back (the backward) */
    gboolean accumulate;
} RopeJob;

typedef float RopeV8 __attribute__((vector_size(32)));
typedef gint32 RopeI8 __attribute__((vector_size(32)));

#define ROPE_CHUNK       128 /* elements of a head handled per pass over the heads */
#define ROPE_SIMD_CLONES __attribute__((target_clones("avx2", "default")))

/* Rows are (b, t) pairs; every head of a row shares the position's table row. With the
 * tables spread to element order, c2 = (c0, c0, c1, c1, …) and s2 = (−s0, s0, −s1, s1, …),
 * y[e] = x[e]·c2[e] + x[e^1]·s2[e]: a lane swap instead of strided pair access, which gives
 * run.c's bits exactly (a + (−b) is a − b in IEEE arithmetic). Cloned for AVX2 like the
 * attention kernels; both clones compute the same thing. */
ROPE_SIMD_CLONES
static void rope_rows(gint64 begin, gint64 end, gpointer data)
{
    const RopeJob *j = data;
    const int half = j->D / 2;
    const gint64 row_len = (gint64)j->H * j->D;
    float c2[ROPE_CHUNK], s2[ROPE_CHUNK];
#if !defined(__clang__)
    const RopeI8 swap = {1, 0, 3, 2, 5, 4, 7, 6};
#endif
    for (gint64 row = begin; row < end; row++) {
        const float *c = j->fcos + (row % j->T) * half; /* (D/2) */
        const float *s = j->fsin + (row % j->T) * half; /* (D/2) */
        for (int e0 = 0; e0 < j->D; e0 += ROPE_CHUNK) {
            int n = MIN(ROPE_CHUNK, j->D - e0); /* even */
            for (int e = 0; e < n; e += 2) {
                int i = (e0 + e) / 2;
                c2[e] = c2[e + 1] = c[i];
                s2[e] = -j->sign * s[i];
                s2[e + 1] = j->sign * s[i];
            }
            for (int h = 0; h < j->H; h++) {
                const float *x = j->src + row * row_len + (gint64)h * j->D + e0; /* (n) */
                float *y = j->dst + row * row_len + (gint64)h * j->D + e0;       /* (n) */
                int e = 0;
                for (; e + 8 <= n; e += 8) {
                    RopeV8 xv, cv, sv, yv;
                    memcpy(&xv, x + e, sizeof xv);
                    memcpy(&cv, c2 + e, sizeof cv);
                    memcpy(&sv, s2 + e, sizeof sv);
#if defined(__clang__)
                    RopeV8 xs = __builtin_shufflevector(xv, xv, 1, 0, 3, 2, 5, 4, 7, 6);
#else
                    RopeV8 xs = __builtin_shuffle(xv, swap);
#endif
                    RopeV8 r = xv * cv + xs * sv;
                    if (j->accumulate) {
                        memcpy(&yv, y + e, sizeof yv);
                        r += yv;
                    }
                    memcpy(y + e, &r, sizeof r);
                }
                for (; e < n; e += 2) {
                    float y0 = x[e] * c2[e] + x[e + 1] * s2[e];
                    float y1 = x[e + 1] * c2[e + 1] + x[e] * s2[e + 1];
                    y[e] = j->accumulate ? y[e] + y0 : y0;
                    y[e + 1] = j->accumulate ? y[e + 1] + y1 : y1;
                }
            }
        }
    }
}

static void rope_run(RopeJob *j, int B)
{
    gint64 row_len = MAX((gint64)j->H * j->D, 1);
    aigc_parallel_for((gint64)B * j->T, MAX(1, 32768 / row_len), rope_rows, j);
}

void aigc_rope_forward(float *out, const float *inp, const float *fcos, const float *fsin, int B,
                       int T, int H, int D)
{
    g_return_if_fail(D % 2 == 0);
    RopeJob j = {.dst = out,
                 .src = inp,
                 .fcos = fcos,
                 .fsin = fsin,
                 .T = T,
                 .H = H,
                 .D = D,
                 .sign = 1.0f,
                 .accumulate = FALSE};
    rope_run(&j, B);
}

void aigc_rope_backward(float *dinp, const float *dout, const float *fcos, const float *fsin, int B,
                        int T, int H, int D)
{
    g_return_if_fail(D % 2 == 0);
    /* The rotation is orthogonal: its transpose is the rotation by −angle. */
    RopeJob j = {.dst = dinp,
                 .src = dout,
                 .fcos = fcos,
                 .fsin = fsin,
                 .T = T,
                 .H = H,
                 .D = D,
                 .sign = -1.0f,
                 .accumulate = TRUE};
    rope_run(&j, B);
}

void aigc_rope_apply(float *x, int H, int D, int pos, float theta)
{
    g_return_if_fail(D % 2 == 0);
    for (int i = 0; i < D / 2; i++) {
        float val = rope_angle(pos, i, D, theta);
        float fcr = cosf(val), fci = sinf(val);
        for (int h = 0; h < H; h++) {
            float *v = x + (gint64)h * D + 2 * i;
            float v0 = v[0], v1 = v[1];
            v[0] = v0 * fcr - v1 * fci;
            v[1] = v0 * fci + v1 * fcr;
        }
    }
}

static void rope_backward(AigcCtx *ctx, AigcNode *node)
{
    float *dx = aigc_grad(ctx, node->in[0]);
    if (!dx)
        return;
    const float *fcos = node->saved;                          /* (T, D/2) */
    const float *fsin = fcos + node->i[1] * (node->i[3] / 2); /* (T, D/2) */
    aigc_rope_backward(dx, node->out[0]->grad, fcos, fsin, (int)node->i[0], (int)node->i[1],
                       (int)node->i[2], (int)node->i[3]);
}

AigcTensor *aigc_rope(AigcCtx *ctx, AigcTensor *x, int pos_offset, float theta)
{
    g_return_val_if_fail(ctx && x && x->n_dims == 4, NULL);
    g_return_val_if_fail(x->shape[3] % 2 == 0 && pos_offset >= 0 && theta > 0, NULL);
    g_return_val_if_fail(x->shape[1] <= G_MAXINT && x->shape[3] <= G_MAXINT, NULL);
    int B = (int)x->shape[0], T = (int)x->shape[1], H = (int)x->shape[2], D = (int)x->shape[3];
    x = aigc_contiguous(ctx, x);
    AigcTensor *y = aigc_tensor_new_like(ctx, x);
    float *fcos = aigc_ctx_alloc_floats(ctx, 2 * (gint64)T * (D / 2)); /* (2, T, D/2) */
    float *fsin = fcos + (gint64)T * (D / 2);
    aigc_rope_freqs(fcos, fsin, T, D, pos_offset, theta);
    aigc_rope_forward(y->data, x->data, fcos, fsin, B, T, H, D);
    AigcNode *node = aigc_record1(ctx, "rope", rope_backward, y, x);
    if (node) {
        node->saved = fcos;
        node->i[0] = B;
        node->i[1] = T;
        node->i[2] = H;
        node->i[3] = D;
    }
    return y;
}

/* ---- timestep embedding ---- */

void aigc_timestep_embedding_forward(float *out, const float *t, int n, int dim, float max_period)
{
    g_return_if_fail(dim >= 2);
    int half = dim / 2;
    /* diffusers, in float32: exponent = −ln(max_period)·arange(half) / half; exp; t · freq. */
    float neg_log = (float)-log((double)max_period);
    for (int r = 0; r < n; r++) {
        float *o = out + (gint64)r * dim; /* (dim) */
        for (int i = 0; i < half; i++) {
            float freq = expf(neg_log * (float)i / (float)half);
            float arg = t[r] * freq;
            o[i] = cosf(arg);
            o[half + i] = sinf(arg);
        }
        if (dim % 2)
            o[dim - 1] = 0.0f;
    }
}

AigcTensor *aigc_timestep_embedding(AigcCtx *ctx, const float *t, int n, int dim, float max_period)
{
    g_return_val_if_fail(ctx && (t || n == 0) && n >= 0 && dim >= 2 && max_period > 0, NULL);
    AigcTensor *out = aigc_tensor_new2(ctx, n, dim);
    aigc_timestep_embedding_forward(out->data, t, n, dim, max_period);
    return out;
}
