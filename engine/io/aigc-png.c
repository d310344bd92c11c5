/* SPDX-License-Identifier: MIT
 *
 * DESIGN (libpng errors): libpng reports a fatal error by calling our error function, which must
 * not return; it longjmps back to the setjmp in read_png / encode_png. Everything those functions
 * must free after the jump lives in a heap-allocated state struct (never in locals changed after
 * setjmp, whose values a longjmp leaves indeterminate), and the decoding itself runs in a helper
 * called after setjmp, so no local of the setjmp frame changes between the two. The error
 * message is copied into the state and turned into a GError naming the file.
 *
 * Every file is read whole into memory (PNG files of the sizes the studio handles are small;
 * larger than AIGC_PNG_MAX_FILE is refused) and decoded to 8-bit RGBA by libpng's
 * transformations, then converted to the requested channels here.
 */
#include "aigc-png.h"

#include "aigc-error.h"
#include "io/aigc-atomic-file.h"

#include <glib/gstdio.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>

/* ---- images ---- */

static gboolean size_ok(int width, int height)
{
    return width >= 1 && height >= 1 && width <= AIGC_PNG_MAX_SIDE &&
           height <= AIGC_PNG_MAX_SIDE && (gint64)width * height <= AIGC_PNG_MAX_PIXELS;
}

AigcImage *aigc_image_new(int width, int height, int channels)
{
    g_return_val_if_fail(size_ok(width, height), NULL);
    g_return_val_if_fail(channels == 1 || channels == 3 || channels == 4, NULL);
    AigcImage *image = g_new0(AigcImage, 1);
    image->width = width;
    image->height = height;
    image->channels = channels;
    image->data = g_malloc0((gsize)width * height * channels);
    return image;
}

AigcImage *aigc_image_copy(const AigcImage *image)
{
    AigcImage *copy = aigc_image_new(image->width, image->height, image->channels);
    memcpy(copy->data, image->data, (gsize)image->width * image->height * image->channels);
    return copy;
}

void aigc_image_free(AigcImage *image)
{
    if (!image)
        return;
    g_free(image->data);
    g_free(image);
}

static const guint8 white[4] = {255, 255, 255, 255};

/* Rounded a·b / 255 for a, b in 0 … 255. */
static inline guint8 mul255(unsigned a, unsigned b)
{
    unsigned t = a * b + 128;
    return (guint8)((t + (t >> 8)) >> 8);
}

AigcImage *aigc_image_convert(const AigcImage *src, int channels, const guint8 *background)
{
    g_return_val_if_fail(src && (channels == 1 || channels == 3 || channels == 4), NULL);
    const guint8 *bg = background ? background : white;
    AigcImage *dst = aigc_image_new(src->width, src->height, channels);
    const gsize n = (gsize)src->width * src->height;
    const int sc = src->channels;
    for (gsize i = 0; i < n; i++) {
        const guint8 *s = src->data + i * sc;
        guint8 rgba[4];
        if (sc == 1) {
            rgba[0] = rgba[1] = rgba[2] = s[0];
            rgba[3] = 255;
        } else {
            rgba[0] = s[0];
            rgba[1] = s[1];
            rgba[2] = s[2];
            rgba[3] = sc == 4 ? s[3] : 255;
        }
        guint8 *d = dst->data + i * channels;
        if (channels == 4) {
            memcpy(d, rgba, 4);
            continue;
        }
        /* Over the background: c·a + bg·(1 − a). */
        const unsigned a = rgba[3];
        guint8 rgb[3];
        for (int c = 0; c < 3; c++)
            rgb[c] = (guint8)(mul255(rgba[c], a) + mul255(bg[c], 255 - a));
        if (channels == 3)
            memcpy(d, rgb, 3);
        else
            d[0] = (guint8)((299u * rgb[0] + 587u * rgb[1] + 114u * rgb[2] + 500u) / 1000u);
    }
    return dst;
}

/* ---- resizing ---- */

/* The source pixels one target pixel along an axis reads, and their weights. */
typedef struct {
    int first, n;
    float *w; /* (n) into the filter's weight pool */
} Tap;

typedef struct {
    Tap *taps;     /* (dst) */
    float *weights;
} Filter;

