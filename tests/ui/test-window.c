/* SPDX-License-Identifier: MIT
 *
 * The studio window in a real display (Xvfb): the five pages and their switching, the actions
 * following job state, the gallery across a restart with "use these settings" and delete, the
 * keyboard accelerators, the focus on a page's first input, and that windows and panels are
 * finalised when closed.
 */
#include "aigc-application.h"
#include "aigc-gallery-view.h"
#include "aigc-test-jobs.h"
#include "aigc-preferences.h"
#include "aigc-paint-panel.h"
#include "aigc-scene-panel.h"
#include "aigc-window.h"

#include "models/diffusion/aigc-diffusion.h"
#include "models/tacotron2/aigc-tacotron2.h"
#include "models/vae/aigc-vae.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static AigcApplication *app;

static void spin_until(gboolean (*done)(gpointer), gpointer data)
{
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (!done(data)) {
        g_main_context_iteration(NULL, FALSE);
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
}

static void spin_for_ms(int ms)
{
    gint64 until = g_get_monotonic_time() + ms * 1000;
    while (g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, FALSE);
}

static AigcWindow *new_window(AigcGalleryStore *gallery)
{
    AigcWindow *w = aigc_window_new(ADW_APPLICATION(app), aigc_application_get_bridge(app),
                                    gallery);
    gtk_window_present(GTK_WINDOW(w));
    gtk_test_widget_wait_for_draw(GTK_WIDGET(w));
    return w;
}

static gboolean action_enabled(AigcWindow *w, const char *name)
{
    return g_action_group_get_action_enabled(G_ACTION_GROUP(w), name);
}

static void test_pages(void)
{
    g_autoptr(AigcGalleryStore) gallery = aigc_gallery_store_new(NULL);
    AigcWindow *w = new_window(gallery);
    g_assert_cmpstr(aigc_window_get_page(w), ==, "write");
    /* The shown page's first input has the focus: a user can type a prompt at once. */
    GtkWidget *focus = gtk_root_get_focus(GTK_ROOT(w));
    g_assert_true(GTK_IS_TEXT_VIEW(focus));
    g_assert_true(gtk_widget_is_ancestor(focus,
                                         GTK_WIDGET(aigc_window_get_workshop_by_id(w, "write"))));
    const char *pages[] = {"paint", "speak", "scene", "gallery", "write"};
    for (guint i = 0; i < G_N_ELEMENTS(pages); i++) {
        g_action_group_activate_action(G_ACTION_GROUP(w), "show-page",
                                       g_variant_new_string(pages[i]));
        g_assert_cmpstr(aigc_window_get_page(w), ==, pages[i]);
        g_assert_true(aigc_window_get_workshop(w) == aigc_window_get_workshop_by_id(w, pages[i]));
    }
    /* Each workshop panel lists models of its modality only. */
    const char *ids[] = {"write", "paint", "speak", "scene"};
    for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
        AigcWorkshop *ws = aigc_window_get_workshop_by_id(w, ids[i]);
        g_assert_nonnull(ws);
        g_assert_cmpstr(aigc_workshop_get_id(ws), ==, ids[i]);
        g_assert_cmpint(aigc_workshop_get_modality(ws), ==, (int)i);
    }
    gtk_window_destroy(GTK_WINDOW(w));
}

