/* SPDX-License-Identifier: MIT
 *
 * The Fashion-MNIST diffusion UNet (engine/models/diffusion, the default config: 28×28×1,
 * widths 32/64/128, one residual block per level, 4-head attention at 7×7, 10 classes) against
 * the same network in PyTorch (tests/bench/torch_diffusion_sample.py) in the same run:
 *   - sampling: DDIM, 50 steps, a batch of 16 with classifier-free guidance 3 (each step one
 *     forward of 32 images: the 16 with their classes and the 16 with the null class);
 *   - training: one step of batch 64 = ε-prediction loss, backward, gradient clipping, AdamW
 *     and the EMA update.
 * Prints medians, ms per sampling step and, last, the sampling speed ratio (target ≥ 1.25).
 * Usage: bench-diffusion [TRAIN_STEPS [SAMPLE_RUNS]]
 */
#include "bench-common.h"

#include "models/diffusion/aigc-ddpm.h"
#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <stdio.h>
#include <stdlib.h>

enum { TRAIN_BATCH = 64, SAMPLE_BATCH = 16, SAMPLE_STEPS = 50 };

int main(int argc, char **argv)
{
    int n_train = argc > 1 ? atoi(argv[1]) : 10;
    int n_sample = argc > 2 ? atoi(argv[2]) : 3;
    n_train = MAX(n_train, 1);
    n_sample = MAX(n_sample, 1);
    aigc_threads_init(0);
    AigcDiffusionConfig config = aigc_diffusion_default_config();
    g_autoptr(AigcDiffusion) model = aigc_diffusion_new(&config);
    AigcRng rng;
    aigc_rng_init(&rng, 0);
    aigc_diffusion_init_weights(model, &rng);
    /* the zero-initialised convs get small weights, so every branch computes something */
    AigcParams *params = aigc_diffusion_get_params(model);
    for (guint i = 0; i < aigc_params_get_n(params); i++) {
        AigcTensor *t = aigc_params_get(params, i);
        if (t->n_dims == 4 && t->data[0] == 0.0f)
            aigc_rng_fill_normal(&rng, t->data, t->n_elements, 0.0f, 0.02f);
    }
    printf("threads: %d\nparams: %" G_GINT64_FORMAT "\n", aigc_threads_get(),
           aigc_params_get_n_elements(params));

    /* sampling */
    gint32 classes[SAMPLE_BATCH];
    for (int b = 0; b < SAMPLE_BATCH; b++)
        classes[b] = b % config.n_classes;
    AigcDiffusionSampleParams sp = aigc_diffusion_sample_default_params();
    sp.steps = SAMPLE_STEPS;
    sp.guidance = 3.0f;
    const gint64 P = (gint64)config.image_size * config.image_size * config.channels;
    g_autofree float *out = g_new(float, SAMPLE_BATCH *P);
    g_autofree double *sample_ms = g_new(double, n_sample);
    for (int r = -1; r < n_sample; r++) {
        gint64 t0 = g_get_monotonic_time();
        sp.seed = (guint64)(r + 1);
        if (!aigc_diffusion_sample(model, &sp, classes, SAMPLE_BATCH, out, NULL, NULL))
            g_error("sampling failed");
        if (r >= 0)
            sample_ms[r] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    double ours_sample = bench_median(sample_ms, n_sample);
    printf("ours_sample_ms (DDIM %d steps, batch %d, guidance 3): %.1f\n", SAMPLE_STEPS,
           SAMPLE_BATCH, ours_sample);
    printf("ours_ms_per_sampling_step: %.2f\n", ours_sample / SAMPLE_STEPS);
    fflush(stdout);

    /* training */
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
    hp.weight_decay = 0.0f;
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, &hp, params);
    g_autoptr(AigcEma) ema = aigc_ema_new(params, 0.999f, TRUE);
    g_autofree float *x0 = g_new(float, TRAIN_BATCH *P);
    gint32 labels[TRAIN_BATCH];
    aigc_rng_fill_uniform(&rng, x0, TRAIN_BATCH * P, -1.0f, 1.0f);
    for (int b = 0; b < TRAIN_BATCH; b++)
        labels[b] = b % config.n_classes;
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    g_autofree double *train_ms = g_new(double, n_train);
    float loss = 0;
    for (int s = -2; s < n_train; s++) {
        gint64 t0 = g_get_monotonic_time();
        aigc_ctx_reset(ctx);
        aigc_params_zero_grad(params);
        AigcTensor *l = aigc_diffusion_loss(ctx, model, x0, labels, TRAIN_BATCH, 0.1f, &rng, NULL);
        aigc_ctx_backward(ctx, l);
        aigc_clip_grad_norm(params, 1.0);
        aigc_optimizer_step(opt, 2e-4f);
        aigc_ema_update(ema);
        loss = l->data[0];
        if (s >= 0)
            train_ms[s] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    double ours_train = bench_median(train_ms, n_train);
    printf("loss_after: %.4f\n", loss);
    printf("arena_peak_mb: %.1f\n", aigc_arena_get_peak(aigc_ctx_get_arena(ctx)) / 1048576.0);
    printf("peak_rss_mb: %.1f\n", bench_peak_rss_mb());
    printf("ours_train_ms_per_step (batch %d): %.1f\n", TRAIN_BATCH, ours_train);
    fflush(stdout);
    if (g_getenv("AIGC_BENCH_NO_PEER")) {
        printf("speedup_vs_torch: n/a (peer disabled)\n");
        return 0;
    }

    g_autofree char *train_arg = g_strdup_printf("%d", n_train);
    const char *train_args[] = {"--mode", "train", "--steps", train_arg, NULL};
    double torch_train =
        bench_run_torch_peer("torch_diffusion_sample.py", train_args, "torch_train_ms_per_step");
    if (torch_train > 0)
        printf("train_speedup_vs_torch: %.2f (target >= 1.25)\n", torch_train / ours_train);
    g_autofree char *runs_arg = g_strdup_printf("%d", n_sample);
    const char *sample_args[] = {"--mode", "sample", "--runs", runs_arg, NULL};
    double torch_sample =
        bench_run_torch_peer("torch_diffusion_sample.py", sample_args, "torch_sample_ms");
    if (torch_sample > 0)
        printf("speedup_vs_torch: %.2f (target >= 1.25)\n", torch_sample / ours_sample);
    else
        printf("speedup_vs_torch: n/a (PyTorch peer unavailable)\n");
    return 0;
}
