/* SPDX-License-Identifier: MIT
 *
 * Recurrent layers: LSTM, GRU and the Elman (tanh) RNN over whole sequences, single-step LSTM
 * and GRU cells for models that run step by step in training (Tacotron 2's decoder), and a time
 * reversal op for bidirectional stacks.
 *
 * Conventions follow PyTorch exactly, so checkpoints map one to one: one layer, one direction,
 * batch_first layout (x [B, T, D], out [B, T, H]); weights w_ih [G, D], w_hh [G, H] and biases
 * b_ih, b_hh [G], where the gate width G stacks the gates in PyTorch's order: i, f, g, o for
 * the LSTM (G = 4H), r, z, n for the GRU (G = 3H, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)))
 * and one tanh block for the RNN (G = H). Initial states and biases may be NULL (zeros / no
 * bias). Legend: B batch, T time steps, D input features, H hidden size.
 *
 * Stacks and directions are composed by the caller:
 *   - a multi-layer stack feeds each layer's `out` to the next layer as its x (with dropout in
 *     between if wanted); h_n / c_n of each layer are that layer's final states;
 *   - the backward direction of a bidirectional layer is
 *       back = aigc_reverse_time(ctx, aigc_lstm(ctx, aigc_reverse_time(ctx, x), ...))
 *     with its own weights, and the layer output is aigc_concat of {fwd, back} along dim 2
 *     (PyTorch's `weight_ih_l0_reverse` etc. are those weights). This matches PyTorch for
 *     unpadded batches; padded sequences need per-sequence reversal, which this op does not do.
 *
 * Kernels work on contiguous float arrays, outputs first, then inputs, then sizes. Backward
 * kernels ADD into gradient buffers, any of which may be NULL; upstream gradients may be NULL
 * (zeros). Scratch buffers are passed in (the kernels never allocate).
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* ---- kernels ---- */

/* out [B, T, H]; h_n, c_n [B, H] (nullable); gates [B, T, 4H] scratch that holds the activated
 * gates (i, f, g, o) on return; cells [B, T, H] (nullable) receives every c_t — the backward
 * needs gates and cells. Without cells, c_n is required and holds the running cell state.
 * h0, c0 [B, H] nullable; b_ih, b_hh [4H] nullable. */
void aigc_lstm_forward(float *out, float *h_n, float *c_n, float *gates, float *cells,
                       const float *inp, const float *h0, const float *c0, const float *w_ih,
                       const float *w_hh, const float *b_ih, const float *b_hh, int B, int T, int D,
                       int H);
/* dgates [B, T, 4H], dh [B, H] and dc [B, H] are scratch. dout [B, T, H], dh_n, dc_n [B, H]
 * are upstream gradients (nullable); out, gates and cells come from the forward. */
void aigc_lstm_backward(float *dinp, float *dh0, float *dc0, float *dw_ih, float *dw_hh,
                        float *db_ih, float *db_hh, float *dgates, float *dh, float *dc,
                        const float *dout, const float *dh_n, const float *dc_n, const float *inp,
                        const float *h0, const float *c0, const float *w_ih, const float *w_hh,
                        const float *out, const float *gates, const float *cells, int B, int T,
                        int D, int H);

/* out [B, T, H]; h_n [B, H] (nullable); gates [B, T, 3H] scratch that holds the activated
 * gates (r, z, n) on return; hn [B, T, H] (nullable) receives W_hn h + b_hn of every step (the
 * backward needs gates and hn); gh [B, 3H] scratch. */
void aigc_gru_forward(float *out, float *h_n, float *gates, float *hn, float *gh, const float *inp,
                      const float *h0, const float *w_ih, const float *w_hh, const float *b_ih,
                      const float *b_hh, int B, int T, int D, int H);
