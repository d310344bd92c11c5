/* SPDX-License-Identifier: MIT
 *
 * The diffusion UNet: config, parameters, forward on the tape, noise schedule, files.
 * Legend: N batch, C channels of a feature map, S side, E embedding width, L levels,
 * W_l = ch·ch_mult[l] the width of level l.
 */
#include "aigc-diffusion.h"

#include "aigc-error.h"
#include "nn/aigc-nn.h"
#include "aigc-diffusion-ops.h"
#include "aigc-winograd.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define NORM_EPS 1e-5f

typedef struct {
    AigcTensor *norm1_w, *norm1_b; /* (Cin) */
    AigcTensor *conv1_w, *conv1_b; /* (Cout, Cin, 3, 3), (Cout) */
    AigcTensor *temb_w, *temb_b;   /* (Cout, E), (Cout) */
    AigcTensor *norm2_w, *norm2_b; /* (Cout) */
    AigcTensor *conv2_w, *conv2_b; /* (Cout, Cout, 3, 3), (Cout) */
    AigcTensor *skip_w, *skip_b;   /* (nullable) (Cout, Cin, 1, 1), (Cout): when Cin ≠ Cout */
} ResBlock;

typedef struct {
    AigcTensor *norm_w, *norm_b; /* (C) */
    AigcTensor *qkv_w, *qkv_b;   /* (3C, C, 1, 1), (3C) */
    AigcTensor *proj_w, *proj_b; /* (C, C, 1, 1), (C) */
} AttnBlock;

typedef struct {
    ResBlock *res;   /* (n_res_blocks) */
    AttnBlock *attn; /* (nullable) (n_res_blocks): at the lowest level when n_heads > 0 */
    AigcTensor *resample_w, *resample_b; /* (nullable) down: (W_l, W_l, 3, 3) stride 2; up:
                                          * (W_{l−1}, W_l, 3, 3) after nearest ×2 */
} Level;

struct _AigcDiffusion {
    AigcDiffusionConfig config;
    AigcParams *params;
    AigcTensor *time1_w, *time1_b;     /* (E, ch), (E) */
    AigcTensor *time2_w, *time2_b;     /* (E, E), (E) */
    AigcTensor *class_embed;           /* (nullable) (n_classes + 1, E) */
    AigcTensor *conv_in_w, *conv_in_b; /* (ch, channels, 3, 3), (ch) */
    Level down[AIGC_DIFFUSION_MAX_LEVELS], up[AIGC_DIFFUSION_MAX_LEVELS];
    ResBlock mid_res[2];
    AttnBlock mid_attn;                  /* zeroed when n_heads = 0 */
    AigcTensor *norm_out_w, *norm_out_b; /* (W_0) */
    AigcTensor *conv_out_w, *conv_out_b; /* (channels, W_0, 3, 3), (channels) */
    double *alphas_cumprod;              /* (n_timesteps) */
    char **class_names;                  /* (n_classes) */
};

/* ---- config ---- */

AigcDiffusionConfig aigc_diffusion_default_config(void)
{
    return (AigcDiffusionConfig){
        .image_size = 28,
        .channels = 1,
        .ch = 32,
        .n_levels = 3,
        .ch_mult = {1, 2, 4},
        .n_res_blocks = 1,
        .n_heads = 4,
        .norm_groups = 8,
        .dropout = 0.1f,
        .n_classes = 10,
        .schedule = AIGC_BETA_COSINE,
        .n_timesteps = 1000,
    };
}

const char *aigc_beta_schedule_name(AigcBetaSchedule schedule)
{
    return schedule == AIGC_BETA_LINEAR ? "linear" : "cosine";
}

static int width(const AigcDiffusionConfig *c, int level)
{
    return c->ch * c->ch_mult[level];
}

