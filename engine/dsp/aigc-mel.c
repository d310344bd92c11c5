/* SPDX-License-Identifier: MIT
 *
 * Mel filterbank (Slaney scale and area normalisation), log-mel and the pseudo-inverse.
 *
 * Legend: M = n_mels, K = n_bins, T = frames. Weights are computed in double precision by the
 * formula librosa.filters.mel uses and stored as float; the pseudo-inverse is that of the stored
 * float weights.
 */
#include "aigc-mel.h"

#include "aigc-error.h"

#include <math.h>
#include <string.h>

#define MAX_MELS 1024

/* Slaney's Auditory Toolbox scale: 200/3 Hz per mel below 1 kHz, 27 mels per ln(6.4) above. */
#define F_SP (200.0 / 3.0)
#define MIN_LOG_HZ 1000.0
#define MIN_LOG_MEL (MIN_LOG_HZ / F_SP)
#define LOG_STEP (log(6.4) / 27.0)

struct _AigcMelFilterbank {
    AigcMelParams params;
    int n_mels, n_bins;
    float *weights; /* [M, K] */
    int *first;     /* [M] first bin with a non-zero weight */
    int *end;       /* [M] one past the last such bin (first == end: an empty filter) */
    double *ldl_d;  /* [M] D of the LDLᵀ factor of weights·weightsᵀ + ridge */
    double *ldl_l;  /* [M - 1] the sub-diagonal of L */
};

AigcMelParams aigc_mel_default_params(void)
{
    return (AigcMelParams){
        .sample_rate = 22050, .n_fft = 1024, .n_mels = 80, .f_min = 0.0, .f_max = 8000.0};
}

double aigc_mel_from_hz(double hz)
{
    if (hz >= MIN_LOG_HZ)
        return MIN_LOG_MEL + log(hz / MIN_LOG_HZ) / LOG_STEP;
    return hz / F_SP;
}

double aigc_mel_to_hz(double mel)
{
    if (mel >= MIN_LOG_MEL)
        return MIN_LOG_HZ * exp(LOG_STEP * (mel - MIN_LOG_MEL));
    return F_SP * mel;
}

/* Dot product of the weights of filters i and j over their common bins. */
static double filter_overlap(const AigcMelFilterbank *fb, int i, int j)
{
    const int lo = MAX(fb->first[i], fb->first[j]), hi = MIN(fb->end[i], fb->end[j]);
    const float *wi = fb->weights + (gsize)i * fb->n_bins, *wj = fb->weights + (gsize)j * fb->n_bins;
    double s = 0.0;
    for (int k = lo; k < hi; k++)
        s += (double)wi[k] * wj[k];
    return s;
}

/* Factors the tridiagonal Gram matrix G = W·Wᵀ (+ ridge) as L·D·Lᵀ. */
static void factor_gram(AigcMelFilterbank *fb)
{
    const int M = fb->n_mels;
    double *diag = g_new(double, M), *off = g_new0(double, M);
    double max_diag = 0.0;
    for (int m = 0; m < M; m++) {
        diag[m] = filter_overlap(fb, m, m);
        max_diag = MAX(max_diag, diag[m]);
        if (m + 1 < M)
            off[m] = filter_overlap(fb, m, m + 1);
    }
    const double ridge = max_diag > 0.0 ? 1e-10 * max_diag : 1.0;
    fb->ldl_d = g_new(double, M);
    fb->ldl_l = g_new0(double, MAX(M - 1, 1));
    fb->ldl_d[0] = diag[0] + ridge;
    for (int m = 0; m + 1 < M; m++) {
        fb->ldl_l[m] = off[m] / fb->ldl_d[m];
        fb->ldl_d[m + 1] = diag[m + 1] + ridge - fb->ldl_l[m] * off[m];
    }
    g_free(diag);
    g_free(off);
}

AigcMelFilterbank *aigc_mel_filterbank_new(const AigcMelParams *params, GError **error)
{
    g_return_val_if_fail(params != NULL, NULL);
    AigcMelParams p = *params;
    const double nyquist = p.sample_rate / 2.0;
    if (p.f_max == 0.0)
        p.f_max = nyquist;
    const char *fault = NULL;
    if (p.sample_rate < 1 || p.sample_rate > 1000000)
        fault = "the sample rate is not between 1 Hz and 1 MHz";
    else if (p.n_fft < 2 || p.n_fft > 65536 || p.n_fft % 2 != 0)
        fault = "the FFT size is not an even number from 2 to 65536";
    else if (p.n_mels < 1 || p.n_mels > MAX_MELS)
        fault = "the number of mel bands is not between 1 and 1024";
    else if (!(p.f_min >= 0.0) || !(p.f_max <= nyquist) || !(p.f_min < p.f_max))
        fault = "the band is not 0 ≤ f_min < f_max ≤ sample_rate/2";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "mel filterbank (rate %d Hz, FFT %d, %d mels, %g–%g Hz): %s", p.sample_rate,
                    p.n_fft, p.n_mels, p.f_min, p.f_max, fault);
        return NULL;
    }

    const int M = p.n_mels, K = p.n_fft / 2 + 1;
    AigcMelFilterbank *fb = g_new0(AigcMelFilterbank, 1);
    fb->params = p;
    fb->n_mels = M;
    fb->n_bins = K;
    fb->weights = g_new0(float, (gsize)M * K);
    fb->first = g_new(int, M);
    fb->end = g_new(int, M);

    /* M + 2 points evenly spaced in mel; filter m rises over [f[m], f[m+1]] and falls over
     * [f[m+1], f[m+2]], then is scaled by 2 / (f[m+2] − f[m]). */
    double *f = g_new(double, M + 2);
    const double mel_lo = aigc_mel_from_hz(p.f_min), mel_hi = aigc_mel_from_hz(p.f_max);
    for (int i = 0; i < M + 2; i++)
        f[i] = aigc_mel_to_hz(mel_lo + (mel_hi - mel_lo) * i / (M + 1));
    for (int m = 0; m < M; m++) {
        float *w = fb->weights + (gsize)m * K;
        const double rise = f[m + 1] - f[m], fall = f[m + 2] - f[m + 1];
        const double enorm = 2.0 / (f[m + 2] - f[m]);
        fb->first[m] = K;
        fb->end[m] = 0;
        for (int k = 0; k < K; k++) {
            const double hz = (double)k * p.sample_rate / p.n_fft;
            const double lower = (hz - f[m]) / rise, upper = (f[m + 2] - hz) / fall;
            const double v = MAX(0.0, MIN(lower, upper));
            if (v > 0.0) {
                w[k] = (float)(v * enorm);
                fb->first[m] = MIN(fb->first[m], k);
                fb->end[m] = k + 1;
            }
        }
        if (fb->first[m] >= fb->end[m])
            fb->first[m] = fb->end[m] = 0;
    }
    g_free(f);
    factor_gram(fb);
    return fb;
}

