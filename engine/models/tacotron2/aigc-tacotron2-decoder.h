/* SPDX-License-Identifier: MIT
 *
 * The recurrent heart of Tacotron 2 as one fused op: the attention LSTM, location-sensitive
 * attention and the decoder LSTM, run over every decoder step of a teacher-forced batch with a
 * hand-written backward through time. A chain of tape ops per step would record thousands of
 * tiny nodes per batch; here the forward keeps only what the backward needs (gates, cells,
 * states, contexts, alignments, location features and attention tanh terms of every step), and
 * the backward does the weight gradients at the end as a few large matrix products over all
 * steps.
 *
 * One step t, for every utterance b (Shen et al. 2018, with NVIDIA's layer layout):
 *   gates_a = W_ih_a · [prenet_t ; ctx_{t−1}] + W_hh_a · ha_{t−1} + b    → ha_t, ca_t (LSTM)
 *   ha_t   ← dropout(ha_t, p_attention)       (the state carried on is the dropped one)
 *   f_j    = conv([α_{t−1} ; Σ_{s<t} α_s])_j  (F filters of width K, no bias)
 *   e_j    = v · tanh(W_q ha_t + pmem_j + W_loc f_j)   for j < len_b (and inside the window)
 *   α_t    = softmax(e);  ctx_t = Σ_j α_t,j · memory_j
 *   gates_d = W_ih_d · [ha_t ; ctx_t] + W_hh_d · hd_{t−1} + b             → hd_t, cd_t (LSTM)
 *   hd_t   ← dropout(hd_t, p_decoder)
 *   out_t  = [hd_t ; ctx_t]
 * The processed memory pmem = memory · W_memᵀ is computed once, outside, on the tape; so are the
 * prenet (its output for every step is an input here) and the projections of out_t.
 *
 * LSTM weights and gate order (i, f, g, o) are PyTorch's nn.LSTMCell; the attention weights are
 * NVIDIA tacotron2's query_layer, location_conv, location_dense and v (all without bias).
 *
 * Legend: B batch, N encoder steps, T decoder steps, E memory width, A attention width,
 * F location filters, K location kernel (odd), P prenet width, Ha / Hd attention / decoder LSTM
 * width.
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

typedef struct {
    int B, N, E, A, F, K, P, Ha, Hd;
} AigcT2DecoderDims;

/* The weights as tensors (parameters of the model). Shapes:
 *   att_w_ih [4Ha, P + E]  att_w_hh [4Ha, Ha]  att_b_ih, att_b_hh [4Ha]
 *   query_w [A, Ha]  loc_conv_w [F, 2, K]  loc_dense_w [A, F]  v_w [1, A]
 *   dec_w_ih [4Hd, Ha + E]  dec_w_hh [4Hd, Hd]  dec_b_ih, dec_b_hh [4Hd] */
typedef struct {
    AigcTensor *att_w_ih, *att_w_hh, *att_b_ih, *att_b_hh;
    AigcTensor *query_w, *loc_conv_w, *loc_dense_w, *v_w;
    AigcTensor *dec_w_ih, *dec_w_hh, *dec_b_ih, *dec_b_hh;
} AigcT2DecoderWeights;

/* Reads the sizes from the weights (and B, N, E from a memory [B, N, E]); FALSE when the shapes
 * disagree. */
gboolean aigc_t2_decoder_dims(const AigcT2DecoderWeights *w, int B, int N, int E,
                              AigcT2DecoderDims *dims);

/* (transfer none) The teacher-forced decoder over T = prenet->shape[1] steps:
 * memory [B, N, E], pmem [B, N, A], prenet [B, T, P], mem_len (B) valid encoder steps each in
 * [1, N] (copied) → out [B, T, Hd + E]; *align (nullable out-param) receives the attention
 * weights [B, T, N] (zero beyond each length), a second output of the same node, so losses on
 * the alignment (guided attention) backpropagate. Dropout on the two LSTM states applies in
 * training mode with masks drawn from the context's RNG. Differentiable in memory, pmem, prenet
 * and every weight. */
AigcTensor *aigc_t2_decoder(AigcCtx *ctx, AigcTensor *memory, AigcTensor *pmem, AigcTensor *prenet,
                            const gint32 *mem_len, const AigcT2DecoderWeights *w, float p_attention,
                            float p_decoder, AigcTensor **align);

/* ---- step by step, for inference (no tape, batch of one) ---- */

typedef struct _AigcT2DecoderRun AigcT2DecoderRun;

/* (transfer full) A run over one utterance: memory [N, E] and pmem [N, A] are borrowed and must
 * outlive the run. Weights are read at each step (borrowed). */
AigcT2DecoderRun *aigc_t2_decoder_run_new(const AigcT2DecoderWeights *w, const float *memory,
                                          const float *pmem, int N, int E);
void aigc_t2_decoder_run_free(AigcT2DecoderRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcT2DecoderRun, aigc_t2_decoder_run_free)
/* One step from the prenet output prenet [P]: attention limited to encoder steps [lo, hi)
 * (clamped to [0, N); an empty window means all of them). Writes out [Hd + E] and alpha [N].
 * No dropout on the LSTM states (inference). */
void aigc_t2_decoder_run_step(AigcT2DecoderRun *run, const float *prenet, int lo, int hi,
                              float *out, float *alpha);

G_END_DECLS
