/* SPDX-License-Identifier: MIT
 *
 * Vocoder training corpus: reading, the mel cache, random segments (see aigc-vocoder-data.h).
 */
#include "aigc-vocoder-data.h"

#include "aigc-error.h"
#include "aigc-log.h"
#include "io/aigc-audio-file.h"
#include "io/aigc-safetensors.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
    char *id;
    float *audio; /* [n_samples] */
    gint64 n_samples;
    gint64 mel_offset; /* first frame in mels */
    gint64 n_frames;
} Utterance;

struct _AigcVocoderCorpus {
    AigcSpeechFeatures features;
    GArray *utts; /* (element Utterance) */
    float *mels;  /* [total_frames, n_mels] */
    gint64 total_frames;
    double seconds;
    /* segment sampling: starts[i] = segments of utterance < i, for the last `frames` asked */
    gint64 *starts;
    int starts_frames;
};

static void utterance_clear(gpointer p)
{
    Utterance *u = p;
    g_free(u->id);
    g_free(u->audio);
}

void aigc_vocoder_corpus_free(AigcVocoderCorpus *c)
{
    if (!c)
        return;
    if (c->utts)
        g_array_free(c->utts, TRUE);
    g_free(c->mels);
    g_free(c->starts);
    g_free(c);
}

/* An id from a list file must name a file inside the split's folder. */
static gboolean id_is_safe(const char *id)
{
    return *id && !strchr(id, '/') && !strchr(id, '\\') && strcmp(id, ".") && strcmp(id, "..");
}

static int compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The audio files of a split, as (id, path) pairs in order. */
static GPtrArray *list_files(const char *dir, const char *split, GError **error)
{
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free); /* id, path, id, path … */
    g_autofree char *list = g_strconcat(dir, G_DIR_SEPARATOR_S, split, ".txt", NULL);
    g_autofree char *sub = g_build_filename(dir, split, NULL);
    if (g_file_test(list, G_FILE_TEST_IS_REGULAR)) {
        g_autofree char *text = NULL;
        GError *e = NULL;
        if (!g_file_get_contents(list, &text, NULL, &e)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO, "%s", e->message);
            g_error_free(e);
            g_ptr_array_free(files, TRUE);
            return NULL;
        }
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (int i = 0; lines[i]; i++) {
            char *line = g_strstrip(lines[i]);
            if (!*line)
                continue;
            char *bar = strchr(line, '|');
            g_autofree char *id = g_strndup(line, bar ? (gsize)(bar - line) : strlen(line));
            if (!id_is_safe(id)) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                            "%s, line %d: “%s” is not a file name", list, i + 1, id);
                g_ptr_array_free(files, TRUE);
                return NULL;
            }
            g_autofree char *file = g_strconcat(id, ".wav", NULL);
            g_ptr_array_add(files, g_strdup(id));
            g_ptr_array_add(files, g_build_filename(sub, file, NULL));
        }
        return files;
    }
    const char *folder = g_file_test(sub, G_FILE_TEST_IS_DIR) ? sub : dir;
    if (strcmp(split, "train") != 0 && folder == dir) {
        /* only the training split may live in DIR itself */
        return files;
    }
    g_autoptr(GDir) d = g_dir_open(folder, 0, NULL);
    if (!d)
        return files;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)))
        if (g_str_has_suffix(name, ".wav"))
            g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        const char *n = names->pdata[i];
        g_ptr_array_add(files, g_strndup(n, strlen(n) - 4));
        g_ptr_array_add(files, g_build_filename(folder, n, NULL));
    }
    return files;
}

/* sha256 of the features and each file's name, size and modification time. */
static char *fingerprint(const AigcSpeechFeatures *f, GPtrArray *files)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree char *fj = aigc_speech_features_to_json(f);
    g_checksum_update(sum, (const guchar *)fj, -1);
    for (guint i = 0; i + 1 < files->len; i += 2) {
        GStatBuf sb;
        const char *path = files->pdata[i + 1];
        gint64 size = -1, mtime = -1;
        if (g_stat(path, &sb) == 0) {
            size = (gint64)sb.st_size;
            mtime = (gint64)sb.st_mtime;
        }
        g_autofree char *line = g_strdup_printf("%s\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\n",
                                                (const char *)files->pdata[i], size, mtime);
        g_checksum_update(sum, (const guchar *)line, -1);
    }
    return g_strdup(g_checksum_get_string(sum));
}

