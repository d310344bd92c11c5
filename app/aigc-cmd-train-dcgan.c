/* SPDX-License-Identifier: MIT
 *
 * `aigc train image --model dcgan --data fashion`: the class-conditional DCGAN
 * (engine/models/dcgan). Called by `aigc train image` once it has parsed the common options;
 * progress shows both losses, images/s and the time left; a grid of samples (one row per class)
 * is written every sample_every steps; OUT.ckpt lets --resume continue; Ctrl-C saves and stops.
 */
#include "aigc-cli.h"

#include <stdio.h>
#include <string.h>

int aigc_cli_train_dcgan(const char *data, const char *data_dir, const char *output,
                         const char *title, gboolean resume, char **sets, const char *command_line)
{
    if (strcmp(data, "fashion") != 0)
        return aigc_cli_usage_error("train image", "the DCGAN learns --data fashion, not “%s”",
                                    data);
    AigcDcganTrainParams *p = aigc_dcgan_train_params_new();
    p->data_dir = g_strdup(data_dir);
    p->output = g_strdup(output);
    p->title = g_strdup(title);
    p->resume = resume;
    p->command_line = g_strdup(command_line);
    int status =
        aigc_cli_apply_sets("train image", sets, (AigcCliSetFunc)aigc_dcgan_train_params_set, p);
    if (status != 0) {
        aigc_dcgan_train_params_free(p);
        return status;
    }
    GError *error = NULL;
    if (!aigc_dcgan_config_validate(&p->config, &error)) {
        status = aigc_cli_usage_error("train image", "%s", error->message);
        g_error_free(error);
        aigc_dcgan_train_params_free(p);
        return status;
    }
    g_autoptr(AigcJob) job = aigc_dcgan_train_job_new(p);
    status = aigc_cli_run_job(job);
    AigcDcganTrainResult *r = aigc_job_get_result(job);
    if (r) {
        printf("steps: %" G_GINT64_FORMAT "\nseconds: %.1f\nloss_d: %.4f\nloss_g: %.4f\n",
               r->steps_done, r->seconds, r->loss_d, r->loss_g);
        if (r->samples_path)
            printf("samples: %s\n", r->samples_path);
        printf("model: %s\n", output);
    }
    return status;
}
