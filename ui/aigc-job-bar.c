/* SPDX-License-Identifier: MIT
 *
 * Rows are built per AigcJobHandle and follow its property notifications; a 1 Hz tick refreshes
 * the elapsed and remaining times while any job is listed.
 */
#include "aigc-job-bar.h"

#include "aigc-ui-private.h"

struct _AigcJobBar {
    GtkWidget parent_instance;
    GtkRevealer *revealer;
    GtkListBox *list;
    AigcEngineBridge *bridge;
    guint tick_id;
};

G_DEFINE_FINAL_TYPE(AigcJobBar, aigc_job_bar, GTK_TYPE_WIDGET)

typedef struct {
    AigcJobHandle *handle;
    GtkLabel *title;
    GtkLabel *stage;
    GtkLabel *times;
    GtkProgressBar *progress;
    gulong notify_id;
} Row;

static void row_free(gpointer data)
{
    Row *row = data;
    g_object_unref(row->handle);
    g_free(row);
}

static void row_refresh(Row *row)
{
    AigcJobHandle *h = row->handle;
    AigcJobState state = aigc_job_handle_get_state(h);
    const char *stage = aigc_job_handle_get_stage(h);
    if (state == AIGC_JOB_QUEUED)
        gtk_label_set_text(row->stage, _("Waiting"));
    else
        gtk_label_set_text(row->stage, stage ? stage : _("Working"));
    gtk_progress_bar_set_fraction(row->progress, aigc_job_handle_get_fraction(h));

    if (state == AIGC_JOB_QUEUED) {
        gtk_label_set_text(row->times, "");
        return;
    }
    g_autofree char *elapsed = aigc_ui_format_duration(aigc_job_handle_get_elapsed(h));
    double left = aigc_job_handle_get_time_left(h);
    if (left >= 0) {
        g_autofree char *l = aigc_ui_format_duration(left);
        /* Translators: elapsed time · time left, e.g. "0:12 · 1:05 left" */
        g_autofree char *text = g_strdup_printf(_("%s · %s left"), elapsed, l);
        gtk_label_set_text(row->times, text);
    } else {
        gtk_label_set_text(row->times, elapsed);
    }
}

static void on_handle_notify(GObject *object, GParamSpec *pspec, Row *row)
{
    row_refresh(row);
}

static void on_row_destroy(GtkWidget *box, Row *row)
{
    g_clear_signal_handler(&row->notify_id, row->handle);
}

static void on_cancel_clicked(GtkButton *button, Row *row)
{
    aigc_job_handle_cancel(row->handle);
    gtk_widget_set_sensitive(GTK_WIDGET(button), FALSE);
    gtk_label_set_text(row->stage, _("Stopping…"));
}

static GtkWidget *create_row(gpointer item, gpointer user_data)
{
    AigcJobHandle *handle = item;
    Row *row = g_new0(Row, 1);
    row->handle = g_object_ref(handle);

    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    gtk_widget_add_css_class(box, "job-row");
    row->title = GTK_LABEL(gtk_label_new(aigc_job_handle_get_title(handle)));
    gtk_widget_add_css_class(GTK_WIDGET(row->title), "heading");
    gtk_label_set_ellipsize(row->title, PANGO_ELLIPSIZE_END);
    gtk_label_set_xalign(row->title, 0);
    gtk_label_set_width_chars(row->title, 16);
    gtk_label_set_max_width_chars(row->title, 28);
    row->stage = GTK_LABEL(gtk_label_new(NULL));
    gtk_label_set_xalign(row->stage, 0);
    gtk_label_set_width_chars(row->stage, 14);
    gtk_label_set_ellipsize(row->stage, PANGO_ELLIPSIZE_END);
    gtk_widget_add_css_class(GTK_WIDGET(row->stage), "dim-label");
    row->progress = GTK_PROGRESS_BAR(gtk_progress_bar_new());
    gtk_widget_set_hexpand(GTK_WIDGET(row->progress), TRUE);
    gtk_widget_set_valign(GTK_WIDGET(row->progress), GTK_ALIGN_CENTER);
    row->times = GTK_LABEL(gtk_label_new(NULL));
    gtk_label_set_width_chars(row->times, 15);
    gtk_label_set_xalign(row->times, 1);
    gtk_widget_add_css_class(GTK_WIDGET(row->times), "numeric");
    GtkWidget *cancel = gtk_button_new_from_icon_name("process-stop-symbolic");
    gtk_widget_set_tooltip_text(cancel, _("Cancel"));
    gtk_accessible_update_property(GTK_ACCESSIBLE(cancel), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("Cancel"), -1);
    gtk_widget_add_css_class(cancel, "flat");
    gtk_widget_add_css_class(cancel, "circular");

    gtk_box_append(GTK_BOX(box), GTK_WIDGET(row->title));
    gtk_box_append(GTK_BOX(box), GTK_WIDGET(row->stage));
    gtk_box_append(GTK_BOX(box), GTK_WIDGET(row->progress));
    gtk_box_append(GTK_BOX(box), GTK_WIDGET(row->times));
    gtk_box_append(GTK_BOX(box), cancel);

    g_signal_connect(cancel, "clicked", G_CALLBACK(on_cancel_clicked), row);
    row->notify_id = g_signal_connect(handle, "notify", G_CALLBACK(on_handle_notify), row);
    g_object_set_data_full(G_OBJECT(box), "aigc-row", row, row_free);
    /* The labels go before the row data does: stop listening first. */
    g_signal_connect(box, "destroy", G_CALLBACK(on_row_destroy), row);
    row_refresh(row);
    return box;
}

