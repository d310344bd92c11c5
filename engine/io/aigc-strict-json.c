/* SPDX-License-Identifier: MIT
 *
 * Recursive-descent JSON (RFC 8259) with a depth bound. All nodes and strings of one document are
 * allocated from a GStringChunk / pointer array owned by the document and freed together.
 */
#include "aigc-strict-json.h"

#include "aigc-error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct _AigcJsonDoc {
    GPtrArray *blocks; /* every allocation, freed with g_free */
    AigcJsonValue *root;
};

typedef struct {
    const char *text;
    gsize length;
    gsize pos;
    AigcJsonDoc *doc;
    GError **error;
} Parser;

static gpointer doc_alloc(AigcJsonDoc *doc, gsize size)
{
    gpointer p = g_malloc0(size);
    g_ptr_array_add(doc->blocks, p);
    return p;
}

static gboolean fail(Parser *p, const char *what)
{
    if (p->error && !*p->error)
        g_set_error(p->error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s at byte %" G_GSIZE_FORMAT,
                    what, p->pos);
    return FALSE;
}

static void skip_ws(Parser *p)
{
    while (p->pos < p->length) {
        char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static gboolean parse_value(Parser *p, AigcJsonValue *out, int depth);

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static gboolean read_hex4(Parser *p, gunichar *out)
{
    if (p->length - p->pos < 4)
        return fail(p, "truncated \\u escape");
    gunichar v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p->text[p->pos + i]);
        if (d < 0)
            return fail(p, "bad \\u escape");
        v = v * 16 + (gunichar)d;
    }
    p->pos += 4;
    *out = v;
    return TRUE;
}

/* Parses a string starting at the opening quote into a NUL-terminated, UTF-8-checked copy. */
static gboolean parse_string(Parser *p, char **out)
{
    p->pos++; /* opening quote */
    GString *s = g_string_new(NULL);
    for (;;) {
        if (p->pos >= p->length) {
            g_string_free(s, TRUE);
            return fail(p, "unterminated string");
        }
        unsigned char c = (unsigned char)p->text[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            g_string_free(s, TRUE);
            return fail(p, "control character in string");
        }
        if (c != '\\') {
            g_string_append_c(s, (char)c);
            p->pos++;
            continue;
        }
        p->pos++;
        if (p->pos >= p->length) {
            g_string_free(s, TRUE);
            return fail(p, "unterminated string");
        }
        char e = p->text[p->pos++];
        gunichar u;
        switch (e) {
        case '"': g_string_append_c(s, '"'); break;
        case '\\': g_string_append_c(s, '\\'); break;
        case '/': g_string_append_c(s, '/'); break;
        case 'b': g_string_append_c(s, '\b'); break;
        case 'f': g_string_append_c(s, '\f'); break;
        case 'n': g_string_append_c(s, '\n'); break;
        case 'r': g_string_append_c(s, '\r'); break;
        case 't': g_string_append_c(s, '\t'); break;
        case 'u':
            if (!read_hex4(p, &u)) {
                g_string_free(s, TRUE);
                return FALSE;
            }
            if (u >= 0xD800 && u <= 0xDBFF) {
                gunichar lo;
                if (p->length - p->pos < 2 || p->text[p->pos] != '\\' ||
                    p->text[p->pos + 1] != 'u') {
                    g_string_free(s, TRUE);
                    return fail(p, "unpaired surrogate in \\u escape");
                }
                p->pos += 2;
                if (!read_hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    g_string_free(s, TRUE);
                    return fail(p, "unpaired surrogate in \\u escape");
                }
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            } else if (u >= 0xDC00 && u <= 0xDFFF) {
                g_string_free(s, TRUE);
                return fail(p, "unpaired surrogate in \\u escape");
            }
            if (u == 0) {
                g_string_free(s, TRUE);
                return fail(p, "NUL character in string");
            }
            g_string_append_unichar(s, u);
            break;
        default:
            g_string_free(s, TRUE);
            return fail(p, "bad escape in string");
        }
    }
    if (!g_utf8_validate_len(s->str, s->len, NULL)) {
        g_string_free(s, TRUE);
        return fail(p, "string is not valid UTF-8");
    }
    char *copy = doc_alloc(p->doc, s->len + 1);
    memcpy(copy, s->str, s->len);
    g_string_free(s, TRUE);
    *out = copy;
    return TRUE;
}

