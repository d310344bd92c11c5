/* SPDX-License-Identifier: MIT
 *
 * AigcGalleryStore: every generated item kept under $XDG_DATA_HOME/aigc-studio/gallery/, newest
 * first, as a GListModel of AigcGalleryItem. Display-less: tests use it without a window.
 */
#pragma once

#include "aigc-gallery-item.h"

#include <gio/gio.h>

G_BEGIN_DECLS

#define AIGC_TYPE_GALLERY_STORE (aigc_gallery_store_get_type())
G_DECLARE_FINAL_TYPE(AigcGalleryStore, aigc_gallery_store, AIGC, GALLERY_STORE, GObject)

/* What a panel hands over to keep a result. */
typedef struct {
    AigcGalleryKind kind;
    const char *panel;   /* "write", "paint", "speak", "scene" */
    const char *title;   /* prompt, class, sentence… */
    const char *model;   /* (nullable) */
    gint64 seed;         /* -1 when none */
    const char *text;    /* (nullable) snippet for text and audio */
    JsonObject *params;  /* (nullable) (transfer none) the panel's settings */
    GBytes *content;     /* (nullable) the main file's bytes */
    const char *content_name;  /* e.g. "image.png", "speech.wav", "text.txt" */
    GBytes *thumbnail;   /* (nullable) a PNG */
} AigcGalleryEntry;

/* dir: NULL = $XDG_DATA_HOME/aigc-studio/gallery. Reads nothing until _load(). */
AigcGalleryStore *aigc_gallery_store_new(const char *dir);
const char *aigc_gallery_store_get_dir(AigcGalleryStore *self);
/* Reads every item folder; unreadable or half-written ones are skipped with a logged warning.
 * Returns the number of items skipped. */
guint aigc_gallery_store_load(AigcGalleryStore *self);
/* (transfer none) (nullable) Writes the item (content first, record last, each atomically) and
 * adds it at the top. */
AigcGalleryItem *aigc_gallery_store_add(AigcGalleryStore *self, const AigcGalleryEntry *entry,
                                        GError **error);
gboolean aigc_gallery_store_remove(AigcGalleryStore *self, AigcGalleryItem *item,
                                   GError **error);
/* (transfer none) */
GListModel *aigc_gallery_store_get_model(AigcGalleryStore *self);

G_END_DECLS
