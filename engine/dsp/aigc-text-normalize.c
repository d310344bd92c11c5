/* SPDX-License-Identifier: MIT
 *
 * Text normalisation for speech (rules in the header).
 *
 * One left-to-right pass over valid UTF-8 emits words and pause marks separated by spaces into
 * a scratch string; a second pass joins them, drops marks with nothing before them and keeps
 * the strongest of adjacent marks. Context the rules need (was the previous word capitalised,
 * is this the start of a sentence) is carried in the scanner.
 */
#include "aigc-text-normalize.h"

#include <string.h>

/* ---- numbers ---- */

static const char *const ones[] = {"zero",    "one",     "two",       "three",    "four",
                                   "five",    "six",     "seven",     "eight",    "nine",
                                   "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                   "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *const tens[] = {"",      "",      "twenty",  "thirty", "forty",
                                   "fifty", "sixty", "seventy", "eighty", "ninety"};

static void append_sep(GString *out)
{
    if (out->len > 0 && out->str[out->len - 1] != ' ')
        g_string_append_c(out, ' ');
}

/* 1 … 999 */
static void append_below_1000(GString *out, int n)
{
    if (n >= 100) {
        append_sep(out);
        g_string_append_printf(out, "%s hundred", ones[n / 100]);
        n %= 100;
    }
    if (n == 0)
        return;
    append_sep(out);
    if (n >= 20) {
        g_string_append(out, tens[n / 10]);
        if (n % 10)
            g_string_append_printf(out, "-%s", ones[n % 10]);
    } else {
        g_string_append(out, ones[n]);
    }
}

void aigc_text_append_cardinal(GString *out, guint64 n)
{
    static const char *const scales[] = {"trillion", "billion", "million", "thousand", ""};
    static const guint64 sizes[] = {G_GUINT64_CONSTANT(1000000000000), 1000000000, 1000000,
                                    1000, 1};
    g_return_if_fail(n < G_GUINT64_CONSTANT(1000000000000000));
    if (n == 0) {
        append_sep(out);
        g_string_append(out, "zero");
        return;
    }
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        const int chunk = (int)(n / sizes[i]);
        n %= sizes[i];
        if (chunk == 0)
            continue;
        append_below_1000(out, chunk);
        if (*scales[i])
            g_string_append_printf(out, " %s", scales[i]);
    }
}

static void append_digits(GString *out, const char *digits, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        append_sep(out);
        g_string_append(out, ones[digits[i] - '0']);
    }
}

static gboolean is_year(const char *digits, gsize n)
{
    if (n != 4 || digits[0] == '0')
        return FALSE;
    const int y = atoi(digits);
    return (y >= 1000 && y <= 1999 && y % 1000 != 0) || (y >= 2010 && y <= 2099);
}

/* "1984" → "nineteen eighty-four", "1905" → "nineteen oh five", "1900" → "nineteen hundred". */
static void append_year(GString *out, int y)
{
    append_below_1000(out, y / 100);
    const int lo = y % 100;
    if (lo == 0) {
        g_string_append(out, " hundred");
    } else if (lo < 10) {
        g_string_append_printf(out, " oh %s", ones[lo]);
    } else {
        append_below_1000(out, lo);
    }
}

/* An integer written with `n` digits: digit by digit with a leading zero or 16+ digits. */
static void append_integer(GString *out, const char *digits, gsize n, gboolean as_year)
{
    if (n == 0)
        return;
    if ((n > 1 && digits[0] == '0') || n > 15) {
        append_digits(out, digits, n);
        return;
    }
    if (as_year && is_year(digits, n)) {
        append_year(out, atoi(digits));
        return;
    }
    aigc_text_append_cardinal(out, g_ascii_strtoull(digits, NULL, 10));
}

/* Rewrites the last word of out (after the last space or hyphen) with a suffix rule. */
static void last_word_to_ordinal(GString *out)
{
    static const struct {
        const char *card, *ord;
    } irregular[] = {{"one", "first"},   {"two", "second"}, {"three", "third"},
                     {"five", "fifth"},  {"eight", "eighth"}, {"nine", "ninth"},
                     {"twelve", "twelfth"}};
    gsize start = out->len;
    while (start > 0 && out->str[start - 1] != ' ' && out->str[start - 1] != '-')
        start--;
    const char *w = out->str + start;
    for (guint i = 0; i < G_N_ELEMENTS(irregular); i++) {
        if (strcmp(w, irregular[i].card) == 0) {
            g_string_truncate(out, start);
            g_string_append(out, irregular[i].ord);
            return;
        }
    }
    if (out->len > start && out->str[out->len - 1] == 'y') {
        g_string_truncate(out, out->len - 1);
        g_string_append(out, "ieth");
    } else {
        g_string_append(out, "th");
    }
}

