/* SPDX-License-Identifier: MIT
 *
 * Tacotron 2: parameters, the teacher-forced forward with its losses, and files (the config is
 * in aigc-tacotron2-config.c, inference in aigc-tacotron2-synth.c, the decoder loop in
 * aigc-tacotron2-decoder.c).
 *
 * Legend: B batch, N input symbols, T decoder steps, Fr frames (T·r), M mel bands, V symbols,
 * De embedding width, E encoder width, P prenet width.
 */
#include "aigc-tacotron2.h"
#include "aigc-tacotron2-private.h"

#include "aigc-error.h"
#include "nn/aigc-nn.h"

#include <math.h>
#include <string.h>

/* ---- the model ---- */

typedef struct {
    AigcTensor *w, *b;                 /* conv [OC, C, K], [OC] */
    AigcTensor *bn_w, *bn_b;           /* [OC] */
    float *running_mean, *running_var; /* [OC], inside bn_stats */
    char *prefix;                      /* e.g. "encoder.convolutions.0." */
} ConvBn;

struct _AigcTacotron2 {
    AigcTacotron2Config config;
    AigcSpeechFeatures features;
    AigcPhonemeVocab *vocab;
    AigcParams *params;
    AigcTensor *embedding;   /* [V, De] */
    ConvBn *enc;             /* [encoder_n_convs] */
    AigcTensor *lstm[2][4];  /* [direction][w_ih [4E/2, E], w_hh [4E/2, E/2], b_ih, b_hh] */
    AigcTensor *memory_w;    /* [A, E] */
    AigcTensor *prenet_w[2]; /* [P, M], [P, P] */
    AigcT2DecoderWeights dec;
    AigcTensor *proj_w, *proj_b; /* [M·r, Hd + E], [M·r] */
    AigcTensor *gate_w, *gate_b; /* [1, Hd + E], [1] */
    ConvBn *post;                /* [postnet_n_convs] */
    float *bn_stats;             /* every running mean and variance */
    gint64 n_bn_stats;
};

static AigcTensor *add3(AigcParams *p, const char *name, int n_dims, gint64 d0, gint64 d1,
                        gint64 d2)
{
    gint64 shape[3] = {d0, d1, d2};
    return aigc_params_add(p, name, n_dims, shape);
}

static void add_conv_bn(AigcTacotron2 *m, ConvBn *cb, const char *prefix, int C, int OC, int K)
{
    cb->prefix = g_strdup(prefix);
    g_autofree char *w = g_strconcat(prefix, "conv.weight", NULL);
    g_autofree char *b = g_strconcat(prefix, "conv.bias", NULL);
    g_autofree char *bw = g_strconcat(prefix, "bn.weight", NULL);
    g_autofree char *bb = g_strconcat(prefix, "bn.bias", NULL);
    cb->w = add3(m->params, w, 3, OC, C, K);
    cb->b = add3(m->params, b, 1, OC, 0, 0);
    cb->bn_w = add3(m->params, bw, 1, OC, 0, 0);
    cb->bn_b = add3(m->params, bb, 1, OC, 0, 0);
    m->n_bn_stats += 2 * OC;
}