static void test_accels(void)
{
    GtkApplication *gapp = GTK_APPLICATION(app);
    struct {
        const char *action, *accel;
    } expected[] = {
        {"win.generate", "<Control>Return"}, {"win.stop", "Escape"},
        {"win.export", "<Control>s"},        {"win.show-page::write", "<Control>1"},
        {"win.show-page::paint", "<Control>2"}, {"win.show-page::speak", "<Control>3"},
        {"win.show-page::scene", "<Control>4"}, {"win.show-page::gallery", "<Control>5"},
        {"win.show-help-overlay", "<Control>question"}, {"app.quit", "<Control>q"},
        {"app.preferences", "<Control>comma"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
        g_auto(GStrv) accels = gtk_application_get_accels_for_action(gapp, expected[i].action);
        g_assert_nonnull(accels[0]);
        g_assert_cmpstr(accels[0], ==, expected[i].accel);
    }
}

static gboolean handle_finished(gpointer data)
{
    return aigc_job_handle_is_finished(data);
}

static void test_actions_follow_jobs(void)
{
    g_autoptr(AigcGalleryStore) gallery = aigc_gallery_store_new(NULL);
    AigcWindow *w = new_window(gallery);
    AigcWorkshop *write = aigc_window_get_workshop_by_id(w, "write");
    /* Idle: Generate is there exactly when the panel has a model; nothing to stop or export. */
    gboolean has_models =
        g_list_model_get_n_items(G_LIST_MODEL(aigc_workshop_get_models(write))) > 0;
    g_assert_cmpint(action_enabled(w, "generate"), ==, has_models);
    g_assert_false(action_enabled(w, "stop"));
    g_assert_false(action_enabled(w, "export"));

    AigcTestJobParams p = {.n_steps = 100000, .step_us = 100};
    g_autoptr(AigcJob) job = aigc_test_job_new(&p);
    g_autoptr(AigcJobHandle) h = g_object_ref(aigc_workshop_submit(write, job, "Long job"));
    g_assert_true(aigc_workshop_get_busy(write));
    g_assert_true(action_enabled(w, "stop"));
    g_assert_false(action_enabled(w, "generate"));
    /* Another page's Stop is not this job's. */
    g_action_group_activate_action(G_ACTION_GROUP(w), "show-page", g_variant_new_string("paint"));
    g_assert_false(action_enabled(w, "stop"));
    g_action_group_activate_action(G_ACTION_GROUP(w), "show-page", g_variant_new_string("write"));
    g_assert_true(action_enabled(w, "stop"));
    g_action_group_activate_action(G_ACTION_GROUP(w), "stop", NULL); /* Esc */
    spin_until(handle_finished, h);
    g_assert_cmpint(aigc_job_handle_get_state(h), ==, AIGC_JOB_CANCELLED);
    g_assert_false(aigc_workshop_get_busy(write));
    g_assert_false(action_enabled(w, "stop"));
    g_assert_cmpint(action_enabled(w, "generate"), ==, has_models);
    gtk_window_destroy(GTK_WINDOW(w));
}

static AigcGalleryItem *add_item(AigcGalleryStore *store, AigcGalleryKind kind, const char *panel,
                                 const char *title)
{
    g_autoptr(JsonObject) params = json_object_new();
    json_object_set_string_member(params, "prompt", title);
    g_autoptr(GBytes) content = g_bytes_new_static("x", 1);
    AigcGalleryEntry entry = {.kind = kind, .panel = panel, .title = title, .seed = 5,
                              .params = params, .text = title, .content = content,
                              .content_name = "content.bin"};
    return aigc_gallery_store_add(store, &entry, NULL);
}

static void test_gallery_restart(void)
{
    g_autofree char *dir = g_dir_make_tmp("aigc-ui-gallery-XXXXXX", NULL);
    {
        g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new(dir);
        aigc_gallery_store_load(store);
        add_item(store, AIGC_GALLERY_KIND_TEXT, "write", "A poem");
        add_item(store, AIGC_GALLERY_KIND_IMAGE, "paint", "Sneaker");
        AigcWindow *w = new_window(store);
        gtk_window_destroy(GTK_WINDOW(w));
    }
    /* Restart: a new store and window on the same folder. */
    g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new(dir);
    aigc_gallery_store_load(store);
    AigcWindow *w = new_window(store);
    AigcGalleryView *view = AIGC_GALLERY_VIEW(aigc_window_get_gallery_view(w));
    g_action_group_activate_action(G_ACTION_GROUP(w), "show-page", g_variant_new_string("gallery"));
    GListModel *model = aigc_gallery_store_get_model(store);
    g_assert_cmpuint(g_list_model_get_n_items(model), ==, 2);

    /* Newest first: the image. "Use these settings" opens Paint. */
    aigc_gallery_view_select(view, 0);
    AigcGalleryItem *selected = aigc_gallery_view_get_selected(view);
    g_assert_cmpstr(aigc_gallery_item_get_title(selected), ==, "Sneaker");
    gtk_widget_activate_action(GTK_WIDGET(view), "gallery.use-settings", NULL);
    g_assert_cmpstr(aigc_window_get_page(w), ==, "paint");

    /* Filter by kind. */
    aigc_gallery_view_set_filter(view, AIGC_GALLERY_KIND_TEXT);
    aigc_gallery_view_select(view, 0);
    g_assert_cmpstr(aigc_gallery_item_get_title(aigc_gallery_view_get_selected(view)), ==,
                    "A poem");
    gtk_widget_activate_action(GTK_WIDGET(view), "gallery.use-settings", NULL);
    g_assert_cmpstr(aigc_window_get_page(w), ==, "write");

    /* Delete the poem; it stays deleted after another restart. */
    gtk_widget_activate_action(GTK_WIDGET(view), "gallery.delete", NULL);
    g_assert_cmpuint(g_list_model_get_n_items(model), ==, 1);
    gtk_window_destroy(GTK_WINDOW(w));
    g_autoptr(AigcGalleryStore) again = aigc_gallery_store_new(dir);
    aigc_gallery_store_load(again);
    g_assert_cmpuint(g_list_model_get_n_items(aigc_gallery_store_get_model(again)), ==, 1);
}

static gboolean workshop_idle(gpointer data)
{
    return !aigc_workshop_get_busy(data);
}

/* The Write panel with the shipped n-gram: Generate streams text, the result goes to the gallery
 * with its settings, and the same seed writes the same text again. */
static void test_write_generates(void)
{
    g_autofree char *dir = g_dir_make_tmp("aigc-ui-write-XXXXXX", NULL);
    g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new(dir);
    AigcWindow *w = new_window(store);
    AigcWorkshop *write = aigc_window_get_workshop_by_id(w, "write");
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(aigc_workshop_get_models(write))), >,
                     0); /* assets/models/ngram-en */
    g_autoptr(JsonObject) params = json_object_new();
    json_object_set_string_member(params, "model", "ngram-en");
    json_object_set_string_member(params, "prompt", "A fool and his money");
    json_object_set_int_member(params, "seed", 42);
    json_object_set_int_member(params, "max_tokens", 60);
    json_object_set_double_member(params, "temperature", 0.8);
    aigc_workshop_restore_settings(write, params);
    GListModel *items = aigc_gallery_store_get_model(store);
    for (int run = 0; run < 2; run++) {
        g_assert_true(action_enabled(w, "generate"));
        g_action_group_activate_action(G_ACTION_GROUP(w), "generate", NULL);
        g_assert_true(aigc_workshop_get_busy(write) || g_list_model_get_n_items(items) > (guint)run);
        spin_until(workshop_idle, write);
        spin_for_ms(100);
        g_assert_cmpuint(g_list_model_get_n_items(items), ==, run + 1);
    }
    g_autoptr(AigcGalleryItem) a = g_list_model_get_item(items, 0);
    g_autoptr(AigcGalleryItem) b = g_list_model_get_item(items, 1);
    g_assert_cmpstr(aigc_gallery_item_get_panel(a), ==, "write");
    g_assert_cmpint(aigc_gallery_item_get_kind(a), ==, AIGC_GALLERY_KIND_TEXT);
    g_assert_cmpint(aigc_gallery_item_get_seed(a), ==, 42);
    g_assert_cmpstr(aigc_gallery_item_get_model(a), ==, "ngram-en");
    g_assert_true(g_str_has_prefix(aigc_gallery_item_get_text(a), "A fool and his money"));
    g_assert_cmpuint(strlen(aigc_gallery_item_get_text(a)), >, strlen("A fool and his money"));
    g_assert_cmpstr(aigc_gallery_item_get_text(a), ==, aigc_gallery_item_get_text(b));
    JsonObject *saved = aigc_gallery_item_get_params(a);
    g_assert_cmpint(json_object_get_int_member(saved, "max_tokens"), ==, 60);
    g_assert_true(aigc_workshop_get_has_result(write));
    g_assert_true(action_enabled(w, "export"));
    gtk_window_destroy(GTK_WINDOW(w));
}

