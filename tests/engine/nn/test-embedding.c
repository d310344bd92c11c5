/* SPDX-License-Identifier: MIT
 *
 * Embedding: gathered rows and output shapes, the scatter-add backward with repeated ids
 * (finite differences and an exact naive reference, for 1 and 2 threads), ids kept from the
 * forward, out-of-range ids, and the PyTorch golden: embedding → linear head → cross entropy
 * with ignored targets (tests/reference/embedding_ce.py).
 */
#include "aigc-test-support.h"
#include "nn/aigc-embedding.h"
#include "nn/aigc-linear.h"
#include "nn/aigc-loss.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

static void test_forward(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, 101);
    AigcTensor *w = aigc_tensor_new2(ctx, 11, 7);
    aigc_rng_fill_uniform(&rng, w->data, w->n_elements, -1, 1);
    const gint32 ids[15] = {3, 0, 10, 3, 5, 7, 7, 7, 1, 2, 9, 0, 4, 6, 8};
    AigcTensor *y = aigc_embedding(ctx, w, ids, 2, (gint64[]){3, 5});
    g_assert_cmpint(y->n_dims, ==, 3);
    g_assert_cmpint(y->shape[0], ==, 3);
    g_assert_cmpint(y->shape[1], ==, 5);
    g_assert_cmpint(y->shape[2], ==, 7);
    for (int t = 0; t < 15; t++)
        g_assert_cmpmem(y->data + t * 7, 7 * 4, w->data + ids[t] * 7, 7 * 4);

    /* A single id with no shape gives one row [C]; four id dims give five. */
    AigcTensor *one = aigc_embedding(ctx, w, (gint32[]){9}, 0, NULL);
    g_assert_cmpint(one->n_dims, ==, 1);
    g_assert_cmpmem(one->data, 7 * 4, w->data + 9 * 7, 7 * 4);
    AigcTensor *four = aigc_embedding(ctx, w, ids, 4, (gint64[]){1, 3, 1, 5});
    g_assert_cmpint(four->n_dims, ==, 5);
    g_assert_cmpmem(four->data, 15 * 7 * 4, y->data, 15 * 7 * 4);

    /* A strided table is read through its view. */
    AigcTensor *wt = aigc_transpose(ctx, aigc_tensor_new2(ctx, 7, 11), 0, 1);
    memset(wt->data, 0, 77 * 4);
    wt->data[2 * 11 + 4] = 5.0f; /* logical wt[4, 2] */
    AigcTensor *yt = aigc_embedding(ctx, wt, (gint32[]){4}, 1, (gint64[]){1});
    g_assert_cmpfloat(yt->data[2], ==, 5.0f);
    g_assert_cmpfloat(yt->data[3], ==, 0.0f);
}

static const gint32 grad_ids[15] = {3, 0, 10, 3, 5, 7, 7, 7, 1, 2, 9, 0, 4, 6, 8};

static AigcTensor *embedding_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer user_data)
{
    return aigc_embedding(ctx, in[0], grad_ids, 2, (gint64[]){3, 5});
}

static void test_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 102);
    AigcTensor *w = aigc_test_leaf(&rng, 2, (gint64[]){11, 7}, -1, 1, TRUE);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(embedding_fn, 1, &w, NULL, &p);
    aigc_tensor_free_leaf(w);
}

/* The op keeps its own copy of the ids: changing the caller's array before the backward does
 * not move the gradient. */
static void test_ids_copied(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *w = aigc_tensor_new_leaf(2, (gint64[]){5, 3}, TRUE);
    gint32 ids[2] = {1, 4};
    AigcTensor *y = aigc_embedding(ctx, w, ids, 1, (gint64[]){2});
    ids[0] = 0;
    ids[1] = 0;
    float dout[6] = {1, 2, 3, 4, 5, 6};
    aigc_ctx_backward_from(ctx, y, dout);
    float want[15] = {0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 4, 5, 6};
    g_assert_cmpmem(w->grad, sizeof want, want, sizeof want);
    aigc_tensor_free_leaf(w);
}

static void test_out_of_range(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *w = aigc_tensor_zeros(ctx, 2, (gint64[]){5, 3});
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*ids_in_range*");
    g_assert_null(aigc_embedding(ctx, w, (gint32[]){0, 5}, 1, (gint64[]){2}));
    g_test_assert_expected_messages();
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*ids_in_range*");
    g_assert_null(aigc_embedding(ctx, w, (gint32[]){-1}, 1, (gint64[]){1}));
    g_test_assert_expected_messages();
}

