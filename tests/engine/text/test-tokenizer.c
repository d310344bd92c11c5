/* SPDX-License-Identifier: MIT
 *
 * Tokenizers: round trips of every kind on English and Chinese, BPE training on a ~200 KB
 * corpus (reaching its vocabulary, compressing, matching a naive full-recount trainer and a
 * naive merge-in-order encoder), determinism and thread independence, invalid UTF-8, the
 * streaming decoder on characters split across tokens, the JSON form and corrupt variants of
 * it, and encoding into a buffer that is too small.
 */
#include "aigc-engine.h"
#include "tensor/aigc-threads.h"
#include "text/aigc-tokenizer.h"

#include <string.h>

static const char english[] =
    "You will be successful in your work.\n"
    "Your lucky number has been disconnected.  Don't worry, it'll be 42 again soon!\n"
    "\tIt is a poor workman who blames his tools -- and a rich one who buys new ones.\n";

/* Li Bai, "Quiet Night Thought", and Meng Haoran, "Spring Dawn". */
static const char chinese[] = "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n"
                              "春眠不觉晓，处处闻啼鸟。\n夜来风雨声，花落知多少。\n";

/* ---- helpers ---- */

static AigcTokenizer *roundtrip_json(AigcTokenizer *tok)
{
    g_autofree char *json = aigc_tokenizer_to_json(tok);
    g_autoptr(GError) error = NULL;
    AigcTokenizer *copy = aigc_tokenizer_new_from_json(json, &error);
    g_assert_no_error(error);
    g_assert_nonnull(copy);
    g_autofree char *again = aigc_tokenizer_to_json(copy);
    g_assert_cmpstr(json, ==, again);
    return copy;
}

/* (transfer full) The ids of text, asserting the size query and the encoding agree. */
static gint32 *encode_all(AigcTokenizer *tok, const char *text, gsize len, int *n)
{
    int n_needed = aigc_tokenizer_encode(tok, text, (gssize)len, NULL, 0);
    g_assert_cmpint(n_needed, >=, 0);
    g_assert_cmpint(n_needed, <=, (int)len);
    gint32 *ids = g_new(gint32, MAX(len, 1));
    *n = aigc_tokenizer_encode(tok, text, (gssize)len, ids, (int)len);
    g_assert_cmpint(*n, ==, n_needed);
    return ids;
}

static void assert_roundtrip(AigcTokenizer *tok, const char *text)
{
    int n;
    g_autofree gint32 *ids = encode_all(tok, text, strlen(text), &n);
    int vocab = aigc_tokenizer_get_vocab_size(tok);
    for (int i = 0; i < n; i++) {
        g_assert_cmpint(ids[i], >=, 0);
        g_assert_cmpint(ids[i], <, vocab);
        g_assert_false(aigc_tokenizer_is_special(tok, ids[i]));
    }
    g_autofree char *back = aigc_tokenizer_decode(tok, ids, n);
    g_assert_cmpstr(back, ==, text);
    /* The streaming decoder, one id at a time, gives the same text. */
    g_autoptr(AigcTokenDecoder) dec = aigc_token_decoder_new(tok);
    GString *out = g_string_new(NULL);
    for (int i = 0; i < n; i++) {
        gsize before = out->len;
        gsize added = aigc_token_decoder_push(dec, ids[i], out);
        g_assert_cmpuint(added, ==, out->len - before);
        g_assert_true(g_utf8_validate(out->str, (gssize)out->len, NULL));
    }
    g_assert_cmpuint(aigc_token_decoder_flush(dec, out), ==, 0);
    g_assert_cmpstr(out->str, ==, text);
    g_string_free(out, TRUE);
}

/* ---- the pre-split and naive references, written independently of the engine ---- */

static int byte_class(guint8 b)
{
    if (b >= 0x80 || g_ascii_isalpha(b))
        return 0; /* letters and every byte of non-ASCII characters */
    if (g_ascii_isdigit(b))
        return 1;
    if (b == ' ' || b == '\t' || b == '\v' || b == '\f')
        return 2;
    if (b == '\n' || b == '\r')
        return 3;
    return 4;
}

static gsize piece_end(const guint8 *s, gsize len, gsize i)
{
    for (i++; i < len; i++) {
        int a = byte_class(s[i - 1]), b = byte_class(s[i]);
        if (a != b && !(a == 2 && b != 3))
            break;
    }
    return i;
}

/* Applies every merge, in training order, to each piece, left to right. */
static gint32 *naive_encode(AigcTokenizer *tok, const char *text, gsize len, int *n_out)
{
    const guint8 *s = (const guint8 *)text;
    gint32 *out = g_new(gint32, MAX(len, 1));
    int n = 0, vocab = aigc_tokenizer_get_vocab_size(tok);
    for (gsize begin = 0; begin < len;) {
        gsize end = piece_end(s, len, begin);
        gint32 *p = out + n;
        int m = (int)(end - begin);
        for (int i = 0; i < m; i++)
            p[i] = s[begin + i];
        for (gint32 id = 256; id < vocab && m > 1; id++) {
            gint32 left, right;
            if (!aigc_tokenizer_get_merge(tok, id, &left, &right))
                continue;
            int w = 0;
            for (int r = 0; r < m; r++) {
                if (r + 1 < m && p[r] == left && p[r + 1] == right) {
                    p[w++] = id;
                    r++;
                } else {
                    p[w++] = p[r];
                }
            }
            m = w;
        }
        n += m;
        begin = end;
    }
    *n_out = n;
    return out;
}

typedef struct {
    GArray *syms; /* gint32 */
    guint count;
} NaiveWord;

