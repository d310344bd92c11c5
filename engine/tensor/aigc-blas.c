/* SPDX-License-Identifier: MIT
 *
 * DESIGN: the split follows the longer side of C so each block is still a large, efficient
 * single-threaded GEMM; results are identical for any thread count only per block layout, which
 * depends on the thread count — like any threaded BLAS. Blocks are multiples of 16 rows/columns
 * to keep OpenBLAS's micro-kernels fully used.
 */
#include "aigc-blas.h"

#include "aigc-threads.h"

typedef struct {
    CBLAS_TRANSPOSE ta, tb;
    int M, N, K;
    float alpha, beta;
    const float *A, *B;
    int lda, ldb, ldc;
    float *C;
    gboolean split_rows;
    int block;
} Gemm;

static void gemm_blocks(gint64 begin, gint64 end, gpointer data)
{
    Gemm *g = data;
    for (gint64 b = begin; b < end; b++) {
        int lo = (int)b * g->block;
        if (g->split_rows) {
            int rows = MIN(g->block, g->M - lo);
            const float *A = g->ta == CblasNoTrans ? g->A + (gsize)lo * g->lda : g->A + lo;
            cblas_sgemm(CblasRowMajor, g->ta, g->tb, rows, g->N, g->K, g->alpha, A, g->lda, g->B,
                        g->ldb, g->beta, g->C + (gsize)lo * g->ldc, g->ldc);
        } else {
            int cols = MIN(g->block, g->N - lo);
            const float *B = g->tb == CblasNoTrans ? g->B + lo : g->B + (gsize)lo * g->ldb;
            cblas_sgemm(CblasRowMajor, g->ta, g->tb, g->M, cols, g->K, g->alpha, g->A, g->lda, B,
                        g->ldb, g->beta, g->C + lo, g->ldc);
        }
    }
}

void aigc_sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    int n_threads = aigc_threads_get();
    double flops = 2.0 * M * N * K;
    if (n_threads <= 1 || flops < 4e6 || M <= 0 || N <= 0) {
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    Gemm g = {ta, tb, M, N, K, alpha, beta, A, B, lda, ldb, ldc, C, M >= N, 0};
    int side = g.split_rows ? M : N;
    /* One block per thread, rounded up to a multiple of 16. */
    int block = (side + n_threads - 1) / n_threads;
    block = (block + 15) / 16 * 16;
    g.block = MAX(block, 16);
    int n_blocks = (side + g.block - 1) / g.block;
    aigc_parallel_for(n_blocks, 1, gemm_blocks, &g);
}
