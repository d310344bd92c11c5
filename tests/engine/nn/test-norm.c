/* SPDX-License-Identifier: MIT
 *
 * Layer, RMS, group and batch norm: forward values against naive double-precision references,
 * finite-difference gradient checks on odd shapes (with and without affine parameters, strided
 * inputs, training and eval mode), PyTorch goldens for layer norm and group norm, batch norm's
 * running statistics, and results that do not depend on the thread count.
 */
#include "aigc-test-support.h"
#include "nn/aigc-norm.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

#define EPS 1e-5f

/* ---- naive references: normalise `n_blocks` blocks, each of `n_channels` runs of `run`
 * values `stride` apart; channel j of block b gets weight[ch(b, j)] ---- */

/* Mean and rstd of the values x[i·step] for i in [0, n). */
static void naive_stats(const float *x, gint64 n, gint64 step, double eps, double *mean,
                        double *rstd)
{
    double s = 0.0, ss = 0.0;
    for (gint64 i = 0; i < n; i++)
        s += x[i * step];
    *mean = s / n;
    for (gint64 i = 0; i < n; i++)
        ss += (x[i * step] - *mean) * (x[i * step] - *mean);
    *rstd = 1.0 / sqrt(ss / n + eps);
}

static void naive_layernorm(float *out, const float *x, const float *w, const float *b, int N,
                            int C)
{
    for (int n = 0; n < N; n++) {
        double m, s;
        naive_stats(x + n * C, C, 1, EPS, &m, &s);
        for (int c = 0; c < C; c++)
            out[n * C + c] = (float)((x[n * C + c] - m) * s * (w ? w[c] : 1.0) + (b ? b[c] : 0.0));
    }
}

static void naive_groupnorm(float *out, const float *x, const float *w, const float *b, int N,
                            int C, int S, int G)
{
    const int L = C / G * S;
    for (int ng = 0; ng < N * G; ng++) {
        double m, s;
        naive_stats(x + ng * L, L, 1, EPS, &m, &s);
        for (int i = 0; i < L; i++) {
            int c = (ng % G) * (C / G) + i / S;
            out[ng * L + i] =
                (float)((x[ng * L + i] - m) * s * (w ? w[c] : 1.0) + (b ? b[c] : 0.0));
        }
    }
}

/* ---- helpers ---- */

static AigcTensor *leaf(AigcRng *rng, int n_dims, const gint64 *shape, float lo, float hi,
                        gboolean requires_grad)
{
    return aigc_test_leaf(rng, n_dims, shape, lo, hi, requires_grad);
}

static void free_leaves(AigcTensor **t, int n)
{
    for (int i = 0; i < n; i++)
        aigc_tensor_free_leaf(t[i]);
}

static AigcGradcheckParams all_elements(void)
{
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    return p;
}

/* ---- layer norm ---- */

static void test_layernorm_forward(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, 31);
    AigcTensor *x = leaf(&rng, 3, (gint64[]){3, 5, 7}, -2, 3, FALSE);
    AigcTensor *w = leaf(&rng, 1, (gint64[]){7}, 0.5f, 1.5f, FALSE);
    AigcTensor *b = leaf(&rng, 1, (gint64[]){7}, -1, 1, FALSE);
    float want[105];
    for (int affine = 0; affine < 4; affine++) {
        AigcTensor *wi = affine & 1 ? w : NULL, *bi = affine & 2 ? b : NULL;
        AigcTensor *y = aigc_layernorm(ctx, x, wi, bi, EPS);
        g_assert_true(aigc_tensor_same_shape(y, x));
        naive_layernorm(want, x->data, wi ? wi->data : NULL, bi ? bi->data : NULL, 15, 7);
        aigc_test_assert_close(y->data, want, 105, 1e-5, 1e-5, "layernorm");
    }
    AigcTensor *t[3] = {x, w, b};
    free_leaves(t, 3);
}

static AigcTensor *layernorm_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return aigc_layernorm(ctx, in[0], in[1], in[2], EPS);
}

