/* SPDX-License-Identifier: MIT
 *
 * AigcTextModel: a loaded language model of any family (GPT; LSTM, GRU and RNN; n-gram) with its
 * tokenizer, behind one interface for generation and evaluation. Loaded weights are immutable and
 * may be shared by several sessions (each generation has its own AigcTextSession).
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "jobs/aigc-job.h"
#include "text/aigc-tokenizer.h"

G_BEGIN_DECLS

typedef struct _AigcTextModel AigcTextModel;
typedef struct _AigcTextSession AigcTextSession;

/* (transfer full) (nullable) Loads a text model file (any family this build knows); errors name
 * the file and the fault. */
AigcTextModel *aigc_text_model_load(const char *path, GError **error);
AigcTextModel *aigc_text_model_ref(AigcTextModel *model);
void aigc_text_model_unref(AigcTextModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcTextModel, aigc_text_model_unref)

const char *aigc_text_model_get_family(AigcTextModel *model);
const char *aigc_text_model_get_path(AigcTextModel *model);
/* (transfer none) */
AigcTokenizer *aigc_text_model_get_tokenizer(AigcTextModel *model);
int aigc_text_model_get_vocab_size(AigcTextModel *model);
/* Longest context in tokens (0 = unbounded, e.g. recurrent models). */
int aigc_text_model_get_max_context(AigcTextModel *model);
/* (nullable) A metadata value of the file (e.g. "title", "training"). */
const char *aigc_text_model_get_metadata(AigcTextModel *model, const char *key);

/* (nullable) (transfer none) The GPT of a "gpt" model (for export). */
struct _AigcGpt *aigc_text_model_get_gpt(AigcTextModel *model);

/* (transfer full) */
AigcTextSession *aigc_text_session_new(AigcTextModel *model);
void aigc_text_session_free(AigcTextSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcTextSession, aigc_text_session_free)
void aigc_text_session_reset(AigcTextSession *session);
int aigc_text_session_get_pos(AigcTextSession *session);
/* Feeds one token; writes the next-token logits (vocab_size floats). FALSE when the context is
 * full. */
gboolean aigc_text_session_feed(AigcTextSession *session, gint32 token, float *logits);

/* Bits per character of `text` under the model: the summed −log2 p of every token after the
 * first, divided by the characters of the text (aigc_utf8_count_chars). GPT reads the text in
 * consecutive windows of its context length. `job` (nullable) gets progress and is polled for
 * cancel (then FALSE + AIGC_ENGINE_ERROR_CANCELLED). */
gboolean aigc_text_model_bits_per_char(AigcTextModel *model, const char *text, gsize len,
                                       AigcJob *job, double *bits_per_char, GError **error);

G_END_DECLS
