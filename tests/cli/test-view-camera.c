/* SPDX-License-Identifier: MIT
 *
 * aigc-view's camera (app/aigc-view-camera.c): orthonormal camera-to-world matrices that look at
 * the target, the Blender scenes' azimuth/elevation convention (checked against every frame of
 * data/scene/woodbox), flying along the view direction, zoom and elevation limits, and the
 * starting view of a scene box.
 */
#include "aigc-view-camera.h"

#include "aigc-engine.h"
#include "io/aigc-transforms.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static double dot(const double *a, const double *b, int stride_a, int stride_b)
{
    double s = 0;
    for (int i = 0; i < 3; i++)
        s += a[i * stride_a] * b[i * stride_b];
    return s;
}

/* The rotation part's columns are orthonormal and right-handed, the last row is 0 0 0 1. */
static void assert_rigid(const double c2w[16])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            g_assert_cmpfloat_with_epsilon(dot(c2w + i, c2w + j, 4, 4), i == j ? 1.0 : 0.0, 1e-12);
    /* x × y = z */
    double x[3] = {c2w[0], c2w[4], c2w[8]}, y[3] = {c2w[1], c2w[5], c2w[9]};
    double z[3] = {c2w[2], c2w[6], c2w[10]};
    double c[3] = {x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]};
    for (int a = 0; a < 3; a++)
        g_assert_cmpfloat_with_epsilon(c[a], z[a], 1e-12);
    g_assert_cmpfloat(c2w[12], ==, 0);
    g_assert_cmpfloat(c2w[13], ==, 0);
    g_assert_cmpfloat(c2w[14], ==, 0);
    g_assert_cmpfloat(c2w[15], ==, 1);
}

/* The target projects to the image centre, in front of the camera, at `distance`. */
static void assert_looks_at_target(const AigcViewCamera *cam)
{
    double c2w[16];
    aigc_view_camera_get_c2w(cam, c2w);
    AigcPinhole pin = {.width = 64, .height = 48, .fl_x = 50, .fl_y = 50, .cx = 32, .cy = 24};
    double px, py;
    g_assert_true(aigc_pinhole_project(&pin, c2w, cam->target, &px, &py));
    g_assert_cmpfloat_with_epsilon(px, 32, 1e-9);
    g_assert_cmpfloat_with_epsilon(py, 24, 1e-9);
    double eye[3];
    aigc_view_camera_get_eye(cam, eye);
    double d[3] = {cam->target[0] - eye[0], cam->target[1] - eye[1], cam->target[2] - eye[2]};
    g_assert_cmpfloat_with_epsilon(sqrt(dot(d, d, 1, 1)), cam->distance, 1e-9);
    for (int a = 0; a < 3; a++)
        g_assert_cmpfloat(c2w[a * 4 + 3], ==, eye[a]);
}

static void test_orbit_rigid(void)
{
    const float box_min[3] = {-1, -2, 0}, box_max[3] = {3, 2, 1};
    const char *ups[] = {"z", "+z", "-z", "y", "-y", "x", "-x"};
    for (guint u = 0; u < G_N_ELEMENTS(ups); u++) {
        int axis, sign;
        g_assert_true(aigc_view_camera_parse_up(ups[u], &axis, &sign));
        AigcViewCamera cam;
        aigc_view_camera_init_box(&cam, box_min, box_max, G_PI / 4, axis, sign);
        g_assert_cmpfloat(cam.target[0], ==, 1);
        g_assert_cmpfloat(cam.target[1], ==, 0);
        g_assert_cmpfloat(cam.target[2], ==, 0.5);
        for (int step = 0; step < 40; step++) {
            aigc_view_camera_orbit(&cam, 0.7, step < 20 ? 0.13 : -0.2);
            double c2w[16];
            aigc_view_camera_get_c2w(&cam, c2w);
            assert_rigid(c2w);
            assert_looks_at_target(&cam);
            /* The image's +y leans towards world up: its up component is cos(elevation) > 0. */
            double f[3], r[3], iu[3];
            aigc_view_camera_get_axes(&cam, f, r, iu);
            g_assert_cmpfloat_with_epsilon(dot(iu, cam.up, 1, 1), cos(cam.elevation), 1e-12);
            g_assert_cmpfloat_with_epsilon(dot(r, cam.up, 1, 1), 0, 1e-12);
        }
    }
    int axis, sign;
    g_assert_false(aigc_view_camera_parse_up("w", &axis, &sign));
    g_assert_false(aigc_view_camera_parse_up("zz", &axis, &sign));
    g_assert_false(aigc_view_camera_parse_up("", &axis, &sign));
    g_assert_false(aigc_view_camera_parse_up("+", &axis, &sign));
}