/* The textbook trainer: recounts every pair of every distinct piece before each merge. */
static GArray *naive_train(const char *text, gsize len, int n_wanted)
{
    const guint8 *s = (const guint8 *)text;
    GHashTable *index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *words = g_ptr_array_new();
    for (gsize begin = 0; begin < len;) {
        gsize end = piece_end(s, len, begin);
        char *key = g_strndup(text + begin, end - begin);
        NaiveWord *w = g_hash_table_lookup(index, key);
        if (w) {
            w->count++;
            g_free(key);
        } else {
            w = g_new0(NaiveWord, 1);
            w->syms = g_array_new(FALSE, FALSE, sizeof(gint32));
            for (gsize i = begin; i < end; i++) {
                gint32 b = s[i];
                g_array_append_val(w->syms, b);
            }
            w->count = 1;
            g_hash_table_insert(index, key, w);
            g_ptr_array_add(words, w);
        }
        begin = end;
    }
    GArray *merges = g_array_new(FALSE, FALSE, sizeof(gint32));
    for (int k = 0; k < n_wanted; k++) {
        GHashTable *counts = g_hash_table_new(g_direct_hash, g_direct_equal);
        for (guint i = 0; i < words->len; i++) {
            NaiveWord *w = words->pdata[i];
            gint32 *p = (gint32 *)(void *)w->syms->data;
            for (guint j = 0; j + 1 < w->syms->len; j++) {
                gpointer key = GSIZE_TO_POINTER((gsize)p[j] << 20 | (gsize)p[j + 1]);
                gsize c = GPOINTER_TO_SIZE(g_hash_table_lookup(counts, key));
                g_hash_table_insert(counts, key, GSIZE_TO_POINTER(c + w->count));
            }
        }
        gsize best_key = 0, best_count = 0;
        GHashTableIter iter;
        gpointer key, value;
        g_hash_table_iter_init(&iter, counts);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
            gsize c = GPOINTER_TO_SIZE(value), kk = GPOINTER_TO_SIZE(key);
            if (c > best_count || (c == best_count && kk < best_key)) {
                best_count = c;
                best_key = kk;
            }
        }
        g_hash_table_destroy(counts);
        if (best_count < 2)
            break;
        gint32 left = (gint32)(best_key >> 20), right = (gint32)(best_key & 0xFFFFF);
        gint32 id = 256 + k;
        g_array_append_val(merges, left);
        g_array_append_val(merges, right);
        for (guint i = 0; i < words->len; i++) {
            NaiveWord *w = words->pdata[i];
            gint32 *p = (gint32 *)(void *)w->syms->data;
            guint m = 0;
            for (guint r = 0; r < w->syms->len; r++) {
                if (r + 1 < w->syms->len && p[r] == left && p[r + 1] == right) {
                    p[m++] = id;
                    r++;
                } else {
                    p[m++] = p[r];
                }
            }
            g_array_set_size(w->syms, m);
        }
    }
    for (guint i = 0; i < words->len; i++) {
        NaiveWord *w = words->pdata[i];
        g_array_free(w->syms, TRUE);
        g_free(w);
    }
    g_ptr_array_free(words, TRUE);
    g_hash_table_destroy(index);
    return merges;
}

/* ---- corpora ---- */

static guint32 lcg_next(guint32 *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

/* (transfer full) A deterministic text of about n bytes: sentences of made-up words (from a
 * lexicon of 3,000 syllable combinations, Zipf-like frequencies), numbers, punctuation, and
 * every fifth sentence Chinese (characters from a pool of 400). */
static char *synthetic_text(gsize n)
{
    static const char *const onsets[] = {"",  "b", "c", "d", "f", "g", "h",  "k",  "l",  "m", "n",
                                         "p", "r", "s", "t", "v", "w", "st", "th", "pr", "ch"};
    static const char *const vowels[] = {"a", "e", "i", "o", "u", "ou", "ea", "ai"};
    static const char *const codas[] = {"", "", "n", "r", "s", "t", "ng", "ck", "ll"};
    static const char *const ends[] = {".", ",", "!", "?", ";", " --", ":"};
    enum { N_WORDS = 3000, N_HANZI = 400 };
    char *lexicon[N_WORDS];
    guint32 state = 12345;
    for (int w = 0; w < N_WORDS; w++) {
        GString *word = g_string_new(NULL);
        int n_syllables = 1 + (int)(lcg_next(&state) % 3);
        for (int k = 0; k < n_syllables; k++) {
            g_string_append(word, onsets[lcg_next(&state) % G_N_ELEMENTS(onsets)]);
            g_string_append(word, vowels[lcg_next(&state) % G_N_ELEMENTS(vowels)]);
            g_string_append(word, codas[lcg_next(&state) % G_N_ELEMENTS(codas)]);
        }
        lexicon[w] = g_string_free(word, FALSE);
    }
    GString *s = g_string_sized_new(n + 256);
    while (s->len < n) {
        int n_words = 3 + (int)(lcg_next(&state) % 12);
        gboolean hanzi = lcg_next(&state) % 5 == 0;
        for (int w = 0; w < n_words; w++) {
            /* u³ puts most draws on the first entries, like word frequencies */
            double u = (lcg_next(&state) % 100000) / 100000.0;
            if (hanzi) {
                for (int k = 0; k < 2; k++) {
                    double v = (lcg_next(&state) % 100000) / 100000.0;
                    g_string_append_unichar(s, 0x4E00 + (gunichar)(v * v * v * N_HANZI) * 7);
                }
                if (w + 1 == n_words || lcg_next(&state) % 4 == 0)
                    g_string_append(s, w + 1 == n_words ? "。" : "，");
                continue;
            }
            if (w > 0)
                g_string_append_c(s, ' ');
            if (lcg_next(&state) % 40 == 0)
                g_string_append_printf(s, "%u", lcg_next(&state) % 2000);
            else
                g_string_append(s, lexicon[(int)(u * u * u * N_WORDS)]);
        }
        if (!hanzi)
            g_string_append(s, ends[lcg_next(&state) % G_N_ELEMENTS(ends)]);
        g_string_append(s, lcg_next(&state) % 3 == 0 ? "\n" : " ");
    }
    for (int w = 0; w < N_WORDS; w++)
        g_free(lexicon[w]);
    return g_string_free(s, FALSE);
}

/* (transfer full) (nullable) About n bytes of fortune-cookie files, if the system has them. */
static char *fortune_text(gsize n, gsize *len)
{
    static const char *const names[] = {"fortunes", "computers", "cookie", "literature"};
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(names) && s->len < n; i++) {
        g_autofree char *path = g_build_filename("/usr/share/games/fortunes", names[i], NULL);
        g_autofree char *contents = NULL;
        gsize n_contents;
        if (g_file_get_contents(path, &contents, &n_contents, NULL))
            g_string_append_len(s, contents, (gssize)n_contents);
    }
    if (s->len < n) {
        g_string_free(s, TRUE);
        return NULL;
    }
    g_string_truncate(s, n);
    *len = s->len;
    return g_string_free(s, FALSE);
}

/* ---- tests ---- */

