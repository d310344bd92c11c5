/* SPDX-License-Identifier: MIT
 *
 * MelGAN generator: config, weights, the training graph and fast synthesis.
 *
 * Legend: B batch, F mel frames, C channels, L length of the current stage, K kernel, r factor.
 */
#include "aigc-melgan.h"

#include "aigc-error.h"
#include "models/vocoder/aigc-vocoder-ops.h"
#include "nn/aigc-nn.h"
#include "tensor/aigc-arena.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

typedef enum { KIND_CONV, KIND_CONVT } LayerKind;

typedef struct {
    LayerKind kind;
    char *name;
    int cin, cout, K, stride, pad, outpad, dil;
    AigcTensor *v, *g, *b; /* training: v [cout, cin, K] (conv) or [cin, cout, K] (convT); g [v0] */
    AigcTensor *w, *bi;    /* inference: w like v, bi [cout] */
} Layer;

struct _AigcMelgan {
    AigcMelganConfig config;
    AigcSpeechFeatures features;
    AigcParams *params;  /* training: weight_v, weight_g, bias */
    AigcParams *weights; /* inference: weight, bias */
    Layer *layers; /* conv_pre, per stage (ups.i, res.i.j.conv1, res.i.j.conv2 …), conv_post */
    int n_layers;
};

AigcMelganConfig aigc_melgan_default_config(void)
{
    return (AigcMelganConfig){
        .n_mels = 80,
        .channels = 256,
        .n_upsample = 4,
        .upsample = {8, 8, 2, 2},
        .n_res = 3,
        .dilation_base = 3,
        .slope = 0.2f,
        .disc_scales = 3,
        .disc_channels = 16,
        .disc_max_channels = 256,
    };
}

int aigc_melgan_config_get_hop(const AigcMelganConfig *c)
{
    int hop = 1;
    for (int i = 0; i < c->n_upsample; i++)
        hop *= c->upsample[i];
    return hop;
}

gboolean aigc_melgan_config_validate(const AigcMelganConfig *c, GError **error)
{
    const char *fault = NULL;
    gint64 hop = 1;
    gboolean factors_ok = c->n_upsample >= 1 && c->n_upsample <= AIGC_MELGAN_MAX_UPSAMPLE;
    for (int i = 0; factors_ok && i < c->n_upsample; i++) {
        factors_ok = c->upsample[i] >= 2 && c->upsample[i] <= 16;
        hop *= c->upsample[i];
    }
    if (c->n_mels < 1 || c->n_mels > 256)
        fault = "n_mels must be 1 … 256";
    else if (!factors_ok)
        fault = "upsample must be 1 … 6 factors of 2 … 16";
    else if (hop > 4096)
        fault = "the upsampling factors multiply to more than 4096";
    else if (c->channels < 1 || c->channels > 2048 || c->channels % (1 << c->n_upsample) != 0)
        fault = "channels must be 1 … 2048 and divisible by 2 for every upsampling stage";
    else if (c->n_res < 0 || c->n_res > 8)
        fault = "n_res must be 0 … 8";
    else if (c->dilation_base < 1 || c->dilation_base > 8)
        fault = "dilation_base must be 1 … 8";
    else if (!(c->slope >= 0 && c->slope < 1))
        fault = "slope must be in [0, 1)";
    else if (c->disc_scales < 1 || c->disc_scales > 4)
        fault = "disc_scales must be 1 … 4";
    else if (c->disc_channels < 4 || c->disc_channels > 256 || c->disc_channels % 4 != 0)
        fault = "disc_channels must be a multiple of 4 from 4 to 256";
    else if (c->disc_max_channels < c->disc_channels || c->disc_max_channels > 1024 ||
             c->disc_max_channels % 4 != 0)
        fault = "disc_max_channels must be a multiple of 4 from disc_channels to 1024";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "MelGAN config: %s",
                    fault);
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_factors(AigcMelganConfig *c, const char *value)
{
    g_auto(GStrv) parts = g_strsplit(value, ",", -1);
    int n = (int)g_strv_length(parts);
    if (n < 1 || n > AIGC_MELGAN_MAX_UPSAMPLE)
        return FALSE;
    for (int i = 0; i < n; i++) {
        char *end = NULL;
        gint64 v = g_ascii_strtoll(g_strstrip(parts[i]), &end, 10);
        if (end == parts[i] || *end || v < 2 || v > 16)
            return FALSE;
        c->upsample[i] = (int)v;
    }
    c->n_upsample = n;
    return TRUE;
}

