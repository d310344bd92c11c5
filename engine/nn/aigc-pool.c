/* SPDX-License-Identifier: MIT
 *
 * Pooling and upsampling. Every kernel works plane by plane (one (n, c) pair at a time), in
 * parallel over planes: a plane's backward only adds into its own plane of dinp, so threads
 * never write the same element and results do not depend on the thread count. The 1-D ops are
 * the 2-D ones with H = 1 (kernel height 1, factor 1 along H), which PyTorch also does.
 *
 * Legend: P planes (N·C); H, W input size; OH, OW output size; KH, KW window; sh, sw stride;
 * ph, pw padding; fh, fw upsampling factors.
 */
#include "aigc-pool.h"

#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <math.h>
#include <string.h>

/* Elements a parallel chunk should at least touch, so small tensors stay on one thread. */
#define POOL_GRAIN_FLOATS 16384

typedef struct {
    float *out;        /* [P, OH, OW] (forward) */
    gint32 *argmax;    /* (nullable) [P, OH, OW] */
    float *dinp;       /* [P, H, W] (backward) */
    const float *inp;  /* [P, H, W] */
    const float *dout; /* [P, OH, OW] */
    const gint32 *argmax_in;
    int H, W, OH, OW;
    int KH, KW, sh, sw, ph, pw; /* pooling */
    int fh, fw;                 /* upsampling */
    gboolean count_include_pad;
} PlaneJob;

static gint64 plane_grain(gint64 floats_per_plane)
{
    return MAX(POOL_GRAIN_FLOATS / MAX(floats_per_plane, 1), 1);
}

int aigc_pool_out_size(int in, int kernel, int stride, int pad)
{
    g_return_val_if_fail(kernel > 0 && stride > 0, 0);
    int span = in + 2 * pad - kernel;
    return span < 0 ? 0 : span / stride + 1;
}

/* ---- max pooling ---- */

static void max_pool_planes(gint64 p0, gint64 p1, gpointer data)
{
    const PlaneJob *job = data;
    const int H = job->H, W = job->W, OH = job->OH, OW = job->OW;
    for (gint64 p = p0; p < p1; p++) {
        const float *x = job->inp + p * H * W; /* [H, W] */
        float *y = job->out + p * OH * OW;     /* [OH, OW] */
        gint32 *arg = job->argmax ? job->argmax + p * OH * OW : NULL;
        for (int oh = 0; oh < OH; oh++) {
            int hs = oh * job->sh - job->ph, he = MIN(hs + job->KH, H);
            hs = MAX(hs, 0);
            for (int ow = 0; ow < OW; ow++) {
                int ws = ow * job->sw - job->pw, we = MIN(ws + job->KW, W);
                ws = MAX(ws, 0);
                float best = -INFINITY;
                gint32 best_i = hs * W + ws;
                for (int ih = hs; ih < he; ih++)
                    for (int iw = ws; iw < we; iw++) {
                        float v = x[ih * W + iw];
                        if (v > best || isnan(v)) {
                            best = v;
                            best_i = ih * W + iw;
                        }
                    }
                y[oh * OW + ow] = best;
                if (arg)
                    arg[oh * OW + ow] = best_i;
            }
        }
    }
}

static void max_pool_backward_planes(gint64 p0, gint64 p1, gpointer data)
{
    const PlaneJob *job = data;
    gint64 HW = (gint64)job->H * job->W, OHW = (gint64)job->OH * job->OW;
    for (gint64 p = p0; p < p1; p++) {
        float *dx = job->dinp + p * HW;
        const float *dy = job->dout + p * OHW;
        const gint32 *arg = job->argmax_in + p * OHW;
        for (gint64 o = 0; o < OHW; o++)
            dx[arg[o]] += dy[o];
    }
}

/* The sizes of a pooling job; the caller fills in the buffers. */
static PlaneJob pool_job(int H, int W, int KH, int KW, int sh, int sw, int ph, int pw)
{
    PlaneJob job = {.H = H, .W = W, .KH = KH, .KW = KW, .sh = sh, .sw = sw, .ph = ph, .pw = pw};
    job.OH = aigc_pool_out_size(H, KH, sh, ph);
    job.OW = aigc_pool_out_size(W, KW, sw, pw);
    return job;
}

