/* SPDX-License-Identifier: MIT
 *
 * WaveNet: config, weights, the training graph and files. Generation is in
 * aigc-wavenet-generate.c.
 *
 * Legend: B batch, T samples, Fw mel frames of a window, R residual, G gate (after the gated unit;
 * 2G before), S skip, Cc condition channels, L layers.
 */
#include "aigc-wavenet-private.h"

#include "aigc-error.h"
#include "dsp/aigc-mulaw.h"
#include "models/vocoder/aigc-vocoder-ops.h"
#include "nn/aigc-nn.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

AigcWavenetConfig aigc_wavenet_default_config(void)
{
    return (AigcWavenetConfig){
        .n_mels = 80,
        .residual_channels = 64,
        .gate_channels = 128,
        .skip_channels = 128,
        .cond_channels = 128,
        .n_layers = 16,
        .n_stacks = 2,
        .preemphasis = 0.97f,
    };
}

gboolean aigc_wavenet_config_validate(const AigcWavenetConfig *c, GError **error)
{
    const char *fault = NULL;
    if (c->n_mels < 1 || c->n_mels > 256)
        fault = "n_mels must be 1 … 256";
    else if (c->residual_channels < 1 || c->residual_channels > 1024)
        fault = "residual_channels must be 1 … 1024";
    else if (c->gate_channels < 2 || c->gate_channels > 2048 || c->gate_channels % 2 != 0)
        fault = "gate_channels must be even, 2 … 2048";
    else if (c->skip_channels < 1 || c->skip_channels > 2048)
        fault = "skip_channels must be 1 … 2048";
    else if (c->cond_channels < 1 || c->cond_channels > 1024)
        fault = "cond_channels must be 1 … 1024";
    else if (c->n_layers < 1 || c->n_layers > 64)
        fault = "n_layers must be 1 … 64";
    else if (c->n_stacks < 1 || c->n_layers % c->n_stacks != 0 || c->n_layers / c->n_stacks > 14)
        fault = "n_stacks must divide n_layers into stacks of at most 14 layers";
    else if (!(c->preemphasis >= 0.0f && c->preemphasis <= 0.99f))
        fault = "preemphasis must be 0 … 0.99";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "WaveNet config: %s",
                    fault);
        return FALSE;
    }
    return TRUE;
}

gboolean aigc_wavenet_config_set(AigcWavenetConfig *c, const char *key, const char *value,
                                 GError **error)
{
    struct {
        const char *name;
        int *i;
    } fields[] = {
        {"n_mels", &c->n_mels},
        {"residual_channels", &c->residual_channels},
        {"gate_channels", &c->gate_channels},
        {"skip_channels", &c->skip_channels},
        {"cond_channels", &c->cond_channels},
        {"n_layers", &c->n_layers},
        {"n_stacks", &c->n_stacks},
    };
    if (strcmp(key, "preemphasis") == 0) {
        char *end = NULL;
        double v = g_ascii_strtod(value, &end);
        if (end == value || *end || !(v >= 0.0 && v <= 0.99)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "WaveNet setting preemphasis: “%s” is not a number in 0 … 0.99", value);
            return FALSE;
        }
        c->preemphasis = (float)v;
        return TRUE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        if (strcmp(key, fields[i].name) != 0)
            continue;
        char *end = NULL;
        gint64 v = g_ascii_strtoll(value, &end, 10);
        if (end == value || *end || v < 0 || v > G_MAXINT) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "WaveNet setting %s: “%s” is not a valid number", key, value);
            return FALSE;
        }
        *fields[i].i = (int)v;
        return TRUE;
    }
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                "unknown WaveNet setting “%s” (residual_channels, gate_channels, skip_channels, "
                "cond_channels, n_layers, n_stacks, preemphasis)",
                key);
    return FALSE;
}

