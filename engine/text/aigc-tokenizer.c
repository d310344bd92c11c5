/* SPDX-License-Identifier: MIT
 *
 * The tokenizer object: vocabularies of the three kinds, UTF-8 handling, encoding (in parallel
 * chunks for long texts), one-shot and streaming decoding, and the JSON form kept in weights
 * files. BPE training and piece encoding live in aigc-bpe.c.
 *
 * DESIGN (file format): the JSON written by aigc_tokenizer_to_json is the whole tokenizer, and
 * a tokenizer is only ever built by tokenizer_build(), which both training and loading go
 * through; it checks every code point and merge, so a tokenizer that exists is consistent and
 * the encoders and decoders need no checks of their own. Loading also requires exactly the
 * members of the kind, each of its JSON type, so a misspelt or misplaced field is an error
 * rather than a silent default.
 *
 * DESIGN (parallel encoding): a long text is cut into chunks at places where the serial
 * encoder's output splits too — BPE piece boundaries, or, for CHAR, before an ASCII byte
 * (which is never part of a multi-byte or invalid sequence) — so the chunks' concatenated
 * encodings equal the serial one. Every id consumes at least one byte, so the encoding of the
 * chunk at byte offset b fits in the destination at index b; the chunks are then moved down
 * to close the gaps.
 */
#include "aigc-tokenizer.h"

#include "aigc-bpe.h"
#include "aigc-error.h"
#include "tensor/aigc-threads.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define UNK_TEXT       "<unk>"
#define SEPARATOR_TEXT "<|endoftext|>"
#define FORMAT_NAME    "aigc-tokenizer"
#define FORMAT_VERSION 1
#define PAGE_BITS      12 /* code point → id lookup: pages of 4096 code points */
#define N_PAGES        (0x110000 >> PAGE_BITS)
#define MAX_TEXT_BYTES (64u << 20) /* all token texts of one tokenizer together */
#define MAX_JSON_DEPTH 8           /* the format needs 2 */
#define CHUNK_BYTES    (64 * 1024) /* parallel encoding: target chunk size */

static const char replacement_utf8[] = "\xEF\xBF\xBD"; /* U+FFFD */

struct _AigcTokenizer {
    AigcTokenizerKind kind;
    int vocab_size;
    gint32 unk, eos; /* −1 when the kind has none */
    /* token texts, each followed by a NUL in text */
    guint32 *text_begin, *text_len; /* (vocab_size) */
    char *text;
    /* CHAR */
    int n_chars;
    gint32 *code_points;    /* (n_chars) code point of id 1 + i */
    gint32 *pages[N_PAGES]; /* (4096) id of each code point of the page, 0 = UNK; NULL = all UNK */
    /* BPE */
    int n_merges;
    gint32 *merges;   /* (n_merges, 2) left, right of token 256 + i */
    AigcBpeMap ranks; /* (left, right) → merged id */
};

/* ---- UTF-8 ---- */

/* Decodes the character at s (n ≥ 1 bytes available). Returns its code point, with *used
 * bytes; or −1 for an invalid sequence, *used being its maximal subpart (≥ 1 byte); or −2 when
 * s holds a valid prefix that the end of the input cuts short (*used = n). */
static gint32 utf8_next(const guint8 *s, gsize n, gsize *used)
{
    guint8 c = s[0];
    if (c < 0x80) {
        *used = 1;
        return c;
    }
    int need;
    guint8 lo = 0x80, hi = 0xBF; /* the range of the next byte (Unicode table 3-7) */
    gint32 cp;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        *used = 1;
        return -1;
    }
    for (int k = 1; k <= need; k++) {
        if ((gsize)k >= n) {
            *used = n;
            return -2;
        }
        if (s[k] < lo || s[k] > hi) {
            *used = (gsize)k;
            return -1;
        }
        cp = cp << 6 | (s[k] & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *used = (gsize)need + 1;
    return cp;
}

gint64 aigc_utf8_count_chars(const char *text, gsize len)
{
    g_return_val_if_fail(text != NULL || len == 0, 0);
    const guint8 *s = (const guint8 *)text;
    gint64 n = 0;
    for (gsize i = 0; i < len;) {
        if (s[i] < 0x80) {
            i++;
        } else {
            gsize used;
            utf8_next(s + i, len - i, &used);
            i += used;
        }
        n++;
    }
    return n;
}

/* ---- building ---- */

static gboolean valid_code_point(gint32 cp)
{
    return cp >= 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) && cp != 0xFFFD;
}