static AigcTensor *layernorm_plain_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return aigc_layernorm(ctx, in[0], NULL, NULL, EPS);
}

/* x stored [7, 5, 3] and normalised along its first dim through a permuted view. */
static AigcTensor *layernorm_view_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return aigc_layernorm(ctx, aigc_permute(ctx, in[0], (int[]){2, 1, 0}), in[1], in[2], EPS);
}

static void test_layernorm_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 32);
    AigcGradcheckParams p = all_elements();
    AigcTensor *in[3] = {
        leaf(&rng, 3, (gint64[]){3, 5, 7}, -2, 2, TRUE),
        leaf(&rng, 1, (gint64[]){7}, 0.5f, 1.5f, TRUE),
        leaf(&rng, 1, (gint64[]){7}, -1, 1, TRUE),
    };
    aigc_assert_gradcheck(layernorm_fn, 3, in, NULL, &p);
    aigc_assert_gradcheck(layernorm_plain_fn, 1, in, NULL, &p);
    AigcTensor *vin[3] = {leaf(&rng, 3, (gint64[]){7, 5, 3}, -2, 2, TRUE), in[1], in[2]};
    aigc_assert_gradcheck(layernorm_view_fn, 3, vin, NULL, &p);
    aigc_tensor_free_leaf(vin[0]);
    /* A frozen input: only the weight and bias need gradients. */
    in[0]->requires_grad = FALSE;
    aigc_assert_gradcheck(layernorm_fn, 3, in, NULL, &p);
    in[0]->requires_grad = TRUE;
    /* A frozen weight and bias: only x needs a gradient. */
    in[1]->requires_grad = FALSE;
    in[2]->requires_grad = FALSE;
    aigc_assert_gradcheck(layernorm_fn, 3, in, NULL, &p);
    free_leaves(in, 3);
}

static void test_layernorm_golden(void)
{
    g_autoptr(AigcSafetensors) st = aigc_test_open_golden("layernorm");
    AigcTensor *in[3] = {
        aigc_test_golden_leaf(st, "x", TRUE),
        aigc_test_golden_leaf(st, "weight", TRUE),
        aigc_test_golden_leaf(st, "bias", TRUE),
    };
    g_assert_cmpint(in[0]->n_dims, ==, 3);
    g_assert_cmpint(in[0]->shape[2], ==, 7);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *y = aigc_layernorm(ctx, in[0], in[1], in[2], EPS);
    gint64 n;
    aigc_test_assert_close(y->data, aigc_test_golden_data(st, "out", &n), y->n_elements, 1e-4, 1e-5,
                           "layernorm out");
    g_assert_cmpint(n, ==, y->n_elements);
    aigc_ctx_backward_from(ctx, y, aigc_test_golden_data(st, "dout", NULL));
    const char *grads[3] = {"dx", "dweight", "dbias"};
    for (int i = 0; i < 3; i++) {
        aigc_test_assert_close(in[i]->grad, aigc_test_golden_data(st, grads[i], &n),
                               in[i]->n_elements, 1e-4, 1e-5, grads[i]);
        g_assert_cmpint(n, ==, in[i]->n_elements);
    }
    free_leaves(in, 3);
}

/* ---- RMS norm ---- */

static void test_rmsnorm_forward(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, 41);
    AigcTensor *x = leaf(&rng, 2, (gint64[]){5, 9}, -2, 3, FALSE);
    AigcTensor *w = leaf(&rng, 1, (gint64[]){9}, 0.5f, 1.5f, FALSE);
    for (int affine = 0; affine < 2; affine++) {
        AigcTensor *y = aigc_rmsnorm(ctx, x, affine ? w : NULL, EPS);
        g_assert_true(aigc_tensor_same_shape(y, x));
        for (int n = 0; n < 5; n++) {
            double ms = 0.0;
            for (int c = 0; c < 9; c++)
                ms += (double)x->data[n * 9 + c] * x->data[n * 9 + c];
            double s = 1.0 / sqrt(ms / 9 + EPS);
            for (int c = 0; c < 9; c++) {
                double want = x->data[n * 9 + c] * s * (affine ? w->data[c] : 1.0);
                g_assert_cmpfloat_with_epsilon(y->data[n * 9 + c], want, 1e-5 * (1 + fabs(want)));
            }
        }
    }
    aigc_tensor_free_leaf(x);
    aigc_tensor_free_leaf(w);
}

