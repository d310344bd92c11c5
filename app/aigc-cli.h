/* SPDX-License-Identifier: MIT
 *
 * Shared pieces of the `aigc` command: exit codes, error printing, running an engine job in the
 * foreground with a progress bar and Ctrl-C.
 */
#pragma once

#include "aigc-engine.h"

enum {
    AIGC_EXIT_OK = 0,
    AIGC_EXIT_FAILURE = 1,   /* runtime failure: one line on stderr naming the file and fault */
    AIGC_EXIT_USAGE = 2,     /* bad command line */
    AIGC_EXIT_CANCELLED = 130, /* stopped with Ctrl-C (128 + SIGINT), nothing left half-written */
};

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} AigcCommand;

/* Prints "aigc: MESSAGE" on stderr and returns AIGC_EXIT_FAILURE. */
int aigc_cli_fail(const GError *error);
/* Prints "aigc CMD: MESSAGE" plus a hint to --help, returns AIGC_EXIT_USAGE. */
int aigc_cli_usage_error(const char *command, const char *format, ...) G_GNUC_PRINTF(2, 3);
/* Parses options; on failure prints the usage error; returns FALSE (exit code in *status).
 * Consumes --help itself (prints help, *status = 0). */
gboolean aigc_cli_parse(GOptionContext *context, const char *command, int *argc, char ***argv,
                        int *status);

/* Submits `job` to a fresh engine, shows progress on stderr (a bar on a terminal, plain lines
 * otherwise), cancels it on Ctrl-C, waits, and returns the exit status. The job's own error
 * is printed on failure. */
int aigc_cli_run_job(AigcJob *job);

/* A training command's setter of "key=value" (aigc_*_train_params_set). */
typedef gboolean (*AigcCliSetFunc)(gpointer params, const char *key, const char *value,
                                   GError **error);
/* Applies each KEY=VALUE of `sets` (nullable) with `set`: 0, or the status of the usage error
 * printed for the first that is malformed or refused. */
int aigc_cli_apply_sets(const char *command, char **sets, AigcCliSetFunc set, gpointer params);
/* The same, with previews handed to preview_func on the engine thread (e.g. streamed text), and
 * the progress display off when quiet. */
int aigc_cli_run_job_full(AigcJob *job, AigcJobPreviewFunc preview_func, gpointer user_data,
                          gboolean quiet);

int aigc_cmd_inspect(int argc, char **argv);
int aigc_cmd_models(int argc, char **argv);
int aigc_cmd_convert(int argc, char **argv);
int aigc_cmd_train(int argc, char **argv);
int aigc_cmd_train_image(int argc, char **argv);
int aigc_cmd_train_speech(int argc, char **argv);
int aigc_cmd_train_vocoder(int argc, char **argv);
/* `aigc train image --model diffusion`, after the common options are parsed. */
int aigc_cli_train_diffusion(const char *data, const char *data_dir, const char *output,
                             const char *title, gboolean resume, char **sets,
                             const char *command_line);
/* `aigc train image --model dcgan` and `--model vae`, after the common options are parsed. */
int aigc_cli_train_dcgan(const char *data, const char *data_dir, const char *output,
                         const char *title, gboolean resume, char **sets,
                         const char *command_line);
int aigc_cli_train_vae(const char *data, const char *data_dir, const char *output,
                       const char *title, gboolean resume, char **sets, const char *command_line);
int aigc_cmd_text(int argc, char **argv);
int aigc_cmd_image(int argc, char **argv);
int aigc_cmd_speak(int argc, char **argv);
int aigc_cmd_eval(int argc, char **argv);
int aigc_cmd_eval_speech(int argc, char **argv);
int aigc_cmd_eval_image(int argc, char **argv);
/* `aigc eval image` for a diffusion model file, after the options are parsed. */
int aigc_cli_eval_diffusion(const char *model_path, const char *classifier, const char *data_dir,
                            gint64 n, gint64 seed, AigcSamplerKind sampler, int steps);
/* `aigc eval image` for a DCGAN or VAE model file, after the options are parsed. */
/* A text-conditioned image model judged by prompts of emoji names (data_path: the emoji set,
 * nullable for the default). */
int aigc_cli_eval_prompts(AigcImageModel *model, const char *data_path, gint64 n, gint64 seed,
                          AigcSamplerKind sampler, int steps);
int aigc_cli_eval_generator(const char *model_path, const char *classifier, const char *data_dir,
                            gint64 n, gint64 seed);
int aigc_cmd_nerf(int argc, char **argv);
int aigc_cmd_eval_nerf(int argc, char **argv);
int aigc_cmd_export(int argc, char **argv);
int aigc_cmd_import(int argc, char **argv);
