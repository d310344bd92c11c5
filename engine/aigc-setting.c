/* SPDX-License-Identifier: MIT
 *
 * "key=value" settings (see aigc-setting.h).
 */
#include "aigc-setting.h"

#include "aigc-error.h"

#include <json-glib/json-glib.h>
#include <string.h>

gboolean aigc_setting_parse_int(const char *key, const char *value, gint64 lo, gint64 hi,
                                gint64 *out, GError **error)
{
    char *end = NULL;
    gint64 v = g_ascii_strtoll(value, &end, 10);
    if (end == value || *end || v < lo || v > hi) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s must be an integer %" G_GINT64_FORMAT " … %" G_GINT64_FORMAT ", not “%s”",
                    key, lo, hi, value);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

gboolean aigc_setting_parse_float(const char *key, const char *value, double lo, double hi,
                                  float *out, GError **error)
{
    char *end = NULL;
    double v = g_ascii_strtod(value, &end);
    if (end == value || *end || !(v >= lo && v <= hi)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s must be a number %g … %g, not “%s”", key, lo, hi, value);
        return FALSE;
    }
    *out = (float)v;
    return TRUE;
}

gboolean aigc_setting_set_field(gpointer base, const AigcSettingField *fields, guint n_fields,
                                const char *key, const char *value, gboolean *found, GError **error)
{
    *found = FALSE;
    for (guint i = 0; i < n_fields; i++) {
        const AigcSettingField *f = &fields[i];
        if (strcmp(f->key, key) != 0)
            continue;
        *found = TRUE;
        gpointer field = G_STRUCT_MEMBER_P(base, f->offset);
        gint64 v;
        if (f->kind == AIGC_SETTING_FLOAT)
            return aigc_setting_parse_float(key, value, f->lo, f->hi, field, error);
        if (!aigc_setting_parse_int(key, value, (gint64)f->lo, (gint64)f->hi, &v, error))
            return FALSE;
        switch (f->kind) {
        case AIGC_SETTING_INT:
            *(int *)field = (int)v;
            break;
        case AIGC_SETTING_INT64:
            *(gint64 *)field = v;
            break;
        case AIGC_SETTING_SEED:
            *(guint64 *)field = (guint64)v;
            break;
        case AIGC_SETTING_BOOL:
            *(gboolean *)field = v != 0;
            break;
        case AIGC_SETTING_FLOAT:
            g_assert_not_reached();
        }
        return TRUE;
    }
    return TRUE;
}

gboolean aigc_setting_ints_from_json(gpointer base, const AigcSettingField *fields, guint n_fields,
                                     const char *what, const char *json, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root = NULL;
    if (json_parser_load_from_data(parser, json, -1, NULL))
        root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s is not a JSON object",
                    what);
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    for (guint i = 0; i < n_fields; i++) {
        if (fields[i].kind != AIGC_SETTING_INT)
            continue;
        JsonNode *n = json_object_get_member(o, fields[i].key);
        if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "%s: “%s” is missing or not an integer", what, fields[i].key);
            return FALSE;
        }
        gint64 v = json_node_get_int(n);
        *(int *)G_STRUCT_MEMBER_P(base, fields[i].offset) = v < 0 || v > G_MAXINT ? -1 : (int)v;
    }
    return TRUE;
}
