/* SPDX-License-Identifier: MIT
 *
 * Fused scaled dot-product attention (forward, backward) and KV-cache decoding.
 *
 * Legend: B batch, H heads, Tq queries, Tk keys, D head size; per head Q (Tq, D), K and V
 * (Tk, D), S = scale·Q Kᵀ (Tq, Tk), P = softmax(S + mask), O = P V.
 *
 * Backward (per head), with dP = dO Vᵀ and the row sums r_i = Σ_j P_ij dP_ij:
 *     dV = Pᵀ dO,   dS = P ⊙ (dP − r),   dQ = scale · dS K,   dK = scale · dSᵀ Q.
 * r is taken from P and dP rather than from O ⊙ dO, so the output need not be kept.
 *
 * DESIGN: work is split over the B·H heads with aigc_parallel_for, one scratch slice per work
 * item. The per-head products are small (128×128×64 for the GPT we train): OpenBLAS runs such
 * sizes on one thread whatever its budget, so calling it head after head leaves a core idle.
 * Instead each worker calls sgemm with OpenBLAS set to one thread, and the budget is restored
 * after the region (the one sanctioned exception to "no BLAS inside aigc_parallel_for").
 * Hand-written micro-kernels were measured and not kept: on one 128×128×64 head (QKᵀ and PV)
 * single-threaded OpenBLAS, which picks AVX-512 kernels at run time, ran at ~89 GFLOP/s; a
 * 4×16 register-tiled kernel reached 61 GFLOP/s with AVX2 and 70 with AVX2+FMA (which the
 * baseline x86-64 build cannot even assume).
 * Queries are processed in blocks of ATTN_QBLOCK rows, and a block multiplies only the keys its
 * last row may see, which skips most of the masked triangle of causal attention and all padded
 * keys (blocks of 16 and 32 measured alike, 64 and 128 were 10–30 % slower on causal T = 128).
 * Each head is computed the same way whichever worker takes it, so results do not depend on the
 * thread count.
 */
#include "aigc-attention.h"

#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <cblas.h>

#include "tensor/aigc-blas.h"
#include <math.h>
#include <string.h>

#define ATTN_QBLOCK 32

/* ---- 8-wide helpers ----
 * GCC vector extensions: in the baseline x86-64 build each operation becomes two SSE
 * instructions, and the row functions below are also cloned for AVX2 and picked when the
 * program loads (target_clones). Both clones perform the same operations in the same order
 * (no FMA contraction in ISO C mode), so they give the same bits. Vectors travel through
 * pointers: passing 32-byte vectors by value would differ in ABI between the two (-Wpsabi). */

typedef float AttnV8 __attribute__((vector_size(32)));
typedef gint32 AttnI8 __attribute__((vector_size(32)));

#define ATTN_SIMD_CLONES __attribute__((target_clones("avx2", "default")))

static inline void v8_load(AttnV8 *v, const float *p)
{
    memcpy(v, p, sizeof *v);
}

static inline void v8_store(float *p, const AttnV8 *v)
{
    memcpy(p, v, sizeof *v);
}

/* a = max(a, b) lane by lane. */
static inline void v8_max(AttnV8 *a, const AttnV8 *b)
{
    AttnI8 gt = *a > *b;
    *a = (AttnV8)(((AttnI8)*a & gt) | ((AttnI8)*b & ~gt));
}

static inline float v8_hsum(const AttnV8 *v)
{
    const AttnV8 x = *v;
    return ((x[0] + x[4]) + (x[1] + x[5])) + ((x[2] + x[6]) + (x[3] + x[7]));
}

/* x = exp(x) to about 2 ulp for x ≤ 88 (Cody–Waite reduction to r ∈ [−ln2/2, ln2/2] and a
 * degree-6 polynomial); below −87 the result is flushed towards 0, which softmax cannot tell
 * apart. */