static AigcTensor *rmsnorm_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return aigc_rmsnorm(ctx, in[0], data ? NULL : in[1], EPS);
}

static void test_rmsnorm_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 42);
    AigcGradcheckParams p = all_elements();
    AigcTensor *in[2] = {
        leaf(&rng, 3, (gint64[]){3, 5, 7}, -2, 2, TRUE),
        leaf(&rng, 1, (gint64[]){7}, 0.5f, 1.5f, TRUE),
    };
    aigc_assert_gradcheck(rmsnorm_fn, 2, in, NULL, &p);
    aigc_assert_gradcheck(rmsnorm_fn, 1, in, GINT_TO_POINTER(1), &p); /* no weight */
    free_leaves(in, 2);
}

/* ---- group norm ---- */

typedef struct {
    int groups;
    gboolean affine;
} GroupCase;

static void test_groupnorm_forward(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, 51);
    AigcTensor *x = leaf(&rng, 4, (gint64[]){3, 6, 5, 3}, -2, 3, FALSE);
    AigcTensor *w = leaf(&rng, 1, (gint64[]){6}, 0.5f, 1.5f, FALSE);
    AigcTensor *b = leaf(&rng, 1, (gint64[]){6}, -1, 1, FALSE);
    float want[3 * 6 * 15];
    const int groups[4] = {1, 2, 3, 6};
    for (int k = 0; k < 4; k++)
        for (int affine = 0; affine <= 1; affine++) {
            AigcTensor *wi = affine ? w : NULL, *bi = affine ? b : NULL;
            AigcTensor *y = aigc_groupnorm(ctx, x, groups[k], wi, bi, EPS);
            g_assert_true(aigc_tensor_same_shape(y, x));
            naive_groupnorm(want, x->data, wi ? wi->data : NULL, bi ? bi->data : NULL, 3, 6, 15,
                            groups[k]);
            aigc_test_assert_close(y->data, want, x->n_elements, 1e-5, 1e-5, "groupnorm");
        }
    AigcTensor *t[3] = {x, w, b};
    free_leaves(t, 3);
}

static AigcTensor *groupnorm_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const GroupCase *gc = data;
    return aigc_groupnorm(ctx, in[0], gc->groups, gc->affine ? in[1] : NULL,
                          gc->affine ? in[2] : NULL, EPS);
}

static void test_groupnorm_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 52);
    AigcGradcheckParams p = all_elements();
    /* [2, 6, 5, 3] (the golden's shape), [3, 6, 7] (1-D spatial) and [5, 6] (no spatial dims) */
    const gint64 shapes[3][4] = {{2, 6, 5, 3}, {3, 6, 7, 0}, {5, 6, 0, 0}};
    const int n_dims[3] = {4, 3, 2};
    for (int s = 0; s < 3; s++) {
        AigcTensor *in[3] = {
            leaf(&rng, n_dims[s], shapes[s], -2, 2, TRUE),
            leaf(&rng, 1, (gint64[]){6}, 0.5f, 1.5f, TRUE),
            leaf(&rng, 1, (gint64[]){6}, -1, 1, TRUE),
        };
        const int groups[3] = {1, 3, 6};
        for (int k = 0; k < 3; k++) {
            if (s == 2 && groups[k] == 6)
                continue; /* one value per group: the output is constant */
            GroupCase gc = {groups[k], TRUE};
            aigc_assert_gradcheck(groupnorm_fn, 3, in, &gc, &p);
        }
        GroupCase plain = {3, FALSE};
        aigc_assert_gradcheck(groupnorm_fn, 1, in, &plain, &p);
        free_leaves(in, 3);
    }
    /* 8 or more groups take the one-pass backward (parameter sums per group). */
    AigcTensor *in[3] = {
        leaf(&rng, 4, (gint64[]){2, 24, 3, 3}, -2, 2, TRUE),
        leaf(&rng, 1, (gint64[]){24}, 0.5f, 1.5f, TRUE),
        leaf(&rng, 1, (gint64[]){24}, -1, 1, TRUE),
    };
    const int groups[2] = {8, 12};
    for (int k = 0; k < 2; k++) {
        GroupCase gc = {groups[k], TRUE};
        aigc_assert_gradcheck(groupnorm_fn, 3, in, &gc, &p);
    }
    in[0]->requires_grad = FALSE; /* parameter gradients only */
    GroupCase gc = {8, TRUE};
    aigc_assert_gradcheck(groupnorm_fn, 3, in, &gc, &p);
    free_leaves(in, 3);
}

