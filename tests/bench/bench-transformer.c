/* SPDX-License-Identifier: MIT
 *
 * The reference character-transformer training step (issue: engine numerics), ours against the
 * same model in PyTorch (tests/bench/torch_transformer_step.py) in the same run: vocab 96,
 * width 256, 4 heads, 2 pre-norm blocks, feed-forward 1024 with exact GELU, learned positions,
 * causal, untied head, sequence 128, batch 32, cross-entropy, AdamW(3e-4). One step = forward,
 * loss, backward, AdamW. Prints medians, peak memory and, last, the speed ratio.
 */
#include "bench-common.h"

#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-params.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <stdio.h>

enum { V = 96, C = 256, H = 4, L = 2, FF = 1024, T = 128, B = 32 };

typedef struct {
    AigcTensor *ln1_w, *ln1_b, *qkv_w, *qkv_b, *proj_w, *proj_b;
    AigcTensor *ln2_w, *ln2_b, *fc_w, *fc_b, *fcp_w, *fcp_b;
} Block;

typedef struct {
    AigcParams *params;
    AigcTensor *tok, *pos, *lnf_w, *lnf_b, *head;
    Block blocks[L];
} Model;

static AigcTensor *add_param(Model *m, const char *name, int n_dims, const gint64 *shape)
{
    return aigc_params_add(m->params, name, n_dims, shape);
}

static void model_init(Model *m, AigcRng *rng)
{
    m->params = aigc_params_new();
    m->tok = add_param(m, "tok", 2, (gint64[]){V, C});
    m->pos = add_param(m, "pos", 2, (gint64[]){T, C});
    for (int l = 0; l < L; l++) {
        Block *b = &m->blocks[l];
        char n[64];
#define P(field, name, nd, ...)                                                                    \
    g_snprintf(n, sizeof n, "b%d.%s", l, name);                                                    \
    b->field = add_param(m, n, nd, (gint64[]){__VA_ARGS__})
        P(ln1_w, "ln1.w", 1, C);
        P(ln1_b, "ln1.b", 1, C);
        P(qkv_w, "qkv.w", 2, 3 * C, C);
        P(qkv_b, "qkv.b", 1, 3 * C);
        P(proj_w, "proj.w", 2, C, C);
        P(proj_b, "proj.b", 1, C);
        P(ln2_w, "ln2.w", 1, C);
        P(ln2_b, "ln2.b", 1, C);
        P(fc_w, "fc.w", 2, FF, C);
        P(fc_b, "fc.b", 1, FF);
        P(fcp_w, "fcp.w", 2, C, FF);
        P(fcp_b, "fcp.b", 1, C);
#undef P
    }
    m->lnf_w = add_param(m, "lnf.w", 1, (gint64[]){C});
    m->lnf_b = add_param(m, "lnf.b", 1, (gint64[]){C});
    m->head = add_param(m, "head", 2, (gint64[]){V, C});
    aigc_params_allocate(m->params);
    for (guint i = 0; i < aigc_params_get_n(m->params); i++) {
        AigcTensor *t = aigc_params_get(m->params, i);
        if (g_str_has_suffix(t->name, "ln1.w") || g_str_has_suffix(t->name, "ln2.w") ||
            g_str_has_suffix(t->name, "lnf.w"))
            aigc_tensor_fill(t, 1.0f);
        else if (t->n_dims == 2)
            aigc_rng_fill_normal(rng, t->data, t->n_elements, 0.0f, 0.02f);
    }
}

static AigcTensor *attention(AigcCtx *ctx, Block *b, AigcTensor *x)
{
    AigcTensor *qkv = aigc_linear(ctx, x, b->qkv_w, b->qkv_b); /* [B, T, 3C] */
    qkv = aigc_reshape(ctx, qkv, 5, (gint64[]){B, T, 3, H, C / H});
    AigcTensor *qkvp = aigc_permute(ctx, qkv, (int[]){2, 0, 3, 1, 4}); /* [3, B, H, T, D] */
    AigcTensor *q = aigc_reshape(ctx, aigc_slice(ctx, qkvp, 0, 0, 1), 4, (gint64[]){B, H, T, C / H});
    AigcTensor *k = aigc_reshape(ctx, aigc_slice(ctx, qkvp, 0, 1, 2), 4, (gint64[]){B, H, T, C / H});
    AigcTensor *v = aigc_reshape(ctx, aigc_slice(ctx, qkvp, 0, 2, 3), 4, (gint64[]){B, H, T, C / H});
    AigcTensor *y = aigc_attention(ctx, q, k, v, TRUE, 1.0f / sqrtf(C / H), NULL);
    y = aigc_reshape(ctx, aigc_permute(ctx, y, (int[]){0, 2, 1, 3}), 3, (gint64[]){B, T, C});
    return aigc_linear(ctx, y, b->proj_w, b->proj_b);
}

