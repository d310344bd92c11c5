/* SPDX-License-Identifier: MIT
 *
 * The Paint canvas in a real window: strokes paint anti-aliased lines in image pixels, the
 * eraser paints the background, the mask layer is separate, each stroke is one undo step and
 * redo brings it back, new pixels replace the image (undoably, any size), and the pointer maps
 * to image pixels at a whole-number zoom.
 */
#include "aigc-canvas.h"

#include <string.h>

static const guint8 *px(AigcCanvas *c, int x, int y)
{
    return aigc_canvas_get_pixels(c) + 4 * (y * aigc_canvas_get_image_width(c) + x);
}

static int n_changed;

static void on_changed(AigcCanvas *c, gpointer data)
{
    n_changed++;
}

static void test_strokes(void)
{
    GtkWidget *win = gtk_window_new();
    AigcCanvas *c = AIGC_CANVAS(aigc_canvas_new());
    gtk_window_set_child(GTK_WINDOW(win), GTK_WIDGET(c));
    g_signal_connect(c, "changed", G_CALLBACK(on_changed), NULL);
    aigc_canvas_reset(c, 28, 28, &(GdkRGBA){0, 0, 0, 1});
    g_assert_true(aigc_canvas_is_blank(c));
    g_assert_false(aigc_canvas_can_undo(c));
    n_changed = 0;

    /* a white horizontal line, 3 px wide, along the border of rows 13 and 14 */
    aigc_canvas_set_color(c, &(GdkRGBA){1, 1, 1, 1});
    aigc_canvas_set_brush_size(c, 3);
    const double line[] = {4.5, 14.0, 12.0, 14.0, 23.5, 14.0};
    aigc_canvas_stroke(c, line, 3);
    g_assert_cmpint(n_changed, ==, 1);
    g_assert_false(aigc_canvas_is_blank(c));
    for (int x = 4; x <= 23; x++) {
        g_assert_cmpint(px(c, x, 14)[0], ==, 255);
        g_assert_cmpint(px(c, x, 13)[0], ==, 255); /* within the 1.5 px radius */
    }
    g_assert_cmpint(px(c, 14, 11)[0], ==, 0);
    g_assert_cmpint(px(c, 14, 17)[0], ==, 0);
    g_assert_cmpint(px(c, 1, 14)[0], ==, 0);
    g_assert_cmpint(px(c, 14, 15)[0], ==, 128); /* the anti-aliased edges: half covered */
    g_assert_cmpint(px(c, 14, 12)[0], ==, 128);
    g_assert_cmpint(px(c, 14, 16)[0], ==, 0);
    g_assert_cmpint(px(c, 14, 14)[3], ==, 255);

    /* the eraser paints the background back */
    aigc_canvas_set_tool(c, AIGC_CANVAS_ERASER);
    const double dot[] = {14.5, 14.5};
    aigc_canvas_stroke(c, dot, 1);
    g_assert_cmpint(px(c, 14, 14)[0], ==, 0);
    g_assert_cmpint(px(c, 6, 14)[0], ==, 255);

    /* the mask is its own layer */
    aigc_canvas_set_tool(c, AIGC_CANVAS_MASK);
    g_assert_false(aigc_canvas_has_mask(c));
    const double box[] = {2.5, 2.5, 6.5, 2.5};
    aigc_canvas_stroke(c, box, 2);
    g_assert_true(aigc_canvas_has_mask(c));
    g_assert_cmpint(aigc_canvas_get_mask(c)[2 * 28 + 4], ==, 255);
    g_assert_cmpint(aigc_canvas_get_mask(c)[20 * 28 + 20], ==, 0);
    g_assert_cmpint(px(c, 4, 2)[0], ==, 0); /* the image is untouched */
    aigc_canvas_set_mask_erase(c, TRUE);
    aigc_canvas_stroke(c, box, 2);
    g_assert_false(aigc_canvas_has_mask(c));

    /* undo walks back stroke by stroke; redo forward */
    g_assert_true(aigc_canvas_can_undo(c));
    aigc_canvas_undo(c); /* mask erase */
    g_assert_true(aigc_canvas_has_mask(c));
    aigc_canvas_undo(c); /* mask */
    g_assert_false(aigc_canvas_has_mask(c));
    aigc_canvas_undo(c); /* eraser */
    g_assert_cmpint(px(c, 14, 14)[0], ==, 255);
    aigc_canvas_undo(c); /* line */
    g_assert_cmpint(px(c, 14, 14)[0], ==, 0);
    g_assert_false(aigc_canvas_can_undo(c));
    g_assert_true(aigc_canvas_can_redo(c));
    aigc_canvas_redo(c);
    g_assert_cmpint(px(c, 14, 14)[0], ==, 255);
    /* a new stroke forgets what was undone */
    aigc_canvas_set_tool(c, AIGC_CANVAS_BRUSH);
    aigc_canvas_stroke(c, dot, 1);
    g_assert_false(aigc_canvas_can_redo(c));

    /* new pixels of another size: undoable */
    guint8 rgba[32 * 32 * 4];
    memset(rgba, 128, sizeof rgba);
    aigc_canvas_set_pixels(c, rgba, 32, 32);
    g_assert_cmpint(aigc_canvas_get_image_width(c), ==, 32);
    g_assert_cmpint(px(c, 31, 31)[1], ==, 128);
    aigc_canvas_undo(c);
    g_assert_cmpint(aigc_canvas_get_image_width(c), ==, 28);
    g_assert_cmpint(px(c, 14, 14)[0], ==, 255);
    gtk_window_destroy(GTK_WINDOW(win));
}

static void test_pointer_mapping(void)
{
    GtkWidget *win = gtk_window_new();
    AigcCanvas *c = AIGC_CANVAS(aigc_canvas_new());
    gtk_window_set_child(GTK_WINDOW(win), GTK_WIDGET(c));
    gtk_window_set_default_size(GTK_WINDOW(win), 300, 300);
    aigc_canvas_reset(c, 28, 28, NULL);
    gtk_window_present(GTK_WINDOW(win));
    while (gtk_widget_get_width(GTK_WIDGET(c)) < 280)
        g_main_context_iteration(NULL, TRUE);
    int W = gtk_widget_get_width(GTK_WIDGET(c)), H = gtk_widget_get_height(GTK_WIDGET(c));
    int scale = MIN(W, H) / 28; /* whole-number zoom: crisp pixels */
    double ox = floor((W - 28.0 * scale) / 2), oy = floor((H - 28.0 * scale) / 2);
    double ix, iy;
    g_assert_true(aigc_canvas_widget_to_image(c, ox + scale * 3.5, oy + scale * 7.25, &ix, &iy));
    g_assert_cmpfloat_with_epsilon(ix, 3.5, 1e-9);
    g_assert_cmpfloat_with_epsilon(iy, 7.25, 1e-9);
    g_assert_false(aigc_canvas_widget_to_image(c, ox - 2, oy + 5, &ix, &iy));
    gtk_window_destroy(GTK_WINDOW(win));
}

int main(int argc, char **argv)
{
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/canvas/strokes", test_strokes);
    g_test_add_func("/ui/canvas/pointer-mapping", test_pointer_mapping);
    return g_test_run();
}
