/* SPDX-License-Identifier: MIT
 *
 * Multiresolution hash encoding (Müller et al., instant-ngp, 2022): L levels of grids from
 * base_res to finest_res cells per side in geometric progression; each level stores F features
 * per grid vertex in a table of at most 2^log2_table entries — indexed densely when the level's
 * (res+1)³ vertices fit, through a spatial hash otherwise. A point's encoding is, per level, the
 * trilinear interpolation of the features at the 8 vertices of its cell: L·F numbers.
 *
 * The table is a flat (n_entries, F) float array owned by the caller (an AigcParams tensor), so
 * optimisers and checkpoints see it as one parameter; levels follow each other in it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AIGC_HASHGRID_MAX_LEVELS   32
#define AIGC_HASHGRID_MAX_FEATURES 8

typedef struct {
    int n_levels;   /* L */
    int n_features; /* F per level */
    int log2_table; /* T = 2^log2_table entries per level at most */
    int base_res;   /* cells per side of the coarsest level */
    int finest_res; /* cells per side of the finest level */
} AigcHashgridConfig;

typedef struct {
    AigcHashgridConfig config;
    int res[AIGC_HASHGRID_MAX_LEVELS];         /* cells per side */
    gint64 offset[AIGC_HASHGRID_MAX_LEVELS];   /* first entry of the level in the table */
    gint64 size[AIGC_HASHGRID_MAX_LEVELS];     /* entries of the level */
    gboolean hashed[AIGC_HASHGRID_MAX_LEVELS]; /* FALSE: dense index */
    gint64 n_entries;                          /* all levels */
} AigcHashgrid;

/* instant-ngp's NeRF setting: 16 levels of 2 features, 2^17 entries, 16 to 512 cells. */
AigcHashgridConfig aigc_hashgrid_default_config(void);
/* FALSE + error (AIGC_ENGINE_ERROR_INVALID) when a number is out of range. */
gboolean aigc_hashgrid_init(AigcHashgrid *grid, const AigcHashgridConfig *config, GError **error);

static inline int aigc_hashgrid_n_outputs(const AigcHashgrid *grid)
{
    return grid->config.n_levels * grid->config.n_features;
}

/* out (n, L·F) = encoding of points x (n, 3) in [0, 1]³ (outside values are clamped), with
 * `table` (n_entries, F). Parallel over points. */
void aigc_hashgrid_forward(const AigcHashgrid *grid, const float *table, gint64 n, const float *x,
                           float *out);

/* The same on the calling thread only (for callers that are already parallel). */
void aigc_hashgrid_encode(const AigcHashgrid *grid, const float *table, gint64 n, const float *x,
                          float *out);

/* dtable += ∂L/∂table given dout (n, L·F) = ∂L/∂out for the same points. Parallel over levels
 * (each thread owns whole levels of the table), so the result does not depend on the thread
 * count and no two threads write the same entry. */
void aigc_hashgrid_backward(const AigcHashgrid *grid, gint64 n, const float *x, const float *dout,
                            float *dtable);

G_END_DECLS
