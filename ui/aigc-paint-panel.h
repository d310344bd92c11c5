/* SPDX-License-Identifier: MIT
 *
 * AigcPaintPanel: the Paint workshop panel (DESIGN §2). Lists the paint models this build can run;
 * its tools arrive with the Paint issue.
 */
#pragma once

#include "aigc-workshop.h"

G_BEGIN_DECLS

#define AIGC_TYPE_PAINT_PANEL (aigc_paint_panel_get_type())
G_DECLARE_FINAL_TYPE(AigcPaintPanel, aigc_paint_panel, AIGC, PAINT_PANEL, AigcWorkshop)

G_END_DECLS
