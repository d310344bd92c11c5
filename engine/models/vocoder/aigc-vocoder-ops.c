/* SPDX-License-Identifier: MIT
 *
 * Vocoder layers: weight norm, gated unit, grouped conv1d, transposed matrix–vector product.
 *
 * The two hot loops (the grouped conv's unit-stride multiply-adds and the matvec of per-sample
 * generation) have an AVX2 + FMA variant written with intrinsics — GCC does not contract a·b + c
 * into an FMA in ISO C mode — and a plain C one for other CPUs, chosen at run time with
 * aigc_simd_get_avx2(). Both sum in the same order per lane, so results differ only by the
 * rounding of the fused multiply-add.
 *
 * Legend: N batch, C input channels, OC output channels, G groups (gated unit: G gate channels),
 * Cg = C/groups, OCg = OC/groups, K kernel, s stride, L input length, Lout output length,
 * J phase length of the polyphase input.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* See aigc-elementwise.c: the loops here are written to vectorise, -O2 alone would not. */
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math",              \
                     "fp-contract=fast")
#endif

#include "aigc-vocoder-ops.h"

#include "nn/aigc-conv.h"
#include "nn/aigc-elementwise.h"
#include "tensor/aigc-half.h"
#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <math.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_AVX2_VARIANT 1
#endif

/* ---- weight normalisation ---- */

typedef struct {
    float *w, *norms, *dv, *dg;
    const float *v, *g, *dw;
    gint64 inner;
} WnJob;

static void wn_forward_rows(gint64 i0, gint64 i1, gpointer data)
{
    const WnJob *j = data;
    for (gint64 i = i0; i < i1; i++) {
        const float *v = j->v + i * j->inner;
        double ss = 0;
        for (gint64 k = 0; k < j->inner; k++)
            ss += (double)v[k] * v[k];
        float norm = (float)sqrt(ss);
        j->norms[i] = norm;
        float scale = norm > 0 ? j->g[i] / norm : 0.0f;
        float *w = j->w + i * j->inner;
        for (gint64 k = 0; k < j->inner; k++)
            w[k] = scale * v[k];
    }
}

void aigc_weight_norm_forward(float *w, float *norms, const float *v, const float *g, int D0,
                              gint64 inner)
{
    WnJob j = {.w = w, .norms = norms, .v = v, .g = g, .inner = inner};
    aigc_parallel_for(D0, MAX(4096 / MAX(inner, 1), 1), wn_forward_rows, &j);
}

static void wn_backward_rows(gint64 i0, gint64 i1, gpointer data)
{
    const WnJob *j = data;
    for (gint64 i = i0; i < i1; i++) {
        float norm = j->norms[i];
        if (!(norm > 0))
            continue; /* a zero slice: w = 0 whatever g, and no direction to move v along */
        const float *v = j->v + i * j->inner, *dw = j->dw + i * j->inner;
        double dot = 0;
        for (gint64 k = 0; k < j->inner; k++)
            dot += (double)dw[k] * v[k];
        float proj = (float)(dot / norm); /* dw·v̂ */
        if (j->dg)
            j->dg[i] += proj;
        if (j->dv) {
            float a = j->g[i] / norm, b = proj / norm;
            float *dv = j->dv + i * j->inner;
            for (gint64 k = 0; k < j->inner; k++)
                dv[k] += a * (dw[k] - b * v[k]);
        }
    }
}

void aigc_weight_norm_backward(float *dv, float *dg, const float *dw, const float *v,
                               const float *g, const float *norms, int D0, gint64 inner)
{
    if (!dv && !dg)
        return;
    WnJob j = {
        .dv = dv, .dg = dg, .dw = dw, .v = v, .g = g, .norms = (float *)norms, .inner = inner};
    aigc_parallel_for(D0, MAX(4096 / MAX(inner, 1), 1), wn_backward_rows, &j);
}

void aigc_weight_norm_unfold(float *v, float *g, const float *w, int D0, gint64 inner)
{
    for (int i = 0; i < D0; i++) {
        double ss = 0;
        for (gint64 k = 0; k < inner; k++) {
            float x = w[i * inner + k];
            v[i * inner + k] = x;
            ss += (double)x * x;
        }
        g[i] = (float)sqrt(ss);
    }
}

static void weight_norm_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *v = node->in[0], *g = node->in[1], *w = node->out[0];
    if (!w->grad)
        return;
    aigc_weight_norm_backward(aigc_grad(ctx, v), aigc_grad(ctx, g), w->grad, v->data, g->data,
                              node->saved, (int)v->shape[0], v->n_elements / v->shape[0]);
}

AigcTensor *aigc_weight_norm(AigcCtx *ctx, AigcTensor *v, AigcTensor *g)
{
    g_return_val_if_fail(v->n_dims >= 1 && v->shape[0] > 0, NULL);
    g_return_val_if_fail(g->n_elements == v->shape[0], NULL);
    v = aigc_contiguous(ctx, v);
    g = aigc_contiguous(ctx, g);
    const int D0 = (int)v->shape[0];
    AigcTensor *w = aigc_tensor_new(ctx, v->n_dims, v->shape);
    float *norms = aigc_ctx_alloc_floats(ctx, D0); /* [D0] */
    aigc_weight_norm_forward(w->data, norms, v->data, g->data, D0, v->n_elements / D0);
    AigcNode *node = aigc_record2(ctx, "weight_norm", weight_norm_backward_node, w, v, g);
    if (node)
        node->saved = norms;
    return w;
}

/* ---- gated activation unit ---- */

typedef struct {
    float *out, *dinp, *dcond;
    const float *inp, *cond, *dout; /* cond (nullable) is added to inp before the unit */
    int G;
    gint64 T;
} GatedJob;

#ifdef HAVE_AVX2_VARIANT
/* e^x for 8 lanes: aigc_vexpf's algorithm (round x·log2 e with the 1.5·2^23 shifter, split ln 2,
 * degree-7 polynomial, scale by 2^n through the exponent bits, flush below −87.33). Inputs here
 * are bounded by the callers (|x| ≤ 80), so no overflow lane exists. */
