/* SPDX-License-Identifier: MIT
 *
 * DESIGN (files and resumption): training writes two files. OUTPUT is the usable model
 * (weights in the chosen dtype, "family", "gpt.config" or "rnnlm.config", "tokenizer", "title",
 * "training" and "metrics" metadata). OUTPUT.ckpt holds everything needed to continue bit for
 * bit: float32 weights ("model." prefix), optimizer state ("optim."), the step, the batch RNG's
 * offset, the tokenizer and config, and the elapsed time. Both are written atomically, the
 * checkpoint first. --resume reads OUTPUT.ckpt; the batch sequence depends only on the seed and
 * the step, so an interrupted run and an uninterrupted one end with the same weights.
 *
 * Families: GPT and the RNN language models (lstm, gru, rnn) share the whole loop; the few
 * places that touch the network go through the model_* helpers below, which switch on which
 * of Run.gpt / Run.rnnlm is set.
 */
#include "aigc-text-train.h"
#include "aigc-setting.h"

#include "aigc-error.h"
#include "jobs/aigc-train-run.h"
#include "io/aigc-atomic-file.h"
#include "models/ngram/aigc-ngram.h"
#include "optim/aigc-optim.h"
#include "optim/aigc-schedule.h"
#include "tensor/aigc-threads.h"
#include "text/aigc-tokenizer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

AigcTextTrainParams *aigc_text_train_params_new(const char *family)
{
    AigcTextTrainParams *p = g_new0(AigcTextTrainParams, 1);
    p->family = g_strdup(family);
    p->tokenizer = g_strdup("char");
    p->gpt = aigc_gpt_default_config();
    p->batch_size = 32;
    p->seq_len = 128;
    p->gpt.max_seq_len = 128;
    p->rnnlm = aigc_rnnlm_default_config();
    aigc_rnnlm_cell_from_name(family, &p->rnnlm.cell);
    p->rnnlm.max_seq_len = 128;
    p->steps = 2000;
    p->lr = 1e-3f;
    p->lr_min = 1e-4f;
    p->warmup = 100;
    p->weight_decay = 0.1f;
    p->grad_clip = 1.0f;
    p->eval_every = 250;
    p->eval_chars = 50000;
    p->checkpoint_every = 250;
    p->seed = 1337;
    p->save_dtype = AIGC_DTYPE_F32;
    p->ngram_order = 6;
    p->ngram_prune = 1;
    return p;
}

void aigc_text_train_params_free(AigcTextTrainParams *p)
{
    if (!p)
        return;
    g_free(p->family);
    g_free(p->corpus);
    g_free(p->val_corpus);
    g_free(p->init_from);
    g_free(p->output);
    g_free(p->tokenizer);
    g_free(p->title);
    g_free(p->command_line);
    g_free(p->log_csv);
    g_free(p);
}

static gboolean is_rnnlm(const char *family)
{
    AigcRnnlmCell cell;
    return aigc_rnnlm_cell_from_name(family, &cell);
}

