/* SPDX-License-Identifier: MIT
 *
 * `aigc eval image --model NAME` for the one-pass generators (DCGAN, VAE): n images drawn from
 * the prior for the classes in turn (image i of each batch of 64 from the batch's seed and i),
 * judged by the Fashion-MNIST classifier: its accuracy on them (`classifier_accuracy: X`) and
 * the Fréchet distance of their features to the test split's (`fid: Y`, the last line). Called
 * by `aigc eval image` once it knows the model's family.
 */
#include "aigc-cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    AigcClassifier *clf;
    AigcImageModel *model;
    char *data_dir;
    gint64 n;
    guint64 seed;
    AigcImageEvalResult result;
} GeneratorEval;

static void generator_eval_free(gpointer data)
{
    GeneratorEval *e = data;
    aigc_classifier_free(e->clf);
    aigc_image_model_unref(e->model);
    g_free(e->data_dir);
    g_free(e);
}

static gboolean run_generator_eval(AigcJob *job, gpointer data, GError **error)
{
    GeneratorEval *e = data;
    aigc_job_report_progress(job, 0, "the test split's features");
    g_autoptr(AigcGaussianStats) reference =
        aigc_image_eval_test_stats(e->clf, e->data_dir, NULL, job, error);
    if (!reference ||
        !aigc_image_eval_generator(e->clf, reference, aigc_image_model_eval_sample, e->model,
                                   e->n, 64, e->seed, job, &e->result, error)) {
        if (error && *error &&
            g_error_matches(*error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED))
            g_clear_error(error); /* a cancel is not a failure */
        return FALSE;
    }
    return TRUE;
}

int aigc_cli_eval_generator(const char *model_path, const char *classifier, const char *data_dir,
                            gint64 n, gint64 seed)
{
    GError *error = NULL;
    int status;
    g_autoptr(AigcModelInfo) judge =
        aigc_models_find(classifier ? classifier : "classifier-fashion", &error);
    AigcClassifier *clf = judge ? aigc_classifier_load_file(judge->path, &error) : NULL;
    AigcImageModel *model = clf ? aigc_image_model_load(model_path, &error) : NULL;
    if (!model) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        aigc_classifier_free(clf);
        return status;
    }
    const AigcClassifierConfig *k = aigc_classifier_get_config(clf);
    const int size = aigc_image_model_get_size(model), K = aigc_image_model_get_n_classes(model);
    const int channels = aigc_image_model_get_channels(model);
    if (channels != 1 || size != k->image_size || K != k->n_classes) {
        fprintf(stderr,
                "aigc: %s makes %d×%d images with %d channel(s) and %d classes; the classifier "
                "%s judges %d×%d gray images of %d classes\n",
                model_path, size, size, channels, K, judge->path, k->image_size, k->image_size,
                k->n_classes);
        aigc_classifier_free(clf);
        aigc_image_model_unref(model);
        return AIGC_EXIT_FAILURE;
    }
    GeneratorEval *e = g_new0(GeneratorEval, 1);
    e->clf = clf;
    e->model = model;
    e->data_dir = g_strdup(data_dir);
    e->n = n > 0 ? n : 1000;
    e->seed = (guint64)seed;
    const char *family = aigc_image_model_get_family(model);
    g_autoptr(AigcJob) job = aigc_job_new("evaluate", run_generator_eval, e, generator_eval_free);
    status = aigc_cli_run_job(job);
    if (status == AIGC_EXIT_OK)
        printf("model: %s\nfamily: %s\nclassifier: %s\nsampler: one pass from the prior, seed "
               "%" G_GINT64_FORMAT "\nimages: %" G_GINT64_FORMAT "\nclassifier_accuracy: %.4f\n"
               "fid: %.4f\n",
               model_path, family, judge->path, seed, e->result.n,
               e->result.classifier_accuracy, e->result.fid);
    return status;
}