static AigcTensor *forward_loss(AigcCtx *ctx, Model *m, const gint32 *ids, const gint32 *targets,
                                const gint32 *positions)
{
    AigcTensor *x = aigc_add(ctx, aigc_embedding(ctx, m->tok, ids, 2, (gint64[]){B, T}),
                             aigc_embedding(ctx, m->pos, positions, 1, (gint64[]){T}));
    for (int l = 0; l < L; l++) {
        Block *b = &m->blocks[l];
        x = aigc_add(ctx, x, attention(ctx, b, aigc_layernorm(ctx, x, b->ln1_w, b->ln1_b, 1e-5f)));
        AigcTensor *h = aigc_layernorm(ctx, x, b->ln2_w, b->ln2_b, 1e-5f);
        h = aigc_linear(ctx, aigc_gelu(ctx, aigc_linear(ctx, h, b->fc_w, b->fc_b)), b->fcp_w,
                        b->fcp_b);
        x = aigc_add(ctx, x, h);
    }
    x = aigc_layernorm(ctx, x, m->lnf_w, m->lnf_b, 1e-5f);
    AigcTensor *logits = aigc_linear(ctx, x, m->head, NULL);
    logits = aigc_reshape(ctx, logits, 2, (gint64[]){B * T, V});
    return aigc_cross_entropy(ctx, logits, targets, -100);
}

int main(int argc, char **argv)
{
    int n_steps = argc > 1 ? atoi(argv[1]) : 10;
    aigc_threads_init(0);
    AigcRng rng;
    aigc_rng_init(&rng, 0);
    Model m;
    model_init(&m, &rng);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
    AigcOptimizer *opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, &hp, m.params);
    gint32 *tokens = g_new(gint32, B * (T + 1));
    for (int i = 0; i < B * (T + 1); i++)
        tokens[i] = (gint32)aigc_rng_below(&rng, V);
    gint32 *ids = g_new(gint32, B * T), *targets = g_new(gint32, B * T), positions[T];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            ids[b * T + t] = tokens[b * (T + 1) + t];
            targets[b * T + t] = tokens[b * (T + 1) + t + 1];
        }
    for (int t = 0; t < T; t++)
        positions[t] = t;

    AigcCtx *ctx = aigc_ctx_new();
    double *ms = g_new(double, n_steps);
    float loss = 0;
    for (int s = -3; s < n_steps; s++) {
        gint64 t0 = g_get_monotonic_time();
        aigc_ctx_reset(ctx);
        aigc_params_zero_grad(m.params);
        AigcTensor *l = forward_loss(ctx, &m, ids, targets, positions);
        aigc_ctx_backward(ctx, l);
        aigc_optimizer_step(opt, 3e-4f);
        loss = l->data[0];
        if (s >= 0)
            ms[s] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    double ours = bench_median(ms, n_steps);
    printf("params: %" G_GINT64_FORMAT "\n", aigc_params_get_n_elements(m.params));
    printf("loss_after: %.4f\n", loss);
    printf("arena_peak_mb: %.1f\n", aigc_arena_get_peak(aigc_ctx_get_arena(ctx)) / 1048576.0);
    printf("peak_rss_mb: %.1f\n", bench_peak_rss_mb());
    printf("ours_ms_per_step: %.2f\n", ours);
    fflush(stdout);
    double torch_ms = bench_run_torch_peer("torch_transformer_step.py", NULL, "torch_ms_per_step");
    if (torch_ms > 0)
        printf("speedup_vs_torch: %.2f (target >= 1.25)\n", torch_ms / ours);
    else
        printf("speedup_vs_torch: n/a (PyTorch peer unavailable)\n");
    aigc_ctx_free(ctx);
    aigc_optimizer_free(opt);
    aigc_params_free(m.params);
    g_free(ms);
    g_free(tokens);
    g_free(ids);
    g_free(targets);
    return 0;
}
