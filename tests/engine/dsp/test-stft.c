/* SPDX-License-Identifier: MIT
 *
 * STFT / iSTFT: torch.stft and torch.istft goldens (centred and not, a window shorter than the
 * FFT, a signal shorter than the centre pad), iSTFT(STFT(x)) = x to 1e-5 for several sizes,
 * magnitude and power against the complex transform, frame counts, parameter checks, and the
 * same results from threads that make their transforms at the same time.
 */
#include "aigc-test-support.h"
#include "dsp/aigc-stft.h"

#include <math.h>
#include <string.h>

static AigcSafetensors *goldens;

static AigcStft *make_stft(int n_fft, int hop, int win, gboolean center)
{
    AigcStftParams p = aigc_stft_default_params();
    p.n_fft = n_fft;
    p.hop_length = hop;
    p.win_length = win;
    p.center = center;
    GError *error = NULL;
    AigcStft *s = aigc_stft_new(&p, &error);
    g_assert_no_error(error);
    return s;
}

static void check_forward_golden(const char *x_name, const char *spec_name, int n_fft, int hop,
                                 int win, gboolean center)
{
    gint64 n, n_spec;
    const float *x = aigc_test_golden_data(goldens, x_name, &n);
    const float *want = aigc_test_golden_data(goldens, spec_name, &n_spec);
    g_autoptr(AigcStft) s = make_stft(n_fft, hop, win, center);
    const gint64 T = aigc_stft_get_n_frames(s, n);
    g_assert_cmpint(T * aigc_stft_get_n_bins(s) * 2, ==, n_spec);
    float *got = g_new(float, n_spec);
    aigc_stft_forward(s, x, n, got);
    aigc_test_assert_close(got, want, n_spec, 1e-4, 2e-5, spec_name);
    g_free(got);
}

static void test_golden_center(void)
{
    check_forward_golden("stft.x", "stft.center", 128, 32, 128, TRUE);
}

static void test_golden_nocenter(void)
{
    /* The golden is of the first 500 samples, with a 40-sample window padded to 64. */
    gint64 n, n_spec;
    const float *x = aigc_test_golden_data(goldens, "stft.x", &n);
    const float *want = aigc_test_golden_data(goldens, "stft.nocenter", &n_spec);
    g_autoptr(AigcStft) s = make_stft(64, 16, 40, FALSE);
    g_assert_cmpint(aigc_stft_get_n_frames(s, 500), ==, 28);
    g_assert_cmpint(28 * 33 * 2, ==, n_spec);
    float got[28 * 33 * 2];
    aigc_stft_forward(s, x, 500, got);
    aigc_test_assert_close(got, want, n_spec, 1e-4, 2e-5, "stft.nocenter");
    /* The window is 40 Hann samples centred in 64 zeros. */
    const float *w = aigc_stft_get_window(s);
    for (int i = 0; i < 12; i++)
        g_assert_cmpfloat(w[i], ==, 0.0f);
    g_assert_cmpfloat(w[12], ==, 0.0f); /* periodic Hann starts at 0 */
    g_assert_cmpfloat_with_epsilon(w[32], 1.0f, 1e-6);
    for (int i = 52; i < 64; i++)
        g_assert_cmpfloat(w[i], ==, 0.0f);
}

static void test_golden_short_signal(void)
{
    check_forward_golden("stft.short.x", "stft.short", 128, 32, 128, TRUE);
}

static void test_istft_golden(void)
{
    gint64 n_spec, n_y;
    const float *spec = aigc_test_golden_data(goldens, "istft.spec", &n_spec);
    const float *want = aigc_test_golden_data(goldens, "istft.y", &n_y);
    g_autoptr(AigcStft) s = make_stft(64, 16, 64, TRUE);
    g_assert_cmpint(n_spec, ==, 20 * 33 * 2);
    g_assert_cmpint(aigc_stft_get_n_samples(s, 20), ==, n_y);
    float *got = g_new(float, n_y);
    aigc_stft_inverse(s, spec, 20, got, n_y);
    aigc_test_assert_close(got, want, n_y, 1e-4, 1e-5, "istft.y");
    /* A second call reuses the cached envelope and gives the same samples. */
    float *again = g_new(float, n_y);
    aigc_stft_inverse(s, spec, 20, again, n_y);
    g_assert_cmpmem(got, sizeof(float) * n_y, again, sizeof(float) * n_y);
    g_free(got);
    g_free(again);
}

