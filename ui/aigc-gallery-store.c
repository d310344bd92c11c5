/* SPDX-License-Identifier: MIT
 *
 * The gallery folder. Item ids are the creation time plus a random suffix, so they sort by age
 * and never collide. Removal renames the folder to a hidden name first, so a crash mid-removal
 * leaves no half-item that would load.
 */
#include "aigc-gallery-store.h"

#include "aigc-engine.h"

#include <glib/gstdio.h>
#include <string.h>

struct _AigcGalleryStore {
    GObject parent_instance;
    char *dir;
    GListStore *items;
};

G_DEFINE_FINAL_TYPE(AigcGalleryStore, aigc_gallery_store, G_TYPE_OBJECT)

static void aigc_gallery_store_finalize(GObject *object)
{
    AigcGalleryStore *self = AIGC_GALLERY_STORE(object);
    g_free(self->dir);
    g_clear_object(&self->items);
    G_OBJECT_CLASS(aigc_gallery_store_parent_class)->finalize(object);
}

static void aigc_gallery_store_class_init(AigcGalleryStoreClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = aigc_gallery_store_finalize;
}

static void aigc_gallery_store_init(AigcGalleryStore *self)
{
    self->items = g_list_store_new(AIGC_TYPE_GALLERY_ITEM);
}

AigcGalleryStore *aigc_gallery_store_new(const char *dir)
{
    AigcGalleryStore *self = g_object_new(AIGC_TYPE_GALLERY_STORE, NULL);
    self->dir = dir ? g_strdup(dir)
                    : g_build_filename(g_get_user_data_dir(), "aigc-studio", "gallery", NULL);
    return self;
}

const char *aigc_gallery_store_get_dir(AigcGalleryStore *self)
{
    return self->dir;
}

GListModel *aigc_gallery_store_get_model(AigcGalleryStore *self)
{
    return G_LIST_MODEL(self->items);
}

/* g_ptr_array_sort passes pointers to the elements. */
static int newest_first(gconstpointer a, gconstpointer b)
{
    AigcGalleryItem *x = *(AigcGalleryItem *const *)a, *y = *(AigcGalleryItem *const *)b;
    gint64 cx = aigc_gallery_item_get_created(x), cy = aigc_gallery_item_get_created(y);
    if (cx != cy)
        return cx > cy ? -1 : 1;
    return -g_strcmp0(aigc_gallery_item_get_id(x), aigc_gallery_item_get_id(y));
}

guint aigc_gallery_store_load(AigcGalleryStore *self)
{
    g_list_store_remove_all(self->items);
    g_autoptr(GDir) dir = g_dir_open(self->dir, 0, NULL);
    if (!dir)
        return 0; /* nothing generated yet */
    guint skipped = 0;
    const char *name;
    g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_object_unref);
    while ((name = g_dir_read_name(dir))) {
        if (name[0] == '.')
            continue; /* temporary and half-removed items */
        g_autofree char *path = g_build_filename(self->dir, name, NULL);
        if (!g_file_test(path, G_FILE_TEST_IS_DIR))
            continue;
        GError *error = NULL;
        AigcGalleryItem *item = aigc_gallery_item_load(path, &error);
        if (!item) {
            g_warning("gallery: skipping an unreadable item: %s", error->message);
            g_error_free(error);
            skipped++;
            continue;
        }
        g_ptr_array_add(found, item);
    }
    g_ptr_array_sort(found, newest_first);
    g_list_store_splice(self->items, 0, 0, found->pdata, found->len);
    return skipped;
}

static gboolean write_file(const char *dir, const char *name, GBytes *bytes, GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    gsize n;
    const void *data = g_bytes_get_data(bytes, &n);
    return aigc_file_set_contents_atomic(path, data ? data : "", n, error);
}

static gboolean remove_tree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    if (dir) {
        const char *name;
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                remove_tree(child);
            else
                g_unlink(child);
        }
    }
    return g_rmdir(path) == 0;
}

