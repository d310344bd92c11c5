/* SPDX-License-Identifier: MIT */
#include "aigc-test-support.h"

#include <math.h>
#include <string.h>

AigcGradcheckParams aigc_gradcheck_default_params(void)
{
    return (AigcGradcheckParams){
        .eps = 1e-3, .atol = 2e-3, .rtol = 2e-2, .max_checks = 64, .seed = 7, .training = TRUE};
}

static double weighted_sum(AigcTensor *out, const float *w)
{
    double s = 0;
    for (gint64 i = 0; i < out->n_elements; i++)
        s += (double)w[i] * out->data[i];
    return s;
}

static double eval_loss(AigcCtx *ctx, AigcGradcheckFunc f, AigcTensor *const *inputs,
                        gpointer user_data, const float *w, gboolean training)
{
    aigc_ctx_reset(ctx);
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    aigc_ctx_set_training(ctx, training);
    aigc_rng_init(aigc_ctx_get_rng(ctx), 99); /* same dropout masks as the analytic pass */
    AigcTensor *out = aigc_contiguous(ctx, f(ctx, inputs, user_data));
    g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, 0);
    double l = weighted_sum(out, w);
    aigc_ctx_set_grad_enabled(ctx, TRUE);
    return l;
}

gboolean aigc_gradcheck(AigcGradcheckFunc f, int n_inputs, AigcTensor *const *inputs,
                        gpointer user_data, const AigcGradcheckParams *params)
{
    AigcGradcheckParams p = params ? *params : aigc_gradcheck_default_params();
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, p.seed);

    /* Analytic pass. */
    aigc_ctx_set_training(ctx, p.training);
    aigc_rng_init(aigc_ctx_get_rng(ctx), 99);
    AigcTensor *out = aigc_contiguous(ctx, f(ctx, inputs, user_data));
    gint64 n_out = out->n_elements;
    float *w = g_new(float, MAX(n_out, 1));
    aigc_rng_fill_normal(&rng, w, n_out, 0.0f, 1.0f);
    for (int k = 0; k < n_inputs; k++)
        aigc_tensor_zero_grad(inputs[k]);
    aigc_ctx_backward_from(ctx, out, w);

    float **analytic = g_new0(float *, n_inputs);
    for (int k = 0; k < n_inputs; k++)
        if (inputs[k]->requires_grad)
            analytic[k] = g_memdup2(inputs[k]->grad, (gsize)MAX(inputs[k]->n_elements, 1) * 4);

    gboolean ok = TRUE;
    int n_bad = 0;
    double worst = 0;
    for (int k = 0; k < n_inputs; k++) {
        AigcTensor *x = inputs[k];
        if (!x->requires_grad)
            continue;
        gint64 n = x->n_elements;
        gint64 n_checks = (p.max_checks <= 0 || p.max_checks >= n) ? n : p.max_checks;
        for (gint64 c = 0; c < n_checks; c++) {
            gint64 i = n_checks == n ? c : (gint64)aigc_rng_below(&rng, (guint32)n);
            float v = x->data[i];
            x->data[i] = v + (float)p.eps;
            double lp = eval_loss(ctx, f, inputs, user_data, w, p.training);
            x->data[i] = v - (float)p.eps;
            double lm = eval_loss(ctx, f, inputs, user_data, w, p.training);
            x->data[i] = v;
            /* The step actually taken, as float rounding changes it. */
            double h = ((double)(v + (float)p.eps) - (double)(v - (float)p.eps));
            double numeric = (lp - lm) / h;
            double a = analytic[k][i];
            double err = fabs(a - numeric);
            double bound = p.atol + p.rtol * fabs(numeric);
            worst = MAX(worst, err / bound);
            if (err > bound) {
                ok = FALSE;
                if (n_bad++ < 8)
                    g_test_message("gradcheck: input %d element %" G_GINT64_FORMAT
                                   ": analytic %.6g, numeric %.6g",
                                   k, i, a, numeric);
            }
        }
    }
    if (!ok)
        g_test_message("gradcheck: %d mismatches, worst at %.2f× the bound", n_bad, worst);
    for (int k = 0; k < n_inputs; k++)
        g_free(analytic[k]);
    g_free(analytic);
    g_free(w);
    return ok;
}

AigcTensor *aigc_test_leaf(AigcRng *rng, int n_dims, const gint64 *shape, float lo, float hi,
                           gboolean requires_grad)
{
    AigcTensor *t = aigc_tensor_new_leaf(n_dims, shape, requires_grad);
    aigc_rng_fill_uniform(rng, t->data, t->n_elements, lo, hi);
    return t;
}

void aigc_test_assert_close(const float *got, const float *want, gint64 n, double rtol,
                            double atol, const char *what)
{
    for (gint64 i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        if (!(err <= atol + rtol * fabs(want[i])))
            g_error("%s: element %" G_GINT64_FORMAT " is %.8g, expected %.8g (rtol %g, atol %g)",
                    what, i, got[i], want[i], rtol, atol);
    }
}

AigcSafetensors *aigc_test_open_golden(const char *name)
{
    g_autofree char *file = g_strconcat(name, ".safetensors", NULL);
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "reference", "goldens", file, NULL);
    GError *error = NULL;
    AigcSafetensors *st = aigc_safetensors_open(path, &error);
    g_assert_no_error(error);
    return st;
}

const float *aigc_test_golden_data(AigcSafetensors *st, const char *name, gint64 *n_elements)
{
    const AigcSafetensorsTensor *t = aigc_safetensors_find(st, name);
    if (!t)
        g_error("golden tensor “%s” is missing", name);
    g_assert_cmpint(t->dtype, ==, AIGC_DTYPE_F32);
    g_assert_cmpuint((guintptr)t->data % 4, ==, 0);
    if (n_elements)
        *n_elements = t->n_elements;
    return (const float *)t->data;
}

AigcTensor *aigc_test_golden_leaf(AigcSafetensors *st, const char *name, gboolean requires_grad)
{
    const AigcSafetensorsTensor *t = aigc_safetensors_find(st, name);
    if (!t)
        g_error("golden tensor “%s” is missing", name);
    AigcTensor *leaf = aigc_tensor_new_leaf(t->n_dims, t->shape, requires_grad);
    memcpy(leaf->data, aigc_test_golden_data(st, name, NULL), t->n_bytes);
    return leaf;
}
