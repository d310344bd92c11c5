/* SPDX-License-Identifier: MIT
 *
 * Fused attention: forward values against a naive float64 reference (causal, causal with
 * Tq < Tk and Tq > Tk, padded keys, several query blocks), finite-difference gradient checks on
 * odd shapes and strided inputs, the logsumexp backward path against the saved-probabilities
 * path, thread-count independence, inference that saves nothing, PyTorch goldens, and KV-cache
 * decoding against the full causal forward.
 */
#include "aigc-test-support.h"
#include "nn/aigc-attention.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

typedef struct {
    gboolean causal;
    float scale;
    const gint32 *key_lengths; /* (nullable) */
} AttnArgs;

/* out (B, H, Tq, D), probs (nullable) (B, H, Tq, Tk): softmax(scale·q kᵀ + mask) v in
 * float64; rows without a visible key are zeros. */
static void naive_attention(double *out, double *probs, const float *q, const float *k,
                            const float *v, const gint32 *key_lengths, int B, int H, int Tq, int Tk,
                            int D, gboolean causal, float scale)
{
    double *s = g_new(double, Tk);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            gint64 bh = (gint64)b * H + h;
            int len = key_lengths ? key_lengths[b] : Tk;
            for (int i = 0; i < Tq; i++) {
                double m = -INFINITY, sum = 0;
                for (int j = 0; j < Tk; j++) {
                    gboolean ok = j < len && (!causal || j <= i + Tk - Tq);
                    s[j] = -INFINITY;
                    if (ok) {
                        double dot = 0;
                        for (int d = 0; d < D; d++)
                            dot += (double)q[(bh * Tq + i) * D + d] * k[(bh * Tk + j) * D + d];
                        s[j] = dot * scale;
                        m = MAX(m, s[j]);
                    }
                }
                for (int j = 0; j < Tk; j++) {
                    s[j] = isinf(s[j]) ? 0 : exp(s[j] - m);
                    sum += s[j];
                }
                for (int d = 0; d < D; d++) {
                    double acc = 0;
                    for (int j = 0; j < Tk; j++)
                        acc += (sum > 0 ? s[j] / sum : 0) * v[(bh * Tk + j) * D + d];
                    out[(bh * Tq + i) * D + d] = acc;
                }
                if (probs)
                    for (int j = 0; j < Tk; j++)
                        probs[(bh * Tq + i) * Tk + j] = sum > 0 ? s[j] / sum : 0;
            }
        }
    g_free(s);
}

static float *random_floats(AigcRng *rng, gint64 n, float lo, float hi)
{
    float *x = g_new(float, MAX(n, 1));
    aigc_rng_fill_uniform(rng, x, n, lo, hi);
    return x;
}

static void assert_close_f64(const float *got, const double *want, gint64 n, double rtol,
                             double atol, const char *what)
{
    float *w = g_new(float, MAX(n, 1));
    for (gint64 i = 0; i < n; i++)
        w[i] = (float)want[i];
    aigc_test_assert_close(got, w, n, rtol, atol, what);
    g_free(w);
}

