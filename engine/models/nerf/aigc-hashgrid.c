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
 * along a ray) reuse the same table lines. The backward pass gives each thread whole levels:
 * levels occupy disjoint parts of the table, so the scatter-add needs no atomics and adds in the
 * same order whatever the thread count.
 */
#include "aigc-hashgrid.h"

#include "aigc-error.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

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

typedef struct {
    const AigcHashgrid *grid;
    const float *table;
    const float *x;
    float *out;
    const float *dout;
    float *dtable;
    gint64 n;
    int n_slots;
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

/* Work item s takes levels s, s + n_slots, …: coarse (dense, cache-friendly) and fine (hashed,
 * cache-missing) levels are dealt out evenly. */
static void backward_levels(gint64 begin, gint64 end, gpointer data)
{
    const Work *wk = data;
    const AigcHashgrid *grid = wk->grid;
    const int L = grid->config.n_levels, F = grid->config.n_features;
    for (gint64 slot = begin; slot < end; slot++) {
        for (gint64 l = slot; l < L; l += wk->n_slots) {
            float *level = wk->dtable + grid->offset[l] * F;
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
    }
}

void aigc_hashgrid_backward(const AigcHashgrid *grid, gint64 n, const float *x, const float *dout,
                            float *dtable)
{
    int n_slots = MIN(aigc_threads_get(), grid->config.n_levels);
    Work wk = {.grid = grid, .x = x, .dout = dout, .dtable = dtable, .n = n, .n_slots = n_slots};
    aigc_parallel_for(n_slots, 1, backward_levels, &wk);
}
