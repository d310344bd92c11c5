/* SPDX-License-Identifier: MIT
 *
 * AigcJob state machine.
 *
 * DESIGN: a job moves QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED, or QUEUED → CANCELLED
 * when cancel arrives before it starts. Only the engine thread moves it (aigc_job_execute or
 * aigc_job_finish_unrun), and each of those ends by calling `done` once, so "exactly one done"
 * holds by construction. Other threads only set the atomic cancel flag and read state; readers
 * that must see the end wait on `cond`, which is signalled after `done` has returned.
 */
#include "aigc-job-private.h"

#include "aigc-error.h"

#include <string.h>

struct _AigcJob {
    gatomicrefcount ref_count;
    char *name;
    AigcJobFunc func;
    gpointer params;
    GDestroyNotify params_free;
    AigcJobCallbacks callbacks;

    gint cancelled; /* atomic */
    gint claimed;   /* atomic: submitted to an engine */
    gint state;     /* atomic AigcJobState */

    GMutex mutex; /* guards the fields below */
    GCond cond;
    gboolean finished;
    double fraction;
    /* Where the time-left estimate starts: the first report whose fraction differs from the
     * first one reported, so set-up (loading, a tokenizer) and the part of the schedule done
     * by an earlier, resumed run are not counted as this run's pace. */
    gboolean reported;
    double first_fraction;
    gboolean anchored;
    double anchor_fraction;
    gint64 anchor_us;
    char *stage;
    gint64 start_us;
    gint64 end_us;
    GError *error;
    gpointer result;
    GDestroyNotify result_free;
};

AigcPreview *aigc_preview_new(AigcPreviewKind kind, const char *label, GBytes *data)
{
    AigcPreview *preview = g_new0(AigcPreview, 1);
    preview->kind = kind;
    preview->label = g_strdup(label);
    preview->data = data ? g_bytes_ref(data) : g_bytes_new(NULL, 0);
    return preview;
}

AigcPreview *aigc_preview_new_text(const char *text)
{
    g_autoptr(GBytes) bytes = g_bytes_new(text, strlen(text));
    return aigc_preview_new(AIGC_PREVIEW_TEXT, NULL, bytes);
}

void aigc_preview_free(AigcPreview *preview)
{
    if (!preview)
        return;
    g_free(preview->label);
    g_bytes_unref(preview->data);
    g_free(preview);
}

AigcJob *aigc_job_new(const char *name, AigcJobFunc func, gpointer params,
                      GDestroyNotify params_free)
{
    g_return_val_if_fail(name != NULL, NULL);
    g_return_val_if_fail(func != NULL, NULL);

    AigcJob *job = g_new0(AigcJob, 1);
    g_atomic_ref_count_init(&job->ref_count);
    job->name = g_strdup(name);
    job->func = func;
    job->params = params;
    job->params_free = params_free;
    job->state = AIGC_JOB_QUEUED;
    g_mutex_init(&job->mutex);
    g_cond_init(&job->cond);
    return job;
}

void aigc_job_set_callbacks(AigcJob *job, const AigcJobCallbacks *callbacks)
{
    g_return_if_fail(job != NULL);
    g_return_if_fail(!g_atomic_int_get(&job->claimed));
    job->callbacks = *callbacks;
}

AigcJob *aigc_job_ref(AigcJob *job)
{
    g_return_val_if_fail(job != NULL, NULL);
    g_atomic_ref_count_inc(&job->ref_count);
    return job;
}

static void release_user_data(AigcJob *job)
{
    if (job->callbacks.user_data_free && job->callbacks.user_data)
        job->callbacks.user_data_free(job->callbacks.user_data);
    job->callbacks.user_data = NULL;
    job->callbacks.user_data_free = NULL;
}

void aigc_job_unref(AigcJob *job)
{
    if (!job || !g_atomic_ref_count_dec(&job->ref_count))
        return;
    /* A job that was never submitted still owns its callbacks' user data. */
    release_user_data(job);
    if (job->params_free)
        job->params_free(job->params);
    if (job->result_free)
        job->result_free(job->result);
    g_clear_error(&job->error);
    g_free(job->stage);
    g_free(job->name);
    g_mutex_clear(&job->mutex);
    g_cond_clear(&job->cond);
    g_free(job);
}

void aigc_job_cancel(AigcJob *job)
{
    g_return_if_fail(job != NULL);
    g_atomic_int_set(&job->cancelled, 1);
}

gboolean aigc_job_is_cancelled(AigcJob *job)
{
    g_return_val_if_fail(job != NULL, TRUE);
    return g_atomic_int_get(&job->cancelled) != 0;
}

const char *aigc_job_get_name(AigcJob *job)
{
    return job->name;
}

AigcJobState aigc_job_get_state(AigcJob *job)
{
    return (AigcJobState)g_atomic_int_get(&job->state);
}

gboolean aigc_job_is_finished(AigcJob *job)
{
    g_mutex_lock(&job->mutex);
    gboolean finished = job->finished;
    g_mutex_unlock(&job->mutex);
    return finished;
}

double aigc_job_get_progress(AigcJob *job, char **stage)
{
    g_mutex_lock(&job->mutex);
    double fraction = job->fraction;
    if (stage)
        *stage = g_strdup(job->stage);
    g_mutex_unlock(&job->mutex);
    return fraction;
}

