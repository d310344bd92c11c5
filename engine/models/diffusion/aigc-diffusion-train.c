/* SPDX-License-Identifier: MIT
 *
 * DESIGN (files and resumption): training writes OUTPUT, the usable model — the *averaged*
 * weights (EMA) in the chosen dtype with "family", "diffusion.config", "diffusion.classes",
 * "title", "data", "training" and "command" metadata — and OUTPUT.ckpt with what continuing
 * needs: the live float32 weights ("model."), the AdamW state ("optim."), the average ("ema."),
 * the step, the seed, the elapsed time and the command that started the run (which the model
 * keeps through resumptions). Both are written atomically, the checkpoint first.
 * Every random choice — the epoch's order of images, each image's flip, a step's timesteps,
 * noise and class drops, its dropout masks — is drawn from a stream forked from the seed by the
 * epoch, the image's position in the run or the step, so nothing but the step has to be saved
 * for a resumed run to end with the weights of an uninterrupted one. Sample grids use a fixed
 * seed, so grids of successive steps show the same noise growing into images.
 */
#include "aigc-diffusion-train.h"
#include "aigc-setting.h"
#include "jobs/aigc-train-run.h"

#include "aigc-ddpm.h"
#include "aigc-error.h"
#include "io/aigc-emoji.h"
#include "io/aigc-idx.h"
#include "io/aigc-png.h"
#include "optim/aigc-optim.h"
#include "optim/aigc-schedule.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Forks of the seed's stream, one per kind of random choice. */
enum { STREAM_ORDER = 1, STREAM_FLIP = 2, STREAM_NOISE = 3, STREAM_DROPOUT = 4, STREAM_INIT = 5 };

AigcDiffusionTrainParams *aigc_diffusion_train_params_new(void)
{
    AigcDiffusionTrainParams *p = g_new0(AigcDiffusionTrainParams, 1);
    p->config = aigc_diffusion_default_config();
    p->batch_size = 64;
    p->steps = 20000;
    p->lr = 5e-4f;
    p->lr_min = 2e-5f;
    p->warmup = 500;
    p->weight_decay = 0.0f;
    p->grad_clip = 1.0f;
    p->ema_decay = 0.999f;
    p->p_uncond = 0.1f;
    p->flip = TRUE;
    p->sample_every = 1000;
    p->sample_steps = 25;
    p->sample_columns = 8;
    p->sample_guidance = 3.0f;
    p->checkpoint_every = 250;
    p->seed = 1;
    p->save_dtype = AIGC_DTYPE_F32;
    return p;
}

void aigc_diffusion_train_params_free(AigcDiffusionTrainParams *p)
{
    if (!p)
        return;
    g_free(p->data);
    g_free(p->data_dir);
    g_free(p->output);
    g_free(p->title);
    g_free(p->command_line);
    g_free(p);
}

void aigc_diffusion_train_result_free(AigcDiffusionTrainResult *r)
{
    if (!r)
        return;
    g_free(r->samples_path);
    g_free(r);
}

gboolean aigc_diffusion_train_params_set(AigcDiffusionTrainParams *p, const char *key,
                                         const char *value, GError **error)
{
    const gint64 big = G_GINT64_CONSTANT(1) << 40;
    gint64 i;
    if (!strcmp(key, "batch_size") || !strcmp(key, "sample_steps") ||
        !strcmp(key, "sample_columns")) {
        gint64 hi = !strcmp(key, "batch_size") ? 4096 : !strcmp(key, "sample_steps") ? 10000 : 64;
        if (!aigc_setting_parse_int(key, value, 1, hi, &i, error))
            return FALSE;
        if (!strcmp(key, "batch_size"))
            p->batch_size = (int)i;
        else if (!strcmp(key, "sample_steps"))
            p->sample_steps = (int)i;
        else
            p->sample_columns = (int)i;
    } else if (!strcmp(key, "steps")) {
        return aigc_setting_parse_int(key, value, 1, big, &p->steps, error);
    } else if (!strcmp(key, "warmup")) {
        return aigc_setting_parse_int(key, value, 0, big, &p->warmup, error);
    } else if (!strcmp(key, "sample_every")) {
        return aigc_setting_parse_int(key, value, 0, big, &p->sample_every, error);
    } else if (!strcmp(key, "checkpoint_every")) {
        return aigc_setting_parse_int(key, value, 1, big, &p->checkpoint_every, error);
    } else if (!strcmp(key, "limit_train")) {
        return aigc_setting_parse_int(key, value, 0, G_MAXINT, &p->limit_train, error);
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
    } else if (!strcmp(key, "grad_clip")) {
        return aigc_setting_parse_float(key, value, 0, 1e6, &p->grad_clip, error);
    } else if (!strcmp(key, "ema_decay")) {
        return aigc_setting_parse_float(key, value, 0, 0.999999, &p->ema_decay, error);
    } else if (!strcmp(key, "p_uncond")) {
        return aigc_setting_parse_float(key, value, 0, 1, &p->p_uncond, error);
    } else if (!strcmp(key, "sample_guidance")) {
        return aigc_setting_parse_float(key, value, 0, AIGC_DIFFUSION_MAX_GUIDANCE,
                                        &p->sample_guidance, error);
    } else if (!strcmp(key, "dtype")) {
        return aigc_train_parse_dtype(value, &p->save_dtype, error);
    } else {
        return aigc_diffusion_config_set(&p->config, key, value, error);
    }
    return TRUE;
}

