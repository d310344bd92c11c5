/* SPDX-License-Identifier: MIT
 *
 * The speech text front end: normalisation (a table of numbers, years, money, ordinals, times,
 * abbreviations and punctuation, and the example sentence), sentence splitting of
 * 10,000 characters, espeak-ng phonemes for fixed words and sentences (en-us, espeak-ng 1.51),
 * emoji / garbage / invalid UTF-8 taken safely, threads sharing espeak-ng, and the phoneme
 * vocabulary: coverage, unknown symbols, longest match, JSON round trip and malformed JSON.
 */
#include "aigc-test-support.h"
#include "dsp/aigc-phonemes.h"

#include <string.h>

/* ---- normalisation ---- */

static void test_normalize_example(void)
{
    g_autofree char *n = aigc_text_normalize("Dr. Smith paid $5 on the 3rd of May.", -1);
    g_assert_cmpstr(n, ==, "Doctor Smith paid five dollars on the third of May.");
}

static const struct {
    const char *in, *out;
} norm_cases[] = {
    {"I have 3 cats and 1,234 fish.", "I have three cats and one thousand two hundred "
                                      "thirty-four fish."},
    {"0 7 13 20 99 100 101 1000000 2000000000000",
     "zero seven thirteen twenty ninety-nine one hundred one hundred one one million two "
     "trillion"},
    {"pi is 3.14159, not .5", "pi is three point one four one five nine, not point five"},
    {"In 1984 and 1905 and 1900 and 2024, not 2005.",
     "In nineteen eighty-four and nineteen oh five and nineteen hundred and twenty "
     "twenty-four, not two thousand five."},
    {"the 1990s and the 80s", "the nineteen nineties and the eighties"},
    {"1st 2nd 3rd 4th 11th 12th 21st 100th", "first second third fourth eleventh twelfth "
                                            "twenty-first one hundredth"},
    {"$1 $5 $0.99 $1.01 $5.50 $2 million €3 £1 ¥100",
     "one dollar five dollars ninety-nine cents one dollar and one cent five dollars and "
     "fifty cents two million dollars three euros one pound one hundred yen"},
    {"50% and 3.5%", "fifty percent and three point five percent"},
    {"at 3:30 pm, 9:05 a.m. Then 12:00.", "at three thirty p m, nine oh five a m. Then twelve "
                                          "o'clock."},
    {"-5 degrees, 10-20 pages, 1990–1995", "minus five degrees, ten twenty pages, nineteen "
                                           "ninety to nineteen ninety-five"},
    {"007 and 0.5", "zero zero seven and zero point five"},
    {"Mr. and Mrs. Smith met Prof. Lee at St. Mary's on Baker St. Then they left.",
     "Mister and Missus Smith met Professor Lee at Saint Mary's on Baker Street. Then they "
     "left."},
    {"Mulholland Dr. is long.", "Mulholland Drive is long."},
    {"apples, pears, etc. Also e.g. plums vs. figs, i.e. fruit.",
     "apples, pears, et cetera. Also for example plums versus figs, that is fruit."},
    {"I sat. Call No. 5 on Sat. Jan. 3rd.",
     "I sat. Call number five on Saturday. January third."},
    {"the U.S. and J. R. R. Tolkien", "the U S and J R R Tolkien"},
    {"Wait... what?! Really?? Yes!!! (maybe) -- or not — ok",
     "Wait… what? Really? Yes! maybe, or not, ok"},
    {"rock & roll, 2 + 2 = 4, me@home, #1, 20°C",
     "rock and roll, two plus two equals four, me at home, number one, twenty degrees Celsius"},
    {"\"Quoted\" and ‘single’ and «these»", "Quoted and single and these"},
    {"I 😀 love 🎉🎉 emoji ✓ and ünïcödé", "I love emoji and ünïcödé"},
    {"ａｂｃ１２３ and ٣", "abc one hundred twenty-three and three"},
    {"line one\nline two\n\nNew paragraph", "line one line two. New paragraph"},
    {"  , . leading marks and    spaces  ", "leading marks and spaces"},
    {"don't O’Brien rock'n'roll", "don't O’Brien rock'n'roll"},
    {"12345678901234567", "one two three four five six seven eight nine zero one two three "
                          "four five six seven"},
};