static inline void v8_exp(AttnV8 *xp)
{
    AttnV8 x = *xp, lo = (AttnV8){0} - 87.0f;
    v8_max(&x, &lo);
    /* n = round(x / ln 2) via the 1.5·2²³ trick: the integer lands in t's low mantissa bits. */
    AttnV8 t = x * 1.44269504088896341f + 12582912.0f;
    AttnV8 n = t - 12582912.0f;
    AttnV8 r = x - n * 0.693359375f + n * 2.12194440e-4f;
    AttnV8 p = (AttnV8){0} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    AttnI8 bits = ((AttnI8)t - 0x4B400000 + 127) << 23; /* 2ⁿ */
    *xp = p * (AttnV8)bits;
}

/* One lane of v8_exp, for the tails, so that every element gets the same function. */
static inline float s_exp(float x)
{
    AttnV8 v = (AttnV8){0} + x;
    v8_exp(&v);
    return v[0];
}

ATTN_SIMD_CLONES
static float row_max(const float *x, int n)
{
    float m = -INFINITY;
    int j = 0;
    if (n >= 8) {
        AttnV8 mv, a;
        v8_load(&mv, x);
        for (j = 8; j + 8 <= n; j += 8) {
            v8_load(&a, x + j);
            v8_max(&mv, &a);
        }
        for (int u = 0; u < 8; u++)
            m = mv[u] > m ? mv[u] : m;
    }
    for (; j < n; j++)
        m = x[j] > m ? x[j] : m;
    return m;
}

/* x[j] = exp(x[j] − sub) for j < n; returns Σ x[j]. */
ATTN_SIMD_CLONES
static float exp_sub_sum(float *x, float sub, int n)
{
    AttnV8 acc = {0}, e;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8_load(&e, x + j);
        e -= sub;
        v8_exp(&e);
        v8_store(x + j, &e);
        acc += e;
    }
    float s = v8_hsum(&acc);
    for (; j < n; j++) {
        x[j] = s_exp(x[j] - sub);
        s += x[j];
    }
    return s;
}

ATTN_SIMD_CLONES
static void scale_row(float *x, float a, int n)
{
    AttnV8 v;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8_load(&v, x + j);
        v *= a;
        v8_store(x + j, &v);
    }
    for (; j < n; j++)
        x[j] *= a;
}

/* g[j] = p[j]·(g[j] − Σ_k p[k] g[k]) for j < n: the softmax backward of one row. */
ATTN_SIMD_CLONES
static void softmax_row_backward(float *restrict g, const float *restrict p, int n)
{
    AttnV8 acc = {0}, pv, gv;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8_load(&pv, p + j);
        v8_load(&gv, g + j);
        acc += pv * gv;
    }
    float r = v8_hsum(&acc);
    for (; j < n; j++)
        r += p[j] * g[j];
    for (j = 0; j + 8 <= n; j += 8) {
        v8_load(&pv, p + j);
        v8_load(&gv, g + j);
        gv = pv * (gv - r);
        v8_store(g + j, &gv);
    }
    for (; j < n; j++)
        g[j] = p[j] * (g[j] - r);
}

/* ---- the kernels ---- */

typedef struct {
    float *out, *att, *lse; /* forward outputs */
    float *dq, *dk, *dv;    /* backward outputs */
    float *scratch;
    const float *q, *k, *v, *dout;
    const float *att_in, *lse_in; /* backward inputs */
    const gint32 *key_lengths;
    int B, H, Tq, Tk, D;
    gboolean causal;
    float scale;
    int n_work;
    gint64 scratch_per_work;
} AttnJob;

/* Keys query i may see: j < key_limit(i). Non-decreasing in i. */
static inline int key_limit(const AttnJob *j, int len, int i)
{
    int lim = len;
    if (j->causal)
        lim = MIN(lim, i + (j->Tk - j->Tq) + 1);
    return MAX(lim, 0);
}

