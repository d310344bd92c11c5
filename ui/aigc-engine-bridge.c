/* SPDX-License-Identifier: MIT
 *
 * DESIGN (threads): the engine thread calls on_progress/on_preview/on_done. Those store the
 * newest values in the job's Relay under its mutex (text previews are appended, not replaced;
 * audio chunks and value series are queued and all delivered in order; only images are
 * replaced by the newest) and, when no delivery is scheduled, attach a
 * timeout source to the main context that fires no sooner than `interval` after the previous
 * delivery — so a job reporting 10,000 times a second costs the main loop ~30 wake-ups. on_done
 * posts deliver_done to the main context, which first delivers what is still pending and then
 * finishes the handle: the single `done`. Handles are only touched on the main thread.
 */
#include "aigc-engine-bridge.h"

#include "aigc-ui-private.h"

#include <string.h>

typedef struct {
    gatomicrefcount refs;
    GMutex mutex;
    GWeakRef bridge;          /* AigcEngineBridge, main thread only */
    AigcJobHandle *handle;    /* (owned) main thread only */
    GMainContext *context;
    guint interval_ms;
    /* under mutex */
    gboolean has_progress;
    double fraction;
    char *stage;
    AigcPreview *preview;
    GPtrArray *queued;        /* of AigcPreview: delivered in order, never coalesced */
    gboolean scheduled;
    gint64 last_delivery_us;
    AigcJobState done_state;
    GError *done_error;
} Relay;

struct _AigcEngineBridge {
    GObject parent_instance;
    AigcEngine *engine;
    GListStore *jobs;
    guint interval_ms;
};

G_DEFINE_FINAL_TYPE(AigcEngineBridge, aigc_engine_bridge, G_TYPE_OBJECT)

enum { SIGNAL_JOB_DONE, N_SIGNALS };
static guint signals[N_SIGNALS];

static Relay *relay_ref(Relay *r)
{
    g_atomic_ref_count_inc(&r->refs);
    return r;
}

static void relay_unref(gpointer data)
{
    Relay *r = data;
    if (!g_atomic_ref_count_dec(&r->refs))
        return;
    g_clear_object(&r->handle);
    g_weak_ref_clear(&r->bridge);
    g_free(r->stage);
    aigc_preview_free(r->preview);
    g_ptr_array_unref(r->queued);
    g_clear_error(&r->done_error);
    g_main_context_unref(r->context);
    g_mutex_clear(&r->mutex);
    g_free(r);
}

/* Main thread: hand the newest progress and preview to the handle. */
static void deliver_pending(Relay *r)
{
    g_mutex_lock(&r->mutex);
    gboolean has_progress = r->has_progress;
    double fraction = r->fraction;
    char *stage = g_steal_pointer(&r->stage);
    AigcPreview *preview = g_steal_pointer(&r->preview);
    GPtrArray *queued = r->queued;
    r->queued = g_ptr_array_new_with_free_func((GDestroyNotify)aigc_preview_free);
    r->has_progress = FALSE;
    r->scheduled = FALSE;
    r->last_delivery_us = g_get_monotonic_time();
    g_mutex_unlock(&r->mutex);

    if (has_progress)
        aigc_job_handle_update_progress(r->handle, fraction, stage);
    for (guint i = 0; i < queued->len; i++)
        aigc_job_handle_emit_preview(r->handle, queued->pdata[i]);
    g_ptr_array_unref(queued);
    if (preview)
        aigc_job_handle_emit_preview(r->handle, preview);
    g_free(stage);
    aigc_preview_free(preview);
}

static gboolean deliver_timeout(gpointer data)
{
    AIGC_ASSERT_MAIN_THREAD();
    deliver_pending(data);
    return G_SOURCE_REMOVE;
}

/* Engine thread, with r->mutex held. */
static void schedule_locked(Relay *r)
{
    if (r->scheduled)
        return;
    r->scheduled = TRUE;
    gint64 since = g_get_monotonic_time() - r->last_delivery_us;
    gint64 wait_ms = MAX(0, (gint64)r->interval_ms - since / 1000);
    GSource *source = g_timeout_source_new((guint)wait_ms);
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, deliver_timeout, relay_ref(r), relay_unref);
    g_source_set_static_name(source, "aigc-bridge-delivery");
    g_source_attach(source, r->context);
    g_source_unref(source);
}

static void on_progress(AigcJob *job, double fraction, const char *stage, gpointer data)
{
    Relay *r = data;
    g_mutex_lock(&r->mutex);
    r->has_progress = TRUE;
    r->fraction = fraction;
    if (g_strcmp0(stage, r->stage) != 0) {
        g_free(r->stage);
        r->stage = g_strdup(stage);
    }
    schedule_locked(r);
    g_mutex_unlock(&r->mutex);
}

static void on_preview(AigcJob *job, AigcPreview *preview, gpointer data)
{
    Relay *r = data;
    g_mutex_lock(&r->mutex);
    if (preview->kind == AIGC_PREVIEW_AUDIO_F32 || preview->kind == AIGC_PREVIEW_VALUES) {
        /* Sound to play and series to draw are parts of the result: none may be dropped. */
        g_ptr_array_add(r->queued, preview);
    } else if (r->preview && r->preview->kind == AIGC_PREVIEW_TEXT &&
               preview->kind == AIGC_PREVIEW_TEXT) {
        /* Streamed text is a sequence of pieces: coalescing joins them, nothing is dropped. */
        gsize n1, n2;
        const char *a = g_bytes_get_data(r->preview->data, &n1);
        const char *b = g_bytes_get_data(preview->data, &n2);
        char *joined = g_malloc(n1 + n2);
        memcpy(joined, a, n1);
        memcpy(joined + n1, b, n2);
        g_bytes_unref(r->preview->data);
        r->preview->data = g_bytes_new_take(joined, n1 + n2);
        aigc_preview_free(preview);
    } else {
        aigc_preview_free(r->preview); /* coalesced: only the newest image is shown */
        r->preview = preview;
    }
    schedule_locked(r);
    g_mutex_unlock(&r->mutex);
}

