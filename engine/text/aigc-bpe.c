/* SPDX-License-Identifier: MIT
 *
 * Byte-pair encoding: the pre-split, the pair map, the piece encoder and the merge trainer.
 *
 * DESIGN (training): the text is split into pieces and identical pieces are counted once with
 * their multiplicity, so the work is proportional to the distinct text, not the whole text.
 * The distinct pieces become one array of symbols joined by prev/next links (a piece ends at a
 * −1 link). Each adjacent pair of symbols has a pair record: its weighted count and the list
 * of positions where it was seen, in ascending order. A max-heap holds (count, pair) entries
 * lazily: a pair's count only ever falls after the merge step that created it (new
 * adjacencies always involve the newly made token), so an entry is an upper bound, and a
 * popped entry whose count is stale is pushed back with the current count. Merging a pair
 * walks its positions, skips those that earlier merges changed, rewrites the links, and moves
 * counts from the neighbouring pairs to the pairs with the new token. Each merge thus costs
 * time proportional to its occurrences, never a recount of the text.
 *
 * Encoding a piece repeatedly merges the adjacent pair with the lowest merge id, the leftmost
 * one first; this is the same as applying the merges in training order, and both encoders
 * below (a direct one for short pieces, a heap over a linked list for long ones) give it.
 */
#include "aigc-bpe.h"

#include "aigc-error.h"

#include <string.h>

/* ---- pre-split ---- */

enum { CLS_LETTER, CLS_DIGIT, CLS_SPACE, CLS_NEWLINE, CLS_OTHER };

/* Bytes ≥ 0x80 count as letters, so pieces never split a UTF-8 character. */
static inline int byte_class(guint8 b)
{
    if (b >= 0x80 || ((b | 0x20) >= 'a' && (b | 0x20) <= 'z'))
        return CLS_LETTER;
    if (b >= '0' && b <= '9')
        return CLS_DIGIT;
    if (b == ' ' || b == '\t' || b == '\v' || b == '\f')
        return CLS_SPACE;
    if (b == '\n' || b == '\r')
        return CLS_NEWLINE;
    return CLS_OTHER;
}

static inline gboolean boundary_between(guint8 before, guint8 after)
{
    int a = byte_class(before), b = byte_class(after);
    if (a == b)
        return FALSE;
    /* Spaces stick to what follows them (" the", "  42"), except a line break. */
    return a != CLS_SPACE || b == CLS_NEWLINE;
}

gboolean aigc_bpe_is_boundary(const guint8 *text, gsize i)
{
    return boundary_between(text[i - 1], text[i]);
}

gsize aigc_bpe_piece_end(const guint8 *text, gsize len, gsize begin)
{
    gsize i = begin + 1;
    while (i < len && !boundary_between(text[i - 1], text[i]))
        i++;
    return i;
}

/* ---- pair map ---- */

#define EMPTY_KEY G_MAXUINT64

static inline guint64 pair_key(gint32 left, gint32 right)
{
    return (guint64)(guint32)left << 32 | (guint32)right;
}

static inline gsize hash_key(guint64 key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (gsize)key;
}

static void map_alloc(AigcBpeMap *map, gsize capacity)
{
    map->keys = g_new(guint64, capacity);
    map->values = g_new(gint32, capacity);
    memset(map->keys, 0xff, capacity * sizeof(guint64));
    map->mask = capacity - 1;
    map->n = 0;
}

void aigc_bpe_map_init(AigcBpeMap *map, gsize n_expected)
{
    gsize capacity = 16;
    while (capacity < 2 * n_expected)
        capacity *= 2;
    map_alloc(map, capacity);
}

void aigc_bpe_map_clear(AigcBpeMap *map)
{
    g_clear_pointer(&map->keys, g_free);
    g_clear_pointer(&map->values, g_free);
    map->mask = 0;
    map->n = 0;
}

gint32 aigc_bpe_map_get(const AigcBpeMap *map, gint32 left, gint32 right)
{
    guint64 key = pair_key(left, right);
    for (gsize i = hash_key(key) & map->mask;; i = (i + 1) & map->mask) {
        if (map->keys[i] == key)
            return map->values[i];
        if (map->keys[i] == EMPTY_KEY)
            return -1;
    }
}

