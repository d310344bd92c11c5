/* SPDX-License-Identifier: MIT
 *
 * `aigc`: the studio's command line. Dispatches to one function per subcommand.
 */
#include "aigc-cli.h"

#include "aigc-config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static const AigcCommand commands[] = {
    {"inspect", "Show a safetensors file's metadata and tensors", aigc_cmd_inspect},
    {"models", "List model families and the models found on this machine", aigc_cmd_models},
    {"convert", "Store a weights file's float tensors as F32, F16 or BF16", aigc_cmd_convert},
    {"text", "Continue a prompt with a language model", aigc_cmd_text},
    {"image", "Generate images with an image model, as PNG", aigc_cmd_image},
    {"speak", "Read text aloud with a voice and a vocoder, as WAV", aigc_cmd_speak},
    {"nerf", "Train a radiance field on photos of a scene, render new views", aigc_cmd_nerf},
    {"train", "Train a model or a tokenizer", aigc_cmd_train},
    {"eval", "Measure a model's quality", aigc_cmd_eval},
    {"export", "Write a model in another program's format (llama2c)", aigc_cmd_export},
    {"import", "Read a model from another program's format (llama2c)", aigc_cmd_import},
};

static void print_help(FILE *out)
{
    fprintf(out, "Usage: aigc [--version] [--help] COMMAND [ARGS…]\n\n"
                 "Generate and train text, image, speech and 3D models offline.\n\n"
                 "Commands:\n");
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun `aigc COMMAND --help` for a command's options.\n"
                 "Exit status: 0 success, 1 failure, 2 usage error, 130 stopped with Ctrl-C.\n");
}

static void cli_log(AigcLogLevel level, const char *message, gpointer user_data)
{
    if (level == AIGC_LOG_DEBUG || (level == AIGC_LOG_INFO && !g_getenv("AIGC_VERBOSE")))
        return;
    fprintf(stderr, "aigc: %s%s\n", level >= AIGC_LOG_WARNING ? "warning: " : "", message);
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    aigc_log_set_handler(cli_log, NULL);

    if (argc < 2) {
        print_help(stderr);
        return AIGC_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_help(stdout);
        return AIGC_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("aigc %s\n", AIGC_VERSION);
        return AIGC_EXIT_OK;
    }
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);

    fprintf(stderr, "aigc: unknown command “%s”; run `aigc --help` for the list\n", cmd);
    return AIGC_EXIT_USAGE;
}