static void filter_init(Filter *f, int src, int dst)
{
    f->taps = g_new0(Tap, dst);
    if (dst < src) {
        /* Area: target i covers source [i·s, (i + 1)·s), s = src / dst. */
        const double s = (double)src / dst;
        const int max_n = (int)ceil(s) + 1;
        f->weights = g_new0(float, (gsize)dst * max_n);
        for (int i = 0; i < dst; i++) {
            const double lo = i * s, hi = MIN((i + 1) * s, (double)src);
            Tap *t = &f->taps[i];
            t->first = (int)floor(lo);
            t->w = f->weights + (gsize)i * max_n;
            for (int j = t->first; j < src && j < hi; j++) {
                const double overlap = MIN(hi, j + 1.0) - MAX(lo, (double)j);
                if (overlap <= 0)
                    continue;
                g_assert(t->n < max_n);
                t->w[t->n++] = (float)(overlap / s);
            }
        }
    } else {
        /* Bilinear with half-pixel centres; identity when dst == src. */
        f->weights = g_new0(float, (gsize)dst * 2);
        const double s = (double)src / dst;
        for (int i = 0; i < dst; i++) {
            double x = MAX((i + 0.5) * s - 0.5, 0.0);
            int j0 = MIN((int)floor(x), src - 1);
            double frac = x - j0;
            Tap *t = &f->taps[i];
            t->first = j0;
            t->w = f->weights + (gsize)i * 2;
            t->n = 1;
            t->w[0] = 1.0f;
            if (j0 + 1 < src && frac > 0) {
                /* At the last pixel the right neighbour is clamped to itself: weight 1. */
                t->w[0] = (float)(1.0 - frac);
                t->w[1] = (float)frac;
                t->n = 2;
            }
        }
    }
}

static void filter_clear(Filter *f)
{
    g_free(f->taps);
    g_free(f->weights);
}

static inline guint8 to_byte(float v)
{
    return (guint8)CLAMP(lrintf(v), 0, 255);
}

AigcImage *aigc_image_resize(const AigcImage *src, int width, int height)
{
    g_return_val_if_fail(src && size_ok(width, height), NULL);
    if (width == src->width && height == src->height)
        return aigc_image_copy(src);
    const int C = src->channels, SW = src->width, SH = src->height;
    const gboolean alpha = C == 4;
    /* Premultiplied float copy (SH, SW, C). */
    float *in = g_new(float, (gsize)SW * SH * C);
    for (gsize i = 0; i < (gsize)SW * SH; i++) {
        const guint8 *p = src->data + i * C;
        const float a = alpha ? p[3] / 255.0f : 1.0f;
        for (int c = 0; c < C; c++)
            in[i * C + c] = alpha && c < 3 ? p[c] * a : p[c];
    }
    Filter fx, fy;
    filter_init(&fx, SW, width);
    filter_init(&fy, SH, height);
    /* Horizontal pass: (SH, width, C). */
    float *mid = g_new0(float, (gsize)SH * width * C);
    for (int y = 0; y < SH; y++)
        for (int x = 0; x < width; x++) {
            const Tap *t = &fx.taps[x];
            float *o = mid + ((gsize)y * width + x) * C;
            for (int k = 0; k < t->n; k++) {
                const float *p = in + ((gsize)y * SW + t->first + k) * C;
                for (int c = 0; c < C; c++)
                    o[c] += t->w[k] * p[c];
            }
        }
    /* Vertical pass, straight into bytes. */
    AigcImage *dst = aigc_image_new(width, height, C);
    float acc[4];
    for (int y = 0; y < height; y++) {
        const Tap *t = &fy.taps[y];
        for (int x = 0; x < width; x++) {
            memset(acc, 0, sizeof acc);
            for (int k = 0; k < t->n; k++) {
                const float *p = mid + ((gsize)(t->first + k) * width + x) * C;
                for (int c = 0; c < C; c++)
                    acc[c] += t->w[k] * p[c];
            }
            guint8 *o = dst->data + ((gsize)y * width + x) * C;
            if (alpha) {
                const float a = acc[3];
                for (int c = 0; c < 3; c++)
                    o[c] = a > 0.5f / 255.0f ? to_byte(acc[c] * 255.0f / a) : 0;
                o[3] = to_byte(a);
            } else {
                for (int c = 0; c < C; c++)
                    o[c] = to_byte(acc[c]);
            }
        }
    }
    filter_clear(&fx);
    filter_clear(&fy);
    g_free(mid);
    g_free(in);
    return dst;
}

