/* SPDX-License-Identifier: MIT
 *
 * Image generation jobs on a small random diffusion model written by the test: a batch of the
 * model's size with the A1111 parameters text, previews during sampling, the same seed the same
 * images, img2img and inpainting from images of another size, and bad requests refused with
 * their reason (unknown class, batch, steps, a mask without an image or of another size).
 */
#include "aigc-engine.h"
#include "image/aigc-image-generate.h"
#include "models/diffusion/aigc-diffusion.h"

#include <glib/gstdio.h>
#include <string.h>

static char *model_path;

static void write_model(void)
{
    AigcDiffusionConfig c = aigc_diffusion_default_config();
    c.image_size = 8;
    c.ch = 8;
    c.n_levels = 2;
    c.ch_mult[0] = 1;
    c.ch_mult[1] = 2;
    c.n_heads = 0;
    c.norm_groups = 4;
    c.n_classes = 3;
    c.n_timesteps = 100;
    g_autoptr(AigcDiffusion) d = aigc_diffusion_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    aigc_diffusion_init_weights(d, &rng);
    const char *names[] = {"Circle", "Square", "Line"};
    aigc_diffusion_set_class_names(d, names);
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    g_assert_true(aigc_diffusion_save(d, w, AIGC_DTYPE_F32, NULL));
    g_autofree char *dir = g_dir_make_tmp("aigc-imagegen-XXXXXX", NULL);
    model_path = g_build_filename(dir, "tiny-shapes.safetensors", NULL);
    g_assert_true(aigc_safetensors_writer_write(w, model_path, NULL, NULL, NULL));
}

static int n_previews;

static void on_preview(AigcJob *job, AigcPreview *p, gpointer data)
{
    g_assert_cmpint(p->kind, ==, AIGC_PREVIEW_IMAGE_RGBA8);
    g_assert_cmpuint(g_bytes_get_size(p->data), ==, (gsize)p->width * p->height * 4);
    g_assert_true(g_str_has_prefix(p->label, "step "));
    n_previews++;
    aigc_preview_free(p);
}

static AigcImageGenResult *run(AigcImageModel *m, const AigcImageGenParams *p, AigcJob **keep)
{
    GError *error = NULL;
    AigcJob *job = aigc_image_generate_job_new(m, p, &error);
    g_assert_no_error(error);
    AigcJobCallbacks cb = {.preview = on_preview};
    aigc_job_set_callbacks(job, &cb);
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    aigc_engine_submit(engine, job);
    g_assert_cmpint(aigc_job_wait(job), ==, AIGC_JOB_SUCCEEDED);
    *keep = job;
    return aigc_job_get_result(job);
}

static void test_batch(void)
{
    g_autoptr(AigcImageModel) m = aigc_image_model_load(model_path, NULL);
    g_assert_nonnull(m);
    g_assert_cmpstr(aigc_image_model_get_name(m), ==, "tiny-shapes");
    g_assert_cmpint(aigc_image_model_get_size(m), ==, 8);
    g_assert_cmpint(aigc_image_model_get_n_classes(m), ==, 3);
    g_assert_cmpstr(aigc_image_model_get_class_name(m, 1), ==, "Square");
    AigcImageGenParams p = aigc_image_gen_default_params();
    p.class_name = "square";
    p.steps = 6;
    p.batch = 3;
    p.seed = 42;
    n_previews = 0;
    g_autoptr(AigcJob) j1 = NULL, j2 = NULL;
    AigcImageGenResult *a = run(m, &p, &j1);
    g_assert_cmpint(n_previews, ==, 3); /* every 2 of 6 steps */
    g_assert_cmpint(a->n, ==, 3);
    g_assert_cmpint(a->images[0]->width, ==, 8);
    g_assert_cmpint(a->images[0]->channels, ==, 1);
    g_assert_cmpuint(a->seed, ==, 42);
    g_assert_cmpstr(a->class_name, ==, "Square");
    g_assert_cmpstr(a->parameters, ==,
                    "Square\nSteps: 6, Sampler: DDIM, CFG scale: 3, Seed: 42, Size: 8x8, "
                    "Model: tiny-shapes");
    AigcImageGenResult *b = run(m, &p, &j2);
    for (int i = 0; i < 3; i++)
        g_assert_cmpmem(a->images[i]->data, 64, b->images[i]->data, 64);
    g_assert_true(memcmp(a->images[0]->data, a->images[1]->data, 64) != 0);
}

