/* SPDX-License-Identifier: MIT
 *
 * Text training as a job: the same seed gives the same model; stopping and resuming from the
 * checkpoint gives the model an uninterrupted run gives; the result reports validation bits per
 * character; generation from the trained file is reproducible from its seed. The same-seed and
 * resume checks run for GPT and for an LSTM (the recurrent families share the loop). Fine-tuning
 * starts from another model file.
 */
#include "aigc-engine.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *dir;
static char *corpus;

static AigcTextTrainParams *tiny_lstm_params(const char *output, gint64 steps)
{
    AigcTextTrainParams *p = aigc_text_train_params_new("lstm");
    p->corpus = g_strdup(corpus);
    p->output = g_build_filename(dir, output, NULL);
    const char *sets[][2] = {{"embed_dim", "8"}, {"hidden_dim", "12"},  {"n_layers", "2"},
                             {"seq_len", "16"},  {"batch_size", "4"},   {"eval_every", "0"},
                             {"warmup", "2"},    {"checkpoint_every", "2"}, {"seed", "7"}};
    for (guint i = 0; i < G_N_ELEMENTS(sets); i++)
        g_assert_true(aigc_text_train_params_set(p, sets[i][0], sets[i][1], NULL));
    p->steps = steps;
    return p;
}

static AigcTextTrainParams *tiny_params(const char *output, gint64 steps)
{
    AigcTextTrainParams *p = aigc_text_train_params_new("gpt");
    p->corpus = g_strdup(corpus);
    p->output = g_build_filename(dir, output, NULL);
    const char *sets[][2] = {{"dim", "16"},       {"n_layers", "1"},    {"n_heads", "2"},
                             {"hidden_dim", "24"}, {"seq_len", "16"},   {"batch_size", "4"},
                             {"eval_every", "0"},  {"warmup", "2"},     {"checkpoint_every", "2"},
                             {"seed", "7"}};
    for (guint i = 0; i < G_N_ELEMENTS(sets); i++)
        g_assert_true(aigc_text_train_params_set(p, sets[i][0], sets[i][1], NULL));
    p->steps = steps;
    return p;
}

static AigcJobState run(AigcTextTrainParams *p)
{
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    g_autoptr(AigcJob) job = aigc_text_train_job_new(p);
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

typedef AigcTextTrainParams *(*ParamsFunc)(const char *output, gint64 steps);

static void same_seed_same_model(ParamsFunc make, const char *a_name, const char *b_name)
{
    g_assert_cmpint(run(make(a_name, 6)), ==, AIGC_JOB_SUCCEEDED);
    g_assert_cmpint(run(make(b_name, 6)), ==, AIGC_JOB_SUCCEEDED);
    g_autoptr(GBytes) a = weights_of(a_name);
    g_autoptr(GBytes) b = weights_of(b_name);
    g_assert_true(g_bytes_equal(a, b));
}

static void test_same_seed_same_model(void)
{
    same_seed_same_model(tiny_params, "a.safetensors", "b.safetensors");
}

static void test_lstm_same_seed_same_model(void)
{
    same_seed_same_model(tiny_lstm_params, "lstm-a.safetensors", "lstm-b.safetensors");
    /* It is an LSTM file that the text model loader runs. */
    g_autofree char *path = g_build_filename(dir, "lstm-a.safetensors", NULL);
    GError *error = NULL;
    g_autoptr(AigcTextModel) model = aigc_text_model_load(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_text_model_get_family(model), ==, "lstm");
    g_assert_cmpint(aigc_text_model_get_max_context(model), ==, 0);
    g_autofree char *val = g_build_filename(dir, "corpus.val.txt", NULL);
    g_autofree char *text = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(val, &text, &len, NULL));
    double bpc = 0;
    g_assert_true(aigc_text_model_bits_per_char(model, text, len, NULL, &bpc, NULL));
    g_assert_true(bpc > 0 && isfinite(bpc));
}

static void cancel_halfway(AigcJob *job, double fraction, const char *stage, gpointer data)
{
    if (fraction >= 0.5)
        aigc_job_cancel(job); /* as Ctrl-C after step 3 of 6 */
}

