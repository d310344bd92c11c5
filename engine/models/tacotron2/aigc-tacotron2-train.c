/* SPDX-License-Identifier: MIT
 *
 * DESIGN (files and resumption): training writes OUTPUT (the usable model: weights in the chosen
 * dtype, the Tacotron 2 metadata plus "title", "training", "metrics", "command"), OUTPUT.ckpt
 * (float32 weights and running statistics, Adam's state under "optim.", the step and the elapsed
 * time: everything --resume needs), OUTPUT.csv (one line per step) and OUTPUT-align/ (alignment
 * images). Model and checkpoint are written atomically, the checkpoint first. The batches of a
 * step come from the seed, the epoch and the step alone, and the context's RNG (dropout) is
 * re-seeded from (seed, step) before each step, so a resumed run continues the same sequence.
 */
#include "aigc-tacotron2-train.h"
#include "aigc-setting.h"

#include "aigc-error.h"
#include "jobs/aigc-train-run.h"
#include "io/aigc-png.h"
#include "io/aigc-speech-corpus.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOSS_WINDOW   50
#define MAX_BAD_STEPS 20

AigcTacotron2TrainParams *aigc_tacotron2_train_params_new(void)
{
    AigcTacotron2TrainParams *p = g_new0(AigcTacotron2TrainParams, 1);
    p->model = aigc_tacotron2_default_config();
    p->loss = aigc_tacotron2_default_loss_params();
    p->batch_size = 16;
    p->steps = 40000;
    p->lr = 1e-3f;
    p->lr_min = 1e-5f;
    p->warmup = 200;
    p->decay_start = 10000;
    p->half_life = 10000;
    p->weight_decay = 1e-6f;
    p->grad_clip = 1.0f;
    p->max_frames = 1000;
    p->eval_every = 1000;
    p->checkpoint_every = 250;
    p->align_every = 250;
    p->seed = 1;
    p->save_dtype = AIGC_DTYPE_F32;
    return p;
}

void aigc_tacotron2_train_params_free(AigcTacotron2TrainParams *p)
{
    if (!p)
        return;
    g_free(p->data_dir);
    g_free(p->cache_dir);
    g_free(p->output);
    g_free(p->title);
    g_free(p->command_line);
    g_free(p);
}

gboolean aigc_tacotron2_train_params_set(AigcTacotron2TrainParams *p, const char *key,
                                         const char *value, GError **error)
{
    const gint64 big = G_GINT64_CONSTANT(1) << 40;
    gint64 i;
    struct {
        const char *name;
        gint64 *dst;
        gint64 lo;
    } longs[] = {
        {"steps", &p->steps, 1},
        {"warmup", &p->warmup, 0},
        {"decay_start", &p->decay_start, 0},
        {"half_life", &p->half_life, 1},
        {"eval_every", &p->eval_every, 0},
        {"checkpoint_every", &p->checkpoint_every, 1},
        {"align_every", &p->align_every, 0},
    };
    for (guint k = 0; k < G_N_ELEMENTS(longs); k++)
        if (!strcmp(key, longs[k].name))
            return aigc_setting_parse_int(key, value, longs[k].lo, big, longs[k].dst, error);
    struct {
        const char *name;
        float *dst;
        double lo, hi;
    } floats[] = {
        {"lr", &p->lr, 1e-7, 1.0},
        {"lr_min", &p->lr_min, 0, 1.0},
        {"weight_decay", &p->weight_decay, 0, 1.0},
        {"grad_clip", &p->grad_clip, 0, 1e6},
        {"stop_pos_weight", &p->loss.stop_pos_weight, 0, 1000},
        {"guided_weight", &p->loss.guided_weight, 0, 1000},
        {"guided_sigma", &p->loss.guided_sigma, 0.01, 10},
    };
    for (guint k = 0; k < G_N_ELEMENTS(floats); k++)
        if (!strcmp(key, floats[k].name))
            return aigc_setting_parse_float(key, value, floats[k].lo, floats[k].hi, floats[k].dst,
                                            error);
    if (!strcmp(key, "batch_size")) {
        if (!aigc_setting_parse_int(key, value, 1, 1024, &i, error))
            return FALSE;
        p->batch_size = (int)i;
    } else if (!strcmp(key, "max_frames")) {
        if (!aigc_setting_parse_int(key, value, 8, 100000, &i, error))
            return FALSE;
        p->max_frames = (int)i;
    } else if (!strcmp(key, "seed")) {
        if (!aigc_setting_parse_int(key, value, 0, G_MAXINT64, &i, error))
            return FALSE;
        p->seed = (guint64)i;
    } else if (!strcmp(key, "dtype")) {
        return aigc_train_parse_dtype(value, &p->save_dtype, error);
    } else if (!strcmp(key, "n_symbols") || !strcmp(key, "n_mels")) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s comes from the %s, it cannot be set", key,
                    key[2] == 's' ? "phoneme vocabulary" : "speech features");
        return FALSE;
    } else {
        return aigc_tacotron2_config_set(&p->model, key, value, error);
    }
    return TRUE;
}

