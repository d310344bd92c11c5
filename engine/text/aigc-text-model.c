/* SPDX-License-Identifier: MIT
 *
 * Family dispatch for text models: the file's "family" metadata chooses the implementation.
 */
#include "aigc-text-model.h"

#include "aigc-error.h"
#include "models/gpt/aigc-gpt.h"
#include "models/ngram/aigc-ngram.h"
#include "models/rnnlm/aigc-rnnlm.h"

#include <math.h>
#include <string.h>

typedef enum { FAMILY_GPT, FAMILY_RNNLM, FAMILY_NGRAM } Family;

struct _AigcTextModel {
    gatomicrefcount refs;
    Family family;
    char *family_name;
    char *path;
    AigcTokenizer *tokenizer;
    GHashTable *metadata;
    AigcGpt *gpt;
    AigcRnnlm *rnnlm; /* lstm, gru, rnn */
    AigcNgram *ngram;
    double *probs; /* (n_vocab + 2) n-gram distribution scratch */
};

struct _AigcTextSession {
    AigcTextModel *model;
    AigcGptState *gpt;
    AigcRnnlmState *rnnlm;
    gunichar context[AIGC_NGRAM_MAX_ORDER]; /* n-gram: the last characters, oldest first */
    int n_context;
    int pos;
};

/* An n-gram model's tokenizer: a character vocabulary of exactly its code points, so token id
 * 1 + i is vocab[i] (the character tokenizer sorts code points), 0 is UNK and the last is END. */
static AigcTokenizer *ngram_tokenizer(AigcNgram *ngram, const char *path, GError **error)
{
    int n_vocab;
    const gunichar *vocab = aigc_ngram_get_vocab(ngram, &n_vocab);
    GString *s = g_string_new(NULL);
    for (int i = 0; i < n_vocab; i++)
        g_string_append_unichar(s, vocab[i]);
    AigcTokenizer *tok = aigc_tokenizer_train_char(s->str, s->len, 1, error);
    g_string_free(s, TRUE);
    if (tok && aigc_tokenizer_get_vocab_size(tok) != n_vocab + 2) {
        aigc_tokenizer_free(tok);
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: the n-gram vocabulary holds characters a tokenizer cannot", path);
        return NULL;
    }
    return tok;
}

static gboolean fail(GError **error, const char *path, const char *fault)
{
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", path, fault);
    return FALSE;
}

AigcTextModel *aigc_text_model_load(const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return NULL;
    const char *family = aigc_safetensors_get_metadata(st, "family");
    const char *tok_json = aigc_safetensors_get_metadata(st, "tokenizer");
    if (!family) {
        fail(error, path, "not a model file (no “family” in its metadata)");
        return NULL;
    }
    AigcTokenizer *tok = NULL;
    AigcGpt *gpt = NULL;
    AigcRnnlm *rnnlm = NULL;
    AigcNgram *ngram = NULL;
    AigcRnnlmCell cell;
    if (strcmp(family, "ngram") == 0) {
        ngram = aigc_ngram_new_from_safetensors(st, error);
        if (!ngram)
            return NULL;
        tok = ngram_tokenizer(ngram, path, error);
        if (!tok) {
            aigc_ngram_free(ngram);
            return NULL;
        }
    } else if (strcmp(family, "gpt") == 0 || aigc_rnnlm_cell_from_name(family, &cell)) {
        if (!tok_json) {
            fail(error, path, "the model has no tokenizer in its metadata");
            return NULL;
        }
        GError *tok_error = NULL;
        tok = aigc_tokenizer_new_from_json(tok_json, &tok_error);
        if (!tok) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: tokenizer: %s",
                        path, tok_error->message);
            g_error_free(tok_error);
            return NULL;
        }
        int vocab_size;
        if (strcmp(family, "gpt") == 0) {
            gpt = aigc_gpt_load(st, error);
            vocab_size = gpt ? aigc_gpt_get_config(gpt)->vocab_size : 0;
        } else {
            rnnlm = aigc_rnnlm_load(st, error);
            vocab_size = rnnlm ? aigc_rnnlm_get_config(rnnlm)->vocab_size : 0;
        }
        if (!gpt && !rnnlm) {
            aigc_tokenizer_free(tok);
            return NULL;
        }
        if (vocab_size != aigc_tokenizer_get_vocab_size(tok)) {
            aigc_gpt_free(gpt);
            aigc_rnnlm_free(rnnlm);
            aigc_tokenizer_free(tok);
            fail(error, path, "the tokenizer's vocabulary and the model's disagree");
            return NULL;
        }
    } else {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s: “%s” is not a text model family this version can run", path, family);
        return NULL;
    }
    AigcTextModel *m = g_new0(AigcTextModel, 1);
    g_atomic_ref_count_init(&m->refs);
    m->family = ngram ? FAMILY_NGRAM : rnnlm ? FAMILY_RNNLM : FAMILY_GPT;
    m->family_name = g_strdup(family);
    m->path = g_strdup(path);
    m->tokenizer = tok;
    m->gpt = gpt;
    m->rnnlm = rnnlm;
    m->ngram = ngram;
    if (ngram)
        m->probs = g_new(double, aigc_tokenizer_get_vocab_size(tok));
    m->metadata = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    const char *const *keys = aigc_safetensors_get_metadata_keys(st);
    for (int i = 0; keys[i]; i++)
        g_hash_table_insert(m->metadata, g_strdup(keys[i]),
                            g_strdup(aigc_safetensors_get_metadata(st, keys[i])));
    return m;
}

AigcTextModel *aigc_text_model_ref(AigcTextModel *m)
{
    g_atomic_ref_count_inc(&m->refs);
    return m;
}

