/* SPDX-License-Identifier: MIT
 *
 * Choosing the next token from logits: repetition penalty, temperature, top-k, top-p (nucleus),
 * from a seeded RNG so a generation is reproducible from its seed. Temperature 0 is greedy.
 */
#pragma once

#include "tensor/aigc-rng.h"

G_BEGIN_DECLS

typedef struct {
    float temperature;        /* 0 = greedy (argmax); default 0.8 */
    int top_k;                /* 0 = off; default 40 */
    float top_p;              /* 1 = off; default 0.95 */
    float repetition_penalty; /* 1 = off; >1 discourages tokens in the recent window */
    int repetition_window;    /* how many recent tokens the penalty looks at; default 64 */
} AigcSamplerParams;

AigcSamplerParams aigc_sampler_default_params(void);
/* FALSE + error (AIGC_ENGINE_ERROR_INVALID) naming the first out-of-range value. */
gboolean aigc_sampler_params_validate(const AigcSamplerParams *params, GError **error);

typedef struct _AigcSampler AigcSampler;

/* (transfer full) For a vocabulary of vocab_size; the RNG is seeded with seed. */
AigcSampler *aigc_sampler_new(const AigcSamplerParams *params, int vocab_size, guint64 seed);
void aigc_sampler_free(AigcSampler *sampler);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcSampler, aigc_sampler_free)
/* Remembers a token as "recent" for the repetition penalty (prompt tokens too). */
void aigc_sampler_observe(AigcSampler *sampler, gint32 token);
/* Picks the next token; logits (vocab_size) are modified in place. Allocates nothing. */
gint32 aigc_sampler_sample(AigcSampler *sampler, float *logits);

G_END_DECLS
