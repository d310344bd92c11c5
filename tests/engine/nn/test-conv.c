/* SPDX-License-Identifier: MIT
 *
 * Convolutions: conv1d (strided, dilated, causal, 1×1), conv2d, conv_transpose1d/2d. Each is
 * checked against a naive direct loop (forward and all three gradients, in double) on
 * configurations that reach every code path — batched chunks with a short last chunk, the
 * column budget, the pointwise fast path —, by finite differences on odd shapes, and against
 * PyTorch goldens (tests/reference/conv2d.py, conv_transpose2d.py, conv1d_causal.py).
 */
#include "aigc-test-support.h"
#include "nn/aigc-conv.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

/* ---- naive references (double accumulation) ----
 * One generic 2-D convolution with per-axis stride, leading padding and dilation; 1-D is H = 1.
 * out [N, OC, OH, OW], x [N, C, H, W], w [OC, C, KH, KW]. */
typedef struct {
    int N, C, H, W, OC, KH, KW, OH, OW;
    int sh, sw, ph, pw, dh, dw;
} Geo;

static void naive_conv(const Geo *g, double *out, const float *x, const float *w, const float *b)
{
    for (int n = 0; n < g->N; n++)
        for (int oc = 0; oc < g->OC; oc++)
            for (int oh = 0; oh < g->OH; oh++)
                for (int ow = 0; ow < g->OW; ow++) {
                    double s = b ? b[oc] : 0.0;
                    for (int c = 0; c < g->C; c++)
                        for (int ki = 0; ki < g->KH; ki++)
                            for (int kj = 0; kj < g->KW; kj++) {
                                int ih = oh * g->sh - g->ph + ki * g->dh;
                                int iw = ow * g->sw - g->pw + kj * g->dw;
                                if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W)
                                    continue;
                                s += (double)x[((n * g->C + c) * g->H + ih) * g->W + iw] *
                                     w[((oc * g->C + c) * g->KH + ki) * g->KW + kj];
                            }
                    out[((n * g->OC + oc) * g->OH + oh) * g->OW + ow] = s;
                }
}

/* Gradients of naive_conv for upstream dy: each term of the forward sum, differentiated. */
static void naive_conv_backward(const Geo *g, double *dx, double *dw, double *db, const float *dy,
                                const float *x, const float *w)
{
    memset(dx, 0, sizeof(double) * g->N * g->C * g->H * g->W);
    memset(dw, 0, sizeof(double) * g->OC * g->C * g->KH * g->KW);
    memset(db, 0, sizeof(double) * g->OC);
    for (int n = 0; n < g->N; n++)
        for (int oc = 0; oc < g->OC; oc++)
            for (int oh = 0; oh < g->OH; oh++)
                for (int ow = 0; ow < g->OW; ow++) {
                    double d = dy[((n * g->OC + oc) * g->OH + oh) * g->OW + ow];
                    db[oc] += d;
                    for (int c = 0; c < g->C; c++)
                        for (int ki = 0; ki < g->KH; ki++)
                            for (int kj = 0; kj < g->KW; kj++) {
                                int ih = oh * g->sh - g->ph + ki * g->dh;
                                int iw = ow * g->sw - g->pw + kj * g->dw;
                                if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W)
                                    continue;
                                int xi = ((n * g->C + c) * g->H + ih) * g->W + iw;
                                int wi = ((oc * g->C + c) * g->KH + ki) * g->KW + kj;
                                dx[xi] += d * w[wi];
                                dw[wi] += d * x[xi];
                            }
                }
}

/* The transposed convolution by its own definition (a scatter): input pixel (ih, iw) adds
 * x·w[c, oc, ki, kj] at output (ih·s − p + ki, iw·s − p + kj). x [N, C, H, W],
 * w [C, OC, KH, KW], out [N, OC, OH, OW]. */
static void naive_conv_transpose(const Geo *g, double *out, const float *x, const float *w,
                                 const float *b)
{
    for (int n = 0; n < g->N; n++)
        for (int oc = 0; oc < g->OC; oc++)
            for (int i = 0; i < g->OH * g->OW; i++)
                out[(n * g->OC + oc) * g->OH * g->OW + i] = b ? b[oc] : 0.0;
    for (int n = 0; n < g->N; n++)
        for (int c = 0; c < g->C; c++)
            for (int ih = 0; ih < g->H; ih++)
                for (int iw = 0; iw < g->W; iw++) {
                    double v = x[((n * g->C + c) * g->H + ih) * g->W + iw];
                    for (int oc = 0; oc < g->OC; oc++)
                        for (int ki = 0; ki < g->KH; ki++)
                            for (int kj = 0; kj < g->KW; kj++) {
                                int oh = ih * g->sh - g->ph + ki, ow = iw * g->sw - g->pw + kj;
                                if (oh < 0 || oh >= g->OH || ow < 0 || ow >= g->OW)
                                    continue;
                                out[((n * g->OC + oc) * g->OH + oh) * g->OW + ow] +=
                                    v * w[((c * g->OC + oc) * g->KH + ki) * g->KW + kj];
                            }
                }
}

