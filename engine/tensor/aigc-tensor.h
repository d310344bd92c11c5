/* SPDX-License-Identifier: MIT
 *
 * Tensors, the per-step context and the autograd tape (DESIGN §3.1, layer 1).
 *
 * A tensor is float32 with up to 5 dimensions: a data pointer, shape and strides (in elements).
 * Tensors made by ops live in the context's arena until aigc_ctx_reset(); they are contiguous
 * unless made by a view op (transpose, permute, slice), which shares the input's storage.
 * Gradients are always contiguous, in the tensor's own shape.
 *
 * Every op computes its forward at once (eager) and, when gradients are enabled and an input
 * requires them, records a node on the tape: its backward function, inputs, outputs and what the
 * forward saved. aigc_ctx_backward() walks the tape in reverse; each backward *adds* into the
 * gradients of its inputs (aigc_grad() hands out a zeroed buffer on first use).
 *
 * Leaves that outlive a step (parameters, test inputs) are made with aigc_tensor_new_leaf() or
 * through AigcParams; their gradient buffers are persistent and are zeroed by the owner.
 */
#pragma once

#include <glib.h>

#include "aigc-arena.h"
#include "aigc-rng.h"

G_BEGIN_DECLS

#define AIGC_MAX_DIMS 5
#define AIGC_NODE_MAX_INPUTS 8
#define AIGC_NODE_MAX_OUTPUTS 4

typedef struct _AigcCtx AigcCtx;
typedef struct _AigcNode AigcNode;

typedef struct _AigcTensor {
    float *data;  /* first element */
    float *grad;  /* (nullable) contiguous, n_elements floats */
    int n_dims;
    gint64 shape[AIGC_MAX_DIMS];
    gint64 stride[AIGC_MAX_DIMS]; /* in elements */
    gint64 n_elements;
    gboolean requires_grad;
    gboolean is_leaf;  /* storage and grad outlive the step (parameters, inputs) */
    const char *name;  /* (nullable) for parameters and messages */
} AigcTensor;

/* ---- the context: arena, tape, mode, RNG ---- */

AigcCtx *aigc_ctx_new(void);
void aigc_ctx_free(AigcCtx *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcCtx, aigc_ctx_free)
/* Drops every tensor, node and scratch buffer of the step; keeps the memory. */
void aigc_ctx_reset(AigcCtx *ctx);
/* No-grad mode records nothing (inference). Default: enabled. */
void aigc_ctx_set_grad_enabled(AigcCtx *ctx, gboolean enabled);
gboolean aigc_ctx_get_grad_enabled(AigcCtx *ctx);
/* Training mode changes dropout and batch norm. Default: training. */
void aigc_ctx_set_training(AigcCtx *ctx, gboolean training);
gboolean aigc_ctx_get_training(AigcCtx *ctx);
/* (transfer none) The context's RNG (dropout, sampling). */
AigcRng *aigc_ctx_get_rng(AigcCtx *ctx);
/* (transfer none) */
AigcArena *aigc_ctx_get_arena(AigcCtx *ctx);
/* Scratch memory until the next reset; 64-byte aligned. */
gpointer aigc_ctx_alloc(AigcCtx *ctx, gsize n_bytes);
float *aigc_ctx_alloc_floats(AigcCtx *ctx, gint64 n);
float *aigc_ctx_alloc_floats0(AigcCtx *ctx, gint64 n);

/* Backpropagates from a one-element tensor (d loss = 1). Leaves' gradients accumulate;
 * intermediate gradients are consumed (cleared), so a second backward in the same step runs
 * only the nodes its loss reaches. */
void aigc_ctx_backward(AigcCtx *ctx, AigcTensor *loss);
/* Backpropagates from any tensor with a given upstream gradient (n_elements floats). */
void aigc_ctx_backward_from(AigcCtx *ctx, AigcTensor *out, const float *dout);
/* Number of nodes on the tape (tests). */
guint aigc_ctx_get_n_nodes(AigcCtx *ctx);

/* ---- tensors ---- */

