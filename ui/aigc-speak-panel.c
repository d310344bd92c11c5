/* SPDX-License-Identifier: MIT
 *
 * The Speak workshop: type text (or send it from Write), pick a voice and a vocoder, press
 * Synthesize; each sentence's sound, mel spectrogram and attention alignment arrive as soon as
 * it is read, and can be played at once. Play/Stop with Space, loop, export as WAV in the
 * chosen format and rate; each result goes to the gallery.
 */
#include "aigc-speak-panel.h"

#include "aigc-audio-player.h"
#include "aigc-heatmap-view.h"
#include "aigc-ui-private.h"
#include "aigc-waveform-view.h"


#include <glib/gstdio.h>
#include <string.h>

struct _AigcSpeakPanel {
    AigcWorkshop parent_instance;
    GtkDropDown *model_picker, *vocoder_picker, *format_picker, *rate_picker;
    GtkLabel *rtf_label, *time_label, *status_label;
    GtkStack *content_stack;
    GtkTextView *text_view;
    GtkSpinButton *speed_spin;
    GtkButton *play_button, *export_button;
    GtkToggleButton *loop_button;
    AigcWaveformView *waveform_view;
    AigcHeatmapView *mel_view, *alignment_view;

    GtkStringList *voices, *vocoders;
    AigcTacotron2 *voice;
    char *voice_name;
    AigcVocoder *vocoder;
    char *vocoder_name;
    GPtrArray *retired; /* models replaced while a job used them: freed when it ends */
    AigcJobHandle *running;
    AigcAudioPlayer *player;
    GArray *audio;      /* of float: the sound so far */
    int rate;
    char *pending_voice, *pending_vocoder;
};

G_DEFINE_FINAL_TYPE(AigcSpeakPanel, aigc_speak_panel, AIGC_TYPE_WORKSHOP)

static char *buffer_text(GtkTextView *view)
{
    GtkTextBuffer *b = gtk_text_view_get_buffer(view);
    GtkTextIter start, end;
    gtk_text_buffer_get_bounds(b, &start, &end);
    return gtk_text_buffer_get_text(b, &start, &end, FALSE);
}

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
        if (g_strcmp0(gtk_string_object_get_string(s), value) == 0) {
            gtk_drop_down_set_selected(dropdown, i);
            return;
        }
    }
}

static void retire(AigcSpeakPanel *self, gpointer model, GDestroyNotify free_func)
{
    if (!model)
        return;
    if (self->running) {
        g_ptr_array_add(self->retired, model);
        g_ptr_array_add(self->retired, (gpointer)free_func);
    } else {
        free_func(model);
    }
}

static void toast_error(AigcSpeakPanel *self, const char *what, const char *name, GError *error)
{
    g_autofree char *msg = g_strdup_printf(what, name, error->message);
    aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
}

static void load_selected(AigcSpeakPanel *self)
{
    const char *voice = selected_string(self->model_picker);
    if (voice && g_strcmp0(voice, self->voice_name) != 0) {
        retire(self, g_steal_pointer(&self->voice), (GDestroyNotify)aigc_tacotron2_free);
        g_free(self->voice_name);
        self->voice_name = g_strdup(voice);
        g_autoptr(GError) error = NULL;
        g_autoptr(AigcModelInfo) info = aigc_models_find(voice, &error);
        if (info)
            self->voice = aigc_tacotron2_load_file(info->path, &error);
        if (!self->voice)
            toast_error(self, _("Could not load the voice “%s”: %s"), voice, error);
    }
    const char *vocoder = selected_string(self->vocoder_picker);
    if (vocoder && g_strcmp0(vocoder, self->vocoder_name) != 0) {
        retire(self, g_steal_pointer(&self->vocoder), (GDestroyNotify)aigc_vocoder_free);
        g_free(self->vocoder_name);
        self->vocoder_name = g_strdup(vocoder);
        g_autoptr(GError) error = NULL;
        if (g_strcmp0(vocoder, AIGC_VOCODER_GRIFFIN_LIM) == 0 && self->voice)
            self->vocoder = aigc_vocoder_new_griffin_lim(aigc_tacotron2_get_features(self->voice),
                                                         &error);
        else
            self->vocoder = aigc_vocoder_load(vocoder, &error);
        if (!self->vocoder)
            toast_error(self, _("Could not load the vocoder “%s”: %s"), vocoder, error);
    }
}