AigcTacotron2 *aigc_tacotron2_new(const AigcTacotron2Config *config,
                                  const AigcSpeechFeatures *features, AigcPhonemeVocab *vocab,
                                  GError **error)
{
    if (!aigc_tacotron2_config_validate(config, error) ||
        !aigc_speech_features_validate(features, error))
        return NULL;
    if (config->n_symbols != aigc_phoneme_vocab_get_size(vocab)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "Tacotron 2: n_symbols %d differs from the vocabulary's %d symbols",
                    config->n_symbols, aigc_phoneme_vocab_get_size(vocab));
        return NULL;
    }
    if (config->n_mels != features->n_mels) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "Tacotron 2: n_mels %d differs from the speech features' %d", config->n_mels,
                    features->n_mels);
        return NULL;
    }
    g_autofree char *vocab_json = aigc_phoneme_vocab_to_json(vocab);
    AigcPhonemeVocab *copy = aigc_phoneme_vocab_new_from_json(vocab_json, error);
    if (!copy)
        return NULL;
    const AigcTacotron2Config *c = config;
    AigcTacotron2 *m = g_new0(AigcTacotron2, 1);
    m->config = *c;
    m->features = *features;
    m->vocab = copy;
    m->params = aigc_params_new();
    const int E = c->encoder_dim, H = E / 2, M = c->n_mels, P = c->prenet_dim;
    const int Ha = c->attention_rnn_dim, Hd = c->decoder_rnn_dim, A = c->attention_dim;
    AigcParams *p = m->params;
    m->embedding = add3(p, "embedding.weight", 2, c->n_symbols, c->embed_dim, 0);
    m->enc = g_new0(ConvBn, MAX(c->encoder_n_convs, 1));
    for (int i = 0; i < c->encoder_n_convs; i++) {
        char prefix[64];
        g_snprintf(prefix, sizeof prefix, "encoder.convolutions.%d.", i);
        add_conv_bn(m, &m->enc[i], prefix, i == 0 ? c->embed_dim : E, E, c->encoder_kernel);
    }
    const int lstm_in = c->encoder_n_convs > 0 ? E : c->embed_dim;
    for (int d = 0; d < 2; d++) {
        const char *sfx = d ? "_reverse" : "";
        char name[64];
        g_snprintf(name, sizeof name, "encoder.lstm.weight_ih_l0%s", sfx);
        m->lstm[d][0] = add3(p, name, 2, 4 * H, lstm_in, 0);
        g_snprintf(name, sizeof name, "encoder.lstm.weight_hh_l0%s", sfx);
        m->lstm[d][1] = add3(p, name, 2, 4 * H, H, 0);
        g_snprintf(name, sizeof name, "encoder.lstm.bias_ih_l0%s", sfx);
        m->lstm[d][2] = add3(p, name, 1, 4 * H, 0, 0);
        g_snprintf(name, sizeof name, "encoder.lstm.bias_hh_l0%s", sfx);
        m->lstm[d][3] = add3(p, name, 1, 4 * H, 0, 0);
    }
    m->prenet_w[0] = add3(p, "decoder.prenet.layers.0.weight", 2, P, M, 0);
    m->prenet_w[1] = add3(p, "decoder.prenet.layers.1.weight", 2, P, P, 0);
    AigcT2DecoderWeights *w = &m->dec;
    w->att_w_ih = add3(p, "decoder.attention_rnn.weight_ih", 2, 4 * Ha, P + E, 0);
    w->att_w_hh = add3(p, "decoder.attention_rnn.weight_hh", 2, 4 * Ha, Ha, 0);
    w->att_b_ih = add3(p, "decoder.attention_rnn.bias_ih", 1, 4 * Ha, 0, 0);
    w->att_b_hh = add3(p, "decoder.attention_rnn.bias_hh", 1, 4 * Ha, 0, 0);
    w->query_w = add3(p, "decoder.attention_layer.query_layer.weight", 2, A, Ha, 0);
    m->memory_w = add3(p, "decoder.attention_layer.memory_layer.weight", 2, A, E, 0);
    w->v_w = add3(p, "decoder.attention_layer.v.weight", 2, 1, A, 0);
    w->loc_conv_w = add3(p, "decoder.attention_layer.location_layer.location_conv.weight", 3,
                         c->location_filters, 2, c->location_kernel);
    w->loc_dense_w = add3(p, "decoder.attention_layer.location_layer.location_dense.weight", 2, A,
                          c->location_filters, 0);
    w->dec_w_ih = add3(p, "decoder.decoder_rnn.weight_ih", 2, 4 * Hd, Ha + E, 0);
    w->dec_w_hh = add3(p, "decoder.decoder_rnn.weight_hh", 2, 4 * Hd, Hd, 0);
    w->dec_b_ih = add3(p, "decoder.decoder_rnn.bias_ih", 1, 4 * Hd, 0, 0);
    w->dec_b_hh = add3(p, "decoder.decoder_rnn.bias_hh", 1, 4 * Hd, 0, 0);
    m->proj_w = add3(p, "decoder.linear_projection.weight", 2, (gint64)M * c->r, Hd + E, 0);
    m->proj_b = add3(p, "decoder.linear_projection.bias", 1, (gint64)M * c->r, 0, 0);
    m->gate_w = add3(p, "decoder.gate_layer.weight", 2, 1, Hd + E, 0);
    m->gate_b = add3(p, "decoder.gate_layer.bias", 1, 1, 0, 0);
    m->post = g_new0(ConvBn, c->postnet_n_convs);
    for (int i = 0; i < c->postnet_n_convs; i++) {
        char prefix[64];
        g_snprintf(prefix, sizeof prefix, "postnet.convolutions.%d.", i);
        int C = i == 0 ? M : c->postnet_dim;
        int OC = i == c->postnet_n_convs - 1 ? M : c->postnet_dim;
        add_conv_bn(m, &m->post[i], prefix, C, OC, c->postnet_kernel);
    }
    aigc_params_allocate(p);
    m->bn_stats = g_new0(float, m->n_bn_stats);
    float *next = m->bn_stats;
    for (int i = 0; i < c->encoder_n_convs + c->postnet_n_convs; i++) {
        ConvBn *cb = i < c->encoder_n_convs ? &m->enc[i] : &m->post[i - c->encoder_n_convs];
        gint64 OC = cb->b->n_elements;
        cb->running_mean = next;
        cb->running_var = next + OC;
        next += 2 * OC;
        for (gint64 k = 0; k < OC; k++)
            cb->running_var[k] = 1.0f;
    }
    return m;
}

