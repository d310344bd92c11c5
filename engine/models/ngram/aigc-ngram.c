/* SPDX-License-Identifier: MIT
 *
 * Character n-gram model: counting, interpolated modified Kneser–Ney smoothing, scoring,
 * sampling and the safetensors file.
 *
 * Legend: n the order; "level k" holds the distinct n-grams of k symbols (level 0 is the root,
 * the empty context); S the training sequence (BOS, the text's characters, END); V the
 * vocabulary size. Symbol ids: 0..V−1 the characters in code point order, V END, V+1 UNK,
 * V+2 BOS; the predicted symbols are 0..V+1 (n_pred = V + 2).
 *
 * Smoothing (Chen & Goodman's interpolated modified Kneser–Ney): for a context h of k symbols
 * and its shortening h' (its last k − 1 symbols),
 *     p_k(w | h) = (a(hw) − D(a(hw))) / T(h) + γ(h) · p_{k−1}(w | h'),   p_{−1}(w) = 1 / n_pred,
 * where a is the adjusted count — the raw count at the top level and for n-grams that start with
 * BOS, else the number of distinct symbols seen just before the n-gram (its continuation
 * count) —, T(h) = Σ_w a(hw), D(1), D(2), D(3+) are the level's discounts estimated from its
 * count-of-counts n1..n4 (Y = n1 / (n1 + 2 n2), D(c) = c − (c + 1) Y n_{c+1} / n_c; 0.5, 1, 1.5
 * when some n_c is zero or an estimate falls outside (0, c]), and γ(h) is the mass the
 * discounts freed, so that every p_k sums to one. A context that was never seen (or was
 * pruned) adds nothing: p_k = p_{k−1}. UNK is reached only through the uniform p_{−1}.
 *
 * DESIGN (training): one pass over S counts every n-gram of 1..n symbols in one open-addressing
 * hash table per level keyed by (parent n-gram, last symbol): the n-gram of k symbols ending at
 * position j is the child of the one of k − 1 symbols ending at j − 1, so a position costs n
 * probes, each a single cache line. The tables then become a sorted trie (children of a node
 * contiguous and sorted by symbol, found by binary search); suffix links give the continuation
 * counts. Pruning drops n-grams of ≥ 3 symbols by raw count, which keeps the trie closed under
 * prefixes and suffixes; T(h) keeps counting the pruned children, and γ(h) = 1 − Σ_kept
 * (a − D) / T absorbs their mass, so a pruned model is still a distribution.
 *
 * DESIGN (file format): per level k = 1..n the tensors "level{k}.words" (symbol ids) and
 * "level{k}.counts" (adjusted counts), and for k < n "level{k}.children" (how many children
 * each node keeps at level k + 1, in trie order) and "level{k}.totals" (T of the node as a
 * context); each is U8 when every value fits a byte, else I32. Metadata: "family" = "ngram",
 * "version" = "1", "order", "prune_count", "discounts" (a JSON array of [D1, D2, D3+] per level,
 * with 17 significant digits so they round-trip exactly) and "vocabulary" (the characters in
 * id order, as one string). What is derived (offsets, γ) is recomputed on load by the code that
 * runs after training, so a loaded model gives bit-identical probabilities. The loader checks
 * every id, count, sibling order, size and discount before it computes anything.
 */
#include "aigc-ngram.h"

#include "aigc-error.h"
#include "io/aigc-strict-json.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    gint64 n;             /* nodes at this level */
    guint32 *word;        /* (n) id of the node's last symbol; NULL at the root */
    guint32 *count;       /* (n) adjusted count a; NULL at the root */
    guint32 *first_child; /* (n + 1) its children are [first_child[i], first_child[i + 1]) of
                           * the next level; NULL at the top level */
    guint32 *total;       /* (n) T of the node as a context; NULL at the top level */
    double *gamma;        /* (n) backoff weight γ; NULL at the top level */
} Level;

struct _AigcNgram {
    int order;
    int prune_count;
    int n_vocab;
    gunichar *vocab;                              /* (n_vocab) ascending code points */
    double discount[AIGC_NGRAM_MAX_ORDER + 1][3]; /* [level][D1, D2, D3+]; level 0 unused */
    Level level[AIGC_NGRAM_MAX_ORDER + 1];        /* level[0] is the root: one node */
};

#define ID_END(m) ((guint32)(m)->n_vocab)
#define ID_UNK(m) ((guint32)(m)->n_vocab + 1)
#define ID_BOS(m) ((guint32)(m)->n_vocab + 2)
#define N_PRED(m) ((m)->n_vocab + 2)

/* Texts are limited so that every count, total and index fits an I32 in the file. */
#define MAX_TEXT_CHARS ((gint64)G_MAXINT32 - 8)

AigcNgramParams aigc_ngram_default_params(void)
{
    return (AigcNgramParams){.order = 6, .prune_count = 0};
}

void aigc_ngram_free(AigcNgram *m)
{
    if (!m)
        return;
    for (int k = 0; k <= AIGC_NGRAM_MAX_ORDER; k++) {
        g_free(m->level[k].word);
        g_free(m->level[k].count);
        g_free(m->level[k].first_child);
        g_free(m->level[k].total);
        g_free(m->level[k].gamma);
    }
    g_free(m->vocab);
    g_free(m);
}

int aigc_ngram_get_order(AigcNgram *m)
{
    g_return_val_if_fail(m != NULL, 0);
    return m->order;
}

int aigc_ngram_get_prune_count(AigcNgram *m)
{
    g_return_val_if_fail(m != NULL, 0);
    return m->prune_count;
}

const gunichar *aigc_ngram_get_vocab(AigcNgram *m, int *n_vocab)
{
    g_return_val_if_fail(m != NULL, NULL);
    if (n_vocab)
        *n_vocab = m->n_vocab;
    return m->vocab;
}

gint64 aigc_ngram_get_n_ngrams(AigcNgram *m, int level)
{
    g_return_val_if_fail(m != NULL, 0);
    g_return_val_if_fail(level >= 1 && level <= m->order, 0);
    return m->level[level].n;
}

void aigc_ngram_get_discounts(AigcNgram *m, int level, double discounts[3])
{
    g_return_if_fail(m != NULL);
    g_return_if_fail(level >= 1 && level <= m->order);
    memcpy(discounts, m->discount[level], 3 * sizeof(double));
}

/* ---- queries ---- */

