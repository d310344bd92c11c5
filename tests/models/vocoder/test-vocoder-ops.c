/* SPDX-License-Identifier: MIT
 *
 * The vocoder layers: weight normalisation (values, finite differences, the exact unfold), the
 * gated unit with and without a condition (against libm, finite differences, both kernel
 * variants), windowed linear upsampling (equal to a slice of the full one), the grouped strided
 * conv1d
 * (forward and all gradients against a naive loop in double, finite differences), the transposed
 * matrix–vector products (float and half weights), and the multi-resolution STFT loss (zero for
 * equal signals, its value against a direct DFT in double, finite differences).
 */
#include "aigc-test-support.h"
#include "models/vocoder/aigc-stft-loss.h"
#include "models/vocoder/aigc-vocoder-ops.h"
#include "nn/aigc-conv.h"
#include "nn/aigc-pool.h"
#include "nn/aigc-elementwise.h"
#include "tensor/aigc-half.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

/* ---- weight norm ---- */

static AigcTensor *wn_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return aigc_weight_norm(ctx, in[0], in[1]);
}

static void test_weight_norm_forward(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    AigcTensor *v = aigc_test_leaf(&rng, 3, (gint64[]){4, 3, 5}, -1, 1, FALSE);
    AigcTensor *g = aigc_test_leaf(&rng, 1, (gint64[]){4}, 0.5f, 2, FALSE);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *w = aigc_weight_norm(ctx, v, g);
    g_assert_cmpint(w->n_dims, ==, 3);
    for (int i = 0; i < 4; i++) {
        double ss = 0;
        for (int k = 0; k < 15; k++)
            ss += (double)v->data[i * 15 + k] * v->data[i * 15 + k];
        double wn = 0;
        for (int k = 0; k < 15; k++) {
            double want = g->data[i] * v->data[i * 15 + k] / sqrt(ss);
            g_assert_cmpfloat(fabs(w->data[i * 15 + k] - want), <, 1e-6);
            wn += (double)w->data[i * 15 + k] * w->data[i * 15 + k];
        }
        /* each slice's norm is its gain */
        g_assert_cmpfloat(fabs(sqrt(wn) - g->data[i]), <, 1e-5);
    }
    /* unfold gives v' = w, g' = ‖w‖, which folds back to w */
    float v2[60], g2[4], w2[60], norms[4];
    aigc_weight_norm_unfold(v2, g2, w->data, 4, 15);
    aigc_weight_norm_forward(w2, norms, v2, g2, 4, 15);
    aigc_test_assert_close(w2, w->data, 60, 1e-6, 1e-7, "fold(unfold(w))");
    aigc_test_assert_close(g2, g->data, 4, 1e-5, 0, "unfolded gains");
    /* a zero slice gives zero weights, not NaN */
    memset(v->data, 0, sizeof(float) * 15);
    AigcTensor *w0 = aigc_weight_norm(ctx, v, g);
    for (int k = 0; k < 15; k++)
        g_assert_cmpfloat(w0->data[k], ==, 0.0f);
    aigc_tensor_free_leaf(v);
    aigc_tensor_free_leaf(g);
}

static void test_weight_norm_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 2);
    AigcTensor *in[2] = {aigc_test_leaf(&rng, 3, (gint64[]){3, 2, 3}, -1, 1, TRUE),
                         aigc_test_leaf(&rng, 1, (gint64[]){3}, 0.5f, 1.5f, TRUE)};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(wn_fn, 2, in, NULL, &p);
    aigc_tensor_free_leaf(in[0]);
    aigc_tensor_free_leaf(in[1]);
}

/* ---- gated unit ---- */

static AigcTensor *gated_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return aigc_gated_tanh_sigmoid(ctx, in[0], data ? in[1] : NULL);
}

