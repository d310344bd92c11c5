/* SPDX-License-Identifier: MIT
 *
 * MelGAN: config checks; the generator's output is F·hop samples and the folded synthesis path
 * computes what the weight-normalised training graph computes; finite differences through a tiny
 * generator and through the multi-scale discriminator; a tiny generator overfits one segment
 * under the STFT loss; files round-trip exactly; bad files are refused with a clear error.
 */
#include "aigc-test-support.h"
#include "models/melgan/aigc-melgan-disc.h"
#include "models/melgan/aigc-melgan.h"
#include "models/vocoder/aigc-stft-loss.h"
#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *dir;

/* A small but complete generator at the shared features (hop 256 = 8·8·2·2). */
static AigcMelgan *small_melgan(int channels, guint64 seed)
{
    AigcMelganConfig c = aigc_melgan_default_config();
    c.channels = channels;
    c.n_res = 2;
    AigcSpeechFeatures f = aigc_speech_features_default();
    AigcMelgan *m = aigc_melgan_new(&c, &f);
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    aigc_melgan_init_weights(m, &rng);
    /* Larger weights than the paper's N(0, 0.02) so every layer's output is far from zero. */
    AigcParams *p = aigc_melgan_get_params(m);
    for (guint i = 0; i < aigc_params_get_n(p); i++) {
        AigcTensor *t = aigc_params_get(p, i);
        if (g_str_has_suffix(t->name, ".bias"))
            aigc_rng_fill_uniform(&rng, t->data, t->n_elements, -0.1f, 0.1f);
        else if (g_str_has_suffix(t->name, ".weight_g"))
            aigc_rng_fill_uniform(&rng, t->data, t->n_elements, 0.5f, 1.5f);
    }
    aigc_melgan_fold(m);
    return m;
}

