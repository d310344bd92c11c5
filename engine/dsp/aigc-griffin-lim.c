/* SPDX-License-Identifier: MIT
 *
 * Fast Griffin-Lim (see the header for the iteration).
 *
 * Legend: T = frames, K = bins, complex arrays are [T, K, 2] (re, im) as aigc-stft.h lays them.
 */
#include "aigc-griffin-lim.h"

#include "aigc-error.h"
#include "tensor/aigc-rng.h"

#include <math.h>
#include <string.h>

#define MAX_ITER 10000

AigcGriffinLimParams aigc_griffin_lim_default_params(void)
{
    return (AigcGriffinLimParams){
        .n_iter = 32, .momentum = 0.99f, .random_init = TRUE, .seed = 0};
}

static gboolean check_shapes(AigcStft *stft, gint64 n_frames, gint64 n_samples, GError **error)
{
    if (n_frames < 1) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "Griffin-Lim needs at least one spectrogram frame");
        return FALSE;
    }
    if (aigc_stft_get_n_frames(stft, n_samples) != n_frames) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "a waveform of %" G_GINT64_FORMAT " samples has %" G_GINT64_FORMAT
                    " STFT frames, not the spectrogram's %" G_GINT64_FORMAT
                    " (use %" G_GINT64_FORMAT " samples)",
                    n_samples, aigc_stft_get_n_frames(stft, n_samples), n_frames,
                    aigc_stft_get_n_samples(stft, n_frames));
        return FALSE;
    }
    return TRUE;
}

/* ‖S − |X|‖² and ‖S‖² accumulated over the complex spectrogram X. */
static double convergence(const float *mag, const float *X, gint64 n)
{
    double num = 0.0, den = 0.0;
    for (gint64 i = 0; i < n; i++) {
        const double a = sqrtf(X[2 * i] * X[2 * i] + X[2 * i + 1] * X[2 * i + 1]);
        num += (mag[i] - a) * (mag[i] - a);
        den += (double)mag[i] * mag[i];
    }
    if (den == 0.0)
        return num == 0.0 ? 0.0 : INFINITY;
    return sqrt(num / den);
}

double aigc_griffin_lim_spectral_convergence(AigcStft *stft, const float *mag, gint64 n_frames,
                                             const float *y, gint64 n_samples)
{
    g_return_val_if_fail(aigc_stft_get_n_frames(stft, n_samples) == n_frames, INFINITY);
    const gint64 n = n_frames * aigc_stft_get_n_bins(stft);
    float *X = g_new(float, 2 * (gsize)n);
    aigc_stft_forward(stft, y, n_samples, X);
    const double sc = convergence(mag, X, n);
    g_free(X);
    return sc;
}

