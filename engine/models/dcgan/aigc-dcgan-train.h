/* SPDX-License-Identifier: MIT
 *
 * Training the class-conditional DCGAN on Fashion-MNIST as an engine job:
 * `aigc train image --model dcgan --data fashion`. Each step trains the discriminator on a batch
 * of real images (scaled to [−1, 1]) and on the generator's images for the same classes, then
 * the generator through the updated discriminator (the non-saturating loss of Goodfellow et al.);
 * Adam with β₁ = 0.5 for both, as DCGAN. An exponential moving average of the generator's
 * weights is what the model file holds and what samples are drawn from (with batch-norm
 * statistics recomputed for it). Progress shows both losses, images/s and the time left; a PNG
 * grid (one row per class, one latent per column) every sample_every steps; a CSV log with the
 * discriminator's mean verdicts on real and generated images; atomic checkpoints; --resume; and
 * on cancel a save before it stops. The same seed gives the same model, and a resumed run ends
 * with the weights of an uninterrupted one.
 */
#pragma once

#include "jobs/aigc-job.h"
#include "models/dcgan/aigc-dcgan.h"

G_BEGIN_DECLS

typedef struct {
    char *data_dir;     /* (nullable) Fashion-MNIST folder; NULL = AIGC_FASHION_MNIST_DIR */
    char *output;       /* the model file; its checkpoint is OUTPUT.ckpt, its log OUTPUT.csv,
                         * its sample grids STEM.step-NNNNNNN.png (STEM: OUTPUT without
                         * .safetensors) */
    char *title;        /* (nullable) shown in model lists */
    char *command_line; /* (nullable) recorded in the model's metadata */
    AigcDcganConfig config;
    int batch_size;
    gint64 steps;
    float lr_g, lr_d;     /* Adam learning rates of the generator and the discriminator */
    float lr_final;       /* the last step's rate as a fraction of the first (half cosine);
                           * 1 = constant */
    float beta1;          /* Adam β₁ of both (β₂ 0.999) */
    float real_label;     /* the discriminator's target for real images (1; 0.9 = one-sided
                           * label smoothing) */
    float ema_decay;      /* of the generator's weight average (with warm-up); 0 = none */
    gboolean flip;        /* random horizontal flips of training images */
    gint64 sample_every;  /* steps between sample grids; 0 = only at the end */
    int sample_columns;   /* images per class (row) in a grid */
    gint64 checkpoint_every;
    guint64 seed;
    gboolean resume;
    gint64 limit_train; /* use only the first N training images (0 = all; tests) */
    AigcDtype save_dtype;
} AigcDcganTrainParams;

/* (transfer full) The defaults: batch 64, 10,000 steps, lr 2e-4 for both, constant, β₁ 0.5,
 * real label 1, EMA 0.999, no flips, a grid of 8 per class every 500 steps, checkpoint every
 * 250, seed 1. */
AigcDcganTrainParams *aigc_dcgan_train_params_new(void);
void aigc_dcgan_train_params_free(AigcDcganTrainParams *params);
/* Applies "key=value": training keys (batch_size, steps, lr, lr_g, lr_d, lr_final, beta1,
 * real_label, ema_decay, flip, sample_every, sample_columns, checkpoint_every, seed,
 * limit_train, dtype) or model keys (see aigc_dcgan_config_set); "lr" sets both rates. */
gboolean aigc_dcgan_train_params_set(AigcDcganTrainParams *params, const char *key,
                                     const char *value, GError **error);

/* What the job leaves as its result. */
typedef struct {
    gint64 steps_done;
    double loss_d, loss_g; /* means over the last 100 steps */
    double seconds;
    char *samples_path; /* (nullable) the last sample grid written */
} AigcDcganTrainResult;

void aigc_dcgan_train_result_free(AigcDcganTrainResult *result);

/* (transfer full) Takes ownership of params. */
AigcJob *aigc_dcgan_train_job_new(AigcDcganTrainParams *params);

G_END_DECLS
