/* SPDX-License-Identifier: MIT
 *
 * Losses: values against naive double-precision references (ignored rows, huge logits, every
 * row ignored), finite-difference gradient checks of every input on odd shapes, misuse reported
 * as programmer errors, and values that do not change with the thread count.
 */
#include "aigc-test-support.h"
#include "nn/aigc-elementwise.h"
#include "nn/aigc-loss.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

#define IGNORE (-100)

/* ---- cross entropy ---- */

static double naive_cross_entropy(const float *x, const gint32 *t, int N, int C)
{
    double total = 0;
    int count = 0;
    for (int n = 0; n < N; n++) {
        if (t[n] == IGNORE)
            continue;
        double m = -INFINITY, s = 0;
        for (int c = 0; c < C; c++)
            m = MAX(m, x[n * C + c]);
        for (int c = 0; c < C; c++)
            s += exp(x[n * C + c] - m);
        total += m + log(s) - x[n * C + t[n]];
        count++;
    }
    return total / count;
}

static const gint32 ce_targets[7] = {3, IGNORE, 0, 4, 4, IGNORE, 1};

static AigcTensor *ce_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer user_data)
{
    return aigc_cross_entropy(ctx, in[0], ce_targets, IGNORE);
}

static void test_cross_entropy(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 81);
    AigcTensor *x = aigc_test_leaf(&rng, 2, (gint64[]){7, 5}, -3, 3, TRUE);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *loss = aigc_cross_entropy(ctx, x, ce_targets, IGNORE);
    g_assert_cmpint(loss->n_dims, ==, 1);
    g_assert_cmpint(loss->n_elements, ==, 1);
    g_assert_cmpfloat(fabs(loss->data[0] - naive_cross_entropy(x->data, ce_targets, 7, 5)), <,
                      1e-6);

    /* Gradient: (softmax − onehot) / 5 on the five counted rows, zero on ignored ones. */
    aigc_ctx_backward(ctx, loss);
    for (int n = 0; n < 7; n++) {
        double m = -INFINITY, s = 0;
        for (int c = 0; c < 5; c++)
            m = MAX(m, x->data[n * 5 + c]);
        for (int c = 0; c < 5; c++)
            s += exp(x->data[n * 5 + c] - m);
        for (int c = 0; c < 5; c++) {
            double want = 0;
            if (ce_targets[n] != IGNORE)
                want = (exp(x->data[n * 5 + c] - m) / s - (c == ce_targets[n])) / 5.0;
            g_assert_cmpfloat(fabs(x->grad[n * 5 + c] - want), <, 1e-6);
        }
    }

    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(ce_fn, 1, &x, NULL, &p);

    /* Huge logits stay finite and exact. */
    aigc_ctx_reset(ctx);
    float big[6] = {1000.0f, -1000.0f, 0.0f, -3000.0f, 2000.0f, 1999.0f};
    AigcTensor *xb = aigc_tensor_from_data(ctx, 2, (gint64[]){2, 3}, big);
    AigcTensor *lb = aigc_cross_entropy(ctx, xb, (gint32[]){0, 2}, IGNORE);
    double want = 0.5 * (0.0 + (1.0 + log1p(exp(-1.0))));
    g_assert_cmpfloat(fabs(lb->data[0] - want), <, 1e-6);

    /* Every row ignored: NaN, as PyTorch. */
    AigcTensor *la = aigc_cross_entropy(ctx, xb, (gint32[]){IGNORE, IGNORE}, IGNORE);
    g_assert_true(isnan(la->data[0]));

    /* A target outside [0, C) is a programmer error. */
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*targets_valid*");
    g_assert_null(aigc_cross_entropy(ctx, xb, (gint32[]){0, 3}, IGNORE));
    g_test_assert_expected_messages();
    aigc_tensor_free_leaf(x);
}

