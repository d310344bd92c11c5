/* SPDX-License-Identifier: MIT
 *
 * Optimisers, gradient clipping, learning-rate schedules and the weight EMA: first steps against
 * values worked out by hand, convergence on a quadratic and on Rosenbrock's function within a
 * step budget, AdamW against torch.optim.AdamW (golden), checkpoints that resume bit for bit,
 * and results that do not depend on the thread count.
 */
#include "aigc-test-support.h"
#include "optim/aigc-optim.h"
#include "optim/aigc-schedule.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* Single-precision results of double-precision hand arithmetic: a few ulps apart. */
#define HAND_RTOL 1e-6
#define HAND_ATOL 1e-7

/* (transfer full) One parameter "x" of n elements holding `values`. */
static AigcParams *vector_params(const float *values, int n)
{
    AigcParams *params = aigc_params_new();
    AigcTensor *x = aigc_params_add(params, "x", 1, (gint64[]){n});
    aigc_params_allocate(params);
    memcpy(x->data, values, (gsize)n * sizeof(float));
    return params;
}

/* (transfer full) The golden's layout: "w" [3, 5] then "b" [5]. */
static AigcParams *wb_params(void)
{
    AigcParams *params = aigc_params_new();
    aigc_params_add(params, "w", 2, (gint64[]){3, 5});
    aigc_params_add(params, "b", 1, (gint64[]){5});
    aigc_params_allocate(params);
    return params;
}

static void fill_uniform(AigcParams *params, guint64 seed)
{
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    for (guint i = 0; i < aigc_params_get_n(params); i++) {
        AigcTensor *t = aigc_params_get(params, i);
        aigc_rng_fill_uniform(&rng, t->data, t->n_elements, -1.0f, 1.0f);
    }
}

static void set_grad(AigcParams *params, const float *g)
{
    AigcTensor *x = aigc_params_get(params, 0);
    memcpy(x->grad, g, (gsize)x->n_elements * sizeof(float));
}

/* Steps a one-vector optimiser through the gradients g1, g2 and checks x after each step. */
static void check_two_steps(AigcOptimKind kind, const AigcOptimizerParams *hp, float lr,
                            const float x0[3], const float g1[3], const float g2[3],
                            const float want1[3], const float want2[3], const char *what)
{
    g_autoptr(AigcParams) params = vector_params(x0, 3);
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(kind, hp, params);
    float *x = aigc_params_get(params, 0)->data;
    set_grad(params, g1);
    aigc_optimizer_step(opt, lr);
    g_assert_cmpint(aigc_optimizer_get_step(opt), ==, 1);
    aigc_test_assert_close(x, want1, 3, HAND_RTOL, HAND_ATOL, what);
    set_grad(params, g2);
    aigc_optimizer_step(opt, lr);
    g_assert_cmpint(aigc_optimizer_get_step(opt), ==, 2);
    aigc_test_assert_close(x, want2, 3, HAND_RTOL, HAND_ATOL, what);
}

static const float hand_x0[3] = {1.0f, -2.0f, 0.5f};

static void test_sgd_first_steps(void)
{
    const float g[3] = {0.5f, 1.0f, -2.0f};
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_SGD);

    /* Plain, lr 0.1: x −= 0.1·g each step. */
    check_two_steps(AIGC_OPTIM_SGD, &hp, 0.1f, hand_x0, g, g, (float[]){0.95f, -2.1f, 0.7f},
                    (float[]){0.9f, -2.2f, 0.9f}, "sgd");

    /* Weight decay 0.1: d = g + 0.1·x = (0.6, 0.8, −1.95) → x1 = (0.94, −2.08, 0.695);
     * then d = (0.594, 0.792, −1.9305) → x2 = (0.8806, −2.1592, 0.88805). */
    hp.weight_decay = 0.1f;
    check_two_steps(AIGC_OPTIM_SGD, &hp, 0.1f, hand_x0, g, g, (float[]){0.94f, -2.08f, 0.695f},
                    (float[]){0.8806f, -2.1592f, 0.88805f}, "sgd weight decay");

    /* Momentum 0.9: m1 = g, x1 = x0 − 0.1·g; m2 = 0.9·g + g = 1.9·g, x2 = x1 − 0.19·g. */
    hp.weight_decay = 0.0f;
    hp.momentum = 0.9f;
    check_two_steps(AIGC_OPTIM_SGD, &hp, 0.1f, hand_x0, g, g, (float[]){0.95f, -2.1f, 0.7f},
                    (float[]){0.855f, -2.29f, 1.08f}, "sgd momentum");

    /* Nesterov: x1 = x0 − 0.1·(g + 0.9·g) = x0 − 0.19·g; x2 = x1 − 0.1·(g + 0.9·1.9·g)
     * = x1 − 0.271·g. */
    hp.nesterov = TRUE;
    check_two_steps(AIGC_OPTIM_SGD, &hp, 0.1f, hand_x0, g, g, (float[]){0.905f, -2.19f, 0.88f},
                    (float[]){0.7695f, -2.461f, 1.422f}, "sgd nesterov");
}

/* Adam's first step moves each element by lr against the sign of its (decayed) gradient:
 * m̂ = d and v̂ = d², so the update is lr·d / (|d| + eps). Second steps, element 0 of the plain
 * case: m2 = 0.9·(−0.005) + 0.1·0.25 = 0.0205, v2 = 0.999·2.5e-6 + 0.001·0.0625 = 6.49975e-5,
 * x2 = 1.1 − 0.1·(0.0205 / 0.19) / (√(6.49975e-5 / 0.001999) + 1e-8) = 1.04016457. */
