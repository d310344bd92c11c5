/* SPDX-License-Identifier: MIT
 *
 * English text normalisation and sentence splitting for speech: what the Speak workshop does to
 * typed text before it becomes phonemes (aigc-phonemes.h).
 *
 * Normalisation (American English, simple rules, no dictionary):
 *   - invalid UTF-8, control characters, emoji and other symbols without a spoken form are
 *     dropped; letters of every script, digits and the punctuation below are kept;
 *   - numbers become words: cardinals ("1,234" → "one thousand two hundred thirty-four"),
 *     decimals ("3.14" → "three point one four"), ordinals ("3rd" → "third"), years (4 digits
 *     from 1000 to 2099 except 2000–2009: "1984" → "nineteen eighty-four", "1905" → "nineteen
 *     oh five", "1990s" → "nineteen nineties"), times ("3:30" → "three thirty"), negatives,
 *     leading zeros and numbers of 16 digits or more digit by digit;
 *   - currency before a number: $ £ € ¥ ("$5" → "five dollars", "$5.50" → "five dollars and
 *     fifty cents", "$2 million" → "two million dollars"); "%" → "percent"; & + = @ ° # read out;
 *   - abbreviations: titles (Mr. Mrs. Ms. Dr. Prof. St. Mt. Capt. Gen. Lt. Col. Sgt. Rev. Gov.
 *     Sen. Pres. Jr. Sr. …), "St." as "Saint" before a capitalised word and "Street" otherwise,
 *     "Dr." as "Drive" after a capitalised word that is not followed by one, months ("Jan."),
 *     "etc." "vs." "e.g." "i.e." "a.m." "p.m." "approx." "Inc." "Ltd." "Ave." "Rd." and the
 *     like; initialisms with periods ("U.S.") become spaced letters;
 *   - punctuation becomes the pause marks . , ! ? ; : … ; dashes, parentheses and brackets
 *     become commas, quotes vanish, a blank line ends a sentence, runs of marks collapse to the
 *     strongest, whitespace collapses to single spaces.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* (transfer full) The normalised text (valid UTF-8, possibly empty). `len` −1 = NUL-terminated.
 * Never fails: any byte string gives some text. */
char *aigc_text_normalize(const char *text, gssize len);

/* (transfer full) NULL-terminated list of sentences of `text` (best normalised first), each
 * trimmed, non-empty and at most `max_chars` characters (code points, ≥ 16). A sentence ends
 * after a run of . ! ? … (and closing quotes or brackets) followed by the end, or by a space and
 * a word that does not start in lower case, or at a blank line; a longer one is cut after its
 * last , ; or :
 * that fits, else at its last space, else (one huge word) at max_chars. Invalid UTF-8 is
 * replaced first. */
char **aigc_text_split_sentences(const char *text, gssize len, int max_chars);

/* Appends the English words for n (n < 10^15) to out, e.g. "one hundred twenty-three". */
void aigc_text_append_cardinal(GString *out, guint64 n);

G_END_DECLS