/* dgx, dgh [B, T, 3H] and dh [B, H] are scratch. */
void aigc_gru_backward(float *dinp, float *dh0, float *dw_ih, float *dw_hh, float *db_ih,
                       float *db_hh, float *dgx, float *dgh, float *dh, const float *dout,
                       const float *dh_n, const float *inp, const float *h0, const float *w_ih,
                       const float *w_hh, const float *out, const float *gates, const float *hn,
                       int B, int T, int D, int H);

/* h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh). out [B, T, H]; h_n [B, H] (nullable). */
void aigc_rnn_tanh_forward(float *out, float *h_n, const float *inp, const float *h0,
                           const float *w_ih, const float *w_hh, const float *b_ih,
                           const float *b_hh, int B, int T, int D, int H);
/* dgates [B, T, H] and dh [B, H] are scratch; the backward needs only the forward's out. */
void aigc_rnn_tanh_backward(float *dinp, float *dh0, float *dw_ih, float *dw_hh, float *db_ih,
                            float *db_hh, float *dgates, float *dh, const float *dout,
                            const float *dh_n, const float *inp, const float *h0, const float *w_ih,
                            const float *w_hh, const float *out, int B, int T, int D, int H);

/* out[b, t] = inp[b, T-1-t] over [B, T, C]; the backward adds dout reversed into dinp. */
void aigc_reverse_time_forward(float *out, const float *inp, int B, int T, int C);
void aigc_reverse_time_backward(float *dinp, const float *dout, int B, int T, int C);

/* ---- differentiable ops ---- */

/* (transfer none) out [B, T, H] from x [B, T, D]. h0, c0 [B, H], b_ih, b_hh: nullable.
 * h_n, c_n (nullable out-params) receive the final states [B, H], extra outputs of the same
 * node, so losses may use them. */
AigcTensor *aigc_lstm(AigcCtx *ctx, AigcTensor *x, AigcTensor *h0, AigcTensor *c0, AigcTensor *w_ih,
                      AigcTensor *w_hh, AigcTensor *b_ih, AigcTensor *b_hh, AigcTensor **h_n,
                      AigcTensor **c_n);
/* (transfer none) As aigc_lstm, for the GRU (gates r, z, n). */
AigcTensor *aigc_gru(AigcCtx *ctx, AigcTensor *x, AigcTensor *h0, AigcTensor *w_ih,
                     AigcTensor *w_hh, AigcTensor *b_ih, AigcTensor *b_hh, AigcTensor **h_n);
/* (transfer none) As aigc_lstm, for the Elman RNN with tanh (PyTorch nn.RNN). */
AigcTensor *aigc_rnn_tanh(AigcCtx *ctx, AigcTensor *x, AigcTensor *h0, AigcTensor *w_ih,
                          AigcTensor *w_hh, AigcTensor *b_ih, AigcTensor *b_hh, AigcTensor **h_n);

/* (transfer none) One LSTM step (PyTorch nn.LSTMCell): x [B, D], h, c [B, H] (nullable:
 * zeros) → h_out [B, H]; c_out (nullable out-param) receives the new cell state, a second
 * output of the same node. */
AigcTensor *aigc_lstm_cell(AigcCtx *ctx, AigcTensor *x, AigcTensor *h, AigcTensor *c,
                           AigcTensor *w_ih, AigcTensor *w_hh, AigcTensor *b_ih, AigcTensor *b_hh,
                           AigcTensor **c_out);
/* (transfer none) One GRU step (PyTorch nn.GRUCell): x [B, D], h [B, H] (nullable) → [B, H]. */
AigcTensor *aigc_gru_cell(AigcCtx *ctx, AigcTensor *x, AigcTensor *h, AigcTensor *w_ih,
                          AigcTensor *w_hh, AigcTensor *b_ih, AigcTensor *b_hh);

/* (transfer none) y[b, t] = x[b, T-1-t] for x [B, T, C] (differentiable). */
AigcTensor *aigc_reverse_time(AigcCtx *ctx, AigcTensor *x);

G_END_DECLS
