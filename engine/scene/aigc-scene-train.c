/* SPDX-License-Identifier: MIT
 *
 * DESIGN (files and resumption): OUTPUT.ckpt holds the scene in float32 with the trainer's state
 * (aigc_nerf_trainer_save, or aigc_nerf_pe_trainer_save: family "nerf-checkpoint" or
 * "nerf-pe-checkpoint") and "scene.train" metadata (training seconds so far, time to 25 dB,
 * the last validation PSNR, the command that started the run); OUTPUT is the scene to use.
 * Both are written atomically, the checkpoint first. The trainer draws every random choice
 * from its seed and step, so a resumed run continues the same sequence of batches.
 */
#include "aigc-scene-train.h"

#include "aigc-error.h"
#include "jobs/aigc-train-run.h"
#include "aigc-setting.h"
#include "io/aigc-strict-json.h"
#include "scene/aigc-orbit.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

AigcSceneTrainParams *aigc_scene_train_params_new(void)
{
    AigcSceneTrainParams *p = g_new0(AigcSceneTrainParams, 1);
    p->config = aigc_nerf_default_config();
    p->train = aigc_nerf_default_train_params();
    p->steps = 2500;
    p->eval_every = 250;
    p->preview_every = 25;
    p->checkpoint_every = 250;
    p->background[0] = p->background[1] = p->background[2] = 1.0f;
    p->save_dtype = AIGC_DTYPE_F16;
    p->model = AIGC_SCENE_MODEL_HASHGRID;
    p->pe_config = aigc_nerf_pe_default_config();
    p->pe_train = aigc_nerf_pe_default_train_params();
    p->pe_train.decay_steps = 0;
    return p;
}

void aigc_scene_train_params_free(AigcSceneTrainParams *p)
{
    if (!p)
        return;
    g_free(p->dataset);
    g_free(p->output);
    g_free(p->title);
    g_free(p->command_line);
    g_free(p);
}

