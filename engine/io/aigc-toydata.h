/* SPDX-License-Identifier: MIT
 *
 * Small synthetic data sets for demos and tests, drawn from the engine's RNG so a seed gives
 * the same data on every machine and thread count.
 */
#pragma once

#include "tensor/aigc-rng.h"

#include <glib.h>

G_BEGIN_DECLS

/* Two interleaving half circles, as scikit-learn's make_moons(n, noise=noise, shuffle=True):
 * n / 2 points of class 0 on the upper arc (cos t, sin t) and n − n / 2 of class 1 on the lower
 * arc (1 − cos t, 0.5 − sin t), t evenly spaced over [0, π] on each arc, shuffled, then every
 * coordinate moved by Gaussian noise of standard deviation `noise` (≥ 0).
 * x: (n, 2) row-major; y: (n) class ids. Consumes draws from `rng`. */
void aigc_two_moons(AigcRng *rng, int n, float noise, float *x, gint32 *y);

G_END_DECLS
