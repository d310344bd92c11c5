/* SPDX-License-Identifier: MIT
 *
 * PNG reading and writing: every colour type and bit depth libpng can write (gray 1/2/4/8/16,
 * gray + alpha 8/16, palette 1/2/4/8 with and without tRNS, RGB 8/16 with and without tRNS,
 * RGBA 8/16), plain and interlaced, made here with libpng itself and read back to the exact
 * 8-bit RGBA expected; compositing over a background; our own writer's round trip with tEXt /
 * iTXt text (the A1111 "parameters" chunk); truncated, corrupt and absurdly large files refused
 * with messages; resizing by area and bilinear interpolation against hand-computed values;
 * grids with gutters.
 */
#include "aigc-test-support.h"
#include "io/aigc-png.h"

#include <glib/gstdio.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>
#include <zlib.h>

/* ---- PNGs written with libpng directly ---- */

typedef struct {
    int color_type, bit_depth, interlace;
    int width, height;
    gboolean trns;
} Spec;

typedef struct {
    GByteArray *out;
} Sink;

static void sink_write(png_structp png, png_bytep data, png_size_t n)
{
    Sink *s = png_get_io_ptr(png);
    g_byte_array_append(s->out, data, (guint)n);
}

static void sink_flush(png_structp png)
{
    (void)png;
}

static int n_channels(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
        return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        return 2;
    case PNG_COLOR_TYPE_RGB:
        return 3;
    default:
        return 4;
    }
}

/* Stores sample v (0 … 2^depth − 1) at position i of a packed row. */
static void put_sample(guint8 *row, int i, int depth, unsigned v)
{
    if (depth == 16) {
        row[2 * i] = (guint8)(v >> 8);
        row[2 * i + 1] = (guint8)v;
    } else if (depth == 8) {
        row[i] = (guint8)v;
    } else {
        const int per_byte = 8 / depth;
        const int shift = 8 - depth * (i % per_byte + 1);
        row[i / per_byte] |= (guint8)(v << shift);
    }
}

typedef struct {
    const Spec *sp;
    png_bytep *rows;
    png_color *palette;
    int n_palette;
    png_byte *palette_alpha;
    int n_palette_alpha;
    png_color_16 *trans;
} WriteArgs;

/* Runs after libpng_write's setjmp. */
static void write_with_libpng(png_structp png, png_infop info, const WriteArgs *a, Sink *sink)
{
    const Spec *sp = a->sp;
    png_set_write_fn(png, sink, sink_write, sink_flush);
    png_set_IHDR(png, info, sp->width, sp->height, sp->bit_depth, sp->color_type, sp->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (a->n_palette)
        png_set_PLTE(png, info, a->palette, a->n_palette);
    if (sp->trns) {
        if (a->n_palette)
            png_set_tRNS(png, info, a->palette_alpha, a->n_palette_alpha, NULL);
        else
            png_set_tRNS(png, info, NULL, 0, a->trans);
    }
    png_text title = {.compression = PNG_TEXT_COMPRESSION_NONE, .key = "Title",
                      .text = "caf\xe9 au lait", .text_length = 12};
    png_set_text(png, info, &title, 1);
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        png_write_rows(png, a->rows, sp->height);
    png_text late[2] = {
        {.compression = PNG_TEXT_COMPRESSION_zTXt, .key = "Comment",
         .text = "written after IDAT, compressed", .text_length = 30},
        {.compression = PNG_ITXT_COMPRESSION_NONE, .key = "Author",
         .text = "\xe5\xbc\xa0\xe4\xb8\x89", .itxt_length = 6},
    };
    png_set_text(png, info, late, 2);
    png_write_end(png, info);
}

static GBytes *libpng_write(const WriteArgs *a)
{
    Sink *sink = g_new0(Sink, 1);
    sink->out = g_byte_array_new();
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png)))
        g_assert_not_reached();
    write_with_libpng(png, info, a, sink);
    png_destroy_write_struct(&png, &info);
    GBytes *bytes = g_byte_array_free_to_bytes(sink->out);
    g_free(sink);
    return bytes;
}