static gboolean deliver_done(gpointer data)
{
    AIGC_ASSERT_MAIN_THREAD();
    Relay *r = data;
    deliver_pending(r);
    g_autoptr(AigcEngineBridge) bridge = g_weak_ref_get(&r->bridge);
    AigcJobHandle *handle = g_object_ref(r->handle);
    guint pos;
    if (bridge && bridge->jobs && g_list_store_find(bridge->jobs, handle, &pos))
        g_list_store_remove(bridge->jobs, pos);
    aigc_job_handle_finish(handle, r->done_state, r->done_error);
    if (bridge)
        g_signal_emit(bridge, signals[SIGNAL_JOB_DONE], 0, handle, (int)r->done_state,
                      r->done_error);
    g_object_unref(handle);
    return G_SOURCE_REMOVE;
}

static void on_done(AigcJob *job, AigcJobState state, const GError *error, gpointer data)
{
    Relay *r = data;
    g_mutex_lock(&r->mutex);
    r->done_state = state;
    r->done_error = error ? g_error_copy(error) : NULL;
    g_mutex_unlock(&r->mutex);
    /* Not g_main_context_invoke(): when nobody owns the main context at this instant it would
     * run deliver_done right here, on the engine thread. */
    GSource *source = g_idle_source_new();
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, deliver_done, relay_ref(r), relay_unref);
    g_source_set_static_name(source, "aigc-bridge-done");
    g_source_attach(source, r->context);
    g_source_unref(source);
}

static void aigc_engine_bridge_dispose(GObject *object)
{
    AigcEngineBridge *self = AIGC_ENGINE_BRIDGE(object);
    if (self->engine) {
        /* Every job gets its done from the engine; deliveries still queued on the main
         * context find their handles alive through their own references. */
        aigc_engine_free(g_steal_pointer(&self->engine));
    }
    g_clear_object(&self->jobs);
    G_OBJECT_CLASS(aigc_engine_bridge_parent_class)->dispose(object);
}

static void aigc_engine_bridge_class_init(AigcEngineBridgeClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = aigc_engine_bridge_dispose;
    /* job-done: (AigcJobHandle *handle, AigcJobState state, const GError *error) */
    signals[SIGNAL_JOB_DONE] = g_signal_new("job-done", G_TYPE_FROM_CLASS(klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                            3, AIGC_TYPE_JOB_HANDLE, G_TYPE_INT, G_TYPE_POINTER);
}

static void aigc_engine_bridge_init(AigcEngineBridge *self)
{
    self->jobs = g_list_store_new(AIGC_TYPE_JOB_HANDLE);
    self->interval_ms = 33;
}

AigcEngineBridge *aigc_engine_bridge_new(int n_threads)
{
    aigc_ui_mark_main_thread();
    AigcEngineBridge *self = g_object_new(AIGC_TYPE_ENGINE_BRIDGE, NULL);
    AigcEngineParams params = aigc_engine_default_params();
    params.n_threads = n_threads;
    self->engine = aigc_engine_new(&params);
    return self;
}

AigcJobHandle *aigc_engine_bridge_submit(AigcEngineBridge *self, AigcJob *job, const char *title,
                                         const char *panel)
{
    AIGC_ASSERT_MAIN_THREAD();
    g_return_val_if_fail(self->engine != NULL, NULL);
    Relay *r = g_new0(Relay, 1);
    g_atomic_ref_count_init(&r->refs);
    g_mutex_init(&r->mutex);
    r->queued = g_ptr_array_new_with_free_func((GDestroyNotify)aigc_preview_free);
    g_weak_ref_init(&r->bridge, self);
    r->handle = aigc_job_handle_new(job, title, panel);
    r->context = g_main_context_ref(g_main_context_default());
    r->interval_ms = self->interval_ms;

    AigcJobCallbacks callbacks = {
        .progress = on_progress,
        .preview = on_preview,
        .done = on_done,
        .user_data = r,
        .user_data_free = relay_unref,
    };
    aigc_job_set_callbacks(job, &callbacks);
    g_list_store_append(self->jobs, r->handle);
    aigc_engine_submit(self->engine, job);
    return r->handle;
}

GListModel *aigc_engine_bridge_get_jobs(AigcEngineBridge *self)
{
    return G_LIST_MODEL(self->jobs);
}

gboolean aigc_engine_bridge_is_busy(AigcEngineBridge *self, const char *panel)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->jobs));
    for (guint i = 0; i < n; i++) {
        g_autoptr(AigcJobHandle) h = g_list_model_get_item(G_LIST_MODEL(self->jobs), i);
        if (!panel || g_strcmp0(aigc_job_handle_get_panel(h), panel) == 0)
            return TRUE;
    }
    return FALSE;
}

void aigc_engine_bridge_cancel_all(AigcEngineBridge *self)
{
    if (self->engine)
        aigc_engine_cancel_all(self->engine);
}

void aigc_engine_bridge_set_interval(AigcEngineBridge *self, guint interval_ms)
{
    self->interval_ms = interval_ms;
}