gboolean aigc_text_train_params_set(AigcTextTrainParams *p, const char *key, const char *value,
                                    GError **error)
{
    gint64 i;
    if (!strcmp(key, "batch_size")) {
        if (!aigc_setting_parse_int(key, value, 1, 4096, &i, error))
            return FALSE;
        p->batch_size = (int)i;
    } else if (!strcmp(key, "seq_len")) {
        if (!aigc_setting_parse_int(key, value, 2, 65536, &i, error))
            return FALSE;
        p->seq_len = (int)i;
        p->gpt.max_seq_len = MAX(p->gpt.max_seq_len, p->seq_len);
        p->rnnlm.max_seq_len = MAX(p->rnnlm.max_seq_len, p->seq_len);
    } else if (!strcmp(key, "steps")) {
        return aigc_setting_parse_int(key, value, 1, G_GINT64_CONSTANT(1) << 40, &p->steps, error);
    } else if (!strcmp(key, "warmup")) {
        return aigc_setting_parse_int(key, value, 0, G_GINT64_CONSTANT(1) << 40, &p->warmup, error);
    } else if (!strcmp(key, "eval_every")) {
        return aigc_setting_parse_int(key, value, 0, G_GINT64_CONSTANT(1) << 40, &p->eval_every,
                                      error);
    } else if (!strcmp(key, "eval_chars")) {
        return aigc_setting_parse_int(key, value, 0, G_GINT64_CONSTANT(1) << 40, &p->eval_chars,
                                      error);
    } else if (!strcmp(key, "checkpoint_every")) {
        return aigc_setting_parse_int(key, value, 1, G_GINT64_CONSTANT(1) << 40,
                                      &p->checkpoint_every, error);
    } else if (!strcmp(key, "seed")) {
        if (!aigc_setting_parse_int(key, value, 0, G_MAXINT64, &i, error))
            return FALSE;
        p->seed = (guint64)i;
    } else if (!strcmp(key, "lr")) {
        return aigc_setting_parse_float(key, value, 1e-7, 1.0, &p->lr, error);
    } else if (!strcmp(key, "lr_min")) {
        return aigc_setting_parse_float(key, value, 0, 1.0, &p->lr_min, error);
    } else if (!strcmp(key, "weight_decay")) {
        return aigc_setting_parse_float(key, value, 0, 10, &p->weight_decay, error);
    } else if (!strcmp(key, "grad_clip")) {
        return aigc_setting_parse_float(key, value, 0, 1e6, &p->grad_clip, error);
    } else if (!strcmp(key, "order")) {
        if (!aigc_setting_parse_int(key, value, 1, AIGC_NGRAM_MAX_ORDER, &i, error))
            return FALSE;
        p->ngram_order = (int)i;
    } else if (!strcmp(key, "prune")) {
        if (!aigc_setting_parse_int(key, value, 0, 1000, &i, error))
            return FALSE;
        p->ngram_prune = (int)i;
    } else if (!strcmp(key, "tokenizer")) {
        if (strcmp(value, "char") && strcmp(value, "byte") && !g_str_has_prefix(value, "bpe:")) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "tokenizer must be char, byte or bpe:N, not “%s”", value);
            return FALSE;
        }
        g_free(p->tokenizer);
        p->tokenizer = g_strdup(value);
    } else if (!strcmp(key, "dtype")) {
        return aigc_train_parse_dtype(value, &p->save_dtype, error);
    } else if (is_rnnlm(p->family)) {
        if (!strcmp(key, "cell")) {
            /* The cell is the family; a different one here would write a file that lies. */
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "the cell is chosen with the model family (lstm, gru or rnn)");
            return FALSE;
        }
        return aigc_rnnlm_config_set(&p->rnnlm, key, value, error);
    } else {
        return aigc_gpt_config_set(&p->gpt, key, value, error);
    }
    return TRUE;
}

/* ---- the run ---- */

typedef struct {
    AigcTextTrainParams *p;
    AigcJob *job;
    AigcTokenizer *tok;
    AigcGpt *gpt; /* the network: exactly one of gpt and rnnlm */
    AigcRnnlm *rnnlm;
    AigcOptimizer *opt;
    gint64 step;
    AigcRng rng;
    AigcTrainClock clock; /* seconds_before: training time of earlier runs */
    double last_loss;
    double last_val_bpc;
    gint32 *train_ids;
    gint64 n_train;
    gint32 *val_ids;
    gint64 n_val;
    gint64 val_chars;
    FILE *csv;
} Run;

static double elapsed(Run *r)
{
    return aigc_train_clock_elapsed(&r->clock);
}

static gboolean build_tokenizer(Run *r, const char *text, gsize len, GError **error)
{
    const char *kind = r->p->tokenizer;
    if (!strcmp(kind, "byte")) {
        r->tok = aigc_tokenizer_new_byte();
    } else if (!strcmp(kind, "char")) {
        r->tok = aigc_tokenizer_train_char(text, len, 1, error);
    } else {
        gint64 n;
        if (!aigc_setting_parse_int("bpe vocabulary", kind + 4, 257, 1 << 18, &n, error))
            return FALSE;
        aigc_job_report_progress(r->job, 0, "learning the tokenizer");
        r->tok = aigc_tokenizer_train_bpe(text, len, (int)n, NULL, NULL, error);
    }
    return r->tok != NULL;
}

