/* SPDX-License-Identifier: MIT
 *
 * Elementwise ops and reductions: broadcast shapes, forward values of add/sub/mul/div against a
 * naive multi-index loop for every broadcast pattern (same shape, row vector, column, both
 * stretched, rank change, scalar, strided views), finite-difference gradient checks of every
 * op on odd shapes, the accuracy of the vectorised exp/log against libm, reductions over every
 * axis, and results that do not change with the thread count.
 */
#include "aigc-test-support.h"
#include "nn/aigc-elementwise.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

typedef struct {
    int a_n_dims, b_n_dims;
    gint64 a_shape[AIGC_MAX_DIMS], b_shape[AIGC_MAX_DIMS];
    const char *what;
} BroadcastCase;

static const BroadcastCase cases[] = {
    {3, 3, {3, 5, 7}, {3, 5, 7}, "same shape"},
    {2, 1, {5, 7}, {7}, "row vector"},
    {1, 2, {7}, {5, 7}, "row vector on the left"},
    {2, 2, {5, 7}, {5, 1}, "column"},
    {2, 2, {5, 1}, {1, 7}, "outer"},
    {4, 3, {2, 3, 5, 7}, {3, 1, 7}, "rank change with a middle stretch"},
    {3, 1, {3, 5, 7}, {1}, "scalar"},
    {1, 3, {1}, {3, 5, 7}, "scalar on the left"},
    {3, 3, {3, 1, 7}, {1, 5, 1}, "alternating"},
    {5, 2, {2, 1, 3, 1, 5}, {3, 1}, "five dims"},
};

/* Offset in a contiguous tensor of `shape` (n_dims, right-aligned to out) of out index idx. */
static gint64 naive_offset(const gint64 *idx, int out_n_dims, const gint64 *shape, int n_dims)
{
    gint64 off = 0;
    for (int d = 0; d < n_dims; d++) {
        int od = d + out_n_dims - n_dims;
        off = off * shape[d] + (shape[d] == 1 ? 0 : idx[od]);
    }
    return off;
}

static float apply(AigcBinaryOp op, float x, float y)
{
    switch (op) {
    case AIGC_BINARY_ADD:
        return x + y;
    case AIGC_BINARY_SUB:
        return x - y;
    case AIGC_BINARY_MUL:
        return x * y;
    case AIGC_BINARY_DIV:
        return x / y;
    }
    return NAN;
}

static void test_broadcast_shapes(void)
{
    AigcBroadcast bc;
    g_assert_true(aigc_broadcast_init(&bc, 2, (gint64[]){5, 1}, 3, (gint64[]){3, 1, 7}));
    g_assert_cmpint(bc.n_dims, ==, 3);
    g_assert_cmpint(bc.shape[0], ==, 3);
    g_assert_cmpint(bc.shape[1], ==, 5);
    g_assert_cmpint(bc.shape[2], ==, 7);
    g_assert_cmpint(bc.n_out, ==, 105);
    g_assert_cmpint(bc.a_stride[0], ==, 0);
    g_assert_cmpint(bc.a_stride[1], ==, 1);
    g_assert_cmpint(bc.a_stride[2], ==, 0);
    g_assert_cmpint(bc.b_stride[0], ==, 7);
    g_assert_cmpint(bc.b_stride[1], ==, 0);
    g_assert_cmpint(bc.b_stride[2], ==, 1);
    /* mul / div reduce a row vector or a column in one fused pass, anything else through
     * scratch; add / sub never need it. */
    g_assert_true(aigc_broadcast_init(&bc, 3, (gint64[]){3, 5, 7}, 1, (gint64[]){7}));
    g_assert_false(aigc_binary_backward_needs_scratch(&bc, AIGC_BINARY_MUL, TRUE, TRUE));
    g_assert_false(aigc_binary_backward_needs_scratch(&bc, AIGC_BINARY_DIV, TRUE, TRUE));
    g_assert_true(aigc_broadcast_init(&bc, 3, (gint64[]){3, 5, 7}, 3, (gint64[]){3, 5, 1}));
    g_assert_false(aigc_binary_backward_needs_scratch(&bc, AIGC_BINARY_MUL, TRUE, TRUE));
    g_assert_true(aigc_broadcast_init(&bc, 3, (gint64[]){3, 5, 7}, 3, (gint64[]){1, 5, 1}));
    g_assert_true(aigc_binary_backward_needs_scratch(&bc, AIGC_BINARY_MUL, FALSE, TRUE));
    g_assert_false(aigc_binary_backward_needs_scratch(&bc, AIGC_BINARY_MUL, TRUE, FALSE));
    g_assert_false(aigc_binary_backward_needs_scratch(&bc, AIGC_BINARY_ADD, TRUE, TRUE));
    g_assert_true(aigc_broadcast_init(&bc, 2, (gint64[]){5, 1}, 2, (gint64[]){1, 7}));
    g_assert_true(aigc_binary_backward_needs_scratch(&bc, AIGC_BINARY_MUL, TRUE, FALSE));

    g_assert_false(aigc_broadcast_init(&bc, 2, (gint64[]){5, 3}, 1, (gint64[]){5}));
    g_assert_false(aigc_broadcast_init(&bc, 2, (gint64[]){2, 3}, 2, (gint64[]){3, 3}));

    /* The op reports a mismatch as a programmer error and returns NULL. */
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *a = aigc_tensor_zeros(ctx, 2, (gint64[]){5, 3});
    AigcTensor *b = aigc_tensor_zeros(ctx, 1, (gint64[]){5});
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*ok*");
    g_assert_null(aigc_add(ctx, a, b));
    g_test_assert_expected_messages();
}

