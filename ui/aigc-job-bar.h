/* SPDX-License-Identifier: MIT
 *
 * AigcJobBar: the strip at the bottom of the window listing running and queued jobs with their
 * stage, progress, elapsed time, time left and a Cancel button each. Hidden when idle.
 */
#pragma once

#include "aigc-engine-bridge.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define AIGC_TYPE_JOB_BAR (aigc_job_bar_get_type())
G_DECLARE_FINAL_TYPE(AigcJobBar, aigc_job_bar, AIGC, JOB_BAR, GtkWidget)

void aigc_job_bar_set_bridge(AigcJobBar *self, AigcEngineBridge *bridge);

G_END_DECLS
