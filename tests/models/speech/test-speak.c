/* SPDX-License-Identifier: MIT
 *
 * Text to speech as a job, on a small random voice with the Griffin-Lim vocoder: sentence by
 * sentence previews (audio, mel, alignment), the whole sound and mel in the result, speed
 * resampling the mel in time, emoji-only sentences skipped, and bad requests refused (empty
 * text, only symbols, speed out of range, a vocoder of other features).
 */
#include "aigc-engine.h"
#include "speech/aigc-speak.h"

#include <math.h>
#include <string.h>

static AigcSpeechFeatures features(void)
{
    AigcSpeechFeatures f = aigc_speech_features_default();
    f.n_mels = 8;
    return f;
}

static AigcTacotron2 *tiny_voice(void)
{
    g_autoptr(AigcPhonemeVocab) vocab = aigc_phoneme_vocab_new_default();
    AigcTacotron2Config c = aigc_tacotron2_default_config();
    c.n_symbols = aigc_phoneme_vocab_get_size(vocab);
    c.embed_dim = 16;
    c.encoder_dim = 16;
    c.encoder_n_convs = 2;
    c.n_mels = 8;
    c.r = 2;
    c.prenet_dim = 16;
    c.attention_rnn_dim = 24;
    c.decoder_rnn_dim = 24;
    c.attention_dim = 12;
    c.location_filters = 4;
    c.location_kernel = 5;
    c.postnet_dim = 16;
    c.postnet_n_convs = 3;
    AigcSpeechFeatures f = features();
    AigcTacotron2 *m = aigc_tacotron2_new(&c, &f, vocab, NULL);
    g_assert_nonnull(m);
    AigcRng rng;
    aigc_rng_init(&rng, 9);
    aigc_tacotron2_init_weights(m, &rng);
    return m;
}

typedef struct {
    GString *order;
    gint64 audio_samples;
} Seen;

static void on_preview(AigcJob *job, AigcPreview *p, gpointer data)
{
    Seen *seen = data;
    g_string_append_c(seen->order, p->label[0]); /* a(udio) m(el) a(lignment) */
    if (p->kind == AIGC_PREVIEW_AUDIO_F32) {
        g_assert_cmpint(p->sample_rate, ==, 16000);
        seen->audio_samples += (gint64)(g_bytes_get_size(p->data) / sizeof(float));
    } else {
        g_assert_cmpint(p->kind, ==, AIGC_PREVIEW_VALUES);
        g_assert_cmpuint(g_bytes_get_size(p->data), ==, (gsize)p->width * p->height * 4);
    }
    aigc_preview_free(p);
}

static void test_sentences(void)
{
    g_autoptr(AigcTacotron2) voice = tiny_voice();
    AigcSpeechFeatures f = features();
    g_autoptr(AigcVocoder) gl = aigc_vocoder_new_griffin_lim(&f, NULL);
    g_assert_nonnull(gl);
    AigcSpeakParams p = aigc_speak_default_params();
    p.text = "Hello there. \xF0\x9F\x98\x80\xF0\x9F\x98\x80! It is 5 o'clock.";
    GError *error = NULL;
    g_autoptr(AigcJob) job = aigc_speak_job_new(voice, gl, &p, &error);
    g_assert_no_error(error);
    Seen seen = {g_string_new(NULL), 0};
    AigcJobCallbacks cb = {.preview = on_preview, .user_data = &seen};
    aigc_job_set_callbacks(job, &cb);
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    aigc_engine_submit(engine, job);
    g_assert_cmpint(aigc_job_wait(job), ==, AIGC_JOB_SUCCEEDED);
    AigcSpeakResult *r = aigc_job_get_result(job);
    g_assert_cmpint(r->sample_rate, ==, 16000);
    g_assert_cmpint(r->n_mels, ==, 8);
    g_assert_cmpint(r->n_samples, ==, seen.audio_samples);
    g_assert_cmpint(r->n_samples, ==, r->n_frames * 256);
    g_assert_cmpfloat(r->real_time_factor, >, 0);
    /* the emoji "sentence" says nothing and is skipped: two sentences are heard */
    g_assert_cmpstr(seen.order->str, ==, "amaama");
    for (gint64 i = 0; i < r->n_samples; i++)
        g_assert_true(isfinite(r->samples[i]));
    g_string_free(seen.order, TRUE);
}

static void test_stretch(void)
{
    float mel[5 * 2] = {0, 10, 1, 11, 2, 12, 3, 13, 4, 14}, out[12 * 2];
    g_assert_cmpint(aigc_speak_stretch_mel(mel, 5, 2, 1.0f, out), ==, 5);
    g_assert_cmpmem(out, sizeof mel, mel, sizeof mel);
    gint64 n = aigc_speak_stretch_mel(mel, 5, 2, 0.5f, out); /* slower: twice the frames */
    g_assert_cmpint(n, ==, 10);
    g_assert_cmpfloat(out[0], ==, 0);
    g_assert_cmpfloat_with_epsilon(out[9 * 2 + 1], 14, 1e-6);
    g_assert_cmpfloat_with_epsilon(out[1 * 2], 4.0f / 9, 1e-6); /* interpolated */
    g_assert_cmpint(aigc_speak_stretch_mel(mel, 5, 2, 2.0f, out), ==, 3); /* faster */
}

static void expect_refused(AigcTacotron2 *voice, AigcVocoder *vocoder, const AigcSpeakParams *p,
                           const char *what)
{
    GError *error = NULL;
    g_assert_null(aigc_speak_job_new(voice, vocoder, p, &error));
    g_assert_nonnull(error);
    if (!strstr(error->message, what))
        g_error("“%s” does not say “%s”", error->message, what);
    g_error_free(error);
}

static void test_bad_requests(void)
{
    g_autoptr(AigcTacotron2) voice = tiny_voice();
    AigcSpeechFeatures f = features();
    g_autoptr(AigcVocoder) gl = aigc_vocoder_new_griffin_lim(&f, NULL);
    AigcSpeakParams p = aigc_speak_default_params();
    p.text = "";
    expect_refused(voice, gl, &p, "no text");
    p.text = "   \n\t ";
    expect_refused(voice, gl, &p, "no text");
    p.text = "Fine.";
    p.speed = 3;
    expect_refused(voice, gl, &p, "speed");
    p.speed = 1;
    AigcSpeechFeatures other = aigc_speech_features_default(); /* 80 mels */
    g_autoptr(AigcVocoder) gl80 = aigc_vocoder_new_griffin_lim(&other, NULL);
    expect_refused(voice, gl80, &p, "features");
    g_autofree char *huge = g_strnfill(AIGC_SPEAK_MAX_TEXT + 1, 'a');
    p.text = huge;
    expect_refused(voice, gl, &p, "at most");

    /* a text of symbols only fails in the job with a reason */
    p.text = "\xF0\x9F\x98\x80 \xE2\x98\x83";
    GError *error = NULL;
    g_autoptr(AigcJob) job = aigc_speak_job_new(voice, gl, &p, &error);
    if (job) {
        g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
        aigc_engine_submit(engine, job);
        g_assert_cmpint(aigc_job_wait(job), ==, AIGC_JOB_FAILED);
        g_assert_nonnull(aigc_job_get_error(job));
    } else {
        g_assert_nonnull(error);
        g_clear_error(&error);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/models/speech/speak/sentences", test_sentences);
    g_test_add_func("/models/speech/speak/stretch", test_stretch);
    g_test_add_func("/models/speech/speak/bad-requests", test_bad_requests);
    return g_test_run();
}