/* ---- floats ---- */

void aigc_image_to_floats(const AigcImage *image, float lo, float hi, float *out)
{
    const int C = image->channels;
    const gsize n = (gsize)image->width * image->height;
    const float scale = (hi - lo) / 255.0f;
    for (int c = 0; c < C; c++)
        for (gsize i = 0; i < n; i++)
            out[c * n + i] = image->data[i * C + c] * scale + lo;
}

AigcImage *aigc_image_from_floats(const float *values, int channels, int width, int height,
                                  float lo, float hi)
{
    g_return_val_if_fail(hi != lo, NULL);
    AigcImage *image = aigc_image_new(width, height, channels);
    const gsize n = (gsize)width * height;
    const float scale = 255.0f / (hi - lo);
    for (int c = 0; c < channels; c++)
        for (gsize i = 0; i < n; i++) {
            float v = (values[c * n + i] - lo) * scale;
            image->data[i * channels + c] = isnan(v) ? 0 : to_byte(CLAMP(v, -1.0f, 256.0f));
        }
    return image;
}

/* ---- grids ---- */

AigcImage *aigc_image_grid(AigcImage *const *images, int n, int columns, int gutter,
                           const guint8 *background, GError **error)
{
    if (n < 1 || columns < 0 || gutter < 0 || gutter > 1024) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "a grid needs at least one image and a gutter of 0 … 1024 pixels");
        return NULL;
    }
    const int w = images[0]->width, h = images[0]->height, C = images[0]->channels;
    for (int i = 1; i < n; i++) {
        if (images[i]->width != w || images[i]->height != h || images[i]->channels != C) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "grid image %d is %d×%d with %d channels, the first %d×%d with %d", i + 1,
                        images[i]->width, images[i]->height, images[i]->channels, w, h, C);
            return NULL;
        }
    }
    if (columns == 0)
        while (columns * columns < n)
            columns++;
    columns = MIN(columns, n);
    const int rows = (n + columns - 1) / columns;
    const gint64 gw = (gint64)columns * w + (gint64)(columns + 1) * gutter;
    const gint64 gh = (gint64)rows * h + (gint64)(rows + 1) * gutter;
    if (gw > AIGC_PNG_MAX_SIDE || gh > AIGC_PNG_MAX_SIDE || gw * gh > AIGC_PNG_MAX_PIXELS) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "a grid of %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT " pixels is too large",
                    gw, gh);
        return NULL;
    }
    AigcImage *grid = aigc_image_new((int)gw, (int)gh, C);
    const guint8 *bg = background ? background : white;
    for (gsize i = 0; i < (gsize)gw * gh; i++)
        memcpy(grid->data + i * C, bg, C);
    for (int i = 0; i < n; i++) {
        const int x0 = gutter + (i % columns) * (w + gutter);
        const int y0 = gutter + (i / columns) * (h + gutter);
        for (int y = 0; y < h; y++)
            memcpy(grid->data + ((gsize)(y0 + y) * gw + x0) * C,
                   images[i]->data + (gsize)y * w * C, (gsize)w * C);
    }
    return grid;
}

/* ---- text ---- */

static char *latin1_to_utf8(const char *s)
{
    GString *out = g_string_new(NULL);
    for (const guint8 *p = (const guint8 *)s; *p; p++)
        g_string_append_unichar(out, *p);
    return g_string_free(out, FALSE);
}

/* (nullable) The Latin-1 bytes of UTF-8 text, or NULL when a character is beyond U+00FF. */
static char *utf8_to_latin1(const char *s)
{
    GString *out = g_string_new(NULL);
    for (const char *p = s; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (c > 0xFF) {
            g_string_free(out, TRUE);
            return NULL;
        }
        g_string_append_c(out, (char)c);
    }
    return g_string_free(out, FALSE);
}

/* ---- reading ---- */

typedef struct {
    const char *label;
    const guint8 *data;
    gsize n_bytes, pos;
    int code;           /* AigcEngineErrorCode of the failure */
    char message[512];
    png_bytep *rows;    /* (height) into image */
    AigcImage *image;   /* RGBA while decoding */
    GHashTable *text;   /* (nullable) */
} ReadState;

