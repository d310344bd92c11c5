/* SPDX-License-Identifier: MIT
 *
 * The radiance field of the NeRF model (instant-ngp's layout): a point's hash-grid encoding
 * goes through the density MLP (one hidden ReLU layer) to 16 numbers — the first is the log
 * density, σ = exp(·), and all 16 are the geometry features; those and the degree-4 spherical
 * harmonics of the view direction go through the colour MLP (two hidden ReLU layers) to RGB
 * through a sigmoid.
 *
 * Work happens on batches of samples held in an AigcNerfBatch: the density stage runs on every
 * sample, the caller may then drop samples (aigc_nerf_batch_compact, e.g. those behind an
 * opaque surface), and the colour stage and the backward pass run on what is left.
 */
#pragma once

#include "models/nerf/aigc-hashgrid.h"
#include "models/nerf/aigc-nerf-dense.h"
#include "tensor/aigc-params.h"

G_BEGIN_DECLS

#define AIGC_NERF_GEO_DIM         16 /* density MLP outputs: log density + 15 features */
#define AIGC_NERF_SH_DIM          16 /* spherical harmonics up to degree 4 (l = 0 … 3) */
#define AIGC_NERF_COLOUR_IN       (AIGC_NERF_GEO_DIM + AIGC_NERF_SH_DIM)
#define AIGC_NERF_MAX_HIDDEN      256
#define AIGC_NERF_LOG_DENSITY_MAX 15.0f /* σ = exp(min(raw, this)) */
#define AIGC_NERF_CHUNK           128   /* rows the stages work on at a time */

typedef struct {
    AigcHashgridConfig grid;
    int density_hidden; /* Hd: width of the density MLP's hidden layer */
    int colour_hidden;  /* Hc: width of the colour MLP's two hidden layers */
} AigcNerfFieldConfig;

AigcNerfFieldConfig aigc_nerf_field_default_config(void);

/* Named pointers into the flat parameter buffers (values or gradients); shapes as nn.Linear,
 * (out, in). */
typedef struct {
    float *table; /* (n_entries, F) hash-grid features */
    float *d_w1;  /* (Hd, E) E = L·F */
    float *d_b1;  /* (Hd) */
    float *d_w2;  /* (16, Hd) */
    float *d_b2;  /* (16) */
    float *c_w1;  /* (Hc, 32) */
    float *c_b1;  /* (Hc) */
    float *c_w2;  /* (Hc, Hc) */
    float *c_b2;  /* (Hc) */
    float *c_w3;  /* (3, Hc) */
    float *c_b3;  /* (3) */
} AigcNerfWeights;

typedef struct {
    AigcNerfFieldConfig config;
    AigcHashgrid grid;
    AigcParams *grid_params; /* "encoding.table": the hash tables, their own optimiser group */
    AigcParams *mlp_params;  /* "density.*", "colour.*" */
    AigcNerfWeights w;       /* values */
    AigcNerfWeights g;       /* gradients */
} AigcNerfField;

/* (transfer full) (nullable) Parameters allocated, zero; NULL + error for a bad config. */
AigcNerfField *aigc_nerf_field_new(const AigcNerfFieldConfig *config, GError **error);
void aigc_nerf_field_free(AigcNerfField *field);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcNerfField, aigc_nerf_field_free)
/* instant-ngp's initialisation: table uniform ±1e-4, weights Xavier-uniform, biases zero. */
void aigc_nerf_field_init_weights(AigcNerfField *field, guint64 seed);

/* The MLP weights packed for the kernels of aigc-nerf-dense.h: the layers (forward) and, for
 * the backward pass, the weights as they multiply a layer's output gradient (dx = dz·W). */
typedef struct {
    AigcNerfDense d1, d2, c1, c2, c3;                          /* Wᵀ */
    AigcNerfDense d1_back, d2_back, c1_back, c2_back, c3_back; /* W; c1_back: geo columns only */
} AigcNerfPacked;

