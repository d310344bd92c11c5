/* SPDX-License-Identifier: MIT
 *
 * RNN language models: token embedding → a stack of recurrent layers (LSTM, GRU or the tanh
 * Elman RNN) → a linear head over the vocabulary. The weight names are PyTorch's for
 * nn.Embedding "embed", nn.LSTM/GRU/RNN(batch_first) "rnn" and nn.Linear "head", so a model
 * moves between the two by renaming nothing.
 *
 * Training runs on the tape from a zero state over windows of max_seq_len tokens
 * (aigc_rnnlm_loss); generation runs one token at a time on raw kernels and carries the state
 * on, so it has no context limit (aigc_rnnlm_decode).
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "jobs/aigc-job.h"
#include "tensor/aigc-params.h"

G_BEGIN_DECLS

typedef enum {
    AIGC_RNNLM_CELL_LSTM, /* gates i, f, g, o; state h and c */
    AIGC_RNNLM_CELL_GRU,  /* gates r, z, n; state h */
    AIGC_RNNLM_CELL_RNN,  /* tanh; state h */
} AigcRnnlmCell;

/* "lstm", "gru" or "rnn" — also the model file's "family". */
const char *aigc_rnnlm_cell_name(AigcRnnlmCell cell);
/* FALSE when `name` is none of the three. */
gboolean aigc_rnnlm_cell_from_name(const char *name, AigcRnnlmCell *cell);

typedef struct {
    AigcRnnlmCell cell;
    int vocab_size;  /* V */
    int embed_dim;   /* E */
    int hidden_dim;  /* H */
    int n_layers;    /* L */
    int max_seq_len; /* training window (and the window of aigc_rnnlm_total_nll) */
} AigcRnnlmConfig;

AigcRnnlmConfig aigc_rnnlm_default_config(void);
/* FALSE + error when the numbers are out of range. */
gboolean aigc_rnnlm_config_validate(const AigcRnnlmConfig *config, GError **error);
/* Sets a field from "key=value" text (cell, vocab_size, embed_dim, hidden_dim, n_layers,
 * max_seq_len); FALSE + error for unknown keys or bad values. */
gboolean aigc_rnnlm_config_set(AigcRnnlmConfig *config, const char *key, const char *value,
                               GError **error);
char *aigc_rnnlm_config_to_json(const AigcRnnlmConfig *config);
gboolean aigc_rnnlm_config_from_json(AigcRnnlmConfig *config, const char *json, GError **error);

typedef struct _AigcRnnlm AigcRnnlm;

/* (transfer full) Parameters allocated, zero. */
AigcRnnlm *aigc_rnnlm_new(const AigcRnnlmConfig *config);
void aigc_rnnlm_free(AigcRnnlm *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcRnnlm, aigc_rnnlm_free)
/* As PyTorch: embedding N(0, 1); recurrent weights and biases uniform ±1/√H; head uniform
 * ±1/√H (nn.Linear's bound for H inputs). */
void aigc_rnnlm_init_weights(AigcRnnlm *m, AigcRng *rng);
const AigcRnnlmConfig *aigc_rnnlm_get_config(AigcRnnlm *m);
/* (transfer none) */
AigcParams *aigc_rnnlm_get_params(AigcRnnlm *m);

/* Logits (B·T, V) for token ids (B, T), every sequence from a zero state, T ≤ max_seq_len;
 * differentiable. */
AigcTensor *aigc_rnnlm_forward(AigcCtx *ctx, AigcRnnlm *m, const gint32 *ids, int B, int T);
/* Mean cross-entropy (nats per token) of predicting targets (B, T); ignore_index −1. */
AigcTensor *aigc_rnnlm_loss(AigcCtx *ctx, AigcRnnlm *m, const gint32 *ids, const gint32 *targets,
                            int B, int T);

/* Total negative log-likelihood in nats of ids[1 … n) given what precedes them, read in
 * consecutive windows of max_seq_len tokens, each from a zero state (as aigc_gpt_total_nll, so
 * the families are measured alike). `job` (nullable) gets progress and is polled for cancel
 * (FALSE + AIGC_ENGINE_ERROR_CANCELLED). */
gboolean aigc_rnnlm_total_nll(AigcRnnlm *m, const gint32 *ids, gint64 n, AigcJob *job, double *nats,
                              GError **error);

/* ---- generation ---- */

typedef struct _AigcRnnlmState AigcRnnlmState;

/* (transfer full) A zero state for `m` (borrowed; it must outlive the state). */
AigcRnnlmState *aigc_rnnlm_state_new(AigcRnnlm *m);
void aigc_rnnlm_state_free(AigcRnnlmState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcRnnlmState, aigc_rnnlm_state_free)
/* Back to the zero state. */
void aigc_rnnlm_state_reset(AigcRnnlmState *state);
/* Tokens consumed since the last reset. */
gint64 aigc_rnnlm_state_get_pos(AigcRnnlmState *state);
/* Feeds one token and writes the next-token logits (vocab_size floats). Never runs out of
 * context: the state carries on. Returns FALSE only for a token outside the vocabulary. */
gboolean aigc_rnnlm_decode(AigcRnnlm *m, AigcRnnlmState *state, gint32 token, float *logits);

/* ---- files ---- */

/* Adds the weights (stored as dtype) and "family" (the cell name) / "rnnlm.config" metadata. */
gboolean aigc_rnnlm_save(AigcRnnlm *m, AigcSafetensorsWriter *writer, AigcDtype dtype,
                         GError **error);
/* (transfer full) (nullable) From a weights file: config checked (its cell must agree with the
 * "family" when there is one), every tensor present with its shape and finite. */
AigcRnnlm *aigc_rnnlm_load(AigcSafetensors *st, GError **error);

G_END_DECLS