char *aigc_wavenet_config_to_json(const AigcWavenetConfig *c)
{
    /* the shortest decimal that reads back as the same float, in any locale: a JSON number */
    char alpha[G_ASCII_DTOSTR_BUF_SIZE];
    for (int digits = 6; digits <= 9; digits++) {
        char format[8];
        g_snprintf(format, sizeof format, "%%.%dg", digits);
        g_ascii_formatd(alpha, sizeof alpha, format, c->preemphasis);
        if ((float)g_ascii_strtod(alpha, NULL) == c->preemphasis)
            break;
    }
    return g_strdup_printf("{\"n_mels\": %d, \"residual_channels\": %d, \"gate_channels\": %d, "
                           "\"skip_channels\": %d, \"cond_channels\": %d, \"n_layers\": %d, "
                           "\"n_stacks\": %d, \"preemphasis\": %s, \"output\": \"mulaw256\"}",
                           c->n_mels, c->residual_channels, c->gate_channels, c->skip_channels,
                           c->cond_channels, c->n_layers, c->n_stacks, alpha);
}

gboolean aigc_wavenet_config_from_json(AigcWavenetConfig *c, const char *json, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    GError *parse_error = NULL;
    if (!json_parser_load_from_data(parser, json, -1, &parse_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "WaveNet config is not JSON: %s", parse_error->message);
        g_error_free(parse_error);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "WaveNet config is not a JSON object");
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    *c = aigc_wavenet_default_config();
    const char *ints[] = {"n_mels",        "residual_channels", "gate_channels", "skip_channels",
                          "cond_channels", "n_layers",          "n_stacks"};
    int *dst[] = {&c->n_mels,        &c->residual_channels, &c->gate_channels, &c->skip_channels,
                  &c->cond_channels, &c->n_layers,          &c->n_stacks};
    for (guint i = 0; i < G_N_ELEMENTS(ints); i++) {
        JsonNode *n = json_object_get_member(o, ints[i]);
        if (!n || json_node_get_value_type(n) != G_TYPE_INT64) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "WaveNet config: “%s” is missing or not an integer", ints[i]);
            return FALSE;
        }
        gint64 v = json_node_get_int(n);
        *dst[i] = v < 0 || v > G_MAXINT ? -1 : (int)v;
    }
    c->preemphasis = 0.0f; /* files from before pre-emphasis modelled the audio itself */
    JsonNode *alpha = json_object_get_member(o, "preemphasis");
    if (alpha) {
        GType t = json_node_get_value_type(alpha);
        if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "WaveNet config: “preemphasis” is not a number");
            return FALSE;
        }
        c->preemphasis = (float)json_node_get_double(alpha);
    }
    const char *out = json_object_get_string_member_with_default(o, "output", "mulaw256");
    if (strcmp(out, "mulaw256") != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "WaveNet output “%s” is not supported (this engine: mulaw256)", out);
        return FALSE;
    }
    if (!aigc_wavenet_config_validate(c, error)) {
        g_prefix_error(error, "in the file: ");
        return FALSE;
    }
    return TRUE;
}

int aigc_wavenet_config_get_receptive_field(const AigcWavenetConfig *c)
{
    int per_stack = c->n_layers / c->n_stacks, rf = 2;
    for (int l = 0; l < c->n_layers; l++)
        rf += 1 << (l % per_stack);
    return rf;
}

gboolean aigc_wavenet_check_features(const AigcWavenetConfig *c, const AigcSpeechFeatures *f,
                                     GError **error)
{
    if (f->n_mels != c->n_mels) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "WaveNet: the config takes %d mel bands, the speech features have %d",
                    c->n_mels, f->n_mels);
        return FALSE;
    }
    return TRUE;
}

static AigcTensor *add3(AigcParams *p, const char *name, gint64 a, gint64 b, gint64 c)
{
    return aigc_params_add(p, name, 3, (gint64[]){a, b, c});
}

