/* SPDX-License-Identifier: MIT
 *
 * DESIGN (files and resumption): training writes OUTPUT, the usable model — the generator's
 * *averaged* weights (EMA) in the chosen dtype with batch-norm statistics recomputed for them,
 * and "family", "dcgan.config", "dcgan.classes", "title", "data", "training" and "command"
 * metadata — and OUTPUT.ckpt with what continuing needs: the live float32 weights of both
 * networks and the generator's running statistics ("model."), both Adam states ("optim_g.",
 * "optim_d."), the average ("ema."), the step, the seed, the elapsed time and the command that
 * started the run. Both are written atomically, the checkpoint first.
 * Every random choice — the epoch's order of images, each image's flip (aigc-fashion-batches.h),
 * a step's latents — is drawn from a stream forked from the seed by the epoch, the image's
 * position in the run or the step, so nothing but the step has to be saved for a resumed run to
 * end with the weights of an uninterrupted one. The statistics recomputed for the average and
 * the sample grids use fixed streams of their own, so they never disturb the training streams,
 * and grids of successive steps show the same latents growing into images.
 */
#include "aigc-dcgan-train.h"

#include "aigc-error.h"
#include "aigc-setting.h"
#include "jobs/aigc-train-run.h"
#include "io/aigc-fashion-batches.h"
#include "io/aigc-idx.h"
#include "io/aigc-png.h"
#include "models/aigc-class-names.h"
#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "optim/aigc-schedule.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Forks of the seed's stream, one per kind of random choice. */
enum { STREAM_DATA = 1, STREAM_NOISE = 3, STREAM_INIT = 5, STREAM_RECALIBRATE = 6 };
/* Batch-norm statistics for the averaged weights: batches × images. */
#define RECAL_BATCHES 16
#define RECAL_BATCH   64

AigcDcganTrainParams *aigc_dcgan_train_params_new(void)
{
    AigcDcganTrainParams *p = g_new0(AigcDcganTrainParams, 1);
    p->config = aigc_dcgan_default_config();
    p->batch_size = 64;
    p->steps = 10000;
    p->lr_g = 2e-4f;
    p->lr_d = 2e-4f;
    p->lr_final = 1.0f;
    p->beta1 = 0.5f;
    p->real_label = 1.0f;
    p->ema_decay = 0.999f;
    p->flip = FALSE;
    p->sample_every = 500;
    p->sample_columns = 8;
    p->checkpoint_every = 250;
    p->seed = 1;
    p->save_dtype = AIGC_DTYPE_F32;
    return p;
}

void aigc_dcgan_train_params_free(AigcDcganTrainParams *p)
{
    if (!p)
        return;
    g_free(p->data_dir);
    g_free(p->output);
    g_free(p->title);
    g_free(p->command_line);
    g_free(p);
}

void aigc_dcgan_train_result_free(AigcDcganTrainResult *r)
{
    if (!r)
        return;
    g_free(r->samples_path);
    g_free(r);
}

#define BIG (double)(G_GINT64_CONSTANT(1) << 40)
static const AigcSettingField train_fields[] = {
    AIGC_SETTING(AigcDcganTrainParams, "batch_size", batch_size, INT, 2, 4096),
    AIGC_SETTING(AigcDcganTrainParams, "sample_columns", sample_columns, INT, 1, 64),
    AIGC_SETTING(AigcDcganTrainParams, "steps", steps, INT64, 1, BIG),
    AIGC_SETTING(AigcDcganTrainParams, "sample_every", sample_every, INT64, 0, BIG),
    AIGC_SETTING(AigcDcganTrainParams, "checkpoint_every", checkpoint_every, INT64, 1, BIG),
    AIGC_SETTING(AigcDcganTrainParams, "limit_train", limit_train, INT64, 0, G_MAXINT),
    AIGC_SETTING(AigcDcganTrainParams, "seed", seed, SEED, 0, (double)G_MAXINT64),
    AIGC_SETTING(AigcDcganTrainParams, "flip", flip, BOOL, 0, 1),
    AIGC_SETTING(AigcDcganTrainParams, "lr_g", lr_g, FLOAT, 1e-7, 1.0),
    AIGC_SETTING(AigcDcganTrainParams, "lr_d", lr_d, FLOAT, 1e-7, 1.0),
    AIGC_SETTING(AigcDcganTrainParams, "lr_final", lr_final, FLOAT, 0, 1),
    AIGC_SETTING(AigcDcganTrainParams, "beta1", beta1, FLOAT, 0, 0.999),
    AIGC_SETTING(AigcDcganTrainParams, "real_label", real_label, FLOAT, 0.5, 1),
    AIGC_SETTING(AigcDcganTrainParams, "ema_decay", ema_decay, FLOAT, 0, 0.999999),
};
#undef BIG