float aigc_tacotron2_train_lr(const AigcTacotron2TrainParams *p, gint64 step)
{
    if (step < p->warmup)
        return (float)(p->lr * (double)(step + 1) / (double)p->warmup);
    if (step <= p->decay_start)
        return p->lr;
    double lr = p->lr * pow(0.5, (double)(step - p->decay_start) / (double)p->half_life);
    return (float)MAX(lr, MIN(p->lr_min, p->lr));
}

double aigc_tacotron2_focus_rate(const float *a, int n_steps, int n_symbols)
{
    if (n_steps <= 0 || n_symbols <= 0)
        return 0;
    double sum = 0;
    for (int t = 0; t < n_steps; t++) {
        float m = 0;
        for (int j = 0; j < n_symbols; j++)
            m = MAX(m, a[(gint64)t * n_symbols + j]);
        sum += m;
    }
    return sum / n_steps;
}

/* An "inferno"-like ramp: black, purple, red, orange, pale yellow. */
static void colour_of(float v, guint8 *rgb)
{
    static const float stops[5][3] = {
        {0, 0, 4}, {87, 16, 110}, {188, 55, 84}, {249, 142, 9}, {252, 255, 164}};
    v = v != v ? 0 : CLAMP(v, 0.0f, 1.0f) * 4.0f;
    int k = MIN((int)v, 3);
    float f = v - (float)k;
    for (int c = 0; c < 3; c++)
        rgb[c] = (guint8)lrintf(stops[k][c] + f * (stops[k + 1][c] - stops[k][c]));
}

guint8 *aigc_tacotron2_alignment_rgba(const float *a, int n_steps, int n_symbols, int scale,
                                      int *width, int *height)
{
    g_return_val_if_fail(n_steps > 0 && n_symbols > 0 && scale > 0, NULL);
    const int W = n_steps * scale, H = n_symbols * scale;
    guint8 *px = g_new(guint8, (gsize)W * H * 4);
    for (int y = 0; y < H; y++) {
        int j = n_symbols - 1 - y / scale; /* symbol 0 at the bottom */
        for (int x = 0; x < W; x++) {
            guint8 *p = px + ((gsize)y * W + x) * 4;
            colour_of(a[(gint64)(x / scale) * n_symbols + j], p);
            p[3] = 255;
        }
    }
    *width = W;
    *height = H;
    return px;
}

/* ---- the run ---- */

typedef struct {
    gint32 *ids, *n_ids, *n_frames;
    float *mels;
    gsize cap_ids, cap_mels;
    int cap_b;
    AigcTacotron2Batch batch;
} BatchBuf;

typedef struct {
    AigcTacotron2TrainParams *p;
    AigcJob *job;
    AigcTacotron2 *m;
    AigcOptimizer *opt;
    AigcSpeechCorpus *train, *val;
    int *usable; /* training utterances within max_frames */
    int n_usable;
    int B; /* batch size actually used (≤ n_usable) */
    gint64 step;
    double elapsed_before;
    gint64 t_start;
    gint64 plan_epoch; /* the epoch `plan` was made for (−1: none) */
    int *plan;         /* [n_batches · B] utterance indices */
    int n_batches;
    double losses[LOSS_WINDOW];
    gint64 n_losses;
    double last_val, last_focus;
    FILE *csv;
    BatchBuf bb;
    AigcCtx *ctx; /* (transfer none) the training graph's, for the last validation */
} Run;

