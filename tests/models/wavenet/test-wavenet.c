/* SPDX-License-Identifier: MIT
 *
 * WaveNet: config checks and the receptive field; incremental generation with cached queues
 * computes the logits of the full causal forward on the same inputs (float and half weights); the
 * output is causal; finite differences through the whole training graph (condition, dilated
 * layers, gated units, skips); a tiny model overfits one segment; sampling is reproducible from
 * its seed and stops when asked; files round-trip exactly and bad ones are refused.
 */
#include "aigc-test-support.h"
#include "dsp/aigc-mulaw.h"
#include "models/wavenet/aigc-wavenet.h"
#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *dir;

/* 6 layers in 2 stacks (dilations 1, 2, 4, 1, 2, 4), 8 channels but the skips, hop 256,
 * pre-emphasis α. */
static AigcWavenet *small_wavenet_alpha(guint64 seed, int n_mels, int skip, float alpha)
{
    AigcWavenetConfig c = aigc_wavenet_default_config();
    c.preemphasis = alpha;
    c.n_mels = n_mels;
    c.residual_channels = 8;
    c.gate_channels = 16;
    c.skip_channels = skip;
    c.cond_channels = 8;
    c.n_layers = 6;
    c.n_stacks = 2;
    AigcSpeechFeatures f = aigc_speech_features_default();
    f.n_mels = n_mels;
    AigcWavenet *w = aigc_wavenet_new(&c, &f);
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    aigc_wavenet_init_weights(w, &rng);
    return w;
}

static AigcWavenet *small_wavenet(guint64 seed, int n_mels, int skip)
{
    return small_wavenet_alpha(seed, n_mels, skip, aigc_wavenet_default_config().preemphasis);
}

static AigcWavenet *tiny_wavenet(guint64 seed, int n_mels)
{
    return small_wavenet(seed, n_mels, 8);
}

