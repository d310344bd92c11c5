/* SPDX-License-Identifier: MIT
 *
 * AigcScenePanel: the Scene workshop panel (DESIGN §2): train a radiance field on a dataset
 * folder with a live PSNR plot and preview, orbit the trained scene, render a turntable, export
 * the view, open the aigc-view window.
 */
#pragma once

#include "aigc-workshop.h"

G_BEGIN_DECLS

#define AIGC_TYPE_SCENE_PANEL (aigc_scene_panel_get_type())
G_DECLARE_FINAL_TYPE(AigcScenePanel, aigc_scene_panel, AIGC, SCENE_PANEL, AigcWorkshop)

/* Writes the current full-resolution view as PNG (with its parameters) and keeps it in the
 * gallery: what Export does once a file is chosen. */
gboolean aigc_scene_panel_export_to(AigcScenePanel *self, const char *path, GError **error);

G_END_DECLS
