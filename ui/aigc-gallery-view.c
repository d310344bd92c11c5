/* SPDX-License-Identifier: MIT
 *
 * Signals: "use-settings" (AigcGalleryItem *item) asks the window to restore a panel;
 * "failed" (const char *message) reports what went wrong to the window's toasts.
 */
#include "aigc-gallery-view.h"

#include "aigc-engine.h"
#include "aigc-ui-private.h"

struct _AigcGalleryView {
    GtkWidget parent_instance;
    GtkDropDown *kind_filter;
    GtkStack *stack;
    GtkGridView *grid;
    GtkLabel *count_label;
    AigcGalleryStore *store;
    GtkCustomFilter *filter;
    GtkFilterListModel *filtered;
    GtkSingleSelection *selection;
    int kind; /* -1 = all */
};

G_DEFINE_FINAL_TYPE(AigcGalleryView, aigc_gallery_view, GTK_TYPE_WIDGET)

enum { SIGNAL_USE_SETTINGS, SIGNAL_FAILED, N_SIGNALS };
static guint signals[N_SIGNALS];

static gboolean filter_item(gpointer item, gpointer user_data)
{
    AigcGalleryView *self = user_data;
    return self->kind < 0 || (int)aigc_gallery_item_get_kind(item) == self->kind;
}

static const char *kind_icon(AigcGalleryKind kind)
{
    switch (kind) {
    case AIGC_GALLERY_KIND_TEXT: return "document-edit-symbolic";
    case AIGC_GALLERY_KIND_IMAGE: return "image-x-generic-symbolic";
    case AIGC_GALLERY_KIND_AUDIO: return "audio-x-generic-symbolic";
    default: return "camera-photo-symbolic";
    }
}

/* Small images (28×28 samples) are enlarged with nearest-neighbour so they stay crisp. */
static GdkTexture *load_texture(const char *path)
{
    g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file(path, NULL);
    if (!pixbuf)
        return NULL;
    int w = gdk_pixbuf_get_width(pixbuf), h = gdk_pixbuf_get_height(pixbuf);
    if (MAX(w, h) < 160) {
        int scale = MAX(1, 160 / MAX(w, h));
        g_autoptr(GdkPixbuf) big =
            gdk_pixbuf_scale_simple(pixbuf, w * scale, h * scale, GDK_INTERP_NEAREST);
        return gdk_texture_new_for_pixbuf(big);
    }
    return gdk_texture_new_for_pixbuf(pixbuf);
}

static void setup_cell(GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer data)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_widget_add_css_class(box, "gallery-cell");
    GtkWidget *frame = gtk_stack_new();
    gtk_widget_set_size_request(frame, 160, 160);
    gtk_widget_add_css_class(frame, "gallery-thumb");
    GtkWidget *picture = gtk_picture_new();
    gtk_picture_set_content_fit(GTK_PICTURE(picture), GTK_CONTENT_FIT_CONTAIN);
    gtk_stack_add_named(GTK_STACK(frame), picture, "picture");
    GtkWidget *snippet = gtk_label_new(NULL);
    gtk_label_set_wrap(GTK_LABEL(snippet), TRUE);
    gtk_label_set_lines(GTK_LABEL(snippet), 7);
    gtk_label_set_ellipsize(GTK_LABEL(snippet), PANGO_ELLIPSIZE_END);
    gtk_label_set_max_width_chars(GTK_LABEL(snippet), 20);
    gtk_label_set_xalign(GTK_LABEL(snippet), 0);
    gtk_label_set_yalign(GTK_LABEL(snippet), 0);
    gtk_widget_add_css_class(snippet, "gallery-snippet");
    gtk_stack_add_named(GTK_STACK(frame), snippet, "snippet");
    GtkWidget *icon = gtk_image_new();
    gtk_image_set_pixel_size(GTK_IMAGE(icon), 48);
    gtk_widget_add_css_class(icon, "dim-label");
    gtk_stack_add_named(GTK_STACK(frame), icon, "icon");
    GtkWidget *title = gtk_label_new(NULL);
    gtk_label_set_ellipsize(GTK_LABEL(title), PANGO_ELLIPSIZE_END);
    gtk_label_set_max_width_chars(GTK_LABEL(title), 18);
    GtkWidget *subtitle = gtk_label_new(NULL);
    gtk_label_set_ellipsize(GTK_LABEL(subtitle), PANGO_ELLIPSIZE_END);
    gtk_label_set_max_width_chars(GTK_LABEL(subtitle), 22);
    gtk_widget_add_css_class(subtitle, "caption");
    gtk_widget_add_css_class(subtitle, "dim-label");
    gtk_box_append(GTK_BOX(box), frame);
    gtk_box_append(GTK_BOX(box), title);
    gtk_box_append(GTK_BOX(box), subtitle);
    gtk_list_item_set_child(list_item, box);
}

