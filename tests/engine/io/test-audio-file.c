/* SPDX-License-Identifier: MIT
 *
 * Audio files: WAV round trips in 16-bit, 24-bit and float with their INFO strings, clipping,
 * writing at another rate, atomic replacement, refusal of NaN samples and of a missing folder;
 * reading stereo (downmixed) and FLAC; and a table of bad files built here — missing, a folder,
 * empty, truncated data, truncated header, garbage, unsupported codec and containers, no
 * samples, absurd rates, no channels, NaN in a float file — each with the error it must give,
 * naming the file.
 */
#include "aigc-engine.h"
#include "io/aigc-audio-file.h"
#include "tensor/aigc-rng.h"

#include <glib/gstdio.h>
#include <math.h>
#include <sndfile.h>
#include <string.h>

static char *tmp_dir;

static char *tmp_path(const char *name)
{
    return g_build_filename(tmp_dir, name, NULL);
}

static float *sine(int rate, gint64 n, double hz, double amp)
{
    float *x = g_new(float, n);
    for (gint64 i = 0; i < n; i++)
        x[i] = (float)(amp * sin(2 * G_PI * hz * (double)i / rate));
    return x;
}

/* Files in tmp_dir other than `keep` (e.g. leftover temporary files). */
static int count_other_files(const char *keep)
{
    GDir *dir = g_dir_open(tmp_dir, 0, NULL);
    int n = 0;
    const char *name;
    while ((name = g_dir_read_name(dir)))
        n += !keep || strcmp(name, keep) != 0;
    g_dir_close(dir);
    return n;
}

static void remove_all(void)
{
    GDir *dir = g_dir_open(tmp_dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *p = tmp_path(name);
        if (g_file_test(p, G_FILE_TEST_IS_DIR))
            g_rmdir(p);
        else
            g_unlink(p);
    }
    g_dir_close(dir);
}

/* ---- writing and reading back ---- */