/* Large N and C: the value and gradient are the same with 1 and 2 threads. */
static void test_cross_entropy_threads(void)
{
    enum { N = 2003, C = 517 };
    AigcRng rng;
    aigc_rng_init(&rng, 82);
    AigcTensor *x = aigc_test_leaf(&rng, 2, (gint64[]){N, C}, -4, 4, TRUE);
    gint32 *t = g_new(gint32, N);
    for (int n = 0; n < N; n++)
        t[n] = n % 11 == 0 ? IGNORE : (gint32)aigc_rng_below(&rng, C);
    float loss[2];
    float *grad[2];
    for (int threads = 1; threads <= 2; threads++) {
        aigc_threads_init(threads);
        g_autoptr(AigcCtx) ctx = aigc_ctx_new();
        aigc_tensor_zero_grad(x);
        AigcTensor *l = aigc_cross_entropy(ctx, x, t, IGNORE);
        aigc_ctx_backward(ctx, l);
        loss[threads - 1] = l->data[0];
        grad[threads - 1] = g_memdup2(x->grad, (gsize)N * C * 4);
    }
    g_assert_cmpfloat(loss[0], ==, loss[1]);
    g_assert_cmpmem(grad[0], N * C * 4, grad[1], N * C * 4);
    g_assert_cmpfloat(fabs(loss[0] - naive_cross_entropy(x->data, t, N, C)), <, 1e-5);
    g_free(grad[0]);
    g_free(grad[1]);
    g_free(t);
    aigc_tensor_free_leaf(x);
}

/* ---- elementwise losses ---- */

typedef enum { L_MSE, L_L1, L_BCE, L_KL_NORMAL, L_KL_DIAG, N_LOSS } LossKind;

static const char *const loss_names[] = {"mse", "l1", "bce_with_logits", "kl_normal",
                                         "kl_diag_gaussians"};
static const int loss_n_inputs[] = {2, 2, 2, 2, 4};

static AigcTensor *loss_apply(AigcCtx *ctx, LossKind kind, AigcTensor *const *in)
{
    switch (kind) {
    case L_MSE:
        return aigc_mse_loss(ctx, in[0], in[1]);
    case L_L1:
        return aigc_l1_loss(ctx, in[0], in[1]);
    case L_BCE:
        return aigc_bce_with_logits(ctx, in[0], in[1]);
    case L_KL_NORMAL:
        return aigc_kl_normal(ctx, in[0], in[1]);
    case L_KL_DIAG:
        return aigc_kl_diag_gaussians(ctx, in[0], in[1], in[2], in[3]);
    case N_LOSS:
        break;
    }
    return NULL;
}

/* Per-element term; the loss is Σ term / divisor. */
static double loss_term(LossKind kind, double a, double b, double c, double d)
{
    switch (kind) {
    case L_MSE:
        return (a - b) * (a - b);
    case L_L1:
        return fabs(a - b);
    case L_BCE: /* −[y·log σ(x) + (1 − y)·log(1 − σ(x))] */
        return -(b * log(1 / (1 + exp(-a))) + (1 - b) * log(1 / (1 + exp(a))));
    case L_KL_NORMAL:
        return 0.5 * (exp(b) + a * a - 1 - b);
    case L_KL_DIAG: /* log(σ2/σ1) + (σ1² + (μ1 − μ2)²) / (2σ2²) − 1/2 */
        return 0.5 * (d - b) + (exp(b) + (a - c) * (a - c)) / (2 * exp(d)) - 0.5;
    case N_LOSS:
        break;
    }
    return NAN;
}

static double naive_loss(LossKind kind, AigcTensor *const *in)
{
    gint64 n = in[0]->n_elements;
    double s = 0;
    for (gint64 i = 0; i < n; i++) {
        double v[4] = {0};
        for (int k = 0; k < loss_n_inputs[kind]; k++)
            v[k] = in[k]->data[i];
        s += loss_term(kind, v[0], v[1], v[2], v[3]);
    }
    gboolean per_batch = kind == L_KL_NORMAL || kind == L_KL_DIAG;
    return s / (per_batch ? (double)in[0]->shape[0] : (double)n);
}

static AigcTensor *loss_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer user_data)
{
    return loss_apply(ctx, GPOINTER_TO_INT(user_data), in);
}

static void make_loss_inputs(AigcRng *rng, LossKind kind, int n_dims, const gint64 *shape,
                             AigcTensor **in)
{
    for (int k = 0; k < loss_n_inputs[kind]; k++) {
        in[k] = aigc_test_leaf(rng, n_dims, shape, -2, 2, TRUE);
        if (kind == L_BCE && k == 1) /* targets in [0, 1] */
            aigc_rng_fill_uniform(rng, in[k]->data, in[k]->n_elements, 0, 1);
    }
    if (kind == L_L1) /* keep |pred − target| clear of the kink */
        for (gint64 i = 0; i < in[0]->n_elements; i++)
            if (fabsf(in[0]->data[i] - in[1]->data[i]) < 0.01f)
                in[0]->data[i] += 0.05f;
}

