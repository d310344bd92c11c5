/* SPDX-License-Identifier: MIT
 *
 * AigcTokenizer: the text tokenizers of the Write workshop. A model stores its tokenizer as a
 * JSON string in its weights file's __metadata__ (aigc_tokenizer_to_json), the trainer encodes
 * its corpus with it, and generation encodes prompts and decodes streamed token ids.
 *
 * Kinds and their vocabularies (ids are dense, 0 … vocab_size − 1):
 *   BYTE  ids 0 … 255 are the byte values. Vocab 256, no UNK, no special tokens.
 *   CHAR  id 0 is UNK; ids 1 … n are Unicode code points learnt from a text (ascending code
 *         point order); id n + 1 is the document separator "<|endoftext|>".
 *   BPE   ids 0 … 255 are the byte values; ids 256 … 256 + m − 1 are m byte-pair merges over
 *         UTF-8 bytes (merge i joins two earlier tokens into token 256 + i); the last id,
 *         256 + m, is the document separator "<|endoftext|>". No UNK: every byte string
 *         encodes.
 * CHAR and BPE thus have one special token that serves as both BOS and EOS (as GPT-2's
 * <|endoftext|>); BYTE has none (aigc_tokenizer_get_bos/eos return −1). Encoding never produces
 * a special token — text that spells "<|endoftext|>" is encoded as ordinary text — so callers
 * insert BOS/EOS ids themselves.
 *
 * Invalid UTF-8 never fails and never crashes. Decoding follows the Unicode "maximal subpart"
 * practice (as Python's errors="replace"): each maximal prefix of a well-formed sequence that
 * cannot be completed, and each byte that cannot start one (0x80–0xC1, 0xF5–0xFF), becomes one
 * U+FFFD. BYTE and BPE encode the raw bytes (so decode(encode(x)) is x made valid that way);
 * CHAR encodes each invalid sequence as UNK, which decodes as U+FFFD (U+FFFD itself is never
 * in a CHAR vocabulary, it is UNK).
 *
 * BPE pre-splits text into pieces that merges never cross: a run of spaces/tabs sticks to the
 * word, number or punctuation run that follows it, and runs of newlines, of ASCII letters and
 * non-ASCII bytes, of digits and of other ASCII characters are separate pieces. Splitting at
 * piece boundaries keeps tokens aligned with words and lets long texts be encoded in parallel
 * chunks with the same result as a serial pass.
 *
 * A tokenizer never changes once made, so any number of threads may use one at a time.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    AIGC_TOKENIZER_BYTE,
    AIGC_TOKENIZER_CHAR,
    AIGC_TOKENIZER_BPE,
} AigcTokenizerKind;

/* Largest vocabularies accepted (training or JSON): CHAR holds at most every scalar value. */
#define AIGC_TOKENIZER_MAX_CHAR_VOCAB (0x110000 + 2)
#define AIGC_TOKENIZER_MAX_BPE_VOCAB  (1 << 18)
/* Longest BPE token in bytes: training never merges past it and JSON with longer ones is
 * refused, which bounds the memory a corrupt merge table can demand. */
#define AIGC_TOKENIZER_MAX_TOKEN_BYTES 1024
/* Longest training text: BPE training keeps about 40 bytes of state per byte of distinct text
 * and indexes it with 32-bit positions. */
#define AIGC_TOKENIZER_MAX_TRAIN_BYTES (256 << 20)

typedef struct _AigcTokenizer AigcTokenizer;

/* Called after each merge with the number of merges done and the number wanted; return FALSE
 * to cancel training. */
typedef gboolean (*AigcBpeProgressFunc)(int n_done, int n_total, gpointer user_data);

/* (transfer full) The 256-byte tokenizer. */
AigcTokenizer *aigc_tokenizer_new_byte(void);

/* (transfer full) (nullable) A CHAR tokenizer of every code point that occurs at least
 * min_count (≥ 1) times in text (len bytes, any bytes; invalid sequences are not learnt).
 * Fails (AIGC_ENGINE_ERROR_INVALID) on a bad min_count or a text longer than
 * AIGC_TOKENIZER_MAX_TRAIN_BYTES. */
AigcTokenizer *aigc_tokenizer_train_char(const char *text, gsize len, int min_count,
                                         GError **error);

/* (transfer full) (nullable) A BPE tokenizer trained on text (len bytes, any bytes) towards
 * vocab_size (257 … AIGC_TOKENIZER_MAX_BPE_VOCAB) = 256 bytes + merges + 1 separator: each merge
 * joins the most frequent adjacent pair of tokens (ties: the smaller left id, then the smaller
 * right id). Training stops early, with a smaller vocabulary, when no pair occurs twice.
 * Fails (AIGC_ENGINE_ERROR_INVALID) on a bad vocab_size or a text longer than
 * AIGC_TOKENIZER_MAX_TRAIN_BYTES.
 * `progress` may be NULL; when it returns FALSE the call fails with
 * AIGC_ENGINE_ERROR_CANCELLED. The result depends only on the text and vocab_size. */
