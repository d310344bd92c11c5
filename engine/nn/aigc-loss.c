/* SPDX-License-Identifier: MIT
 *
 * Losses. Each forward is one pass that sums per-element (or per-row) terms with
 * aigc_parallel_sum, so the value does not depend on the thread count; each backward is one
 * parallel elementwise pass. Cross entropy never materialises the softmax: the forward keeps
 * only each row's max and log-sum-exp and the backward recomputes the softmax on the fly.
 *
 * Legend: N rows, C classes, n elements, B the batch (first) dimension; x logits, y targets.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* See aigc-elementwise.c: the loops here are written to vectorise, -O2 alone would not. */
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math",              \
                     "fp-contract=fast")
#endif

#include "aigc-loss.h"

#include "aigc-elementwise.h"
#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <math.h>

#define GRAIN (1 << 13)
#define LANES 16

typedef struct {
    float *d[4];        /* gradients (nullable) */
    const float *in[4]; /* inputs */
    float scale;        /* dloss / count */
} LossCtx;

AIGC_KERNEL_BODY float sigmoid(float x)
{
    return 1.0f / (1.0f + aigc_vexpf(-x));
}

/* Sums term(i) over [begin, end) in float lanes. TERM uses the index variable i. */
#define LANE_SUM(TERM)                                                                             \
    do {                                                                                           \
        float acc[LANES] = {0};                                                                    \
        gint64 i0 = begin;                                                                         \
        for (; i0 + LANES <= end; i0 += LANES)                                                     \
            for (int j = 0; j < LANES; j++) {                                                      \
                gint64 i = i0 + j;                                                                 \
                acc[j] += (TERM);                                                                  \
            }                                                                                      \
        float s = 0;                                                                               \
        for (gint64 i = i0; i < end; i++)                                                          \
            s += (TERM);                                                                           \
        for (int j = 0; j < LANES; j++)                                                            \
            s += acc[j];                                                                           \
        return s;                                                                                  \
    } while (0)

/* ---- cross entropy ---- */

typedef struct {
    float *losses, *stats, *dlogits;
    const float *logits;
    const gint32 *targets;
    float dscale;
    int C, ignore_index;
} CrossEntropyCtx;

AIGC_KERNEL_BODY void cross_entropy_rows_body(gint64 begin, gint64 end, gpointer data)
{
    CrossEntropyCtx *c = data;
    for (gint64 r = begin; r < end; r++) {
        const float *x = c->logits + r * c->C;
        float m = aigc_row_max(x, c->C);
        float l = aigc_row_log_sum_exp_shifted(x, c->C, m);
        gint32 t = c->targets[r];
        c->stats[2 * r] = m;
        c->stats[2 * r + 1] = l;
        c->losses[r] = t == c->ignore_index ? 0.0f : (m - x[t]) + l;
    }
}
AIGC_ROWS_DISPATCH(cross_entropy_rows)

AIGC_KERNEL_BODY void cross_entropy_back_rows_body(gint64 begin, gint64 end, gpointer data)
{
    CrossEntropyCtx *c = data;
    int C = c->C;
    for (gint64 r = begin; r < end; r++) {
        gint32 t = c->targets[r];
        if (t == c->ignore_index)
            continue;
        const float *restrict x = c->logits + r * C;
        float *restrict d = c->dlogits + r * C;
        const float m = c->stats[2 * r], l = c->stats[2 * r + 1], s = c->dscale;
        for (int k = 0; k < C; k++)
            d[k] += s * aigc_vexpf((x[k] - m) - l);
        d[t] -= s;
    }
}
AIGC_ROWS_DISPATCH(cross_entropy_back_rows)

void aigc_cross_entropy_forward(float *losses, float *stats, const float *logits,
                                const gint32 *targets, int N, int C, int ignore_index)
{
    CrossEntropyCtx c = {.losses = losses,
                         .stats = stats,
                         .logits = logits,
                         .targets = targets,
                         .C = C,
                         .ignore_index = ignore_index};
    aigc_parallel_for(N, MAX(1, GRAIN / MAX(C, 1)), cross_entropy_rows, &c);
}

