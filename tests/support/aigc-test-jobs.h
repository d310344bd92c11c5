/* SPDX-License-Identifier: MIT
 *
 * A synthetic engine job for tests and benchmarks of the job plumbing: n_steps steps of busy
 * work, each reporting progress and, optionally, an RGBA preview; it polls cancel every step.
 */
#pragma once

#include "aigc-engine.h"

G_BEGIN_DECLS

typedef struct {
    int n_steps;
    int step_us;        /* busy work per step */
    int preview_every;  /* 0 = no previews */
    int preview_size;   /* width = height of the RGBA preview */
    gboolean fail;      /* end with an error */
} AigcTestJobParams;

/* (transfer full) */
AigcJob *aigc_test_job_new(const AigcTestJobParams *params);

G_END_DECLS
