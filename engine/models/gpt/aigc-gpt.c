/* SPDX-License-Identifier: MIT
 *
 * GPT (Llama layout). Legend: B batch, T time, C dim, H heads, D head size, F hidden (SwiGLU),
 * V vocabulary, L layers.
 */
#include "aigc-gpt.h"

#include "aigc-error.h"
#include "text/aigc-text-nll.h"
#include "nn/aigc-nn.h"

#include <cblas.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    AigcTensor *attention_norm; /* (C) */
    AigcTensor *wq, *wk, *wv;   /* (C, C) */
    AigcTensor *wo;             /* (C, C) */
    AigcTensor *ffn_norm;       /* (C) */
    AigcTensor *w1, *w3;        /* (F, C) */
    AigcTensor *w2;             /* (C, F) */
} Layer;

struct _AigcGpt {
    AigcGptConfig config;
    AigcParams *params;
    AigcTensor *tok_embeddings; /* (V, C) */
    Layer *layers;              /* (L) */
    AigcTensor *norm;           /* (C) */
    AigcTensor *output;         /* (V, C) */
    gint32 *positions;          /* (max_seq_len) 0, 1, 2 … */
};

AigcGptConfig aigc_gpt_default_config(void)
{
    return (AigcGptConfig){
        .vocab_size = 256,
        .dim = 256,
        .n_layers = 4,
        .n_heads = 8,
        .hidden_dim = 768,
        .max_seq_len = 256,
        .norm_eps = 1e-5f,
        .rope_theta = 10000.0f,
        .dropout = 0.0f,
    };
}

gboolean aigc_gpt_config_validate(const AigcGptConfig *c, GError **error)
{
    const char *fault = NULL;
    if (c->vocab_size < 2 || c->vocab_size > 1 << 20)
        fault = "vocab_size must be 2 … 1048576";
    else if (c->dim < 2 || c->dim > 16384)
        fault = "dim must be 2 … 16384";
    else if (c->n_layers < 1 || c->n_layers > 256)
        fault = "n_layers must be 1 … 256";
    else if (c->n_heads < 1 || c->dim % c->n_heads != 0)
        fault = "n_heads must divide dim";
    else if ((c->dim / c->n_heads) % 2 != 0)
        fault = "the head size (dim / n_heads) must be even for rotary positions";
    else if (c->hidden_dim < 1 || c->hidden_dim > 65536)
        fault = "hidden_dim must be 1 … 65536";
    else if (c->max_seq_len < 1 || c->max_seq_len > 65536)
        fault = "max_seq_len must be 1 … 65536";
    else if (!(c->norm_eps > 0 && c->norm_eps < 1))
        fault = "norm_eps must be in (0, 1)";
    else if (!(c->rope_theta > 1 && isfinite(c->rope_theta)))
        fault = "rope_theta must be > 1";
    else if (!(c->dropout >= 0 && c->dropout < 1))
        fault = "dropout must be in [0, 1)";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "GPT config: %s", fault);
        return FALSE;
    }
    return TRUE;
}

gboolean aigc_gpt_config_set(AigcGptConfig *c, const char *key, const char *value, GError **error)
{
    struct {
        const char *name;
        int *i;
        float *f;
    } fields[] = {
        {"vocab_size", &c->vocab_size, NULL}, {"dim", &c->dim, NULL},
        {"n_layers", &c->n_layers, NULL},     {"n_heads", &c->n_heads, NULL},
        {"hidden_dim", &c->hidden_dim, NULL}, {"max_seq_len", &c->max_seq_len, NULL},
        {"norm_eps", NULL, &c->norm_eps},     {"rope_theta", NULL, &c->rope_theta},
        {"dropout", NULL, &c->dropout},
    };
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
                "unknown GPT setting “%s” (dim, n_layers, n_heads, hidden_dim, max_seq_len, "
                "vocab_size, norm_eps, rope_theta, dropout)",
                key);
    return FALSE;