void aigc_mel_filterbank_free(AigcMelFilterbank *fb)
{
    if (!fb)
        return;
    g_free(fb->weights);
    g_free(fb->first);
    g_free(fb->end);
    g_free(fb->ldl_d);
    g_free(fb->ldl_l);
    g_free(fb);
}

const AigcMelParams *aigc_mel_filterbank_get_params(AigcMelFilterbank *fb)
{
    return &fb->params;
}

int aigc_mel_filterbank_get_n_mels(AigcMelFilterbank *fb)
{
    return fb->n_mels;
}

int aigc_mel_filterbank_get_n_bins(AigcMelFilterbank *fb)
{
    return fb->n_bins;
}

const float *aigc_mel_filterbank_get_weights(AigcMelFilterbank *fb)
{
    return fb->weights;
}

void aigc_mel_filterbank_apply(AigcMelFilterbank *fb, const float *spec, gint64 n_frames,
                               float *mel)
{
    const int M = fb->n_mels, K = fb->n_bins;
    for (gint64 t = 0; t < n_frames; t++) {
        const float *s = spec + t * K;
        float *out = mel + t * M;
        for (int m = 0; m < M; m++) {
            const float *w = fb->weights + (gsize)m * K;
            float acc = 0.0f;
            for (int k = fb->first[m]; k < fb->end[m]; k++)
                acc += w[k] * s[k];
            out[m] = acc;
        }
    }
}

void aigc_mel_filterbank_invert(AigcMelFilterbank *fb, const float *mel, gint64 n_frames,
                                float *spec)
{
    const int M = fb->n_mels, K = fb->n_bins;
    double *z = g_new(double, M); /* (W·Wᵀ)⁻¹ · mel_t */
    for (gint64 t = 0; t < n_frames; t++) {
        const float *r = mel + t * M;
        /* L·D·Lᵀ z = r: forward, diagonal, backward. */
        z[0] = r[0];
        for (int m = 1; m < M; m++)
            z[m] = r[m] - fb->ldl_l[m - 1] * z[m - 1];
        for (int m = 0; m < M; m++)
            z[m] /= fb->ldl_d[m];
        for (int m = M - 2; m >= 0; m--)
            z[m] -= fb->ldl_l[m] * z[m + 1];
        /* spec_t = Wᵀ z, clipped at 0. */
        float *out = spec + t * K;
        memset(out, 0, sizeof(float) * (gsize)K);
        for (int m = 0; m < M; m++) {
            const float *w = fb->weights + (gsize)m * K;
            const float zm = (float)z[m];
            for (int k = fb->first[m]; k < fb->end[m]; k++)
                out[k] += w[k] * zm;
        }
        for (int k = 0; k < K; k++)
            out[k] = MAX(out[k], 0.0f);
    }
    g_free(z);
}

void aigc_mel_log(const float *in, gint64 n, float floor, float *out)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = logf(MAX(in[i], floor));
}

void aigc_mel_exp(const float *in, gint64 n, float *out)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = expf(in[i]);
}

gboolean aigc_mel_log_spectrogram(AigcStft *stft, AigcMelFilterbank *fb, const float *x,
                                  gint64 n_samples, float floor, float *log_mel, GError **error)
{
    g_return_val_if_fail(stft != NULL && fb != NULL, FALSE);
    const int n_fft = aigc_stft_get_params(stft)->n_fft;
    if (n_fft != fb->params.n_fft) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the STFT size %d differs from the mel filterbank's %d", n_fft,
                    fb->params.n_fft);
        return FALSE;
    }
    const gint64 T = aigc_stft_get_n_frames(stft, n_samples);
    float *mag = g_new(float, (gsize)MAX(T, 1) * (gsize)fb->n_bins); /* [T, K] */
    aigc_stft_magnitude(stft, x, n_samples, 1.0f, mag);
    aigc_mel_filterbank_apply(fb, mag, T, log_mel);
    aigc_mel_log(log_mel, T * fb->n_mels, floor, log_mel);
    g_free(mag);
    return TRUE;
}
