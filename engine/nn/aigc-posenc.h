/* SPDX-License-Identifier: MIT
 *
 * Position encodings: rotary position embedding (RoPE) and the sinusoidal timestep embedding of
 * diffusion models.
 *
 * RoPE follows llama2.c's run.c, so models exported to that format agree with it: within each
 * head of size D, the interleaved pair (x[2i], x[2i+1]) at position p is rotated by the angle
 * p·θ^(−2i/D), i = 0 … D/2 − 1:
 *     y[2i]   = x[2i]·cos − x[2i+1]·sin
 *     y[2i+1] = x[2i]·sin + x[2i+1]·cos
 * (not the "rotate half" layout of GPT-NeoX / Hugging Face Llama, which pairs i with i + D/2).
 *
 * The timestep embedding is the one of DDPM and diffusers' get_timestep_embedding with
 * flip_sin_to_cos=True, downscale_freq_shift=0: with half = ⌊dim/2⌋ and
 * f_i = exp(−ln(max_period)·i/half), i = 0 … half − 1,
 *     out[n, i] = cos(t_n·f_i),   out[n, half + i] = sin(t_n·f_i),
 * and a last column of zeros when dim is odd. Computed in float32 like diffusers.
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* ---- RoPE ----
 * Legend: B batch, T positions, H heads, D head size (even). */

/* fcos, fsin (T, D/2): the rotation of pair i at position pos_offset + t. */
void aigc_rope_freqs(float *fcos, float *fsin, int T, int D, int pos_offset, float theta);
/* out, inp (B, T, H, D); out may be inp. */
void aigc_rope_forward(float *out, const float *inp, const float *fcos, const float *fsin, int B,
                       int T, int H, int D);
/* Adds the gradient into dinp (B, T, H, D): the rotation by the opposite angle. */
void aigc_rope_backward(float *dinp, const float *dout, const float *fcos, const float *fsin, int B,
                        int T, int H, int D);
/* In place, for decoding one position: x (H, D) at position pos, as llama2.c's run.c does. */
void aigc_rope_apply(float *x, int H, int D, int pos, float theta);

/* (transfer none) x (B, T, H, D) with position p = pos_offset + t rotated; differentiable.
 * theta is the base (10000 in llama2.c). */
AigcTensor *aigc_rope(AigcCtx *ctx, AigcTensor *x, int pos_offset, float theta);

/* ---- timestep embedding ---- */

/* out (n, dim); t (n) timesteps (may be fractional). */
void aigc_timestep_embedding_forward(float *out, const float *t, int n, int dim, float max_period);
/* (transfer none) (n, dim), no gradient (timesteps are data). max_period is 10000 in DDPM. */
AigcTensor *aigc_timestep_embedding(AigcCtx *ctx, const float *t, int n, int dim, float max_period);

G_END_DECLS
