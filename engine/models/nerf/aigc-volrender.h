/* SPDX-License-Identifier: MIT
 *
 * Volume rendering of rays sampled at discrete points (NeRF, eq. 3): sample i of a ray has
 * density σ_i, colour c_i and length δ_i; α_i = 1 − exp(−σ_i δ_i), transmittance
 * T_i = Π_{j<i} (1 − α_j), weight w_i = T_i α_i, and the ray's colour is
 * C = Σ w_i c_i + T_n · background.
 *
 * A batch of rays is a list of consecutive sample ranges: ray r owns samples
 * [offset[r], offset[r] + count[r]).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Below this transmittance a ray is considered opaque and stops (early ray termination). */
#define AIGC_VOLRENDER_MIN_TRANSMITTANCE 1e-4f

/* How many of each ray's samples come before its transmittance falls below `t_min`: the
 * samples that can still change its colour. n_used (n_rays). Parallel over rays. */
void aigc_volrender_count_used(gint64 n_rays, const gint64 *offset, const int *count,
                               const float *sigma, const float *delta, float t_min, int *n_used);

/* Colour, expected depth (Σ w_i t_i, nullable) and opacity (Σ w_i, nullable) of each ray.
 * rgb (n, 3), t (n) sample distances (nullable when depth is), background (3) shared by every
 * ray; out_rgb (n_rays, 3). */
void aigc_volrender_forward(gint64 n_rays, const gint64 *offset, const int *count,
                            const float *sigma, const float *rgb, const float *delta,
                            const float *t, const float background[3], float *out_rgb,
                            float *out_depth, float *out_opacity);

/* Fused forward and backward for the loss L = scale · Σ_rays |C − target|²: background and
 * target are (n_rays, 3) (a background per ray allows random backgrounds in training). Writes
 * d_sigma (n) = ∂L/∂σ and d_rgb (n, 3) = ∂L/∂c, out_rgb (n_rays, 3, nullable) = C, and returns
 * Σ_rays |C − target|² (without the scale). Parallel over rays. */
double aigc_volrender_train(gint64 n_rays, const gint64 *offset, const int *count,
                            const float *sigma, const float *rgb, const float *delta,
                            const float *background, const float *target, float scale,
                            float *d_sigma, float *d_rgb, float *out_rgb);

G_END_DECLS