static AigcTensor *add1(AigcParams *p, const char *name, gint64 a)
{
    return aigc_params_add(p, name, 1, (gint64[]){a});
}

AigcWavenet *aigc_wavenet_new(const AigcWavenetConfig *config, const AigcSpeechFeatures *features)
{
    g_return_val_if_fail(aigc_wavenet_config_validate(config, NULL), NULL);
    g_return_val_if_fail(aigc_wavenet_check_features(config, features, NULL), NULL);
    AigcWavenet *w = g_new0(AigcWavenet, 1);
    w->config = *config;
    w->features = *features;
    const AigcWavenetConfig *c = config;
    const int R = c->residual_channels, G2 = c->gate_channels, G = G2 / 2, S = c->skip_channels;
    const int Cc = c->cond_channels, per_stack = c->n_layers / c->n_stacks;
    AigcParams *p = w->params = aigc_params_new();
    w->in_w = add3(p, "input.weight", R, 1, 2);
    w->in_b = add1(p, "input.bias", R);
    w->cond_w = add3(p, "cond.weight", Cc, c->n_mels, 3);
    w->cond_b = add1(p, "cond.bias", Cc);
    w->layers = g_new0(WavenetLayer, c->n_layers);
    for (int l = 0; l < c->n_layers; l++) {
        WavenetLayer *ly = &w->layers[l];
        char key[64];
        ly->dilation = 1 << (l % per_stack);
        g_snprintf(key, sizeof key, "layers.%d.dilated.weight", l);
        ly->dil_w = add3(p, key, G2, R, 2);
        g_snprintf(key, sizeof key, "layers.%d.dilated.bias", l);
        ly->dil_b = add1(p, key, G2);
        g_snprintf(key, sizeof key, "layers.%d.cond.weight", l);
        ly->cond_w = add3(p, key, G2, Cc, 1);
        g_snprintf(key, sizeof key, "layers.%d.out.weight", l);
        ly->out_w = add3(p, key, R + S, G, 1);
        g_snprintf(key, sizeof key, "layers.%d.out.bias", l);
        ly->out_b = add1(p, key, R + S);
    }
    w->post1_w = add3(p, "post1.weight", S, S, 1);
    w->post1_b = add1(p, "post1.bias", S);
    w->post2_w = add3(p, "post2.weight", AIGC_WAVENET_CLASSES, S, 1);
    w->post2_b = add1(p, "post2.bias", AIGC_WAVENET_CLASSES);
    aigc_params_allocate(p);
    return w;
}

void aigc_wavenet_free(AigcWavenet *w)
{
    if (!w)
        return;
    aigc_params_free(w->params);
    g_free(w->layers);
    g_free(w);
}

void aigc_wavenet_init_weights(AigcWavenet *w, AigcRng *rng)
{
    /* PyTorch's Conv1d default: U(−1/√fan_in, 1/√fan_in) with fan_in = in_channels·kernel,
     * for the weight and the bias of the same layer. */
    AigcTensor *ws[] = {w->in_w, w->cond_w, w->post1_w, w->post2_w};
    AigcTensor *bs[] = {w->in_b, w->cond_b, w->post1_b, w->post2_b};
    for (guint i = 0; i < G_N_ELEMENTS(ws); i++) {
        float bound = 1.0f / sqrtf((float)(ws[i]->shape[1] * ws[i]->shape[2]));
        aigc_rng_fill_uniform(rng, ws[i]->data, ws[i]->n_elements, -bound, bound);
        aigc_rng_fill_uniform(rng, bs[i]->data, bs[i]->n_elements, -bound, bound);
    }
    for (int l = 0; l < w->config.n_layers; l++) {
        WavenetLayer *ly = &w->layers[l];
        AigcTensor *lw[] = {ly->dil_w, ly->cond_w, ly->out_w};
        AigcTensor *lb[] = {ly->dil_b, NULL, ly->out_b};
        for (guint i = 0; i < G_N_ELEMENTS(lw); i++) {
            float bound = 1.0f / sqrtf((float)(lw[i]->shape[1] * lw[i]->shape[2]));
            aigc_rng_fill_uniform(rng, lw[i]->data, lw[i]->n_elements, -bound, bound);
            if (lb[i])
                aigc_rng_fill_uniform(rng, lb[i]->data, lb[i]->n_elements, -bound, bound);
        }
    }
}