static gint32 *encode_all(AigcTokenizer *tok, const char *text, gsize len, gint64 *n_out)
{
    gint32 *ids = g_new(gint32, MAX(len, 1));
    *n_out = aigc_tokenizer_encode(tok, text, (gssize)len, ids, (int)MIN(len, G_MAXINT));
    return ids;
}

/* ---- the network, whichever family ---- */

static AigcParams *model_params(Run *r)
{
    return r->rnnlm ? aigc_rnnlm_get_params(r->rnnlm) : aigc_gpt_get_params(r->gpt);
}

static AigcTensor *model_loss(AigcCtx *ctx, Run *r, const gint32 *ids, const gint32 *tgt, int B,
                              int T)
{
    return r->rnnlm ? aigc_rnnlm_loss(ctx, r->rnnlm, ids, tgt, B, T)
                    : aigc_gpt_loss(ctx, r->gpt, ids, tgt, B, T);
}

static gboolean model_total_nll(Run *r, const gint32 *ids, gint64 n, double *nats, GError **error)
{
    return r->rnnlm ? aigc_rnnlm_total_nll(r->rnnlm, ids, n, NULL, nats, error)
                    : aigc_gpt_total_nll(r->gpt, ids, n, NULL, nats, error);
}

/* The metadata key of the config: "gpt.config" or "rnnlm.config". */
static const char *model_config_key(const AigcTextTrainParams *p)
{
    return is_rnnlm(p->family) ? "rnnlm.config" : "gpt.config";
}

static char *model_config_json(Run *r)
{
    return r->rnnlm ? aigc_rnnlm_config_to_json(aigc_rnnlm_get_config(r->rnnlm))
                    : aigc_gpt_config_to_json(aigc_gpt_get_config(r->gpt));
}

static gboolean model_save(Run *r, AigcSafetensorsWriter *w, AigcDtype dtype, GError **error)
{
    return r->rnnlm ? aigc_rnnlm_save(r->rnnlm, w, dtype, error)
                    : aigc_gpt_save(r->gpt, w, dtype, error);
}

/* A fresh network from the params (vocabulary from the tokenizer), initialised from the seed. */
static gboolean model_create(Run *r, GError **error)
{
    AigcTextTrainParams *p = r->p;
    AigcRng init_rng;
    aigc_rng_init(&init_rng, p->seed ^ 0x5eed);
    if (is_rnnlm(p->family)) {
        p->rnnlm.vocab_size = aigc_tokenizer_get_vocab_size(r->tok);
        p->rnnlm.max_seq_len = MAX(p->rnnlm.max_seq_len, p->seq_len);
        if (!aigc_rnnlm_config_validate(&p->rnnlm, error))
            return FALSE;
        r->rnnlm = aigc_rnnlm_new(&p->rnnlm);
        aigc_rnnlm_init_weights(r->rnnlm, &init_rng);
    } else {
        p->gpt.vocab_size = aigc_tokenizer_get_vocab_size(r->tok);
        p->gpt.max_seq_len = MAX(p->gpt.max_seq_len, p->seq_len);
        if (!aigc_gpt_config_validate(&p->gpt, error))
            return FALSE;
        r->gpt = aigc_gpt_new(&p->gpt);
        aigc_gpt_init_weights(r->gpt, &init_rng);
    }
    return TRUE;
}

/* A zero network of the config a checkpoint records (its weights are loaded next). */
static gboolean model_from_config(Run *r, const char *json, GError **error)
{
    if (is_rnnlm(r->p->family)) {
        AigcRnnlmConfig c;
        if (!aigc_rnnlm_config_from_json(&c, json, error))
            return FALSE;
        r->rnnlm = aigc_rnnlm_new(&c);
        r->p->rnnlm = c;
    } else {
        AigcGptConfig c;
        if (!aigc_gpt_config_from_json(&c, json, error))
            return FALSE;
        r->gpt = aigc_gpt_new(&c);
        r->p->gpt = c;
    }
    return TRUE;
}

