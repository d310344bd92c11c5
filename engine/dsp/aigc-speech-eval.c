/* SPDX-License-Identifier: MIT
 *
 * Word error rate through pocketsphinx, and mel cepstral distortion (see aigc-speech-eval.h).
 */
#include "dsp/aigc-speech-eval.h"

#include "aigc-error.h"

#include <math.h>
#include <string.h>

/* The character at p (end: one past the text) and its length; invalid bytes are one byte long
 * and read as a space. */
static gunichar char_at(const char *p, const char *end, gsize *len)
{
    gunichar c = g_utf8_get_char_validated(p, end - p);
    if (c == (gunichar)-1 || c == (gunichar)-2) {
        *len = 1;
        return ' ';
    }
    *len = (gsize)(g_utf8_next_char(p) - p);
    return c;
}

GStrv aigc_wer_words(const char *text)
{
    GStrvBuilder *b = g_strv_builder_new();
    GString *w = g_string_new(NULL);
    const char *p = text ? text : "", *end = p + strlen(p);
    while (p <= end) {
        gsize len = 1, next_len;
        gunichar c = p < end ? char_at(p, end, &len) : 0;
        gunichar next = p + len < end ? char_at(p + len, end, &next_len) : 0;
        gboolean inner_apostrophe =
            (c == '\'' || c == 0x2019) && w->len > 0 && g_unichar_isalnum(next);
        if (c && (g_unichar_isalnum(c) || inner_apostrophe)) {
            g_string_append_unichar(w, inner_apostrophe ? '\'' : g_unichar_tolower(c));
        } else {
            if (w->len)
                g_strv_builder_add(b, w->str);
            g_string_truncate(w, 0);
        }
        p += len;
    }
    g_string_free(w, TRUE);
    GStrv out = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    return out;
}

int aigc_word_errors(const char *ref, const char *hyp, int *n_ref)
{
    g_auto(GStrv) r = aigc_wer_words(ref);
    g_auto(GStrv) h = aigc_wer_words(hyp);
    int R = (int)g_strv_length(r), H = (int)g_strv_length(h);
    if (n_ref)
        *n_ref = R;
    g_autofree int *prev = g_new(int, H + 1), *cur = g_new(int, H + 1);
    for (int j = 0; j <= H; j++)
        prev[j] = j;
    for (int i = 1; i <= R; i++) {
        cur[0] = i;
        for (int j = 1; j <= H; j++) {
            int sub = prev[j - 1] + (strcmp(r[i - 1], h[j - 1]) != 0);
            cur[j] = MIN(sub, MIN(prev[j] + 1, cur[j - 1] + 1));
        }
        int *t = prev;
        prev = cur;
        cur = t;
    }
    return prev[H];
}

gboolean aigc_asr_available(GError **error)
{
    g_autofree char *prog = g_find_program_in_path("pocketsphinx_continuous");
    if (!prog || !g_file_test("/usr/share/pocketsphinx/model/en-us/en-us", G_FILE_TEST_IS_DIR)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "the speech recogniser is not installed (Debian packages pocketsphinx and "
                    "pocketsphinx-en-us)");
        return FALSE;
    }
    return TRUE;
}

char *aigc_asr_transcribe(const char *wav_path, GCancellable *cancellable, GError **error)
{
    if (!aigc_asr_available(error))
        return NULL;
    if (!g_file_test(wav_path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO, "%s: no such file",
                    wav_path);
        return NULL;
    }
    g_autoptr(GSubprocess) proc = g_subprocess_new(
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, error,
        "pocketsphinx_continuous", "-infile", wav_path, "-logfn", "/dev/null", NULL);
    if (!proc)
        return NULL;
    g_autofree char *out = NULL;
    if (!g_subprocess_communicate_utf8(proc, NULL, cancellable, &out, NULL, error))
        return NULL;
    if (!g_subprocess_get_successful(proc)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FAILED,
                    "%s: the speech recogniser failed on this file", wav_path);
        return NULL;
    }
    /* one line per utterance it heard */
    g_strdelimit(out, "\r\n", ' ');
    return g_strstrip(g_steal_pointer(&out));
}

/* c[1 … k] of one frame: orthonormal DCT-II of the log-mel. */
static void cepstrum(const float *logmel, int n_mels, int k, const double *basis, double *c)
{
    for (int q = 1; q <= k; q++) {
        double s = 0;
        for (int m = 0; m < n_mels; m++)
            s += logmel[m] * basis[(q - 1) * n_mels + m];
        c[q - 1] = s;
    }
}

double aigc_mel_cepstral_distortion(const float *a, int n_a, const float *b, int n_b, int n_mels,
                                    int n_cep)
{
    g_return_val_if_fail(a && b && n_a > 0 && n_b > 0 && n_mels > 1, NAN);
    int k = CLAMP(n_cep, 1, n_mels - 1);
    g_autofree double *basis = g_new(double, (gsize)k * n_mels);
    for (int q = 1; q <= k; q++)
        for (int m = 0; m < n_mels; m++)
            basis[(q - 1) * n_mels + m] = sqrt(2.0 / n_mels) * cos(G_PI * q * (m + 0.5) / n_mels);
    g_autofree double *ca = g_new(double, (gsize)n_a * k), *cb = g_new(double, (gsize)n_b * k);
    for (int i = 0; i < n_a; i++)
        cepstrum(a + (gsize)i * n_mels, n_mels, k, basis, ca + (gsize)i * k);
    for (int j = 0; j < n_b; j++)
        cepstrum(b + (gsize)j * n_mels, n_mels, k, basis, cb + (gsize)j * k);
    /* DTW: D[i][j] = d(i, j) + min(D[i−1][j], D[i][j−1], D[i−1][j−1]); path length alongside */
    g_autofree double *D = g_new(double, (gsize)n_a * n_b);
    g_autofree int *L = g_new(int, (gsize)n_a * n_b);
    for (int i = 0; i < n_a; i++)
        for (int j = 0; j < n_b; j++) {
            double d = 0;
            for (int q = 0; q < k; q++) {
                double e = ca[(gsize)i * k + q] - cb[(gsize)j * k + q];
                d += e * e;
            }
            d = sqrt(d);
            double best = 0;
            int len = 0;
            if (i > 0 || j > 0) {
                best = INFINITY;
                if (i > 0 && D[(gsize)(i - 1) * n_b + j] < best) {
                    best = D[(gsize)(i - 1) * n_b + j];
                    len = L[(gsize)(i - 1) * n_b + j];
                }
                if (j > 0 && D[(gsize)i * n_b + j - 1] < best) {
                    best = D[(gsize)i * n_b + j - 1];
                    len = L[(gsize)i * n_b + j - 1];
                }
                if (i > 0 && j > 0 && D[(gsize)(i - 1) * n_b + j - 1] <= best) {
                    best = D[(gsize)(i - 1) * n_b + j - 1];
                    len = L[(gsize)(i - 1) * n_b + j - 1];
                }
            }
            D[(gsize)i * n_b + j] = best + d;
            L[(gsize)i * n_b + j] = len + 1;
        }
    double mean = D[(gsize)n_a * n_b - 1] / L[(gsize)n_a * n_b - 1];
    return 10.0 / G_LN10 * G_SQRT2 * mean;
}
