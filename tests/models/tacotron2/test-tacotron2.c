/* SPDX-License-Identifier: MIT
 *
 * Tacotron 2: finite-difference gradients of the fused decoder (one step, and several steps so
 * the location features and both recurrences count, with and without dropout); the inference
 * step equals the training op; shapes and a gradient for every parameter; a tiny model
 * overfits two made-up utterances; inference ends by the cap, by the stop token and by the
 * attention resting on the end, keeps its attention inside the window, and can be cancelled;
 * save/load keeps the output bit for bit; bad configs and files are refused.
 */
#include "aigc-test-support.h"
#include "models/tacotron2/aigc-tacotron2.h"
#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *dir;

/* ---- the decoder op ---- */

typedef struct {
    int B, N, E, T;
    gint32 len[4];
    float p_att, p_dec;
} DecCase;

enum { I_MEM, I_PMEM, I_PRE, I_W0, N_DEC_INPUTS = I_W0 + 12 };

static AigcT2DecoderWeights weights_of(AigcTensor *const *in)
{
    AigcTensor *const *w = in + I_W0;
    return (AigcT2DecoderWeights){w[0], w[1], w[2], w[3], w[4],  w[5],
                                  w[6], w[7], w[8], w[9], w[10], w[11]};
}

/* out and alignment side by side, so the check covers the gradient that reaches the decoder
 * through both outputs. */
static AigcTensor *decoder_f(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const DecCase *dc = data;
    AigcT2DecoderWeights w = weights_of(in);
    AigcTensor *align = NULL;
    AigcTensor *out = aigc_t2_decoder(ctx, in[I_MEM], in[I_PMEM], in[I_PRE], dc->len, &w, dc->p_att,
                                      dc->p_dec, &align);
    AigcTensor *both[2] = {out, align};
    return aigc_concat(ctx, 2, both, 2);
}

/* Leaves for a tiny decoder: A 4, F 3, K 3, P 5, Ha 4, Hd 3. */
static void make_decoder_inputs(AigcTensor **in, const DecCase *dc, guint64 seed)
{
    const int A = 4, F = 3, K = 3, P = 5, Ha = 4, Hd = 3, E = dc->E;
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    in[I_MEM] = aigc_test_leaf(&rng, 3, (gint64[]){dc->B, dc->N, E}, -1, 1, TRUE);
    in[I_PMEM] = aigc_test_leaf(&rng, 3, (gint64[]){dc->B, dc->N, A}, -1, 1, TRUE);
    in[I_PRE] = aigc_test_leaf(&rng, 3, (gint64[]){dc->B, dc->T, P}, -1, 1, TRUE);
    const gint64 shapes[12][3] = {{4 * Ha, P + E, 0}, {4 * Ha, Ha, 0}, {4 * Ha, 0, 0},
                                  {4 * Ha, 0, 0},     {A, Ha, 0},      {F, 2, K},
                                  {A, F, 0},          {1, A, 0},       {4 * Hd, Ha + E, 0},
                                  {4 * Hd, Hd, 0},    {4 * Hd, 0, 0},  {4 * Hd, 0, 0}};
    for (int i = 0; i < 12; i++) {
        int n_dims = shapes[i][2] ? 3 : shapes[i][1] ? 2 : 1;
        /* Location weights are large so the location term matters at this scale. */
        float bound = i == 5 || i == 6 ? 1.5f : 0.6f;
        in[I_W0 + i] = aigc_test_leaf(&rng, n_dims, shapes[i], -bound, bound, TRUE);
    }
}

static void free_inputs(AigcTensor **in, int n)
{
    for (int i = 0; i < n; i++)
        aigc_tensor_free_leaf(in[i]);
}

static void check_decoder(const DecCase *dc)
{
    AigcTensor *in[N_DEC_INPUTS];
    make_decoder_inputs(in, dc, 11);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 24;
    aigc_assert_gradcheck(decoder_f, N_DEC_INPUTS, in, (gpointer)dc, &p);
    free_inputs(in, N_DEC_INPUTS);
}

static void test_decoder_gradcheck_one_step(void)
{
    DecCase dc = {.B = 2, .N = 5, .E = 3, .T = 1, .len = {5, 3}};
    check_decoder(&dc);
}

