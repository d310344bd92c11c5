/* SPDX-License-Identifier: MIT
 *
 * DESIGN (files and resumption): training writes OUTPUT, the usable vocoder (MelGAN: folded
 * weights; WaveNet: its weights; "family", the config, "speech.features", "title", "training",
 * "metrics"), and OUTPUT.ckpt with everything needed to continue bit for bit: float32 training
 * parameters ("model."; MelGAN: weight_v/weight_g/bias), the discriminator ("disc."), both
 * optimisers ("optim_g.", "optim_d."), the step and the elapsed time. Both are written
 * atomically, the checkpoint first. A step's segments depend only on the seed and the step, so
 * an interrupted and an uninterrupted run end with the same weights. --resume without a
 * checkpoint but with OUTPUT continues from the model file's weights and step with fresh
 * optimiser moments (and, for MelGAN, a fresh discriminator).
 */
#include "aigc-vocoder-train.h"
#include "aigc-setting.h"

#include "aigc-error.h"
#include "jobs/aigc-train-run.h"
#include "aigc-log.h"
#include "io/aigc-audio-file.h"
#include "models/melgan/aigc-melgan-disc.h"
#include "models/vocoder/aigc-stft-loss.h"
#include "models/vocoder/aigc-vocoder-data.h"
#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "optim/aigc-schedule.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define WAVENET_CTX        2   /* mel frames of context on each side of a WaveNet segment */
#define WAVENET_SAMPLE_MAX 125 /* frames (2 s) of the test utterance WaveNet renders */

AigcVocoderTrainParams *aigc_vocoder_train_params_new(const char *family)
{
    AigcVocoderTrainParams *p = g_new0(AigcVocoderTrainParams, 1);
    p->family = g_strdup(family);
    p->features = aigc_speech_features_default();
    p->melgan = aigc_melgan_default_config();
    p->wavenet = aigc_wavenet_default_config();
    p->seed = 1337;
    p->save_dtype = AIGC_DTYPE_F32;
    p->checkpoint_every = 500;
    if (!strcmp(family, AIGC_WAVENET_FAMILY)) {
        p->batch_size = 4;
        p->segment = 4096;
        p->steps = 100000;
        p->warmup = 200;
        p->lr = 1e-3f;
        p->lr_min = 1e-4f;
        p->beta1 = 0.9f;
        p->beta2 = 0.999f;
        p->grad_clip = 1.0f;
        p->sample_every = 2000;
    } else {
        p->batch_size = 16;
        p->segment = 8192;
        p->steps = 20000;
        p->warmup = 0;
        p->lr = 2e-4f;
        p->lr_min = 2e-5f;
        p->lr_d = 2e-4f;
        p->beta1 = 0.8f;
        p->beta2 = 0.99f;
        p->grad_clip = 10.0f;
        p->disc_start = 2000;
        p->stft_weight = 1.0f;
        p->adv_weight = 2.5f;
        p->fm_weight = 1.0f;
        p->sample_every = 1000;
    }
    return p;
}

void aigc_vocoder_train_params_free(AigcVocoderTrainParams *p)
{
    if (!p)
        return;
    g_free(p->family);
    g_free(p->data_dir);
    g_free(p->output);
    g_free(p->title);
    g_free(p->command_line);
    g_free(p->log_csv);
    g_free(p->samples_dir);
    g_free(p);
}

void aigc_vocoder_train_result_free(AigcVocoderTrainResult *r)
{
    if (!r)
        return;
    g_free(r->last_sample);
    g_free(r);
}

