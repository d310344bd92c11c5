/* SPDX-License-Identifier: MIT
 *
 * IDX reader: synthetic files written here, plain and gzip-compressed (one and two gzip
 * members), a table of malformed files each with the error code and message it must produce,
 * and the real Fashion-MNIST sets of the dataset-fashion-mnist package (a declared test
 * dependency in build-aux/debian-packages.txt). `-m perf` adds a load-time check.
 */
#include "aigc-engine.h"
#include "io/aigc-idx.h"

#include <glib/gstdio.h>
#include <string.h>
#include <zlib.h>

static char *tmp_dir;

typedef enum {
    PACK_PLAIN,
    PACK_GZIP,
    PACK_GZIP_TWO_MEMBERS, /* the header in one gzip member, the data in a second */
    PACK_GZIP_CORRUPT,     /* first deflate block header replaced by a reserved block type */
    PACK_GZIP_CUT,         /* the compressed file cut in the middle */
    PACK_GZIP_NO_TRAILER,  /* the 8-byte CRC + length trailer removed */
    PACK_GZIP_BAD_CRC,     /* one CRC byte flipped */
} Packing;

/* Deterministic, poorly compressible bytes, so gzip files have some size to cut. */
static guint8 pattern_byte(gint64 i)
{
    guint32 h = (guint32)i * 2654435761u;
    return (guint8)((h >> 13) ^ (h >> 24));
}

/* The bytes of an IDX file: magic, n_dims_written big-endian sizes, then
 * product(dims[0 .. magic[3]-1]) + data_delta pattern bytes. */
static GByteArray *make_idx(const guint8 magic[4], const guint32 *dims, int n_dims_written,
                            gint64 data_delta)
{
    GByteArray *a = g_byte_array_new();
    g_byte_array_append(a, magic, 4);
    for (int d = 0; d < n_dims_written; d++) {
        guint8 be[4] = {(guint8)(dims[d] >> 24), (guint8)(dims[d] >> 16), (guint8)(dims[d] >> 8),
                        (guint8)dims[d]};
        g_byte_array_append(a, be, 4);
    }
    guint64 n_declared = 1; /* capped at 2^27 so that four 32-bit sizes cannot overflow */
    for (int d = 0; d < magic[3]; d++)
        n_declared = MIN(n_declared * dims[d], (guint64)1 << 27);
    /* Headers that are cut short or declare more than 64 MiB get no data. */
    gint64 n = (n_dims_written < magic[3] || n_declared > (1u << 26)) ? 0 : (gint64)n_declared;
    n += data_delta;
    for (gint64 i = 0; i < n; i++) {
        guint8 b = pattern_byte(i);
        g_byte_array_append(a, &b, 1);
    }
    return a;
}

static void write_gzip(const char *path, const char *mode, const guint8 *data, gsize n)
{
    gzFile gz = gzopen(path, mode);
    g_assert_nonnull(gz);
    if (n > 0)
        g_assert_cmpint(gzwrite(gz, data, (unsigned)n), ==, (int)n);
    g_assert_cmpint(gzclose(gz), ==, Z_OK);
}

/* Writes `bytes` to `path` in the given packing. */
static void write_packed(const char *path, const GByteArray *bytes, Packing packing)
{
    if (packing == PACK_PLAIN) {
        g_assert_true(g_file_set_contents(path, (const char *)bytes->data, bytes->len, NULL));
        return;
    }
    if (packing == PACK_GZIP_TWO_MEMBERS) {
        gsize n_head = MIN(bytes->len, 8u);
        write_gzip(path, "wb", bytes->data, n_head);
        write_gzip(path, "ab", bytes->data + n_head, bytes->len - n_head); /* a new member */
        return;
    }
    write_gzip(path, "wb", bytes->data, bytes->len);
    if (packing == PACK_GZIP)
        return;
    char *contents;
    gsize n;
    g_assert_true(g_file_get_contents(path, &contents, &n, NULL));
    g_assert_cmpuint(n, >, 18);
    switch (packing) {
    case PACK_GZIP_CORRUPT:
        contents[10] = (char)0xff; /* gzopen writes a bare 10-byte header: BFINAL=1, BTYPE=11 */
        break;
    case PACK_GZIP_CUT:
        n /= 2;
        break;
    case PACK_GZIP_NO_TRAILER:
        n -= 8;
        break;
    case PACK_GZIP_BAD_CRC:
        contents[n - 8] ^= 0x5a;
        break;
    default:
        g_assert_not_reached();
    }
    g_assert_true(g_file_set_contents(path, contents, (gssize)n, NULL));
    g_free(contents);
}