gboolean aigc_scene_train_params_set(AigcSceneTrainParams *p, const char *key, const char *value,
                                     GError **error)
{
    const gint64 big = G_GINT64_CONSTANT(1) << 40;
    AigcHashgridConfig *g = &p->config.field.grid;
    gint64 i;
    struct {
        const char *key;
        int *field;
        gint64 lo, hi;
    } ints[] = {
        {"levels", &g->n_levels, 1, 32},
        {"features", &g->n_features, 1, 8},
        {"log2_table", &g->log2_table, 8, 24},
        {"base_res", &g->base_res, 2, 4096},
        {"finest_res", &g->finest_res, 2, 65536},
        {"density_hidden", &p->config.field.density_hidden, 8, 256},
        {"colour_hidden", &p->config.field.colour_hidden, 8, 256},
        {"occupancy_res", &p->config.occupancy_res, 8, 512},
        {"n_steps", &p->config.n_steps, 16, 8192},
        {"depth", &p->pe_config.depth, 1, AIGC_NERF_PE_MAX_DEPTH},
        {"width", &p->pe_config.width, 8, AIGC_NERF_PE_MAX_WIDTH},
        {"skip", &p->pe_config.skip, -1, AIGC_NERF_PE_MAX_DEPTH - 2},
        {"colour_width", &p->pe_config.colour_width, 4, AIGC_NERF_PE_MAX_WIDTH},
        {"pos_freqs", &p->pe_config.pos_freqs, 0, AIGC_NERF_PE_MAX_FREQS},
        {"dir_freqs", &p->pe_config.dir_freqs, 0, AIGC_NERF_PE_MAX_FREQS},
        {"n_coarse", &p->pe_config.n_coarse, 2, AIGC_NERF_PE_MAX_SAMPLES},
        {"n_fine", &p->pe_config.n_fine, 0, AIGC_NERF_PE_MAX_SAMPLES},
        {"rays_per_step", &p->pe_train.rays_per_step, 1, 1 << 16},
    };
    for (guint k = 0; k < G_N_ELEMENTS(ints); k++)
        if (!strcmp(key, ints[k].key)) {
            if (!aigc_setting_parse_int(key, value, ints[k].lo, ints[k].hi, &i, error))
                return FALSE;
            *ints[k].field = (int)i;
            return TRUE;
        }
    if (!strcmp(key, "steps"))
        return aigc_setting_parse_int(key, value, 1, big, &p->steps, error);
    if (!strcmp(key, "eval_every"))
        return aigc_setting_parse_int(key, value, 0, big, &p->eval_every, error);
    if (!strcmp(key, "preview_every"))
        return aigc_setting_parse_int(key, value, 0, big, &p->preview_every, error);
    if (!strcmp(key, "checkpoint_every"))
        return aigc_setting_parse_int(key, value, 1, big, &p->checkpoint_every, error);
    if (!strcmp(key, "val_views"))
        return aigc_setting_parse_int(key, value, 0, AIGC_TRANSFORMS_MAX_FRAMES, &p->val_views,
                                      error);
    if (!strcmp(key, "samples_per_step"))
        return aigc_setting_parse_int(key, value, 1024, 1 << 22, &p->train.samples_per_step,
                                      error);
    if (!strcmp(key, "seed")) {
        if (!aigc_setting_parse_int(key, value, 0, G_MAXINT64, &i, error))
            return FALSE;
        p->train.seed = p->pe_train.seed = (guint64)i;
        return TRUE;
    }
    if (!strcmp(key, "model")) {
        if (!strcmp(value, "hashgrid"))
            p->model = AIGC_SCENE_MODEL_HASHGRID;
        else if (!strcmp(value, "pe"))
            p->model = AIGC_SCENE_MODEL_PE;
        else {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "model must be hashgrid or pe, not “%s”", value);
            return FALSE;
        }
        return TRUE;
    }
    if (!strcmp(key, "density")) {
        if (!strcmp(value, "softplus"))
            p->pe_config.density = AIGC_NERF_PE_SOFTPLUS;
        else if (!strcmp(value, "relu"))
            p->pe_config.density = AIGC_NERF_PE_RELU;
        else {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "density must be softplus or relu, not “%s”", value);
            return FALSE;
        }
        return TRUE;
    }
    if (!strcmp(key, "lr"))
        return aigc_setting_parse_float(key, value, 1e-7, 1.0, &p->pe_train.lr, error);
    if (!strcmp(key, "lr_final"))
        return aigc_setting_parse_float(key, value, 1e-8, 1.0, &p->pe_train.lr_final, error);
    if (!strcmp(key, "coarse_weight"))
        return aigc_setting_parse_float(key, value, 0.0, 10.0, &p->pe_train.coarse_weight, error);
    if (!strcmp(key, "decay_steps"))
        return aigc_setting_parse_int(key, value, 0, big, &p->pe_train.decay_steps, error);
    if (!strcmp(key, "lr_grid"))
        return aigc_setting_parse_float(key, value, 1e-6, 1.0, &p->train.lr_grid, error);
    if (!strcmp(key, "lr_mlp"))
        return aigc_setting_parse_float(key, value, 1e-6, 1.0, &p->train.lr_mlp, error);
    if (!strcmp(key, "background")) {
        float v;
        if (!strcmp(value, "white"))
            v = 1.0f;
        else if (!strcmp(value, "black"))
            v = 0.0f;
        else {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "background must be white or black, not “%s”", value);
            return FALSE;
        }
        p->background[0] = p->background[1] = p->background[2] = v;
        return TRUE;
    }
    if (!strcmp(key, "dtype")) {
        if (!g_ascii_strcasecmp(value, "f32"))
            p->save_dtype = AIGC_DTYPE_F32;
        else if (!g_ascii_strcasecmp(value, "f16"))
            p->save_dtype = AIGC_DTYPE_F16;
        else {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "dtype must be f32 or f16, not “%s”", value);
            return FALSE;
        }
        return TRUE;
    }
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                "unknown setting “%s” for a radiance field", key);
    return FALSE;
}

/* ---- the run ---- */

typedef struct {
    AigcSceneTrainParams *p;
    AigcJob *job;
    AigcTransforms *train, *val;
    AigcNerf *nerf;           /* model=hashgrid */
    AigcNerfTrainer *trainer;
    AigcNerfPe *pe;           /* model=pe */
    AigcNerfPeTrainer *pe_trainer;
    AigcOrbit orbit;
    double seconds_before; /* training seconds of earlier sittings */
    double seconds;        /* training seconds of this sitting */
    double val_psnr;
    double time_to_25db;
    char *data_label;
    FILE *csv;
} Run;

