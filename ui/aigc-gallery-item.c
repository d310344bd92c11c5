/* SPDX-License-Identifier: MIT
 *
 * DESIGN (file format): a gallery item is a folder <gallery>/<id>/ holding its content file(s)
 * and record.json, written last and atomically, so a folder without a valid record is an
 * unfinished write and is skipped. record.json:
 *   {"version": 1, "id": "…", "kind": "image", "panel": "paint", "title": "…",
 *    "created": 1795000000, "model": "…", "seed": 42, "file": "image.png",
 *    "thumbnail": "thumb.png", "text": "…", "params": {…}}
 * File names inside a record must be plain names in the item's folder (no "/" or "..").
 */
#include "aigc-gallery-item.h"

#include "aigc-engine.h"

#include <string.h>

struct _AigcGalleryItem {
    GObject parent_instance;
    char *dir;
    char *id;
    AigcGalleryKind kind;
    char *panel;
    char *title;
    char *model;
    gint64 seed;
    gint64 created;
    char *file;
    char *thumbnail;
    char *text;
    JsonObject *params;
};

G_DEFINE_FINAL_TYPE(AigcGalleryItem, aigc_gallery_item, G_TYPE_OBJECT)

static const char *kind_names[] = {"text", "image", "audio", "view"};

const char *aigc_gallery_kind_to_string(AigcGalleryKind kind)
{
    g_return_val_if_fail(kind < AIGC_N_GALLERY_KINDS, "?");
    return kind_names[kind];
}

gboolean aigc_gallery_kind_from_string(const char *s, AigcGalleryKind *kind)
{
    for (int i = 0; i < AIGC_N_GALLERY_KINDS; i++) {
        if (g_strcmp0(s, kind_names[i]) == 0) {
            *kind = (AigcGalleryKind)i;
            return TRUE;
        }
    }
    return FALSE;
}

static void aigc_gallery_item_finalize(GObject *object)
{
    AigcGalleryItem *self = AIGC_GALLERY_ITEM(object);
    g_free(self->dir);
    g_free(self->id);
    g_free(self->panel);
    g_free(self->title);
    g_free(self->model);
    g_free(self->file);
    g_free(self->thumbnail);
    g_free(self->text);
    if (self->params)
        json_object_unref(self->params);
    G_OBJECT_CLASS(aigc_gallery_item_parent_class)->finalize(object);
}

static void aigc_gallery_item_class_init(AigcGalleryItemClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = aigc_gallery_item_finalize;
}

static void aigc_gallery_item_init(AigcGalleryItem *self)
{
}

static gboolean plain_name(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

static char *optional_file(JsonObject *o, const char *member, const char *dir, GError **error,
                           const char *record)
{
    if (!json_object_has_member(o, member))
        return NULL;
    const char *name = json_object_get_string_member_with_default(o, member, NULL);
    if (!plain_name(name)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: “%s” is not a file name inside the item's folder", record, member);
        return NULL;
    }
    return g_build_filename(dir, name, NULL);
}

AigcGalleryItem *aigc_gallery_item_load(const char *dir, GError **error)
{
    g_autofree char *record = g_build_filename(dir, "record.json", NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    GError *parse_error = NULL;
    if (!json_parser_load_from_mapped_file(parser, record, &parse_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", record,
                    parse_error->message);
        g_error_free(parse_error);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a JSON object", record);
        return NULL;
    }
    JsonObject *o = json_node_get_object(root);
    const char *id = json_object_get_string_member_with_default(o, "id", NULL);
    const char *kind = json_object_get_string_member_with_default(o, "kind", NULL);
    AigcGalleryKind k;
    if (!id || !kind || !aigc_gallery_kind_from_string(kind, &k)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: missing or unknown “id” or “kind”", record);
        return NULL;
    }
    AigcGalleryItem *self = g_object_new(AIGC_TYPE_GALLERY_ITEM, NULL);
    self->dir = g_strdup(dir);
    self->id = g_strdup(id);
    self->kind = k;
    self->panel = g_strdup(json_object_get_string_member_with_default(o, "panel", NULL));
    self->title = g_strdup(json_object_get_string_member_with_default(o, "title", ""));
    self->model = g_strdup(json_object_get_string_member_with_default(o, "model", NULL));
    self->seed = json_object_get_int_member_with_default(o, "seed", -1);
    self->created = json_object_get_int_member_with_default(o, "created", 0);
    self->text = g_strdup(json_object_get_string_member_with_default(o, "text", NULL));
    GError *file_error = NULL;
    self->file = optional_file(o, "file", dir, &file_error, record);
    if (!file_error)
        self->thumbnail = optional_file(o, "thumbnail", dir, &file_error, record);
    if (file_error) {
        g_propagate_error(error, file_error);
        g_object_unref(self);
        return NULL;
    }
    if (self->file && !g_file_test(self->file, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: its file %s is missing", record, self->file);
        g_object_unref(self);
        return NULL;
    }
    JsonNode *params = json_object_get_member(o, "params");
    self->params = params && JSON_NODE_HOLDS_OBJECT(params)
                       ? json_object_ref(json_node_get_object(params))
                       : json_object_new();
    return self;
}

const char *aigc_gallery_item_get_id(AigcGalleryItem *self) { return self->id; }
AigcGalleryKind aigc_gallery_item_get_kind(AigcGalleryItem *self) { return self->kind; }
const char *aigc_gallery_item_get_panel(AigcGalleryItem *self) { return self->panel; }
const char *aigc_gallery_item_get_title(AigcGalleryItem *self) { return self->title; }
const char *aigc_gallery_item_get_model(AigcGalleryItem *self) { return self->model; }
gint64 aigc_gallery_item_get_seed(AigcGalleryItem *self) { return self->seed; }
gint64 aigc_gallery_item_get_created(AigcGalleryItem *self) { return self->created; }
const char *aigc_gallery_item_get_file(AigcGalleryItem *self) { return self->file; }
const char *aigc_gallery_item_get_thumbnail(AigcGalleryItem *self) { return self->thumbnail; }
const char *aigc_gallery_item_get_text(AigcGalleryItem *self) { return self->text; }
JsonObject *aigc_gallery_item_get_params(AigcGalleryItem *self) { return self->params; }
const char *aigc_gallery_item_get_dir(AigcGalleryItem *self) { return self->dir; }
