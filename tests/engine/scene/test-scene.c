/* SPDX-License-Identifier: MIT
 *
 * Scenes: the orbit camera (a proper camera-to-world matrix looking at its target, the orbit a
 * dataset's cameras sit on, its JSON form and bad JSON), pose files (4×4 matrices; wrong counts,
 * non-finite and singular matrices refused with the file named), and the training and render
 * jobs on a shrunken copy of the sample scene: files written, the PSNR measured and reported as
 * a preview, a resumed run continuing from its checkpoint, a stopped run saving its scene,
 * turntable frames and depth maps written as PNG; the same for the positional-encoding field
 * (model=pe), whose scene renders and evaluates through the AigcScene calls.
 */
#include "aigc-engine.h"
#include "aigc-error.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *tmp_dir;

static double dot3(const double *a, const double *b, int stride)
{
    return a[0] * b[0] + a[stride] * b[stride] + a[2 * stride] * b[2 * stride];
}

static void test_orbit_matrix(void)
{
    AigcOrbit o = {.target = {1, 2, 3}, .up = {0, 0, 1}, .distance = 4, .azimuth = 0.7,
                   .elevation = 0.4, .fov_x = 0.8};
    double m[16];
    aigc_orbit_c2w(&o, m);
    /* Columns 0..2 orthonormal and right-handed; the camera sits at distance 4 from the target
     * and looks (down its −z) straight at it. */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            g_assert_cmpfloat(fabs(dot3(m + i, m + j, 4) - (i == j)), <, 1e-12);
    double cross_z = m[0] * m[5] - m[4] * m[1]; /* (x × y)·ẑ component check */
    g_assert_cmpfloat(fabs(cross_z - m[10]), <, 1e-12);
    double to_target[3] = {o.target[0] - m[3], o.target[1] - m[7], o.target[2] - m[11]};
    double dist = sqrt(dot3(to_target, to_target, 1));
    g_assert_cmpfloat(fabs(dist - 4), <, 1e-12);
    double fwd[3] = {-m[2], -m[6], -m[10]};
    g_assert_cmpfloat(dot3(fwd, to_target, 1) / dist, >, 1 - 1e-12);
    /* Elevation: the camera is above the target by distance · sin(elevation). */
    g_assert_cmpfloat(fabs(m[11] - 3 - 4 * sin(0.4)), <, 1e-12);
    /* The image's up points roughly up. */
    g_assert_cmpfloat(m[9], >, 0.5);
    /* Rotation clamps the elevation; zoom clamps the distance. */
    aigc_orbit_rotate(&o, 0, 10);
    g_assert_cmpfloat(o.elevation, ==, AIGC_ORBIT_MAX_ELEVATION);
    aigc_orbit_zoom(&o, 1e-9, 4);
    g_assert_cmpfloat(o.distance, ==, 0.2);
    aigc_orbit_zoom(&o, NAN, 4);
    g_assert_cmpfloat(o.distance, ==, 0.2);
    AigcPinhole cam = aigc_orbit_pinhole(&o, 200, 100);
    g_assert_cmpfloat(fabs(2 * atan(100 / cam.fl_x) - 0.8), <, 1e-12);
    g_assert_cmpfloat(cam.cy, ==, 50);
}

