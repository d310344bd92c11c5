/* SPDX-License-Identifier: MIT
 *
 * DESIGN (files and resumption): training writes OUTPUT, the usable model — the weights in the
 * chosen dtype with "family", "vae.config", "vae.classes", "title", "data", "training" and
 * "command" metadata — and OUTPUT.ckpt with what continuing needs: the float32 weights
 * ("model."), the Adam state ("optim."), the step, the seed, the elapsed time and the command
 * that started the run. Both are written atomically, the checkpoint first.
 * Every random choice — the epoch's order of images, each image's flip (aigc-fashion-batches.h),
 * a step's ε — is drawn from a stream forked from the seed by the epoch, the image's position in
 * the run or the step, so nothing but the step has to be saved for a resumed run to end with
 * the weights of an uninterrupted one. Sample grids decode fixed latents, so grids of
 * successive steps show the same latents growing into images.
 */
#include "aigc-vae-train.h"

#include "aigc-error.h"
#include "aigc-setting.h"
#include "jobs/aigc-train-run.h"
#include "io/aigc-fashion-batches.h"
#include "io/aigc-idx.h"
#include "io/aigc-png.h"
#include "optim/aigc-optim.h"
#include "optim/aigc-schedule.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Forks of the seed's stream, one per kind of random choice. */
enum { STREAM_DATA = 1, STREAM_NOISE = 3, STREAM_INIT = 5 };

AigcVaeTrainParams *aigc_vae_train_params_new(void)
{
    AigcVaeTrainParams *p = g_new0(AigcVaeTrainParams, 1);
    p->config = aigc_vae_default_config();
    p->batch_size = 64;
    p->steps = 20000;
    p->lr = 1e-3f;
    p->lr_min = 1e-5f;
    p->warmup = 200;
    p->beta = 1.0f;
    p->kl_warmup = 0;
    p->grad_clip = 0.0f;
    p->flip = FALSE;
    p->sample_every = 1000;
    p->sample_columns = 8;
    p->checkpoint_every = 500;
    p->seed = 1;
    p->save_dtype = AIGC_DTYPE_F32;
    return p;
}

void aigc_vae_train_params_free(AigcVaeTrainParams *p)
{
    if (!p)
        return;
    g_free(p->data_dir);
    g_free(p->output);
    g_free(p->title);
    g_free(p->command_line);
    g_free(p);
}

void aigc_vae_train_result_free(AigcVaeTrainResult *r)
{
    if (!r)
        return;
    g_free(r->samples_path);
    g_free(r);
}

#define BIG (double)(G_GINT64_CONSTANT(1) << 40)
static const AigcSettingField train_fields[] = {
    AIGC_SETTING(AigcVaeTrainParams, "batch_size", batch_size, INT, 1, 4096),
    AIGC_SETTING(AigcVaeTrainParams, "sample_columns", sample_columns, INT, 1, 64),
    AIGC_SETTING(AigcVaeTrainParams, "steps", steps, INT64, 1, BIG),
    AIGC_SETTING(AigcVaeTrainParams, "warmup", warmup, INT64, 0, BIG),
    AIGC_SETTING(AigcVaeTrainParams, "kl_warmup", kl_warmup, INT64, 0, BIG),
    AIGC_SETTING(AigcVaeTrainParams, "sample_every", sample_every, INT64, 0, BIG),
    AIGC_SETTING(AigcVaeTrainParams, "checkpoint_every", checkpoint_every, INT64, 1, BIG),
    AIGC_SETTING(AigcVaeTrainParams, "limit_train", limit_train, INT64, 0, G_MAXINT),
    AIGC_SETTING(AigcVaeTrainParams, "seed", seed, SEED, 0, (double)G_MAXINT64),
    AIGC_SETTING(AigcVaeTrainParams, "flip", flip, BOOL, 0, 1),
    AIGC_SETTING(AigcVaeTrainParams, "lr", lr, FLOAT, 1e-7, 1.0),
    AIGC_SETTING(AigcVaeTrainParams, "lr_min", lr_min, FLOAT, 0, 1.0),
    AIGC_SETTING(AigcVaeTrainParams, "beta", beta, FLOAT, 0, 100),
    AIGC_SETTING(AigcVaeTrainParams, "grad_clip", grad_clip, FLOAT, 0, 1e6),
};
#undef BIG

gboolean aigc_vae_train_params_set(AigcVaeTrainParams *p, const char *key, const char *value,
                                   GError **error)
{
    gboolean found;
    if (!strcmp(key, "dtype"))
        return aigc_train_parse_dtype(value, &p->save_dtype, error);
    if (!aigc_setting_set_field(p, train_fields, G_N_ELEMENTS(train_fields), key, value, &found,
                                error))
        return FALSE;
    return found || aigc_vae_config_set(&p->config, key, value, error);
}