AigcGalleryItem *aigc_gallery_store_add(AigcGalleryStore *self, const AigcGalleryEntry *entry,
                                        GError **error)
{
    g_return_val_if_fail(entry->kind < AIGC_N_GALLERY_KINDS, NULL);
    g_return_val_if_fail(!entry->content || entry->content_name, NULL);
    if (g_mkdir_with_parents(self->dir, 0755) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO,
                    "%s: cannot create the gallery folder", self->dir);
        return NULL;
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
    /* Microseconds keep ids in creation order within a second; the suffix avoids collisions. */
    g_autofree char *id = g_strdup_printf("%s-%06d-%04x", stamp, g_date_time_get_microsecond(now),
                                          g_random_int() & 0xffff);
    g_autofree char *dir = g_build_filename(self->dir, id, NULL);
    if (g_mkdir(dir, 0755) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO, "%s: cannot create", dir);
        return NULL;
    }

    gboolean ok = TRUE;
    if (entry->content)
        ok = write_file(dir, entry->content_name, entry->content, error);
    if (ok && entry->thumbnail)
        ok = write_file(dir, "thumbnail.png", entry->thumbnail, error);

    if (ok) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "version");
        json_builder_add_int_value(b, 1);
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, id);
        json_builder_set_member_name(b, "kind");
        json_builder_add_string_value(b, aigc_gallery_kind_to_string(entry->kind));
        json_builder_set_member_name(b, "panel");
        json_builder_add_string_value(b, entry->panel);
        json_builder_set_member_name(b, "title");
        json_builder_add_string_value(b, entry->title ? entry->title : "");
        json_builder_set_member_name(b, "created");
        json_builder_add_int_value(b, g_date_time_to_unix(now));
        if (entry->model) {
            json_builder_set_member_name(b, "model");
            json_builder_add_string_value(b, entry->model);
        }
        json_builder_set_member_name(b, "seed");
        json_builder_add_int_value(b, entry->seed);
        if (entry->text) {
            json_builder_set_member_name(b, "text");
            json_builder_add_string_value(b, entry->text);
        }
        if (entry->content) {
            json_builder_set_member_name(b, "file");
            json_builder_add_string_value(b, entry->content_name);
        }
        if (entry->thumbnail) {
            json_builder_set_member_name(b, "thumbnail");
            json_builder_add_string_value(b, "thumbnail.png");
        }
        json_builder_set_member_name(b, "params");
        JsonNode *params = json_node_new(JSON_NODE_OBJECT);
        json_node_set_object(params, entry->params ? entry->params : json_object_new());
        if (!entry->params)
            json_object_unref(json_node_get_object(params));
        json_builder_add_value(b, params);
        json_builder_end_object(b);

        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        json_generator_set_pretty(gen, TRUE);
        gsize len;
        g_autofree char *text = json_generator_to_data(gen, &len);
        g_autofree char *record = g_build_filename(dir, "record.json", NULL);
        ok = aigc_file_set_contents_atomic(record, text, len, error);
    }
    if (!ok) {
        remove_tree(dir);
        return NULL;
    }
    AigcGalleryItem *item = aigc_gallery_item_load(dir, error);
    if (!item) {
        remove_tree(dir);
        return NULL;
    }
    g_list_store_insert(self->items, 0, item);
    g_object_unref(item);
    return item;
}

gboolean aigc_gallery_store_remove(AigcGalleryStore *self, AigcGalleryItem *item, GError **error)
{
    guint pos;
    if (!g_list_store_find(self->items, item, &pos))
        return TRUE;
    const char *dir = aigc_gallery_item_get_dir(item);
    g_autofree char *parent = g_path_get_dirname(dir);
    g_autofree char *base = g_path_get_basename(dir);
    g_autofree char *hidden = g_strdup_printf("%s/.removed-%s", parent, base);
    if (g_rename(dir, hidden) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_IO, "%s: cannot remove", dir);
        return FALSE;
    }
    remove_tree(hidden);
    g_list_store_remove(self->items, pos);
    return TRUE;
}