static void test_decoder_gradcheck_steps(void)
{
    DecCase dc = {.B = 2, .N = 6, .E = 3, .T = 4, .len = {6, 4}};
    check_decoder(&dc);
}

static void test_decoder_gradcheck_dropout(void)
{
    DecCase dc = {.B = 2, .N = 5, .E = 3, .T = 3, .len = {4, 5}, .p_att = 0.3f, .p_dec = 0.3f};
    check_decoder(&dc);
}

/* The inference run reproduces the training op step for step (no dropout, one utterance). */
static void test_decoder_run_matches(void)
{
    DecCase dc = {.B = 1, .N = 7, .E = 3, .T = 5, .len = {7}};
    AigcTensor *in[N_DEC_INPUTS];
    make_decoder_inputs(in, &dc, 5);
    AigcT2DecoderWeights w = weights_of(in);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_ctx_set_training(ctx, FALSE);
    AigcTensor *align = NULL;
    AigcTensor *out =
        aigc_t2_decoder(ctx, in[I_MEM], in[I_PMEM], in[I_PRE], dc.len, &w, 0.5f, 0.5f, &align);
    const int O = (int)out->shape[2];
    g_autoptr(AigcT2DecoderRun) run =
        aigc_t2_decoder_run_new(&w, in[I_MEM]->data, in[I_PMEM]->data, dc.N, dc.E);
    float step_out[16], alpha[16];
    for (int t = 0; t < dc.T; t++) {
        aigc_t2_decoder_run_step(run, in[I_PRE]->data + t * 5, 0, 0, step_out, alpha);
        aigc_test_assert_close(step_out, out->data + t * O, O, 1e-5, 1e-6, "step output");
        aigc_test_assert_close(alpha, align->data + t * dc.N, dc.N, 1e-5, 1e-6, "alignment");
        float sum = 0;
        for (int j = 0; j < dc.N; j++)
            sum += alpha[j];
        g_assert_cmpfloat(fabsf(sum - 1.0f), <, 1e-5f);
    }
    /* A window confines the weights. */
    g_autoptr(AigcT2DecoderRun) run2 =
        aigc_t2_decoder_run_new(&w, in[I_MEM]->data, in[I_PMEM]->data, dc.N, dc.E);
    aigc_t2_decoder_run_step(run2, in[I_PRE]->data, 2, 4, step_out, alpha);
    for (int j = 0; j < dc.N; j++)
        if (j < 2 || j >= 4)
            g_assert_cmpfloat(alpha[j], ==, 0.0f);
    g_assert_cmpfloat(fabsf(alpha[2] + alpha[3] - 1.0f), <, 1e-5f);
    free_inputs(in, N_DEC_INPUTS);
}

/* ---- the model ---- */

static AigcTacotron2Config tiny_config(int n_symbols)
{
    AigcTacotron2Config c = aigc_tacotron2_default_config();
    c.n_symbols = n_symbols;
    c.embed_dim = 16;
    c.encoder_dim = 16;
    c.encoder_n_convs = 2;
    c.n_mels = 8;
    c.r = 2;
    c.prenet_dim = 16;
    c.attention_rnn_dim = 24;
    c.decoder_rnn_dim = 24;
    c.attention_dim = 12;
    c.location_filters = 4;
    c.location_kernel = 5;
    c.postnet_dim = 16;
    c.postnet_n_convs = 3;
    return c;
}

static AigcSpeechFeatures tiny_features(void)
{
    AigcSpeechFeatures f = aigc_speech_features_default();
    f.n_mels = 8;
    return f;
}

static AigcTacotron2 *tiny_model(guint64 seed)
{
    g_autoptr(AigcPhonemeVocab) vocab = aigc_phoneme_vocab_new_default();
    AigcTacotron2Config c = tiny_config(aigc_phoneme_vocab_get_size(vocab));
    AigcSpeechFeatures f = tiny_features();
    g_autoptr(GError) error = NULL;
    AigcTacotron2 *m = aigc_tacotron2_new(&c, &f, vocab, &error);
    g_assert_no_error(error);
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    aigc_tacotron2_init_weights(m, &rng);
    return m;
}