static const float adam_g1[3] = {-0.05f, 1.0f, -2.0f};
static const float adam_g2[3] = {0.25f, -1.0f, -2.0f};

static void test_adam_first_steps(void)
{
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    g_assert_cmpfloat(hp.beta1, ==, 0.9f);
    g_assert_cmpfloat(hp.beta2, ==, 0.999f);
    g_assert_cmpfloat(hp.weight_decay, ==, 0.0f);
    check_two_steps(AIGC_OPTIM_ADAM, &hp, 0.1f, hand_x0, adam_g1, adam_g2,
                    (float[]){1.1f, -2.1f, 0.6f},
                    (float[]){1.04016457f, -2.09473684f, 0.699999999f}, "adam");

    /* L2 decay 0.1 enters the gradient: d1 = g1 + 0.1·x0 = (0.05, 0.8, −1.95) flips the sign of
     * element 0, which now moves down. */
    hp.weight_decay = 0.1f;
    check_two_steps(AIGC_OPTIM_ADAM, &hp, 0.1f, hand_x0, adam_g1, adam_g2,
                    (float[]){0.9f, -2.1f, 0.6f},
                    (float[]){0.816633215f, -2.07485905f, 0.699986267f}, "adam weight decay");
}

static void test_adamw_first_steps(void)
{
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
    g_assert_cmpfloat(hp.weight_decay, ==, 0.01f);
    /* Decoupled decay 0.1: x1 = x0·(1 − 0.1·0.1) − 0.1·sign(g1) = (1.09, −2.08, 0.595). */
    hp.weight_decay = 0.1f;
    check_two_steps(AIGC_OPTIM_ADAMW, &hp, 0.1f, hand_x0, adam_g1, adam_g2,
                    (float[]){1.09f, -2.08f, 0.595f},
                    (float[]){1.01926457f, -2.05393684f, 0.689049999f}, "adamw");
}

static gboolean decay_unless_named(const AigcTensor *param, gpointer user_data)
{
    return g_strcmp0(param->name, user_data) != 0;
}

/* Ten AdamW steps from torch.optim.AdamW (tests/reference/adamw.py), fed the same gradients. */
static void run_adamw_golden(gboolean decay_b)
{
    g_autoptr(AigcSafetensors) st = aigc_test_open_golden("adamw");
    g_autoptr(AigcParams) params = wb_params();
    AigcTensor *w = aigc_params_find(params, "w"), *b = aigc_params_find(params, "b");
    memcpy(w->data, aigc_test_golden_data(st, "w0", NULL), 15 * sizeof(float));
    memcpy(b->data, aigc_test_golden_data(st, "b0", NULL), 5 * sizeof(float));
    const float *grad_w = aigc_test_golden_data(st, "grad_w", NULL);
    const float *grad_b = aigc_test_golden_data(st, "grad_b", NULL);
    const float *w_steps = aigc_test_golden_data(st, decay_b ? "w_steps" : "w_steps_nd", NULL);
    const float *b_steps = aigc_test_golden_data(st, decay_b ? "b_steps" : "b_steps_nd", NULL);

    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
    hp.beta1 = 0.9f;
    hp.beta2 = 0.95f;
    hp.eps = 1e-8f;
    hp.weight_decay = 0.1f;
    if (!decay_b) {
        hp.decay_func = decay_unless_named;
        hp.decay_data = (gpointer) "b";
    }
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, &hp, params);
    g_assert_true(aigc_optimizer_get_decayed(opt, 0));
    g_assert_true(aigc_optimizer_get_decayed(opt, 1) == decay_b);
    for (int k = 0; k < 10; k++) {
        memcpy(w->grad, grad_w + 15 * k, 15 * sizeof(float));
        memcpy(b->grad, grad_b + 5 * k, 5 * sizeof(float));
        aigc_optimizer_step(opt, 1e-2f);
        g_autofree char *what_w = g_strdup_printf("w after step %d", k + 1);
        g_autofree char *what_b = g_strdup_printf("b after step %d", k + 1);
        aigc_test_assert_close(w->data, w_steps + 15 * k, 15, 1e-4, 1e-5, what_w);
        aigc_test_assert_close(b->data, b_steps + 5 * k, 5, 1e-4, 1e-5, what_b);
    }
}

static void test_adamw_golden(void)
{
    run_adamw_golden(TRUE);
}

static void test_adamw_golden_no_decay(void)
{
    run_adamw_golden(FALSE);
}

/* With zero gradients AdamW only decays: matrices shrink by exactly (1 − lr·wd) per step while
 * the excluded bias keeps its values bit for bit. */
static void test_weight_decay_exclude(void)
{
    g_autoptr(AigcParams) params = wb_params();
    fill_uniform(params, 3);
    AigcTensor *w = aigc_params_find(params, "w"), *b = aigc_params_find(params, "b");
    float w0[15], b0[5];
    memcpy(w0, w->data, sizeof w0);
    memcpy(b0, b->data, sizeof b0);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
    hp.weight_decay = 0.5f;
    hp.decay_func = aigc_optimizer_decay_matrices;
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, &hp, params);
    g_assert_true(aigc_optimizer_get_decayed(opt, 0));
    g_assert_false(aigc_optimizer_get_decayed(opt, 1));
    aigc_optimizer_step(opt, 0.1f);
    aigc_optimizer_step(opt, 0.1f);
    float want[15];
    for (int i = 0; i < 15; i++)
        want[i] = w0[i] * 0.95f * 0.95f;
    aigc_test_assert_close(w->data, want, 15, HAND_RTOL, 0.0, "decayed w");
    g_assert_cmpmem(b->data, sizeof b0, b0, sizeof b0);
}