static char *align_dir(const char *output)
{
    g_autofree char *base = g_str_has_suffix(output, ".safetensors")
                                ? g_strndup(output, strlen(output) - strlen(".safetensors"))
                                : g_strdup(output);
    return g_strconcat(base, "-align", NULL);
}

static double elapsed(Run *r)
{
    return r->elapsed_before + (g_get_monotonic_time() - r->t_start) / 1e6;
}

static double mean_loss(Run *r)
{
    gint64 n = MIN(r->n_losses, LOSS_WINDOW);
    double s = 0;
    for (gint64 i = 0; i < n; i++)
        s += r->losses[i];
    return n ? s / n : 0;
}

typedef struct {
    float key;
    int index;
} Keyed;

static int compare_keyed(const void *a, const void *b)
{
    const Keyed *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : x->index - y->index;
}

/* Buckets for an epoch: utterances sorted by length (jittered ±10 % so buckets differ between
 * epochs), cut into batches, the batches in a random order. */
static void make_plan(Run *r, gint64 epoch)
{
    AigcRng base;
    aigc_rng_init(&base, r->p->seed ^ G_GUINT64_CONSTANT(0xba7c4e5));
    AigcRng rng = aigc_rng_fork(&base, (guint64)epoch);
    Keyed *k = g_new(Keyed, r->n_usable);
    for (int i = 0; i < r->n_usable; i++) {
        const AigcSpeechUtterance *u = aigc_speech_corpus_get(r->train, r->usable[i]);
        k[i].key = u->n_frames * (0.9f + 0.2f * aigc_rng_uniform(&rng));
        k[i].index = r->usable[i];
    }
    qsort(k, r->n_usable, sizeof(Keyed), compare_keyed);
    int *order = g_new(int, r->n_batches);
    aigc_rng_permutation(&rng, order, r->n_batches);
    for (int b = 0; b < r->n_batches; b++)
        for (int i = 0; i < r->B; i++)
            r->plan[b * r->B + i] = k[order[b] * r->B + i].index;
    g_free(order);
    g_free(k);
    r->plan_epoch = epoch;
}

/* Pads utterances idx [B] of a corpus into r->bb. */
static const AigcTacotron2Batch *make_batch(Run *r, AigcSpeechCorpus *c, const int *idx, int B)
{
    const AigcTacotron2Config *cfg = aigc_tacotron2_get_config(r->m);
    const int M = cfg->n_mels, rf = cfg->r;
    int n_max = 1, f_max = 1;
    for (int i = 0; i < B; i++) {
        const AigcSpeechUtterance *u = aigc_speech_corpus_get(c, idx[i]);
        n_max = MAX(n_max, u->n_ids);
        f_max = MAX(f_max, u->n_frames);
    }
    f_max = (f_max + rf - 1) / rf * rf;
    BatchBuf *bb = &r->bb;
    gsize n_ids = (gsize)B * n_max, n_mels = (gsize)B * f_max * M;
    if (n_ids > bb->cap_ids) {
        bb->ids = g_renew(gint32, bb->ids, n_ids);
        bb->cap_ids = n_ids;
    }
    if (n_mels > bb->cap_mels) {
        bb->mels = g_renew(float, bb->mels, n_mels);
        bb->cap_mels = n_mels;
    }
    if (B > bb->cap_b) {
        bb->n_ids = g_renew(gint32, bb->n_ids, B);
        bb->n_frames = g_renew(gint32, bb->n_frames, B);
        bb->cap_b = B;
    }
    const gint32 pad = aigc_phoneme_vocab_get_pad(aigc_tacotron2_get_vocab(r->m));
    const float floor_value = logf(aigc_tacotron2_get_features(r->m)->log_floor);
    for (gsize k = 0; k < n_ids; k++)
        bb->ids[k] = pad;
    for (gsize k = 0; k < n_mels; k++)
        bb->mels[k] = floor_value;
    for (int i = 0; i < B; i++) {
        const AigcSpeechUtterance *u = aigc_speech_corpus_get(c, idx[i]);
        memcpy(bb->ids + (gsize)i * n_max, u->ids, sizeof(gint32) * u->n_ids);
        aigc_speech_corpus_get_mel(c, idx[i], bb->mels + (gsize)i * f_max * M);
        bb->n_ids[i] = u->n_ids;
        bb->n_frames[i] = u->n_frames;
    }
    bb->batch = (AigcTacotron2Batch){B, n_max, f_max, bb->ids, bb->n_ids, bb->mels, bb->n_frames};
    return &bb->batch;
}