static void naive_conv_transpose_backward(const Geo *g, double *dx, double *dw, double *db,
                                          const float *dy, const float *x, const float *w)
{
    memset(dx, 0, sizeof(double) * g->N * g->C * g->H * g->W);
    memset(dw, 0, sizeof(double) * g->C * g->OC * g->KH * g->KW);
    memset(db, 0, sizeof(double) * g->OC);
    for (int n = 0; n < g->N; n++)
        for (int oc = 0; oc < g->OC; oc++)
            for (int i = 0; i < g->OH * g->OW; i++)
                db[oc] += dy[(n * g->OC + oc) * g->OH * g->OW + i];
    for (int n = 0; n < g->N; n++)
        for (int c = 0; c < g->C; c++)
            for (int ih = 0; ih < g->H; ih++)
                for (int iw = 0; iw < g->W; iw++) {
                    int xi = ((n * g->C + c) * g->H + ih) * g->W + iw;
                    for (int oc = 0; oc < g->OC; oc++)
                        for (int ki = 0; ki < g->KH; ki++)
                            for (int kj = 0; kj < g->KW; kj++) {
                                int oh = ih * g->sh - g->ph + ki, ow = iw * g->sw - g->pw + kj;
                                if (oh < 0 || oh >= g->OH || ow < 0 || ow >= g->OW)
                                    continue;
                                double d = dy[((n * g->OC + oc) * g->OH + oh) * g->OW + ow];
                                int wi = ((c * g->OC + oc) * g->KH + ki) * g->KW + kj;
                                dx[xi] += d * w[wi];
                                dw[wi] += d * x[xi];
                            }
                }
}

/* float results against a double reference: rtol 1e-4 and an absolute floor scaled by the
 * largest reference value (float sums of hundreds of terms carry ~1e-6 of it). */
static void assert_close_ref(const float *got, const double *want, gint64 n, const char *what)
{
    double scale = 0;
    for (gint64 i = 0; i < n; i++)
        scale = MAX(scale, fabs(want[i]));
    double atol = 1e-5 * (1.0 + scale);
    for (gint64 i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        if (!(err <= atol + 1e-4 * fabs(want[i])))
            g_error("%s: element %" G_GINT64_FORMAT " is %.8g, expected %.8g", what, i, got[i],
                    want[i]);
    }
}

/* ---- one configuration, run through the differentiable op ---- */

typedef enum { OP_CONV1D, OP_CONV2D, OP_CONVT1D, OP_CONVT2D } OpKind;

typedef struct {
    OpKind op;
    int N, C, H, W; /* input: H = 1 for 1-D (W is the length) */
    int OC, KH, KW; /* KH = 1 for 1-D */
    int stride, pad, dilation, output_padding;
    gboolean causal, bias;
} Case;

static AigcTensor *run_op(AigcCtx *ctx, const Case *k, AigcTensor *x, AigcTensor *w, AigcTensor *b)
{
    switch (k->op) {
    case OP_CONV1D:
        return aigc_conv1d(ctx, x, w, b, k->stride, k->pad, k->dilation, k->causal);
    case OP_CONV2D:
        return aigc_conv2d(ctx, x, w, b, k->stride, k->pad);
    case OP_CONVT1D:
        return aigc_conv_transpose1d(ctx, x, w, b, k->stride, k->pad, k->output_padding);
    case OP_CONVT2D:
        return aigc_conv_transpose2d(ctx, x, w, b, k->stride, k->pad, k->output_padding);
    }
    g_assert_not_reached();
}

static gboolean is_1d(const Case *k)
{
    return k->op == OP_CONV1D || k->op == OP_CONVT1D;
}

static gboolean is_transposed(const Case *k)
{
    return k->op == OP_CONVT1D || k->op == OP_CONVT2D;
}