static void map_put(AigcBpeMap *map, guint64 key, gint32 value)
{
    gsize i = hash_key(key) & map->mask;
    while (map->keys[i] != EMPTY_KEY)
        i = (i + 1) & map->mask;
    map->keys[i] = key;
    map->values[i] = value;
    map->n++;
}

gboolean aigc_bpe_map_insert(AigcBpeMap *map, gint32 left, gint32 right, gint32 value)
{
    g_return_val_if_fail(left >= 0 && right >= 0, FALSE);
    if (aigc_bpe_map_get(map, left, right) >= 0)
        return FALSE;
    if (2 * (map->n + 1) > map->mask + 1) { /* keep the load at most 1/2 */
        AigcBpeMap old = *map;
        map_alloc(map, 2 * (old.mask + 1));
        for (gsize i = 0; i <= old.mask; i++)
            if (old.keys[i] != EMPTY_KEY)
                map_put(map, old.keys[i], old.values[i]);
        aigc_bpe_map_clear(&old);
    }
    map_put(map, pair_key(left, right), value);
    return TRUE;
}

/* ---- piece encoder ---- */

/* Pieces up to this length use the direct encoder: its O(n²) scans beat a heap for words. */
#define SHORT_PIECE 48

static int encode_short(const AigcBpeMap *ranks, const guint8 *piece, int n, gint32 *out)
{
    gint32 rank[SHORT_PIECE]; /* (n − 1) merge id of (out[j], out[j + 1]), or G_MAXINT32 */
    for (int j = 0; j < n; j++)
        out[j] = piece[j];
    for (int j = 0; j + 1 < n; j++) {
        gint32 r = aigc_bpe_map_get(ranks, out[j], out[j + 1]);
        rank[j] = r >= 0 ? r : G_MAXINT32;
    }
    for (;;) {
        int at = -1;
        gint32 best = G_MAXINT32;
        for (int j = 0; j + 1 < n; j++) {
            if (rank[j] < best) {
                best = rank[j];
                at = j;
            }
        }
        if (at < 0)
            return n;
        out[at] = best;
        memmove(out + at + 1, out + at + 2, (size_t)(n - at - 2) * sizeof(gint32));
        if (at + 2 < n)
            memmove(rank + at + 1, rank + at + 2, (size_t)(n - at - 3) * sizeof(gint32));
        n--;
        if (at > 0) {
            gint32 r = aigc_bpe_map_get(ranks, out[at - 1], out[at]);
            rank[at - 1] = r >= 0 ? r : G_MAXINT32;
        }
        if (at + 1 < n) {
            gint32 r = aigc_bpe_map_get(ranks, out[at], out[at + 1]);
            rank[at] = r >= 0 ? r : G_MAXINT32;
        }
    }
}

static inline gboolean heap_less(const gint32 *a, const gint32 *b)
{
    return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]);
}

static void min_heap_push(gint32 *heap, gsize *n, gint32 id, gint32 pos)
{
    gsize i = (*n)++;
    gint32 e[2] = {id, pos};
    while (i > 0) {
        gsize parent = (i - 1) / 2;
        if (!heap_less(e, heap + 2 * parent))
            break;
        heap[2 * i] = heap[2 * parent];
        heap[2 * i + 1] = heap[2 * parent + 1];
        i = parent;
    }
    heap[2 * i] = id;
    heap[2 * i + 1] = pos;
}

static void min_heap_pop(gint32 *heap, gsize *n, gint32 *top)
{
    top[0] = heap[0];
    top[1] = heap[1];
    gsize m = --(*n);
    gint32 e[2] = {heap[2 * m], heap[2 * m + 1]};
    gsize i = 0;
    for (;;) {
        gsize child = 2 * i + 1;
        if (child >= m)
            break;
        if (child + 1 < m && heap_less(heap + 2 * (child + 1), heap + 2 * child))
            child++;
        if (!heap_less(heap + 2 * child, e))
            break;
        heap[2 * i] = heap[2 * child];
        heap[2 * i + 1] = heap[2 * child + 1];
        i = child;
    }
    heap[2 * i] = e[0];
    heap[2 * i + 1] = e[1];
}

void aigc_bpe_scratch_clear(AigcBpeScratch *scratch)
{
    g_clear_pointer(&scratch->sym, g_free);
    g_clear_pointer(&scratch->prev, g_free);
    g_clear_pointer(&scratch->next, g_free);
    g_clear_pointer(&scratch->heap, g_free);
    scratch->capacity = 0;
}

