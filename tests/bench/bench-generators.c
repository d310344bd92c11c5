/* SPDX-License-Identifier: MIT
 *
 * Generation throughput of the Paint workshop's Fashion-MNIST generators (issue 6, item 7)
 * against the same networks in PyTorch (tests/bench/torch_generators.py) in the same run, batch
 * 64, images per second from the median of timed batches after warm-up:
 *   - dcgan:           the class-conditional DCGAN generator (engine/models/dcgan, default
 *                      config: nz 100, ngf 64, 10 classes, 28×28×1), eval-mode batch norms,
 *                      through aigc_dcgan_sample;
 *   - vae_decode:      the VAE's decoder (engine/models/vae, default config: ch 32, hidden 512,
 *                      latent 16, 10 classes) through aigc_vae_decode_images;
 *   - vae_reconstruct: encode a batch to its posterior means, then decode them
 *                      (aigc_vae_encode_images + aigc_vae_decode_images, the Paint "Reconstruct").
 * Classes are one-hot rows, image b of class b mod 10. Prints each figure, the peer's and their
 * ratio and, last, the smallest ratio (`generate_ratio`).
 * Usage: bench-generators [DCGAN_RUNS [VAE_RUNS]]
 */
#include "bench-common.h"

#include "models/dcgan/aigc-dcgan.h"
#include "models/vae/aigc-vae.h"
#include "tensor/aigc-threads.h"

#include <stdio.h>
#include <stdlib.h>

enum { N = 64, WARMUP = 5 };

/* Images per second of one batch of N from its median time in ms. */
static double images_per_s(double *ms, int n_runs)
{
    return N / (bench_median(ms, n_runs) / 1000.0);
}

/* Elements of the tensors of `params` whose names start with `prefix` (the set's own count is
 * padded for alignment). */
static gint64 count_params(AigcParams *params, const char *prefix)
{
    gint64 n = 0;
    for (guint i = 0; i < aigc_params_get_n(params); i++) {
        AigcTensor *t = aigc_params_get(params, i);
        if (g_str_has_prefix(t->name, prefix))
            n += t->n_elements;
    }
    return n;
}

static void one_hot_rows(float *mix, int K)
{
    for (int b = 0; b < N; b++)
        for (int k = 0; k < K; k++)
            mix[b * K + k] = k == b % K ? 1.0f : 0.0f;
}

