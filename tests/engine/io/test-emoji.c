/* SPDX-License-Identifier: MIT
 *
 * The emoji image set: the committed 16-emoji sample (tests/data/emoji-sample, Apache-2.0
 * images) loads with its names and categories; each of its 32×32 images matches what the
 * engine's own PNG path makes of the 64×64 original (composite over white, area-average down)
 * to within rounding; malformed sets are refused with the file's name.
 */
#include "aigc-test-support.h"
#include "io/aigc-emoji.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *sample_path(void)
{
    return g_test_build_filename(G_TEST_DIST, "data", "emoji-sample", "emoji-sample.safetensors",
                                 NULL);
}

static void test_sample(void)
{
    g_autofree char *path = sample_path();
    GError *error = NULL;
    g_autoptr(AigcEmojiSet) set = aigc_emoji_set_load(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(set->n, ==, 16);
    g_assert_cmpint(set->size, ==, 32);
    int i = aigc_emoji_set_find(set, "grinning");
    g_assert_cmpint(i, >=, 0);
    g_assert_cmpstr(set->emoji[i].name, ==, "grinning face");
    g_assert_cmpstr(set->emoji[i].category, ==, "Smileys & Emotion");
    g_assert_cmpstr(set->emoji[i].unified, ==, "1F600");
    g_assert_cmpint(aigc_emoji_set_find(set, "GRINNING FACE"), ==, i);
    g_assert_cmpint(aigc_emoji_set_find(set, "no such emoji"), ==, -1);
    g_assert_cmpstr(set->categories[set->emoji[i].category_index], ==, "Smileys & Emotion");
    g_assert_cmpint(set->n_categories, >=, 5);

    /* The engine's PNG path gives the prepared pixels (Python: float composite, 2×2 means,
     * rounded once; here: rounded composite, then area average) within 1. */
    int worst = 0;
    for (int k = 0; k < set->n; k++) {
        g_autofree char *lower = g_ascii_strdown(set->emoji[k].unified, -1);
        g_autofree char *name = g_strconcat(lower, ".png", NULL);
        g_autofree char *png = g_test_build_filename(G_TEST_DIST, "data", "emoji-sample", name,
                                                     NULL);
        /* Files keep the emoji's own spelling (e.g. "2764-fe0f.png"). */
        AigcPngReadOptions o = aigc_png_read_default_options();
        o.channels = 3;
        g_autoptr(AigcImage) big = aigc_png_read(png, &o, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpint(big->width, ==, 64);
        g_autoptr(AigcImage) small = aigc_image_resize(big, 32, 32);
        const guint8 *want = set->pixels + (gsize)k * 32 * 32 * 3;
        for (int b = 0; b < 32 * 32 * 3; b++)
            worst = MAX(worst, abs((int)small->data[b] - (int)want[b]));
    }
    g_test_message("largest difference to the prepared pixels: %d", worst);
    g_assert_cmpint(worst, <=, 1);

    float f[3 * 32 * 32];
    aigc_emoji_set_get_floats(set, i, -1, 1, f);
    const guint8 *px = set->pixels + (gsize)i * 32 * 32 * 3;
    g_assert_cmpfloat(fabsf(f[32 * 32 + 5] - (px[5 * 3 + 1] / 255.0f * 2 - 1)), <, 1e-6);
    /* White background in the corner. */
    g_assert_cmpint(px[0], ==, 255);
}

static void write_set(const char *path, const char *format, gint64 n, gint64 side,
                      const char *emoji, const char *categories, guint8 bad_index)
{
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    if (format)
        aigc_safetensors_writer_set_metadata(w, "format", format);
    if (emoji)
        aigc_safetensors_writer_set_metadata(w, "emoji", emoji);
    if (categories)
        aigc_safetensors_writer_set_metadata(w, "categories", categories);
    g_autofree guint8 *px = g_malloc0(n * side * side * 3);
    guint8 cat[2] = {0, bad_index};
    g_assert_true(aigc_safetensors_writer_add(w, "images", AIGC_DTYPE_U8, 4,
                                              (gint64[]){n, side, side, 3}, px, NULL));
    g_assert_true(aigc_safetensors_writer_add(w, "category", AIGC_DTYPE_U8, 1, (gint64[]){n}, cat,
                                              NULL));
    g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, NULL));
}

static void test_malformed(void)
{
    g_autofree char *dir = g_dir_make_tmp("aigc-emoji-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "set.safetensors", NULL);
    const char *one = "{\"name\": \"a\", \"short_name\": \"a\", \"category\": \"X\", "
                      "\"subcategory\": \"x\", \"unified\": \"41\"}";
    g_autofree char *two = g_strdup_printf("[%s, %s]", one, one);
    g_autofree char *no_name = g_strdup_printf("[%s, {\"short_name\": \"b\"}]", one);
    const struct {
        const char *format;
        gint64 side;
        const char *emoji, *categories;
        guint8 index;
        const char *needle;
    } cases[] = {
        {AIGC_EMOJI_FORMAT, 4, two, "[\"X\"]", 0, NULL}, /* valid */
        {NULL, 4, two, "[\"X\"]", 0, "format"},
        {AIGC_EMOJI_FORMAT, 4, "[]", "[\"X\"]", 0, "one entry per image"},
        {AIGC_EMOJI_FORMAT, 4, "not json", "[\"X\"]", 0, "emoji"},
        {AIGC_EMOJI_FORMAT, 4, no_name, "[\"X\"]", 0, "lacks a name"},
        {AIGC_EMOJI_FORMAT, 4, two, "[\"X\"]", 3, "disagree"},
        {AIGC_EMOJI_FORMAT, 4, two, "[\"Y\"]", 0, "disagree"},
        {AIGC_EMOJI_FORMAT, 4, two, NULL, 0, "categories"},
        {AIGC_EMOJI_FORMAT, 300, two, "[\"X\"]", 0, "images"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        write_set(path, cases[i].format, 2, cases[i].side, cases[i].emoji, cases[i].categories,
                  cases[i].index);
        GError *error = NULL;
        AigcEmojiSet *set = aigc_emoji_set_load(path, &error);
        if (!cases[i].needle) {
            g_assert_no_error(error);
            g_assert_cmpint(set->n, ==, 2);
            aigc_emoji_set_free(set);
            continue;
        }
        g_assert_null(set);
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
        g_assert_true(g_str_has_prefix(error->message, path));
        if (!strstr(error->message, cases[i].needle))
            g_error("case %u: “%s” does not mention “%s”", i, error->message, cases[i].needle);
        g_error_free(error);
    }
    g_assert_cmpint(g_remove(path), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
    GError *error = NULL;
    g_assert_null(aigc_emoji_set_load("/nonexistent/emoji.safetensors", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO);
    g_error_free(error);
}

static void test_default_path(void)
{
    g_setenv("AIGC_EMOJI_DIR", "/some/dir", TRUE);
    g_autofree char *p = aigc_emoji_default_path();
    g_assert_cmpstr(p, ==, "/some/dir/emoji-32.safetensors");
    g_unsetenv("AIGC_EMOJI_DIR");
    g_autofree char *q = aigc_emoji_default_path();
    g_assert_true(g_str_has_suffix(q, "data/cache/image/emoji/emoji-32.safetensors"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/io/emoji/sample", test_sample);
    g_test_add_func("/engine/io/emoji/malformed", test_malformed);
    g_test_add_func("/engine/io/emoji/default-path", test_default_path);
    return g_test_run();
}
