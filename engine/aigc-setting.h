/* SPDX-License-Identifier: MIT
 *
 * Parsing of "key=value" settings (`--set` on the command line) shared by every training job:
 * a number in a range, or an error that names the key, the range and the text given.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An integer lo … hi; FALSE + AIGC_ENGINE_ERROR_INVALID otherwise (*out untouched). */
gboolean aigc_setting_parse_int(const char *key, const char *value, gint64 lo, gint64 hi,
                                gint64 *out, GError **error);
/* A number lo … hi (NaN refused); FALSE + AIGC_ENGINE_ERROR_INVALID otherwise. */
gboolean aigc_setting_parse_float(const char *key, const char *value, double lo, double hi,
                                  float *out, GError **error);

G_END_DECLS
