/* SPDX-License-Identifier: MIT */
#include "aigc-application.h"

#include "aigc-config.h"
#include "aigc-preferences.h"
#include "aigc-ui-private.h"
#include "aigc-window.h"

#include <locale.h>

struct _AigcApplication {
    AdwApplication parent_instance;
    AigcEngineBridge *bridge;
    AigcGalleryStore *gallery;
    GSettings *settings;
};

G_DEFINE_FINAL_TYPE(AigcApplication, aigc_application, ADW_TYPE_APPLICATION)

void aigc_ui_choose_renderer(void)
{
    if (!g_getenv("GSK_RENDERER") && !g_file_test("/dev/dri", G_FILE_TEST_IS_DIR))
        g_setenv("GSK_RENDERER", "cairo", TRUE);
}

void aigc_ui_init_i18n(void)
{
    setlocale(LC_ALL, "");
    const char *dir = AIGC_LOCALEDIR;
    g_autofree char *probe = g_build_filename(dir, "zh_CN", "LC_MESSAGES", GETTEXT_PACKAGE ".mo",
                                              NULL);
    if (!g_file_test(probe, G_FILE_TEST_EXISTS))
        dir = AIGC_BUILD_LOCALEDIR; /* uninstalled */
    bindtextdomain(GETTEXT_PACKAGE, dir);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
}

AigcEngineBridge *aigc_application_get_bridge(AigcApplication *self)
{
    return self->bridge;
}

AigcGalleryStore *aigc_application_get_gallery(AigcApplication *self)
{
    return self->gallery;
}

static void apply_color_scheme(AigcApplication *self)
{
    g_autofree char *scheme = g_settings_get_string(self->settings, "color-scheme");
    AdwColorScheme s = ADW_COLOR_SCHEME_DEFAULT;
    if (g_strcmp0(scheme, "light") == 0)
        s = ADW_COLOR_SCHEME_FORCE_LIGHT;
    else if (g_strcmp0(scheme, "dark") == 0)
        s = ADW_COLOR_SCHEME_FORCE_DARK;
    adw_style_manager_set_color_scheme(adw_style_manager_get_default(), s);
}

static void on_scheme_changed(GSettings *settings, const char *key, AigcApplication *self)
{
    apply_color_scheme(self);
}

static void on_quit_response(AdwMessageDialog *dialog, const char *response, AigcApplication *self)
{
    if (g_strcmp0(response, "quit") == 0) {
        aigc_engine_bridge_cancel_all(self->bridge);
        g_application_quit(G_APPLICATION(self));
    }
}

static void action_quit(GSimpleAction *action, GVariant *param, gpointer data)
{
    AigcApplication *self = data;
    GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(self));
    if (!self->bridge || !aigc_engine_bridge_is_busy(self->bridge, NULL) || !window) {
        g_application_quit(G_APPLICATION(self));
        return;
    }
    GtkWidget *dialog = adw_message_dialog_new(window, _("Stop Running Jobs and Quit?"),
                                               _("Work in progress is lost; finished results "
                                                 "are already in the gallery."));
    adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog), "cancel", _("_Cancel"), "quit",
                                     _("_Quit"), NULL);
    adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(dialog), "quit",
                                               ADW_RESPONSE_DESTRUCTIVE);
    adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
    adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
    g_signal_connect(dialog, "response", G_CALLBACK(on_quit_response), self);
    gtk_window_present(GTK_WINDOW(dialog));
}

static void action_preferences(GSimpleAction *action, GVariant *param, gpointer data)
{
    GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(data));
    gtk_window_present(GTK_WINDOW(aigc_preferences_new(window)));
}

