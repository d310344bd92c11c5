/* SPDX-License-Identifier: MIT
 *
 * Activations, softmaxes and dropout: forward values against double-precision libm references
 * (including the tails, the softplus threshold and huge logits), the accuracy of the vectorised
 * Φ and tanh, finite-difference gradient checks on odd shapes and strided inputs, and dropout's
 * statistics, modes and thread-count independence.
 */
#include "aigc-test-support.h"
#include "nn/aigc-activation.h"
#include "nn/aigc-elementwise.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

typedef enum {
    A_RELU,
    A_LEAKY_RELU,
    A_GELU,
    A_GELU_TANH,
    A_SILU,
    A_TANH,
    A_SIGMOID,
    A_SOFTPLUS,
    N_ACT
} ActKind;

static const char *const act_names[] = {"relu", "leaky_relu", "gelu",    "gelu_tanh",
                                        "silu", "tanh",       "sigmoid", "softplus"};

#define SLOPE 0.07f

static AigcTensor *act_apply(AigcCtx *ctx, ActKind kind, AigcTensor *x)
{
    switch (kind) {
    case A_RELU:
        return aigc_relu(ctx, x);
    case A_LEAKY_RELU:
        return aigc_leaky_relu(ctx, x, SLOPE);
    case A_GELU:
        return aigc_gelu(ctx, x);
    case A_GELU_TANH:
        return aigc_gelu_tanh(ctx, x);
    case A_SILU:
        return aigc_silu(ctx, x);
    case A_TANH:
        return aigc_tanh(ctx, x);
    case A_SIGMOID:
        return aigc_sigmoid(ctx, x);
    case A_SOFTPLUS:
        return aigc_softplus(ctx, x);
    case N_ACT:
        break;
    }
    return NULL;
}

static double act_ref(ActKind kind, double x)
{
    switch (kind) {
    case A_RELU:
        return x > 0 ? x : 0;
    case A_LEAKY_RELU:
        return x > 0 ? x : SLOPE * x;
    case A_GELU:
        return 0.5 * x * erfc(-x / sqrt(2.0));
    case A_GELU_TANH: /* 0.5·x·(1 + tanh u), in a form that does not cancel for x ≪ 0 */
        return x / (1 + exp(-2 * sqrt(2 / G_PI) * (x + 0.044715 * x * x * x)));
    case A_SILU:
        return x / (1 + exp(-x));
    case A_TANH:
        return tanh(x);
    case A_SIGMOID:
        return 1 / (1 + exp(-x));
    case A_SOFTPLUS:
        return x > 20 ? x : log1p(exp(x));
    case N_ACT:
        break;
    }
    return NAN;
}

/* |x·f′(x) / f(x)|: how much the input's own rounding is amplified, numerically in double. */
static double act_condition(ActKind kind, double x, double fx)
{
    if (x == 0 || fx == 0)
        return 0;
    double h = 1e-6 * fabs(x);
    double d = (act_ref(kind, x + h) - act_ref(kind, x - h)) / (2 * h);
    return fabs(x * d / fx);
}

static void test_act_values(void)
{
    enum { N = 4001 };
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *x = aigc_tensor_new1(ctx, N);
    /* [-30, 30] densely, which covers the tails, the polynomial switch points and the softplus
     * threshold at 20. */
    for (int i = 0; i < N; i++)
        x->data[i] = -30.0f + 60.0f * (float)i / (N - 1);
    for (int k = 0; k < N_ACT; k++) {
        AigcTensor *y = act_apply(ctx, k, x);
        double worst = 0;
        for (int i = 0; i < N; i++) {
            double want = act_ref(k, x->data[i]);
            if (fabs(want) < 1e-30) { /* such values only need to be tiny */
                g_assert_cmpfloat(fabs(y->data[i]), <, 1e-29);
                continue;
            }
            /* A few float ulps, scaled where the function amplifies the rounding of the
             * float arithmetic inside it (e.g. the cubic inside gelu_tanh's tail). */
            double err = fabs(y->data[i] - want) / fabs(want);
            double bound = 1e-6 * (2 + act_condition(k, x->data[i], want));
            worst = MAX(worst, err / bound);
        }
        g_test_message("%s: worst error at %.2f times the bound", act_names[k], worst);
        if (worst > 1)
            g_error("%s: error %.2f times the bound", act_names[k], worst);
    }
}

