/* SPDX-License-Identifier: MIT
 *
 * NeRF transforms*.json loader: a small dataset written into a temporary folder (PNG images of
 * several kinds, a subfolder, symlinks inside and out), a table of bad JSON files each with the
 * message it must produce (naming the file and, where there is one, the frame), good files
 * with every way of giving the camera, ray/projection round trips, and the committed sample
 * scene data/scene/woodbox (counts, intrinsics, and every camera looking at the world origin).
 */
#include "aigc-engine.h"
#include "io/aigc-transforms.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <png.h>
#include <string.h>
#include <unistd.h>

static char *tmp_root; /* holds ds/ (the dataset) and outside.png */
static char *ds_dir;

/* The value of channel c of pixel (x, y) in the test images; alpha (c == 3) is 0 at (0, 0),
 * 128 at (1, 0) and 255 elsewhere. */
static guint8 pattern(int x, int y, int c)
{
    if (c == 3)
        return (x == 0 && y == 0) ? 0 : (x == 1 && y == 0) ? 128 : 255;
    return (guint8)((x * 40 + y * 17 + c * 60 + 5) & 0xff);
}

static void write_png(const char *name, int width, int height, int color_type, int bit_depth)
{
    g_autofree char *path = g_build_filename(ds_dir, name, NULL);
    FILE *f = fopen(path, "wb");
    g_assert_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    g_assert_true(png && info);
    png_init_io(png, f);
    png_set_IHDR(png, info, width, height, bit_depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    int channels = png_get_channels(png, info);
    int bytes = bit_depth / 8;
    g_autofree guint8 *row = g_malloc((gsize)width * channels * bytes);
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++)
            for (int k = 0; k < channels; k++) {
                int c = (color_type == PNG_COLOR_TYPE_GRAY_ALPHA && k == 1) ? 3
                        : (color_type & PNG_COLOR_MASK_COLOR)               ? k
                                                                            : 0;
                guint8 v = pattern(x, y, c);
                guint8 *p = row + ((gsize)x * channels + k) * bytes;
                p[0] = v;
                if (bytes == 2)
                    p[1] = 0x80; /* low byte: 16-bit values scale back to v */
            }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void write_file(const char *dir, const char *name, const char *contents, gssize length)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(path, contents, length, NULL));
}

static void make_dataset(void)
{
    tmp_root = g_dir_make_tmp("aigc-transforms-XXXXXX", NULL);
    g_assert_nonnull(tmp_root);
    ds_dir = g_build_filename(tmp_root, "ds", NULL);
    g_assert_cmpint(g_mkdir(ds_dir, 0755), ==, 0);
    g_autofree char *sub = g_build_filename(ds_dir, "sub", NULL);
    g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
    write_png("a.png", 4, 4, PNG_COLOR_TYPE_RGB_ALPHA, 8);
    write_png("b.png", 4, 4, PNG_COLOR_TYPE_RGB, 8);
    write_png("g.png", 4, 4, PNG_COLOR_TYPE_GRAY, 8);
    write_png("ga.png", 4, 4, PNG_COLOR_TYPE_GRAY_ALPHA, 8);
    write_png("w16.png", 4, 4, PNG_COLOR_TYPE_RGB_ALPHA, 16);
    write_png("c.png", 5, 4, PNG_COLOR_TYPE_RGB_ALPHA, 8);
    write_png("sub/d.png", 4, 4, PNG_COLOR_TYPE_RGB_ALPHA, 8);
    write_png("big.png", 4097, 1, PNG_COLOR_TYPE_GRAY, 8);
    write_file(ds_dir, "notpng.png", "this is not a PNG image\n", -1);
    /* a.png cut after its header and part of the data */
    g_autofree char *a_path = g_build_filename(ds_dir, "a.png", NULL);
    g_autofree char *a_bytes = NULL;
    gsize n_a = 0;
    g_assert_true(g_file_get_contents(a_path, &a_bytes, &n_a, NULL));
    g_assert_cmpuint(n_a, >, 60);
    write_file(ds_dir, "trunc.png", a_bytes, 50);
    /* outside the dataset folder, and ways to reach it */
    write_file(tmp_root, "outside.png", a_bytes, (gssize)n_a);
    g_autofree char *link = g_build_filename(ds_dir, "link.png", NULL);
    g_autofree char *dirlink = g_build_filename(ds_dir, "dirlink", NULL);
    g_autofree char *inlink = g_build_filename(ds_dir, "inlink.png", NULL);
    g_assert_cmpint(symlink("../outside.png", link), ==, 0);
    g_assert_cmpint(symlink("..", dirlink), ==, 0);
    g_assert_cmpint(symlink("sub/d.png", inlink), ==, 0);
}