static void last_word_to_plural(GString *out)
{
    if (out->len == 0)
        return;
    const char last = out->str[out->len - 1];
    if (last == 'y') {
        g_string_truncate(out, out->len - 1);
        g_string_append(out, "ies");
    } else if (last == 'x' || last == 's') {
        g_string_append(out, "es");
    } else {
        g_string_append_c(out, 's');
    }
}

/* ---- the scanner ---- */

typedef struct {
    const char *s;           /* valid UTF-8 */
    gsize n;                 /* bytes */
    GString *out;            /* words and marks separated by spaces */
    gboolean sentence_start; /* nothing but marks since the last sentence end */
    gboolean prev_capital;   /* the previous word began with a capital letter */
    gboolean prev_initial;   /* … and was the first word of its sentence */
} Scanner;

static gunichar peek(const Scanner *sc, gsize at)
{
    return at < sc->n ? g_utf8_get_char(sc->s + at) : 0;
}

static gsize next(const Scanner *sc, gsize at)
{
    return at < sc->n ? (gsize)(g_utf8_next_char(sc->s + at) - sc->s) : sc->n;
}

static gboolean is_digit(gunichar c)
{
    return c >= '0' && c <= '9';
}

static gboolean is_letter(gunichar c)
{
    return c != 0 && g_unichar_isalpha(c);
}

static void emit(Scanner *sc, const char *words)
{
    append_sep(sc->out);
    g_string_append(sc->out, words);
    g_string_append_c(sc->out, ' ');
    sc->sentence_start = FALSE;
}

static void emit_mark(Scanner *sc, const char *mark)
{
    append_sep(sc->out);
    g_string_append(sc->out, mark);
    g_string_append_c(sc->out, ' ');
    if (strcmp(mark, ".") == 0 || strcmp(mark, "!") == 0 || strcmp(mark, "?") == 0 ||
        strcmp(mark, "…") == 0)
        sc->sentence_start = TRUE;
    sc->prev_capital = FALSE;
}

/* Index just past the spaces (not newlines' meaning, just whitespace) from `at`. */
static gsize skip_spaces(const Scanner *sc, gsize at)
{
    while (at < sc->n && g_unichar_isspace(peek(sc, at)))
        at = next(sc, at);
    return at;
}

/* Does a capitalised word follow `at` after at least one space? */
static gboolean capital_follows(const Scanner *sc, gsize at)
{
    const gsize j = skip_spaces(sc, at);
    return j > at && g_unichar_isupper(peek(sc, j));
}

/* Is `at` the end of the text, or only whitespace up to it? */
static gboolean at_end(const Scanner *sc, gsize at)
{
    return skip_spaces(sc, at) >= sc->n;
}

/* Reads the letters of a word at `at` into `word` (lower-cased ASCII copy in `lower`); returns
 * the index past it. */
static gsize read_alpha(const Scanner *sc, gsize at, char *lower, gsize cap)
{
    gsize j = at, k = 0;
    while (j < sc->n && is_letter(peek(sc, j))) {
        const gunichar c = peek(sc, j);
        if (k + 1 < cap)
            lower[k++] = c < 128 ? (char)g_ascii_tolower((char)c) : '?';
        j = next(sc, j);
    }
    lower[k] = '\0';
    return j;
}

/* ---- numbers in context ---- */

typedef struct {
    GString *int_digits; /* without separators */
    GString *frac_digits;
    gboolean grouped;    /* written with thousands separators */
    gboolean has_frac;
    gsize end;
} Number;

static void number_clear(Number *num)
{
    g_string_free(num->int_digits, TRUE);
    g_string_free(num->frac_digits, TRUE);
}

/* Parses [digits with ,ddd groups][.digits] at `at` (which holds a digit, or '.' + digit). */
static Number parse_number(const Scanner *sc, gsize at)
{
    Number num = {g_string_new(NULL), g_string_new(NULL), FALSE, FALSE, at};
    gsize j = at;
    while (j < sc->n && is_digit(peek(sc, j))) {
        g_string_append_c(num.int_digits, sc->s[j]);
        j++;
    }
    /* Thousands groups only after a first group of 1–3 digits: ",ddd" not followed by a digit. */
    if (num.int_digits->len >= 1 && num.int_digits->len <= 3) {
        while (peek(sc, j) == ',' && is_digit(peek(sc, j + 1)) && is_digit(peek(sc, j + 2)) &&
               is_digit(peek(sc, j + 3)) && !is_digit(peek(sc, j + 4))) {
            g_string_append_len(num.int_digits, sc->s + j + 1, 3);
            num.grouped = TRUE;
            j += 4;
        }
    }
    if (peek(sc, j) == '.' && is_digit(peek(sc, j + 1))) {
        num.has_frac = TRUE;
        j++;
        while (j < sc->n && is_digit(peek(sc, j))) {
            g_string_append_c(num.frac_digits, sc->s[j]);
            j++;
        }
    }
    num.end = j;
    return num;
}

