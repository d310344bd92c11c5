/* SPDX-License-Identifier: MIT
 *
 * The DCGAN: configs checked and round-tripped; the generator and the discriminator give the
 * documented shapes and ranges; finite differences agree with the gradients of both networks
 * (inputs, class matrices and a spread of parameters); a small conditional GAN learns to draw
 * the left half bright for one class and the right half for the other; sampling is
 * deterministic, each image independent of its batch, and leaves the running statistics alone; recalibration averages the
 * batch statistics; save and load keep the generator, and damaged files are refused with
 * messages; the training job writes a grid, gives the same model for the same seed and the same
 * model when stopped and resumed, and refuses a model the data cannot feed.
 */
#include "aigc-test-jobs.h"
#include "aigc-test-support.h"
#include "io/aigc-idx.h"
#include "models/aigc-class-names.h"
#include "models/dcgan/aigc-dcgan-train.h"
#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *dir;

/* 8×8 gray, nz 4, widths 2, 3 classes. */
static AigcDcganConfig tiny_config(void)
{
    AigcDcganConfig c = aigc_dcgan_default_config();
    c.image_size = 8;
    c.nz = 4;
    c.ngf = 2;
    c.ndf = 2;
    c.n_classes = 3;
    return c;
}

static AigcDcgan *tiny_model(guint64 seed)
{
    AigcDcganConfig c = tiny_config();
    AigcDcgan *m = aigc_dcgan_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    aigc_dcgan_init_weights(m, &rng);
    /* larger weights than DCGAN's 0.02, so every path carries a visible gradient (not much
     * larger: batch norms over few values curve the networks sharply) */
    AigcParams *sets[] = {aigc_dcgan_get_generator(m), aigc_dcgan_get_discriminator(m)};
    for (guint k = 0; k < 2; k++)
        for (guint i = 0; i < aigc_params_get_n(sets[k]); i++) {
            AigcTensor *t = aigc_params_get(sets[k], i);
            if (t->n_dims >= 2)
                aigc_rng_fill_normal(&rng, t->data, t->n_elements, 0.0f, 0.2f);
            else
                aigc_rng_fill_uniform(&rng, t->data, t->n_elements, 0.5f, 1.5f);
        }
    return m;
}

/* ---- config ---- */

static void test_config(void)
{
    AigcDcganConfig c = aigc_dcgan_default_config();
    GError *error = NULL;
    g_assert_true(aigc_dcgan_config_validate(&c, &error));
    g_assert_cmpint(c.image_size, ==, 28);
    g_assert_true(aigc_dcgan_config_set(&c, "ngf", "48", &error));
    g_assert_cmpint(c.ngf, ==, 48);
    g_assert_false(aigc_dcgan_config_set(&c, "ngf", "lots", &error));
    g_assert_nonnull(strstr(error->message, "ngf"));
    g_clear_error(&error);
    g_assert_false(aigc_dcgan_config_set(&c, "depth", "3", &error));
    g_assert_nonnull(strstr(error->message, "depth"));
    g_clear_error(&error);
    AigcDcganConfig bad = c;
    bad.image_size = 30;
    g_assert_false(aigc_dcgan_config_validate(&bad, &error));
    g_assert_nonnull(strstr(error->message, "image_size"));
    g_clear_error(&error);
    bad = c;
    bad.nz = 0;
    g_assert_false(aigc_dcgan_config_validate(&bad, &error));
    g_clear_error(&error);
    g_autofree char *json = aigc_dcgan_config_to_json(&c);
    AigcDcganConfig back;
    g_assert_true(aigc_dcgan_config_from_json(&back, json, &error));
    g_assert_no_error(error);
    g_assert_cmpmem(&back, sizeof back, &c, sizeof c);
    g_assert_false(aigc_dcgan_config_from_json(&back, "{\"image_size\": 28}", &error));
    g_clear_error(&error);
}

/* ---- networks ---- */

