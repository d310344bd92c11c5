/* SPDX-License-Identifier: MIT
 *
 * The transforms*.json loader and pinhole-camera ray helpers.
 *
 * DESIGN (file format): nothing in the JSON or the images is trusted. The JSON is read whole
 * (at most AIGC_TRANSFORMS_MAX_JSON bytes) and parsed by the strict reader; NaN and Infinity,
 * which Python's json module writes but JSON cannot hold, get a second chance: they are
 * replaced by an out-of-range number so the check of the matrix they sit in names the frame.
 * Then, in order: the camera (focal length from fl_x or camera_angle_x, size from w/h or the
 * first image), the scene box, and every frame — its matrix (4×4, finite, last row 0 0 0 1,
 * orthonormal rotation) and its image path. A path must be relative, must not climb above the
 * folder with "..", and after symlinks are resolved (realpath) must still lie inside the folder
 * holding the JSON. Only when every frame has passed are the pixels allocated (bounded by
 * AIGC_TRANSFORMS_MAX_PIXELS) and the PNGs decoded, in parallel; each image's header is checked
 * against the camera size before its rows are read.
 *
 * Images are decoded by aigc-png (stored values, no gamma conversion; any PNG becomes 8-bit
 * RGBA, opaque when it has no alpha), after their size has been read from the IHDR chunk.
 */
#include "aigc-transforms.h"

#include "aigc-error.h"
#include "io/aigc-png.h"
#include "io/aigc-strict-json.h"
#include "tensor/aigc-threads.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define T_ERROR(error, code, path, ...)                                                            \
    do {                                                                                           \
        g_autofree char *msg_ = g_strdup_printf(__VA_ARGS__);                                      \
        g_set_error(error, AIGC_ENGINE_ERROR, code, "%s: %s", path, msg_);                         \
    } while (0)

#define ORTHO_TOL 1e-3 /* rotation columns: unit length and orthogonal within this */

AigcTransformsOptions aigc_transforms_default_options(void)
{
    return (AigcTransformsOptions){.background = {1.0f, 1.0f, 1.0f}, .load_images = TRUE};
}

void aigc_transforms_free(AigcTransforms *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n_frames; i++) {
        g_free(t->frames[i].file_path);
        g_free(t->frames[i].image_path);
    }
    g_free(t->frames);
    g_free(t->rgba);
    g_free(t->json_path);
    g_free(t->dir);
    g_free(t);
}

/* ---- images ---- */

/* The size of the PNG at `path`, from its IHDR chunk (which the format puts first), read
 * without decoding anything, so that sizes are checked before pixel memory is allocated. */
static gboolean png_size(const char *path, int *width, int *height, GError **error)
{
    static const guint8 signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    guint8 head[24];
    FILE *f = fopen(path, "rb");
    if (!f) {
        int saved = errno;
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO, "%s: cannot open: %s", path,
                    g_strerror(saved));
        return FALSE;
    }
    gsize n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n < 8 || memcmp(head, signature, 8) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a PNG image (no PNG signature)", path);
        return FALSE;
    }
    if (n < sizeof head || memcmp(head + 12, "IHDR", 4) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: damaged or unreadable PNG: no IHDR chunk at the start", path);
        return FALSE;
    }
    guint32 w =
        ((guint32)head[16] << 24) | ((guint32)head[17] << 16) | ((guint32)head[18] << 8) | head[19];
    guint32 h =
        ((guint32)head[20] << 24) | ((guint32)head[21] << 16) | ((guint32)head[22] << 8) | head[23];
    if (w == 0 || h == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: damaged or unreadable PNG: the image has no pixels", path);
        return FALSE;
    }
    if (w > AIGC_TRANSFORMS_MAX_SIDE || h > AIGC_TRANSFORMS_MAX_SIDE) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s: the image is %u×%u pixels, over the limit of %d per side", path, w, h,
                    AIGC_TRANSFORMS_MAX_SIDE);
        return FALSE;
    }
    *width = (int)w;
    *height = (int)h;
    return TRUE;
}

