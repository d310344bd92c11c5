/* SPDX-License-Identifier: MIT
 *
 * llama2.c interoperability: a GPT moves to and from llama2.c's checkpoint format (model.bin: a
 * 7-int config header and float32 weights; tokenizer.bin: max token length, then per token a
 * score, a length and the bytes), so a model trained here runs in llama2.c's run.c and back.
 */
#pragma once

#include "models/gpt/aigc-gpt.h"
#include "text/aigc-tokenizer.h"

G_BEGIN_DECLS

/* Writes model.bin and tokenizer.bin (atomically). The tokenizer is of the character kind (id 1
 * is the lowest character: llama2.c treats id 1 as its beginning-of-text token, for the corpora
 * here the newline) or byte-pair (ids 0 … 255 are the bytes, so run.c's id 1 is the byte 0x01;
 * merge i gets score −i, so run.c's highest-score-first merging joins pairs in our order). */
gboolean aigc_llama2c_export(AigcGpt *gpt, AigcTokenizer *tok, const char *model_path,
                             const char *tokenizer_path, GError **error);

/* (transfer full) Reads a llama2.c model.bin (any size, shared or separate classifier) and, when
 * tokenizer_path is given, a tokenizer.bin as exported here: single characters, or the 256 bytes
 * followed by merged pieces (the merge table is rebuilt from the pieces). SentencePiece
 * vocabularies are refused as unsupported. */
AigcGpt *aigc_llama2c_import(const char *model_path, const char *tokenizer_path,
                             AigcTokenizer **tok_out, GError **error);

G_END_DECLS