static double train_seconds(Run *r)
{
    return r->seconds_before + r->seconds;
}

/* ---- the two fields behind one face ---- */

static gint64 run_get_step(Run *r)
{
    return r->pe_trainer ? aigc_nerf_pe_trainer_get_step(r->pe_trainer)
                         : aigc_nerf_trainer_get_step(r->trainer);
}

static void run_render(Run *r, const AigcPinhole *cam, const double c2w[16], float *rgb)
{
    if (r->pe)
        aigc_nerf_pe_render(r->pe, cam, c2w, r->p->background, rgb, NULL, NULL);
    else
        aigc_nerf_render(r->nerf, cam, c2w, r->p->background, rgb, NULL, NULL);
}

/* One step; returns its training MSE and ray count. */
static double run_step(Run *r, gint64 *n_rays)
{
    if (r->pe_trainer) {
        AigcNerfPeStepStats stats;
        aigc_nerf_pe_trainer_step(r->pe_trainer, r->train, &stats);
        *n_rays = stats.n_rays;
        return stats.mse;
    }
    AigcNerfStepStats stats;
    aigc_nerf_trainer_step(r->trainer, r->train, &stats);
    *n_rays = stats.n_rays;
    return stats.mse;
}

static const char *checkpoint_family(AigcSceneModel model)
{
    return model == AIGC_SCENE_MODEL_PE ? "nerf-pe-checkpoint" : "nerf-checkpoint";
}

/* A new field and its trainer for the training views' box. */
static gboolean run_create(Run *r, GError **error)
{
    AigcSceneTrainParams *p = r->p;
    if (p->model == AIGC_SCENE_MODEL_PE) {
        if (!(r->pe = aigc_nerf_pe_new(&p->pe_config, r->train->aabb_min, r->train->aabb_max,
                                       error)))
            return FALSE;
        aigc_nerf_pe_init_weights(r->pe, p->pe_train.seed);
        r->pe_trainer = aigc_nerf_pe_trainer_new(r->pe, &p->pe_train);
        return TRUE;
    }
    if (!(r->nerf = aigc_nerf_new(&p->config, r->train->aabb_min, r->train->aabb_max, error)))
        return FALSE;
    aigc_nerf_init_weights(r->nerf, p->train.seed);
    r->trainer = aigc_nerf_trainer_new(r->nerf, &p->train);
    return TRUE;
}

static gboolean load_data(Run *r, GError **error)
{
    AigcTransformsOptions opt = aigc_transforms_default_options();
    memcpy(opt.background, r->p->background, sizeof opt.background);
    g_autofree char *train_json = NULL, *val_json = NULL;
    if (g_file_test(r->p->dataset, G_FILE_TEST_IS_DIR)) {
        train_json = aigc_transforms_find_split(r->p->dataset, "train", error);
        if (!train_json)
            return FALSE;
        val_json = aigc_transforms_find_split(r->p->dataset, "val", error);
        if (!val_json)
            return FALSE;
    } else {
        train_json = g_strdup(r->p->dataset);
        val_json = g_strdup(r->p->dataset);
    }
    aigc_job_report_progress(r->job, 0, "reading the training views");
    if (!(r->train = aigc_transforms_load(train_json, &opt, error)))
        return FALSE;
    aigc_job_report_progress(r->job, 0, "reading the validation views");
    if (!(r->val = aigc_transforms_load(val_json, &opt, error)))
        return FALSE;
    if (r->train->n_frames == 0 || r->val->n_frames == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "%s: no frames to %s",
                    r->train->n_frames == 0 ? train_json : val_json,
                    r->train->n_frames == 0 ? "train on" : "validate with");
        return FALSE;
    }
    r->data_label = g_path_get_basename(r->train->dir);
    aigc_orbit_from_transforms(r->train, &r->orbit);
    return TRUE;
}