gboolean aigc_diffusion_config_validate(const AigcDiffusionConfig *c, GError **error)
{
    g_autofree char *fault = NULL;
    if (c->n_levels < 1 || c->n_levels > AIGC_DIFFUSION_MAX_LEVELS)
        fault = g_strdup_printf("n_levels (the length of ch_mult) must be 1 … %d",
                                AIGC_DIFFUSION_MAX_LEVELS);
    else if (c->image_size < 2 || c->image_size > 256 ||
             c->image_size % (1 << (c->n_levels - 1)) != 0)
        fault = g_strdup_printf("image_size must be 2 … 256 and divisible by %d (2 per level "
                                "below the first)",
                                1 << (c->n_levels - 1));
    else if (c->channels < 1 || c->channels > 4)
        fault = g_strdup("channels must be 1 … 4");
    else if (c->ch < 1 || c->ch > 1024)
        fault = g_strdup("ch must be 1 … 1024");
    else if (c->n_res_blocks < 1 || c->n_res_blocks > 8)
        fault = g_strdup("n_res_blocks must be 1 … 8");
    else if (c->norm_groups < 1 || c->ch % c->norm_groups != 0)
        fault = g_strdup("norm_groups must divide ch");
    else if (!(c->dropout >= 0 && c->dropout < 1))
        fault = g_strdup("dropout must be in [0, 1)");
    else if (c->n_classes < 0 || c->n_classes > 100000)
        fault = g_strdup("n_classes must be 0 … 100000");
    else if (c->text_len < 0 || c->text_len > AIGC_DIFFUSION_MAX_TEXT_LEN)
        fault = g_strdup_printf("text_len must be 0 … %d", AIGC_DIFFUSION_MAX_TEXT_LEN);
    else if (c->text_len > 0 && c->n_classes == 0)
        fault = g_strdup("a text model needs its vocabulary: n_classes words");
    else if (c->schedule != AIGC_BETA_COSINE && c->schedule != AIGC_BETA_LINEAR)
        fault = g_strdup("schedule must be cosine or linear");
    else if (c->n_timesteps < 10 || c->n_timesteps > 10000)
        fault = g_strdup("n_timesteps must be 10 … 10000");
    for (int l = 0; !fault && l < c->n_levels; l++) {
        if (c->ch_mult[l] < 1 || c->ch_mult[l] > 16 || width(c, l) > 4096)
            fault = g_strdup("each ch_mult must be 1 … 16 (and ch·ch_mult ≤ 4096)");
        else if (width(c, l) % c->norm_groups != 0)
            fault = g_strdup_printf("norm_groups (%d) must divide every width (level %d has %d)",
                                    c->norm_groups, l, width(c, l));
    }
    if (!fault && (c->n_heads < 0 || c->n_heads > 64 ||
                   (c->n_heads > 0 && width(c, c->n_levels - 1) % c->n_heads != 0)))
        fault = g_strdup_printf("n_heads must be 0 … 64 and divide the lowest width (%d)",
                                width(c, c->n_levels - 1));
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "diffusion config: %s",
                    fault);
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_ch_mult(AigcDiffusionConfig *c, const char *value)
{
    g_auto(GStrv) parts = g_strsplit(value, ",", -1);
    int n = (int)g_strv_length(parts);
    if (n < 1 || n > AIGC_DIFFUSION_MAX_LEVELS)
        return FALSE;
    int mult[AIGC_DIFFUSION_MAX_LEVELS];
    for (int i = 0; i < n; i++) {
        char *end = NULL;
        gint64 v = g_ascii_strtoll(g_strstrip(parts[i]), &end, 10);
        if (end == parts[i] || *end || v < 1 || v > 16)
            return FALSE;
        mult[i] = (int)v;
    }
    c->n_levels = n;
    for (int i = 0; i < AIGC_DIFFUSION_MAX_LEVELS; i++)
        c->ch_mult[i] = i < n ? mult[i] : 0;
    return TRUE;
}

gboolean aigc_diffusion_config_set(AigcDiffusionConfig *c, const char *key, const char *value,
                                   GError **error)
{
    struct {
        const char *name;
        int *i;
    } ints[] = {
        {"image_size", &c->image_size},
        {"channels", &c->channels},
        {"ch", &c->ch},
        {"n_res_blocks", &c->n_res_blocks},
        {"n_heads", &c->n_heads},
        {"norm_groups", &c->norm_groups},
        {"n_classes", &c->n_classes},
        {"text_len", &c->text_len},
        {"n_timesteps", &c->n_timesteps},
    };
    char *end = NULL;
    if (strcmp(key, "dropout") == 0) {
        double v = g_ascii_strtod(value, &end);
        if (end == value || *end || !(v >= 0 && v < 1)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "diffusion setting dropout: “%s” is not a number in [0, 1)", value);
            return FALSE;
        }
        c->dropout = (float)v;
        return TRUE;
    }
    if (strcmp(key, "schedule") == 0) {
        if (g_ascii_strcasecmp(value, "cosine") == 0)
            c->schedule = AIGC_BETA_COSINE;
        else if (g_ascii_strcasecmp(value, "linear") == 0)
            c->schedule = AIGC_BETA_LINEAR;
        else {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "diffusion setting schedule: “%s” is neither cosine nor linear", value);
            return FALSE;
        }
        return TRUE;
    }
    if (strcmp(key, "ch_mult") == 0) {
        if (!parse_ch_mult(c, value)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "diffusion setting ch_mult: “%s” is not 1 … %d comma-separated "
                        "multipliers 1 … 16 (e.g. 1,2,4)",
                        value, AIGC_DIFFUSION_MAX_LEVELS);
            return FALSE;
        }
        return TRUE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(ints); i++) {
        if (strcmp(key, ints[i].name) != 0)
            continue;
        gint64 v = g_ascii_strtoll(value, &end, 10);
        if (end == value || *end || v < 0 || v > G_MAXINT) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "diffusion setting %s: “%s” is not a valid number", key, value);
            return FALSE;
        }
        *ints[i].i = (int)v;
        return TRUE;
    }
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                "unknown diffusion setting “%s” (image_size, channels, ch, ch_mult, n_res_blocks, "
                "n_heads, norm_groups, dropout, n_classes, text_len, schedule, n_timesteps)",
                key);
    return FALSE;
}