static gboolean model_load(Run *r, AigcSafetensors *st, GError **error)
{
    if (is_rnnlm(r->p->family)) {
        r->rnnlm = aigc_rnnlm_load(st, error);
        if (r->rnnlm)
            r->p->rnnlm = *aigc_rnnlm_get_config(r->rnnlm);
        return r->rnnlm != NULL;
    }
    r->gpt = aigc_gpt_load(st, error);
    if (r->gpt)
        r->p->gpt = *aigc_gpt_get_config(r->gpt);
    return r->gpt != NULL;
}

static void make_optimizer(Run *r)
{
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
    hp.weight_decay = r->p->weight_decay;
    hp.beta2 = 0.95f;
    hp.decay_func = aigc_optimizer_decay_matrices;
    r->opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, &hp, model_params(r));
}

static gboolean save(gpointer run, gboolean final, GError **error)
{
    Run *r = run;
    AigcTextTrainParams *p = r->p;
    g_autofree char *config = model_config_json(r);
    g_autofree char *tok_json = aigc_tokenizer_to_json(r->tok);
    /* Checkpoint first: it is what --resume needs. */
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_autofree char *step = g_strdup_printf("%" G_GINT64_FORMAT, r->step);
        g_autofree char *offset = g_strdup_printf("%" G_GUINT64_FORMAT, r->rng.offset);
        g_autofree char *secs = g_strdup_printf("%.3f", elapsed(r));
        g_autofree char *family = g_strconcat(p->family, "-checkpoint", NULL);
        aigc_safetensors_writer_set_metadata(w, "family", family);
        aigc_safetensors_writer_set_metadata(w, model_config_key(p), config);
        aigc_safetensors_writer_set_metadata(w, "tokenizer", tok_json);
        aigc_safetensors_writer_set_metadata(w, "train.step", step);
        aigc_safetensors_writer_set_metadata(w, "train.rng_offset", offset);
        aigc_safetensors_writer_set_metadata(w, "train.seconds", secs);
        if (!aigc_params_save(model_params(r), w, "model.", AIGC_DTYPE_F32, error) ||
            !aigc_optimizer_save(r->opt, w, "optim.", error))
            return FALSE;
        g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
        if (!aigc_safetensors_writer_write(w, path, NULL, NULL, error))
            return FALSE;
    }
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    if (!model_save(r, w, p->save_dtype, error))
        return FALSE;
    aigc_safetensors_writer_set_metadata(w, "tokenizer", tok_json);
    if (p->title)
        aigc_safetensors_writer_set_metadata(w, "title", p->title);
    g_autofree char *base = g_path_get_basename(p->corpus);
    g_autofree char *training = g_strdup_printf(
        "{\"corpus\": \"%s\", \"tokenizer\": \"%s\", \"steps\": %" G_GINT64_FORMAT
        ", \"batch_size\": %d, \"seq_len\": %d, \"lr\": %g, \"seed\": %" G_GUINT64_FORMAT
        ", \"seconds\": %.1f, \"threads\": %d, \"finished\": %s}",
        base, p->tokenizer, r->step, p->batch_size, p->seq_len, p->lr, p->seed, elapsed(r),
        aigc_threads_get(), final ? "true" : "false");
    aigc_safetensors_writer_set_metadata(w, "training", training);
    if (p->command_line)
        aigc_safetensors_writer_set_metadata(w, "command", p->command_line);
    if (r->last_val_bpc > 0) {
        g_autofree char *metrics = g_strdup_printf(
            "{\"val_bits_per_char\": %.4f, \"train_loss\": %.4f}", r->last_val_bpc, r->last_loss);
        aigc_safetensors_writer_set_metadata(w, "metrics", metrics);
    }
    return aigc_safetensors_writer_write(w, p->output, NULL, NULL, error);
}

