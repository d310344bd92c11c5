/* SPDX-License-Identifier: MIT
 *
 * Layers (DESIGN §3.1, layer 2): each a forward/backward kernel pair on float arrays plus a
 * differentiable op on AigcTensor that records its backward on the tape.
 *
 * Layouts follow PyTorch, so goldens and checkpoints map one to one: Linear weight [out, in];
 * conv inputs NCHW / NCL, conv weight [out, in/groups, kh, kw], transposed conv weight
 * [in, out, kh, kw]; LSTM gates i, f, g, o and GRU gates r, z, n.
 */
#pragma once

#include "tensor/aigc-tensor.h"
#include "tensor/aigc-view.h"

/* elementwise, reductions, activations, losses, embedding, dropout */
#include "nn/aigc-activation.h"
#include "nn/aigc-elementwise.h"
#include "nn/aigc-embedding.h"
#include "nn/aigc-loss.h"
/* linear, matmul, normalisations */
#include "nn/aigc-linear.h"
#include "nn/aigc-norm.h"
/* convolutions, pooling, upsampling */
#include "nn/aigc-conv.h"
#include "nn/aigc-pool.h"
/* attention, rotary and timestep embeddings */
#include "nn/aigc-attention.h"
#include "nn/aigc-posenc.h"
/* recurrent cells */
#include "nn/aigc-rnn.h"
