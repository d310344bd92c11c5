/* SPDX-License-Identifier: MIT
 *
 * Training the Fashion-MNIST classifier as an engine job: `aigc train image --model classifier
 * --data fashion`. Epochs over the 60,000 training images in an order fixed by the seed, random
 * horizontal flips, AdamW with warm-up + cosine, progress with loss and images/s, the test
 * accuracy every eval_every steps (logged, never used to choose anything), a CSV log, atomic
 * checkpoints, --resume, and on cancel a save before it stops. The same seed gives the same
 * model, and a resumed run ends with the weights of an uninterrupted one.
 */
#pragma once

#include "jobs/aigc-job.h"
#include "models/classifier/aigc-classifier.h"

G_BEGIN_DECLS

typedef struct {
    char *data_dir;       /* (nullable) Fashion-MNIST folder; NULL = AIGC_FASHION_MNIST_DIR */
    char *output;         /* the model file; its checkpoint is OUTPUT.ckpt, its log OUTPUT.csv */
    char *title;          /* (nullable) shown in model lists */
    char *command_line;   /* (nullable) recorded in the model's metadata */
    AigcClassifierConfig config;
    int batch_size;
    gint64 steps;
    float lr, lr_min;
    gint64 warmup;
    float weight_decay;   /* AdamW, on conv kernels and weight matrices only */
    gboolean flip;        /* random horizontal flips of training images */
    gint64 eval_every;    /* steps between test-accuracy measurements; 0 = only at the end */
    gint64 checkpoint_every;
    guint64 seed;
    gboolean resume;
    gint64 limit_train;   /* use only the first N training images (0 = all; tests) */
    gint64 limit_test;    /* measure on the first N test images (0 = all; tests) */
    AigcDtype save_dtype;
} AigcClassifierTrainParams;

/* (transfer full) The defaults: batch 64, 4,000 steps (≈ 4.3 epochs), lr 1e-3 → 1e-5, warm-up
 * 200, weight decay 0.05, flips on, eval every 1,000, checkpoint every 250, seed 1. */
AigcClassifierTrainParams *aigc_classifier_train_params_new(void);
void aigc_classifier_train_params_free(AigcClassifierTrainParams *params);
/* Applies "key=value": training keys (batch_size, steps, lr, lr_min, warmup, weight_decay,
 * flip, eval_every, checkpoint_every, seed, limit_train, limit_test, dtype) or model keys (see
 * aigc_classifier_config_set). */
gboolean aigc_classifier_train_params_set(AigcClassifierTrainParams *params, const char *key,
                                          const char *value, GError **error);

/* What the job leaves as its result. */
typedef struct {
    gint64 steps_done;
    double train_loss;    /* mean over the last 100 steps */
    double test_accuracy; /* on the test split (or its first limit_test images) */
    double seconds;
} AigcClassifierTrainResult;

/* (transfer full) Takes ownership of params. */
AigcJob *aigc_classifier_train_job_new(AigcClassifierTrainParams *params);

G_END_DECLS
