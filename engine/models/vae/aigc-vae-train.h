/* SPDX-License-Identifier: MIT
 *
 * Training the class-conditional VAE on Fashion-MNIST as an engine job:
 * `aigc train image --model vae --data fashion`. The negative evidence lower bound per image
 * (aigc-vae.h) on the 60,000 training images in [0, 1], the KL term's weight ramped up from 0 to
 * β over kl_warmup steps; Adam with warm-up + cosine, optional gradient clipping; progress with
 * the loss, its two terms, images/s and the time left; a PNG grid of samples from the prior
 * (one row per class, one latent per column) every sample_every steps; a CSV log; atomic
 * checkpoints; --resume; and on cancel a save before it stops. The same seed gives the same
 * model, and a resumed run ends with the weights of an uninterrupted one.
 */
#pragma once

#include "jobs/aigc-job.h"
#include "models/vae/aigc-vae.h"

G_BEGIN_DECLS

typedef struct {
    char *data_dir;     /* (nullable) Fashion-MNIST folder; NULL = AIGC_FASHION_MNIST_DIR */
    char *output;       /* the model file; its checkpoint is OUTPUT.ckpt, its log OUTPUT.csv,
                         * its sample grids STEM.step-NNNNNNN.png (STEM: OUTPUT without
                         * .safetensors) */
    char *title;        /* (nullable) shown in model lists */
    char *command_line; /* (nullable) recorded in the model's metadata */
    AigcVaeConfig config;
    int batch_size;
    gint64 steps;
    float lr, lr_min;
    gint64 warmup;
    float beta;          /* the KL term's weight (1: the evidence lower bound) */
    gint64 kl_warmup;    /* steps over which that weight grows from 0 to beta; 0 = none */
    float grad_clip;     /* global gradient-norm limit; 0 = off */
    gboolean flip;       /* random horizontal flips of training images */
    gint64 sample_every; /* steps between sample grids; 0 = only at the end */
    int sample_columns;  /* images per class (row) in a grid */
    gint64 checkpoint_every;
    guint64 seed;
    gboolean resume;
    gint64 limit_train; /* use only the first N training images (0 = all; tests) */
    AigcDtype save_dtype;
} AigcVaeTrainParams;

/* (transfer full) The defaults: batch 64, 20,000 steps, lr 1e-3 → 1e-5, warm-up 200, β 1, no KL
 * warm-up, no clipping, no flips, a grid of 8 per class every 1,000 steps, checkpoint every
 * 500, seed 1. */
AigcVaeTrainParams *aigc_vae_train_params_new(void);
void aigc_vae_train_params_free(AigcVaeTrainParams *params);
/* Applies "key=value": training keys (batch_size, steps, lr, lr_min, warmup, beta, kl_warmup,
 * grad_clip, flip, sample_every, sample_columns, checkpoint_every, seed, limit_train, dtype) or
 * model keys (see aigc_vae_config_set). */
gboolean aigc_vae_train_params_set(AigcVaeTrainParams *params, const char *key, const char *value,
                                   GError **error);

/* What the job leaves as its result. */
typedef struct {
    gint64 steps_done;
    double loss, recon, kl; /* means over the last 100 steps */
    double seconds;
    char *samples_path; /* (nullable) the last sample grid written */
} AigcVaeTrainResult;

void aigc_vae_train_result_free(AigcVaeTrainResult *result);

/* (transfer full) Takes ownership of params. */
AigcJob *aigc_vae_train_job_new(AigcVaeTrainParams *params);

G_END_DECLS