static void check_gated_values(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    enum { N = 2, G = 3, T = 37 };
    AigcTensor *x = aigc_test_leaf(&rng, 3, (gint64[]){N, 2 * G, T}, -6, 6, FALSE);
    AigcTensor *c = aigc_test_leaf(&rng, 3, (gint64[]){N, 2 * G, T}, -1, 1, FALSE);
    x->data[0] = -60.0f; /* saturated ends */
    x->data[1] = 60.0f;
    x->data[G * T] = -95.0f;
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    for (int with_cond = 0; with_cond < 2; with_cond++) {
        AigcTensor *y = aigc_gated_tanh_sigmoid(ctx, x, with_cond ? c : NULL);
        g_assert_cmpint(y->shape[1], ==, G);
        for (int n = 0; n < N; n++)
            for (int g = 0; g < G; g++)
                for (int t = 0; t < T; t++) {
                    int ia = (n * 2 * G + g) * T + t, ib = (n * 2 * G + G + g) * T + t;
                    double a = (double)x->data[ia] + (with_cond ? c->data[ia] : 0);
                    double b = (double)x->data[ib] + (with_cond ? c->data[ib] : 0);
                    double want = tanh(a) / (1 + exp(-b));
                    g_assert_cmpfloat(fabs(y->data[(n * G + g) * T + t] - want), <, 2e-6);
                }
    }
    aigc_tensor_free_leaf(x);
    aigc_tensor_free_leaf(c);
}

static void test_gated_forward(void)
{
    gboolean had = aigc_simd_get_avx2();
    check_gated_values();
    aigc_simd_set_avx2(FALSE);
    check_gated_values();
    aigc_simd_set_avx2(had);
}

static void test_gated_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 4);
    AigcTensor *in[2] = {aigc_test_leaf(&rng, 3, (gint64[]){2, 4, 11}, -2, 2, TRUE),
                         aigc_test_leaf(&rng, 3, (gint64[]){2, 4, 11}, -1, 1, TRUE)};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(gated_fn, 1, in, NULL, &p);
    aigc_assert_gradcheck(gated_fn, 2, in, GINT_TO_POINTER(1), &p); /* with a condition */
    aigc_tensor_free_leaf(in[0]);
    aigc_tensor_free_leaf(in[1]);
}

/* ---- linear upsampling of a window ---- */

typedef struct {
    int factor;
    gint64 offset, T;
} UpCase;

static AigcTensor *up_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const UpCase *u = data;
    return aigc_upsample_linear1d_window(ctx, in[0], u->factor, u->offset, u->T);
}

static void test_upsample_window(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    AigcTensor *x = aigc_test_leaf(&rng, 3, (gint64[]){2, 3, 6}, -1, 1, TRUE);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *full = aigc_upsample_linear1d(ctx, x, 8);
    const gint64 windows[][2] = {{0, 48}, {5, 20}, {30, 18}, {47, 1}};
    for (guint w = 0; w < G_N_ELEMENTS(windows); w++) {
        gint64 off = windows[w][0], T = windows[w][1];
        AigcTensor *y = aigc_upsample_linear1d_window(ctx, x, 8, off, T);
        for (int r = 0; r < 6; r++)
            for (gint64 t = 0; t < T; t++)
                g_assert_cmpfloat(y->data[r * T + t], ==, full->data[r * 48 + off + t]);
    }
    UpCase u = {.factor = 8, .offset = 13, .T = 27};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(up_fn, 1, &x, &u, &p);
    aigc_tensor_free_leaf(x);
}

/* ---- grouped conv1d ---- */

typedef struct {
    int N, C, L, OC, K, s, p, groups;
} GcCase;

static void naive_grouped(const GcCase *k, double *out, const float *x, const float *w,
                          const float *b, int Lout)
{
    int Cg = k->C / k->groups, OCg = k->OC / k->groups;
    for (int n = 0; n < k->N; n++)
        for (int o = 0; o < k->OC; o++)
            for (int t = 0; t < Lout; t++) {
                double s = b[o];
                int gi = o / OCg;
                for (int ci = 0; ci < Cg; ci++)
                    for (int j = 0; j < k->K; j++) {
                        int i = t * k->s + j - k->p;
                        if (i >= 0 && i < k->L)
                            s += (double)w[(o * Cg + ci) * k->K + j] *
                                 x[(n * k->C + gi * Cg + ci) * k->L + i];
                    }
                out[(n * k->OC + o) * Lout + t] = s;
            }
}