__attribute__((target("avx2,fma"))) static inline __m256 exp8(__m256 x)
{
    const __m256 shifter = _mm256_set1_ps(12582912.0f);
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), shifter);
    __m256 n = _mm256_sub_ps(t, shifter);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860682030941723e-6f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i sb = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000)),
                         _mm256_set1_epi32(127)),
        23);
    __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(sb));
    return _mm256_and_ps(y, _mm256_cmp_ps(x, _mm256_set1_ps(-87.33f), _CMP_GE_OQ));
}

__attribute__((target("avx2,fma"))) static void gated_row_avx2(float *z, const float *a,
                                                               const float *b, gint64 n)
{
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
    const __m256 lo = _mm256_set1_ps(-40.0f), hi = _mm256_set1_ps(40.0f);
    gint64 i = 0;
    for (; i + 8 <= n; i += 8) {
        /* tanh(a) = 2/(1 + e^{−2a}) − 1, σ(b) = 1/(1 + e^{−b}); arguments clamped to ±40,
         * where both have long reached their limits in float. */
        __m256 av = _mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(a + i), lo), hi);
        __m256 bv = _mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(b + i), lo), hi);
        __m256 ea = exp8(_mm256_mul_ps(av, _mm256_set1_ps(-2.0f)));
        __m256 eb = exp8(_mm256_sub_ps(_mm256_setzero_ps(), bv));
        __m256 th = _mm256_sub_ps(_mm256_div_ps(two, _mm256_add_ps(one, ea)), one);
        __m256 sg = _mm256_div_ps(one, _mm256_add_ps(one, eb));
        _mm256_storeu_ps(z + i, _mm256_mul_ps(th, sg));
    }
    for (; i < n; i++)
        z[i] = aigc_tanhf_fast(a[i]) * aigc_sigmoidf_fast(b[i]);
}
#endif

void aigc_gated_row(float *z, const float *a, const float *b, gint64 n)
{
#ifdef HAVE_AVX2_VARIANT
    if (aigc_simd_get_avx2()) {
        gated_row_avx2(z, a, b, n);
        return;
    }
#endif
    for (gint64 i = 0; i < n; i++)
        z[i] = aigc_tanhf_fast(a[i]) * aigc_sigmoidf_fast(b[i]);
}

#define GATED_CHUNK 512 /* positions of a row summed with the condition on the stack at once */

static void gated_forward_rows(gint64 r0, gint64 r1, gpointer data)
{
    const GatedJob *j = data;
    float sa[GATED_CHUNK], sb[GATED_CHUNK];
    for (gint64 r = r0; r < r1; r++) {
        gint64 n = r / j->G, g = r % j->G, off = (n * 2 * j->G + g) * j->T;
        const gint64 half = (gint64)j->G * j->T;
        const float *a = j->inp + off, *b = a + half;
        float *y = j->out + r * j->T;
        if (!j->cond) {
            aigc_gated_row(y, a, b, j->T);
            continue;
        }
        const float *ca = j->cond + off, *cb = ca + half;
        for (gint64 t0 = 0; t0 < j->T; t0 += GATED_CHUNK) {
            int m = (int)MIN(GATED_CHUNK, j->T - t0);
            for (int t = 0; t < m; t++) {
                sa[t] = a[t0 + t] + ca[t0 + t];
                sb[t] = b[t0 + t] + cb[t0 + t];
            }
            aigc_gated_row(y + t0, sa, sb, m);
        }
    }
}

/* One row of the gated unit's backward. The flags are constants at each call, so every
 * combination gets its own branch-free loop, which the compiler vectorises. */
AIGC_KERNEL_BODY void gated_back_row(float *restrict da, float *restrict db, float *restrict dca,
                                     float *restrict dcb, const float *restrict a,
                                     const float *restrict b, const float *restrict ca,
                                     const float *restrict cb, const float *restrict dy, gint64 T,
                                     gboolean has_cond, gboolean has_d, gboolean has_dc)
{
    for (gint64 t = 0; t < T; t++) {
        float pa = has_cond ? a[t] + ca[t] : a[t], pb = has_cond ? b[t] + cb[t] : b[t];
        float th = aigc_tanhf_fast(pa), sg = aigc_sigmoidf_fast(pb);
        float ga = dy[t] * sg * (1.0f - th * th), gb = dy[t] * th * sg * (1.0f - sg);
        if (has_d) {
            da[t] += ga;
            db[t] += gb;
        }
        if (has_dc) {
            dca[t] += ga;
            dcb[t] += gb;
        }
    }
}

AIGC_KERNEL_BODY void gated_backward_rows_body(gint64 r0, gint64 r1, gpointer data)
{
    const GatedJob *j = data;
    for (gint64 r = r0; r < r1; r++) {
        gint64 n = r / j->G, g = r % j->G;
        gint64 off = (n * 2 * j->G + g) * j->T;
        const gint64 half = (gint64)j->G * j->T;
        const float *a = j->inp + off, *b = a + half, *dy = j->dout + r * j->T;
        const float *ca = j->cond ? j->cond + off : NULL, *cb = ca ? ca + half : NULL;
        float *da = j->dinp ? j->dinp + off : NULL, *db = da ? da + half : NULL;
        float *dca = j->dcond ? j->dcond + off : NULL, *dcb = dca ? dca + half : NULL;
        if (!ca)
            gated_back_row(da, db, NULL, NULL, a, b, NULL, NULL, dy, j->T, FALSE, TRUE, FALSE);
        else if (da && dca)
            gated_back_row(da, db, dca, dcb, a, b, ca, cb, dy, j->T, TRUE, TRUE, TRUE);
        else if (da)
            gated_back_row(da, db, NULL, NULL, a, b, ca, cb, dy, j->T, TRUE, TRUE, FALSE);
        else if (dca)
            gated_back_row(NULL, NULL, dca, dcb, a, b, ca, cb, dy, j->T, TRUE, FALSE, TRUE);
    }
}
AIGC_ROWS_DISPATCH(gated_backward_rows)