/* Decodes the PNG at `path` (aigc-png) into dest as 8-bit straight RGBA; it must be
 * want_width × want_height, which is checked from its header first. Errors name the image;
 * the caller adds the JSON and the frame. */
static gboolean decode_png(const char *path, guint8 *dest, int want_width, int want_height,
                           GError **error)
{
    int w = 0, h = 0;
    if (!png_size(path, &w, &h, error))
        return FALSE;
    if (w != want_width || h != want_height) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: the image is %d×%d pixels but the dataset's frames are %d×%d", path, w, h,
                    want_width, want_height);
        return FALSE;
    }
    AigcPngReadOptions options = aigc_png_read_default_options();
    options.channels = 4;
    g_autoptr(AigcImage) image = aigc_png_read(path, &options, NULL, error);
    if (!image)
        return FALSE;
    if (image->width != w || image->height != h || image->channels != 4) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: damaged or unreadable PNG: its header and its pixels disagree", path);
        return FALSE;
    }
    memcpy(dest, image->data, (gsize)w * h * 4);
    return TRUE;
}

/* ---- JSON helpers ---- */

/* Replaces the bare tokens NaN, Infinity and -Infinity (outside strings) by ±1e999, which the
 * strict reader takes as an infinite number. Returns NULL when there are none. */
static char *replace_nonfinite_tokens(const char *text, gsize length, gsize *out_length)
{
    GString *s = g_string_sized_new(length + 16);
    gboolean in_string = FALSE, changed = FALSE;
    for (gsize i = 0; i < length; i++) {
        char c = text[i];
        if (in_string) {
            g_string_append_c(s, c);
            if (c == '\\' && i + 1 < length)
                g_string_append_c(s, text[++i]);
            else if (c == '"')
                in_string = FALSE;
            continue;
        }
        if (c == '"')
            in_string = TRUE;
        static const struct {
            const char *word, *with;
        } tokens[] = {{"NaN", "1e999"}, {"-Infinity", "-1e999"}, {"Infinity", "1e999"}};
        gboolean replaced = FALSE;
        for (gsize k = 0; k < G_N_ELEMENTS(tokens) && !replaced; k++) {
            gsize n = strlen(tokens[k].word);
            if (length - i >= n && memcmp(text + i, tokens[k].word, n) == 0) {
                g_string_append(s, tokens[k].with);
                i += n - 1;
                replaced = changed = TRUE;
            }
        }
        if (!replaced)
            g_string_append_c(s, c);
    }
    if (!changed) {
        g_string_free(s, TRUE);
        return NULL;
    }
    *out_length = s->len;
    return g_string_free(s, FALSE);
}

/* "an array", "a number", …: for messages. */
static const char *type_with_article(AigcJsonType type)
{
    switch (type) {
    case AIGC_JSON_NULL:
        return "null";
    case AIGC_JSON_BOOL:
        return "a boolean";
    case AIGC_JSON_NUMBER:
        return "a number";
    case AIGC_JSON_STRING:
        return "a string";
    case AIGC_JSON_ARRAY:
        return "an array";
    case AIGC_JSON_OBJECT:
        return "an object";
    }
    return "a value";
}

/* An optional number member: FALSE with error set when present but not a finite number. */
static gboolean get_number(const AigcJsonValue *obj, const char *key, double *out,
                           gboolean *present, const char *where, GError **error)
{
    const AigcJsonValue *v = aigc_json_object_get(obj, key);
    *present = v != NULL;
    if (!v)
        return TRUE;
    if (v->type != AIGC_JSON_NUMBER) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: “%s” is %s, not a number", where, key, type_with_article(v->type));
        return FALSE;
    }
    if (!isfinite(v->number)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                    "%s: “%s” is not a finite number", where, key);
        return FALSE;
    }
    *out = v->number;
    return TRUE;
}

