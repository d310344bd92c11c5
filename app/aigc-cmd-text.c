/* SPDX-License-Identifier: MIT
 *
 * `aigc text`: continue a prompt with a language model, streaming to stdout; and
 * `aigc eval text`: bits per character of a text file under a model; `aigc eval verse`: how
 * many lines of a poem model keep the five- or seven-character form.
 */
#include "aigc-cli.h"

#include <stdio.h>
#include <string.h>

/* Finds a model by name in the model folders, or takes a path. */
static AigcTextModel *load_model(const char *name, int *status)
{
    GError *error = NULL;
    AigcModelInfo *info = aigc_models_find(name, &error);
    AigcTextModel *model = info ? aigc_text_model_load(info->path, &error) : NULL;
    aigc_model_info_free(info);
    if (!model) {
        *status = aigc_cli_fail(error);
        g_error_free(error);
    }
    return model;
}

static void print_piece(AigcJob *job, AigcPreview *preview, gpointer user_data)
{
    gsize n;
    const char *text = g_bytes_get_data(preview->data, &n);
    fwrite(text, 1, n, stdout);
    fflush(stdout);
    aigc_preview_free(preview);
}

int aigc_cmd_text(int argc, char **argv)
{
    g_autofree char *model_name = NULL, *prompt = NULL;
    g_auto(GStrv) stop = NULL;
    int max_tokens = 200;
    gint64 seed = -1;
    double temperature = 0.8, top_p = 0.95, rep = 1.0;
    int top_k = 40;
    gboolean quiet = FALSE;
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &model_name, "Model name or file", "NAME"},
        {"prompt", 'p', 0, G_OPTION_ARG_STRING, &prompt, "Text to continue", "TEXT"},
        {"max-tokens", 'n', 0, G_OPTION_ARG_INT, &max_tokens, "Tokens to write (200)", "N"},
        {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (−1 = random, reported)", "S"},
        {"temperature", 't', 0, G_OPTION_ARG_DOUBLE, &temperature, "0 = greedy (0.8)", "T"},
        {"top-k", 'k', 0, G_OPTION_ARG_INT, &top_k, "Sample from the K likeliest (40)", "K"},
        {"top-p", 0, 0, G_OPTION_ARG_DOUBLE, &top_p, "Nucleus sampling mass (0.95)", "P"},
        {"repetition-penalty", 0, 0, G_OPTION_ARG_DOUBLE, &rep, "≥ 1; 1 = off (1)", "R"},
        {"stop", 0, 0, G_OPTION_ARG_STRING_ARRAY, &stop, "Stop at this text (repeatable)", "S"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only the text", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(context, "Continue a prompt with a language model; the text "
                                          "streams to standard output as it is written.");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "text", &argc, &argv, &status))
        return status;
    if (argc != 1)
        return aigc_cli_usage_error("text", "unexpected argument “%s”", argv[1]);
    if (!model_name)
        return aigc_cli_usage_error("text", "missing --model NAME (see `aigc models`)");
    if (!prompt)
        return aigc_cli_usage_error("text", "missing --prompt TEXT");

    g_autoptr(AigcTextModel) model = load_model(model_name, &status);
    if (!model)
        return status;
    AigcTextGenParams p = aigc_text_gen_default_params();
    p.prompt = prompt;
    p.max_tokens = max_tokens;
    p.seed = seed;
    p.sampler.temperature = (float)temperature;
    p.sampler.top_k = top_k;
    p.sampler.top_p = (float)top_p;
    p.sampler.repetition_penalty = (float)rep;
    p.stop = (const char *const *)stop;
    GError *error = NULL;
    g_autoptr(AigcJob) job = aigc_text_generate_job_new(model, &p, &error);
    if (!job) {
        status = aigc_cli_usage_error("text", "%s", error->message);
        g_error_free(error);
        return status;
    }
    if (!quiet) {
        fputs(prompt, stdout);
        fflush(stdout);
    }
    status = aigc_cli_run_job_full(job, print_piece, NULL, TRUE);
    AigcTextGenResult *r = aigc_job_get_result(job);
    printf("\n");
    fflush(stdout); /* the text ends before the summary on stderr, even through a pipe */
    if (r && !quiet) {
        if (r->prompt_truncated)
            fprintf(stderr, "aigc: the prompt was longer than the model's context; its last %d "
                            "tokens were used\n", r->n_prompt_tokens);
        fprintf(stderr, "aigc: %d tokens, %.1f tokens/s, seed %" G_GUINT64_FORMAT "\n",
                r->n_tokens, r->tokens_per_second, r->seed);
    }
    return status;
}

typedef struct {
    AigcTextModel *model;
    char *path;
    char *text;
    gsize len;
    double bpc;
} EvalParams;

static void eval_params_free(gpointer data)
{
    EvalParams *p = data;
    aigc_text_model_unref(p->model);
    g_free(p->path);
    g_free(p->text);
    g_free(p);
}

static gboolean run_eval(AigcJob *job, gpointer data, GError **error)
{
    EvalParams *p = data;
    return aigc_text_model_bits_per_char(p->model, p->text, p->len, job, &p->bpc, error);
}