/* Long pieces: symbols in a linked list, candidate merges in a min-heap of (merge id,
 * position); an entry is stale when a neighbouring merge has changed its pair. */
static int encode_long(const AigcBpeMap *ranks, const guint8 *piece, int n, gint32 *out,
                       AigcBpeScratch *s)
{
    if (s->capacity < (gsize)n) {
        aigc_bpe_scratch_clear(s);
        s->capacity = MAX((gsize)n, 2 * SHORT_PIECE);
        s->sym = g_new(gint32, s->capacity);
        s->prev = g_new(gint32, s->capacity);
        s->next = g_new(gint32, s->capacity);
        s->heap = g_new(gint32, 6 * s->capacity); /* n − 1 pairs + 2 per merge, 2 ints each */
    }
    gint32 *sym = s->sym, *prev = s->prev, *next = s->next, *heap = s->heap;
    gsize n_heap = 0;
    for (int i = 0; i < n; i++) {
        sym[i] = piece[i];
        prev[i] = i - 1;
        next[i] = i + 1 < n ? i + 1 : -1;
    }
    for (int i = 0; i + 1 < n; i++) {
        gint32 r = aigc_bpe_map_get(ranks, sym[i], sym[i + 1]);
        if (r >= 0)
            min_heap_push(heap, &n_heap, r, i);
    }
    while (n_heap > 0) {
        gint32 top[2];
        min_heap_pop(heap, &n_heap, top);
        gint32 i = top[1], j = next[i];
        if (sym[i] < 0 || j < 0 || aigc_bpe_map_get(ranks, sym[i], sym[j]) != top[0])
            continue;
        sym[i] = top[0];
        sym[j] = -1;
        next[i] = next[j];
        if (next[j] >= 0)
            prev[next[j]] = i;
        if (prev[i] >= 0) {
            gint32 r = aigc_bpe_map_get(ranks, sym[prev[i]], sym[i]);
            if (r >= 0)
                min_heap_push(heap, &n_heap, r, prev[i]);
        }
        if (next[i] >= 0) {
            gint32 r = aigc_bpe_map_get(ranks, sym[i], sym[next[i]]);
            if (r >= 0)
                min_heap_push(heap, &n_heap, r, i);
        }
    }
    int n_out = 0;
    for (gint32 i = 0; i >= 0; i = next[i])
        out[n_out++] = sym[i];
    return n_out;
}

int aigc_bpe_encode_piece(const AigcBpeMap *ranks, const guint8 *piece, int n, gint32 *out,
                          AigcBpeScratch *scratch)
{
    if (n <= 1) {
        if (n == 1)
            out[0] = piece[0];
        return n;
    }
    if (n <= SHORT_PIECE)
        return encode_short(ranks, piece, n, out);
    return encode_long(ranks, piece, n, out, scratch);
}

/* ---- training ---- */

/* Distinct pieces of the text with their counts, in order of first occurrence. */
typedef struct {
    const guint8 *text;
    guint32 *slots; /* (capacity) piece index + 1, 0 = empty */
    gsize mask;
    guint32 *begin, *len, *count, *hash; /* (n) */
    gsize n, n_alloc;
} PieceSet;

