/* SPDX-License-Identifier: MIT
 *
 * A vocoder's training corpus: utterances as audio and log-mels (the shared speech features), and
 * random aligned segments of both.
 *
 * Layout of a corpus folder DIR (as data/speech/prepare-teacher.py writes it): for a split
 * ("train" or "test"), DIR/SPLIT.txt lists "ID|sentence" lines and the audio is DIR/SPLIT/ID.wav;
 * without the list, every *.wav in DIR/SPLIT/ (or, for "train", in DIR itself) in name order.
 * Audio at another rate is resampled to the features' rate.
 *
 * DESIGN (cache): the log-mels of a split are computed once with AigcMelAnalyzer and kept in
 * DIR/SPLIT.mels.safetensors ("mels" F32 [total frames, n_mels], "offsets" I64 [n + 1]) with the
 * features and a fingerprint of the audio files (names, sizes, modification times) in its
 * metadata; a cache whose features or fingerprint differ is recomputed. A folder that cannot be
 * written to only costs the recomputation.
 *
 * Alignment: mel frame f of the centred analysis is centred on sample f·hop, so a segment of F
 * frames starting at frame k goes with the samples [k·hop, (k + F)·hop).
 */
#pragma once

#include "dsp/aigc-speech-features.h"
#include "jobs/aigc-job.h"
#include "tensor/aigc-rng.h"

G_BEGIN_DECLS

typedef struct _AigcVocoderCorpus AigcVocoderCorpus;

/* (transfer full) (nullable) Reads a split (limit > 0: only its first `limit` utterances).
 * `job` (nullable) receives progress and is polled for cancel (then FALSE +
 * AIGC_ENGINE_ERROR_CANCELLED). Fails with NOT_FOUND when the split has no audio. */
AigcVocoderCorpus *aigc_vocoder_corpus_load(const char *dir, const char *split,
                                            const AigcSpeechFeatures *features, int limit,
                                            AigcJob *job, GError **error);
void aigc_vocoder_corpus_free(AigcVocoderCorpus *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcVocoderCorpus, aigc_vocoder_corpus_free)

int aigc_vocoder_corpus_get_n(AigcVocoderCorpus *c);
double aigc_vocoder_corpus_get_seconds(AigcVocoderCorpus *c);
/* (transfer none) Utterance i: its id, audio [*n_samples] and log-mel [*n_frames, n_mels]. */
const char *aigc_vocoder_corpus_get_id(AigcVocoderCorpus *c, int i);
const float *aigc_vocoder_corpus_get_audio(AigcVocoderCorpus *c, int i, gint64 *n_samples);
const float *aigc_vocoder_corpus_get_mel(AigcVocoderCorpus *c, int i, gint64 *n_frames);

/* Segments of `frames` frames that fit (whole audio under them), over all utterances. */
gint64 aigc_vocoder_corpus_count_segments(AigcVocoderCorpus *c, int frames);

/* B segments drawn uniformly over all positions (longer utterances more often), from `rng`:
 * audio [B, frames·hop]; mel [B, n_mels, frames + 2·ctx] channel-major, the frames around the
 * segment (ctx on each side; zeros beyond the utterance, like a conv's padding); prev [B, 2]
 * (nullable) the two samples before each segment (0 before the start). FALSE when no segment
 * fits. */
gboolean aigc_vocoder_corpus_sample(AigcVocoderCorpus *c, AigcRng *rng, int B, int frames, int ctx,
                                    float *audio, float *mel, float *prev);

G_END_DECLS
