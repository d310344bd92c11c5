/* SPDX-License-Identifier: MIT
 *
 * DESIGN (file format): model.bin = int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size (negative when the classifier is not shared with the embedding), seq_len; then
 * float32 token_embedding (V, C), rms_att (L, C), wq (L, C, C), wk (L, C, C), wv (L, C, C),
 * wo (L, C, C), rms_ffn (L, C), w1 (L, F, C), w2 (L, C, F), w3 (L, F, C), rms_final (C), two
 * legacy RoPE tables of seq_len·head/2 floats each (zeros here, unused by run.c), then wcls (V, C)
 * when not shared. Our GPT has no grouped-query attention, so n_kv_heads = n_heads; files with
 * fewer key/value heads are refused. tokenizer.bin = int32 max_token_length, then per token
 * float32 score, int32 length, bytes.
 */
#include "aigc-llama2c.h"

#include "aigc-error.h"
#include "io/aigc-atomic-file.h"

#include <stdio.h>
#include <string.h>

static gboolean write_floats(AigcAtomicFile *f, const float *data, gsize n, GError **error)
{
    return aigc_atomic_file_write(f, data, n * sizeof(float), error);
}

static const float *param(AigcGpt *gpt, const char *fmt, int l)
{
    char name[96];
    g_snprintf(name, sizeof name, fmt, l);
    return aigc_params_find(aigc_gpt_get_params(gpt), name)->data;
}

gboolean aigc_llama2c_export(AigcGpt *gpt, AigcTokenizer *tok, const char *model_path,
                             const char *tokenizer_path, GError **error)
{
    const AigcGptConfig *c = aigc_gpt_get_config(gpt);
    if (aigc_tokenizer_get_kind(tok) != AIGC_TOKENIZER_CHAR) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "only character-level models can be exported to llama2.c");
        return FALSE;
    }
    const gsize C = c->dim, F = c->hidden_dim, L = c->n_layers, V = c->vocab_size;
    AigcAtomicFile *f = aigc_atomic_file_begin(model_path, error);
    if (!f)
        return FALSE;
    gint32 header[7] = {c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_heads,
                        -c->vocab_size, c->max_seq_len};
    gboolean ok = aigc_atomic_file_write(f, header, sizeof header, error) &&
                  write_floats(f, param(gpt, "tok_embeddings.weight", 0), V * C, error);
    const char *per_layer[][2] = {
        {"layers.%d.attention_norm.weight", "C"}, {"layers.%d.attention.wq.weight", "CC"},
        {"layers.%d.attention.wk.weight", "CC"},  {"layers.%d.attention.wv.weight", "CC"},
        {"layers.%d.attention.wo.weight", "CC"},  {"layers.%d.ffn_norm.weight", "C"},
        {"layers.%d.feed_forward.w1.weight", "FC"}, {"layers.%d.feed_forward.w2.weight", "CF"},
        {"layers.%d.feed_forward.w3.weight", "FC"},
    };
    for (guint k = 0; ok && k < G_N_ELEMENTS(per_layer); k++) {
        gsize n = strcmp(per_layer[k][1], "C") == 0 ? C : strcmp(per_layer[k][1], "CC") == 0 ? C * C : F * C;
        for (gsize l = 0; ok && l < L; l++)
            ok = write_floats(f, param(gpt, per_layer[k][0], (int)l), n, error);
    }
    if (ok)
        ok = write_floats(f, param(gpt, "norm.weight", 0), C, error);
    if (ok) {
        gsize n_rope = (gsize)c->max_seq_len * (C / c->n_heads) / 2 * 2;
        g_autofree float *zeros = g_new0(float, MAX(n_rope, 1));
        ok = write_floats(f, zeros, n_rope, error);
    }
    if (ok)
        ok = write_floats(f, param(gpt, "output.weight", 0), V * C, error);
    if (!ok) {
        aigc_atomic_file_abort(f);
        return FALSE;
    }
    if (!aigc_atomic_file_commit(f, error))
        return FALSE;

    /* tokenizer.bin: every id's text; special tokens get their names. */
    GByteArray *b = g_byte_array_new();
    gint32 max_len = 0;
    for (gint32 id = 0; id < (gint32)V; id++) {
        gsize len;
        aigc_tokenizer_token_text(tok, id, &len);
        max_len = MAX(max_len, (gint32)len);
    }
    g_byte_array_append(b, (const guint8 *)&max_len, 4);
    for (gint32 id = 0; id < (gint32)V; id++) {
        gsize len;
        const char *text = aigc_tokenizer_token_text(tok, id, &len);
        float score = 0.0f; /* single characters never merge */
        gint32 n = (gint32)len;
        g_byte_array_append(b, (const guint8 *)&score, 4);
        g_byte_array_append(b, (const guint8 *)&n, 4);
        g_byte_array_append(b, (const guint8 *)text, (guint)len);
    }
    ok = aigc_file_set_contents_atomic(tokenizer_path, b->data, b->len, error);
    g_byte_array_free(b, TRUE);
    return ok;
}

