/* SPDX-License-Identifier: MIT
 *
 * Tacotron 2 inference: encoder and post-net through the engine's ops (no tape, eval mode), the
 * decoder one step at a time on raw kernels (aigc_t2_decoder_run_step), with three ways to end:
 * the stop token, the attention resting on the final symbol, and a length cap proportional to
 * the input. The attention may only look at a window around its previous peak, so it cannot
 * jump back and repeat, or skip ahead.
 */
#include "aigc-tacotron2-private.h"

#include "aigc-error.h"
#include "dsp/aigc-phonemes.h"
#include "nn/aigc-nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#define MAX_INPUT_SYMBOLS 10000

AigcTacotron2SynthParams aigc_tacotron2_default_synth_params(void)
{
    return (AigcTacotron2SynthParams){
        .seed = 1,
        .stop_threshold = 0.5f,
        .max_frames_per_symbol = 10.0f,
        .max_frames = 2000,
        .min_frames = 0,
        .window_back = 1,
        .window_forward = 3,
        .end_steps = 8,
    };
}

void aigc_tacotron2_synthesis_free(AigcTacotron2Synthesis *s)
{
    if (!s)
        return;
    g_free(s->mel);
    g_free(s->alignment);
    g_free(s->ids);
    g_free(s);
}

/* y = dropout(relu(W x)) with a mask drawn from rng (the prenet's dropout stays on). */
static void prenet_layer(float *y, const AigcTensor *w, const float *x, float p, AigcRng *rng)
{
    const int out = (int)w->shape[0], in = (int)w->shape[1];
    cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, w->data, in, x, 1, 0.0f, y, 1);
    const float keep = 1.0f / (1.0f - p);
    for (int k = 0; k < out; k++) {
        float v = y[k] > 0 ? y[k] : 0.0f;
        if (p > 0)
            v = aigc_rng_uniform(rng) < p ? 0.0f : v * keep;
        y[k] = v;
    }
}

