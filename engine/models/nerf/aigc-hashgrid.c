/* SPDX-License-Identifier: MIT
 *
 * Multiresolution hash encoding: forward (gather and interpolate) and backward (scatter-add).
 *
 * Legend: L levels, F features per level, N_l cells per side of level l, T table size.
 * Level l has N_l = floor(base · b^l) with b = (finest / base)^(1/(L−1)). A point x ∈ [0, 1]³
 * lies in cell i = floor(x·N_l) (clamped to N_l − 1) at fraction f = x·N_l − i; its 8 vertices
 * i + {0,1}³ are looked up densely, i_x + i_y·(N+1) + i_z·(N+1)², when (N+1)³ ≤ T, else through
 * instant-ngp's hash (i_x · 1 ⊕ i_y · 2654435761 ⊕ i_z · 805459861) mod T. Trilinear weights
 * are products of f or 1 − f per axis.
 *
 * The forward pass walks chunks of points level by level, so consecutive points (neighbours
 * along a ray) reuse the same table lines. The backward pass gives each thread whole levels
 * (the next one when it is free): levels occupy disjoint parts of the table, so the scatter-add
 * needs no atomics and adds in the same order whatever the thread count.
 *
 * With AVX2 (and F = 2, the usual setting), the cells, weights and indices of 8 points are
 * computed at once with the same operations as the scalar code (so the same numbers), and the
 * forward pass fetches each vertex's two features as one 64-bit lane of a gather, 4 points a
 * gather.
 */
#include "aigc-hashgrid.h"

#include "aigc-error.h"
#include "models/nerf/aigc-nerf-parallel.h"
#include "nn/aigc-elementwise.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#else
#define HAVE_AVX2_PATH 0
#endif

#define PRIME_Y       2654435761u
#define PRIME_Z       805459861u
#define FORWARD_CHUNK 64 /* points per work item */

AigcHashgridConfig aigc_hashgrid_default_config(void)
{
    return (AigcHashgridConfig){
        .n_levels = 16, .n_features = 2, .log2_table = 17, .base_res = 16, .finest_res = 512};
}

gboolean aigc_hashgrid_init(AigcHashgrid *grid, const AigcHashgridConfig *config, GError **error)
{
    const AigcHashgridConfig *c = config;
    if (c->n_levels < 1 || c->n_levels > AIGC_HASHGRID_MAX_LEVELS || c->n_features < 1 ||
        c->n_features > AIGC_HASHGRID_MAX_FEATURES || c->log2_table < 4 || c->log2_table > 24 ||
        c->base_res < 1 || c->finest_res < c->base_res || c->finest_res > 1 << 16) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "hash grid: levels must be 1–%d, features 1–%d, log2 table size 4–24, and "
                    "1 ≤ base resolution ≤ finest resolution ≤ 65536 (got %d, %d, %d, %d, %d)",
                    AIGC_HASHGRID_MAX_LEVELS, AIGC_HASHGRID_MAX_FEATURES, c->n_levels,
                    c->n_features, c->log2_table, c->base_res, c->finest_res);
        return FALSE;
    }
    memset(grid, 0, sizeof *grid);
    grid->config = *c;
    double growth =
        c->n_levels > 1 ? exp((log(c->finest_res) - log(c->base_res)) / (c->n_levels - 1)) : 1.0;
    gint64 table = (gint64)1 << c->log2_table;
    gint64 offset = 0;
    for (int l = 0; l < c->n_levels; l++) {
        /* The small epsilon keeps exact powers (e.g. 512 at the last level) from rounding down. */
        int res = (int)floor(c->base_res * pow(growth, l) + 1e-6);
        gint64 dense = (gint64)(res + 1) * (res + 1) * (res + 1);
        grid->res[l] = res;
        grid->hashed[l] = dense > table;
        grid->size[l] = grid->hashed[l] ? table : dense;
        grid->offset[l] = offset;
        offset += grid->size[l];
    }
    grid->n_entries = offset;
    return TRUE;
}

/* The cell of x (clamped into [0, 1]) at resolution res and the fraction inside it. */
static inline void locate(float x, int res, guint32 *cell, float *frac)
{
    float p = (x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f) * (float)res;
    int i = (int)p;
    if (i > res - 1)
        i = res - 1;
    *cell = (guint32)i;
    *frac = p - (float)i;
}

