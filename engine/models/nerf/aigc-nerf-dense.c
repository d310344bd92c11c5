/* SPDX-License-Identifier: MIT
 *
 * Dense layers of the NeRF field: AVX2 + FMA register tiles, with a cblas_sgemm path for CPUs
 * without them.
 *
 * Legend: m rows (samples), K inputs, N outputs, ld = N rounded up to 8, R ≤ TILE_ROWS rows of
 * a tile.
 *
 * DESIGN: the forward tile holds R × 16 outputs in 2R vector accumulators (started at the
 * bias), and for each input k broadcasts the R inputs x[r][k] against the two vectors of
 * Wᵀ[k][j … j+16): 2 loads and R broadcasts feed 2R fused multiply-adds, and nothing is packed
 * per call (Wᵀ is packed once per layer and stage). The activation is applied to the
 * accumulators before the one store. The weight gradient tile is the same product turned
 * round: R outputs × 16 inputs of dW, accumulated over the m rows from dz broadcasts and x
 * vectors. Tails (fewer than 16 columns) use masked loads and stores. A layer narrower than 8
 * outputs (the colour MLP's last) would waste most of each vector: it is computed as dot
 * products of each row with W's rows instead. Each output is one fixed-order sum, so results do
 * not depend on threads or tiling.
 */
#include "aigc-nerf-dense.h"

#include "nn/aigc-elementwise.h"
#include "tensor/aigc-blas.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#else
#define HAVE_AVX2_PATH 0
#endif

#define TILE_ROWS 6
#define NARROW    8 /* layers with fewer outputs use dot products */

void aigc_nerf_dense_init(AigcNerfDense *d, int n_in, int n_out)
{
    d->n_in = n_in;
    d->n_out = n_out;
    d->ld = (n_out + 7) / 8 * 8;
    d->wt = g_new0(float, (gsize)n_in * d->ld);
    d->b = g_new0(float, d->ld);
    gsize n_w = (gsize)n_out * n_in;
    d->w = n_out < NARROW ? g_new0(float, n_w) : NULL;
}

void aigc_nerf_dense_clear(AigcNerfDense *d)
{
    g_clear_pointer(&d->wt, g_free);
    g_clear_pointer(&d->b, g_free);
    g_clear_pointer(&d->w, g_free);
}

void aigc_nerf_dense_pack(AigcNerfDense *d, const float *w, const float *b)
{
    for (int k = 0; k < d->n_in; k++) {
        float *row = d->wt + (gsize)k * d->ld;
        for (int j = 0; j < d->n_out; j++)
            row[j] = w[(gsize)j * d->n_in + k];
    }
    if (b)
        memcpy(d->b, b, sizeof(float) * d->n_out);
    if (d->w)
        memcpy(d->w, w, sizeof(float) * d->n_out * d->n_in);
}

void aigc_nerf_dense_pack_plain(AigcNerfDense *d, const float *w, int ldw)
{
    for (int k = 0; k < d->n_in; k++)
        memcpy(d->wt + (gsize)k * d->ld, w + (gsize)k * ldw, sizeof(float) * d->n_out);
    if (d->w)
        for (int j = 0; j < d->n_out; j++)
            for (int k = 0; k < d->n_in; k++)
                d->w[(gsize)j * d->n_in + k] = w[(gsize)k * ldw + j];
}

/* ---- baseline: cblas_sgemm, then bias and activation ---- */

static void forward_blas(const AigcNerfDense *d, int m, const float *x, int ldx, float *y, int ldy,
                         AigcNerfAct act, const float *mask, int ldmask)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, d->n_out, d->n_in, 1.0f, x, ldx,
                d->wt, d->ld, 0.0f, y, ldy);
    for (int i = 0; i < m; i++) {
        float *row = y + (gsize)i * ldy;
        for (int j = 0; j < d->n_out; j++) {
            float v = row[j] + d->b[j];
            if (act == AIGC_NERF_ACT_RELU)
                v = v > 0.0f ? v : 0.0f;
            else if (act == AIGC_NERF_ACT_RELU_MASK && mask[(gsize)i * ldmask + j] <= 0.0f)
                v = 0.0f;
            row[j] = v;
        }
    }
}