static void test_groupnorm_golden(void)
{
    g_autoptr(AigcSafetensors) st = aigc_test_open_golden("groupnorm");
    AigcTensor *in[3] = {
        aigc_test_golden_leaf(st, "x", TRUE),
        aigc_test_golden_leaf(st, "weight", TRUE),
        aigc_test_golden_leaf(st, "bias", TRUE),
    };
    g_assert_cmpint(in[0]->n_dims, ==, 4);
    g_assert_cmpint(in[0]->shape[1], ==, 6);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *y = aigc_groupnorm(ctx, in[0], 3, in[1], in[2], EPS);
    gint64 n;
    aigc_test_assert_close(y->data, aigc_test_golden_data(st, "out", &n), y->n_elements, 1e-4, 1e-5,
                           "groupnorm out");
    g_assert_cmpint(n, ==, y->n_elements);
    aigc_ctx_backward_from(ctx, y, aigc_test_golden_data(st, "dout", NULL));
    const char *grads[3] = {"dx", "dweight", "dbias"};
    for (int i = 0; i < 3; i++) {
        aigc_test_assert_close(in[i]->grad, aigc_test_golden_data(st, grads[i], &n),
                               in[i]->n_elements, 1e-4, 1e-5, grads[i]);
        g_assert_cmpint(n, ==, in[i]->n_elements);
    }
    free_leaves(in, 3);
}

/* ---- batch norm ---- */

/* Training mode normalises each channel with its batch statistics and moves the running
 * statistics by momentum toward the batch mean and the unbiased batch variance. */
static void test_batchnorm_train_forward(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, 61);
    enum { N = 3, C = 5, S = 7 };
    AigcTensor *x = leaf(&rng, 3, (gint64[]){N, C, S}, -2, 3, FALSE);
    AigcTensor *w = leaf(&rng, 1, (gint64[]){C}, 0.5f, 1.5f, FALSE);
    AigcTensor *b = leaf(&rng, 1, (gint64[]){C}, -1, 1, FALSE);
    float rm[C], rv[C];
    for (int c = 0; c < C; c++) {
        rm[c] = 0.1f * c;
        rv[c] = 1.0f + 0.2f * c;
    }
    g_assert_true(aigc_ctx_get_training(ctx));
    AigcTensor *y = aigc_batchnorm(ctx, x, w, b, rm, rv, 0.1f, EPS);
    g_assert_true(aigc_tensor_same_shape(y, x));
    for (int c = 0; c < C; c++) {
        double s = 0.0, ss = 0.0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < S; i++)
                s += x->data[(n * C + c) * S + i];
        const double m = s / (N * S);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < S; i++) {
                double d = x->data[(n * C + c) * S + i] - m;
                ss += d * d;
            }
        const double rstd = 1.0 / sqrt(ss / (N * S) + EPS);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < S; i++) {
                const int k = (n * C + c) * S + i;
                double want = (x->data[k] - m) * rstd * w->data[c] + b->data[c];
                g_assert_cmpfloat_with_epsilon(y->data[k], want, 1e-5 * (1 + fabs(want)));
            }
        g_assert_cmpfloat_with_epsilon(rm[c], 0.9 * 0.1 * c + 0.1 * m, 1e-6);
        g_assert_cmpfloat_with_epsilon(rv[c], 0.9 * (1.0 + 0.2 * c) + 0.1 * ss / (N * S - 1), 1e-6);
    }
    AigcTensor *t[3] = {x, w, b};
    free_leaves(t, 3);
}

