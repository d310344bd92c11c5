/* SPDX-License-Identifier: MIT
 *
 * The Fashion-MNIST classifier: shapes of logits, features and gradients; features of a batch
 * equal to those of each image alone; a small network fits 64 training images; save and load
 * keep the logits; bad files and configs are refused; the training job gives the same model for
 * the same seed and the same model when stopped and resumed.
 */
#include "aigc-test-support.h"
#include "io/aigc-idx.h"
#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *dir;
static AigcFashionMnist train_set;

static AigcClassifierConfig small_config(void)
{
    AigcClassifierConfig c = aigc_classifier_default_config();
    c.c1 = 4;
    c.c2 = 8;
    c.c3 = 8;
    c.hidden = 16;
    c.dropout = 0.0f;
    return c;
}

static AigcClassifier *small_classifier(guint64 seed)
{
    AigcClassifierConfig c = small_config();
    AigcClassifier *clf = aigc_classifier_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    aigc_classifier_init_weights(clf, &rng);
    return clf;
}

static void test_shapes(void)
{
    g_autoptr(AigcClassifier) clf = small_classifier(1);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *features = NULL;
    AigcTensor *logits = aigc_classifier_forward(ctx, clf, train_set.images, 3, &features);
    g_assert_cmpint(logits->n_dims, ==, 2);
    g_assert_cmpint(logits->shape[0], ==, 3);
    g_assert_cmpint(logits->shape[1], ==, 10);
    g_assert_cmpint(features->shape[0], ==, 3);
    g_assert_cmpint(features->shape[1], ==, 16);
    for (gint64 i = 0; i < features->n_elements; i++)
        g_assert_cmpfloat(features->data[i], >=, 0.0f); /* after ReLU */
    /* Every parameter gets a gradient of its own shape, and none is all zero. */
    aigc_ctx_reset(ctx);
    AigcParams *params = aigc_classifier_get_params(clf);
    aigc_params_zero_grad(params);
    AigcTensor *loss = aigc_classifier_loss(ctx, clf, train_set.images, train_set.labels, 8);
    g_assert_cmpint(loss->n_elements, ==, 1);
    g_assert_true(isfinite(loss->data[0]));
    aigc_ctx_backward(ctx, loss);
    g_assert_cmpuint(aigc_params_get_n(params), ==, 10);
    for (guint i = 0; i < aigc_params_get_n(params); i++) {
        AigcTensor *p = aigc_params_get(params, i);
        double norm = 0;
        for (gint64 k = 0; k < p->n_elements; k++)
            norm += (double)p->grad[k] * p->grad[k];
        if (!(norm > 0))
            g_error("%s has no gradient", p->name);
    }
    g_assert_cmpint(aigc_classifier_get_feature_dim(clf), ==, 16);
}

static gboolean do_nothing(AigcJob *job, gpointer params, GError **error)
{
    return TRUE;
}