static void bind_cell(GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer data)
{
    AigcGalleryItem *item = gtk_list_item_get_item(list_item);
    GtkWidget *box = gtk_list_item_get_child(list_item);
    GtkWidget *frame = gtk_widget_get_first_child(box);
    GtkWidget *title = gtk_widget_get_next_sibling(frame);
    GtkWidget *subtitle = gtk_widget_get_next_sibling(title);
    GtkWidget *picture = gtk_stack_get_child_by_name(GTK_STACK(frame), "picture");
    GtkWidget *snippet = gtk_stack_get_child_by_name(GTK_STACK(frame), "snippet");
    GtkWidget *icon = gtk_stack_get_child_by_name(GTK_STACK(frame), "icon");
    AigcGalleryKind kind = aigc_gallery_item_get_kind(item);

    const char *image_path = aigc_gallery_item_get_thumbnail(item);
    if (!image_path && (kind == AIGC_GALLERY_KIND_IMAGE || kind == AIGC_GALLERY_KIND_VIEW))
        image_path = aigc_gallery_item_get_file(item);
    g_autoptr(GdkTexture) texture = image_path ? load_texture(image_path) : NULL;
    if (texture) {
        gtk_picture_set_paintable(GTK_PICTURE(picture), GDK_PAINTABLE(texture));
        gtk_stack_set_visible_child(GTK_STACK(frame), picture);
    } else if (aigc_gallery_item_get_text(item)) {
        gtk_label_set_text(GTK_LABEL(snippet), aigc_gallery_item_get_text(item));
        gtk_stack_set_visible_child(GTK_STACK(frame), snippet);
    } else {
        gtk_image_set_from_icon_name(GTK_IMAGE(icon), kind_icon(kind));
        gtk_stack_set_visible_child(GTK_STACK(frame), icon);
    }
    const char *t = aigc_gallery_item_get_title(item);
    gtk_label_set_text(GTK_LABEL(title), t && *t ? t : _("Untitled"));
    g_autoptr(GDateTime) when = g_date_time_new_from_unix_local(aigc_gallery_item_get_created(item));
    g_autofree char *date = when ? g_date_time_format(when, "%x %H:%M") : g_strdup("");
    const char *model = aigc_gallery_item_get_model(item);
    g_autofree char *sub = model ? g_strdup_printf("%s · %s", model, date) : g_strdup(date);
    gtk_label_set_text(GTK_LABEL(subtitle), sub);
    gtk_accessible_update_property(GTK_ACCESSIBLE(box), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   t && *t ? t : _("Untitled"), -1);
}

static void update_state(AigcGalleryView *self)
{
    guint n = self->filtered ? g_list_model_get_n_items(G_LIST_MODEL(self->filtered)) : 0;
    gtk_stack_set_visible_child_name(self->stack, n > 0 ? "grid" : "empty");
    g_autofree char *count = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u item", "%u items", n), n);
    gtk_label_set_text(self->count_label, count);
    gboolean selected = aigc_gallery_view_get_selected(self) != NULL;
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "gallery.open", selected);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "gallery.export", selected);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "gallery.delete", selected);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "gallery.use-settings", selected);
}

static void on_items_changed(GListModel *model, guint pos, guint removed, guint added,
                             AigcGalleryView *self)
{
    update_state(self);
}

static void on_selection_changed(GtkSelectionModel *model, guint pos, guint n,
                                 AigcGalleryView *self)
{
    update_state(self);
}