/* (transfer none) Contiguous, uninitialised, in the arena. shape entries ≥ 0. */
AigcTensor *aigc_tensor_new(AigcCtx *ctx, int n_dims, const gint64 *shape);
AigcTensor *aigc_tensor_new1(AigcCtx *ctx, gint64 d0);
AigcTensor *aigc_tensor_new2(AigcCtx *ctx, gint64 d0, gint64 d1);
AigcTensor *aigc_tensor_new3(AigcCtx *ctx, gint64 d0, gint64 d1, gint64 d2);
AigcTensor *aigc_tensor_new4(AigcCtx *ctx, gint64 d0, gint64 d1, gint64 d2, gint64 d3);
AigcTensor *aigc_tensor_new5(AigcCtx *ctx, gint64 d0, gint64 d1, gint64 d2, gint64 d3,
                             gint64 d4);
AigcTensor *aigc_tensor_zeros(AigcCtx *ctx, int n_dims, const gint64 *shape);
AigcTensor *aigc_tensor_new_like(AigcCtx *ctx, const AigcTensor *t);
AigcTensor *aigc_tensor_zeros_like(AigcCtx *ctx, const AigcTensor *t);
/* A contiguous copy of `src` floats (n = product of shape). No gradient. */
AigcTensor *aigc_tensor_from_data(AigcCtx *ctx, int n_dims, const gint64 *shape,
                                  const float *src);
/* A tensor header over caller-owned contiguous memory (no copy, no gradient). */
AigcTensor *aigc_tensor_wrap(AigcCtx *ctx, int n_dims, const gint64 *shape, float *data);

/* (transfer full) A persistent leaf with its own storage (and a zeroed gradient buffer when
 * requires_grad). Free with aigc_tensor_free_leaf(). */
AigcTensor *aigc_tensor_new_leaf(int n_dims, const gint64 *shape, gboolean requires_grad);
void aigc_tensor_free_leaf(AigcTensor *t);
void aigc_tensor_zero_grad(AigcTensor *t);

gboolean aigc_tensor_is_contiguous(const AigcTensor *t);
gboolean aigc_tensor_same_shape(const AigcTensor *a, const AigcTensor *b);
/* Fills contiguous storage. */
void aigc_tensor_fill(AigcTensor *t, float value);
/* Element at a multi-index (honours strides). */
float aigc_tensor_get(const AigcTensor *t, const gint64 *index);
/* Shape as text, e.g. "[2, 3, 4]" (into buf). */
const char *aigc_tensor_shape_string(const AigcTensor *t, char *buf, gsize n);
/* Sets shape and contiguous strides of a header (no allocation). */
void aigc_tensor_set_shape(AigcTensor *t, int n_dims, const gint64 *shape);

/* ---- the tape, for op implementations ---- */

typedef void (*AigcBackwardFunc)(AigcCtx *ctx, AigcNode *node);

struct _AigcNode {
    AigcBackwardFunc backward;
    const char *op;
    AigcTensor *out[AIGC_NODE_MAX_OUTPUTS];
    int n_out;
    AigcTensor *in[AIGC_NODE_MAX_INPUTS];
    int n_in;
    gint64 i[8];  /* integer attributes */
    float f[4];   /* float attributes */
    gpointer saved; /* (nullable) arena memory the forward kept for the backward */
};

/* TRUE when an op over these inputs must record a node (grad enabled and an input requires
 * grad). Ops that save extra state check this before their forward. */
gboolean aigc_ctx_needs_grad(AigcCtx *ctx, int n_in, AigcTensor *const *in);
/* Records a node if needed (else returns NULL); marks `out` as requiring grad. */
AigcNode *aigc_ctx_record(AigcCtx *ctx, const char *op, AigcBackwardFunc backward,
                          AigcTensor *out, int n_in, AigcTensor *const *in);
AigcNode *aigc_record1(AigcCtx *ctx, const char *op, AigcBackwardFunc backward, AigcTensor *out,
                       AigcTensor *a);
AigcNode *aigc_record2(AigcCtx *ctx, const char *op, AigcBackwardFunc backward, AigcTensor *out,
                       AigcTensor *a, AigcTensor *b);
AigcNode *aigc_record3(AigcCtx *ctx, const char *op, AigcBackwardFunc backward, AigcTensor *out,
                       AigcTensor *a, AigcTensor *b, AigcTensor *c);
/* Adds a second (third…) output to a recorded node; it then requires grad too. */
void aigc_node_add_output(AigcNode *node, AigcTensor *out);

/* In a backward, for an input: its gradient buffer (zeroed on first use), or NULL when it needs
 * no gradient. For an output, read out->grad directly: NULL means none flowed (zeros). */
float *aigc_grad(AigcCtx *ctx, AigcTensor *t);

G_END_DECLS
