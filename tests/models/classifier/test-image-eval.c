/* SPDX-License-Identifier: MIT
 *
 * Judging generators with a (small, quickly trained) classifier: a "generator" that hands back
 * real test images of the asked class is classified well and lies close to the test split; one
 * that hands back images of the next class is classified badly but lies as close (its images,
 * over all classes, are as varied); one that hands back only sandals and one that hands back
 * noise lie far. The test split's statistics are cached by the classifier's checksum, and a damaged cache
 * is recomputed.
 */
#include "aigc-test-support.h"
#include "io/aigc-idx.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static AigcFashionMnist train_set, test_set;

typedef struct {
    int shift;        /* class offset of the images handed back; −1: uniform noise; −2: only
                         sandals (class 5), whatever is asked */
    int next[10];     /* per class, the next test image to look at (from image 2,000 on) */
} FakeGenerator;

static gboolean fake_sample(gpointer model, const gint32 *labels, gint64 n, guint64 seed,
                            float *images, AigcJob *job, GError **error)
{
    FakeGenerator *g = model;
    for (gint64 i = 0; i < n; i++) {
        float *out = images + i * 784;
        if (g->shift == -1) {
            AigcRng rng;
            aigc_rng_init(&rng, seed * 1000 + (guint64)i);
            aigc_rng_fill_uniform(&rng, out, 784, 0, 1);
            continue;
        }
        const int want = g->shift == -2 ? 5 : (labels[i] + g->shift) % 10;
        int *k = &g->next[want];
        while (test_set.labels[*k] != want)
            *k = (*k + 1) % test_set.n;
        memcpy(out, test_set.images + (gint64)*k * 784, 784 * sizeof(float));
        *k = (*k + 1) % test_set.n;
    }
    return TRUE;
}

static AigcClassifier *quick_classifier(void)
{
    AigcClassifierConfig c = aigc_classifier_default_config();
    c.c1 = 8;
    c.c2 = 8;
    c.c3 = 16;
    c.hidden = 32;
    c.dropout = 0.0f;
    AigcClassifier *clf = aigc_classifier_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    aigc_classifier_init_weights(clf, &rng);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    g_autoptr(AigcOptimizer) opt =
        aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, aigc_classifier_get_params(clf));
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    enum { B = 32, STEPS = 150 };
    for (int step = 0; step < STEPS; step++) {
        const gint64 first = (gint64)step * B % (train_set.n - B);
        aigc_ctx_reset(ctx);
        aigc_params_zero_grad(aigc_classifier_get_params(clf));
        AigcTensor *loss = aigc_classifier_loss(ctx, clf, train_set.images + first * 784,
                                                train_set.labels + first, B);
        aigc_ctx_backward(ctx, loss);
        aigc_optimizer_step(opt, 3e-3f);
    }
    return clf;
}

