/* SPDX-License-Identifier: MIT
 *
 * The character n-gram model: exact probabilities on hand-checkable corpora (order 2 and the
 * discount estimate), agreement with a brute-force recomputation from string-keyed counts (with
 * and without pruning), the sum-to-one property, lower bits per character for higher orders on
 * repetitive text, a bit-exact save/load round trip, a table of corrupt files refused with
 * errors, sampling (determinism, greedy, top-k, frequencies, the stop callback, END), Chinese
 * text, and invalid input.
 */
#include "aigc-error.h"
#include "models/ngram/aigc-ngram.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define END AIGC_NGRAM_END
#define BOS AIGC_NGRAM_BOS
#define UNK AIGC_NGRAM_UNK

/* Pseudo-English sentences from a small word list (with a few non-ASCII words), so that
 * n-grams repeat and higher orders have something to learn. */
static char *make_text(guint64 seed, int n_sentences)
{
    static const char *const words[] = {
        "the",  "cat", "sat",   "on",  "mat",   "a",    "dog",   "ran",  "to",   "park",
        "and",  "saw", "bird",  "in",  "tree",  "then", "it",    "flew", "away", "over",
        "hill", "big", "small", "red", "quick", "café", "naïve", "über",
    };
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    GString *s = g_string_new(NULL);
    for (int i = 0; i < n_sentences; i++) {
        int n_words = 3 + (int)aigc_rng_below(&rng, 6);
        for (int w = 0; w < n_words; w++) {
            const char *word = words[aigc_rng_below(&rng, G_N_ELEMENTS(words))];
            if (w == 0) {
                g_string_append_unichar(s, g_unichar_toupper(g_utf8_get_char(word)));
                g_string_append(s, g_utf8_next_char(word));
            } else {
                g_string_append_c(s, ' ');
                g_string_append(s, word);
            }
        }
        g_string_append(s, aigc_rng_below(&rng, 4) == 0 ? "!\n" : ". ");
    }
    return g_string_free(s, FALSE);
}

static AigcNgram *train(const char *text, int order, int prune_count)
{
    AigcNgramParams params = aigc_ngram_default_params();
    params.order = order;
    params.prune_count = prune_count;
    GError *error = NULL;
    AigcNgram *m = aigc_ngram_train_full(text, strlen(text), &params, &error);
    g_assert_no_error(error);
    g_assert_nonnull(m);
    return m;
}

static double prob(AigcNgram *m, const char *context, gunichar next)
{
    g_autofree gunichar *ctx = g_utf8_to_ucs4_fast(context, -1, NULL);
    return exp2(aigc_ngram_log2prob(m, ctx, (int)g_utf8_strlen(context, -1), next));
}

static double prob_after_bos(AigcNgram *m, gunichar next)
{
    gunichar ctx[1] = {BOS};
    return exp2(aigc_ngram_log2prob(m, ctx, 1, next));
}

#define assert_prob(got, want) g_assert_cmpfloat_with_epsilon((got), (want), 1e-13)

/* "abracadabra" at order 2, modelled as BOS a b r a c a d a b r a END. By hand:
 * bigrams (raw counts, the top level): BOS·a 1, ab 2, br 2, ra 2, ac 1, ca 1, ad 1, da 1, a·END
 * 1, so n1 = 6, n2 = 3, n3 = 0: the discounts fall back to 0.5, 1, 1.5. Unigram continuation
 * counts: a 4 (after BOS, r, c, d), b, r, c, d, END 1 each, BOS none: n2 = 0, fallback too;
 * T = 9, γ = (5·0.5 + 1.5)/9 = 4/9 and p_uniform = 1/7 (five characters, END, UNK), so
 *   p(a) = 2.5/9 + 4/63 = 21.5/63,  p(b) = p(r) = p(c) = p(d) = p(END) = 7.5/63,  p(UNK) = 4/63.
 * After a: children b 2, c 1, d 1, END 1; T = 5, γ = (1 + 3·0.5)/5 = 0.5, so
 *   p(b|a) = 1/5 + p(b)/2,  p(c|a) = p(d|a) = p(END|a) = 0.5/5 + p(c)/2,  p(a|a) = p(a)/2.
 * After r (ra 2), BOS (BOS·a 1), c (ca 1): p(a|·) = 0.5 + p(a)/2 (1/2 + 0.5 and 0.5/1 + 0.5). */
static void test_hand_order2(void)
{
    g_autoptr(AigcNgram) m = train("abracadabra", 2, 0);
    int n_vocab;
    const gunichar *vocab = aigc_ngram_get_vocab(m, &n_vocab);
    g_assert_cmpint(n_vocab, ==, 5);
    const gunichar want_vocab[5] = {'a', 'b', 'c', 'd', 'r'};
    g_assert_cmpmem(vocab, sizeof want_vocab, want_vocab, sizeof want_vocab);
    g_assert_cmpint(aigc_ngram_get_n_ngrams(m, 1), ==, 7); /* a b c d r END BOS */
    g_assert_cmpint(aigc_ngram_get_n_ngrams(m, 2), ==, 9);
    for (int k = 1; k <= 2; k++) {
        double d[3];
        aigc_ngram_get_discounts(m, k, d);
        g_assert_cmpfloat(d[0], ==, 0.5);
        g_assert_cmpfloat(d[1], ==, 1.0);
        g_assert_cmpfloat(d[2], ==, 1.5);
    }

    const double pa = 21.5 / 63, pb = 7.5 / 63, punk = 4.0 / 63;
    assert_prob(prob(m, "", 'a'), pa);
    for (const char *c = "bcdr"; *c; c++)
        assert_prob(prob(m, "", (gunichar)*c), pb);
    assert_prob(prob(m, "", END), pb);
    assert_prob(prob(m, "", UNK), punk);
    assert_prob(prob(m, "", 'z'), punk); /* outside the vocabulary: UNK */
    assert_prob(prob(m, "z", 'a'), pa);  /* an unknown context backs off to the unigrams */

    assert_prob(prob(m, "a", 'b'), 0.2 + pb / 2);
    assert_prob(prob(m, "a", 'c'), 0.1 + pb / 2);
    assert_prob(prob(m, "a", 'd'), 0.1 + pb / 2);
    assert_prob(prob(m, "a", END), 0.1 + pb / 2);
    assert_prob(prob(m, "a", 'a'), pa / 2);
    assert_prob(prob(m, "a", 'r'), pb / 2);
    assert_prob(prob(m, "a", 'q'), punk / 2);
    assert_prob(prob(m, "r", 'a'), 0.5 + pa / 2);
    assert_prob(prob(m, "c", 'a'), 0.5 + pa / 2);
    assert_prob(prob(m, "r", 'b'), pb / 2);
    assert_prob(prob_after_bos(m, 'a'), 0.5 + pa / 2);
    assert_prob(prob_after_bos(m, 'b'), pb / 2);
    /* Only the last order − 1 = 1 character of a longer context counts. */
    assert_prob(prob(m, "zzzbra", 'c'), 0.1 + pb / 2);
    /* BOS is never predicted. */
    g_assert_true(isinf(aigc_ngram_log2prob(m, NULL, 0, BOS)));
    g_assert_cmpfloat(aigc_ngram_log2prob(m, NULL, 0, BOS), <, 0);
}

/* Order 1 on "abbcccdddd": raw counts a 1, b 2, c 3, d 4, END 1 give n1 = 2, n2 = n3 = n4 = 1,
 * Y = 2/(2 + 2) = 0.5, D1 = 1 − 2·0.5·1/2 = 0.5, D2 = 2 − 3·0.5·1/1 = 0.5, D3+ = 3 − 4·0.5·1/1 =
 * 1; T = 11, γ = (2·0.5 + 0.5 + 2·1)/11 = 3.5/11, p_uniform = 1/6. Counts 1, 2, 5×3, 4 (and END
 * 1) give D2 = 2 − 3·(1/3)·5 < 0: the fallback 0.5, 1, 1.5. */
