/* SPDX-License-Identifier: MIT
 *
 * Mel filterbank, log-mel spectrograms and the mel → linear pseudo-inverse.
 *
 * The choice (the one Tacotron 2, HiFi-GAN and MelGAN recipes use through librosa): the Slaney
 * mel scale of the Auditory Toolbox — linear below 1 kHz (mel = 3·f/200), logarithmic above
 * (mel = 15 + 27·ln(f/1000)/ln 6.4) — and Slaney area normalisation, where each triangle is
 * scaled by 2/(f_right − f_left) so every filter has the same area. This is librosa's default
 * (htk=False, norm="slaney") and torchaudio's mel_scale="slaney", norm="slaney".
 *
 * Filter m (0 ≤ m < n_mels) is a triangle over the n_mels + 2 points spaced evenly in mel from
 * f_min to f_max (f[m] rising to f[m+1], falling to f[m+2]); FFT bin k sits at k·sr/n_fft Hz.
 * Weights are [n_mels, n_bins] with n_bins = n_fft/2 + 1. Spectrograms are frame-major as in
 * aigc-stft.h: linear [n_frames, n_bins], mel [n_frames, n_mels].
 *
 * Log-mel is the natural log of max(mel, floor), floor 1e-5 by default (as NVIDIA's Tacotron 2
 * and HiFi-GAN "dynamic range compression").
 *
 * A filterbank never changes once made, so any number of threads may use one at a time.
 */
#pragma once

#include "dsp/aigc-stft.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    int sample_rate; /* Hz (default 22050) */
    int n_fft;       /* as the STFT's (default 1024) */
    int n_mels;      /* filters, 1 … 1024 (default 80) */
    double f_min;    /* Hz, ≥ 0 (default 0) */
    double f_max;    /* Hz, ≤ sample_rate/2; 0 = sample_rate/2 (default 8000) */
} AigcMelParams;

#define AIGC_MEL_DEFAULT_FLOOR 1e-5f

AigcMelParams aigc_mel_default_params(void);

/* The Slaney mel scale (see above) and its inverse. */
double aigc_mel_from_hz(double hz);
double aigc_mel_to_hz(double mel);

typedef struct _AigcMelFilterbank AigcMelFilterbank;

/* (transfer full) (nullable) NULL + AIGC_ENGINE_ERROR_INVALID for parameters out of range. */
AigcMelFilterbank *aigc_mel_filterbank_new(const AigcMelParams *params, GError **error);
void aigc_mel_filterbank_free(AigcMelFilterbank *fb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcMelFilterbank, aigc_mel_filterbank_free)

/* (transfer none) */
const AigcMelParams *aigc_mel_filterbank_get_params(AigcMelFilterbank *fb);
int aigc_mel_filterbank_get_n_mels(AigcMelFilterbank *fb);
int aigc_mel_filterbank_get_n_bins(AigcMelFilterbank *fb);
/* (transfer none) The weights [n_mels, n_bins]. */
const float *aigc_mel_filterbank_get_weights(AigcMelFilterbank *fb);

/* mel [T, n_mels] = spec [T, n_bins] · weightsᵀ (sparse: each filter touches only its bins). */
void aigc_mel_filterbank_apply(AigcMelFilterbank *fb, const float *spec, gint64 n_frames,
                               float *mel);
/* spec [T, n_bins] = max(0, mel [T, n_mels] · pinvᵀ): the minimum-norm linear spectrum that the
 * filterbank maps back to `mel`, clipped at 0 — the start Griffin-Lim needs. pinv is the
 * Moore–Penrose pseudo-inverse weightsᵀ(weights·weightsᵀ)⁻¹. It is never formed: neighbouring
 * triangles are the only ones that overlap, so weights·weightsᵀ is tridiagonal; it is factored
 * once (LDLᵀ, double precision, with a ridge of 1e-10 of its largest diagonal entry so a filter
 * that holds no FFT bin — too many mels for the FFT size — stays finite) and each frame costs a
 * tridiagonal solve plus one sparse product. */
void aigc_mel_filterbank_invert(AigcMelFilterbank *fb, const float *mel, gint64 n_frames,
                                float *spec);

/* out[i] = ln(max(in[i], floor)); in and out may be the same array. */
void aigc_mel_log(const float *in, gint64 n, float floor, float *out);
/* out[i] = exp(in[i]), the inverse of aigc_mel_log above the floor. */
void aigc_mel_exp(const float *in, gint64 n, float *out);

/* log_mel [T, n_mels] of the signal x: |STFT| (power 1), filterbank, ln(max(·, floor)).
 * T = aigc_stft_get_n_frames(stft, n_samples); the STFT's n_fft must equal the filterbank's. */
gboolean aigc_mel_log_spectrogram(AigcStft *stft, AigcMelFilterbank *fb, const float *x,
                                  gint64 n_samples, float floor, float *log_mel, GError **error);

G_END_DECLS
