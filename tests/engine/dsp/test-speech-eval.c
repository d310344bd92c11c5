/* SPDX-License-Identifier: MIT
 *
 * Speech judging: words for scoring, word errors (substitution, deletion, insertion), the
 * recogniser's absence reported, and mel cepstral distortion (zero for the same utterance, the
 * same for a time-stretched copy, growing with a spectral change).
 */
#include "dsp/aigc-speech-eval.h"

#include <math.h>
#include <string.h>

static void test_words(void)
{
    g_auto(GStrv) w = aigc_wer_words("Georgia's law, \"reformed\"--at last! 'Tis  O'Neil\xff's.");
    const char *want[] = {"georgia's", "law", "reformed", "at", "last", "tis", "o'neil", "s", NULL};
    g_assert_cmpuint(g_strv_length(w), ==, g_strv_length((GStrv)want));
    for (int i = 0; want[i]; i++)
        g_assert_cmpstr(w[i], ==, want[i]);
    g_auto(GStrv) none = aigc_wer_words("  ... !! ");
    g_assert_cmpuint(g_strv_length(none), ==, 0);
    g_auto(GStrv) null = aigc_wer_words(NULL);
    g_assert_cmpuint(g_strv_length(null), ==, 0);
}

static void test_errors(void)
{
    int n;
    const char *ref = "Implementation of Georgia's automobile title law was also recommended by "
                      "the outgoing jury.";
    const char *hyp = "implementation of george's automobile title was also recommended by the "
                      "outgoing jerry";
    g_assert_cmpint(aigc_word_errors(ref, hyp, &n), ==, 3); /* 2 substitutions, 1 deletion */
    g_assert_cmpint(n, ==, 13);
    g_assert_cmpint(aigc_word_errors(ref, ref, NULL), ==, 0);
    g_assert_cmpint(aigc_word_errors("a b c", "a x b c d", NULL), ==, 2); /* 2 insertions */
    g_assert_cmpint(aigc_word_errors("a b c", "", &n), ==, 3);
    g_assert_cmpint(aigc_word_errors("", "a b", &n), ==, 2);
    g_assert_cmpint(n, ==, 0);
}

static void test_asr_missing_file(void)
{
    GError *error = NULL;
    if (!aigc_asr_available(&error)) {
        g_assert_nonnull(strstr(error->message, "pocketsphinx"));
        g_clear_error(&error);
        g_assert_null(aigc_asr_transcribe("/nonexistent.wav", NULL, &error));
        g_assert_nonnull(error);
        g_clear_error(&error);
        return;
    }
    g_assert_null(aigc_asr_transcribe("no-such-file.wav", NULL, &error));
    g_assert_nonnull(strstr(error->message, "no-such-file.wav"));
    g_clear_error(&error);
}

static void test_mcd(void)
{
    enum { T = 40, M = 80 };
    float *a = g_new(float, T * M), *slow = g_new(float, 2 * T * M), *b = g_new(float, T * M);
    for (int t = 0; t < T; t++)
        for (int m = 0; m < M; m++) {
            float v = -6.0f + 4.0f * sinf(0.2f * m + 0.3f * t) + 0.05f * m;
            a[t * M + m] = v;
            slow[(2 * t) * M + m] = slow[(2 * t + 1) * M + m] = v;
            b[t * M + m] = v + 0.5f * cosf(0.7f * m); /* a change of spectral shape */
        }
    g_assert_cmpfloat(aigc_mel_cepstral_distortion(a, T, a, T, M, 13), <, 1e-9);
    g_assert_cmpfloat(aigc_mel_cepstral_distortion(a, T, slow, 2 * T, M, 13), <, 1e-9);
    double d1 = aigc_mel_cepstral_distortion(a, T, b, T, M, 13);
    g_assert_cmpfloat(d1, >, 0.1);
    for (int i = 0; i < T * M; i++)
        b[i] = a[i] + 2 * (b[i] - a[i]);
    g_assert_cmpfloat(aigc_mel_cepstral_distortion(a, T, b, T, M, 13), >, 1.9 * d1);
    /* a pure loudness change is c0 only: no distortion */
    for (int i = 0; i < T * M; i++)
        b[i] = a[i] + 1.0f;
    g_assert_cmpfloat(aigc_mel_cepstral_distortion(a, T, b, T, M, 13), <, 1e-4);
    g_free(a);
    g_free(slow);
    g_free(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/dsp/speech-eval/words", test_words);
    g_test_add_func("/engine/dsp/speech-eval/errors", test_errors);
    g_test_add_func("/engine/dsp/speech-eval/asr-missing-file", test_asr_missing_file);
    g_test_add_func("/engine/dsp/speech-eval/mcd", test_mcd);
    return g_test_run();
}