void aigc_gated_forward(float *out, const float *inp, const float *cond, int N, int G, gint64 T)
{
    GatedJob j = {.out = out, .inp = inp, .cond = cond, .G = G, .T = T};
    aigc_parallel_for((gint64)N * G, MAX(8192 / MAX(T, 1), 1), gated_forward_rows, &j);
}

void aigc_gated_backward(float *dinp, float *dcond, const float *dout, const float *inp,
                         const float *cond, int N, int G, gint64 T)
{
    if (!dinp && !dcond)
        return;
    GatedJob j = {
        .dinp = dinp, .dcond = dcond, .dout = dout, .inp = inp, .cond = cond, .G = G, .T = T};
    aigc_parallel_for((gint64)N * G, MAX(4096 / MAX(T, 1), 1), gated_backward_rows, &j);
}

static void gated_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *c = node->n_in > 1 ? node->in[1] : NULL, *y = node->out[0];
    if (!y->grad)
        return;
    aigc_gated_backward(aigc_grad(ctx, x), c ? aigc_grad(ctx, c) : NULL, y->grad, x->data,
                        c ? c->data : NULL, (int)y->shape[0], (int)y->shape[1], y->shape[2]);
}

AigcTensor *aigc_gated_tanh_sigmoid(AigcCtx *ctx, AigcTensor *x, AigcTensor *cond)
{
    g_return_val_if_fail(x->n_dims == 3 && x->shape[1] % 2 == 0, NULL);
    g_return_val_if_fail(!cond || aigc_tensor_same_shape(x, cond), NULL);
    x = aigc_contiguous(ctx, x);
    cond = cond ? aigc_contiguous(ctx, cond) : NULL;
    const int N = (int)x->shape[0], G = (int)(x->shape[1] / 2);
    AigcTensor *y = aigc_tensor_new3(ctx, N, G, x->shape[2]); /* [N, G, T] */
    aigc_gated_forward(y->data, x->data, cond ? cond->data : NULL, N, G, x->shape[2]);
    if (cond)
        aigc_record2(ctx, "gated_tanh_sigmoid", gated_backward_node, y, x, cond);
    else
        aigc_record1(ctx, "gated_tanh_sigmoid", gated_backward_node, y, x);
    return y;
}

/* ---- linear upsampling of a window ---- */

void aigc_linear_tap(gint64 dst, gint64 n_in, int factor, gint64 *i0, gint64 *i1, float *l0,
                     float *l1)
{
    float scale = (float)(1.0 / factor);
    float src = (float)(scale * ((double)dst + 0.5) - 0.5);
    if (src < 0.0f)
        src = 0.0f;
    *i0 = MIN((gint64)src, n_in - 1);
    *i1 = *i0 + (*i0 < n_in - 1 ? 1 : 0);
    *l1 = CLAMP(src - (float)*i0, 0.0f, 1.0f);
    *l0 = 1.0f - *l1;
}

/* The taps of output positions offset … offset + T − 1: the same for every row, so they are
 * worked out once per call. */
typedef struct {
    gint32 *i0, *i1;
    float *l0, *l1;
} UpTaps;

static UpTaps up_taps_new(gint64 offset, gint64 T, gint64 L, int factor)
{
    UpTaps k = {g_new(gint32, MAX(T, 1)), g_new(gint32, MAX(T, 1)), g_new(float, MAX(T, 1)),
                g_new(float, MAX(T, 1))};
    for (gint64 t = 0; t < T; t++) {
        gint64 i0, i1;
        aigc_linear_tap(offset + t, L, factor, &i0, &i1, &k.l0[t], &k.l1[t]);
        k.i0[t] = (gint32)i0;
        k.i1[t] = (gint32)i1;
    }
    return k;
}

static void up_taps_free(UpTaps *k)
{
    g_free(k->i0);
    g_free(k->i1);
    g_free(k->l0);
    g_free(k->l1);
}

typedef struct {
    float *out, *dinp;
    const float *inp, *dout;
    gint64 L, T;
    UpTaps taps;
} UpJob;

static void up_rows(gint64 r0, gint64 r1, gpointer data)
{
    const UpJob *j = data;
    const UpTaps *k = &j->taps;
    for (gint64 r = r0; r < r1; r++) {
        const float *x = j->inp + r * j->L;
        float *y = j->out + r * j->T;
        for (gint64 t = 0; t < j->T; t++)
            y[t] = k->l0[t] * x[k->i0[t]] + k->l1[t] * x[k->i1[t]];
    }
}

static void up_backward_rows(gint64 r0, gint64 r1, gpointer data)
{
    const UpJob *j = data;
    const UpTaps *k = &j->taps;
    for (gint64 r = r0; r < r1; r++) {
        float *dx = j->dinp + r * j->L;
        const float *dy = j->dout + r * j->T;
        for (gint64 t = 0; t < j->T; t++) {
            dx[k->i0[t]] += k->l0[t] * dy[t];
            dx[k->i1[t]] += k->l1[t] * dy[t];
        }
    }
}

enum { I_UP_FACTOR, I_UP_OFFSET };

static void upsample_window_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *y = node->out[0];
    float *dx = aigc_grad(ctx, x);
    if (!y->grad || !dx)
        return;
    UpJob j = {.dinp = dx,
               .dout = y->grad,
               .L = x->shape[2],
               .T = y->shape[2],
               .taps = up_taps_new(node->i[I_UP_OFFSET], y->shape[2], x->shape[2],
                                   (int)node->i[I_UP_FACTOR])};
    aigc_parallel_for(x->shape[0] * x->shape[1], MAX(8192 / MAX(j.T, 1), 1), up_backward_rows, &j);
    up_taps_free(&j.taps);
}

