/* SPDX-License-Identifier: MIT
 *
 * SplitMix64 used as a counter-based generator: draw k = mix(seed_key + k·γ). Fills are
 * parallelised by index, so results do not depend on the thread count.
 */
#include "aigc-rng.h"

#include "aigc-threads.h"

#include <math.h>

#define GAMMA 0x9E3779B97F4A7C15ull

static inline guint64 mix64(guint64 z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline guint64 draw(guint64 seed, guint64 k)
{
    return mix64(mix64(seed) + (k + 1) * GAMMA);
}

static inline float to_unit(guint64 x)
{
    return (float)(x >> 40) * (1.0f / 16777216.0f); /* 24 bits: exactly representable */
}

void aigc_rng_init(AigcRng *rng, guint64 seed)
{
    rng->seed = seed;
    rng->offset = 0;
}

AigcRng aigc_rng_fork(const AigcRng *rng, guint64 stream)
{
    AigcRng r = {mix64(rng->seed ^ mix64(stream + 0x632BE59BD9B4E019ull)), 0};
    return r;
}

guint64 aigc_rng_u64(AigcRng *rng)
{
    return draw(rng->seed, rng->offset++);
}

float aigc_rng_uniform(AigcRng *rng)
{
    return to_unit(aigc_rng_u64(rng));
}

guint32 aigc_rng_below(AigcRng *rng, guint32 n)
{
    g_return_val_if_fail(n > 0, 0);
    /* Lemire's multiply-shift with rejection: unbiased. */
    guint64 m = (guint64)(guint32)(aigc_rng_u64(rng) >> 32) * n;
    guint32 low = (guint32)m;
    if (low < n) {
        guint32 threshold = (guint32)(-n) % n;
        while (low < threshold) {
            m = (guint64)(guint32)(aigc_rng_u64(rng) >> 32) * n;
            low = (guint32)m;
        }
    }
    return (guint32)(m >> 32);
}

static inline float normal_at(guint64 seed, guint64 k)
{
    float u1 = to_unit(draw(seed, 2 * k));
    float u2 = to_unit(draw(seed, 2 * k + 1));
    float r = sqrtf(-2.0f * logf(1.0f - u1)); /* 1 - u1 in (0, 1] */
    return r * cosf(6.28318530717958647692f * u2);
}

float aigc_rng_normal(AigcRng *rng)
{
    guint64 k = (rng->offset + 1) / 2; /* keep pairs aligned */
    rng->offset = 2 * k + 2;
    return normal_at(rng->seed, k);
}

typedef struct {
    guint64 seed, base;
    float *out;
    float a, b;
} FillCtx;

static void fill_uniform_range(gint64 begin, gint64 end, gpointer data)
{
    FillCtx *c = data;
    for (gint64 i = begin; i < end; i++)
        c->out[i] = c->a + (c->b - c->a) * to_unit(draw(c->seed, c->base + (guint64)i));
}

static void fill_normal_range(gint64 begin, gint64 end, gpointer data)
{
    FillCtx *c = data;
    for (gint64 i = begin; i < end; i++)
        c->out[i] = c->a + c->b * normal_at(c->seed, c->base + (guint64)i);
}

void aigc_rng_fill_uniform(AigcRng *rng, float *out, gint64 n, float lo, float hi)
{
    FillCtx c = {rng->seed, rng->offset, out, lo, hi};
    aigc_parallel_for(n, 1 << 14, fill_uniform_range, &c);
    rng->offset += (guint64)n;
}

void aigc_rng_fill_normal(AigcRng *rng, float *out, gint64 n, float mean, float std)
{
    guint64 k = (rng->offset + 1) / 2;
    FillCtx c = {rng->seed, k, out, mean, std};
    aigc_parallel_for(n, 1 << 14, fill_normal_range, &c);
    rng->offset = 2 * (k + (guint64)n);
}

int aigc_rng_categorical(AigcRng *rng, const float *weights, int n)
{
    double total = 0;
    for (int i = 0; i < n; i++)
        total += weights[i];
    double r = aigc_rng_uniform(rng) * total;
    double acc = 0;
    int last = 0;
    for (int i = 0; i < n; i++) {
        if (weights[i] <= 0)
            continue;
        acc += weights[i];
        last = i;
        if (r < acc)
            return i;
    }
    return last; /* rounding at the top end */
}

void aigc_rng_permutation(AigcRng *rng, int *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)aigc_rng_below(rng, (guint32)i + 1);
        int t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}
