/* SPDX-License-Identifier: MIT
 *
 * safetensors reader and writer.
 *
 * DESIGN (file format): the reader trusts nothing. In order it checks the file's size, tells
 * Git LFS pointers, pickles and ZIP checkpoints apart from safetensors, bounds the header length
 * (≤ 100 MB and inside the file), parses the header with the strict JSON reader (no duplicate
 * keys), checks every entry (known dtype, 0 ≤ dims, at most 8 dims, byte size without overflow
 * and equal to its offsets), and finally requires the tensors to tile the data section exactly:
 * no overlap, no hole, nothing after the last one. Only then are tensor records allocated.
 * The writer orders tensors by element size (largest first) so that, with the header padded to
 * 8 bytes, every tensor starts aligned for its dtype and can be used in place once mapped.
 */
#include "aigc-safetensors.h"

#include "aigc-error.h"
#include "io/aigc-atomic-file.h"
#include "io/aigc-strict-json.h"
#include "tensor/aigc-half.h"

#include <math.h>
#include <string.h>

static const struct {
    const char *name;
    gsize size;
} dtype_info[AIGC_N_DTYPES] = {
    [AIGC_DTYPE_F32] = {"F32", 4}, [AIGC_DTYPE_F16] = {"F16", 2}, [AIGC_DTYPE_BF16] = {"BF16", 2},
    [AIGC_DTYPE_I32] = {"I32", 4}, [AIGC_DTYPE_I64] = {"I64", 8}, [AIGC_DTYPE_U8] = {"U8", 1},
    [AIGC_DTYPE_I8] = {"I8", 1},
};

const char *aigc_dtype_name(AigcDtype dtype)
{
    g_return_val_if_fail(dtype < AIGC_N_DTYPES, "?");
    return dtype_info[dtype].name;
}

gsize aigc_dtype_size(AigcDtype dtype)
{
    g_return_val_if_fail(dtype < AIGC_N_DTYPES, 0);
    return dtype_info[dtype].size;
}

gboolean aigc_dtype_from_name(const char *name, AigcDtype *dtype)
{
    for (int i = 0; i < AIGC_N_DTYPES; i++) {
        if (strcmp(name, dtype_info[i].name) == 0) {
            *dtype = (AigcDtype)i;
            return TRUE;
        }
    }
    return FALSE;
}

struct _AigcSafetensors {
    char *label;
    GMappedFile *mapped; /* (nullable) */
    GBytes *bytes;       /* the whole file */
    gsize header_size;
    const guint8 *data; /* start of the data section */
    gsize data_size;
    AigcSafetensorsTensor *tensors; /* sorted by offset */
    gsize n_tensors;
    char **names;         /* owned names, parallel to tensors */
    GHashTable *by_name;  /* name → index + 1 */
    char **meta_keys;     /* NULL-terminated, sorted */
    GHashTable *metadata; /* key → value (owned) */
};

