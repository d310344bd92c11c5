/* SPDX-License-Identifier: MIT */
#include "aigc-window.h"

#include "aigc-gallery-view.h"
#include "aigc-job-bar.h"
#include "aigc-paint-panel.h"
#include "aigc-scene-panel.h"
#include "aigc-speak-panel.h"
#include "aigc-ui-private.h"
#include "aigc-write-panel.h"

struct _AigcWindow {
    AdwApplicationWindow parent_instance;
    AdwToastOverlay *toasts;
    AdwViewStack *stack;
    AigcWritePanel *write_panel;
    AigcPaintPanel *paint_panel;
    AigcSpeakPanel *speak_panel;
    AigcScenePanel *scene_panel;
    AigcGalleryView *gallery_view;
    AigcJobBar *job_bar;
    AigcEngineBridge *bridge;
    AigcGalleryStore *gallery;
    GSettings *settings;
};

G_DEFINE_FINAL_TYPE(AigcWindow, aigc_window, ADW_TYPE_APPLICATION_WINDOW)


AigcWorkshop *aigc_window_get_workshop_by_id(AigcWindow *self, const char *id)
{
    if (g_strcmp0(id, "write") == 0)
        return AIGC_WORKSHOP(self->write_panel);
    if (g_strcmp0(id, "paint") == 0)
        return AIGC_WORKSHOP(self->paint_panel);
    if (g_strcmp0(id, "speak") == 0)
        return AIGC_WORKSHOP(self->speak_panel);
    if (g_strcmp0(id, "scene") == 0)
        return AIGC_WORKSHOP(self->scene_panel);
    return NULL;
}

const char *aigc_window_get_page(AigcWindow *self)
{
    return adw_view_stack_get_visible_child_name(self->stack);
}

AigcWorkshop *aigc_window_get_workshop(AigcWindow *self)
{
    return aigc_window_get_workshop_by_id(self, aigc_window_get_page(self));
}

void aigc_window_show_page(AigcWindow *self, const char *name)
{
    adw_view_stack_set_visible_child_name(self->stack, name);
}

GtkWidget *aigc_window_get_gallery_view(AigcWindow *self)
{
    return GTK_WIDGET(self->gallery_view);
}

void aigc_window_toast(AigcWindow *self, const char *message)
{
    AdwToast *toast = adw_toast_new(message);
    adw_toast_set_timeout(toast, 8);
    adw_toast_overlay_add_toast(self->toasts, toast);
}

/* Generate, Stop and Export follow the visible panel and its jobs. */
static void update_actions(AigcWindow *self)
{
    AigcWorkshop *w = aigc_window_get_workshop(self);
    gboolean busy = w && aigc_workshop_get_busy(w);
    /* Scene's main action trains a new scene from a dataset folder: it needs no model. */
    gboolean has_models =
        w && (g_list_model_get_n_items(G_LIST_MODEL(aigc_workshop_get_models(w))) > 0 ||
              aigc_workshop_get_modality(w) == AIGC_MODALITY_SCENE);
    gboolean is_gallery = g_strcmp0(aigc_window_get_page(self), "gallery") == 0;
    GActionMap *map = G_ACTION_MAP(self);
    g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "generate")),
                                w && !busy && has_models);
    g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "stop")), busy);
    g_simple_action_set_enabled(G_SIMPLE_ACTION(g_action_map_lookup_action(map, "export")),
                                is_gallery ? aigc_gallery_view_get_selected(self->gallery_view) !=
                                                 NULL
                                           : (w && aigc_workshop_get_has_result(w)));
}

/* A page shown (at start or from the switcher) puts the focus on its first input, so a user can
 * type at once. */
static void focus_page(AigcWindow *self)
{
    GtkWidget *page = adw_view_stack_get_visible_child(self->stack);
    if (page && AIGC_IS_WORKSHOP(page))
        gtk_widget_grab_focus(page);
}

static void on_state_changed(GObject *object, GParamSpec *pspec, AigcWindow *self)
{
    update_actions(self);
}

static void action_generate(GSimpleAction *action, GVariant *param, gpointer data)
{
    AigcWorkshop *w = aigc_window_get_workshop(AIGC_WINDOW(data));
    if (w)
        aigc_workshop_generate(w);
}

