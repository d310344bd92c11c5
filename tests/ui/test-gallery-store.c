/* SPDX-License-Identifier: MIT
 *
 * The gallery folder without a display: items survive a restart (a new store on the same
 * folder), removal is permanent, and broken or half-written records are skipped with a warning.
 */
#include "aigc-gallery-store.h"

#include <glib/gstdio.h>
#include <string.h>

static char *make_dir(void)
{
    return g_dir_make_tmp("aigc-gallery-XXXXXX", NULL);
}

static AigcGalleryItem *add_image(AigcGalleryStore *store, const char *title, gint64 seed)
{
    g_autoptr(JsonObject) params = json_object_new();
    json_object_set_string_member(params, "class", title);
    json_object_set_int_member(params, "steps", 50);
    g_autoptr(GBytes) content = g_bytes_new_static("\x89PNG fake", 9);
    AigcGalleryEntry entry = {
        .kind = AIGC_GALLERY_KIND_IMAGE,
        .panel = "paint",
        .title = title,
        .model = "diffusion-fashion",
        .seed = seed,
        .params = params,
        .content = content,
        .content_name = "image.png",
    };
    GError *error = NULL;
    AigcGalleryItem *item = aigc_gallery_store_add(store, &entry, &error);
    g_assert_no_error(error);
    return item;
}

static void test_restart(void)
{
    g_autofree char *dir = make_dir();
    {
        g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new(dir);
        g_assert_cmpuint(aigc_gallery_store_load(store), ==, 0);
        add_image(store, "Sneaker", 42);
        add_image(store, "Bag", 7);
        g_autoptr(JsonObject) params = json_object_new();
        json_object_set_double_member(params, "temperature", 0.8);
        g_autoptr(GBytes) text = g_bytes_new_static("Once upon a time", 16);
        AigcGalleryEntry entry = {.kind = AIGC_GALLERY_KIND_TEXT, .panel = "write",
                                  .title = "Once", .seed = 3, .text = "Once upon a time",
                                  .params = params, .content = text, .content_name = "text.txt"};
        g_assert_nonnull(aigc_gallery_store_add(store, &entry, NULL));
        g_assert_cmpuint(g_list_model_get_n_items(aigc_gallery_store_get_model(store)), ==, 3);
    }
    /* A new store on the same folder: a restart. */
    g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new(dir);
    g_assert_cmpuint(aigc_gallery_store_load(store), ==, 0);
    GListModel *model = aigc_gallery_store_get_model(store);
    g_assert_cmpuint(g_list_model_get_n_items(model), ==, 3);
    gboolean seen_sneaker = FALSE;
    for (guint i = 0; i < 3; i++) {
        g_autoptr(AigcGalleryItem) item = g_list_model_get_item(model, i);
        if (g_strcmp0(aigc_gallery_item_get_title(item), "Sneaker") == 0) {
            seen_sneaker = TRUE;
            g_assert_cmpint(aigc_gallery_item_get_seed(item), ==, 42);
            g_assert_cmpstr(aigc_gallery_item_get_panel(item), ==, "paint");
            g_assert_cmpint(aigc_gallery_item_get_kind(item), ==, AIGC_GALLERY_KIND_IMAGE);
            JsonObject *params = aigc_gallery_item_get_params(item);
            g_assert_cmpstr(json_object_get_string_member(params, "class"), ==, "Sneaker");
            g_assert_cmpint(json_object_get_int_member(params, "steps"), ==, 50);
            g_assert_true(g_file_test(aigc_gallery_item_get_file(item), G_FILE_TEST_IS_REGULAR));
        }
    }
    g_assert_true(seen_sneaker);

    /* Remove survives a restart too. */
    g_autoptr(AigcGalleryItem) first = g_list_model_get_item(model, 0);
    g_autofree char *first_dir = g_strdup(aigc_gallery_item_get_dir(first));
    g_assert_true(aigc_gallery_store_remove(store, first, NULL));
    g_assert_false(g_file_test(first_dir, G_FILE_TEST_EXISTS));
    g_autoptr(AigcGalleryStore) again = aigc_gallery_store_new(dir);
    aigc_gallery_store_load(again);
    g_assert_cmpuint(g_list_model_get_n_items(aigc_gallery_store_get_model(again)), ==, 2);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void test_broken_records(void)
{
    g_autofree char *dir = make_dir();
    g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new(dir);
    add_image(store, "Good", 1);

    const char *cases[][2] = {
        {"corrupt", "{\"id\": \"x\", \"kind\": "},                         /* truncated JSON */
        {"not-object", "[1, 2]"},
        {"unknown-kind", "{\"id\": \"x\", \"kind\": \"smell\"}"},
        {"escape", "{\"id\": \"x\", \"kind\": \"image\", \"file\": \"../../etc/passwd\"}"},
        {"missing-file", "{\"id\": \"x\", \"kind\": \"image\", \"file\": \"gone.png\"}"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *item_dir = g_build_filename(dir, cases[i][0], NULL);
        g_mkdir(item_dir, 0755);
        write_text(item_dir, "record.json", cases[i][1]);
    }
    /* Half-written: content but no record yet. */
    g_autofree char *half = g_build_filename(dir, "half", NULL);
    g_mkdir(half, 0755);
    write_text(half, "image.png", "partial");

    for (guint i = 0; i < G_N_ELEMENTS(cases) + 1; i++)
        g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "gallery: skipping*");
    guint skipped = aigc_gallery_store_load(store);
    g_test_assert_expected_messages();
    g_assert_cmpuint(skipped, ==, G_N_ELEMENTS(cases) + 1);
    g_assert_cmpuint(g_list_model_get_n_items(aigc_gallery_store_get_model(store)), ==, 1);
}

static void test_missing_folder(void)
{
    g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new("/nonexistent/aigc-gallery");
    g_assert_cmpuint(aigc_gallery_store_load(store), ==, 0);
    g_assert_cmpuint(g_list_model_get_n_items(aigc_gallery_store_get_model(store)), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/gallery-store/restart", test_restart);
    g_test_add_func("/ui/gallery-store/broken-records", test_broken_records);
    g_test_add_func("/ui/gallery-store/missing-folder", test_missing_folder);
    return g_test_run();
}