char *aigc_diffusion_config_to_json(const AigcDiffusionConfig *c)
{
    GString *mult = g_string_new("");
    for (int l = 0; l < c->n_levels; l++)
        g_string_append_printf(mult, "%s%d", l ? ", " : "", c->ch_mult[l]);
    char dropout[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(dropout, sizeof dropout, "%.6g", c->dropout);
    char *json = g_strdup_printf(
        "{\"image_size\": %d, \"channels\": %d, \"ch\": %d, \"ch_mult\": [%s], "
        "\"n_res_blocks\": %d, \"n_heads\": %d, \"norm_groups\": %d, \"dropout\": %s, "
        "\"n_classes\": %d, \"text_len\": %d, \"schedule\": \"%s\", \"n_timesteps\": %d, "
        "\"prediction\": \"epsilon\"}",
        c->image_size, c->channels, c->ch, mult->str, c->n_res_blocks, c->n_heads, c->norm_groups,
        dropout, c->n_classes, c->text_len, aigc_beta_schedule_name(c->schedule), c->n_timesteps);
    g_string_free(mult, TRUE);
    return json;
}

static gboolean json_fail(GError **error, const char *what)
{
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "diffusion config: %s", what);
    return FALSE;
}

static gboolean json_int(JsonObject *o, const char *key, int *out, GError **error)
{
    JsonNode *n = json_object_get_member(o, key);
    if (!n || json_node_get_value_type(n) != G_TYPE_INT64) {
        g_autofree char *what = g_strdup_printf("“%s” is missing or not an integer", key);
        return json_fail(error, what);
    }
    gint64 v = json_node_get_int(n);
    *out = v < 0 || v > G_MAXINT ? -1 : (int)v;
    return TRUE;
}

