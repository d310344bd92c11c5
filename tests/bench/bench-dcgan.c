/* SPDX-License-Identifier: MIT
 *
 * The DCGAN training step (generator + discriminator, 32×32×1, batch 64, nz 100, ngf = ndf = 64)
 * against the same model in PyTorch (tests/bench/torch_dcgan_step.py, its README has the layers)
 * in the same run. One step: D on real and on detached fakes, then G through the updated D; Adam
 * (2e-4, betas 0.5, 0.999). Prints both medians and, last, the ratio (target ≥ 1.0).
 */
#include "bench-common.h"

#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-params.h"
#include "tensor/aigc-threads.h"

#include <stdio.h>
#include <stdlib.h>

enum { N = 64, NZ = 100, NGF = 64, NDF = 64 };

typedef struct {
    AigcTensor *w, *g, *b; /* conv weight; batch-norm scale and shift (nullable) */
    float *mean, *var;     /* running statistics */
} Layer;

static void add_layer(AigcParams *p, Layer *l, const char *name, gint64 a, gint64 b, int bn_c)
{
    char n[64];
    g_snprintf(n, sizeof n, "%s.w", name);
    l->w = aigc_params_add(p, n, 4, (gint64[]){a, b, 4, 4});
    if (bn_c) {
        g_snprintf(n, sizeof n, "%s.g", name);
        l->g = aigc_params_add(p, n, 1, (gint64[]){bn_c});
        g_snprintf(n, sizeof n, "%s.b", name);
        l->b = aigc_params_add(p, n, 1, (gint64[]){bn_c});
        l->mean = g_new0(float, bn_c);
        l->var = g_new(float, bn_c);
        for (int i = 0; i < bn_c; i++)
            l->var[i] = 1;
    }
}

static AigcTensor *bn(AigcCtx *ctx, Layer *l, AigcTensor *x)
{
    return aigc_batchnorm(ctx, x, l->g, l->b, l->mean, l->var, 0.1f, 1e-5f);
}

static Layer g1, g2, g3, g4, d1, d2, d3, d4;
static AigcTensor *d4_bias;

static AigcTensor *generator(AigcCtx *ctx, AigcTensor *z)
{
    AigcTensor *x = aigc_relu(ctx, bn(ctx, &g1, aigc_conv_transpose2d(ctx, z, g1.w, NULL, 1, 0, 0)));
    x = aigc_relu(ctx, bn(ctx, &g2, aigc_conv_transpose2d(ctx, x, g2.w, NULL, 2, 1, 0)));
    x = aigc_relu(ctx, bn(ctx, &g3, aigc_conv_transpose2d(ctx, x, g3.w, NULL, 2, 1, 0)));
    return aigc_tanh(ctx, aigc_conv_transpose2d(ctx, x, g4.w, NULL, 2, 1, 0));
}

static AigcTensor *discriminator(AigcCtx *ctx, AigcTensor *x)
{
    x = aigc_leaky_relu(ctx, aigc_conv2d(ctx, x, d1.w, NULL, 2, 1), 0.2f);
    x = aigc_leaky_relu(ctx, bn(ctx, &d2, aigc_conv2d(ctx, x, d2.w, NULL, 2, 1)), 0.2f);
    x = aigc_leaky_relu(ctx, bn(ctx, &d3, aigc_conv2d(ctx, x, d3.w, NULL, 2, 1)), 0.2f);
    x = aigc_conv2d(ctx, x, d4.w, d4_bias, 1, 0);
    return aigc_reshape(ctx, x, 2, (gint64[]){N, 1});
}