static void on_selected(GtkDropDown *dropdown, GParamSpec *pspec, AigcSpeakPanel *self)
{
    /* Griffin-Lim follows the voice's features: reload it with a new voice. */
    if (dropdown == self->model_picker && g_strcmp0(self->vocoder_name, AIGC_VOCODER_GRIFFIN_LIM) == 0)
        g_clear_pointer(&self->vocoder_name, g_free);
    load_selected(self);
}

static void models_changed(AigcWorkshop *workshop)
{
    AigcSpeakPanel *self = AIGC_SPEAK_PANEL(workshop);
    GListModel *all = G_LIST_MODEL(aigc_workshop_get_models(workshop));
    g_autoptr(GStrvBuilder) voices = g_strv_builder_new();
    g_autoptr(GStrvBuilder) vocoders = g_strv_builder_new();
    g_strv_builder_add(vocoders, AIGC_VOCODER_GRIFFIN_LIM);
    for (guint i = 0; i < g_list_model_get_n_items(all); i++) {
        g_autoptr(GtkStringObject) s = g_list_model_get_item(all, i);
        const char *name = gtk_string_object_get_string(s);
        g_autoptr(AigcModelInfo) info = aigc_models_find(name, NULL);
        if (info && g_strcmp0(info->family, AIGC_TACOTRON2_FAMILY) == 0)
            g_strv_builder_add(voices, name);
        else if (info)
            g_strv_builder_add(vocoders, name);
    }
    g_auto(GStrv) v = g_strv_builder_end(voices), c = g_strv_builder_end(vocoders);
    gtk_string_list_splice(self->voices, 0, g_list_model_get_n_items(G_LIST_MODEL(self->voices)),
                           (const char *const *)v);
    gtk_string_list_splice(self->vocoders, 0,
                           g_list_model_get_n_items(G_LIST_MODEL(self->vocoders)),
                           (const char *const *)c);
    guint n = g_strv_length(v);
    gtk_widget_set_sensitive(GTK_WIDGET(self->model_picker), n > 0);
    gtk_stack_set_visible_child_name(self->content_stack, n > 0 ? "models" : "empty");
    /* a trained vocoder is better than the baseline: pick the first one */
    if (g_strv_length(c) > 1 && !self->pending_vocoder)
        gtk_drop_down_set_selected(self->vocoder_picker, 1);
    if (self->pending_voice)
        select_string(self->model_picker, self->pending_voice);
    if (self->pending_vocoder)
        select_string(self->vocoder_picker, self->pending_vocoder);
    g_clear_pointer(&self->pending_voice, g_free);
    g_clear_pointer(&self->pending_vocoder, g_free);
    load_selected(self);
}

static char *format_time(double s)
{
    int m = (int)(s / 60);
    return g_strdup_printf("%d:%04.1f", m, s - 60 * m);
}

static void update_time(AigcSpeakPanel *self)
{
    double pos = aigc_audio_player_get_playing(self->player)
                     ? aigc_audio_player_get_position(self->player) : 0;
    double dur = self->rate > 0 ? self->audio->len / (double)self->rate : 0;
    g_autofree char *a = format_time(pos), *b = format_time(dur);
    g_autofree char *text = g_strdup_printf("%s / %s", a, b);
    gtk_label_set_text(self->time_label, text);
    gboolean playing = aigc_audio_player_get_playing(self->player);
    aigc_waveform_view_set_playhead(self->waveform_view, playing ? pos : -1);
    aigc_heatmap_view_set_cursor(self->mel_view, playing && dur > 0 ? pos / dur : -1);
}

static void update_buttons(AigcSpeakPanel *self)
{
    gboolean has = self->audio->len > 0;
    gboolean available = aigc_audio_player_get_available(self->player);
    gtk_widget_set_sensitive(GTK_WIDGET(self->play_button), has && available);
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->play_button),
                                available ? _("Play (Space)")
                                          : aigc_audio_player_get_unavailable_reason(self->player));
    gtk_button_set_icon_name(self->play_button, aigc_audio_player_get_playing(self->player)
                                                    ? "media-playback-stop-symbolic"
                                                    : "media-playback-start-symbolic");
    gtk_widget_set_sensitive(GTK_WIDGET(self->export_button), has && !self->running);
    aigc_workshop_set_has_result(AIGC_WORKSHOP(self), has && !self->running);
    update_time(self);
}

