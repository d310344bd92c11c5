/* SPDX-License-Identifier: MIT
 *
 * Image generation as an engine job, for every image family the Paint workshop offers: a model
 * file is loaded once as an AigcImageModel (family, size, class names); a job samples a batch
 * of images — txt2img from a class, img2img from a canvas image at a strength, inpainting of a
 * masked region — streaming a preview of the predicted clean images every few steps, and ends
 * with 8-bit images and the A1111-style "parameters" text that makes them reproducible.
 */
#pragma once

#include "io/aigc-png.h"
#include "jobs/aigc-job.h"
#include "models/diffusion/aigc-ddpm.h"

G_BEGIN_DECLS

typedef struct _AigcImageModel AigcImageModel;

/* (transfer full) (nullable) Loads a model file of an image family (diffusion); errors name
 * the file. */
AigcImageModel *aigc_image_model_load(const char *path, GError **error);
AigcImageModel *aigc_image_model_ref(AigcImageModel *model);
void aigc_image_model_unref(AigcImageModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcImageModel, aigc_image_model_unref)

/* (transfer none) "diffusion". */
const char *aigc_image_model_get_family(AigcImageModel *model);
/* (transfer none) The file's base name without ".safetensors", e.g. "diffusion-fashion". */
const char *aigc_image_model_get_name(AigcImageModel *model);
int aigc_image_model_get_size(AigcImageModel *model);     /* images are size × size */
int aigc_image_model_get_channels(AigcImageModel *model); /* 1 gray, 3 RGB */
int aigc_image_model_get_n_classes(AigcImageModel *model); /* 0: not class-conditioned */
/* (transfer none) */
const char *aigc_image_model_get_class_name(AigcImageModel *model, int i);
/* The sampler's timesteps: the largest step count. */
int aigc_image_model_get_max_steps(AigcImageModel *model);

typedef struct {
    const char *class_name;  /* (nullable) a class of the model (name or number); NULL = none */
    AigcSamplerKind sampler; /* DDIM */
    int steps;               /* 1 … the model's timesteps (50) */
    float eta;               /* DDIM noise, 0 … 1 (0) */
    float guidance;          /* classifier-free guidance, 0 … 30 (3) */
    gint64 seed;             /* −1: random, reported */
    int batch;               /* images, 1 … 64 (1) */
    const AigcImage *init;   /* (nullable) img2img / inpainting start, any size (resized) */
    float strength;          /* with init: (0, 1] (0.75) */
    const AigcImage *mask;   /* (nullable) inpainting: same size as init; bright = repaint */
    int preview_every;       /* steps between previews (2); 0 = none */
} AigcImageGenParams;

AigcImageGenParams aigc_image_gen_default_params(void);

typedef struct {
    AigcImage **images; /* (n) 8-bit, the model's channels, size × size */
    int n;
    guint64 seed;       /* the seed used */
    char *parameters;   /* A1111 style: "Sneaker\nSteps: 50, Sampler: DDIM, CFG scale: 3, …" */
    char *class_name;   /* (nullable) */
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

G_END_DECLS
