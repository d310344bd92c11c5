/* SPDX-License-Identifier: MIT
 *
 * The convolutional, class-conditional variational autoencoder of the Paint workshop (issue 6,
 * item 2; Kingma & Welling 2014, Sohn et al. 2015 for the class). For S×S images, s = S/4:
 *
 *   encoder  x in [0, 1] → 2x − 1
 *            → conv1 4×4 stride 2 → ReLU                             (ch, S/2, S/2)
 *            → conv2 4×4 stride 2 → ReLU                             (2·ch, s, s)
 *            → flatten → fc + class_embed[c] → ReLU                  (hidden)
 *            → mu = fc_mu, logvar = fc_logvar                        (latent) each
 *   decoder  z → fc1 + class_embed[c] → ReLU                          (hidden)
 *            → fc2 + class_map[c] → ReLU → reshape                   (2·ch, s, s)
 *            → up1: transposed conv 4×4 stride 2 → ReLU              (ch, S/2, S/2)
 *            → up2: transposed conv 4×4 stride 2                     (channels, S, S) logits
 *
 * The decoder's output is a Bernoulli mean per pixel: sigmoid(logits) is the image. The prior
 * is learnt per class, p(z | c) = N(prior_mu[c], e^prior_logvar[c]) (N(0, I) when
 * unconditional). Training minimises the negative evidence lower bound per image, the binary
 * cross entropy of the pixels (summed over them) plus β·KL(q(z | x, c) ‖ p(z | c)), with
 * z = mu + e^{logvar/2}·ε (reparameterised). Generating decodes z ~ p(z | c) — written
 * z = prior_mu[c] + e^{prior_logvar[c]/2}·ε with ε ~ N(0, I), so a seed's ε makes a garment of
 * any class; reconstructing decodes the encoder's mean. A learnt class prior matters: with
 * N(0, I) for every class, the encoder is free to put the class into z and the decoder learns
 * to read it from there, so prior samples come out the same garment whatever class is asked.
 * As in the DCGAN the class enters through a class matrix (N, K) — one-hot rows, or blends for
 * interpolation between classes (the decoder takes the class twice, as a bias of its hidden
 * layer and as a per-class map at the first image resolution).
 *
 * Model files: "family" = "vae", "vae.config" (JSON, the fields below), "vae.classes" (a JSON
 * array of the class names, when conditional); weight names follow PyTorch module paths
 * ("encoder.conv1.weight", "decoder.up2.bias").
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "jobs/aigc-job.h"
#include "tensor/aigc-params.h"

G_BEGIN_DECLS

#define AIGC_VAE_FAMILY "vae"

typedef struct {
    int image_size; /* S: a multiple of 4, 8 … 128 (28) */
    int channels;   /* image channels, 1 … 4 (1) */
    int ch;         /* conv width: ch at S/2, 2·ch at S/4 (32) */
    int hidden;     /* fully connected width (512) */
    int latent;     /* latent dimension (16) */
    int n_classes;  /* K: class conditioning (10); 0 = unconditional */
} AigcVaeConfig;

AigcVaeConfig aigc_vae_default_config(void);
/* FALSE + AIGC_ENGINE_ERROR_INVALID naming the fault when a number is out of range. */
gboolean aigc_vae_config_validate(const AigcVaeConfig *config, GError **error);
/* Sets a field from "key=value" text (image_size, channels, ch, hidden, latent, n_classes);
 * FALSE + error for unknown keys or values that are not numbers. */
gboolean aigc_vae_config_set(AigcVaeConfig *config, const char *key, const char *value,
                             GError **error);
/* (transfer full) */
char *aigc_vae_config_to_json(const AigcVaeConfig *config);
/* Reads and validates a config written by aigc_vae_config_to_json. */
gboolean aigc_vae_config_from_json(AigcVaeConfig *config, const char *json, GError **error);

typedef struct _AigcVae AigcVae;

/* (transfer full) Parameters allocated and zero; classes named "0", "1", …. The config must be
 * valid. */
AigcVae *aigc_vae_new(const AigcVaeConfig *config);
void aigc_vae_free(AigcVae *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcVae, aigc_vae_free)
/* PyTorch's default initialisation: weights and biases U(±1/√fan_in) (fan_in of the layer the
 * class embedding adds into, for the embeddings). */
void aigc_vae_init_weights(AigcVae *model, AigcRng *rng);
/* (transfer none) */
const AigcVaeConfig *aigc_vae_get_config(AigcVae *model);
/* (transfer none) */
AigcParams *aigc_vae_get_params(AigcVae *model);

