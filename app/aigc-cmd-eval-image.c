/* SPDX-License-Identifier: MIT
 *
 * `aigc eval image`: the quality of an image model. For the Fashion-MNIST classifier itself, its
 * accuracy on the test split (last line `test_accuracy: X`). For a generator, the classifier's
 * accuracy on images generated for each class (`classifier_accuracy: X`) and the Fréchet
 * distance of their features to the test split's (`fid: Y`, the last line) — through
 * aigc_image_eval_generator: aigc-cmd-eval-diffusion.c for diffusion, aigc-cmd-eval-generator.c
 * for the DCGAN and the VAE. A text model (the emoji one) is judged by prompts of emoji names:
 * aigc-cmd-eval-prompts.c (last line `name_top5: X`).
 */
#include "aigc-cli.h"

#include "io/aigc-idx.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    AigcClassifier *clf;
    char *data_dir;
    gint64 n;
    gint64 n_done;
    double accuracy;
} ClassifierEval;

static void classifier_eval_free(gpointer data)
{
    ClassifierEval *e = data;
    aigc_classifier_free(e->clf);
    g_free(e->data_dir);
    g_free(e);
}

static gboolean run_classifier_eval(AigcJob *job, gpointer data, GError **error)
{
    ClassifierEval *e = data;
    aigc_job_report_progress(job, 0, "reading the Fashion-MNIST test split");
    AigcFashionMnist test;
    if (!aigc_fashion_mnist_load(e->data_dir, FALSE, &test, error))
        return FALSE;
    e->n_done = e->n > 0 ? MIN(e->n, test.n) : test.n;
    aigc_job_report_progress(job, 0.1, "classifying the test images");
    gboolean ok =
        aigc_classifier_accuracy(e->clf, test.images, test.labels, e->n_done, job, &e->accuracy,
                                 error);
    aigc_fashion_mnist_clear(&test);
    if (!ok && error && *error &&
        g_error_matches(*error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED))
        g_clear_error(error); /* a cancel is not a failure */
    return ok;
}

int aigc_cmd_eval_image(int argc, char **argv)
{
    g_autofree char *model_name = NULL, *classifier = NULL, *data_dir = NULL, *sampler_name = NULL;
    gint64 n = 0, seed = 1;
    int steps = 50;
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &model_name, "Model name or file", "NAME"},
        {"n", 'n', 0, G_OPTION_ARG_INT64, &n,
         "Images to judge (generators: 1000; the classifier: the whole test split)", "N"},
        {"classifier", 0, 0, G_OPTION_ARG_STRING, &classifier,
         "Generators: the judging classifier, a name or file (classifier-fashion)", "FILE"},
        {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Generators: seed of the generated images (1)", "S"},
        {"sampler", 0, 0, G_OPTION_ARG_STRING, &sampler_name, "Diffusion: ddim (default) or ddpm",
         "NAME"},
        {"steps", 0, 0, G_OPTION_ARG_INT, &steps, "Diffusion: sampling steps (50)", "N"},
        {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
         "Folder with the Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist); for "
         "a text model, the emoji set file",
         "DIR"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(
        context, "Measure an image model. For the Fashion-MNIST classifier: its accuracy on the "
                 "test split (last line “test_accuracy: X”). For a generator: the classifier's "
                 "accuracy on images generated for each class (“classifier_accuracy: X”) and the "
                 "Fréchet distance of their penultimate features to the test images' (last line "
                 "“fid: Y”). For a text model: how often the image drawn for an emoji's name is "
                 "nearest that emoji (last line “name_top5: X”).");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "eval image", &argc, &argv, &status))
        return status;
    if (argc != 1)
        return aigc_cli_usage_error("eval image", "unexpected argument “%s”", argv[1]);
    if (!model_name)
        return aigc_cli_usage_error("eval image", "missing --model NAME (see `aigc models`)");
    if (n != 0 && (n < 2 || n > 1000000))
        return aigc_cli_usage_error("eval image", "--n must be 2 … 1000000");
    if (seed < 0)
        return aigc_cli_usage_error("eval image", "--seed must not be negative");
    AigcSamplerKind sampler = AIGC_SAMPLER_DDIM;
    GError *sampler_error = NULL;
    if (sampler_name && !aigc_sampler_from_name(sampler_name, &sampler, &sampler_error)) {
        status = aigc_cli_usage_error("eval image", "%s", sampler_error->message);
        g_error_free(sampler_error);
        return status;
    }
    if (steps < 1 || steps > 1000)
        return aigc_cli_usage_error("eval image", "--steps must be 1 … 1000");

    GError *error = NULL;
    g_autoptr(AigcModelInfo) info = aigc_models_find(model_name, &error);
    if (!info) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    if (strcmp(info->family, AIGC_DIFFUSION_FAMILY) == 0) {
        g_autoptr(AigcImageModel) model = aigc_image_model_load(info->path, &error);
        if (!model) {
            status = aigc_cli_fail(error);
            g_error_free(error);
            return status;
        }
        if (aigc_image_model_get_caps(model) & AIGC_IMAGE_CAP_PROMPT)
            return aigc_cli_eval_prompts(model, data_dir, n, seed, sampler, steps);
        return aigc_cli_eval_diffusion(info->path, classifier, data_dir, n, seed, sampler, steps);
    }
    if (strcmp(info->family, AIGC_DCGAN_FAMILY) == 0 || strcmp(info->family, AIGC_VAE_FAMILY) == 0)
        return aigc_cli_eval_generator(info->path, classifier, data_dir, n, seed);
    if (strcmp(info->family, AIGC_CLASSIFIER_FAMILY) != 0) {
        const AigcModelClass *k = aigc_registry_find(info->family);
        if (k && k->modality != AIGC_MODALITY_IMAGE)
            fprintf(stderr, "aigc: %s is a %s model (family %s), not an image model\n",
                    info->path, aigc_modality_name(k->modality), info->family);
        else
            fprintf(stderr,
                    "aigc: %s: no image generator of family “%s” is built into this version, "
                    "so it cannot be judged\n",
                    info->path, info->family);
        return AIGC_EXIT_FAILURE;
    }
    AigcClassifier *clf = aigc_classifier_load_file(info->path, &error);
    if (!clf) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    ClassifierEval *e = g_new0(ClassifierEval, 1);
    e->clf = clf;
    e->data_dir = g_strdup(data_dir);
    e->n = n;
    g_autoptr(AigcJob) job = aigc_job_new("evaluate", run_classifier_eval, e,
                                          classifier_eval_free);
    status = aigc_cli_run_job(job);
    if (status == AIGC_EXIT_OK)
        printf("model: %s\nfamily: %s\ntest_images: %" G_GINT64_FORMAT "\ntest_accuracy: %.4f\n",
               info->path, info->family, e->n_done, e->accuracy);
    return status;
}
