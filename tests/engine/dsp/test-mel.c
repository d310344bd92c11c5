/* SPDX-License-Identifier: MIT
 *
 * Mel filterbank: the Slaney scale against reference values, whole and partial filterbanks and
 * a log-mel spectrogram against the numpy reference (tests/reference/dsp_goldens.py), the
 * pseudo-inverse against numpy.linalg.pinv, filterbanks with empty filters, the log floor, and
 * parameter checks.
 */
#include "aigc-test-support.h"
#include "dsp/aigc-mel.h"

#include <math.h>
#include <string.h>

static AigcSafetensors *goldens;

static AigcMelFilterbank *make_fb(int sr, int n_fft, int n_mels, double f_min, double f_max)
{
    AigcMelParams p = {sr, n_fft, n_mels, f_min, f_max};
    GError *error = NULL;
    AigcMelFilterbank *fb = aigc_mel_filterbank_new(&p, &error);
    g_assert_no_error(error);
    return fb;
}

static void test_scale(void)
{
    gint64 n;
    const float *hz = aigc_test_golden_data(goldens, "mel.hz", &n);
    const float *mel = aigc_test_golden_data(goldens, "mel.mel", NULL);
    for (gint64 i = 0; i < n; i++) {
        g_assert_cmpfloat_with_epsilon(aigc_mel_from_hz(hz[i]), mel[i], 1e-5 * (1 + mel[i]));
        g_assert_cmpfloat_with_epsilon(aigc_mel_to_hz(aigc_mel_from_hz(hz[i])), hz[i],
                                       1e-9 * (1 + hz[i]));
    }
    /* Linear below 1 kHz (15 mels at 1 kHz), 27 mels per factor 6.4 above. */
    g_assert_cmpfloat_with_epsilon(aigc_mel_from_hz(1000.0), 15.0, 1e-12);
    g_assert_cmpfloat_with_epsilon(aigc_mel_from_hz(6400.0), 42.0, 1e-12);
}

static void test_small_filterbank(void)
{
    g_autoptr(AigcMelFilterbank) fb = make_fb(16000, 256, 40, 0.0, 0.0); /* f_max 0 = Nyquist */
    g_assert_cmpfloat(aigc_mel_filterbank_get_params(fb)->f_max, ==, 8000.0);
    g_assert_cmpint(aigc_mel_filterbank_get_n_mels(fb), ==, 40);
    g_assert_cmpint(aigc_mel_filterbank_get_n_bins(fb), ==, 129);
    gint64 n;
    const float *want = aigc_test_golden_data(goldens, "mel.small.weights", &n);
    g_assert_cmpint(n, ==, 40 * 129);
    aigc_test_assert_close(aigc_mel_filterbank_get_weights(fb), want, n, 1e-5, 1e-8,
                           "mel.small.weights");
}

static void test_default_filterbank(void)
{
    const AigcMelParams p = aigc_mel_default_params();
    g_assert_cmpint(p.sample_rate, ==, 22050);
    g_assert_cmpint(p.n_fft, ==, 1024);
    g_assert_cmpint(p.n_mels, ==, 80);
    g_assert_cmpfloat(p.f_max, ==, 8000.0);
    GError *error = NULL;
    g_autoptr(AigcMelFilterbank) fb = aigc_mel_filterbank_new(&p, &error);
    g_assert_no_error(error);
    const int K = aigc_mel_filterbank_get_n_bins(fb);
    const float *w = aigc_mel_filterbank_get_weights(fb);
    gint64 n_rows;
    const AigcSafetensorsTensor *rows_t = aigc_safetensors_find(goldens, "mel.default.rows");
    g_assert_nonnull(rows_t);
    g_assert_cmpint(rows_t->dtype, ==, AIGC_DTYPE_I32);
    const gint32 *rows = (const gint32 *)rows_t->data;
    n_rows = rows_t->n_elements;
    const float *want = aigc_test_golden_data(goldens, "mel.default.weights", NULL);
    for (gint64 r = 0; r < n_rows; r++)
        aigc_test_assert_close(w + rows[r] * K, want + r * K, K, 1e-5, 1e-8,
                               "mel.default.weights");
    const float *rowsum = aigc_test_golden_data(goldens, "mel.default.rowsum", NULL);
    for (int m = 0; m < 80; m++) {
        double s = 0.0;
        for (int k = 0; k < K; k++)
            s += w[m * K + k];
        g_assert_cmpfloat_with_epsilon(s, rowsum[m], 1e-5 * rowsum[m]);
    }
}

