/* SPDX-License-Identifier: MIT
 *
 * The Speak models' shared features: defaults valid, JSON round trip, bad values named, frame
 * counts, and a file at another rate analysed like the same audio at the features' rate.
 */
#include "aigc-error.h"
#include "dsp/aigc-speech-features.h"
#include "io/aigc-audio-file.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static void test_json(void)
{
    AigcSpeechFeatures f = aigc_speech_features_default(), g;
    g_assert_true(aigc_speech_features_validate(&f, NULL));
    g_autofree char *json = aigc_speech_features_to_json(&f);
    g_assert_true(aigc_speech_features_from_json(&g, json, NULL));
    g_assert_true(aigc_speech_features_equal(&f, &g));
    g_assert_true(aigc_speech_features_from_json(&g, "{}", NULL)); /* defaults */
    g_assert_true(aigc_speech_features_equal(&f, &g));
    GError *error = NULL;
    g_assert_false(aigc_speech_features_from_json(&g, "{\"hop_length\": 0}", &error));
    g_assert_nonnull(strstr(error->message, "hop_length"));
    g_clear_error(&error);
    g_assert_false(aigc_speech_features_from_json(&g, "{\"f_max\": 9000}", &error));
    g_assert_nonnull(strstr(error->message, "f_max"));
    g_clear_error(&error);
    g_assert_false(aigc_speech_features_from_json(&g, "[1, 2]", &error));
    g_clear_error(&error);
    g_assert_false(aigc_speech_features_from_json(&g, "{nope", &error));
    g_clear_error(&error);
    g.hop_length = 200;
    g_assert_false(aigc_speech_features_equal(&f, &g));
}

static void test_analyzer(void)
{
    AigcSpeechFeatures f = aigc_speech_features_default();
    g_autoptr(AigcMelAnalyzer) a = aigc_mel_analyzer_new(&f, NULL);
    g_assert_nonnull(a);
    g_assert_cmpint(aigc_mel_analyzer_get_n_frames(a, 16000), ==, 16000 / 256 + 1);
    /* A 1 kHz tone: the loudest band is the one around 1 kHz, in every frame. */
    enum { N = 16000 };
    g_autofree float *x = g_new(float, N);
    for (int i = 0; i < N; i++)
        x[i] = 0.5f * sinf(2 * (float)G_PI * 1000.0f * i / 16000.0f);
    gint64 T = aigc_mel_analyzer_get_n_frames(a, N);
    g_autofree float *mel = g_new(float, T * f.n_mels);
    g_assert_true(aigc_mel_analyzer_run(a, x, N, mel, NULL));
    int best = 0;
    for (int m = 1; m < f.n_mels; m++)
        if (mel[T / 2 * f.n_mels + m] > mel[T / 2 * f.n_mels + best])
            best = m;
    double lo = aigc_mel_to_hz(aigc_mel_from_hz(0) + (aigc_mel_from_hz(8000)) * best / 81.0);
    double hi = aigc_mel_to_hz(aigc_mel_from_hz(8000) * (best + 2) / 81.0);
    g_assert_cmpfloat(lo, <, 1000.0);
    g_assert_cmpfloat(hi, >, 1000.0);

    /* The same tone written at 22,050 Hz reads back resampled to 16 kHz with the same mel. */
    g_autofree float *y = g_new(float, 22050);
    for (int i = 0; i < 22050; i++)
        y[i] = 0.5f * sinf(2 * (float)G_PI * 1000.0f * i / 22050.0f);
    g_autofree char *dir = g_dir_make_tmp("aigc-features-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "tone.wav", NULL);
    AigcWavWriteParams wp = aigc_wav_write_default_params();
    wp.encoding = AIGC_AUDIO_FLOAT32;
    g_assert_true(aigc_audio_file_write_wav(path, y, 22050, 22050, &wp, NULL));
    gint64 frames, n;
    float *samples = NULL;
    g_autofree float *mel2 = aigc_mel_analyzer_run_file(a, path, &frames, &samples, &n, NULL);
    g_assert_nonnull(mel2);
    g_assert_cmpint(n, ==, 16000);
    g_assert_cmpint(frames, ==, T);
    /* Middle frame, away from the edges; bands within 40 dB of the tone's (resampling noise
     * sits below that). */
    const float *m1 = mel + T / 2 * f.n_mels, *m2 = mel2 + T / 2 * f.n_mels;
    int n_compared = 0;
    for (int m = 0; m < f.n_mels; m++)
        if (m1[m] > m1[best] - 4.6f * 2) {
            g_assert_cmpfloat(fabsf(m2[m] - m1[m]), <, 0.05f);
            n_compared++;
        }
    g_assert_cmpint(n_compared, >=, 3);
    g_free(samples);
    GError *error = NULL;
    g_autofree char *missing = g_build_filename(dir, "missing.wav", NULL);
    g_assert_null(aigc_mel_analyzer_run_file(a, missing, &frames, NULL, NULL, &error));
    g_assert_nonnull(strstr(error->message, "missing.wav"));
    g_clear_error(&error);
    g_remove(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/dsp/speech-features/json", test_json);
    g_test_add_func("/engine/dsp/speech-features/analyzer", test_analyzer);
    return g_test_run();
}
