/* SPDX-License-Identifier: MIT
 *
 * The Scene workshop: train a radiance field on a dataset folder (the sample scene by default)
 * while its validation PSNR climbs on a plot and a view of it sharpens; then orbit the trained
 * scene with the mouse — a coarse image while it moves, the chosen resolution once it is still —
 * render a turntable into a folder, export the view as PNG, or open it in the aigc-view window.
 *
 * DESIGN: views are rendered by engine jobs (the engine owns the threads). At most one view job
 * runs at a time; a request that arrives meanwhile is remembered (only the newest) and sent when
 * the running one ends, so dragging never queues a backlog. View jobs carry the panel id
 * "scene-view", so they do not make the workshop busy (Train and Stop follow training only).
 */
#include "aigc-scene-panel.h"

#include "aigc-line-plot.h"
#include "aigc-pixel-view.h"
#include "aigc-ui-private.h"

#include <math.h>
#include <string.h>

#define COARSE_DIVISOR 3
#define STILL_DELAY_MS 180
#define ROTATE_PER_PIXEL 0.008

static const int resolutions[] = {100, 128, 200, 256, 400};

struct _AigcScenePanel {
    AigcWorkshop parent_instance;
    GtkDropDown *model_picker, *resolution_picker;
    GtkLabel *model_info, *view_label, *psnr_label;
    GtkStack *view_stack;
    AigcPixelView *viewport;
    AigcLinePlot *psnr_plot;
    AdwActionRow *dataset_row;
    GtkSpinButton *steps_spin, *frames_spin;
    GtkButton *viewer_button, *sample_button, *open_button, *turntable_button;

    AigcScene *scene;
    char *scene_name;
    AigcOrbit orbit;
    char *dataset;        /* the folder Train learns from */
    char *trained_name;   /* the scene the running training writes */
    AigcJobHandle *train; /* the running training */
    AigcJobHandle *view;  /* the running view job */
    gboolean view_pending, pending_coarse;
    gboolean view_on_map; /* a view asked for while the page was not shown */
    guint still_id;       /* the full-resolution render after a move */
    gboolean dragging;
    double drag_x, drag_y;
    guint8 *rgba;         /* the last full-resolution view */
    int width, height;
    char *pending_model;
};

G_DEFINE_FINAL_TYPE(AigcScenePanel, aigc_scene_panel, AIGC_TYPE_WORKSHOP)

static const char *selected_string(GtkDropDown *dropdown)
{
    GtkStringObject *item = gtk_drop_down_get_selected_item(dropdown);
    return item ? gtk_string_object_get_string(item) : NULL;
}

static gboolean select_string(GtkDropDown *dropdown, const char *value)
{
    GListModel *list = gtk_drop_down_get_model(dropdown);
    for (guint i = 0; list && i < g_list_model_get_n_items(list); i++) {
        g_autoptr(GtkStringObject) s = g_list_model_get_item(list, i);
        if (g_strcmp0(gtk_string_object_get_string(s), value) == 0) {
            gtk_drop_down_set_selected(dropdown, i);
            return TRUE;
        }
    }
    return FALSE;
}

static int resolution(AigcScenePanel *self)
{
    guint i = gtk_drop_down_get_selected(self->resolution_picker);
    return resolutions[MIN(i, G_N_ELEMENTS(resolutions) - 1)];
}

static char *find_viewer(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (exe) {
        g_autofree char *dir = g_path_get_dirname(exe);
        g_autofree char *beside = g_build_filename(dir, "aigc-view", NULL);
        if (g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer(&beside);
    }
    return g_find_program_in_path("aigc-view");
}

static void update_buttons(AigcScenePanel *self)
{
    gboolean training = self->train != NULL;
    g_autofree char *viewer = find_viewer();
    gtk_widget_set_sensitive(GTK_WIDGET(self->viewer_button), self->scene && viewer);
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->viewer_button),
                                viewer ? _("Look around the scene in its own window (aigc-view)")
                                       : _("aigc-view is not installed"));
    gtk_widget_set_sensitive(GTK_WIDGET(self->turntable_button), self->scene && !training);
    gtk_widget_set_sensitive(GTK_WIDGET(self->sample_button), !training);
    gtk_widget_set_sensitive(GTK_WIDGET(self->open_button), !training);
    aigc_workshop_set_has_result(AIGC_WORKSHOP(self), self->rgba != NULL && !training);
}

