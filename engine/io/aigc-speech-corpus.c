/* SPDX-License-Identifier: MIT
 *
 * Speech corpus reader with a feature cache (see the header's DESIGN paragraph).
 */
#include "aigc-speech-corpus.h"

#include "aigc-error.h"
#include "aigc-log.h"
#include "dsp/aigc-phonemes.h"
#include "io/aigc-safetensors.h"
#include "tensor/aigc-half.h"

#include <glib/gstdio.h>
#include <string.h>

#define CACHE_FORMAT "aigc-speech-corpus-cache-1"

struct _AigcSpeechCorpus {
    int n; /* utterances present */
    int n_missing;
    int n_mels;
    gboolean from_cache;
    char **names; /* [n_lines] */
    char **texts; /* [n_lines] */
    int n_lines;
    gint32 *lines;     /* [n] the list line of each utterance */
    gint64 *frame_off; /* [n + 1] */
    gint64 *id_off;    /* [n + 1] */
    guint16 *mels;     /* [frames, n_mels] F16 */
    gint32 *ids;
    AigcSpeechUtterance *utts; /* [n] */
};

void aigc_speech_corpus_free(AigcSpeechCorpus *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n_lines; i++) {
        g_free(c->names[i]);
        g_free(c->texts[i]);
    }
    g_free(c->names);
    g_free(c->texts);
    g_free(c->lines);
    g_free(c->frame_off);
    g_free(c->id_off);
    g_free(c->mels);
    g_free(c->ids);
    g_free(c->utts);
    g_free(c);
}

static gboolean name_ok(const char *s)
{
    if (!*s || strlen(s) > 128 || s[0] == '.')
        return FALSE;
    for (; *s; s++)
        if (!g_ascii_isalnum(*s) && *s != '_' && *s != '-' && *s != '.')
            return FALSE;
    return TRUE;
}

/* Parses the list file into names and texts. */
static gboolean parse_list(AigcSpeechCorpus *c, const char *path, const char *bytes, gsize len,
                           GError **error)
{
    if (!g_utf8_validate(bytes, (gssize)len, NULL)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: the list is not valid UTF-8 text", path);
        return FALSE;
    }
    g_auto(GStrv) lines = g_strsplit(bytes, "\n", -1);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *texts = g_ptr_array_new_with_free_func(g_free);
    for (int k = 0; lines[k]; k++) {
        char *line = g_strstrip(lines[k]);
        if (!*line)
            continue;
        char *bar = strchr(line, '|');
        if (bar)
            *bar = '\0';
        char *name = line, *text = bar ? g_strstrip(bar + 1) : NULL;
        g_strstrip(name);
        if (!bar || !name_ok(name) || !*text) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "%s line %d: expected NAME|sentence (a file name of letters, digits, "
                        "“_”, “-” or “.”, then the text)",
                        path, k + 1);
            g_ptr_array_free(names, TRUE);
            g_ptr_array_free(texts, TRUE);
            return FALSE;
        }
        g_ptr_array_add(names, g_strdup(name));
        g_ptr_array_add(texts, g_strdup(text));
    }
    c->n_lines = (int)names->len;
    c->names = (char **)g_ptr_array_free(names, FALSE);
    c->texts = (char **)g_ptr_array_free(texts, FALSE);
    if (c->n_lines == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: the list holds no sentences", path);
        return FALSE;
    }
    return TRUE;
}

static char *wav_path(const char *dir, const char *split, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".wav", NULL);
    return g_build_filename(dir, split, file, NULL);
}

/* The cache key: list bytes, features, vocabulary, and each audio file's size and time. */
static char *corpus_hash(AigcSpeechCorpus *c, const char *dir, const char *split, const char *list,
                         gsize list_len, const AigcSpeechFeatures *f, AigcPhonemeVocab *vocab,
                         gboolean *present)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree char *fj = aigc_speech_features_to_json(f);
    g_autofree char *vj = aigc_phoneme_vocab_to_json(vocab);
    g_checksum_update(sum, (const guchar *)CACHE_FORMAT, -1);
    g_checksum_update(sum, (const guchar *)fj, -1);
    g_checksum_update(sum, (const guchar *)vj, -1);
    g_checksum_update(sum, (const guchar *)list, (gssize)list_len);
    for (int i = 0; i < c->n_lines; i++) {
        g_autofree char *path = wav_path(dir, split, c->names[i]);
        GStatBuf st;
        char buf[64];
        present[i] = g_stat(path, &st) == 0 && S_ISREG(st.st_mode);
        if (present[i])
            g_snprintf(buf, sizeof buf, "%d:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT "\n", i,
                       (gint64)st.st_size, (gint64)st.st_mtime);
        else
            g_snprintf(buf, sizeof buf, "%d:missing\n", i);
        g_checksum_update(sum, (const guchar *)buf, -1);
    }
    return g_strdup(g_checksum_get_string(sum));
}