AigcTensor *aigc_upsample_linear1d_window(AigcCtx *ctx, AigcTensor *x, int factor, gint64 offset,
                                          gint64 T)
{
    g_return_val_if_fail(x->n_dims == 3 && factor >= 1 && offset >= 0 && T >= 0, NULL);
    g_return_val_if_fail(offset + T <= x->shape[2] * factor, NULL);
    x = aigc_contiguous(ctx, x);
    AigcTensor *y = aigc_tensor_new3(ctx, x->shape[0], x->shape[1], T); /* [N, C, T] */
    UpJob j = {.out = y->data,
               .inp = x->data,
               .L = x->shape[2],
               .T = T,
               .taps = up_taps_new(offset, T, x->shape[2], factor)};
    aigc_parallel_for(x->shape[0] * x->shape[1], MAX(8192 / MAX(T, 1), 1), up_rows, &j);
    up_taps_free(&j.taps);
    AigcNode *node =
        aigc_record1(ctx, "upsample_linear1d_window", upsample_window_backward_node, y, x);
    if (node) {
        node->i[I_UP_FACTOR] = factor;
        node->i[I_UP_OFFSET] = offset;
    }
    return y;
}

/* ---- unit-stride multiply-add helpers (the hot loops) ---- */

/* acc[b][t] += Σ_k w[b·wstride + k] · x[k·kstep + t] for nb ≤ 4 rows b and t in [0, n)…
 * written as the two primitives the conv needs: an axpy (y += a·x) and a dot product. */
#ifdef HAVE_AVX2_VARIANT
__attribute__((target("avx2,fma"))) static void axpy4_avx2(float *restrict y0, float *restrict y1,
                                                           float *restrict y2, float *restrict y3,
                                                           const float *restrict x, const float *a,
                                                           gint64 n)
{
    __m256 a0 = _mm256_set1_ps(a[0]), a1 = _mm256_set1_ps(a[1]);
    __m256 a2 = _mm256_set1_ps(a[2]), a3 = _mm256_set1_ps(a[3]);
    gint64 t = 0;
    for (; t + 8 <= n; t += 8) {
        __m256 xv = _mm256_loadu_ps(x + t);
        _mm256_storeu_ps(y0 + t, _mm256_fmadd_ps(a0, xv, _mm256_loadu_ps(y0 + t)));
        _mm256_storeu_ps(y1 + t, _mm256_fmadd_ps(a1, xv, _mm256_loadu_ps(y1 + t)));
        _mm256_storeu_ps(y2 + t, _mm256_fmadd_ps(a2, xv, _mm256_loadu_ps(y2 + t)));
        _mm256_storeu_ps(y3 + t, _mm256_fmadd_ps(a3, xv, _mm256_loadu_ps(y3 + t)));
    }
    for (; t < n; t++) {
        y0[t] = fmaf(a[0], x[t], y0[t]);
        y1[t] = fmaf(a[1], x[t], y1[t]);
        y2[t] = fmaf(a[2], x[t], y2[t]);
        y3[t] = fmaf(a[3], x[t], y3[t]);
    }
}

__attribute__((target("avx2,fma"))) static void
axpy1_avx2(float *restrict y, const float *restrict x, float a, gint64 n)
{
    __m256 av = _mm256_set1_ps(a);
    gint64 t = 0;
    for (; t + 8 <= n; t += 8)
        _mm256_storeu_ps(y + t,
                         _mm256_fmadd_ps(av, _mm256_loadu_ps(x + t), _mm256_loadu_ps(y + t)));
    for (; t < n; t++)
        y[t] = fmaf(a, x[t], y[t]);
}

/* d[j] = Σ_t a[t]·b_j[t] for four vectors b_j */
__attribute__((target("avx2,fma"))) static void
dot4_avx2(float *d, const float *restrict a, const float *restrict b0, const float *restrict b1,
          const float *restrict b2, const float *restrict b3, gint64 n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    gint64 t = 0;
    for (; t + 8 <= n; t += 8) {
        __m256 av = _mm256_loadu_ps(a + t);
        s0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b0 + t), s0);
        s1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b1 + t), s1);
        s2 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b2 + t), s2);
        s3 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b3 + t), s3);
    }
    __m256 acc[4] = {s0, s1, s2, s3};
    const float *b[4] = {b0, b1, b2, b3};
    for (int j = 0; j < 4; j++) {
        float lanes[8];
        _mm256_storeu_ps(lanes, acc[j]);
        float s = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) +
                  ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
        for (gint64 u = t; u < n; u++)
            s = fmaf(a[u], b[j][u], s);
        d[j] = s;
    }
}

/* y += a0·x0 + a1·x1 + a2·x2 + a3·x3 */
__attribute__((target("avx2,fma"))) static void
axpy_sum4_avx2(float *restrict y, const float *restrict x0, const float *restrict x1,
               const float *restrict x2, const float *restrict x3, const float *a, gint64 n)
{
    __m256 a0 = _mm256_set1_ps(a[0]), a1 = _mm256_set1_ps(a[1]);
    __m256 a2 = _mm256_set1_ps(a[2]), a3 = _mm256_set1_ps(a[3]);
    gint64 t = 0;
    for (; t + 8 <= n; t += 8) {
        __m256 v = _mm256_loadu_ps(y + t);
        v = _mm256_fmadd_ps(a0, _mm256_loadu_ps(x0 + t), v);
        v = _mm256_fmadd_ps(a1, _mm256_loadu_ps(x1 + t), v);
        v = _mm256_fmadd_ps(a2, _mm256_loadu_ps(x2 + t), v);
        v = _mm256_fmadd_ps(a3, _mm256_loadu_ps(x3 + t), v);
        _mm256_storeu_ps(y + t, v);
    }
    for (; t < n; t++)
        y[t] = fmaf(a[3], x3[t], fmaf(a[2], x2[t], fmaf(a[1], x1[t], fmaf(a[0], x0[t], y[t]))));
}