static void action_stop(GSimpleAction *action, GVariant *param, gpointer data)
{
    AigcWorkshop *w = aigc_window_get_workshop(AIGC_WINDOW(data));
    if (w)
        aigc_workshop_stop(w);
}

static void action_export(GSimpleAction *action, GVariant *param, gpointer data)
{
    AigcWindow *self = AIGC_WINDOW(data);
    AigcWorkshop *w = aigc_window_get_workshop(self);
    if (w)
        aigc_workshop_export_result(w);
    else
        aigc_gallery_view_export_selected(self->gallery_view);
}

static void action_show_page(GSimpleAction *action, GVariant *param, gpointer data)
{
    aigc_window_show_page(AIGC_WINDOW(data), g_variant_get_string(param, NULL));
}

static const GActionEntry win_actions[] = {
    {"generate", action_generate},
    {"stop", action_stop},
    {"export", action_export},
    {"show-page", action_show_page, "s"},
};

static void on_use_settings(AigcGalleryView *view, AigcGalleryItem *item, AigcWindow *self)
{
    AigcWorkshop *w = aigc_window_get_workshop_by_id(self, aigc_gallery_item_get_panel(item));
    if (!w) {
        aigc_window_toast(self, _("This item was not made by a workshop panel"));
        return;
    }
    aigc_workshop_restore_settings(w, aigc_gallery_item_get_params(item));
    aigc_window_show_page(self, aigc_workshop_get_id(w));
}

static void on_workshop_toast(AigcWorkshop *w, const char *message, AigcWindow *self)
{
    aigc_window_toast(self, message);
}

static void on_send_text(AigcWorkshop *w, const char *panel, const char *text, AigcWindow *self)
{
    AigcWorkshop *target = aigc_window_get_workshop_by_id(self, panel);
    if (!target)
        return;
    g_autoptr(JsonObject) params = json_object_new();
    json_object_set_string_member(params, "text", text);
    aigc_workshop_restore_settings(target, params);
    aigc_window_show_page(self, panel);
}

static void on_gallery_failed(AigcGalleryView *view, const char *message, AigcWindow *self)
{
    aigc_window_toast(self, message);
}

static const char *error_advice(const GError *error)
{
    if (error->domain != AIGC_ENGINE_ERROR)
        return _("Try again; if it keeps failing, restart the studio.");
    switch (error->code) {
    case AIGC_ENGINE_ERROR_IO: return _("Check that the file exists and the folder is writable.");
    case AIGC_ENGINE_ERROR_FORMAT:
        return _("The file is damaged or of another kind; choose another one.");
    case AIGC_ENGINE_ERROR_NOT_FOUND: return _("Install or train that model first.");
    case AIGC_ENGINE_ERROR_NUMERIC: return _("Training diverged: lower the learning rate.");
    case AIGC_ENGINE_ERROR_INVALID: return _("Change that setting and try again.");
    default: return _("Try again; if it keeps failing, restart the studio.");
    }
}

static void on_job_done(AigcEngineBridge *bridge, AigcJobHandle *handle, int state,
                        const GError *error, AigcWindow *self)
{
    AIGC_ASSERT_MAIN_THREAD();
    update_actions(self);
    if (state != AIGC_JOB_FAILED || !error)
        return; /* a cancelled job is not an error */
    /* Translators: "<job> failed: <reason>. <what to do>" */
    g_autofree char *msg = g_strdup_printf(_("%s failed: %s. %s"),
                                           aigc_job_handle_get_title(handle), error->message,
                                           error_advice(error));
    aigc_window_toast(self, msg);
}

static gboolean on_close_request(GtkWindow *window)
{
    AigcWindow *self = AIGC_WINDOW(window);
    int w, h;
    gtk_window_get_default_size(window, &w, &h);
    g_settings_set(self->settings, "window-size", "(ii)", w, h);
    g_settings_set_boolean(self->settings, "window-maximized", gtk_window_is_maximized(window));
    return FALSE;
}

static void aigc_window_dispose(GObject *object)
{
    AigcWindow *self = AIGC_WINDOW(object);
    gtk_widget_dispose_template(GTK_WIDGET(self), AIGC_TYPE_WINDOW);
    g_clear_object(&self->bridge);
    g_clear_object(&self->gallery);
    g_clear_object(&self->settings);
    G_OBJECT_CLASS(aigc_window_parent_class)->dispose(object);
}

