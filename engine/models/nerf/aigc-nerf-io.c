/* SPDX-License-Identifier: MIT
 *
 * NeRF scene files.
 *
 * DESIGN (file format): a safetensors file with metadata "family" = "nerf" and "nerf.config",
 * a JSON object {"grid": {"levels", "features", "log2_table", "base_res", "finest_res"},
 * "density_hidden", "colour_hidden", "occupancy_res", "n_steps", "max_samples_per_ray",
 * "aabb_min": [x, y, z], "aabb_max": [x, y, z]}, and the tensors "encoding.table"
 * (n_entries, F), "density.{0,1}.{weight,bias}", "colour.{0,1,2}.{weight,bias}" (nn.Linear
 * shapes) and "occupancy.density" (res³), all F32 except the table, which may be F16 (half the
 * file; the values are small and smooth). Loading computes the hash-grid layout from
 * the config and compares it with the file's table before anything is allocated, so a config
 * cannot ask for more memory than the file holds; every tensor must be present, shaped as the
 * config says and finite.
 */
#include "aigc-nerf.h"

#include "aigc-error.h"
#include "io/aigc-strict-json.h"

#include <math.h>
#include <string.h>

static char *config_to_json(const AigcNerf *nerf)
{
    const AigcNerfConfig *c = &nerf->config;
    const AigcHashgridConfig *g = &c->field.grid;
    return g_strdup_printf(
        "{\"grid\": {\"levels\": %d, \"features\": %d, \"log2_table\": %d, \"base_res\": %d, "
        "\"finest_res\": %d}, \"density_hidden\": %d, \"colour_hidden\": %d, "
        "\"occupancy_res\": %d, \"n_steps\": %d, \"max_samples_per_ray\": %d, "
        "\"aabb_min\": [%.9g, %.9g, %.9g], \"aabb_max\": [%.9g, %.9g, %.9g]}",
        g->n_levels, g->n_features, g->log2_table, g->base_res, g->finest_res,
        c->field.density_hidden, c->field.colour_hidden, c->occupancy_res, c->n_steps,
        c->max_samples_per_ray, nerf->aabb_min[0], nerf->aabb_min[1], nerf->aabb_min[2],
        nerf->aabb_max[0], nerf->aabb_max[1], nerf->aabb_max[2]);
}

static gboolean get_int(const AigcJsonValue *obj, const char *key, int *out, GError **error)
{
    return aigc_json_get_int(obj, "“nerf.config”", key, 0, G_MAXINT, out, error);
}

static gboolean get_vec3(const AigcJsonValue *obj, const char *key, float out[3], GError **error)
{
    return aigc_json_get_floats(obj, "“nerf.config”", key, 3, out, error);
}

static gboolean config_from_json(const char *json, AigcNerfConfig *c, float aabb_min[3],
                                 float aabb_max[3], GError **error)
{
    g_autoptr(GError) parse_error = NULL;
    g_autoptr(AigcJsonDoc) doc = aigc_json_parse(json, strlen(json), &parse_error);
    if (!doc) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "“nerf.config” is not valid JSON: %s", parse_error->message);
        return FALSE;
    }
    const AigcJsonValue *root = aigc_json_doc_get_root(doc);
    const AigcJsonValue *grid = aigc_json_object_get(root, "grid");
    if (root->type != AIGC_JSON_OBJECT || !grid || grid->type != AIGC_JSON_OBJECT) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "“nerf.config” is not an object with a “grid” object");
        return FALSE;
    }
    *c = aigc_nerf_default_config();
    AigcHashgridConfig *g = &c->field.grid;
    return get_int(grid, "levels", &g->n_levels, error) &&
           get_int(grid, "features", &g->n_features, error) &&
           get_int(grid, "log2_table", &g->log2_table, error) &&
           get_int(grid, "base_res", &g->base_res, error) &&
           get_int(grid, "finest_res", &g->finest_res, error) &&
           get_int(root, "density_hidden", &c->field.density_hidden, error) &&
           get_int(root, "colour_hidden", &c->field.colour_hidden, error) &&
           get_int(root, "occupancy_res", &c->occupancy_res, error) &&
           get_int(root, "n_steps", &c->n_steps, error) &&
           get_int(root, "max_samples_per_ray", &c->max_samples_per_ray, error) &&
           get_vec3(root, "aabb_min", aabb_min, error) &&
           get_vec3(root, "aabb_max", aabb_max, error);
}

gboolean aigc_nerf_save(AigcNerf *nerf, AigcSafetensorsWriter *writer, GError **error)
{
    return aigc_nerf_save_as(nerf, writer, AIGC_DTYPE_F32, error);
}

gboolean aigc_nerf_save_as(AigcNerf *nerf, AigcSafetensorsWriter *writer, AigcDtype table_dtype,
                           GError **error)
{
    g_autofree char *json = config_to_json(nerf);
    aigc_safetensors_writer_set_metadata(writer, "family", "nerf");
    aigc_safetensors_writer_set_metadata(writer, "nerf.config", json);
    gint64 shape[1] = {nerf->occupancy->n_cells};
    return aigc_params_save(nerf->field->grid_params, writer, NULL, table_dtype, error) &&
           aigc_params_save(nerf->field->mlp_params, writer, NULL, AIGC_DTYPE_F32, error) &&
           aigc_safetensors_writer_add_f32(writer, "occupancy.density", AIGC_DTYPE_F32, 1, shape,
                                           nerf->occupancy->density, error);
}

AigcNerf *aigc_nerf_load(AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *json = aigc_safetensors_get_metadata(st, "nerf.config");
    if (!json) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a NeRF scene (no “nerf.config” in its metadata)", label);
        return NULL;
    }
    AigcNerfConfig config;
    float lo[3], hi[3];
    GError *local = NULL;
    AigcHashgrid layout;
    if (!config_from_json(json, &config, lo, hi, &local) ||
        !aigc_hashgrid_init(&layout, &config.field.grid, &local)) {
        g_propagate_prefixed_error(error, local, "%s: ", label);
        return NULL;
    }
    const AigcSafetensorsTensor *table = aigc_safetensors_find(st, "encoding.table");
    if (!table || table->n_dims != 2 || table->shape[0] != layout.n_entries ||
        table->shape[1] != config.field.grid.n_features) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: “encoding.table” is missing or disagrees with the config", label);
        return NULL;
    }
    const AigcSafetensorsTensor *occ = aigc_safetensors_find(st, "occupancy.density");
    gint64 n_cells = (gint64)config.occupancy_res * config.occupancy_res * config.occupancy_res;
    if (!occ || occ->n_dims != 1 || occ->shape[0] != n_cells) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: “occupancy.density” is missing or disagrees with the config", label);
        return NULL;
    }
    g_autoptr(AigcNerf) nerf = aigc_nerf_new(&config, lo, hi, &local);
    if (!nerf) {
        g_propagate_prefixed_error(error, local, "%s: ", label);
        return NULL;
    }
    if (!aigc_params_load(nerf->field->grid_params, st, NULL, error) ||
        !aigc_params_load(nerf->field->mlp_params, st, NULL, error) ||
        !aigc_safetensors_read_f32(st, occ, nerf->occupancy->density, n_cells, error))
        return NULL;
    for (gint64 i = 0; i < n_cells; i++)
        if (!isfinite(nerf->occupancy->density[i]) || nerf->occupancy->density[i] < 0.0f) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "%s: “occupancy.density” holds a negative or non-finite value", label);
            return NULL;
        }
    aigc_occupancy_refresh_bits(nerf->occupancy, nerf->density_threshold);
    return g_steal_pointer(&nerf);
}
