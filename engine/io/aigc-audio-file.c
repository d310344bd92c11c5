/* SPDX-License-Identifier: MIT
 *
 * Audio file reading and WAV writing with libsndfile.
 *
 * DESIGN (file formats): reading checks what libsndfile does not before handing the file to it
 * — existence, emptiness, containers it cannot parse (named, so the message says "MP4" rather
 * than "format not recognised"), and for RIFF/WAVE the channel count and rate in the header
 * (libsndfile says "SF_INFO struct incomplete") and a data chunk longer than the file
 * (libsndfile would silently read the part that is there). libsndfile's open errors live in a process-wide
 * variable, so open + error fetch run under a mutex. Samples are read in blocks and averaged
 * across channels as they come, so a many-channel file never needs an interleaved copy.
 *
 * Writing encodes the whole WAV into memory through libsndfile's virtual I/O (it seeks back to
 * patch the header sizes on close) and hands the bytes to aigc_file_set_contents_atomic, so an
 * export is either complete under its final name or absent.
 */
#include "aigc-audio-file.h"

#include "aigc-error.h"
#include "io/aigc-atomic-file.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sndfile.h>
#include <string.h>

#define READ_BLOCK 4096 /* frames per sf_readf_float call */

static GMutex open_lock; /* sf_open's failure state is global */

void aigc_audio_free(AigcAudio *audio)
{
    if (!audio)
        return;
    g_free(audio->samples);
    g_free(audio->format_name);
    g_free(audio->title);
    g_free(audio->comment);
    g_free(audio->software);
    g_free(audio);
}

#define AUDIO_ERROR(error, code, path, ...)                                                    \
    do {                                                                                       \
        g_autofree char *msg_ = g_strdup_printf(__VA_ARGS__);                                  \
        g_set_error(error, AIGC_ENGINE_ERROR, code, "%s: %s", path, msg_);                     \
    } while (0)

/* Containers libsndfile cannot parse, told apart by their first bytes. */
static const char *sniff_unsupported(const guint8 *d, gsize n)
{
    if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0)
        return "an MP4/M4A (AAC or ALAC) file";
    if (n >= 4 && memcmp(d, "MThd", 4) == 0)
        return "a MIDI file (notes, not recorded sound)";
    if (n >= 16 && memcmp(d, "\x30\x26\xb2\x75\x8e\x66\xcf\x11", 8) == 0)
        return "a Windows Media (ASF/WMA) file";
    if (n >= 4 && memcmp(d, "\x1a\x45\xdf\xa3", 4) == 0)
        return "a Matroska/WebM file";
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "a PNG image";
    if (n >= 4 && memcmp(d, "%PDF", 4) == 0)
        return "a PDF document";
    return NULL;
}

static guint32 le32(const guint8 *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

/* For RIFF/WAVE, what libsndfile reports vaguely or not at all: a header with no channels or a
 * sample rate outside AIGC_SAMPLE_RATE_MIN … MAX, and a data chunk that runs past the end of
 * the file. Anything this walk cannot follow is left to libsndfile. */
static gboolean check_wav_header(FILE *fp, gint64 file_size, const char *path, GError **error)
{
    guint8 head[12];
    if (fseek(fp, 0, SEEK_SET) != 0 || fread(head, 1, 12, fp) != 12)
        return TRUE;
    if (memcmp(head, "RIFF", 4) != 0 || memcmp(head + 8, "WAVE", 4) != 0)
        return TRUE;
    gint64 pos = 12;
    for (int i = 0; i < 1000 && pos + 8 <= file_size; i++) {
        guint8 ch[16];
        if (fseek(fp, (long)pos, SEEK_SET) != 0 || fread(ch, 1, 8, fp) != 8)
            return TRUE;
        const guint32 size = le32(ch + 4);
        if (memcmp(ch, "fmt ", 4) == 0 && size >= 16 && fread(ch + 8, 1, 8, fp) == 8) {
            const guint channels = (guint)ch[10] | (guint)ch[11] << 8;
            const guint32 rate = le32(ch + 12);
            if (channels == 0) {
                AUDIO_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                            "its WAV header declares no audio channels");
                return FALSE;
            }
            if (rate < AIGC_SAMPLE_RATE_MIN || rate > AIGC_SAMPLE_RATE_MAX) {
                AUDIO_ERROR(error, AIGC_ENGINE_ERROR_UNSUPPORTED, path,
                            "its sample rate of %u Hz is outside %d–%d Hz", rate,
                            AIGC_SAMPLE_RATE_MIN, AIGC_SAMPLE_RATE_MAX);
                return FALSE;
            }
        } else if (memcmp(ch, "data", 4) == 0) {
            /* 0 and 0xFFFFFFFF mark a stream whose length was never written: not a fault. */
            const gint64 have = file_size - (pos + 8);
            if (size != 0 && size != 0xFFFFFFFFu && (gint64)size > have) {
                AUDIO_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                            "the file is truncated: its WAV data chunk announces %u bytes but "
                            "only %" G_GINT64_FORMAT " follow",
                            size, have);
                return FALSE;
            }
            return TRUE;
        }
        pos += 8 + (gint64)size + (size & 1);
    }
    return TRUE;
}