/* A small random diffusion model in a model folder of its own, found by the studio as
 * "tiny-shapes": Paint runs it end to end (the shipped models are too slow for a test). */
static char *write_tiny_image_model(void)
{
    AigcDiffusionConfig c = aigc_diffusion_default_config();
    c.image_size = 8;
    c.ch = 8;
    c.n_levels = 2;
    c.ch_mult[0] = 1;
    c.ch_mult[1] = 2;
    c.n_heads = 0;
    c.norm_groups = 4;
    c.n_classes = 3;
    c.n_timesteps = 100;
    g_autoptr(AigcDiffusion) d = aigc_diffusion_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    aigc_diffusion_init_weights(d, &rng);
    const char *names[] = {"Circle", "Square", "Line"};
    aigc_diffusion_set_class_names(d, names);
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    g_assert_true(aigc_diffusion_save(d, w, AIGC_DTYPE_F32, NULL));
    char *dir = g_dir_make_tmp("aigc-ui-models-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "tiny-shapes.safetensors", NULL);
    g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, NULL));

    /* and a small random text model, "tiny-words", drawn from a prompt */
    c.text_len = 3;
    g_autoptr(AigcDiffusion) words = aigc_diffusion_new(&c);
    aigc_diffusion_init_weights(words, &rng);
    const char *known_words[] = {"blue", "circle", "square"};
    aigc_diffusion_set_class_names(words, known_words);
    g_autoptr(AigcSafetensorsWriter) ww = aigc_safetensors_writer_new();
    g_assert_true(aigc_diffusion_save(words, ww, AIGC_DTYPE_F32, NULL));
    g_autofree char *words_path = g_build_filename(dir, "tiny-words.safetensors", NULL);
    g_assert_true(aigc_safetensors_writer_write(ww, words_path, NULL, NULL, NULL));

    /* and a small random VAE, "tiny-vae": interpolation and reconstruction */
    AigcVaeConfig vc = aigc_vae_default_config();
    vc.image_size = 8;
    vc.ch = 4;
    vc.hidden = 16;
    vc.latent = 4;
    vc.n_classes = 3;
    g_autoptr(AigcVae) vae = aigc_vae_new(&vc);
    aigc_vae_init_weights(vae, &rng);
    aigc_vae_set_class_names(vae, names);
    g_autoptr(AigcSafetensorsWriter) vaew = aigc_safetensors_writer_new();
    g_assert_true(aigc_vae_save(vae, vaew, AIGC_DTYPE_F32, NULL));
    g_autofree char *vae_path = g_build_filename(dir, "tiny-vae.safetensors", NULL);
    g_assert_true(aigc_safetensors_writer_write(vaew, vae_path, NULL, NULL, NULL));

    /* and a small random voice, "tiny-voice", read through Griffin-Lim */
    g_autoptr(AigcPhonemeVocab) vocab = aigc_phoneme_vocab_new_default();
    AigcTacotron2Config t = aigc_tacotron2_default_config();
    t.n_symbols = aigc_phoneme_vocab_get_size(vocab);
    t.embed_dim = t.encoder_dim = t.prenet_dim = t.postnet_dim = 16;
    t.encoder_n_convs = 2;
    t.r = 2;
    t.attention_rnn_dim = t.decoder_rnn_dim = 24;
    t.attention_dim = 12;
    t.location_filters = 4;
    t.location_kernel = 5;
    t.postnet_n_convs = 3;
    AigcSpeechFeatures f = aigc_speech_features_default();
    g_autoptr(AigcTacotron2) voice = aigc_tacotron2_new(&t, &f, vocab, NULL);
    g_assert_nonnull(voice);
    aigc_tacotron2_init_weights(voice, &rng);
    g_autoptr(AigcSafetensorsWriter) vw = aigc_safetensors_writer_new();
    g_assert_true(aigc_tacotron2_save(voice, vw, AIGC_DTYPE_F32, NULL));
    g_autofree char *vpath = g_build_filename(dir, "tiny-voice.safetensors", NULL);
    g_assert_true(aigc_safetensors_writer_write(vw, vpath, NULL, NULL, NULL));
    return dir;
}