static void append_number(GString *out, const Number *num, gboolean as_year)
{
    if (num->int_digits->len > 0)
        append_integer(out, num->int_digits->str, num->int_digits->len,
                       as_year && !num->grouped && !num->has_frac);
    else if (num->has_frac)
        append_sep(out); /* ".5": "point five" */
    if (num->has_frac) {
        append_sep(out);
        g_string_append(out, "point");
        append_digits(out, num->frac_digits->str, num->frac_digits->len);
    }
}

typedef struct {
    gunichar symbol;
    const char *one, *many, *sub_one, *sub_many;
} Currency;

static const Currency currencies[] = {
    {'$', "dollar", "dollars", "cent", "cents"},
    {0x00A3, "pound", "pounds", "penny", "pence"},
    {0x20AC, "euro", "euros", "cent", "cents"},
    {0x00A5, "yen", "yen", "sen", "sen"},
};

static const Currency *find_currency(gunichar c)
{
    for (guint i = 0; i < G_N_ELEMENTS(currencies); i++)
        if (currencies[i].symbol == c)
            return &currencies[i];
    return NULL;
}

static gboolean is_one(const GString *digits)
{
    return digits->len == 1 && digits->str[0] == '1';
}

/* A currency amount whose number starts at `at`; returns the index past what was read. */
static gsize scan_money(Scanner *sc, const Currency *cur, gsize at)
{
    Number num = parse_number(sc, at);
    gsize end = num.end;
    GString *w = g_string_new(NULL);
    /* "$2 million", "$1.5 billion" */
    static const char *const scale_words[] = {"thousand", "million", "billion", "trillion"};
    const gsize ws = skip_spaces(sc, end);
    char word[16];
    const gsize we = ws > end ? read_alpha(sc, ws, word, sizeof word) : ws;
    const char *scale = NULL;
    for (guint i = 0; i < G_N_ELEMENTS(scale_words) && we > ws; i++)
        if (strcmp(word, scale_words[i]) == 0)
            scale = scale_words[i];
    if (scale) {
        append_number(w, &num, FALSE);
        g_string_append_printf(w, " %s %s", scale, cur->many);
        end = we;
    } else if (num.has_frac && num.frac_digits->len == 2) {
        const int cents = atoi(num.frac_digits->str);
        const guint64 units = num.int_digits->len && num.int_digits->len <= 15
                                  ? g_ascii_strtoull(num.int_digits->str, NULL, 10)
                                  : 0;
        if (units > 0 || num.int_digits->len > 15) {
            append_integer(w, num.int_digits->str, num.int_digits->len, FALSE);
            g_string_append_printf(w, " %s", is_one(num.int_digits) ? cur->one : cur->many);
            if (cents > 0)
                g_string_append(w, " and");
        }
        if (cents > 0 || units == 0) {
            aigc_text_append_cardinal(w, (guint64)cents);
            g_string_append_printf(w, " %s", cents == 1 ? cur->sub_one : cur->sub_many);
        }
    } else {
        append_number(w, &num, FALSE);
        const gboolean singular = !num.has_frac && is_one(num.int_digits);
        g_string_append_printf(w, " %s", singular ? cur->one : cur->many);
    }
    emit(sc, w->str);
    g_string_free(w, TRUE);
    number_clear(&num);
    return end;
}

/* "am"/"pm" (or "a.m."/"p.m.") right after a time or hour; returns the index past it or `at`.
 * A final period that also ends the sentence ("at 10 a.m. Then …") is kept as one. */
static gsize scan_meridiem(Scanner *sc, gsize at)
{
    const gsize j = skip_spaces(sc, at);
    const gunichar a = g_unichar_tolower(peek(sc, j));
    if (a != 'a' && a != 'p')
        return at;
    gsize k = next(sc, j);
    if (peek(sc, k) == '.')
        k++;
    if (g_unichar_tolower(peek(sc, k)) != 'm')
        return at;
    k = next(sc, k);
    gboolean period = FALSE;
    if (peek(sc, k) == '.' && peek(sc, k + 1) != '.') {
        period = TRUE;
        k++;
    }
    if (is_letter(peek(sc, k)))
        return at;
    emit(sc, a == 'a' ? "a m" : "p m");
    if (period && (at_end(sc, k) || capital_follows(sc, k)))
        emit_mark(sc, ".");
    return k;
}

