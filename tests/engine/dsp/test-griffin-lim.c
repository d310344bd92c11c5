/* SPDX-License-Identifier: MIT
 *
 * Griffin-Lim: spectral convergence falls over the iterations (and faster with momentum), a sine
 * comes back at its frequency and level from its magnitude and from its log-mel spectrogram,
 * the progress callback sees every iteration and can stop the run, equal seeds give equal
 * waveforms, and bad input is refused.
 */
#include "aigc-test-support.h"
#include "dsp/aigc-griffin-lim.h"

#include <math.h>
#include <string.h>

#define SR 16000
#define N_FFT 512
#define HOP 128

static AigcStft *make_stft(void)
{
    AigcStftParams p = aigc_stft_default_params();
    p.n_fft = N_FFT;
    p.hop_length = HOP;
    return aigc_stft_new(&p, NULL);
}

/* A test signal of n samples: a chord of three partials and a chirp. */
static float *make_signal(gint64 n)
{
    float *x = g_new(float, n);
    for (gint64 i = 0; i < n; i++) {
        const double t = (double)i / SR;
        x[i] = (float)(0.3 * sin(2 * G_PI * 220 * t) + 0.2 * sin(2 * G_PI * 660 * t) +
                       0.1 * sin(2 * G_PI * 1320 * t) + 0.2 * sin(2 * G_PI * (500 * t + 2000 * t * t)));
    }
    return x;
}

static float *magnitude_of(AigcStft *s, const float *x, gint64 n, gint64 *n_frames)
{
    *n_frames = aigc_stft_get_n_frames(s, n);
    float *mag = g_new(float, *n_frames * aigc_stft_get_n_bins(s));
    aigc_stft_magnitude(s, x, n, 1.0f, mag);
    return mag;
}

typedef struct {
    double sc[256];
    int n_calls;
    int stop_at; /* 0 = never */
} Trace;

static gboolean record(int iteration, int n_iter, double sc, gpointer user_data)
{
    Trace *tr = user_data;
    g_assert_cmpint(iteration, ==, tr->n_calls + 1);
    g_assert_cmpint(n_iter, >=, iteration);
    tr->sc[tr->n_calls++] = sc;
    return tr->stop_at == 0 || iteration < tr->stop_at;
}

static double run(AigcStft *s, const float *mag, gint64 T, float *y, gint64 n, int n_iter,
                  float momentum, Trace *tr)
{
    AigcGriffinLimParams p = aigc_griffin_lim_default_params();
    p.n_iter = n_iter;
    p.momentum = momentum;
    p.seed = 3;
    p.progress = record;
    p.user_data = tr;
    GError *error = NULL;
    g_assert_true(aigc_griffin_lim(s, mag, T, y, n, &p, &error));
    g_assert_no_error(error);
    g_assert_cmpint(tr->n_calls, ==, n_iter);
    return aigc_griffin_lim_spectral_convergence(s, mag, T, y, n);
}

static void test_convergence(void)
{
    g_autoptr(AigcStft) s = make_stft();
    const gint64 n = aigc_stft_get_n_samples(s, 63); /* 0.5 s */
    g_autofree float *x = make_signal(n);
    gint64 T;
    g_autofree float *mag = magnitude_of(s, x, n, &T);
    g_autofree float *y = g_new(float, n);

    Trace classic = {0}, fast = {0};
    const double sc_classic = run(s, mag, T, y, n, 60, 0.0f, &classic);
    const double sc_fast = run(s, mag, T, y, n, 60, 0.99f, &fast);
    g_test_message("spectral convergence: start %.3f, classic %.4f, fast %.4f", classic.sc[0],
                   sc_classic, sc_fast);
    /* Classic Griffin-Lim never gets worse (up to rounding) and ends far below its start. */
    for (int i = 1; i < classic.n_calls; i++)
        g_assert_cmpfloat(classic.sc[i], <=, classic.sc[i - 1] * (1 + 1e-4));
    g_assert_cmpfloat(sc_classic, <, 0.5 * classic.sc[0]);
    /* With momentum it gets lower in the same number of iterations. */
    g_assert_cmpfloat(sc_fast, <, sc_classic);
    g_assert_cmpfloat(sc_fast, <, 0.15); /* torch's same loop: 0.06–0.12 over 5 seeds */
}