void aigc_tacotron2_free(AigcTacotron2 *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->config.encoder_n_convs; i++)
        g_free(m->enc[i].prefix);
    for (int i = 0; i < m->config.postnet_n_convs; i++)
        g_free(m->post[i].prefix);
    g_free(m->enc);
    g_free(m->post);
    g_free(m->bn_stats);
    aigc_params_free(m->params);
    aigc_phoneme_vocab_free(m->vocab);
    g_free(m);
}

static void fill_uniform(AigcRng *rng, AigcTensor *t, double bound)
{
    aigc_rng_fill_uniform(rng, t->data, t->n_elements, (float)-bound, (float)bound);
}

/* Xavier uniform with a gain, fan-in and fan-out from a [OC, C(, K)] weight. */
static void xavier(AigcRng *rng, AigcTensor *t, double gain)
{
    gint64 receptive = t->n_dims == 3 ? t->shape[2] : 1;
    double fan_in = (double)t->shape[1] * receptive, fan_out = (double)t->shape[0] * receptive;
    fill_uniform(rng, t, gain * sqrt(6.0 / (fan_in + fan_out)));
}

void aigc_tacotron2_init_weights(AigcTacotron2 *m, AigcRng *rng)
{
    const AigcTacotron2Config *c = &m->config;
    const double relu_gain = sqrt(2.0), tanh_gain = 5.0 / 3.0;
    fill_uniform(rng, m->embedding, sqrt(3.0) * sqrt(2.0 / (c->n_symbols + c->embed_dim)));
    for (int i = 0; i < c->encoder_n_convs; i++) {
        xavier(rng, m->enc[i].w, relu_gain);
        fill_uniform(rng, m->enc[i].b,
                     1.0 / sqrt((double)m->enc[i].w->shape[1] * c->encoder_kernel));
        aigc_tensor_fill(m->enc[i].bn_w, 1.0f);
        aigc_tensor_fill(m->enc[i].bn_b, 0.0f);
    }
    for (int d = 0; d < 2; d++)
        for (int k = 0; k < 4; k++)
            fill_uniform(rng, m->lstm[d][k], 1.0 / sqrt(c->encoder_dim / 2.0));
    xavier(rng, m->prenet_w[0], relu_gain);
    xavier(rng, m->prenet_w[1], relu_gain);
    AigcT2DecoderWeights *w = &m->dec;
    AigcTensor *att_lstm[] = {w->att_w_ih, w->att_w_hh, w->att_b_ih, w->att_b_hh};
    AigcTensor *dec_lstm[] = {w->dec_w_ih, w->dec_w_hh, w->dec_b_ih, w->dec_b_hh};
    for (int k = 0; k < 4; k++) {
        fill_uniform(rng, att_lstm[k], 1.0 / sqrt(c->attention_rnn_dim));
        fill_uniform(rng, dec_lstm[k], 1.0 / sqrt(c->decoder_rnn_dim));
    }
    xavier(rng, w->query_w, tanh_gain);
    xavier(rng, m->memory_w, tanh_gain);
    xavier(rng, w->v_w, 1.0);
    xavier(rng, w->loc_conv_w, 1.0);
    xavier(rng, w->loc_dense_w, tanh_gain);
    xavier(rng, m->proj_w, 1.0);
    fill_uniform(rng, m->proj_b, 1.0 / sqrt(c->decoder_rnn_dim + c->encoder_dim));
    xavier(rng, m->gate_w, 1.0);
    aigc_tensor_fill(m->gate_b, 0.0f);
    for (int i = 0; i < c->postnet_n_convs; i++) {
        xavier(rng, m->post[i].w, i == c->postnet_n_convs - 1 ? 1.0 : tanh_gain);
        fill_uniform(rng, m->post[i].b,
                     1.0 / sqrt((double)m->post[i].w->shape[1] * c->postnet_kernel));
        aigc_tensor_fill(m->post[i].bn_w, 1.0f);
        aigc_tensor_fill(m->post[i].bn_b, 0.0f);
    }
    for (int i = 0; i < c->encoder_n_convs + c->postnet_n_convs; i++) {
        ConvBn *cb = i < c->encoder_n_convs ? &m->enc[i] : &m->post[i - c->encoder_n_convs];
        for (gint64 k = 0; k < cb->b->n_elements; k++) {
            cb->running_mean[k] = 0.0f;
            cb->running_var[k] = 1.0f;
        }
    }
}