/* Leaves x, w, b (b NULL without bias) for a case; weights scaled to keep outputs O(1). */
static void make_leaves(AigcRng *rng, const Case *k, AigcTensor **x, AigcTensor **w, AigcTensor **b)
{
    gint64 xs[4] = {k->N, k->C, k->H, k->W};
    gint64 ws[4] = {is_transposed(k) ? k->C : k->OC, is_transposed(k) ? k->OC : k->C, k->KH, k->KW};
    float a = 1.0f / sqrtf((float)(k->C * k->KH * k->KW));
    if (is_1d(k)) {
        xs[2] = k->W;
        ws[2] = k->KW;
    }
    int nd = is_1d(k) ? 3 : 4;
    *x = aigc_test_leaf(rng, nd, xs, -1, 1, TRUE);
    *w = aigc_test_leaf(rng, nd, ws, -a, a, TRUE);
    *b = k->bias ? aigc_test_leaf(rng, 1, (gint64[]){k->OC}, -1, 1, TRUE) : NULL;
}

static Geo case_geo(const Case *k)
{
    Geo g = {.N = k->N, .C = k->C, .H = k->H, .W = k->W, .OC = k->OC, .KH = k->KH, .KW = k->KW};
    g.sh = is_1d(k) ? 1 : k->stride;
    g.sw = k->stride;
    g.ph = is_1d(k) ? 0 : k->pad;
    g.pw = k->pad;
    g.dh = 1;
    g.dw = k->dilation;
    if (is_transposed(k)) {
        g.OH = is_1d(k) ? 1
                        : aigc_conv_transpose_out_size(k->H, k->KH, k->stride, k->pad,
                                                       k->output_padding, 1);
        g.OW = aigc_conv_transpose_out_size(k->W, k->KW, k->stride, k->pad, k->output_padding, 1);
    } else {
        int pl = k->causal ? (k->KW - 1) * k->dilation : k->pad, pr = k->causal ? 0 : k->pad;
        g.pw = pl;
        g.OH = is_1d(k) ? 1 : aigc_conv_out_size(k->H, k->KH, k->stride, k->pad, k->pad, 1);
        g.OW = aigc_conv_out_size(k->W, k->KW, k->stride, pl, pr, k->dilation);
    }
    return g;
}

/* The raw backward kernel of a case, into gradient buffers that already hold values. */
static void run_backward_kernel(const Case *k, const Geo *g, float *dx, float *dw, float *db,
                                const float *dy, const float *x, const float *w)
{
    gint64 n;
    float *scratch;
    switch (k->op) {
    case OP_CONV1D:
        n = aigc_conv1d_scratch_size(k->N, k->C, k->W, k->OC, k->KW, k->stride, g->pw,
                                     k->causal ? 0 : k->pad, k->dilation);
        scratch = g_new(float, MAX(n, 1));
        aigc_conv1d_backward(dx, dw, db, scratch, dy, x, w, k->N, k->C, k->W, k->OC, k->KW,
                             k->stride, g->pw, k->causal ? 0 : k->pad, k->dilation);
        break;
    case OP_CONV2D:
        n = aigc_conv2d_scratch_size(k->N, k->C, k->H, k->W, k->OC, k->KH, k->KW, k->stride,
                                     k->pad);
        scratch = g_new(float, MAX(n, 1));
        aigc_conv2d_backward(dx, dw, db, scratch, dy, x, w, k->N, k->C, k->H, k->W, k->OC, k->KH,
                             k->KW, k->stride, k->pad);
        break;
    case OP_CONVT1D:
        n = aigc_conv_transpose1d_scratch_size(k->N, k->C, k->W, k->OC, k->KW, k->stride, k->pad,
                                               k->output_padding);
        scratch = g_new(float, MAX(n, 1));
        aigc_conv_transpose1d_backward(dx, dw, db, scratch, dy, x, w, k->N, k->C, k->W, k->OC,
                                       k->KW, k->stride, k->pad, k->output_padding);
        break;
    case OP_CONVT2D:
        n = aigc_conv_transpose2d_scratch_size(k->N, k->C, k->H, k->W, k->OC, k->KH, k->KW,
                                               k->stride, k->pad, k->output_padding);
        scratch = g_new(float, MAX(n, 1));
        aigc_conv_transpose2d_backward(dx, dw, db, scratch, dy, x, w, k->N, k->C, k->H, k->W, k->OC,
                                       k->KH, k->KW, k->stride, k->pad, k->output_padding);
        break;
    default:
        g_assert_not_reached();
    }
    g_free(scratch);
}