static inline int key_length(const AttnJob *j, gint64 bh)
{
    return j->key_lengths ? CLAMP(j->key_lengths[bh / j->H], 0, j->Tk) : j->Tk;
}

static int attn_max_work(int B, int H)
{
    return (int)MAX(1, MIN((gint64)aigc_threads_get(), (gint64)B * H));
}

static int attn_n_work(int B, int H, int Tq, int Tk, int D)
{
    /* Below ~64k multiply-adds a thread hand-off costs more than it saves. */
    if ((gint64)B * H * Tq * Tk * MAX(D, 1) < 65536)
        return 1;
    return attn_max_work(B, H);
}

static gint64 attn_scratch_per_work(int Tq, int Tk)
{
    /* Backward: dP, plus the recomputed P when the probabilities were not saved. */
    return 2 * (gint64)MIN(ATTN_QBLOCK, MAX(Tq, 1)) * MAX(Tk, 1);
}

gint64 aigc_attention_scratch_floats(int B, int H, int Tq, int Tk)
{
    return attn_max_work(B, H) * attn_scratch_per_work(Tq, Tk);
}

static void forward_head(const AttnJob *j, gint64 bh, float *scratch)
{
    const int Tq = j->Tq, Tk = j->Tk, D = j->D;
    const float *Q = j->q + bh * Tq * D;              /* (Tq, D) */
    const float *K = j->k + bh * Tk * D;              /* (Tk, D) */
    const float *V = j->v + bh * Tk * D;              /* (Tk, D) */
    float *O = j->out + bh * Tq * D;                  /* (Tq, D) */
    float *A = j->att ? j->att + bh * Tq * Tk : NULL; /* (Tq, Tk) */
    float *L = j->lse ? j->lse + bh * Tq : NULL;      /* (Tq) */
    int len = key_length(j, bh);

    for (int r0 = 0; r0 < Tq; r0 += ATTN_QBLOCK) {
        int r1 = MIN(r0 + ATTN_QBLOCK, Tq), rows = r1 - r0;
        int nk = key_limit(j, len, r1 - 1);
        float *S = A ? A + (gint64)r0 * Tk : scratch; /* (rows, Tk), the first nk used */
        if (nk > 0)
            aigc_sgemm(CblasNoTrans, CblasTrans, rows, nk, D, j->scale,
                        Q + (gint64)r0 * D, D, K, D, 0.0f, S, Tk);
        for (int i = r0; i < r1; i++) {
            float *s = S + (gint64)(i - r0) * Tk;
            int lim = key_limit(j, len, i);
            if (lim > 0) {
                float m = row_max(s, lim);
                float sum = exp_sub_sum(s, m, lim); /* ≥ 1: the max contributes exp(0) */
                scale_row(s, 1.0f / sum, lim);
                if (L)
                    L[i] = m + logf(sum);
            } else if (L) {
                L[i] = -INFINITY;
            }
            /* The saved probabilities are complete; the scratch only needs what P·V reads. */
            int end = A ? Tk : nk;
            if (end > lim)
                memset(s + lim, 0, (gsize)(end - lim) * sizeof(float));
        }
        if (nk > 0)
            aigc_sgemm(CblasNoTrans, CblasNoTrans, rows, D, nk, 1.0f, S, Tk, V, D,
                        0.0f, O + (gint64)r0 * D, D);
        else
            memset(O + (gint64)r0 * D, 0, (gsize)rows * D * sizeof(float));
    }
}

