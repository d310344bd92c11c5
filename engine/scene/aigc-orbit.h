/* SPDX-License-Identifier: MIT
 *
 * An orbit camera around a scene: a target point, an up axis, a distance, an azimuth around the
 * up axis and an elevation above the plane normal to it, and a horizontal field of view. What the
 * Scene panel, `aigc nerf render --orbit` and the viewer move; it makes the OpenGL-convention
 * camera-to-world matrices of aigc-transforms.h (the camera looks down its −z, +y is up).
 *
 * A trained scene records the orbit its dataset's cameras sit on ("nerf.view" metadata, the JSON
 * of aigc_orbit_to_json), so new views are framed like the photographs were.
 */
#pragma once

#include "io/aigc-transforms.h"

G_BEGIN_DECLS

typedef struct {
    double target[3];
    double up[3];     /* unit length */
    double distance;  /* from the target, > 0 */
    double azimuth;   /* radians around up; 0 looks from the first basis direction */
    double elevation; /* radians above the plane normal to up, in (−π/2, π/2) */
    double fov_x;     /* horizontal field of view, radians, in (0, π) */
} AigcOrbit;

#define AIGC_ORBIT_MAX_ELEVATION 1.5 /* radians; keeps the camera off the pole */

/* The orbit the dataset's cameras sit on: the target is the scene box's centre, up the mean of
 * the cameras' up vectors, the distance and elevation their means, the azimuth that of the first
 * frame and the field of view the camera's. A dataset without frames gets +z up at distance 4. */
void aigc_orbit_from_transforms(const AigcTransforms *t, AigcOrbit *orbit);

/* The camera-to-world matrix (row-major 4×4) of the orbit's camera, looking at the target. */
void aigc_orbit_c2w(const AigcOrbit *orbit, double c2w[16]);
/* A pinhole of width × height pixels with the orbit's field of view (square pixels, centred). */
AigcPinhole aigc_orbit_pinhole(const AigcOrbit *orbit, int width, int height);

/* Turns the camera: azimuth and elevation change by the given radians (elevation clamped to
 * ±AIGC_ORBIT_MAX_ELEVATION); zoom multiplies the distance (clamped to [0.05, 100] × the
 * reference distance `base`). */
void aigc_orbit_rotate(AigcOrbit *orbit, double d_azimuth, double d_elevation);
void aigc_orbit_zoom(AigcOrbit *orbit, double factor, double base);

/* (transfer full) {"target": [x, y, z], "up": [x, y, z], "distance": d, "azimuth": a,
 * "elevation": e, "fov_x": f} */
char *aigc_orbit_to_json(const AigcOrbit *orbit);
/* Parses aigc_orbit_to_json's form; every value must be finite and in range. */
gboolean aigc_orbit_from_json(AigcOrbit *orbit, const char *json, GError **error);

G_END_DECLS
