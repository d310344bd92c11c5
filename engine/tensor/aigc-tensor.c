/* SPDX-License-Identifier: MIT
 *
 * Tensors, context and tape.
 *
 * DESIGN: the tape is an array of nodes in the arena, appended in forward order; backward runs
 * it in reverse, skipping nodes through which no gradient flowed. Tensor headers, nodes,
 * activations, saved state and non-leaf gradients all come from the arena, so a reset frees a
 * whole step at once and, once the arena has grown to the step's size, a step calls no malloc.
 */
#include "aigc-tensor.h"

#include <string.h>

#define MAX_NODES_GROWTH 1024

struct _AigcCtx {
    AigcArena *arena;
    AigcNode **nodes; /* arena array, grown by doubling */
    guint n_nodes;
    guint cap_nodes;
    gboolean grad_enabled;
    gboolean training;
    AigcRng rng;
};

AigcCtx *aigc_ctx_new(void)
{
    AigcCtx *ctx = g_new0(AigcCtx, 1);
    ctx->arena = aigc_arena_new(1 << 20);
    ctx->grad_enabled = TRUE;
    ctx->training = TRUE;
    aigc_rng_init(&ctx->rng, 0);
    return ctx;
}

void aigc_ctx_free(AigcCtx *ctx)
{
    if (!ctx)
        return;
    aigc_arena_free(ctx->arena);
    g_free(ctx);
}

void aigc_ctx_reset(AigcCtx *ctx)
{
    aigc_arena_reset(ctx->arena);
    ctx->nodes = NULL;
    ctx->n_nodes = 0;
    ctx->cap_nodes = 0;
}

void aigc_ctx_set_grad_enabled(AigcCtx *ctx, gboolean enabled)
{
    ctx->grad_enabled = enabled;
}

gboolean aigc_ctx_get_grad_enabled(AigcCtx *ctx)
{
    return ctx->grad_enabled;
}

void aigc_ctx_set_training(AigcCtx *ctx, gboolean training)
{
    ctx->training = training;
}

gboolean aigc_ctx_get_training(AigcCtx *ctx)
{
    return ctx->training;
}

AigcRng *aigc_ctx_get_rng(AigcCtx *ctx)
{
    return &ctx->rng;
}

AigcArena *aigc_ctx_get_arena(AigcCtx *ctx)
{
    return ctx->arena;
}

gpointer aigc_ctx_alloc(AigcCtx *ctx, gsize n_bytes)
{
    return aigc_arena_alloc(ctx->arena, n_bytes);
}

float *aigc_ctx_alloc_floats(AigcCtx *ctx, gint64 n)
{
    return aigc_arena_alloc(ctx->arena, (gsize)MAX(n, 1) * sizeof(float));
}

float *aigc_ctx_alloc_floats0(AigcCtx *ctx, gint64 n)
{
    return aigc_arena_alloc0(ctx->arena, (gsize)MAX(n, 1) * sizeof(float));
}

guint aigc_ctx_get_n_nodes(AigcCtx *ctx)
{
    return ctx->n_nodes;
}

/* ---- tensors ---- */

void aigc_tensor_set_shape(AigcTensor *t, int n_dims, const gint64 *shape)
{
    g_return_if_fail(n_dims >= 0 && n_dims <= AIGC_MAX_DIMS);
    t->n_dims = n_dims;
    gint64 n = 1;
    for (int d = n_dims - 1; d >= 0; d--) {
        g_return_if_fail(shape[d] >= 0);
        t->shape[d] = shape[d];
        t->stride[d] = n;
        n *= shape[d];
    }
    for (int d = n_dims; d < AIGC_MAX_DIMS; d++) {
        t->shape[d] = 1;
        t->stride[d] = 1;
    }
    t->n_elements = n;
}

AigcTensor *aigc_tensor_wrap(AigcCtx *ctx, int n_dims, const gint64 *shape, float *data)
{
    AigcTensor *t = aigc_arena_alloc(ctx->arena, sizeof(AigcTensor));
    memset(t, 0, sizeof *t);
    aigc_tensor_set_shape(t, n_dims, shape);
    t->data = data;
    return t;
}

AigcTensor *aigc_tensor_new(AigcCtx *ctx, int n_dims, const gint64 *shape)
{
    AigcTensor *t = aigc_tensor_wrap(ctx, n_dims, shape, NULL);
    t->data = aigc_ctx_alloc_floats(ctx, t->n_elements);
    return t;
}