/* Speak reads two sentences sent from Write's "Speak this", keeps the sound in the gallery, and
 * can export; on a machine without sound Play stays off with the reason as its tooltip. */
static void test_speak_synthesizes(void)
{
    g_autofree char *dir = g_dir_make_tmp("aigc-ui-speak-XXXXXX", NULL);
    g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new(dir);
    AigcWindow *w = new_window(store);
    AigcWorkshop *speak = aigc_window_get_workshop_by_id(w, "speak");
    g_autoptr(JsonObject) params = json_object_new();
    json_object_set_string_member(params, "voice", "tiny-voice");
    json_object_set_string_member(params, "vocoder", "griffin-lim");
    json_object_set_string_member(params, "text", "Hello there. It is late.");
    aigc_workshop_restore_settings(speak, params);
    g_action_group_activate_action(G_ACTION_GROUP(w), "show-page", g_variant_new_string("speak"));
    g_assert_true(action_enabled(w, "generate"));
    g_action_group_activate_action(G_ACTION_GROUP(w), "generate", NULL);
    spin_until(workshop_idle, speak);
    spin_for_ms(100);
    GListModel *items = aigc_gallery_store_get_model(store);
    g_assert_cmpuint(g_list_model_get_n_items(items), ==, 1);
    g_autoptr(AigcGalleryItem) a = g_list_model_get_item(items, 0);
    g_assert_cmpstr(aigc_gallery_item_get_panel(a), ==, "speak");
    g_assert_cmpint(aigc_gallery_item_get_kind(a), ==, AIGC_GALLERY_KIND_AUDIO);
    g_assert_cmpstr(aigc_gallery_item_get_model(a), ==, "tiny-voice");
    g_assert_true(aigc_workshop_get_has_result(speak));
    g_assert_true(action_enabled(w, "export"));
    gtk_window_destroy(GTK_WINDOW(w));
}

static gboolean engine_idle(gpointer data)
{
    return !aigc_engine_bridge_is_busy(AIGC_ENGINE_BRIDGE(data), NULL);
}

static gboolean has_result(gpointer data)
{
    return aigc_workshop_get_has_result(AIGC_WORKSHOP(data));
}