/* Makes a tokenizer of `kind` from its tables, taking ownership of code_points and merges
 * (which may be NULL when their count is 0). Checks everything: training and JSON both come
 * here. */
static AigcTokenizer *tokenizer_build(AigcTokenizerKind kind, gint32 *code_points, int n_chars,
                                      gint32 *merges, int n_merges, GError **error)
{
    g_autoptr(AigcTokenizer) tok = g_new0(AigcTokenizer, 1);
    tok->kind = kind;
    tok->code_points = code_points;
    tok->n_chars = n_chars;
    tok->merges = merges;
    tok->n_merges = n_merges;
    tok->unk = tok->eos = -1;
    gsize n_text = 0;

    switch (kind) {
    case AIGC_TOKENIZER_BYTE:
        tok->vocab_size = 256;
        n_text = 2 * 256;
        break;
    case AIGC_TOKENIZER_CHAR:
        if (n_chars < 0 || n_chars > AIGC_TOKENIZER_MAX_CHAR_VOCAB - 2) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "tokenizer: %d code points is more than a CHAR tokenizer can hold",
                        n_chars);
            return NULL;
        }
        tok->vocab_size = n_chars + 2;
        tok->unk = 0;
        tok->eos = n_chars + 1;
        n_text = sizeof UNK_TEXT + sizeof SEPARATOR_TEXT;
        for (int i = 0; i < n_chars; i++) {
            gint32 cp = code_points[i];
            if (!valid_code_point(cp)) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                            "tokenizer: code point %d of id %d is not a character it can hold", cp,
                            i + 1);
                return NULL;
            }
            gint32 **page = &tok->pages[cp >> PAGE_BITS];
            if (!*page)
                *page = g_new0(gint32, 1 << PAGE_BITS);
            gint32 *slot = &(*page)[cp & ((1 << PAGE_BITS) - 1)];
            if (*slot) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                            "tokenizer: code point U+%04X appears twice (ids %d and %d)", (guint)cp,
                            *slot, i + 1);
                return NULL;
            }
            *slot = i + 1;
            n_text += (gsize)g_unichar_to_utf8((gunichar)cp, NULL) + 1;
        }
        break;
    case AIGC_TOKENIZER_BPE: {
        if (n_merges < 0 || n_merges > AIGC_TOKENIZER_MAX_BPE_VOCAB - 257) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "tokenizer: %d merges is more than a BPE tokenizer can hold", n_merges);
            return NULL;
        }
        tok->vocab_size = 256 + n_merges + 1;
        tok->eos = 256 + n_merges;
        aigc_bpe_map_init(&tok->ranks, (gsize)n_merges);
        n_text = 2 * 256 + sizeof SEPARATOR_TEXT;
        /* lengths first, so a table of ever-doubling tokens is refused before allocating */
        tok->text_len = g_new(guint32, (gsize)tok->vocab_size);
        for (int i = 0; i < 256; i++)
            tok->text_len[i] = 1;
        for (int i = 0; i < n_merges; i++) {
            gint32 id = 256 + i, left = merges[2 * i], right = merges[2 * i + 1];
            if (left < 0 || left >= id || right < 0 || right >= id) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                            "tokenizer: merge %d (token %d) joins tokens %d and %d, but may "
                            "only join tokens 0 … %d",
                            i, id, left, right, id - 1);
                return NULL;
            }
            if (!aigc_bpe_map_insert(&tok->ranks, left, right, id)) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                            "tokenizer: merge %d (token %d) repeats the merge of tokens %d "
                            "and %d into token %d",
                            i, id, left, right, aigc_bpe_map_get(&tok->ranks, left, right));
                return NULL;
            }
            guint32 n = tok->text_len[left] + tok->text_len[right];
            if (n > AIGC_TOKENIZER_MAX_TOKEN_BYTES) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                            "tokenizer: token %d is %u bytes long, more than the limit of %d", id,
                            n, AIGC_TOKENIZER_MAX_TOKEN_BYTES);
                return NULL;
            }
            tok->text_len[id] = n;
            n_text += n + 1;
        }
        if (n_text > MAX_TEXT_BYTES) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "tokenizer: its tokens hold %" G_GSIZE_FORMAT " bytes in all, more "
                        "than the limit of %u",
                        n_text, MAX_TEXT_BYTES);
            return NULL;
        }
        break;
    }
    default:
        g_return_val_if_reached(NULL);
    }

    /* Token texts, each NUL-terminated. */
    int v = tok->vocab_size;
    tok->text = g_new(char, n_text);
    tok->text_begin = g_new(guint32, (gsize)v);
    if (!tok->text_len)
        tok->text_len = g_new(guint32, (gsize)v);
    char *p = tok->text;
