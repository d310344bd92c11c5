/* SPDX-License-Identifier: MIT
 *
 * IDX reader (plain or gzip) and the Fashion-MNIST loader.
 *
 * DESIGN (file format): the reader trusts nothing in the file. It opens the file itself (so a
 * missing file is an I/O error with the system's reason, not a zlib status), reads it through
 * zlib's gz* calls, which pass uncompressed files through unchanged, and checks in order: the
 * file is not empty, the magic is 0x00 0x00, the element type is 0x08, there are 1 … 4
 * dimensions, each is at least 1, and their product is at most AIGC_IDX_MAX_BYTES (computed
 * without overflow). For an uncompressed file the file size must then equal header + data
 * exactly, so truncation and trailing bytes are refused before the data buffer is allocated.
 * A compressed file's decompressed length is only known by decompressing it: when the gzip
 * trailer's ISIZE field (length mod 2^32, exact below 4 GiB for a single-member file) agrees
 * with the header, the buffer is allocated whole; otherwise it grows by doubling as data
 * arrives, so a small file whose header lies never makes the reader allocate more than twice
 * what the file really holds. After the data, one more byte is requested: if it comes, the
 * file has trailing bytes; the request also makes zlib verify the gzip CRC and length, so a
 * corrupt stream is reported rather than returned.
 */
#include "aigc-idx.h"

#include "aigc-error.h"
#include "tensor/aigc-threads.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_TYPE_U8      0x08
#define GZ_BUFFER_BYTES  (256 * 1024) /* zlib's input buffer: fewer, larger read() calls */
#define GROW_START_BYTES (4u << 20)   /* first allocation when the size is not yet trusted */
#define GZ_READ_MAX      (1u << 30)   /* gzread takes an unsigned int length */

#define IDX_ERROR(error, code, path, ...)                                                          \
    do {                                                                                           \
        g_autofree char *msg_ = g_strdup_printf(__VA_ARGS__);                                      \
        g_set_error(error, AIGC_ENGINE_ERROR, code, "%s: %s", path, msg_);                         \
    } while (0)

static guint32 read_be32(const guint8 *p)
{
    return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static const char *type_name(guint8 type)
{
    switch (type) {
    case 0x09:
        return "signed byte";
    case 0x0B:
        return "16-bit integer";
    case 0x0C:
        return "32-bit integer";
    case 0x0D:
        return "32-bit float";
    case 0x0E:
        return "64-bit float";
    default:
        return NULL;
    }
}

/* Turns zlib's sticky error state into a GError; returns FALSE when there is none. A stream
 * that stops before its end (Z_BUF_ERROR) is left to the caller, which reports it as a
 * truncated file with the sizes involved. */
static gboolean gz_check_error(gzFile gz, const char *path, GError **error)
{
    int errnum = Z_OK;
    const char *msg = gzerror(gz, &errnum);
    if (errnum == Z_OK || errnum == Z_BUF_ERROR)
        return FALSE;
    if (errnum == Z_ERRNO)
        IDX_ERROR(error, AIGC_ENGINE_ERROR_IO, path, "cannot read: %s", g_strerror(errno));
    else if (errnum == Z_MEM_ERROR)
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FAILED, path, "out of memory while decompressing");
    else {
        /* zlib prefixes its message with the name it was given, "<fd:N>", which means nothing
         * to a reader; the file is named in front already. */
        const char *colon = g_str_has_prefix(msg, "<fd:") ? strstr(msg, ": ") : NULL;
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path, "corrupt gzip data (%s)",
                  colon ? colon + 2 : msg);
    }
    return TRUE;
}

/* Reads up to n bytes into buf, stopping early only at the end of the data. Returns the count
 * read, or -1 with `error` set when the stream is corrupt or the read fails. */
static gssize gz_read_full(gzFile gz, guint8 *buf, gsize n, const char *path, GError **error)
{
    gsize got = 0;
    while (got < n) {
        unsigned chunk = (unsigned)MIN(n - got, (gsize)GZ_READ_MAX);
        int r = gzread(gz, buf + got, chunk);
        if (r < 0) {
            if (!gz_check_error(gz, path, error))
                IDX_ERROR(error, AIGC_ENGINE_ERROR_IO, path, "cannot read");
            return -1;
        }
        if (r == 0)
            break;
        got += (gsize)r;
    }
    if (gz_check_error(gz, path, error))
        return -1;
    return (gssize)got;
}

