/* SPDX-License-Identifier: MIT
 *
 * Gaussian fits, the Fréchet distance and the Jacobi eigen solver it rests on. Legend: d the
 * dimension, n the number of samples, A the matrix being diagonalised, V its eigenvectors.
 */
#include "aigc-fid.h"

#include "aigc-error.h"
#include "io/aigc-safetensors.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

AigcGaussianStats *aigc_gaussian_stats_new(int dim)
{
    g_return_val_if_fail(dim >= 1 && dim <= 65536, NULL);
    AigcGaussianStats *s = g_new0(AigcGaussianStats, 1);
    s->dim = dim;
    s->mean = g_new0(double, dim);
    s->cov = g_new0(double, (gsize)dim * dim);
    return s;
}

void aigc_gaussian_stats_free(AigcGaussianStats *s)
{
    if (!s)
        return;
    g_free(s->mean);
    g_free(s->cov);
    g_free(s);
}

AigcGaussianStats *aigc_gaussian_stats_fit(const float *x, gint64 n, int d, GError **error)
{
    g_return_val_if_fail(x && d >= 1, NULL);
    if (n < 2) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "a covariance needs at least 2 samples, not %" G_GINT64_FORMAT, n);
        return NULL;
    }
    for (gint64 i = 0; i < n * d; i++) {
        if (!isfinite(x[i])) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "feature %" G_GINT64_FORMAT " of sample %" G_GINT64_FORMAT
                        " is not a finite number",
                        i % d, i / d);
            return NULL;
        }
    }
    AigcGaussianStats *s = aigc_gaussian_stats_new(d);
    s->n = n;
    for (gint64 i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            s->mean[j] += x[i * d + j];
    for (int j = 0; j < d; j++)
        s->mean[j] /= (double)n;
    /* Two passes: centre, then Xcᵀ·Xc / (n − 1) in blocks of rows (bounded memory). */
    enum { BLOCK = 1024 };
    double *xc = g_new(double, (gsize)BLOCK * d); /* (BLOCK, d) */
    for (gint64 i0 = 0; i0 < n; i0 += BLOCK) {
        const int rows = (int)MIN(BLOCK, n - i0);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < d; j++)
                xc[(gsize)i * d + j] = x[(i0 + i) * d + j] - s->mean[j];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, rows, 1.0, xc, d, 1.0, s->cov, d);
    }
    g_free(xc);
    const double scale = 1.0 / (double)(n - 1);
    for (int i = 0; i < d; i++)
        for (int j = i; j < d; j++) {
            const double v = s->cov[(gsize)i * d + j] * scale;
            s->cov[(gsize)i * d + j] = v;
            s->cov[(gsize)j * d + i] = v;
        }
    return s;
}

/* ---- the Jacobi eigen solver ---- */

/* Applies the rotation J that zeroes A[p, q]: A ← Jᵀ·A·J (A stays symmetric, so rows p and q
 * are computed from the old rows, contiguously, and mirrored into columns p and q), and
 * Vt ← Jᵀ·Vt on the rows of the transposed eigenvector matrix (contiguous too). */
static void rotate(double *A, double *Vt, int n, int p, int q)
{
    double *rp = A + (gsize)p * n, *rq = A + (gsize)q * n;
    const double apq = rp[q];
    const double theta = (rq[q] - rp[p]) / (2.0 * apq);
    /* The smaller root of t² + 2θt − 1 = 0 keeps the rotation angle ≤ π/4 (stable). */
    double t = 1.0 / (fabs(theta) + sqrt(theta * theta + 1.0));
    if (theta < 0)
        t = -t;
    const double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
    const double app = rp[p] - t * apq, aqq = rq[q] + t * apq;
    for (int k = 0; k < n; k++) {
        const double apk = rp[k], aqk = rq[k];
        rp[k] = c * apk - s * aqk;
        rq[k] = s * apk + c * aqk;
    }
    rp[p] = app;
    rq[q] = aqq;
    rp[q] = rq[p] = 0.0; /* exactly, by construction */
    for (int k = 0; k < n; k++) {
        A[(gsize)k * n + p] = rp[k];
        A[(gsize)k * n + q] = rq[k];
    }
    if (Vt) {
        double *vp = Vt + (gsize)p * n, *vq = Vt + (gsize)q * n;
        for (int k = 0; k < n; k++) {
            const double a = vp[k], b = vq[k];
            vp[k] = c * a - s * b;
            vq[k] = s * a + c * b;
        }
    }
}

