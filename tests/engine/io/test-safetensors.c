/* SPDX-License-Identifier: MIT
 *
 * safetensors: round trips, dtype conversions, and a table of malformed files, each with the
 * error it must produce. `test-safetensors --write-corpus DIR` writes the table's files (and a
 * few valid ones) as the fuzzer's seed corpus and the CLI test's inputs.
 */
#include "aigc-engine.h"
#include "tensor/aigc-half.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *header;   /* JSON header; NULL = use raw */
    gsize n_data;         /* zero bytes after the header */
    const char *raw;      /* whole file contents (when header == NULL) */
    gsize n_raw;
    guint64 fake_length;  /* when non-zero, the length field written instead of the real one */
    const char *expect;   /* substring of the error message */
} BadCase;


static const BadCase bad_cases[] = {
    {"empty", NULL, 0, "", 0, 0, "too short"},
    {"five-bytes", NULL, 0, "\x01\x02\x03\x04\x05", 5, 0, "too short"},
    {"header-over-limit", "{}", 0, NULL, 0, 200000000ull, "over the 100 MB limit"},
    {"header-past-eof", "{}", 0, NULL, 0, 4096, "runs past the end"},
    {"header-zero-length", "", 0, NULL, 0, 0, "not a JSON object"},
    {"header-array", "[1,2,3]", 0, NULL, 0, 0, "not a JSON object"},
    {"header-garbage", "hello world", 0, NULL, 0, 0, "not a JSON object"},
    {"header-truncated-json", "{\"t\":{\"dtype\":", 0, NULL, 0, 0, "not valid JSON"},
    {"header-trailing-text", "{} x", 0, NULL, 0, 0, "not valid JSON"},
    {"unknown-dtype-f64", "{\"t\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
     NULL, 0, 0, "unknown dtype “F64”"},
    {"unknown-dtype-q4", "{\"t\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
     NULL, 0, 0, "unknown dtype"},
    {"dtype-not-string", "{\"t\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NULL,
     0, 0, "dtype is not a string"},
    {"negative-dim", "{\"t\":{\"dtype\":\"F32\",\"shape\":[-1,4],\"data_offsets\":[0,16]}}", 16,
     NULL, 0, 0, "negative"},
    {"non-integer-dim", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8,
     NULL, 0, 0, "not an integer"},
    {"shape-overflow",
     "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
     NULL, 0, 0, "overflows"},
    {"shape-int64-overflow",
     "{\"t\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4,
     NULL, 0, 0, "not an integer"},
    {"too-many-dims",
     "{\"t\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, NULL,
     0, 0, "more than the 8"},
    {"shape-not-array", "{\"t\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,16]}}", 16,
     NULL, 0, 0, "shape is not an array"},
    {"size-disagrees-with-offsets",
     "{\"t\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20, NULL, 0, 0,
     "need 24 bytes but data_offsets span 20"},
    {"offsets-outside-data", "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
     8, NULL, 0, 0, "outside the 8-byte data section"},
    {"offsets-reversed", "{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8,
     NULL, 0, 0, "not an ordered range"},
    {"offsets-not-pair", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
     NULL, 0, 0, "not [begin, end]"},
    {"missing-offsets", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, NULL, 0, 0,
     "missing “data_offsets”"},
    {"unknown-field",
     "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4, NULL, 0,
     0, "unknown field “extra”"},
    {"overlapping",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
     12, NULL, 0, 0, "overlap"},
    {"hole-between",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
     12, NULL, 0, 0, "hole in the data section"},
    {"hole-at-end", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12, NULL,
     0, 0, "hole at the end"},
    {"duplicate-name",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
     8, NULL, 0, 0, "duplicate key “a”"},
    {"entry-not-object", "{\"a\":[1,2]}", 0, NULL, 0, 0, "not an object"},
    {"metadata-not-object", "{\"__metadata__\":\"x\"}", 0, NULL, 0, 0,
     "__metadata__ is a string"},
    {"metadata-non-string", "{\"__metadata__\":{\"steps\":100}}", 0, NULL, 0, 0,
     "“steps” is a number, not a string"},
    {"invalid-utf8-name", "{\"\xff\xfe\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
     1, NULL, 0, 0, "UTF-8"},
    {"control-char-in-string", "{\"a\tb\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
     1, NULL, 0, 0, "control character"},
    {"deep-nesting", NULL, 0, NULL, 0, 0, "nesting deeper"}, /* built in make_case */
    {"empty-name", "{\"\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, NULL, 0,
     0, "empty name"},
    {"git-lfs-pointer", NULL, 0,
     "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22ea"
     "dbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
     0, 0, "Git LFS pointer"},
    {"pickle", NULL, 0, "\x80\x02}q\x00(X\x06\x00\x00\x00weightq\x01", 19, 0, "Python pickle"},
    {"torch-zip", NULL, 0, "PK\x03\x04\x14\x00\x00\x00\x08\x00" "archive/data.pkl", 26, 0,
     "ZIP archive"},
};