static void make_optimizer(Run *r)
{
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    hp.weight_decay = r->p->weight_decay;
    r->opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, aigc_tacotron2_get_params(r->m));
}

static char *training_json(Run *r, gboolean final)
{
    AigcTacotron2TrainParams *p = r->p;
    g_autofree char *base = g_path_get_basename(p->data_dir);
    g_autofree char *escaped = g_strescape(base, NULL);
    return g_strdup_printf("{\"corpus\": \"%s\", \"utterances\": %d, \"steps\": %" G_GINT64_FORMAT
                           ", \"batch_size\": %d, \"lr\": %g, \"seed\": %" G_GUINT64_FORMAT
                           ", \"seconds\": %.1f, \"threads\": %d, \"finished\": %s}",
                           escaped, r->n_usable, r->step, r->B, p->lr, p->seed, elapsed(r),
                           aigc_threads_get(), final ? "true" : "false");
}

static gboolean save(gpointer run, gboolean final, GError **error)
{
    Run *r = run;
    AigcTacotron2TrainParams *p = r->p;
    g_autofree char *training = training_json(r, final);
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_autofree char *step = g_strdup_printf("%" G_GINT64_FORMAT, r->step);
        g_autofree char *secs = g_strdup_printf("%.3f", elapsed(r));
        if (!aigc_tacotron2_save(r->m, w, AIGC_DTYPE_F32, error) ||
            !aigc_optimizer_save(r->opt, w, "optim.", error))
            return FALSE;
        aigc_safetensors_writer_set_metadata(w, "train.step", step);
        aigc_safetensors_writer_set_metadata(w, "train.seconds", secs);
        aigc_safetensors_writer_set_metadata(w, "training", training);
        g_autofree char *ckpt = aigc_train_checkpoint_path(p->output);
        if (!aigc_safetensors_writer_write(w, ckpt, NULL, NULL, error))
            return FALSE;
    }
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    if (!aigc_tacotron2_save(r->m, w, p->save_dtype, error))
        return FALSE;
    aigc_safetensors_writer_set_metadata(w, "title", p->title ? p->title : "Tacotron 2");
    aigc_safetensors_writer_set_metadata(w, "training", training);
    if (p->command_line)
        aigc_safetensors_writer_set_metadata(w, "command", p->command_line);
    GString *metrics = g_string_new("{");
    g_string_append_printf(metrics, "\"train_loss\": %.4f", mean_loss(r));
    if (r->last_val >= 0)
        g_string_append_printf(metrics, ", \"val_loss\": %.4f", r->last_val);
    if (r->last_focus >= 0)
        g_string_append_printf(metrics, ", \"focus_rate\": %.3f", r->last_focus);
    g_string_append_c(metrics, '}');
    aigc_safetensors_writer_set_metadata(w, "metrics", metrics->str);
    g_string_free(metrics, TRUE);
    return aigc_safetensors_writer_write(w, p->output, NULL, NULL, error);
}

