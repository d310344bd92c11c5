/* SPDX-License-Identifier: MIT
 *
 * Group norm + SiLU, fused. Legend: N samples, C channels, S spatial size, G groups,
 * Cg = C/G channels per group, L = Cg·S values per (sample, group) block, m and s the block's
 * mean and 1/σ, z = (x − m)·s·w + b the normalised value, y = z·σ(z).
 *
 * DESIGN: the forward writes y alone and keeps only m and s per block; the backward recomputes
 * z from x (one multiply-add) instead of reading a saved copy, so the pair costs the memory of
 * one activation instead of two and no separate SiLU pass. With dz = dy·σ(z)·(1 + z·(1 − σ(z))),
 * the group-norm gradient is PyTorch's: dx = s·(w·dz − mean(w·dz) − x̂·mean(w·dz·x̂)),
 * x̂ = (x − m)·s, computed from per-channel sums Σdz and Σdz·(x − m) — which are also the
 * parameter gradients. Parameter sums go to per-(sample, channel) partials and are added in
 * sample order afterwards, so results do not depend on the thread count.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* As in engine/nn/aigc-elementwise.c: the loops here are written to vectorise, -O2 alone would
 * not. */
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math",              \
                     "fp-contract=fast")
#endif

#include "aigc-diffusion-ops.h"

#include "nn/aigc-elementwise.h"
#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

typedef struct {
    float *out, *mean, *rstd; /* forward: y (N, C, S); m, s (N, G) */
    float *dinp, *dz;         /* backward: dx (N, C, S), scratch (N, C, S) */
    double *part_w, *part_b;  /* backward: (N, C) partial parameter sums */
    const float *inp, *weight, *bias, *dout;
    int N, C, S, G;
    float eps;
} GnSilu;

/* Elements a parallel chunk should at least hold. */
static gint64 grain_for(gint64 per_item)
{
    return MAX(16384 / MAX(per_item, 1), 1);
}

AIGC_KERNEL_BODY float sigmoid_of(float z)
{
    return 1.0f / (1.0f + aigc_vexpf(-z));
}

/* Σ x[i] and Σ (x[i] − c)² over n values, in 16 float lanes (which vectorise without
 * reassociating) added in double. */
AIGC_KERNEL_BODY void lane_sums(const float *restrict x, gint64 n, float c, double *sum,
                                double *sum_sq)
{
    float a[16] = {0}, q[16] = {0};
    gint64 i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) {
            const float d = x[i + j] - c;
            a[j] += d;
            q[j] += d * d;
        }
    double ta = 0.0, tq = 0.0;
    for (; i < n; i++) {
        const double d = (double)x[i] - c;
        ta += d;
        tq += d * d;
    }
    for (int j = 0; j < 16; j++) {
        ta += a[j];
        tq += q[j];
    }
    *sum = ta;
    *sum_sq = tq;
}

AIGC_KERNEL_BODY void gn_silu_forward_blocks_body(gint64 begin, gint64 end, gpointer data)
{
    const GnSilu *p = data;
    const int Cg = p->C / p->G, S = p->S;
    const gint64 L = (gint64)Cg * S;
    for (gint64 ng = begin; ng < end; ng++) {
        const float *restrict x = p->inp + ng * L;
        float *restrict y = p->out + ng * L;
        /* shifted by the first value, then by the mean: no cancellation in either pass */
        double sum, sum_sq, dev, var;
        lane_sums(x, L, x[0], &sum, &sum_sq);
        const double mean = x[0] + sum / (double)L;
        lane_sums(x, L, (float)mean, &dev, &var);
        var = MAX(var / (double)L - (dev / L) * (dev / L), 0.0);
        const float m = (float)mean, s = (float)(1.0 / sqrt(var + p->eps));
        const int c0 = (int)(ng % p->G) * Cg;
        for (int j = 0; j < Cg; j++) {
            const float a = s * (p->weight ? p->weight[c0 + j] : 1.0f);
            const float b = (p->bias ? p->bias[c0 + j] : 0.0f) - m * a;
            const float *restrict xj = x + (gint64)j * S;
            float *restrict yj = y + (gint64)j * S;
            for (int i = 0; i < S; i++) {
                const float z = a * xj[i] + b;
                yj[i] = z * sigmoid_of(z);
            }
        }
        if (p->mean) {
            p->mean[ng] = m;
            p->rstd[ng] = s;
        }
    }
}
AIGC_ROWS_DISPATCH(gn_silu_forward_blocks)

