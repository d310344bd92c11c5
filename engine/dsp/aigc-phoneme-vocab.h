/* SPDX-License-Identifier: MIT
 *
 * AigcPhonemeVocab: the symbol table that turns phoneme strings (aigc-phonemes.h) into the ids a
 * speech model reads, stored with the model (JSON in its weights file's __metadata__).
 *
 * The default table (aigc_phoneme_vocab_new_default), ids in this order:
 *   0 "_"  pad        1 "^"  begin (BOS)     2 "$"  end (EOS)      3 " "  word boundary
 *   4 … 10  pause marks  . , ! ? ; : …   (the normaliser maps all other punctuation onto them)
 *   11 … 13 suprasegmentals  ˈ primary stress, ˌ secondary stress, ː length
 *   14 …    diacritics ̩ (syllabic) ̃ (nasal), then the IPA letters espeak-ng's English voices
 *           produce: a b d e f h i j k l m n o p r s t u v w x z æ ç ð ŋ ɐ ɑ ɒ ɔ ə ɚ ɛ ɜ ɝ
 *           ɡ ɪ ɫ ɬ ɹ ɾ ʃ ʊ ʌ ʍ ʒ ʔ θ ᵻ ʲ, and a few more from its accents (ɣ χ ɨ ʉ ø ɵ g c y).
 * Each symbol is one Unicode code point, so a diphthong "aɪ" or affricate "tʃ" is two symbols
 * (as in VITS/Piper); a vocabulary read from JSON may hold longer symbols, and encoding then
 * takes the longest symbol that matches.
 *
 * Encoding never fails: text that matches no symbol (unknown IPA, invalid UTF-8 bytes, emoji)
 * is skipped one code point (or byte) at a time and counted. A vocabulary never changes once
 * made, so any number of threads may use one at a time.
 *
 * JSON form: {"format": "aigc-phoneme-vocab", "version": 1, "voice": "en-us",
 *             "symbols": ["_", "^", "$", " ", …], "pad": 0, "bos": 1, "eos": 2, "space": 3}
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AigcPhonemeVocab AigcPhonemeVocab;

#define AIGC_PHONEME_VOCAB_MAX_SYMBOLS 4096
#define AIGC_PHONEME_VOCAB_MAX_SYMBOL_BYTES 16

/* (transfer full) The default table above, for espeak-ng voice "en-us". */
AigcPhonemeVocab *aigc_phoneme_vocab_new_default(void);
/* (transfer full) (nullable) Reads the JSON form; NULL + AIGC_ENGINE_ERROR_FORMAT when it is not
 * one (bad JSON, wrong format or version, empty/duplicate/over-long symbols, special ids out of
 * range, more than AIGC_PHONEME_VOCAB_MAX_SYMBOLS symbols). */
AigcPhonemeVocab *aigc_phoneme_vocab_new_from_json(const char *json, GError **error);
void aigc_phoneme_vocab_free(AigcPhonemeVocab *vocab);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcPhonemeVocab, aigc_phoneme_vocab_free)

/* (transfer full) The JSON form, compact. */
char *aigc_phoneme_vocab_to_json(AigcPhonemeVocab *vocab);

int aigc_phoneme_vocab_get_size(AigcPhonemeVocab *vocab);
/* (transfer none) The espeak-ng voice the symbols came from. */
const char *aigc_phoneme_vocab_get_voice(AigcPhonemeVocab *vocab);
gint32 aigc_phoneme_vocab_get_pad(AigcPhonemeVocab *vocab);
gint32 aigc_phoneme_vocab_get_bos(AigcPhonemeVocab *vocab);
gint32 aigc_phoneme_vocab_get_eos(AigcPhonemeVocab *vocab);
gint32 aigc_phoneme_vocab_get_space(AigcPhonemeVocab *vocab);
/* (transfer none) (nullable) The symbol of an id, NULL when out of range. */
const char *aigc_phoneme_vocab_get_symbol(AigcPhonemeVocab *vocab, gint32 id);
/* The id of a symbol, −1 when it has none. */
gint32 aigc_phoneme_vocab_lookup(AigcPhonemeVocab *vocab, const char *symbol);

/* (transfer full) The ids of `phonemes` (`len` −1 = NUL-terminated), framed by BOS … EOS when
 * add_bos_eos. *n_ids gets the count; *n_unknown (nullable) the code points and invalid bytes
 * skipped. Never NULL. */
gint32 *aigc_phoneme_vocab_encode(AigcPhonemeVocab *vocab, const char *phonemes, gssize len,
                                  gboolean add_bos_eos, gsize *n_ids, gsize *n_unknown);
/* (transfer full) The symbols of ids joined; pad, BOS, EOS and out-of-range ids are left out. */
char *aigc_phoneme_vocab_decode(AigcPhonemeVocab *vocab, const gint32 *ids, gsize n_ids);

G_END_DECLS
