/* SPDX-License-Identifier: MIT
 *
 * Pooling and upsampling: values computed by PyTorch 1.13 by hand-checked examples (written out
 * below), a naive reference for larger random inputs, and finite-difference gradient checks on
 * odd shapes with padding and both count_include_pad settings.
 */
#include "aigc-test-support.h"
#include "nn/aigc-pool.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

static void assert_values(const AigcTensor *y, const float *want, gint64 n, const char *what)
{
    g_assert_cmpint(y->n_elements, ==, n);
    aigc_test_assert_close(y->data, want, n, 1e-6, 1e-6, what);
}

/* ---- max_pool2d ---- */

static void test_max_pool2d_values(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    const float v[16] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3};
    AigcTensor *x = aigc_tensor_from_data(ctx, 4, (gint64[]){1, 1, 4, 4}, v);
    /* F.max_pool2d(x, 2, 2, 0, return_indices=True) */
    AigcTensor *y = aigc_max_pool2d(ctx, x, 2, 2, 0);
    assert_values(y, (const float[]){9, 6, 9, 9}, 4, "k2 s2");
    gint32 arg[4];
    float out[4];
    aigc_max_pool2d_forward(out, arg, v, 1, 1, 4, 4, 2, 2, 0);
    const gint32 want_arg[4] = {5, 7, 12, 14};
    g_assert_cmpmem(arg, sizeof arg, want_arg, sizeof want_arg);
    /* k3 s2 p1: every window holds the 9 at index 5 (the first of the two 9s). */
    aigc_max_pool2d_forward(out, arg, v, 1, 1, 4, 4, 3, 2, 1);
    for (int i = 0; i < 4; i++) {
        g_assert_cmpfloat(out[i], ==, 9);
        g_assert_cmpint(arg[i], ==, 5);
    }
    /* The gradient goes to the argmax only, and adds up where windows share it. */
    float dx[16] = {0};
    aigc_max_pool2d_backward(dx, (const float[]){1, 2, 3, 4}, arg, 1, 1, 4, 4, 3, 2, 1);
    for (int i = 0; i < 16; i++)
        g_assert_cmpfloat(dx[i], ==, i == 5 ? 10 : 0);
}

static AigcTensor *max_pool_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const int *p = data;
    return aigc_max_pool2d(ctx, in[0], p[0], p[1], p[2]);
}

/* Distinct values at least 0.01 apart, so a ±1e-3 step never changes a window's argmax. */
static AigcTensor *distinct_leaf(AigcRng *rng, int n_dims, const gint64 *shape)
{
    AigcTensor *t = aigc_tensor_new_leaf(n_dims, shape, TRUE);
    int *perm = g_new(int, t->n_elements);
    aigc_rng_permutation(rng, perm, (int)t->n_elements);
    for (gint64 i = 0; i < t->n_elements; i++)
        t->data[i] = 0.01f * (float)perm[i] - 1.0f;
    g_free(perm);
    return t;
}

static void test_max_pool2d_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    const int params[][3] = {{3, 2, 1}, {2, 2, 0}, {3, 1, 1}, {2, 3, 1}};
    for (guint i = 0; i < G_N_ELEMENTS(params); i++) {
        AigcTensor *x = distinct_leaf(&rng, 4, (gint64[]){2, 3, 7, 5});
        AigcGradcheckParams p = aigc_gradcheck_default_params();
        p.max_checks = 0;
        aigc_assert_gradcheck(max_pool_fn, 1, &x, (gpointer)params[i], &p);
        aigc_tensor_free_leaf(x);
    }
}

/* ---- average pooling ---- */