gboolean aigc_diffusion_config_from_json(AigcDiffusionConfig *c, const char *json, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    GError *parse_error = NULL;
    if (!json_parser_load_from_data(parser, json, -1, &parse_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "diffusion config is not JSON: %s", parse_error->message);
        g_error_free(parse_error);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return json_fail(error, "not a JSON object");
    JsonObject *o = json_node_get_object(root);
    *c = aigc_diffusion_default_config();
    if (!json_int(o, "image_size", &c->image_size, error) ||
        !json_int(o, "channels", &c->channels, error) || !json_int(o, "ch", &c->ch, error) ||
        !json_int(o, "n_res_blocks", &c->n_res_blocks, error) ||
        !json_int(o, "n_heads", &c->n_heads, error) ||
        !json_int(o, "norm_groups", &c->norm_groups, error) ||
        !json_int(o, "n_classes", &c->n_classes, error) ||
        !json_int(o, "n_timesteps", &c->n_timesteps, error))
        return FALSE;
    /* text_len came later: files without it are class models */
    if (json_object_has_member(o, "text_len") && !json_int(o, "text_len", &c->text_len, error))
        return FALSE;
    JsonNode *mult = json_object_get_member(o, "ch_mult");
    if (!mult || !JSON_NODE_HOLDS_ARRAY(mult))
        return json_fail(error, "“ch_mult” is missing or not an array");
    JsonArray *arr = json_node_get_array(mult);
    guint n = json_array_get_length(arr);
    if (n < 1 || n > AIGC_DIFFUSION_MAX_LEVELS)
        return json_fail(error, "“ch_mult” must have 1 … 4 entries");
    c->n_levels = (int)n;
    for (guint i = 0; i < AIGC_DIFFUSION_MAX_LEVELS; i++) {
        c->ch_mult[i] = 0;
        if (i >= n)
            continue;
        JsonNode *e = json_array_get_element(arr, i);
        if (json_node_get_value_type(e) != G_TYPE_INT64)
            return json_fail(error, "“ch_mult” holds something other than integers");
        gint64 v = json_node_get_int(e);
        c->ch_mult[i] = v < 0 || v > 1000 ? -1 : (int)v;
    }
    JsonNode *d = json_object_get_member(o, "dropout");
    if (d) {
        GType t = json_node_get_value_type(d);
        if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
            return json_fail(error, "“dropout” is not a number");
        c->dropout = (float)json_node_get_double(d);
    }
    const char *schedule = json_object_get_string_member_with_default(o, "schedule", "");
    if (strcmp(schedule, "cosine") == 0)
        c->schedule = AIGC_BETA_COSINE;
    else if (strcmp(schedule, "linear") == 0)
        c->schedule = AIGC_BETA_LINEAR;
    else
        return json_fail(error, "“schedule” must be \"cosine\" or \"linear\"");
    const char *prediction = json_object_get_string_member_with_default(o, "prediction", "epsilon");
    if (strcmp(prediction, "epsilon") != 0)
        return json_fail(error, "only ε-prediction (\"prediction\": \"epsilon\") is supported");
    if (!aigc_diffusion_config_validate(c, error)) {
        g_prefix_error(error, "in the file: ");
        return FALSE;
    }
    return TRUE;
}

/* ---- the noise schedule ---- */

void aigc_beta_schedule_alphas_cumprod(AigcBetaSchedule schedule, int T, double *alphas_cumprod)
{
    double prod = 1.0;
    for (int t = 0; t < T; t++) {
        double beta;
        if (schedule == AIGC_BETA_LINEAR) {
            /* Ho et al.: 1e-4 … 0.02 over 1000 steps; rescaled so other T keep the same curve */
            double scale = 1000.0 / T;
            double lo = scale * 1e-4, hi = scale * 0.02;
            beta = T > 1 ? lo + (hi - lo) * t / (T - 1) : lo;
        } else {
            const double s = 0.008;
            double f1 = cos(((double)t / T + s) / (1 + s) * G_PI / 2);
            double f2 = cos(((double)(t + 1) / T + s) / (1 + s) * G_PI / 2);
            beta = 1.0 - (f2 * f2) / (f1 * f1);
        }
        beta = MIN(beta, 0.999);
        prod *= 1.0 - beta;
        alphas_cumprod[t] = prod;
    }
}

const double *aigc_diffusion_get_alphas_cumprod(AigcDiffusion *m)
{
    return m->alphas_cumprod;
}

/* ---- construction ---- */

static AigcTensor *add(AigcDiffusion *m, int n_dims, const gint64 *shape, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

static AigcTensor *add(AigcDiffusion *m, int n_dims, const gint64 *shape, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    g_autofree char *name = g_strdup_vprintf(format, args);
    va_end(args);
    return aigc_params_add(m->params, name, n_dims, shape);
}

#define ADD(m, prefix, suffix, nd, ...) add(m, nd, (gint64[]){__VA_ARGS__}, "%s." suffix, prefix)

static void res_block_add(AigcDiffusion *m, ResBlock *b, const char *prefix, int cin, int cout)
{
    const gint64 E = 4 * m->config.ch;
    b->norm1_w = ADD(m, prefix, "norm1.weight", 1, cin);
    b->norm1_b = ADD(m, prefix, "norm1.bias", 1, cin);
    b->conv1_w = ADD(m, prefix, "conv1.weight", 4, cout, cin, 3, 3);
    b->conv1_b = ADD(m, prefix, "conv1.bias", 1, cout);
    b->temb_w = ADD(m, prefix, "temb_proj.weight", 2, cout, E);
    b->temb_b = ADD(m, prefix, "temb_proj.bias", 1, cout);
    b->norm2_w = ADD(m, prefix, "norm2.weight", 1, cout);
    b->norm2_b = ADD(m, prefix, "norm2.bias", 1, cout);
    b->conv2_w = ADD(m, prefix, "conv2.weight", 4, cout, cout, 3, 3);
    b->conv2_b = ADD(m, prefix, "conv2.bias", 1, cout);
    if (cin != cout) {
        b->skip_w = ADD(m, prefix, "skip.weight", 4, cout, cin, 1, 1);
        b->skip_b = ADD(m, prefix, "skip.bias", 1, cout);
    }
}

static void attn_block_add(AigcDiffusion *m, AttnBlock *a, const char *prefix, int C)
{
    a->norm_w = ADD(m, prefix, "norm.weight", 1, C);
    a->norm_b = ADD(m, prefix, "norm.bias", 1, C);
    a->qkv_w = ADD(m, prefix, "qkv.weight", 4, 3 * C, C, 1, 1);
    a->qkv_b = ADD(m, prefix, "qkv.bias", 1, 3 * C);
    a->proj_w = ADD(m, prefix, "proj.weight", 4, C, C, 1, 1);
    a->proj_b = ADD(m, prefix, "proj.bias", 1, C);
}

AigcDiffusion *aigc_diffusion_new(const AigcDiffusionConfig *config)
{
    g_return_val_if_fail(aigc_diffusion_config_validate(config, NULL), NULL);
    AigcDiffusion *m = g_new0(AigcDiffusion, 1);
    m->config = *config;
    const AigcDiffusionConfig *c = &m->config;
    const int L = c->n_levels, top = L - 1;
    const gint64 ch = c->ch, E = 4 * ch;
    m->params = aigc_params_new();
    m->time1_w = ADD(m, "time_embed", "0.weight", 2, E, ch);
    m->time1_b = ADD(m, "time_embed", "0.bias", 1, E);
    m->time2_w = ADD(m, "time_embed", "2.weight", 2, E, E);
    m->time2_b = ADD(m, "time_embed", "2.bias", 1, E);
    if (c->n_classes > 0)
        m->class_embed = ADD(m, "class_embed", "weight", 2, c->n_classes + 1, E);
    m->conv_in_w = ADD(m, "conv_in", "weight", 4, ch, c->channels, 3, 3);
    m->conv_in_b = ADD(m, "conv_in", "bias", 1, ch);
    char prefix[64];
    int cin = (int)ch;
    for (int l = 0; l < L; l++) {
        Level *lv = &m->down[l];
        lv->res = g_new0(ResBlock, c->n_res_blocks);
        if (l == top && c->n_heads > 0)
            lv->attn = g_new0(AttnBlock, c->n_res_blocks);
        for (int i = 0; i < c->n_res_blocks; i++) {
            g_snprintf(prefix, sizeof prefix, "down.%d.res.%d", l, i);
            res_block_add(m, &lv->res[i], prefix, cin, width(c, l));
            cin = width(c, l);
            if (lv->attn) {
                g_snprintf(prefix, sizeof prefix, "down.%d.attn.%d", l, i);
                attn_block_add(m, &lv->attn[i], prefix, cin);
            }
        }
        if (l < top) {
            g_snprintf(prefix, sizeof prefix, "down.%d.downsample", l);
            lv->resample_w = ADD(m, prefix, "weight", 4, cin, cin, 3, 3);
            lv->resample_b = ADD(m, prefix, "bias", 1, cin);
        }
    }
    res_block_add(m, &m->mid_res[0], "mid.res.0", cin, cin);
    if (c->n_heads > 0)
        attn_block_add(m, &m->mid_attn, "mid.attn", cin);
    res_block_add(m, &m->mid_res[1], "mid.res.1", cin, cin);
    for (int l = top; l >= 0; l--) {
        Level *lv = &m->up[l];
        const int W = width(c, l);
        lv->res = g_new0(ResBlock, c->n_res_blocks);
        if (l == top && c->n_heads > 0)
            lv->attn = g_new0(AttnBlock, c->n_res_blocks);
        for (int i = 0; i < c->n_res_blocks; i++) {
            g_snprintf(prefix, sizeof prefix, "up.%d.res.%d", l, i);
            res_block_add(m, &lv->res[i], prefix, 2 * W, W); /* h (W) and its skip (W) */
            if (lv->attn) {
                g_snprintf(prefix, sizeof prefix, "up.%d.attn.%d", l, i);
                attn_block_add(m, &lv->attn[i], prefix, W);
            }
        }
        if (l > 0) {
            g_snprintf(prefix, sizeof prefix, "up.%d.upsample", l);
            lv->resample_w = ADD(m, prefix, "weight", 4, width(c, l - 1), W, 3, 3);
            lv->resample_b = ADD(m, prefix, "bias", 1, width(c, l - 1));
        }
    }
    m->norm_out_w = ADD(m, "norm_out", "weight", 1, width(c, 0));
    m->norm_out_b = ADD(m, "norm_out", "bias", 1, width(c, 0));
    m->conv_out_w = ADD(m, "conv_out", "weight", 4, c->channels, width(c, 0), 3, 3);
    m->conv_out_b = ADD(m, "conv_out", "bias", 1, c->channels);
    aigc_params_allocate(m->params);

    m->alphas_cumprod = g_new(double, c->n_timesteps);
    aigc_beta_schedule_alphas_cumprod(c->schedule, c->n_timesteps, m->alphas_cumprod);
    m->class_names = g_new0(char *, c->n_classes + 1);
    for (int k = 0; k < c->n_classes; k++)
        m->class_names[k] = g_strdup_printf("%d", k);
    return m;
}

#undef ADD

void aigc_diffusion_free(AigcDiffusion *m)
{
    if (!m)
        return;
    for (int l = 0; l < AIGC_DIFFUSION_MAX_LEVELS; l++) {
        g_free(m->down[l].res);
        g_free(m->down[l].attn);
        g_free(m->up[l].res);
        g_free(m->up[l].attn);
    }
    aigc_params_free(m->params);
    g_free(m->alphas_cumprod);
    g_strfreev(m->class_names);
    g_free(m);
}

void aigc_diffusion_init_weights(AigcDiffusion *m, AigcRng *rng)
{
    for (guint i = 0; i < aigc_params_get_n(m->params); i++) {
        AigcTensor *t = aigc_params_get(m->params, i);
        const char *name = t->name;
        gboolean zero = g_str_has_prefix(name, "conv_out.") || strstr(name, ".conv2.") ||
                        strstr(name, ".proj.");
        if (t == m->class_embed) {
            aigc_rng_fill_normal(rng, t->data, t->n_elements, 0.0f, 1.0f);
        } else if (strstr(name, "norm")) {
            aigc_tensor_fill(t, g_str_has_suffix(name, ".weight") ? 1.0f : 0.0f);
        } else if (zero) {
            aigc_tensor_fill(t, 0.0f);
        } else {
            /* a bias's fan-in is its weight's: find the weight of the same module */
            gint64 fan_in;
            if (t->n_dims == 1) {
                int stem = (int)(strlen(name) - strlen("bias"));
                g_autofree char *wname = g_strdup_printf("%.*sweight", stem, name);
                AigcTensor *w = aigc_params_find(m->params, wname);
                fan_in = w ? w->n_elements / w->shape[0] : 1;
            } else {
                fan_in = t->n_elements / t->shape[0];
            }
            float bound = 1.0f / sqrtf((float)MAX(fan_in, 1));
            aigc_rng_fill_uniform(rng, t->data, t->n_elements, -bound, bound);
        }
    }
}

const AigcDiffusionConfig *aigc_diffusion_get_config(AigcDiffusion *m)
{
    return &m->config;
}

AigcParams *aigc_diffusion_get_params(AigcDiffusion *m)
{
    return m->params;
}

/* ---- classes ---- */

void aigc_diffusion_set_class_names(AigcDiffusion *m, const char *const *names)
{
    for (int k = 0; k < m->config.n_classes; k++) {
        g_free(m->class_names[k]);
        m->class_names[k] = g_strdup(names[k]);
    }
}

const char *aigc_diffusion_get_class_name(AigcDiffusion *m, int k)
{
    return k >= 0 && k < m->config.n_classes ? m->class_names[k] : "?";
}

int aigc_diffusion_find_class(AigcDiffusion *m, const char *name, GError **error)
{
    const int K = m->config.n_classes;
    if (K == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND,
                    "the model is unconditional: it has no class “%s”", name);
        return -1;
    }
    for (int k = 0; k < K; k++)
        if (g_ascii_strcasecmp(m->class_names[k], name) == 0)
            return k;
    char *end = NULL;
    gint64 v = g_ascii_strtoll(name, &end, 10);
    if (end != name && !*end && v >= 0 && v < K)
        return (int)v;
    g_autofree char *known = g_strjoinv(", ", m->class_names);
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND,
                "unknown class “%s” (the model knows: %s)", name, known);
    return -1;
}