static void test_discounts(void)
{
    g_autoptr(AigcNgram) m = train("abbcccdddd", 1, 0);
    double d[3];
    aigc_ngram_get_discounts(m, 1, d);
    g_assert_cmpfloat_with_epsilon(d[0], 0.5, 1e-15);
    g_assert_cmpfloat_with_epsilon(d[1], 0.5, 1e-15);
    g_assert_cmpfloat_with_epsilon(d[2], 1.0, 1e-15);
    const double u = 3.5 / 11 / 6;
    assert_prob(prob(m, "", 'a'), 0.5 / 11 + u);
    assert_prob(prob(m, "", 'b'), 1.5 / 11 + u);
    assert_prob(prob(m, "", 'c'), 2.0 / 11 + u);
    assert_prob(prob(m, "", 'd'), 3.0 / 11 + u);
    assert_prob(prob(m, "", END), 0.5 / 11 + u);
    assert_prob(prob(m, "", UNK), u);
    /* Order 1 ignores any context. */
    assert_prob(prob(m, "dddd", 'd'), 3.0 / 11 + u);

    g_autoptr(AigcNgram) f = train("bbcccdddeeefffggghhhh", 1, 0);
    aigc_ngram_get_discounts(f, 1, d);
    g_assert_cmpfloat(d[0], ==, 0.5);
    g_assert_cmpfloat(d[1], ==, 1.0);
    g_assert_cmpfloat(d[2], ==, 1.5);
}

/* ---- a brute-force reference: n-grams as string keys, every formula evaluated directly ---- */

typedef struct {
    guint64 total;         /* T: adjusted counts of all children, pruned or not */
    guint64 kept;          /* adjusted counts of the kept children */
    double freed;          /* their discounts */
    double textbook_freed; /* D1 N1 + D2 N2 + D3 N3+ over all children */
} NaiveContext;

typedef struct {
    int order, prune, n_pred;
    GHashTable *vocab; /* code point set */
    GHashTable *raw;   /* key → raw count */
    GHashTable *adj;   /* key → adjusted count */
    GHashTable *ctx;   /* context key → NaiveContext */
    double d[AIGC_NGRAM_MAX_ORDER + 1][3];
} Naive;

static char *key_of(const gunichar *x, int k)
{
    GString *s = g_string_new("#");
    for (int i = 0; i < k; i++)
        g_string_append_printf(s, "%x.", x[i]);
    return g_string_free(s, FALSE);
}

static guint lookup(GHashTable *t, const char *key)
{
    return GPOINTER_TO_UINT(g_hash_table_lookup(t, key));
}

static int key_len(const char *key)
{
    int n = 0;
    for (const char *p = key; *p; p++)
        n += *p == '.';
    return n;
}

static gboolean naive_kept(const Naive *nv, const char *key)
{
    guint raw = lookup(nv->raw, key);
    return raw > 0 && (key_len(key) < 3 || raw > (guint)nv->prune);
}

static double naive_discount(const Naive *nv, int k, guint a)
{
    return a == 0 ? 0.0 : nv->d[k][MIN(a, 3u) - 1];
}

static void naive_init(Naive *nv, const char *text, int order, int prune)
{
    nv->order = order;
    nv->prune = prune;
    nv->vocab = g_hash_table_new(NULL, NULL);
    nv->raw = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    nv->adj = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    nv->ctx = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    glong n_chars;
    gunichar *chars = g_utf8_to_ucs4_fast(text, -1, &n_chars);
    gunichar *s = g_new(gunichar, n_chars + 2);
    s[0] = BOS;
    memcpy(s + 1, chars, n_chars * sizeof(gunichar));
    s[n_chars + 1] = END;
    for (glong i = 0; i < n_chars; i++)
        g_hash_table_add(nv->vocab, GUINT_TO_POINTER(chars[i]));
    nv->n_pred = (int)g_hash_table_size(nv->vocab) + 2;
    for (glong i = 0; i < n_chars + 2; i++) {
        for (int k = 1; k <= order && i + k <= n_chars + 2; k++) {
            char *key = key_of(s + i, k);
            g_hash_table_insert(nv->raw, key, GUINT_TO_POINTER(lookup(nv->raw, key) + 1));
        }
    }
    /* Continuation counts: one per distinct left extension. */
    GHashTable *cont = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, nv->raw);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        if (key_len(key) < 2)
            continue;
        char *suffix = g_strconcat("#", strchr(key, '.') + 1, NULL);
        g_hash_table_insert(cont, suffix, GUINT_TO_POINTER(lookup(cont, suffix) + 1));
    }
    g_autofree char *bos_key = key_of(s, 1);
    guint64 n_of[AIGC_NGRAM_MAX_ORDER + 1][5] = {{0}};
    g_hash_table_iter_init(&it, nv->raw);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        int k = key_len(key);
        gboolean starts_bos = g_str_has_prefix(key, bos_key);
        guint a = k == order || starts_bos ? GPOINTER_TO_UINT(value) : lookup(cont, key);
        if (strcmp(key, bos_key) == 0)
            a = 0;
        g_hash_table_insert(nv->adj, g_strdup(key), GUINT_TO_POINTER(a));
        if (a >= 1 && a <= 4)
            n_of[k][a]++;
    }
    g_hash_table_unref(cont);
    for (int k = 1; k <= order; k++) {
        double *d = nv->d[k];
        gboolean ok = n_of[k][1] && n_of[k][2] && n_of[k][3] && n_of[k][4];
        if (ok) {
            double y = (double)n_of[k][1] / (n_of[k][1] + 2.0 * n_of[k][2]);
            d[0] = 1 - 2 * y * n_of[k][2] / n_of[k][1];
            d[1] = 2 - 3 * y * n_of[k][3] / n_of[k][2];
            d[2] = 3 - 4 * y * n_of[k][4] / n_of[k][3];
            ok = d[0] > 0 && d[0] <= 1 && d[1] > 0 && d[1] <= 2 && d[2] > 0 && d[2] <= 3;
        }
        if (!ok) {
            d[0] = 0.5;
            d[1] = 1.0;
            d[2] = 1.5;
        }
    }
    /* Context sums, from each n-gram to its prefix. */
    g_hash_table_iter_init(&it, nv->adj);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const char *last_dot = strrchr(key, '.');
        const char *prev = last_dot;
        while (prev > (const char *)key && prev[-1] != '.' && prev[-1] != '#')
            prev--;
        char *prefix = g_strndup(key, prev - (const char *)key);
        NaiveContext *c = g_hash_table_lookup(nv->ctx, prefix);
        if (!c) {
            c = g_new0(NaiveContext, 1);
            g_hash_table_insert(nv->ctx, g_strdup(prefix), c);
        }
        guint a = GPOINTER_TO_UINT(value);
        double disc = naive_discount(nv, key_len(key), a);
        c->total += a;
        c->textbook_freed += disc;
        if (naive_kept(nv, key)) {
            c->kept += a;
            c->freed += disc;
        }
        g_free(prefix);
    }
    g_free(chars);
    g_free(s);
}

static void naive_clear(Naive *nv)
{
    g_hash_table_unref(nv->vocab);
    g_hash_table_unref(nv->raw);
    g_hash_table_unref(nv->adj);
    g_hash_table_unref(nv->ctx);
}

static double naive_prob(const Naive *nv, const gunichar *ctx, int n_ctx, gunichar w)
{
    if (w == BOS)
        return 0.0;
    if (w != END && !g_hash_table_contains(nv->vocab, GUINT_TO_POINTER(w)))
        w = UNK;
    int n_h = MIN(n_ctx, nv->order - 1);
    gunichar h[AIGC_NGRAM_MAX_ORDER + 1];
    for (int i = 0; i < n_h; i++) {
        gunichar c = ctx[n_ctx - n_h + i];
        gboolean known =
            c == END || c == BOS || g_hash_table_contains(nv->vocab, GUINT_TO_POINTER(c));
        h[i] = known ? c : UNK;
    }
    double p = 1.0 / nv->n_pred;
    for (int k = 0; k <= n_h; k++) {
        g_autofree char *ckey = key_of(h + n_h - k, k);
        if (k > 0 && !naive_kept(nv, ckey))
            break;
        const NaiveContext *c = g_hash_table_lookup(nv->ctx, ckey);
        if (!c || c->total == 0)
            continue;
        double gamma = ((double)(c->total - c->kept) + c->freed) / c->total;
        if (nv->prune == 0) { /* without pruning γ is the textbook Σ D N_c / T */
            double textbook = c->textbook_freed / c->total;
            g_assert_cmpfloat_with_epsilon(gamma, textbook, 1e-12);
        }
        h[n_h] = w;
        g_autofree char *wkey = key_of(h + n_h - k, k + 1);
        double num = 0;
        if (naive_kept(nv, wkey)) {
            guint a = lookup(nv->adj, wkey);
            num = a - naive_discount(nv, k + 1, a);
        }
        p = num / c->total + gamma * p;
    }
    return p;
}