bad:
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                "GPT setting %s: “%s” is not a valid number", key, value);
    return FALSE;
}

char *aigc_gpt_config_to_json(const AigcGptConfig *c)
{
    return g_strdup_printf("{\"vocab_size\": %d, \"dim\": %d, \"n_layers\": %d, \"n_heads\": %d, "
                           "\"hidden_dim\": %d, \"max_seq_len\": %d, \"norm_eps\": %.9g, "
                           "\"rope_theta\": %.9g, \"dropout\": %.9g}",
                           c->vocab_size, c->dim, c->n_layers, c->n_heads, c->hidden_dim,
                           c->max_seq_len, c->norm_eps, c->rope_theta, c->dropout);
}

gboolean aigc_gpt_config_from_json(AigcGptConfig *c, const char *json, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    GError *parse_error = NULL;
    if (!json_parser_load_from_data(parser, json, -1, &parse_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "GPT config is not JSON: %s", parse_error->message);
        g_error_free(parse_error);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "GPT config is not a JSON object");
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    *c = aigc_gpt_default_config();
    const char *ints[] = {"vocab_size", "dim", "n_layers", "n_heads", "hidden_dim",
                          "max_seq_len"};
    int *dst[] = {&c->vocab_size, &c->dim,        &c->n_layers,
                  &c->n_heads,    &c->hidden_dim, &c->max_seq_len};
    for (guint i = 0; i < G_N_ELEMENTS(ints); i++) {
        JsonNode *n = json_object_get_member(o, ints[i]);
        if (!n || json_node_get_value_type(n) != G_TYPE_INT64) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "GPT config: “%s” is missing or not an integer", ints[i]);
            return FALSE;
        }
        gint64 v = json_node_get_int(n);
        *dst[i] = v < 0 || v > G_MAXINT ? -1 : (int)v;
    }
    c->norm_eps = (float)json_object_get_double_member_with_default(o, "norm_eps", c->norm_eps);
    c->rope_theta =
        (float)json_object_get_double_member_with_default(o, "rope_theta", c->rope_theta);
    c->dropout = (float)json_object_get_double_member_with_default(o, "dropout", 0.0);
    if (!aigc_gpt_config_validate(c, error)) {
        g_prefix_error(error, "in the file: ");
        return FALSE;
    }
    return TRUE;
}

AigcGpt *aigc_gpt_new(const AigcGptConfig *config)
{
    g_return_val_if_fail(aigc_gpt_config_validate(config, NULL), NULL);
    AigcGpt *gpt = g_new0(AigcGpt, 1);
    gpt->config = *config;
    const gint64 C = config->dim, F = config->hidden_dim, V = config->vocab_size;
    gpt->params = aigc_params_new();
    gpt->tok_embeddings = aigc_params_add(gpt->params, "tok_embeddings.weight", 2,
                                          (gint64[]){V, C});
    gpt->layers = g_new0(Layer, config->n_layers);
    for (int l = 0; l < config->n_layers; l++) {
        Layer *ly = &gpt->layers[l];
        char name[96];
#define ADD(field, suffix, nd, ...)                                                                \
    g_snprintf(name, sizeof name, "layers.%d.%s", l, suffix);                                      \
    ly->field = aigc_params_add(gpt->params, name, nd, (gint64[]){__VA_ARGS__})
        ADD(attention_norm, "attention_norm.weight", 1, C);
        ADD(wq, "attention.wq.weight", 2, C, C);
        ADD(wk, "attention.wk.weight", 2, C, C);
        ADD(wv, "attention.wv.weight", 2, C, C);
        ADD(wo, "attention.wo.weight", 2, C, C);
        ADD(ffn_norm, "ffn_norm.weight", 1, C);
        ADD(w1, "feed_forward.w1.weight", 2, F, C);
        ADD(w2, "feed_forward.w2.weight", 2, C, F);
        ADD(w3, "feed_forward.w3.weight", 2, F, C);
#undef ADD
    }
    gpt->norm = aigc_params_add(gpt->params, "norm.weight", 1, (gint64[]){C});
    gpt->output = aigc_params_add(gpt->params, "output.weight", 2, (gint64[]){V, C});
    aigc_params_allocate(gpt->params);
    gpt->positions = g_new(gint32, config->max_seq_len);
    for (int t = 0; t < config->max_seq_len; t++)
        gpt->positions[t] = t;
    return gpt;
}

