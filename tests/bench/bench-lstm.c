/* SPDX-License-Identifier: MIT
 *
 * The character LSTM training step against the same model in PyTorch
 * (tests/bench/torch_lstm_step.py) in the same run: Embedding(96, 256) → 2-layer LSTM(256) →
 * Linear(256, 96), sequence 128, batch 32, cross-entropy, Adam(1e-3). Prints both medians and,
 * last, the ratio (target ≥ 1.0).
 */
#include "bench-common.h"

#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-params.h"
#include "tensor/aigc-threads.h"

#include <stdio.h>
#include <stdlib.h>

enum { V = 96, E = 256, H = 256, T = 128, B = 32 };

int main(int argc, char **argv)
{
    int n_steps = argc > 1 ? atoi(argv[1]) : 10;
    aigc_threads_init(0);
    AigcRng rng;
    aigc_rng_init(&rng, 0);
    g_autoptr(AigcParams) p = aigc_params_new();
    AigcTensor *emb = aigc_params_add(p, "emb", 2, (gint64[]){V, E});
    AigcTensor *w_ih[2], *w_hh[2], *b_ih[2], *b_hh[2];
    for (int l = 0; l < 2; l++) {
        char n[32];
        g_snprintf(n, sizeof n, "w_ih%d", l);
        w_ih[l] = aigc_params_add(p, n, 2, (gint64[]){4 * H, l ? H : E});
        g_snprintf(n, sizeof n, "w_hh%d", l);
        w_hh[l] = aigc_params_add(p, n, 2, (gint64[]){4 * H, H});
        g_snprintf(n, sizeof n, "b_ih%d", l);
        b_ih[l] = aigc_params_add(p, n, 1, (gint64[]){4 * H});
        g_snprintf(n, sizeof n, "b_hh%d", l);
        b_hh[l] = aigc_params_add(p, n, 1, (gint64[]){4 * H});
    }
    AigcTensor *head_w = aigc_params_add(p, "head.w", 2, (gint64[]){V, H});
    AigcTensor *head_b = aigc_params_add(p, "head.b", 1, (gint64[]){V});
    aigc_params_allocate(p);
    aigc_rng_fill_uniform(&rng, aigc_params_get_data(p), aigc_params_get_n_elements(p), -0.06f,
                          0.06f);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, p);
    gint32 ids[B * T], tgt[B * T];
    for (int i = 0; i < B * T; i++) {
        ids[i] = (gint32)aigc_rng_below(&rng, V);
        tgt[i] = (gint32)aigc_rng_below(&rng, V);
    }
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    double *ms = g_new(double, n_steps);
    float loss = 0;
    for (int s = -3; s < n_steps; s++) {
        gint64 t0 = g_get_monotonic_time();
        aigc_ctx_reset(ctx);
        aigc_params_zero_grad(p);
        AigcTensor *x = aigc_embedding(ctx, emb, ids, 2, (gint64[]){B, T});
        for (int l = 0; l < 2; l++)
            x = aigc_lstm(ctx, x, NULL, NULL, w_ih[l], w_hh[l], b_ih[l], b_hh[l], NULL, NULL);
        AigcTensor *logits = aigc_reshape(ctx, aigc_linear(ctx, x, head_w, head_b), 2,
                                          (gint64[]){B * T, V});
        AigcTensor *l = aigc_cross_entropy(ctx, logits, tgt, -100);
        aigc_ctx_backward(ctx, l);
        aigc_optimizer_step(opt, 1e-3f);
        loss = l->data[0];
        if (s >= 0)
            ms[s] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    double ours = bench_median(ms, n_steps);
    printf("loss_after: %.4f\nours_ms_per_step: %.2f\n", loss, ours);
    fflush(stdout);
    double torch_ms = bench_run_torch_peer("torch_lstm_step.py", NULL, "torch_ms_per_step");
    if (torch_ms > 0)
        printf("speedup_vs_torch: %.2f (target >= 1.0)\n", torch_ms / ours);
    else
        printf("speedup_vs_torch: n/a (PyTorch peer unavailable)\n");
    g_free(ms);
    return 0;
}
