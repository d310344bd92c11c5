/* SPDX-License-Identifier: MIT
 * Between the engine's worker and its jobs; not public. */
#pragma once

#include "aigc-job.h"

/* Runs the job on the calling (engine) thread, or finishes it as cancelled without running if
 * cancel was already requested. Calls done exactly once. */
void aigc_job_execute(AigcJob *job);
/* Finishes a job that will never run (engine shutting down). Calls done exactly once. */
void aigc_job_finish_unrun(AigcJob *job);
/* Marks that the job is now in an engine's queue; returns FALSE if it was submitted before. */
gboolean aigc_job_claim(AigcJob *job);