static void set_dataset(AigcScenePanel *self, const char *dir)
{
    g_free(self->dataset);
    self->dataset = g_strdup(dir);
    g_autofree char *sample = aigc_scene_find_sample();
    if (!dir)
        adw_action_row_set_subtitle(self->dataset_row, _("None: open a folder"));
    else if (sample && g_strcmp0(dir, sample) == 0)
        adw_action_row_set_subtitle(self->dataset_row, _("The sample scene (woodbox)"));
    else
        adw_action_row_set_subtitle(self->dataset_row, dir);
}

/* ---- views ---- */

static void request_view(AigcScenePanel *self, gboolean coarse);

static void on_view_done(AigcJobHandle *h, int state, const GError *error, AigcScenePanel *self)
{
    AIGC_ASSERT_MAIN_THREAD();
    AigcJob *job = aigc_job_handle_get_job(h);
    const AigcSceneRenderResult *r = aigc_job_get_result(job);
    AigcSceneRenderParams *p = aigc_job_get_params(job);
    gboolean coarse = p && p->poses.n > 0 && p->poses.cameras[0].width < resolution(self);
    g_clear_object(&self->view);
    if (state == AIGC_JOB_SUCCEEDED && r && r->rgba && !self->train) {
        gsize n;
        const guint8 *px = g_bytes_get_data(r->rgba, &n);
        aigc_pixel_view_set_rgba(self->viewport, px, r->width, r->height);
        gtk_stack_set_visible_child_name(self->view_stack, "view");
        if (!coarse) {
            g_free(self->rgba);
            self->rgba = g_memdup2(px, n);
            self->width = r->width;
            self->height = r->height;
            g_autofree char *text = g_strdup_printf(_("%d × %d · %.2f s"), r->width, r->height,
                                                    r->seconds);
            gtk_label_set_text(self->view_label, text);
        }
    } else if (state == AIGC_JOB_FAILED && error) {
        g_autofree char *msg = g_strdup_printf(_("Cannot render the view: %s"), error->message);
        aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
    }
    if (self->view_pending) {
        self->view_pending = FALSE;
        request_view(self, self->pending_coarse);
    }
    update_buttons(self);
}

static void request_view(AigcScenePanel *self, gboolean coarse)
{
    if (!self->scene || self->train)
        return;
    /* Nothing is rendered for a page nobody sees (every window has a Scene panel): the view is
     * drawn when the page is shown. */
    if (!gtk_widget_get_mapped(GTK_WIDGET(self))) {
        self->view_on_map = TRUE;
        return;
    }
    if (self->view) {
        self->view_pending = TRUE;
        self->pending_coarse = coarse;
        return;
    }
    int side = resolution(self);
    if (coarse)
        side = MAX(side / COARSE_DIVISOR, 16);
    AigcSceneRenderParams *p = aigc_scene_render_params_new(self->scene);
    p->poses.n = 0;
    aigc_scene_poses_orbit(&p->poses, &self->orbit, 1, side, side);
    g_autoptr(AigcJob) job = aigc_scene_render_job_new(p);
    AigcEngineBridge *bridge = aigc_workshop_get_bridge(AIGC_WORKSHOP(self));
    if (!bridge)
        return;
    self->view = g_object_ref(aigc_engine_bridge_submit(bridge, job, _("Rendering the view"),
                                                        "scene-view"));
    g_signal_connect_object(self->view, "done", G_CALLBACK(on_view_done), self, 0);
}

static void on_map(AigcScenePanel *self)
{
    if (self->view_on_map) {
        self->view_on_map = FALSE;
        request_view(self, FALSE);
    }
}

static gboolean on_still(gpointer data)
{
    AigcScenePanel *self = data;
    self->still_id = 0;
    request_view(self, FALSE);
    return G_SOURCE_REMOVE;
}

/* A moved camera: a coarse view now, the full one once the camera has been still a moment. */
static void camera_moved(AigcScenePanel *self)
{
    request_view(self, TRUE);
    if (self->still_id)
        g_source_remove(self->still_id);
    self->still_id = g_timeout_add(STILL_DELAY_MS, on_still, self);
}