const AigcWavenetConfig *aigc_wavenet_get_config(AigcWavenet *w)
{
    return &w->config;
}

const AigcSpeechFeatures *aigc_wavenet_get_features(AigcWavenet *w)
{
    return &w->features;
}

AigcParams *aigc_wavenet_get_params(AigcWavenet *w)
{
    return w->params;
}

/* ---- the training graph ---- */

AigcTensor *aigc_wavenet_forward(AigcCtx *ctx, AigcWavenet *w, AigcTensor *x, AigcTensor *mel,
                                 gint64 offset)
{
    const AigcWavenetConfig *c = &w->config;
    const int hop = w->features.hop_length, R = c->residual_channels, S = c->skip_channels;
    g_return_val_if_fail(x->n_dims == 3 && x->shape[1] == 1, NULL);
    g_return_val_if_fail(mel->n_dims == 3 && mel->shape[1] == c->n_mels, NULL);
    g_return_val_if_fail(mel->shape[0] == x->shape[0], NULL);
    const gint64 T = x->shape[2];
    g_return_val_if_fail(offset >= 0 && offset + T <= mel->shape[2] * hop, NULL);
    AigcTensor *h = aigc_conv1d(ctx, x, w->in_w, w->in_b, 1, 0, 1, TRUE); /* [B, R, T] */
    AigcTensor *cond = aigc_conv1d(ctx, mel, w->cond_w, w->cond_b, 1, 1, 1, FALSE);
    cond = aigc_leaky_relu(ctx, cond, AIGC_WAVENET_COND_SLOPE); /* [B, Cc, Fw] */
    AigcTensor *skip = NULL;
    for (int l = 0; l < c->n_layers; l++) {
        const WavenetLayer *ly = &w->layers[l];
        AigcTensor *a = aigc_conv1d(ctx, h, ly->dil_w, ly->dil_b, 1, 0, ly->dilation, TRUE);
        AigcTensor *p = aigc_conv1d(ctx, cond, ly->cond_w, NULL, 1, 0, 1, FALSE); /* [B,2G,Fw] */
        p = aigc_upsample_linear1d_window(ctx, p, hop, offset, T);                /* [B,2G,T] */
        AigcTensor *z = aigc_gated_tanh_sigmoid(ctx, a, p);                       /* [B, G, T] */
        /* the 1×1 output conv's residual and skip rows, as two products (slices of a
         * contiguous weight along its first dimension are contiguous: no copies) */
        AigcTensor *sk = aigc_conv1d(ctx, z, aigc_slice(ctx, ly->out_w, 0, R, R + S),
                                     aigc_slice(ctx, ly->out_b, 0, R, R + S), 1, 0, 1, FALSE);
        skip = skip ? aigc_add(ctx, skip, sk) : sk;
        if (l + 1 < c->n_layers) { /* the last residual output feeds nothing */
            AigcTensor *res = aigc_conv1d(ctx, z, aigc_slice(ctx, ly->out_w, 0, 0, R),
                                          aigc_slice(ctx, ly->out_b, 0, 0, R), 1, 0, 1, FALSE);
            h = aigc_scale(ctx, aigc_add(ctx, h, res), (float)M_SQRT1_2);
        }
    }
    AigcTensor *y = aigc_relu(ctx, aigc_scale(ctx, skip, 1.0f / sqrtf((float)c->n_layers)));
    y = aigc_relu(ctx, aigc_conv1d(ctx, y, w->post1_w, w->post1_b, 1, 0, 1, FALSE));
    return aigc_conv1d(ctx, y, w->post2_w, w->post2_b, 1, 0, 1, FALSE); /* [B, 256, T] */
}