/* ---- the run ---- */

typedef struct {
    AigcDiffusionTrainParams *p;
    AigcJob *job;
    AigcDiffusion *model;
    AigcOptimizer *opt;
    AigcEma *ema; /* (nullable) */
    gint64 step;
    AigcRng rng; /* the seed's stream; forks only */
    AigcTrainClock clock;
    AigcFashionMnist train;
    gboolean emoji; /* the emoji set instead of Fashion-MNIST */
    AigcEmojiSet *emoji_set;
    GPtrArray *vocab; /* (emoji) the words, sorted: the model's "classes" */
    gint32 *words;    /* (emoji) (n_train, text_len) each image's name as word ids */
    int n_train;
    int *order;         /* (n_train) the current epoch's order of images */
    gint64 order_epoch; /* which epoch `order` holds; −1 none */
    AigcLossWindow losses;
    char *samples_path; /* the last grid written */
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
    AigcParams *params = aigc_diffusion_get_params(r->model);
    r->opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, &hp, params);
    if (r->p->ema_decay > 0)
        r->ema = aigc_ema_new(params, r->p->ema_decay, TRUE);
}

static void name_classes(Run *r, AigcDiffusion *model)
{
    const int K = aigc_diffusion_get_config(model)->n_classes;
    if (r->emoji) {
        if (K == (int)r->vocab->len) {
            g_ptr_array_add(r->vocab, NULL);
            aigc_diffusion_set_class_names(model, (const char *const *)r->vocab->pdata);
            g_ptr_array_remove_index(r->vocab, r->vocab->len - 1);
        }
        return;
    }
    const char *names[AIGC_FASHION_MNIST_N_CLASSES];
    if (K != AIGC_FASHION_MNIST_N_CLASSES)
        return;
    for (int k = 0; k < K; k++)
        names[k] = aigc_fashion_mnist_class_name(k);
    aigc_diffusion_set_class_names(model, names);
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

static int text_len(Run *r)
{
    return MAX(r->p->config.text_len, 1);
}

static int compare_words(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The vocabulary of the emoji names (every word of a name or short name, sorted) and each
 * image's name as word ids. */
static void build_vocab(Run *r)
{
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    r->vocab = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < r->emoji_set->n; i++) {
        const char *texts[] = {r->emoji_set->emoji[i].name, r->emoji_set->emoji[i].short_name};
        for (int t = 0; t < 2; t++) {
            g_auto(GStrv) words = aigc_diffusion_text_words(texts[t]);
            for (int w = 0; words[w]; w++)
                if (!g_hash_table_contains(seen, words[w])) {
                    char *copy = g_strdup(words[w]);
                    g_ptr_array_add(r->vocab, copy);
                    g_hash_table_add(seen, copy);
                }
        }
    }
    g_hash_table_unref(seen);
    g_ptr_array_sort(r->vocab, compare_words);
}

static gboolean encode_names(Run *r, GError **error)
{
    const int T = text_len(r);
    r->words = g_new(gint32, (gsize)r->n_train * T);
    for (int i = 0; i < r->n_train; i++) {
        for (int j = 0; j < T; j++)
            r->words[(gsize)i * T + j] = AIGC_DIFFUSION_NULL_CLASS;
        g_auto(GStrv) words = aigc_diffusion_text_words(r->emoji_set->emoji[i].name);
        for (int w = 0, n = 0; words[w] && n < T; w++) {
            char **hit =
                bsearch(&words[w], r->vocab->pdata, r->vocab->len, sizeof(char *), compare_words);
            if (!hit) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                            "emoji “%s”: word “%s” is not in the vocabulary",
                            r->emoji_set->emoji[i].name, words[w]);
                return FALSE;
            }
            r->words[(gsize)i * T + n++] = (gint32)(hit - (char **)r->vocab->pdata);
        }
    }
    return TRUE;
}

