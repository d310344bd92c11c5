/* SPDX-License-Identifier: MIT
 *
 * Occupancy grid: cell bookkeeping, refresh, and ray marching that skips empty cells.
 *
 * Marching keeps samples on one lattice per ray, t = t_enter + (k + jitter)·dt. It walks the
 * cells the ray crosses one by one (Amanatides and Woo's traversal: the next cell is across
 * whichever axis's boundary comes first), so an empty cell costs one comparison and one
 * boundary distance, whatever its size; in an occupied cell it emits the lattice points before
 * the cell's exit, stepping t by dt, and after empty cells it starts again at the first lattice
 * point past where the ray entered the occupied one, so the samples a ray gets in a cell do not
 * depend on how it got there.
 */
#include "aigc-occupancy.h"

#include <math.h>
#include <string.h>

#define NONFINITE_DENSITY 1e9f /* what a NaN or infinite measurement counts as */

static void cell_size(const AigcOccupancy *occ, float size[3])
{
    for (int a = 0; a < 3; a++)
        size[a] = (occ->aabb_max[a] - occ->aabb_min[a]) / (float)occ->res;
}

AigcOccupancy *aigc_occupancy_new(int res, const float aabb_min[3], const float aabb_max[3])
{
    g_return_val_if_fail(res >= 8 && res <= 512 && res % 4 == 0, NULL);
    AigcOccupancy *occ = g_new0(AigcOccupancy, 1);
    occ->res = res;
    memcpy(occ->aabb_min, aabb_min, sizeof occ->aabb_min);
    memcpy(occ->aabb_max, aabb_max, sizeof occ->aabb_max);
    occ->n_cells = (gint64)res * res * res;
    /* No measurement yet (density 0), but every cell occupied until the first update. */
    occ->density = g_new0(float, occ->n_cells);
    gint64 n_words = (occ->n_cells + 63) / 64;
    occ->bits = g_new(guint64, n_words);
    memset(occ->bits, 0xff, sizeof(guint64) * n_words);
    occ->n_occupied = occ->n_cells;
    return occ;
}

void aigc_occupancy_free(AigcOccupancy *occ)
{
    if (!occ)
        return;
    g_free(occ->density);
    g_free(occ->bits);
    g_free(occ);
}

void aigc_occupancy_refresh_bits(AigcOccupancy *occ, float threshold)
{
    double sum = 0.0;
    float max = 0.0f;
    for (gint64 i = 0; i < occ->n_cells; i++) {
        sum += occ->density[i];
        max = MAX(max, occ->density[i]);
    }
    occ->mean_density = (float)(sum / (double)occ->n_cells);
    gsize n_bytes = sizeof(guint64) * ((occ->n_cells + 63) / 64);
    if (max == 0.0f) {
        /* Nothing measured yet (densities are exp(·) > 0 once measured): all occupied. */
        memset(occ->bits, 0xff, n_bytes);
        occ->n_occupied = occ->n_cells;
        return;
    }
    float limit = MIN(threshold, occ->mean_density);
    memset(occ->bits, 0, n_bytes);
    occ->n_occupied = 0;
    for (gint64 i = 0; i < occ->n_cells; i++)
        if (occ->density[i] > limit) {
            occ->bits[i >> 6] |= (guint64)1 << (i & 63);
            occ->n_occupied++;
        }
}

void aigc_occupancy_pick(const AigcOccupancy *occ, AigcRng *rng, gint64 n_uniform,
                         gint64 n_from_occupied, gint64 *cells, float *points)
{
    int res = occ->res;
    float size[3];
    cell_size(occ, size);
    for (gint64 i = 0; i < n_uniform + n_from_occupied; i++) {
        gint64 cell = (gint64)(aigc_rng_u64(rng) % (guint64)occ->n_cells);
        if (i >= n_uniform && occ->n_occupied > 0) {
            /* A few tries at a random occupied cell; a uniform one if they all miss. */
            for (int attempt = 0; attempt < 64 && !aigc_occupancy_get(occ, cell); attempt++)
                cell = (gint64)(aigc_rng_u64(rng) % (guint64)occ->n_cells);
        }
        cells[i] = cell;
        gint64 c[3] = {cell % res, (cell / res) % res, cell / ((gint64)res * res)};
        for (int a = 0; a < 3; a++)
            points[3 * i + a] = occ->aabb_min[a] + ((float)c[a] + aigc_rng_uniform(rng)) * size[a];
    }
}