static gboolean parse_number(Parser *p, AigcJsonValue *out)
{
    gsize start = p->pos;
    const char *t = p->text;
    gsize n = p->length;
    gboolean integral = TRUE;
    if (p->pos < n && t[p->pos] == '-')
        p->pos++;
    if (p->pos >= n || !g_ascii_isdigit(t[p->pos]))
        return fail(p, "bad number");
    if (t[p->pos] == '0') {
        p->pos++;
        if (p->pos < n && g_ascii_isdigit(t[p->pos]))
            return fail(p, "number with a leading zero");
    } else {
        while (p->pos < n && g_ascii_isdigit(t[p->pos]))
            p->pos++;
    }
    if (p->pos < n && t[p->pos] == '.') {
        integral = FALSE;
        p->pos++;
        if (p->pos >= n || !g_ascii_isdigit(t[p->pos]))
            return fail(p, "bad number");
        while (p->pos < n && g_ascii_isdigit(t[p->pos]))
            p->pos++;
    }
    if (p->pos < n && (t[p->pos] == 'e' || t[p->pos] == 'E')) {
        integral = FALSE;
        p->pos++;
        if (p->pos < n && (t[p->pos] == '+' || t[p->pos] == '-'))
            p->pos++;
        if (p->pos >= n || !g_ascii_isdigit(t[p->pos]))
            return fail(p, "bad number");
        while (p->pos < n && g_ascii_isdigit(t[p->pos]))
            p->pos++;
    }
    gsize len = p->pos - start;
    if (len > 64)
        return fail(p, "number too long");
    char buf[72];
    memcpy(buf, t + start, len);
    buf[len] = '\0';
    out->type = AIGC_JSON_NUMBER;
    out->number = g_ascii_strtod(buf, NULL);
    if (integral) {
        errno = 0;
        gint64 v = g_ascii_strtoll(buf, NULL, 10);
        if (errno == 0) {
            out->is_integer = TRUE;
            out->integer = v;
        }
    }
    return TRUE;
}

static gboolean expect_word(Parser *p, const char *word)
{
    gsize len = strlen(word);
    if (p->length - p->pos < len || memcmp(p->text + p->pos, word, len) != 0)
        return fail(p, "unexpected character");
    p->pos += len;
    return TRUE;
}

static gboolean parse_array(Parser *p, AigcJsonValue *out, int depth)
{
    p->pos++;
    out->type = AIGC_JSON_ARRAY;
    GPtrArray *items = g_ptr_array_new();
    skip_ws(p);
    if (p->pos < p->length && p->text[p->pos] == ']') {
        p->pos++;
        g_ptr_array_free(items, TRUE);
        return TRUE;
    }
    for (;;) {
        AigcJsonValue *item = doc_alloc(p->doc, sizeof *item);
        if (!parse_value(p, item, depth + 1)) {
            g_ptr_array_free(items, TRUE);
            return FALSE;
        }
        g_ptr_array_add(items, item);
        skip_ws(p);
        if (p->pos >= p->length) {
            g_ptr_array_free(items, TRUE);
            return fail(p, "unterminated array");
        }
        char c = p->text[p->pos++];
        if (c == ']')
            break;
        if (c != ',') {
            p->pos--;
            g_ptr_array_free(items, TRUE);
            return fail(p, "expected ',' or ']' in array");
        }
    }
    out->n_items = items->len;
    out->items = doc_alloc(p->doc, sizeof(gpointer) * items->len);
    if (items->len > 0)
        memcpy(out->items, items->pdata, sizeof(gpointer) * items->len);
    g_ptr_array_free(items, TRUE);
    return TRUE;
}

static gboolean parse_object(Parser *p, AigcJsonValue *out, int depth)
{
    p->pos++;
    out->type = AIGC_JSON_OBJECT;
    GPtrArray *keys = g_ptr_array_new();
    GPtrArray *vals = g_ptr_array_new();
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    gboolean ok = TRUE;
    skip_ws(p);
    if (p->pos < p->length && p->text[p->pos] == '}') {
        p->pos++;
        goto done;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->length || p->text[p->pos] != '"') {
            ok = fail(p, "expected a quoted key in object");
            goto done;
        }
        gsize key_pos = p->pos;
        char *key;
        if (!parse_string(p, &key)) {
            ok = FALSE;
            goto done;
        }
        if (!g_hash_table_add(seen, key)) {
            p->pos = key_pos;
            g_autofree char *what = g_strdup_printf("duplicate key “%s”", key);
            ok = fail(p, what);
            goto done;
        }
        skip_ws(p);
        if (p->pos >= p->length || p->text[p->pos] != ':') {
            ok = fail(p, "expected ':' after key");
            goto done;
        }
        p->pos++;
        AigcJsonValue *val = doc_alloc(p->doc, sizeof *val);
        if (!parse_value(p, val, depth + 1)) {
            ok = FALSE;
            goto done;
        }
        g_ptr_array_add(keys, key);
        g_ptr_array_add(vals, val);
        skip_ws(p);
        if (p->pos >= p->length) {
            ok = fail(p, "unterminated object");
            goto done;
        }
        char c = p->text[p->pos++];
        if (c == '}')
            break;
        if (c != ',') {
            p->pos--;
            ok = fail(p, "expected ',' or '}' in object");
            goto done;
        }
    }