/* A number at `at` (a digit, or '.' before a digit); returns the index past it. */
static gsize scan_number(Scanner *sc, gsize at)
{
    Number num = parse_number(sc, at);
    gsize end = num.end;
    GString *w = g_string_new(NULL);
    const gsize n_int = num.int_digits->len;
    /* Times: h:mm, h = 0 … 23 written with 1–2 digits. */
    if (!num.grouped && !num.has_frac && n_int >= 1 && n_int <= 2 && peek(sc, end) == ':' &&
        is_digit(peek(sc, end + 1)) && is_digit(peek(sc, end + 2)) &&
        !is_digit(peek(sc, end + 3)) && atoi(num.int_digits->str) < 24 &&
        (sc->s[end + 1] - '0') < 6) {
        const int minutes = (sc->s[end + 1] - '0') * 10 + (sc->s[end + 2] - '0');
        append_integer(w, num.int_digits->str, n_int, FALSE);
        if (minutes == 0)
            g_string_append(w, " o'clock");
        else if (minutes < 10)
            g_string_append_printf(w, " oh %s", ones[minutes]);
        else
            append_below_1000(w, minutes);
        emit(sc, w->str);
        end = scan_meridiem(sc, end + 3);
        goto done;
    }
    char suffix[8];
    const gsize suffix_end = read_alpha(sc, end, suffix, sizeof suffix);
    const gboolean integer = n_int > 0 && !num.has_frac;
    if (integer && suffix_end > end &&
        (strcmp(suffix, "st") == 0 || strcmp(suffix, "nd") == 0 || strcmp(suffix, "rd") == 0 ||
         strcmp(suffix, "th") == 0)) {
        append_integer(w, num.int_digits->str, n_int, FALSE);
        last_word_to_ordinal(w);
        emit(sc, w->str);
        end = suffix_end;
        goto done;
    }
    if (integer && !num.grouped &&
        ((suffix_end == end + 1 && strcmp(suffix, "s") == 0) ||
         ((peek(sc, end) == '\'' || peek(sc, end) == 0x2019) && peek(sc, next(sc, end)) == 's' &&
          !is_letter(peek(sc, next(sc, end) + 1))))) {
        /* "1990s", "90's" */
        append_integer(w, num.int_digits->str, n_int, TRUE);
        last_word_to_plural(w);
        emit(sc, w->str);
        end = suffix_end == end + 1 ? suffix_end : next(sc, end) + 1;
        goto done;
    }
    append_number(w, &num, TRUE);
    if (peek(sc, end) == '%') {
        g_string_append(w, " percent");
        end++;
    }
    emit(sc, w->str);
    if (integer && n_int <= 2 && atoi(num.int_digits->str) <= 12)
        end = scan_meridiem(sc, end);
    /* Ranges with an en dash: "1990–1995" → "… to …". */
    if (peek(sc, end) == 0x2013 && is_digit(peek(sc, next(sc, end)))) {
        emit(sc, "to");
        end = next(sc, end);
    }
done:
    g_string_free(w, TRUE);
    number_clear(&num);
    sc->prev_capital = FALSE;
    return end;
}

/* ---- words and abbreviations ---- */

typedef enum {
    ABBR_TITLE, /* stands before a name: its period never ends a sentence */
    ABBR_OTHER, /* its period also ends the sentence when a capital or the end follows */
} AbbrKind;

