/* SPDX-License-Identifier: MIT
 *
 * Byte-pair encoding internals shared by the tokenizer (engine/text/aigc-tokenizer.c): the
 * pre-split of text into pieces, a pair → id hash map, the merge trainer and the piece encoder.
 * Not a public header: use aigc-tokenizer.h.
 */
#pragma once

#include "aigc-tokenizer.h"

G_BEGIN_DECLS

/* The end of the piece that starts at `begin` (< len): the next piece boundary, or len. */
gsize aigc_bpe_piece_end(const guint8 *text, gsize len, gsize begin);
/* TRUE when a piece starts at i (0 < i < len): merges never join text[i - 1] and text[i]. */
gboolean aigc_bpe_is_boundary(const guint8 *text, gsize i);

/* Open-addressing map from a pair of token ids to an id (the merge's id, or a pair index). */
typedef struct {
    guint64 *keys;  /* (capacity) left << 32 | right, or the empty key */
    gint32 *values; /* (capacity) */
    gsize mask;     /* capacity − 1, capacity a power of two */
    gsize n;
} AigcBpeMap;

void aigc_bpe_map_init(AigcBpeMap *map, gsize n_expected);
void aigc_bpe_map_clear(AigcBpeMap *map);
/* −1 when the pair is absent. */
gint32 aigc_bpe_map_get(const AigcBpeMap *map, gint32 left, gint32 right);
/* Adds the pair; FALSE (and no change) if it is already present. */
gboolean aigc_bpe_map_insert(AigcBpeMap *map, gint32 left, gint32 right, gint32 value);

/* Growable per-thread buffers of the piece encoder. */
typedef struct {
    gint32 *sym, *prev, *next; /* (capacity) */
    gint32 *heap;              /* (3 · capacity, 2) merge id, position */
    gsize capacity;
} AigcBpeScratch;

void aigc_bpe_scratch_clear(AigcBpeScratch *scratch);
/* Encodes one piece of n ≥ 1 bytes into out (room for n ids): repeatedly merges the adjacent
 * pair with the lowest merge id, leftmost first. `ranks` maps (left, right) to the merge id.
 * Returns the number of ids. */
int aigc_bpe_encode_piece(const AigcBpeMap *ranks, const guint8 *piece, int n, gint32 *out,
                          AigcBpeScratch *scratch);

/* Learns up to n_wanted merges from text (at most AIGC_TOKENIZER_MAX_TRAIN_BYTES) as described at
 * aigc_tokenizer_train_bpe. *merges: (transfer full) (*n_merges, 2) left, right ids. */
gboolean aigc_bpe_train(const guint8 *text, gsize len, int n_wanted, AigcBpeProgressFunc progress,
                        gpointer user_data, gint32 **merges, int *n_merges, GError **error);

G_END_DECLS