static void check_against_naive(const char *text, int order, int prune)
{
    g_autoptr(AigcNgram) m = train(text, order, prune);
    Naive nv;
    naive_init(&nv, text, order, prune);
    for (int k = 1; k <= order; k++) {
        double d[3];
        aigc_ngram_get_discounts(m, k, d);
        for (int c = 0; c < 3; c++)
            g_assert_cmpfloat_with_epsilon(d[c], nv.d[k][c], 1e-15);
        gint64 n_kept = 0;
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, nv.raw);
        while (g_hash_table_iter_next(&it, &key, NULL))
            n_kept += key_len(key) == k && naive_kept(&nv, key);
        g_assert_cmpint(aigc_ngram_get_n_ngrams(m, k), ==, n_kept);
    }
    int n_vocab;
    const gunichar *vocab = aigc_ngram_get_vocab(m, &n_vocab);
    glong n_chars;
    g_autofree gunichar *chars = g_utf8_to_ucs4_fast(text, -1, &n_chars);
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    int n_checked = 0;
    for (int trial = 0; trial < 60; trial++) {
        /* Contexts from the text (so long n-grams are found), with BOS, or with noise. */
        gunichar ctx[AIGC_NGRAM_MAX_ORDER + 2];
        int n_ctx = (int)aigc_rng_below(&rng, (guint32)order + 1);
        glong at = (glong)aigc_rng_below(&rng, (guint32)(n_chars - n_ctx));
        for (int i = 0; i < n_ctx; i++)
            ctx[i] = chars[at + i];
        if (trial % 5 == 1 && n_ctx > 0)
            ctx[0] = BOS;
        if (trial % 7 == 2 && n_ctx > 0)
            ctx[aigc_rng_below(&rng, (guint32)n_ctx)] = 0x4E2D; /* unknown */
        for (int w = -2; w < n_vocab; w++) {
            gunichar next = w == -2 ? END : w == -1 ? UNK : vocab[w];
            double want = naive_prob(&nv, ctx, n_ctx, next);
            double got = exp2(aigc_ngram_log2prob(m, ctx, n_ctx, next));
            g_assert_cmpfloat(fabs(got - want), <=, 1e-12 * want);
            n_checked++;
        }
    }
    g_assert_cmpint(n_checked, ==, 60 * (n_vocab + 2));
    naive_clear(&nv);
}

static void test_naive_reference(void)
{
    g_autofree char *text = make_text(21, 120);
    check_against_naive(text, 3, 0);
    check_against_naive(text, 4, 0);
    check_against_naive(text, 4, 1);
    check_against_naive(text, 5, 2);
    check_against_naive("abracadabra", 3, 0);
    check_against_naive("abracadabra", 5, 0);
}

/* Σ over the vocabulary, END and UNK is one for any context, and aigc_ngram_distribution gives
 * the same probabilities as aigc_ngram_log2prob. */
static void check_sums(AigcNgram *m, const char *text, guint64 seed)
{
    int n_vocab;
    const gunichar *vocab = aigc_ngram_get_vocab(m, &n_vocab);
    g_autofree double *dist = g_new(double, n_vocab + 2);
    glong n_chars;
    g_autofree gunichar *chars = g_utf8_to_ucs4_fast(text, -1, &n_chars);
    int order = aigc_ngram_get_order(m);
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    for (int trial = 0; trial < 200; trial++) {
        gunichar ctx[16];
        int n_ctx = (int)aigc_rng_below(&rng, (guint32)order + 2);
        if (trial % 2 == 0) { /* seen contexts */
            glong at = (glong)aigc_rng_below(&rng, (guint32)(n_chars - n_ctx));
            memcpy(ctx, chars + at, n_ctx * sizeof(gunichar));
        } else { /* random ones, with unknown characters and BOS */
            for (int i = 0; i < n_ctx; i++) {
                guint32 r = aigc_rng_below(&rng, (guint32)n_vocab + 2);
                ctx[i] = r < (guint32)n_vocab ? vocab[r] : r == (guint32)n_vocab ? 0x263A : END;
            }
            if (n_ctx > 0 && trial % 3 == 0)
                ctx[0] = BOS;
        }
        aigc_ngram_distribution(m, ctx, n_ctx, dist);
        double sum = 0;
        for (int i = 0; i < n_vocab + 2; i++) {
            gunichar c = i < n_vocab ? vocab[i] : i == n_vocab ? END : UNK;
            double lp = aigc_ngram_log2prob(m, ctx, n_ctx, c);
            g_assert_true(isfinite(lp) && lp < 0);
            g_assert_cmpfloat(fabs(exp2(lp) - dist[i]), <=, 1e-14 * dist[i]);
            sum += exp2(lp);
        }
        g_assert_cmpfloat(fabs(sum - 1.0), <=, 1e-6);
        g_assert_true(isinf(aigc_ngram_log2prob(m, ctx, n_ctx, BOS)));
    }
}

static void test_sum_to_one(void)
{
    g_autofree char *text = make_text(5, 600);
    for (int prune = 0; prune <= 2; prune++) {
        g_autoptr(AigcNgram) m = train(text, 6, prune);
        check_sums(m, text, 10 + (guint64)prune);
    }
    g_autoptr(AigcNgram) m1 = train(text, 1, 0);
    check_sums(m1, text, 4);
    g_autoptr(AigcNgram) m9 = train("abracadabra", 9, 0);
    check_sums(m9, "abracadabra", 5);
}

/* Pruning drops n-grams of ≥ 3 symbols only, and fewer are kept the higher the threshold. */
static void test_pruning(void)
{
    g_autofree char *text = make_text(8, 800);
    g_autoptr(AigcNgram) full = train(text, 6, 0);
    g_autoptr(AigcNgram) pruned = train(text, 6, 1);
    g_autoptr(AigcNgram) more = train(text, 6, 3);
    g_assert_cmpint(aigc_ngram_get_prune_count(pruned), ==, 1);
    for (int k = 1; k <= 2; k++) {
        g_assert_cmpint(aigc_ngram_get_n_ngrams(pruned, k), ==, aigc_ngram_get_n_ngrams(full, k));
        g_assert_cmpint(aigc_ngram_get_n_ngrams(more, k), ==, aigc_ngram_get_n_ngrams(full, k));
    }
    for (int k = 3; k <= 6; k++) {
        g_assert_cmpint(aigc_ngram_get_n_ngrams(pruned, k), <, aigc_ngram_get_n_ngrams(full, k));
        g_assert_cmpint(aigc_ngram_get_n_ngrams(more, k), <, aigc_ngram_get_n_ngrams(pruned, k));
    }
    /* Pruning singletons costs little on held-out text. */
    g_autofree char *held_out = make_text(9, 100);
    double bpc_full = aigc_ngram_bits_per_char(full, held_out, strlen(held_out));
    double bpc_pruned = aigc_ngram_bits_per_char(pruned, held_out, strlen(held_out));
    g_assert_cmpfloat(bpc_pruned, <, bpc_full + 0.2);
}

/* Whole sentences from a small set, in random order: text where a longer context keeps
 * paying off (unlike make_text, whose words follow each other at random). */
