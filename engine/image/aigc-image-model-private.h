/* SPDX-License-Identifier: MIT
 *
 * Inside AigcImageModel (aigc-image-generate.h): which family a loaded model is, shared by
 * aigc-image-generate.c (loading, the diffusion job) and aigc-image-latent.c (the one-pass
 * families: DCGAN and VAE — generation, interpolation, reconstruction).
 */
#pragma once

#include "image/aigc-image-generate.h"
#include "models/dcgan/aigc-dcgan.h"
#include "models/diffusion/aigc-diffusion.h"
#include "models/vae/aigc-vae.h"

G_BEGIN_DECLS

struct _AigcImageModel {
    gint ref_count;
    char *path, *name;
    /* exactly one of these */
    AigcDiffusion *diffusion;
    AigcDcgan *dcgan;
    AigcVae *vae;
};

/* (transfer full) (nullable) The generate job of a DCGAN or VAE model (params checked). */
AigcJob *aigc_image_latent_generate_job_new(AigcImageModel *model,
                                            const AigcImageGenParams *params, GError **error);
/* A random non-negative seed (for seed −1). */
guint64 aigc_image_random_seed(void);
/* (transfer full) n images (n, C, S, S) with values in [lo, hi] as one RGBA grid for a preview,
 * `columns` wide (0: as square as it goes). */
AigcImage *aigc_image_preview_grid(const float *x, int n, int C, int S, float lo, float hi,
                                   int columns);
/* Reports `grid` (nullable) as an AIGC_PREVIEW_IMAGE_RGBA8 preview labelled `label`. */
void aigc_image_report_preview(AigcJob *job, const AigcImage *grid, const char *label);
/* An 8-bit image as the model's planar floats in [lo, hi] (channels, S, S): converted (gray on
 * black for one-channel models, colour on white) and resized. */
float *aigc_image_model_floats(const AigcImage *image, int channels, int S, float lo, float hi);

G_END_DECLS
