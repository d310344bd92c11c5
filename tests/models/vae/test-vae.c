/* SPDX-License-Identifier: MIT
 *
 * The VAE: configs checked and round-tripped; the encoder and decoder give the documented
 * shapes; finite differences agree with the gradients of both (inputs, class matrices and a
 * spread of parameters) and of the whole loss (through the reparameterisation and the learnt
 * class prior); the loss's KL term is that of N(mu, e^logvar) against the class's prior; a
 * small VAE learns to reconstruct 8 images and scores each one best under its own class;
 * decoding is deterministic and each image independent of its batch, and prior latents are the
 * class prior's mean plus its deviation times the noise; save and load keep the network, and
 * damaged files are refused with messages; the training job writes a grid, gives the same model
 * for the same seed and the same model when stopped and resumed, and refuses a model the data
 * cannot feed.
 */
#include "aigc-test-jobs.h"
#include "aigc-test-support.h"
#include "io/aigc-idx.h"
#include "models/aigc-class-names.h"
#include "models/vae/aigc-vae-train.h"
#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *dir;

/* 8×8 gray, widths 2 and 4, hidden 6, latent 3, 3 classes. */
static AigcVaeConfig tiny_config(void)
{
    AigcVaeConfig c = aigc_vae_default_config();
    c.image_size = 8;
    c.ch = 2;
    c.hidden = 6;
    c.latent = 3;
    c.n_classes = 3;
    return c;
}

static AigcVae *tiny_model(guint64 seed)
{
    AigcVaeConfig c = tiny_config();
    AigcVae *m = aigc_vae_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    aigc_vae_init_weights(m, &rng);
    return m;
}

/* ---- config ---- */

static void test_config(void)
{
    AigcVaeConfig c = aigc_vae_default_config();
    GError *error = NULL;
    g_assert_true(aigc_vae_config_validate(&c, &error));
    g_assert_cmpint(c.latent, ==, 16);
    g_assert_true(aigc_vae_config_set(&c, "latent", "8", &error));
    g_assert_cmpint(c.latent, ==, 8);
    g_assert_false(aigc_vae_config_set(&c, "latent", "8.5", &error));
    g_assert_nonnull(strstr(error->message, "latent"));
    g_clear_error(&error);
    g_assert_false(aigc_vae_config_set(&c, "layers", "3", &error));
    g_assert_nonnull(strstr(error->message, "layers"));
    g_clear_error(&error);
    AigcVaeConfig bad = c;
    bad.latent = 0;
    g_assert_false(aigc_vae_config_validate(&bad, &error));
    g_assert_nonnull(strstr(error->message, "latent"));
    g_clear_error(&error);
    bad = c;
    bad.image_size = 6;
    g_assert_false(aigc_vae_config_validate(&bad, &error));
    g_clear_error(&error);
    g_autofree char *json = aigc_vae_config_to_json(&c);
    AigcVaeConfig back;
    g_assert_true(aigc_vae_config_from_json(&back, json, &error));
    g_assert_no_error(error);
    g_assert_cmpmem(&back, sizeof back, &c, sizeof c);
    g_assert_false(aigc_vae_config_from_json(&back, "[1, 2]", &error));
    g_clear_error(&error);
}

/* ---- networks ---- */

static void test_shapes(void)
{
    const AigcVaeConfig c = aigc_vae_default_config();
    g_autoptr(AigcVae) m = aigc_vae_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    aigc_vae_init_weights(m, &rng);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *x = aigc_tensor_new4(ctx, 2, 1, 28, 28);
    aigc_rng_fill_uniform(&rng, x->data, x->n_elements, 0, 1);
    AigcTensor *mix = aigc_class_one_hot(ctx, (gint32[]){3, 9}, 2, 10);
    AigcTensor *mu, *logvar;
    aigc_vae_encode(ctx, m, x, mix, &mu, &logvar);
    g_assert_cmpint(mu->n_dims, ==, 2);
    g_assert_cmpint(mu->shape[0], ==, 2);
    g_assert_cmpint(mu->shape[1], ==, 16);
    g_assert_true(aigc_tensor_same_shape(mu, logvar));
    AigcTensor *logits = aigc_vae_decode(ctx, m, mu, mix);
    g_assert_cmpint(logits->n_dims, ==, 4);
    g_assert_cmpint(logits->shape[0], ==, 2);
    g_assert_cmpint(logits->shape[1], ==, 1);
    g_assert_cmpint(logits->shape[2], ==, 28);
    g_assert_cmpint(logits->shape[3], ==, 28);
}

