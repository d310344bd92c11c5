/* SPDX-License-Identifier: MIT
 *
 * The Paint workshop: pick an image model and a class (or, for a text model, type a prompt),
 * watch the images come out of noise (a preview of the predicted clean images every few steps),
 * keep them in the gallery, export them as PNG with their parameters. The canvas on the left is
 * where a sketch starts img2img ("Start from the canvas", at a strength) and where the mask for
 * inpainting is painted; any result can be picked back into the canvas. The controls follow
 * what the model offers (aigc_image_model_get_caps): steps, sampler and guidance for diffusion;
 * an interpolation strip between two classes and seeds for the DCGAN and the VAE; Reconstruct
 * (the canvas through the VAE's encoder and decoder) for the VAE.
 */
#include "aigc-paint-panel.h"

#include "aigc-canvas.h"
#include "aigc-pixel-view.h"
#include "aigc-ui-private.h"


#include <string.h>

struct _AigcPaintPanel {
    AigcWorkshop parent_instance;
    GtkDropDown *model_picker, *class_picker, *sampler_picker, *to_class_picker;
    AdwEntryRow *prompt_row;
    GtkWidget *class_row, *steps_row, *sampler_row, *guidance_row, *strength_row, *interp_group;
    GtkWidget *img2img_box, *inpaint_box;
    GtkSpinButton *to_seed_spin;
    GtkButton *interp_button, *reconstruct_button;
    GtkLabel *model_info, *step_label, *status_label;
    GtkStack *content_stack, *result_stack;
    AigcCanvas *canvas;
    AigcPixelView *preview_view;
    GtkFlowBox *results_box;
    GtkToggleButton *brush_button, *eraser_button, *mask_button;
    GtkColorButton *color_button;
    GtkSpinButton *size_spin, *steps_spin, *guidance_spin, *strength_spin, *batch_spin, *seed_spin;
    GtkSwitch *img2img_switch, *inpaint_switch;
    GtkButton *undo_button, *redo_button, *clear_button, *use_button, *export_button;

    AigcImageModel *model;
    char *model_name;
    AigcJobHandle *running;
    AigcImageGenResult *result; /* the last finished batch (owned copy of the pointer's job) */
    AigcJob *result_job;        /* keeps `result` alive */
    char *pending_model, *pending_class;
    gboolean strip; /* the running job draws an interpolation strip: its preview stays shown */
};

G_DEFINE_FINAL_TYPE(AigcPaintPanel, aigc_paint_panel, AIGC_TYPE_WORKSHOP)

static const char *selected_string(GtkDropDown *dropdown)
{
    GtkStringObject *item = gtk_drop_down_get_selected_item(dropdown);
    return item ? gtk_string_object_get_string(item) : NULL;
}

static void select_string(GtkDropDown *dropdown, const char *value)
{
    GListModel *list = gtk_drop_down_get_model(dropdown);
    for (guint i = 0; list && i < g_list_model_get_n_items(list); i++) {
        g_autoptr(GtkStringObject) s = g_list_model_get_item(list, i);
        if (g_ascii_strcasecmp(gtk_string_object_get_string(s), value) == 0) {
            gtk_drop_down_set_selected(dropdown, i);
            return;
        }
    }
}

/* The canvas at the model's size: light ink on black for gray models (Fashion-MNIST's look),
 * dark ink on white for colour ones. */
static void fit_canvas(AigcPaintPanel *self)
{
    int size = aigc_image_model_get_size(self->model);
    gboolean gray = aigc_image_model_get_channels(self->model) == 1;
    if (aigc_canvas_get_image_width(self->canvas) == size && aigc_canvas_is_blank(self->canvas))
        return;
    if (!aigc_canvas_is_blank(self->canvas) && aigc_canvas_get_image_width(self->canvas) == size)
        return;
    GdkRGBA bg = gray ? (GdkRGBA){0, 0, 0, 1} : (GdkRGBA){1, 1, 1, 1};
    GdkRGBA ink = gray ? (GdkRGBA){1, 1, 1, 1} : (GdkRGBA){0, 0, 0, 1};
    aigc_canvas_reset(self->canvas, size, size, &bg);
    aigc_canvas_set_color(self->canvas, &ink);
    gtk_color_chooser_set_rgba(GTK_COLOR_CHOOSER(self->color_button), &ink);
}

static void update_buttons(AigcPaintPanel *self);

