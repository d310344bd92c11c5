/* SPDX-License-Identifier: MIT
 *
 * AigcParams: a model's named parameters in one flat buffer (values) with a mirror (gradients),
 * as in llm.c — optimisers, gradient clipping, all-reduce and checkpoints work on the flat
 * arrays. Declare every parameter with aigc_params_add(), then aigc_params_allocate() once;
 * the tensors' data and grad then point into the flat buffers.
 */
#pragma once

#include "aigc-tensor.h"
#include "io/aigc-safetensors.h"

G_BEGIN_DECLS

typedef struct _AigcParams AigcParams;

AigcParams *aigc_params_new(void);
void aigc_params_free(AigcParams *params);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcParams, aigc_params_free)

/* (transfer none) Declares a parameter; its data is usable after aigc_params_allocate(). */
AigcTensor *aigc_params_add(AigcParams *params, const char *name, int n_dims,
                            const gint64 *shape);
/* Allocates the flat value and gradient buffers (zeroed). */
void aigc_params_allocate(AigcParams *params);

guint aigc_params_get_n(AigcParams *params);
/* (transfer none) */
AigcTensor *aigc_params_get(AigcParams *params, guint i);
/* (nullable) (transfer none) */
AigcTensor *aigc_params_find(AigcParams *params, const char *name);
gint64 aigc_params_get_n_elements(AigcParams *params);
/* (transfer none) The flat arrays, n_elements floats each. */
float *aigc_params_get_data(AigcParams *params);
float *aigc_params_get_grad(AigcParams *params);
void aigc_params_zero_grad(AigcParams *params);

/* Copies values from a weights file: every parameter must be present with the same shape and
 * finite values (F32, F16 or BF16). */
gboolean aigc_params_load(AigcParams *params, AigcSafetensors *st, const char *prefix,
                          GError **error);
/* Adds every parameter to a writer (borrowing the values until the write), stored as dtype. */
gboolean aigc_params_save(AigcParams *params, AigcSafetensorsWriter *writer, const char *prefix,
                          AigcDtype dtype, GError **error);

G_END_DECLS
