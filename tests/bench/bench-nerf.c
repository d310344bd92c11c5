/* SPDX-License-Identifier: MIT
 *
 * NeRF speed on the sample scene (data/scene/woodbox, 100 training views of 200×200): trains a
 * fresh scene with the default config and training parameters, and measures
 *  - time_to_25db_s: wall seconds of training (evaluation excluded) until the mean PSNR over the
 *    validation views reaches 25 dB (target ≤ 300). Every --eval-every seconds of training, a
 *    quick look at 3 validation views decides whether the full validation set is rendered (when
 *    the quick figure is within 1.5 dB of 25), so the reported figure is always over all the
 *    validation views, to within one evaluation interval;
 *  - steps_per_s over the whole run, and the test-view PSNR after --steps steps;
 *  - render frames/s of the trained scene on an orbit of 36 views around the scene box, at
 *    128×128 (render_fps_128, target ≥ 10) and at 200×200.
 * The load average is printed first: a run on a busy machine says so.
 *
 * Usage: bench-nerf [--steps N] [--eval-every SECONDS] [--threads N] [--save FILE]
 *                   [--scene FILE]
 * --save writes the trained scene; --scene loads one instead of training and measures only the
 * renderer (for profiling it).
 */
#include "bench-common.h"

#include "aigc-config.h"
#include "models/nerf/aigc-nerf.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TARGET_DB    25.0
#define QUICK_VIEWS  3
#define QUICK_MARGIN 3.0 /* the first views are harder than the mean: 23.6 dB vs 25.3 once */
#define ORBIT_VIEWS  36

static double now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

/* CPU seconds of this process (all threads). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_load(const char *when)
{
    g_autofree char *text = NULL;
    if (g_file_get_contents("/proc/loadavg", &text, NULL, NULL))
        printf("load average %s: %s", when, text);
}

static AigcTransforms *load_split(const char *dir, const char *split)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *json = aigc_transforms_find_split(dir, split, &error);
    AigcTransforms *t = json ? aigc_transforms_load(json, NULL, &error) : NULL;
    if (!t) {
        fprintf(stderr, "bench-nerf: %s\n", error->message);
        exit(1);
    }
    return t;
}

/* Mean PSNR over the first n views of `data` (all when n ≥ n_frames). */
static double psnr_views(AigcNerf *nerf, AigcTransforms *data, int n)
{
    int saved = data->n_frames;
    data->n_frames = MIN(n, saved);
    double psnr = aigc_nerf_eval_psnr(nerf, data, NULL);
    data->n_frames = saved;
    return psnr;
}

/* c2w of `base` turned by `angle` radians about the axis through `centre` along unit `up`. */
static void orbit_pose(const double base[16], const double centre[3], const double up[3],
                       double angle, double out[16])
{
    double c = cos(angle), s = sin(angle), R[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double cross = 0;
            if (i != j) {
                int k = 3 - i - j;
                double sign = ((i + 1) % 3 == j) ? -1 : 1; /* [u]× entries */
                cross = sign * up[k];
            }
            R[i][j] = (i == j ? c : 0) + s * cross + (1 - c) * up[i] * up[j];
        }
    memset(out, 0, 16 * sizeof(double));
    out[15] = 1;
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++)
                out[4 * i + j] += R[i][k] * base[4 * k + j];
        out[4 * i + 3] = centre[i];
        for (int k = 0; k < 3; k++)
            out[4 * i + 3] += R[i][k] * (base[4 * k + 3] - centre[k]);
    }
}

/* Frames per second rendering an orbit of ORBIT_VIEWS views at size × size; also prints the CPU
 * time per frame (over all threads), which a busy machine inflates less than the wall time. */
static double render_fps(AigcNerf *nerf, const AigcTransforms *data, int size)
{
    AigcPinhole cam = data->camera;
    double scale = (double)size / cam.width;
    cam.width = cam.height = size;
    cam.fl_x *= scale;
    cam.fl_y *= scale;
    cam.cx *= scale;
    cam.cy *= scale;
    /* The orbit turns the first view about the box centre's vertical: the mean of the cameras'
     * up vectors. */
    double centre[3], up[3] = {0, 0, 0}, norm = 0;
    for (int a = 0; a < 3; a++)
        centre[a] = 0.5 * (data->aabb_min[a] + data->aabb_max[a]);
    for (int f = 0; f < data->n_frames; f++)
        for (int a = 0; a < 3; a++)
            up[a] += data->frames[f].c2w[4 * a + 1];
    for (int a = 0; a < 3; a++)
        norm += up[a] * up[a];
    for (int a = 0; a < 3; a++)
        up[a] /= sqrt(norm);
    float *rgb = g_new(float, 3 * size * size);
    double c2w[16];
    orbit_pose(data->frames[0].c2w, centre, up, 0, c2w);
    aigc_nerf_render(nerf, &cam, c2w, data->background, rgb, NULL, NULL); /* warm-up */
    double t0 = now_s(), c0 = cpu_s();
    for (int v = 0; v < ORBIT_VIEWS; v++) {
        orbit_pose(data->frames[0].c2w, centre, up, 2 * G_PI * v / ORBIT_VIEWS, c2w);
        aigc_nerf_render(nerf, &cam, c2w, data->background, rgb, NULL, NULL);
    }
    double fps = ORBIT_VIEWS / (now_s() - t0);
    printf("render %d×%d: %.1f ms of CPU per frame\n", size, size,
           (cpu_s() - c0) * 1e3 / ORBIT_VIEWS);
    g_free(rgb);
    return fps;
}