static void test_config(void)
{
    AigcMelganConfig c = aigc_melgan_default_config();
    GError *error = NULL;
    g_assert_true(aigc_melgan_config_validate(&c, &error));
    g_assert_cmpint(aigc_melgan_config_get_hop(&c), ==, 256);
    g_assert_true(aigc_melgan_config_set(&c, "upsample", "5,4,4", &error));
    g_assert_cmpint(c.n_upsample, ==, 3);
    g_assert_cmpint(aigc_melgan_config_get_hop(&c), ==, 80);
    g_autofree char *json = aigc_melgan_config_to_json(&c);
    AigcMelganConfig back;
    g_assert_true(aigc_melgan_config_from_json(&back, json, &error));
    g_assert_no_error(error);
    g_assert_cmpmem(&back, sizeof back, &c, sizeof c);
    /* features whose hop is not the product of the factors are refused */
    AigcSpeechFeatures f = aigc_speech_features_default();
    g_assert_false(aigc_melgan_check_features(&c, &f, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    const char *bad[][2] = {
        {"upsample", "8,1"}, {"upsample", "x"}, {"channels", "-3"}, {"nope", "1"}};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        AigcMelganConfig d = aigc_melgan_default_config();
        gboolean ok = aigc_melgan_config_set(&d, bad[i][0], bad[i][1], &error) &&
                      aigc_melgan_config_validate(&d, &error);
        g_assert_false(ok);
        g_clear_error(&error);
    }
    c = aigc_melgan_default_config();
    c.channels = 24; /* not divisible by 2⁴ */
    g_assert_false(aigc_melgan_config_validate(&c, &error));
    g_clear_error(&error);
}

static void test_length_and_fold(void)
{
    g_autoptr(AigcMelgan) m = small_melgan(32, 1);
    enum { F = 5, M = 80 };
    AigcRng rng;
    aigc_rng_init(&rng, 2);
    float mel[F * M]; /* frame-major */
    aigc_rng_fill_uniform(&rng, mel, F * M, -6, 1);
    float out[F * 256];
    GError *error = NULL;
    g_assert_true(aigc_melgan_synthesize(m, mel, F, out, NULL, NULL, &error));
    g_assert_no_error(error);
    double energy = 0;
    for (int i = 0; i < F * 256; i++) {
        g_assert_true(out[i] >= -1 && out[i] <= 1);
        energy += out[i] * out[i];
    }
    g_assert_cmpfloat(energy, >, 1e-6);
    /* the training graph on the same mel, channel-major [1, M, F] */
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *x = aigc_tensor_new3(ctx, 1, M, F);
    for (int f = 0; f < F; f++)
        for (int k = 0; k < M; k++)
            x->data[k * F + f] = mel[f * M + k];
    AigcTensor *y = aigc_melgan_forward(ctx, m, x);
    g_assert_cmpint(y->n_dims, ==, 3);
    g_assert_cmpint(y->shape[1], ==, 1);
    g_assert_cmpint(y->shape[2], ==, F * 256);
    aigc_test_assert_close(y->data, out, F * 256, 1e-3, 1e-5, "training graph vs synthesis");
    /* one frame works, and lengths scale exactly */
    float out1[256];
    g_assert_true(aigc_melgan_synthesize(m, mel, 1, out1, NULL, NULL, &error));
    g_assert_false(aigc_melgan_synthesize(m, mel, 0, out1, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    mel[7] = NAN;
    g_assert_false(aigc_melgan_synthesize(m, mel, F, out, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_clear_error(&error);
}

static gboolean stop_now(double fraction, gpointer data)
{
    (*(int *)data)++;
    return fraction < 0.3;
}

static void test_cancel(void)
{
    g_autoptr(AigcMelgan) m = small_melgan(16, 3);
    float mel[4 * 80] = {0}, out[4 * 256];
    int calls = 0;
    GError *error = NULL;
    g_assert_false(aigc_melgan_synthesize(m, mel, 4, out, stop_now, &calls, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
    g_assert_cmpint(calls, >=, 1);
    g_clear_error(&error);
}

/* ---- finite differences through a tiny generator (hop 4) ---- */

typedef struct {
    AigcMelgan *m;
} GenCase;

static AigcTensor *gen_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const GenCase *c = data;
    return aigc_melgan_forward(ctx, c->m, in[0]);
}

static void test_generator_gradcheck(void)
{
    AigcMelganConfig c = aigc_melgan_default_config();
    c.n_mels = 3;
    c.channels = 8;
    c.n_upsample = 2;
    c.upsample[0] = 2;
    c.upsample[1] = 3; /* an odd factor: output padding */
    c.n_res = 1;
    AigcSpeechFeatures f = aigc_speech_features_default();
    f.n_mels = 3;
    f.hop_length = 6;
    GError *error = NULL;
    g_assert_true(aigc_melgan_check_features(&c, &f, &error));
    g_autoptr(AigcMelgan) m = aigc_melgan_new(&c, &f);
    AigcRng rng;
    aigc_rng_init(&rng, 4);
    AigcParams *p = aigc_melgan_get_params(m);
    for (guint i = 0; i < aigc_params_get_n(p); i++) {
        AigcTensor *t = aigc_params_get(p, i);
        aigc_rng_fill_uniform(&rng, t->data, t->n_elements,
                              g_str_has_suffix(t->name, "_g") ? 0.5f : -0.5f, 1);
    }
    GenCase gc = {m};
    AigcTensor *in[4] = {aigc_test_leaf(&rng, 3, (gint64[]){2, 3, 4}, -1, 1, TRUE),
                         aigc_params_find(p, "conv_pre.weight_v"),
                         aigc_params_find(p, "ups.1.weight_g"),
                         aigc_params_find(p, "res.1.0.conv1.weight_v")};
    AigcGradcheckParams gp = aigc_gradcheck_default_params();
    gp.max_checks = 24;
    aigc_assert_gradcheck(gen_fn, 4, in, &gc, &gp);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *y = aigc_melgan_forward(ctx, m, in[0]);
    g_assert_cmpint(y->shape[2], ==, 4 * 6);
    aigc_tensor_free_leaf(in[0]);
}

/* ---- discriminator ---- */

typedef struct {
    AigcMelganDisc *d;
    AigcTensor *real;
} DiscCase;

static AigcTensor *disc_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const DiscCase *c = data;
    AigcMelganDiscOutput real, fake;
    aigc_melgan_disc_forward(ctx, c->d, c->real, &real);
    aigc_melgan_disc_forward(ctx, c->d, in[0], &fake);
    AigcTensor *adv = aigc_melgan_adv_loss(ctx, &fake);
    AigcTensor *fm = aigc_melgan_feature_loss(ctx, &real, &fake);
    AigcTensor *dl = aigc_melgan_disc_loss(ctx, &real, &fake);
    return aigc_add(ctx, aigc_add(ctx, adv, fm), dl);
}

static void test_discriminator(void)
{
    AigcMelganConfig c = aigc_melgan_default_config();
    c.disc_channels = 4;
    c.disc_max_channels = 16;
    g_autoptr(AigcMelganDisc) d = aigc_melgan_disc_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 5);
    aigc_melgan_disc_init_weights(d, &rng);
    AigcParams *p = aigc_melgan_disc_get_params(d);
    for (guint i = 0; i < aigc_params_get_n(p); i++) {
        AigcTensor *t = aigc_params_get(p, i);
        if (g_str_has_suffix(t->name, "_g"))
            aigc_rng_fill_uniform(&rng, t->data, t->n_elements, 0.5f, 1.5f);
    }
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *audio = aigc_tensor_new3(ctx, 2, 1, 1024);
    aigc_rng_fill_uniform(&rng, audio->data, audio->n_elements, -1, 1);
    AigcMelganDiscOutput out;
    aigc_melgan_disc_forward(ctx, d, audio, &out);
    g_assert_cmpint(out.n_scales, ==, 3);
    for (int s = 0; s < 3; s++) {
        /* four stride-4 layers: length / 256 at scale 0, halved per scale */
        gint64 want = 1024 >> s;
        for (int l = 0; l < 4; l++)
            want = (want + 2 * 20 - 41) / 4 + 1;
        g_assert_cmpint(out.score[s]->shape[0], ==, 2);
        g_assert_cmpint(out.score[s]->shape[1], ==, 1);
        g_assert_cmpint(out.score[s]->shape[2], ==, want);
        g_assert_cmpint(out.features[s][0]->shape[1], ==, 4);
        g_assert_cmpint(out.features[s][2]->shape[1], ==, 16);
        g_assert_cmpint(out.features[s][5]->shape[1], ==, 16);
    }
    /* finite differences through all three scales and the three losses, into the fake audio */
    DiscCase dc = {.d = d, .real = aigc_test_leaf(&rng, 3, (gint64[]){1, 1, 600}, -1, 1, FALSE)};
    AigcTensor *in[1] = {aigc_test_leaf(&rng, 3, (gint64[]){1, 1, 600}, -1, 1, TRUE)};
    AigcGradcheckParams gp = aigc_gradcheck_default_params();
    gp.max_checks = 40;
    aigc_assert_gradcheck(disc_fn, 1, in, &dc, &gp);
    /* frozen: no gradient reaches the discriminator's parameters */
    aigc_melgan_disc_set_trainable(d, FALSE);
    aigc_params_zero_grad(p);
    aigc_ctx_reset(ctx);
    AigcTensor *l = disc_fn(ctx, in, &dc);
    aigc_ctx_backward(ctx, l);
    for (gint64 i = 0; i < aigc_params_get_n_elements(p); i++)
        g_assert_cmpfloat(aigc_params_get_grad(p)[i], ==, 0.0f);
    aigc_tensor_free_leaf(in[0]);
    aigc_tensor_free_leaf(dc.real);
}

/* ---- a tiny overfit: one segment, STFT loss ---- */

static void test_overfit(void)
{
    g_autoptr(AigcMelgan) m = small_melgan(32, 6);
    enum { T = 2048, F = T / 256 };
    AigcSpeechFeatures feat = aigc_speech_features_default();
    g_autoptr(AigcMelAnalyzer) an = aigc_mel_analyzer_new(&feat, NULL);
    float audio[T];
    for (int i = 0; i < T; i++)
        audio[i] =
            0.4f * sinf(2 * G_PI * 220 * i / 16000.0f) + 0.2f * sinf(2 * G_PI * 660 * i / 16000.0f);
    float mel_fm[(F + 1) * 80];
    g_assert_true(aigc_mel_analyzer_run(an, audio, T, mel_fm, NULL));
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcStftResolution res[2] = {{512, 128, 512}, {256, 64, 256}};
    g_autoptr(AigcStftLoss) loss = aigc_stft_loss_new(res, 2, NULL);
    AigcParams *params = aigc_melgan_get_params(m);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    hp.beta1 = 0.8f;
    hp.beta2 = 0.99f;
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, params);
    float first = 0, last = 0;
    for (int step = 0; step < 40; step++) {
        aigc_ctx_reset(ctx);
        AigcTensor *mel = aigc_tensor_new3(ctx, 1, 80, F);
        for (int f = 0; f < F; f++)
            for (int k = 0; k < 80; k++)
                mel->data[k * F + f] = mel_fm[f * 80 + k];
        AigcTensor *real = aigc_tensor_from_data(ctx, 3, (gint64[]){1, 1, T}, audio);
        AigcTensor *l =
            aigc_stft_loss(ctx, loss, aigc_melgan_forward(ctx, m, mel), real, NULL, NULL, NULL);
        aigc_params_zero_grad(params);
        aigc_ctx_backward(ctx, l);
        aigc_optimizer_step(opt, 2e-3f);
        if (step == 0)
            first = l->data[0];
        last = l->data[0];
    }
    g_test_message("STFT loss %.3f → %.3f", first, last);
    g_assert_cmpfloat(last, <, 0.6f * first);
}

/* ---- files ---- */

static char *save_to(AigcMelgan *m, const char *name, AigcDtype dtype)
{
    char *path = g_build_filename(dir, name, NULL);
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    GError *error = NULL;
    g_assert_true(aigc_melgan_save(m, w, dtype, &error));
    g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, &error));
    g_assert_no_error(error);
    return path;
}

static void test_save_load(void)
{
    g_autoptr(AigcMelgan) m = small_melgan(16, 7);
    g_autofree char *path = save_to(m, "m.safetensors", AIGC_DTYPE_F32);
    GError *error = NULL;
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_safetensors_get_metadata(st, "family"), ==, "melgan");
    g_autoptr(AigcMelgan) back = aigc_melgan_load(st, &error);
    g_assert_no_error(error);
    float mel[3 * 80], a[3 * 256], b[3 * 256];
    AigcRng rng;
    aigc_rng_init(&rng, 8);
    aigc_rng_fill_uniform(&rng, mel, 3 * 80, -5, 0);
    g_assert_true(aigc_melgan_synthesize(m, mel, 3, a, NULL, NULL, NULL));
    g_assert_true(aigc_melgan_synthesize(back, mel, 3, b, NULL, NULL, NULL));
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    /* the unfolded training parameters fold back to the same weights */
    AigcParams *w0 = aigc_melgan_get_weights(back);
    g_autofree float *before =
        g_memdup2(aigc_params_get_data(w0), sizeof(float) * aigc_params_get_n_elements(w0));
    aigc_melgan_fold(back);
    aigc_test_assert_close(aigc_params_get_data(w0), before, aigc_params_get_n_elements(w0), 1e-5,
                           1e-7, "fold(unfold(weights))");
}