/* Two made-up utterances: ids, and mels whose bands follow the symbols (each symbol held for
 * a few frames), so the frames depend on the text through a monotonic alignment. */
typedef struct {
    gint32 ids[2 * 9];
    gint32 n_ids[2];
    float mels[2 * 24 * 8];
    gint32 n_frames[2];
    AigcTacotron2Batch batch;
} Synthetic;

static void make_synthetic(Synthetic *s)
{
    static const gint32 a[] = {1, 20, 33, 3, 40, 25, 2}, b[] = {1, 45, 28, 30, 3, 22, 37, 50, 2};
    memset(s, 0, sizeof *s);
    memcpy(s->ids, a, sizeof a);
    memcpy(s->ids + 9, b, sizeof b);
    s->n_ids[0] = G_N_ELEMENTS(a);
    s->n_ids[1] = G_N_ELEMENTS(b);
    s->n_frames[0] = 17;
    s->n_frames[1] = 24;
    for (int u = 0; u < 2; u++)
        for (int f = 0; f < 24; f++) {
            float *row = s->mels + (u * 24 + f) * 8;
            if (f >= s->n_frames[u]) {
                for (int k = 0; k < 8; k++)
                    row[k] = logf(1e-5f);
                continue;
            }
            int sym = s->ids[u * 9 + f * s->n_ids[u] / s->n_frames[u]];
            for (int k = 0; k < 8; k++)
                row[k] = -4.0f + 3.0f * sinf(0.37f * (float)sym * (k + 1)) + 0.1f * k;
        }
    s->batch = (AigcTacotron2Batch){.B = 2,
                                    .n_max = 9,
                                    .f_max = 24,
                                    .ids = s->ids,
                                    .n_ids = s->n_ids,
                                    .mels = s->mels,
                                    .n_frames = s->n_frames};
}

static void test_shapes(void)
{
    g_autoptr(AigcTacotron2) m = tiny_model(3);
    Synthetic s;
    make_synthetic(&s);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcParams *params = aigc_tacotron2_get_params(m);
    aigc_params_zero_grad(params);
    AigcTacotron2LossParams lp = aigc_tacotron2_default_loss_params();
    AigcTacotron2Output out;
    aigc_tacotron2_forward(ctx, m, &s.batch, &lp, &out);
    g_assert_cmpint(out.mel->shape[0], ==, 2);
    g_assert_cmpint(out.mel->shape[1], ==, 24);
    g_assert_cmpint(out.mel->shape[2], ==, 8);
    g_assert_cmpint(out.mel_post->shape[1], ==, 24);
    g_assert_cmpint(out.stop->shape[0], ==, 2);
    g_assert_cmpint(out.stop->shape[1], ==, 12);
    g_assert_cmpint(out.align->shape[1], ==, 12);
    g_assert_cmpint(out.align->shape[2], ==, 9);
    /* Attention rows sum to one over the real symbols and are zero on the padding. */
    for (int t = 0; t < 12; t++) {
        const float *row = out.align->data + (0 * 12 + t) * 9;
        g_assert_cmpfloat(fabsf(row[0] + row[1] + row[2] + row[3] + row[4] + row[5] + row[6] - 1),
                          <, 1e-5f);
        g_assert_cmpfloat(row[7], ==, 0.0f);
        g_assert_cmpfloat(row[8], ==, 0.0f);
    }
    float parts = out.mel_loss->data[0] + out.post_loss->data[0] + out.stop_loss->data[0] +
                  lp.guided_weight * out.guided_loss->data[0];
    g_assert_cmpfloat(fabsf(out.loss->data[0] - parts), <, 1e-4f * parts);
    aigc_ctx_backward(ctx, out.loss);
    for (guint i = 0; i < aigc_params_get_n(params); i++) {
        AigcTensor *p = aigc_params_get(params, i);
        double norm = 0;
        for (gint64 k = 0; k < p->n_elements; k++)
            norm += (double)p->grad[k] * p->grad[k];
        if (!(norm > 0) || !isfinite(norm))
            g_error("%s has no gradient (%g)", p->name, norm);
    }
    /* The batch norms updated their running statistics. */
    gint64 n_stats = 0;
    float *stats = aigc_tacotron2_get_bn_stats(m, &n_stats);
    g_assert_cmpint(n_stats, ==, 2 * (16 + 16 + 16 + 16 + 8));
    g_assert_cmpfloat(stats[0], !=, 0.0f);
}