/* The forward kernel with probabilities and lse against the float64 reference. */
static void check_forward(int B, int H, int Tq, int Tk, int D, gboolean causal,
                          const gint32 *key_lengths, const char *what)
{
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    gint64 nq = (gint64)B * H * Tq * D, nk = (gint64)B * H * Tk * D;
    gint64 np = (gint64)B * H * Tq * Tk, nl = (gint64)B * H * Tq;
    float *q = random_floats(&rng, nq, -2, 2), *k = random_floats(&rng, nk, -2, 2);
    float *v = random_floats(&rng, nk, -1, 1);
    float *out = g_new(float, nq), *att = g_new(float, np), *lse = g_new(float, nl);
    float *scratch = g_new(float, aigc_attention_scratch_floats(B, H, Tq, Tk));
    double *want = g_new(double, nq), *want_p = g_new(double, np);
    float scale = 1.0f / sqrtf((float)D);

    aigc_attention_forward(out, att, lse, scratch, q, k, v, key_lengths, B, H, Tq, Tk, D, causal,
                           scale);
    naive_attention(want, want_p, q, k, v, key_lengths, B, H, Tq, Tk, D, causal, scale);
    assert_close_f64(out, want, nq, 1e-5, 1e-6, what);
    assert_close_f64(att, want_p, np, 1e-5, 1e-7, what);
    /* lse: Σ_j exp(s_ij − lse_i) over visible keys is 1, i.e. p_ij = exp(s_ij − lse_i). */
    for (gint64 r = 0; r < nl; r++) {
        gint64 bh = r / Tq;
        int i = (int)(r % Tq), len = key_lengths ? key_lengths[bh / H] : Tk;
        int lim = MAX(0, MIN(len, causal ? i + Tk - Tq + 1 : Tk));
        if (lim == 0) {
            g_assert_true(isinf(lse[r]) && lse[r] < 0);
            continue;
        }
        double dot = 0;
        for (int d = 0; d < D; d++)
            dot += (double)q[r * D + d] * k[bh * Tk * D + d];
        double p0 = exp(dot * scale - lse[r]);
        g_assert_cmpfloat(fabs(p0 - want_p[r * Tk]), <=, 1e-5 * want_p[r * Tk] + 1e-7);
    }
    /* Without att and lse (inference) the output is the same. */
    float *out2 = g_new(float, nq);
    aigc_attention_forward(out2, NULL, NULL, scratch, q, k, v, key_lengths, B, H, Tq, Tk, D, causal,
                           scale);
    g_assert_cmpmem(out2, nq * 4, out, nq * 4);
    g_free(q);
    g_free(k);
    g_free(v);
    g_free(out);
    g_free(out2);
    g_free(att);
    g_free(lse);
    g_free(scratch);
    g_free(want);
    g_free(want_p);
}

static void test_forward(void)
{
    check_forward(2, 3, 7, 7, 5, TRUE, NULL, "causal self");
    check_forward(2, 3, 7, 7, 5, FALSE, NULL, "non-causal self");
    check_forward(2, 3, 3, 7, 5, TRUE, NULL, "causal, queries are the last 3 of 7");
    check_forward(1, 2, 7, 3, 5, TRUE, NULL, "causal, more queries than keys");
    check_forward(2, 3, 3, 7, 5, FALSE, (const gint32[]){7, 4}, "cross, padded");
    check_forward(3, 1, 5, 6, 3, FALSE, (const gint32[]){0, 6, 1}, "cross, an empty batch");
    check_forward(2, 2, 5, 6, 3, TRUE, (const gint32[]){2, 6}, "causal and padded");
    /* Several query blocks, a key count that is no multiple of the vector width. */
    check_forward(2, 3, 77, 77, 9, TRUE, NULL, "causal, 3 query blocks");
    check_forward(1, 3, 45, 103, 7, FALSE, (const gint32[]){71}, "cross, 2 blocks, padded");
    check_forward(1, 2, 40, 101, 7, TRUE, NULL, "causal, 40 of 101");
}

static void test_forward_values_by_hand(void)
{
    /* One head, D = 1, q = 1, k = (0, ln 3), v = (1, 5), scale 1: p = (1/4, 3/4), out = 4;
     * causal: the first query sees only the first key. */
    float q[2] = {1, 1}, k[2] = {0, logf(3)}, v[2] = {1, 5}, out[2], att[4], scratch[256];
    g_assert_cmpint(aigc_attention_scratch_floats(1, 1, 2, 2), <=, 256);
    aigc_attention_forward(out, att, NULL, scratch, q, k, v, NULL, 1, 1, 2, 2, 1, TRUE, 1.0f);
    g_assert_cmpfloat_with_epsilon(out[0], 1.0, 1e-6);
    g_assert_cmpfloat_with_epsilon(out[1], 4.0, 1e-6);
    g_assert_cmpfloat(att[1], ==, 0.0f);
    g_assert_cmpfloat_with_epsilon(att[2], 0.25, 1e-7);
    g_assert_cmpfloat_with_epsilon(att[3], 0.75, 1e-7);
}