/* A parameter with requires_grad FALSE is skipped (values and state); unfrozen, it trains. */
static void test_frozen(void)
{
    g_autoptr(AigcParams) params = wb_params();
    fill_uniform(params, 4);
    AigcTensor *w = aigc_params_find(params, "w"), *b = aigc_params_find(params, "b");
    for (int i = 0; i < 15; i++)
        w->grad[i] = 1.0f;
    for (int i = 0; i < 5; i++)
        b->grad[i] = 1.0f;
    float b0[5];
    memcpy(b0, b->data, sizeof b0);
    float w0 = w->data[0];
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, NULL, params);
    b->requires_grad = FALSE;
    aigc_optimizer_step(opt, 0.1f);
    aigc_optimizer_step(opt, 0.1f);
    g_assert_cmpmem(b->data, sizeof b0, b0, sizeof b0);
    g_assert_cmpfloat_with_epsilon(w->data[0], w0 - 0.2f, 1e-6);
    /* Its moments stayed zero; unfrozen at step 3, it moves by lr·m̂/√v̂ with m = 0.1·g,
     * v = 0.001·g² and the optimiser's bias correction for step 3. */
    b->requires_grad = TRUE;
    aigc_optimizer_step(opt, 0.1f);
    double move = 0.1 * (0.1 / (1 - pow(0.9, 3))) / sqrt(0.001 / (1 - pow(0.999, 3)));
    g_assert_cmpfloat_with_epsilon(b->data[0], b0[0] - move, 1e-6);
}

/* ---- convergence ---- */

typedef float (*LrFunc)(gint64 step);

static float lr_sgd_quadratic(gint64 step)
{
    return 0.15f;
}

static float lr_momentum_quadratic(gint64 step)
{
    return 0.05f;
}

static float lr_adam_quadratic(gint64 step)
{
    return aigc_lr_warmup_cosine(step, 10, 1000, 0.1f, 0.0f);
}

static float lr_sgd_rosenbrock(gint64 step)
{
    return 1e-3f;
}

static float lr_momentum_rosenbrock(gint64 step)
{
    return aigc_lr_warmup_cosine(step, 0, 3000, 1e-3f, 1e-4f);
}

static float lr_adam_rosenbrock(gint64 step)
{
    return aigc_lr_warmup_cosine(step, 50, 3000, 0.05f, 0.0f);
}

typedef struct {
    const char *name;
    AigcOptimKind kind;
    float momentum;
    gboolean nesterov;
    LrFunc lr_quadratic, lr_rosenbrock;
    int budget_quadratic, budget_rosenbrock;
} ConvergeCase;

static const ConvergeCase converge_cases[] = {
    {"sgd", AIGC_OPTIM_SGD, 0.0f, FALSE, lr_sgd_quadratic, lr_sgd_rosenbrock, 1000, 40000},
    {"sgd-momentum", AIGC_OPTIM_SGD, 0.9f, FALSE, lr_momentum_quadratic, lr_momentum_rosenbrock,
     1000, 6000},
    {"sgd-nesterov", AIGC_OPTIM_SGD, 0.9f, TRUE, lr_momentum_quadratic, lr_momentum_rosenbrock,
     1000, 6000},
    {"adam", AIGC_OPTIM_ADAM, 0.0f, FALSE, lr_adam_quadratic, lr_adam_rosenbrock, 1000, 3000},
    {"adamw", AIGC_OPTIM_ADAMW, 0.0f, FALSE, lr_adam_quadratic, lr_adam_rosenbrock, 1000, 3000},
};

/* f(x) = ½ Σ a_i (x_i − c_i)², condition number 20. */
static const float quad_a[5] = {1.0f, 3.0f, 10.0f, 0.5f, 5.0f};
static const float quad_c[5] = {1.0f, -2.0f, 0.5f, 3.0f, -1.0f};

static void quadratic_grad(const float *x, float *g)
{
    for (int i = 0; i < 5; i++)
        g[i] = quad_a[i] * (x[i] - quad_c[i]);
}

/* f(x, y) = (1 − x)² + 100 (y − x²)², minimum at (1, 1). */
static const float rosen_c[2] = {1.0f, 1.0f};

static void rosenbrock_grad(const float *x, float *g)
{
    float r = x[1] - x[0] * x[0];
    g[0] = -2.0f * (1.0f - x[0]) - 400.0f * x[0] * r;
    g[1] = 200.0f * r;
}

/* Returns the steps taken to bring every coordinate within tol of the minimum, or -1. */
static int converge(const ConvergeCase *cc, int n, const float *start, const float *minimum,
                    void (*grad)(const float *, float *), LrFunc lr, int budget, float tol)
{
    g_autoptr(AigcParams) params = vector_params(start, n);
    AigcOptimizerParams hp = aigc_optimizer_default_params(cc->kind);
    hp.momentum = cc->momentum;
    hp.nesterov = cc->nesterov;
    hp.weight_decay = 0.0f;
    if (cc->kind != AIGC_OPTIM_SGD)
        hp.beta2 = 0.99f;
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(cc->kind, &hp, params);
    AigcTensor *x = aigc_params_get(params, 0);
    for (int step = 0; step < budget; step++) {
        grad(x->data, x->grad);
        aigc_optimizer_step(opt, lr(step));
        float dist = 0.0f;
        for (int i = 0; i < n; i++)
            dist = MAX(dist, fabsf(x->data[i] - minimum[i]));
        if (dist < tol)
            return step + 1;
    }
    return -1;
}

