/* SPDX-License-Identifier: MIT
 *
 * `aigc train speech` as an engine job, on a tiny corpus made here (short chords as
 * "recordings"): the corpus reader (phonemes, mels, the feature cache and when it is missed,
 * missing and broken files), the learning-rate schedule and focus rate, a short run writing
 * model, checkpoint, CSV and alignment images, a run stopped and resumed ending with the weights
 * of an uninterrupted one, and cancel saving before it stops.
 */
#include "aigc-test-support.h"
#include "io/aigc-speech-corpus.h"
#include "models/tacotron2/aigc-tacotron2-train.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *dir;

static const char *const train_lines[] = {"00000|Hello there.", "00001|A cat sat on the mat.",
                                          "00002|We go home now!", "00003|Is it late?"};
static const char *const test_lines[] = {"00000|Good night.", "00001|See you soon."};

static void write_chord(const char *path, double seconds, double f0)
{
    const int rate = 16000;
    gint64 n = (gint64)(seconds * rate);
    g_autofree float *x = g_new(float, n);
    for (gint64 i = 0; i < n; i++) {
        double t = (double)i / rate, env = sin(G_PI * i / (double)n);
        x[i] = (float)(0.3 * env * (sin(2 * G_PI * f0 * t) + 0.5 * sin(2 * G_PI * 2.5 * f0 * t)));
    }
    g_autoptr(GError) error = NULL;
    g_assert_true(aigc_audio_file_write_wav(path, x, n, rate, NULL, &error));
    g_assert_no_error(error);
}

/* DIR/NAME/{train,test}.txt and their wavs. */
static char *make_corpus(const char *name)
{
    char *root = g_build_filename(dir, name, NULL);
    const char *const *lists[2] = {train_lines, test_lines};
    const int counts[2] = {G_N_ELEMENTS(train_lines), G_N_ELEMENTS(test_lines)};
    const char *splits[2] = {"train", "test"};
    for (int s = 0; s < 2; s++) {
        g_autofree char *sub = g_build_filename(root, splits[s], NULL);
        g_assert_cmpint(g_mkdir_with_parents(sub, 0755), ==, 0);
        GString *list = g_string_new(NULL);
        for (int i = 0; i < counts[s]; i++) {
            g_string_append_printf(list, "%s\n", lists[s][i]);
            g_autofree char *id = g_strndup(lists[s][i], 5);
            g_autofree char *file = g_strconcat(id, ".wav", NULL);
            g_autofree char *path = g_build_filename(sub, file, NULL);
            write_chord(path, 0.35 + 0.1 * i, 140 + 30 * i + 50 * s);
        }
        g_autofree char *list_name = g_strconcat(splits[s], ".txt", NULL);
        g_autofree char *list_path = g_build_filename(root, list_name, NULL);
        g_assert_true(g_file_set_contents(list_path, list->str, -1, NULL));
        g_string_free(list, TRUE);
    }
    return root;
}

static int n_warnings;

static void count_warnings(AigcLogLevel level, const char *message, gpointer data)
{
    if (level == AIGC_LOG_WARNING) {
        n_warnings++;
        g_test_message("warning: %s", message);
    }
}

