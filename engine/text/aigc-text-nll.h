/* SPDX-License-Identifier: MIT
 *
 * The total negative log-likelihood of a token sequence under any model that maps token windows
 * (B, T) to next-token logits (B·T, V): the text is read in consecutive windows of T tokens,
 * each predicting its own tokens from within it, batched for large matrix products.
 */
#pragma once

#include "jobs/aigc-job.h"
#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* Logits (B·T, V) of `ids` (B, T) for `model`, in no-grad mode. */
typedef AigcTensor *(*AigcWindowForwardFunc)(AigcCtx *ctx, gpointer model, const gint32 *ids,
                                             int B, int T);

/* Sums −ln p of ids[1 … n) given what precedes them in their window. `job` (nullable) gets
 * progress and is polled for cancel (then FALSE + AIGC_ENGINE_ERROR_CANCELLED). */
gboolean aigc_windowed_nll(AigcWindowForwardFunc forward, gpointer model, int window, int vocab,
                           const gint32 *ids, gint64 n, AigcJob *job, double *nats,
                           GError **error);

G_END_DECLS