/* ---- text ---- */

GStrv aigc_diffusion_text_words(const char *text)
{
    GPtrArray *words = g_ptr_array_new();
    GString *w = g_string_new(NULL);
    for (const char *p = text ? text : "";; p = g_utf8_next_char(p)) {
        gunichar u = *p ? g_utf8_get_char_validated(p, -1) : 0;
        if (u != (gunichar)-1 && u != (gunichar)-2 && u && g_unichar_isalnum(u)) {
            g_string_append_unichar(w, g_unichar_tolower(u));
        } else if (w->len) {
            g_ptr_array_add(words, g_strdup(w->str));
            g_string_truncate(w, 0);
        }
        if (!*p || u == (gunichar)-1 || u == (gunichar)-2) {
            if (*p) /* invalid UTF-8: skip the byte */
                continue;
            break;
        }
    }
    g_string_free(w, TRUE);
    g_ptr_array_add(words, NULL);
    return (GStrv)g_ptr_array_free(words, FALSE);
}

int aigc_diffusion_encode_text(AigcDiffusion *m, const char *text, gint32 *ids, char **unknown,
                               GError **error)
{
    const AigcDiffusionConfig *c = &m->config;
    const int T = MAX(c->text_len, 1);
    for (int j = 0; j < T; j++)
        ids[j] = AIGC_DIFFUSION_NULL_CLASS;
    g_auto(GStrv) words = aigc_diffusion_text_words(text);
    GString *missing = g_string_new(NULL);
    int n = 0;
    for (int i = 0; words[i]; i++) {
        int k = -1;
        for (int v = 0; v < c->n_classes && k < 0; v++)
            if (strcmp(m->class_names[v], words[i]) == 0)
                k = v;
        if (k < 0)
            g_string_append_printf(missing, "%s%s", missing->len ? " " : "", words[i]);
        else if (n < T)
            ids[n++] = k;
    }
    if (unknown)
        *unknown = g_strdup(missing->str);
    if (n == 0) {
        GString *some = g_string_new(NULL);
        for (int v = 0; v < MIN(c->n_classes, 12); v++)
            g_string_append_printf(some, "%s%s", v ? ", " : "", m->class_names[v]);
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND,
                    missing->len ? "none of the words “%s” is known to the model (it knows %d "
                                   "words, e.g. %s)"
                                 : "%sthe prompt is empty: describe the image in words the model "
                                   "knows (%d, e.g. %s)",
                    missing->str, c->n_classes, some->str);
        g_string_free(some, TRUE);
    }
    g_string_free(missing, TRUE);
    return n;
}