/* A PNG of the spec and the 8-bit RGBA a reader must get from it (w × h × 4). Text chunks:
 * tEXt "Title" before the image, zTXt "Comment" and iTXt "Author" after it. */
static GBytes *make_png(const Spec *sp, guint8 *expected)
{
    const int W = sp->width, H = sp->height, D = sp->bit_depth;
    const int C = n_channels(sp->color_type);
    const unsigned max_v = D == 16 ? 65535u : (1u << D) - 1u;
    png_color palette[256];
    png_byte palette_alpha[256];
    const int n_palette = sp->color_type == PNG_COLOR_TYPE_PALETTE ? 1 << D : 0;
    for (int i = 0; i < n_palette; i++) {
        palette[i] = (png_color){(png_byte)(i * 53 + 7), (png_byte)(i * 97 + 1),
                                 (png_byte)(i * 151 + 200)};
        palette_alpha[i] = (png_byte)(i * 71 + 3);
    }
    const int n_palette_alpha = n_palette / 2 + (n_palette == 2 ? 0 : 1);
    /* The transparent colour of gray / RGB tRNS: the value of pixel (1, 0). */
    png_color_16 trans = {0};
    gsize rowbytes = ((gsize)W * C * D + 7) / 8;
    guint8 *pixels = g_malloc0(rowbytes * H);
    png_bytep *rows = g_new(png_bytep, H);
    for (int y = 0; y < H; y++) {
        rows[y] = pixels + rowbytes * y;
        for (int x = 0; x < W; x++) {
            guint8 *e = expected + ((gsize)y * W + x) * 4;
            unsigned v8[4];
            for (int c = 0; c < C; c++)
                v8[c] = (unsigned)(x * 37 + y * 101 + c * 59 + 13) & 0xFF;
            unsigned v[4];
            for (int c = 0; c < C; c++) {
                /* 16-bit samples are v8·257 so that scaling to 8 bits is exact; low depths
                 * keep the top bits. */
                v[c] = D == 16 ? v8[c] * 257u : D == 8 ? v8[c] : v8[c] >> (8 - D);
                put_sample(rows[y], x * C + c, D, v[c]);
            }
            if (sp->color_type == PNG_COLOR_TYPE_PALETTE) {
                const int k = (int)v[0];
                e[0] = palette[k].red;
                e[1] = palette[k].green;
                e[2] = palette[k].blue;
                e[3] = sp->trns && k < n_palette_alpha ? palette_alpha[k] : 255;
                continue;
            }
            unsigned e8[4];
            for (int c = 0; c < C; c++)
                e8[c] = D == 16 ? v8[c] : D == 8 ? v8[c] : v[c] * (255u / max_v);
            if (C <= 2) {
                e[0] = e[1] = e[2] = (guint8)e8[0];
                e[3] = C == 2 ? (guint8)e8[1] : 255;
            } else {
                e[0] = (guint8)e8[0];
                e[1] = (guint8)e8[1];
                e[2] = (guint8)e8[2];
                e[3] = C == 4 ? (guint8)e8[3] : 255;
            }
            if (x == 1 && y == 0 && sp->trns) {
                if (C == 1)
                    trans.gray = (png_uint_16)v[0];
                else
                    trans = (png_color_16){0, (png_uint_16)v[0], (png_uint_16)v[1],
                                           (png_uint_16)v[2], 0};
            }
        }
    }
    /* With gray / RGB tRNS, every pixel of the transparent colour becomes alpha 0. */
    if (sp->trns && sp->color_type != PNG_COLOR_TYPE_PALETTE) {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                guint8 *e = expected + ((gsize)y * W + x) * 4;
                const guint8 *t = expected + 4; /* pixel (1, 0) */
                if (e[0] == t[0] && e[1] == t[1] && e[2] == t[2])
                    e[3] = 0;
            }
        expected[4 + 3] = 0;
    }

    WriteArgs a = {sp, rows, palette, n_palette, palette_alpha, n_palette_alpha, &trans};
    GBytes *bytes = libpng_write(&a);
    g_free(rows);
    g_free(pixels);
    return bytes;
}