/* Names the n_classes classes (names: n_classes strings, copied). */
void aigc_vae_set_class_names(AigcVae *model, const char *const *names);
/* (transfer none) "?" when out of range. */
const char *aigc_vae_get_class_name(AigcVae *model, int i_class);
/* See aigc_class_names_find(). */
int aigc_vae_find_class(AigcVae *model, const char *name, GError **error);

/* ---- on the tape ---- */

/* mu and logvar (N, latent) of images x (N, channels, S, S) in [0, 1] of the classes class_mix
 * (N, K) (ignored, and may be NULL, when the model is unconditional). Differentiable. */
void aigc_vae_encode(AigcCtx *ctx, AigcVae *model, AigcTensor *x, AigcTensor *class_mix,
                     AigcTensor **mu, AigcTensor **logvar);
/* The logits (N, channels, S, S) of the pixels of latents z (N, latent) for class_mix (as
 * above). Differentiable. */
AigcTensor *aigc_vae_decode(AigcCtx *ctx, AigcVae *model, AigcTensor *z, AigcTensor *class_mix);

typedef struct {
    double recon; /* summed binary cross entropy per image, averaged over the batch */
    double kl;    /* KL divergence per image, averaged over the batch */
} AigcVaeLossTerms;

/* The loss recon + β·kl (shape [1], on the tape) of a batch x (B, channels, S, S) in [0, 1] with
 * classes (B) (nullable when unconditional); ε is drawn from rng. terms (nullable) receives the
 * two parts. */
AigcTensor *aigc_vae_loss(AigcCtx *ctx, AigcVae *model, const float *x, const gint32 *classes,
                          int B, float beta, AigcRng *rng, AigcVaeLossTerms *terms);

/* ---- inference (no tape, batched; one thread at a time per model) ---- */

/* The noise ε of image `index` drawn with `seed`: `latent` standard normals from the seed's
 * stream forked by the index, so an image depends on the seed and its index only. */
void aigc_vae_noise(AigcVae *model, guint64 seed, gint64 index, float *eps);
/* Latents z (n, L) of the prior for noise eps (n, L) and class_mix (n, K) (nullable when
 * unconditional; a blend of rows blends the prior's mean and log-variance):
 * z = mix·prior_mu + e^{mix·prior_logvar / 2}·ε. */
void aigc_vae_prior_latents(AigcVae *model, const float *eps, const float *class_mix, gint64 n,
                            float *z);
/* The inverse: the noise eps (n, L) that aigc_vae_prior_latents turns into z. */
void aigc_vae_prior_noise(AigcVae *model, const float *z, const float *class_mix, gint64 n,
                          float *eps);
/* n images (n, channels, S, S) in [0, 1] decoded from z (n, latent) for class_mix (n, K)
 * (nullable when unconditional). `job` (nullable) is polled for cancel between batches. */
gboolean aigc_vae_decode_images(AigcVae *model, const float *z, const float *class_mix, gint64 n,
                                float *out, AigcJob *job, GError **error);
/* The posterior means mu (n, latent) and, when non-NULL, logvar (n, latent) of n images (n,
 * channels, S, S) in [0, 1] for class_mix (as above). */
gboolean aigc_vae_encode_images(AigcVae *model, const float *images, const float *class_mix,
                                gint64 n, float *mu, float *logvar, AigcJob *job, GError **error);
/* For each of n images and its class_mix: the loss at z = mu (the reconstruction term at the
 * posterior mean plus the KL term against the class's prior), into out (n) — lower means
 * likelier. */
gboolean aigc_vae_score_images(AigcVae *model, const float *images, const float *class_mix,
                               gint64 n, float *out, AigcJob *job, GError **error);

/* ---- files ---- */

/* Adds the weights (stored as dtype) and the "family", "vae.config" and "vae.classes" metadata
 * to a writer, which borrows the weights until it writes. */
gboolean aigc_vae_save(AigcVae *model, AigcSafetensorsWriter *writer, AigcDtype dtype,
                       GError **error);
/* (transfer full) (nullable) From a model file: family, config and class names checked, every
 * tensor present with its shape and finite, and no tensor the config does not name. */
AigcVae *aigc_vae_load(AigcSafetensors *st, GError **error);
/* (transfer full) (nullable) Opens and loads a model file. */
AigcVae *aigc_vae_load_file(const char *path, GError **error);

/* ---- judging (aigc-image-eval.h) ---- */

/* An AigcImageSampleFunc over an AigcVae (a one-channel, class-conditional model): n images of
 * the given classes in [0, 1] (n, S, S), image i decoded from the prior latent of
 * aigc_vae_noise(seed, i). */
gboolean aigc_vae_eval_sample(gpointer model, const gint32 *labels, gint64 n, guint64 seed,
                              float *images, AigcJob *job, GError **error);

G_END_DECLS
