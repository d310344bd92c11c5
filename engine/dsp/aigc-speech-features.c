/* SPDX-License-Identifier: MIT
 *
 * The shared acoustic features of the Speak models (see aigc-speech-features.h).
 */
#include "dsp/aigc-speech-features.h"

#include "aigc-error.h"
#include "io/aigc-audio-file.h"
#include "dsp/aigc-resample.h"

#include <json-glib/json-glib.h>
#include <math.h>

AigcSpeechFeatures aigc_speech_features_default(void)
{
    return (AigcSpeechFeatures){
        .sample_rate = 16000,
        .n_fft = 1024,
        .win_length = 1024,
        .hop_length = 256,
        .n_mels = 80,
        .f_min = 0.0f,
        .f_max = 8000.0f,
        .log_floor = 1e-5f,
    };
}

gboolean aigc_speech_features_validate(const AigcSpeechFeatures *f, GError **error)
{
    const char *fault = NULL;
    if (f->sample_rate < 8000 || f->sample_rate > 48000)
        fault = "sample_rate must be 8000 … 48000";
    else if (f->n_fft < 256 || f->n_fft > 4096 || f->n_fft % 2)
        fault = "n_fft must be even, 256 … 4096";
    else if (f->win_length < 1 || f->win_length > f->n_fft)
        fault = "win_length must be 1 … n_fft";
    else if (f->hop_length < 1 || f->hop_length > f->win_length)
        fault = "hop_length must be 1 … win_length";
    else if (f->n_mels < 1 || f->n_mels > 256)
        fault = "n_mels must be 1 … 256";
    else if (!(f->f_min >= 0 && f->f_max > f->f_min && f->f_max <= f->sample_rate / 2.0f))
        fault = "need 0 ≤ f_min < f_max ≤ sample_rate/2";
    else if (!(f->log_floor > 0 && f->log_floor < 1))
        fault = "log_floor must be in (0, 1)";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "speech features: %s",
                    fault);
        return FALSE;
    }
    return TRUE;
}

gboolean aigc_speech_features_equal(const AigcSpeechFeatures *a, const AigcSpeechFeatures *b)
{
    return a->sample_rate == b->sample_rate && a->n_fft == b->n_fft &&
           a->win_length == b->win_length && a->hop_length == b->hop_length &&
           a->n_mels == b->n_mels && fabsf(a->f_min - b->f_min) < 1e-3f &&
           fabsf(a->f_max - b->f_max) < 1e-3f &&
           fabsf(a->log_floor - b->log_floor) <= 1e-3f * b->log_floor;
}

char *aigc_speech_features_to_json(const AigcSpeechFeatures *f)
{
    return g_strdup_printf("{\"sample_rate\": %d, \"n_fft\": %d, \"win_length\": %d, "
                           "\"hop_length\": %d, \"n_mels\": %d, \"f_min\": %.9g, "
                           "\"f_max\": %.9g, \"log_floor\": %.9g}",
                           f->sample_rate, f->n_fft, f->win_length, f->hop_length, f->n_mels,
                           f->f_min, f->f_max, f->log_floor);
}

gboolean aigc_speech_features_from_json(AigcSpeechFeatures *f, const char *json, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    GError *parse_error = NULL;
    if (!json_parser_load_from_data(parser, json, -1, &parse_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "speech features: %s", parse_error->message);
        g_error_free(parse_error);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "speech features: not a JSON object");
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    AigcSpeechFeatures d = aigc_speech_features_default();
#define INT(name) f->name = (int)json_object_get_int_member_with_default(o, #name, d.name)
#define FLT(name) f->name = (float)json_object_get_double_member_with_default(o, #name, d.name)
    INT(sample_rate);
    INT(n_fft);
    INT(win_length);
    INT(hop_length);
    INT(n_mels);
    FLT(f_min);
    FLT(f_max);
    FLT(log_floor);
#undef INT
#undef FLT
    return aigc_speech_features_validate(f, error);
}

struct _AigcMelAnalyzer {
    AigcSpeechFeatures f;
    AigcStft *stft;
    AigcMelFilterbank *fb;
};

AigcMelAnalyzer *aigc_mel_analyzer_new(const AigcSpeechFeatures *f, GError **error)
{
    if (!aigc_speech_features_validate(f, error))
        return NULL;
    AigcStftParams sp = aigc_stft_default_params();
    sp.n_fft = f->n_fft;
    sp.hop_length = f->hop_length;
    sp.win_length = f->win_length;
    sp.center = TRUE;
    AigcMelParams mp = aigc_mel_default_params();
    mp.sample_rate = f->sample_rate;
    mp.n_fft = f->n_fft;
    mp.n_mels = f->n_mels;
    mp.f_min = f->f_min;
    mp.f_max = f->f_max;
    g_autoptr(AigcStft) stft = aigc_stft_new(&sp, error);
    if (!stft)
        return NULL;
    AigcMelFilterbank *fb = aigc_mel_filterbank_new(&mp, error);
    if (!fb)
        return NULL;
    AigcMelAnalyzer *a = g_new0(AigcMelAnalyzer, 1);
    a->f = *f;
    a->stft = g_steal_pointer(&stft);
    a->fb = fb;
    return a;
}

void aigc_mel_analyzer_free(AigcMelAnalyzer *a)
{
    if (!a)
        return;
    aigc_stft_free(a->stft);
    aigc_mel_filterbank_free(a->fb);
    g_free(a);
}

const AigcSpeechFeatures *aigc_mel_analyzer_get_features(AigcMelAnalyzer *a)
{
    return &a->f;
}

gint64 aigc_mel_analyzer_get_n_frames(AigcMelAnalyzer *a, gint64 n_samples)
{
    return aigc_stft_get_n_frames(a->stft, n_samples);
}

gboolean aigc_mel_analyzer_run(AigcMelAnalyzer *a, const float *x, gint64 n_samples,
                               float *log_mel, GError **error)
{
    return aigc_mel_log_spectrogram(a->stft, a->fb, x, n_samples, a->f.log_floor, log_mel,
                                    error);
}

float *aigc_mel_analyzer_run_file(AigcMelAnalyzer *a, const char *path, gint64 *n_frames,
                                  float **samples_out, gint64 *n_samples, GError **error)
{
    g_autoptr(AigcAudio) audio = aigc_audio_file_read(path, error);
    if (!audio)
        return NULL;
    float *x = audio->samples;
    gint64 n = audio->n_samples;
    g_autofree float *resampled = NULL;
    if (audio->sample_rate != a->f.sample_rate) {
        resampled = aigc_resample(audio->samples, audio->n_samples, audio->sample_rate,
                                  a->f.sample_rate, AIGC_RESAMPLE_BEST, &n, error);
        if (!resampled) {
            g_prefix_error(error, "%s: ", path);
            return NULL;
        }
        x = resampled;
    }
    gint64 frames = aigc_mel_analyzer_get_n_frames(a, n);
    float *mel = g_new(float, (gsize)frames * a->f.n_mels);
    if (!aigc_mel_analyzer_run(a, x, n, mel, error)) {
        g_free(mel);
        g_prefix_error(error, "%s: ", path);
        return NULL;
    }
    *n_frames = frames;
    if (n_samples)
        *n_samples = n;
    if (samples_out)
        *samples_out = resampled ? g_steal_pointer(&resampled) : g_memdup2(x, (gsize)n * sizeof(float));
    return mel;
}