/* The whole model's gradient against finite differences on a few parameters (no dropout, batch
 * norm on batch statistics), so the encoder, prenet, projections and losses are covered too. */
typedef struct {
    AigcTacotron2 *m;
    Synthetic *s;
} ModelCase;

static AigcTensor *model_f(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    ModelCase *mc = data;
    AigcTacotron2LossParams lp = aigc_tacotron2_default_loss_params();
    AigcTacotron2Output out;
    aigc_tacotron2_forward(ctx, mc->m, &mc->s->batch, &lp, &out);
    return out.loss;
}

static void test_model_gradcheck(void)
{
    g_autoptr(AigcPhonemeVocab) vocab = aigc_phoneme_vocab_new_default();
    AigcTacotron2Config c = tiny_config(aigc_phoneme_vocab_get_size(vocab));
    c.p_prenet = c.p_encoder = c.p_postnet = c.p_attention = c.p_decoder = 0.0f;
    AigcSpeechFeatures f = tiny_features();
    g_autoptr(AigcTacotron2) m = aigc_tacotron2_new(&c, &f, vocab, NULL);
    AigcRng rng;
    aigc_rng_init(&rng, 8);
    aigc_tacotron2_init_weights(m, &rng);
    Synthetic s;
    make_synthetic(&s);
    ModelCase mc = {m, &s};
    AigcParams *params = aigc_tacotron2_get_params(m);
    const char *names[] = {"embedding.weight",
                           "encoder.convolutions.1.bn.weight",
                           "encoder.lstm.weight_hh_l0_reverse",
                           "decoder.prenet.layers.0.weight",
                           "decoder.attention_layer.memory_layer.weight",
                           "decoder.linear_projection.bias",
                           "decoder.gate_layer.weight",
                           "postnet.convolutions.0.conv.weight"};
    AigcTensor *in[G_N_ELEMENTS(names)];
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        in[i] = aigc_params_find(params, names[i]);
        g_assert_nonnull(in[i]);
    }
    /* Running statistics move with every forward; keep them from mattering: batch statistics
     * are what training normalises with. */
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 6;
    p.eps = 2e-3;
    p.atol = 1e-3;
    p.rtol = 3e-2;
    aigc_assert_gradcheck(model_f, G_N_ELEMENTS(names), in, &mc, &p);
}

static void test_overfit(void)
{
    g_autoptr(AigcTacotron2) m = tiny_model(4);
    Synthetic s;
    make_synthetic(&s);
    AigcParams *params = aigc_tacotron2_get_params(m);
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, NULL, params);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTacotron2LossParams lp = aigc_tacotron2_default_loss_params();
    double first = 0, last = 0, first_mel = 0, last_mel = 0;
    for (int step = 0; step < 400; step++) {
        aigc_ctx_reset(ctx);
        aigc_params_zero_grad(params);
        AigcTacotron2Output out;
        aigc_tacotron2_forward(ctx, m, &s.batch, &lp, &out);
        g_assert_true(isfinite(out.loss->data[0]));
        aigc_ctx_backward(ctx, out.loss);
        aigc_clip_grad_norm(params, 1.0);
        aigc_optimizer_step(opt, 3e-3f);
        if (step == 0) {
            first = out.loss->data[0];
            first_mel = out.post_loss->data[0];
        }
        last = out.loss->data[0];
        last_mel = out.post_loss->data[0];
    }
    g_test_message("loss %.3f → %.3f, post-net MSE %.3f → %.3f", first, last, first_mel, last_mel);
    g_assert_cmpfloat(last, <, 0.25 * first);
    g_assert_cmpfloat(last_mel, <, 0.15 * first_mel);
}

/* ---- inference ---- */