/* An optional positive number, at most `max`. */
static gboolean get_positive(const AigcJsonValue *obj, const char *key, double max, double *out,
                             gboolean *present, const char *where, GError **error)
{
    if (!get_number(obj, key, out, present, where, error))
        return FALSE;
    if (*present && !(*out > 0.0 && *out <= max)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: “%s” is %g; it must be above 0 and at most %g", where, key, *out, max);
        return FALSE;
    }
    return TRUE;
}

/* An optional image side, 1 … AIGC_TRANSFORMS_MAX_SIDE. */
static gboolean get_side(const AigcJsonValue *obj, const char *key, int *out, gboolean *present,
                         const char *where, GError **error)
{
    double v = 0;
    if (!get_number(obj, key, &v, present, where, error))
        return FALSE;
    if (!*present)
        return TRUE;
    if (v != floor(v) || v < 1 || v > AIGC_TRANSFORMS_MAX_SIDE) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s: “%s” is %g; image sides must be whole numbers from 1 to %d", where, key, v,
                    AIGC_TRANSFORMS_MAX_SIDE);
        return FALSE;
    }
    *out = (int)v;
    return TRUE;
}

/* ---- the camera and the scene box ---- */

static const char *const distortion_keys[] = {"k1", "k2", "k3", "k4", "p1", "p2"};
static const char *const per_frame_camera_keys[] = {
    "fl_x", "fl_y", "cx", "cy", "camera_angle_x", "camera_angle_y", "w", "h", "k1", "k2",
    "k3",   "k4",   "p1", "p2"};

static gboolean read_camera(const AigcJsonValue *root, AigcTransforms *t, gboolean *have_size,
                            GError **error)
{
    const char *where = t->json_path;
    gboolean has_w, has_h, present;
    int w = 0, h = 0;
    if (!get_side(root, "w", &w, &has_w, where, error) ||
        !get_side(root, "h", &h, &has_h, where, error))
        return FALSE;
    if (has_w != has_h) {
        T_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, where, "has “%s” but no “%s”", has_w ? "w" : "h",
                has_w ? "h" : "w");
        return FALSE;
    }
    *have_size = has_w;
    t->camera.width = w;
    t->camera.height = h;

    for (gsize k = 0; k < G_N_ELEMENTS(distortion_keys); k++) {
        double v = 0;
        if (!get_number(root, distortion_keys[k], &v, &present, where, error))
            return FALSE;
        if (present && v != 0.0) {
            T_ERROR(error, AIGC_ENGINE_ERROR_UNSUPPORTED, where,
                    "lens distortion (“%s” = %g) is not supported; undistort the images first",
                    distortion_keys[k], v);
            return FALSE;
        }
    }
    const AigcJsonValue *fisheye = aigc_json_object_get(root, "is_fisheye");
    if (fisheye && fisheye->type == AIGC_JSON_BOOL && fisheye->boolean) {
        T_ERROR(error, AIGC_ENGINE_ERROR_UNSUPPORTED, where, "fisheye cameras are not supported");
        return FALSE;
    }

    /* Focal lengths need the image size, which may only come from the first image: they are
     * kept as given here and turned into pixels by finish_camera. */
    return TRUE;
}

