/* SPDX-License-Identifier: MIT
 *
 * The Write workshop: pick a language model, type a prompt, watch the text arrive token by
 * token. Sampling parameters and the seed sit in the sidebar; every finished generation goes to
 * the gallery with its settings.
 */
#include "aigc-write-panel.h"

#include "aigc-ui-private.h"

#include <math.h>
#include <string.h>

struct _AigcWritePanel {
    AigcWorkshop parent_instance;
    GtkDropDown *model_picker;
    GtkLabel *model_info;
    GtkLabel *speed_label;
    GtkStack *content_stack;
    GtkTextView *prompt_view;
    GtkTextView *output_view;
    GtkScrolledWindow *output_scroller;
    GtkLabel *status_label;
    GtkSpinButton *temperature_spin, *top_k_spin, *top_p_spin, *repetition_spin;
    GtkSpinButton *max_tokens_spin, *seed_spin;
    GtkButton *copy_button, *save_button, *speak_button;

    AigcTextModel *model; /* the picked model, loaded */
    char *model_name;
    AigcJobHandle *running; /* (nullable) */
    int n_pieces;
    gint64 started_us;
    char *pending_model; /* a model to select once the list has it (restore) */
};

G_DEFINE_FINAL_TYPE(AigcWritePanel, aigc_write_panel, AIGC_TYPE_WORKSHOP)

static char *buffer_text(GtkTextView *view)
{
    GtkTextBuffer *b = gtk_text_view_get_buffer(view);
    GtkTextIter start, end;
    gtk_text_buffer_get_bounds(b, &start, &end);
    return gtk_text_buffer_get_text(b, &start, &end, FALSE);
}

static const char *selected_model_name(AigcWritePanel *self)
{
    GtkStringObject *item = gtk_drop_down_get_selected_item(self->model_picker);
    return item ? gtk_string_object_get_string(item) : NULL;
}

static void load_selected_model(AigcWritePanel *self)
{
    const char *name = selected_model_name(self);
    if (!name || g_strcmp0(name, self->model_name) == 0)
        return;
    g_clear_pointer(&self->model, aigc_text_model_unref);
    g_free(self->model_name);
    self->model_name = g_strdup(name);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcModelInfo) info = NULL;
    info = aigc_models_find(name, &error);
    if (info)
        self->model = aigc_text_model_load(info->path, &error);
    if (!self->model) {
        g_autofree char *msg = g_strdup_printf(_("Could not load “%s”: %s"), name, error->message);
        aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
        gtk_label_set_text(self->model_info, "");
        return;
    }
    const char *title = aigc_text_model_get_metadata(self->model, "title");
    const char *title_or_family = title ? title : aigc_text_model_get_family(self->model);
    /* The validation score from the model card's training, when the file records it. */
    g_autofree char *shown = NULL;
    const char *metrics = aigc_text_model_get_metadata(self->model, "metrics");
    const char *bpc = metrics ? strstr(metrics, "\"val_bits_per_char\": ") : NULL;
    if (bpc)
        shown = g_strdup_printf(_("%s · %.2f bits/char"), title_or_family,
                                g_ascii_strtod(bpc + strlen("\"val_bits_per_char\": "), NULL));
    else
        shown = g_strdup(title_or_family);
    int context = aigc_text_model_get_max_context(self->model);
    int vocab = aigc_text_model_get_vocab_size(self->model);
    /* Recurrent and n-gram models have no fixed context length. */
    g_autofree char *text =
        context > 0 ? g_strdup_printf(_("%s · %d-token context · %d-token vocabulary"), shown,
                                      context, vocab)
                    : g_strdup_printf(_("%s · %d-token vocabulary"), shown, vocab);
    gtk_label_set_text(self->model_info, text);
}

static void on_model_selected(GtkDropDown *dropdown, GParamSpec *pspec, AigcWritePanel *self)
{
    load_selected_model(self);
}

static void select_model(AigcWritePanel *self, const char *name)
{
    GListModel *models = G_LIST_MODEL(aigc_workshop_get_models(AIGC_WORKSHOP(self)));
    for (guint i = 0; i < g_list_model_get_n_items(models); i++) {
        g_autoptr(GtkStringObject) s = g_list_model_get_item(models, i);
        if (g_strcmp0(gtk_string_object_get_string(s), name) == 0) {
            gtk_drop_down_set_selected(self->model_picker, i);
            return;
        }
    }
}

