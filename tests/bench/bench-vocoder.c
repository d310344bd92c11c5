/* SPDX-License-Identifier: MIT
 *
 * Real-time factors of the vocoders (issue: Speak, speed): compute time ÷ audio time for MelGAN
 * (the default generator, 256 channels), WaveNet (the default 16 layers, 64 residual, 128 gate,
 * 128 skip channels; one sample at a time with cached queues) and Griffin-Lim (32 iterations),
 * each turning the log-mel of a synthetic voiced signal into audio through the common vocoder
 * interface. Speed does not depend on the weights' values, so freshly initialised models serve.
 *
 * Each figure is the median of a few runs of wall-clock time, which is what a user waits for; the
 * CPU time the process used is printed beside it, because on a shared machine the wall clock also
 * counts time spent waiting for a core (the load average is printed too). Targets: MelGAN ≤ 0.1,
 * WaveNet ≤ 1.0. Last line: the three real-time factors.
 */
#include "bench-common.h"

#include "aigc-engine.h"
#include "models/melgan/aigc-melgan.h"
#include "models/wavenet/aigc-wavenet.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <stdio.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
           u.ru_stime.tv_usec / 1e6;
}

/* Log-mel frames [*F, 80] of `seconds` of a gliding harmonic tone. */
static float *test_mel(double seconds, gint64 *F)
{
    AigcSpeechFeatures f = aigc_speech_features_default();
    g_autoptr(AigcMelAnalyzer) an = aigc_mel_analyzer_new(&f, NULL);
    gint64 n = (gint64)(seconds * f.sample_rate);
    g_autofree float *x = g_new(float, n);
    double phase = 0;
    for (gint64 i = 0; i < n; i++) {
        double t = (double)i / f.sample_rate;
        phase += 2 * G_PI * 120 * (1 + 0.5 * sin(t)) / f.sample_rate;
        x[i] = (float)(0.3 * sin(phase) + 0.1 * sin(2 * phase) + 0.05 * sin(5 * phase));
    }
    /* frames covering exactly n samples: F·hop = n */
    *F = n / f.hop_length;
    g_autofree float *all = g_new(float, aigc_mel_analyzer_get_n_frames(an, n) * 80);
    aigc_mel_analyzer_run(an, x, n, all, NULL);
    return g_memdup2(all, sizeof(float) * (gsize)(*F * 80));
}

typedef struct {
    double rtf, cpu_rtf;
} Rtf;

static Rtf measure(AigcVocoder *v, const float *mel, gint64 F, int reps, const char *name)
{
    double *wall = g_new(double, reps), *cpu = g_new(double, reps);
    const double audio_s = (double)F * 256 / 16000;
    for (int r = 0; r < reps; r++) {
        gint64 n = 0;
        double c0 = cpu_seconds();
        gint64 t0 = g_get_monotonic_time();
        g_autofree float *y = aigc_vocoder_synthesize(v, mel, F, NULL, &n, NULL);
        wall[r] = (g_get_monotonic_time() - t0) / 1e6 / audio_s;
        cpu[r] = (cpu_seconds() - c0) / audio_s;
        g_assert(y && n == F * 256);
    }
    Rtf out = {bench_median(wall, reps), bench_median(cpu, reps)};
    printf("%s_audio_seconds: %.2f\n%s_rtf: %.4f\n%s_cpu_seconds_per_audio_second: %.4f\n", name,
           audio_s, name, out.rtf, name, out.cpu_rtf);
    fflush(stdout);
    g_free(wall);
    g_free(cpu);
    return out;
}

static AigcVocoder *vocoder_from_writer(AigcSafetensorsWriter *w)
{
    g_autofree char *path =
        g_build_filename(g_get_tmp_dir(), "aigc-bench-vocoder.safetensors", NULL);
    GError *error = NULL;
    if (!aigc_safetensors_writer_write(w, path, NULL, NULL, &error))
        g_error("%s", error->message);
    AigcVocoder *v = aigc_vocoder_load(path, &error);
    if (!v)
        g_error("%s", error->message);
    g_remove(path);
    return v;
}

int main(int argc, char **argv)
{
    aigc_threads_init(0);
    AigcSpeechFeatures f = aigc_speech_features_default();
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    double load[1] = {0};
    if (getloadavg(load, 1) == 1)
        printf("load_average: %.2f (%d cores)\n", load[0], aigc_threads_get());

    /* MelGAN: 10 s of audio, 3 runs */
    AigcMelganConfig mc = aigc_melgan_default_config();
    g_autoptr(AigcMelgan) m = aigc_melgan_new(&mc, &f);
    aigc_melgan_init_weights(m, &rng);
    g_autoptr(AigcSafetensorsWriter) mw = aigc_safetensors_writer_new();
    aigc_melgan_save(m, mw, AIGC_DTYPE_F32, NULL);
    g_autoptr(AigcVocoder) melgan = vocoder_from_writer(mw);
    gint64 F;
    g_autofree float *mel10 = test_mel(10.0, &F);
    measure(melgan, mel10, MIN(F, 20), 1, "melgan_warmup");
    Rtf rm = measure(melgan, mel10, F, 3, "melgan");

    /* Griffin-Lim: 10 s, 3 runs */
    g_autoptr(AigcVocoder) gl = aigc_vocoder_new_griffin_lim(&f, NULL);
    Rtf rg = measure(gl, mel10, F, 3, "griffin_lim");

    /* WaveNet: 2 s, 3 runs */
    AigcWavenetConfig wc = aigc_wavenet_default_config();
    g_autoptr(AigcWavenet) w = aigc_wavenet_new(&wc, &f);
    aigc_wavenet_init_weights(w, &rng);
    g_autoptr(AigcSafetensorsWriter) ww = aigc_safetensors_writer_new();
    aigc_wavenet_save(w, ww, AIGC_DTYPE_F32, NULL);
    g_autoptr(AigcVocoder) wavenet = vocoder_from_writer(ww);
    g_autofree float *mel2 = test_mel(2.0, &F);
    printf("wavenet_receptive_field: %d samples\n", aigc_wavenet_config_get_receptive_field(&wc));
    Rtf rw = measure(wavenet, mel2, F, 3, "wavenet");

    printf("rtf: melgan %.4f (target <= 0.1), wavenet %.3f (target <= 1.0), griffin_lim %.4f\n",
           rm.rtf, rw.rtf, rg.rtf);
    return 0;
}