static gboolean finish_camera(const AigcJsonValue *root, AigcTransforms *t, GError **error)
{
    const char *where = t->json_path;
    AigcPinhole *cam = &t->camera;
    gboolean has_fx, has_fy, has_ax, has_ay, has_cx, has_cy;
    double fx = 0, fy = 0, ax = 0, ay = 0, cx = 0, cy = 0;
    const double limit = 1e7; /* focal lengths in pixels */
    if (!get_positive(root, "fl_x", limit, &fx, &has_fx, where, error) ||
        !get_positive(root, "fl_y", limit, &fy, &has_fy, where, error) ||
        !get_number(root, "camera_angle_x", &ax, &has_ax, where, error) ||
        !get_number(root, "camera_angle_y", &ay, &has_ay, where, error) ||
        !get_number(root, "cx", &cx, &has_cx, where, error) ||
        !get_number(root, "cy", &cy, &has_cy, where, error))
        return FALSE;
    if (has_ax && !(ax > 0 && ax < G_PI)) {
        T_ERROR(error, AIGC_ENGINE_ERROR_INVALID, where,
                "“camera_angle_x” is %g radians; it must be between 0 and π", ax);
        return FALSE;
    }
    if (has_ay && !(ay > 0 && ay < G_PI)) {
        T_ERROR(error, AIGC_ENGINE_ERROR_INVALID, where,
                "“camera_angle_y” is %g radians; it must be between 0 and π", ay);
        return FALSE;
    }
    if (!has_fx && !has_ax) {
        T_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, where,
                "has neither “camera_angle_x” nor “fl_x”, so the focal length is unknown");
        return FALSE;
    }
    cam->fl_x = has_fx ? fx : 0.5 * cam->width / tan(0.5 * ax);
    if (has_fy)
        cam->fl_y = fy;
    else if (has_ay)
        cam->fl_y = 0.5 * cam->height / tan(0.5 * ay);
    else
        cam->fl_y = cam->fl_x;
    cam->cx = has_cx ? cx : 0.5 * cam->width;
    cam->cy = has_cy ? cy : 0.5 * cam->height;
    if (fabs(cam->cx) > 4.0 * AIGC_TRANSFORMS_MAX_SIDE ||
        fabs(cam->cy) > 4.0 * AIGC_TRANSFORMS_MAX_SIDE) {
        T_ERROR(error, AIGC_ENGINE_ERROR_INVALID, where,
                "the principal point (%g, %g) lies far outside the %d×%d image", cam->cx, cam->cy,
                cam->width, cam->height);
        return FALSE;
    }
    return TRUE;
}

static gboolean read_box(const AigcJsonValue *root, AigcTransforms *t, GError **error)
{
    const char *where = t->json_path;
    gboolean present;
    double aabb_scale = 1.0, scale = 0.33, offset[3] = {0.5, 0.5, 0.5};
    if (!get_positive(root, "aabb_scale", 128.0, &aabb_scale, &present, where, error))
        return FALSE;
    if (!get_positive(root, "scale", 1e6, &scale, &present, where, error))
        return FALSE;
    const AigcJsonValue *off = aigc_json_object_get(root, "offset");
    if (off) {
        if (off->type != AIGC_JSON_ARRAY || off->n_items != 3) {
            T_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, where,
                    "“offset” is not an array of three numbers");
            return FALSE;
        }
        for (int i = 0; i < 3; i++) {
            const AigcJsonValue *v = off->items[i];
            if (v->type != AIGC_JSON_NUMBER || !isfinite(v->number) || fabs(v->number) > 1e6) {
                T_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, where,
                        "“offset” is not an array of three finite numbers");
                return FALSE;
            }
            offset[i] = v->number;
        }
    }
    /* instant-ngp maps a world point p to p·scale + offset and renders the cube of side
     * aabb_scale around (0.5, 0.5, 0.5) there; in world coordinates that cube is: */
    t->aabb_scale = aabb_scale;
    for (int i = 0; i < 3; i++) {
        double centre = (0.5 - offset[i]) / scale, half = 0.5 * aabb_scale / scale;
        t->aabb_min[i] = (float)(centre - half);
        t->aabb_max[i] = (float)(centre + half);
    }
    return TRUE;
}

/* ---- frames ---- */

