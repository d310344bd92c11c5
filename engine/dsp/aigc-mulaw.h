/* SPDX-License-Identifier: MIT
 *
 * μ-law companding with 256 levels (μ = 255), as WaveNet quantises audio and as
 * torchaudio.functional.mu_law_encoding / mu_law_decoding compute it:
 *     encode: y = sign(x)·ln(1 + μ|x|)/ln(1 + μ),  q = ⌊(y + 1)/2·μ + 0.5⌋     (q in 0 … 255)
 *     decode: y = 2q/μ − 1,  x = sign(y)·((1 + μ)^|y| − 1)/μ
 * Inputs are clipped to [−1, 1]; NaN encodes as silence (the level of 0, 128). Level 128 decodes
 * to 0.0039…, not 0: the 256 levels are symmetric around 127.5.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AIGC_MULAW_LEVELS 256

guint8 aigc_mulaw_encode_one(float x);
float aigc_mulaw_decode_one(guint8 q);

void aigc_mulaw_encode(const float *x, gint64 n, guint8 *q);
void aigc_mulaw_decode(const guint8 *q, gint64 n, float *x);

G_END_DECLS
