/* SPDX-License-Identifier: MIT
 *
 * What every training job keeps the same way: where it writes (OUTPUT, OUTPUT.ckpt, OUTPUT.csv,
 * sample grids beside them), its clock (training seconds across resumed sessions, items per
 * second, time left), the mean of its recent losses, and the bookkeeping a checkpoint carries so
 * that `--resume` continues the run it started.
 *
 * DESIGN (checkpoint metadata): "family" = "<model family>-checkpoint", the model's config JSON
 * under "<family>.config", and "train.step", "train.seed", "train.seconds" (training time so
 * far) and "train.command" (the command that started the run, if known). A resumed run keeps the
 * checkpoint's seed and command, so its model records how the run began, not how it resumed.
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "jobs/aigc-job.h"

#include <glib.h>
#include <stdio.h>

G_BEGIN_DECLS

/* (transfer full) "OUTPUT.ckpt". */
char *aigc_train_checkpoint_path(const char *output);
/* (transfer full) "STEM.step-NNNNNNN.png", STEM being OUTPUT without ".safetensors". */
char *aigc_train_grid_path(const char *output, gint64 step);
/* (transfer full) "1h05m" from an hour on, "4m09s" below. */
char *aigc_train_format_duration(double seconds);
/* "f32", "f16" or "bf16" (any case); FALSE + AIGC_ENGINE_ERROR_INVALID otherwise. */
gboolean aigc_train_parse_dtype(const char *value, AigcDtype *out, GError **error);

/* (nullable) OUTPUT.csv, appended to when resuming and it exists, else created with `header`
 * (one line, no newline). NULL when it cannot be opened: the log is a convenience. */
FILE *aigc_train_csv_open(const char *output, gboolean resume, const char *header);

/* Whether a periodic task (a checkpoint, a sample grid) is due after `step` of `steps`: every
 * `every` steps (0: never), not at the last step, which the end of the run handles itself. */
static inline gboolean aigc_train_due(gint64 step, gint64 every, gint64 steps)
{
    return every > 0 && step % every == 0 && step < steps;
}

/* ---- the periodic work of a training loop ---- */

/* A trainer's own parts, each called with its run. */
typedef struct {
    /* Writes the checkpoint and the model (final: the run has finished). */
    gboolean (*save)(gpointer run, gboolean final, GError **error);
    /* (nullable) A sample grid or sound, every sample_every steps and at the end. */
    gboolean (*sample)(gpointer run, GError **error);
    const char *sample_stage; /* shown while sampling */
    /* (nullable) The measurement a finished run ends with (validation, test accuracy). */
    gboolean (*conclude)(gpointer run, GError **error);
    const char *conclude_stage;
} AigcTrainHooks;

typedef struct {
    AigcJob *job;
    const AigcTrainHooks *hooks;
    gpointer run;
    gint64 step0; /* the step this session started at */
    gint64 steps, checkpoint_every, sample_every;
} AigcTrainLoop;

static inline AigcTrainLoop aigc_train_loop(AigcJob *job, const AigcTrainHooks *hooks, gpointer run,
                                            gint64 step0, gint64 steps, gint64 checkpoint_every,
                                            gint64 sample_every)
{
    return (AigcTrainLoop){job, hooks, run, step0, steps, checkpoint_every, sample_every};
}

/* After `step`: reports `stage` as the progress, then writes a checkpoint and a sample when
 * they are due (aigc_train_due). */
gboolean aigc_train_loop_step_done(const AigcTrainLoop *loop, gint64 step, const char *stage,
                                   GError **error);
/* When the loop has ended: a finished run (every step done, not stopped) concludes and samples;
 * finished or stopped, the work so far is saved — unless this session made no step and the
 * model file exists, which then already holds it. *finished (nullable) says which. */
gboolean aigc_train_loop_end(const AigcTrainLoop *loop, gint64 step, const char *output,
                             gboolean *finished, GError **error);

/* ---- the mean of the last AIGC_LOSS_WINDOW values ---- */

#define AIGC_LOSS_WINDOW 100

typedef struct {
    double values[AIGC_LOSS_WINDOW];
    gint64 n; /* values ever added */
} AigcLossWindow;

void aigc_loss_window_add(AigcLossWindow *w, double value);
/* 0 when empty. */
double aigc_loss_window_mean(const AigcLossWindow *w);

/* ---- the clock ---- */

typedef struct {
    double seconds_before; /* training seconds of earlier sessions */
    gint64 t_start;        /* this session's start (monotonic µs) */
    gint64 step0;          /* the step this session started at */
    gint64 t_window, items_window;
    double rate; /* items per second over the last ≈ 2 s */
} AigcTrainClock;

void aigc_train_clock_start(AigcTrainClock *clock, double seconds_before, gint64 step0);
/* Training seconds so far, earlier sessions included. */
double aigc_train_clock_elapsed(const AigcTrainClock *clock);
/* Counts `items` more (images, tokens) done; the rate is renewed every 2 s. */
void aigc_train_clock_tick(AigcTrainClock *clock, gint64 items);
/* (transfer full) The time left to reach `steps` from `step` at this session's pace. */
char *aigc_train_clock_left(const AigcTrainClock *clock, gint64 step, gint64 steps);

/* ---- checkpoint bookkeeping ---- */

typedef struct {
    gint64 step;
    guint64 seed;
    double seconds;
    const char *command; /* (nullable) (transfer none) */
} AigcTrainState;

/* Sets "family", "<config_key>", "train.step", "train.seed", "train.seconds" and
 * "train.command" (when state->command is set). */
void aigc_train_checkpoint_describe(AigcSafetensorsWriter *w, const char *family,
                                    const char *config_key, const char *config_json,
                                    const AigcTrainState *state);
/* Reads them back from the checkpoint `st` opened from `path`; `what` names the model in the
 * error ("a VAE"): "PATH: not a training checkpoint of WHAT". `family` (nullable) must match
 * when given (NULL: checkpoints written before they carried one are accepted). *config_json and
 * state->command point into `st`. */
gboolean aigc_train_checkpoint_read(AigcSafetensors *st, const char *path, const char *family,
                                    const char *config_key, const char *what,
                                    const char **config_json, AigcTrainState *state,
                                    GError **error);
/* After aigc_train_checkpoint_read: the run's seed and command become the checkpoint's. */
void aigc_train_state_adopt(const AigcTrainState *state, guint64 *seed, char **command_line);

G_END_DECLS
