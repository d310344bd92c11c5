/* SPDX-License-Identifier: MIT
 *
 * Atomic file writing: every file the product writes goes to a temporary file in the same
 * folder, is flushed with fsync and renamed over the destination, so a crash or a cancel never
 * leaves half a file under the final name.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AigcAtomicFile AigcAtomicFile;

/* (transfer full) (nullable) Creates the temporary file; NULL + error if the folder is not
 * writable. */
AigcAtomicFile *aigc_atomic_file_begin(const char *path, GError **error);
gboolean aigc_atomic_file_write(AigcAtomicFile *file, const void *data, gsize n_bytes,
                                GError **error);
/* Flushes, renames over the destination and frees `file` (also on failure). */
gboolean aigc_atomic_file_commit(AigcAtomicFile *file, GError **error);
/* Removes the temporary file and frees `file`. NULL is allowed. */
void aigc_atomic_file_abort(AigcAtomicFile *file);
const char *aigc_atomic_file_get_path(AigcAtomicFile *file);

/* Writes a whole buffer atomically. */
gboolean aigc_file_set_contents_atomic(const char *path, const void *data, gsize n_bytes,
                                       GError **error);

G_END_DECLS