/* Pre-flight checks with plain stdio: existence, type, size, signature, WAV length. */
static gboolean check_file(const char *path, GError **error)
{
    GStatBuf st;
    if (g_stat(path, &st) != 0) {
        const int err = errno;
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_IO, path, "%s",
                    err == ENOENT ? "the file does not exist" : g_strerror(err));
        return FALSE;
    }
    if (S_ISDIR(st.st_mode)) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_IO, path, "this is a folder, not an audio file");
        return FALSE;
    }
    FILE *fp = g_fopen(path, "rb");
    if (!fp) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_IO, path, "cannot open: %s", g_strerror(errno));
        return FALSE;
    }
    guint8 head[16];
    const gsize n = fread(head, 1, sizeof head, fp);
    gboolean ok = TRUE;
    const char *what;
    if (st.st_size == 0 || n == 0) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path, "the file is empty");
        ok = FALSE;
    } else if ((what = sniff_unsupported(head, n))) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_UNSUPPORTED, path,
                    "this is %s, which libsndfile cannot read", what);
        ok = FALSE;
    } else {
        ok = check_wav_header(fp, (gint64)st.st_size, path, error);
    }
    fclose(fp);
    return ok;
}

static char *dup_string(SNDFILE *sf, int which)
{
    const char *s = sf_get_string(sf, which);
    return s && *s ? g_utf8_make_valid(s, -1) : NULL;
}

static char *format_name(const SF_INFO *info)
{
    SF_FORMAT_INFO major = {.format = info->format & SF_FORMAT_TYPEMASK};
    SF_FORMAT_INFO sub = {.format = info->format & SF_FORMAT_SUBMASK};
    const gboolean have_major =
        sf_command(NULL, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0 && major.name;
    const gboolean have_sub =
        sf_command(NULL, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0 && sub.name;
    return g_strdup_printf("%s%s%s", have_major ? major.name : "audio", have_sub ? " " : "",
                           have_sub ? sub.name : "");
}

AigcAudio *aigc_audio_file_read(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    if (!check_file(path, error))
        return NULL;

    SF_INFO info = {0};
    g_mutex_lock(&open_lock);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    const int open_err = sf ? 0 : sf_error(NULL);
    g_autofree char *open_msg = sf ? NULL : g_strdup(sf_strerror(NULL));
    g_mutex_unlock(&open_lock);
    if (!sf) {
        g_autofree char *lower = g_ascii_strdown(open_msg, -1);
        AigcEngineErrorCode code = AIGC_ENGINE_ERROR_FORMAT;
        if (open_err == SF_ERR_SYSTEM)
            code = AIGC_ENGINE_ERROR_IO;
        else if (open_err == SF_ERR_UNSUPPORTED_ENCODING || strstr(lower, "unimplemented") ||
                 strstr(lower, "not supported") || strstr(lower, "unsupported"))
            code = AIGC_ENGINE_ERROR_UNSUPPORTED;
        g_strchomp(open_msg);
        AUDIO_ERROR(error, code, path, "not an audio file libsndfile can read (%s)", open_msg);
        return NULL;
    }

    AigcAudio *audio = NULL;
    float *block = NULL;
    if (info.channels < 1) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path, "the file has no audio channels");
        goto out;
    }
    if (info.samplerate < AIGC_SAMPLE_RATE_MIN || info.samplerate > AIGC_SAMPLE_RATE_MAX) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_UNSUPPORTED, path,
                    "its sample rate of %d Hz is outside %d–%d Hz", info.samplerate,
                    AIGC_SAMPLE_RATE_MIN, AIGC_SAMPLE_RATE_MAX);
        goto out;
    }
    if (info.frames <= 0) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path, "the file contains no audio samples");
        goto out;
    }
    if (info.frames > AIGC_AUDIO_MAX_FRAMES) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_UNSUPPORTED, path,
                    "%" G_GINT64_FORMAT " samples are more than the %" G_GINT64_FORMAT
                    " the engine reads",
                    (gint64)info.frames, AIGC_AUDIO_MAX_FRAMES);
        goto out;
    }
    sf_command(sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);

    const int C = info.channels;
    const gint64 n_frames = info.frames;
    float *samples = g_try_new(float, (gsize)n_frames);
    block = g_try_new(float, (gsize)READ_BLOCK * C); /* [READ_BLOCK, C] interleaved */
    if (!samples || !block) {
        g_free(samples);
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_IO, path,
                    "not enough memory for %" G_GINT64_FORMAT " samples", n_frames);
        goto out;
    }
    gint64 n_read = 0;
    const float inv_c = 1.0f / (float)C;
    while (n_read < n_frames) {
        const sf_count_t want = (sf_count_t)MIN((gint64)READ_BLOCK, n_frames - n_read);
        const sf_count_t got = sf_readf_float(sf, block, want);
        if (got <= 0)
            break;
        for (sf_count_t i = 0; i < got; i++) {
            float acc = 0.0f;
            for (int c = 0; c < C; c++)
                acc += block[i * C + c];
            samples[n_read + i] = C == 1 ? acc : acc * inv_c;
        }
        n_read += got;
    }
    if (n_read < n_frames || sf_error(sf) != SF_ERR_NO_ERROR) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                    "the audio data is truncated or corrupt: read %" G_GINT64_FORMAT
                    " of %" G_GINT64_FORMAT " samples (%s)",
                    n_read, n_frames, sf_strerror(sf));
        g_free(samples);
        goto out;
    }
    for (gint64 i = 0; i < n_frames; i++) {
        if (!isfinite(samples[i])) {
            AUDIO_ERROR(error, AIGC_ENGINE_ERROR_NUMERIC, path,
                        "sample %" G_GINT64_FORMAT " is %s", i,
                        isnan(samples[i]) ? "NaN" : "infinite");
            g_free(samples);
            goto out;
        }
    }
    audio = g_new0(AigcAudio, 1);
    audio->samples = samples;
    audio->n_samples = n_frames;
    audio->sample_rate = info.samplerate;
    audio->n_channels = C;
    audio->format_name = format_name(&info);
    audio->title = dup_string(sf, SF_STR_TITLE);
    audio->comment = dup_string(sf, SF_STR_COMMENT);
    audio->software = dup_string(sf, SF_STR_SOFTWARE);