static gboolean save(Run *r, gboolean finished, GError **error)
{
    AigcSceneTrainParams *p = r->p;
    char psnr[G_ASCII_DTOSTR_BUF_SIZE], t25[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(psnr, sizeof psnr, "%.4f", isfinite(r->val_psnr) ? r->val_psnr : -1.0);
    g_ascii_formatd(t25, sizeof t25, "%.2f", r->time_to_25db);
    g_autofree char *state = g_strdup_printf(
        "{\"seconds\": %.3f, \"val_psnr\": %s, \"time_to_25db\": %s}", train_seconds(r), psnr, t25);
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        if (r->pe ? !aigc_nerf_pe_save(r->pe, w, error) ||
                        !aigc_nerf_pe_trainer_save(r->pe_trainer, w, error)
                  : !aigc_nerf_save(r->nerf, w, error) ||
                        !aigc_nerf_trainer_save(r->trainer, w, error))
            return FALSE;
        aigc_safetensors_writer_set_metadata(w, "family", checkpoint_family(p->model));
        aigc_safetensors_writer_set_metadata(w, "scene.train", state);
        if (p->command_line)
            aigc_safetensors_writer_set_metadata(w, "train.command", p->command_line);
        g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
        if (!aigc_safetensors_writer_write(w, path, NULL, NULL, error))
            return FALSE;
    }
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    if (r->pe ? !aigc_nerf_pe_save(r->pe, w, error)
              : !aigc_nerf_save_as(r->nerf, w, p->save_dtype, error))
        return FALSE;
    g_autofree char *view = aigc_orbit_to_json(&r->orbit);
    char bg[3][G_ASCII_DTOSTR_BUF_SIZE];
    for (int k = 0; k < 3; k++)
        g_ascii_formatd(bg[k], sizeof bg[k], "%g", p->background[k]);
    g_autofree char *background = g_strdup_printf("[%s, %s, %s]", bg[0], bg[1], bg[2]);
    g_autofree char *title =
        p->title ? g_strdup(p->title)
                 : g_strdup_printf(r->pe ? "NeRF-PE · %s" : "NeRF · %s", r->data_label);
    g_autofree char *training = g_strdup_printf(
        "{\"model\": \"%s\", \"dataset\": \"%s\", \"train_views\": %d, \"val_views\": %d, "
        "\"steps\": %" G_GINT64_FORMAT
        ", \"seconds\": %.1f, \"val_psnr\": %s, \"time_to_25db\": %s, \"threads\": %d, "
        "\"finished\": %s}",
        r->pe ? "pe" : "hashgrid", r->data_label, r->train->n_frames,
        p->val_views > 0 ? (int)MIN(p->val_views, r->val->n_frames) : r->val->n_frames,
        run_get_step(r), train_seconds(r), psnr, t25, aigc_threads_get(),
        finished ? "true" : "false");
    aigc_safetensors_writer_set_metadata(w, "title", title);
    aigc_safetensors_writer_set_metadata(w, "data", r->data_label);
    aigc_safetensors_writer_set_metadata(w, "nerf.view", view);
    aigc_safetensors_writer_set_metadata(w, "nerf.background", background);
    aigc_safetensors_writer_set_metadata(w, "training", training);
    if (p->command_line)
        aigc_safetensors_writer_set_metadata(w, "command", p->command_line);
    return aigc_safetensors_writer_write(w, p->output, NULL, NULL, error);
}

static double json_number(const AigcJsonValue *root, const char *key, double fallback)
{
    const AigcJsonValue *v = aigc_json_object_get(root, key);
    return v && v->type == AIGC_JSON_NUMBER && isfinite(v->number) ? v->number : fallback;
}

