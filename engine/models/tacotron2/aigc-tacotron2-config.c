/* SPDX-License-Identifier: MIT
 *
 * Tacotron 2's config: defaults, ranges, "key=value" settings and JSON, all from one table of
 * fields so the four never disagree.
 */
#include "aigc-tacotron2.h"

#include "aigc-error.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* ---- config ---- */

typedef struct {
    const char *name;
    gboolean is_float;
    gsize offset;
    double lo, hi;
} Field;

#define FI(n, lo, hi)                                                                              \
    {                                                                                              \
#n, FALSE, G_STRUCT_OFFSET(AigcTacotron2Config, n), lo, hi                                 \
    }
#define FF(n, lo, hi)                                                                              \
    {                                                                                              \
#n, TRUE, G_STRUCT_OFFSET(AigcTacotron2Config, n), lo, hi                                  \
    }
static const Field fields[] = {
    FI(n_symbols, 4, AIGC_PHONEME_VOCAB_MAX_SYMBOLS),
    FI(embed_dim, 1, 4096),
    FI(encoder_dim, 2, 4096),
    FI(encoder_n_convs, 0, 8),
    FI(encoder_kernel, 1, 31),
    FI(n_mels, 1, 256),
    FI(r, 1, 8),
    FI(prenet_dim, 1, 4096),
    FI(attention_rnn_dim, 1, 4096),
    FI(decoder_rnn_dim, 1, 4096),
    FI(attention_dim, 1, 1024),
    FI(location_filters, 1, 256),
    FI(location_kernel, 1, 127),
    FI(postnet_dim, 1, 4096),
    FI(postnet_n_convs, 1, 16),
    FI(postnet_kernel, 1, 31),
    FF(p_prenet, 0, 0.9),
    FF(p_encoder, 0, 0.9),
    FF(p_attention, 0, 0.9),
    FF(p_decoder, 0, 0.9),
    FF(p_postnet, 0, 0.9),
};

static double field_get(const AigcTacotron2Config *c, const Field *f)
{
    const char *base = (const char *)c + f->offset;
    return f->is_float ? *(const float *)base : *(const int *)base;
}

static void field_set(AigcTacotron2Config *c, const Field *f, double v)
{
    char *base = (char *)c + f->offset;
    if (f->is_float)
        *(float *)base = (float)v;
    else
        *(int *)base = (int)v;
}

AigcTacotron2Config aigc_tacotron2_default_config(void)
{
    return (AigcTacotron2Config){
        .n_symbols = 80,
        .embed_dim = 256,
        .encoder_dim = 256,
        .encoder_n_convs = 3,
        .encoder_kernel = 5,
        .n_mels = 80,
        .r = 3,
        .prenet_dim = 256,
        .attention_rnn_dim = 512,
        .decoder_rnn_dim = 512,
        .attention_dim = 128,
        .location_filters = 32,
        .location_kernel = 31,
        .postnet_dim = 256,
        .postnet_n_convs = 5,
        .postnet_kernel = 5,
        .p_prenet = 0.5f,
        .p_encoder = 0.5f,
        .p_attention = 0.1f,
        .p_decoder = 0.1f,
        .p_postnet = 0.5f,
    };
}

gboolean aigc_tacotron2_config_validate(const AigcTacotron2Config *c, GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        double v = field_get(c, &fields[i]);
        if (!(v >= fields[i].lo && v <= fields[i].hi)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "Tacotron 2 config: %s must be %g … %g, not %g", fields[i].name,
                        fields[i].lo, fields[i].hi, v);
            return FALSE;
        }
    }
    const char *fault = NULL;
    if (c->encoder_dim % 2)
        fault = "encoder_dim must be even (two LSTM directions of half the width)";
    else if (c->encoder_kernel % 2 == 0 || c->postnet_kernel % 2 == 0 ||
             c->location_kernel % 2 == 0)
        fault = "kernel sizes must be odd";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "Tacotron 2 config: %s",
                    fault);
        return FALSE;
    }
    return TRUE;
}

gboolean aigc_tacotron2_config_set(AigcTacotron2Config *c, const char *key, const char *value,
                                   GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        if (strcmp(key, fields[i].name) != 0)
            continue;
        char *end = NULL;
        double v = fields[i].is_float ? g_ascii_strtod(value, &end)
                                      : (double)g_ascii_strtoll(value, &end, 10);
        if (end == value || *end || !(v >= fields[i].lo && v <= fields[i].hi)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "Tacotron 2 setting %s must be %s %g … %g, not “%s”", key,
                        fields[i].is_float ? "a number" : "an integer", fields[i].lo, fields[i].hi,
                        value);
            return FALSE;
        }
        field_set(c, &fields[i], v);
        return TRUE;
    }
    GString *names = g_string_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++)
        g_string_append_printf(names, "%s%s", i ? ", " : "", fields[i].name);
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                "unknown Tacotron 2 setting “%s” (%s)", key, names->str);
    g_string_free(names, TRUE);
    return FALSE;
}

char *aigc_tacotron2_config_to_json(const AigcTacotron2Config *c)
{
    GString *s = g_string_new("{");
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        char num[G_ASCII_DTOSTR_BUF_SIZE];
        double v = field_get(c, &fields[i]);
        if (fields[i].is_float)
            g_ascii_formatd(num, sizeof num, "%.6g", v);
        else
            g_snprintf(num, sizeof num, "%d", (int)v);
        g_string_append_printf(s, "%s\"%s\": %s", i ? ", " : "", fields[i].name, num);
    }
    g_string_append_c(s, '}');
    return g_string_free(s, FALSE);
}

gboolean aigc_tacotron2_config_from_json(AigcTacotron2Config *c, const char *json, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    GError *parse_error = NULL;
    if (!json_parser_load_from_data(parser, json, -1, &parse_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "Tacotron 2 config is not JSON: %s", parse_error->message);
        g_error_free(parse_error);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "Tacotron 2 config is not a JSON object");
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    *c = aigc_tacotron2_default_config();
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        JsonNode *n = json_object_get_member(o, fields[i].name);
        GType type = n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
        gboolean ok = type == G_TYPE_INT64 || (fields[i].is_float && type == G_TYPE_DOUBLE);
        if (!ok) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "Tacotron 2 config: “%s” is missing or not a%s", fields[i].name,
                        fields[i].is_float ? " number" : "n integer");
            return FALSE;
        }
        double v = type == G_TYPE_INT64 ? (double)json_node_get_int(n) : json_node_get_double(n);
        /* Out-of-range integers become a value validate() refuses, not a wrapped one. */
        field_set(c, &fields[i], fields[i].is_float || fabs(v) < 1e9 ? v : -1);
    }
    if (!aigc_tacotron2_config_validate(c, error)) {
        g_prefix_error(error, "in the file: ");
        return FALSE;
    }
    return TRUE;
}
