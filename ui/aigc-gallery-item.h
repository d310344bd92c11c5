/* SPDX-License-Identifier: MIT
 *
 * AigcGalleryItem: one generated thing (text, image, audio, rendered view) with the parameters
 * that made it, as kept in the gallery folder.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
    AIGC_GALLERY_KIND_TEXT,
    AIGC_GALLERY_KIND_IMAGE,
    AIGC_GALLERY_KIND_AUDIO,
    AIGC_GALLERY_KIND_VIEW,
    AIGC_N_GALLERY_KINDS
} AigcGalleryKind;

const char *aigc_gallery_kind_to_string(AigcGalleryKind kind);
gboolean aigc_gallery_kind_from_string(const char *s, AigcGalleryKind *kind);

#define AIGC_TYPE_GALLERY_ITEM (aigc_gallery_item_get_type())
G_DECLARE_FINAL_TYPE(AigcGalleryItem, aigc_gallery_item, AIGC, GALLERY_ITEM, GObject)

/* (transfer full) (nullable) Reads dir/record.json; NULL + error if missing or malformed. */
AigcGalleryItem *aigc_gallery_item_load(const char *dir, GError **error);

const char *aigc_gallery_item_get_id(AigcGalleryItem *self);
AigcGalleryKind aigc_gallery_item_get_kind(AigcGalleryItem *self);
const char *aigc_gallery_item_get_panel(AigcGalleryItem *self);
const char *aigc_gallery_item_get_title(AigcGalleryItem *self);
const char *aigc_gallery_item_get_model(AigcGalleryItem *self);
gint64 aigc_gallery_item_get_seed(AigcGalleryItem *self);
/* Seconds since the Unix epoch. */
gint64 aigc_gallery_item_get_created(AigcGalleryItem *self);
/* (nullable) Absolute paths. */
const char *aigc_gallery_item_get_file(AigcGalleryItem *self);
const char *aigc_gallery_item_get_thumbnail(AigcGalleryItem *self);
/* (nullable) A text snippet (text items, the sentence of audio items). */
const char *aigc_gallery_item_get_text(AigcGalleryItem *self);
/* (transfer none) The panel's parameters ("use these settings"). */
JsonObject *aigc_gallery_item_get_params(AigcGalleryItem *self);
const char *aigc_gallery_item_get_dir(AigcGalleryItem *self);

G_END_DECLS
