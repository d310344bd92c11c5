/* SPDX-License-Identifier: MIT
 *
 * The vocoder interface and vocoder training: Griffin-Lim, MelGAN and WaveNet behind one call
 * (lengths, progress and cancel, bad input, bad and foreign files); the registry knows the
 * families; the training corpus reads a folder, caches its log-mels and cuts aligned segments,
 * and refuses bad audio naming the file; the training job gives the same model for the same seed,
 * resumes after a stop to exactly the weights of an uninterrupted run, writes audio samples and a
 * CSV log, and its output loads as a vocoder.
 */
#include "aigc-test-support.h"
#include "io/aigc-audio-file.h"
#include "models/melgan/aigc-melgan.h"
#include "models/vocoder/aigc-vocoder-data.h"
#include "models/vocoder/aigc-vocoder-train.h"
#include "models/vocoder/aigc-vocoder.h"
#include "models/wavenet/aigc-wavenet.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *dir;    /* scratch */
static char *corpus; /* a small corpus: train.txt + train/ID.wav (22.05 kHz), test/ */

/* A voiced-speech-like test signal: a gliding harmonic tone with a slow amplitude envelope. */
static float *make_signal(int rate, double seconds, double f0, gint64 *n)
{
    *n = (gint64)(seconds * rate);
    float *x = g_new(float, *n);
    double phase = 0;
    for (gint64 i = 0; i < *n; i++) {
        double t = (double)i / rate, f = f0 * (1 + 0.3 * t);
        phase += 2 * G_PI * f / rate;
        double env = 0.5 + 0.4 * sin(2 * G_PI * 1.5 * t);
        x[i] = (float)(env * (0.3 * sin(phase) + 0.15 * sin(2 * phase) + 0.05 * sin(3 * phase)));
    }
    return x;
}

static void write_wav(const char *path, int rate, double seconds, double f0)
{
    gint64 n;
    g_autofree float *x = make_signal(rate, seconds, f0, &n);
    GError *error = NULL;
    g_assert_true(aigc_audio_file_write_wav(path, x, n, rate, NULL, &error));
    g_assert_no_error(error);
}

static void make_corpus(void)
{
    corpus = g_build_filename(dir, "corpus", NULL);
    g_autofree char *train = g_build_filename(corpus, "train", NULL);
    g_autofree char *test = g_build_filename(corpus, "test", NULL);
    g_mkdir_with_parents(train, 0755);
    g_mkdir_with_parents(test, 0755);
    GString *list = g_string_new(NULL);
    for (int i = 0; i < 3; i++) {
        g_autofree char *name = g_strdup_printf("%05d.wav", i);
        g_autofree char *path = g_build_filename(train, name, NULL);
        write_wav(path, 22050, 0.6 + 0.2 * i, 110 + 40 * i);
        g_string_append_printf(list, "%05d|sentence number %d\n", i, i);
    }
    g_autofree char *lp = g_build_filename(corpus, "train.txt", NULL);
    g_assert_true(g_file_set_contents(lp, list->str, -1, NULL));
    g_string_free(list, TRUE);
    g_autofree char *tp = g_build_filename(test, "00000.wav", NULL);
    write_wav(tp, 16000, 0.5, 150);
    g_autofree char *tl = g_build_filename(corpus, "test.txt", NULL);
    g_assert_true(g_file_set_contents(tl, "00000|a test\n", -1, NULL));
}

/* ---- the interface ---- */

static float *signal_mel(gint64 *F)
{
    AigcSpeechFeatures f = aigc_speech_features_default();
    g_autoptr(AigcMelAnalyzer) an = aigc_mel_analyzer_new(&f, NULL);
    gint64 n;
    g_autofree float *x = make_signal(16000, 0.5, 140, &n);
    *F = aigc_mel_analyzer_get_n_frames(an, n);
    float *mel = g_new(float, *F * 80);
    g_assert_true(aigc_mel_analyzer_run(an, x, n, mel, NULL));
    return mel;
}

/* Correlation and mean absolute difference between the log-mel `mel` [F, 80] and that of y [n],
 * over the bins above −6 (the rest are near the floor and carry no signal). */
