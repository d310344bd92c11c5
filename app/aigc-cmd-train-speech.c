/* SPDX-License-Identifier: MIT
 *
 * `aigc train speech`: train a Tacotron 2 voice on a speech corpus (a folder with train.txt of
 * "NAME|sentence" lines and train/NAME.wav recordings, test.* for validation). Progress shows
 * loss, utterances per second and time left; alignment images go to OUT-align/; OUT.csv logs
 * every step; OUT.ckpt lets --resume continue; Ctrl-C saves and stops.
 */
#include "aigc-cli.h"

#include "models/tacotron2/aigc-tacotron2-train.h"

#include <stdio.h>
#include <string.h>

static char *command_line_of(int argc, char **argv)
{
    GString *cl = g_string_new("aigc train speech");
    for (int i = 1; i < argc; i++) {
        g_autofree char *q = g_shell_quote(argv[i]);
        g_string_append_printf(cl, " %s", q);
    }
    return g_string_free(cl, FALSE);
}

int aigc_cmd_train_speech(int argc, char **argv)
{
    g_autofree char *model = NULL, *data = NULL, *cache = NULL, *output = NULL, *title = NULL;
    g_auto(GStrv) sets = NULL;
    gboolean resume = FALSE;
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &model, "Family: tacotron2 (the default)", "FAMILY"},
        {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data,
         "Corpus folder: train.txt (NAME|sentence lines), train/NAME.wav, test.txt, test/", "DIR"},
        {"cache", 0, 0, G_OPTION_ARG_FILENAME, &cache,
         "Folder for the computed features (default: DIR/features-cache)", "DIR"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Model file to write", "OUT"},
        {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
         "key=value: steps, batch_size, lr, lr_min, warmup, decay_start, half_life, "
         "weight_decay, grad_clip, max_frames, eval_every, checkpoint_every, align_every, seed, "
         "dtype; losses: stop_pos_weight, guided_weight, guided_sigma; model: r, embed_dim, "
         "encoder_dim, encoder_n_convs, encoder_kernel, prenet_dim, attention_rnn_dim, "
         "decoder_rnn_dim, attention_dim, location_filters, location_kernel, postnet_dim, "
         "postnet_n_convs, postnet_kernel, p_prenet, p_encoder, p_attention, p_decoder, "
         "p_postnet",
         "KEY=VALUE"},
        {"resume", 0, 0, G_OPTION_ARG_NONE, &resume, "Continue from OUT.ckpt", NULL},
        {"title", 0, 0, G_OPTION_ARG_STRING, &title, "A title shown in model lists", "TEXT"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(
        context, "Train a Tacotron 2 voice (phonemes → mel spectrogram) on a speech corpus. "
                 "Progress shows the loss, utterances per second and the time left; alignment "
                 "images are written to OUT-align/ (a sharp diagonal means the model has learnt "
                 "to read); OUT.csv logs every step; OUT.ckpt lets --resume continue; Ctrl-C "
                 "saves and stops.");
    g_option_context_add_main_entries(context, entries, NULL);
    g_autofree char *command_line = command_line_of(argc, argv);
    int status;
    if (!aigc_cli_parse(context, "train speech", &argc, &argv, &status))
        return status;
    if (argc != 1)
        return aigc_cli_usage_error("train speech", "unexpected argument “%s”", argv[1]);
    if (!data || !output)
        return aigc_cli_usage_error("train speech", "needs --data DIR and -o OUT");
    if (model && strcmp(model, AIGC_TACOTRON2_FAMILY) != 0)
        return aigc_cli_usage_error("train speech",
                                    "unknown speech model family “%s” (this version: tacotron2; "
                                    "vocoders are trained with `aigc train vocoder`)",
                                    model);
    if (!g_file_test(data, G_FILE_TEST_IS_DIR))
        return aigc_cli_usage_error("train speech", "--data %s is not a folder", data);
    AigcTacotron2TrainParams *p = aigc_tacotron2_train_params_new();
    p->data_dir = g_strdup(data);
    p->cache_dir = g_strdup(cache);
    p->output = g_strdup(output);
    p->title = g_strdup(title);
    p->resume = resume;
    p->command_line = g_steal_pointer(&command_line);
    status = aigc_cli_apply_sets("train speech", sets,
                                 (AigcCliSetFunc)aigc_tacotron2_train_params_set, p);
    if (status != 0) {
        aigc_tacotron2_train_params_free(p);
        return status;
    }
    g_autoptr(AigcJob) job = aigc_tacotron2_train_job_new(p);
    status = aigc_cli_run_job(job);
    AigcTacotron2TrainResult *r = aigc_job_get_result(job);
    if (r) {
        printf("steps: %" G_GINT64_FORMAT "\nseconds: %.1f\ntrain_loss: %.4f\n", r->steps_done,
               r->seconds, r->train_loss);
        if (r->val_loss >= 0)
            printf("val_loss: %.4f\n", r->val_loss);
        if (r->focus_rate >= 0)
            printf("focus_rate: %.3f\n", r->focus_rate);
        printf("model: %s\n", output);
    }
    return status;
}
