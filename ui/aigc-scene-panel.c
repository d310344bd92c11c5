/* SPDX-License-Identifier: MIT */
#include "aigc-scene-panel.h"

#include "aigc-ui-private.h"

struct _AigcScenePanel {
    AigcWorkshop parent_instance;
    GtkDropDown *model_picker;
    GtkStack *content_stack;
};

G_DEFINE_FINAL_TYPE(AigcScenePanel, aigc_scene_panel, AIGC_TYPE_WORKSHOP)

static void models_changed(AigcWorkshop *workshop)
{
    AigcScenePanel *self = AIGC_SCENE_PANEL(workshop);
    guint n = g_list_model_get_n_items(G_LIST_MODEL(aigc_workshop_get_models(workshop)));
    gtk_widget_set_sensitive(GTK_WIDGET(self->model_picker), n > 0);
    gtk_stack_set_visible_child_name(self->content_stack, n > 0 ? "models" : "empty");
}

static void aigc_scene_panel_constructed(GObject *object)
{
    G_OBJECT_CLASS(aigc_scene_panel_parent_class)->constructed(object);
    AigcScenePanel *self = AIGC_SCENE_PANEL(object);
    gtk_drop_down_set_model(self->model_picker,
                            G_LIST_MODEL(aigc_workshop_get_models(AIGC_WORKSHOP(self))));
    models_changed(AIGC_WORKSHOP(self));
}

static void aigc_scene_panel_class_init(AigcScenePanelClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    AigcWorkshopClass *workshop_class = AIGC_WORKSHOP_CLASS(klass);
    object_class->constructed = aigc_scene_panel_constructed;
    workshop_class->models_changed = models_changed;
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/aigcstudio/Studio/aigc-scene-panel.ui");
    gtk_widget_class_bind_template_child(widget_class, AigcScenePanel, model_picker);
    gtk_widget_class_bind_template_child(widget_class, AigcScenePanel, content_stack);
}

static void aigc_scene_panel_init(AigcScenePanel *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