static void check_forward_case(const BroadcastCase *bc_case, AigcBinaryOp op)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, 3 + op);
    AigcTensor *a = aigc_tensor_new(ctx, bc_case->a_n_dims, bc_case->a_shape);
    AigcTensor *b = aigc_tensor_new(ctx, bc_case->b_n_dims, bc_case->b_shape);
    aigc_rng_fill_uniform(&rng, a->data, a->n_elements, -2, 2);
    aigc_rng_fill_uniform(&rng, b->data, b->n_elements, 0.5f, 2);
    AigcTensor *y = aigc_binary(ctx, a, b, op);
    g_assert_nonnull(y);
    int n = MAX(a->n_dims, b->n_dims);
    g_assert_cmpint(y->n_dims, ==, n);
    gint64 idx[AIGC_MAX_DIMS] = {0};
    for (gint64 i = 0; i < y->n_elements; i++) {
        gint64 r = i;
        for (int d = n - 1; d >= 0; d--) {
            idx[d] = r % y->shape[d];
            r /= y->shape[d];
        }
        float av = a->data[naive_offset(idx, n, a->shape, a->n_dims)];
        float bv = b->data[naive_offset(idx, n, b->shape, b->n_dims)];
        if (y->data[i] != apply(op, av, bv))
            g_error("%s, op %d: element %" G_GINT64_FORMAT " is %g, expected %g", bc_case->what, op,
                    i, y->data[i], apply(op, av, bv));
    }
}

static void test_binary_forward(void)
{
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++)
        for (int op = AIGC_BINARY_ADD; op <= AIGC_BINARY_DIV; op++)
            check_forward_case(&cases[c], op);
}

/* A transposed (strided) operand is read through its view. */
static void test_binary_strided(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, 5);
    AigcTensor *a = aigc_tensor_new2(ctx, 7, 5);
    AigcTensor *b = aigc_tensor_new2(ctx, 5, 7);
    aigc_rng_fill_uniform(&rng, a->data, a->n_elements, -1, 1);
    aigc_rng_fill_uniform(&rng, b->data, b->n_elements, -1, 1);
    AigcTensor *y = aigc_mul(ctx, aigc_transpose(ctx, a, 0, 1), b);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 7; j++)
            g_assert_cmpfloat(y->data[i * 7 + j], ==, a->data[j * 5 + i] * b->data[i * 7 + j]);
}

typedef struct {
    AigcBinaryOp op;
    gboolean same_input; /* f(x, x) */
} BinaryFnData;

static AigcTensor *binary_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer user_data)
{
    BinaryFnData *d = user_data;
    return aigc_binary(ctx, in[0], d->same_input ? in[0] : in[1], d->op);
}