static void test_byte_roundtrip(void)
{
    g_autoptr(AigcTokenizer) tok = aigc_tokenizer_new_byte();
    g_assert_cmpint(aigc_tokenizer_get_kind(tok), ==, AIGC_TOKENIZER_BYTE);
    g_assert_cmpint(aigc_tokenizer_get_vocab_size(tok), ==, 256);
    g_assert_cmpint(aigc_tokenizer_get_bos(tok), ==, -1);
    g_assert_cmpint(aigc_tokenizer_get_eos(tok), ==, -1);
    g_assert_cmpint(aigc_tokenizer_get_unk(tok), ==, -1);
    assert_roundtrip(tok, english);
    assert_roundtrip(tok, chinese);
    int n;
    g_autofree gint32 *ids = encode_all(tok, chinese, strlen(chinese), &n);
    g_assert_cmpint(n, ==, (int)strlen(chinese));
    for (int i = 0; i < n; i++)
        g_assert_cmpint(ids[i], ==, (guint8)chinese[i]);
    for (gint32 id = 0; id < 256; id++) {
        gsize len;
        const char *t = aigc_tokenizer_token_text(tok, id, &len);
        g_assert_cmpuint(len, ==, 1);
        g_assert_cmpint((guint8)t[0], ==, id);
        g_assert_false(aigc_tokenizer_is_special(tok, id));
    }
}

static void test_char_roundtrip(void)
{
    g_autofree char *both = g_strconcat(english, chinese, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTokenizer) tok = aigc_tokenizer_train_char(both, strlen(both), 1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_tokenizer_get_kind(tok), ==, AIGC_TOKENIZER_CHAR);

    /* The vocabulary: UNK, each distinct character in code point order, the separator. */
    GHashTable *distinct = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (const char *p = both; *p; p = g_utf8_next_char(p))
        g_hash_table_add(distinct, GUINT_TO_POINTER(g_utf8_get_char(p)));
    int n_chars = (int)g_hash_table_size(distinct);
    g_assert_cmpint(aigc_tokenizer_get_vocab_size(tok), ==, n_chars + 2);
    g_assert_cmpint(aigc_tokenizer_get_unk(tok), ==, 0);
    g_assert_cmpint(aigc_tokenizer_get_bos(tok), ==, n_chars + 1);
    g_assert_cmpint(aigc_tokenizer_get_eos(tok), ==, n_chars + 1);
    gunichar last = 0;
    for (gint32 id = 1; id <= n_chars; id++) {
        gsize len;
        const char *t = aigc_tokenizer_token_text(tok, id, &len);
        g_assert_cmpuint(len, ==, strlen(t));
        gunichar c = g_utf8_get_char(t);
        g_assert_cmpuint((gsize)g_unichar_to_utf8(c, NULL), ==, len);
        g_assert_true(g_hash_table_contains(distinct, GUINT_TO_POINTER(c)));
        g_assert_true(id == 1 || c > last);
        last = c;
    }
    g_hash_table_destroy(distinct);

    assert_roundtrip(tok, english);
    assert_roundtrip(tok, chinese);
    int n;
    g_autofree gint32 *ids = encode_all(tok, chinese, strlen(chinese), &n);
    g_assert_cmpint(n, ==, (int)g_utf8_strlen(chinese, -1));

    /* Characters it never saw are UNK and decode as U+FFFD. */
    const char *unseen = "月光\xE2\x98\x83z"; /* 月光☃z */
    g_autofree gint32 *u = encode_all(tok, unseen, strlen(unseen), &n);
    g_assert_cmpint(n, ==, 4);
    g_assert_cmpint(u[0], >, 0);
    g_assert_cmpint(u[1], >, 0);
    g_assert_cmpint(u[2], ==, 0);
    g_assert_cmpint(u[3], ==, 0);
    g_autofree char *back = aigc_tokenizer_decode(tok, u, n);
    g_assert_cmpstr(back, ==, "月光\xEF\xBF\xBD\xEF\xBF\xBD");

    /* min_count drops rare characters: in "aaabbc" with min_count 2 only a and b remain. */
    g_autoptr(AigcTokenizer) rare = aigc_tokenizer_train_char("aaabbc", 6, 2, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_tokenizer_get_vocab_size(rare), ==, 4);
    gint32 abc[3];
    g_assert_cmpint(aigc_tokenizer_encode(rare, "abc", -1, abc, 3), ==, 3);
    g_assert_cmpint(abc[0], ==, 1);
    g_assert_cmpint(abc[1], ==, 2);
    g_assert_cmpint(abc[2], ==, 0);

    g_assert_null(aigc_tokenizer_train_char("abc", 3, 0, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
}

static void test_bpe_roundtrip(void)
{
    GString *text = g_string_new(NULL);
    for (int i = 0; i < 20; i++) {
        g_string_append(text, english);
        g_string_append(text, chinese);
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTokenizer) tok =
        aigc_tokenizer_train_bpe(text->str, text->len, 2000, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_tokenizer_get_kind(tok), ==, AIGC_TOKENIZER_BPE);
    /* Training stops once no pair repeats, before 2,000 tokens. */
    int vocab = aigc_tokenizer_get_vocab_size(tok);
    g_assert_cmpint(vocab, >, 300);
    g_assert_cmpint(vocab, <, 2000);
    g_assert_cmpint(aigc_tokenizer_get_eos(tok), ==, vocab - 1);
    g_assert_cmpint(aigc_tokenizer_get_bos(tok), ==, vocab - 1);
    g_assert_cmpint(aigc_tokenizer_get_unk(tok), ==, -1);
    assert_roundtrip(tok, english);
    assert_roundtrip(tok, chinese);
    assert_roundtrip(tok, "Text it was never trained on: Ünïcödé, 😀, ∑ and 42.\n");

    /* Merged tokens are the concatenation of the tokens they join, and some of them end
     * inside a Chinese character (the streaming decoder's reason to exist). */
    gboolean split_char = FALSE;
    for (gint32 id = 256; id < vocab - 1; id++) {
        gint32 left, right;
        g_assert_true(aigc_tokenizer_get_merge(tok, id, &left, &right));
        g_assert_cmpint(left, <, id);
        g_assert_cmpint(right, <, id);
        gsize n, n_left, n_right;
        const char *t = aigc_tokenizer_token_text(tok, id, &n);
        const char *tl = aigc_tokenizer_token_text(tok, left, &n_left);
        const char *tr = aigc_tokenizer_token_text(tok, right, &n_right);
        g_assert_cmpuint(n, ==, n_left + n_right);
        g_assert_cmpmem(t, n_left, tl, n_left);
        g_assert_cmpmem(t + n_left, n_right, tr, n_right);
        if (!g_utf8_validate(t, (gssize)n, NULL))
            split_char = TRUE;
    }
    g_assert_true(split_char);
    g_assert_false(aigc_tokenizer_get_merge(tok, 255, NULL, NULL));
    g_assert_false(aigc_tokenizer_get_merge(tok, vocab - 1, NULL, NULL));

    /* Every piece of the training text occurs 20 times, so when no pair repeats any more each
     * piece has become a single token. */
    int n, n_pieces = 0;
    g_autofree gint32 *ids = encode_all(tok, text->str, text->len, &n);
    for (gsize i = 0; i < text->len; i = piece_end((const guint8 *)text->str, text->len, i))
        n_pieces++;
    g_assert_cmpint(n, ==, n_pieces);
    g_string_free(text, TRUE);
}

static void test_specials(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTokenizer) bpe =
        aigc_tokenizer_train_bpe(english, strlen(english), 300, NULL, NULL, &error);
    g_assert_no_error(error);
    g_autoptr(AigcTokenizer) chr = aigc_tokenizer_train_char(english, strlen(english), 1, &error);
    g_assert_no_error(error);
    AigcTokenizer *toks[] = {bpe, chr};
    for (guint k = 0; k < G_N_ELEMENTS(toks); k++) {
        AigcTokenizer *tok = toks[k];
        gint32 eos = aigc_tokenizer_get_eos(tok);
        g_assert_cmpint(eos, ==, aigc_tokenizer_get_vocab_size(tok) - 1);
        g_assert_true(aigc_tokenizer_is_special(tok, eos));
        g_assert_cmpstr(aigc_tokenizer_token_text(tok, eos, NULL), ==, "<|endoftext|>");
        /* Text that spells the separator is ordinary text. */
        const char *spelt = "a<|endoftext|>b";
        int n;
        g_autofree gint32 *ids = encode_all(tok, spelt, strlen(spelt), &n);
        for (int i = 0; i < n; i++)
            g_assert_cmpint(ids[i], !=, eos);
        /* The separator decodes to nothing; UNK and unknown ids to U+FFFD. */
        gint32 doc[] = {ids[0], eos, ids[n - 1], -5, 1 << 30};
        g_autofree char *back = aigc_tokenizer_decode(tok, doc, 5);
        g_assert_cmpstr(back, ==, "ab\xEF\xBF\xBD\xEF\xBF\xBD");
    }
    g_assert_true(aigc_tokenizer_is_special(chr, 0));
    g_assert_cmpstr(aigc_tokenizer_token_text(chr, 0, NULL), ==, "<unk>");
    g_assert_false(aigc_tokenizer_is_special(bpe, 0));
}

/* Trains on the corpus towards 1,024 tokens and checks what the corpus must give. */
static void check_corpus(const char *text, gsize len)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTokenizer) tok = aigc_tokenizer_train_bpe(text, len, 1024, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_tokenizer_get_vocab_size(tok), ==, 1024);

    int n;
    g_autofree gint32 *ids = encode_all(tok, text, len, &n);
    double bytes_per_token = (double)len / n;
    g_test_message("%" G_GSIZE_FORMAT " bytes -> %d tokens (%.2f bytes per token)", len, n,
                   bytes_per_token);
    g_assert_cmpfloat(bytes_per_token, >, 2.0); /* 1,024 tokens: 2.4 on fortunes, 2.8 synthetic */
    g_autofree char *back = aigc_tokenizer_decode(tok, ids, n);
    g_assert_true(strlen(back) == len && memcmp(back, text, len) == 0);

    /* No token crosses a piece boundary. */
    for (gint32 id = 256; id < 1023; id++) {
        gsize n_bytes;
        const guint8 *t = (const guint8 *)aigc_tokenizer_token_text(tok, id, &n_bytes);
        g_assert_cmpuint(piece_end(t, n_bytes, 0), ==, n_bytes);
    }

    /* The fast encoder (both its short- and long-piece paths) equals merges applied in order. */
    int n_naive;
    gsize n_check = MIN(len, 40000);
    g_autofree gint32 *naive = naive_encode(tok, text, n_check, &n_naive);
    g_autofree gint32 *fast = encode_all(tok, text, n_check, &n);
    g_assert_cmpint(n, ==, n_naive);
    g_assert_cmpmem(fast, n * sizeof(gint32), naive, n_naive * sizeof(gint32));
}