gboolean aigc_vocoder_train_params_set(AigcVocoderTrainParams *p, const char *key,
                                       const char *value, GError **error)
{
    const gint64 big = G_GINT64_CONSTANT(1) << 40;
    gint64 i;
    struct {
        const char *name;
        float *f;
        double lo, hi;
    } floats[] = {
        {"lr", &p->lr, 1e-7, 1},
        {"lr_min", &p->lr_min, 0, 1},
        {"lr_d", &p->lr_d, 0, 1},
        {"beta1", &p->beta1, 0, 0.9999},
        {"beta2", &p->beta2, 0, 0.99999},
        {"grad_clip", &p->grad_clip, 0, 1e6},
        {"stft_weight", &p->stft_weight, 0, 1e4},
        {"adv_weight", &p->adv_weight, 0, 1e4},
        {"fm_weight", &p->fm_weight, 0, 1e4},
        {"mel_weight", &p->mel_weight, 0, 1e4},
    };
    for (guint k = 0; k < G_N_ELEMENTS(floats); k++)
        if (!strcmp(key, floats[k].name))
            return aigc_setting_parse_float(key, value, floats[k].lo, floats[k].hi, floats[k].f,
                                            error);
    struct {
        const char *name;
        gint64 *v;
    } longs[] = {
        {"steps", &p->steps},
        {"warmup", &p->warmup},
        {"disc_start", &p->disc_start},
        {"checkpoint_every", &p->checkpoint_every},
        {"sample_every", &p->sample_every},
    };
    for (guint k = 0; k < G_N_ELEMENTS(longs); k++)
        if (!strcmp(key, longs[k].name))
            return aigc_setting_parse_int(key, value,
                                          !strcmp(key, "steps") || !strcmp(key, "checkpoint_every"),
                                          big, longs[k].v, error);
    if (!strcmp(key, "batch_size")) {
        if (!aigc_setting_parse_int(key, value, 1, 1024, &i, error))
            return FALSE;
        p->batch_size = (int)i;
    } else if (!strcmp(key, "segment")) {
        if (!aigc_setting_parse_int(key, value, 1, 1 << 20, &i, error))
            return FALSE;
        p->segment = (int)i;
    } else if (!strcmp(key, "seed")) {
        if (!aigc_setting_parse_int(key, value, 0, G_MAXINT64, &i, error))
            return FALSE;
        p->seed = (guint64)i;
    } else if (!strcmp(key, "threads")) {
        if (!aigc_setting_parse_int(key, value, 0, 256, &i, error))
            return FALSE;
        p->threads = (int)i;
    } else if (!strcmp(key, "limit")) {
        if (!aigc_setting_parse_int(key, value, 0, G_MAXINT, &i, error))
            return FALSE;
        p->limit = (int)i;
    } else if (!strcmp(key, "dtype")) {
        return aigc_train_parse_dtype(value, &p->save_dtype, error);
    } else if (!strcmp(p->family, AIGC_WAVENET_FAMILY)) {
        return aigc_wavenet_config_set(&p->wavenet, key, value, error);
    } else {
        return aigc_melgan_config_set(&p->melgan, key, value, error);
    }
    return TRUE;
}

/* ---- the run ---- */

typedef struct {
    AigcVocoderTrainParams *p;
    AigcJob *job;
    gboolean is_melgan;
    AigcVocoderCorpus *train, *test;
    AigcMelgan *melgan;
    AigcMelganDisc *disc;
    AigcStftLoss *stft;
    AigcWavenet *wavenet;
    AigcOptimizer *opt_g, *opt_d;
    gint64 step;
    double elapsed_before;
    gint64 t_start;
    AigcRng rng;
    FILE *csv;
    /* last step's numbers */
    double loss, stft_loss, sc, mag, mel, adv, fm, loss_d;
    gboolean csv_mel; /* the CSV has the mel column (a log begun before it existed has not) */
    char *last_sample;
} Run;

static double elapsed(Run *r)
{
    return r->elapsed_before + (g_get_monotonic_time() - r->t_start) / 1e6;
}

static const char *config_key(Run *r)
{
    return r->is_melgan ? "melgan.config" : "wavenet.config";
}

static char *config_json(Run *r)
{
    return r->is_melgan ? aigc_melgan_config_to_json(&r->p->melgan)
                        : aigc_wavenet_config_to_json(&r->p->wavenet);
}

static AigcParams *g_params(Run *r)
{
    return r->is_melgan ? aigc_melgan_get_params(r->melgan) : aigc_wavenet_get_params(r->wavenet);
}

static void make_optimizers(Run *r)
{
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    hp.beta1 = r->p->beta1;
    hp.beta2 = r->p->beta2;
    r->opt_g = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, g_params(r));
    if (r->is_melgan)
        r->opt_d = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, aigc_melgan_disc_get_params(r->disc));
}

