/* SPDX-License-Identifier: MIT
 *
 * The Fréchet distance and its pieces against answers known in closed form: the Jacobi solver on
 * matrices with known eigenvalues; the distance of diagonal Gaussians (Σ (√aᵢ − √bᵢ)²), of
 * Gaussians whose covariances share eigenvectors, of proportional covariances (tr Σ (1 − √c)²),
 * of a rank-one covariance against the identity, and of general 2 × 2 covariances
 * (tr (Σ₁Σ₂)^½ = √(tr Σ₁Σ₂ + 2 √(det Σ₁ det Σ₂))); Gaussian fits; the statistics file.
 */
#include "aigc-test-support.h"
#include "models/classifier/aigc-fid.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static AigcGaussianStats *stats_of(int d, const double *mean, const double *cov)
{
    AigcGaussianStats *s = aigc_gaussian_stats_new(d);
    s->n = 100;
    if (mean)
        memcpy(s->mean, mean, sizeof(double) * d);
    memcpy(s->cov, cov, sizeof(double) * d * d);
    return s;
}

static double fid(const AigcGaussianStats *a, const AigcGaussianStats *b)
{
    double d = -1;
    GError *error = NULL;
    g_assert_true(aigc_frechet_distance(a, b, &d, &error));
    g_assert_no_error(error);
    return d;
}

/* A random orthogonal matrix Q (n, n): the eigenvectors of a random symmetric matrix. */
static double *random_orthogonal(AigcRng *rng, int n)
{
    double *a = g_new(double, n * n), *q = g_new(double, n * n), *w = g_new(double, n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++)
            a[i * n + j] = a[j * n + i] = aigc_rng_normal(rng);
    g_assert_true(aigc_symmetric_eigen(a, n, w, q));
    g_free(a);
    g_free(w);
    return q;
}

/* Q·diag(w)·Qᵀ */
static double *compose(const double *q, const double *w, int n)
{
    double *m = g_new0(double, n * n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++)
                s += q[i * n + k] * w[k] * q[j * n + k];
            m[i * n + j] = s;
        }
    return m;
}

static void test_eigen(void)
{
    /* [[2, 1], [1, 2]]: 1 and 3. */
    double a[4] = {2, 1, 1, 2}, w[2], v[4];
    g_assert_true(aigc_symmetric_eigen(a, 2, w, v));
    g_assert_cmpfloat(fabs(w[0] - 1), <, 1e-14);
    g_assert_cmpfloat(fabs(w[1] - 3), <, 1e-14);
    g_assert_cmpfloat(fabs(fabs(v[0]) - M_SQRT1_2), <, 1e-14);
    /* The tridiagonal (−1, 2, −1) matrix: 2 − 2 cos(kπ / (n + 1)), k = 1 … n. */
    enum { N = 60 };
    double *t = g_new0(double, N * N), *tw = g_new(double, N), *tv = g_new(double, N * N);
    double *orig = g_new0(double, N * N);
    for (int i = 0; i < N; i++) {
        t[i * N + i] = 2;
        if (i + 1 < N)
            t[i * N + i + 1] = t[(i + 1) * N + i] = -1;
    }
    memcpy(orig, t, sizeof(double) * N * N);
    g_assert_true(aigc_symmetric_eigen(t, N, tw, tv));
    for (int k = 1; k <= N; k++)
        g_assert_cmpfloat(fabs(tw[k - 1] - (2 - 2 * cos(k * M_PI / (N + 1)))), <, 1e-12);
    /* A·v = λ·v and VᵀV = I. */
    for (int k = 0; k < N; k++)
        for (int i = 0; i < N; i++) {
            double av = 0;
            for (int j = 0; j < N; j++)
                av += orig[i * N + j] * tv[j * N + k];
            g_assert_cmpfloat(fabs(av - tw[k] * tv[i * N + k]), <, 1e-12);
        }
    for (int k = 0; k < N; k++)
        for (int l = 0; l < N; l++) {
            double dot = 0;
            for (int i = 0; i < N; i++)
                dot += tv[i * N + k] * tv[i * N + l];
            g_assert_cmpfloat(fabs(dot - (k == l)), <, 1e-12);
        }
    g_free(t);
    g_free(tw);
    g_free(tv);
    g_free(orig);
}

static void test_diagonal(void)
{
    const double a[3] = {1, 4, 9}, b[3] = {4, 1, 16};
    const double ma[3] = {0, 1, 2}, mb[3] = {1, 1, 0};
    double ca[9] = {0}, cb[9] = {0};
    for (int i = 0; i < 3; i++) {
        ca[i * 3 + i] = a[i];
        cb[i * 3 + i] = b[i];
    }
    g_autoptr(AigcGaussianStats) x = stats_of(3, ma, ca);
    g_autoptr(AigcGaussianStats) y = stats_of(3, mb, cb);
    /* ‖Δμ‖² = 1 + 0 + 4; Σ (√a − √b)² = 1 + 1 + 1. */
    g_assert_cmpfloat(fabs(fid(x, y) - 8.0), <, 1e-12);
    g_assert_cmpfloat(fabs(fid(y, x) - 8.0), <, 1e-12);
    g_assert_cmpfloat(fid(x, x), <, 1e-12);
}