done:
    if (ok) {
        out->n_items = vals->len;
        out->items = doc_alloc(p->doc, sizeof(gpointer) * vals->len + 1);
        out->keys = doc_alloc(p->doc, sizeof(gpointer) * keys->len + 1);
        if (vals->len > 0) {
            memcpy(out->items, vals->pdata, sizeof(gpointer) * vals->len);
            memcpy(out->keys, keys->pdata, sizeof(gpointer) * keys->len);
        }
    }
    g_hash_table_destroy(seen);
    g_ptr_array_free(keys, TRUE);
    g_ptr_array_free(vals, TRUE);
    return ok;
}

static gboolean parse_value(Parser *p, AigcJsonValue *out, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(p, "nesting deeper than 64 levels");
    skip_ws(p);
    if (p->pos >= p->length)
        return fail(p, "unexpected end of text");
    char c = p->text[p->pos];
    switch (c) {
    case '{':
        return parse_object(p, out, depth);
    case '[':
        return parse_array(p, out, depth);
    case '"':
        out->type = AIGC_JSON_STRING;
        return parse_string(p, &out->string);
    case 't':
        out->type = AIGC_JSON_BOOL;
        out->boolean = TRUE;
        return expect_word(p, "true");
    case 'f':
        out->type = AIGC_JSON_BOOL;
        return expect_word(p, "false");
    case 'n':
        out->type = AIGC_JSON_NULL;
        return expect_word(p, "null");
    default:
        if (c == '-' || g_ascii_isdigit(c))
            return parse_number(p, out);
        return fail(p, "unexpected character");
    }
}

AigcJsonDoc *aigc_json_parse(const char *text, gsize length, GError **error)
{
    AigcJsonDoc *doc = g_new0(AigcJsonDoc, 1);
    doc->blocks = g_ptr_array_new_with_free_func(g_free);
    Parser p = {.text = text, .length = length, .doc = doc, .error = error};
    doc->root = doc_alloc(doc, sizeof *doc->root);
    if (!parse_value(&p, doc->root, 0)) {
        aigc_json_doc_free(doc);
        return NULL;
    }
    skip_ws(&p);
    if (p.pos != length) {
        fail(&p, "text after the end of the value");
        aigc_json_doc_free(doc);
        return NULL;
    }
    return doc;
}

void aigc_json_doc_free(AigcJsonDoc *doc)
{
    if (!doc)
        return;
    g_ptr_array_free(doc->blocks, TRUE);
    g_free(doc);
}

const AigcJsonValue *aigc_json_doc_get_root(AigcJsonDoc *doc)
{
    return doc->root;
}

const AigcJsonValue *aigc_json_object_get(const AigcJsonValue *object, const char *key)
{
    if (!object || object->type != AIGC_JSON_OBJECT)
        return NULL;
    for (guint i = 0; i < object->n_items; i++)
        if (strcmp(object->keys[i], key) == 0)
            return object->items[i];
    return NULL;
}

const char *aigc_json_type_name(AigcJsonType type)
{
    static const char *names[] = {"null", "boolean", "number", "string", "array", "object"};
    return names[type];
}

gboolean aigc_json_get_int(const AigcJsonValue *object, const char *what, const char *key,
                           gint64 lo, gint64 hi, int *out, GError **error)
{
    const AigcJsonValue *v = aigc_json_object_get(object, key);
    if (!v || v->type != AIGC_JSON_NUMBER || !v->is_integer || v->integer < lo ||
        v->integer > hi || v->integer < G_MININT || v->integer > G_MAXINT) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: “%s” is missing or not a whole number", what, key);
        return FALSE;
    }
    *out = (int)v->integer;
    return TRUE;
}

gboolean aigc_json_get_floats(const AigcJsonValue *object, const char *what, const char *key,
                              guint n, float *out, GError **error)
{
    const AigcJsonValue *v = aigc_json_object_get(object, key);
    gboolean ok = v && v->type == AIGC_JSON_ARRAY && v->n_items == n;
    for (guint i = 0; ok && i < n; i++) {
        ok = v->items[i]->type == AIGC_JSON_NUMBER && isfinite(v->items[i]->number) &&
             fabs(v->items[i]->number) < 1e30;
        if (ok)
            out[i] = (float)v->items[i]->number;
    }
    if (!ok)
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: “%s” is missing or not %u finite numbers", what, key, n);
    return ok;
}