#define PUT_TOKEN(id, bytes, n)                                                                    \
    do {                                                                                           \
        tok->text_begin[id] = (guint32)(p - tok->text);                                            \
        tok->text_len[id] = (guint32)(n);                                                          \
        memcpy(p, (bytes), (n));                                                                   \
        p[n] = '\0';                                                                               \
        p += (n) + 1;                                                                              \
    } while (0)
    if (kind == AIGC_TOKENIZER_CHAR) {
        PUT_TOKEN(0, UNK_TEXT, strlen(UNK_TEXT));
        for (int i = 0; i < n_chars; i++) {
            char utf8[8];
            int n = g_unichar_to_utf8((gunichar)code_points[i], utf8);
            PUT_TOKEN(i + 1, utf8, (gsize)n);
        }
    } else {
        for (int i = 0; i < 256; i++) {
            char byte = (char)i;
            PUT_TOKEN(i, &byte, 1);
        }
        for (int i = 0; i < n_merges; i++) {
            gint32 id = 256 + i, left = merges[2 * i], right = merges[2 * i + 1];
            guint32 n_left = tok->text_len[left], n_right = tok->text_len[right];
            tok->text_begin[id] = (guint32)(p - tok->text);
            memcpy(p, tok->text + tok->text_begin[left], n_left);
            memcpy(p + n_left, tok->text + tok->text_begin[right], n_right);
            p[n_left + n_right] = '\0';
            p += n_left + n_right + 1;
        }
    }
    if (tok->eos >= 0)
        PUT_TOKEN(tok->eos, SEPARATOR_TEXT, strlen(SEPARATOR_TEXT));
#undef PUT_TOKEN
    g_assert((gsize)(p - tok->text) == n_text);
    return g_steal_pointer(&tok);
}

AigcTokenizer *aigc_tokenizer_new_byte(void)
{
    return tokenizer_build(AIGC_TOKENIZER_BYTE, NULL, 0, NULL, 0, NULL);
}

AigcTokenizer *aigc_tokenizer_train_char(const char *text, gsize len, int min_count, GError **error)
{
    g_return_val_if_fail(text != NULL || len == 0, NULL);
    if (min_count < 1) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "a character's minimum count must be at least 1, not %d", min_count);
        return NULL;
    }
    if (len > AIGC_TOKENIZER_MAX_TRAIN_BYTES) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "a tokenizer's training text must be at most %d MiB",
                    AIGC_TOKENIZER_MAX_TRAIN_BYTES >> 20);
        return NULL;
    }
    guint32 *counts[N_PAGES] = {0}; /* per page (4096) occurrences of each code point */
    const guint8 *s = (const guint8 *)text;
    for (gsize i = 0; i < len;) {
        gsize used;
        gint32 cp = utf8_next(s + i, len - i, &used);
        i += used;
        if (cp < 0 || cp == 0xFFFD) /* U+FFFD is UNK's text, never a token of its own */
            continue;
        guint32 **page = &counts[cp >> PAGE_BITS];
        if (!*page)
            *page = g_new0(guint32, 1 << PAGE_BITS);
        (*page)[cp & ((1 << PAGE_BITS) - 1)]++;
    }
    GArray *kept = g_array_new(FALSE, FALSE, sizeof(gint32));
    for (int i_page = 0; i_page < N_PAGES; i_page++) {
        if (!counts[i_page])
            continue;
        for (int k = 0; k < 1 << PAGE_BITS; k++) {
            if (counts[i_page][k] >= (guint32)min_count) {
                gint32 cp = i_page << PAGE_BITS | k;
                g_array_append_val(kept, cp);
            }
        }
        g_free(counts[i_page]);
    }
    int n_chars = (int)kept->len;
    return tokenizer_build(AIGC_TOKENIZER_CHAR, (gint32 *)(void *)g_array_free(kept, FALSE),
                           n_chars, NULL, 0, error);
}

