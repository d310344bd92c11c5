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

/* ---- settings described by a table ---- */

typedef enum {
    AIGC_SETTING_INT,   /* int */
    AIGC_SETTING_INT64, /* gint64 */
    AIGC_SETTING_SEED,  /* guint64, 0 … G_MAXINT64 */
    AIGC_SETTING_BOOL,  /* gboolean, written 0 or 1 */
    AIGC_SETTING_FLOAT, /* float */
} AigcSettingKind;

typedef struct {
    const char *key;
    AigcSettingKind kind;
    gsize offset; /* of the field in the struct the table describes */
    double lo, hi;
} AigcSettingField;

#define AIGC_SETTING(Type, key, member, kind, lo, hi)                                              \
    { key, AIGC_SETTING_##kind, G_STRUCT_OFFSET(Type, member), lo, hi }

/* Sets the field of `base` that the table names `key` from `value`, in its range. *found is
 * FALSE (and nothing happens) when the table has no such key. */
gboolean aigc_setting_set_field(gpointer base, const AigcSettingField *fields, guint n_fields,
                                const char *key, const char *value, gboolean *found,
                                GError **error);

/* Reads every AIGC_SETTING_INT field of the table from the JSON object `json` (a model's
 * config in a file); a member that is missing or not an integer is an AIGC_ENGINE_ERROR_FORMAT
 * naming `what` and the key. Values outside int become −1, for the config's own validation. */
gboolean aigc_setting_ints_from_json(gpointer base, const AigcSettingField *fields,
                                     guint n_fields, const char *what, const char *json,
                                     GError **error);

G_END_DECLS
