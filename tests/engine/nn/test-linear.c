/* SPDX-License-Identifier: MIT
 *
 * Linear and matmul: forward values against naive triple loops (every transpose combination,
 * batched, shared operands, strided views, the sgemv path), finite-difference gradient checks
 * on odd shapes, and that contiguous inputs are used without copies.
 */
#include "aigc-test-support.h"
#include "nn/aigc-linear.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

/* ---- naive references (double accumulation) ---- */

/* out [N, OC] = inp [N, C] · weight [OC, C]ᵀ + bias */
static void naive_linear(float *out, const float *inp, const float *weight, const float *bias,
                         int N, int C, int OC)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = bias ? bias[o] : 0.0;
            for (int c = 0; c < C; c++)
                s += (double)inp[n * C + c] * weight[o * C + c];
            out[n * OC + o] = (float)s;
        }
}

/* Element (i, j) of the logical matrix of tensor t in batch `b`: t [..., r, c] or its transpose;
 * `shared` tensors have no batch dims. */
static float logical_at(const AigcTensor *t, gboolean transpose, gint64 b, gint64 i, gint64 j,
                        const gint64 *batch_shape, int n_batch_dims)
{
    gint64 idx[AIGC_MAX_DIMS];
    int nb = t->n_dims - 2;
    for (int d = n_batch_dims - 1; d >= 0; d--) {
        if (nb > 0)
            idx[d] = b % batch_shape[d];
        b /= batch_shape[d];
    }
    idx[nb] = transpose ? j : i;
    idx[nb + 1] = transpose ? i : j;
    return aigc_tensor_get(t, idx);
}

/* Checks out == op(a) · op(b) for any layout of a and b. */
static void assert_matmul_values(const AigcTensor *out, const AigcTensor *a, const AigcTensor *b,
                                 gboolean ta, gboolean tb)
{
    const int nd = out->n_dims, n_batch_dims = nd - 2;
    const gint64 M = out->shape[nd - 2], N = out->shape[nd - 1];
    const gint64 K = ta ? a->shape[a->n_dims - 2] : a->shape[a->n_dims - 1];
    gint64 n_batch = 1;
    for (int d = 0; d < n_batch_dims; d++)
        n_batch *= out->shape[d];
    g_assert_true(aigc_tensor_is_contiguous(out));
    for (gint64 bi = 0; bi < n_batch; bi++)
        for (gint64 i = 0; i < M; i++)
            for (gint64 j = 0; j < N; j++) {
                double s = 0.0;
                for (gint64 k = 0; k < K; k++)
                    s += (double)logical_at(a, ta, bi, i, k, out->shape, n_batch_dims) *
                         logical_at(b, tb, bi, k, j, out->shape, n_batch_dims);
                float got = out->data[(bi * M + i) * N + j];
                g_assert_cmpfloat_with_epsilon(got, s, 1e-5 + 1e-5 * fabs(s));
            }
}

/* ---- linear ---- */

static void test_linear_forward(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    const int C = 7, OC = 5;
    /* N = 1 takes the sgemv path, N = 6 (x [2, 3, C]) the sgemm one. */
    for (int with_bias = 0; with_bias <= 1; with_bias++)
        for (int batched = 0; batched <= 1; batched++) {
            AigcTensor *x = batched ? aigc_tensor_new3(ctx, 2, 3, C) : aigc_tensor_new1(ctx, C);
            AigcTensor *w = aigc_tensor_new2(ctx, OC, C);
            AigcTensor *bias = with_bias ? aigc_tensor_new1(ctx, OC) : NULL;
            aigc_rng_fill_uniform(&rng, x->data, x->n_elements, -1, 1);
            aigc_rng_fill_uniform(&rng, w->data, w->n_elements, -1, 1);
            if (bias)
                aigc_rng_fill_uniform(&rng, bias->data, OC, -1, 1);
            AigcTensor *y = aigc_linear(ctx, x, w, bias);
            g_assert_cmpint(y->n_dims, ==, x->n_dims);
            g_assert_cmpint(y->shape[y->n_dims - 1], ==, OC);
            const int N = (int)(x->n_elements / C);
            float want[6 * 5];
            naive_linear(want, x->data, w->data, bias ? bias->data : NULL, N, C, OC);
            aigc_test_assert_close(y->data, want, (gint64)N * OC, 1e-5, 1e-6, "linear");
        }
}

