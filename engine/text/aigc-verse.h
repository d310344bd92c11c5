/* SPDX-License-Identifier: MIT
 *
 * Form of classical Chinese verse: does a generated poem keep the five- or seven-character
 * lines of Tang regulated verse? Used by `aigc eval verse` to judge poem models.
 *
 * A poem is read in the layout of the fortunes-zh `tang300` file: a title line 《…》, an
 * optional author line (作者：…), then one line per couplet, ending at a blank line. A body line
 * is split into clauses at Chinese punctuation (，。？！；：、 and their ASCII forms); the line
 * is in form when it has at least one clause and all its clauses have exactly five characters,
 * or all have exactly seven.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when one body line is made of 5-character clauses only or of 7-character clauses only.
 * Any UTF-8 is accepted (invalid bytes count as characters that break the form). */
gboolean aigc_verse_line_in_form(const char *line, gssize len);

/* Scores the body of `poem` (title and author lines skipped, stops at the first blank line
 * after the body has begun): *n_lines body lines, *n_in_form of them in form. */
void aigc_verse_score(const char *poem, int *n_lines, int *n_in_form);

G_END_DECLS