static AigcTensor *attn_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const AttnArgs *a = data;
    return aigc_attention(ctx, in[0], in[1], in[2], a->causal, a->scale, a->key_lengths);
}

static void gradcheck_case(int B, int H, int Tq, int Tk, int D, gboolean causal,
                           const gint32 *key_lengths)
{
    AigcRng rng;
    aigc_rng_init(&rng, 5);
    AigcTensor *in[3] = {
        aigc_test_leaf(&rng, 4, (gint64[]){B, H, Tq, D}, -1, 1, TRUE),
        aigc_test_leaf(&rng, 4, (gint64[]){B, H, Tk, D}, -1, 1, TRUE),
        aigc_test_leaf(&rng, 4, (gint64[]){B, H, Tk, D}, -1, 1, TRUE),
    };
    AttnArgs args = {causal, 1.0f / sqrtf((float)D), key_lengths};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(attn_fn, 3, in, &args, &p);
    for (int i = 0; i < 3; i++)
        aigc_tensor_free_leaf(in[i]);
}

static void test_gradcheck_causal(void)
{
    gradcheck_case(2, 3, 5, 5, 7, TRUE, NULL);
}

static void test_gradcheck_causal_offset(void)
{
    /* Queries are the last 3 of 5 positions; the second batch has 4 valid keys. */
    gradcheck_case(2, 1, 3, 5, 3, TRUE, (const gint32[]){5, 4});
    /* More queries than keys: the first two rows see nothing and pass no gradient. */
    gradcheck_case(1, 2, 5, 3, 3, TRUE, NULL);
}

static void test_gradcheck_cross(void)
{
    gradcheck_case(2, 3, 3, 7, 5, FALSE, (const gint32[]){7, 4});
    gradcheck_case(3, 1, 3, 5, 3, FALSE, (const gint32[]){0, 5, 1});
}

static void test_gradcheck_blocks(void)
{
    /* 37 queries span two blocks of 32; sample the elements. */
    AigcRng rng;
    aigc_rng_init(&rng, 6);
    AigcTensor *in[3] = {
        aigc_test_leaf(&rng, 4, (gint64[]){1, 2, 37, 5}, -1, 1, TRUE),
        aigc_test_leaf(&rng, 4, (gint64[]){1, 2, 37, 5}, -1, 1, TRUE),
        aigc_test_leaf(&rng, 4, (gint64[]){1, 2, 37, 5}, -1, 1, TRUE),
    };
    AttnArgs args = {TRUE, 0.5f, NULL};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 150;
    aigc_assert_gradcheck(attn_fn, 3, in, &args, &p);
    for (int i = 0; i < 3; i++)
        aigc_tensor_free_leaf(in[i]);
}

/* GPT layout: one (B, T, H, 3·D) projection sliced and permuted into strided q, k, v views. */
static AigcTensor *strided_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const AttnArgs *a = data;
    AigcTensor *parts[3]; /* (B, T, H, D) views */
    aigc_split(ctx, in[0], 3, 3, (gint64[]){3, 3, 3}, parts);
    AigcTensor *q = aigc_permute(ctx, parts[0], (int[]){0, 2, 1, 3}); /* (B, H, T, D) */
    AigcTensor *k = aigc_permute(ctx, parts[1], (int[]){0, 2, 1, 3});
    AigcTensor *v = aigc_permute(ctx, parts[2], (int[]){0, 2, 1, 3});
    g_assert_false(aigc_tensor_is_contiguous(q));
    return aigc_attention(ctx, q, k, v, a->causal, a->scale, a->key_lengths);
}

static AigcTensor *same_input_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const AttnArgs *a = data;
    return aigc_attention(ctx, in[0], in[0], in[0], a->causal, a->scale, a->key_lengths);
}