static void spin_until_s(gboolean (*done)(gpointer), gpointer data, int seconds)
{
    gint64 deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
    while (!done(data)) {
        g_main_context_iteration(NULL, FALSE);
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
}

/* A small dataset folder: a few views of the sample scene shrunk to 24×24, same cameras. */
static char *write_small_dataset(void)
{
    g_autofree char *sample = aigc_scene_find_sample();
    g_assert_nonnull(sample);
    char *dir = g_dir_make_tmp("aigc-ui-scene-XXXXXX", NULL);
    g_autofree char *ds = g_build_filename(dir, "tinybox", NULL);
    g_assert_cmpint(g_mkdir_with_parents(ds, 0755), ==, 0);
    const char *splits[] = {"train", "val"};
    const int counts[] = {6, 2};
    for (int s = 0; s < 2; s++) {
        g_autofree char *src_json = g_strdup_printf("%s/transforms_%s.json", sample, splits[s]);
        AigcTransformsOptions opt = aigc_transforms_default_options();
        opt.load_images = FALSE;
        g_autoptr(AigcTransforms) t = aigc_transforms_load(src_json, &opt, NULL);
        g_assert_nonnull(t);
        GString *json = g_string_new(NULL);
        g_string_append_printf(json, "{\"camera_angle_x\": %.17g, \"frames\": [",
                               2.0 * atan(0.5 * t->camera.width / t->camera.fl_x));
        for (int f = 0; f < counts[s]; f++) {
            g_autoptr(AigcImage) img = aigc_png_read(t->frames[f].image_path, NULL, NULL, NULL);
            g_assert_nonnull(img);
            g_autoptr(AigcImage) small = aigc_image_resize(img, 24, 24);
            g_autofree char *name = g_strdup_printf("%s-%d.png", splits[s], f);
            g_autofree char *path = g_build_filename(ds, name, NULL);
            g_assert_true(aigc_png_write(path, small, NULL, NULL, NULL));
            g_string_append_printf(json, "%s{\"file_path\": \"%s\", \"transform_matrix\": [",
                                   f ? ", " : "", name);
            for (int r = 0; r < 4; r++)
                g_string_append_printf(json, "%s[%.17g, %.17g, %.17g, %.17g]", r ? ", " : "",
                                       t->frames[f].c2w[4 * r], t->frames[f].c2w[4 * r + 1],
                                       t->frames[f].c2w[4 * r + 2], t->frames[f].c2w[4 * r + 3]);
            g_string_append(json, "]}");
        }
        g_string_append(json, "]}");
        g_autofree char *dst = g_strdup_printf("%s/transforms_%s.json", ds, splits[s]);
        g_assert_true(g_file_set_contents(dst, json->str, -1, NULL));
        g_string_free(json, TRUE);
    }
    return dir;
}

static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(path, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR))
            remove_tree(p);
        else
            g_remove(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(path);
}

/* Scene trains a radiance field on a dataset folder with a live PSNR curve, lists the new scene,
 * shows a view of it, exports that view as PNG with its parameters, and keeps records in the
 * gallery. */
static void test_scene_trains(void)
{
    g_autofree char *dir = write_small_dataset();
    g_autofree char *ds = g_build_filename(dir, "tinybox", NULL);
    g_autofree char *gallery_dir = g_build_filename(dir, "gallery", NULL);
    g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new(gallery_dir);
    AigcWindow *w = new_window(store);
    g_action_group_activate_action(G_ACTION_GROUP(w), "show-page", g_variant_new_string("scene"));
    AigcWorkshop *scene = aigc_window_get_workshop_by_id(w, "scene");
    g_autoptr(JsonObject) params = json_object_new();
    json_object_set_string_member(params, "dataset", ds);
    json_object_set_int_member(params, "steps", 10);
    json_object_set_int_member(params, "resolution", 100);
    aigc_workshop_restore_settings(scene, params);
    g_assert_true(action_enabled(w, "generate"));
    g_action_group_activate_action(G_ACTION_GROUP(w), "generate", NULL);
    g_assert_true(aigc_workshop_get_busy(scene));
    spin_until_s(workshop_idle, scene, 120);
    /* The new scene is listed and shown at the chosen resolution. */
    GtkStringList *models = aigc_workshop_get_models(scene);
    gboolean listed = FALSE;
    for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(models)); i++)
        listed |= g_strcmp0(gtk_string_list_get_string(models, i), "tinybox") == 0;
    g_assert_true(listed);
    spin_until_s(has_result, scene, 120);
    g_assert_true(action_enabled(w, "export"));
    GListModel *items = aigc_gallery_store_get_model(store);
    g_assert_cmpuint(g_list_model_get_n_items(items), ==, 1);
    g_autoptr(AigcGalleryItem) a = g_list_model_get_item(items, 0);
    g_assert_cmpstr(aigc_gallery_item_get_panel(a), ==, "scene");
    g_assert_true(g_str_has_prefix(aigc_gallery_item_get_text(a), "Validation "));
    g_autofree char *png = g_build_filename(dir, "view.png", NULL);
    GError *error = NULL;
    g_assert_true(aigc_scene_panel_export_to(AIGC_SCENE_PANEL(scene), png, &error));
    g_assert_no_error(error);
    g_autoptr(GHashTable) text = NULL;
    g_autoptr(AigcImage) img = aigc_png_read(png, NULL, &text, NULL);
    g_assert_nonnull(img);
    g_assert_cmpint(img->width, ==, 100);
    g_assert_nonnull(strstr(g_hash_table_lookup(text, "parameters"), "Azimuth: "));
    g_assert_cmpuint(g_list_model_get_n_items(items), ==, 2);
    spin_until_s(engine_idle, aigc_application_get_bridge(app), 60);
    gtk_window_destroy(GTK_WINDOW(w));
    spin_for_ms(100);
    const char *models_dir = g_getenv("AIGC_MODELS_DIR");
    const char *suffixes[] = {"", ".ckpt", ".csv"};
    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *f = g_strdup_printf("%s/tinybox.safetensors%s", models_dir, suffixes[i]);
        g_assert_true(g_file_test(f, G_FILE_TEST_EXISTS));
        g_remove(f);
    }
    remove_tree(dir);
}