int main(int argc, char **argv)
{
    int n_steps = 1500, n_threads = 0;
    double eval_every = 5.0;
    const char *save = NULL, *scene = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--steps"))
            n_steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--eval-every"))
            eval_every = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            n_threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--save"))
            save = argv[i + 1];
        else if (!strcmp(argv[i], "--scene"))
            scene = argv[i + 1];
        else {
            fprintf(stderr, "usage: bench-nerf [--steps N] [--eval-every S] [--threads N] "
                            "[--save FILE] [--scene FILE]\n");
            return 2;
        }
    }
    printf("threads: %d\n", aigc_threads_init(n_threads));
    print_load("at start");
    g_autofree char *dir = g_build_filename(AIGC_SOURCE_DIR, "data", "scene", "woodbox", NULL);
    g_autoptr(AigcTransforms) train = load_split(dir, "train");
    g_autoptr(AigcTransforms) val = load_split(dir, "val");
    g_autoptr(AigcTransforms) test = load_split(dir, "test");

    g_autoptr(GError) error = NULL;
    if (scene) {
        g_autoptr(AigcSafetensors) st = aigc_safetensors_open(scene, &error);
        g_autoptr(AigcNerf) loaded = st ? aigc_nerf_load(st, &error) : NULL;
        if (!loaded) {
            fprintf(stderr, "bench-nerf: %s\n", error->message);
            return 1;
        }
        printf("test_psnr: %.2f dB (%d views)\n", aigc_nerf_eval_psnr(loaded, test, NULL),
               test->n_frames);
        printf("render_fps_200: %.2f\n", render_fps(loaded, test, 200));
        printf("render_fps_128: %.2f\n", render_fps(loaded, test, 128));
        return 0;
    }
    AigcNerfConfig config = aigc_nerf_default_config();
    g_autoptr(AigcNerf) nerf = aigc_nerf_new(&config, train->aabb_min, train->aabb_max, &error);
    g_assert_no_error(error);
    aigc_nerf_init_weights(nerf, 1);
    AigcNerfTrainParams params = aigc_nerf_default_train_params();
    g_autoptr(AigcNerfTrainer) trainer = aigc_nerf_trainer_new(nerf, &params);

    double train_s = 0, train_cpu_s = 0, next_eval = eval_every, time_to_target = -1, eval_s = 0;
    gint64 samples = 0, used = 0, rays = 0;
    for (int step = 0; step < n_steps; step++) {
        double t0 = now_s(), c0 = cpu_s();
        AigcNerfStepStats st;
        aigc_nerf_trainer_step(trainer, train, &st);
        train_s += now_s() - t0;
        train_cpu_s += cpu_s() - c0;
        samples += st.n_samples;
        used += st.n_used;
        rays += st.n_rays;
        if ((step + 1) % 100 == 0)
            printf("step %d: %.1f s, loss %.5f (%.2f dB on the step's rays), %" G_GINT64_FORMAT
                   " rays, %" G_GINT64_FORMAT " samples (%" G_GINT64_FORMAT
                   " used), occupied %.3f\n",
                   step + 1, train_s, st.mse, -10 * log10(st.mse), st.n_rays, st.n_samples,
                   st.n_used, st.occupied);
        if (time_to_target < 0 && train_s >= next_eval) {
            double e0 = now_s();
            double quick = psnr_views(nerf, val, QUICK_VIEWS), full = -1;
            if (quick >= TARGET_DB - QUICK_MARGIN)
                full = psnr_views(nerf, val, val->n_frames);
            eval_s += now_s() - e0;
            printf("eval at %.1f s (step %d): val PSNR %.2f dB on %d views", train_s, step + 1,
                   quick, QUICK_VIEWS);
            if (full >= 0)
                printf(", %.2f dB on all %d", full, val->n_frames);
            printf(" (evaluation %.1f s)\n", now_s() - e0);
            if (full >= TARGET_DB)
                time_to_target = train_s;
            next_eval = train_s + eval_every;
        }
        fflush(stdout);
    }
    printf("trained %d steps in %.1f s of training (%.1f s of evaluation besides)\n", n_steps,
           train_s, eval_s);
    printf("per step: %.0f rays, %.0f samples marched, %.0f used\n", (double)rays / n_steps,
           (double)samples / n_steps, (double)used / n_steps);
    printf("training: %.1f ms of CPU per step\n", train_cpu_s * 1e3 / n_steps);
    printf("steps_per_s: %.2f\n", n_steps / train_s);
    double t0 = now_s();
    double val_psnr = aigc_nerf_eval_psnr(nerf, val, NULL);
    double test_psnr = aigc_nerf_eval_psnr(nerf, test, NULL);
    printf("val_psnr: %.2f dB (%d views)\n", val_psnr, val->n_frames);
    printf("test_psnr: %.2f dB (%d views; %.1f s for val and test)\n", test_psnr, test->n_frames,
           now_s() - t0);
    if (save) {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        if (!aigc_nerf_save(nerf, w, &error) ||
            !aigc_safetensors_writer_write(w, save, NULL, NULL, &error))
            fprintf(stderr, "bench-nerf: %s\n", error->message);
    }
    printf("render_fps_200: %.2f\n", render_fps(nerf, test, 200));
    print_load("at end");
    printf("render_fps_128: %.2f\n", render_fps(nerf, test, 128));
    if (time_to_target >= 0)
        printf("time_to_25db_s: %.1f\n", time_to_target);
    else if (eval_every < train_s)
        printf("time_to_25db_s: not reached in %.1f s (%d steps)\n", train_s, n_steps);
    else
        printf("time_to_25db_s: not measured (no evaluation within %.1f s)\n", train_s);
    return 0;
}