static void test_log_mel_spectrogram(void)
{
    gint64 n, n_want;
    const float *x = aigc_test_golden_data(goldens, "mel.x", &n);
    const float *want = aigc_test_golden_data(goldens, "mel.logmel", &n_want);
    g_autoptr(AigcMelFilterbank) fb = make_fb(16000, 256, 40, 0.0, 8000.0);
    AigcStftParams sp = aigc_stft_default_params();
    sp.n_fft = 256;
    sp.hop_length = 64;
    g_autoptr(AigcStft) stft = aigc_stft_new(&sp, NULL);
    const gint64 T = aigc_stft_get_n_frames(stft, n);
    g_assert_cmpint(T * 40, ==, n_want);
    float *got = g_new(float, T * 40);
    GError *error = NULL;
    g_assert_true(aigc_mel_log_spectrogram(stft, fb, x, n, AIGC_MEL_DEFAULT_FLOOR, got, &error));
    g_assert_no_error(error);
    aigc_test_assert_close(got, want, n_want, 1e-4, 2e-4, "mel.logmel");
    /* A filterbank for another FFT size is refused. */
    g_autoptr(AigcMelFilterbank) other = make_fb(16000, 512, 40, 0.0, 8000.0);
    g_assert_false(aigc_mel_log_spectrogram(stft, other, x, n, 1e-5f, got, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_free(got);
}

static void test_inverse(void)
{
    gint64 n_log, n_want;
    const float *logmel = aigc_test_golden_data(goldens, "mel.logmel", &n_log);
    const float *want = aigc_test_golden_data(goldens, "mel.inverse", &n_want);
    const gint64 T = n_log / 40;
    g_assert_cmpint(T * 129, ==, n_want);
    g_autoptr(AigcMelFilterbank) fb = make_fb(16000, 256, 40, 0.0, 8000.0);
    float *mel = g_new(float, n_log), *got = g_new(float, n_want), *back = g_new(float, n_log);
    aigc_mel_exp(logmel, n_log, mel);
    aigc_mel_filterbank_invert(fb, mel, T, got);
    double scale = 0.0;
    for (gint64 i = 0; i < n_want; i++)
        scale = MAX(scale, fabs(want[i]));
    aigc_test_assert_close(got, want, n_want, 1e-3, 1e-5 * scale, "mel.inverse");
    for (gint64 i = 0; i < n_want; i++)
        g_assert_cmpfloat(got[i], >=, 0.0f);
    /* Unclipped, the filterbank maps the inverse back to the mel spectrum; with clipping it
     * stays close for this signal. */
    aigc_mel_filterbank_apply(fb, got, T, back);
    double err = 0.0, norm = 0.0;
    for (gint64 i = 0; i < n_log; i++) {
        err += (back[i] - mel[i]) * (back[i] - mel[i]);
        norm += mel[i] * mel[i];
    }
    g_assert_cmpfloat(sqrt(err / norm), <, 0.1);
    g_free(mel);
    g_free(got);
    g_free(back);
}

static void test_inverse_exact_in_row_space(void)
{
    /* A spectrum that is a non-negative combination of the filters is recovered exactly. */
    g_autoptr(AigcMelFilterbank) fb = make_fb(22050, 1024, 80, 0.0, 8000.0);
    const int M = 80, K = 513;
    const float *w = aigc_mel_filterbank_get_weights(fb);
    float *spec = g_new0(float, K), *mel = g_new(float, M), *back = g_new(float, K);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++)
            spec[k] += (1.0f + (m % 7)) * w[m * K + k];
    aigc_mel_filterbank_apply(fb, spec, 1, mel);
    aigc_mel_filterbank_invert(fb, mel, 1, back);
    float peak = 0.0f;
    for (int k = 0; k < K; k++)
        peak = MAX(peak, spec[k]);
    aigc_test_assert_close(back, spec, K, 1e-3, 1e-4 * peak, "row-space inverse");
    g_free(spec);
    g_free(mel);
    g_free(back);
}

static void test_empty_filters(void)
{
    /* 128 mels on a 256-point FFT at 22.05 kHz: the lowest filters fall between bins. */
    g_autoptr(AigcMelFilterbank) fb = make_fb(22050, 256, 128, 0.0, 0.0);
    const int M = 128, K = 129;
    const float *w = aigc_mel_filterbank_get_weights(fb);
    int n_empty = 0;
    for (int m = 0; m < M; m++) {
        float s = 0.0f;
        for (int k = 0; k < K; k++)
            s += w[m * K + k];
        n_empty += s == 0.0f;
    }
    g_assert_cmpint(n_empty, >, 0);
    float *mel = g_new(float, M), *spec = g_new(float, K);
    for (int m = 0; m < M; m++)
        mel[m] = 1.0f;
    aigc_mel_filterbank_invert(fb, mel, 1, spec);
    for (int k = 0; k < K; k++)
        g_assert_true(isfinite(spec[k]) && spec[k] >= 0.0f);
    g_free(mel);
    g_free(spec);
}

static void test_log_floor(void)
{
    const float in[4] = {0.0f, 1e-7f, 1.0f, (float)M_E};
    float out[4];
    aigc_mel_log(in, 4, 1e-5f, out);
    g_assert_cmpfloat_with_epsilon(out[0], logf(1e-5f), 1e-6);
    g_assert_cmpfloat_with_epsilon(out[1], logf(1e-5f), 1e-6);
    g_assert_cmpfloat_with_epsilon(out[2], 0.0f, 1e-7);
    g_assert_cmpfloat_with_epsilon(out[3], 1.0f, 1e-6);
    float back[4];
    aigc_mel_exp(out, 4, back);
    g_assert_cmpfloat_with_epsilon(back[0], 1e-5f, 1e-9);
    g_assert_cmpfloat_with_epsilon(back[3], (float)M_E, 1e-5);
    float inplace[2] = {0.0f, 1.0f}; /* in and out may be the same array */
    aigc_mel_log(inplace, 2, 1e-5f, inplace);
    g_assert_cmpfloat_with_epsilon(inplace[0], logf(1e-5f), 1e-6);
    g_assert_cmpfloat(inplace[1], ==, 0.0f);
}

static void test_invalid_params(void)
{
    const struct {
        AigcMelParams p;
        const char *expect;
    } cases[] = {
        {{0, 1024, 80, 0, 8000}, "sample rate"},
        {{22050, 1000 + 1, 80, 0, 8000}, "FFT size"},
        {{22050, 1024, 0, 0, 8000}, "mel bands"},
        {{22050, 1024, 2000, 0, 8000}, "mel bands"},
        {{22050, 1024, 80, -1, 8000}, "band"},
        {{22050, 1024, 80, 0, 12000}, "band"},
        {{22050, 1024, 80, 4000, 3000}, "band"},
        {{22050, 1024, 80, NAN, 3000}, "band"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *error = NULL;
        g_assert_null(aigc_mel_filterbank_new(&cases[i].p, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, cases[i].expect));
        g_error_free(error);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    goldens = aigc_test_open_golden("dsp");
    g_test_add_func("/engine/dsp/mel/scale", test_scale);
    g_test_add_func("/engine/dsp/mel/small-filterbank", test_small_filterbank);
    g_test_add_func("/engine/dsp/mel/default-filterbank", test_default_filterbank);
    g_test_add_func("/engine/dsp/mel/log-mel-spectrogram", test_log_mel_spectrogram);
    g_test_add_func("/engine/dsp/mel/inverse", test_inverse);
    g_test_add_func("/engine/dsp/mel/inverse-row-space", test_inverse_exact_in_row_space);
    g_test_add_func("/engine/dsp/mel/empty-filters", test_empty_filters);
    g_test_add_func("/engine/dsp/mel/log-floor", test_log_floor);
    g_test_add_func("/engine/dsp/mel/invalid-params", test_invalid_params);
    const int status = g_test_run();
    aigc_safetensors_free(goldens);
    return status;
}
