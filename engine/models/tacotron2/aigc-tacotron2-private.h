/* SPDX-License-Identifier: MIT
 *
 * What the Tacotron 2 files share among themselves: the encoder and post-net as tape functions
 * and the weights the step-by-step inference reads directly.
 */
#pragma once

#include "aigc-tacotron2.h"

G_BEGIN_DECLS

typedef struct {
    AigcTensor *memory_w;    /* [A, E] */
    AigcTensor *prenet_w[2]; /* [P, M], [P, P] */
    const AigcT2DecoderWeights *dec;
    AigcTensor *proj_w, *proj_b; /* [M·r, Hd + E], [M·r] */
    AigcTensor *gate_w, *gate_b; /* [1, Hd + E], [1] */
} AigcTacotron2Parts;

void aigc_tacotron2_get_parts(AigcTacotron2 *m, AigcTacotron2Parts *parts);
/* (transfer none) The memory [B, N, E] of ids [B, N]. */
AigcTensor *aigc_tacotron2_encode_ids(AigcCtx *ctx, AigcTacotron2 *m, const gint32 *ids,
                                      const gint32 *n_ids, int B, int N);
/* (transfer none) mel + postnet(mel) for mel [B, F, M]. */
AigcTensor *aigc_tacotron2_postnet(AigcCtx *ctx, AigcTacotron2 *m, AigcTensor *mel);

G_END_DECLS