static char *make_repetitive_text(guint64 seed, int n_sentences)
{
    static const char *const sentences[] = {
        "The quick brown fox jumps over the lazy dog.",
        "A stitch in time saves nine.",
        "All that glitters is not gold.",
        "The early bird catches the worm.",
        "Actions speak louder than words.",
        "Better late than never, they said.",
        "Every cloud has a silver lining.",
        "The pen is mightier than the sword.",
        "Where there is smoke there is fire.",
        "Two wrongs do not make a right.",
        "The grass is always greener over there.",
    };
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    GString *s = g_string_new(NULL);
    for (int i = 0; i < n_sentences; i++) {
        g_string_append(s, sentences[aigc_rng_below(&rng, G_N_ELEMENTS(sentences))]);
        g_string_append_c(s, aigc_rng_below(&rng, 5) == 0 ? '\n' : ' ');
    }
    return g_string_free(s, FALSE);
}

/* On repetitive text each extra character of context predicts held-out text better. */
static void test_higher_order(void)
{
    g_autofree char *text = make_repetitive_text(1, 400);
    g_autofree char *held_out = make_repetitive_text(2, 40);
    static const int orders[] = {1, 2, 3, 4, 6, 9};
    double prev = INFINITY;
    for (guint i = 0; i < G_N_ELEMENTS(orders); i++) {
        g_autoptr(AigcNgram) m = train(text, orders[i], 0);
        double bpc = aigc_ngram_bits_per_char(m, held_out, strlen(held_out));
        g_test_message("order %d: %.4f bits/char", orders[i], bpc);
        g_assert_true(isfinite(bpc) && bpc > 0);
        g_assert_cmpfloat(bpc, <, prev);
        prev = bpc;
    }
    g_assert_cmpfloat(prev, <, 0.5);

    /* The sum runs in fixed blocks: the same bits with one thread or two. */
    g_autoptr(AigcNgram) m6 = train(text, 6, 0);
    int n_threads = aigc_threads_get();
    aigc_threads_init(1);
    double one = aigc_ngram_bits_per_char(m6, text, strlen(text));
    aigc_threads_init(2);
    double two = aigc_ngram_bits_per_char(m6, text, strlen(text));
    aigc_threads_init(n_threads);
    g_assert_cmpint(strlen(text), >, 3 * 2048);
    g_assert_cmpmem(&one, sizeof one, &two, sizeof two);

    /* bits/char is the mean of −log2 p over the characters, the first after BOS. */
    g_autoptr(AigcNgram) m = train(text, 3, 0);
    const char *s = "The cat";
    gunichar ctx[8] = {BOS};
    double sum = 0;
    int n = 0;
    for (const char *p = s; *p; p++, n++) {
        sum -= aigc_ngram_log2prob(m, ctx, n + 1, (gunichar)*p);
        ctx[n + 1] = (gunichar)*p;
    }
    g_assert_cmpfloat_with_epsilon(aigc_ngram_bits_per_char(m, s, strlen(s)), sum / n, 1e-12);
    g_assert_true(isnan(aigc_ngram_bits_per_char(m, "", 0)));
}

/* ---- save and load ---- */

static char *tmp_path(const char *dir, const char *name)
{
    return g_build_filename(dir, name, NULL);
}

static void assert_same_model(AigcNgram *a, AigcNgram *b, const char *text)
{
    g_assert_cmpint(aigc_ngram_get_order(a), ==, aigc_ngram_get_order(b));
    g_assert_cmpint(aigc_ngram_get_prune_count(a), ==, aigc_ngram_get_prune_count(b));
    int na, nb;
    const gunichar *va = aigc_ngram_get_vocab(a, &na), *vb = aigc_ngram_get_vocab(b, &nb);
    g_assert_cmpint(na, ==, nb);
    g_assert_cmpmem(va, na * sizeof(gunichar), vb, nb * sizeof(gunichar));
    int order = aigc_ngram_get_order(a);
    for (int k = 1; k <= order; k++) {
        g_assert_cmpint(aigc_ngram_get_n_ngrams(a, k), ==, aigc_ngram_get_n_ngrams(b, k));
        double da[3], db[3];
        aigc_ngram_get_discounts(a, k, da);
        aigc_ngram_get_discounts(b, k, db);
        g_assert_cmpmem(da, sizeof da, db, sizeof db);
    }
    glong n_chars;
    g_autofree gunichar *chars = g_utf8_to_ucs4_fast(text, -1, &n_chars);
    AigcRng rng;
    aigc_rng_init(&rng, 77);
    for (int trial = 0; trial < 100; trial++) {
        int n_ctx = (int)aigc_rng_below(&rng, (guint32)order + 1);
        glong at = (glong)aigc_rng_below(&rng, (guint32)(n_chars - n_ctx));
        for (int w = -2; w < na; w++) {
            gunichar next = w == -2 ? END : w == -1 ? UNK : va[w];
            double pa = aigc_ngram_log2prob(a, chars + at, n_ctx, next);
            double pb = aigc_ngram_log2prob(b, chars + at, n_ctx, next);
            g_assert_cmpmem(&pa, sizeof pa, &pb, sizeof pb); /* bit for bit */
        }
    }
    double ba = aigc_ngram_bits_per_char(a, text, strlen(text));
    double bb = aigc_ngram_bits_per_char(b, text, strlen(text));
    g_assert_cmpmem(&ba, sizeof ba, &bb, sizeof bb);
}

static AigcDtype tensor_dtype(const char *path, const char *name)
{
    GError *error = NULL;
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    g_assert_no_error(error);
    const AigcSafetensorsTensor *t = aigc_safetensors_find(st, name);
    g_assert_nonnull(t);
    return t->dtype;
}

static void test_save_load(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-ngram-XXXXXX", NULL);
    g_autofree char *text = make_text(31, 1500);
    for (int prune = 0; prune <= 1; prune++) {
        g_autoptr(AigcNgram) m = train(text, 5, prune);
        g_autofree char *path = tmp_path(dir, "a.safetensors");
        g_autofree char *path2 = tmp_path(dir, "b.safetensors");
        GError *error = NULL;
        g_assert_true(aigc_ngram_save(m, path, &error));
        g_assert_no_error(error);
        g_autoptr(AigcNgram) loaded = aigc_ngram_load(path, &error);
        g_assert_no_error(error);
        g_assert_nonnull(loaded);
        assert_same_model(m, loaded, text);
        /* Saving the loaded model writes the same bytes. */
        g_assert_true(aigc_ngram_save(loaded, path2, &error));
        g_assert_no_error(error);
        g_autofree char *bytes1 = NULL, *bytes2 = NULL;
        gsize n1, n2;
        g_assert_true(g_file_get_contents(path, &bytes1, &n1, NULL));
        g_assert_true(g_file_get_contents(path2, &bytes2, &n2, NULL));
        g_assert_cmpmem(bytes1, n1, bytes2, n2);
        /* Small values are stored as bytes, large ones as I32: both paths are exercised. */
        g_assert_cmpint(tensor_dtype(path, "level1.words"), ==, AIGC_DTYPE_U8);
        g_assert_cmpint(tensor_dtype(path, "level5.counts"), ==, AIGC_DTYPE_I32);
        g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
        g_assert_cmpstr(aigc_safetensors_get_metadata(st, "family"), ==, "ngram");
        g_assert_cmpstr(aigc_safetensors_get_metadata(st, "order"), ==, "5");
        g_unlink(path);
        g_unlink(path2);
    }

    /* Characters that JSON must escape (or that look special) survive in the vocabulary. */
    const char odd[] = "a\x01"
                       "b\tc\"d\\e\x1f\x7f f\u2028g/h\U0001F600i\r\n";
    g_autoptr(AigcNgram) m = train(odd, 3, 0);
    g_autofree char *path = tmp_path(dir, "odd.safetensors");
    GError *error = NULL;
    g_assert_true(aigc_ngram_save(m, path, &error));
    g_autoptr(AigcNgram) loaded = aigc_ngram_load(path, &error);
    g_assert_no_error(error);
    assert_same_model(m, loaded, odd);
    int n_vocab;
    aigc_ngram_get_vocab(loaded, &n_vocab);
    g_assert_cmpint(n_vocab, ==, 21);
    g_unlink(path);
    g_rmdir(dir);
}

/* ---- corrupt files ---- */

typedef struct {
    char *name;
    AigcDtype dtype; /* as it will be written: I32 (values) or F32 */
    int n_dims;
    gint64 shape[2];
    GArray *values; /* gint64 */
} TensorCopy;