static void test_binary_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        for (int op = AIGC_BINARY_ADD; op <= AIGC_BINARY_DIV; op++) {
            AigcTensor *in[2] = {
                aigc_test_leaf(&rng, cases[c].a_n_dims, cases[c].a_shape, -1, 1, TRUE),
                aigc_test_leaf(&rng, cases[c].b_n_dims, cases[c].b_shape, 0.5f, 1.5f, TRUE),
            };
            BinaryFnData d = {op, FALSE};
            if (!aigc_gradcheck(binary_fn, 2, in, &d, &p))
                g_error("gradcheck failed: %s, op %d", cases[c].what, op);
            aigc_tensor_free_leaf(in[0]);
            aigc_tensor_free_leaf(in[1]);
        }
    }
    /* The same tensor on both sides: both gradients land in one buffer. */
    for (int op = AIGC_BINARY_ADD; op <= AIGC_BINARY_DIV; op++) {
        AigcTensor *x = aigc_test_leaf(&rng, 2, (gint64[]){3, 5}, 0.5f, 1.5f, TRUE);
        BinaryFnData d = {op, TRUE};
        aigc_assert_gradcheck(binary_fn, 1, &x, &d, &p);
        aigc_tensor_free_leaf(x);
    }
}

/* Only one side requiring a gradient, with a stretched operand (the scratch path). */
static void test_binary_one_sided(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 12);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    for (int op = AIGC_BINARY_MUL; op <= AIGC_BINARY_DIV; op++) {
        for (int side = 0; side < 2; side++) {
            AigcTensor *in[2] = {
                aigc_test_leaf(&rng, 2, (gint64[]){1, 7}, 0.5f, 1.5f, side == 0),
                aigc_test_leaf(&rng, 2, (gint64[]){5, 1}, 0.5f, 1.5f, side == 1),
            };
            BinaryFnData d = {op, FALSE};
            aigc_assert_gradcheck(binary_fn, 2, in, &d, &p);
            aigc_tensor_free_leaf(in[0]);
            aigc_tensor_free_leaf(in[1]);
        }
    }
}

/* ---- unary maths ---- */

typedef enum { U_SCALE, U_ADD_SCALAR, U_NEG, U_EXP, U_LOG, U_SQRT, U_SQUARE, N_UNARY } UnaryKind;

static const char *const unary_names[] = {"scale", "add_scalar", "neg",   "exp",
                                          "log",   "sqrt",       "square"};

static AigcTensor *unary_apply(AigcCtx *ctx, UnaryKind kind, AigcTensor *x)
{
    switch (kind) {
    case U_SCALE:
        return aigc_scale(ctx, x, -2.5f);
    case U_ADD_SCALAR:
        return aigc_add_scalar(ctx, x, 0.75f);
    case U_NEG:
        return aigc_neg(ctx, x);
    case U_EXP:
        return aigc_exp(ctx, x);
    case U_LOG:
        return aigc_ln(ctx, x);
    case U_SQRT:
        return aigc_sqrt(ctx, x);
    case U_SQUARE:
        return aigc_square(ctx, x);
    case N_UNARY:
        break;
    }
    return NULL;
}

static double unary_ref(UnaryKind kind, double x)
{
    switch (kind) {
    case U_SCALE:
        return -2.5 * x;
    case U_ADD_SCALAR:
        return x + 0.75;
    case U_NEG:
        return -x;
    case U_EXP:
        return exp(x);
    case U_LOG:
        return log(x);
    case U_SQRT:
        return sqrt(x);
    case U_SQUARE:
        return x * x;
    case N_UNARY:
        break;
    }
    return NAN;
}

static AigcTensor *unary_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer user_data)
{
    return unary_apply(ctx, GPOINTER_TO_INT(user_data), in[0]);
}

static void test_unary(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 21);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    for (int k = 0; k < N_UNARY; k++) {
        /* log and sqrt on positive inputs */
        float lo = (k == U_LOG || k == U_SQRT) ? 0.2f : -2.0f;
        AigcTensor *x = aigc_test_leaf(&rng, 3, (gint64[]){3, 5, 7}, lo, 2.0f, TRUE);
        g_autoptr(AigcCtx) ctx = aigc_ctx_new();
        AigcTensor *y = unary_apply(ctx, k, aigc_transpose(ctx, x, 0, 2));
        g_assert_cmpint(y->shape[0], ==, 7);
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 5; j++)
                for (int l = 0; l < 3; l++) {
                    double want = unary_ref(k, x->data[l * 35 + j * 7 + i]);
                    double got = y->data[i * 15 + j * 3 + l];
                    if (fabs(got - want) > 1e-6 * fabs(want) + 1e-7)
                        g_error("%s: %g, expected %g", unary_names[k], got, want);
                }
        if (!aigc_gradcheck(unary_fn, 1, &x, GINT_TO_POINTER(k), &p))
            g_error("gradcheck failed: %s", unary_names[k]);
        aigc_tensor_free_leaf(x);
    }
}