void aigc_text_model_unref(AigcTextModel *m)
{
    if (!m || !g_atomic_ref_count_dec(&m->refs))
        return;
    aigc_gpt_free(m->gpt);
    aigc_rnnlm_free(m->rnnlm);
    aigc_ngram_free(m->ngram);
    g_free(m->probs);
    aigc_tokenizer_free(m->tokenizer);
    g_hash_table_destroy(m->metadata);
    g_free(m->family_name);
    g_free(m->path);
    g_free(m);
}

const char *aigc_text_model_get_family(AigcTextModel *m)
{
    return m->family_name;
}

const char *aigc_text_model_get_path(AigcTextModel *m)
{
    return m->path;
}

AigcTokenizer *aigc_text_model_get_tokenizer(AigcTextModel *m)
{
    return m->tokenizer;
}

int aigc_text_model_get_vocab_size(AigcTextModel *m)
{
    return aigc_tokenizer_get_vocab_size(m->tokenizer);
}

int aigc_text_model_get_max_context(AigcTextModel *m)
{
    /* Recurrent models carry their state on and n-grams look back a fixed few characters. */
    return m->gpt ? aigc_gpt_get_config(m->gpt)->max_seq_len : 0;
}

AigcGpt *aigc_text_model_get_gpt(AigcTextModel *m)
{
    return m->gpt;
}

const char *aigc_text_model_get_metadata(AigcTextModel *m, const char *key)
{
    return g_hash_table_lookup(m->metadata, key);
}

AigcTextSession *aigc_text_session_new(AigcTextModel *m)
{
    AigcTextSession *s = g_new0(AigcTextSession, 1);
    s->model = aigc_text_model_ref(m);
    if (m->gpt)
        s->gpt = aigc_gpt_state_new(m->gpt);
    if (m->rnnlm)
        s->rnnlm = aigc_rnnlm_state_new(m->rnnlm);
    return s;
}

void aigc_text_session_free(AigcTextSession *s)
{
    if (!s)
        return;
    aigc_gpt_state_free(s->gpt);
    aigc_rnnlm_state_free(s->rnnlm);
    aigc_text_model_unref(s->model);
    g_free(s);
}

void aigc_text_session_reset(AigcTextSession *s)
{
    if (s->gpt)
        aigc_gpt_state_reset(s->gpt);
    if (s->rnnlm)
        aigc_rnnlm_state_reset(s->rnnlm);
    s->n_context = 0;
    s->pos = 0;
}

int aigc_text_session_get_pos(AigcTextSession *s)
{
    if (s->rnnlm)
        return (int)MIN(aigc_rnnlm_state_get_pos(s->rnnlm), G_MAXINT);
    return s->gpt ? aigc_gpt_state_get_pos(s->gpt) : s->pos;
}

static gboolean ngram_feed(AigcTextSession *s, gint32 token, float *logits)
{
    AigcTextModel *m = s->model;
    const int V = aigc_tokenizer_get_vocab_size(m->tokenizer); /* n_vocab + 2 */
    const int n_vocab = V - 2;
    gunichar c = token == 0 ? AIGC_NGRAM_UNK : token == V - 1 ? AIGC_NGRAM_END
                                                              : aigc_ngram_get_vocab(m->ngram, NULL)[token - 1];
    int keep = aigc_ngram_get_order(m->ngram) - 1;
    if (keep > 0) {
        if (s->n_context == keep) {
            memmove(s->context, s->context + 1, (gsize)(keep - 1) * sizeof(gunichar));
            s->n_context--;
        }
        s->context[s->n_context++] = c;
    }
    aigc_ngram_distribution(m->ngram, s->context, s->n_context, m->probs);
    /* Distribution order: vocabulary, END, UNK; token order: UNK, vocabulary, END. */
    logits[0] = (float)log(m->probs[n_vocab + 1]);
    for (int i = 0; i < n_vocab; i++)
        logits[1 + i] = (float)log(m->probs[i]);
    logits[V - 1] = (float)log(m->probs[n_vocab]);
    s->pos++;
    return TRUE;
}

gboolean aigc_text_session_feed(AigcTextSession *s, gint32 token, float *logits)
{
    if (s->model->ngram)
        return ngram_feed(s, token, logits);
    if (s->model->rnnlm)
        return aigc_rnnlm_decode(s->model->rnnlm, s->rnnlm, token, logits);
    return aigc_gpt_decode(s->model->gpt, s->gpt, token, logits);
}

gboolean aigc_text_model_bits_per_char(AigcTextModel *m, const char *text, gsize len,
                                       AigcJob *job, double *bits_per_char, GError **error)
{
    gint64 n_chars = aigc_utf8_count_chars(text, len);
    if (n_chars == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "the text is empty");
        return FALSE;
    }
    if (m->ngram) {
        /* The n-gram reads code points: invalid UTF-8 becomes U+FFFD first (its UNK). */
        g_autofree char *valid = g_utf8_make_valid(text, (gssize)len);
        *bits_per_char = aigc_ngram_bits_per_char(m->ngram, valid, strlen(valid));
        return TRUE;
    }
    g_autofree gint32 *ids = g_new(gint32, MAX(len, 1));
    int n = aigc_tokenizer_encode(m->tokenizer, text, (gssize)len, ids, (int)MIN(len, G_MAXINT));
    double nats = 0;
    gboolean ok = m->rnnlm ? aigc_rnnlm_total_nll(m->rnnlm, ids, n, job, &nats, error)
                           : aigc_gpt_total_nll(m->gpt, ids, n, job, &nats, error);
    if (!ok)
        return FALSE;
    *bits_per_char = nats / M_LN2 / (double)n_chars;
    return TRUE;
}