static void test_golden(void)
{
    /* From zero phase the iteration is deterministic: match torch's 8 fast iterations. */
    g_autoptr(AigcSafetensors) goldens = aigc_test_open_golden("dsp");
    gint64 n_mag, n_y;
    const float *mag = aigc_test_golden_data(goldens, "gl.mag", &n_mag);
    const float *want = aigc_test_golden_data(goldens, "gl.y", &n_y);
    AigcStftParams sp = aigc_stft_default_params();
    sp.n_fft = 64;
    sp.hop_length = 16;
    g_autoptr(AigcStft) s = aigc_stft_new(&sp, NULL);
    g_assert_cmpint(n_mag, ==, 20 * 33);
    g_autofree float *y = g_new(float, n_y);
    AigcGriffinLimParams p = aigc_griffin_lim_default_params();
    p.n_iter = 8;
    p.momentum = 0.99f;
    p.random_init = FALSE;
    GError *error = NULL;
    g_assert_true(aigc_griffin_lim(s, mag, 20, y, n_y, &p, &error));
    g_assert_no_error(error);
    aigc_test_assert_close(y, want, n_y, 1e-3, 1e-4, "gl.y");
}

/* The frequency of the strongest bin, averaged over frames, and the RMS of y[lo, hi). */
static double peak_hz(AigcStft *s, const float *y, gint64 n)
{
    gint64 T;
    g_autofree float *mag = magnitude_of(s, y, n, &T);
    const int K = aigc_stft_get_n_bins(s);
    g_autofree double *mean = g_new0(double, K);
    for (gint64 t = 0; t < T; t++)
        for (int k = 0; k < K; k++)
            mean[k] += mag[t * K + k];
    int best = 1;
    for (int k = 1; k < K - 1; k++)
        if (mean[k] > mean[best])
            best = k;
    /* Parabolic interpolation between the neighbouring bins. */
    const double a = mean[best - 1], b = mean[best], c = mean[best + 1];
    const double offset = 0.5 * (a - c) / (a - 2 * b + c);
    return (best + offset) * SR / N_FFT;
}

static double rms(const float *y, gint64 lo, gint64 hi)
{
    double s = 0.0;
    for (gint64 i = lo; i < hi; i++)
        s += (double)y[i] * y[i];
    return sqrt(s / (double)(hi - lo));
}

static void test_sine(void)
{
    g_autoptr(AigcStft) s = make_stft();
    const gint64 n = aigc_stft_get_n_samples(s, 41);
    g_autofree float *x = g_new(float, n);
    for (gint64 i = 0; i < n; i++)
        x[i] = 0.5f * sinf(2.0f * (float)G_PI * 440.0f * (float)i / SR);
    gint64 T;
    g_autofree float *mag = magnitude_of(s, x, n, &T);
    g_autofree float *y = g_new(float, n);
    Trace tr = {0};
    const double sc = run(s, mag, T, y, n, 32, 0.99f, &tr);
    g_assert_cmpfloat(sc, <, 0.2);
    g_assert_cmpfloat_with_epsilon(peak_hz(s, y, n), 440.0, 2.0);
    g_assert_cmpfloat_with_epsilon(rms(y, N_FFT, n - N_FFT), 0.5 / G_SQRT2, 0.02);
}

static void test_from_mel(void)
{
    g_autoptr(AigcStft) s = make_stft();
    AigcMelParams mp = {SR, N_FFT, 80, 0.0, 8000.0};
    g_autoptr(AigcMelFilterbank) fb = aigc_mel_filterbank_new(&mp, NULL);
    const gint64 n = aigc_stft_get_n_samples(s, 41);
    g_autofree float *x = g_new(float, n);
    for (gint64 i = 0; i < n; i++)
        x[i] = 0.5f * sinf(2.0f * (float)G_PI * 440.0f * (float)i / SR);
    const gint64 T = aigc_stft_get_n_frames(s, n);
    g_autofree float *log_mel = g_new(float, T * 80);
    g_assert_true(aigc_mel_log_spectrogram(s, fb, x, n, AIGC_MEL_DEFAULT_FLOOR, log_mel, NULL));
    g_autofree float *y = g_new(float, n);
    AigcGriffinLimParams p = aigc_griffin_lim_default_params();
    GError *error = NULL;
    g_assert_true(aigc_griffin_lim_from_mel(s, fb, log_mel, T, TRUE, y, n, &p, &error));
    g_assert_no_error(error);
    /* The mel bands are ~30 Hz wide at 440 Hz: the tone comes back within one band. */
    g_assert_cmpfloat_with_epsilon(peak_hz(s, y, n), 440.0, 30.0);
    g_assert_cmpfloat(rms(y, N_FFT, n - N_FFT), >, 0.1);
    /* Its log-mel spectrogram is close to the one it came from. */
    g_autofree float *again = g_new(float, T * 80);
    aigc_mel_log_spectrogram(s, fb, y, n, AIGC_MEL_DEFAULT_FLOOR, again, NULL);
    double err = 0.0, norm = 0.0;
    for (gint64 i = 0; i < T * 80; i++) {
        const double a = expf(again[i]), b = expf(log_mel[i]);
        err += (a - b) * (a - b);
        norm += b * b;
    }
    g_assert_cmpfloat(sqrt(err / norm), <, 0.3);
}