typedef struct {
    GHashTable *meta;   /* key → value */
    GPtrArray *tensors; /* TensorCopy */
    int n_vocab;
} Rewrite;

static void tensor_copy_free(gpointer data)
{
    TensorCopy *t = data;
    g_free(t->name);
    g_array_unref(t->values);
    g_free(t);
}

static TensorCopy *find_copy(Rewrite *r, const char *name)
{
    for (guint i = 0; i < r->tensors->len; i++) {
        TensorCopy *t = g_ptr_array_index(r->tensors, i);
        if (strcmp(t->name, name) == 0)
            return t;
    }
    g_assert_not_reached();
}

static gint64 *value_at(Rewrite *r, const char *name, gint64 i)
{
    TensorCopy *t = find_copy(r, name);
    if (i < 0)
        i += t->values->len;
    g_assert_cmpint(i, >=, 0);
    g_assert_cmpint(i, <, t->values->len);
    return &g_array_index(t->values, gint64, i);
}

static void rewrite_read(Rewrite *r, const char *path)
{
    GError *error = NULL;
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    g_assert_no_error(error);
    r->meta = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (const char *const *k = aigc_safetensors_get_metadata_keys(st); *k; k++)
        g_hash_table_insert(r->meta, g_strdup(*k), g_strdup(aigc_safetensors_get_metadata(st, *k)));
    r->n_vocab = (int)g_utf8_strlen(g_hash_table_lookup(r->meta, "vocabulary"), -1);
    r->tensors = g_ptr_array_new_with_free_func(tensor_copy_free);
    for (gsize i = 0; i < aigc_safetensors_get_n_tensors(st); i++) {
        const AigcSafetensorsTensor *src = aigc_safetensors_get_tensor(st, i);
        TensorCopy *t = g_new0(TensorCopy, 1);
        t->name = g_strdup(src->name);
        t->dtype = AIGC_DTYPE_I32;
        t->n_dims = 1;
        t->shape[0] = src->n_elements;
        t->values = g_array_new(FALSE, FALSE, sizeof(gint64));
        for (gint64 j = 0; j < src->n_elements; j++) {
            gint64 v;
            if (src->dtype == AIGC_DTYPE_U8) {
                v = src->data[j];
            } else {
                g_assert_cmpint(src->dtype, ==, AIGC_DTYPE_I32);
                gint32 le;
                memcpy(&le, src->data + 4 * j, 4);
                v = GINT32_FROM_LE(le);
            }
            g_array_append_val(t->values, v);
        }
        g_ptr_array_add(r->tensors, t);
    }
}

static void rewrite_write(Rewrite *r, const char *path)
{
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, r->meta);
    while (g_hash_table_iter_next(&it, &key, &value))
        aigc_safetensors_writer_set_metadata(w, key, value);
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < r->tensors->len; i++) {
        TensorCopy *t = g_ptr_array_index(r->tensors, i);
        gint64 n = t->values->len;
        gboolean ok;
        if (t->dtype == AIGC_DTYPE_F32) {
            float *data = g_new(float, MAX(n, 1));
            for (gint64 j = 0; j < n; j++)
                data[j] = (float)g_array_index(t->values, gint64, j);
            g_ptr_array_add(keep, data);
            ok = aigc_safetensors_writer_add_f32(w, t->name, AIGC_DTYPE_F32, t->n_dims, t->shape,
                                                 data, NULL);
        } else {
            gint32 *data = g_new(gint32, MAX(n, 1));
            for (gint64 j = 0; j < n; j++)
                data[j] = GINT32_TO_LE((gint32)g_array_index(t->values, gint64, j));
            g_ptr_array_add(keep, data);
            ok = aigc_safetensors_writer_add(w, t->name, AIGC_DTYPE_I32, t->n_dims, t->shape, data,
                                             NULL);
        }
        g_assert_true(ok);
    }
    GError *error = NULL;
    g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, &error));
    g_assert_no_error(error);
}

static void set_meta(Rewrite *r, const char *key, const char *value)
{
    if (value)
        g_hash_table_insert(r->meta, g_strdup(key), g_strdup(value));
    else
        g_hash_table_remove(r->meta, key);
}

/* The first node of `level` that has children at the next level. */
static gint64 first_parent(Rewrite *r, int level)
{
    char name[32];
    g_snprintf(name, sizeof name, "level%d.children", level);
    TensorCopy *t = find_copy(r, name);
    for (guint i = 0; i < t->values->len; i++) {
        if (g_array_index(t->values, gint64, i) > 0)
            return i;
    }
    g_assert_not_reached();
}

static void mut_none(Rewrite *r)
{
}
static void mut_family(Rewrite *r)
{
    set_meta(r, "family", "gpt");
}
static void mut_no_family(Rewrite *r)
{
    set_meta(r, "family", NULL);
}
static void mut_version(Rewrite *r)
{
    set_meta(r, "version", "2");
}
static void mut_order_zero(Rewrite *r)
{
    set_meta(r, "order", "0");
}
static void mut_order_text(Rewrite *r)
{
    set_meta(r, "order", "five");
}
static void mut_order_other(Rewrite *r)
{
    set_meta(r, "order", "4");
}
static void mut_prune(Rewrite *r)
{
    set_meta(r, "prune_count", "-1");
}
static void mut_vocab_unsorted(Rewrite *r)
{
    char *v = g_strdup(g_hash_table_lookup(r->meta, "vocabulary"));
    char tmp = v[0]; /* the first two characters are ASCII (newline, space) */
    v[0] = v[1];
    v[1] = tmp;
    g_hash_table_insert(r->meta, g_strdup("vocabulary"), v);
}
static void mut_vocab_short(Rewrite *r)
{
    char *v = g_strdup(g_hash_table_lookup(r->meta, "vocabulary"));
    *g_utf8_offset_to_pointer(v, r->n_vocab - 1) = '\0';
    g_hash_table_insert(r->meta, g_strdup("vocabulary"), v);
}
static void mut_vocab_missing(Rewrite *r)
{
    set_meta(r, "vocabulary", NULL);
}
static void mut_discount_levels(Rewrite *r)
{
    set_meta(r, "discounts", "[[0.5,1,1.5]]");
}
static void mut_discount_range(Rewrite *r)
{
    set_meta(r, "discounts", "[[0.5,1,1.5],[1.5,1,1.5],[0.5,1,1.5],[0.5,1,1.5],[0.5,1,1.5]]");
}
static void mut_discount_inf(Rewrite *r)
{
    set_meta(r, "discounts", "[[0.5,1,1e999],[0.5,1,1.5],[0.5,1,1.5],[0.5,1,1.5],[0.5,1,1.5]]");
}
static void mut_discount_zero(Rewrite *r)
{
    set_meta(r, "discounts", "[[0.5,1,1.5],[0.5,1,1.5],[0.5,0,1.5],[0.5,1,1.5],[0.5,1,1.5]]");
}
static void mut_discount_json(Rewrite *r)
{
    set_meta(r, "discounts", "[[0.5,1,");
}
static void mut_word_range(Rewrite *r)
{
    *value_at(r, "level2.words", 0) = 1000000;
}
static void mut_word_negative(Rewrite *r)
{
    *value_at(r, "level2.words", 0) = -3;
}
static void mut_word_unk(Rewrite *r)
{
    *value_at(r, "level1.words", -2) = r->n_vocab + 1; /* END's slot, before BOS */
}
static void mut_word_bos(Rewrite *r)
{
    gint64 p = first_parent(r, 1), start = 0;
    for (gint64 i = 0; i <= p; i++)
        start += *value_at(r, "level1.children", i);
    *value_at(r, "level2.words", start - 1) = r->n_vocab + 2; /* its last child */
}
static void mut_siblings(Rewrite *r)
{
    *value_at(r, "level1.words", 1) = *value_at(r, "level1.words", 0);
}
static void mut_count_zero(Rewrite *r)
{
    *value_at(r, "level3.counts", 0) = 0;
}
static void mut_bos_count(Rewrite *r)
{
    *value_at(r, "level1.counts", -1) = 1;
}
static void mut_count_negative(Rewrite *r)
{
    *value_at(r, "level5.counts", -1) = -1;
}
static void mut_children(Rewrite *r)
{
    *value_at(r, "level2.children", 0) += 1;
}
static void mut_total(Rewrite *r)
{
    *value_at(r, "level2.totals", first_parent(r, 2)) = 0;
}
static void mut_renamed(Rewrite *r)
{
    TensorCopy *t = find_copy(r, "level4.counts");
    g_free(t->name);
    t->name = g_strdup("level4.kounts");
}
static void mut_extra(Rewrite *r)
{
    TensorCopy *t = g_new0(TensorCopy, 1);
    t->name = g_strdup("junk");
    t->dtype = AIGC_DTYPE_I32;
    t->n_dims = 1;
    t->shape[0] = 1;
    t->values = g_array_new(FALSE, TRUE, sizeof(gint64));
    g_array_set_size(t->values, 1);
    g_ptr_array_add(r->tensors, t);
}
static void mut_f32(Rewrite *r)
{
    find_copy(r, "level1.words")->dtype = AIGC_DTYPE_F32;
}
static void mut_2d(Rewrite *r)
{
    TensorCopy *t = find_copy(r, "level2.counts");
    t->n_dims = 2;
    t->shape[1] = 1;
}
static void mut_short(Rewrite *r)
{
    TensorCopy *t = find_copy(r, "level2.counts");
    g_array_set_size(t->values, t->values->len - 1);
    t->shape[0]--;
}