/* The gzip trailer's ISIZE (uncompressed length mod 2^32) when the file starts like gzip;
 * -1 otherwise. Read with pread so the descriptor's offset stays where zlib expects it. */
static gint64 gzip_size_hint(int fd, gint64 file_size)
{
    guint8 magic[2], tail[4];
    if (file_size < 18 || pread(fd, magic, 2, 0) != 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        return -1;
    if (pread(fd, tail, 4, (off_t)(file_size - 4)) != 4)
        return -1;
    return (gint64)((guint32)tail[0] | ((guint32)tail[1] << 8) | ((guint32)tail[2] << 16) |
                    ((guint32)tail[3] << 24));
}

/* Checks the header fields; fills idx's dims and n_elements. */
static gboolean check_header(const guint8 *magic, const guint8 *dims_be, AigcIdx *idx,
                             const char *path, GError **error)
{
    int n_dims = magic[3];
    guint64 n_elements = 1;
    for (int d = 0; d < n_dims; d++) {
        guint32 dim = read_be32(dims_be + 4 * d);
        if (dim == 0) {
            IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path, "dimension %d of %d is 0", d + 1,
                      n_dims);
            return FALSE;
        }
        /* Both factors ≤ 1 GiB here, so the product cannot overflow 64 bits. */
        n_elements *= dim;
        if (n_elements > AIGC_IDX_MAX_BYTES) {
            IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                      "the dimensions describe more than the 1 GiB limit of data");
            return FALSE;
        }
        idx->dims[d] = dim;
    }
    idx->n_dims = n_dims;
    idx->n_elements = (gint64)n_elements;
    return TRUE;
}

/* Reads the data section of an already-checked header (see DESIGN above). */
static gboolean read_data(gzFile gz, gboolean size_known, gint64 file_size, gint64 size_hint,
                          gsize n_header, AigcIdx *idx, const char *path, GError **error)
{
    gsize n_data = (gsize)idx->n_elements;
    gboolean direct = gzdirect(gz);
    if (direct) {
        gint64 want = (gint64)(n_header + n_data);
        if (size_known && file_size < want) {
            IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                      "truncated: the header describes %" G_GSIZE_FORMAT " bytes of data but "
                      "the file holds %" G_GINT64_FORMAT,
                      n_data, file_size - (gint64)n_header);
            return FALSE;
        }
        if (size_known && file_size > want) {
            IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                      "%" G_GINT64_FORMAT " trailing bytes after the %" G_GSIZE_FORMAT
                      " bytes of data",
                      file_size - want, n_data);
            return FALSE;
        }
    }
    /* A pipe's length is unknown even when uncompressed: grow as for an untrusted gzip. */
    gboolean trusted = (direct && size_known) ||
                       (!direct && size_hint == (gint64)((n_header + n_data) & 0xffffffffu));
    gsize cap = trusted ? n_data : MIN(n_data, (gsize)GROW_START_BYTES);
    guint8 *data = g_try_malloc(cap);
    if (!data) {
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FAILED, path,
                  "out of memory for %" G_GSIZE_FORMAT " bytes", cap);
        return FALSE;
    }
    gsize got = 0;
    for (;;) {
        gssize r = gz_read_full(gz, data + got, cap - got, path, error);
        if (r < 0) {
            g_free(data);
            return FALSE;
        }
        got += (gsize)r;
        if (got < cap || cap == n_data)
            break;
        cap = MIN(n_data, cap * 2);
        guint8 *grown = g_try_realloc(data, cap);
        if (!grown) {
            g_free(data);
            IDX_ERROR(error, AIGC_ENGINE_ERROR_FAILED, path,
                      "out of memory for %" G_GSIZE_FORMAT " bytes", cap);
            return FALSE;
        }
        data = grown;
    }
    if (got < n_data) {
        g_free(data);
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                  "truncated: the header describes %" G_GSIZE_FORMAT " bytes of data but the "
                  "file holds %" G_GSIZE_FORMAT,
                  n_data, got);
        return FALSE;
    }
    guint8 extra;
    gssize r = gz_read_full(gz, &extra, 1, path, error);
    if (r != 0) {
        g_free(data);
        if (r > 0)
            IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                      "trailing bytes after the %" G_GSIZE_FORMAT " bytes of data", n_data);
        return FALSE;
    }
    /* The gzip trailer itself cut short: the data arrived but was never verified. */
    int errnum = Z_OK;
    gzerror(gz, &errnum);
    if (errnum == Z_BUF_ERROR) {
        g_free(data);
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                  "truncated: the gzip stream ends before its checksum");
        return FALSE;
    }
    idx->data = data;
    return TRUE;
}

