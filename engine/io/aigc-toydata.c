/* SPDX-License-Identifier: MIT
 *
 * Toy data sets. The points are laid out first and shuffled afterwards (a Fisher–Yates pass
 * over whole rows), so the arcs stay evenly sampled whatever the seed, and the noise is added
 * last in row order, which fixes the order of RNG draws and so the data for a seed.
 */
#include "aigc-toydata.h"

#include <math.h>

#define PI_D 3.14159265358979323846

void aigc_two_moons(AigcRng *rng, int n, float noise, float *x, gint32 *y)
{
    g_return_if_fail(rng != NULL);
    g_return_if_fail(n >= 0);
    g_return_if_fail(noise >= 0);
    g_return_if_fail(n == 0 || (x != NULL && y != NULL));

    int n_outer = n / 2, n_inner = n - n_outer;
    for (int i = 0; i < n_outer; i++) {
        double t = n_outer > 1 ? PI_D * i / (n_outer - 1) : 0.0;
        x[2 * i] = (float)cos(t);
        x[2 * i + 1] = (float)sin(t);
        y[i] = 0;
    }
    for (int i = 0; i < n_inner; i++) {
        double t = n_inner > 1 ? PI_D * i / (n_inner - 1) : 0.0;
        float *row = x + 2 * (gint64)(n_outer + i);
        row[0] = (float)(1.0 - cos(t));
        row[1] = (float)(0.5 - sin(t));
        y[n_outer + i] = 1;
    }
    for (int i = n - 1; i > 0; i--) {
        int j = (int)aigc_rng_below(rng, (guint32)i + 1);
        float x0 = x[2 * i], x1 = x[2 * i + 1];
        gint32 yi = y[i];
        x[2 * i] = x[2 * j];
        x[2 * i + 1] = x[2 * j + 1];
        y[i] = y[j];
        x[2 * j] = x0;
        x[2 * j + 1] = x1;
        y[j] = yi;
    }
    if (noise > 0) {
        for (gint64 k = 0; k < 2 * (gint64)n; k++)
            x[k] += noise * aigc_rng_normal(rng);
    }
}