/* Shows the controls the model has a use for. */
static void apply_caps(AigcPaintPanel *self)
{
    AigcImageCaps caps = aigc_image_model_get_caps(self->model);
    const gboolean steps = caps & AIGC_IMAGE_CAP_STEPS, prompt = caps & AIGC_IMAGE_CAP_PROMPT;
    gtk_widget_set_visible(GTK_WIDGET(self->prompt_row), prompt);
    gtk_widget_set_visible(self->class_row, !prompt);
    gtk_widget_set_visible(self->steps_row, steps);
    gtk_widget_set_visible(self->sampler_row, steps);
    gtk_widget_set_visible(self->guidance_row, steps);
    gtk_widget_set_visible(self->img2img_box, caps & AIGC_IMAGE_CAP_IMG2IMG);
    gtk_widget_set_visible(self->strength_row, caps & AIGC_IMAGE_CAP_IMG2IMG);
    gtk_widget_set_visible(self->inpaint_box, caps & AIGC_IMAGE_CAP_INPAINT);
    gtk_widget_set_visible(GTK_WIDGET(self->mask_button), caps & AIGC_IMAGE_CAP_INPAINT);
    gtk_widget_set_visible(self->interp_group, caps & AIGC_IMAGE_CAP_INTERPOLATE);
    gtk_widget_set_visible(GTK_WIDGET(self->reconstruct_button), caps & AIGC_IMAGE_CAP_RECONSTRUCT);
    if (!(caps & AIGC_IMAGE_CAP_IMG2IMG))
        gtk_switch_set_active(self->img2img_switch, FALSE);
    if (!(caps & AIGC_IMAGE_CAP_INPAINT)) {
        gtk_switch_set_active(self->inpaint_switch, FALSE);
        if (gtk_toggle_button_get_active(self->mask_button))
            gtk_toggle_button_set_active(self->brush_button, TRUE);
    }
}

static void load_selected_model(AigcPaintPanel *self)
{
    const char *name = selected_string(self->model_picker);
    if (!name || g_strcmp0(name, self->model_name) == 0)
        return;
    g_clear_pointer(&self->model, aigc_image_model_unref);
    g_free(self->model_name);
    self->model_name = g_strdup(name);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcModelInfo) info = aigc_models_find(name, &error);
    if (info)
        self->model = aigc_image_model_load(info->path, &error);
    if (!self->model) {
        g_autofree char *msg = g_strdup_printf(_("Could not load “%s”: %s"), name, error->message);
        aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
        gtk_label_set_text(self->model_info, "");
        return;
    }
    int n = aigc_image_model_get_n_classes(self->model), size = aigc_image_model_get_size(self->model);
    GtkStringList *classes = gtk_string_list_new(NULL);
    for (int i = 0; i < n; i++)
        gtk_string_list_append(classes, aigc_image_model_get_class_name(self->model, i));
    if (n == 0)
        gtk_string_list_append(classes, _("(none)"));
    gtk_drop_down_set_model(self->class_picker, G_LIST_MODEL(classes));
    gtk_drop_down_set_model(self->to_class_picker, G_LIST_MODEL(classes));
    if (n > 1)
        gtk_drop_down_set_selected(self->to_class_picker, 1);
    g_object_unref(classes);
    gtk_widget_set_sensitive(GTK_WIDGET(self->class_picker), n > 0);
    gtk_widget_set_sensitive(GTK_WIDGET(self->to_class_picker), n > 0);
    apply_caps(self);
    if (self->pending_class) {
        select_string(self->class_picker, self->pending_class);
        g_clear_pointer(&self->pending_class, g_free);
    }
    gtk_adjustment_set_upper(gtk_spin_button_get_adjustment(self->steps_spin),
                             aigc_image_model_get_max_steps(self->model));
    const gboolean text_model = aigc_image_model_get_caps(self->model) & AIGC_IMAGE_CAP_PROMPT;
    g_autofree char *text = g_strdup_printf(
        text_model ? _("%s · %d×%d %s · knows %d words")
        : n > 0    ? _("%s · %d×%d %s · %d classes")
                   : _("%s · %d×%d %s"),
        aigc_image_model_get_family(self->model), size, size,
        aigc_image_model_get_channels(self->model) == 1 ? _("gray") : _("colour"), n);
    gtk_label_set_text(self->model_info, text);
    fit_canvas(self);
    update_buttons(self);
}