static void test_synth_cap(void)
{
    g_autoptr(AigcTacotron2) m = tiny_model(5);
    AigcTensor *gate_b = aigc_params_find(aigc_tacotron2_get_params(m), "decoder.gate_layer.bias");
    gate_b->data[0] = -100.0f; /* never stops by itself */
    AigcTacotron2SynthParams sp = aigc_tacotron2_default_synth_params();
    sp.end_steps = 0;
    sp.max_frames_per_symbol = 4.5f;
    const gint32 ids[] = {1, 20, 30, 40, 3, 50, 2};
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTacotron2Synthesis) s =
        aigc_tacotron2_synthesize_ids(m, ids, 7, &sp, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(s->stop_reason, ==, AIGC_TACOTRON2_STOP_CAP);
    /* ⌈4.5 · 7⌉ = 32 frames → 16 steps of 2 */
    g_assert_cmpint(s->n_steps, ==, 16);
    g_assert_cmpint(s->n_frames, ==, 32);
    g_assert_cmpint(s->n_symbols, ==, 7);
    for (gint64 i = 0; i < s->n_frames * 8; i++)
        g_assert_true(isfinite(s->mel[i]));
    /* The absolute cap wins over the proportional one. */
    sp.max_frames = 9;
    g_autoptr(AigcTacotron2Synthesis) s2 =
        aigc_tacotron2_synthesize_ids(m, ids, 7, &sp, NULL, NULL);
    g_assert_cmpint(s2->n_frames, ==, 10);
    /* Monotonic window: each step's weights lie within [peak − 1, peak + 3] of the step before. */
    int peak = 0;
    for (int t = 0; t < s->n_steps; t++) {
        const float *row = s->alignment + t * 7;
        int best = 0;
        for (int j = 0; j < 7; j++) {
            if (j < peak - 1 || j > peak + 3)
                g_assert_cmpfloat(row[j], ==, 0.0f);
            if (row[j] > row[best])
                best = j;
        }
        peak = best;
    }
}

static void test_synth_stop_token(void)
{
    g_autoptr(AigcTacotron2) m = tiny_model(6);
    AigcTensor *gate_b = aigc_params_find(aigc_tacotron2_get_params(m), "decoder.gate_layer.bias");
    gate_b->data[0] = 100.0f; /* stops at once */
    const gint32 ids[] = {1, 20, 30, 40, 2};
    g_autoptr(AigcTacotron2Synthesis) s =
        aigc_tacotron2_synthesize_ids(m, ids, 5, NULL, NULL, NULL);
    g_assert_cmpint(s->stop_reason, ==, AIGC_TACOTRON2_STOP_TOKEN);
    g_assert_cmpint(s->n_steps, ==, 1);
    g_assert_cmpint(s->n_frames, ==, 2);
    /* …unless a minimum length is asked for. */
    AigcTacotron2SynthParams sp = aigc_tacotron2_default_synth_params();
    sp.min_frames = 6;
    g_autoptr(AigcTacotron2Synthesis) s2 =
        aigc_tacotron2_synthesize_ids(m, ids, 5, &sp, NULL, NULL);
    g_assert_cmpint(s2->stop_reason, ==, AIGC_TACOTRON2_STOP_TOKEN);
    g_assert_cmpint(s2->n_frames, ==, 6);
}

static void test_synth_end(void)
{
    /* A single symbol: the attention rests on the last symbol from the first step. */
    g_autoptr(AigcTacotron2) m = tiny_model(7);
    AigcTensor *gate_b = aigc_params_find(aigc_tacotron2_get_params(m), "decoder.gate_layer.bias");
    gate_b->data[0] = -100.0f;
    const gint32 ids[] = {2};
    AigcTacotron2SynthParams sp = aigc_tacotron2_default_synth_params();
    sp.end_steps = 3;
    sp.max_frames_per_symbol = 100;
    g_autoptr(AigcTacotron2Synthesis) s = aigc_tacotron2_synthesize_ids(m, ids, 1, &sp, NULL, NULL);
    g_assert_cmpint(s->stop_reason, ==, AIGC_TACOTRON2_STOP_END);
    g_assert_cmpint(s->n_steps, ==, 4);
}