/* ---- malformed files ---- */

typedef struct {
    const char *name;
    guint8 magic[4];
    guint32 dims[5];
    int n_dims_written; /* -1 = magic[3] */
    gint64 data_delta;  /* data bytes beyond (or, negative, short of) what the header says */
    const char *raw;    /* when non-NULL, the whole file (before packing) instead */
    gsize n_raw;
    Packing packing;
    AigcEngineErrorCode code;
    const char *expect; /* substring of the message */
} BadCase;

#define U8  0x08
#define FMT AIGC_ENGINE_ERROR_FORMAT

/* One case per entry reads better than one field per line. */
/* clang-format off */
static const BadCase bad_cases[] = {
    {"empty", {0}, {0}, 0, 0, "", 0, PACK_PLAIN, FMT, "the file is empty"},
    {"empty-gzip", {0}, {0}, 0, 0, "", 0, PACK_GZIP, FMT, "the file is empty"},
    {"short-magic", {0}, {0}, 0, 0, "\0\0", 2, PACK_PLAIN, FMT,
     "truncated: 2 bytes, shorter than the 4-byte magic"},
    {"bad-magic", {1, 2, U8, 1}, {3}, -1, 0, NULL, 0, PACK_PLAIN, FMT,
     "bad magic 01 02 08 01: not an IDX file"},
    {"text-file", {0}, {0}, 0, 0, "hello, world\n", 13, PACK_PLAIN, FMT, "bad magic 68 65 6c 6c"},
    {"png-file", {0}, {0}, 0, 0, "\x89PNG\r\n\x1a\n", 8, PACK_PLAIN, FMT, "bad magic 89 50"},
    {"type-float", {0, 0, 0x0D, 1}, {3}, -1, 0, NULL, 0, PACK_PLAIN,
     AIGC_ENGINE_ERROR_UNSUPPORTED, "element type 0x0d (32-bit float) is not supported"},
    {"type-signed", {0, 0, 0x09, 1}, {3}, -1, 0, NULL, 0, PACK_GZIP,
     AIGC_ENGINE_ERROR_UNSUPPORTED, "element type 0x09 (signed byte) is not supported"},
    {"type-unknown", {0, 0, 0x07, 1}, {3}, -1, 0, NULL, 0, PACK_PLAIN, FMT,
     "unknown element type 0x07"},
    {"zero-dims", {0, 0, U8, 0}, {0}, -1, 0, NULL, 0, PACK_PLAIN, FMT,
     "0 dimensions, but IDX files here have 1 to 4"},
    {"too-many-dims", {0, 0, U8, 5}, {1, 1, 1, 1, 1}, -1, 0, NULL, 0, PACK_PLAIN, FMT,
     "5 dimensions, but IDX files here have 1 to 4"},
    {"zero-dim", {0, 0, U8, 3}, {2, 0, 3}, -1, 0, NULL, 0, PACK_PLAIN, FMT,
     "dimension 2 of 3 is 0"},
    {"truncated-dims", {0, 0, U8, 3}, {2, 3, 5}, 2, 0, NULL, 0, PACK_PLAIN, FMT,
     "truncated: the header ends after 12 of its 16 bytes"},
    {"truncated-data", {0, 0, U8, 2}, {3, 5}, -1, -4, NULL, 0, PACK_PLAIN, FMT,
     "truncated: the header describes 15 bytes of data but the file holds 11"},
    {"no-data", {0, 0, U8, 3}, {7, 28, 28}, -1, -5488, NULL, 0, PACK_PLAIN, FMT,
     "the header describes 5488 bytes of data but the file holds 0"},
    {"trailing-bytes", {0, 0, U8, 2}, {3, 5}, -1, 3, NULL, 0, PACK_PLAIN, FMT,
     "3 trailing bytes after the 15 bytes of data"},
    {"over-limit", {0, 0, U8, 3}, {65536, 65536, 2}, -1, 0, NULL, 0, PACK_PLAIN, FMT,
     "more than the 1 GiB limit"},
    {"over-limit-max-dims", {0, 0, U8, 4}, {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
     -1, 0, NULL, 0, PACK_PLAIN, FMT, "more than the 1 GiB limit"},
    {"gz-truncated-data", {0, 0, U8, 2}, {3, 5}, -1, -4, NULL, 0, PACK_GZIP, FMT,
     "truncated: the header describes 15 bytes of data but the file holds 11"},
    /* 512 MB promised by a gzip file of a few bytes: refused without allocating it all. */
    {"gz-header-only-big", {0, 0, U8, 3}, {16384, 16384, 2}, -1, 0, NULL, 0, PACK_GZIP, FMT,
     "describes 536870912 bytes of data but the file holds 0"},
    {"gz-trailing-bytes", {0, 0, U8, 2}, {3, 5}, -1, 1, NULL, 0, PACK_GZIP, FMT,
     "trailing bytes after the 15 bytes of data"},
    {"gz-corrupt", {0, 0, U8, 3}, {5, 28, 28}, -1, 0, NULL, 0, PACK_GZIP_CORRUPT, FMT,
     "corrupt gzip data (invalid block type)"},
    {"gz-cut", {0, 0, U8, 3}, {5, 28, 28}, -1, 0, NULL, 0, PACK_GZIP_CUT, FMT,
     "truncated: the header describes 3920 bytes of data but the file holds"},
    {"gz-no-trailer", {0, 0, U8, 3}, {5, 28, 28}, -1, 0, NULL, 0, PACK_GZIP_NO_TRAILER, FMT,
     "truncated: the gzip stream ends before its checksum"},
    {"gz-bad-crc", {0, 0, U8, 3}, {5, 28, 28}, -1, 0, NULL, 0, PACK_GZIP_BAD_CRC, FMT,
     "corrupt gzip data (incorrect data check)"},
};
/* clang-format on */

static void test_malformed(gconstpointer data)
{
    const BadCase *c = data;
    GByteArray *bytes;
    if (c->raw) {
        bytes = g_byte_array_new();
        g_byte_array_append(bytes, (const guint8 *)c->raw, (guint)c->n_raw);
    } else {
        int n_written = c->n_dims_written < 0 ? c->magic[3] : c->n_dims_written;
        bytes = make_idx(c->magic, c->dims, n_written, c->data_delta);
    }
    g_autofree char *path = g_strdup_printf("%s/%s.idx", tmp_dir, c->name);
    write_packed(path, bytes, c->packing);
    g_byte_array_unref(bytes);

    GError *error = NULL;
    AigcIdx *idx = aigc_idx_read(path, &error);
    g_assert_null(idx);
    g_assert_error(error, AIGC_ENGINE_ERROR, (gint)c->code);
    if (!strstr(error->message, c->expect))
        g_error("case %s: message “%s” does not contain “%s”", c->name, error->message, c->expect);
    g_assert_true(g_str_has_prefix(error->message, path)); /* names the file */
    g_clear_error(&error);
    g_unlink(path);
}

static void test_missing_file(void)
{
    GError *error = NULL;
    g_assert_null(aigc_idx_read("/nonexistent/train-images-idx3-ubyte.gz", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
    g_assert_true(g_str_has_prefix(error->message, "/nonexistent/train-images-idx3-ubyte.gz: "));
    g_assert_nonnull(strstr(error->message, "cannot open"));
    g_clear_error(&error);

    g_assert_null(aigc_idx_read(tmp_dir, &error)); /* a folder */
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
    g_assert_true(g_str_has_prefix(error->message, tmp_dir));
    g_clear_error(&error);
}

/* ---- valid files ---- */

typedef struct {
    const char *name;
    int n_dims;
    guint32 dims[4];
} GoodShape;

static const GoodShape good_shapes[] = {
    {"1d", 1, {7}},
    {"2d", 2, {3, 5}},
    {"3d", 3, {5, 7, 3}},
    {"4d", 4, {3, 1, 5, 7}},
    {"single", 1, {1}},
    /* Over the reader's first allocation when the size is not trusted (two gzip members):
     * the data buffer has to grow while reading. */
    {"grows", 3, {5, 1024, 1023}},
};

static void check_good(const char *path, const GoodShape *s)
{
    GError *error = NULL;
    g_autoptr(AigcIdx) idx = aigc_idx_read(path, &error);
    g_assert_no_error(error);
    g_assert_nonnull(idx);
    g_assert_cmpint(idx->n_dims, ==, s->n_dims);
    gint64 n = 1;
    for (int d = 0; d < AIGC_IDX_MAX_DIMS; d++) {
        g_assert_cmpint(idx->dims[d], ==, d < s->n_dims ? (gint64)s->dims[d] : 0);
        if (d < s->n_dims)
            n *= s->dims[d];
    }
    g_assert_cmpint(idx->n_elements, ==, n);
    for (gint64 i = 0; i < n; i++) {
        if (idx->data[i] != pattern_byte(i))
            g_error("%s: byte %" G_GINT64_FORMAT " is %u, want %u", path, i, idx->data[i],
                    pattern_byte(i));
    }
}

static void test_good(gconstpointer data)
{
    const GoodShape *s = data;
    guint8 magic[4] = {0, 0, U8, (guint8)s->n_dims};
    GByteArray *bytes = make_idx(magic, s->dims, s->n_dims, 0);
    /* The contents decide, not the name: each packing is also read under the other's name. */
    static const struct {
        Packing packing;
        const char *suffix;
    } variants[] = {
        {PACK_PLAIN, ""},
        {PACK_PLAIN, ".gz"},
        {PACK_GZIP, ".gz"},
        {PACK_GZIP, ""},
        {PACK_GZIP_TWO_MEMBERS, ".gz"},
    };
    for (guint v = 0; v < G_N_ELEMENTS(variants); v++) {
        g_autofree char *path =
            g_strdup_printf("%s/good-%s-%u%s", tmp_dir, s->name, v, variants[v].suffix);
        write_packed(path, bytes, variants[v].packing);
        check_good(path, s);
        g_unlink(path);
    }
    g_byte_array_unref(bytes);
}

/* ---- Fashion-MNIST ---- */

static void test_class_names(void)
{
    static const char *const want[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                         "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                         "Bag",         "Ankle boot"};
    for (int i = 0; i < 10; i++)
        g_assert_cmpstr(aigc_fashion_mnist_class_name(i), ==, want[i]);
    g_assert_cmpstr(aigc_fashion_mnist_class_name(-1), ==, "?");
    g_assert_cmpstr(aigc_fashion_mnist_class_name(10), ==, "?");
}

/* Checks a loaded set: n images, pixels in [0, 1] on the 1/255 grid, n / 10 labels per class. */
static void check_real_set(const AigcFashionMnist *set, int n)
{
    g_assert_cmpint(set->n, ==, n);
    int histogram[10] = {0};
    for (int i = 0; i < n; i++) {
        g_assert_cmpint(set->labels[i], >=, 0);
        g_assert_cmpint(set->labels[i], <, 10);
        histogram[set->labels[i]]++;
    }
    for (int k = 0; k < 10; k++)
        g_assert_cmpint(histogram[k], ==, n / 10);
    double sum = 0;
    float lo = 1, hi = 0;
    gint64 n_pixels = (gint64)n * 28 * 28;
    for (gint64 i = 0; i < n_pixels; i++) {
        float p = set->images[i];
        lo = MIN(lo, p);
        hi = MAX(hi, p);
        sum += p;
        int level = (int)(p * 255.0f + 0.5f);
        if (p != (float)level / 255.0f)
            g_error("pixel %" G_GINT64_FORMAT " = %g is not k/255", i, p);
    }
    g_assert_cmpfloat(lo, ==, 0.0f);
    g_assert_cmpfloat(hi, ==, 1.0f);
    /* Fashion-MNIST's mean intensity is about 0.286 in both sets. */
    g_assert_cmpfloat(sum / (double)n_pixels, >, 0.27);
    g_assert_cmpfloat(sum / (double)n_pixels, <, 0.30);
}

static void test_fashion_train(void)
{
    AigcFashionMnist set;
    GError *error = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(aigc_fashion_mnist_load(NULL, TRUE, &set, &error));
    gint64 t1 = g_get_monotonic_time();
    g_assert_no_error(error);
    g_test_message("loaded 60,000 training images in %.0f ms", (t1 - t0) / 1000.0);
    check_real_set(&set, 60000);
    /* The first training item of the official file is an ankle boot. */
    g_assert_cmpint(set.labels[0], ==, 9);
    aigc_fashion_mnist_clear(&set);
    g_assert_null(set.images);
    g_assert_cmpint(set.n, ==, 0);
    aigc_fashion_mnist_clear(&set); /* twice is fine */
}

static void test_fashion_test(void)
{
    AigcFashionMnist set;
    GError *error = NULL;
    g_assert_true(aigc_fashion_mnist_load(AIGC_FASHION_MNIST_DIR, FALSE, &set, &error));
    g_assert_no_error(error);
    check_real_set(&set, 10000);
    aigc_fashion_mnist_clear(&set);
}

/* Perf mode only (-m perf): the studio loads the training set when a job starts. */
static void test_fashion_load_time(void)
{
    if (!g_test_perf()) {
        g_test_skip("a timing check; run with -m perf");
        return;
    }
    double best = G_MAXDOUBLE;
    for (int rep = 0; rep < 3; rep++) {
        AigcFashionMnist set;
        gint64 t0 = g_get_monotonic_time();
        g_assert_true(aigc_fashion_mnist_load(NULL, TRUE, &set, NULL));
        best = MIN(best, (g_get_monotonic_time() - t0) / 1e6);
        aigc_fashion_mnist_clear(&set);
    }
    g_test_minimized_result(best, "fashion-mnist train load %.3f s", best);
    g_assert_cmpfloat(best, <, 1.0);
}

/* Writes a small Fashion-MNIST-like folder: n images of side×side, labels given. */
static char *make_fake_set(const char *name, int n, int side, const guint8 *labels, int n_labels,
                           gboolean gz)
{
    char *dir = g_build_filename(tmp_dir, name, NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    guint8 image_magic[4] = {0, 0, U8, 3}, label_magic[4] = {0, 0, U8, 1};
    guint32 image_dims[3] = {(guint32)n, (guint32)side, (guint32)side};
    GByteArray *images = make_idx(image_magic, image_dims, 3, 0);
    GByteArray *label_bytes = g_byte_array_new();
    g_byte_array_append(label_bytes, label_magic, 4);
    guint8 be[4] = {0, 0, (guint8)(n_labels >> 8), (guint8)n_labels};
    g_byte_array_append(label_bytes, be, 4);
    g_byte_array_append(label_bytes, labels, (guint)n_labels);
    const char *suffix = gz ? ".gz" : "";
    Packing packing = gz ? PACK_GZIP : PACK_PLAIN;
    g_autofree char *image_path = g_strdup_printf("%s/t10k-images-idx3-ubyte%s", dir, suffix);
    g_autofree char *label_path = g_strdup_printf("%s/t10k-labels-idx1-ubyte%s", dir, suffix);
    write_packed(image_path, images, packing);
    write_packed(label_path, label_bytes, packing);
    g_byte_array_unref(images);
    g_byte_array_unref(label_bytes);
    return dir;
}

static void remove_fake_set(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(dir);
}

static void test_fashion_synthetic(void)
{
    const guint8 labels[7] = {9, 0, 3, 3, 5, 1, 8};
    for (int gz = 0; gz <= 1; gz++) {
        g_autofree char *dir = make_fake_set(gz ? "fake-gz" : "fake-plain", 7, 28, labels, 7, gz);
        AigcFashionMnist set;
        GError *error = NULL;
        g_assert_true(aigc_fashion_mnist_load(dir, FALSE, &set, &error));
        g_assert_no_error(error);
        g_assert_cmpint(set.n, ==, 7);
        for (int i = 0; i < 7; i++)
            g_assert_cmpint(set.labels[i], ==, labels[i]);
        for (gint64 i = 0; i < 7 * 28 * 28; i++)
            g_assert_cmpfloat(set.images[i], ==, pattern_byte(i) / 255.0f);
        aigc_fashion_mnist_clear(&set);

        /* The training files are not there. */
        g_assert_false(aigc_fashion_mnist_load(dir, TRUE, &set, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
        g_assert_nonnull(strstr(error->message, "train-labels-idx1-ubyte"));
        g_assert_null(set.images);
        g_clear_error(&error);
        remove_fake_set(dir);
    }
}

typedef struct {
    const char *name;
    int n_images, side, n_labels;
    guint8 bad_label; /* written as the last label */
    const char *expect;
} BadSet;

static const BadSet bad_sets[] = {
    {"label-out-of-range", 5, 28, 5, 10, "label 10 of item 4 is not a class"},
    {"count-mismatch", 5, 28, 4, 0, "4 labels for 5 images"},
    {"wrong-side", 5, 27, 5, 0, "not a stack of 28×28 pictures"},
};

static void test_fashion_bad_set(gconstpointer data)
{
    const BadSet *b = data;
    guint8 labels[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    labels[b->n_labels - 1] = b->bad_label;
    g_autofree char *dir = make_fake_set(b->name, b->n_images, b->side, labels, b->n_labels, TRUE);
    AigcFashionMnist set;
    GError *error = NULL;
    g_assert_false(aigc_fashion_mnist_load(dir, FALSE, &set, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    if (!strstr(error->message, b->expect))
        g_error("set %s: message “%s” does not contain “%s”", b->name, error->message, b->expect);
    g_assert_true(g_str_has_prefix(error->message, dir));
    g_assert_null(set.images);
    g_assert_null(set.labels);
    g_assert_cmpint(set.n, ==, 0);
    g_clear_error(&error);
    remove_fake_set(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("aigc-idx-XXXXXX", NULL);
    g_assert_nonnull(tmp_dir);
    g_assert_cmpuint(G_N_ELEMENTS(bad_cases), >=, 8);
    for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf("/engine/io/idx/malformed/%s", bad_cases[i].name);
        g_test_add_data_func(path, &bad_cases[i], test_malformed);
    }
    g_test_add_func("/engine/io/idx/missing-file", test_missing_file);
    for (guint i = 0; i < G_N_ELEMENTS(good_shapes); i++) {
        g_autofree char *path = g_strdup_printf("/engine/io/idx/read/%s", good_shapes[i].name);
        g_test_add_data_func(path, &good_shapes[i], test_good);
    }
    g_test_add_func("/engine/io/fashion-mnist/class-names", test_class_names);
    g_test_add_func("/engine/io/fashion-mnist/synthetic", test_fashion_synthetic);
    for (guint i = 0; i < G_N_ELEMENTS(bad_sets); i++) {
        g_autofree char *path =
            g_strdup_printf("/engine/io/fashion-mnist/bad/%s", bad_sets[i].name);
        g_test_add_data_func(path, &bad_sets[i], test_fashion_bad_set);
    }
    g_test_add_func("/engine/io/fashion-mnist/train", test_fashion_train);
    g_test_add_func("/engine/io/fashion-mnist/test", test_fashion_test);
    g_test_add_func("/engine/io/fashion-mnist/load-time", test_fashion_load_time);
    int status = g_test_run();
    g_rmdir(tmp_dir);
    g_free(tmp_dir);
    return status;
}