static void test_avg_pool_values(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    const float v1[6] = {1, 2, 3, 4, 5, 6};
    AigcTensor *x1 = aigc_tensor_from_data(ctx, 3, (gint64[]){1, 1, 6}, v1);
    /* F.avg_pool1d(x, 4, 2, 1, count_include_pad=…) */
    assert_values(aigc_avg_pool1d(ctx, x1, 4, 2, 1, FALSE), (const float[]){2, 3.5f, 5}, 3,
                  "1d exclude pad");
    assert_values(aigc_avg_pool1d(ctx, x1, 4, 2, 1, TRUE), (const float[]){1.5f, 3.5f, 3.75f}, 3,
                  "1d include pad");
    const float v2[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    AigcTensor *x2 = aigc_tensor_from_data(ctx, 4, (gint64[]){1, 1, 3, 3}, v2);
    /* F.avg_pool2d(x, 3, 2, 1, count_include_pad=…) */
    assert_values(aigc_avg_pool2d(ctx, x2, 3, 2, 1, FALSE), (const float[]){3, 4, 6, 7}, 4,
                  "2d exclude pad");
    assert_values(aigc_avg_pool2d(ctx, x2, 3, 2, 1, TRUE),
                  (const float[]){1.33333337f, 1.77777779f, 2.66666675f, 3.11111116f}, 4,
                  "2d include pad");
}

typedef struct {
    int kernel, stride, pad;
    gboolean include, two_d;
} AvgCase;

static AigcTensor *avg_pool_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const AvgCase *c = data;
    if (c->two_d)
        return aigc_avg_pool2d(ctx, in[0], c->kernel, c->stride, c->pad, c->include);
    return aigc_avg_pool1d(ctx, in[0], c->kernel, c->stride, c->pad, c->include);
}

static void test_avg_pool_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 12);
    const AvgCase cases[] = {
        {3, 2, 1, TRUE, TRUE},   {3, 2, 1, FALSE, TRUE},  {2, 2, 0, TRUE, TRUE},
        {5, 3, 2, FALSE, TRUE},  {4, 2, 1, FALSE, FALSE}, {4, 2, 1, TRUE, FALSE},
        {3, 1, 1, FALSE, FALSE}, {5, 3, 2, TRUE, FALSE},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        AigcTensor *x = cases[i].two_d
                            ? aigc_test_leaf(&rng, 4, (gint64[]){2, 3, 7, 5}, -1, 1, TRUE)
                            : aigc_test_leaf(&rng, 3, (gint64[]){2, 3, 11}, -1, 1, TRUE);
        AigcGradcheckParams p = aigc_gradcheck_default_params();
        p.max_checks = 0;
        aigc_assert_gradcheck(avg_pool_fn, 1, &x, (gpointer)&cases[i], &p);
        aigc_tensor_free_leaf(x);
    }
}

/* A naive average and max over every window, on random input, against the kernels. */
static void test_pool_naive(void)
{
    enum { N = 3, C = 5, H = 13, W = 11, K = 3, S = 2, P = 1 };
    const int OH = aigc_pool_out_size(H, K, S, P), OW = aigc_pool_out_size(W, K, S, P);
    g_assert_cmpint(OH, ==, 7);
    g_assert_cmpint(OW, ==, 6);
    AigcRng rng;
    aigc_rng_init(&rng, 13);
    const int n_in = N * C * H * W, n_out = N * C * OH * OW;
    float *x = g_new(float, n_in);
    aigc_rng_fill_uniform(&rng, x, n_in, -1, 1);
    float *avg = g_new(float, n_out), *mx = g_new(float, n_out);
    aigc_avg_pool2d_forward(avg, x, N, C, H, W, K, S, P, FALSE);
    aigc_max_pool2d_forward(mx, NULL, x, N, C, H, W, K, S, P);
    for (int p = 0; p < N * C; p++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                double sum = 0, best = -INFINITY;
                int count = 0;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) {
                        int ih = oh * S - P + i, iw = ow * S - P + j;
                        if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                            continue;
                        double v = x[(p * H + ih) * W + iw];
                        sum += v;
                        best = MAX(best, v);
                        count++;
                    }
                int o = (p * OH + oh) * OW + ow;
                g_assert_cmpfloat_with_epsilon(avg[o], sum / count, 1e-6);
                g_assert_cmpfloat(mx[o], ==, best);
            }
    g_free(x);
    g_free(avg);
    g_free(mx);
}

/* ---- upsampling ---- */