static const struct {
    const char *abbr; /* lower case, without the period */
    const char *expansion;
    AbbrKind kind;
    gboolean capital; /* only when written with a capital ("Sat.", not "sat.") */
} abbreviations[] = {
    {"mr", "Mister", ABBR_TITLE, TRUE},
    {"mrs", "Missus", ABBR_TITLE, TRUE},
    {"ms", "Miz", ABBR_TITLE, TRUE},
    {"messrs", "Messieurs", ABBR_TITLE, TRUE},
    {"prof", "Professor", ABBR_TITLE, TRUE},
    {"mt", "Mount", ABBR_TITLE, TRUE},
    {"capt", "Captain", ABBR_TITLE, TRUE},
    {"gen", "General", ABBR_TITLE, TRUE},
    {"lt", "Lieutenant", ABBR_TITLE, TRUE},
    {"col", "Colonel", ABBR_TITLE, TRUE},
    {"sgt", "Sergeant", ABBR_TITLE, TRUE},
    {"cpl", "Corporal", ABBR_TITLE, TRUE},
    {"maj", "Major", ABBR_TITLE, TRUE},
    {"adm", "Admiral", ABBR_TITLE, TRUE},
    {"rev", "Reverend", ABBR_TITLE, TRUE},
    {"gov", "Governor", ABBR_TITLE, TRUE},
    {"sen", "Senator", ABBR_TITLE, TRUE},
    {"rep", "Representative", ABBR_TITLE, TRUE},
    {"pres", "President", ABBR_TITLE, TRUE},
    {"hon", "Honorable", ABBR_TITLE, TRUE},
    {"fr", "Father", ABBR_TITLE, TRUE},
    {"supt", "Superintendent", ABBR_TITLE, TRUE},
    {"jr", "Junior", ABBR_OTHER, TRUE},
    {"sr", "Senior", ABBR_OTHER, TRUE},
    {"inc", "Incorporated", ABBR_OTHER, TRUE},
    {"ltd", "Limited", ABBR_OTHER, TRUE},
    {"co", "Company", ABBR_OTHER, TRUE},
    {"corp", "Corporation", ABBR_OTHER, TRUE},
    {"ave", "Avenue", ABBR_OTHER, TRUE},
    {"blvd", "Boulevard", ABBR_OTHER, TRUE},
    {"rd", "Road", ABBR_OTHER, TRUE},
    {"ln", "Lane", ABBR_OTHER, TRUE},
    {"dept", "Department", ABBR_OTHER, TRUE},
    {"univ", "University", ABBR_OTHER, TRUE},
    {"bros", "Brothers", ABBR_OTHER, TRUE},
    {"jan", "January", ABBR_OTHER, TRUE},
    {"feb", "February", ABBR_OTHER, TRUE},
    {"mar", "March", ABBR_OTHER, TRUE},
    {"apr", "April", ABBR_OTHER, TRUE},
    {"jun", "June", ABBR_OTHER, TRUE},
    {"jul", "July", ABBR_OTHER, TRUE},
    {"aug", "August", ABBR_OTHER, TRUE},
    {"sep", "September", ABBR_OTHER, TRUE},
    {"sept", "September", ABBR_OTHER, TRUE},
    {"oct", "October", ABBR_OTHER, TRUE},
    {"nov", "November", ABBR_OTHER, TRUE},
    {"dec", "December", ABBR_OTHER, TRUE},
    {"mon", "Monday", ABBR_OTHER, TRUE},
    {"tue", "Tuesday", ABBR_OTHER, TRUE},
    {"tues", "Tuesday", ABBR_OTHER, TRUE},
    {"wed", "Wednesday", ABBR_OTHER, TRUE},
    {"thu", "Thursday", ABBR_OTHER, TRUE},
    {"thurs", "Thursday", ABBR_OTHER, TRUE},
    {"fri", "Friday", ABBR_OTHER, TRUE},
    {"sat", "Saturday", ABBR_OTHER, TRUE},
    {"etc", "et cetera", ABBR_OTHER, FALSE},
    {"vs", "versus", ABBR_OTHER, FALSE},
    {"approx", "approximately", ABBR_OTHER, FALSE},
    {"ft", "feet", ABBR_OTHER, FALSE},
    {"lbs", "pounds", ABBR_OTHER, FALSE},
    {"oz", "ounces", ABBR_OTHER, FALSE},
    {"fig", "figure", ABBR_OTHER, FALSE},
    {"vol", "volume", ABBR_OTHER, FALSE},
    {"min", "minutes", ABBR_OTHER, FALSE},
};


/* Emits an abbreviation's expansion, and a sentence end when its period is also one. */
static void emit_abbreviation(Scanner *sc, const char *expansion, AbbrKind kind, gsize after)
{
    emit(sc, expansion);
    if (kind == ABBR_OTHER && (at_end(sc, after) || capital_follows(sc, after)))
        emit_mark(sc, ".");
}

/* Dotted forms "e.g.", "U.S.", "a.m.": single letters each followed by a period. Returns the
 * index past them, or `at` when the text there is not one. */
static gsize scan_dotted(Scanner *sc, gsize at)
{
    GString *letters = g_string_new(NULL);
    gsize j = at;
    int n = 0;
    while (is_letter(peek(sc, j)) && peek(sc, next(sc, j)) == '.') {
        const gsize dot = next(sc, j);
        append_sep(letters);
        g_string_append_len(letters, sc->s + j, (gssize)(dot - j));
        n++;
        j = dot + 1;
    }
    if (n < 2) {
        g_string_free(letters, TRUE);
        return at;
    }
    g_autofree char *lower = g_utf8_strdown(letters->str, -1);
    if (strcmp(lower, "e g") == 0) {
        emit(sc, "for example");
    } else if (strcmp(lower, "i e") == 0) {
        emit(sc, "that is");
    } else if (strcmp(lower, "a m") == 0 || strcmp(lower, "p m") == 0) {
        emit(sc, lower);
        if (at_end(sc, j) || capital_follows(sc, j))
            emit_mark(sc, ".");
    } else {
        emit(sc, letters->str);
    }
    g_string_free(letters, TRUE);
    sc->prev_capital = FALSE;
    return j;
}