/* Fills images (B, C, S, S) in [−1, 1] and labels (B, or B × text_len word ids) for the
 * current step. */
static void make_batch(Run *r, float *images, gint32 *labels)
{
    const int B = r->p->batch_size, S = AIGC_FASHION_MNIST_SIDE;
    if (r->emoji) {
        const int T = text_len(r), ES = r->emoji_set->size;
        for (int b = 0; b < B; b++) {
            const int k = image_at(r, r->step * B + b);
            aigc_emoji_set_get_floats(r->emoji_set, k, -1.0f, 1.0f,
                                      images + (gsize)b * 3 * ES * ES);
            memcpy(labels + (gsize)b * T, r->words + (gsize)k * T, T * sizeof(gint32));
        }
        return;
    }
    AigcRng flip_rng = aigc_rng_fork(&r->rng, STREAM_FLIP);
    for (int b = 0; b < B; b++) {
        const gint64 g = r->step * B + b;
        const int k = image_at(r, g);
        const float *src = r->train.images + (gint64)k * S * S;
        float *dst = images + (gint64)b * S * S;
        AigcRng one = aigc_rng_fork(&flip_rng, (guint64)g);
        gboolean flip = r->p->flip && (aigc_rng_u64(&one) & 1);
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
                dst[y * S + x] = 2.0f * src[y * S + (flip ? S - 1 - x : x)] - 1.0f;
        labels[b] = r->train.labels[k];
    }
}

/* The averaged weights in place of the live ones (for sampling and saving), and back. */
static void use_average(Run *r, gboolean average)
{
    if (r->ema && aigc_ema_get_swapped(r->ema) != average)
        aigc_ema_swap(r->ema);
}

