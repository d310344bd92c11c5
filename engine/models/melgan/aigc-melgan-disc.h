/* SPDX-License-Identifier: MIT
 *
 * MelGAN's multi-scale discriminator (training only). disc_scales identical networks judge the
 * audio at full rate, then average-pooled by 2 (kernel 4, stride 2, padding 1, padding not
 * counted), and so on. Each network, with weight normalisation on every layer:
 *
 *     conv 15 (1 → c0), lrelu
 *     4 × grouped conv 41, stride 4 (c → min(4c, max), groups c/4), lrelu
 *     conv 5 (c → min(2c, max)), lrelu
 *     conv 3 (→ 1)                                    the score per position
 *
 * with c0 = disc_channels and max = disc_max_channels (the paper: 16 and 1024). Every lrelu
 * output is a feature map for the feature-matching loss.
 *
 * Losses (least squares, as Parallel WaveGAN and HiFi-GAN; each averaged over the scales):
 *     discriminator  mean (D(real) − 1)² + mean D(fake)²
 *     generator      mean (D(fake) − 1)²
 *     feature match  Σ_layers mean |F_real − F_fake|
 */
#pragma once

#include "models/melgan/aigc-melgan.h"

G_BEGIN_DECLS

#define AIGC_MELGAN_DISC_MAX_SCALES 4
#define AIGC_MELGAN_DISC_N_FEATURES 6 /* lrelu outputs per scale */

typedef struct _AigcMelganDisc AigcMelganDisc;

/* (transfer full) Zero weights; see aigc_melgan_disc_init_weights. */
AigcMelganDisc *aigc_melgan_disc_new(const AigcMelganConfig *config);
void aigc_melgan_disc_free(AigcMelganDisc *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcMelganDisc, aigc_melgan_disc_free)
/* v ~ N(0, 0.02), g = ‖v‖, biases 0. */
void aigc_melgan_disc_init_weights(AigcMelganDisc *d, AigcRng *rng);
/* (transfer none) NAME.weight_v, NAME.weight_g, NAME.bias for every layer of every scale. */
AigcParams *aigc_melgan_disc_get_params(AigcMelganDisc *d);
/* Whether the discriminator's parameters take gradients (off while the generator learns, so
 * its backward skips their weight gradients). */
void aigc_melgan_disc_set_trainable(AigcMelganDisc *d, gboolean trainable);

typedef struct {
    int n_scales;
    AigcTensor *score[AIGC_MELGAN_DISC_MAX_SCALES]; /* [B, 1, T_s] */
    AigcTensor *features[AIGC_MELGAN_DISC_MAX_SCALES][AIGC_MELGAN_DISC_N_FEATURES];
} AigcMelganDiscOutput;

/* Runs every scale on audio [B, 1, T] (T ≥ 2^scales·256 or so for meaningful scores). */
void aigc_melgan_disc_forward(AigcCtx *ctx, AigcMelganDisc *d, AigcTensor *audio,
                              AigcMelganDiscOutput *out);

/* [1]-shaped losses (see above). `real` features are taken as constants (copied without their
 * graph), so the feature-matching gradient reaches only the fake side. */
AigcTensor *aigc_melgan_disc_loss(AigcCtx *ctx, const AigcMelganDiscOutput *real,
                                  const AigcMelganDiscOutput *fake);
AigcTensor *aigc_melgan_adv_loss(AigcCtx *ctx, const AigcMelganDiscOutput *fake);
AigcTensor *aigc_melgan_feature_loss(AigcCtx *ctx, const AigcMelganDiscOutput *real,
                                     const AigcMelganDiscOutput *fake);

G_END_DECLS