/* The kernels alone, the N = 1 paths (sgemv, sger) included: the backward adds into the
 * gradients it is given and equals the naive products. */
static void test_linear_kernels(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 12);
    enum { C = 5, OC = 3 };
    float w[OC * C], x[7 * C], dy[7 * OC];
    aigc_rng_fill_uniform(&rng, w, OC * C, -1, 1);
    aigc_rng_fill_uniform(&rng, x, 7 * C, -1, 1);
    aigc_rng_fill_uniform(&rng, dy, 7 * OC, -1, 1);
    for (int N = 1; N <= 7; N += 6) {
        float dx[7 * C], dw[OC * C], db[OC];
        for (int i = 0; i < 7 * C; i++)
            dx[i] = 0.5f;
        for (int i = 0; i < OC * C; i++)
            dw[i] = -0.25f;
        for (int i = 0; i < OC; i++)
            db[i] = 2.0f;
        aigc_linear_backward(dx, dw, db, dy, x, w, N, C, OC);
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++) {
                double s = 0.5;
                for (int o = 0; o < OC; o++)
                    s += (double)dy[n * OC + o] * w[o * C + c];
                g_assert_cmpfloat_with_epsilon(dx[n * C + c], s, 1e-5);
            }
        for (int o = 0; o < OC; o++) {
            double sb = 2.0;
            for (int n = 0; n < N; n++)
                sb += dy[n * OC + o];
            g_assert_cmpfloat_with_epsilon(db[o], sb, 1e-5);
            for (int c = 0; c < C; c++) {
                double s = -0.25;
                for (int n = 0; n < N; n++)
                    s += (double)dy[n * OC + o] * x[n * C + c];
                g_assert_cmpfloat_with_epsilon(dw[o * C + c], s, 1e-5);
            }
        }
    }
}

static AigcTensor *linear_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return aigc_linear(ctx, in[0], in[1], in[2]);
}

static AigcTensor *linear_nobias_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return aigc_linear(ctx, in[0], in[1], NULL);
}

/* x given as [C, ..., N]-ordered storage and transposed back: a non-contiguous input. */
static AigcTensor *linear_view_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return aigc_linear(ctx, aigc_transpose(ctx, in[0], 0, 1), in[1], in[2]);
}

static void test_linear_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 13);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    const gint64 shapes[3][3] = {{1, 1, 5}, {1, 3, 5}, {2, 3, 5}}; /* N = 1, 3, 6 */
    for (int k = 0; k < 3; k++) {
        AigcTensor *in[3] = {
            aigc_test_leaf(&rng, 3, shapes[k], -1, 1, TRUE),
            aigc_test_leaf(&rng, 2, (gint64[]){7, 5}, -1, 1, TRUE),
            aigc_test_leaf(&rng, 1, (gint64[]){7}, -1, 1, TRUE),
        };
        aigc_assert_gradcheck(linear_fn, 3, in, NULL, &p);
        aigc_assert_gradcheck(linear_nobias_fn, 2, in, NULL, &p);
        for (int i = 0; i < 3; i++)
            aigc_tensor_free_leaf(in[i]);
    }
    AigcTensor *in[3] = {
        aigc_test_leaf(&rng, 2, (gint64[]){5, 3}, -1, 1, TRUE), /* viewed as [3, 5] */
        aigc_test_leaf(&rng, 2, (gint64[]){7, 5}, -1, 1, TRUE),
        aigc_test_leaf(&rng, 1, (gint64[]){7}, -1, 1, FALSE), /* a frozen bias */
    };
    aigc_assert_gradcheck(linear_view_fn, 3, in, NULL, &p);
    for (int i = 0; i < 3; i++)
        aigc_tensor_free_leaf(in[i]);
}