gboolean aigc_symmetric_eigen(double *A, int n, double *eigenvalues, double *eigenvectors)
{
    g_return_val_if_fail(A && n >= 1 && eigenvalues, FALSE);
    /* Eigenvectors are accumulated as rows (contiguous updates) and transposed at the end. */
    double *Vt = NULL;
    if (eigenvectors) {
        Vt = g_new0(double, (gsize)n * n);
        for (int i = 0; i < n; i++)
            Vt[(gsize)i * n + i] = 1.0;
    }
    double total = 0;
    for (gsize i = 0; i < (gsize)n * n; i++)
        total += A[i] * A[i];
    /* Entries below this are rounding noise of the whole matrix: set to zero, not rotated. */
    const double negligible = 1e-18 * sqrt(total);
    gboolean converged = FALSE;
    for (int sweep = 0; sweep < 100 && !converged; sweep++) {
        double off = 0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++)
                off += A[(gsize)p * n + q] * A[(gsize)p * n + q];
        /* Off-diagonal norm at 1e-12 of the whole matrix's: the eigenvalues are that exact. */
        if (off <= 1e-24 * total) {
            converged = TRUE;
            break;
        }
        int n_rotations = 0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                const double apq = A[(gsize)p * n + q];
                if (fabs(apq) <= negligible) {
                    A[(gsize)p * n + q] = A[(gsize)q * n + p] = 0.0;
                    continue;
                }
                rotate(A, Vt, n, p, q);
                n_rotations++;
            }
        converged = n_rotations == 0;
    }
    /* Sort ascending (selection sort: n is small), eigenvector k into column k. */
    int *order = g_new(int, n);
    for (int i = 0; i < n; i++) {
        eigenvalues[i] = A[(gsize)i * n + i];
        order[i] = i;
    }
    for (int i = 0; i < n; i++) {
        int min = i;
        for (int j = i + 1; j < n; j++)
            if (eigenvalues[j] < eigenvalues[min])
                min = j;
        double tmp = eigenvalues[i];
        eigenvalues[i] = eigenvalues[min];
        eigenvalues[min] = tmp;
        int o = order[i];
        order[i] = order[min];
        order[min] = o;
    }
    if (Vt) {
        for (int k = 0; k < n; k++)
            for (int i = 0; i < n; i++)
                eigenvectors[(gsize)i * n + k] = Vt[(gsize)order[k] * n + i];
        g_free(Vt);
    }
    g_free(order);
    return converged;
}

/* ---- the Fréchet distance ---- */

static gboolean all_finite(const double *x, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return FALSE;
    return TRUE;
}

gboolean aigc_frechet_distance(const AigcGaussianStats *a, const AigcGaussianStats *b,
                               double *distance, GError **error)
{
    g_return_val_if_fail(a && b && distance, FALSE);
    if (a->dim != b->dim) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "Fréchet distance between Gaussians of dimensions %d and %d", a->dim,
                    b->dim);
        return FALSE;
    }
    const int d = a->dim;
    const gsize dd = (gsize)d * d;
    if (!all_finite(a->mean, d) || !all_finite(b->mean, d) || !all_finite(a->cov, dd) ||
        !all_finite(b->cov, dd)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                    "Fréchet distance of statistics that are not finite");
        return FALSE;
    }
    double diff = 0, trace_a = 0, trace_b = 0;
    for (int i = 0; i < d; i++) {
        diff += (a->mean[i] - b->mean[i]) * (a->mean[i] - b->mean[i]);
        trace_a += a->cov[(gsize)i * d + i];
        trace_b += b->cov[(gsize)i * d + i];
    }
    double *work = g_new(double, dd);  /* (d, d) */
    double *V = g_new(double, dd);     /* (d, d) */
    double *S = g_new(double, dd);     /* (d, d) Σa^½ */
    double *T = g_new(double, dd);     /* (d, d) scratch */
    double *lambda = g_new(double, d); /* (d) */
    gboolean ok = FALSE;
    /* S = V·diag(√λ)·Vᵀ from Σa = V·diag(λ)·Vᵀ. */
    memcpy(work, a->cov, dd * sizeof(double));
    if (!aigc_symmetric_eigen(work, d, lambda, V))
        goto out;
    for (int i = 0; i < d; i++)
        for (int k = 0; k < d; k++)
            T[(gsize)i * d + k] = V[(gsize)i * d + k] * sqrt(MAX(lambda[k], 0.0));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d, d, d, 1.0, T, d, V, d, 0.0, S, d);
    /* M = S·Σb·S, symmetrised against rounding; tr (ΣaΣb)^½ = Σ √eig(M). */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, S, d, b->cov, d, 0.0, T,
                d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, T, d, S, d, 0.0, work,
                d);
    for (int i = 0; i < d; i++)
        for (int j = i + 1; j < d; j++) {
            const double m = 0.5 * (work[(gsize)i * d + j] + work[(gsize)j * d + i]);
            work[(gsize)i * d + j] = work[(gsize)j * d + i] = m;
        }
    if (!aigc_symmetric_eigen(work, d, lambda, NULL))
        goto out;
    double trace_sqrt = 0;
    for (int i = 0; i < d; i++)
        trace_sqrt += sqrt(MAX(lambda[i], 0.0));
    /* Rounding can leave a tiny negative value for equal Gaussians. */
    *distance = MAX(diff + trace_a + trace_b - 2.0 * trace_sqrt, 0.0);
    ok = TRUE;