static void test_img2img_inpaint(void)
{
    g_autoptr(AigcImageModel) m = aigc_image_model_load(model_path, NULL);
    g_autoptr(AigcImage) init = aigc_image_new(32, 32, 4); /* another size and RGBA */
    g_autoptr(AigcImage) mask = aigc_image_new(32, 32, 1);
    for (int i = 0; i < 32 * 32; i++) {
        init->data[4 * i + 3] = 255;
        init->data[4 * i] = init->data[4 * i + 1] = init->data[4 * i + 2] = (i % 32) < 16 ? 255 : 0;
        mask->data[i] = (i / 32) < 16 ? 255 : 0; /* repaint the top half */
    }
    AigcImageGenParams p = aigc_image_gen_default_params();
    p.class_name = "Line";
    p.steps = 10;
    p.seed = 1;
    p.init = init;
    p.strength = 0.5f;
    p.mask = mask;
    g_autoptr(AigcJob) job = NULL;
    AigcImageGenResult *r = run(m, &p, &job);
    g_assert_nonnull(strstr(r->parameters, "Denoising strength: 0.5"));
    g_assert_nonnull(strstr(r->parameters, "Inpaint"));
    /* the kept bottom half is the init image, resized: white left, black right */
    const guint8 *px = r->images[0]->data;
    g_assert_cmpint(px[7 * 8 + 0], ==, 255);
    g_assert_cmpint(px[7 * 8 + 7], ==, 0);
}

static void expect_refused(AigcImageModel *m, const AigcImageGenParams *p, const char *what)
{
    GError *error = NULL;
    g_assert_null(aigc_image_generate_job_new(m, p, &error));
    g_assert_nonnull(error);
    if (!strstr(error->message, what))
        g_error("“%s” does not say “%s”", error->message, what);
    g_error_free(error);
}

static void test_bad_requests(void)
{
    g_autoptr(AigcImageModel) m = aigc_image_model_load(model_path, NULL);
    AigcImageGenParams p = aigc_image_gen_default_params();
    p.class_name = "Cat";
    expect_refused(m, &p, "Cat");
    p = aigc_image_gen_default_params();
    p.batch = 0;
    expect_refused(m, &p, "batch");
    p.batch = 1;
    p.steps = 100000;
    expect_refused(m, &p, "steps");
    p.steps = 0;
    expect_refused(m, &p, "steps");
    p.steps = 10;
    p.guidance = 99;
    expect_refused(m, &p, "guidance");
    p.guidance = 3;
    g_autoptr(AigcImage) init = aigc_image_new(16, 16, 3);
    g_autoptr(AigcImage) mask = aigc_image_new(8, 8, 1);
    p.mask = mask;
    expect_refused(m, &p, "needs an image");
    p.init = init;
    expect_refused(m, &p, "same size");
    p.mask = NULL;
    p.strength = 0;
    expect_refused(m, &p, "strength");
    /* no latent space to walk, no encoder */
    GError *interp_error = NULL;
    AigcImageInterpParams ip = aigc_image_interp_default_params();
    ip.class_a = "Square";
    g_assert_null(aigc_image_interpolate_job_new(m, &ip, &interp_error));
    g_assert_error(interp_error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED);
    g_clear_error(&interp_error);
    g_assert_null(aigc_image_model_reconstruct(m, init, NULL, NULL, &interp_error));
    g_assert_error(interp_error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED);
    g_clear_error(&interp_error);
    g_assert_cmpint(aigc_image_model_get_caps(m), ==,
                    AIGC_IMAGE_CAP_STEPS | AIGC_IMAGE_CAP_IMG2IMG | AIGC_IMAGE_CAP_INPAINT);

    GError *error = NULL;
    g_autofree char *bad = g_strconcat(model_path, ".bad", NULL);
    g_assert_true(g_file_set_contents(bad, "not a model", -1, NULL));
    g_assert_null(aigc_image_model_load(bad, &error));
    g_assert_nonnull(strstr(error->message, ".bad"));
    g_clear_error(&error);
    g_remove(bad);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    write_model();
    g_test_add_func("/models/image/generate/batch", test_batch);
    g_test_add_func("/models/image/generate/img2img-inpaint", test_img2img_inpaint);
    g_test_add_func("/models/image/generate/bad-requests", test_bad_requests);
    int status = g_test_run();
    g_remove(model_path);
    g_autofree char *dir = g_path_get_dirname(model_path);
    g_rmdir(dir);
    return status;
}