static void on_png_error(png_structp png, png_const_charp message)
{
    ReadState *s = png_get_error_ptr(png);
    if (!s->message[0])
        g_strlcpy(s->message, message, sizeof s->message);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp message)
{
    /* Damaged ancillary chunks and the like: libpng skips them, and so do we. */
    (void)png;
    (void)message;
}

static void on_png_read(png_structp png, png_bytep out, png_size_t n)
{
    ReadState *s = png_get_io_ptr(png);
    if (n > s->n_bytes - s->pos)
        png_error(png, "the file ends too early (truncated)");
    memcpy(out, s->data + s->pos, n);
    s->pos += n;
}

static void collect_text(png_structp png, png_infop info, ReadState *s)
{
    png_textp texts = NULL;
    int n = 0;
    png_get_text(png, info, &texts, &n);
    for (int i = 0; i < n; i++) {
        if (!texts[i].key)
            continue;
        char *key = latin1_to_utf8(texts[i].key);
        const char *raw = texts[i].text ? texts[i].text : "";
        char *value;
        if (texts[i].compression == PNG_ITXT_COMPRESSION_NONE ||
            texts[i].compression == PNG_ITXT_COMPRESSION_zTXt)
            value = g_utf8_make_valid(raw, -1);
        else
            value = latin1_to_utf8(raw);
        if (g_hash_table_contains(s->text, key)) {
            g_free(key);
            g_free(value);
        } else {
            g_hash_table_insert(s->text, key, value);
        }
    }
}

/* Runs after the setjmp of read_png; any libpng error jumps back there. */
static void decode(png_structp png, png_infop info, ReadState *s)
{
    png_set_read_fn(png, s, on_png_read);
    /* Colour profiles are ignored anyway; do not let a broken one stop the read. */
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, (png_const_bytep) "iCCP", 1);
    png_set_chunk_malloc_max(png, AIGC_PNG_MAX_TEXT + 4096);
    png_read_info(png, info);
    png_uint_32 width, height;
    int bit_depth, color_type, interlace;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    if (width > AIGC_PNG_MAX_SIDE || height > AIGC_PNG_MAX_SIDE ||
        (guint64)width * height > AIGC_PNG_MAX_PIXELS) {
        s->code = AIGC_ENGINE_ERROR_UNSUPPORTED;
        g_snprintf(s->message, sizeof s->message,
                   "%u×%u pixels is larger than the studio reads (%d pixels a side, %d "
                   "megapixels)",
                   (unsigned)width, (unsigned)height, AIGC_PNG_MAX_SIDE,
                   AIGC_PNG_MAX_PIXELS / (1024 * 1024));
        png_longjmp(png, 1);
    }
    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (bit_depth == 16)
        png_set_scale_16(png);
    if (!(color_type & PNG_COLOR_MASK_COLOR))
        png_set_gray_to_rgb(png);
    if (!(color_type & PNG_COLOR_MASK_ALPHA) && !png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_filler(png, 0xFF, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (png_size_t)width * 4 || png_get_channels(png, info) != 4)
        png_error(png, "unexpected row layout after conversion to RGBA");
    s->image = aigc_image_new((int)width, (int)height, 4);
    s->rows = g_new(png_bytep, height);
    for (png_uint_32 y = 0; y < height; y++)
        s->rows[y] = s->image->data + (gsize)y * width * 4;
    png_read_image(png, s->rows);
    png_read_end(png, info);
    if (s->text)
        collect_text(png, info, s);
}

static AigcImage *read_png(ReadState *s, GError **error)
{
    static const guint8 signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (s->n_bytes < 8 || memcmp(s->data, signature, 8) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a PNG image (no PNG signature)", s->label);
        return NULL;
    }
    s->code = AIGC_ENGINE_ERROR_FORMAT;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_png_error,
                                             on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FAILED,
                    "%s: libpng could not start", s->label);
        return NULL;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        g_set_error(error, AIGC_ENGINE_ERROR, s->code, "%s: %s%s", s->label,
                    s->code == AIGC_ENGINE_ERROR_FORMAT ? "damaged or unreadable PNG: " : "",
                    s->message);
        return NULL;
    }
    decode(png, info, s);
    png_destroy_read_struct(&png, &info, NULL);
    return g_steal_pointer(&s->image);
}

AigcPngReadOptions aigc_png_read_default_options(void)
{
    return (AigcPngReadOptions){.channels = 4, .background = {255, 255, 255}};
}

