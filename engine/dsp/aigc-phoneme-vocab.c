/* SPDX-License-Identifier: MIT
 *
 * The phoneme symbol table (see the header for its contents and JSON form).
 *
 * DESIGN (file format): the JSON is the whole vocabulary — the symbols in id order and which
 * ids are pad, BOS, EOS and the word boundary — so a model trained with one table decodes the
 * same ids after the default table has grown. Reading rejects unknown members, so a newer
 * format version is never half-understood.
 */
#include "aigc-phoneme-vocab.h"

#include "aigc-error.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define FORMAT_NAME "aigc-phoneme-vocab"
#define FORMAT_VERSION 1
#define DEFAULT_VOICE "en-us"

/* One code point each; see the header for the grouping. */
static const char *const default_symbols[] = {
    "_", "^", "$", " ",                               /* pad, BOS, EOS, word boundary */
    ".", ",", "!", "?", ";", ":", "…",                /* pause marks */
    "ˈ", "ˌ", "ː",                                    /* stress, length */
    "\xcc\xa9", "\xcc\x83",                           /* U+0329 syllabic, U+0303 nasal */
    "a", "b", "d", "e", "f", "h", "i", "j", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u",
    "v", "w", "x", "z", "æ", "ç", "ð", "ŋ", "ɐ", "ɑ", "ɒ", "ɔ", "ə", "ɚ", "ɛ", "ɜ", "ɝ", "ɡ",
    "ɪ", "ɫ", "ɬ", "ɹ", "ɾ", "ʃ", "ʊ", "ʌ", "ʍ", "ʒ", "ʔ", "θ", "ᵻ", "ʲ",
    "ɣ", "χ", "ɨ", "ʉ", "ø", "ɵ", "g", "c", "y", /* other English accents */
};

struct _AigcPhonemeVocab {
    char *voice;
    char **symbols;         /* [n_symbols] */
    int n_symbols;
    GHashTable *by_symbol;  /* symbol → id + 1 (borrowed keys) */
    gsize max_symbol_bytes;
    gint32 pad, bos, eos, space;
};

static AigcPhonemeVocab *vocab_new(const char *voice, char **symbols, int n, gint32 pad,
                                   gint32 bos, gint32 eos, gint32 space)
{
    AigcPhonemeVocab *v = g_new0(AigcPhonemeVocab, 1);
    v->voice = g_strdup(voice);
    v->symbols = symbols;
    v->n_symbols = n;
    v->by_symbol = g_hash_table_new(g_str_hash, g_str_equal);
    for (int i = 0; i < n; i++) {
        g_hash_table_insert(v->by_symbol, symbols[i], GINT_TO_POINTER(i + 1));
        v->max_symbol_bytes = MAX(v->max_symbol_bytes, strlen(symbols[i]));
    }
    v->pad = pad;
    v->bos = bos;
    v->eos = eos;
    v->space = space;
    return v;
}

AigcPhonemeVocab *aigc_phoneme_vocab_new_default(void)
{
    const int n = (int)G_N_ELEMENTS(default_symbols);
    char **symbols = g_new0(char *, n + 1);
    for (int i = 0; i < n; i++)
        symbols[i] = g_strdup(default_symbols[i]);
    return vocab_new(DEFAULT_VOICE, symbols, n, 0, 1, 2, 3);
}

void aigc_phoneme_vocab_free(AigcPhonemeVocab *vocab)
{
    if (!vocab)
        return;
    g_hash_table_unref(vocab->by_symbol);
    g_strfreev(vocab->symbols);
    g_free(vocab->voice);
    g_free(vocab);
}

int aigc_phoneme_vocab_get_size(AigcPhonemeVocab *vocab)
{
    return vocab->n_symbols;
}

const char *aigc_phoneme_vocab_get_voice(AigcPhonemeVocab *vocab)
{
    return vocab->voice;
}

gint32 aigc_phoneme_vocab_get_pad(AigcPhonemeVocab *vocab)
{
    return vocab->pad;
}

gint32 aigc_phoneme_vocab_get_bos(AigcPhonemeVocab *vocab)
{
    return vocab->bos;
}

gint32 aigc_phoneme_vocab_get_eos(AigcPhonemeVocab *vocab)
{
    return vocab->eos;
}

gint32 aigc_phoneme_vocab_get_space(AigcPhonemeVocab *vocab)
{
    return vocab->space;
}

const char *aigc_phoneme_vocab_get_symbol(AigcPhonemeVocab *vocab, gint32 id)
{
    return id >= 0 && id < vocab->n_symbols ? vocab->symbols[id] : NULL;
}

gint32 aigc_phoneme_vocab_lookup(AigcPhonemeVocab *vocab, const char *symbol)
{
    return GPOINTER_TO_INT(g_hash_table_lookup(vocab->by_symbol, symbol)) - 1;
}