static double bench_dcgan(int n_runs)
{
    AigcDcganConfig config = aigc_dcgan_default_config();
    g_autoptr(AigcDcgan) model = aigc_dcgan_new(&config);
    AigcRng rng;
    aigc_rng_init(&rng, 0);
    aigc_dcgan_init_weights(model, &rng); /* running statistics 0 and 1: eval mode is defined */
    const gint64 P = (gint64)config.channels * config.image_size * config.image_size;
    g_autofree float *z = g_new(float, N *config.nz);          /* (N, nz) */
    g_autofree float *mix = g_new(float, N *config.n_classes); /* (N, K) */
    g_autofree float *out = g_new(float, N *P);                /* (N, 1, 28, 28) */
    aigc_rng_fill_normal(&rng, z, N * config.nz, 0.0f, 1.0f);
    one_hot_rows(mix, config.n_classes);
    g_autofree double *ms = g_new(double, n_runs);
    for (int r = -WARMUP; r < n_runs; r++) {
        gint64 t0 = g_get_monotonic_time();
        if (!aigc_dcgan_sample(model, z, mix, N, out, NULL, NULL))
            g_error("DCGAN sampling failed");
        if (r >= 0)
            ms[r] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    printf("dcgan_generator_params: %" G_GINT64_FORMAT "\n",
           count_params(aigc_dcgan_get_generator(model), ""));
    printf("dcgan_ms_per_batch: %.2f\n", bench_median(ms, n_runs));
    return images_per_s(ms, n_runs);
}

static void bench_vae(int n_runs, double *decode, double *reconstruct)
{
    AigcVaeConfig config = aigc_vae_default_config();
    g_autoptr(AigcVae) model = aigc_vae_new(&config);
    AigcRng rng;
    aigc_rng_init(&rng, 0);
    aigc_vae_init_weights(model, &rng);
    const gint64 P = (gint64)config.channels * config.image_size * config.image_size;
    g_autofree float *z = g_new(float, N *config.latent);      /* (N, L) */
    g_autofree float *mu = g_new(float, N *config.latent);     /* (N, L) */
    g_autofree float *logvar = g_new(float, N *config.latent); /* (N, L) */
    g_autofree float *mix = g_new(float, N *config.n_classes); /* (N, K) */
    g_autofree float *images = g_new(float, N *P);             /* (N, 1, 28, 28) in [0, 1] */
    g_autofree float *out = g_new(float, N *P);
    aigc_rng_fill_normal(&rng, z, N * config.latent, 0.0f, 1.0f);
    aigc_rng_fill_uniform(&rng, images, N * P, 0.0f, 1.0f);
    one_hot_rows(mix, config.n_classes);
    AigcParams *params = aigc_vae_get_params(model);
    printf("vae_params: encoder %" G_GINT64_FORMAT ", decoder %" G_GINT64_FORMAT
           ", prior %" G_GINT64_FORMAT "\n",
           count_params(params, "encoder."), count_params(params, "decoder."),
           count_params(params, "prior."));

    g_autofree double *ms = g_new(double, n_runs);
    for (int r = -WARMUP; r < n_runs; r++) {
        gint64 t0 = g_get_monotonic_time();
        if (!aigc_vae_decode_images(model, z, mix, N, out, NULL, NULL))
            g_error("VAE decoding failed");
        if (r >= 0)
            ms[r] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    printf("vae_decode_ms_per_batch: %.3f\n", bench_median(ms, n_runs));
    *decode = images_per_s(ms, n_runs);

    for (int r = -WARMUP; r < n_runs; r++) {
        gint64 t0 = g_get_monotonic_time();
        if (!aigc_vae_encode_images(model, images, mix, N, mu, logvar, NULL, NULL) ||
            !aigc_vae_decode_images(model, mu, mix, N, out, NULL, NULL))
            g_error("VAE reconstruction failed");
        if (r >= 0)
            ms[r] = (g_get_monotonic_time() - t0) / 1000.0;
    }
    printf("vae_reconstruct_ms_per_batch: %.3f\n", bench_median(ms, n_runs));
    *reconstruct = images_per_s(ms, n_runs);
}

/* Runs the peer for `model` and prints its figure and the ratio ours / peer; returns the ratio
 * or -1 when the peer did not run. */
static double compare(const char *model, const char *name, double ours, int n_runs)
{
    g_autofree char *runs_arg = g_strdup_printf("%d", n_runs);
    const char *args[] = {"--model", model, "--runs", runs_arg, NULL};
    g_autofree char *key = g_strdup_printf("torch_%s_images_per_s", name);
    double theirs = bench_run_torch_peer("torch_generators.py", args, key);
    if (theirs <= 0) {
        printf("%s_ratio: n/a (PyTorch peer unavailable)\n", name);
        return -1;
    }
    double ratio = ours / theirs;
    printf("%s_ratio: %.2f\n", name, ratio);
    fflush(stdout);
    return ratio;
}

int main(int argc, char **argv)
{
    int n_dcgan = argc > 1 ? atoi(argv[1]) : 20;
    int n_vae = argc > 2 ? atoi(argv[2]) : 100;
    n_dcgan = MAX(n_dcgan, 1);
    n_vae = MAX(n_vae, 1);
    aigc_threads_init(0);
    printf("threads: %d\nbatch: %d\n", aigc_threads_get(), N);

    double dcgan = bench_dcgan(n_dcgan);
    printf("dcgan_images_per_s: %.0f\n", dcgan);
    fflush(stdout);
    double vae_decode, vae_reconstruct;
    bench_vae(n_vae, &vae_decode, &vae_reconstruct);
    printf("vae_decode_images_per_s: %.0f\n", vae_decode);
    printf("vae_reconstruct_images_per_s: %.0f\n", vae_reconstruct);
    fflush(stdout);
    if (g_getenv("AIGC_BENCH_NO_PEER")) {
        printf("generate_ratio: n/a (peer disabled)\n");
        return 0;
    }

    double ratios[] = {
        compare("dcgan", "dcgan", dcgan, n_dcgan),
        compare("vae-decode", "vae_decode", vae_decode, n_vae),
        compare("vae-reconstruct", "vae_reconstruct", vae_reconstruct, n_vae),
    };
    double smallest = -1;
    for (guint i = 0; i < G_N_ELEMENTS(ratios); i++) {
        if (ratios[i] < 0) {
            printf("generate_ratio: n/a (PyTorch peer unavailable)\n");
            return 0;
        }
        smallest = smallest < 0 ? ratios[i] : MIN(smallest, ratios[i]);
    }
    printf("generate_ratio: %.2f (the smallest of dcgan, vae_decode, vae_reconstruct)\n", smallest);
    return 0;
}
