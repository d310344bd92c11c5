/* SPDX-License-Identifier: MIT
 *
 * `aigc train image --model diffusion --data fashion|emoji`: the diffusion model
 * (engine/models/diffusion), class-conditional on Fashion-MNIST, text-conditional (each emoji's
 * name) on the emoji set. Called by `aigc train image` once it has parsed the common
 * options; progress shows loss, images/s and the time left; a grid of samples (one row per
 * class) is written every sample_every steps; OUT.ckpt lets --resume continue; Ctrl-C saves and
 * stops.
 */
#include "aigc-cli.h"

#include <stdio.h>
#include <string.h>

int aigc_cli_train_diffusion(const char *data, const char *data_dir, const char *output,
                             const char *title, gboolean resume, char **sets,
                             const char *command_line)
{
    if (strcmp(data, "fashion") != 0 && strcmp(data, "emoji") != 0)
        return aigc_cli_usage_error(
            "train image", "the diffusion model learns --data fashion or emoji, not “%s”", data);
    AigcDiffusionTrainParams *p = aigc_diffusion_train_params_new();
    p->data = g_strdup(data);
    p->data_dir = g_strdup(data_dir);
    p->output = g_strdup(output);
    p->title = g_strdup(title);
    p->resume = resume;
    p->command_line = g_strdup(command_line);
    int status = aigc_cli_apply_sets("train image", sets,
                                     (AigcCliSetFunc)aigc_diffusion_train_params_set, p);
    if (status != 0) {
        aigc_diffusion_train_params_free(p);
        return status;
    }
    g_autoptr(AigcJob) job = aigc_diffusion_train_job_new(p);
    status = aigc_cli_run_job(job);
    AigcDiffusionTrainResult *r = aigc_job_get_result(job);
    if (r) {
        printf("steps: %" G_GINT64_FORMAT "\nseconds: %.1f\ntrain_loss: %.4f\n", r->steps_done,
               r->seconds, r->train_loss);
        if (r->samples_path)
            printf("samples: %s\n", r->samples_path);
        printf("model: %s\n", output);
    }
    return status;
}