static void backward_head(const AttnJob *j, gint64 bh, float *scratch)
{
    const int Tq = j->Tq, Tk = j->Tk, D = j->D;
    const float *Q = j->q + bh * Tq * D;     /* (Tq, D) */
    const float *K = j->k + bh * Tk * D;     /* (Tk, D) */
    const float *V = j->v + bh * Tk * D;     /* (Tk, D) */
    const float *dO = j->dout + bh * Tq * D; /* (Tq, D) */
    float *dQ = j->dq ? j->dq + bh * Tq * D : NULL;
    float *dK = j->dk ? j->dk + bh * Tk * D : NULL;
    float *dV = j->dv ? j->dv + bh * Tk * D : NULL;
    const float *A = j->att_in ? j->att_in + bh * Tq * Tk : NULL; /* (Tq, Tk) */
    const float *L = j->lse_in ? j->lse_in + bh * Tq : NULL;      /* (Tq) */
    float *dP = scratch;                                          /* (rows ≤ ATTN_QBLOCK, Tk) */
    float *Pbuf = scratch + j->scratch_per_work / 2;              /* (rows, Tk), when recomputed */
    int len = key_length(j, bh);

    for (int r0 = 0; r0 < Tq; r0 += ATTN_QBLOCK) {
        int r1 = MIN(r0 + ATTN_QBLOCK, Tq), rows = r1 - r0;
        int nk = key_limit(j, len, r1 - 1);
        if (nk <= 0)
            continue;
        const float *P; /* (rows, Tk), the first nk used */
        if (A) {
            P = A + (gint64)r0 * Tk;
        } else {
            aigc_sgemm(CblasNoTrans, CblasTrans, rows, nk, D, j->scale,
                        Q + (gint64)r0 * D, D, K, D, 0.0f, Pbuf, Tk);
            for (int i = r0; i < r1; i++) {
                float *p = Pbuf + (gint64)(i - r0) * Tk;
                int lim = key_limit(j, len, i);
                if (lim > 0)
                    exp_sub_sum(p, L[i], lim);
                memset(p + lim, 0, (gsize)(nk - lim) * sizeof(float));
            }
            P = Pbuf;
        }
        if (dV)
            aigc_sgemm(CblasTrans, CblasNoTrans, nk, D, rows, 1.0f, P, Tk,
                        dO + (gint64)r0 * D, D, 1.0f, dV, D);
        if (!dQ && !dK)
            continue;
        aigc_sgemm(CblasNoTrans, CblasTrans, rows, nk, D, 1.0f, dO + (gint64)r0 * D,
                    D, V, D, 0.0f, dP, Tk);
        for (int i = r0; i < r1; i++) {
            float *g = dP + (gint64)(i - r0) * Tk;
            int lim = key_limit(j, len, i);
            softmax_row_backward(g, P + (gint64)(i - r0) * Tk, lim);
            memset(g + lim, 0, (gsize)(nk - lim) * sizeof(float));
        }
        /* dP now holds dS. */
        if (dQ)
            aigc_sgemm(CblasNoTrans, CblasNoTrans, rows, D, nk, j->scale, dP, Tk, K,
                        D, 1.0f, dQ + (gint64)r0 * D, D);
        if (dK)
            aigc_sgemm(CblasTrans, CblasNoTrans, nk, D, rows, j->scale, dP, Tk,
                        Q + (gint64)r0 * D, D, 1.0f, dK, D);
    }
}

/* Work item w takes a contiguous range of heads and its own slice of the scratch. */
static void forward_work(gint64 begin, gint64 end, gpointer data)
{
    const AttnJob *j = data;
    gint64 n_heads = (gint64)j->B * j->H;
    for (gint64 w = begin; w < end; w++)
        for (gint64 bh = w * n_heads / j->n_work; bh < (w + 1) * n_heads / j->n_work; bh++)
            forward_head(j, bh, j->scratch + w * j->scratch_per_work);
}

static void backward_work(gint64 begin, gint64 end, gpointer data)
{
    const AttnJob *j = data;
    gint64 n_heads = (gint64)j->B * j->H;
    for (gint64 w = begin; w < end; w++)
        for (gint64 bh = w * n_heads / j->n_work; bh < (w + 1) * n_heads / j->n_work; bh++)
            backward_head(j, bh, j->scratch + w * j->scratch_per_work);
}