/* Covariances with the same eigenvectors in 256 dimensions (the classifier's feature size). */
static void test_shared_eigenvectors(void)
{
    enum { D = 256 };
    AigcRng rng;
    aigc_rng_init(&rng, 5);
    double *q = random_orthogonal(&rng, D);
    double wa[D], wb[D], ma[D], mb[D];
    double want = 0;
    for (int i = 0; i < D; i++) {
        wa[i] = 0.01 + 3 * aigc_rng_uniform(&rng);
        wb[i] = i % 7 == 0 ? 0 : 0.01 + 3 * aigc_rng_uniform(&rng); /* some rank deficiency */
        ma[i] = aigc_rng_normal(&rng);
        mb[i] = aigc_rng_normal(&rng);
        want += (sqrt(wa[i]) - sqrt(wb[i])) * (sqrt(wa[i]) - sqrt(wb[i])) +
                (ma[i] - mb[i]) * (ma[i] - mb[i]);
    }
    double *ca = compose(q, wa, D), *cb = compose(q, wb, D);
    g_autoptr(AigcGaussianStats) x = stats_of(D, ma, ca);
    g_autoptr(AigcGaussianStats) y = stats_of(D, mb, cb);
    gint64 t0 = g_get_monotonic_time();
    double got = fid(x, y);
    g_test_message("256-d Fréchet distance %.9f (want %.9f) in %.2f s", got, want,
                   (g_get_monotonic_time() - t0) / 1e6);
    g_assert_cmpfloat(fabs(got - want), <, 1e-8 * want);
    g_free(q);
    g_free(ca);
    g_free(cb);
}

static void test_proportional(void)
{
    /* Σ₂ = c·Σ₁: tr (c Σ₁²)^½ = √c tr Σ₁, so d² = tr Σ₁ (1 − √c)². */
    enum { D = 5 };
    AigcRng rng;
    aigc_rng_init(&rng, 9);
    double *q = random_orthogonal(&rng, D);
    double w[D] = {0.5, 1, 2, 3, 7}, w4[D];
    for (int i = 0; i < D; i++)
        w4[i] = 4 * w[i];
    double *ca = compose(q, w, D), *cb = compose(q, w4, D);
    g_autoptr(AigcGaussianStats) x = stats_of(D, NULL, ca);
    g_autoptr(AigcGaussianStats) y = stats_of(D, NULL, cb);
    g_assert_cmpfloat(fabs(fid(x, y) - 13.5 * 1.0), <, 1e-10);
    g_free(q);
    g_free(ca);
    g_free(cb);
}

static void test_rank_one(void)
{
    /* Σ₁ = v·vᵀ, Σ₂ = I: (Σ₁)^½ = v·vᵀ / ‖v‖, d² = ‖v‖² + D − 2‖v‖. */
    enum { D = 4 };
    const double v[D] = {1, 2, 2, 4}; /* ‖v‖ = 5 */
    double ca[D * D], cb[D * D] = {0};
    for (int i = 0; i < D; i++) {
        cb[i * D + i] = 1;
        for (int j = 0; j < D; j++)
            ca[i * D + j] = v[i] * v[j];
    }
    g_autoptr(AigcGaussianStats) x = stats_of(D, NULL, ca);
    g_autoptr(AigcGaussianStats) y = stats_of(D, NULL, cb);
    /* Three eigenvalues are zero up to rounding (~1e-15), and their square roots (~3e-8) enter
     * the trace: that, not the solver, sets the tolerance for singular covariances. */
    g_assert_cmpfloat(fabs(fid(x, y) - (25 + 4 - 10)), <, 1e-6);
}

static void test_general_2x2(void)
{
    /* Non-commuting covariances: tr (Σ₁Σ₂)^½ = √(tr Σ₁Σ₂ + 2 √(det Σ₁ det Σ₂)). */
    const double pairs[][2][4] = {
        {{2, 1, 1, 3}, {1, -0.5, -0.5, 2}},
        {{5, 2, 2, 1}, {0.3, 0.1, 0.1, 0.2}},
        {{1, 0.99, 0.99, 1}, {4, -1, -1, 1}},
    };
    for (guint i = 0; i < G_N_ELEMENTS(pairs); i++) {
        const double *a = pairs[i][0], *b = pairs[i][1];
        const double tr_ab = a[0] * b[0] + a[1] * b[2] + a[2] * b[1] + a[3] * b[3];
        const double det_a = a[0] * a[3] - a[1] * a[2], det_b = b[0] * b[3] - b[1] * b[2];
        const double tr_sqrt = sqrt(tr_ab + 2 * sqrt(det_a * det_b));
        const double ma[2] = {1, -2}, mb[2] = {0.5, 0};
        const double want = 0.25 + 4 + a[0] + a[3] + b[0] + b[3] - 2 * tr_sqrt;
        g_autoptr(AigcGaussianStats) x = stats_of(2, ma, a);
        g_autoptr(AigcGaussianStats) y = stats_of(2, mb, b);
        g_assert_cmpfloat(fabs(fid(x, y) - want), <, 1e-12);
        g_assert_cmpfloat(fabs(fid(y, x) - want), <, 1e-12);
    }
}