static void test_gradcheck_strided(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 8);
    AigcTensor *x = aigc_test_leaf(&rng, 4, (gint64[]){2, 5, 3, 9}, -1, 1, TRUE);
    AttnArgs args = {TRUE, 0.6f, NULL};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(strided_fn, 1, &x, &args, &p);
    aigc_tensor_free_leaf(x);

    /* q, k and v the same tensor: the three gradients add up in one buffer. */
    AigcTensor *y = aigc_test_leaf(&rng, 4, (gint64[]){1, 3, 5, 3}, -1, 1, TRUE);
    args.causal = FALSE;
    aigc_assert_gradcheck(same_input_fn, 1, &y, &args, &p);
    aigc_tensor_free_leaf(y);
}

static AigcTensor *partial_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const AttnArgs *a = data;
    return aigc_attention(ctx, in[0], in[1], in[2], a->causal, a->scale, a->key_lengths);
}

static void test_gradcheck_partial(void)
{
    /* Only some inputs need a gradient: the others' buffers are never asked for. */
    AigcRng rng;
    aigc_rng_init(&rng, 9);
    for (int want = 0; want < 3; want++) {
        AigcTensor *in[3];
        for (int i = 0; i < 3; i++)
            in[i] = aigc_test_leaf(&rng, 4, (gint64[]){1, 2, i == 0 ? 3 : 5, 3}, -1, 1, i == want);
        AttnArgs args = {FALSE, 0.7f, (const gint32[]){4}};
        AigcGradcheckParams p = aigc_gradcheck_default_params();
        p.max_checks = 0;
        aigc_assert_gradcheck(partial_fn, 3, in, &args, &p);
        for (int i = 0; i < 3; i++)
            aigc_tensor_free_leaf(in[i]);
    }
}

/* The logsumexp path (probabilities recomputed) gives the saved-probabilities gradients, and
 * both match a float64 finite-difference-free reference built from the naive probabilities. */