static gboolean on_tick(gpointer data)
{
    AigcJobBar *self = data;
    for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(self->list)); child;
         child = gtk_widget_get_next_sibling(child)) {
        GtkWidget *box = gtk_list_box_row_get_child(GTK_LIST_BOX_ROW(child));
        Row *row = box ? g_object_get_data(G_OBJECT(box), "aigc-row") : NULL;
        if (row)
            row_refresh(row);
    }
    return G_SOURCE_CONTINUE;
}

static void on_jobs_changed(GListModel *jobs, guint pos, guint removed, guint added,
                            AigcJobBar *self)
{
    gboolean any = g_list_model_get_n_items(jobs) > 0;
    gtk_revealer_set_reveal_child(self->revealer, any);
    if (any && !self->tick_id)
        self->tick_id = g_timeout_add_seconds(1, on_tick, self);
    else if (!any && self->tick_id)
        g_clear_handle_id(&self->tick_id, g_source_remove);
}

/* Jobs of an interactive view (panel id ending in "-view", e.g. the Scene panel's orbit) come
 * and go many times a second: the bar lists only the others. */
static gboolean is_listed(gpointer item, gpointer data)
{
    const char *panel = aigc_job_handle_get_panel(AIGC_JOB_HANDLE(item));
    return !panel || !g_str_has_suffix(panel, "-view");
}

void aigc_job_bar_set_bridge(AigcJobBar *self, AigcEngineBridge *bridge)
{
    g_return_if_fail(self->bridge == NULL);
    self->bridge = g_object_ref(bridge);
    GListModel *all = aigc_engine_bridge_get_jobs(bridge);
    GtkFilterListModel *jobs = gtk_filter_list_model_new(
        g_object_ref(all), GTK_FILTER(gtk_custom_filter_new(is_listed, NULL, NULL)));
    gtk_list_box_bind_model(self->list, G_LIST_MODEL(jobs), create_row, NULL, NULL);
    g_signal_connect_object(jobs, "items-changed", G_CALLBACK(on_jobs_changed), self, 0);
    g_object_set_data_full(G_OBJECT(self), "aigc-listed-jobs", jobs, g_object_unref);
}

static void aigc_job_bar_dispose(GObject *object)
{
    AigcJobBar *self = AIGC_JOB_BAR(object);
    g_clear_handle_id(&self->tick_id, g_source_remove);
    if (self->list)
        gtk_list_box_bind_model(self->list, NULL, NULL, NULL, NULL);
    gtk_widget_dispose_template(GTK_WIDGET(self), AIGC_TYPE_JOB_BAR);
    g_clear_object(&self->bridge);
    G_OBJECT_CLASS(aigc_job_bar_parent_class)->dispose(object);
}

static void aigc_job_bar_class_init(AigcJobBarClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->dispose = aigc_job_bar_dispose;
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/aigcstudio/Studio/aigc-job-bar.ui");
    gtk_widget_class_bind_template_child(widget_class, AigcJobBar, revealer);
    gtk_widget_class_bind_template_child(widget_class, AigcJobBar, list);
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void aigc_job_bar_init(AigcJobBar *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
