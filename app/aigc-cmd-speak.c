/* SPDX-License-Identifier: MIT
 *
 * `aigc speak`: read text aloud with a voice (Tacotron 2) and a vocoder (MelGAN, WaveNet or
 * Griffin-Lim), writing a WAV file atomically through libsndfile, optionally playing it.
 */
#include "aigc-cli.h"

#include "io/aigc-audio-file.h"
#include "speech/aigc-speak.h"

#include <stdio.h>
#include <string.h>

static int fail_with(GError *error)
{
    int status = aigc_cli_fail(error);
    g_error_free(error);
    return status;
}

/* Plays a WAV through sox's `play` (the CLI links no audio library); says so when it cannot. */
static void play_file(const char *path)
{
    g_autofree char *play = g_find_program_in_path("play");
    if (!play) {
        fprintf(stderr, "aigc: cannot play: sox's `play` is not installed; the WAV is %s\n", path);
        return;
    }
    g_autoptr(GError) error = NULL;
    int wait_status = 0;
    const char *argv[] = {play, "-q", path, NULL};
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, NULL, NULL, &wait_status, &error) ||
        !g_spawn_check_wait_status(wait_status, NULL))
        fprintf(stderr, "aigc: this machine has no sound output device that answers; the WAV is "
                        "%s\n", path);
}

int aigc_cmd_speak(int argc, char **argv)
{
    g_autofree char *voice_name = NULL, *vocoder_name = NULL, *text = NULL, *file = NULL;
    g_autofree char *format = NULL, *output = NULL;
    double speed = 1.0;
    int rate = 0;
    gint64 seed = 1;
    gboolean play = FALSE;
    GOptionEntry entries[] = {
        {"voice", 'v', 0, G_OPTION_ARG_STRING, &voice_name, "Voice model (Tacotron 2)", "NAME"},
        {"vocoder", 'c', 0, G_OPTION_ARG_STRING, &vocoder_name,
         "Vocoder model, or griffin-lim (griffin-lim)", "NAME"},
        {"text", 't', 0, G_OPTION_ARG_STRING, &text, "Text to read", "TEXT"},
        {"file", 'f', 0, G_OPTION_ARG_FILENAME, &file, "Read the text of a UTF-8 file", "FILE"},
        {"speed", 0, 0, G_OPTION_ARG_DOUBLE, &speed, "0.5 … 2, above 1 is faster (1)", "S"},
        {"rate", 'r', 0, G_OPTION_ARG_INT, &rate, "Sample rate of the file (the voice's)", "HZ"},
        {"format", 0, 0, G_OPTION_ARG_STRING, &format, "pcm16, pcm24 or float (pcm16)", "F"},
        {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (1)", "S"},
        {"play", 0, 0, G_OPTION_ARG_NONE, &play, "Play it when written", NULL},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "WAV file to write", "OUT.wav"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(context, "Read text aloud with a voice and a vocoder and write "
                                          "a WAV file (see `aigc models` for the voices).");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "speak", &argc, &argv, &status))
        return status;
    if (argc != 1)
        return aigc_cli_usage_error("speak", "unexpected argument “%s”", argv[1]);
    if (!voice_name || !output)
        return aigc_cli_usage_error("speak", "needs --voice NAME and -o OUT.wav");
    if (!text == !file)
        return aigc_cli_usage_error("speak", "give --text TEXT or --file FILE");
    AigcWavWriteParams wp = aigc_wav_write_default_params();
    if (format && strcmp(format, "pcm16") == 0)
        wp.encoding = AIGC_AUDIO_PCM16;
    else if (format && strcmp(format, "pcm24") == 0)
        wp.encoding = AIGC_AUDIO_PCM24;
    else if (format && strcmp(format, "float") == 0)
        wp.encoding = AIGC_AUDIO_FLOAT32;
    else if (format)
        return aigc_cli_usage_error("speak", "--format must be pcm16, pcm24 or float");
    if (rate != 0 && (rate < 8000 || rate > 192000))
        return aigc_cli_usage_error("speak", "--rate must be 8000 … 192000 Hz");
    GError *error = NULL;
    if (file && !g_file_get_contents(file, &text, NULL, &error))
        return fail_with(error);
    g_autoptr(AigcModelInfo) info = aigc_models_find(voice_name, &error);
    if (!info)
        return fail_with(error);
    g_autoptr(AigcTacotron2) voice = aigc_tacotron2_load_file(info->path, &error);
    if (!voice)
        return fail_with(error);
    g_autoptr(AigcVocoder) vocoder =
        aigc_vocoder_load(vocoder_name ? vocoder_name : AIGC_VOCODER_GRIFFIN_LIM, &error);
    if (!vocoder)
        return fail_with(error);
    AigcSpeakParams p = aigc_speak_default_params();
    p.text = text;
    p.speed = (float)speed;
    p.seed = (guint64)seed;
    g_autoptr(AigcJob) job = aigc_speak_job_new(voice, vocoder, &p, &error);
    if (!job) {
        status = aigc_cli_usage_error("speak", "%s", error->message);
        g_error_free(error);
        return status;
    }
    status = aigc_cli_run_job(job);
    if (status != AIGC_EXIT_OK)
        return status;
    AigcSpeakResult *r = aigc_job_get_result(job);
    g_autofree char *comment = g_strdup_printf(
        "Voice: %s, Vocoder: %s, Speed: %g, Seed: %" G_GINT64_FORMAT, info->name,
        vocoder_name ? vocoder_name : AIGC_VOCODER_GRIFFIN_LIM, speed, seed);
    wp.sample_rate_out = rate;
    wp.comment = comment;
    wp.software = "aigc-studio";
    if (!aigc_audio_file_write_wav(output, r->samples, r->n_samples, r->sample_rate, &wp, &error))
        return fail_with(error);
    fprintf(stderr, "aigc: %d sentence%s, %.2f s of speech in %.2f s (real-time factor %.3f)%s → %s\n",
            r->n_sentences, r->n_sentences == 1 ? "" : "s", r->n_samples / (double)r->sample_rate,
            r->seconds, r->real_time_factor,
            r->n_capped ? ", the voice ran to its length cap on some sentences" : "", output);
    if (play)
        play_file(output);
    return AIGC_EXIT_OK;
}
