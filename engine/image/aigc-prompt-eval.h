/* SPDX-License-Identifier: MIT
 *
 * Judging a text-conditioned image model (the emoji diffusion model) by whether it draws what it
 * is asked for. n emoji spread evenly over the set are named — each prompt is an emoji's name,
 * "red apple" — and one image is drawn for each; an image counts as drawn from its prompt when
 * the emoji of that name is among the k training emoji nearest to it, by the Euclidean distance
 * of their pixels (RGB in [0, 1] on white, at the model's size). Chance is k / N for a set of N
 * emoji. A looser measure: the nearest training emoji is of the named emoji's category (faces,
 * flags, food …; chance is the sum of the categories' squared shares). The mean distance to the
 * nearest training emoji says how close the images come to real emoji at all.
 *
 * This measures the text conditioning, the model's purpose here; it is not a measure of
 * novelty — a model that copies the named emoji exactly scores 1.
 */
#pragma once

#include "image/aigc-image-generate.h"
#include "io/aigc-emoji.h"

G_BEGIN_DECLS

typedef struct {
    gint64 n;          /* prompts judged */
    double top1, top5; /* fraction whose named emoji is the nearest / among the 5 nearest */
    double chance1, chance5;
    double category, chance_category; /* fraction whose nearest emoji shares the category */
    double nearest_distance; /* mean distance to the nearest training emoji (RMS per value) */
} AigcPromptEvalResult;

/* Draws n images (n ≤ the set's size) with `sampler` at `steps` and `guidance`, in batches of 16
 * (batch b from seed seed + b), reporting progress to `job` (nullable; cancel stops it with
 * AIGC_ENGINE_ERROR_CANCELLED). FALSE + AIGC_ENGINE_ERROR_INVALID when the model is not a
 * text-conditioned diffusion model of the set's size and colour. */
gboolean aigc_prompt_eval(AigcImageModel *model, const AigcEmojiSet *set, gint64 n, guint64 seed,
                          AigcSamplerKind sampler, int steps, float guidance, AigcJob *job,
                          AigcPromptEvalResult *result, GError **error);

G_END_DECLS