/* Contiguous inputs are used in place: one node on the tape, the output the only new tensor. */
static void test_linear_no_copy(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *w = aigc_tensor_new_leaf(2, (gint64[]){5, 3}, TRUE);
    AigcTensor *b = aigc_tensor_new_leaf(1, (gint64[]){5}, TRUE);
    AigcTensor *x = aigc_tensor_new_leaf(3, (gint64[]){2, 4, 3}, TRUE);
    aigc_linear(ctx, x, w, b);
    g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, 1);
    aigc_ctx_reset(ctx);
    /* A transposed weight is copied once (a second node). */
    AigcTensor *wt = aigc_tensor_new_leaf(2, (gint64[]){3, 5}, TRUE);
    aigc_linear(ctx, x, aigc_transpose(ctx, wt, 0, 1), b);
    g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, 3); /* transpose, contiguous, linear */
    aigc_tensor_free_leaf(w);
    aigc_tensor_free_leaf(b);
    aigc_tensor_free_leaf(x);
    aigc_tensor_free_leaf(wt);
}

/* ---- matmul ---- */

/* A leaf holding `logical` shape of a matrix stack, stored as given (transposed when ta). */
static AigcTensor *matmul_leaf(AigcRng *rng, int n_batch, const gint64 *batch, gint64 r, gint64 c,
                               gboolean transpose, gboolean requires_grad)
{
    gint64 shape[AIGC_MAX_DIMS];
    for (int d = 0; d < n_batch; d++)
        shape[d] = batch[d];
    shape[n_batch] = transpose ? c : r;
    shape[n_batch + 1] = transpose ? r : c;
    return aigc_test_leaf(rng, n_batch + 2, shape, -1, 1, requires_grad);
}

typedef struct {
    gboolean ta, tb;
} MatmulCase;

static AigcTensor *matmul_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const MatmulCase *mc = data;
    return aigc_matmul(ctx, in[0], in[1], mc->ta, mc->tb);
}

/* Every transpose combination, with equal batch dims, a shared b and a shared a. */
static void test_matmul_values_and_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 21);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    const gint64 batch[2] = {2, 3};
    const int M = 3, K = 5, N = 7;
    for (int layout = 0; layout < 4; layout++) {
        MatmulCase mc = {layout & 1, (layout >> 1) & 1};
        /* batched · batched, batched · shared, shared · batched, plain 2-D */
        const int nba[4] = {2, 2, 0, 0}, nbb[4] = {2, 0, 2, 0};
        for (int k = 0; k < 4; k++) {
            AigcTensor *in[2] = {
                matmul_leaf(&rng, nba[k], batch, M, K, mc.ta, TRUE),
                matmul_leaf(&rng, nbb[k], batch, K, N, mc.tb, TRUE),
            };
            aigc_ctx_reset(ctx);
            AigcTensor *y = aigc_matmul(ctx, in[0], in[1], mc.ta, mc.tb);
            g_assert_cmpint(y->n_dims, ==, MAX(nba[k], nbb[k]) + 2);
            g_assert_cmpint(y->shape[y->n_dims - 2], ==, M);
            g_assert_cmpint(y->shape[y->n_dims - 1], ==, N);
            assert_matmul_values(y, in[0], in[1], mc.ta, mc.tb);
            aigc_assert_gradcheck(matmul_fn, 2, in, &mc, &p);
            aigc_tensor_free_leaf(in[0]);
            aigc_tensor_free_leaf(in[1]);
        }
    }
}

/* x · xᵀ: both gradient contributions add into the same buffer. */
static AigcTensor *matmul_self_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return aigc_matmul(ctx, in[0], in[0], FALSE, TRUE);
}

static void test_matmul_self(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 24);
    AigcTensor *x = aigc_test_leaf(&rng, 3, (gint64[]){3, 5, 7}, -1, 1, TRUE);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(matmul_self_fn, 1, &x, NULL, &p);
    aigc_tensor_free_leaf(x);
}