static void on_model_selected(GtkDropDown *dropdown, GParamSpec *pspec, AigcPaintPanel *self)
{
    load_selected_model(self);
}

static void models_changed(AigcWorkshop *workshop)
{
    AigcPaintPanel *self = AIGC_PAINT_PANEL(workshop);
    guint n = g_list_model_get_n_items(G_LIST_MODEL(aigc_workshop_get_models(workshop)));
    gtk_widget_set_sensitive(GTK_WIDGET(self->model_picker), n > 0);
    gtk_stack_set_visible_child_name(self->content_stack, n > 0 ? "models" : "empty");
    if (self->pending_model) {
        select_string(self->model_picker, self->pending_model);
        g_clear_pointer(&self->pending_model, g_free);
    }
    load_selected_model(self);
}

static AigcImage *selected_result(AigcPaintPanel *self, int *index)
{
    if (!self->result || self->result->n == 0)
        return NULL;
    GList *sel = gtk_flow_box_get_selected_children(self->results_box);
    int i = sel ? gtk_flow_box_child_get_index(sel->data) : 0;
    g_list_free(sel);
    i = CLAMP(i, 0, self->result->n - 1);
    if (index)
        *index = i;
    return self->result->images[i];
}

static void update_buttons(AigcPaintPanel *self)
{
    gboolean has = self->result && self->result->n > 0 && !self->running;
    gtk_widget_set_sensitive(GTK_WIDGET(self->use_button), has);
    gtk_widget_set_sensitive(GTK_WIDGET(self->export_button), has);
    gtk_widget_set_sensitive(GTK_WIDGET(self->undo_button), aigc_canvas_can_undo(self->canvas));
    gtk_widget_set_sensitive(GTK_WIDGET(self->redo_button), aigc_canvas_can_redo(self->canvas));
    gtk_widget_set_sensitive(GTK_WIDGET(self->strength_spin),
                             gtk_switch_get_active(self->img2img_switch) ||
                                 gtk_switch_get_active(self->inpaint_switch));
    gtk_widget_set_sensitive(GTK_WIDGET(self->interp_button), self->model && !self->running);
    gtk_widget_set_sensitive(GTK_WIDGET(self->reconstruct_button), self->model && !self->running);
    aigc_workshop_set_has_result(AIGC_WORKSHOP(self), has);
}

static void show_image(AigcPaintPanel *self, const AigcImage *img)
{
    g_autoptr(AigcImage) rgba = aigc_image_convert(img, 4, NULL);
    aigc_pixel_view_set_rgba(self->preview_view, rgba->data, rgba->width, rgba->height);
    gtk_stack_set_visible_child_name(self->result_stack, "image");
}

static void on_result_selected(GtkFlowBox *box, AigcPaintPanel *self)
{
    AigcImage *img = selected_result(self, NULL);
    if (img && !self->running)
        show_image(self, img);
}

static void on_preview(AigcJobHandle *h, const AigcPreview *preview, AigcPaintPanel *self)
{
    AIGC_ASSERT_MAIN_THREAD();
    if (preview->kind != AIGC_PREVIEW_IMAGE_RGBA8)
        return;
    aigc_pixel_view_set_rgba(self->preview_view, g_bytes_get_data(preview->data, NULL),
                             preview->width, preview->height);
    gtk_stack_set_visible_child_name(self->result_stack, "image");
    gtk_label_set_text(self->step_label, preview->label ? preview->label : "");
}

static JsonObject *current_settings(AigcPaintPanel *self, gint64 seed)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "model", self->model_name ? self->model_name : "");
    const char *cls = aigc_image_model_get_n_classes(self->model) > 0
                          ? selected_string(self->class_picker) : NULL;
    json_object_set_string_member(o, "class", cls ? cls : "");
    json_object_set_string_member(o, "prompt",
                                  gtk_editable_get_text(GTK_EDITABLE(self->prompt_row)));
    json_object_set_int_member(o, "steps", gtk_spin_button_get_value_as_int(self->steps_spin));
    json_object_set_string_member(o, "sampler", selected_string(self->sampler_picker));
    json_object_set_double_member(o, "guidance", gtk_spin_button_get_value(self->guidance_spin));
    json_object_set_double_member(o, "strength", gtk_spin_button_get_value(self->strength_spin));
    json_object_set_int_member(o, "batch", gtk_spin_button_get_value_as_int(self->batch_spin));
    json_object_set_int_member(o, "seed", seed);
    return o;
}

