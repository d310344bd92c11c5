/* SPDX-License-Identifier: MIT
 *
 * Learning-rate schedules: pure functions of the step number, so a resumed run needs nothing
 * but its step count to continue the same curve. Steps count from 0 (the first optimiser step
 * uses step 0).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Linear warm-up from 0 at step 0 to lr_max at step `warmup`, then a half cosine from lr_max down
 * to lr_min at step `total`, and lr_min after it. warmup = 0 starts at lr_max; total ≤ warmup
 * goes straight to lr_min after the warm-up. */
float aigc_lr_warmup_cosine(gint64 step, gint64 warmup, gint64 total, float lr_max, float lr_min);

/* Linear warm-up from 0 at step 0 to `lr` at step `warmup`, constant after it. */
float aigc_lr_warmup_constant(gint64 step, gint64 warmup, float lr);

G_END_DECLS