void aigc_max_pool2d_forward(float *out, gint32 *argmax, const float *inp, int N, int C, int H,
                             int W, int K, int stride, int pad)
{
    PlaneJob job = pool_job(H, W, K, K, stride, stride, pad, pad);
    job.out = out;
    job.argmax = argmax;
    job.inp = inp;
    aigc_parallel_for((gint64)N * C, plane_grain((gint64)job.OH * job.OW * K * K), max_pool_planes,
                      &job);
}

void aigc_max_pool2d_backward(float *dinp, const float *dout, const gint32 *argmax, int N, int C,
                              int H, int W, int K, int stride, int pad)
{
    PlaneJob job = pool_job(H, W, K, K, stride, stride, pad, pad);
    job.dinp = dinp;
    job.dout = dout;
    job.argmax_in = argmax;
    aigc_parallel_for((gint64)N * C, plane_grain((gint64)job.OH * job.OW), max_pool_backward_planes,
                      &job);
}

/* ---- average pooling ---- */

/* PyTorch's window: clipped to the padded input for the full-window count, then to the input for
 * the real-element count and the summation bounds. */
static void avg_window(int o, int stride, int pad, int k, int n, int *start, int *end, int *full)
{
    int s = o * stride - pad, e = MIN(s + k, n + pad);
    *full = e - s;
    *start = MAX(s, 0);
    *end = MIN(e, n);
}

static void avg_pool_planes(gint64 p0, gint64 p1, gpointer data)
{
    const PlaneJob *job = data;
    const int H = job->H, W = job->W, OH = job->OH, OW = job->OW;
    for (gint64 p = p0; p < p1; p++) {
        const float *x = job->inp + p * H * W; /* [H, W] */
        float *y = job->out + p * OH * OW;     /* [OH, OW] */
        for (int oh = 0; oh < OH; oh++) {
            int hs, he, hfull;
            avg_window(oh, job->sh, job->ph, job->KH, H, &hs, &he, &hfull);
            for (int ow = 0; ow < OW; ow++) {
                int ws, we, wfull;
                avg_window(ow, job->sw, job->pw, job->KW, W, &ws, &we, &wfull);
                float sum = 0.0f;
                for (int ih = hs; ih < he; ih++)
                    for (int iw = ws; iw < we; iw++)
                        sum += x[ih * W + iw];
                int div = job->count_include_pad ? hfull * wfull : (he - hs) * (we - ws);
                y[oh * OW + ow] = div > 0 ? sum / (float)div : 0.0f;
            }
        }
    }
}

static void avg_pool_backward_planes(gint64 p0, gint64 p1, gpointer data)
{
    const PlaneJob *job = data;
    const int H = job->H, W = job->W, OH = job->OH, OW = job->OW;
    for (gint64 p = p0; p < p1; p++) {
        float *dx = job->dinp + p * H * W;         /* [H, W] */
        const float *dy = job->dout + p * OH * OW; /* [OH, OW] */
        for (int oh = 0; oh < OH; oh++) {
            int hs, he, hfull;
            avg_window(oh, job->sh, job->ph, job->KH, H, &hs, &he, &hfull);
            for (int ow = 0; ow < OW; ow++) {
                int ws, we, wfull;
                avg_window(ow, job->sw, job->pw, job->KW, W, &ws, &we, &wfull);
                int div = job->count_include_pad ? hfull * wfull : (he - hs) * (we - ws);
                if (div <= 0)
                    continue;
                float g = dy[oh * OW + ow] / (float)div;
                for (int ih = hs; ih < he; ih++)
                    for (int iw = ws; iw < we; iw++)
                        dx[ih * W + iw] += g;
            }
        }
    }
}

static void avg_pool(float *out, float *dinp, const float *inp, const float *dout, int P, int H,
                     int W, int KH, int KW, int sh, int sw, int ph, int pw,
                     gboolean count_include_pad)
{
    PlaneJob job = pool_job(H, W, KH, KW, sh, sw, ph, pw);
    job.out = out;
    job.dinp = dinp;
    job.inp = inp;
    job.dout = dout;
    job.count_include_pad = count_include_pad;
    aigc_parallel_for(P, plane_grain((gint64)job.OH * job.OW * KH * KW),
                      out ? avg_pool_planes : avg_pool_backward_planes, &job);
}

void aigc_avg_pool2d_forward(float *out, const float *inp, int N, int C, int H, int W, int K,
                             int stride, int pad, gboolean count_include_pad)
{
    avg_pool(out, NULL, inp, NULL, N * C, H, W, K, K, stride, stride, pad, pad, count_include_pad);
}