static void add_one(double *v, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        v[i] += 1.0;
}

/* Forward and backward through the op against the naive reference; then the raw backward
 * kernel once more into buffers holding ones, which it must add to. */
static void check_against_naive(const Case *k, guint64 seed)
{
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    AigcTensor *x, *w, *b;
    make_leaves(&rng, k, &x, &w, &b);
    Geo g = case_geo(k);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *y = run_op(ctx, k, x, w, b);
    g_assert_nonnull(y);
    gint64 n_out = (gint64)g.N * g.OC * g.OH * g.OW;
    g_assert_cmpint(y->n_elements, ==, n_out);
    g_assert_cmpint(y->shape[y->n_dims - 1], ==, g.OW);

    double *want = g_new(double, n_out);
    double *dx = g_new(double, x->n_elements), *dw = g_new(double, w->n_elements);
    double db[64];
    g_assert_cmpint(k->OC, <=, 64);
    float *dy = g_new(float, n_out);
    aigc_rng_fill_uniform(&rng, dy, n_out, -1, 1);
    const float *bd = b ? b->data : NULL;
    if (is_transposed(k)) {
        naive_conv_transpose(&g, want, x->data, w->data, bd);
        naive_conv_transpose_backward(&g, dx, dw, db, dy, x->data, w->data);
    } else {
        naive_conv(&g, want, x->data, w->data, bd);
        naive_conv_backward(&g, dx, dw, db, dy, x->data, w->data);
    }
    assert_close_ref(y->data, want, n_out, "forward");
    aigc_ctx_backward_from(ctx, y, dy);
    assert_close_ref(x->grad, dx, x->n_elements, "dx");
    assert_close_ref(w->grad, dw, w->n_elements, "dweight");
    if (b)
        assert_close_ref(b->grad, db, k->OC, "dbias");

    float *gx = g_new(float, x->n_elements), *gw = g_new(float, w->n_elements), gb[64];
    for (gint64 i = 0; i < x->n_elements; i++)
        gx[i] = 1.0f;
    for (gint64 i = 0; i < w->n_elements; i++)
        gw[i] = 1.0f;
    for (int i = 0; i < k->OC; i++)
        gb[i] = 1.0f;
    run_backward_kernel(k, &g, gx, gw, gb, dy, x->data, w->data);
    add_one(dx, x->n_elements);
    add_one(dw, w->n_elements);
    add_one(db, k->OC);
    assert_close_ref(gx, dx, x->n_elements, "dx accumulated");
    assert_close_ref(gw, dw, w->n_elements, "dweight accumulated");
    assert_close_ref(gb, db, k->OC, "dbias accumulated");
    g_free(gx);
    g_free(gw);

    g_free(want);
    g_free(dx);
    g_free(dw);
    g_free(dy);
    aigc_tensor_free_leaf(x);
    aigc_tensor_free_leaf(w);
    if (b)
        aigc_tensor_free_leaf(b);
}

static AigcTensor *case_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const Case *k = data;
    return run_op(ctx, k, in[0], in[1], k->bias ? in[2] : NULL);
}

static void check_gradcheck(const Case *k, guint64 seed)
{
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    AigcTensor *in[3];
    make_leaves(&rng, k, &in[0], &in[1], &in[2]);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(case_fn, k->bias ? 3 : 2, in, (gpointer)k, &p);
    for (int i = 0; i < (k->bias ? 3 : 2); i++)
        aigc_tensor_free_leaf(in[i]);
}

/* ---- conv1d ---- */

/* clang-format off */
static const Case conv1d_cases[] = {
    /* op          N  C  H  L     OC KH KW s  p  d  op causal bias */
    {OP_CONV1D, 2, 3, 1, 9, 4, 1, 3, 1, 0, 1, 0, FALSE, TRUE},
    {OP_CONV1D, 2, 3, 1, 11, 5, 1, 3, 2, 1, 1, 0, FALSE, TRUE},
    {OP_CONV1D, 3, 2, 1, 13, 3, 1, 3, 1, 0, 2, 0, TRUE, TRUE},
    {OP_CONV1D, 3, 3, 1, 10, 2, 1, 4, 3, 2, 2, 0, FALSE, FALSE},
    {OP_CONV1D, 2, 3, 1, 7, 5, 1, 1, 1, 0, 1, 0, FALSE, TRUE},    /* 1×1, batched */
    {OP_CONV1D, 2, 5, 1, 3001, 3, 1, 1, 1, 0, 1, 0, FALSE, TRUE}, /* 1×1, direct sgemm */
    {OP_CONV1D, 2, 4, 1, 2500, 3, 1, 2, 1, 0, 16, 0, TRUE, TRUE}, /* long causal, nb = 1 */
    {OP_CONV1D, 5, 3, 1, 1199, 3, 1, 3, 2, 3, 1, 0, FALSE, TRUE}, /* chunks of 3 + 2 */
    {OP_CONV1D, 1, 64, 1, 20000, 3, 1, 7, 1, 3, 1, 0, FALSE, TRUE}, /* tiles along L */
};
/* clang-format on */

