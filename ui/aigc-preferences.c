/* SPDX-License-Identifier: MIT */
#include "aigc-preferences.h"

#include "aigc-audio-devices.h"
#include "aigc-ui-private.h"

struct _AigcPreferences {
    AdwPreferencesWindow parent_instance;
    GtkSpinButton *threads_spin;
    AdwActionRow *export_row;
    AdwComboRow *audio_row;
    AdwComboRow *style_row;
    GSettings *settings;
};

G_DEFINE_FINAL_TYPE(AigcPreferences, aigc_preferences, ADW_TYPE_PREFERENCES_WINDOW)

static const char *const schemes[] = {"default", "light", "dark"};

static gboolean scheme_to_index(GValue *value, GVariant *variant, gpointer data)
{
    const char *s = g_variant_get_string(variant, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(schemes); i++) {
        if (g_strcmp0(s, schemes[i]) == 0) {
            g_value_set_uint(value, i);
            return TRUE;
        }
    }
    g_value_set_uint(value, 0);
    return TRUE;
}

static GVariant *index_to_scheme(const GValue *value, const GVariantType *type, gpointer data)
{
    guint i = g_value_get_uint(value);
    return g_variant_new_string(schemes[MIN(i, G_N_ELEMENTS(schemes) - 1)]);
}

/* The audio row lists "System Default" then the devices; the setting holds a device name, ''
 * for the default. A saved device that is not plugged in now is still listed, so it persists. */
static void setup_audio_row(AigcPreferences *self)
{
    g_auto(GStrv) devices = aigc_audio_output_devices();
    g_autofree char *saved = g_settings_get_string(self->settings, "audio-device");
    GtkStringList *list = gtk_string_list_new(NULL);
    gtk_string_list_append(list, _("System Default"));
    guint selected = 0;
    for (guint i = 0; devices[i]; i++) {
        gtk_string_list_append(list, devices[i]);
        if (g_strcmp0(devices[i], saved) == 0)
            selected = i + 1;
    }
    if (saved && *saved && selected == 0) {
        gtk_string_list_append(list, saved);
        selected = g_list_model_get_n_items(G_LIST_MODEL(list)) - 1;
    }
    adw_combo_row_set_model(self->audio_row, G_LIST_MODEL(list));
    adw_combo_row_set_selected(self->audio_row, selected);
    g_object_unref(list);
    if (!devices[0])
        adw_action_row_set_subtitle(ADW_ACTION_ROW(self->audio_row),
                                    _("No sound output was found on this computer"));
}

static void on_audio_selected(AdwComboRow *row, GParamSpec *pspec, AigcPreferences *self)
{
    guint i = adw_combo_row_get_selected(row);
    GtkStringObject *item = adw_combo_row_get_selected_item(row);
    g_settings_set_string(self->settings, "audio-device",
                          i == 0 || !item ? "" : gtk_string_object_get_string(item));
}

static void update_export_subtitle(AigcPreferences *self)
{
    g_autofree char *folder = g_settings_get_string(self->settings, "export-folder");
    const char *shown = folder && *folder ? folder
                                          : g_get_user_special_dir(G_USER_DIRECTORY_PICTURES);
    adw_action_row_set_subtitle(self->export_row, shown ? shown : g_get_home_dir());
}

static void on_export_folder_changed(GSettings *settings, const char *key, AigcPreferences *self)
{
    update_export_subtitle(self);
    setup_audio_row(self);
    g_signal_connect_object(self->audio_row, "notify::selected", G_CALLBACK(on_audio_selected),
                            self, 0);
}

static void on_folder_response(GtkNativeDialog *dialog, int response, AigcPreferences *self)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = g_file_get_path(file);
        if (path)
            g_settings_set_string(self->settings, "export-folder", path);
    }
    g_object_unref(dialog);
}

static void on_choose_folder(GtkButton *button, AigcPreferences *self)
{
    GtkFileChooserNative *dialog =
        gtk_file_chooser_native_new(_("Default Export Folder"), GTK_WINDOW(self),
                                    GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Select"),
                                    _("_Cancel"));
    g_signal_connect(dialog, "response", G_CALLBACK(on_folder_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static void aigc_preferences_dispose(GObject *object)
{
    AigcPreferences *self = AIGC_PREFERENCES(object);
    gtk_widget_dispose_template(GTK_WIDGET(self), AIGC_TYPE_PREFERENCES);
    g_clear_object(&self->settings);
    G_OBJECT_CLASS(aigc_preferences_parent_class)->dispose(object);
}

static void aigc_preferences_class_init(AigcPreferencesClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->dispose = aigc_preferences_dispose;
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/aigcstudio/Studio/aigc-preferences.ui");
    gtk_widget_class_bind_template_child(widget_class, AigcPreferences, threads_spin);
    gtk_widget_class_bind_template_child(widget_class, AigcPreferences, export_row);
    gtk_widget_class_bind_template_child(widget_class, AigcPreferences, audio_row);
    gtk_widget_class_bind_template_child(widget_class, AigcPreferences, style_row);
    gtk_widget_class_bind_template_callback(widget_class, on_choose_folder);
}

static void aigc_preferences_init(AigcPreferences *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->settings = aigc_ui_settings_new();
    g_settings_bind(self->settings, "compute-threads", self->threads_spin, "value",
                    G_SETTINGS_BIND_DEFAULT);
    g_settings_bind_with_mapping(self->settings, "color-scheme", self->style_row, "selected",
                                 G_SETTINGS_BIND_DEFAULT, scheme_to_index, index_to_scheme, NULL,
                                 NULL);
    g_signal_connect_object(self->settings, "changed::export-folder",
                            G_CALLBACK(on_export_folder_changed), self, 0);
    update_export_subtitle(self);
    setup_audio_row(self);
    g_signal_connect_object(self->audio_row, "notify::selected", G_CALLBACK(on_audio_selected),
                            self, 0);
}

AigcPreferences *aigc_preferences_new(GtkWindow *parent)
{
    return g_object_new(AIGC_TYPE_PREFERENCES, "transient-for", parent, NULL);
}
