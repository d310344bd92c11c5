/* SPDX-License-Identifier: MIT
 *
 * Class names of class-conditional image models (see aigc-class-names.h).
 */
#include "models/aigc-class-names.h"

#include "aigc-error.h"

#include <json-glib/json-glib.h>
#include <string.h>

char **aigc_class_names_new_numbered(int n)
{
    char **names = g_new0(char *, MAX(n, 0) + 1);
    for (int k = 0; k < n; k++)
        names[k] = g_strdup_printf("%d", k);
    return names;
}

char *aigc_class_names_to_json(const char *const *names, int n)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (int k = 0; k < n; k++)
        json_builder_add_string_value(b, names[k]);
    json_builder_end_array(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

char **aigc_class_names_from_json(const char *json, int n, const char *key, const char *label,
                                  GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root = NULL;
    if (json_parser_load_from_data(parser, json, -1, NULL))
        root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_ARRAY(root) ||
        json_array_get_length(json_node_get_array(root)) != (guint)n) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: “%s” is not a JSON array of %d class names", label, key, n);
        return NULL;
    }
    JsonArray *arr = json_node_get_array(root);
    char **names = g_new0(char *, n + 1);
    for (int k = 0; k < n; k++) {
        JsonNode *e = json_array_get_element(arr, k);
        const char *s = JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING
                            ? json_node_get_string(e)
                            : NULL;
        gboolean dup = FALSE;
        for (int j = 0; s && j < k; j++)
            dup = dup || g_ascii_strcasecmp(names[j], s) == 0;
        if (!s || !*s || dup || !g_utf8_validate(s, -1, NULL)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "%s: class name %d in “%s” is missing, empty or repeated", label, k, key);
            g_strfreev(names);
            return NULL;
        }
        names[k] = g_strdup(s);
    }
    return names;
}

int aigc_class_names_find(const char *const *names, int n, const char *name, GError **error)
{
    if (n == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND,
                    "the model is unconditional: it has no class “%s”", name);
        return -1;
    }
    for (int k = 0; k < n; k++)
        if (g_ascii_strcasecmp(names[k], name) == 0)
            return k;
    char *end = NULL;
    gint64 v = g_ascii_strtoll(name, &end, 10);
    if (end != name && !*end && v >= 0 && v < n)
        return (int)v;
    g_autofree char *known = g_strjoinv(", ", (char **)names);
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND,
                "unknown class “%s” (the model knows: %s)", name, known);
    return -1;
}

AigcTensor *aigc_class_one_hot(AigcCtx *ctx, const gint32 *classes, int N, int K)
{
    AigcTensor *t = aigc_tensor_zeros(ctx, 2, (gint64[]){N, K});
    for (int i = 0; i < N; i++) {
        g_return_val_if_fail(classes[i] >= 0 && classes[i] < K, t);
        t->data[(gint64)i * K + classes[i]] = 1.0f;
    }
    return t;
}