/* Block ng: dz into the scratch, the per-channel sums, then dx. */
AIGC_KERNEL_BODY void gn_silu_backward_blocks_body(gint64 begin, gint64 end, gpointer data)
{
    const GnSilu *p = data;
    const int Cg = p->C / p->G, S = p->S;
    const gint64 L = (gint64)Cg * S;
    for (gint64 ng = begin; ng < end; ng++) {
        const float *restrict x = p->inp + ng * L, *restrict dy = p->dout + ng * L;
        float *restrict dz = p->dz + ng * L;
        const float m = p->mean[ng], s = p->rstd[ng];
        const int c0 = (int)(ng % p->G) * Cg;
        const gint64 n = ng / p->G;
        double sum_a = 0.0, sum_b = 0.0;
        for (int j = 0; j < Cg; j++) {
            const float w = p->weight ? p->weight[c0 + j] : 1.0f;
            const float a = s * w, b = (p->bias ? p->bias[c0 + j] : 0.0f) - m * a;
            const float *restrict xj = x + (gint64)j * S, *restrict dyj = dy + (gint64)j * S;
            float *restrict dzj = dz + (gint64)j * S;
            /* one channel's S values, in 16 float lanes */
            float ly[16] = {0}, lyx[16] = {0};
            int i = 0;
            for (; i + 16 <= S; i += 16)
                for (int l = 0; l < 16; l++) {
                    const float xv = xj[i + l], z = a * xv + b, sg = sigmoid_of(z);
                    const float g = dyj[i + l] * sg * (1.0f + z * (1.0f - sg));
                    dzj[i + l] = g;
                    ly[l] += g;
                    lyx[l] += g * (xv - m);
                }
            float sy = 0.0f, syx = 0.0f;
            for (; i < S; i++) {
                const float z = a * xj[i] + b, sg = sigmoid_of(z);
                const float g = dyj[i] * sg * (1.0f + z * (1.0f - sg));
                dzj[i] = g;
                sy += g;
                syx += g * (xj[i] - m);
            }
            for (int l = 0; l < 16; l++) {
                sy += ly[l];
                syx += lyx[l];
            }
            sum_a += (double)w * sy;
            sum_b += (double)w * syx;
            if (p->part_w)
                p->part_w[n * p->C + c0 + j] = (double)syx * s;
            if (p->part_b)
                p->part_b[n * p->C + c0 + j] = sy;
        }
        if (!p->dinp)
            continue;
        float *restrict dx = p->dinp + ng * L;
        const float ma = (float)(sum_a / (double)L), k = (float)((double)s * s * sum_b / (double)L);
        for (int j = 0; j < Cg; j++) {
            const float w = p->weight ? p->weight[c0 + j] : 1.0f;
            /* dx += s·w·dz − s·ma − s·k·(x − m) */
            const float a = s * w, b = -s * k, c = -s * ma + s * k * m;
            const float *restrict dzj = dz + (gint64)j * S, *restrict xj = x + (gint64)j * S;
            float *restrict dxj = dx + (gint64)j * S;
            for (int i = 0; i < S; i++)
                dxj[i] += a * dzj[i] + b * xj[i] + c;
        }
    }
}
AIGC_ROWS_DISPATCH(gn_silu_backward_blocks)

static void gn_silu_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    AigcTensor *y = node->out[0];
    const int N = (int)node->i[0], C = (int)node->i[1], S = (int)node->i[2], G = (int)node->i[3];
    float *saved = node->saved; /* m (N, G), then s (N, G) */
    GnSilu p = {.dinp = aigc_grad(ctx, x),
                .dz = aigc_ctx_alloc_floats(ctx, x->n_elements),
                .inp = x->data,
                .weight = weight ? weight->data : NULL,
                .bias = bias ? bias->data : NULL,
                .dout = y->grad,
                .mean = saved,
                .rstd = saved + (gint64)N * G,
                .N = N,
                .C = C,
                .S = S,
                .G = G};
    float *dweight = aigc_grad(ctx, weight), *dbias = aigc_grad(ctx, bias);
    if (dweight)
        p.part_w = aigc_ctx_alloc(ctx, (gsize)N * C * sizeof(double));
    if (dbias)
        p.part_b = aigc_ctx_alloc(ctx, (gsize)N * C * sizeof(double));
    aigc_parallel_for((gint64)N * G, grain_for((gint64)C / G * S), gn_silu_backward_blocks, &p);
    for (int c = 0; c < C; c++) {
        double tw = 0.0, tb = 0.0;
        for (int n = 0; n < N; n++) {
            if (dweight)
                tw += p.part_w[(gint64)n * C + c];
            if (dbias)
                tb += p.part_b[(gint64)n * C + c];
        }
        if (dweight)
            dweight[c] += (float)tw;
        if (dbias)
            dbias[c] += (float)tb;
    }
}

AigcTensor *aigc_groupnorm_silu(AigcCtx *ctx, AigcTensor *x, int n_groups, AigcTensor *weight,
                                AigcTensor *bias, float eps)
{
    g_return_val_if_fail(ctx && x && x->n_dims >= 2 && n_groups >= 1, NULL);
    const gint64 N = x->shape[0], C = x->shape[1], S = x->n_elements / MAX(N * C, 1);
    g_return_val_if_fail(C % n_groups == 0, NULL);
    g_return_val_if_fail(!weight || weight->n_elements == C, NULL);
    g_return_val_if_fail(!bias || bias->n_elements == C, NULL);
    x = aigc_contiguous(ctx, x);
    AigcTensor *in[3] = {x, weight, bias};
    float *saved = NULL; /* m (N, G), then s (N, G) */
    if (aigc_ctx_needs_grad(ctx, 3, in))
        saved = aigc_ctx_alloc_floats(ctx, 2 * N * n_groups);
    AigcTensor *y = aigc_tensor_new_like(ctx, x);
    GnSilu p = {.out = y->data,
                .mean = saved,
                .rstd = saved ? saved + N * n_groups : NULL,
                .inp = x->data,
                .weight = weight ? weight->data : NULL,
                .bias = bias ? bias->data : NULL,
                .N = (int)N,
                .C = (int)C,
                .S = (int)S,
                .G = n_groups,
                .eps = eps};
    if (x->n_elements > 0)
        aigc_parallel_for(N * n_groups, grain_for(C / n_groups * S), gn_silu_forward_blocks, &p);
    AigcNode *node = aigc_ctx_record(ctx, "groupnorm_silu", gn_silu_backward, y, 3, in);
    if (node) {
        node->saved = saved;
        node->i[0] = N;
        node->i[1] = C;
        node->i[2] = S;
        node->i[3] = n_groups;
    }
    return y;
}