static void test_converge_quadratic(void)
{
    const float start[5] = {0};
    for (guint i = 0; i < G_N_ELEMENTS(converge_cases); i++) {
        const ConvergeCase *cc = &converge_cases[i];
        int steps = converge(cc, 5, start, quad_c, quadratic_grad, cc->lr_quadratic,
                             cc->budget_quadratic, 1e-4f);
        g_test_message("%s: quadratic solved in %d steps (budget %d)", cc->name, steps,
                       cc->budget_quadratic);
        g_assert_cmpint(steps, >, 0);
    }
}

static void test_converge_rosenbrock(void)
{
    const float start[2] = {-1.5f, 2.0f};
    for (guint i = 0; i < G_N_ELEMENTS(converge_cases); i++) {
        const ConvergeCase *cc = &converge_cases[i];
        int steps = converge(cc, 2, start, rosen_c, rosenbrock_grad, cc->lr_rosenbrock,
                             cc->budget_rosenbrock, 1e-3f);
        g_test_message("%s: Rosenbrock solved in %d steps (budget %d)", cc->name, steps,
                       cc->budget_rosenbrock);
        g_assert_cmpint(steps, >, 0);
    }
}

/* ---- threads ---- */

/* (transfer full) Odd-sized parameters, more than two parallel chunks' worth, random values. */
static AigcParams *big_params(void)
{
    AigcParams *params = aigc_params_new();
    aigc_params_add(params, "a", 2, (gint64[]){301, 333});
    aigc_params_add(params, "bias", 1, (gint64[]){7});
    aigc_params_add(params, "c", 1, (gint64[]){50001});
    aigc_params_allocate(params);
    fill_uniform(params, 10);
    return params;
}

static void random_grads(AigcParams *params, AigcRng *rng)
{
    for (guint i = 0; i < aigc_params_get_n(params); i++) {
        AigcTensor *t = aigc_params_get(params, i);
        aigc_rng_fill_normal(rng, t->grad, t->n_elements, 0.0f, 1.0f);
    }
}

/* 1, 2 and 3 threads give the same bits, and so do Adam's AVX2 and portable kernels. With 3
 * threads, chunk boundaries fall inside the kernels' blocks of 8 and inside parameters. */
static void test_threads(void)
{
    static const AigcOptimKind kinds[] = {AIGC_OPTIM_SGD, AIGC_OPTIM_ADAM, AIGC_OPTIM_ADAMW};
    static const struct {
        int threads;
        gboolean avx2;
    } configs[] = {{1, TRUE}, {2, TRUE}, {3, TRUE}, {1, FALSE}, {3, FALSE}};
    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        float *result[G_N_ELEMENTS(configs)];
        gint64 n = 0;
        for (guint c = 0; c < G_N_ELEMENTS(configs); c++) {
            aigc_threads_init(configs[c].threads);
            aigc_optimizer_set_avx2_allowed(configs[c].avx2);
            AigcParams *params = big_params();
            AigcOptimizerParams hp = aigc_optimizer_default_params(kinds[k]);
            hp.momentum = 0.9f;
            hp.weight_decay = 0.05f;
            hp.decay_func = aigc_optimizer_decay_matrices;
            AigcOptimizer *opt = aigc_optimizer_new(kinds[k], &hp, params);
            AigcRng rng;
            aigc_rng_init(&rng, 11);
            n = aigc_params_get_n_elements(params);
            for (int step = 0; step < 3; step++) {
                random_grads(params, &rng);
                aigc_optimizer_step(opt, 0.01f);
            }
            result[c] = g_memdup2(aigc_params_get_data(params), (gsize)n * 4);
            aigc_optimizer_free(opt);
            aigc_params_free(params);
        }
        for (guint c = 1; c < G_N_ELEMENTS(configs); c++)
            g_assert_cmpmem(result[0], n * 4, result[c], n * 4);
        for (guint c = 0; c < G_N_ELEMENTS(configs); c++)
            g_free(result[c]);
    }
    aigc_threads_init(2);
    aigc_optimizer_set_avx2_allowed(TRUE);
}

/* One AdamW step from zero state, on 3 threads, with each kernel, against the update written out
 * per element in double: m = 0.1·g, v = 0.001·g², p ← p·(1 − lr·wd) − lr·(m / 0.1) / (√(v / 0.001)
 * + eps). */
static void test_adamw_per_element(void)
{
    aigc_threads_init(3);
    for (int avx2 = 0; avx2 <= 1; avx2++) {
        aigc_optimizer_set_avx2_allowed(avx2);
        g_autoptr(AigcParams) params = big_params();
        AigcRng rng;
        aigc_rng_init(&rng, 13);
        random_grads(params, &rng);
        gint64 n = aigc_params_get_n_elements(params);
        float *p = aigc_params_get_data(params);
        const float *grad = aigc_params_get_grad(params);
        g_autofree float *want = g_new(float, n);
        for (gint64 i = 0; i < n; i++) {
            double g = grad[i], m = 0.1 * g, v = 0.001 * g * g;
            want[i] =
                (float)(p[i] * (1.0 - 0.01 * 0.01) - 0.01 * (m / 0.1) / (sqrt(v / 0.001) + 1e-8));
        }
        g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, NULL, params);
        aigc_optimizer_step(opt, 0.01f);
        aigc_test_assert_close(p, want, n, 1e-6, 1e-7, "adamw per element");
    }
    aigc_threads_init(2);
}