/* Shows Paint in `w` with the settings of `json` (a gallery record's), as a user reopening one. */
static AigcWorkshop *open_paint(AigcWindow *w, const char *json)
{
    g_action_group_activate_action(G_ACTION_GROUP(w), "show-page", g_variant_new_string("paint"));
    AigcWorkshop *paint = aigc_window_get_workshop_by_id(w, "paint");
    g_autoptr(JsonNode) node = json_from_string(json, NULL);
    g_assert_nonnull(node);
    aigc_workshop_restore_settings(paint, json_node_get_object(node));
    return paint;
}

/* Paint draws a batch from a class with the settings restored from a record, keeps each image
 * in the gallery with its parameters, and can export. */
static void test_paint_generates(void)
{
    g_autofree char *dir = g_dir_make_tmp("aigc-ui-paint-XXXXXX", NULL);
    g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new(dir);
    AigcWindow *w = new_window(store);
    AigcWorkshop *paint = open_paint(w, "{\"model\": \"tiny-shapes\", \"class\": \"Square\", "
                                        "\"steps\": 4, \"batch\": 2, \"seed\": 5}");
    g_assert_false(aigc_workshop_get_has_result(paint));
    g_assert_true(action_enabled(w, "generate"));
    g_action_group_activate_action(G_ACTION_GROUP(w), "generate", NULL);
    spin_until(workshop_idle, paint);
    spin_for_ms(100);
    GListModel *items = aigc_gallery_store_get_model(store);
    g_assert_cmpuint(g_list_model_get_n_items(items), ==, 2);
    g_autoptr(AigcGalleryItem) a = g_list_model_get_item(items, 0);
    g_assert_cmpstr(aigc_gallery_item_get_panel(a), ==, "paint");
    g_assert_cmpint(aigc_gallery_item_get_kind(a), ==, AIGC_GALLERY_KIND_IMAGE);
    g_assert_cmpstr(aigc_gallery_item_get_title(a), ==, "Square");
    g_assert_cmpint(aigc_gallery_item_get_seed(a), ==, 5);
    g_assert_cmpstr(aigc_gallery_item_get_model(a), ==, "tiny-shapes");
    g_assert_true(g_str_has_prefix(aigc_gallery_item_get_text(a), "Square\nSteps: 4, "));
    g_assert_true(aigc_workshop_get_has_result(paint));
    g_assert_true(action_enabled(w, "export"));
    gtk_window_destroy(GTK_WINDOW(w));
}

static GtkWidget *paint_child(AigcWorkshop *paint, const char *name)
{
    return GTK_WIDGET(
        gtk_widget_get_template_child(GTK_WIDGET(paint), AIGC_TYPE_PAINT_PANEL, name));
}

/* A text model: Paint asks for a prompt instead of a class, and draws it. */
static void test_paint_prompt(void)
{
    g_autofree char *dir = g_dir_make_tmp("aigc-ui-paint-XXXXXX", NULL);
    g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new(dir);
    AigcWindow *w = new_window(store);
    AigcWorkshop *paint = open_paint(w, "{\"model\": \"tiny-words\", \"prompt\": \"blue square\", "
                                        "\"steps\": 3, \"batch\": 1, \"seed\": 2}");
    g_assert_true(gtk_widget_get_visible(paint_child(paint, "prompt_row")));
    g_assert_false(gtk_widget_get_visible(paint_child(paint, "class_row")));
    /* a blank prompt draws nothing (a toast asks for one) */
    gtk_editable_set_text(GTK_EDITABLE(paint_child(paint, "prompt_row")), "  ");
    g_action_group_activate_action(G_ACTION_GROUP(w), "generate", NULL);
    spin_until(workshop_idle, paint);
    GListModel *items = aigc_gallery_store_get_model(store);
    g_assert_cmpuint(g_list_model_get_n_items(items), ==, 0);
    gtk_editable_set_text(GTK_EDITABLE(paint_child(paint, "prompt_row")), "blue square");
    g_action_group_activate_action(G_ACTION_GROUP(w), "generate", NULL);
    spin_until(workshop_idle, paint);
    spin_for_ms(100);
    g_assert_cmpuint(g_list_model_get_n_items(items), ==, 1);
    g_autoptr(AigcGalleryItem) a = g_list_model_get_item(items, 0);
    g_assert_cmpstr(aigc_gallery_item_get_title(a), ==, "blue square");
    g_assert_true(g_str_has_prefix(aigc_gallery_item_get_text(a), "blue square\nSteps: 3, "));
    gtk_window_destroy(GTK_WINDOW(w));
    remove_tree(dir);
}