AigcTensor *aigc_tensor_new1(AigcCtx *ctx, gint64 d0)
{
    return aigc_tensor_new(ctx, 1, (gint64[]){d0});
}

AigcTensor *aigc_tensor_new2(AigcCtx *ctx, gint64 d0, gint64 d1)
{
    return aigc_tensor_new(ctx, 2, (gint64[]){d0, d1});
}

AigcTensor *aigc_tensor_new3(AigcCtx *ctx, gint64 d0, gint64 d1, gint64 d2)
{
    return aigc_tensor_new(ctx, 3, (gint64[]){d0, d1, d2});
}

AigcTensor *aigc_tensor_new4(AigcCtx *ctx, gint64 d0, gint64 d1, gint64 d2, gint64 d3)
{
    return aigc_tensor_new(ctx, 4, (gint64[]){d0, d1, d2, d3});
}

AigcTensor *aigc_tensor_new5(AigcCtx *ctx, gint64 d0, gint64 d1, gint64 d2, gint64 d3, gint64 d4)
{
    return aigc_tensor_new(ctx, 5, (gint64[]){d0, d1, d2, d3, d4});
}

AigcTensor *aigc_tensor_zeros(AigcCtx *ctx, int n_dims, const gint64 *shape)
{
    AigcTensor *t = aigc_tensor_new(ctx, n_dims, shape);
    memset(t->data, 0, (gsize)t->n_elements * sizeof(float));
    return t;
}

AigcTensor *aigc_tensor_new_like(AigcCtx *ctx, const AigcTensor *t)
{
    return aigc_tensor_new(ctx, t->n_dims, t->shape);
}

AigcTensor *aigc_tensor_zeros_like(AigcCtx *ctx, const AigcTensor *t)
{
    return aigc_tensor_zeros(ctx, t->n_dims, t->shape);
}

AigcTensor *aigc_tensor_from_data(AigcCtx *ctx, int n_dims, const gint64 *shape,
                                  const float *src)
{
    AigcTensor *t = aigc_tensor_new(ctx, n_dims, shape);
    memcpy(t->data, src, (gsize)t->n_elements * sizeof(float));
    return t;
}

AigcTensor *aigc_tensor_new_leaf(int n_dims, const gint64 *shape, gboolean requires_grad)
{
    AigcTensor *t = g_new0(AigcTensor, 1);
    aigc_tensor_set_shape(t, n_dims, shape);
    t->data = g_new0(float, MAX(t->n_elements, 1));
    t->is_leaf = TRUE;
    t->requires_grad = requires_grad;
    if (requires_grad)
        t->grad = g_new0(float, MAX(t->n_elements, 1));
    return t;
}

void aigc_tensor_free_leaf(AigcTensor *t)
{
    if (!t)
        return;
    g_return_if_fail(t->is_leaf);
    g_free(t->data);
    g_free(t->grad);
    g_free(t);
}

void aigc_tensor_zero_grad(AigcTensor *t)
{
    if (t->grad)
        memset(t->grad, 0, (gsize)t->n_elements * sizeof(float));
}

gboolean aigc_tensor_is_contiguous(const AigcTensor *t)
{
    gint64 expected = 1;
    for (int d = t->n_dims - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != expected)
            return FALSE;
        expected *= t->shape[d];
    }
    return TRUE;
}

gboolean aigc_tensor_same_shape(const AigcTensor *a, const AigcTensor *b)
{
    if (a->n_dims != b->n_dims)
        return FALSE;
    for (int d = 0; d < a->n_dims; d++)
        if (a->shape[d] != b->shape[d])
            return FALSE;
    return TRUE;
}

void aigc_tensor_fill(AigcTensor *t, float value)
{
    g_return_if_fail(aigc_tensor_is_contiguous(t));
    for (gint64 i = 0; i < t->n_elements; i++)
        t->data[i] = value;
}

float aigc_tensor_get(const AigcTensor *t, const gint64 *index)
{
    gint64 off = 0;
    for (int d = 0; d < t->n_dims; d++)
        off += index[d] * t->stride[d];
    return t->data[off];
}

const char *aigc_tensor_shape_string(const AigcTensor *t, char *buf, gsize n)
{
    GString *s = g_string_new("[");
    for (int d = 0; d < t->n_dims; d++)
        g_string_append_printf(s, "%s%" G_GINT64_FORMAT, d ? ", " : "", t->shape[d]);
    g_string_append_c(s, ']');
    g_strlcpy(buf, s->str, n);
    g_string_free(s, TRUE);
    return buf;
}

/* ---- tape ---- */