static void test_shapes(void)
{
    const AigcDcganConfig c = aigc_dcgan_default_config();
    g_autoptr(AigcDcgan) m = aigc_dcgan_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    aigc_dcgan_init_weights(m, &rng);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *z = aigc_tensor_new2(ctx, 3, c.nz);
    aigc_rng_fill_normal(&rng, z->data, z->n_elements, 0, 1);
    AigcTensor *mix = aigc_class_one_hot(ctx, (gint32[]){0, 7, 9}, 3, 10);
    AigcTensor *x = aigc_dcgan_generate(ctx, m, z, mix);
    g_assert_cmpint(x->n_dims, ==, 4);
    g_assert_cmpint(x->shape[0], ==, 3);
    g_assert_cmpint(x->shape[1], ==, 1);
    g_assert_cmpint(x->shape[2], ==, 28);
    g_assert_cmpint(x->shape[3], ==, 28);
    for (gint64 i = 0; i < x->n_elements; i++)
        g_assert_true(x->data[i] >= -1.0f && x->data[i] <= 1.0f);
    AigcTensor *d = aigc_dcgan_discriminate(ctx, m, x, mix);
    g_assert_cmpint(d->n_dims, ==, 2);
    g_assert_cmpint(d->shape[0], ==, 3);
    g_assert_cmpint(d->shape[1], ==, 1);
    g_assert_cmpuint(aigc_params_get_n_elements(aigc_dcgan_get_buffers(m)), ==,
                     2 * (4 + 2 + 1) * 64);
}

typedef struct {
    AigcDcgan *m;
    gboolean discriminator;
} NetCase;

static AigcTensor *net_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    NetCase *nc = data;
    return nc->discriminator ? aigc_dcgan_discriminate(ctx, nc->m, in[0], in[1])
                             : aigc_dcgan_generate(ctx, nc->m, in[0], in[1]);
}

static void check_network(gboolean discriminator, const char *const *names, guint n_names)
{
    g_autoptr(AigcDcgan) m = tiny_model(3);
    AigcParams *params = discriminator ? aigc_dcgan_get_discriminator(m)
                                       : aigc_dcgan_get_generator(m);
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    AigcTensor *in[2 + 8];
    in[0] = discriminator ? aigc_test_leaf(&rng, 4, (gint64[]){4, 1, 8, 8}, -1.0f, 1.0f, TRUE)
                          : aigc_test_leaf(&rng, 2, (gint64[]){4, 4}, -2.0f, 2.0f, TRUE);
    /* a blend of classes, as interpolation uses */
    in[1] = aigc_test_leaf(&rng, 2, (gint64[]){4, 3}, 0.0f, 1.0f, TRUE);
    g_assert_cmpuint(n_names, <=, 8);
    for (guint i = 0; i < n_names; i++) {
        in[2 + i] = aigc_params_find(params, names[i]);
        g_assert_nonnull(in[2 + i]);
    }
    NetCase nc = {m, discriminator};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 16;
    p.eps = 1e-3;
    p.atol = 3e-3;
    p.rtol = 3e-2;
    aigc_assert_gradcheck(net_fn, 2 + n_names, in, &nc, &p);
    aigc_tensor_free_leaf(in[0]);
    aigc_tensor_free_leaf(in[1]);
}

static void test_gradcheck_generator(void)
{
    const char *names[] = {"generator.fc.weight",  "generator.class_embed.weight",
                           "generator.bn0.weight", "generator.up1.weight",
                           "generator.bn2.bias",   "generator.out.weight",
                           "generator.out.bias"};
    check_network(FALSE, names, G_N_ELEMENTS(names));
}

static void test_gradcheck_discriminator(void)
{
    const char *names[] = {"discriminator.conv1.weight", "discriminator.conv1.bias",
                           "discriminator.conv2.weight", "discriminator.bn3.weight",
                           "discriminator.fc.weight",    "discriminator.fc.bias",
                           "discriminator.class_embed.weight"};
    check_network(TRUE, names, G_N_ELEMENTS(names));
}

/* Class 0 has a bright left half, class 1 a bright right half: after 150 steps of the real
 * training step (D on real and detached fakes, G through the updated D) the generator draws
 * them. (16×16: at 8×8 the discriminator's last batch norm sees one position per image and
 * cannot tell a real batch from a generated one by their means.) */
