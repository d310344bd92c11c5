/* SPDX-License-Identifier: MIT
 *
 * The speech signal chain on 10 s of audio at 22,050 Hz (n_fft 1024, hop 256, 80 mels): magnitude
 * STFT, log-mel spectrogram, iSTFT, one Griffin-Lim iteration, resampling to 16 kHz (best
 * quality) and phonemising 1,000 characters. The STFT is compared with torch.stft on one thread
 * in the same run (torch_stft.py); the last line is that ratio (torch time / ours).
 */
#include "bench-common.h"

#include "dsp/aigc-griffin-lim.h"
#include "dsp/aigc-phonemes.h"
#include "dsp/aigc-resample.h"
#include "tensor/aigc-rng.h"

#include <stdio.h>

#define REPS 30

typedef void (*Work)(gpointer data);

static double time_ms(Work work, gpointer data, int reps)
{
    double ms[REPS];
    for (int r = -3; r < reps; r++) {
        const gint64 t0 = g_get_monotonic_time();
        work(data);
        if (r >= 0)
            ms[r] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    return bench_median(ms, reps);
}

typedef struct {
    AigcStft *stft;
    AigcMelFilterbank *fb;
    float *x;    /* [n] */
    gint64 n, T;
    float *mag;  /* [T, 513] */
    float *spec; /* [T, 513, 2] */
    float *mel;  /* [T, 80] */
    float *y;    /* [n] */
} Chain;

static void run_stft(gpointer data)
{
    Chain *c = data;
    aigc_stft_magnitude(c->stft, c->x, c->n, 1.0f, c->mag);
}

static void run_log_mel(gpointer data)
{
    Chain *c = data;
    aigc_mel_log_spectrogram(c->stft, c->fb, c->x, c->n, AIGC_MEL_DEFAULT_FLOOR, c->mel, NULL);
}

static void run_istft(gpointer data)
{
    Chain *c = data;
    aigc_stft_inverse(c->stft, c->spec, c->T, c->y, c->n);
}

static void run_griffin_lim_1(gpointer data)
{
    Chain *c = data;
    AigcGriffinLimParams p = aigc_griffin_lim_default_params();
    p.n_iter = 1;
    aigc_griffin_lim(c->stft, c->mag, c->T, c->y, aigc_stft_get_n_samples(c->stft, c->T), &p,
                     NULL);
}

static void run_resample(gpointer data)
{
    Chain *c = data;
    gint64 n_out;
    g_free(aigc_resample(c->x, c->n, 22050, 16000, AIGC_RESAMPLE_BEST, &n_out, NULL));
}

static void run_phonemes(gpointer data)
{
    g_free(aigc_phonemes_from_text(data, -1, NULL, NULL));
}

int main(void)
{
    Chain c = {0};
    c.n = 10 * 22050;
    c.x = g_new(float, c.n);
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    aigc_rng_fill_normal(&rng, c.x, c.n, 0.0f, 0.3f);
    AigcStftParams sp = aigc_stft_default_params();
    c.stft = aigc_stft_new(&sp, NULL);
    AigcMelParams mp = aigc_mel_default_params();
    c.fb = aigc_mel_filterbank_new(&mp, NULL);
    c.T = aigc_stft_get_n_frames(c.stft, c.n);
    c.mag = g_new(float, c.T * 513);
    c.spec = g_new(float, c.T * 513 * 2);
    c.mel = g_new(float, c.T * 80);
    c.y = g_new(float, c.n);
    aigc_stft_forward(c.stft, c.x, c.n, c.spec);

    GString *text = g_string_new(NULL);
    while (text->len < 1000)
        g_string_append(text, "On the 3rd of May, Dr. Smith paid $5.50 for 12 apples. ");
    aigc_phonemes_init(NULL);

    const double stft_ms = time_ms(run_stft, &c, REPS);
    printf("stft_10s_ms: %.3f\n", stft_ms);
    printf("log_mel_10s_ms: %.3f\n", time_ms(run_log_mel, &c, REPS));
    printf("istft_10s_ms: %.3f\n", time_ms(run_istft, &c, REPS));
    printf("griffin_lim_iteration_10s_ms: %.3f\n", time_ms(run_griffin_lim_1, &c, 10));
    printf("resample_best_10s_to_16k_ms: %.3f\n", time_ms(run_resample, &c, 5));
    printf("phonemes_1000_chars_ms: %.3f\n", time_ms(run_phonemes, text->str, 10));
    const double torch_ms = bench_run_torch_peer("torch_stft.py", NULL, "torch_stft_ms");
    if (torch_ms > 0)
        printf("stft_speedup_vs_torch: %.2f\n", torch_ms / stft_ms);
    else
        printf("stft_speedup_vs_torch: n/a (PyTorch peer unavailable)\n");
    g_string_free(text, TRUE);
    g_free(c.x);
    g_free(c.mag);
    g_free(c.spec);
    g_free(c.mel);
    g_free(c.y);
    aigc_stft_free(c.stft);
    aigc_mel_filterbank_free(c.fb);
    return 0;
}
