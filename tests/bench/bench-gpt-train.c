/* SPDX-License-Identifier: MIT
 *
 * The `gpt-en` training step (issue: Write), ours against the same model in PyTorch
 * (tests/bench/torch_gpt_step.py) in the same run. The model and batch are those of the shipped
 * model's card: Llama layout (RMS norm, rotary positions, SwiGLU, untied head), dim 256,
 * 4 layers, 8 heads, SwiGLU 704, BPE vocabulary 2048, dropout 0.1, batch 16 × 256 tokens.
 * One step = forward, cross-entropy, backward, gradient clipping to norm 1, AdamW (β2 0.95,
 * weight decay 0.1 on matrices) — exactly the step of `aigc train text --model gpt`.
 * Prints medians, tokens/s and, last, the speed ratio.
 */
#include "bench-common.h"

#include "models/gpt/aigc-gpt.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-params.h"
#include "tensor/aigc-threads.h"

#include <stdio.h>
#include <stdlib.h>

enum { V = 2048, B = 16, T = 256 };

int main(int argc, char **argv)
{
    int n_steps = argc > 1 ? atoi(argv[1]) : 10;
    aigc_threads_init(0);
    AigcGptConfig cfg = aigc_gpt_default_config();
    cfg.vocab_size = V;
    cfg.dim = 256;
    cfg.n_layers = 4;
    cfg.n_heads = 8;
    cfg.hidden_dim = 704;
    cfg.max_seq_len = T;
    cfg.dropout = 0.1f;
    AigcRng rng;
    aigc_rng_init(&rng, 0);
    g_autoptr(AigcGpt) gpt = aigc_gpt_new(&cfg);
    aigc_gpt_init_weights(gpt, &rng);
    AigcParams *params = aigc_gpt_get_params(gpt);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
    hp.weight_decay = 0.1f;
    hp.beta2 = 0.95f;
    hp.decay_func = aigc_optimizer_decay_matrices;
    AigcOptimizer *opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, &hp, params);

    gint32 *ids = g_new(gint32, B * T), *targets = g_new(gint32, B * T);
    for (int i = 0; i < B * T; i++) {
        ids[i] = (gint32)aigc_rng_below(&rng, V);
        targets[i] = (gint32)aigc_rng_below(&rng, V);
    }
    AigcCtx *ctx = aigc_ctx_new();
    aigc_ctx_set_training(ctx, TRUE);
    double *ms = g_new(double, n_steps);
    float loss = 0;
    for (int s = -3; s < n_steps; s++) {
        gint64 t0 = g_get_monotonic_time();
        aigc_ctx_reset(ctx);
        aigc_params_zero_grad(params);
        AigcTensor *l = aigc_gpt_loss(ctx, gpt, ids, targets, B, T);
        aigc_ctx_backward(ctx, l);
        aigc_clip_grad_norm(params, 1.0f);
        aigc_optimizer_step(opt, 1e-3f);
        loss = l->data[0];
        if (s >= 0)
            ms[s] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    double ours = bench_median(ms, n_steps);
    printf("params: %" G_GINT64_FORMAT "\n", aigc_params_get_n_elements(params));
    printf("loss_after: %.4f\n", loss);
    printf("arena_peak_mb: %.1f\n", aigc_arena_get_peak(aigc_ctx_get_arena(ctx)) / 1048576.0);
    printf("peak_rss_mb: %.1f\n", bench_peak_rss_mb());
    printf("ours_ms_per_step: %.2f\n", ours);
    printf("ours_tokens_per_second: %.0f\n", B * T / (ours / 1000.0));
    fflush(stdout);
    double torch_ms = bench_run_torch_peer("torch_gpt_step.py", NULL, "torch_ms_per_step");
    if (torch_ms > 0)
        printf("speedup_vs_torch: %.2f (target >= 1.25)\n", torch_ms / ours);
    else
        printf("speedup_vs_torch: n/a (PyTorch peer unavailable)\n");
    aigc_ctx_free(ctx);
    aigc_optimizer_free(opt);
    g_free(ms);
    g_free(ids);
    g_free(targets);
    return 0;
}