static AigcImage *read_bytes(GBytes *bytes, const AigcPngReadOptions *o, GHashTable **text,
                             GError **error)
{
    gsize n;
    const guint8 *data = g_bytes_get_data(bytes, &n);
    return aigc_png_read_from_data(data, n, "test.png", o, text, error);
}

static void test_all_types(void)
{
    const struct {
        int type, depth;
        gboolean trns;
    } cases[] = {
        {PNG_COLOR_TYPE_GRAY, 1, FALSE},       {PNG_COLOR_TYPE_GRAY, 2, FALSE},
        {PNG_COLOR_TYPE_GRAY, 4, FALSE},       {PNG_COLOR_TYPE_GRAY, 8, FALSE},
        {PNG_COLOR_TYPE_GRAY, 16, FALSE},      {PNG_COLOR_TYPE_GRAY, 2, TRUE},
        {PNG_COLOR_TYPE_GRAY, 8, TRUE},        {PNG_COLOR_TYPE_GRAY, 16, TRUE},
        {PNG_COLOR_TYPE_GRAY_ALPHA, 8, FALSE}, {PNG_COLOR_TYPE_GRAY_ALPHA, 16, FALSE},
        {PNG_COLOR_TYPE_PALETTE, 1, FALSE},    {PNG_COLOR_TYPE_PALETTE, 2, FALSE},
        {PNG_COLOR_TYPE_PALETTE, 4, FALSE},    {PNG_COLOR_TYPE_PALETTE, 8, FALSE},
        {PNG_COLOR_TYPE_PALETTE, 2, TRUE},     {PNG_COLOR_TYPE_PALETTE, 8, TRUE},
        {PNG_COLOR_TYPE_RGB, 8, FALSE},        {PNG_COLOR_TYPE_RGB, 16, FALSE},
        {PNG_COLOR_TYPE_RGB, 8, TRUE},         {PNG_COLOR_TYPE_RGB_ALPHA, 8, FALSE},
        {PNG_COLOR_TYPE_RGB_ALPHA, 16, FALSE},
    };
    int n_checked = 0;
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        for (int interlace = 0; interlace <= 1; interlace++) {
            Spec sp = {cases[i].type, cases[i].depth,
                       interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, 13, 7,
                       cases[i].trns};
            guint8 expected[13 * 7 * 4];
            g_autoptr(GBytes) png = make_png(&sp, expected);
            GHashTable *text = NULL;
            GError *error = NULL;
            g_autoptr(AigcImage) img = read_bytes(png, NULL, &text, &error);
            g_assert_no_error(error);
            g_assert_nonnull(img);
            g_assert_cmpint(img->width, ==, 13);
            g_assert_cmpint(img->height, ==, 7);
            g_assert_cmpint(img->channels, ==, 4);
            if (memcmp(img->data, expected, sizeof expected) != 0) {
                for (int k = 0; k < 13 * 7 * 4; k++)
                    if (img->data[k] != expected[k])
                        g_error("type %d depth %d trns %d interlace %d: byte %d is %d, want %d",
                                sp.color_type, sp.bit_depth, sp.trns, interlace, k,
                                img->data[k], expected[k]);
            }
            /* Text before and after the image data, in three chunk kinds. */
            g_assert_cmpstr(g_hash_table_lookup(text, "Title"), ==, "café au lait");
            g_assert_cmpstr(g_hash_table_lookup(text, "Comment"), ==,
                            "written after IDAT, compressed");
            g_assert_cmpstr(g_hash_table_lookup(text, "Author"), ==, "张三");
            g_hash_table_unref(text);
            n_checked++;
        }
    }
    g_assert_cmpint(n_checked, ==, 42);
}

