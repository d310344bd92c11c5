/* SPDX-License-Identifier: MIT
 *
 * aigc-view's orbit and fly camera (see aigc-view-camera.h).
 */
#include "aigc-view-camera.h"

#include <math.h>
#include <string.h>

static void cross(const double a[3], const double b[3], double out[3])
{
    double c[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
    memcpy(out, c, sizeof c);
}

static void normalise(double v[3])
{
    double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    for (int a = 0; a < 3; a++)
        v[a] /= n;
}

gboolean aigc_view_camera_parse_up(const char *text, int *axis, int *sign)
{
    if (!text)
        return FALSE;
    int s = 1;
    if (text[0] == '+' || text[0] == '-') {
        s = text[0] == '-' ? -1 : 1;
        text++;
    }
    if (strlen(text) != 1 || text[0] < 'x' || text[0] > 'z')
        return FALSE;
    *axis = text[0] - 'x';
    *sign = s;
    return TRUE;
}

void aigc_view_camera_init_box(AigcViewCamera *cam, const float box_min[3], const float box_max[3],
                               double fov, int axis, int sign)
{
    g_return_if_fail(axis >= 0 && axis < 3 && (sign == 1 || sign == -1));
    g_return_if_fail(fov > 0 && fov < G_PI);
    memset(cam, 0, sizeof *cam);
    double radius = 0;
    for (int a = 0; a < 3; a++) {
        cam->target[a] = 0.5 * ((double)box_min[a] + box_max[a]);
        radius = MAX(radius, 0.5 * ((double)box_max[a] - box_min[a]));
    }
    if (!(radius > 0))
        radius = 1;
    cam->up[axis] = sign;
    /* e1: the first world axis that is not up; e2 = up × e1 makes e1 × e2 = up. */
    cam->e1[axis == 0 ? 1 : 0] = 1;
    cross(cam->up, cam->e1, cam->e2);
    cam->distance = radius / sin(0.5 * fov);
    cam->min_distance = cam->distance / 100;
    cam->max_distance = cam->distance * 100;
    cam->azimuth = 0;
    cam->elevation = 20.0 * G_PI / 180.0;
}

void aigc_view_camera_orbit(AigcViewCamera *cam, double d_azimuth, double d_elevation)
{
    cam->azimuth = remainder(cam->azimuth + d_azimuth, 2 * G_PI);
    cam->elevation = CLAMP(cam->elevation + d_elevation, -AIGC_VIEW_CAMERA_MAX_ELEVATION,
                           AIGC_VIEW_CAMERA_MAX_ELEVATION);
}

void aigc_view_camera_zoom(AigcViewCamera *cam, double factor)
{
    g_return_if_fail(factor > 0);
    cam->distance = CLAMP(cam->distance * factor, cam->min_distance, cam->max_distance);
}

void aigc_view_camera_move(AigcViewCamera *cam, double forward, double right, double up)
{
    double f[3], r[3], u[3];
    aigc_view_camera_get_axes(cam, f, r, u);
    for (int a = 0; a < 3; a++)
        cam->target[a] += forward * f[a] + right * r[a] + up * cam->up[a];
}

/* The unit vector from the target to the eye. */
static void eye_direction(const AigcViewCamera *cam, double dir[3])
{
    double ce = cos(cam->elevation), se = sin(cam->elevation);
    double sa = sin(cam->azimuth), ca = cos(cam->azimuth);
    for (int a = 0; a < 3; a++)
        dir[a] = ce * (sa * cam->e1[a] - ca * cam->e2[a]) + se * cam->up[a];
}

void aigc_view_camera_get_eye(const AigcViewCamera *cam, double eye[3])
{
    double dir[3];
    eye_direction(cam, dir);
    for (int a = 0; a < 3; a++)
        eye[a] = cam->target[a] + cam->distance * dir[a];
}

void aigc_view_camera_get_axes(const AigcViewCamera *cam, double forward[3], double right[3],
                               double image_up[3])
{
    double dir[3];
    eye_direction(cam, dir);
    for (int a = 0; a < 3; a++)
        forward[a] = -dir[a];
    /* |elevation| < 90°, so forward is never parallel to up. */
    cross(forward, cam->up, right);
    normalise(right);
    cross(right, forward, image_up);
    normalise(image_up);
}

void aigc_view_camera_get_c2w(const AigcViewCamera *cam, double c2w[16])
{
    double f[3], r[3], u[3], eye[3];
    aigc_view_camera_get_axes(cam, f, r, u);
    aigc_view_camera_get_eye(cam, eye);
    /* Columns: camera x (right), y (up), z (backwards: the camera looks down −z), position. */
    for (int a = 0; a < 3; a++) {
        c2w[a * 4 + 0] = r[a];
        c2w[a * 4 + 1] = u[a];
        c2w[a * 4 + 2] = -f[a];
        c2w[a * 4 + 3] = eye[a];
    }
    c2w[12] = c2w[13] = c2w[14] = 0;
    c2w[15] = 1;
}