AigcImage *aigc_png_read_from_data(const guint8 *data, gsize n_bytes, const char *label,
                                   const AigcPngReadOptions *options, GHashTable **text,
                                   GError **error)
{
    AigcPngReadOptions defaults = aigc_png_read_default_options();
    const AigcPngReadOptions *o = options ? options : &defaults;
    g_return_val_if_fail(o->channels == 1 || o->channels == 3 || o->channels == 4, NULL);
    ReadState *s = g_new0(ReadState, 1);
    s->label = label ? label : "PNG data";
    s->data = data;
    s->n_bytes = n_bytes;
    if (text)
        s->text = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    AigcImage *rgba = read_png(s, error);
    AigcImage *result = NULL;
    if (rgba) {
        result = o->channels == 4 ? rgba : aigc_image_convert(rgba, o->channels, o->background);
        if (result != rgba)
            aigc_image_free(rgba);
        if (text)
            *text = g_steal_pointer(&s->text);
    }
    aigc_image_free(s->image);
    g_free(s->rows);
    if (s->text)
        g_hash_table_unref(s->text);
    g_free(s);
    return result;
}

AigcImage *aigc_png_read(const char *path, const AigcPngReadOptions *options, GHashTable **text,
                         GError **error)
{
    GStatBuf sb;
    if (g_stat(path, &sb) == 0 && sb.st_size > AIGC_PNG_MAX_FILE) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s: %" G_GINT64_FORMAT " bytes is larger than the studio reads (%d MB)",
                    path, (gint64)sb.st_size, AIGC_PNG_MAX_FILE / (1024 * 1024));
        return NULL;
    }
    g_autofree char *contents = NULL;
    gsize n = 0;
    GError *io_error = NULL;
    if (!g_file_get_contents(path, &contents, &n, &io_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO, "%s", io_error->message);
        g_error_free(io_error);
        return NULL;
    }
    return aigc_png_read_from_data((const guint8 *)contents, n, path, options, text, error);
}

GHashTable *aigc_png_read_text(const char *path, GError **error)
{
    GHashTable *text = NULL;
    g_autoptr(AigcImage) image = aigc_png_read(path, NULL, &text, error);
    return image ? text : NULL;
}

/* ---- writing ---- */

typedef struct {
    GByteArray *out;
    char message[512];
    png_bytep *rows;
    png_textp texts;
    int n_texts;
    GPtrArray *strings; /* owns the texts' keys and values */
} WriteState;

static void on_png_write_error(png_structp png, png_const_charp message)
{
    WriteState *s = png_get_error_ptr(png);
    if (!s->message[0])
        g_strlcpy(s->message, message, sizeof s->message);
    png_longjmp(png, 1);
}

static void on_png_write(png_structp png, png_bytep data, png_size_t n)
{
    WriteState *s = png_get_io_ptr(png);
    g_byte_array_append(s->out, data, (guint)n);
}

static void on_png_flush(png_structp png)
{
    (void)png;
}

static gboolean keyword_ok(const char *latin1)
{
    gsize n = strlen(latin1);
    if (n < 1 || n > 79 || latin1[0] == ' ' || latin1[n - 1] == ' ')
        return FALSE;
    for (gsize i = 0; i < n; i++) {
        guint8 c = (guint8)latin1[i];
        if (!((c >= 32 && c <= 126) || c >= 161) || (c == ' ' && latin1[i + 1] == ' '))
            return FALSE;
    }
    return TRUE;
}