static double ulps(float got, double want)
{
    if (want == 0)
        return got == 0 ? 0 : INFINITY;
    double ulp = ldexp(1.0, ilogb(want) - 23);
    return fabs(got - want) / ulp;
}

static void test_vexp_vlog_accuracy(void)
{
    double worst_exp = 0, worst_log = 0, worst_log1p = 0;
    for (int i = 0; i <= 200000; i++) {
        float x = -87.0f + (88.0f + 87.0f) * (float)i / 200000.0f;
        worst_exp = MAX(worst_exp, ulps(aigc_vexpf(x), exp((double)x)));
        float y = ldexpf(1.0f + (float)(i % 1000) / 1000.0f, i / 1000 - 110);
        worst_log = MAX(worst_log, fabs(aigc_vlogf(y) - log((double)y)) /
                                       MAX(fabs(log((double)y)), 1.0) / FLT_EPSILON);
        float z = ldexpf(1.0f + (float)(i % 1000) / 1000.0f, -(i / 1000) / 8);
        worst_log1p = MAX(worst_log1p, ulps(aigc_vlog1pf(z), log1p((double)z)));
    }
    g_test_message("worst: exp %.2f ulp, log %.2f eps, log1p %.2f ulp", worst_exp, worst_log,
                   worst_log1p);
    g_assert_cmpfloat(worst_exp, <, 3.0);
    g_assert_cmpfloat(worst_log, <, 2.0);
    g_assert_cmpfloat(worst_log1p, <, 4.0);
    /* Edges: under/overflow, zero, negatives, subnormals, NaN. */
    g_assert_cmpfloat(aigc_vexpf(-200.0f), ==, 0.0f);
    g_assert_true(isinf(aigc_vexpf(100.0f)));
    g_assert_cmpfloat(aigc_vexpf(0.0f), ==, 1.0f);
    g_assert_true(isinf(aigc_vlogf(0.0f)) && aigc_vlogf(0.0f) < 0);
    g_assert_true(isnan(aigc_vlogf(-1.0f)));
    g_assert_true(isnan(aigc_vlogf(NAN)));
    g_assert_true(isinf(aigc_vlogf(INFINITY)));
    g_assert_cmpfloat(fabs(aigc_vlogf(1e-40f) - log(1e-40)), <, 1e-5 * fabs(log(1e-40)));
    g_assert_cmpfloat(aigc_vlogf(1.0f), ==, 0.0f);
    g_assert_cmpfloat(aigc_vlog1pf(1e-10f), ==, 1e-10f);
}

/* ---- reductions ---- */

typedef struct {
    int dim;
    gboolean keepdim, mean, all;
} ReduceFnData;

static AigcTensor *reduce_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer user_data)
{
    ReduceFnData *d = user_data;
    if (d->all)
        return d->mean ? aigc_mean_all(ctx, in[0]) : aigc_sum_all(ctx, in[0]);
    return d->mean ? aigc_mean(ctx, in[0], d->dim, d->keepdim)
                   : aigc_sum(ctx, in[0], d->dim, d->keepdim);
}