static gboolean resume(Run *r, const char *path, gboolean with_optimizer, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return FALSE;
    r->m = aigc_tacotron2_load(st, error);
    if (!r->m)
        return FALSE;
    make_optimizer(r);
    const char *step = aigc_safetensors_get_metadata(st, "train.step");
    const char *secs = aigc_safetensors_get_metadata(st, "train.seconds");
    const char *training = aigc_safetensors_get_metadata(st, "training");
    if (with_optimizer) {
        if (!step) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "%s: not a Tacotron 2 training checkpoint (no step)", path);
            return FALSE;
        }
        if (!aigc_optimizer_load(r->opt, st, "optim.", error))
            return FALSE;
        r->step = g_ascii_strtoll(step, NULL, 10);
        r->elapsed_before = secs ? g_ascii_strtod(secs, NULL) : 0;
    } else {
        /* The model file alone: weights and step count come back, Adam's moments restart. */
        const char *s = training ? strstr(training, "\"steps\": ") : NULL;
        const char *t = training ? strstr(training, "\"seconds\": ") : NULL;
        r->step = s ? g_ascii_strtoll(s + 9, NULL, 10) : 0;
        r->elapsed_before = t ? g_ascii_strtod(t + 11, NULL) : 0;
    }
    if (r->step < 0)
        r->step = 0;
    r->p->model = *aigc_tacotron2_get_config(r->m);
    return TRUE;
}

/* Teacher-forced loss on the test split (eval mode; the prenet's dropout stays on), averaged
 * over utterances. */
static gboolean validate(Run *r, AigcCtx *ctx, double *loss, GError **error)
{
    const int n = aigc_speech_corpus_get_n(r->val);
    Keyed *k = g_new(Keyed, n);
    for (int i = 0; i < n; i++)
        k[i] = (Keyed){(float)aigc_speech_corpus_get(r->val, i)->n_frames, i};
    qsort(k, n, sizeof(Keyed), compare_keyed);
    int *idx = g_new(int, r->B);
    double sum = 0;
    aigc_ctx_set_training(ctx, FALSE);
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    gboolean ok = TRUE;
    for (int start = 0; start < n; start += r->B) {
        if (aigc_job_is_cancelled(r->job)) {
            ok = FALSE;
            break;
        }
        int B = MIN(r->B, n - start);
        for (int i = 0; i < B; i++)
            idx[i] = k[start + i].index;
        aigc_ctx_reset(ctx);
        AigcRng *crng = aigc_ctx_get_rng(ctx);
        aigc_rng_init(crng, r->p->seed ^ (guint64)start);
        AigcTacotron2Output out;
        aigc_tacotron2_forward(ctx, r->m, make_batch(r, r->val, idx, B), &r->p->loss, &out);
        sum += (double)out.loss->data[0] * B;
    }
    aigc_ctx_set_training(ctx, TRUE);
    aigc_ctx_set_grad_enabled(ctx, TRUE);
    g_free(idx);
    g_free(k);
    if (!ok) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "cancelled");
        return FALSE;
    }
    *loss = sum / n;
    return TRUE;
}