static void on_preview(AigcJobHandle *h, const AigcPreview *p, AigcSpeakPanel *self)
{
    AIGC_ASSERT_MAIN_THREAD();
    gsize n_bytes;
    const float *v = g_bytes_get_data(p->data, &n_bytes);
    if (p->kind == AIGC_PREVIEW_AUDIO_F32) {
        gsize n = n_bytes / sizeof(float);
        if (self->audio->len == 0) {
            self->rate = p->sample_rate;
            aigc_audio_player_set_audio(self->player, NULL, 0, p->sample_rate);
            aigc_audio_player_set_complete(self->player, FALSE);
            aigc_waveform_view_set_samples(self->waveform_view, NULL, 0, p->sample_rate);
        }
        g_array_append_vals(self->audio, v, (guint)n);
        aigc_audio_player_append(self->player, v, n);
        aigc_waveform_view_append(self->waveform_view, v, n);
        update_buttons(self);
    } else if (p->kind == AIGC_PREVIEW_VALUES && g_strcmp0(p->label, "mel") == 0) {
        if (aigc_heatmap_view_get_n_cols(self->mel_view) == 0)
            aigc_heatmap_view_set_data(self->mel_view, v, p->height, p->width);
        else
            aigc_heatmap_view_append_columns(self->mel_view, v, p->height);
    } else if (p->kind == AIGC_PREVIEW_VALUES && g_strcmp0(p->label, "alignment") == 0) {
        aigc_heatmap_view_set_data(self->alignment_view, v, p->height, p->width);
    }
}

static GBytes *wav_bytes(AigcSpeakPanel *self, const AigcWavWriteParams *wp, GError **error)
{
    g_autofree char *dir = g_dir_make_tmp("aigc-speak-XXXXXX", error);
    if (!dir)
        return NULL;
    g_autofree char *path = g_build_filename(dir, "speech.wav", NULL);
    GBytes *bytes = NULL;
    if (aigc_audio_file_write_wav(path, (const float *)self->audio->data, self->audio->len,
                                  self->rate, wp, error)) {
        g_autoptr(GMappedFile) f = g_mapped_file_new(path, FALSE, error);
        if (f)
            bytes = g_mapped_file_get_bytes(f);
    }
    g_remove(path);
    g_rmdir(dir);
    return bytes;
}

static JsonObject *current_settings(AigcSpeakPanel *self, const char *text)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "voice", self->voice_name ? self->voice_name : "");
    json_object_set_string_member(o, "vocoder", self->vocoder_name ? self->vocoder_name : "");
    json_object_set_double_member(o, "speed", gtk_spin_button_get_value(self->speed_spin));
    json_object_set_string_member(o, "text", text);
    return o;
}

static void keep_in_gallery(AigcSpeakPanel *self, AigcSpeakResult *r)
{
    g_autofree char *text = buffer_text(self->text_view);
    g_autoptr(JsonObject) params = current_settings(self, text);
    AigcWavWriteParams wp = aigc_wav_write_default_params();
    g_autofree char *comment = g_strdup_printf("Voice: %s, Vocoder: %s, Speed: %g",
                                               self->voice_name, self->vocoder_name,
                                               gtk_spin_button_get_value(self->speed_spin));
    wp.comment = comment;
    wp.software = "aigc-studio";
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) wav = wav_bytes(self, &wp, &error);
    glong n_chars = g_utf8_strlen(text, -1);
    g_autofree char *title = n_chars > 48 ? g_utf8_substring(text, 0, 48) : g_strdup(text);
    g_strdelimit(title, "\n\t", ' ');
    g_autofree char *snippet = g_utf8_substring(text, 0, MIN(n_chars, 400));
    AigcGalleryEntry entry = {
        .kind = AIGC_GALLERY_KIND_AUDIO,
        .panel = "speak",
        .title = title,
        .model = self->voice_name,
        .seed = -1,
        .text = snippet,
        .params = params,
        .content = wav,
        .content_name = "speech.wav",
    };
    if (!wav || !aigc_gallery_store_add(aigc_workshop_get_gallery(AIGC_WORKSHOP(self)), &entry,
                                        &error)) {
        g_autofree char *msg = g_strdup_printf(_("Not kept in the gallery: %s"),
                                               error ? error->message : "");
        aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
    }
}

