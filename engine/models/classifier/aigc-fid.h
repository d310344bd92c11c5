/* SPDX-License-Identifier: MIT
 *
 * The Fréchet distance between two Gaussians — the "FID" of image generators when the Gaussians
 * are fitted to a classifier's features of generated and of real images:
 *
 *   d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁ Σ₂)^½
 *
 * tr (Σ₁ Σ₂)^½ is computed without a non-symmetric square root: with S = Σ₁^½ (from the
 * eigen-decomposition of Σ₁), Σ₁Σ₂ is similar to the symmetric positive semi-definite S Σ₂ S,
 * so the trace is Σ √λᵢ over the eigenvalues λᵢ of S Σ₂ S. Both eigen-decompositions are done by
 * a cyclic Jacobi solver in double precision, run until the off-diagonal norm is 1e-12 of the
 * matrix's (for the 256 × 256 covariances here, a fraction of a second). Eigenvalues that
 * rounding pushes below zero count as zero.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A Gaussian fitted to n samples of dimension d. */
typedef struct {
    int dim;      /* d */
    gint64 n;     /* samples it was fitted to */
    double *mean; /* (d) */
    double *cov;  /* (d, d), symmetric, unbiased (divided by n − 1) */
} AigcGaussianStats;

/* (transfer full) Zeroed statistics of dimension d ≥ 1. */
AigcGaussianStats *aigc_gaussian_stats_new(int dim);
void aigc_gaussian_stats_free(AigcGaussianStats *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcGaussianStats, aigc_gaussian_stats_free)

/* (transfer full) (nullable) Mean and covariance of n ≥ 2 samples (n, d) (row-major floats),
 * accumulated in double. NULL + AIGC_ENGINE_ERROR_INVALID for n < 2, _NUMERIC for NaN/Inf. */
AigcGaussianStats *aigc_gaussian_stats_fit(const float *samples, gint64 n, int dim,
                                           GError **error);

/* The Fréchet distance d² between two fitted Gaussians of the same dimension. FALSE +
 * AIGC_ENGINE_ERROR_INVALID when the dimensions differ, _NUMERIC when a value is not finite or
 * the eigen solver does not converge. */
gboolean aigc_frechet_distance(const AigcGaussianStats *a, const AigcGaussianStats *b,
                               double *distance, GError **error);

/* Eigen-decomposition of a symmetric n × n matrix by cyclic Jacobi rotations: a (row-major,
 * destroyed), eigenvalues (n, ascending), eigenvectors (n, n, nullable) with eigenvector k in
 * column k. Returns FALSE if it has not converged after 100 sweeps (it takes about ten). */
gboolean aigc_symmetric_eigen(double *a, int n, double *eigenvalues, double *eigenvectors);

/* ---- files ---- */

/* Writes the statistics atomically as a safetensors file: F32 tensors "mean" (d) and "cov"
 * (d, d), metadata "n" and the extra pairs (keys and values NULL-terminated, both nullable). */
gboolean aigc_gaussian_stats_write(const AigcGaussianStats *stats, const char *path,
                                   const char *const *keys, const char *const *values,
                                   GError **error);
/* (transfer full) (nullable) Reads statistics written by aigc_gaussian_stats_write: shapes,
 * finiteness and "n" checked. */
AigcGaussianStats *aigc_gaussian_stats_read(const char *path, GError **error);

G_END_DECLS