static void naive_grouped_backward(const GcCase *k, double *dx, double *dw, double *db,
                                   const float *dy, const float *x, const float *w, int Lout)
{
    int Cg = k->C / k->groups, OCg = k->OC / k->groups;
    for (int n = 0; n < k->N; n++)
        for (int o = 0; o < k->OC; o++)
            for (int t = 0; t < Lout; t++) {
                double d = dy[(n * k->OC + o) * Lout + t];
                db[o] += d;
                int gi = o / OCg;
                for (int ci = 0; ci < Cg; ci++)
                    for (int j = 0; j < k->K; j++) {
                        int i = t * k->s + j - k->p;
                        if (i < 0 || i >= k->L)
                            continue;
                        int xi = (n * k->C + gi * Cg + ci) * k->L + i,
                            wi = (o * Cg + ci) * k->K + j;
                        dx[xi] += d * w[wi];
                        dw[wi] += d * x[xi];
                    }
            }
}

static void check_grouped_case(const GcCase *k, guint64 seed)
{
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    int Lout = aigc_conv_out_size(k->L, k->K, k->s, k->p, k->p, 1);
    gint64 nx = (gint64)k->N * k->C * k->L, nw = (gint64)k->OC * (k->C / k->groups) * k->K;
    gint64 ny = (gint64)k->N * k->OC * Lout;
    g_autofree float *x = g_new(float, nx), *w = g_new(float, nw), *b = g_new(float, k->OC);
    g_autofree float *y = g_new(float, ny), *dy = g_new(float, ny);
    aigc_rng_fill_uniform(&rng, x, nx, -1, 1);
    aigc_rng_fill_uniform(&rng, w, nw, -1, 1);
    aigc_rng_fill_uniform(&rng, b, k->OC, -1, 1);
    aigc_rng_fill_uniform(&rng, dy, ny, -1, 1);
    g_autofree float *scratch =
        g_new(float, aigc_conv1d_grouped_scratch_size(k->N, k->C, k->L, k->K, k->s, k->p));
    aigc_conv1d_grouped_forward(y, scratch, x, w, b, k->N, k->C, k->L, k->OC, k->K, k->s, k->p,
                                k->groups);
    g_autofree double *ref = g_new(double, ny);
    naive_grouped(k, ref, x, w, b, Lout);
    for (gint64 i = 0; i < ny; i++)
        g_assert_cmpfloat(fabs(y[i] - ref[i]), <, 1e-4 * (1 + fabs(ref[i])));
    /* gradients add into what is there: start from ones */
    g_autofree float *dx = g_new(float, nx), *dw = g_new(float, nw), *db = g_new(float, k->OC);
    for (gint64 i = 0; i < nx; i++)
        dx[i] = 1.0f;
    for (gint64 i = 0; i < nw; i++)
        dw[i] = 1.0f;
    for (int i = 0; i < k->OC; i++)
        db[i] = 1.0f;
    aigc_conv1d_grouped_backward(dx, dw, db, scratch, dy, x, w, k->N, k->C, k->L, k->OC, k->K, k->s,
                                 k->p, k->groups);
    g_autofree double *rdx = g_new0(double, nx), *rdw = g_new0(double, nw);
    g_autofree double *rdb = g_new0(double, k->OC);
    naive_grouped_backward(k, rdx, rdw, rdb, dy, x, w, Lout);
    for (gint64 i = 0; i < nx; i++)
        g_assert_cmpfloat(fabs(dx[i] - 1 - rdx[i]), <, 1e-4 * (1 + fabs(rdx[i])));
    for (gint64 i = 0; i < nw; i++)
        g_assert_cmpfloat(fabs(dw[i] - 1 - rdw[i]), <, 1e-4 * (1 + fabs(rdw[i])));
    for (int i = 0; i < k->OC; i++)
        g_assert_cmpfloat(fabs(db[i] - 1 - rdb[i]), <, 1e-4 * (1 + fabs(rdb[i])));
}

