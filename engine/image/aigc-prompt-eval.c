/* SPDX-License-Identifier: MIT */
#include "aigc-prompt-eval.h"

#include "aigc-error.h"
#include "image/aigc-image-model-private.h"

#include <math.h>
#include <string.h>

#define BATCH 16

/* The ranks: is `want` among the k nearest of the set to image x (3·S·S values in [0, 1])? */
static void judge(const float *x, const float *set_pixels, int n_set, gint64 P, int want,
                  gboolean *in1, gboolean *in5, int *i_nearest, double *nearest)
{
    double d_want = 0, best = INFINITY;
    *i_nearest = 0;
    const float *y = set_pixels + (gint64)want * P;
    for (gint64 k = 0; k < P; k++)
        d_want += (double)(x[k] - y[k]) * (x[k] - y[k]);
    int closer = 0; /* emoji strictly nearer than the wanted one */
    for (int j = 0; j < n_set; j++) {
        const float *z = set_pixels + (gint64)j * P;
        double d = 0;
        for (gint64 k = 0; k < P; k++)
            d += (double)(x[k] - z[k]) * (x[k] - z[k]);
        if (d < best) {
            best = d;
            *i_nearest = j;
        }
        if (j != want && d < d_want)
            closer++;
    }
    *in1 = closer == 0;
    *in5 = closer < 5;
    *nearest = sqrt(best / (double)P);
}

gboolean aigc_prompt_eval(AigcImageModel *model, const AigcEmojiSet *set, gint64 n, guint64 seed,
                          AigcSamplerKind sampler, int steps, float guidance, AigcJob *job,
                          AigcPromptEvalResult *result, GError **error)
{
    AigcDiffusion *d = model->diffusion;
    const AigcDiffusionConfig *c = d ? aigc_diffusion_get_config(d) : NULL;
    if (!c || c->text_len == 0 || c->channels != 3 || c->image_size != set->size) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s is not a text-conditioned colour diffusion model of %d×%d images; "
                    "prompts of emoji names judge only those",
                    model->name, set->size, set->size);
        return FALSE;
    }
    if (n < 1 || n > set->n) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the prompts must be 1 … %d (the emoji in the set), not %" G_GINT64_FORMAT,
                    set->n, n);
        return FALSE;
    }
    const int S = c->image_size, T = c->text_len;
    const gint64 P = 3 * (gint64)S * S;
    g_autofree float *pixels = g_new(float, set->n * P);
    for (int j = 0; j < set->n; j++)
        aigc_emoji_set_get_floats(set, j, 0.0f, 1.0f, pixels + j * P);
    AigcDiffusionSampleParams sp = aigc_diffusion_sample_default_params();
    sp.sampler = sampler;
    sp.steps = steps;
    sp.guidance = guidance;
    if (!aigc_diffusion_sample_params_validate(d, &sp, error))
        return FALSE;
    *result = (AigcPromptEvalResult){.n = n, .chance1 = 1.0 / set->n,
                                     .chance5 = MIN(5.0, (double)set->n) / set->n};
    for (int k = 0; k < set->n_categories; k++) {
        int count = 0;
        for (int j = 0; j < set->n; j++)
            count += set->emoji[j].category_index == k;
        result->chance_category += ((double)count / set->n) * ((double)count / set->n);
    }
    g_autofree gint32 *text = g_new(gint32, (gsize)BATCH * T);
    g_autofree float *out = g_new(float, BATCH * P);
    gint64 hits1 = 0, hits5 = 0, same_category = 0;
    double nearest_sum = 0;
    for (gint64 i0 = 0; i0 < n; i0 += BATCH) {
        const int b = (int)MIN(BATCH, n - i0);
        int want[BATCH];
        for (int i = 0; i < b; i++) {
            want[i] = (int)((i0 + i) * set->n / n);
            if (aigc_diffusion_encode_text(d, set->emoji[want[i]].name, text + (gsize)i * T, NULL,
                                           error) == 0) {
                g_prefix_error(error, "the prompt “%s”: ", set->emoji[want[i]].name);
                return FALSE;
            }
        }
        sp.seed = seed + (guint64)(i0 / BATCH);
        if (!aigc_diffusion_sample(d, &sp, text, b, out, job, error))
            return FALSE;
        for (int i = 0; i < b; i++) {
            float *x = out + i * P;
            for (gint64 k = 0; k < P; k++)
                x[k] = CLAMP(x[k] * 0.5f + 0.5f, 0.0f, 1.0f);
            gboolean in1, in5;
            int i_nearest;
            double nearest;
            judge(x, pixels, set->n, P, want[i], &in1, &in5, &i_nearest, &nearest);
            same_category += set->emoji[i_nearest].category_index ==
                             set->emoji[want[i]].category_index;
            hits1 += in1;
            hits5 += in5;
            nearest_sum += nearest;
        }
        if (job) {
            g_autofree char *stage = g_strdup_printf("drawing %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                                                     MIN(i0 + b, n), n);
            aigc_job_report_progress(job, (double)MIN(i0 + b, n) / n, stage);
            if (aigc_job_is_cancelled(job)) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "stopped");
                return FALSE;
            }
        }
    }
    result->top1 = (double)hits1 / n;
    result->top5 = (double)hits5 / n;
    result->category = (double)same_category / n;
    result->nearest_distance = nearest_sum / n;
    return TRUE;
}
