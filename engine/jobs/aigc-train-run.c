/* SPDX-License-Identifier: MIT */
#include "aigc-train-run.h"

#include "aigc-error.h"

#include <string.h>

char *aigc_train_checkpoint_path(const char *output)
{
    return g_strconcat(output, ".ckpt", NULL);
}

char *aigc_train_grid_path(const char *output, gint64 step)
{
    g_autofree char *stem = g_str_has_suffix(output, ".safetensors")
                                ? g_strndup(output, strlen(output) - strlen(".safetensors"))
                                : g_strdup(output);
    return g_strdup_printf("%s.step-%07" G_GINT64_FORMAT ".png", stem, step);
}

char *aigc_train_format_duration(double seconds)
{
    gint64 s = (gint64)MAX(seconds, 0);
    if (s >= 3600)
        return g_strdup_printf("%" G_GINT64_FORMAT "h%02" G_GINT64_FORMAT "m", s / 3600,
                               s / 60 % 60);
    return g_strdup_printf("%" G_GINT64_FORMAT "m%02" G_GINT64_FORMAT "s", s / 60, s % 60);
}

gboolean aigc_train_parse_dtype(const char *value, AigcDtype *out, GError **error)
{
    g_autofree char *up = g_ascii_strup(value, -1);
    AigcDtype d;
    if (!strcmp(up, "Q8")) {
        *out = AIGC_DTYPE_I8;
        return TRUE;
    }
    if (!aigc_dtype_from_name(up, &d) ||
        (d != AIGC_DTYPE_F32 && d != AIGC_DTYPE_F16 && d != AIGC_DTYPE_BF16)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "dtype must be f32, f16, bf16 or q8, not “%s”", value);
        return FALSE;
    }
    *out = d;
    return TRUE;
}

FILE *aigc_train_csv_open(const char *output, gboolean resume, const char *header)
{
    g_autofree char *path = g_strconcat(output, ".csv", NULL);
    gboolean fresh = !resume || !g_file_test(path, G_FILE_TEST_EXISTS);
    FILE *f = fopen(path, fresh ? "w" : "a");
    if (f && fresh)
        fprintf(f, "%s\n", header);
    return f;
}

void aigc_loss_window_add(AigcLossWindow *w, double value)
{
    w->values[w->n++ % AIGC_LOSS_WINDOW] = value;
}

double aigc_loss_window_mean(const AigcLossWindow *w)
{
    gint64 n = MIN(w->n, AIGC_LOSS_WINDOW);
    double sum = 0;
    for (gint64 i = 0; i < n; i++)
        sum += w->values[i];
    return n ? sum / n : 0;
}

void aigc_train_clock_start(AigcTrainClock *clock, double seconds_before, gint64 step0)
{
    *clock = (AigcTrainClock){
        .seconds_before = seconds_before, .t_start = g_get_monotonic_time(), .step0 = step0};
    clock->t_window = clock->t_start;
}

double aigc_train_clock_elapsed(const AigcTrainClock *clock)
{
    return clock->seconds_before + (g_get_monotonic_time() - clock->t_start) / 1e6;
}

void aigc_train_clock_tick(AigcTrainClock *clock, gint64 items)
{
    clock->items_window += items;
    gint64 now = g_get_monotonic_time();
    if (now - clock->t_window > 2 * G_USEC_PER_SEC || clock->rate == 0) {
        clock->rate = clock->items_window / MAX((now - clock->t_window) / 1e6, 1e-6);
        clock->t_window = now;
        clock->items_window = 0;
    }
}

char *aigc_train_clock_left(const AigcTrainClock *clock, gint64 step, gint64 steps)
{
    double session = (g_get_monotonic_time() - clock->t_start) / 1e6;
    double per_step = step > clock->step0 ? session / (double)(step - clock->step0) : 0;
    return aigc_train_format_duration(per_step * (double)MAX(steps - step, 0));
}