static void test_upsample_values(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *x1 = aigc_tensor_from_data(ctx, 3, (gint64[]){1, 1, 3}, (const float[]){1, 2, 4});
    /* F.interpolate(x, scale_factor=…, mode='linear') */
    assert_values(aigc_upsample_linear1d(ctx, x1, 2),
                  (const float[]){1, 1.25f, 1.75f, 2.5f, 3.5f, 4}, 6, "linear ×2");
    assert_values(
        aigc_upsample_linear1d(ctx, x1, 3),
        (const float[]){1, 1, 1.33333337f, 1.66666675f, 2, 2.66666675f, 3.33333349f, 4, 4}, 9,
        "linear ×3");
    assert_values(aigc_upsample_nearest1d(ctx, x1, 2), (const float[]){1, 1, 2, 2, 4, 4}, 6,
                  "nearest1d ×2");
    AigcTensor *x2 =
        aigc_tensor_from_data(ctx, 4, (gint64[]){1, 1, 2, 2}, (const float[]){1, 2, 3, 5});
    /* F.interpolate(x, scale_factor=2, mode='bilinear') */
    assert_values(aigc_upsample_bilinear2d(ctx, x2, 2),
                  (const float[]){1, 1.25f, 1.75f, 2, 1.5f, 1.8125f, 2.4375f, 2.75f, 2.5f, 2.9375f,
                                  3.8125f, 4.25f, 3, 3.5f, 4.5f, 5},
                  16, "bilinear ×2");
    AigcTensor *y = aigc_upsample_nearest2d(ctx, x2, 3);
    g_assert_cmpint(y->shape[2], ==, 6);
    g_assert_cmpint(y->shape[3], ==, 6);
    for (int oh = 0; oh < 6; oh++)
        for (int ow = 0; ow < 6; ow++)
            g_assert_cmpfloat(y->data[oh * 6 + ow], ==, x2->data[(oh / 3) * 2 + ow / 3]);
}

typedef struct {
    int factor;
    gboolean linear, two_d;
} UpCase;

static AigcTensor *upsample_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const UpCase *c = data;
    if (c->two_d)
        return c->linear ? aigc_upsample_bilinear2d(ctx, in[0], c->factor)
                         : aigc_upsample_nearest2d(ctx, in[0], c->factor);
    return c->linear ? aigc_upsample_linear1d(ctx, in[0], c->factor)
                     : aigc_upsample_nearest1d(ctx, in[0], c->factor);
}

static void test_upsample_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 14);
    const UpCase cases[] = {
        {2, FALSE, FALSE}, {3, FALSE, FALSE}, {2, TRUE, FALSE}, {3, TRUE, FALSE},
        {2, FALSE, TRUE},  {3, FALSE, TRUE},  {2, TRUE, TRUE},  {3, TRUE, TRUE},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        AigcTensor *x = cases[i].two_d
                            ? aigc_test_leaf(&rng, 4, (gint64[]){2, 3, 5, 3}, -1, 1, TRUE)
                            : aigc_test_leaf(&rng, 3, (gint64[]){2, 3, 7}, -1, 1, TRUE);
        AigcGradcheckParams p = aigc_gradcheck_default_params();
        p.max_checks = 0;
        aigc_assert_gradcheck(upsample_fn, 1, &x, (gpointer)&cases[i], &p);
        aigc_tensor_free_leaf(x);
    }
}

/* Upsampling a constant image gives the constant (linear weights sum to one), and the backward
 * of an all-ones gradient gives every input factor² (each output draws weight one in total). */
static void test_upsample_partition_of_unity(void)
{
    enum { H = 5, W = 7, F = 3 };
    float x[H * W], y[H * W * F * F], dy[H * W * F * F], dx[H * W];
    for (int i = 0; i < H * W; i++)
        x[i] = 0.5f;
    aigc_upsample_bilinear2d_forward(y, x, 1, 1, H, W, F);
    for (int i = 0; i < H * W * F * F; i++) {
        g_assert_cmpfloat_with_epsilon(y[i], 0.5f, 1e-6);
        dy[i] = 1.0f;
    }
    memset(dx, 0, sizeof dx);
    aigc_upsample_bilinear2d_backward(dx, dy, 1, 1, H, W, F);
    double total = 0;
    for (int i = 0; i < H * W; i++)
        total += dx[i];
    g_assert_cmpfloat_with_epsilon(total, H * W * F * F, 1e-3);
}