static int eval_text(int argc, char **argv)
{
    g_autofree char *model_name = NULL, *file = NULL;
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &model_name, "Model name or file", "NAME"},
        {"file", 'f', 0, G_OPTION_ARG_FILENAME, &file, "UTF-8 text to score", "FILE"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(context, "Bits per character of a text under a language model "
                                          "(lower is better); the last line is "
                                          "“bits_per_char: X”.");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "eval text", &argc, &argv, &status))
        return status;
    if (!model_name || !file)
        return aigc_cli_usage_error("eval text", "needs --model NAME and --file FILE");
    g_autoptr(AigcTextModel) model = load_model(model_name, &status);
    if (!model)
        return status;
    EvalParams *p = g_new0(EvalParams, 1);
    p->model = aigc_text_model_ref(model);
    p->path = g_strdup(file);
    GError *error = NULL;
    if (!g_file_get_contents(file, &p->text, &p->len, &error)) {
        eval_params_free(p);
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    g_autoptr(AigcJob) job = aigc_job_new("evaluate", run_eval, p, eval_params_free);
    status = aigc_cli_run_job(job);
    if (status == AIGC_EXIT_OK) {
        printf("model: %s\nfile: %s\ncharacters: %" G_GINT64_FORMAT "\n",
               aigc_text_model_get_path(model), file, aigc_utf8_count_chars(p->text, p->len));
        printf("bits_per_char: %.4f\n", p->bpc);
    }
    return status;
}

/* Writes one poem for each title and counts the body lines in five- or seven-character form. */
static int eval_verse(int argc, char **argv)
{
    g_autofree char *model_name = NULL, *file = NULL;
    gint64 seed = 1;
    double temperature = 0.8;
    int max_tokens = 160;
    gboolean show = FALSE;
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &model_name, "Model name or file", "NAME"},
        {"titles", 'f', 0, G_OPTION_ARG_FILENAME, &file, "Poem titles, one per line", "FILE"},
        {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the first poem (1)", "S"},
        {"temperature", 't', 0, G_OPTION_ARG_DOUBLE, &temperature, "Sampling temperature (0.8)",
         "T"},
        {"max-tokens", 'n', 0, G_OPTION_ARG_INT, &max_tokens, "Longest poem (160)", "N"},
        {"show", 0, 0, G_OPTION_ARG_NONE, &show, "Print the poems", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(
        context, "Prompts a poem model with each title (as “《title》”), lets it write until a blank "
                 "line, and counts the lines made of five- or seven-character clauses, the form "
                 "of Tang regulated verse. The last line is “five_or_seven: X”.");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "eval verse", &argc, &argv, &status))
        return status;
    if (!model_name || !file)
        return aigc_cli_usage_error("eval verse", "needs --model NAME and --titles FILE");
    if (max_tokens < 1 || max_tokens > 100000)
        return aigc_cli_usage_error("eval verse", "--max-tokens must be 1 … 100000");
    g_autoptr(AigcTextModel) model = load_model(model_name, &status);
    if (!model)
        return status;
    g_autofree char *titles_text = NULL;
    GError *error = NULL;
    if (!g_file_get_contents(file, &titles_text, NULL, &error)) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    g_auto(GStrv) titles = g_strsplit(titles_text, "\n", -1);
    const char *const stop[] = {"\n\n", NULL};
    int n_poems = 0, n_lines = 0, n_in_form = 0;
    for (int i = 0; titles[i]; i++) {
        g_autofree char *title = g_strstrip(g_strdup(titles[i]));
        if (!*title || title[0] == '#')
            continue;
        g_autofree char *prompt = g_str_has_prefix(title, "《")
                                      ? g_strconcat(title, "\n", NULL)
                                      : g_strconcat("《", title, "》\n", NULL);
        AigcTextGenParams p = aigc_text_gen_default_params();
        p.prompt = prompt;
        p.max_tokens = max_tokens;
        p.seed = seed + n_poems;
        p.sampler.temperature = (float)temperature;
        p.stop = stop;
        g_autoptr(AigcJob) job = aigc_text_generate_job_new(model, &p, &error);
        if (!job) {
            status = aigc_cli_usage_error("eval verse", "%s", error->message);
            g_error_free(error);
            return status;
        }
        status = aigc_cli_run_job_full(job, NULL, NULL, TRUE);
        if (status != AIGC_EXIT_OK)
            return status;
        AigcTextGenResult *r = aigc_job_get_result(job);
        g_autofree char *poem = g_strconcat(prompt, r->text, NULL);
        int lines, in_form;
        aigc_verse_score(poem, &lines, &in_form);
        n_poems++;
        n_lines += lines;
        n_in_form += in_form;
        if (show)
            printf("%s\n\n", poem);
        printf("poem %d: %d of %d lines in form\n", n_poems, in_form, lines);
        fflush(stdout);
    }
    if (n_lines == 0) {
        fprintf(stderr, "aigc: %s: no poem lines were written (%d titles)\n", file, n_poems);
        return AIGC_EXIT_FAILURE;
    }
    printf("model: %s\npoems: %d\nlines: %d\n", aigc_text_model_get_path(model), n_poems, n_lines);
    printf("five_or_seven: %.4f\n", (double)n_in_form / n_lines);
    return AIGC_EXIT_OK;
}

int aigc_cmd_eval(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "text") == 0)
        return eval_text(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "verse") == 0)
        return eval_verse(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "speech") == 0)
        return aigc_cmd_eval_speech(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "image") == 0)
        return aigc_cmd_eval_image(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "nerf") == 0)
        return aigc_cmd_eval_nerf(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: aigc eval KIND [OPTION…]\n\nMeasure a model's quality.\n\nKinds:\n"
               "  text    bits per character of a text file\n"
               "  verse   share of a poem model's lines in five- or seven-character form\n"
               "  speech  word error rate of a speech recogniser on spoken sentences\n"
               "  image   an image classifier's test accuracy; a generator's classifier accuracy "
               "and FID\n"
               "  nerf    a radiance field's PSNR on a dataset's test views\n");
        return AIGC_EXIT_OK;
    }
    return aigc_cli_usage_error("eval", "expected a kind: text, verse, image, speech or nerf");
}