/* Without alpha in the result, transparency is composited over the background. */
static void test_composite(void)
{
    Spec sp = {PNG_COLOR_TYPE_RGB_ALPHA, 8, PNG_INTERLACE_NONE, 13, 7, FALSE};
    guint8 expected[13 * 7 * 4];
    g_autoptr(GBytes) png = make_png(&sp, expected);
    AigcPngReadOptions o = aigc_png_read_default_options();
    o.channels = 3;
    o.background[0] = 10;
    o.background[1] = 200;
    o.background[2] = 255;
    g_autoptr(AigcImage) rgb = read_bytes(png, &o, NULL, NULL);
    g_assert_nonnull(rgb);
    g_assert_cmpint(rgb->channels, ==, 3);
    o.channels = 1;
    g_autoptr(AigcImage) gray = read_bytes(png, &o, NULL, NULL);
    g_assert_nonnull(gray);
    for (int i = 0; i < 13 * 7; i++) {
        const guint8 *e = expected + i * 4;
        double a = e[3] / 255.0;
        double want[3];
        for (int c = 0; c < 3; c++) {
            want[c] = e[c] * a + o.background[c] * (1 - a);
            g_assert_cmpfloat(fabs(rgb->data[i * 3 + c] - want[c]), <=, 1.0);
        }
        double y = 0.299 * rgb->data[i * 3] + 0.587 * rgb->data[i * 3 + 1] +
                   0.114 * rgb->data[i * 3 + 2];
        g_assert_cmpfloat(fabs(gray->data[i] - y), <=, 0.5 + 1e-9);
    }
    /* Fully transparent → the background, fully opaque → the colour, exactly. */
    guint8 px[2 * 4] = {50, 60, 70, 0, 50, 60, 70, 255};
    AigcImage two = {2, 1, 4, px};
    g_autoptr(AigcImage) flat = aigc_image_convert(&two, 3, (const guint8[]){1, 2, 3});
    const guint8 want[6] = {1, 2, 3, 50, 60, 70};
    g_assert_cmpmem(flat->data, 6, want, 6);
}

/* ---- our writer ---- */

