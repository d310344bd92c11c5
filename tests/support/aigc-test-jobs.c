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
        aigc_job_report_progress(job, (i + 1.0) / p->n_steps, i < p->n_steps / 2 ? "first half"
                                                                                  : "second half");
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