static void models_changed(AigcWorkshop *workshop)
{
    AigcWritePanel *self = AIGC_WRITE_PANEL(workshop);
    guint n = g_list_model_get_n_items(G_LIST_MODEL(aigc_workshop_get_models(workshop)));
    gtk_widget_set_sensitive(GTK_WIDGET(self->model_picker), n > 0);
    gtk_stack_set_visible_child_name(self->content_stack, n > 0 ? "models" : "empty");
    if (self->pending_model) {
        select_model(self, self->pending_model);
        g_clear_pointer(&self->pending_model, g_free);
    }
    load_selected_model(self);
}

static void update_result_buttons(AigcWritePanel *self)
{
    g_autofree char *out = buffer_text(self->output_view);
    gboolean has = out && *out && !self->running;
    gtk_widget_set_sensitive(GTK_WIDGET(self->copy_button), has);
    gtk_widget_set_sensitive(GTK_WIDGET(self->save_button), has);
    gtk_widget_set_sensitive(GTK_WIDGET(self->speak_button), has);
    aigc_workshop_set_has_result(AIGC_WORKSHOP(self), has);
}

static void append_output(AigcWritePanel *self, const char *text, gsize len)
{
    GtkTextBuffer *b = gtk_text_view_get_buffer(self->output_view);
    GtkTextIter end;
    gtk_text_buffer_get_end_iter(b, &end);
    gtk_text_buffer_insert(b, &end, text, (int)len);
    gtk_text_buffer_get_end_iter(b, &end);
    GtkTextMark *mark = gtk_text_buffer_get_insert(b);
    gtk_text_buffer_place_cursor(b, &end);
    gtk_text_view_scroll_mark_onscreen(self->output_view, mark);
}

static void on_preview(AigcJobHandle *h, const AigcPreview *preview, AigcWritePanel *self)
{
    AIGC_ASSERT_MAIN_THREAD();
    if (preview->kind != AIGC_PREVIEW_TEXT)
        return;
    gsize n;
    const char *text = g_bytes_get_data(preview->data, &n);
    append_output(self, text, n);
}

static void on_progress(AigcJobHandle *h, GParamSpec *pspec, AigcWritePanel *self)
{
    double elapsed = aigc_job_handle_get_elapsed(h);
    int max_tokens = gtk_spin_button_get_value_as_int(self->max_tokens_spin);
    double tokens = aigc_job_handle_get_fraction(h) * max_tokens;
    if (elapsed > 0.2 && g_strcmp0(aigc_job_handle_get_stage(h), "writing") == 0) {
        g_autofree char *s = g_strdup_printf(_("%.1f tokens/s"), tokens / elapsed);
        gtk_label_set_text(self->speed_label, s);
    }
}

static JsonObject *current_settings(AigcWritePanel *self, const char *prompt, gint64 seed)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "model", self->model_name ? self->model_name : "");
    json_object_set_string_member(o, "prompt", prompt);
    json_object_set_double_member(o, "temperature",
                                  gtk_spin_button_get_value(self->temperature_spin));
    json_object_set_int_member(o, "top_k", gtk_spin_button_get_value_as_int(self->top_k_spin));
    json_object_set_double_member(o, "top_p", gtk_spin_button_get_value(self->top_p_spin));
    json_object_set_double_member(o, "repetition_penalty",
                                  gtk_spin_button_get_value(self->repetition_spin));
    json_object_set_int_member(o, "max_tokens",
                               gtk_spin_button_get_value_as_int(self->max_tokens_spin));
    json_object_set_int_member(o, "seed", seed);
    return o;
}

static void keep_in_gallery(AigcWritePanel *self, AigcTextGenResult *r)
{
    g_autofree char *prompt = buffer_text(self->prompt_view);
    g_autofree char *output = buffer_text(self->output_view);
    g_autofree char *whole = g_strconcat(prompt, output, NULL);
    g_autoptr(JsonObject) params = current_settings(self, prompt, (gint64)r->seed);
    glong n_chars = g_utf8_strlen(prompt, -1);
    g_autofree char *title = n_chars > 48 ? g_utf8_substring(prompt, 0, 48) : g_strdup(prompt);
    g_strdelimit(title, "\n\t", ' ');
    g_autoptr(GBytes) content = g_bytes_new(whole, strlen(whole));
    g_autofree char *snippet = g_utf8_substring(whole, 0, MIN(g_utf8_strlen(whole, -1), 400));
    AigcGalleryEntry entry = {
        .kind = AIGC_GALLERY_KIND_TEXT,
        .panel = "write",
        .title = title,
        .model = self->model_name,
        .seed = (gint64)r->seed,
        .text = snippet,
        .params = params,
        .content = content,
        .content_name = "text.txt",
    };
    g_autoptr(GError) error = NULL;
    if (!aigc_gallery_store_add(aigc_workshop_get_gallery(AIGC_WORKSHOP(self)), &entry, &error)) {
        g_autofree char *msg = g_strdup_printf(_("Not kept in the gallery: %s"), error->message);
        aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
    }
}