/* Reads a cache file; FALSE (with a reason in *why) when it is unusable. */
static gboolean read_cache(AigcSpeechCorpus *c, const char *path, const gboolean *present,
                           int n_symbols, char **why)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    if (!st) {
        *why = g_strdup(error->message);
        return FALSE;
    }
    const char *format = aigc_safetensors_get_metadata(st, "format");
    const AigcSafetensorsTensor *mels = aigc_safetensors_find(st, "mels");
    const AigcSafetensorsTensor *fo = aigc_safetensors_find(st, "frame_offsets");
    const AigcSafetensorsTensor *io = aigc_safetensors_find(st, "id_offsets");
    const AigcSafetensorsTensor *ids = aigc_safetensors_find(st, "ids");
    const AigcSafetensorsTensor *lines = aigc_safetensors_find(st, "lines");
    int n = 0;
    for (int i = 0; i < c->n_lines; i++)
        n += present[i];
    if (!format || strcmp(format, CACHE_FORMAT) != 0 || !mels || mels->dtype != AIGC_DTYPE_F16 ||
        mels->n_dims != 2 || mels->shape[1] != c->n_mels || !fo || fo->dtype != AIGC_DTYPE_I64 ||
        fo->n_dims != 1 || fo->shape[0] != n + 1 || !io || io->dtype != AIGC_DTYPE_I64 ||
        io->n_dims != 1 || io->shape[0] != n + 1 || !ids || ids->dtype != AIGC_DTYPE_I32 ||
        ids->n_dims != 1 || !lines || lines->dtype != AIGC_DTYPE_I32 || lines->n_dims != 1 ||
        lines->shape[0] != n) {
        *why = g_strdup("its tensors do not describe this corpus");
        return FALSE;
    }
    c->n = n;
    c->frame_off = g_memdup2(fo->data, fo->n_bytes);
    c->id_off = g_memdup2(io->data, io->n_bytes);
    c->lines = g_memdup2(lines->data, lines->n_bytes);
    gboolean ok = c->frame_off[0] == 0 && c->id_off[0] == 0 && c->frame_off[n] == mels->shape[0] &&
                  c->id_off[n] == ids->shape[0];
    for (int i = 0; ok && i < n; i++)
        ok = c->frame_off[i + 1] > c->frame_off[i] && c->id_off[i + 1] > c->id_off[i] &&
             c->frame_off[i + 1] - c->frame_off[i] <= G_MAXINT &&
             c->id_off[i + 1] - c->id_off[i] <= G_MAXINT && c->lines[i] >= 0 &&
             c->lines[i] < c->n_lines && present[c->lines[i]] &&
             (i == 0 || c->lines[i] > c->lines[i - 1]);
    if (ok) {
        c->mels = g_memdup2(mels->data, mels->n_bytes);
        c->ids = g_memdup2(ids->data, ids->n_bytes);
        for (gint64 k = 0; ok && k < ids->shape[0]; k++)
            ok = c->ids[k] >= 0 && c->ids[k] < n_symbols;
        for (gint64 k = 0; ok && k < mels->n_elements; k++) {
            float v = aigc_f16_to_f32(c->mels[k]);
            ok = v == v && v > -1e4f && v < 1e4f;
        }
    }
    if (!ok) {
        *why = g_strdup("its offsets, ids or values are inconsistent");
        g_clear_pointer(&c->frame_off, g_free);
        g_clear_pointer(&c->id_off, g_free);
        g_clear_pointer(&c->lines, g_free);
        g_clear_pointer(&c->mels, g_free);
        g_clear_pointer(&c->ids, g_free);
        return FALSE;
    }
    return TRUE;
}

