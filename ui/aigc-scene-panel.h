/* SPDX-License-Identifier: MIT
 *
 * AigcScenePanel: the Scene workshop panel (DESIGN §2). Lists the scene models this build can run;
 * its tools arrive with the Scene issue.
 */
#pragma once

#include "aigc-workshop.h"

G_BEGIN_DECLS

#define AIGC_TYPE_SCENE_PANEL (aigc_scene_panel_get_type())
G_DECLARE_FINAL_TYPE(AigcScenePanel, aigc_scene_panel, AIGC, SCENE_PANEL, AigcWorkshop)

G_END_DECLS
