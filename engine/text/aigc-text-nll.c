/* SPDX-License-Identifier: MIT */
#include "aigc-text-nll.h"

#include "aigc-error.h"

#include <math.h>

gboolean aigc_windowed_nll(AigcWindowForwardFunc forward, gpointer model, int T, int V,
                           const gint32 *ids, gint64 n, AigcJob *job, double *nats,
                           GError **error)
{
    const int B = MAX(1, 8192 / T); /* windows per forward pass */
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    aigc_ctx_set_training(ctx, FALSE);
    /* Window w reads ids[w·T … w·T+T−1] and predicts ids[w·T+1 … w·T+T]. */
    gint64 n_windows = n > 1 ? (n - 2) / T + 1 : 0;
    g_autofree gint32 *in = g_new(gint32, (gsize)B * T);
    g_autofree gint32 *tgt = g_new(gint32, (gsize)B * T);
    double total = 0;
    for (gint64 w0 = 0; w0 < n_windows; w0 += B) {
        if (job && aigc_job_is_cancelled(job)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "stopped");
            return FALSE;
        }
        int nb = (int)MIN((gint64)B, n_windows - w0);
        for (int b = 0; b < nb; b++) {
            gint64 start = (w0 + b) * T;
            for (int t = 0; t < T; t++) {
                gint64 i = start + t;
                gboolean valid = i + 1 < n;
                in[b * T + t] = valid ? ids[i] : 0;
                tgt[b * T + t] = valid ? ids[i + 1] : -1;
            }
        }
        aigc_ctx_reset(ctx);
        AigcTensor *logits = forward(ctx, model, in, nb, T); /* (nb·T, V) */
        for (int r = 0; r < nb * T; r++) {
            if (tgt[r] < 0)
                continue;
            const float *row = logits->data + (gsize)r * V;
            float mx = row[0];
            for (int v = 1; v < V; v++)
                mx = MAX(mx, row[v]);
            double sum = 0;
            for (int v = 0; v < V; v++)
                sum += exp(row[v] - mx);
            total += log(sum) + mx - row[tgt[r]];
        }
        if (job)
            aigc_job_report_progress(job, (double)(w0 + nb) / n_windows, "evaluating");
    }
    *nats = total;
    return TRUE;
}
