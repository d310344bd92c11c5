/* SPDX-License-Identifier: MIT
 *
 * A neural radiance field that trains on two CPU cores (instant-ngp's recipe): the hash-grid
 * field of aigc-nerf-field.h inside the dataset's scene box, an occupancy grid that keeps samples
 * out of empty space, early ray termination, and Adam with its own learning rate for the hash
 * tables. AigcNerf is the scene (field + occupancy) and renders views; AigcNerfTrainer owns the
 * optimisers and the per-step buffers and improves an AigcNerf from an AigcTransforms dataset.
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "io/aigc-transforms.h"
#include "models/nerf/aigc-nerf-field.h"
#include "models/nerf/aigc-occupancy.h"

G_BEGIN_DECLS

typedef struct {
    AigcNerfFieldConfig field;
    int occupancy_res;       /* cells per side of the occupancy grid (64) */
    int n_steps;             /* marching steps along the box diagonal: dt = diagonal / n_steps */
    int max_samples_per_ray; /* cap per ray */
} AigcNerfConfig;

AigcNerfConfig aigc_nerf_default_config(void);

typedef struct {
    AigcNerfConfig config;
    AigcNerfField *field;
    AigcOccupancy *occupancy;
    float aabb_min[3], aabb_max[3];
    float dt;                           /* marching step, world units */
    float density_threshold;            /* occupancy: σ·(diagonal / 1024) = 0.01 */
    struct _AigcNerfRenderer *renderer; /* (lazily made) scratch of aigc_nerf_render */
} AigcNerf;

/* (internal) Frees the renderer's scratch (aigc-nerf-render.c). */
void aigc_nerf_renderer_free(struct _AigcNerfRenderer *renderer);

/* World point → the unit cube of the scene box (the hash grid's domain). */
static inline void aigc_nerf_to_unit(const AigcNerf *nerf, const float p[3], float x[3])
{
    for (int a = 0; a < 3; a++)
        x[a] = (p[a] - nerf->aabb_min[a]) / (nerf->aabb_max[a] - nerf->aabb_min[a]);
}

/* (transfer full) (nullable) A scene in the box [aabb_min, aabb_max]; weights zero (call
 * aigc_nerf_init_weights) and every occupancy cell occupied. */
AigcNerf *aigc_nerf_new(const AigcNerfConfig *config, const float aabb_min[3],
                        const float aabb_max[3], GError **error);
void aigc_nerf_free(AigcNerf *nerf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcNerf, aigc_nerf_free)
void aigc_nerf_init_weights(AigcNerf *nerf, guint64 seed);

/* Densities at world points (n, 3) into sigma (n), using `batch` as scratch in chunks. */
void aigc_nerf_density_at(AigcNerf *nerf, AigcNerfBatch *batch, gint64 n, const float *points,
                          float *sigma);

/* Renders a view: rgb (height, width, 3) composited on `background`; depth (height, width,
 * nullable) the expected distance along each ray, and opacity (nullable) Σ w. Pixel centres at
 * x + 0.5. Uses the scene's scratch: one render at a time per scene. */
void aigc_nerf_render(AigcNerf *nerf, const AigcPinhole *camera, const double c2w[16],
                      const float background[3], float *rgb, float *depth, float *opacity);

/* Mean over frames of each frame's PSNR (dB) against the dataset composited on its background;
 * mse (nullable) gets the mean squared error over all pixels. */
double aigc_nerf_eval_psnr(AigcNerf *nerf, const AigcTransforms *data, double *mse);

/* Adds the scene (config metadata, weights, occupancy densities; F32, borrowed until the write)
 * to a writer. The format is described in aigc-nerf-io.c. */
gboolean aigc_nerf_save(AigcNerf *nerf, AigcSafetensorsWriter *writer, GError **error);
/* The same with the hash tables stored as table_dtype (F32 or F16). */
gboolean aigc_nerf_save_as(AigcNerf *nerf, AigcSafetensorsWriter *writer, AigcDtype table_dtype,
                           GError **error);
/* (transfer full) (nullable) A scene from a file written by aigc_nerf_save(): the config is
 * checked, and every tensor must be present, shaped as the config says and finite. */
AigcNerf *aigc_nerf_load(AigcSafetensors *st, GError **error);

/* ---- training ---- */

typedef struct {
    float lr_grid;           /* Adam learning rate of the hash tables */
    float lr_mlp;            /* … and of the MLPs */
    float beta1, beta2, eps; /* Adam; instant-ngp: 0.9, 0.99, 1e-15 */
    gint64 samples_per_step; /* marched samples per step (the ray count adapts to it) */
    gint64 max_rays_per_step;
    int occupancy_interval; /* refresh the occupancy grid every this many steps */
    int occupancy_warmup;   /* before this step every cell is re-measured at each refresh */
    float occupancy_decay;
    gboolean random_background; /* composite transparent pixels on random colours */
    guint64 seed;
} AigcNerfTrainParams;

AigcNerfTrainParams aigc_nerf_default_train_params(void);

typedef struct {
    double mse; /* over the step's rays (on the step's backgrounds) */
    gint64 n_rays;
    gint64 n_samples; /* marched */
    gint64 n_used;    /* before each ray became opaque */
    double occupied;  /* fraction of occupancy cells occupied */
} AigcNerfStepStats;

typedef struct _AigcNerfTrainer AigcNerfTrainer;

/* (transfer full) A trainer for `nerf` (borrowed; must outlive it). */
AigcNerfTrainer *aigc_nerf_trainer_new(AigcNerf *nerf, const AigcNerfTrainParams *params);
void aigc_nerf_trainer_free(AigcNerfTrainer *trainer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcNerfTrainer, aigc_nerf_trainer_free)
gint64 aigc_nerf_trainer_get_step(AigcNerfTrainer *trainer);

/* Adds the trainer's state (Adam moments and step counts under "optim.grid." and
 * "optim.mlp.", and "nerf.train" metadata: step, samples per ray) to a writer that holds the
 * scene, so a run resumes where it stopped. Borrowed until the write. */
gboolean aigc_nerf_trainer_save(AigcNerfTrainer *trainer, AigcSafetensorsWriter *writer,
                                GError **error);
/* Restores that state into a trainer made for the loaded scene. On failure the trainer's
 * optimisers are left fresh (step 0, zero moments), never half restored. */
gboolean aigc_nerf_trainer_load(AigcNerfTrainer *trainer, AigcSafetensors *st, GError **error);

/* One optimisation step on random pixels of `data` (images loaded). stats nullable. */
void aigc_nerf_trainer_step(AigcNerfTrainer *trainer, const AigcTransforms *data,
                            AigcNerfStepStats *stats);

G_END_DECLS