/* A word starting at `at` (a letter); returns the index past it. */
static gsize scan_word(Scanner *sc, gsize at)
{
    const gsize dotted = scan_dotted(sc, at);
    if (dotted != at)
        return dotted;
    /* Letters and marks, with apostrophes inside ("don't", "O’Brien"). */
    gsize j = at;
    for (;;) {
        const gunichar c = peek(sc, j);
        if (is_letter(c) || (c != 0 && g_unichar_ismark(c))) {
            j = next(sc, j);
        } else if ((c == '\'' || c == 0x2019) && is_letter(peek(sc, next(sc, j)))) {
            j = next(sc, j);
        } else {
            break;
        }
    }
    g_autofree char *word = g_strndup(sc->s + at, j - at);
    g_autofree char *lower = g_utf8_strdown(word, -1);
    const gboolean capital = g_unichar_isupper(peek(sc, at));
    const gboolean initial = sc->sentence_start;
    const gboolean has_period = peek(sc, j) == '.' && peek(sc, j + 1) != '.';

    /* Context-dependent titles, with or without their period. */
    const gboolean title_dr = strcmp(lower, "dr") == 0;
    const gboolean title_st = strcmp(lower, "st") == 0;
    const gsize after = has_period ? j + 1 : j;
    if (capital &&
        (title_dr || title_st || !strcmp(lower, "mr") || !strcmp(lower, "mrs") ||
         !strcmp(lower, "ms")) &&
        (has_period || capital_follows(sc, j))) {
        const gboolean street_side = sc->prev_capital && !sc->prev_initial;
        const gboolean name_follows = capital_follows(sc, after);
        const char *expansion = NULL;
        AbbrKind kind = ABBR_TITLE;
        if (title_dr) {
            /* "Mulholland Dr. is": a capitalised word before and none after is a road. */
            const gboolean drive = !name_follows && sc->prev_capital;
            expansion = drive ? "Drive" : "Doctor";
            kind = drive ? ABBR_OTHER : ABBR_TITLE;
        } else if (title_st) {
            expansion = street_side || !name_follows ? "Street" : "Saint";
            kind = street_side || !name_follows ? ABBR_OTHER : ABBR_TITLE;
        } else {
            expansion = !strcmp(lower, "mr") ? "Mister" : !strcmp(lower, "mrs") ? "Missus" : "Miz";
        }
        emit_abbreviation(sc, expansion, kind, after);
        sc->prev_capital = TRUE;
        sc->prev_initial = FALSE;
        return after;
    }
    if (has_period) {
        /* "No. 5" → "number five" (but "I said no." stays). */
        if (strcmp(lower, "no") == 0 && is_digit(peek(sc, skip_spaces(sc, j + 1)))) {
            emit(sc, "number");
            return j + 1;
        }
        for (guint i = 0; i < G_N_ELEMENTS(abbreviations); i++) {
            if (strcmp(lower, abbreviations[i].abbr) == 0 &&
                (capital || !abbreviations[i].capital)) {
                emit_abbreviation(sc, abbreviations[i].expansion, abbreviations[i].kind, j + 1);
                sc->prev_capital = abbreviations[i].kind == ABBR_TITLE;
                sc->prev_initial = FALSE;
                return j + 1;
            }
        }
        /* A capital initial before a capitalised word: "J. Smith". */
        if (j == next(sc, at) && capital && capital_follows(sc, j + 1)) {
            emit(sc, word);
            sc->prev_capital = TRUE;
            sc->prev_initial = FALSE;
            return j + 1;
        }
    }
    emit(sc, word);
    sc->prev_capital = capital;
    sc->prev_initial = initial;
    return j;
}

/* ---- punctuation, symbols, whitespace ---- */

static gsize scan_space(Scanner *sc, gsize at)
{
    int newlines = 0;
    gsize j = at;
    while (j < sc->n && g_unichar_isspace(peek(sc, j))) {
        const gunichar c = peek(sc, j);
        if (c == '\n' || c == 0x2029)
            newlines++;
        j = next(sc, j);
    }
    if (newlines >= 2)
        emit_mark(sc, "."); /* a blank line ends a sentence; a stronger mark before it wins */
    else
        append_sep(sc->out);
    return j;
}

