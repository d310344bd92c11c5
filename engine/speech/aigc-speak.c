/* SPDX-License-Identifier: MIT
 *
 * Text-to-speech jobs (see aigc-speak.h).
 */
#include "speech/aigc-speak.h"

#include "aigc-error.h"
#include "dsp/aigc-text-normalize.h"

#include <math.h>
#include <string.h>

AigcSpeakParams aigc_speak_default_params(void)
{
    return (AigcSpeakParams){.speed = 1.0f, .seed = 1, .pause = 0.25f};
}

void aigc_speak_result_free(AigcSpeakResult *r)
{
    if (!r)
        return;
    g_free(r->samples);
    g_free(r->mel);
    g_strfreev(r->sentences);
    g_free(r);
}

gint64 aigc_speak_stretch_mel(const float *mel, gint64 n_frames, int n_mels, float speed,
                              float *out)
{
    gint64 n_out = MAX((gint64)llround(n_frames / (double)speed), 1);
    for (gint64 j = 0; j < n_out; j++) {
        double src = n_out > 1 ? (double)j * (n_frames - 1) / (n_out - 1) : 0;
        gint64 i0 = (gint64)floor(src), i1 = MIN(i0 + 1, n_frames - 1);
        float u = (float)(src - i0);
        for (int m = 0; m < n_mels; m++)
            out[j * n_mels + m] = mel[i0 * n_mels + m] * (1 - u) + mel[i1 * n_mels + m] * u;
    }
    return n_out;
}

typedef struct {
    AigcTacotron2 *voice;
    AigcVocoder *vocoder;
    AigcSpeakParams p;
    char *text;
    char **sentences;
    AigcJob *job;
    int i_sentence, n_sentences;
} Run;

static void run_free(gpointer data)
{
    Run *r = data;
    g_free(r->text);
    g_strfreev(r->sentences);
    g_free(r);
}

static gboolean vocoder_progress(double fraction, gpointer user_data)
{
    Run *r = user_data;
    aigc_job_report_progress(r->job, (r->i_sentence + 0.5 + 0.5 * fraction) / r->n_sentences,
                             "speaking");
    return !aigc_job_is_cancelled(r->job);
}

static void preview_values(AigcJob *job, const char *label, const float *v, int width,
                           int height)
{
    AigcPreview *p = aigc_preview_new(AIGC_PREVIEW_VALUES, label,
                                      g_bytes_new(v, (gsize)width * height * sizeof(float)));
    p->width = width;
    p->height = height;
    aigc_job_report_preview(job, p);
}