static gboolean read_matrix(const AigcJsonValue *m, double c2w[16], const char *where,
                            GError **error)
{
    if (!m) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: has no “transform_matrix”", where);
        return FALSE;
    }
    gboolean shape_ok = m->type == AIGC_JSON_ARRAY && m->n_items == 4;
    for (guint r = 0; shape_ok && r < 4; r++) {
        const AigcJsonValue *row = m->items[r];
        shape_ok = row->type == AIGC_JSON_ARRAY && row->n_items == 4;
        for (guint c = 0; shape_ok && c < 4; c++)
            shape_ok = row->items[c]->type == AIGC_JSON_NUMBER;
    }
    if (!shape_ok) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: “transform_matrix” is not a 4×4 array of numbers", where);
        return FALSE;
    }
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            double v = m->items[r]->items[c]->number;
            if (!isfinite(v)) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                            "%s: “transform_matrix” holds a non-finite number (NaN or "
                            "infinity) at row %d, column %d",
                            where, r + 1, c + 1);
                return FALSE;
            }
            if (fabs(v) > 1e9) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                            "%s: “transform_matrix” holds %g at row %d, column %d, out of range",
                            where, v, r + 1, c + 1);
                return FALSE;
            }
            c2w[4 * r + c] = v;
        }
    if (fabs(c2w[12]) > 1e-6 || fabs(c2w[13]) > 1e-6 || fabs(c2w[14]) > 1e-6 ||
        fabs(c2w[15] - 1.0) > 1e-6) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: the last row of “transform_matrix” is not 0 0 0 1", where);
        return FALSE;
    }
    for (int a = 0; a < 3; a++)
        for (int b = a; b < 3; b++) {
            double dot = 0;
            for (int r = 0; r < 3; r++)
                dot += c2w[4 * r + a] * c2w[4 * r + b];
            if (fabs(dot - (a == b ? 1.0 : 0.0)) <= ORTHO_TOL)
                continue;
            if (a == b)
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                            "%s: the rotation in “transform_matrix” is not orthonormal "
                            "(column %d has length %.4g)",
                            where, a + 1, sqrt(dot));
            else
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                            "%s: the rotation in “transform_matrix” is not orthonormal "
                            "(columns %d and %d have dot product %.4g)",
                            where, a + 1, b + 1, dot);
            return FALSE;
        }
    return TRUE;
}

/* Resolves a frame's file_path inside the dataset folder `dir` (already canonical). */
static char *resolve_image(const char *dir, const char *file_path, const char *where,
                           GError **error)
{
    if (file_path[0] == '\0') {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: “file_path” is empty",
                    where);
        return NULL;
    }
    if (g_path_is_absolute(file_path) || file_path[0] == '~') {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: the image path “%s” is absolute; it must be relative to the dataset "
                    "folder",
                    where, file_path);
        return NULL;
    }
    /* ".." that climbs above the folder is refused by name, before any file is looked at. */
    g_auto(GStrv) parts = g_strsplit(file_path, "/", -1);
    int depth = 0;
    for (int i = 0; parts[i]; i++) {
        if (strcmp(parts[i], "..") == 0)
            depth--;
        else if (parts[i][0] != '\0' && strcmp(parts[i], ".") != 0)
            depth++;
        if (depth < 0) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "%s: the image path “%s” leaves the dataset folder", where, file_path);
            return NULL;
        }
    }
    g_autofree char *joined = g_build_filename(dir, file_path, NULL);
    g_autofree char *base = g_path_get_basename(file_path);
    g_autofree char *with_png = g_strconcat(joined, ".png", NULL);
    const char *candidate = joined;
    if (!g_file_test(joined, G_FILE_TEST_EXISTS) && !strchr(base, '.'))
        candidate = with_png;
    char *real = realpath(candidate, NULL);
    if (!real) {
        int saved = errno;
        if (candidate == with_png)
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO,
                        "%s: the image “%s” does not exist (looked for %s and %s): %s", where,
                        file_path, joined, with_png, g_strerror(saved));
        else
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO,
                        "%s: the image %s cannot be opened: %s", where, joined, g_strerror(saved));
        return NULL;
    }
    gsize n_dir = strlen(dir);
    gboolean inside = strncmp(real, dir, n_dir) == 0 &&
                      (real[n_dir] == '/' || (n_dir > 0 && dir[n_dir - 1] == '/'));
    if (!inside) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: the image path “%s” leads outside the dataset folder (to %s)", where,
                    file_path, real);
        free(real);
        return NULL;
    }
    if (!g_file_test(real, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO,
                    "%s: the image %s is not a regular file", where, real);
        free(real);
        return NULL;
    }
    char *out = g_strdup(real);
    free(real);
    return out;
}