/* Table entries and trilinear weights of the 8 vertices around x at level l; vertex k is
 * cell + (k & 1, (k >> 1) & 1, k >> 2). */
static inline void corners(const AigcHashgrid *grid, int l, const float *x, guint32 idx[8],
                           float w[8])
{
    int res = grid->res[l];
    guint32 c[3];
    float f[3];
    for (int a = 0; a < 3; a++)
        locate(x[a], res, &c[a], &f[a]);
    /* Per-axis terms, combined: 4 + 8 products for the weights, 4 + 8 operations for the
     * indices. */
    float wx[2] = {1.0f - f[0], f[0]}, wy[2] = {1.0f - f[1], f[1]}, wz[2] = {1.0f - f[2], f[2]};
    float wxy[4] = {wx[0] * wy[0], wx[1] * wy[0], wx[0] * wy[1], wx[1] * wy[1]};
    guint32 ix[2], iy[2], iz[2];
    if (grid->hashed[l]) {
        guint32 mask = (guint32)grid->size[l] - 1; /* hashed levels have a power-of-two size */
        ix[0] = c[0];
        ix[1] = c[0] + 1;
        iy[0] = c[1] * PRIME_Y;
        iy[1] = (c[1] + 1) * PRIME_Y;
        iz[0] = c[2] * PRIME_Z;
        iz[1] = (c[2] + 1) * PRIME_Z;
        guint32 ixy[4] = {ix[0] ^ iy[0], ix[1] ^ iy[0], ix[0] ^ iy[1], ix[1] ^ iy[1]};
        for (int k = 0; k < 4; k++) {
            idx[k] = (ixy[k] ^ iz[0]) & mask;
            idx[k + 4] = (ixy[k] ^ iz[1]) & mask;
        }
    } else {
        guint32 stride = (guint32)res + 1;
        ix[0] = c[0];
        ix[1] = c[0] + 1;
        iy[0] = c[1] * stride;
        iy[1] = iy[0] + stride;
        iz[0] = c[2] * stride * stride;
        iz[1] = iz[0] + stride * stride;
        guint32 ixy[4] = {ix[0] + iy[0], ix[1] + iy[0], ix[0] + iy[1], ix[1] + iy[1]};
        for (int k = 0; k < 4; k++) {
            idx[k] = ixy[k] + iz[0];
            idx[k + 4] = ixy[k] + iz[1];
        }
    }
    for (int k = 0; k < 4; k++) {
        w[k] = wxy[k] * wz[0];
        w[k + 4] = wxy[k] * wz[1];
    }
}

#if HAVE_AVX2_PATH
#define AVX2_INLINE AIGC_TARGET_AVX2 static inline __attribute__((always_inline))

/* corners() for the 8 points whose coordinates are xs[0 … 3) (8 lanes each): idx[k] and w[k]
 * hold vertex k of every point, computed exactly as corners() does. */