typedef struct {
    AigcVae *m;
    int part; /* 0 encoder (mu and logvar), 1 decoder */
} NetCase;

static AigcTensor *net_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    NetCase *nc = data;
    if (nc->part == 1)
        return aigc_vae_decode(ctx, nc->m, in[0], in[1]);
    AigcTensor *mu, *logvar;
    aigc_vae_encode(ctx, nc->m, in[0], in[1], &mu, &logvar);
    AigcTensor *pair[2] = {mu, logvar};
    return aigc_concat(ctx, 2, pair, 1);
}

static void check_part(int part, const char *const *names, guint n_names)
{
    g_autoptr(AigcVae) m = tiny_model(3);
    AigcParams *params = aigc_vae_get_params(m);
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    AigcTensor *in[2 + 8];
    in[0] = part == 0 ? aigc_test_leaf(&rng, 4, (gint64[]){3, 1, 8, 8}, 0.0f, 1.0f, TRUE)
                      : aigc_test_leaf(&rng, 2, (gint64[]){3, 3}, -2.0f, 2.0f, TRUE);
    /* a blend of classes, as interpolation uses */
    in[1] = aigc_test_leaf(&rng, 2, (gint64[]){3, 3}, 0.0f, 1.0f, TRUE);
    g_assert_cmpuint(n_names, <=, 8);
    for (guint i = 0; i < n_names; i++) {
        in[2 + i] = aigc_params_find(params, names[i]);
        g_assert_nonnull(in[2 + i]);
    }
    NetCase nc = {m, part};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 16;
    aigc_assert_gradcheck(net_fn, 2 + n_names, in, &nc, &p);
    aigc_tensor_free_leaf(in[0]);
    aigc_tensor_free_leaf(in[1]);
}

static void test_gradcheck_encoder(void)
{
    const char *names[] = {"encoder.conv1.weight", "encoder.conv2.bias",
                           "encoder.fc.weight",    "encoder.class_embed.weight",
                           "encoder.fc_mu.weight", "encoder.fc_logvar.bias"};
    check_part(0, names, G_N_ELEMENTS(names));
}

static void test_gradcheck_decoder(void)
{
    const char *names[] = {"decoder.fc1.weight", "decoder.class_embed.weight",
                           "decoder.fc2.bias",   "decoder.up1.weight",
                           "decoder.up2.weight", "decoder.up2.bias"};
    check_part(1, names, G_N_ELEMENTS(names));
}

typedef struct {
    AigcVae *m;
    const float *x;
    const gint32 *classes;
} LossCase;

/* The loss as a function of the parameters, with the same ε on every evaluation. */
static AigcTensor *loss_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    LossCase *lc = data;
    AigcRng eps;
    aigc_rng_init(&eps, 99);
    return aigc_vae_loss(ctx, lc->m, lc->x, lc->classes, 3, 0.7f, &eps, NULL);
}

