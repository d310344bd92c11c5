/* SPDX-License-Identifier: MIT
 *
 * Reading the emoji image set (format in the header).
 */
#include "aigc-emoji.h"

#include "aigc-config.h"
#include "aigc-error.h"
#include "io/aigc-safetensors.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define MAX_EMOJI 100000
#define MAX_SIDE  256

static gboolean fail(GError **error, const char *path, const char *fault)
{
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", path, fault);
    return FALSE;
}

/* (nullable) The root array of a JSON text. */
static JsonArray *parse_array(JsonParser *parser, const char *text)
{
    if (!text || !json_parser_load_from_data(parser, text, -1, NULL))
        return NULL;
    JsonNode *root = json_parser_get_root(parser);
    return root && JSON_NODE_HOLDS_ARRAY(root) ? json_node_get_array(root) : NULL;
}

static char *string_member(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return g_strdup(json_node_get_string(n));
}

static gboolean read_categories(AigcEmojiSet *set, AigcSafetensors *st, const char *path,
                                GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonArray *a = parse_array(parser, aigc_safetensors_get_metadata(st, "categories"));
    if (!a || json_array_get_length(a) < 1 || json_array_get_length(a) > 255)
        return fail(error, path, "“categories” is missing or not a list of 1 … 255 names");
    set->n_categories = (int)json_array_get_length(a);
    set->categories = g_new0(char *, set->n_categories + 1);
    for (int i = 0; i < set->n_categories; i++) {
        JsonNode *n = json_array_get_element(a, i);
        if (json_node_get_value_type(n) != G_TYPE_STRING)
            return fail(error, path, "a category name is not a string");
        set->categories[i] = g_strdup(json_node_get_string(n));
    }
    return TRUE;
}

static gboolean read_emoji(AigcEmojiSet *set, AigcSafetensors *st, const guint8 *category,
                           const char *path, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonArray *a = parse_array(parser, aigc_safetensors_get_metadata(st, "emoji"));
    if (!a || (int)json_array_get_length(a) != set->n)
        return fail(error, path, "“emoji” is missing or does not list one entry per image");
    set->emoji = g_new0(AigcEmojiInfo, set->n);
    for (int i = 0; i < set->n; i++) {
        JsonNode *n = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            return fail(error, path, "an “emoji” entry is not an object");
        JsonObject *o = json_node_get_object(n);
        AigcEmojiInfo *e = &set->emoji[i];
        e->name = string_member(o, "name");
        e->short_name = string_member(o, "short_name");
        e->category = string_member(o, "category");
        e->subcategory = string_member(o, "subcategory");
        e->unified = string_member(o, "unified");
        if (!e->name || !e->short_name || !e->category || !e->subcategory || !e->unified) {
            g_autofree char *fault =
                g_strdup_printf("emoji %d lacks a name, short_name, category, subcategory or "
                                "unified string", i);
            return fail(error, path, fault);
        }
        e->category_index = category[i];
        if (e->category_index >= set->n_categories ||
            strcmp(set->categories[e->category_index], e->category) != 0) {
            g_autofree char *fault = g_strdup_printf(
                "emoji %d (“%s”): its category index and name disagree", i, e->name);
            return fail(error, path, fault);
        }
    }
    return TRUE;
}

AigcEmojiSet *aigc_emoji_set_load(const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return NULL;
    const char *format = aigc_safetensors_get_metadata(st, "format");
    if (g_strcmp0(format, AIGC_EMOJI_FORMAT) != 0) {
        fail(error, path, "not an emoji image set (metadata “format” is not “" AIGC_EMOJI_FORMAT
                          "”)");
        return NULL;
    }
    const AigcSafetensorsTensor *images = aigc_safetensors_find(st, "images");
    const AigcSafetensorsTensor *category = aigc_safetensors_find(st, "category");
    if (!images || images->dtype != AIGC_DTYPE_U8 || images->n_dims != 4 ||
        images->shape[0] < 1 || images->shape[0] > MAX_EMOJI || images->shape[1] < 1 ||
        images->shape[1] > MAX_SIDE || images->shape[2] != images->shape[1] ||
        images->shape[3] != 3) {
        fail(error, path, "“images” is missing or not U8 [N, S, S, 3]");
        return NULL;
    }
    if (!category || category->dtype != AIGC_DTYPE_U8 || category->n_dims != 1 ||
        category->shape[0] != images->shape[0]) {
        fail(error, path, "“category” is missing or not U8 [N]");
        return NULL;
    }
    AigcEmojiSet *set = g_new0(AigcEmojiSet, 1);
    set->n = (int)images->shape[0];
    set->size = (int)images->shape[1];
    if (!read_categories(set, st, path, error) || !read_emoji(set, st, category->data, path,
                                                                  error)) {
        aigc_emoji_set_free(set);
        return NULL;
    }
    set->pixels = g_memdup2(images->data, images->n_bytes);
    return set;
}

void aigc_emoji_set_free(AigcEmojiSet *set)
{
    if (!set)
        return;
    for (int i = 0; set->emoji && i < set->n; i++) {
        AigcEmojiInfo *e = &set->emoji[i];
        g_free(e->name);
        g_free(e->short_name);
        g_free(e->category);
        g_free(e->subcategory);
        g_free(e->unified);
    }
    g_free(set->emoji);
    g_strfreev(set->categories);
    g_free(set->pixels);
    g_free(set);
}

char *aigc_emoji_default_path(void)
{
    const char *dir = g_getenv("AIGC_EMOJI_DIR");
    if (dir && *dir)
        return g_build_filename(dir, AIGC_EMOJI_FILE, NULL);
    return g_build_filename(AIGC_SOURCE_DIR, "data", "cache", "image", "emoji", AIGC_EMOJI_FILE,
                            NULL);
}

void aigc_emoji_set_get_floats(const AigcEmojiSet *set, int i, float lo, float hi, float *out)
{
    g_return_if_fail(set && i >= 0 && i < set->n && out);
    const gsize S2 = (gsize)set->size * set->size;
    const guint8 *px = set->pixels + (gsize)i * S2 * 3;
    const float scale = (hi - lo) / 255.0f;
    for (int c = 0; c < 3; c++)
        for (gsize k = 0; k < S2; k++)
            out[c * S2 + k] = px[k * 3 + c] * scale + lo;
}

int aigc_emoji_set_find(const AigcEmojiSet *set, const char *name)
{
    for (int i = 0; i < set->n; i++)
        if (g_ascii_strcasecmp(set->emoji[i].name, name) == 0 ||
            g_ascii_strcasecmp(set->emoji[i].short_name, name) == 0)
            return i;
    return -1;
}
