/* SPDX-License-Identifier: MIT
 *
 * AigcWritePanel: the Write workshop panel (DESIGN §2). Lists the write models this build can run;
 * its tools arrive with the Write issue.
 */
#pragma once

#include "aigc-workshop.h"

G_BEGIN_DECLS

#define AIGC_TYPE_WRITE_PANEL (aigc_write_panel_get_type())
G_DECLARE_FINAL_TYPE(AigcWritePanel, aigc_write_panel, AIGC, WRITE_PANEL, AigcWorkshop)

G_END_DECLS