static guint32 hash_bytes(const guint8 *p, gsize n)
{
    guint32 h = 2166136261u; /* FNV-1a */
    for (gsize i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void piece_set_grow(PieceSet *set)
{
    gsize capacity = set->slots ? 2 * (set->mask + 1) : 1024;
    g_free(set->slots);
    set->slots = g_new0(guint32, capacity);
    set->mask = capacity - 1;
    for (gsize k = 0; k < set->n; k++) {
        gsize i = set->hash[k] & set->mask;
        while (set->slots[i])
            i = (i + 1) & set->mask;
        set->slots[i] = (guint32)k + 1;
    }
}

static void piece_set_add(PieceSet *set, guint32 begin, guint32 len)
{
    const guint8 *p = set->text + begin;
    guint32 h = hash_bytes(p, len);
    gsize i = h & set->mask;
    for (; set->slots[i]; i = (i + 1) & set->mask) {
        guint32 k = set->slots[i] - 1;
        if (set->hash[k] == h && set->len[k] == len && !memcmp(set->text + set->begin[k], p, len)) {
            set->count[k]++;
            return;
        }
    }
    if (set->n == set->n_alloc) {
        set->n_alloc = MAX(1024, 2 * set->n_alloc);
        set->begin = g_renew(guint32, set->begin, set->n_alloc);
        set->len = g_renew(guint32, set->len, set->n_alloc);
        set->count = g_renew(guint32, set->count, set->n_alloc);
        set->hash = g_renew(guint32, set->hash, set->n_alloc);
    }
    gsize k = set->n++;
    set->begin[k] = begin;
    set->len[k] = len;
    set->count[k] = 1;
    set->hash[k] = h;
    set->slots[i] = (guint32)k + 1;
    if (2 * set->n > set->mask + 1)
        piece_set_grow(set);
}

static void piece_set_clear(PieceSet *set)
{
    g_free(set->slots);
    g_free(set->begin);
    g_free(set->len);
    g_free(set->count);
    g_free(set->hash);
}

/* The trainer's state; `n` arrays grow with g_renew. */
typedef struct {
    /* symbols of all distinct pieces of length ≥ 2 */
    gint32 *sym, *prev, *next; /* (n_sym) token id (−1 once merged away), links (−1 = none) */
    guint32 *weight;           /* (n_sym) the count of the symbol's piece */
    /* pairs */
    AigcBpeMap pair_index;                                /* (left, right) → pair index */
    gint32 *pair_left, *pair_right, *occ_head, *occ_tail; /* (n_pairs) */
    gint64 *pair_count;                                   /* (n_pairs) */
    gsize n_pairs, n_pairs_alloc;
    /* occurrences: singly linked lists of positions per pair, in insertion order */
    gint32 *occ_pos, *occ_next; /* (n_occ) */
    gsize n_occ, n_occ_alloc;
    /* max-heap of (count, pair) */
    gint64 *heap_count; /* (n_heap) */
    gint32 *heap_pair;  /* (n_heap) */
    gsize n_heap, n_heap_alloc;
    /* pairs created by the current merge */
    gint32 *fresh;
    gsize n_fresh, n_fresh_alloc;
} Trainer;

static gint32 trainer_pair(Trainer *t, gint32 left, gint32 right)
{
    gint32 p = aigc_bpe_map_get(&t->pair_index, left, right);
    if (p >= 0)
        return p;
    if (t->n_pairs == t->n_pairs_alloc) {
        t->n_pairs_alloc = MAX(4096, 2 * t->n_pairs_alloc);
        t->pair_left = g_renew(gint32, t->pair_left, t->n_pairs_alloc);
        t->pair_right = g_renew(gint32, t->pair_right, t->n_pairs_alloc);
        t->occ_head = g_renew(gint32, t->occ_head, t->n_pairs_alloc);
        t->occ_tail = g_renew(gint32, t->occ_tail, t->n_pairs_alloc);
        t->pair_count = g_renew(gint64, t->pair_count, t->n_pairs_alloc);
    }
    p = (gint32)t->n_pairs++;
    t->pair_left[p] = left;
    t->pair_right[p] = right;
    t->occ_head[p] = t->occ_tail[p] = -1;
    t->pair_count[p] = 0;
    aigc_bpe_map_insert(&t->pair_index, left, right, p);
    if (t->n_fresh == t->n_fresh_alloc) {
        t->n_fresh_alloc = MAX(256, 2 * t->n_fresh_alloc);
        t->fresh = g_renew(gint32, t->fresh, t->n_fresh_alloc);
    }
    t->fresh[t->n_fresh++] = p;
    return p;
}

/* Counts one more occurrence of (left, right) at position pos. */
static void trainer_add(Trainer *t, gint32 left, gint32 right, gint32 pos, guint32 weight)
{
    gint32 p = trainer_pair(t, left, right);
    t->pair_count[p] += weight;
    if (t->n_occ == t->n_occ_alloc) {
        t->n_occ_alloc = MAX(4096, 2 * t->n_occ_alloc);
        t->occ_pos = g_renew(gint32, t->occ_pos, t->n_occ_alloc);
        t->occ_next = g_renew(gint32, t->occ_next, t->n_occ_alloc);
    }
    gint32 o = (gint32)t->n_occ++;
    t->occ_pos[o] = pos;
    t->occ_next[o] = -1;
    if (t->occ_tail[p] >= 0)
        t->occ_next[t->occ_tail[p]] = o;
    else
        t->occ_head[p] = o;
    t->occ_tail[p] = o;
}

static void trainer_remove(Trainer *t, gint32 left, gint32 right, guint32 weight)
{
    gint32 p = aigc_bpe_map_get(&t->pair_index, left, right);
    g_assert(p >= 0);
    t->pair_count[p] -= weight;
}

/* Max-heap order: higher count first, then the smaller left id, then the smaller right id. */
static inline gboolean heap_before(const Trainer *t, gint64 count_a, gint32 a, gint64 count_b,
                                   gint32 b)
{
    if (count_a != count_b)
        return count_a > count_b;
    if (t->pair_left[a] != t->pair_left[b])
        return t->pair_left[a] < t->pair_left[b];
    return t->pair_right[a] < t->pair_right[b];
}

static void max_heap_push(Trainer *t, gint64 count, gint32 pair)
{
    if (t->n_heap == t->n_heap_alloc) {
        t->n_heap_alloc = MAX(4096, 2 * t->n_heap_alloc);
        t->heap_count = g_renew(gint64, t->heap_count, t->n_heap_alloc);
        t->heap_pair = g_renew(gint32, t->heap_pair, t->n_heap_alloc);
    }
    gsize i = t->n_heap++;
    while (i > 0) {
        gsize parent = (i - 1) / 2;
        if (!heap_before(t, count, pair, t->heap_count[parent], t->heap_pair[parent]))
            break;
        t->heap_count[i] = t->heap_count[parent];
        t->heap_pair[i] = t->heap_pair[parent];
        i = parent;
    }
    t->heap_count[i] = count;
    t->heap_pair[i] = pair;
}

static void max_heap_pop(Trainer *t, gint64 *count, gint32 *pair)
{
    *count = t->heap_count[0];
    *pair = t->heap_pair[0];
    gsize m = --t->n_heap;
    gint64 c = t->heap_count[m];
    gint32 e = t->heap_pair[m];
    gsize i = 0;
    for (;;) {
        gsize child = 2 * i + 1;
        if (child >= m)
            break;
        if (child + 1 < m && heap_before(t, t->heap_count[child + 1], t->heap_pair[child + 1],
                                         t->heap_count[child], t->heap_pair[child]))
            child++;
        if (!heap_before(t, t->heap_count[child], t->heap_pair[child], c, e))
            break;
        t->heap_count[i] = t->heap_count[child];
        t->heap_pair[i] = t->heap_pair[child];
        i = child;
    }
    t->heap_count[i] = c;
    t->heap_pair[i] = e;
}

static void trainer_clear(Trainer *t)
{
    g_free(t->sym);
    g_free(t->prev);
    g_free(t->next);
    g_free(t->weight);
    aigc_bpe_map_clear(&t->pair_index);
    g_free(t->pair_left);
    g_free(t->pair_right);
    g_free(t->occ_head);
    g_free(t->occ_tail);
    g_free(t->pair_count);
    g_free(t->occ_pos);
    g_free(t->occ_next);
    g_free(t->heap_count);
    g_free(t->heap_pair);
    g_free(t->fresh);
}

/* Replaces every current occurrence of pair p = (a, b) by token z. */
static void trainer_merge(Trainer *t, gint32 p, gint32 z)
{
    gint32 a = t->pair_left[p], b = t->pair_right[p];
    t->n_fresh = 0;
    for (gint32 o = t->occ_head[p]; o >= 0; o = t->occ_next[o]) {
        gint32 i = t->occ_pos[o];
        if (t->sym[i] != a)
            continue;
        gint32 j = t->next[i];
        if (j < 0 || t->sym[j] != b)
            continue;
        guint32 w = t->weight[i];
        gint32 l = t->prev[i], r = t->next[j];
        if (l >= 0)
            trainer_remove(t, t->sym[l], a, w);
        if (r >= 0)
            trainer_remove(t, b, t->sym[r], w);
        t->pair_count[p] -= w;
        t->sym[i] = z;
        t->sym[j] = -1;
        t->next[i] = r;
        if (r >= 0)
            t->prev[r] = i;
        if (l >= 0)
            trainer_add(t, t->sym[l], z, l, w);
        if (r >= 0)
            trainer_add(t, z, t->sym[r], i, w);
    }
    /* The new pairs' counts can only fall from here on, so one entry each is an upper bound. */
    for (gsize k = 0; k < t->n_fresh; k++) {
        gint32 q = t->fresh[k];
        if (t->pair_count[q] > 0)
            max_heap_push(t, t->pair_count[q], q);
    }
}

gboolean aigc_bpe_train(const guint8 *text, gsize len, int n_wanted, AigcBpeProgressFunc progress,
                        gpointer user_data, gint32 **merges, int *n_merges, GError **error)
{
    g_return_val_if_fail(text != NULL || len == 0, FALSE);
    g_return_val_if_fail(len <= AIGC_TOKENIZER_MAX_TRAIN_BYTES, FALSE);
    g_return_val_if_fail(n_wanted >= 0, FALSE);
    g_return_val_if_fail(merges != NULL && n_merges != NULL, FALSE);

    PieceSet set = {.text = text};
    piece_set_grow(&set);
    for (gsize begin = 0; begin < len;) {
        gsize end = aigc_bpe_piece_end(text, len, begin);
        if (end - begin >= 2) /* a single byte can never be merged */
            piece_set_add(&set, (guint32)begin, (guint32)(end - begin));
        begin = end;
    }

    Trainer t = {0};
    gsize n_sym = 0;
    for (gsize k = 0; k < set.n; k++)
        n_sym += set.len[k];
    t.sym = g_new(gint32, MAX(n_sym, 1));
    t.prev = g_new(gint32, MAX(n_sym, 1));
    t.next = g_new(gint32, MAX(n_sym, 1));
    t.weight = g_new(guint32, MAX(n_sym, 1));
    aigc_bpe_map_init(&t.pair_index, 4096);
    gsize pos = 0;
    for (gsize k = 0; k < set.n; k++) {
        const guint8 *p = text + set.begin[k];
        for (gsize i = 0; i < set.len[k]; i++, pos++) {
            t.sym[pos] = p[i];
            t.prev[pos] = i > 0 ? (gint32)pos - 1 : -1;
            t.next[pos] = i + 1 < set.len[k] ? (gint32)pos + 1 : -1;
            t.weight[pos] = set.count[k];
            if (i > 0)
                trainer_add(&t, p[i - 1], p[i], (gint32)pos - 1, set.count[k]);
        }
    }
    piece_set_clear(&set);
    for (gsize q = 0; q < t.n_pairs; q++)
        max_heap_push(&t, t.pair_count[q], (gint32)q);

    gint32 *out = g_new(gint32, 2 * (gsize)MAX(n_wanted, 1));
    /* (256 + n_wanted) byte length of every token, to refuse over-long merges */
    guint32 *token_len = g_new(guint32, 256 + (gsize)n_wanted);
    for (int i = 0; i < 256; i++)
        token_len[i] = 1;
    int n_done = 0;
    gboolean cancelled = FALSE;
    while (n_done < n_wanted && t.n_heap > 0) {
        gint64 count;
        gint32 p;
        max_heap_pop(&t, &count, &p);
        if (count != t.pair_count[p]) {
            if (t.pair_count[p] > 0)
                max_heap_push(&t, t.pair_count[p], p);
            continue;
        }
        if (count < 2) /* the most frequent pair is unique: merging it learns nothing */
            break;
        gint32 a = t.pair_left[p], b = t.pair_right[p];
        if (token_len[a] + token_len[b] > AIGC_TOKENIZER_MAX_TOKEN_BYTES)
            continue; /* dropped for good: its entry is gone and its count never rises */
        gint32 z = 256 + n_done;
        out[2 * n_done] = a;
        out[2 * n_done + 1] = b;
        token_len[z] = token_len[a] + token_len[b];
        trainer_merge(&t, p, z);
        n_done++;
        if (progress && !progress(n_done, n_wanted, user_data)) {
            cancelled = TRUE;
            break;
        }
    }
    trainer_clear(&t);
    g_free(token_len);
    if (cancelled) {
        g_free(out);
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED,
                    "BPE training was cancelled after %d of %d merges", n_done, n_wanted);
        return FALSE;
    }
    *merges = out;
    *n_merges = n_done;
    return TRUE;
}
