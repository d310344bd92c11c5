/* SPDX-License-Identifier: MIT
 *
 * Positional-encoding NeRF files.
 *
 * DESIGN (file format): a safetensors file with metadata "family" = "nerf-pe" and
 * "nerf.config", a JSON object {"model": "pe", "depth", "width", "skip", "colour_width",
 * "pos_freqs", "dir_freqs", "density": "softplus"|"relu", "n_coarse", "n_fine",
 * "aabb_min": [x, y, z], "aabb_max": [x, y, z]} (every key required), and the F32 tensors
 * "density.{i}.{weight,bias}" (i < depth), "density.out.{weight,bias}" and
 * "colour.{0,1}.{weight,bias}" in nn.Linear shapes (aigc-nerf-pe.h). The config is checked
 * (ranges as aigc_nerf_pe_new) before anything is allocated — the largest config is a few
 * megabytes — and every tensor must be present, shaped as the config says and finite.
 */
#include "aigc-nerf-pe.h"

#include "aigc-error.h"
#include "io/aigc-strict-json.h"

#include <math.h>
#include <string.h>

static char *config_to_json(const AigcNerfPe *pe)
{
    const AigcNerfPeConfig *c = &pe->config;
    return g_strdup_printf(
        "{\"model\": \"pe\", \"depth\": %d, \"width\": %d, \"skip\": %d, \"colour_width\": %d, "
        "\"pos_freqs\": %d, \"dir_freqs\": %d, \"density\": \"%s\", \"n_coarse\": %d, "
        "\"n_fine\": %d, \"aabb_min\": [%.9g, %.9g, %.9g], \"aabb_max\": [%.9g, %.9g, %.9g]}",
        c->depth, c->width, c->skip, c->colour_width, c->pos_freqs, c->dir_freqs,
        c->density == AIGC_NERF_PE_RELU ? "relu" : "softplus", c->n_coarse, c->n_fine,
        pe->aabb_min[0], pe->aabb_min[1], pe->aabb_min[2], pe->aabb_max[0], pe->aabb_max[1],
        pe->aabb_max[2]);
}

/* A whole number ≥ 0 (≥ −1 for "skip", where −1 is none); ranges are checked by
 * aigc_nerf_pe_new. */
static gboolean get_int(const AigcJsonValue *obj, const char *key, int *out, GError **error)
{
    return aigc_json_get_int(obj, "“nerf.config”", key, strcmp(key, "skip") == 0 ? -1 : 0,
                             1 << 20, out, error);
}

static gboolean get_vec3(const AigcJsonValue *obj, const char *key, float out[3], GError **error)
{
    return aigc_json_get_floats(obj, "“nerf.config”", key, 3, out, error);
}

static gboolean config_from_json(const char *json, AigcNerfPeConfig *c, float lo[3], float hi[3],
                                 GError **error)
{
    g_autoptr(GError) parse_error = NULL;
    g_autoptr(AigcJsonDoc) doc = aigc_json_parse(json, strlen(json), &parse_error);
    if (!doc) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "“nerf.config” is not valid JSON: %s", parse_error->message);
        return FALSE;
    }
    const AigcJsonValue *root = aigc_json_doc_get_root(doc);
    const AigcJsonValue *model = aigc_json_object_get(root, "model");
    if (root->type != AIGC_JSON_OBJECT || !model || model->type != AIGC_JSON_STRING ||
        strcmp(model->string, "pe") != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "“nerf.config” does not describe a positional-encoding field (no “model”: "
                    "“pe”)");
        return FALSE;
    }
    const AigcJsonValue *density = aigc_json_object_get(root, "density");
    if (!density || density->type != AIGC_JSON_STRING ||
        (strcmp(density->string, "softplus") != 0 && strcmp(density->string, "relu") != 0)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "“nerf.config”: “density” must be “softplus” or “relu”");
        return FALSE;
    }
    c->density = strcmp(density->string, "relu") == 0 ? AIGC_NERF_PE_RELU : AIGC_NERF_PE_SOFTPLUS;
    return get_int(root, "depth", &c->depth, error) && get_int(root, "width", &c->width, error) &&
           get_int(root, "skip", &c->skip, error) &&
           get_int(root, "colour_width", &c->colour_width, error) &&
           get_int(root, "pos_freqs", &c->pos_freqs, error) &&
           get_int(root, "dir_freqs", &c->dir_freqs, error) &&
           get_int(root, "n_coarse", &c->n_coarse, error) &&
           get_int(root, "n_fine", &c->n_fine, error) && get_vec3(root, "aabb_min", lo, error) &&
           get_vec3(root, "aabb_max", hi, error);
}

gboolean aigc_nerf_pe_save(AigcNerfPe *pe, AigcSafetensorsWriter *writer, GError **error)
{
    g_autofree char *json = config_to_json(pe);
    aigc_safetensors_writer_set_metadata(writer, "family", "nerf-pe");
    aigc_safetensors_writer_set_metadata(writer, "nerf.config", json);
    return aigc_params_save(pe->params, writer, NULL, AIGC_DTYPE_F32, error);
}

AigcNerfPe *aigc_nerf_pe_load(AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *json = aigc_safetensors_get_metadata(st, "nerf.config");
    if (!json) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a NeRF scene (no “nerf.config” in its metadata)", label);
        return NULL;
    }
    AigcNerfPeConfig config;
    float lo[3], hi[3];
    GError *local = NULL;
    if (!config_from_json(json, &config, lo, hi, &local)) {
        g_propagate_prefixed_error(error, local, "%s: ", label);
        return NULL;
    }
    g_autoptr(AigcNerfPe) pe = aigc_nerf_pe_new(&config, lo, hi, &local);
    if (!pe) {
        g_propagate_prefixed_error(error, local, "%s: ", label);
        return NULL;
    }
    if (!aigc_params_load(pe->params, st, NULL, error))
        return NULL;
    return g_steal_pointer(&pe);
}