static void test_orbit_from_dataset(void)
{
    g_autofree char *sample = aigc_scene_find_sample();
    g_assert_nonnull(sample);
    g_autofree char *json = g_build_filename(sample, "transforms_train.json", NULL);
    AigcTransformsOptions opt = aigc_transforms_default_options();
    opt.load_images = FALSE;
    g_autoptr(AigcTransforms) t = aigc_transforms_load(json, &opt, NULL);
    g_assert_nonnull(t);
    AigcOrbit o;
    aigc_orbit_from_transforms(t, &o);
    /* woodbox: cameras 3.8 from the origin, +z up, a 45° lens, slightly above the disc. */
    g_assert_cmpfloat(fabs(o.up[2] - 1), <, 0.05);
    g_assert_cmpfloat(fabs(o.distance - 3.8), <, 0.2);
    g_assert_cmpfloat(fabs(o.fov_x - G_PI / 4), <, 1e-9);
    g_assert_cmpfloat(o.elevation, >, 0.0);
    /* The orbit starts at the first frame's azimuth (at the cameras' mean elevation). */
    double m[16];
    aigc_orbit_c2w(&o, m);
    double az_orbit = atan2(m[7], m[3]);
    double az_frame = atan2(t->frames[0].c2w[7], t->frames[0].c2w[3]);
    g_assert_cmpfloat(fabs(remainder(az_orbit - az_frame, 2 * G_PI)), <, 0.05);

    g_autofree char *text = aigc_orbit_to_json(&o);
    AigcOrbit back;
    g_assert_true(aigc_orbit_from_json(&back, text, NULL));
    g_assert_cmpfloat(fabs(back.distance - o.distance), <, 1e-6);
    g_assert_cmpfloat(fabs(back.azimuth - o.azimuth), <, 1e-6);
    const char *bad[] = {
        "[]",
        "{\"target\": [0, 0], \"up\": [0, 0, 1], \"distance\": 1, \"azimuth\": 0, "
        "\"elevation\": 0, \"fov_x\": 1}",
        "{\"target\": [0, 0, 0], \"up\": [0, 0, 0], \"distance\": 1, \"azimuth\": 0, "
        "\"elevation\": 0, \"fov_x\": 1}",
        "{\"target\": [0, 0, 0], \"up\": [0, 0, 1], \"distance\": -1, \"azimuth\": 0, "
        "\"elevation\": 0, \"fov_x\": 1}",
        "{\"target\": [0, 0, 0], \"up\": [0, 0, 1], \"distance\": 1, \"azimuth\": 0, "
        "\"elevation\": 0, \"fov_x\": 4}",
        "{",
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *error = NULL;
        g_assert_false(aigc_orbit_from_json(&back, bad[i], &error));
        g_assert_nonnull(error);
        g_clear_error(&error);
    }
}

