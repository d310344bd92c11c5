/* SPDX-License-Identifier: MIT
 *
 * AigcWindow: the studio window — header bar with the view switcher (Write, Paint, Speak, Scene,
 * Gallery), the main menu, the five pages, the job bar and toasts.
 */
#pragma once

#include "aigc-engine-bridge.h"
#include "aigc-gallery-store.h"
#include "aigc-workshop.h"

#include <adwaita.h>

G_BEGIN_DECLS

#define AIGC_TYPE_WINDOW (aigc_window_get_type())
G_DECLARE_FINAL_TYPE(AigcWindow, aigc_window, AIGC, WINDOW, AdwApplicationWindow)

AigcWindow *aigc_window_new(AdwApplication *app, AigcEngineBridge *bridge,
                            AigcGalleryStore *gallery);
/* Shows a page: "write", "paint", "speak", "scene" or "gallery". */
void aigc_window_show_page(AigcWindow *self, const char *name);
const char *aigc_window_get_page(AigcWindow *self);
/* (nullable) (transfer none) The workshop on the visible page. */
AigcWorkshop *aigc_window_get_workshop(AigcWindow *self);
/* (transfer none) */
AigcWorkshop *aigc_window_get_workshop_by_id(AigcWindow *self, const char *id);
void aigc_window_toast(AigcWindow *self, const char *message);
/* (transfer none) The Gallery page's view. */
GtkWidget *aigc_window_get_gallery_view(AigcWindow *self);

G_END_DECLS
