/* SPDX-License-Identifier: MIT */
#include "aigc-orbit.h"

#include "aigc-error.h"
#include "io/aigc-strict-json.h"

#include <math.h>
#include <string.h>

static double dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void cross3(const double a[3], const double b[3], double out[3])
{
    double c[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                   a[0] * b[1] - a[1] * b[0]};
    out[0] = c[0], out[1] = c[1], out[2] = c[2];
}

static gboolean normalize3(double v[3])
{
    double n = sqrt(dot3(v, v));
    if (!(n > 1e-12) || !isfinite(n))
        return FALSE;
    for (int i = 0; i < 3; i++)
        v[i] /= n;
    return TRUE;
}

/* Two unit vectors e1, e2 with (e1, e2, up) right-handed: e1 is the world axis least aligned
 * with up, made perpendicular to it, so the basis does not jump as up changes slightly. */
static void basis(const double up[3], double e1[3], double e2[3])
{
    int axis = 0;
    for (int a = 1; a < 3; a++)
        if (fabs(up[a]) < fabs(up[axis]))
            axis = a;
    double x[3] = {0, 0, 0};
    x[axis] = 1;
    double d = dot3(x, up);
    for (int i = 0; i < 3; i++)
        e1[i] = x[i] - d * up[i];
    normalize3(e1);
    cross3(up, e1, e2);
}

void aigc_orbit_from_transforms(const AigcTransforms *t, AigcOrbit *o)
{
    *o = (AigcOrbit){.up = {0, 0, 1}, .distance = 4.0, .fov_x = G_PI / 4};
    for (int a = 0; a < 3; a++)
        o->target[a] = 0.5 * ((double)t->aabb_min[a] + t->aabb_max[a]);
    if (t->camera.width > 0 && t->camera.fl_x > 0)
        o->fov_x = 2.0 * atan(0.5 * t->camera.width / t->camera.fl_x);
    if (t->n_frames == 0)
        return;
    double up[3] = {0, 0, 0};
    for (int f = 0; f < t->n_frames; f++)
        for (int a = 0; a < 3; a++)
            up[a] += t->frames[f].c2w[4 * a + 1]; /* the camera's +y in the world */
    if (normalize3(up))
        memcpy(o->up, up, sizeof up);
    double e1[3], e2[3], dist = 0, elev = 0;
    basis(o->up, e1, e2);
    for (int f = 0; f < t->n_frames; f++) {
        double v[3];
        for (int a = 0; a < 3; a++)
            v[a] = t->frames[f].c2w[4 * a + 3] - o->target[a];
        double r = sqrt(dot3(v, v));
        dist += r;
        if (r > 0)
            elev += asin(CLAMP(dot3(v, o->up) / r, -1.0, 1.0));
        if (f == 0)
            o->azimuth = atan2(dot3(v, e2), dot3(v, e1));
    }
    if (dist > 0)
        o->distance = dist / t->n_frames;
    o->elevation = CLAMP(elev / t->n_frames, -AIGC_ORBIT_MAX_ELEVATION, AIGC_ORBIT_MAX_ELEVATION);
}

void aigc_orbit_c2w(const AigcOrbit *o, double c2w[16])
{
    double e1[3], e2[3], pos[3], back[3], right[3], up[3];
    basis(o->up, e1, e2);
    double ce = cos(o->elevation), se = sin(o->elevation);
    double ca = cos(o->azimuth), sa = sin(o->azimuth);
    for (int a = 0; a < 3; a++) {
        back[a] = ce * (ca * e1[a] + sa * e2[a]) + se * o->up[a]; /* target → camera */
        pos[a] = o->target[a] + o->distance * back[a];
    }
    cross3(o->up, back, right);
    if (!normalize3(right)) /* looking straight along up: any right will do */
        memcpy(right, e1, sizeof right);
    cross3(back, right, up);
    for (int r = 0; r < 3; r++) {
        c2w[4 * r + 0] = right[r];
        c2w[4 * r + 1] = up[r];
        c2w[4 * r + 2] = back[r];
        c2w[4 * r + 3] = pos[r];
    }
    c2w[12] = c2w[13] = c2w[14] = 0;
    c2w[15] = 1;
}