static void check_roundtrip(int n_fft, int hop, int win, gboolean center, gint64 n)
{
    g_autoptr(AigcStft) s = make_stft(n_fft, hop, win, center);
    AigcRng rng;
    aigc_rng_init(&rng, (guint64)(n_fft * 31 + hop));
    float *x = g_new(float, n);
    aigc_rng_fill_uniform(&rng, x, n, -1.0f, 1.0f);
    const gint64 T = aigc_stft_get_n_frames(s, n);
    const int K = aigc_stft_get_n_bins(s);
    float *spec = g_new(float, T * K * 2);
    float *y = g_new(float, n);
    aigc_stft_forward(s, x, n, spec);
    aigc_stft_inverse(s, spec, T, y, n);
    /* Without centring, the ends no frame covers with a non-zero window stay 0. */
    const gint64 lo = center ? 0 : n_fft, hi = center ? n : aigc_stft_get_n_samples(s, T) - n_fft;
    double max_err = 0.0;
    for (gint64 i = lo; i < hi; i++)
        max_err = MAX(max_err, fabs((double)y[i] - x[i]));
    g_test_message("roundtrip n_fft %d hop %d win %d: max error %.3g", n_fft, hop, win, max_err);
    if (max_err >= 1e-5)
        g_error("roundtrip n_fft %d hop %d win %d: max error %g", n_fft, hop, win, max_err);
    g_free(x);
    g_free(spec);
    g_free(y);
}

static void test_roundtrip(void)
{
    check_roundtrip(1024, 256, 1024, TRUE, 22050);
    check_roundtrip(512, 128, 400, TRUE, 10007); /* odd length, short window */
    check_roundtrip(64, 16, 64, TRUE, 1000);
    check_roundtrip(256, 64, 256, FALSE, 5000);
    check_roundtrip(2048, 512, 2048, TRUE, 44100);
}

static void test_magnitude(void)
{
    gint64 n;
    const float *x = aigc_test_golden_data(goldens, "stft.x", &n);
    g_autoptr(AigcStft) s = make_stft(128, 32, 128, TRUE);
    const gint64 T = aigc_stft_get_n_frames(s, n);
    const int K = aigc_stft_get_n_bins(s);
    float *spec = g_new(float, T * K * 2), *mag = g_new(float, T * K), *pow2 = g_new(float, T * K);
    float *pow3 = g_new(float, T * K);
    aigc_stft_forward(s, x, n, spec);
    aigc_stft_magnitude(s, x, n, 1.0f, mag);
    aigc_stft_magnitude(s, x, n, 2.0f, pow2);
    aigc_stft_magnitude(s, x, n, 3.0f, pow3);
    for (gint64 i = 0; i < T * K; i++) {
        const double a = hypot(spec[2 * i], spec[2 * i + 1]);
        g_assert_cmpfloat_with_epsilon(mag[i], a, 1e-5 * (1 + a));
        g_assert_cmpfloat_with_epsilon(pow2[i], a * a, 1e-5 * (1 + a * a));
        g_assert_cmpfloat_with_epsilon(pow3[i], a * a * a, 1e-4 * (1 + a * a * a));
    }
    g_free(spec);
    g_free(mag);
    g_free(pow2);
    g_free(pow3);
}

static void test_frames(void)
{
    g_autoptr(AigcStft) c = make_stft(1024, 256, 0, TRUE);
    g_assert_cmpint(aigc_stft_get_params(c)->win_length, ==, 1024);
    g_assert_cmpint(aigc_stft_get_n_bins(c), ==, 513);
    g_assert_cmpint(aigc_stft_get_n_frames(c, 0), ==, 0);
    g_assert_cmpint(aigc_stft_get_n_frames(c, 1), ==, 1);
    g_assert_cmpint(aigc_stft_get_n_frames(c, 22050), ==, 87);
    g_assert_cmpint(aigc_stft_get_n_samples(c, 87), ==, 86 * 256);
    g_assert_cmpint(aigc_stft_get_n_frames(c, aigc_stft_get_n_samples(c, 87)), ==, 87);
    g_autoptr(AigcStft) nc = make_stft(1024, 256, 0, FALSE);
    g_assert_cmpint(aigc_stft_get_n_frames(nc, 1023), ==, 0);
    g_assert_cmpint(aigc_stft_get_n_frames(nc, 1024), ==, 1);
    g_assert_cmpint(aigc_stft_get_n_frames(nc, 1024 + 255), ==, 1);
    g_assert_cmpint(aigc_stft_get_n_frames(nc, 1024 + 256), ==, 2);
    g_assert_cmpint(aigc_stft_get_n_samples(nc, 2), ==, 1280);
    /* One sample: every frame is that sample mirrored, the spectrum of x·window. */
    float one = 0.5f, spec[513 * 2];
    aigc_stft_forward(c, &one, 1, spec);
    double wsum = 0.0;
    for (int i = 0; i < 1024; i++)
        wsum += aigc_stft_get_window(c)[i];
    g_assert_cmpfloat_with_epsilon(spec[0], 0.5 * wsum, 1e-3);
}

