/* SPDX-License-Identifier: MIT
 *
 * PNG files (DESIGN §3.3) through libpng, and the 8-bit images they hold.
 *
 * Reading takes any PNG — gray, gray + alpha, palette (with or without tRNS transparency), RGB,
 * RGBA; 1, 2, 4, 8 or 16 bits; interlaced or not — and gives 8-bit gray, RGB or RGBA; images
 * with transparency are composited over a chosen background colour when the result has no
 * alpha. Gamma and colour-profile chunks are ignored: samples are taken as they are stored
 * (which is what every PNG this studio writes means). Sizes are checked against
 * AIGC_PNG_MAX_SIDE / AIGC_PNG_MAX_PIXELS before any pixel memory is allocated; libpng's errors
 * (truncated files, bad CRCs, broken zlib streams) become GErrors naming the file.
 *
 * Writing gives 8-bit gray, RGB or RGBA, atomically (temporary file + rename), with text chunks:
 * tEXt when the value is Latin-1 (as the format requires), iTXt (UTF-8) otherwise. Generated
 * images carry a "parameters" chunk in the AUTOMATIC1111 style, e.g.
 *   "Sneaker\nSteps: 50, Sampler: DDIM, CFG scale: 3, Seed: 42, Size: 28x28, Model: diffusion-fashion"
 * which `identify -verbose` and other image tools show.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AIGC_PNG_MAX_SIDE   16384                  /* pixels, either side */
#define AIGC_PNG_MAX_PIXELS (64 * 1024 * 1024)     /* width × height */
#define AIGC_PNG_MAX_FILE   (256 * 1024 * 1024)    /* bytes of a file read whole */
#define AIGC_PNG_MAX_TEXT   (1024 * 1024)          /* bytes of one text chunk */

/* An 8-bit image, rows top to bottom, tightly packed. */
typedef struct {
    int width, height;
    int channels;  /* 1 gray, 3 RGB, 4 RGBA (not premultiplied) */
    guint8 *data;  /* (height, width, channels), owned */
} AigcImage;

/* (transfer full) A zeroed image; width, height ≥ 1 within the limits above, channels 1, 3, 4. */
AigcImage *aigc_image_new(int width, int height, int channels);
/* (transfer full) */
AigcImage *aigc_image_copy(const AigcImage *image);
void aigc_image_free(AigcImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcImage, aigc_image_free)

/* (transfer full) The image with `channels` channels (1, 3 or 4): alpha is composited over
 * `background` (RGB, nullable: white) when dropped, gray is RGB → 0.299 R + 0.587 G + 0.114 B,
 * added alpha is opaque. */
AigcImage *aigc_image_convert(const AigcImage *image, int channels, const guint8 *background);

/* (transfer full) The image scaled to width × height, each axis on its own: by area averaging
 * where it shrinks (every source pixel weighs by how much of it a target pixel covers), by
 * bilinear interpolation where it grows (pixel centres aligned, edges clamped, as PyTorch's
 * align_corners=False), copied where it keeps its size. RGBA is scaled premultiplied, so
 * transparent pixels lend no colour. */
AigcImage *aigc_image_resize(const AigcImage *image, int width, int height);

/* Floats for a model: out (channels, height, width) planar, each value pixel / 255 · (hi − lo) +
 * lo, e.g. lo 0, hi 1 or lo −1, hi 1. */
void aigc_image_to_floats(const AigcImage *image, float lo, float hi, float *out);
/* (transfer full) The inverse: values (channels, height, width) mapped from [lo, hi] to 0 … 255,
 * rounded and clamped (NaN becomes 0). */
AigcImage *aigc_image_from_floats(const float *values, int channels, int width, int height,
                                  float lo, float hi);

/* (transfer full) A grid of n images, `columns` per row (0: the smallest c with c² ≥ n), with a
 * `gutter`-pixel border between and around the cells in colour `background` (as many bytes as
 * the images have channels; nullable: white, opaque). Every image must have the size and the
 * channels of the first; otherwise NULL + AIGC_ENGINE_ERROR_INVALID. */
AigcImage *aigc_image_grid(AigcImage *const *images, int n, int columns, int gutter,
                           const guint8 *background, GError **error);

/* ---- reading ---- */

typedef struct {
    int channels;          /* of the result: 1, 3 or 4 (4) */
    guint8 background[3];  /* RGB under transparent pixels when the result has no alpha (white) */
} AigcPngReadOptions;

AigcPngReadOptions aigc_png_read_default_options(void);

/* (transfer full) (nullable) Reads a PNG file. `options` nullable: the defaults. When `text`
 * is non-NULL it receives a table (transfer full) of the file's text chunks, keyword → value in
 * UTF-8 (tEXt and zTXt converted from Latin-1; the first of repeated keywords). Fails with
 * AIGC_ENGINE_ERROR_IO (cannot read), _FORMAT (not a PNG, truncated, corrupt) or _UNSUPPORTED
 * (larger than the limits). */
AigcImage *aigc_png_read(const char *path, const AigcPngReadOptions *options, GHashTable **text,
                         GError **error);
/* The same from bytes in memory; `label` names them in errors. */
AigcImage *aigc_png_read_from_data(const guint8 *data, gsize n_bytes, const char *label,
                                   const AigcPngReadOptions *options, GHashTable **text,
                                   GError **error);
/* (transfer full) (nullable) Only the text chunks of a PNG file (the pixels are decoded, checked
 * and dropped: a damaged file gives an error, not half its text). */
GHashTable *aigc_png_read_text(const char *path, GError **error);

/* ---- writing ---- */

/* (transfer full) (nullable) Encodes an image as PNG bytes. text_keys / text_values: paired,
 * NULL-terminated (both nullable: no text). A keyword is 1–79 printable Latin-1 characters
 * without leading, trailing or double spaces; a value at most AIGC_PNG_MAX_TEXT bytes of UTF-8.
 * Bad keywords or values: NULL + AIGC_ENGINE_ERROR_INVALID. */
GBytes *aigc_png_encode(const AigcImage *image, const char *const *text_keys,
                        const char *const *text_values, GError **error);
/* Writes a PNG file atomically. */
gboolean aigc_png_write(const char *path, const AigcImage *image, const char *const *text_keys,
                        const char *const *text_values, GError **error);
/* Writes a grid of images (see aigc_image_grid) as one PNG file atomically. */
gboolean aigc_png_write_grid(const char *path, AigcImage *const *images, int n, int columns,
                             int gutter, const char *const *text_keys,
                             const char *const *text_values, GError **error);

/* (transfer full) An A1111-style "parameters" value: the prompt on the first line, then the
 * settings as "Key: value" pairs joined by ", " (keys and values NULL-terminated and paired),
 * e.g. "Sneaker\nSteps: 50, Sampler: DDIM, Seed: 42". */
char *aigc_png_format_parameters(const char *prompt, const char *const *keys,
                                 const char *const *values);

G_END_DECLS