static GBytes *png_of(const AigcImage *img, const char *parameters, GError **error)
{
    const char *keys[] = {"parameters", "Software", NULL};
    const char *values[] = {parameters, "aigc-studio", NULL};
    return aigc_png_encode(img, keys, values, error);
}

static void keep_in_gallery(AigcPaintPanel *self, AigcImageGenResult *r)
{
    g_autoptr(JsonObject) params = current_settings(self, (gint64)r->seed);
    for (int i = 0; i < r->n; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) png = png_of(r->images[i], r->parameters, &error);
        if (!png)
            break;
        json_object_set_int_member(params, "index", i);
        AigcGalleryEntry entry = {
            .kind = AIGC_GALLERY_KIND_IMAGE,
            .panel = "paint",
            .title = r->class_name ? r->class_name : _("Image"),
            .model = self->model_name,
            .seed = (gint64)r->seed,
            .text = r->parameters,
            .params = params,
            .content = png,
            .content_name = "image.png",
            .thumbnail = png,
        };
        if (!aigc_gallery_store_add(aigc_workshop_get_gallery(AIGC_WORKSHOP(self)), &entry,
                                    &error)) {
            g_autofree char *msg = g_strdup_printf(_("Not kept in the gallery: %s"),
                                                   error->message);
            aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
            break;
        }
    }
}

static void fill_results(AigcPaintPanel *self)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->results_box))))
        gtk_flow_box_remove(self->results_box, child);
    for (int i = 0; self->result && i < self->result->n; i++) {
        g_autoptr(AigcImage) rgba = aigc_image_convert(self->result->images[i], 4, NULL);
        GtkWidget *v = aigc_pixel_view_new();
        aigc_pixel_view_set_natural_zoom(AIGC_PIXEL_VIEW(v), 2);
        aigc_pixel_view_set_rgba(AIGC_PIXEL_VIEW(v), rgba->data, rgba->width, rgba->height);
        g_autofree char *label = g_strdup_printf(_("Result %d"), i + 1);
        gtk_accessible_update_property(GTK_ACCESSIBLE(v), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
        gtk_flow_box_append(self->results_box, v);
    }
    GtkFlowBoxChild *first = gtk_flow_box_get_child_at_index(self->results_box, 0);
    if (first && !self->strip) /* a strip stays shown whole until an image is picked */
        gtk_flow_box_select_child(self->results_box, first);
}

static void on_done(AigcJobHandle *h, int state, const GError *error, AigcPaintPanel *self)
{
    AIGC_ASSERT_MAIN_THREAD();
    AigcJob *job = aigc_job_handle_get_job(h);
    AigcImageGenResult *r = aigc_job_get_result(job);
    g_clear_object(&self->running);
    if (r && state == AIGC_JOB_SUCCEEDED) {
        g_clear_pointer(&self->result_job, aigc_job_unref);
        self->result_job = aigc_job_ref(job);
        self->result = r;
        fill_results(self);
        if (!self->strip) /* a strip stays whole; its images are in the row below */
            show_image(self, r->images[0]);
        g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, r->seed);
        g_autofree char *status = g_strdup_printf(
            g_dngettext(NULL, "%d image · %.1f s · seed %s", "%d images · %.1f s · seed %s",
                        r->n),
            r->n, r->seconds, seed);
        gtk_label_set_text(self->status_label, status);
        keep_in_gallery(self, r);
    } else if (state == AIGC_JOB_CANCELLED) {
        gtk_label_set_text(self->status_label, _("Stopped"));
    }
    update_buttons(self);
}

static AigcImage *canvas_image(AigcPaintPanel *self)
{
    int w = aigc_canvas_get_image_width(self->canvas), h = aigc_canvas_get_image_height(self->canvas);
    AigcImage *img = aigc_image_new(w, h, 4);
    memcpy(img->data, aigc_canvas_get_pixels(self->canvas), (gsize)w * h * 4);
    return img;
}

static AigcImage *canvas_mask(AigcPaintPanel *self)
{
    int w = aigc_canvas_get_image_width(self->canvas), h = aigc_canvas_get_image_height(self->canvas);
    AigcImage *img = aigc_image_new(w, h, 1);
    memcpy(img->data, aigc_canvas_get_mask(self->canvas), (gsize)w * h);
    return img;
}

static gboolean submit(AigcPaintPanel *self, AigcJob *job, const GError *error);

