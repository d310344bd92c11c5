/* SPDX-License-Identifier: MIT
 *
 * The Fashion-MNIST classifier. Legend: N batch, S image side, K classes, F features (fc1
 * width), c1/c2/c3 conv channels.
 */
#include "aigc-classifier.h"

#include "aigc-error.h"
#include "nn/aigc-nn.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

struct _AigcClassifier {
    AigcClassifierConfig config;
    AigcParams *params;
    AigcTensor *conv1_w, *conv1_b; /* (c1, 1, 3, 3), (c1) */
    AigcTensor *conv2_w, *conv2_b; /* (c2, c1, 3, 3), (c2) */
    AigcTensor *conv3_w, *conv3_b; /* (c3, c2, 3, 3), (c3) */
    AigcTensor *fc1_w, *fc1_b;     /* (F, c3·(S/4)²), (F) */
    AigcTensor *fc2_w, *fc2_b;     /* (K, F), (K) */
};

/* Images per forward pass when running inference: bounds the arena (≈ 30 MB at 28×28). */
#define INFER_BATCH 128

AigcClassifierConfig aigc_classifier_default_config(void)
{
    return (AigcClassifierConfig){
        .image_size = 28,
        .n_classes = 10,
        .c1 = 32,
        .c2 = 64,
        .c3 = 128,
        .hidden = 256,
        .dropout = 0.5f,
    };
}

gboolean aigc_classifier_config_validate(const AigcClassifierConfig *c, GError **error)
{
    const char *fault = NULL;
    if (c->image_size < 4 || c->image_size > 256 || c->image_size % 4 != 0)
        fault = "image_size must be a multiple of 4, 4 … 256";
    else if (c->n_classes < 2 || c->n_classes > 10000)
        fault = "n_classes must be 2 … 10000";
    else if (c->c1 < 1 || c->c1 > 1024 || c->c2 < 1 || c->c2 > 1024 || c->c3 < 1 ||
             c->c3 > 1024)
        fault = "c1, c2 and c3 must be 1 … 1024";
    else if (c->hidden < 1 || c->hidden > 16384)
        fault = "hidden must be 1 … 16384";
    else if (!(c->dropout >= 0 && c->dropout < 1))
        fault = "dropout must be in [0, 1)";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "classifier config: %s", fault);
        return FALSE;
    }
    return TRUE;
}

gboolean aigc_classifier_config_set(AigcClassifierConfig *c, const char *key, const char *value,
                                    GError **error)
{
    struct {
        const char *name;
        int *i;
    } fields[] = {
        {"image_size", &c->image_size}, {"n_classes", &c->n_classes}, {"c1", &c->c1},
        {"c2", &c->c2},                 {"c3", &c->c3},               {"hidden", &c->hidden},
    };
    char *end = NULL;
    if (strcmp(key, "dropout") == 0) {
        double v = g_ascii_strtod(value, &end);
        if (end == value || *end || !(v >= 0 && v < 1))
            goto bad;
        c->dropout = (float)v;
        return TRUE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        if (strcmp(key, fields[i].name) != 0)
            continue;
        gint64 v = g_ascii_strtoll(value, &end, 10);
        if (end == value || *end || v < 0 || v > G_MAXINT)
            goto bad;
        *fields[i].i = (int)v;
        return TRUE;
    }
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                "unknown classifier setting “%s” (image_size, n_classes, c1, c2, c3, hidden, "
                "dropout)",
                key);
    return FALSE;
bad:
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                "classifier setting %s: “%s” is not a valid number", key, value);
    return FALSE;
}