AigcIdx *aigc_idx_read(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        int saved = errno;
        IDX_ERROR(error, AIGC_ENGINE_ERROR_IO, path, "cannot open: %s", g_strerror(saved));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int saved = S_ISDIR(st.st_mode) ? EISDIR : errno;
        close(fd);
        IDX_ERROR(error, AIGC_ENGINE_ERROR_IO, path, "cannot read: %s", g_strerror(saved));
        return NULL;
    }
    /* Pipes and devices have no size to check up front; their data is still bounded. */
    gboolean size_known = S_ISREG(st.st_mode);
    gint64 file_size = (gint64)st.st_size;
    if (size_known && file_size == 0) {
        close(fd);
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path, "the file is empty");
        return NULL;
    }
    gint64 size_hint = size_known ? gzip_size_hint(fd, file_size) : -1;

    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FAILED, path, "out of memory");
        return NULL;
    }
    gzbuffer(gz, GZ_BUFFER_BYTES);

    AigcIdx *idx = g_new0(AigcIdx, 1);
    guint8 magic[4], dims_be[4 * AIGC_IDX_MAX_DIMS];
    gssize r = gz_read_full(gz, magic, 4, path, error);
    if (r < 0)
        goto fail;
    if (r == 0) {
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path, "the file is empty");
        goto fail;
    }
    if (r < 4) {
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                  "truncated: %" G_GSSIZE_FORMAT " bytes, shorter than the 4-byte magic", r);
        goto fail;
    }
    if (magic[0] != 0 || magic[1] != 0) {
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                  "bad magic %02x %02x %02x %02x: not an IDX file (they begin 00 00)", magic[0],
                  magic[1], magic[2], magic[3]);
        goto fail;
    }
    if (magic[2] != IDX_TYPE_U8) {
        const char *name = type_name(magic[2]);
        if (name)
            IDX_ERROR(error, AIGC_ENGINE_ERROR_UNSUPPORTED, path,
                      "element type 0x%02x (%s) is not supported, only 0x08 (unsigned byte)",
                      magic[2], name);
        else
            IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path, "unknown element type 0x%02x",
                      magic[2]);
        goto fail;
    }
    if (magic[3] < 1 || magic[3] > AIGC_IDX_MAX_DIMS) {
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                  "%d dimensions, but IDX files here have 1 to %d", magic[3], AIGC_IDX_MAX_DIMS);
        goto fail;
    }
    gsize n_dims_bytes = 4u * magic[3];
    r = gz_read_full(gz, dims_be, n_dims_bytes, path, error);
    if (r < 0)
        goto fail;
    if ((gsize)r < n_dims_bytes) {
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, path,
                  "truncated: the header ends after %" G_GSSIZE_FORMAT " of its %" G_GSIZE_FORMAT
                  " bytes",
                  4 + r, 4 + n_dims_bytes);
        goto fail;
    }
    if (!check_header(magic, dims_be, idx, path, error))
        goto fail;
    if (!read_data(gz, size_known, file_size, size_hint, 4 + n_dims_bytes, idx, path, error))
        goto fail;
    gzclose_r(gz);
    return idx;

fail:
    gzclose_r(gz);
    aigc_idx_free(idx);
    return NULL;
}

void aigc_idx_free(AigcIdx *idx)
{
    if (!idx)
        return;
    g_free(idx->data);
    g_free(idx);
}

/* ---- Fashion-MNIST ---- */