void aigc_gpt_free(AigcGpt *gpt)
{
    if (!gpt)
        return;
    aigc_params_free(gpt->params);
    g_free(gpt->layers);
    g_free(gpt->positions);
    g_free(gpt);
}

void aigc_gpt_init_weights(AigcGpt *gpt, AigcRng *rng)
{
    float residual_std = 0.02f / sqrtf(2.0f * gpt->config.n_layers);
    for (guint i = 0; i < aigc_params_get_n(gpt->params); i++) {
        AigcTensor *t = aigc_params_get(gpt->params, i);
        if (t->n_dims == 1) {
            aigc_tensor_fill(t, 1.0f); /* RMS norm weights */
        } else {
            gboolean residual = g_str_has_suffix(t->name, "wo.weight") ||
                                g_str_has_suffix(t->name, "w2.weight");
            aigc_rng_fill_normal(rng, t->data, t->n_elements, 0.0f,
                                 residual ? residual_std : 0.02f);
        }
    }
}

const AigcGptConfig *aigc_gpt_get_config(AigcGpt *gpt)
{
    return &gpt->config;
}

AigcParams *aigc_gpt_get_params(AigcGpt *gpt)
{
    return gpt->params;
}

/* ---- training forward ---- */

static AigcTensor *heads(AigcCtx *ctx, AigcTensor *x, int B, int T, int H, int D, gboolean rope,
                         float theta)
{
    x = aigc_reshape(ctx, x, 4, (gint64[]){B, T, H, D}); /* (B, T, H, D) */
    if (rope)
        x = aigc_rope(ctx, x, 0, theta);
    return aigc_permute(ctx, x, (int[]){0, 2, 1, 3}); /* (B, H, T, D) */
}

AigcTensor *aigc_gpt_forward(AigcCtx *ctx, AigcGpt *gpt, const gint32 *ids, int B, int T)
{
    const AigcGptConfig *c = &gpt->config;
    g_return_val_if_fail(T >= 1 && T <= c->max_seq_len, NULL);
    const int C = c->dim, H = c->n_heads, D = C / H;
    const float p = c->dropout; /* aigc_dropout is the identity outside training */
    AigcTensor *x = aigc_embedding(ctx, gpt->tok_embeddings, ids, 2, (gint64[]){B, T}); /* B,T,C */
    x = aigc_dropout(ctx, x, p);
    for (int l = 0; l < c->n_layers; l++) {
        Layer *ly = &gpt->layers[l];
        AigcTensor *h = aigc_rmsnorm(ctx, x, ly->attention_norm, c->norm_eps);
        AigcTensor *q = heads(ctx, aigc_linear(ctx, h, ly->wq, NULL), B, T, H, D, TRUE,
                              c->rope_theta);
        AigcTensor *k = heads(ctx, aigc_linear(ctx, h, ly->wk, NULL), B, T, H, D, TRUE,
                              c->rope_theta);
        AigcTensor *v = heads(ctx, aigc_linear(ctx, h, ly->wv, NULL), B, T, H, D, FALSE, 0);
        AigcTensor *y = aigc_attention(ctx, q, k, v, TRUE, 1.0f / sqrtf((float)D), NULL);
        y = aigc_reshape(ctx, aigc_permute(ctx, y, (int[]){0, 2, 1, 3}), 3, (gint64[]){B, T, C});
        x = aigc_add(ctx, x, aigc_dropout(ctx, aigc_linear(ctx, y, ly->wo, NULL), p));
        h = aigc_rmsnorm(ctx, x, ly->ffn_norm, c->norm_eps);
        AigcTensor *gate = aigc_silu(ctx, aigc_linear(ctx, h, ly->w1, NULL));
        AigcTensor *up = aigc_linear(ctx, h, ly->w3, NULL);
        x = aigc_add(ctx, x,
                     aigc_dropout(ctx, aigc_linear(ctx, aigc_mul(ctx, gate, up), ly->w2, NULL), p));
    }
    x = aigc_rmsnorm(ctx, x, gpt->norm, c->norm_eps);
    AigcTensor *logits = aigc_linear(ctx, x, gpt->output, NULL); /* (B, T, V) */
    return aigc_reshape(ctx, logits, 2, (gint64[]){(gint64)B * T, c->vocab_size});
}