AigcTokenizer *aigc_tokenizer_train_bpe(const char *text, gsize len, int vocab_size,
                                        AigcBpeProgressFunc progress, gpointer user_data,
                                        GError **error)
{
    g_return_val_if_fail(text != NULL || len == 0, NULL);
    if (vocab_size < 257 || vocab_size > AIGC_TOKENIZER_MAX_BPE_VOCAB) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "a BPE vocabulary must have 257 … %d tokens, not %d",
                    AIGC_TOKENIZER_MAX_BPE_VOCAB, vocab_size);
        return NULL;
    }
    if (len > AIGC_TOKENIZER_MAX_TRAIN_BYTES) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "a tokenizer's training text must be at most %d MiB",
                    AIGC_TOKENIZER_MAX_TRAIN_BYTES >> 20);
        return NULL;
    }
    gint32 *merges;
    int n_merges;
    if (!aigc_bpe_train((const guint8 *)text, len, vocab_size - 257, progress, user_data, &merges,
                        &n_merges, error))
        return NULL;
    return tokenizer_build(AIGC_TOKENIZER_BPE, NULL, 0, merges, n_merges, error);
}

void aigc_tokenizer_free(AigcTokenizer *tok)
{
    if (!tok)
        return;
    g_free(tok->text_begin);
    g_free(tok->text_len);
    g_free(tok->text);
    g_free(tok->code_points);
    for (int i = 0; i < N_PAGES; i++)
        g_free(tok->pages[i]);
    g_free(tok->merges);
    aigc_bpe_map_clear(&tok->ranks);
    g_free(tok);
}

/* ---- accessors ---- */

AigcTokenizerKind aigc_tokenizer_get_kind(AigcTokenizer *tok)
{
    g_return_val_if_fail(tok != NULL, AIGC_TOKENIZER_BYTE);
    return tok->kind;
}

const char *aigc_tokenizer_kind_name(AigcTokenizerKind kind)
{
    switch (kind) {
    case AIGC_TOKENIZER_BYTE:
        return "byte";
    case AIGC_TOKENIZER_CHAR:
        return "char";
    case AIGC_TOKENIZER_BPE:
        return "bpe";
    }
    g_return_val_if_reached("?");
}

int aigc_tokenizer_get_vocab_size(AigcTokenizer *tok)
{
    g_return_val_if_fail(tok != NULL, 0);
    return tok->vocab_size;
}

gint32 aigc_tokenizer_get_bos(AigcTokenizer *tok)
{
    g_return_val_if_fail(tok != NULL, -1);
    return tok->eos;
}

gint32 aigc_tokenizer_get_eos(AigcTokenizer *tok)
{
    g_return_val_if_fail(tok != NULL, -1);
    return tok->eos;
}

gint32 aigc_tokenizer_get_unk(AigcTokenizer *tok)
{
    g_return_val_if_fail(tok != NULL, -1);
    return tok->unk;
}

gboolean aigc_tokenizer_is_special(AigcTokenizer *tok, gint32 id)
{
    g_return_val_if_fail(tok != NULL, FALSE);
    return id >= 0 && (id == tok->unk || id == tok->eos);
}

gboolean aigc_tokenizer_get_merge(AigcTokenizer *tok, gint32 id, gint32 *left, gint32 *right)
{
    g_return_val_if_fail(tok != NULL, FALSE);
    if (tok->kind != AIGC_TOKENIZER_BPE || id < 256 || id >= 256 + tok->n_merges)
        return FALSE;
    if (left)
        *left = tok->merges[2 * (id - 256)];
    if (right)
        *right = tok->merges[2 * (id - 256) + 1];
    return TRUE;
}

const char *aigc_tokenizer_token_text(AigcTokenizer *tok, gint32 id, gsize *len)
{
    g_return_val_if_fail(tok != NULL, NULL);
    g_return_val_if_fail(id >= 0 && id < tok->vocab_size, NULL);
    if (len)
        *len = tok->text_len[id];
    return tok->text + tok->text_begin[id];
}

/* ---- encoding ---- */

static int encode_char_range(AigcTokenizer *tok, const guint8 *s, gsize n, gint32 *out)
{
    int n_out = 0;
    for (gsize i = 0; i < n;) {
        gsize used;
        gint32 cp = utf8_next(s + i, n - i, &used);
        i += used;
        gint32 id = 0;
        if (cp >= 0) {
            const gint32 *page = tok->pages[cp >> PAGE_BITS];
            id = page ? page[cp & ((1 << PAGE_BITS) - 1)] : 0;
        }
        out[n_out++] = id;
    }
    return n_out;
}

