/* SPDX-License-Identifier: MIT
 *
 * The one-pass image families through AigcImageModel, on small random DCGAN and VAE models
 * written by the test: what each offers (caps), a batch with its parameters text, the same seed
 * the same images and image b independent of the batch, interpolation strips whose ends are the
 * images of their seeds and whose middles change, a reconstruction of a canvas of another size
 * (with the class found when none is given), VAE img2img, the judging sampler, and bad requests
 * refused with their reason.
 */
#include "aigc-engine.h"
#include "image/aigc-image-generate.h"
#include "models/dcgan/aigc-dcgan.h"
#include "models/vae/aigc-vae.h"

#include <glib/gstdio.h>
#include <string.h>

static char *dir, *gan_path, *vae_path;

static void write_models(void)
{
    dir = g_dir_make_tmp("aigc-imagelatent-XXXXXX", NULL);
    const char *names[] = {"Circle", "Square", "Line"};
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    {
        AigcDcganConfig c = aigc_dcgan_default_config();
        c.image_size = 8;
        c.nz = 6;
        c.ngf = 4;
        c.ndf = 4;
        c.n_classes = 3;
        g_autoptr(AigcDcgan) g = aigc_dcgan_new(&c);
        aigc_dcgan_init_weights(g, &rng);
        /* visible differences between latents and classes */
        AigcParams *gen = aigc_dcgan_get_generator(g);
        for (guint i = 0; i < aigc_params_get_n(gen); i++) {
            AigcTensor *t = aigc_params_get(gen, i);
            if (t->n_dims >= 2)
                aigc_rng_fill_normal(&rng, t->data, t->n_elements, 0, 0.3f);
        }
        aigc_dcgan_recalibrate(g, 2, 16, &rng);
        aigc_dcgan_set_class_names(g, names);
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_dcgan_save(g, w, AIGC_DTYPE_F32, NULL));
        gan_path = g_build_filename(dir, "tiny-gan.safetensors", NULL);
        g_assert_true(aigc_safetensors_writer_write(w, gan_path, NULL, NULL, NULL));
    }
    {
        AigcVaeConfig c = aigc_vae_default_config();
        c.image_size = 8;
        c.ch = 4;
        c.hidden = 16;
        c.latent = 3;
        c.n_classes = 3;
        g_autoptr(AigcVae) v = aigc_vae_new(&c);
        aigc_vae_init_weights(v, &rng);
        aigc_vae_set_class_names(v, names);
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_vae_save(v, w, AIGC_DTYPE_F32, NULL));
        vae_path = g_build_filename(dir, "tiny-vae.safetensors", NULL);
        g_assert_true(aigc_safetensors_writer_write(w, vae_path, NULL, NULL, NULL));
    }
}

static int n_previews;

static void on_preview(AigcJob *job, AigcPreview *p, gpointer data)
{
    g_assert_cmpint(p->kind, ==, AIGC_PREVIEW_IMAGE_RGBA8);
    g_assert_cmpuint(g_bytes_get_size(p->data), ==, (gsize)p->width * p->height * 4);
    n_previews++;
    aigc_preview_free(p);
}

static AigcImageGenResult *run(AigcJob *job, AigcJob **keep)
{
    AigcJobCallbacks cb = {.preview = on_preview};
    aigc_job_set_callbacks(job, &cb);
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    aigc_engine_submit(engine, job);
    g_assert_cmpint(aigc_job_wait(job), ==, AIGC_JOB_SUCCEEDED);
    *keep = job;
    return aigc_job_get_result(job);
}

static AigcImageGenResult *generate(AigcImageModel *m, const AigcImageGenParams *p, AigcJob **keep)
{
    GError *error = NULL;
    AigcJob *job = aigc_image_generate_job_new(m, p, &error);
    g_assert_no_error(error);
    return run(job, keep);
}

static AigcImageGenResult *interpolate(AigcImageModel *m, const AigcImageInterpParams *p,
                                       AigcJob **keep)
{
    GError *error = NULL;
    AigcJob *job = aigc_image_interpolate_job_new(m, p, &error);
    g_assert_no_error(error);
    return run(job, keep);
}