static void test_reduce(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 31);
    AigcTensor *x = aigc_test_leaf(&rng, 3, (gint64[]){3, 5, 7}, -1, 1, TRUE);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    for (int dim = -1; dim < 3; dim++) {
        for (int variant = 0; variant < 4; variant++) {
            ReduceFnData d = {dim, variant & 1, (variant & 2) != 0, FALSE};
            g_autoptr(AigcCtx) ctx = aigc_ctx_new();
            AigcTensor *y = reduce_fn(ctx, &x, &d);
            int rd = dim < 0 ? dim + 3 : dim;
            g_assert_cmpint(y->n_dims, ==, d.keepdim ? 3 : 2);
            if (d.keepdim)
                g_assert_cmpint(y->shape[rd], ==, 1);
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 5; j++)
                    for (int k = 0; k < 7; k++) {
                        int idx[3] = {i, j, k};
                        if (idx[rd] != 0)
                            continue;
                        double s = 0;
                        for (int a = 0; a < x->shape[rd]; a++) {
                            idx[rd] = a;
                            s += x->data[idx[0] * 35 + idx[1] * 7 + idx[2]];
                        }
                        if (d.mean)
                            s /= (double)x->shape[rd];
                        idx[rd] = 0;
                        gint64 o = rd == 0 ? j * 7 + k : rd == 1 ? i * 7 + k : i * 5 + j;
                        g_assert_cmpfloat(fabs(y->data[o] - s), <, 1e-5);
                    }
            aigc_assert_gradcheck(reduce_fn, 1, &x, &d, &p);
        }
    }
    for (int mean = 0; mean < 2; mean++) {
        ReduceFnData d = {0, FALSE, mean, TRUE};
        g_autoptr(AigcCtx) ctx = aigc_ctx_new();
        AigcTensor *y = reduce_fn(ctx, &x, &d);
        g_assert_cmpint(y->n_dims, ==, 1);
        g_assert_cmpint(y->n_elements, ==, 1);
        double s = 0;
        for (int i = 0; i < 105; i++)
            s += x->data[i];
        g_assert_cmpfloat(fabs(y->data[0] - (mean ? s / 105 : s)), <, 1e-5);
        aigc_assert_gradcheck(reduce_fn, 1, &x, &d, &p);
    }
    /* A 1-D input reduced without keepdim keeps one element of shape [1]. */
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *v = aigc_tensor_from_data(ctx, 1, (gint64[]){3}, (float[]){1, 2, 4});
    AigcTensor *s = aigc_sum(ctx, v, 0, FALSE);
    g_assert_cmpint(s->n_dims, ==, 1);
    g_assert_cmpfloat(s->data[0], ==, 7);
    aigc_tensor_free_leaf(x);
}

/* ---- large sizes: parallel paths, accuracy of long sums, thread-count independence ---- */

typedef struct {
    float *y, *da, *db, *sum_rows, *sum_cols, total;
} BigResult;

static void run_big(BigResult *r, const AigcTensor *a_src, const AigcTensor *b_src,
                    AigcTensor *x_src)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *a = aigc_tensor_new_leaf(2, a_src->shape, TRUE);
    AigcTensor *b = aigc_tensor_new_leaf(1, b_src->shape, TRUE);
    memcpy(a->data, a_src->data, (gsize)a->n_elements * 4);
    memcpy(b->data, b_src->data, (gsize)b->n_elements * 4);
    AigcTensor *y = aigc_mul(ctx, a, b);
    aigc_ctx_backward_from(ctx, y, x_src->data);
    r->y = g_memdup2(y->data, (gsize)y->n_elements * 4);
    r->da = g_memdup2(a->grad, (gsize)a->n_elements * 4);
    r->db = g_memdup2(b->grad, (gsize)b->n_elements * 4);
    aigc_ctx_reset(ctx);
    AigcTensor *x = aigc_tensor_wrap(ctx, 2, x_src->shape, x_src->data);
    AigcTensor *sr = aigc_sum(ctx, x, 1, FALSE);
    AigcTensor *sc = aigc_sum(ctx, x, 0, FALSE);
    r->sum_rows = g_memdup2(sr->data, (gsize)sr->n_elements * 4);
    r->sum_cols = g_memdup2(sc->data, (gsize)sc->n_elements * 4);
    r->total = aigc_sum_all(ctx, x)->data[0];
    aigc_tensor_free_leaf(a);
    aigc_tensor_free_leaf(b);
}

static void big_result_clear(BigResult *r)
{
    g_free(r->y);
    g_free(r->da);
    g_free(r->db);
    g_free(r->sum_rows);
    g_free(r->sum_cols);
}