static gboolean write_cache(AigcSpeechCorpus *c, const char *path, const char *hash, GError **error)
{
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    aigc_safetensors_writer_set_metadata(w, "format", CACHE_FORMAT);
    aigc_safetensors_writer_set_metadata(w, "hash", hash);
    const gint64 n1 = c->n + 1;
    return aigc_safetensors_writer_add(w, "mels", AIGC_DTYPE_F16, 2,
                                       (gint64[]){c->frame_off[c->n], c->n_mels}, c->mels, error) &&
           aigc_safetensors_writer_add(w, "frame_offsets", AIGC_DTYPE_I64, 1, &n1, c->frame_off,
                                       error) &&
           aigc_safetensors_writer_add(w, "id_offsets", AIGC_DTYPE_I64, 1, &n1, c->id_off, error) &&
           aigc_safetensors_writer_add(w, "ids", AIGC_DTYPE_I32, 1, (gint64[]){c->id_off[c->n]},
                                       c->ids, error) &&
           aigc_safetensors_writer_add(w, "lines", AIGC_DTYPE_I32, 1, (gint64[]){c->n}, c->lines,
                                       error) &&
           aigc_safetensors_writer_write(w, path, NULL, NULL, error);
}

/* Phonemes and mels of every present line. */
static gboolean compute(AigcSpeechCorpus *c, const char *dir, const char *split,
                        const gboolean *present, const AigcSpeechFeatures *f,
                        AigcPhonemeVocab *vocab, AigcJob *job, GError **error)
{
    g_autoptr(AigcMelAnalyzer) an = aigc_mel_analyzer_new(f, error);
    if (!an)
        return FALSE;
    GArray *mels = g_array_new(FALSE, FALSE, sizeof(guint16));
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint32));
    GArray *fo = g_array_new(FALSE, FALSE, sizeof(gint64));
    GArray *io = g_array_new(FALSE, FALSE, sizeof(gint64));
    GArray *lines = g_array_new(FALSE, FALSE, sizeof(gint32));
    gint64 zero = 0;
    g_array_append_val(fo, zero);
    g_array_append_val(io, zero);
    gboolean ok = TRUE;
    int n_present = 0, done = 0;
    for (int i = 0; i < c->n_lines; i++)
        n_present += present[i];
    for (int i = 0; ok && i < c->n_lines; i++) {
        if (!present[i])
            continue;
        if (job && aigc_job_is_cancelled(job)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "cancelled");
            ok = FALSE;
            break;
        }
        if (job && done % 25 == 0) {
            g_autofree char *stage =
                g_strdup_printf("analysing the %s corpus: %d/%d", split, done, n_present);
            aigc_job_report_progress(job, (double)done / n_present, stage);
        }
        g_autofree char *path = wav_path(dir, split, c->names[i]);
        g_autofree char *phonemes =
            aigc_phonemes_from_text(c->texts[i], -1, aigc_phoneme_vocab_get_voice(vocab), error);
        if (!phonemes) {
            ok = FALSE;
            break;
        }
        gsize n_ids = 0;
        g_autofree gint32 *utt_ids =
            aigc_phoneme_vocab_encode(vocab, phonemes, -1, TRUE, &n_ids, NULL);
        gint64 n_frames = 0;
        g_autofree float *mel = aigc_mel_analyzer_run_file(an, path, &n_frames, NULL, NULL, error);
        if (!mel) {
            ok = FALSE;
            break;
        }
        if (n_ids <= 2 || n_frames < 1 || n_frames > G_MAXINT) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", path,
                        n_ids <= 2 ? "its sentence has no words to say" : "the recording is empty");
            ok = FALSE;
            break;
        }
        gsize base = mels->len;
        g_array_set_size(mels, base + (gsize)n_frames * c->n_mels);
        guint16 *dst = &g_array_index(mels, guint16, base);
        for (gint64 k = 0; k < n_frames * c->n_mels; k++)
            dst[k] = aigc_f32_to_f16(mel[k]);
        g_array_append_vals(ids, utt_ids, (guint)n_ids);
        gint64 fend = (gint64)(mels->len / c->n_mels), iend = ids->len;
        gint32 line = i;
        g_array_append_val(fo, fend);
        g_array_append_val(io, iend);
        g_array_append_val(lines, line);
        done++;
    }
    c->n = (int)lines->len;
    c->mels = (guint16 *)g_array_free(mels, !ok);
    c->ids = (gint32 *)g_array_free(ids, !ok);
    c->frame_off = (gint64 *)g_array_free(fo, !ok);
    c->id_off = (gint64 *)g_array_free(io, !ok);
    c->lines = (gint32 *)g_array_free(lines, !ok);
    return ok;
}