const AigcTacotron2Config *aigc_tacotron2_get_config(AigcTacotron2 *m)
{
    return &m->config;
}

const AigcSpeechFeatures *aigc_tacotron2_get_features(AigcTacotron2 *m)
{
    return &m->features;
}

AigcPhonemeVocab *aigc_tacotron2_get_vocab(AigcTacotron2 *m)
{
    return m->vocab;
}

AigcParams *aigc_tacotron2_get_params(AigcTacotron2 *m)
{
    return m->params;
}

float *aigc_tacotron2_get_bn_stats(AigcTacotron2 *m, gint64 *n)
{
    *n = m->n_bn_stats;
    return m->bn_stats;
}

/* ---- ops of this model ---- */

/* out[b, t] = x[b, len_b − 1 − t] for t < len_b, x[b, t] beyond (padding stays in place): the
 * input of the encoder's backward LSTM, and its output turned back. An involution. */
typedef struct {
    gint32 *len;
} ReverseSaved;

static void reverse_padded_apply(float *out, const float *x, const gint32 *len, int B, int T, int C,
                                 gboolean accumulate)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int src = t < len[b] ? len[b] - 1 - t : t;
            const float *s = x + ((gint64)b * T + src) * C;
            float *d = out + ((gint64)b * T + t) * C;
            if (accumulate)
                for (int k = 0; k < C; k++)
                    d[k] += s[k];
            else
                memcpy(d, s, sizeof(float) * C);
        }
}

static void reverse_padded_backward(AigcCtx *ctx, AigcNode *node)
{
    float *dx = aigc_grad(ctx, node->in[0]);
    if (dx)
        reverse_padded_apply(dx, node->out[0]->grad, node->saved, (int)node->i[0], (int)node->i[1],
                             (int)node->i[2], TRUE);
}

static AigcTensor *reverse_padded(AigcCtx *ctx, AigcTensor *x, const gint32 *len)
{
    x = aigc_contiguous(ctx, x);
    const int B = (int)x->shape[0], T = (int)x->shape[1], C = (int)x->shape[2];
    AigcTensor *y = aigc_tensor_new_like(ctx, x);
    reverse_padded_apply(y->data, x->data, len, B, T, C, FALSE);
    AigcNode *node = aigc_record1(ctx, "reverse_padded", reverse_padded_backward, y, x);
    if (node) {
        gint32 *saved = aigc_ctx_alloc(ctx, sizeof(gint32) * B);
        memcpy(saved, len, sizeof(gint32) * B);
        node->saved = saved;
        node->i[0] = B;
        node->i[1] = T;
        node->i[2] = C;
    }
    return y;
}

/* Mean squared error over the real frames: pred [B, Fr, M] against target (same layout), frames
 * f < n_frames[b] only. */
typedef struct {
    const float *target;
    gint32 *n_frames;
    double count;
} MseSaved;

static void masked_mse_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *pred = node->in[0];
    float *dp = aigc_grad(ctx, pred);
    if (!dp)
        return;
    const MseSaved *sv = node->saved;
    const int B = (int)pred->shape[0], Fr = (int)pred->shape[1], M = (int)pred->shape[2];
    const float scale = (float)(2.0 * node->out[0]->grad[0] / sv->count);
    for (int b = 0; b < B; b++) {
        gint64 base = (gint64)b * Fr * M, n = (gint64)sv->n_frames[b] * M;
        for (gint64 i = 0; i < n; i++)
            dp[base + i] += scale * (pred->data[base + i] - sv->target[base + i]);
    }
}

