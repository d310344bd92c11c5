/* SPDX-License-Identifier: MIT */
#include "aigc-test-jobs.h"

#include <string.h>

static gboolean run(AigcJob *job, gpointer data, GError **error)
{
    AigcTestJobParams *p = data;
    for (int i = 0; i < p->n_steps; i++) {
        if (aigc_job_is_cancelled(job))
            return FALSE;
        gint64 end = g_get_monotonic_time() + p->step_us;
        while (g_get_monotonic_time() < end)
            ;
        aigc_job_report_progress(job, (i + 1.0) / p->n_steps,
                                 i < p->n_steps / 2 ? "first half" : "second half");
        if (p->preview_every && i % p->preview_every == 0) {
            gsize n = (gsize)p->preview_size * p->preview_size * 4;
            guint8 *px = g_malloc(n);
            memset(px, (i * 7) & 0xff, n);
            g_autoptr(GBytes) bytes = g_bytes_new_take(px, n);
            AigcPreview *preview = aigc_preview_new(AIGC_PREVIEW_IMAGE_RGBA8, "step", bytes);
            preview->width = preview->height = p->preview_size;
            aigc_job_report_preview(job, preview);
        }
    }
    if (p->fail) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "the test job failed");
        return FALSE;
    }
    return TRUE;
}

AigcJob *aigc_test_job_new(const AigcTestJobParams *params)
{
    return aigc_job_new("test", run, g_memdup2(params, sizeof *params), g_free);
}

static void cancel_halfway(AigcJob *job, double fraction, const char *stage, gpointer data)
{
    if (fraction >= 0.5)
        aigc_job_cancel(job);
}

AigcJobState aigc_test_run_training(AigcJob *job, gboolean stop_halfway)
{
    g_autoptr(AigcEngine) engine = aigc_engine_new(NULL);
    AigcJobCallbacks cb = {.progress = cancel_halfway};
    if (stop_halfway)
        aigc_job_set_callbacks(job, &cb);
    aigc_engine_submit(engine, job);
    return aigc_job_wait(job);
}

static void put_be32(GByteArray *a, guint32 v)
{
    guint8 b[4] = {v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255};
    g_byte_array_append(a, b, 4);
}

void aigc_test_write_fashion(const char *folder, int n, const guint8 *pixels, const guint8 *labels)
{
    GByteArray *images = g_byte_array_new(), *label_bytes = g_byte_array_new();
    put_be32(images, 0x803);
    put_be32(images, (guint32)n);
    put_be32(images, 28);
    put_be32(images, 28);
    g_byte_array_append(images, pixels, (guint)n * 784);
    put_be32(label_bytes, 0x801);
    put_be32(label_bytes, (guint32)n);
    g_byte_array_append(label_bytes, labels, (guint)n);
    g_autofree char *ip = g_build_filename(folder, "train-images-idx3-ubyte", NULL);
    g_autofree char *lp = g_build_filename(folder, "train-labels-idx1-ubyte", NULL);
    g_assert_true(g_file_set_contents(ip, (const char *)images->data, images->len, NULL));
    g_assert_true(g_file_set_contents(lp, (const char *)label_bytes->data, label_bytes->len, NULL));
    g_byte_array_free(images, TRUE);
    g_byte_array_free(label_bytes, TRUE);
}

void aigc_test_write_bar_fashion(const char *folder, int n)
{
    g_autofree guint8 *pixels = g_new(guint8, (gsize)n * 784);
    g_autofree guint8 *labels = g_new(guint8, n);
    for (int i = 0; i < n; i++) {
        guint8 label = (guint8)(i % 10);
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                pixels[(gsize)i * 784 + y * 28 + x] =
                    (x / 3 == label) ? 200 + (guint8)(i % 50) : (guint8)(y + i % 7);
        labels[i] = label;
    }
    aigc_test_write_fashion(folder, n, pixels, labels);
}

void aigc_test_copy_with_metadata(const char *from, const char *to, const char *key,
                                  const char *value)
{
    g_autofree char *contents = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(from, &contents, &len, NULL));
    g_assert_true(g_file_set_contents(to, contents, (gssize)len, NULL));
    const char *keys[] = {key, NULL}, *values[] = {value, NULL};
    GError *error = NULL;
    g_assert_true(aigc_safetensors_update_metadata(to, keys, values, &error));
    g_assert_no_error(error);
}
