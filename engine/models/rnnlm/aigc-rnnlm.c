/* SPDX-License-Identifier: MIT
 *
 * RNN language models (LSTM, GRU, tanh RNN). Legend: B batch, T time, E embedding width,
 * H hidden size, G gate width (4H LSTM, 3H GRU, H RNN), V vocabulary, L layers.
 */
#include "aigc-rnnlm.h"

#include "aigc-error.h"
#include "text/aigc-text-nll.h"
#include "nn/aigc-nn.h"

#include <cblas.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

typedef struct {
    AigcTensor *w_ih; /* (G, E) for layer 0, else (G, H) */
    AigcTensor *w_hh; /* (G, H) */
    AigcTensor *b_ih; /* (G) */
    AigcTensor *b_hh; /* (G) */
} Layer;

struct _AigcRnnlm {
    AigcRnnlmConfig config;
    AigcParams *params;
    AigcTensor *embed;  /* (V, E) */
    Layer *layers;      /* (L) */
    AigcTensor *head_w; /* (V, H) */
    AigcTensor *head_b; /* (V) */
};

static const char *const cell_names[] = {"lstm", "gru", "rnn"};

const char *aigc_rnnlm_cell_name(AigcRnnlmCell cell)
{
    g_return_val_if_fail((guint)cell < G_N_ELEMENTS(cell_names), NULL);
    return cell_names[cell];
}

gboolean aigc_rnnlm_cell_from_name(const char *name, AigcRnnlmCell *cell)
{
    for (guint i = 0; name && i < G_N_ELEMENTS(cell_names); i++) {
        if (strcmp(name, cell_names[i]) == 0) {
            *cell = (AigcRnnlmCell)i;
            return TRUE;
        }
    }
    return FALSE;
}

static int gate_width(const AigcRnnlmConfig *c)
{
    return c->cell == AIGC_RNNLM_CELL_LSTM  ? 4 * c->hidden_dim
           : c->cell == AIGC_RNNLM_CELL_GRU ? 3 * c->hidden_dim
                                            : c->hidden_dim;
}

AigcRnnlmConfig aigc_rnnlm_default_config(void)
{
    return (AigcRnnlmConfig){
        .cell = AIGC_RNNLM_CELL_LSTM,
        .vocab_size = 256,
        .embed_dim = 64,
        .hidden_dim = 256,
        .n_layers = 2,
        .max_seq_len = 128,
    };
}

gboolean aigc_rnnlm_config_validate(const AigcRnnlmConfig *c, GError **error)
{
    const char *fault = NULL;
    if ((guint)c->cell >= G_N_ELEMENTS(cell_names))
        fault = "cell must be lstm, gru or rnn";
    else if (c->vocab_size < 2 || c->vocab_size > 1 << 20)
        fault = "vocab_size must be 2 … 1048576";
    else if (c->embed_dim < 1 || c->embed_dim > 16384)
        fault = "embed_dim must be 1 … 16384";
    else if (c->hidden_dim < 1 || c->hidden_dim > 16384)
        fault = "hidden_dim must be 1 … 16384";
    else if (c->n_layers < 1 || c->n_layers > 64)
        fault = "n_layers must be 1 … 64";
    else if (c->max_seq_len < 1 || c->max_seq_len > 65536)
        fault = "max_seq_len must be 1 … 65536";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "RNN LM config: %s",
                    fault);
        return FALSE;
    }
    return TRUE;
}

gboolean aigc_rnnlm_config_set(AigcRnnlmConfig *c, const char *key, const char *value,
                               GError **error)
{
    if (strcmp(key, "cell") == 0) {
        if (!aigc_rnnlm_cell_from_name(value, &c->cell)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "RNN LM setting cell: “%s” is not lstm, gru or rnn", value);
            return FALSE;
        }
        return TRUE;
    }
    struct {
        const char *name;
        int *i;
    } fields[] = {
        {"vocab_size", &c->vocab_size},   {"embed_dim", &c->embed_dim},
        {"hidden_dim", &c->hidden_dim},   {"n_layers", &c->n_layers},
        {"max_seq_len", &c->max_seq_len},
    };
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        if (strcmp(key, fields[i].name) != 0)
            continue;
        char *end = NULL;
        gint64 v = g_ascii_strtoll(value, &end, 10);
        if (end == value || *end || v < 0 || v > G_MAXINT) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "RNN LM setting %s: “%s” is not a valid number", key, value);
            return FALSE;
        }
        *fields[i].i = (int)v;
        return TRUE;
    }
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                "unknown RNN LM setting “%s” (cell, embed_dim, hidden_dim, n_layers, "
                "max_seq_len, vocab_size)",
                key);
    return FALSE;
}

