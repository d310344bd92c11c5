/* SPDX-License-Identifier: MIT
 *
 * The common vocoder interface (see aigc-vocoder.h): a small dispatch over the three kinds.
 */
#include "aigc-vocoder.h"

#include "aigc-error.h"
#include "dsp/aigc-griffin-lim.h"
#include "models/aigc-registry.h"
#include "models/melgan/aigc-melgan.h"
#include "models/wavenet/aigc-wavenet.h"

#include <math.h>
#include <string.h>

#define MAX_FRAMES ((gint64)1 << 22) /* 18 hours at 62.5 frames/s: a bound before allocating */

struct _AigcVocoder {
    char *family;
    AigcSpeechFeatures features;
    AigcMelFilterbank *fb; /* Griffin-Lim */
    AigcMelgan *melgan;
    AigcWavenet *wavenet;
};

AigcVocoderParams aigc_vocoder_default_params(void)
{
    return (AigcVocoderParams){.seed = 0, .griffin_lim_iters = 32};
}

AigcVocoder *aigc_vocoder_new_griffin_lim(const AigcSpeechFeatures *features, GError **error)
{
    if (!aigc_speech_features_validate(features, error))
        return NULL;
    AigcMelParams mp = aigc_mel_default_params();
    mp.sample_rate = features->sample_rate;
    mp.n_fft = features->n_fft;
    mp.n_mels = features->n_mels;
    mp.f_min = features->f_min;
    mp.f_max = features->f_max;
    AigcMelFilterbank *fb = aigc_mel_filterbank_new(&mp, error);
    if (!fb)
        return NULL;
    AigcVocoder *v = g_new0(AigcVocoder, 1);
    v->family = g_strdup(AIGC_VOCODER_GRIFFIN_LIM);
    v->features = *features;
    v->fb = fb;
    return v;
}

AigcVocoder *aigc_vocoder_new_from_file(AigcSafetensors *st, GError **error)
{
    const char *family = aigc_safetensors_get_metadata(st, "family");
    const char *label = aigc_safetensors_get_label(st);
    AigcVocoder *v = NULL;
    if (family && !strcmp(family, AIGC_MELGAN_FAMILY)) {
        AigcMelgan *m = aigc_melgan_load(st, error);
        if (!m)
            return NULL;
        v = g_new0(AigcVocoder, 1);
        v->melgan = m;
        v->features = *aigc_melgan_get_features(m);
    } else if (family && !strcmp(family, AIGC_WAVENET_FAMILY)) {
        AigcWavenet *w = aigc_wavenet_load(st, error);
        if (!w)
            return NULL;
        v = g_new0(AigcVocoder, 1);
        v->wavenet = w;
        v->features = *aigc_wavenet_get_features(w);
    } else {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s: a %s model is not a vocoder (vocoders: melgan, wavenet, griffin-lim)",
                    label, family ? family : "unknown");
        return NULL;
    }
    v->family = g_strdup(family);
    return v;
}

AigcVocoder *aigc_vocoder_load(const char *name_or_path, GError **error)
{
    if (!strcmp(name_or_path, AIGC_VOCODER_GRIFFIN_LIM)) {
        AigcSpeechFeatures f = aigc_speech_features_default();
        return aigc_vocoder_new_griffin_lim(&f, error);
    }
    g_autoptr(AigcModelInfo) info = aigc_models_find(name_or_path, error);
    if (!info)
        return NULL;
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(info->path, error);
    if (!st)
        return NULL;
    return aigc_vocoder_new_from_file(st, error);
}

void aigc_vocoder_free(AigcVocoder *v)
{
    if (!v)
        return;
    g_free(v->family);
    aigc_mel_filterbank_free(v->fb);
    aigc_melgan_free(v->melgan);
    aigc_wavenet_free(v->wavenet);
    g_free(v);
}

const char *aigc_vocoder_get_family(AigcVocoder *v)
{
    return v->family;
}

const AigcSpeechFeatures *aigc_vocoder_get_features(AigcVocoder *v)
{
    return &v->features;
}

static gboolean gl_progress(int iteration, int n_iter, double sc, gpointer user_data)
{
    const AigcVocoderParams *p = user_data;
    return p->progress((double)iteration / MAX(n_iter, 1), p->user_data);
}

static gboolean griffin_lim(AigcVocoder *v, const float *mel, gint64 F, const AigcVocoderParams *p,
                            float *out, GError **error)
{
    const AigcSpeechFeatures *f = &v->features;
    AigcStftParams sp = aigc_stft_default_params();
    sp.n_fft = f->n_fft;
    sp.hop_length = f->hop_length;
    sp.win_length = f->win_length;
    sp.center = TRUE;
    g_autoptr(AigcStft) stft = aigc_stft_new(&sp, error);
    if (!stft)
        return FALSE;
    AigcGriffinLimParams gp = aigc_griffin_lim_default_params();
    gp.n_iter = CLAMP(p->griffin_lim_iters, 0, 10000);
    gp.seed = p->seed;
    if (p->progress) {
        gp.progress = gl_progress;
        gp.user_data = (gpointer)p;
    }
    /* A centred STFT of n samples has n/hop + 1 frames: F frames come from up to F·hop − 1
     * samples. The interface promises F·hop, so the last one is silence. */
    const gint64 n = F * f->hop_length;
    out[n - 1] = 0.0f;
    return aigc_griffin_lim_from_mel(stft, v->fb, mel, F, TRUE, out, n - 1, &gp, error);
}

float *aigc_vocoder_synthesize(AigcVocoder *v, const float *mel, gint64 n_frames,
                               const AigcVocoderParams *params, gint64 *n_samples, GError **error)
{
    AigcVocoderParams p = params ? *params : aigc_vocoder_default_params();
    const AigcSpeechFeatures *f = &v->features;
    if (n_frames < 1 || n_frames > MAX_FRAMES) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: %" G_GINT64_FORMAT " mel frames is not a length it can render", v->family,
                    n_frames);
        return NULL;
    }
    for (gint64 i = 0; i < n_frames * f->n_mels; i++)
        if (!isfinite(mel[i])) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "%s: the mel spectrogram holds NaN or infinite values", v->family);
            return NULL;
        }
    const gint64 n = n_frames * f->hop_length;
    float *out = g_try_new(float, (gsize)n);
    if (!out) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s: not enough memory for %" G_GINT64_FORMAT " samples", v->family, n);
        return NULL;
    }
    gboolean ok;
    if (v->melgan)
        ok = aigc_melgan_synthesize(v->melgan, mel, n_frames, out, p.progress, p.user_data, error);
    else if (v->wavenet)
        ok = aigc_wavenet_generate(v->wavenet, mel, n_frames, p.seed, out, p.progress, p.user_data,
                                   error);
    else
        ok = griffin_lim(v, mel, n_frames, &p, out, error);
    if (!ok) {
        g_free(out);
        return NULL;
    }
    *n_samples = n;
    return out;
}