/* ---- the run ---- */

typedef struct {
    AigcVaeTrainParams *p;
    AigcJob *job;
    AigcVae *model;
    AigcOptimizer *opt;
    gint64 step;
    AigcRng rng; /* the seed's stream; forks only */
    AigcTrainClock clock;
    AigcFashionBatches *data;
    AigcLossWindow losses, recons, kls;
    char *samples_path; /* the last grid written */
    FILE *csv;
} Run;

static double elapsed(Run *r)
{
    return aigc_train_clock_elapsed(&r->clock);
}

static void make_optimizer(Run *r)
{
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    r->opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, aigc_vae_get_params(r->model));
}

static void name_classes(AigcVae *model)
{
    const int K = aigc_vae_get_config(model)->n_classes;
    const char *names[AIGC_FASHION_MNIST_N_CLASSES];
    if (K != AIGC_FASHION_MNIST_N_CLASSES)
        return;
    for (int k = 0; k < K; k++)
        names[k] = aigc_fashion_mnist_class_name(k);
    aigc_vae_set_class_names(model, names);
}

/* A grid of sample_columns images per class (one row each, the same noise in each row, through
 * each class's prior). */
static gboolean write_samples(gpointer run, GError **error)
{
    Run *r = run;
    AigcVaeTrainParams *p = r->p;
    const AigcVaeConfig *c = aigc_vae_get_config(r->model);
    const int K = MAX(c->n_classes, 1), cols = p->sample_columns, n = K * cols;
    const int S = c->image_size;
    const gint64 P = (gint64)c->channels * S * S;
    g_autofree float *eps = g_new(float, (gsize)n * c->latent);
    g_autofree float *z = g_new(float, (gsize)n * c->latent);
    g_autofree float *mix = g_new0(float, (gsize)n *MAX(c->n_classes, 1));
    for (int i = 0; i < n; i++) {
        aigc_vae_noise(r->model, p->seed, i % cols, eps + (gsize)i * c->latent);
        if (c->n_classes > 0)
            mix[(gsize)i * c->n_classes + i / cols] = 1.0f;
    }
    aigc_vae_prior_latents(r->model, eps, c->n_classes > 0 ? mix : NULL, n, z);
    g_autofree float *x = g_new(float, n *P);
    if (!aigc_vae_decode_images(r->model, z, mix, n, x, NULL, error))
        return FALSE;
    AigcImage **images = g_new0(AigcImage *, n);
    for (int i = 0; i < n; i++)
        images[i] = aigc_image_from_floats(x + i * P, c->channels, S, S, 0.0f, 1.0f);
    g_autofree char *path = aigc_train_grid_path(p->output, r->step);
    g_autofree char *base = g_path_get_basename(p->output);
    g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, p->seed);
    g_autofree char *size = g_strdup_printf("%dx%d", S, S);
    g_autofree char *step = g_strdup_printf("%" G_GINT64_FORMAT, r->step);
    const char *keys[] = {"Sampler", "Seed", "Size", "Model", "Training step", NULL};
    const char *values[] = {"VAE prior", seed, size, base, step, NULL};
    g_autofree char *params = aigc_png_format_parameters(
        c->n_classes ? "one row per class" : "unconditional samples", keys, values);
    const char *text_keys[] = {"parameters", NULL};
    const char *text_values[] = {params, NULL};
    gboolean ok = aigc_png_write_grid(path, images, n, cols, 1, text_keys, text_values, error);
    for (int i = 0; i < n; i++)
        aigc_image_free(images[i]);
    g_free(images);
    if (ok) {
        g_free(r->samples_path);
        r->samples_path = g_steal_pointer(&path);
    }
    return ok;
}

