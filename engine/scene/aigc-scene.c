/* SPDX-License-Identifier: MIT */
#include "aigc-scene.h"

#include "aigc-config.h"
#include "aigc-error.h"
#include "io/aigc-png.h"
#include "io/aigc-strict-json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void scene_clear(AigcScene *s)
{
    aigc_nerf_free(s->nerf);
    aigc_nerf_pe_free(s->pe);
    g_free(s->path);
    g_free(s->title);
}

static void default_orbit(const float aabb_min[3], const float aabb_max[3], AigcOrbit *o)
{
    double r = 0;
    *o = (AigcOrbit){.up = {0, 0, 1}, .fov_x = G_PI / 4, .elevation = 0.3};
    for (int a = 0; a < 3; a++) {
        o->target[a] = 0.5 * ((double)aabb_min[a] + aabb_max[a]);
        double h = 0.5 * ((double)aabb_max[a] - aabb_min[a]);
        r += h * h;
    }
    o->distance = 2.0 * sqrt(r);
}

AigcScene *aigc_scene_open(const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return NULL;
    const char *family = aigc_safetensors_get_metadata(st, "family");
    AigcNerf *nerf = NULL;
    AigcNerfPe *pe = NULL;
    if (g_strcmp0(family, "nerf") == 0)
        nerf = aigc_nerf_load(st, error);
    else if (g_strcmp0(family, "nerf-pe") == 0)
        pe = aigc_nerf_pe_load(st, error);
    else
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a scene (its family is “%s”, not “nerf” or “nerf-pe”)", path,
                    family ? family : "unknown");
    if (!nerf && !pe)
        return NULL;
    AigcScene *s = g_atomic_rc_box_new0(AigcScene);
    s->nerf = nerf;
    s->pe = pe;
    s->path = g_strdup(path);
    s->title = g_strdup(aigc_safetensors_get_metadata(st, "title"));
    s->background[0] = s->background[1] = s->background[2] = 1.0f;
    const char *view = aigc_safetensors_get_metadata(st, "nerf.view");
    GError *local = NULL;
    if (!view || !aigc_orbit_from_json(&s->view, view, &local)) {
        if (local)
            g_debug("%s: %s; using a default view", path, local->message);
        g_clear_error(&local);
        if (nerf)
            default_orbit(nerf->aabb_min, nerf->aabb_max, &s->view);
        else
            default_orbit(pe->aabb_min, pe->aabb_max, &s->view);
    }
    const char *bg = aigc_safetensors_get_metadata(st, "nerf.background");
    g_autoptr(AigcJsonDoc) doc = bg ? aigc_json_parse(bg, strlen(bg), NULL) : NULL;
    const AigcJsonValue *root = doc ? aigc_json_doc_get_root(doc) : NULL;
    if (root && root->type == AIGC_JSON_ARRAY && root->n_items == 3)
        for (int k = 0; k < 3; k++)
            if (root->items[k]->type == AIGC_JSON_NUMBER && isfinite(root->items[k]->number))
                s->background[k] = (float)CLAMP(root->items[k]->number, 0.0, 1.0);
    return s;
}

AigcScene *aigc_scene_ref(AigcScene *scene)
{
    return g_atomic_rc_box_acquire(scene);
}

void aigc_scene_unref(AigcScene *scene)
{
    if (scene)
        g_atomic_rc_box_release_full(scene, (GDestroyNotify)scene_clear);
}

char *aigc_scene_find_sample(void)
{
    const char *candidates[] = {AIGC_DATADIR "/scenes/woodbox", AIGC_SOURCE_DIR "/data/scene/woodbox"};
    for (guint i = 0; i < G_N_ELEMENTS(candidates); i++) {
        g_autofree char *json = g_build_filename(candidates[i], "transforms_train.json", NULL);
        if (g_file_test(json, G_FILE_TEST_IS_REGULAR))
            return g_strdup(candidates[i]);
    }
    return NULL;
}

/* ---- poses ---- */

void aigc_scene_poses_clear(AigcScenePoses *poses)
{
    g_free(poses->c2w);
    g_free(poses->cameras);
    *poses = (AigcScenePoses){0};
}