/* Eval mode normalises with the running statistics and leaves them alone; without running
 * statistics batch statistics are used in both modes. */
static void test_batchnorm_eval_forward(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, 62);
    enum { N = 4, C = 3 };
    AigcTensor *x = leaf(&rng, 2, (gint64[]){N, C}, -2, 3, FALSE);
    AigcTensor *w = leaf(&rng, 1, (gint64[]){C}, 0.5f, 1.5f, FALSE);
    float rm[C] = {0.5f, -0.25f, 1.0f}, rv[C] = {2.0f, 0.5f, 1.5f};
    aigc_ctx_set_training(ctx, FALSE);
    AigcTensor *y = aigc_batchnorm(ctx, x, w, NULL, rm, rv, 0.1f, EPS);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double want = (x->data[n * C + c] - rm[c]) / sqrt(rv[c] + EPS) * w->data[c];
            g_assert_cmpfloat_with_epsilon(y->data[n * C + c], want, 1e-5 * (1 + fabs(want)));
        }
    g_assert_cmpfloat(rm[1], ==, -0.25f);
    g_assert_cmpfloat(rv[2], ==, 1.5f);

    AigcTensor *y_eval = aigc_batchnorm(ctx, x, NULL, NULL, NULL, NULL, 0.1f, EPS);
    aigc_ctx_set_training(ctx, TRUE);
    AigcTensor *y_train = aigc_batchnorm(ctx, x, NULL, NULL, NULL, NULL, 0.1f, EPS);
    g_assert_cmpmem(y_eval->data, 4 * N * C, y_train->data, 4 * N * C);
    for (int c = 0; c < C; c++) {
        double m, s;
        naive_stats(x->data + c, N, C, EPS, &m, &s);
        for (int n = 0; n < N; n++)
            g_assert_cmpfloat_with_epsilon(y_train->data[n * C + c], (x->data[n * C + c] - m) * s,
                                           1e-5);
    }
    aigc_tensor_free_leaf(x);
    aigc_tensor_free_leaf(w);
}

typedef struct {
    float *running_mean, *running_var;
    gboolean affine;
} BatchCase;

static AigcTensor *batchnorm_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const BatchCase *bc = data;
    return aigc_batchnorm(ctx, in[0], bc->affine ? in[1] : NULL, bc->affine ? in[2] : NULL,
                          bc->running_mean, bc->running_var, 0.1f, EPS);
}

static void test_batchnorm_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 63);
    AigcGradcheckParams p = all_elements();
    float rm[5] = {0.1f, -0.3f, 0.2f, 0.0f, 0.4f}, rv[5] = {0.8f, 1.3f, 2.0f, 0.6f, 1.1f};
    /* [3, 5, 7], [2, 5, 3, 3] and [7, 5] (no spatial dims) */
    const gint64 shapes[3][4] = {{3, 5, 7, 0}, {2, 5, 3, 3}, {7, 5, 0, 0}};
    const int n_dims[3] = {3, 4, 2};
    for (int s = 0; s < 3; s++) {
        AigcTensor *in[3] = {
            leaf(&rng, n_dims[s], shapes[s], -2, 2, TRUE),
            leaf(&rng, 1, (gint64[]){5}, 0.5f, 1.5f, TRUE),
            leaf(&rng, 1, (gint64[]){5}, -1, 1, TRUE),
        };
        for (int training = 0; training <= 1; training++) {
            p.training = training;
            BatchCase bc = {rm, rv, TRUE};
            aigc_assert_gradcheck(batchnorm_fn, 3, in, &bc, &p);
            BatchCase plain = {rm, rv, FALSE};
            aigc_assert_gradcheck(batchnorm_fn, 1, in, &plain, &p);
        }
        p.training = FALSE; /* no running statistics: batch statistics even in eval mode */
        BatchCase untracked = {NULL, NULL, TRUE};
        aigc_assert_gradcheck(batchnorm_fn, 3, in, &untracked, &p);
        free_leaves(in, 3);
    }
}

