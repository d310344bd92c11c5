/* SPDX-License-Identifier: MIT
 *
 * `aigc eval image --model NAME` for a diffusion model: n images generated for the classes in
 * turn (DDIM, 50 steps, guidance 3 — the defaults of `aigc image` — unless --sampler and
 * --steps say otherwise), judged by the Fashion-MNIST
 * classifier: its accuracy on them (`classifier_accuracy: X`) and the Fréchet distance of their
 * features to the test split's (`fid: Y`, the last line). Called by `aigc eval image` once it
 * knows the model's family.
 */
#include "aigc-cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    AigcClassifier *clf;
    AigcDiffusion *model;
    char *data_dir;
    gint64 n;
    guint64 seed;
    AigcSamplerKind sampler;
    int steps;
    AigcImageEvalResult result;
} DiffusionEval;

static void diffusion_eval_free(gpointer data)
{
    DiffusionEval *e = data;
    aigc_classifier_free(e->clf);
    aigc_diffusion_free(e->model);
    g_free(e->data_dir);
    g_free(e);
}

static gboolean run_diffusion_eval(AigcJob *job, gpointer data, GError **error)
{
    DiffusionEval *e = data;
    aigc_job_report_progress(job, 0, "the test split's features");
    g_autoptr(AigcGaussianStats) reference =
        aigc_image_eval_test_stats(e->clf, e->data_dir, NULL, job, error);
    if (!reference)
        goto fail;
    AigcDiffusionEvalSampler sampler = {.model = e->model,
                                        .params = aigc_diffusion_sample_default_params()};
    sampler.params.sampler = e->sampler;
    sampler.params.steps = e->steps;
    if (!aigc_image_eval_generator(e->clf, reference, aigc_diffusion_eval_sample, &sampler, e->n,
                                   64, e->seed, job, &e->result, error))
        goto fail;
    return TRUE;
fail:
    if (error && *error && g_error_matches(*error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED))
        g_clear_error(error); /* a cancel is not a failure */
    return FALSE;
}

int aigc_cli_eval_diffusion(const char *model_path, const char *classifier, const char *data_dir,
                            gint64 n, gint64 seed, AigcSamplerKind sampler, int steps)
{
    GError *error = NULL;
    int status;
    g_autoptr(AigcModelInfo) judge =
        aigc_models_find(classifier ? classifier : "classifier-fashion", &error);
    AigcClassifier *clf = judge ? aigc_classifier_load_file(judge->path, &error) : NULL;
    AigcDiffusion *model = clf ? aigc_diffusion_load_file(model_path, &error) : NULL;
    if (!model) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        aigc_classifier_free(clf);
        return status;
    }
    const AigcDiffusionConfig *c = aigc_diffusion_get_config(model);
    const AigcClassifierConfig *k = aigc_classifier_get_config(clf);
    if (c->channels != 1 || c->image_size != k->image_size || c->n_classes != k->n_classes) {
        fprintf(stderr,
                "aigc: %s makes %d×%d images with %d channel(s) and %d classes; the classifier "
                "%s judges %d×%d gray images of %d classes\n",
                model_path, c->image_size, c->image_size, c->channels, c->n_classes, judge->path,
                k->image_size, k->image_size, k->n_classes);
        aigc_classifier_free(clf);
        aigc_diffusion_free(model);
        return AIGC_EXIT_FAILURE;
    }
    DiffusionEval *e = g_new0(DiffusionEval, 1);
    e->clf = clf;
    e->model = model;
    e->data_dir = g_strdup(data_dir);
    e->n = n > 0 ? n : 1000;
    e->seed = (guint64)seed;
    e->sampler = sampler;
    e->steps = steps;
    g_autoptr(AigcJob) job = aigc_job_new("evaluate", run_diffusion_eval, e, diffusion_eval_free);
    status = aigc_cli_run_job(job);
    if (status == AIGC_EXIT_OK)
        printf("model: %s\nfamily: %s\nclassifier: %s\nsampler: %s, %d steps, guidance 3\n"
               "images: %" G_GINT64_FORMAT "\nclassifier_accuracy: %.4f\nfid: %.4f\n",
               model_path, AIGC_DIFFUSION_FAMILY, judge->path,
               sampler == AIGC_SAMPLER_DDPM ? "DDPM" : "DDIM", steps, e->result.n,
               e->result.classifier_accuracy, e->result.fid);
    return status;
}