AVX2_INLINE void corners8(const AigcHashgrid *grid, int l, const __m256 xs[3], __m256i idx[8],
                          __m256 w[8])
{
    int res = grid->res[l];
    __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    __m256 resf = _mm256_set1_ps((float)res);
    __m256i top = _mm256_set1_epi32(res - 1), one_i = _mm256_set1_epi32(1);
    __m256i c[3];
    __m256 wa[3][2];
    for (int a = 0; a < 3; a++) {
        /* max(x, 0) first: NaN becomes 0, as in locate() */
        __m256 p = _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(xs[a], zero), one), resf);
        c[a] = _mm256_min_epi32(_mm256_cvttps_epi32(p), top);
        __m256 f = _mm256_sub_ps(p, _mm256_cvtepi32_ps(c[a]));
        wa[a][0] = _mm256_sub_ps(one, f);
        wa[a][1] = f;
    }
    __m256 wxy[4] = {_mm256_mul_ps(wa[0][0], wa[1][0]), _mm256_mul_ps(wa[0][1], wa[1][0]),
                     _mm256_mul_ps(wa[0][0], wa[1][1]), _mm256_mul_ps(wa[0][1], wa[1][1])};
    __m256i ix[2] = {c[0], _mm256_add_epi32(c[0], one_i)}, iy[2], iz[2], ixy[4];
    if (grid->hashed[l]) {
        __m256i py = _mm256_set1_epi32((int)PRIME_Y), pz = _mm256_set1_epi32((int)PRIME_Z);
        __m256i mask = _mm256_set1_epi32((int)(grid->size[l] - 1));
        iy[0] = _mm256_mullo_epi32(c[1], py);
        iy[1] = _mm256_mullo_epi32(_mm256_add_epi32(c[1], one_i), py);
        iz[0] = _mm256_mullo_epi32(c[2], pz);
        iz[1] = _mm256_mullo_epi32(_mm256_add_epi32(c[2], one_i), pz);
        ixy[0] = _mm256_xor_si256(ix[0], iy[0]);
        ixy[1] = _mm256_xor_si256(ix[1], iy[0]);
        ixy[2] = _mm256_xor_si256(ix[0], iy[1]);
        ixy[3] = _mm256_xor_si256(ix[1], iy[1]);
        for (int k = 0; k < 4; k++) {
            idx[k] = _mm256_and_si256(_mm256_xor_si256(ixy[k], iz[0]), mask);
            idx[k + 4] = _mm256_and_si256(_mm256_xor_si256(ixy[k], iz[1]), mask);
        }
    } else {
        __m256i stride = _mm256_set1_epi32(res + 1);
        __m256i stride2 = _mm256_set1_epi32((res + 1) * (res + 1));
        iy[0] = _mm256_mullo_epi32(c[1], stride);
        iy[1] = _mm256_add_epi32(iy[0], stride);
        iz[0] = _mm256_mullo_epi32(_mm256_mullo_epi32(c[2], stride), stride);
        iz[1] = _mm256_add_epi32(iz[0], stride2);
        ixy[0] = _mm256_add_epi32(ix[0], iy[0]);
        ixy[1] = _mm256_add_epi32(ix[1], iy[0]);
        ixy[2] = _mm256_add_epi32(ix[0], iy[1]);
        ixy[3] = _mm256_add_epi32(ix[1], iy[1]);
        for (int k = 0; k < 4; k++) {
            idx[k] = _mm256_add_epi32(ixy[k], iz[0]);
            idx[k + 4] = _mm256_add_epi32(ixy[k], iz[1]);
        }
    }
    for (int k = 0; k < 4; k++) {
        w[k] = _mm256_mul_ps(wxy[k], wa[2][0]);
        w[k + 4] = _mm256_mul_ps(wxy[k], wa[2][1]);
    }
}

/* Points [i0, i0 + 8) of x (n, 3) as 8 lanes per axis; points past n repeat the last one. */
AVX2_INLINE void load_points8(const float *x, gint64 i0, gint64 n, __m256 xs[3])
{
    float buf[3][8];
    for (int j = 0; j < 8; j++) {
        gint64 i = MIN(i0 + j, n - 1);
        for (int a = 0; a < 3; a++)
            buf[a][j] = x[3 * i + a];
    }
    for (int a = 0; a < 3; a++)
        xs[a] = _mm256_loadu_ps(buf[a]);
}

/* The F = 2 forward of points [i0, i1) (at most FORWARD_CHUNK): per level, the corners of all
 * points first (prefetching hashed entries), then the gathers. */
