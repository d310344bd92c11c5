/* SPDX-License-Identifier: MIT
 *
 * `aigc-studio`: the GTK studio window.
 */
#include "aigc-application.h"

int main(int argc, char **argv)
{
    aigc_ui_choose_renderer();
    aigc_ui_init_i18n();
    g_autoptr(AigcApplication) app = aigc_application_new();
    return g_application_run(G_APPLICATION(app), argc, argv);
}