static void test_corrupt(void)
{
    static const struct {
        const char *what;
        void (*mutate)(Rewrite *r);
        int code;           /* −1: loads */
        const char *expect; /* in the message */
    } cases[] = {
        {"untouched copy", mut_none, -1, NULL},
        {"another family", mut_family, AIGC_ENGINE_ERROR_FORMAT, "not an n-gram model"},
        {"no family", mut_no_family, AIGC_ENGINE_ERROR_FORMAT, "not an n-gram model"},
        {"future version", mut_version, AIGC_ENGINE_ERROR_UNSUPPORTED, "version"},
        {"order 0", mut_order_zero, AIGC_ENGINE_ERROR_FORMAT, "“order”"},
        {"order not a number", mut_order_text, AIGC_ENGINE_ERROR_FORMAT, "“order”"},
        {"order unlike the tensors", mut_order_other, AIGC_ENGINE_ERROR_FORMAT, "tensors, not"},
        {"negative pruning", mut_prune, AIGC_ENGINE_ERROR_FORMAT, "“prune_count”"},
        {"vocabulary unsorted", mut_vocab_unsorted, AIGC_ENGINE_ERROR_FORMAT, "ascending"},
        {"vocabulary too short", mut_vocab_short, AIGC_ENGINE_ERROR_FORMAT, "outside"},
        {"no vocabulary", mut_vocab_missing, AIGC_ENGINE_ERROR_FORMAT, "“vocabulary”"},
        {"discounts for 1 level", mut_discount_levels, AIGC_ENGINE_ERROR_FORMAT, "5 levels"},
        {"discount D1 > 1", mut_discount_range, AIGC_ENGINE_ERROR_FORMAT, "D1 of level 2"},
        {"infinite discount", mut_discount_inf, AIGC_ENGINE_ERROR_FORMAT, "D3 of level 1"},
        {"zero discount", mut_discount_zero, AIGC_ENGINE_ERROR_FORMAT, "D2 of level 3"},
        {"discounts not JSON", mut_discount_json, AIGC_ENGINE_ERROR_FORMAT, "not valid JSON"},
        {"symbol id out of range", mut_word_range, AIGC_ENGINE_ERROR_FORMAT, "outside"},
        {"negative symbol id", mut_word_negative, AIGC_ENGINE_ERROR_FORMAT, "outside"},
        {"n-gram ending in UNK", mut_word_unk, AIGC_ENGINE_ERROR_FORMAT, "ends in UNK"},
        {"BOS predicted", mut_word_bos, AIGC_ENGINE_ERROR_FORMAT, "ends in BOS"},
        {"siblings out of order", mut_siblings, AIGC_ENGINE_ERROR_FORMAT, "out of order"},
        {"zero count", mut_count_zero, AIGC_ENGINE_ERROR_FORMAT, "count of 0"},
        {"BOS counted", mut_bos_count, AIGC_ENGINE_ERROR_FORMAT, "count of 1"},
        {"negative count", mut_count_negative, AIGC_ENGINE_ERROR_FORMAT, "outside"},
        {"children unlike the next level", mut_children, AIGC_ENGINE_ERROR_FORMAT, "values, not"},
        {"total below the children's", mut_total, AIGC_ENGINE_ERROR_FORMAT,
         "less than its children"},
        {"tensor missing", mut_renamed, AIGC_ENGINE_ERROR_FORMAT, "is missing"},
        {"extra tensor", mut_extra, AIGC_ENGINE_ERROR_FORMAT, "tensors, not"},
        {"float ids", mut_f32, AIGC_ENGINE_ERROR_FORMAT, "1-D U8 or I32"},
        {"2-D counts", mut_2d, AIGC_ENGINE_ERROR_FORMAT, "1-D U8 or I32"},
        {"counts one short", mut_short, AIGC_ENGINE_ERROR_FORMAT, "values, not"},
    };
    g_autofree char *dir = g_dir_make_tmp("test-ngram-XXXXXX", NULL);
    g_autofree char *good = tmp_path(dir, "good.safetensors");
    g_autofree char *bad = tmp_path(dir, "bad.safetensors");
    g_autofree char *text = make_text(12, 400);
    g_autoptr(AigcNgram) m = train(text, 5, 0);
    GError *error = NULL;
    g_assert_true(aigc_ngram_save(m, good, &error));
    g_assert_no_error(error);

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("corruption: %s", cases[i].what);
        Rewrite r;
        rewrite_read(&r, good);
        cases[i].mutate(&r);
        rewrite_write(&r, bad);
        g_hash_table_unref(r.meta);
        g_ptr_array_unref(r.tensors);
        AigcNgram *loaded = aigc_ngram_load(bad, &error);
        if (cases[i].code < 0) {
            g_assert_no_error(error);
            g_assert_nonnull(loaded);
            assert_same_model(m, loaded, text);
            aigc_ngram_free(loaded);
            continue;
        }
        g_assert_null(loaded);
        g_assert_error(error, AIGC_ENGINE_ERROR, cases[i].code);
        g_test_message("  → %s", error->message);
        g_assert_nonnull(strstr(error->message, cases[i].expect));
        g_assert_nonnull(strstr(error->message, "bad.safetensors"));
        g_clear_error(&error);
    }

    /* Files that are not safetensors at all, or cut short. */
    g_autofree char *bytes = NULL;
    gsize n_bytes;
    g_assert_true(g_file_get_contents(good, &bytes, &n_bytes, NULL));
    static const char garbage[] = "\x13\x00\x00\x00\x00\x00\x00\x00{\"a\":[1,2,3,]}      ";
    const struct {
        const char *what;
        const char *data;
        gsize n;
    } raw_cases[] = {
        {"empty file", "", 0},
        {"seven bytes", "\x08\x00\x00\x00\x00\x00\x00", 7},
        {"broken header", garbage, sizeof garbage - 1},
        {"cut in the header", bytes, 100},
        {"cut in the data", bytes, n_bytes - 3},
        {"Git LFS pointer", "version https://git-lfs.github.com/spec/v1\n", 44},
    };
    for (guint i = 0; i < G_N_ELEMENTS(raw_cases); i++) {
        g_test_message("raw corruption: %s", raw_cases[i].what);
        g_assert_true(g_file_set_contents(bad, raw_cases[i].data, (gssize)raw_cases[i].n, NULL));
        AigcNgram *loaded = aigc_ngram_load(bad, &error);
        g_assert_null(loaded);
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
        g_clear_error(&error);
    }
    g_unlink(bad);
    g_assert_null(aigc_ngram_load(bad, &error)); /* gone */
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
    g_clear_error(&error);
    g_unlink(good);
    g_rmdir(dir);
}

/* Random damage anywhere in a file: the loader either refuses it with an error or accepts a
 * model that is still a distribution (say a count that changed to another valid count). */