__attribute__((target("avx2,fma"))) static float dot_avx2(const float *restrict a,
                                                          const float *restrict b, gint64 n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    gint64 t = 0;
    for (; t + 16 <= n; t += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + t), _mm256_loadu_ps(b + t), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + t + 8), _mm256_loadu_ps(b + t + 8), s1);
    }
    for (; t + 8 <= n; t += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + t), _mm256_loadu_ps(b + t), s0);
    s0 = _mm256_add_ps(s0, s1);
    float lanes[8];
    _mm256_storeu_ps(lanes, s0);
    float s = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) +
              ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for (; t < n; t++)
        s = fmaf(a[t], b[t], s);
    return s;
}
#endif

static void axpy4_base(float *restrict y0, float *restrict y1, float *restrict y2,
                       float *restrict y3, const float *restrict x, const float *a, gint64 n)
{
    for (gint64 t = 0; t < n; t++) {
        y0[t] += a[0] * x[t];
        y1[t] += a[1] * x[t];
        y2[t] += a[2] * x[t];
        y3[t] += a[3] * x[t];
    }
}

static void axpy1_base(float *restrict y, const float *restrict x, float a, gint64 n)
{
    for (gint64 t = 0; t < n; t++)
        y[t] += a * x[t];
}

static void axpy_sum4_base(float *restrict y, const float *restrict x0, const float *restrict x1,
                           const float *restrict x2, const float *restrict x3, const float *a,
                           gint64 n)
{
    for (gint64 t = 0; t < n; t++)
        y[t] += a[0] * x0[t] + a[1] * x1[t] + a[2] * x2[t] + a[3] * x3[t];
}

static void axpy4(float *y0, float *y1, float *y2, float *y3, const float *x, const float *a,
                  gint64 n)
{
#ifdef HAVE_AVX2_VARIANT
    if (aigc_simd_get_avx2()) {
        axpy4_avx2(y0, y1, y2, y3, x, a, n);
        return;
    }
#endif
    axpy4_base(y0, y1, y2, y3, x, a, n);
}

static void axpy1(float *y, const float *x, float a, gint64 n)
{
#ifdef HAVE_AVX2_VARIANT
    if (aigc_simd_get_avx2()) {
        axpy1_avx2(y, x, a, n);
        return;
    }
#endif
    axpy1_base(y, x, a, n);
}

static void dot4(float *d, const float *a, const float *b0, const float *b1, const float *b2,
                 const float *b3, gint64 n)
{
#ifdef HAVE_AVX2_VARIANT
    if (aigc_simd_get_avx2()) {
        dot4_avx2(d, a, b0, b1, b2, b3, n);
        return;
    }
#endif
    d[0] = aigc_row_dot(a, b0, n);
    d[1] = aigc_row_dot(a, b1, n);
    d[2] = aigc_row_dot(a, b2, n);
    d[3] = aigc_row_dot(a, b3, n);
}

static void axpy_sum4(float *y, const float *x0, const float *x1, const float *x2, const float *x3,
                      const float *a, gint64 n)
{
#ifdef HAVE_AVX2_VARIANT
    if (aigc_simd_get_avx2()) {
        axpy_sum4_avx2(y, x0, x1, x2, x3, a, n);
        return;
    }
#endif
    axpy_sum4_base(y, x0, x1, x2, x3, a, n);
}

static float dot(const float *a, const float *b, gint64 n)
{
#ifdef HAVE_AVX2_VARIANT
    if (aigc_simd_get_avx2())
        return dot_avx2(a, b, n);
#endif
    return aigc_row_dot(a, b, n);
}

/* ---- grouped conv1d ---- */

typedef struct {
    int N, C, L, OC, K, s, pad, groups, Cg, OCg, Lout;
    gint64 J; /* phase length */
} GcGeom;

static GcGeom gc_geom(int N, int C, int L, int OC, int K, int stride, int pad, int groups)
{
    GcGeom g = {
        .N = N, .C = C, .L = L, .OC = OC, .K = K, .s = stride, .pad = pad, .groups = groups};
    g.Cg = C / groups;
    g.OCg = OC / groups;
    g.Lout = aigc_conv_out_size(L, K, stride, pad, pad, 1);
    g.J = g.Lout + (K - 1) / stride + 1;
    return g;
}

gint64 aigc_conv1d_grouped_scratch_size(int N, int C, int L, int K, int stride, int pad)
{
    int Lout = aigc_conv_out_size(L, K, stride, pad, pad, 1);
    gint64 J = Lout + (K - 1) / stride + 1;
    return (gint64)N * C * stride * J;
}

typedef struct {
    const GcGeom *g;
    float *xp;         /* [N, C, s, J] */
    const float *x;    /* [N, C, L] */
    float *out;        /* [N, OC, Lout] */
    const float *w;    /* [OC, Cg, K] */
    const float *bias; /* [OC] (nullable) */
    float *dx, *dw, *db;
    const float *dy; /* [N, OC, Lout] */
} GcJob;

/* xp[n, c, r, j] = xpad[j·s + r] with xpad[i] = x[i − pad] inside, 0 outside. */
static void gc_phase_rows(gint64 r0, gint64 r1, gpointer data)
{
    const GcJob *job = data;
    const GcGeom *g = job->g;
    for (gint64 row = r0; row < r1; row++) {
        const float *x = job->x + row * g->L;
        float *xp = job->xp + row * g->s * g->J;
        for (int r = 0; r < g->s; r++)
            for (gint64 j = 0; j < g->J; j++) {
                gint64 i = j * g->s + r - g->pad;
                xp[r * g->J + j] = i >= 0 && i < g->L ? x[i] : 0.0f;
            }
    }
}