void aigc_wavenet_teacher_forcing(const AigcWavenetConfig *c, const float *audio, gint64 T,
                                  const float before[2], float *x, gint32 *targets)
{
    const float alpha = c->preemphasis;
    float prev = before[1];
    x[0] = aigc_mulaw_decode_one(aigc_mulaw_encode_one(before[1] - alpha * before[0]));
    for (gint64 t = 0; t < T; t++) {
        guint8 q = aigc_mulaw_encode_one(audio[t] - alpha * prev); /* clamped to ±1 there */
        prev = audio[t];
        targets[t] = q;
        if (t + 1 < T)
            x[t + 1] = aigc_mulaw_decode_one(q);
    }
}

AigcTensor *aigc_wavenet_loss(AigcCtx *ctx, AigcWavenet *w, AigcTensor *x, AigcTensor *mel,
                              gint64 offset, const gint32 *targets)
{
    AigcTensor *logits = aigc_wavenet_forward(ctx, w, x, mel, offset);
    const gint64 B = logits->shape[0], T = logits->shape[2];
    logits = aigc_transpose(ctx, logits, 1, 2); /* [B, T, 256] */
    logits = aigc_reshape(ctx, logits, 2, (gint64[]){B * T, AIGC_WAVENET_CLASSES});
    return aigc_cross_entropy(ctx, logits, targets, -1);
}

/* ---- files ---- */

gboolean aigc_wavenet_save(AigcWavenet *w, AigcSafetensorsWriter *writer, AigcDtype dtype,
                           GError **error)
{
    g_autofree char *config = aigc_wavenet_config_to_json(&w->config);
    g_autofree char *features = aigc_speech_features_to_json(&w->features);
    aigc_safetensors_writer_set_metadata(writer, "family", AIGC_WAVENET_FAMILY);
    aigc_safetensors_writer_set_metadata(writer, "wavenet.config", config);
    aigc_safetensors_writer_set_metadata(writer, "speech.features", features);
    return aigc_params_save(w->params, writer, NULL, dtype, error);
}

AigcWavenet *aigc_wavenet_load(AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *json = aigc_safetensors_get_metadata(st, "wavenet.config");
    const char *fjson = aigc_safetensors_get_metadata(st, "speech.features");
    if (!json || !fjson) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a WaveNet vocoder (no “wavenet.config” or “speech.features” in its "
                    "metadata)",
                    label);
        return NULL;
    }
    AigcWavenetConfig config;
    AigcSpeechFeatures features;
    GError *e = NULL;
    if (!aigc_wavenet_config_from_json(&config, json, &e) ||
        !aigc_speech_features_from_json(&features, fjson, &e) ||
        !aigc_wavenet_check_features(&config, &features, &e)) {
        g_set_error(error, AIGC_ENGINE_ERROR,
                    e->code == AIGC_ENGINE_ERROR_UNSUPPORTED ? AIGC_ENGINE_ERROR_UNSUPPORTED
                                                             : AIGC_ENGINE_ERROR_FORMAT,
                    "%s: %s", label, e->message);
        g_error_free(e);
        return NULL;
    }
    const AigcSafetensorsTensor *in = aigc_safetensors_find(st, "input.weight");
    if (!in || in->n_dims != 3 || in->shape[0] != config.residual_channels || in->shape[1] != 1 ||
        in->shape[2] != 2) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: input.weight is missing or disagrees with the WaveNet config", label);
        return NULL;
    }
    AigcWavenet *w = aigc_wavenet_new(&config, &features);
    if (!aigc_params_load(w->params, st, NULL, error)) {
        aigc_wavenet_free(w);
        return NULL;
    }
    return w;
}
