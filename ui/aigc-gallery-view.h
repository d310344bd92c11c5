/* SPDX-License-Identifier: MIT
 *
 * AigcGalleryView: the Gallery page — every generated item as a thumbnail grid, filtered by
 * kind, with Open, Export, Delete and "Use these settings".
 */
#pragma once

#include "aigc-gallery-store.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define AIGC_TYPE_GALLERY_VIEW (aigc_gallery_view_get_type())
G_DECLARE_FINAL_TYPE(AigcGalleryView, aigc_gallery_view, AIGC, GALLERY_VIEW, GtkWidget)

void aigc_gallery_view_set_store(AigcGalleryView *self, AigcGalleryStore *store);
/* (nullable) (transfer none) */
AigcGalleryItem *aigc_gallery_view_get_selected(AigcGalleryView *self);
void aigc_gallery_view_select(AigcGalleryView *self, guint position);
/* Shows only one kind; -1 shows all. */
void aigc_gallery_view_set_filter(AigcGalleryView *self, int kind);
/* Exports the selected item (Ctrl+S on the Gallery page). */
void aigc_gallery_view_export_selected(AigcGalleryView *self);

G_END_DECLS