#define FORMAT_ERROR(error, label, ...)                                                        \
    do {                                                                                       \
        g_autofree char *msg_ = g_strdup_printf(__VA_ARGS__);                                  \
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", label, msg_); \
    } while (0)

typedef struct {
    const char *name;
    AigcDtype dtype;
    int n_dims;
    gint64 shape[AIGC_SAFETENSORS_MAX_DIMS];
    gint64 n_elements;
    gsize n_bytes;
    gint64 begin, end;
} Entry;

static int compare_entries(const void *a, const void *b)
{
    const Entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

static gboolean starts_with(const guint8 *d, gsize n, const char *prefix)
{
    gsize len = strlen(prefix);
    return n >= len && memcmp(d, prefix, len) == 0;
}

static gboolean check_signature(const guint8 *d, gsize n, const char *label, GError **error)
{
    if (starts_with(d, n, "version https://git-lfs")) {
        FORMAT_ERROR(error, label, "this is a Git LFS pointer file, not the weights themselves");
        return FALSE;
    }
    /* A pickle starts 0x80 0x02…0x05; so does a safetensors file whose header is 0x280, 0x380,
     * 0x480 or 0x580 bytes long, but its header then opens with '{'. */
    if (n >= 2 && d[0] == 0x80 && d[1] >= 2 && d[1] <= 5 && !(n > 8 && d[8] == '{')) {
        FORMAT_ERROR(error, label,
                     "this is a Python pickle (a PyTorch .pt/.bin checkpoint), not safetensors; "
                     "pickles can run code and are never loaded");
        return FALSE;
    }
    if (starts_with(d, n, "PK\x03\x04")) {
        FORMAT_ERROR(error, label,
                     "this is a ZIP archive (a PyTorch checkpoint holding pickles), not "
                     "safetensors");
        return FALSE;
    }
    if (n < 8) {
        FORMAT_ERROR(error, label, "file is %" G_GSIZE_FORMAT " bytes, too short for safetensors",
                     n);
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_entry(const char *label, const char *name, const AigcJsonValue *v,
                            gsize data_size, Entry *e, GError **error)
{
    if (v->type != AIGC_JSON_OBJECT) {
        FORMAT_ERROR(error, label, "tensor “%s”: entry is a %s, not an object", name,
                     aigc_json_type_name(v->type));
        return FALSE;
    }
    for (guint i = 0; i < v->n_items; i++) {
        const char *k = v->keys[i];
        if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets")) {
            FORMAT_ERROR(error, label, "tensor “%s”: unknown field “%s”", name, k);
            return FALSE;
        }
    }
    const AigcJsonValue *dtype = aigc_json_object_get(v, "dtype");
    const AigcJsonValue *shape = aigc_json_object_get(v, "shape");
    const AigcJsonValue *offsets = aigc_json_object_get(v, "data_offsets");
    if (!dtype || !shape || !offsets) {
        FORMAT_ERROR(error, label, "tensor “%s”: missing “%s”", name,
                     !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
        return FALSE;
    }
    if (dtype->type != AIGC_JSON_STRING) {
        FORMAT_ERROR(error, label, "tensor “%s”: dtype is not a string", name);
        return FALSE;
    }
    if (!aigc_dtype_from_name(dtype->string, &e->dtype)) {
        FORMAT_ERROR(error, label,
                     "tensor “%s”: unknown dtype “%s” (supported: F32, F16, BF16, I32, I64, U8)",
                     name, dtype->string);
        return FALSE;
    }
    if (shape->type != AIGC_JSON_ARRAY) {
        FORMAT_ERROR(error, label, "tensor “%s”: shape is not an array", name);
        return FALSE;
    }
    if (shape->n_items > AIGC_SAFETENSORS_MAX_DIMS) {
        FORMAT_ERROR(error, label, "tensor “%s”: %u dimensions, more than the %d supported", name,
                     shape->n_items, AIGC_SAFETENSORS_MAX_DIMS);
        return FALSE;
    }
    e->n_dims = (int)shape->n_items;
    guint64 n_elements = 1;
    gboolean overflow = FALSE;
    for (guint i = 0; i < shape->n_items; i++) {
        const AigcJsonValue *d = shape->items[i];
        if (d->type != AIGC_JSON_NUMBER || !d->is_integer) {
            FORMAT_ERROR(error, label, "tensor “%s”: dimension %u is not an integer", name, i);
            return FALSE;
        }
        if (d->integer < 0) {
            FORMAT_ERROR(error, label, "tensor “%s”: dimension %u is negative (%" G_GINT64_FORMAT
                         ")", name, i, d->integer);
            return FALSE;
        }
        e->shape[i] = d->integer;
        if (!overflow && !g_uint64_checked_mul(&n_elements, n_elements, (guint64)d->integer))
            overflow = TRUE;
    }
    guint64 n_bytes = 0;
    if (overflow || n_elements > G_MAXINT64 ||
        !g_uint64_checked_mul(&n_bytes, n_elements, aigc_dtype_size(e->dtype))) {
        FORMAT_ERROR(error, label, "tensor “%s”: shape's byte size overflows", name);
        return FALSE;
    }
    e->n_elements = (gint64)n_elements;
    e->n_bytes = (gsize)n_bytes;
    if (offsets->type != AIGC_JSON_ARRAY || offsets->n_items != 2 ||
        offsets->items[0]->type != AIGC_JSON_NUMBER || !offsets->items[0]->is_integer ||
        offsets->items[1]->type != AIGC_JSON_NUMBER || !offsets->items[1]->is_integer) {
        FORMAT_ERROR(error, label, "tensor “%s”: data_offsets is not [begin, end] integers", name);
        return FALSE;
    }
    e->begin = offsets->items[0]->integer;
    e->end = offsets->items[1]->integer;
    if (e->begin < 0 || e->end < e->begin) {
        FORMAT_ERROR(error, label, "tensor “%s”: data_offsets [%" G_GINT64_FORMAT
                     ", %" G_GINT64_FORMAT "] are not an ordered range", name, e->begin, e->end);
        return FALSE;
    }
    if ((guint64)e->end > data_size) {
        FORMAT_ERROR(error, label, "tensor “%s”: data_offsets end %" G_GINT64_FORMAT
                     " is outside the %" G_GSIZE_FORMAT "-byte data section", name, e->end,
                     data_size);
        return FALSE;
    }
    if ((guint64)(e->end - e->begin) != n_bytes) {
        FORMAT_ERROR(error, label, "tensor “%s”: shape and dtype need %" G_GUINT64_FORMAT
                     " bytes but data_offsets span %" G_GINT64_FORMAT, name, n_bytes,
                     e->end - e->begin);
        return FALSE;
    }
    e->name = name;
    return TRUE;
}

static gboolean parse_metadata(AigcSafetensors *st, const AigcJsonValue *v, GError **error)
{
    if (v->type != AIGC_JSON_OBJECT) {
        FORMAT_ERROR(error, st->label, "__metadata__ is a %s, not an object",
                     aigc_json_type_name(v->type));
        return FALSE;
    }
    for (guint i = 0; i < v->n_items; i++) {
        if (v->items[i]->type != AIGC_JSON_STRING) {
            FORMAT_ERROR(error, st->label, "__metadata__ value of “%s” is a %s, not a string",
                         v->keys[i], aigc_json_type_name(v->items[i]->type));
            return FALSE;
        }
    }
    for (guint i = 0; i < v->n_items; i++)
        g_hash_table_insert(st->metadata, g_strdup(v->keys[i]), g_strdup(v->items[i]->string));
    return TRUE;
}

static gboolean parse(AigcSafetensors *st, GError **error)
{
    gsize size;
    const guint8 *d = g_bytes_get_data(st->bytes, &size);
    if (!check_signature(d, size, st->label, error))
        return FALSE;

    guint64 n_header = 0;
    for (int i = 7; i >= 0; i--)
        n_header = (n_header << 8) | d[i];
    if (n_header > AIGC_SAFETENSORS_MAX_HEADER) {
        FORMAT_ERROR(error, st->label, "header length %" G_GUINT64_FORMAT
                     " bytes is over the 100 MB limit", n_header);
        return FALSE;
    }
    if (n_header > size - 8) {
        FORMAT_ERROR(error, st->label, "header length %" G_GUINT64_FORMAT
                     " runs past the end of the %" G_GSIZE_FORMAT "-byte file", n_header, size);
        return FALSE;
    }
    const char *header = (const char *)d + 8;
    if (n_header < 2 || header[0] != '{') {
        FORMAT_ERROR(error, st->label, "header is not a JSON object");
        return FALSE;
    }
    st->header_size = n_header;
    st->data = d + 8 + n_header;
    st->data_size = size - 8 - n_header;

    GError *json_error = NULL;
    g_autoptr(AigcJsonDoc) doc = aigc_json_parse(header, n_header, &json_error);
    if (!doc) {
        FORMAT_ERROR(error, st->label, "header is not valid JSON: %s", json_error->message);
        g_error_free(json_error);
        return FALSE;
    }
    const AigcJsonValue *root = aigc_json_doc_get_root(doc);
    if (root->type != AIGC_JSON_OBJECT) {
        FORMAT_ERROR(error, st->label, "header is not a JSON object");
        return FALSE;
    }

    guint n_entries = root->n_items;
    g_autofree Entry *entries = g_new0(Entry, n_entries);
    gsize n = 0;
    for (guint i = 0; i < root->n_items; i++) {
        if (strcmp(root->keys[i], "__metadata__") == 0) {
            if (!parse_metadata(st, root->items[i], error))
                return FALSE;
            continue;
        }
        if (root->keys[i][0] == '\0') {
            FORMAT_ERROR(error, st->label, "a tensor has an empty name");
            return FALSE;
        }
        if (!parse_entry(st->label, root->keys[i], root->items[i], st->data_size, &entries[n],
                         error))
            return FALSE;
        n++;
    }

    if (n > 1)
        qsort(entries, n, sizeof(Entry), compare_entries);
    gint64 expected = 0;
    for (gsize i = 0; i < n; i++) {
        if (entries[i].begin < expected) {
            FORMAT_ERROR(error, st->label, "tensors “%s” and “%s” overlap in the data section",
                         entries[i - 1].name, entries[i].name);
            return FALSE;
        }
        if (entries[i].begin > expected) {
            FORMAT_ERROR(error, st->label, "%" G_GINT64_FORMAT
                         " unused bytes before tensor “%s” (a hole in the data section)",
                         entries[i].begin - expected, entries[i].name);
            return FALSE;
        }
        expected = entries[i].end;
    }
    if ((guint64)expected != st->data_size) {
        FORMAT_ERROR(error, st->label, "%" G_GUINT64_FORMAT
                     " bytes after the last tensor belong to none (a hole at the end)",
                     (guint64)st->data_size - (guint64)expected);
        return FALSE;
    }

    /* Everything is valid: now build the records. */
    st->n_tensors = n;
    st->tensors = g_new0(AigcSafetensorsTensor, n);
    st->names = g_new0(char *, n + 1);
    for (gsize i = 0; i < n; i++) {
        AigcSafetensorsTensor *t = &st->tensors[i];
        st->names[i] = g_strdup(entries[i].name);
        t->name = st->names[i];
        t->dtype = entries[i].dtype;
        t->n_dims = entries[i].n_dims;
        memcpy(t->shape, entries[i].shape, sizeof t->shape);
        t->n_elements = entries[i].n_elements;
        t->n_bytes = entries[i].n_bytes;
        t->offset = (gsize)entries[i].begin;
        t->data = st->data + t->offset;
        g_hash_table_insert(st->by_name, st->names[i], GSIZE_TO_POINTER(i + 1));
    }
    GList *keys = g_list_sort(g_hash_table_get_keys(st->metadata), (GCompareFunc)strcmp);
    st->meta_keys = g_new0(char *, g_list_length(keys) + 1);
    int i = 0;
    for (GList *l = keys; l; l = l->next)
        st->meta_keys[i++] = l->data; /* borrowed from the table */
    g_list_free(keys);
    return TRUE;
}

static AigcSafetensors *new_empty(const char *label)
{
    AigcSafetensors *st = g_new0(AigcSafetensors, 1);
    st->label = g_strdup(label);
    st->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    st->metadata = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return st;
}

AigcSafetensors *aigc_safetensors_new_from_bytes(GBytes *bytes, const char *label,
                                                 GError **error)
{
    g_return_val_if_fail(bytes != NULL, NULL);
    AigcSafetensors *st = new_empty(label ? label : "(memory)");
    st->bytes = g_bytes_ref(bytes);
    if (!parse(st, error)) {
        aigc_safetensors_free(st);
        return NULL;
    }
    return st;
}

AigcSafetensors *aigc_safetensors_open(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    GError *map_error = NULL;
    GMappedFile *mapped = g_mapped_file_new(path, FALSE, &map_error);
    if (!mapped) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO, "%s", map_error->message);
        g_error_free(map_error);
        return NULL;
    }
    AigcSafetensors *st = new_empty(path);
    st->mapped = mapped;
    st->bytes = g_mapped_file_get_bytes(mapped);
    if (!parse(st, error)) {
        aigc_safetensors_free(st);
        return NULL;
    }
    return st;
}

void aigc_safetensors_free(AigcSafetensors *st)
{
    if (!st)
        return;
    g_free(st->meta_keys);
    g_hash_table_destroy(st->metadata);
    g_hash_table_destroy(st->by_name);
    g_strfreev(st->names);
    g_free(st->tensors);
    g_bytes_unref(st->bytes);
    if (st->mapped)
        g_mapped_file_unref(st->mapped);
    g_free(st->label);
    g_free(st);
}

const char *aigc_safetensors_get_label(AigcSafetensors *st)
{
    return st->label;
}

gsize aigc_safetensors_get_n_tensors(AigcSafetensors *st)
{
    return st->n_tensors;
}

const AigcSafetensorsTensor *aigc_safetensors_get_tensor(AigcSafetensors *st, gsize i)
{
    g_return_val_if_fail(i < st->n_tensors, NULL);
    return &st->tensors[i];
}

const AigcSafetensorsTensor *aigc_safetensors_find(AigcSafetensors *st, const char *name)
{
    gsize i = GPOINTER_TO_SIZE(g_hash_table_lookup(st->by_name, name));
    return i ? &st->tensors[i - 1] : NULL;
}

const char *const *aigc_safetensors_get_metadata_keys(AigcSafetensors *st)
{
    return (const char *const *)st->meta_keys;
}

const char *aigc_safetensors_get_metadata(AigcSafetensors *st, const char *key)
{
    return g_hash_table_lookup(st->metadata, key);
}

gsize aigc_safetensors_get_header_size(AigcSafetensors *st)
{
    return st->header_size;
}

/* An I8 tensor with its row scales (AIGC_Q8_SCALE_SUFFIX) into F32. */
static gboolean read_q8(AigcSafetensors *st, const AigcSafetensorsTensor *t, float *dest,
                        GError **error)
{
    g_autofree char *scale_name = g_strconcat(t->name, AIGC_Q8_SCALE_SUFFIX, NULL);
    const AigcSafetensorsTensor *s = aigc_safetensors_find(st, scale_name);
    gint64 rows = t->n_dims >= 1 ? t->shape[0] : 0;
    if (!s || s->dtype != AIGC_DTYPE_F32 || s->n_dims != 1 || rows < 1 ||
        s->n_elements != rows) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: tensor “%s” holds I8 without its row scales “%s”", st->label, t->name,
                    scale_name);
        return FALSE;
    }
    const gint64 row = t->n_elements / rows;
    const gint8 *q = (const gint8 *)t->data;
    for (gint64 r = 0; r < rows; r++) {
        guint32 bits;
        memcpy(&bits, s->data + 4 * r, 4);
        bits = GUINT32_FROM_LE(bits);
        float scale;
        memcpy(&scale, &bits, 4);
        for (gint64 i = 0; i < row; i++)
            dest[r * row + i] = (float)q[r * row + i] * scale;
    }
    return TRUE;
}

