/* SPDX-License-Identifier: MIT
 *
 * WaveNet internals shared by the training graph (aigc-wavenet.c) and generation
 * (aigc-wavenet-generate.c).
 */
#pragma once

#include "aigc-wavenet.h"

#define AIGC_WAVENET_COND_SLOPE 0.2f /* leaky ReLU after the frame-rate condition conv */

typedef struct {
    int dilation;
    AigcTensor *dil_w;  /* [2G, R, 2]: tap 0 reads t − dilation, tap 1 reads t */
    AigcTensor *dil_b;  /* [2G] */
    AigcTensor *cond_w; /* [2G, Cc, 1] */
    AigcTensor *out_w;  /* [R + S, G, 1]: residual rows first, then skip */
    AigcTensor *out_b;  /* [R + S] */
} WavenetLayer;

struct _AigcWavenet {
    AigcWavenetConfig config;
    AigcSpeechFeatures features;
    AigcParams *params;
    AigcTensor *in_w, *in_b;       /* [R, 1, 2], [R] */
    AigcTensor *cond_w, *cond_b;   /* [Cc, n_mels, 3], [Cc] */
    WavenetLayer *layers;          /* [n_layers] */
    AigcTensor *post1_w, *post1_b; /* [S, S, 1], [S] */
    AigcTensor *post2_w, *post2_b; /* [256, S, 1], [256] */
};