static void remove_tree(const char *path)
{
    GStatBuf st;
    if (g_lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        GDir *dir = g_dir_open(path, 0, NULL);
        const char *name;
        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
        if (dir)
            g_dir_close(dir);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

/* ---- JSON pieces ---- */

#define I4               "[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]"
#define FRAME_M(path, m) "{\"file_path\":\"" path "\",\"transform_matrix\":" m "}"
#define FRAME(path)      FRAME_M(path, I4)
#define CAM              "\"camera_angle_x\":0.8,"

typedef struct {
    const char *name;
    const char *json;
    int code;           /* AigcEngineErrorCode */
    const char *expect; /* substring of the message (after the JSON path) */
} BadCase;

static const BadCase bad_cases[] = {
    {"malformed-json", "{\"frames\": [", AIGC_ENGINE_ERROR_FORMAT, "not valid JSON"},
    {"trailing-comma", "{" CAM "\"frames\":[" FRAME("a.png") ",]}", AIGC_ENGINE_ERROR_FORMAT,
     "not valid JSON"},
    {"root-array", "[1, 2]", AIGC_ENGINE_ERROR_FORMAT, "the JSON is an array, not an object"},
    {"no-frames", "{" CAM "\"w\":4,\"h\":4}", AIGC_ENGINE_ERROR_FORMAT, "has no “frames”"},
    {"zero-frames", "{" CAM "\"frames\":[]}", AIGC_ENGINE_ERROR_FORMAT, "has no frames"},
    {"frames-object", "{" CAM "\"frames\":{}}", AIGC_ENGINE_ERROR_FORMAT,
     "“frames” is an object, not an array"},
    {"frame-not-object", "{" CAM "\"frames\":[" FRAME("a.png") ", 7]}", AIGC_ENGINE_ERROR_FORMAT,
     "frame 1: is a number, not an object"},
    {"no-focal", "{\"frames\":[" FRAME("a.png") "]}", AIGC_ENGINE_ERROR_FORMAT,
     "neither “camera_angle_x” nor “fl_x”"},
    {"angle-too-wide", "{\"camera_angle_x\":4,\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_INVALID, "“camera_angle_x” is 4 radians"},
    {"angle-string", "{\"camera_angle_x\":\"wide\",\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_FORMAT, "“camera_angle_x” is a string, not a number"},
    {"angle-nan", "{\"camera_angle_x\":NaN,\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_NUMERIC, "“camera_angle_x” is not a finite number"},
    {"focal-negative", "{\"fl_x\":-3,\"frames\":[" FRAME("a.png") "]}", AIGC_ENGINE_ERROR_INVALID,
     "“fl_x” is -3"},
    {"w-without-h", "{" CAM "\"w\":4,\"frames\":[" FRAME("a.png") "]}", AIGC_ENGINE_ERROR_FORMAT,
     "has “w” but no “h”"},
    {"absurd-width", "{" CAM "\"w\":5000,\"h\":4,\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_UNSUPPORTED, "“w” is 5000; image sides must be whole numbers from 1 to"},
    {"zero-height", "{" CAM "\"w\":4,\"h\":0,\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_UNSUPPORTED, "“h” is 0"},
    {"fractional-width", "{" CAM "\"w\":4.5,\"h\":4,\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_UNSUPPORTED, "“w” is 4.5"},
    {"distortion", "{" CAM "\"k1\":0.1,\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_UNSUPPORTED, "lens distortion (“k1” = 0.1)"},
    {"fisheye", "{" CAM "\"is_fisheye\":true,\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_UNSUPPORTED, "fisheye"},
    {"per-frame-focal",
     "{" CAM "\"frames\":[" FRAME("a.png") ",{\"fl_x\":3,\"file_path\":\"a.png\","
                                           "\"transform_matrix\":" I4 "}]}",
     AIGC_ENGINE_ERROR_UNSUPPORTED, "frame 1: has its own camera (“fl_x”)"},
    {"aabb-zero", "{" CAM "\"aabb_scale\":0,\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_INVALID, "“aabb_scale” is 0"},
    {"aabb-huge", "{" CAM "\"aabb_scale\":1024,\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_INVALID, "at most 128"},
    {"offset-two", "{" CAM "\"offset\":[0.5,0.5],\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_FORMAT, "“offset” is not an array of three numbers"},
    /* matrices */
    {"no-matrix", "{" CAM "\"frames\":[{\"file_path\":\"a.png\"}]}", AIGC_ENGINE_ERROR_FORMAT,
     "frame 0 (a.png): has no “transform_matrix”"},
    {"matrix-3x4", "{" CAM "\"frames\":[" FRAME_M("a.png", "[[1,0,0,0],[0,1,0,0],[0,0,1,0]]") "]}",
     AIGC_ENGINE_ERROR_FORMAT, "frame 0 (a.png): “transform_matrix” is not a 4×4"},
    {"matrix-row-of-3",
     "{" CAM "\"frames\":[" FRAME("a.png") "," FRAME_M(
         "b.png", "[[1,0,0,0],[0,1,0],[0,0,1,0],[0,0,0,1]]") "]}",
     AIGC_ENGINE_ERROR_FORMAT, "frame 1 (b.png): “transform_matrix” is not a 4×4"},
    {"matrix-flat",
     "{" CAM "\"frames\":[" FRAME_M("a.png", "[1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1]") "]}",
     AIGC_ENGINE_ERROR_FORMAT, "frame 0 (a.png): “transform_matrix” is not a 4×4"},
    {"matrix-string",
     "{" CAM "\"frames\":[" FRAME_M("a.png", "[[1,0,0,\"x\"],[0,1,0,0],[0,0,1,0],[0,0,0,1]]") "]}",
     AIGC_ENGINE_ERROR_FORMAT, "“transform_matrix” is not a 4×4 array of numbers"},
    {"matrix-nan",
     "{" CAM "\"frames\":[" FRAME("a.png") "," FRAME("a.png") "," FRAME_M(
         "b.png", "[[1,0,0,NaN],[0,1,0,0],[0,0,1,0],[0,0,0,1]]") "]}",
     AIGC_ENGINE_ERROR_NUMERIC,
     "frame 2 (b.png): “transform_matrix” holds a non-finite number (NaN or infinity) at row 1, "
     "column 4"},
    {"matrix-infinity",
     "{" CAM
     "\"frames\":[" FRAME_M("a.png", "[[1,0,0,0],[0,1,0,-Infinity],[0,0,1,0],[0,0,0,1]]") "]}",
     AIGC_ENGINE_ERROR_NUMERIC, "frame 0 (a.png): “transform_matrix” holds a non-finite number"},
    {"matrix-overflow",
     "{" CAM "\"frames\":[" FRAME_M("a.png", "[[1,0,0,0],[0,1,0,0],[0,0,1,1e999],[0,0,0,1]]") "]}",
     AIGC_ENGINE_ERROR_NUMERIC, "at row 3, column 4"},
    {"matrix-last-row",
     "{" CAM "\"frames\":[" FRAME_M("a.png", "[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,1,1]]") "]}",
     AIGC_ENGINE_ERROR_INVALID, "the last row of “transform_matrix” is not 0 0 0 1"},
    {"matrix-scaled",
     "{" CAM "\"frames\":[" FRAME_M("a.png", "[[2,0,0,0],[0,2,0,0],[0,0,2,0],[0,0,0,1]]") "]}",
     AIGC_ENGINE_ERROR_INVALID, "not orthonormal"},
    /* paths */
    {"path-missing-key", "{" CAM "\"frames\":[{\"transform_matrix\":" I4 "}]}",
     AIGC_ENGINE_ERROR_FORMAT, "frame 0: “file_path” is missing"},
    {"path-number", "{" CAM "\"frames\":[{\"file_path\":3,\"transform_matrix\":" I4 "}]}",
     AIGC_ENGINE_ERROR_FORMAT, "frame 0: “file_path” is not a string"},
    {"path-empty", "{" CAM "\"frames\":[" FRAME("") "]}", AIGC_ENGINE_ERROR_FORMAT,
     "“file_path” is empty"},
    {"missing-image", "{" CAM "\"frames\":[" FRAME("a.png") "," FRAME("./train/r_9") "]}",
     AIGC_ENGINE_ERROR_IO, "frame 1 (./train/r_9): the image “./train/r_9” does not exist"},
    {"missing-image-ext", "{" CAM "\"frames\":[" FRAME("nothere.png") "]}", AIGC_ENGINE_ERROR_IO,
     "frame 0 (nothere.png): the image"},
    {"absolute-path", "{" CAM "\"frames\":[" FRAME("/etc/passwd") "]}", AIGC_ENGINE_ERROR_INVALID,
     "frame 0 (/etc/passwd): the image path “/etc/passwd” is absolute"},
    {"home-path", "{" CAM "\"frames\":[" FRAME("~/x.png") "]}", AIGC_ENGINE_ERROR_INVALID,
     "is absolute"},
    {"dotdot", "{" CAM "\"frames\":[" FRAME("../outside.png") "]}", AIGC_ENGINE_ERROR_INVALID,
     "frame 0 (../outside.png): the image path “../outside.png” leaves the dataset folder"},
    {"dotdot-deep", "{" CAM "\"frames\":[" FRAME("a.png") "," FRAME("sub/../../outside.png") "]}",
     AIGC_ENGINE_ERROR_INVALID, "frame 1 (sub/../../outside.png): the image path"},
    {"dotdot-missing", "{" CAM "\"frames\":[" FRAME("../../../../../../etc/passwd") "]}",
     AIGC_ENGINE_ERROR_INVALID, "leaves the dataset folder"},
    {"symlink-out", "{" CAM "\"frames\":[" FRAME("link.png") "]}", AIGC_ENGINE_ERROR_INVALID,
     "frame 0 (link.png): the image path “link.png” leads outside the dataset folder"},
    {"symlink-dir-out", "{" CAM "\"frames\":[" FRAME("dirlink/outside.png") "]}",
     AIGC_ENGINE_ERROR_INVALID, "leads outside the dataset folder"},
    {"directory", "{" CAM "\"frames\":[" FRAME("sub") "]}", AIGC_ENGINE_ERROR_IO,
     "is not a regular file"},
    /* images */
    {"mismatched-sizes",
     "{" CAM "\"frames\":[" FRAME("a.png") "," FRAME("b.png") "," FRAME("c.png") "]}",
     AIGC_ENGINE_ERROR_FORMAT, "frame 2 (c.png): " /* then the image path */},
    {"size-disagrees-with-wh", "{" CAM "\"w\":8,\"h\":8,\"frames\":[" FRAME("a.png") "]}",
     AIGC_ENGINE_ERROR_FORMAT, "the image is 4×4 pixels but the dataset's frames are 8×8"},
    {"absurd-image", "{" CAM "\"frames\":[" FRAME("big.png") "]}", AIGC_ENGINE_ERROR_UNSUPPORTED,
     "the image is 4097×1 pixels, over the limit of 4096 per side"},
    {"absurd-image-second", "{" CAM "\"frames\":[" FRAME("a.png") "," FRAME("big.png") "]}",
     AIGC_ENGINE_ERROR_UNSUPPORTED, "over the limit of 4096 per side"},
    {"not-png", "{" CAM "\"frames\":[" FRAME("notpng.png") "]}", AIGC_ENGINE_ERROR_FORMAT,
     "not a PNG image"},
    {"truncated-png",
     "{" CAM "\"w\":4,\"h\":4,\"frames\":[" FRAME("a.png") "," FRAME("trunc.png") "]}",
     AIGC_ENGINE_ERROR_FORMAT, "damaged or unreadable PNG"},
};

static char *write_json(const char *name, const char *json)
{
    g_autofree char *file = g_strdup_printf("%s.json", name);
    write_file(ds_dir, file, json, -1);
    return g_build_filename(ds_dir, file, NULL);
}

static void test_bad(gconstpointer data)
{
    const BadCase *c = data;
    g_autofree char *path = write_json(c->name, c->json);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTransforms) t = aigc_transforms_load(path, NULL, &error);
    g_assert_null(t);
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_assert_true(g_error_matches(error, AIGC_ENGINE_ERROR, c->code));
    /* Every message starts with the JSON file's path and holds the expected words. */
    g_assert_true(g_str_has_prefix(error->message, path));
    if (!strstr(error->message, c->expect))
        g_error("%s: message “%s” lacks “%s”", c->name, error->message, c->expect);
    if (strcmp(c->name, "mismatched-sizes") == 0)
        g_assert_nonnull(
            strstr(error->message, "the image is 5×4 pixels but the dataset's frames are 4×4"));
}

static void test_missing_json(void)
{
    g_autofree char *path = g_build_filename(ds_dir, "no-such.json", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_null(aigc_transforms_load(path, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
    g_assert_true(g_str_has_prefix(error->message, path));
}

/* ---- good files ---- */

static AigcTransforms *load_ok(const char *name, const char *json,
                               const AigcTransformsOptions *options)
{
    g_autofree char *path = write_json(name, json);
    g_autoptr(GError) error = NULL;
    AigcTransforms *t = aigc_transforms_load(path, options, &error);
    g_assert_no_error(error);
    g_assert_nonnull(t);
    return t;
}

static void test_good_pixels(void)
{
    AigcTransformsOptions opts = aigc_transforms_default_options();
    opts.background[0] = 0.0f;
    opts.background[1] = 0.5f;
    opts.background[2] = 1.0f;
    g_autoptr(AigcTransforms) t =
        load_ok("good-pixels",
                "{" CAM "\"frames\":[" FRAME("a.png") "," FRAME("b") "," FRAME("g.png") "," FRAME(
                    "ga.png") "," FRAME("w16.png") "," FRAME("./sub/../inlink.png") "]}",
                &opts);
    g_assert_cmpint(t->n_frames, ==, 6);
    g_assert_cmpint(t->camera.width, ==, 4);
    g_assert_cmpint(t->camera.height, ==, 4);
    g_assert_cmpstr(t->frames[1].file_path, ==, "b");
    g_assert_true(g_str_has_suffix(t->frames[1].image_path, "/b.png"));
    g_assert_true(g_str_has_suffix(t->frames[5].image_path, "/sub/d.png"));
    float bg[3] = {0.0f, 0.5f, 1.0f};
    for (int f = 0; f < t->n_frames; f++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++) {
                gboolean grey = f == 2 || f == 3;
                gboolean has_alpha = f != 1 && f != 2;
                float a = has_alpha ? pattern(x, y, 3) / 255.0f : 1.0f;
                float rgb[3];
                aigc_transforms_get_rgb(t, f, x, y, rgb);
                for (int c = 0; c < 3; c++) {
                    float v = pattern(x, y, grey ? 0 : c) / 255.0f;
                    float want = v * a + bg[c] * (1.0f - a);
                    g_assert_cmpfloat_with_epsilon(rgb[c], want, 1e-5);
                }
            }
    /* The whole-frame version agrees with the per-pixel one. */
    float frame[4 * 4 * 3];
    aigc_transforms_frame_rgb(t, 0, frame);
    float rgb[3];
    aigc_transforms_get_rgb(t, 0, 1, 0, rgb);
    g_assert_cmpfloat(frame[3 * 1 + 0], ==, rgb[0]);
    g_assert_cmpfloat(frame[3 * 1 + 2], ==, rgb[2]);
    /* Fully transparent pixel: the background exactly. */
    aigc_transforms_get_rgb(t, 0, 0, 0, rgb);
    g_assert_cmpfloat(rgb[0], ==, 0.0f);
    g_assert_cmpfloat(rgb[1], ==, 0.5f);
    g_assert_cmpfloat(rgb[2], ==, 1.0f);
}

static void test_good_camera(void)
{
    /* camera_angle_x only: square pixels, principal point in the centre. */
    g_autoptr(AigcTransforms) a =
        load_ok("good-angle", "{\"camera_angle_x\":1.2,\"frames\":[" FRAME("c.png") "]}", NULL);
    g_assert_cmpint(a->camera.width, ==, 5);
    g_assert_cmpint(a->camera.height, ==, 4);
    g_assert_cmpfloat_with_epsilon(a->camera.fl_x, 2.5 / tan(0.6), 1e-12);
    g_assert_cmpfloat(a->camera.fl_y, ==, a->camera.fl_x);
    g_assert_cmpfloat(a->camera.cx, ==, 2.5);
    g_assert_cmpfloat(a->camera.cy, ==, 2.0);
    /* instant-ngp defaults: aabb_scale 1, scale 0.33, offset 0.5: the cube ±1/0.66. */
    g_assert_cmpfloat(a->aabb_scale, ==, 1.0);
    for (int i = 0; i < 3; i++) {
        g_assert_cmpfloat_with_epsilon(a->aabb_min[i], -0.5 / 0.33, 1e-6);
        g_assert_cmpfloat_with_epsilon(a->aabb_max[i], 0.5 / 0.33, 1e-6);
    }
    /* both angles */
    g_autoptr(AigcTransforms) b =
        load_ok("good-angles",
                "{\"camera_angle_x\":1.2,\"camera_angle_y\":1.0,\"w\":5,\"h\":4,\"frames\":[" FRAME(
                    "c") "]}",
                NULL);
    g_assert_cmpfloat_with_epsilon(b->camera.fl_y, 2.0 / tan(0.5), 1e-12);
    /* focal lengths and principal point in pixels win over the angle; scale and offset. */
    g_autoptr(AigcTransforms) c =
        load_ok("good-focal",
                "{\"camera_angle_x\":1.2,\"fl_x\":7.5,\"fl_y\":8,\"cx\":2.25,\"cy\":1.75,"
                "\"k1\":0,\"p1\":0,\"aabb_scale\":4,\"scale\":0.5,\"offset\":[0.5,1.5,0],"
                "\"frames\":[" FRAME("a.png") "],\"extra_key\":{\"ignored\":true}}",
                NULL);
    g_assert_cmpfloat(c->camera.fl_x, ==, 7.5);
    g_assert_cmpfloat(c->camera.fl_y, ==, 8.0);
    g_assert_cmpfloat(c->camera.cx, ==, 2.25);
    g_assert_cmpfloat(c->camera.cy, ==, 1.75);
    /* centre (0.5 − offset) / scale, half side aabb_scale / 2 / scale */
    float want_min[3] = {0.0f - 4.0f, -2.0f - 4.0f, 1.0f - 4.0f};
    for (int i = 0; i < 3; i++) {
        g_assert_cmpfloat_with_epsilon(c->aabb_min[i], want_min[i], 1e-6);
        g_assert_cmpfloat_with_epsilon(c->aabb_max[i], want_min[i] + 8.0f, 1e-6);
    }
}

static void test_good_no_images(void)
{
    AigcTransformsOptions opts = aigc_transforms_default_options();
    opts.load_images = FALSE;
    /* Without loading, the size comes from the first image's header; paths are still checked. */
    g_autoptr(AigcTransforms) t = load_ok(
        "good-no-images", "{" CAM "\"frames\":[" FRAME("c.png") "," FRAME("c.png") "]}", &opts);
    g_assert_null(t->rgba);
    g_assert_cmpint(t->camera.width, ==, 5);
    g_autofree char *path = write_json(
        "no-images-escape", "{" CAM "\"frames\":[" FRAME("c.png") "," FRAME("link.png") "]}");
    g_autoptr(GError) error = NULL;
    g_assert_null(aigc_transforms_load(path, &opts, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
}

static void test_find_split(void)
{
    g_autoptr(GError) error = NULL;
    g_assert_null(aigc_transforms_find_split(ds_dir, "train", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND);
    write_file(ds_dir, "transforms.json", "{}", -1);
    g_autofree char *any = aigc_transforms_find_split(ds_dir, "train", NULL);
    g_assert_true(g_str_has_suffix(any, "/transforms.json"));
    write_file(ds_dir, "transforms_val.json", "{}", -1);
    g_autofree char *val = aigc_transforms_find_split(ds_dir, "val", NULL);
    g_assert_true(g_str_has_suffix(val, "/transforms_val.json"));
}

/* ---- rays ---- */

/* A camera-to-world matrix: rotation from Euler angles, then a translation. */
static void make_c2w(double ax, double ay, double az, const double t[3], double m[16])
{
    double cx = cos(ax), sx = sin(ax), cy = cos(ay), sy = sin(ay), cz = cos(az), sz = sin(az);
    double r[9] = {cy * cz,
                   sx * sy * cz - cx * sz,
                   cx * sy * cz + sx * sz,
                   cy * sz,
                   sx * sy * sz + cx * cz,
                   cx * sy * sz - sx * cz,
                   -sy,
                   sx * cy,
                   cx * cy};
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++)
            m[4 * i + j] = r[3 * i + j];
        m[4 * i + 3] = t[i];
    }
    m[12] = m[13] = m[14] = 0.0;
    m[15] = 1.0;
}

static void test_rays(void)
{
    AigcPinhole cam = {.width = 6, .height = 4, .fl_x = 5.0, .fl_y = 4.5, .cx = 3.1, .cy = 1.9};
    /* Identity pose: the principal point looks straight down −z. */
    double id[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    float o[3], d[3];
    aigc_pinhole_ray(&cam, id, cam.cx, cam.cy, o, d);
    g_assert_cmpfloat_with_epsilon(d[0], 0.0, 1e-7);
    g_assert_cmpfloat_with_epsilon(d[1], 0.0, 1e-7);
    g_assert_cmpfloat_with_epsilon(d[2], -1.0, 1e-7);
    /* A pixel to the right and below: +x and −y in camera space. */
    aigc_pinhole_ray(&cam, id, 5.5, 3.5, o, d);
    g_assert_cmpfloat(d[0], >, 0.0f);
    g_assert_cmpfloat(d[1], <, 0.0f);

    /* Any pose: points along a pixel's ray project back onto that pixel. */
    double t[3] = {0.3, -1.2, 2.5}, m[16];
    make_c2w(0.4, -0.7, 1.9, t, m);
    float origins[6 * 4 * 3], dirs[6 * 4 * 3];
    aigc_pinhole_rays(&cam, m, origins, dirs);
    for (int y = 0; y < cam.height; y++)
        for (int x = 0; x < cam.width; x++) {
            const float *oo = origins + (y * cam.width + x) * 3;
            const float *dd = dirs + (y * cam.width + x) * 3;
            g_assert_cmpfloat_with_epsilon(dd[0] * dd[0] + dd[1] * dd[1] + dd[2] * dd[2], 1.0,
                                           1e-6);
            for (int k = 0; k < 3; k++)
                g_assert_cmpfloat(oo[k], ==, (float)t[k]);
            for (double dist = 0.5; dist < 10; dist *= 3) {
                double p[3] = {oo[0] + dist * dd[0], oo[1] + dist * dd[1], oo[2] + dist * dd[2]};
                double px, py;
                g_assert_true(aigc_pinhole_project(&cam, m, p, &px, &py));
                g_assert_cmpfloat_with_epsilon(px, x + 0.5, 1e-4);
                g_assert_cmpfloat_with_epsilon(py, y + 0.5, 1e-4);
            }
            /* and a point behind the camera does not project */
            double behind[3] = {oo[0] - dd[0], oo[1] - dd[1], oo[2] - dd[2]};
            double px, py;
            g_assert_false(aigc_pinhole_project(&cam, m, behind, &px, &py));
        }
}

/* ---- the sample scene ---- */

static void test_woodbox(void)
{
    static const struct {
        const char *split;
        int n_frames;
    } splits[] = {{"train", 100}, {"val", 10}, {"test", 20}};
    g_autofree char *dir =
        g_test_build_filename(G_TEST_DIST, "..", "data", "scene", "woodbox", NULL);
    double train_positions[100][3];
    double min_distance = G_MAXDOUBLE; /* from a validation or test camera to a training one */
    for (gsize s = 0; s < G_N_ELEMENTS(splits); s++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = aigc_transforms_find_split(dir, splits[s].split, &error);
        g_assert_no_error(error);
        g_autofree char *want_name = g_strdup_printf("/transforms_%s.json", splits[s].split);
        g_assert_true(g_str_has_suffix(path, want_name));
        g_autoptr(AigcTransforms) t = aigc_transforms_load(path, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpint(t->n_frames, ==, splits[s].n_frames);
        g_assert_cmpint(t->camera.width, ==, 200);
        g_assert_cmpint(t->camera.height, ==, 200);
        /* 45° horizontal field of view */
        g_assert_cmpfloat_with_epsilon(t->camera.fl_x, 100.0 / tan(G_PI / 8), 1e-9);
        g_assert_cmpfloat(t->aabb_scale, ==, 1.0);
        for (int f = 0; f < t->n_frames; f++) {
            const double *m = t->frames[f].c2w;
            /* On the hemisphere of radius 3.8, above the floor (z up). */
            double r = sqrt(m[3] * m[3] + m[7] * m[7] + m[11] * m[11]);
            g_assert_cmpfloat_with_epsilon(r, 3.8, 1e-9);
            g_assert_cmpfloat(m[11], >, 0.0);
            /* The cameras look at the world origin: it lands on the image centre. */
            double origin[3] = {0, 0, 0}, px, py;
            g_assert_true(aigc_pinhole_project(&t->camera, m, origin, &px, &py));
            g_assert_cmpfloat_with_epsilon(px, 100.0, 1e-6);
            g_assert_cmpfloat_with_epsilon(py, 100.0, 1e-6);
            /* The image agrees: the centre shows the box (opaque), a corner the transparent
             * background, and the world up axis points up in the image. */
            const guint8 *img = t->rgba + (gsize)f * 200 * 200 * 4;
            g_assert_cmpint(img[(100 * 200 + 100) * 4 + 3], ==, 255);
            g_assert_cmpint(img[3], ==, 0);
            double above[3] = {0, 0, 0.5};
            g_assert_true(aigc_pinhole_project(&t->camera, m, above, &px, &py));
            g_assert_cmpfloat(py, <, 100.0);
        }
        for (int f = 0; f < t->n_frames; f++) {
            const double *m = t->frames[f].c2w;
            if (s == 0) {
                for (int k = 0; k < 3; k++)
                    train_positions[f][k] = m[4 * k + 3];
                continue;
            }
            for (int i = 0; i < 100; i++) {
                double dx = m[3] - train_positions[i][0], dy = m[7] - train_positions[i][1],
                       dz = m[11] - train_positions[i][2];
                min_distance = MIN(min_distance, sqrt(dx * dx + dy * dy + dz * dz));
            }
        }
    }
    /* Validation and test views are novel: no camera within 0.05 (0.75°) of a training one. */
    g_test_message("closest validation/test camera to a training camera: %.3f", min_distance);
    g_assert_cmpfloat(min_distance, >, 0.05);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    make_dataset();
    for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf("/engine/io/transforms/bad/%s", bad_cases[i].name);
        g_test_add_data_func(path, &bad_cases[i], test_bad);
    }
    g_test_add_func("/engine/io/transforms/bad/missing-json", test_missing_json);
    g_test_add_func("/engine/io/transforms/good/pixels", test_good_pixels);
    g_test_add_func("/engine/io/transforms/good/camera", test_good_camera);
    g_test_add_func("/engine/io/transforms/good/no-images", test_good_no_images);
    g_test_add_func("/engine/io/transforms/find-split", test_find_split);
    g_test_add_func("/engine/io/transforms/rays", test_rays);
    g_test_add_func("/engine/io/transforms/woodbox", test_woodbox);
    int status = g_test_run();
    remove_tree(tmp_root);
    g_free(tmp_root);
    g_free(ds_dir);
    return status;
}