gboolean aigc_dcgan_train_params_set(AigcDcganTrainParams *p, const char *key, const char *value,
                                     GError **error)
{
    gboolean found;
    if (!strcmp(key, "dtype"))
        return aigc_train_parse_dtype(value, &p->save_dtype, error);
    if (!strcmp(key, "lr")) { /* both networks' */
        if (!aigc_setting_parse_float(key, value, 1e-7, 1.0, &p->lr_g, error))
            return FALSE;
        p->lr_d = p->lr_g;
        return TRUE;
    }
    if (!aigc_setting_set_field(p, train_fields, G_N_ELEMENTS(train_fields), key, value, &found,
                                error))
        return FALSE;
    return found || aigc_dcgan_config_set(&p->config, key, value, error);
}

/* ---- the run ---- */

typedef struct {
    AigcDcganTrainParams *p;
    AigcJob *job;
    AigcDcgan *model;
    AigcOptimizer *opt_g, *opt_d;
    AigcEma *ema; /* (nullable) over the generator */
    gint64 step;
    AigcRng rng; /* the seed's stream; forks only */
    AigcTrainClock clock;
    AigcFashionBatches *data;
    AigcLossWindow losses_d, losses_g;
    char *samples_path; /* the last grid written */
    FILE *csv;
} Run;

static double elapsed(Run *r)
{
    return aigc_train_clock_elapsed(&r->clock);
}

static void make_optimizers(Run *r)
{
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    hp.beta1 = r->p->beta1;
    hp.beta2 = 0.999f;
    AigcParams *gen = aigc_dcgan_get_generator(r->model);
    r->opt_g = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, gen);
    r->opt_d = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, aigc_dcgan_get_discriminator(r->model));
    if (r->p->ema_decay > 0)
        r->ema = aigc_ema_new(gen, r->p->ema_decay, TRUE);
}

static void name_classes(AigcDcgan *model)
{
    const int K = aigc_dcgan_get_config(model)->n_classes;
    const char *names[AIGC_FASHION_MNIST_N_CLASSES];
    if (K != AIGC_FASHION_MNIST_N_CLASSES)
        return;
    for (int k = 0; k < K; k++)
        names[k] = aigc_fashion_mnist_class_name(k);
    aigc_dcgan_set_class_names(model, names);
}

static void set_requires_grad(AigcParams *params, gboolean requires)
{
    for (guint i = 0; i < aigc_params_get_n(params); i++)
    aigc_params_get(params, i)->requires_grad = requires;
}

/* Swaps the averaged generator in (with running statistics recomputed for it, the live ones
 * kept in *saved) or back out. Without an average nothing changes. */
static void use_average(Run *r, gboolean average, float **saved)
{
    if (!r->ema || aigc_ema_get_swapped(r->ema) == average)
        return;
    AigcParams *buffers = aigc_dcgan_get_buffers(r->model);
    const gsize n_bytes = (gsize)aigc_params_get_n_elements(buffers) * sizeof(float);
    aigc_ema_swap(r->ema);
    if (average) {
        *saved = g_memdup2(aigc_params_get_data(buffers), n_bytes);
        AigcRng base = aigc_rng_fork(&r->rng, STREAM_RECALIBRATE);
        aigc_dcgan_recalibrate(r->model, RECAL_BATCHES, RECAL_BATCH, &base);
    } else {
        memcpy(aigc_params_get_data(buffers), *saved, n_bytes);
        g_clear_pointer(saved, g_free);
    }
}

/* A grid of sample_columns images per class (one row each, the same latents in each row) from
 * the averaged generator. */