/* Activations of up to `capacity` samples; rows are samples. */
typedef struct {
    gint64 capacity;
    int E, Hd, Hc;
    float *x;     /* (n, 3) positions in the unit cube of the scene box */
    float *dir;   /* (n, 3) unit view directions (world) */
    float *enc;   /* (n, E) */
    float *h1;    /* (n, Hd) after ReLU */
    float *geo;   /* (n, 16) density MLP output; geo[0] is the log density */
    float *sigma; /* (n) density */
    float *cin;   /* (n, 32) [geo, SH(dir)] */
    float *h2;    /* (n, Hc) */
    float *h3;    /* (n, Hc) */
    float *rgb;   /* (n, 3) after the sigmoid */
    /* training only (NULL for inference) */
    float *d_enc;       /* (n, E) ∂L/∂enc for the hash-grid backward */
    int n_slots;        /* workers of the backward pass (the thread budget at creation) */
    float *slot_work;   /* (n_slots, chunk scratch) */
    int n_groups;       /* groups of chunks of the backward pass, for `capacity` samples */
    float *group_grads; /* (n_groups, MLP parameters) each group's weight gradients */
    gint64 n_mlp;
    AigcNerfPacked packed; /* refreshed from the field at the start of each stage */
} AigcNerfBatch;

/* (transfer full) Room for `capacity` samples (about 1.1 KiB each with the default widths);
 * `training` adds the backward pass's buffers (another 128 bytes per sample). */
AigcNerfBatch *aigc_nerf_batch_new(const AigcNerfField *field, gint64 capacity, gboolean training);
void aigc_nerf_batch_free(AigcNerfBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcNerfBatch, aigc_nerf_batch_free)

/* The spherical-harmonics encoding of unit directions: out (n, 16), row stride `ld`. */
void aigc_nerf_sh_encode(gint64 n, const float *dir, float *out, int ld);

/* Density stage on samples [0, n) of batch->x: enc, h1, geo, sigma. */
void aigc_nerf_field_density(const AigcNerfField *field, AigcNerfBatch *batch, gint64 n);
/* Keeps samples keep[0 … n_keep) (increasing indices) as rows 0 … n_keep of x, dir, enc, h1,
 * geo and sigma, in place. */
void aigc_nerf_batch_compact(AigcNerfBatch *batch, const gint64 *keep, gint64 n_keep);
/* Colour stage on samples [0, n) of batch->geo and batch->dir: cin, h2, h3, rgb. */
void aigc_nerf_field_colour(const AigcNerfField *field, AigcNerfBatch *batch, gint64 n);
/* Adds ∂L/∂parameters to the field's gradients given d_rgb (n, 3) and d_sigma (n) for the
 * samples of the last density (and, with the same n, colour) stage. d_rgb is overwritten. */
void aigc_nerf_field_backward(AigcNerfField *field, AigcNerfBatch *batch, gint64 n, float *d_rgb,
                              const float *d_sigma);

/* ---- inference on the calling thread (for callers that are parallel already) ---- */

/* Room for the packed weights; aigc_nerf_packed_update copies the field's current weights in
 * (again after every change of the weights). */
void aigc_nerf_packed_init(AigcNerfPacked *packed, const AigcNerfField *field);
void aigc_nerf_packed_clear(AigcNerfPacked *packed);
void aigc_nerf_packed_update(AigcNerfPacked *packed, const AigcNerfField *field);

/* Floats of scratch one call of the two functions below needs. */
gsize aigc_nerf_field_rows_scratch(const AigcNerfField *field);
/* geo (n, 16) and sigma (n) at n points x (n, 3) in the unit cube, as aigc_nerf_field_density
 * computes them. */
void aigc_nerf_field_density_rows(const AigcNerfField *field, const AigcNerfPacked *packed,
                                  float *scratch, gint64 n, const float *x, float *geo,
                                  float *sigma);
/* rgb (n, 3) from geo (n, 16) and unit view directions dir (n, 3), as aigc_nerf_field_colour
 * computes it. */
void aigc_nerf_field_colour_rows(const AigcNerfField *field, const AigcNerfPacked *packed,
                                 float *scratch, gint64 n, const float *geo, const float *dir,
                                 float *rgb);

G_END_DECLS
