/* SPDX-License-Identifier: MIT
 *
 * `aigc train image --model vae --data fashion`: the class-conditional convolutional VAE
 * (engine/models/vae). Called by `aigc train image` once it has parsed the common options;
 * progress shows the loss and its two terms, images/s and the time left; a grid of samples from
 * the prior (one row per class) is written every sample_every steps; OUT.ckpt lets --resume
 * continue; Ctrl-C saves and stops.
 */
#include "aigc-cli.h"

#include <stdio.h>
#include <string.h>

int aigc_cli_train_vae(const char *data, const char *data_dir, const char *output,
                       const char *title, gboolean resume, char **sets, const char *command_line)
{
    if (strcmp(data, "fashion") != 0)
        return aigc_cli_usage_error("train image", "the VAE learns --data fashion, not “%s”", data);
    AigcVaeTrainParams *p = aigc_vae_train_params_new();
    p->data_dir = g_strdup(data_dir);
    p->output = g_strdup(output);
    p->title = g_strdup(title);
    p->resume = resume;
    p->command_line = g_strdup(command_line);
    int status =
        aigc_cli_apply_sets("train image", sets, (AigcCliSetFunc)aigc_vae_train_params_set, p);
    if (status != 0) {
        aigc_vae_train_params_free(p);
        return status;
    }
    GError *error = NULL;
    if (!aigc_vae_config_validate(&p->config, &error)) {
        status = aigc_cli_usage_error("train image", "%s", error->message);
        g_error_free(error);
        aigc_vae_train_params_free(p);
        return status;
    }
    g_autoptr(AigcJob) job = aigc_vae_train_job_new(p);
    status = aigc_cli_run_job(job);
    AigcVaeTrainResult *r = aigc_job_get_result(job);
    if (r) {
        printf("steps: %" G_GINT64_FORMAT "\nseconds: %.1f\ntrain_loss: %.4f\nrecon: %.4f\n"
               "kl: %.4f\n",
               r->steps_done, r->seconds, r->loss, r->recon, r->kl);
        if (r->samples_path)
            printf("samples: %s\n", r->samples_path);
        printf("model: %s\n", output);
    }
    return status;
}