static gboolean resume(Run *r, GError **error)
{
    g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return FALSE;
    const char *family = aigc_safetensors_get_metadata(st, "family");
    AigcSceneModel other = r->p->model == AIGC_SCENE_MODEL_PE ? AIGC_SCENE_MODEL_HASHGRID
                                                              : AIGC_SCENE_MODEL_PE;
    if (g_strcmp0(family, checkpoint_family(other)) == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: a checkpoint of a %s field; resume it with model=%s", path,
                    other == AIGC_SCENE_MODEL_PE ? "positional-encoding" : "hash-grid",
                    other == AIGC_SCENE_MODEL_PE ? "pe" : "hashgrid");
        return FALSE;
    }
    if (g_strcmp0(family, checkpoint_family(r->p->model)) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a training checkpoint of a radiance field", path);
        return FALSE;
    }
    if (r->p->model == AIGC_SCENE_MODEL_PE) {
        if (!(r->pe = aigc_nerf_pe_load(st, error)))
            return FALSE;
        r->p->pe_config = r->pe->config;
        r->pe_trainer = aigc_nerf_pe_trainer_new(r->pe, &r->p->pe_train);
        if (!aigc_nerf_pe_trainer_load(r->pe_trainer, st, error))
            return FALSE;
    } else {
        if (!(r->nerf = aigc_nerf_load(st, error)))
            return FALSE;
        r->p->config = r->nerf->config;
        r->trainer = aigc_nerf_trainer_new(r->nerf, &r->p->train);
        if (!aigc_nerf_trainer_load(r->trainer, st, error))
            return FALSE;
    }
    const char *state = aigc_safetensors_get_metadata(st, "scene.train");
    g_autoptr(AigcJsonDoc) doc = state ? aigc_json_parse(state, strlen(state), NULL) : NULL;
    const AigcJsonValue *root = doc ? aigc_json_doc_get_root(doc) : NULL;
    r->seconds_before = MAX(json_number(root, "seconds", 0), 0);
    r->time_to_25db = json_number(root, "time_to_25db", -1);
    double psnr = json_number(root, "val_psnr", -1);
    r->val_psnr = psnr >= 0 ? psnr : NAN;
    const char *command = aigc_safetensors_get_metadata(st, "train.command");
    if (command) {
        g_free(r->p->command_line);
        r->p->command_line = g_strdup(command);
    }
    return TRUE;
}

static AigcPreview *image_preview(const float *rgb, int w, int h, const char *label)
{
    guint8 *px = g_malloc((gsize)w * h * 4);
    for (gint64 i = 0; i < (gint64)w * h; i++) {
        for (int k = 0; k < 3; k++)
            px[4 * i + k] = (guint8)lrintf(CLAMP(rgb[3 * i + k], 0.0f, 1.0f) * 255.0f);
        px[4 * i + 3] = 255;
    }
    AigcPreview *p = aigc_preview_new(AIGC_PREVIEW_IMAGE_RGBA8, label,
                                      g_bytes_new_take(px, (gsize)w * h * 4));
    p->width = w;
    p->height = h;
    return p;
}

/* A half-size render of the first validation view. */
static void send_preview(Run *r)
{
    AigcPinhole cam = r->val->camera;
    cam.width = MAX(cam.width / 2, 1);
    cam.height = MAX(cam.height / 2, 1);
    cam.fl_x *= 0.5, cam.fl_y *= 0.5, cam.cx *= 0.5, cam.cy *= 0.5;
    g_autofree float *rgb = g_new(float, (gsize)cam.width * cam.height * 3);
    run_render(r, &cam, r->val->frames[0].c2w, rgb);
    g_autofree char *label = g_strdup_printf("step %" G_GINT64_FORMAT, run_get_step(r));
    aigc_job_report_preview(r->job, image_preview(rgb, cam.width, cam.height, label));
}

/* PSNR over every validation view at full size; reports the "psnr" series and the first view. */
static void evaluate(Run *r)
{
    gint64 step = run_get_step(r);
    aigc_job_report_progress(r->job, (double)step / r->p->steps, "measuring validation PSNR");
    AigcTransforms subset = *r->val;
    if (r->p->val_views > 0)
        subset.n_frames = (int)MIN(r->p->val_views, subset.n_frames);
    r->val_psnr = r->pe ? aigc_nerf_pe_eval_psnr(r->pe, &subset, NULL)
                        : aigc_nerf_eval_psnr(r->nerf, &subset, NULL);
    if (r->val_psnr >= 25.0 && r->time_to_25db < 0)
        r->time_to_25db = train_seconds(r);
    float values[3] = {(float)step, (float)r->val_psnr, (float)train_seconds(r)};
    aigc_job_report_preview(r->job, aigc_preview_new(AIGC_PREVIEW_VALUES, "psnr",
                                                     g_bytes_new(values, sizeof values)));
    const AigcPinhole *cam = &r->val->camera;
    g_autofree float *rgb = g_new(float, (gsize)cam->width * cam->height * 3);
    run_render(r, cam, r->val->frames[0].c2w, rgb);
    g_autofree char *label = g_strdup_printf("step %" G_GINT64_FORMAT " · %.2f dB", step,
                                             r->val_psnr);
    aigc_job_report_preview(r->job, image_preview(rgb, cam->width, cam->height, label));
    if (r->csv) {
        fprintf(r->csv, "%" G_GINT64_FORMAT ",,,%.4f,%.1f\n", step, r->val_psnr, train_seconds(r));
        fflush(r->csv);
    }
}

