/* SPDX-License-Identifier: MIT
 *
 * Learning-rate schedules (see aigc-schedule.h). Computed in double so that values at large step
 * counts keep their precision before the final rounding to float.
 */
#include "aigc-schedule.h"

#include <math.h>

/* The warm-up ramp: step / warmup of the peak, for step < warmup. */
static double warmup_factor(gint64 step, gint64 warmup)
{
    return (double)step / (double)warmup;
}

float aigc_lr_warmup_cosine(gint64 step, gint64 warmup, gint64 total, float lr_max, float lr_min)
{
    g_return_val_if_fail(step >= 0 && warmup >= 0, 0.0f);
    if (step < warmup)
        return (float)(lr_max * warmup_factor(step, warmup));
    if (step >= total)
        return lr_min;
    double progress = (double)(step - warmup) / (double)(total - warmup); /* [0, 1) */
    double cosine = 0.5 * (1.0 + cos(G_PI * progress));
    return (float)(lr_min + ((double)lr_max - lr_min) * cosine);
}

float aigc_lr_warmup_constant(gint64 step, gint64 warmup, float lr)
{
    g_return_val_if_fail(step >= 0 && warmup >= 0, 0.0f);
    if (step < warmup)
        return (float)(lr * warmup_factor(step, warmup));
    return lr;
}