/* Fresh networks from the (validated) params, initialised from the seed. */
static void create_networks(Run *r)
{
    AigcRng init;
    aigc_rng_init(&init, r->p->seed ^ 0x5eed);
    if (r->is_melgan) {
        r->melgan = aigc_melgan_new(&r->p->melgan, &r->p->features);
        aigc_melgan_init_weights(r->melgan, &init);
        r->disc = aigc_melgan_disc_new(&r->p->melgan);
        aigc_melgan_disc_init_weights(r->disc, &init);
    } else {
        r->wavenet = aigc_wavenet_new(&r->p->wavenet, &r->p->features);
        aigc_wavenet_init_weights(r->wavenet, &init);
    }
}

static gboolean save(gpointer run, gboolean final, GError **error)
{
    Run *r = run;
    AigcVocoderTrainParams *p = r->p;
    g_autofree char *config = config_json(r);
    g_autofree char *features = aigc_speech_features_to_json(&p->features);
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_autofree char *step = g_strdup_printf("%" G_GINT64_FORMAT, r->step);
        g_autofree char *secs = g_strdup_printf("%.3f", elapsed(r));
        g_autofree char *family = g_strconcat(p->family, "-checkpoint", NULL);
        aigc_safetensors_writer_set_metadata(w, "family", family);
        aigc_safetensors_writer_set_metadata(w, config_key(r), config);
        aigc_safetensors_writer_set_metadata(w, "speech.features", features);
        aigc_safetensors_writer_set_metadata(w, "train.step", step);
        aigc_safetensors_writer_set_metadata(w, "train.seconds", secs);
        if (!aigc_params_save(g_params(r), w, "model.", AIGC_DTYPE_F32, error) ||
            !aigc_optimizer_save(r->opt_g, w, "optim_g.", error))
            return FALSE;
        if (r->is_melgan && (!aigc_params_save(aigc_melgan_disc_get_params(r->disc), w, "",
                                               AIGC_DTYPE_F32, error) ||
                             !aigc_optimizer_save(r->opt_d, w, "optim_d.", error)))
            return FALSE;
        g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
        if (!aigc_safetensors_writer_write(w, path, NULL, NULL, error))
            return FALSE;
    }
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    gboolean ok;
    if (r->is_melgan) {
        aigc_melgan_fold(r->melgan);
        ok = aigc_melgan_save(r->melgan, w, p->save_dtype, error);
    } else {
        ok = aigc_wavenet_save(r->wavenet, w, p->save_dtype, error);
    }
    if (!ok)
        return FALSE;
    if (p->title)
        aigc_safetensors_writer_set_metadata(w, "title", p->title);
    if (p->command_line)
        aigc_safetensors_writer_set_metadata(w, "command", p->command_line);
    g_autofree char *base = g_path_get_basename(p->data_dir);
    g_autofree char *training = g_strdup_printf(
        "{\"data\": \"%s\", \"utterances\": %d, \"hours\": %.3f, \"steps\": %" G_GINT64_FORMAT
        ", \"batch_size\": %d, \"segment\": %d, \"lr\": %g, \"seed\": %" G_GUINT64_FORMAT
        ", \"seconds\": %.1f, \"threads\": %d, \"finished\": %s}",
        base, aigc_vocoder_corpus_get_n(r->train),
        aigc_vocoder_corpus_get_seconds(r->train) / 3600.0, r->step, p->batch_size, p->segment,
        p->lr, p->seed, elapsed(r), aigc_threads_get(), final ? "true" : "false");
    aigc_safetensors_writer_set_metadata(w, "training", training);
    g_autofree char *metrics =
        r->is_melgan ? g_strdup_printf("{\"stft_loss\": %.4f, \"spectral_convergence\": %.4f, "
                                       "\"log_magnitude\": %.4f, \"mel_loss\": %.4f, "
                                       "\"generator_loss\": %.4f}",
                                       r->stft_loss, r->sc, r->mag, r->mel, r->loss)
                     : g_strdup_printf("{\"train_nats_per_sample\": %.4f}", r->loss);
    aigc_safetensors_writer_set_metadata(w, "metrics", metrics);
    return aigc_safetensors_writer_write(w, p->output, NULL, NULL, error);
}

