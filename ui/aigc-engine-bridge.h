/* SPDX-License-Identifier: MIT
 *
 * AigcEngineBridge: the only place where engine callbacks cross to GTK. It owns the AigcEngine,
 * submits jobs, and re-delivers their callbacks on the main loop: progress and previews coalesced
 * to about 30 Hz (only the newest is kept), done exactly once, after any pending progress.
 */
#pragma once

#include "aigc-job-handle.h"

#include <gio/gio.h>

G_BEGIN_DECLS

#define AIGC_TYPE_ENGINE_BRIDGE (aigc_engine_bridge_get_type())
G_DECLARE_FINAL_TYPE(AigcEngineBridge, aigc_engine_bridge, AIGC, ENGINE_BRIDGE, GObject)

/* n_threads as in AigcEngineParams (0 = all cores). Call on the main thread. */
AigcEngineBridge *aigc_engine_bridge_new(int n_threads);

/* Submits a job (the bridge sets its callbacks) and returns its handle (transfer none: it stays
 * in the bridge's list until done has been delivered). */
AigcJobHandle *aigc_engine_bridge_submit(AigcEngineBridge *self, AigcJob *job, const char *title,
                                         const char *panel);
/* (transfer none) A GListModel of the AigcJobHandles not yet finished (running and queued). */
GListModel *aigc_engine_bridge_get_jobs(AigcEngineBridge *self);
/* TRUE while a job started from `panel` (NULL: any) is queued or running. */
gboolean aigc_engine_bridge_is_busy(AigcEngineBridge *self, const char *panel);
void aigc_engine_bridge_cancel_all(AigcEngineBridge *self);
/* Minimum interval between two progress/preview deliveries of one job (default 33 ms). */
void aigc_engine_bridge_set_interval(AigcEngineBridge *self, guint interval_ms);

G_END_DECLS