static int encode_bpe_range(AigcTokenizer *tok, const guint8 *s, gsize n, gint32 *out,
                            AigcBpeScratch *scratch)
{
    int n_out = 0;
    for (gsize begin = 0; begin < n;) {
        gsize end = aigc_bpe_piece_end(s, n, begin);
        n_out +=
            aigc_bpe_encode_piece(&tok->ranks, s + begin, (int)(end - begin), out + n_out, scratch);
        begin = end;
    }
    return n_out;
}

typedef struct {
    AigcTokenizer *tok;
    const guint8 *text;
    const gsize *bounds; /* (n_chunks + 1) byte offsets */
    gint32 *dest;        /* chunk c's ids start at dest + bounds[c] */
    int *counts;         /* (n_chunks) */
} EncodeTask;

static void encode_chunks(gint64 c_begin, gint64 c_end, gpointer data)
{
    EncodeTask *task = data;
    AigcBpeScratch scratch = {0};
    for (gint64 c = c_begin; c < c_end; c++) {
        gsize b = task->bounds[c], n = task->bounds[c + 1] - b;
        if (task->tok->kind == AIGC_TOKENIZER_CHAR)
            task->counts[c] = encode_char_range(task->tok, task->text + b, n, task->dest + b);
        else
            task->counts[c] =
                encode_bpe_range(task->tok, task->text + b, n, task->dest + b, &scratch);
    }
    aigc_bpe_scratch_clear(&scratch);
}

/* Whether the serial encoder's output also splits before byte i (0 < i < len). */
static gboolean can_split(AigcTokenizer *tok, const guint8 *s, gsize i)
{
    if (tok->kind == AIGC_TOKENIZER_CHAR)
        return s[i] < 0x80;
    return aigc_bpe_is_boundary(s, i);
}

int aigc_tokenizer_encode(AigcTokenizer *tok, const char *text, gssize len, gint32 *out,
                          int max_out)
{
    g_return_val_if_fail(tok != NULL, -1);
    g_return_val_if_fail(text != NULL || len <= 0, -1);
    g_return_val_if_fail(max_out >= 0 && (out != NULL || max_out == 0), -1);
    gsize n = len >= 0 ? (gsize)len : (text ? strlen(text) : 0);
    g_return_val_if_fail(n <= G_MAXINT, -1);
    const guint8 *s = (const guint8 *)text;

    if (tok->kind == AIGC_TOKENIZER_BYTE) {
        gsize n_copy = MIN(n, (gsize)max_out);
        for (gsize i = 0; i < n_copy; i++)
            out[i] = s[i];
        return (int)n;
    }
    if (n == 0)
        return 0;

    gsize n_chunks = MAX(n / CHUNK_BYTES, 1);
    gsize *bounds = g_new(gsize, n_chunks + 1);
    bounds[0] = 0;
    for (gsize c = 1; c < n_chunks; c++) {
        gsize i = MAX(c * (n / n_chunks), bounds[c - 1]);
        while (i > 0 && i < n && !can_split(tok, s, i))
            i++;
        bounds[c] = i;
    }
    bounds[n_chunks] = n;

    /* Ids never outnumber bytes, so chunk c fits at dest + bounds[c]. */
    gint32 *dest = (gsize)max_out >= n ? out : g_new(gint32, n);
    int *counts = g_new(int, n_chunks);
    EncodeTask task = {tok, s, bounds, dest, counts};
    aigc_parallel_for((gint64)n_chunks, 1, encode_chunks, &task);

    gsize n_total = 0;
    for (gsize c = 0; c < n_chunks; c++) {
        if (n_total != bounds[c])
            memmove(dest + n_total, dest + bounds[c], (gsize)counts[c] * sizeof(gint32));
        n_total += (gsize)counts[c];
    }
    if (dest != out) {
        if (max_out > 0)
            memcpy(out, dest, MIN(n_total, (gsize)max_out) * sizeof(gint32));
        g_free(dest);
    }
    g_free(counts);
    g_free(bounds);
    return (int)n_total;
}

/* ---- decoding ---- */

struct _AigcTokenDecoder {
    AigcTokenizer *tok;
    guint8 held[4]; /* the bytes of an incomplete but so far valid character */
    int n_held;
    int n_need;    /* continuation bytes still missing */
    guint8 lo, hi; /* the range of the next one */
};

AigcTokenDecoder *aigc_token_decoder_new(AigcTokenizer *tok)
{
    g_return_val_if_fail(tok != NULL, NULL);
    AigcTokenDecoder *dec = g_new0(AigcTokenDecoder, 1);
    dec->tok = tok;
    return dec;
}