static void free_retired(AigcSpeakPanel *self)
{
    for (guint i = 0; i + 1 < self->retired->len; i += 2)
        ((GDestroyNotify)self->retired->pdata[i + 1])(self->retired->pdata[i]);
    g_ptr_array_set_size(self->retired, 0);
}

static void on_done(AigcJobHandle *h, int state, const GError *error, AigcSpeakPanel *self)
{
    AIGC_ASSERT_MAIN_THREAD();
    AigcSpeakResult *r = aigc_job_get_result(aigc_job_handle_get_job(h));
    g_clear_object(&self->running);
    free_retired(self);
    aigc_audio_player_set_complete(self->player, TRUE);
    if (r && state == AIGC_JOB_SUCCEEDED && (gint64)self->audio->len != r->n_samples) {
        /* the result is the reference: show and play exactly it */
        g_array_set_size(self->audio, 0);
        g_array_append_vals(self->audio, r->samples, (guint)r->n_samples);
        self->rate = r->sample_rate;
        if (!aigc_audio_player_get_playing(self->player))
            aigc_audio_player_set_audio(self->player, r->samples, r->n_samples, r->sample_rate);
        aigc_waveform_view_set_samples(self->waveform_view, r->samples, r->n_samples,
                                       r->sample_rate);
        aigc_heatmap_view_set_data(self->mel_view, r->mel, (int)r->n_frames, r->n_mels);
    }
    if (r && state == AIGC_JOB_SUCCEEDED) {
        g_autofree char *rtf = g_strdup_printf(_("real-time factor %.3f"), r->real_time_factor);
        gtk_label_set_text(self->rtf_label, rtf);
        g_autofree char *status = g_strdup_printf(
            g_dngettext(NULL, "%d sentence · %.1f s of speech in %.1f s%s",
                        "%d sentences · %.1f s of speech in %.1f s%s", r->n_sentences),
            r->n_sentences, r->n_samples / (double)r->sample_rate, r->seconds,
            r->n_capped ? _(" · some sentences ran to the length cap") : "");
        gtk_label_set_text(self->status_label, status);
        keep_in_gallery(self, r);
    } else if (state == AIGC_JOB_CANCELLED) {
        gtk_label_set_text(self->status_label, _("Stopped"));
    }
    update_buttons(self);
}

static gboolean generate(AigcWorkshop *workshop)
{
    AigcSpeakPanel *self = AIGC_SPEAK_PANEL(workshop);
    load_selected(self);
    if (!self->voice || !self->vocoder)
        return FALSE;
    g_autofree char *text = buffer_text(self->text_view);
    g_autofree char *stripped = g_strstrip(g_strdup(text));
    if (!*stripped) {
        aigc_workshop_toast(workshop, _("Type something to say first"));
        gtk_widget_grab_focus(GTK_WIDGET(self->text_view));
        return FALSE;
    }
    AigcSpeakParams p = aigc_speak_default_params();
    p.text = text;
    p.speed = (float)gtk_spin_button_get_value(self->speed_spin);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcJob) job = aigc_speak_job_new(self->voice, self->vocoder, &p, &error);
    if (!job) {
        g_autofree char *msg = g_strdup_printf(_("Cannot speak: %s"), error->message);
        aigc_workshop_toast(workshop, msg);
        return FALSE;
    }
    aigc_audio_player_stop(self->player);
    g_array_set_size(self->audio, 0);
    aigc_waveform_view_set_samples(self->waveform_view, NULL, 0, 16000);
    aigc_heatmap_view_set_data(self->mel_view, NULL, 0, 0);
    aigc_heatmap_view_set_data(self->alignment_view, NULL, 0, 0);
    gtk_label_set_text(self->status_label, _("Reading…"));
    AigcJobHandle *h = aigc_workshop_submit(workshop, job, _("Speaking"));
    self->running = g_object_ref(h);
    g_signal_connect_object(h, "preview", G_CALLBACK(on_preview), self, 0);
    g_signal_connect_object(h, "done", G_CALLBACK(on_done), self, 0);
    update_buttons(self);
    return TRUE;
}

static void toggle_play(AigcSpeakPanel *self)
{
    if (aigc_audio_player_get_playing(self->player)) {
        aigc_audio_player_stop(self->player);
    } else if (self->audio->len > 0) {
        g_autoptr(GError) error = NULL;
        if (!aigc_audio_player_play(self->player, &error))
            aigc_workshop_toast(AIGC_WORKSHOP(self), error->message);
    }
    update_buttons(self);
}