static gboolean write_samples(gpointer run, GError **error)
{
    Run *r = run;
    AigcDcganTrainParams *p = r->p;
    const AigcDcganConfig *c = aigc_dcgan_get_config(r->model);
    const int K = MAX(c->n_classes, 1), cols = p->sample_columns, n = K * cols;
    const int S = c->image_size;
    const gint64 P = (gint64)c->channels * S * S;
    g_autofree float *z = g_new(float, (gsize)n * c->nz);
    g_autofree float *mix = g_new0(float, (gsize)n *MAX(c->n_classes, 1));
    for (int i = 0; i < n; i++) {
        aigc_dcgan_noise(r->model, p->seed, i % cols, z + (gsize)i * c->nz);
        if (c->n_classes > 0)
            mix[(gsize)i * c->n_classes + i / cols] = 1.0f;
    }
    g_autofree float *x = g_new(float, n *P);
    float *saved = NULL;
    use_average(r, TRUE, &saved);
    gboolean ok = aigc_dcgan_sample(r->model, z, mix, n, x, NULL, error);
    use_average(r, FALSE, &saved);
    if (!ok)
        return FALSE;
    AigcImage **images = g_new0(AigcImage *, n);
    for (int i = 0; i < n; i++)
        images[i] = aigc_image_from_floats(x + i * P, c->channels, S, S, -1.0f, 1.0f);
    g_autofree char *path = aigc_train_grid_path(p->output, r->step);
    g_autofree char *base = g_path_get_basename(p->output);
    g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, p->seed);
    g_autofree char *size = g_strdup_printf("%dx%d", S, S);
    g_autofree char *step = g_strdup_printf("%" G_GINT64_FORMAT, r->step);
    const char *keys[] = {"Sampler", "Seed", "Size", "Model", "Training step", NULL};
    const char *values[] = {"DCGAN", seed, size, base, step, NULL};
    g_autofree char *params = aigc_png_format_parameters(
        c->n_classes ? "one row per class" : "unconditional samples", keys, values);
    const char *text_keys[] = {"parameters", NULL};
    const char *text_values[] = {params, NULL};
    ok = aigc_png_write_grid(path, images, n, cols, 1, text_keys, text_values, error);
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
    AigcDcganTrainParams *p = r->p;
    g_autofree char *config = aigc_dcgan_config_to_json(aigc_dcgan_get_config(r->model));
    /* Checkpoint first: it is what --resume needs. */
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        AigcTrainState state = {r->step, p->seed, elapsed(r), p->command_line};
        aigc_train_checkpoint_describe(w, AIGC_DCGAN_FAMILY, "dcgan.config", config, &state);
        if (!aigc_params_save(aigc_dcgan_get_generator(r->model), w, "model.", AIGC_DTYPE_F32,
                              error) ||
            !aigc_params_save(aigc_dcgan_get_discriminator(r->model), w, "model.", AIGC_DTYPE_F32,
                              error) ||
            !aigc_params_save(aigc_dcgan_get_buffers(r->model), w, "model.", AIGC_DTYPE_F32,
                              error) ||
            !aigc_optimizer_save(r->opt_g, w, "optim_g.", error) ||
            !aigc_optimizer_save(r->opt_d, w, "optim_d.", error) ||
            (r->ema && !aigc_ema_save(r->ema, w, "ema.", error)))
            return FALSE;
        g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
        if (!aigc_safetensors_writer_write(w, path, NULL, NULL, error))
            return FALSE;
    }
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    float *saved = NULL;
    use_average(r, TRUE, &saved); /* the writer borrows the averaged values until the write */
    gboolean ok = aigc_dcgan_save(r->model, w, p->save_dtype, error);
    if (ok) {
        aigc_safetensors_writer_set_metadata(w, "title",
                                             p->title ? p->title : "DCGAN · Fashion-MNIST");
        aigc_safetensors_writer_set_metadata(w, "data",
                                             "Fashion-MNIST (Debian dataset-fashion-mnist; "
                                             "Expat, © 2017 Zalando SE)");
        char lr_g[G_ASCII_DTOSTR_BUF_SIZE], lr_d[G_ASCII_DTOSTR_BUF_SIZE];
        char ema[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd(lr_g, sizeof lr_g, "%g", p->lr_g);
        g_ascii_formatd(lr_d, sizeof lr_d, "%g", p->lr_d);
        g_ascii_formatd(ema, sizeof ema, "%g", p->ema_decay);
        g_autofree char *training = g_strdup_printf(
            "{\"data\": \"fashion-mnist\", \"train_images\": %d, \"steps\": %" G_GINT64_FORMAT
            ", \"batch_size\": %d, \"lr_g\": %s, \"lr_d\": %s, \"ema_decay\": %s, \"flip\": %s, "
            "\"seed\": %" G_GUINT64_FORMAT ", \"seconds\": %.1f, \"threads\": %d, "
            "\"loss_d\": %.5f, \"loss_g\": %.5f, \"finished\": %s}",
            aigc_fashion_batches_get_n(r->data), r->step, p->batch_size, lr_g, lr_d, ema,
            p->flip ? "true" : "false", p->seed, elapsed(r), aigc_threads_get(),
            aigc_loss_window_mean(&r->losses_d), aigc_loss_window_mean(&r->losses_g),
            final ? "true" : "false");
        aigc_safetensors_writer_set_metadata(w, "training", training);
        if (p->command_line)
            aigc_safetensors_writer_set_metadata(w, "command", p->command_line);
        ok = aigc_safetensors_writer_write(w, p->output, NULL, NULL, error);
    }
    use_average(r, FALSE, &saved);
    return ok;
}