static void assert_same(const AigcImage *a, const AigcImage *b)
{
    g_assert_cmpint(a->width, ==, b->width);
    g_assert_cmpint(a->channels, ==, b->channels);
    const gsize n = (gsize)a->width * a->height * a->channels;
    /* one 8-bit level of slack: a batch and a single image may round apart */
    for (gsize i = 0; i < n; i++)
        g_assert_cmpint(ABS((int)a->data[i] - (int)b->data[i]), <=, 1);
}

static gboolean differ(const AigcImage *a, const AigcImage *b)
{
    return memcmp(a->data, b->data, (gsize)a->width * a->height * a->channels) != 0;
}

static void check_batch(const char *path, const char *family, const char *sampler)
{
    g_autoptr(AigcImageModel) m = aigc_image_model_load(path, NULL);
    g_assert_nonnull(m);
    g_assert_cmpstr(aigc_image_model_get_family(m), ==, family);
    g_assert_cmpint(aigc_image_model_get_size(m), ==, 8);
    g_assert_cmpint(aigc_image_model_get_channels(m), ==, 1);
    g_assert_cmpint(aigc_image_model_get_n_classes(m), ==, 3);
    g_assert_cmpstr(aigc_image_model_get_class_name(m, 2), ==, "Line");
    g_assert_cmpint(aigc_image_model_get_max_steps(m), ==, 1);
    g_assert_true(aigc_image_model_get_caps(m) & AIGC_IMAGE_CAP_INTERPOLATE);
    g_assert_false(aigc_image_model_get_caps(m) & (AIGC_IMAGE_CAP_STEPS | AIGC_IMAGE_CAP_INPAINT));
    AigcImageGenParams p = aigc_image_gen_default_params();
    p.class_name = "square";
    p.steps = 0; /* ignored by one-pass families */
    p.guidance = 99;
    p.batch = 3;
    p.seed = 42;
    n_previews = 0;
    g_autoptr(AigcJob) j1 = NULL, j2 = NULL, j3 = NULL, j4 = NULL;
    AigcImageGenResult *a = generate(m, &p, &j1);
    g_assert_cmpint(n_previews, ==, 1);
    g_assert_cmpint(a->n, ==, 3);
    g_assert_cmpint(a->images[0]->width, ==, 8);
    g_assert_cmpint(a->images[0]->channels, ==, 1);
    g_assert_cmpuint(a->seed, ==, 42);
    g_assert_cmpstr(a->class_name, ==, "Square");
    g_autofree char *want = g_strdup_printf("Square\nSampler: %s, Seed: 42, Size: 8x8, Model: %s",
                                            sampler, family[0] == 'd' ? "tiny-gan" : "tiny-vae");
    g_assert_cmpstr(a->parameters, ==, want);
    AigcImageGenResult *b = generate(m, &p, &j2);
    for (int i = 0; i < 3; i++)
        g_assert_cmpmem(a->images[i]->data, 64, b->images[i]->data, 64);
    g_assert_true(differ(a->images[0], a->images[1]));
    /* image 1 of a batch of one is image 1 of the batch */
    p.batch = 1;
    AigcImageGenResult *one = generate(m, &p, &j3);
    assert_same(one->images[0], a->images[0]);
    /* another class, another image from the same latent */
    p.class_name = "Line";
    AigcImageGenResult *line = generate(m, &p, &j4);
    g_assert_true(differ(line->images[0], a->images[0]));
}

static void test_batch_dcgan(void)
{
    check_batch(gan_path, "dcgan", "DCGAN");
}

static void test_batch_vae(void)
{
    check_batch(vae_path, "vae", "VAE prior");
}