static void grad_blas(int m, int n_out, int n_in, const float *dz, int lddz, const float *x,
                      int ldx, float *dw, float *db)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, m, 1.0f, dz, lddz, x, ldx,
                1.0f, dw, n_in);
    if (db)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n_out; j++)
                db[j] += dz[(gsize)i * lddz + j];
}

#if HAVE_AVX2_PATH

#define AVX2_INLINE AIGC_TARGET_AVX2 static inline __attribute__((always_inline))

/* Lanes [0, n) of a vector (n may exceed 8). */
AVX2_INLINE __m256i lanes_below(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Stores the n first lanes of v (all 8 when n ≥ 8). */
AVX2_INLINE void store_lanes(float *p, __m256 v, int n)
{
    if (n >= 8)
        _mm256_storeu_ps(p, v);
    else if (n > 0)
        _mm256_maskstore_ps(p, lanes_below(n), v);
}

AVX2_INLINE __m256 load_lanes(const float *p, int n)
{
    return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lanes_below(n));
}

AVX2_INLINE __m256 activate(__m256 v, AigcNerfAct act, const float *mask, int n)
{
    if (act == AIGC_NERF_ACT_RELU)
        return _mm256_max_ps(v, _mm256_setzero_ps()); /* max(NaN, 0) = 0, as v > 0 ? v : 0 */
    if (act == AIGC_NERF_ACT_RELU_MASK) {
        /* keep where !(mask ≤ 0), as the scalar test does (NaN keeps) */
        __m256 keep = _mm256_cmp_ps(load_lanes(mask, n), _mm256_setzero_ps(), _CMP_NLE_UQ);
        return _mm256_and_ps(v, keep);
    }
    return v;
}

/* Outputs [j, j + 8·V) of R rows. */
AVX2_INLINE void forward_tile(const int R, const int V, const AigcNerfDense *d, const float *x,
                              int ldx, float *y, int ldy, int j, AigcNerfAct act, const float *mask,
                              int ldmask)
{
    __m256 acc[TILE_ROWS][2];
#pragma GCC unroll 8
    for (int v = 0; v < V; v++) {
        __m256 b = _mm256_loadu_ps(d->b + j + 8 * v);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
            acc[r][v] = b;
    }
    const float *w = d->wt + j;
    for (int k = 0; k < d->n_in; k++, w += d->ld) {
        __m256 wv[2];
#pragma GCC unroll 8
        for (int v = 0; v < V; v++)
            wv[v] = _mm256_loadu_ps(w + 8 * v);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m256 xv = _mm256_broadcast_ss(x + (gsize)r * ldx + k);
#pragma GCC unroll 8
            for (int v = 0; v < V; v++)
                acc[r][v] = _mm256_fmadd_ps(xv, wv[v], acc[r][v]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int v = 0; v < V; v++) {
            int n = d->n_out - j - 8 * v;
            const float *mrow = mask ? mask + (gsize)r * ldmask + j + 8 * v : NULL;
            store_lanes(y + (gsize)r * ldy + j + 8 * v, activate(acc[r][v], act, mrow, n), n);
        }
}

AVX2_INLINE void forward_rows(const int R, const AigcNerfDense *d, const float *x, int ldx,
                              float *y, int ldy, AigcNerfAct act, const float *mask, int ldmask)
{
    int j = 0;
    for (; j + 16 <= d->ld; j += 16)
        forward_tile(R, 2, d, x, ldx, y, ldy, j, act, mask, ldmask);
    if (j < d->ld)
        forward_tile(R, 1, d, x, ldx, y, ldy, j, act, mask, ldmask);
}

AVX2_INLINE float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Fewer than 8 (N) outputs: each row's dot products with W's rows, 8 inputs a step. */
AVX2_INLINE void narrow_rows(const int N, const AigcNerfDense *d, int m, const float *x, int ldx,
                             float *y, int ldy, AigcNerfAct act, const float *mask, int ldmask)
{
    const int K = d->n_in, K8 = K / 8 * 8;
    for (int i = 0; i < m; i++) {
        const float *xi = x + (gsize)i * ldx;
        __m256 acc[NARROW];
#pragma GCC unroll 8
        for (int j = 0; j < N; j++)
            acc[j] = _mm256_setzero_ps();
        for (int k = 0; k < K8; k += 8) {
            __m256 xv = _mm256_loadu_ps(xi + k);
#pragma GCC unroll 8
            for (int j = 0; j < N; j++)
                acc[j] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(d->w + (gsize)j * K + k), acc[j]);
        }
        if (K8 < K) {
            __m256 xv = load_lanes(xi + K8, K - K8);
#pragma GCC unroll 8
            for (int j = 0; j < N; j++)
                acc[j] = _mm256_fmadd_ps(xv, load_lanes(d->w + (gsize)j * K + K8, K - K8), acc[j]);
        }
        float *yi = y + (gsize)i * ldy;
#pragma GCC unroll 8
        for (int j = 0; j < N; j++) {
            float v = hsum(acc[j]) + d->b[j];
            if (act == AIGC_NERF_ACT_RELU)
                v = v > 0.0f ? v : 0.0f;
            else if (act == AIGC_NERF_ACT_RELU_MASK && mask[(gsize)i * ldmask + j] <= 0.0f)
                v = 0.0f;
            yi[j] = v;
        }
    }
}

