/* SPDX-License-Identifier: MIT
 *
 * DESIGN (files and resumption): training writes OUTPUT, the usable model (weights in the chosen
 * dtype, "family", "classifier.config", "title", "training", "metrics" and "command" metadata),
 * and OUTPUT.ckpt with what continuing needs: float32 weights ("model." prefix), the AdamW state
 * ("optim."), the step, the seed and the elapsed time. Both are written atomically, the
 * checkpoint first. Every random choice — the epoch's order of images, each image's flip, the
 * dropout masks of a step — is drawn from a stream forked from the seed by the epoch, the image's
 * position in the run or the step, so nothing but the step has to be saved for a resumed run to
 * end with the weights of an uninterrupted one.
 */
#include "aigc-classifier-train.h"
#include "aigc-setting.h"
#include "jobs/aigc-train-run.h"

#include "aigc-error.h"
#include "io/aigc-idx.h"
#include "optim/aigc-optim.h"
#include "optim/aigc-schedule.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Forks of the seed's stream, one per kind of random choice. */
enum { STREAM_ORDER = 1, STREAM_FLIP = 2, STREAM_DROPOUT = 3, STREAM_INIT = 4 };

AigcClassifierTrainParams *aigc_classifier_train_params_new(void)
{
    AigcClassifierTrainParams *p = g_new0(AigcClassifierTrainParams, 1);
    p->config = aigc_classifier_default_config();
    p->batch_size = 64;
    p->steps = 4000;
    p->lr = 1e-3f;
    p->lr_min = 1e-5f;
    p->warmup = 200;
    p->weight_decay = 0.05f;
    p->flip = TRUE;
    p->eval_every = 1000;
    p->checkpoint_every = 250;
    p->seed = 1;
    p->save_dtype = AIGC_DTYPE_F32;
    return p;
}

void aigc_classifier_train_params_free(AigcClassifierTrainParams *p)
{
    if (!p)
        return;
    g_free(p->data_dir);
    g_free(p->output);
    g_free(p->title);
    g_free(p->command_line);
    g_free(p);
}

gboolean aigc_classifier_train_params_set(AigcClassifierTrainParams *p, const char *key,
                                          const char *value, GError **error)
{
    const gint64 big = G_GINT64_CONSTANT(1) << 40;
    gint64 i;
    if (!strcmp(key, "batch_size")) {
        if (!aigc_setting_parse_int(key, value, 1, 4096, &i, error))
            return FALSE;
        p->batch_size = (int)i;
    } else if (!strcmp(key, "steps")) {
        return aigc_setting_parse_int(key, value, 1, big, &p->steps, error);
    } else if (!strcmp(key, "warmup")) {
        return aigc_setting_parse_int(key, value, 0, big, &p->warmup, error);
    } else if (!strcmp(key, "eval_every")) {
        return aigc_setting_parse_int(key, value, 0, big, &p->eval_every, error);
    } else if (!strcmp(key, "checkpoint_every")) {
        return aigc_setting_parse_int(key, value, 1, big, &p->checkpoint_every, error);
    } else if (!strcmp(key, "limit_train")) {
        return aigc_setting_parse_int(key, value, 0, G_MAXINT, &p->limit_train, error);
    } else if (!strcmp(key, "limit_test")) {
        return aigc_setting_parse_int(key, value, 0, G_MAXINT, &p->limit_test, error);
    } else if (!strcmp(key, "seed")) {
        if (!aigc_setting_parse_int(key, value, 0, G_MAXINT64, &i, error))
            return FALSE;
        p->seed = (guint64)i;
    } else if (!strcmp(key, "flip")) {
        if (!aigc_setting_parse_int(key, value, 0, 1, &i, error))
            return FALSE;
        p->flip = i != 0;
    } else if (!strcmp(key, "lr")) {
        return aigc_setting_parse_float(key, value, 1e-7, 1.0, &p->lr, error);
    } else if (!strcmp(key, "lr_min")) {
        return aigc_setting_parse_float(key, value, 0, 1.0, &p->lr_min, error);
    } else if (!strcmp(key, "weight_decay")) {
        return aigc_setting_parse_float(key, value, 0, 10, &p->weight_decay, error);
    } else if (!strcmp(key, "dtype")) {
        return aigc_train_parse_dtype(value, &p->save_dtype, error);
    } else {
        return aigc_classifier_config_set(&p->config, key, value, error);
    }
    return TRUE;
}

/* ---- the run ---- */