gboolean aigc_safetensors_read_f32(AigcSafetensors *st, const AigcSafetensorsTensor *t,
                                   float *dest, gint64 n_dest, GError **error)
{
    if (n_dest != t->n_elements) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: tensor “%s” has %" G_GINT64_FORMAT " elements, expected %" G_GINT64_FORMAT,
                    st->label, t->name, t->n_elements, n_dest);
        return FALSE;
    }
    switch (t->dtype) {
    case AIGC_DTYPE_F32:
        memcpy(dest, t->data, t->n_bytes);
        return TRUE;
    case AIGC_DTYPE_F16:
    case AIGC_DTYPE_BF16:
        for (gint64 i = 0; i < n_dest; i++) {
            guint16 h;
            memcpy(&h, t->data + 2 * i, 2);
            h = GUINT16_FROM_LE(h);
            dest[i] = t->dtype == AIGC_DTYPE_F16 ? aigc_f16_to_f32(h) : aigc_bf16_to_f32(h);
        }
        return TRUE;
    case AIGC_DTYPE_I8:
        return read_q8(st, t, dest, error);
    default:
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: tensor “%s” holds %s, not floating-point numbers", st->label, t->name,
                    aigc_dtype_name(t->dtype));
        return FALSE;
    }
}

/* ---- writer ---- */