gint32 *aigc_phoneme_vocab_encode(AigcPhonemeVocab *vocab, const char *phonemes, gssize len,
                                  gboolean add_bos_eos, gsize *n_ids, gsize *n_unknown)
{
    g_return_val_if_fail(vocab != NULL && n_ids != NULL, NULL);
    const gsize n = !phonemes ? 0 : len < 0 ? strlen(phonemes) : (gsize)len;
    GArray *ids = g_array_sized_new(FALSE, FALSE, sizeof(gint32), (guint)MIN(n + 2, 1u << 20));
    gsize unknown = 0;
    if (add_bos_eos)
        g_array_append_val(ids, vocab->bos);
    char key[AIGC_PHONEME_VOCAB_MAX_SYMBOL_BYTES + 1];
    gsize i = 0;
    while (i < n) {
        /* Longest symbol first; a candidate must end on a code point boundary. */
        gint32 id = -1;
        gsize matched = 0;
        gsize longest = MIN(vocab->max_symbol_bytes, n - i);
        const char *nul = memchr(phonemes + i, '\0', longest); /* a key ends at a NUL byte */
        if (nul)
            longest = (gsize)(nul - (phonemes + i));
        for (gsize l = longest; l > 0 && id < 0; l--) {
            memcpy(key, phonemes + i, l);
            key[l] = '\0';
            if (i + l < n && ((guchar)phonemes[i + l] & 0xC0) == 0x80)
                continue;
            const gint32 found = GPOINTER_TO_INT(g_hash_table_lookup(vocab->by_symbol, key)) - 1;
            if (found >= 0) {
                id = found;
                matched = l;
            }
        }
        if (id >= 0) {
            g_array_append_val(ids, id);
            i += matched;
            continue;
        }
        /* Skip one code point, or one byte when it does not start a valid one. */
        const gunichar c = g_utf8_get_char_validated(phonemes + i, (gssize)(n - i));
        i += c == (gunichar)-1 || c == (gunichar)-2 || c == 0
                 ? 1
                 : (gsize)(g_utf8_next_char(phonemes + i) - (phonemes + i));
        unknown++;
    }
    if (add_bos_eos)
        g_array_append_val(ids, vocab->eos);
    *n_ids = ids->len;
    if (n_unknown)
        *n_unknown = unknown;
    return (gint32 *)g_array_free(ids, FALSE);
}

char *aigc_phoneme_vocab_decode(AigcPhonemeVocab *vocab, const gint32 *ids, gsize n_ids)
{
    GString *out = g_string_new(NULL);
    for (gsize i = 0; i < n_ids; i++) {
        const gint32 id = ids[i];
        if (id < 0 || id >= vocab->n_symbols || id == vocab->pad || id == vocab->bos ||
            id == vocab->eos)
            continue;
        g_string_append(out, vocab->symbols[id]);
    }
    return g_string_free(out, FALSE);
}

/* ---- JSON ---- */

char *aigc_phoneme_vocab_to_json(AigcPhonemeVocab *vocab)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, FORMAT_NAME);
    json_builder_set_member_name(b, "version");
    json_builder_add_int_value(b, FORMAT_VERSION);
    json_builder_set_member_name(b, "voice");
    json_builder_add_string_value(b, vocab->voice);
    json_builder_set_member_name(b, "symbols");
    json_builder_begin_array(b);
    for (int i = 0; i < vocab->n_symbols; i++)
        json_builder_add_string_value(b, vocab->symbols[i]);
    json_builder_end_array(b);
    const struct {
        const char *name;
        gint32 id;
    } specials[] = {
        {"pad", vocab->pad}, {"bos", vocab->bos}, {"eos", vocab->eos}, {"space", vocab->space}};
    for (guint i = 0; i < G_N_ELEMENTS(specials); i++) {
        json_builder_set_member_name(b, specials[i].name);
        json_builder_add_int_value(b, specials[i].id);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

static gboolean format_error(GError **error, const char *fault)
{
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                "phoneme vocabulary: %s", fault);
    return FALSE;
}

static gboolean get_string_member(JsonObject *obj, const char *name, const char **value,
                                  GError **error)
{
    JsonNode *node = json_object_get_member(obj, name);
    if (!node || !JSON_NODE_HOLDS_VALUE(node) ||
        json_node_get_value_type(node) != G_TYPE_STRING) {
        g_autofree char *msg = g_strdup_printf("“%s” is missing or not a string", name);
        return format_error(error, msg);
    }
    *value = json_node_get_string(node);
    return TRUE;
}

