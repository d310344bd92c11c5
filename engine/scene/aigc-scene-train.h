/* SPDX-License-Identifier: MIT
 *
 * Training a radiance field on a dataset folder as an engine job: `aigc nerf train` and the
 * Scene panel's Train. The folder holds transforms_train.json and transforms_val.json (or one
 * transforms.json used for both) with their images (aigc-transforms.h). Every eval_every steps
 * the whole validation split is rendered at full size and its PSNR reported (a "psnr" values
 * preview: step, validation PSNR, training seconds), with the first validation view as an image
 * preview; between evaluations a half-size preview of that view every preview_every steps shows
 * the scene sharpening. Training seconds exclude evaluation and previews, so "time to 25 dB" is
 * the optimiser's own time. Atomic checkpoints (OUTPUT.ckpt), --resume, a CSV log
 * (OUTPUT.csv); on cancel the scene is saved before the job stops.
 *
 * The scene file (OUTPUT) is the field, its occupancy grid, "nerf.view" (the orbit the
 * dataset's cameras sit on, aigc-orbit.h), "nerf.background", "title", "data", "training" (a
 * JSON of model, steps, seconds, validation PSNR, time to 25 dB) and "command".
 *
 * The field is the hash-grid NeRF (model=hashgrid, the default; aigc-nerf.h) or the original
 * positional-encoding NeRF (model=pe; aigc-nerf-pe.h), trained by the same job with the same
 * previews, evaluations, checkpoints and files.
 */
#pragma once

#include "jobs/aigc-job.h"
#include "models/nerf/aigc-nerf-pe.h"
#include "models/nerf/aigc-nerf.h"
#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

typedef enum {
    AIGC_SCENE_MODEL_HASHGRID, /* aigc-nerf.h */
    AIGC_SCENE_MODEL_PE,       /* aigc-nerf-pe.h */
} AigcSceneModel;

typedef struct {
    char *dataset;      /* the dataset folder (or one of its transforms*.json) */
    char *output;       /* the scene file */
    char *title;        /* (nullable) */
    char *command_line; /* (nullable) recorded in the scene */
    AigcNerfConfig config;
    AigcNerfTrainParams train;
    gint64 steps;
    gint64 eval_every;       /* steps between validation PSNRs; 0 = only at the end */
    gint64 preview_every;    /* steps between half-size previews; 0 = none */
    gint64 checkpoint_every; /* steps between checkpoints */
    gint64 val_views;        /* validate on the first N views only (0 = all) */
    gboolean resume;
    float background[3]; /* what transparent pixels show in evaluation and the saved scene */
    AigcDtype save_dtype; /* of the hash tables in the scene file (F32 or F16) */
    AigcSceneModel model;
    AigcNerfPeConfig pe_config;     /* model=pe */
    AigcNerfPeTrainParams pe_train; /* its decay_steps 0: the learning rate decays over `steps` */
} AigcSceneTrainParams;

/* (transfer full) 2,500 steps, validation every 250, preview every 25, checkpoint every 250,
 * white background, F16 tables; the field and training defaults of aigc-nerf.h. */
AigcSceneTrainParams *aigc_scene_train_params_new(void);
void aigc_scene_train_params_free(AigcSceneTrainParams *params);
/* Applies "key=value": model (hashgrid|pe), steps, eval_every, preview_every, checkpoint_every,
 * seed, val_views, background (white|black); for the hash grid lr_grid, lr_mlp,
 * samples_per_step, levels, features, log2_table, base_res, finest_res, density_hidden,
 * colour_hidden, occupancy_res, n_steps, dtype (f32|f16); for pe depth, width, skip,
 * colour_width, pos_freqs, dir_freqs, density (softplus|relu), n_coarse, n_fine, rays_per_step,
 * lr, lr_final, decay_steps, coarse_weight. */
gboolean aigc_scene_train_params_set(AigcSceneTrainParams *params, const char *key,
                                     const char *value, GError **error);

typedef struct {
    gint64 steps_done;
    double train_seconds;  /* optimiser time, over all sittings of the run */
    double val_psnr;       /* of the last evaluation (dB), NAN if none */
    double time_to_25db;   /* training seconds when validation first reached 25 dB; −1 never */
} AigcSceneTrainResult;

/* (transfer full) Takes ownership of params. */
AigcJob *aigc_scene_train_job_new(AigcSceneTrainParams *params);

G_END_DECLS
