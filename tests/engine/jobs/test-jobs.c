/* SPDX-License-Identifier: MIT
 *
 * AigcEngine / AigcJob: done exactly once in every interleaving of submit, cancel and finish;
 * FIFO order; cancel latency; shutdown with queued work.
 */
#include "aigc-engine.h"

#include <string.h>

typedef struct {
    gint n_steps;
    gint step_us;      /* busy work per step */
    gint ran;          /* atomic: the function started */
    gint n_done;       /* atomic */
    gint n_freed;      /* atomic: user data released */
    gint done_state;
    gint64 done_us;
    GMutex *gate;      /* (nullable) held by the test to keep the job from finishing */
    gboolean fail;
    GArray *order;     /* (nullable) job ids in run order */
    GMutex *order_mutex;
    int id;
} Probe;

static void busy_us(gint us)
{
    gint64 end = g_get_monotonic_time() + us;
    while (g_get_monotonic_time() < end)
        ;
}

static gboolean probe_run(AigcJob *job, gpointer params, GError **error)
{
    Probe *p = params;
    g_atomic_int_set(&p->ran, 1);
    if (p->order) {
        g_mutex_lock(p->order_mutex);
        g_array_append_val(p->order, p->id);
        g_mutex_unlock(p->order_mutex);
    }
    if (p->gate) {
        g_mutex_lock(p->gate);
        g_mutex_unlock(p->gate);
    }
    for (int i = 0; i < p->n_steps; i++) {
        if (aigc_job_is_cancelled(job))
            return FALSE;
        busy_us(p->step_us);
        aigc_job_report_progress(job, (i + 1.0) / p->n_steps, "working");
        if (i == 0)
            aigc_job_report_preview(job, aigc_preview_new_text("step"));
    }
    if (p->fail) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "probe failed");
        return FALSE;
    }
    aigc_job_set_result(job, g_strdup("result"), g_free);
    return TRUE;
}

static void on_done(AigcJob *job, AigcJobState state, const GError *error, gpointer user_data)
{
    Probe *p = user_data;
    p->done_state = state;
    p->done_us = g_get_monotonic_time();
    g_assert_true(state == AIGC_JOB_FAILED ? error != NULL : error == NULL);
    g_atomic_int_inc(&p->n_done);
}

static void on_preview(AigcJob *job, AigcPreview *preview, gpointer user_data)
{
    g_assert_cmpint(preview->kind, ==, AIGC_PREVIEW_TEXT);
    aigc_preview_free(preview);
}

static void on_user_data_free(gpointer data)
{
    Probe *p = data;
    g_atomic_int_inc(&p->n_freed);
}

static AigcJob *probe_job(Probe *p)
{
    AigcJob *job = aigc_job_new("probe", probe_run, p, NULL);
    AigcJobCallbacks cb = {.done = on_done,
                           .preview = on_preview,
                           .user_data = p,
                           .user_data_free = on_user_data_free};
    aigc_job_set_callbacks(job, &cb);
    return job;
}