/* Same bits with one thread or two, forward and backward, for every kernel here. */
static void test_pool_threads(void)
{
    enum { N = 4, C = 16, H = 33, W = 31, F = 2 };
    const gint64 n_in = N * C * H * W, n_up = n_in * F * F;
    AigcRng rng;
    aigc_rng_init(&rng, 15);
    float *x = g_new(float, n_in), *dy = g_new(float, n_up);
    aigc_rng_fill_uniform(&rng, x, n_in, -1, 1);
    aigc_rng_fill_uniform(&rng, dy, n_up, -1, 1);
    float *out[2], *dx[2];
    for (int t = 0; t < 2; t++) {
        aigc_threads_init(t + 1);
        out[t] = g_new0(float, 4 * n_up);
        dx[t] = g_new0(float, n_in);
        gint32 *arg = g_new(gint32, n_in);
        float *o = out[t];
        aigc_max_pool2d_forward(o, arg, x, N, C, H, W, 3, 2, 1);
        aigc_max_pool2d_backward(dx[t], dy, arg, N, C, H, W, 3, 2, 1);
        aigc_avg_pool2d_forward(o + n_in, x, N, C, H, W, 3, 2, 1, FALSE);
        aigc_avg_pool2d_backward(dx[t], dy, N, C, H, W, 3, 2, 1, FALSE);
        aigc_avg_pool1d_forward(o + 2 * n_in, x, N, C * H, W, 4, 2, 1, TRUE);
        aigc_avg_pool1d_backward(dx[t], dy, N, C * H, W, 4, 2, 1, TRUE);
        aigc_upsample_bilinear2d_forward(o + n_up, x, N, C, H, W, F);
        aigc_upsample_bilinear2d_backward(dx[t], dy, N, C, H, W, F);
        aigc_upsample_nearest2d_forward(o + 2 * n_up, x, N, C, H, W, F);
        aigc_upsample_nearest2d_backward(dx[t], dy, N, C, H, W, F);
        aigc_upsample_linear1d_forward(o + 3 * n_up, x, N, C * H, W, F * F);
        aigc_upsample_linear1d_backward(dx[t], dy, N, C * H, W, F * F);
        g_free(arg);
    }
    g_assert_cmpmem(out[0], 4 * n_up * 4, out[1], 4 * n_up * 4);
    g_assert_cmpmem(dx[0], n_in * 4, dx[1], n_in * 4);
    for (int t = 0; t < 2; t++) {
        g_free(out[t]);
        g_free(dx[t]);
    }
    g_free(x);
    g_free(dy);
    aigc_threads_init(2);
}

/* Ops take views: a transposed (non-contiguous) input pools like its contiguous copy, and its
 * gradient flows back through the view. */
static AigcTensor *pool_view_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    AigcTensor *t = aigc_transpose(ctx, in[0], 2, 3); /* [2, 3, 5, 7] */
    return aigc_avg_pool2d(ctx, aigc_upsample_bilinear2d(ctx, t, 2), 3, 2, 1, TRUE);
}

static void test_pool_views(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 16);
    AigcTensor *x = aigc_test_leaf(&rng, 4, (gint64[]){2, 3, 7, 5}, -1, 1, TRUE);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(pool_view_fn, 1, &x, NULL, &p);
    aigc_tensor_free_leaf(x);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/nn/max-pool2d/values", test_max_pool2d_values);
    g_test_add_func("/engine/nn/max-pool2d/gradcheck", test_max_pool2d_gradcheck);
    g_test_add_func("/engine/nn/avg-pool/values", test_avg_pool_values);
    g_test_add_func("/engine/nn/avg-pool/gradcheck", test_avg_pool_gradcheck);
    g_test_add_func("/engine/nn/pool/naive", test_pool_naive);
    g_test_add_func("/engine/nn/upsample/values", test_upsample_values);
    g_test_add_func("/engine/nn/upsample/gradcheck", test_upsample_gradcheck);
    g_test_add_func("/engine/nn/upsample/partition-of-unity", test_upsample_partition_of_unity);
    g_test_add_func("/engine/nn/pool/threads", test_pool_threads);
    g_test_add_func("/engine/nn/pool/views", test_pool_views);
    return g_test_run();
}