AIGC_TARGET_AVX2 static void forward_narrow_avx2(const AigcNerfDense *d, int m, const float *x,
                                                 int ldx, float *y, int ldy, AigcNerfAct act,
                                                 const float *mask, int ldmask)
{
    switch (d->n_out) {
#define NARROW_CASE(N)                                                                             \
    case N:                                                                                        \
        narrow_rows(N, d, m, x, ldx, y, ldy, act, mask, ldmask);                                   \
        break;
        NARROW_CASE(1)
        NARROW_CASE(2)
        NARROW_CASE(3)
        NARROW_CASE(4)
        NARROW_CASE(5)
        NARROW_CASE(6)
        NARROW_CASE(7)
#undef NARROW_CASE
    default:
        break;
    }
}

AIGC_TARGET_AVX2 static void forward_avx2(const AigcNerfDense *d, int m, const float *x, int ldx,
                                          float *y, int ldy, AigcNerfAct act, const float *mask,
                                          int ldmask)
{
    if (d->w) {
        forward_narrow_avx2(d, m, x, ldx, y, ldy, act, mask, ldmask);
        return;
    }
    int i = 0;
    for (; i + TILE_ROWS <= m; i += TILE_ROWS)
        forward_rows(TILE_ROWS, d, x + (gsize)i * ldx, ldx, y + (gsize)i * ldy, ldy, act,
                     mask ? mask + (gsize)i * ldmask : NULL, ldmask);
    const float *xi = x + (gsize)i * ldx, *mi = mask ? mask + (gsize)i * ldmask : NULL;
    float *yi = y + (gsize)i * ldy;
    switch (m - i) {
    case 5:
        forward_rows(5, d, xi, ldx, yi, ldy, act, mi, ldmask);
        break;
    case 4:
        forward_rows(4, d, xi, ldx, yi, ldy, act, mi, ldmask);
        break;
    case 3:
        forward_rows(3, d, xi, ldx, yi, ldy, act, mi, ldmask);
        break;
    case 2:
        forward_rows(2, d, xi, ldx, yi, ldy, act, mi, ldmask);
        break;
    case 1:
        forward_rows(1, d, xi, ldx, yi, ldy, act, mi, ldmask);
        break;
    default:
        break;
    }
}