static AigcTensor *masked_mse(AigcCtx *ctx, AigcTensor *pred, const float *target,
                              const gint32 *n_frames)
{
    pred = aigc_contiguous(ctx, pred);
    const int B = (int)pred->shape[0], Fr = (int)pred->shape[1], M = (int)pred->shape[2];
    double sum = 0, count = 0;
    for (int b = 0; b < B; b++) {
        gint64 base = (gint64)b * Fr * M, n = (gint64)n_frames[b] * M;
        for (gint64 i = 0; i < n; i++) {
            double d = (double)pred->data[base + i] - target[base + i];
            sum += d * d;
        }
        count += (double)n;
    }
    AigcTensor *loss = aigc_tensor_new1(ctx, 1);
    loss->data[0] = (float)(sum / count);
    AigcNode *node = aigc_record1(ctx, "masked_mse", masked_mse_backward, loss, pred);
    if (node) {
        MseSaved *sv = aigc_ctx_alloc(ctx, sizeof(MseSaved));
        sv->target = target;
        sv->n_frames = aigc_ctx_alloc(ctx, sizeof(gint32) * B);
        memcpy(sv->n_frames, n_frames, sizeof(gint32) * B);
        sv->count = count;
        node->saved = sv;
    }
    return loss;
}

/* Stop-token BCE with logits [B, T]: the target is 1 from step steps[b] − 1 on; positives
 * weigh pos_weight. Mean over all B·T steps. */
static void stop_bce_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0];
    float *dx = aigc_grad(ctx, x);
    if (!dx)
        return;
    const gint32 *steps = node->saved;
    const int B = (int)node->i[0], T = (int)node->i[1];
    const float w = node->f[0];
    const float scale = node->out[0]->grad[0] / ((float)B * T);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float v = x->data[(gint64)b * T + t];
            float sig = 1.0f / (1.0f + expf(-v));
            gboolean y = t >= steps[b] - 1;
            dx[(gint64)b * T + t] += scale * (y ? w * (sig - 1.0f) : sig);
        }
}

static double softplusd(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static AigcTensor *stop_bce(AigcCtx *ctx, AigcTensor *logits, const gint32 *steps, float pos_w)
{
    logits = aigc_contiguous(ctx, logits);
    const int B = (int)logits->shape[0], T = (int)(logits->n_elements / B);
    double sum = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            double v = logits->data[(gint64)b * T + t];
            sum += t >= steps[b] - 1 ? pos_w * softplusd(-v) : softplusd(v);
        }
    AigcTensor *loss = aigc_tensor_new1(ctx, 1);
    loss->data[0] = (float)(sum / ((double)B * T));
    AigcNode *node = aigc_record1(ctx, "stop_bce", stop_bce_backward, loss, logits);
    if (node) {
        gint32 *saved = aigc_ctx_alloc(ctx, sizeof(gint32) * B);
        memcpy(saved, steps, sizeof(gint32) * B);
        node->saved = saved;
        node->i[0] = B;
        node->i[1] = T;
        node->f[0] = pos_w;
    }
    return loss;
}

/* ---- the forward ---- */

/* x [B, C, L] → conv → batch norm → activation (0 none, 1 ReLU, 2 tanh) → dropout → · mask */
static AigcTensor *conv_bn(AigcCtx *ctx, ConvBn *cb, AigcTensor *x, int act, float p,
                           AigcTensor *mask)
{
    int K = (int)cb->w->shape[2];
    x = aigc_conv1d(ctx, x, cb->w, cb->b, 1, K / 2, 1, FALSE);
    x = aigc_batchnorm(ctx, x, cb->bn_w, cb->bn_b, cb->running_mean, cb->running_var, 0.1f, 1e-5f);
    if (act == 1)
        x = aigc_relu(ctx, x);
    else if (act == 2)
        x = aigc_tanh(ctx, x);
    x = aigc_dropout(ctx, x, p);
    return mask ? aigc_mul(ctx, x, mask) : x;
}

/* The memory [B, N, E] of ids [B, N] (lengths n_ids). */
static AigcTensor *encode(AigcCtx *ctx, AigcTacotron2 *m, const gint32 *ids, const gint32 *n_ids,
                          int B, int N)
{
    const AigcTacotron2Config *c = &m->config;
    float *mask_data = aigc_ctx_alloc_floats(ctx, (gint64)B * N);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < N; j++)
            mask_data[b * N + j] = j < n_ids[b] ? 1.0f : 0.0f;
    AigcTensor *mask = aigc_tensor_wrap(ctx, 3, (gint64[]){B, 1, N}, mask_data);
    AigcTensor *x = aigc_embedding(ctx, m->embedding, ids, 2, (gint64[]){B, N}); /* [B, N, De] */
    x = aigc_transpose(ctx, x, 1, 2);                                            /* [B, De, N] */
    x = aigc_mul(ctx, x, mask);
    for (int i = 0; i < c->encoder_n_convs; i++)
        x = conv_bn(ctx, &m->enc[i], x, 1, c->p_encoder, mask);
    x = aigc_contiguous(ctx, aigc_transpose(ctx, x, 1, 2)); /* [B, N, E] */
    AigcTensor *fwd = aigc_lstm(ctx, x, NULL, NULL, m->lstm[0][0], m->lstm[0][1], m->lstm[0][2],
                                m->lstm[0][3], NULL, NULL);
    AigcTensor *bwd = aigc_lstm(ctx, reverse_padded(ctx, x, n_ids), NULL, NULL, m->lstm[1][0],
                                m->lstm[1][1], m->lstm[1][2], m->lstm[1][3], NULL, NULL);
    bwd = reverse_padded(ctx, bwd, n_ids);
    AigcTensor *both[2] = {fwd, bwd};
    return aigc_concat(ctx, 2, both, 2);
}