static gboolean resume(Run *r, GError **error)
{
    g_autofree char *path = aigc_train_checkpoint_path(r->p->output);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return FALSE;
    const char *tok_json = aigc_safetensors_get_metadata(st, "tokenizer");
    const char *config = aigc_safetensors_get_metadata(st, model_config_key(r->p));
    const char *step = aigc_safetensors_get_metadata(st, "train.step");
    const char *offset = aigc_safetensors_get_metadata(st, "train.rng_offset");
    const char *secs = aigc_safetensors_get_metadata(st, "train.seconds");
    if (!tok_json || !config || !step || !offset) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a training checkpoint of a %s model", path, r->p->family);
        return FALSE;
    }
    r->tok = aigc_tokenizer_new_from_json(tok_json, error);
    if (!r->tok)
        return FALSE;
    if (!model_from_config(r, config, error) ||
        !aigc_params_load(model_params(r), st, "model.", error))
        return FALSE;
    make_optimizer(r);
    if (!aigc_optimizer_load(r->opt, st, "optim.", error))
        return FALSE;
    r->step = g_ascii_strtoll(step, NULL, 10);
    r->rng.offset = g_ascii_strtoull(offset, NULL, 10);
    r->clock.seconds_before = secs ? g_ascii_strtod(secs, NULL) : 0;
    return TRUE;
}

/* Resuming from the model file alone (its checkpoint was not kept, e.g. a shipped model trained
 * further in a later sitting): weights, tokenizer and step count come back; the optimizer's
 * moments start again from zero, which costs a few hundred steps of warm-up, not correctness. */
static gboolean resume_from_model(Run *r, const char *path, gboolean fresh_schedule, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return FALSE;
    const char *tok_json = aigc_safetensors_get_metadata(st, "tokenizer");
    const char *training = aigc_safetensors_get_metadata(st, "training");
    if (!tok_json || !training) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a model this trainer wrote (no tokenizer or training record)", path);
        return FALSE;
    }
    r->tok = aigc_tokenizer_new_from_json(tok_json, error);
    if (!r->tok)
        return FALSE;
    if (!model_load(r, st, error))
        return FALSE;
    const char *steps = strstr(training, "\"steps\": ");
    const char *secs = strstr(training, "\"seconds\": ");
    r->step = steps && !fresh_schedule ? g_ascii_strtoll(steps + 9, NULL, 10) : 0;
    r->clock.seconds_before = secs && !fresh_schedule ? g_ascii_strtod(secs + 11, NULL) : 0;
    make_optimizer(r);
    return TRUE;
}

static gboolean validate(Run *r, gint64 max_chars, double *bpc, GError **error)
{
    /* The first max_chars characters' tokens (all when 0). */
    gint64 n = r->n_val, chars = r->val_chars;
    if (max_chars > 0 && max_chars < r->val_chars) {
        n = (gint64)((double)r->n_val * max_chars / r->val_chars);
        chars = max_chars;
    }
    double nats;
    if (!model_total_nll(r, r->val_ids, n, &nats, error))
        return FALSE;
    /* As aigc_text_model_bits_per_char: all the text's characters, so `aigc eval text`
     * reproduces the number recorded in the model file. */
    *bpc = nats / M_LN2 / (double)MAX(chars, 1);
    return TRUE;
}

static void run_free(Run *r)
{
    if (r->csv)
        fclose(r->csv);
    aigc_optimizer_free(r->opt);
    aigc_gpt_free(r->gpt);
    aigc_rnnlm_free(r->rnnlm);
    aigc_tokenizer_free(r->tok);
    g_free(r->train_ids);
    g_free(r->val_ids);
}