static void test_conv1d_naive(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(conv1d_cases); i++)
        check_against_naive(&conv1d_cases[i], 10 + i);
}

static void test_conv1d_gradcheck(void)
{
    for (guint i = 0; i < 5; i++)
        check_gradcheck(&conv1d_cases[i], 20 + i);
}

/* out[t] of a causal conv must not move when inputs after t change. */
static void test_conv1d_causal(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    enum { L = 17, T = 8 };
    AigcTensor *x = aigc_test_leaf(&rng, 3, (gint64[]){1, 2, L}, -1, 1, FALSE);
    AigcTensor *w = aigc_test_leaf(&rng, 3, (gint64[]){3, 2, 3}, -1, 1, FALSE);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *y0 = aigc_conv1d(ctx, x, w, NULL, 1, 0, 4, TRUE);
    g_assert_cmpint(y0->shape[2], ==, L);
    for (int c = 0; c < 2; c++)
        for (int t = T + 1; t < L; t++)
            x->data[c * L + t] += 10.0f;
    AigcTensor *y1 = aigc_conv1d(ctx, x, w, NULL, 1, 0, 4, TRUE);
    gboolean changed_later = FALSE;
    for (int oc = 0; oc < 3; oc++) {
        for (int t = 0; t <= T; t++)
            g_assert_cmpfloat(y1->data[oc * L + t], ==, y0->data[oc * L + t]);
        changed_later |= y1->data[oc * L + T + 1] != y0->data[oc * L + T + 1];
    }
    g_assert_true(changed_later);
    aigc_tensor_free_leaf(x);
    aigc_tensor_free_leaf(w);
}

/* ---- conv2d ---- */

/* clang-format off */
static const Case conv2d_cases[] = {
    /* op          N   C    H   W   OC KH KW s  p  d  op causal bias */
    {OP_CONV2D, 2, 3, 7, 7, 4, 3, 3, 1, 1, 1, 0, FALSE, TRUE},
    {OP_CONV2D, 2, 3, 7, 5, 4, 3, 2, 2, 0, 1, 0, FALSE, TRUE},
    {OP_CONV2D, 1, 2, 6, 6, 3, 3, 3, 3, 2, 1, 0, FALSE, FALSE},
    {OP_CONV2D, 3, 4, 5, 5, 5, 1, 1, 1, 0, 1, 0, FALSE, TRUE},    /* 1×1, batched */
    {OP_CONV2D, 2, 3, 9, 9, 2, 4, 4, 2, 1, 1, 0, FALSE, TRUE},    /* DCGAN's k4 s2 p1 */
    {OP_CONV2D, 7, 3, 20, 20, 2, 3, 3, 1, 1, 1, 0, FALSE, TRUE},  /* chunks of 5 + 2 */
    {OP_CONV2D, 2, 2, 50, 50, 3, 1, 1, 1, 0, 1, 0, FALSE, TRUE},  /* 1×1, direct sgemm */
    {OP_CONV2D, 10, 128, 8, 8, 2, 3, 3, 1, 1, 1, 0, FALSE, TRUE}, /* column budget: 7 + 3 */
    {OP_CONV2D, 1, 256, 50, 50, 2, 3, 3, 1, 1, 1, 0, FALSE, TRUE}, /* tiles cutting rows */
    {OP_CONV2D, 1, 2, 100, 100, 2, 3, 3, 2, 1, 1, 0, FALSE, TRUE}, /* planes too big to pad */
    {OP_CONV2D, 1, 2, 95, 97, 3, 3, 3, 1, 1, 1, 0, FALSE, TRUE},
};
/* clang-format on */

static void test_conv2d_naive(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(conv2d_cases); i++)
        check_against_naive(&conv2d_cases[i], 30 + i);
}

static void test_conv2d_gradcheck(void)
{
    for (guint i = 0; i < 5; i++)
        check_gradcheck(&conv2d_cases[i], 40 + i);
}

