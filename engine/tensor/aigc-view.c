/* SPDX-License-Identifier: MIT
 *
 * Views and shape ops. A view's gradient is contiguous in the view's shape; its backward maps
 * each view index back to the input's logical index (inverse permutation, slice offset) and adds
 * into the input's contiguous gradient.
 */
#include "aigc-view.h"

#include "aigc-threads.h"

#include <string.h>

static void contiguous_strides(const gint64 *shape, int n_dims, gint64 *stride)
{
    gint64 n = 1;
    for (int d = n_dims - 1; d >= 0; d--) {
        stride[d] = n;
        n *= shape[d];
    }
}

typedef struct {
    float *dst;
    const float *src;
    gint64 dst_stride[AIGC_MAX_DIMS], src_stride[AIGC_MAX_DIMS], shape[AIGC_MAX_DIMS];
    int n_dims;
    gboolean accumulate;
} StridedCtx;

/* Parallel over the outermost dimension; the innermost loop is the contiguous one when possible. */
static void strided_rows(gint64 begin, gint64 end, gpointer data)
{
    StridedCtx *c = data;
    int nd = c->n_dims;
    gint64 idx[AIGC_MAX_DIMS];
    gint64 inner = c->shape[nd - 1];
    gint64 ds = c->dst_stride[nd - 1], ss = c->src_stride[nd - 1];
    /* rows = product of all but the last dim */
    for (gint64 row = begin; row < end; row++) {
        gint64 r = row;
        gint64 doff = 0, soff = 0;
        for (int d = nd - 2; d >= 0; d--) {
            idx[d] = r % c->shape[d];
            r /= c->shape[d];
            doff += idx[d] * c->dst_stride[d];
            soff += idx[d] * c->src_stride[d];
        }
        float *dp = c->dst + doff;
        const float *sp = c->src + soff;
        if (c->accumulate) {
            if (ds == 1 && ss == 1)
                for (gint64 k = 0; k < inner; k++)
                    dp[k] += sp[k];
            else
                for (gint64 k = 0; k < inner; k++)
                    dp[k * ds] += sp[k * ss];
        } else {
            if (ds == 1 && ss == 1)
                memcpy(dp, sp, (gsize)inner * sizeof(float));
            else
                for (gint64 k = 0; k < inner; k++)
                    dp[k * ds] = sp[k * ss];
        }
    }
}

void aigc_strided_copy(float *dst, const gint64 *dst_stride, const float *src,
                       const gint64 *src_stride, const gint64 *shape, int n_dims,
                       gboolean accumulate)
{
    if (n_dims == 0) {
        dst[0] = accumulate ? dst[0] + src[0] : src[0];
        return;
    }
    StridedCtx c = {.dst = dst, .src = src, .n_dims = n_dims, .accumulate = accumulate};
    gint64 rows = 1;
    for (int d = 0; d < n_dims; d++) {
        c.dst_stride[d] = dst_stride[d];
        c.src_stride[d] = src_stride[d];
        c.shape[d] = shape[d];
        if (shape[d] == 0)
            return;
        if (d < n_dims - 1)
            rows *= shape[d];
    }
    aigc_parallel_for(rows, MAX(1, 16384 / MAX(shape[n_dims - 1], 1)), strided_rows, &c);
}

/* ---- reshape ---- */

static void add_same_order_backward(AigcCtx *ctx, AigcNode *node)
{
    float *dx = aigc_grad(ctx, node->in[0]);
    const float *dy = node->out[0]->grad;
    if (!dx)
        return;
    for (gint64 i = 0; i < node->out[0]->n_elements; i++)
        dx[i] += dy[i];
}

AigcTensor *aigc_reshape(AigcCtx *ctx, AigcTensor *x, int n_dims, const gint64 *shape)
{
    x = aigc_contiguous(ctx, x);
    gint64 s[AIGC_MAX_DIMS];
    gint64 known = 1;
    int infer = -1;
    for (int d = 0; d < n_dims; d++) {
        s[d] = shape[d];
        if (s[d] == -1) {
            g_return_val_if_fail(infer < 0, NULL);
            infer = d;
        } else {
            known *= s[d];
        }
    }
    if (infer >= 0)
        s[infer] = known ? x->n_elements / known : 0;
    AigcTensor *y = aigc_tensor_wrap(ctx, n_dims, s, x->data);
    g_return_val_if_fail(y->n_elements == x->n_elements, NULL);
    aigc_record1(ctx, "reshape", add_same_order_backward, y, x);
    return y;
}

/* ---- permute / transpose ---- */

static void permute_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *y = node->out[0];
    float *dx = aigc_grad(ctx, x);
    if (!dx)
        return;
    gint64 xs[AIGC_MAX_DIMS], dst_stride[AIGC_MAX_DIMS], ys[AIGC_MAX_DIMS];
    contiguous_strides(x->shape, x->n_dims, xs);
    contiguous_strides(y->shape, y->n_dims, ys);
    for (int d = 0; d < y->n_dims; d++)
        dst_stride[d] = xs[node->i[d]];
    aigc_strided_copy(dx, dst_stride, y->grad, ys, y->shape, y->n_dims, TRUE);
}

