/* SPDX-License-Identifier: MIT
 *
 * The engine bridge without a display: callbacks arrive on the main thread, progress and
 * previews are coalesced to about 30 Hz, done comes exactly once and after the last progress,
 * a cancelled job carries no error, a failed one does; audio chunks and value series are never
 * coalesced away: every one arrives, in order.
 */
#include "aigc-engine-bridge.h"
#include "aigc-test-jobs.h"

typedef struct {
    GMainLoop *loop;
    int n_progress;
    int n_preview;
    int n_done;
    double last_fraction;
    int done_state;
    gboolean had_error;
    gboolean progress_after_done;
    GThread *main_thread;
} Counts;

static void on_notify_fraction(GObject *obj, GParamSpec *pspec, Counts *c)
{
    g_assert_true(g_thread_self() == c->main_thread);
    c->n_progress++;
    c->last_fraction = aigc_job_handle_get_fraction(AIGC_JOB_HANDLE(obj));
    if (c->n_done)
        c->progress_after_done = TRUE;
}

static void on_preview(AigcJobHandle *h, const AigcPreview *preview, Counts *c)
{
    g_assert_true(g_thread_self() == c->main_thread);
    g_assert_cmpint(preview->kind, ==, AIGC_PREVIEW_IMAGE_RGBA8);
    g_assert_cmpuint(g_bytes_get_size(preview->data), ==, 16 * 16 * 4);
    c->n_preview++;
}

static void on_done(AigcJobHandle *h, int state, const GError *error, Counts *c)
{
    g_assert_true(g_thread_self() == c->main_thread);
    c->n_done++;
    c->done_state = state;
    c->had_error = error != NULL;
    g_main_loop_quit(c->loop);
}

static AigcJobHandle *submit(AigcEngineBridge *bridge, const AigcTestJobParams *p, Counts *c)
{
    g_autoptr(AigcJob) job = aigc_test_job_new(p);
    AigcJobHandle *h = aigc_engine_bridge_submit(bridge, job, "Test", "write");
    g_signal_connect(h, "notify::fraction", G_CALLBACK(on_notify_fraction), c);
    g_signal_connect(h, "preview", G_CALLBACK(on_preview), c);
    g_signal_connect(h, "done", G_CALLBACK(on_done), c);
    return h;
}

static void test_coalescing(void)
{
    g_autoptr(AigcEngineBridge) bridge = aigc_engine_bridge_new(1);
    Counts c = {.loop = g_main_loop_new(NULL, FALSE), .main_thread = g_thread_self()};
    /* 20,000 progress reports and 2,000 previews over about a second. */
    AigcTestJobParams p = {.n_steps = 20000, .step_us = 50, .preview_every = 10, .preview_size = 16};
    AigcJobHandle *h = g_object_ref(submit(bridge, &p, &c));
    g_assert_true(aigc_engine_bridge_is_busy(bridge, "write"));
    g_assert_false(aigc_engine_bridge_is_busy(bridge, "paint"));
    gint64 t0 = g_get_monotonic_time();
    g_main_loop_run(c.loop);
    double seconds = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("%.2f s: %d progress and %d preview deliveries", seconds, c.n_progress,
                   c.n_preview);
    g_assert_cmpint(c.n_done, ==, 1);
    g_assert_cmpint(c.done_state, ==, AIGC_JOB_SUCCEEDED);
    g_assert_false(c.had_error);
    g_assert_cmpfloat(c.last_fraction, ==, 1.0); /* the final progress arrives before done */
    /* About 30 Hz: never more than one delivery per 33 ms (+2 for the edges). */
    g_assert_cmpint(c.n_progress, <=, (int)(seconds / 0.033) + 2);
    g_assert_cmpint(c.n_preview, <=, (int)(seconds / 0.033) + 2);
    g_assert_cmpint(c.n_progress, >=, 2);
    g_assert_true(aigc_job_handle_is_finished(h));
    g_assert_false(aigc_engine_bridge_is_busy(bridge, NULL));
    g_assert_cmpuint(g_list_model_get_n_items(aigc_engine_bridge_get_jobs(bridge)), ==, 0);
    /* Nothing is delivered after done. */
    g_autoptr(GMainContext) ctx = g_main_context_ref(g_main_context_default());
    gint64 until = g_get_monotonic_time() + 100000;
    while (g_get_monotonic_time() < until)
        g_main_context_iteration(ctx, FALSE);
    g_assert_false(c.progress_after_done);
    g_assert_cmpint(c.n_done, ==, 1);
    g_object_unref(h);
    g_main_loop_unref(c.loop);
}