AigcTensor *aigc_gpt_loss(AigcCtx *ctx, AigcGpt *gpt, const gint32 *ids, const gint32 *targets,
                          int B, int T)
{
    return aigc_cross_entropy(ctx, aigc_gpt_forward(ctx, gpt, ids, B, T), targets, -1);
}

static AigcTensor *gpt_window_forward(AigcCtx *ctx, gpointer model, const gint32 *ids, int B,
                                      int T)
{
    return aigc_gpt_forward(ctx, model, ids, B, T);
}

gboolean aigc_gpt_total_nll(AigcGpt *gpt, const gint32 *ids, gint64 n, AigcJob *job,
                            double *nats, GError **error)
{
    return aigc_windowed_nll(gpt_window_forward, gpt, gpt->config.max_seq_len,
                             gpt->config.vocab_size, ids, n, job, nats, error);
}

/* ---- generation ---- */

struct _AigcGptState {
    AigcKVCache *cache;
    int pos;
    float *x, *xb, *xb2; /* (C) */
    float *q, *k, *v;    /* (C) */
    float *hb, *hb2;     /* (F) */
    float *rstd;         /* (1) */
};

AigcGptState *aigc_gpt_state_new(AigcGpt *gpt)
{
    const AigcGptConfig *c = &gpt->config;
    AigcGptState *s = g_new0(AigcGptState, 1);
    s->cache = aigc_kv_cache_new(c->n_layers, c->n_heads, c->max_seq_len, c->dim / c->n_heads);
    if (!s->cache) {
        g_free(s);
        return NULL;
    }
    s->x = g_new0(float, c->dim);
    s->xb = g_new0(float, c->dim);
    s->xb2 = g_new0(float, c->dim);
    s->q = g_new0(float, c->dim);
    s->k = g_new0(float, c->dim);
    s->v = g_new0(float, c->dim);
    s->hb = g_new0(float, c->hidden_dim);
    s->hb2 = g_new0(float, c->hidden_dim);
    s->rstd = g_new0(float, 1);
    return s;
}

void aigc_gpt_state_free(AigcGptState *s)
{
    if (!s)
        return;
    aigc_kv_cache_free(s->cache);
    g_free(s->x);
    g_free(s->xb);
    g_free(s->xb2);
    g_free(s->q);
    g_free(s->k);
    g_free(s->v);
    g_free(s->hb);
    g_free(s->hb2);
    g_free(s->rstd);
    g_free(s);
}

void aigc_gpt_state_reset(AigcGptState *s)
{
    aigc_kv_cache_reset(s->cache);
    s->pos = 0;
}

int aigc_gpt_state_get_pos(AigcGptState *s)
{
    return s->pos;
}

/* out (rows) = W (rows, cols) · x (cols) */
static void matvec(float *out, const float *W, const float *x, int rows, int cols)
{
    cblas_sgemv(CblasRowMajor, CblasNoTrans, rows, cols, 1.0f, W, cols, x, 1, 0.0f, out, 1);
}

