/* SPDX-License-Identifier: MIT
 *
 * safetensors files: the weights format of the studio (DESIGN §3.3).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of a JSON object
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …,
 *  "__metadata__": {"key": "value", …}}, then the tensor data; offsets count from the end of the
 * header. Reading maps the file and hands out pointers into the mapping (zero-copy); everything
 * in the header is checked before any tensor storage is allocated.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    AIGC_DTYPE_F32,
    AIGC_DTYPE_F16,
    AIGC_DTYPE_BF16,
    AIGC_DTYPE_I32,
    AIGC_DTYPE_I64,
    AIGC_DTYPE_U8,
    AIGC_DTYPE_I8, /* float tensors quantized per row, see AIGC_Q8_SCALE_SUFFIX */
    AIGC_N_DTYPES
} AigcDtype;

#define AIGC_SAFETENSORS_MAX_DIMS 8

/* Quantized storage (DESIGN §3.3): a float tensor NAME of shape [R, …] stored as I8 comes with
 * an F32 tensor NAME.q8_scale of shape [R]; element i of row r is q[i] · scale[r], the scale
 * being the row's largest magnitude ÷ 127. Readers that know nothing of it see an I8 tensor and
 * its F32 scales, both ordinary safetensors. */
#define AIGC_Q8_SCALE_SUFFIX ".q8_scale"
#define AIGC_SAFETENSORS_MAX_HEADER (100u * 1000u * 1000u) /* 100 MB */

const char *aigc_dtype_name(AigcDtype dtype);
gsize aigc_dtype_size(AigcDtype dtype);
/* Returns FALSE if `name` is not a dtype of this engine. */
gboolean aigc_dtype_from_name(const char *name, AigcDtype *dtype);

typedef struct {
    const char *name;
    AigcDtype dtype;
    int n_dims;
    gint64 shape[AIGC_SAFETENSORS_MAX_DIMS];
    gint64 n_elements;
    gsize n_bytes;
    gsize offset;        /* from the start of the data section */
    const guint8 *data;  /* into the mapping; may be unaligned for its dtype */
} AigcSafetensorsTensor;

typedef struct _AigcSafetensors AigcSafetensors;

/* (transfer full) (nullable) Maps and validates a file. */
AigcSafetensors *aigc_safetensors_open(const char *path, GError **error);
/* (transfer full) (nullable) Validates bytes already in memory; `label` names them in errors. */
AigcSafetensors *aigc_safetensors_new_from_bytes(GBytes *bytes, const char *label,
                                                 GError **error);
void aigc_safetensors_free(AigcSafetensors *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcSafetensors, aigc_safetensors_free)

const char *aigc_safetensors_get_label(AigcSafetensors *st);
gsize aigc_safetensors_get_n_tensors(AigcSafetensors *st);
/* (transfer none) Tensors in the order of their data offsets. */
const AigcSafetensorsTensor *aigc_safetensors_get_tensor(AigcSafetensors *st, gsize i);
/* (nullable) (transfer none) */
const AigcSafetensorsTensor *aigc_safetensors_find(AigcSafetensors *st, const char *name);

/* (transfer none) NULL-terminated metadata keys, sorted. */
const char *const *aigc_safetensors_get_metadata_keys(AigcSafetensors *st);
/* (nullable) (transfer none) */
const char *aigc_safetensors_get_metadata(AigcSafetensors *st, const char *key);
gsize aigc_safetensors_get_header_size(AigcSafetensors *st);

/* Copies a float tensor (F32, F16, BF16, or I8 with its row scales) into dest as F32; n_dest
 * must equal n_elements. */
gboolean aigc_safetensors_read_f32(AigcSafetensors *st, const AigcSafetensorsTensor *tensor,
                                   float *dest, gint64 n_dest, GError **error);

/* ---- writing ---- */

typedef struct _AigcSafetensorsWriter AigcSafetensorsWriter;

/* Called after each tensor is written; return FALSE to stop (the file is then not created). */
typedef gboolean (*AigcWriteProgressFunc)(double fraction, gpointer user_data);

AigcSafetensorsWriter *aigc_safetensors_writer_new(void);
void aigc_safetensors_writer_free(AigcSafetensorsWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcSafetensorsWriter, aigc_safetensors_writer_free)

void aigc_safetensors_writer_set_metadata(AigcSafetensorsWriter *writer, const char *key,
                                          const char *value);
/* Adds a tensor whose bytes (in `dtype`) stay owned by the caller until the write. */
gboolean aigc_safetensors_writer_add(AigcSafetensorsWriter *writer, const char *name,
                                     AigcDtype dtype, int n_dims, const gint64 *shape,
                                     const void *data, GError **error);
/* Adds float data to be stored as `store_as` (F32, F16 or BF16; converted while writing). I8
 * quantizes now, adding NAME.q8_scale; a tensor of fewer than 2 dimensions or rows shorter
 * than AIGC_Q8_MIN_ROW (biases, norms: a scale per few numbers saves nothing) is stored as F16
 * instead. */
gboolean aigc_safetensors_writer_add_f32(AigcSafetensorsWriter *writer, const char *name,
                                         AigcDtype store_as, int n_dims, const gint64 *shape,
                                         const float *data, GError **error);
#define AIGC_Q8_MIN_ROW 16
/* Writes atomically. Stopping through `progress` fails with AIGC_ENGINE_ERROR_CANCELLED. */
gboolean aigc_safetensors_writer_write(AigcSafetensorsWriter *writer, const char *path,
                                       AigcWriteProgressFunc progress, gpointer user_data,
                                       GError **error);

/* Rewrites a file atomically with extra or changed metadata (keys and values NULL-terminated,
 * paired); tensors are copied unchanged. */
gboolean aigc_safetensors_update_metadata(const char *path, const char *const *keys,
                                          const char *const *values, GError **error);

G_END_DECLS
