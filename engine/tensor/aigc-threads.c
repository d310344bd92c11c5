/* SPDX-License-Identifier: MIT
 *
 * Thread budget and a tiny fork-join pool.
 *
 * DESIGN: the pool keeps (budget - 1) helper threads parked on a condition variable. A
 * parallel_for publishes one task (function, range, chunk count) under the mutex and bumps a
 * generation counter; helpers and the caller take chunks with an atomic counter until none is
 * left, and the caller waits for the last one to finish. Only one parallel_for runs at a time
 * (the engine runs one job at a time); a nested or concurrent call runs serially in its caller.
 *
 * Training runs thousands of small parallel regions a second, and a futex wake-up plus a context
 * switch for each cost more than a tenth of the CPU. So both sides spin first, for at most
 * SPIN_US: a helper that finished a task watches the generation counter before it parks, and the
 * caller watches the chunk count before it sleeps; condition variables are signalled only when
 * someone sleeps on them (n_sleeping, caller_sleeping), so a busy pool makes no system calls.
 * Every counter another thread spins on is read and written with atomics.
 */
#include "aigc-threads.h"

#include <cblas.h>

#define SPIN_US 50

static GMutex pool_mutex;
static GCond pool_cond;      /* helpers wait here for a new generation */
static GCond pool_done_cond; /* the caller waits here for chunks to finish */
static int n_budget = 1;
static int n_helpers;
/* Changed under pool_mutex, but every access is atomic: the spinning side reads them without
 * the mutex (and ThreadSanitizer cannot see GMutex, a futex of GLib's own). */
static guint64 generation;
static gint n_sleeping;      /* helpers parked on pool_cond */
static gint caller_sleeping; /* the caller parked on pool_done_cond */
static gint pool_busy;       /* atomic: a parallel_for is in flight */

static struct {
    AigcParallelFunc func;
    gpointer ctx;
    gint64 n, chunk;
    gint next_chunk; /* atomic */
    gint n_chunks;
    gint n_done;   /* atomic, as generation */
    gint n_active; /* atomic, as generation: helpers inside run_chunks */
} task;

#define LOAD(x)     __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define ADD(x, v)   __atomic_add_fetch(&(x), (v), __ATOMIC_ACQ_REL)

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spins until pred() or SPIN_US have passed; returns pred(). */
static gboolean spin_until(gboolean (*pred)(gpointer), gpointer data)
{
    gint64 deadline = 0;
    for (int i = 0;; i++) {
        if (pred(data))
            return TRUE;
        if ((i & 63) == 63) {
            gint64 now = g_get_monotonic_time();
            if (!deadline)
                deadline = now + SPIN_US;
            else if (now > deadline)
                return FALSE;
        }
        cpu_relax();
    }
}

static gboolean new_generation(gpointer seen)
{
    return LOAD(generation) != *(guint64 *)seen;
}

static gboolean task_finished(gpointer unused)
{
    return LOAD(task.n_done) >= task.n_chunks && LOAD(task.n_active) == 0;
}

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
        if (ADD(task.n_done, 1) == task.n_chunks && LOAD(caller_sleeping))
            g_cond_signal(&pool_done_cond);
        g_mutex_unlock(&pool_mutex);
    }
}

static gpointer helper_main(gpointer data)
{
    guint64 seen = 0;
    for (;;) {
        spin_until(new_generation, &seen);
        g_mutex_lock(&pool_mutex);
        while (LOAD(generation) == seen) {
            ADD(n_sleeping, 1);
            g_cond_wait(&pool_cond, &pool_mutex);
            ADD(n_sleeping, -1);
        }
        seen = LOAD(generation);
        ADD(task.n_active, 1);
        g_mutex_unlock(&pool_mutex);
        run_chunks();
        g_mutex_lock(&pool_mutex);
        /* The caller may not publish the next task while a helper still reads this one. */
        if (ADD(task.n_active, -1) == 0 && LOAD(caller_sleeping))
            g_cond_signal(&pool_done_cond);
        g_mutex_unlock(&pool_mutex);
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
    while (LOAD(task.n_active) > 0) { /* a helper that woke late for the previous task */
        STORE(caller_sleeping, 1);
        g_cond_wait(&pool_done_cond, &pool_mutex);
        STORE(caller_sleeping, 0);
    }
    task.func = func;
    task.ctx = ctx;
    task.n = n;
    task.chunk = (n + n_chunks - 1) / n_chunks;
    task.n_chunks = (gint)((n + task.chunk - 1) / task.chunk);
    STORE(task.n_done, 0);
    g_atomic_int_set(&task.next_chunk, 0);
    STORE(generation, LOAD(generation) + 1); /* publishes the task */
    if (LOAD(n_sleeping) > 0)
        g_cond_broadcast(&pool_cond);
    g_mutex_unlock(&pool_mutex);

    run_chunks();

    if (!spin_until(task_finished, NULL)) {
        g_mutex_lock(&pool_mutex);
        while (!task_finished(NULL)) {
            STORE(caller_sleeping, 1);
            g_cond_wait(&pool_done_cond, &pool_mutex);
            STORE(caller_sleeping, 0);
        }
        g_mutex_unlock(&pool_mutex);
    }
    g_atomic_int_set(&pool_busy, 0);
}