void aigc_avg_pool2d_backward(float *dinp, const float *dout, int N, int C, int H, int W, int K,
                              int stride, int pad, gboolean count_include_pad)
{
    avg_pool(NULL, dinp, NULL, dout, N * C, H, W, K, K, stride, stride, pad, pad,
             count_include_pad);
}

void aigc_avg_pool1d_forward(float *out, const float *inp, int N, int C, int L, int K, int stride,
                             int pad, gboolean count_include_pad)
{
    avg_pool(out, NULL, inp, NULL, N * C, 1, L, 1, K, 1, stride, 0, pad, count_include_pad);
}

void aigc_avg_pool1d_backward(float *dinp, const float *dout, int N, int C, int L, int K,
                              int stride, int pad, gboolean count_include_pad)
{
    avg_pool(NULL, dinp, NULL, dout, N * C, 1, L, 1, K, 1, stride, 0, pad, count_include_pad);
}

/* ---- nearest upsampling ---- */

static void nearest_planes(gint64 p0, gint64 p1, gpointer data)
{
    const PlaneJob *job = data;
    const int H = job->H, W = job->W, fh = job->fh, fw = job->fw, OW = W * fw;
    for (gint64 p = p0; p < p1; p++) {
        const float *x = job->inp + p * H * W;         /* [H, W] */
        float *y = job->out + p * (gint64)H * fh * OW; /* [H·fh, OW] */
        for (int ih = 0; ih < H; ih++) {
            float *restrict row = y + (gint64)ih * fh * OW;
            const float *restrict s = x + (gint64)ih * W;
            for (int iw = 0; iw < W; iw++)
                for (int a = 0; a < fw; a++)
                    row[iw * fw + a] = s[iw];
            for (int a = 1; a < fh; a++)
                memcpy(row + (gint64)a * OW, row, (gsize)OW * sizeof(float));
        }
    }
}

static void nearest_backward_planes(gint64 p0, gint64 p1, gpointer data)
{
    const PlaneJob *job = data;
    const int H = job->H, W = job->W, fh = job->fh, fw = job->fw, OW = W * fw;
    for (gint64 p = p0; p < p1; p++) {
        float *dx = job->dinp + p * H * W;                     /* [H, W] */
        const float *dy = job->dout + p * (gint64)H * fh * OW; /* [H·fh, OW] */
        for (int ih = 0; ih < H; ih++) {
            float *restrict d = dx + (gint64)ih * W;
            for (int a = 0; a < fh; a++) {
                const float *restrict row = dy + ((gint64)ih * fh + a) * OW;
                for (int iw = 0; iw < W; iw++) {
                    float sum = 0.0f;
                    for (int b = 0; b < fw; b++)
                        sum += row[iw * fw + b];
                    d[iw] += sum;
                }
            }
        }
    }
}

static void upsample_nearest(float *out, float *dinp, const float *inp, const float *dout, int P,
                             int H, int W, int fh, int fw)
{
    PlaneJob job = {
        .out = out, .dinp = dinp, .inp = inp, .dout = dout, .H = H, .W = W, .fh = fh, .fw = fw};
    aigc_parallel_for(P, plane_grain((gint64)H * W * fh * fw),
                      out ? nearest_planes : nearest_backward_planes, &job);
}

void aigc_upsample_nearest1d_forward(float *out, const float *inp, int N, int C, int L, int factor)
{
    upsample_nearest(out, NULL, inp, NULL, N * C, 1, L, 1, factor);
}

void aigc_upsample_nearest1d_backward(float *dinp, const float *dout, int N, int C, int L,
                                      int factor)
{
    upsample_nearest(NULL, dinp, NULL, dout, N * C, 1, L, 1, factor);
}

void aigc_upsample_nearest2d_forward(float *out, const float *inp, int N, int C, int H, int W,
                                     int factor)
{
    upsample_nearest(out, NULL, inp, NULL, N * C, H, W, factor, factor);
}

void aigc_upsample_nearest2d_backward(float *dinp, const float *dout, int N, int C, int H, int W,
                                      int factor)
{
    upsample_nearest(NULL, dinp, NULL, dout, N * C, H, W, factor, factor);
}

/* ---- linear / bilinear upsampling ---- */

typedef struct {
    int i0, i1;   /* input neighbours */
    float l0, l1; /* their weights */
} LinearTap;

/* PyTorch's area_pixel_compute_source_index (align_corners = False): the source position is
 * computed in double from a float scale, then rounded to float. */