static guint32 symbol_id(const AigcNgram *m, gunichar c)
{
    if (c == AIGC_NGRAM_END)
        return ID_END(m);
    if (c == AIGC_NGRAM_BOS)
        return ID_BOS(m);
    int lo = 0, hi = m->n_vocab;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (m->vocab[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n_vocab && m->vocab[lo] == c ? (guint32)lo : ID_UNK(m);
}

static gunichar symbol_char(const AigcNgram *m, guint32 id)
{
    if (id < (guint32)m->n_vocab)
        return m->vocab[id];
    return id == ID_END(m) ? AIGC_NGRAM_END : id == ID_BOS(m) ? AIGC_NGRAM_BOS : AIGC_NGRAM_UNK;
}

/* The child of node `node` of level k whose last symbol is w, as an index into level k + 1;
 * −1 if there is none. */
static gint64 find_child(const AigcNgram *m, int k, guint32 node, guint32 w)
{
    const guint32 *words = m->level[k + 1].word;
    guint32 lo = m->level[k].first_child[node], end = m->level[k].first_child[node + 1];
    guint32 hi = end;
    while (lo < hi) {
        guint32 mid = lo + (hi - lo) / 2;
        if (words[mid] < w)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < end && words[lo] == w ? (gint64)lo : -1;
}

/* The node of the k symbols h[0..k) (a level-k index); FALSE if that n-gram is not kept. */
static gboolean find_context(const AigcNgram *m, const guint32 *h, int k, guint32 *node)
{
    guint32 nd = 0;
    for (int i = 0; i < k; i++) {
        gint64 c = find_child(m, i, nd, h[i]);
        if (c < 0)
            return FALSE;
        nd = (guint32)c;
    }
    *node = nd;
    return TRUE;
}

/* D(a) for an n-gram of level k (none for the BOS unigram's a = 0). */
static inline double discount_of(const AigcNgram *m, int k, guint32 a)
{
    return a == 0 ? 0.0 : m->discount[k][MIN(a, 3u) - 1];
}

/* a − D(a) for an n-gram of level k. */
static inline double discounted(const AigcNgram *m, int k, guint32 a)
{
    return (double)a - discount_of(m, k, a);
}

/* p(w | the last min(n_ctx, order − 1) symbols of ctx), all as ids. */
static double prob_ids(const AigcNgram *m, const guint32 *ctx, int n_ctx, guint32 w)
{
    if (w >= (guint32)N_PRED(m))
        return 0.0; /* BOS is only ever context */
    int n_h = MIN(n_ctx, m->order - 1);
    const guint32 *h = ctx + n_ctx - n_h;
    double p = 1.0 / N_PRED(m);
    guint32 node = 0;
    for (int k = 0;; k++) {
        const Level *lv = &m->level[k];
        guint32 total = lv->total[node];
        if (total > 0) {
            gint64 c = find_child(m, k, node, w);
            double num = c >= 0 ? discounted(m, k + 1, m->level[k + 1].count[c]) : 0.0;
            p = num / total + lv->gamma[node] * p;
        }
        if (k == n_h || !find_context(m, h + n_h - k - 1, k + 1, &node))
            break;
    }
    return p;
}

/* dist[0..n_pred) = p(· | ctx): the same sums as prob_ids, for every symbol at once. */
static void distribution(const AigcNgram *m, const guint32 *ctx, int n_ctx, double *dist)
{
    int n_pred = N_PRED(m);
    for (int i = 0; i < n_pred; i++)
        dist[i] = 1.0 / n_pred;
    int n_h = MIN(n_ctx, m->order - 1);
    const guint32 *h = ctx + n_ctx - n_h;
    guint32 node = 0;
    for (int k = 0;; k++) {
        const Level *lv = &m->level[k], *next = &m->level[k + 1];
        guint32 total = lv->total[node];
        if (total > 0) {
            double g = lv->gamma[node];
            for (int i = 0; i < n_pred; i++)
                dist[i] *= g;
            for (guint32 c = lv->first_child[node]; c < lv->first_child[node + 1]; c++) {
                if (next->word[c] < (guint32)n_pred) /* not the BOS unigram (count 0) */
                    dist[next->word[c]] += discounted(m, k + 1, next->count[c]) / total;
            }
        }
        if (k == n_h || !find_context(m, h + n_h - k - 1, k + 1, &node))
            break;
    }
}

/* Maps the last min(n_ctx, order − 1) context characters to ids; returns how many. */
static int context_ids(const AigcNgram *m, const gunichar *context, int n_ctx,
                       guint32 ids[AIGC_NGRAM_MAX_ORDER])
{
    int n_h = MIN(n_ctx, m->order - 1);
    for (int i = 0; i < n_h; i++)
        ids[i] = symbol_id(m, context[n_ctx - n_h + i]);
    return n_h;
}

double aigc_ngram_log2prob(AigcNgram *m, const gunichar *context, int n_ctx, gunichar next)
{
    g_return_val_if_fail(m != NULL, NAN);
    g_return_val_if_fail(n_ctx >= 0 && (n_ctx == 0 || context != NULL), NAN);
    guint32 ids[AIGC_NGRAM_MAX_ORDER];
    int n_h = context_ids(m, context, n_ctx, ids);
    guint32 w = next == AIGC_NGRAM_UNK ? ID_UNK(m) : symbol_id(m, next);
    return log2(prob_ids(m, ids, n_h, w));
}

void aigc_ngram_distribution(AigcNgram *m, const gunichar *context, int n_ctx, double *probs)
{
    g_return_if_fail(m != NULL && probs != NULL);
    g_return_if_fail(n_ctx >= 0 && (n_ctx == 0 || context != NULL));
    guint32 ids[AIGC_NGRAM_MAX_ORDER];
    int n_h = context_ids(m, context, n_ctx, ids);
    distribution(m, ids, n_h, probs);
}

enum { BPC_BLOCK = 2048 }; /* characters per partial sum: fixed, so sums never depend on threads */

typedef struct {
    const AigcNgram *m;
    const guint32 *ids; /* (n_chars + 1) BOS, then the text */
    gint64 n_chars;
    double *block_sum; /* (n_blocks) */
} BpcTask;

static void bpc_blocks(gint64 b_begin, gint64 b_end, gpointer data)
{
    BpcTask *t = data;
    int n_h = t->m->order - 1;
    for (gint64 b = b_begin; b < b_end; b++) {
        gint64 begin = 1 + b * BPC_BLOCK, end = MIN(t->n_chars + 1, begin + BPC_BLOCK);
        double sum = 0;
        for (gint64 i = begin; i < end; i++) {
            gint64 start = MAX(0, i - n_h);
            sum -= log2(prob_ids(t->m, t->ids + start, (int)(i - start), t->ids[i]));
        }
        t->block_sum[b] = sum;
    }
}

double aigc_ngram_bits_per_char(AigcNgram *m, const char *text, gsize len)
{
    g_return_val_if_fail(m != NULL, NAN);
    g_return_val_if_fail(len == 0 || text != NULL, NAN);
    if (len == 0)
        return NAN;
    g_return_val_if_fail(g_utf8_validate_len(text, len, NULL), NAN);
    gint64 n_chars = (gint64)g_utf8_strlen(text, (gssize)len);
    if (n_chars == 0)
        return NAN;
    guint32 *ids = g_new(guint32, n_chars + 1);
    ids[0] = ID_BOS(m);
    const char *p = text;
    for (gint64 i = 1; i <= n_chars; i++, p = g_utf8_next_char(p))
        ids[i] = symbol_id(m, g_utf8_get_char(p));
    gint64 n_blocks = (n_chars + BPC_BLOCK - 1) / BPC_BLOCK;
    BpcTask task = {m, ids, n_chars, g_new(double, n_blocks)};
    aigc_parallel_for(n_blocks, 1, bpc_blocks, &task);
    double total = 0;
    for (gint64 b = 0; b < n_blocks; b++)
        total += task.block_sum[b];
    g_free(task.block_sum);
    g_free(ids);
    return total / (double)n_chars;
}

/* ---- sampling ---- */

typedef struct {
    double p;
    int id;
} Candidate;

typedef struct {
    double *dist;    /* (n_pred) */
    Candidate *cand; /* (n_pred) */
    float *weight;   /* (n_pred) */
} SampleScratch;

static void scratch_init(SampleScratch *s, const AigcNgram *m)
{
    s->dist = g_new(double, N_PRED(m));
    s->cand = g_new(Candidate, N_PRED(m));
    s->weight = g_new(float, N_PRED(m));
}

static void scratch_clear(SampleScratch *s)
{
    g_free(s->dist);
    g_free(s->cand);
    g_free(s->weight);
}

/* Most probable first; ties by id, so the order is total and the same everywhere. */
static int compare_candidates(const void *a, const void *b)
{
    const Candidate *x = a, *y = b;
    if (x->p != y->p)
        return x->p > y->p ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static guint32 sample_ids(const AigcNgram *m, const guint32 *ids, int n_h, float temperature,
                          int top_k, AigcRng *rng, SampleScratch *s)
{
    distribution(m, ids, n_h, s->dist);
    /* Every character and END may be drawn; UNK never. */
    int n_cand = 0, best = -1;
    for (int i = 0; i <= (int)ID_END(m); i++) {
        if (s->dist[i] <= 0)
            continue;
        s->cand[n_cand++] = (Candidate){s->dist[i], i};
        if (best < 0 || s->dist[i] > s->dist[best])
            best = i;
    }
    if (temperature <= 0 || n_cand == 1 || top_k == 1)
        return (guint32)best;
    if (top_k > 0 && top_k < n_cand) {
        qsort(s->cand, (size_t)n_cand, sizeof(Candidate), compare_candidates);
        n_cand = top_k;
    }
    double log_max = log(s->dist[best]);
    for (int i = 0; i < n_cand; i++)
        s->weight[i] = (float)exp((log(s->cand[i].p) - log_max) / temperature);
    return (guint32)s->cand[aigc_rng_categorical(rng, s->weight, n_cand)].id;
}

gunichar aigc_ngram_sample(AigcNgram *m, const gunichar *context, int n_ctx, float temperature,
                           int top_k, AigcRng *rng)
{
    g_return_val_if_fail(m != NULL, AIGC_NGRAM_END);
    g_return_val_if_fail(n_ctx >= 0 && (n_ctx == 0 || context != NULL), AIGC_NGRAM_END);
    g_return_val_if_fail(rng != NULL, AIGC_NGRAM_END);
    g_return_val_if_fail(!isnan(temperature), AIGC_NGRAM_END);
    guint32 ids[AIGC_NGRAM_MAX_ORDER];
    int n_h = context_ids(m, context, n_ctx, ids);
    SampleScratch s;
    scratch_init(&s, m);
    guint32 id = sample_ids(m, ids, n_h, temperature, top_k, rng, &s);
    scratch_clear(&s);
    return symbol_char(m, id);
}

/* Appends id to a window holding the last order − 1 symbols. */
static void window_push(guint32 *window, int *n_window, int capacity, guint32 id)
{
    if (capacity == 0)
        return;
    if (*n_window == capacity) {
        memmove(window, window + 1, (gsize)(capacity - 1) * sizeof(guint32));
        (*n_window)--;
    }
    window[(*n_window)++] = id;
}

char *aigc_ngram_generate(AigcNgram *m, const char *prompt, gssize prompt_len, int n_chars,
                          float temperature, int top_k, AigcRng *rng, AigcNgramEmitFunc emit,
                          gpointer user_data)
{
    g_return_val_if_fail(m != NULL, NULL);
    g_return_val_if_fail(rng != NULL, NULL);
    g_return_val_if_fail(n_chars >= 0, NULL);
    g_return_val_if_fail(!isnan(temperature), NULL);
    if (!prompt)
        prompt = "";
    if (prompt_len < 0)
        prompt_len = (gssize)strlen(prompt);
    g_return_val_if_fail(prompt_len == 0 || g_utf8_validate_len(prompt, (gsize)prompt_len, NULL),
                         NULL);

    guint32 window[AIGC_NGRAM_MAX_ORDER];
    int n_window = 0, capacity = m->order - 1;
    window_push(window, &n_window, capacity, ID_BOS(m));
    for (const char *p = prompt; p < prompt + prompt_len; p = g_utf8_next_char(p))
        window_push(window, &n_window, capacity, symbol_id(m, g_utf8_get_char(p)));

    GString *out = g_string_new(NULL);
    SampleScratch s;
    scratch_init(&s, m);
    for (int i = 0; i < n_chars; i++) {
        guint32 id = sample_ids(m, window, n_window, temperature, top_k, rng, &s);
        if (id == ID_END(m))
            break;
        gunichar c = m->vocab[id];
        g_string_append_unichar(out, c);
        window_push(window, &n_window, capacity, id);
        if (emit && !emit(c, user_data))
            break;
    }
    scratch_clear(&s);
    return g_string_free(out, FALSE);
}

/* ---- derived values, shared by training and loading ---- */

/* γ of every context node, from the integer counts: (T − Σ_kept a + Σ_kept D(a)) / T. The
 * integer part is exact, so γ keeps full precision even when little mass is left. */
static void compute_gammas(AigcNgram *m)
{
    for (int k = 0; k < m->order; k++) {
        Level *lv = &m->level[k];
        const Level *next = &m->level[k + 1];
        g_free(lv->gamma);
        lv->gamma = g_new(double, MAX(lv->n, 1));
        for (gint64 p = 0; p < lv->n; p++) {
            guint32 total = lv->total[p];
            if (total == 0) {
                lv->gamma[p] = 1.0;
                continue;
            }
            guint64 kept = 0;
            double freed = 0;
            for (guint32 c = lv->first_child[p]; c < lv->first_child[p + 1]; c++) {
                kept += next->count[c];
                freed += discount_of(m, k + 1, next->count[c]);
            }
            lv->gamma[p] = ((double)(total - kept) + freed) / total;
        }
    }
}

static void estimate_discounts(const guint64 n_of[5], double d[3])
{
    static const double fallback[3] = {0.5, 1.0, 1.5};
    gboolean ok = n_of[1] > 0 && n_of[2] > 0 && n_of[3] > 0 && n_of[4] > 0;
    if (ok) {
        double y = (double)n_of[1] / ((double)n_of[1] + 2.0 * (double)n_of[2]);
        for (int c = 1; c <= 3; c++) {
            d[c - 1] = c - (c + 1) * y * (double)n_of[c + 1] / (double)n_of[c];
            ok = ok && d[c - 1] > 0 && d[c - 1] <= c;
        }
    }
    if (!ok)
        memcpy(d, fallback, sizeof fallback);
}

/* ---- training ---- */

/* One level's counting table: open addressing with linear probing; a slot holds the key, the
 * entry's index (in order of first occurrence, + 1 so that 0 marks an empty slot) and its raw
 * count, so a probe touches one cache line. */
typedef struct {
    guint64 key; /* parent index << 32 | symbol id */
    guint32 index;
    guint32 raw;
} Slot;

typedef struct {
    Slot *slots; /* (mask + 1) */
    guint64 mask;
    guint32 n;
} CountTable;

static inline guint64 mix64(guint64 x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void table_init(CountTable *t, guint64 n_slots)
{
    t->slots = g_new0(Slot, n_slots);
    t->mask = n_slots - 1;
    t->n = 0;
}

static void table_grow(CountTable *t)
{
    Slot *old = t->slots;
    guint64 n_old = t->mask + 1;
    t->slots = g_new0(Slot, 2 * n_old);
    t->mask = 2 * n_old - 1;
    for (guint64 i = 0; i < n_old; i++) {
        if (old[i].index == 0)
            continue;
        guint64 j = mix64(old[i].key) & t->mask;
        while (t->slots[j].index != 0)
            j = (j + 1) & t->mask;
        t->slots[j] = old[i];
    }
    g_free(old);
}

/* Counts one occurrence of `key`; returns its entry index. */
static inline guint32 table_add(CountTable *t, guint64 key)
{
    guint64 i = mix64(key) & t->mask;
    for (;;) {
        Slot *s = &t->slots[i];
        if (s->index == 0)
            break;
        if (s->key == key) {
            s->raw++;
            return s->index - 1;
        }
        i = (i + 1) & t->mask;
    }
    guint32 index = t->n++;
    t->slots[i] = (Slot){key, index + 1, 1};
    if ((guint64)t->n * 10 > (t->mask + 1) * 7)
        table_grow(t);
    return index;
}

/* A level during training, before it is handed to the model. */
typedef struct {
    gint64 n;
    guint32 *word;        /* (n) */
    guint32 *raw;         /* (n) raw counts */
    guint32 *count;       /* (n) adjusted counts */
    guint32 *first_child; /* (n + 1) into the next level; NULL at the top */
} TrainLevel;

static int compare_u64(const void *a, const void *b)
{
    guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
    return (x > y) - (x < y);
}

/* Turns level k's table into trie order: children grouped by their parent's new index (a
 * counting sort) and sorted by symbol within a parent. `parent_new` maps the parent level's
 * entry indices to their trie positions (n_parents of them) and is replaced by this level's
 * map. Fills lv (word, raw) and parent_lv->first_child. */
static void table_to_level(CountTable *t, guint32 **parent_new, gint64 n_parents,
                           TrainLevel *parent_lv, TrainLevel *lv)
{
    gint64 n = t->n;
    guint32 *first = g_new0(guint32, n_parents + 1);
    for (guint64 i = 0; i <= t->mask; i++) {
        if (t->slots[i].index != 0)
            first[(*parent_new)[t->slots[i].key >> 32] + 1]++;
    }
    for (gint64 p = 0; p < n_parents; p++)
        first[p + 1] += first[p];
    /* (n) symbol << 32 | entry index, grouped by parent */
    guint64 *sorted = g_new(guint64, MAX(n, 1));
    guint32 *fill = g_memdup2(first, (gsize)n_parents * sizeof(guint32));
    guint32 *raw_of = g_new(guint32, MAX(n, 1)); /* (n) by entry index */
    for (guint64 i = 0; i <= t->mask; i++) {
        const Slot *s = &t->slots[i];
        if (s->index == 0)
            continue;
        guint32 p = (*parent_new)[s->key >> 32];
        sorted[fill[p]++] = (s->key & 0xffffffffu) << 32 | (s->index - 1);
        raw_of[s->index - 1] = s->raw;
    }
    g_free(fill);
    g_free(t->slots);
    t->slots = NULL;
    for (gint64 p = 0; p < n_parents; p++) {
        guint64 *b = sorted + first[p];
        gsize nb = first[p + 1] - first[p];
        if (nb < 16) {
            for (gsize i = 1; i < nb; i++) {
                guint64 v = b[i];
                gsize j = i;
                for (; j > 0 && b[j - 1] > v; j--)
                    b[j] = b[j - 1];
                b[j] = v;
            }
        } else {
            qsort(b, nb, sizeof(guint64), compare_u64);
        }
    }
    guint32 *own_new = g_new(guint32, MAX(n, 1));
    lv->n = n;
    lv->word = g_new(guint32, MAX(n, 1));
    lv->raw = g_new(guint32, MAX(n, 1));
    for (gint64 i = 0; i < n; i++) {
        guint32 e = (guint32)sorted[i];
        lv->word[i] = (guint32)(sorted[i] >> 32);
        lv->raw[i] = raw_of[e];
        own_new[e] = (guint32)i;
    }
    g_free(sorted);
    g_free(raw_of);
    g_free(*parent_new);
    *parent_new = own_new;
    parent_lv->first_child = first;
}

/* Child of level-k node `node` with symbol w during training (as find_child). */
static gint64 train_find_child(const TrainLevel *lv, int k, guint32 node, guint32 w)
{
    const guint32 *words = lv[k + 1].word;
    guint32 lo = lv[k].first_child[node], end = lv[k].first_child[node + 1], hi = end;
    while (lo < hi) {
        guint32 mid = lo + (hi - lo) / 2;
        if (words[mid] < w)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < end && words[lo] == w ? (gint64)lo : -1;
}

/* Adjusted counts: continuation counts through suffix links below the top level, raw counts at
 * the top and for the n-grams that start with BOS (s[0..k)), none for BOS itself. */
static void adjust_counts(TrainLevel *lv, int n, const guint32 *s, gint64 n_s)
{
    for (int k = 1; k < n; k++)
        lv[k].count = g_new0(guint32, MAX(lv[k].n, 1));
    lv[n].count = g_memdup2(lv[n].raw, (gsize)MAX(lv[n].n, 1) * sizeof(guint32));
    guint32 *suffix = g_new0(guint32, MAX(lv[1].n, 1)); /* level k node → level k − 1 node */
    for (int k = 1; k < n; k++) {
        guint32 *next_suffix = g_new(guint32, MAX(lv[k + 1].n, 1));
        for (gint64 p = 0; p < lv[k].n; p++) {
            for (guint32 y = lv[k].first_child[p]; y < lv[k].first_child[p + 1]; y++) {
                gint64 sy = train_find_child(lv, k - 1, suffix[p], lv[k + 1].word[y]);
                g_assert(sy >= 0); /* every suffix of a seen n-gram was seen */
                lv[k].count[sy]++;
                next_suffix[y] = (guint32)sy;
            }
        }
        g_free(suffix);
        suffix = next_suffix;
    }
    g_free(suffix);
    guint32 node = 0;
    for (int k = 1; k <= n && k <= n_s; k++) {
        node = (guint32)train_find_child(lv, k - 1, node, s[k - 1]);
        lv[k].count[node] = k == 1 ? 0 : lv[k].raw[node];
    }
}

/* Keeps only the n-grams of ≥ 3 symbols seen more than prune_count times; `total` arrays are
 * computed before and keep counting what was dropped. */
static void prune_levels(TrainLevel *lv, guint32 **total, int n, int prune_count)
{
    gboolean *keep[AIGC_NGRAM_MAX_ORDER + 1] = {NULL};
    for (int k = 3; k <= n; k++) {
        keep[k] = g_new(gboolean, MAX(lv[k].n, 1));
        for (gint64 p = 0; p < lv[k - 1].n; p++) {
            gboolean parent_kept = keep[k - 1] ? keep[k - 1][p] : TRUE;
            for (guint32 y = lv[k - 1].first_child[p]; y < lv[k - 1].first_child[p + 1]; y++)
                keep[k][y] = parent_kept && lv[k].raw[y] > (guint32)prune_count;
        }
    }
    for (int k = 2; k <= n; k++) {
        /* New child ranges of level k from keep[k + 1] (old indices), then compact level k. */
        if (k < n) {
            guint32 n_kept_children = 0;
            gint64 q = 0;
            for (gint64 p = 0; p < lv[k].n; p++) {
                guint32 c_begin = lv[k].first_child[p], c_end = lv[k].first_child[p + 1];
                if (keep[k] && !keep[k][p])
                    continue;
                lv[k].first_child[q++] = n_kept_children;
                for (guint32 y = c_begin; y < c_end; y++)
                    n_kept_children += keep[k + 1][y];
            }
            lv[k].first_child[q] = n_kept_children;
        }
        if (keep[k]) {
            gint64 q = 0;
            for (gint64 i = 0; i < lv[k].n; i++) {
                if (!keep[k][i])
                    continue;
                lv[k].word[q] = lv[k].word[i];
                lv[k].raw[q] = lv[k].raw[i];
                lv[k].count[q] = lv[k].count[i];
                if (k < n)
                    total[k][q] = total[k][i];
                q++;
            }
            lv[k].n = q;
        }
    }
    for (int k = 3; k <= n; k++)
        g_free(keep[k]);
}

AigcNgram *aigc_ngram_train(const char *text, gsize len, int order, GError **error)
{
    AigcNgramParams params = aigc_ngram_default_params();
    params.order = order;
    return aigc_ngram_train_full(text, len, &params, error);
}

AigcNgram *aigc_ngram_train_full(const char *text, gsize len, const AigcNgramParams *params,
                                 GError **error)
{
    g_return_val_if_fail(len == 0 || text != NULL, NULL);
    if (len == 0)
        text = "";
    AigcNgramParams pr = params ? *params : aigc_ngram_default_params();
    if (pr.order < 1 || pr.order > AIGC_NGRAM_MAX_ORDER) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "n-gram order %d is outside 1..%d", pr.order, AIGC_NGRAM_MAX_ORDER);
        return NULL;
    }
    if (pr.prune_count < 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "n-gram pruning count %d is negative", pr.prune_count);
        return NULL;
    }
    if (len > 0 && !g_utf8_validate_len(text, len, NULL)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "training text is not valid UTF-8 (or contains a NUL byte)");
        return NULL;
    }
    gint64 n_chars = len > 0 ? (gint64)g_utf8_strlen(text, (gssize)len) : 0;
    if (n_chars > MAX_TEXT_CHARS) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "training text of %" G_GINT64_FORMAT " characters is too long", n_chars);
        return NULL;
    }
    int n = pr.order;

    /* The vocabulary: a presence map over the code points up to the largest one seen. */
    gunichar max_c = 0;
    for (const char *p = text; p < text + len; p = g_utf8_next_char(p))
        max_c = MAX(max_c, g_utf8_get_char(p));
    guint32 *id_of = g_new0(guint32, (gsize)max_c + 1); /* code point → id + 1 */
    for (const char *p = text; p < text + len; p = g_utf8_next_char(p))
        id_of[g_utf8_get_char(p)] = 1;
    AigcNgram *m = g_new0(AigcNgram, 1);
    m->order = n;
    m->prune_count = pr.prune_count;
    for (gunichar c = 0; c <= max_c && len > 0; c++)
        m->n_vocab += id_of[c] != 0;
    m->vocab = g_new(gunichar, MAX(m->n_vocab, 1));
    int n_vocab = 0;
    for (gunichar c = 0; c <= max_c && len > 0; c++) {
        if (id_of[c]) {
            m->vocab[n_vocab] = c;
            id_of[c] = (guint32)++n_vocab;
        }
    }

    /* (n_s) the training sequence: BOS, the text, END */
    gint64 n_s = n_chars + 2;
    guint32 *s = g_new(guint32, n_s);
    s[0] = ID_BOS(m);
    gint64 j = 1;
    for (const char *p = text; p < text + len; p = g_utf8_next_char(p))
        s[j++] = id_of[g_utf8_get_char(p)] - 1;
    s[j] = ID_END(m);
    g_free(id_of);

    /* Count: the n-gram of k symbols ending at j is the child of the one of k − 1 ending at
     * j − 1 (last[k − 1], still from position j − 1 while k runs downwards). */
    CountTable tables[AIGC_NGRAM_MAX_ORDER + 1];
    for (int k = 1; k <= n; k++)
        table_init(&tables[k], k == 1 ? 64 : 1024);
    guint32 last[AIGC_NGRAM_MAX_ORDER + 1] = {0};
    for (j = 0; j < n_s; j++) {
        for (int k = (int)MIN(j + 1, n); k >= 1; k--)
            last[k] = table_add(&tables[k], (guint64)last[k - 1] << 32 | s[j]);
    }

    TrainLevel lv[AIGC_NGRAM_MAX_ORDER + 1];
    memset(lv, 0, sizeof lv);
    lv[0].n = 1;
    guint32 *parent_new = g_new0(guint32, 1); /* the root maps to itself */
    for (int k = 1; k <= n; k++)
        table_to_level(&tables[k], &parent_new, lv[k - 1].n, &lv[k - 1], &lv[k]);
    g_free(parent_new);

    adjust_counts(lv, n, s, n_s);
    g_free(s);

    for (int k = 1; k <= n; k++) {
        guint64 n_of[5] = {0};
        for (gint64 i = 0; i < lv[k].n; i++) {
            if (lv[k].count[i] >= 1 && lv[k].count[i] <= 4)
                n_of[lv[k].count[i]]++;
        }
        estimate_discounts(n_of, m->discount[k]);
    }
    guint32 *total[AIGC_NGRAM_MAX_ORDER + 1] = {NULL};
    for (int k = 0; k < n; k++) {
        total[k] = g_new0(guint32, MAX(lv[k].n, 1));
        for (gint64 p = 0; p < lv[k].n; p++) {
            for (guint32 y = lv[k].first_child[p]; y < lv[k].first_child[p + 1]; y++)
                total[k][p] += lv[k + 1].count[y];
        }
    }
    if (pr.prune_count > 0)
        prune_levels(lv, total, n, pr.prune_count);

    for (int k = 0; k <= n; k++) {
        Level *out = &m->level[k];
        out->n = lv[k].n;
        out->word = lv[k].word;
        out->count = lv[k].count;
        out->first_child = lv[k].first_child;
        out->total = total[k];
        g_free(lv[k].raw);
    }
    compute_gammas(m);
    return m;
}