/* The contiguous kernels with several batches and a shared b (the single-sgemm path). */
static void test_matmul_kernels(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 22);
    enum { B = 3, M = 5, K = 7, N = 3 };
    float a[B * M * K], b[B * K * N], out[B * M * N], dout[B * M * N];
    aigc_rng_fill_uniform(&rng, a, B * M * K, -1, 1);
    aigc_rng_fill_uniform(&rng, b, B * K * N, -1, 1);
    aigc_rng_fill_uniform(&rng, dout, B * M * N, -1, 1);
    for (int shared = 0; shared <= 1; shared++) {
        aigc_matmul_forward(out, a, b, B, M, K, N, FALSE, FALSE, shared);
        float da[B * M * K] = {0}, db[B * K * N] = {0};
        aigc_matmul_backward(da, db, dout, a, b, B, M, K, N, FALSE, FALSE, shared);
        for (int bi = 0; bi < B; bi++) {
            const float *pa = a + bi * M * K, *pb = shared ? b : b + bi * K * N;
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0.0;
                    for (int k = 0; k < K; k++)
                        s += (double)pa[i * K + k] * pb[k * N + j];
                    g_assert_cmpfloat_with_epsilon(out[(bi * M + i) * N + j], s, 1e-5);
                }
            for (int i = 0; i < M; i++)
                for (int k = 0; k < K; k++) {
                    double s = 0.0;
                    for (int j = 0; j < N; j++)
                        s += (double)dout[(bi * M + i) * N + j] * pb[k * N + j];
                    g_assert_cmpfloat_with_epsilon(da[(bi * M + i) * K + k], s, 1e-5);
                }
        }
        for (int k = 0; k < K; k++)
            for (int j = 0; j < N; j++) {
                if (shared) {
                    double s = 0.0;
                    for (int bi = 0; bi < B; bi++)
                        for (int i = 0; i < M; i++)
                            s += (double)a[(bi * M + i) * K + k] * dout[(bi * M + i) * N + j];
                    g_assert_cmpfloat_with_epsilon(db[k * N + j], s, 1e-5);
                } else {
                    for (int bi = 0; bi < B; bi++) {
                        double s = 0.0;
                        for (int i = 0; i < M; i++)
                            s += (double)a[(bi * M + i) * K + k] * dout[(bi * M + i) * N + j];
                        g_assert_cmpfloat_with_epsilon(db[(bi * K + k) * N + j], s, 1e-5);
                    }
                }
            }
    }
}

/* Attention-style views: q and k are heads permuted out of [B, T, H, D] (unit stride in the
 * last dim, rows H·D apart), v is transposed (unit stride in the second-to-last dim); one is
 * a slice with a gap between rows. All go to BLAS in place: no contiguous copy is recorded. */
static AigcTensor *matmul_views_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const int perm[4] = {0, 2, 1, 3};
    AigcTensor *q = aigc_permute(ctx, in[0], perm);                           /* [2, 3, 5, 7] */
    AigcTensor *k = aigc_permute(ctx, aigc_slice(ctx, in[1], 3, 1, 8), perm); /* [2, 3, 5, 7] */
    AigcTensor *att = aigc_matmul(ctx, q, k, FALSE, TRUE);                    /* [2, 3, 5, 5] */
    AigcTensor *vt = aigc_transpose(ctx, in[2], 2, 3);                        /* [2, 3, 5, 7] */
    return aigc_matmul(ctx, att, vt, FALSE, FALSE);                           /* [2, 3, 5, 7] */
}

/* Heads permuted out of [B, T, H, D] times a shared [D, 4] matrix: the batches do not stack
 * into one tall matrix, so this takes the per-batch loop. */
static AigcTensor *matmul_shared_view_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    AigcTensor *q = aigc_permute(ctx, in[0], (int[]){0, 2, 1, 3}); /* [2, 3, 5, 7] */
    return aigc_matmul(ctx, q, in[1], FALSE, FALSE);               /* [2, 3, 5, 4] */
}

