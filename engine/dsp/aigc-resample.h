/* SPDX-License-Identifier: MIT
 *
 * Sample-rate conversion of mono float audio with libsamplerate (Secret Rabbit Code): band-
 * limited sinc interpolation, the best-quality converter by default (97 dB SNR, 97 % bandwidth),
 * faster sinc variants or linear / zero-order hold when speed matters more than quality.
 * The output has round(n_in · rate_out / rate_in) samples. The sinc converters are time-aligned
 * with the input (libsamplerate compensates their filter delay); linear and zero-order hold lag
 * by up to one input sample.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    AIGC_RESAMPLE_BEST,    /* SRC_SINC_BEST_QUALITY (default) */
    AIGC_RESAMPLE_MEDIUM,  /* SRC_SINC_MEDIUM_QUALITY */
    AIGC_RESAMPLE_FASTEST, /* SRC_SINC_FASTEST */
    AIGC_RESAMPLE_LINEAR,  /* SRC_LINEAR: no anti-aliasing, lags ≤ 1 input sample */
    AIGC_RESAMPLE_HOLD,    /* SRC_ZERO_ORDER_HOLD: no anti-aliasing, lags ≤ 1 input sample */
} AigcResampleQuality;

/* Rates the engine accepts anywhere: 1 kHz … 768 kHz. libsamplerate also limits the ratio of two
 * rates to 1/256 … 256, which this range keeps. */
#define AIGC_SAMPLE_RATE_MIN 1000
#define AIGC_SAMPLE_RATE_MAX 768000

/* round(n_in · rate_out / rate_in); 0 for invalid rates. */
gint64 aigc_resample_output_length(gint64 n_in, int rate_in, int rate_out);

/* (transfer full) (nullable) The resampled signal, n_out = aigc_resample_output_length samples
 * (a copy when the rates are equal). NULL + AIGC_ENGINE_ERROR_INVALID for a rate outside
 * AIGC_SAMPLE_RATE_MIN … MAX, AIGC_ENGINE_ERROR_FAILED if libsamplerate fails. */
float *aigc_resample(const float *in, gint64 n_in, int rate_in, int rate_out,
                     AigcResampleQuality quality, gint64 *n_out, GError **error);

G_END_DECLS