/* Headers 0x280, 0x380, 0x480 and 0x580 bytes long start the file like a pickle (0x80, 2…5)
 * and must still load. */
static void test_pickle_like_length(void)
{
    for (guint64 len = 0x280; len <= 0x580; len += 0x100) {
        GByteArray *a = g_byte_array_new();
        for (int i = 0; i < 8; i++) {
            guint8 b = (guint8)(len >> (8 * i));
            g_byte_array_append(a, &b, 1);
        }
        const char *json = "{\"__metadata__\":{\"k\":\"v\"}}";
        g_byte_array_append(a, (const guint8 *)json, strlen(json));
        for (gsize i = strlen(json); i < len; i++)
            g_byte_array_append(a, (const guint8 *)" ", 1);
        g_autoptr(GBytes) bytes = g_byte_array_free_to_bytes(a);
        g_autoptr(GError) error = NULL;
        g_autoptr(AigcSafetensors) st = aigc_safetensors_new_from_bytes(bytes, "padded", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(aigc_safetensors_get_metadata(st, "k"), ==, "v");
    }
}

/* Builds the bytes of one case. */
static GBytes *make_case(const BadCase *c)
{
    if (strcmp(c->name, "deep-nesting") == 0) {
        GString *h = g_string_new("{\"__metadata__\":{\"a\":\"b\"},\"t\":{\"dtype\":\"U8\",\"shape\":");
        for (int i = 0; i < 200; i++)
            g_string_append_c(h, '[');
        for (int i = 0; i < 200; i++)
            g_string_append_c(h, ']');
        g_string_append(h, ",\"data_offsets\":[0,0]}}");
        guint64 n = h->len;
        GByteArray *a = g_byte_array_new();
        for (int i = 0; i < 8; i++) {
            guint8 b = (guint8)(n >> (8 * i));
            g_byte_array_append(a, &b, 1);
        }
        g_byte_array_append(a, (const guint8 *)h->str, h->len);
        g_string_free(h, TRUE);
        return g_byte_array_free_to_bytes(a);
    }
    if (!c->header) {
        gsize n = c->n_raw ? c->n_raw : strlen(c->raw);
        return g_bytes_new(c->raw, n);
    }
    gsize n_header = strlen(c->header);
    guint64 len = c->fake_length ? c->fake_length : n_header;
    GByteArray *a = g_byte_array_new();
    for (int i = 0; i < 8; i++) {
        guint8 b = (guint8)(len >> (8 * i));
        g_byte_array_append(a, &b, 1);
    }
    g_byte_array_append(a, (const guint8 *)c->header, n_header);
    for (gsize i = 0; i < c->n_data; i++) {
        guint8 z = 0;
        g_byte_array_append(a, &z, 1);
    }
    return g_byte_array_free_to_bytes(a);
}

static char *tmp_dir;

static void test_malformed(gconstpointer data)
{
    const BadCase *c = data;
    g_autoptr(GBytes) bytes = make_case(c);
    g_autofree char *path = g_strdup_printf("%s/%s.safetensors", tmp_dir, c->name);
    gsize n;
    const char *d = g_bytes_get_data(bytes, &n);
    g_assert_true(g_file_set_contents(path, d ? d : "", (gssize)n, NULL));

    GError *error = NULL;
    AigcSafetensors *st = aigc_safetensors_open(path, &error);
    g_assert_null(st);
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    if (!strstr(error->message, c->expect))
        g_error("case %s: message “%s” does not contain “%s”", c->name, error->message, c->expect);
    /* The message names the file. */
    g_assert_true(g_str_has_prefix(error->message, path));
    g_clear_error(&error);

    /* The same bytes from memory give the same verdict. */
    st = aigc_safetensors_new_from_bytes(bytes, "mem", &error);
    g_assert_null(st);
    g_assert_nonnull(strstr(error->message, c->expect));
    g_clear_error(&error);
    g_unlink(path);
}

/* q8: I8 rows with F32 scales, each value within half a step (row max ÷ 254) of the original;
 * 1-D tensors and short rows fall back to F16; an I8 tensor without scales is refused. */
static void test_q8(void)
{
    g_autofree char *path = g_build_filename(tmp_dir, "q8.safetensors", NULL);
    enum { R = 3, C = 40 };
    float w[R * C], bias[4] = {0.1f, -0.2f, 0.3f, 0.4f}, narrow[2 * 8];
    for (int i = 0; i < R * C; i++)
        w[i] = (i / C == 1) ? 0.0f : sinf(0.37f * i) * (1.0f + (float)(i / C) * 9.0f);
    for (int i = 0; i < 16; i++)
        narrow[i] = 0.01f * i;
    gint64 shape_w[2] = {R, C}, shape_b[1] = {4}, shape_n[2] = {2, 8};
    g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
    g_assert_true(aigc_safetensors_writer_add_f32(wr, "w", AIGC_DTYPE_I8, 2, shape_w, w, NULL));
    g_assert_true(aigc_safetensors_writer_add_f32(wr, "b", AIGC_DTYPE_I8, 1, shape_b, bias, NULL));
    g_assert_true(
        aigc_safetensors_writer_add_f32(wr, "n", AIGC_DTYPE_I8, 2, shape_n, narrow, NULL));
    g_assert_true(aigc_safetensors_writer_write(wr, path, NULL, NULL, NULL));

    GError *error = NULL;
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(aigc_safetensors_get_n_tensors(st), ==, 4); /* w, w.q8_scale, b, n */
    const AigcSafetensorsTensor *t = aigc_safetensors_find(st, "w");
    g_assert_cmpint(t->dtype, ==, AIGC_DTYPE_I8);
    g_assert_cmpuint(t->n_bytes, ==, R * C);
    g_assert_nonnull(aigc_safetensors_find(st, "w" AIGC_Q8_SCALE_SUFFIX));
    float out[R * C];
    g_assert_true(aigc_safetensors_read_f32(st, t, out, R * C, &error));
    for (int r = 0; r < R; r++) {
        float amax = 0;
        for (int i = 0; i < C; i++)
            amax = MAX(amax, fabsf(w[r * C + i]));
        for (int i = 0; i < C; i++)
            g_assert_cmpfloat(fabsf(out[r * C + i] - w[r * C + i]), <=, amax / 254.0f * 1.0001f);
    }
    g_assert_cmpfloat(out[C + 5], ==, 0.0f); /* an all-zero row stays zero */
    g_assert_cmpint(aigc_safetensors_find(st, "b")->dtype, ==, AIGC_DTYPE_F16);
    g_assert_cmpint(aigc_safetensors_find(st, "n")->dtype, ==, AIGC_DTYPE_F16);

    /* The same I8 bytes without their scales. */
    g_autofree char *bare = g_build_filename(tmp_dir, "q8-bare.safetensors", NULL);
    g_autoptr(AigcSafetensorsWriter) wb = aigc_safetensors_writer_new();
    g_assert_true(aigc_safetensors_writer_add(wb, "w", AIGC_DTYPE_I8, 2, shape_w, t->data, NULL));
    g_assert_true(aigc_safetensors_writer_write(wb, bare, NULL, NULL, NULL));
    g_autoptr(AigcSafetensors) sb = aigc_safetensors_open(bare, &error);
    g_assert_no_error(error);
    g_assert_false(
        aigc_safetensors_read_f32(sb, aigc_safetensors_find(sb, "w"), out, R * C, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "row scales"));
    g_clear_error(&error);
}

static void test_roundtrip(void)
{
    g_autofree char *path = g_build_filename(tmp_dir, "rt.safetensors", NULL);
    float w[6] = {1, -2, 3.5f, 4, 5, 6};
    float half_src[3] = {0.5f, -1.25f, 65504.0f};
    gint32 ids[4] = {1, 2, 3, -4};
    guint8 bytes[3] = {7, 8, 9};
    gint64 shape_w[2] = {2, 3}, shape3[1] = {3}, shape4[1] = {4}, shape0[2] = {0, 5};

    g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
    aigc_safetensors_writer_set_metadata(wr, "family", "test");
    aigc_safetensors_writer_set_metadata(wr, "config", "{\"quote\": \"a\\\"b\"}\nline2");
    g_assert_true(aigc_safetensors_writer_add(wr, "bytes", AIGC_DTYPE_U8, 1, shape3, bytes, NULL));
    g_assert_true(aigc_safetensors_writer_add_f32(wr, "w", AIGC_DTYPE_F32, 2, shape_w, w, NULL));
    g_assert_true(aigc_safetensors_writer_add_f32(wr, "h", AIGC_DTYPE_F16, 1, shape3, half_src,
                                                  NULL));
    g_assert_true(aigc_safetensors_writer_add_f32(wr, "b", AIGC_DTYPE_BF16, 1, shape3, half_src,
                                                  NULL));
    g_assert_true(aigc_safetensors_writer_add(wr, "ids", AIGC_DTYPE_I32, 1, shape4, ids, NULL));
    g_assert_true(aigc_safetensors_writer_add(wr, "empty", AIGC_DTYPE_F32, 2, shape0, NULL, NULL));
    GError *error = NULL;
    g_assert_false(aigc_safetensors_writer_add(wr, "w", AIGC_DTYPE_F32, 1, shape3, w, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_true(aigc_safetensors_writer_write(wr, path, NULL, NULL, &error));
    g_assert_no_error(error);

    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(aigc_safetensors_get_n_tensors(st), ==, 6);
    g_assert_cmpstr(aigc_safetensors_get_metadata(st, "family"), ==, "test");
    g_assert_cmpstr(aigc_safetensors_get_metadata(st, "config"), ==,
                    "{\"quote\": \"a\\\"b\"}\nline2");
    g_assert_cmpuint(aigc_safetensors_get_header_size(st) % 8, ==, 0);

    const AigcSafetensorsTensor *t = aigc_safetensors_find(st, "w");
    g_assert_nonnull(t);
    g_assert_cmpint(t->n_dims, ==, 2);
    g_assert_cmpint(t->shape[0], ==, 2);
    g_assert_cmpint(t->shape[1], ==, 3);
    /* Zero-copy and aligned: the pointer is inside the mapping and 4-byte aligned. */
    g_assert_cmpuint((guintptr)t->data % 4, ==, 0);
    g_assert_cmpmem(t->data, 24, w, 24);

    float out[3];
    t = aigc_safetensors_find(st, "h");
    g_assert_true(aigc_safetensors_read_f32(st, t, out, 3, NULL));
    for (int i = 0; i < 3; i++)
        g_assert_cmpfloat(out[i], ==, half_src[i]); /* exactly representable in F16 */
    t = aigc_safetensors_find(st, "b");
    g_assert_true(aigc_safetensors_read_f32(st, t, out, 3, NULL));
    g_assert_cmpfloat(out[0], ==, 0.5f);
    g_assert_cmpfloat(out[1], ==, -1.25f);
    g_assert_cmpfloat(fabsf(out[2] - 65504.0f), <=, 65504.0f / 128);

    t = aigc_safetensors_find(st, "ids");
    g_assert_cmpmem(t->data, 16, ids, 16);
    g_assert_false(aigc_safetensors_read_f32(st, t, out, 4, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_clear_error(&error);
    t = aigc_safetensors_find(st, "empty");
    g_assert_cmpint(t->n_elements, ==, 0);
    g_assert_null(aigc_safetensors_find(st, "nope"));
    g_unlink(path);
}

static gboolean stop_after_first(double fraction, gpointer user_data)
{
    return FALSE;
}

static void test_write_cancel_leaves_nothing(void)
{
    g_autofree char *path = g_build_filename(tmp_dir, "cancel.safetensors", NULL);
    float w[4] = {1, 2, 3, 4};
    gint64 shape[1] = {4};
    g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
    aigc_safetensors_writer_add_f32(wr, "a", AIGC_DTYPE_F32, 1, shape, w, NULL);
    aigc_safetensors_writer_add_f32(wr, "b", AIGC_DTYPE_F32, 1, shape, w, NULL);
    GError *error = NULL;
    g_assert_false(aigc_safetensors_writer_write(wr, path, stop_after_first, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
    g_clear_error(&error);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    /* No temporary file either. */
    g_autoptr(GDir) dir = g_dir_open(tmp_dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(dir)))
        g_assert_false(g_str_has_suffix(name, ".part"));
}

static void test_write_to_missing_folder(void)
{
    float w[1] = {1};
    gint64 shape[1] = {1};
    g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
    aigc_safetensors_writer_add_f32(wr, "a", AIGC_DTYPE_F32, 1, shape, w, NULL);
    GError *error = NULL;
    g_assert_false(aigc_safetensors_writer_write(wr, "/nonexistent-dir/x.safetensors", NULL, NULL,
                                                 &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "/nonexistent-dir/x.safetensors"));
    g_clear_error(&error);
}

static void test_missing_file(void)
{
    GError *error = NULL;
    g_assert_null(aigc_safetensors_open("/nonexistent/file.safetensors", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "/nonexistent/file.safetensors"));
    g_clear_error(&error);
}

static void test_half_conversions(void)
{
    /* Every F16 value survives F16 → F32 → F16 (NaNs stay NaN). */
    for (guint32 h = 0; h < 65536; h++) {
        float f = aigc_f16_to_f32((guint16)h);
        guint16 back = aigc_f32_to_f16(f);
        if (isnan(f))
            g_assert_true(isnan(aigc_f16_to_f32(back)));
        else
            g_assert_cmpuint(back, ==, h);
    }
    g_assert_cmpuint(aigc_f32_to_f16(1e6f), ==, 0x7c00);      /* overflow → Inf */
    g_assert_cmpuint(aigc_f32_to_f16(1e-9f), ==, 0);          /* underflow → 0 */
    g_assert_cmpuint(aigc_f32_to_f16(1.0f + 1.0f / 4096), ==, 0x3c00); /* ties to even */
    g_assert_cmpuint(aigc_f32_to_bf16(1.0f), ==, 0x3f80);
    g_assert_true(isnan(aigc_bf16_to_f32(aigc_f32_to_bf16(NAN))));
}

static int write_corpus(const char *dir)
{
    g_mkdir_with_parents(dir, 0755);
    for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autoptr(GBytes) bytes = make_case(&bad_cases[i]);
        g_autofree char *path = g_strdup_printf("%s/bad-%s.safetensors", dir, bad_cases[i].name);
        gsize n;
        const char *d = g_bytes_get_data(bytes, &n);
        if (!g_file_set_contents(path, d ? d : "", (gssize)n, NULL))
            return 1;
    }
    float w[6] = {0.5f, -1, 2, 3, 4, 5};
    gint64 shape[2] = {2, 3};
    g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
    aigc_safetensors_writer_set_metadata(wr, "family", "example");
    aigc_safetensors_writer_add_f32(wr, "layer.weight", AIGC_DTYPE_F32, 2, shape, w, NULL);
    aigc_safetensors_writer_add_f32(wr, "layer.half", AIGC_DTYPE_F16, 2, shape, w, NULL);
    g_autofree char *good = g_strdup_printf("%s/good-small.safetensors", dir);
    if (!aigc_safetensors_writer_write(wr, good, NULL, NULL, NULL))
        return 1;
    g_autoptr(AigcSafetensorsWriter) empty = aigc_safetensors_writer_new();
    g_autofree char *good_empty = g_strdup_printf("%s/good-empty.safetensors", dir);
    return aigc_safetensors_writer_write(empty, good_empty, NULL, NULL, NULL) ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return write_corpus(argv[2]);

    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("aigc-st-XXXXXX", NULL);
    g_assert_cmpuint(G_N_ELEMENTS(bad_cases), >=, 20);
    for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf("/engine/io/safetensors/malformed/%s",
                                                bad_cases[i].name);
        g_test_add_data_func(path, &bad_cases[i], test_malformed);
    }
    g_test_add_func("/engine/io/safetensors/pickle-like-length", test_pickle_like_length);
    g_test_add_func("/engine/io/safetensors/roundtrip", test_roundtrip);
    g_test_add_func("/engine/io/safetensors/q8", test_q8);
    g_test_add_func("/engine/io/safetensors/write-cancel", test_write_cancel_leaves_nothing);
    g_test_add_func("/engine/io/safetensors/write-missing-folder", test_write_to_missing_folder);
    g_test_add_func("/engine/io/safetensors/missing-file", test_missing_file);
    g_test_add_func("/engine/io/safetensors/half", test_half_conversions);
    int status = g_test_run();
    g_rmdir(tmp_dir);
    g_free(tmp_dir);
    return status;
}