/* Everything that is not a digit, letter or space; returns the index past it. */
static gsize scan_other(Scanner *sc, gsize at)
{
    const gunichar c = peek(sc, at);
    const gsize j = next(sc, at);
    switch (c) {
    case '.':
        if (peek(sc, j) == '.' && peek(sc, j + 1) == '.') {
            emit_mark(sc, "…");
            gsize k = j + 2;
            while (peek(sc, k) == '.')
                k++;
            return k;
        }
        emit_mark(sc, ".");
        return j;
    case 0x2026: /* … */
        emit_mark(sc, "…");
        return j;
    case ',':
    case 0x3001: /* 、 */
        emit_mark(sc, ",");
        return j;
    case ';':
        emit_mark(sc, ";");
        return j;
    case ':':
        emit_mark(sc, ":");
        return j;
    case '!':
        emit_mark(sc, "!");
        return j;
    case '?':
        emit_mark(sc, "?");
        return j;
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case 0x2014: /* — */
    case 0x2013: /* – */
        emit_mark(sc, ",");
        return j;
    case '-':
        /* "--" and a hyphen between spaces are dashes; a hyphen inside a word splits it. */
        if (peek(sc, j) == '-') {
            emit_mark(sc, ",");
            gsize k = j;
            while (peek(sc, k) == '-')
                k++;
            return k;
        }
        if ((at == 0 || g_unichar_isspace(peek(sc, at - 1))) && g_unichar_isspace(peek(sc, j)))
            emit_mark(sc, ",");
        else
            append_sep(sc->out);
        return j;
    case '&':
        emit(sc, "and");
        return j;
    case '+':
        emit(sc, "plus");
        return j;
    case '=':
        emit(sc, "equals");
        return j;
    case '@':
        emit(sc, "at");
        return j;
    case '%':
        emit(sc, "percent");
        return j;
    case 0x00B0: /* ° */
        if ((peek(sc, j) == 'C' || peek(sc, j) == 'F') && !is_letter(peek(sc, j + 1))) {
            emit(sc, peek(sc, j) == 'C' ? "degrees Celsius" : "degrees Fahrenheit");
            return j + 1;
        }
        emit(sc, "degrees");
        return j;
    case '#':
        if (is_digit(peek(sc, j)))
            emit(sc, "number");
        else
            append_sep(sc->out);
        return j;
    default:
        break;
    }
    const Currency *cur = find_currency(c);
    if (cur) {
        emit(sc, cur->many); /* a symbol without an amount: "$" → "dollars" */
        return j;
    }
    /* Quotes, other symbols, emoji, controls, U+FFFD: no spoken form; a word boundary. */
    append_sep(sc->out);
    return j;
}

/* ---- assembly ---- */

static int mark_strength(const char *token)
{
    if (!strcmp(token, ".") || !strcmp(token, "!") || !strcmp(token, "?") || !strcmp(token, "…"))
        return 3;
    if (!strcmp(token, ";") || !strcmp(token, ":"))
        return 2;
    if (!strcmp(token, ","))
        return 1;
    return 0;
}

/* Joins space-separated tokens: marks attach to the word before them, a mark after a mark keeps
 * the stronger (the first when equal), marks with no word before them vanish. */
static char *assemble(const char *scratch)
{
    g_auto(GStrv) tokens = g_strsplit(scratch, " ", -1);
    GString *out = g_string_new(NULL);
    int last_strength = -1; /* -1: nothing yet, 0: a word, > 0: a mark */
    gsize last_mark_pos = 0;
    for (char **t = tokens; *t; t++) {
        if (**t == '\0')
            continue;
        const int strength = mark_strength(*t);
        if (strength == 0) {
            if (out->len > 0)
                g_string_append_c(out, ' ');
            g_string_append(out, *t);
            last_strength = 0;
        } else if (last_strength == 0) {
            last_mark_pos = out->len;
            g_string_append(out, *t);
            last_strength = strength;
        } else if (last_strength > 0 && strength > last_strength) {
            g_string_truncate(out, last_mark_pos);
            g_string_append(out, *t);
            last_strength = strength;
        }
    }
    return g_string_free(out, FALSE);
}

char *aigc_text_normalize(const char *text, gssize len)
{
    if (!text)
        return g_strdup("");
    g_autofree char *valid = g_utf8_make_valid(text, len);
    /* Compatibility forms to plain ones (full-width "ａ１" → "a1", "ﬁ" → "fi", "…" → "..."),
     * then decimal digits of any script to ASCII. */
    g_autofree char *nfkc = g_utf8_normalize(valid, -1, G_NORMALIZE_NFKC);
    GString *plain = g_string_sized_new(strlen(nfkc));
    for (const char *p = nfkc; *p; p = g_utf8_next_char(p)) {
        const gunichar c = g_utf8_get_char(p);
        const int digit = c >= 128 ? g_unichar_digit_value(c) : -1;
        if (digit >= 0)
            g_string_append_c(plain, (char)('0' + digit));
        else
            g_string_append_unichar(plain, c);
    }
    g_autofree char *flat = g_string_free(plain, FALSE);
    Scanner sc = {.s = flat, .n = strlen(flat), .out = g_string_new(NULL),
                  .sentence_start = TRUE};
    gsize i = 0;
    while (i < sc.n) {
        const gunichar c = peek(&sc, i);
        const gunichar c1 = peek(&sc, next(&sc, i));
        const gboolean boundary = i == 0 || !g_unichar_isalnum(g_utf8_get_char(
                                                g_utf8_prev_char(sc.s + i)));
        if (is_digit(c)) {
            i = scan_number(&sc, i);
        } else if (c == '.' && is_digit(c1) && boundary) {
            i = scan_number(&sc, i);
        } else if (find_currency(c) && is_digit(c1)) {
            i = scan_money(&sc, find_currency(c), next(&sc, i));
        } else if ((c == '-' || c == 0x2212) && boundary && (is_digit(c1) || find_currency(c1))) {
            emit(&sc, "minus");
            i = next(&sc, i);
        } else if (is_letter(c)) {
            i = scan_word(&sc, i);
        } else if (g_unichar_isspace(c)) {
            i = scan_space(&sc, i);
        } else {
            i = scan_other(&sc, i);
        }
    }
    char *result = assemble(sc.out->str);
    g_string_free(sc.out, TRUE);
    return result;
}

