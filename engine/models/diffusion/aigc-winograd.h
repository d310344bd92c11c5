/* SPDX-License-Identifier: MIT
 *
 * The 3×3 convolution (stride 1, padding 1) of the diffusion UNet by Winograd's minimal
 * filtering F(2×2, 3×3) (Lavin & Gray 2016): 2.25× fewer multiplications than im2col + GEMM
 * and a 4× instead of 9× expansion of the input, which on the UNet's small maps (28×28 … 7×7,
 * 32 … 256 channels) is most of a step's time. Same layouts and results (to rounding) as
 * aigc_conv2d(x, w, b, 1, 1); the backward is Winograd too (data: the same transform with the
 * flipped kernel; weights: the transposed transforms).
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* ---- kernels (contiguous float arrays; scratch from aigc_conv3x3_scratch_size) ---- */

/* Floats of scratch the forward and the backward need for these sizes. */
gint64 aigc_conv3x3_scratch_size(int N, int C, int H, int W, int OC);
/* out [N, OC, H, W] = conv(inp [N, C, H, W], weight [OC, C, 3, 3]) + bias [OC] (nullable). */
void aigc_conv3x3_forward(float *out, float *scratch, const float *inp, const float *weight,
                          const float *bias, int N, int C, int H, int W, int OC);
/* Adds into dinp [N, C, H, W], dweight [OC, C, 3, 3], dbias [OC]; any may be NULL. */
void aigc_conv3x3_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                           const float *dout, const float *inp, const float *weight, int N, int C,
                           int H, int W, int OC);

/* (transfer none) x [N, C, H, W], w [OC, C, 3, 3], b [OC] (nullable) → [N, OC, H, W];
 * differentiable. */
AigcTensor *aigc_conv3x3(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b);

G_END_DECLS