void aigc_cross_entropy_backward(float *dlogits, const float *logits, const float *stats,
                                 const gint32 *targets, float dscale, int N, int C,
                                 int ignore_index)
{
    if (!dlogits)
        return;
    CrossEntropyCtx c = {.stats = (float *)stats,
                         .dlogits = dlogits,
                         .logits = logits,
                         .targets = targets,
                         .dscale = dscale,
                         .C = C,
                         .ignore_index = ignore_index};
    aigc_parallel_for(N, MAX(1, GRAIN / MAX(C, 1)), cross_entropy_back_rows, &c);
}

static void cross_entropy_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *logits = node->in[0];
    float *dlogits = aigc_grad(ctx, logits);
    if (!dlogits)
        return;
    const float *stats = node->saved;
    const gint32 *targets = (const gint32 *)(stats + 2 * logits->shape[0]);
    float dscale = node->out[0]->grad[0] / (float)node->i[1];
    aigc_cross_entropy_backward(dlogits, logits->data, stats, targets, dscale,
                                (int)logits->shape[0], (int)logits->shape[1], (int)node->i[0]);
}

AigcTensor *aigc_cross_entropy(AigcCtx *ctx, AigcTensor *logits, const gint32 *targets,
                               int ignore_index)
{
    g_return_val_if_fail(ctx != NULL && logits != NULL, NULL);
    g_return_val_if_fail(logits->n_dims == 2, NULL);
    int N = (int)logits->shape[0], C = (int)logits->shape[1];
    g_return_val_if_fail(targets != NULL || N == 0, NULL);
    gint64 count = 0;
    gboolean targets_valid = TRUE;
    for (int r = 0; r < N; r++) {
        if (targets[r] == ignore_index)
            continue;
        targets_valid &= targets[r] >= 0 && targets[r] < C;
        count++;
    }
    g_return_val_if_fail(targets_valid, NULL);
    logits = aigc_contiguous(ctx, logits);

    /* stats [N, 2] then a copy of targets [N]: the backward's saved state. */
    gboolean save = aigc_ctx_needs_grad(ctx, 1, &logits);
    float *stats = aigc_ctx_alloc(ctx, (gsize)MAX(N, 1) * (2 * sizeof(float) + sizeof(gint32)));
    float *losses = aigc_ctx_alloc_floats(ctx, N);
    aigc_cross_entropy_forward(losses, stats, logits->data, targets, N, C, ignore_index);
    AigcTensor *out = aigc_tensor_new1(ctx, 1);
    out->data[0] = (float)(aigc_sum_floats(losses, N) / (double)count);
    if (save) {
        memcpy(stats + 2 * N, targets, (gsize)N * sizeof(gint32));
        AigcNode *node =
            aigc_record1(ctx, "cross_entropy", cross_entropy_backward_node, out, logits);
        node->saved = stats;
        node->i[0] = ignore_index;
        node->i[1] = count;
    }
    return out;
}

/* ---- mse / l1 ---- */

static double mse_range(gint64 begin, gint64 end, gpointer data)
{
    const LossCtx *c = data;
    const float *restrict p = c->in[0], *restrict t = c->in[1];
    LANE_SUM((p[i] - t[i]) * (p[i] - t[i]));
}

static double l1_range(gint64 begin, gint64 end, gpointer data)
{
    const LossCtx *c = data;
    const float *restrict p = c->in[0], *restrict t = c->in[1];
    LANE_SUM(fabsf(p[i] - t[i]));
}

void aigc_mse_forward(float *loss, const float *pred, const float *target, gint64 n)
{
    LossCtx c = {.in = {pred, target}};
    *loss = (float)(aigc_parallel_sum(n, mse_range, &c) / (double)n);
}

void aigc_l1_forward(float *loss, const float *pred, const float *target, gint64 n)
{
    LossCtx c = {.in = {pred, target}};
    *loss = (float)(aigc_parallel_sum(n, l1_range, &c) / (double)n);
}

static void mse_back_range(gint64 begin, gint64 end, gpointer data)
{
    const LossCtx *c = data;
    const float *restrict p = c->in[0], *restrict t = c->in[1];
    const float s = 2.0f * c->scale;
    if (c->d[0]) {
        float *restrict d = c->d[0];
        for (gint64 i = begin; i < end; i++)
            d[i] += s * (p[i] - t[i]);
    }
    if (c->d[1]) {
        float *restrict d = c->d[1];
        for (gint64 i = begin; i < end; i++)
            d[i] -= s * (p[i] - t[i]);
    }
}

static inline float sign_of(float v)
{
    return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f);
}