static void check_backward_paths(int B, int H, int Tq, int Tk, int D, gboolean causal,
                                 const gint32 *key_lengths)
{
    AigcRng rng;
    aigc_rng_init(&rng, 12);
    gint64 nq = (gint64)B * H * Tq * D, nk = (gint64)B * H * Tk * D;
    gint64 np = (gint64)B * H * Tq * Tk;
    float *q = random_floats(&rng, nq, -2, 2), *k = random_floats(&rng, nk, -2, 2);
    float *v = random_floats(&rng, nk, -1, 1), *dout = random_floats(&rng, nq, -1, 1);
    float *out = g_new(float, nq), *att = g_new(float, np), *lse = g_new(float, (gint64)B *H *Tq);
    float *scratch = g_new(float, aigc_attention_scratch_floats(B, H, Tq, Tk));
    float scale = 0.4f;
    aigc_attention_forward(out, att, lse, scratch, q, k, v, key_lengths, B, H, Tq, Tk, D, causal,
                           scale);
    float *g[2][3];
    for (int path = 0; path < 2; path++) {
        for (int t = 0; t < 3; t++) {
            gint64 n = t == 0 ? nq : nk;
            g[path][t] = g_new(float, n);
            for (gint64 i = 0; i < n; i++)
                g[path][t][i] = 0.25f; /* the kernel adds */
        }
        aigc_attention_backward(g[path][0], g[path][1], g[path][2], scratch, dout, q, k, v,
                                path == 0 ? att : NULL, path == 0 ? NULL : lse, key_lengths, B, H,
                                Tq, Tk, D, causal, scale);
    }
    /* Reference: dV = Pᵀ dO, dS = P ⊙ (dO Vᵀ − rowsum), dQ = scale dS K, dK = scale dSᵀ Q. */
    double *P = g_new(double, np), *o = g_new(double, nq);
    naive_attention(o, P, q, k, v, key_lengths, B, H, Tq, Tk, D, causal, scale);
    double *want[3] = {g_new0(double, nq), g_new0(double, nk), g_new0(double, nk)};
    double *ds = g_new(double, Tk);
    for (gint64 bh = 0; bh < (gint64)B * H; bh++)
        for (int i = 0; i < Tq; i++) {
            const double *p = P + (bh * Tq + i) * Tk;
            const float *go = dout + (bh * Tq + i) * D;
            double r = 0;
            for (int j = 0; j < Tk; j++) {
                double dp = 0;
                for (int d = 0; d < D; d++)
                    dp += (double)go[d] * v[(bh * Tk + j) * D + d];
                ds[j] = dp;
                r += p[j] * dp;
            }
            for (int j = 0; j < Tk; j++) {
                ds[j] = p[j] * (ds[j] - r);
                for (int d = 0; d < D; d++) {
                    want[0][(bh * Tq + i) * D + d] += scale * ds[j] * k[(bh * Tk + j) * D + d];
                    want[1][(bh * Tk + j) * D + d] += scale * ds[j] * q[(bh * Tq + i) * D + d];
                    want[2][(bh * Tk + j) * D + d] += p[j] * go[d];
                }
            }
        }
    const char *names[3] = {"dq", "dk", "dv"};
    for (int t = 0; t < 3; t++) {
        gint64 n = t == 0 ? nq : nk;
        for (gint64 i = 0; i < n; i++)
            want[t][i] += 0.25;
        assert_close_f64(g[0][t], want[t], n, 1e-4, 2e-6, names[t]);
        assert_close_f64(g[1][t], want[t], n, 1e-4, 2e-6, names[t]);
        aigc_test_assert_close(g[1][t], g[0][t], n, 1e-5, 1e-6, names[t]);
        g_free(g[0][t]);
        g_free(g[1][t]);
        g_free(want[t]);
    }
    g_free(ds);
    g_free(P);
    g_free(o);
    g_free(q);
    g_free(k);
    g_free(v);
    g_free(dout);
    g_free(out);
    g_free(att);
    g_free(lse);
    g_free(scratch);
}

static void test_backward_paths(void)
{
    check_backward_paths(2, 3, 70, 70, 9, TRUE, NULL);
    check_backward_paths(2, 2, 33, 51, 5, FALSE, (const gint32[]){51, 20});
    check_backward_paths(1, 2, 7, 37, 5, TRUE, (const gint32[]){30});
    check_backward_paths(1, 2, 9, 4, 3, TRUE, NULL);
}

static void test_thread_independence(void)
{
    /* Large enough to be split over workers; the results must be the same bits. */
    int B = 3, H = 5, T = 67, D = 16;
    gint64 n = (gint64)B * H * T * D, np = (gint64)B * H * T * T;
    AigcRng rng;
    aigc_rng_init(&rng, 13);
    float *q = random_floats(&rng, n, -1, 1), *k = random_floats(&rng, n, -1, 1);
    float *v = random_floats(&rng, n, -1, 1), *dout = random_floats(&rng, n, -1, 1);
    float *out[2], *grads[2];
    float *att = g_new(float, np);
    for (int threads = 1; threads <= 2; threads++) {
        aigc_threads_init(threads);
        float *scratch = g_new(float, aigc_attention_scratch_floats(B, H, T, T));
        out[threads - 1] = g_new(float, n);
        grads[threads - 1] = g_new0(float, 3 * n);
        float *gq = grads[threads - 1], *gk = gq + n, *gv = gk + n;
        aigc_attention_forward(out[threads - 1], att, NULL, scratch, q, k, v, NULL, B, H, T, T, D,
                               TRUE, 0.25f);
        aigc_attention_backward(gq, gk, gv, scratch, dout, q, k, v, att, NULL, NULL, B, H, T, T, D,
                                TRUE, 0.25f);
        g_free(scratch);
    }
    g_assert_cmpmem(out[0], n * 4, out[1], n * 4);
    g_assert_cmpmem(grads[0], 3 * n * 4, grads[1], 3 * n * 4);
    for (int i = 0; i < 2; i++) {
        g_free(out[i]);
        g_free(grads[i]);
    }
    g_free(att);
    g_free(q);
    g_free(k);
    g_free(v);
    g_free(dout);
}

