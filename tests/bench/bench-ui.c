/* SPDX-License-Identifier: MIT
 *
 * Studio responsiveness (DESIGN §5): time from process start to the window's first frame, and
 * the longest main-loop stall while a 10-second engine job streams progress and 64×64 previews
 * that are shown in the window. Stalls are measured two ways: the largest gap between frame-clock
 * ticks (the window animates a spinner so frames are requested continuously) and the lateness of
 * a 5 ms timeout. Prints `startup_ms: X` and, last, `max_stall_ms: Y`.
 */
#include "aigc-application.h"
#include "aigc-test-jobs.h"
#include "aigc-window.h"

#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static gint64 process_start_us;
static gint64 first_frame_us;
static gint64 last_tick_us, max_tick_gap_us;
static gint64 last_probe_us, max_probe_late_us;
static gboolean measuring;
static GtkPicture *preview_picture;
static int n_previews;

/* Process start in the monotonic clock, from /proc/self/stat (field 22, in clock ticks). */
static gint64 get_process_start_us(void)
{
    g_autofree char *stat = NULL;
    if (!g_file_get_contents("/proc/self/stat", &stat, NULL, NULL))
        return g_get_monotonic_time();
    char *p = strrchr(stat, ')');
    unsigned long long start_ticks = 0;
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
        if (++field == 22) {
            start_ticks = strtoull(tok, NULL, 10);
            break;
        }
    }
    struct timespec boot;
    clock_gettime(CLOCK_BOOTTIME, &boot);
    gint64 boot_us = boot.tv_sec * G_USEC_PER_SEC + boot.tv_nsec / 1000;
    gint64 start_since_boot_us = (gint64)(start_ticks * G_USEC_PER_SEC / sysconf(_SC_CLK_TCK));
    return g_get_monotonic_time() - (boot_us - start_since_boot_us);
}

static gboolean on_tick(GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
    gint64 now = g_get_monotonic_time();
    if (!first_frame_us)
        first_frame_us = now;
    if (measuring && last_tick_us)
        max_tick_gap_us = MAX(max_tick_gap_us, now - last_tick_us);
    last_tick_us = now;
    return G_SOURCE_CONTINUE;
}

static gboolean probe(gpointer data)
{
    gint64 now = g_get_monotonic_time();
    if (measuring && last_probe_us)
        max_probe_late_us = MAX(max_probe_late_us, now - last_probe_us - 5000);
    last_probe_us = now;
    return G_SOURCE_CONTINUE;
}

static void on_preview(AigcJobHandle *h, const AigcPreview *preview, gpointer data)
{
    g_autoptr(GdkTexture) texture = gdk_memory_texture_new(
        preview->width, preview->height, GDK_MEMORY_R8G8B8A8, preview->data, preview->width * 4);
    gtk_picture_set_paintable(preview_picture, GDK_PAINTABLE(texture));
    n_previews++;
}

static void on_done(AigcJobHandle *h, int state, const GError *error, gpointer app)
{
    measuring = FALSE;
    g_application_quit(G_APPLICATION(app));
}

static gboolean start_job(gpointer app)
{
    GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(app));
    AigcWorkshop *write = aigc_window_get_workshop_by_id(AIGC_WINDOW(window), "write");
    /* 10 s: 20,000 steps of 0.5 ms, a preview every 20 steps (100 a second). */
    AigcTestJobParams p = {.n_steps = 20000, .step_us = 500, .preview_every = 20,
                           .preview_size = 64};
    g_autoptr(AigcJob) job = aigc_test_job_new(&p);
    AigcJobHandle *h = aigc_workshop_submit(write, job, "Responsiveness");
    g_signal_connect(h, "preview", G_CALLBACK(on_preview), NULL);
    g_signal_connect(h, "done", G_CALLBACK(on_done), app);
    measuring = TRUE;
    return G_SOURCE_REMOVE;
}

static void on_activate(GApplication *app, gpointer data)
{
    GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(app));
    /* A spinner keeps the frame clock ticking; a picture shows the previews. */
    GtkWidget *overlay_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *spinner = gtk_spinner_new();
    gtk_spinner_start(GTK_SPINNER(spinner));
    preview_picture = GTK_PICTURE(gtk_picture_new());
    gtk_widget_set_size_request(GTK_WIDGET(preview_picture), 64, 64);
    gtk_box_append(GTK_BOX(overlay_box), spinner);
    gtk_box_append(GTK_BOX(overlay_box), GTK_WIDGET(preview_picture));
    GtkWidget *popup = gtk_window_new();
    gtk_window_set_child(GTK_WINDOW(popup), overlay_box);
    gtk_window_set_transient_for(GTK_WINDOW(popup), window);
    gtk_window_present(GTK_WINDOW(popup));
    gtk_widget_add_tick_callback(GTK_WIDGET(window), on_tick, NULL, NULL);
    g_timeout_add(5, probe, NULL);
    g_timeout_add(1000, start_job, app);
}

int main(int argc, char **argv)
{
    process_start_us = get_process_start_us();
    aigc_ui_choose_renderer(); /* as aigc-studio's main() */
    aigc_ui_init_i18n();
    g_autoptr(AigcApplication) app = aigc_application_new();
    g_application_set_flags(G_APPLICATION(app), G_APPLICATION_NON_UNIQUE);
    g_signal_connect_after(app, "activate", G_CALLBACK(on_activate), NULL);
    g_application_run(G_APPLICATION(app), 0, NULL);
    printf("previews_shown: %d\n", n_previews);
    printf("startup_ms: %.1f (target ≤ 1500)\n", (first_frame_us - process_start_us) / 1000.0);
    printf("frame_gap_ms: %.1f\n", max_tick_gap_us / 1000.0);
    printf("timer_late_ms: %.1f\n", max_probe_late_us / 1000.0);
    printf("max_stall_ms: %.1f (target ≤ 50)\n",
           MAX(max_tick_gap_us - 16667, max_probe_late_us) / 1000.0);
    return 0;
}