AIGC_TARGET_AVX2 static void forward_chunk_f2_avx2(const AigcHashgrid *grid, const float *table,
                                                   const float *x, gint64 i0, gint64 i1, float *out)
{
    enum { G = FORWARD_CHUNK / 8 };
    const int L = grid->config.n_levels, E = 2 * L;
    int n_groups = (int)((i1 - i0 + 7) / 8);
    __m256 xs[G][3];
    for (int g = 0; g < n_groups; g++)
        load_points8(x, i0 + 8 * g, i1, xs[g]);
    __m256i idx[G][8];
    __m256 w[G][8];
    const __m256i lo_pairs = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    const __m256i hi_pairs = _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7);
    for (int l = 0; l < L; l++) {
        const double *level = (const double *)(table + grid->offset[l] * 2); /* feature pairs */
        for (int g = 0; g < n_groups; g++) {
            corners8(grid, l, xs[g], idx[g], w[g]);
            if (grid->hashed[l]) {
                guint32 id[8][8];
                for (int k = 0; k < 8; k++)
                    _mm256_storeu_si256((__m256i *)id[k], idx[g][k]);
                for (int k = 0; k < 8; k++)
                    for (int j = 0; j < 8; j++)
                        __builtin_prefetch(level + id[k][j]);
            }
        }
        for (int g = 0; g < n_groups; g++) {
            __m256 acc_lo = _mm256_setzero_ps(), acc_hi = _mm256_setzero_ps();
            for (int k = 0; k < 8; k++) {
                __m256d v_lo = _mm256_i32gather_pd(level, _mm256_castsi256_si128(idx[g][k]), 8);
                __m256d v_hi =
                    _mm256_i32gather_pd(level, _mm256_extracti128_si256(idx[g][k], 1), 8);
                acc_lo = _mm256_add_ps(acc_lo,
                                       _mm256_mul_ps(_mm256_castpd_ps(v_lo),
                                                     _mm256_permutevar8x32_ps(w[g][k], lo_pairs)));
                acc_hi = _mm256_add_ps(acc_hi,
                                       _mm256_mul_ps(_mm256_castpd_ps(v_hi),
                                                     _mm256_permutevar8x32_ps(w[g][k], hi_pairs)));
            }
            /* lanes hold (feature 0, feature 1) of points 8g … 8g + 3 and 8g + 4 … 8g + 7 */
            float pairs[16];
            _mm256_storeu_ps(pairs, acc_lo);
            _mm256_storeu_ps(pairs + 8, acc_hi);
            gint64 base = i0 + 8 * g;
            int m = (int)MIN((gint64)8, i1 - base);
            for (int j = 0; j < m; j++)
                memcpy(out + (base + j) * E + 2 * l, pairs + 2 * j, 2 * sizeof(float));
        }
    }
}

/* The backward scatter of level l: for each block of FORWARD_CHUNK points, the corners 8
 * points at a time (prefetching the hashed entries to be written), then the additions in point
 * order, as the scalar code does them. */
AIGC_TARGET_AVX2 static void backward_level_f2_avx2(const AigcHashgrid *grid, int l, const float *x,
                                                    const float *dout, gint64 n, float *level)
{
    enum { G = FORWARD_CHUNK / 8 };
    const int E = 2 * grid->config.n_levels;
    guint32 idx[G][8][8];
    float w[G][8][8];
    gboolean live[G];
    for (gint64 b0 = 0; b0 < n; b0 += FORWARD_CHUNK) {
        int n_groups = (int)((MIN(n, b0 + FORWARD_CHUNK) - b0 + 7) / 8);
        for (int g = 0; g < n_groups; g++) {
            gint64 i0 = b0 + 8 * g;
            int m = (int)MIN((gint64)8, n - i0);
            live[g] = FALSE;
            for (int j = 0; j < m && !live[g]; j++) {
                const float *d = dout + (i0 + j) * E + 2 * l;
                live[g] = d[0] != 0.0f || d[1] != 0.0f;
            }
            if (!live[g])
                continue; /* e.g. samples past a ray's end: nothing to add */
            __m256 xs[3];
            load_points8(x, i0, n, xs);
            __m256i idx8[8];
            __m256 w8[8];
            corners8(grid, l, xs, idx8, w8);
            for (int k = 0; k < 8; k++) {
                _mm256_storeu_si256((__m256i *)idx[g][k], idx8[k]);
                _mm256_storeu_ps(w[g][k], w8[k]);
            }
            if (grid->hashed[l])
                for (int k = 0; k < 8; k++)
                    for (int j = 0; j < m; j++)
                        __builtin_prefetch(level + 2 * (gsize)idx[g][k][j], 1);
        }
        for (int g = 0; g < n_groups; g++) {
            if (!live[g])
                continue;
            gint64 i0 = b0 + 8 * g;
            int m = (int)MIN((gint64)8, n - i0);
            for (int j = 0; j < m; j++) {
                const float *d = dout + (i0 + j) * E + 2 * l;
                if (d[0] == 0.0f && d[1] == 0.0f)
                    continue;
                for (int k = 0; k < 8; k++) {
                    float *e = level + 2 * (gsize)idx[g][k][j];
                    e[0] += w[g][k][j] * d[0];
                    e[1] += w[g][k][j] * d[1];
                }
            }
        }
    }
}
#endif

typedef struct {
    const AigcHashgrid *grid;
    const float *table;
    const float *x;
    float *out;
    const float *dout;
    float *dtable;
    gint64 n;
} Work;