static gboolean do_nothing(AigcJob *job, gpointer params, GError **error)
{
    return TRUE;
}

static void test_synth_errors(void)
{
    g_autoptr(AigcTacotron2) m = tiny_model(8);
    const gint32 bad[] = {1, 9999, 2};
    g_autoptr(GError) error = NULL;
    g_assert_null(aigc_tacotron2_synthesize_ids(m, bad, 3, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_null(aigc_tacotron2_synthesize_ids(m, bad, 0, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_null(aigc_tacotron2_synthesize_text(m, "  … !! ", NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_autoptr(AigcJob) job = aigc_job_new("test", do_nothing, NULL, NULL);
    aigc_job_cancel(job);
    g_assert_null(aigc_tacotron2_synthesize_text(m, "Hello there.", NULL, job, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
    g_clear_error(&error);
    /* Text works: emoji and unknown symbols are dropped, not fatal. */
    g_autoptr(AigcTacotron2Synthesis) s =
        aigc_tacotron2_synthesize_text(m, "Hi 🙂 there, Dr. Smith!", NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(s->ids[0], ==, aigc_phoneme_vocab_get_bos(aigc_tacotron2_get_vocab(m)));
    g_assert_cmpint(s->n_frames, >, 0);
}

/* ---- files ---- */

static char *save_model(AigcTacotron2 *m, const char *name, AigcDtype dtype)
{
    char *path = g_build_filename(dir, name, NULL);
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(aigc_tacotron2_save(m, w, dtype, &error));
    g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, &error));
    g_assert_no_error(error);
    return path;
}

static void test_save_load(void)
{
    g_autoptr(AigcTacotron2) m = tiny_model(9);
    /* Non-trivial running statistics. */
    gint64 n = 0;
    float *stats = aigc_tacotron2_get_bn_stats(m, &n);
    for (gint64 i = 0; i < n; i++)
        stats[i] = 0.5f + 0.01f * (float)(i % 17);
    g_autofree char *path = save_model(m, "t2.safetensors", AIGC_DTYPE_F32);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTacotron2) m2 = aigc_tacotron2_load_file(path, &error);
    g_assert_no_error(error);
    g_autofree char *j1 = aigc_tacotron2_config_to_json(aigc_tacotron2_get_config(m));
    g_autofree char *j2 = aigc_tacotron2_config_to_json(aigc_tacotron2_get_config(m2));
    g_assert_cmpstr(j1, ==, j2);
    g_assert_true(aigc_speech_features_equal(aigc_tacotron2_get_features(m),
                                             aigc_tacotron2_get_features(m2)));
    g_assert_cmpint(aigc_phoneme_vocab_get_size(aigc_tacotron2_get_vocab(m2)), ==,
                    aigc_phoneme_vocab_get_size(aigc_tacotron2_get_vocab(m)));
    const gint32 ids[] = {1, 20, 30, 3, 40, 50, 2};
    g_autoptr(AigcTacotron2Synthesis) a =
        aigc_tacotron2_synthesize_ids(m, ids, 7, NULL, NULL, NULL);
    g_autoptr(AigcTacotron2Synthesis) b =
        aigc_tacotron2_synthesize_ids(m2, ids, 7, NULL, NULL, NULL);
    g_assert_cmpint(a->n_frames, ==, b->n_frames);
    g_assert_cmpmem(a->mel, a->n_frames * 8 * 4, b->mel, b->n_frames * 8 * 4);
    g_assert_cmpmem(a->alignment, a->n_steps * 7 * 4, b->alignment, b->n_steps * 7 * 4);
    /* F16 weights load and stay close. */
    g_autofree char *half = save_model(m, "t2-f16.safetensors", AIGC_DTYPE_F16);
    g_autoptr(AigcTacotron2) m3 = aigc_tacotron2_load_file(half, &error);
    g_assert_no_error(error);
}

static void test_bad_config(void)
{
    g_autoptr(AigcPhonemeVocab) vocab = aigc_phoneme_vocab_new_default();
    AigcTacotron2Config c = tiny_config(aigc_phoneme_vocab_get_size(vocab));
    AigcSpeechFeatures f = tiny_features();
    g_autoptr(GError) error = NULL;
    c.encoder_dim = 15;
    g_assert_null(aigc_tacotron2_new(&c, &f, vocab, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    c = tiny_config(aigc_phoneme_vocab_get_size(vocab));
    c.location_kernel = 4;
    g_assert_null(aigc_tacotron2_new(&c, &f, vocab, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    c = tiny_config(aigc_phoneme_vocab_get_size(vocab) + 1);
    g_assert_null(aigc_tacotron2_new(&c, &f, vocab, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    c = tiny_config(aigc_phoneme_vocab_get_size(vocab));
    f.n_mels = 80;
    g_assert_null(aigc_tacotron2_new(&c, &f, vocab, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(aigc_tacotron2_config_set(&c, "r", "9", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(aigc_tacotron2_config_set(&c, "p_prenet", "abc", &error));
    g_clear_error(&error);
    g_assert_false(aigc_tacotron2_config_set(&c, "no_such_key", "1", &error));
    g_assert_nonnull(strstr(error->message, "attention_rnn_dim"));
    g_clear_error(&error);
    g_assert_true(aigc_tacotron2_config_set(&c, "r", "2", &error));
    g_assert_true(aigc_tacotron2_config_set(&c, "p_decoder", "0.25", &error));
    g_assert_cmpfloat(c.p_decoder, ==, 0.25f);
    g_autofree char *json = aigc_tacotron2_config_to_json(&c);
    AigcTacotron2Config back;
    g_assert_true(aigc_tacotron2_config_from_json(&back, json, &error));
    g_assert_cmpmem(&back, sizeof back, &c, sizeof c);
    g_assert_false(aigc_tacotron2_config_from_json(&back, "{\"r\": 2}", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_clear_error(&error);
    g_assert_false(aigc_tacotron2_config_from_json(&back, "[1, 2", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
}

/* Rewrites a saved model with one change: a metadata value, or one tensor's data. */
static char *variant(AigcTacotron2 *m, const char *name, const char *key, const char *value,
                     const char *tensor, float fill)
{
    g_autofree char *good = save_model(m, "good.safetensors", AIGC_DTYPE_F32);
    char *path = g_build_filename(dir, name, NULL);
    if (key) {
        const char *keys[] = {key, NULL}, *values[] = {value, NULL};
        g_autoptr(GError) error = NULL;
        g_autofree char *bytes = NULL;
        gsize len = 0;
        g_assert_true(g_file_get_contents(good, &bytes, &len, NULL));
        g_assert_true(g_file_set_contents(path, bytes, (gssize)len, NULL));
        g_assert_true(aigc_safetensors_update_metadata(path, keys, values, &error));
        g_assert_no_error(error);
    } else {
        AigcTensor *t = tensor ? aigc_params_find(aigc_tacotron2_get_params(m), tensor) : NULL;
        float *v = NULL;
        gint64 n = 0;
        float keep = 0;
        if (t) {
            keep = t->data[0];
            t->data[0] = fill;
        } else {
            v = aigc_tacotron2_get_bn_stats(m, &n);
            keep = v[n - 1];
            v[n - 1] = fill;
        }
        g_autofree char *tmp = save_model(m, name, AIGC_DTYPE_F32);
        if (t)
            t->data[0] = keep;
        else
            v[n - 1] = keep;
    }
    return path;
}

static void expect_load_error(const char *path, int code, const char *needle)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTacotron2) m = aigc_tacotron2_load_file(path, &error);
    g_assert_null(m);
    g_assert_nonnull(error);
    if (code >= 0)
        g_assert_error(error, AIGC_ENGINE_ERROR, code);
    if (needle && !strstr(error->message, needle))
        g_error("“%s” does not mention “%s”", error->message, needle);
}

static void test_bad_files(void)
{
    g_autoptr(AigcTacotron2) m = tiny_model(10);
    g_autofree char *wrong_family = variant(m, "a.safetensors", "family", "gpt", NULL, 0);
    expect_load_error(wrong_family, AIGC_ENGINE_ERROR_FORMAT, "not a Tacotron 2 model");
    g_autofree char *bad_config =
        variant(m, "b.safetensors", "tacotron2.config", "{\"r\": 1}", NULL, 0);
    expect_load_error(bad_config, AIGC_ENGINE_ERROR_FORMAT, "missing");
    g_autofree char *bad_vocab =
        variant(m, "c.safetensors", "speech.phoneme_vocab", "{\"format\": 3}", NULL, 0);
    expect_load_error(bad_vocab, AIGC_ENGINE_ERROR_FORMAT, "c.safetensors");
    g_autofree char *bad_features =
        variant(m, "d.safetensors", "speech.features", "{\"n_mels\": 0}", NULL, 0);
    expect_load_error(bad_features, AIGC_ENGINE_ERROR_FORMAT, "d.safetensors");
    g_autofree char *nan_weight =
        variant(m, "e.safetensors", NULL, NULL, "decoder.attention_rnn.weight_hh", NAN);
    expect_load_error(nan_weight, AIGC_ENGINE_ERROR_NUMERIC, "decoder.attention_rnn.weight_hh");
    g_autofree char *neg_var = variant(m, "f.safetensors", NULL, NULL, NULL, -1.0f);
    expect_load_error(neg_var, AIGC_ENGINE_ERROR_NUMERIC, "running_var");
    /* A vocabulary of another size than the embedding. */
    g_autoptr(AigcPhonemeVocab) small = aigc_phoneme_vocab_new_from_json(
        "{\"format\": \"aigc-phoneme-vocab\", \"version\": 1, \"voice\": \"en-us\", "
        "\"symbols\": [\"_\", \"^\", \"$\", \" \", \"a\"], \"pad\": 0, \"bos\": 1, \"eos\": 2, "
        "\"space\": 3}",
        NULL);
    g_assert_nonnull(small);
    g_autofree char *small_json = aigc_phoneme_vocab_to_json(small);
    g_autofree char *other_vocab =
        variant(m, "g.safetensors", "speech.phoneme_vocab", small_json, NULL, 0);
    expect_load_error(other_vocab, AIGC_ENGINE_ERROR_FORMAT, NULL);
    /* Truncated and garbage files. */
    g_autofree char *good = save_model(m, "h.safetensors", AIGC_DTYPE_F32);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(good, &bytes, &len, NULL));
    g_autofree char *cut = g_build_filename(dir, "cut.safetensors", NULL);
    g_assert_true(g_file_set_contents(cut, bytes, (gssize)(len / 2), NULL));
    expect_load_error(cut, -1, "cut.safetensors");
    g_autofree char *junk = g_build_filename(dir, "junk.safetensors", NULL);
    g_assert_true(g_file_set_contents(junk, "not a model at all", -1, NULL));
    expect_load_error(junk, -1, "junk.safetensors");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    dir = g_dir_make_tmp("aigc-tacotron2-XXXXXX", NULL);
    g_test_add_func("/models/tacotron2/decoder/gradcheck-one-step",
                    test_decoder_gradcheck_one_step);
    g_test_add_func("/models/tacotron2/decoder/gradcheck-steps", test_decoder_gradcheck_steps);
    g_test_add_func("/models/tacotron2/decoder/gradcheck-dropout", test_decoder_gradcheck_dropout);
    g_test_add_func("/models/tacotron2/decoder/run-matches", test_decoder_run_matches);
    g_test_add_func("/models/tacotron2/shapes", test_shapes);
    g_test_add_func("/models/tacotron2/gradcheck", test_model_gradcheck);
    g_test_add_func("/models/tacotron2/overfit", test_overfit);
    g_test_add_func("/models/tacotron2/synth/cap-and-window", test_synth_cap);
    g_test_add_func("/models/tacotron2/synth/stop-token", test_synth_stop_token);
    g_test_add_func("/models/tacotron2/synth/end", test_synth_end);
    g_test_add_func("/models/tacotron2/synth/errors", test_synth_errors);
    g_test_add_func("/models/tacotron2/save-load", test_save_load);
    g_test_add_func("/models/tacotron2/bad-config", test_bad_config);
    g_test_add_func("/models/tacotron2/bad-files", test_bad_files);
    int status = g_test_run();
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
    g_free(dir);
    return status;
}