static inline LinearTap linear_tap(int dst, int n_in, int factor)
{
    float scale = (float)(1.0 / factor);
    float src = (float)(scale * (dst + 0.5) - 0.5);
    if (src < 0.0f)
        src = 0.0f;
    LinearTap t;
    t.i0 = (int)src;
    t.i1 = t.i0 + (t.i0 < n_in - 1 ? 1 : 0);
    t.l1 = CLAMP(src - (float)t.i0, 0.0f, 1.0f);
    t.l0 = 1.0f - t.l1;
    return t;
}

/* The taps along W are the same for every row and plane; each plane computes them once per block
 * of output columns instead of once per output element. */
#define TAP_BLOCK 256

static void bilinear_planes(gint64 p0, gint64 p1, gpointer data)
{
    const PlaneJob *job = data;
    const int H = job->H, W = job->W, OH = H * job->fh, OW = W * job->fw;
    LinearTap tw[TAP_BLOCK];
    for (gint64 p = p0; p < p1; p++) {
        const float *x = job->inp + p * H * W; /* [H, W] */
        float *y = job->out + p * OH * OW;     /* [OH, OW] */
        for (int ow0 = 0; ow0 < OW; ow0 += TAP_BLOCK) {
            int n = MIN(TAP_BLOCK, OW - ow0);
            for (int k = 0; k < n; k++)
                tw[k] = linear_tap(ow0 + k, W, job->fw);
            for (int oh = 0; oh < OH; oh++) {
                LinearTap th = linear_tap(oh, H, job->fh);
                const float *r0 = x + (gint64)th.i0 * W, *r1 = x + (gint64)th.i1 * W;
                float *yr = y + (gint64)oh * OW + ow0;
                for (int k = 0; k < n; k++)
                    yr[k] = th.l0 * (tw[k].l0 * r0[tw[k].i0] + tw[k].l1 * r0[tw[k].i1]) +
                            th.l1 * (tw[k].l0 * r1[tw[k].i0] + tw[k].l1 * r1[tw[k].i1]);
            }
        }
    }
}

static void bilinear_backward_planes(gint64 p0, gint64 p1, gpointer data)
{
    const PlaneJob *job = data;
    const int H = job->H, W = job->W, OH = H * job->fh, OW = W * job->fw;
    LinearTap tw[TAP_BLOCK];
    for (gint64 p = p0; p < p1; p++) {
        float *dx = job->dinp + p * H * W;         /* [H, W] */
        const float *dy = job->dout + p * OH * OW; /* [OH, OW] */
        for (int ow0 = 0; ow0 < OW; ow0 += TAP_BLOCK) {
            int n = MIN(TAP_BLOCK, OW - ow0);
            for (int k = 0; k < n; k++)
                tw[k] = linear_tap(ow0 + k, W, job->fw);
            for (int oh = 0; oh < OH; oh++) {
                LinearTap th = linear_tap(oh, H, job->fh);
                float *r0 = dx + (gint64)th.i0 * W, *r1 = dx + (gint64)th.i1 * W;
                const float *g = dy + (gint64)oh * OW + ow0;
                for (int k = 0; k < n; k++) {
                    r0[tw[k].i0] += th.l0 * tw[k].l0 * g[k];
                    r0[tw[k].i1] += th.l0 * tw[k].l1 * g[k];
                }
                if (th.l1 == 0.0f) /* the last rows, and every row of a 1-D input */
                    continue;
                for (int k = 0; k < n; k++) {
                    r1[tw[k].i0] += th.l1 * tw[k].l0 * g[k];
                    r1[tw[k].i1] += th.l1 * tw[k].l1 * g[k];
                }
            }
        }
    }
}

static void upsample_linear(float *out, float *dinp, const float *inp, const float *dout, int P,
                            int H, int W, int fh, int fw)
{
    PlaneJob job = {
        .out = out, .dinp = dinp, .inp = inp, .dout = dout, .H = H, .W = W, .fh = fh, .fw = fw};
    aigc_parallel_for(P, plane_grain((gint64)H * W * fh * fw * 4),
                      out ? bilinear_planes : bilinear_backward_planes, &job);
}

void aigc_upsample_linear1d_forward(float *out, const float *inp, int N, int C, int L, int factor)
{
    upsample_linear(out, NULL, inp, NULL, N * C, 1, L, 1, factor);
}

void aigc_upsample_linear1d_backward(float *dinp, const float *dout, int N, int C, int L,
                                     int factor)
{
    upsample_linear(NULL, dinp, NULL, dout, N * C, 1, L, 1, factor);
}

