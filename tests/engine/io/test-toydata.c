/* SPDX-License-Identifier: MIT
 *
 * Two moons: class balance, points on the two arcs exactly where scikit-learn's make_moons puts
 * them (checked against a naive recomputation of its evenly spaced angles), the noise's
 * statistics, shuffling, and determinism for a seed.
 */
#include "io/aigc-toydata.h"

#include <math.h>
#include <string.h>

#define PI_D 3.14159265358979323846

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void test_balance(void)
{
    static const int sizes[] = {0, 1, 2, 7, 100, 101};
    for (guint s = 0; s < G_N_ELEMENTS(sizes); s++) {
        int n = sizes[s];
        float *x = g_new(float, 2 * n + 1);
        gint32 *y = g_new(gint32, n + 1);
        AigcRng rng;
        aigc_rng_init(&rng, 5);
        aigc_two_moons(&rng, n, 0.1f, x, y);
        int n_class[2] = {0, 0};
        for (int i = 0; i < n; i++) {
            g_assert_true(y[i] == 0 || y[i] == 1);
            n_class[y[i]]++;
        }
        /* As make_moons: n / 2 on the outer (upper) arc, the rest on the inner one. */
        g_assert_cmpint(n_class[0], ==, n / 2);
        g_assert_cmpint(n_class[1], ==, n - n / 2);
        g_free(x);
        g_free(y);
    }
}

/* Without noise every point lies on its arc, and the points of each arc are exactly the
 * make_moons angles t_i = π·i / (m − 1), in some order. */
static void test_arcs(void)
{
    enum { N = 101 };
    float x[2 * N];
    gint32 y[N];
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    aigc_two_moons(&rng, N, 0.0f, x, y);

    float xs[2][N];
    int m[2] = {0, 0};
    for (int i = 0; i < N; i++) {
        float px = x[2 * i], py = x[2 * i + 1];
        g_assert_true(px >= -1.0f && px <= 2.0f);
        g_assert_true(py >= -0.5f && py <= 1.0f);
        if (y[i] == 0) {
            g_assert_cmpfloat(fabsf(px * px + py * py - 1.0f), <, 1e-5f);
            g_assert_cmpfloat(py, >=, 0.0f);
        } else {
            g_assert_cmpfloat(fabsf((px - 1) * (px - 1) + (py - 0.5f) * (py - 0.5f) - 1.0f), <,
                              1e-5f);
            g_assert_cmpfloat(py, <=, 0.5f);
        }
        xs[y[i]][m[y[i]]++] = px;
    }
    g_assert_cmpint(m[0], ==, 50);
    g_assert_cmpint(m[1], ==, 51);
    for (int k = 0; k < 2; k++) {
        float want[N];
        for (int i = 0; i < m[k]; i++) {
            double t = PI_D * i / (m[k] - 1);
            want[i] = (float)(k == 0 ? cos(t) : 1.0 - cos(t));
        }
        qsort(want, (size_t)m[k], sizeof(float), compare_float);
        qsort(xs[k], (size_t)m[k], sizeof(float), compare_float);
        for (int i = 0; i < m[k]; i++)
            g_assert_cmpfloat(xs[k][i], ==, want[i]);
    }

    /* Shuffled: the classes are not in two runs. */
    int n_changes = 0;
    for (int i = 1; i < N; i++)
        n_changes += y[i] != y[i - 1];
    g_assert_cmpint(n_changes, >, 10);

    /* A single point is the inner arc's t = 0 end, as make_moons(1) gives. */
    float x1[2];
    gint32 y1[1];
    aigc_two_moons(&rng, 1, 0.0f, x1, y1);
    g_assert_cmpint(y1[0], ==, 1);
    g_assert_cmpfloat(x1[0], ==, 0.0f);
    g_assert_cmpfloat(x1[1], ==, 0.5f);
}

/* The shuffle draws come before the noise draws, so a noiseless and a noisy set from the same
 * seed differ by the noise alone: its mean and standard deviation can be measured. */
static void test_noise(void)
{
    enum { N = 4001 };
    const float sigma = 0.1f;
    float *clean = g_new(float, 2 * N), *noisy = g_new(float, 2 * N);
    gint32 *y_clean = g_new(gint32, N), *y_noisy = g_new(gint32, N);
    AigcRng a, b;
    aigc_rng_init(&a, 99);
    aigc_rng_init(&b, 99);
    aigc_two_moons(&a, N, 0.0f, clean, y_clean);
    aigc_two_moons(&b, N, sigma, noisy, y_noisy);
    g_assert_cmpmem(y_clean, N * sizeof(gint32), y_noisy, N * sizeof(gint32));
    double sum = 0, sum2 = 0, max_abs = 0;
    for (int i = 0; i < 2 * N; i++) {
        double d = (double)noisy[i] - clean[i];
        sum += d;
        sum2 += d * d;
        max_abs = MAX(max_abs, fabs(d));
    }
    double mean = sum / (2 * N), std = sqrt(sum2 / (2 * N) - mean * mean);
    /* Standard errors: σ/√8002 ≈ 0.0011 for the mean, σ/√16004 ≈ 0.0008 for the deviation. */
    g_assert_cmpfloat(fabs(mean), <, 0.006);
    g_assert_cmpfloat(fabs(std - sigma), <, 0.005);
    g_assert_cmpfloat(max_abs, <, 6 * sigma);
    g_assert_cmpfloat(max_abs, >, 2 * sigma);
    g_free(clean);
    g_free(noisy);
    g_free(y_clean);
    g_free(y_noisy);
}

static void test_determinism(void)
{
    enum { N = 257 };
    float x1[2 * N], x2[2 * N], x3[2 * N];
    gint32 y1[N], y2[N], y3[N];
    AigcRng a, b, c;
    aigc_rng_init(&a, 1234);
    aigc_rng_init(&b, 1234);
    aigc_rng_init(&c, 1235);
    aigc_two_moons(&a, N, 0.2f, x1, y1);
    aigc_two_moons(&b, N, 0.2f, x2, y2);
    aigc_two_moons(&c, N, 0.2f, x3, y3);
    g_assert_cmpmem(x1, sizeof x1, x2, sizeof x2);
    g_assert_cmpmem(y1, sizeof y1, y2, sizeof y2);
    g_assert_cmpuint(a.offset, ==, b.offset);
    g_assert_cmpuint(a.offset, >, 0);
    g_assert_true(memcmp(x1, x3, sizeof x1) != 0);
    g_assert_true(memcmp(y1, y3, sizeof y1) != 0);
    /* The stream moved on: a second call from the same generator gives new data. */
    aigc_two_moons(&a, N, 0.2f, x2, y2);
    g_assert_true(memcmp(x1, x2, sizeof x1) != 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/io/two-moons/balance", test_balance);
    g_test_add_func("/engine/io/two-moons/arcs", test_arcs);
    g_test_add_func("/engine/io/two-moons/noise", test_noise);
    g_test_add_func("/engine/io/two-moons/determinism", test_determinism);
    return g_test_run();
}