double aigc_job_get_elapsed(AigcJob *job)
{
    g_mutex_lock(&job->mutex);
    gint64 start = job->start_us;
    gint64 end = job->end_us ? job->end_us : g_get_monotonic_time();
    g_mutex_unlock(&job->mutex);
    return start ? (double)(end - start) / G_USEC_PER_SEC : 0.0;
}

double aigc_job_get_time_left(AigcJob *job)
{
    g_mutex_lock(&job->mutex);
    double f0 = job->anchor_fraction, f = job->fraction;
    gint64 t0 = job->anchor_us;
    gboolean running = job->anchored && !job->end_us;
    g_mutex_unlock(&job->mutex);
    double done = f - f0;
    /* Too little progress since the anchor (2 % of what remained) to judge the rate. */
    if (!running || f >= 1.0 || done <= 0.02 * (1.0 - f0))
        return -1.0;
    double seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    return seconds * (1.0 - f) / done;
}

const GError *aigc_job_get_error(AigcJob *job)
{
    g_mutex_lock(&job->mutex);
    const GError *error = job->finished ? job->error : NULL;
    g_mutex_unlock(&job->mutex);
    return error;
}

AigcJobState aigc_job_wait(AigcJob *job)
{
    g_mutex_lock(&job->mutex);
    while (!job->finished)
        g_cond_wait(&job->cond, &job->mutex);
    g_mutex_unlock(&job->mutex);
    return aigc_job_get_state(job);
}

void aigc_job_report_progress(AigcJob *job, double fraction, const char *stage)
{
    fraction = CLAMP(fraction, 0.0, 1.0);
    g_mutex_lock(&job->mutex);
    if (!job->reported) {
        job->reported = TRUE;
        job->first_fraction = fraction;
    } else if (!job->anchored && fraction != job->first_fraction) {
        job->anchored = TRUE;
        job->anchor_fraction = fraction;
        job->anchor_us = g_get_monotonic_time();
    }
    job->fraction = fraction;
    if (stage && g_strcmp0(stage, job->stage) != 0) {
        g_free(job->stage);
        job->stage = g_strdup(stage);
    }
    g_mutex_unlock(&job->mutex);
    if (job->callbacks.progress)
        job->callbacks.progress(job, fraction, stage, job->callbacks.user_data);
}

void aigc_job_report_preview(AigcJob *job, AigcPreview *preview)
{
    if (job->callbacks.preview)
        job->callbacks.preview(job, preview, job->callbacks.user_data);
    else
        aigc_preview_free(preview);
}

void aigc_job_set_result(AigcJob *job, gpointer result, GDestroyNotify result_free)
{
    g_mutex_lock(&job->mutex);
    if (job->result_free)
        job->result_free(job->result);
    job->result = result;
    job->result_free = result_free;
    g_mutex_unlock(&job->mutex);
}

gpointer aigc_job_get_result(AigcJob *job)
{
    g_mutex_lock(&job->mutex);
    gpointer result = job->result;
    g_mutex_unlock(&job->mutex);
    return result;
}

gpointer aigc_job_get_params(AigcJob *job)
{
    return job->params;
}

gboolean aigc_job_claim(AigcJob *job)
{
    return g_atomic_int_compare_and_exchange(&job->claimed, 0, 1);
}

static void finish(AigcJob *job, AigcJobState state, GError *error)
{
    g_mutex_lock(&job->mutex);
    job->end_us = g_get_monotonic_time();
    job->error = error;
    g_mutex_unlock(&job->mutex);
    g_atomic_int_set(&job->state, state);

    if (job->callbacks.done)
        job->callbacks.done(job, state, error, job->callbacks.user_data);
    release_user_data(job);

    g_mutex_lock(&job->mutex);
    job->finished = TRUE;
    g_cond_broadcast(&job->cond);
    g_mutex_unlock(&job->mutex);
}

void aigc_job_execute(AigcJob *job)
{
    if (aigc_job_is_cancelled(job)) {
        finish(job, AIGC_JOB_CANCELLED, NULL);
        return;
    }
    g_mutex_lock(&job->mutex);
    job->start_us = g_get_monotonic_time();
    g_mutex_unlock(&job->mutex);
    g_atomic_int_set(&job->state, AIGC_JOB_RUNNING);

    GError *error = NULL;
    gboolean ok = job->func(job, job->params, &error);
    if (ok) {
        g_clear_error(&error);
        finish(job, AIGC_JOB_SUCCEEDED, NULL);
    } else if (aigc_job_is_cancelled(job)) {
        /* A job stopped by cancel is not a failure, whatever it reported on the way out. */
        g_clear_error(&error);
        finish(job, AIGC_JOB_CANCELLED, NULL);
    } else {
        if (!error)
            error = g_error_new(AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FAILED,
                                "job “%s” failed without saying why", job->name);
        finish(job, AIGC_JOB_FAILED, error);
    }
}

void aigc_job_finish_unrun(AigcJob *job)
{
    aigc_job_cancel(job);
    finish(job, AIGC_JOB_CANCELLED, NULL);
}