gboolean aigc_melgan_config_set(AigcMelganConfig *c, const char *key, const char *value,
                                GError **error)
{
    struct {
        const char *name;
        int *i;
        float *f;
    } fields[] = {
        {"n_mels", &c->n_mels, NULL},
        {"channels", &c->channels, NULL},
        {"n_res", &c->n_res, NULL},
        {"dilation_base", &c->dilation_base, NULL},
        {"slope", NULL, &c->slope},
        {"disc_scales", &c->disc_scales, NULL},
        {"disc_channels", &c->disc_channels, NULL},
        {"disc_max_channels", &c->disc_max_channels, NULL},
    };
    if (!strcmp(key, "upsample")) {
        if (!parse_factors(c, value)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "MelGAN setting upsample: “%s” is not 1 … 6 factors like 8,8,2,2", value);
            return FALSE;
        }
        return TRUE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        if (strcmp(key, fields[i].name) != 0)
            continue;
        char *end = NULL;
        if (fields[i].i) {
            gint64 v = g_ascii_strtoll(value, &end, 10);
            if (end == value || *end || v < 0 || v > G_MAXINT)
                goto bad;
            *fields[i].i = (int)v;
        } else {
            double v = g_ascii_strtod(value, &end);
            if (end == value || *end || !isfinite(v))
                goto bad;
            *fields[i].f = (float)v;
        }
        return TRUE;
    }
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                "unknown MelGAN setting “%s” (channels, upsample, n_res, dilation_base, slope, "
                "disc_scales, disc_channels, disc_max_channels)",
                key);
    return FALSE;
bad:
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                "MelGAN setting %s: “%s” is not a valid number", key, value);
    return FALSE;
}

char *aigc_melgan_config_to_json(const AigcMelganConfig *c)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "{\"n_mels\": %d, \"channels\": %d, \"upsample\": [", c->n_mels,
                           c->channels);
    for (int i = 0; i < c->n_upsample; i++)
        g_string_append_printf(s, "%s%d", i ? ", " : "", c->upsample[i]);
    g_string_append_printf(s,
                           "], \"n_res\": %d, \"dilation_base\": %d, \"slope\": %.9g, "
                           "\"disc_scales\": %d, \"disc_channels\": %d, \"disc_max_channels\": %d}",
                           c->n_res, c->dilation_base, c->slope, c->disc_scales, c->disc_channels,
                           c->disc_max_channels);
    return g_string_free(s, FALSE);
}