/* ---- transposed convolutions ---- */

/* clang-format off */
static const Case convt1d_cases[] = {
    /* op          N  C  H  L   OC KH KW  s  p  d  op causal bias */
    {OP_CONVT1D, 2, 3, 1, 7, 4, 1, 4, 2, 1, 1, 0, FALSE, TRUE},
    {OP_CONVT1D, 2, 3, 1, 5, 2, 1, 3, 3, 1, 1, 2, FALSE, TRUE},
    {OP_CONVT1D, 3, 2, 1, 9, 3, 1, 1, 1, 0, 1, 0, FALSE, FALSE}, /* 1×1 */
    {OP_CONVT1D, 1, 4, 1, 20, 3, 1, 16, 8, 4, 1, 0, FALSE, TRUE}, /* MelGAN's ×8 */
    {OP_CONVT1D, 3, 3, 1, 900, 2, 1, 3, 1, 1, 1, 0, FALSE, TRUE}, /* chunks of 2 + 1 */
    {OP_CONVT1D, 1, 3, 1, 5000, 64, 1, 16, 1, 0, 1, 0, FALSE, TRUE}, /* tiles along L */
};
/* clang-format on */

/* clang-format off */
static const Case convt2d_cases[] = {
    /* op          N   C  H   W   OC KH KW s  p  d  op causal bias */
    {OP_CONVT2D, 2, 3, 5, 5, 4, 3, 3, 2, 1, 1, 1, FALSE, TRUE},
    {OP_CONVT2D, 2, 4, 4, 4, 3, 4, 4, 2, 1, 1, 0, FALSE, TRUE},  /* DCGAN's k4 s2 p1 */
    {OP_CONVT2D, 3, 2, 3, 5, 2, 3, 2, 1, 0, 1, 0, FALSE, FALSE},
    {OP_CONVT2D, 2, 3, 5, 3, 2, 3, 3, 3, 2, 1, 2, FALSE, TRUE},
    {OP_CONVT2D, 2, 3, 6, 6, 2, 1, 1, 1, 0, 1, 0, FALSE, TRUE},  /* 1×1, batched */
    {OP_CONVT2D, 1, 3, 50, 50, 2, 1, 1, 1, 0, 1, 0, FALSE, TRUE}, /* 1×1, direct sgemm */
    {OP_CONVT2D, 11, 3, 20, 20, 2, 3, 3, 1, 1, 1, 0, FALSE, TRUE}, /* chunks of 5, 5, 1 */
    {OP_CONVT2D, 1, 2, 50, 50, 2, 4, 4, 2, 1, 1, 0, FALSE, TRUE}, /* output too big to pad */
};
/* clang-format on */

static void test_convt1d_naive(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(convt1d_cases); i++)
        check_against_naive(&convt1d_cases[i], 50 + i);
}

static void test_convt1d_gradcheck(void)
{
    for (guint i = 0; i < 3; i++)
        check_gradcheck(&convt1d_cases[i], 60 + i);
}

static void test_convt2d_naive(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(convt2d_cases); i++)
        check_against_naive(&convt2d_cases[i], 70 + i);
}

static void test_convt2d_gradcheck(void)
{
    for (guint i = 0; i < 5; i++)
        check_gradcheck(&convt2d_cases[i], 80 + i);
}

/* ---- PyTorch goldens ---- */

static void check_golden(const char *name, const Case *k)
{
    g_autoptr(AigcSafetensors) st = aigc_test_open_golden(name);
    AigcTensor *x = aigc_test_golden_leaf(st, "x", TRUE);
    AigcTensor *w = aigc_test_golden_leaf(st, "weight", TRUE);
    AigcTensor *b = aigc_test_golden_leaf(st, "bias", TRUE);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *y = run_op(ctx, k, x, w, b);
    gint64 n;
    const float *want = aigc_test_golden_data(st, "out", &n);
    g_assert_cmpint(n, ==, y->n_elements);
    aigc_test_assert_close(y->data, want, n, 1e-4, 1e-5, "out");
    aigc_ctx_backward_from(ctx, y, aigc_test_golden_data(st, "dout", NULL));
    aigc_test_assert_close(x->grad, aigc_test_golden_data(st, "dx", NULL), x->n_elements, 1e-4,
                           1e-5, "dx");
    aigc_test_assert_close(w->grad, aigc_test_golden_data(st, "dweight", NULL), w->n_elements, 1e-4,
                           1e-5, "dweight");
    aigc_test_assert_close(b->grad, aigc_test_golden_data(st, "dbias", NULL), b->n_elements, 1e-4,
                           1e-5, "dbias");
    aigc_tensor_free_leaf(x);
    aigc_tensor_free_leaf(w);
    aigc_tensor_free_leaf(b);
}