void aigc_upsample_bilinear2d_forward(float *out, const float *inp, int N, int C, int H, int W,
                                      int factor)
{
    upsample_linear(out, NULL, inp, NULL, N * C, H, W, factor, factor);
}

void aigc_upsample_bilinear2d_backward(float *dinp, const float *dout, int N, int C, int H, int W,
                                       int factor)
{
    upsample_linear(NULL, dinp, NULL, dout, N * C, H, W, factor, factor);
}

/* ---- differentiable ops ----
 * node->i holds the op's sizes; the input shape comes from node->in[0]. */

enum { I_K, I_STRIDE, I_PAD, I_INCLUDE_PAD };

static void max_pool2d_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0];
    float *dx = aigc_grad(ctx, x);
    if (!dx)
        return;
    aigc_max_pool2d_backward(dx, node->out[0]->grad, node->saved, (int)x->shape[0],
                             (int)x->shape[1], (int)x->shape[2], (int)x->shape[3],
                             (int)node->i[I_K], (int)node->i[I_STRIDE], (int)node->i[I_PAD]);
}

AigcTensor *aigc_max_pool2d(AigcCtx *ctx, AigcTensor *x, int kernel, int stride, int padding)
{
    g_return_val_if_fail(x->n_dims == 4, NULL);
    g_return_val_if_fail(kernel > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel, NULL);
    x = aigc_contiguous(ctx, x);
    int N = (int)x->shape[0], C = (int)x->shape[1], H = (int)x->shape[2], W = (int)x->shape[3];
    int OH = aigc_pool_out_size(H, kernel, stride, padding);
    int OW = aigc_pool_out_size(W, kernel, stride, padding);
    g_return_val_if_fail(OH > 0 && OW > 0, NULL);
    AigcTensor *y = aigc_tensor_new4(ctx, N, C, OH, OW); /* [N, C, OH, OW] */
    gint32 *argmax = NULL;                               /* [N, C, OH, OW] */
    if (aigc_ctx_needs_grad(ctx, 1, &x))
        argmax = aigc_ctx_alloc(ctx, (gsize)y->n_elements * sizeof(gint32));
    aigc_max_pool2d_forward(y->data, argmax, x->data, N, C, H, W, kernel, stride, padding);
    AigcNode *node = aigc_record1(ctx, "max_pool2d", max_pool2d_backward_node, y, x);
    if (node) {
        node->saved = argmax;
        node->i[I_K] = kernel;
        node->i[I_STRIDE] = stride;
        node->i[I_PAD] = padding;
    }
    return y;
}

static void avg_pool_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0];
    float *dx = aigc_grad(ctx, x);
    if (!dx)
        return;
    int K = (int)node->i[I_K], s = (int)node->i[I_STRIDE], p = (int)node->i[I_PAD];
    gboolean include = (gboolean)node->i[I_INCLUDE_PAD];
    if (x->n_dims == 4)
        aigc_avg_pool2d_backward(dx, node->out[0]->grad, (int)x->shape[0], (int)x->shape[1],
                                 (int)x->shape[2], (int)x->shape[3], K, s, p, include);
    else
        aigc_avg_pool1d_backward(dx, node->out[0]->grad, (int)x->shape[0], (int)x->shape[1],
                                 (int)x->shape[2], K, s, p, include);
}

static void record_avg_pool(AigcCtx *ctx, AigcTensor *y, AigcTensor *x, int kernel, int stride,
                            int padding, gboolean count_include_pad)
{
    AigcNode *node = aigc_record1(ctx, "avg_pool", avg_pool_backward_node, y, x);
    if (node) {
        node->i[I_K] = kernel;
        node->i[I_STRIDE] = stride;
        node->i[I_PAD] = padding;
        node->i[I_INCLUDE_PAD] = count_include_pad;
    }
}

AigcTensor *aigc_avg_pool2d(AigcCtx *ctx, AigcTensor *x, int kernel, int stride, int padding,
                            gboolean count_include_pad)
{
    g_return_val_if_fail(x->n_dims == 4, NULL);
    g_return_val_if_fail(kernel > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel, NULL);
    x = aigc_contiguous(ctx, x);
    int N = (int)x->shape[0], C = (int)x->shape[1], H = (int)x->shape[2], W = (int)x->shape[3];
    int OH = aigc_pool_out_size(H, kernel, stride, padding);
    int OW = aigc_pool_out_size(W, kernel, stride, padding);
    g_return_val_if_fail(OH > 0 && OW > 0, NULL);
    AigcTensor *y = aigc_tensor_new4(ctx, N, C, OH, OW); /* [N, C, OH, OW] */
    aigc_avg_pool2d_forward(y->data, x->data, N, C, H, W, kernel, stride, padding,
                            count_include_pad);
    record_avg_pool(ctx, y, x, kernel, stride, padding, count_include_pad);
    return y;
}