/* clang-format off */
static const GcCase grouped_cases[] = {
    /* N  C   L    OC  K   s  p   groups */
    {2, 8, 37, 8, 5, 3, 2, 4},
    {1, 4, 29, 12, 3, 1, 1, 2},   /* 6 outputs per group: a block of 4 and a rest of 2 */
    {2, 16, 203, 64, 41, 4, 20, 4}, /* MelGAN's first downsampling layer */
    {1, 8, 64, 8, 41, 4, 20, 2},  /* kernel longer than the signal's phase */
    {3, 6, 17, 3, 4, 2, 0, 3},
};
/* clang-format on */

static void test_grouped_naive(void)
{
    gboolean had = aigc_simd_get_avx2();
    for (int pass = 0; pass < 2; pass++) {
        aigc_simd_set_avx2(pass == 0 && had);
        for (guint i = 0; i < G_N_ELEMENTS(grouped_cases); i++)
            check_grouped_case(&grouped_cases[i], 10 + i);
    }
    aigc_simd_set_avx2(had);
}

typedef struct {
    int stride, pad, groups;
} GcOp;

static AigcTensor *grouped_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const GcOp *op = data;
    return aigc_conv1d_grouped(ctx, in[0], in[1], in[2], op->stride, op->pad, op->groups);
}

static void test_grouped_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 5);
    GcOp op = {.stride = 2, .pad = 2, .groups = 2};
    AigcTensor *in[3] = {aigc_test_leaf(&rng, 3, (gint64[]){2, 4, 13}, -1, 1, TRUE),
                         aigc_test_leaf(&rng, 3, (gint64[]){6, 2, 5}, -1, 1, TRUE),
                         aigc_test_leaf(&rng, 1, (gint64[]){6}, -1, 1, TRUE)};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(grouped_fn, 3, in, &op, &p);
    /* groups = 1 is the plain conv */
    GcOp one = {.stride = 1, .pad = 1, .groups = 1};
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *w1 = aigc_test_leaf(&rng, 3, (gint64[]){3, 4, 3}, -1, 1, FALSE);
    AigcTensor *ya = aigc_conv1d_grouped(ctx, in[0], w1, NULL, one.stride, one.pad, 1);
    AigcTensor *yb = aigc_conv1d(ctx, in[0], w1, NULL, 1, 1, 1, FALSE);
    aigc_test_assert_close(ya->data, yb->data, ya->n_elements, 0, 0, "groups = 1");
    for (int i = 0; i < 3; i++)
        aigc_tensor_free_leaf(in[i]);
    aigc_tensor_free_leaf(w1);
}

/* ---- matrix–vector products ---- */

static void test_matvec(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 6);
    const int shapes[][2] = {{5, 3}, {64, 17}, {72, 128}, {192, 64}, {256, 128}};
    gboolean had = aigc_simd_get_avx2();
    for (int pass = 0; pass < 2; pass++) {
        aigc_simd_set_avx2(pass == 0 && had);
        for (guint s = 0; s < G_N_ELEMENTS(shapes); s++) {
            const int M = shapes[s][0], K = shapes[s][1];
            g_autofree float *wt = g_new(float, M *K), *x = g_new(float, K);
            g_autofree float *bias = g_new(float, M), *y = g_new(float, M);
            g_autofree guint16 *h = g_new(guint16, M * K);
            aigc_rng_fill_uniform(&rng, wt, M * K, -1, 1);
            aigc_rng_fill_uniform(&rng, x, K, -1, 1);
            aigc_rng_fill_uniform(&rng, bias, M, -1, 1);
            for (int i = 0; i < M * K; i++)
                h[i] = aigc_f32_to_f16(wt[i]);
            for (int variant = 0; variant < 2; variant++) {
                for (int i = 0; i < M; i++)
                    y[i] = 0.5f; /* accumulate adds to it */
                if (variant == 0)
                    aigc_matvec_t(y, wt, x, bias, M, K, TRUE);
                else
                    aigc_matvec_t_f16(y, h, x, bias, M, K, TRUE);
                for (int m = 0; m < M; m++) {
                    double want = 0.5 + bias[m];
                    for (int k = 0; k < K; k++)
                        want += (double)x[k] *
                                (variant ? aigc_f16_to_f32(h[k * M + m]) : wt[k * M + m]);
                    g_assert_cmpfloat(fabs(y[m] - want), <, 1e-4 * (1 + fabs(want)));
                }
            }
            /* without accumulate or bias it overwrites */
            for (int i = 0; i < M; i++)
                y[i] = NAN;
            aigc_matvec_t(y, wt, x, NULL, M, K, FALSE);
            for (int i = 0; i < M; i++)
                g_assert_true(isfinite(y[i]));
        }
    }
    aigc_simd_set_avx2(had);
}