static void test_learns(void)
{
    enum { B = 16, S = 16 };
    AigcDcganConfig c = tiny_config();
    c.image_size = S;
    c.n_classes = 2;
    c.ngf = 8;
    c.ndf = 8;
    g_autoptr(AigcDcgan) m = aigc_dcgan_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 5);
    aigc_dcgan_init_weights(m, &rng);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    hp.beta1 = 0.5f;
    AigcParams *gen = aigc_dcgan_get_generator(m), *disc = aigc_dcgan_get_discriminator(m);
    g_autoptr(AigcOptimizer) og = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, gen);
    g_autoptr(AigcOptimizer) od = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, disc);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    float real[B * S * S], ones[B], zeros[B];
    gint32 labels[B];
    for (int b = 0; b < B; b++) {
        labels[b] = b % 2;
        ones[b] = 1.0f;
        zeros[b] = 0.0f;
        for (int k = 0; k < S * S; k++)
            real[b * S * S + k] = ((k % S < S / 2) == (labels[b] == 0)) ? 1.0f : -1.0f;
    }
    for (int step = 0; step < 150; step++) {
        aigc_ctx_reset(ctx);
        AigcTensor *z = aigc_tensor_new2(ctx, B, c.nz);
        aigc_rng_fill_normal(&rng, z->data, z->n_elements, 0, 1);
        AigcTensor *mix = aigc_class_one_hot(ctx, labels, B, 2);
        AigcTensor *fake = aigc_dcgan_generate(ctx, m, z, mix);
        AigcTensor *detached = aigc_tensor_wrap(ctx, 4, fake->shape, fake->data);
        AigcTensor *t1 = aigc_tensor_wrap(ctx, 2, (gint64[]){B, 1}, ones);
        AigcTensor *t0 = aigc_tensor_wrap(ctx, 2, (gint64[]){B, 1}, zeros);
        AigcTensor *rt = aigc_tensor_wrap(ctx, 4, (gint64[]){B, 1, S, S}, real);
        aigc_params_zero_grad(disc);
        AigcTensor *ld =
            aigc_add(ctx, aigc_bce_with_logits(ctx, aigc_dcgan_discriminate(ctx, m, rt, mix), t1),
                     aigc_bce_with_logits(ctx, aigc_dcgan_discriminate(ctx, m, detached, mix), t0));
        aigc_ctx_backward(ctx, ld);
        aigc_optimizer_step(od, 2e-3f);
        aigc_params_zero_grad(gen);
        AigcTensor *lg = aigc_bce_with_logits(ctx, aigc_dcgan_discriminate(ctx, m, fake, mix), t1);
        aigc_ctx_backward(ctx, lg);
        aigc_optimizer_step(og, 2e-3f);
    }
    /* eval mode (running statistics): left minus right brightness of each class */
    float z[8 * 4], mix[8 * 2] = {0}, out[8 * S * S];
    for (int i = 0; i < 8; i++) {
        aigc_dcgan_noise(m, 9, i, z + i * 4);
        mix[i * 2 + i % 2] = 1.0f;
    }
    g_assert_true(aigc_dcgan_sample(m, z, mix, 8, out, NULL, NULL));
    double mean[2] = {0, 0};
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < S * S; k++)
            mean[i % 2] += (k % S < S / 2 ? 1 : -1) * out[i * S * S + k] / (4.0 * S * S);
    g_test_message("left minus right: class 0 %.3f, class 1 %.3f", mean[0], mean[1]);
    g_assert_cmpfloat(mean[0], >, 0.5);
    g_assert_cmpfloat(mean[1], <, -0.5);
}

/* ---- sampling ---- */

static gboolean do_nothing(AigcJob *job, gpointer params, GError **error)
{
    return TRUE;
}