static gboolean resume(Run *r, GError **error)
{
    g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    const char *config_json;
    AigcTrainState state;
    if (!st || !aigc_train_checkpoint_read(st, path, AIGC_DCGAN_FAMILY, "dcgan.config", "a DCGAN",
                                           &config_json, &state, error))
        return FALSE;
    AigcDcganConfig config;
    if (!aigc_dcgan_config_from_json(&config, config_json, error)) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    r->model = aigc_dcgan_new(&config);
    r->p->config = config;
    if (!aigc_params_load(aigc_dcgan_get_generator(r->model), st, "model.", error) ||
        !aigc_params_load(aigc_dcgan_get_discriminator(r->model), st, "model.", error) ||
        !aigc_params_load(aigc_dcgan_get_buffers(r->model), st, "model.", error))
        return FALSE;
    make_optimizers(r);
    if (!aigc_optimizer_load(r->opt_g, st, "optim_g.", error) ||
        !aigc_optimizer_load(r->opt_d, st, "optim_d.", error))
        return FALSE;
    if (r->ema && aigc_safetensors_find(st, "ema.n_updates") &&
        !aigc_ema_load(r->ema, st, "ema.", error))
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
    aigc_ema_free(r->ema);
    aigc_optimizer_free(r->opt_g);
    aigc_optimizer_free(r->opt_d);
    aigc_dcgan_free(r->model);
    aigc_fashion_batches_free(r->data);
    g_free(r->samples_path);
}

static gboolean check_data(const AigcDcganConfig *c, GError **error)
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

static double mean_sigmoid(const AigcTensor *logits)
{
    double sum = 0;
    for (gint64 i = 0; i < logits->n_elements; i++)
        sum += 1.0 / (1.0 + exp(-(double)logits->data[i]));
    return sum / MAX(logits->n_elements, 1);
}

static AigcTensor *constant(AigcCtx *ctx, int B, float value)
{
    AigcTensor *t = aigc_tensor_new2(ctx, B, 1);
    aigc_tensor_fill(t, value);
    return t;
}