gboolean aigc_gpt_decode(AigcGpt *gpt, AigcGptState *s, gint32 token, float *logits)
{
    const AigcGptConfig *c = &gpt->config;
    g_return_val_if_fail(token >= 0 && token < c->vocab_size, FALSE);
    if (s->pos >= c->max_seq_len)
        return FALSE;
    const int C = c->dim, H = c->n_heads, D = C / H, F = c->hidden_dim;
    memcpy(s->x, gpt->tok_embeddings->data + (gsize)token * C, C * sizeof(float));
    for (int l = 0; l < c->n_layers; l++) {
        Layer *ly = &gpt->layers[l];
        aigc_rmsnorm_forward(s->xb, s->rstd, s->x, ly->attention_norm->data, 1, C, c->norm_eps);
        matvec(s->q, ly->wq->data, s->xb, C, C);
        matvec(s->k, ly->wk->data, s->xb, C, C);
        matvec(s->v, ly->wv->data, s->xb, C, C);
        aigc_rope_apply(s->q, H, D, s->pos, c->rope_theta);
        aigc_rope_apply(s->k, H, D, s->pos, c->rope_theta);
        if (!aigc_attention_decode(s->cache, l, s->q, s->k, s->v, 1.0f / sqrtf((float)D), s->xb))
            return FALSE;
        matvec(s->xb2, ly->wo->data, s->xb, C, C);
        for (int i = 0; i < C; i++)
            s->x[i] += s->xb2[i];
        aigc_rmsnorm_forward(s->xb, s->rstd, s->x, ly->ffn_norm->data, 1, C, c->norm_eps);
        matvec(s->hb, ly->w1->data, s->xb, F, C);
        matvec(s->hb2, ly->w3->data, s->xb, F, C);
        for (int i = 0; i < F; i++) {
            float g = s->hb[i];
            s->hb[i] = g / (1.0f + expf(-g)) * s->hb2[i];
        }
        matvec(s->xb, ly->w2->data, s->hb, C, F);
        for (int i = 0; i < C; i++)
            s->x[i] += s->xb[i];
    }
    aigc_rmsnorm_forward(s->xb, s->rstd, s->x, gpt->norm->data, 1, C, c->norm_eps);
    matvec(logits, gpt->output->data, s->xb, c->vocab_size, C);
    s->pos++;
    return TRUE;
}

/* ---- files ---- */

gboolean aigc_gpt_save(AigcGpt *gpt, AigcSafetensorsWriter *writer, AigcDtype dtype,
                       GError **error)
{
    g_autofree char *json = aigc_gpt_config_to_json(&gpt->config);
    aigc_safetensors_writer_set_metadata(writer, "family", "gpt");
    aigc_safetensors_writer_set_metadata(writer, "gpt.config", json);
    return aigc_params_save(gpt->params, writer, NULL, dtype, error);
}

AigcGpt *aigc_gpt_load(AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *json = aigc_safetensors_get_metadata(st, "gpt.config");
    if (!json) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a GPT model (no “gpt.config” in its metadata)", label);
        return NULL;
    }
    AigcGptConfig config;
    GError *config_error = NULL;
    if (!aigc_gpt_config_from_json(&config, json, &config_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", label,
                    config_error->message);
        g_error_free(config_error);
        return NULL;
    }
    /* Refuse absurd sizes before allocating: the tensors in the file must match anyway. */
    const AigcSafetensorsTensor *emb = aigc_safetensors_find(st, "tok_embeddings.weight");
    if (!emb || emb->n_dims != 2 || emb->shape[0] != config.vocab_size ||
        emb->shape[1] != config.dim) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: tok_embeddings.weight is missing or disagrees with the config", label);
        return NULL;
    }
    AigcGpt *gpt = aigc_gpt_new(&config);
    if (!aigc_params_load(gpt->params, st, NULL, error)) {
        aigc_gpt_free(gpt);
        return NULL;
    }
    return gpt;
}