AigcGalleryItem *aigc_gallery_view_get_selected(AigcGalleryView *self)
{
    if (!self->selection)
        return NULL;
    return gtk_single_selection_get_selected_item(self->selection);
}

void aigc_gallery_view_select(AigcGalleryView *self, guint position)
{
    gtk_single_selection_set_selected(self->selection, position);
}

void aigc_gallery_view_set_filter(AigcGalleryView *self, int kind)
{
    gtk_drop_down_set_selected(self->kind_filter, (guint)(kind + 1));
}

static void on_kind_selected(GtkDropDown *dropdown, GParamSpec *pspec, AigcGalleryView *self)
{
    self->kind = (int)gtk_drop_down_get_selected(dropdown) - 1;
    if (self->filter)
        gtk_filter_changed(GTK_FILTER(self->filter), GTK_FILTER_CHANGE_DIFFERENT);
    update_state(self);
}

void aigc_gallery_view_set_store(AigcGalleryView *self, AigcGalleryStore *store)
{
    g_return_if_fail(self->store == NULL);
    self->store = g_object_ref(store);
    self->filter = gtk_custom_filter_new(filter_item, self, NULL);
    self->filtered = gtk_filter_list_model_new(
        g_object_ref(aigc_gallery_store_get_model(store)), g_object_ref(GTK_FILTER(self->filter)));
    self->selection = gtk_single_selection_new(g_object_ref(G_LIST_MODEL(self->filtered)));
    gtk_single_selection_set_autoselect(self->selection, TRUE);
    gtk_grid_view_set_model(self->grid, GTK_SELECTION_MODEL(self->selection));
    g_signal_connect_object(self->filtered, "items-changed", G_CALLBACK(on_items_changed), self,
                            0);
    g_signal_connect_object(self->selection, "selection-changed",
                            G_CALLBACK(on_selection_changed), self, 0);
    update_state(self);
}

static void open_item(AigcGalleryView *self, AigcGalleryItem *item)
{
    const char *file = aigc_gallery_item_get_file(item);
    if (!file)
        return;
    g_autofree char *uri = g_filename_to_uri(file, NULL, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_app_info_launch_default_for_uri(uri, NULL, &error)) {
        g_autofree char *msg = g_strdup_printf(
            _("Could not open “%s”: no application handles this kind of file"),
            aigc_gallery_item_get_title(item));
        g_signal_emit(self, signals[SIGNAL_FAILED], 0, msg);
    }
}

static void on_activate(GtkGridView *grid, guint position, AigcGalleryView *self)
{
    g_autoptr(AigcGalleryItem) item = g_list_model_get_item(G_LIST_MODEL(self->filtered), position);
    if (item)
        open_item(self, item);
}

static void action_open(GtkWidget *widget, const char *name, GVariant *param)
{
    AigcGalleryView *self = AIGC_GALLERY_VIEW(widget);
    AigcGalleryItem *item = aigc_gallery_view_get_selected(self);
    if (item)
        open_item(self, item);
}

static void on_export_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    AigcGalleryView *self = AIGC_GALLERY_VIEW(data);
    AigcGalleryItem *item = g_object_get_data(G_OBJECT(dialog), "item");
    if (response == GTK_RESPONSE_ACCEPT && item) {
        g_autoptr(GFile) dest = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *dest_path = g_file_get_path(dest);
        g_autofree char *contents = NULL;
        gsize len = 0;
        g_autoptr(GError) error = NULL;
        if (!g_file_get_contents(aigc_gallery_item_get_file(item), &contents, &len, &error) ||
            !aigc_file_set_contents_atomic(dest_path, contents, len, &error)) {
            g_autofree char *msg = g_strdup_printf(
                _("Export failed: %s. Choose a folder you can write to."), error->message);
            g_signal_emit(self, signals[SIGNAL_FAILED], 0, msg);
        }
    }
    g_object_unref(dialog);
}

