/* SPDX-License-Identifier: MIT
 *
 * Image generation as an engine job, for every image family the Paint workshop offers: a model
 * file is loaded once as an AigcImageModel (family, size, class names); a job samples a batch
 * of images — txt2img from a class, img2img from a canvas image at a strength, inpainting of a
 * masked region — streaming a preview of the predicted clean images every few steps, and ends
 * with 8-bit images and the A1111-style "parameters" text that makes them reproducible.
 *
 * Families: diffusion (iterative: steps, sampler, guidance; img2img and inpainting), DCGAN and
 * VAE (one pass from a latent vector: an image of a batch depends on the seed and its index
 * only). The one-pass families also walk their latent space between two ends (interpolation:
 * spherical for the GAN's Gaussian noise, linear for the VAE's codes, the class blended along
 * the way), and the VAE encodes images: it reconstructs a canvas, starts from one (img2img) and
 * can take the ends of an interpolation from two images. aigc_image_model_get_caps says which
 * of these a model offers.
 */
#pragma once

#include "io/aigc-png.h"
#include "jobs/aigc-job.h"
#include "models/diffusion/aigc-ddpm.h"

G_BEGIN_DECLS

typedef struct _AigcImageModel AigcImageModel;

/* (transfer full) (nullable) Loads a model file of an image family (diffusion, dcgan, vae);
 * errors name the file. */
AigcImageModel *aigc_image_model_load(const char *path, GError **error);
AigcImageModel *aigc_image_model_ref(AigcImageModel *model);
void aigc_image_model_unref(AigcImageModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcImageModel, aigc_image_model_unref)

/* (transfer none) "diffusion", "dcgan" or "vae". */
const char *aigc_image_model_get_family(AigcImageModel *model);

/* What a model offers beyond drawing a class from a seed. */
typedef enum {
    AIGC_IMAGE_CAP_STEPS = 1 << 0,       /* iterative: steps, sampler, eta, guidance apply */
    AIGC_IMAGE_CAP_IMG2IMG = 1 << 1,     /* starts from an image (init, strength) */
    AIGC_IMAGE_CAP_INPAINT = 1 << 2,     /* repaints a masked region (mask) */
    AIGC_IMAGE_CAP_INTERPOLATE = 1 << 3, /* aigc_image_interpolate_job_new */
    AIGC_IMAGE_CAP_RECONSTRUCT = 1 << 4, /* aigc_image_model_reconstruct; interpolation ends
                                          * from images */
    AIGC_IMAGE_CAP_PROMPT = 1 << 5,      /* text-conditioned: draws from a prompt; its
                                          * "classes" are the words it knows */
} AigcImageCaps;

/* Diffusion: steps, img2img, inpaint (and prompt when text-conditioned); DCGAN: interpolate;
 * VAE: img2img, interpolate, reconstruct. */
AigcImageCaps aigc_image_model_get_caps(AigcImageModel *model);
/* (transfer none) The file's base name without ".safetensors", e.g. "diffusion-fashion". */
const char *aigc_image_model_get_name(AigcImageModel *model);
int aigc_image_model_get_size(AigcImageModel *model);     /* images are size × size */
int aigc_image_model_get_channels(AigcImageModel *model); /* 1 gray, 3 RGB */
int aigc_image_model_get_n_classes(AigcImageModel *model); /* 0: not class-conditioned */
/* (transfer none) */
const char *aigc_image_model_get_class_name(AigcImageModel *model, int i);
/* The sampler's timesteps: the largest step count (1 for the one-pass families). */
int aigc_image_model_get_max_steps(AigcImageModel *model);

/* The one-pass families (DCGAN, VAE) ignore sampler, steps, eta and guidance, and show one
 * preview, of the finished batch (unless preview_every is 0). */
typedef struct {
    const char *class_name;  /* (nullable) a class of the model (name or number); NULL = none;
                              * the VAE with init: NULL = the class the image is likeliest in */
    const char *prompt;      /* text models (AIGC_IMAGE_CAP_PROMPT) only, and required there:
                              * what to draw, in the words the model knows (unknown words are
                              * skipped and named in the parameters) */
    AigcSamplerKind sampler; /* DDIM */
    int steps;               /* 1 … the model's timesteps (50) */
    float eta;               /* DDIM noise, 0 … 1 (0) */
    float guidance;          /* classifier-free guidance, 0 … 30 (3) */
    gint64 seed;             /* −1: random, reported */
    int batch;               /* images, 1 … 64 (1) */
    const AigcImage *init;   /* (nullable) img2img / inpainting start, any size (resized); not
                              * for the DCGAN */
    float strength;          /* with init: (0, 1] (0.75); the VAE also takes 0, which is the
                              * reconstruction: its code z = √(1 − strength)·μ(init) +
                              * √strength·ε */
    const AigcImage *mask;   /* (nullable) inpainting: same size as init; bright = repaint;
                              * diffusion only */
    int preview_every;       /* steps between previews (2); 0 = none */
} AigcImageGenParams;