void aigc_occupancy_update(AigcOccupancy *occ, gint64 n, const gint64 *cells,
                           const float *densities, float decay, float threshold)
{
    for (gint64 i = 0; i < occ->n_cells; i++)
        occ->density[i] *= decay;
    for (gint64 i = 0; i < n; i++) {
        float v = isfinite(densities[i]) ? densities[i] : NONFINITE_DENSITY;
        occ->density[cells[i]] = MAX(occ->density[cells[i]], v);
    }
    aigc_occupancy_refresh_bits(occ, threshold);
}

gboolean aigc_occupancy_clip(const AigcOccupancy *occ, const float o[3], const float d[3],
                             float t_near, float *t_enter, float *t_exit)
{
    float t0 = t_near, t1 = G_MAXFLOAT;
    for (int a = 0; a < 3; a++) {
        if (d[a] == 0.0f) {
            if (o[a] < occ->aabb_min[a] || o[a] > occ->aabb_max[a])
                return FALSE;
            continue;
        }
        float inv = 1.0f / d[a];
        float ta = (occ->aabb_min[a] - o[a]) * inv, tb = (occ->aabb_max[a] - o[a]) * inv;
        if (ta > tb) {
            float s = ta;
            ta = tb;
            tb = s;
        }
        t0 = MAX(t0, ta);
        t1 = MIN(t1, tb);
    }
    *t_enter = t0;
    *t_exit = t1;
    return t0 < t1;
}

int aigc_occupancy_march(const AigcOccupancy *occ, const float o[3], const float d[3],
                         float t_enter, float t_exit, float dt, float jitter, int max_samples,
                         float *t_out)
{
    float t = t_enter + jitter * dt;
    if (!(t < t_exit) || max_samples <= 0)
        return 0;
    const int res = occ->res;
    const gint64 stride[3] = {1, res, (gint64)res * res};
    float size[3];
    cell_size(occ, size);
    /* The cell of the first sample, then the distance to each axis's next boundary. */
    int c[3], step[3];
    float inv_d[3], t_bound[3];
    gint64 cell = 0;
    for (int a = 0; a < 3; a++) {
        int ci = (int)floorf((o[a] + t * d[a] - occ->aabb_min[a]) * (1.0f / size[a]));
        c[a] = CLAMP(ci, 0, res - 1);
        cell += c[a] * stride[a];
        step[a] = d[a] > 0.0f ? 1 : (d[a] < 0.0f ? -1 : 0);
        inv_d[a] = step[a] ? 1.0f / d[a] : 0.0f;
        t_bound[a] = step[a]
                         ? (occ->aabb_min[a] + (c[a] + (step[a] > 0)) * size[a] - o[a]) * inv_d[a]
                         : G_MAXFLOAT;
    }
    int n = 0;
    float t_in = -G_MAXFLOAT; /* where the ray entered the current cell */
    for (;;) {
        int axis = t_bound[0] < t_bound[1] ? (t_bound[0] < t_bound[2] ? 0 : 2)
                                           : (t_bound[1] < t_bound[2] ? 1 : 2);
        float t_leave = t_bound[axis];
        if (aigc_occupancy_get(occ, cell)) {
            if (t < t_in) {
                /* Back from empty cells: the first lattice point in this one. */
                float k = ceilf((t_in - t_enter) / dt - jitter);
                float t_next = t_enter + (k + jitter) * dt;
                t = t_next > t ? t_next : t;
            }
            for (; t < t_leave && t < t_exit; t += dt) {
                if (n == max_samples)
                    return n;
                if (t_out)
                    t_out[n] = t;
                n++;
            }
        }
        if (!(t_leave < t_exit))
            break;
        c[axis] += step[axis];
        if (c[axis] < 0 || c[axis] >= res)
            break;
        cell += step[axis] * stride[axis];
        t_in = t_leave;
        t_bound[axis] =
            (occ->aabb_min[axis] + (c[axis] + (step[axis] > 0)) * size[axis] - o[axis]) *
            inv_d[axis];
    }
    return n;
}
