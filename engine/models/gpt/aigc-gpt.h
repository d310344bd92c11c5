/* SPDX-License-Identifier: MIT
 *
 * GPT: a decoder-only transformer in the Llama layout — RMS norm before attention and
 * feed-forward, rotary positions, SwiGLU feed-forward, no biases, untied output head — the
 * architecture of llama2.c, whose weight names it keeps so models move between the two.
 *
 * Training runs on the tape (aigc_gpt_loss); generation runs one token at a time on raw kernels
 * with a KV cache (aigc_gpt_decode), like llama2.c's run.c.
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "jobs/aigc-job.h"
#include "tensor/aigc-params.h"

G_BEGIN_DECLS

typedef struct {
    int vocab_size;
    int dim;         /* C */
    int n_layers;
    int n_heads;     /* head size = dim / n_heads */
    int hidden_dim;  /* SwiGLU width */
    int max_seq_len; /* longest context */
    float norm_eps;
    float rope_theta;
    float dropout;   /* on the embeddings and each residual branch while training; 0 = none */
} AigcGptConfig;

AigcGptConfig aigc_gpt_default_config(void);
/* FALSE + error when the numbers are out of range or inconsistent. */
gboolean aigc_gpt_config_validate(const AigcGptConfig *config, GError **error);
/* Sets a field from "key=value" text (dim, n_layers, n_heads, hidden_dim, max_seq_len,
 * vocab_size, norm_eps, rope_theta, dropout); FALSE + error for unknown keys or bad numbers. */
gboolean aigc_gpt_config_set(AigcGptConfig *config, const char *key, const char *value,
                             GError **error);
char *aigc_gpt_config_to_json(const AigcGptConfig *config);
gboolean aigc_gpt_config_from_json(AigcGptConfig *config, const char *json, GError **error);

typedef struct _AigcGpt AigcGpt;

/* (transfer full) Parameters allocated, zero. */
AigcGpt *aigc_gpt_new(const AigcGptConfig *config);
void aigc_gpt_free(AigcGpt *gpt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcGpt, aigc_gpt_free)
/* GPT-2 style: N(0, 0.02), output projections of residual branches scaled by 1/√(2·n_layers),
 * norm weights 1. */
void aigc_gpt_init_weights(AigcGpt *gpt, AigcRng *rng);
const AigcGptConfig *aigc_gpt_get_config(AigcGpt *gpt);
/* (transfer none) */
AigcParams *aigc_gpt_get_params(AigcGpt *gpt);

/* Logits (B·T, vocab) for token ids (B, T), T ≤ max_seq_len; differentiable. */
AigcTensor *aigc_gpt_forward(AigcCtx *ctx, AigcGpt *gpt, const gint32 *ids, int B, int T);
/* Mean cross-entropy (nats per token) of predicting targets (B, T); ignore_index −1. */
AigcTensor *aigc_gpt_loss(AigcCtx *ctx, AigcGpt *gpt, const gint32 *ids, const gint32 *targets,
                          int B, int T);

/* Total negative log-likelihood in nats of ids[1 … n) given what precedes them, read in
 * consecutive windows of max_seq_len tokens (each window predicts its tokens from within it).
 * `job` (nullable) gets progress and is polled for cancel (FALSE + AIGC_ENGINE_ERROR_CANCELLED). */
gboolean aigc_gpt_total_nll(AigcGpt *gpt, const gint32 *ids, gint64 n, AigcJob *job,
                            double *nats, GError **error);

/* ---- generation ---- */

typedef struct _AigcGptState AigcGptState;

AigcGptState *aigc_gpt_state_new(AigcGpt *gpt);
void aigc_gpt_state_free(AigcGptState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcGptState, aigc_gpt_state_free)
void aigc_gpt_state_reset(AigcGptState *state);
/* Tokens consumed so far. */
int aigc_gpt_state_get_pos(AigcGptState *state);
/* Feeds one token at the next position and writes the next-token logits (vocab_size floats).
 * Returns FALSE when the context is full (max_seq_len tokens). */
gboolean aigc_gpt_decode(AigcGpt *gpt, AigcGptState *state, gint32 token, float *logits);

/* ---- files ---- */

/* Adds the weights (stored as dtype) and "family"/"gpt.config" metadata to a writer. */
gboolean aigc_gpt_save(AigcGpt *gpt, AigcSafetensorsWriter *writer, AigcDtype dtype,
                       GError **error);
/* (transfer full) (nullable) From a weights file: config checked, every tensor present with its
 * shape and finite. */
AigcGpt *aigc_gpt_load(AigcSafetensors *st, GError **error);

G_END_DECLS