static void resume_equals_uninterrupted(ParamsFunc make, const char *full_name,
                                        const char *split_name)
{
    g_assert_cmpint(run(make(full_name, 6)), ==, AIGC_JOB_SUCCEEDED);
    /* The same command stopped halfway (it saves before stopping), then run with --resume. */
    {
        g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
        g_autoptr(AigcJob) job = aigc_text_train_job_new(make(split_name, 6));
        AigcJobCallbacks cb = {.progress = cancel_halfway};
        aigc_job_set_callbacks(job, &cb);
        aigc_engine_submit(engine, job);
        g_assert_cmpint(aigc_job_wait(job), ==, AIGC_JOB_CANCELLED);
    }
    AigcTextTrainParams *p = make(split_name, 6);
    p->resume = TRUE;
    g_assert_cmpint(run(p), ==, AIGC_JOB_SUCCEEDED);
    g_autoptr(GBytes) full = weights_of(full_name);
    g_autoptr(GBytes) split = weights_of(split_name);
    g_assert_true(g_bytes_equal(full, split));
}

static void test_resume_equals_uninterrupted(void)
{
    resume_equals_uninterrupted(tiny_params, "full.safetensors", "split.safetensors");
}

static void test_lstm_resume_equals_uninterrupted(void)
{
    resume_equals_uninterrupted(tiny_lstm_params, "lstm-full.safetensors",
                                "lstm-split.safetensors");
}

static void test_metrics_and_generation(void)
{
    AigcTextTrainParams *p = tiny_params("m.safetensors", 8);
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    g_autoptr(AigcJob) job = aigc_text_train_job_new(p);
    aigc_engine_submit(engine, job);
    g_assert_cmpint(aigc_job_wait(job), ==, AIGC_JOB_SUCCEEDED);
    AigcTextTrainResult *r = aigc_job_get_result(job);
    g_assert_cmpint(r->steps_done, ==, 8);
    g_assert_cmpfloat(r->val_bits_per_char, >, 0);

    /* aigc eval's number equals the one the trainer recorded. */
    g_autofree char *path = g_build_filename(dir, "m.safetensors", NULL);
    GError *error = NULL;
    g_autoptr(AigcTextModel) model = aigc_text_model_load(path, &error);
    g_assert_no_error(error);
    g_autofree char *val = g_build_filename(dir, "corpus.val.txt", NULL);
    g_autofree char *text = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(val, &text, &len, NULL));
    double bpc;
    g_assert_true(aigc_text_model_bits_per_char(model, text, len, NULL, &bpc, NULL));
    g_assert_cmpfloat(fabs(bpc - r->val_bits_per_char), <, 1e-3);

    /* The same seed writes the same text. */
    char *outs[2];
    for (int k = 0; k < 2; k++) {
        AigcTextGenParams gp = aigc_text_gen_default_params();
        gp.prompt = "the ";
        gp.max_tokens = 30;
        gp.seed = 99;
        g_autoptr(AigcJob) gen = aigc_text_generate_job_new(model, &gp, NULL);
        aigc_engine_submit(engine, gen);
        g_assert_cmpint(aigc_job_wait(gen), ==, AIGC_JOB_SUCCEEDED);
        AigcTextGenResult *gr = aigc_job_get_result(gen);
        g_assert_cmpuint(gr->seed, ==, 99);
        g_assert_true(g_utf8_validate(gr->text, -1, NULL));
        outs[k] = g_strdup(gr->text);
    }
    g_assert_cmpstr(outs[0], ==, outs[1]);
    g_free(outs[0]);
    g_free(outs[1]);
}

