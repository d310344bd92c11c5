/* SPDX-License-Identifier: MIT
 *
 * Training a text model as an engine job: `aigc train text`. Reads a corpus, builds or reuses a
 * tokenizer, trains with AdamW (warm-up + cosine), clips gradients, reports loss and tokens/s,
 * measures validation bits per character every N steps, writes a CSV log and atomic checkpoints,
 * resumes from a checkpoint, and on cancel saves before it stops. The same seed gives the same
 * model.
 */
#pragma once

#include "jobs/aigc-job.h"
#include "models/gpt/aigc-gpt.h"
#include "models/rnnlm/aigc-rnnlm.h"

G_BEGIN_DECLS

typedef struct {
    char *family;        /* "gpt", "lstm", "gru", "rnn" or "ngram" */
    char *corpus;        /* training text (UTF-8) */
    char *val_corpus;    /* (nullable) validation text; default: corpus with .train → .val */
    char *output;        /* the model file; its checkpoint is OUTPUT.ckpt */
    char *tokenizer;     /* "char" (default), "byte" or "bpe:N" */
    char *title;         /* (nullable) shown in model lists */
    char *command_line;  /* (nullable) recorded in the model's metadata */
    AigcGptConfig gpt;
    AigcRnnlmConfig rnnlm; /* lstm, gru, rnn (cell set from the family) */
    int batch_size;      /* sequences per step */
    int seq_len;         /* tokens per sequence (≤ gpt/rnnlm.max_seq_len) */
    gint64 steps;
    float lr, lr_min;
    gint64 warmup;
    float weight_decay;
    float grad_clip;     /* 0 = off */
    gint64 eval_every;   /* steps between validation measurements; 0 = only at the end */
    gint64 eval_chars;   /* characters of validation text used during training (0 = all) */
    gint64 checkpoint_every;
    guint64 seed;
    gboolean resume;
    char *init_from;     /* (nullable) fine-tune: start from this model file's weights and
                          * tokenizer (its architecture wins), with a new schedule from step 0 */
    char *log_csv;       /* (nullable) default OUTPUT.csv */
    AigcDtype save_dtype;
    int ngram_order;     /* n-gram: order (6) */
    int ngram_prune;     /* n-gram: drop n-grams of order ≥ 3 seen at most this often (1) */
} AigcTextTrainParams;

/* (transfer full) Defaults for a family ("gpt", "lstm", "gru", "rnn", "ngram"). */
AigcTextTrainParams *aigc_text_train_params_new(const char *family);
void aigc_text_train_params_free(AigcTextTrainParams *params);
/* Applies "key=value": training keys (batch_size, seq_len, steps, lr, lr_min, warmup,
 * weight_decay, grad_clip, eval_every, eval_chars, checkpoint_every, seed, tokenizer, dtype)
 * or model keys (see aigc_gpt_config_set, or aigc_rnnlm_config_set for lstm, gru, rnn). */
gboolean aigc_text_train_params_set(AigcTextTrainParams *params, const char *key,
                                    const char *value, GError **error);

/* What the job leaves as its result. */
typedef struct {
    gint64 steps_done;
    double train_loss;       /* nats per token, last step */
    double val_bits_per_char; /* on the whole validation text */
    double seconds;
} AigcTextTrainResult;

/* (transfer full) Takes ownership of params. */
AigcJob *aigc_text_train_job_new(AigcTextTrainParams *params);

G_END_DECLS