/* The n-gram baseline: counted in one pass, no steps. */
static gboolean train_ngram(AigcJob *job, AigcTextTrainParams *p, const char *text, gsize len,
                            const char *val_text, gsize val_len, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    aigc_job_report_progress(job, 0.1, "counting n-grams");
    AigcNgramParams np = aigc_ngram_default_params();
    np.order = p->ngram_order;
    np.prune_count = p->ngram_prune;
    g_autoptr(AigcNgram) ngram = aigc_ngram_train_full(text, len, &np, error);
    if (!ngram)
        return FALSE;
    if (aigc_job_is_cancelled(job))
        return FALSE;
    aigc_job_report_progress(job, 0.7, "measuring validation bits per character");
    double bpc = aigc_ngram_bits_per_char(ngram, val_text, val_len);
    if (!aigc_ngram_save(ngram, p->output, error))
        return FALSE;
    double seconds = (g_get_monotonic_time() - t0) / 1e6;
    g_autofree char *base = g_path_get_basename(p->corpus);
    g_autofree char *training =
        g_strdup_printf("{\"corpus\": \"%s\", \"order\": %d, \"prune\": %d, \"seconds\": %.1f}",
                        base, np.order, np.prune_count, seconds);
    g_autofree char *metrics = g_strdup_printf("{\"val_bits_per_char\": %.4f}", bpc);
    const char *keys[] = {"title", "training", "metrics", "command", NULL};
    const char *values[] = {p->title ? p->title : "n-gram", training, metrics,
                            p->command_line ? p->command_line : "", NULL};
    if (!aigc_safetensors_update_metadata(p->output, keys, values, error))
        return FALSE;
    AigcTextTrainResult *result = g_new0(AigcTextTrainResult, 1);
    result->val_bits_per_char = bpc;
    result->seconds = seconds;
    aigc_job_set_result(job, result, g_free);
    aigc_job_report_progress(job, 1.0, "done");
    return TRUE;
}

/* The end of a finished run: bits per character on the whole validation split. */
static gboolean conclude(gpointer run, GError **error)
{
    Run *r = run;
    return validate(r, 0, &r->last_val_bpc, error);
}