static void test_corrupt_random(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-ngram-XXXXXX", NULL);
    g_autofree char *good = tmp_path(dir, "good.safetensors");
    g_autofree char *text = make_text(13, 150);
    g_autoptr(AigcNgram) m = train(text, 4, 0);
    GError *error = NULL;
    g_assert_true(aigc_ngram_save(m, good, &error));
    g_autofree char *bytes = NULL;
    gsize n_bytes;
    g_assert_true(g_file_get_contents(good, &bytes, &n_bytes, NULL));
    g_autofree char *copy = g_malloc(n_bytes);
    AigcRng rng;
    aigc_rng_init(&rng, 99);
    int n_refused = 0, n_loaded = 0;
    for (int trial = 0; trial < 400; trial++) {
        memcpy(copy, bytes, n_bytes);
        int n_changes = 1 + (int)aigc_rng_below(&rng, 3);
        for (int c = 0; c < n_changes; c++) {
            gsize at = aigc_rng_below(&rng, (guint32)n_bytes);
            copy[at] = trial % 2 ? (char)aigc_rng_below(&rng, 256) : (char)(copy[at] ^ 1);
        }
        /* In memory: the same checks as from a file, without 400 file writes. */
        g_autoptr(GBytes) damaged = g_bytes_new(copy, n_bytes);
        g_autoptr(AigcSafetensors) st = aigc_safetensors_new_from_bytes(damaged, "damaged", &error);
        AigcNgram *loaded = st ? aigc_ngram_new_from_safetensors(st, &error) : NULL;
        if (!loaded) {
            g_assert_true(error && error->domain == AIGC_ENGINE_ERROR);
            g_clear_error(&error);
            n_refused++;
            continue;
        }
        g_assert_no_error(error);
        check_sums(loaded, text, (guint64)trial);
        aigc_ngram_free(loaded);
        n_loaded++;
    }
    g_test_message("%d damaged files refused, %d loaded", n_refused, n_loaded);
    g_assert_cmpint(n_refused, >, 100);
    g_unlink(good);
    g_rmdir(dir);
}

/* ---- sampling ---- */

typedef struct {
    GString *seen;
    int n_calls, stop_after;
} EmitState;

static gboolean emit_cb(gunichar c, gpointer user_data)
{
    EmitState *s = user_data;
    g_string_append_unichar(s->seen, c);
    return ++s->n_calls < s->stop_after;
}

static gunichar argmax_next(AigcNgram *m, const gunichar *ctx, int n_ctx)
{
    int n_vocab;
    const gunichar *vocab = aigc_ngram_get_vocab(m, &n_vocab);
    /* Ties go to the lowest id: the characters in code point order, then END. */
    gunichar best = 0;
    double best_lp = -INFINITY;
    for (int i = 0; i <= n_vocab; i++) {
        gunichar c = i < n_vocab ? vocab[i] : END;
        double lp = aigc_ngram_log2prob(m, ctx, n_ctx, c);
        if (lp > best_lp) {
            best_lp = lp;
            best = c;
        }
    }
    return best;
}

static void test_sample_determinism(void)
{
    g_autofree char *text = make_text(40, 800);
    g_autoptr(AigcNgram) m = train(text, 5, 0);
    AigcRng a, b, c;
    aigc_rng_init(&a, 7);
    aigc_rng_init(&b, 7);
    aigc_rng_init(&c, 8);
    g_autofree char *ga = aigc_ngram_generate(m, "The ", -1, 400, 1.0f, 0, &a, NULL, NULL);
    g_autofree char *gb = aigc_ngram_generate(m, "The ", -1, 400, 1.0f, 0, &b, NULL, NULL);
    g_autofree char *gc = aigc_ngram_generate(m, "The ", -1, 400, 1.0f, 0, &c, NULL, NULL);
    g_assert_cmpstr(ga, ==, gb);
    g_assert_cmpstr(ga, !=, gc);
    g_assert_cmpuint(a.offset, ==, b.offset);
    g_assert_true(g_utf8_validate(ga, -1, NULL));
    g_assert_cmpint(g_utf8_strlen(ga, -1), >, 0);
    g_assert_cmpint(g_utf8_strlen(ga, -1), <=, 400);
    /* The same draws through aigc_ngram_sample, one character at a time. */
    aigc_rng_init(&b, 7);
    GArray *ctx = g_array_new(FALSE, FALSE, sizeof(gunichar));
    gunichar bos = BOS;
    g_array_append_val(ctx, bos);
    for (const char *p = "The "; *p; p++) {
        gunichar ch = (gunichar)*p;
        g_array_append_val(ctx, ch);
    }
    for (const char *p = ga; *p; p = g_utf8_next_char(p)) {
        gunichar ch = aigc_ngram_sample(m, (gunichar *)ctx->data, (int)ctx->len, 1.0f, 0, &b);
        g_assert_cmpuint(ch, ==, g_utf8_get_char(p));
        g_array_append_val(ctx, ch);
    }
    g_array_unref(ctx);

    /* Greedy: temperature 0 and top-k 1 both follow the argmax of log2prob. */
    aigc_rng_init(&a, 1);
    g_autofree char *greedy = aigc_ngram_generate(m, "A", -1, 60, 0.0f, 0, &a, NULL, NULL);
    g_assert_cmpuint(a.offset, ==, 0);
    aigc_rng_init(&b, 2);
    g_autofree char *top1 = aigc_ngram_generate(m, "A", -1, 60, 0.7f, 1, &b, NULL, NULL);
    g_assert_cmpstr(greedy, ==, top1);
    gunichar hist[128] = {BOS, 'A'};
    int n_hist = 2;
    for (const char *p = greedy; *p; p = g_utf8_next_char(p)) {
        g_assert_cmpuint(g_utf8_get_char(p), ==, argmax_next(m, hist, n_hist));
        hist[n_hist++] = g_utf8_get_char(p);
    }

    /* Top-k keeps the k most probable characters only. */
    aigc_rng_init(&a, 3);
    const gunichar after[3] = {'t', 'h', 'e'};
    int n_vocab;
    const gunichar *vocab = aigc_ngram_get_vocab(m, &n_vocab);
    for (int trial = 0; trial < 300; trial++) {
        gunichar ch = aigc_ngram_sample(m, after, 3, 1.5f, 3, &a);
        double lp = aigc_ngram_log2prob(m, after, 3, ch);
        int n_better = aigc_ngram_log2prob(m, after, 3, END) > lp;
        for (int i = 0; i < n_vocab; i++)
            n_better += aigc_ngram_log2prob(m, after, 3, vocab[i]) > lp;
        g_assert_cmpint(n_better, <, 3);
    }

    /* The callback sees each character and can stop early. */
    EmitState st = {g_string_new(NULL), 0, 5};
    aigc_rng_init(&a, 9);
    g_autofree char *cut = aigc_ngram_generate(m, NULL, 0, 100, 1.0f, 0, &a, emit_cb, &st);
    g_assert_cmpint(st.n_calls, ==, 5);
    g_assert_cmpstr(cut, ==, st.seen->str);
    g_assert_cmpint(g_utf8_strlen(cut, -1), ==, 5);
    g_string_free(st.seen, TRUE);
}

