/* SPDX-License-Identifier: MIT
 *
 * The class names of class-conditional image models (DCGAN, VAE): kept in a model file's
 * metadata as a JSON array of strings ("dcgan.classes", "vae.classes"), looked up by name (ASCII
 * case-insensitive) or by number, and turned into the rows of one-hot class matrices that the
 * networks take (a row may also blend two classes, for interpolation).
 */
#pragma once

#include "tensor/aigc-tensor.h"

G_BEGIN_DECLS

/* (transfer full) NULL-terminated "0", "1", … (n entries). */
char **aigc_class_names_new_numbered(int n);
/* (transfer full) A JSON array of the n names. */
char *aigc_class_names_to_json(const char *const *names, int n);
/* (transfer full) (nullable) n distinct (case-insensitively), non-empty UTF-8 names from a JSON
 * array (metadata `key` of the file `label`); NULL + AIGC_ENGINE_ERROR_FORMAT naming the key and
 * the fault otherwise. */
char **aigc_class_names_from_json(const char *json, int n, const char *key, const char *label,
                                  GError **error);
/* The class called `name` (ASCII case-insensitive, or its number); −1 +
 * AIGC_ENGINE_ERROR_NOT_FOUND listing the known names when there is none (or n is 0). */
int aigc_class_names_find(const char *const *names, int n, const char *name, GError **error);

/* (transfer none) A (N, K) tensor in the context's arena, no gradient: row i one-hot at
 * classes[i] (in 0 … K−1). */
AigcTensor *aigc_class_one_hot(AigcCtx *ctx, const gint32 *classes, int N, int K);

G_END_DECLS