static gboolean load_cache(AigcVocoderCorpus *c, const char *path, const char *print)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, NULL);
    if (!st)
        return FALSE;
    const char *fp = aigc_safetensors_get_metadata(st, "fingerprint");
    const char *fj = aigc_safetensors_get_metadata(st, "speech.features");
    AigcSpeechFeatures f;
    if (!fp || strcmp(fp, print) || !fj || !aigc_speech_features_from_json(&f, fj, NULL) ||
        !aigc_speech_features_equal(&f, &c->features))
        return FALSE;
    const AigcSafetensorsTensor *mels = aigc_safetensors_find(st, "mels");
    const AigcSafetensorsTensor *offs = aigc_safetensors_find(st, "offsets");
    const guint n = c->utts->len;
    if (!mels || !offs || offs->dtype != AIGC_DTYPE_I64 || offs->n_dims != 1 ||
        offs->shape[0] != n + 1 || mels->n_dims != 2 || mels->shape[1] != c->features.n_mels)
        return FALSE;
    gint64 *o = g_new(gint64, n + 1);
    memcpy(o, offs->data, sizeof(gint64) * (n + 1));
    gboolean ok = o[0] == 0 && o[n] == mels->shape[0];
    for (guint i = 0; ok && i < n; i++) {
        Utterance *u = &g_array_index(c->utts, Utterance, i);
        ok = o[i + 1] - o[i] == u->n_frames;
    }
    if (ok) {
        c->total_frames = mels->shape[0];
        c->mels = g_new(float, (gsize)MAX(mels->n_elements, 1));
        ok = aigc_safetensors_read_f32(st, mels, c->mels, mels->n_elements, NULL);
    }
    for (guint i = 0; ok && i < n; i++)
        g_array_index(c->utts, Utterance, i).mel_offset = o[i];
    g_free(o);
    return ok;
}

static void save_cache(AigcVocoderCorpus *c, const char *path, const char *print)
{
    const guint n = c->utts->len;
    g_autofree gint64 *o = g_new(gint64, n + 1);
    for (guint i = 0; i < n; i++)
        o[i] = g_array_index(c->utts, Utterance, i).mel_offset;
    o[n] = c->total_frames;
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    g_autofree char *fj = aigc_speech_features_to_json(&c->features);
    aigc_safetensors_writer_set_metadata(w, "fingerprint", print);
    aigc_safetensors_writer_set_metadata(w, "speech.features", fj);
    GError *e = NULL;
    if (!aigc_safetensors_writer_add(w, "offsets", AIGC_DTYPE_I64, 1, (gint64[]){n + 1}, o, &e) ||
        !aigc_safetensors_writer_add_f32(w, "mels", AIGC_DTYPE_F32, 2,
                                         (gint64[]){c->total_frames, c->features.n_mels}, c->mels,
                                         &e) ||
        !aigc_safetensors_writer_write(w, path, NULL, NULL, &e)) {
        aigc_info("mel cache not written (%s); it will be computed again next time", e->message);
        g_error_free(e);
    }
}

AigcVocoderCorpus *aigc_vocoder_corpus_load(const char *dir, const char *split,
                                            const AigcSpeechFeatures *features, int limit,
                                            AigcJob *job, GError **error)
{
    if (!aigc_speech_features_validate(features, error))
        return NULL;
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND,
                    "%s: no such folder (a speech corpus: SPLIT.txt and SPLIT/*.wav)", dir);
        return NULL;
    }
    g_autoptr(GPtrArray) files = list_files(dir, split, error);
    if (!files)
        return NULL;
    if (limit > 0 && files->len > 2 * (guint)limit)
        g_ptr_array_set_size(files, 2 * (guint)limit);
    if (files->len == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND,
                    "%s: no %s audio (expected %s.txt with %s/ID.wav, or WAV files in %s/)", dir,
                    split, split, split, split);
        return NULL;
    }
    g_autofree char *cache = NULL, *print = NULL;
    AigcVocoderCorpus *c = g_new0(AigcVocoderCorpus, 1);
    c->features = *features;
    c->utts = g_array_new(FALSE, TRUE, sizeof(Utterance));
    g_array_set_clear_func(c->utts, utterance_clear);
    g_autoptr(AigcMelAnalyzer) an = aigc_mel_analyzer_new(features, error);
    if (!an)
        goto fail;
    const guint n = files->len / 2;
    for (guint i = 0; i < n; i++) {
        if (job && aigc_job_is_cancelled(job)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "stopped");
            goto fail;
        }
        const char *path = files->pdata[2 * i + 1];
        if (job && i % 50 == 0) {
            g_autofree char *stage = g_strdup_printf("reading %s audio %u/%u", split, i, n);
            aigc_job_report_progress(job, 0, stage);
        }
        g_autoptr(AigcAudio) audio = aigc_audio_file_read(path, error);
        if (!audio)
            goto fail;
        Utterance u = {.id = g_strdup(files->pdata[2 * i])};
        if (audio->sample_rate != features->sample_rate) {
            u.audio = aigc_resample(audio->samples, audio->n_samples, audio->sample_rate,
                                    features->sample_rate, AIGC_RESAMPLE_BEST, &u.n_samples, error);
            if (!u.audio) {
                g_prefix_error(error, "%s: ", path);
                g_free(u.id);
                goto fail;
            }
        } else {
            u.audio = g_steal_pointer(&audio->samples);
            u.n_samples = audio->n_samples;
        }
        u.n_frames = aigc_mel_analyzer_get_n_frames(an, u.n_samples);
        u.mel_offset = c->total_frames;
        c->total_frames += u.n_frames;
        c->seconds += (double)u.n_samples / features->sample_rate;
        g_array_append_val(c->utts, u);
    }
    cache = g_strconcat(dir, G_DIR_SEPARATOR_S, split, ".mels.safetensors", NULL);
    print = fingerprint(features, files);
    if (!load_cache(c, cache, print)) {
        g_clear_pointer(&c->mels, g_free);
        const int M = features->n_mels;
        c->mels = g_new(float, (gsize)MAX(c->total_frames * M, 1));
        for (guint i = 0; i < n; i++) {
            if (job && aigc_job_is_cancelled(job)) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "stopped");
                goto fail;
            }
            if (job && i % 50 == 0) {
                g_autofree char *stage =
                    g_strdup_printf("computing %s log-mels %u/%u (cached afterwards)", split, i, n);
                aigc_job_report_progress(job, 0, stage);
            }
            Utterance *u = &g_array_index(c->utts, Utterance, i);
            if (!aigc_mel_analyzer_run(an, u->audio, u->n_samples, c->mels + u->mel_offset * M,
                                       error)) {
                g_prefix_error(error, "%s: ", (const char *)files->pdata[2 * i + 1]);
                goto fail;
            }
        }
        save_cache(c, cache, print);
    }
    return c;