static gboolean get_int_member(JsonObject *obj, const char *name, gint64 *value, GError **error)
{
    JsonNode *node = json_object_get_member(obj, name);
    if (!node || !JSON_NODE_HOLDS_VALUE(node) ||
        json_node_get_value_type(node) != G_TYPE_INT64) {
        g_autofree char *msg = g_strdup_printf("“%s” is missing or not an integer", name);
        return format_error(error, msg);
    }
    *value = json_node_get_int(node);
    return TRUE;
}

AigcPhonemeVocab *aigc_phoneme_vocab_new_from_json(const char *json, GError **error)
{
    g_return_val_if_fail(json != NULL, NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) parse_error = NULL;
    if (!json_parser_load_from_data(parser, json, -1, &parse_error)) {
        g_autofree char *msg = g_strdup_printf("not valid JSON (%s)", parse_error->message);
        format_error(error, msg);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        format_error(error, "not a JSON object");
        return NULL;
    }
    JsonObject *obj = json_node_get_object(root);
    static const char *const known[] = {"format", "version", "voice", "symbols",
                                        "pad",    "bos",     "eos",   "space"};
    g_autoptr(GList) members = json_object_get_members(obj);
    for (GList *l = members; l; l = l->next) {
        gboolean ok = FALSE;
        for (guint i = 0; i < G_N_ELEMENTS(known); i++)
            ok |= strcmp(l->data, known[i]) == 0;
        if (!ok) {
            g_autofree char *msg = g_strdup_printf("unknown member “%s”", (const char *)l->data);
            format_error(error, msg);
            return NULL;
        }
    }
    const char *format, *voice;
    gint64 version, special[4];
    if (!get_string_member(obj, "format", &format, error) ||
        !get_int_member(obj, "version", &version, error) ||
        !get_string_member(obj, "voice", &voice, error))
        return NULL;
    if (strcmp(format, FORMAT_NAME) != 0) {
        g_autofree char *msg = g_strdup_printf("format is “%s”, not “%s”", format, FORMAT_NAME);
        format_error(error, msg);
        return NULL;
    }
    if (version != FORMAT_VERSION) {
        g_autofree char *msg =
            g_strdup_printf("version %" G_GINT64_FORMAT " is not %d", version, FORMAT_VERSION);
        format_error(error, msg);
        return NULL;
    }
    if (!*voice || strlen(voice) > 64) {
        format_error(error, "the voice name is empty or longer than 64 bytes");
        return NULL;
    }
    JsonNode *node = json_object_get_member(obj, "symbols");
    if (!node || !JSON_NODE_HOLDS_ARRAY(node)) {
        format_error(error, "“symbols” is missing or not an array");
        return NULL;
    }
    JsonArray *array = json_node_get_array(node);
    const guint n = json_array_get_length(array);
    if (n < 1 || n > AIGC_PHONEME_VOCAB_MAX_SYMBOLS) {
        g_autofree char *msg = g_strdup_printf("%u symbols; a vocabulary has 1 to %d", n,
                                               AIGC_PHONEME_VOCAB_MAX_SYMBOLS);
        format_error(error, msg);
        return NULL;
    }
    g_auto(GStrv) symbols = g_new0(char *, n + 1);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < n; i++) {
        JsonNode *item = json_array_get_element(array, i);
        const char *s = JSON_NODE_HOLDS_VALUE(item) &&
                                json_node_get_value_type(item) == G_TYPE_STRING
                            ? json_node_get_string(item)
                            : NULL;
        const char *fault = !s                                             ? "is not a string"
                            : !*s                                          ? "is empty"
                            : strlen(s) > AIGC_PHONEME_VOCAB_MAX_SYMBOL_BYTES ? "is too long"
                            : !g_utf8_validate(s, -1, NULL)                ? "is not UTF-8"
                            : g_hash_table_contains(seen, s)               ? "is a duplicate"
                                                                           : NULL;
        if (fault) {
            g_autofree char *msg = g_strdup_printf("symbol %u %s", i, fault);
            format_error(error, msg);
            return NULL;
        }
        symbols[i] = g_strdup(s);
        g_hash_table_add(seen, symbols[i]);
    }
    static const char *const special_names[] = {"pad", "bos", "eos", "space"};
    for (int i = 0; i < 4; i++) {
        if (!get_int_member(obj, special_names[i], &special[i], error))
            return NULL;
        if (special[i] < 0 || special[i] >= n) {
            g_autofree char *msg = g_strdup_printf("“%s” id %" G_GINT64_FORMAT
                                                   " is not one of the %u symbols",
                                                   special_names[i], special[i], n);
            format_error(error, msg);
            return NULL;
        }
    }
    return vocab_new(voice, g_steal_pointer(&symbols), (int)n, (gint32)special[0],
                     (gint32)special[1], (gint32)special[2], (gint32)special[3]);
}
