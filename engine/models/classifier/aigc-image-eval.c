/* SPDX-License-Identifier: MIT
 *
 * Classifier accuracy and Fréchet distance of generated images (see the header).
 */
#include "aigc-image-eval.h"

#include "aigc-error.h"
#include "aigc-log.h"
#include "io/aigc-idx.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

static char *cache_file(AigcClassifier *clf, const char *cache_dir)
{
    g_autofree char *sum = aigc_classifier_dup_checksum(clf);
    g_autofree char *dir = cache_dir ? g_strdup(cache_dir)
                                     : g_build_filename(g_get_user_cache_dir(), "aigc-studio",
                                                        "fid", NULL);
    g_autofree char *name = g_strdup_printf("fashion-test-%.16s.safetensors", sum);
    return g_build_filename(dir, name, NULL);
}

AigcGaussianStats *aigc_image_eval_test_stats(AigcClassifier *clf, const char *data_dir,
                                              const char *cache_dir, AigcJob *job,
                                              GError **error)
{
    g_autofree char *path = cache_file(clf, cache_dir);
    const int F = aigc_classifier_get_feature_dim(clf);
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        GError *cache_error = NULL;
        AigcGaussianStats *stats = aigc_gaussian_stats_read(path, &cache_error);
        if (stats && stats->dim == F)
            return stats;
        /* A damaged or foreign cache is recomputed, not trusted. */
        aigc_warning("ignoring the feature statistics cache: %s",
                     cache_error ? cache_error->message : "wrong dimension");
        g_clear_error(&cache_error);
        aigc_gaussian_stats_free(stats);
    }
    if (aigc_classifier_get_config(clf)->image_size != AIGC_FASHION_MNIST_SIDE) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the classifier reads %d×%d images, Fashion-MNIST is %d×%d",
                    aigc_classifier_get_config(clf)->image_size,
                    aigc_classifier_get_config(clf)->image_size, AIGC_FASHION_MNIST_SIDE,
                    AIGC_FASHION_MNIST_SIDE);
        return NULL;
    }
    if (job)
        aigc_job_report_progress(job, 0, "features of the test images");
    AigcFashionMnist test;
    if (!aigc_fashion_mnist_load(data_dir, FALSE, &test, error))
        return NULL;
    float *features = g_new(float, (gsize)test.n * F); /* (n, F) */
    AigcGaussianStats *stats = NULL;
    if (aigc_classifier_features(clf, test.images, test.n, features, NULL, job, error))
        stats = aigc_gaussian_stats_fit(features, test.n, F, error);
    g_free(features);
    aigc_fashion_mnist_clear(&test);
    if (!stats)
        return NULL;
    g_autofree char *dir = g_path_get_dirname(path);
    GError *write_error = NULL;
    g_autofree char *sum = aigc_classifier_dup_checksum(clf);
    const char *keys[] = {"content", "classifier_sha256", NULL};
    const char *values[] = {"classifier features of the Fashion-MNIST test split", sum, NULL};
    if (g_mkdir_with_parents(dir, 0755) != 0 ||
        !aigc_gaussian_stats_write(stats, path, keys, values, &write_error)) {
        aigc_warning("could not keep the feature statistics in %s: %s", path,
                     write_error ? write_error->message : g_strerror(errno));
        g_clear_error(&write_error);
    }
    return stats;
}

gboolean aigc_image_eval_images(AigcClassifier *clf, const AigcGaussianStats *reference,
                                const float *images, const gint32 *labels, gint64 n, AigcJob *job,
                                AigcImageEvalResult *result, GError **error)
{
    const AigcClassifierConfig *c = aigc_classifier_get_config(clf);
    const int F = c->hidden, K = c->n_classes;
    if (n < 2) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "judging generated images needs at least 2 of them, not %" G_GINT64_FORMAT,
                    n);
        return FALSE;
    }
    if (reference->dim != F) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "reference statistics of dimension %d for a classifier with %d features",
                    reference->dim, F);
        return FALSE;
    }
    for (gint64 i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= K) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "image %" G_GINT64_FORMAT " is labelled %d; classes are 0 … %d", i,
                        labels[i], K - 1);
            return FALSE;
        }
    }
    g_autofree float *features = g_new(float, n * F); /* (n, F) */
    g_autofree float *logits = g_new(float, n * K);   /* (n, K) */
    if (!aigc_classifier_features(clf, images, n, features, logits, job, error))
        return FALSE;
    gint64 correct = 0;
    for (gint64 i = 0; i < n; i++) {
        const float *row = logits + i * K;
        int best = 0;
        for (int k = 1; k < K; k++)
            if (row[k] > row[best])
                best = k;
        correct += best == labels[i];
    }
    g_autoptr(AigcGaussianStats) stats = aigc_gaussian_stats_fit(features, n, F, error);
    if (!stats)
        return FALSE;
    double fid;
    if (!aigc_frechet_distance(stats, reference, &fid, error))
        return FALSE;
    result->n = n;
    result->classifier_accuracy = (double)correct / (double)n;
    result->fid = fid;
    return TRUE;
}

gboolean aigc_image_eval_generator(AigcClassifier *clf, const AigcGaussianStats *reference,
                                   AigcImageSampleFunc sample, gpointer model, gint64 n, int batch,
                                   guint64 seed, AigcJob *job, AigcImageEvalResult *result,
                                   GError **error)
{
    g_return_val_if_fail(sample && batch >= 1, FALSE);
    const AigcClassifierConfig *c = aigc_classifier_get_config(clf);
    if (n < 2 || n > 1000000) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the number of images to judge must be 2 … 1000000, not %" G_GINT64_FORMAT,
                    n);
        return FALSE;
    }
    const gint64 n_pixels = (gint64)c->image_size * c->image_size;
    g_autofree float *images = g_new(float, n * n_pixels); /* (n, S, S) */
    g_autofree gint32 *labels = g_new(gint32, n);
    for (gint64 i = 0; i < n; i++)
        labels[i] = (gint32)(i % c->n_classes);
    for (gint64 i = 0, b = 0; i < n; i += batch, b++) {
        if (job) {
            g_autofree char *stage =
                g_strdup_printf("generating %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, i, n);
            aigc_job_report_progress(job, (double)i / n, stage);
        }
        const gint64 m = MIN(batch, n - i);
        if (!sample(model, labels + i, m, seed + (guint64)b, images + i * n_pixels, job, error))
            return FALSE;
    }
    if (job)
        aigc_job_report_progress(job, 1.0, "judging the images");
    return aigc_image_eval_images(clf, reference, images, labels, n, job, result, error);
}
