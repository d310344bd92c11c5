/* SPDX-License-Identifier: MIT
 *
 * IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed, and a loader for
 * the Fashion-MNIST training and test sets.
 *
 * Layout (all integers big-endian): a 4-byte magic 0x00 0x00 TYPE NDIMS, NDIMS 32-bit sizes,
 * then the elements in row-major order. Only TYPE 0x08 (unsigned bytes) is read — the type of
 * every MNIST-style image and label file.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AIGC_IDX_MAX_DIMS 4
/* The most element bytes a file may declare; larger headers are refused before allocating. */
#define AIGC_IDX_MAX_BYTES (1024u * 1024u * 1024u) /* 1 GiB */

typedef struct {
    int n_dims;                     /* 1 … AIGC_IDX_MAX_DIMS */
    gint64 dims[AIGC_IDX_MAX_DIMS]; /* each ≥ 1; unused entries are 0 */
    gint64 n_elements;              /* product of dims */
    guint8 *data;                   /* (dims[0], …, dims[n_dims-1]) row-major, owned */
} AigcIdx;

/* (transfer full) (nullable) Reads a whole IDX file, gzip-compressed or not (told apart by its
 * first bytes, not its name). Returns NULL with an AIGC_ENGINE_ERROR naming the file and the
 * fault when it cannot be opened (_IO), is malformed, truncated or has trailing bytes (_FORMAT),
 * or holds a type other than unsigned bytes (_UNSUPPORTED). */
AigcIdx *aigc_idx_read(const char *path, GError **error);
void aigc_idx_free(AigcIdx *idx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcIdx, aigc_idx_free)

/* ---- Fashion-MNIST ---- */

#define AIGC_FASHION_MNIST_DIR       "/usr/share/datasets/fashion-mnist" /* Debian's package */
#define AIGC_FASHION_MNIST_SIDE      28
#define AIGC_FASHION_MNIST_N_CLASSES 10

typedef struct {
    int n;          /* images: 60,000 (train) or 10,000 (test) in the official sets */
    float *images;  /* (n, 28, 28) in [0, 1], pixel / 255, owned */
    gint32 *labels; /* (n) in 0 … 9, owned */
} AigcFashionMnist;

/* Loads the training (`train`) or test set from `dir` ((nullable): NULL means
 * AIGC_FASHION_MNIST_DIR), which holds {train,t10k}-{images-idx3,labels-idx1}-ubyte with or
 * without a .gz suffix. Checks the shapes ((n, 28, 28) and (n)) and that every label is a class.
 * On failure returns FALSE, sets `error` and leaves `out` zeroed; on success the caller frees
 * `out` with aigc_fashion_mnist_clear. */
gboolean aigc_fashion_mnist_load(const char *dir, gboolean train, AigcFashionMnist *out,
                                 GError **error);
/* Frees the arrays and zeroes `data`; safe on a zeroed or cleared struct. */
void aigc_fashion_mnist_clear(AigcFashionMnist *data);
/* (transfer none) The class's name, e.g. "Ankle boot" for 9; "?" when out of range. */
const char *aigc_fashion_mnist_class_name(int label);

G_END_DECLS