/* Every frame of the woodbox dataset (rendered by a Blender script from azimuth_deg and
 * elevation_deg around the origin, z up) is the camera at those angles. */
static void test_blender_convention(void)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", "data", "scene", "woodbox",
                                                  "transforms_train.json", NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_file(parser, path, &error));
    g_assert_no_error(error);
    JsonArray *frames =
        json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), "frames");
    guint n = json_array_get_length(frames);
    g_assert_cmpuint(n, >=, 10);
    const float box_min[3] = {-1, -1, -1}, box_max[3] = {1, 1, 1};
    for (guint i = 0; i < n; i++) {
        JsonObject *f = json_array_get_object_element(frames, i);
        JsonArray *m = json_object_get_array_member(f, "transform_matrix");
        AigcViewCamera cam;
        aigc_view_camera_init_box(&cam, box_min, box_max, G_PI / 4, 2, 1);
        cam.azimuth = json_object_get_double_member(f, "azimuth_deg") * G_PI / 180;
        cam.elevation = json_object_get_double_member(f, "elevation_deg") * G_PI / 180;
        cam.distance = 3.8; /* the script's camera distance */
        double c2w[16];
        aigc_view_camera_get_c2w(&cam, c2w);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) {
                double want = json_array_get_double_element(
                    json_array_get_array_element(m, (guint)r), (guint)c);
                g_assert_cmpfloat_with_epsilon(c2w[r * 4 + c], want, 1e-5);
            }
    }
}

static void test_fly(void)
{
    const float box_min[3] = {-1, -1, -1}, box_max[3] = {1, 1, 1};
    AigcViewCamera cam;
    aigc_view_camera_init_box(&cam, box_min, box_max, G_PI / 3, 2, 1);
    aigc_view_camera_orbit(&cam, 0.4, 0.3);
    double f[3], r[3], iu[3], eye0[3], eye1[3], target0[3];
    aigc_view_camera_get_axes(&cam, f, r, iu);
    aigc_view_camera_get_eye(&cam, eye0);
    memcpy(target0, cam.target, sizeof target0);
    double c2w0[16], c2w1[16];
    aigc_view_camera_get_c2w(&cam, c2w0);

    /* W: eye and target move 0.5 along the view direction (the camera's −z); the view turns not. */
    aigc_view_camera_move(&cam, 0.5, 0, 0);
    aigc_view_camera_get_eye(&cam, eye1);
    aigc_view_camera_get_c2w(&cam, c2w1);
    for (int a = 0; a < 3; a++) {
        g_assert_cmpfloat_with_epsilon(eye1[a] - eye0[a], 0.5 * f[a], 1e-12);
        g_assert_cmpfloat_with_epsilon(cam.target[a] - target0[a], 0.5 * f[a], 1e-12);
        g_assert_cmpfloat_with_epsilon(f[a], -c2w0[a * 4 + 2], 1e-12);
        for (int c = 0; c < 3; c++)
            g_assert_cmpfloat_with_epsilon(c2w1[a * 4 + c], c2w0[a * 4 + c], 1e-12);
    }
    g_assert_cmpfloat_with_epsilon(dot(f, eye1, 1, 1) - dot(f, eye0, 1, 1), 0.5, 1e-12);

    /* S undoes W; D moves along the image's +x, A back; E along world up. */
    aigc_view_camera_move(&cam, -0.5, 0, 0);
    aigc_view_camera_move(&cam, 0, 0.25, 0);
    aigc_view_camera_get_eye(&cam, eye1);
    for (int a = 0; a < 3; a++)
        g_assert_cmpfloat_with_epsilon(eye1[a] - eye0[a], 0.25 * c2w0[a * 4 + 0], 1e-12);
    aigc_view_camera_move(&cam, 0, -0.25, 0.75);
    aigc_view_camera_get_eye(&cam, eye1);
    for (int a = 0; a < 3; a++)
        g_assert_cmpfloat_with_epsilon(eye1[a] - eye0[a], 0.75 * cam.up[a], 1e-12);
    assert_looks_at_target(&cam);
}