static void log_mel_agreement(const float *mel, gint64 F, const float *y, gint64 n, double *r,
                              double *mean_abs)
{
    AigcSpeechFeatures f = aigc_speech_features_default();
    g_autoptr(AigcMelAnalyzer) an = aigc_mel_analyzer_new(&f, NULL);
    g_autofree float *back = g_new(float, (aigc_mel_analyzer_get_n_frames(an, n)) * 80);
    g_assert_true(aigc_mel_analyzer_run(an, y, n, back, NULL));
    double err = 0, count = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (gint64 fr = 1; fr + 1 < F; fr++)
        for (int k = 0; k < 80; k++) {
            double want = mel[fr * 80 + k], got = back[fr * 80 + k];
            if (want < -6)
                continue;
            err += fabs(got - want);
            count++;
            sa += want;
            sb += got;
            saa += want * want;
            sbb += got * got;
            sab += want * got;
        }
    g_assert_cmpfloat(count, >, 300);
    *r = (sab - sa * sb / count) / sqrt((saa - sa * sa / count) * (sbb - sb * sb / count));
    *mean_abs = err / count;
}

static int n_progress;

static gboolean count_progress(double fraction, gpointer data)
{
    n_progress++;
    g_assert_true(fraction >= 0 && fraction <= 1);
    return TRUE;
}

static gboolean stop_early(double fraction, gpointer data)
{
    return fraction < 0.2;
}

static void test_griffin_lim(void)
{
    GError *error = NULL;
    g_autoptr(AigcVocoder) v = aigc_vocoder_load("griffin-lim", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_vocoder_get_family(v), ==, "griffin-lim");
    g_assert_cmpint(aigc_vocoder_get_features(v)->sample_rate, ==, 16000);
    gint64 F, n = 0;
    g_autofree float *mel = signal_mel(&F);
    AigcVocoderParams p = aigc_vocoder_default_params();
    p.progress = count_progress;
    n_progress = 0;
    g_autofree float *y = aigc_vocoder_synthesize(v, mel, F, &p, &n, &error);
    g_assert_no_error(error);
    g_assert_cmpint(n, ==, F * 256);
    g_assert_cmpint(n_progress, ==, p.griffin_lim_iters);
    /* the reconstruction has the spectrum it was asked for (log-mels of the result against the
     * input), and the iterations matter: random phases alone (0 iterations) are worse */
    double r32, e32, r0, e0;
    log_mel_agreement(mel, F, y, n, &r32, &e32);
    AigcVocoderParams p0 = aigc_vocoder_default_params();
    p0.griffin_lim_iters = 0;
    g_autofree float *y0 = aigc_vocoder_synthesize(v, mel, F, &p0, &n, &error);
    g_assert_no_error(error);
    log_mel_agreement(mel, F, y0, n, &r0, &e0);
    g_test_message("32 iterations: correlation %.4f, mean |Δ| %.3f; none: %.4f, %.3f", r32, e32, r0,
                   e0);
    g_assert_cmpfloat(r32, >, 0.9);
    g_assert_cmpfloat(e32, <, 0.7);
    g_assert_cmpfloat(e32, <, 0.8 * e0);
    /* stopping */
    p.progress = stop_early;
    g_assert_null(aigc_vocoder_synthesize(v, mel, F, &p, &n, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
    g_clear_error(&error);
}

static char *save_tiny_melgan(void)
{
    AigcMelganConfig c = aigc_melgan_default_config();
    c.channels = 16;
    c.n_res = 1;
    AigcSpeechFeatures f = aigc_speech_features_default();
    g_autoptr(AigcMelgan) m = aigc_melgan_new(&c, &f);
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    aigc_melgan_init_weights(m, &rng);
    char *path = g_build_filename(dir, "tiny-melgan.safetensors", NULL);
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    g_assert_true(aigc_melgan_save(m, w, AIGC_DTYPE_F16, NULL));
    g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, NULL));
    return path;
}