void aigc_token_decoder_free(AigcTokenDecoder *dec)
{
    g_free(dec);
}

/* Starts holding the valid but incomplete prefix s[0 … n) (1 ≤ n ≤ 3). */
static void decoder_hold(AigcTokenDecoder *dec, const guint8 *s, gsize n)
{
    guint8 c = s[0];
    int total = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    memcpy(dec->held, s, n);
    dec->n_held = (int)n;
    dec->n_need = total - (int)n;
    dec->lo = 0x80;
    dec->hi = 0xBF;
    if (n == 1) { /* the second byte's range depends on the lead byte */
        if (c == 0xE0)
            dec->lo = 0xA0;
        else if (c == 0xED)
            dec->hi = 0x9F;
        else if (c == 0xF0)
            dec->lo = 0x90;
        else if (c == 0xF4)
            dec->hi = 0x8F;
    }
}

/* Appends the complete characters of s (n bytes) after the held bytes, holding a cut-off
 * tail. Invalid sequences become U+FFFD, by the same rule as utf8_next(). */
static void decoder_feed(AigcTokenDecoder *dec, const guint8 *s, gsize n, GString *out)
{
    gsize i = 0;
    while (dec->n_held > 0 && i < n) {
        if (s[i] < dec->lo || s[i] > dec->hi) { /* the held prefix is a maximal subpart */
            g_string_append(out, replacement_utf8);
            dec->n_held = 0;
            break; /* s[i] starts afresh below */
        }
        dec->held[dec->n_held++] = s[i++];
        dec->lo = 0x80;
        dec->hi = 0xBF;
        if (--dec->n_need == 0) {
            g_string_append_len(out, (const char *)dec->held, dec->n_held);
            dec->n_held = 0;
        }
    }
    gsize run = i; /* start of the pending run of valid bytes */
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        gsize used;
        gint32 cp = utf8_next(s + i, n - i, &used);
        if (cp >= 0) {
            i += used;
            continue;
        }
        g_string_append_len(out, (const char *)s + run, (gssize)(i - run));
        if (cp == -2) {
            decoder_hold(dec, s + i, used);
        } else {
            g_string_append(out, replacement_utf8);
        }
        i += used;
        run = i;
    }
    g_string_append_len(out, (const char *)s + run, (gssize)(i - run));
}

gsize aigc_token_decoder_push(AigcTokenDecoder *dec, gint32 id, GString *out)
{
    g_return_val_if_fail(dec != NULL && out != NULL, 0);
    gsize before = out->len;
    AigcTokenizer *tok = dec->tok;
    if (id == tok->eos && id >= 0)
        return 0; /* the separator stands for no text */
    if (id < 0 || id >= tok->vocab_size || id == tok->unk)
        decoder_feed(dec, (const guint8 *)replacement_utf8, 3, out);
    else
        decoder_feed(dec, (const guint8 *)tok->text + tok->text_begin[id], tok->text_len[id], out);
    return out->len - before;
}

gsize aigc_token_decoder_flush(AigcTokenDecoder *dec, GString *out)
{
    g_return_val_if_fail(dec != NULL && out != NULL, 0);
    if (dec->n_held == 0)
        return 0;
    dec->n_held = 0;
    g_string_append(out, replacement_utf8);
    return 3;
}

char *aigc_tokenizer_decode(AigcTokenizer *tok, const gint32 *ids, int n)
{
    g_return_val_if_fail(tok != NULL, NULL);
    g_return_val_if_fail(n >= 0 && (ids != NULL || n == 0), NULL);
    AigcTokenDecoder dec = {.tok = tok};
    GString *out = g_string_sized_new((gsize)n * 2 + 1);
    for (int i = 0; i < n; i++)
        aigc_token_decoder_push(&dec, ids[i], out);
    aigc_token_decoder_flush(&dec, out);
    return g_string_free(out, FALSE);
}

/* ---- JSON ---- */