static void test_inference_saves_nothing(void)
{
    int B = 2, H = 4, T = 64, D = 8;
    gint64 shape[4] = {B, H, T, D};
    AigcRng rng;
    aigc_rng_init(&rng, 14);
    AigcTensor *q = aigc_test_leaf(&rng, 4, shape, -1, 1, TRUE);
    AigcTensor *k = aigc_test_leaf(&rng, 4, shape, -1, 1, TRUE);
    AigcTensor *v = aigc_test_leaf(&rng, 4, shape, -1, 1, TRUE);
    gsize probs_bytes = (gsize)B * H * T * T * sizeof(float);
    gsize out_bytes = (gsize)B * H * T * D * sizeof(float);

    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    AigcTensor *o = aigc_attention(ctx, q, k, v, TRUE, 0.3f, NULL);
    g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, 0);
    g_assert_false(o->requires_grad);
    gsize used = aigc_arena_get_used(aigc_ctx_get_arena(ctx));
    g_assert_cmpuint(used, <, out_bytes + probs_bytes / 2);

    /* With gradients the probabilities are kept: one node, and the arena holds them. */
    aigc_ctx_reset(ctx);
    aigc_ctx_set_grad_enabled(ctx, TRUE);
    AigcTensor *o2 = aigc_attention(ctx, q, k, v, TRUE, 0.3f, NULL);
    g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, 1);
    g_assert_true(o2->requires_grad);
    g_assert_cmpuint(aigc_arena_get_used(aigc_ctx_get_arena(ctx)), >=, out_bytes + probs_bytes);
    g_assert_cmpmem(o->data, out_bytes, o2->data, out_bytes);
    aigc_tensor_free_leaf(q);
    aigc_tensor_free_leaf(k);
    aigc_tensor_free_leaf(v);
}

static void check_golden(AigcSafetensors *st, const char *prefix, gboolean causal)
{
    char name[64];
#define GOLDEN(n) (g_snprintf(name, sizeof name, "%s.%s", prefix, n), name)
    AigcTensor *q = aigc_test_golden_leaf(st, GOLDEN("q"), TRUE);
    AigcTensor *k = aigc_test_golden_leaf(st, GOLDEN("k"), TRUE);
    AigcTensor *v = aigc_test_golden_leaf(st, GOLDEN("v"), TRUE);
    gint32 lengths[8];
    const gint32 *key_lengths = NULL;
    const AigcSafetensorsTensor *kl = aigc_safetensors_find(st, GOLDEN("key_lengths"));
    if (kl) {
        g_assert_cmpint(kl->dtype, ==, AIGC_DTYPE_I32);
        g_assert_cmpint(kl->n_elements, ==, q->shape[0]);
        memcpy(lengths, kl->data, (gsize)kl->n_elements * sizeof(gint32));
        key_lengths = lengths;
    }
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *out =
        aigc_attention(ctx, q, k, v, causal, 1.0f / sqrtf((float)q->shape[3]), key_lengths);
    gint64 n;
    const float *want = aigc_test_golden_data(st, GOLDEN("out"), &n);
    g_assert_cmpint(n, ==, out->n_elements);
    aigc_test_assert_close(out->data, want, n, 1e-4, 1e-5, GOLDEN("out"));
    const float *dout = aigc_test_golden_data(st, GOLDEN("dout"), &n);
    aigc_ctx_backward_from(ctx, out, dout);
    AigcTensor *ins[3] = {q, k, v};
    const char *grads[3] = {"dq", "dk", "dv"};
    for (int i = 0; i < 3; i++) {
        want = aigc_test_golden_data(st, GOLDEN(grads[i]), &n);
        g_assert_cmpint(n, ==, ins[i]->n_elements);
        aigc_test_assert_close(ins[i]->grad, want, n, 1e-4, 1e-5, GOLDEN(grads[i]));
        aigc_tensor_free_leaf(ins[i]);
    }
#undef GOLDEN
}