/* The alignment of the batch's first utterance as a PNG and a preview; its focus rate. */
static gboolean write_alignment(Run *r, const AigcTacotron2Output *out,
                                const AigcTacotron2Batch *batch, int utterance, GError **error)
{
    const int rf = aigc_tacotron2_get_config(r->m)->r;
    const int N = (int)out->align->shape[2]; /* the first utterance's rows come first */
    const int steps = (batch->n_frames[0] + rf - 1) / rf, n = batch->n_ids[0];
    g_autofree float *a = g_new(float, (gsize)steps *n);
    for (int t = 0; t < steps; t++)
        memcpy(a + (gsize)t * n, out->align->data + (gsize)t * N, sizeof(float) * n);
    r->last_focus = aigc_tacotron2_focus_rate(a, steps, n);
    int scale = MAX(1, MIN(4, 600 / MAX(steps, n))), width, height;
    g_autofree guint8 *px = aigc_tacotron2_alignment_rgba(a, steps, n, scale, &width, &height);
    g_autofree char *label = g_strdup_printf(
        "alignment at step %" G_GINT64_FORMAT " (focus rate %.2f)", r->step, r->last_focus);
    g_autoptr(GBytes) bytes = g_bytes_new(px, (gsize)width * height * 4);
    AigcPreview *preview = aigc_preview_new(AIGC_PREVIEW_IMAGE_RGBA8, label, bytes);
    preview->width = width;
    preview->height = height;
    aigc_job_report_preview(r->job, preview);

    g_autofree char *dir = align_dir(r->p->output);
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO, "cannot make the folder %s: %s",
                    dir, g_strerror(errno));
        return FALSE;
    }
    g_autofree char *file = g_strdup_printf("step-%07" G_GINT64_FORMAT ".png", r->step);
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autoptr(AigcImage) image = aigc_image_new(width, height, 4);
    memcpy(image->data, px, (gsize)width * height * 4);
    const AigcSpeechUtterance *u = aigc_speech_corpus_get(r->train, utterance);
    g_autofree char *focus = g_strdup_printf("%.3f", r->last_focus);
    g_autofree char *step = g_strdup_printf("%" G_GINT64_FORMAT, r->step);
    const char *keys[] = {"Step", "Focus rate", "Utterance", NULL};
    const char *values[] = {step, focus, u->name, NULL};
    g_autofree char *params = aigc_png_format_parameters(u->text, keys, values);
    const char *text_keys[] = {"parameters", NULL}, *text_values[] = {params, NULL};
    return aigc_png_write(path, image, text_keys, text_values, error);
}

static void run_free(Run *r)
{
    if (r->csv)
        fclose(r->csv);
    aigc_optimizer_free(r->opt);
    aigc_tacotron2_free(r->m);
    aigc_speech_corpus_free(r->train);
    aigc_speech_corpus_free(r->val);
    g_free(r->usable);
    g_free(r->plan);
    g_free(r->bb.ids);
    g_free(r->bb.n_ids);
    g_free(r->bb.n_frames);
    g_free(r->bb.mels);
}

static gboolean load_data(Run *r, GError **error)
{
    AigcTacotron2TrainParams *p = r->p;
    g_autofree char *cache = p->cache_dir ? g_strdup(p->cache_dir)
                                          : g_build_filename(p->data_dir, "features-cache", NULL);
    AigcPhonemeVocab *vocab = aigc_tacotron2_get_vocab(r->m);
    const AigcSpeechFeatures *f = aigc_tacotron2_get_features(r->m);
    r->train = aigc_speech_corpus_load(p->data_dir, "train", f, vocab, cache, r->job, error);
    if (!r->train)
        return FALSE;
    g_autofree char *test_list = g_build_filename(p->data_dir, "test.txt", NULL);
    if (g_file_test(test_list, G_FILE_TEST_EXISTS)) {
        r->val = aigc_speech_corpus_load(p->data_dir, "test", f, vocab, cache, r->job, error);
        if (!r->val)
            return FALSE;
    }
    const int n = aigc_speech_corpus_get_n(r->train);
    r->usable = g_new(int, n);
    for (int i = 0; i < n; i++)
        if (aigc_speech_corpus_get(r->train, i)->n_frames <= p->max_frames)
            r->usable[r->n_usable++] = i;
    if (r->n_usable == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: no training utterance is at most %d frames long", p->data_dir,
                    p->max_frames);
        return FALSE;
    }
    r->B = MIN(p->batch_size, r->n_usable);
    r->n_batches = r->n_usable / r->B;
    r->plan = g_new(int, (gsize)r->n_batches * r->B);
    r->plan_epoch = -1;
    return TRUE;
}

static gboolean create_model(Run *r, GError **error)
{
    AigcTacotron2TrainParams *p = r->p;
    g_autoptr(AigcPhonemeVocab) vocab = aigc_phoneme_vocab_new_default();
    AigcSpeechFeatures f = aigc_speech_features_default();
    p->model.n_symbols = aigc_phoneme_vocab_get_size(vocab);
    p->model.n_mels = f.n_mels;
    r->m = aigc_tacotron2_new(&p->model, &f, vocab, error);
    if (!r->m)
        return FALSE;
    AigcRng init;
    aigc_rng_init(&init, p->seed ^ 0x5eed);
    aigc_tacotron2_init_weights(r->m, &init);
    make_optimizer(r);
    return TRUE;
}