char *aigc_rnnlm_config_to_json(const AigcRnnlmConfig *c)
{
    return g_strdup_printf("{\"cell\": \"%s\", \"vocab_size\": %d, \"embed_dim\": %d, "
                           "\"hidden_dim\": %d, \"n_layers\": %d, \"max_seq_len\": %d}",
                           aigc_rnnlm_cell_name(c->cell), c->vocab_size, c->embed_dim,
                           c->hidden_dim, c->n_layers, c->max_seq_len);
}

gboolean aigc_rnnlm_config_from_json(AigcRnnlmConfig *c, const char *json, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    GError *parse_error = NULL;
    if (!json_parser_load_from_data(parser, json, -1, &parse_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "RNN LM config is not JSON: %s", parse_error->message);
        g_error_free(parse_error);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "RNN LM config is not a JSON object");
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    *c = aigc_rnnlm_default_config();
    JsonNode *cell = json_object_get_member(o, "cell");
    if (!cell || json_node_get_value_type(cell) != G_TYPE_STRING ||
        !aigc_rnnlm_cell_from_name(json_node_get_string(cell), &c->cell)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "RNN LM config: “cell” is missing or not lstm, gru or rnn");
        return FALSE;
    }
    const char *ints[] = {"vocab_size", "embed_dim", "hidden_dim", "n_layers", "max_seq_len"};
    int *dst[] = {&c->vocab_size, &c->embed_dim, &c->hidden_dim, &c->n_layers, &c->max_seq_len};
    for (guint i = 0; i < G_N_ELEMENTS(ints); i++) {
        JsonNode *n = json_object_get_member(o, ints[i]);
        if (!n || json_node_get_value_type(n) != G_TYPE_INT64) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "RNN LM config: “%s” is missing or not an integer", ints[i]);
            return FALSE;
        }
        gint64 v = json_node_get_int(n);
        *dst[i] = v < 0 || v > G_MAXINT ? -1 : (int)v;
    }
    if (!aigc_rnnlm_config_validate(c, error)) {
        g_prefix_error(error, "in the file: ");
        return FALSE;
    }
    return TRUE;
}

AigcRnnlm *aigc_rnnlm_new(const AigcRnnlmConfig *config)
{
    g_return_val_if_fail(aigc_rnnlm_config_validate(config, NULL), NULL);
    AigcRnnlm *m = g_new0(AigcRnnlm, 1);
    m->config = *config;
    const gint64 V = config->vocab_size, E = config->embed_dim, H = config->hidden_dim;
    const gint64 G = gate_width(config);
    m->params = aigc_params_new();
    m->embed = aigc_params_add(m->params, "embed.weight", 2, (gint64[]){V, E});
    m->layers = g_new0(Layer, config->n_layers);
    for (int l = 0; l < config->n_layers; l++) {
        Layer *ly = &m->layers[l];
        char name[64];
        g_snprintf(name, sizeof name, "rnn.weight_ih_l%d", l);
        ly->w_ih = aigc_params_add(m->params, name, 2, (gint64[]){G, l == 0 ? E : H});
        g_snprintf(name, sizeof name, "rnn.weight_hh_l%d", l);
        ly->w_hh = aigc_params_add(m->params, name, 2, (gint64[]){G, H});
        g_snprintf(name, sizeof name, "rnn.bias_ih_l%d", l);
        ly->b_ih = aigc_params_add(m->params, name, 1, (gint64[]){G});
        g_snprintf(name, sizeof name, "rnn.bias_hh_l%d", l);
        ly->b_hh = aigc_params_add(m->params, name, 1, (gint64[]){G});
    }
    m->head_w = aigc_params_add(m->params, "head.weight", 2, (gint64[]){V, H});
    m->head_b = aigc_params_add(m->params, "head.bias", 1, (gint64[]){V});
    aigc_params_allocate(m->params);
    return m;
}

void aigc_rnnlm_free(AigcRnnlm *m)
{
    if (!m)
        return;
    aigc_params_free(m->params);
    g_free(m->layers);
    g_free(m);
}

void aigc_rnnlm_init_weights(AigcRnnlm *m, AigcRng *rng)
{
    const float k = 1.0f / sqrtf((float)m->config.hidden_dim);
    for (guint i = 0; i < aigc_params_get_n(m->params); i++) {
        AigcTensor *t = aigc_params_get(m->params, i);
        if (t == m->embed)
            aigc_rng_fill_normal(rng, t->data, t->n_elements, 0.0f, 1.0f);
        else
            aigc_rng_fill_uniform(rng, t->data, t->n_elements, -k, k);
    }
}

const AigcRnnlmConfig *aigc_rnnlm_get_config(AigcRnnlm *m)
{
    return &m->config;
}

