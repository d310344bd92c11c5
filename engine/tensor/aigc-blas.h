/* SPDX-License-Identifier: MIT
 *
 * Matrix products on the engine's own threads. OpenBLAS runs single-threaded; aigc_sgemm splits
 * a large product into row (or column) blocks over aigc_parallel_for. One thread pool for
 * everything means BLAS worker threads never spin against the engine's kernels for the same two
 * cores, and any kernel may call BLAS from inside a parallel region.
 */
#pragma once

#include <cblas.h>
#include <glib.h>

G_BEGIN_DECLS

/* Row-major C = alpha·op(A)·op(B) + beta·C, as cblas_sgemm(CblasRowMajor, …). */
void aigc_sgemm(CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

G_END_DECLS
