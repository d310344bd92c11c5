/* SPDX-License-Identifier: MIT
 *
 * WaveNet generation, one sample at a time with cached convolution queues.
 *
 * DESIGN: a dilated causal conv of kernel 2 needs, at sample t, its input at t and at t − d.
 * Each layer keeps a ring buffer of its last d inputs [d, R]; slot t mod d holds the input of
 * t − d until it is replaced by the input of t. The two taps then form one product over the
 * concatenation [h(t − d); h(t)] with the weight laid out [2R, 2G]. All weights are transposed
 * once per call so every per-sample product streams its matrix row by row (aigc_matvec_t). The
 * condition is projected for every layer at frame rate before the first sample ([L, F, 2G]) and
 * interpolated between two frames per sample exactly as aigc_upsample_linear1d does. Nothing is
 * allocated per sample.
 *
 * One thread: a sample is ~0.5 M multiply-adds in ~40 small products, too little to split across
 * cores without the synchronisation costing more than it saves.
 *
 * Legend as aigc-wavenet.c; F mel frames, t sample index.
 */
#include "aigc-wavenet-private.h"

#include "aigc-error.h"
#include "dsp/aigc-mulaw.h"
#include "models/vocoder/aigc-vocoder-ops.h"
#include "nn/aigc-nn.h"
#include "tensor/aigc-half.h"

#include <math.h>
#include <string.h>

#define POLL_EVERY 256 /* samples between progress / cancel polls (16 ms of audio at 16 kHz) */

typedef struct {
    const AigcWavenetConfig *c;
    int R, G2, G, S, Cc, L, hop;
    gint64 F;
    const float *in_w, *in_b; /* [R, 1, 2], [R] */
    float *dil_wt;            /* [L, 2R, 2G] */
    float *out_wt;            /* [L, G, R + S] */
    float *post1_wt;          /* [S, S] */
    float *post2_wt;          /* [S, 256] */
    gboolean half;            /* the four above as IEEE halves (hdil_wt …) instead */
    guint16 *hdil_wt, *hout_wt, *hpost1_wt, *hpost2_wt;
    float *cond;                               /* [L, F, 2G] */
    float *queues;                             /* Σ_l d_l · R */
    gint64 *queue_off;                         /* [L] */
    float x_prev;                              /* the input conv's own queue: x[t − 1] */
    float *h, *v, *a, *z, *o, *skip, *y1, *y2; /* per-sample scratch */
    const AigcWavenet *w;
} Gen;

/* dst [cols, rows] = src [rows, cols]ᵀ */
static void transpose(float *dst, const float *src, int rows, int cols)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            dst[(gint64)c * rows + r] = src[(gint64)r * cols + c];
}

static void gen_clear(Gen *g)
{
    g_free(g->hdil_wt);
    g_free(g->hout_wt);
    g_free(g->hpost1_wt);
    g_free(g->hpost2_wt);
    g_free(g->dil_wt);
    g_free(g->out_wt);
    g_free(g->post1_wt);
    g_free(g->post2_wt);
    g_free(g->cond);
    g_free(g->queues);
    g_free(g->queue_off);
    g_free(g->h);
}

static guint16 *to_half(const float *x, gint64 n)
{
    guint16 *h = g_new(guint16, (gsize)n);
    for (gint64 i = 0; i < n; i++)
        h[i] = aigc_f32_to_f16(x[i]);
    return h;
}

/* y = Wᵀx + bias with one of the transposed weights, in the precision chosen. */
static void mv(const Gen *g, float *y, const float *wt, const guint16 *hwt, const float *x,
               const float *bias, int M, int K)
{
    if (g->half)
        aigc_matvec_t_f16(y, hwt, x, bias, M, K, FALSE);
    else
        aigc_matvec_t(y, wt, x, bias, M, K, FALSE);
}