/* dx[n, c, i] += dxp at the phase position of i + pad (the inverse of gc_phase_rows). */
static void gc_unphase_rows(gint64 r0, gint64 r1, gpointer data)
{
    const GcJob *job = data;
    const GcGeom *g = job->g;
    for (gint64 row = r0; row < r1; row++) {
        float *dx = job->dx + row * g->L;
        const float *dxp = job->xp + row * g->s * g->J;
        for (gint64 i = 0; i < g->L; i++) {
            gint64 ip = i + g->pad;
            gint64 j = ip / g->s, r = ip % g->s;
            if (j < g->J)
                dx[i] += dxp[r * g->J + j];
        }
    }
}

/* Forward, one task per (n, block of 4 output channels of one group). */
static void gc_forward_tasks(gint64 t0, gint64 t1, gpointer data)
{
    const GcJob *job = data;
    const GcGeom *g = job->g;
    const int nblk = (g->OCg + 3) / 4, Lout = g->Lout;
    for (gint64 task = t0; task < t1; task++) {
        int n = (int)(task / (g->groups * nblk)), rest = (int)(task % (g->groups * nblk));
        int gi = rest / nblk, o0 = gi * g->OCg + (rest % nblk) * 4;
        int nb = MIN(4, gi * g->OCg + g->OCg - o0);
        float *y[4];
        for (int b = 0; b < 4; b++) {
            y[b] = job->out + ((gint64)n * g->OC + o0 + MIN(b, nb - 1)) * Lout;
        }
        for (int b = 0; b < nb; b++) {
            float bv = job->bias ? job->bias[o0 + b] : 0.0f;
            for (int t = 0; t < Lout; t++)
                y[b][t] = bv;
        }
        for (int ci = 0; ci < g->Cg; ci++) {
            int c = gi * g->Cg + ci;
            const float *xp = job->xp + ((gint64)n * g->C + c) * g->s * g->J;
            for (int k = 0; k < g->K; k++) {
                const float *xs = xp + (k % g->s) * g->J + k / g->s; /* xs[t] */
                if (nb == 4) {
                    float a[4];
                    for (int b = 0; b < 4; b++)
                        a[b] = job->w[((gint64)(o0 + b) * g->Cg + ci) * g->K + k];
                    axpy4(y[0], y[1], y[2], y[3], xs, a, Lout);
                } else {
                    for (int b = 0; b < nb; b++)
                        axpy1(y[b], xs, job->w[((gint64)(o0 + b) * g->Cg + ci) * g->K + k], Lout);
                }
            }
        }
    }
}

/* Weight and bias gradients, one task per output channel (it owns its rows of dw). */
static void gc_dweight_tasks(gint64 o0, gint64 o1, gpointer data)
{
    const GcJob *job = data;
    const GcGeom *g = job->g;
    for (gint64 o = o0; o < o1; o++) {
        int gi = (int)(o / g->OCg);
        for (int n = 0; n < g->N; n++) {
            const float *dy = job->dy + ((gint64)n * g->OC + o) * g->Lout;
            if (job->db) {
                float s = 0;
                for (int t = 0; t < g->Lout; t++)
                    s += dy[t];
                job->db[o] += s;
            }
            if (!job->dw)
                continue;
            for (int ci = 0; ci < g->Cg; ci++) {
                const float *xp = job->xp + ((gint64)n * g->C + gi * g->Cg + ci) * g->s * g->J;
                float *dw = job->dw + (o * g->Cg + ci) * g->K;
                int k = 0;
                for (; k + 4 <= g->K; k += 4) { /* four taps share each load of dy */
                    float d[4];
                    dot4(d, dy, xp + (k % g->s) * g->J + k / g->s,
                         xp + ((k + 1) % g->s) * g->J + (k + 1) / g->s,
                         xp + ((k + 2) % g->s) * g->J + (k + 2) / g->s,
                         xp + ((k + 3) % g->s) * g->J + (k + 3) / g->s, g->Lout);
                    for (int j = 0; j < 4; j++)
                        dw[k + j] += d[j];
                }
                for (; k < g->K; k++)
                    dw[k] += dot(dy, xp + (k % g->s) * g->J + k / g->s, g->Lout);
            }
        }
    }
}

/* Input gradient in phase layout, one task per (n, c): dxp[r][t + q] += w · dy[o][t]. */
static void gc_dinput_tasks(gint64 r0, gint64 r1, gpointer data)
{
    const GcJob *job = data;
    const GcGeom *g = job->g;
    for (gint64 row = r0; row < r1; row++) {
        int n = (int)(row / g->C), c = (int)(row % g->C);
        int gi = c / g->Cg, ci = c % g->Cg;
        float *dxp = job->xp + row * g->s * g->J;
        memset(dxp, 0, sizeof(float) * (gsize)(g->s * g->J));
        int ob = 0;
        /* four output channels at a time: one pass over dxp per tap instead of four */
        for (; ob + 4 <= g->OCg; ob += 4) {
            int o = gi * g->OCg + ob;
            const float *dy = job->dy + ((gint64)n * g->OC + o) * g->Lout;
            const float *w = job->w + ((gint64)o * g->Cg + ci) * g->K;
            const gint64 wstep = (gint64)g->Cg * g->K, ystep = g->Lout;
            for (int k = 0; k < g->K; k++) {
                const float a[4] = {w[k], w[wstep + k], w[2 * wstep + k], w[3 * wstep + k]};
                axpy_sum4(dxp + (k % g->s) * g->J + k / g->s, dy, dy + ystep, dy + 2 * ystep,
                          dy + 3 * ystep, a, g->Lout);
            }
        }
        for (; ob < g->OCg; ob++) {
            int o = gi * g->OCg + ob;
            const float *dy = job->dy + ((gint64)n * g->OC + o) * g->Lout;
            const float *w = job->w + ((gint64)o * g->Cg + ci) * g->K;
            for (int k = 0; k < g->K; k++)
                axpy1(dxp + (k % g->s) * g->J + k / g->s, dy, w[k], g->Lout);
        }
    }
}