static gboolean read_frames(const AigcJsonValue *root, AigcTransforms *t, GError **error)
{
    const AigcJsonValue *frames = aigc_json_object_get(root, "frames");
    if (!frames) {
        T_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, t->json_path, "has no “frames”");
        return FALSE;
    }
    if (frames->type != AIGC_JSON_ARRAY) {
        T_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, t->json_path, "“frames” is %s, not an array",
                type_with_article(frames->type));
        return FALSE;
    }
    if (frames->n_items == 0) {
        T_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, t->json_path, "has no frames");
        return FALSE;
    }
    if (frames->n_items > AIGC_TRANSFORMS_MAX_FRAMES) {
        T_ERROR(error, AIGC_ENGINE_ERROR_UNSUPPORTED, t->json_path,
                "has %u frames, over the limit of %d", frames->n_items, AIGC_TRANSFORMS_MAX_FRAMES);
        return FALSE;
    }
    t->frames = g_new0(AigcTransformsFrame, frames->n_items);
    for (guint i = 0; i < frames->n_items; i++) {
        const AigcJsonValue *fr = frames->items[i];
        g_autofree char *where = g_strdup_printf("%s: frame %u", t->json_path, i);
        if (fr->type != AIGC_JSON_OBJECT) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "%s: is %s, not an object", where, type_with_article(fr->type));
            return FALSE;
        }
        for (gsize k = 0; k < G_N_ELEMENTS(per_frame_camera_keys); k++)
            if (aigc_json_object_get(fr, per_frame_camera_keys[k])) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                            "%s: has its own camera (“%s”); one camera for all frames is "
                            "supported",
                            where, per_frame_camera_keys[k]);
                return FALSE;
            }
        const AigcJsonValue *fp = aigc_json_object_get(fr, "file_path");
        if (!fp || fp->type != AIGC_JSON_STRING) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: “file_path” is %s",
                        where, fp ? "not a string" : "missing");
            return FALSE;
        }
        AigcTransformsFrame *frame = &t->frames[i];
        t->n_frames = (int)i + 1; /* so that free() sees what was filled */
        frame->file_path = g_strdup(fp->string);
        g_free(where);
        where = g_strdup_printf("%s: frame %u (%s)", t->json_path, i, fp->string);
        if (!read_matrix(aigc_json_object_get(fr, "transform_matrix"), frame->c2w, where, error))
            return FALSE;
        frame->image_path = resolve_image(t->dir, fp->string, where, error);
        if (!frame->image_path)
            return FALSE;
    }
    return TRUE;
}

/* ---- images ---- */

typedef struct {
    AigcTransforms *t;
    GError **errors; /* (n_frames) */
} DecodeCtx;

static void decode_frames(gint64 begin, gint64 end, gpointer data)
{
    DecodeCtx *ctx = data;
    AigcTransforms *t = ctx->t;
    gsize frame_bytes = (gsize)t->camera.width * t->camera.height * 4;
    for (gint64 i = begin; i < end; i++)
        decode_png(t->frames[i].image_path, t->rgba + (gsize)i * frame_bytes, t->camera.width,
                   t->camera.height, &ctx->errors[i]);
}

static gboolean load_images(AigcTransforms *t, GError **error)
{
    gint64 n_pixels = (gint64)t->n_frames * t->camera.width * t->camera.height;
    if (n_pixels > AIGC_TRANSFORMS_MAX_PIXELS) {
        T_ERROR(error, AIGC_ENGINE_ERROR_UNSUPPORTED, t->json_path,
                "%d frames of %d×%d pixels are over the limit of %d pixels in all", t->n_frames,
                t->camera.width, t->camera.height, AIGC_TRANSFORMS_MAX_PIXELS);
        return FALSE;
    }
    t->rgba = g_try_malloc((gsize)n_pixels * 4);
    if (!t->rgba) {
        T_ERROR(error, AIGC_ENGINE_ERROR_FAILED, t->json_path,
                "out of memory for %" G_GINT64_FORMAT " pixels", n_pixels);
        return FALSE;
    }
    DecodeCtx ctx = {t, g_new0(GError *, t->n_frames)};
    aigc_parallel_for(t->n_frames, 1, decode_frames, &ctx);
    gboolean ok = TRUE;
    for (int i = 0; i < t->n_frames; i++) {
        if (ctx.errors[i] && ok) {
            g_propagate_prefixed_error(error, ctx.errors[i], "%s: frame %d (%s): ", t->json_path, i,
                                       t->frames[i].file_path);
            ctx.errors[i] = NULL;
            ok = FALSE;
        }
        g_clear_error(&ctx.errors[i]);
    }
    g_free(ctx.errors);
    return ok;
}