static void on_done(AigcJobHandle *h, int state, const GError *error, AigcWritePanel *self)
{
    AIGC_ASSERT_MAIN_THREAD();
    AigcTextGenResult *r = aigc_job_get_result(aigc_job_handle_get_job(h));
    if (r && state != AIGC_JOB_FAILED) {
        g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, r->seed);
        g_autofree char *status = g_strdup_printf(
            _("%d tokens · %.1f tokens/s · seed %s%s"), r->n_tokens, r->tokens_per_second, seed,
            r->prompt_truncated ? _(" · the prompt was cut to the model's context") : "");
        gtk_label_set_text(self->status_label, status);
        g_autofree char *speed = g_strdup_printf(_("%.1f tokens/s"), r->tokens_per_second);
        gtk_label_set_text(self->speed_label, speed);
        if (r->n_tokens > 0)
            keep_in_gallery(self, r);
    }
    g_clear_object(&self->running);
    update_result_buttons(self);
}

static gboolean generate(AigcWorkshop *workshop)
{
    AigcWritePanel *self = AIGC_WRITE_PANEL(workshop);
    load_selected_model(self);
    if (!self->model)
        return FALSE;
    g_autofree char *prompt = buffer_text(self->prompt_view);
    g_autofree char *stripped = g_strstrip(g_strdup(prompt));
    if (!*stripped) {
        aigc_workshop_toast(workshop, _("Type a prompt first: the model continues your text"));
        gtk_widget_grab_focus(GTK_WIDGET(self->prompt_view));
        return FALSE;
    }
    AigcTextGenParams p = aigc_text_gen_default_params();
    p.prompt = prompt;
    p.max_tokens = gtk_spin_button_get_value_as_int(self->max_tokens_spin);
    p.seed = (gint64)gtk_spin_button_get_value(self->seed_spin);
    p.sampler.temperature = (float)gtk_spin_button_get_value(self->temperature_spin);
    p.sampler.top_k = gtk_spin_button_get_value_as_int(self->top_k_spin);
    p.sampler.top_p = (float)gtk_spin_button_get_value(self->top_p_spin);
    p.sampler.repetition_penalty = (float)gtk_spin_button_get_value(self->repetition_spin);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcJob) job = aigc_text_generate_job_new(self->model, &p, &error);
    if (!job) {
        g_autofree char *msg = g_strdup_printf(_("Cannot write: %s"), error->message);
        aigc_workshop_toast(workshop, msg);
        return FALSE;
    }
    gtk_text_buffer_set_text(gtk_text_view_get_buffer(self->output_view), "", 0);
    gtk_label_set_text(self->status_label, _("Writing…"));
    AigcJobHandle *h = aigc_workshop_submit(workshop, job, _("Writing"));
    self->running = g_object_ref(h);
    g_signal_connect_object(h, "preview", G_CALLBACK(on_preview), self, 0);
    g_signal_connect_object(h, "notify::fraction", G_CALLBACK(on_progress), self, 0);
    g_signal_connect_object(h, "done", G_CALLBACK(on_done), self, 0);
    update_result_buttons(self);
    return TRUE;
}

static void on_dice_clicked(AigcWritePanel *self)
{
    gtk_spin_button_set_value(self->seed_spin, g_random_int_range(0, G_MAXINT32));
}

static void on_copy_clicked(AigcWritePanel *self)
{
    g_autofree char *out = buffer_text(self->output_view);
    gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(self)), out);
    aigc_workshop_toast(AIGC_WORKSHOP(self), _("Copied"));
}

static void on_save_response(GtkNativeDialog *dialog, int response, AigcWritePanel *self)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = g_file_get_path(file);
        g_autofree char *prompt = buffer_text(self->prompt_view);
        g_autofree char *out = buffer_text(self->output_view);
        g_autofree char *whole = g_strconcat(prompt, out, "\n", NULL);
        g_autoptr(GError) error = NULL;
        if (!aigc_file_set_contents_atomic(path, whole, strlen(whole), &error)) {
            g_autofree char *msg = g_strdup_printf(
                _("Could not save: %s. Choose a folder you can write to."), error->message);
            aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
        }
    }
    g_object_unref(dialog);
}