static void test_sample(void)
{
    g_autoptr(AigcDcgan) m = tiny_model(4);
    const gint64 P = 64;
    float z[3 * 4], mix[3 * 3] = {0}, a[3 * 64], b[3 * 64], one[64];
    for (int i = 0; i < 3; i++) {
        aigc_dcgan_noise(m, 42, i, z + i * 4);
        mix[i * 3 + i] = 1.0f;
    }
    float z0[4];
    aigc_dcgan_noise(m, 42, 0, z0);
    g_assert_cmpmem(z0, sizeof z0, z, sizeof z0);
    aigc_dcgan_noise(m, 43, 0, z0);
    g_assert_true(memcmp(z0, z, sizeof z0) != 0);
    AigcParams *buffers = aigc_dcgan_get_buffers(m);
    const gint64 nb = aigc_params_get_n_elements(buffers);
    g_autofree float *before = g_memdup2(aigc_params_get_data(buffers), nb * sizeof(float));
    GError *error = NULL;
    g_assert_true(aigc_dcgan_sample(m, z, mix, 3, a, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(aigc_dcgan_sample(m, z, mix, 3, b, NULL, NULL));
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    g_assert_true(aigc_dcgan_sample(m, z + 4, mix + 3, 1, one, NULL, NULL));
    aigc_test_assert_close(one, a + P, P, 1e-4, 1e-5, "image independent of its batch");
    g_assert_cmpmem(before, nb * sizeof(float), aigc_params_get_data(buffers), nb * sizeof(float));
    for (gint64 i = 0; i < 3 * P; i++)
        g_assert_true(a[i] >= -1.0f && a[i] <= 1.0f);

    /* recalibration: one batch gives its own statistics, two the mean of both */
    AigcRng r1, r2;
    aigc_rng_init(&r1, 7);
    r2 = r1;
    aigc_dcgan_recalibrate(m, 1, 8, &r1);
    g_autofree float *first = g_memdup2(aigc_params_get_data(buffers), nb * sizeof(float));
    aigc_dcgan_recalibrate(m, 1, 8, &r1);
    g_autofree float *second = g_memdup2(aigc_params_get_data(buffers), nb * sizeof(float));
    aigc_dcgan_recalibrate(m, 2, 8, &r2);
    for (gint64 i = 0; i < nb; i++)
        g_assert_cmpfloat_with_epsilon(aigc_params_get_data(buffers)[i],
                                       0.5f * (first[i] + second[i]), 1e-5);

    /* a cancelled job stops the sampling */
    g_autoptr(AigcJob) job = aigc_job_new("test", do_nothing, NULL, NULL);
    aigc_job_cancel(job);
    g_assert_false(aigc_dcgan_sample(m, z, mix, 3, a, job, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
    g_clear_error(&error);
}

/* ---- files ---- */


static void expect_load_fails(const char *path, const char *fault)
{
    GError *error = NULL;
    AigcDcgan *m = aigc_dcgan_load_file(path, &error);
    g_assert_null(m);
    g_assert_nonnull(error);
    if (!strstr(error->message, fault))
        g_error("“%s” does not mention “%s”", error->message, fault);
    g_error_free(error);
}

static void test_save_load(void)
{
    g_autoptr(AigcDcgan) m = tiny_model(7);
    const char *names[] = {"Circle", "Square", "Triangle"};
    aigc_dcgan_set_class_names(m, names);
    AigcRng rng;
    aigc_rng_init(&rng, 2);
    aigc_dcgan_recalibrate(m, 2, 4, &rng); /* running statistics other than 0 and 1 */
    g_autofree char *path = g_build_filename(dir, "tiny.safetensors", NULL);
    GError *error = NULL;
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_dcgan_save(m, w, AIGC_DTYPE_F32, &error));
        g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, &error));
        g_assert_no_error(error);
    }
    g_autoptr(AigcDcgan) back = aigc_dcgan_load_file(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_dcgan_get_class_name(back, 1), ==, "Square");
    g_assert_cmpint(aigc_dcgan_find_class(back, "triangle", NULL), ==, 2);
    AigcParams *sets[2][2] = {{aigc_dcgan_get_generator(m), aigc_dcgan_get_generator(back)},
                              {aigc_dcgan_get_buffers(m), aigc_dcgan_get_buffers(back)}};
    for (int k = 0; k < 2; k++) {
        const gint64 n = aigc_params_get_n_elements(sets[k][0]);
        g_assert_cmpint(n, ==, aigc_params_get_n_elements(sets[k][1]));
        g_assert_cmpmem(aigc_params_get_data(sets[k][0]), n * sizeof(float),
                        aigc_params_get_data(sets[k][1]), n * sizeof(float));
    }
    float z[4], mix[3] = {0, 0, 1}, x1[64], x2[64];
    aigc_dcgan_noise(m, 5, 0, z);
    g_assert_true(aigc_dcgan_sample(m, z, mix, 1, x1, NULL, NULL));
    g_assert_true(aigc_dcgan_sample(back, z, mix, 1, x2, NULL, NULL));
    g_assert_cmpmem(x1, sizeof x1, x2, sizeof x2);

    /* damaged files: each refused with a message naming the fault */
    g_autofree char *bad = g_build_filename(dir, "bad.safetensors", NULL);
    const struct {
        const char *key, *value, *fault;
    } cases[] = {
        {"family", "diffusion", "not a DCGAN"},
        {"dcgan.config", "{\"nz\": 4", "not a JSON object"},
        {"dcgan.config",
         "{\"image_size\": 8, \"channels\": 1, \"nz\": 4, \"ngf\": 2, \"ndf\": 2, \"n_classes\": "
         "3000}",
         "n_classes"},
        {"dcgan.config",
         "{\"image_size\": 8, \"channels\": 1, \"nz\": 5, \"ngf\": 2, \"ndf\": 2, \"n_classes\": "
         "3}",
         "disagrees with the config"},
        {"dcgan.config",
         "{\"image_size\": 8, \"channels\": 2, \"nz\": 4, \"ngf\": 2, \"ndf\": 2, \"n_classes\": "
         "3}",
         "generator.out.weight"},
        {"dcgan.config",
         "{\"image_size\": 8, \"channels\": 1, \"nz\": 4, \"ngf\": 2, \"ndf\": 2, \"n_classes\": "
         "0}",
         "does not belong"},
        {"dcgan.classes", "[\"a\", \"b\"]", "3 class names"},
        {"dcgan.classes", "[\"a\", \"b\", \"A\"]", "repeated"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        aigc_test_copy_with_metadata(path, bad, cases[i].key, cases[i].value);
        expect_load_fails(bad, cases[i].fault);
    }
    /* a negative running variance */
    {
        AigcTensor *v = aigc_params_find(aigc_dcgan_get_buffers(m), "generator.bn1.running_var");
        v->data[0] = -1.0f;
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_dcgan_save(m, w, AIGC_DTYPE_F32, NULL));
        g_assert_true(aigc_safetensors_writer_write(w, bad, NULL, NULL, NULL));
        expect_load_fails(bad, "negative variance");
    }
    /* truncated */
    {
        g_autofree char *contents = NULL;
        gsize len;
        g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
        g_assert_true(g_file_set_contents(bad, contents, (gssize)(len - 16), NULL));
        expect_load_fails(bad, "bad.safetensors");
    }
    g_unlink(bad);
    g_unlink(path);
}