out:
    if (!ok)
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                    "the eigen-decomposition of a %d × %d covariance did not converge", d, d);
    g_free(work);
    g_free(V);
    g_free(S);
    g_free(T);
    g_free(lambda);
    return ok;
}

/* ---- files ---- */

gboolean aigc_gaussian_stats_write(const AigcGaussianStats *s, const char *path,
                                   const char *const *keys, const char *const *values,
                                   GError **error)
{
    const int d = s->dim;
    g_autofree float *mean = g_new(float, d);
    g_autofree float *cov = g_new(float, (gsize)d * d);
    for (int i = 0; i < d; i++)
        mean[i] = (float)s->mean[i];
    for (gsize i = 0; i < (gsize)d * d; i++)
        cov[i] = (float)s->cov[i];
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    g_autofree char *n = g_strdup_printf("%" G_GINT64_FORMAT, s->n);
    aigc_safetensors_writer_set_metadata(w, "n", n);
    for (int i = 0; keys && values && keys[i] && values[i]; i++)
        aigc_safetensors_writer_set_metadata(w, keys[i], values[i]);
    return aigc_safetensors_writer_add_f32(w, "mean", AIGC_DTYPE_F32, 1, (gint64[]){d}, mean,
                                           error) &&
           aigc_safetensors_writer_add_f32(w, "cov", AIGC_DTYPE_F32, 2, (gint64[]){d, d}, cov,
                                           error) &&
           aigc_safetensors_writer_write(w, path, NULL, NULL, error);
}

AigcGaussianStats *aigc_gaussian_stats_read(const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return NULL;
    const AigcSafetensorsTensor *mean = aigc_safetensors_find(st, "mean");
    const AigcSafetensorsTensor *cov = aigc_safetensors_find(st, "cov");
    const char *n = aigc_safetensors_get_metadata(st, "n");
    if (!mean || !cov || !n || mean->n_dims != 1 || mean->shape[0] < 1 ||
        mean->shape[0] > 65536 || cov->n_dims != 2 || cov->shape[0] != mean->shape[0] ||
        cov->shape[1] != mean->shape[0]) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not Gaussian statistics (tensors mean [d] and cov [d, d], metadata n)",
                    path);
        return NULL;
    }
    const int d = (int)mean->shape[0];
    g_autofree float *m = g_new(float, d);
    g_autofree float *c = g_new(float, (gsize)d * d);
    if (!aigc_safetensors_read_f32(st, mean, m, d, error) ||
        !aigc_safetensors_read_f32(st, cov, c, (gint64)d * d, error))
        return NULL;
    AigcGaussianStats *s = aigc_gaussian_stats_new(d);
    s->n = g_ascii_strtoll(n, NULL, 10);
    for (int i = 0; i < d; i++)
        s->mean[i] = m[i];
    for (gsize i = 0; i < (gsize)d * d; i++)
        s->cov[i] = c[i];
    if (!all_finite(s->mean, d) || !all_finite(s->cov, (gsize)d * d) || s->n < 2) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: the statistics hold non-finite values or too few samples", path);
        aigc_gaussian_stats_free(s);
        return NULL;
    }
    return s;
}