gboolean aigc_melgan_config_from_json(AigcMelganConfig *c, const char *json, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    GError *parse_error = NULL;
    if (!json_parser_load_from_data(parser, json, -1, &parse_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "MelGAN config is not JSON: %s", parse_error->message);
        g_error_free(parse_error);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "MelGAN config is not a JSON object");
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    *c = aigc_melgan_default_config();
    const char *ints[] = {"n_mels",           "channels",    "n_res",
                          "dilation_base",    "disc_scales", "disc_channels",
                          "disc_max_channels"};
    int *dst[] = {&c->n_mels,           &c->channels,    &c->n_res,
                  &c->dilation_base,    &c->disc_scales, &c->disc_channels,
                  &c->disc_max_channels};
    for (guint i = 0; i < G_N_ELEMENTS(ints); i++) {
        JsonNode *n = json_object_get_member(o, ints[i]);
        if (!n)
            continue; /* the default */
        if (json_node_get_value_type(n) != G_TYPE_INT64) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "MelGAN config: “%s” is not an integer", ints[i]);
            return FALSE;
        }
        gint64 v = json_node_get_int(n);
        *dst[i] = v < 0 || v > G_MAXINT ? -1 : (int)v;
    }
    JsonNode *up = json_object_get_member(o, "upsample");
    if (up) {
        JsonArray *a = JSON_NODE_HOLDS_ARRAY(up) ? json_node_get_array(up) : NULL;
        guint n = a ? json_array_get_length(a) : 0;
        if (!a || n < 1 || n > AIGC_MELGAN_MAX_UPSAMPLE) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "MelGAN config: “upsample” is not a list of 1 … %d factors",
                        AIGC_MELGAN_MAX_UPSAMPLE);
            return FALSE;
        }
        c->n_upsample = (int)n;
        for (guint i = 0; i < n; i++) {
            JsonNode *e = json_array_get_element(a, i);
            gint64 v = JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_INT64
                           ? json_node_get_int(e)
                           : -1;
            c->upsample[i] = v < 0 || v > 1000 ? -1 : (int)v;
        }
    }
    c->slope = (float)json_object_get_double_member_with_default(o, "slope", c->slope);
    if (!aigc_melgan_config_validate(c, error)) {
        g_prefix_error(error, "in the file: ");
        return FALSE;
    }
    return TRUE;
}

gboolean aigc_melgan_check_features(const AigcMelganConfig *c, const AigcSpeechFeatures *f,
                                    GError **error)
{
    if (f->hop_length != aigc_melgan_config_get_hop(c) || f->n_mels != c->n_mels) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "MelGAN: the upsampling factors multiply to %d and the input has %d bands, "
                    "but the speech features have hop %d and %d mels",
                    aigc_melgan_config_get_hop(c), c->n_mels, f->hop_length, f->n_mels);
        return FALSE;
    }
    return TRUE;
}

/* ---- building ---- */

static void add_layer(AigcMelgan *m, GArray *layers, LayerKind kind, const char *name, int cin,
                      int cout, int K, int stride, int pad, int outpad, int dil)
{
    Layer ly = {.kind = kind,
                .name = g_strdup(name),
                .cin = cin,
                .cout = cout,
                .K = K,
                .stride = stride,
                .pad = pad,
                .outpad = outpad,
                .dil = dil};
    gint64 shape[3] = {kind == KIND_CONV ? cout : cin, kind == KIND_CONV ? cin : cout, K};
    char key[128];
    g_snprintf(key, sizeof key, "%s.weight_v", name);
    ly.v = aigc_params_add(m->params, key, 3, shape);
    g_snprintf(key, sizeof key, "%s.weight_g", name);
    ly.g = aigc_params_add(m->params, key, 1, shape);
    g_snprintf(key, sizeof key, "%s.bias", name);
    ly.b = aigc_params_add(m->params, key, 1, (gint64[]){cout});
    g_snprintf(key, sizeof key, "%s.weight", name);
    ly.w = aigc_params_add(m->weights, key, 3, shape);
    g_snprintf(key, sizeof key, "%s.bias", name);
    ly.bi = aigc_params_add(m->weights, key, 1, (gint64[]){cout});
    g_array_append_val(layers, ly);
}