typedef struct {
    char *name;
    AigcDtype dtype;    /* as stored */
    gboolean from_f32;  /* data is float, converted to dtype while writing */
    int n_dims;
    gint64 shape[AIGC_SAFETENSORS_MAX_DIMS];
    gsize n_bytes;
    gint64 n_elements;
    const void *data;
    gpointer owned; /* (nullable) data the writer made (quantized tensors) */
} WriterEntry;

struct _AigcSafetensorsWriter {
    GArray *entries; /* WriterEntry */
    GHashTable *names;
    GHashTable *metadata;
};

AigcSafetensorsWriter *aigc_safetensors_writer_new(void)
{
    AigcSafetensorsWriter *w = g_new0(AigcSafetensorsWriter, 1);
    w->entries = g_array_new(FALSE, TRUE, sizeof(WriterEntry));
    w->names = g_hash_table_new(g_str_hash, g_str_equal);
    w->metadata = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return w;
}

void aigc_safetensors_writer_free(AigcSafetensorsWriter *w)
{
    if (!w)
        return;
    for (guint i = 0; i < w->entries->len; i++) {
        g_free(g_array_index(w->entries, WriterEntry, i).name);
        g_free(g_array_index(w->entries, WriterEntry, i).owned);
    }
    g_array_free(w->entries, TRUE);
    g_hash_table_destroy(w->names);
    g_hash_table_destroy(w->metadata);
    g_free(w);
}