static const char *const class_names[AIGC_FASHION_MNIST_N_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

const char *aigc_fashion_mnist_class_name(int label)
{
    if (label < 0 || label >= AIGC_FASHION_MNIST_N_CLASSES)
        return "?";
    return class_names[label];
}

/* Reads dir/STEM.gz, or dir/STEM when there is no compressed copy. */
static AigcIdx *read_member(const char *dir, const char *stem, char **path_out, GError **error)
{
    g_autofree char *gz_name = g_strconcat(stem, ".gz", NULL);
    char *path = g_build_filename(dir, gz_name, NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_free(path);
        path = g_build_filename(dir, stem, NULL);
    }
    *path_out = path;
    return aigc_idx_read(path, error);
}

typedef struct {
    float *out;
    const guint8 *in;
} ToFloatCtx;

static void to_float_range(gint64 begin, gint64 end, gpointer data)
{
    ToFloatCtx *c = data;
    float *restrict out = c->out;
    const guint8 *restrict in = c->in;
    for (gint64 i = begin; i < end; i++)
        out[i] = (float)in[i] / 255.0f; /* a true division, as torchvision's ToTensor */
}

gboolean aigc_fashion_mnist_load(const char *dir, gboolean train, AigcFashionMnist *out,
                                 GError **error)
{
    g_return_val_if_fail(out != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    memset(out, 0, sizeof *out);
    if (!dir)
        dir = AIGC_FASHION_MNIST_DIR;
    const char *prefix = train ? "train" : "t10k";
    g_autofree char *image_stem = g_strdup_printf("%s-images-idx3-ubyte", prefix);
    g_autofree char *label_stem = g_strdup_printf("%s-labels-idx1-ubyte", prefix);
    g_autofree char *image_path = NULL, *label_path = NULL;

    g_autoptr(AigcIdx) labels = read_member(dir, label_stem, &label_path, error);
    if (!labels)
        return FALSE;
    if (labels->n_dims != 1) {
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, label_path, "labels have %d dimensions, not 1",
                  labels->n_dims);
        return FALSE;
    }
    g_autoptr(AigcIdx) images = read_member(dir, image_stem, &image_path, error);
    if (!images)
        return FALSE;
    const int side = AIGC_FASHION_MNIST_SIDE;
    if (images->n_dims != 3 || images->dims[1] != side || images->dims[2] != side) {
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, image_path,
                  "images are not a stack of %d×%d pictures", side, side);
        return FALSE;
    }
    gint64 n = images->dims[0];
    if (labels->dims[0] != n) {
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, label_path,
                  "%" G_GINT64_FORMAT " labels for %" G_GINT64_FORMAT " images in %s",
                  labels->dims[0], n, image_path);
        return FALSE;
    }
    for (gint64 i = 0; i < n; i++) {
        if (labels->data[i] >= AIGC_FASHION_MNIST_N_CLASSES) {
            IDX_ERROR(error, AIGC_ENGINE_ERROR_FORMAT, label_path,
                      "label %d of item %" G_GINT64_FORMAT " is not a class (0 to 9)",
                      labels->data[i], i);
            return FALSE;
        }
    }

    float *pixels = g_try_new(float, (gsize)images->n_elements); /* (n, 28, 28) */
    gint32 *classes = g_try_new(gint32, (gsize)n);               /* (n) */
    if (!pixels || !classes) {
        g_free(pixels);
        g_free(classes);
        IDX_ERROR(error, AIGC_ENGINE_ERROR_FAILED, image_path,
                  "out of memory for %" G_GINT64_FORMAT " images", n);
        return FALSE;
    }
    ToFloatCtx c = {pixels, images->data};
    aigc_parallel_for(images->n_elements, 1 << 18, to_float_range, &c);
    for (gint64 i = 0; i < n; i++)
        classes[i] = labels->data[i];
    out->n = (int)n;
    out->images = pixels;
    out->labels = classes;
    return TRUE;
}

void aigc_fashion_mnist_clear(AigcFashionMnist *data)
{
    if (!data)
        return;
    g_free(data->images);
    g_free(data->labels);
    memset(data, 0, sizeof *data);
}