static void attn_run(AttnJob *j, AigcParallelFunc func)
{
    j->n_work = attn_n_work(j->B, j->H, j->Tq, j->Tk, j->D);
    j->scratch_per_work = attn_scratch_per_work(j->Tq, j->Tk);
    if (j->n_work == 1) {
        func(0, 1, j);
        return;
    }
    /* BLAS is single-threaded (tensor/aigc-blas.h): each worker's small products run on it. */
    aigc_parallel_for(j->n_work, 1, func, j);
}

void aigc_attention_forward(float *out, float *att, float *lse, float *scratch, const float *q,
                            const float *k, const float *v, const gint32 *key_lengths, int B, int H,
                            int Tq, int Tk, int D, gboolean causal, float scale)
{
    AttnJob j = {.out = out,
                 .att = att,
                 .lse = lse,
                 .scratch = scratch,
                 .q = q,
                 .k = k,
                 .v = v,
                 .key_lengths = key_lengths,
                 .B = B,
                 .H = H,
                 .Tq = Tq,
                 .Tk = Tk,
                 .D = D,
                 .causal = causal,
                 .scale = scale};
    if ((gint64)B * H * Tq == 0)
        return;
    attn_run(&j, forward_work);
}

void aigc_attention_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout,
                             const float *q, const float *k, const float *v, const float *att,
                             const float *lse, const gint32 *key_lengths, int B, int H, int Tq,
                             int Tk, int D, gboolean causal, float scale)
{
    g_return_if_fail(att || lse);
    AttnJob j = {.dq = dq,
                 .dk = dk,
                 .dv = dv,
                 .scratch = scratch,
                 .dout = dout,
                 .q = q,
                 .k = k,
                 .v = v,
                 .att_in = att,
                 .lse_in = lse,
                 .key_lengths = key_lengths,
                 .B = B,
                 .H = H,
                 .Tq = Tq,
                 .Tk = Tk,
                 .D = D,
                 .causal = causal,
                 .scale = scale};
    if ((gint64)B * H * Tq == 0 || (!dq && !dk && !dv))
        return;
    attn_run(&j, backward_work);
}

/* ---- the differentiable op ---- */

typedef struct {
    float *att;          /* (nullable) (B, H, Tq, Tk) */
    float *lse;          /* (nullable) (B, H, Tq), when att was too big to keep */
    gint32 *key_lengths; /* (nullable) (B) */
} AttnSaved;

static void attention_backward(AigcCtx *ctx, AigcNode *node)
{
    AttnSaved *saved = node->saved;
    float *dq = aigc_grad(ctx, node->in[0]);
    float *dk = aigc_grad(ctx, node->in[1]);
    float *dv = aigc_grad(ctx, node->in[2]);
    int B = (int)node->i[0], H = (int)node->i[1], Tq = (int)node->i[2], Tk = (int)node->i[3];
    int D = (int)node->i[4];
    float *scratch = aigc_ctx_alloc_floats(ctx, aigc_attention_scratch_floats(B, H, Tq, Tk));
    aigc_attention_backward(dq, dk, dv, scratch, node->out[0]->grad, node->in[0]->data,
                            node->in[1]->data, node->in[2]->data, saved->att, saved->lse,
                            saved->key_lengths, B, H, Tq, Tk, D, (gboolean)node->i[5], node->f[0]);
}