/* (nullable) The class picked, for models with classes (not text models: their "classes" are
 * words). */
static const char *chosen_class(AigcPaintPanel *self)
{
    if (aigc_image_model_get_n_classes(self->model) == 0 ||
        (aigc_image_model_get_caps(self->model) & AIGC_IMAGE_CAP_PROMPT))
        return NULL;
    return selected_string(self->class_picker);
}

static gboolean generate(AigcWorkshop *workshop)
{
    AigcPaintPanel *self = AIGC_PAINT_PANEL(workshop);
    load_selected_model(self);
    if (!self->model)
        return FALSE;
    gboolean img2img = gtk_switch_get_active(self->img2img_switch);
    gboolean inpaint = gtk_switch_get_active(self->inpaint_switch);
    if (inpaint && !aigc_canvas_has_mask(self->canvas)) {
        aigc_workshop_toast(workshop, _("Paint the mask first: choose the mask tool and mark "
                                        "what to repaint"));
        return FALSE;
    }
    if (img2img && !inpaint && aigc_canvas_is_blank(self->canvas)) {
        aigc_workshop_toast(workshop, _("The canvas is empty: paint a shape to start from, or "
                                        "switch off “Start from the canvas”"));
        return FALSE;
    }
    g_autoptr(AigcImage) init = img2img || inpaint ? canvas_image(self) : NULL;
    g_autoptr(AigcImage) mask = inpaint ? canvas_mask(self) : NULL;
    AigcImageGenParams p = aigc_image_gen_default_params();
    p.class_name = chosen_class(self);
    if (aigc_image_model_get_caps(self->model) & AIGC_IMAGE_CAP_PROMPT) {
        p.prompt = gtk_editable_get_text(GTK_EDITABLE(self->prompt_row));
        g_autofree char *words = g_strstrip(g_strdup(p.prompt));
        if (!*words) {
            aigc_workshop_toast(workshop, _("Type what to draw in the prompt first"));
            gtk_widget_grab_focus(GTK_WIDGET(self->prompt_row));
            return FALSE;
        }
    }
    p.sampler = gtk_drop_down_get_selected(self->sampler_picker) == 1 ? AIGC_SAMPLER_DDPM
                                                                      : AIGC_SAMPLER_DDIM;
    p.steps = gtk_spin_button_get_value_as_int(self->steps_spin);
    p.guidance = (float)gtk_spin_button_get_value(self->guidance_spin);
    p.seed = (gint64)gtk_spin_button_get_value(self->seed_spin);
    p.batch = gtk_spin_button_get_value_as_int(self->batch_spin);
    p.init = init;
    p.strength = inpaint && !img2img ? 1.0f : (float)gtk_spin_button_get_value(self->strength_spin);
    p.mask = mask;
    p.preview_every = MAX(1, p.steps / 25);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcJob) job = aigc_image_generate_job_new(self->model, &p, &error);
    self->strip = FALSE;
    return submit(self, job, error);
}

static gboolean submit(AigcPaintPanel *self, AigcJob *job, const GError *error)
{
    AigcWorkshop *workshop = AIGC_WORKSHOP(self);
    if (!job) {
        g_autofree char *msg = g_strdup_printf(_("Cannot draw: %s"), error->message);
        aigc_workshop_toast(workshop, msg);
        return FALSE;
    }
    gtk_label_set_text(self->status_label, _("Drawing…"));
    gtk_label_set_text(self->step_label, "");
    AigcJobHandle *h = aigc_workshop_submit(workshop, job, _("Painting"));
    self->running = g_object_ref(h);
    g_signal_connect_object(h, "preview", G_CALLBACK(on_preview), self, 0);
    g_signal_connect_object(h, "done", G_CALLBACK(on_done), self, 0);
    update_buttons(self);
    return TRUE;
}

/* Enter in the prompt draws, as Generate does. */
static void on_prompt_activated(AigcPaintPanel *self)
{
    gtk_widget_activate_action(GTK_WIDGET(self), "win.generate", NULL);
}