static void aigc_window_class_init(AigcWindowClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    GtkWindowClass *window_class = GTK_WINDOW_CLASS(klass);
    object_class->dispose = aigc_window_dispose;
    window_class->close_request = on_close_request;
    g_type_ensure(AIGC_TYPE_WRITE_PANEL);
    g_type_ensure(AIGC_TYPE_PAINT_PANEL);
    g_type_ensure(AIGC_TYPE_SPEAK_PANEL);
    g_type_ensure(AIGC_TYPE_SCENE_PANEL);
    g_type_ensure(AIGC_TYPE_GALLERY_VIEW);
    g_type_ensure(AIGC_TYPE_JOB_BAR);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/aigcstudio/Studio/aigc-window.ui");
    gtk_widget_class_bind_template_child(widget_class, AigcWindow, toasts);
    gtk_widget_class_bind_template_child(widget_class, AigcWindow, stack);
    gtk_widget_class_bind_template_child(widget_class, AigcWindow, write_panel);
    gtk_widget_class_bind_template_child(widget_class, AigcWindow, paint_panel);
    gtk_widget_class_bind_template_child(widget_class, AigcWindow, speak_panel);
    gtk_widget_class_bind_template_child(widget_class, AigcWindow, scene_panel);
    gtk_widget_class_bind_template_child(widget_class, AigcWindow, gallery_view);
    gtk_widget_class_bind_template_child(widget_class, AigcWindow, job_bar);
}

static void aigc_window_init(AigcWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    g_action_map_add_action_entries(G_ACTION_MAP(self), win_actions, G_N_ELEMENTS(win_actions),
                                    self);
    self->settings = aigc_ui_settings_new();
    int w, h;
    g_settings_get(self->settings, "window-size", "(ii)", &w, &h);
    gtk_window_set_default_size(GTK_WINDOW(self), w, h);
    if (g_settings_get_boolean(self->settings, "window-maximized"))
        gtk_window_maximize(GTK_WINDOW(self));
}

AigcWindow *aigc_window_new(AdwApplication *app, AigcEngineBridge *bridge,
                            AigcGalleryStore *gallery)
{
    AigcWindow *self = g_object_new(AIGC_TYPE_WINDOW, "application", app, NULL);
    self->bridge = g_object_ref(bridge);
    self->gallery = g_object_ref(gallery);
    AigcWorkshop *workshops[] = {AIGC_WORKSHOP(self->write_panel), AIGC_WORKSHOP(self->paint_panel),
                                 AIGC_WORKSHOP(self->speak_panel), AIGC_WORKSHOP(self->scene_panel)};
    for (guint i = 0; i < G_N_ELEMENTS(workshops); i++) {
        aigc_workshop_setup(workshops[i], bridge, gallery);
        g_signal_connect_object(workshops[i], "notify::busy", G_CALLBACK(on_state_changed), self, 0);
        g_signal_connect_object(workshops[i], "notify::has-result", G_CALLBACK(on_state_changed),
                                self, 0);
        g_signal_connect_object(workshops[i], "toast", G_CALLBACK(on_workshop_toast), self, 0);
        g_signal_connect_object(workshops[i], "send-text", G_CALLBACK(on_send_text), self, 0);
    }
    aigc_gallery_view_set_store(self->gallery_view, gallery);
    aigc_job_bar_set_bridge(self->job_bar, bridge);
    g_signal_connect_object(self->gallery_view, "use-settings", G_CALLBACK(on_use_settings), self,
                            0);
    g_signal_connect_object(self->gallery_view, "failed", G_CALLBACK(on_gallery_failed), self, 0);
    g_signal_connect_object(bridge, "job-done", G_CALLBACK(on_job_done), self, 0);
    g_signal_connect_object(self->stack, "notify::visible-child", G_CALLBACK(on_state_changed),
                            self, 0);
    g_signal_connect_object(self->stack, "notify::visible-child", G_CALLBACK(focus_page), self,
                            G_CONNECT_SWAPPED);
    g_signal_connect_object(self, "map", G_CALLBACK(focus_page), self, G_CONNECT_SWAPPED);
    g_signal_connect_object(aigc_engine_bridge_get_jobs(bridge), "items-changed",
                            G_CALLBACK(update_actions), self, G_CONNECT_SWAPPED);
    update_actions(self);
    return self;
}