static void test_bad_input(void)
{
    double c1[1] = {1}, c4[4] = {1, 0, 0, 1};
    g_autoptr(AigcGaussianStats) x = stats_of(1, NULL, c1);
    g_autoptr(AigcGaussianStats) y = stats_of(2, NULL, c4);
    double d;
    GError *error = NULL;
    g_assert_false(aigc_frechet_distance(x, y, &d, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_autoptr(AigcGaussianStats) z = stats_of(2, NULL, c4);
    z->cov[1] = NAN;
    g_assert_false(aigc_frechet_distance(y, z, &d, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_clear_error(&error);
}

static void test_fit(void)
{
    /* Samples (n, 3) whose mean and unbiased covariance are computed here directly. */
    enum { N = 2500, D = 3 };
    AigcRng rng;
    aigc_rng_init(&rng, 2);
    float *x = g_new(float, N * D);
    for (int i = 0; i < N; i++) {
        float z0 = aigc_rng_normal(&rng), z1 = aigc_rng_normal(&rng);
        x[i * D + 0] = 1 + z0;
        x[i * D + 1] = -2 + 0.5f * z0 + z1;
        x[i * D + 2] = 3 * z1;
    }
    GError *error = NULL;
    g_autoptr(AigcGaussianStats) s = aigc_gaussian_stats_fit(x, N, D, &error);
    g_assert_no_error(error);
    g_assert_cmpint(s->n, ==, N);
    double mean[D] = {0};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            mean[j] += x[i * D + j] / (double)N;
    for (int j = 0; j < D; j++) {
        g_assert_cmpfloat(fabs(s->mean[j] - mean[j]), <, 1e-12);
        for (int k = 0; k < D; k++) {
            double c = 0;
            for (int i = 0; i < N; i++)
                c += (x[i * D + j] - mean[j]) * (x[i * D + k] - mean[k]);
            c /= N - 1;
            g_assert_cmpfloat(fabs(s->cov[j * D + k] - c), <, 1e-10);
        }
    }
    /* And roughly the Gaussian it was drawn from. */
    g_assert_cmpfloat(fabs(s->cov[1 * D + 1] - 1.25), <, 0.15);
    g_assert_cmpfloat(fabs(s->cov[0 * D + 2]), <, 0.2);

    /* The statistics file keeps them to float precision. */
    g_autofree char *dir = g_dir_make_tmp("aigc-fid-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "stats.safetensors", NULL);
    g_assert_true(aigc_gaussian_stats_write(s, path, (const char *const[]){"what", NULL},
                                            (const char *const[]){"test", NULL}, &error));
    g_assert_no_error(error);
    g_autoptr(AigcGaussianStats) back = aigc_gaussian_stats_read(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(back->dim, ==, D);
    g_assert_cmpint(back->n, ==, N);
    for (int k = 0; k < D * D; k++)
        g_assert_cmpfloat(fabs(back->cov[k] - s->cov[k]), <, 1e-6 * (1 + fabs(s->cov[k])));
    /* Not statistics: refused with the file's name. */
    g_assert_true(g_file_set_contents(path, "garbage", -1, NULL));
    g_assert_null(aigc_gaussian_stats_read(path, &error));
    g_assert_nonnull(strstr(error->message, "stats.safetensors"));
    g_clear_error(&error);
    g_assert_cmpint(g_remove(path), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);

    /* Too few samples, non-finite samples. */
    g_assert_null(aigc_gaussian_stats_fit(x, 1, D, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    x[7] = INFINITY;
    g_assert_null(aigc_gaussian_stats_fit(x, N, D, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_clear_error(&error);
    g_free(x);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/models/classifier/fid/eigen", test_eigen);
    g_test_add_func("/models/classifier/fid/diagonal", test_diagonal);
    g_test_add_func("/models/classifier/fid/shared-eigenvectors", test_shared_eigenvectors);
    g_test_add_func("/models/classifier/fid/proportional", test_proportional);
    g_test_add_func("/models/classifier/fid/rank-one", test_rank_one);
    g_test_add_func("/models/classifier/fid/general-2x2", test_general_2x2);
    g_test_add_func("/models/classifier/fid/bad-input", test_bad_input);
    g_test_add_func("/models/classifier/fid/fit", test_fit);
    return g_test_run();
}