static void poses_alloc(AigcScenePoses *poses, int n)
{
    aigc_scene_poses_clear(poses);
    poses->n = n;
    poses->c2w = g_malloc0_n(MAX(n, 1), sizeof(double[16]));
    poses->cameras = g_new0(AigcPinhole, MAX(n, 1));
}

void aigc_scene_poses_orbit(AigcScenePoses *poses, const AigcOrbit *orbit, int n, int width,
                            int height)
{
    poses_alloc(poses, n);
    for (int i = 0; i < n; i++) {
        AigcOrbit o = *orbit;
        aigc_orbit_rotate(&o, 2.0 * G_PI * i / n, 0.0);
        aigc_orbit_c2w(&o, poses->c2w[i]);
        poses->cameras[i] = aigc_orbit_pinhole(&o, width, height);
    }
}

static gboolean check_matrix(const double m[16], const char *path, int index, GError **error)
{
    for (int k = 0; k < 16; k++)
        if (!isfinite(m[k]) || fabs(m[k]) > 1e6) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "%s: pose %d holds a non-finite or huge number", path, index + 1);
            return FALSE;
        }
    /* The rotation must not be degenerate: its columns span 3-D. */
    double det = m[0] * (m[5] * m[10] - m[6] * m[9]) - m[1] * (m[4] * m[10] - m[6] * m[8]) +
                 m[2] * (m[4] * m[9] - m[5] * m[8]);
    if (fabs(det) < 1e-9) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: pose %d has a singular rotation", path, index + 1);
        return FALSE;
    }
    return TRUE;
}

static gboolean load_matrices(AigcScenePoses *poses, const char *path, const char *text,
                              const AigcOrbit *orbit, int width, int height, GError **error)
{
    GArray *values = g_array_new(FALSE, FALSE, sizeof(double));
    const char *p = text;
    while (*p) {
        if (g_ascii_isspace(*p) || *p == ',' || *p == '[' || *p == ']') {
            p++;
            continue;
        }
        if (*p == '#') { /* a comment to the end of the line */
            while (*p && *p != '\n')
                p++;
            continue;
        }
        char *end;
        errno = 0;
        double v = g_ascii_strtod(p, &end);
        if (end == p || errno == ERANGE) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "%s: “%.12s” is not a number (poses are 4×4 matrices, 16 numbers each)",
                        path, p);
            g_array_free(values, TRUE);
            return FALSE;
        }
        g_array_append_val(values, v);
        p = end;
        if (values->len > 16u * AIGC_SCENE_MAX_VIEWS)
            break;
    }
    guint n = values->len / 16;
    if (values->len == 0 || values->len % 16 != 0 || n > AIGC_SCENE_MAX_VIEWS) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: %u numbers; poses are 4×4 matrices, 16 numbers each (at most %d)", path,
                    values->len, AIGC_SCENE_MAX_VIEWS);
        g_array_free(values, TRUE);
        return FALSE;
    }
    poses_alloc(poses, (int)n);
    for (guint i = 0; i < n; i++) {
        memcpy(poses->c2w[i], &g_array_index(values, double, 16 * i), sizeof(double[16]));
        poses->cameras[i] = aigc_orbit_pinhole(orbit, width, height);
        if (!check_matrix(poses->c2w[i], path, (int)i, error)) {
            g_array_free(values, TRUE);
            aigc_scene_poses_clear(poses);
            return FALSE;
        }
    }
    g_array_free(values, TRUE);
    return TRUE;
}