static void test_gradcheck_loss(void)
{
    g_autoptr(AigcVae) m = tiny_model(4);
    AigcParams *params = aigc_vae_get_params(m);
    AigcRng rng;
    aigc_rng_init(&rng, 12);
    float x[3 * 64];
    aigc_rng_fill_uniform(&rng, x, 3 * 64, 0, 1);
    const gint32 classes[3] = {2, 0, 1};
    const char *names[] = {"encoder.fc_mu.weight", "encoder.fc_logvar.weight",
                           "encoder.fc_logvar.bias", "encoder.conv1.weight",
                           "decoder.fc1.weight",   "prior.mu.weight",
                           "prior.logvar.weight"};
    /* a prior other than N(0, I), so its gradient is not a special case */
    AigcTensor *pm = aigc_params_find(params, "prior.mu.weight");
    AigcTensor *pv = aigc_params_find(params, "prior.logvar.weight");
    aigc_rng_fill_uniform(&rng, pm->data, pm->n_elements, -0.5f, 0.5f);
    aigc_rng_fill_uniform(&rng, pv->data, pv->n_elements, -0.5f, 0.5f);
    AigcTensor *in[G_N_ELEMENTS(names)];
    for (guint i = 0; i < G_N_ELEMENTS(names); i++)
        in[i] = aigc_params_find(params, names[i]);
    LossCase lc = {m, x, classes};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 12;
    aigc_assert_gradcheck(loss_fn, G_N_ELEMENTS(in), in, &lc, &p);

    /* the KL term by hand against each image's class prior (pm, pv rows), mean per image */
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcRng eps;
    aigc_rng_init(&eps, 99);
    AigcVaeLossTerms terms;
    AigcTensor *loss = aigc_vae_loss(ctx, m, x, classes, 3, 0.7f, &eps, &terms);
    g_assert_cmpfloat_with_epsilon(loss->data[0], terms.recon + 0.7 * terms.kl, 1e-3);
    float mix[9] = {0, 0, 1, 1, 0, 0, 0, 1, 0}, mu[9], logvar[9];
    g_assert_true(aigc_vae_encode_images(m, x, mix, 3, mu, logvar, NULL, NULL));
    double kl = 0;
    for (int i = 0; i < 9; i++) {
        const int k = classes[i / 3] * 3 + i % 3; /* the prior's row of image i / 3 */
        const double d = mu[i] - pm->data[k];
        kl += 0.5 * (pv->data[k] - logvar[i] + exp(logvar[i] - pv->data[k]) +
                     d * d * exp(-pv->data[k]) - 1) / 3;
    }
    g_assert_cmpfloat_with_epsilon(terms.kl, kl, 1e-4);
    /* and the reconstruction term is 64 pixels' worth of cross entropy, positive */
    g_assert_cmpfloat(terms.recon, >, 0);
}

/* A VAE learns 8 images: the loss falls well below where it started, reconstructions come
 * close, and every image scores best under its own class. */
static void test_overfit(void)
{
    enum { B = 8, S = 8 };
    AigcVaeConfig c = tiny_config();
    c.ch = 8;
    c.hidden = 64;
    c.latent = 4;
    c.n_classes = 2;
    g_autoptr(AigcVae) m = aigc_vae_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    aigc_vae_init_weights(m, &rng);
    float x[B * S * S];
    gint32 labels[B];
    for (int b = 0; b < B; b++) {
        labels[b] = b % 2;
        for (int y = 0; y < S; y++)
            for (int k = 0; k < S; k++) /* class 0: vertical bars, class 1: horizontal */
                x[(b * S + y) * S + k] = ((labels[b] ? y : k) + b / 2) % 4 < 2 ? 1.0f : 0.0f;
    }
    AigcParams *params = aigc_vae_get_params(m);
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, NULL, params);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    double first = 0, last = 0;
    for (int step = 0; step < 1000; step++) {
        aigc_ctx_reset(ctx);
        aigc_params_zero_grad(params);
        AigcVaeLossTerms terms;
        AigcTensor *loss = aigc_vae_loss(ctx, m, x, labels, B, 1.0f, &rng, &terms);
        aigc_ctx_backward(ctx, loss);
        aigc_optimizer_step(opt, 3e-3f);
        if (step == 0)
            first = terms.recon;
        last = terms.recon;
    }
    g_test_message("reconstruction loss %.2f at first, %.2f at the end", first, last);
    g_assert_cmpfloat(last, <, 0.25 * first);
    float mix[B * 2] = {0}, mu[B * 4], out[B * S * S];
    for (int b = 0; b < B; b++)
        mix[b * 2 + labels[b]] = 1.0f;
    g_assert_true(aigc_vae_encode_images(m, x, mix, B, mu, NULL, NULL, NULL));
    g_assert_true(aigc_vae_decode_images(m, mu, mix, B, out, NULL, NULL));
    int wrong = 0;
    for (int i = 0; i < B * S * S; i++)
        wrong += (out[i] > 0.5f) != (x[i] > 0.5f);
    g_test_message("%d of %d pixels on the wrong side of 0.5", wrong, B * S * S);
    g_assert_cmpint(wrong, <, B * S * S / 20);
    /* scores under both classes: each image's own is lower */
    float xx[2 * B * S * S], mm[2 * B * 2] = {0}, scores[2 * B];
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < B; b++) {
            memcpy(xx + (k * B + b) * S * S, x + b * S * S, S * S * sizeof(float));
            mm[(k * B + b) * 2 + k] = 1.0f;
        }
    g_assert_true(aigc_vae_score_images(m, xx, mm, 2 * B, scores, NULL, NULL));
    for (int b = 0; b < B; b++)
        g_assert_cmpfloat(scores[labels[b] * B + b], <, scores[(1 - labels[b]) * B + b]);
}