/* The ops sum parameter gradients in one pass with arena scratch, the raw kernels in a second
 * pass over columns; both group the rows the same way and give the same bits. 130 rows make
 * three blocks of 64, the last one short. */
static void test_rownorm_kernels_match_ops(void)
{
    enum { N = 130, C = 37 };
    AigcRng rng;
    aigc_rng_init(&rng, 81);
    AigcTensor *x = leaf(&rng, 2, (gint64[]){N, C}, -2, 3, TRUE);
    AigcTensor *w = leaf(&rng, 1, (gint64[]){C}, 0.5f, 1.5f, TRUE);
    AigcTensor *b = leaf(&rng, 1, (gint64[]){C}, -1, 1, TRUE);
    float *dy = g_new(float, N *C), *y = g_new(float, N *C), *dx = g_new0(float, N *C);
    float stats[2 * N], dw[C] = {0}, db[C] = {0};
    aigc_rng_fill_uniform(&rng, dy, N * C, -1, 1);
    for (int rms = 0; rms <= 1; rms++) {
        g_autoptr(AigcCtx) ctx = aigc_ctx_new();
        AigcTensor *t[3] = {x, w, b};
        for (int i = 0; i < 3; i++)
            aigc_tensor_zero_grad(t[i]);
        memset(dx, 0, sizeof(float) * N * C);
        memset(dw, 0, sizeof dw);
        memset(db, 0, sizeof db);
        AigcTensor *out;
        if (rms) {
            out = aigc_rmsnorm(ctx, x, w, EPS);
            aigc_rmsnorm_forward(y, stats, x->data, w->data, N, C, EPS);
            aigc_rmsnorm_backward(dx, dw, dy, x->data, w->data, stats, N, C);
        } else {
            out = aigc_layernorm(ctx, x, w, b, EPS);
            aigc_layernorm_forward(y, stats, stats + N, x->data, w->data, b->data, N, C, EPS);
            aigc_layernorm_backward(dx, dw, db, dy, x->data, w->data, stats, stats + N, N, C);
        }
        aigc_ctx_backward_from(ctx, out, dy);
        g_assert_cmpmem(out->data, sizeof(float) * N * C, y, sizeof(float) * N * C);
        g_assert_cmpmem(x->grad, sizeof(float) * N * C, dx, sizeof(float) * N * C);
        g_assert_cmpmem(w->grad, sizeof dw, dw, sizeof dw);
        if (!rms)
            g_assert_cmpmem(b->grad, sizeof db, db, sizeof db);
    }
    g_free(dy);
    g_free(y);
    g_free(dx);
    AigcTensor *t[3] = {x, w, b};
    free_leaves(t, 3);
}

/* ---- thread count ---- */

typedef enum {
    OP_LAYERNORM,
    OP_RMSNORM,
    OP_GROUPNORM,
    OP_GROUPNORM_MANY,
    OP_BATCHNORM,
    N_OPS
} NormOp;