static void on_drag_begin(GtkGestureDrag *g, double x, double y, AigcScenePanel *self)
{
    self->dragging = TRUE;
    self->drag_x = self->drag_y = 0;
    gtk_widget_grab_focus(GTK_WIDGET(self->viewport));
}

static void on_drag_update(GtkGestureDrag *g, double dx, double dy, AigcScenePanel *self)
{
    if (!self->scene)
        return;
    aigc_orbit_rotate(&self->orbit, -(dx - self->drag_x) * ROTATE_PER_PIXEL,
                      (dy - self->drag_y) * ROTATE_PER_PIXEL);
    self->drag_x = dx;
    self->drag_y = dy;
    camera_moved(self);
}

static void on_drag_end(GtkGestureDrag *g, double dx, double dy, AigcScenePanel *self)
{
    self->dragging = FALSE;
}

static gboolean on_scroll(GtkEventControllerScroll *c, double dx, double dy, AigcScenePanel *self)
{
    if (!self->scene)
        return FALSE;
    aigc_orbit_zoom(&self->orbit, exp(0.1 * dy), self->scene->view.distance);
    camera_moved(self);
    return TRUE;
}

static void on_click(GtkGestureClick *g, int n_press, double x, double y, AigcScenePanel *self)
{
    if (n_press == 2 && self->scene) {
        self->orbit = self->scene->view;
        request_view(self, FALSE);
    }
}

static gboolean on_view_key(GtkEventControllerKey *c, guint keyval, guint keycode,
                            GdkModifierType state, AigcScenePanel *self)
{
    if (!self->scene)
        return FALSE;
    const double step = G_PI / 36;
    switch (keyval) {
    case GDK_KEY_Left: aigc_orbit_rotate(&self->orbit, step, 0); break;
    case GDK_KEY_Right: aigc_orbit_rotate(&self->orbit, -step, 0); break;
    case GDK_KEY_Up: aigc_orbit_rotate(&self->orbit, 0, step); break;
    case GDK_KEY_Down: aigc_orbit_rotate(&self->orbit, 0, -step); break;
    case GDK_KEY_plus: case GDK_KEY_equal: case GDK_KEY_KP_Add:
        aigc_orbit_zoom(&self->orbit, 0.9, self->scene->view.distance);
        break;
    case GDK_KEY_minus: case GDK_KEY_KP_Subtract:
        aigc_orbit_zoom(&self->orbit, 1 / 0.9, self->scene->view.distance);
        break;
    default: return FALSE;
    }
    camera_moved(self);
    return TRUE;
}

/* ---- scenes ---- */

static void load_selected_scene(AigcScenePanel *self)
{
    const char *name = selected_string(self->model_picker);
    if (!name || g_strcmp0(name, self->scene_name) == 0)
        return;
    g_clear_pointer(&self->scene, aigc_scene_unref);
    g_clear_pointer(&self->rgba, g_free);
    g_free(self->scene_name);
    self->scene_name = g_strdup(name);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcModelInfo) info = aigc_models_find(name, &error);
    if (info)
        self->scene = aigc_scene_open(info->path, &error);
    if (!self->scene) {
        g_autofree char *msg = g_strdup_printf(_("Could not open “%s”: %s"), name, error->message);
        aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
        gtk_label_set_text(self->model_info, "");
        update_buttons(self);
        return;
    }
    self->orbit = self->scene->view;
    g_autofree char *text = NULL;
    if (self->scene->pe) {
        const AigcNerfPeConfig *c = &self->scene->pe->config;
        text = g_strdup_printf(_("NeRF · positional encoding, %d layers of %d · %d + %d samples "
                                 "per ray"),
                               c->depth, c->width, c->n_coarse, c->n_fine);
    } else {
        const AigcNerfConfig *c = &self->scene->nerf->config;
        text = g_strdup_printf(_("NeRF · hash grid of %d levels · occupancy %d³"),
                               c->field.grid.n_levels, c->occupancy_res);
    }
    gtk_label_set_text(self->model_info, text);
    if (!self->train)
        request_view(self, FALSE);
    update_buttons(self);
}

static void on_model_selected(GtkDropDown *dropdown, GParamSpec *pspec, AigcScenePanel *self)
{
    load_selected_scene(self);
}

