/* SPDX-License-Identifier: MIT
 *
 * The compute thread budget, shared by BLAS and the engine's own kernels. Set once per process
 * (by aigc_engine_new or a test); kernels and BLAS calls never run at the same time, so the two
 * never oversubscribe the cores.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sets the thread count for BLAS and aigc_parallel_for — 0: the environment variable
 * AIGC_THREADS when it holds a positive number, else all cores — and returns the count used.
 * Later calls with a different count take effect for both. */
int aigc_threads_init(int n_threads);
int aigc_threads_get(void);

/* Calls func(i_begin, i_end, ctx) over disjoint chunks covering [0, n), on up to the thread
 * budget (the calling thread included). Returns when every chunk is done. Chunks are at least
 * `grain` items. Work must not depend on which thread runs it (results stay deterministic). */
typedef void (*AigcParallelFunc)(gint64 i_begin, gint64 i_end, gpointer ctx);
void aigc_parallel_for(gint64 n, gint64 grain, AigcParallelFunc func, gpointer ctx);

G_END_DECLS