/* A job that streams 500 one-sample audio chunks as fast as it can, then a value series. */
static gboolean stream_audio(AigcJob *job, gpointer data, GError **error)
{
    for (int i = 0; i < 500; i++) {
        float v = (float)i;
        AigcPreview *p = aigc_preview_new(AIGC_PREVIEW_AUDIO_F32, "audio", g_bytes_new(&v, 4));
        p->sample_rate = 16000;
        aigc_job_report_preview(job, p);
    }
    float series[3] = {1, 2, 3};
    aigc_job_report_preview(job, aigc_preview_new(AIGC_PREVIEW_VALUES, "mel",
                                                  g_bytes_new(series, sizeof series)));
    return TRUE;
}

typedef struct {
    GMainLoop *loop;
    int n_audio, n_values;
    gboolean in_order;
} Stream;

static void on_stream_preview(AigcJobHandle *h, const AigcPreview *p, Stream *s)
{
    if (p->kind == AIGC_PREVIEW_AUDIO_F32) {
        const float *v = g_bytes_get_data(p->data, NULL);
        s->in_order &= s->n_values == 0 && v[0] == (float)s->n_audio;
        s->n_audio++;
    } else if (p->kind == AIGC_PREVIEW_VALUES) {
        s->n_values++;
    }
}

static void on_stream_done(AigcJobHandle *h, int state, const GError *error, Stream *s)
{
    g_main_loop_quit(s->loop);
}

static void test_audio_not_coalesced(void)
{
    g_autoptr(AigcEngineBridge) bridge = aigc_engine_bridge_new(1);
    Stream s = {.loop = g_main_loop_new(NULL, FALSE), .in_order = TRUE};
    g_autoptr(AigcJob) job = aigc_job_new("stream", stream_audio, NULL, NULL);
    AigcJobHandle *h = aigc_engine_bridge_submit(bridge, job, "Test", "speak");
    g_signal_connect(h, "preview", G_CALLBACK(on_stream_preview), &s);
    g_signal_connect(h, "done", G_CALLBACK(on_stream_done), &s);
    g_main_loop_run(s.loop);
    g_assert_cmpint(s.n_audio, ==, 500);
    g_assert_cmpint(s.n_values, ==, 1);
    g_assert_true(s.in_order);
    g_main_loop_unref(s.loop);
}

static void test_cancel_and_fail(void)
{
    g_autoptr(AigcEngineBridge) bridge = aigc_engine_bridge_new(1);
    Counts c = {.loop = g_main_loop_new(NULL, FALSE), .main_thread = g_thread_self()};
    AigcTestJobParams slow = {.n_steps = 100000, .step_us = 100};
    AigcJobHandle *h = submit(bridge, &slow, &c);
    aigc_job_handle_cancel(h);
    g_main_loop_run(c.loop);
    g_assert_cmpint(c.n_done, ==, 1);
    g_assert_cmpint(c.done_state, ==, AIGC_JOB_CANCELLED);
    g_assert_false(c.had_error);

    Counts f = {.loop = c.loop, .main_thread = g_thread_self()};
    AigcTestJobParams failing = {.n_steps = 3, .step_us = 10, .fail = TRUE};
    submit(bridge, &failing, &f);
    g_main_loop_run(f.loop);
    g_assert_cmpint(f.n_done, ==, 1);
    g_assert_cmpint(f.done_state, ==, AIGC_JOB_FAILED);
    g_assert_true(f.had_error);
    g_main_loop_unref(c.loop);
}

static void test_dispose_with_jobs(void)
{
    /* Disposing the bridge with queued work must not crash or leak: every job still ends. */
    AigcEngineBridge *bridge = aigc_engine_bridge_new(1);
    Counts c = {.loop = g_main_loop_new(NULL, FALSE), .main_thread = g_thread_self()};
    AigcTestJobParams p = {.n_steps = 1000, .step_us = 100};
    g_autoptr(AigcJobHandle) h = g_object_ref(submit(bridge, &p, &c));
    submit(bridge, &p, &c);
    g_object_unref(bridge);
    g_autoptr(GMainContext) ctx = g_main_context_ref(g_main_context_default());
    while (c.n_done < 2)
        g_main_context_iteration(ctx, TRUE);
    g_assert_cmpint(c.n_done, ==, 2);
    g_assert_true(aigc_job_handle_is_finished(h));
    g_main_loop_unref(c.loop);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/bridge/coalescing", test_coalescing);
    g_test_add_func("/ui/bridge/cancel-and-fail", test_cancel_and_fail);
    g_test_add_func("/ui/bridge/audio-not-coalesced", test_audio_not_coalesced);
    g_test_add_func("/ui/bridge/dispose-with-jobs", test_dispose_with_jobs);
    return g_test_run();
}