static void test_golden(void)
{
    g_autoptr(AigcSafetensors) st = aigc_test_open_golden("attention");
    check_golden(st, "causal", TRUE);
    check_golden(st, "cross", FALSE);
}

static void test_kv_cache_decode(void)
{
    int B = 1, L = 2, H = 3, T = 11, D = 7, T_max = 16;
    gint64 n = (gint64)H * T * D;
    float scale = 1.0f / sqrtf((float)D);
    AigcRng rng;
    aigc_rng_init(&rng, 15);
    g_autoptr(AigcKVCache) cache = aigc_kv_cache_new(L, H, T_max, D);
    g_assert_nonnull(cache);
    g_assert_cmpint(aigc_kv_cache_get_max_length(cache), ==, T_max);
    float *q[2], *k[2], *v[2], *full[2]; /* (H, T, D) = (B = 1, H, T, D) */
    for (int l = 0; l < L; l++) {
        q[l] = random_floats(&rng, n, -2, 2);
        k[l] = random_floats(&rng, n, -2, 2);
        v[l] = random_floats(&rng, n, -1, 1);
        full[l] = g_new(float, n);
        float *scratch = g_new(float, aigc_attention_scratch_floats(B, H, T, T));
        aigc_attention_forward(full[l], NULL, NULL, scratch, q[l], k[l], v[l], NULL, B, H, T, T, D,
                               TRUE, scale);
        g_free(scratch);
    }
    float qt[3 * 7], kt[3 * 7], vt[3 * 7], out[3 * 7];
    for (int round = 0; round < 2; round++) {
        /* Round 1 prefills 4 positions with append, then decodes the rest. */
        int start = round == 0 ? 0 : 4;
        for (int l = 0; l < L && start > 0; l++) {
            float *kp = g_new(float, (gsize)H *start *D), *vp = g_new(float, (gsize)H *start *D);
            for (int h = 0; h < H; h++) {
                memcpy(kp + (gsize)h * start * D, k[l] + (gsize)h * T * D, (gsize)start * D * 4);
                memcpy(vp + (gsize)h * start * D, v[l] + (gsize)h * T * D, (gsize)start * D * 4);
            }
            g_assert_true(aigc_kv_cache_append(cache, l, kp, vp, start));
            g_free(kp);
            g_free(vp);
        }
        for (int t = start; t < T; t++)
            for (int l = 0; l < L; l++) {
                for (int h = 0; h < H; h++) {
                    gsize src = ((gsize)h * T + t) * D;
                    memcpy(qt + h * D, q[l] + src, D * 4);
                    memcpy(kt + h * D, k[l] + src, D * 4);
                    memcpy(vt + h * D, v[l] + src, D * 4);
                }
                g_assert_true(aigc_attention_decode(cache, l, qt, kt, vt, scale, out));
                g_assert_cmpint(aigc_kv_cache_get_length(cache, l), ==, t + 1);
                for (int h = 0; h < H; h++)
                    aigc_test_assert_close(out + h * D, full[l] + ((gsize)h * T + t) * D, D, 1e-5,
                                           1e-6, "decode vs full causal forward");
            }
        aigc_kv_cache_reset(cache);
        g_assert_cmpint(aigc_kv_cache_get_length(cache, 0), ==, 0);
    }
    /* A full cache refuses another position and changes nothing. */
    for (int t = 0; t < T_max; t++)
        g_assert_true(aigc_attention_decode(cache, 1, qt, kt, vt, scale, out));
    memset(out, 0, sizeof out);
    g_assert_false(aigc_attention_decode(cache, 1, qt, kt, vt, scale, out));
    g_assert_cmpint(aigc_kv_cache_get_length(cache, 1), ==, T_max);
    g_assert_cmpfloat(out[0], ==, 0.0f);
    g_assert_false(aigc_kv_cache_append(cache, 0, kt, vt, T_max + 1));
    g_assert_cmpint(aigc_kv_cache_get_length(cache, 0), ==, 0);
    /* A size that does not fit in memory is refused, not an abort. */
    g_assert_null(aigc_kv_cache_new(G_MAXINT, G_MAXINT, G_MAXINT, 64));
    for (int l = 0; l < L; l++) {
        g_free(q[l]);
        g_free(k[l]);
        g_free(v[l]);
        g_free(full[l]);
    }
}