static void check_interpolation(const char *path, const char *how)
{
    g_autoptr(AigcImageModel) m = aigc_image_model_load(path, NULL);
    AigcImageInterpParams ip = aigc_image_interp_default_params();
    ip.class_a = "Circle";
    ip.class_b = "Line";
    ip.seed_a = 5;
    ip.seed_b = 6;
    ip.n = 5;
    n_previews = 0;
    g_autoptr(AigcJob) j1 = NULL, j2 = NULL, j3 = NULL, j4 = NULL;
    AigcImageGenResult *r = interpolate(m, &ip, &j1);
    g_assert_cmpint(n_previews, ==, 1);
    g_assert_cmpint(r->n, ==, 5);
    g_assert_nonnull(strstr(r->parameters, "Circle → Line\n"));
    g_assert_nonnull(strstr(r->parameters, "Seed: 5 → 6"));
    g_assert_nonnull(strstr(r->parameters, how));
    /* deterministic */
    AigcImageGenResult *again = interpolate(m, &ip, &j2);
    for (int i = 0; i < 5; i++)
        g_assert_cmpmem(r->images[i]->data, 64, again->images[i]->data, 64);
    /* the ends are image 1 of a generation with each seed and class */
    AigcImageGenParams p = aigc_image_gen_default_params();
    p.class_name = "Circle";
    p.seed = 5;
    AigcImageGenResult *a = generate(m, &p, &j3);
    assert_same(r->images[0], a->images[0]);
    p.class_name = "Line";
    p.seed = 6;
    AigcImageGenResult *b = generate(m, &p, &j4);
    assert_same(r->images[4], b->images[0]);
    /* the middle is neither end */
    g_assert_true(differ(r->images[2], r->images[0]) && differ(r->images[2], r->images[4]));
}

static void test_interpolate_dcgan(void)
{
    check_interpolation(gan_path, "Interpolation: slerp");
}

static void test_interpolate_vae(void)
{
    check_interpolation(vae_path, "Interpolation: linear");
}

static AigcImage *canvas(int side)
{
    AigcImage *img = aigc_image_new(side, side, 4); /* RGBA, of another size */
    for (int i = 0; i < side * side; i++) {
        img->data[4 * i + 3] = 255;
        img->data[4 * i] = img->data[4 * i + 1] = img->data[4 * i + 2] =
            (i % side) < side / 2 ? 255 : 0;
    }
    return img;
}