/* ---- inference ---- */

static void test_decode(void)
{
    g_autoptr(AigcVae) m = tiny_model(5);
    float z[3 * 3], mix[3 * 3] = {0}, a[3 * 64], b[3 * 64], one[64];
    for (int i = 0; i < 3; i++) {
        aigc_vae_noise(m, 42, i, z + i * 3);
        mix[i * 3 + i] = 1.0f;
    }
    float z0[3];
    aigc_vae_noise(m, 42, 1, z0);
    g_assert_cmpmem(z0, sizeof z0, z + 3, sizeof z0);
    GError *error = NULL;
    g_assert_true(aigc_vae_decode_images(m, z, mix, 3, a, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(aigc_vae_decode_images(m, z, mix, 3, b, NULL, NULL));
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    g_assert_true(aigc_vae_decode_images(m, z + 6, mix + 6, 1, one, NULL, NULL));
    aigc_test_assert_close(one, a + 128, 64, 1e-4, 1e-6, "image independent of its batch");
    for (int i = 0; i < 3 * 64; i++)
        g_assert_true(a[i] >= 0.0f && a[i] <= 1.0f);
    /* the class prior: N(0, I) at first, then learnt; noise ↔ latent round trip */
    AigcParams *params = aigc_vae_get_params(m);
    AigcTensor *pm = aigc_params_find(params, "prior.mu.weight");
    AigcTensor *pv = aigc_params_find(params, "prior.logvar.weight");
    g_assert_nonnull(pm);
    g_assert_nonnull(pv);
    g_assert_cmpfloat(pm->data[4], ==, 0.0f);
    float lat[9], back[9];
    aigc_vae_prior_latents(m, z, mix, 3, lat);
    g_assert_cmpmem(lat, sizeof lat, z, sizeof lat);
    for (int i = 0; i < 9; i++) {
        pm->data[i] = 0.1f * (float)i;
        pv->data[i] = -0.2f * (float)i;
    }
    aigc_vae_prior_latents(m, z, mix, 3, lat);
    g_assert_cmpfloat_with_epsilon(lat[4], 0.4f + expf(-0.4f) * z[4], 1e-5);
    aigc_vae_prior_noise(m, lat, mix, 3, back);
    aigc_test_assert_close(back, z, 9, 1e-5, 1e-6, "prior noise of prior latents");
    /* the judging function draws image i from the prior latent of (seed, i) */
    float c[3 * 64];
    g_assert_true(aigc_vae_decode_images(m, lat, mix, 3, a, NULL, NULL));
    g_assert_true(aigc_vae_eval_sample(m, (gint32[]){0, 1, 2}, 3, 42, c, NULL, NULL));
    aigc_test_assert_close(c, a, 3 * 64, 1e-4, 1e-6, "eval sample = decode of (seed, i)");
}

/* ---- files ---- */


static void expect_load_fails(const char *path, const char *fault)
{
    GError *error = NULL;
    AigcVae *m = aigc_vae_load_file(path, &error);
    g_assert_null(m);
    g_assert_nonnull(error);
    if (!strstr(error->message, fault))
        g_error("“%s” does not mention “%s”", error->message, fault);
    g_error_free(error);
}

static void test_save_load(void)
{
    g_autoptr(AigcVae) m = tiny_model(7);
    const char *names[] = {"Circle", "Square", "Triangle"};
    aigc_vae_set_class_names(m, names);
    g_autofree char *path = g_build_filename(dir, "tiny.safetensors", NULL);
    GError *error = NULL;
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_vae_save(m, w, AIGC_DTYPE_F32, &error));
        g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, &error));
        g_assert_no_error(error);
    }
    g_autoptr(AigcVae) back = aigc_vae_load_file(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_vae_get_class_name(back, 2), ==, "Triangle");
    g_assert_cmpint(aigc_vae_find_class(back, "SQUARE", NULL), ==, 1);
    g_assert_cmpint(aigc_vae_find_class(back, "2", NULL), ==, 2);
    g_assert_cmpint(aigc_vae_find_class(back, "Hexagon", &error), ==, -1);
    g_assert_nonnull(strstr(error->message, "Circle, Square, Triangle"));
    g_clear_error(&error);
    AigcParams *a = aigc_vae_get_params(m), *b = aigc_vae_get_params(back);
    g_assert_cmpint(aigc_params_get_n_elements(a), ==, aigc_params_get_n_elements(b));
    g_assert_cmpmem(aigc_params_get_data(a), aigc_params_get_n_elements(a) * sizeof(float),
                    aigc_params_get_data(b), aigc_params_get_n_elements(b) * sizeof(float));

    g_autofree char *bad = g_build_filename(dir, "bad.safetensors", NULL);
    const struct {
        const char *key, *value, *fault;
    } cases[] = {
        {"family", "dcgan", "not a VAE"},
        {"vae.config", "{\"ch\": 2", "not a JSON object"},
        {"vae.config",
         "{\"image_size\": 8, \"channels\": 1, \"ch\": 2, \"hidden\": 6, \"latent\": -3, "
         "\"n_classes\": 3}",
         "latent"},
        {"vae.config",
         "{\"image_size\": 8, \"channels\": 1, \"ch\": 4, \"hidden\": 6, \"latent\": 3, "
         "\"n_classes\": 3}",
         "disagrees with the config"},
        {"vae.config",
         "{\"image_size\": 8, \"channels\": 1, \"ch\": 2, \"hidden\": 6, \"latent\": 5, "
         "\"n_classes\": 3}",
         "fc_mu.weight"},
        {"vae.config",
         "{\"image_size\": 8, \"channels\": 1, \"ch\": 2, \"hidden\": 6, \"latent\": 3, "
         "\"n_classes\": 0}",
         "does not belong"},
        {"vae.classes", "[\"a\", \"\", \"c\"]", "missing, empty or repeated"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        aigc_test_copy_with_metadata(path, bad, cases[i].key, cases[i].value);
        expect_load_fails(bad, cases[i].fault);
    }
    /* NaN in a weight */
    {
        aigc_params_find(aigc_vae_get_params(m), "decoder.fc2.weight")->data[3] = NAN;
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_vae_save(m, w, AIGC_DTYPE_F32, NULL));
        g_assert_true(aigc_safetensors_writer_write(w, bad, NULL, NULL, NULL));
        expect_load_fails(bad, "NaN");
    }
    g_unlink(bad);
    g_unlink(path);
}