static void models_changed(AigcWorkshop *workshop)
{
    AigcScenePanel *self = AIGC_SCENE_PANEL(workshop);
    guint n = g_list_model_get_n_items(G_LIST_MODEL(aigc_workshop_get_models(workshop)));
    gtk_widget_set_sensitive(GTK_WIDGET(self->model_picker), n > 0);
    if (self->pending_model && select_string(self->model_picker, self->pending_model))
        g_clear_pointer(&self->pending_model, g_free);
    load_selected_scene(self);
    if (!self->scene && !self->train)
        gtk_stack_set_visible_child_name(self->view_stack, "none");
}

/* ---- training ---- */

static char *models_dir(void)
{
    const char *env = g_getenv("AIGC_MODELS_DIR");
    if (env && *env)
        return g_strdup(env);
    return g_build_filename(g_get_user_data_dir(), "aigc-studio", "models", NULL);
}

static AigcImage *rgba_image(const guint8 *rgba, int w, int h)
{
    AigcImage img = {.width = w, .height = h, .channels = 4, .data = (guint8 *)rgba};
    return aigc_image_convert(&img, 3, NULL);
}

static void on_train_preview(AigcJobHandle *h, const AigcPreview *p, AigcScenePanel *self)
{
    AIGC_ASSERT_MAIN_THREAD();
    if (p->kind == AIGC_PREVIEW_IMAGE_RGBA8) {
        aigc_pixel_view_set_rgba(self->viewport, g_bytes_get_data(p->data, NULL), p->width,
                                 p->height);
        gtk_stack_set_visible_child_name(self->view_stack, "view");
        gtk_label_set_text(self->view_label, p->label ? p->label : "");
    } else if (p->kind == AIGC_PREVIEW_VALUES && g_strcmp0(p->label, "psnr") == 0) {
        gsize n;
        const float *v = g_bytes_get_data(p->data, &n);
        if (n < 3 * sizeof(float))
            return;
        aigc_line_plot_add(self->psnr_plot, v[2], v[1]);
        g_autofree char *when = aigc_ui_format_duration(v[2]);
        g_autofree char *text = g_strdup_printf(_("Validation %.2f dB at step %.0f · %s of training"),
                                                v[1], v[0], when);
        gtk_label_set_text(self->psnr_label, text);
    }
}

static void keep_in_gallery(AigcScenePanel *self, const char *title, const char *text,
                            const guint8 *rgba, int w, int h, JsonObject *params)
{
    g_autoptr(AigcImage) img = rgba_image(rgba, w, h);
    const char *keys[] = {"parameters", "Software", NULL};
    const char *values[] = {text, "aigc-studio", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) png = aigc_png_encode(img, keys, values, &error);
    AigcGalleryEntry entry = {
        .kind = AIGC_GALLERY_KIND_IMAGE,
        .panel = "scene",
        .title = title,
        .model = self->scene_name,
        .seed = -1,
        .text = text,
        .params = params,
        .content = png,
        .content_name = "view.png",
        .thumbnail = png,
    };
    if (!png || !aigc_gallery_store_add(aigc_workshop_get_gallery(AIGC_WORKSHOP(self)), &entry,
                                        &error)) {
        g_autofree char *msg = g_strdup_printf(_("Not kept in the gallery: %s"),
                                               error ? error->message : "?");
        aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
    }
}

static JsonObject *current_settings(AigcScenePanel *self)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "scene", self->scene_name ? self->scene_name : "");
    json_object_set_string_member(o, "dataset", self->dataset ? self->dataset : "");
    json_object_set_int_member(o, "steps", gtk_spin_button_get_value_as_int(self->steps_spin));
    json_object_set_int_member(o, "resolution", resolution(self));
    json_object_set_double_member(o, "azimuth", self->orbit.azimuth);
    json_object_set_double_member(o, "elevation", self->orbit.elevation);
    json_object_set_double_member(o, "distance", self->orbit.distance);
    return o;
}