static void test_limits(void)
{
    const float box_min[3] = {0, 0, 0}, box_max[3] = {2, 2, 2};
    AigcViewCamera cam;
    aigc_view_camera_init_box(&cam, box_min, box_max, G_PI / 2, 1, 1);
    /* A sphere of radius 1 (half the box side) fills a 90° view at distance 1 / sin 45°. */
    g_assert_cmpfloat_with_epsilon(cam.distance, G_SQRT2, 1e-12);
    g_assert_cmpfloat(cam.azimuth, ==, 0);
    g_assert_cmpfloat(cam.elevation, >, 0);
    /* y up, az 0: the eye is on +z, in front of the scene as OpenGL looks at it. */
    double eye[3];
    aigc_view_camera_get_eye(&cam, eye);
    g_assert_cmpfloat(eye[2], >, cam.target[2]);
    g_assert_cmpfloat_with_epsilon(eye[0], cam.target[0], 1e-12);

    double start = cam.distance;
    aigc_view_camera_zoom(&cam, 0.5);
    g_assert_cmpfloat_with_epsilon(cam.distance, 0.5 * start, 1e-12);
    for (int i = 0; i < 100; i++)
        aigc_view_camera_zoom(&cam, 0.5);
    g_assert_cmpfloat_with_epsilon(cam.distance, start / 100, 1e-12);
    for (int i = 0; i < 100; i++)
        aigc_view_camera_zoom(&cam, 2);
    g_assert_cmpfloat_with_epsilon(cam.distance, start * 100, 1e-9);

    aigc_view_camera_orbit(&cam, 0, 10);
    g_assert_cmpfloat(cam.elevation, ==, AIGC_VIEW_CAMERA_MAX_ELEVATION);
    double c2w[16];
    aigc_view_camera_get_c2w(&cam, c2w);
    assert_rigid(c2w);
    aigc_view_camera_orbit(&cam, 0, -20);
    g_assert_cmpfloat(cam.elevation, ==, -AIGC_VIEW_CAMERA_MAX_ELEVATION);
    aigc_view_camera_get_c2w(&cam, c2w);
    assert_rigid(c2w);
    /* Azimuth stays in (−π, π] however far it turns. */
    for (int i = 0; i < 1000; i++)
        aigc_view_camera_orbit(&cam, 1.0, 0);
    g_assert_cmpfloat(fabs(cam.azimuth), <=, G_PI);
    g_assert_cmpfloat_with_epsilon(cam.azimuth, remainder(1000.0, 2 * G_PI), 1e-9);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cli/view/camera/orbit-rigid", test_orbit_rigid);
    g_test_add_func("/cli/view/camera/blender-convention", test_blender_convention);
    g_test_add_func("/cli/view/camera/fly", test_fly);
    g_test_add_func("/cli/view/camera/limits", test_limits);
    return g_test_run();
}
