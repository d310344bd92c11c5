/* SPDX-License-Identifier: MIT
 *
 * "key=value" settings (see aigc-setting.h).
 */
#include "aigc-setting.h"

#include "aigc-error.h"

gboolean aigc_setting_parse_int(const char *key, const char *value, gint64 lo, gint64 hi,
                                gint64 *out, GError **error)
{
    char *end = NULL;
    gint64 v = g_ascii_strtoll(value, &end, 10);
    if (end == value || *end || v < lo || v > hi) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s must be an integer %" G_GINT64_FORMAT " … %" G_GINT64_FORMAT ", not “%s”",
                    key, lo, hi, value);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

gboolean aigc_setting_parse_float(const char *key, const char *value, double lo, double hi,
                                  float *out, GError **error)
{
    char *end = NULL;
    double v = g_ascii_strtod(value, &end);
    if (end == value || *end || !(v >= lo && v <= hi)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s must be a number %g … %g, not “%s”", key, lo, hi, value);
        return FALSE;
    }
    *out = (float)v;
    return TRUE;
}