static void write_file(const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(tmp_dir, name, NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void test_pose_files(void)
{
    AigcOrbit o = {.up = {0, 0, 1}, .distance = 4, .fov_x = 0.8};
    AigcScenePoses poses = {0};
    write_file("two.txt", "# two poses\n1 0 0 0\n0 1 0 0\n0 0 1 4\n0 0 0 1\n\n"
                          "[[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 3], [0, 0, 0, 1]]\n");
    g_autofree char *two = g_build_filename(tmp_dir, "two.txt", NULL);
    g_assert_true(aigc_scene_poses_load(&poses, two, &o, 32, 24, NULL));
    g_assert_cmpint(poses.n, ==, 2);
    g_assert_cmpfloat(poses.c2w[1][11], ==, 3);
    g_assert_cmpint(poses.cameras[1].width, ==, 32);
    g_assert_cmpint(poses.cameras[1].height, ==, 24);
    const struct {
        const char *text, *want;
    } bad[] = {
        {"1 2 3", "3 numbers"},
        {"1 0 0 0 0 1 0 0 0 0 1 4 0 0 0 nan", "non-finite"},
        {"0 0 0 0 0 0 0 0 0 0 0 4 0 0 0 1", "singular"},
        {"1 0 0 x", "not a number"},
        {"", "0 numbers"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        write_file("bad.txt", bad[i].text);
        g_autofree char *path = g_build_filename(tmp_dir, "bad.txt", NULL);
        GError *error = NULL;
        g_assert_false(aigc_scene_poses_load(&poses, path, &o, 32, 32, &error));
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, "bad.txt"));
        g_assert_nonnull(strstr(error->message, bad[i].want));
        g_clear_error(&error);
    }
    /* A transforms file: its frames and camera, scaled to the size asked for. */
    g_autofree char *sample = aigc_scene_find_sample();
    g_autofree char *val = g_build_filename(sample, "transforms_val.json", NULL);
    g_assert_true(aigc_scene_poses_load(&poses, val, &o, 50, 50, NULL));
    g_assert_cmpint(poses.n, ==, 10);
    g_assert_cmpfloat(fabs(poses.cameras[0].fl_x - 0.25 * 241.42135623730948), <, 1e-3);
    aigc_scene_poses_orbit(&poses, &o, 4, 16, 8);
    g_assert_cmpint(poses.n, ==, 4);
    g_assert_cmpint(poses.cameras[3].height, ==, 8);
    aigc_scene_poses_clear(&poses);
}

/* A shrunken copy of the sample scene: n_train + n_val views at side × side. */
static char *write_small_dataset(int n_train, int n_val, int side)
{
    g_autofree char *sample = aigc_scene_find_sample();
    char *ds = g_build_filename(tmp_dir, "smallbox", NULL);
    g_assert_cmpint(g_mkdir_with_parents(ds, 0755), ==, 0);
    const char *splits[] = {"train", "val"};
    const int counts[] = {n_train, n_val};
    for (int s = 0; s < 2; s++) {
        g_autofree char *src = g_strdup_printf("%s/transforms_%s.json", sample, splits[s]);
        AigcTransformsOptions opt = aigc_transforms_default_options();
        opt.load_images = FALSE;
        g_autoptr(AigcTransforms) t = aigc_transforms_load(src, &opt, NULL);
        g_assert_nonnull(t);
        GString *json = g_string_new("{\"camera_angle_x\": 0.7853981633974483, \"frames\": [");
        for (int f = 0; f < counts[s]; f++) {
            g_autoptr(AigcImage) img = aigc_png_read(t->frames[f].image_path, NULL, NULL, NULL);
            g_autoptr(AigcImage) small = aigc_image_resize(img, side, side);
            g_autofree char *name = g_strdup_printf("%s-%d.png", splits[s], f);
            g_autofree char *path = g_build_filename(ds, name, NULL);
            g_assert_true(aigc_png_write(path, small, NULL, NULL, NULL));
            g_string_append_printf(json, "%s{\"file_path\": \"%s\", \"transform_matrix\": [",
                                   f ? ", " : "", name);
            for (int r = 0; r < 4; r++)
                g_string_append_printf(json, "%s[%.17g, %.17g, %.17g, %.17g]", r ? ", " : "",
                                       t->frames[f].c2w[4 * r], t->frames[f].c2w[4 * r + 1],
                                       t->frames[f].c2w[4 * r + 2], t->frames[f].c2w[4 * r + 3]);
            g_string_append(json, "]}");
        }
        g_string_append(json, "]}");
        g_autofree char *dst = g_strdup_printf("%s/transforms_%s.json", ds, splits[s]);
        g_assert_true(g_file_set_contents(dst, json->str, -1, NULL));
        g_string_free(json, TRUE);
    }
    return ds;
}

typedef struct {
    int n_images, n_psnr;
    float last_psnr;
} Seen;

static void on_preview(AigcJob *job, AigcPreview *p, gpointer data)
{
    Seen *seen = data;
    if (p->kind == AIGC_PREVIEW_IMAGE_RGBA8)
        seen->n_images++;
    if (p->kind == AIGC_PREVIEW_VALUES && g_strcmp0(p->label, "psnr") == 0) {
        const float *v = g_bytes_get_data(p->data, NULL);
        seen->n_psnr++;
        seen->last_psnr = v[1];
    }
    aigc_preview_free(p);
}

static AigcSceneTrainParams *small_params(const char *ds, const char *out, gint64 steps)
{
    AigcSceneTrainParams *p = aigc_scene_train_params_new();
    p->dataset = g_strdup(ds);
    p->output = g_strdup(out);
    const char *sets[][2] = {{"levels", "4"},           {"log2_table", "12"},
                             {"finest_res", "64"},      {"occupancy_res", "16"},
                             {"samples_per_step", "4096"}, {"eval_every", "4"},
                             {"preview_every", "2"},    {"checkpoint_every", "3"}};
    for (guint i = 0; i < G_N_ELEMENTS(sets); i++)
        g_assert_true(aigc_scene_train_params_set(p, sets[i][0], sets[i][1], NULL));
    p->steps = steps;
    return p;
}

static AigcJobState run(AigcEngine *engine, AigcJob *job, Seen *seen)
{
    AigcJobCallbacks cb = {.preview = on_preview, .user_data = seen};
    aigc_job_set_callbacks(job, &cb);
    aigc_engine_submit(engine, job);
    return aigc_job_wait(job);
}

static void test_train_and_render(void)
{
    g_autofree char *ds = write_small_dataset(6, 2, 20);
    g_autofree char *out = g_build_filename(tmp_dir, "small.safetensors", NULL);
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);

    /* Settings are checked. */
    AigcSceneTrainParams *p = small_params(ds, out, 6);
    GError *error = NULL;
    g_assert_false(aigc_scene_train_params_set(p, "levels", "0", &error));
    g_clear_error(&error);
    g_assert_false(aigc_scene_train_params_set(p, "background", "pink", &error));
    g_clear_error(&error);
    g_assert_false(aigc_scene_train_params_set(p, "no_such_key", "1", &error));
    g_assert_nonnull(strstr(error->message, "no_such_key"));
    g_clear_error(&error);

    Seen seen = {0};
    g_autoptr(AigcJob) job = aigc_scene_train_job_new(p);
    g_assert_cmpint(run(engine, job, &seen), ==, AIGC_JOB_SUCCEEDED);
    const AigcSceneTrainResult *r = aigc_job_get_result(job);
    g_assert_cmpint(r->steps_done, ==, 6);
    g_assert_true(isfinite(r->val_psnr));
    g_assert_cmpfloat(r->val_psnr, >, 5);
    g_assert_cmpint(seen.n_psnr, ==, 2); /* at step 4 and at the end */
    g_assert_cmpfloat(fabs(seen.last_psnr - r->val_psnr), <, 1e-3);
    g_assert_cmpint(seen.n_images, >=, 3);
    g_autofree char *ckpt = g_strconcat(out, ".ckpt", NULL);
    g_autofree char *csv = g_strconcat(out, ".csv", NULL);
    g_assert_true(g_file_test(ckpt, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(csv, G_FILE_TEST_EXISTS));

    /* The scene opens with its view and background, and reports its training. */
    g_autoptr(AigcScene) scene = aigc_scene_open(out, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(fabs(scene->view.distance - 3.8), <, 0.2);
    g_assert_cmpfloat(scene->background[0], ==, 1.0f);
    g_assert_cmpstr(scene->title, ==, "NeRF · smallbox");
    {
        g_autoptr(AigcSafetensors) st = aigc_safetensors_open(out, NULL);
        g_assert_nonnull(strstr(aigc_safetensors_get_metadata(st, "training"), "\"steps\": 6"));
        g_assert_cmpint(aigc_safetensors_find(st, "encoding.table")->dtype, ==, AIGC_DTYPE_F16);
    }

    /* Resumed to 9 steps: continues from step 6 (PSNRs at step 8 and at the end). */
    AigcSceneTrainParams *p2 = small_params(ds, out, 9);
    p2->resume = TRUE;
    Seen seen2 = {0};
    g_autoptr(AigcJob) job2 = aigc_scene_train_job_new(p2);
    g_assert_cmpint(run(engine, job2, &seen2), ==, AIGC_JOB_SUCCEEDED);
    r = aigc_job_get_result(job2);
    g_assert_cmpint(r->steps_done, ==, 9);
    g_assert_cmpint(seen2.n_psnr, ==, 2);

    /* Cancelled before it starts: still saves what it has (the resumed scene, step 9). */
    AigcSceneTrainParams *p3 = small_params(ds, out, 100);
    p3->resume = TRUE;
    g_autoptr(AigcJob) job3 = aigc_scene_train_job_new(p3);
    aigc_job_cancel(job3);
    aigc_engine_submit(engine, job3);
    g_assert_cmpint(aigc_job_wait(job3), ==, AIGC_JOB_CANCELLED);

    /* Not a scene, not a dataset. */
    g_assert_null(aigc_scene_open(ckpt, &error));
    g_assert_nonnull(strstr(error->message, "not a scene"));
    g_clear_error(&error);
    AigcSceneTrainParams *p4 = small_params(tmp_dir, out, 3);
    g_autoptr(AigcJob) job4 = aigc_scene_train_job_new(p4);
    g_assert_cmpint(run(engine, job4, &seen), ==, AIGC_JOB_FAILED);
    g_assert_nonnull(strstr(aigc_job_get_error(job4)->message, "transforms"));

    /* A turntable of 3 frames with depth maps, written as PNG. */
    AigcSceneRenderParams *rp = aigc_scene_render_params_new(scene);
    rp->output_dir = g_build_filename(tmp_dir, "turntable", NULL);
    rp->depth = TRUE;
    rp->preview = TRUE;
    aigc_scene_poses_orbit(&rp->poses, &scene->view, 3, 24, 16);
    Seen seen3 = {0};
    g_autoptr(AigcJob) rjob = aigc_scene_render_job_new(rp);
    g_assert_cmpint(run(engine, rjob, &seen3), ==, AIGC_JOB_SUCCEEDED);
    g_assert_cmpint(seen3.n_images, ==, 3);
    const AigcSceneRenderResult *rr = aigc_job_get_result(rjob);
    g_assert_cmpint(rr->n_views, ==, 3);
    g_assert_cmpint(rr->width, ==, 24);
    const char *files[] = {"view-0000.png", "view-0002.png", "depth-0001.png"};
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *f = g_build_filename(tmp_dir, "turntable", files[i], NULL);
        g_autoptr(AigcImage) img = aigc_png_read(f, NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpint(img->width, ==, 24);
        g_assert_cmpint(img->height, ==, 16);
    }
    /* Absurd sizes are refused. */
    AigcSceneRenderParams *bad = aigc_scene_render_params_new(scene);
    aigc_scene_poses_orbit(&bad->poses, &scene->view, 1, 100000, 16);
    g_autoptr(AigcJob) bjob = aigc_scene_render_job_new(bad);
    g_assert_cmpint(run(engine, bjob, &seen3), ==, AIGC_JOB_FAILED);
    g_assert_nonnull(strstr(aigc_job_get_error(bjob)->message, "100000"));
}

/* The positional-encoding field through the same job, files and scene calls. */
static void test_train_and_render_pe(void)
{
    g_autofree char *ds = write_small_dataset(6, 2, 20);
    g_autofree char *out = g_build_filename(tmp_dir, "small-pe.safetensors", NULL);
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    const char *sets[][2] = {
        {"model", "pe"},    {"depth", "3"},         {"width", "32"},     {"skip", "1"},
        {"colour_width", "16"}, {"pos_freqs", "6"}, {"n_coarse", "8"},   {"n_fine", "8"},
        {"rays_per_step", "64"}, {"lr", "5e-3"},    {"eval_every", "4"}, {"preview_every", "2"},
        {"checkpoint_every", "3"}};
    AigcSceneTrainParams *p = aigc_scene_train_params_new();
    p->dataset = g_strdup(ds);
    p->output = g_strdup(out);
    p->steps = 6;
    for (guint i = 0; i < G_N_ELEMENTS(sets); i++)
        g_assert_true(aigc_scene_train_params_set(p, sets[i][0], sets[i][1], NULL));
    GError *error = NULL;
    g_assert_false(aigc_scene_train_params_set(p, "model", "mlp", &error));
    g_assert_nonnull(strstr(error->message, "hashgrid or pe"));
    g_clear_error(&error);
    g_assert_false(aigc_scene_train_params_set(p, "density", "tanh", &error));
    g_clear_error(&error);
    g_assert_false(aigc_scene_train_params_set(p, "n_coarse", "1", &error));
    g_clear_error(&error);

    Seen seen = {0};
    g_autoptr(AigcJob) job = aigc_scene_train_job_new(p);
    g_assert_cmpint(run(engine, job, &seen), ==, AIGC_JOB_SUCCEEDED);
    const AigcSceneTrainResult *r = aigc_job_get_result(job);
    g_assert_cmpint(r->steps_done, ==, 6);
    g_assert_true(isfinite(r->val_psnr));
    g_assert_cmpfloat(r->val_psnr, >, 5);
    g_assert_cmpint(seen.n_psnr, ==, 2);
    g_assert_cmpint(seen.n_images, >=, 3);
    double job_psnr = r->val_psnr;

    g_autoptr(AigcScene) scene = aigc_scene_open(out, &error);
    g_assert_no_error(error);
    g_assert_nonnull(scene->pe);
    g_assert_null(scene->nerf);
    g_assert_cmpint(scene->pe->config.width, ==, 32);
    g_assert_cmpstr(scene->title, ==, "NeRF-PE · smallbox");
    g_assert_cmpfloat(fabs(scene->view.distance - 3.8), <, 0.2);
    {
        g_autoptr(AigcSafetensors) st = aigc_safetensors_open(out, NULL);
        g_assert_cmpstr(aigc_safetensors_get_metadata(st, "family"), ==, "nerf-pe");
        const char *training = aigc_safetensors_get_metadata(st, "training");
        g_assert_nonnull(strstr(training, "\"model\": \"pe\""));
        g_assert_nonnull(strstr(training, "\"steps\": 6"));
    }
    /* The scene's PSNR on the validation views is the job's (the file holds F32 weights). */
    g_autofree char *val_json = g_build_filename(ds, "transforms_val.json", NULL);
    g_autoptr(AigcTransforms) val = aigc_transforms_load(val_json, NULL, &error);
    g_assert_no_error(error);
    double mse;
    double psnr = aigc_scene_eval_psnr(scene, val, &mse);
    g_assert_cmpfloat(fabs(psnr - job_psnr), <, 1e-3);
    g_assert_cmpfloat(mse, >, 0);
    g_autofree float *rgb = g_new(float, 20 * 20 * 3);
    g_autofree float *opacity = g_new(float, 20 * 20);
    aigc_scene_render_rgb(scene, &val->camera, val->frames[1].c2w, rgb, NULL, opacity);
    for (int i = 0; i < 20 * 20 * 3; i++)
        g_assert_true(rgb[i] >= 0.0f && rgb[i] <= 1.0f);

    /* Resumed to 9 steps; the hash-grid model refuses its checkpoint, naming the model. */
    AigcSceneTrainParams *p2 = aigc_scene_train_params_new();
    p2->dataset = g_strdup(ds);
    p2->output = g_strdup(out);
    p2->steps = 9;
    p2->resume = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(sets); i++)
        g_assert_true(aigc_scene_train_params_set(p2, sets[i][0], sets[i][1], NULL));
    Seen seen2 = {0};
    g_autoptr(AigcJob) job2 = aigc_scene_train_job_new(p2);
    g_assert_cmpint(run(engine, job2, &seen2), ==, AIGC_JOB_SUCCEEDED);
    g_assert_cmpint(((const AigcSceneTrainResult *)aigc_job_get_result(job2))->steps_done, ==, 9);
    g_assert_cmpint(seen2.n_psnr, ==, 2);
    AigcSceneTrainParams *p3 = small_params(ds, out, 12);
    p3->resume = TRUE;
    g_autoptr(AigcJob) job3 = aigc_scene_train_job_new(p3);
    g_assert_cmpint(run(engine, job3, &seen2), ==, AIGC_JOB_FAILED);
    g_assert_nonnull(strstr(aigc_job_get_error(job3)->message, "model=pe"));

    /* A turntable of 2 frames with depth maps, through the render job. */
    AigcSceneRenderParams *rp = aigc_scene_render_params_new(scene);
    rp->output_dir = g_build_filename(tmp_dir, "turntable-pe", NULL);
    rp->depth = TRUE;
    aigc_scene_poses_orbit(&rp->poses, &scene->view, 2, 16, 12);
    Seen seen3 = {0};
    g_autoptr(AigcJob) rjob = aigc_scene_render_job_new(rp);
    g_assert_cmpint(run(engine, rjob, &seen3), ==, AIGC_JOB_SUCCEEDED);
    g_assert_cmpint(((const AigcSceneRenderResult *)aigc_job_get_result(rjob))->n_views, ==, 2);
    g_autofree char *depth = g_build_filename(tmp_dir, "turntable-pe", "depth-0001.png", NULL);
    g_autoptr(AigcImage) img = aigc_png_read(depth, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(img->width, ==, 16);
}

static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(path, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR))
            remove_tree(p);
        else
            g_remove(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("aigc-scene-XXXXXX", NULL);
    g_test_add_func("/scene/orbit/matrix", test_orbit_matrix);
    g_test_add_func("/scene/orbit/from-dataset", test_orbit_from_dataset);
    g_test_add_func("/scene/poses/files", test_pose_files);
    g_test_add_func("/scene/train-and-render", test_train_and_render);
    g_test_add_func("/scene/train-and-render-pe", test_train_and_render_pe);
    int status = g_test_run();
    remove_tree(tmp_dir);
    g_free(tmp_dir);
    return status;
}
