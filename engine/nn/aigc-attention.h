/* SPDX-License-Identifier: MIT
 *
 * Scaled dot-product attention as one fused kernel pair, and a KV cache for generation.
 *
 * out = softmax(scale · q kᵀ + mask) v per (batch, head). The mask combines an optional causal
 * mask and optional per-batch key lengths (padding). The forward saves either the
 * probabilities (when they fit a budget) or the row logsumexp, and the backward recomputes what
 * it lacks; no chain of small ops is recorded. The same kernels serve causal self-attention
 * (GPT), non-causal self-attention (the diffusion UNet) and cross-attention (Tq ≠ Tk).
 *
 * The KV cache keeps, per layer, the keys and values of the positions generated so far, so that
 * aigc_attention_decode() attends one new position in O(T·D) without a tape.
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* ---- kernels (contiguous float arrays) ----
 *
 * Legend: B batch, H heads, Tq queries, Tk keys, D head size.
 * Query i may attend key j when j < key_lengths[b] (all keys when key_lengths is NULL) and, if
 * causal, j ≤ i + (Tk − Tq): the queries are the last Tq positions of the key sequence. A query
 * with no key it may attend gets an output of zeros (and lse −∞) instead of NaN. D ≥ 1.
 * The kernels run on the thread budget (aigc-threads.h); query the scratch size under the same
 * budget as the call.
 */

/* Floats of scratch the kernels need for these sizes, for the current thread budget. */
gint64 aigc_attention_scratch_floats(int B, int H, int Tq, int Tk);

/* out (B, H, Tq, D); att (nullable) (B, H, Tq, Tk) the probabilities, masked entries 0;
 * lse (nullable) (B, H, Tq) the logsumexp of each row's scaled, masked scores;
 * scratch aigc_attention_scratch_floats() floats; q (B, H, Tq, D); k, v (B, H, Tk, D);
 * key_lengths (nullable) (B) each in [0, Tk]. */
void aigc_attention_forward(float *out, float *att, float *lse, float *scratch, const float *q,
                            const float *k, const float *v, const gint32 *key_lengths, int B, int H,
                            int Tq, int Tk, int D, gboolean causal, float scale);

/* Adds the gradients into dq (B, H, Tq, D), dk, dv (B, H, Tk, D); any may be NULL. Needs the
 * forward's att, or (when att is NULL) its lse, from which the probabilities are recomputed. */
void aigc_attention_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout,
                             const float *q, const float *k, const float *v, const float *att,
                             const float *lse, const gint32 *key_lengths, int B, int H, int Tq,
                             int Tk, int D, gboolean causal, float scale);

/* ---- the differentiable op ---- */

/* (transfer none) softmax(scale · q kᵀ + mask) v: q (B, H, Tq, D), k and v (B, H, Tk, D) →
 * (B, H, Tq, D). key_lengths (nullable): B valid-key counts in [0, Tk], copied. The usual
 * scale is 1/√D. Causal with Tq < Tk treats the queries as the last Tq positions. */
AigcTensor *aigc_attention(AigcCtx *ctx, AigcTensor *q, AigcTensor *k, AigcTensor *v,
                           gboolean causal, float scale, const gint32 *key_lengths);

/* Above this many probabilities (B·H·Tq·Tk) the op saves the row logsumexp instead and the
 * backward recomputes the scores. */
#define AIGC_ATTENTION_MAX_SAVED_PROBS ((gint64)1 << 25)

/* ---- KV cache and one-position decoding (inference, no tape) ---- */

/* Per-run state of one generated sequence; used by one thread at a time (decoding writes the
 * cache and its scratch). */
typedef struct _AigcKVCache AigcKVCache;

/* (transfer full) (nullable) Room for max_len positions in each of n_layers layers of n_heads
 * heads of size head_dim. Returns NULL when the memory cannot be had. */
AigcKVCache *aigc_kv_cache_new(int n_layers, int n_heads, int max_len, int head_dim);
void aigc_kv_cache_free(AigcKVCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcKVCache, aigc_kv_cache_free)
/* Forgets every position (a new sequence); keeps the memory. */
void aigc_kv_cache_reset(AigcKVCache *cache);
/* Positions stored for a layer so far. */
int aigc_kv_cache_get_length(AigcKVCache *cache, int layer);
int aigc_kv_cache_get_max_length(AigcKVCache *cache);
/* (transfer none) The layer's keys and values, (n_heads, max_len, head_dim) each; the first
 * get_length() positions of every head are valid. */
float *aigc_kv_cache_get_keys(AigcKVCache *cache, int layer);
float *aigc_kv_cache_get_values(AigcKVCache *cache, int layer);

/* Appends T positions (a prompt, after a full forward): k, v (n_heads, T, head_dim). Returns
 * FALSE, changing nothing, when they do not fit. */
gboolean aigc_kv_cache_append(AigcKVCache *cache, int layer, const float *k, const float *v, int T);

/* Appends one position's k_new, v_new (n_heads, head_dim) to the layer and writes to out
 * (n_heads, head_dim) the causal attention of q (n_heads, head_dim) over every stored position,
 * the new one included. Returns FALSE, changing nothing, when the cache is full. */
gboolean aigc_attention_decode(AigcKVCache *cache, int layer, const float *q, const float *k_new,
                               const float *v_new, float scale, float *out);

G_END_DECLS