/* ---- multi-resolution STFT loss ---- */

static const AigcStftResolution small_res[2] = {{16, 4, 12}, {32, 8, 32}};

/* |STFT| of x [T] by direct DFT in double (uncentred, periodic Hann centred in the frame). */
static void naive_mag(const AigcStftResolution *r, const float *x, int T, double *mag, int *F)
{
    const int N = r->n_fft, K = N / 2 + 1, left = (N - r->win_length) / 2;
    *F = 1 + (T - N) / r->hop_length;
    for (int f = 0; f < *F; f++)
        for (int k = 0; k < K; k++) {
            double re = 0, im = 0;
            for (int n = 0; n < r->win_length; n++) {
                double w = 0.5 - 0.5 * cos(2 * G_PI * n / r->win_length);
                double v = w * x[f * r->hop_length + left + n];
                re += v * cos(2 * G_PI * k * (left + n) / N);
                im -= v * sin(2 * G_PI * k * (left + n) / N);
            }
            mag[f * K + k] = sqrt(MAX(re * re + im * im, 1e-7));
        }
}

static void test_stft_loss_value(void)
{
    enum { B = 2, T = 70 };
    AigcRng rng;
    aigc_rng_init(&rng, 7);
    GError *error = NULL;
    g_autoptr(AigcStftLoss) loss = aigc_stft_loss_new(small_res, 2, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_stft_loss_get_min_length(loss), ==, 32);
    AigcTensor *pred = aigc_test_leaf(&rng, 2, (gint64[]){B, T}, -1, 1, FALSE);
    AigcTensor *target = aigc_test_leaf(&rng, 2, (gint64[]){B, T}, -1, 1, FALSE);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    float sc = -1, mag = -1;
    AigcTensor *l = aigc_stft_loss(ctx, loss, pred, target, &sc, &mag, NULL);
    double want_sc = 0, want_mag = 0;
    for (int r = 0; r < 2; r++) {
        double d2 = 0, t2 = 0, l1 = 0;
        int n = 0;
        for (int b = 0; b < B; b++) {
            double mp[512], mt[512];
            int F;
            naive_mag(&small_res[r], pred->data + b * T, T, mp, &F);
            naive_mag(&small_res[r], target->data + b * T, T, mt, &F);
            int K = small_res[r].n_fft / 2 + 1;
            for (int i = 0; i < F * K; i++) {
                d2 += (mt[i] - mp[i]) * (mt[i] - mp[i]);
                t2 += mt[i] * mt[i];
                l1 += fabs(log(mt[i]) - log(mp[i]));
                n++;
            }
        }
        want_sc += sqrt(d2) / sqrt(t2) / 2;
        want_mag += l1 / n / 2;
    }
    g_assert_cmpfloat(fabs(sc - want_sc), <, 1e-4);
    g_assert_cmpfloat(fabs(mag - want_mag), <, 1e-4);
    g_assert_cmpfloat(fabs(l->data[0] - (want_sc + want_mag)), <, 2e-4);
    /* equal signals: no loss at all */
    AigcTensor *z = aigc_stft_loss(ctx, loss, target, target, &sc, &mag, NULL);
    g_assert_cmpfloat(z->data[0], ==, 0.0f);
    g_assert_cmpfloat(sc, ==, 0.0f);
    aigc_tensor_free_leaf(pred);
    aigc_tensor_free_leaf(target);
}