static void test_conv2d_golden(void)
{
    Case k = {OP_CONV2D, .stride = 2, .pad = 1, .dilation = 1, .bias = TRUE};
    check_golden("conv2d", &k);
}

static void test_convt2d_golden(void)
{
    Case k = {OP_CONVT2D, .stride = 2, .pad = 1, .dilation = 1, .output_padding = 1, .bias = TRUE};
    check_golden("conv_transpose2d", &k);
}

static void test_conv1d_golden(void)
{
    Case k = {OP_CONV1D, .stride = 1, .pad = 0, .dilation = 2, .causal = TRUE, .bias = TRUE};
    check_golden("conv1d_causal", &k);
}

/* ---- engineering properties ---- */

/* Same bits with one thread or two: the chunking, tiling and reductions of these kernels never
 * depend on the thread count, and aigc_sgemm's blocks give each element the same sums. The cases
 * cover batched chunks, tiles of one long signal, tiles cutting rows and inner dimensions that
 * are not multiples of 32 (OpenBLAS's own threading regroups those sums; aigc_sgemm does not). */
static void test_conv_threads(void)
{
    /* Large enough that every parallel loop splits; inner dimensions 288, 1792, 256 and 32. */
    static const Case wide = {OP_CONV2D, 8, 32, 16, 16, 32, 3, 3, 1, 1, 1, 0, FALSE, TRUE};
    const Case *cases[] = {
        &wide,           &conv2d_cases[5], &convt2d_cases[6], &conv1d_cases[7], &conv1d_cases[8],
        &conv2d_cases[8]};
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        const Case *k = cases[c];
        float *res[2][4] = {{NULL}};
        for (int t = 0; t < 2; t++) {
            aigc_threads_init(t + 1);
            AigcRng rng;
            aigc_rng_init(&rng, 5);
            AigcTensor *x, *w, *b;
            make_leaves(&rng, k, &x, &w, &b);
            g_autoptr(AigcCtx) ctx = aigc_ctx_new();
            AigcTensor *y = run_op(ctx, k, x, w, b);
            float *dy = g_new(float, y->n_elements);
            aigc_rng_fill_uniform(&rng, dy, y->n_elements, -1, 1);
            aigc_ctx_backward_from(ctx, y, dy);
            res[t][0] = g_memdup2(y->data, y->n_elements * 4);
            res[t][1] = g_memdup2(x->grad, x->n_elements * 4);
            res[t][2] = g_memdup2(w->grad, w->n_elements * 4);
            res[t][3] = g_memdup2(b->grad, b->n_elements * 4);
            if (t == 1) {
                g_assert_cmpmem(res[0][0], y->n_elements * 4, res[1][0], y->n_elements * 4);
                g_assert_cmpmem(res[0][1], x->n_elements * 4, res[1][1], x->n_elements * 4);
                g_assert_cmpmem(res[0][2], w->n_elements * 4, res[1][2], w->n_elements * 4);
                g_assert_cmpmem(res[0][3], b->n_elements * 4, res[1][3], b->n_elements * 4);
            }
            g_free(dy);
            aigc_tensor_free_leaf(x);
            aigc_tensor_free_leaf(w);
            aigc_tensor_free_leaf(b);
        }
        for (int t = 0; t < 2; t++)
            for (int i = 0; i < 4; i++)
                g_free(res[t][i]);
    }
    aigc_threads_init(2);
}

/* A training step's scratch comes from the arena: from the second identical step on, no
 * conv asks the system for memory. */
