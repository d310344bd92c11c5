/* SPDX-License-Identifier: MIT
 *
 * `aigc export llama2c` and `aigc import llama2c`: GPT models to and from llama2.c's
 * model.bin + tokenizer.bin.
 */
#include "aigc-cli.h"

#include <stdio.h>
#include <string.h>

static int fail_with(GError *error)
{
    int status = aigc_cli_fail(error);
    g_error_free(error);
    return status;
}

static int export_llama2c(int argc, char **argv)
{
    g_autofree char *model_name = NULL, *out_dir = NULL;
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &model_name, "GPT model name or file", "NAME"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "Folder for model.bin and tokenizer.bin", "DIR"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(context, "Write a GPT model as llama2.c's model.bin and "
                                          "tokenizer.bin (run them with llama2.c's run.c).");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "export llama2c", &argc, &argv, &status))
        return status;
    if (!model_name || !out_dir)
        return aigc_cli_usage_error("export llama2c", "needs --model NAME and -o DIR");
    GError *error = NULL;
    g_autoptr(AigcModelInfo) info = aigc_models_find(model_name, &error);
    if (!info)
        return fail_with(error);
    g_autoptr(AigcTextModel) model = aigc_text_model_load(info->path, &error);
    if (!model)
        return fail_with(error);
    if (!aigc_text_model_get_gpt(model))
        return aigc_cli_usage_error("export llama2c", "%s is not a GPT model", model_name);
    if (g_mkdir_with_parents(out_dir, 0755) != 0) {
        fprintf(stderr, "aigc: %s: cannot create the folder\n", out_dir);
        return AIGC_EXIT_FAILURE;
    }
    g_autofree char *mp = g_build_filename(out_dir, "model.bin", NULL);
    g_autofree char *tp = g_build_filename(out_dir, "tokenizer.bin", NULL);
    if (!aigc_llama2c_export(aigc_text_model_get_gpt(model), aigc_text_model_get_tokenizer(model),
                             mp, tp, &error))
        return fail_with(error);
    /* run.c starts every text with id 1: say what that is here, so the same start can be given
     * to `aigc text` (a newline for the character vocabularies, byte 0x01 for byte pairs). */
    gsize bos_len;
    const char *bos = aigc_tokenizer_token_text(aigc_text_model_get_tokenizer(model), 1, &bos_len);
    g_autofree char *bos_text = g_strndup(bos, bos_len);
    g_autofree char *bos_escaped = g_strescape(bos_text, NULL);
    printf("%s\n%s\nbos: %s\n", mp, tp, bos_escaped);
    return AIGC_EXIT_OK;
}

static int import_llama2c(int argc, char **argv)
{
    g_autofree char *checkpoint = NULL, *tokenizer = NULL, *output = NULL, *title = NULL;
    GOptionEntry entries[] = {
        {"checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &checkpoint, "llama2.c model.bin", "FILE"},
        {"tokenizer", 0, 0, G_OPTION_ARG_FILENAME, &tokenizer, "llama2.c tokenizer.bin", "FILE"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Model file to write", "OUT"},
        {"title", 0, 0, G_OPTION_ARG_STRING, &title, "A title shown in model lists", "TEXT"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(context, "Read llama2.c's model.bin and tokenizer.bin into a "
                                          "GPT model file of this studio.");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "import llama2c", &argc, &argv, &status))
        return status;
    if (!checkpoint || !tokenizer || !output)
        return aigc_cli_usage_error("import llama2c",
                                    "needs --checkpoint FILE, --tokenizer FILE and -o OUT");
    GError *error = NULL;
    AigcTokenizer *tok = NULL;
    g_autoptr(AigcGpt) gpt = aigc_llama2c_import(checkpoint, tokenizer, &tok, &error);
    if (!gpt)
        return fail_with(error);
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    g_autofree char *tok_json = aigc_tokenizer_to_json(tok);
    aigc_tokenizer_free(tok);
    gboolean ok = aigc_gpt_save(gpt, w, AIGC_DTYPE_F32, &error);
    aigc_safetensors_writer_set_metadata(w, "tokenizer", tok_json);
    aigc_safetensors_writer_set_metadata(w, "title", title ? title : "imported from llama2.c");
    if (!ok || !aigc_safetensors_writer_write(w, output, NULL, NULL, &error))
        return fail_with(error);
    printf("%s\n", output);
    return AIGC_EXIT_OK;
}

int aigc_cmd_export(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "llama2c") == 0)
        return export_llama2c(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("Usage: aigc export FORMAT [OPTION…]\n\nFormats:\n  llama2c   model.bin + "
               "tokenizer.bin for llama2.c\n");
        return AIGC_EXIT_OK;
    }
    return aigc_cli_usage_error("export", "expected a format: llama2c");
}

int aigc_cmd_import(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "llama2c") == 0)
        return import_llama2c(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("Usage: aigc import FORMAT [OPTION…]\n\nFormats:\n  llama2c   model.bin + "
               "tokenizer.bin from llama2.c\n");
        return AIGC_EXIT_OK;
    }
    return aigc_cli_usage_error("import", "expected a format: llama2c");
}
