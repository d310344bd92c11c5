/* SPDX-License-Identifier: MIT
 *
 * The Speak workshop's text front end: text → normalised text (aigc-text-normalize.h) →
 * sentences → IPA phonemes with pause marks (libespeak-ng) → model ids (aigc-phoneme-vocab.h).
 *
 * Phoneme strings look like "dˈɑːktɚ smˈɪθ pˈeɪd fˈaɪv dˈɑːlɚz, ɔnðə θˈɜːd ʌv mˈeɪ." : espeak-ng's
 * IPA for each word (stress marks before the stressed vowel, ː for length), words separated by a
 * space, and the normaliser's pause marks . , ! ? ; : … kept where the text had them (espeak-ng
 * itself drops punctuation, so the text is cut into clauses at the marks and each clause is
 * phonemised on its own). Language-switch tags such as "(fr)" are removed.
 *
 * espeak-ng is process-global and not thread-safe: it is initialised once (synchronous mode, no
 * audio device, data from its default place — /usr/lib/<triplet>/espeak-ng-data on Debian — or
 * $ESPEAK_DATA_PATH) and every call into it holds one mutex, so these functions may be called
 * from any thread.
 */
#pragma once

#include "dsp/aigc-phoneme-vocab.h"
#include "dsp/aigc-text-normalize.h"

#include <glib.h>

G_BEGIN_DECLS

#define AIGC_PHONEMES_DEFAULT_VOICE "en-us"

/* Starts espeak-ng if that has not happened yet; FALSE + AIGC_ENGINE_ERROR_FAILED when it cannot
 * (for example when its data files are missing). Called by the functions below. */
gboolean aigc_phonemes_init(GError **error);

/* (transfer full) (nullable) The phonemes of already normalised text (one sentence or many).
 * `voice` (nullable) is an espeak-ng voice name, AIGC_PHONEMES_DEFAULT_VOICE when NULL; an
 * unknown one fails with AIGC_ENGINE_ERROR_NOT_FOUND. Empty text gives "". */
char *aigc_phonemes_from_normalized(const char *normalized, const char *voice, GError **error);

/* (transfer full) (nullable) aigc_text_normalize, then aigc_phonemes_from_normalized. */
char *aigc_phonemes_from_text(const char *text, gssize len, const char *voice, GError **error);

G_END_DECLS
