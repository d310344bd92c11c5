/* SPDX-License-Identifier: MIT
 *
 * The camera of aigc-view: an orbit around a target point that can also fly. Pure math, no
 * window system, so the tests check it without a display.
 *
 * The eye sits at target + distance · (cos el · (sin az · e1 − cos az · e2) + sin el · up), where
 * (e1, e2, up) is a right-handed basis around the world's up axis; it looks at the target with
 * the image's +y towards world up. For a +z-up scene (Blender's synthetic NeRF scenes) az = 0
 * puts the eye on −y and the angles are those the Blender scripts write as azimuth_deg and
 * elevation_deg. Matrices are camera-to-world, row-major 4×4, OpenGL convention (the camera looks
 * down its −z), as in io/aigc-transforms.h.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AIGC_VIEW_CAMERA_MAX_ELEVATION (89.0 * G_PI / 180.0)

typedef struct {
    double target[3];
    double distance;  /* eye to target, > 0 */
    double azimuth;   /* radians, around up */
    double elevation; /* radians, in [−MAX_ELEVATION, MAX_ELEVATION] */
    double min_distance, max_distance;
    double up[3], e1[3], e2[3]; /* the world basis: e1 × e2 = up */
} AigcViewCamera;

/* Up axes: 'x', 'y' or 'z', and the sign. Returns FALSE for anything else ("z", "+y", "-y"). */
gboolean aigc_view_camera_parse_up(const char *text, int *axis, int *sign);

/* A camera around the centre of the box [box_min, box_max] with world up along ±axis, at the
 * distance where a sphere through the box's face centres just fills a field of view of `fov`
 * radians, 20° above the horizon, az = 0. Zoom is bounded to 1/100 … 100 × that distance. */
void aigc_view_camera_init_box(AigcViewCamera *cam, const float box_min[3], const float box_max[3],
                               double fov, int axis, int sign);

/* Turns the eye around the target; elevation is clamped. */
void aigc_view_camera_orbit(AigcViewCamera *cam, double d_azimuth, double d_elevation);
/* Multiplies the distance by `factor` (> 0), within the bounds. */
void aigc_view_camera_zoom(AigcViewCamera *cam, double factor);
/* Flies: moves eye and target together by `forward` along the view direction, `right` along the
 * image's +x and `up` along world up (world units). */
void aigc_view_camera_move(AigcViewCamera *cam, double forward, double right, double up);

void aigc_view_camera_get_eye(const AigcViewCamera *cam, double eye[3]);
/* Unit vectors: the view direction, the image's +x (right) and +y (up) in world coordinates. */
void aigc_view_camera_get_axes(const AigcViewCamera *cam, double forward[3], double right[3],
                               double image_up[3]);
/* The camera-to-world matrix, row-major 4×4. */
void aigc_view_camera_get_c2w(const AigcViewCamera *cam, double c2w[16]);

G_END_DECLS