void aigc_safetensors_writer_set_metadata(AigcSafetensorsWriter *w, const char *key,
                                          const char *value)
{
    g_return_if_fail(g_utf8_validate(key, -1, NULL) && g_utf8_validate(value, -1, NULL));
    g_hash_table_insert(w->metadata, g_strdup(key), g_strdup(value));
}

static gboolean writer_add(AigcSafetensorsWriter *w, const char *name, AigcDtype dtype,
                           gboolean from_f32, int n_dims, const gint64 *shape, const void *data,
                           GError **error)
{
    g_return_val_if_fail(name && *name && g_utf8_validate(name, -1, NULL), FALSE);
    g_return_val_if_fail(n_dims >= 0 && n_dims <= AIGC_SAFETENSORS_MAX_DIMS, FALSE);
    if (strcmp(name, "__metadata__") == 0 || g_hash_table_contains(w->names, name)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "tensor name “%s” is used twice or reserved", name);
        return FALSE;
    }
    WriterEntry e = {.dtype = dtype, .from_f32 = from_f32, .n_dims = n_dims, .data = data};
    guint64 n = 1;
    for (int i = 0; i < n_dims; i++) {
        g_return_val_if_fail(shape[i] >= 0, FALSE);
        e.shape[i] = shape[i];
        if (!g_uint64_checked_mul(&n, n, (guint64)shape[i])) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "tensor “%s”: shape too large", name);
            return FALSE;
        }
    }
    e.n_elements = (gint64)n;
    e.n_bytes = (gsize)n * aigc_dtype_size(dtype);
    e.name = g_strdup(name);
    g_array_append_val(w->entries, e);
    g_hash_table_add(w->names, e.name);
    return TRUE;
}