static void on_interpolate_clicked(AigcPaintPanel *self)
{
    load_selected_model(self);
    if (!self->model || self->running)
        return;
    AigcImageInterpParams ip = aigc_image_interp_default_params();
    ip.class_a = chosen_class(self);
    ip.class_b = ip.class_a ? selected_string(self->to_class_picker) : NULL;
    ip.seed_a = (gint64)gtk_spin_button_get_value(self->seed_spin);
    ip.seed_b = (gint64)gtk_spin_button_get_value(self->to_seed_spin);
    ip.n = MAX(2, gtk_spin_button_get_value_as_int(self->batch_spin));
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcJob) job = aigc_image_interpolate_job_new(self->model, &ip, &error);
    self->strip = submit(self, job, error);
}

/* The canvas through the VAE: its posterior mean decoded (an img2img of strength 0). */
static void on_reconstruct_clicked(AigcPaintPanel *self)
{
    load_selected_model(self);
    if (!self->model || self->running)
        return;
    if (aigc_canvas_is_blank(self->canvas)) {
        aigc_workshop_toast(AIGC_WORKSHOP(self), _("The canvas is empty: paint a shape, or use a "
                                                   "result in the canvas, to reconstruct it"));
        return;
    }
    g_autoptr(AigcImage) init = canvas_image(self);
    AigcImageGenParams p = aigc_image_gen_default_params();
    p.class_name = chosen_class(self);
    p.init = init;
    p.strength = 0;
    p.batch = 1;
    p.seed = (gint64)gtk_spin_button_get_value(self->seed_spin);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcJob) job = aigc_image_generate_job_new(self->model, &p, &error);
    self->strip = FALSE;
    submit(self, job, error);
}

static void on_export_response(GtkNativeDialog *dialog, int response, AigcPaintPanel *self)
{
    int i;
    AigcImage *img = selected_result(self, &i);
    if (response == GTK_RESPONSE_ACCEPT && img) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = g_file_get_path(file);
        const char *keys[] = {"parameters", "Software", NULL};
        const char *values[] = {self->result->parameters, "aigc-studio", NULL};
        g_autoptr(GError) error = NULL;
        if (!aigc_png_write(path, img, keys, values, &error)) {
            g_autofree char *msg = g_strdup_printf(
                _("Could not export: %s. Choose a folder you can write to."), error->message);
            aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
        }
    }
    g_object_unref(dialog);
}