AigcPinhole aigc_orbit_pinhole(const AigcOrbit *o, int width, int height)
{
    double f = 0.5 * width / tan(0.5 * o->fov_x);
    return (AigcPinhole){.width = width, .height = height, .fl_x = f, .fl_y = f,
                         .cx = 0.5 * width, .cy = 0.5 * height};
}

void aigc_orbit_rotate(AigcOrbit *o, double d_azimuth, double d_elevation)
{
    o->azimuth = remainder(o->azimuth + d_azimuth, 2 * G_PI);
    o->elevation = CLAMP(o->elevation + d_elevation, -AIGC_ORBIT_MAX_ELEVATION,
                         AIGC_ORBIT_MAX_ELEVATION);
}

void aigc_orbit_zoom(AigcOrbit *o, double factor, double base)
{
    if (!(factor > 0) || !isfinite(factor))
        return;
    o->distance = CLAMP(o->distance * factor, 0.05 * base, 100 * base);
}

char *aigc_orbit_to_json(const AigcOrbit *o)
{
    char b[12][G_ASCII_DTOSTR_BUF_SIZE];
    const double v[12] = {o->target[0], o->target[1], o->target[2], o->up[0],
                          o->up[1],     o->up[2],     o->distance,  o->azimuth,
                          o->elevation, o->fov_x,     0,            0};
    for (int i = 0; i < 10; i++)
        g_ascii_formatd(b[i], sizeof b[i], "%.9g", v[i]);
    return g_strdup_printf("{\"target\": [%s, %s, %s], \"up\": [%s, %s, %s], \"distance\": %s, "
                           "\"azimuth\": %s, \"elevation\": %s, \"fov_x\": %s}",
                           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]);
}

static gboolean get_number(const AigcJsonValue *root, const char *key, double lo, double hi,
                           double *out, GError **error)
{
    const AigcJsonValue *v = aigc_json_object_get(root, key);
    if (!v || v->type != AIGC_JSON_NUMBER || !isfinite(v->number) || v->number < lo ||
        v->number > hi) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "scene view: “%s” is missing or out of range", key);
        return FALSE;
    }
    *out = v->number;
    return TRUE;
}

static gboolean get_vec(const AigcJsonValue *root, const char *key, double out[3], GError **error)
{
    const AigcJsonValue *v = aigc_json_object_get(root, key);
    gboolean ok = v && v->type == AIGC_JSON_ARRAY && v->n_items == 3;
    for (int i = 0; ok && i < 3; i++) {
        ok = v->items[i]->type == AIGC_JSON_NUMBER && isfinite(v->items[i]->number) &&
             fabs(v->items[i]->number) < 1e6;
        if (ok)
            out[i] = v->items[i]->number;
    }
    if (!ok)
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "scene view: “%s” must be three finite numbers", key);
    return ok;
}

gboolean aigc_orbit_from_json(AigcOrbit *orbit, const char *json, GError **error)
{
    g_autoptr(AigcJsonDoc) doc = aigc_json_parse(json, strlen(json), error);
    if (!doc)
        return FALSE;
    const AigcJsonValue *root = aigc_json_doc_get_root(doc);
    if (root->type != AIGC_JSON_OBJECT) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "scene view: not a JSON object");
        return FALSE;
    }
    AigcOrbit o;
    if (!get_vec(root, "target", o.target, error) || !get_vec(root, "up", o.up, error) ||
        !get_number(root, "distance", 1e-6, 1e6, &o.distance, error) ||
        !get_number(root, "azimuth", -1e3, 1e3, &o.azimuth, error) ||
        !get_number(root, "elevation", -AIGC_ORBIT_MAX_ELEVATION, AIGC_ORBIT_MAX_ELEVATION,
                    &o.elevation, error) ||
        !get_number(root, "fov_x", 1e-3, G_PI - 1e-3, &o.fov_x, error))
        return FALSE;
    if (!normalize3(o.up)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "scene view: “up” is the zero vector");
        return FALSE;
    }
    *orbit = o;
    return TRUE;
}