static void test_elementwise_losses(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 91);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    const gint64 shape[3] = {3, 5, 7};
    for (int kind = 0; kind < N_LOSS; kind++) {
        AigcTensor *in[4] = {NULL};
        make_loss_inputs(&rng, kind, 3, shape, in);
        g_autoptr(AigcCtx) ctx = aigc_ctx_new();
        AigcTensor *l = loss_apply(ctx, kind, in);
        g_assert_cmpint(l->n_elements, ==, 1);
        double want = naive_loss(kind, in);
        if (!(fabs(l->data[0] - want) <= 1e-5 * fabs(want) + 1e-6))
            g_error("%s: %.8g, expected %.8g", loss_names[kind], l->data[0], want);
        if (!aigc_gradcheck(loss_fn, loss_n_inputs[kind], in, GINT_TO_POINTER(kind), &p))
            g_error("gradcheck failed: %s", loss_names[kind]);
        /* Only the first input requiring a gradient. */
        for (int k = 1; k < loss_n_inputs[kind]; k++)
            in[k]->requires_grad = FALSE;
        if (!aigc_gradcheck(loss_fn, loss_n_inputs[kind], in, GINT_TO_POINTER(kind), &p))
            g_error("gradcheck failed: %s, first input only", loss_names[kind]);
        for (int k = 1; k < loss_n_inputs[kind]; k++)
            in[k]->requires_grad = TRUE;
        for (int k = 0; k < loss_n_inputs[kind]; k++)
            aigc_tensor_free_leaf(in[k]);
    }
}

/* bce_with_logits stays finite and accurate for huge logits. */
static void test_bce_extremes(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *x =
        aigc_tensor_from_data(ctx, 1, (gint64[]){4}, (float[]){100.0f, -100.0f, 30.0f, -30.0f});
    AigcTensor *y = aigc_tensor_from_data(ctx, 1, (gint64[]){4}, (float[]){1, 0, 0, 1});
    AigcTensor *l = aigc_bce_with_logits(ctx, x, y);
    double want = (0 + 0 + (30 + log1p(exp(-30.0))) + (30 + log1p(exp(-30.0)))) / 4;
    g_assert_cmpfloat(fabs(l->data[0] - want), <, 1e-5 * want);
}

/* Sizes past one summation block: 1 and 2 threads agree bit for bit. */
static void test_losses_threads(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 92);
    const gint64 shape[2] = {37, 4099};
    for (int kind = 0; kind < N_LOSS; kind++) {
        AigcTensor *in[4] = {NULL};
        make_loss_inputs(&rng, kind, 2, shape, in);
        float value[2];
        for (int threads = 1; threads <= 2; threads++) {
            aigc_threads_init(threads);
            g_autoptr(AigcCtx) ctx = aigc_ctx_new();
            value[threads - 1] = loss_apply(ctx, kind, in)->data[0];
        }
        g_assert_cmpfloat(value[0], ==, value[1]);
        double want = naive_loss(kind, in);
        g_assert_cmpfloat(fabs(value[0] - want), <=, 1e-5 * fabs(want) + 1e-6);
        for (int k = 0; k < loss_n_inputs[kind]; k++)
            aigc_tensor_free_leaf(in[k]);
    }
}

static void test_loss_misuse(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *a = aigc_tensor_zeros(ctx, 2, (gint64[]){3, 5});
    AigcTensor *b = aigc_tensor_zeros(ctx, 2, (gint64[]){5, 3});
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*same_shape*");
    g_assert_null(aigc_mse_loss(ctx, a, b));
    g_test_assert_expected_messages();
}

/* The same checks on the baseline (non-AVX2) kernels. */
static void test_baseline(void)
{
    gboolean had = aigc_simd_get_avx2();
    aigc_simd_set_avx2(FALSE);
    test_cross_entropy();
    test_elementwise_losses();
    test_bce_extremes();
    aigc_simd_set_avx2(had);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/nn/loss/cross-entropy", test_cross_entropy);
    g_test_add_func("/engine/nn/loss/cross-entropy-threads", test_cross_entropy_threads);
    g_test_add_func("/engine/nn/loss/elementwise", test_elementwise_losses);
    g_test_add_func("/engine/nn/loss/bce-extremes", test_bce_extremes);
    g_test_add_func("/engine/nn/loss/threads", test_losses_threads);
    g_test_add_func("/engine/nn/loss/misuse", test_loss_misuse);
    g_test_add_func("/engine/nn/loss/baseline-kernels", test_baseline);
    return g_test_run();
}
