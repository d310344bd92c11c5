/* SPDX-License-Identifier: MIT
 *
 * The class-conditional DCGAN of the Paint workshop (issue 6, item 2): a generator that turns a
 * latent vector z ~ N(0, I) and a class into an image, and the discriminator it is trained
 * against (Radford et al. 2016, with a projection discriminator for the class, Miyato & Koyama
 * 2018). For S×S images, s = S/4:
 *
 *   generator      h = fc(z) + class_embed[c]                           (4·ngf·s²)
 *                  → reshape (4·ngf, s, s) → BN → ReLU
 *                  → up1: transposed conv 4×4 stride 2 → (2·ngf, 2s, 2s) → BN → ReLU
 *                  → up2: transposed conv 4×4 stride 2 → (ngf, S, S) → BN → ReLU
 *                  → out: conv 3×3 → (channels, S, S) → tanh          images in [−1, 1]
 *   discriminator  conv1 4×4 stride 2 (+ bias) → LeakyReLU 0.2           (ndf, S/2)
 *                  → conv2 4×4 stride 2 → BN → LeakyReLU                 (2·ndf, S/4)
 *                  → conv3 3×3 stride 2 → BN → LeakyReLU                 (4·ndf, t), t = ⌈s/2⌉
 *                  → φ = flatten (F = 4·ndf·t²)
 *                  → logit = fc(φ) + ⟨class_embed[c], φ⟩   (the projection term)
 *
 * The class enters both networks through a class matrix (N, K): one-hot rows for a class, and
 * any blend of rows for images between classes (latent interpolation), since both use the class
 * only through class_mix · class_embed. The generator's batch norms keep running statistics
 * (PyTorch's momentum 0.1) that sampling uses, so an image depends on its own z and class only;
 * the discriminator's always use the statistics of the batch in hand.
 *
 * Parameters come in three sets: the generator's and the discriminator's (each trained by its
 * own optimiser) and the "buffers" — the generator's running statistics. Names follow PyTorch
 * module paths ("generator.up1.weight", "generator.bn1.running_mean", "discriminator.fc.bias").
 *
 * Model files: "family" = "dcgan", "dcgan.config" (JSON, the fields below), "dcgan.classes" (a
 * JSON array of the class names, when conditional); the generator's weights and buffers only —
 * the discriminator lives in the training checkpoint.
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "jobs/aigc-job.h"
#include "tensor/aigc-params.h"

G_BEGIN_DECLS

#define AIGC_DCGAN_FAMILY "dcgan"

typedef struct {
    int image_size; /* S: a multiple of 4, 8 … 128 (28) */
    int channels;   /* image channels, 1 … 4 (1) */
    int nz;         /* latent dimension (100) */
    int ngf;        /* generator width (64) */
    int ndf;        /* discriminator width (64) */
    int n_classes;  /* K: class conditioning (10); 0 = unconditional */
} AigcDcganConfig;

AigcDcganConfig aigc_dcgan_default_config(void);
/* FALSE + AIGC_ENGINE_ERROR_INVALID naming the fault when a number is out of range. */
gboolean aigc_dcgan_config_validate(const AigcDcganConfig *config, GError **error);
/* Sets a field from "key=value" text (image_size, channels, nz, ngf, ndf, n_classes); FALSE +
 * error for unknown keys or values that are not numbers. */
gboolean aigc_dcgan_config_set(AigcDcganConfig *config, const char *key, const char *value,
                               GError **error);
/* (transfer full) */
char *aigc_dcgan_config_to_json(const AigcDcganConfig *config);
/* Reads and validates a config written by aigc_dcgan_config_to_json. */
gboolean aigc_dcgan_config_from_json(AigcDcganConfig *config, const char *json, GError **error);

typedef struct _AigcDcgan AigcDcgan;

/* (transfer full) Parameters allocated and zero, running variances 1; classes named "0", "1",
 * …. The config must be valid. */
AigcDcgan *aigc_dcgan_new(const AigcDcganConfig *config);
void aigc_dcgan_free(AigcDcgan *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcDcgan, aigc_dcgan_free)
/* DCGAN's initialisation: conv, linear and embedding weights N(0, 0.02), batch-norm scales
 * N(1, 0.02), biases 0; running statistics 0 and 1. */