static void test_big_and_threads(void)
{
    enum { N = 1001, C = 1537 };
    AigcRng rng;
    aigc_rng_init(&rng, 41);
    AigcTensor *a = aigc_test_leaf(&rng, 2, (gint64[]){N, C}, -1, 1, FALSE);
    AigcTensor *b = aigc_test_leaf(&rng, 1, (gint64[]){C}, -1, 1, FALSE);
    AigcTensor *x = aigc_test_leaf(&rng, 2, (gint64[]){N, C}, -1, 1, FALSE);
    BigResult r1, r2;
    aigc_threads_init(1);
    run_big(&r1, a, b, x);
    aigc_threads_init(2);
    run_big(&r2, a, b, x);
    g_assert_cmpmem(r1.y, N * C * 4, r2.y, N * C * 4);
    g_assert_cmpmem(r1.da, N * C * 4, r2.da, N * C * 4);
    g_assert_cmpmem(r1.db, C * 4, r2.db, C * 4);
    g_assert_cmpmem(r1.sum_rows, N * 4, r2.sum_rows, N * 4);
    g_assert_cmpmem(r1.sum_cols, C * 4, r2.sum_cols, C * 4);
    g_assert_cmpfloat(r1.total, ==, r2.total);

    /* Against double references. */
    double total = 0;
    for (int c = 0; c < C; c++) {
        double db = 0, col = 0;
        for (int n = 0; n < N; n++) {
            db += (double)x->data[n * C + c] * a->data[n * C + c];
            col += x->data[n * C + c];
        }
        g_assert_cmpfloat(fabs(r2.db[c] - db), <, 1e-4 * (1 + fabs(db)));
        g_assert_cmpfloat(fabs(r2.sum_cols[c] - col), <, 1e-4 * (1 + fabs(col)));
        total += col;
    }
    for (int n = 0; n < N; n++) {
        double row = 0;
        for (int c = 0; c < C; c++)
            row += x->data[n * C + c];
        g_assert_cmpfloat(fabs(r2.sum_rows[n] - row), <, 1e-4 * (1 + fabs(row)));
    }
    g_assert_cmpfloat(fabs(r2.total - total), <, 1e-6 * N * C);
    for (gint64 i = 0; i < (gint64)N * C; i++)
        g_assert_cmpfloat(r2.da[i], ==, x->data[i] * b->data[i % C]);
    big_result_clear(&r1);
    big_result_clear(&r2);
    aigc_tensor_free_leaf(a);
    aigc_tensor_free_leaf(b);
    aigc_tensor_free_leaf(x);
}

/* No-grad mode records nothing and keeps nothing but the outputs. */
static void test_no_grad(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *x = aigc_tensor_new_leaf(2, (gint64[]){3, 5}, TRUE);
    aigc_tensor_fill(x, 1.0f);
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    AigcTensor *y = aigc_mul(ctx, aigc_exp(ctx, x), aigc_sum(ctx, x, 0, TRUE));
    y = aigc_mean_all(ctx, aigc_add_scalar(ctx, y, 1.0f));
    g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, 0);
    g_assert_false(y->requires_grad);
    g_assert_cmpfloat(fabs(y->data[0] - (3.0 * exp(1.0) + 1.0)), <, 1e-5);
    aigc_tensor_free_leaf(x);
}

/* The same checks on the baseline (non-AVX2) kernels. */
static void test_baseline(void)
{
    gboolean had = aigc_simd_get_avx2();
    aigc_simd_set_avx2(FALSE);
    test_unary();
    test_vexp_vlog_accuracy();
    aigc_simd_set_avx2(had);
}

/* The 16-lane row sum and dot product: every length around the lane count, against double. */
static void test_row_sum_dot(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 21);
    float a[100], b[100];
    for (int i = 0; i < 100; i++) {
        a[i] = aigc_rng_uniform(&rng) * 2 - 1;
        b[i] = aigc_rng_uniform(&rng) * 2 - 1;
    }
    for (int n = 0; n <= 100; n++) {
        double s = 0, d = 0;
        for (int i = 0; i < n; i++) {
            s += a[i];
            d += (double)a[i] * b[i];
        }
        g_assert_cmpfloat(fabs(aigc_row_sum(a, n) - s), <, 1e-5);
        g_assert_cmpfloat(fabs(aigc_row_dot(a, b, n) - d), <, 1e-5);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/nn/elementwise/broadcast-shapes", test_broadcast_shapes);
    g_test_add_func("/engine/nn/elementwise/row-sum-dot", test_row_sum_dot);
    g_test_add_func("/engine/nn/elementwise/binary-forward", test_binary_forward);
    g_test_add_func("/engine/nn/elementwise/binary-strided", test_binary_strided);
    g_test_add_func("/engine/nn/elementwise/binary-gradcheck", test_binary_gradcheck);
    g_test_add_func("/engine/nn/elementwise/binary-one-sided", test_binary_one_sided);
    g_test_add_func("/engine/nn/elementwise/unary", test_unary);
    g_test_add_func("/engine/nn/elementwise/vexp-vlog", test_vexp_vlog_accuracy);
    g_test_add_func("/engine/nn/elementwise/reduce", test_reduce);
    g_test_add_func("/engine/nn/elementwise/big-and-threads", test_big_and_threads);
    g_test_add_func("/engine/nn/elementwise/no-grad", test_no_grad);
    g_test_add_func("/engine/nn/elementwise/baseline-kernels", test_baseline);
    return g_test_run();
}