static void test_normalize_table(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(norm_cases); i++) {
        g_autofree char *n = aigc_text_normalize(norm_cases[i].in, -1);
        if (strcmp(n, norm_cases[i].out) != 0)
            g_error("normalising “%s”\n  gave     “%s”\n  expected “%s”", norm_cases[i].in, n,
                    norm_cases[i].out);
    }
}

static void test_cardinal(void)
{
    const struct {
        guint64 n;
        const char *words;
    } cases[] = {
        {0, "zero"},
        {15, "fifteen"},
        {40, "forty"},
        {101, "one hundred one"},
        {999999, "nine hundred ninety-nine thousand nine hundred ninety-nine"},
        {1000001, "one million one"},
        {G_GUINT64_CONSTANT(999999999999999),
         "nine hundred ninety-nine trillion nine hundred ninety-nine billion nine hundred "
         "ninety-nine million nine hundred ninety-nine thousand nine hundred ninety-nine"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        GString *s = g_string_new(NULL);
        aigc_text_append_cardinal(s, cases[i].n);
        g_assert_cmpstr(s->str, ==, cases[i].words);
        g_string_free(s, TRUE);
    }
}

static void test_normalize_garbage(void)
{
    /* Invalid UTF-8, NULs inside an explicit length, controls, lone surrogates' bytes. */
    const char bad[] = "ok \xff\xfe\xc3 x\x01\x02 \xed\xa0\x80 y \x00 z 12\xe2\x82";
    g_autofree char *n = aigc_text_normalize(bad, sizeof bad - 1);
    g_assert_true(g_utf8_validate(n, -1, NULL));
    g_assert_cmpstr(n, ==, "ok x y z twelve");
    g_autofree char *empty = aigc_text_normalize(NULL, -1);
    g_assert_cmpstr(empty, ==, "");
    /* Random bytes never crash and always give valid UTF-8. */
    AigcRng rng;
    aigc_rng_init(&rng, 42);
    for (int round = 0; round < 50; round++) {
        char buf[512];
        for (guint i = 0; i < sizeof buf; i++)
            buf[i] = (char)aigc_rng_below(&rng, 256);
        g_autofree char *r = aigc_text_normalize(buf, sizeof buf);
        g_assert_true(g_utf8_validate(r, -1, NULL));
    }
}

/* ---- sentence splitting ---- */

static void test_split_long_text(void)
{
    /* 10,000+ characters: sentences of varied length, one long run-on sentence with commas,
     * and one huge word. */
    GString *text = g_string_new(NULL);
    int n_sentences = 0;
    for (int i = 0; text->len < 9000; i++) {
        g_string_append_printf(text, "Sentence number %d is here%s", i,
                               i % 3 == 0 ? "! " : i % 3 == 1 ? ". " : "? ");
        n_sentences++;
    }
    for (int i = 0; i < 40; i++)
        g_string_append(text, "and then it went on, ");
    g_string_append(text, "to the end. ");
    for (int i = 0; i < 300; i++)
        g_string_append_c(text, 'x');
    g_string_append(text, ".");
    g_assert_cmpuint(g_utf8_strlen(text->str, -1), >=, 10000);

    const int max_chars = 200;
    g_auto(GStrv) parts = aigc_text_split_sentences(text->str, -1, max_chars);
    const guint n = g_strv_length(parts);
    g_assert_cmpuint(n, >=, (guint)n_sentences + 5 + 2);
    GString *joined = g_string_new(NULL);
    for (guint i = 0; i < n; i++) {
        g_assert_cmpuint(g_utf8_strlen(parts[i], -1), <=, max_chars);
        g_assert_cmpuint(g_utf8_strlen(parts[i], -1), >, 0);
        g_assert_false(g_ascii_isspace(parts[i][0]));
        g_assert_false(g_ascii_isspace(parts[i][strlen(parts[i]) - 1]));
        g_string_append(joined, parts[i]);
    }
    /* Nothing lost but whitespace. */
    GString *stripped = g_string_new(NULL);
    for (const char *p = text->str; *p; p++)
        if (!g_ascii_isspace(*p))
            g_string_append_c(stripped, *p);
    GString *joined_stripped = g_string_new(NULL);
    for (const char *p = joined->str; *p; p++)
        if (!g_ascii_isspace(*p))
            g_string_append_c(joined_stripped, *p);
    g_assert_cmpstr(joined_stripped->str, ==, stripped->str);
    /* Ordinary sentences come out whole; the run-on one is cut after commas. */
    g_assert_cmpstr(parts[0], ==, "Sentence number 0 is here!");
    g_assert_cmpstr(parts[1], ==, "Sentence number 1 is here.");
    gboolean saw_comma_cut = FALSE;
    for (guint i = 0; i < n; i++)
        saw_comma_cut |= g_str_has_prefix(parts[i], "and then") && g_str_has_suffix(parts[i], ",");
    g_assert_true(saw_comma_cut);
    g_assert_cmpint(strlen(parts[n - 2]), ==, 200); /* the huge word, cut hard … */
    g_assert_cmpstr(parts[n - 1] + strlen(parts[n - 1]) - 1, ==, "."); /* … and its rest */
    g_string_free(text, TRUE);
    g_string_free(joined, TRUE);
    g_string_free(stripped, TRUE);
    g_string_free(joined_stripped, TRUE);
}

static void test_split_edge_cases(void)
{
    g_auto(GStrv) none = aigc_text_split_sentences("   \n  ", -1, 100);
    g_assert_cmpuint(g_strv_length(none), ==, 0);
    g_auto(GStrv) null = aigc_text_split_sentences(NULL, -1, 100);
    g_assert_cmpuint(g_strv_length(null), ==, 0);
    g_auto(GStrv) s = aigc_text_split_sentences("He said “Go.” Then... he left!? Pi is 3.14 ok",
                                                -1, 100);
    g_assert_cmpuint(g_strv_length(s), ==, 3);
    g_assert_cmpstr(s[0], ==, "He said “Go.”");
    g_assert_cmpstr(s[1], ==, "Then... he left!?");
    g_assert_cmpstr(s[2], ==, "Pi is 3.14 ok");
    /* Multi-byte characters count as one each and are never cut in half. */
    GString *t = g_string_new(NULL);
    for (int i = 0; i < 100; i++)
        g_string_append(t, "é");
    g_auto(GStrv) u = aigc_text_split_sentences(t->str, -1, 30);
    for (guint i = 0; u[i]; i++) {
        g_assert_true(g_utf8_validate(u[i], -1, NULL));
        g_assert_cmpuint(g_utf8_strlen(u[i], -1), <=, 30);
    }
    g_assert_cmpuint(g_strv_length(u), ==, 4);
    g_string_free(t, TRUE);
    /* Invalid UTF-8 is replaced, never split into bad pieces. */
    g_auto(GStrv) bad = aigc_text_split_sentences("a\xff. b\xc3", -1, 100);
    for (guint i = 0; bad[i]; i++)
        g_assert_true(g_utf8_validate(bad[i], -1, NULL));
}

/* ---- phonemes ---- */

static char *phonemes(const char *text)
{
    GError *error = NULL;
    char *ph = aigc_phonemes_from_text(text, -1, NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(ph);
    return ph;
}

static void test_phonemes_stable(void)
{
    /* espeak-ng 1.51, voice en-us. */
    const struct {
        const char *text, *ipa;
    } cases[] = {
        {"hello world", "həlˈoʊ wˈɜːld"},
        {"thing", "θˈɪŋ"},
        {"measure", "mˈɛʒɚ"},
        {"judge", "dʒˈʌdʒ"},
        {"church", "tʃˈɜːtʃ"},
        {"water", "wˈɔːɾɚ"},
        {"speech synthesis", "spˈiːtʃ sˈɪnθəsˌɪs"},
        {"The quick brown fox jumps over the lazy dog.",
         "ðə kwˈɪk bɹˈaʊn fˈɑːks dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɑːɡ."},
        {"Hello, world! How are you? Fine; thanks: bye...",
         "həlˈoʊ, wˈɜːld! hˈaʊ ɑːɹ juː? fˈaɪn; θˈæŋks: bˈaɪ…"},
        {"Dr. Smith paid $5 on the 3rd of May.",
         "dˈɑːktɚ smˈɪθ pˈeɪd fˈaɪv dˈɑːlɚz ɔnðə θˈɜːd ʌv mˈeɪ."},
        {"", ""},
        {"?!...", ""},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *ph = phonemes(cases[i].text);
        if (strcmp(ph, cases[i].ipa) != 0)
            g_error("phonemes of “%s”\n  are      “%s”\n  expected “%s”", cases[i].text, ph,
                    cases[i].ipa);
    }
}

static void test_phonemes_garbage(void)
{
    g_autoptr(AigcPhonemeVocab) vocab = aigc_phoneme_vocab_new_default();
    const char *inputs[] = {
        "😀😀😀", "🎉 party 🎉", "\xff\xfe\xfd", "abc\xc3(def", "\x01\x02\x03\x7f",
        "中文 Привет ελληνικά", "ʘʘʘ ǂǂ", "a\xcc\x81\xcc\x81\xcc\x81", "(fr) (((( ))))",
        "[[h@'loU]]", "<speak>ssml?</speak>",
    };
    for (guint i = 0; i < G_N_ELEMENTS(inputs); i++) {
        g_autofree char *ph = phonemes(inputs[i]);
        g_assert_true(g_utf8_validate(ph, -1, NULL));
        g_assert_null(strchr(ph, '('));
        gsize n_ids, n_unknown;
        g_autofree gint32 *ids = aigc_phoneme_vocab_encode(vocab, ph, -1, TRUE, &n_ids, &n_unknown);
        g_assert_cmpuint(n_ids, >=, 2);
        for (gsize k = 0; k < n_ids; k++)
            g_assert_cmpint(ids[k], <, aigc_phoneme_vocab_get_size(vocab));
    }
    g_autofree char *emoji = phonemes("😀😀😀");
    g_assert_cmpstr(emoji, ==, "");
    /* Random bytes. */
    AigcRng rng;
    aigc_rng_init(&rng, 9);
    for (int round = 0; round < 5; round++) {
        char buf[400];
        for (guint i = 0; i < sizeof buf; i++)
            buf[i] = (char)(1 + aigc_rng_below(&rng, 255));
        GError *error = NULL;
        g_autofree char *ph = aigc_phonemes_from_text(buf, sizeof buf, NULL, &error);
        g_assert_no_error(error);
        g_assert_true(g_utf8_validate(ph, -1, NULL));
    }
}

static void test_unknown_voice(void)
{
    GError *error = NULL;
    g_assert_null(aigc_phonemes_from_text("hello", -1, "xx-no-such-voice", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "xx-no-such-voice"));
    g_clear_error(&error);
    g_autofree char *ph = phonemes("hello world");
    g_assert_cmpstr(ph, ==, "həlˈoʊ wˈɜːld");
}

typedef struct {
    const char *voice;
    char *result[8];
} VoiceJob;

static const char *const thread_texts[8] = {
    "The rain in Spain stays mainly in the plain.", "Colour and flavour, honour.",
    "She sells sea shells by the sea shore.",      "Tomato, potato, water, bath.",
    "Peter Piper picked a peck of pickled peppers.", "Can't dance, won't dance.",
    "A bird in the hand is worth two in the bush.", "Schedule the leisure tour at 10 am.",
};

static gpointer voice_thread(gpointer data)
{
    VoiceJob *job = data;
    for (int i = 0; i < 8; i++)
        job->result[i] = aigc_phonemes_from_text(thread_texts[i], -1, job->voice, NULL);
    return NULL;
}

static void test_threads(void)
{
    /* Two voices (American, British) in four threads: each result equals the one made alone. */
    VoiceJob jobs[4] = {{"en-us", {0}}, {"en", {0}}, {"en-us", {0}}, {"en", {0}}};
    GThread *threads[4];
    for (int t = 0; t < 4; t++)
        threads[t] = g_thread_new("phonemes", voice_thread, &jobs[t]);
    for (int t = 0; t < 4; t++)
        g_thread_join(threads[t]);
    for (int t = 0; t < 4; t++) {
        for (int i = 0; i < 8; i++) {
            g_autofree char *alone = aigc_phonemes_from_text(thread_texts[i], -1, jobs[t].voice,
                                                             NULL);
            g_assert_nonnull(jobs[t].result[i]);
            g_assert_cmpstr(jobs[t].result[i], ==, alone);
            g_free(jobs[t].result[i]);
        }
    }
    /* The voices really differ ("water": ɾ in en-us, t in British "en"). */
    g_autofree char *us = aigc_phonemes_from_text("water", -1, "en-us", NULL);
    g_autofree char *gb = aigc_phonemes_from_text("water", -1, "en", NULL);
    g_assert_cmpstr(us, !=, gb);
}

/* ---- vocabulary ---- */

static void test_vocab_default(void)
{
    g_autoptr(AigcPhonemeVocab) v = aigc_phoneme_vocab_new_default();
    g_assert_cmpstr(aigc_phoneme_vocab_get_voice(v), ==, "en-us");
    g_assert_cmpint(aigc_phoneme_vocab_get_pad(v), ==, 0);
    g_assert_cmpint(aigc_phoneme_vocab_get_bos(v), ==, 1);
    g_assert_cmpint(aigc_phoneme_vocab_get_eos(v), ==, 2);
    g_assert_cmpint(aigc_phoneme_vocab_get_space(v), ==, 3);
    g_assert_cmpstr(aigc_phoneme_vocab_get_symbol(v, 3), ==, " ");
    g_assert_cmpint(aigc_phoneme_vocab_lookup(v, "ˈ"), ==, 11);
    g_assert_cmpint(aigc_phoneme_vocab_lookup(v, "ː"), ==, 13);
    g_assert_cmpint(aigc_phoneme_vocab_lookup(v, "ʘ"), ==, -1);
    g_assert_null(aigc_phoneme_vocab_get_symbol(v, -1));
    g_assert_null(aigc_phoneme_vocab_get_symbol(v, aigc_phoneme_vocab_get_size(v)));
    /* Every symbol is one code point, and the list has no duplicates (lookup finds each). */
    for (int i = 0; i < aigc_phoneme_vocab_get_size(v); i++) {
        const char *s = aigc_phoneme_vocab_get_symbol(v, i);
        g_assert_cmpint(g_utf8_strlen(s, -1), ==, 1);
        g_assert_cmpint(aigc_phoneme_vocab_lookup(v, s), ==, i);
    }
    /* A varied English paragraph encodes without unknown symbols and decodes back. */
    const char *text = "Yesterday, the thirty-three thieves thought they thrilled the throne "
                       "throughout Thursday! Measure the pleasure of azure; judge the church's "
                       "cheap chips. Would you, could you, in a boat? Oh, the button, the "
                       "bottle, the little kitten... Quietly, vivid zebras yawned: “Hmm.” "
                       "Rhythm, schism, prism, 1,234 cars and $56.78 in 2024.";
    g_autofree char *ph = phonemes(text);
    gsize n_ids, n_unknown;
    g_autofree gint32 *ids = aigc_phoneme_vocab_encode(v, ph, -1, TRUE, &n_ids, &n_unknown);
    g_assert_cmpuint(n_unknown, ==, 0);
    g_assert_cmpint(ids[0], ==, 1);
    g_assert_cmpint(ids[n_ids - 1], ==, 2);
    g_assert_cmpuint(n_ids, ==, (gsize)g_utf8_strlen(ph, -1) + 2);
    g_autofree char *back = aigc_phoneme_vocab_decode(v, ids, n_ids);
    g_assert_cmpstr(back, ==, ph);
}

static void test_vocab_unknown(void)
{
    g_autoptr(AigcPhonemeVocab) v = aigc_phoneme_vocab_new_default();
    const char in[] = "hɛ🙂lʘo\xff\xc3 w\0d";
    gsize n_ids, n_unknown;
    g_autofree gint32 *ids = aigc_phoneme_vocab_encode(v, in, sizeof in - 1, FALSE, &n_ids,
                                                       &n_unknown);
    /* 🙂, ʘ, \xff, \xc3 and the NUL are skipped; h ɛ l o space w d remain. */
    g_assert_cmpuint(n_unknown, ==, 5);
    g_assert_cmpuint(n_ids, ==, 7);
    g_autofree char *back = aigc_phoneme_vocab_decode(v, ids, n_ids);
    g_assert_cmpstr(back, ==, "hɛlo wd");
    g_autofree gint32 *none = aigc_phoneme_vocab_encode(v, NULL, -1, FALSE, &n_ids, NULL);
    g_assert_nonnull(none);
    g_assert_cmpuint(n_ids, ==, 0);
    /* Decoding skips pad, BOS, EOS and ids out of range. */
    const gint32 mixed[] = {1, 0, 50000, -4, 3, 2};
    g_autofree char *d = aigc_phoneme_vocab_decode(v, mixed, G_N_ELEMENTS(mixed));
    g_assert_cmpstr(d, ==, " ");
}

static void test_vocab_json(void)
{
    g_autoptr(AigcPhonemeVocab) v = aigc_phoneme_vocab_new_default();
    g_autofree char *json = aigc_phoneme_vocab_to_json(v);
    g_assert_nonnull(strstr(json, "\"format\":\"aigc-phoneme-vocab\""));
    GError *error = NULL;
    g_autoptr(AigcPhonemeVocab) back = aigc_phoneme_vocab_new_from_json(json, &error);
    g_assert_no_error(error);
    g_assert_cmpint(aigc_phoneme_vocab_get_size(back), ==, aigc_phoneme_vocab_get_size(v));
    for (int i = 0; i < aigc_phoneme_vocab_get_size(v); i++)
        g_assert_cmpstr(aigc_phoneme_vocab_get_symbol(back, i), ==,
                        aigc_phoneme_vocab_get_symbol(v, i));
    g_autofree char *again = aigc_phoneme_vocab_to_json(back);
    g_assert_cmpstr(again, ==, json);

    /* A table with multi-character symbols: the longest match wins. */
    const char *custom = "{\"format\":\"aigc-phoneme-vocab\",\"version\":1,\"voice\":\"en-gb\","
                         "\"symbols\":[\"<pad>\",\"<s>\",\"</s>\",\" \",\"a\",\"ɪ\",\"aɪ\","
                         "\"t\",\"tʃ\"],\"pad\":0,\"bos\":1,\"eos\":2,\"space\":3}";
    g_autoptr(AigcPhonemeVocab) c = aigc_phoneme_vocab_new_from_json(custom, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_phoneme_vocab_get_voice(c), ==, "en-gb");
    gsize n_ids, n_unknown;
    g_autofree gint32 *ids = aigc_phoneme_vocab_encode(c, "aɪ tʃa ɪt", -1, TRUE, &n_ids, &n_unknown);
    const gint32 want[] = {1, 6, 3, 8, 4, 3, 5, 7, 2};
    g_assert_cmpmem(ids, n_ids * sizeof(gint32), want, sizeof want);
    g_assert_cmpuint(n_unknown, ==, 0);
    g_autofree char *dec = aigc_phoneme_vocab_decode(c, ids, n_ids);
    g_assert_cmpstr(dec, ==, "aɪ tʃa ɪt");
}

static void test_vocab_bad_json(void)
{
    const struct {
        const char *json, *expect;
    } cases[] = {
        {"", "not a JSON object"},
        {"[1,2]", "not a JSON object"},
        {"{\"format\":\"aigc-phoneme-vocab\",\"version\":1", "not valid JSON"},
        {"{\"format\":\"other\",\"version\":1,\"voice\":\"en-us\",\"symbols\":[\"a\"],"
         "\"pad\":0,\"bos\":0,\"eos\":0,\"space\":0}", "format is “other”"},
        {"{\"format\":\"aigc-phoneme-vocab\",\"version\":2,\"voice\":\"en-us\",\"symbols\":[\"a\"],"
         "\"pad\":0,\"bos\":0,\"eos\":0,\"space\":0}", "version 2"},
        {"{\"format\":\"aigc-phoneme-vocab\",\"version\":1,\"voice\":\"en-us\",\"symbols\":[],"
         "\"pad\":0,\"bos\":0,\"eos\":0,\"space\":0}", "0 symbols"},
        {"{\"format\":\"aigc-phoneme-vocab\",\"version\":1,\"voice\":\"en-us\",\"symbols\":[\"a\","
         "\"a\"],\"pad\":0,\"bos\":0,\"eos\":0,\"space\":0}", "symbol 1 is a duplicate"},
        {"{\"format\":\"aigc-phoneme-vocab\",\"version\":1,\"voice\":\"en-us\",\"symbols\":[\"a\","
         "\"\"],\"pad\":0,\"bos\":0,\"eos\":0,\"space\":0}", "symbol 1 is empty"},
        {"{\"format\":\"aigc-phoneme-vocab\",\"version\":1,\"voice\":\"en-us\",\"symbols\":[\"a\","
         "5],\"pad\":0,\"bos\":0,\"eos\":0,\"space\":0}", "symbol 1 is not a string"},
        {"{\"format\":\"aigc-phoneme-vocab\",\"version\":1,\"voice\":\"en-us\",\"symbols\":"
         "[\"aaaaaaaaaaaaaaaaaaaa\"],\"pad\":0,\"bos\":0,\"eos\":0,\"space\":0}", "too long"},
        {"{\"format\":\"aigc-phoneme-vocab\",\"version\":1,\"voice\":\"en-us\",\"symbols\":[\"a\"],"
         "\"pad\":0,\"bos\":0,\"eos\":5,\"space\":0}", "“eos” id 5"},
        {"{\"format\":\"aigc-phoneme-vocab\",\"version\":1,\"voice\":\"en-us\",\"symbols\":[\"a\"],"
         "\"pad\":0,\"bos\":0,\"eos\":0}", "“space” is missing"},
        {"{\"format\":\"aigc-phoneme-vocab\",\"version\":1,\"voice\":\"\",\"symbols\":[\"a\"],"
         "\"pad\":0,\"bos\":0,\"eos\":0,\"space\":0}", "voice name is empty"},
        {"{\"format\":\"aigc-phoneme-vocab\",\"version\":1,\"voice\":\"en-us\",\"symbols\":[\"a\"],"
         "\"pad\":0,\"bos\":0,\"eos\":0,\"space\":0,\"extra\":1}", "unknown member “extra”"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *error = NULL;
        g_assert_null(aigc_phoneme_vocab_new_from_json(cases[i].json, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
        if (!strstr(error->message, cases[i].expect))
            g_error("case %u: “%s” lacks “%s”", i, error->message, cases[i].expect);
        g_error_free(error);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/dsp/phonemes/normalize-example", test_normalize_example);
    g_test_add_func("/engine/dsp/phonemes/normalize-table", test_normalize_table);
    g_test_add_func("/engine/dsp/phonemes/cardinal", test_cardinal);
    g_test_add_func("/engine/dsp/phonemes/normalize-garbage", test_normalize_garbage);
    g_test_add_func("/engine/dsp/phonemes/split-long-text", test_split_long_text);
    g_test_add_func("/engine/dsp/phonemes/split-edge-cases", test_split_edge_cases);
    g_test_add_func("/engine/dsp/phonemes/stable", test_phonemes_stable);
    g_test_add_func("/engine/dsp/phonemes/garbage", test_phonemes_garbage);
    g_test_add_func("/engine/dsp/phonemes/unknown-voice", test_unknown_voice);
    g_test_add_func("/engine/dsp/phonemes/threads", test_threads);
    g_test_add_func("/engine/dsp/phonemes/vocab-default", test_vocab_default);
    g_test_add_func("/engine/dsp/phonemes/vocab-unknown", test_vocab_unknown);
    g_test_add_func("/engine/dsp/phonemes/vocab-json", test_vocab_json);
    g_test_add_func("/engine/dsp/phonemes/vocab-bad-json", test_vocab_bad_json);
    return g_test_run();
}
