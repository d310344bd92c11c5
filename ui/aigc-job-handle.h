/* SPDX-License-Identifier: MIT
 *
 * AigcJobHandle: the main-thread face of one engine job. The engine bridge creates it and
 * updates its properties (state, fraction, stage) on the GTK main loop; widgets bind to those
 * and to the "preview" and "done" signals, and never see an engine thread.
 */
#pragma once

#include "aigc-engine.h"

#include <glib-object.h>

G_BEGIN_DECLS

#define AIGC_TYPE_JOB_HANDLE (aigc_job_handle_get_type())
G_DECLARE_FINAL_TYPE(AigcJobHandle, aigc_job_handle, AIGC, JOB_HANDLE, GObject)

/* (transfer none) The engine job, for cancel and timing; never touch its callbacks. */
AigcJob *aigc_job_handle_get_job(AigcJobHandle *self);
const char *aigc_job_handle_get_title(AigcJobHandle *self);
/* (nullable) The panel that started it ("write", "paint", …). */
const char *aigc_job_handle_get_panel(AigcJobHandle *self);
AigcJobState aigc_job_handle_get_state(AigcJobHandle *self);
double aigc_job_handle_get_fraction(AigcJobHandle *self);
/* (nullable) */
const char *aigc_job_handle_get_stage(AigcJobHandle *self);
double aigc_job_handle_get_elapsed(AigcJobHandle *self);
/* Estimated seconds left from progress so far, or -1 when unknown. */
double aigc_job_handle_get_time_left(AigcJobHandle *self);
gboolean aigc_job_handle_is_finished(AigcJobHandle *self);
void aigc_job_handle_cancel(AigcJobHandle *self);

/* For the bridge only. */
AigcJobHandle *aigc_job_handle_new(AigcJob *job, const char *title, const char *panel);
void aigc_job_handle_update_progress(AigcJobHandle *self, double fraction, const char *stage);
void aigc_job_handle_emit_preview(AigcJobHandle *self, const AigcPreview *preview);
void aigc_job_handle_finish(AigcJobHandle *self, AigcJobState state, const GError *error);

G_END_DECLS