static gboolean resume(Run *r, const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return FALSE;
    const char *config = aigc_safetensors_get_metadata(st, config_key(r));
    const char *features = aigc_safetensors_get_metadata(st, "speech.features");
    const char *step = aigc_safetensors_get_metadata(st, "train.step");
    const char *secs = aigc_safetensors_get_metadata(st, "train.seconds");
    if (!config || !features || !step) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a training checkpoint of a %s vocoder", path, r->p->family);
        return FALSE;
    }
    GError *e = NULL;
    gboolean ok =
        aigc_speech_features_from_json(&r->p->features, features, &e) &&
        (r->is_melgan ? aigc_melgan_config_from_json(&r->p->melgan, config, &e) &&
                            aigc_melgan_check_features(&r->p->melgan, &r->p->features, &e)
                      : aigc_wavenet_config_from_json(&r->p->wavenet, config, &e) &&
                            aigc_wavenet_check_features(&r->p->wavenet, &r->p->features, &e));
    if (!ok) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", path, e->message);
        g_error_free(e);
        return FALSE;
    }
    create_networks(r);
    make_optimizers(r);
    if (!aigc_params_load(g_params(r), st, "model.", error) ||
        !aigc_optimizer_load(r->opt_g, st, "optim_g.", error))
        return FALSE;
    if (r->is_melgan) {
        if (!aigc_params_load(aigc_melgan_disc_get_params(r->disc), st, "", error) ||
            !aigc_optimizer_load(r->opt_d, st, "optim_d.", error))
            return FALSE;
        aigc_melgan_fold(r->melgan);
    }
    r->step = g_ascii_strtoll(step, NULL, 10);
    r->elapsed_before = secs ? g_ascii_strtod(secs, NULL) : 0;
    return TRUE;
}

/* From the model file alone: weights and step back, optimiser moments (and a MelGAN
 * discriminator) fresh. */
static gboolean resume_from_model(Run *r, const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return FALSE;
    const char *training = aigc_safetensors_get_metadata(st, "training");
    if (r->is_melgan) {
        r->melgan = aigc_melgan_load(st, error);
        if (!r->melgan)
            return FALSE;
        r->p->melgan = *aigc_melgan_get_config(r->melgan);
        r->p->features = *aigc_melgan_get_features(r->melgan);
        AigcRng init;
        aigc_rng_init(&init, r->p->seed ^ 0xd15c);
        r->disc = aigc_melgan_disc_new(&r->p->melgan);
        aigc_melgan_disc_init_weights(r->disc, &init);
    } else {
        r->wavenet = aigc_wavenet_load(st, error);
        if (!r->wavenet)
            return FALSE;
        r->p->wavenet = *aigc_wavenet_get_config(r->wavenet);
        r->p->features = *aigc_wavenet_get_features(r->wavenet);
    }
    const char *steps = training ? strstr(training, "\"steps\": ") : NULL;
    const char *secs = training ? strstr(training, "\"seconds\": ") : NULL;
    r->step = steps ? g_ascii_strtoll(steps + 9, NULL, 10) : 0;
    r->elapsed_before = secs ? g_ascii_strtod(secs + 11, NULL) : 0;
    make_optimizers(r);
    return TRUE;
}

/* Renders the first test utterance (or the first training one) with the current weights and
 * writes it as SAMPLES_DIR/step-NNNNNNN.wav. */
static gboolean write_sample(gpointer run, GError **error)
{
    Run *r = run;
    AigcVocoderCorpus *c = r->test ? r->test : r->train;
    gint64 F;
    const float *mel = aigc_vocoder_corpus_get_mel(c, 0, &F);
    if (!r->is_melgan)
        F = MIN(F, WAVENET_SAMPLE_MAX);
    const int hop = r->p->features.hop_length;
    g_autofree float *audio = g_new(float, (gsize)(F * hop));
    gboolean ok;
    if (r->is_melgan) {
        aigc_melgan_fold(r->melgan);
        ok = aigc_melgan_synthesize(r->melgan, mel, F, audio, NULL, NULL, error);
    } else {
        ok = aigc_wavenet_generate(r->wavenet, mel, F, r->p->seed, audio, NULL, NULL, error);
    }
    if (!ok)
        return FALSE;
    g_autofree char *dir = NULL;
    if (r->p->samples_dir) {
        dir = g_strdup(r->p->samples_dir);
    } else {
        g_autofree char *stem =
            g_str_has_suffix(r->p->output, ".safetensors")
                ? g_strndup(r->p->output, strlen(r->p->output) - strlen(".safetensors"))
                : g_strdup(r->p->output);
        dir = g_strconcat(stem, ".samples", NULL);
    }
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO,
                    "%s: cannot create the folder for audio samples", dir);
        return FALSE;
    }
    g_autofree char *name = g_strdup_printf("step-%07" G_GINT64_FORMAT ".wav", r->step);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *comment =
        g_strdup_printf("Model: %s, Step: %" G_GINT64_FORMAT ", Utterance: %s", r->p->family,
                        r->step, aigc_vocoder_corpus_get_id(c, 0));
    AigcWavWriteParams wp = aigc_wav_write_default_params();
    wp.comment = comment;
    if (!aigc_audio_file_write_wav(path, audio, F * hop, r->p->features.sample_rate, &wp, error))
        return FALSE;
    g_free(r->last_sample);
    r->last_sample = g_steal_pointer(&path);
    g_autoptr(GBytes) bytes = g_bytes_new(audio, sizeof(float) * (gsize)(F * hop));
    AigcPreview *preview = aigc_preview_new(AIGC_PREVIEW_AUDIO_F32, r->last_sample, bytes);
    preview->sample_rate = r->p->features.sample_rate;
    aigc_job_report_preview(r->job, preview);
    return TRUE;
}