gboolean aigc_safetensors_writer_add(AigcSafetensorsWriter *w, const char *name, AigcDtype dtype,
                                     int n_dims, const gint64 *shape, const void *data,
                                     GError **error)
{
    return writer_add(w, name, dtype, FALSE, n_dims, shape, data, error);
}

/* Quantizes now: I8 values and F32 row scales, both owned by the writer. */
static gboolean writer_add_q8(AigcSafetensorsWriter *w, const char *name, int n_dims,
                              const gint64 *shape, const float *data, GError **error)
{
    gint64 n = 1;
    for (int i = 0; i < n_dims; i++)
        n *= shape[i];
    const gint64 rows = n_dims >= 2 ? shape[0] : 0;
    const gint64 row = rows > 0 ? n / rows : 0;
    if (rows < 1 || row < AIGC_Q8_MIN_ROW)
        return writer_add(w, name, AIGC_DTYPE_F16, TRUE, n_dims, shape, data, error);
    g_autofree char *scale_name = g_strconcat(name, AIGC_Q8_SCALE_SUFFIX, NULL);
    gint8 *q = g_new(gint8, n);
    guint32 *scales = g_new(guint32, rows); /* little-endian F32 */
    for (gint64 r = 0; r < rows; r++) {
        const float *x = data + r * row;
        float amax = 0;
        for (gint64 i = 0; i < row; i++)
            amax = MAX(amax, fabsf(x[i]));
        float scale = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0;
        for (gint64 i = 0; i < row; i++)
            q[r * row + i] = (gint8)lrintf(CLAMP(x[i] * inv, -127.0f, 127.0f));
        guint32 bits;
        memcpy(&bits, &scale, 4);
        scales[r] = GUINT32_TO_LE(bits);
    }
    if (!writer_add(w, name, AIGC_DTYPE_I8, FALSE, n_dims, shape, q, error)) {
        g_free(q);
        g_free(scales);
        return FALSE;
    }
    g_array_index(w->entries, WriterEntry, w->entries->len - 1).owned = q;
    if (!writer_add(w, scale_name, AIGC_DTYPE_F32, FALSE, 1, &rows, scales, error)) {
        g_free(scales);
        return FALSE;
    }
    g_array_index(w->entries, WriterEntry, w->entries->len - 1).owned = scales;
    return TRUE;
}

