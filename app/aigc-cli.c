/* SPDX-License-Identifier: MIT
 *
 * Foreground job runner and error/usage printing for `aigc`.
 *
 * DESIGN: the main thread iterates the default main context until the job has finished; it
 * wakes for Ctrl-C (g_unix_signal_add, so the handler is ordinary code, not async-signal
 * context) and for the job's done, which wakes the context from the engine thread. Progress is
 * printed directly from the engine thread, rate-limited, to stderr.
 */
#include "aigc-cli.h"

#include <glib-unix.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

int aigc_cli_fail(const GError *error)
{
    fprintf(stderr, "aigc: %s\n", error->message);
    return AIGC_EXIT_FAILURE;
}

int aigc_cli_usage_error(const char *command, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    g_autofree char *msg = g_strdup_vprintf(format, args);
    va_end(args);
    fprintf(stderr, "aigc %s: %s\nRun `aigc %s --help` for usage.\n", command, msg, command);
    return AIGC_EXIT_USAGE;
}

int aigc_cli_apply_sets(const char *command, char **sets, AigcCliSetFunc set, gpointer params)
{
    for (int i = 0; sets && sets[i]; i++) {
        g_autofree char *key = g_strdup(sets[i]);
        char *eq = strchr(key, '=');
        if (!eq)
            return aigc_cli_usage_error(command, "--set needs KEY=VALUE, not “%s”", sets[i]);
        *eq = '\0';
        g_autoptr(GError) error = NULL;
        if (!set(params, key, eq + 1, &error))
            return aigc_cli_usage_error(command, "%s", error->message);
    }
    return 0;
}

gboolean aigc_cli_parse(GOptionContext *context, const char *command, int *argc, char ***argv,
                        int *status)
{
    g_autofree char *prgname = g_strdup_printf("aigc %s", command);
    g_set_prgname(prgname);
    for (int i = 1; i < *argc; i++) {
        if (g_str_equal((*argv)[i], "--help") || g_str_equal((*argv)[i], "-h")) {
            g_autofree char *help = g_option_context_get_help(context, TRUE, NULL);
            fputs(help, stdout);
            *status = AIGC_EXIT_OK;
            return FALSE;
        }
        if (g_str_equal((*argv)[i], "--"))
            break;
    }
    g_option_context_set_help_enabled(context, FALSE);
    GError *error = NULL;
    if (!g_option_context_parse(context, argc, argv, &error)) {
        *status = aigc_cli_usage_error(command, "%s", error->message);
        g_error_free(error);
        return FALSE;
    }
    return TRUE;
}

typedef struct {
    AigcJob *job;
    gboolean tty;
    gint64 last_print_us;
    double last_fraction;
    char *last_stage;
    gboolean bar_drawn;
    gboolean stopping;
    gboolean quiet;
    AigcJobPreviewFunc preview_func;
    gpointer preview_data;
} Runner;