AigcTokenizer *aigc_tokenizer_train_bpe(const char *text, gsize len, int vocab_size,
                                        AigcBpeProgressFunc progress, gpointer user_data,
                                        GError **error);

void aigc_tokenizer_free(AigcTokenizer *tok);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcTokenizer, aigc_tokenizer_free)

AigcTokenizerKind aigc_tokenizer_get_kind(AigcTokenizer *tok);
/* (transfer none) "byte", "char" or "bpe". */
const char *aigc_tokenizer_kind_name(AigcTokenizerKind kind);
int aigc_tokenizer_get_vocab_size(AigcTokenizer *tok);
/* Special ids, −1 when the kind has none (see the table above). */
gint32 aigc_tokenizer_get_bos(AigcTokenizer *tok);
gint32 aigc_tokenizer_get_eos(AigcTokenizer *tok);
gint32 aigc_tokenizer_get_unk(AigcTokenizer *tok);
/* TRUE for UNK and the separator: ids that stand for no bytes of text. */
gboolean aigc_tokenizer_is_special(AigcTokenizer *tok, gint32 id);
/* BPE: the two tokens merge `id` joins; FALSE (left/right untouched) if id is not a merge. */
gboolean aigc_tokenizer_get_merge(AigcTokenizer *tok, gint32 id, gint32 *left, gint32 *right);

/* (transfer none) The raw bytes of token id (*len of them; also NUL-terminated, but a byte
 * token may itself be NUL, and a BPE token may end inside a UTF-8 character). Special tokens
 * give their names, "<unk>" and "<|endoftext|>". `len` may be NULL. */
const char *aigc_tokenizer_token_text(AigcTokenizer *tok, gint32 id, gsize *len);

/* Encodes len bytes of text (len < 0: NUL-terminated) into out (max_out ids; out may be NULL
 * when max_out is 0) and returns the number of ids of the whole encoding — more than max_out
 * when out is too small, in which case out holds the first max_out of them. Never more ids than
 * bytes, so max_out = len always suffices. Adds no BOS/EOS. Long texts are encoded in parallel
 * chunks (aigc_parallel_for); the result never depends on the thread count. */
int aigc_tokenizer_encode(AigcTokenizer *tok, const char *text, gssize len, gint32 *out,
                          int max_out);

/* (transfer full) The text of n ids, always valid UTF-8 and NUL-terminated (a NUL byte token
 * ends it early for C-string readers). UNK and out-of-range ids give U+FFFD, the separator
 * gives nothing, and bytes that do not form UTF-8 give U+FFFD as described above. */
char *aigc_tokenizer_decode(AigcTokenizer *tok, const gint32 *ids, int n);

/* The number of characters the decoder would produce for text: code points, with each invalid
 * sequence counted as the one U+FFFD it decodes to. Evaluators divide a text's total NLL (in
 * bits) by this count to report bits per character, comparable across tokenizers. */
gint64 aigc_utf8_count_chars(const char *text, gsize len);

/* (transfer full) A compact JSON object describing tok completely, for a weights file's
 * __metadata__ (key "tokenizer" by convention):
 *   {"format": "aigc-tokenizer", "version": 1, "kind": "byte"|"char"|"bpe", "vocab_size": N,
 *    CHAR: "unk": 0, "bos": N−1, "eos": N−1, "code_points": [cp, …] (ids 1 …),
 *    BPE:  "bos": N−1, "eos": N−1, "merges": [left0, right0, left1, right1, …]} */
char *aigc_tokenizer_to_json(AigcTokenizer *tok);
/* (transfer full) (nullable) Parses and checks JSON written by aigc_tokenizer_to_json: every
 * member present with the right type and no others, a known kind and version, vocab_size
 * consistent with the kind's tables and limits, code points valid scalar values other than
 * U+FFFD and without repeats, merges referring only to earlier tokens, no pair merged twice,
 * tokens no longer than AIGC_TOKENIZER_MAX_TOKEN_BYTES. Fails with AIGC_ENGINE_ERROR_FORMAT. */
AigcTokenizer *aigc_tokenizer_new_from_json(const char *json, GError **error);

/* ---- streaming decoding ---- */

/* Turns ids one at a time into complete UTF-8: bytes of a character split across tokens are
 * held until it completes (or proves invalid). Borrows its tokenizer. */
typedef struct _AigcTokenDecoder AigcTokenDecoder;

/* (transfer full) */
AigcTokenDecoder *aigc_token_decoder_new(AigcTokenizer *tok);
void aigc_token_decoder_free(AigcTokenDecoder *dec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcTokenDecoder, aigc_token_decoder_free)
/* Appends the valid UTF-8 that id completes to out; returns the number of bytes appended
 * (often 0 in the middle of a character). Ids are treated as in aigc_tokenizer_decode. */
gsize aigc_token_decoder_push(AigcTokenDecoder *dec, gint32 id, GString *out);
/* Ends the stream: appends U+FFFD for a held incomplete character, if any, and starts anew. */
gsize aigc_token_decoder_flush(AigcTokenDecoder *dec, GString *out);

G_END_DECLS