void aigc_dcgan_init_weights(AigcDcgan *model, AigcRng *rng);
/* (transfer none) */
const AigcDcganConfig *aigc_dcgan_get_config(AigcDcgan *model);
/* (transfer none) The generator's trainable parameters. */
AigcParams *aigc_dcgan_get_generator(AigcDcgan *model);
/* (transfer none) The discriminator's trainable parameters. */
AigcParams *aigc_dcgan_get_discriminator(AigcDcgan *model);
/* (transfer none) The generator's batch-norm running statistics (not trained). */
AigcParams *aigc_dcgan_get_buffers(AigcDcgan *model);

/* Names the n_classes classes (names: n_classes strings, copied). */
void aigc_dcgan_set_class_names(AigcDcgan *model, const char *const *names);
/* (transfer none) "?" when out of range. */
const char *aigc_dcgan_get_class_name(AigcDcgan *model, int i_class);
/* See aigc_class_names_find(). */
int aigc_dcgan_find_class(AigcDcgan *model, const char *name, GError **error);

/* ---- on the tape ---- */

/* Images (N, channels, S, S) in [−1, 1] from z (N, nz) and class_mix (N, K) (ignored, and may
 * be NULL, when the model is unconditional). In training mode (aigc_ctx_get_training) the batch
 * norms use the batch's statistics and update the running ones; in eval mode they use the
 * running ones. Differentiable. */
AigcTensor *aigc_dcgan_generate(AigcCtx *ctx, AigcDcgan *model, AigcTensor *z,
                                AigcTensor *class_mix);
/* The discriminator's logits (N, 1) — high for "real" — for images x (N, channels, S, S) in
 * [−1, 1] of the classes class_mix (N, K) (as above). Differentiable. */
AigcTensor *aigc_dcgan_discriminate(AigcCtx *ctx, AigcDcgan *model, AigcTensor *x,
                                    AigcTensor *class_mix);

/* ---- inference (no tape, eval mode, batched; one thread at a time per model) ---- */

/* The latent of image `index` drawn with `seed`: nz standard normals from the seed's stream
 * forked by the index, so an image depends on the seed and its index only. */
void aigc_dcgan_noise(AigcDcgan *model, guint64 seed, gint64 index, float *z);
/* n images into out (n, channels, S, S), values in [−1, 1], from latents z (n, nz) and
 * class_mix (n, K) (nullable when unconditional). `job` (nullable) is polled for cancel between
 * batches (FALSE + AIGC_ENGINE_ERROR_CANCELLED). */
gboolean aigc_dcgan_sample(AigcDcgan *model, const float *z, const float *class_mix, gint64 n,
                           float *out, AigcJob *job, GError **error);
/* Replaces the running statistics by their exact average over n_batches training-mode batches
 * of B random latents and uniformly random classes drawn from rng: the statistics that belong to
 * the current weights (used after swapping in averaged weights). */
void aigc_dcgan_recalibrate(AigcDcgan *model, int n_batches, int B, AigcRng *rng);

/* ---- files ---- */

/* Adds the generator's weights (stored as dtype), its running statistics (F32) and the
 * "family", "dcgan.config" and "dcgan.classes" metadata to a writer, which borrows the values
 * until it writes. */
gboolean aigc_dcgan_save(AigcDcgan *model, AigcSafetensorsWriter *writer, AigcDtype dtype,
                         GError **error);
/* (transfer full) (nullable) From a model file: family, config and class names checked, every
 * generator tensor present with its shape and finite, running variances not negative, and no
 * tensor the config does not name. */
AigcDcgan *aigc_dcgan_load(AigcSafetensors *st, GError **error);
/* (transfer full) (nullable) Opens and loads a model file. */
AigcDcgan *aigc_dcgan_load_file(const char *path, GError **error);

/* ---- judging (aigc-image-eval.h) ---- */

/* An AigcImageSampleFunc over an AigcDcgan (a one-channel, class-conditional model): n images of
 * the given classes in [0, 1] (n, S, S), image i from aigc_dcgan_noise(seed, i). */
gboolean aigc_dcgan_eval_sample(gpointer model, const gint32 *labels, gint64 n, guint64 seed,
                                float *images, AigcJob *job, GError **error);

G_END_DECLS
