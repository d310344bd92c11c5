/* SPDX-License-Identifier: MIT
 *
 * A speech corpus for training text-to-speech: a list file and a folder of audio, as
 * data/speech/prepare-teacher.py writes them —
 *   DIR/SPLIT.txt      one "NAME|sentence" per line (UTF-8)
 *   DIR/SPLIT/NAME.wav the sentence spoken
 * Each sentence becomes phoneme ids (normalise → espeak-ng → vocabulary, framed by BOS/EOS) and
 * each recording its log-mel spectrogram with the shared speech features. Mels are kept in
 * memory as F16 (half the size: 3,000 five-second sentences take about 130 MB).
 *
 * DESIGN (feature cache): the analysis of a few thousand files takes minutes, so its result is
 * written once to CACHE_DIR/SPLIT-HASH.safetensors (atomically) and read back on later runs.
 * HASH is a SHA-256 over the list file's bytes, the features, the vocabulary and each audio
 * file's size and modification time, so any change to the inputs misses the cache and recomputes
 * it. The file holds "mels" (F16 [frames, M]), "frame_offsets" and "id_offsets" (I64 [n + 1]),
 * "ids" (I32) and "lines" (I32 [n], the list line of each utterance); it is validated like any
 * other file before use, and a bad cache is recomputed, not trusted.
 *
 * Lines whose audio file does not exist (yet) are skipped and counted; an unreadable audio
 * file, a malformed line or an empty result is an error naming the file.
 */
#pragma once

#include "dsp/aigc-phoneme-vocab.h"
#include "dsp/aigc-speech-features.h"
#include "jobs/aigc-job.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    const char *name;  /* e.g. "00042" */
    const char *text;  /* the sentence as listed */
    const gint32 *ids; /* [n_ids] BOS … EOS */
    int n_ids;
    const guint16 *mel; /* [n_frames, n_mels] F16 natural-log mel */
    int n_frames;
} AigcSpeechUtterance;

typedef struct _AigcSpeechCorpus AigcSpeechCorpus;

/* (transfer full) (nullable) Reads DIR/SPLIT.txt and DIR/SPLIT/. cache_dir (nullable: no cache)
 * is created when missing; a cache that cannot be written only costs time. `job` (nullable)
 * receives progress and is polled: cancelled → NULL + AIGC_ENGINE_ERROR_CANCELLED. */
AigcSpeechCorpus *aigc_speech_corpus_load(const char *dir, const char *split,
                                          const AigcSpeechFeatures *features,
                                          AigcPhonemeVocab *vocab, const char *cache_dir,
                                          AigcJob *job, GError **error);
void aigc_speech_corpus_free(AigcSpeechCorpus *corpus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcSpeechCorpus, aigc_speech_corpus_free)

int aigc_speech_corpus_get_n(AigcSpeechCorpus *corpus);
/* (transfer none) */
const AigcSpeechUtterance *aigc_speech_corpus_get(AigcSpeechCorpus *corpus, int i);
/* Lines skipped because their audio file is missing. */
int aigc_speech_corpus_get_n_missing(AigcSpeechCorpus *corpus);
/* Whether the features came from the cache file. */
gboolean aigc_speech_corpus_get_from_cache(AigcSpeechCorpus *corpus);
/* Total frames, and the longest utterance in frames and in symbols. */
gint64 aigc_speech_corpus_get_n_frames(AigcSpeechCorpus *corpus);
int aigc_speech_corpus_get_max_frames(AigcSpeechCorpus *corpus);
int aigc_speech_corpus_get_max_ids(AigcSpeechCorpus *corpus);
/* Copies utterance i's mel as float into dest [n_frames, n_mels]. */
void aigc_speech_corpus_get_mel(AigcSpeechCorpus *corpus, int i, float *dest);

G_END_DECLS