static void test_generators(void)
{
    g_autoptr(AigcClassifier) clf = quick_classifier();
    /* The reference: features of the first 2,000 test images (the fakes draw from the rest). */
    enum { N_REF = 2000, N = 500 };
    const int F = aigc_classifier_get_feature_dim(clf);
    float *features = g_new(float, N_REF * F);
    GError *error = NULL;
    g_assert_true(aigc_classifier_features(clf, test_set.images, N_REF, features, NULL, NULL,
                                           &error));
    g_autoptr(AigcGaussianStats) ref = aigc_gaussian_stats_fit(features, N_REF, F, &error);
    g_assert_no_error(error);
    g_free(features);

    AigcImageEvalResult real, shifted, collapsed, noise;
    FakeGenerator g = {.shift = 0};
    for (int c = 0; c < 10; c++)
        g.next[c] = N_REF;
    g_assert_true(aigc_image_eval_generator(clf, ref, fake_sample, &g, N, 64, 1, NULL, &real,
                                            &error));
    g_assert_no_error(error);
    g.shift = 1;
    g_assert_true(aigc_image_eval_generator(clf, ref, fake_sample, &g, N, 64, 1, NULL, &shifted,
                                            &error));
    g.shift = -2;
    g_assert_true(aigc_image_eval_generator(clf, ref, fake_sample, &g, N, 64, 1, NULL,
                                            &collapsed, &error));
    g.shift = -1;
    g_assert_true(aigc_image_eval_generator(clf, ref, fake_sample, &g, N, 64, 1, NULL, &noise,
                                            &error));
    g_test_message("accuracy, fid — real: %.3f, %.3f; next class: %.3f, %.3f; sandals only: "
                   "%.3f, %.3f; noise: %.3f, %.3f",
                   real.classifier_accuracy, real.fid, shifted.classifier_accuracy, shifted.fid,
                   collapsed.classifier_accuracy, collapsed.fid, noise.classifier_accuracy,
                   noise.fid);
    g_assert_cmpint(real.n, ==, N);
    g_assert_cmpfloat(real.classifier_accuracy, >, 0.6);
    g_assert_cmpfloat(shifted.classifier_accuracy, <, 0.25);
    g_assert_cmpfloat(collapsed.classifier_accuracy, <, 0.2);
    g_assert_cmpfloat(fabs(real.fid - shifted.fid), <, 0.5 * real.fid);
    g_assert_cmpfloat(collapsed.fid, >, 5 * real.fid);
    g_assert_cmpfloat(noise.fid, >, 5 * real.fid);

    /* Bad input: labels out of range, too few images. */
    gint32 labels[2] = {0, 10};
    g_assert_false(aigc_image_eval_images(clf, ref, test_set.images, labels, 2, NULL, &real,
                                          &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(aigc_image_eval_generator(clf, ref, fake_sample, &g, 1, 64, 1, NULL, &real,
                                             &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
}

static int n_warnings;

static void count_warnings(AigcLogLevel level, const char *message, gpointer user_data)
{
    if (level >= AIGC_LOG_WARNING)
        n_warnings++;
}

static void test_cache(void)
{
    AigcClassifierConfig c = aigc_classifier_default_config();
    c.c1 = 2;
    c.c2 = 2;
    c.c3 = 2;
    c.hidden = 8;
    g_autoptr(AigcClassifier) clf = aigc_classifier_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    aigc_classifier_init_weights(clf, &rng);
    g_autofree char *dir = g_dir_make_tmp("aigc-fid-cache-XXXXXX", NULL);
    g_autofree char *cache = g_build_filename(dir, "sub", "fid", NULL);
    GError *error = NULL;
    g_autoptr(AigcGaussianStats) first = aigc_image_eval_test_stats(clf, NULL, cache, NULL,
                                                                    &error);
    g_assert_no_error(error);
    g_assert_cmpint(first->n, ==, 10000);
    g_assert_cmpint(first->dim, ==, 8);
    /* One file, named by the checksum. */
    g_autofree char *sum = aigc_classifier_dup_checksum(clf);
    g_autofree char *name = g_strdup_printf("fashion-test-%.16s.safetensors", sum);
    g_autofree char *path = g_build_filename(cache, name, NULL);
    g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    /* The second call reads it (what it reads is float32). */
    g_autoptr(AigcGaussianStats) second = aigc_image_eval_test_stats(clf, NULL, cache, NULL,
                                                                     &error);
    g_assert_no_error(error);
    for (int i = 0; i < 64; i++)
        g_assert_cmpfloat(fabs(second->cov[i] - first->cov[i]), <=,
                          1e-6 * (1 + fabs(first->cov[i])));
    double d;
    g_assert_true(aigc_frechet_distance(first, second, &d, NULL));
    g_assert_cmpfloat(d, <, 1e-6);
    /* A damaged cache is recomputed (with a warning) and rewritten. */
    g_assert_true(g_file_set_contents(path, "damaged", -1, NULL));
    aigc_log_set_handler(count_warnings, NULL);
    g_autoptr(AigcGaussianStats) third = aigc_image_eval_test_stats(clf, NULL, cache, NULL,
                                                                    &error);
    aigc_log_set_handler(NULL, NULL);
    g_assert_no_error(error);
    g_assert_cmpint(n_warnings, ==, 1);
    g_assert_cmpfloat(fabs(third->mean[0] - first->mean[0]), <, 1e-12);
    g_autoptr(AigcGaussianStats) rewritten = aigc_gaussian_stats_read(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(rewritten->n, ==, 10000);
    g_assert_cmpint(g_remove(path), ==, 0);
    g_assert_cmpint(g_rmdir(cache), ==, 0);
    g_autofree char *sub = g_path_get_dirname(cache);
    g_assert_cmpint(g_rmdir(sub), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(0);
    GError *error = NULL;
    if (!aigc_fashion_mnist_load(NULL, TRUE, &train_set, &error) ||
        !aigc_fashion_mnist_load(NULL, FALSE, &test_set, &error))
        g_error("%s", error->message);
    g_test_add_func("/models/classifier/eval/generators", test_generators);
    g_test_add_func("/models/classifier/eval/test-stats-cache", test_cache);
    int status = g_test_run();
    aigc_fashion_mnist_clear(&train_set);
    aigc_fashion_mnist_clear(&test_set);
    return status;
}
