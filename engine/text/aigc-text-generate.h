/* SPDX-License-Identifier: MIT
 *
 * Text generation as an engine job: the prompt is encoded, fed, and tokens are sampled one at a
 * time; each piece of text is streamed as an AIGC_PREVIEW_TEXT preview the moment it forms
 * complete UTF-8. Cancel stops within one token.
 */
#pragma once

#include "text/aigc-sampler.h"
#include "text/aigc-text-model.h"

G_BEGIN_DECLS

typedef struct {
    const char *prompt;
    int max_tokens;              /* 1 … 100,000 */
    gint64 seed;                 /* −1: a random seed, reported in the result */
    AigcSamplerParams sampler;
    const char *const *stop;     /* (nullable) NULL-terminated stop strings */
} AigcTextGenParams;

AigcTextGenParams aigc_text_gen_default_params(void);

typedef struct {
    char *text;               /* the generated text, without the prompt or a stop string */
    guint64 seed;             /* the seed used */
    int n_prompt_tokens;      /* after truncation */
    int n_tokens;             /* generated */
    double tokens_per_second;
    gboolean prompt_truncated; /* the prompt was longer than the context: its end was kept */
    char *stop_string;        /* (nullable) the stop string that ended it */
} AigcTextGenResult;

void aigc_text_gen_result_free(AigcTextGenResult *result);

/* (transfer full) (nullable) Checks the parameters (empty prompt, ranges) and makes the job; its
 * result (aigc_job_get_result) is an AigcTextGenResult. */
AigcJob *aigc_text_generate_job_new(AigcTextModel *model, const AigcTextGenParams *params,
                                    GError **error);

G_END_DECLS