char *aigc_tokenizer_to_json(AigcTokenizer *tok)
{
    g_return_val_if_fail(tok != NULL, NULL);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, FORMAT_NAME);
    json_builder_set_member_name(b, "version");
    json_builder_add_int_value(b, FORMAT_VERSION);
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, aigc_tokenizer_kind_name(tok->kind));
    json_builder_set_member_name(b, "vocab_size");
    json_builder_add_int_value(b, tok->vocab_size);
    if (tok->unk >= 0) {
        json_builder_set_member_name(b, "unk");
        json_builder_add_int_value(b, tok->unk);
    }
    if (tok->eos >= 0) {
        json_builder_set_member_name(b, "bos");
        json_builder_add_int_value(b, tok->eos);
        json_builder_set_member_name(b, "eos");
        json_builder_add_int_value(b, tok->eos);
    }
    if (tok->kind == AIGC_TOKENIZER_CHAR) {
        json_builder_set_member_name(b, "code_points");
        json_builder_begin_array(b);
        for (int i = 0; i < tok->n_chars; i++)
            json_builder_add_int_value(b, tok->code_points[i]);
        json_builder_end_array(b);
    } else if (tok->kind == AIGC_TOKENIZER_BPE) {
        json_builder_set_member_name(b, "merges");
        json_builder_begin_array(b);
        for (int i = 0; i < 2 * tok->n_merges; i++)
            json_builder_add_int_value(b, tok->merges[i]);
        json_builder_end_array(b);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

#define FORMAT_ERROR(error, ...)                                                                   \
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "tokenizer: " __VA_ARGS__)

static gboolean get_int(JsonObject *obj, const char *name, gint64 *value, GError **error)
{
    JsonNode *node = json_object_get_member(obj, name);
    if (!node) {
        FORMAT_ERROR(error, "\"%s\" is missing", name);
        return FALSE;
    }
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64) {
        FORMAT_ERROR(error, "\"%s\" is not an integer", name);
        return FALSE;
    }
    *value = json_node_get_int(node);
    return TRUE;
}

static const char *get_string(JsonObject *obj, const char *name, GError **error)
{
    JsonNode *node = json_object_get_member(obj, name);
    if (!node) {
        FORMAT_ERROR(error, "\"%s\" is missing", name);
        return NULL;
    }
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
        FORMAT_ERROR(error, "\"%s\" is not a string", name);
        return NULL;
    }
    return json_node_get_string(node);
}

/* (transfer full) An array of integers in [lo, hi]: *n of them, a multiple of `group`. */
static gint32 *get_int_array(JsonObject *obj, const char *name, gint64 lo, gint64 hi, guint group,
                             guint max_n, guint *n, GError **error)
{
    JsonNode *node = json_object_get_member(obj, name);
    if (!node) {
        FORMAT_ERROR(error, "\"%s\" is missing", name);
        return NULL;
    }
    if (!JSON_NODE_HOLDS_ARRAY(node)) {
        FORMAT_ERROR(error, "\"%s\" is not an array", name);
        return NULL;
    }
    JsonArray *array = json_node_get_array(node);
    guint len = json_array_get_length(array);
    if (len % group != 0 || len > max_n) {
        FORMAT_ERROR(error, "\"%s\" has %u items, %s", name, len,
                     len > max_n ? "too many" : "not a whole number of pairs");
        return NULL;
    }
    gint32 *values = g_new(gint32, MAX(len, 1));
    for (guint i = 0; i < len; i++) {
        JsonNode *item = json_array_get_element(array, i);
        if (!JSON_NODE_HOLDS_VALUE(item) || json_node_get_value_type(item) != G_TYPE_INT64 ||
            json_node_get_int(item) < lo || json_node_get_int(item) > hi) {
            FORMAT_ERROR(error,
                         "item %u of \"%s\" is not an integer in %" G_GINT64_FORMAT
                         " … %" G_GINT64_FORMAT,
                         i, name, lo, hi);
            g_free(values);
            return NULL;
        }
        values[i] = (gint32)json_node_get_int(item);
    }
    *n = len;
    return values;
}

/* json-glib parses recursively without a depth limit, so a few hundred thousand '[' would
 * overflow the stack. The tokenizer's JSON nests two levels deep; deeper text is refused
 * before json-glib sees it. */
static gboolean nesting_at_most(const char *json, int max_depth)
{
    int depth = 0;
    gboolean in_string = FALSE;
    for (const char *p = json; *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_string = FALSE;
        } else if (*p == '"') {
            in_string = TRUE;
        } else if (*p == '[' || *p == '{') {
            if (++depth > max_depth)
                return FALSE;
        } else if (*p == ']' || *p == '}') {
            depth--;
        }
    }
    return TRUE;
}

