/* SPDX-License-Identifier: MIT
 *
 * Small shared pieces of ui/: gettext, the main-thread check and the settings constructor.
 */
#pragma once

#include <glib/gi18n-lib.h>
#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Records the calling thread as the GTK main thread (once, from the application). */
void aigc_ui_mark_main_thread(void);
gboolean aigc_ui_is_main_thread(void);

/* Every function that touches widgets on behalf of the engine asserts this: engine callbacks
 * must have been re-delivered by the bridge first (STYLE rule 10). */
#define AIGC_ASSERT_MAIN_THREAD()                                                              \
    g_assert(aigc_ui_is_main_thread() && "GTK used off the main thread")

/* (transfer full) The application's settings: the installed schema, or the one compiled into
 * the build tree when running uninstalled. */
GSettings *aigc_ui_settings_new(void);

/* Formats seconds as "0:07" or "1:02:03". */
char *aigc_ui_format_duration(double seconds);

G_END_DECLS