static void test_success_and_failure(void)
{
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    Probe ok = {.n_steps = 3}, bad = {.n_steps = 1, .fail = TRUE};
    g_autoptr(AigcJob) a = probe_job(&ok);
    g_autoptr(AigcJob) b = probe_job(&bad);
    aigc_engine_submit(engine, a);
    aigc_engine_submit(engine, b);
    g_assert_cmpint(aigc_job_wait(a), ==, AIGC_JOB_SUCCEEDED);
    g_assert_cmpint(aigc_job_wait(b), ==, AIGC_JOB_FAILED);
    g_assert_cmpstr(aigc_job_get_result(a), ==, "result");
    g_assert_cmpfloat(aigc_job_get_progress(a, NULL), ==, 1.0);
    g_assert_error(aigc_job_get_error(b), AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_assert_null(aigc_job_get_error(a));
    g_assert_cmpint(ok.n_done, ==, 1);
    g_assert_cmpint(bad.n_done, ==, 1);
    g_assert_cmpint(ok.n_freed, ==, 1);
    g_assert_cmpint(bad.n_freed, ==, 1);
}

static void test_cancel_before_start(void)
{
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    GMutex gate;
    g_mutex_init(&gate);
    g_mutex_lock(&gate);
    Probe blocker = {.n_steps = 1, .gate = &gate}, queued = {.n_steps = 1};
    g_autoptr(AigcJob) a = probe_job(&blocker);
    g_autoptr(AigcJob) b = probe_job(&queued);
    aigc_engine_submit(engine, a);
    aigc_engine_submit(engine, b);
    g_assert_cmpint(aigc_job_get_state(b), ==, AIGC_JOB_QUEUED);
    aigc_job_cancel(b);
    g_mutex_unlock(&gate);
    g_assert_cmpint(aigc_job_wait(a), ==, AIGC_JOB_SUCCEEDED);
    g_assert_cmpint(aigc_job_wait(b), ==, AIGC_JOB_CANCELLED);
    g_assert_cmpint(queued.ran, ==, 0);
    g_assert_cmpint(queued.n_done, ==, 1);
    g_mutex_clear(&gate);
}

static void test_cancel_latency(void)
{
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    /* 10,000 steps of 1 ms: ten seconds unless cancel works. */
    Probe p = {.n_steps = 10000, .step_us = 1000};
    g_autoptr(AigcJob) job = probe_job(&p);
    aigc_engine_submit(engine, job);
    while (aigc_job_get_progress(job, NULL) == 0.0)
        g_thread_yield();
    gint64 t0 = g_get_monotonic_time();
    aigc_job_cancel(job);
    g_assert_cmpint(aigc_job_wait(job), ==, AIGC_JOB_CANCELLED);
    gint64 latency_us = p.done_us - t0;
    g_test_message("cancel latency %.2f ms", latency_us / 1000.0);
    g_assert_cmpint(latency_us, <, 100000);
    g_assert_null(aigc_job_get_error(job));
}

static void test_fifo(void)
{
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    GMutex order_mutex;
    g_mutex_init(&order_mutex);
    GArray *order = g_array_new(FALSE, FALSE, sizeof(int));
    Probe probes[20];
    AigcJob *jobs[20];
    for (int i = 0; i < 20; i++) {
        probes[i] = (Probe){.n_steps = 1, .order = order, .order_mutex = &order_mutex, .id = i};
        jobs[i] = probe_job(&probes[i]);
        aigc_engine_submit(engine, jobs[i]);
    }
    for (int i = 0; i < 20; i++) {
        aigc_job_wait(jobs[i]);
        aigc_job_unref(jobs[i]);
    }
    g_assert_cmpuint(order->len, ==, 20);
    for (int i = 0; i < 20; i++)
        g_assert_cmpint(g_array_index(order, int, i), ==, i);
    g_array_free(order, TRUE);
    g_mutex_clear(&order_mutex);
}

static void test_shutdown_with_queue(void)
{
    AigcEngine *engine = aigc_engine_new(NULL);
    Probe probes[50];
    AigcJob *jobs[50];
    for (int i = 0; i < 50; i++) {
        probes[i] = (Probe){.n_steps = 100, .step_us = 200};
        jobs[i] = probe_job(&probes[i]);
        aigc_engine_submit(engine, jobs[i]);
    }
    aigc_engine_free(engine);
    for (int i = 0; i < 50; i++) {
        g_assert_true(aigc_job_is_finished(jobs[i]));
        g_assert_cmpint(probes[i].n_done, ==, 1);
        g_assert_cmpint(probes[i].n_freed, ==, 1);
        AigcJobState s = aigc_job_get_state(jobs[i]);
        g_assert_true(s == AIGC_JOB_CANCELLED || s == AIGC_JOB_SUCCEEDED);
        aigc_job_unref(jobs[i]);
    }
}

typedef struct {
    AigcJob *job;
    int delay_us;
} CancelArgs;

static gpointer cancel_thread(gpointer data)
{
    CancelArgs *a = data;
    busy_us(a->delay_us);
    aigc_job_cancel(a->job);
    return NULL;
}

/* 1,000 jobs; each is cancelled before submission, right after it, from another thread after a
 * random delay (before start, mid-run or after the end), or never. */
static void test_races(void)
{
    enum { N = 1000 };
    g_autoptr(GRand) rand = g_rand_new_with_seed(1234);
    AigcEngine *engine = aigc_engine_new(NULL);
    Probe *probes = g_new0(Probe, N);
    AigcJob **jobs = g_new0(AigcJob *, N);
    GThread **threads = g_new0(GThread *, N);
    CancelArgs *args = g_new0(CancelArgs, N);
    int *mode = g_new0(int, N);
    for (int i = 0; i < N; i++) {
        probes[i].n_steps = g_rand_int_range(rand, 0, 6);
        probes[i].step_us = g_rand_int_range(rand, 0, 50);
        jobs[i] = probe_job(&probes[i]);
        mode[i] = g_rand_int_range(rand, 0, 4);
        if (mode[i] == 0)
            aigc_job_cancel(jobs[i]);
        aigc_engine_submit(engine, jobs[i]);
        if (mode[i] == 1)
            aigc_job_cancel(jobs[i]);
        if (mode[i] == 2) {
            args[i] = (CancelArgs){jobs[i], g_rand_int_range(rand, 0, 300)};
            threads[i] = g_thread_new("cancel", cancel_thread, &args[i]);
        }
        if (i % 100 == 99)
            for (int j = i - 99; j <= i; j++)
                if (threads[j]) {
                    g_thread_join(threads[j]);
                    threads[j] = NULL;
                }
    }
    for (int i = 0; i < N; i++)
        aigc_job_wait(jobs[i]);
    /* Cancel after done changes nothing. */
    for (int i = 0; i < N; i++)
        if (mode[i] == 3)
            aigc_job_cancel(jobs[i]);
    aigc_engine_free(engine);

    int n_cancelled = 0;
    for (int i = 0; i < N; i++) {
        g_assert_cmpint(probes[i].n_done, ==, 1);
        g_assert_cmpint(probes[i].n_freed, ==, 1);
        AigcJobState s = aigc_job_get_state(jobs[i]);
        g_assert_cmpint(s, ==, probes[i].done_state);
        if (mode[i] == 0) {
            g_assert_cmpint(s, ==, AIGC_JOB_CANCELLED);
            g_assert_cmpint(probes[i].ran, ==, 0);
        }
        if (mode[i] == 3)
            g_assert_cmpint(s, ==, AIGC_JOB_SUCCEEDED);
        if (s == AIGC_JOB_SUCCEEDED)
            g_assert_cmpstr(aigc_job_get_result(jobs[i]), ==, "result");
        g_assert_true(s == AIGC_JOB_SUCCEEDED || s == AIGC_JOB_CANCELLED);
        n_cancelled += s == AIGC_JOB_CANCELLED;
        aigc_job_unref(jobs[i]);
    }
    g_test_message("%d of %d jobs ended cancelled", n_cancelled, N);
    g_assert_cmpint(n_cancelled, >=, N / 4);
    g_free(probes);
    g_free(jobs);
    g_free(threads);
    g_free(args);
    g_free(mode);
}

static void test_unsubmitted_job(void)
{
    Probe p = {0};
    AigcJob *job = probe_job(&p);
    aigc_job_cancel(job);
    aigc_job_unref(job);
    g_assert_cmpint(p.n_done, ==, 0);
    g_assert_cmpint(p.n_freed, ==, 1);
}

typedef struct {
    AigcLogLevel level;
    char *message;
    int n;
} Captured;

/* A run that loads for 50 ms, resumes at 60 % and does 10 % in 50 ms has 150 ms left, not
 * 30/70 of its 100 ms; before progress is made there is no estimate. */
static gboolean resumed_run(AigcJob *job, gpointer params, GError **error)
{
    double *left = params;
    aigc_job_report_progress(job, 0.0, "loading");
    busy_us(50000);
    left[0] = aigc_job_get_time_left(job);
    aigc_job_report_progress(job, 0.6, "resumed");
    left[1] = aigc_job_get_time_left(job);
    busy_us(50000);
    aigc_job_report_progress(job, 0.7, "working");
    left[2] = aigc_job_get_time_left(job);
    return TRUE;
}

static void test_time_left_after_resume(void)
{
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    double left[3];
    g_autoptr(AigcJob) job = aigc_job_new("resumed", resumed_run, left, NULL);
    aigc_engine_submit(engine, job);
    g_assert_cmpint(aigc_job_wait(job), ==, AIGC_JOB_SUCCEEDED);
    g_assert_cmpfloat(left[0], <, 0.0);
    g_assert_cmpfloat(left[1], <, 0.0);
    g_assert_cmpfloat(left[2], >=, 0.15);
    g_assert_cmpfloat(left[2], <, 1.0); /* a loaded machine may stretch the 50 ms */
    g_assert_cmpfloat(aigc_job_get_time_left(job), <, 0.0); /* finished */
}

static void capture_log(AigcLogLevel level, const char *message, gpointer user_data)
{
    Captured *c = user_data;
    c->level = level;
    g_free(c->message);
    c->message = g_strdup(message);
    c->n++;
}

static void test_log_handler(void)
{
    Captured c = {0};
    aigc_log_set_handler(capture_log, &c);
    aigc_warning("disk %s is full", "/tmp");
    aigc_debug("step %d", 3);
    g_assert_cmpint(c.n, ==, 2);
    g_assert_cmpint(c.level, ==, AIGC_LOG_DEBUG);
    g_assert_cmpstr(c.message, ==, "step 3");
    aigc_log_set_handler(NULL, NULL); /* back to GLib's handler */
    aigc_debug("not captured");
    g_assert_cmpint(c.n, ==, 2);
    g_free(c.message);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/jobs/success-and-failure", test_success_and_failure);
    g_test_add_func("/engine/jobs/cancel-before-start", test_cancel_before_start);
    g_test_add_func("/engine/jobs/cancel-latency", test_cancel_latency);
    g_test_add_func("/engine/jobs/fifo", test_fifo);
    g_test_add_func("/engine/jobs/shutdown-with-queue", test_shutdown_with_queue);
    g_test_add_func("/engine/jobs/races", test_races);
    g_test_add_func("/engine/jobs/unsubmitted", test_unsubmitted_job);
    g_test_add_func("/engine/jobs/time-left-after-resume", test_time_left_after_resume);
    g_test_add_func("/engine/log/handler", test_log_handler);
    return g_test_run();
}
