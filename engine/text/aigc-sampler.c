/* SPDX-License-Identifier: MIT
 *
 * Order of operations (as in common practice, e.g. llama.cpp): repetition penalty on the raw
 * logits (divide positive, multiply negative), then temperature, then top-k, then top-p over the
 * renormalised survivors, then one categorical draw.
 */
#include "aigc-sampler.h"

#include "aigc-error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct _AigcSampler {
    AigcSamplerParams params;
    int vocab_size;
    AigcRng rng;
    gint32 *recent; /* ring of the last repetition_window tokens */
    int n_recent, recent_pos;
    guint8 *seen;   /* (vocab_size) scratch */
    int *order;     /* (vocab_size) scratch: candidate ids */
    float *probs;   /* (vocab_size) scratch */
};

AigcSamplerParams aigc_sampler_default_params(void)
{
    return (AigcSamplerParams){.temperature = 0.8f,
                               .top_k = 40,
                               .top_p = 0.95f,
                               .repetition_penalty = 1.0f,
                               .repetition_window = 64};
}

gboolean aigc_sampler_params_validate(const AigcSamplerParams *p, GError **error)
{
    const char *fault = NULL;
    if (!(p->temperature >= 0 && p->temperature <= 10))
        fault = "temperature must be between 0 and 10";
    else if (p->top_k < 0)
        fault = "top-k must be 0 (off) or more";
    else if (!(p->top_p > 0 && p->top_p <= 1))
        fault = "top-p must be in (0, 1]";
    else if (!(p->repetition_penalty >= 1 && p->repetition_penalty <= 10))
        fault = "repetition penalty must be between 1 and 10";
    else if (p->repetition_window < 0 || p->repetition_window > 1 << 16)
        fault = "repetition window must be 0 … 65536";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "%s", fault);
        return FALSE;
    }
    return TRUE;
}

AigcSampler *aigc_sampler_new(const AigcSamplerParams *params, int vocab_size, guint64 seed)
{
    g_return_val_if_fail(aigc_sampler_params_validate(params, NULL), NULL);
    g_return_val_if_fail(vocab_size > 0, NULL);
    AigcSampler *s = g_new0(AigcSampler, 1);
    s->params = *params;
    s->vocab_size = vocab_size;
    aigc_rng_init(&s->rng, seed);
    s->recent = g_new0(gint32, MAX(params->repetition_window, 1));
    s->seen = g_new0(guint8, vocab_size);
    s->order = g_new(int, vocab_size);
    s->probs = g_new(float, vocab_size);
    return s;
}

void aigc_sampler_free(AigcSampler *s)
{
    if (!s)
        return;
    g_free(s->recent);
    g_free(s->seen);
    g_free(s->order);
    g_free(s->probs);
    g_free(s);
}

void aigc_sampler_observe(AigcSampler *s, gint32 token)
{
    if (s->params.repetition_window == 0)
        return;
    s->recent[s->recent_pos] = token;
    s->recent_pos = (s->recent_pos + 1) % s->params.repetition_window;
    s->n_recent = MIN(s->n_recent + 1, s->params.repetition_window);
}

static int by_prob_desc(const void *a, const void *b, void *keys)
{
    const float *k = keys;
    float x = k[*(const int *)a], y = k[*(const int *)b];
    if (x != y)
        return x > y ? -1 : 1;
    return *(const int *)a - *(const int *)b; /* deterministic ties */
}

gint32 aigc_sampler_sample(AigcSampler *s, float *logits)
{
    const int V = s->vocab_size;
    const AigcSamplerParams *p = &s->params;
    if (p->repetition_penalty > 1 && s->n_recent > 0) {
        for (int i = 0; i < s->n_recent; i++) {
            gint32 t = s->recent[i];
            if (t < 0 || t >= V || s->seen[t])
                continue;
            s->seen[t] = 1;
            logits[t] = logits[t] > 0 ? logits[t] / p->repetition_penalty
                                      : logits[t] * p->repetition_penalty;
        }
        for (int i = 0; i < s->n_recent; i++)
            if (s->recent[i] >= 0 && s->recent[i] < V)
                s->seen[s->recent[i]] = 0;
    }
    if (p->temperature == 0) {
        int best = 0;
        for (int i = 1; i < V; i++)
            if (logits[i] > logits[best])
                best = i;
        return best;
    }
    float max = logits[0];
    for (int i = 1; i < V; i++)
        max = MAX(max, logits[i]);
    double sum = 0;
    for (int i = 0; i < V; i++) {
        s->probs[i] = expf((logits[i] - max) / p->temperature);
        sum += s->probs[i];
    }
    int n = V;
    for (int i = 0; i < V; i++)
        s->order[i] = i;
    if ((p->top_k > 0 && p->top_k < V) || p->top_p < 1) {
        /* Sorting the whole vocabulary is cheap next to a model step. */
        qsort_r(s->order, (size_t)V, sizeof(int), by_prob_desc, s->probs);
        if (p->top_k > 0 && p->top_k < n)
            n = p->top_k;
        if (p->top_p < 1) {
            double kept = 0, total = 0;
            for (int i = 0; i < n; i++)
                total += s->probs[s->order[i]];
            for (int i = 0; i < n; i++) {
                kept += s->probs[s->order[i]];
                if (kept >= p->top_p * total) {
                    n = i + 1;
                    break;
                }
            }
        }
        sum = 0;
        for (int i = 0; i < n; i++)
            sum += s->probs[s->order[i]];
    }
    double r = aigc_rng_uniform(&s->rng) * sum;
    double acc = 0;
    for (int i = 0; i < n; i++) {
        acc += s->probs[s->order[i]];
        if (r < acc)
            return s->order[i];
    }
    return s->order[n - 1];
}
