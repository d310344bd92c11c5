/* SPDX-License-Identifier: MIT
 *
 * AigcJob: one unit of heavy work (generate, train, render, export) that runs on the engine's
 * own thread. A job owns its parameters, reports progress and previews through callbacks, can be
 * cancelled from any thread, and ends in exactly one `done` callback.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AigcJob AigcJob;

typedef enum {
    AIGC_JOB_QUEUED,
    AIGC_JOB_RUNNING,
    AIGC_JOB_SUCCEEDED,
    AIGC_JOB_CANCELLED,
    AIGC_JOB_FAILED,
} AigcJobState;

typedef enum {
    AIGC_PREVIEW_IMAGE_RGBA8, /* width × height × 4 bytes */
    AIGC_PREVIEW_TEXT,        /* UTF-8 text: the newest piece (e.g. one token) */
    AIGC_PREVIEW_AUDIO_F32,   /* mono float samples at sample_rate */
    AIGC_PREVIEW_VALUES,      /* a named series of floats (loss, PSNR…) */
} AigcPreviewKind;

/* A preview payload. Whoever holds it owns it; aigc_preview_free() releases it. */
typedef struct {
    AigcPreviewKind kind;
    int width, height;   /* images */
    int sample_rate;     /* audio */
    char *label;         /* (nullable) what it shows, e.g. "step 12/50" or "loss" */
    GBytes *data;        /* the payload bytes */
} AigcPreview;

AigcPreview *aigc_preview_new(AigcPreviewKind kind, const char *label, GBytes *data);
AigcPreview *aigc_preview_new_text(const char *text);
void aigc_preview_free(AigcPreview *preview);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcPreview, aigc_preview_free)

/* Runs on the engine thread. Returns TRUE on success; on failure returns FALSE and sets error.
 * A function that notices aigc_job_is_cancelled() returns FALSE without an error. */
typedef gboolean (*AigcJobFunc)(AigcJob *job, gpointer params, GError **error);

/* Callbacks are invoked on the engine thread; each gets its own user_data. A GUI re-delivers
 * them to its main loop (ui/aigc-engine-bridge). */
typedef void (*AigcJobProgressFunc)(AigcJob *job, double fraction, const char *stage,
                                    gpointer user_data);
/* (transfer full) preview */
typedef void (*AigcJobPreviewFunc)(AigcJob *job, AigcPreview *preview, gpointer user_data);
/* error is (nullable) and set only for AIGC_JOB_FAILED. */
typedef void (*AigcJobDoneFunc)(AigcJob *job, AigcJobState state, const GError *error,
                                gpointer user_data);

typedef struct {
    AigcJobProgressFunc progress; /* (nullable) */
    AigcJobPreviewFunc preview;   /* (nullable) */
    AigcJobDoneFunc done;         /* (nullable) */
    gpointer user_data;
    GDestroyNotify user_data_free; /* (nullable) called once, after done */
} AigcJobCallbacks;

/* (transfer full) A new job in state QUEUED; it owns params (freed with params_free). */
AigcJob *aigc_job_new(const char *name, AigcJobFunc func, gpointer params,
                      GDestroyNotify params_free);
void aigc_job_set_callbacks(AigcJob *job, const AigcJobCallbacks *callbacks);
AigcJob *aigc_job_ref(AigcJob *job);
void aigc_job_unref(AigcJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcJob, aigc_job_unref)

/* Requests cancellation; callable from any thread, any number of times, in any state. */
void aigc_job_cancel(AigcJob *job);
gboolean aigc_job_is_cancelled(AigcJob *job);

/* (transfer none) */
const char *aigc_job_get_name(AigcJob *job);
AigcJobState aigc_job_get_state(AigcJob *job);
gboolean aigc_job_is_finished(AigcJob *job);
/* Latest progress; stage is (transfer full) and may be NULL. */
double aigc_job_get_progress(AigcJob *job, char **stage);
/* Seconds since the job started running (0 while queued). */
double aigc_job_get_elapsed(AigcJob *job);
/* Seconds left at the pace of progress since the fraction first moved from its first reported
 * value (so set-up time and a resumed run's earlier share are not counted), or -1 while too
 * little progress has been made to tell. */
double aigc_job_get_time_left(AigcJob *job);
/* (nullable) (transfer none) The error of a FAILED job, valid once finished. */
const GError *aigc_job_get_error(AigcJob *job);

/* Blocks until the job has finished (after its done callback returned). */
AigcJobState aigc_job_wait(AigcJob *job);

/* For job functions, on the engine thread. */
void aigc_job_report_progress(AigcJob *job, double fraction, const char *stage);
void aigc_job_report_preview(AigcJob *job, AigcPreview *preview /* (transfer full) */);
/* A result stays with the job after it ends, for whoever holds a reference. */
void aigc_job_set_result(AigcJob *job, gpointer result, GDestroyNotify result_free);
/* (nullable) (transfer none) */
gpointer aigc_job_get_result(AigcJob *job);
/* (nullable) (transfer none) */
gpointer aigc_job_get_params(AigcJob *job);

G_END_DECLS