AigcParams *aigc_rnnlm_get_params(AigcRnnlm *m)
{
    return m->params;
}

/* ---- training forward ---- */

AigcTensor *aigc_rnnlm_forward(AigcCtx *ctx, AigcRnnlm *m, const gint32 *ids, int B, int T)
{
    const AigcRnnlmConfig *c = &m->config;
    g_return_val_if_fail(B >= 1 && T >= 1 && T <= c->max_seq_len, NULL);
    AigcTensor *x = aigc_embedding(ctx, m->embed, ids, 2, (gint64[]){B, T}); /* (B, T, E) */
    for (int l = 0; l < c->n_layers; l++) {
        Layer *ly = &m->layers[l];
        switch (c->cell) {
        case AIGC_RNNLM_CELL_LSTM:
            x = aigc_lstm(ctx, x, NULL, NULL, ly->w_ih, ly->w_hh, ly->b_ih, ly->b_hh, NULL, NULL);
            break;
        case AIGC_RNNLM_CELL_GRU:
            x = aigc_gru(ctx, x, NULL, ly->w_ih, ly->w_hh, ly->b_ih, ly->b_hh, NULL);
            break;
        case AIGC_RNNLM_CELL_RNN:
            x = aigc_rnn_tanh(ctx, x, NULL, ly->w_ih, ly->w_hh, ly->b_ih, ly->b_hh, NULL);
            break;
        }
    }
    /* x (B, T, H) */
    AigcTensor *logits = aigc_linear(ctx, x, m->head_w, m->head_b); /* (B, T, V) */
    return aigc_reshape(ctx, logits, 2, (gint64[]){(gint64)B * T, c->vocab_size});
}

AigcTensor *aigc_rnnlm_loss(AigcCtx *ctx, AigcRnnlm *m, const gint32 *ids, const gint32 *targets,
                            int B, int T)
{
    return aigc_cross_entropy(ctx, aigc_rnnlm_forward(ctx, m, ids, B, T), targets, -1);
}

static AigcTensor *rnnlm_window_forward(AigcCtx *ctx, gpointer model, const gint32 *ids, int B,
                                        int T)
{
    return aigc_rnnlm_forward(ctx, model, ids, B, T);
}

gboolean aigc_rnnlm_total_nll(AigcRnnlm *m, const gint32 *ids, gint64 n, AigcJob *job, double *nats,
                              GError **error)
{
    /* The recurrence is sequential in T: a wide batch of windows keeps the products large. */
    return aigc_windowed_nll(rnnlm_window_forward, m, m->config.max_seq_len,
                             m->config.vocab_size, ids, n, job, nats, error);
}

/* ---- generation ---- */

struct _AigcRnnlmState {
    AigcRnnlm *m;
    gint64 pos;
    float *h;     /* (L, H) */
    float *c;     /* (L, H) LSTM cell states, else NULL */
    float *h_new; /* (H) */
    float *c_new; /* (H) */
    float *gates; /* (G) */
    float *gh;    /* (G) GRU hidden-side scratch */
};

AigcRnnlmState *aigc_rnnlm_state_new(AigcRnnlm *m)
{
    g_return_val_if_fail(m, NULL);
    const AigcRnnlmConfig *c = &m->config;
    const gsize H = (gsize)c->hidden_dim, G = (gsize)gate_width(c);
    AigcRnnlmState *s = g_new0(AigcRnnlmState, 1);
    s->m = m;
    s->h = g_new0(float, (gsize)c->n_layers *H);
    if (c->cell == AIGC_RNNLM_CELL_LSTM)
        s->c = g_new0(float, (gsize)c->n_layers *H);
    s->h_new = g_new0(float, H);
    s->c_new = g_new0(float, H);
    s->gates = g_new0(float, G);
    s->gh = g_new0(float, G);
    return s;
}

void aigc_rnnlm_state_free(AigcRnnlmState *s)
{
    if (!s)
        return;
    g_free(s->h);
    g_free(s->c);
    g_free(s->h_new);
    g_free(s->c_new);
    g_free(s->gates);
    g_free(s->gh);
    g_free(s);
}

void aigc_rnnlm_state_reset(AigcRnnlmState *s)
{
    const AigcRnnlmConfig *c = &s->m->config;
    gsize n = (gsize)c->n_layers * c->hidden_dim;
    memset(s->h, 0, n * sizeof(float));
    if (s->c)
        memset(s->c, 0, n * sizeof(float));
    s->pos = 0;
}

gint64 aigc_rnnlm_state_get_pos(AigcRnnlmState *s)
{
    return s->pos;
}