void aigc_conv1d_grouped_forward(float *out, float *scratch, const float *inp, const float *weight,
                                 const float *bias, int N, int C, int L, int OC, int K, int stride,
                                 int pad, int groups)
{
    GcGeom g = gc_geom(N, C, L, OC, K, stride, pad, groups);
    GcJob job = {.g = &g, .xp = scratch, .x = inp, .out = out, .w = weight, .bias = bias};
    aigc_parallel_for((gint64)N * C, MAX(16384 / MAX(L, 1), 1), gc_phase_rows, &job);
    gint64 per_task = (gint64)4 * g.Cg * K * g.Lout;
    aigc_parallel_for((gint64)N * groups * ((g.OCg + 3) / 4), MAX(65536 / MAX(per_task, 1), 1),
                      gc_forward_tasks, &job);
}

void aigc_conv1d_grouped_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                                  const float *dout, const float *inp, const float *weight, int N,
                                  int C, int L, int OC, int K, int stride, int pad, int groups)
{
    GcGeom g = gc_geom(N, C, L, OC, K, stride, pad, groups);
    GcJob job = {.g = &g,
                 .xp = scratch,
                 .x = inp,
                 .w = weight,
                 .dx = dinp,
                 .dw = dweight,
                 .db = dbias,
                 .dy = dout};
    if (dweight || dbias) {
        aigc_parallel_for((gint64)N * C, MAX(16384 / MAX(L, 1), 1), gc_phase_rows, &job);
        gint64 per_task = (gint64)N * g.Cg * K * g.Lout;
        aigc_parallel_for(OC, MAX(65536 / MAX(per_task, 1), 1), gc_dweight_tasks, &job);
    }
    if (dinp) {
        gint64 per_task = (gint64)g.OCg * K * g.Lout;
        aigc_parallel_for((gint64)N * C, MAX(65536 / MAX(per_task, 1), 1), gc_dinput_tasks, &job);
        aigc_parallel_for((gint64)N * C, MAX(16384 / MAX(L, 1), 1), gc_unphase_rows, &job);
    }
}

enum { I_STRIDE, I_PAD, I_GROUPS };

static void conv1d_grouped_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *w = node->in[1], *y = node->out[0];
    AigcTensor *b = node->n_in > 2 ? node->in[2] : NULL;
    if (!y->grad)
        return;
    float *dx = aigc_grad(ctx, x), *dw = aigc_grad(ctx, w), *db = b ? aigc_grad(ctx, b) : NULL;
    int N = (int)x->shape[0], C = (int)x->shape[1], L = (int)x->shape[2];
    int OC = (int)w->shape[0], K = (int)w->shape[2];
    int s = (int)node->i[I_STRIDE], p = (int)node->i[I_PAD], groups = (int)node->i[I_GROUPS];
    float *scratch = aigc_ctx_alloc_floats(ctx, aigc_conv1d_grouped_scratch_size(N, C, L, K, s, p));
    aigc_conv1d_grouped_backward(dx, dw, db, scratch, y->grad, x->data, w->data, N, C, L, OC, K, s,
                                 p, groups);
}

AigcTensor *aigc_conv1d_grouped(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b,
                                int stride, int padding, int groups)
{
    g_return_val_if_fail(x->n_dims == 3 && w->n_dims == 3, NULL);
    g_return_val_if_fail(groups >= 1 && x->shape[1] % groups == 0 && w->shape[0] % groups == 0,
                         NULL);
    g_return_val_if_fail(w->shape[1] * groups == x->shape[1], NULL);
    g_return_val_if_fail(!b || (b->n_dims == 1 && b->shape[0] == w->shape[0]), NULL);
    g_return_val_if_fail(stride > 0 && padding >= 0, NULL);
    if (groups == 1)
        return aigc_conv1d(ctx, x, w, b, stride, padding, 1, FALSE);
    x = aigc_contiguous(ctx, x);
    w = aigc_contiguous(ctx, w);
    b = b ? aigc_contiguous(ctx, b) : NULL;
    int N = (int)x->shape[0], C = (int)x->shape[1], L = (int)x->shape[2];
    int OC = (int)w->shape[0], K = (int)w->shape[2];
    int Lout = aigc_conv_out_size(L, K, stride, padding, padding, 1);
    g_return_val_if_fail(Lout > 0, NULL);
    AigcTensor *y = aigc_tensor_new3(ctx, N, OC, Lout); /* [N, OC, Lout] */
    float *scratch =
        aigc_ctx_alloc_floats(ctx, aigc_conv1d_grouped_scratch_size(N, C, L, K, stride, padding));
    aigc_conv1d_grouped_forward(y->data, scratch, x->data, w->data, b ? b->data : NULL, N, C, L, OC,
                                K, stride, padding, groups);
    AigcNode *node =
        b ? aigc_record3(ctx, "conv1d_grouped", conv1d_grouped_backward_node, y, x, w, b)
          : aigc_record2(ctx, "conv1d_grouped", conv1d_grouped_backward_node, y, x, w);
    if (node) {
        node->i[I_STRIDE] = stride;
        node->i[I_PAD] = padding;
        node->i[I_GROUPS] = groups;
    }
    return y;
}

/* ---- transposed matrix–vector product ---- */

#ifdef HAVE_AVX2_VARIANT
/* Blocks of 64 outputs in 8 named accumulators (GCC keeps an array of them in memory at -O2),
 * two rows of Wt per iteration. LOAD(p) turns 8 stored weights into 8 floats. */