static void test_kv_cache_decode_long(void)
{
    /* A context long enough for the heads to be shared between threads. */
    int H = 4, T = 300, D = 64;
    gint64 n = (gint64)H * T * D;
    float scale = 1.0f / sqrtf((float)D);
    AigcRng rng;
    aigc_rng_init(&rng, 16);
    float *q = random_floats(&rng, n, -2, 2), *k = random_floats(&rng, n, -2, 2);
    float *v = random_floats(&rng, n, -1, 1), *full = g_new(float, n);
    float *scratch = g_new(float, aigc_attention_scratch_floats(1, H, T, T));
    aigc_attention_forward(full, NULL, NULL, scratch, q, k, v, NULL, 1, H, T, T, D, TRUE, scale);
    g_autoptr(AigcKVCache) cache = aigc_kv_cache_new(1, H, T, D);
    float *qt = g_new(float, H *D), *kt = g_new(float, H *D), *vt = g_new(float, H *D);
    float *out = g_new(float, H *D);
    for (int t = 0; t < T; t++) {
        for (int h = 0; h < H; h++) {
            gsize src = ((gsize)h * T + t) * D;
            memcpy(qt + h * D, q + src, D * 4);
            memcpy(kt + h * D, k + src, D * 4);
            memcpy(vt + h * D, v + src, D * 4);
        }
        g_assert_true(aigc_attention_decode(cache, 0, qt, kt, vt, scale, out));
        for (int h = 0; h < H; h++)
            aigc_test_assert_close(out + h * D, full + ((gsize)h * T + t) * D, D, 1e-4, 1e-6,
                                   "long decode vs full causal forward");
    }
    g_free(q);
    g_free(k);
    g_free(v);
    g_free(full);
    g_free(scratch);
    g_free(qt);
    g_free(kt);
    g_free(vt);
    g_free(out);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/nn/attention/forward", test_forward);
    g_test_add_func("/engine/nn/attention/forward/by-hand", test_forward_values_by_hand);
    g_test_add_func("/engine/nn/attention/gradcheck/causal", test_gradcheck_causal);
    g_test_add_func("/engine/nn/attention/gradcheck/causal-offset", test_gradcheck_causal_offset);
    g_test_add_func("/engine/nn/attention/gradcheck/cross-padded", test_gradcheck_cross);
    g_test_add_func("/engine/nn/attention/gradcheck/blocks", test_gradcheck_blocks);
    g_test_add_func("/engine/nn/attention/gradcheck/strided", test_gradcheck_strided);
    g_test_add_func("/engine/nn/attention/gradcheck/partial", test_gradcheck_partial);
    g_test_add_func("/engine/nn/attention/backward/lse-and-probs", test_backward_paths);
    g_test_add_func("/engine/nn/attention/threads", test_thread_independence);
    g_test_add_func("/engine/nn/attention/inference-saves-nothing", test_inference_saves_nothing);
    g_test_add_func("/engine/nn/attention/golden", test_golden);
    g_test_add_func("/engine/nn/attention/kv-cache/decode", test_kv_cache_decode);
    g_test_add_func("/engine/nn/attention/kv-cache/decode-long", test_kv_cache_decode_long);
    return g_test_run();
}