AigcTensor *aigc_avg_pool1d(AigcCtx *ctx, AigcTensor *x, int kernel, int stride, int padding,
                            gboolean count_include_pad)
{
    g_return_val_if_fail(x->n_dims == 3, NULL);
    g_return_val_if_fail(kernel > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel, NULL);
    x = aigc_contiguous(ctx, x);
    int N = (int)x->shape[0], C = (int)x->shape[1], L = (int)x->shape[2];
    int Lout = aigc_pool_out_size(L, kernel, stride, padding);
    g_return_val_if_fail(Lout > 0, NULL);
    AigcTensor *y = aigc_tensor_new3(ctx, N, C, Lout); /* [N, C, Lout] */
    aigc_avg_pool1d_forward(y->data, x->data, N, C, L, kernel, stride, padding, count_include_pad);
    record_avg_pool(ctx, y, x, kernel, stride, padding, count_include_pad);
    return y;
}

/* Upsampling ops share one backward: node->i[0] the factor, node->i[1] TRUE for linear. */
static void upsample_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0];
    float *dx = aigc_grad(ctx, x);
    if (!dx)
        return;
    int f = (int)node->i[0];
    int P = (int)(x->shape[0] * x->shape[1]);
    gboolean two_d = x->n_dims == 4;
    int H = two_d ? (int)x->shape[2] : 1, W = (int)x->shape[x->n_dims - 1];
    int fh = two_d ? f : 1;
    if (node->i[1])
        upsample_linear(NULL, dx, NULL, node->out[0]->grad, P, H, W, fh, f);
    else
        upsample_nearest(NULL, dx, NULL, node->out[0]->grad, P, H, W, fh, f);
}

static AigcTensor *upsample(AigcCtx *ctx, AigcTensor *x, int factor, gboolean linear,
                            const char *op)
{
    x = aigc_contiguous(ctx, x);
    gboolean two_d = x->n_dims == 4;
    gint64 shape[AIGC_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->n_dims - 1] *= factor;
    if (two_d)
        shape[2] *= factor;
    AigcTensor *y = aigc_tensor_new(ctx, x->n_dims, shape); /* [N, C, (H·f,) W·f] */
    int P = (int)(x->shape[0] * x->shape[1]);
    int H = two_d ? (int)x->shape[2] : 1, W = (int)x->shape[x->n_dims - 1];
    int fh = two_d ? factor : 1;
    if (linear)
        upsample_linear(y->data, NULL, x->data, NULL, P, H, W, fh, factor);
    else
        upsample_nearest(y->data, NULL, x->data, NULL, P, H, W, fh, factor);
    AigcNode *node = aigc_record1(ctx, op, upsample_backward_node, y, x);
    if (node) {
        node->i[0] = factor;
        node->i[1] = linear;
    }
    return y;
}

AigcTensor *aigc_upsample_nearest1d(AigcCtx *ctx, AigcTensor *x, int factor)
{
    g_return_val_if_fail(x->n_dims == 3 && factor >= 1, NULL);
    return upsample(ctx, x, factor, FALSE, "upsample_nearest1d");
}

AigcTensor *aigc_upsample_nearest2d(AigcCtx *ctx, AigcTensor *x, int factor)
{
    g_return_val_if_fail(x->n_dims == 4 && factor >= 1, NULL);
    return upsample(ctx, x, factor, FALSE, "upsample_nearest2d");
}

AigcTensor *aigc_upsample_linear1d(AigcCtx *ctx, AigcTensor *x, int factor)
{
    g_return_val_if_fail(x->n_dims == 3 && factor >= 1, NULL);
    return upsample(ctx, x, factor, TRUE, "upsample_linear1d");
}

AigcTensor *aigc_upsample_bilinear2d(AigcCtx *ctx, AigcTensor *x, int factor)
{
    g_return_val_if_fail(x->n_dims == 4 && factor >= 1, NULL);
    return upsample(ctx, x, factor, TRUE, "upsample_bilinear2d");
}