static void forward_chunks(gint64 begin, gint64 end, gpointer data)
{
    const Work *wk = data;
    const AigcHashgrid *grid = wk->grid;
    const int L = grid->config.n_levels, F = grid->config.n_features;
    guint32 idx[FORWARD_CHUNK][8];
    float w[FORWARD_CHUNK][8];
    for (gint64 chunk = begin; chunk < end; chunk++) {
        gint64 i0 = chunk * FORWARD_CHUNK, i1 = MIN(wk->n, i0 + FORWARD_CHUNK);
#if HAVE_AVX2_PATH
        if (F == 2 && aigc_simd_get_avx2()) {
            forward_chunk_f2_avx2(grid, wk->table, wk->x, i0, i1, wk->out);
            continue;
        }
#endif
        for (int l = 0; l < L; l++) {
            const float *level = wk->table + grid->offset[l] * F;
            /* Addresses first, with prefetches, so the cache misses of many points overlap;
             * then the gathers. */
            for (gint64 i = i0; i < i1; i++) {
                corners(grid, l, wk->x + 3 * i, idx[i - i0], w[i - i0]);
                if (grid->hashed[l])
                    for (int k = 0; k < 8; k++)
                        __builtin_prefetch(level + (gsize)F * idx[i - i0][k]);
            }
            for (gint64 i = i0; i < i1; i++) {
                const guint32 *id = idx[i - i0];
                const float *wt = w[i - i0];
                float *o = wk->out + i * L * F + l * F;
                if (F == 2) {
                    float a = 0.0f, b = 0.0f;
                    for (int k = 0; k < 8; k++) {
                        a += wt[k] * level[2 * id[k]];
                        b += wt[k] * level[2 * id[k] + 1];
                    }
                    o[0] = a;
                    o[1] = b;
                } else {
                    for (int f = 0; f < F; f++)
                        o[f] = 0.0f;
                    for (int k = 0; k < 8; k++)
                        for (int f = 0; f < F; f++)
                            o[f] += wt[k] * level[(gsize)F * id[k] + f];
                }
            }
        }
    }
}

void aigc_hashgrid_encode(const AigcHashgrid *grid, const float *table, gint64 n, const float *x,
                          float *out)
{
    Work wk = {.grid = grid, .table = table, .x = x, .out = out, .n = n};
    forward_chunks(0, (n + FORWARD_CHUNK - 1) / FORWARD_CHUNK, &wk);
}

void aigc_hashgrid_forward(const AigcHashgrid *grid, const float *table, gint64 n, const float *x,
                           float *out)
{
    Work wk = {.grid = grid, .table = table, .x = x, .out = out, .n = n};
    gint64 n_chunks = (n + FORWARD_CHUNK - 1) / FORWARD_CHUNK;
    aigc_parallel_for(n_chunks, 1, forward_chunks, &wk);
}

/* Level L − 1 − item: the fine, hashed (cache-missing) levels first, so the cheap coarse ones
 * even out the threads' finishing times. */
static void backward_level(gint64 item, int slot, gpointer data)
{
    const Work *wk = data;
    const AigcHashgrid *grid = wk->grid;
    const int L = grid->config.n_levels, F = grid->config.n_features;
    gint64 l = L - 1 - item;
    float *level = wk->dtable + grid->offset[l] * F;
    (void)slot;
#if HAVE_AVX2_PATH
    if (F == 2 && aigc_simd_get_avx2()) {
        backward_level_f2_avx2(grid, (int)l, wk->x, wk->dout, wk->n, level);
        return;
    }
#endif
    for (gint64 i = 0; i < wk->n; i++) {
        const float *d = wk->dout + i * L * F + l * F;
        gboolean zero = TRUE;
        for (int f = 0; f < F && zero; f++)
            zero = d[f] == 0.0f;
        if (zero)
            continue; /* e.g. samples past a ray's end: nothing to add */
        guint32 idx[8];
        float w[8];
        corners(grid, (int)l, wk->x + 3 * i, idx, w);
        for (int k = 0; k < 8; k++)
            for (int f = 0; f < F; f++)
                level[(gsize)F * idx[k] + f] += w[k] * d[f];
    }
}

void aigc_hashgrid_backward(const AigcHashgrid *grid, gint64 n, const float *x, const float *dout,
                            float *dtable)
{
    Work wk = {.grid = grid, .x = x, .dout = dout, .dtable = dtable, .n = n};
    aigc_nerf_parallel_items(grid->config.n_levels, G_MAXINT, backward_level, &wk);
}