/* ---- checkpoints ---- */

/* The gradient of ½|x − 0.3|² plus step-dependent noise: the trajectory depends on every bit of
 * the state. */
static void noisy_grads(AigcParams *params, gint64 step)
{
    AigcRng rng;
    aigc_rng_init(&rng, 1000 + (guint64)step);
    for (guint i = 0; i < aigc_params_get_n(params); i++) {
        AigcTensor *t = aigc_params_get(params, i);
        for (gint64 k = 0; k < t->n_elements; k++)
            t->grad[k] = t->data[k] - 0.3f + 0.5f * aigc_rng_normal(&rng);
    }
}

static void train_steps(AigcParams *params, AigcOptimizer *opt, AigcEma *ema, gint64 from,
                        gint64 to)
{
    for (gint64 step = from; step < to; step++) {
        noisy_grads(params, step);
        aigc_clip_grad_norm(params, 2.0);
        aigc_optimizer_step(opt, aigc_lr_warmup_cosine(step, 3, 10, 0.05f, 0.005f));
        aigc_ema_update(ema);
    }
}

static void test_checkpoint_resume(void)
{
    AigcOptimizerParams sgd = aigc_optimizer_default_params(AIGC_OPTIM_SGD);
    sgd.momentum = 0.9f;
    AigcOptimizerParams nesterov = sgd;
    nesterov.nesterov = TRUE;
    nesterov.weight_decay = 0.01f;
    AigcOptimizerParams adam = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    adam.weight_decay = 0.01f;
    AigcOptimizerParams adamw = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
    adamw.decay_func = aigc_optimizer_decay_matrices;
    const struct {
        AigcOptimKind kind;
        const AigcOptimizerParams *hp;
    } cases[] = {{AIGC_OPTIM_SGD, &sgd},
                 {AIGC_OPTIM_SGD, &nesterov},
                 {AIGC_OPTIM_ADAM, &adam},
                 {AIGC_OPTIM_ADAMW, &adamw}};
    g_autofree char *dir = g_dir_make_tmp("aigc-optim-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "ckpt.safetensors", NULL);

    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        /* The uninterrupted run, saved halfway. */
        g_autoptr(AigcParams) a = wb_params();
        fill_uniform(a, 20);
        g_autoptr(AigcOptimizer) opt_a = aigc_optimizer_new(cases[c].kind, cases[c].hp, a);
        g_autoptr(AigcEma) ema_a = aigc_ema_new(a, 0.9f, TRUE);
        train_steps(a, opt_a, ema_a, 0, 5);
        g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
        GError *error = NULL;
        g_assert_true(aigc_params_save(a, wr, "model.", AIGC_DTYPE_F32, &error));
        g_assert_true(aigc_optimizer_save(opt_a, wr, "optim.", &error));
        g_assert_true(aigc_ema_save(ema_a, wr, "ema.", &error));
        g_assert_true(aigc_safetensors_writer_write(wr, path, NULL, NULL, &error));
        g_assert_no_error(error);
        train_steps(a, opt_a, ema_a, 5, 10);

        /* The resumed run: different starting values, everything from the file. */
        g_autoptr(AigcParams) b = wb_params();
        fill_uniform(b, 21);
        g_autoptr(AigcOptimizer) opt_b = aigc_optimizer_new(cases[c].kind, cases[c].hp, b);
        g_autoptr(AigcEma) ema_b = aigc_ema_new(b, 0.9f, TRUE);
        g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
        g_assert_no_error(error);
        g_assert_true(aigc_params_load(b, st, "model.", &error));
        g_assert_true(aigc_optimizer_load(opt_b, st, "optim.", &error));
        g_assert_true(aigc_ema_load(ema_b, st, "ema.", &error));
        g_assert_no_error(error);
        g_assert_cmpint(aigc_optimizer_get_step(opt_b), ==, 5);
        g_assert_cmpint(aigc_ema_get_n_updates(ema_b), ==, 5);
        train_steps(b, opt_b, ema_b, 5, 10);

        gsize bytes = (gsize)aigc_params_get_n_elements(a) * sizeof(float);
        g_assert_cmpmem(aigc_params_get_data(b), bytes, aigc_params_get_data(a), bytes);
        g_assert_cmpmem(aigc_ema_get_data(ema_b), bytes, aigc_ema_get_data(ema_a), bytes);
        g_unlink(path);
    }
    g_rmdir(dir);
}