/* The prenet over frames x [B, T, M] → [B, T, P]; its dropout is on in every mode. */
static AigcTensor *prenet(AigcCtx *ctx, AigcTacotron2 *m, AigcTensor *x)
{
    gboolean training = aigc_ctx_get_training(ctx);
    aigc_ctx_set_training(ctx, TRUE);
    for (int i = 0; i < 2; i++)
        x = aigc_dropout(ctx, aigc_relu(ctx, aigc_linear(ctx, x, m->prenet_w[i], NULL)),
                         m->config.p_prenet);
    aigc_ctx_set_training(ctx, training);
    return x;
}

/* The post-net's residual for mel [B, Fr, M] → [B, Fr, M]. */
static AigcTensor *postnet(AigcCtx *ctx, AigcTacotron2 *m, AigcTensor *mel)
{
    const AigcTacotron2Config *c = &m->config;
    AigcTensor *x = aigc_transpose(ctx, mel, 1, 2); /* [B, M, Fr] */
    for (int i = 0; i < c->postnet_n_convs; i++)
        x = conv_bn(ctx, &m->post[i], x, i < c->postnet_n_convs - 1 ? 2 : 0, c->p_postnet, NULL);
    return aigc_contiguous(ctx, aigc_transpose(ctx, x, 1, 2));
}

AigcTacotron2LossParams aigc_tacotron2_default_loss_params(void)
{
    return (AigcTacotron2LossParams){
        .stop_pos_weight = 8.0f,
        .guided_weight = 1.0f,
        .guided_sigma = 0.2f,
    };
}

void aigc_tacotron2_forward(AigcCtx *ctx, AigcTacotron2 *m, const AigcTacotron2Batch *batch,
                            const AigcTacotron2LossParams *lp, AigcTacotron2Output *out)
{
    const AigcTacotron2Config *c = &m->config;
    const int B = batch->B, N = batch->n_max, Fr = batch->f_max, M = c->n_mels, r = c->r;
    g_return_if_fail(B >= 1 && N >= 1 && Fr >= r && Fr % r == 0);
    const int T = Fr / r;
    gint32 *steps = aigc_ctx_alloc(ctx, sizeof(gint32) * B);
    for (int b = 0; b < B; b++) {
        g_return_if_fail(batch->n_ids[b] >= 1 && batch->n_ids[b] <= N);
        g_return_if_fail(batch->n_frames[b] >= 1 && batch->n_frames[b] <= Fr);
        steps[b] = (batch->n_frames[b] + r - 1) / r;
    }
    memset(out, 0, sizeof *out);

    AigcTensor *memory = encode(ctx, m, batch->ids, batch->n_ids, B, N);
    AigcTensor *pmem = aigc_linear(ctx, memory, m->memory_w, NULL);
    /* Teacher forcing: step t reads the last frame of step t − 1 (a zero frame at t = 0). */
    float *prev = aigc_ctx_alloc_floats0(ctx, (gint64)B * T * M);
    for (int b = 0; b < B; b++)
        for (int t = 1; t < T; t++)
            memcpy(prev + ((gint64)b * T + t) * M, batch->mels + ((gint64)b * Fr + t * r - 1) * M,
                   sizeof(float) * M);
    AigcTensor *pre = prenet(ctx, m, aigc_tensor_wrap(ctx, 3, (gint64[]){B, T, M}, prev));
    AigcTensor *align = NULL;
    AigcTensor *dec = aigc_t2_decoder(ctx, memory, pmem, pre, batch->n_ids, &m->dec, c->p_attention,
                                      c->p_decoder, &align);       /* [B, T, Hd + E] */
    AigcTensor *mel = aigc_linear(ctx, dec, m->proj_w, m->proj_b); /* [B, T, M·r] */
    mel = aigc_reshape(ctx, mel, 3, (gint64[]){B, Fr, M});
    AigcTensor *stop = aigc_linear(ctx, dec, m->gate_w, m->gate_b); /* [B, T, 1] */
    stop = aigc_reshape(ctx, stop, 2, (gint64[]){B, T});
    AigcTensor *mel_post = aigc_add(ctx, mel, postnet(ctx, m, mel));

    out->mel = mel;
    out->mel_post = mel_post;
    out->stop = stop;
    out->align = align;
    out->mel_loss = masked_mse(ctx, mel, batch->mels, batch->n_frames);
    out->post_loss = masked_mse(ctx, mel_post, batch->mels, batch->n_frames);
    out->stop_loss = stop_bce(ctx, stop, steps, lp->stop_pos_weight);
    AigcTensor *loss = aigc_add(ctx, aigc_add(ctx, out->mel_loss, out->post_loss), out->stop_loss);
    if (lp->guided_weight > 0) {
        /* W[b, t, n] = 1 − exp(−(n/N_b − t/T_b)² / 2σ²) on the real (t, n) (Tachibana et al.
         * 2018), summed over n and averaged over the real steps: each step's attention (mass 1)
         * pays its expected distance penalty, a number in [0, 1) whatever the lengths. */
        gint64 count = 0;
        for (int b = 0; b < B; b++)
            count += steps[b];
        float *wdata = aigc_ctx_alloc_floats0(ctx, (gint64)B * T * N);
        const double inv2s2 = 1.0 / (2.0 * lp->guided_sigma * lp->guided_sigma);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < steps[b]; t++)
                for (int n = 0; n < batch->n_ids[b]; n++) {
                    double dd = (double)n / batch->n_ids[b] - (double)t / steps[b];
                    wdata[((gint64)b * T + t) * N + n] =
                        (float)((1.0 - exp(-dd * dd * inv2s2)) / (double)count);
                }
        AigcTensor *wt = aigc_tensor_wrap(ctx, 3, (gint64[]){B, T, N}, wdata);
        out->guided_loss = aigc_sum_all(ctx, aigc_mul(ctx, align, wt));
        loss = aigc_add(ctx, loss, aigc_scale(ctx, out->guided_loss, lp->guided_weight));
    }
    out->loss = loss;
}

