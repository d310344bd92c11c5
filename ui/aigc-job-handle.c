/* SPDX-License-Identifier: MIT */
#include "aigc-job-handle.h"

#include "aigc-ui-private.h"

struct _AigcJobHandle {
    GObject parent_instance;
    AigcJob *job;
    char *title;
    char *panel;
    AigcJobState state;
    double fraction;
    char *stage;
    gboolean finished;
};

G_DEFINE_FINAL_TYPE(AigcJobHandle, aigc_job_handle, G_TYPE_OBJECT)

enum { PROP_0, PROP_TITLE, PROP_STATE, PROP_FRACTION, PROP_STAGE, PROP_FINISHED, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_PREVIEW, SIGNAL_DONE, N_SIGNALS };
static guint signals[N_SIGNALS];

static void aigc_job_handle_finalize(GObject *object)
{
    AigcJobHandle *self = AIGC_JOB_HANDLE(object);
    aigc_job_unref(self->job);
    g_free(self->title);
    g_free(self->panel);
    g_free(self->stage);
    G_OBJECT_CLASS(aigc_job_handle_parent_class)->finalize(object);
}

static void aigc_job_handle_get_property(GObject *object, guint id, GValue *value,
                                         GParamSpec *pspec)
{
    AigcJobHandle *self = AIGC_JOB_HANDLE(object);
    switch (id) {
    case PROP_TITLE: g_value_set_string(value, self->title); break;
    case PROP_STATE: g_value_set_int(value, self->state); break;
    case PROP_FRACTION: g_value_set_double(value, self->fraction); break;
    case PROP_STAGE: g_value_set_string(value, self->stage); break;
    case PROP_FINISHED: g_value_set_boolean(value, self->finished); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void aigc_job_handle_class_init(AigcJobHandleClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->finalize = aigc_job_handle_finalize;
    object_class->get_property = aigc_job_handle_get_property;
    GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
    props[PROP_TITLE] = g_param_spec_string("title", NULL, NULL, NULL, ro);
    props[PROP_STATE] = g_param_spec_int("state", NULL, NULL, 0, AIGC_JOB_FAILED, 0, ro);
    props[PROP_FRACTION] = g_param_spec_double("fraction", NULL, NULL, 0, 1, 0, ro);
    props[PROP_STAGE] = g_param_spec_string("stage", NULL, NULL, NULL, ro);
    props[PROP_FINISHED] = g_param_spec_boolean("finished", NULL, NULL, FALSE, ro);
    g_object_class_install_properties(object_class, N_PROPS, props);

    /* preview: (const AigcPreview *) valid during the emission only. */
    signals[SIGNAL_PREVIEW] = g_signal_new("preview", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
    /* done: (AigcJobState state, const GError *error) — emitted exactly once. */
    signals[SIGNAL_DONE] = g_signal_new("done", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT,
                                        G_TYPE_POINTER);
}

static void aigc_job_handle_init(AigcJobHandle *self)
{
}

AigcJobHandle *aigc_job_handle_new(AigcJob *job, const char *title, const char *panel)
{
    AigcJobHandle *self = g_object_new(AIGC_TYPE_JOB_HANDLE, NULL);
    self->job = aigc_job_ref(job);
    self->title = g_strdup(title);
    self->panel = g_strdup(panel);
    self->state = AIGC_JOB_QUEUED;
    return self;
}

AigcJob *aigc_job_handle_get_job(AigcJobHandle *self)
{
    return self->job;
}

const char *aigc_job_handle_get_title(AigcJobHandle *self)
{
    return self->title;
}

const char *aigc_job_handle_get_panel(AigcJobHandle *self)
{
    return self->panel;
}

AigcJobState aigc_job_handle_get_state(AigcJobHandle *self)
{
    return self->state;
}

double aigc_job_handle_get_fraction(AigcJobHandle *self)
{
    return self->fraction;
}

const char *aigc_job_handle_get_stage(AigcJobHandle *self)
{
    return self->stage;
}

double aigc_job_handle_get_elapsed(AigcJobHandle *self)
{
    return aigc_job_get_elapsed(self->job);
}

double aigc_job_handle_get_time_left(AigcJobHandle *self)
{
    double elapsed = aigc_job_get_elapsed(self->job);
    if (self->fraction < 0.01 || elapsed < 0.5 || self->finished)
        return -1;
    return elapsed * (1.0 - self->fraction) / self->fraction;
}

gboolean aigc_job_handle_is_finished(AigcJobHandle *self)
{
    return self->finished;
}

void aigc_job_handle_cancel(AigcJobHandle *self)
{
    aigc_job_cancel(self->job);
}

void aigc_job_handle_update_progress(AigcJobHandle *self, double fraction, const char *stage)
{
    AIGC_ASSERT_MAIN_THREAD();
    if (self->finished)
        return;
    if (self->state == AIGC_JOB_QUEUED) {
        self->state = AIGC_JOB_RUNNING;
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATE]);
    }
    if (fraction != self->fraction) {
        self->fraction = fraction;
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FRACTION]);
    }
    if (g_strcmp0(stage, self->stage) != 0) {
        g_free(self->stage);
        self->stage = g_strdup(stage);
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STAGE]);
    }
}

void aigc_job_handle_emit_preview(AigcJobHandle *self, const AigcPreview *preview)
{
    AIGC_ASSERT_MAIN_THREAD();
    if (!self->finished)
        g_signal_emit(self, signals[SIGNAL_PREVIEW], 0, preview);
}

void aigc_job_handle_finish(AigcJobHandle *self, AigcJobState state, const GError *error)
{
    AIGC_ASSERT_MAIN_THREAD();
    g_return_if_fail(!self->finished);
    self->finished = TRUE;
    self->state = state;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_STATE]);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FINISHED]);
    g_signal_emit(self, signals[SIGNAL_DONE], 0, (int)state, error);
}