static void test_bpe_corpus_synthetic(void)
{
    g_autofree char *text = synthetic_text(200 * 1000);
    check_corpus(text, strlen(text));
}

static void test_bpe_corpus_fortunes(void)
{
    gsize len;
    g_autofree char *text = fortune_text(200 * 1000, &len);
    if (!text) {
        g_test_skip("no fortune files in /usr/share/games/fortunes");
        return;
    }
    check_corpus(text, len);
}

/* The incremental trainer learns exactly the merges of the textbook full-recount trainer. */
static void test_bpe_matches_naive_trainer(void)
{
    g_autofree char *synth = synthetic_text(12000);
    /* Overlapping runs ("aaaa", "中中中") exercise merges of a token with itself. */
    g_autofree char *text =
        g_strconcat(synth, english, chinese, "aaaaaaa aaaaa aaa aaaa 中中中中中 中中中\n",
                    "============ ---------- ...... 1111111 1212121212\n", NULL);
    gsize len = strlen(text);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTokenizer) tok =
        aigc_tokenizer_train_bpe(text, len, 257 + 300, NULL, NULL, &error);
    g_assert_no_error(error);
    GArray *merges = naive_train(text, len, 300);
    int n_merges = aigc_tokenizer_get_vocab_size(tok) - 257;
    g_assert_cmpint(n_merges, ==, (int)merges->len / 2);
    for (int i = 0; i < n_merges; i++) {
        gint32 left, right;
        g_assert_true(aigc_tokenizer_get_merge(tok, 256 + i, &left, &right));
        g_assert_cmpint(left, ==, g_array_index(merges, gint32, 2 * i));
        g_assert_cmpint(right, ==, g_array_index(merges, gint32, 2 * i + 1));
    }
    g_array_free(merges, TRUE);
}

/* A text where no pair occurs twice stops early; an empty text has no merges at all. */
static void test_bpe_small_texts(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTokenizer) empty = aigc_tokenizer_train_bpe("", 0, 512, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_tokenizer_get_vocab_size(empty), ==, 257);
    assert_roundtrip(empty, chinese);

    g_autoptr(AigcTokenizer) ab = aigc_tokenizer_train_bpe("ab ab ab", 8, 512, NULL, NULL, &error);
    g_assert_no_error(error);
    /* "ab" (3 times), then " ab" (twice): after that every pair is unique. */
    g_assert_cmpint(aigc_tokenizer_get_vocab_size(ab), ==, 259);
    g_assert_cmpstr(aigc_tokenizer_token_text(ab, 256, NULL), ==, "ab");
    g_assert_cmpstr(aigc_tokenizer_token_text(ab, 257, NULL), ==, " ab");
    gint32 ids[4];
    g_assert_cmpint(aigc_tokenizer_encode(ab, "ab ab", -1, ids, 4), ==, 2);
    g_assert_cmpint(ids[0], ==, 256);
    g_assert_cmpint(ids[1], ==, 257);

    static const int bad_sizes[] = {-1, 0, 256, AIGC_TOKENIZER_MAX_BPE_VOCAB + 1};
    for (guint i = 0; i < G_N_ELEMENTS(bad_sizes); i++) {
        g_autoptr(GError) e = NULL;
        g_assert_null(aigc_tokenizer_train_bpe("abc", 3, bad_sizes[i], NULL, NULL, &e));
        g_assert_error(e, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    }
}