void aigc_train_checkpoint_describe(AigcSafetensorsWriter *w, const char *family,
                                    const char *config_key, const char *config_json,
                                    const AigcTrainState *state)
{
    g_autofree char *kind = g_strconcat(family, "-checkpoint", NULL);
    g_autofree char *step = g_strdup_printf("%" G_GINT64_FORMAT, state->step);
    g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, state->seed);
    g_autofree char *secs = g_strdup_printf("%.3f", state->seconds);
    aigc_safetensors_writer_set_metadata(w, "family", kind);
    aigc_safetensors_writer_set_metadata(w, config_key, config_json);
    aigc_safetensors_writer_set_metadata(w, "train.step", step);
    aigc_safetensors_writer_set_metadata(w, "train.seed", seed);
    aigc_safetensors_writer_set_metadata(w, "train.seconds", secs);
    if (state->command)
        aigc_safetensors_writer_set_metadata(w, "train.command", state->command);
}

gboolean aigc_train_checkpoint_read(AigcSafetensors *st, const char *path, const char *family,
                                    const char *config_key, const char *what,
                                    const char **config_json, AigcTrainState *state, GError **error)
{
    g_autofree char *kind = family ? g_strconcat(family, "-checkpoint", NULL) : NULL;
    const char *config = aigc_safetensors_get_metadata(st, config_key);
    const char *step = aigc_safetensors_get_metadata(st, "train.step");
    const char *seed = aigc_safetensors_get_metadata(st, "train.seed");
    const char *secs = aigc_safetensors_get_metadata(st, "train.seconds");
    if ((kind && g_strcmp0(aigc_safetensors_get_metadata(st, "family"), kind) != 0) || !config ||
        !step || !seed) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a training checkpoint of %s", path, what);
        return FALSE;
    }
    *config_json = config;
    state->step = g_ascii_strtoll(step, NULL, 10);
    state->seed = g_ascii_strtoull(seed, NULL, 10);
    state->seconds = secs ? g_ascii_strtod(secs, NULL) : 0;
    state->command = aigc_safetensors_get_metadata(st, "train.command");
    return TRUE;
}

void aigc_train_state_adopt(const AigcTrainState *state, guint64 *seed, char **command_line)
{
    /* The checkpoint's seed wins: the run continues the order of data it started. */
    *seed = state->seed;
    /* The model records the command that started the run, not the one that resumed it. */
    if (state->command) {
        g_free(*command_line);
        *command_line = g_strdup(state->command);
    }
}

gboolean aigc_train_loop_step_done(const AigcTrainLoop *loop, gint64 step, const char *stage,
                                   GError **error)
{
    const AigcTrainHooks *h = loop->hooks;
    double fraction = (double)step / (double)MAX(loop->steps, 1);
    aigc_job_report_progress(loop->job, fraction, stage);
    if (aigc_train_due(step, loop->checkpoint_every, loop->steps) &&
        !h->save(loop->run, FALSE, error))
        return FALSE;
    if (h->sample && aigc_train_due(step, loop->sample_every, loop->steps)) {
        aigc_job_report_progress(loop->job, fraction, h->sample_stage);
        if (!h->sample(loop->run, error))
            return FALSE;
    }
    return TRUE;
}

gboolean aigc_train_loop_end(const AigcTrainLoop *loop, gint64 step, const char *output,
                             gboolean *finished, GError **error)
{
    const AigcTrainHooks *h = loop->hooks;
    gboolean done = step >= loop->steps && !aigc_job_is_cancelled(loop->job);
    if (finished)
        *finished = done;
    if (done && h->conclude) {
        aigc_job_report_progress(loop->job, 1.0, h->conclude_stage);
        if (!h->conclude(loop->run, error))
            return FALSE;
    }
    if (done && h->sample) {
        aigc_job_report_progress(loop->job, 1.0, h->sample_stage);
        if (!h->sample(loop->run, error))
            return FALSE;
    }
    if (step == loop->step0 && g_file_test(output, G_FILE_TEST_EXISTS))
        return TRUE;
    /* Finished or stopped: either way the work so far is kept. */
    aigc_job_report_progress(loop->job, (double)step / (double)MAX(loop->steps, 1), "saving");
    return h->save(loop->run, done, error);
}
