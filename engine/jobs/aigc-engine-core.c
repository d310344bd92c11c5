/* SPDX-License-Identifier: MIT
 *
 * The engine thread and its queue.
 *
 * DESIGN: one worker thread pops jobs from a FIFO (a GQueue under `mutex`) and runs them one at
 * a time, so heavy kernels never compete with each other for the cores; the kernels and BLAS
 * share the thread budget set once in aigc_threads_init(). Shutdown sets `stopping`, cancels
 * everything, and lets the worker drain the queue, so every job still gets exactly one done from
 * the worker thread. Submitting after shutdown has begun finishes the job on the caller's thread,
 * which is the only other place a done can come from, and the job never reached the queue.
 */
#include "aigc-engine-core.h"

#include "aigc-job-private.h"
#include "tensor/aigc-threads.h"

struct _AigcEngine {
    GThread *thread;
    GMutex mutex;
    GCond cond;
    GQueue queue;     /* (element AigcJob, owned ref) */
    AigcJob *running; /* (owned ref) */
    gboolean stopping;
    int n_threads;
};

AigcEngineParams aigc_engine_default_params(void)
{
    return (AigcEngineParams){.n_threads = 0};
}

static gpointer worker_main(gpointer data)
{
    AigcEngine *engine = data;
    g_mutex_lock(&engine->mutex);
    for (;;) {
        while (g_queue_is_empty(&engine->queue) && !engine->stopping)
            g_cond_wait(&engine->cond, &engine->mutex);
        AigcJob *job = g_queue_pop_head(&engine->queue);
        if (!job)
            break; /* stopping and drained */
        gboolean stopping = engine->stopping;
        engine->running = job;
        g_mutex_unlock(&engine->mutex);

        if (stopping)
            aigc_job_finish_unrun(job);
        else
            aigc_job_execute(job);

        g_mutex_lock(&engine->mutex);
        engine->running = NULL;
        g_mutex_unlock(&engine->mutex);
        aigc_job_unref(job);
        g_mutex_lock(&engine->mutex);
    }
    g_mutex_unlock(&engine->mutex);
    return NULL;
}

AigcEngine *aigc_engine_new(const AigcEngineParams *params)
{
    AigcEngineParams defaults = aigc_engine_default_params();
    if (!params)
        params = &defaults;
    g_return_val_if_fail(params->n_threads >= 0, NULL);

    AigcEngine *engine = g_new0(AigcEngine, 1);
    g_mutex_init(&engine->mutex);
    g_cond_init(&engine->cond);
    g_queue_init(&engine->queue);
    engine->n_threads = aigc_threads_init(params->n_threads);
    engine->thread = g_thread_new("aigc-engine", worker_main, engine);
    return engine;
}

void aigc_engine_cancel_all(AigcEngine *engine)
{
    g_mutex_lock(&engine->mutex);
    for (GList *l = engine->queue.head; l; l = l->next)
        aigc_job_cancel(l->data);
    if (engine->running)
        aigc_job_cancel(engine->running);
    g_mutex_unlock(&engine->mutex);
}

void aigc_engine_free(AigcEngine *engine)
{
    if (!engine)
        return;
    g_mutex_lock(&engine->mutex);
    engine->stopping = TRUE;
    g_cond_signal(&engine->cond);
    g_mutex_unlock(&engine->mutex);
    aigc_engine_cancel_all(engine);
    g_thread_join(engine->thread);

    g_mutex_clear(&engine->mutex);
    g_cond_clear(&engine->cond);
    g_free(engine);
}

AigcJob *aigc_engine_submit(AigcEngine *engine, AigcJob *job)
{
    g_return_val_if_fail(engine != NULL, NULL);
    g_return_val_if_fail(job != NULL, NULL);
    if (!aigc_job_claim(job)) {
        g_critical("job “%s” was submitted twice", aigc_job_get_name(job));
        return job;
    }

    g_mutex_lock(&engine->mutex);
    if (engine->stopping) {
        g_mutex_unlock(&engine->mutex);
        aigc_job_finish_unrun(job);
        return job;
    }
    g_queue_push_tail(&engine->queue, aigc_job_ref(job));
    g_cond_signal(&engine->cond);
    g_mutex_unlock(&engine->mutex);
    return job;
}

int aigc_engine_get_n_threads(AigcEngine *engine)
{
    return engine->n_threads;
}

guint aigc_engine_get_n_pending(AigcEngine *engine)
{
    g_mutex_lock(&engine->mutex);
    guint n = engine->queue.length + (engine->running ? 1 : 0);
    g_mutex_unlock(&engine->mutex);
    return n;
}