static gboolean save(gpointer run, gboolean final, GError **error)
{
    Run *r = run;
    AigcVaeTrainParams *p = r->p;
    AigcParams *params = aigc_vae_get_params(r->model);
    g_autofree char *config = aigc_vae_config_to_json(aigc_vae_get_config(r->model));
    /* Checkpoint first: it is what --resume needs. */
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        AigcTrainState state = {r->step, p->seed, elapsed(r), p->command_line};
        aigc_train_checkpoint_describe(w, AIGC_VAE_FAMILY, "vae.config", config, &state);
        if (!aigc_params_save(params, w, "model.", AIGC_DTYPE_F32, error) ||
            !aigc_optimizer_save(r->opt, w, "optim.", error))
            return FALSE;
        g_autofree char *path = aigc_train_checkpoint_path(p->output);
        if (!aigc_safetensors_writer_write(w, path, NULL, NULL, error))
            return FALSE;
    }
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    if (!aigc_vae_save(r->model, w, p->save_dtype, error))
        return FALSE;
    aigc_safetensors_writer_set_metadata(w, "title", p->title ? p->title : "VAE · Fashion-MNIST");
    aigc_safetensors_writer_set_metadata(w, "data",
                                         "Fashion-MNIST (Debian dataset-fashion-mnist; "
                                         "Expat, © 2017 Zalando SE)");
    char lr[G_ASCII_DTOSTR_BUF_SIZE], beta[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(lr, sizeof lr, "%g", p->lr);
    g_ascii_formatd(beta, sizeof beta, "%g", p->beta);
    g_autofree char *training = g_strdup_printf(
        "{\"data\": \"fashion-mnist\", \"train_images\": %d, \"steps\": %" G_GINT64_FORMAT
        ", \"batch_size\": %d, \"lr\": %s, \"beta\": %s, \"flip\": %s, \"seed\": "
        "%" G_GUINT64_FORMAT ", \"seconds\": %.1f, \"threads\": %d, \"train_loss\": %.3f, "
        "\"recon\": %.3f, \"kl\": %.3f, \"finished\": %s}",
        aigc_fashion_batches_get_n(r->data), r->step, p->batch_size, lr, beta,
        p->flip ? "true" : "false", p->seed, elapsed(r), aigc_threads_get(),
        aigc_loss_window_mean(&r->losses), aigc_loss_window_mean(&r->recons),
        aigc_loss_window_mean(&r->kls), final ? "true" : "false");
    aigc_safetensors_writer_set_metadata(w, "training", training);
    if (p->command_line)
        aigc_safetensors_writer_set_metadata(w, "command", p->command_line);
    return aigc_safetensors_writer_write(w, p->output, NULL, NULL, error);
}

static gboolean resume(Run *r, GError **error)
{
    g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    const char *config_json;
    AigcTrainState state;
    if (!st || !aigc_train_checkpoint_read(st, path, AIGC_VAE_FAMILY, "vae.config", "a VAE",
                                           &config_json, &state, error))
        return FALSE;
    AigcVaeConfig config;
    if (!aigc_vae_config_from_json(&config, config_json, error)) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    r->model = aigc_vae_new(&config);
    r->p->config = config;
    if (!aigc_params_load(aigc_vae_get_params(r->model), st, "model.", error))
        return FALSE;
    make_optimizer(r);
    if (!aigc_optimizer_load(r->opt, st, "optim.", error))
        return FALSE;
    r->step = state.step;
    r->clock.seconds_before = state.seconds;
    aigc_train_state_adopt(&state, &r->p->seed, &r->p->command_line);
    return TRUE;
}

static void run_free(Run *r)
{
    if (r->csv)
        fclose(r->csv);
    aigc_optimizer_free(r->opt);
    aigc_vae_free(r->model);
    aigc_fashion_batches_free(r->data);
    g_free(r->samples_path);
}

static gboolean check_data(const AigcVaeConfig *c, GError **error)
{
    const char *fault = NULL;
    if (c->image_size != AIGC_FASHION_MNIST_SIDE)
        fault = "Fashion-MNIST images are 28×28: image_size must be 28";
    else if (c->channels != 1)
        fault = "Fashion-MNIST images are gray: channels must be 1";
    else if (c->n_classes != 0 && c->n_classes != AIGC_FASHION_MNIST_N_CLASSES)
        fault = "Fashion-MNIST has 10 classes: n_classes must be 10 (or 0, unconditional)";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "%s", fault);
        return FALSE;
    }
    return TRUE;
}