/* A grid of sample_columns images per class (one row each) from the averaged weights. */
static gboolean write_samples(gpointer run, GError **error)
{
    Run *r = run;
    AigcDiffusionTrainParams *p = r->p;
    const AigcDiffusionConfig *c = aigc_diffusion_get_config(r->model);
    /* rows: the classes, or for emoji the names of 8 emoji spread over the set */
    const int T = text_len(r), n_rows = r->emoji ? MIN(8, r->n_train) : MAX(c->n_classes, 1);
    const int K = n_rows, cols = p->sample_columns, n = K * cols;
    const int S = c->image_size;
    const gint64 P = (gint64)c->channels * S * S;
    g_autofree gint32 *classes = g_new(gint32, (gsize)n * T);
    for (int i = 0; i < n; i++) {
        int row = i / cols;
        if (r->emoji)
            memcpy(classes + (gsize)i * T,
                   r->words + (gsize)((gint64)row * r->n_train / n_rows) * T, T * sizeof(gint32));
        else
            classes[i] = c->n_classes ? row : AIGC_DIFFUSION_NULL_CLASS;
    }
    g_autofree float *x = g_new(float, n *P);
    AigcDiffusionSampleParams sp = aigc_diffusion_sample_default_params();
    sp.steps = MIN(p->sample_steps, c->n_timesteps);
    sp.guidance = p->sample_guidance;
    sp.seed = p->seed;
    GError *local = NULL;
    use_average(r, TRUE);
    gboolean ok = TRUE;
    /* in batches of one row pair at a time, so a cancel is noticed within seconds */
    for (int i0 = 0; ok && i0 < n; i0 += 2 * cols) {
        int nb = MIN(2 * cols, n - i0);
        AigcDiffusionSampleParams part = sp;
        part.seed = sp.seed + (guint64)i0;
        ok = aigc_diffusion_sample(r->model, &part, classes + (gsize)i0 * T, nb, x + i0 * P, r->job,
                                   &local);
    }
    use_average(r, FALSE);
    if (!ok) {
        if (g_error_matches(local, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED)) {
            g_error_free(local); /* a cancel is not an error: the grid is skipped */
            return TRUE;
        }
        g_propagate_error(error, local);
        return FALSE;
    }
    AigcImage **images = g_new0(AigcImage *, n);
    for (int i = 0; i < n; i++)
        images[i] = aigc_image_from_floats(x + i * P, c->channels, S, S, -1.0f, 1.0f);
    g_autofree char *path = aigc_train_grid_path(p->output, r->step);
    g_autofree char *base = g_path_get_basename(p->output);
    g_autofree char *steps = g_strdup_printf("%d", sp.steps);
    g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, sp.seed);
    g_autofree char *size = g_strdup_printf("%dx%d", S, S);
    g_autofree char *step = g_strdup_printf("%" G_GINT64_FORMAT, r->step);
    char cfg[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(cfg, sizeof cfg, "%g", sp.guidance);
    const char *keys[] = {"Steps", "Sampler", "CFG scale",     "Seed",
                          "Size",  "Model",   "Training step", NULL};
    const char *values[] = {steps, "DDIM", cfg, seed, size, base, step, NULL};
    GString *prompt = g_string_new(NULL);
    if (r->emoji) {
        g_string_append(prompt, "one row per prompt:");
        for (int row = 0; row < n_rows; row++)
            g_string_append_printf(prompt, "%s %s", row ? "," : "",
                                   r->emoji_set->emoji[(gint64)row * r->n_train / n_rows].name);
    } else {
        g_string_append(prompt, c->n_classes ? "one row per class" : "unconditional samples");
    }
    g_autofree char *params = aigc_png_format_parameters(prompt->str, keys, values);
    g_string_free(prompt, TRUE);
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
    AigcDiffusionTrainParams *p = r->p;
    AigcParams *params = aigc_diffusion_get_params(r->model);
    g_autofree char *config = aigc_diffusion_config_to_json(aigc_diffusion_get_config(r->model));
    /* Checkpoint first: it is what --resume needs. */
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        AigcTrainState state = {r->step, p->seed, elapsed(r), p->command_line};
        aigc_train_checkpoint_describe(w, AIGC_DIFFUSION_FAMILY, "diffusion.config", config,
                                       &state);
        if (!aigc_params_save(params, w, "model.", AIGC_DTYPE_F32, error) ||
            !aigc_optimizer_save(r->opt, w, "optim.", error) ||
            (r->ema && !aigc_ema_save(r->ema, w, "ema.", error)))
            return FALSE;
        g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
        if (!aigc_safetensors_writer_write(w, path, NULL, NULL, error))
            return FALSE;
    }
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    use_average(r, TRUE); /* the writer borrows the averaged values until the write below */
    gboolean ok = aigc_diffusion_save(r->model, w, p->save_dtype, error);
    if (ok) {
        aigc_safetensors_writer_set_metadata(w, "title",
                                             p->title   ? p->title
                                             : r->emoji ? "Diffusion · Emoji"
                                                        : "Diffusion · Fashion-MNIST");
        aigc_safetensors_writer_set_metadata(
            w, "data",
            r->emoji ? "Noto Emoji images from npm emoji-datasource-google (images Apache-2.0, "
                       "data MIT), 32×32 on white, text: each emoji's name"
                     : "Fashion-MNIST (Debian dataset-fashion-mnist; Expat, © 2017 Zalando SE)");
        char lr[G_ASCII_DTOSTR_BUF_SIZE], ema[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd(lr, sizeof lr, "%g", p->lr);
        g_ascii_formatd(ema, sizeof ema, "%g", p->ema_decay);
        g_autofree char *training = g_strdup_printf(
            "{\"data\": \"%s\", \"train_images\": %d, \"steps\": %" G_GINT64_FORMAT
            ", \"batch_size\": %d, \"lr\": %s, \"ema_decay\": %s, \"flip\": %s, \"seed\": "
            "%" G_GUINT64_FORMAT ", \"seconds\": %.1f, \"threads\": %d, \"train_loss\": %.5f, "
            "\"finished\": %s}",
            r->emoji ? "emoji" : "fashion-mnist", r->n_train, r->step, p->batch_size, lr, ema,
            !r->emoji && p->flip ? "true" : "false", p->seed, elapsed(r), aigc_threads_get(),
            aigc_loss_window_mean(&r->losses), final ? "true" : "false");
        aigc_safetensors_writer_set_metadata(w, "training", training);
        if (p->command_line)
            aigc_safetensors_writer_set_metadata(w, "command", p->command_line);
        ok = aigc_safetensors_writer_write(w, p->output, NULL, NULL, error);
    }
    use_average(r, FALSE);
    return ok;
}