static void export_result(AigcWorkshop *workshop)
{
    AigcPaintPanel *self = AIGC_PAINT_PANEL(workshop);
    int i;
    if (!selected_result(self, &i))
        return;
    GtkNative *native = gtk_widget_get_native(GTK_WIDGET(self));
    GtkFileChooserNative *dialog = gtk_file_chooser_native_new(
        _("Export Image"), GTK_WINDOW(native), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"),
        _("_Cancel"));
    g_autofree char *name = g_strdup_printf(
        "%s-%" G_GUINT64_FORMAT "-%d.png",
        self->result->class_name ? self->result->class_name : "image", self->result->seed, i + 1);
    g_strdelimit(name, "/ ", '-');
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dialog), name);
    g_signal_connect(dialog, "response", G_CALLBACK(on_export_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static void on_use_clicked(AigcPaintPanel *self)
{
    AigcImage *img = selected_result(self, NULL);
    if (!img)
        return;
    g_autoptr(AigcImage) rgba = aigc_image_convert(img, 4, NULL);
    aigc_canvas_set_pixels(self->canvas, rgba->data, rgba->width, rgba->height);
}

static void on_tool_toggled(AigcPaintPanel *self)
{
    AigcCanvasTool tool = gtk_toggle_button_get_active(self->eraser_button) ? AIGC_CANVAS_ERASER
                          : gtk_toggle_button_get_active(self->mask_button) ? AIGC_CANVAS_MASK
                                                                             : AIGC_CANVAS_BRUSH;
    aigc_canvas_set_tool(self->canvas, tool);
}

static void on_color_set(AigcPaintPanel *self)
{
    GdkRGBA c;
    gtk_color_chooser_get_rgba(GTK_COLOR_CHOOSER(self->color_button), &c);
    aigc_canvas_set_color(self->canvas, &c);
}

static void on_size_changed(AigcPaintPanel *self)
{
    aigc_canvas_set_brush_size(self->canvas, gtk_spin_button_get_value(self->size_spin));
}

static void on_clear_clicked(AigcPaintPanel *self)
{
    if (!self->model)
        return;
    /* As a fresh canvas, but undoable: new pixels of the background colour. */
    int w = aigc_canvas_get_image_width(self->canvas), h = aigc_canvas_get_image_height(self->canvas);
    g_autofree guint8 *px = g_new(guint8, (gsize)w * h * 4);
    guint8 v = aigc_image_model_get_channels(self->model) == 1 ? 0 : 255;
    for (int i = 0; i < w * h; i++) {
        px[4 * i] = px[4 * i + 1] = px[4 * i + 2] = v;
        px[4 * i + 3] = 255;
    }
    aigc_canvas_set_pixels(self->canvas, px, w, h);
    aigc_canvas_clear_mask(self->canvas);
}

static void on_dice_clicked(AigcPaintPanel *self)
{
    gtk_spin_button_set_value(self->seed_spin, g_random_int_range(0, G_MAXINT32));
}

static void restore_settings(AigcWorkshop *workshop, JsonObject *o)
{
    AigcPaintPanel *self = AIGC_PAINT_PANEL(workshop);
    const char *model = json_object_get_string_member_with_default(o, "model", NULL);
    const char *cls = json_object_get_string_member_with_default(o, "class", NULL);
    if (cls && *cls) {
        g_free(self->pending_class);
        self->pending_class = g_strdup(cls);
    }
    if (model && *model)
        select_string(self->model_picker, model);
    load_selected_model(self);
    if (cls && *cls)
        select_string(self->class_picker, cls);
    g_clear_pointer(&self->pending_class, g_free);
    const char *prompt = json_object_get_string_member_with_default(o, "prompt", NULL);
    if (prompt)
        gtk_editable_set_text(GTK_EDITABLE(self->prompt_row), prompt);
    const char *sampler = json_object_get_string_member_with_default(o, "sampler", NULL);
    if (sampler)
        select_string(self->sampler_picker, sampler);
    if (json_object_has_member(o, "steps"))
        gtk_spin_button_set_value(self->steps_spin, json_object_get_int_member(o, "steps"));
    if (json_object_has_member(o, "guidance"))
        gtk_spin_button_set_value(self->guidance_spin,
                                  json_object_get_double_member(o, "guidance"));
    if (json_object_has_member(o, "strength"))
        gtk_spin_button_set_value(self->strength_spin,
                                  json_object_get_double_member(o, "strength"));
    if (json_object_has_member(o, "batch"))
        gtk_spin_button_set_value(self->batch_spin, json_object_get_int_member(o, "batch"));
    if (json_object_has_member(o, "seed"))
        gtk_spin_button_set_value(self->seed_spin, json_object_get_int_member(o, "seed"));
}

static gboolean paint_panel_grab_focus(GtkWidget *widget)
{
    return gtk_widget_grab_focus(GTK_WIDGET(AIGC_PAINT_PANEL(widget)->class_picker));
}

static gboolean on_undo_shortcut(GtkWidget *widget, GVariant *args, gpointer data)
{
    AigcPaintPanel *self = AIGC_PAINT_PANEL(widget);
    if (g_variant_get_boolean(args))
        aigc_canvas_redo(self->canvas);
    else
        aigc_canvas_undo(self->canvas);
    return TRUE;
}

static void aigc_paint_panel_constructed(GObject *object)
{
    G_OBJECT_CLASS(aigc_paint_panel_parent_class)->constructed(object);
    AigcPaintPanel *self = AIGC_PAINT_PANEL(object);
    gtk_drop_down_set_model(self->model_picker,
                            G_LIST_MODEL(aigc_workshop_get_models(AIGC_WORKSHOP(self))));
    g_signal_connect_object(self->model_picker, "notify::selected",
                            G_CALLBACK(on_model_selected), self, 0);
    g_signal_connect_swapped(self->brush_button, "toggled", G_CALLBACK(on_tool_toggled), self);
    g_signal_connect_swapped(self->eraser_button, "toggled", G_CALLBACK(on_tool_toggled), self);
    g_signal_connect_swapped(self->mask_button, "toggled", G_CALLBACK(on_tool_toggled), self);
    g_signal_connect_swapped(self->color_button, "color-set", G_CALLBACK(on_color_set), self);
    g_signal_connect_swapped(self->size_spin, "value-changed", G_CALLBACK(on_size_changed), self);
    g_signal_connect_swapped(self->undo_button, "clicked", G_CALLBACK(aigc_canvas_undo), self->canvas);
    g_signal_connect_swapped(self->redo_button, "clicked", G_CALLBACK(aigc_canvas_redo), self->canvas);
    g_signal_connect_swapped(self->clear_button, "clicked", G_CALLBACK(on_clear_clicked), self);
    g_signal_connect_swapped(self->use_button, "clicked", G_CALLBACK(on_use_clicked), self);
    g_signal_connect_swapped(self->export_button, "clicked", G_CALLBACK(export_result), self);
    g_signal_connect_swapped(self->interp_button, "clicked", G_CALLBACK(on_interpolate_clicked),
                             self);
    g_signal_connect_swapped(self->prompt_row, "entry-activated", G_CALLBACK(on_prompt_activated),
                             self);
    g_signal_connect_swapped(self->reconstruct_button, "clicked",
                             G_CALLBACK(on_reconstruct_clicked), self);
    g_signal_connect_swapped(self->canvas, "changed", G_CALLBACK(update_buttons), self);
    g_signal_connect_swapped(self->img2img_switch, "notify::active", G_CALLBACK(update_buttons), self);
    g_signal_connect_swapped(self->inpaint_switch, "notify::active", G_CALLBACK(update_buttons), self);
    g_signal_connect(self->results_box, "selected-children-changed",
                     G_CALLBACK(on_result_selected), self);
    models_changed(AIGC_WORKSHOP(self));
    on_size_changed(self);
    update_buttons(self);
}

static void aigc_paint_panel_dispose(GObject *object)
{
    AigcPaintPanel *self = AIGC_PAINT_PANEL(object);
    g_clear_object(&self->running);
    g_clear_pointer(&self->result_job, aigc_job_unref);
    self->result = NULL;
    g_clear_pointer(&self->model, aigc_image_model_unref);
    g_clear_pointer(&self->model_name, g_free);
    g_clear_pointer(&self->pending_model, g_free);
    g_clear_pointer(&self->pending_class, g_free);
    G_OBJECT_CLASS(aigc_paint_panel_parent_class)->dispose(object);
}

static void aigc_paint_panel_class_init(AigcPaintPanelClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    AigcWorkshopClass *workshop_class = AIGC_WORKSHOP_CLASS(klass);
    object_class->constructed = aigc_paint_panel_constructed;
    object_class->dispose = aigc_paint_panel_dispose;
    widget_class->grab_focus = paint_panel_grab_focus;
    workshop_class->models_changed = models_changed;
    workshop_class->generate = generate;
    workshop_class->export_result = export_result;
    workshop_class->restore_settings = restore_settings;
    g_type_ensure(AIGC_TYPE_CANVAS);
    g_type_ensure(AIGC_TYPE_PIXEL_VIEW);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/aigcstudio/Studio/aigc-paint-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, AigcPaintPanel, name)
    BIND(model_picker);
    BIND(class_picker);
    BIND(sampler_picker);
    BIND(to_class_picker);
    BIND(prompt_row);
    BIND(class_row);
    BIND(steps_row);
    BIND(sampler_row);
    BIND(guidance_row);
    BIND(strength_row);
    BIND(interp_group);
    BIND(img2img_box);
    BIND(inpaint_box);
    BIND(to_seed_spin);
    BIND(interp_button);
    BIND(reconstruct_button);
    BIND(model_info);
    BIND(step_label);
    BIND(status_label);
    BIND(content_stack);
    BIND(result_stack);
    BIND(canvas);
    BIND(preview_view);
    BIND(results_box);
    BIND(brush_button);
    BIND(eraser_button);
    BIND(mask_button);
    BIND(color_button);
    BIND(size_spin);
    BIND(steps_spin);
    BIND(guidance_spin);
    BIND(strength_spin);
    BIND(batch_spin);
    BIND(seed_spin);
    BIND(img2img_switch);
    BIND(inpaint_switch);
    BIND(undo_button);
    BIND(redo_button);
    BIND(clear_button);
    BIND(use_button);
    BIND(export_button);
#undef BIND
    gtk_widget_class_bind_template_callback(widget_class, on_dice_clicked);
    /* Ctrl+Z / Ctrl+Shift+Z work on the canvas while this page is shown. */
    gtk_widget_class_add_binding(widget_class, GDK_KEY_z, GDK_CONTROL_MASK, on_undo_shortcut, "b",
                                 FALSE);
    gtk_widget_class_add_binding(widget_class, GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                 on_undo_shortcut, "b", TRUE);
    gtk_widget_class_add_binding(widget_class, GDK_KEY_Z, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                 on_undo_shortcut, "b", TRUE);
}

static void aigc_paint_panel_init(AigcPaintPanel *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