static void test_vae_image(void)
{
    g_autoptr(AigcImageModel) m = aigc_image_model_load(vae_path, NULL);
    g_assert_true(aigc_image_model_get_caps(m) & AIGC_IMAGE_CAP_RECONSTRUCT);
    g_autoptr(AigcImage) in = canvas(32);
    GError *error = NULL;
    int k = -7;
    g_autoptr(AigcImage) rec = aigc_image_model_reconstruct(m, in, NULL, &k, &error);
    g_assert_no_error(error);
    g_assert_cmpint(rec->width, ==, 8);
    g_assert_cmpint(rec->channels, ==, 1);
    g_assert_true(k >= 0 && k < 3);
    /* the class found is the one that, given explicitly, reconstructs the same */
    g_autoptr(AigcImage) same = aigc_image_model_reconstruct(
        m, in, aigc_image_model_get_class_name(m, k), NULL, &error);
    g_assert_cmpmem(rec->data, 64, same->data, 64);
    g_assert_null(aigc_image_model_reconstruct(m, in, "Hexagon", NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND);
    g_clear_error(&error);

    /* img2img: strength 0 is the reconstruction, for every image of the batch */
    AigcImageGenParams p = aigc_image_gen_default_params();
    p.init = in;
    p.strength = 0;
    p.batch = 2;
    p.seed = 1;
    g_autoptr(AigcJob) j1 = NULL, j2 = NULL;
    AigcImageGenResult *r0 = generate(m, &p, &j1);
    assert_same(r0->images[0], rec);
    assert_same(r0->images[1], rec);
    g_assert_nonnull(strstr(r0->parameters, "Sampler: VAE encoder"));
    g_assert_nonnull(strstr(r0->parameters, "Denoising strength: 0"));
    p.strength = 1;
    AigcImageGenResult *r1 = generate(m, &p, &j2);
    g_assert_true(differ(r1->images[0], r1->images[1]));

    /* interpolation from two images */
    g_autoptr(AigcImage) other = canvas(8);
    for (int i = 0; i < 64; i++)
        other->data[4 * i] = other->data[4 * i + 1] = other->data[4 * i + 2] ^= 255;
    AigcImageInterpParams ip = aigc_image_interp_default_params();
    ip.image_a = in;
    ip.image_b = other;
    ip.n = 3;
    g_autoptr(AigcJob) j3 = NULL;
    AigcImageGenResult *s = interpolate(m, &ip, &j3);
    assert_same(s->images[0], rec);
    g_assert_nonnull(strstr(s->parameters, "Seed: image → image"));
}

static void test_eval_sample(void)
{
    const char *paths[] = {gan_path, vae_path};
    for (int i = 0; i < 2; i++) {
        g_autoptr(AigcImageModel) m = aigc_image_model_load(paths[i], NULL);
        const gint32 labels[4] = {0, 1, 2, 0};
        float a[4 * 64], b[4 * 64];
        GError *error = NULL;
        g_assert_true(aigc_image_model_eval_sample(m, labels, 4, 9, a, NULL, &error));
        g_assert_no_error(error);
        g_assert_true(aigc_image_model_eval_sample(m, labels, 4, 9, b, NULL, NULL));
        g_assert_cmpmem(a, sizeof a, b, sizeof b);
        for (int k = 0; k < 4 * 64; k++)
            g_assert_true(a[k] >= 0.0f && a[k] <= 1.0f);
    }
}

static void expect_refused(AigcJob *job, GError **error, const char *what)
{
    g_assert_null(job);
    g_assert_nonnull(*error);
    if (!strstr((*error)->message, what))
        g_error("“%s” does not say “%s”", (*error)->message, what);
    g_clear_error(error);
}

static void test_bad_requests(void)
{
    g_autoptr(AigcImageModel) gan = aigc_image_model_load(gan_path, NULL);
    g_autoptr(AigcImageModel) vae = aigc_image_model_load(vae_path, NULL);
    g_autoptr(AigcImage) init = canvas(8);
    g_autoptr(AigcImage) mask = aigc_image_new(8, 8, 1);
    GError *error = NULL;
    AigcImageGenParams p = aigc_image_gen_default_params();
    p.class_name = "Cat";
    expect_refused(aigc_image_generate_job_new(gan, &p, &error), &error, "Cat");
    p = aigc_image_gen_default_params();
    p.batch = 65;
    expect_refused(aigc_image_generate_job_new(vae, &p, &error), &error, "batch");
    p.batch = 1;
    p.init = init;
    expect_refused(aigc_image_generate_job_new(gan, &p, &error), &error, "no encoder");
    p.strength = 1.5f;
    expect_refused(aigc_image_generate_job_new(vae, &p, &error), &error, "strength");
    p.strength = 0.5f;
    p.mask = mask;
    expect_refused(aigc_image_generate_job_new(vae, &p, &error), &error, "inpaint");

    AigcImageInterpParams ip = aigc_image_interp_default_params();
    expect_refused(aigc_image_interpolate_job_new(gan, &ip, &error), &error, "class");
    ip.class_a = "Square";
    ip.n = 1;
    expect_refused(aigc_image_interpolate_job_new(gan, &ip, &error), &error, "2 … 64");
    ip.n = 8;
    ip.class_b = "Cat";
    expect_refused(aigc_image_interpolate_job_new(vae, &ip, &error), &error, "Cat");
    ip.class_b = NULL;
    ip.image_a = init;
    expect_refused(aigc_image_interpolate_job_new(gan, &ip, &error), &error, "no encoder");
    g_assert_null(aigc_image_model_reconstruct(gan, init, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED);
    g_clear_error(&error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    write_models();
    g_test_add_func("/models/image/latent/batch/dcgan", test_batch_dcgan);
    g_test_add_func("/models/image/latent/batch/vae", test_batch_vae);
    g_test_add_func("/models/image/latent/interpolate/dcgan", test_interpolate_dcgan);
    g_test_add_func("/models/image/latent/interpolate/vae", test_interpolate_vae);
    g_test_add_func("/models/image/latent/vae-image", test_vae_image);
    g_test_add_func("/models/image/latent/eval-sample", test_eval_sample);
    g_test_add_func("/models/image/latent/bad-requests", test_bad_requests);
    int status = g_test_run();
    g_remove(gan_path);
    g_remove(vae_path);
    g_rmdir(dir);
    g_free(gan_path);
    g_free(vae_path);
    g_free(dir);
    return status;
}