/* ---- saving ---- */

/* Adds values (n) as U8 when they all fit, else as little-endian I32; the bytes are kept in
 * `keep` until the write. */
static gboolean add_ints(AigcSafetensorsWriter *w, const char *name, const guint32 *values,
                         gint64 n, GPtrArray *keep, GError **error)
{
    guint32 max_v = 0;
    for (gint64 i = 0; i < n; i++)
        max_v = MAX(max_v, values[i]);
    gint64 shape[1] = {n};
    if (max_v <= 255) {
        guint8 *b = g_new(guint8, MAX(n, 1));
        for (gint64 i = 0; i < n; i++)
            b[i] = (guint8)values[i];
        g_ptr_array_add(keep, b);
        return aigc_safetensors_writer_add(w, name, AIGC_DTYPE_U8, 1, shape, b, error);
    }
    gint32 *b = g_new(gint32, MAX(n, 1));
    for (gint64 i = 0; i < n; i++)
        b[i] = GINT32_TO_LE((gint32)values[i]);
    g_ptr_array_add(keep, b);
    return aigc_safetensors_writer_add(w, name, AIGC_DTYPE_I32, 1, shape, b, error);
}

gboolean aigc_ngram_save(AigcNgram *m, const char *path, GError **error)
{
    g_return_val_if_fail(m != NULL, FALSE);
    g_return_val_if_fail(path != NULL, FALSE);
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
    char num[G_ASCII_DTOSTR_BUF_SIZE];

    aigc_safetensors_writer_set_metadata(w, "family", "ngram");
    aigc_safetensors_writer_set_metadata(w, "version", "1");
    g_autofree char *order = g_strdup_printf("%d", m->order);
    aigc_safetensors_writer_set_metadata(w, "order", order);
    g_autofree char *prune = g_strdup_printf("%d", m->prune_count);
    aigc_safetensors_writer_set_metadata(w, "prune_count", prune);
    GString *d = g_string_new("[");
    for (int k = 1; k <= m->order; k++) {
        g_string_append(d, k > 1 ? ",[" : "[");
        for (int c = 0; c < 3; c++) {
            g_string_append(d, g_ascii_dtostr(num, sizeof num, m->discount[k][c]));
            g_string_append(d, c < 2 ? "," : "]");
        }
    }
    g_string_append_c(d, ']');
    aigc_safetensors_writer_set_metadata(w, "discounts", d->str);
    g_string_free(d, TRUE);
    GString *v = g_string_new(NULL);
    for (int i = 0; i < m->n_vocab; i++)
        g_string_append_unichar(v, m->vocab[i]);
    aigc_safetensors_writer_set_metadata(w, "vocabulary", v->str);
    g_string_free(v, TRUE);

    for (int k = 1; k <= m->order; k++) {
        const Level *lv = &m->level[k];
        char name[64];
        g_snprintf(name, sizeof name, "level%d.words", k);
        if (!add_ints(w, name, lv->word, lv->n, keep, error))
            return FALSE;
        g_snprintf(name, sizeof name, "level%d.counts", k);
        if (!add_ints(w, name, lv->count, lv->n, keep, error))
            return FALSE;
        if (k == m->order)
            continue;
        guint32 *children = g_new(guint32, MAX(lv->n, 1));
        for (gint64 i = 0; i < lv->n; i++)
            children[i] = lv->first_child[i + 1] - lv->first_child[i];
        g_ptr_array_add(keep, children);
        g_snprintf(name, sizeof name, "level%d.children", k);
        if (!add_ints(w, name, children, lv->n, keep, error))
            return FALSE;
        g_snprintf(name, sizeof name, "level%d.totals", k);
        if (!add_ints(w, name, lv->total, lv->n, keep, error))
            return FALSE;
    }
    return aigc_safetensors_writer_write(w, path, NULL, NULL, error);
}