void aigc_gallery_view_export_selected(AigcGalleryView *self)
{
    AigcGalleryItem *item = aigc_gallery_view_get_selected(self);
    if (!item || !aigc_gallery_item_get_file(item))
        return;
    GtkNative *native = gtk_widget_get_native(GTK_WIDGET(self));
    GtkFileChooserNative *dialog = gtk_file_chooser_native_new(
        _("Export"), GTK_WINDOW(native), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
    g_autofree char *base = g_path_get_basename(aigc_gallery_item_get_file(item));
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dialog), base);
    g_autoptr(GSettings) settings = aigc_ui_settings_new();
    g_autofree char *folder = g_settings_get_string(settings, "export-folder");
    if (folder && *folder) {
        g_autoptr(GFile) f = g_file_new_for_path(folder);
        gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(dialog), f, NULL);
    }
    g_object_set_data_full(G_OBJECT(dialog), "item", g_object_ref(item), g_object_unref);
    g_signal_connect(dialog, "response", G_CALLBACK(on_export_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static void action_export(GtkWidget *widget, const char *name, GVariant *param)
{
    aigc_gallery_view_export_selected(AIGC_GALLERY_VIEW(widget));
}

static void action_delete(GtkWidget *widget, const char *name, GVariant *param)
{
    AigcGalleryView *self = AIGC_GALLERY_VIEW(widget);
    AigcGalleryItem *item = aigc_gallery_view_get_selected(self);
    if (!item)
        return;
    g_autoptr(GError) error = NULL;
    if (!aigc_gallery_store_remove(self->store, item, &error)) {
        g_autofree char *msg = g_strdup_printf(_("Could not delete: %s"), error->message);
        g_signal_emit(self, signals[SIGNAL_FAILED], 0, msg);
    }
}

static void action_use_settings(GtkWidget *widget, const char *name, GVariant *param)
{
    AigcGalleryView *self = AIGC_GALLERY_VIEW(widget);
    AigcGalleryItem *item = aigc_gallery_view_get_selected(self);
    if (item)
        g_signal_emit(self, signals[SIGNAL_USE_SETTINGS], 0, item);
}

static void aigc_gallery_view_dispose(GObject *object)
{
    AigcGalleryView *self = AIGC_GALLERY_VIEW(object);
    gtk_widget_dispose_template(GTK_WIDGET(self), AIGC_TYPE_GALLERY_VIEW);
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self)))) /* the unnamed root box */
        gtk_widget_unparent(child);
    g_clear_object(&self->selection);
    g_clear_object(&self->filtered);
    g_clear_object(&self->filter);
    g_clear_object(&self->store);
    G_OBJECT_CLASS(aigc_gallery_view_parent_class)->dispose(object);
}

static void aigc_gallery_view_class_init(AigcGalleryViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->dispose = aigc_gallery_view_dispose;
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/aigcstudio/Studio/aigc-gallery-view.ui");
    gtk_widget_class_bind_template_child(widget_class, AigcGalleryView, kind_filter);
    gtk_widget_class_bind_template_child(widget_class, AigcGalleryView, stack);
    gtk_widget_class_bind_template_child(widget_class, AigcGalleryView, grid);
    gtk_widget_class_bind_template_child(widget_class, AigcGalleryView, count_label);
    gtk_widget_class_bind_template_callback(widget_class, on_kind_selected);
    gtk_widget_class_bind_template_callback(widget_class, on_activate);
    gtk_widget_class_bind_template_callback(widget_class, setup_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_cell);
    gtk_widget_class_install_action(widget_class, "gallery.open", NULL, action_open);
    gtk_widget_class_install_action(widget_class, "gallery.export", NULL, action_export);
    gtk_widget_class_install_action(widget_class, "gallery.delete", NULL, action_delete);
    gtk_widget_class_install_action(widget_class, "gallery.use-settings", NULL,
                                    action_use_settings);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Delete, 0, "gallery.delete", NULL);
    signals[SIGNAL_USE_SETTINGS] =
        g_signal_new("use-settings", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, AIGC_TYPE_GALLERY_ITEM);
    signals[SIGNAL_FAILED] = g_signal_new("failed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                          NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void aigc_gallery_view_init(AigcGalleryView *self)
{
    self->kind = -1;
    gtk_widget_init_template(GTK_WIDGET(self));
    update_state(self);
}
