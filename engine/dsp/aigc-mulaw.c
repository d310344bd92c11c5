/* SPDX-License-Identifier: MIT
 *
 * μ-law companding (formulas in the header). Decoding uses a 256-entry table computed once in
 * double precision; encoding computes in double, so the level is the exact rounding of the
 * formula except within ~1e-12 of a level boundary.
 */
#include "aigc-mulaw.h"

#include <math.h>

#define MU 255.0

guint8 aigc_mulaw_encode_one(float x)
{
    if (isnan(x))
        x = 0.0f;
    const double v = CLAMP((double)x, -1.0, 1.0);
    const double y = copysign(log1p(MU * fabs(v)) / log1p(MU), v);
    const double q = floor((y + 1.0) / 2.0 * MU + 0.5);
    return (guint8)CLAMP(q, 0.0, MU);
}

static float decode_exact(int q)
{
    const double y = 2.0 * q / MU - 1.0;
    const double x = (exp(fabs(y) * log1p(MU)) - 1.0) / MU;
    return (float)copysign(x, y);
}

static float decode_table[AIGC_MULAW_LEVELS];

static void init_table(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        for (int q = 0; q < AIGC_MULAW_LEVELS; q++)
            decode_table[q] = decode_exact(q);
        g_once_init_leave(&once, 1);
    }
}

float aigc_mulaw_decode_one(guint8 q)
{
    init_table();
    return decode_table[q];
}

void aigc_mulaw_encode(const float *x, gint64 n, guint8 *q)
{
    for (gint64 i = 0; i < n; i++)
        q[i] = aigc_mulaw_encode_one(x[i]);
}

void aigc_mulaw_decode(const guint8 *q, gint64 n, float *x)
{
    init_table();
    for (gint64 i = 0; i < n; i++)
        x[i] = decode_table[q[i]];
}