/* Many tokens over a small table: every row is hit many times; exact against a naive loop in
 * the same order, and the same with 1 and 2 threads. */
static void test_backward_threads(void)
{
    enum { V = 97, C = 515, N = 3001 };
    AigcRng rng;
    aigc_rng_init(&rng, 103);
    gint32 *ids = g_new(gint32, N);
    for (int t = 0; t < N; t++)
        ids[t] = (gint32)aigc_rng_below(&rng, V);
    float *dout = g_new(float, (gsize)N *C);
    aigc_rng_fill_uniform(&rng, dout, (gint64)N * C, -1, 1);
    float *want = g_new0(float, V *C);
    for (int t = 0; t < N; t++)
        for (int c = 0; c < C; c++)
            want[ids[t] * C + c] += dout[t * C + c];
    for (int threads = 1; threads <= 2; threads++) {
        aigc_threads_init(threads);
        g_autoptr(AigcCtx) ctx = aigc_ctx_new();
        AigcTensor *w = aigc_tensor_new_leaf(2, (gint64[]){V, C}, TRUE);
        AigcTensor *y = aigc_embedding(ctx, w, ids, 1, (gint64[]){N});
        aigc_ctx_backward_from(ctx, y, dout);
        g_assert_cmpmem(w->grad, V * C * 4, want, V * C * 4);
        aigc_tensor_free_leaf(w);
    }
    g_free(want);
    g_free(dout);
    g_free(ids);
}

/* ---- golden: embedding → linear → cross entropy (PyTorch) ---- */

static gint32 *golden_ints(AigcSafetensors *st, const char *name, gint64 *n)
{
    const AigcSafetensorsTensor *t = aigc_safetensors_find(st, name);
    g_assert_nonnull(t);
    g_assert_cmpint(t->dtype, ==, AIGC_DTYPE_I32);
    *n = t->n_elements;
    gint32 *v = g_new(gint32, MAX(t->n_elements, 1));
    memcpy(v, t->data, t->n_bytes);
    return v;
}

static void assert_golden(AigcSafetensors *st, const char *name, const float *got, gint64 n)
{
    gint64 n_want;
    const float *want = aigc_test_golden_data(st, name, &n_want);
    g_assert_cmpint(n, ==, n_want);
    aigc_test_assert_close(got, want, n, 1e-4, 1e-5, name);
}

static void test_golden(void)
{
    g_autoptr(AigcSafetensors) st = aigc_test_open_golden("embedding_ce");
    gint64 n_ids, n_targets;
    g_autofree gint32 *ids = golden_ints(st, "ids", &n_ids);
    g_autofree gint32 *targets = golden_ints(st, "targets", &n_targets);
    g_assert_cmpint(n_ids, ==, 15);
    g_assert_cmpint(n_targets, ==, 15);
    AigcTensor *emb = aigc_test_golden_leaf(st, "embedding.weight", TRUE); /* [11, 7] */
    AigcTensor *hw = aigc_test_golden_leaf(st, "head.weight", TRUE);       /* [13, 7] */
    AigcTensor *hb = aigc_test_golden_leaf(st, "head.bias", TRUE);         /* [13] */

    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *x = aigc_embedding(ctx, emb, ids, 2, (gint64[]){3, 5}); /* [3, 5, 7] */
    AigcTensor *logits = aigc_linear(ctx, x, hw, hb);                   /* [3, 5, 13] */
    logits = aigc_reshape(ctx, logits, 2, (gint64[]){15, 13});
    AigcTensor *loss = aigc_cross_entropy(ctx, logits, targets, -100);
    assert_golden(st, "logits", logits->data, logits->n_elements);
    assert_golden(st, "loss", loss->data, 1);

    aigc_ctx_backward(ctx, loss);
    assert_golden(st, "grad.embedding.weight", emb->grad, emb->n_elements);
    assert_golden(st, "grad.head.weight", hw->grad, hw->n_elements);
    assert_golden(st, "grad.head.bias", hb->grad, hb->n_elements);
    aigc_tensor_free_leaf(emb);
    aigc_tensor_free_leaf(hw);
    aigc_tensor_free_leaf(hb);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/nn/embedding/forward", test_forward);
    g_test_add_func("/engine/nn/embedding/gradcheck", test_gradcheck);
    g_test_add_func("/engine/nn/embedding/ids-copied", test_ids_copied);
    g_test_add_func("/engine/nn/embedding/out-of-range", test_out_of_range);
    g_test_add_func("/engine/nn/embedding/backward-threads", test_backward_threads);
    g_test_add_func("/engine/nn/embedding/golden", test_golden);
    return g_test_run();
}