static void action_about(GSimpleAction *action, GVariant *param, gpointer data)
{
    GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(data));
    const char *developers[] = {"The aigc-studio developers", NULL};
    GtkWidget *about = g_object_new(
        ADW_TYPE_ABOUT_WINDOW, "transient-for", window, "application-name", _("AIGC Studio"),
        "application-icon", "org.aigcstudio.Studio", "version", AIGC_VERSION, "developer-name",
        _("The aigc-studio developers"), "developers", developers, "license-type",
        GTK_LICENSE_MIT_X11, "comments",
        _("Write, paint, give text a voice and orbit 3D scenes with generative models that "
          "you can train on your own computer, offline."),
        "copyright", "© 2026 the aigc-studio developers", NULL);
    adw_about_window_add_legal_section(
        ADW_ABOUT_WINDOW(about), _("Training data"), NULL, GTK_LICENSE_CUSTOM,
        _("Fashion-MNIST © Zalando SE (MIT). Fortune cookies (BSD). King James Bible (public "
          "domain). Brown Corpus (redistribution permitted). Tang poems from fortunes-zh "
          "(GPL-3.0+). Asterisk sounds by Allison Smith (CC-BY-SA-3.0). POV-Ray example scenes "
          "(CC-BY-SA-3.0). Each model card names its data."));
    gtk_window_present(GTK_WINDOW(about));
}

static const GActionEntry app_actions[] = {
    {"quit", action_quit},
    {"preferences", action_preferences},
    {"about", action_about},
};

static void aigc_application_startup(GApplication *app)
{
    AigcApplication *self = AIGC_APPLICATION(app);
    G_APPLICATION_CLASS(aigc_application_parent_class)->startup(app);
    aigc_ui_mark_main_thread();
    self->settings = aigc_ui_settings_new();
    apply_color_scheme(self);
    g_signal_connect_object(self->settings, "changed::color-scheme",
                            G_CALLBACK(on_scheme_changed), self, 0);
    self->bridge = aigc_engine_bridge_new(g_settings_get_int(self->settings, "compute-threads"));
    self->gallery = aigc_gallery_store_new(NULL);
    aigc_gallery_store_load(self->gallery);

    g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions),
                                    app);
    GtkApplication *gapp = GTK_APPLICATION(app);
    gtk_application_set_accels_for_action(gapp, "app.quit", (const char *[]){"<Primary>q", NULL});
    gtk_application_set_accels_for_action(gapp, "app.preferences",
                                          (const char *[]){"<Primary>comma", NULL});
    gtk_application_set_accels_for_action(gapp, "win.show-help-overlay",
                                          (const char *[]){"<Primary>question", NULL});
    gtk_application_set_accels_for_action(
        gapp, "win.generate", (const char *[]){"<Primary>Return", "<Primary>KP_Enter", NULL});
    gtk_application_set_accels_for_action(gapp, "win.stop", (const char *[]){"Escape", NULL});
    gtk_application_set_accels_for_action(gapp, "win.export", (const char *[]){"<Primary>s", NULL});
    static const char *const pages[] = {"write", "paint", "speak", "scene", "gallery"};
    for (guint i = 0; i < G_N_ELEMENTS(pages); i++) {
        g_autofree char *detailed = g_strdup_printf("win.show-page::%s", pages[i]);
        g_autofree char *accel = g_strdup_printf("<Primary>%u", i + 1);
        const char *accels[] = {accel, NULL};
        gtk_application_set_accels_for_action(gapp, detailed, accels);
    }
}

static void aigc_application_activate(GApplication *app)
{
    AigcApplication *self = AIGC_APPLICATION(app);
    GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(app));
    if (!window)
        window = GTK_WINDOW(aigc_window_new(ADW_APPLICATION(app), self->bridge, self->gallery));
    gtk_window_present(window);
}

static void aigc_application_shutdown(GApplication *app)
{
    AigcApplication *self = AIGC_APPLICATION(app);
    if (self->bridge)
        aigc_engine_bridge_cancel_all(self->bridge);
    G_APPLICATION_CLASS(aigc_application_parent_class)->shutdown(app);
    g_clear_object(&self->bridge);
    g_clear_object(&self->gallery);
    g_clear_object(&self->settings);
}

static void aigc_application_class_init(AigcApplicationClass *klass)
{
    GApplicationClass *app_class = G_APPLICATION_CLASS(klass);
    app_class->startup = aigc_application_startup;
    app_class->activate = aigc_application_activate;
    app_class->shutdown = aigc_application_shutdown;
}

static void aigc_application_init(AigcApplication *self)
{
}

AigcApplication *aigc_application_new(void)
{
    return g_object_new(AIGC_TYPE_APPLICATION, "application-id", "org.aigcstudio.Studio",
                        "flags", G_APPLICATION_DEFAULT_FLAGS, "resource-base-path",
                        "/org/aigcstudio/Studio", NULL);
}
