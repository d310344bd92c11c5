/* SPDX-License-Identifier: MIT
 *
 * Training Tacotron 2 as an engine job: `aigc train speech`. Reads a speech corpus
 * (aigc-speech-corpus.h: DATA/train.txt + DATA/train/NAME.wav, and the test split for validation
 * when present), batches utterances of similar length (buckets reshuffled each epoch from the
 * seed), trains with Adam (warm-up, then exponential decay), clips gradients, and reports loss,
 * utterances per second and time left. Every align_every steps it writes the alignment of one
 * training utterance as a PNG (OUTPUT-align/step-NNNNNNN.png, and a preview for the UI) with its
 * focus rate (the mean of each step's largest attention weight: near 1 when the attention is a
 * sharp diagonal). Validation loss on the test split every eval_every steps, a CSV log
 * (OUTPUT.csv), atomic checkpoints (OUTPUT.ckpt), --resume, and on cancel a save before it
 * stops. The batch sequence and the dropout masks depend only on the seed and the step, so a
 * resumed run continues the same run.
 */
#pragma once

#include "jobs/aigc-job.h"
#include "models/tacotron2/aigc-tacotron2.h"

G_BEGIN_DECLS

typedef struct {
    char *data_dir;     /* the corpus folder */
    char *cache_dir;    /* (nullable) feature cache; default DATA/features-cache */
    char *output;       /* the model file; OUTPUT.ckpt, OUTPUT.csv, OUTPUT-align/ beside it */
    char *title;        /* (nullable) shown in model lists */
    char *command_line; /* (nullable) recorded in the model's metadata */
    AigcTacotron2Config model;
    AigcTacotron2LossParams loss;
    int batch_size;          /* utterances per step (16) */
    gint64 steps;            /* (40,000) */
    float lr, lr_min;        /* peak and floor (1e-3, 1e-5) */
    gint64 warmup;           /* linear warm-up steps (200) */
    gint64 decay_start;      /* exponential decay starts here (10,000) … */
    gint64 half_life;        /* … and halves the rate every this many steps (10,000) */
    float weight_decay;      /* L2 added to the gradient, as Adam's weight_decay (1e-6) */
    float grad_clip;         /* global norm (1.0) */
    int max_frames;          /* utterances longer than this are left out (1,000 = 16 s) */
    gint64 eval_every;       /* validation loss every N steps (1,000; 0 = never) */
    gint64 checkpoint_every; /* (250) */
    gint64 align_every;      /* alignment image every N steps (250; 0 = never) */
    guint64 seed;            /* (1) */
    gboolean resume;
    AigcDtype save_dtype; /* of OUTPUT (F32) */
} AigcTacotron2TrainParams;

/* (transfer full) The defaults above; the model config is aigc_tacotron2_default_config(). */
AigcTacotron2TrainParams *aigc_tacotron2_train_params_new(void);
void aigc_tacotron2_train_params_free(AigcTacotron2TrainParams *params);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcTacotron2TrainParams, aigc_tacotron2_train_params_free)
/* Applies "key=value": training keys (batch_size, steps, lr, lr_min, warmup, decay_start,
 * half_life, weight_decay, grad_clip, max_frames, eval_every, checkpoint_every, align_every,
 * seed, dtype), loss keys (stop_pos_weight, guided_weight, guided_sigma) or model keys (see
 * aigc_tacotron2_config_set; n_symbols and n_mels come from the vocabulary and features). */
gboolean aigc_tacotron2_train_params_set(AigcTacotron2TrainParams *params, const char *key,
                                         const char *value, GError **error);
/* The learning rate of a step: linear warm-up, flat, then halving every half_life steps from
 * decay_start, never below lr_min. */
float aigc_tacotron2_train_lr(const AigcTacotron2TrainParams *params, gint64 step);

/* The focus rate of an alignment [n_steps, n_symbols]: the mean over steps of the largest
 * weight. 1 for a one-hot (sharp) alignment, 1 / n_symbols for a uniform one. */
double aigc_tacotron2_focus_rate(const float *alignment, int n_steps, int n_symbols);
/* (transfer full) An RGBA image of an alignment [n_steps, n_symbols] (decoder steps left to
 * right, symbols bottom to top, `scale` pixels a cell), as width × height × 4 bytes. */
guint8 *aigc_tacotron2_alignment_rgba(const float *alignment, int n_steps, int n_symbols, int scale,
                                      int *width, int *height);

typedef struct {
    gint64 steps_done;
    double train_loss; /* mean over the last 50 steps */
    double val_loss;   /* teacher-forced total loss on the test split; < 0 when not measured */
    double focus_rate; /* of the last alignment image's utterance */
    double seconds;
} AigcTacotron2TrainResult;

/* (transfer full) Takes ownership of params. */
AigcJob *aigc_tacotron2_train_job_new(AigcTacotron2TrainParams *params);

G_END_DECLS