AigcGpt *aigc_llama2c_import(const char *model_path, const char *tokenizer_path,
                             AigcTokenizer **tok_out, GError **error)
{
    g_autoptr(GMappedFile) mf = g_mapped_file_new(model_path, FALSE, error);
    if (!mf)
        return NULL;
    gsize size = g_mapped_file_get_length(mf);
    const guint8 *d = (const guint8 *)g_mapped_file_get_contents(mf);
    if (size < 28) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: too short for a llama2.c checkpoint", model_path);
        return NULL;
    }
    gint32 h[7];
    memcpy(h, d, sizeof h);
    gboolean shared = h[5] > 0;
    AigcGptConfig c = aigc_gpt_default_config();
    c.dim = h[0];
    c.hidden_dim = h[1];
    c.n_layers = h[2];
    c.n_heads = h[3];
    c.vocab_size = ABS(h[5]);
    c.max_seq_len = h[6];
    if (h[4] != h[3]) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s: grouped-query attention (%d key/value heads for %d heads) is not "
                    "supported", model_path, h[4], h[3]);
        return NULL;
    }
    GError *config_error = NULL;
    if (!aigc_gpt_config_validate(&c, &config_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", model_path,
                    config_error->message);
        g_error_free(config_error);
        return NULL;
    }
    const guint64 C = c.dim, F = c.hidden_dim, L = c.n_layers, V = c.vocab_size;
    guint64 n_rope = (guint64)c.max_seq_len * (C / c.n_heads) / 2 * 2;
    guint64 need = V * C + L * (2 * C + 4 * C * C + 3 * F * C) + C + n_rope + (shared ? 0 : V * C);
    if ((size - 28) / 4 < need || (size - 28) % 4 != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: %" G_GSIZE_FORMAT " bytes, but its header needs %" G_GUINT64_FORMAT,
                    model_path, size, 28 + need * 4);
        return NULL;
    }
    AigcGpt *gpt = aigc_gpt_new(&c);
    const float *p = (const float *)(d + 28);
    AigcParams *params = aigc_gpt_get_params(gpt);
#define TAKE(name, n)                                                                              \
    do {                                                                                           \
        memcpy(aigc_params_find(params, name)->data, p, (n) * sizeof(float));                      \
        p += (n);                                                                                  \
    } while (0)
    TAKE("tok_embeddings.weight", V * C);
    const float *emb = aigc_params_find(params, "tok_embeddings.weight")->data;
    const char *per_layer[] = {
        "layers.%d.attention_norm.weight", "layers.%d.attention.wq.weight",
        "layers.%d.attention.wk.weight",   "layers.%d.attention.wv.weight",
        "layers.%d.attention.wo.weight",   "layers.%d.ffn_norm.weight",
        "layers.%d.feed_forward.w1.weight", "layers.%d.feed_forward.w2.weight",
        "layers.%d.feed_forward.w3.weight"};
    for (guint k = 0; k < G_N_ELEMENTS(per_layer); k++) {
        for (guint64 l = 0; l < L; l++) {
            char name[96];
            g_snprintf(name, sizeof name, per_layer[k], (int)l);
            TAKE(name, aigc_params_find(params, name)->n_elements);
        }
    }
    TAKE("norm.weight", C);
    p += n_rope;
    if (shared)
        memcpy(aigc_params_find(params, "output.weight")->data, emb, V * C * sizeof(float));
    else
        TAKE("output.weight", V * C);
#undef TAKE
    if (tokenizer_path) {
        g_autofree char *tb = NULL;
        gsize tl = 0;
        if (!g_file_get_contents(tokenizer_path, &tb, &tl, error)) {
            aigc_gpt_free(gpt);
            return NULL;
        }
        GString *chars = g_string_new(NULL);
        gsize off = 4;
        gboolean ok = tl >= 4;
        for (guint64 id = 0; ok && id < V; id++) {
            gint32 n;
            if (off + 8 > tl) {
                ok = FALSE;
                break;
            }
            memcpy(&n, tb + off + 4, 4);
            off += 8;
            if (n < 0 || off + (gsize)n > tl) {
                ok = FALSE;
                break;
            }
            /* ids 0 and V−1 are our UNK and separator: their names are not characters. */
            if (id > 0 && id + 1 < V) {
                if (!g_utf8_validate(tb + off, n, NULL) || g_utf8_strlen(tb + off, n) != 1) {
                    g_string_free(chars, TRUE);
                    aigc_gpt_free(gpt);
                    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                                "%s: piece %" G_GUINT64_FORMAT " is not one character; only "
                                "character vocabularies can be imported",
                                tokenizer_path, id);
                    return NULL;
                }
                g_string_append_len(chars, tb + off, n);
            }
            off += (gsize)n;
        }
        AigcTokenizer *tok = ok ? aigc_tokenizer_train_char(chars->str, chars->len, 1, error) : NULL;
        g_string_free(chars, TRUE);
        if (!ok)
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "%s: truncated tokenizer", tokenizer_path);
        if (!tok || aigc_tokenizer_get_vocab_size(tok) != (int)V) {
            if (tok) {
                aigc_tokenizer_free(tok);
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                            "%s: the vocabulary does not match the model", tokenizer_path);
            }
            aigc_gpt_free(gpt);
            return NULL;
        }
        *tok_out = tok;
    }
    return gpt;
}