#define MATVEC_T_BODY(WT, LOAD)                                                                    \
    int m0 = 0;                                                                                    \
    for (; m0 + 64 <= M; m0 += 64) {                                                               \
        __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,     \
               c7 = c0;                                                                            \
        const WT *w = Wt + m0;                                                                     \
        for (int k = 0; k < K; k++, w += M) {                                                      \
            __m256 xv = _mm256_broadcast_ss(x + k);                                                \
            c0 = _mm256_fmadd_ps(xv, LOAD(w), c0);                                                 \
            c1 = _mm256_fmadd_ps(xv, LOAD(w + 8), c1);                                             \
            c2 = _mm256_fmadd_ps(xv, LOAD(w + 16), c2);                                            \
            c3 = _mm256_fmadd_ps(xv, LOAD(w + 24), c3);                                            \
            c4 = _mm256_fmadd_ps(xv, LOAD(w + 32), c4);                                            \
            c5 = _mm256_fmadd_ps(xv, LOAD(w + 40), c5);                                            \
            c6 = _mm256_fmadd_ps(xv, LOAD(w + 48), c6);                                            \
            c7 = _mm256_fmadd_ps(xv, LOAD(w + 56), c7);                                            \
        }                                                                                          \
        __m256 acc[8] = {c0, c1, c2, c3, c4, c5, c6, c7};                                          \
        for (int a = 0; a < 8; a++) {                                                              \
            __m256 v = acc[a];                                                                     \
            if (bias)                                                                              \
                v = _mm256_add_ps(v, _mm256_loadu_ps(bias + m0 + 8 * a));                          \
            if (accumulate)                                                                        \
                v = _mm256_add_ps(v, _mm256_loadu_ps(y + m0 + 8 * a));                             \
            _mm256_storeu_ps(y + m0 + 8 * a, v);                                                   \
        }                                                                                          \
    }                                                                                              \
    for (; m0 + 8 <= M; m0 += 8) {                                                                 \
        __m256 acc = _mm256_setzero_ps();                                                          \
        const WT *w = Wt + m0;                                                                     \
        for (int k = 0; k < K; k++, w += M)                                                        \
            acc = _mm256_fmadd_ps(_mm256_broadcast_ss(x + k), LOAD(w), acc);                       \
        if (bias)                                                                                  \
            acc = _mm256_add_ps(acc, _mm256_loadu_ps(bias + m0));                                  \
        if (accumulate)                                                                            \
            acc = _mm256_add_ps(acc, _mm256_loadu_ps(y + m0));                                     \
        _mm256_storeu_ps(y + m0, acc);                                                             \
    }

#define LOAD_F32(p) _mm256_loadu_ps(p)
#define LOAD_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))

__attribute__((target("avx2,fma"))) static void matvec_t_avx2(float *y, const float *Wt,
                                                              const float *x, const float *bias,
                                                              int M, int K, gboolean accumulate)
{
    MATVEC_T_BODY(float, LOAD_F32)
    for (; m0 < M; m0++) {
        float s = 0;
        for (int k = 0; k < K; k++)
            s = fmaf(x[k], Wt[(gint64)k * M + m0], s);
        if (bias)
            s += bias[m0];
        y[m0] = accumulate ? y[m0] + s : s;
    }
}
#endif

static void matvec_t_base(float *y, const float *Wt, const float *x, const float *bias, int M,
                          int K, gboolean accumulate)
{
    int m0 = 0;
    for (; m0 < M; m0 += 64) {
        int mb = MIN(64, M - m0);
        float acc[64] = {0};
        const float *w = Wt + m0;
        for (int k = 0; k < K; k++, w += M) {
            float xk = x[k];
            for (int a = 0; a < mb; a++)
                acc[a] += xk * w[a];
        }
        for (int a = 0; a < mb; a++) {
            float v = acc[a] + (bias ? bias[m0 + a] : 0.0f);
            y[m0 + a] = accumulate ? y[m0 + a] + v : v;
        }
    }
}

void aigc_matvec_t(float *y, const float *Wt, const float *x, const float *bias, int M, int K,
                   gboolean accumulate)
{
#ifdef HAVE_AVX2_VARIANT
    if (aigc_simd_get_avx2()) {
        matvec_t_avx2(y, Wt, x, bias, M, K, accumulate);
        return;
    }
#endif
    matvec_t_base(y, Wt, x, bias, M, K, accumulate);
}

#ifdef HAVE_AVX2_VARIANT
__attribute__((target("avx2,fma,f16c"))) static void matvec_t_f16_avx2(float *y, const guint16 *Wt,
                                                                       const float *x,
                                                                       const float *bias, int M,
                                                                       int K, gboolean accumulate)
{
    MATVEC_T_BODY(guint16, LOAD_F16)
    for (; m0 < M; m0++) {
        float s = 0;
        for (int k = 0; k < K; k++)
            s = fmaf(x[k], aigc_f16_to_f32(Wt[(gint64)k * M + m0]), s);
        if (bias)
            s += bias[m0];
        y[m0] = accumulate ? y[m0] + s : s;
    }
}

/* CPUID leaf 1, ECX bit 29 (read directly: clang 14 knows no "f16c" for
 * __builtin_cpu_supports). */
static gboolean have_f16c(void)
{
    static int cached = -1;
    if (cached < 0) {
        unsigned a, b, c, d;
        cached = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) ? 1 : 0;
    }
    return cached == 1;
}
#endif

void aigc_matvec_t_f16(float *y, const guint16 *Wt, const float *x, const float *bias, int M, int K,
                       gboolean accumulate)
{
#ifdef HAVE_AVX2_VARIANT
    if (aigc_simd_get_avx2() && have_f16c()) {
        matvec_t_f16_avx2(y, Wt, x, bias, M, K, accumulate);
        return;
    }
#endif
    for (int m0 = 0; m0 < M; m0 += 64) {
        int mb = MIN(64, M - m0);
        float acc[64] = {0};
        const guint16 *w = Wt + m0;
        for (int k = 0; k < K; k++, w += M) {
            float xk = x[k];
            for (int a = 0; a < mb; a++)
                acc[a] += xk * aigc_f16_to_f32(w[a]);
        }
        for (int a = 0; a < mb; a++) {
            float v = acc[a] + (bias ? bias[m0 + a] : 0.0f);
            y[m0 + a] = accumulate ? y[m0 + a] + v : v;
        }
    }
}
