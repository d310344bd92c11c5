/* SPDX-License-Identifier: MIT
 *
 * Training batches of Fashion-MNIST for the image generators' training jobs (DCGAN, VAE): the
 * training split (or its first `limit` images), shuffled anew every epoch, with optional random
 * horizontal flips, scaled to the range a model wants.
 *
 * Every random choice is a function of the stream given at creation and of the position in the
 * run: epoch e's order comes from a fork of the stream by e, the flip of the run's g-th image
 * from a fork by g. So batch number `step` is the same whether a run got there in one go or
 * resumed from a checkpoint, and nothing but the step count has to be saved.
 */
#pragma once

#include "tensor/aigc-rng.h"

G_BEGIN_DECLS

typedef struct _AigcFashionBatches AigcFashionBatches;

/* (transfer full) (nullable) Loads the training split from `data_dir` (nullable: Debian's
 * folder, see aigc-idx.h); limit > 0 keeps only the first `limit` images. NULL + error naming
 * the file when it cannot be read. */
AigcFashionBatches *aigc_fashion_batches_new(const char *data_dir, gint64 limit,
                                             const AigcRng *rng, GError **error);
void aigc_fashion_batches_free(AigcFashionBatches *batches);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcFashionBatches, aigc_fashion_batches_free)

/* The images in use. */
int aigc_fashion_batches_get_n(AigcFashionBatches *batches);

/* Batch number `step` of B images: images (B, 1, 28, 28) with pixel p/255 mapped linearly to
 * [lo, hi], labels (B). Images are drawn in epoch order, batches laid end to end across
 * epochs; each is flipped left–right with probability ½ when `flip`. */
void aigc_fashion_batches_fill(AigcFashionBatches *batches, gint64 step, int B, gboolean flip,
                               float lo, float hi, float *images, gint32 *labels);

G_END_DECLS
