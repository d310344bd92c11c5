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
    const AigcTokenizerKind kind = aigc_tokenizer_get_kind(tok);
    if (kind != AIGC_TOKENIZER_CHAR && kind != AIGC_TOKENIZER_BPE) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "only character-level and byte-pair models can be exported to llama2.c");
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
        /* run.c merges the adjacent pair whose joined text is the vocabulary piece of highest
         * score: merge i scores −i so earlier merges win, as they do here. Single characters
         * and bytes are never the result of a merge; the separator must never be formed. */
        float score = 0.0f;
        gint32 left, right;
        if (kind == AIGC_TOKENIZER_BPE && aigc_tokenizer_get_merge(tok, id, &left, &right))
            score = -(float)(id - 256);
        else if (aigc_tokenizer_is_special(tok, id))
            score = -1e9f;
        gint32 n = (gint32)len;
        g_byte_array_append(b, (const guint8 *)&score, 4);
        g_byte_array_append(b, (const guint8 *)&n, 4);
        g_byte_array_append(b, (const guint8 *)text, (guint)len);
    }
    ok = aigc_file_set_contents_atomic(tokenizer_path, b->data, b->len, error);
    g_byte_array_free(b, TRUE);
    return ok;
}

typedef struct {
    const char *text;
    gint32 len;
} Piece;

/* A byte-pair vocabulary as exported here: ids 0 … 255 are the bytes themselves. */
static gboolean pieces_are_bpe(const Piece *pieces, guint64 V)
{
    if (V < 258)
        return FALSE;
    for (int i = 0; i < 256; i++)
        if (pieces[i].len != 1 || (guint8)pieces[i].text[0] != i)
            return FALSE;
    return TRUE;
}

/* Rebuilds the merge table from the pieces: piece k (256 ≤ k < V − 1) joins two earlier pieces.
 * When its text splits into earlier pieces in more than one way, the split whose later part is
 * the earliest is taken (the pair that existed first). */
static AigcTokenizer *bpe_from_pieces(const char *path, const Piece *pieces, guint64 V,
                                      GError **error)
{
    g_autoptr(GHashTable) ids = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
                                                      (GDestroyNotify)g_bytes_unref, NULL);
    GString *json = g_string_new(NULL);
    g_string_append_printf(json, "{\"format\": \"aigc-tokenizer\", \"version\": 1, \"kind\": "
                                 "\"bpe\", \"vocab_size\": %" G_GUINT64_FORMAT ", \"bos\": %"
                                 G_GUINT64_FORMAT ", \"eos\": %" G_GUINT64_FORMAT ", \"merges\": [",
                           V, V - 1, V - 1);
    for (guint64 k = 0; k < V - 1; k++) {
        const Piece *pc = &pieces[k];
        if (k >= 256) {
            gint64 best_l = -1, best_r = -1;
            for (gint32 at = 1; at < pc->len; at++) {
                g_autoptr(GBytes) a = g_bytes_new_static(pc->text, (gsize)at);
                g_autoptr(GBytes) b = g_bytes_new_static(pc->text + at, (gsize)(pc->len - at));
                gpointer l, r;
                if (g_hash_table_lookup_extended(ids, a, NULL, &l) &&
                    g_hash_table_lookup_extended(ids, b, NULL, &r)) {
                    gint64 li = GPOINTER_TO_INT(l), ri = GPOINTER_TO_INT(r);
                    if (best_l < 0 || MAX(li, ri) < MAX(best_l, best_r)) {
                        best_l = li;
                        best_r = ri;
                    }
                }
            }
            if (best_l < 0) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                            "%s: piece %" G_GUINT64_FORMAT " is not two earlier pieces joined; "
                            "only vocabularies exported by this program can be imported",
                            path, k);
                g_string_free(json, TRUE);
                return NULL;
            }
            g_string_append_printf(json, "%s%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT,
                                   k > 256 ? ", " : "", best_l, best_r);
        }
        GBytes *key = g_bytes_new(pc->text, (gsize)pc->len);
        if (!g_hash_table_contains(ids, key))
            g_hash_table_insert(ids, key, GINT_TO_POINTER((gint)k));
        else
            g_bytes_unref(key);
    }
    g_string_append(json, "]}");
    AigcTokenizer *tok = aigc_tokenizer_new_from_json(json->str, error);
    g_string_free(json, TRUE);
    return tok;
}

/* tokenizer.bin of V pieces → a character or byte-pair tokenizer like the one exported. */
static AigcTokenizer *read_tokenizer(const char *path, guint64 V, GError **error)
{
    g_autofree char *tb = NULL;
    gsize tl = 0;
    if (!g_file_get_contents(path, &tb, &tl, error))
        return NULL;
    g_autofree Piece *pieces = g_new0(Piece, V);
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
        if (n < 0 || n > AIGC_TOKENIZER_MAX_TOKEN_BYTES || off + (gsize)n > tl) {
            ok = FALSE;
            break;
        }
        pieces[id] = (Piece){tb + off, n};
        off += (gsize)n;
    }
    if (!ok) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: truncated tokenizer", path);
        return NULL;
    }
    if (pieces_are_bpe(pieces, V))
        return bpe_from_pieces(path, pieces, V, error);
    GString *chars = g_string_new(NULL);
    /* ids 0 and V−1 are our UNK and separator: their names are not characters. */
    for (guint64 id = 1; id + 1 < V; id++) {
        if (!g_utf8_validate(pieces[id].text, pieces[id].len, NULL) ||
            g_utf8_strlen(pieces[id].text, pieces[id].len) != 1) {
            g_string_free(chars, TRUE);
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                        "%s: piece %" G_GUINT64_FORMAT " is not one character; only character "
                        "and byte-pair vocabularies exported by this program can be imported",
                        path, id);
            return NULL;
        }
        g_string_append_len(chars, pieces[id].text, pieces[id].len);
    }
    AigcTokenizer *tok = aigc_tokenizer_train_char(chars->str, chars->len, 1, error);
    g_string_free(chars, TRUE);
    if (tok && aigc_tokenizer_get_vocab_size(tok) != (int)V) {
        aigc_tokenizer_free(tok);
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: the vocabulary does not match the model", path);
        return NULL;
    }
    return tok;
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
        AigcTokenizer *tok = read_tokenizer(tokenizer_path, V, error);
        if (!tok) {
            aigc_gpt_free(gpt);
            return NULL;
        }
        *tok_out = tok;
    }
    return gpt;
}