/* With a VAE, Paint shows what a VAE does — no steps, sampler or guidance; an interpolation
 * strip and Reconstruct — and both work: a strip of Batch images from one class to the other
 * into the gallery, and the canvas (a result put back into it) encoded and decoded. */
static void test_paint_interpolates(void)
{
    g_autofree char *dir = g_dir_make_tmp("aigc-ui-paint-XXXXXX", NULL);
    g_autoptr(AigcGalleryStore) store = aigc_gallery_store_new(dir);
    AigcWindow *w = new_window(store);
    AigcWorkshop *paint = open_paint(
        w, "{\"model\": \"tiny-vae\", \"class\": \"Circle\", \"batch\": 5, \"seed\": 1}");
    g_assert_true(gtk_widget_get_visible(paint_child(paint, "interp_group")));
    g_assert_true(gtk_widget_get_visible(paint_child(paint, "reconstruct_button")));
    g_assert_false(gtk_widget_get_visible(paint_child(paint, "steps_row")));
    g_assert_false(gtk_widget_get_visible(paint_child(paint, "guidance_row")));
    g_assert_false(gtk_widget_get_visible(paint_child(paint, "inpaint_box")));
    g_assert_true(gtk_widget_get_visible(paint_child(paint, "img2img_box")));
    gtk_drop_down_set_selected(GTK_DROP_DOWN(paint_child(paint, "to_class_picker")), 2);
    g_signal_emit_by_name(paint_child(paint, "interp_button"), "clicked");
    spin_until(workshop_idle, paint);
    spin_for_ms(100);
    GListModel *items = aigc_gallery_store_get_model(store);
    g_assert_cmpuint(g_list_model_get_n_items(items), ==, 5);
    g_autoptr(AigcGalleryItem) a = g_list_model_get_item(items, 0);
    g_assert_cmpstr(aigc_gallery_item_get_title(a), ==, "Circle → Line");
    g_assert_nonnull(strstr(aigc_gallery_item_get_text(a), "Interpolation: linear"));
    g_assert_true(aigc_workshop_get_has_result(paint));
    /* a result into the canvas, then through the VAE */
    g_signal_emit_by_name(paint_child(paint, "use_button"), "clicked");
    g_signal_emit_by_name(paint_child(paint, "reconstruct_button"), "clicked");
    spin_until(workshop_idle, paint);
    spin_for_ms(100);
    g_assert_cmpuint(g_list_model_get_n_items(items), ==, 6);
    g_autoptr(AigcGalleryItem) b = g_list_model_get_item(items, 0);
    g_assert_nonnull(strstr(aigc_gallery_item_get_text(b), "VAE encoder"));
    /* the diffusion model hides them again */
    open_paint(w, "{\"model\": \"tiny-shapes\"}");
    g_assert_false(gtk_widget_get_visible(paint_child(paint, "interp_group")));
    g_assert_true(gtk_widget_get_visible(paint_child(paint, "steps_row")));
    gtk_window_destroy(GTK_WINDOW(w));
    remove_tree(dir);
}

static GtkWidget *find_by_type(GtkWidget *root, GType type)
{
    if (G_TYPE_CHECK_INSTANCE_TYPE(root, type))
        return root;
    for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *found = find_by_type(c, type);
        if (found)
            return found;
    }
    return NULL;
}

/* Preferences are bound to GSettings: a change made in the window is in the settings, and a new
 * preferences window shows it. */
static void test_preferences(void)
{
    g_autoptr(GSettings) settings = g_settings_new("org.aigcstudio.Studio");
    g_settings_set_int(settings, "compute-threads", 0);
    AigcPreferences *prefs = aigc_preferences_new(NULL);
    gtk_window_present(GTK_WINDOW(prefs));
    GtkSpinButton *spin = GTK_SPIN_BUTTON(find_by_type(GTK_WIDGET(prefs), GTK_TYPE_SPIN_BUTTON));
    g_assert_nonnull(spin);
    gtk_spin_button_set_value(spin, 3);
    g_assert_cmpint(g_settings_get_int(settings, "compute-threads"), ==, 3);
    g_settings_set_string(settings, "color-scheme", "dark");
    gtk_window_destroy(GTK_WINDOW(prefs));

    prefs = aigc_preferences_new(NULL);
    spin = GTK_SPIN_BUTTON(find_by_type(GTK_WIDGET(prefs), GTK_TYPE_SPIN_BUTTON));
    g_assert_cmpint(gtk_spin_button_get_value_as_int(spin), ==, 3);
    /* The colour scheme follows the setting at once. */
    spin_for_ms(50);
    g_assert_true(adw_style_manager_get_color_scheme(adw_style_manager_get_default()) ==
                  ADW_COLOR_SCHEME_FORCE_DARK);
    g_settings_set_string(settings, "color-scheme", "default");
    g_settings_set_int(settings, "compute-threads", 0);
    gtk_window_destroy(GTK_WINDOW(prefs));
}

