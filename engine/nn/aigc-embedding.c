/* SPDX-License-Identifier: MIT
 *
 * Embedding lookup and its scatter-add backward.
 *
 * The backward splits the work by columns of the table, never by tokens: a repeated id then
 * always adds into its row from one thread, in token order, so there are no races and the sum
 * does not depend on the thread count.
 *
 * Legend: N tokens, C channels, V rows of the table.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* See aigc-elementwise.c: the loops here are written to vectorise, -O2 alone would not. */
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math")
#endif

#include "aigc-embedding.h"

#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <string.h>

#define GRAIN_FLOATS (1 << 14) /* floats copied or added per parallel chunk */
#define MIN_COLUMNS  64        /* narrowest column slice in the backward */

typedef struct {
    float *dst;       /* out [N, C] forward, dweight [V, C] backward */
    const float *src; /* weight forward, dout backward */
    const gint32 *ids;
    int N, C;
    int col_block;
} EmbeddingCtx;

static void embedding_rows(gint64 begin, gint64 end, gpointer data)
{
    EmbeddingCtx *c = data;
    for (gint64 t = begin; t < end; t++)
        memcpy(c->dst + t * c->C, c->src + (gint64)c->ids[t] * c->C, (gsize)c->C * sizeof(float));
}

void aigc_embedding_forward(float *out, const float *weight, const gint32 *ids, int N, int C)
{
    EmbeddingCtx c = {out, weight, ids, N, C, 0};
    aigc_parallel_for(N, MAX(1, GRAIN_FLOATS / MAX(C, 1)), embedding_rows, &c);
}

/* Column slices [k·col_block, …) of every touched row, tokens in order. */
static void embedding_back_cols(gint64 begin, gint64 end, gpointer data)
{
    EmbeddingCtx *c = data;
    for (gint64 k = begin; k < end; k++) {
        int c0 = (int)k * c->col_block;
        int w = MIN(c->col_block, c->C - c0);
        for (int t = 0; t < c->N; t++) {
            float *restrict d = c->dst + (gint64)c->ids[t] * c->C + c0;
            const float *restrict g = c->src + (gint64)t * c->C + c0;
            for (int j = 0; j < w; j++)
                d[j] += g[j];
        }
    }
}

void aigc_embedding_backward(float *dweight, const float *dout, const gint32 *ids, int N, int C)
{
    if (N <= 0 || C <= 0)
        return;
    /* Slices of at least MIN_COLUMNS, as many as there are threads when C allows. */
    int n_threads = aigc_threads_get();
    int col_block = MAX(MIN_COLUMNS, (C + n_threads - 1) / n_threads);
    if ((gint64)N * C < GRAIN_FLOATS)
        col_block = C;
    col_block = MIN(col_block, C);
    EmbeddingCtx c = {dweight, dout, ids, N, C, col_block};
    aigc_parallel_for((C + col_block - 1) / col_block, 1, embedding_back_cols, &c);
}

static void embedding_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *weight = node->in[0], *out = node->out[0];
    float *dweight = aigc_grad(ctx, weight);
    if (dweight)
        aigc_embedding_backward(dweight, out->grad, node->saved, (int)node->i[0],
                                (int)weight->shape[1]);
}

AigcTensor *aigc_embedding(AigcCtx *ctx, AigcTensor *weight, const gint32 *ids, int n_dims,
                           const gint64 *shape)
{
    g_return_val_if_fail(ctx != NULL && weight != NULL, NULL);
    g_return_val_if_fail(weight->n_dims == 2, NULL);
    g_return_val_if_fail(n_dims >= 0 && n_dims < AIGC_MAX_DIMS, NULL);
    gint64 out_shape[AIGC_MAX_DIMS];
    gint64 N = 1;
    for (int d = 0; d < n_dims; d++) {
        g_return_val_if_fail(shape[d] >= 0, NULL);
        out_shape[d] = shape[d];
        N *= shape[d];
    }
    g_return_val_if_fail(ids != NULL || N == 0, NULL);
    gint64 V = weight->shape[0];
    gint64 C = weight->shape[1];
    gboolean ids_in_range = TRUE;
    for (gint64 t = 0; t < N; t++)
        ids_in_range &= ids[t] >= 0 && ids[t] < V;
    g_return_val_if_fail(ids_in_range, NULL);
    out_shape[n_dims] = C;

    weight = aigc_contiguous(ctx, weight);
    AigcTensor *out = aigc_tensor_new(ctx, n_dims + 1, out_shape);
    aigc_embedding_forward(out->data, weight->data, ids, (int)N, (int)C);
    if (aigc_ctx_needs_grad(ctx, 1, &weight)) {
        /* The caller's ids may change before the backward runs: keep a copy. */
        gint32 *saved = aigc_ctx_alloc(ctx, (gsize)MAX(N, 1) * sizeof(gint32));
        memcpy(saved, ids, (gsize)N * sizeof(gint32));
        AigcNode *node = aigc_record1(ctx, "embedding", embedding_backward_node, out, weight);
        node->saved = saved;
        node->i[0] = N;
    }
    return out;
}