/* A failed load names the fault and leaves the optimiser as it was. */
static void test_checkpoint_errors(void)
{
    g_autofree char *dir = g_dir_make_tmp("aigc-optim-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "adam.safetensors", NULL);
    g_autofree char *nan_path = g_build_filename(dir, "nan.safetensors", NULL);
    GError *error = NULL;

    g_autoptr(AigcParams) a = wb_params();
    fill_uniform(a, 30);
    g_autoptr(AigcOptimizer) saved = aigc_optimizer_new(AIGC_OPTIM_ADAM, NULL, a);
    noisy_grads(a, 0);
    aigc_optimizer_step(saved, 0.01f);
    g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
    g_assert_true(aigc_optimizer_save(saved, wr, "optim.", &error));
    g_assert_true(aigc_safetensors_writer_write(wr, path, NULL, NULL, &error));
    g_assert_no_error(error);
    /* A NaN gradient puts NaN into the moments; such a state is refused on load. */
    noisy_grads(a, 1);
    aigc_params_get(a, 1)->grad[2] = NAN;
    aigc_optimizer_step(saved, 0.01f);
    g_autoptr(AigcSafetensorsWriter) wr_nan = aigc_safetensors_writer_new();
    g_assert_true(aigc_optimizer_save(saved, wr_nan, "optim.", &error));
    g_assert_true(aigc_safetensors_writer_write(wr_nan, nan_path, NULL, NULL, &error));
    g_assert_no_error(error);

    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    g_autoptr(AigcSafetensors) st_nan = aigc_safetensors_open(nan_path, &error);
    g_assert_no_error(error);

    g_autoptr(AigcParams) b = wb_params();
    g_autoptr(AigcOptimizer) sgd = aigc_optimizer_new(AIGC_OPTIM_SGD, NULL, b);
    g_assert_false(aigc_optimizer_load(sgd, st, "optim.", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED);
    g_clear_error(&error);

    g_autoptr(AigcOptimizer) adam = aigc_optimizer_new(AIGC_OPTIM_ADAM, NULL, b);
    g_assert_false(aigc_optimizer_load(adam, st, "other.", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "other.kind"));
    g_clear_error(&error);
    g_assert_false(aigc_optimizer_load(adam, st_nan, "optim.", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_assert_nonnull(strstr(error->message, "optim.exp_avg.b"));
    g_clear_error(&error);
    g_assert_cmpint(aigc_optimizer_get_step(adam), ==, 0);

    g_autoptr(AigcParams) wrong = aigc_params_new();
    aigc_params_add(wrong, "w", 2, (gint64[]){5, 3});
    aigc_params_add(wrong, "b", 1, (gint64[]){5});
    aigc_params_allocate(wrong);
    g_autoptr(AigcOptimizer) adam_wrong = aigc_optimizer_new(AIGC_OPTIM_ADAM, NULL, wrong);
    g_assert_false(aigc_optimizer_load(adam_wrong, st, "optim.", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "optim.exp_avg.w"));
    g_clear_error(&error);

    /* After the failures `adam` still steps exactly like a fresh optimiser. */
    g_autoptr(AigcParams) c = wb_params();
    fill_uniform(b, 31);
    fill_uniform(c, 31);
    g_autoptr(AigcOptimizer) fresh = aigc_optimizer_new(AIGC_OPTIM_ADAM, NULL, c);
    for (int step = 0; step < 3; step++) {
        noisy_grads(b, step);
        noisy_grads(c, step);
        aigc_optimizer_step(adam, 0.01f);
        aigc_optimizer_step(fresh, 0.01f);
    }
    gsize bytes = (gsize)aigc_params_get_n_elements(b) * sizeof(float);
    g_assert_cmpmem(aigc_params_get_data(b), bytes, aigc_params_get_data(c), bytes);

    g_unlink(path);
    g_unlink(nan_path);
    g_rmdir(dir);
}

/* ---- gradient clipping ---- */

static void test_clip_norm(void)
{
    g_autoptr(AigcParams) params = wb_params();
    AigcTensor *w = aigc_params_find(params, "w"), *b = aigc_params_find(params, "b");
    /* Σ g² = 15·1² + 5·2² = 35. */
    for (int i = 0; i < 15; i++)
        w->grad[i] = 1.0f;
    for (int i = 0; i < 5; i++)
        b->grad[i] = 2.0f;

    /* Below the limit: the norm, and the gradients untouched. */
    g_assert_cmpfloat_with_epsilon(aigc_clip_grad_norm(params, 10.0), sqrt(35.0), 1e-12);
    for (int i = 0; i < 15; i++)
        g_assert_cmpfloat(w->grad[i], ==, 1.0f);
    for (int i = 0; i < 5; i++)
        g_assert_cmpfloat(b->grad[i], ==, 2.0f);

    /* Above: the norm before clipping is returned, every gradient scaled by 1 / (√35 + 1e-6). */
    g_assert_cmpfloat_with_epsilon(aigc_clip_grad_norm(params, 1.0), sqrt(35.0), 1e-12);
    float scale = (float)(1.0 / (sqrt(35.0) + 1e-6));
    for (int i = 0; i < 15; i++)
        g_assert_cmpfloat_with_epsilon(w->grad[i], scale, 1e-7);
    for (int i = 0; i < 5; i++)
        g_assert_cmpfloat_with_epsilon(b->grad[i], 2.0f * scale, 1e-7);
    g_assert_cmpfloat_with_epsilon(aigc_clip_grad_norm(params, 1.0), 1.0, 1e-5);

    /* Tiny norms show PyTorch's guard: norm √15·1e-6, scale 1e-6 / (√15·1e-6 + 1e-6). */
    aigc_params_zero_grad(params);
    for (int i = 0; i < 15; i++)
        w->grad[i] = 1e-6f;
    double norm = aigc_clip_grad_norm(params, 1e-6);
    g_assert_cmpfloat(fabs(norm - sqrt(15.0) * 1e-6), <=, 1e-6 * norm);
    float want = (float)(1e-6 * (1e-6 / (sqrt(15.0) * 1e-6 + 1e-6)));
    for (int i = 0; i < 15; i++)
        g_assert_cmpfloat(fabsf(w->grad[i] - want), <=, 1e-6f * want);
}

static void test_clip_non_finite(void)
{
    g_autoptr(AigcParams) params = wb_params();
    AigcTensor *w = aigc_params_find(params, "w");
    for (int i = 0; i < 15; i++)
        w->grad[i] = 1.0f;
    w->grad[7] = INFINITY;
    g_assert_true(isinf(aigc_clip_grad_norm(params, 1.0)));
    g_assert_cmpfloat(w->grad[0], ==, 1.0f);
    w->grad[7] = NAN;
    g_assert_true(isnan(aigc_clip_grad_norm(params, 1.0)));
    g_assert_cmpfloat(w->grad[0], ==, 1.0f);
}

/* Millions of gradients: the same norm bits on 1 and 2 threads, equal to a plain double sum. */
static void test_clip_threads(void)
{
    g_autoptr(AigcParams) params = aigc_params_new();
    aigc_params_add(params, "w", 2, (gint64[]){1001, 3001});
    aigc_params_add(params, "b", 1, (gint64[]){7});
    aigc_params_allocate(params);
    gint64 n = aigc_params_get_n_elements(params);
    float *g = aigc_params_get_grad(params);
    AigcRng rng;
    aigc_rng_init(&rng, 40);
    for (guint i = 0; i < aigc_params_get_n(params); i++) {
        AigcTensor *t = aigc_params_get(params, i);
        aigc_rng_fill_normal(&rng, t->grad, t->n_elements, 0.0f, 1.0f);
    }
    double want = 0.0;
    for (gint64 i = 0; i < n; i++)
        want += (double)g[i] * g[i];
    want = sqrt(want);
    aigc_threads_init(1);
    double norm1 = aigc_clip_grad_norm(params, 1e9);
    aigc_threads_init(2);
    double norm2 = aigc_clip_grad_norm(params, 1e9);
    g_assert_true(memcmp(&norm1, &norm2, sizeof norm1) == 0);
    g_assert_cmpfloat(fabs(norm2 - want), <=, 1e-12 * want);
}

/* ---- schedules ---- */

static void test_schedule_warmup_cosine(void)
{
    /* Warm-up over 10 steps to 1.0, cosine down to 0.1 at step 110. */
    g_assert_cmpfloat(aigc_lr_warmup_cosine(0, 10, 110, 1.0f, 0.1f), ==, 0.0f);
    g_assert_cmpfloat_with_epsilon(aigc_lr_warmup_cosine(5, 10, 110, 1.0f, 0.1f), 0.5f, 1e-7);
    g_assert_cmpfloat(aigc_lr_warmup_cosine(10, 10, 110, 1.0f, 0.1f), ==, 1.0f);
    /* A quarter through the decay: 0.1 + 0.9·½·(1 + cos(π/4)). */
    g_assert_cmpfloat_with_epsilon(aigc_lr_warmup_cosine(35, 10, 110, 1.0f, 0.1f), 0.868198052f,
                                   1e-7);
    /* Midpoint: halfway between the two rates. */
    g_assert_cmpfloat_with_epsilon(aigc_lr_warmup_cosine(60, 10, 110, 1.0f, 0.1f), 0.55f, 1e-7);
    g_assert_cmpfloat(aigc_lr_warmup_cosine(110, 10, 110, 1.0f, 0.1f), ==, 0.1f);
    g_assert_cmpfloat(aigc_lr_warmup_cosine(5000, 10, 110, 1.0f, 0.1f), ==, 0.1f);
    float last = 1.0f;
    for (gint64 step = 10; step <= 120; step++) {
        float lr = aigc_lr_warmup_cosine(step, 10, 110, 1.0f, 0.1f);
        g_assert_cmpfloat(lr, <=, last);
        g_assert_cmpfloat(lr, >=, 0.1f);
        last = lr;
    }
    /* No warm-up starts at the peak. */
    g_assert_cmpfloat(aigc_lr_warmup_cosine(0, 0, 100, 3e-4f, 0.0f), ==, 3e-4f);
}

static void test_schedule_warmup_constant(void)
{
    g_assert_cmpfloat(aigc_lr_warmup_constant(0, 4, 2.0f), ==, 0.0f);
    g_assert_cmpfloat(aigc_lr_warmup_constant(1, 4, 2.0f), ==, 0.5f);
    g_assert_cmpfloat(aigc_lr_warmup_constant(3, 4, 2.0f), ==, 1.5f);
    g_assert_cmpfloat(aigc_lr_warmup_constant(4, 4, 2.0f), ==, 2.0f);
    g_assert_cmpfloat(aigc_lr_warmup_constant(1000000, 4, 2.0f), ==, 2.0f);
    g_assert_cmpfloat(aigc_lr_warmup_constant(0, 0, 2.0f), ==, 2.0f);
}

/* ---- EMA ---- */

static const float ema_p0[3] = {1.0f, 2.0f, 3.0f};
static const float ema_seq[3][3] = {{2.0f, 2.0f, 0.0f}, {0.0f, 4.0f, 1.0f}, {1.0f, 1.0f, 1.0f}};

static void run_ema(float decay, gboolean warmup, const float want[3][3], const float *decays)
{
    g_autoptr(AigcParams) params = vector_params(ema_p0, 3);
    float *x = aigc_params_get(params, 0)->data;
    g_autoptr(AigcEma) ema = aigc_ema_new(params, decay, warmup);
    g_assert_cmpmem(aigc_ema_get_data(ema), 12, ema_p0, 12);
    for (int k = 0; k < 3; k++) {
        g_assert_cmpfloat_with_epsilon(aigc_ema_get_decay(ema), decays[k], 1e-7);
        memcpy(x, ema_seq[k], sizeof ema_seq[k]);
        aigc_ema_update(ema);
        g_assert_cmpint(aigc_ema_get_n_updates(ema), ==, k + 1);
        aigc_test_assert_close(aigc_ema_get_data(ema), want[k], 3, HAND_RTOL, HAND_ATOL, "ema");
    }
}

static void test_ema_sequence(void)
{
    /* s = 0.9·s + 0.1·p from s0 = (1, 2, 3). */
    const float want[3][3] = {{1.1f, 2.0f, 2.7f}, {0.99f, 2.2f, 2.53f}, {0.991f, 2.08f, 2.377f}};
    run_ema(0.9f, FALSE, want, (float[]){0.9f, 0.9f, 0.9f});
}

static void test_ema_warmup(void)
{
    /* Decay 0.999 warmed up: d = 1/10, 2/11, 3/12 for the first three updates, e.g.
     * s1 = 0.1·(1, 2, 3) + 0.9·(2, 2, 0) = (1.9, 2, 0.3). */
    const float want[3][3] = {{1.9f, 2.0f, 0.3f},
                              {0.345454545f, 3.63636364f, 0.872727273f},
                              {0.836363636f, 1.65909091f, 0.968181818f}};
    run_ema(0.999f, TRUE, want, (float[]){0.1f, 2.0f / 11.0f, 0.25f});
}

static void test_ema_copy_swap(void)
{
    g_autoptr(AigcParams) params = wb_params();
    fill_uniform(params, 50);
    g_autoptr(AigcEma) ema = aigc_ema_new(params, 0.5f, FALSE);
    fill_uniform(params, 51);
    aigc_ema_update(ema);
    gint64 n = aigc_params_get_n_elements(params);
    gsize bytes = (gsize)n * sizeof(float);
    g_autofree float *live = g_memdup2(aigc_params_get_data(params), bytes);
    g_autofree float *avg = g_memdup2(aigc_ema_get_data(ema), bytes);
    g_assert_true(memcmp(live, avg, bytes) != 0);

    /* Copy into the sampling model. */
    g_autoptr(AigcParams) sampler = wb_params();
    aigc_ema_copy_to(ema, sampler);
    g_assert_cmpmem(aigc_params_get_data(sampler), bytes, avg, bytes);

    /* Swap in: the model holds the average; a save now stores the average too. */
    aigc_ema_swap(ema);
    g_assert_true(aigc_ema_get_swapped(ema));
    g_assert_cmpmem(aigc_params_get_data(params), bytes, avg, bytes);
    g_assert_cmpmem(aigc_ema_get_data(ema), bytes, avg, bytes);
    g_autofree char *dir = g_dir_make_tmp("aigc-optim-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "ema.safetensors", NULL);
    g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
    GError *error = NULL;
    g_assert_true(aigc_ema_save(ema, wr, "ema.", &error));
    g_assert_true(aigc_safetensors_writer_write(wr, path, NULL, NULL, &error));
    g_assert_no_error(error);

    /* Swap out: training values back, bit for bit. */
    aigc_ema_swap(ema);
    g_assert_false(aigc_ema_get_swapped(ema));
    g_assert_cmpmem(aigc_params_get_data(params), bytes, live, bytes);
    g_assert_cmpmem(aigc_ema_get_data(ema), bytes, avg, bytes);

    /* The saved average loads straight into a model for sampling. */
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    g_assert_no_error(error);
    g_autoptr(AigcParams) loaded = wb_params();
    g_assert_true(aigc_params_load(loaded, st, "ema.shadow.", &error));
    g_assert_no_error(error);
    g_assert_cmpmem(aigc_params_get_data(loaded), bytes, avg, bytes);
    g_unlink(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/optim/sgd/first-steps", test_sgd_first_steps);
    g_test_add_func("/engine/optim/adam/first-steps", test_adam_first_steps);
    g_test_add_func("/engine/optim/adamw/first-steps", test_adamw_first_steps);
    g_test_add_func("/engine/optim/adamw/golden", test_adamw_golden);
    g_test_add_func("/engine/optim/adamw/golden-no-decay", test_adamw_golden_no_decay);
    g_test_add_func("/engine/optim/weight-decay/exclude", test_weight_decay_exclude);
    g_test_add_func("/engine/optim/frozen", test_frozen);
    g_test_add_func("/engine/optim/converge/quadratic", test_converge_quadratic);
    g_test_add_func("/engine/optim/converge/rosenbrock", test_converge_rosenbrock);
    g_test_add_func("/engine/optim/threads", test_threads);
    g_test_add_func("/engine/optim/adamw/per-element", test_adamw_per_element);
    g_test_add_func("/engine/optim/checkpoint/resume", test_checkpoint_resume);
    g_test_add_func("/engine/optim/checkpoint/errors", test_checkpoint_errors);
    g_test_add_func("/engine/optim/clip/norm", test_clip_norm);
    g_test_add_func("/engine/optim/clip/non-finite", test_clip_non_finite);
    g_test_add_func("/engine/optim/clip/threads", test_clip_threads);
    g_test_add_func("/engine/optim/schedule/warmup-cosine", test_schedule_warmup_cosine);
    g_test_add_func("/engine/optim/schedule/warmup-constant", test_schedule_warmup_constant);
    g_test_add_func("/engine/optim/ema/sequence", test_ema_sequence);
    g_test_add_func("/engine/optim/ema/warmup", test_ema_warmup);
    g_test_add_func("/engine/optim/ema/copy-swap", test_ema_copy_swap);
    return g_test_run();
}
