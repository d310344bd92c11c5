/* SPDX-License-Identifier: MIT
 *
 * Resampling with libsamplerate's full API (src_new / src_process), fed the whole signal with
 * end_of_input set and drained until it produces nothing more, then cut or zero-padded to the
 * exact output length so callers can size buffers in advance.
 */
#include "aigc-resample.h"

#include "aigc-error.h"

#include <math.h>
#include <samplerate.h>
#include <string.h>

static gboolean rate_ok(int rate)
{
    return rate >= AIGC_SAMPLE_RATE_MIN && rate <= AIGC_SAMPLE_RATE_MAX;
}

gint64 aigc_resample_output_length(gint64 n_in, int rate_in, int rate_out)
{
    if (!rate_ok(rate_in) || !rate_ok(rate_out) || n_in <= 0)
        return 0;
    /* Exact integer rounding: (n·out + in/2) / in, with n·out < 2^63 for any sane n. */
    return (n_in * rate_out + rate_in / 2) / rate_in;
}

static int converter_type(AigcResampleQuality quality)
{
    switch (quality) {
    case AIGC_RESAMPLE_MEDIUM:
        return SRC_SINC_MEDIUM_QUALITY;
    case AIGC_RESAMPLE_FASTEST:
        return SRC_SINC_FASTEST;
    case AIGC_RESAMPLE_LINEAR:
        return SRC_LINEAR;
    case AIGC_RESAMPLE_HOLD:
        return SRC_ZERO_ORDER_HOLD;
    case AIGC_RESAMPLE_BEST:
    default:
        return SRC_SINC_BEST_QUALITY;
    }
}

float *aigc_resample(const float *in, gint64 n_in, int rate_in, int rate_out,
                     AigcResampleQuality quality, gint64 *n_out, GError **error)
{
    g_return_val_if_fail(n_out != NULL && n_in >= 0 && (in != NULL || n_in == 0), NULL);
    *n_out = 0;
    if (!rate_ok(rate_in) || !rate_ok(rate_out)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "cannot resample from %d Hz to %d Hz: rates must be between %d and %d Hz",
                    rate_in, rate_out, AIGC_SAMPLE_RATE_MIN, AIGC_SAMPLE_RATE_MAX);
        return NULL;
    }
    const gint64 want = aigc_resample_output_length(n_in, rate_in, rate_out);
    if (n_in == 0)
        return g_new0(float, 1);
    if (rate_in == rate_out) {
        *n_out = n_in;
        return g_memdup2(in, sizeof(float) * (gsize)n_in);
    }

    int err = 0;
    SRC_STATE *state = src_new(converter_type(quality), 1, &err);
    if (!state) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FAILED,
                    "libsamplerate could not start: %s", src_strerror(err));
        return NULL;
    }
    const double ratio = (double)rate_out / rate_in;
    const gint64 cap = want + 64; /* room for libsamplerate's rounding */
    float *out = g_new0(float, (gsize)cap);
    SRC_DATA d = {0};
    d.data_in = in;
    d.input_frames = (long)n_in;
    d.src_ratio = ratio;
    d.end_of_input = 1;
    gint64 n_done = 0;
    while (n_done < cap) {
        d.data_out = out + n_done;
        d.output_frames = (long)(cap - n_done);
        err = src_process(state, &d);
        if (err) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FAILED,
                        "libsamplerate failed from %d Hz to %d Hz: %s", rate_in, rate_out,
                        src_strerror(err));
            src_delete(state);
            g_free(out);
            return NULL;
        }
        n_done += d.output_frames_gen;
        d.data_in += d.input_frames_used;
        d.input_frames -= d.input_frames_used;
        if (d.output_frames_gen == 0 && d.input_frames == 0)
            break;
    }
    src_delete(state);
    /* Samples past n_done stay zero (g_new0); anything past `want` is dropped. */
    *n_out = want;
    return out;
}