gboolean aigc_griffin_lim(AigcStft *stft, const float *mag, gint64 n_frames, float *y,
                          gint64 n_samples, const AigcGriffinLimParams *params, GError **error)
{
    g_return_val_if_fail(stft != NULL && mag != NULL && y != NULL, FALSE);
    AigcGriffinLimParams p = params ? *params : aigc_griffin_lim_default_params();
    if (p.n_iter < 0 || p.n_iter > MAX_ITER) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "Griffin-Lim iterations %d are not between 0 and %d", p.n_iter, MAX_ITER);
        return FALSE;
    }
    if (!(p.momentum >= 0.0f && p.momentum < 1.0f)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "Griffin-Lim momentum %g is not in [0, 1)", (double)p.momentum);
        return FALSE;
    }
    if (!check_shapes(stft, n_frames, n_samples, error))
        return FALSE;
    const gint64 n = n_frames * aigc_stft_get_n_bins(stft); /* T·K */
    for (gint64 i = 0; i < n; i++) {
        if (!isfinite(mag[i]) || mag[i] < 0.0f) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "spectrogram value %g at frame %" G_GINT64_FORMAT
                        " is not a finite magnitude ≥ 0",
                        (double)mag[i], i / aigc_stft_get_n_bins(stft));
            return FALSE;
        }
    }

    float *angles = g_new(float, 2 * (gsize)n);        /* [T, K, 2] unit phases */
    float *spec = g_new(float, 2 * (gsize)n);          /* [T, K, 2] S·angles */
    float *rebuilt = g_new(float, 2 * (gsize)n);       /* [T, K, 2] STFT(iSTFT(spec)) */
    float *prev = g_new0(float, 2 * (gsize)n);         /* [T, K, 2] last iteration's rebuilt */
    if (p.random_init) {
        AigcRng rng;
        aigc_rng_init(&rng, p.seed);
        for (gint64 i = 0; i < n; i++) {
            const float theta = 2.0f * (float)G_PI * aigc_rng_uniform(&rng);
            angles[2 * i] = cosf(theta);
            angles[2 * i + 1] = sinf(theta);
        }
    } else {
        for (gint64 i = 0; i < n; i++) {
            angles[2 * i] = 1.0f;
            angles[2 * i + 1] = 0.0f;
        }
    }
    const float alpha = p.momentum / (1.0f + p.momentum);
    gboolean ok = TRUE;
    for (int it = 0; it < p.n_iter; it++) {
        for (gint64 i = 0; i < n; i++) {
            spec[2 * i] = mag[i] * angles[2 * i];
            spec[2 * i + 1] = mag[i] * angles[2 * i + 1];
        }
        aigc_stft_inverse(stft, spec, n_frames, y, n_samples);
        aigc_stft_forward(stft, y, n_samples, rebuilt);
        const double sc = convergence(mag, rebuilt, n);
        for (gint64 i = 0; i < 2 * n; i += 2) {
            const float re = rebuilt[i] - alpha * prev[i];
            const float im = rebuilt[i + 1] - alpha * prev[i + 1];
            const float norm = 1.0f / (sqrtf(re * re + im * im) + 1e-16f);
            angles[i] = re * norm;
            angles[i + 1] = im * norm;
        }
        float *swap = prev;
        prev = rebuilt;
        rebuilt = swap;
        if (p.progress && !p.progress(it + 1, p.n_iter, sc, p.user_data)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED,
                        "Griffin-Lim stopped after %d of %d iterations", it + 1, p.n_iter);
            ok = FALSE;
            break;
        }
    }
    if (ok) {
        for (gint64 i = 0; i < n; i++) {
            spec[2 * i] = mag[i] * angles[2 * i];
            spec[2 * i + 1] = mag[i] * angles[2 * i + 1];
        }
        aigc_stft_inverse(stft, spec, n_frames, y, n_samples);
    }
    g_free(angles);
    g_free(spec);
    g_free(rebuilt);
    g_free(prev);
    return ok;
}

gboolean aigc_griffin_lim_from_mel(AigcStft *stft, AigcMelFilterbank *fb, const float *mel,
                                   gint64 n_frames, gboolean is_log, float *y, gint64 n_samples,
                                   const AigcGriffinLimParams *params, GError **error)
{
    g_return_val_if_fail(stft != NULL && fb != NULL && mel != NULL && y != NULL, FALSE);
    const int n_fft = aigc_stft_get_params(stft)->n_fft;
    if (n_fft != aigc_mel_filterbank_get_params(fb)->n_fft) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the STFT size %d differs from the mel filterbank's %d", n_fft,
                    aigc_mel_filterbank_get_params(fb)->n_fft);
        return FALSE;
    }
    if (!check_shapes(stft, n_frames, n_samples, error))
        return FALSE;
    const int M = aigc_mel_filterbank_get_n_mels(fb), K = aigc_mel_filterbank_get_n_bins(fb);
    for (gint64 i = 0; i < n_frames * M; i++) {
        if (!isfinite(mel[i]) || (!is_log && mel[i] < 0.0f)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "mel value %g at frame %" G_GINT64_FORMAT " is not %s", (double)mel[i],
                        i / M, is_log ? "finite" : "a finite magnitude ≥ 0");
            return FALSE;
        }
    }
    float *linear_mel = g_new(float, (gsize)(n_frames * M)); /* [T, M] */
    if (is_log)
        aigc_mel_exp(mel, n_frames * M, linear_mel);
    else
        memcpy(linear_mel, mel, sizeof(float) * (gsize)(n_frames * M));
    float *mag = g_new(float, (gsize)(n_frames * K)); /* [T, K] */
    aigc_mel_filterbank_invert(fb, linear_mel, n_frames, mag);
    g_free(linear_mel);
    /* A huge log value overflows exp: report it instead of feeding Inf to the iterations. */
    gboolean ok = aigc_griffin_lim(stft, mag, n_frames, y, n_samples, params, error);
    g_free(mag);
    return ok;
}