/* ---- forward ---- */

/* The fused group norm + SiLU of aigc-diffusion-ops.h. */
static AigcTensor *norm_act(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b, int G)
{
    return aigc_groupnorm_silu(ctx, x, G, w, b, NORM_EPS);
}

/* x (N, Cin, S, S); temb_act (N, E) = SiLU(emb) → (N, Cout, S, S). */
static AigcTensor *res_block(AigcCtx *ctx, const AigcDiffusionConfig *c, ResBlock *b, AigcTensor *x,
                             AigcTensor *temb_act)
{
    const gint64 N = x->shape[0], Cout = b->conv1_w->shape[0];
    AigcTensor *h = norm_act(ctx, x, b->norm1_w, b->norm1_b, c->norm_groups);
    h = aigc_conv3x3(ctx, h, b->conv1_w, b->conv1_b);
    AigcTensor *tp = aigc_linear(ctx, temb_act, b->temb_w, b->temb_b); /* (N, Cout) */
    h = aigc_add(ctx, h, aigc_reshape(ctx, tp, 4, (gint64[]){N, Cout, 1, 1}));
    h = norm_act(ctx, h, b->norm2_w, b->norm2_b, c->norm_groups);
    h = aigc_dropout(ctx, h, c->dropout);
    h = aigc_conv3x3(ctx, h, b->conv2_w, b->conv2_b);
    AigcTensor *skip = b->skip_w ? aigc_conv2d(ctx, x, b->skip_w, b->skip_b, 1, 0) : x;
    return aigc_add(ctx, skip, h);
}