/* ---- the training job ---- */



static AigcVaeTrainParams *small_run(const char *output, gint64 steps)
{
    AigcVaeTrainParams *p = aigc_vae_train_params_new();
    p->output = g_strdup(output);
    p->data_dir = g_strdup(dir);
    const char *sets[][2] = {
        {"ch", "4"},           {"hidden", "16"},       {"latent", "4"},
        {"batch_size", "4"},   {"limit_train", "40"},  {"warmup", "2"},
        {"kl_warmup", "3"},    {"sample_every", "3"},  {"sample_columns", "2"},
        {"checkpoint_every", "2"}, {"grad_clip", "5"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(sets); i++)
        g_assert_true(aigc_vae_train_params_set(p, sets[i][0], sets[i][1], NULL));
    p->steps = steps;
    return p;
}



static float *read_weights(const char *path, gint64 *n)
{
    GError *error = NULL;
    g_autoptr(AigcVae) m = aigc_vae_load_file(path, &error);
    g_assert_no_error(error);
    AigcParams *params = aigc_vae_get_params(m);
    *n = aigc_params_get_n_elements(params);
    return g_memdup2(aigc_params_get_data(params), *n * sizeof(float));
}

static void test_train_job(void)
{
    g_autofree char *a = g_build_filename(dir, "a.safetensors", NULL);
    g_autofree char *b = g_build_filename(dir, "b.safetensors", NULL);
    g_autofree char *c = g_build_filename(dir, "c.safetensors", NULL);
    {
        g_autoptr(AigcJob) job = aigc_vae_train_job_new(small_run(a, 6));
        g_assert_cmpint(aigc_test_run_training(job, FALSE), ==, AIGC_JOB_SUCCEEDED);
        AigcVaeTrainResult *r = aigc_job_get_result(job);
        g_assert_cmpint(r->steps_done, ==, 6);
        g_assert_true(isfinite(r->loss) && r->recon > 0 && r->kl >= 0);
        g_assert_nonnull(r->samples_path);
        g_assert_true(g_str_has_suffix(r->samples_path, "a.step-0000006.png"));
        g_autoptr(GHashTable) text = NULL;
        g_autoptr(AigcImage) grid = aigc_png_read(r->samples_path, NULL, &text, NULL);
        g_assert_nonnull(grid);
        g_assert_cmpint(grid->height, ==, 10 * 28 + 11);
        g_assert_cmpint(grid->width, ==, 2 * 28 + 3);
        g_assert_nonnull(strstr(g_hash_table_lookup(text, "parameters"), "Training step: 6"));
        /* the grid of step 3 too */
        g_autofree char *earlier = g_build_filename(dir, "a.step-0000003.png", NULL);
        g_assert_true(g_file_test(earlier, G_FILE_TEST_EXISTS));
    }
    {
        g_autoptr(AigcJob) job = aigc_vae_train_job_new(small_run(c, 6));
        g_assert_cmpint(aigc_test_run_training(job, FALSE), ==, AIGC_JOB_SUCCEEDED);
    }
    {
        /* stopped after step 3 (it saves before stopping) and resumed: the uninterrupted model */
        g_autoptr(AigcJob) first = aigc_vae_train_job_new(small_run(b, 6));
        g_assert_cmpint(aigc_test_run_training(first, TRUE), ==, AIGC_JOB_CANCELLED);
        AigcVaeTrainParams *p = small_run(b, 6);
        p->resume = TRUE;
        g_autoptr(AigcJob) second = aigc_vae_train_job_new(p);
        g_assert_cmpint(aigc_test_run_training(second, FALSE), ==, AIGC_JOB_SUCCEEDED);
    }
    gint64 na, nb, nc;
    g_autofree float *wa = read_weights(a, &na);
    g_autofree float *wb = read_weights(b, &nb);
    g_autofree float *wc = read_weights(c, &nc);
    g_assert_cmpint(na, ==, nb);
    g_assert_cmpmem(wa, na * sizeof(float), wc, nc * sizeof(float));
    g_assert_cmpmem(wa, na * sizeof(float), wb, nb * sizeof(float));
    GError *error = NULL;
    g_autoptr(AigcVae) m = aigc_vae_load_file(a, &error);
    g_assert_cmpstr(aigc_vae_get_class_name(m, 9), ==, "Ankle boot");
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(a, &error);
    g_assert_nonnull(strstr(aigc_safetensors_get_metadata(st, "training"), "\"steps\": 6"));

    AigcVaeTrainParams *p = small_run(a, 2);
    g_assert_true(aigc_vae_train_params_set(p, "channels", "3", NULL));
    g_autoptr(AigcJob) job = aigc_vae_train_job_new(p);
    g_assert_cmpint(aigc_test_run_training(job, FALSE), ==, AIGC_JOB_FAILED);
    g_assert_nonnull(strstr(aigc_job_get_error(job)->message, "gray"));
    g_assert_false(aigc_vae_train_params_set(p, "beta", "-1", &error));
    g_clear_error(&error);
    g_assert_false(aigc_vae_train_params_set(p, "dtype", "f8", &error));
    g_clear_error(&error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    dir = g_dir_make_tmp("aigc-vae-XXXXXX", NULL);
    aigc_test_write_bar_fashion(dir, 40);
    g_test_add_func("/models/vae/config", test_config);
    g_test_add_func("/models/vae/shapes", test_shapes);
    g_test_add_func("/models/vae/gradcheck/encoder", test_gradcheck_encoder);
    g_test_add_func("/models/vae/gradcheck/decoder", test_gradcheck_decoder);
    g_test_add_func("/models/vae/gradcheck/loss", test_gradcheck_loss);
    g_test_add_func("/models/vae/overfit", test_overfit);
    g_test_add_func("/models/vae/decode", test_decode);
    g_test_add_func("/models/vae/save-load", test_save_load);
    g_test_add_func("/models/vae/train-job", test_train_job);
    int status = g_test_run();
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
    g_free(dir);
    return status;
}