char *aigc_classifier_config_to_json(const AigcClassifierConfig *c)
{
    char dropout[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(dropout, sizeof dropout, "%.6g", c->dropout);
    return g_strdup_printf("{\"image_size\": %d, \"n_classes\": %d, \"c1\": %d, \"c2\": %d, "
                           "\"c3\": %d, \"hidden\": %d, \"dropout\": %s}",
                           c->image_size, c->n_classes, c->c1, c->c2, c->c3, c->hidden, dropout);
}

gboolean aigc_classifier_config_from_json(AigcClassifierConfig *c, const char *json,
                                          GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    GError *parse_error = NULL;
    if (!json_parser_load_from_data(parser, json, -1, &parse_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "classifier config is not JSON: %s", parse_error->message);
        g_error_free(parse_error);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "classifier config is not a JSON object");
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    *c = aigc_classifier_default_config();
    const char *ints[] = {"image_size", "n_classes", "c1", "c2", "c3", "hidden"};
    int *dst[] = {&c->image_size, &c->n_classes, &c->c1, &c->c2, &c->c3, &c->hidden};
    for (guint i = 0; i < G_N_ELEMENTS(ints); i++) {
        JsonNode *n = json_object_get_member(o, ints[i]);
        if (!n || json_node_get_value_type(n) != G_TYPE_INT64) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "classifier config: “%s” is missing or not an integer", ints[i]);
            return FALSE;
        }
        gint64 v = json_node_get_int(n);
        *dst[i] = v < 0 || v > G_MAXINT ? -1 : (int)v;
    }
    JsonNode *d = json_object_get_member(o, "dropout");
    if (d) {
        GType t = json_node_get_value_type(d);
        if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "classifier config: “dropout” is not a number");
            return FALSE;
        }
        c->dropout = (float)json_node_get_double(d);
    }
    if (!aigc_classifier_config_validate(c, error)) {
        g_prefix_error(error, "in the file: ");
        return FALSE;
    }
    return TRUE;
}

static gint64 flat_dim(const AigcClassifierConfig *c)
{
    const gint64 s = c->image_size / 4;
    return (gint64)c->c3 * s * s;
}

AigcClassifier *aigc_classifier_new(const AigcClassifierConfig *config)
{
    g_return_val_if_fail(aigc_classifier_config_validate(config, NULL), NULL);
    AigcClassifier *m = g_new0(AigcClassifier, 1);
    m->config = *config;
    const gint64 c1 = config->c1, c2 = config->c2, c3 = config->c3, F = config->hidden,
                 K = config->n_classes;
    AigcParams *p = m->params = aigc_params_new();
    m->conv1_w = aigc_params_add(p, "conv1.weight", 4, (gint64[]){c1, 1, 3, 3});
    m->conv1_b = aigc_params_add(p, "conv1.bias", 1, (gint64[]){c1});
    m->conv2_w = aigc_params_add(p, "conv2.weight", 4, (gint64[]){c2, c1, 3, 3});
    m->conv2_b = aigc_params_add(p, "conv2.bias", 1, (gint64[]){c2});
    m->conv3_w = aigc_params_add(p, "conv3.weight", 4, (gint64[]){c3, c2, 3, 3});
    m->conv3_b = aigc_params_add(p, "conv3.bias", 1, (gint64[]){c3});
    m->fc1_w = aigc_params_add(p, "fc1.weight", 2, (gint64[]){F, flat_dim(config)});
    m->fc1_b = aigc_params_add(p, "fc1.bias", 1, (gint64[]){F});
    m->fc2_w = aigc_params_add(p, "fc2.weight", 2, (gint64[]){K, F});
    m->fc2_b = aigc_params_add(p, "fc2.bias", 1, (gint64[]){K});
    aigc_params_allocate(p);
    return m;
}

void aigc_classifier_free(AigcClassifier *m)
{
    if (!m)
        return;
    aigc_params_free(m->params);
    g_free(m);
}

static void fill_uniform(AigcRng *rng, AigcTensor *t, double bound)
{
    aigc_rng_fill_uniform(rng, t->data, t->n_elements, (float)-bound, (float)bound);
}