AigcMelgan *aigc_melgan_new(const AigcMelganConfig *config, const AigcSpeechFeatures *features)
{
    g_return_val_if_fail(aigc_melgan_config_validate(config, NULL), NULL);
    g_return_val_if_fail(aigc_melgan_check_features(config, features, NULL), NULL);
    AigcMelgan *m = g_new0(AigcMelgan, 1);
    m->config = *config;
    m->features = *features;
    m->params = aigc_params_new();
    m->weights = aigc_params_new();
    GArray *layers = g_array_new(FALSE, TRUE, sizeof(Layer));
    const AigcMelganConfig *c = config;
    int C = c->channels;
    add_layer(m, layers, KIND_CONV, "conv_pre", c->n_mels, C, 7, 1, 3, 0, 1);
    for (int i = 0; i < c->n_upsample; i++) {
        int r = c->upsample[i];
        char name[64];
        g_snprintf(name, sizeof name, "ups.%d", i);
        /* kernel 2r, stride r: padding r/2 + r%2 and output padding r%2 give exactly L·r */
        add_layer(m, layers, KIND_CONVT, name, C, C / 2, 2 * r, r, r / 2 + r % 2, r % 2, 1);
        C /= 2;
        int d = 1;
        for (int j = 0; j < c->n_res; j++, d *= c->dilation_base) {
            g_snprintf(name, sizeof name, "res.%d.%d.conv1", i, j);
            add_layer(m, layers, KIND_CONV, name, C, C, 3, 1, d, 0, d);
            g_snprintf(name, sizeof name, "res.%d.%d.conv2", i, j);
            add_layer(m, layers, KIND_CONV, name, C, C, 1, 1, 0, 0, 1);
        }
    }
    add_layer(m, layers, KIND_CONV, "conv_post", C, 1, 7, 1, 3, 0, 1);
    m->n_layers = (int)layers->len;
    m->layers = (Layer *)g_array_free(layers, FALSE);
    aigc_params_allocate(m->params);
    aigc_params_allocate(m->weights);
    return m;
}

void aigc_melgan_free(AigcMelgan *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_layers; i++)
        g_free(m->layers[i].name);
    g_free(m->layers);
    aigc_params_free(m->params);
    aigc_params_free(m->weights);
    g_free(m);
}

const AigcMelganConfig *aigc_melgan_get_config(AigcMelgan *m)
{
    return &m->config;
}

const AigcSpeechFeatures *aigc_melgan_get_features(AigcMelgan *m)
{
    return &m->features;
}

AigcParams *aigc_melgan_get_params(AigcMelgan *m)
{
    return m->params;
}

AigcParams *aigc_melgan_get_weights(AigcMelgan *m)
{
    return m->weights;
}

void aigc_melgan_fold(AigcMelgan *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        Layer *ly = &m->layers[i];
        int D0 = (int)ly->v->shape[0];
        g_autofree float *norms = g_new(float, D0);
        aigc_weight_norm_forward(ly->w->data, norms, ly->v->data, ly->g->data, D0,
                                 ly->v->n_elements / D0);
        memcpy(ly->bi->data, ly->b->data, sizeof(float) * (gsize)ly->cout);
    }
}

void aigc_melgan_unfold(AigcMelgan *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        Layer *ly = &m->layers[i];
        int D0 = (int)ly->w->shape[0];
        aigc_weight_norm_unfold(ly->v->data, ly->g->data, ly->w->data, D0, ly->w->n_elements / D0);
        memcpy(ly->b->data, ly->bi->data, sizeof(float) * (gsize)ly->cout);
    }
}

void aigc_melgan_init_weights(AigcMelgan *m, AigcRng *rng)
{
    for (int i = 0; i < m->n_layers; i++) {
        Layer *ly = &m->layers[i];
        aigc_rng_fill_normal(rng, ly->v->data, ly->v->n_elements, 0.0f, 0.02f);
        aigc_tensor_fill(ly->b, 0.0f);
        int D0 = (int)ly->v->shape[0];
        g_autofree float *tmp = g_new(float, ly->v->n_elements);
        aigc_weight_norm_unfold(tmp, ly->g->data, ly->v->data, D0, ly->v->n_elements / D0);
    }
    aigc_melgan_fold(m);
}

/* ---- the training graph ---- */

static AigcTensor *layer_forward(AigcCtx *ctx, const Layer *ly, AigcTensor *x)
{
    AigcTensor *w = aigc_weight_norm(ctx, ly->v, ly->g);
    if (ly->kind == KIND_CONVT)
        return aigc_conv_transpose1d(ctx, x, w, ly->b, ly->stride, ly->pad, ly->outpad);
    return aigc_conv1d(ctx, x, w, ly->b, ly->stride, ly->pad, ly->dil, FALSE);
}

