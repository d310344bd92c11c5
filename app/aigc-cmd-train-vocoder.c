/* SPDX-License-Identifier: MIT
 *
 * `aigc train vocoder --model melgan|wavenet --data DIR -o OUT`: train a neural vocoder on a
 * speech corpus (e.g. data/cache/speech/slt from data/speech/prepare-teacher.py). Progress shows
 * the losses, segments per second and the time left; OUT.csv logs every step; a WAV of a test
 * sentence is written every sample_every steps; OUT.ckpt lets --resume continue; Ctrl-C saves
 * and stops.
 */
#include "aigc-cli.h"

#include <stdio.h>
#include <string.h>

static char *command_line_of(int argc, char **argv)
{
    GString *cl = g_string_new("aigc train vocoder");
    for (int i = 1; i < argc; i++) {
        g_autofree char *q = g_shell_quote(argv[i]);
        g_string_append_printf(cl, " %s", q);
    }
    return g_string_free(cl, FALSE);
}

int aigc_cmd_train_vocoder(int argc, char **argv)
{
    g_autofree char *family = NULL, *data = NULL, *output = NULL, *title = NULL;
    g_autofree char *samples = NULL;
    g_auto(GStrv) sets = NULL;
    gboolean resume = FALSE;
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &family, "Family: melgan or wavenet", "FAMILY"},
        {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data,
         "Speech corpus folder: train.txt (ID|text) with train/ID.wav, optional test.txt and "
         "test/ (or WAV files in train/)",
         "DIR"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Model file to write", "OUT"},
        {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
         "key=value: steps, batch_size, segment (samples), lr, lr_min, lr_d, warmup, beta1, "
         "beta2, grad_clip, disc_start, stft_weight, adv_weight, fm_weight, mel_weight, "
         "checkpoint_every, sample_every, seed, threads, limit, dtype; melgan: channels, "
         "upsample (8,8,2,2), n_res, dilation_base, slope, disc_scales, disc_channels, "
         "disc_max_channels; wavenet: "
         "residual_channels, gate_channels, skip_channels, cond_channels, n_layers, n_stacks, "
         "preemphasis (0.97; 0: model the audio itself)",
         "KEY=VALUE"},
        {"samples", 0, 0, G_OPTION_ARG_FILENAME, &samples,
         "Folder for the audio samples (default: OUT without .safetensors + .samples)", "DIR"},
        {"resume", 0, 0, G_OPTION_ARG_NONE, &resume, "Continue from OUT.ckpt", NULL},
        {"title", 0, 0, G_OPTION_ARG_STRING, &title, "A title shown in model lists", "TEXT"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(
        context,
        "Train a vocoder (mel spectrogram → audio) on random segments of a speech corpus. The "
        "log-mels are computed once and cached beside the audio (SPLIT.mels.safetensors). "
        "Progress shows the losses, segments per second and the time left; OUT.csv logs every "
        "step; a WAV of the first test sentence is written every sample_every steps; OUT.ckpt "
        "lets --resume continue; Ctrl-C saves and stops.");
    g_option_context_add_main_entries(context, entries, NULL);
    g_autofree char *command_line = command_line_of(argc, argv);
    int status;
    if (!aigc_cli_parse(context, "train vocoder", &argc, &argv, &status))
        return status;
    if (argc != 1)
        return aigc_cli_usage_error("train vocoder", "unexpected argument “%s”", argv[1]);
    if (!family || !data || !output)
        return aigc_cli_usage_error("train vocoder", "needs --model, --data and -o OUT");
    if (strcmp(family, "melgan") != 0 && strcmp(family, "wavenet") != 0)
        return aigc_cli_usage_error(
            "train vocoder", "unknown vocoder family “%s” (this version: melgan, wavenet)", family);
    AigcVocoderTrainParams *p = aigc_vocoder_train_params_new(family);
    p->data_dir = g_strdup(data);
    p->output = g_strdup(output);
    p->title = g_strdup(title);
    p->samples_dir = g_strdup(samples);
    p->resume = resume;
    p->command_line = g_steal_pointer(&command_line);
    for (int i = 0; sets && sets[i]; i++) {
        char *eq = strchr(sets[i], '=');
        if (!eq) {
            aigc_vocoder_train_params_free(p);
            return aigc_cli_usage_error("train vocoder", "--set needs KEY=VALUE, not “%s”",
                                        sets[i]);
        }
        *eq = '\0';
        GError *error = NULL;
        if (!aigc_vocoder_train_params_set(p, sets[i], eq + 1, &error)) {
            status = aigc_cli_usage_error("train vocoder", "%s", error->message);
            g_error_free(error);
            aigc_vocoder_train_params_free(p);
            return status;
        }
    }
    g_autoptr(AigcJob) job = aigc_vocoder_train_job_new(p);
    status = aigc_cli_run_job(job);
    AigcVocoderTrainResult *r = aigc_job_get_result(job);
    if (r) {
        printf("steps: %" G_GINT64_FORMAT "\nseconds: %.1f\nseconds_per_step: %.3f\n",
               r->steps_done, r->seconds, r->seconds_per_step);
        if (!strcmp(family, "melgan"))
            printf("stft_loss: %.4f\ngenerator_loss: %.4f\n", r->stft, r->loss);
        else
            printf("train_nats_per_sample: %.4f\n", r->loss);
        if (r->last_sample)
            printf("sample: %s\n", r->last_sample);
        printf("model: %s\n", output);
    }
    return status;
}