/* ---- files ---- */

gboolean aigc_tacotron2_save(AigcTacotron2 *m, AigcSafetensorsWriter *writer, AigcDtype dtype,
                             GError **error)
{
    g_autofree char *config = aigc_tacotron2_config_to_json(&m->config);
    g_autofree char *features = aigc_speech_features_to_json(&m->features);
    g_autofree char *vocab = aigc_phoneme_vocab_to_json(m->vocab);
    aigc_safetensors_writer_set_metadata(writer, "family", AIGC_TACOTRON2_FAMILY);
    aigc_safetensors_writer_set_metadata(writer, "tacotron2.config", config);
    aigc_safetensors_writer_set_metadata(writer, "speech.features", features);
    aigc_safetensors_writer_set_metadata(writer, "speech.phoneme_vocab", vocab);
    if (!aigc_params_save(m->params, writer, NULL, dtype, error))
        return FALSE;
    const AigcTacotron2Config *c = &m->config;
    for (int i = 0; i < c->encoder_n_convs + c->postnet_n_convs; i++) {
        ConvBn *cb = i < c->encoder_n_convs ? &m->enc[i] : &m->post[i - c->encoder_n_convs];
        gint64 shape[1] = {cb->b->n_elements};
        g_autofree char *mean = g_strconcat(cb->prefix, "bn.running_mean", NULL);
        g_autofree char *var = g_strconcat(cb->prefix, "bn.running_var", NULL);
        if (!aigc_safetensors_writer_add_f32(writer, mean, AIGC_DTYPE_F32, 1, shape,
                                             cb->running_mean, error) ||
            !aigc_safetensors_writer_add_f32(writer, var, AIGC_DTYPE_F32, 1, shape, cb->running_var,
                                             error))
            return FALSE;
    }
    return TRUE;
}

static gboolean load_stat(AigcSafetensors *st, const char *name, float *dest, gint64 n,
                          gboolean positive, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const AigcSafetensorsTensor *t = aigc_safetensors_find(st, name);
    if (!t || t->n_dims != 1 || t->shape[0] != n) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: tensor “%s” is missing or has the wrong shape", label, name);
        return FALSE;
    }
    if (!aigc_safetensors_read_f32(st, t, dest, n, error))
        return FALSE;
    for (gint64 k = 0; k < n; k++)
        if (!isfinite(dest[k]) || (positive && !(dest[k] >= 0))) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "%s: tensor “%s” holds %s at element %" G_GINT64_FORMAT, label, name,
                        isfinite(dest[k]) ? "a negative variance" : "NaN or infinity", k);
            return FALSE;
        }
    return TRUE;
}

