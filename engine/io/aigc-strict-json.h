/* SPDX-License-Identifier: MIT
 *
 * A small, strict JSON reader for untrusted headers (safetensors). Unlike general parsers it
 * rejects duplicate object keys, bounds nesting depth, keeps integers exact (int64, with overflow
 * detection) and reports the byte offset of every fault.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    AIGC_JSON_NULL,
    AIGC_JSON_BOOL,
    AIGC_JSON_NUMBER,
    AIGC_JSON_STRING,
    AIGC_JSON_ARRAY,
    AIGC_JSON_OBJECT,
} AigcJsonType;

typedef struct _AigcJsonValue AigcJsonValue;
struct _AigcJsonValue {
    AigcJsonType type;
    gboolean boolean;
    gboolean is_integer; /* a number written without fraction or exponent that fits int64 */
    gint64 integer;
    double number;
    char *string;            /* NUL-terminated UTF-8 (no embedded NUL accepted) */
    guint n_items;           /* arrays and objects */
    AigcJsonValue **items;   /* (n_items) */
    char **keys;             /* (n_items) objects only, in file order */
};

typedef struct _AigcJsonDoc AigcJsonDoc;

/* (transfer full) (nullable) Parses `text` of `length` bytes; whitespace may follow the value.
 * On error the message says what is wrong and at which byte. */
AigcJsonDoc *aigc_json_parse(const char *text, gsize length, GError **error);
void aigc_json_doc_free(AigcJsonDoc *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcJsonDoc, aigc_json_doc_free)

/* (transfer none) */
const AigcJsonValue *aigc_json_doc_get_root(AigcJsonDoc *doc);

/* (nullable) (transfer none) Member of an object by key. */
const AigcJsonValue *aigc_json_object_get(const AigcJsonValue *object, const char *key);

const char *aigc_json_type_name(AigcJsonType type);

/* The integer member `key` of `object`, lo … hi; otherwise FALSE + AIGC_ENGINE_ERROR_FORMAT
 * "WHAT: “KEY” is missing or not a whole number" (*out untouched). */
gboolean aigc_json_get_int(const AigcJsonValue *object, const char *what, const char *key,
                           gint64 lo, gint64 hi, int *out, GError **error);
/* The member `key` of `object`: an array of `n` finite numbers (|x| < 1e30); otherwise FALSE +
 * AIGC_ENGINE_ERROR_FORMAT "WHAT: “KEY” is missing or not N finite numbers". */
gboolean aigc_json_get_floats(const AigcJsonValue *object, const char *what, const char *key,
                              guint n, float *out, GError **error);

G_END_DECLS