static void test_bad_input(void)
{
    g_autofree char *path = g_build_filename(dir, "m.safetensors", NULL);
    g_autoptr(AigcTextModel) model = aigc_text_model_load(path, NULL);
    g_assert_nonnull(model);
    AigcTextGenParams gp = aigc_text_gen_default_params();
    GError *error = NULL;
    gp.prompt = "";
    g_assert_null(aigc_text_generate_job_new(model, &gp, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    gp.prompt = "x";
    gp.sampler.top_p = 2;
    g_assert_null(aigc_text_generate_job_new(model, &gp, &error));
    g_clear_error(&error);
    gp.sampler = aigc_sampler_default_params();
    gp.max_tokens = 0;
    g_assert_null(aigc_text_generate_job_new(model, &gp, &error));
    g_clear_error(&error);
    /* Invalid UTF-8 and a prompt far longer than the context are accepted. */
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    GString *long_prompt = g_string_new("\xff\xfe bad bytes ");
    for (int i = 0; i < 200; i++)
        g_string_append(long_prompt, "the end ");
    gp.prompt = long_prompt->str;
    gp.max_tokens = 5;
    g_autoptr(AigcJob) job = aigc_text_generate_job_new(model, &gp, &error);
    g_assert_no_error(error);
    aigc_engine_submit(engine, job);
    g_assert_cmpint(aigc_job_wait(job), ==, AIGC_JOB_SUCCEEDED);
    g_assert_true(((AigcTextGenResult *)aigc_job_get_result(job))->prompt_truncated);
    g_string_free(long_prompt, TRUE);
    /* A damaged model file is refused with its name. */
    g_autofree char *bad = g_build_filename(dir, "bad.safetensors", NULL);
    g_file_set_contents(bad, "not a model", -1, NULL);
    g_assert_null(aigc_text_model_load(bad, &error));
    g_assert_nonnull(strstr(error->message, "bad.safetensors"));
    g_clear_error(&error);
}

/* Fine-tuning: --init starts from another model's weights and tokenizer (its architecture wins
 * over the settings), runs its own steps from 0, and names a missing start file. */
static void test_fine_tune(void)
{
    g_assert_cmpint(run(tiny_params("base.safetensors", 4)), ==, AIGC_JOB_SUCCEEDED);
    AigcTextTrainParams *p = tiny_params("tuned.safetensors", 3);
    g_assert_true(aigc_text_train_params_set(p, "dim", "32", NULL)); /* ignored: from the init */
    p->init_from = g_build_filename(dir, "base.safetensors", NULL);
    g_assert_cmpint(run(p), ==, AIGC_JOB_SUCCEEDED);
    g_autoptr(GBytes) base = weights_of("base.safetensors");
    g_autoptr(GBytes) tuned = weights_of("tuned.safetensors");
    g_assert_cmpuint(g_bytes_get_size(base), ==, g_bytes_get_size(tuned));
    g_assert_false(g_bytes_equal(base, tuned));
    g_autofree char *path = g_build_filename(dir, "tuned.safetensors", NULL);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, NULL);
    g_assert_nonnull(strstr(aigc_safetensors_get_metadata(st, "training"), "\"steps\": 3,"));

    p = tiny_params("orphan.safetensors", 3);
    p->init_from = g_build_filename(dir, "missing.safetensors", NULL);
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    g_autoptr(AigcJob) job = aigc_text_train_job_new(p);
    aigc_engine_submit(engine, job);
    g_assert_cmpint(aigc_job_wait(job), ==, AIGC_JOB_FAILED);
    g_assert_nonnull(strstr(aigc_job_get_error(job)->message, "missing.safetensors"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    dir = g_dir_make_tmp("aigc-train-XXXXXX", NULL);
    corpus = g_build_filename(dir, "corpus.train.txt", NULL);
    GString *text = g_string_new(NULL);
    for (int i = 0; i < 60; i++)
        g_string_append_printf(text, "the quick brown fox %d jumps over the lazy dog.\n", i % 7);
    g_file_set_contents(corpus, text->str, -1, NULL);
    g_autofree char *val = g_build_filename(dir, "corpus.val.txt", NULL);
    g_file_set_contents(val, "the lazy dog jumps over the quick brown fox.\n", -1, NULL);
    g_string_free(text, TRUE);
    g_test_add_func("/models/text/train/same-seed", test_same_seed_same_model);
    g_test_add_func("/models/text/train/resume", test_resume_equals_uninterrupted);
    g_test_add_func("/models/text/train/fine-tune", test_fine_tune);
    g_test_add_func("/models/text/train/lstm-same-seed", test_lstm_same_seed_same_model);
    g_test_add_func("/models/text/train/lstm-resume", test_lstm_resume_equals_uninterrupted);
    g_test_add_func("/models/text/train/metrics-and-generation", test_metrics_and_generation);
    g_test_add_func("/models/text/generate/bad-input", test_bad_input);
    return g_test_run();
}