AigcTensor *aigc_permute(AigcCtx *ctx, AigcTensor *x, const int *perm)
{
    AigcTensor *y = aigc_tensor_wrap(ctx, x->n_dims, x->shape, x->data);
    gboolean seen[AIGC_MAX_DIMS] = {FALSE};
    for (int d = 0; d < x->n_dims; d++) {
        g_return_val_if_fail(perm[d] >= 0 && perm[d] < x->n_dims && !seen[perm[d]], NULL);
        seen[perm[d]] = TRUE;
        y->shape[d] = x->shape[perm[d]];
        y->stride[d] = x->stride[perm[d]];
    }
    AigcNode *node = aigc_record1(ctx, "permute", permute_backward, y, x);
    if (node)
        for (int d = 0; d < x->n_dims; d++)
            node->i[d] = perm[d];
    return y;
}

AigcTensor *aigc_transpose(AigcCtx *ctx, AigcTensor *x, int dim0, int dim1)
{
    int perm[AIGC_MAX_DIMS];
    for (int d = 0; d < x->n_dims; d++)
        perm[d] = d;
    perm[dim0] = dim1;
    perm[dim1] = dim0;
    return aigc_permute(ctx, x, perm);
}

/* ---- slice ---- */

static void slice_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *y = node->out[0];
    float *dx = aigc_grad(ctx, x);
    if (!dx)
        return;
    gint64 xs[AIGC_MAX_DIMS], ys[AIGC_MAX_DIMS];
    contiguous_strides(x->shape, x->n_dims, xs);
    contiguous_strides(y->shape, y->n_dims, ys);
    int dim = (int)node->i[0];
    aigc_strided_copy(dx + node->i[1] * xs[dim], xs, y->grad, ys, y->shape, y->n_dims, TRUE);
}

AigcTensor *aigc_slice(AigcCtx *ctx, AigcTensor *x, int dim, gint64 start, gint64 end)
{
    g_return_val_if_fail(dim >= 0 && dim < x->n_dims, NULL);
    g_return_val_if_fail(0 <= start && start <= end && end <= x->shape[dim], NULL);
    AigcTensor *y = aigc_tensor_wrap(ctx, x->n_dims, x->shape, x->data + start * x->stride[dim]);
    memcpy(y->stride, x->stride, sizeof y->stride);
    y->shape[dim] = end - start;
    y->n_elements = 1;
    for (int d = 0; d < y->n_dims; d++)
        y->n_elements *= y->shape[d];
    AigcNode *node = aigc_record1(ctx, "slice", slice_backward, y, x);
    if (node) {
        node->i[0] = dim;
        node->i[1] = start;
    }
    return y;
}

/* ---- contiguous ---- */

AigcTensor *aigc_contiguous(AigcCtx *ctx, AigcTensor *x)
{
    if (aigc_tensor_is_contiguous(x))
        return x;
    AigcTensor *y = aigc_tensor_new(ctx, x->n_dims, x->shape);
    aigc_strided_copy(y->data, y->stride, x->data, x->stride, x->shape, x->n_dims, FALSE);
    /* y and x hold the same elements in the same logical order. */
    aigc_record1(ctx, "contiguous", add_same_order_backward, y, x);
    return y;
}

/* ---- concat / split ---- */

static void concat_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *y = node->out[0];
    int dim = (int)node->i[0];
    gint64 ys[AIGC_MAX_DIMS];
    contiguous_strides(y->shape, y->n_dims, ys);
    gint64 offset = 0;
    for (int k = 0; k < node->n_in; k++) {
        AigcTensor *x = node->in[k];
        float *dx = aigc_grad(ctx, x);
        if (dx) {
            gint64 xs[AIGC_MAX_DIMS];
            contiguous_strides(x->shape, x->n_dims, xs);
            aigc_strided_copy(dx, xs, y->grad + offset * ys[dim], ys, x->shape, x->n_dims, TRUE);
        }
        offset += x->shape[dim];
    }
}

AigcTensor *aigc_concat(AigcCtx *ctx, int n, AigcTensor *const *xs, int dim)
{
    g_return_val_if_fail(n >= 1 && n <= AIGC_NODE_MAX_INPUTS, NULL);
    gint64 shape[AIGC_MAX_DIMS];
    memcpy(shape, xs[0]->shape, sizeof shape);
    shape[dim] = 0;
    for (int k = 0; k < n; k++) {
        g_return_val_if_fail(xs[k]->n_dims == xs[0]->n_dims, NULL);
        for (int d = 0; d < xs[0]->n_dims; d++)
            g_return_val_if_fail(d == dim || xs[k]->shape[d] == xs[0]->shape[d], NULL);
        shape[dim] += xs[k]->shape[dim];
    }
    AigcTensor *y = aigc_tensor_new(ctx, xs[0]->n_dims, shape);
    gint64 offset = 0;
    for (int k = 0; k < n; k++) {
        aigc_strided_copy(y->data + offset * y->stride[dim], y->stride, xs[k]->data, xs[k]->stride,
                          xs[k]->shape, xs[k]->n_dims, FALSE);
        offset += xs[k]->shape[dim];
    }
    AigcNode *node = aigc_ctx_record(ctx, "concat", concat_backward, y, n, xs);
    if (node)
        node->i[0] = dim;
    return y;
}

void aigc_split(AigcCtx *ctx, AigcTensor *x, int dim, int n, const gint64 *sizes,
                AigcTensor **out)
{
    gint64 start = 0;
    for (int k = 0; k < n; k++) {
        out[k] = aigc_slice(ctx, x, dim, start, start + sizes[k]);
        start += sizes[k];
    }
    g_return_if_fail(start == x->shape[dim]);
}