static gboolean train(AigcJob *job, gpointer data, GError **error)
{
    AigcVaeTrainParams *p = data;
    Run r = {.p = p, .job = job};
    gboolean ok = FALSE;
    const int B = p->batch_size, S = AIGC_FASHION_MNIST_SIDE;
    g_autofree float *images = g_new(float, (gsize)B *S *S);
    g_autofree gint32 *labels = g_new(gint32, B);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    g_autofree char *ckpt = aigc_train_checkpoint_path(p->output);

    if (p->resume && g_file_test(ckpt, G_FILE_TEST_EXISTS)) {
        if (!resume(&r, error) || !check_data(&p->config, error))
            goto out;
    } else {
        if (!aigc_vae_config_validate(&p->config, error) || !check_data(&p->config, error))
            goto out;
        r.model = aigc_vae_new(&p->config);
        AigcRng seed_rng;
        aigc_rng_init(&seed_rng, p->seed);
        AigcRng init_rng = aigc_rng_fork(&seed_rng, STREAM_INIT);
        aigc_vae_init_weights(r.model, &init_rng);
        make_optimizer(&r);
    }
    name_classes(r.model);
    const gboolean conditional = aigc_vae_get_config(r.model)->n_classes > 0;
    aigc_rng_init(&r.rng, p->seed);
    AigcRng data_rng = aigc_rng_fork(&r.rng, STREAM_DATA);
    AigcRng noise_base = aigc_rng_fork(&r.rng, STREAM_NOISE);

    aigc_job_report_progress(job, 0, "reading Fashion-MNIST");
    r.data = aigc_fashion_batches_new(p->data_dir, p->limit_train, &data_rng, error);
    if (!r.data)
        goto out;

    r.csv = aigc_train_csv_open(p->output, p->resume,
                                "step,loss,recon,kl,grad_norm,lr,images_per_second,seconds");

    AigcParams *params = aigc_vae_get_params(r.model);
    aigc_train_clock_start(&r.clock, r.clock.seconds_before, r.step);
    static const AigcTrainHooks hooks = {
        .save = save, .sample = write_samples, .sample_stage = "drawing a sample grid"};
    const AigcTrainLoop loop =
        aigc_train_loop(job, &hooks, &r, r.step, p->steps, p->checkpoint_every, p->sample_every);
    while (r.step < p->steps) {
        if (aigc_job_is_cancelled(job))
            break;
        aigc_fashion_batches_fill(r.data, r.step, B, p->flip, 0.0f, 1.0f, images, labels);
        aigc_ctx_reset(ctx);
        AigcRng noise = aigc_rng_fork(&noise_base, (guint64)r.step);
        const float beta = p->kl_warmup > 0
                               ? p->beta * (float)MIN(1.0, (double)(r.step + 1) / p->kl_warmup)
                               : p->beta;
        AigcVaeLossTerms terms;
        aigc_params_zero_grad(params);
        AigcTensor *loss = aigc_vae_loss(ctx, r.model, images, conditional ? labels : NULL, B, beta,
                                         &noise, &terms);
        if (!isfinite(loss->data[0])) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "the loss became %g at step %" G_GINT64_FORMAT, loss->data[0], r.step);
            goto out;
        }
        aigc_ctx_backward(ctx, loss);
        double norm = p->grad_clip > 0 ? aigc_clip_grad_norm(params, p->grad_clip) : 0.0;
        if (!isfinite(norm)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "the gradient became %g at step %" G_GINT64_FORMAT, norm, r.step);
            goto out;
        }
        float lr = aigc_lr_warmup_cosine(r.step + 1, p->warmup, p->steps, p->lr, p->lr_min);
        aigc_optimizer_step(r.opt, lr);
        aigc_loss_window_add(&r.losses, terms.recon + terms.kl); /* the bound, whatever β is */
        aigc_loss_window_add(&r.recons, terms.recon);
        aigc_loss_window_add(&r.kls, terms.kl);
        r.step++;
        aigc_train_clock_tick(&r.clock, B);
        const double img_per_s = r.clock.rate;
        g_autofree char *left = aigc_train_clock_left(&r.clock, r.step, p->steps);
        if (r.csv) {
            fprintf(r.csv, "%" G_GINT64_FORMAT ",%.3f,%.3f,%.3f,%.4f,%.3g,%.1f,%.1f\n", r.step,
                    terms.recon + terms.kl, terms.recon, terms.kl, norm, lr, img_per_s,
                    elapsed(&r));
            if (r.step % 50 == 0)
                fflush(r.csv);
        }
        g_autofree char *stage = g_strdup_printf(
            "step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
            " · loss %.2f (recon %.2f, KL %.2f) · %.1f img/s · %s left",
            r.step, p->steps, aigc_loss_window_mean(&r.losses), aigc_loss_window_mean(&r.recons),
            aigc_loss_window_mean(&r.kls), img_per_s, left);
        if (!aigc_train_loop_step_done(&loop, r.step, stage, error))
            goto out;
    }
    gboolean finished;
    if (!aigc_train_loop_end(&loop, r.step, p->output, &finished, error))
        goto out;
    AigcVaeTrainResult *result = g_new0(AigcVaeTrainResult, 1);
    result->steps_done = r.step;
    result->loss = aigc_loss_window_mean(&r.losses);
    result->recon = aigc_loss_window_mean(&r.recons);
    result->kl = aigc_loss_window_mean(&r.kls);
    result->seconds = elapsed(&r);
    result->samples_path = g_strdup(r.samples_path);
    aigc_job_set_result(job, result, (GDestroyNotify)aigc_vae_train_result_free);
    ok = finished;
out:
    run_free(&r);
    return ok;
}

AigcJob *aigc_vae_train_job_new(AigcVaeTrainParams *params)
{
    return aigc_job_new("train vae", train, params, (GDestroyNotify)aigc_vae_train_params_free);
}
