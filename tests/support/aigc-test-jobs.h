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
    int step_us;       /* busy work per step */
    int preview_every; /* 0 = no previews */
    int preview_size;  /* width = height of the RGBA preview */
    gboolean fail;     /* end with an error */
} AigcTestJobParams;

/* (transfer full) */
AigcJob *aigc_test_job_new(const AigcTestJobParams *params);

/* ---- helpers for tests of training jobs ---- */

/* Runs `job` on an engine of its own to the end; with stop_halfway, cancels it (as Ctrl-C) once
 * its progress reaches one half. */
AigcJobState aigc_test_run_training(AigcJob *job, gboolean stop_halfway);

/* Writes a Fashion-MNIST-shaped training set of n 28×28 images (`pixels`, n × 784 bytes) and
 * their labels as the IDX files the training jobs read from `folder`. */
void aigc_test_write_fashion(const char *folder, int n, const guint8 *pixels, const guint8 *labels);
/* The same with n synthetic images: a bright bar whose column depends on the class (i % 10)
 * over a faint gradient. Small, so a job starts at once. */
void aigc_test_write_bar_fashion(const char *folder, int n);

/* Copies the safetensors file `from` to `to` with one metadata value replaced. */
void aigc_test_copy_with_metadata(const char *from, const char *to, const char *key,
                                  const char *value);

G_END_DECLS