/* ---- loading ---- */

AigcTransforms *aigc_transforms_load(const char *json_path, const AigcTransformsOptions *options,
                                     GError **error)
{
    g_return_val_if_fail(json_path != NULL, NULL);
    AigcTransformsOptions opts = options ? *options : aigc_transforms_default_options();
    for (int i = 0; i < 3; i++)
        if (!(opts.background[i] >= 0.0f && opts.background[i] <= 1.0f)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "background colour component %d is outside [0, 1]", i);
            return NULL;
        }

    GStatBuf st;
    if (g_stat(json_path, &st) != 0) {
        int saved = errno;
        T_ERROR(error, AIGC_ENGINE_ERROR_IO, json_path, "cannot open: %s", g_strerror(saved));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        T_ERROR(error, AIGC_ENGINE_ERROR_IO, json_path, "not a regular file");
        return NULL;
    }
    if (st.st_size > AIGC_TRANSFORMS_MAX_JSON) {
        T_ERROR(error, AIGC_ENGINE_ERROR_UNSUPPORTED, json_path,
                "%" G_GINT64_FORMAT " bytes, over the limit of %d MB for a transforms file",
                (gint64)st.st_size, AIGC_TRANSFORMS_MAX_JSON >> 20);
        return NULL;
    }
    g_autofree char *text = NULL;
    gsize length = 0;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(json_path, &text, &length, &local)) {
        T_ERROR(error, AIGC_ENGINE_ERROR_IO, json_path, "cannot read: %s", local->message);
        return NULL;
    }
    g_autoptr(AigcJsonDoc) doc = aigc_json_parse(text, length, &local);
    if (!doc) {
        gsize n_fixed = 0;
        g_autofree char *fixed = replace_nonfinite_tokens(text, length, &n_fixed);
        if (fixed)
            doc = aigc_json_parse(fixed, n_fixed, NULL);
        if (!doc) {
            T_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, json_path, "not valid JSON: %s",
                    local->message);
            return NULL;
        }
        g_clear_error(&local);
    }
    const AigcJsonValue *root = aigc_json_doc_get_root(doc);
    if (root->type != AIGC_JSON_OBJECT) {
        T_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, json_path, "the JSON is %s, not an object",
                type_with_article(root->type));
        return NULL;
    }

    g_autoptr(AigcTransforms) t = g_new0(AigcTransforms, 1);
    t->json_path = g_strdup(json_path);
    memcpy(t->background, opts.background, sizeof t->background);
    g_autofree char *dir = g_path_get_dirname(json_path);
    char *real_dir = realpath(dir, NULL);
    if (!real_dir) {
        int saved = errno;
        T_ERROR(error, AIGC_ENGINE_ERROR_IO, json_path, "cannot resolve its folder: %s",
                g_strerror(saved));
        return NULL;
    }
    t->dir = g_strdup(real_dir);
    free(real_dir);

    gboolean have_size = FALSE;
    if (!read_camera(root, t, &have_size, error) || !read_box(root, t, error) ||
        !read_frames(root, t, error))
        return NULL;
    if (!have_size) {
        /* The size comes from the first image; load_images checks the others against it. */
        if (!png_size(t->frames[0].image_path, &t->camera.width, &t->camera.height, error)) {
            g_prefix_error(error, "%s: frame 0 (%s): ", json_path, t->frames[0].file_path);
            return NULL;
        }
    }
    if (!finish_camera(root, t, error))
        return NULL;
    if (opts.load_images && !load_images(t, error))
        return NULL;
    return g_steal_pointer(&t);
}