gboolean aigc_scene_poses_load(AigcScenePoses *poses, const char *path, const AigcOrbit *orbit,
                               int width, int height, GError **error)
{
    g_autofree char *text = NULL;
    gsize len;
    if (!g_file_get_contents(path, &text, &len, error))
        return FALSE;
    const char *p = text;
    while (g_ascii_isspace(*p))
        p++;
    if (*p != '{')
        return load_matrices(poses, path, text, orbit, width > 0 ? width : 200,
                             height > 0 ? height : 200, error);
    AigcTransformsOptions opt = aigc_transforms_default_options();
    opt.load_images = FALSE;
    g_autoptr(AigcTransforms) t = aigc_transforms_load(path, &opt, error);
    if (!t)
        return FALSE;
    if (t->n_frames == 0 || t->n_frames > AIGC_SCENE_MAX_VIEWS) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: %d frames; between 1 and %d poses can be rendered", path, t->n_frames,
                    AIGC_SCENE_MAX_VIEWS);
        return FALSE;
    }
    AigcPinhole cam = t->camera;
    if (width > 0 && height > 0) {
        double sx = (double)width / cam.width, sy = (double)height / cam.height;
        cam.width = width, cam.height = height;
        cam.fl_x *= sx, cam.cx *= sx, cam.fl_y *= sy, cam.cy *= sy;
    }
    poses_alloc(poses, t->n_frames);
    for (int i = 0; i < t->n_frames; i++) {
        memcpy(poses->c2w[i], t->frames[i].c2w, sizeof(double[16]));
        poses->cameras[i] = cam;
    }
    return TRUE;
}

/* ---- rendering ---- */

AigcSceneRenderParams *aigc_scene_render_params_new(AigcScene *scene)
{
    AigcSceneRenderParams *p = g_new0(AigcSceneRenderParams, 1);
    p->scene = aigc_scene_ref(scene);
    return p;
}

void aigc_scene_render_params_free(AigcSceneRenderParams *p)
{
    if (!p)
        return;
    aigc_scene_unref(p->scene);
    aigc_scene_poses_clear(&p->poses);
    g_free(p->output_dir);
    g_free(p);
}

void aigc_scene_render_result_free(AigcSceneRenderResult *r)
{
    if (!r)
        return;
    if (r->rgba)
        g_bytes_unref(r->rgba);
    g_free(r);
}

void aigc_scene_render_rgb(AigcScene *scene, const AigcPinhole *camera, const double c2w[16],
                           float *rgb, float *depth, float *opacity)
{
    if (scene->pe)
        aigc_nerf_pe_render(scene->pe, camera, c2w, scene->background, rgb, depth, opacity);
    else
        aigc_nerf_render(scene->nerf, camera, c2w, scene->background, rgb, depth, opacity);
}

double aigc_scene_eval_psnr(AigcScene *scene, const AigcTransforms *transforms, double *mse)
{
    return scene->pe ? aigc_nerf_pe_eval_psnr(scene->pe, transforms, mse)
                     : aigc_nerf_eval_psnr(scene->nerf, transforms, mse);
}

void aigc_scene_render_view(AigcScene *scene, const AigcPinhole *cam, const double c2w[16],
                            guint8 *rgba, float *depth)
{
    gint64 n = (gint64)cam->width * cam->height;
    float *rgb = g_new(float, 3 * n);
    aigc_scene_render_rgb(scene, cam, c2w, rgb, depth, NULL);
    for (gint64 i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++)
            rgba[4 * i + k] = (guint8)lrintf(CLAMP(rgb[3 * i + k], 0.0f, 1.0f) * 255.0f);
        rgba[4 * i + 3] = 255;
    }
    g_free(rgb);
}

/* Depth as an 8-bit image: the nearest opaque pixel 255, the farthest 32, nothing 0. */
static AigcImage *depth_image(const float *depth, const float *opacity, int w, int h)
{
    float lo = INFINITY, hi = -INFINITY;
    for (gint64 i = 0; i < (gint64)w * h; i++)
        if (opacity[i] > 0.5f && isfinite(depth[i])) {
            lo = MIN(lo, depth[i]);
            hi = MAX(hi, depth[i]);
        }
    AigcImage *img = aigc_image_new(w, h, 1);
    for (gint64 i = 0; i < (gint64)w * h; i++) {
        if (!(opacity[i] > 0.5f) || !isfinite(depth[i]) || !(hi >= lo))
            continue;
        float t = hi > lo ? (depth[i] - lo) / (hi - lo) : 0.0f;
        img->data[i] = (guint8)lrintf(255.0f - 223.0f * t);
    }
    return img;
}

