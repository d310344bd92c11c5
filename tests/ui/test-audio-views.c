/* SPDX-License-Identifier: MIT
 *
 * The Speak panel's views in a real window: the waveform keeps duration and playhead as audio
 * grows, the heatmap keeps its columns as a spectrogram grows, both draw (empty, small, long),
 * and the colour map runs dark to bright.
 */
#include "aigc-heatmap-view.h"
#include "aigc-waveform-view.h"

#include <math.h>

static void test_colormap(void)
{
    double a[3], b[3], c[3];
    aigc_heatmap_colormap(0, a);
    aigc_heatmap_colormap(0.5, b);
    aigc_heatmap_colormap(1, c);
    double la = a[0] + a[1] + a[2], lb = b[0] + b[1] + b[2], lc = c[0] + c[1] + c[2];
    g_assert_cmpfloat(la, <, lb);
    g_assert_cmpfloat(lb, <, lc);
    aigc_heatmap_colormap(NAN, b); /* never garbage */
    g_assert_cmpfloat(b[0], ==, a[0]);
    aigc_heatmap_colormap(7, b);
    g_assert_cmpfloat(b[2], ==, c[2]);
}

static void test_views_draw(void)
{
    GtkWidget *win = gtk_window_new();
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    AigcWaveformView *wave = AIGC_WAVEFORM_VIEW(aigc_waveform_view_new());
    AigcHeatmapView *mel = AIGC_HEATMAP_VIEW(aigc_heatmap_view_new());
    gtk_box_append(GTK_BOX(box), GTK_WIDGET(wave));
    gtk_box_append(GTK_BOX(box), GTK_WIDGET(mel));
    gtk_window_set_child(GTK_WINDOW(win), box);
    gtk_window_present(GTK_WINDOW(win));
    gtk_test_widget_wait_for_draw(win); /* empty */

    enum { N = 16000 };
    float *x = g_new(float, N);
    for (int i = 0; i < N; i++)
        x[i] = 0.8f * sinf(2 * (float)G_PI * 220 * i / 16000.0f) * (float)i / N;
    aigc_waveform_view_set_samples(wave, x, N, 16000);
    g_assert_cmpfloat_with_epsilon(aigc_waveform_view_get_duration(wave), 1.0, 1e-9);
    aigc_waveform_view_append(wave, x, N / 2);
    g_assert_cmpfloat_with_epsilon(aigc_waveform_view_get_duration(wave), 1.5, 1e-9);
    aigc_waveform_view_set_playhead(wave, 0.75);
    g_assert_cmpfloat(aigc_waveform_view_get_playhead(wave), ==, 0.75);

    float *m = g_new(float, 200 * 80);
    for (int t = 0; t < 200; t++)
        for (int k = 0; k < 80; k++)
            m[t * 80 + k] = -11.5f + 10.0f * expf(-(k - t % 40) * (k - t % 40) / 20.0f);
    aigc_heatmap_view_set_data(mel, m, 3, 80); /* small: crisp cells */
    gtk_test_widget_wait_for_draw(win);
    aigc_heatmap_view_set_data(mel, m, 100, 80);
    aigc_heatmap_view_append_columns(mel, m + 100 * 80, 100);
    g_assert_cmpint(aigc_heatmap_view_get_n_cols(mel), ==, 200);
    aigc_heatmap_view_set_cursor(mel, 0.5);
    aigc_heatmap_view_set_captions(mel, "time", "mel");
    aigc_heatmap_view_set_range(mel, -11.5f, 0.0f);
    gtk_test_widget_wait_for_draw(win);
    aigc_heatmap_view_set_data(mel, NULL, 0, 0);
    aigc_waveform_view_set_samples(wave, NULL, 0, 16000);
    g_assert_cmpfloat(aigc_waveform_view_get_duration(wave), ==, 0);
    gtk_test_widget_wait_for_draw(win);
    g_free(x);
    g_free(m);
    gtk_window_destroy(GTK_WINDOW(win));
}

int main(int argc, char **argv)
{
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/audio-views/colormap", test_colormap);
    g_test_add_func("/ui/audio-views/draw", test_views_draw);
    return g_test_run();
}
