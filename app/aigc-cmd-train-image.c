/* SPDX-License-Identifier: MIT
 *
 * `aigc train image`: train an image model: the Fashion-MNIST classifier that judges the image
 * generators, or a generator (diffusion, DCGAN, VAE — each in its own aigc-cmd-train-*.c);
 * progress, checkpoints, --resume and Ctrl-C work as in `aigc train text`.
 */
#include "aigc-cli.h"

#include <stdio.h>
#include <string.h>

static char *command_line_of(int argc, char **argv)
{
    GString *cl = g_string_new("aigc train image");
    for (int i = 1; i < argc; i++) {
        g_autofree char *q = g_shell_quote(argv[i]);
        g_string_append_printf(cl, " %s", q);
    }
    return g_string_free(cl, FALSE);
}

int aigc_cmd_train_image(int argc, char **argv)
{
    g_autofree char *family = NULL, *data = NULL, *data_dir = NULL, *output = NULL, *title = NULL;
    g_auto(GStrv) sets = NULL;
    gboolean resume = FALSE;
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &family,
         "Family: classifier, diffusion, dcgan or vae", "FAMILY"},
        {"data", 'd', 0, G_OPTION_ARG_STRING, &data, "Data set: fashion", "NAME"},
        {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
         "Folder with the Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist)",
         "DIR"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Model file to write", "OUT"},
        {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
         "key=value: steps, batch_size, lr, lr_min, warmup, weight_decay, flip (0/1), "
         "eval_every, checkpoint_every, seed, limit_train, limit_test, dtype; classifier: c1, c2, "
         "c3, hidden, dropout; diffusion: grad_clip, ema_decay, p_uncond, sample_every, "
         "sample_steps, sample_columns, sample_guidance, ch, ch_mult, n_res_blocks, n_heads, "
         "norm_groups, dropout, schedule, n_timesteps; dcgan: lr_g, lr_d, lr_final, beta1, "
         "real_label, ema_decay, sample_every, sample_columns, nz, ngf, ndf; vae: lr_min, "
         "warmup, beta, kl_warmup, grad_clip, sample_every, sample_columns, ch, hidden, latent",
         "KEY=VALUE"},
        {"resume", 0, 0, G_OPTION_ARG_NONE, &resume, "Continue from OUT.ckpt", NULL},
        {"title", 0, 0, G_OPTION_ARG_STRING, &title, "A title shown in model lists", "TEXT"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(
        context, "Train an image model. The classifier learns the 60,000 Fashion-MNIST training "
                 "images; progress shows loss and images per second, the test accuracy is "
                 "measured every eval_every steps and logged to OUT.csv; OUT.ckpt lets --resume "
                 "continue; Ctrl-C saves and stops. The diffusion model learns to draw them, class "
                 "by class, and writes a grid of samples (one row per class) every sample_every "
                 "steps. The DCGAN and the VAE learn the same, class by class, and write the same "
                 "grids.");
    g_option_context_add_main_entries(context, entries, NULL);
    g_autofree char *command_line = command_line_of(argc, argv);
    int status;
    if (!aigc_cli_parse(context, "train image", &argc, &argv, &status))
        return status;
    if (argc != 1)
        return aigc_cli_usage_error("train image", "unexpected argument “%s”", argv[1]);
    if (!family || !data || !output)
        return aigc_cli_usage_error("train image", "needs --model, --data and -o OUT");
    if (strcmp(family, AIGC_DIFFUSION_FAMILY) == 0)
        return aigc_cli_train_diffusion(data, data_dir, output, title, resume, sets, command_line);
    if (strcmp(family, AIGC_DCGAN_FAMILY) == 0)
        return aigc_cli_train_dcgan(data, data_dir, output, title, resume, sets, command_line);
    if (strcmp(family, AIGC_VAE_FAMILY) == 0)
        return aigc_cli_train_vae(data, data_dir, output, title, resume, sets, command_line);
    if (strcmp(family, AIGC_CLASSIFIER_FAMILY) != 0)
        return aigc_cli_usage_error("train image",
                                    "unknown image model family “%s” (this version: classifier, "
                                    "diffusion, dcgan, vae)",
                                    family);
    if (strcmp(data, "fashion") != 0)
        return aigc_cli_usage_error("train image", "the classifier learns --data fashion, not “%s”",
                                    data);
    AigcClassifierTrainParams *p = aigc_classifier_train_params_new();
    p->data_dir = g_strdup(data_dir);
    p->output = g_strdup(output);
    p->title = g_strdup(title);
    p->resume = resume;
    p->command_line = g_steal_pointer(&command_line);
    status = aigc_cli_apply_sets("train image", sets,
                                 (AigcCliSetFunc)aigc_classifier_train_params_set, p);
    if (status != 0) {
        aigc_classifier_train_params_free(p);
        return status;
    }
    g_autoptr(AigcJob) job = aigc_classifier_train_job_new(p);
    status = aigc_cli_run_job(job);
    AigcClassifierTrainResult *r = aigc_job_get_result(job);
    if (r) {
        printf("steps: %" G_GINT64_FORMAT "\nseconds: %.1f\ntrain_loss: %.4f\n", r->steps_done,
               r->seconds, r->train_loss);
        if (r->test_accuracy >= 0)
            printf("test_accuracy: %.4f\n", r->test_accuracy);
        printf("model: %s\n", output);
    }
    return status;
}