static void test_invalid_params(void)
{
    const struct {
        int n_fft, hop, win;
        const char *expect;
    } cases[] = {
        {0, 1, 0, "STFT size 0"},       {1023, 256, 0, "STFT size 1023"},
        {131072, 256, 0, "STFT size"},  {1024, 0, 0, "hop 0"},
        {1024, 2048, 0, "hop 2048"},    {1024, 256, 2048, "window length 2048"},
        {1024, 256, -3, "window length -3"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        AigcStftParams p = aigc_stft_default_params();
        p.n_fft = cases[i].n_fft;
        p.hop_length = cases[i].hop;
        p.win_length = cases[i].win;
        GError *error = NULL;
        g_assert_null(aigc_stft_new(&p, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, cases[i].expect));
        g_error_free(error);
    }
}

/* ---- threads: plans made concurrently, transforms run concurrently ---- */

typedef struct {
    int n_fft;
    const float *x;
    gint64 n;
    float *spec; /* out */
} ThreadJob;

static gpointer run_thread(gpointer data)
{
    ThreadJob *job = data;
    AigcStft *s = make_stft(job->n_fft, job->n_fft / 4, 0, TRUE);
    aigc_stft_forward(s, job->x, job->n, job->spec);
    aigc_stft_free(s);
    return NULL;
}

static void test_threads(void)
{
    enum { N_THREADS = 8, N = 4000 };
    /* Sizes not used elsewhere in this program, so their plans are made in the race. */
    const int sizes[N_THREADS] = {96, 160, 96, 160, 200, 96, 200, 160};
    AigcRng rng;
    aigc_rng_init(&rng, 7);
    float *x = g_new(float, N);
    aigc_rng_fill_normal(&rng, x, N, 0.0f, 1.0f);
    ThreadJob jobs[N_THREADS];
    GThread *threads[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        const gint64 T = 1 + N / (sizes[i] / 4);
        jobs[i] = (ThreadJob){sizes[i], x, N, g_new(float, T * (sizes[i] / 2 + 1) * 2)};
        threads[i] = g_thread_new("stft", run_thread, &jobs[i]);
    }
    for (int i = 0; i < N_THREADS; i++)
        g_thread_join(threads[i]);
    for (int i = 0; i < N_THREADS; i++) {
        const gint64 T = 1 + N / (sizes[i] / 4);
        const gsize bytes = sizeof(float) * T * (sizes[i] / 2 + 1) * 2;
        float *serial = g_new(float, bytes / sizeof(float));
        g_autoptr(AigcStft) s = make_stft(sizes[i], sizes[i] / 4, 0, TRUE);
        aigc_stft_forward(s, x, N, serial);
        g_assert_cmpmem(serial, bytes, jobs[i].spec, bytes);
        g_free(serial);
        g_free(jobs[i].spec);
    }
    g_free(x);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    goldens = aigc_test_open_golden("dsp");
    g_test_add_func("/engine/dsp/stft/golden-center", test_golden_center);
    g_test_add_func("/engine/dsp/stft/golden-nocenter", test_golden_nocenter);
    g_test_add_func("/engine/dsp/stft/golden-short-signal", test_golden_short_signal);
    g_test_add_func("/engine/dsp/stft/istft-golden", test_istft_golden);
    g_test_add_func("/engine/dsp/stft/roundtrip", test_roundtrip);
    g_test_add_func("/engine/dsp/stft/magnitude", test_magnitude);
    g_test_add_func("/engine/dsp/stft/frames", test_frames);
    g_test_add_func("/engine/dsp/stft/invalid-params", test_invalid_params);
    g_test_add_func("/engine/dsp/stft/threads", test_threads);
    const int status = g_test_run();
    aigc_safetensors_free(goldens);
    return status;
}