/* dw rows [j, j + R), columns [k, k + 8·V) (n_in − k valid) += Σ_rows dz[·][j + r]·x[·][k …]. */
AVX2_INLINE void grad_tile(const int R, const int V, int m, int n_in, const float *dz, int lddz,
                           const float *x, int ldx, float *dw, int j, int k)
{
    __m256 acc[TILE_ROWS][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int v = 0; v < V; v++)
            acc[r][v] = _mm256_setzero_ps();
    int n = n_in - k;
    for (int i = 0; i < m; i++) {
        const float *xi = x + (gsize)i * ldx + k;
        __m256 xv[2];
#pragma GCC unroll 8
        for (int v = 0; v < V; v++)
            xv[v] = load_lanes(xi + 8 * v, n - 8 * v);
        const float *di = dz + (gsize)i * lddz + j;
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m256 dv = _mm256_broadcast_ss(di + r);
#pragma GCC unroll 8
            for (int v = 0; v < V; v++)
                acc[r][v] = _mm256_fmadd_ps(dv, xv[v], acc[r][v]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int v = 0; v < V; v++) {
            float *p = dw + (gsize)(j + r) * n_in + k + 8 * v;
            int nv = n - 8 * v;
            store_lanes(p, _mm256_add_ps(load_lanes(p, nv), acc[r][v]), nv);
        }
}

AVX2_INLINE void grad_rows(const int R, int m, int n_in, const float *dz, int lddz, const float *x,
                           int ldx, float *dw, int j)
{
    int k = 0;
    for (; k + 8 < n_in; k += 16)
        grad_tile(R, 2, m, n_in, dz, lddz, x, ldx, dw, j, k);
    if (k < n_in)
        grad_tile(R, 1, m, n_in, dz, lddz, x, ldx, dw, j, k);
}

AIGC_TARGET_AVX2 static void grad_avx2(int m, int n_out, int n_in, const float *dz, int lddz,
                                       const float *x, int ldx, float *dw, float *db)
{
    int j = 0;
    for (; j + TILE_ROWS <= n_out; j += TILE_ROWS)
        grad_rows(TILE_ROWS, m, n_in, dz, lddz, x, ldx, dw, j);
    switch (n_out - j) {
    case 5:
        grad_rows(5, m, n_in, dz, lddz, x, ldx, dw, j);
        break;
    case 4:
        grad_rows(4, m, n_in, dz, lddz, x, ldx, dw, j);
        break;
    case 3:
        grad_rows(3, m, n_in, dz, lddz, x, ldx, dw, j);
        break;
    case 2:
        grad_rows(2, m, n_in, dz, lddz, x, ldx, dw, j);
        break;
    case 1:
        grad_rows(1, m, n_in, dz, lddz, x, ldx, dw, j);
        break;
    default:
        break;
    }
    if (!db)
        return;
    for (int j0 = 0; j0 < n_out; j0 += 8) {
        int n = n_out - j0;
        __m256 acc = _mm256_setzero_ps();
        for (int i = 0; i < m; i++)
            acc = _mm256_add_ps(acc, load_lanes(dz + (gsize)i * lddz + j0, n));
        store_lanes(db + j0, _mm256_add_ps(load_lanes(db + j0, n), acc), n);
    }
}

#endif

void aigc_nerf_dense_forward(const AigcNerfDense *d, int m, const float *x, int ldx, float *y,
                             int ldy, AigcNerfAct act, const float *mask, int ldmask)
{
    if (m <= 0)
        return;
#if HAVE_AVX2_PATH
    if (aigc_simd_get_avx2()) {
        forward_avx2(d, m, x, ldx, y, ldy, act, mask, ldmask);
        return;
    }
#endif
    forward_blas(d, m, x, ldx, y, ldy, act, mask, ldmask);
}

void aigc_nerf_dense_grad(int m, int n_out, int n_in, const float *dz, int lddz, const float *x,
                          int ldx, float *dw, float *db)
{
    if (m <= 0)
        return;
#if HAVE_AVX2_PATH
    if (aigc_simd_get_avx2()) {
        grad_avx2(m, n_out, n_in, dz, lddz, x, ldx, dw, db);
        return;
    }
#endif
    grad_blas(m, n_out, n_in, dz, lddz, x, ldx, dw, db);
}