gboolean aigc_safetensors_writer_add_f32(AigcSafetensorsWriter *w, const char *name,
                                         AigcDtype store_as, int n_dims, const gint64 *shape,
                                         const float *data, GError **error)
{
    g_return_val_if_fail(store_as == AIGC_DTYPE_F32 || store_as == AIGC_DTYPE_F16 ||
                             store_as == AIGC_DTYPE_BF16 || store_as == AIGC_DTYPE_I8,
                         FALSE);
    if (store_as == AIGC_DTYPE_I8)
        return writer_add_q8(w, name, n_dims, shape, data, error);
    return writer_add(w, name, store_as, store_as != AIGC_DTYPE_F32, n_dims, shape, data, error);
}

static void append_json_string(GString *s, const char *str)
{
    g_string_append_c(s, '"');
    for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_printf(s, "\\%c", *p);
        else if (*p < 0x20)
            g_string_append_printf(s, "\\u%04x", *p);
        else
            g_string_append_c(s, (char)*p);
    }
    g_string_append_c(s, '"');
}

static int compare_writer_entries(gconstpointer a, gconstpointer b)
{
    const WriterEntry *x = a, *y = b;
    gsize sx = aigc_dtype_size(x->dtype), sy = aigc_dtype_size(y->dtype);
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return 0; /* g_array_sort is not stable; ties keep names apart only by offsets */
}

