/* SPDX-License-Identifier: MIT
 *
 * AigcSpeakPanel: the Speak workshop panel (DESIGN §2). Lists the speak models this build can run;
 * its tools arrive with the Speak issue.
 */
#pragma once

#include "aigc-workshop.h"

G_BEGIN_DECLS

#define AIGC_TYPE_SPEAK_PANEL (aigc_speak_panel_get_type())
G_DECLARE_FINAL_TYPE(AigcSpeakPanel, aigc_speak_panel, AIGC, SPEAK_PANEL, AigcWorkshop)

G_END_DECLS