static gboolean gen_init(Gen *g, const AigcWavenet *w, const float *mel, gint64 F, gboolean half,
                         GError **error)
{
    const AigcWavenetConfig *c = &w->config;
    memset(g, 0, sizeof *g);
    g->w = w;
    g->c = c;
    g->R = c->residual_channels;
    g->G2 = c->gate_channels;
    g->G = g->G2 / 2;
    g->S = c->skip_channels;
    g->Cc = c->cond_channels;
    g->L = c->n_layers;
    g->hop = w->features.hop_length;
    g->F = F;
    if (F < 1 || F > G_MAXINT / g->hop) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "WaveNet: %" G_GINT64_FORMAT " mel frames is not a length it can render", F);
        return FALSE;
    }
    for (gint64 i = 0; i < F * c->n_mels; i++)
        if (!isfinite(mel[i])) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "WaveNet: the mel spectrogram holds NaN or infinite values");
            return FALSE;
        }
    const int R = g->R, G2 = g->G2, G = g->G, S = g->S, Cc = g->Cc, L = g->L;
    g->in_w = w->in_w->data;
    g->in_b = w->in_b->data;
    /* Weights, transposed for aigc_matvec_t. The dilated weight [2G, R, 2] becomes [2R, 2G]
     * with rows 0 … R−1 the tap at t − d and rows R … 2R−1 the tap at t. */
    g->dil_wt = g_new(float, (gsize)L * 2 * R * G2);
    g->out_wt = g_new(float, (gsize)L *G *(R + S));
    for (int l = 0; l < L; l++) {
        const float *dw = w->layers[l].dil_w->data;
        float *dt = g->dil_wt + (gint64)l * 2 * R * G2;
        for (int o = 0; o < G2; o++)
            for (int r = 0; r < R; r++) {
                dt[(gint64)r * G2 + o] = dw[((gint64)o * R + r) * 2 + 0];
                dt[(gint64)(R + r) * G2 + o] = dw[((gint64)o * R + r) * 2 + 1];
            }
        transpose(g->out_wt + (gint64)l * G * (R + S), w->layers[l].out_w->data, R + S, G);
    }
    g->post1_wt = g_new(float, (gsize)S *S);
    transpose(g->post1_wt, w->post1_w->data, S, S);
    g->post2_wt = g_new(float, (gsize)S *AIGC_WAVENET_CLASSES);
    transpose(g->post2_wt, w->post2_w->data, AIGC_WAVENET_CLASSES, S);
    g->half = half;
    if (half) {
        g->hdil_wt = to_half(g->dil_wt, (gint64)L * 2 * R * G2);
        g->hout_wt = to_half(g->out_wt, (gint64)L * G * (R + S));
        g->hpost1_wt = to_half(g->post1_wt, (gint64)S * S);
        g->hpost2_wt = to_half(g->post2_wt, (gint64)S * AIGC_WAVENET_CLASSES);
    }
    /* The condition at frame rate: conv 3 + leaky ReLU, then each layer's projection. */
    {
        const int M = c->n_mels;
        g_autofree float *mel_t = g_new(float, (gsize)M *F); /* [M, F] */
        transpose(mel_t, mel, (int)F, M);
        gint64 s1 = aigc_conv1d_scratch_size(1, M, (int)F, Cc, 3, 1, 1, 1, 1);
        gint64 s2 = aigc_conv1d_scratch_size(1, Cc, (int)F, G2, 1, 1, 0, 0, 1);
        g_autofree float *scratch = g_new(float, MAX(MAX(s1, s2), 1));
        g_autofree float *cf = g_new(float, (gsize)Cc *F); /* [Cc, F] */
        g_autofree float *pf = g_new(float, (gsize)G2 *F); /* [2G, F] */
        aigc_conv1d_forward(cf, scratch, mel_t, w->cond_w->data, w->cond_b->data, 1, M, (int)F, Cc,
                            3, 1, 1, 1, 1);
        aigc_leaky_relu_forward(cf, cf, AIGC_WAVENET_COND_SLOPE, (gint64)Cc * F);
        g->cond = g_new(float, (gsize)L *F *G2);
        for (int l = 0; l < L; l++) {
            aigc_conv1d_forward(pf, scratch, cf, w->layers[l].cond_w->data, NULL, 1, Cc, (int)F, G2,
                                1, 1, 0, 0, 1);
            transpose(g->cond + (gint64)l * F * G2, pf, G2, (int)F);
        }
    }
    gint64 total = 0;
    g->queue_off = g_new(gint64, L);
    for (int l = 0; l < L; l++) {
        g->queue_off[l] = total;
        total += (gint64)w->layers[l].dilation * R;
    }
    g->queues = g_new0(float, total);
    /* scratch: h [R], v [2R], a [2G], z [G], o [R + S], skip [S], y1 [S], y2 [256] */
    g->h = g_new0(float, (gsize)(R + 2 * R + G2 + G + R + S + S + S + AIGC_WAVENET_CLASSES));
    g->v = g->h + R;
    g->a = g->v + 2 * R;
    g->z = g->a + G2;
    g->o = g->z + G;
    g->skip = g->o + R + S;
    g->y1 = g->skip + S;
    g->y2 = g->y1 + S;
    return TRUE;
}

/* The frame pair and weights of sample t, as the training graph's upsampling computes them. */
static void cond_tap(const Gen *g, gint64 t, gint64 *f0, gint64 *f1, float *l0, float *l1)
{
    aigc_linear_tap(t, g->F, g->hop, f0, f1, l0, l1);
}