static gboolean on_space(GtkWidget *widget, GVariant *args, gpointer data)
{
    toggle_play(AIGC_SPEAK_PANEL(widget));
    return TRUE;
}

static void on_seek(AigcWaveformView *view, double seconds, AigcSpeakPanel *self)
{
    /* The player starts from the beginning; a click previews the position on the views. */
    aigc_waveform_view_set_playhead(view, seconds);
}

static void on_export_response(GtkNativeDialog *dialog, int response, AigcSpeakPanel *self)
{
    if (response == GTK_RESPONSE_ACCEPT && self->audio->len > 0) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = g_file_get_path(file);
        AigcWavWriteParams wp = aigc_wav_write_default_params();
        static const AigcAudioEncoding encodings[] = {AIGC_AUDIO_PCM16, AIGC_AUDIO_PCM24,
                                                      AIGC_AUDIO_FLOAT32};
        static const int rates[] = {0, 22050, 44100, 48000};
        wp.encoding = encodings[MIN(gtk_drop_down_get_selected(self->format_picker), 2)];
        wp.sample_rate_out = rates[MIN(gtk_drop_down_get_selected(self->rate_picker), 3)];
        g_autofree char *comment = g_strdup_printf("Voice: %s, Vocoder: %s, Speed: %g",
                                                   self->voice_name, self->vocoder_name,
                                                   gtk_spin_button_get_value(self->speed_spin));
        wp.comment = comment;
        wp.software = "aigc-studio";
        g_autoptr(GError) error = NULL;
        if (!aigc_audio_file_write_wav(path, (const float *)self->audio->data, self->audio->len,
                                       self->rate, &wp, &error)) {
            g_autofree char *msg = g_strdup_printf(
                _("Could not export: %s. Choose a folder you can write to."), error->message);
            aigc_workshop_toast(AIGC_WORKSHOP(self), msg);
        }
    }
    g_object_unref(dialog);
}