/* x (N, C, S, S) → x + proj(attention(qkv(GN(x)))) over the S² positions. */
static AigcTensor *attn_block(AigcCtx *ctx, const AigcDiffusionConfig *c, AttnBlock *a,
                              AigcTensor *x)
{
    const gint64 N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    const gint64 P = H * W, nh = c->n_heads, D = C / nh;
    AigcTensor *h = aigc_groupnorm(ctx, x, c->norm_groups, a->norm_w, a->norm_b, NORM_EPS);
    AigcTensor *qkv = aigc_conv2d(ctx, h, a->qkv_w, a->qkv_b, 1, 0); /* (N, 3C, H, W) */
    qkv = aigc_reshape(ctx, qkv, 5, (gint64[]){N, 3, nh, D, P});
    qkv = aigc_permute(ctx, qkv, (int[]){1, 0, 2, 4, 3}); /* (3, N, nh, P, D) */
    AigcTensor *qs[3];
    for (int i = 0; i < 3; i++)
        qs[i] = aigc_reshape(ctx, aigc_slice(ctx, qkv, 0, i, i + 1), 4, (gint64[]){N, nh, P, D});
    AigcTensor *y = aigc_attention(ctx, qs[0], qs[1], qs[2], FALSE, 1.0f / sqrtf((float)D), NULL);
    y = aigc_permute(ctx, y, (int[]){0, 1, 3, 2}); /* (N, nh, D, P) */
    y = aigc_reshape(ctx, y, 4, (gint64[]){N, C, H, W});
    y = aigc_conv2d(ctx, y, a->proj_w, a->proj_b, 1, 0);
    return aigc_add(ctx, x, y);
}

AigcTensor *aigc_diffusion_forward(AigcCtx *ctx, AigcDiffusion *m, AigcTensor *x, const float *t,
                                   const gint32 *classes)
{
    const AigcDiffusionConfig *c = &m->config;
    g_return_val_if_fail(x->n_dims == 4 && x->shape[1] == c->channels &&
                             x->shape[2] == c->image_size && x->shape[3] == c->image_size,
                         NULL);
    const int N = (int)x->shape[0], L = c->n_levels, top = L - 1, K = c->n_classes;

    /* the embedding of the timestep and the class */
    AigcTensor *emb = aigc_timestep_embedding(ctx, t, N, c->ch, 10000.0f);
    emb = aigc_linear(ctx, emb, m->time1_w, m->time1_b);
    emb = aigc_linear(ctx, aigc_silu(ctx, emb), m->time2_w, m->time2_b); /* (N, E) */
    if (K > 0 && c->text_len > 0) {
        /* The mean of the words' embeddings (the null embedding when there is no word): a
         * bag-of-words weight matrix (N, K + 1) times the table. */
        const int T = c->text_len;
        AigcTensor *bag = aigc_tensor_zeros(ctx, 2, (gint64[]){N, K + 1});
        for (int n = 0; n < N; n++) {
            int count = 0;
            for (int j = 0; classes && j < T; j++) {
                gint32 k = classes[(gsize)n * T + j];
                g_return_val_if_fail(k == AIGC_DIFFUSION_NULL_CLASS || (k >= 0 && k < K), NULL);
                count += k != AIGC_DIFFUSION_NULL_CLASS;
            }
            if (count == 0) {
                bag->data[(gsize)n * (K + 1) + K] = 1.0f;
                continue;
            }
            for (int j = 0; j < T; j++) {
                gint32 k = classes[(gsize)n * T + j];
                if (k != AIGC_DIFFUSION_NULL_CLASS)
                    bag->data[(gsize)n * (K + 1) + k] += 1.0f / count;
            }
        }
        emb = aigc_add(ctx, emb, aigc_matmul(ctx, bag, m->class_embed, FALSE, FALSE));
    } else if (K > 0) {
        gint32 *ids = aigc_ctx_alloc(ctx, (gsize)MAX(N, 1) * sizeof(gint32));
        for (int n = 0; n < N; n++) {
            gint32 k = classes ? classes[n] : AIGC_DIFFUSION_NULL_CLASS;
            g_return_val_if_fail(k == AIGC_DIFFUSION_NULL_CLASS || (k >= 0 && k < K), NULL);
            ids[n] = k == AIGC_DIFFUSION_NULL_CLASS ? K : k;
        }
        emb = aigc_add(ctx, emb, aigc_embedding(ctx, m->class_embed, ids, 1, (gint64[]){N}));
    }
    AigcTensor *temb_act = aigc_silu(ctx, emb);

    AigcTensor *skips[AIGC_DIFFUSION_MAX_LEVELS * 8];
    int n_skips = 0;
    AigcTensor *h = aigc_conv3x3(ctx, x, m->conv_in_w, m->conv_in_b);
    for (int l = 0; l < L; l++) {
        Level *lv = &m->down[l];
        for (int i = 0; i < c->n_res_blocks; i++) {
            h = res_block(ctx, c, &lv->res[i], h, temb_act);
            if (lv->attn)
                h = attn_block(ctx, c, &lv->attn[i], h);
            skips[n_skips++] = h;
        }
        if (lv->resample_w)
            h = aigc_conv2d(ctx, h, lv->resample_w, lv->resample_b, 2, 1);
    }
    h = res_block(ctx, c, &m->mid_res[0], h, temb_act);
    if (c->n_heads > 0)
        h = attn_block(ctx, c, &m->mid_attn, h);
    h = res_block(ctx, c, &m->mid_res[1], h, temb_act);
    for (int l = top; l >= 0; l--) {
        Level *lv = &m->up[l];
        for (int i = 0; i < c->n_res_blocks; i++) {
            AigcTensor *pair[2] = {h, skips[--n_skips]};
            h = res_block(ctx, c, &lv->res[i], aigc_concat(ctx, 2, pair, 1), temb_act);
            if (lv->attn)
                h = attn_block(ctx, c, &lv->attn[i], h);
        }
        if (lv->resample_w) {
            h = aigc_upsample_nearest2d(ctx, h, 2);
            h = aigc_conv3x3(ctx, h, lv->resample_w, lv->resample_b);
        }
    }
    h = norm_act(ctx, h, m->norm_out_w, m->norm_out_b, c->norm_groups);
    return aigc_conv3x3(ctx, h, m->conv_out_w, m->conv_out_b);
}

