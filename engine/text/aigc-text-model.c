/* SPDX-License-Identifier: MIT
 *
 * Family dispatch for text models: the file's "family" metadata chooses the implementation.
 */
#include "aigc-text-model.h"

#include "aigc-error.h"
#include "models/gpt/aigc-gpt.h"

#include <math.h>
#include <string.h>

typedef enum { FAMILY_GPT } Family;

struct _AigcTextModel {
    gatomicrefcount refs;
    Family family;
    char *family_name;
    char *path;
    AigcTokenizer *tokenizer;
    GHashTable *metadata;
    AigcGpt *gpt;
};

struct _AigcTextSession {
    AigcTextModel *model;
    AigcGptState *gpt;
};

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
    if (strcmp(family, "gpt") != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s: “%s” is not a text model family this version can run", path, family);
        return NULL;
    }
    if (!tok_json) {
        fail(error, path, "the model has no tokenizer in its metadata");
        return NULL;
    }
    GError *tok_error = NULL;
    AigcTokenizer *tok = aigc_tokenizer_new_from_json(tok_json, &tok_error);
    if (!tok) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: tokenizer: %s", path,
                    tok_error->message);
        g_error_free(tok_error);
        return NULL;
    }
    AigcGpt *gpt = aigc_gpt_load(st, error);
    if (!gpt) {
        aigc_tokenizer_free(tok);
        return NULL;
    }
    if (aigc_gpt_get_config(gpt)->vocab_size != aigc_tokenizer_get_vocab_size(tok)) {
        aigc_gpt_free(gpt);
        aigc_tokenizer_free(tok);
        fail(error, path, "the tokenizer's vocabulary and the model's disagree");
        return NULL;
    }
    AigcTextModel *m = g_new0(AigcTextModel, 1);
    g_atomic_ref_count_init(&m->refs);
    m->family = FAMILY_GPT;
    m->family_name = g_strdup(family);
    m->path = g_strdup(path);
    m->tokenizer = tok;
    m->gpt = gpt;
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
    return aigc_gpt_get_config(m->gpt)->max_seq_len;
}

const char *aigc_text_model_get_metadata(AigcTextModel *m, const char *key)
{
    return g_hash_table_lookup(m->metadata, key);
}

AigcTextSession *aigc_text_session_new(AigcTextModel *m)
{
    AigcTextSession *s = g_new0(AigcTextSession, 1);
    s->model = aigc_text_model_ref(m);
    s->gpt = aigc_gpt_state_new(m->gpt);
    return s;
}

void aigc_text_session_free(AigcTextSession *s)
{
    if (!s)
        return;
    aigc_gpt_state_free(s->gpt);
    aigc_text_model_unref(s->model);
    g_free(s);
}

void aigc_text_session_reset(AigcTextSession *s)
{
    aigc_gpt_state_reset(s->gpt);
}

int aigc_text_session_get_pos(AigcTextSession *s)
{
    return aigc_gpt_state_get_pos(s->gpt);
}

gboolean aigc_text_session_feed(AigcTextSession *s, gint32 token, float *logits)
{
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
    g_autofree gint32 *ids = g_new(gint32, MAX(len, 1));
    int n = aigc_tokenizer_encode(m->tokenizer, text, (gssize)len, ids, (int)MIN(len, G_MAXINT));
    double nats = 0;
    if (!aigc_gpt_total_nll(m->gpt, ids, n, job, &nats, error))
        return FALSE;
    *bits_per_char = nats / M_LN2 / (double)n_chars;
    return TRUE;
}