static void test_corpus(void)
{
    g_autofree char *root = make_corpus("corpus-a");
    g_autofree char *cache = g_build_filename(root, "cache", NULL);
    g_autoptr(AigcPhonemeVocab) vocab = aigc_phoneme_vocab_new_default();
    AigcSpeechFeatures f = aigc_speech_features_default();
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcSpeechCorpus) c =
        aigc_speech_corpus_load(root, "train", &f, vocab, cache, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_speech_corpus_get_n(c), ==, 4);
    g_assert_false(aigc_speech_corpus_get_from_cache(c));
    for (int i = 0; i < 4; i++) {
        const AigcSpeechUtterance *u = aigc_speech_corpus_get(c, i);
        g_assert_cmpint(u->ids[0], ==, aigc_phoneme_vocab_get_bos(vocab));
        g_assert_cmpint(u->ids[u->n_ids - 1], ==, aigc_phoneme_vocab_get_eos(vocab));
        g_assert_cmpint(u->n_ids, >, 5);
        /* A centred STFT: samples / hop + 1 frames. */
        gint64 samples = (gint64)((0.35 + 0.1 * i) * 16000);
        g_assert_cmpint(u->n_frames, ==, samples / 256 + 1);
    }
    g_assert_cmpstr(aigc_speech_corpus_get(c, 1)->text, ==, "A cat sat on the mat.");
    g_assert_cmpstr(aigc_speech_corpus_get(c, 1)->name, ==, "00001");
    /* The second load comes from the cache, with the same numbers. */
    g_autoptr(AigcSpeechCorpus) c2 =
        aigc_speech_corpus_load(root, "train", &f, vocab, cache, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(aigc_speech_corpus_get_from_cache(c2));
    for (int i = 0; i < 4; i++) {
        const AigcSpeechUtterance *a = aigc_speech_corpus_get(c, i),
                                  *b = aigc_speech_corpus_get(c2, i);
        g_assert_cmpint(a->n_frames, ==, b->n_frames);
        g_assert_cmpmem(a->ids, a->n_ids * 4, b->ids, b->n_ids * 4);
        g_assert_cmpmem(a->mel, a->n_frames * 80 * 2, b->mel, b->n_frames * 80 * 2);
    }
    g_autofree float *mel = g_new(float, aigc_speech_corpus_get(c, 0)->n_frames * 80);
    aigc_speech_corpus_get_mel(c, 0, mel);
    for (int k = 0; k < aigc_speech_corpus_get(c, 0)->n_frames * 80; k++)
        g_assert_true(mel[k] >= logf(1e-5f) - 0.01f && mel[k] < 10);
    /* A changed recording misses the cache. */
    g_autofree char *wav = g_build_filename(root, "train", "00002.wav", NULL);
    write_chord(wav, 0.5, 333);
    g_autoptr(AigcSpeechCorpus) c3 =
        aigc_speech_corpus_load(root, "train", &f, vocab, cache, NULL, &error);
    g_assert_no_error(error);
    g_assert_false(aigc_speech_corpus_get_from_cache(c3));
    g_assert_cmpint(aigc_speech_corpus_get(c3, 2)->n_frames, ==, 8000 / 256 + 1);
    /* A damaged cache is noticed and recomputed (with a warning). */
    GDir *d = g_dir_open(cache, 0, NULL);
    const char *name;
    int n_files = 0;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(cache, name, NULL);
        g_assert_true(g_file_set_contents(p, "garbage", -1, NULL));
        n_files++;
    }
    g_dir_close(d);
    g_assert_cmpint(n_files, ==, 2);
    n_warnings = 0;
    aigc_log_set_handler(count_warnings, NULL);
    g_autoptr(AigcSpeechCorpus) c4 =
        aigc_speech_corpus_load(root, "train", &f, vocab, cache, NULL, &error);
    aigc_log_set_handler(NULL, NULL);
    g_assert_no_error(error);
    g_assert_cmpint(n_warnings, ==, 1);
    g_assert_false(aigc_speech_corpus_get_from_cache(c4));
    g_assert_cmpint(aigc_speech_corpus_get_n(c4), ==, 4);
}