/* ---- one step of each family ---- */

typedef struct {
    float *audio;    /* [B, T] */
    float *mel;      /* [B, M, Fw] */
    float *prev;     /* [B, 2] */
    gint32 *targets; /* [B·T] (WaveNet) */
    float *x;        /* [B, T] (WaveNet input) */
} Batch;

static double clip(AigcParams *params, float max_norm)
{
    return max_norm > 0 ? aigc_clip_grad_norm(params, max_norm) : 0;
}

/* The log-mel term of the generator's loss, at the features' own analysis (reported even when
 * its weight is 0). */
static gboolean add_mel_term(AigcStftLoss *loss, const AigcSpeechFeatures *f, float weight,
                             GError **error)
{
    AigcMelParams mp = {.sample_rate = f->sample_rate,
                        .n_fft = f->n_fft,
                        .n_mels = f->n_mels,
                        .f_min = f->f_min,
                        .f_max = f->f_max};
    g_autoptr(AigcMelFilterbank) fb = aigc_mel_filterbank_new(&mp, error);
    AigcStftResolution res = {f->n_fft, f->hop_length, f->win_length};
    return fb && aigc_stft_loss_add_mel(loss, &res, aigc_mel_filterbank_get_weights(fb), f->n_mels,
                                        f->log_floor, weight, error);
}

/* TRUE when the CSV file's header line names `column`. */
static gboolean csv_has_column(const char *path, const char *column)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return FALSE;
    char line[512] = "";
    gboolean found = FALSE;
    if (fgets(line, sizeof line, f)) {
        g_strchomp(line);
        g_auto(GStrv) cols = g_strsplit(line, ",", -1);
        found = g_strv_contains((const char *const *)cols, column);
    }
    fclose(f);
    return found;
}

