/* SPDX-License-Identifier: MIT
 *
 * Griffin-Lim phase reconstruction, the Speak workshop's baseline vocoder: a waveform whose STFT
 * magnitude approaches a given one.
 *
 * "Fast Griffin-Lim" (Perraudin, Balazs and Søndergaard, 2013), in torchaudio's form: with the
 * target magnitude S and phases A (unit complex numbers),
 *     X   = STFT(iSTFT(S·A))                      (project onto consistent spectrograms)
 *     A   = X − momentum/(1 + momentum) · X_prev  (accelerate)
 *     A   = A / (|A| + 1e-16)                     (keep the phase only)
 *     X_prev = X
 * and the result is iSTFT(S·A). momentum 0 is the classic algorithm (Griffin and Lim, 1984).
 * Each iteration reports the spectral convergence ‖S − |X|‖_F / ‖S‖_F of its waveform.
 */
#pragma once

#include "dsp/aigc-mel.h"
#include "dsp/aigc-stft.h"

#include <glib.h>

G_BEGIN_DECLS

/* Called after each iteration (1 … n_iter) with its spectral convergence; return FALSE to stop
 * (the call then fails with AIGC_ENGINE_ERROR_CANCELLED). */
typedef gboolean (*AigcGriffinLimProgressFunc)(int iteration, int n_iter,
                                               double spectral_convergence, gpointer user_data);

typedef struct {
    int n_iter;          /* iterations, 0 … 10000 (default 32) */
    float momentum;      /* 0 ≤ momentum < 1 (default 0.99) */
    gboolean random_init; /* start from random phases (default TRUE), else from zero phase */
    guint64 seed;        /* for the random phases (default 0) */
    AigcGriffinLimProgressFunc progress; /* (nullable) */
    gpointer user_data;
} AigcGriffinLimParams;

AigcGriffinLimParams aigc_griffin_lim_default_params(void);

/* Reconstructs y [n_samples] from the magnitude mag [n_frames, n_bins] of `stft`'s transform.
 * n_samples must give back n_frames frames (aigc_stft_get_n_frames(stft, n_samples) ==
 * n_frames; aigc_stft_get_n_samples gives the natural length). Magnitudes must be finite and
 * ≥ 0. FALSE + error on invalid input or on a stop requested through `progress`. */
gboolean aigc_griffin_lim(AigcStft *stft, const float *mag, gint64 n_frames, float *y,
                          gint64 n_samples, const AigcGriffinLimParams *params, GError **error);

/* The same from a mel spectrogram mel [n_frames, n_mels] (natural-log mel when `is_log`, as
 * aigc_mel_log makes), first mapped to a linear magnitude with aigc_mel_filterbank_invert. */
gboolean aigc_griffin_lim_from_mel(AigcStft *stft, AigcMelFilterbank *fb, const float *mel,
                                   gint64 n_frames, gboolean is_log, float *y, gint64 n_samples,
                                   const AigcGriffinLimParams *params, GError **error);

/* ‖S − |STFT(y)|‖_F / ‖S‖_F for a waveform y [n_samples] and a target S [n_frames, n_bins]
 * (n_frames must match as above); 0 when both are zero. */
double aigc_griffin_lim_spectral_convergence(AigcStft *stft, const float *mag, gint64 n_frames,
                                             const float *y, gint64 n_samples);

G_END_DECLS