AigcImageGenParams aigc_image_gen_default_params(void);

typedef struct {
    AigcImage **images; /* (n) 8-bit, the model's channels, size × size */
    int n;
    guint64 seed;       /* the seed used */
    char *parameters;   /* A1111 style: "Sneaker\nSteps: 50, Sampler: DDIM, CFG scale: 3, …" */
    char *class_name;   /* (nullable) the class, or a text model's prompt */
    double seconds;
} AigcImageGenResult;

void aigc_image_gen_result_free(AigcImageGenResult *result);

/* (transfer full) (nullable) Checks the parameters against the model — class, steps, guidance,
 * eta, strength, batch, a mask without an init image or of another size — and makes the job
 * (NULL + AIGC_ENGINE_ERROR_INVALID / _NOT_FOUND naming the fault). Previews are
 * AIGC_PREVIEW_IMAGE_RGBA8 grids of the batch's predicted clean images, labelled
 * "step S/N". The result (aigc_job_get_result) is an AigcImageGenResult. */
AigcJob *aigc_image_generate_job_new(AigcImageModel *model, const AigcImageGenParams *params,
                                     GError **error);

/* ---- latent interpolation (DCGAN, VAE) ---- */

typedef struct {
    const char *class_a, *class_b; /* (nullable) the ends' classes; one NULL = the other's; both
                                    * NULL: only for unconditional models, or the VAE with
                                    * images (each image's likeliest class) */
    gint64 seed_a, seed_b;         /* the ends' latents: those of image 1 of a generation with
                                    * each seed; −1: random, reported (−1, −1) */
    const AigcImage *image_a, *image_b; /* (nullable) VAE: take an end's code from an image
                                         * (its posterior mean) instead of a seed */
    int n;                         /* images along the path, both ends included, 2 … 64 (8) */
} AigcImageInterpParams;

AigcImageInterpParams aigc_image_interp_default_params(void);

/* (transfer full) (nullable) A job that draws n images along the path between two latents:
 * z(t) = slerp(z_a, z_b, t) for the DCGAN's noise, (1 − t)·z_a + t·z_b for the VAE's codes, and
 * the class blended the same way, (1 − t)·class_a + t·class_b, for t = i/(n − 1). Checks the
 * parameters (NULL + AIGC_ENGINE_ERROR_INVALID / _NOT_FOUND / _UNSUPPORTED naming the fault).
 * The result is an AigcImageGenResult with the n images (seed: seed_a) and parameters like
 * "Sneaker → Bag\nSampler: DCGAN, Seed: 1 → 2, Interpolation: slerp, …"; one preview of the
 * strip. */
AigcJob *aigc_image_interpolate_job_new(AigcImageModel *model,
                                        const AigcImageInterpParams *params, GError **error);

/* ---- reconstruction (VAE) ---- */

/* (transfer full) (nullable) The image (any size; converted and resized) encoded and decoded by
 * the VAE — the decoding of its posterior mean — at the model's size and channels. class_name
 * (nullable): the class to encode it as; NULL: the class under which the image is likeliest
 * (its index in *i_class, nullable). One pass of a small network (milliseconds); the model is
 * only read, so it may run beside jobs on the same model. NULL + AIGC_ENGINE_ERROR_UNSUPPORTED
 * for models without an encoder, _NOT_FOUND for an unknown class. */
AigcImage *aigc_image_model_reconstruct(AigcImageModel *model, const AigcImage *image,
                                        const char *class_name, int *i_class, GError **error);

/* ---- judging (aigc-image-eval.h) ---- */

/* An AigcImageSampleFunc over an AigcImageModel (`model`) of a gray, class-conditional family:
 * DCGAN and VAE draw image i of a call from its seed and index; diffusion samples with the
 * defaults of aigc_image_gen_default_params (DDIM, 50 steps, guidance 3). */
gboolean aigc_image_model_eval_sample(gpointer model, const gint32 *labels, gint64 n,
                                      guint64 seed, float *images, AigcJob *job, GError **error);

G_END_DECLS
