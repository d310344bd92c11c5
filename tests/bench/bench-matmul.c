/* SPDX-License-Identifier: MIT
 *
 * The engine's matmul op (with its tensor and tape overhead, on the engine's threads) against a
 * direct cblas_sgemm call with OpenBLAS's own threads on the same shapes, in the same run: 512³, 64×768×768 and 4096×256×256. Prints each ratio
 * (cblas time / ours, target ≥ 0.9) and, last, the smallest.
 */
#include "bench-common.h"

#include "nn/aigc-nn.h"
#include "tensor/aigc-threads.h"

#include <cblas.h>
#include <stdio.h>

static double time_ours(int M, int N, int K, int reps)
{
    AigcCtx *ctx = aigc_ctx_new();
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    AigcTensor *a = aigc_tensor_new_leaf(2, (gint64[]){M, K}, TRUE);
    AigcTensor *b = aigc_tensor_new_leaf(2, (gint64[]){K, N}, TRUE);
    aigc_rng_fill_normal(&rng, a->data, a->n_elements, 0, 1);
    aigc_rng_fill_normal(&rng, b->data, b->n_elements, 0, 1);
    double *ms = g_new(double, reps);
    for (int r = -3; r < reps; r++) {
        gint64 t0 = g_get_monotonic_time();
        aigc_ctx_reset(ctx);
        aigc_matmul(ctx, a, b, FALSE, FALSE); /* records its node, as in training */
        if (r >= 0)
            ms[r] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    double median = bench_median(ms, reps);
    g_free(ms);
    aigc_tensor_free_leaf(a);
    aigc_tensor_free_leaf(b);
    aigc_ctx_free(ctx);
    return median;
}

static double time_cblas(int M, int N, int K, int reps)
{
    float *a = g_new0(float, (gsize)M * K), *b = g_new0(float, (gsize)K * N);
    float *c = g_new0(float, (gsize)M * N);
    for (gint64 i = 0; i < (gint64)M * K; i++)
        a[i] = (float)(i % 7) - 3;
    for (gint64 i = 0; i < (gint64)K * N; i++)
        b[i] = (float)(i % 5) - 2;
    double *ms = g_new(double, reps);
    for (int r = -3; r < reps; r++) {
        gint64 t0 = g_get_monotonic_time();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c,
                    N);
        if (r >= 0)
            ms[r] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    double median = bench_median(ms, reps);
    g_free(ms);
    g_free(a);
    g_free(b);
    g_free(c);
    return median;
}

int main(void)
{
    aigc_threads_init(0);
    const int shapes[][3] = {{512, 512, 512}, {64, 768, 768}, {4096, 256, 256}};
    double worst = 1e9;
    for (guint i = 0; i < G_N_ELEMENTS(shapes); i++) {
        int M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
        int reps = 200;
        /* Interleave to share the machine's noise. */
        double ours = 0, ref = 0;
        for (int round = 0; round < 3; round++) {
            /* The peer is OpenBLAS as a user would call it: its own threads, all cores. */
            openblas_set_num_threads(aigc_threads_get());
            ref += time_cblas(M, N, K, reps);
            openblas_set_num_threads(1); /* the engine's setting (tensor/aigc-blas.h) */
            ours += time_ours(M, N, K, reps);
        }
        double ratio = ref / ours;
        worst = MIN(worst, ratio);
        printf("matmul %dx%dx%d: cblas %.3f ms, ours %.3f ms, %.1f GFLOP/s, ratio %.3f\n", M, N, K,
               ref / 3, ours / 3, 2.0 * M * N * K / (ours / 3 * 1e6), ratio);
    }
    printf("matmul_ratio_min: %.3f (target >= 0.9)\n", worst);
    return 0;
}
