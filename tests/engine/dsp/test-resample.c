/* SPDX-License-Identifier: MIT
 *
 * Resampling: a 1 kHz sine taken from 22,050 Hz to 16,000 Hz (and up to 48 kHz) keeps its
 * frequency, level and timing (compared sample by sample with the sine computed at the new
 * rate), every quality setting runs, lengths are exact, a tone above the new Nyquist frequency
 * is removed, and bad rates are refused.
 */
#include "aigc-test-support.h"
#include "dsp/aigc-resample.h"

#include <math.h>
#include <string.h>

static float *sine(int rate, gint64 n, double hz, double amp)
{
    float *x = g_new(float, n);
    for (gint64 i = 0; i < n; i++)
        x[i] = (float)(amp * sin(2 * G_PI * hz * (double)i / rate));
    return x;
}

/* Max |y − the sine at rate_out| over the middle, away from the ends' filter transients. */
static double max_error_vs_sine(const float *y, gint64 n, int rate, double hz, double amp)
{
    double err = 0.0;
    for (gint64 i = n / 10; i < n - n / 10; i++)
        err = MAX(err, fabs(y[i] - amp * sin(2 * G_PI * hz * (double)i / rate)));
    return err;
}

static double rms(const float *y, gint64 lo, gint64 hi)
{
    double s = 0.0;
    for (gint64 i = lo; i < hi; i++)
        s += (double)y[i] * y[i];
    return sqrt(s / (double)(hi - lo));
}

static void check_sine(int rate_in, int rate_out, AigcResampleQuality q, double tol)
{
    const gint64 n = rate_in / 2; /* 0.5 s */
    g_autofree float *x = sine(rate_in, n, 1000.0, 0.8);
    gint64 n_out = -1;
    GError *error = NULL;
    g_autofree float *y = aigc_resample(x, n, rate_in, rate_out, q, &n_out, &error);
    g_assert_no_error(error);
    g_assert_cmpint(n_out, ==, aigc_resample_output_length(n, rate_in, rate_out));
    g_assert_cmpint(n_out, ==, (n * rate_out + rate_in / 2) / rate_in);
    const double err = max_error_vs_sine(y, n_out, rate_out, 1000.0, 0.8);
    g_test_message("%d → %d Hz, quality %d: max error %.2g", rate_in, rate_out, q, err);
    g_assert_cmpfloat(err, <, tol);
    g_assert_cmpfloat_with_epsilon(rms(y, n_out / 10, n_out - n_out / 10), 0.8 / G_SQRT2,
                                   0.01);
}

static void test_sine_22050_to_16000(void)
{
    check_sine(22050, 16000, AIGC_RESAMPLE_BEST, 1e-3);
}

static void test_sine_up(void)
{
    check_sine(16000, 48000, AIGC_RESAMPLE_BEST, 1e-3);
    check_sine(8000, 22050, AIGC_RESAMPLE_MEDIUM, 3e-3);
}

static void test_qualities(void)
{
    check_sine(22050, 16000, AIGC_RESAMPLE_MEDIUM, 3e-3);
    check_sine(22050, 16000, AIGC_RESAMPLE_FASTEST, 1e-2);
    /* Linear and zero-order hold lag by up to one input sample: check them against the sine
     * delayed by one input sample (1/22050 s), and their level. */
    const AigcResampleQuality lagging[2] = {AIGC_RESAMPLE_LINEAR, AIGC_RESAMPLE_HOLD};
    const double tol[2] = {0.02, 0.25}; /* hold: one step of the staircase, 0.23 */
    g_autofree float *x = sine(22050, 11025, 1000.0, 0.8);
    for (int k = 0; k < 2; k++) {
        gint64 n_out;
        g_autofree float *y = aigc_resample(x, 11025, 22050, 16000, lagging[k], &n_out, NULL);
        g_assert_cmpint(n_out, ==, 8000);
        double err = 0.0;
        for (gint64 i = 800; i < 7200; i++)
            err = MAX(err, fabs(y[i] - 0.8 * sin(2 * G_PI * 1000.0 * ((double)i / 16000 -
                                                                      1.0 / 22050))));
        g_test_message("quality %d against the delayed sine: max error %.2g", lagging[k], err);
        g_assert_cmpfloat(err, <, tol[k]);
        g_assert_cmpfloat_with_epsilon(rms(y, 800, 7200), 0.8 / G_SQRT2, 0.03);
    }
}

static void test_anti_aliasing(void)
{
    /* 10 kHz is above 16 kHz's Nyquist frequency: the best converter removes it. */
    gint64 n_out;
    g_autofree float *x = sine(44100, 22050, 10000.0, 0.5);
    g_autofree float *y = aigc_resample(x, 22050, 44100, 16000, AIGC_RESAMPLE_BEST, &n_out, NULL);
    g_assert_cmpfloat(rms(y, n_out / 10, n_out - n_out / 10), <, 1e-3);
}

static void test_lengths(void)
{
    gint64 n_out = -1;
    float x[3] = {0.1f, 0.2f, 0.3f};
    g_autofree float *same = aigc_resample(x, 3, 16000, 16000, AIGC_RESAMPLE_BEST, &n_out, NULL);
    g_assert_cmpint(n_out, ==, 3);
    g_assert_cmpmem(same, sizeof x, x, sizeof x);
    g_autofree float *empty = aigc_resample(NULL, 0, 16000, 22050, AIGC_RESAMPLE_BEST, &n_out, NULL);
    g_assert_nonnull(empty);
    g_assert_cmpint(n_out, ==, 0);
    g_autofree float *one = aigc_resample(x, 1, 8000, 48000, AIGC_RESAMPLE_BEST, &n_out, NULL);
    g_assert_nonnull(one);
    g_assert_cmpint(n_out, ==, 6);
    g_assert_cmpint(aigc_resample_output_length(22050, 22050, 16000), ==, 16000);
    g_assert_cmpint(aigc_resample_output_length(3, 44100, 16000), ==, 1);
    g_assert_cmpint(aigc_resample_output_length(100, 12, 16000), ==, 0);
}

static void test_bad_rates(void)
{
    const int bad[][2] = {{0, 16000}, {16000, 0}, {-5, 16000}, {999, 16000}, {16000, 1000000}};
    float x[4] = {0};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        gint64 n_out = 7;
        GError *error = NULL;
        g_assert_null(aigc_resample(x, 4, bad[i][0], bad[i][1], AIGC_RESAMPLE_BEST, &n_out,
                                    &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "rates must be between"));
        g_assert_cmpint(n_out, ==, 0);
        g_error_free(error);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/dsp/resample/sine-22050-to-16000", test_sine_22050_to_16000);
    g_test_add_func("/engine/dsp/resample/sine-up", test_sine_up);
    g_test_add_func("/engine/dsp/resample/qualities", test_qualities);
    g_test_add_func("/engine/dsp/resample/anti-aliasing", test_anti_aliasing);
    g_test_add_func("/engine/dsp/resample/lengths", test_lengths);
    g_test_add_func("/engine/dsp/resample/bad-rates", test_bad_rates);
    return g_test_run();
}