/* Draw frequencies follow p (without UNK) and top-k renormalises over the k best. */
static void test_sample_frequencies(void)
{
    /* "abbcccdddd" at order 1 (see test_discounts): p ∝ 0.5, 1.5, 2, 3, 0.5 (+ 3.5/6 each) for
     * a, b, c, d, END, and UNK (3.5/6) is never drawn. */
    g_autoptr(AigcNgram) m = train("abbcccdddd", 1, 0);
    const double u = 3.5 / 6, w[5] = {0.5 + u, 1.5 + u, 2 + u, 3 + u, 0.5 + u};
    const double sum_w = 7.5 + 5 * u;
    const gunichar sym[5] = {'a', 'b', 'c', 'd', END};
    enum { N = 20000 };
    int hits[5] = {0};
    AigcRng rng;
    aigc_rng_init(&rng, 123);
    for (int i = 0; i < N; i++) {
        gunichar ch = aigc_ngram_sample(m, NULL, 0, 1.0f, 0, &rng);
        int j = 0;
        while (j < 5 && sym[j] != ch)
            j++;
        g_assert_cmpint(j, <, 5); /* never UNK */
        hits[j]++;
    }
    for (int j = 0; j < 5; j++) {
        double p = w[j] / sum_w, sd = sqrt(p * (1 - p) / N);
        g_assert_cmpfloat(fabs((double)hits[j] / N - p), <, 5 * sd);
    }
    /* Top-2: d and c only, in the ratio of their probabilities. */
    int n_c = 0, n_d = 0;
    for (int i = 0; i < N; i++) {
        gunichar ch = aigc_ngram_sample(m, NULL, 0, 1.0f, 2, &rng);
        g_assert_true(ch == 'c' || ch == 'd');
        n_c += ch == 'c';
        n_d += ch == 'd';
    }
    double p_c = w[2] / (w[2] + w[3]), sd = sqrt(p_c * (1 - p_c) / N);
    g_assert_cmpfloat(fabs((double)n_c / N - p_c), <, 5 * sd);
    /* A high temperature flattens the distribution: a is drawn more often than at 1. */
    int n_a = 0;
    for (int i = 0; i < N; i++)
        n_a += aigc_ngram_sample(m, NULL, 0, 4.0f, 0, &rng) == 'a';
    g_assert_cmpfloat((double)n_a / N, >, w[0] / sum_w + 5 * sqrt(0.1 / N));
}

/* END stops generation: a model of "ab" ends right after it. */
static void test_sample_end(void)
{
    g_autoptr(AigcNgram) m = train("ab", 3, 0);
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    g_autofree char *all = aigc_ngram_generate(m, "", 0, 50, 0.0f, 0, &rng, NULL, NULL);
    g_assert_cmpstr(all, ==, "ab");
    g_autofree char *none = aigc_ngram_generate(m, "ab", 2, 50, 0.0f, 0, &rng, NULL, NULL);
    g_assert_cmpstr(none, ==, "");
    const gunichar ab[2] = {'a', 'b'};
    g_assert_cmpuint(aigc_ngram_sample(m, ab, 2, 0.0f, 0, &rng), ==, END);
}

/* ---- Chinese ---- */

static const char poems[] = "床前明月光，疑是地上霜。举头望明月，低头思故乡。\n"
                            "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。\n"
                            "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。\n"
                            "红豆生南国，春来发几枝。愿君多采撷，此物最相思。\n";

static void test_chinese(void)
{
    /* The poems, then CJK characters beyond them so that ids need I32. */
    GString *s = g_string_new(poems);
    AigcRng rng;
    aigc_rng_init(&rng, 4);
    for (int i = 0; i < 3000; i++)
        g_string_append_unichar(s, 0x4E00 + aigc_rng_below(&rng, 400));
    g_autoptr(AigcNgram) m = train(s->str, 4, 0);
    int n_vocab;
    const gunichar *vocab = aigc_ngram_get_vocab(m, &n_vocab);
    g_assert_cmpint(n_vocab, >, 300);
    for (int i = 1; i < n_vocab; i++)
        g_assert_cmpuint(vocab[i - 1], <, vocab[i]);

    g_autofree char *dir = g_dir_make_tmp("test-ngram-XXXXXX", NULL);
    g_autofree char *path = tmp_path(dir, "zh.safetensors");
    GError *error = NULL;
    g_assert_true(aigc_ngram_save(m, path, &error));
    g_assert_no_error(error);
    g_assert_cmpint(tensor_dtype(path, "level1.words"), ==, AIGC_DTYPE_I32);
    g_autoptr(AigcNgram) loaded = aigc_ngram_load(path, &error);
    g_assert_no_error(error);
    assert_same_model(m, loaded, poems);
    g_unlink(path);
    g_rmdir(dir);

    /* A memorised line continues; text with a character never seen stays finite. */
    aigc_rng_init(&rng, 5);
    g_autofree char *next =
        aigc_ngram_generate(loaded, "床前明月", -1, 1, 0.0f, 0, &rng, NULL, NULL);
    g_assert_cmpstr(next, ==, "光");
    g_autofree char *line = aigc_ngram_generate(loaded, "白日", -1, 10, 0.0f, 0, &rng, NULL, NULL);
    g_assert_cmpstr(line, ==, "依山尽，黄河入海流。");
    double bpc = aigc_ngram_bits_per_char(loaded, "床前明月光，龘", strlen("床前明月光，龘"));
    g_assert_true(isfinite(bpc) && bpc > 0);
    g_autofree char *sampled = aigc_ngram_generate(loaded, "春", -1, 50, 1.0f, 0, &rng, NULL, NULL);
    g_assert_true(g_utf8_validate(sampled, -1, NULL));
    for (const char *p = sampled; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        g_assert_true(isfinite(aigc_ngram_log2prob(loaded, NULL, 0, c)));
        g_assert_cmpfloat(aigc_ngram_log2prob(loaded, NULL, 0, c), >,
                          aigc_ngram_log2prob(loaded, NULL, 0, UNK));
    }
    g_string_free(s, TRUE);
}

static void test_invalid(void)
{
    GError *error = NULL;
    g_assert_null(aigc_ngram_train("ab\xff", 3, 3, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_null(aigc_ngram_train("a\0b", 3, 3, &error)); /* NUL inside */
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_null(aigc_ngram_train("ab", 2, 0, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_null(aigc_ngram_train("ab", 2, AIGC_NGRAM_MAX_ORDER + 1, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    AigcNgramParams params = {.order = 3, .prune_count = -1};
    g_assert_null(aigc_ngram_train_full("ab", 2, &params, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);

    /* An empty text is a model of empty texts: END and UNK share everything. */
    g_autoptr(AigcNgram) empty = aigc_ngram_train("", 0, 3, &error);
    g_assert_no_error(error);
    int n_vocab;
    aigc_ngram_get_vocab(empty, &n_vocab);
    g_assert_cmpint(n_vocab, ==, 0);
    gunichar bos = BOS;
    double p_end = exp2(aigc_ngram_log2prob(empty, &bos, 1, END));
    double p_unk = exp2(aigc_ngram_log2prob(empty, &bos, 1, UNK));
    g_assert_cmpfloat_with_epsilon(p_end + p_unk, 1.0, 1e-15);
    g_assert_cmpfloat(p_end, >, p_unk);
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    g_autofree char *nothing = aigc_ngram_generate(empty, NULL, 0, 10, 1.0f, 0, &rng, NULL, NULL);
    g_assert_cmpstr(nothing, ==, "");
    g_autofree char *dir = g_dir_make_tmp("test-ngram-XXXXXX", NULL);
    g_autofree char *path = tmp_path(dir, "empty.safetensors");
    g_assert_true(aigc_ngram_save(empty, path, &error));
    g_autoptr(AigcNgram) loaded = aigc_ngram_load(path, &error);
    g_assert_no_error(error);
    double p_end2 = exp2(aigc_ngram_log2prob(loaded, &bos, 1, END));
    g_assert_cmpfloat(p_end, ==, p_end2);
    g_unlink(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/models/ngram/hand-order2", test_hand_order2);
    g_test_add_func("/models/ngram/discounts", test_discounts);
    g_test_add_func("/models/ngram/naive-reference", test_naive_reference);
    g_test_add_func("/models/ngram/sum-to-one", test_sum_to_one);
    g_test_add_func("/models/ngram/pruning", test_pruning);
    g_test_add_func("/models/ngram/higher-order", test_higher_order);
    g_test_add_func("/models/ngram/save-load", test_save_load);
    g_test_add_func("/models/ngram/corrupt", test_corrupt);
    g_test_add_func("/models/ngram/corrupt/random", test_corrupt_random);
    g_test_add_func("/models/ngram/sample/determinism", test_sample_determinism);
    g_test_add_func("/models/ngram/sample/frequencies", test_sample_frequencies);
    g_test_add_func("/models/ngram/sample/end", test_sample_end);
    g_test_add_func("/models/ngram/chinese", test_chinese);
    g_test_add_func("/models/ngram/invalid", test_invalid);
    return g_test_run();
}