static gboolean melgan_step(Run *r, AigcCtx *ctx, Batch *bt, float lr, float lr_d, GError **error)
{
    AigcVocoderTrainParams *p = r->p;
    const int B = p->batch_size, T = p->segment, M = p->features.n_mels;
    const int F = T / p->features.hop_length;
    aigc_ctx_reset(ctx);
    AigcTensor *mel = aigc_tensor_from_data(ctx, 3, (gint64[]){B, M, F}, bt->mel);
    AigcTensor *real = aigc_tensor_from_data(ctx, 3, (gint64[]){B, 1, T}, bt->audio);
    AigcTensor *fake = aigc_melgan_forward(ctx, r->melgan, mel);
    const gboolean adversarial = r->step >= p->disc_start;
    AigcMelganDiscOutput d_real, d_fake;
    r->loss_d = r->adv = r->fm = 0;
    if (adversarial) {
        AigcParams *dp = aigc_melgan_disc_get_params(r->disc);
        aigc_melgan_disc_set_trainable(r->disc, TRUE);
        AigcTensor *fake_d = aigc_tensor_from_data(ctx, 3, fake->shape, fake->data);
        aigc_melgan_disc_forward(ctx, r->disc, real, &d_real);
        aigc_melgan_disc_forward(ctx, r->disc, fake_d, &d_fake);
        AigcTensor *ld = aigc_melgan_disc_loss(ctx, &d_real, &d_fake);
        if (!isfinite(ld->data[0]))
            goto numeric;
        aigc_params_zero_grad(dp);
        aigc_ctx_backward(ctx, ld);
        clip(dp, p->grad_clip);
        aigc_optimizer_step(r->opt_d, lr_d);
        r->loss_d = ld->data[0];
        aigc_melgan_disc_set_trainable(r->disc, FALSE);
    }
    AigcParams *gp = aigc_melgan_get_params(r->melgan);
    float sc = 0, mag = 0, mel_l1 = 0;
    AigcTensor *ls = aigc_stft_loss(ctx, r->stft, fake, real, &sc, &mag, &mel_l1);
    AigcTensor *lg = aigc_scale(ctx, ls, p->stft_weight);
    if (adversarial) {
        AigcMelganDiscOutput d_gen;
        aigc_melgan_disc_forward(ctx, r->disc, fake, &d_gen);
        AigcTensor *adv = aigc_melgan_adv_loss(ctx, &d_gen);
        AigcTensor *fm = aigc_melgan_feature_loss(ctx, &d_real, &d_gen);
        lg = aigc_add(ctx, lg, aigc_scale(ctx, adv, p->adv_weight));
        lg = aigc_add(ctx, lg, aigc_scale(ctx, fm, p->fm_weight));
        r->adv = adv->data[0];
        r->fm = fm->data[0];
    }
    if (!isfinite(lg->data[0]))
        goto numeric;
    aigc_params_zero_grad(gp);
    aigc_ctx_backward(ctx, lg);
    clip(gp, p->grad_clip);
    aigc_optimizer_step(r->opt_g, lr);
    r->loss = lg->data[0];
    r->stft_loss = sc + mag;
    r->sc = sc;
    r->mag = mag;
    r->mel = mel_l1;
    return TRUE;
numeric:
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                "a loss became NaN or infinite at step %" G_GINT64_FORMAT, r->step);
    return FALSE;
}

static gboolean wavenet_step(Run *r, AigcCtx *ctx, Batch *bt, float lr, GError **error)
{
    AigcVocoderTrainParams *p = r->p;
    const int B = p->batch_size, T = p->segment, M = p->features.n_mels;
    const int Fw = T / p->features.hop_length + 2 * WAVENET_CTX;
    for (int b = 0; b < B; b++)
        aigc_wavenet_teacher_forcing(&p->wavenet, bt->audio + (gint64)b * T, T, bt->prev + 2 * b,
                                     bt->x + (gint64)b * T, bt->targets + (gint64)b * T);
    aigc_ctx_reset(ctx);
    AigcTensor *x = aigc_tensor_from_data(ctx, 3, (gint64[]){B, 1, T}, bt->x);
    AigcTensor *mel = aigc_tensor_from_data(ctx, 3, (gint64[]){B, M, Fw}, bt->mel);
    AigcTensor *loss = aigc_wavenet_loss(ctx, r->wavenet, x, mel,
                                         (gint64)WAVENET_CTX * p->features.hop_length, bt->targets);
    if (!isfinite(loss->data[0])) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                    "the loss became %g at step %" G_GINT64_FORMAT, loss->data[0], r->step);
        return FALSE;
    }
    AigcParams *gp = aigc_wavenet_get_params(r->wavenet);
    aigc_params_zero_grad(gp);
    aigc_ctx_backward(ctx, loss);
    clip(gp, p->grad_clip);
    aigc_optimizer_step(r->opt_g, lr);
    r->loss = loss->data[0];
    return TRUE;
}

static void run_free(Run *r)
{
    if (r->csv)
        fclose(r->csv);
    aigc_optimizer_free(r->opt_g);
    aigc_optimizer_free(r->opt_d);
    aigc_melgan_free(r->melgan);
    aigc_melgan_disc_free(r->disc);
    aigc_stft_loss_free(r->stft);
    aigc_wavenet_free(r->wavenet);
    aigc_vocoder_corpus_free(r->train);
    aigc_vocoder_corpus_free(r->test);
    g_free(r->last_sample);
}