/* Rewrites m's file with one change: a metadata value or a tensor's contents. */
static char *write_variant(AigcMelgan *m, const char *name, const char *key, const char *value,
                           const char *nan_tensor, const char *drop_tensor)
{
    char *path = g_build_filename(dir, name, NULL);
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    AigcParams *p = aigc_melgan_get_weights(m);
    g_autofree char *config = aigc_melgan_config_to_json(aigc_melgan_get_config(m));
    g_autofree char *features = aigc_speech_features_to_json(aigc_melgan_get_features(m));
    aigc_safetensors_writer_set_metadata(w, "family", "melgan");
    aigc_safetensors_writer_set_metadata(w, "melgan.config", config);
    aigc_safetensors_writer_set_metadata(w, "speech.features", features);
    if (key)
        aigc_safetensors_writer_set_metadata(w, key, value);
    GPtrArray *keep = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < aigc_params_get_n(p); i++) {
        AigcTensor *t = aigc_params_get(p, i);
        if (drop_tensor && !strcmp(t->name, drop_tensor))
            continue;
        float *data = g_memdup2(t->data, sizeof(float) * t->n_elements);
        if (nan_tensor && !strcmp(t->name, nan_tensor))
            data[0] = NAN;
        g_ptr_array_add(keep, data);
        g_assert_true(aigc_safetensors_writer_add_f32(w, t->name, AIGC_DTYPE_F32, t->n_dims,
                                                      t->shape, data, NULL));
    }
    g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, NULL));
    g_ptr_array_free(keep, TRUE);
    return path;
}