typedef struct {
    AigcClassifierTrainParams *p;
    AigcJob *job;
    AigcClassifier *clf;
    AigcOptimizer *opt;
    gint64 step;
    AigcRng rng; /* the seed's stream; forks only */
    AigcTrainClock clock;
    AigcFashionMnist train, test;
    int n_train, n_test;
    int *order;         /* (n_train) the current epoch's order of images */
    gint64 order_epoch; /* which epoch `order` holds; −1 none */
    AigcLossWindow losses;
    double test_accuracy; /* < 0 until measured */
    FILE *csv;
} Run;

static double elapsed(Run *r)
{
    return aigc_train_clock_elapsed(&r->clock);
}

static void make_optimizer(Run *r)
{
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
    hp.weight_decay = r->p->weight_decay;
    hp.decay_func = aigc_optimizer_decay_matrices;
    r->opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, &hp, aigc_classifier_get_params(r->clf));
}

/* The training image at position g of the run (epochs laid end to end). */
static int image_at(Run *r, gint64 g)
{
    gint64 epoch = g / r->n_train;
    if (epoch != r->order_epoch) {
        AigcRng order_rng = aigc_rng_fork(&r->rng, STREAM_ORDER);
        AigcRng epoch_rng = aigc_rng_fork(&order_rng, (guint64)epoch);
        aigc_rng_permutation(&epoch_rng, r->order, r->n_train);
        r->order_epoch = epoch;
    }
    return r->order[g % r->n_train];
}

/* Fills images (B, S, S) and labels (B) for the current step. */
static void make_batch(Run *r, float *images, gint32 *labels)
{
    const int B = r->p->batch_size, S = AIGC_FASHION_MNIST_SIDE;
    AigcRng flip_rng = aigc_rng_fork(&r->rng, STREAM_FLIP);
    for (int b = 0; b < B; b++) {
        const gint64 g = r->step * B + b;
        const int k = image_at(r, g);
        const float *src = r->train.images + (gint64)k * S * S;
        float *dst = images + (gint64)b * S * S;
        AigcRng one = aigc_rng_fork(&flip_rng, (guint64)g);
        if (r->p->flip && (aigc_rng_u64(&one) & 1)) {
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++)
                    dst[y * S + x] = src[y * S + (S - 1 - x)];
        } else {
            memcpy(dst, src, (gsize)S * S * sizeof(float));
        }
        labels[b] = r->train.labels[k];
    }
}

static gboolean save(gpointer run, gboolean final, GError **error)
{
    Run *r = run;
    AigcClassifierTrainParams *p = r->p;
    AigcParams *params = aigc_classifier_get_params(r->clf);
    g_autofree char *config = aigc_classifier_config_to_json(aigc_classifier_get_config(r->clf));
    /* Checkpoint first: it is what --resume needs. */
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        AigcTrainState state = {r->step, p->seed, elapsed(r), p->command_line};
        aigc_train_checkpoint_describe(w, AIGC_CLASSIFIER_FAMILY, "classifier.config", config,
                                       &state);
        if (!aigc_params_save(params, w, "model.", AIGC_DTYPE_F32, error) ||
            !aigc_optimizer_save(r->opt, w, "optim.", error))
            return FALSE;
        g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
        if (!aigc_safetensors_writer_write(w, path, NULL, NULL, error))
            return FALSE;
    }
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    if (!aigc_classifier_save(r->clf, w, p->save_dtype, error))
        return FALSE;
    aigc_safetensors_writer_set_metadata(w, "title",
                                         p->title ? p->title : "Fashion-MNIST classifier");
    aigc_safetensors_writer_set_metadata(w, "data",
                                         "Fashion-MNIST (Debian dataset-fashion-mnist; "
                                         "Expat, © 2017 Zalando SE)");
    char lr[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(lr, sizeof lr, "%g", p->lr);
    g_autofree char *training = g_strdup_printf(
        "{\"data\": \"fashion-mnist\", \"train_images\": %d, \"steps\": %" G_GINT64_FORMAT
        ", \"batch_size\": %d, \"lr\": %s, \"flip\": %s, \"seed\": %" G_GUINT64_FORMAT
        ", \"seconds\": %.1f, \"threads\": %d, \"finished\": %s}",
        r->n_train, r->step, p->batch_size, lr, p->flip ? "true" : "false", p->seed, elapsed(r),
        aigc_threads_get(), final ? "true" : "false");
    aigc_safetensors_writer_set_metadata(w, "training", training);
    if (p->command_line)
        aigc_safetensors_writer_set_metadata(w, "command", p->command_line);
    if (r->test_accuracy >= 0) {
        g_autofree char *metrics =
            g_strdup_printf("{\"test_accuracy\": %.4f, \"test_images\": %d, \"train_loss\": "
                            "%.4f}",
                            r->test_accuracy, r->n_test, aigc_loss_window_mean(&r->losses));
        aigc_safetensors_writer_set_metadata(w, "metrics", metrics);
    }
    return aigc_safetensors_writer_write(w, p->output, NULL, NULL, error);
}

