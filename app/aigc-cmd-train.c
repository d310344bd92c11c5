/* SPDX-License-Identifier: MIT
 *
 * `aigc train KIND`: train models (text) and tokenizers. Long runs show progress, save
 * checkpoints, resume with --resume and save before stopping on Ctrl-C.
 */
#include "aigc-cli.h"

#include <stdio.h>
#include <string.h>

static int train_text(int argc, char **argv)
{
    g_autofree char *family = NULL, *corpus = NULL, *val = NULL, *output = NULL, *title = NULL;
    g_autofree char *init = NULL;
    g_auto(GStrv) sets = NULL;
    gboolean resume = FALSE;
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &family, "Family: gpt, lstm, gru, rnn or ngram",
         "FAMILY"},
        {"corpus", 'c', 0, G_OPTION_ARG_FILENAME, &corpus, "Training text (UTF-8)", "FILE"},
        {"val", 0, 0, G_OPTION_ARG_FILENAME, &val,
         "Validation text (default: the corpus with .train.txt → .val.txt)", "FILE"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Model file to write", "OUT"},
        {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
         "key=value: steps, batch_size, seq_len, lr, lr_min, warmup, weight_decay, grad_clip, "
         "eval_every, eval_chars, checkpoint_every, seed, tokenizer (char, byte, bpe:N), dtype; "
         "gpt: dim, n_layers, n_heads, hidden_dim, max_seq_len; lstm, gru, rnn: embed_dim, "
         "hidden_dim, n_layers, max_seq_len; n-gram: order, prune",
         "KEY=VALUE"},
        {"resume", 0, 0, G_OPTION_ARG_NONE, &resume, "Continue from OUT.ckpt", NULL},
        {"init", 0, 0, G_OPTION_ARG_FILENAME, &init,
         "Fine-tune: start from this model's weights and tokenizer", "MODEL"},
        {"title", 0, 0, G_OPTION_ARG_STRING, &title, "A title shown in model lists", "TEXT"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(
        context, "Train a language model on a text corpus. Progress shows loss and tokens per "
                 "second; validation bits per character are measured every eval_every steps and "
                 "logged to OUT.csv; OUT.ckpt lets --resume continue; Ctrl-C saves and stops.");
    g_option_context_add_main_entries(context, entries, NULL);
    g_autofree char *command_line = NULL;
    {
        GString *cl = g_string_new("aigc train text");
        for (int i = 1; i < argc; i++) {
            g_autofree char *q = g_shell_quote(argv[i]);
            g_string_append_printf(cl, " %s", q);
        }
        command_line = g_string_free(cl, FALSE);
    }
    int status;
    if (!aigc_cli_parse(context, "train text", &argc, &argv, &status))
        return status;
    if (argc != 1)
        return aigc_cli_usage_error("train text", "unexpected argument “%s”", argv[1]);
    if (!family || !corpus || !output)
        return aigc_cli_usage_error("train text", "needs --model, --corpus and -o OUT");
    const char *const families[] = {"gpt", "lstm", "gru", "rnn", "ngram"};
    gboolean known = FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(families); i++)
        known = known || strcmp(family, families[i]) == 0;
    if (!known)
        return aigc_cli_usage_error(
            "train text", "unknown model family “%s” (this version: gpt, lstm, gru, rnn, ngram)",
            family);
    AigcTextTrainParams *p = aigc_text_train_params_new(family);
    p->corpus = g_strdup(corpus);
    p->val_corpus = g_strdup(val);
    p->output = g_strdup(output);
    p->title = g_strdup(title);
    p->resume = resume;
    p->init_from = g_strdup(init);
    p->command_line = g_steal_pointer(&command_line);
    for (int i = 0; sets && sets[i]; i++) {
        char *eq = strchr(sets[i], '=');
        if (!eq) {
            aigc_text_train_params_free(p);
            return aigc_cli_usage_error("train text", "--set needs KEY=VALUE, not “%s”",
                                        sets[i]);
        }
        *eq = '\0';
        GError *error = NULL;
        if (!aigc_text_train_params_set(p, sets[i], eq + 1, &error)) {
            status = aigc_cli_usage_error("train text", "%s", error->message);
            g_error_free(error);
            aigc_text_train_params_free(p);
            return status;
        }
    }
    g_autoptr(AigcJob) job = aigc_text_train_job_new(p);
    status = aigc_cli_run_job(job);
    AigcTextTrainResult *r = aigc_job_get_result(job);
    if (r) {
        printf("steps: %" G_GINT64_FORMAT "\nseconds: %.1f\ntrain_loss: %.4f\n", r->steps_done,
               r->seconds, r->train_loss);
        if (r->val_bits_per_char > 0)
            printf("val_bits_per_char: %.4f\n", r->val_bits_per_char);
        printf("model: %s\n", output);
    }
    return status;
}