gboolean aigc_rnnlm_decode(AigcRnnlm *m, AigcRnnlmState *s, gint32 token, float *logits)
{
    const AigcRnnlmConfig *c = &m->config;
    g_return_val_if_fail(s && s->m == m, FALSE);
    g_return_val_if_fail(token >= 0 && token < c->vocab_size, FALSE);
    const int E = c->embed_dim, H = c->hidden_dim;
    /* The same kernels as training with B = T = 1, so decoding agrees with the forward. */
    const float *x = m->embed->data + (gsize)token * E; /* (D) this layer's input */
    int D = E;
    for (int l = 0; l < c->n_layers; l++) {
        Layer *ly = &m->layers[l];
        float *h = s->h + (gsize)l * H; /* (H) */
        switch (c->cell) {
        case AIGC_RNNLM_CELL_LSTM: {
            float *cs = s->c + (gsize)l * H; /* (H) */
            aigc_lstm_forward(s->h_new, NULL, s->c_new, s->gates, NULL, x, h, cs, ly->w_ih->data,
                              ly->w_hh->data, ly->b_ih->data, ly->b_hh->data, 1, 1, D, H);
            memcpy(cs, s->c_new, (gsize)H * sizeof(float));
            break;
        }
        case AIGC_RNNLM_CELL_GRU:
            aigc_gru_forward(s->h_new, NULL, s->gates, NULL, s->gh, x, h, ly->w_ih->data,
                             ly->w_hh->data, ly->b_ih->data, ly->b_hh->data, 1, 1, D, H);
            break;
        case AIGC_RNNLM_CELL_RNN:
            aigc_rnn_tanh_forward(s->h_new, NULL, x, h, ly->w_ih->data, ly->w_hh->data,
                                  ly->b_ih->data, ly->b_hh->data, 1, 1, D, H);
            break;
        }
        memcpy(h, s->h_new, (gsize)H * sizeof(float));
        x = h;
        D = H;
    }
    /* logits (V) = head_w (V, H) · h + head_b */
    memcpy(logits, m->head_b->data, (gsize)c->vocab_size * sizeof(float));
    cblas_sgemv(CblasRowMajor, CblasNoTrans, c->vocab_size, H, 1.0f, m->head_w->data, H, x, 1, 1.0f,
                logits, 1);
    s->pos++;
    return TRUE;
}

/* ---- files ---- */

gboolean aigc_rnnlm_save(AigcRnnlm *m, AigcSafetensorsWriter *writer, AigcDtype dtype,
                         GError **error)
{
    g_autofree char *json = aigc_rnnlm_config_to_json(&m->config);
    aigc_safetensors_writer_set_metadata(writer, "family", aigc_rnnlm_cell_name(m->config.cell));
    aigc_safetensors_writer_set_metadata(writer, "rnnlm.config", json);
    return aigc_params_save(m->params, writer, NULL, dtype, error);
}

AigcRnnlm *aigc_rnnlm_load(AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *json = aigc_safetensors_get_metadata(st, "rnnlm.config");
    if (!json) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not an RNN language model (no “rnnlm.config” in its metadata)", label);
        return NULL;
    }
    AigcRnnlmConfig config;
    GError *config_error = NULL;
    if (!aigc_rnnlm_config_from_json(&config, json, &config_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", label,
                    config_error->message);
        g_error_free(config_error);
        return NULL;
    }
    const char *family = aigc_safetensors_get_metadata(st, "family");
    AigcRnnlmCell family_cell;
    if (family && aigc_rnnlm_cell_from_name(family, &family_cell) && family_cell != config.cell) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: the family “%s” and the config's cell “%s” disagree", label, family,
                    aigc_rnnlm_cell_name(config.cell));
        return NULL;
    }
    /* Refuse absurd sizes before allocating: the tensors in the file must match anyway. */
    const AigcSafetensorsTensor *emb = aigc_safetensors_find(st, "embed.weight");
    if (!emb || emb->n_dims != 2 || emb->shape[0] != config.vocab_size ||
        emb->shape[1] != config.embed_dim) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: embed.weight is missing or disagrees with the config", label);
        return NULL;
    }
    const AigcSafetensorsTensor *w_hh = aigc_safetensors_find(st, "rnn.weight_hh_l0");
    if (!w_hh || w_hh->n_dims != 2 || w_hh->shape[0] != gate_width(&config) ||
        w_hh->shape[1] != config.hidden_dim) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: rnn.weight_hh_l0 is missing or disagrees with the config", label);
        return NULL;
    }
    AigcRnnlm *m = aigc_rnnlm_new(&config);
    if (!aigc_params_load(m->params, st, NULL, error)) {
        aigc_rnnlm_free(m);
        return NULL;
    }
    return m;
}