/* The batched inference (INFER_BATCH 128) gives each image the features it has alone. */
static void test_features_batched(void)
{
    g_autoptr(AigcClassifier) clf = small_classifier(2);
    enum { N = 300, F = 16, K = 10 };
    float *features = g_new(float, N * F), *logits = g_new(float, N * K);
    GError *error = NULL;
    g_assert_true(
        aigc_classifier_features(clf, train_set.images, N, features, logits, NULL, &error));
    g_assert_no_error(error);
    const int probes[] = {0, 127, 128, 255, 299};
    for (guint i = 0; i < G_N_ELEMENTS(probes); i++) {
        float one_f[F], one_l[K];
        const int k = probes[i];
        g_assert_true(aigc_classifier_features(clf, train_set.images + k * 784, 1, one_f, one_l,
                                               NULL, NULL));
        aigc_test_assert_close(one_f, features + k * F, F, 1e-5, 1e-5, "features");
        aigc_test_assert_close(one_l, logits + k * K, K, 1e-5, 1e-5, "logits");
    }
    /* A cancelled job stops it. */
    g_autoptr(AigcJob) job = aigc_job_new("x", do_nothing, NULL, NULL);
    aigc_job_cancel(job);
    g_assert_false(aigc_classifier_features(clf, train_set.images, N, features, NULL, job,
                                            &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
    g_clear_error(&error);
    g_free(features);
    g_free(logits);
}

/* A small network learns 64 images by heart. */
static void test_overfit(void)
{
    enum { N = 64 };
    g_autoptr(AigcClassifier) clf = small_classifier(3);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    g_autoptr(AigcOptimizer) opt =
        aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, aigc_classifier_get_params(clf));
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    double acc = 0, first_loss = 0, loss = 0;
    int step;
    for (step = 0; step < 300 && acc < 1.0; step++) {
        aigc_ctx_reset(ctx);
        aigc_params_zero_grad(aigc_classifier_get_params(clf));
        AigcTensor *l = aigc_classifier_loss(ctx, clf, train_set.images, train_set.labels, N);
        aigc_ctx_backward(ctx, l);
        aigc_optimizer_step(opt, 5e-3f);
        loss = l->data[0];
        if (step == 0)
            first_loss = loss;
        if (step % 10 == 9)
            g_assert_true(aigc_classifier_accuracy(clf, train_set.images, train_set.labels, N,
                                                   NULL, &acc, NULL));
    }
    g_test_message("overfit: %d steps, loss %.3f → %.3f, accuracy %.3f", step, first_loss, loss,
                   acc);
    g_assert_cmpfloat(acc, ==, 1.0);
    g_assert_cmpfloat(loss, <, first_loss / 4);
}

static void test_save_load(void)
{
    g_autoptr(AigcClassifier) clf = small_classifier(4);
    g_autofree char *path = g_build_filename(dir, "clf.safetensors", NULL);
    GError *error = NULL;
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_classifier_save(clf, w, AIGC_DTYPE_F32, &error));
        g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, &error));
        g_assert_no_error(error);
    }
    g_autoptr(AigcClassifier) back = aigc_classifier_load_file(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_classifier_get_config(back)->hidden, ==, 16);
    float a[4 * 10], b[4 * 10];
    g_assert_true(aigc_classifier_features(clf, train_set.images, 4, NULL, a, NULL, NULL));
    g_assert_true(aigc_classifier_features(back, train_set.images, 4, NULL, b, NULL, NULL));
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    g_autofree char *sum_a = aigc_classifier_dup_checksum(clf);
    g_autofree char *sum_b = aigc_classifier_dup_checksum(back);
    g_assert_cmpstr(sum_a, ==, sum_b);
    g_assert_cmpuint(strlen(sum_a), ==, 64);
    /* Found by the model registry under its family. */
    g_autoptr(AigcModelInfo) info = aigc_models_find(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(info->family, ==, "classifier");
    const AigcModelClass *k = aigc_registry_find("classifier");
    g_assert_nonnull(k);
    g_assert_cmpint(k->modality, ==, AIGC_MODALITY_IMAGE);

    /* Another family, a config the tensors disagree with, a config out of range. */
    const char *cases[][2] = {
        {"gpt", "{\"image_size\": 28, \"n_classes\": 10, \"c1\": 4, \"c2\": 8, \"c3\": 8, "
                "\"hidden\": 16}"},
        {"classifier", "{\"image_size\": 28, \"n_classes\": 10, \"c1\": 4, \"c2\": 8, \"c3\": 8, "
                       "\"hidden\": 17}"},
        {"classifier", "{\"image_size\": 30, \"n_classes\": 10, \"c1\": 4, \"c2\": 8, \"c3\": 8, "
                       "\"hidden\": 16}"},
        {"classifier", "{\"image_size\": 28, \"n_classes\": 10, \"c1\": 4, \"c2\": 8, \"c3\": 8, "
                       "\"hidden\": 1000000000}"},
        {"classifier", "{\"image_size\": 28}"},
        {"classifier", "not json"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *keys[] = {"family", "classifier.config", NULL};
        const char *values[] = {cases[i][0], cases[i][1], NULL};
        g_assert_true(aigc_safetensors_update_metadata(path, keys, values, &error));
        g_assert_no_error(error);
        g_assert_null(aigc_classifier_load_file(path, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
        g_assert_nonnull(strstr(error->message, "clf.safetensors"));
        g_clear_error(&error);
    }
    g_assert_cmpint(g_remove(path), ==, 0);

    AigcClassifierConfig c = aigc_classifier_default_config();
    g_assert_false(aigc_classifier_config_set(&c, "c4", "3", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(aigc_classifier_config_set(&c, "dropout", "1.5", &error));
    g_clear_error(&error);
    g_assert_true(aigc_classifier_config_set(&c, "hidden", "64", &error));
    g_assert_cmpint(c.hidden, ==, 64);
    g_autofree char *json = aigc_classifier_config_to_json(&c);
    AigcClassifierConfig d;
    g_assert_true(aigc_classifier_config_from_json(&d, json, &error));
    g_assert_cmpmem(&c, sizeof c, &d, sizeof d);
}

/* ---- the training job ---- */

static AigcClassifierTrainParams *tiny_params(const char *output, gint64 steps)
{
    AigcClassifierTrainParams *p = aigc_classifier_train_params_new();
    p->output = g_build_filename(dir, output, NULL);
    const char *sets[][2] = {{"c1", "4"},           {"c2", "8"},
                             {"c3", "8"},           {"hidden", "16"},
                             {"batch_size", "16"},  {"limit_train", "200"},
                             {"limit_test", "100"}, {"eval_every", "0"},
                             {"warmup", "2"},       {"checkpoint_every", "2"},
                             {"seed", "7"}};
    for (guint i = 0; i < G_N_ELEMENTS(sets); i++)
        g_assert_true(aigc_classifier_train_params_set(p, sets[i][0], sets[i][1], NULL));
    p->steps = steps;
    return p;
}

static AigcJobState run(AigcClassifierTrainParams *p, AigcJobCallbacks *cb)
{
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    g_autoptr(AigcJob) job = aigc_classifier_train_job_new(p);
    if (cb)
        aigc_job_set_callbacks(job, cb);
    aigc_engine_submit(engine, job);
    return aigc_job_wait(job);
}

static GBytes *weights_of(const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, NULL);
    g_assert_nonnull(st);
    GByteArray *all = g_byte_array_new();
    for (gsize i = 0; i < aigc_safetensors_get_n_tensors(st); i++) {
        const AigcSafetensorsTensor *t = aigc_safetensors_get_tensor(st, i);
        g_byte_array_append(all, t->data, (guint)t->n_bytes);
    }
    return g_byte_array_free_to_bytes(all);
}

static void cancel_halfway(AigcJob *job, double fraction, const char *stage, gpointer data)
{
    if (fraction >= 0.5)
        aigc_job_cancel(job); /* as Ctrl-C after step 3 of 6 */
}

static void test_train_job(void)
{
    /* Same seed, same model; the file records its test accuracy and the training. */
    g_assert_cmpint(run(tiny_params("a.safetensors", 6), NULL), ==, AIGC_JOB_SUCCEEDED);
    g_assert_cmpint(run(tiny_params("b.safetensors", 6), NULL), ==, AIGC_JOB_SUCCEEDED);
    g_autoptr(GBytes) a = weights_of("a.safetensors");
    g_autoptr(GBytes) b = weights_of("b.safetensors");
    g_assert_true(g_bytes_equal(a, b));
    g_autofree char *path = g_build_filename(dir, "a.safetensors", NULL);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, NULL);
    g_assert_cmpstr(aigc_safetensors_get_metadata(st, "family"), ==, "classifier");
    g_assert_nonnull(strstr(aigc_safetensors_get_metadata(st, "metrics"), "\"test_accuracy\": "));
    g_assert_nonnull(strstr(aigc_safetensors_get_metadata(st, "training"), "\"steps\": 6"));

    /* Stopped halfway (it saves before stopping) and resumed: the uninterrupted model. */
    AigcJobCallbacks cb = {.progress = cancel_halfway};
    g_assert_cmpint(run(tiny_params("split.safetensors", 6), &cb), ==, AIGC_JOB_CANCELLED);
    AigcClassifierTrainParams *p = tiny_params("split.safetensors", 6);
    p->resume = TRUE;
    g_assert_cmpint(run(p, NULL), ==, AIGC_JOB_SUCCEEDED);
    g_autoptr(GBytes) split = weights_of("split.safetensors");
    g_assert_true(g_bytes_equal(a, split));

    /* Bad settings are refused by name. */
    AigcClassifierTrainParams *q = aigc_classifier_train_params_new();
    GError *error = NULL;
    g_assert_false(aigc_classifier_train_params_set(q, "batch_size", "0", &error));
    g_assert_nonnull(strstr(error->message, "batch_size"));
    g_clear_error(&error);
    g_assert_false(aigc_classifier_train_params_set(q, "flip", "yes", &error));
    g_clear_error(&error);
    g_assert_false(aigc_classifier_train_params_set(q, "depth", "3", &error));
    g_assert_nonnull(strstr(error->message, "depth"));
    g_clear_error(&error);
    aigc_classifier_train_params_free(q);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(0);
    GError *error = NULL;
    if (!aigc_fashion_mnist_load(NULL, TRUE, &train_set, &error))
        g_error("%s", error->message);
    dir = g_dir_make_tmp("aigc-classifier-XXXXXX", NULL);
    g_test_add_func("/models/classifier/shapes", test_shapes);
    g_test_add_func("/models/classifier/features-batched", test_features_batched);
    g_test_add_func("/models/classifier/overfit", test_overfit);
    g_test_add_func("/models/classifier/save-load", test_save_load);
    g_test_add_func("/models/classifier/train-job", test_train_job);
    int status = g_test_run();
    /* Remove what the job left (models, checkpoints, logs). */
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_remove(path);
    }
    g_rmdir(dir);
    g_free(dir);
    aigc_fashion_mnist_clear(&train_set);
    return status;
}