static void test_conv_arena_steps(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 9);
    const Case *k = &conv2d_cases[5];
    AigcTensor *x, *w, *b;
    make_leaves(&rng, k, &x, &w, &b);
    AigcTensor *wt = aigc_test_leaf(&rng, 4, (gint64[]){2, 3, 4, 4}, -0.2f, 0.2f, TRUE);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcArena *arena = aigc_ctx_get_arena(ctx);
    guint n_allocs = 0;
    for (int step = 0; step < 3; step++) {
        AigcTensor *y = aigc_conv2d(ctx, x, w, b, 1, 1);                  /* [7, 2, 20, 20] */
        AigcTensor *z = aigc_conv_transpose2d(ctx, y, wt, NULL, 2, 1, 0); /* [7, 3, 40, 40] */
        float *dz = aigc_ctx_alloc_floats(ctx, z->n_elements);
        for (gint64 i = 0; i < z->n_elements; i++)
            dz[i] = 1.0f;
        aigc_ctx_backward_from(ctx, z, dz);
        aigc_ctx_reset(ctx);
        if (step == 1)
            n_allocs = aigc_arena_get_n_system_allocs(arena);
        if (step == 2)
            g_assert_cmpuint(aigc_arena_get_n_system_allocs(arena), ==, n_allocs);
    }
    aigc_tensor_free_leaf(x);
    aigc_tensor_free_leaf(w);
    aigc_tensor_free_leaf(b);
    aigc_tensor_free_leaf(wt);
}

/* Ops take views: an NHWC tensor permuted to NCHW (non-contiguous) and a transposed-conv weight
 * sliced along its output channels convolve like contiguous copies, and gradients flow back
 * through the views. */
static AigcTensor *conv_view_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    AigcTensor *x = aigc_permute(ctx, in[0], (int[]){0, 3, 1, 2}); /* [2, 3, 5, 7] */
    AigcTensor *y = aigc_conv2d(ctx, x, in[1], NULL, 1, 1);        /* [2, 4, 5, 7] */
    AigcTensor *wt = aigc_slice(ctx, in[2], 1, 1, 3);              /* [4, 2, 3, 3] */
    return aigc_conv_transpose2d(ctx, y, wt, NULL, 2, 1, 1);       /* [2, 2, 10, 14] */
}

static void test_conv_views(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 17);
    AigcTensor *in[3] = {
        aigc_test_leaf(&rng, 4, (gint64[]){2, 5, 7, 3}, -1, 1, TRUE),
        aigc_test_leaf(&rng, 4, (gint64[]){4, 3, 3, 3}, -0.3f, 0.3f, TRUE),
        aigc_test_leaf(&rng, 4, (gint64[]){4, 3, 3, 3}, -0.3f, 0.3f, TRUE),
    };
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    aigc_assert_gradcheck(conv_view_fn, 3, in, NULL, &p);
    for (int i = 0; i < 3; i++)
        aigc_tensor_free_leaf(in[i]);
}

static void test_conv_sizes(void)
{
    g_assert_cmpint(aigc_conv_out_size(7, 3, 2, 1, 1, 1), ==, 4);
    g_assert_cmpint(aigc_conv_out_size(9, 3, 1, 4, 0, 2), ==, 9);
    g_assert_cmpint(aigc_conv_out_size(2, 5, 1, 0, 0, 1), ==, 0);
    g_assert_cmpint(aigc_conv_out_size(3, 2, 1, 0, 0, 3), ==, 0);
    g_assert_cmpint(aigc_conv_transpose_out_size(5, 3, 2, 1, 1, 1), ==, 10);
    g_assert_cmpint(aigc_conv_transpose_out_size(4, 4, 2, 1, 0, 1), ==, 8);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/nn/conv/sizes", test_conv_sizes);
    g_test_add_func("/engine/nn/conv1d/naive", test_conv1d_naive);
    g_test_add_func("/engine/nn/conv1d/gradcheck", test_conv1d_gradcheck);
    g_test_add_func("/engine/nn/conv1d/causal", test_conv1d_causal);
    g_test_add_func("/engine/nn/conv1d/golden", test_conv1d_golden);
    g_test_add_func("/engine/nn/conv2d/naive", test_conv2d_naive);
    g_test_add_func("/engine/nn/conv2d/gradcheck", test_conv2d_gradcheck);
    g_test_add_func("/engine/nn/conv2d/golden", test_conv2d_golden);
    g_test_add_func("/engine/nn/conv-transpose1d/naive", test_convt1d_naive);
    g_test_add_func("/engine/nn/conv-transpose1d/gradcheck", test_convt1d_gradcheck);
    g_test_add_func("/engine/nn/conv-transpose2d/naive", test_convt2d_naive);
    g_test_add_func("/engine/nn/conv-transpose2d/gradcheck", test_convt2d_gradcheck);
    g_test_add_func("/engine/nn/conv-transpose2d/golden", test_convt2d_golden);
    g_test_add_func("/engine/nn/conv/threads", test_conv_threads);
    g_test_add_func("/engine/nn/conv/arena-steps", test_conv_arena_steps);
    g_test_add_func("/engine/nn/conv/views", test_conv_views);
    return g_test_run();
}
