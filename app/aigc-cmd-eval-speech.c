/* SPDX-License-Identifier: MIT
 *
 * `aigc eval speech`: the word error rate of the pocketsphinx recogniser on spoken sentences —
 * recordings in a folder (the teacher corpus: the reference every voice is compared to), named
 * by the sentence list's ids.
 */
#include "aigc-cli.h"

#include "dsp/aigc-speech-eval.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    char *id;
    char *text;
} Sentence;

static void sentence_clear(gpointer data)
{
    Sentence *s = data;
    g_free(s->id);
    g_free(s->text);
}

/* "ID|text" lines (the corpus lists) or plain lines (ids are then the line numbers, 00000…). */
static GArray *read_sentences(const char *path, int limit, GError **error)
{
    g_autofree char *contents = NULL;
    if (!g_file_get_contents(path, &contents, NULL, error))
        return NULL;
    if (!g_utf8_validate(contents, -1, NULL)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not UTF-8 text", path);
        return NULL;
    }
    GArray *out = g_array_new(FALSE, TRUE, sizeof(Sentence));
    g_array_set_clear_func(out, sentence_clear);
    g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);
    for (int i = 0; lines[i] && (limit <= 0 || (int)out->len < limit); i++) {
        char *line = g_strstrip(lines[i]);
        if (!*line)
            continue;
        Sentence s;
        char *bar = strchr(line, '|');
        if (bar) {
            s.id = g_strndup(line, bar - line);
            s.text = g_strdup(bar + 1);
        } else {
            s.id = g_strdup_printf("%05u", out->len);
            s.text = g_strdup(line);
        }
        g_array_append_val(out, s);
    }
    return out;
}

int aigc_cmd_eval_speech(int argc, char **argv)
{
    g_autofree char *file = NULL, *audio_dir = NULL;
    int limit = 0;
    GOptionEntry entries[] = {
        {"file", 'f', 0, G_OPTION_ARG_FILENAME, &file,
         "Sentences, one per line (“ID|text” or plain)", "FILE"},
        {"audio-dir", 0, 0, G_OPTION_ARG_FILENAME, &audio_dir,
         "Recordings ID.wav of the sentences (16 kHz mono), e.g. the teacher corpus", "DIR"},
        {"n", 'n', 0, G_OPTION_ARG_INT, &limit, "Only the first N sentences", "N"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(
        context, "Word error rate of the open-source recogniser pocketsphinx on spoken sentences "
                 "(lower is better). Prints each sentence's errors; the last line is “wer: X”.");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "eval speech", &argc, &argv, &status))
        return status;
    if (argc != 1)
        return aigc_cli_usage_error("eval speech", "unexpected argument “%s”", argv[1]);
    if (!file || !audio_dir)
        return aigc_cli_usage_error("eval speech", "needs --file SENTENCES and --audio-dir DIR");
    GError *error = NULL;
    if (!aigc_asr_available(&error)) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    g_autoptr(GArray) sentences = read_sentences(file, limit, &error);
    if (!sentences) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    if (sentences->len == 0) {
        fprintf(stderr, "aigc: %s: no sentences\n", file);
        return AIGC_EXIT_FAILURE;
    }
    int errors = 0, words = 0;
    for (guint i = 0; i < sentences->len; i++) {
        Sentence *s = &g_array_index(sentences, Sentence, i);
        g_autofree char *name = g_strconcat(s->id, ".wav", NULL);
        g_autofree char *wav = g_build_filename(audio_dir, name, NULL);
        g_autofree char *heard = aigc_asr_transcribe(wav, NULL, &error);
        if (!heard) {
            status = aigc_cli_fail(error);
            g_error_free(error);
            return status;
        }
        int n, e = aigc_word_errors(s->text, heard, &n);
        errors += e;
        words += n;
        printf("%s: %d/%d errors · %s\n", s->id, e, n, heard);
        fflush(stdout);
    }
    printf("sentences: %u\nwords: %d\nerrors: %d\n", sentences->len, words, errors);
    printf("wer: %.4f\n", words ? (double)errors / words : 0.0);
    return AIGC_EXIT_OK;
}