static gboolean train(AigcJob *job, gpointer data, GError **error)
{
    AigcTextTrainParams *p = data;
    Run r = {.p = p, .job = job};
    gboolean ok = FALSE;
    const int B = p->batch_size, T = p->seq_len;
    g_autofree gint32 *ids = g_new(gint32, (gsize)B * T), *tgt = g_new(gint32, (gsize)B * T);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    g_autofree char *ckpt = NULL;
    g_autofree char *csv_path =
        p->log_csv ? g_strdup(p->log_csv) : g_strconcat(p->output, ".csv", NULL);
    g_autofree char *text = NULL, *val_text = NULL;
    gsize len = 0, val_len = 0;
    g_autofree char *val_path = p->val_corpus ? g_strdup(p->val_corpus) : NULL;
    if (!val_path && g_str_has_suffix(p->corpus, ".train.txt")) {
        val_path = g_strndup(p->corpus, strlen(p->corpus) - strlen(".train.txt"));
        char *tmp = g_strconcat(val_path, ".val.txt", NULL);
        g_free(val_path);
        val_path = tmp;
    }
    GError *io_error = NULL;
    if (!g_file_get_contents(p->corpus, &text, &len, &io_error) ||
        (val_path && !g_file_get_contents(val_path, &val_text, &val_len, &io_error))) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO, "%s", io_error->message);
        g_error_free(io_error);
        return FALSE;
    }
    if (!val_text) {
        /* No validation file: hold out the last 5 % of the corpus. */
        gsize cut = len - len / 20;
        while (cut < len && (text[cut] & 0xC0) == 0x80)
            cut++;
        val_text = g_strndup(text + cut, len - cut);
        val_len = len - cut;
        len = cut;
    }
    if (!strcmp(p->family, "ngram")) {
        ok = train_ngram(job, p, text, len, val_text, val_len, error);
        goto out;
    }
    aigc_rng_init(&r.rng, p->seed);
    ckpt = aigc_train_checkpoint_path(p->output);
    if (p->resume && g_file_test(ckpt, G_FILE_TEST_EXISTS)) {
        if (!resume(&r, error))
            goto out;
    } else if (p->resume && g_file_test(p->output, G_FILE_TEST_EXISTS)) {
        if (!resume_from_model(&r, p->output, FALSE, error))
            goto out;
    } else if (p->init_from) {
        /* Fine-tuning: another model's weights and tokenizer, a new run from step 0. */
        if (!resume_from_model(&r, p->init_from, TRUE, error))
            goto out;
    } else {
        if (!build_tokenizer(&r, text, len, error))
            goto out;
        if (!model_create(&r, error))
            goto out;
        make_optimizer(&r);
    }
    aigc_job_report_progress(job, 0, "reading the corpus");
    r.train_ids = encode_all(r.tok, text, len, &r.n_train);
    r.val_ids = encode_all(r.tok, val_text, val_len, &r.n_val);
    r.val_chars = aigc_utf8_count_chars(val_text, val_len);
    if (r.n_train < p->seq_len + 2) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: the corpus is shorter than one training sequence", p->corpus);
        goto out;
    }
    gboolean new_csv = !g_file_test(csv_path, G_FILE_TEST_EXISTS) || !p->resume;
    r.csv = fopen(csv_path, new_csv ? "w" : "a");
    if (r.csv && new_csv)
        fprintf(r.csv, "step,loss,lr,tokens_per_second,val_bits_per_char,seconds\n");

    AigcParams *params = model_params(&r);
    aigc_train_clock_start(&r.clock, r.clock.seconds_before, r.step);
    static const AigcTrainHooks hooks = {.save = save,
                                         .conclude = conclude,
                                         .conclude_stage =
                                             "measuring validation bits per character"};
    const AigcTrainLoop loop =
        aigc_train_loop(job, &hooks, &r, r.step, p->steps, p->checkpoint_every, 0);
    while (r.step < p->steps) {
        if (aigc_job_is_cancelled(job))
            break;
        /* The batch depends on the seed and the step only. */
        AigcRng batch_rng = aigc_rng_fork(&r.rng, (guint64)r.step);
        for (int b = 0; b < B; b++) {
            gint64 off = aigc_rng_below(&batch_rng, (guint32)MIN(r.n_train - T - 1, G_MAXUINT32));
            memcpy(ids + b * T, r.train_ids + off, (gsize)T * sizeof(gint32));
            memcpy(tgt + b * T, r.train_ids + off + 1, (gsize)T * sizeof(gint32));
        }
        aigc_ctx_reset(ctx);
        aigc_params_zero_grad(params);
        AigcTensor *loss = model_loss(ctx, &r, ids, tgt, B, T);
        if (!isfinite(loss->data[0])) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "the loss became %g at step %" G_GINT64_FORMAT, loss->data[0], r.step);
            goto out;
        }
        aigc_ctx_backward(ctx, loss);
        if (p->grad_clip > 0)
            aigc_clip_grad_norm(params, p->grad_clip);
        float lr = aigc_lr_warmup_cosine(r.step + 1, p->warmup, p->steps, p->lr, p->lr_min);
        aigc_optimizer_step(r.opt, lr);
        r.step++;
        r.last_loss = loss->data[0];
        aigc_train_clock_tick(&r.clock, (gint64)B * T);
        const double tok_per_s = r.clock.rate;
        gboolean eval_now = p->eval_every > 0 && r.step % p->eval_every == 0;
        double val = -1;
        if (eval_now) {
            if (!validate(&r, p->eval_chars, &val, error))
                goto out;
            r.last_val_bpc = val;
        }
        if (r.csv) {
            fprintf(r.csv, "%" G_GINT64_FORMAT ",%.5f,%.3g,%.0f,", r.step, r.last_loss, lr,
                    tok_per_s);
            if (val > 0)
                fprintf(r.csv, "%.4f", val);
            fprintf(r.csv, ",%.1f\n", elapsed(&r));
            if (eval_now)
                fflush(r.csv);
        }
        g_autofree char *left = aigc_train_clock_left(&r.clock, r.step, p->steps);
        g_autofree char *stage = g_strdup_printf(
            "step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " · loss %.3f · %.1fk tok/s · %s left",
            r.step, p->steps, r.last_loss, tok_per_s / 1000, left);
        if (!aigc_train_loop_step_done(&loop, r.step, stage, error))
            goto out;
    }
    gboolean finished;
    if (!aigc_train_loop_end(&loop, r.step, p->output, &finished, error))
        goto out;
    AigcTextTrainResult *result = g_new0(AigcTextTrainResult, 1);
    result->steps_done = r.step;
    result->train_loss = r.last_loss;
    result->val_bits_per_char = r.last_val_bpc;
    result->seconds = elapsed(&r);
    aigc_job_set_result(job, result, g_free);
    ok = finished;
out:
    run_free(&r);
    return ok;
}

AigcJob *aigc_text_train_job_new(AigcTextTrainParams *params)
{
    return aigc_job_new("train text", train, params, (GDestroyNotify)aigc_text_train_params_free);
}
