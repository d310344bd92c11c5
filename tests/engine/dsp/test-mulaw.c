/* SPDX-License-Identifier: MIT
 *
 * μ-law: exact levels for a grid of inputs and the 256 decoded values against the reference
 * formula (tests/reference/dsp_goldens.py), monotonic and symmetric levels, a round-trip error
 * within the neighbouring levels, and NaN and out-of-range input.
 */
#include "aigc-test-support.h"
#include "dsp/aigc-mulaw.h"

#include <math.h>

static AigcSafetensors *goldens;

static void test_encode_golden(void)
{
    gint64 n;
    const float *x = aigc_test_golden_data(goldens, "mulaw.x", &n);
    const AigcSafetensorsTensor *qt = aigc_safetensors_find(goldens, "mulaw.q");
    g_assert_nonnull(qt);
    g_assert_cmpint(qt->dtype, ==, AIGC_DTYPE_U8);
    g_assert_cmpint(qt->n_elements, ==, n);
    guint8 *q = g_new(guint8, n);
    aigc_mulaw_encode(x, n, q);
    for (gint64 i = 0; i < n; i++) {
        if (q[i] != qt->data[i])
            g_error("mu-law of %.9g is %u, expected %u", x[i], q[i], qt->data[i]);
        g_assert_cmpuint(aigc_mulaw_encode_one(x[i]), ==, q[i]);
    }
    g_free(q);
}

static void test_decode_golden(void)
{
    gint64 n;
    const float *want = aigc_test_golden_data(goldens, "mulaw.decoded", &n);
    g_assert_cmpint(n, ==, AIGC_MULAW_LEVELS);
    guint8 levels[AIGC_MULAW_LEVELS];
    float got[AIGC_MULAW_LEVELS];
    for (int q = 0; q < AIGC_MULAW_LEVELS; q++)
        levels[q] = (guint8)q;
    aigc_mulaw_decode(levels, n, got);
    for (int q = 0; q < AIGC_MULAW_LEVELS; q++) {
        g_assert_cmpfloat(got[q], ==, want[q]); /* both the float nearest the exact value */
        g_assert_cmpfloat(aigc_mulaw_decode_one((guint8)q), ==, got[q]);
    }
    g_assert_cmpfloat(got[0], ==, -1.0f);
    g_assert_cmpfloat(got[255], ==, 1.0f);
}

static void test_properties(void)
{
    /* Levels rise with x, the decoded values are antisymmetric around 127.5. */
    guint8 prev = 0;
    for (int i = -10000; i <= 10000; i++) {
        const guint8 q = aigc_mulaw_encode_one(i / 10000.0f);
        g_assert_cmpuint(q, >=, prev);
        prev = q;
    }
    for (int q = 0; q < 128; q++)
        g_assert_cmpfloat_with_epsilon(aigc_mulaw_decode_one((guint8)q),
                                       -aigc_mulaw_decode_one((guint8)(255 - q)), 1e-7);
    /* Re-encoding a decoded level gives the level back. */
    for (int q = 0; q < AIGC_MULAW_LEVELS; q++)
        g_assert_cmpuint(aigc_mulaw_encode_one(aigc_mulaw_decode_one((guint8)q)), ==, q);
    /* Round trip: x lies between the levels next to its own, so the error is below the wider
     * of the two gaps. */
    AigcRng rng;
    aigc_rng_init(&rng, 5);
    for (int i = 0; i < 10000; i++) {
        const float x = aigc_rng_uniform(&rng) * 2.0f - 1.0f;
        const guint8 q = aigc_mulaw_encode_one(x);
        const float lo = aigc_mulaw_decode_one(q > 0 ? q - 1 : 0);
        const float hi = aigc_mulaw_decode_one(q < 255 ? q + 1 : 255);
        const float mid = aigc_mulaw_decode_one(q);
        g_assert_cmpfloat(x, >=, lo);
        g_assert_cmpfloat(x, <=, hi);
        g_assert_cmpfloat(fabsf(mid - x), <=, MAX(hi - mid, mid - lo));
    }
}

static void test_special_input(void)
{
    g_assert_cmpuint(aigc_mulaw_encode_one(NAN), ==, 128);
    g_assert_cmpuint(aigc_mulaw_encode_one(0.0f), ==, 128);
    g_assert_cmpuint(aigc_mulaw_encode_one(-0.0f), ==, 128);
    g_assert_cmpuint(aigc_mulaw_encode_one(INFINITY), ==, 255);
    g_assert_cmpuint(aigc_mulaw_encode_one(-INFINITY), ==, 0);
    g_assert_cmpuint(aigc_mulaw_encode_one(7.0f), ==, 255);
    g_assert_cmpuint(aigc_mulaw_encode_one(-1.0f), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    goldens = aigc_test_open_golden("dsp");
    g_test_add_func("/engine/dsp/mulaw/encode-golden", test_encode_golden);
    g_test_add_func("/engine/dsp/mulaw/decode-golden", test_decode_golden);
    g_test_add_func("/engine/dsp/mulaw/properties", test_properties);
    g_test_add_func("/engine/dsp/mulaw/special-input", test_special_input);
    const int status = g_test_run();
    aigc_safetensors_free(goldens);
    return status;
}
