/* SPDX-License-Identifier: MIT
 *
 * The occupancy grid of the NeRF model (instant-ngp): the scene box cut into res³ cells, each
 * with a running estimate of the largest density inside it and an occupied bit. Ray marching
 * steps through occupied cells only and jumps over empty ones, so samples are spent where
 * there is something to see.
 *
 * The estimate is refreshed every few training steps: every cell decays (× decay), the caller
 * evaluates the density at one random point in each of a set of cells, each of those cells keeps
 * the larger of its decayed value and the new one, and a cell is occupied while its value is
 * above min(threshold, mean of all cells).
 */
#pragma once

#include "tensor/aigc-rng.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    int res;                        /* cells per side */
    float aabb_min[3], aabb_max[3]; /* the scene box, world coordinates */
    float *density;                 /* (res³) cell ix + res·(iy + res·iz) */
    guint64 *bits;                  /* (res³ / 64) occupied bits, same order */
    gint64 n_cells, n_occupied;
    float mean_density;
} AigcOccupancy;

/* (transfer full) A grid of res³ cells (res 8–512, a multiple of 4) with no measurement yet
 * (density 0) and every cell occupied until the first update, so early training samples the
 * whole box. */
AigcOccupancy *aigc_occupancy_new(int res, const float aabb_min[3], const float aabb_max[3]);
void aigc_occupancy_free(AigcOccupancy *occ);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcOccupancy, aigc_occupancy_free)

static inline gboolean aigc_occupancy_get(const AigcOccupancy *occ, gint64 cell)
{
    return (occ->bits[cell >> 6] >> (cell & 63)) & 1;
}

/* Picks n_uniform cells uniformly and n_from_occupied among the occupied ones (uniformly when
 * there are none), and a random point in each: cells (n), points (n, 3) in world coordinates,
 * n = n_uniform + n_from_occupied. */
void aigc_occupancy_pick(const AigcOccupancy *occ, AigcRng *rng, gint64 n_uniform,
                         gint64 n_from_occupied, gint64 *cells, float *points);
/* Decays every cell, merges the densities measured in `cells`, and recomputes the bits. */
void aigc_occupancy_update(AigcOccupancy *occ, gint64 n, const gint64 *cells,
                           const float *densities, float decay, float threshold);
/* Sets every bit from the current densities and threshold (after loading, for instance); a
 * grid with no measurement yet (every density 0) is all occupied. */
void aigc_occupancy_refresh_bits(AigcOccupancy *occ, float threshold);

/* The distances along the ray o + t·d (d unit) where it enters and leaves the box; FALSE when it
 * misses. t_enter ≥ t_near. */
gboolean aigc_occupancy_clip(const AigcOccupancy *occ, const float o[3], const float d[3],
                             float t_near, float *t_enter, float *t_exit);

/* Sample distances along a ray through occupied cells: t = t_enter + (k + jitter)·dt for whole
 * k, skipping empty cells, at most max_samples. Writes t (max_samples) when not NULL and
 * returns the count. */
int aigc_occupancy_march(const AigcOccupancy *occ, const float o[3], const float d[3],
                         float t_enter, float t_exit, float dt, float jitter, int max_samples,
                         float *t);

G_END_DECLS
