/* SPDX-License-Identifier: MIT
 *
 * The generation loop. When the model's context fills, the session restarts on the last half of
 * the context (a sliding window), so long generations continue instead of stopping.
 */
#include "aigc-text-generate.h"

#include "aigc-error.h"

#include <math.h>
#include <string.h>

typedef struct {
    AigcTextModel *model;
    char *prompt;
    int max_tokens;
    gint64 seed;
    AigcSamplerParams sampler;
    GStrv stop;
} Params;

static void params_free(gpointer data)
{
    Params *p = data;
    aigc_text_model_unref(p->model);
    g_free(p->prompt);
    g_strfreev(p->stop);
    g_free(p);
}

AigcTextGenParams aigc_text_gen_default_params(void)
{
    return (AigcTextGenParams){
        .prompt = "", .max_tokens = 200, .seed = -1, .sampler = aigc_sampler_default_params()};
}

void aigc_text_gen_result_free(AigcTextGenResult *r)
{
    if (!r)
        return;
    g_free(r->text);
    g_free(r->stop_string);
    g_free(r);
}

/* Feeds tokens[0 … n) into a fresh session; leaves the last logits. */
static gboolean refeed(AigcTextSession *s, const gint32 *tokens, int n, float *logits)
{
    aigc_text_session_reset(s);
    for (int i = 0; i < n; i++)
        if (!aigc_text_session_feed(s, tokens[i], logits))
            return FALSE;
    return TRUE;
}

static gboolean run(AigcJob *job, gpointer data, GError **error)
{
    Params *p = data;
    AigcTokenizer *tok = aigc_text_model_get_tokenizer(p->model);
    const int V = aigc_text_model_get_vocab_size(p->model);
    const int ctx_len = aigc_text_model_get_max_context(p->model);
    const gint32 unk = aigc_tokenizer_get_unk(tok);
    gsize prompt_len = strlen(p->prompt);

    /* history holds prompt and generated tokens; room for both. */
    int cap = (int)MIN((gsize)G_MAXINT / 2, prompt_len + 1) + p->max_tokens + 1;
    g_autofree gint32 *history = g_new(gint32, cap);
    int n_prompt = aigc_tokenizer_encode(tok, p->prompt, (gssize)prompt_len, history,
                                         (int)prompt_len + 1);
    AigcTextGenResult *result = g_new0(AigcTextGenResult, 1);
    if (n_prompt == 0) {
        /* A prompt of only characters the tokenizer drops: start from a document separator. */
        gint32 bos = aigc_tokenizer_get_bos(tok);
        history[0] = bos >= 0 ? bos : '\n'; /* byte vocabularies have no separator token */
        n_prompt = 1;
    }
    if (ctx_len > 0 && n_prompt > ctx_len - 1) {
        /* Keep the end of the prompt: what the model continues from. */
        int keep = MAX(1, ctx_len / 2);
        memmove(history, history + n_prompt - keep, (gsize)keep * sizeof(gint32));
        n_prompt = keep;
        result->prompt_truncated = TRUE;
    }
    result->n_prompt_tokens = n_prompt;
    /* A random seed stays below 2³¹ so people can type it back in. */
    result->seed = p->seed >= 0 ? (guint64)p->seed : (guint64)g_random_int_range(0, G_MAXINT32);
    aigc_job_set_result(job, result, (GDestroyNotify)aigc_text_gen_result_free);

    g_autoptr(AigcTextSession) session = aigc_text_session_new(p->model);
    g_autoptr(AigcSampler) sampler = aigc_sampler_new(&p->sampler, V, result->seed);
    g_autoptr(AigcTokenDecoder) decoder = aigc_token_decoder_new(tok);
    g_autofree float *logits = g_new(float, V);
    GString *text = g_string_new(NULL);
    GString *piece = g_string_new(NULL);
    aigc_job_report_progress(job, 0, "reading the prompt");
    for (int i = 0; i < n_prompt; i++) {
        if (aigc_job_is_cancelled(job))
            goto out;
        aigc_text_session_feed(session, history[i], logits);
        aigc_sampler_observe(sampler, history[i]);
    }
    int n = n_prompt;
    gint64 t0 = g_get_monotonic_time();
    for (int k = 0; k < p->max_tokens; k++) {
        if (aigc_job_is_cancelled(job))
            break;
        /* Never write an unknown-character token. */
        if (unk >= 0)
            logits[unk] = -INFINITY;
        gint32 next = aigc_sampler_sample(sampler, logits);
        if (next == aigc_tokenizer_get_eos(tok))
            break; /* the model ended the document */
        history[n++] = next;
        aigc_sampler_observe(sampler, next);
        result->n_tokens++;
        g_string_truncate(piece, 0);
        aigc_token_decoder_push(decoder, next, piece);
        if (piece->len > 0) {
            g_string_append_len(text, piece->str, (gssize)piece->len);
            aigc_job_report_preview(job, aigc_preview_new_text(piece->str));
        }
        for (int s = 0; p->stop && p->stop[s]; s++) {
            if (*p->stop[s] && g_str_has_suffix(text->str, p->stop[s])) {
                g_string_truncate(text, text->len - strlen(p->stop[s]));
                result->stop_string = g_strdup(p->stop[s]);
                goto done;
            }
        }
        double elapsed = (g_get_monotonic_time() - t0) / 1e6;
        result->tokens_per_second = elapsed > 0 ? result->n_tokens / elapsed : 0;
        aigc_job_report_progress(job, (k + 1.0) / p->max_tokens, "writing");
        if (k + 1 == p->max_tokens)
            break;
        if (!aigc_text_session_feed(session, next, logits)) {
            int keep = MAX(1, ctx_len / 2);
            refeed(session, history + n - keep, keep, logits);
        }
    }
done:
    g_string_truncate(piece, 0);
    aigc_token_decoder_flush(decoder, piece);
    if (piece->len > 0 && !result->stop_string) {
        g_string_append_len(text, piece->str, (gssize)piece->len);
        aigc_job_report_preview(job, aigc_preview_new_text(piece->str));
    }
    {
        double elapsed = (g_get_monotonic_time() - t0) / 1e6;
        result->tokens_per_second = elapsed > 0 ? result->n_tokens / elapsed : 0;
    }
out:
    result->text = g_string_free(text, FALSE);
    g_string_free(piece, TRUE);
    return !aigc_job_is_cancelled(job);
}

AigcJob *aigc_text_generate_job_new(AigcTextModel *model, const AigcTextGenParams *params,
                                    GError **error)
{
    if (!params->prompt || !*params->prompt) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "the prompt is empty");
        return NULL;
    }
    if (params->max_tokens < 1 || params->max_tokens > 100000) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "max tokens must be 1 … 100000, not %d", params->max_tokens);
        return NULL;
    }
    if (!aigc_sampler_params_validate(&params->sampler, error))
        return NULL;
    Params *p = g_new0(Params, 1);
    p->model = aigc_text_model_ref(model);
    /* Invalid UTF-8 in the prompt is replaced, never fed raw. */
    p->prompt = g_utf8_make_valid(params->prompt, -1);
    p->max_tokens = params->max_tokens;
    p->seed = params->seed;
    p->sampler = params->sampler;
    p->stop = g_strdupv((char **)params->stop);
    return aigc_job_new("generate text", run, p, params_free);
}