gboolean aigc_safetensors_writer_write(AigcSafetensorsWriter *w, const char *path,
                                       AigcWriteProgressFunc progress, gpointer user_data,
                                       GError **error)
{
    /* Stable order: sort indices by (element size desc, insertion order). */
    guint n = w->entries->len;
    g_autofree guint *order = g_new(guint, n);
    for (guint i = 0; i < n; i++)
        order[i] = i;
    for (guint i = 1; i < n; i++) { /* insertion sort keeps it stable */
        guint k = order[i];
        guint j = i;
        while (j > 0 && compare_writer_entries(&g_array_index(w->entries, WriterEntry, order[j - 1]),
                                               &g_array_index(w->entries, WriterEntry, k)) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }

    GString *h = g_string_new("{");
    gboolean first = TRUE;
    if (g_hash_table_size(w->metadata) > 0) {
        GList *keys = g_list_sort(g_hash_table_get_keys(w->metadata), (GCompareFunc)strcmp);
        g_string_append(h, "\"__metadata__\":{");
        for (GList *l = keys; l; l = l->next) {
            if (l != keys)
                g_string_append_c(h, ',');
            append_json_string(h, l->data);
            g_string_append_c(h, ':');
            append_json_string(h, g_hash_table_lookup(w->metadata, l->data));
        }
        g_string_append_c(h, '}');
        g_list_free(keys);
        first = FALSE;
    }
    guint64 offset = 0, total = 0;
    for (guint i = 0; i < n; i++) {
        const WriterEntry *e = &g_array_index(w->entries, WriterEntry, order[i]);
        if (!first)
            g_string_append_c(h, ',');
        first = FALSE;
        append_json_string(h, e->name);
        g_string_append_printf(h, ":{\"dtype\":\"%s\",\"shape\":[", aigc_dtype_name(e->dtype));
        for (int d = 0; d < e->n_dims; d++)
            g_string_append_printf(h, "%s%" G_GINT64_FORMAT, d ? "," : "", e->shape[d]);
        g_string_append_printf(h, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
                               "]}", offset, offset + e->n_bytes);
        offset += e->n_bytes;
    }
    total = offset;
    g_string_append_c(h, '}');
    while (h->len % 8 != 0)
        g_string_append_c(h, ' ');

    AigcAtomicFile *file = aigc_atomic_file_begin(path, error);
    if (!file) {
        g_string_free(h, TRUE);
        return FALSE;
    }
    guint8 len_le[8];
    guint64 hl = h->len;
    for (int i = 0; i < 8; i++)
        len_le[i] = (guint8)(hl >> (8 * i));
    gboolean ok = aigc_atomic_file_write(file, len_le, 8, error) &&
                  aigc_atomic_file_write(file, h->str, h->len, error);
    g_string_free(h, TRUE);

    enum { CHUNK = 1 << 16 };
    g_autofree guint16 *conv = g_new(guint16, CHUNK);
    guint64 written = 0;
    for (guint i = 0; ok && i < n; i++) {
        const WriterEntry *e = &g_array_index(w->entries, WriterEntry, order[i]);
        if (!e->from_f32) {
            ok = aigc_atomic_file_write(file, e->data, e->n_bytes, error);
        } else {
            const float *src = e->data;
            for (gint64 j = 0; ok && j < e->n_elements; j += CHUNK) {
                gint64 m = MIN((gint64)CHUNK, e->n_elements - j);
                for (gint64 k = 0; k < m; k++)
                    conv[k] = GUINT16_TO_LE(e->dtype == AIGC_DTYPE_F16
                                                ? aigc_f32_to_f16(src[j + k])
                                                : aigc_f32_to_bf16(src[j + k]));
                ok = aigc_atomic_file_write(file, conv, (gsize)m * 2, error);
            }
        }
        written += e->n_bytes;
        if (ok && progress && !progress(total ? (double)written / (double)total : 1.0, user_data)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED,
                        "%s: writing was stopped", path);
            ok = FALSE;
        }
    }
    if (!ok) {
        aigc_atomic_file_abort(file);
        return FALSE;
    }
    return aigc_atomic_file_commit(file, error);
}

gboolean aigc_safetensors_update_metadata(const char *path, const char *const *keys,
                                          const char *const *values, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return FALSE;
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    const char *const *old_keys = aigc_safetensors_get_metadata_keys(st);
    for (int i = 0; old_keys[i]; i++)
        aigc_safetensors_writer_set_metadata(w, old_keys[i],
                                             aigc_safetensors_get_metadata(st, old_keys[i]));
    for (int i = 0; keys[i] && values[i]; i++)
        aigc_safetensors_writer_set_metadata(w, keys[i], values[i]);
    for (gsize i = 0; i < aigc_safetensors_get_n_tensors(st); i++) {
        const AigcSafetensorsTensor *t = aigc_safetensors_get_tensor(st, i);
        if (!aigc_safetensors_writer_add(w, t->name, t->dtype, t->n_dims, t->shape, t->data,
                                         error))
            return FALSE;
    }
    /* The mapping stays valid until st is freed, after the write. */
    return aigc_safetensors_writer_write(w, path, NULL, NULL, error);
}