typedef struct {
    AigcStftLoss *loss;
    AigcTensor *target;
} StftCase;

static AigcTensor *stft_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const StftCase *c = data;
    return aigc_stft_loss(ctx, c->loss, in[0], c->target, NULL, NULL, NULL);
}

static void test_stft_loss_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 8);
    g_autoptr(AigcStftLoss) loss = aigc_stft_loss_new(small_res, 2, NULL);
    StftCase c = {.loss = loss,
                  .target = aigc_test_leaf(&rng, 3, (gint64[]){3, 1, 45}, -1, 1, FALSE)};
    AigcTensor *in[1] = {aigc_test_leaf(&rng, 3, (gint64[]){3, 1, 45}, -1, 1, TRUE)};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(stft_fn, 1, in, &c, &p);
    aigc_tensor_free_leaf(in[0]);
    aigc_tensor_free_leaf(c.target);
}

/* A made-up filterbank [M, K] of overlapping ramps, as dense as a real one near its bottom. */
static void toy_filterbank(int M, int K, float *fb)
{
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            float c = (m + 1.0f) * (K - 1) / (M + 1.0f), d = fabsf(k - c) / (K / (float)M);
            fb[m * K + k] = d < 1 ? 1 - d : 0;
        }
}

/* The mel term by hand: MEL = mean |ln max(FB·T, floor) − ln max(FB·P, floor)|, added with its
 * weight to the STFT loss; equal signals give none. */
static void test_stft_loss_mel_value(void)
{
    enum { B = 2, T = 70, M = 5 };
    const AigcStftResolution mres = {32, 8, 24};
    const int K = mres.n_fft / 2 + 1;
    const float floor = 1e-3f, weight = 2.5f;
    float fb[M * 17];
    toy_filterbank(M, K, fb);
    AigcRng rng;
    aigc_rng_init(&rng, 17);
    GError *error = NULL;
    g_autoptr(AigcStftLoss) loss = aigc_stft_loss_new(small_res, 2, &error);
    g_assert_true(aigc_stft_loss_add_mel(loss, &mres, fb, M, floor, weight, &error));
    g_assert_no_error(error);
    AigcTensor *pred = aigc_test_leaf(&rng, 2, (gint64[]){B, T}, -1, 1, FALSE);
    AigcTensor *target = aigc_test_leaf(&rng, 2, (gint64[]){B, T}, -1, 1, FALSE);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    float sc = -1, mag = -1, mel = -1;
    AigcTensor *l = aigc_stft_loss(ctx, loss, pred, target, &sc, &mag, &mel);
    double l1 = 0;
    int n = 0;
    for (int b = 0; b < B; b++) {
        double mp[512], mt[512];
        int F;
        naive_mag(&mres, pred->data + b * T, T, mp, &F);
        naive_mag(&mres, target->data + b * T, T, mt, &F);
        for (int f = 0; f < F; f++)
            for (int m = 0; m < M; m++) {
                double p = 0, t = 0;
                for (int k = 0; k < K; k++) {
                    p += fb[m * K + k] * mp[f * K + k];
                    t += fb[m * K + k] * mt[f * K + k];
                }
                l1 += fabs(log(MAX(t, floor)) - log(MAX(p, floor)));
                n++;
            }
    }
    g_assert_cmpfloat(fabs(mel - l1 / n), <, 1e-4);
    g_assert_cmpfloat(mel, >, 0.01f);
    g_assert_cmpfloat(fabs(l->data[0] - (sc + mag + weight * mel)), <, 1e-4);
    AigcTensor *z = aigc_stft_loss(ctx, loss, target, target, &sc, &mag, &mel);
    g_assert_cmpfloat(z->data[0], ==, 0.0f);
    g_assert_cmpfloat(mel, ==, 0.0f);
    aigc_tensor_free_leaf(pred);
    aigc_tensor_free_leaf(target);
}

