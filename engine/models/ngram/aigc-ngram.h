/* SPDX-License-Identifier: MIT
 *
 * A character-level (Unicode code point) n-gram language model with interpolated modified
 * Kneser–Ney smoothing: the baseline every neural text model of the Write workshop is compared
 * to. It trains from a UTF-8 text in one pass, scores text in bits per character, samples with
 * temperature and top-k, and is saved as safetensors (metadata "family": "ngram").
 *
 * Symbols: the characters of the training text (the vocabulary, sorted by code point), plus
 * AIGC_NGRAM_END (the end of a text; predicted, and returned by sampling), AIGC_NGRAM_BOS (the
 * start of a text; only ever context, never predicted) and AIGC_NGRAM_UNK (every character
 * outside the vocabulary). A training text is modelled as BOS, its characters, END. The
 * predicted distribution covers the vocabulary, END and UNK and sums to one for every context.
 *
 * A model is immutable once trained or loaded, so any number of threads may query it at once.
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "tensor/aigc-rng.h"

#include <glib.h>

G_BEGIN_DECLS

#define AIGC_NGRAM_MAX_ORDER 12

/* Pseudo-characters beyond the Unicode range, so they never clash with real text. */
#define AIGC_NGRAM_END ((gunichar)0x110000)
#define AIGC_NGRAM_BOS ((gunichar)0x110001)
#define AIGC_NGRAM_UNK ((gunichar)0x110002)

typedef struct {
    int order;       /* n: each character is predicted from up to n − 1 before it; 1..12 */
    int prune_count; /* drop n-grams of order ≥ 3 seen at most this many times (0 keeps all) */
} AigcNgramParams;

/* order 6, prune_count 0. */
AigcNgramParams aigc_ngram_default_params(void);

typedef struct _AigcNgram AigcNgram;

/* (transfer full) (nullable) Trains on `len` bytes of UTF-8 `text` without pruning. Fails with
 * AIGC_ENGINE_ERROR_INVALID for text that is not valid UTF-8 (or holds NUL), an order outside
 * 1..AIGC_NGRAM_MAX_ORDER, or a text of 2^31 characters or more. */
AigcNgram *aigc_ngram_train(const char *text, gsize len, int order, GError **error);
/* (transfer full) (nullable) As aigc_ngram_train, with every parameter (`params` may be NULL). */
AigcNgram *aigc_ngram_train_full(const char *text, gsize len, const AigcNgramParams *params,
                                 GError **error);
void aigc_ngram_free(AigcNgram *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcNgram, aigc_ngram_free)

int aigc_ngram_get_order(AigcNgram *model);
int aigc_ngram_get_prune_count(AigcNgram *model);
/* (transfer none) The vocabulary's code points in ascending order; `n_vocab` gets their number
 * (END and UNK not included). */
const gunichar *aigc_ngram_get_vocab(AigcNgram *model, int *n_vocab);
/* Distinct n-grams of order `level` (1..order) kept in the model. */
gint64 aigc_ngram_get_n_ngrams(AigcNgram *model, int level);
/* The discounts D1, D2, D3+ of n-grams of order `level` (1..order). */
void aigc_ngram_get_discounts(AigcNgram *model, int level, double discounts[3]);

/* log2 p(next | context): the last min(n_ctx, order − 1) entries of `context` are used (code
 * points or AIGC_NGRAM_BOS/END; anything outside the vocabulary is UNK). `next` may be a code
 * point, AIGC_NGRAM_END or AIGC_NGRAM_UNK; a character outside the vocabulary gets the
 * probability of UNK. AIGC_NGRAM_BOS is never predicted: −∞. */
double aigc_ngram_log2prob(AigcNgram *model, const gunichar *context, int n_ctx, gunichar next);

/* Fills probs (n_vocab + 2 values) with p(· | context) for every symbol: the vocabulary in
 * order, then END, then UNK. They sum to one. */
void aigc_ngram_distribution(AigcNgram *model, const gunichar *context, int n_ctx, double *probs);

/* The average −log2 p over the characters of `len` bytes of UTF-8 `text`, each predicted from
 * up to order − 1 characters before it, the first from AIGC_NGRAM_BOS (the text is scored as a
 * whole text, as in training; END is not scored). NAN for an empty text. The sum runs in fixed
 * blocks, so the result does not depend on the thread count. */
double aigc_ngram_bits_per_char(AigcNgram *model, const char *text, gsize len);

/* Draws the character after `context` (as in aigc_ngram_log2prob): from p^(1/temperature)
 * restricted to the top_k most probable symbols (top_k ≤ 0: all). UNK is never drawn. A
 * temperature ≤ 0 picks the most probable symbol without drawing. Returns a code point of the
 * vocabulary or AIGC_NGRAM_END. */
gunichar aigc_ngram_sample(AigcNgram *model, const gunichar *context, int n_ctx, float temperature,
                           int top_k, AigcRng *rng);

/* Receives each generated character; return FALSE to stop after it. */
typedef gboolean (*AigcNgramEmitFunc)(gunichar c, gpointer user_data);

/* (transfer full) Continues `prompt` (UTF-8, `prompt_len` bytes or −1 for NUL-terminated; the
 * start of a text) by up to `n_chars` characters drawn as aigc_ngram_sample does, passing each
 * to `emit` (nullable) as it is drawn. Stops early at END (which is neither emitted nor
 * returned) or when `emit` returns FALSE. Returns the generated characters without the prompt. */
char *aigc_ngram_generate(AigcNgram *model, const char *prompt, gssize prompt_len, int n_chars,
                          float temperature, int top_k, AigcRng *rng, AigcNgramEmitFunc emit,
                          gpointer user_data);

/* Writes the model as safetensors (atomically). */
gboolean aigc_ngram_save(AigcNgram *model, const char *path, GError **error);
/* (transfer full) (nullable) Reads a model written by aigc_ngram_save, checking everything;
 * a malformed file fails with AIGC_ENGINE_ERROR_FORMAT (or _IO when it cannot be read). */
AigcNgram *aigc_ngram_load(const char *path, GError **error);
/* (transfer full) (nullable) As aigc_ngram_load, from an opened file. */
AigcNgram *aigc_ngram_new_from_safetensors(AigcSafetensors *st, GError **error);

G_END_DECLS