static void on_train_done(AigcJobHandle *h, int state, const GError *error, AigcScenePanel *self)
{
    AIGC_ASSERT_MAIN_THREAD();
    const AigcSceneTrainResult *r = aigc_job_get_result(aigc_job_handle_get_job(h));
    g_clear_object(&self->train);
    g_autofree char *name = g_steal_pointer(&self->trained_name);
    if (r) {
        g_autofree char *took = aigc_ui_format_duration(r->train_seconds);
        g_autofree char *t25 =
            r->time_to_25db >= 0 ? aigc_ui_format_duration(r->time_to_25db) : NULL;
        int steps = (int)MIN(r->steps_done, G_MAXINT);
        g_autofree char *text =
            isfinite(r->val_psnr)
                ? (t25 ? g_strdup_printf(_("Validation %.2f dB after %d steps (%s); 25 dB after %s"),
                                         r->val_psnr, steps, took, t25)
                       : g_strdup_printf(_("Validation %.2f dB after %d steps (%s)"), r->val_psnr,
                                         steps, took))
                : g_strdup_printf(_("Stopped after %d steps (%s); the scene so far is kept"),
                                  steps, took);
        gtk_label_set_text(self->psnr_label, text);
        if (state == AIGC_JOB_SUCCEEDED) {
            int w, h2;
            const guint8 *px = aigc_pixel_view_get_rgba(self->viewport, &w, &h2);
            g_autoptr(JsonObject) params = current_settings(self);
            g_autofree char *title = g_strdup_printf(_("Scene · %s"), name);
            if (px)
                keep_in_gallery(self, title, text, px, w, h2, params);
        }
    } else if (state == AIGC_JOB_FAILED && error) {
        g_autofree char *msg = g_strdup_printf(_("Training stopped: %s"), error->message);
        aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
        gtk_label_set_text(self->psnr_label, msg);
    }
    /* The new scene is in the model folder: list it and look at it (opened afresh, as a scene
     * of the same name may have been replaced). */
    if (r && name) {
        g_free(self->pending_model);
        self->pending_model = g_strdup(name);
    }
    g_clear_pointer(&self->scene_name, g_free);
    aigc_workshop_reload_models(AIGC_WORKSHOP(self));
    update_buttons(self);
}

static gboolean generate(AigcWorkshop *workshop)
{
    AigcScenePanel *self = AIGC_SCENE_PANEL(workshop);
    if (self->train)
        return FALSE;
    if (!self->dataset) {
        aigc_workshop_toast(workshop, _("Choose a dataset folder first"));
        return FALSE;
    }
    g_autofree char *dir = models_dir();
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_autofree char *msg = g_strdup_printf(_("Cannot make the model folder %s"), dir);
        aigc_workshop_toast(workshop, msg);
        return FALSE;
    }
    g_autofree char *base = g_path_get_basename(self->dataset);
    g_strdelimit(base, " /\\:", '-');
    g_autofree char *file = g_strconcat(base, ".safetensors", NULL);
    AigcSceneTrainParams *p = aigc_scene_train_params_new();
    p->dataset = g_strdup(self->dataset);
    p->output = g_build_filename(dir, file, NULL);
    p->steps = gtk_spin_button_get_value_as_int(self->steps_spin);
    p->eval_every = MAX(p->steps / 10, 1);
    p->checkpoint_every = MAX(p->steps / 10, 1);
    p->preview_every = 10;
    p->command_line = g_strdup("aigc-studio (Scene panel)");
    g_autoptr(AigcJob) job = aigc_scene_train_job_new(p);
    /* Views wait: the engine runs one job at a time, and the training owns the view now. */
    self->view_pending = FALSE;
    if (self->still_id) {
        g_source_remove(self->still_id);
        self->still_id = 0;
    }
    aigc_line_plot_clear(self->psnr_plot);
    gtk_label_set_text(self->psnr_label, _("Reading the views…"));
    g_free(self->trained_name);
    self->trained_name = g_strdup(base);
    AigcJobHandle *h = aigc_workshop_submit(workshop, job, _("Training a scene"));
    self->train = g_object_ref(h);
    g_signal_connect_object(h, "preview", G_CALLBACK(on_train_preview), self, 0);
    g_signal_connect_object(h, "done", G_CALLBACK(on_train_done), self, 0);
    update_buttons(self);
    return TRUE;
}

static void on_sample_clicked(AigcScenePanel *self)
{
    g_autofree char *sample = aigc_scene_find_sample();
    if (!sample) {
        aigc_workshop_toast(AIGC_WORKSHOP(self), _("The sample scene is not installed"));
        return;
    }
    set_dataset(self, sample);
    aigc_workshop_generate(AIGC_WORKSHOP(self));
}