/* ---- sentence splitting ---- */

static gboolean is_terminator(gunichar c)
{
    return c == '.' || c == '!' || c == '?' || c == 0x2026;
}

static gboolean is_closer(gunichar c)
{
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x201D || c == 0x2019 ||
           c == 0x00BB;
}

/* Appends `piece` (trimmed) to `list` unless it is empty. */
static void add_piece(GPtrArray *list, const char *start, gsize n)
{
    char *piece = g_strndup(start, n);
    g_strstrip(piece);
    if (*piece)
        g_ptr_array_add(list, piece);
    else
        g_free(piece);
}

/* Cuts one trimmed sentence into pieces of at most max_chars characters. */
static void add_sentence(GPtrArray *list, const char *s, int max_chars)
{
    g_autofree char *copy = g_strstrip(g_strdup(s));
    const char *rest = copy;
    while (*rest) {
        while (*rest == ' ' || g_unichar_isspace(g_utf8_get_char(rest)))
            rest = g_utf8_next_char(rest);
        if (!*rest)
            break;
        /* The first max_chars characters (counted only that far: a huge sentence stays linear). */
        const char *limit = rest;
        for (int k = 0; *limit && k < max_chars; k++)
            limit = g_utf8_next_char(limit);
        if (!*limit) {
            add_piece(list, rest, strlen(rest));
            break;
        }
        const char *last_clause = NULL, *last_space = NULL;
        for (const char *p = rest; p < limit; p = g_utf8_next_char(p)) {
            const gunichar c = g_utf8_get_char(p);
            const char *after = g_utf8_next_char(p);
            if ((c == ',' || c == ';' || c == ':') && after <= limit)
                last_clause = after;
            if (g_unichar_isspace(c) && p > rest)
                last_space = p;
        }
        if (g_unichar_isspace(g_utf8_get_char(limit)))
            last_space = limit;
        /* A clause break is preferred unless it would leave a sliver. */
        const char *cut;
        if (last_clause && g_utf8_pointer_to_offset(rest, last_clause) >= max_chars / 4)
            cut = last_clause;
        else if (last_space)
            cut = last_space;
        else if (last_clause)
            cut = last_clause;
        else
            cut = limit;
        add_piece(list, rest, (gsize)(cut - rest));
        rest = cut;
    }
}

char **aigc_text_split_sentences(const char *text, gssize len, int max_chars)
{
    max_chars = MAX(max_chars, 16);
    GPtrArray *list = g_ptr_array_new();
    if (text) {
        g_autofree char *valid = g_utf8_make_valid(text, len);
        const char *start = valid;
        const char *p = valid;
        while (*p) {
            const gunichar c = g_utf8_get_char(p);
            const char *q = g_utf8_next_char(p);
            gboolean end = FALSE;
            if (is_terminator(c)) {
                while (is_terminator(g_utf8_get_char(q)) || is_closer(g_utf8_get_char(q)))
                    q = g_utf8_next_char(q);
                /* … followed by a space, and not by a lower-case word ("Then... he left"). */
                const char *r = q;
                while (*r && g_unichar_isspace(g_utf8_get_char(r)))
                    r = g_utf8_next_char(r);
                end = *q == '\0' || (g_unichar_isspace(g_utf8_get_char(q)) &&
                                      !g_unichar_islower(g_utf8_get_char(r)));
            } else if (c == '\n' && *q == '\n') {
                end = TRUE; /* a blank line */
            }
            if (end) {
                g_autofree char *sentence = g_strndup(start, (gsize)(q - start));
                add_sentence(list, sentence, max_chars);
                start = q;
            }
            p = q;
        }
        if (*start)
            add_sentence(list, start, max_chars);
    }
    g_ptr_array_add(list, NULL);
    return (char **)g_ptr_array_free(list, FALSE);
}