/* Output and gradients of one op on fixed data with the given thread budget, concatenated. */
static float *run_norm_op(NormOp op, int n_threads, AigcTensor *x, AigcTensor *w, AigcTensor *b,
                          gint64 *n_out)
{
    aigc_threads_init(n_threads);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_tensor_zero_grad(x);
    aigc_tensor_zero_grad(w);
    aigc_tensor_zero_grad(b);
    float rm[64] = {0}, rv[64];
    for (int i = 0; i < 64; i++)
        rv[i] = 1.0f;
    AigcTensor *y = NULL;
    AigcTensor *x2 = aigc_reshape(ctx, x, 2, (gint64[]){-1, 300}); /* rows for layer/RMS norm */
    AigcTensor *x4 = aigc_reshape(ctx, x, 4, (gint64[]){-1, 60, 10, 10}); /* [N, C, H, W] */
    AigcTensor *w60 = aigc_slice(ctx, w, 0, 0, 60), *b60 = aigc_slice(ctx, b, 0, 0, 60);
    switch (op) {
    case OP_LAYERNORM:
        y = aigc_layernorm(ctx, x2, w, b, EPS);
        break;
    case OP_RMSNORM:
        y = aigc_rmsnorm(ctx, x2, w, EPS);
        break;
    case OP_GROUPNORM:
        y = aigc_groupnorm(ctx, x4, 6, w60, b60, EPS); /* two-pass backward */
        break;
    case OP_GROUPNORM_MANY:
        y = aigc_groupnorm(ctx, x4, 12, w60, b60, EPS); /* one-pass backward */
        break;
    default:
        y = aigc_batchnorm(ctx, x4, w60, b60, rm, rv, 0.1f, EPS);
        break;
    }
    float *dy = g_new(float, y->n_elements);
    for (gint64 i = 0; i < y->n_elements; i++)
        dy[i] = sinf(0.37f * i);
    aigc_ctx_backward_from(ctx, y, dy);
    g_free(dy);
    *n_out = y->n_elements + x->n_elements + 2 * w->n_elements + 128;
    float *all = g_new(float, *n_out), *p = all;
    memcpy(p, y->data, y->n_elements * 4);
    p += y->n_elements;
    memcpy(p, x->grad, x->n_elements * 4);
    p += x->n_elements;
    memcpy(p, w->grad, w->n_elements * 4);
    p += w->n_elements;
    memcpy(p, b->grad, b->n_elements * 4);
    p += b->n_elements;
    memcpy(p, rm, sizeof rm);
    memcpy(p + 64, rv, sizeof rv);
    return all;
}

static void test_norm_threads(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 71);
    /* 260 rows of 300 for layer/RMS norm, [13, 60, 10, 10] for group/batch norm: large enough
     * for every pass (rows, columns, groups, channels) to be split between two threads. */
    AigcTensor *x = leaf(&rng, 1, (gint64[]){13 * 6000}, -2, 3, TRUE);
    AigcTensor *w = leaf(&rng, 1, (gint64[]){300}, 0.5f, 1.5f, TRUE);
    AigcTensor *b = leaf(&rng, 1, (gint64[]){300}, -1, 1, TRUE);
    for (NormOp op = 0; op < N_OPS; op++) {
        gint64 n1, n2;
        float *one = run_norm_op(op, 1, x, w, b, &n1);
        float *two = run_norm_op(op, 2, x, w, b, &n2);
        g_assert_cmpint(n1, ==, n2);
        g_assert_cmpmem(one, n1 * 4, two, n2 * 4);
        g_free(one);
        g_free(two);
    }
    aigc_threads_init(2);
    AigcTensor *t[3] = {x, w, b};
    free_leaves(t, 3);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/nn/layernorm/forward", test_layernorm_forward);
    g_test_add_func("/engine/nn/layernorm/gradcheck", test_layernorm_gradcheck);
    g_test_add_func("/engine/nn/layernorm/golden", test_layernorm_golden);
    g_test_add_func("/engine/nn/rmsnorm/forward", test_rmsnorm_forward);
    g_test_add_func("/engine/nn/rmsnorm/gradcheck", test_rmsnorm_gradcheck);
    g_test_add_func("/engine/nn/groupnorm/forward", test_groupnorm_forward);
    g_test_add_func("/engine/nn/groupnorm/gradcheck", test_groupnorm_gradcheck);
    g_test_add_func("/engine/nn/groupnorm/golden", test_groupnorm_golden);
    g_test_add_func("/engine/nn/batchnorm/train-forward", test_batchnorm_train_forward);
    g_test_add_func("/engine/nn/batchnorm/eval-forward", test_batchnorm_eval_forward);
    g_test_add_func("/engine/nn/batchnorm/gradcheck", test_batchnorm_gradcheck);
    g_test_add_func("/engine/nn/norm/kernels-match-ops", test_rownorm_kernels_match_ops);
    g_test_add_func("/engine/nn/norm/threads", test_norm_threads);
    return g_test_run();
}