static void on_open_response(GtkNativeDialog *dialog, int response, AigcScenePanel *self)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = g_file_get_path(file);
        g_autoptr(GError) error = NULL;
        g_autofree char *json = path ? aigc_transforms_find_split(path, "train", &error) : NULL;
        if (!json) {
            g_autofree char *msg = g_strdup_printf(
                _("Not a dataset folder: %s"), error ? error->message : _("not a local folder"));
            aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
        } else {
            set_dataset(self, path);
        }
    }
    g_object_unref(dialog);
}

static void on_open_clicked(AigcScenePanel *self)
{
    GtkNative *native = gtk_widget_get_native(GTK_WIDGET(self));
    GtkFileChooserNative *dialog = gtk_file_chooser_native_new(
        _("Open a Dataset Folder"), GTK_WINDOW(native), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
        _("_Open"), _("_Cancel"));
    g_signal_connect(dialog, "response", G_CALLBACK(on_open_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

/* ---- turntable, export, viewer ---- */

static void on_turntable_done(AigcJobHandle *h, int state, const GError *error,
                              AigcScenePanel *self)
{
    AigcSceneRenderParams *p = aigc_job_get_params(aigc_job_handle_get_job(h));
    const AigcSceneRenderResult *r = aigc_job_get_result(aigc_job_handle_get_job(h));
    g_autofree char *msg = NULL;
    if (state == AIGC_JOB_SUCCEEDED && r)
        msg = g_strdup_printf(_("%d views written to %s"), r->n_views, p->output_dir);
    else if (state == AIGC_JOB_FAILED && error)
        msg = g_strdup_printf(_("The turntable stopped: %s"), error->message);
    if (msg)
        aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
}

static void on_turntable_response(GtkNativeDialog *dialog, int response, AigcScenePanel *self)
{
    if (response == GTK_RESPONSE_ACCEPT && self->scene) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = g_file_get_path(file);
        if (path) {
            int side = resolution(self);
            AigcSceneRenderParams *p = aigc_scene_render_params_new(self->scene);
            p->output_dir = g_strdup(path);
            aigc_scene_poses_orbit(&p->poses, &self->orbit,
                                   gtk_spin_button_get_value_as_int(self->frames_spin), side, side);
            g_autoptr(AigcJob) job = aigc_scene_render_job_new(p);
            AigcJobHandle *h = aigc_workshop_submit(AIGC_WORKSHOP(self), job,
                                                    _("Rendering a turntable"));
            g_signal_connect_object(h, "done", G_CALLBACK(on_turntable_done), self, 0);
        }
    }
    g_object_unref(dialog);
}

static void on_turntable_clicked(AigcScenePanel *self)
{
    GtkNative *native = gtk_widget_get_native(GTK_WIDGET(self));
    GtkFileChooserNative *dialog = gtk_file_chooser_native_new(
        _("Render the Turntable into a Folder"), GTK_WINDOW(native),
        GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Render"), _("_Cancel"));
    g_signal_connect(dialog, "response", G_CALLBACK(on_turntable_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static char *view_parameters(AigcScenePanel *self)
{
    char a[G_ASCII_DTOSTR_BUF_SIZE], e[G_ASCII_DTOSTR_BUF_SIZE], d[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(a, sizeof a, "%.1f", self->orbit.azimuth * 180 / G_PI);
    g_ascii_formatd(e, sizeof e, "%.1f", self->orbit.elevation * 180 / G_PI);
    g_ascii_formatd(d, sizeof d, "%.3f", self->orbit.distance);
    g_autofree char *size = g_strdup_printf("%dx%d", self->width, self->height);
    const char *keys[] = {"Model", "Azimuth", "Elevation", "Distance", "Size", NULL};
    const char *values[] = {self->scene_name ? self->scene_name : "", a, e, d, size, NULL};
    return aigc_png_format_parameters(self->scene && self->scene->title ? self->scene->title
                                                                        : "NeRF view",
                                      keys, values);
}

gboolean aigc_scene_panel_export_to(AigcScenePanel *self, const char *path, GError **error)
{
    if (!self->rgba) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "no view to export");
        return FALSE;
    }
    g_autoptr(AigcImage) img = rgba_image(self->rgba, self->width, self->height);
    g_autofree char *params = view_parameters(self);
    const char *keys[] = {"parameters", "Software", NULL};
    const char *values[] = {params, "aigc-studio", NULL};
    if (!aigc_png_write(path, img, keys, values, error))
        return FALSE;
    g_autoptr(JsonObject) settings = current_settings(self);
    g_autofree char *title = g_strdup_printf(_("View of %s"), self->scene_name);
    keep_in_gallery(self, title, params, self->rgba, self->width, self->height, settings);
    return TRUE;
}

static void on_export_response(GtkNativeDialog *dialog, int response, AigcScenePanel *self)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = g_file_get_path(file);
        g_autoptr(GError) error = NULL;
        if (path && !aigc_scene_panel_export_to(self, path, &error)) {
            g_autofree char *msg = g_strdup_printf(
                _("Could not export: %s. Choose a folder you can write to."), error->message);
            aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
        }
    }
    g_object_unref(dialog);
}

static void export_result(AigcWorkshop *workshop)
{
    AigcScenePanel *self = AIGC_SCENE_PANEL(workshop);
    if (!self->rgba)
        return;
    GtkNative *native = gtk_widget_get_native(GTK_WIDGET(self));
    GtkFileChooserNative *dialog = gtk_file_chooser_native_new(
        _("Export View"), GTK_WINDOW(native), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"),
        _("_Cancel"));
    g_autofree char *name = g_strdup_printf("%s-view.png", self->scene_name);
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dialog), name);
    g_signal_connect(dialog, "response", G_CALLBACK(on_export_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static void on_viewer_clicked(AigcScenePanel *self)
{
    g_autofree char *viewer = find_viewer();
    if (!viewer || !self->scene)
        return;
    char *argv[] = {viewer, self->scene->path, NULL};
    g_autoptr(GError) error = NULL;
    if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &error)) {
        g_autofree char *msg = g_strdup_printf(_("Could not open the viewer: %s"), error->message);
        aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
    }
}

static void on_resolution_changed(AigcScenePanel *self)
{
    request_view(self, FALSE);
}

static void restore_settings(AigcWorkshop *workshop, JsonObject *o)
{
    AigcScenePanel *self = AIGC_SCENE_PANEL(workshop);
    const char *dataset = json_object_get_string_member_with_default(o, "dataset", NULL);
    if (dataset && *dataset)
        set_dataset(self, dataset);
    if (json_object_has_member(o, "steps"))
        gtk_spin_button_set_value(self->steps_spin, json_object_get_int_member(o, "steps"));
    if (json_object_has_member(o, "resolution")) {
        gint64 r = json_object_get_int_member(o, "resolution");
        for (guint i = 0; i < G_N_ELEMENTS(resolutions); i++)
            if (resolutions[i] == r)
                gtk_drop_down_set_selected(self->resolution_picker, i);
    }
    const char *scene = json_object_get_string_member_with_default(o, "scene", NULL);
    if (scene && *scene && !select_string(self->model_picker, scene)) {
        g_free(self->pending_model);
        self->pending_model = g_strdup(scene);
    }
    load_selected_scene(self);
    if (self->scene && json_object_has_member(o, "azimuth")) {
        self->orbit.azimuth = json_object_get_double_member(o, "azimuth");
        aigc_orbit_rotate(&self->orbit, 0, json_object_get_double_member_with_default(
                                               o, "elevation", self->orbit.elevation) -
                                               self->orbit.elevation);
        double d = json_object_get_double_member_with_default(o, "distance", self->orbit.distance);
        aigc_orbit_zoom(&self->orbit, d / self->orbit.distance, self->scene->view.distance);
        request_view(self, FALSE);
    }
}

static gboolean scene_panel_grab_focus(GtkWidget *widget)
{
    AigcScenePanel *self = AIGC_SCENE_PANEL(widget);
    return gtk_widget_grab_focus(self->scene ? GTK_WIDGET(self->viewport)
                                             : GTK_WIDGET(self->model_picker));
}

static void aigc_scene_panel_constructed(GObject *object)
{
    G_OBJECT_CLASS(aigc_scene_panel_parent_class)->constructed(object);
    AigcScenePanel *self = AIGC_SCENE_PANEL(object);
    gtk_drop_down_set_model(self->model_picker,
                            G_LIST_MODEL(aigc_workshop_get_models(AIGC_WORKSHOP(self))));
    g_signal_connect_object(self->model_picker, "notify::selected",
                            G_CALLBACK(on_model_selected), self, 0);
    g_signal_connect_swapped(self->resolution_picker, "notify::selected",
                             G_CALLBACK(on_resolution_changed), self);
    g_signal_connect_swapped(self->sample_button, "clicked", G_CALLBACK(on_sample_clicked), self);
    g_signal_connect_swapped(self->open_button, "clicked", G_CALLBACK(on_open_clicked), self);
    g_signal_connect_swapped(self->turntable_button, "clicked", G_CALLBACK(on_turntable_clicked),
                             self);
    g_signal_connect_swapped(self->viewer_button, "clicked", G_CALLBACK(on_viewer_clicked), self);
    g_autofree char *sample = aigc_scene_find_sample();
    set_dataset(self, sample);
    models_changed(AIGC_WORKSHOP(self));
    update_buttons(self);
}

static void aigc_scene_panel_dispose(GObject *object)
{
    AigcScenePanel *self = AIGC_SCENE_PANEL(object);
    if (self->still_id) {
        g_source_remove(self->still_id);
        self->still_id = 0;
    }
    g_clear_object(&self->train);
    if (self->view) /* a view nobody will see */
        aigc_job_cancel(aigc_job_handle_get_job(self->view));
    g_clear_object(&self->view);
    g_clear_pointer(&self->scene, aigc_scene_unref);
    g_clear_pointer(&self->scene_name, g_free);
    g_clear_pointer(&self->dataset, g_free);
    g_clear_pointer(&self->trained_name, g_free);
    g_clear_pointer(&self->rgba, g_free);
    g_clear_pointer(&self->pending_model, g_free);
    G_OBJECT_CLASS(aigc_scene_panel_parent_class)->dispose(object);
}

static void aigc_scene_panel_class_init(AigcScenePanelClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    AigcWorkshopClass *workshop_class = AIGC_WORKSHOP_CLASS(klass);
    object_class->constructed = aigc_scene_panel_constructed;
    object_class->dispose = aigc_scene_panel_dispose;
    widget_class->grab_focus = scene_panel_grab_focus;
    workshop_class->models_changed = models_changed;
    workshop_class->generate = generate;
    workshop_class->export_result = export_result;
    workshop_class->restore_settings = restore_settings;
    g_type_ensure(AIGC_TYPE_PIXEL_VIEW);
    g_type_ensure(AIGC_TYPE_LINE_PLOT);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/aigcstudio/Studio/aigc-scene-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, AigcScenePanel, name)
    BIND(model_picker);
    BIND(resolution_picker);
    BIND(model_info);
    BIND(view_label);
    BIND(psnr_label);
    BIND(view_stack);
    BIND(viewport);
    BIND(psnr_plot);
    BIND(dataset_row);
    BIND(steps_spin);
    BIND(frames_spin);
    BIND(viewer_button);
    BIND(sample_button);
    BIND(open_button);
    BIND(turntable_button);
#undef BIND
}

static void aigc_scene_panel_init(AigcScenePanel *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    aigc_pixel_view_set_smooth(self->viewport, TRUE);
    aigc_line_plot_set_axes(self->psnr_plot, _("s"), _("dB"), 10, 30);
    aigc_line_plot_set_target(self->psnr_plot, 25.0, _("25 dB"));
    g_signal_connect(self, "map", G_CALLBACK(on_map), NULL);
    GtkGesture *drag = gtk_gesture_drag_new();
    g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
    g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
    g_signal_connect(drag, "drag-end", G_CALLBACK(on_drag_end), self);
    gtk_widget_add_controller(GTK_WIDGET(self->viewport), GTK_EVENT_CONTROLLER(drag));
    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "pressed", G_CALLBACK(on_click), self);
    gtk_widget_add_controller(GTK_WIDGET(self->viewport), GTK_EVENT_CONTROLLER(click));
    GtkEventController *scroll =
        gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
    g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
    gtk_widget_add_controller(GTK_WIDGET(self->viewport), scroll);
    GtkEventController *keys = gtk_event_controller_key_new();
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_view_key), self);
    gtk_widget_add_controller(GTK_WIDGET(self->viewport), keys);
}