static gboolean resume(Run *r, GError **error)
{
    g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    const char *config_json;
    AigcTrainState state;
    if (!st || !aigc_train_checkpoint_read(st, path, AIGC_DIFFUSION_FAMILY, "diffusion.config",
                                           "a diffusion model", &config_json, &state, error))
        return FALSE;
    AigcDiffusionConfig config;
    if (!aigc_diffusion_config_from_json(&config, config_json, error)) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    r->model = aigc_diffusion_new(&config);
    r->p->config = config;
    if (!aigc_params_load(aigc_diffusion_get_params(r->model), st, "model.", error))
        return FALSE;
    make_optimizer(r);
    if (!aigc_optimizer_load(r->opt, st, "optim.", error))
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
    aigc_optimizer_free(r->opt);
    aigc_diffusion_free(r->model);
    aigc_fashion_mnist_clear(&r->train);
    aigc_emoji_set_free(r->emoji_set);
    if (r->vocab)
        g_ptr_array_unref(r->vocab);
    g_free(r->words);
    g_free(r->order);
    g_free(r->samples_path);
}

static gboolean check_data(Run *r, GError **error)
{
    const AigcDiffusionConfig *c = &r->p->config;
    const char *fault = NULL;
    g_autofree char *owned = NULL;
    if (r->emoji) {
        if (c->image_size != r->emoji_set->size)
            fault = owned =
                g_strdup_printf("the emoji are %d×%d: image_size must be %d", r->emoji_set->size,
                                r->emoji_set->size, r->emoji_set->size);
        else if (c->channels != 3)
            fault = "the emoji are in colour: channels must be 3";
        else if (c->text_len < 1)
            fault = "the emoji model reads their names: text_len must be at least 1";
        else if (c->n_classes != (int)r->vocab->len)
            fault = owned = g_strdup_printf("the emoji names have %u words: n_classes (the "
                                            "vocabulary) must be %u",
                                            r->vocab->len, r->vocab->len);
    } else if (c->text_len > 0)
        fault = "Fashion-MNIST is drawn by class: text_len must be 0";
    else if (c->image_size != AIGC_FASHION_MNIST_SIDE)
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
    AigcDiffusionTrainParams *p = data;
    Run r = {.p = p, .job = job, .order_epoch = -1};
    gboolean ok = FALSE;
    const int B = p->batch_size;
    g_autofree float *images = NULL;
    g_autofree gint32 *labels = NULL;
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    g_autofree char *ckpt = NULL;

    r.emoji = p->data && strcmp(p->data, "emoji") == 0;
    if (p->data && !r.emoji && strcmp(p->data, "fashion") != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the diffusion model learns --data fashion or emoji, not “%s”", p->data);
        goto out;
    }
    if (r.emoji) {
        aigc_job_report_progress(job, 0, "reading the emoji");
        g_autofree char *path = p->data_dir ? g_strdup(p->data_dir) : aigc_emoji_default_path();
        if (!(r.emoji_set = aigc_emoji_set_load(path, error))) {
            g_prefix_error(error, "(make it with data/image/prepare-emoji.py) ");
            goto out;
        }
        r.n_train = p->limit_train > 0 ? (int)MIN(p->limit_train, r.emoji_set->n) : r.emoji_set->n;
        build_vocab(&r);
    } else {
        aigc_job_report_progress(job, 0, "reading Fashion-MNIST");
        if (!aigc_fashion_mnist_load(p->data_dir, TRUE, &r.train, error))
            goto out;
        r.n_train = p->limit_train > 0 ? (int)MIN(p->limit_train, r.train.n) : r.train.n;
    }
    r.order = g_new(int, r.n_train);

    ckpt = aigc_train_checkpoint_path(p->output);
    if (p->resume && g_file_test(ckpt, G_FILE_TEST_EXISTS)) {
        if (!resume(&r, error) || !check_data(&r, error))
            goto out;
    } else {
        if (r.emoji) { /* the emoji's shape and vocabulary; the rest as set */
            p->config.image_size = r.emoji_set->size;
            p->config.channels = 3;
            p->config.n_classes = (int)r.vocab->len;
            if (p->config.text_len == 0)
                p->config.text_len = 8;
        }
        if (!aigc_diffusion_config_validate(&p->config, error) || !check_data(&r, error))
            goto out;
        r.model = aigc_diffusion_new(&p->config);
        AigcRng seed_rng;
        aigc_rng_init(&seed_rng, p->seed);
        AigcRng init_rng = aigc_rng_fork(&seed_rng, STREAM_INIT);
        aigc_diffusion_init_weights(r.model, &init_rng);
        make_optimizer(&r);
    }
    if (r.emoji && !encode_names(&r, error))
        goto out;
    name_classes(&r, r.model);
    const gboolean conditional = aigc_diffusion_get_config(r.model)->n_classes > 0;
    {
        const AigcDiffusionConfig *mc = aigc_diffusion_get_config(r.model);
        images = g_new(float, (gsize)B * mc->channels * mc->image_size * mc->image_size);
        labels = g_new(gint32, (gsize)B * MAX(mc->text_len, 1));
    }
    aigc_rng_init(&r.rng, p->seed);
    AigcRng noise_base = aigc_rng_fork(&r.rng, STREAM_NOISE);
    AigcRng dropout_base = aigc_rng_fork(&r.rng, STREAM_DROPOUT);

    r.csv = aigc_train_csv_open(p->output, p->resume,
                                "step,loss,grad_norm,lr,images_per_second,seconds");

    AigcParams *params = aigc_diffusion_get_params(r.model);
    aigc_train_clock_start(&r.clock, r.clock.seconds_before, r.step);
    static const AigcTrainHooks hooks = {
        .save = save, .sample = write_samples, .sample_stage = "drawing a sample grid"};
    const AigcTrainLoop loop =
        aigc_train_loop(job, &hooks, &r, r.step, p->steps, p->checkpoint_every, p->sample_every);
    while (r.step < p->steps) {
        if (aigc_job_is_cancelled(job))
            break;
        make_batch(&r, images, labels);
        aigc_ctx_reset(ctx);
        *aigc_ctx_get_rng(ctx) = aigc_rng_fork(&dropout_base, (guint64)r.step);
        AigcRng noise = aigc_rng_fork(&noise_base, (guint64)r.step);
        aigc_params_zero_grad(params);
        AigcTensor *loss = aigc_diffusion_loss(ctx, r.model, images, conditional ? labels : NULL, B,
                                               p->p_uncond, &noise, NULL);
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
        if (r.ema)
            aigc_ema_update(r.ema);
        aigc_loss_window_add(&r.losses, loss->data[0]);
        r.step++;
        aigc_train_clock_tick(&r.clock, B);
        const double img_per_s = r.clock.rate;
        g_autofree char *left = aigc_train_clock_left(&r.clock, r.step, p->steps);
        if (r.csv) {
            fprintf(r.csv, "%" G_GINT64_FORMAT ",%.5f,%.4f,%.3g,%.1f,%.1f\n", r.step, loss->data[0],
                    norm, lr, img_per_s, elapsed(&r));
            if (r.step % 50 == 0)
                fflush(r.csv);
        }
        g_autofree char *stage = g_strdup_printf(
            "step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " · loss %.4f · %.1f img/s · %s left",
            r.step, p->steps, aigc_loss_window_mean(&r.losses), img_per_s, left);
        if (!aigc_train_loop_step_done(&loop, r.step, stage, error))
            goto out;
    }
    gboolean finished;
    if (!aigc_train_loop_end(&loop, r.step, p->output, &finished, error))
        goto out;
    AigcDiffusionTrainResult *result = g_new0(AigcDiffusionTrainResult, 1);
    result->steps_done = r.step;
    result->train_loss = aigc_loss_window_mean(&r.losses);
    result->seconds = elapsed(&r);
    result->samples_path = g_strdup(r.samples_path);
    aigc_job_set_result(job, result, (GDestroyNotify)aigc_diffusion_train_result_free);
    ok = finished;
out:
    run_free(&r);
    return ok;
}

AigcJob *aigc_diffusion_train_job_new(AigcDiffusionTrainParams *params)
{
    return aigc_job_new("train diffusion", train, params,
                        (GDestroyNotify)aigc_diffusion_train_params_free);
}