static void run_clear(Run *r)
{
    if (r->csv)
        fclose(r->csv);
    aigc_nerf_trainer_free(r->trainer);
    aigc_nerf_free(r->nerf);
    aigc_nerf_pe_trainer_free(r->pe_trainer);
    aigc_nerf_pe_free(r->pe);
    aigc_transforms_free(r->train);
    aigc_transforms_free(r->val);
    g_free(r->data_label);
}

static gboolean train(AigcJob *job, gpointer data, GError **error)
{
    AigcSceneTrainParams *p = data;
    Run r = {.p = p, .job = job, .val_psnr = NAN, .time_to_25db = -1};
    gboolean ok = FALSE;
    g_autofree char *ckpt = aigc_train_checkpoint_path(p->output);
    if (!load_data(&r, error))
        goto out;
    if (p->pe_train.decay_steps <= 0)
        p->pe_train.decay_steps = p->steps;
    if (p->resume && g_file_test(ckpt, G_FILE_TEST_EXISTS)) {
        if (!resume(&r, error))
            goto out;
    } else if (!run_create(&r, error)) {
        goto out;
    }
    r.csv = aigc_train_csv_open(p->output, p->resume, "step,mse,rays,val_psnr,seconds");

    double mse_avg = 0;
    while (run_get_step(&r) < p->steps && !aigc_job_is_cancelled(job)) {
        gint64 t0 = g_get_monotonic_time();
        gint64 n_rays;
        double mse = run_step(&r, &n_rays);
        r.seconds += (g_get_monotonic_time() - t0) / 1e6;
        gint64 step = run_get_step(&r);
        if (!isfinite(mse)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "the loss became %g at step %" G_GINT64_FORMAT, mse, step);
            goto out;
        }
        mse_avg = mse_avg == 0 ? mse : 0.95 * mse_avg + 0.05 * mse;
        if (r.csv)
            fprintf(r.csv, "%" G_GINT64_FORMAT ",%.6f,%" G_GINT64_FORMAT ",,%.2f\n", step, mse,
                    n_rays, train_seconds(&r));
        double per_step = r.seconds / MAX(step, 1);
        gint64 left = (gint64)(per_step * (double)(p->steps - step));
        g_autofree char *val = isfinite(r.val_psnr)
                                   ? g_strdup_printf(" · validation %.2f dB", r.val_psnr)
                                   : g_strdup("");
        g_autofree char *stage = g_strdup_printf(
            "step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " · training %.1f dB%s · %" G_GINT64_FORMAT
            ":%02" G_GINT64_FORMAT " left",
            step, p->steps, -10 * log10(MAX(mse_avg, 1e-10)), val, left / 60, left % 60);
        aigc_job_report_progress(job, (double)step / p->steps, stage);
        if (p->eval_every > 0 && step % p->eval_every == 0 && step < p->steps)
            evaluate(&r);
        else if (p->preview_every > 0 && step % p->preview_every == 0)
            send_preview(&r);
        if (step % p->checkpoint_every == 0 && step < p->steps && !save(&r, FALSE, error))
            goto out;
    }
    gboolean finished = run_get_step(&r) >= p->steps;
    if (finished)
        evaluate(&r);
    aigc_job_report_progress(job, (double)run_get_step(&r) / p->steps, "saving");
    if (!save(&r, finished, error))
        goto out;
    AigcSceneTrainResult *result = g_new0(AigcSceneTrainResult, 1);
    result->steps_done = run_get_step(&r);
    result->train_seconds = train_seconds(&r);
    result->val_psnr = r.val_psnr;
    result->time_to_25db = r.time_to_25db;
    aigc_job_set_result(job, result, g_free);
    ok = finished;
out:
    run_clear(&r);
    return ok;
}

AigcJob *aigc_scene_train_job_new(AigcSceneTrainParams *params)
{
    return aigc_job_new("train scene", train, params,
                        (GDestroyNotify)aigc_scene_train_params_free);
}