static void export_result(AigcWorkshop *workshop)
{
    AigcSpeakPanel *self = AIGC_SPEAK_PANEL(workshop);
    if (self->audio->len == 0)
        return;
    GtkNative *native = gtk_widget_get_native(GTK_WIDGET(self));
    GtkFileChooserNative *dialog = gtk_file_chooser_native_new(
        _("Export Sound"), GTK_WINDOW(native), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"),
        _("_Cancel"));
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dialog), "speech.wav");
    g_signal_connect(dialog, "response", G_CALLBACK(on_export_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static void restore_settings(AigcWorkshop *workshop, JsonObject *o)
{
    AigcSpeakPanel *self = AIGC_SPEAK_PANEL(workshop);
    const char *text = json_object_get_string_member_with_default(o, "text", NULL);
    if (text)
        gtk_text_buffer_set_text(gtk_text_view_get_buffer(self->text_view), text, -1);
    const char *voice = json_object_get_string_member_with_default(o, "voice", NULL);
    const char *vocoder = json_object_get_string_member_with_default(o, "vocoder", NULL);
    if (voice && *voice)
        select_string(self->model_picker, voice);
    if (vocoder && *vocoder)
        select_string(self->vocoder_picker, vocoder);
    if (json_object_has_member(o, "speed"))
        gtk_spin_button_set_value(self->speed_spin, json_object_get_double_member(o, "speed"));
}

static gboolean speak_panel_grab_focus(GtkWidget *widget)
{
    return gtk_widget_grab_focus(GTK_WIDGET(AIGC_SPEAK_PANEL(widget)->text_view));
}

static void aigc_speak_panel_constructed(GObject *object)
{
    G_OBJECT_CLASS(aigc_speak_panel_parent_class)->constructed(object);
    AigcSpeakPanel *self = AIGC_SPEAK_PANEL(object);
    gtk_drop_down_set_model(self->model_picker, G_LIST_MODEL(self->voices));
    gtk_drop_down_set_model(self->vocoder_picker, G_LIST_MODEL(self->vocoders));
    g_signal_connect_object(self->model_picker, "notify::selected", G_CALLBACK(on_selected),
                            self, 0);
    g_signal_connect_object(self->vocoder_picker, "notify::selected", G_CALLBACK(on_selected),
                            self, 0);
    g_signal_connect_swapped(self->play_button, "clicked", G_CALLBACK(toggle_play), self);
    g_signal_connect_swapped(self->export_button, "clicked", G_CALLBACK(export_result), self);
    g_signal_connect(self->waveform_view, "seek", G_CALLBACK(on_seek), self);
    g_signal_connect_swapped(self->player, "notify::position", G_CALLBACK(update_time), self);
    g_signal_connect_swapped(self->player, "notify::playing", G_CALLBACK(update_buttons), self);
    g_object_bind_property(self->loop_button, "active", self->player, "loop",
                           G_BINDING_SYNC_CREATE);
    aigc_heatmap_view_set_captions(self->mel_view, _("time"), _("mel bands"));
    aigc_heatmap_view_set_captions(self->alignment_view, _("decoder steps"), _("phonemes"));
    aigc_heatmap_view_set_range(self->alignment_view, 0.0f, 1.0f);
    models_changed(AIGC_WORKSHOP(self));
    update_buttons(self);
}

static void aigc_speak_panel_dispose(GObject *object)
{
    AigcSpeakPanel *self = AIGC_SPEAK_PANEL(object);
    if (self->player)
        aigc_audio_player_stop(self->player);
    g_clear_object(&self->running);
    if (self->retired)
        free_retired(self);
    g_clear_pointer(&self->voice, aigc_tacotron2_free);
    g_clear_pointer(&self->vocoder, aigc_vocoder_free);
    g_clear_pointer(&self->voice_name, g_free);
    g_clear_pointer(&self->vocoder_name, g_free);
    g_clear_pointer(&self->pending_voice, g_free);
    g_clear_pointer(&self->pending_vocoder, g_free);
    G_OBJECT_CLASS(aigc_speak_panel_parent_class)->dispose(object);
}

static void aigc_speak_panel_finalize(GObject *object)
{
    AigcSpeakPanel *self = AIGC_SPEAK_PANEL(object);
    g_clear_object(&self->player);
    g_clear_object(&self->voices);
    g_clear_object(&self->vocoders);
    g_ptr_array_unref(self->retired);
    g_array_unref(self->audio);
    G_OBJECT_CLASS(aigc_speak_panel_parent_class)->finalize(object);
}

static void aigc_speak_panel_class_init(AigcSpeakPanelClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    AigcWorkshopClass *workshop_class = AIGC_WORKSHOP_CLASS(klass);
    object_class->constructed = aigc_speak_panel_constructed;
    object_class->dispose = aigc_speak_panel_dispose;
    object_class->finalize = aigc_speak_panel_finalize;
    widget_class->grab_focus = speak_panel_grab_focus;
    workshop_class->models_changed = models_changed;
    workshop_class->generate = generate;
    workshop_class->export_result = export_result;
    workshop_class->restore_settings = restore_settings;
    g_type_ensure(AIGC_TYPE_WAVEFORM_VIEW);
    g_type_ensure(AIGC_TYPE_HEATMAP_VIEW);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/aigcstudio/Studio/aigc-speak-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, AigcSpeakPanel, name)
    BIND(model_picker);
    BIND(vocoder_picker);
    BIND(format_picker);
    BIND(rate_picker);
    BIND(rtf_label);
    BIND(time_label);
    BIND(status_label);
    BIND(content_stack);
    BIND(text_view);
    BIND(speed_spin);
    BIND(play_button);
    BIND(export_button);
    BIND(loop_button);
    BIND(waveform_view);
    BIND(mel_view);
    BIND(alignment_view);
#undef BIND
    /* Space plays and stops, unless the text has the focus (it types a space there). */
    gtk_widget_class_add_binding(widget_class, GDK_KEY_space, 0, on_space, NULL);
}

static void aigc_speak_panel_init(AigcSpeakPanel *self)
{
    self->voices = gtk_string_list_new(NULL);
    self->vocoders = gtk_string_list_new(NULL);
    self->retired = g_ptr_array_new();
    self->audio = g_array_new(FALSE, FALSE, sizeof(float));
    self->rate = 16000;
    g_autoptr(GSettings) settings = aigc_ui_settings_new();
    g_autofree char *device = settings ? g_settings_get_string(settings, "audio-device") : NULL;
    self->player = aigc_audio_player_new(device);
    gtk_widget_init_template(GTK_WIDGET(self));
}