fail:
    aigc_vocoder_corpus_free(c);
    return NULL;
}

int aigc_vocoder_corpus_get_n(AigcVocoderCorpus *c)
{
    return (int)c->utts->len;
}

double aigc_vocoder_corpus_get_seconds(AigcVocoderCorpus *c)
{
    return c->seconds;
}

const char *aigc_vocoder_corpus_get_id(AigcVocoderCorpus *c, int i)
{
    return g_array_index(c->utts, Utterance, i).id;
}

const float *aigc_vocoder_corpus_get_audio(AigcVocoderCorpus *c, int i, gint64 *n_samples)
{
    Utterance *u = &g_array_index(c->utts, Utterance, i);
    *n_samples = u->n_samples;
    return u->audio;
}

const float *aigc_vocoder_corpus_get_mel(AigcVocoderCorpus *c, int i, gint64 *n_frames)
{
    Utterance *u = &g_array_index(c->utts, Utterance, i);
    *n_frames = u->n_frames;
    return c->mels + u->mel_offset * c->features.n_mels;
}

/* Start frames k of utterance u with the whole audio under [k, k + frames): k·hop + frames·hop
 * ≤ n_samples, and the frames inside the analysis. */
static gint64 segments_of(const AigcVocoderCorpus *c, const Utterance *u, int frames)
{
    gint64 usable = MIN(u->n_frames, u->n_samples / c->features.hop_length);
    return MAX(usable - frames + 1, 0);
}

gint64 aigc_vocoder_corpus_count_segments(AigcVocoderCorpus *c, int frames)
{
    gint64 total = 0;
    for (guint i = 0; i < c->utts->len; i++)
        total += segments_of(c, &g_array_index(c->utts, Utterance, i), frames);
    return total;
}

gboolean aigc_vocoder_corpus_sample(AigcVocoderCorpus *c, AigcRng *rng, int B, int frames, int ctx,
                                    float *audio, float *mel, float *prev)
{
    const guint n = c->utts->len;
    if (!c->starts || c->starts_frames != frames) {
        g_free(c->starts);
        c->starts = g_new(gint64, n + 1);
        c->starts[0] = 0;
        for (guint i = 0; i < n; i++)
            c->starts[i + 1] =
                c->starts[i] + segments_of(c, &g_array_index(c->utts, Utterance, i), frames);
        c->starts_frames = frames;
    }
    const gint64 total = c->starts[n];
    if (total <= 0 || total > G_MAXUINT32)
        return FALSE;
    const int hop = c->features.hop_length, M = c->features.n_mels, Fw = frames + 2 * ctx;
    const gint64 T = (gint64)frames * hop;
    for (int b = 0; b < B; b++) {
        gint64 s = aigc_rng_below(rng, (guint32)total);
        /* the utterance holding position s: binary search over the cumulative counts */
        guint lo = 0, hi = n;
        while (hi - lo > 1) {
            guint mid = (lo + hi) / 2;
            if (c->starts[mid] <= s)
                lo = mid;
            else
                hi = mid;
        }
        const Utterance *u = &g_array_index(c->utts, Utterance, lo);
        const gint64 k = s - c->starts[lo];
        memcpy(audio + b * T, u->audio + k * hop, sizeof(float) * (gsize)T);
        if (prev) {
            const gint64 at = k * hop; /* the segment's first sample in the utterance */
            prev[2 * b] = at >= 2 ? u->audio[at - 2] : 0.0f;
            prev[2 * b + 1] = at >= 1 ? u->audio[at - 1] : 0.0f;
        }
        const float *um = c->mels + u->mel_offset * M; /* [n_frames, M] */
        float *dst = mel + (gint64)b * M * Fw;         /* [M, Fw] */
        for (int j = 0; j < Fw; j++) {
            gint64 f = k - ctx + j;
            gboolean inside = f >= 0 && f < u->n_frames;
            for (int m = 0; m < M; m++)
                dst[(gint64)m * Fw + j] = inside ? um[f * M + m] : 0.0f;
        }
    }
    return TRUE;
}