gboolean aigc_ctx_needs_grad(AigcCtx *ctx, int n_in, AigcTensor *const *in)
{
    if (!ctx->grad_enabled)
        return FALSE;
    for (int i = 0; i < n_in; i++)
        if (in[i] && in[i]->requires_grad)
            return TRUE;
    return FALSE;
}

AigcNode *aigc_ctx_record(AigcCtx *ctx, const char *op, AigcBackwardFunc backward,
                          AigcTensor *out, int n_in, AigcTensor *const *in)
{
    g_return_val_if_fail(n_in <= AIGC_NODE_MAX_INPUTS, NULL);
    if (!aigc_ctx_needs_grad(ctx, n_in, in))
        return NULL;
    if (ctx->n_nodes == ctx->cap_nodes) {
        guint cap = MAX(ctx->cap_nodes * 2, 256u);
        AigcNode **nodes = aigc_arena_alloc(ctx->arena, cap * sizeof(AigcNode *));
        if (ctx->n_nodes)
            memcpy(nodes, ctx->nodes, ctx->n_nodes * sizeof(AigcNode *));
        ctx->nodes = nodes;
        ctx->cap_nodes = cap;
    }
    AigcNode *node = aigc_arena_alloc0(ctx->arena, sizeof(AigcNode));
    node->backward = backward;
    node->op = op;
    node->out[0] = out;
    node->n_out = 1;
    node->n_in = n_in;
    for (int i = 0; i < n_in; i++)
        node->in[i] = in[i];
    out->requires_grad = TRUE;
    ctx->nodes[ctx->n_nodes++] = node;
    return node;
}

AigcNode *aigc_record1(AigcCtx *ctx, const char *op, AigcBackwardFunc backward, AigcTensor *out,
                       AigcTensor *a)
{
    AigcTensor *in[1] = {a};
    return aigc_ctx_record(ctx, op, backward, out, 1, in);
}

AigcNode *aigc_record2(AigcCtx *ctx, const char *op, AigcBackwardFunc backward, AigcTensor *out,
                       AigcTensor *a, AigcTensor *b)
{
    AigcTensor *in[2] = {a, b};
    return aigc_ctx_record(ctx, op, backward, out, 2, in);
}

AigcNode *aigc_record3(AigcCtx *ctx, const char *op, AigcBackwardFunc backward, AigcTensor *out,
                       AigcTensor *a, AigcTensor *b, AigcTensor *c)
{
    AigcTensor *in[3] = {a, b, c};
    return aigc_ctx_record(ctx, op, backward, out, 3, in);
}

void aigc_node_add_output(AigcNode *node, AigcTensor *out)
{
    g_return_if_fail(node->n_out < AIGC_NODE_MAX_OUTPUTS);
    node->out[node->n_out++] = out;
    out->requires_grad = TRUE;
}

float *aigc_grad(AigcCtx *ctx, AigcTensor *t)
{
    if (!t || !t->requires_grad)
        return NULL;
    if (!t->grad) {
        g_return_val_if_fail(!t->is_leaf, NULL);
        t->grad = aigc_ctx_alloc_floats0(ctx, t->n_elements);
    }
    return t->grad;
}

static void run_tape(AigcCtx *ctx)
{
    for (guint k = ctx->n_nodes; k-- > 0;) {
        AigcNode *node = ctx->nodes[k];
        gboolean any = FALSE;
        for (int o = 0; o < node->n_out; o++)
            any |= node->out[o]->grad != NULL;
        if (any)
            node->backward(ctx, node);
    }
    /* The gradients of intermediate tensors are consumed: a later backward in the same step
     * (a GAN's second loss) runs only the nodes its own loss reaches. */
    for (guint k = 0; k < ctx->n_nodes; k++) {
        AigcNode *node = ctx->nodes[k];
        for (int o = 0; o < node->n_out; o++)
            if (!node->out[o]->is_leaf)
                node->out[o]->grad = NULL;
    }
}

void aigc_ctx_backward(AigcCtx *ctx, AigcTensor *loss)
{
    g_return_if_fail(loss->n_elements == 1);
    const float one = 1.0f;
    aigc_ctx_backward_from(ctx, loss, &one);
}

void aigc_ctx_backward_from(AigcCtx *ctx, AigcTensor *out, const float *dout)
{
    if (!out->requires_grad)
        return;
    float *d = aigc_grad(ctx, out);
    for (gint64 i = 0; i < out->n_elements; i++)
        d[i] += dout[i];
    run_tape(ctx);
}