typedef struct {
    int n_calls, last_done, cancel_at;
} Progress;

static gboolean on_progress(int n_done, int n_total, gpointer user_data)
{
    Progress *p = user_data;
    g_assert_cmpint(n_done, ==, p->last_done + 1);
    g_assert_cmpint(n_total, ==, 500 - 257);
    p->n_calls++;
    p->last_done = n_done;
    return n_done != p->cancel_at;
}

static void test_bpe_progress_cancel(void)
{
    g_autofree char *text = synthetic_text(50000);
    Progress p = {0, 0, -1};
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTokenizer) tok =
        aigc_tokenizer_train_bpe(text, strlen(text), 500, on_progress, &p, &error);
    g_assert_no_error(error);
    g_assert_cmpint(p.n_calls, ==, 500 - 257);

    Progress c = {0, 0, 10};
    g_assert_null(aigc_tokenizer_train_bpe(text, strlen(text), 500, on_progress, &c, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
    g_assert_cmpint(c.n_calls, ==, 10);
}

/* Same text, same merges; and the encoding of a long text is the same on 1 and 2 threads and
 * the same as encoding it piece-aligned part by part. */
static void test_bpe_determinism(void)
{
    g_autofree char *text = synthetic_text(600 * 1000);
    gsize len = strlen(text);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTokenizer) a = aigc_tokenizer_train_bpe(text, len, 800, NULL, NULL, &error);
    g_assert_no_error(error);
    g_autoptr(AigcTokenizer) b = aigc_tokenizer_train_bpe(text, len, 800, NULL, NULL, &error);
    g_assert_no_error(error);
    g_autofree char *ja = aigc_tokenizer_to_json(a);
    g_autofree char *jb = aigc_tokenizer_to_json(b);
    g_assert_cmpstr(ja, ==, jb);

    int n1, n2;
    aigc_threads_init(1);
    g_autofree gint32 *one = encode_all(a, text, len, &n1);
    aigc_threads_init(2);
    g_autofree gint32 *two = encode_all(a, text, len, &n2);
    g_assert_cmpint(n1, ==, n2);
    g_assert_cmpmem(one, n1 * sizeof(gint32), two, n2 * sizeof(gint32));

    /* Encoding the halves separately (split at a newline, a piece boundary) gives the same. */
    const char *nl = strchr(text + len / 2, '\n');
    g_assert_nonnull(nl);
    gsize half = (gsize)(nl - text);
    int h1, h2;
    g_autofree gint32 *first = encode_all(a, text, half, &h1);
    g_autofree gint32 *second = encode_all(a, text + half, len - half, &h2);
    g_assert_cmpint(h1 + h2, ==, n1);
    g_assert_cmpmem(first, h1 * sizeof(gint32), one, h1 * sizeof(gint32));
    g_assert_cmpmem(second, h2 * sizeof(gint32), one + h1, h2 * sizeof(gint32));

    /* CHAR too, with invalid bytes sprinkled in. */
    for (gsize i = 1000; i < len; i += 7919)
        text[i] = (char)0xFF;
    g_autoptr(AigcTokenizer) chr = aigc_tokenizer_train_char(text, len, 1, &error);
    g_assert_no_error(error);
    aigc_threads_init(1);
    g_autofree gint32 *c1 = encode_all(chr, text, len, &n1);
    aigc_threads_init(2);
    g_autofree gint32 *c2 = encode_all(chr, text, len, &n2);
    g_assert_cmpint(n1, ==, n2);
    g_assert_cmpint(n1, ==, (int)aigc_utf8_count_chars(text, len));
    g_assert_cmpmem(c1, n1 * sizeof(gint32), c2, n2 * sizeof(gint32));
}

#define FFFD "\xEF\xBF\xBD"

typedef struct {
    const char *input;
    const char *decoded; /* with U+FFFD per maximal subpart */
} InvalidCase;