static gboolean render(AigcJob *job, gpointer data, GError **error)
{
    AigcSceneRenderParams *p = data;
    AigcScenePoses *poses = &p->poses;
    if (poses->n < 1) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "no views to render");
        return FALSE;
    }
    for (int i = 0; i < poses->n; i++) {
        const AigcPinhole *c = &poses->cameras[i];
        if (c->width < 1 || c->height < 1 || c->width > AIGC_SCENE_MAX_SIDE ||
            c->height > AIGC_SCENE_MAX_SIDE) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "a view of %d×%d pixels; each side must be 1 to %d", c->width, c->height,
                        AIGC_SCENE_MAX_SIDE);
            return FALSE;
        }
    }
    if (p->output_dir && g_mkdir_with_parents(p->output_dir, 0755) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO, "%s: cannot make the folder: %s",
                    p->output_dir, g_strerror(errno));
        return FALSE;
    }
    AigcSceneRenderResult *result = g_new0(AigcSceneRenderResult, 1);
    aigc_job_set_result(job, result, (GDestroyNotify)aigc_scene_render_result_free);
    for (int i = 0; i < poses->n; i++) {
        if (aigc_job_is_cancelled(job))
            return FALSE;
        const AigcPinhole *cam = &poses->cameras[i];
        gint64 n = (gint64)cam->width * cam->height;
        g_autofree char *stage = g_strdup_printf("view %d/%d", i + 1, poses->n);
        aigc_job_report_progress(job, (double)i / poses->n, stage);
        guint8 *rgba = g_malloc(4 * n);
        g_autofree float *rgb = g_new(float, 3 * n);
        g_autofree float *depth = p->depth ? g_new(float, n) : NULL;
        g_autofree float *opacity = p->depth ? g_new(float, n) : NULL;
        gint64 t0 = g_get_monotonic_time();
        aigc_scene_render_rgb(p->scene, cam, poses->c2w[i], rgb, depth, opacity);
        result->seconds += (g_get_monotonic_time() - t0) / 1e6;
        for (gint64 k = 0; k < n; k++) {
            for (int c = 0; c < 3; c++)
                rgba[4 * k + c] = (guint8)lrintf(CLAMP(rgb[3 * k + c], 0.0f, 1.0f) * 255.0f);
            rgba[4 * k + 3] = 255;
        }
        GBytes *bytes = g_bytes_new_take(rgba, 4 * n);
        if (p->output_dir) {
            AigcImage img = {.width = cam->width, .height = cam->height, .channels = 4,
                             .data = (guint8 *)g_bytes_get_data(bytes, NULL)};
            g_autoptr(AigcImage) rgb8 = aigc_image_convert(&img, 3, NULL);
            g_autofree char *name = g_strdup_printf("view-%04d.png", i);
            g_autofree char *path = g_build_filename(p->output_dir, name, NULL);
            const char *keys[] = {"Software", NULL};
            const char *values[] = {"aigc-studio", NULL};
            gboolean ok = aigc_png_write(path, rgb8, keys, values, error);
            if (ok && p->depth) {
                g_autoptr(AigcImage) d = depth_image(depth, opacity, cam->width, cam->height);
                g_autofree char *dname = g_strdup_printf("depth-%04d.png", i);
                g_autofree char *dpath = g_build_filename(p->output_dir, dname, NULL);
                ok = aigc_png_write(dpath, d, keys, values, error);
            }
            if (!ok) {
                g_bytes_unref(bytes);
                return FALSE;
            }
        }
        if (p->preview) {
            AigcPreview *pv =
                aigc_preview_new(AIGC_PREVIEW_IMAGE_RGBA8, stage, g_bytes_ref(bytes));
            pv->width = cam->width;
            pv->height = cam->height;
            aigc_job_report_preview(job, pv);
        }
        if (result->rgba)
            g_bytes_unref(result->rgba);
        result->rgba = bytes;
        result->width = cam->width;
        result->height = cam->height;
        result->n_views = i + 1;
    }
    aigc_job_report_progress(job, 1.0, "done");
    return TRUE;
}

AigcJob *aigc_scene_render_job_new(AigcSceneRenderParams *params)
{
    return aigc_job_new("render scene", render, params,
                        (GDestroyNotify)aigc_scene_render_params_free);
}