static void test_cdf_tanh_accuracy(void)
{
    double worst_cdf = 0, worst_tanh = 0;
    for (int i = 0; i <= 100000; i++) {
        float x = -12.0f + 24.0f * (float)i / 100000.0f;
        double cdf = 0.5 * erfc(-x / sqrt(2.0));
        worst_cdf = MAX(worst_cdf, fabs(aigc_normal_cdf(x) - cdf) / cdf);
        double th = tanh((double)x);
        if (x != 0)
            worst_tanh = MAX(worst_tanh, fabs(aigc_tanhf(x) - th) / fabs(th));
    }
    g_test_message("worst relative error: Phi %.3g, tanh %.3g", worst_cdf, worst_tanh);
    g_assert_cmpfloat(worst_cdf, <, 2e-6);
    g_assert_cmpfloat(worst_tanh, <, 5e-7);
    g_assert_cmpfloat(aigc_tanhf(1e-20f), ==, 1e-20f);
    g_assert_cmpfloat(aigc_tanhf(100.0f), ==, 1.0f);
    g_assert_cmpfloat(aigc_tanhf(-100.0f), ==, -1.0f);
    g_assert_cmpfloat(aigc_normal_cdf(-40.0f), ==, 0.0f);
    g_assert_cmpfloat(aigc_normal_cdf(40.0f), ==, 1.0f);
}

static AigcTensor *act_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer user_data)
{
    return act_apply(ctx, GPOINTER_TO_INT(user_data), in[0]);
}

static void test_act_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 51);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    for (int k = 0; k < N_ACT; k++) {
        AigcTensor *x = aigc_test_leaf(&rng, 3, (gint64[]){3, 5, 7}, -3, 3, TRUE);
        /* Keep relu's kink out of the finite-difference step's reach. */
        for (int i = 0; i < x->n_elements; i++)
            if (fabsf(x->data[i]) < 0.01f)
                x->data[i] = 0.05f;
        /* Softplus above and below its threshold. */
        if (k == A_SOFTPLUS) {
            x->data[0] = 25.0f;
            x->data[1] = -25.0f;
        }
        if (!aigc_gradcheck(act_fn, 1, &x, GINT_TO_POINTER(k), &p))
            g_error("gradcheck failed: %s", act_names[k]);
        aigc_tensor_free_leaf(x);
    }
}

/* ---- softmax ---- */

static void naive_softmax(double *out, const float *x, int C, gboolean log_form)
{
    double m = -INFINITY, s = 0;
    for (int i = 0; i < C; i++)
        m = MAX(m, x[i]);
    for (int i = 0; i < C; i++)
        s += exp(x[i] - m);
    for (int i = 0; i < C; i++)
        out[i] = log_form ? x[i] - m - log(s) : exp(x[i] - m) / s;
}

static void test_softmax_values(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, 61);
    int Cs[] = {1, 7, 16, 37, 1000};
    for (guint t = 0; t < G_N_ELEMENTS(Cs); t++) {
        int C = Cs[t], N = 5;
        AigcTensor *x = aigc_tensor_new2(ctx, N, C);
        aigc_rng_fill_uniform(&rng, x->data, x->n_elements, -5, 5);
        /* Huge logits must not overflow. */
        x->data[0] = 1000.0f;
        x->data[C * 2] = -1000.0f;
        for (int lf = 0; lf < 2; lf++) {
            AigcTensor *y = lf ? aigc_log_softmax(ctx, x) : aigc_softmax(ctx, x);
            double *want = g_new(double, C);
            for (int n = 0; n < N; n++) {
                naive_softmax(want, x->data + n * C, C, lf);
                for (int i = 0; i < C; i++) {
                    double got = y->data[n * C + i];
                    if (!(fabs(got - want[i]) <= 2e-6 * fabs(want[i]) + 1e-7))
                        g_error("%s C=%d [%d, %d]: %g, expected %g", lf ? "log_softmax" : "softmax",
                                C, n, i, got, want[i]);
                }
            }
            g_free(want);
        }
    }
}

static AigcTensor *softmax_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer user_data)
{
    /* Over the last dim of a transposed view: exercises the contiguous copy too. */
    AigcTensor *x = aigc_transpose(ctx, in[0], 0, 2); /* [7, 5, 3] */
    return GPOINTER_TO_INT(user_data) ? aigc_log_softmax(ctx, x) : aigc_softmax(ctx, x);
}

static void test_softmax_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 62);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    for (int lf = 0; lf < 2; lf++) {
        AigcTensor *x = aigc_test_leaf(&rng, 3, (gint64[]){3, 5, 7}, -2, 2, TRUE);
        aigc_assert_gradcheck(softmax_fn, 1, &x, GINT_TO_POINTER(lf), &p);
        aigc_tensor_free_leaf(x);
    }
}

/* ---- dropout ---- */