/* A fresh model starts by predicting each band's mean log-mel over the corpus (the projection's
 * bias), not 0 — a loud hiss — so the first hundreds of steps are not spent moving there. */
static void init_output_bias(Run *r)
{
    const AigcTacotron2Config *c = aigc_tacotron2_get_config(r->m);
    const int M = c->n_mels;
    g_autofree double *sum = g_new0(double, M);
    gint64 n = 0;
    for (int i = 0; i < r->n_usable; i++) {
        const AigcSpeechUtterance *u = aigc_speech_corpus_get(r->train, r->usable[i]);
        g_autofree float *mel = g_new(float, (gsize)u->n_frames *M);
        aigc_speech_corpus_get_mel(r->train, r->usable[i], mel);
        for (gint64 k = 0; k < (gint64)u->n_frames * M; k++)
            sum[k % M] += mel[k];
        n += u->n_frames;
    }
    AigcTensor *bias =
        aigc_params_find(aigc_tacotron2_get_params(r->m), "decoder.linear_projection.bias");
    for (int k = 0; k < c->r * M; k++)
        bias->data[k] = (float)(sum[k % M] / (double)MAX(n, 1));
}

/* The end of a finished run: the validation loss, when there is a validation set (a failure
 * to measure it does not undo the run). */
static gboolean conclude(gpointer run, GError **error)
{
    Run *r = run;
    double val;
    if (r->val && r->p->eval_every > 0 && validate(r, r->ctx, &val, NULL))
        r->last_val = val;
    return TRUE;
}