static void l1_back_range(gint64 begin, gint64 end, gpointer data)
{
    const LossCtx *c = data;
    const float *restrict p = c->in[0], *restrict t = c->in[1];
    const float s = c->scale;
    if (c->d[0]) {
        float *restrict d = c->d[0];
        for (gint64 i = begin; i < end; i++)
            d[i] += s * sign_of(p[i] - t[i]);
    }
    if (c->d[1]) {
        float *restrict d = c->d[1];
        for (gint64 i = begin; i < end; i++)
            d[i] -= s * sign_of(p[i] - t[i]);
    }
}

void aigc_mse_backward(float *dpred, float *dtarget, float dloss, const float *pred,
                       const float *target, gint64 n)
{
    LossCtx c = {.d = {dpred, dtarget}, .in = {pred, target}, .scale = dloss / (float)n};
    aigc_parallel_for(n, GRAIN, mse_back_range, &c);
}

void aigc_l1_backward(float *dpred, float *dtarget, float dloss, const float *pred,
                      const float *target, gint64 n)
{
    LossCtx c = {.d = {dpred, dtarget}, .in = {pred, target}, .scale = dloss / (float)n};
    aigc_parallel_for(n, GRAIN, l1_back_range, &c);
}

/* ---- binary cross entropy with logits ---- */

/* max(x, 0) − x·y + log(1 + e^{−|x|}): never exponentiates a positive number. */
AIGC_KERNEL_BODY double bce_range_body(gint64 begin, gint64 end, gpointer data)
{
    const LossCtx *c = data;
    const float *restrict x = c->in[0], *restrict y = c->in[1];
    LANE_SUM((x[i] > 0.0f ? x[i] : 0.0f) - x[i] * y[i] + aigc_vlog1pf(aigc_vexpf(-fabsf(x[i]))));
}
AIGC_RANGE_SUM_DISPATCH(bce_range)

void aigc_bce_with_logits_forward(float *loss, const float *logits, const float *targets, gint64 n)
{
    LossCtx c = {.in = {logits, targets}};
    *loss = (float)(aigc_parallel_sum(n, bce_range, &c) / (double)n);
}

/* ∂/∂x = σ(x) − y, ∂/∂y = −x */
AIGC_KERNEL_BODY void bce_back_range_body(gint64 begin, gint64 end, gpointer data)
{
    const LossCtx *c = data;
    const float *restrict x = c->in[0], *restrict y = c->in[1];
    const float s = c->scale;
    if (c->d[0]) {
        float *restrict d = c->d[0];
        for (gint64 i = begin; i < end; i++)
            d[i] += s * (sigmoid(x[i]) - y[i]);
    }
    if (c->d[1]) {
        float *restrict d = c->d[1];
        for (gint64 i = begin; i < end; i++)
            d[i] -= s * x[i];
    }
}
AIGC_ROWS_DISPATCH(bce_back_range)

void aigc_bce_with_logits_backward(float *dlogits, float *dtargets, float dloss,
                                   const float *logits, const float *targets, gint64 n)
{
    LossCtx c = {.d = {dlogits, dtargets}, .in = {logits, targets}, .scale = dloss / (float)n};
    aigc_parallel_for(n, GRAIN, bce_back_range, &c);
}

/* ---- Gaussian KL terms ---- */

AIGC_KERNEL_BODY double kl_normal_range_body(gint64 begin, gint64 end, gpointer data)
{
    const LossCtx *c = data;
    const float *restrict mu = c->in[0], *restrict lv = c->in[1];
    LANE_SUM(0.5f * (aigc_vexpf(lv[i]) + mu[i] * mu[i] - 1.0f - lv[i]));
}
AIGC_RANGE_SUM_DISPATCH(kl_normal_range)

void aigc_kl_normal_forward(float *loss, const float *mu, const float *logvar, gint64 n, gint64 B)
{
    LossCtx c = {.in = {mu, logvar}};
    *loss = (float)(aigc_parallel_sum(n, kl_normal_range, &c) / (double)B);
}

/* ∂/∂mu = mu, ∂/∂logvar = (e^{logvar} − 1) / 2 */
AIGC_KERNEL_BODY void kl_normal_back_range_body(gint64 begin, gint64 end, gpointer data)
{
    const LossCtx *c = data;
    const float *restrict mu = c->in[0], *restrict lv = c->in[1];
    const float s = c->scale;
    if (c->d[0]) {
        float *restrict d = c->d[0];
        for (gint64 i = begin; i < end; i++)
            d[i] += s * mu[i];
    }
    if (c->d[1]) {
        float *restrict d = c->d[1];
        for (gint64 i = begin; i < end; i++)
            d[i] += s * 0.5f * (aigc_vexpf(lv[i]) - 1.0f);
    }
}
AIGC_ROWS_DISPATCH(kl_normal_back_range)