static void test_write_roundtrip(void)
{
    g_autofree char *dir = g_dir_make_tmp("aigc-png-XXXXXX", NULL);
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    char *params = aigc_png_format_parameters(
        "Sneaker",
        (const char *const[]){"Steps", "Sampler", "CFG scale", "Seed", "Size", "Model", NULL},
        (const char *const[]){"50", "DDIM", "3", "42", "28x28", "diffusion-fashion", NULL});
    g_assert_cmpstr(params, ==,
                    "Sneaker\nSteps: 50, Sampler: DDIM, CFG scale: 3, Seed: 42, Size: 28x28, "
                    "Model: diffusion-fashion");
    const char *keys[] = {"parameters", "Comment", "Software", NULL};
    const char *values[] = {params, "三只熊 (UTF-8 → iTXt)", "aigc-studio", NULL};
    for (int channels = 1; channels <= 4; channels++) {
        if (channels == 2)
            continue;
        g_autoptr(AigcImage) img = aigc_image_new(29, 17, channels);
        for (gsize i = 0; i < (gsize)29 * 17 * channels; i++)
            img->data[i] = (guint8)(aigc_rng_u64(&rng) & 0xFF);
        g_autofree char *path = g_strdup_printf("%s/out-%d.png", dir, channels);
        GError *error = NULL;
        g_assert_true(aigc_png_write(path, img, keys, values, &error));
        g_assert_no_error(error);
        AigcPngReadOptions o = aigc_png_read_default_options();
        o.channels = channels;
        GHashTable *text = NULL;
        g_autoptr(AigcImage) back = aigc_png_read(path, &o, &text, &error);
        g_assert_no_error(error);
        g_assert_cmpint(back->width, ==, 29);
        g_assert_cmpint(back->height, ==, 17);
        g_assert_cmpmem(back->data, (gsize)29 * 17 * channels, img->data,
                        (gsize)29 * 17 * channels);
        g_assert_cmpstr(g_hash_table_lookup(text, "parameters"), ==, params);
        g_assert_cmpstr(g_hash_table_lookup(text, "Comment"), ==, values[1]);
        g_hash_table_unref(text);
        /* Latin-1 text goes in tEXt (what A1111 and `identify` read), the rest in iTXt. */
        g_autofree char *contents = NULL;
        gsize n;
        g_assert_true(g_file_get_contents(path, &contents, &n, NULL));
        g_assert_nonnull(memmem(contents, n, "tEXtparameters\0Sneaker\nSteps: 50", 32));
        g_assert_nonnull(memmem(contents, n, "iTXtComment", 11));
        GHashTable *only = aigc_png_read_text(path, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(g_hash_table_size(only), ==, 3);
        g_hash_table_unref(only);
        g_assert_cmpint(g_remove(path), ==, 0);
    }
    /* Bad keywords are refused and nothing is written. */
    g_autoptr(AigcImage) img = aigc_image_new(2, 2, 1);
    g_autofree char *bad = g_build_filename(dir, "bad.png", NULL);
    const char *bad_keys[][2] = {{"", "x"}, {" lead", "x"}, {"two  spaces", "x"},
                                 {"键", "x"}, {"a\nb", "x"}};
    for (guint i = 0; i < G_N_ELEMENTS(bad_keys); i++) {
        GError *error = NULL;
        g_assert_false(aigc_png_write(bad, img, (const char *const[]){bad_keys[i][0], NULL},
                                      (const char *const[]){bad_keys[i][1], NULL}, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "bad.png"));
        g_error_free(error);
        g_assert_false(g_file_test(bad, G_FILE_TEST_EXISTS));
    }
    /* An unwritable folder is an IO error naming the path. */
    GError *error = NULL;
    g_autofree char *nowhere = g_build_filename(dir, "no", "such", "dir.png", NULL);
    g_assert_false(aigc_png_write(nowhere, img, NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
    g_error_free(error);
    g_free(params);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* ---- bad files ---- */

static GBytes *small_png(void)
{
    Spec sp = {PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, 13, 7, FALSE};
    guint8 expected[13 * 7 * 4];
    return make_png(&sp, expected);
}

static void assert_refused(const guint8 *data, gsize n, int code, const char *needle)
{
    GError *error = NULL;
    GHashTable *text = NULL;
    AigcImage *img = aigc_png_read_from_data(data, n, "bad.png", NULL, &text, &error);
    g_assert_null(img);
    g_assert_null(text);
    g_assert_error(error, AIGC_ENGINE_ERROR, code);
    g_assert_true(g_str_has_prefix(error->message, "bad.png: "));
    if (needle && !strstr(error->message, needle))
        g_error("“%s” does not mention “%s”", error->message, needle);
    g_error_free(error);
}

static void test_truncated(void)
{
    g_autoptr(GBytes) png = small_png();
    gsize n;
    const guint8 *data = g_bytes_get_data(png, &n);
    /* Every cut, from nothing to one byte short. */
    for (gsize cut = 0; cut < n; cut++)
        assert_refused(data, cut, AIGC_ENGINE_ERROR_FORMAT, NULL);
    assert_refused(data, 20, AIGC_ENGINE_ERROR_FORMAT, "truncated");
    assert_refused((const guint8 *)"GIF89a....", 10, AIGC_ENGINE_ERROR_FORMAT, "not a PNG");
}

/* Offset of the first chunk of a type, or −1. */
static gssize find_chunk(const guint8 *data, gsize n, const char *type)
{
    for (gsize p = 8; p + 8 <= n;) {
        guint32 len = (guint32)data[p] << 24 | (guint32)data[p + 1] << 16 |
                      (guint32)data[p + 2] << 8 | data[p + 3];
        if (memcmp(data + p + 4, type, 4) == 0)
            return (gssize)p;
        p += 12 + (gsize)len;
    }
    return -1;
}

static void fix_crc(guint8 *data, gsize chunk)
{
    guint32 len = (guint32)data[chunk] << 24 | (guint32)data[chunk + 1] << 16 |
                  (guint32)data[chunk + 2] << 8 | data[chunk + 3];
    uLong crc = crc32(0, data + chunk + 4, len + 4);
    guint8 *c = data + chunk + 8 + len;
    c[0] = (guint8)(crc >> 24);
    c[1] = (guint8)(crc >> 16);
    c[2] = (guint8)(crc >> 8);
    c[3] = (guint8)crc;
}

static void test_corrupt(void)
{
    g_autoptr(GBytes) png = small_png();
    gsize n;
    const guint8 *orig = g_bytes_get_data(png, &n);
    g_autofree guint8 *data = g_memdup2(orig, n);
    gssize idat = find_chunk(data, n, "IDAT");
    g_assert_cmpint(idat, >, 0);
    /* A flipped bit in the image data (the CRC no longer matches; libpng may notice the
     * damage while inflating, before it reaches the CRC). */
    data[idat + 8 + 5] ^= 0x10;
    assert_refused(data, n, AIGC_ENGINE_ERROR_FORMAT, NULL);
    /* The same with a recomputed CRC: the zlib stream is broken instead. */
    memcpy(data, orig, n);
    data[idat + 8] = 0xFF; /* zlib header */
    fix_crc(data, (gsize)idat);
    assert_refused(data, n, AIGC_ENGINE_ERROR_FORMAT, NULL);
    /* Garbage through the whole stream, CRC fixed. */
    memcpy(data, orig, n);
    guint32 len = (guint32)data[idat] << 24 | (guint32)data[idat + 1] << 16 |
                  (guint32)data[idat + 2] << 8 | data[idat + 3];
    for (guint32 i = 2; i < len; i++)
        data[idat + 8 + i] = (guint8)(i * 131 + 7);
    fix_crc(data, (gsize)idat);
    assert_refused(data, n, AIGC_ENGINE_ERROR_FORMAT, NULL);
    /* A damaged ancillary chunk (the tEXt) is skipped; the image still reads. */
    memcpy(data, orig, n);
    gssize text = find_chunk(data, n, "tEXt");
    g_assert_cmpint(text, >, 0);
    data[text + 9] ^= 0x01;
    GError *error = NULL;
    GHashTable *table = NULL;
    g_autoptr(AigcImage) img = aigc_png_read_from_data(data, n, "x.png", NULL, &table, &error);
    g_assert_no_error(error);
    g_assert_nonnull(img);
    g_assert_false(g_hash_table_contains(table, "Title"));
    g_hash_table_unref(table);
    /* A bad colour type / bit depth pair in IHDR. */
    memcpy(data, orig, n);
    data[8 + 8 + 8] = 3; /* bit depth 3 */
    fix_crc(data, 8);
    assert_refused(data, n, AIGC_ENGINE_ERROR_FORMAT, NULL);
}

/* A header promising 100,000 × 100,000 pixels is refused before any pixel memory. */
static void test_absurd_size(void)
{
    g_autoptr(GBytes) png = small_png();
    gsize n;
    const guint8 *orig = g_bytes_get_data(png, &n);
    g_autofree guint8 *data = g_memdup2(orig, n);
    const guint32 sizes[][2] = {{100000, 100000}, {16385, 1}, {9000, 9000}};
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        for (int k = 0; k < 2; k++) {
            guint32 v = sizes[i][k];
            guint8 *p = data + 16 + 4 * k;
            p[0] = (guint8)(v >> 24);
            p[1] = (guint8)(v >> 16);
            p[2] = (guint8)(v >> 8);
            p[3] = (guint8)v;
        }
        fix_crc(data, 8);
        g_autofree char *dims = g_strdup_printf("%u×%u", sizes[i][0], sizes[i][1]);
        assert_refused(data, n, AIGC_ENGINE_ERROR_UNSUPPORTED, dims);
    }
    /* Zero width: libpng's own check. */
    memset(data + 16, 0, 4);
    fix_crc(data, 8);
    assert_refused(data, n, AIGC_ENGINE_ERROR_FORMAT, NULL);
}

static void test_missing_file(void)
{
    GError *error = NULL;
    g_assert_null(aigc_png_read("/nonexistent/dir/x.png", NULL, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "/nonexistent/dir/x.png"));
    g_error_free(error);
}

/* ---- resizing, floats, grids ---- */

static void test_resize(void)
{
    /* 4×4 → 2×2: each target pixel is the mean of a 2×2 block. */
    guint8 px[16] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150};
    AigcImage src = {4, 4, 1, px};
    g_autoptr(AigcImage) half = aigc_image_resize(&src, 2, 2);
    const guint8 want_half[4] = {25, 45, 105, 125};
    g_assert_cmpmem(half->data, 4, want_half, 4);
    /* 3 → 2: target pixels cover 1.5 source pixels each. */
    guint8 row[3] = {0, 90, 180};
    AigcImage three = {3, 1, 1, row};
    g_autoptr(AigcImage) two = aigc_image_resize(&three, 2, 1);
    g_assert_cmpint(two->data[0], ==, 30);  /* (0 + 0.5·90) / 1.5 */
    g_assert_cmpint(two->data[1], ==, 150); /* (0.5·90 + 180) / 1.5 */
    /* 2 → 4 bilinear, half-pixel centres, edges clamped (PyTorch align_corners=False):
     * sources −0.25 → 0, 0.25, 0.75, 1.25 → 1. */
    guint8 pair[2] = {0, 200};
    AigcImage two_px = {2, 1, 1, pair};
    g_autoptr(AigcImage) four = aigc_image_resize(&two_px, 4, 1);
    const guint8 want_four[4] = {0, 50, 150, 200};
    g_assert_cmpmem(four->data, 4, want_four, 4);
    /* Mixed: shrink one axis and grow the other. */
    g_autoptr(AigcImage) mixed = aigc_image_resize(&src, 2, 8);
    g_assert_cmpint(mixed->width, ==, 2);
    g_assert_cmpint(mixed->height, ==, 8);
    g_assert_cmpint(mixed->data[0], ==, 5);       /* row 0: (0 + 10) / 2 */
    g_assert_cmpint(mixed->data[15], ==, 145);    /* last row: (140 + 150) / 2 */
    /* A constant image stays constant at any size. */
    g_autoptr(AigcImage) flat = aigc_image_new(64, 64, 3);
    memset(flat->data, 77, 64 * 64 * 3);
    const int sizes[][2] = {{28, 28}, {32, 32}, {7, 100}, {100, 3}, {64, 64}};
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autoptr(AigcImage) r = aigc_image_resize(flat, sizes[i][0], sizes[i][1]);
        for (gsize k = 0; k < (gsize)sizes[i][0] * sizes[i][1] * 3; k++)
            g_assert_cmpint(r->data[k], ==, 77);
    }
    /* RGBA is averaged premultiplied: a transparent green pixel lends no green. */
    guint8 rgba[8] = {255, 0, 0, 255, 0, 255, 0, 0};
    AigcImage pairs = {2, 1, 4, rgba};
    g_autoptr(AigcImage) one = aigc_image_resize(&pairs, 1, 1);
    g_assert_cmpint(one->data[0], ==, 255);
    g_assert_cmpint(one->data[1], ==, 0);
    g_assert_cmpint(one->data[3], >=, 127);
    g_assert_cmpint(one->data[3], <=, 128);
}

static void test_floats(void)
{
    g_autoptr(AigcImage) img = aigc_image_new(5, 3, 3);
    for (int i = 0; i < 45; i++)
        img->data[i] = (guint8)(i * 5);
    float f[45];
    aigc_image_to_floats(img, -1, 1, f);
    /* Planar: channel 1 of pixel 0 is byte 1. */
    g_assert_cmpfloat(fabsf(f[15] - (5 / 255.0f * 2 - 1)), <, 1e-6);
    g_autoptr(AigcImage) back = aigc_image_from_floats(f, 3, 5, 3, -1, 1);
    g_assert_cmpmem(back->data, 45, img->data, 45);
    float odd[3] = {-5.0f, NAN, 7.0f};
    g_autoptr(AigcImage) clamped = aigc_image_from_floats(odd, 1, 3, 1, 0, 1);
    const guint8 want[3] = {0, 0, 255};
    g_assert_cmpmem(clamped->data, 3, want, 3);
}

static void test_grid(void)
{
    AigcImage *tiles[3];
    for (int i = 0; i < 3; i++) {
        tiles[i] = aigc_image_new(2, 2, 1);
        memset(tiles[i]->data, 10 * (i + 1), 4);
    }
    GError *error = NULL;
    g_autoptr(AigcImage) grid = aigc_image_grid(tiles, 3, 0, 2, NULL, &error);
    g_assert_no_error(error);
    /* 2 columns, 2 rows: 2·2 + 3·2 = 10 pixels each way. */
    g_assert_cmpint(grid->width, ==, 10);
    g_assert_cmpint(grid->height, ==, 10);
    g_assert_cmpint(grid->data[0], ==, 255);           /* gutter */
    g_assert_cmpint(grid->data[2 * 10 + 2], ==, 10);   /* tile 1 at (2, 2) */
    g_assert_cmpint(grid->data[2 * 10 + 6], ==, 20);   /* tile 2 at (6, 2) */
    g_assert_cmpint(grid->data[6 * 10 + 2], ==, 30);   /* tile 3 at (2, 6) */
    g_assert_cmpint(grid->data[6 * 10 + 6], ==, 255);  /* empty cell */
    g_assert_cmpint(grid->data[4 * 10 + 4], ==, 255);  /* gutter between */
    /* Written as one file. */
    g_autofree char *dir = g_dir_make_tmp("aigc-grid-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "grid.png", NULL);
    g_assert_true(aigc_png_write_grid(path, tiles, 3, 3, 2, NULL, NULL, &error));
    g_assert_no_error(error);
    AigcPngReadOptions o = aigc_png_read_default_options();
    o.channels = 1;
    g_autoptr(AigcImage) back = aigc_png_read(path, &o, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(back->width, ==, 14);
    g_assert_cmpint(back->height, ==, 6);
    g_assert_cmpint(g_remove(path), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
    /* Tiles of different sizes are refused. */
    g_autoptr(AigcImage) other = aigc_image_new(3, 2, 1);
    AigcImage *mixed[2] = {tiles[0], other};
    g_assert_null(aigc_image_grid(mixed, 2, 0, 2, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_error_free(error);
    for (int i = 0; i < 3; i++)
        aigc_image_free(tiles[i]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/io/png/all-types", test_all_types);
    g_test_add_func("/engine/io/png/composite", test_composite);
    g_test_add_func("/engine/io/png/write-roundtrip", test_write_roundtrip);
    g_test_add_func("/engine/io/png/truncated", test_truncated);
    g_test_add_func("/engine/io/png/corrupt", test_corrupt);
    g_test_add_func("/engine/io/png/absurd-size", test_absurd_size);
    g_test_add_func("/engine/io/png/missing-file", test_missing_file);
    g_test_add_func("/engine/io/png/resize", test_resize);
    g_test_add_func("/engine/io/png/floats", test_floats);
    g_test_add_func("/engine/io/png/grid", test_grid);
    return g_test_run();
}
