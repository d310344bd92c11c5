/* SPDX-License-Identifier: MIT
 *
 * `aigc eval image --model NAME` for a text-conditioned diffusion model (the emoji one): n emoji
 * names as prompts, one image each (DDIM, 50 steps, guidance 3 — the defaults of `aigc image` —
 * unless --sampler and --steps say otherwise),
 * judged by whether the named emoji is the nearest training emoji to the image (`name_top1`) or
 * among the five nearest (`name_top5`, the last line); see engine/image/aigc-prompt-eval.h.
 * Called by `aigc eval image` once it knows the model is a text model.
 */
#include "aigc-cli.h"

#include "image/aigc-prompt-eval.h"

#include <stdio.h>

typedef struct {
    AigcImageModel *model;
    AigcEmojiSet *set;
    gint64 n;
    guint64 seed;
    AigcSamplerKind sampler;
    int steps;
    AigcPromptEvalResult result;
} PromptEval;

static void prompt_eval_free(gpointer data)
{
    PromptEval *e = data;
    aigc_image_model_unref(e->model);
    aigc_emoji_set_free(e->set);
    g_free(e);
}

static gboolean run_prompt_eval(AigcJob *job, gpointer data, GError **error)
{
    PromptEval *e = data;
    gboolean ok =
        aigc_prompt_eval(e->model, e->set, e->n, e->seed, e->sampler, e->steps, 3.0f, job,
                         &e->result, error);
    if (!ok && error && *error &&
        g_error_matches(*error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED))
        g_clear_error(error); /* a cancel is not a failure */
    return ok;
}

int aigc_cli_eval_prompts(AigcImageModel *model, const char *data_path, gint64 n, gint64 seed,
                          AigcSamplerKind sampler, int steps)
{
    GError *error = NULL;
    g_autofree char *path = data_path ? g_strdup(data_path) : aigc_emoji_default_path();
    AigcEmojiSet *set = aigc_emoji_set_load(path, &error);
    if (!set) {
        g_prefix_error(&error, "(make it with data/image/prepare-emoji.py) ");
        int status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    PromptEval *e = g_new0(PromptEval, 1);
    e->model = aigc_image_model_ref(model);
    e->set = set;
    e->n = n > 0 ? MIN(n, set->n) : MIN(200, set->n);
    e->seed = (guint64)seed;
    e->sampler = sampler;
    e->steps = steps;
    g_autoptr(AigcJob) job = aigc_job_new("evaluate", run_prompt_eval, e, prompt_eval_free);
    int status = aigc_cli_run_job(job);
    if (status == AIGC_EXIT_OK)
        printf("model: %s\nfamily: %s\ndata: %s\nsampler: %s %d steps, guidance 3, seed "
               "%" G_GINT64_FORMAT "\nprompts: %" G_GINT64_FORMAT "\nemoji: %d\n"
               "nearest_distance: %.4f\nchance_category: %.4f\ncategory_nearest: %.4f\n"
               "chance_top5: %.4f\nname_top1: %.4f\nname_top5: %.4f\n",
               aigc_image_model_get_name(model), aigc_image_model_get_family(model), path,
               sampler == AIGC_SAMPLER_DDPM ? "DDPM" : "DDIM", steps, seed,
               e->result.n, set->n, e->result.nearest_distance, e->result.chance_category,
               e->result.category, e->result.chance5, e->result.top1, e->result.top5);
    return status;
}