static char *save_tiny_wavenet(void)
{
    AigcWavenetConfig c = aigc_wavenet_default_config();
    c.residual_channels = 8;
    c.gate_channels = 16;
    c.skip_channels = 16;
    c.cond_channels = 8;
    c.n_layers = 4;
    AigcSpeechFeatures f = aigc_speech_features_default();
    g_autoptr(AigcWavenet) w = aigc_wavenet_new(&c, &f);
    AigcRng rng;
    aigc_rng_init(&rng, 2);
    aigc_wavenet_init_weights(w, &rng);
    char *path = g_build_filename(dir, "tiny-wavenet.safetensors", NULL);
    g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
    g_assert_true(aigc_wavenet_save(w, wr, AIGC_DTYPE_F32, NULL));
    g_assert_true(aigc_safetensors_writer_write(wr, path, NULL, NULL, NULL));
    return path;
}

static void test_interface(void)
{
    g_autofree char *mp = save_tiny_melgan();
    g_autofree char *wp = save_tiny_wavenet();
    const char *paths[] = {mp, wp};
    const char *families[] = {"melgan", "wavenet"};
    gint64 F;
    g_autofree float *mel = signal_mel(&F);
    F = MIN(F, 6);
    for (int i = 0; i < 2; i++) {
        GError *error = NULL;
        g_autoptr(AigcVocoder) v = aigc_vocoder_load(paths[i], &error);
        g_assert_no_error(error);
        g_assert_cmpstr(aigc_vocoder_get_family(v), ==, families[i]);
        AigcVocoderParams p = aigc_vocoder_default_params();
        p.progress = count_progress;
        n_progress = 0;
        gint64 n = 0;
        g_autofree float *y = aigc_vocoder_synthesize(v, mel, F, &p, &n, &error);
        g_assert_no_error(error);
        g_assert_cmpint(n, ==, F * 256);
        g_assert_cmpint(n_progress, >=, 2);
        for (gint64 k = 0; k < n; k++)
            g_assert_true(isfinite(y[k]) && fabsf(y[k]) <= 1);
        p.progress = stop_early;
        g_assert_null(aigc_vocoder_synthesize(v, mel, F, &p, &n, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
        g_clear_error(&error);
        g_assert_null(aigc_vocoder_synthesize(v, mel, 0, NULL, &n, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
        g_clear_error(&error);
        float bad[80 * 2];
        memcpy(bad, mel, sizeof bad);
        bad[100] = NAN;
        g_assert_null(aigc_vocoder_synthesize(v, bad, 2, NULL, &n, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
        g_clear_error(&error);
    }
}

static void test_foreign_files(void)
{
    GError *error = NULL;
    /* a well-formed model file of another family */
    g_autofree char *other = g_build_filename(dir, "other.safetensors", NULL);
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        float x[2] = {1, 2};
        aigc_safetensors_writer_set_metadata(w, "family", "gpt");
        g_assert_true(
            aigc_safetensors_writer_add_f32(w, "x", AIGC_DTYPE_F32, 1, (gint64[]){2}, x, NULL));
        g_assert_true(aigc_safetensors_writer_write(w, other, NULL, NULL, NULL));
    }
    g_assert_null(aigc_vocoder_load(other, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "other.safetensors"));
    g_clear_error(&error);
    /* garbage */
    g_autofree char *junk = g_build_filename(dir, "junk.safetensors", NULL);
    g_assert_true(g_file_set_contents(junk, "\x10\0\0\0\0\0\0\0{not json at all", 24, NULL));
    g_assert_null(aigc_vocoder_load(junk, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    /* a name nobody has */
    g_assert_null(aigc_vocoder_load("no-such-vocoder", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND);
    g_clear_error(&error);
}

static void test_registry(void)
{
    const char *names[] = {"melgan", "wavenet"};
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        const AigcModelClass *k = aigc_registry_find(names[i]);
        g_assert_nonnull(k);
        g_assert_cmpint(k->modality, ==, AIGC_MODALITY_AUDIO);
    }
}

/* ---- the corpus ---- */

static void test_corpus(void)
{
    AigcSpeechFeatures f = aigc_speech_features_default();
    GError *error = NULL;
    g_autoptr(AigcVocoderCorpus) c = aigc_vocoder_corpus_load(corpus, "train", &f, 0, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_vocoder_corpus_get_n(c), ==, 3);
    g_assert_cmpfloat(fabs(aigc_vocoder_corpus_get_seconds(c) - (0.6 + 0.8 + 1.0)), <, 1e-3);
    g_assert_cmpstr(aigc_vocoder_corpus_get_id(c, 1), ==, "00001");
    /* resampled to 16 kHz, analysed with the shared features */
    gint64 n, F;
    const float *audio = aigc_vocoder_corpus_get_audio(c, 2, &n);
    const float *mel = aigc_vocoder_corpus_get_mel(c, 2, &F);
    g_assert_cmpint(n, ==, 16000);
    g_assert_cmpint(F, ==, n / 256 + 1);
    g_autoptr(AigcMelAnalyzer) an = aigc_mel_analyzer_new(&f, NULL);
    g_autofree float *want = g_new(float, F * 80);
    g_assert_true(aigc_mel_analyzer_run(an, audio, n, want, NULL));
    g_assert_cmpmem(mel, sizeof(float) * F * 80, want, sizeof(float) * F * 80);
    /* the cache exists; a second load reads it and gets the same numbers */
    g_autofree char *cache = g_build_filename(corpus, "train.mels.safetensors", NULL);
    g_assert_true(g_file_test(cache, G_FILE_TEST_EXISTS));
    g_autoptr(AigcVocoderCorpus) c2 =
        aigc_vocoder_corpus_load(corpus, "train", &f, 0, NULL, &error);
    g_assert_no_error(error);
    const float *mel2 = aigc_vocoder_corpus_get_mel(c2, 2, &F);
    g_assert_cmpmem(mel2, sizeof(float) * F * 80, want, sizeof(float) * F * 80);
    /* segments: the audio is a slice of an utterance at a frame boundary, the mel its frames */
    enum { B = 6, FR = 8, CTX = 2, T = FR * 256, FW = FR + 2 * CTX };
    g_assert_cmpint(aigc_vocoder_corpus_count_segments(c, FR), ==,
                    (37 - FR + 1) + (50 - FR + 1) + (62 - FR + 1));
    static float seg[B * T], segmel[B * 80 * FW], prev[B * 2];
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    g_assert_true(aigc_vocoder_corpus_sample(c, &rng, B, FR, CTX, seg, segmel, prev));
    for (int b = 0; b < B; b++) {
        int found_u = -1;
        gint64 found_k = -1;
        for (int u = 0; u < 3 && found_u < 0; u++) {
            const float *a = aigc_vocoder_corpus_get_audio(c, u, &n);
            for (gint64 k = 0; (k + FR) * 256 <= n; k++)
                if (!memcmp(a + k * 256, seg + b * T, sizeof(float) * T)) {
                    found_u = u;
                    found_k = k;
                    break;
                }
        }
        g_assert_cmpint(found_u, >=, 0);
        const float *a = aigc_vocoder_corpus_get_audio(c, found_u, &n);
        g_assert_cmpfloat(prev[2 * b], ==, found_k ? a[found_k * 256 - 2] : 0.0f);
        g_assert_cmpfloat(prev[2 * b + 1], ==, found_k ? a[found_k * 256 - 1] : 0.0f);
        const float *um = aigc_vocoder_corpus_get_mel(c, found_u, &F);
        for (int j = 0; j < FW; j++)
            for (int m = 0; m < 80; m++) {
                gint64 fr = found_k - CTX + j;
                float w = fr >= 0 && fr < F ? um[fr * 80 + m] : 0.0f;
                g_assert_cmpfloat(segmel[(b * 80 + m) * FW + j], ==, w);
            }
    }
    /* too long a segment for every utterance */
    g_assert_false(aigc_vocoder_corpus_sample(c, &rng, 1, 100, 0, seg, segmel, NULL));
}

static void test_corpus_bad(void)
{
    AigcSpeechFeatures f = aigc_speech_features_default();
    GError *error = NULL;
    g_autofree char *missing = g_build_filename(dir, "nowhere", NULL);
    g_assert_null(aigc_vocoder_corpus_load(missing, "train", &f, 0, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND);
    g_clear_error(&error);
    /* a corrupt WAV: the error names it */
    g_autofree char *bad = g_build_filename(dir, "bad", NULL);
    g_autofree char *sub = g_build_filename(bad, "train", NULL);
    g_mkdir_with_parents(sub, 0755);
    g_autofree char *good_wav = g_build_filename(sub, "a.wav", NULL);
    write_wav(good_wav, 16000, 0.3, 100);
    g_autofree char *bad_wav = g_build_filename(sub, "b.wav", NULL);
    g_assert_true(g_file_set_contents(bad_wav, "RIFF\x24\0\0\0WAVEjunkjunkjunk", 24, NULL));
    g_assert_null(aigc_vocoder_corpus_load(bad, "train", &f, 0, NULL, &error));
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "b.wav"));
    g_clear_error(&error);
    /* a list that points outside the folder */
    g_autofree char *list = g_build_filename(bad, "train.txt", NULL);
    g_assert_true(g_file_set_contents(list, "a|fine\n../../etc/passwd|no\n", -1, NULL));
    g_assert_null(aigc_vocoder_corpus_load(bad, "train", &f, 0, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_clear_error(&error);
    /* no test split is NOT_FOUND (training goes on without one) */
    g_assert_null(aigc_vocoder_corpus_load(bad, "test", &f, 0, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND);
    g_clear_error(&error);
}

/* ---- training ---- */

static AigcVocoderTrainParams *tiny_params(const char *family, const char *output, gint64 steps)
{
    AigcVocoderTrainParams *p = aigc_vocoder_train_params_new(family);
    p->data_dir = g_strdup(corpus);
    p->output = g_build_filename(dir, output, NULL);
    const char *common[][2] = {
        {"batch_size", "2"}, {"seed", "5"}, {"checkpoint_every", "2"}, {"sample_every", "3"}};
    const char *melgan[][2] = {{"channels", "16"},     {"n_res", "1"},
                               {"disc_channels", "4"}, {"disc_max_channels", "16"},
                               {"segment", "2048"},    {"disc_start", "2"}};
    const char *wavenet[][2] = {{"residual_channels", "8"},
                                {"gate_channels", "8"},
                                {"skip_channels", "8"},
                                {"cond_channels", "8"},
                                {"n_layers", "4"},
                                {"segment", "512"},
                                {"warmup", "1"}};
    for (guint i = 0; i < G_N_ELEMENTS(common); i++)
        g_assert_true(aigc_vocoder_train_params_set(p, common[i][0], common[i][1], NULL));
    gboolean is_melgan = !strcmp(family, "melgan");
    int n = is_melgan ? (int)G_N_ELEMENTS(melgan) : (int)G_N_ELEMENTS(wavenet);
    for (int i = 0; i < n; i++) {
        const char *const *kv = is_melgan ? melgan[i] : wavenet[i];
        GError *error = NULL;
        g_assert_true(aigc_vocoder_train_params_set(p, kv[0], kv[1], &error));
        g_assert_no_error(error);
    }
    p->steps = steps;
    return p;
}

static AigcJobState run(AigcVocoderTrainParams *p, AigcJobProgressFunc progress)
{
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    g_autoptr(AigcJob) job = aigc_vocoder_train_job_new(p);
    AigcJobCallbacks cb = {.progress = progress};
    aigc_job_set_callbacks(job, &cb);
    aigc_engine_submit(engine, job);
    return aigc_job_wait(job);
}

static GBytes *weights_of(const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, NULL);
    g_assert_nonnull(st);
    GByteArray *all = g_byte_array_new();
    for (gsize i = 0; i < aigc_safetensors_get_n_tensors(st); i++) {
        const AigcSafetensorsTensor *t = aigc_safetensors_get_tensor(st, i);
        g_byte_array_append(all, t->data, (guint)t->n_bytes);
    }
    return g_byte_array_free_to_bytes(all);
}

static void cancel_halfway(AigcJob *job, double fraction, const char *stage, gpointer data)
{
    if (fraction >= 0.5)
        aigc_job_cancel(job); /* as Ctrl-C after step 2 of 4 */
}

static void resume_equals_uninterrupted(const char *family)
{
    g_autofree char *full = g_strconcat(family, "-full.safetensors", NULL);
    g_autofree char *again = g_strconcat(family, "-again.safetensors", NULL);
    g_autofree char *split = g_strconcat(family, "-split.safetensors", NULL);
    g_assert_cmpint(run(tiny_params(family, full, 4), NULL), ==, AIGC_JOB_SUCCEEDED);
    g_assert_cmpint(run(tiny_params(family, again, 4), NULL), ==, AIGC_JOB_SUCCEEDED);
    g_assert_cmpint(run(tiny_params(family, split, 4), cancel_halfway), ==, AIGC_JOB_CANCELLED);
    AigcVocoderTrainParams *p = tiny_params(family, split, 4);
    p->resume = TRUE;
    g_assert_cmpint(run(p, NULL), ==, AIGC_JOB_SUCCEEDED);
    g_autoptr(GBytes) a = weights_of(full);
    g_autoptr(GBytes) b = weights_of(again);
    g_autoptr(GBytes) c = weights_of(split);
    g_assert_true(g_bytes_equal(a, b)); /* same seed, same model */
    g_assert_true(g_bytes_equal(a, c)); /* stopped and resumed = uninterrupted */
    /* the log, the samples, and a model that loads as a vocoder */
    g_autofree char *csv_path = g_build_filename(dir, full, NULL);
    g_autofree char *csv_file = g_strconcat(csv_path, ".csv", NULL);
    g_autofree char *csv = NULL;
    g_assert_true(g_file_get_contents(csv_file, &csv, NULL, NULL));
    g_assert_true(g_str_has_prefix(csv, "step,"));
    g_assert_nonnull(strstr(csv, "\n4,"));
    g_autofree char *stem = g_strndup(csv_path, strlen(csv_path) - strlen(".safetensors"));
    for (int step = 3; step <= 4; step++) {
        g_autofree char *wav = g_strdup_printf("%s.samples/step-%07d.wav", stem, step);
        GError *error = NULL;
        g_autoptr(AigcAudio) audio = aigc_audio_file_read(wav, &error);
        g_assert_no_error(error);
        g_assert_cmpint(audio->sample_rate, ==, 16000);
        g_assert_cmpint(audio->n_samples % 256, ==, 0);
    }
    GError *error = NULL;
    g_autoptr(AigcVocoder) v = aigc_vocoder_load(csv_path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_vocoder_get_family(v), ==, family);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(csv_path, NULL);
    g_assert_nonnull(aigc_safetensors_get_metadata(st, "training"));
    g_assert_nonnull(aigc_safetensors_get_metadata(st, "metrics"));
}

static void test_train_melgan(void)
{
    resume_equals_uninterrupted("melgan");
}

static void test_train_wavenet(void)
{
    resume_equals_uninterrupted("wavenet");
}

/* Rows of a CSV file, each split at commas. */
static GPtrArray *csv_rows(const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(g_strchomp(text), "\n", -1);
    GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    for (int i = 0; lines[i]; i++)
        g_ptr_array_add(rows, g_strsplit(lines[i], ",", -1));
    return rows;
}

/* The log-mel term: it trains (another model than without it), its value is logged in a "mel"
 * column and the metadata; a log begun before the column existed keeps its width on resume. */
static void test_train_melgan_mel_loss(void)
{
    AigcVocoderTrainParams *p = tiny_params("melgan", "mel.safetensors", 4);
    g_assert_true(aigc_vocoder_train_params_set(p, "mel_weight", "2.5", NULL));
    g_assert_cmpint(run(p, NULL), ==, AIGC_JOB_SUCCEEDED);
    g_assert_cmpint(run(tiny_params("melgan", "nomel.safetensors", 4), NULL), ==,
                    AIGC_JOB_SUCCEEDED);
    g_autoptr(GBytes) a = weights_of("mel.safetensors");
    g_autoptr(GBytes) b = weights_of("nomel.safetensors");
    g_assert_false(g_bytes_equal(a, b));
    g_autoptr(GPtrArray) rows = csv_rows("mel.safetensors.csv");
    g_assert_cmpint(rows->len, ==, 5);
    char **head = g_ptr_array_index(rows, 0);
    guint width = g_strv_length(head);
    g_assert_cmpstr(head[width - 1], ==, "mel");
    for (guint i = 1; i < rows->len; i++) {
        char **row = g_ptr_array_index(rows, i);
        g_assert_cmpuint(g_strv_length(row), ==, width);
        g_assert_cmpfloat(g_ascii_strtod(row[width - 1], NULL), >, 0.0);
    }
    g_autofree char *path = g_build_filename(dir, "mel.safetensors", NULL);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, NULL);
    g_assert_nonnull(strstr(aigc_safetensors_get_metadata(st, "metrics"), "\"mel_loss\""));
    /* an old log (no mel column), resumed: its rows stay as wide as its header */
    g_autofree char *old_csv = g_build_filename(dir, "old.safetensors.csv", NULL);
    AigcVocoderTrainParams *q = tiny_params("melgan", "old.safetensors", 2);
    g_assert_cmpint(run(q, NULL), ==, AIGC_JOB_SUCCEEDED);
    g_assert_true(g_file_set_contents(
        old_csv, "step,loss_g,stft,sc,mag,adv,fm,loss_d,lr,segments_per_s,seconds\n", -1, NULL));
    q = tiny_params("melgan", "old.safetensors", 4);
    q->resume = TRUE;
    g_assert_cmpint(run(q, NULL), ==, AIGC_JOB_SUCCEEDED);
    g_autoptr(GPtrArray) old = csv_rows("old.safetensors.csv");
    g_assert_cmpint(old->len, ==, 3);
    for (guint i = 1; i < old->len; i++)
        g_assert_cmpuint(g_strv_length(g_ptr_array_index(old, i)), ==,
                         g_strv_length(g_ptr_array_index(old, 0)));
}

static void test_train_bad_params(void)
{
    AigcVocoderTrainParams *p = aigc_vocoder_train_params_new("melgan");
    GError *error = NULL;
    g_assert_false(aigc_vocoder_train_params_set(p, "batch_size", "0", &error));
    g_clear_error(&error);
    g_assert_false(aigc_vocoder_train_params_set(p, "lr", "fast", &error));
    g_clear_error(&error);
    g_assert_false(aigc_vocoder_train_params_set(p, "no_such_key", "1", &error));
    g_clear_error(&error);
    aigc_vocoder_train_params_free(p);
    /* a segment that is not a whole number of frames fails the job with a clear error */
    AigcVocoderTrainParams *q = tiny_params("melgan", "bad.safetensors", 2);
    g_assert_true(aigc_vocoder_train_params_set(q, "segment", "3000", NULL));
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    g_autoptr(AigcJob) job = aigc_vocoder_train_job_new(q);
    aigc_engine_submit(engine, job);
    g_assert_cmpint(aigc_job_wait(job), ==, AIGC_JOB_FAILED);
    g_assert_nonnull(strstr(aigc_job_get_error(job)->message, "segment"));
}

static void remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    dir = g_dir_make_tmp("aigc-vocoder-XXXXXX", NULL);
    make_corpus();
    g_test_add_func("/models/vocoder/griffin-lim", test_griffin_lim);
    g_test_add_func("/models/vocoder/interface", test_interface);
    g_test_add_func("/models/vocoder/foreign-files", test_foreign_files);
    g_test_add_func("/models/vocoder/registry", test_registry);
    g_test_add_func("/models/vocoder/corpus", test_corpus);
    g_test_add_func("/models/vocoder/corpus-bad", test_corpus_bad);
    g_test_add_func("/models/vocoder/train/melgan", test_train_melgan);
    g_test_add_func("/models/vocoder/train/wavenet", test_train_wavenet);
    g_test_add_func("/models/vocoder/train/melgan-mel-loss", test_train_melgan_mel_loss);
    g_test_add_func("/models/vocoder/train/bad-params", test_train_bad_params);
    int status = g_test_run();
    remove_tree(dir);
    g_free(dir);
    g_free(corpus);
    return status;
}
