/* SPDX-License-Identifier: MIT
 *
 * The multi-resolution STFT loss of Parallel WaveGAN (Yamamoto, Song and Kim, 2020), which lets a
 * GAN vocoder learn the spectral envelope long before its discriminators are any good: for each
 * resolution (FFT size, hop, Hann window length) with magnitudes P = |STFT(pred)| and
 * T = |STFT(target)| (squared magnitudes clamped at 1e-7 before the square root, as PWG),
 *     spectral convergence  SC  = ‖T − P‖_F / ‖T‖_F       (over the whole batch)
 *     log magnitude         MAG = mean |ln T − ln P|
 * and the loss is the mean over resolutions of SC + MAG. Frames are not centred (no padding):
 * frame f covers samples [f·hop, f·hop + n_fft).
 *
 * The gradient reaches pred only. It is formed in the forward (dL/dRe, dL/dIm per bin) and
 * carried back through the STFT's adjoint — per frame an inverse real FFT of the bin gradients,
 * windowed and overlap-added — using the engine's AigcStft (FFTW plans shared with it).
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

typedef struct {
    int n_fft;      /* even, 16 … 8192 */
    int hop_length; /* 1 … n_fft */
    int win_length; /* 1 … n_fft */
} AigcStftResolution;

#define AIGC_STFT_LOSS_MAX_RESOLUTIONS 8

/* The three resolutions of Parallel WaveGAN: (1024, 120, 600), (2048, 240, 1200), (512, 50, 240).
 */
int aigc_stft_loss_default_resolutions(AigcStftResolution *out /* [3] */);

typedef struct _AigcStftLoss AigcStftLoss;

/* (transfer full) (nullable) NULL + AIGC_ENGINE_ERROR_INVALID for bad resolutions. */
AigcStftLoss *aigc_stft_loss_new(const AigcStftResolution *res, int n_res, GError **error);
void aigc_stft_loss_free(AigcStftLoss *loss);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcStftLoss, aigc_stft_loss_free)
/* The shortest signal every resolution can take (the largest n_fft). */
int aigc_stft_loss_get_min_length(AigcStftLoss *loss);

/* Adds HiFi-GAN's mel-spectrogram term at one more resolution: with the filterbank weights
 * [n_mels, n_fft/2 + 1] (copied) applied to the magnitudes of each frame,
 *     MEL = mean |ln max(FB·T, floor) − ln max(FB·P, floor)|     (over frames and filters)
 * and the loss becomes mean over resolutions of (SC + MAG) + weight · MEL. The mel scale spends
 * its resolution where speech's formants and lower harmonics are, which the linear bins of SC and
 * MAG weigh by their count only. Once per loss; weight 0 reports MEL without training on it. */
gboolean aigc_stft_loss_add_mel(AigcStftLoss *loss, const AigcStftResolution *res,
                                const float *weights, int n_mels, float floor, float weight,
                                GError **error);

/* (transfer none) pred and target [B, T] or [B, 1, T] of equal shape, T ≥ the min length; returns
 * the loss, shape [1]. sc, mag and mel (nullable) receive the parts (sc and mag means over the
 * resolutions; mel 0 without a mel term). Not thread-safe: one call at a time per AigcStftLoss. */
AigcTensor *aigc_stft_loss(AigcCtx *ctx, AigcStftLoss *loss, AigcTensor *pred, AigcTensor *target,
                           float *sc, float *mag, float *mel);

G_END_DECLS