void aigc_classifier_init_weights(AigcClassifier *m, AigcRng *rng)
{
    const AigcClassifierConfig *c = &m->config;
    fill_uniform(rng, m->conv1_w, sqrt(6.0 / 9));
    fill_uniform(rng, m->conv2_w, sqrt(6.0 / (9.0 * c->c1)));
    fill_uniform(rng, m->conv3_w, sqrt(6.0 / (9.0 * c->c2)));
    fill_uniform(rng, m->fc1_w, sqrt(6.0 / (double)flat_dim(c)));
    fill_uniform(rng, m->fc2_w, 1.0 / sqrt(c->hidden));
    AigcTensor *biases[] = {m->conv1_b, m->conv2_b, m->conv3_b, m->fc1_b, m->fc2_b};
    for (guint i = 0; i < G_N_ELEMENTS(biases); i++)
        aigc_tensor_fill(biases[i], 0.0f);
}

const AigcClassifierConfig *aigc_classifier_get_config(AigcClassifier *m)
{
    return &m->config;
}

AigcParams *aigc_classifier_get_params(AigcClassifier *m)
{
    return m->params;
}

int aigc_classifier_get_feature_dim(AigcClassifier *m)
{
    return m->config.hidden;
}

/* ---- on the tape ---- */

AigcTensor *aigc_classifier_forward(AigcCtx *ctx, AigcClassifier *m, const float *images, int N,
                                    AigcTensor **features)
{
    const AigcClassifierConfig *c = &m->config;
    const gint64 S = c->image_size, n_pixels = (gint64)N * S * S;
    g_return_val_if_fail(N >= 1 && images, NULL);
    /* [0, 1] → [−1, 1]: centred inputs train faster. The input needs no gradient. */
    AigcTensor *x = aigc_tensor_new4(ctx, N, 1, S, S);
    for (gint64 i = 0; i < n_pixels; i++)
        x->data[i] = 2.0f * images[i] - 1.0f;
    x = aigc_relu(ctx, aigc_conv2d(ctx, x, m->conv1_w, m->conv1_b, 1, 1));  /* (N, c1, S, S) */
    x = aigc_relu(ctx, aigc_conv2d(ctx, x, m->conv2_w, m->conv2_b, 1, 1));  /* (N, c2, S, S) */
    x = aigc_max_pool2d(ctx, x, 2, 2, 0);                                   /* (N, c2, S/2, S/2) */
    x = aigc_relu(ctx, aigc_conv2d(ctx, x, m->conv3_w, m->conv3_b, 1, 1));  /* (N, c3, S/2, S/2) */
    x = aigc_max_pool2d(ctx, x, 2, 2, 0);                                   /* (N, c3, S/4, S/4) */
    x = aigc_reshape(ctx, x, 2, (gint64[]){N, flat_dim(c)});
    AigcTensor *h = aigc_relu(ctx, aigc_linear(ctx, x, m->fc1_w, m->fc1_b)); /* (N, F) */
    if (features)
        *features = h;
    h = aigc_dropout(ctx, h, c->dropout);
    return aigc_linear(ctx, h, m->fc2_w, m->fc2_b); /* (N, K) */
}

AigcTensor *aigc_classifier_loss(AigcCtx *ctx, AigcClassifier *m, const float *images,
                                 const gint32 *labels, int N)
{
    for (int i = 0; i < N; i++)
        g_return_val_if_fail(labels[i] >= 0 && labels[i] < m->config.n_classes, NULL);
    return aigc_cross_entropy(ctx, aigc_classifier_forward(ctx, m, images, N, NULL), labels,
                              -100);
}

/* ---- inference ---- */

gboolean aigc_classifier_features(AigcClassifier *m, const float *images, gint64 n,
                                  float *features, float *logits, AigcJob *job, GError **error)
{
    g_return_val_if_fail(m && images && n >= 0, FALSE);
    const AigcClassifierConfig *c = &m->config;
    const gint64 n_pixels = (gint64)c->image_size * c->image_size;
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    aigc_ctx_set_training(ctx, FALSE);
    for (gint64 i = 0; i < n; i += INFER_BATCH) {
        if (job && aigc_job_is_cancelled(job)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "cancelled");
            return FALSE;
        }
        const int B = (int)MIN(INFER_BATCH, n - i);
        aigc_ctx_reset(ctx);
        AigcTensor *h = NULL;
        AigcTensor *out = aigc_classifier_forward(ctx, m, images + i * n_pixels, B, &h);
        if (features)
            memcpy(features + i * c->hidden, h->data, (gsize)B * c->hidden * sizeof(float));
        if (logits)
            memcpy(logits + i * c->n_classes, out->data,
                   (gsize)B * c->n_classes * sizeof(float));
    }
    return TRUE;
}

