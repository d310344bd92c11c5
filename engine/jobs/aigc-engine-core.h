/* SPDX-License-Identifier: MIT
 *
 * AigcEngine: the owner of the engine thread and its FIFO job queue.
 */
#pragma once

#include "aigc-job.h"

G_BEGIN_DECLS

typedef struct _AigcEngine AigcEngine;

typedef struct {
    int n_threads; /* compute threads for kernels and BLAS; 0 = all cores */
} AigcEngineParams;

AigcEngineParams aigc_engine_default_params(void);

/* (transfer full) Starts the engine thread. Sets the BLAS thread count once, process-wide. */
AigcEngine *aigc_engine_new(const AigcEngineParams *params);
/* Cancels the running and every queued job (each still gets its done), joins the thread. */
void aigc_engine_free(AigcEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcEngine, aigc_engine_free)

/* Queues a job (FIFO) and returns it (transfer none: the caller keeps its own reference).
 * A job can be submitted once. Submitting to an engine that is shutting down finishes the job
 * as cancelled at once. */
AigcJob *aigc_engine_submit(AigcEngine *engine, AigcJob *job);

/* Cancels every queued and running job. */
void aigc_engine_cancel_all(AigcEngine *engine);

int aigc_engine_get_n_threads(AigcEngine *engine);
/* Jobs waiting plus the one running. */
guint aigc_engine_get_n_pending(AigcEngine *engine);

G_END_DECLS
