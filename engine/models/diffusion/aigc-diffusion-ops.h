/* SPDX-License-Identifier: MIT
 *
 * Fused ops of the diffusion UNet's hot path: group norm followed by SiLU, as one node on the
 * tape (one pass forward, one backward that recomputes the normalised values instead of
 * keeping them), since every residual block applies the pair to its largest feature maps.
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* (transfer none) SiLU(group_norm(x)): x [N, C, *spatial], weight and bias [C] (nullable),
 * statistics per sample over each of n_groups groups of C / n_groups channels (biased variance,
 * eps inside the square root, as PyTorch). */
AigcTensor *aigc_groupnorm_silu(AigcCtx *ctx, AigcTensor *x, int n_groups, AigcTensor *weight,
                                AigcTensor *bias, float eps);

G_END_DECLS