AigcTensor *aigc_attention(AigcCtx *ctx, AigcTensor *q, AigcTensor *k, AigcTensor *v,
                           gboolean causal, float scale, const gint32 *key_lengths)
{
    g_return_val_if_fail(ctx && q && k && v, NULL);
    g_return_val_if_fail(q->n_dims == 4 && k->n_dims == 4 && aigc_tensor_same_shape(k, v), NULL);
    g_return_val_if_fail(k->shape[0] == q->shape[0] && k->shape[1] == q->shape[1], NULL);
    g_return_val_if_fail(k->shape[3] == q->shape[3] && q->shape[3] > 0, NULL);
    g_return_val_if_fail(q->shape[2] <= G_MAXINT && k->shape[2] <= G_MAXINT, NULL);
    int B = (int)q->shape[0], H = (int)q->shape[1], Tq = (int)q->shape[2];
    int Tk = (int)k->shape[2], D = (int)q->shape[3];
    if (key_lengths)
        for (int b = 0; b < B; b++)
            g_return_val_if_fail(key_lengths[b] >= 0 && key_lengths[b] <= Tk, NULL);

    q = aigc_contiguous(ctx, q);
    k = aigc_contiguous(ctx, k);
    v = aigc_contiguous(ctx, v);
    AigcTensor *in[3] = {q, k, v};
    AigcTensor *out = aigc_tensor_new4(ctx, B, H, Tq, D);

    AttnSaved *saved = NULL;
    if (aigc_ctx_needs_grad(ctx, 3, in)) {
        saved = aigc_ctx_alloc(ctx, sizeof *saved);
        gint64 n_probs = (gint64)B * H * Tq * Tk;
        saved->att =
            n_probs <= AIGC_ATTENTION_MAX_SAVED_PROBS ? aigc_ctx_alloc_floats(ctx, n_probs) : NULL;
        saved->lse = saved->att ? NULL : aigc_ctx_alloc_floats(ctx, (gint64)B * H * Tq);
        saved->key_lengths = NULL;
        if (key_lengths) {
            saved->key_lengths = aigc_ctx_alloc(ctx, (gsize)MAX(B, 1) * sizeof(gint32));
            memcpy(saved->key_lengths, key_lengths, (gsize)B * sizeof(gint32));
        }
    }
    float *scratch = aigc_ctx_alloc_floats(ctx, aigc_attention_scratch_floats(B, H, Tq, Tk));
    aigc_attention_forward(out->data, saved ? saved->att : NULL, saved ? saved->lse : NULL, scratch,
                           q->data, k->data, v->data, key_lengths, B, H, Tq, Tk, D, causal, scale);

    AigcNode *node = aigc_ctx_record(ctx, "attention", attention_backward, out, 3, in);
    if (node) {
        node->saved = saved;
        node->i[0] = B;
        node->i[1] = H;
        node->i[2] = Tq;
        node->i[3] = Tk;
        node->i[4] = D;
        node->i[5] = causal ? 1 : 0;
        node->f[0] = scale;
    }
    return out;
}

/* ---- KV cache ---- */

struct _AigcKVCache {
    int n_layers, n_heads, max_len, head_dim;
    int *length;   /* (n_layers) */
    float *keys;   /* (n_layers, n_heads, max_len, head_dim) */
    float *values; /* (n_layers, n_heads, max_len, head_dim) */
    float *scores; /* (n_heads, max_len) decode scratch */
};

AigcKVCache *aigc_kv_cache_new(int n_layers, int n_heads, int max_len, int head_dim)
{
    g_return_val_if_fail(n_layers > 0 && n_heads > 0 && max_len > 0 && head_dim > 0, NULL);
    gsize per, total;
    if (!g_size_checked_mul(&per, (gsize)n_heads * max_len, head_dim) ||
        !g_size_checked_mul(&total, per, (gsize)n_layers * sizeof(float)))
        return NULL;
    AigcKVCache *cache = g_new0(AigcKVCache, 1);
    cache->n_layers = n_layers;
    cache->n_heads = n_heads;
    cache->max_len = max_len;
    cache->head_dim = head_dim;
    cache->length = g_new0(int, n_layers);
    cache->keys = g_try_malloc(total);
    cache->values = g_try_malloc(total);
    cache->scores = g_try_malloc((gsize)n_heads * max_len * sizeof(float));
    if (!cache->keys || !cache->values || !cache->scores) {
        aigc_kv_cache_free(cache);
        return NULL;
    }
    return cache;
}