int main(int argc, char **argv)
{
    int n_steps = argc > 1 ? atoi(argv[1]) : 20;
    aigc_threads_init(0);
    AigcRng rng;
    aigc_rng_init(&rng, 0);
    g_autoptr(AigcParams) gp = aigc_params_new();
    g_autoptr(AigcParams) dp = aigc_params_new();
    add_layer(gp, &g1, "g1", NZ, NGF * 4, NGF * 4);
    add_layer(gp, &g2, "g2", NGF * 4, NGF * 2, NGF * 2);
    add_layer(gp, &g3, "g3", NGF * 2, NGF, NGF);
    add_layer(gp, &g4, "g4", NGF, 1, 0);
    add_layer(dp, &d1, "d1", NDF, 1, 0);
    add_layer(dp, &d2, "d2", NDF * 2, NDF, NDF * 2);
    add_layer(dp, &d3, "d3", NDF * 4, NDF * 2, NDF * 4);
    add_layer(dp, &d4, "d4", 1, NDF * 4, 0);
    d4_bias = aigc_params_add(dp, "d4.bias", 1, (gint64[]){1});
    aigc_params_allocate(gp);
    aigc_params_allocate(dp);
    AigcParams *both[2] = {gp, dp};
    for (int k = 0; k < 2; k++)
        for (guint i = 0; i < aigc_params_get_n(both[k]); i++) {
            AigcTensor *t = aigc_params_get(both[k], i);
            if (t->n_dims == 4)
                aigc_rng_fill_normal(&rng, t->data, t->n_elements, 0, 0.02f);
            else if (g_str_has_suffix(t->name, ".g"))
                aigc_rng_fill_normal(&rng, t->data, t->n_elements, 1, 0.02f);
        }
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    hp.beta1 = 0.5f;
    g_autoptr(AigcOptimizer) gopt = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, gp);
    g_autoptr(AigcOptimizer) dopt = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, dp);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    float *real = g_new(float, N * 32 * 32);
    aigc_rng_fill_uniform(&rng, real, N * 32 * 32, -1, 1);
    float *z = g_new(float, N * NZ), ones[N], zeros[N];
    for (int i = 0; i < N; i++) {
        ones[i] = 1;
        zeros[i] = 0;
    }
    double *ms = g_new(double, n_steps);
    for (int s = -3; s < n_steps; s++) {
        gint64 t0 = g_get_monotonic_time();
        aigc_rng_fill_normal(&rng, z, N * NZ, 0, 1);
        aigc_ctx_reset(ctx);
        AigcTensor *zt = aigc_tensor_wrap(ctx, 4, (gint64[]){N, NZ, 1, 1}, z);
        AigcTensor *t1 = aigc_tensor_wrap(ctx, 2, (gint64[]){N, 1}, ones);
        AigcTensor *t0z = aigc_tensor_wrap(ctx, 2, (gint64[]){N, 1}, zeros);
        /* D step: G's output does not need a gradient here (detached). */
        AigcTensor *fake = generator(ctx, zt);
        AigcTensor *fake_detached = aigc_tensor_wrap(ctx, 4, fake->shape, fake->data);
        AigcTensor *rt = aigc_tensor_wrap(ctx, 4, (gint64[]){N, 1, 32, 32}, real);
        aigc_params_zero_grad(dp);
        AigcTensor *ld = aigc_add(ctx, aigc_bce_with_logits(ctx, discriminator(ctx, rt), t1),
                                  aigc_bce_with_logits(ctx, discriminator(ctx, fake_detached), t0z));
        aigc_ctx_backward(ctx, ld);
        aigc_optimizer_step(dopt, 2e-4f);
        /* G step through the updated D. */
        aigc_params_zero_grad(gp);
        aigc_params_zero_grad(dp);
        AigcTensor *lg = aigc_bce_with_logits(ctx, discriminator(ctx, fake), t1);
        aigc_ctx_backward(ctx, lg);
        aigc_optimizer_step(gopt, 2e-4f);
        if (s >= 0)
            ms[s] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    double ours = bench_median(ms, n_steps);
    printf("ours_ms_per_step: %.2f\n", ours);
    fflush(stdout);
    double torch_ms = bench_run_torch_peer("torch_dcgan_step.py", NULL, "torch_ms_per_step");
    if (torch_ms > 0)
        printf("speedup_vs_torch: %.2f (target >= 1.0)\n", torch_ms / ours);
    else
        printf("speedup_vs_torch: n/a (PyTorch peer unavailable)\n");
    return 0;
}