static AigcTensor *dropout_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer user_data)
{
    /* tanh before dropout, so the check also sees the mask on a non-constant gradient. */
    return aigc_dropout(ctx, act_apply(ctx, A_TANH, in[0]), 0.3f);
}

static void test_dropout(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *x = aigc_tensor_new_leaf(2, (gint64[]){301, 333}, TRUE);
    aigc_tensor_fill(x, 2.0f);

    /* Identity when not training or p = 0: the very same tensor, no node. */
    aigc_ctx_set_training(ctx, FALSE);
    g_assert_true(aigc_dropout(ctx, x, 0.5f) == x);
    aigc_ctx_set_training(ctx, TRUE);
    g_assert_true(aigc_dropout(ctx, x, 0.0f) == x);
    g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, 0);

    /* p = 1 drops everything. */
    AigcTensor *z = aigc_dropout(ctx, x, 1.0f);
    for (gint64 i = 0; i < z->n_elements; i++)
        g_assert_cmpfloat(z->data[i], ==, 0.0f);

    /* Kept fraction ≈ 1 − p, kept values scaled by 1 / (1 − p), gradient = mask. */
    float p = 0.3f;
    aigc_ctx_reset(ctx);
    aigc_rng_init(aigc_ctx_get_rng(ctx), 5);
    aigc_threads_init(1);
    AigcTensor *y1 = aigc_dropout(ctx, x, p);
    float *first = g_memdup2(y1->data, (gsize)y1->n_elements * 4);
    aigc_ctx_reset(ctx);
    aigc_rng_init(aigc_ctx_get_rng(ctx), 5);
    aigc_threads_init(2);
    AigcTensor *y = aigc_dropout(ctx, x, p);
    g_assert_cmpmem(first, y->n_elements * 4, y->data, y->n_elements * 4);
    g_free(first);
    gint64 kept = 0;
    for (gint64 i = 0; i < y->n_elements; i++) {
        if (y->data[i] != 0.0f) {
            g_assert_cmpfloat(fabsf(y->data[i] - 2.0f / (1.0f - p)), <, 1e-6);
            kept++;
        }
    }
    double frac = (double)kept / (double)y->n_elements;
    g_assert_cmpfloat(fabs(frac - (1.0 - p)), <, 0.01);
    aigc_tensor_zero_grad(x);
    aigc_ctx_backward(ctx, aigc_sum_all(ctx, y));
    for (gint64 i = 0; i < y->n_elements; i++)
        g_assert_cmpfloat(x->grad[i], ==, y->data[i] != 0.0f ? 1.0f / (1.0f - p) : 0.0f);

    /* A second call in the same step draws a different mask. */
    AigcTensor *y2 = aigc_dropout(ctx, x, p);
    g_assert_true(memcmp(y->data, y2->data, (gsize)y->n_elements * 4) != 0);

    /* No-grad mode: the mask still applies, nothing is recorded. */
    aigc_ctx_reset(ctx);
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    AigcTensor *y3 = aigc_dropout(ctx, x, p);
    g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, 0);
    g_assert_false(y3->requires_grad);
    aigc_tensor_free_leaf(x);
}

static void test_dropout_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 71);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    AigcTensor *x = aigc_test_leaf(&rng, 3, (gint64[]){3, 5, 7}, -2, 2, TRUE);
    aigc_assert_gradcheck(dropout_fn, 1, &x, NULL, &p);
    aigc_tensor_free_leaf(x);
}

/* The same checks on the baseline (non-AVX2) kernels. */
static void test_baseline(void)
{
    gboolean had = aigc_simd_get_avx2();
    aigc_simd_set_avx2(FALSE);
    g_assert_false(aigc_simd_get_avx2());
    test_act_values();
    test_act_gradcheck();
    test_softmax_values();
    test_softmax_gradcheck();
    aigc_simd_set_avx2(had);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/nn/activation/values", test_act_values);
    g_test_add_func("/engine/nn/activation/cdf-tanh-accuracy", test_cdf_tanh_accuracy);
    g_test_add_func("/engine/nn/activation/gradcheck", test_act_gradcheck);
    g_test_add_func("/engine/nn/activation/softmax-values", test_softmax_values);
    g_test_add_func("/engine/nn/activation/softmax-gradcheck", test_softmax_gradcheck);
    g_test_add_func("/engine/nn/activation/dropout", test_dropout);
    g_test_add_func("/engine/nn/activation/dropout-gradcheck", test_dropout_gradcheck);
    g_test_add_func("/engine/nn/activation/baseline-kernels", test_baseline);
    return g_test_run();
}
