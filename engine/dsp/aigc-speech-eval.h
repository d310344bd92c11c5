/* SPDX-License-Identifier: MIT
 *
 * Judging synthetic speech: the word error rate of an open-source recogniser (CMU
 * pocketsphinx, Debian `pocketsphinx` + `pocketsphinx-en-us`, run as a program on a 16 kHz WAV)
 * against the text that was spoken, and the mel cepstral distortion between two utterances'
 * log-mel spectrograms after dynamic time warping.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* (transfer full) Words for scoring: lower case, letters, digits and inner apostrophes kept,
 * everything else a separator ("Georgia's law." → "georgia's", "law"). */
GStrv aigc_wer_words(const char *text);

/* Word-level edit distance (substitutions + deletions + insertions) of hyp against ref;
 * *n_ref (nullable) receives the number of reference words. */
int aigc_word_errors(const char *ref, const char *hyp, int *n_ref);

/* TRUE when the recogniser is installed; otherwise FALSE + an error saying which packages. */
gboolean aigc_asr_available(GError **error);

/* (transfer full) (nullable) pocketsphinx's transcript of a 16 kHz mono 16-bit WAV file (empty
 * string for silence). `cancellable` (nullable) stops the recogniser. */
char *aigc_asr_transcribe(const char *wav_path, GCancellable *cancellable, GError **error);

/* Mel cepstral distortion in dB between log-mels a [n_a, n_mels] and b [n_b, n_mels] (natural
 * log of magnitude, as aigc-mel.h): cepstra c1 … c_k (k = n_cep, c0 — loudness — left out) by an
 * orthonormal DCT-II of each frame, frames paired by dynamic time warping (Euclidean cost,
 * steps (1,0), (0,1), (1,1)), then MCD = 10/ln 10 · √2 · mean over the path of ‖c_a − c_b‖. */
double aigc_mel_cepstral_distortion(const float *a, int n_a, const float *b, int n_b, int n_mels,
                                    int n_cep);

G_END_DECLS