/* The mel term's gradient by finite differences. */
static void test_stft_loss_mel_gradcheck(void)
{
    enum { M = 4 };
    const AigcStftResolution mres = {16, 4, 12};
    float fb[M * 9];
    toy_filterbank(M, 9, fb);
    AigcRng rng;
    aigc_rng_init(&rng, 18);
    g_autoptr(AigcStftLoss) loss = aigc_stft_loss_new(small_res, 2, NULL);
    g_assert_true(aigc_stft_loss_add_mel(loss, &mres, fb, M, 1e-4f, 20.0f, NULL));
    /* target = pred / 2: every log ratio is ln 2, far from the L1 kinks, so finite differences
     * see the gradient alone (the mel term weighs most, so an error in it shows) */
    AigcTensor *in[1] = {aigc_test_leaf(&rng, 3, (gint64[]){3, 1, 45}, -1, 1, TRUE)};
    StftCase c = {.loss = loss,
                  .target = aigc_test_leaf(&rng, 3, (gint64[]){3, 1, 45}, -1, 1, FALSE)};
    for (gint64 i = 0; i < c.target->n_elements; i++)
        c.target->data[i] = 0.5f * in[0]->data[i];
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(stft_fn, 1, in, &c, &p);
    aigc_tensor_free_leaf(in[0]);
    aigc_tensor_free_leaf(c.target);
}

static void test_stft_loss_bad(void)
{
    GError *error = NULL;
    AigcStftResolution bad = {15, 4, 12};
    g_assert_null(aigc_stft_loss_new(&bad, 1, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    AigcStftResolution bad_win = {16, 4, 17};
    g_assert_null(aigc_stft_loss_new(&bad_win, 1, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_null(aigc_stft_loss_new(small_res, 0, &error));
    g_clear_error(&error);
    g_autoptr(AigcStftLoss) loss = aigc_stft_loss_new(small_res, 2, NULL);
    float fb[4 * 9] = {0};
    g_assert_false(aigc_stft_loss_add_mel(loss, &bad, fb, 4, 1e-5f, 1, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    AigcStftResolution ok = {16, 4, 12};
    g_assert_false(aigc_stft_loss_add_mel(loss, &ok, fb, 4, 0, 1, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(aigc_stft_loss_add_mel(loss, &ok, fb, 4, 1e-5f, -1, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_cmpint(aigc_stft_loss_get_min_length(loss), ==, 32);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/models/vocoder/weight-norm/forward", test_weight_norm_forward);
    g_test_add_func("/models/vocoder/weight-norm/gradcheck", test_weight_norm_gradcheck);
    g_test_add_func("/models/vocoder/gated/forward", test_gated_forward);
    g_test_add_func("/models/vocoder/gated/gradcheck", test_gated_gradcheck);
    g_test_add_func("/models/vocoder/upsample-window", test_upsample_window);
    g_test_add_func("/models/vocoder/conv-grouped/naive", test_grouped_naive);
    g_test_add_func("/models/vocoder/conv-grouped/gradcheck", test_grouped_gradcheck);
    g_test_add_func("/models/vocoder/matvec", test_matvec);
    g_test_add_func("/models/vocoder/stft-loss/value", test_stft_loss_value);
    g_test_add_func("/models/vocoder/stft-loss/gradcheck", test_stft_loss_gradcheck);
    g_test_add_func("/models/vocoder/stft-loss/mel-value", test_stft_loss_mel_value);
    g_test_add_func("/models/vocoder/stft-loss/mel-gradcheck", test_stft_loss_mel_gradcheck);
    g_test_add_func("/models/vocoder/stft-loss/bad", test_stft_loss_bad);
    return g_test_run();
}