static int train_tokenizer(int argc, char **argv)
{
    g_autofree char *kind = NULL, *corpus = NULL, *output = NULL;
    int vocab = 1024;
    GOptionEntry entries[] = {
        {"kind", 0, 0, G_OPTION_ARG_STRING, &kind, "byte, char or bpe", "KIND"},
        {"vocab", 0, 0, G_OPTION_ARG_INT, &vocab, "BPE vocabulary size (1024)", "N"},
        {"corpus", 'c', 0, G_OPTION_ARG_FILENAME, &corpus, "Training text (UTF-8)", "FILE"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "JSON file to write", "OUT"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(context, "Learn a tokenizer from a text and write it as JSON "
                                          "(the form models keep in their metadata).");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "train tokenizer", &argc, &argv, &status))
        return status;
    if (!kind || !output || (strcmp(kind, "byte") && !corpus))
        return aigc_cli_usage_error("train tokenizer", "needs --kind, --corpus and -o OUT");
    g_autofree char *text = NULL;
    gsize len = 0;
    GError *error = NULL;
    if (corpus && !g_file_get_contents(corpus, &text, &len, &error)) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    AigcTokenizer *tok = NULL;
    if (!strcmp(kind, "byte"))
        tok = aigc_tokenizer_new_byte();
    else if (!strcmp(kind, "char"))
        tok = aigc_tokenizer_train_char(text, len, 1, &error);
    else if (!strcmp(kind, "bpe"))
        tok = aigc_tokenizer_train_bpe(text, len, vocab, NULL, NULL, &error);
    else
        return aigc_cli_usage_error("train tokenizer", "--kind must be byte, char or bpe");
    if (!tok) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    g_autofree char *json = aigc_tokenizer_to_json(tok);
    gint64 n_tokens = corpus ? aigc_tokenizer_encode(tok, text, (gssize)len, NULL, 0) : 0;
    if (!aigc_file_set_contents_atomic(output, json, strlen(json), &error)) {
        aigc_tokenizer_free(tok);
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    printf("kind: %s\nvocab_size: %d\n", kind, aigc_tokenizer_get_vocab_size(tok));
    if (corpus)
        printf("tokens: %" G_GINT64_FORMAT "\ncharacters_per_token: %.3f\n", n_tokens,
               (double)aigc_utf8_count_chars(text, len) / MAX(n_tokens, 1));
    aigc_tokenizer_free(tok);
    return AIGC_EXIT_OK;
}

int aigc_cmd_train(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "text") == 0)
        return train_text(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "tokenizer") == 0)
        return train_tokenizer(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "image") == 0)
        return aigc_cmd_train_image(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "speech") == 0)
        return aigc_cmd_train_speech(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "vocoder") == 0)
        return aigc_cmd_train_vocoder(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: aigc train KIND [OPTION…]\n\nTrain a model.\n\nKinds:\n"
               "  text       a language model (GPT, LSTM, GRU, RNN, n-gram) on a text corpus\n"
               "  tokenizer  a byte, character or BPE tokenizer\n"
               "  image      an image model (the Fashion-MNIST classifier)\n"
               "  speech     a Tacotron 2 voice on a speech corpus\n"
               "  vocoder    a MelGAN or WaveNet vocoder on a speech corpus\n\n"
               "Run `aigc train KIND --help` for the options.\n");
        return AIGC_EXIT_OK;
    }
    return aigc_cli_usage_error("train",
                                "expected a kind: text, tokenizer, image, speech or vocoder");
}