/* clang-format off */
static const InvalidCase invalid_cases[] = {
    {"a\x80" "b", "a" FFFD "b"},                         /* lone continuation byte */
    {"\x80\xBF", FFFD FFFD},                              /* two of them */
    {"x\xC3", "x" FFFD},                                  /* truncated 2-byte at the end */
    {"\xE4\xB8" "x", FFFD "x"},                          /* truncated 3-byte: one U+FFFD */
    {"\xE6\x96\xE6\x96\x87", FFFD "文"},                  /* truncated, then a whole one */
    {"\xF0\x9F\x98!", FFFD "!"},                          /* truncated 4-byte */
    {"\xC0\x80", FFFD FFFD},                              /* overlong NUL */
    {"\xC1\xBF", FFFD FFFD},                              /* overlong DEL */
    {"\xE0\x80\xAF", FFFD FFFD FFFD},                     /* overlong '/' */
    {"\xF0\x80\x80\x80", FFFD FFFD FFFD FFFD},            /* overlong, 4 bytes */
    {"\xED\xA0\x80", FFFD FFFD FFFD},                     /* a surrogate */
    {"\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD},            /* above U+10FFFF */
    {"\xFF", FFFD},                                       /* never in UTF-8 */
    {"\xFE\xFF" "ok", FFFD FFFD "ok"},                   /* BOM of UTF-16, as bytes */
    {"\xF5\x80", FFFD FFFD},                              /* a lead byte past F4 */
    {"中\xE4\xB8\xAD\xE4", "中中" FFFD},                  /* valid, valid, truncated */
};
/* clang-format on */

static void test_invalid_utf8(void)
{
    g_autofree char *train = g_strconcat(english, chinese, "文中x!ok\x7f", NULL);
    g_autoptr(GError) error = NULL;
    AigcTokenizer *toks[] = {
        aigc_tokenizer_new_byte(),
        aigc_tokenizer_train_char(train, strlen(train), 1, &error),
        aigc_tokenizer_train_bpe(train, strlen(train), 400, NULL, NULL, &error),
    };
    g_assert_no_error(error);
    for (guint c = 0; c < G_N_ELEMENTS(invalid_cases); c++) {
        const InvalidCase *ic = &invalid_cases[c];
        gsize len = strlen(ic->input);
        g_assert_false(g_utf8_validate(ic->input, (gssize)len, NULL));
        g_assert_cmpint(aigc_utf8_count_chars(ic->input, len), ==, g_utf8_strlen(ic->decoded, -1));
        for (guint k = 0; k < G_N_ELEMENTS(toks); k++) {
            AigcTokenizer *tok = toks[k];
            int n;
            g_autofree gint32 *ids = encode_all(tok, ic->input, len, &n);
            g_autofree char *back = aigc_tokenizer_decode(tok, ids, n);
            g_assert_true(g_utf8_validate(back, -1, NULL));
            if (g_strcmp0(back, ic->decoded) != 0)
                g_test_message("case %u, kind %s", c,
                               aigc_tokenizer_kind_name(aigc_tokenizer_get_kind(tok)));
            g_assert_cmpstr(back, ==, ic->decoded);
            if (aigc_tokenizer_get_kind(tok) == AIGC_TOKENIZER_CHAR) {
                /* one id per character, UNK for each invalid sequence */
                g_assert_cmpint(n, ==, g_utf8_strlen(ic->decoded, -1));
                int n_unk = 0;
                for (int i = 0; i < n; i++)
                    n_unk += ids[i] == 0;
                int n_fffd = 0;
                for (const char *p = ic->decoded; *p; p = g_utf8_next_char(p))
                    n_fffd += g_utf8_get_char(p) == 0xFFFD;
                g_assert_cmpint(n_unk, ==, n_fffd);
            } else {
                /* the raw bytes, exactly */
                GString *bytes = g_string_new(NULL);
                for (int i = 0; i < n; i++) {
                    gsize n_bytes;
                    const char *t = aigc_tokenizer_token_text(tok, ids[i], &n_bytes);
                    g_string_append_len(bytes, t, (gssize)n_bytes);
                }
                g_assert_cmpmem(bytes->str, bytes->len, ic->input, len);
                g_string_free(bytes, TRUE);
            }
        }
    }
    for (guint k = 0; k < G_N_ELEMENTS(toks); k++)
        aigc_tokenizer_free(toks[k]);
}

static void test_count_chars(void)
{
    g_assert_cmpint(aigc_utf8_count_chars("", 0), ==, 0);
    g_assert_cmpint(aigc_utf8_count_chars(english, strlen(english)), ==, strlen(english));
    g_assert_cmpint(aigc_utf8_count_chars(chinese, strlen(chinese)), ==, 52);
    g_assert_cmpint(aigc_utf8_count_chars("a\0b", 3), ==, 3); /* NUL is a character */
    g_assert_cmpint(aigc_utf8_count_chars("😀\xE4\xB8", 6), ==, 2);
}

/* (transfer full) A BPE tokenizer whose first merge ends inside 中 (E4 B8 AD). */
static AigcTokenizer *split_char_tokenizer(void)
{
    const char *json = "{\"format\": \"aigc-tokenizer\", \"version\": 1, \"kind\": \"bpe\", "
                       "\"vocab_size\": 259, \"bos\": 258, \"eos\": 258, "
                       "\"merges\": [228, 184, 173, 97]}"; /* E4+B8, then AD+'a' */
    g_autoptr(GError) error = NULL;
    AigcTokenizer *tok = aigc_tokenizer_new_from_json(json, &error);
    g_assert_no_error(error);
    return tok;
}

static void test_decoder_stream(void)
{
    g_autoptr(AigcTokenizer) tok = split_char_tokenizer();
    gint32 ids[8];
    /* "中a中" → [E4B8, ADa, E4B8, AD] */
    g_assert_cmpint(aigc_tokenizer_encode(tok, "中a中", -1, ids, 8), ==, 4);
    g_assert_cmpint(ids[0], ==, 256);
    g_assert_cmpint(ids[1], ==, 257);
    g_assert_cmpint(ids[2], ==, 256);
    g_assert_cmpint(ids[3], ==, 0xAD);

    g_autoptr(AigcTokenDecoder) dec = aigc_token_decoder_new(tok);
    GString *out = g_string_new(NULL);
    g_assert_cmpuint(aigc_token_decoder_push(dec, 256, out), ==, 0); /* half a character */
    g_assert_cmpuint(out->len, ==, 0);
    g_assert_cmpuint(aigc_token_decoder_push(dec, 257, out), ==, 4); /* 中a */
    g_assert_cmpstr(out->str, ==, "中a");
    g_assert_cmpuint(aigc_token_decoder_push(dec, 256, out), ==, 0);
    g_assert_cmpuint(aigc_token_decoder_push(dec, 258, out), ==, 0); /* separator: nothing */
    g_assert_cmpuint(aigc_token_decoder_push(dec, 0xAD, out), ==, 3);
    g_assert_cmpstr(out->str, ==, "中a中");
    g_assert_cmpuint(aigc_token_decoder_flush(dec, out), ==, 0);

    /* An incomplete character at the end is flushed as U+FFFD; the decoder then starts anew. */
    g_string_truncate(out, 0);
    aigc_token_decoder_push(dec, 256, out);
    g_assert_cmpuint(aigc_token_decoder_flush(dec, out), ==, 3);
    g_assert_cmpstr(out->str, ==, FFFD);
    g_assert_cmpuint(aigc_token_decoder_push(dec, 'z', out), ==, 1);
    g_assert_cmpstr(out->str, ==, FFFD "z");

    /* A character interrupted by a byte that cannot continue it. */
    g_string_truncate(out, 0);
    aigc_token_decoder_push(dec, 256, out);
    g_assert_cmpuint(aigc_token_decoder_push(dec, 'a', out), ==, 4);
    g_assert_cmpstr(out->str, ==, FFFD "a");

    /* Byte tokens: 😀 (4 bytes) and é (2 bytes), one byte at a time. */
    g_autoptr(AigcTokenizer) bytes = aigc_tokenizer_new_byte();
    g_autoptr(AigcTokenDecoder) bdec = aigc_token_decoder_new(bytes);
    g_string_truncate(out, 0);
    const guint8 *s = (const guint8 *)"😀é";
    static const gsize expect[] = {0, 0, 0, 4, 0, 2};
    for (int i = 0; i < 6; i++)
        g_assert_cmpuint(aigc_token_decoder_push(bdec, s[i], out), ==, expect[i]);
    g_assert_cmpstr(out->str, ==, "😀é");
    g_string_free(out, TRUE);

    /* One-shot decoding of the split tokens agrees. */
    g_autofree char *text = aigc_tokenizer_decode(tok, ids, 4);
    g_assert_cmpstr(text, ==, "中a中");
    g_autofree char *cut = aigc_tokenizer_decode(tok, ids, 3);
    g_assert_cmpstr(cut, ==, "中a" FFFD);
}

static void test_json_roundtrip(void)
{
    g_autofree char *train = g_strconcat(english, chinese, NULL);
    g_autoptr(GError) error = NULL;
    AigcTokenizer *toks[] = {
        aigc_tokenizer_new_byte(),
        aigc_tokenizer_train_char(train, strlen(train), 1, &error),
        aigc_tokenizer_train_bpe(train, strlen(train), 320, NULL, NULL, &error),
    };
    g_assert_no_error(error);
    const char *probe = "明月 lucky numbers, 42 — 😀 \xFF";
    for (guint k = 0; k < G_N_ELEMENTS(toks); k++) {
        g_autoptr(AigcTokenizer) copy = roundtrip_json(toks[k]);
        g_assert_cmpint(aigc_tokenizer_get_kind(copy), ==, aigc_tokenizer_get_kind(toks[k]));
        int vocab = aigc_tokenizer_get_vocab_size(copy);
        g_assert_cmpint(vocab, ==, aigc_tokenizer_get_vocab_size(toks[k]));
        g_assert_cmpint(aigc_tokenizer_get_eos(copy), ==, aigc_tokenizer_get_eos(toks[k]));
        g_assert_cmpint(aigc_tokenizer_get_unk(copy), ==, aigc_tokenizer_get_unk(toks[k]));
        for (gint32 id = 0; id < vocab; id++) {
            gsize n1, n2;
            const char *t1 = aigc_tokenizer_token_text(toks[k], id, &n1);
            const char *t2 = aigc_tokenizer_token_text(copy, id, &n2);
            g_assert_cmpmem(t1, n1, t2, n2);
        }
        int n1, n2;
        g_autofree gint32 *e1 = encode_all(toks[k], probe, strlen(probe), &n1);
        g_autofree gint32 *e2 = encode_all(copy, probe, strlen(probe), &n2);
        g_assert_cmpmem(e1, n1 * sizeof(gint32), e2, n2 * sizeof(gint32));
        aigc_tokenizer_free(toks[k]);
    }
    /* Key order and whitespace do not matter. */
    g_autoptr(AigcTokenizer) byte = aigc_tokenizer_new_from_json(
        "  {\"vocab_size\" : 256, \"kind\": \"byte\", \"version\": 1,\n"
        "   \"format\": \"aigc-tokenizer\"}  ",
        &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_tokenizer_get_kind(byte), ==, AIGC_TOKENIZER_BYTE);
}

#define HEAD(kind) "{\"format\": \"aigc-tokenizer\", \"version\": 1, \"kind\": \"" kind "\", "

static const struct {
    const char *what;
    const char *json;
} corrupt[] = {
    {"not JSON", "{\"format\": \"aigc-tokenizer\", "},
    {"empty", ""},
    {"an array", "[1, 2, 3]"},
    {"another format", "{\"format\": \"gpt2-vocab\", \"version\": 1, \"kind\": \"byte\", "
                       "\"vocab_size\": 256}"},
    {"format not a string", "{\"format\": 7, \"version\": 1, \"kind\": \"byte\", "
                            "\"vocab_size\": 256}"},
    {"unknown kind", HEAD("wordpiece") "\"vocab_size\": 256}"},
    {"kind missing", "{\"format\": \"aigc-tokenizer\", \"version\": 1, \"vocab_size\": 256}"},
    {"byte of 300", HEAD("byte") "\"vocab_size\": 300}"},
    {"vocab_size a float", HEAD("byte") "\"vocab_size\": 256.0}"},
    {"vocab_size a string", HEAD("byte") "\"vocab_size\": \"256\"}"},
    {"extra member", HEAD("byte") "\"vocab_size\": 256, \"merges\": []}"},
    {"char without code points", HEAD("char") "\"vocab_size\": 2, \"unk\": 0, \"bos\": 1, "
                                              "\"eos\": 1}"},
    {"char vocab too small", HEAD("char") "\"vocab_size\": 3, \"unk\": 0, \"bos\": 2, "
                                          "\"eos\": 2, \"code_points\": [97, 98]}"},
    {"duplicate code point", HEAD("char") "\"vocab_size\": 5, \"unk\": 0, \"bos\": 4, "
                                          "\"eos\": 4, \"code_points\": [97, 20013, 97]}"},
    {"surrogate code point", HEAD("char") "\"vocab_size\": 3, \"unk\": 0, \"bos\": 2, "
                                          "\"eos\": 2, \"code_points\": [55296]}"},
    {"code point past U+10FFFF", HEAD("char") "\"vocab_size\": 3, \"unk\": 0, \"bos\": 2, "
                                              "\"eos\": 2, \"code_points\": [1114112]}"},
    {"negative code point", HEAD("char") "\"vocab_size\": 3, \"unk\": 0, \"bos\": 2, "
                                         "\"eos\": 2, \"code_points\": [-1]}"},
    {"U+FFFD as a token", HEAD("char") "\"vocab_size\": 3, \"unk\": 0, \"bos\": 2, "
                                       "\"eos\": 2, \"code_points\": [65533]}"},
    {"code point a string", HEAD("char") "\"vocab_size\": 3, \"unk\": 0, \"bos\": 2, "
                                         "\"eos\": 2, \"code_points\": [\"a\"]}"},
    {"unk misplaced", HEAD("char") "\"vocab_size\": 3, \"unk\": 2, \"bos\": 2, "
                                   "\"eos\": 2, \"code_points\": [97]}"},
    {"eos misplaced", HEAD("bpe") "\"vocab_size\": 257, \"bos\": 256, \"eos\": 255, "
                                  "\"merges\": []}"},
    {"unk in bpe", HEAD("bpe") "\"vocab_size\": 257, \"unk\": 0, \"bos\": 256, "
                               "\"eos\": 256, \"merges\": []}"},
    {"merges odd", HEAD("bpe") "\"vocab_size\": 258, \"bos\": 257, \"eos\": 257, "
                               "\"merges\": [97, 98, 99]}"},
    {"merge of itself", HEAD("bpe") "\"vocab_size\": 258, \"bos\": 257, \"eos\": 257, "
                                    "\"merges\": [256, 97]}"},
    {"merge of a later token", HEAD("bpe") "\"vocab_size\": 259, \"bos\": 258, "
                                           "\"eos\": 258, \"merges\": [97, 98, 257, 256]}"},
    {"merge of the separator", HEAD("bpe") "\"vocab_size\": 259, \"bos\": 258, "
                                           "\"eos\": 258, \"merges\": [97, 98, 256, 258]}"},
    {"negative merge", HEAD("bpe") "\"vocab_size\": 258, \"bos\": 257, \"eos\": 257, "
                                   "\"merges\": [-1, 97]}"},
    {"merge twice", HEAD("bpe") "\"vocab_size\": 259, \"bos\": 258, \"eos\": 258, "
                                "\"merges\": [97, 98, 97, 98]}"},
    {"merges nested", HEAD("bpe") "\"vocab_size\": 258, \"bos\": 257, \"eos\": 257, "
                                  "\"merges\": [[97, 98]]}"},
    {"merges not an array", HEAD("bpe") "\"vocab_size\": 257, \"bos\": 256, \"eos\": 256, "
                                        "\"merges\": {}}"},
    {"bpe vocab mismatch", HEAD("bpe") "\"vocab_size\": 512, \"bos\": 511, \"eos\": 511, "
                                       "\"merges\": [97, 98]}"},
    /* 97 → 2, 4, 8, … 2048 bytes: past the token length limit */
    {"doubling tokens",
     HEAD("bpe") "\"vocab_size\": 268, \"bos\": 267, \"eos\": 267, "
                 "\"merges\": [97, 97, 256, 256, 257, 257, 258, 258, 259, 259, 260, "
                 "260, 261, 261, 262, 262, 263, 263, 264, 264, 265, 265]}"},
};

static void test_json_corrupt(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(corrupt); i++) {
        g_autoptr(GError) error = NULL;
        AigcTokenizer *tok = aigc_tokenizer_new_from_json(corrupt[i].json, &error);
        if (tok || !error)
            g_test_message("accepted: %s", corrupt[i].what);
        g_assert_null(tok);
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
        g_test_message("%s: %s", corrupt[i].what, error->message);
    }
    /* Deep nesting is refused before it can exhaust the parser's stack. */
    for (gsize depth = 9; depth <= 1000000; depth *= 1000) {
        g_autofree char *deep = g_strnfill(depth, '[');
        g_autoptr(GError) error = NULL;
        g_assert_null(aigc_tokenizer_new_from_json(deep, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    }
    g_autoptr(GError) error = NULL;
    g_assert_null(aigc_tokenizer_new_from_json(
        "{\"format\": \"aigc-tokenizer\", \"version\": 2, \"kind\": \"byte\", "
        "\"vocab_size\": 256}",
        &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED);
}

static void test_encode_small_buffer(void)
{
    g_autofree char *train = g_strconcat(english, chinese, NULL);
    g_autoptr(GError) error = NULL;
    AigcTokenizer *toks[] = {
        aigc_tokenizer_new_byte(),
        aigc_tokenizer_train_char(train, strlen(train), 1, &error),
        aigc_tokenizer_train_bpe(train, strlen(train), 300, NULL, NULL, &error),
    };
    g_assert_no_error(error);
    for (guint k = 0; k < G_N_ELEMENTS(toks); k++) {
        int n;
        g_autofree gint32 *full = encode_all(toks[k], chinese, strlen(chinese), &n);
        g_assert_cmpint(n, >, 6);
        for (int max_out = 0; max_out <= n; max_out += 3) {
            gint32 *buf = g_new(gint32, max_out + 4);
            for (int i = 0; i < max_out + 4; i++)
                buf[i] = -7;
            g_assert_cmpint(aigc_tokenizer_encode(toks[k], chinese, -1, buf, max_out), ==, n);
            g_assert_cmpmem(buf, max_out * sizeof(gint32), full, max_out * sizeof(gint32));
            for (int i = max_out; i < max_out + 4; i++)
                g_assert_cmpint(buf[i], ==, -7); /* nothing written past max_out */
            g_free(buf);
        }
        g_assert_cmpint(aigc_tokenizer_encode(toks[k], chinese, -1, NULL, 0), ==, n);
        g_assert_cmpint(aigc_tokenizer_encode(toks[k], "", -1, NULL, 0), ==, 0);
        g_assert_cmpint(aigc_tokenizer_encode(toks[k], NULL, 0, NULL, 0), ==, 0);
        aigc_tokenizer_free(toks[k]);
    }
}

/* Long single pieces (a line of Chinese without ASCII) take the heap encoder. */
static void test_bpe_long_piece(void)
{
    GString *text = g_string_new(NULL);
    for (int i = 0; i < 30; i++)
        g_string_append(text, "床前明月光疑是地上霜举头望明月低头思故乡aaaaaaaaaaaaaaaa");
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTokenizer) tok =
        aigc_tokenizer_train_bpe(text->str, text->len, 600, NULL, NULL, &error);
    g_assert_no_error(error);
    int n, n_naive;
    g_autofree gint32 *fast = encode_all(tok, text->str, text->len, &n);
    g_autofree gint32 *naive = naive_encode(tok, text->str, text->len, &n_naive);
    g_assert_cmpint(n, ==, n_naive);
    g_assert_cmpmem(fast, n * sizeof(gint32), naive, n_naive * sizeof(gint32));
    g_test_message("%" G_GSIZE_FORMAT " bytes, %ld characters -> %d tokens", text->len,
                   g_utf8_strlen(text->str, -1), n);
    g_assert_cmpint(n, <, g_utf8_strlen(text->str, -1) / 4);
    g_string_free(text, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/text/tokenizer/byte/roundtrip", test_byte_roundtrip);
    g_test_add_func("/engine/text/tokenizer/char/roundtrip", test_char_roundtrip);
    g_test_add_func("/engine/text/tokenizer/bpe/roundtrip", test_bpe_roundtrip);
    g_test_add_func("/engine/text/tokenizer/specials", test_specials);
    g_test_add_func("/engine/text/tokenizer/bpe/corpus-synthetic", test_bpe_corpus_synthetic);
    g_test_add_func("/engine/text/tokenizer/bpe/corpus-fortunes", test_bpe_corpus_fortunes);
    g_test_add_func("/engine/text/tokenizer/bpe/naive-trainer", test_bpe_matches_naive_trainer);
    g_test_add_func("/engine/text/tokenizer/bpe/small-texts", test_bpe_small_texts);
    g_test_add_func("/engine/text/tokenizer/bpe/progress-cancel", test_bpe_progress_cancel);
    g_test_add_func("/engine/text/tokenizer/bpe/determinism", test_bpe_determinism);
    g_test_add_func("/engine/text/tokenizer/bpe/long-piece", test_bpe_long_piece);
    g_test_add_func("/engine/text/tokenizer/invalid-utf8", test_invalid_utf8);
    g_test_add_func("/engine/text/tokenizer/count-chars", test_count_chars);
    g_test_add_func("/engine/text/tokenizer/decoder/stream", test_decoder_stream);
    g_test_add_func("/engine/text/tokenizer/json/roundtrip", test_json_roundtrip);
    g_test_add_func("/engine/text/tokenizer/json/corrupt", test_json_corrupt);
    g_test_add_func("/engine/text/tokenizer/encode/small-buffer", test_encode_small_buffer);
    return g_test_run();
}