void aigc_kv_cache_free(AigcKVCache *cache)
{
    if (!cache)
        return;
    g_free(cache->length);
    g_free(cache->keys);
    g_free(cache->values);
    g_free(cache->scores);
    g_free(cache);
}

void aigc_kv_cache_reset(AigcKVCache *cache)
{
    g_return_if_fail(cache);
    memset(cache->length, 0, (gsize)cache->n_layers * sizeof(int));
}

int aigc_kv_cache_get_length(AigcKVCache *cache, int layer)
{
    g_return_val_if_fail(cache && layer >= 0 && layer < cache->n_layers, 0);
    return cache->length[layer];
}

int aigc_kv_cache_get_max_length(AigcKVCache *cache)
{
    g_return_val_if_fail(cache, 0);
    return cache->max_len;
}

static gsize layer_offset(AigcKVCache *cache, int layer)
{
    return (gsize)layer * cache->n_heads * cache->max_len * cache->head_dim;
}

float *aigc_kv_cache_get_keys(AigcKVCache *cache, int layer)
{
    g_return_val_if_fail(cache && layer >= 0 && layer < cache->n_layers, NULL);
    return cache->keys + layer_offset(cache, layer);
}

float *aigc_kv_cache_get_values(AigcKVCache *cache, int layer)
{
    g_return_val_if_fail(cache && layer >= 0 && layer < cache->n_layers, NULL);
    return cache->values + layer_offset(cache, layer);
}

gboolean aigc_kv_cache_append(AigcKVCache *cache, int layer, const float *k, const float *v, int T)
{
    g_return_val_if_fail(cache && layer >= 0 && layer < cache->n_layers, FALSE);
    g_return_val_if_fail(k && v && T >= 0, FALSE);
    int pos = cache->length[layer], D = cache->head_dim;
    if (T > cache->max_len - pos)
        return FALSE;
    float *K = aigc_kv_cache_get_keys(cache, layer);   /* (n_heads, max_len, D) */
    float *V = aigc_kv_cache_get_values(cache, layer); /* (n_heads, max_len, D) */
    for (int h = 0; h < cache->n_heads; h++) {
        gsize dst = ((gsize)h * cache->max_len + pos) * D, src = (gsize)h * T * D;
        memcpy(K + dst, k + src, (gsize)T * D * sizeof(float));
        memcpy(V + dst, v + src, (gsize)T * D * sizeof(float));
    }
    cache->length[layer] = pos + T;
    return TRUE;
}

/* s[j] = scale · q·K[j] for j < n; four keys at a time, so four sums are in flight. */
ATTN_SIMD_CLONES
static void decode_scores(float *restrict s, const float *restrict q, const float *restrict K,
                          int n, int D, float scale)
{
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *k0 = K + (gsize)j * D, *k1 = k0 + D, *k2 = k1 + D, *k3 = k2 + D;
        AttnV8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, qv, kv;
        int d = 0;
        for (; d + 8 <= D; d += 8) {
            v8_load(&qv, q + d);
            v8_load(&kv, k0 + d);
            a0 += qv * kv;
            v8_load(&kv, k1 + d);
            a1 += qv * kv;
            v8_load(&kv, k2 + d);
            a2 += qv * kv;
            v8_load(&kv, k3 + d);
            a3 += qv * kv;
        }
        float r0 = v8_hsum(&a0), r1 = v8_hsum(&a1), r2 = v8_hsum(&a2), r3 = v8_hsum(&a3);
        for (; d < D; d++) {
            r0 += q[d] * k0[d];
            r1 += q[d] * k1[d];
            r2 += q[d] * k2[d];
            r3 += q[d] * k3[d];
        }
        s[j] = r0 * scale;
        s[j + 1] = r1 * scale;
        s[j + 2] = r2 * scale;
        s[j + 3] = r3 * scale;
    }
    for (; j < n; j++) {
        const float *kj = K + (gsize)j * D;
        AttnV8 a = {0}, qv, kv;
        int d = 0;
        for (; d + 8 <= D; d += 8) {
            v8_load(&qv, q + d);
            v8_load(&kv, kj + d);
            a += qv * kv;
        }
        float r = v8_hsum(&a);
        for (; d < D; d++)
            r += q[d] * kj[d];
        s[j] = r * scale;
    }
}

