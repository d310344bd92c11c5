/* SPDX-License-Identifier: MIT
 *
 * Thread budget and a tiny fork-join pool.
 *
 * DESIGN: the pool keeps (budget - 1) helper threads parked on a condition variable. A
 * parallel_for publishes one task (function, range, chunk count) under the mutex and bumps a
 * generation counter; helpers and the caller take chunks with an atomic counter until none is
 * left, and the caller waits for the last one to finish. Only one parallel_for runs at a time
 * (the engine runs one job at a time); a nested or concurrent call runs serially in its caller.
 */
#include "aigc-threads.h"

#include <cblas.h>

static GMutex pool_mutex;
static GCond pool_cond;      /* helpers wait here for a new generation */
static GCond pool_done_cond; /* the caller waits here for chunks to finish */
static int n_budget = 1;
static int n_helpers;
static guint64 generation;
static gint pool_busy; /* atomic: a parallel_for is in flight */

static struct {
    AigcParallelFunc func;
    gpointer ctx;
    gint64 n, chunk;
    gint next_chunk; /* atomic */
    gint n_chunks;
    gint n_done;   /* under pool_mutex */
    gint n_active; /* under pool_mutex: helpers inside run_chunks */
} task;

static void run_chunks(void)
{
    for (;;) {
        gint i_chunk = g_atomic_int_add(&task.next_chunk, 1);
        if (i_chunk >= task.n_chunks)
            break;
        gint64 begin = (gint64)i_chunk * task.chunk;
        gint64 end = MIN(task.n, begin + task.chunk);
        task.func(begin, end, task.ctx);
        g_mutex_lock(&pool_mutex);
        if (++task.n_done == task.n_chunks)
            g_cond_signal(&pool_done_cond);
        g_mutex_unlock(&pool_mutex);
    }
}

static gpointer helper_main(gpointer data)
{
    guint64 seen = 0;
    g_mutex_lock(&pool_mutex);
    for (;;) {
        while (generation == seen)
            g_cond_wait(&pool_cond, &pool_mutex);
        seen = generation;
        task.n_active++;
        g_mutex_unlock(&pool_mutex);
        run_chunks();
        g_mutex_lock(&pool_mutex);
        /* The caller may not publish the next task while a helper still reads this one. */
        if (--task.n_active == 0)
            g_cond_signal(&pool_done_cond);
    }
    return NULL;
}

int aigc_threads_init(int n_threads)
{
    if (n_threads <= 0) {
        /* AIGC_THREADS lets two runs share the cores, one each, without a rebuild. */
        const char *env = g_getenv("AIGC_THREADS");
        gint64 v = env ? g_ascii_strtoll(env, NULL, 10) : 0;
        n_threads = v > 0 ? (int)MIN(v, 256) : (int)g_get_num_processors();
    }
    n_threads = CLAMP(n_threads, 1, 256);
    g_mutex_lock(&pool_mutex);
    n_budget = n_threads;
    /* Helpers are only ever added; a smaller budget just uses fewer chunks. */
    while (n_helpers < n_budget - 1) {
        g_thread_unref(g_thread_new("aigc-compute", helper_main, NULL));
        n_helpers++;
    }
    g_mutex_unlock(&pool_mutex);
    /* BLAS runs single-threaded; large products are split over this pool (aigc-blas.c). */
    openblas_set_num_threads(1);
    return n_threads;
}

int aigc_threads_get(void)
{
    g_mutex_lock(&pool_mutex);
    int n = n_budget;
    g_mutex_unlock(&pool_mutex);
    return n;
}

void aigc_parallel_for(gint64 n, gint64 grain, AigcParallelFunc func, gpointer ctx)
{
    if (n <= 0)
        return;
    grain = MAX(grain, 1);
    int n_threads = aigc_threads_get();
    gint64 n_chunks = MIN((gint64)n_threads, (n + grain - 1) / grain);
    if (n_chunks <= 1 || !g_atomic_int_compare_and_exchange(&pool_busy, 0, 1)) {
        func(0, n, ctx);
        return;
    }
    g_mutex_lock(&pool_mutex);
    while (task.n_active > 0) /* a helper that woke late for the previous task */
        g_cond_wait(&pool_done_cond, &pool_mutex);
    task.func = func;
    task.ctx = ctx;
    task.n = n;
    task.chunk = (n + n_chunks - 1) / n_chunks;
    task.n_chunks = (gint)((n + task.chunk - 1) / task.chunk);
    task.n_done = 0;
    g_atomic_int_set(&task.next_chunk, 0);
    generation++;
    g_cond_broadcast(&pool_cond);
    g_mutex_unlock(&pool_mutex);

    run_chunks();

    g_mutex_lock(&pool_mutex);
    while (task.n_done < task.n_chunks || task.n_active > 0)
        g_cond_wait(&pool_done_cond, &pool_mutex);
    g_mutex_unlock(&pool_mutex);
    g_atomic_int_set(&pool_busy, 0);
}