AigcTokenizer *aigc_tokenizer_new_from_json(const char *json, GError **error)
{
    g_return_val_if_fail(json != NULL, NULL);
    if (!nesting_at_most(json, MAX_JSON_DEPTH)) {
        FORMAT_ERROR(error, "JSON nested more than %d levels deep", MAX_JSON_DEPTH);
        return NULL;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) parse_error = NULL;
    if (!json_parser_load_from_data(parser, json, -1, &parse_error)) {
        FORMAT_ERROR(error, "not valid JSON (%s)", parse_error->message);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        FORMAT_ERROR(error, "not a JSON object");
        return NULL;
    }
    JsonObject *obj = json_node_get_object(root);

    const char *format = get_string(obj, "format", error);
    if (!format)
        return NULL;
    if (strcmp(format, FORMAT_NAME) != 0) {
        FORMAT_ERROR(error, "the format is \"%s\", not \"" FORMAT_NAME "\"", format);
        return NULL;
    }
    gint64 version, vocab_size;
    if (!get_int(obj, "version", &version, error))
        return NULL;
    if (version != FORMAT_VERSION) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "tokenizer: version %" G_GINT64_FORMAT " is not supported (only %d)", version,
                    FORMAT_VERSION);
        return NULL;
    }
    const char *kind_name = get_string(obj, "kind", error);
    if (!kind_name || !get_int(obj, "vocab_size", &vocab_size, error))
        return NULL;

    static const char *const byte_members[] = {"format", "version", "kind", "vocab_size", NULL};
    static const char *const char_members[] = {
        "format", "version", "kind", "vocab_size", "unk", "bos", "eos", "code_points", NULL};
    static const char *const bpe_members[] = {"format", "version", "kind",   "vocab_size",
                                              "bos",    "eos",     "merges", NULL};
    AigcTokenizerKind kind;
    const char *const *members;
    if (strcmp(kind_name, "byte") == 0) {
        kind = AIGC_TOKENIZER_BYTE;
        members = byte_members;
    } else if (strcmp(kind_name, "char") == 0) {
        kind = AIGC_TOKENIZER_CHAR;
        members = char_members;
    } else if (strcmp(kind_name, "bpe") == 0) {
        kind = AIGC_TOKENIZER_BPE;
        members = bpe_members;
    } else {
        FORMAT_ERROR(error, "unknown kind \"%s\"", kind_name);
        return NULL;
    }
    g_autoptr(GList) names = json_object_get_members(obj);
    for (GList *l = names; l; l = l->next) {
        if (!g_strv_contains(members, l->data)) {
            FORMAT_ERROR(error, "unexpected member \"%s\" for kind \"%s\"", (const char *)l->data,
                         kind_name);
            return NULL;
        }
    }

    gint32 *code_points = NULL, *merges = NULL;
    guint n_items = 0;
    if (kind == AIGC_TOKENIZER_CHAR) {
        code_points = get_int_array(obj, "code_points", 0, 0x10FFFF, 1,
                                    AIGC_TOKENIZER_MAX_CHAR_VOCAB - 2, &n_items, error);
        if (!code_points)
            return NULL;
    } else if (kind == AIGC_TOKENIZER_BPE) {
        merges = get_int_array(obj, "merges", 0, AIGC_TOKENIZER_MAX_BPE_VOCAB, 2,
                               2 * (AIGC_TOKENIZER_MAX_BPE_VOCAB - 257), &n_items, error);
        if (!merges)
            return NULL;
        n_items /= 2;
    }
    g_autoptr(AigcTokenizer) tok =
        tokenizer_build(kind, code_points, kind == AIGC_TOKENIZER_CHAR ? (int)n_items : 0, merges,
                        kind == AIGC_TOKENIZER_BPE ? (int)n_items : 0, error);
    if (!tok)
        return NULL;

    if (vocab_size != tok->vocab_size) {
        FORMAT_ERROR(error, "vocab_size is %" G_GINT64_FORMAT " but the tables make %d tokens",
                     vocab_size, tok->vocab_size);
        return NULL;
    }
    static const char *const special_names[] = {"unk", "bos", "eos"};
    gint32 special_ids[] = {tok->unk, tok->eos, tok->eos};
    for (guint k = 0; k < G_N_ELEMENTS(special_names); k++) {
        if (special_ids[k] < 0)
            continue;
        gint64 id;
        if (!get_int(obj, special_names[k], &id, error))
            return NULL;
        if (id != special_ids[k]) {
            FORMAT_ERROR(error,
                         "\"%s\" is %" G_GINT64_FORMAT ", but a %s tokenizer of %d "
                         "tokens has it at %d",
                         special_names[k], id, kind_name, tok->vocab_size, special_ids[k]);
            return NULL;
        }
    }
    return g_steal_pointer(&tok);
}