static gboolean train(AigcJob *job, gpointer data, GError **error)
{
    AigcTacotron2TrainParams *p = data;
    Run r = {
        .p = p, .job = job, .t_start = g_get_monotonic_time(), .last_val = -1, .last_focus = -1};
    gboolean ok = FALSE, fresh = FALSE;
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    r.ctx = ctx;
    g_autofree char *ckpt = aigc_train_checkpoint_path(p->output);
    if (p->resume && g_file_test(ckpt, G_FILE_TEST_EXISTS)) {
        if (!resume(&r, ckpt, TRUE, error))
            goto out;
    } else if (p->resume && g_file_test(p->output, G_FILE_TEST_EXISTS)) {
        if (!resume(&r, p->output, FALSE, error))
            goto out;
    } else if (!create_model(&r, error)) {
        goto out;
    } else {
        fresh = TRUE;
    }
    aigc_job_report_progress(job, 0, "reading the corpus");
    if (!load_data(&r, error))
        goto out;
    if (fresh)
        init_output_bias(&r);
    r.csv = aigc_train_csv_open(p->output, p->resume,
                                "step,loss,mel,post,stop,guided,grad_norm,lr,"
                                "utterances_per_second,focus_rate,val_loss,seconds");

    AigcParams *params = aigc_tacotron2_get_params(r.m);
    AigcRng dropout_base;
    aigc_rng_init(&dropout_base, p->seed ^ G_GUINT64_CONSTANT(0xd209));
    double step_s = 0; /* running mean of seconds per step */
    int bad = 0;
    static const AigcTrainHooks hooks = {
        .save = save, .conclude = conclude, .conclude_stage = "measuring the validation loss"};
    const AigcTrainLoop loop =
        aigc_train_loop(job, &hooks, &r, r.step, p->steps, p->checkpoint_every, 0);
    while (r.step < p->steps) {
        if (aigc_job_is_cancelled(job))
            break;
        gint64 t0 = g_get_monotonic_time();
        gint64 epoch = r.step / r.n_batches;
        if (epoch != r.plan_epoch)
            make_plan(&r, epoch);
        const int *idx = r.plan + (r.step % r.n_batches) * r.B;
        const AigcTacotron2Batch *batch = make_batch(&r, r.train, idx, r.B);
        aigc_ctx_reset(ctx);
        *aigc_ctx_get_rng(ctx) = aigc_rng_fork(&dropout_base, (guint64)r.step);
        aigc_params_zero_grad(params);
        AigcTacotron2Output out;
        aigc_tacotron2_forward(ctx, r.m, batch, &p->loss, &out);
        /* The parts now: validation below reuses the context's memory. */
        const double loss = out.loss->data[0], mel_l = out.mel_loss->data[0],
                     post_l = out.post_loss->data[0], stop_l = out.stop_loss->data[0],
                     guided_l = out.guided_loss ? out.guided_loss->data[0] : 0.0;
        double norm = NAN;
        float lr = aigc_tacotron2_train_lr(p, r.step);
        if (isfinite(loss)) {
            aigc_ctx_backward(ctx, out.loss);
            norm = p->grad_clip > 0 ? aigc_clip_grad_norm(params, p->grad_clip)
                                    : aigc_clip_grad_norm(params, INFINITY);
        }
        if (isfinite(loss) && isfinite(norm)) {
            aigc_optimizer_step(r.opt, lr);
            r.losses[r.n_losses++ % LOSS_WINDOW] = loss;
            bad = 0;
        } else if (++bad >= MAX_BAD_STEPS) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "the loss or its gradient was not finite for %d steps in a row (at step "
                        "%" G_GINT64_FORMAT "); try a lower lr",
                        bad, r.step);
            goto out;
        }
        r.step++;
        double focus = -1, val = -1;
        if (p->align_every > 0 && (r.step % p->align_every == 0 || r.step == 1)) {
            if (!write_alignment(&r, &out, batch, idx[0], error))
                goto out;
            focus = r.last_focus;
        }
        if (r.val && aigc_train_due(r.step, p->eval_every, p->steps)) {
            if (!validate(&r, ctx, &val, error)) {
                if (aigc_job_is_cancelled(job)) {
                    g_clear_error(error);
                    break;
                }
                goto out;
            }
            r.last_val = val;
        }
        double secs = (g_get_monotonic_time() - t0) / 1e6;
        step_s = step_s == 0 ? secs : 0.95 * step_s + 0.05 * secs;
        if (r.csv) {
            fprintf(r.csv, "%" G_GINT64_FORMAT ",%.5f,%.5f,%.5f,%.5f,%.5f,%.4g,%.3g,%.2f,", r.step,
                    loss, mel_l, post_l, stop_l, guided_l, norm, lr, r.B / secs);
            if (focus >= 0)
                fprintf(r.csv, "%.4f", focus);
            fputc(',', r.csv);
            if (val >= 0)
                fprintf(r.csv, "%.5f", val);
            fprintf(r.csv, ",%.1f\n", elapsed(&r));
            fflush(r.csv);
        }
        g_autofree char *left = aigc_train_format_duration(step_s * (double)(p->steps - r.step));
        g_autofree char *stage = g_strdup_printf(
            "step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " · loss %.3f (mel %.3f, post %.3f, "
            "stop %.3f, attn %.3f) · %.1f utt/s · %.1f s/step · %s left",
            r.step, p->steps, mean_loss(&r), mel_l, post_l, stop_l, guided_l, r.B / step_s, step_s,
            left);
        if (!aigc_train_loop_step_done(&loop, r.step, stage, error))
            goto out;
    }
    gboolean finished;
    if (!aigc_train_loop_end(&loop, r.step, p->output, &finished, error))
        goto out;
    AigcTacotron2TrainResult *result = g_new0(AigcTacotron2TrainResult, 1);
    result->steps_done = r.step;
    result->train_loss = mean_loss(&r);
    result->val_loss = r.last_val;
    result->focus_rate = r.last_focus;
    result->seconds = elapsed(&r);
    aigc_job_set_result(job, result, g_free);
    ok = finished;
out:
    run_free(&r);
    return ok;
}

AigcJob *aigc_tacotron2_train_job_new(AigcTacotron2TrainParams *params)
{
    return aigc_job_new("train speech", train, params,
                        (GDestroyNotify)aigc_tacotron2_train_params_free);
}