static gboolean check_params(Run *r, GError **error)
{
    AigcVocoderTrainParams *p = r->p;
    const int hop = p->features.hop_length;
    if (!aigc_speech_features_validate(&p->features, error))
        return FALSE;
    if (r->is_melgan ? !aigc_melgan_config_validate(&p->melgan, error) ||
                           !aigc_melgan_check_features(&p->melgan, &p->features, error)
                     : !aigc_wavenet_config_validate(&p->wavenet, error) ||
                           !aigc_wavenet_check_features(&p->wavenet, &p->features, error))
        return FALSE;
    int min_segment = hop;
    if (r->is_melgan)
        min_segment = MAX(min_segment, 2048); /* the largest STFT-loss window */
    if (p->segment % hop != 0 || p->segment < min_segment) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "segment must be a multiple of the hop (%d) and at least %d samples, not %d",
                    hop, min_segment, p->segment);
        return FALSE;
    }
    return TRUE;
}

static gboolean train(AigcJob *job, gpointer data, GError **error)
{
    AigcVocoderTrainParams *p = data;
    Run r = {.p = p, .job = job, .t_start = g_get_monotonic_time()};
    r.is_melgan = strcmp(p->family, AIGC_WAVENET_FAMILY) != 0;
    gboolean ok = FALSE;
    Batch bt = {0};
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    g_autofree char *ckpt = aigc_train_checkpoint_path(p->output);
    g_autofree char *csv_path =
        p->log_csv ? g_strdup(p->log_csv) : g_strconcat(p->output, ".csv", NULL);
    if (p->threads > 0)
        aigc_threads_init(p->threads);
    aigc_rng_init(&r.rng, p->seed);
    if (p->resume && g_file_test(ckpt, G_FILE_TEST_EXISTS)) {
        if (!resume(&r, ckpt, error))
            goto out;
    } else if (p->resume && g_file_test(p->output, G_FILE_TEST_EXISTS)) {
        if (!resume_from_model(&r, p->output, error))
            goto out;
    } else {
        if (!check_params(&r, error))
            goto out;
        create_networks(&r);
        make_optimizers(&r);
    }
    if (!check_params(&r, error))
        goto out;
    if (r.is_melgan) {
        AigcStftResolution res[3];
        int n_res = aigc_stft_loss_default_resolutions(res);
        r.stft = aigc_stft_loss_new(res, n_res, error);
        if (!r.stft || !add_mel_term(r.stft, &p->features, p->mel_weight, error))
            goto out;
    }
    r.train = aigc_vocoder_corpus_load(p->data_dir, "train", &p->features, p->limit, job, error);
    if (!r.train)
        goto out;
    GError *test_error = NULL;
    r.test = aigc_vocoder_corpus_load(p->data_dir, "test", &p->features, 1, job, &test_error);
    if (!r.test) {
        gboolean fatal = test_error->code != AIGC_ENGINE_ERROR_NOT_FOUND;
        if (fatal)
            g_propagate_error(error, test_error);
        else
            g_error_free(test_error);
        if (fatal)
            goto out;
    }
    const int B = p->batch_size, T = p->segment, M = p->features.n_mels;
    const int hop = p->features.hop_length, frames = T / hop;
    const int ctx_frames = r.is_melgan ? 0 : WAVENET_CTX, Fw = frames + 2 * ctx_frames;
    if (aigc_vocoder_corpus_count_segments(r.train, frames) == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: no utterance is as long as one segment (%d samples)", p->data_dir, T);
        goto out;
    }
    bt.audio = g_new(float, (gsize)B *T);
    bt.mel = g_new(float, (gsize)B *M *Fw);
    bt.prev = g_new(float, 2 * B);
    bt.x = g_new(float, (gsize)B *T);
    bt.targets = g_new(gint32, (gsize)B * T);
    gboolean new_csv = !p->resume || !g_file_test(csv_path, G_FILE_TEST_EXISTS);
    r.csv_mel = new_csv || csv_has_column(csv_path, "mel");
    r.csv = fopen(csv_path, new_csv ? "w" : "a");
    if (r.csv && new_csv)
        fprintf(r.csv, r.is_melgan ? "step,loss_g,stft,sc,mag,adv,fm,loss_d,lr,segments_per_s,"
                                     "seconds,mel\n"
                                   : "step,loss,lr,segments_per_s,seconds\n");
    const gint64 step0 = r.step;
    const gint64 t0 = g_get_monotonic_time();
    gint64 t_window = t0, steps_window = 0;
    double seg_per_s = 0;
    static const AigcTrainHooks hooks = {
        .save = save, .sample = write_sample, .sample_stage = "rendering a sample"};
    const AigcTrainLoop loop =
        aigc_train_loop(job, &hooks, &r, step0, p->steps, p->checkpoint_every, p->sample_every);
    while (r.step < p->steps) {
        if (aigc_job_is_cancelled(job))
            break;
        AigcRng batch_rng = aigc_rng_fork(&r.rng, (guint64)r.step);
        aigc_vocoder_corpus_sample(r.train, &batch_rng, B, frames, ctx_frames, bt.audio, bt.mel,
                                   bt.prev);
        float lr = aigc_lr_warmup_cosine(r.step, p->warmup, p->steps, p->lr, p->lr_min);
        float lr_d = p->lr > 0 ? lr * p->lr_d / p->lr : 0;
        if (r.is_melgan ? !melgan_step(&r, ctx, &bt, lr, lr_d, error)
                        : !wavenet_step(&r, ctx, &bt, lr, error))
            goto out;
        r.step++;
        steps_window++;
        gint64 now = g_get_monotonic_time();
        if (now - t_window > 2 * G_USEC_PER_SEC || seg_per_s == 0) {
            seg_per_s = (double)steps_window * B / ((now - t_window) / 1e6);
            t_window = now;
            steps_window = 0;
        }
        double per_step = (now - t0) / 1e6 / (double)(r.step - step0);
        g_autofree char *left = aigc_train_format_duration(per_step * (double)(p->steps - r.step));
        if (r.csv) {
            if (r.is_melgan) {
                fprintf(r.csv,
                        "%" G_GINT64_FORMAT ",%.5f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f,%.3g,%.2f,%.1f",
                        r.step, r.loss, r.stft_loss, r.sc, r.mag, r.adv, r.fm, r.loss_d, lr,
                        seg_per_s, elapsed(&r));
                if (r.csv_mel)
                    fprintf(r.csv, ",%.5f", r.mel);
                fputc('\n', r.csv);
            } else
                fprintf(r.csv, "%" G_GINT64_FORMAT ",%.5f,%.3g,%.2f,%.1f\n", r.step, r.loss, lr,
                        seg_per_s, elapsed(&r));
            if (r.step % 50 == 0)
                fflush(r.csv);
        }
        g_autofree char *stage =
            r.is_melgan
                ? (r.step > p->disc_start
                       ? g_strdup_printf("step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                                         " · stft %.3f · adv %.3f · fm %.3f · D %.3f · %.1f seg/s "
                                         "· %s left",
                                         r.step, p->steps, r.stft_loss, r.adv, r.fm, r.loss_d,
                                         seg_per_s, left)
                       : g_strdup_printf("step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                                         " · stft %.3f (sc %.3f, mag %.3f) · mel %.3f · %.1f "
                                         "seg/s · %s left",
                                         r.step, p->steps, r.stft_loss, r.sc, r.mag, r.mel,
                                         seg_per_s, left))
                : g_strdup_printf("step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                                  " · loss %.3f nats · %.1f seg/s · %s left",
                                  r.step, p->steps, r.loss, seg_per_s, left);
        if (!aigc_train_loop_step_done(&loop, r.step, stage, error))
            goto out;
    }
    gboolean finished;
    if (!aigc_train_loop_end(&loop, r.step, p->output, &finished, error))
        goto out;
    AigcVocoderTrainResult *result = g_new0(AigcVocoderTrainResult, 1);
    result->steps_done = r.step;
    result->loss = r.loss;
    result->stft = r.stft_loss;
    result->seconds = elapsed(&r);
    result->seconds_per_step =
        r.step > step0 ? (g_get_monotonic_time() - t0) / 1e6 / (double)(r.step - step0) : 0;
    result->last_sample = g_strdup(r.last_sample);
    aigc_job_set_result(job, result, (GDestroyNotify)aigc_vocoder_train_result_free);
    ok = finished;
out:
    if (!ok && error && *error && (*error)->code == AIGC_ENGINE_ERROR_CANCELLED)
        g_clear_error(error);
    g_free(bt.audio);
    g_free(bt.mel);
    g_free(bt.prev);
    g_free(bt.x);
    g_free(bt.targets);
    run_free(&r);
    return ok;
}

AigcJob *aigc_vocoder_train_job_new(AigcVocoderTrainParams *params)
{
    return aigc_job_new("train vocoder", train, params,
                        (GDestroyNotify)aigc_vocoder_train_params_free);
}