char *aigc_transforms_find_split(const char *dir, const char *split, GError **error)
{
    g_autofree char *name = g_strdup_printf("transforms_%s.json", split);
    char *path = g_build_filename(dir, name, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return path;
    g_free(path);
    path = g_build_filename(dir, "transforms.json", NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return path;
    g_free(path);
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND,
                "%s: has neither %s nor transforms.json", dir, name);
    return NULL;
}

/* ---- pixels and rays ---- */

void aigc_transforms_get_rgb(const AigcTransforms *t, int frame, int x, int y, float rgb[3])
{
    g_return_if_fail(t->rgba && frame >= 0 && frame < t->n_frames);
    g_return_if_fail(x >= 0 && x < t->camera.width && y >= 0 && y < t->camera.height);
    const guint8 *p = t->rgba + (((gsize)frame * t->camera.height + y) * t->camera.width + x) * 4;
    float a = p[3] * (1.0f / 255.0f);
    for (int c = 0; c < 3; c++)
        rgb[c] = p[c] * (1.0f / 255.0f) * a + t->background[c] * (1.0f - a);
}

void aigc_transforms_frame_rgb(const AigcTransforms *t, int frame, float *out)
{
    g_return_if_fail(t->rgba && frame >= 0 && frame < t->n_frames);
    gsize n = (gsize)t->camera.width * t->camera.height;
    const guint8 *p = t->rgba + (gsize)frame * n * 4;
    for (gsize i = 0; i < n; i++, p += 4) {
        float a = p[3] * (1.0f / 255.0f);
        for (int c = 0; c < 3; c++)
            out[3 * i + c] = p[c] * (1.0f / 255.0f) * a + t->background[c] * (1.0f - a);
    }
}

void aigc_pinhole_ray(const AigcPinhole *cam, const double c2w[16], double px, double py,
                      float o[3], float d[3])
{
    /* OpenGL camera: +x right, +y up, looking down −z; image y grows downwards. */
    double dc[3] = {(px - cam->cx) / cam->fl_x, -(py - cam->cy) / cam->fl_y, -1.0};
    double dw[3], norm = 0;
    for (int r = 0; r < 3; r++) {
        dw[r] = c2w[4 * r + 0] * dc[0] + c2w[4 * r + 1] * dc[1] + c2w[4 * r + 2] * dc[2];
        norm += dw[r] * dw[r];
    }
    norm = 1.0 / sqrt(norm);
    for (int r = 0; r < 3; r++) {
        o[r] = (float)c2w[4 * r + 3];
        d[r] = (float)(dw[r] * norm);
    }
}

void aigc_pinhole_rays(const AigcPinhole *cam, const double c2w[16], float *origins,
                       float *directions)
{
    for (int y = 0; y < cam->height; y++)
        for (int x = 0; x < cam->width; x++) {
            gsize i = ((gsize)y * cam->width + x) * 3;
            aigc_pinhole_ray(cam, c2w, x + 0.5, y + 0.5, origins + i, directions + i);
        }
}

gboolean aigc_pinhole_project(const AigcPinhole *cam, const double c2w[16], const double p[3],
                              double *px, double *py)
{
    double d[3] = {p[0] - c2w[3], p[1] - c2w[7], p[2] - c2w[11]};
    double q[3]; /* Rᵀ d: the point in camera coordinates */
    for (int c = 0; c < 3; c++)
        q[c] = c2w[0 * 4 + c] * d[0] + c2w[1 * 4 + c] * d[1] + c2w[2 * 4 + c] * d[2];
    if (q[2] >= 0.0)
        return FALSE;
    *px = cam->cx + cam->fl_x * q[0] / -q[2];
    *py = cam->cy - cam->fl_y * q[1] / -q[2];
    return TRUE;
}