/* ---- the training job ---- */



static AigcDcganTrainParams *small_run(const char *output, gint64 steps)
{
    AigcDcganTrainParams *p = aigc_dcgan_train_params_new();
    p->output = g_strdup(output);
    p->data_dir = g_strdup(dir);
    const char *sets[][2] = {
        {"ngf", "4"},          {"ndf", "4"},           {"nz", "8"},
        {"batch_size", "4"},   {"limit_train", "40"},  {"sample_every", "3"},
        {"sample_columns", "2"}, {"checkpoint_every", "2"}, {"ema_decay", "0.9"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(sets); i++)
        g_assert_true(aigc_dcgan_train_params_set(p, sets[i][0], sets[i][1], NULL));
    p->steps = steps;
    return p;
}



/* The generator and its statistics of a model file, as one array. */
static float *read_weights(const char *path, gint64 *n)
{
    GError *error = NULL;
    g_autoptr(AigcDcgan) m = aigc_dcgan_load_file(path, &error);
    g_assert_no_error(error);
    AigcParams *g = aigc_dcgan_get_generator(m), *b = aigc_dcgan_get_buffers(m);
    const gint64 ng = aigc_params_get_n_elements(g), nb = aigc_params_get_n_elements(b);
    *n = ng + nb;
    float *w = g_new(float, *n);
    memcpy(w, aigc_params_get_data(g), ng * sizeof(float));
    memcpy(w + ng, aigc_params_get_data(b), nb * sizeof(float));
    return w;
}

static void test_train_job(void)
{
    g_autofree char *a = g_build_filename(dir, "a.safetensors", NULL);
    g_autofree char *b = g_build_filename(dir, "b.safetensors", NULL);
    g_autofree char *c = g_build_filename(dir, "c.safetensors", NULL);
    {
        g_autoptr(AigcJob) job = aigc_dcgan_train_job_new(small_run(a, 6));
        g_assert_cmpint(aigc_test_run_training(job, FALSE), ==, AIGC_JOB_SUCCEEDED);
        AigcDcganTrainResult *r = aigc_job_get_result(job);
        g_assert_cmpint(r->steps_done, ==, 6);
        g_assert_true(isfinite(r->loss_d) && isfinite(r->loss_g));
        g_assert_nonnull(r->samples_path);
        g_assert_true(g_str_has_suffix(r->samples_path, "a.step-0000006.png"));
        g_autoptr(GHashTable) text = NULL;
        g_autoptr(AigcImage) grid = aigc_png_read(r->samples_path, NULL, &text, NULL);
        g_assert_nonnull(grid);
        /* one row per class, two columns: 10 rows of 28 + gutters */
        g_assert_cmpint(grid->height, ==, 10 * 28 + 11);
        g_assert_cmpint(grid->width, ==, 2 * 28 + 3);
        g_assert_nonnull(strstr(g_hash_table_lookup(text, "parameters"), "Training step: 6"));
        g_autofree char *csv = g_strconcat(a, ".csv", NULL);
        g_autofree char *log = NULL;
        g_assert_true(g_file_get_contents(csv, &log, NULL, NULL));
        g_assert_true(g_str_has_prefix(log, "step,loss_d,loss_g,d_real,d_fake"));
    }
    {
        /* the same seed, the same model */
        g_autoptr(AigcJob) job = aigc_dcgan_train_job_new(small_run(c, 6));
        g_assert_cmpint(aigc_test_run_training(job, FALSE), ==, AIGC_JOB_SUCCEEDED);
    }
    {
        /* stopped after step 3 (it saves before stopping) and resumed: the uninterrupted model */
        g_autoptr(AigcJob) first = aigc_dcgan_train_job_new(small_run(b, 6));
        g_assert_cmpint(aigc_test_run_training(first, TRUE), ==, AIGC_JOB_CANCELLED);
        AigcDcganTrainParams *p = small_run(b, 6);
        p->resume = TRUE;
        g_autoptr(AigcJob) second = aigc_dcgan_train_job_new(p);
        g_assert_cmpint(aigc_test_run_training(second, FALSE), ==, AIGC_JOB_SUCCEEDED);
        g_assert_cmpint(((AigcDcganTrainResult *)aigc_job_get_result(second))->steps_done, ==, 6);
    }
    gint64 na, nb, nc;
    g_autofree float *wa = read_weights(a, &na);
    g_autofree float *wb = read_weights(b, &nb);
    g_autofree float *wc = read_weights(c, &nc);
    g_assert_cmpint(na, ==, nb);
    g_assert_cmpmem(wa, na * sizeof(float), wc, nc * sizeof(float));
    g_assert_cmpmem(wa, na * sizeof(float), wb, nb * sizeof(float));
    GError *error = NULL;
    g_autoptr(AigcDcgan) m = aigc_dcgan_load_file(a, &error);
    g_assert_cmpstr(aigc_dcgan_get_class_name(m, 7), ==, "Sneaker");
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(a, &error);
    g_assert_nonnull(strstr(aigc_safetensors_get_metadata(st, "training"), "\"steps\": 6"));

    /* a model the data cannot feed is refused before training */
    AigcDcganTrainParams *p = small_run(a, 2);
    g_assert_true(aigc_dcgan_train_params_set(p, "image_size", "32", NULL));
    g_autoptr(AigcJob) job = aigc_dcgan_train_job_new(p);
    g_assert_cmpint(aigc_test_run_training(job, FALSE), ==, AIGC_JOB_FAILED);
    g_assert_nonnull(strstr(aigc_job_get_error(job)->message, "28×28"));
    g_assert_false(aigc_dcgan_train_params_set(p, "real_label", "0.2", &error));
    g_clear_error(&error);
    g_assert_false(aigc_dcgan_train_params_set(p, "batch_size", "1", &error));
    g_clear_error(&error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    dir = g_dir_make_tmp("aigc-dcgan-XXXXXX", NULL);
    aigc_test_write_bar_fashion(dir, 40);
    g_test_add_func("/models/dcgan/config", test_config);
    g_test_add_func("/models/dcgan/shapes", test_shapes);
    g_test_add_func("/models/dcgan/gradcheck/generator", test_gradcheck_generator);
    g_test_add_func("/models/dcgan/gradcheck/discriminator", test_gradcheck_discriminator);
    g_test_add_func("/models/dcgan/learns", test_learns);
    g_test_add_func("/models/dcgan/sample", test_sample);
    g_test_add_func("/models/dcgan/save-load", test_save_load);
    g_test_add_func("/models/dcgan/train-job", test_train_job);
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
