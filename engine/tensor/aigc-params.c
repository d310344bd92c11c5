/* SPDX-License-Identifier: MIT */
#include "aigc-params.h"

#include "aigc-error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct _AigcParams {
    GPtrArray *tensors; /* (element AigcTensor, owned headers) */
    GHashTable *by_name;
    float *data; /* (n_elements) */
    float *grad; /* (n_elements) */
    gint64 n_elements;
    gboolean allocated;
};

static void free_header(gpointer p)
{
    AigcTensor *t = p;
    g_free((char *)t->name);
    g_free(t);
}

AigcParams *aigc_params_new(void)
{
    AigcParams *params = g_new0(AigcParams, 1);
    params->tensors = g_ptr_array_new_with_free_func(free_header);
    params->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    return params;
}

void aigc_params_free(AigcParams *params)
{
    if (!params)
        return;
    g_hash_table_destroy(params->by_name);
    g_ptr_array_free(params->tensors, TRUE);
    free(params->data);
    free(params->grad);
    g_free(params);
}

AigcTensor *aigc_params_add(AigcParams *params, const char *name, int n_dims,
                            const gint64 *shape)
{
    g_return_val_if_fail(!params->allocated, NULL);
    g_return_val_if_fail(!g_hash_table_contains(params->by_name, name), NULL);
    AigcTensor *t = g_new0(AigcTensor, 1);
    aigc_tensor_set_shape(t, n_dims, shape);
    t->name = g_strdup(name);
    t->is_leaf = TRUE;
    t->requires_grad = TRUE;
    g_ptr_array_add(params->tensors, t);
    g_hash_table_insert(params->by_name, (char *)t->name, t);
    return t;
}

/* Each parameter starts on a 64-byte boundary inside the flat buffers. */
static gint64 padded(gint64 n)
{
    return (n + 15) & ~(gint64)15;
}

void aigc_params_allocate(AigcParams *params)
{
    g_return_if_fail(!params->allocated);
    gint64 total = 0;
    for (guint i = 0; i < params->tensors->len; i++)
        total += padded(((AigcTensor *)params->tensors->pdata[i])->n_elements);
    gsize bytes = (gsize)MAX(total, 16) * sizeof(float);
    params->data = aligned_alloc(64, bytes);
    params->grad = aligned_alloc(64, bytes);
    if (!params->data || !params->grad)
        g_error("out of memory for %" G_GINT64_FORMAT " parameters", total);
    memset(params->data, 0, bytes);
    memset(params->grad, 0, bytes);
    gint64 off = 0;
    for (guint i = 0; i < params->tensors->len; i++) {
        AigcTensor *t = params->tensors->pdata[i];
        t->data = params->data + off;
        t->grad = params->grad + off;
        off += padded(t->n_elements);
    }
    params->n_elements = total;
    params->allocated = TRUE;
}

guint aigc_params_get_n(AigcParams *params)
{
    return params->tensors->len;
}

AigcTensor *aigc_params_get(AigcParams *params, guint i)
{
    g_return_val_if_fail(i < params->tensors->len, NULL);
    return params->tensors->pdata[i];
}

AigcTensor *aigc_params_find(AigcParams *params, const char *name)
{
    return g_hash_table_lookup(params->by_name, name);
}

gint64 aigc_params_get_n_elements(AigcParams *params)
{
    return params->n_elements;
}

float *aigc_params_get_data(AigcParams *params)
{
    return params->data;
}

float *aigc_params_get_grad(AigcParams *params)
{
    return params->grad;
}

void aigc_params_zero_grad(AigcParams *params)
{
    memset(params->grad, 0, (gsize)MAX(params->n_elements, 16) * sizeof(float));
}

gboolean aigc_params_load(AigcParams *params, AigcSafetensors *st, const char *prefix,
                          GError **error)
{
    g_return_val_if_fail(params->allocated, FALSE);
    const char *label = aigc_safetensors_get_label(st);
    for (guint i = 0; i < params->tensors->len; i++) {
        AigcTensor *t = params->tensors->pdata[i];
        g_autofree char *name = g_strconcat(prefix ? prefix : "", t->name, NULL);
        const AigcSafetensorsTensor *st_t = aigc_safetensors_find(st, name);
        if (!st_t) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "%s: tensor “%s” is missing", label, name);
            return FALSE;
        }
        gboolean same = st_t->n_dims == t->n_dims;
        for (int d = 0; same && d < t->n_dims; d++)
            same = st_t->shape[d] == t->shape[d];
        if (!same) {
            char want[64];
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "%s: tensor “%s” has the wrong shape (expected %s)", label, name,
                        aigc_tensor_shape_string(t, want, sizeof want));
            return FALSE;
        }
        if (!aigc_safetensors_read_f32(st, st_t, t->data, t->n_elements, error))
            return FALSE;
        for (gint64 k = 0; k < t->n_elements; k++) {
            if (!isfinite(t->data[k])) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                            "%s: tensor “%s” holds NaN or infinity at element %" G_GINT64_FORMAT,
                            label, name, k);
                return FALSE;
            }
        }
    }
    return TRUE;
}

gboolean aigc_params_save(AigcParams *params, AigcSafetensorsWriter *writer, const char *prefix,
                          AigcDtype dtype, GError **error)
{
    for (guint i = 0; i < params->tensors->len; i++) {
        AigcTensor *t = params->tensors->pdata[i];
        g_autofree char *name = g_strconcat(prefix ? prefix : "", t->name, NULL);
        if (!aigc_safetensors_writer_add_f32(writer, name, dtype, t->n_dims, t->shape, t->data,
                                             error))
            return FALSE;
    }
    return TRUE;
}