static void format_duration(char *buf, gsize n, double seconds)
{
    int s = (int)(seconds + 0.5);
    if (s >= 3600)
        g_snprintf(buf, n, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    else
        g_snprintf(buf, n, "%d:%02d", s / 60, s % 60);
}

static void on_progress(AigcJob *job, double fraction, const char *stage, gpointer user_data)
{
    Runner *r = user_data;
    if (r->quiet)
        return;
    gint64 now = g_get_monotonic_time();
    gboolean stage_changed = g_strcmp0(stage, r->last_stage) != 0;
    gint64 interval = r->tty ? G_USEC_PER_SEC / 10 : G_USEC_PER_SEC;
    if (!stage_changed && fraction < 1.0 && now - r->last_print_us < interval)
        return;
    if (!stage_changed && fraction == r->last_fraction)
        return;
    r->last_print_us = now;
    r->last_fraction = fraction;
    if (stage_changed) {
        g_free(r->last_stage);
        r->last_stage = g_strdup(stage);
    }

    char left[32] = "";
    double seconds_left = aigc_job_get_time_left(job);
    if (seconds_left >= 0.0) {
        char t[24];
        format_duration(t, sizeof t, seconds_left);
        g_snprintf(left, sizeof left, "  %s left", t);
    }
    int pct = (int)(fraction * 100.0);
    if (r->tty) {
        enum { WIDTH = 30 };
        char bar[WIDTH * 3 + 1];
        int filled = (int)(fraction * WIDTH);
        GString *b = g_string_new(NULL);
        for (int i = 0; i < WIDTH; i++)
            g_string_append(b, i < filled ? "█" : "░");
        g_strlcpy(bar, b->str, sizeof bar);
        g_string_free(b, TRUE);
        fprintf(stderr, "\r\033[K%s %s %3d%%%s", stage ? stage : aigc_job_get_name(job), bar, pct,
                left);
        r->bar_drawn = TRUE;
    } else {
        fprintf(stderr, "%s: %d%%%s\n", stage ? stage : aigc_job_get_name(job), pct, left);
    }
    fflush(stderr);
}

static void on_preview(AigcJob *job, AigcPreview *preview, gpointer user_data)
{
    Runner *r = user_data;
    if (r->preview_func)
        r->preview_func(job, preview, r->preview_data);
    else
        aigc_preview_free(preview);
}

static gboolean keep_ticking(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

static void on_done(AigcJob *job, AigcJobState state, const GError *error, gpointer user_data)
{
    /* The main thread waits on aigc_job_is_finished() between iterations; wake it up. A quit
     * posted with g_main_context_invoke() could run here, on the engine thread, before the
     * loop even started, and the loop would then wait forever. */
    g_main_context_wakeup(NULL);
}

static gboolean on_signal(gpointer data)
{
    Runner *r = data;
    if (!r->stopping) {
        r->stopping = TRUE;
        if (r->bar_drawn)
            fputc('\n', stderr);
        fprintf(stderr, "aigc: stopping…\n");
    }
    aigc_job_cancel(r->job);
    return G_SOURCE_CONTINUE;
}

int aigc_cli_run_job(AigcJob *job)
{
    return aigc_cli_run_job_full(job, NULL, NULL, FALSE);
}

int aigc_cli_run_job_full(AigcJob *job, AigcJobPreviewFunc preview_func, gpointer user_data,
                          gboolean quiet)
{
    Runner r = {
        .job = job,
        .tty = isatty(STDERR_FILENO),
        .last_fraction = -1.0,
        .quiet = quiet,
        .preview_func = preview_func,
        .preview_data = user_data,
    };
    AigcJobCallbacks callbacks = {
        .progress = on_progress, .preview = on_preview, .done = on_done, .user_data = &r};
    aigc_job_set_callbacks(job, &callbacks);
    guint sigint = g_unix_signal_add(SIGINT, on_signal, &r);
    guint sigterm = g_unix_signal_add(SIGTERM, on_signal, &r);

    AigcEngine *engine = aigc_engine_new(NULL);
    aigc_engine_submit(engine, job);
    /* done is called before the job counts as finished: iterate until it does. A short timeout
     * covers the moment between the wake-up and the finished flag. */
    guint tick_id = g_timeout_add(50, keep_ticking, NULL);
    while (!aigc_job_is_finished(job))
        g_main_context_iteration(NULL, TRUE);
    g_source_remove(tick_id);
    aigc_engine_free(engine);

    g_source_remove(sigint);
    g_source_remove(sigterm);
    if (r.bar_drawn && !r.stopping)
        fputc('\n', stderr);

    int status;
    switch (aigc_job_get_state(job)) {
    case AIGC_JOB_SUCCEEDED:
        status = AIGC_EXIT_OK;
        break;
    case AIGC_JOB_CANCELLED:
        fprintf(stderr, "aigc: stopped\n");
        status = AIGC_EXIT_CANCELLED;
        break;
    default:
        status = aigc_cli_fail(aigc_job_get_error(job));
        break;
    }
    g_free(r.last_stage);
    return status;
}
