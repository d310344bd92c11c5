/* SPDX-License-Identifier: MIT
 *
 * Short-time Fourier transform and its inverse (FFTW3f), matching torch.stft / torch.istft with
 * a periodic Hann window, onesided spectra and no normalisation.
 *
 * Frame t covers samples [t·hop − n_fft/2, t·hop + n_fft/2) of the signal when `center` is set
 * (the signal is reflect-padded by n_fft/2 on both sides, as torch.stft(center=True,
 * pad_mode="reflect")), and [t·hop, t·hop + n_fft) when it is not. A window shorter than n_fft
 * is zero-padded on both sides to n_fft, as torch does.
 *
 * Layout (differs from torch, which returns [n_bins, n_frames]): spectra are frame-major,
 * complex ones [n_frames, n_bins, 2] as (re, im) pairs, magnitudes [n_frames, n_bins], where
 * n_bins = n_fft/2 + 1. Frame-major rows are what models consume (one mel frame per step).
 *
 * An AigcStft holds scratch buffers, so one thread uses it at a time; make one per thread (they
 * are cheap: FFTW plans are shared between all of them, made once per size).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    int n_fft;       /* FFT size, even, 2 … 65536 (default 1024) */
    int hop_length;  /* samples between frames, 1 … n_fft (default 256) */
    int win_length;  /* Hann window length, 1 … n_fft; 0 = n_fft (default 0) */
    gboolean center; /* reflect-pad by n_fft/2 on both sides (default TRUE) */
} AigcStftParams;

AigcStftParams aigc_stft_default_params(void);

typedef struct _AigcStft AigcStft;

/* (transfer full) (nullable) NULL + AIGC_ENGINE_ERROR_INVALID if a parameter is out of range. */
AigcStft *aigc_stft_new(const AigcStftParams *params, GError **error);
void aigc_stft_free(AigcStft *stft);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcStft, aigc_stft_free)

/* (transfer none) The parameters, with win_length resolved. */
const AigcStftParams *aigc_stft_get_params(AigcStft *stft);
int aigc_stft_get_n_bins(AigcStft *stft);
/* (transfer none) The window zero-padded to n_fft: [n_fft]. */
const float *aigc_stft_get_window(AigcStft *stft);

/* Frames of a signal of n_samples: 1 + n/hop when centred (0 for an empty signal), otherwise
 * 1 + (n − n_fft)/hop (0 when n < n_fft). */
gint64 aigc_stft_get_n_frames(AigcStft *stft, gint64 n_samples);
/* The signal length the inverse gives by default for n_frames: (n_frames − 1)·hop when centred,
 * n_fft + (n_frames − 1)·hop otherwise (0 for no frames). */
gint64 aigc_stft_get_n_samples(AigcStft *stft, gint64 n_frames);

/* spec [n_frames, n_bins, 2] with n_frames = aigc_stft_get_n_frames(stft, n_samples). */
void aigc_stft_forward(AigcStft *stft, const float *x, gint64 n_samples, float *spec);
/* mag [n_frames, n_bins] = |X|^power (power 1: magnitude, 2: power spectrum). */
void aigc_stft_magnitude(AigcStft *stft, const float *x, gint64 n_samples, float power,
                         float *mag);

/* Overlap-add inverse of spec [n_frames, n_bins, 2] into y [n_samples] (as torch.istft with
 * length = n_samples): each frame's inverse real FFT is windowed and added, then divided by the
 * summed squared window; samples where that sum is below 1e-11 (never covered) are 0. The
 * imaginary parts of the DC and Nyquist bins are ignored. */
void aigc_stft_inverse(AigcStft *stft, const float *spec, gint64 n_frames, float *y,
                       gint64 n_samples);

G_END_DECLS
