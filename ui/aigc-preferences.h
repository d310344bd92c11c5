/* SPDX-License-Identifier: MIT
 *
 * AigcPreferences: the Preferences window, every row bound to GSettings so choices persist.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define AIGC_TYPE_PREFERENCES (aigc_preferences_get_type())
G_DECLARE_FINAL_TYPE(AigcPreferences, aigc_preferences, AIGC, PREFERENCES, AdwPreferencesWindow)

AigcPreferences *aigc_preferences_new(GtkWindow *parent);

G_END_DECLS
