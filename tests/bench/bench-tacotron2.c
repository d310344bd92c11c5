/* SPDX-License-Identifier: MIT
 *
 * Tacotron 2 speed: one training step (forward, backward, Adam) on a batch shaped like the
 * teacher corpus (16 utterances of ≈ 70 symbols and ≈ 280 frames, 4.5 s each), and the
 * real-time factor of inference (compute time ÷ audio time at 62.5 frames/s) on a 100-symbol
 * input decoded to its length cap. Arguments KEY=VALUE change the model config (e.g. r=2,
 * decoder_rnn_dim=1024) or the batch (batch=8, frames=400). Prints the step time, then the
 * real-time factor last (target ≤ 0.1).
 */
#include "bench-common.h"

#include "models/tacotron2/aigc-tacotron2.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    aigc_threads_init(0);
    g_autoptr(AigcPhonemeVocab) vocab = aigc_phoneme_vocab_new_default();
    AigcTacotron2Config c = aigc_tacotron2_default_config();
    c.n_symbols = aigc_phoneme_vocab_get_size(vocab);
    int B = 16, frames = 280, symbols = 70, n_steps = 3;
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            continue;
        *eq = '\0';
        if (!strcmp(argv[i], "batch"))
            B = atoi(eq + 1);
        else if (!strcmp(argv[i], "frames"))
            frames = atoi(eq + 1);
        else if (!strcmp(argv[i], "symbols"))
            symbols = atoi(eq + 1);
        else if (!strcmp(argv[i], "steps"))
            n_steps = atoi(eq + 1);
        else if (!aigc_tacotron2_config_set(&c, argv[i], eq + 1, NULL))
            g_error("bad setting %s", argv[i]);
    }
    AigcSpeechFeatures f = aigc_speech_features_default();
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTacotron2) m = aigc_tacotron2_new(&c, &f, vocab, &error);
    g_assert_no_error(error);
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    aigc_tacotron2_init_weights(m, &rng);
    AigcParams *params = aigc_tacotron2_get_params(m);
    printf("threads %d, parameters %.2f M, r %d, batch %d × %d frames × %d symbols\n",
           aigc_threads_get(), aigc_params_get_n_elements(params) / 1e6, c.r, B, frames, symbols);

    /* A batch of lengths spread ±10 % around the means, as length buckets give. */
    const int r = c.r, M = c.n_mels;
    int f_max = ((int)(frames * 1.1) + r - 1) / r * r, n_max = (int)(symbols * 1.1) + 1;
    g_autofree gint32 *ids = g_new0(gint32, (gsize)B * n_max);
    g_autofree gint32 *n_ids = g_new(gint32, B), *n_frames = g_new(gint32, B);
    g_autofree float *mels = g_new(float, (gsize)B *f_max *M);
    aigc_rng_fill_uniform(&rng, mels, (gint64)B * f_max * M, -10.0f, 0.0f);
    for (int b = 0; b < B; b++) {
        n_frames[b] = MIN(f_max, (int)(frames * (0.9 + 0.2 * b / MAX(B - 1, 1))));
        n_ids[b] = MIN(n_max, (int)(symbols * (0.9 + 0.2 * b / MAX(B - 1, 1))));
        for (int j = 0; j < n_ids[b]; j++)
            ids[b * n_max + j] = 4 + (gint32)aigc_rng_below(&rng, (guint32)c.n_symbols - 4);
    }
    AigcTacotron2Batch batch = {B, n_max, f_max, ids, n_ids, mels, n_frames};
    AigcTacotron2LossParams lp = aigc_tacotron2_default_loss_params();
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, params);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    double *ms = g_new(double, n_steps), *fwd_ms = g_new(double, n_steps);
    double *cpu_ms = g_new(double, n_steps);
    for (int s = -1; s < n_steps; s++) {
        struct timespec c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        gint64 t0 = g_get_monotonic_time();
        aigc_ctx_reset(ctx);
        aigc_params_zero_grad(params);
        AigcTacotron2Output out;
        aigc_tacotron2_forward(ctx, m, &batch, &lp, &out);
        gint64 t1 = g_get_monotonic_time();
        aigc_ctx_backward(ctx, out.loss);
        aigc_clip_grad_norm(params, 1.0);
        aigc_optimizer_step(opt, 1e-4f);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        if (s >= 0) {
            cpu_ms[s] = (c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6;
            ms[s] = (g_get_monotonic_time() - t0) / 1e3;
            fwd_ms[s] = (t1 - t0) / 1e3;
        }
    }
    double step = bench_median(ms, n_steps), fwd = bench_median(fwd_ms, n_steps);
    printf("training step: %.0f ms (forward %.0f ms), %.1f utterances/s, CPU time %.0f ms, "
           "arena peak %.0f MB\n",
           step, fwd, B / (step / 1e3), bench_median(cpu_ms, n_steps),
           aigc_arena_get_peak(aigc_ctx_get_arena(ctx)) / 1048576.0);

    /* Inference to the cap (an untrained model never stops by itself). */
    AigcTensor *gate_b = aigc_params_find(params, "decoder.gate_layer.bias");
    gate_b->data[0] = -100.0f;
    AigcTacotron2SynthParams sp = aigc_tacotron2_default_synth_params();
    sp.end_steps = 0;
    sp.max_frames_per_symbol = 4.0f; /* ≈ 400 frames, 6.4 s */
    g_autofree gint32 *in = g_new(gint32, 100);
    for (int j = 0; j < 100; j++)
        in[j] = 4 + (gint32)aigc_rng_below(&rng, (guint32)c.n_symbols - 4);
    double rtf_runs[3], cpu_runs[3];
    gint64 n_out = 0;
    for (int k = 0; k < 3; k++) {
        struct timespec c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        g_autoptr(AigcTacotron2Synthesis) syn =
            aigc_tacotron2_synthesize_ids(m, in, 100, &sp, NULL, &error);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        g_assert_no_error(error);
        n_out = syn->n_frames;
        double audio = syn->n_frames / ((double)f.sample_rate / f.hop_length);
        rtf_runs[k] = syn->seconds / audio * 1e3; /* bench_median sorts "ms" */
        cpu_runs[k] = ((c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9) / audio * 1e3;
    }
    double rtf = bench_median(rtf_runs, 3) / 1e3;
    printf("inference: %" G_GINT64_FORMAT " frames (%.1f s of audio), CPU time ÷ audio time "
           "%.4f (the real-time factor on an idle machine)\n",
           n_out, n_out / ((double)f.sample_rate / f.hop_length), bench_median(cpu_runs, 3) / 1e3);
    printf("real-time factor: %.4f\n", rtf);
    return 0;
}