gboolean aigc_classifier_predict(AigcClassifier *m, const float *images, gint64 n,
                                 gint32 *predicted, AigcJob *job, GError **error)
{
    const int K = m->config.n_classes;
    g_autofree float *logits = g_new(float, MAX(n, 1) * K); /* (n, K) */
    if (!aigc_classifier_features(m, images, n, NULL, logits, job, error))
        return FALSE;
    for (gint64 i = 0; i < n; i++) {
        const float *row = logits + i * K;
        int best = 0;
        for (int k = 1; k < K; k++)
            if (row[k] > row[best])
                best = k;
        predicted[i] = best;
    }
    return TRUE;
}

gboolean aigc_classifier_accuracy(AigcClassifier *m, const float *images, const gint32 *labels,
                                  gint64 n, AigcJob *job, double *accuracy, GError **error)
{
    g_autofree gint32 *predicted = g_new(gint32, MAX(n, 1));
    if (!aigc_classifier_predict(m, images, n, predicted, job, error))
        return FALSE;
    gint64 correct = 0;
    for (gint64 i = 0; i < n; i++)
        correct += predicted[i] == labels[i];
    *accuracy = n > 0 ? (double)correct / (double)n : 0.0;
    return TRUE;
}

/* ---- files ---- */

gboolean aigc_classifier_save(AigcClassifier *m, AigcSafetensorsWriter *writer, AigcDtype dtype,
                              GError **error)
{
    g_autofree char *json = aigc_classifier_config_to_json(&m->config);
    aigc_safetensors_writer_set_metadata(writer, "family", AIGC_CLASSIFIER_FAMILY);
    aigc_safetensors_writer_set_metadata(writer, "classifier.config", json);
    return aigc_params_save(m->params, writer, NULL, dtype, error);
}

AigcClassifier *aigc_classifier_load(AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *family = aigc_safetensors_get_metadata(st, "family");
    const char *json = aigc_safetensors_get_metadata(st, "classifier.config");
    if (!json || g_strcmp0(family, AIGC_CLASSIFIER_FAMILY) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not an image classifier (family “%s”)", label,
                    family ? family : "none");
        return NULL;
    }
    AigcClassifierConfig config;
    GError *config_error = NULL;
    if (!aigc_classifier_config_from_json(&config, json, &config_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", label,
                    config_error->message);
        g_error_free(config_error);
        return NULL;
    }
    /* Refuse a config the tensors disagree with before allocating its (possibly huge) size. */
    const AigcSafetensorsTensor *fc1 = aigc_safetensors_find(st, "fc1.weight");
    if (!fc1 || fc1->n_dims != 2 || fc1->shape[0] != config.hidden ||
        fc1->shape[1] != flat_dim(&config)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: fc1.weight is missing or disagrees with the config", label);
        return NULL;
    }
    AigcClassifier *m = aigc_classifier_new(&config);
    if (!aigc_params_load(m->params, st, NULL, error)) {
        aigc_classifier_free(m);
        return NULL;
    }
    return m;
}

AigcClassifier *aigc_classifier_load_file(const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    return st ? aigc_classifier_load(st, error) : NULL;
}

char *aigc_classifier_dup_checksum(AigcClassifier *m)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree char *json = aigc_classifier_config_to_json(&m->config);
    g_checksum_update(sum, (const guchar *)json, (gssize)strlen(json));
    g_checksum_update(sum, (const guchar *)aigc_params_get_data(m->params),
                      (gssize)(aigc_params_get_n_elements(m->params) * (gint64)sizeof(float)));
    return g_strdup(g_checksum_get_string(sum));
}