out:
    g_free(block);
    sf_close(sf);
    return audio;
}

/* ---- writing ---- */

AigcWavWriteParams aigc_wav_write_default_params(void)
{
    return (AigcWavWriteParams){.encoding = AIGC_AUDIO_PCM16,
                                .sample_rate_out = 0,
                                .quality = AIGC_RESAMPLE_BEST};
}

/* An in-memory file for libsndfile's virtual I/O. */
typedef struct {
    GByteArray *bytes;
    sf_count_t pos;
} MemFile;

static sf_count_t mem_get_filelen(void *user_data)
{
    return ((MemFile *)user_data)->bytes->len;
}

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user_data)
{
    MemFile *m = user_data;
    sf_count_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->bytes->len : 0;
    if (base + offset < 0)
        return -1;
    m->pos = base + offset;
    return m->pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user_data)
{
    MemFile *m = user_data;
    const sf_count_t avail = MAX((sf_count_t)m->bytes->len - m->pos, 0);
    const sf_count_t n = MIN(count, avail);
    if (n > 0)
        memcpy(ptr, m->bytes->data + m->pos, (gsize)n);
    m->pos += n;
    return n;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *user_data)
{
    MemFile *m = user_data;
    const gsize end = (gsize)(m->pos + count);
    if (end > m->bytes->len) {
        const guint old = m->bytes->len;
        g_byte_array_set_size(m->bytes, (guint)end);
        if ((gsize)m->pos > old) /* a seek past the end leaves a hole of zeros */
            memset(m->bytes->data + old, 0, (gsize)m->pos - old);
    }
    memcpy(m->bytes->data + m->pos, ptr, (gsize)count);
    m->pos += count;
    return count;
}

static sf_count_t mem_tell(void *user_data)
{
    return ((MemFile *)user_data)->pos;
}

