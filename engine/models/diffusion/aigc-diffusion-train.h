/* SPDX-License-Identifier: MIT
 *
 * Training the class-conditional diffusion model on Fashion-MNIST as an engine job:
 * `aigc train image --model diffusion --data fashion`. DDPM's ε-prediction loss (aigc-ddpm.h)
 * on the 60,000 training images (scaled to [−1, 1], optionally flipped), the class dropped for
 * classifier-free guidance with probability p_uncond; AdamW with warm-up + cosine, gradient
 * clipping, an exponential moving average of the weights (what the model file holds and what
 * samples are drawn from); progress with loss, images/s and the time left; a PNG grid of
 * samples (one row per class) every sample_every steps; a CSV log; atomic checkpoints; --resume;
 * and on cancel a save before it stops. The same seed gives the same model, and a resumed run
 * ends with the weights of an uninterrupted one.
 */
#pragma once

#include "jobs/aigc-job.h"
#include "models/diffusion/aigc-diffusion.h"

G_BEGIN_DECLS

typedef struct {
    char *data;         /* "fashion" (class-conditional) or "emoji" (text-conditional on each
                         * emoji's name); (nullable) = fashion */
    char *data_dir;     /* (nullable) Fashion-MNIST folder (NULL = AIGC_FASHION_MNIST_DIR), or
                         * the emoji set file (NULL = aigc_emoji_default_path()) */
    char *output;       /* the model file; its checkpoint is OUTPUT.ckpt, its log OUTPUT.csv,
                         * its sample grids STEM.step-NNNNNNN.png (STEM: OUTPUT without
                         * .safetensors) */
    char *title;        /* (nullable) shown in model lists */
    char *command_line; /* (nullable) recorded in the model's metadata */
    AigcDiffusionConfig config;
    int batch_size;
    gint64 steps;
    float lr, lr_min;
    gint64 warmup;
    float weight_decay;  /* AdamW, on conv kernels and weight matrices only */
    float grad_clip;     /* global gradient-norm limit; 0 = off */
    float ema_decay;     /* of the weight average (with warm-up); 0 = no average */
    float p_uncond;      /* probability of training a sample with the null class */
    gboolean flip;       /* random horizontal flips of training images (Fashion-MNIST only:
                          * emoji hold text and arrows) */
    gint64 sample_every; /* steps between sample grids; 0 = only at the end */
    int sample_steps;    /* DDIM steps of a grid */
    int sample_columns;  /* images per class (row) in a grid */
    float sample_guidance;
    gint64 checkpoint_every;
    guint64 seed;
    gboolean resume;
    gint64 limit_train; /* use only the first N training images (0 = all; tests) */
    AigcDtype save_dtype;
} AigcDiffusionTrainParams;

/* (transfer full) The defaults: batch 64, 20,000 steps, lr 5e-4 → 2e-5, warm-up 500, no weight
 * decay, clip 1.0, EMA 0.999, p_uncond 0.1, flips on, a grid of 8 per class (DDIM 25 steps,
 * guidance 3) every 1,000 steps, checkpoint every 250, seed 1. */
AigcDiffusionTrainParams *aigc_diffusion_train_params_new(void);
void aigc_diffusion_train_params_free(AigcDiffusionTrainParams *params);
/* Applies "key=value": training keys (batch_size, steps, lr, lr_min, warmup, weight_decay,
 * grad_clip, ema_decay, p_uncond, flip, sample_every, sample_steps, sample_columns,
 * sample_guidance, checkpoint_every, seed, limit_train, dtype) or model keys (see
 * aigc_diffusion_config_set). */
gboolean aigc_diffusion_train_params_set(AigcDiffusionTrainParams *params, const char *key,
                                         const char *value, GError **error);

/* What the job leaves as its result. */
typedef struct {
    gint64 steps_done;
    double train_loss; /* mean over the last 100 steps */
    double seconds;
    char *samples_path; /* (nullable) the last sample grid written */
} AigcDiffusionTrainResult;

void aigc_diffusion_train_result_free(AigcDiffusionTrainResult *result);

/* (transfer full) Takes ownership of params. */
AigcJob *aigc_diffusion_train_job_new(AigcDiffusionTrainParams *params);

G_END_DECLS
