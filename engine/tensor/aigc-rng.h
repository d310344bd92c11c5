/* SPDX-License-Identifier: MIT
 *
 * Deterministic, counter-based random numbers. Value k of a stream is a hash of (seed, k), so a
 * fill of n values gives the same numbers however it is split across threads, and a stream can
 * be saved as two integers (seed, offset).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    guint64 seed;
    guint64 offset; /* how many 64-bit draws were used */
} AigcRng;

void aigc_rng_init(AigcRng *rng, guint64 seed);
/* Derives an independent stream (e.g. one per data loader or per sample). */
AigcRng aigc_rng_fork(const AigcRng *rng, guint64 stream);

guint64 aigc_rng_u64(AigcRng *rng);
/* Uniform in [0, 1). */
float aigc_rng_uniform(AigcRng *rng);
/* Uniform integer in [0, n). */
guint32 aigc_rng_below(AigcRng *rng, guint32 n);
/* Standard normal (Box–Muller on two draws). */
float aigc_rng_normal(AigcRng *rng);

void aigc_rng_fill_uniform(AigcRng *rng, float *out, gint64 n, float lo, float hi);
void aigc_rng_fill_normal(AigcRng *rng, float *out, gint64 n, float mean, float std);
/* Index drawn with probability weights[i] / sum(weights); weights ≥ 0, not all zero. */
int aigc_rng_categorical(AigcRng *rng, const float *weights, int n);
/* A uniformly random permutation of 0..n-1. */
void aigc_rng_permutation(AigcRng *rng, int *out, int n);

G_END_DECLS