void aigc_kl_normal_backward(float *dmu, float *dlogvar, float dloss, const float *mu,
                             const float *logvar, gint64 n, gint64 B)
{
    LossCtx c = {.d = {dmu, dlogvar}, .in = {mu, logvar}, .scale = dloss / (float)B};
    aigc_parallel_for(n, GRAIN, kl_normal_back_range, &c);
}

AIGC_KERNEL_BODY double kl_diag_range_body(gint64 begin, gint64 end, gpointer data)
{
    const LossCtx *c = data;
    const float *restrict m1 = c->in[0], *restrict l1 = c->in[1];
    const float *restrict m2 = c->in[2], *restrict l2 = c->in[3];
    LANE_SUM(0.5f * (l2[i] - l1[i] + aigc_vexpf(l1[i] - l2[i]) +
                     (m1[i] - m2[i]) * (m1[i] - m2[i]) * aigc_vexpf(-l2[i]) - 1.0f));
}
AIGC_RANGE_SUM_DISPATCH(kl_diag_range)

void aigc_kl_diag_gaussians_forward(float *loss, const float *mu1, const float *logvar1,
                                    const float *mu2, const float *logvar2, gint64 n, gint64 B)
{
    LossCtx c = {.in = {mu1, logvar1, mu2, logvar2}};
    *loss = (float)(aigc_parallel_sum(n, kl_diag_range, &c) / (double)B);
}

/* With δ = mu1 − mu2, v = e^{−logvar2}, r = e^{logvar1 − logvar2}:
 * ∂/∂mu1 = δ·v = −∂/∂mu2, ∂/∂logvar1 = (r − 1)/2, ∂/∂logvar2 = (1 − r − δ²·v)/2. */
AIGC_KERNEL_BODY void kl_diag_back_range_body(gint64 begin, gint64 end, gpointer data)
{
    const LossCtx *c = data;
    const float *restrict m1 = c->in[0], *restrict l1 = c->in[1];
    const float *restrict m2 = c->in[2], *restrict l2 = c->in[3];
    const float s = c->scale;
    for (int k = 0; k <= 2; k += 2) {
        if (!c->d[k])
            continue;
        float *restrict d = c->d[k];
        const float sk = k == 0 ? s : -s;
        for (gint64 i = begin; i < end; i++)
            d[i] += sk * (m1[i] - m2[i]) * aigc_vexpf(-l2[i]);
    }
    if (c->d[1]) {
        float *restrict d = c->d[1];
        for (gint64 i = begin; i < end; i++)
            d[i] += s * 0.5f * (aigc_vexpf(l1[i] - l2[i]) - 1.0f);
    }
    if (c->d[3]) {
        float *restrict d = c->d[3];
        for (gint64 i = begin; i < end; i++) {
            float delta = m1[i] - m2[i];
            d[i] +=
                s * 0.5f * (1.0f - aigc_vexpf(l1[i] - l2[i]) - delta * delta * aigc_vexpf(-l2[i]));
        }
    }
}
AIGC_ROWS_DISPATCH(kl_diag_back_range)

void aigc_kl_diag_gaussians_backward(float *dmu1, float *dlogvar1, float *dmu2, float *dlogvar2,
                                     float dloss, const float *mu1, const float *logvar1,
                                     const float *mu2, const float *logvar2, gint64 n, gint64 B)
{
    LossCtx c = {.d = {dmu1, dlogvar1, dmu2, dlogvar2},
                 .in = {mu1, logvar1, mu2, logvar2},
                 .scale = dloss / (float)B};
    aigc_parallel_for(n, GRAIN, kl_diag_back_range, &c);
}

/* ---- differentiable ops ---- */

typedef enum { LOSS_MSE, LOSS_L1, LOSS_BCE, LOSS_KL_NORMAL, LOSS_KL_DIAG } LossKind;

static const char *const loss_names[] = {"mse_loss", "l1_loss", "bce_with_logits", "kl_normal",
                                         "kl_diag_gaussians"};