static void check_roundtrip(AigcAudioEncoding encoding, double tol, const char *expect_format)
{
    const gint64 n = 22050;
    g_autofree float *x = sine(22050, n, 440.0, 0.7);
    g_autofree char *path = tmp_path("speech.wav");
    AigcWavWriteParams p = aigc_wav_write_default_params();
    p.encoding = encoding;
    p.title = "Hello — world";
    p.comment = "Model: tacotron2, Vocoder: griffin-lim, Seed: 42, Speed: 1.0, Text: “naïve”";
    p.software = "aigc-studio 0.1.0";
    GError *error = NULL;
    g_assert_true(aigc_audio_file_write_wav(path, x, n, 22050, &p, &error));
    g_assert_no_error(error);
    g_assert_cmpint(count_other_files("speech.wav"), ==, 0); /* no temporary file left */

    g_autoptr(AigcAudio) a = aigc_audio_file_read(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(a->n_samples, ==, n);
    g_assert_cmpint(a->sample_rate, ==, 22050);
    g_assert_cmpint(a->n_channels, ==, 1);
    g_assert_nonnull(strstr(a->format_name, expect_format));
    g_assert_cmpstr(a->title, ==, p.title);
    g_assert_cmpstr(a->comment, ==, p.comment);
    g_assert_true(g_str_has_prefix(a->software, p.software)); /* libsndfile appends its name */
    double err = 0.0;
    for (gint64 i = 0; i < n; i++)
        err = MAX(err, fabs(a->samples[i] - x[i]));
    g_test_message("%s: max error %.3g", expect_format, err);
    g_assert_cmpfloat(err, <=, tol);
    g_unlink(path);
}

static void test_roundtrip_pcm16(void)
{
    check_roundtrip(AIGC_AUDIO_PCM16, 2.0 / 32767, "16 bit PCM"); /* ×32767 in, ÷32768 out */
}

static void test_roundtrip_pcm24(void)
{
    check_roundtrip(AIGC_AUDIO_PCM24, 2.0 / 8388607, "24 bit PCM");
}

static void test_roundtrip_float(void)
{
    check_roundtrip(AIGC_AUDIO_FLOAT32, 0.0, "32 bit float");
}

static void test_clipping_and_defaults(void)
{
    float x[4] = {1.5f, -2.0f, 0.5f, 0.0f};
    g_autofree char *path = tmp_path("clip.wav");
    GError *error = NULL;
    g_assert_true(aigc_audio_file_write_wav(path, x, 4, 16000, NULL, &error)); /* PCM16 */
    g_assert_no_error(error);
    g_autoptr(AigcAudio) a = aigc_audio_file_read(path, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(a->samples[0], >, 0.9999f);
    g_assert_cmpfloat(a->samples[0], <=, 1.0f);
    g_assert_cmpfloat(a->samples[1], >=, -1.0f);
    g_assert_cmpfloat(a->samples[1], <, -0.9999f);
    g_assert_cmpfloat_with_epsilon(a->samples[2], 0.5f, 1e-4);
    g_assert_null(a->comment);
    g_assert_null(a->title);
    g_unlink(path);
}

static void test_write_other_rate(void)
{
    g_autofree float *x = sine(22050, 22050, 1000.0, 0.5);
    g_autofree char *path = tmp_path("16k.wav");
    AigcWavWriteParams p = aigc_wav_write_default_params();
    p.encoding = AIGC_AUDIO_FLOAT32;
    p.sample_rate_out = 16000;
    GError *error = NULL;
    g_assert_true(aigc_audio_file_write_wav(path, x, 22050, 22050, &p, &error));
    g_assert_no_error(error);
    g_autoptr(AigcAudio) a = aigc_audio_file_read(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(a->sample_rate, ==, 16000);
    g_assert_cmpint(a->n_samples, ==, 16000);
    double err = 0.0;
    for (gint64 i = 1600; i < 14400; i++)
        err = MAX(err, fabs(a->samples[i] - 0.5 * sin(2 * G_PI * 1000.0 * i / 16000)));
    g_assert_cmpfloat(err, <, 1e-3);
    g_unlink(path);
}

static void test_write_replaces_atomically(void)
{
    g_autofree char *path = tmp_path("replace.wav");
    g_assert_true(g_file_set_contents(path, "old contents", -1, NULL));
    float x[100] = {0};
    GError *error = NULL;
    g_assert_true(aigc_audio_file_write_wav(path, x, 100, 8000, NULL, &error));
    g_assert_no_error(error);
    g_autoptr(AigcAudio) a = aigc_audio_file_read(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(a->n_samples, ==, 100);
    g_assert_cmpint(count_other_files("replace.wav"), ==, 0);
    /* A failed write (NaN) leaves the previous file untouched and nothing else behind. */
    x[50] = NAN;
    g_assert_false(aigc_audio_file_write_wav(path, x, 100, 8000, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_assert_nonnull(strstr(error->message, "sample 50 is NaN"));
    g_assert_nonnull(strstr(error->message, path));
    g_clear_error(&error);
    g_autoptr(AigcAudio) b = aigc_audio_file_read(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(b->n_samples, ==, 100);
    g_assert_cmpint(count_other_files("replace.wav"), ==, 0);
    g_unlink(path);
}

static void test_write_errors(void)
{
    float x[10] = {0};
    GError *error = NULL;
    g_autofree char *missing = g_build_filename(tmp_dir, "no-such-folder", "a.wav", NULL);
    g_assert_false(aigc_audio_file_write_wav(missing, x, 10, 16000, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
    g_assert_nonnull(strstr(error->message, missing));
    g_clear_error(&error);

    g_autofree char *path = tmp_path("bad.wav");
    g_assert_false(aigc_audio_file_write_wav(path, x, 0, 16000, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(aigc_audio_file_write_wav(path, x, 10, 100, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    AigcWavWriteParams p = aigc_wav_write_default_params();
    p.sample_rate_out = 5000000;
    g_assert_false(aigc_audio_file_write_wav(path, x, 10, 16000, &p, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    p = aigc_wav_write_default_params();
    p.encoding = (AigcAudioEncoding)99;
    g_assert_false(aigc_audio_file_write_wav(path, x, 10, 16000, &p, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    x[3] = INFINITY;
    g_assert_false(aigc_audio_file_write_wav(path, x, 10, 16000, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_clear_error(&error);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_cmpint(count_other_files(NULL), ==, 0);
}

/* ---- reading other layouts and formats (written here with libsndfile) ---- */

static void write_with_sndfile(const char *path, int format, int channels, int rate,
                               const float *interleaved, sf_count_t frames)
{
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    g_assert_nonnull(sf);
    g_assert_cmpint(sf_writef_float(sf, interleaved, frames), ==, frames);
    sf_close(sf);
}

static void test_read_stereo_downmix(void)
{
    float st[2 * 1000];
    for (int i = 0; i < 1000; i++) {
        st[2 * i] = 0.5f;
        st[2 * i + 1] = (i % 2) ? 0.25f : -0.25f;
    }
    g_autofree char *path = tmp_path("stereo.wav");
    write_with_sndfile(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 44100, st, 1000);
    GError *error = NULL;
    g_autoptr(AigcAudio) a = aigc_audio_file_read(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(a->n_channels, ==, 2);
    g_assert_cmpint(a->sample_rate, ==, 44100);
    g_assert_cmpint(a->n_samples, ==, 1000);
    for (int i = 0; i < 1000; i++)
        g_assert_cmpfloat(a->samples[i], ==, (i % 2) ? 0.375f : 0.125f);
    g_unlink(path);
}

static void test_read_flac(void)
{
    g_autofree float *x = sine(16000, 8000, 300.0, 0.6);
    g_autofree char *path = tmp_path("voice.flac");
    write_with_sndfile(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 16000, x, 8000);
    GError *error = NULL;
    g_autoptr(AigcAudio) a = aigc_audio_file_read(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(a->n_samples, ==, 8000);
    g_assert_nonnull(strstr(a->format_name, "FLAC"));
    for (int i = 0; i < 8000; i++)
        g_assert_cmpfloat_with_epsilon(a->samples[i], x[i], 2.0 / 32767);
    g_unlink(path);
}

static void test_every_truncation(void)
{
    /* Every prefix of a WAV and a FLAC file either reads in full or fails with an error; none
     * crashes or returns part of the audio as if it were all. */
    g_autofree float *x = sine(16000, 4000, 300.0, 0.6);
    const char *names[2] = {"whole.wav", "whole.flac"};
    const int formats[2] = {SF_FORMAT_WAV | SF_FORMAT_PCM_16, SF_FORMAT_FLAC | SF_FORMAT_PCM_16};
    for (int f = 0; f < 2; f++) {
        g_autofree char *path = tmp_path(names[f]);
        write_with_sndfile(path, formats[f], 1, 16000, x, 4000);
        g_autofree char *bytes = NULL;
        gsize len;
        g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
        g_autofree char *cut = tmp_path(f == 0 ? "cut.wav" : "cut.flac");
        int n_ok = 0;
        for (gsize l = 0; l < len; l += 1 + l / 16) {
            g_assert_true(g_file_set_contents_full(cut, bytes, (gssize)l,
                                                   G_FILE_SET_CONTENTS_NONE, 0644, NULL));
            GError *error = NULL;
            AigcAudio *a = aigc_audio_file_read(cut, &error);
            if (a) {
                g_assert_no_error(error);
                g_assert_cmpint(a->n_samples, ==, 4000);
                n_ok++;
                aigc_audio_free(a);
            } else {
                g_assert_nonnull(error);
                g_assert_nonnull(strstr(error->message, cut));
                g_error_free(error);
            }
        }
        g_assert_cmpint(n_ok, ==, 0);
        g_unlink(cut);
        g_unlink(path);
    }
}

/* ---- bad files ---- */

/* A RIFF/WAVE file: fmt chunk (tag, channels, rate, bits, optional extra bytes) and a data chunk
 * of n_data bytes of a ramp, announced as `claim` bytes (−1: the true size). */
static GByteArray *make_wav(guint16 tag, guint16 channels, guint32 rate, guint16 bits,
                            const guint8 *extra, guint16 n_extra, guint32 n_data, gint64 claim)
{
    GByteArray *b = g_byte_array_new();
#define PUT(ptr, n) g_byte_array_append(b, (const guint8 *)(ptr), (n))
#define PUT16(v)                                                                               \
    do {                                                                                       \
        guint16 v_ = GUINT16_TO_LE(v);                                                         \
        PUT(&v_, 2);                                                                           \
    } while (0)
#define PUT32(v)                                                                               \
    do {                                                                                       \
        guint32 v_ = GUINT32_TO_LE(v);                                                         \
        PUT(&v_, 4);                                                                           \
    } while (0)
    const guint32 fmt_size = 16 + (extra ? 2 + n_extra : 0);
    PUT("RIFF", 4);
    PUT32(4 + 8 + fmt_size + 8 + n_data);
    PUT("WAVE", 4);
    PUT("fmt ", 4);
    PUT32(fmt_size);
    PUT16(tag);
    PUT16(channels);
    PUT32(rate);
    PUT32(rate * MAX(channels, 1) * bits / 8);
    PUT16((guint16)(MAX(channels, 1) * bits / 8));
    PUT16(bits);
    if (extra) {
        PUT16(n_extra);
        PUT(extra, n_extra);
    }
    PUT("data", 4);
    PUT32(claim < 0 ? n_data : (guint32)claim);
    for (guint32 i = 0; i < n_data; i++) {
        const guint8 v = (guint8)(i * 7);
        PUT(&v, 1);
    }
#undef PUT
#undef PUT16
#undef PUT32
    return b;
}

typedef struct {
    const char *name;
    AigcEngineErrorCode code;
    const char *expect; /* substring of the message, besides the file's path */
} BadCase;

static const BadCase bad_cases[] = {
    {"missing.wav", AIGC_ENGINE_ERROR_IO, "does not exist"},
    {"folder.wav", AIGC_ENGINE_ERROR_IO, "folder"},
    {"empty.wav", AIGC_ENGINE_ERROR_FORMAT, "empty"},
    {"truncated.wav", AIGC_ENGINE_ERROR_FORMAT, "truncated: its WAV data chunk announces 2000"},
    {"truncated-header.wav", AIGC_ENGINE_ERROR_FORMAT, "libsndfile can read"},
    {"garbage.wav", AIGC_ENGINE_ERROR_FORMAT, "libsndfile can read (Format not recognised"},
    {"text.txt", AIGC_ENGINE_ERROR_FORMAT, "libsndfile can read"},
    {"unknown-codec.wav", AIGC_ENGINE_ERROR_UNSUPPORTED, "unimplemented"},
    {"song.m4a", AIGC_ENGINE_ERROR_UNSUPPORTED, "MP4/M4A"},
    {"tune.mid", AIGC_ENGINE_ERROR_UNSUPPORTED, "MIDI"},
    {"zero-length.wav", AIGC_ENGINE_ERROR_FORMAT, "no audio samples"},
    {"rate-zero.wav", AIGC_ENGINE_ERROR_UNSUPPORTED, "sample rate of 0 Hz"},
    {"rate-huge.wav", AIGC_ENGINE_ERROR_UNSUPPORTED, "sample rate of 4000000000 Hz"},
    {"rate-low.wav", AIGC_ENGINE_ERROR_UNSUPPORTED, "sample rate of 500 Hz"},
    {"rate-low.flac", AIGC_ENGINE_ERROR_UNSUPPORTED, "sample rate of 500 Hz"},
    {"no-channels.wav", AIGC_ENGINE_ERROR_FORMAT, "no audio channels"},
    {"nan.wav", AIGC_ENGINE_ERROR_NUMERIC, "sample 3 is NaN"},
};

/* Writes the file of one case into tmp_dir. */
static void make_bad_file(const BadCase *c, const char *path)
{
    GByteArray *b = NULL;
    if (!strcmp(c->name, "missing.wav")) {
        return;
    } else if (!strcmp(c->name, "folder.wav")) {
        g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
        return;
    } else if (!strcmp(c->name, "empty.wav")) {
        b = g_byte_array_new();
    } else if (!strcmp(c->name, "truncated.wav")) {
        b = make_wav(1, 1, 16000, 16, NULL, 0, 2000, -1);
        g_byte_array_set_size(b, b->len / 2);
    } else if (!strcmp(c->name, "truncated-header.wav")) {
        b = make_wav(1, 1, 16000, 16, NULL, 0, 2000, -1);
        g_byte_array_set_size(b, 30);
    } else if (!strcmp(c->name, "garbage.wav")) {
        b = g_byte_array_new();
        AigcRng rng;
        aigc_rng_init(&rng, 99);
        for (int i = 0; i < 5000; i++) {
            const guint8 v = (guint8)aigc_rng_below(&rng, 256);
            g_byte_array_append(b, &v, 1);
        }
    } else if (!strcmp(c->name, "text.txt")) {
        const char *t = "This is not a sound file, just some words.\n";
        b = g_byte_array_new();
        g_byte_array_append(b, (const guint8 *)t, (guint)strlen(t));
    } else if (!strcmp(c->name, "unknown-codec.wav")) {
        /* WAVE_FORMAT_EXTENSIBLE with a sub-format GUID nobody knows. */
        guint8 extra[22] = {16, 0, 4, 0, 0, 0};
        memset(extra + 6, 0x99, 16);
        b = make_wav(0xFFFE, 1, 16000, 16, extra, sizeof extra, 400, -1);
    } else if (!strcmp(c->name, "song.m4a")) {
        static const guint8 m4a[32] = "\0\0\0\x20" "ftypM4A \0\0\0\0M4A mp42isom\0\0\0\0";
        b = g_byte_array_new();
        g_byte_array_append(b, m4a, sizeof m4a);
        g_byte_array_set_size(b, 512);
        memset(b->data + sizeof m4a, 0, 512 - sizeof m4a);
    } else if (!strcmp(c->name, "tune.mid")) {
        static const guint8 mid[] = "MThd\0\0\0\x06\0\0\0\x01\0\x60MTrk\0\0\0\x04\0\xff\x2f\0";
        b = g_byte_array_new();
        g_byte_array_append(b, mid, sizeof mid - 1);
    } else if (!strcmp(c->name, "zero-length.wav")) {
        b = make_wav(1, 1, 16000, 16, NULL, 0, 0, -1);
    } else if (!strcmp(c->name, "rate-zero.wav")) {
        b = make_wav(1, 1, 0, 16, NULL, 0, 200, -1);
    } else if (!strcmp(c->name, "rate-huge.wav")) {
        b = make_wav(1, 1, 4000000000u, 16, NULL, 0, 200, -1);
    } else if (!strcmp(c->name, "rate-low.wav")) {
        b = make_wav(1, 1, 500, 16, NULL, 0, 200, -1);
    } else if (!strcmp(c->name, "rate-low.flac")) {
        float x[100] = {0};
        write_with_sndfile(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 500, x, 100);
        return;
    } else if (!strcmp(c->name, "no-channels.wav")) {
        b = make_wav(1, 0, 16000, 16, NULL, 0, 200, -1);
    } else if (!strcmp(c->name, "nan.wav")) {
        float x[8] = {0.1f, 0.2f, 0.3f, NAN, 0.5f, 0.f, 0.f, 0.f};
        write_with_sndfile(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 16000, x, 8);
        return;
    } else {
        g_assert_not_reached();
    }
    g_assert_true(g_file_set_contents(path, (const char *)b->data, b->len, NULL));
    g_byte_array_unref(b);
}

static void test_bad_file(gconstpointer data)
{
    const BadCase *c = data;
    g_autofree char *path = tmp_path(c->name);
    make_bad_file(c, path);
    GError *error = NULL;
    AigcAudio *a = aigc_audio_file_read(path, &error);
    g_assert_null(a);
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    if (!g_error_matches(error, AIGC_ENGINE_ERROR, c->code) || !strstr(error->message, path) ||
        !strstr(error->message, c->expect))
        g_error("%s: got code %d “%s”, expected code %d with “%s”", c->name, error->code,
                error->message, c->code, c->expect);
    g_error_free(error);
    remove_all();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("aigc-audio-XXXXXX", NULL);
    g_test_add_func("/engine/io/audio-file/roundtrip-pcm16", test_roundtrip_pcm16);
    g_test_add_func("/engine/io/audio-file/roundtrip-pcm24", test_roundtrip_pcm24);
    g_test_add_func("/engine/io/audio-file/roundtrip-float", test_roundtrip_float);
    g_test_add_func("/engine/io/audio-file/clipping", test_clipping_and_defaults);
    g_test_add_func("/engine/io/audio-file/write-other-rate", test_write_other_rate);
    g_test_add_func("/engine/io/audio-file/write-atomic", test_write_replaces_atomically);
    g_test_add_func("/engine/io/audio-file/write-errors", test_write_errors);
    g_test_add_func("/engine/io/audio-file/read-stereo", test_read_stereo_downmix);
    g_test_add_func("/engine/io/audio-file/read-flac", test_read_flac);
    g_test_add_func("/engine/io/audio-file/every-truncation", test_every_truncation);
    for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *name = g_strdup_printf("/engine/io/audio-file/bad/%s", bad_cases[i].name);
        g_test_add_data_func(name, &bad_cases[i], test_bad_file);
    }
    const int status = g_test_run();
    remove_all();
    g_rmdir(tmp_dir);
    g_free(tmp_dir);
    return status;
}