static gboolean resume(Run *r, GError **error)
{
    g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    const char *config_json;
    AigcTrainState state;
    if (!st || !aigc_train_checkpoint_read(st, path, NULL, "classifier.config", "a classifier",
                                           &config_json, &state, error))
        return FALSE;
    AigcClassifierConfig config;
    if (!aigc_classifier_config_from_json(&config, config_json, error)) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    r->clf = aigc_classifier_new(&config);
    r->p->config = config;
    if (!aigc_params_load(aigc_classifier_get_params(r->clf), st, "model.", error))
        return FALSE;
    make_optimizer(r);
    if (!aigc_optimizer_load(r->opt, st, "optim.", error))
        return FALSE;
    r->step = state.step;
    r->clock.seconds_before = state.seconds;
    aigc_train_state_adopt(&state, &r->p->seed, &r->p->command_line);
    return TRUE;
}

/* Resuming from the model file alone (its checkpoint was not kept): weights and step count come
 * back; AdamW's moments start again from zero. */
static gboolean resume_from_model(Run *r, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(r->p->output, error);
    if (!st)
        return FALSE;
    const char *training = aigc_safetensors_get_metadata(st, "training");
    if (!training) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a model this trainer wrote (no training record)", r->p->output);
        return FALSE;
    }
    r->clf = aigc_classifier_load(st, error);
    if (!r->clf)
        return FALSE;
    r->p->config = *aigc_classifier_get_config(r->clf);
    const char *steps = strstr(training, "\"steps\": ");
    const char *secs = strstr(training, "\"seconds\": ");
    r->step = steps ? g_ascii_strtoll(steps + 9, NULL, 10) : 0;
    r->clock.seconds_before = secs ? g_ascii_strtod(secs + 11, NULL) : 0;
    make_optimizer(r);
    return TRUE;
}

/* Measures the test accuracy. A cancel during it is not an error: *measured stays FALSE. */
static gboolean measure(Run *r, gboolean *measured, GError **error)
{
    GError *local = NULL;
    double acc;
    *measured = FALSE;
    if (!aigc_classifier_accuracy(r->clf, r->test.images, r->test.labels, r->n_test, r->job, &acc,
                                  &local)) {
        if (g_error_matches(local, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED)) {
            g_error_free(local);
            return TRUE;
        }
        g_propagate_error(error, local);
        return FALSE;
    }
    r->test_accuracy = acc;
    *measured = TRUE;
    return TRUE;
}

/* The end of a finished run: the test accuracy. */
static gboolean conclude(gpointer run, GError **error)
{
    gboolean measured;
    return measure(run, &measured, error);
}

static void run_free(Run *r)
{
    if (r->csv)
        fclose(r->csv);
    aigc_optimizer_free(r->opt);
    aigc_classifier_free(r->clf);
    aigc_fashion_mnist_clear(&r->train);
    aigc_fashion_mnist_clear(&r->test);
    g_free(r->order);
}

