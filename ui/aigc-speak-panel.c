/* SPDX-License-Identifier: MIT */
#include "aigc-speak-panel.h"

#include "aigc-ui-private.h"

struct _AigcSpeakPanel {
    AigcWorkshop parent_instance;
    GtkDropDown *model_picker;
    GtkStack *content_stack;
};

G_DEFINE_FINAL_TYPE(AigcSpeakPanel, aigc_speak_panel, AIGC_TYPE_WORKSHOP)

static void models_changed(AigcWorkshop *workshop)
{
    AigcSpeakPanel *self = AIGC_SPEAK_PANEL(workshop);
    guint n = g_list_model_get_n_items(G_LIST_MODEL(aigc_workshop_get_models(workshop)));
    gtk_widget_set_sensitive(GTK_WIDGET(self->model_picker), n > 0);
    gtk_stack_set_visible_child_name(self->content_stack, n > 0 ? "models" : "empty");
}

static void aigc_speak_panel_constructed(GObject *object)
{
    G_OBJECT_CLASS(aigc_speak_panel_parent_class)->constructed(object);
    AigcSpeakPanel *self = AIGC_SPEAK_PANEL(object);
    gtk_drop_down_set_model(self->model_picker,
                            G_LIST_MODEL(aigc_workshop_get_models(AIGC_WORKSHOP(self))));
    models_changed(AIGC_WORKSHOP(self));
}

static void aigc_speak_panel_class_init(AigcSpeakPanelClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    AigcWorkshopClass *workshop_class = AIGC_WORKSHOP_CLASS(klass);
    object_class->constructed = aigc_speak_panel_constructed;
    workshop_class->models_changed = models_changed;
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/aigcstudio/Studio/aigc-speak-panel.ui");
    gtk_widget_class_bind_template_child(widget_class, AigcSpeakPanel, model_picker);
    gtk_widget_class_bind_template_child(widget_class, AigcSpeakPanel, content_stack);
}

static void aigc_speak_panel_init(AigcSpeakPanel *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