static void test_matmul_views(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 23);
    AigcTensor *in[3] = {
        aigc_test_leaf(&rng, 4, (gint64[]){2, 5, 3, 7}, -1, 1, TRUE),
        aigc_test_leaf(&rng, 4, (gint64[]){2, 5, 3, 9}, -1, 1, TRUE),
        aigc_test_leaf(&rng, 4, (gint64[]){2, 3, 7, 5}, -1, 1, TRUE),
    };
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    const int perm[4] = {0, 2, 1, 3};
    AigcTensor *q = aigc_permute(ctx, in[0], perm);
    AigcTensor *k = aigc_permute(ctx, aigc_slice(ctx, in[1], 3, 1, 8), perm);
    AigcTensor *att = aigc_matmul(ctx, q, k, FALSE, TRUE);
    assert_matmul_values(att, q, k, FALSE, TRUE);
    AigcTensor *vt = aigc_transpose(ctx, in[2], 2, 3);
    AigcTensor *y = aigc_matmul(ctx, att, vt, FALSE, FALSE);
    assert_matmul_values(y, att, vt, FALSE, FALSE);
    /* permute, slice, permute, matmul, transpose, matmul: no "contiguous" node. */
    g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, 6);

    /* A view with no unit stride in its last two dims is copied, and still correct. */
    aigc_ctx_reset(ctx);
    AigcTensor *odd = aigc_permute(ctx, in[0], (int[]){3, 1, 0, 2}); /* [7, 5, 2, 3] */
    g_assert_cmpint(odd->stride[2], !=, 1);
    g_assert_cmpint(odd->stride[3], !=, 1);
    AigcTensor *b = aigc_tensor_new_leaf(2, (gint64[]){3, 4}, FALSE);
    aigc_rng_fill_uniform(&rng, b->data, 12, -1, 1);
    AigcTensor *z = aigc_matmul(ctx, odd, b, FALSE, FALSE);
    assert_matmul_values(z, odd, b, FALSE, FALSE);
    aigc_tensor_free_leaf(b);

    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(matmul_views_fn, 3, in, NULL, &p);

    AigcTensor *w = aigc_test_leaf(&rng, 2, (gint64[]){7, 4}, -1, 1, TRUE);
    aigc_ctx_reset(ctx);
    AigcTensor *heads = aigc_permute(ctx, in[0], perm);
    assert_matmul_values(aigc_matmul(ctx, heads, w, FALSE, FALSE), heads, w, FALSE, FALSE);
    AigcTensor *sin[2] = {in[0], w};
    aigc_assert_gradcheck(matmul_shared_view_fn, 2, sin, NULL, &p);
    aigc_tensor_free_leaf(w);
    for (int i = 0; i < 3; i++)
        aigc_tensor_free_leaf(in[i]);
}

/* Empty dims give empty or zero outputs, never a BLAS error. */
static void test_matmul_empty(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *a = aigc_tensor_new_leaf(3, (gint64[]){2, 3, 0}, TRUE);
    AigcTensor *b = aigc_tensor_new_leaf(2, (gint64[]){0, 4}, TRUE);
    AigcTensor *y = aigc_matmul(ctx, a, b, FALSE, FALSE);
    g_assert_cmpint(y->n_elements, ==, 24);
    for (int i = 0; i < 24; i++)
        g_assert_cmpfloat(y->data[i], ==, 0.0f);
    float dy[24];
    for (int i = 0; i < 24; i++)
        dy[i] = 1.0f;
    aigc_ctx_backward_from(ctx, y, dy);
    aigc_tensor_free_leaf(a);
    aigc_tensor_free_leaf(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/nn/linear/forward", test_linear_forward);
    g_test_add_func("/engine/nn/linear/kernels", test_linear_kernels);
    g_test_add_func("/engine/nn/linear/gradcheck", test_linear_gradcheck);
    g_test_add_func("/engine/nn/linear/no-copy", test_linear_no_copy);
    g_test_add_func("/engine/nn/matmul/values-gradcheck", test_matmul_values_and_gradcheck);
    g_test_add_func("/engine/nn/matmul/self", test_matmul_self);
    g_test_add_func("/engine/nn/matmul/kernels", test_matmul_kernels);
    g_test_add_func("/engine/nn/matmul/views", test_matmul_views);
    g_test_add_func("/engine/nn/matmul/empty", test_matmul_empty);
    return g_test_run();
}