/* ---- files ---- */

gboolean aigc_diffusion_save(AigcDiffusion *m, AigcSafetensorsWriter *writer, AigcDtype dtype,
                             GError **error)
{
    g_autofree char *json = aigc_diffusion_config_to_json(&m->config);
    aigc_safetensors_writer_set_metadata(writer, "family", AIGC_DIFFUSION_FAMILY);
    aigc_safetensors_writer_set_metadata(writer, "diffusion.config", json);
    if (m->config.n_classes > 0) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        for (int k = 0; k < m->config.n_classes; k++)
            json_builder_add_string_value(b, m->class_names[k]);
        json_builder_end_array(b);
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        g_autofree char *names = json_generator_to_data(gen, NULL);
        aigc_safetensors_writer_set_metadata(writer, "diffusion.classes", names);
    }
    return aigc_params_save(m->params, writer, NULL, dtype, error);
}

/* Reads "diffusion.classes": a JSON array of n distinct, non-empty strings. */
static char **read_class_names(const char *json, int n, const char *label, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root = NULL;
    if (json_parser_load_from_data(parser, json, -1, NULL))
        root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_ARRAY(root) ||
        json_array_get_length(json_node_get_array(root)) != (guint)n) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: “diffusion.classes” is not a JSON array of %d class names", label, n);
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
                        "%s: class name %d in “diffusion.classes” is missing, empty or repeated",
                        label, k);
            g_strfreev(names);
            return NULL;
        }
        names[k] = g_strdup(s);
    }
    return names;
}

AigcDiffusion *aigc_diffusion_load(AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *family = aigc_safetensors_get_metadata(st, "family");
    const char *json = aigc_safetensors_get_metadata(st, "diffusion.config");
    if (!json || g_strcmp0(family, AIGC_DIFFUSION_FAMILY) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a diffusion model (family “%s”)", label, family ? family : "none");
        return NULL;
    }
    AigcDiffusionConfig config;
    GError *config_error = NULL;
    if (!aigc_diffusion_config_from_json(&config, json, &config_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", label,
                    config_error->message);
        g_error_free(config_error);
        return NULL;
    }
    /* Refuse a config the tensors disagree with before allocating its size. */
    const AigcSafetensorsTensor *conv_in = aigc_safetensors_find(st, "conv_in.weight");
    if (!conv_in || conv_in->n_dims != 4 || conv_in->shape[0] != config.ch ||
        conv_in->shape[1] != config.channels) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: conv_in.weight is missing or disagrees with the config", label);
        return NULL;
    }
    g_auto(GStrv) names = NULL;
    if (config.n_classes > 0) {
        const char *classes = aigc_safetensors_get_metadata(st, "diffusion.classes");
        if (classes && !(names = read_class_names(classes, config.n_classes, label, error)))
            return NULL;
    }
    AigcDiffusion *m = aigc_diffusion_new(&config);
    if (!aigc_params_load(m->params, st, NULL, error)) {
        aigc_diffusion_free(m);
        return NULL;
    }
    if (names)
        aigc_diffusion_set_class_names(m, (const char *const *)names);
    return m;
}

AigcDiffusion *aigc_diffusion_load_file(const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    return st ? aigc_diffusion_load(st, error) : NULL;
}