static gboolean train(AigcJob *job, gpointer data, GError **error)
{
    AigcClassifierTrainParams *p = data;
    Run r = {.p = p, .job = job, .order_epoch = -1, .test_accuracy = -1};
    gboolean ok = FALSE;
    const int B = p->batch_size, S = AIGC_FASHION_MNIST_SIDE;
    g_autofree float *images = g_new(float, (gsize)B *S *S);
    g_autofree gint32 *labels = g_new(gint32, B);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    g_autofree char *ckpt = NULL;

    if (p->config.image_size != S) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "Fashion-MNIST images are %d×%d; the classifier's image_size is %d", S, S,
                    p->config.image_size);
        return FALSE;
    }
    if (p->config.n_classes != AIGC_FASHION_MNIST_N_CLASSES) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "Fashion-MNIST has %d classes; the classifier's n_classes is %d",
                    AIGC_FASHION_MNIST_N_CLASSES, p->config.n_classes);
        return FALSE;
    }
    aigc_job_report_progress(job, 0, "reading Fashion-MNIST");
    if (!aigc_fashion_mnist_load(p->data_dir, TRUE, &r.train, error) ||
        !aigc_fashion_mnist_load(p->data_dir, FALSE, &r.test, error))
        goto out;
    r.n_train = p->limit_train > 0 ? (int)MIN(p->limit_train, r.train.n) : r.train.n;
    r.n_test = p->limit_test > 0 ? (int)MIN(p->limit_test, r.test.n) : r.test.n;
    r.order = g_new(int, r.n_train);

    ckpt = aigc_train_checkpoint_path(p->output);
    if (p->resume && g_file_test(ckpt, G_FILE_TEST_EXISTS)) {
        if (!resume(&r, error))
            goto out;
    } else if (p->resume && g_file_test(p->output, G_FILE_TEST_EXISTS)) {
        if (!resume_from_model(&r, error))
            goto out;
    } else {
        if (!aigc_classifier_config_validate(&p->config, error))
            goto out;
        r.clf = aigc_classifier_new(&p->config);
        AigcRng seed_rng;
        aigc_rng_init(&seed_rng, p->seed);
        AigcRng init_rng = aigc_rng_fork(&seed_rng, STREAM_INIT);
        aigc_classifier_init_weights(r.clf, &init_rng);
        make_optimizer(&r);
    }
    aigc_rng_init(&r.rng, p->seed);
    AigcRng dropout_base = aigc_rng_fork(&r.rng, STREAM_DROPOUT);

    r.csv = aigc_train_csv_open(p->output, p->resume,
                                "step,loss,lr,images_per_second,test_accuracy,seconds");

    AigcParams *params = aigc_classifier_get_params(r.clf);
    aigc_train_clock_start(&r.clock, r.clock.seconds_before, r.step);
    static const AigcTrainHooks hooks = {
        .save = save, .conclude = conclude, .conclude_stage = "measuring test accuracy"};
    const AigcTrainLoop loop =
        aigc_train_loop(job, &hooks, &r, r.step, p->steps, p->checkpoint_every, 0);
    while (r.step < p->steps) {
        if (aigc_job_is_cancelled(job))
            break;
        make_batch(&r, images, labels);
        aigc_ctx_reset(ctx);
        *aigc_ctx_get_rng(ctx) = aigc_rng_fork(&dropout_base, (guint64)r.step);
        aigc_params_zero_grad(params);
        AigcTensor *loss = aigc_classifier_loss(ctx, r.clf, images, labels, B);
        if (!isfinite(loss->data[0])) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "the loss became %g at step %" G_GINT64_FORMAT, loss->data[0], r.step);
            goto out;
        }
        aigc_ctx_backward(ctx, loss);
        float lr = aigc_lr_warmup_cosine(r.step + 1, p->warmup, p->steps, p->lr, p->lr_min);
        aigc_optimizer_step(r.opt, lr);
        aigc_loss_window_add(&r.losses, loss->data[0]);
        r.step++;
        aigc_train_clock_tick(&r.clock, B);
        const double img_per_s = r.clock.rate;
        gboolean eval_now = p->eval_every > 0 && r.step % p->eval_every == 0 && r.step < p->steps;
        gboolean measured = FALSE;
        if (eval_now) {
            aigc_job_report_progress(job, (double)r.step / p->steps, "measuring test accuracy");
            if (!measure(&r, &measured, error))
                goto out;
        }
        if (r.csv) {
            fprintf(r.csv, "%" G_GINT64_FORMAT ",%.5f,%.3g,%.0f,", r.step, loss->data[0], lr,
                    img_per_s);
            if (measured)
                fprintf(r.csv, "%.4f", r.test_accuracy);
            fprintf(r.csv, ",%.1f\n", elapsed(&r));
            if (measured || r.step % 50 == 0)
                fflush(r.csv);
        }
        char acc[32] = "";
        if (r.test_accuracy >= 0)
            g_snprintf(acc, sizeof acc, " · test %.3f", r.test_accuracy);
        g_autofree char *stage = g_strdup_printf(
            "step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " · loss %.3f · %.0f img/s%s", r.step,
            p->steps, aigc_loss_window_mean(&r.losses), img_per_s, acc);
        if (!aigc_train_loop_step_done(&loop, r.step, stage, error))
            goto out;
    }
    gboolean finished;
    if (!aigc_train_loop_end(&loop, r.step, p->output, &finished, error))
        goto out;
    AigcClassifierTrainResult *result = g_new0(AigcClassifierTrainResult, 1);
    result->steps_done = r.step;
    result->train_loss = aigc_loss_window_mean(&r.losses);
    result->test_accuracy = r.test_accuracy;
    result->seconds = elapsed(&r);
    aigc_job_set_result(job, result, g_free);
    ok = finished;
out:
    run_free(&r);
    return ok;
}

AigcJob *aigc_classifier_train_job_new(AigcClassifierTrainParams *params)
{
    return aigc_job_new("train classifier", train, params,
                        (GDestroyNotify)aigc_classifier_train_params_free);
}