AigcTensor *aigc_melgan_forward(AigcCtx *ctx, AigcMelgan *m, AigcTensor *mel)
{
    g_return_val_if_fail(mel->n_dims == 3 && mel->shape[1] == m->config.n_mels, NULL);
    const AigcMelganConfig *c = &m->config;
    const Layer *ly = m->layers;
    AigcTensor *h = layer_forward(ctx, ly++, mel);
    for (int i = 0; i < c->n_upsample; i++) {
        h = layer_forward(ctx, ly++, aigc_leaky_relu(ctx, h, c->slope));
        for (int j = 0; j < c->n_res; j++) {
            AigcTensor *y = layer_forward(ctx, ly++, aigc_leaky_relu(ctx, h, c->slope));
            y = layer_forward(ctx, ly++, aigc_leaky_relu(ctx, y, c->slope));
            h = aigc_add(ctx, h, y);
        }
    }
    h = layer_forward(ctx, ly++, aigc_leaky_relu(ctx, h, c->slope));
    return aigc_tanh(ctx, h);
}

/* ---- synthesis ---- */

static gint64 layer_out_len(const Layer *ly, gint64 L)
{
    if (ly->kind == KIND_CONVT)
        return aigc_conv_transpose_out_size((int)L, ly->K, ly->stride, ly->pad, ly->outpad, 1);
    return aigc_conv_out_size((int)L, ly->K, ly->stride, ly->pad, ly->pad, ly->dil);
}

static gint64 layer_scratch(const Layer *ly, gint64 L)
{
    if (ly->kind == KIND_CONVT)
        return aigc_conv_transpose1d_scratch_size(1, ly->cin, (int)L, ly->cout, ly->K, ly->stride,
                                                  ly->pad, ly->outpad);
    return aigc_conv1d_scratch_size(1, ly->cin, (int)L, ly->cout, ly->K, ly->stride, ly->pad,
                                    ly->pad, ly->dil);
}

static void layer_run(const Layer *ly, float *out, float *scratch, const float *inp, gint64 L)
{
    if (ly->kind == KIND_CONVT)
        aigc_conv_transpose1d_forward(out, scratch, inp, ly->w->data, ly->bi->data, 1, ly->cin,
                                      (int)L, ly->cout, ly->K, ly->stride, ly->pad, ly->outpad);
    else
        aigc_conv1d_forward(out, scratch, inp, ly->w->data, ly->bi->data, 1, ly->cin, (int)L,
                            ly->cout, ly->K, ly->stride, ly->pad, ly->pad, ly->dil);
}

gboolean aigc_melgan_synthesize(AigcMelgan *m, const float *mel, gint64 F, float *out,
                                AigcMelganProgressFunc progress, gpointer user_data, GError **error)
{
    const AigcMelganConfig *c = &m->config;
    const int hop = aigc_melgan_config_get_hop(c);
    if (F < 1 || F > G_MAXINT / hop) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "MelGAN: %" G_GINT64_FORMAT " mel frames is not a length it can render", F);
        return FALSE;
    }
    for (gint64 i = 0; i < F * c->n_mels; i++)
        if (!isfinite(mel[i])) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "MelGAN: the mel spectrogram holds NaN or infinite values");
            return FALSE;
        }
    /* Plan: the largest activation, the largest conv scratch, and the cost of each layer. */
    gint64 max_act = (gint64)c->n_mels * F, max_scratch = 0, L = F;
    double total_cost = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *ly = &m->layers[i];
        max_scratch = MAX(max_scratch, layer_scratch(ly, L));
        L = layer_out_len(ly, L);
        max_act = MAX(max_act, (gint64)ly->cout * L);
        total_cost += (double)ly->cin * ly->cout * ly->K * L;
    }
    AigcArena *arena = aigc_arena_new((gsize)(3 * max_act + max_scratch) * sizeof(float) + 4096);
    float *h = aigc_arena_alloc(arena, sizeof(float) * (gsize)max_act);  /* [C, L] */
    float *y1 = aigc_arena_alloc(arena, sizeof(float) * (gsize)max_act); /* [C, L] */
    float *y2 = aigc_arena_alloc(arena, sizeof(float) * (gsize)max_act); /* [C, L] */
    float *scratch = aigc_arena_alloc(arena, sizeof(float) * (gsize)MAX(max_scratch, 1));
    /* frame-major [F, n_mels] → channel-major [n_mels, F] */
    for (gint64 f = 0; f < F; f++)
        for (int k = 0; k < c->n_mels; k++)
            y1[(gint64)k * F + f] = mel[f * c->n_mels + k];
    gboolean ok = TRUE;
    double done = 0;
    L = F;
    const Layer *ly = m->layers;