AigcTacotron2Synthesis *aigc_tacotron2_synthesize_ids(AigcTacotron2 *m, const gint32 *ids,
                                                      int n_ids,
                                                      const AigcTacotron2SynthParams *params,
                                                      AigcJob *job, GError **error)
{
    const AigcTacotron2Config *c = aigc_tacotron2_get_config(m);
    AigcTacotron2SynthParams sp = params ? *params : aigc_tacotron2_default_synth_params();
    if (n_ids < 1 || n_ids > MAX_INPUT_SYMBOLS) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "Tacotron 2 reads 1 … %d symbols at a time, not %d (split the text into "
                    "sentences)",
                    MAX_INPUT_SYMBOLS, n_ids);
        return NULL;
    }
    for (int i = 0; i < n_ids; i++)
        if (ids[i] < 0 || ids[i] >= c->n_symbols) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "symbol id %d at position %d is outside the vocabulary (0 … %d)", ids[i], i,
                        c->n_symbols - 1);
            return NULL;
        }
    if (!(sp.max_frames >= 1) || !(sp.max_frames_per_symbol > 0) ||
        !(sp.stop_threshold > 0 && sp.stop_threshold < 1) || sp.window_back < 0 ||
        sp.window_forward < 0 || sp.end_steps < 0 || sp.min_frames < 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "Tacotron 2 synthesis settings out of range");
        return NULL;
    }
    const gint64 t0 = g_get_monotonic_time();
    const int N = n_ids, M = c->n_mels, r = c->r, E = c->encoder_dim;
    const int O = c->decoder_rnn_dim + E, P = c->prenet_dim;
    AigcTacotron2Parts parts;
    aigc_tacotron2_get_parts(m, &parts);

    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    aigc_ctx_set_training(ctx, FALSE);
    gint32 len = N;
    AigcTensor *memory = aigc_tacotron2_encode_ids(ctx, m, ids, &len, 1, N); /* [1, N, E] */
    AigcTensor *pmem = aigc_linear(ctx, memory, parts.memory_w, NULL);       /* [1, N, A] */
    memory = aigc_contiguous(ctx, memory);
    g_autoptr(AigcT2DecoderRun) run =
        aigc_t2_decoder_run_new(parts.dec, memory->data, pmem->data, N, E);

    /* The cap: proportional to the input, never above max_frames. */
    gint64 cap = (gint64)ceil(sp.max_frames_per_symbol * N);
    cap = MIN(cap, sp.max_frames);
    const int max_steps = (int)MAX((cap + r - 1) / r, 1);

    GArray *frames = g_array_new(FALSE, FALSE, sizeof(float));
    GArray *align = g_array_new(FALSE, FALSE, sizeof(float));
    g_autofree float *buf = g_new0(float, (gsize)M + 2 * P + O + N + (gsize)M * r);
    float *frame_in = buf, *h1 = frame_in + M, *h2 = h1 + P, *out = h2 + P, *alpha = out + O;
    float *proj = alpha + N;
    AigcRng rng;
    aigc_rng_init(&rng, sp.seed);
    const gboolean windowed = sp.window_back + sp.window_forward > 0;
    int peak = 0, at_end = 0, n_steps = 0;
    AigcTacotron2StopReason reason = AIGC_TACOTRON2_STOP_CAP;
    for (int step = 0; step < max_steps; step++) {
        if (job && aigc_job_is_cancelled(job)) {
            g_array_free(frames, TRUE);
            g_array_free(align, TRUE);
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "cancelled");
            return NULL;
        }
        prenet_layer(h1, parts.prenet_w[0], frame_in, c->p_prenet, &rng);
        prenet_layer(h2, parts.prenet_w[1], h1, c->p_prenet, &rng);
        int lo = windowed ? peak - sp.window_back : 0;
        int hi = windowed ? peak + sp.window_forward + 1 : 0;
        aigc_t2_decoder_run_step(run, h2, lo, hi, out, alpha);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, M * r, O, 1.0f, parts.proj_w->data, O, out, 1,
                    0.0f, proj, 1);
        for (int k = 0; k < M * r; k++)
            proj[k] += parts.proj_b->data[k];
        float stop = parts.gate_b->data[0] + cblas_sdot(O, parts.gate_w->data, 1, out, 1);
        g_array_append_vals(frames, proj, (guint)(M * r));
        g_array_append_vals(align, alpha, (guint)N);
        memcpy(frame_in, proj + (gsize)(r - 1) * M, sizeof(float) * M);
        n_steps++;
        int best = 0;
        for (int j = 1; j < N; j++)
            if (alpha[j] > alpha[best])
                best = j;
        peak = best;
        if (1.0f / (1.0f + expf(-stop)) > sp.stop_threshold &&
            (gint64)n_steps * r >= sp.min_frames) {
            reason = AIGC_TACOTRON2_STOP_TOKEN;
            break;
        }
        at_end = peak == N - 1 ? at_end + 1 : 0;
        if (sp.end_steps > 0 && at_end > sp.end_steps) {
            reason = AIGC_TACOTRON2_STOP_END;
            break;
        }
    }

    const gint64 n_frames = (gint64)n_steps * r;
    AigcTensor *mel = aigc_tensor_wrap(ctx, 3, (gint64[]){1, n_frames, M}, (float *)frames->data);
    AigcTensor *post = aigc_tacotron2_postnet(ctx, m, mel);
    AigcTacotron2Synthesis *s = g_new0(AigcTacotron2Synthesis, 1);
    s->mel = g_memdup2(post->data, sizeof(float) * n_frames * M);
    s->n_frames = n_frames;
    s->n_steps = n_steps;
    s->n_symbols = N;
    s->alignment = (float *)g_array_free(align, FALSE);
    s->ids = g_memdup2(ids, sizeof(gint32) * N);
    s->stop_reason = reason;
    g_array_free(frames, TRUE);
    s->seconds = (g_get_monotonic_time() - t0) / 1e6;
    return s;
}

gint32 *aigc_tacotron2_encode_text(AigcTacotron2 *m, const char *text, int *n_ids, GError **error)
{
    AigcPhonemeVocab *vocab = aigc_tacotron2_get_vocab(m);
    g_autofree char *phonemes =
        aigc_phonemes_from_text(text, -1, aigc_phoneme_vocab_get_voice(vocab), error);
    if (!phonemes)
        return NULL;
    gsize n = 0;
    gint32 *ids = aigc_phoneme_vocab_encode(vocab, phonemes, -1, TRUE, &n, NULL);
    if (n <= 2) {
        g_free(ids);
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the text has nothing to say (no words after normalisation)");
        return NULL;
    }
    *n_ids = (int)MIN(n, G_MAXINT);
    return ids;
}

AigcTacotron2Synthesis *aigc_tacotron2_synthesize_text(AigcTacotron2 *m, const char *text,
                                                       const AigcTacotron2SynthParams *params,
                                                       AigcJob *job, GError **error)
{
    int n = 0;
    g_autofree gint32 *ids = aigc_tacotron2_encode_text(m, text, &n, error);
    if (!ids)
        return NULL;
    return aigc_tacotron2_synthesize_ids(m, ids, n, params, job, error);
}