static void loss_backward_node(AigcCtx *ctx, AigcNode *node)
{
    float *d[4] = {NULL};
    const float *in[4] = {NULL};
    for (int k = 0; k < node->n_in; k++) {
        d[k] = aigc_grad(ctx, node->in[k]);
        in[k] = node->in[k]->data;
    }
    float dloss = node->out[0]->grad[0];
    gint64 n = node->in[0]->n_elements, B = node->i[1];
    switch ((LossKind)node->i[0]) {
    case LOSS_MSE:
        aigc_mse_backward(d[0], d[1], dloss, in[0], in[1], n);
        break;
    case LOSS_L1:
        aigc_l1_backward(d[0], d[1], dloss, in[0], in[1], n);
        break;
    case LOSS_BCE:
        aigc_bce_with_logits_backward(d[0], d[1], dloss, in[0], in[1], n);
        break;
    case LOSS_KL_NORMAL:
        aigc_kl_normal_backward(d[0], d[1], dloss, in[0], in[1], n, B);
        break;
    case LOSS_KL_DIAG:
        aigc_kl_diag_gaussians_backward(d[0], d[1], d[2], d[3], dloss, in[0], in[1], in[2], in[3],
                                        n, B);
        break;
    }
}

/* Checks shapes, makes the inputs contiguous, runs the forward and records the node. */
static AigcTensor *elementwise_loss(AigcCtx *ctx, LossKind kind, int n_in, AigcTensor **in)
{
    g_return_val_if_fail(ctx != NULL, NULL);
    for (int k = 0; k < n_in; k++) {
        g_return_val_if_fail(in[k] != NULL, NULL);
        g_return_val_if_fail(aigc_tensor_same_shape(in[k], in[0]), NULL);
    }
    for (int k = 0; k < n_in; k++)
        in[k] = aigc_contiguous(ctx, in[k]);
    gint64 n = in[0]->n_elements;
    gint64 B = in[0]->n_dims > 0 ? in[0]->shape[0] : 1;
    AigcTensor *out = aigc_tensor_new1(ctx, 1);
    float *loss = out->data;
    const float *x[4] = {NULL};
    for (int k = 0; k < n_in; k++)
        x[k] = in[k]->data;
    switch (kind) {
    case LOSS_MSE:
        aigc_mse_forward(loss, x[0], x[1], n);
        break;
    case LOSS_L1:
        aigc_l1_forward(loss, x[0], x[1], n);
        break;
    case LOSS_BCE:
        aigc_bce_with_logits_forward(loss, x[0], x[1], n);
        break;
    case LOSS_KL_NORMAL:
        aigc_kl_normal_forward(loss, x[0], x[1], n, B);
        break;
    case LOSS_KL_DIAG:
        aigc_kl_diag_gaussians_forward(loss, x[0], x[1], x[2], x[3], n, B);
        break;
    }
    AigcNode *node = aigc_ctx_record(ctx, loss_names[kind], loss_backward_node, out, n_in, in);
    if (node) {
        node->i[0] = kind;
        node->i[1] = B;
    }
    return out;
}

AigcTensor *aigc_mse_loss(AigcCtx *ctx, AigcTensor *pred, AigcTensor *target)
{
    AigcTensor *in[2] = {pred, target};
    return elementwise_loss(ctx, LOSS_MSE, 2, in);
}

AigcTensor *aigc_l1_loss(AigcCtx *ctx, AigcTensor *pred, AigcTensor *target)
{
    AigcTensor *in[2] = {pred, target};
    return elementwise_loss(ctx, LOSS_L1, 2, in);
}

AigcTensor *aigc_bce_with_logits(AigcCtx *ctx, AigcTensor *logits, AigcTensor *targets)
{
    AigcTensor *in[2] = {logits, targets};
    return elementwise_loss(ctx, LOSS_BCE, 2, in);
}

AigcTensor *aigc_kl_normal(AigcCtx *ctx, AigcTensor *mu, AigcTensor *logvar)
{
    AigcTensor *in[2] = {mu, logvar};
    return elementwise_loss(ctx, LOSS_KL_NORMAL, 2, in);
}

AigcTensor *aigc_kl_diag_gaussians(AigcCtx *ctx, AigcTensor *mu1, AigcTensor *logvar1,
                                   AigcTensor *mu2, AigcTensor *logvar2)
{
    AigcTensor *in[4] = {mu1, logvar1, mu2, logvar2};
    return elementwise_loss(ctx, LOSS_KL_DIAG, 4, in);
}