static void on_save_clicked(AigcWritePanel *self)
{
    GtkNative *native = gtk_widget_get_native(GTK_WIDGET(self));
    GtkFileChooserNative *dialog = gtk_file_chooser_native_new(
        _("Save Text"), GTK_WINDOW(native), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"),
        _("_Cancel"));
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dialog), "text.txt");
    g_signal_connect(dialog, "response", G_CALLBACK(on_save_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static void export_result(AigcWorkshop *workshop)
{
    on_save_clicked(AIGC_WRITE_PANEL(workshop));
}

static void on_speak_clicked(AigcWritePanel *self)
{
    g_autofree char *out = buffer_text(self->output_view);
    aigc_workshop_send_text(AIGC_WORKSHOP(self), "speak", out);
}

static void restore_settings(AigcWorkshop *workshop, JsonObject *o)
{
    AigcWritePanel *self = AIGC_WRITE_PANEL(workshop);
    const char *model = json_object_get_string_member_with_default(o, "model", NULL);
    if (model && *model)
        select_model(self, model);
    const char *prompt = json_object_get_string_member_with_default(o, "prompt", NULL);
    if (prompt)
        gtk_text_buffer_set_text(gtk_text_view_get_buffer(self->prompt_view), prompt, -1);
    if (json_object_has_member(o, "temperature"))
        gtk_spin_button_set_value(self->temperature_spin,
                                  json_object_get_double_member(o, "temperature"));
    if (json_object_has_member(o, "top_k"))
        gtk_spin_button_set_value(self->top_k_spin, json_object_get_int_member(o, "top_k"));
    if (json_object_has_member(o, "top_p"))
        gtk_spin_button_set_value(self->top_p_spin, json_object_get_double_member(o, "top_p"));
    if (json_object_has_member(o, "repetition_penalty"))
        gtk_spin_button_set_value(self->repetition_spin,
                                  json_object_get_double_member(o, "repetition_penalty"));
    if (json_object_has_member(o, "max_tokens"))
        gtk_spin_button_set_value(self->max_tokens_spin,
                                  json_object_get_int_member(o, "max_tokens"));
    if (json_object_has_member(o, "seed"))
        gtk_spin_button_set_value(self->seed_spin, json_object_get_int_member(o, "seed"));
}

static void aigc_write_panel_constructed(GObject *object)
{
    G_OBJECT_CLASS(aigc_write_panel_parent_class)->constructed(object);
    AigcWritePanel *self = AIGC_WRITE_PANEL(object);
    gtk_drop_down_set_model(self->model_picker,
                            G_LIST_MODEL(aigc_workshop_get_models(AIGC_WORKSHOP(self))));
    g_signal_connect_object(self->model_picker, "notify::selected",
                            G_CALLBACK(on_model_selected), self, 0);
    models_changed(AIGC_WORKSHOP(self));
    update_result_buttons(self);
}

static void aigc_write_panel_dispose(GObject *object)
{
    AigcWritePanel *self = AIGC_WRITE_PANEL(object);
    g_clear_object(&self->running);
    g_clear_pointer(&self->model, aigc_text_model_unref);
    g_clear_pointer(&self->model_name, g_free);
    g_clear_pointer(&self->pending_model, g_free);
    G_OBJECT_CLASS(aigc_write_panel_parent_class)->dispose(object);
}

/* The prompt is where a user of this page starts: it takes the focus when the page is shown. */
static gboolean write_panel_grab_focus(GtkWidget *widget)
{
    return gtk_widget_grab_focus(GTK_WIDGET(AIGC_WRITE_PANEL(widget)->prompt_view));
}

static void aigc_write_panel_class_init(AigcWritePanelClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    AigcWorkshopClass *workshop_class = AIGC_WORKSHOP_CLASS(klass);
    object_class->constructed = aigc_write_panel_constructed;
    object_class->dispose = aigc_write_panel_dispose;
    widget_class->grab_focus = write_panel_grab_focus;
    workshop_class->models_changed = models_changed;
    workshop_class->generate = generate;
    workshop_class->export_result = export_result;
    workshop_class->restore_settings = restore_settings;
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/aigcstudio/Studio/aigc-write-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, AigcWritePanel, name)
    BIND(model_picker);
    BIND(model_info);
    BIND(speed_label);
    BIND(content_stack);
    BIND(prompt_view);
    BIND(output_view);
    BIND(output_scroller);
    BIND(status_label);
    BIND(temperature_spin);
    BIND(top_k_spin);
    BIND(top_p_spin);
    BIND(repetition_spin);
    BIND(max_tokens_spin);
    BIND(seed_spin);
    BIND(copy_button);
    BIND(save_button);
    BIND(speak_button);
#undef BIND
    gtk_widget_class_bind_template_callback(widget_class, on_dice_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_copy_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_save_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_speak_clicked);
}

static void aigc_write_panel_init(AigcWritePanel *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