static void test_config(void)
{
    AigcWavenetConfig c = aigc_wavenet_default_config();
    GError *error = NULL;
    g_assert_true(aigc_wavenet_config_validate(&c, &error));
    /* 2 stacks of 1 + 2 + … + 128, the input conv's own sample and the current one */
    g_assert_cmpint(aigc_wavenet_config_get_receptive_field(&c), ==, 2 * 255 + 2);
    g_autofree char *json = aigc_wavenet_config_to_json(&c);
    AigcWavenetConfig back;
    g_assert_true(aigc_wavenet_config_from_json(&back, json, &error));
    g_assert_cmpmem(&back, sizeof back, &c, sizeof c);
    g_assert_false(aigc_wavenet_config_from_json(
        &back,
        "{\"n_mels\": 80, \"residual_channels\": 8, \"gate_channels\": 16, "
        "\"skip_channels\": 8, \"cond_channels\": 8, \"n_layers\": 4, \"n_stacks\": 2, "
        "\"output\": \"mol\"}",
        &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_true(aigc_wavenet_config_set(&c, "n_layers", "9", &error));
    g_assert_false(aigc_wavenet_config_validate(&c, &error)); /* 2 stacks do not divide 9 */
    g_clear_error(&error);
    c = aigc_wavenet_default_config();
    g_assert_true(aigc_wavenet_config_set(&c, "gate_channels", "7", &error));
    g_assert_false(aigc_wavenet_config_validate(&c, &error));
    g_clear_error(&error);
    g_assert_false(aigc_wavenet_config_set(&c, "kernel", "3", &error));
    g_clear_error(&error);
    /* pre-emphasis: set, validated, through JSON in any locale; files from before it read as 0 */
    c = aigc_wavenet_default_config();
    g_assert_cmpfloat(c.preemphasis, ==, 0.97f);
    g_assert_true(aigc_wavenet_config_set(&c, "preemphasis", "0.85", &error));
    g_assert_cmpfloat(c.preemphasis, ==, 0.85f);
    g_autofree char *json85 = aigc_wavenet_config_to_json(&c);
    g_assert_nonnull(strstr(json85, "\"preemphasis\": 0.85,"));
    c.preemphasis = nextafterf(0.85f, 1.0f); /* one that needs all nine digits round-trips */
    g_autofree char *json_odd = aigc_wavenet_config_to_json(&c);
    g_assert_true(aigc_wavenet_config_from_json(&back, json_odd, &error));
    g_assert_cmpfloat(back.preemphasis, ==, c.preemphasis);
    c.preemphasis = 0.85f;
    g_assert_true(aigc_wavenet_config_from_json(&back, json85, &error));
    g_assert_cmpfloat(back.preemphasis, ==, 0.85f);
    const char *bad_alpha[] = {"1", "-0.1", "0.995", "nan", "x", ""};
    for (guint i = 0; i < G_N_ELEMENTS(bad_alpha); i++) {
        g_assert_false(aigc_wavenet_config_set(&c, "preemphasis", bad_alpha[i], &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
        g_clear_error(&error);
    }
    g_assert_cmpfloat(c.preemphasis, ==, 0.85f);
    const char *old = "{\"n_mels\": 80, \"residual_channels\": 8, \"gate_channels\": 16, "
                      "\"skip_channels\": 8, \"cond_channels\": 8, \"n_layers\": 4, "
                      "\"n_stacks\": 2, \"output\": \"mulaw256\"}";
    g_assert_true(aigc_wavenet_config_from_json(&back, old, &error));
    g_assert_cmpfloat(back.preemphasis, ==, 0.0f);
    g_assert_false(aigc_wavenet_config_from_json(
        &back,
        "{\"n_mels\": 80, \"residual_channels\": 8, \"gate_channels\": 16, "
        "\"skip_channels\": 8, \"cond_channels\": 8, \"n_layers\": 4, \"n_stacks\": 2, "
        "\"preemphasis\": \"high\"}",
        &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_clear_error(&error);
    g_assert_false(aigc_wavenet_config_from_json(
        &back,
        "{\"n_mels\": 80, \"residual_channels\": 8, \"gate_channels\": 16, "
        "\"skip_channels\": 8, \"cond_channels\": 8, \"n_layers\": 4, \"n_stacks\": 2, "
        "\"preemphasis\": {}}",
        &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_clear_error(&error);
    g_assert_false(aigc_wavenet_config_from_json(
        &back,
        "{\"n_mels\": 80, \"residual_channels\": 8, \"gate_channels\": 16, "
        "\"skip_channels\": 8, \"cond_channels\": 8, \"n_layers\": 4, \"n_stacks\": 2, "
        "\"preemphasis\": 1.5}",
        &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
}

/* The targets are the levels of y[t] = a[t] − α·a[t−1] (the samples before the segment count),
 * the input at t the level at t − 1 decoded; α = 0 models the audio itself. */
static void test_teacher_forcing(void)
{
    enum { T = 64 };
    float audio[T], x[T];
    gint32 targets[T];
    for (int t = 0; t < T; t++)
        audio[t] = 0.6f * sinf(0.3f * t) + 0.2f * cosf(2.1f * t);
    const float before[2] = {0.3f, -0.45f};
    const float alphas[] = {0.0f, 0.97f};
    for (guint k = 0; k < G_N_ELEMENTS(alphas); k++) {
        AigcWavenetConfig c = aigc_wavenet_default_config();
        c.preemphasis = alphas[k];
        aigc_wavenet_teacher_forcing(&c, audio, T, before, x, targets);
        const double a = alphas[k];
        g_assert_cmpfloat(
            x[0], ==,
            aigc_mulaw_decode_one(aigc_mulaw_encode_one((float)(before[1] - a * before[0]))));
        for (int t = 0; t < T; t++) {
            double y = audio[t] - a * (t ? audio[t - 1] : before[1]);
            g_assert_cmpint(targets[t], ==, aigc_mulaw_encode_one((float)y));
            /* the level is the nearest: its decoded value is within half a step of y */
            g_assert_cmpfloat(fabs(aigc_mulaw_decode_one((guint8)targets[t]) - y), <, 0.02);
            if (t + 1 < T)
                g_assert_cmpfloat(x[t + 1], ==, aigc_mulaw_decode_one((guint8)targets[t]));
        }
    }
    /* with α = 0.97 the slowly varying part is gone: the targets spread over fewer levels */
    AigcWavenetConfig c = aigc_wavenet_default_config();
    float slow[T];
    for (int t = 0; t < T; t++)
        slow[t] = 0.8f * sinf(0.01f * t);
    aigc_wavenet_teacher_forcing(&c, slow, T, (float[]){0, 0}, x, targets);
    for (int t = 1; t < T; t++)
        g_assert_cmpfloat(fabsf(aigc_mulaw_decode_one((guint8)targets[t])), <, 0.05f);
}

/* x [T] of previous samples as the trainer makes them (μ-law decoded), mel [F, M]. */
static void make_inputs(AigcRng *rng, float *x, gint64 T, float *mel, gint64 F, int M)
{
    for (gint64 t = 0; t < T; t++)
        x[t] = aigc_mulaw_decode_one((guint8)aigc_rng_below(rng, 256));
    x[0] = 0;
    aigc_rng_fill_uniform(rng, mel, F * M, -3, 1);
}

static AigcTensor *full_logits(AigcCtx *ctx, AigcWavenet *w, const float *x, gint64 T,
                               const float *mel, gint64 F, int M)
{
    AigcTensor *xt = aigc_tensor_from_data(ctx, 3, (gint64[]){1, 1, T}, x);
    AigcTensor *mt = aigc_tensor_new3(ctx, 1, M, F);
    for (gint64 f = 0; f < F; f++)
        for (int m = 0; m < M; m++)
            mt->data[m * F + f] = mel[f * M + m];
    return aigc_wavenet_forward(ctx, w, xt, mt, 0); /* [1, 256, T] */
}

static void test_incremental_equals_full(void)
{
    enum { M = 5, F = 3, T = 3 * 256 };
    g_autoptr(AigcWavenet) w = tiny_wavenet(1, M);
    AigcRng rng;
    aigc_rng_init(&rng, 2);
    static float x[T], mel[F * M], inc[T * 256];
    make_inputs(&rng, x, T, mel, F, M);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *full = full_logits(ctx, w, x, T, mel, F, M);
    GError *error = NULL;
    for (int half = 0; half < 2; half++) {
        g_assert_true(aigc_wavenet_incremental_logits(w, mel, F, x, T, half, inc, &error));
        g_assert_no_error(error);
        double worst = 0;
        for (int t = 0; t < T; t++)
            for (int q = 0; q < 256; q++) {
                double a = inc[t * 256 + q], b = full->data[q * T + t];
                worst = MAX(worst, fabs(a - b) / (1 + fabs(b)));
            }
        g_test_message("%s weights: worst relative logit difference %.3g", half ? "half" : "float",
                       worst);
        g_assert_cmpfloat(worst, <, half ? 5e-3 : 2e-5);
    }
}

static void test_causal(void)
{
    enum { M = 5, F = 2, T = 400, CUT = 150 };
    g_autoptr(AigcWavenet) w = tiny_wavenet(3, M);
    AigcRng rng;
    aigc_rng_init(&rng, 4);
    static float x[T], mel[F * M];
    make_inputs(&rng, x, T, mel, F, M);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *a = full_logits(ctx, w, x, T, mel, F, M);
    for (int t = CUT + 1; t < T; t++)
        x[t] = -x[t] + 0.25f;
    AigcTensor *b = full_logits(ctx, w, x, T, mel, F, M);
    gboolean later_changed = FALSE;
    for (int q = 0; q < 256; q++)
        for (int t = 0; t < T; t++) {
            float d = fabsf(a->data[q * T + t] - b->data[q * T + t]);
            if (t <= CUT)
                g_assert_cmpfloat(d, ==, 0.0f);
            else if (d > 0)
                later_changed = TRUE;
        }
    g_assert_true(later_changed);
}

typedef struct {
    AigcWavenet *w;
    gint64 offset;
} FwdCase;

static AigcTensor *fwd_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const FwdCase *c = data;
    AigcTensor *logits = aigc_wavenet_forward(ctx, c->w, in[0], in[1], c->offset);
    return aigc_slice(ctx, logits, 1, 100, 108); /* a few levels keep the check small */
}

static void test_gradcheck(void)
{
    enum { M = 3 };
    g_autoptr(AigcWavenet) w = tiny_wavenet(5, M);
    AigcRng rng;
    aigc_rng_init(&rng, 6);
    AigcParams *p = aigc_wavenet_get_params(w);
    /* a window of 2 frames (512 condition samples), the segment at offset 300 */
    FwdCase fc = {.w = w, .offset = 300};
    AigcTensor *in[5] = {aigc_test_leaf(&rng, 3, (gint64[]){2, 1, 40}, -1, 1, TRUE),
                         aigc_test_leaf(&rng, 3, (gint64[]){2, M, 2}, -1, 1, TRUE),
                         aigc_params_find(p, "layers.4.cond.weight"),
                         aigc_params_find(p, "layers.2.dilated.weight"),
                         aigc_params_find(p, "cond.weight")};
    AigcGradcheckParams gp = aigc_gradcheck_default_params();
    gp.max_checks = 24;
    aigc_assert_gradcheck(fwd_fn, 5, in, &fc, &gp);
    aigc_tensor_free_leaf(in[0]);
    aigc_tensor_free_leaf(in[1]);
}

static void test_overfit(void)
{
    enum { M = 4, T = 1024, F = T / 256 };
    /* the skip width bounds how sharply the 256 levels can be told apart */
    g_autoptr(AigcWavenet) w = small_wavenet(7, M, 64);
    AigcParams *params = aigc_wavenet_get_params(w);
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, NULL, params);
    static float audio[T], x[T];
    static gint32 targets[T];
    for (int t = 0; t < T; t++)
        audio[t] = 0.5f * sinf(2 * G_PI * 250 * t / 16000.0f);
    for (int t = 0; t < T; t++) {
        targets[t] = aigc_mulaw_encode_one(audio[t]);
        x[t] = t ? aigc_mulaw_decode_one((guint8)targets[t - 1]) : 0.0f;
    }
    float mel[M * F];
    for (int i = 0; i < M * F; i++)
        mel[i] = 0.5f;
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    float first = 0, last = 0;
    for (int step = 0; step < 80; step++) {
        aigc_ctx_reset(ctx);
        AigcTensor *xt = aigc_tensor_from_data(ctx, 3, (gint64[]){1, 1, T}, x);
        AigcTensor *mt = aigc_tensor_from_data(ctx, 3, (gint64[]){1, M, F}, mel);
        AigcTensor *l = aigc_wavenet_loss(ctx, w, xt, mt, 0, targets);
        aigc_params_zero_grad(params);
        aigc_ctx_backward(ctx, l);
        aigc_optimizer_step(opt, 1e-2f);
        if (step == 0)
            first = l->data[0];
        last = l->data[0];
    }
    g_test_message("cross-entropy %.3f → %.3f nats", first, last);
    g_assert_cmpfloat(fabsf(first - logf(256)), <, 0.3f);
    g_assert_cmpfloat(last, <, 2.5f);
}

static int polls;

static gboolean stop_at_half(double fraction, gpointer data)
{
    polls++;
    return fraction < 0.5;
}

/* Generation undoes the pre-emphasis: re-emphasised, the output is a sequence of μ-law levels,
 * and teacher forcing on it gives back those levels (what generation sampled). */
static void test_generate_deemphasis(void)
{
    enum { M = 4, F = 3, N = F * 256 };
    float mel[F * M];
    AigcRng rng;
    aigc_rng_init(&rng, 9);
    aigc_rng_fill_uniform(&rng, mel, F * M, -2, 1);
    const float alphas[] = {0.0f, 0.5f, 0.97f};
    for (guint k = 0; k < G_N_ELEMENTS(alphas); k++) {
        g_autoptr(AigcWavenet) w = small_wavenet_alpha(8, M, 8, alphas[k]);
        static float a[N], x[N];
        static gint32 targets[N];
        g_assert_true(aigc_wavenet_generate(w, mel, F, 42, a, NULL, NULL, NULL));
        aigc_wavenet_teacher_forcing(aigc_wavenet_get_config(w), a, N, (float[]){0, 0}, x, targets);
        double worst = 0;
        int checked = 0;
        for (int t = 0; t < N; t++) {
            g_assert_true(a[t] >= -1 && a[t] <= 1);
            if (fabsf(a[t]) == 1.0f) /* clamped: an untrained model's walk leaves the range */
                continue;
            double y = a[t] - (double)alphas[k] * (t ? a[t - 1] : 0.0f);
            worst = MAX(worst, fabs(y - aigc_mulaw_decode_one((guint8)targets[t])));
            checked++;
        }
        g_test_message("α %.2f: re-emphasised output within %.2g of its levels (%d of %d samples)",
                       alphas[k], worst, checked, N);
        g_assert_cmpint(checked, >=, N / 4);
        g_assert_cmpfloat(worst, <, 1e-6);
    }
}

static void test_generate(void)
{
    enum { M = 4, F = 3 };
    g_autoptr(AigcWavenet) w = small_wavenet_alpha(8, M, 8, 0.0f);
    float mel[F * M];
    AigcRng rng;
    aigc_rng_init(&rng, 9);
    aigc_rng_fill_uniform(&rng, mel, F * M, -2, 1);
    static float a[F * 256], b[F * 256], c[F * 256];
    GError *error = NULL;
    g_assert_true(aigc_wavenet_generate(w, mel, F, 42, a, NULL, NULL, &error));
    g_assert_true(aigc_wavenet_generate(w, mel, F, 42, b, NULL, NULL, &error));
    g_assert_true(aigc_wavenet_generate(w, mel, F, 43, c, NULL, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    g_assert_true(memcmp(a, c, sizeof a) != 0);
    for (int i = 0; i < F * 256; i++) {
        g_assert_true(a[i] >= -1 && a[i] <= 1);
        /* without pre-emphasis every sample is a μ-law level */
        g_assert_cmpfloat(a[i], ==, aigc_mulaw_decode_one(aigc_mulaw_encode_one(a[i])));
    }
    polls = 0;
    g_assert_false(aigc_wavenet_generate(w, mel, F, 42, a, stop_at_half, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
    g_assert_cmpint(polls, >=, 2);
    g_clear_error(&error);
    g_assert_false(aigc_wavenet_generate(w, mel, 0, 42, a, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    mel[3] = INFINITY;
    g_assert_false(aigc_wavenet_generate(w, mel, F, 42, a, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_clear_error(&error);
}

static void test_files(void)
{
    enum { M = 4, F = 2 };
    g_autoptr(AigcWavenet) w = tiny_wavenet(10, M);
    g_autofree char *path = g_build_filename(dir, "w.safetensors", NULL);
    GError *error = NULL;
    {
        g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
        g_assert_true(aigc_wavenet_save(w, wr, AIGC_DTYPE_F32, &error));
        g_assert_true(aigc_safetensors_writer_write(wr, path, NULL, NULL, &error));
    }
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_safetensors_get_metadata(st, "family"), ==, "wavenet");
    g_autoptr(AigcWavenet) back = aigc_wavenet_load(st, &error);
    g_assert_no_error(error);
    float mel[F * M] = {0.1f, 0.2f, 0.3f, 0.4f, -1, -2, -3, -4};
    static float a[F * 256], b[F * 256];
    g_assert_true(aigc_wavenet_generate(w, mel, F, 1, a, NULL, NULL, NULL));
    g_assert_true(aigc_wavenet_generate(back, mel, F, 1, b, NULL, NULL, NULL));
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    /* refused: not a WaveNet, a config that disagrees with the tensors, a NaN weight */
    struct {
        const char *name, *key, *value;
        gboolean nan;
        int code;
    } bad[] = {
        {"plain.safetensors", "wavenet.config", NULL, FALSE, AIGC_ENGINE_ERROR_FORMAT},
        {"wide.safetensors", "wavenet.config",
         "{\"n_mels\": 4, \"residual_channels\": 16, \"gate_channels\": 16, \"skip_channels\": 8, "
         "\"cond_channels\": 8, \"n_layers\": 6, \"n_stacks\": 2}",
         FALSE, AIGC_ENGINE_ERROR_FORMAT},
        {"mels.safetensors", "speech.features", "{\"n_mels\": 80}", FALSE,
         AIGC_ENGINE_ERROR_FORMAT},
        {"nan.safetensors", NULL, NULL, TRUE, AIGC_ENGINE_ERROR_NUMERIC},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *bp = g_build_filename(dir, bad[i].name, NULL);
        AigcParams *p = aigc_wavenet_get_params(w);
        float keep = aigc_params_get_data(p)[5];
        if (bad[i].nan)
            aigc_params_get_data(p)[5] = NAN;
        g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
        g_assert_true(aigc_wavenet_save(w, wr, AIGC_DTYPE_F32, NULL));
        if (bad[i].key)
            aigc_safetensors_writer_set_metadata(wr, bad[i].key, bad[i].value ? bad[i].value : "");
        g_assert_true(aigc_safetensors_writer_write(wr, bp, NULL, NULL, NULL));
        aigc_params_get_data(p)[5] = keep;
        g_autoptr(AigcSafetensors) bst = aigc_safetensors_open(bp, &error);
        g_assert_no_error(error);
        g_autoptr(AigcWavenet) bw = aigc_wavenet_load(bst, &error);
        g_assert_null(bw);
        g_test_message("%s", error->message);
        g_assert_error(error, AIGC_ENGINE_ERROR, bad[i].code);
        g_assert_nonnull(strstr(error->message, bad[i].name));
        g_clear_error(&error);
        g_unlink(bp);
    }
    g_unlink(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    dir = g_dir_make_tmp("aigc-wavenet-XXXXXX", NULL);
    g_test_add_func("/models/wavenet/config", test_config);
    g_test_add_func("/models/wavenet/incremental-equals-full", test_incremental_equals_full);
    g_test_add_func("/models/wavenet/causal", test_causal);
    g_test_add_func("/models/wavenet/gradcheck", test_gradcheck);
    g_test_add_func("/models/wavenet/overfit", test_overfit);
    g_test_add_func("/models/wavenet/teacher-forcing", test_teacher_forcing);
    g_test_add_func("/models/wavenet/generate", test_generate);
    g_test_add_func("/models/wavenet/generate-deemphasis", test_generate_deemphasis);
    g_test_add_func("/models/wavenet/files", test_files);
    int status = g_test_run();
    g_rmdir(dir);
    g_free(dir);
    return status;
}
