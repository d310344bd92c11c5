/* SPDX-License-Identifier: MIT
 *
 * Form of classical Chinese verse (see aigc-verse.h).
 */
#include "text/aigc-verse.h"

#include <string.h>

static gboolean is_clause_break(gunichar c)
{
    return c == 0xFF0C /* ， */ || c == 0x3002 /* 。 */ || c == 0xFF1F /* ？ */ ||
           c == 0xFF01 /* ！ */ || c == 0xFF1B /* ； */ || c == 0xFF1A /* ： */ ||
           c == 0x3001 /* 、 */ || c == ',' || c == '.' || c == '?' || c == '!' || c == ';' ||
           c == ':';
}

gboolean aigc_verse_line_in_form(const char *line, gssize len)
{
    g_return_val_if_fail(line != NULL, FALSE);
    const char *p = line, *end = line + (len < 0 ? (gssize)strlen(line) : len);
    int clause = 0, want = 0, n_clauses = 0;
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        gsize step = 1;
        if (c != (gunichar)-1 && c != (gunichar)-2)
            step = (gsize)(g_utf8_next_char(p) - p);
        else
            c = 0xFFFD; /* an invalid byte is a character that fits no form */
        p += step;
        if (is_clause_break(c) || p >= end) {
            if (!is_clause_break(c)) {
                if (c == ' ' || c == '\t' || c == '\r')
                    ; /* trailing blank */
                else
                    clause++;
            }
            if (clause == 0)
                continue;
            if (want == 0)
                want = clause;
            if (clause != want || (want != 5 && want != 7))
                return FALSE;
            n_clauses++;
            clause = 0;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == 0x3000) {
            continue; /* spacing is not a character of the verse */
        } else {
            clause++;
        }
    }
    return n_clauses > 0;
}

static gboolean has_prefix_after_blanks(const char *s, const char *prefix)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return g_str_has_prefix(s, prefix);
}

void aigc_verse_score(const char *poem, int *n_lines, int *n_in_form)
{
    g_return_if_fail(poem != NULL && n_lines != NULL && n_in_form != NULL);
    *n_lines = *n_in_form = 0;
    gboolean body = FALSE;
    const char *p = poem;
    while (*p) {
        const char *nl = strchr(p, '\n');
        gsize len = nl ? (gsize)(nl - p) : strlen(p);
        g_autofree char *line = g_strstrip(g_strndup(p, len));
        p += len + (nl ? 1 : 0);
        if (!*line) {
            if (body)
                break;
            continue;
        }
        if (!body && (has_prefix_after_blanks(line, "《") || has_prefix_after_blanks(line, "作者")))
            continue;
        body = TRUE;
        (*n_lines)++;
        if (aigc_verse_line_in_form(line, -1))
            (*n_in_form)++;
    }
}