/* ---- loading ---- */

#define LOAD_ERROR(error, st, ...)                                                                 \
    do {                                                                                           \
        g_autofree char *msg_ = g_strdup_printf(__VA_ARGS__);                                      \
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s",                  \
                    aigc_safetensors_get_label(st), msg_);                                         \
    } while (0)

static gboolean parse_int_meta(AigcSafetensors *st, const char *key, gint64 lo, gint64 hi,
                               gint64 *out, GError **error)
{
    const char *value = aigc_safetensors_get_metadata(st, key);
    if (!value) {
        LOAD_ERROR(error, st, "n-gram model has no “%s” in its metadata", key);
        return FALSE;
    }
    guint64 v;
    if (!g_ascii_string_to_unsigned(value, 10, (guint64)lo, (guint64)hi, &v, NULL)) {
        LOAD_ERROR(error, st,
                   "n-gram “%s” is “%s”, not a whole number in %" G_GINT64_FORMAT
                   "..%" G_GINT64_FORMAT,
                   key, value, lo, hi);
        return FALSE;
    }
    *out = (gint64)v;
    return TRUE;
}

static gboolean parse_vocab(AigcSafetensors *st, AigcNgram *m, GError **error)
{
    const char *value = aigc_safetensors_get_metadata(st, "vocabulary");
    if (!value) {
        LOAD_ERROR(error, st, "n-gram model has no “vocabulary” in its metadata");
        return FALSE;
    }
    if (!g_utf8_validate(value, -1, NULL)) {
        LOAD_ERROR(error, st, "n-gram vocabulary is not valid UTF-8");
        return FALSE;
    }
    glong n = g_utf8_strlen(value, -1);
    m->vocab = g_new(gunichar, MAX(n, 1));
    const char *p = value;
    for (glong i = 0; i < n; i++, p = g_utf8_next_char(p)) {
        m->vocab[i] = g_utf8_get_char(p);
        if (i > 0 && m->vocab[i] <= m->vocab[i - 1]) {
            LOAD_ERROR(error, st,
                       "n-gram vocabulary is not in strictly ascending order at "
                       "character %ld",
                       i);
            return FALSE;
        }
    }
    m->n_vocab = (int)n;
    return TRUE;
}

static gboolean parse_discounts(AigcSafetensors *st, AigcNgram *m, GError **error)
{
    const char *value = aigc_safetensors_get_metadata(st, "discounts");
    if (!value) {
        LOAD_ERROR(error, st, "n-gram model has no “discounts” in its metadata");
        return FALSE;
    }
    GError *json_error = NULL;
    g_autoptr(AigcJsonDoc) doc = aigc_json_parse(value, strlen(value), &json_error);
    if (!doc) {
        LOAD_ERROR(error, st, "n-gram discounts are not valid JSON: %s", json_error->message);
        g_error_free(json_error);
        return FALSE;
    }
    const AigcJsonValue *root = aigc_json_doc_get_root(doc);
    if (root->type != AIGC_JSON_ARRAY || root->n_items != (guint)m->order) {
        LOAD_ERROR(error, st, "n-gram discounts are not an array of %d levels", m->order);
        return FALSE;
    }
    for (int k = 1; k <= m->order; k++) {
        const AigcJsonValue *lv = root->items[k - 1];
        if (lv->type != AIGC_JSON_ARRAY || lv->n_items != 3) {
            LOAD_ERROR(error, st, "n-gram discounts of level %d are not [D1, D2, D3+]", k);
            return FALSE;
        }
        for (int c = 1; c <= 3; c++) {
            const AigcJsonValue *d = lv->items[c - 1];
            /* 0 < D(c) ≤ c keeps every discounted count ≥ 0 and every γ > 0. */
            if (d->type != AIGC_JSON_NUMBER || !isfinite(d->number) || !(d->number > 0) ||
                d->number > c) {
                LOAD_ERROR(error, st,
                           "n-gram discount D%d of level %d is not a number in "
                           "(0, %d]",
                           c, k, c);
                return FALSE;
            }
            m->discount[k][c - 1] = d->number;
        }
    }
    return TRUE;
}

/* Reads a 1-D U8 or I32 tensor of n values (n < 0: any number) each ≤ max_value. */
static guint32 *read_ints(AigcSafetensors *st, const char *name, gint64 n, guint32 max_value,
                          gint64 *n_out, GError **error)
{
    const AigcSafetensorsTensor *t = aigc_safetensors_find(st, name);
    if (!t) {
        LOAD_ERROR(error, st, "n-gram tensor “%s” is missing", name);
        return NULL;
    }
    if ((t->dtype != AIGC_DTYPE_U8 && t->dtype != AIGC_DTYPE_I32) || t->n_dims != 1) {
        LOAD_ERROR(error, st, "n-gram tensor “%s” is not a 1-D U8 or I32 tensor", name);
        return NULL;
    }
    if (n >= 0 && t->n_elements != n) {
        LOAD_ERROR(error, st,
                   "n-gram tensor “%s” has %" G_GINT64_FORMAT " values, not %" G_GINT64_FORMAT,
                   name, t->n_elements, n);
        return NULL;
    }
    if (t->n_elements >= G_MAXINT32) {
        LOAD_ERROR(error, st, "n-gram tensor “%s” has too many values", name);
        return NULL;
    }
    guint32 *v = g_new(guint32, MAX(t->n_elements, 1));
    for (gint64 i = 0; i < t->n_elements; i++) {
        gint64 x;
        if (t->dtype == AIGC_DTYPE_U8) {
            x = t->data[i];
        } else {
            gint32 le;
            memcpy(&le, t->data + 4 * i, 4);
            x = GINT32_FROM_LE(le);
        }
        if (x < 0 || x > (gint64)max_value) {
            LOAD_ERROR(error, st,
                       "n-gram tensor “%s” holds %" G_GINT64_FORMAT " at index %" G_GINT64_FORMAT
                       ", outside 0..%u",
                       name, x, i, max_value);
            g_free(v);
            return NULL;
        }
        v[i] = (guint32)x;
    }
    if (n_out)
        *n_out = t->n_elements;
    return v;
}

/* Checks a level's ids, counts and sibling order once its parent's child ranges are known. */
static gboolean check_level(AigcSafetensors *st, const AigcNgram *m, int k, GError **error)
{
    const Level *parent = &m->level[k - 1], *lv = &m->level[k];
    for (gint64 p = 0; p < parent->n; p++) {
        for (guint32 c = parent->first_child[p]; c < parent->first_child[p + 1]; c++) {
            guint32 w = lv->word[c];
            gboolean is_bos = k == 1 && w == ID_BOS(m);
            if (w == ID_UNK(m) || (w == ID_BOS(m) && k > 1)) {
                LOAD_ERROR(error, st, "n-gram %" G_GINT64_FORMAT " of level %d ends in %s",
                           (gint64)c, k, w == ID_UNK(m) ? "UNK" : "BOS");
                return FALSE;
            }
            if (c > parent->first_child[p] && w <= lv->word[c - 1]) {
                LOAD_ERROR(error, st, "n-gram %u of level %d is out of order among its siblings", c,
                           k);
                return FALSE;
            }
            if (is_bos ? lv->count[c] != 0 : lv->count[c] == 0) {
                LOAD_ERROR(error, st, "n-gram %u of level %d has a count of %u", c, k,
                           lv->count[c]);
                return FALSE;
            }
        }
    }
    if (k == m->order)
        return TRUE;
    for (gint64 p = 0; p < lv->n; p++) {
        guint64 kept = 0;
        for (guint32 c = lv->first_child[p]; c < lv->first_child[p + 1]; c++)
            kept += m->level[k + 1].count[c];
        if (kept > lv->total[p]) {
            LOAD_ERROR(error, st,
                       "n-gram %" G_GINT64_FORMAT " of level %d has a total of %u, "
                       "less than its children's %" G_GUINT64_FORMAT,
                       p, k, lv->total[p], kept);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean load_levels(AigcSafetensors *st, AigcNgram *m, GError **error)
{
    int n = m->order;
    gsize n_expected = 4 * (gsize)n - 2;
    if (aigc_safetensors_get_n_tensors(st) != n_expected) {
        LOAD_ERROR(error, st,
                   "n-gram model of order %d has %" G_GSIZE_FORMAT " tensors, not %" G_GSIZE_FORMAT,
                   n, aigc_safetensors_get_n_tensors(st), n_expected);
        return FALSE;
    }
    Level *root = &m->level[0];
    root->n = 1;
    gint64 n_next = -1; /* level 1 may hold any number of unigrams */
    for (int k = 1; k <= n; k++) {
        Level *lv = &m->level[k];
        char name[64];
        g_snprintf(name, sizeof name, "level%d.words", k);
        if (!(lv->word = read_ints(st, name, n_next, ID_BOS(m), &lv->n, error)))
            return FALSE;
        g_snprintf(name, sizeof name, "level%d.counts", k);
        if (!(lv->count = read_ints(st, name, lv->n, G_MAXINT32, NULL, error)))
            return FALSE;
        if (k == 1) {
            root->first_child = g_new(guint32, 2);
            root->first_child[0] = 0;
            root->first_child[1] = (guint32)lv->n;
            guint64 sum = 0;
            for (gint64 i = 0; i < lv->n; i++)
                sum += lv->count[i];
            if (sum > G_MAXINT32) {
                LOAD_ERROR(error, st, "n-gram unigram counts add up to more than 2^31");
                return FALSE;
            }
            root->total = g_new(guint32, 1);
            root->total[0] = (guint32)sum;
        }
        if (k < n) {
            g_snprintf(name, sizeof name, "level%d.children", k);
            g_autofree guint32 *children = read_ints(st, name, lv->n, G_MAXINT32, NULL, error);
            if (!children)
                return FALSE;
            g_snprintf(name, sizeof name, "level%d.totals", k);
            if (!(lv->total = read_ints(st, name, lv->n, G_MAXINT32, NULL, error)))
                return FALSE;
            lv->first_child = g_new(guint32, lv->n + 1);
            guint64 sum = 0;
            for (gint64 i = 0; i < lv->n; i++) {
                lv->first_child[i] = (guint32)sum;
                sum += children[i];
                if (sum >= G_MAXINT32) {
                    LOAD_ERROR(error, st, "n-gram children of level %d overflow", k);
                    return FALSE;
                }
            }
            lv->first_child[lv->n] = (guint32)sum;
            n_next = (gint64)sum;
        }
    }
    /* Every array is in place and sized consistently: check the values. */
    for (int k = 1; k <= n; k++) {
        if (!check_level(st, m, k, error))
            return FALSE;
    }
    return TRUE;
}

AigcNgram *aigc_ngram_new_from_safetensors(AigcSafetensors *st, GError **error)
{
    g_return_val_if_fail(st != NULL, NULL);
    const char *family = aigc_safetensors_get_metadata(st, "family");
    if (g_strcmp0(family, "ngram") != 0) {
        LOAD_ERROR(error, st, "not an n-gram model (family “%s”)", family ? family : "none");
        return NULL;
    }
    const char *version = aigc_safetensors_get_metadata(st, "version");
    if (g_strcmp0(version, "1") != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s: n-gram model version “%s” is not supported (only “1”)",
                    aigc_safetensors_get_label(st), version ? version : "none");
        return NULL;
    }
    g_autoptr(AigcNgram) m = g_new0(AigcNgram, 1);
    gint64 order, prune;
    if (!parse_int_meta(st, "order", 1, AIGC_NGRAM_MAX_ORDER, &order, error) ||
        !parse_int_meta(st, "prune_count", 0, G_MAXINT32, &prune, error))
        return NULL;
    m->order = (int)order;
    m->prune_count = (int)prune;
    if (!parse_vocab(st, m, error) || !load_levels(st, m, error) || !parse_discounts(st, m, error))
        return NULL;
    compute_gammas(m);
    for (int k = 0; k < m->order; k++) {
        for (gint64 p = 0; p < m->level[k].n; p++) {
            double g = m->level[k].gamma[p];
            if (!isfinite(g) || !(g > 0) || g > 1 + 1e-12) {
                LOAD_ERROR(error, st,
                           "n-gram backoff weight of node %" G_GINT64_FORMAT " of level %d is %g",
                           p, k, g);
                return NULL;
            }
        }
    }
    return g_steal_pointer(&m);
}

AigcNgram *aigc_ngram_load(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return NULL;
    return aigc_ngram_new_from_safetensors(st, error);
}