static gboolean train(AigcJob *job, gpointer data, GError **error)
{
    AigcDcganTrainParams *p = data;
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
        if (!aigc_dcgan_config_validate(&p->config, error) || !check_data(&p->config, error))
            goto out;
        r.model = aigc_dcgan_new(&p->config);
        AigcRng seed_rng;
        aigc_rng_init(&seed_rng, p->seed);
        AigcRng init_rng = aigc_rng_fork(&seed_rng, STREAM_INIT);
        aigc_dcgan_init_weights(r.model, &init_rng);
        make_optimizers(&r);
    }
    name_classes(r.model);
    const AigcDcganConfig *c = aigc_dcgan_get_config(r.model);
    const int K = c->n_classes;
    aigc_rng_init(&r.rng, p->seed);
    AigcRng data_rng = aigc_rng_fork(&r.rng, STREAM_DATA);
    AigcRng noise_base = aigc_rng_fork(&r.rng, STREAM_NOISE);

    aigc_job_report_progress(job, 0, "reading Fashion-MNIST");
    r.data = aigc_fashion_batches_new(p->data_dir, p->limit_train, &data_rng, error);
    if (!r.data)
        goto out;

    r.csv = aigc_train_csv_open(p->output, p->resume,
                                "step,loss_d,loss_g,d_real,d_fake,lr_g,images_per_second,seconds");

    AigcParams *gen = aigc_dcgan_get_generator(r.model);
    AigcParams *disc = aigc_dcgan_get_discriminator(r.model);
    aigc_train_clock_start(&r.clock, r.clock.seconds_before, r.step);
    static const AigcTrainHooks hooks = {
        .save = save, .sample = write_samples, .sample_stage = "drawing a sample grid"};
    const AigcTrainLoop loop =
        aigc_train_loop(job, &hooks, &r, r.step, p->steps, p->checkpoint_every, p->sample_every);
    while (r.step < p->steps) {
        if (aigc_job_is_cancelled(job))
            break;
        aigc_fashion_batches_fill(r.data, r.step, B, p->flip, -1.0f, 1.0f, images, labels);
        aigc_ctx_reset(ctx);
        AigcRng noise = aigc_rng_fork(&noise_base, (guint64)r.step);
        AigcTensor *z = aigc_tensor_new2(ctx, B, c->nz);
        aigc_rng_fill_normal(&noise, z->data, z->n_elements, 0.0f, 1.0f);
        /* the generator draws the batch's own classes, so both sides see the same mix */
        AigcTensor *mix = K > 0 ? aigc_class_one_hot(ctx, labels, B, K) : NULL;
        AigcTensor *real = aigc_tensor_wrap(ctx, 4, (gint64[]){B, 1, S, S}, images);
        AigcTensor *fake = aigc_dcgan_generate(ctx, r.model, z, mix);
        AigcTensor *fake_detached = aigc_tensor_wrap(ctx, 4, fake->shape, fake->data);

        /* the discriminator: real → real_label, generated → 0 */
        aigc_params_zero_grad(disc);
        AigcTensor *d_real = aigc_dcgan_discriminate(ctx, r.model, real, mix);
        AigcTensor *d_fake = aigc_dcgan_discriminate(ctx, r.model, fake_detached, mix);
        AigcTensor *loss_d =
            aigc_add(ctx, aigc_bce_with_logits(ctx, d_real, constant(ctx, B, p->real_label)),
                     aigc_bce_with_logits(ctx, d_fake, constant(ctx, B, 0.0f)));
        const double verdict_real = mean_sigmoid(d_real), verdict_fake = mean_sigmoid(d_fake);
        aigc_ctx_backward(ctx, loss_d);
        const double progress = p->steps > 1 ? (double)r.step / (double)(p->steps - 1) : 1.0;
        const float decay =
            (float)(p->lr_final + (1.0 - p->lr_final) * 0.5 * (1.0 + cos(G_PI * progress)));
        aigc_optimizer_step(r.opt_d, p->lr_d * decay);

        /* the generator, through the updated discriminator (whose weights need no gradient) */
        aigc_params_zero_grad(gen);
        set_requires_grad(disc, FALSE);
        AigcTensor *loss_g = aigc_bce_with_logits(
            ctx, aigc_dcgan_discriminate(ctx, r.model, fake, mix), constant(ctx, B, 1.0f));
        aigc_ctx_backward(ctx, loss_g);
        set_requires_grad(disc, TRUE);
        if (!isfinite(loss_d->data[0]) || !isfinite(loss_g->data[0])) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "the losses became %g (discriminator) and %g (generator) at step "
                        "%" G_GINT64_FORMAT,
                        loss_d->data[0], loss_g->data[0], r.step);
            goto out;
        }
        aigc_optimizer_step(r.opt_g, p->lr_g * decay);
        if (r.ema)
            aigc_ema_update(r.ema);
        aigc_loss_window_add(&r.losses_d, loss_d->data[0]);
        aigc_loss_window_add(&r.losses_g, loss_g->data[0]);
        r.step++;
        aigc_train_clock_tick(&r.clock, B);
        const double img_per_s = r.clock.rate;
        g_autofree char *left = aigc_train_clock_left(&r.clock, r.step, p->steps);
        if (r.csv) {
            fprintf(r.csv, "%" G_GINT64_FORMAT ",%.5f,%.5f,%.4f,%.4f,%.3g,%.1f,%.1f\n", r.step,
                    loss_d->data[0], loss_g->data[0], verdict_real, verdict_fake, p->lr_g * decay,
                    img_per_s, elapsed(&r));
            if (r.step % 50 == 0)
                fflush(r.csv);
        }
        g_autofree char *stage = g_strdup_printf(
            "step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " · D %.3f · G %.3f · %.1f img/s · %s "
            "left",
            r.step, p->steps, aigc_loss_window_mean(&r.losses_d),
            aigc_loss_window_mean(&r.losses_g), img_per_s, left);
        if (!aigc_train_loop_step_done(&loop, r.step, stage, error))
            goto out;
    }
    gboolean finished;
    if (!aigc_train_loop_end(&loop, r.step, p->output, &finished, error))
        goto out;
    AigcDcganTrainResult *result = g_new0(AigcDcganTrainResult, 1);
    result->steps_done = r.step;
    result->loss_d = aigc_loss_window_mean(&r.losses_d);
    result->loss_g = aigc_loss_window_mean(&r.losses_g);
    result->seconds = elapsed(&r);
    result->samples_path = g_strdup(r.samples_path);
    aigc_job_set_result(job, result, (GDestroyNotify)aigc_dcgan_train_result_free);
    ok = finished;
out:
    run_free(&r);
    return ok;
}

AigcJob *aigc_dcgan_train_job_new(AigcDcganTrainParams *params)
{
    return aigc_job_new("train dcgan", train, params, (GDestroyNotify)aigc_dcgan_train_params_free);
}