static gboolean run_job(AigcJob *job, gpointer data, GError **error)
{
    Run *r = data;
    r->job = job;
    const AigcSpeechFeatures *f = aigc_tacotron2_get_features(r->voice);
    const int M = f->n_mels, hop = f->hop_length, rate = f->sample_rate;
    gint64 pause_frames = (gint64)llround(r->p.pause * rate / hop);
    GArray *audio = g_array_new(FALSE, FALSE, sizeof(float));
    GArray *mel_all = g_array_new(FALSE, FALSE, sizeof(float));
    gint64 t0 = g_get_monotonic_time();
    int n_capped = 0;
    AigcTacotron2SynthParams sp = aigc_tacotron2_default_synth_params();
    sp.seed = r->p.seed;
    gboolean ok = TRUE;
    for (r->i_sentence = 0; ok && r->i_sentence < r->n_sentences; r->i_sentence++) {
        aigc_job_report_progress(job, (double)r->i_sentence / r->n_sentences, "speaking");
        g_autoptr(AigcTacotron2Synthesis) s = aigc_tacotron2_synthesize_text(
            r->voice, r->sentences[r->i_sentence], &sp, job, error);
        if (!s) {
            /* a sentence of symbols only (e.g. emoji) has nothing to say: skip it */
            if (g_error_matches(*error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID) &&
                r->n_sentences > 1) {
                g_clear_error(error);
                continue;
            }
            ok = FALSE;
            break;
        }
        n_capped += s->stop_reason == AIGC_TACOTRON2_STOP_CAP;
        g_autofree float *mel = g_new(float, ((gsize)ceil(s->n_frames / r->p.speed) + 2) * M);
        gint64 n_frames = aigc_speak_stretch_mel(s->mel, s->n_frames, M, r->p.speed, mel);
        AigcVocoderParams vp = aigc_vocoder_default_params();
        vp.seed = r->p.seed + (guint64)r->i_sentence;
        vp.progress = vocoder_progress;
        vp.user_data = r;
        gint64 n_samples = 0;
        g_autofree float *wav = aigc_vocoder_synthesize(r->vocoder, mel, n_frames, &vp, &n_samples,
                                                        error);
        if (!wav) {
            ok = FALSE;
            break;
        }
        gint64 n_pause = r->i_sentence + 1 < r->n_sentences ? pause_frames * hop : 0;
        g_autofree float *chunk = g_new0(float, n_samples + n_pause);
        memcpy(chunk, wav, (gsize)n_samples * sizeof(float));
        g_array_append_vals(audio, chunk, (guint)(n_samples + n_pause));
        g_array_append_vals(mel_all, mel, (guint)(n_frames * M));
        if (n_pause) {
            g_autofree float *quiet = g_new(float, (gsize)pause_frames * M);
            for (gint64 i = 0; i < pause_frames * M; i++)
                quiet[i] = logf(f->log_floor);
            g_array_append_vals(mel_all, quiet, (guint)(pause_frames * M));
        }
        AigcPreview *pa = aigc_preview_new(
            AIGC_PREVIEW_AUDIO_F32, "audio",
            g_bytes_new(chunk, (gsize)(n_samples + n_pause) * sizeof(float)));
        pa->sample_rate = rate;
        aigc_job_report_preview(job, pa);
        preview_values(job, "mel", mel, M, (int)n_frames);
        preview_values(job, "alignment", s->alignment, s->n_symbols, s->n_steps);
    }
    if (!ok || audio->len == 0) {
        if (ok)
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "the text has nothing to say (no words after normalising)");
        g_array_unref(audio);
        g_array_unref(mel_all);
        return FALSE;
    }
    AigcSpeakResult *res = g_new0(AigcSpeakResult, 1);
    res->n_samples = audio->len;
    res->samples = (float *)g_array_free(audio, FALSE);
    res->sample_rate = rate;
    res->n_mels = M;
    res->n_frames = mel_all->len / M;
    res->mel = (float *)g_array_free(mel_all, FALSE);
    res->n_sentences = r->n_sentences;
    res->sentences = g_strdupv(r->sentences);
    res->seconds = (g_get_monotonic_time() - t0) / 1e6;
    res->real_time_factor = res->seconds / (res->n_samples / (double)rate);
    res->n_capped = n_capped;
    aigc_job_set_result(job, res, (GDestroyNotify)aigc_speak_result_free);
    return TRUE;
}

AigcJob *aigc_speak_job_new(AigcTacotron2 *voice, AigcVocoder *vocoder,
                            const AigcSpeakParams *params, GError **error)
{
    g_return_val_if_fail(voice && vocoder && params, NULL);
    const char *text = params->text ? params->text : "";
    if (!(params->speed >= 0.5f && params->speed <= 2.0f)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "speed must be 0.5 … 2, not %g", params->speed);
        return NULL;
    }
    if (!(params->pause >= 0 && params->pause <= 2)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the pause between sentences must be 0 … 2 s, not %g", params->pause);
        return NULL;
    }
    glong n_chars = g_utf8_strlen(text, -1);
    if (n_chars > AIGC_SPEAK_MAX_TEXT) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the text has %ld characters; at most %d are read at once", n_chars,
                    AIGC_SPEAK_MAX_TEXT);
        return NULL;
    }
    if (!aigc_speech_features_equal(aigc_tacotron2_get_features(voice),
                                    aigc_vocoder_get_features(vocoder))) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the voice and the vocoder use different sound features (sample rate, hop "
                    "or mel bands); choose a matching pair");
        return NULL;
    }
    char **sentences = aigc_text_split_sentences(text, -1, AIGC_SPEAK_MAX_SENTENCE);
    if (!sentences || !sentences[0]) {
        g_strfreev(sentences);
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "there is no text to speak");
        return NULL;
    }
    Run *r = g_new0(Run, 1);
    r->voice = voice;
    r->vocoder = vocoder;
    r->p = *params;
    r->text = g_strdup(text);
    r->p.text = r->text;
    r->sentences = sentences;
    r->n_sentences = (int)g_strv_length(sentences);
    return aigc_job_new("speak", run_job, r, run_free);
}