static void test_corpus_faults(void)
{
    g_autofree char *root = make_corpus("corpus-b");
    g_autoptr(AigcPhonemeVocab) vocab = aigc_phoneme_vocab_new_default();
    AigcSpeechFeatures f = aigc_speech_features_default();
    g_autoptr(GError) error = NULL;
    /* A missing recording is skipped and counted. */
    g_autofree char *wav = g_build_filename(root, "train", "00001.wav", NULL);
    g_assert_cmpint(g_unlink(wav), ==, 0);
    g_autoptr(AigcSpeechCorpus) c =
        aigc_speech_corpus_load(root, "train", &f, vocab, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_speech_corpus_get_n(c), ==, 3);
    g_assert_cmpint(aigc_speech_corpus_get_n_missing(c), ==, 1);
    g_assert_cmpstr(aigc_speech_corpus_get(c, 1)->name, ==, "00002");
    /* A broken recording is an error naming it. */
    g_assert_true(g_file_set_contents(wav, "RIFF....WAVEfmt broken", -1, NULL));
    g_assert_null(aigc_speech_corpus_load(root, "train", &f, vocab, NULL, NULL, &error));
    g_assert_nonnull(strstr(error->message, "00001.wav"));
    g_clear_error(&error);
    /* A malformed line names the file and the line. */
    g_autofree char *list = g_build_filename(root, "train.txt", NULL);
    g_assert_true(g_file_set_contents(list, "00000|Hello.\nno bar here\n", -1, NULL));
    g_assert_null(aigc_speech_corpus_load(root, "train", &f, vocab, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "train.txt line 2"));
    g_clear_error(&error);
    g_assert_true(g_file_set_contents(list, "../etc/passwd|Hello.\n", -1, NULL));
    g_assert_null(aigc_speech_corpus_load(root, "train", &f, vocab, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_clear_error(&error);
    /* Nothing there at all. */
    g_assert_true(g_file_set_contents(list, "09999|Nobody recorded this.\n", -1, NULL));
    g_assert_null(aigc_speech_corpus_load(root, "train", &f, vocab, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
    g_clear_error(&error);
    g_assert_null(aigc_speech_corpus_load(root, "valid", &f, vocab, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
}

static void test_schedule_and_focus(void)
{
    g_autoptr(AigcTacotron2TrainParams) p = aigc_tacotron2_train_params_new();
    g_assert_cmpfloat(fabsf(aigc_tacotron2_train_lr(p, 0) - 1e-3f / 200), <, 1e-9f);
    g_assert_cmpfloat(aigc_tacotron2_train_lr(p, 199), ==, 1e-3f);
    g_assert_cmpfloat(aigc_tacotron2_train_lr(p, 5000), ==, 1e-3f);
    g_assert_cmpfloat(fabsf(aigc_tacotron2_train_lr(p, 20000) - 5e-4f), <, 1e-8f);
    g_assert_cmpfloat(aigc_tacotron2_train_lr(p, 10000000), ==, 1e-5f);
    float one_hot[3 * 4] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
    float uniform[2 * 4] = {0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f};
    g_assert_cmpfloat(aigc_tacotron2_focus_rate(one_hot, 3, 4), ==, 1.0);
    g_assert_cmpfloat(aigc_tacotron2_focus_rate(uniform, 2, 4), ==, 0.25);
    int w, h;
    g_autofree guint8 *px = aigc_tacotron2_alignment_rgba(one_hot, 3, 4, 2, &w, &h);
    g_assert_cmpint(w, ==, 6);
    g_assert_cmpint(h, ==, 8);
    /* Step 0 attends symbol 0, drawn bottom left, bright; top left is dark. */
    g_assert_cmpint(px[((7 * 6) + 0) * 4 + 1], >, 200);
    g_assert_cmpint(px[((0 * 6) + 0) * 4 + 1], <, 10);
    g_autoptr(GError) error = NULL;
    g_assert_false(aigc_tacotron2_train_params_set(p, "batch_size", "0", &error));
    g_clear_error(&error);
    g_assert_false(aigc_tacotron2_train_params_set(p, "n_symbols", "5", &error));
    g_clear_error(&error);
    g_assert_false(aigc_tacotron2_train_params_set(p, "nonsense", "5", &error));
    g_clear_error(&error);
    g_assert_true(aigc_tacotron2_train_params_set(p, "guided_weight", "0.5", &error));
    g_assert_true(aigc_tacotron2_train_params_set(p, "decoder_rnn_dim", "64", &error));
    g_assert_cmpint(p->model.decoder_rnn_dim, ==, 64);
}

static AigcTacotron2TrainParams *tiny_params(const char *root, const char *out_name, int steps)
{
    AigcTacotron2TrainParams *p = aigc_tacotron2_train_params_new();
    p->data_dir = g_strdup(root);
    p->output = g_build_filename(dir, out_name, NULL);
    const char *sets[][2] = {
        {"embed_dim", "16"},
        {"encoder_dim", "16"},
        {"encoder_n_convs", "1"},
        {"prenet_dim", "16"},
        {"attention_rnn_dim", "16"},
        {"decoder_rnn_dim", "16"},
        {"attention_dim", "8"},
        {"location_filters", "4"},
        {"location_kernel", "5"},
        {"postnet_dim", "16"},
        {"postnet_n_convs", "2"},
        {"r", "2"},
        {"batch_size", "2"},
        {"checkpoint_every", "2"},
        {"align_every", "2"},
        {"eval_every", "2"},
        {"warmup", "2"},
        {"seed", "5"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(sets); i++)
        g_assert_true(aigc_tacotron2_train_params_set(p, sets[i][0], sets[i][1], NULL));
    p->steps = steps;
    return p;
}

static AigcJobState run(AigcTacotron2TrainParams *p, AigcJobCallbacks *cb, AigcJob **job_out)
{
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    AigcJob *job = aigc_tacotron2_train_job_new(p);
    if (cb)
        aigc_job_set_callbacks(job, cb);
    aigc_engine_submit(engine, job);
    AigcJobState state = aigc_job_wait(job);
    if (state == AIGC_JOB_FAILED)
        g_test_message("failed: %s", aigc_job_get_error(job)->message);
    if (job_out)
        *job_out = job;
    else
        aigc_job_unref(job);
    return state;
}

static GBytes *weights_of(const char *path)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, NULL);
    g_assert_nonnull(st);
    GByteArray *all = g_byte_array_new();
    for (gsize i = 0; i < aigc_safetensors_get_n_tensors(st); i++) {
        const AigcSafetensorsTensor *t = aigc_safetensors_get_tensor(st, i);
        g_byte_array_append(all, t->data, (guint)t->n_bytes);
    }
    return g_byte_array_free_to_bytes(all);
}

static int count_lines(const char *path)
{
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    int n = 0;
    for (const char *s = text; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_train_and_resume(void)
{
    g_autofree char *root = make_corpus("corpus-c");
    AigcJob *job = NULL;
    g_assert_cmpint(run(tiny_params(root, "full.safetensors", 4), NULL, &job), ==,
                    AIGC_JOB_SUCCEEDED);
    AigcTacotron2TrainResult *res = aigc_job_get_result(job);
    g_assert_cmpint(res->steps_done, ==, 4);
    g_assert_true(res->train_loss > 0 && isfinite(res->train_loss));
    g_assert_true(res->val_loss > 0 && isfinite(res->val_loss));
    g_assert_true(res->focus_rate > 0 && res->focus_rate <= 1);
    aigc_job_unref(job);
    g_autofree char *full = g_build_filename(dir, "full.safetensors", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTacotron2) m = aigc_tacotron2_load_file(full, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_tacotron2_get_config(m)->decoder_rnn_dim, ==, 16);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(full, NULL);
    g_assert_nonnull(strstr(aigc_safetensors_get_metadata(st, "training"), "\"steps\": 4"));
    g_assert_nonnull(strstr(aigc_safetensors_get_metadata(st, "metrics"), "val_loss"));
    g_autofree char *csv = g_build_filename(dir, "full.safetensors.csv", NULL);
    g_assert_cmpint(count_lines(csv), ==, 5);
    g_autofree char *png = g_build_filename(dir, "full-align", "step-0000004.png", NULL);
    GHashTable *text = NULL;
    g_autoptr(AigcImage) image = aigc_png_read(png, NULL, &text, &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(g_hash_table_lookup(text, "parameters"), "Focus rate"));
    g_hash_table_unref(text);
    g_autofree char *png1 = g_build_filename(dir, "full-align", "step-0000001.png", NULL);
    g_assert_true(g_file_test(png1, G_FILE_TEST_EXISTS));
    /* The features were cached beside the corpus. */
    g_autofree char *cache = g_build_filename(root, "features-cache", NULL);
    g_assert_true(g_file_test(cache, G_FILE_TEST_IS_DIR));

    /* Two steps, then resumed to four: the same weights as four at once. */
    g_assert_cmpint(run(tiny_params(root, "split.safetensors", 2), NULL, NULL), ==,
                    AIGC_JOB_SUCCEEDED);
    AigcTacotron2TrainParams *p = tiny_params(root, "split.safetensors", 4);
    p->resume = TRUE;
    g_assert_cmpint(run(p, NULL, NULL), ==, AIGC_JOB_SUCCEEDED);
    g_autofree char *split = g_build_filename(dir, "split.safetensors", NULL);
    g_autoptr(GBytes) a = weights_of(full), b = weights_of(split);
    g_assert_true(g_bytes_equal(a, b));
    g_autofree char *split_csv = g_build_filename(dir, "split.safetensors.csv", NULL);
    g_assert_cmpint(count_lines(split_csv), ==, 5);
}

static void cancel_halfway(AigcJob *job, double fraction, const char *stage, gpointer data)
{
    if (fraction >= 0.5)
        aigc_job_cancel(job); /* as Ctrl-C */
}

static void test_cancel_saves(void)
{
    g_autofree char *root = make_corpus("corpus-d");
    AigcJobCallbacks cb = {.progress = cancel_halfway};
    AigcJob *job = NULL;
    g_assert_cmpint(run(tiny_params(root, "stopped.safetensors", 8), &cb, &job), ==,
                    AIGC_JOB_CANCELLED);
    AigcTacotron2TrainResult *res = aigc_job_get_result(job);
    g_assert_nonnull(res);
    g_assert_cmpint(res->steps_done, >=, 4);
    g_assert_cmpint(res->steps_done, <, 8);
    gint64 done = res->steps_done;
    aigc_job_unref(job);
    g_autofree char *ckpt = g_build_filename(dir, "stopped.safetensors.ckpt", NULL);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(ckpt, NULL);
    g_assert_nonnull(st);
    g_assert_cmpint(g_ascii_strtoll(aigc_safetensors_get_metadata(st, "train.step"), NULL, 10), ==,
                    done);
    /* A data folder without a corpus fails with a clear message. */
    AigcTacotron2TrainParams *p = tiny_params(dir, "none.safetensors", 2);
    AigcJob *bad = NULL;
    g_assert_cmpint(run(p, NULL, &bad), ==, AIGC_JOB_FAILED);
    g_assert_nonnull(strstr(aigc_job_get_error(bad)->message, "train.txt"));
    aigc_job_unref(bad);
}

static void remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        GDir *d = g_dir_open(path, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(path, name, NULL);
            remove_tree(p);
        }
        if (d)
            g_dir_close(d);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    dir = g_dir_make_tmp("aigc-t2-train-XXXXXX", NULL);
    g_test_add_func("/models/tacotron2/corpus/load-and-cache", test_corpus);
    g_test_add_func("/models/tacotron2/corpus/faults", test_corpus_faults);
    g_test_add_func("/models/tacotron2/train/schedule-and-focus", test_schedule_and_focus);
    g_test_add_func("/models/tacotron2/train/run-and-resume", test_train_and_resume);
    g_test_add_func("/models/tacotron2/train/cancel-saves", test_cancel_saves);
    int status = g_test_run();
    remove_tree(dir);
    g_free(dir);
    return status;
}