/* Fills s->texts from the pairs; FALSE + error on a bad keyword or value. */
static gboolean prepare_text(WriteState *s, const char *const *keys, const char *const *values,
                             GError **error)
{
    int n = 0;
    while (keys && values && keys[n] && values[n])
        n++;
    s->texts = g_new0(png_text, MAX(n, 1));
    for (int i = 0; i < n; i++) {
        char *key = g_utf8_validate(keys[i], -1, NULL) ? utf8_to_latin1(keys[i]) : NULL;
        if (!key || !keyword_ok(key)) {
            g_free(key);
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "“%s” cannot be a PNG text keyword (1–79 Latin-1 letters, no leading, "
                        "trailing or double spaces)",
                        keys[i]);
            return FALSE;
        }
        g_ptr_array_add(s->strings, key);
        if (!g_utf8_validate(values[i], -1, NULL) || strlen(values[i]) > AIGC_PNG_MAX_TEXT) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "the PNG text “%s” is not UTF-8 or longer than %d bytes", keys[i],
                        AIGC_PNG_MAX_TEXT);
            return FALSE;
        }
        char *latin1 = utf8_to_latin1(values[i]);
        png_text *t = &s->texts[i];
        t->key = key;
        if (latin1) {
            /* tEXt: Latin-1, what every reader understands. */
            g_ptr_array_add(s->strings, latin1);
            t->compression = PNG_TEXT_COMPRESSION_NONE;
            t->text = latin1;
            t->text_length = strlen(latin1);
        } else {
            char *utf8 = g_strdup(values[i]);
            g_ptr_array_add(s->strings, utf8);
            t->compression = PNG_ITXT_COMPRESSION_NONE;
            t->text = utf8;
            t->itxt_length = strlen(utf8);
            t->lang = NULL;
            t->lang_key = NULL;
        }
    }
    s->n_texts = n;
    return TRUE;
}

static void encode(png_structp png, png_infop info, WriteState *s, const AigcImage *image)
{
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, 0, PNG_COLOR_TYPE_RGB,
                                PNG_COLOR_TYPE_RGB_ALPHA};
    png_set_write_fn(png, s, on_png_write, on_png_flush);
    png_set_IHDR(png, info, (png_uint_32)image->width, (png_uint_32)image->height, 8,
                 types[image->channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (s->n_texts)
        png_set_text(png, info, s->texts, s->n_texts);
    png_write_info(png, info);
    for (int y = 0; y < image->height; y++)
        s->rows[y] = image->data + (gsize)y * image->width * image->channels;
    png_write_image(png, s->rows);
    png_write_end(png, NULL);
}

static void write_state_free(WriteState *s)
{
    if (s->out)
        g_byte_array_unref(s->out);
    g_free(s->rows);
    g_free(s->texts);
    g_ptr_array_unref(s->strings);
    g_free(s);
}

GBytes *aigc_png_encode(const AigcImage *image, const char *const *text_keys,
                        const char *const *text_values, GError **error)
{
    g_return_val_if_fail(image && size_ok(image->width, image->height), NULL);
    g_return_val_if_fail(image->channels == 1 || image->channels == 3 || image->channels == 4,
                         NULL);
    WriteState *s = g_new0(WriteState, 1);
    s->strings = g_ptr_array_new_with_free_func(g_free);
    if (!prepare_text(s, text_keys, text_values, error)) {
        write_state_free(s);
        return NULL;
    }
    s->out = g_byte_array_new();
    s->rows = g_new(png_bytep, image->height);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s, on_png_write_error,
                                              on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(png ? &png : NULL, NULL);
        write_state_free(s);
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FAILED,
                    "libpng could not start");
        return NULL;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FAILED,
                    "encoding a PNG failed: %s", s->message);
        write_state_free(s);
        return NULL;
    }
    encode(png, info, s, image);
    png_destroy_write_struct(&png, &info);
    GBytes *bytes = g_byte_array_free_to_bytes(g_steal_pointer(&s->out));
    write_state_free(s);
    return bytes;
}

gboolean aigc_png_write(const char *path, const AigcImage *image, const char *const *text_keys,
                        const char *const *text_values, GError **error)
{
    g_autoptr(GBytes) bytes = aigc_png_encode(image, text_keys, text_values, error);
    if (!bytes) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    gsize n;
    const void *data = g_bytes_get_data(bytes, &n);
    return aigc_file_set_contents_atomic(path, data, n, error);
}

gboolean aigc_png_write_grid(const char *path, AigcImage *const *images, int n, int columns,
                             int gutter, const char *const *text_keys,
                             const char *const *text_values, GError **error)
{
    g_autoptr(AigcImage) grid = aigc_image_grid(images, n, columns, gutter, NULL, error);
    if (!grid) {
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    return aigc_png_write(path, grid, text_keys, text_values, error);
}

char *aigc_png_format_parameters(const char *prompt, const char *const *keys,
                                 const char *const *values)
{
    GString *s = g_string_new(prompt ? prompt : "");
    for (int i = 0; keys && values && keys[i] && values[i]; i++)
        g_string_append_printf(s, "%s%s: %s", i == 0 ? "\n" : ", ", keys[i], values[i]);
    return g_string_free(s, FALSE);
}