static void expect_refused(const char *path, int code, const char *fragment)
{
    GError *error = NULL;
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    if (st) {
        g_autoptr(AigcMelgan) m = aigc_melgan_load(st, &error);
        g_assert_null(m);
    }
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    if (code >= 0)
        g_assert_error(error, AIGC_ENGINE_ERROR, code);
    if (fragment)
        g_assert_nonnull(strstr(error->message, fragment));
    g_error_free(error);
}

static void test_bad_files(void)
{
    g_autoptr(AigcMelgan) m = small_melgan(16, 9);
    g_autofree char *a =
        write_variant(m, "no-config.safetensors", "melgan.config", "not json", NULL, NULL);
    expect_refused(a, AIGC_ENGINE_ERROR_FORMAT, "no-config.safetensors");
    g_autofree char *b = write_variant(m, "bad-config.safetensors", "melgan.config",
                                       "{\"channels\": 16, \"upsample\": [8, 8, 2]}", NULL, NULL);
    expect_refused(b, AIGC_ENGINE_ERROR_FORMAT, "bad-config.safetensors");
    g_autofree char *c =
        write_variant(m, "nan.safetensors", NULL, NULL, "res.2.1.conv1.weight", NULL);
    expect_refused(c, AIGC_ENGINE_ERROR_NUMERIC, NULL);
    g_autofree char *d = write_variant(m, "missing.safetensors", NULL, NULL, NULL, "ups.3.weight");
    expect_refused(d, AIGC_ENGINE_ERROR_FORMAT, NULL);
    g_autofree char *e =
        write_variant(m, "wide.safetensors", "melgan.config", "{\"channels\": 64}", NULL, NULL);
    expect_refused(e, AIGC_ENGINE_ERROR_FORMAT, "conv_pre.weight");
    g_autofree char *f = write_variant(m, "features.safetensors", "speech.features",
                                       "{\"hop_length\": 200}", NULL, NULL);
    expect_refused(f, AIGC_ENGINE_ERROR_FORMAT, "hop");
    /* a truncated file */
    g_autofree char *good = save_to(m, "good.safetensors", AIGC_DTYPE_F32);
    g_autofree char *bytes = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(good, &bytes, &len, NULL));
    g_autofree char *cut = g_build_filename(dir, "cut.safetensors", NULL);
    g_assert_true(g_file_set_contents(cut, bytes, (gssize)(len / 2), NULL));
    expect_refused(cut, -1, NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    dir = g_dir_make_tmp("aigc-melgan-XXXXXX", NULL);
    g_test_add_func("/models/melgan/config", test_config);
    g_test_add_func("/models/melgan/length-and-fold", test_length_and_fold);
    g_test_add_func("/models/melgan/cancel", test_cancel);
    g_test_add_func("/models/melgan/generator-gradcheck", test_generator_gradcheck);
    g_test_add_func("/models/melgan/discriminator", test_discriminator);
    g_test_add_func("/models/melgan/overfit", test_overfit);
    g_test_add_func("/models/melgan/save-load", test_save_load);
    g_test_add_func("/models/melgan/bad-files", test_bad_files);
    int status = g_test_run();
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(dir);
    g_free(dir);
    return status;
}