/* One sample: x_in is the previous sample (the input at t); logits [256] for the level at t. */
static void gen_step(Gen *g, gint64 t, float x_in, float *logits)
{
    const int R = g->R, G2 = g->G2, G = g->G, S = g->S, L = g->L;
    const AigcWavenet *w = g->w;
    float *h = g->h, *v = g->v, *a = g->a, *z = g->z, *o = g->o, *skip = g->skip;
    for (int r = 0; r < R; r++)
        h[r] = g->in_w[2 * r] * g->x_prev + g->in_w[2 * r + 1] * x_in + g->in_b[r];
    g->x_prev = x_in;
    gint64 f0, f1;
    float l0, l1;
    cond_tap(g, t, &f0, &f1, &l0, &l1);
    for (int l = 0; l < L; l++) {
        const WavenetLayer *ly = &w->layers[l];
        float *q = g->queues + g->queue_off[l] + (t % ly->dilation) * R;
        memcpy(v, q, sizeof(float) * (gsize)R);
        memcpy(v + R, h, sizeof(float) * (gsize)R);
        memcpy(q, h, sizeof(float) * (gsize)R);
        gint64 od = (gint64)l * 2 * R * G2, oo = (gint64)l * G * (R + S);
        mv(g, a, g->dil_wt + od, g->hdil_wt + od, v, ly->dil_b->data, G2, 2 * R);
        const float *c0 = g->cond + ((gint64)l * g->F + f0) * G2;
        const float *c1 = g->cond + ((gint64)l * g->F + f1) * G2;
        for (int i = 0; i < G2; i++)
            a[i] += l0 * c0[i] + l1 * c1[i];
        aigc_gated_row(z, a, a + G, G);
        mv(g, o, g->out_wt + oo, g->hout_wt + oo, z, ly->out_b->data, R + S, G);
        if (l == 0)
            memcpy(skip, o + R, sizeof(float) * (gsize)S);
        else
            for (int i = 0; i < S; i++)
                skip[i] += o[R + i];
        if (l + 1 < L)
            for (int r = 0; r < R; r++)
                h[r] = (h[r] + o[r]) * (float)M_SQRT1_2;
    }
    const float k = 1.0f / sqrtf((float)L);
    for (int i = 0; i < S; i++)
        g->y1[i] = MAX(skip[i] * k, 0.0f);
    mv(g, g->y2, g->post1_wt, g->hpost1_wt, g->y1, w->post1_b->data, S, S);
    for (int i = 0; i < S; i++)
        g->y2[i] = MAX(g->y2[i], 0.0f);
    mv(g, logits, g->post2_wt, g->hpost2_wt, g->y2, w->post2_b->data, AIGC_WAVENET_CLASSES, S);
}

gboolean aigc_wavenet_incremental_logits(AigcWavenet *w, const float *mel, gint64 F, const float *x,
                                         gint64 T, gboolean half, float *logits, GError **error)
{
    Gen g;
    if (!gen_init(&g, w, mel, F, half, error)) {
        gen_clear(&g);
        return FALSE;
    }
    for (gint64 t = 0; t < T; t++)
        gen_step(&g, t, x[t], logits + t * AIGC_WAVENET_CLASSES);
    gen_clear(&g);
    return TRUE;
}

gboolean aigc_wavenet_generate(AigcWavenet *w, const float *mel, gint64 F, guint64 seed, float *out,
                               AigcWavenetProgressFunc progress, gpointer user_data, GError **error)
{
    Gen g;
    if (!gen_init(&g, w, mel, F, TRUE, error)) {
        gen_clear(&g);
        return FALSE;
    }
    const gint64 n = F * g.hop;
    float logits[AIGC_WAVENET_CLASSES], weights[AIGC_WAVENET_CLASSES];
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    const float alpha = aigc_wavenet_get_config(w)->preemphasis;
    float x = 0.0f;    /* the modelled (emphasised) signal's previous level: silence before */
    float prev = 0.0f; /* the audio's previous sample */
    gboolean ok = TRUE;
    for (gint64 t = 0; t < n; t++) {
        if (t % POLL_EVERY == 0 && progress && !progress((double)t / n, user_data)) {
            ok = FALSE;
            break;
        }
        gen_step(&g, t, x, logits);
        float m = logits[0];
        for (int i = 1; i < AIGC_WAVENET_CLASSES; i++)
            m = MAX(m, logits[i]);
        for (int i = 0; i < AIGC_WAVENET_CLASSES; i++)
            weights[i] = aigc_vexpf(logits[i] - m);
        int q = aigc_rng_categorical(&rng, weights, AIGC_WAVENET_CLASSES);
        x = aigc_mulaw_decode_one((guint8)q);
        prev = CLAMP(x + alpha * prev, -1.0f, 1.0f); /* de-emphasis */
        out[t] = prev;
    }
    if (ok && progress)
        progress(1.0, user_data);
    gen_clear(&g);
    if (!ok)
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "WaveNet: stopped");
    return ok;
}
