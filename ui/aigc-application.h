/* SPDX-License-Identifier: MIT
 *
 * AigcApplication: the studio's GtkApplication (org.aigcstudio.Studio). Owns the engine bridge,
 * the gallery and the settings; holds the app actions (quit, preferences, about) and the
 * keyboard accelerators.
 */
#pragma once

#include "aigc-engine-bridge.h"
#include "aigc-gallery-store.h"

#include <adwaita.h>

G_BEGIN_DECLS

#define AIGC_TYPE_APPLICATION (aigc_application_get_type())
G_DECLARE_FINAL_TYPE(AigcApplication, aigc_application, AIGC, APPLICATION, AdwApplication)

AigcApplication *aigc_application_new(void);
/* (transfer none) (nullable) before startup */
AigcEngineBridge *aigc_application_get_bridge(AigcApplication *self);
AigcGalleryStore *aigc_application_get_gallery(AigcApplication *self);

/* Before GTK starts: picks the Cairo renderer on machines without a GPU render node, where
 * GTK's OpenGL renderer would run on llvmpipe (software GL) and stall the main loop for
 * ~190 ms per frame under load (tests/bench/bench-ui.c). A GSK_RENDERER set by the user wins. */
void aigc_ui_choose_renderer(void);

/* Sets up gettext for the UI (the installed catalogue, or the build tree's). */
void aigc_ui_init_i18n(void);

G_END_DECLS
