/* SPDX-License-Identifier: MIT
 *
 * The image classifier that judges the studio's image generators (issue 6, item 3): a small
 * convolutional network for 28×28 Fashion-MNIST images,
 *
 *   conv1 3×3 (c1) → ReLU → conv2 3×3 (c2) → ReLU → max-pool 2
 *   → conv3 3×3 (c3) → ReLU → max-pool 2 → fc1 (hidden) → ReLU  = the features
 *   → dropout → fc2 (n_classes)                                   = the logits
 *
 * Inputs are gray images in [0, 1] (as AigcFashionMnist holds them), mapped to [−1, 1] inside.
 * The features — the ReLU outputs of fc1, before dropout — are what the Fréchet distance of
 * generated images is measured on (aigc-image-eval.h). Weight names follow PyTorch's nn.Conv2d /
 * nn.Linear ("conv1.weight", "fc2.bias"), so a model moves between the two by renaming nothing.
 *
 * The model file's metadata: "family" = "classifier", "classifier.config" (JSON).
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "jobs/aigc-job.h"
#include "tensor/aigc-params.h"

G_BEGIN_DECLS

#define AIGC_CLASSIFIER_FAMILY "classifier"

typedef struct {
    int image_size; /* S: images are S×S, S a multiple of 4 (28) */
    int n_classes;  /* K (10) */
    int c1, c2, c3; /* conv channels (32, 64, 128) */
    int hidden;     /* F: width of fc1, the feature dimension (256) */
    float dropout;  /* before fc2, training only (0.5) */
} AigcClassifierConfig;

AigcClassifierConfig aigc_classifier_default_config(void);
/* FALSE + error when a number is out of range. */
gboolean aigc_classifier_config_validate(const AigcClassifierConfig *config, GError **error);
/* Sets a field from "key=value" text (image_size, n_classes, c1, c2, c3, hidden, dropout);
 * FALSE + error for unknown keys or bad numbers. */
gboolean aigc_classifier_config_set(AigcClassifierConfig *config, const char *key,
                                    const char *value, GError **error);
/* (transfer full) */
char *aigc_classifier_config_to_json(const AigcClassifierConfig *config);
gboolean aigc_classifier_config_from_json(AigcClassifierConfig *config, const char *json,
                                          GError **error);

typedef struct _AigcClassifier AigcClassifier;

/* (transfer full) Parameters allocated, zero. The config must be valid. */
AigcClassifier *aigc_classifier_new(const AigcClassifierConfig *config);
void aigc_classifier_free(AigcClassifier *clf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcClassifier, aigc_classifier_free)
/* He-uniform weights (bound √(6 / fan_in)) for the ReLU layers, PyTorch's default bound
 * 1/√fan_in for fc2; zero biases. */
void aigc_classifier_init_weights(AigcClassifier *clf, AigcRng *rng);
/* (transfer none) */
const AigcClassifierConfig *aigc_classifier_get_config(AigcClassifier *clf);
/* (transfer none) */
AigcParams *aigc_classifier_get_params(AigcClassifier *clf);
/* The feature dimension (config hidden). */
int aigc_classifier_get_feature_dim(AigcClassifier *clf);

/* ---- on the tape ---- */

/* Logits [N, K] for images (N, S, S) in [0, 1]; differentiable. When `features` is non-NULL it
 * receives the [N, F] features (post-ReLU fc1). Dropout follows the context's training mode. */
AigcTensor *aigc_classifier_forward(AigcCtx *ctx, AigcClassifier *clf, const float *images, int N,
                                    AigcTensor **features);
/* Mean cross entropy against labels (N) in [0, K). */
AigcTensor *aigc_classifier_loss(AigcCtx *ctx, AigcClassifier *clf, const float *images,
                                 const gint32 *labels, int N);

/* ---- inference (no tape, eval mode, batched; callable from any one thread at a time) ---- */

/* The penultimate features of n images (n, S, S) in [0, 1]: features (n, F) and, when non-NULL,
 * logits (n, K). `job` (nullable) is polled between batches: cancelled → FALSE +
 * AIGC_ENGINE_ERROR_CANCELLED. */
gboolean aigc_classifier_features(AigcClassifier *clf, const float *images, gint64 n,
                                  float *features, float *logits, AigcJob *job, GError **error);
/* Predicted classes (n) of n images. */
gboolean aigc_classifier_predict(AigcClassifier *clf, const float *images, gint64 n,
                                 gint32 *predicted, AigcJob *job, GError **error);
/* The fraction of n images whose predicted class is their label. */
gboolean aigc_classifier_accuracy(AigcClassifier *clf, const float *images, const gint32 *labels,
                                  gint64 n, AigcJob *job, double *accuracy, GError **error);

/* ---- files ---- */

/* Adds the weights (stored as dtype) and "family"/"classifier.config" metadata to a writer. */
gboolean aigc_classifier_save(AigcClassifier *clf, AigcSafetensorsWriter *writer, AigcDtype dtype,
                              GError **error);
/* (transfer full) (nullable) From a weights file: family and config checked, every tensor
 * present with its shape and finite. */
AigcClassifier *aigc_classifier_load(AigcSafetensors *st, GError **error);
/* (transfer full) (nullable) Opens and loads a model file. */
AigcClassifier *aigc_classifier_load_file(const char *path, GError **error);
/* (transfer full) A hex SHA-256 of the weights and config: names a model's cached statistics. */
char *aigc_classifier_dup_checksum(AigcClassifier *clf);

G_END_DECLS