/* o = a · Σ_j p[j] V[j] for j < n. */
ATTN_SIMD_CLONES
static void decode_values(float *restrict o, const float *restrict p, const float *restrict V,
                          int n, int D, float a)
{
    memset(o, 0, (gsize)D * sizeof(float));
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *v0 = V + (gsize)j * D, *v1 = v0 + D, *v2 = v1 + D, *v3 = v2 + D;
        float p0 = p[j], p1 = p[j + 1], p2 = p[j + 2], p3 = p[j + 3];
        AttnV8 ov, x0, x1, x2, x3;
        int d = 0;
        for (; d + 8 <= D; d += 8) {
            v8_load(&ov, o + d);
            v8_load(&x0, v0 + d);
            v8_load(&x1, v1 + d);
            v8_load(&x2, v2 + d);
            v8_load(&x3, v3 + d);
            ov += (p0 * x0 + p1 * x1) + (p2 * x2 + p3 * x3);
            v8_store(o + d, &ov);
        }
        for (; d < D; d++)
            o[d] += (p0 * v0[d] + p1 * v1[d]) + (p2 * v2[d] + p3 * v3[d]);
    }
    for (; j < n; j++) {
        const float *vj = V + (gsize)j * D;
        for (int d = 0; d < D; d++)
            o[d] += p[j] * vj[d];
    }
    scale_row(o, a, D);
}

typedef struct {
    AigcKVCache *cache;
    const float *q; /* (H, D) */
    const float *K; /* (H, max_len, D) */
    const float *V; /* (H, max_len, D) */
    float *out;     /* (H, D) */
    int n;
    float scale;
} DecodeJob;

static void decode_heads(gint64 begin, gint64 end, gpointer data)
{
    const DecodeJob *j = data;
    const int D = j->cache->head_dim, T_max = j->cache->max_len;
    for (gint64 h = begin; h < end; h++) {
        float *s = j->cache->scores + h * T_max; /* (n) */
        decode_scores(s, j->q + h * D, j->K + h * T_max * D, j->n, D, j->scale);
        float m = row_max(s, j->n);
        float sum = exp_sub_sum(s, m, j->n);
        decode_values(j->out + h * D, s, j->V + h * T_max * D, j->n, D, 1.0f / sum);
    }
}

gboolean aigc_attention_decode(AigcKVCache *cache, int layer, const float *q, const float *k_new,
                               const float *v_new, float scale, float *out)
{
    g_return_val_if_fail(cache && layer >= 0 && layer < cache->n_layers, FALSE);
    g_return_val_if_fail(q && k_new && v_new && out, FALSE);
    /* k_new, v_new are (H, D): as (H, T = 1, D) they append in one call. */
    if (!aigc_kv_cache_append(cache, layer, k_new, v_new, 1))
        return FALSE;
    DecodeJob j = {.cache = cache,
                   .q = q,
                   .K = aigc_kv_cache_get_keys(cache, layer),
                   .V = aigc_kv_cache_get_values(cache, layer),
                   .out = out,
                   .n = cache->length[layer],
                   .scale = scale};
    /* Our own loops rather than sgemv, so heads can go to different threads once the context
     * is long enough (~64k multiply-adds a chunk) to pay for the hand-off. */
    gint64 per_head = MAX((gint64)j.n * cache->head_dim, 1);
    aigc_parallel_for(cache->n_heads, MAX(1, 65536 / per_head), decode_heads, &j);
    return TRUE;
}