#define RUN(layer, dst, src)                                                                       \
    do {                                                                                           \
        layer_run((layer), (dst), scratch, (src), L);                                              \
        L = layer_out_len((layer), L);                                                             \
        done += (double)(layer)->cin * (layer)->cout * (layer)->K * L;                             \
    } while (0)
    RUN(ly, h, y1);
    ly++;
    for (int i = 0; i < c->n_upsample && ok; i++) {
        aigc_leaky_relu_forward(y1, h, c->slope, (gint64)ly->cin * L);
        RUN(ly, h, y1);
        ly++;
        for (int j = 0; j < c->n_res; j++) {
            const gint64 n = (gint64)ly->cin * L;
            aigc_leaky_relu_forward(y1, h, c->slope, n);
            RUN(ly, y2, y1);
            ly++;
            aigc_leaky_relu_forward(y2, y2, c->slope, n);
            RUN(ly, y1, y2);
            ly++;
            aigc_accumulate(h, y1, n);
        }
        if (progress && !progress(done / total_cost, user_data))
            ok = FALSE;
    }
    if (ok) {
        aigc_leaky_relu_forward(y1, h, c->slope, (gint64)ly->cin * L);
        RUN(ly, y2, y1);
        aigc_tanh_forward(out, y2, L);
        if (progress)
            progress(1.0, user_data);
    }
#undef RUN
    aigc_arena_free(arena);
    if (!ok)
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "MelGAN: stopped");
    return ok;
}

/* ---- files ---- */

gboolean aigc_melgan_save(AigcMelgan *m, AigcSafetensorsWriter *writer, AigcDtype dtype,
                          GError **error)
{
    g_autofree char *config = aigc_melgan_config_to_json(&m->config);
    g_autofree char *features = aigc_speech_features_to_json(&m->features);
    aigc_safetensors_writer_set_metadata(writer, "family", AIGC_MELGAN_FAMILY);
    aigc_safetensors_writer_set_metadata(writer, "melgan.config", config);
    aigc_safetensors_writer_set_metadata(writer, "speech.features", features);
    return aigc_params_save(m->weights, writer, NULL, dtype, error);
}

AigcMelgan *aigc_melgan_load(AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *json = aigc_safetensors_get_metadata(st, "melgan.config");
    const char *fjson = aigc_safetensors_get_metadata(st, "speech.features");
    if (!json || !fjson) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a MelGAN vocoder (no “melgan.config” or “speech.features” in its "
                    "metadata)",
                    label);
        return NULL;
    }
    AigcMelganConfig config;
    AigcSpeechFeatures features;
    GError *e = NULL;
    if (!aigc_melgan_config_from_json(&config, json, &e) ||
        !aigc_speech_features_from_json(&features, fjson, &e) ||
        !aigc_melgan_check_features(&config, &features, &e)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", label,
                    e->message);
        g_error_free(e);
        return NULL;
    }
    /* Refuse absurd sizes before allocating: the first weight must match the config. */
    const AigcSafetensorsTensor *pre = aigc_safetensors_find(st, "conv_pre.weight");
    if (!pre || pre->n_dims != 3 || pre->shape[0] != config.channels ||
        pre->shape[1] != config.n_mels || pre->shape[2] != 7) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: conv_pre.weight is missing or disagrees with the MelGAN config", label);
        return NULL;
    }
    AigcMelgan *m = aigc_melgan_new(&config, &features);
    if (!aigc_params_load(m->weights, st, NULL, error)) {
        aigc_melgan_free(m);
        return NULL;
    }
    aigc_melgan_unfold(m);
    return m;
}
