/* SPDX-License-Identifier: MIT
 *
 * Shared helpers of the C benchmarks: a median timer and running a PyTorch peer script in the
 * same run (Debian's /usr/bin/python3 with OPENBLAS_NUM_THREADS=2), reading its last line.
 */
#pragma once

#include <glib.h>

/* Median of `n` timings in milliseconds. Sorts `ms`. */
double bench_median(double *ms, int n);
/* Runs tests/bench/SCRIPT (from the source dir given by G_TEST_SRCDIR or the compile-time source
 * root) with extra arguments and returns the number after `key: ` on its last line, or -1 when
 * the peer cannot run (PyTorch missing): the benchmark then prints ours alone and says so. */
double bench_run_torch_peer(const char *script, const char *const *extra_args, const char *key);
/* Peak resident set size of this process, in MB. */
double bench_peak_rss_mb(void);
