/* SPDX-License-Identifier: MIT
 *
 * DESIGN: the temporary file is `.<name>.XXXXXX.part` beside the destination (same filesystem,
 * so rename() is atomic). commit = write-out, fsync(file), rename, fsync(folder). The temporary
 * file gets the permissions a plain creat() would give (0666 minus umask), not mkstemp's 0600.
 */
#include "aigc-atomic-file.h"

#include "aigc-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _AigcAtomicFile {
    char *path;
    char *tmp_path;
    int fd;
};

static mode_t current_umask(void)
{
    static gsize once;
    static mode_t mask;
    if (g_once_init_enter(&once)) {
        mask = umask(022); /* umask can only be read by setting it */
        umask(mask);
        g_once_init_leave(&once, 1);
    }
    return mask;
}

static gboolean set_io_error(GError **error, const char *path, const char *what, int err)
{
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO, "%s: %s: %s", path, what,
                g_strerror(err));
    return FALSE;
}

AigcAtomicFile *aigc_atomic_file_begin(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *tmpl = g_strdup_printf("%s/.%s.XXXXXX.part", dir, base);

    int fd = g_mkstemp_full(tmpl, O_WRONLY | O_CLOEXEC, 0666 & ~current_umask());
    if (fd < 0) {
        set_io_error(error, path, "cannot create a file in its folder", errno);
        return NULL;
    }
    fchmod(fd, 0666 & ~current_umask());
    AigcAtomicFile *file = g_new0(AigcAtomicFile, 1);
    file->path = g_strdup(path);
    file->tmp_path = g_steal_pointer(&tmpl);
    file->fd = fd;
    return file;
}

const char *aigc_atomic_file_get_path(AigcAtomicFile *file)
{
    return file->path;
}

gboolean aigc_atomic_file_write(AigcAtomicFile *file, const void *data, gsize n_bytes,
                                GError **error)
{
    const char *p = data;
    while (n_bytes > 0) {
        ssize_t n = write(file->fd, p, MIN(n_bytes, (gsize)1 << 30));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return set_io_error(error, file->path, "write failed", errno);
        }
        p += n;
        n_bytes -= (gsize)n;
    }
    return TRUE;
}

static void file_free(AigcAtomicFile *file)
{
    g_free(file->path);
    g_free(file->tmp_path);
    g_free(file);
}

void aigc_atomic_file_abort(AigcAtomicFile *file)
{
    if (!file)
        return;
    if (file->fd >= 0)
        close(file->fd);
    g_unlink(file->tmp_path);
    file_free(file);
}

gboolean aigc_atomic_file_commit(AigcAtomicFile *file, GError **error)
{
    if (fsync(file->fd) != 0) {
        set_io_error(error, file->path, "flushing to disk failed", errno);
        aigc_atomic_file_abort(file);
        return FALSE;
    }
    int fd = file->fd;
    file->fd = -1;
    if (close(fd) != 0) {
        set_io_error(error, file->path, "closing failed", errno);
        aigc_atomic_file_abort(file);
        return FALSE;
    }
    if (g_rename(file->tmp_path, file->path) != 0) {
        set_io_error(error, file->path, "cannot replace the file", errno);
        aigc_atomic_file_abort(file);
        return FALSE;
    }
    /* Make the rename itself durable. */
    g_autofree char *dir = g_path_get_dirname(file->path);
    int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        fsync(dir_fd);
        close(dir_fd);
    }
    file_free(file);
    return TRUE;
}

gboolean aigc_file_set_contents_atomic(const char *path, const void *data, gsize n_bytes,
                                       GError **error)
{
    AigcAtomicFile *file = aigc_atomic_file_begin(path, error);
    if (!file)
        return FALSE;
    if (!aigc_atomic_file_write(file, data, n_bytes, error)) {
        aigc_atomic_file_abort(file);
        return FALSE;
    }
    return aigc_atomic_file_commit(file, error);
}