/* Run with LANGUAGE=zh_CN (see tests/ui/meson.build): the window speaks Chinese. */
static void test_translated(void)
{
    g_autoptr(AigcGalleryStore) gallery = aigc_gallery_store_new(NULL);
    AigcWindow *w = new_window(gallery);
    const char *expected[][2] = {
        {"write", "写作"}, {"paint", "绘画"}, {"speak", "朗读"}, {"scene", "场景"}};
    for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
        GtkWidget *panel = GTK_WIDGET(aigc_window_get_workshop_by_id(w, expected[i][0]));
        GtkWidget *stack = gtk_widget_get_ancestor(panel, ADW_TYPE_VIEW_STACK);
        AdwViewStackPage *page = adw_view_stack_get_page(ADW_VIEW_STACK(stack), panel);
        g_assert_cmpstr(adw_view_stack_page_get_title(page), ==, expected[i][1]);
    }
    g_assert_cmpstr(gtk_window_get_title(GTK_WINDOW(w)), ==, "AIGC 创作室");
    gtk_window_destroy(GTK_WINDOW(w));
}

static void test_finalize(void)
{
    g_autoptr(AigcGalleryStore) gallery = aigc_gallery_store_new(NULL);
    AigcWindow *w = new_window(gallery);
    gpointer window_ptr = w;
    gpointer panel_ptr = aigc_window_get_workshop_by_id(w, "paint");
    gpointer gallery_ptr = aigc_window_get_gallery_view(w);
    g_object_add_weak_pointer(G_OBJECT(w), &window_ptr);
    g_object_add_weak_pointer(G_OBJECT(panel_ptr), &panel_ptr);
    g_object_add_weak_pointer(G_OBJECT(gallery_ptr), &gallery_ptr);
    gtk_window_destroy(GTK_WINDOW(w));
    spin_for_ms(200);
    g_assert_null(window_ptr);
    g_assert_null(panel_ptr);
    g_assert_null(gallery_ptr);
}

int main(int argc, char **argv)
{
    g_autofree char *models_dir = write_tiny_image_model();
    g_setenv("AIGC_MODELS_DIR", models_dir, TRUE);
    aigc_ui_init_i18n();
    gtk_test_init(&argc, &argv, NULL);
    adw_init();
    app = aigc_application_new();
    g_application_set_flags(G_APPLICATION(app), G_APPLICATION_NON_UNIQUE);
    GError *error = NULL;
    g_assert_true(g_application_register(G_APPLICATION(app), NULL, &error));
    g_assert_no_error(error);

    g_test_add_func("/ui/window/pages", test_pages);
    g_test_add_func("/ui/window/accels", test_accels);
    g_test_add_func("/ui/window/actions-follow-jobs", test_actions_follow_jobs);
    g_test_add_func("/ui/window/gallery-restart", test_gallery_restart);
    g_test_add_func("/ui/window/finalize", test_finalize);
    g_test_add_func("/ui/window/preferences", test_preferences);
    g_test_add_func("/ui/write/generates", test_write_generates);
    g_test_add_func("/ui/paint/generates", test_paint_generates);
    g_test_add_func("/ui/paint/interpolates", test_paint_interpolates);
    g_test_add_func("/ui/paint/prompt", test_paint_prompt);
    g_test_add_func("/ui/speak/synthesizes", test_speak_synthesizes);
    g_test_add_func("/ui/scene/trains", test_scene_trains);
    if (g_str_has_prefix(g_getenv("LANGUAGE") ? g_getenv("LANGUAGE") : "", "zh_CN"))
        g_test_add_func("/ui/window/translated", test_translated);
    int status = g_test_run();
    g_object_unref(app);
    g_autofree char *tiny = g_build_filename(models_dir, "tiny-shapes.safetensors", NULL);
    g_autofree char *tiny_voice = g_build_filename(models_dir, "tiny-voice.safetensors", NULL);
    g_remove(tiny);
    g_remove(tiny_voice);
    g_autofree char *tiny_vae = g_build_filename(models_dir, "tiny-vae.safetensors", NULL);
    g_remove(tiny_vae);
    g_autofree char *tiny_words = g_build_filename(models_dir, "tiny-words.safetensors", NULL);
    g_remove(tiny_words);
    g_rmdir(models_dir);
    return status;
}