AigcTacotron2 *aigc_tacotron2_load(AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *family = aigc_safetensors_get_metadata(st, "family");
    const char *config_json = aigc_safetensors_get_metadata(st, "tacotron2.config");
    const char *features_json = aigc_safetensors_get_metadata(st, "speech.features");
    const char *vocab_json = aigc_safetensors_get_metadata(st, "speech.phoneme_vocab");
    if (!family || strcmp(family, AIGC_TACOTRON2_FAMILY) != 0 || !config_json) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a Tacotron 2 model (family “%s”)", label, family ? family : "none");
        return NULL;
    }
    if (!features_json || !vocab_json) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: the Tacotron 2 model lacks its %s", label,
                    !features_json ? "speech features (“speech.features”)"
                                   : "phoneme vocabulary (“speech.phoneme_vocab”)");
        return NULL;
    }
    AigcTacotron2Config config;
    AigcSpeechFeatures features;
    GError *inner = NULL;
    g_autoptr(AigcPhonemeVocab) vocab = NULL;
    if (!aigc_tacotron2_config_from_json(&config, config_json, &inner) ||
        !aigc_speech_features_from_json(&features, features_json, &inner) ||
        !(vocab = aigc_phoneme_vocab_new_from_json(vocab_json, &inner))) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", label,
                    inner->message);
        g_error_free(inner);
        return NULL;
    }
    /* Refuse absurd sizes before allocating: the tensors must match the config anyway. */
    const AigcSafetensorsTensor *emb = aigc_safetensors_find(st, "embedding.weight");
    const AigcSafetensorsTensor *dec = aigc_safetensors_find(st, "decoder.decoder_rnn.weight_hh");
    if (!emb || emb->n_dims != 2 || emb->shape[0] != config.n_symbols ||
        emb->shape[1] != config.embed_dim || !dec || dec->n_dims != 2 ||
        dec->shape[0] != 4 * (gint64)config.decoder_rnn_dim ||
        dec->shape[1] != config.decoder_rnn_dim) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: the weights disagree with the Tacotron 2 config", label);
        return NULL;
    }
    AigcTacotron2 *m = aigc_tacotron2_new(&config, &features, vocab, &inner);
    if (!m) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", label,
                    inner->message);
        g_error_free(inner);
        return NULL;
    }
    if (!aigc_params_load(m->params, st, NULL, error)) {
        aigc_tacotron2_free(m);
        return NULL;
    }
    for (int i = 0; i < config.encoder_n_convs + config.postnet_n_convs; i++) {
        ConvBn *cb = i < config.encoder_n_convs ? &m->enc[i] : &m->post[i - config.encoder_n_convs];
        g_autofree char *mean = g_strconcat(cb->prefix, "bn.running_mean", NULL);
        g_autofree char *var = g_strconcat(cb->prefix, "bn.running_var", NULL);
        gint64 n = cb->b->n_elements;
        if (!load_stat(st, mean, cb->running_mean, n, FALSE, error) ||
            !load_stat(st, var, cb->running_var, n, TRUE, error)) {
            aigc_tacotron2_free(m);
            return NULL;
        }
    }
    return m;
}

AigcTacotron2 *aigc_tacotron2_load_file(const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    return st ? aigc_tacotron2_load(st, error) : NULL;
}

/* ---- for aigc-tacotron2-synth.c ---- */

AigcTensor *aigc_tacotron2_encode_ids(AigcCtx *ctx, AigcTacotron2 *m, const gint32 *ids,
                                      const gint32 *n_ids, int B, int N)
{
    return encode(ctx, m, ids, n_ids, B, N);
}

AigcTensor *aigc_tacotron2_postnet(AigcCtx *ctx, AigcTacotron2 *m, AigcTensor *mel)
{
    return aigc_add(ctx, mel, postnet(ctx, m, mel));
}

void aigc_tacotron2_get_parts(AigcTacotron2 *m, AigcTacotron2Parts *parts)
{
    parts->memory_w = m->memory_w;
    parts->prenet_w[0] = m->prenet_w[0];
    parts->prenet_w[1] = m->prenet_w[1];
    parts->dec = &m->dec;
    parts->proj_w = m->proj_w;
    parts->proj_b = m->proj_b;
    parts->gate_w = m->gate_w;
    parts->gate_b = m->gate_b;
}