AigcSpeechCorpus *aigc_speech_corpus_load(const char *dir, const char *split,
                                          const AigcSpeechFeatures *features,
                                          AigcPhonemeVocab *vocab, const char *cache_dir,
                                          AigcJob *job, GError **error)
{
    if (!aigc_speech_features_validate(features, error))
        return NULL;
    g_autofree char *list_name = g_strconcat(split, ".txt", NULL);
    g_autofree char *list_path = g_build_filename(dir, list_name, NULL);
    g_autofree char *list = NULL;
    gsize list_len = 0;
    GError *io_error = NULL;
    if (!g_file_get_contents(list_path, &list, &list_len, &io_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO,
                    "%s (a speech corpus is a folder with %s and %s/NAME.wav files)",
                    io_error->message, list_name, split);
        g_error_free(io_error);
        return NULL;
    }
    g_autoptr(AigcSpeechCorpus) c = g_new0(AigcSpeechCorpus, 1);
    c->n_mels = features->n_mels;
    if (!parse_list(c, list_path, list, list_len, error))
        return NULL;
    g_autofree gboolean *present = g_new0(gboolean, c->n_lines);
    g_autofree char *hash = corpus_hash(c, dir, split, list, list_len, features, vocab, present);
    for (int i = 0; i < c->n_lines; i++)
        c->n_missing += !present[i];
    if (c->n_missing == c->n_lines) {
        g_autofree char *folder = g_build_filename(dir, split, NULL);
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO,
                    "%s: none of the %d recordings the list names is there", folder, c->n_lines);
        return NULL;
    }
    g_autofree char *cache_path = NULL;
    if (cache_dir) {
        g_autofree char *file = g_strdup_printf("%s-%.16s.safetensors", split, hash);
        cache_path = g_build_filename(cache_dir, file, NULL);
        if (g_file_test(cache_path, G_FILE_TEST_EXISTS)) {
            g_autofree char *why = NULL;
            c->from_cache =
                read_cache(c, cache_path, present, aigc_phoneme_vocab_get_size(vocab), &why);
            if (!c->from_cache)
                aigc_warning("%s: the feature cache is unusable (%s); recomputing", cache_path,
                             why);
        }
    }
    if (!c->from_cache) {
        if (!compute(c, dir, split, present, features, vocab, job, error))
            return NULL;
        if (cache_path) {
            GError *cache_error = NULL;
            if (g_mkdir_with_parents(cache_dir, 0755) != 0 ||
                !write_cache(c, cache_path, hash, &cache_error)) {
                aigc_warning("%s: cannot write the feature cache (%s)", cache_path,
                             cache_error ? cache_error->message : g_strerror(errno));
                g_clear_error(&cache_error);
            }
        }
    }
    c->utts = g_new0(AigcSpeechUtterance, c->n);
    for (int i = 0; i < c->n; i++) {
        AigcSpeechUtterance *u = &c->utts[i];
        u->name = c->names[c->lines[i]];
        u->text = c->texts[c->lines[i]];
        u->ids = c->ids + c->id_off[i];
        u->n_ids = (int)(c->id_off[i + 1] - c->id_off[i]);
        u->mel = c->mels + c->frame_off[i] * c->n_mels;
        u->n_frames = (int)(c->frame_off[i + 1] - c->frame_off[i]);
    }
    return g_steal_pointer(&c);
}

int aigc_speech_corpus_get_n(AigcSpeechCorpus *c)
{
    return c->n;
}

const AigcSpeechUtterance *aigc_speech_corpus_get(AigcSpeechCorpus *c, int i)
{
    g_return_val_if_fail(i >= 0 && i < c->n, NULL);
    return &c->utts[i];
}

int aigc_speech_corpus_get_n_missing(AigcSpeechCorpus *c)
{
    return c->n_missing;
}

gboolean aigc_speech_corpus_get_from_cache(AigcSpeechCorpus *c)
{
    return c->from_cache;
}

gint64 aigc_speech_corpus_get_n_frames(AigcSpeechCorpus *c)
{
    return c->frame_off[c->n];
}

int aigc_speech_corpus_get_max_frames(AigcSpeechCorpus *c)
{
    int m = 0;
    for (int i = 0; i < c->n; i++)
        m = MAX(m, c->utts[i].n_frames);
    return m;
}

int aigc_speech_corpus_get_max_ids(AigcSpeechCorpus *c)
{
    int m = 0;
    for (int i = 0; i < c->n; i++)
        m = MAX(m, c->utts[i].n_ids);
    return m;
}

void aigc_speech_corpus_get_mel(AigcSpeechCorpus *c, int i, float *dest)
{
    const AigcSpeechUtterance *u = aigc_speech_corpus_get(c, i);
    for (gint64 k = 0; k < (gint64)u->n_frames * c->n_mels; k++)
        dest[k] = aigc_f16_to_f32(u->mel[k]);
}
