/* SPDX-License-Identifier: MIT
 *
 * Judging image generators with the Fashion-MNIST classifier (issue 6, item 3): of n images
 * generated for given classes, the fraction the classifier assigns to their intended class
 * (`classifier_accuracy`) and the Fréchet distance between Gaussians fitted to the classifier's
 * penultimate features of those images and of the 10,000 test images (`fid`). The test split's
 * statistics depend only on the classifier, so they are computed once and kept in a cache file
 * named by the classifier's checksum.
 *
 * A generator family plugs in through AigcImageSampleFunc; aigc_image_eval_generator asks it for
 * n images with balanced classes (image i of class i mod K) in batches and judges them.
 */
#pragma once

#include "jobs/aigc-job.h"
#include "models/classifier/aigc-classifier.h"
#include "models/classifier/aigc-fid.h"

G_BEGIN_DECLS

typedef struct {
    gint64 n;                   /* images judged */
    double classifier_accuracy; /* fraction classified as their intended class */
    double fid;                 /* Fréchet distance of the features to the test split's */
} AigcImageEvalResult;

/* (transfer full) (nullable) The Gaussian of the classifier's features over the Fashion-MNIST
 * test split in `data_dir` (nullable: AIGC_FASHION_MNIST_DIR). Read from
 * CACHE_DIR/fashion-test-CHECKSUM.safetensors when it is there; otherwise computed and written
 * there (a cache that cannot be written is only logged). cache_dir nullable:
 * $XDG_CACHE_HOME/aigc-studio/fid. `job` (nullable) is polled for cancel. */
AigcGaussianStats *aigc_image_eval_test_stats(AigcClassifier *clf, const char *data_dir,
                                              const char *cache_dir, AigcJob *job,
                                              GError **error);

/* Judges n ≥ 2 generated images (n, S, S) in [0, 1] (S the classifier's image size) whose
 * intended classes are labels (n) against `reference` (the test split's statistics). */
gboolean aigc_image_eval_images(AigcClassifier *clf, const AigcGaussianStats *reference,
                                const float *images, const gint32 *labels, gint64 n, AigcJob *job,
                                AigcImageEvalResult *result, GError **error);

/* What a generator family provides: n images of the given classes into images (n, S, S), values
 * in [0, 1], reproducible from `seed`. Returns FALSE + error on failure or cancel. */
typedef gboolean (*AigcImageSampleFunc)(gpointer model, const gint32 *labels, gint64 n,
                                        guint64 seed, float *images, AigcJob *job,
                                        GError **error);

/* Asks `sample` for n images, class i mod K for image i, in batches of `batch` (each batch seeded
 * seed + its index), reports progress to `job`, and judges them. */
gboolean aigc_image_eval_generator(AigcClassifier *clf, const AigcGaussianStats *reference,
                                   AigcImageSampleFunc sample, gpointer model, gint64 n, int batch,
                                   guint64 seed, AigcJob *job, AigcImageEvalResult *result,
                                   GError **error);

G_END_DECLS