gboolean aigc_audio_file_write_wav(const char *path, const float *samples, gint64 n_samples,
                                   int sample_rate, const AigcWavWriteParams *params,
                                   GError **error)
{
    g_return_val_if_fail(path != NULL && (samples != NULL || n_samples == 0), FALSE);
    const AigcWavWriteParams p = params ? *params : aigc_wav_write_default_params();
    int subtype, bytes_per_sample;
    switch (p.encoding) {
    case AIGC_AUDIO_PCM16:
        subtype = SF_FORMAT_PCM_16;
        bytes_per_sample = 2;
        break;
    case AIGC_AUDIO_PCM24:
        subtype = SF_FORMAT_PCM_24;
        bytes_per_sample = 3;
        break;
    case AIGC_AUDIO_FLOAT32:
        subtype = SF_FORMAT_FLOAT;
        bytes_per_sample = 4;
        break;
    default:
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_INVALID, path, "unknown WAV encoding %d",
                    (int)p.encoding);
        return FALSE;
    }
    if (n_samples < 1 || n_samples > AIGC_AUDIO_MAX_FRAMES) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_INVALID, path,
                    "%" G_GINT64_FORMAT " samples: a WAV file needs 1 to %" G_GINT64_FORMAT,
                    n_samples, AIGC_AUDIO_MAX_FRAMES);
        return FALSE;
    }
    const int rate_out = p.sample_rate_out ? p.sample_rate_out : sample_rate;
    if (sample_rate < AIGC_SAMPLE_RATE_MIN || sample_rate > AIGC_SAMPLE_RATE_MAX ||
        rate_out < AIGC_SAMPLE_RATE_MIN || rate_out > AIGC_SAMPLE_RATE_MAX) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_INVALID, path,
                    "sample rate %d Hz (written at %d Hz) is outside %d–%d Hz", sample_rate,
                    rate_out, AIGC_SAMPLE_RATE_MIN, AIGC_SAMPLE_RATE_MAX);
        return FALSE;
    }
    for (gint64 i = 0; i < n_samples; i++) {
        if (!isfinite(samples[i])) {
            AUDIO_ERROR(error, AIGC_ENGINE_ERROR_NUMERIC, path,
                        "sample %" G_GINT64_FORMAT " is %s; nothing was written", i,
                        isnan(samples[i]) ? "NaN" : "infinite");
            return FALSE;
        }
    }
    g_autofree float *resampled = NULL;
    gint64 n_out = n_samples;
    if (rate_out != sample_rate) {
        resampled = aigc_resample(samples, n_samples, sample_rate, rate_out, p.quality, &n_out,
                                  error);
        if (!resampled)
            return FALSE;
        if (n_out < 1) {
            AUDIO_ERROR(error, AIGC_ENGINE_ERROR_INVALID, path,
                        "%" G_GINT64_FORMAT " samples at %d Hz leave none at %d Hz", n_samples,
                        sample_rate, rate_out);
            return FALSE;
        }
        samples = resampled;
    }
    /* RIFF sizes are 32-bit; keep room for the header and INFO strings. */
    if ((guint64)n_out * (guint64)bytes_per_sample > G_MAXUINT32 - (1u << 20)) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_INVALID, path,
                    "%" G_GINT64_FORMAT " samples are too many for a WAV file", n_out);
        return FALSE;
    }

    MemFile mem = {.bytes = g_byte_array_sized_new((guint)(n_out * bytes_per_sample + 4096)),
                   .pos = 0};
    SF_VIRTUAL_IO vio = {mem_get_filelen, mem_seek, mem_read, mem_write, mem_tell};
    SF_INFO info = {.samplerate = rate_out, .channels = 1, .format = SF_FORMAT_WAV | subtype};
    gboolean ok = FALSE;
    g_mutex_lock(&open_lock);
    SNDFILE *sf = sf_open_virtual(&vio, SFM_WRITE, &info, &mem);
    g_autofree char *open_msg = sf ? NULL : g_strdup(sf_strerror(NULL));
    g_mutex_unlock(&open_lock);
    if (!sf) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_FAILED, path, "libsndfile cannot write it: %s",
                    open_msg);
        goto out;
    }
    if (subtype != SF_FORMAT_FLOAT)
        sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    const struct {
        int which;
        const char *value;
    } strings[] = {
        {SF_STR_TITLE, p.title}, {SF_STR_COMMENT, p.comment}, {SF_STR_SOFTWARE, p.software}};
    for (guint i = 0; i < G_N_ELEMENTS(strings); i++) {
        if (!strings[i].value || !*strings[i].value)
            continue;
        if (!g_utf8_validate(strings[i].value, -1, NULL) ||
            sf_set_string(sf, strings[i].which, strings[i].value) != 0) {
            AUDIO_ERROR(error, AIGC_ENGINE_ERROR_INVALID, path,
                        "cannot store the text “%.40s…” in the WAV file%s", strings[i].value,
                        g_utf8_validate(strings[i].value, -1, NULL) ? "" : " (not UTF-8)");
            sf_close(sf);
            goto out;
        }
    }
    const sf_count_t written = sf_writef_float(sf, samples, (sf_count_t)n_out);
    if (written != (sf_count_t)n_out) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_FAILED, path, "libsndfile wrote %" G_GINT64_FORMAT
                    " of %" G_GINT64_FORMAT " samples: %s",
                    (gint64)written, n_out, sf_strerror(sf));
        sf_close(sf);
        goto out;
    }
    if (sf_close(sf) != 0) {
        AUDIO_ERROR(error, AIGC_ENGINE_ERROR_FAILED, path, "libsndfile could not finish it");
        goto out;
    }
    ok = aigc_file_set_contents_atomic(path, mem.bytes->data, mem.bytes->len, error);
out:
    g_byte_array_unref(mem.bytes);
    return ok;
}