static void test_cancel(void)
{
    g_autoptr(AigcStft) s = make_stft();
    const gint64 n = aigc_stft_get_n_samples(s, 20);
    g_autofree float *x = make_signal(n);
    gint64 T;
    g_autofree float *mag = magnitude_of(s, x, n, &T);
    g_autofree float *y = g_new(float, n);
    Trace tr = {.stop_at = 3};
    AigcGriffinLimParams p = aigc_griffin_lim_default_params();
    p.n_iter = 50;
    p.progress = record;
    p.user_data = &tr;
    GError *error = NULL;
    g_assert_false(aigc_griffin_lim(s, mag, T, y, n, &p, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
    g_assert_cmpint(tr.n_calls, ==, 3);
    g_error_free(error);
}

static void test_deterministic(void)
{
    g_autoptr(AigcStft) s = make_stft();
    const gint64 n = aigc_stft_get_n_samples(s, 20);
    g_autofree float *x = make_signal(n);
    gint64 T;
    g_autofree float *mag = magnitude_of(s, x, n, &T);
    g_autofree float *a = g_new(float, n), *b = g_new(float, n), *c = g_new(float, n);
    AigcGriffinLimParams p = aigc_griffin_lim_default_params();
    p.n_iter = 5;
    p.seed = 11;
    g_assert_true(aigc_griffin_lim(s, mag, T, a, n, &p, NULL));
    g_assert_true(aigc_griffin_lim(s, mag, T, b, n, &p, NULL));
    g_assert_cmpmem(a, sizeof(float) * n, b, sizeof(float) * n);
    p.seed = 12;
    g_assert_true(aigc_griffin_lim(s, mag, T, c, n, &p, NULL));
    g_assert_true(memcmp(a, c, sizeof(float) * n) != 0);
    /* Zero-phase start needs no seed. */
    p.random_init = FALSE;
    p.n_iter = 0;
    g_assert_true(aigc_griffin_lim(s, mag, T, c, n, &p, NULL));
}

static void test_invalid(void)
{
    g_autoptr(AigcStft) s = make_stft();
    const gint64 n = aigc_stft_get_n_samples(s, 10);
    g_autofree float *x = make_signal(n);
    gint64 T;
    g_autofree float *mag = magnitude_of(s, x, n, &T);
    g_autofree float *y = g_new(float, n + HOP);
    AigcGriffinLimParams p = aigc_griffin_lim_default_params();
    GError *error = NULL;

    g_assert_false(aigc_griffin_lim(s, mag, T, y, n + HOP, &p, &error)); /* one frame more */
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "not the spectrogram's"));
    g_clear_error(&error);

    p.momentum = 1.5f;
    g_assert_false(aigc_griffin_lim(s, mag, T, y, n, &p, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    p = aigc_griffin_lim_default_params();
    p.n_iter = -1;
    g_assert_false(aigc_griffin_lim(s, mag, T, y, n, &p, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    p = aigc_griffin_lim_default_params();

    mag[17] = NAN;
    g_assert_false(aigc_griffin_lim(s, mag, T, y, n, &p, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_clear_error(&error);
    mag[17] = -1.0f;
    g_assert_false(aigc_griffin_lim(s, mag, T, y, n, &p, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_clear_error(&error);

    /* A log-mel value that overflows exp() is caught too. */
    AigcMelParams mp = {SR, N_FFT, 40, 0.0, 0.0};
    g_autoptr(AigcMelFilterbank) fb = aigc_mel_filterbank_new(&mp, NULL);
    g_autofree float *log_mel = g_new0(float, T * 40);
    log_mel[5] = 500.0f;
    g_assert_false(aigc_griffin_lim_from_mel(s, fb, log_mel, T, TRUE, y, n, &p, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_clear_error(&error);
    log_mel[5] = INFINITY;
    g_assert_false(aigc_griffin_lim_from_mel(s, fb, log_mel, T, TRUE, y, n, &p, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_clear_error(&error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/dsp/griffin-lim/convergence", test_convergence);
    g_test_add_func("/engine/dsp/griffin-lim/golden", test_golden);
    g_test_add_func("/engine/dsp/griffin-lim/sine", test_sine);
    g_test_add_func("/engine/dsp/griffin-lim/from-mel", test_from_mel);
    g_test_add_func("/engine/dsp/griffin-lim/cancel", test_cancel);
    g_test_add_func("/engine/dsp/griffin-lim/deterministic", test_deterministic);
    g_test_add_func("/engine/dsp/griffin-lim/invalid", test_invalid);
    return g_test_run();
}
