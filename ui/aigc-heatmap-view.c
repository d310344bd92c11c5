/* SPDX-License-Identifier: MIT
 *
 * AigcHeatmapView (see aigc-heatmap-view.h). The matrix is rendered once into a Cairo image
 * (one pixel per cell) when it changes, and scaled to the widget when drawn, smoothly for long
 * spectrograms and with crisp cells when the matrix is small.
 */
#include "aigc-heatmap-view.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

struct _AigcHeatmapView {
    GtkWidget parent_instance;
    GArray *data; /* of float, [n_cols][n_rows] */
    int n_cols, n_rows;
    float fixed_lo, fixed_hi;
    double cursor;
    char *x_caption, *y_caption;
    cairo_surface_t *image; /* (nullable) cache of the rendering */
};

G_DEFINE_FINAL_TYPE(AigcHeatmapView, aigc_heatmap_view, GTK_TYPE_WIDGET)

/* A compact approximation of viridis: five anchors, linear in between. */
void aigc_heatmap_colormap(double t, double rgb[3])
{
    static const double anchors[5][3] = {
        {0.267, 0.005, 0.329}, {0.231, 0.322, 0.545}, {0.128, 0.567, 0.551},
        {0.369, 0.789, 0.383}, {0.993, 0.906, 0.144},
    };
    t = isfinite(t) ? CLAMP(t, 0, 1) : 0;
    double f = t * 4;
    int i = MIN((int)f, 3);
    double u = f - i;
    for (int k = 0; k < 3; k++)
        rgb[k] = anchors[i][k] + (anchors[i + 1][k] - anchors[i][k]) * u;
}

static void invalidate(AigcHeatmapView *self)
{
    g_clear_pointer(&self->image, cairo_surface_destroy);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void aigc_heatmap_view_set_data(AigcHeatmapView *self, const float *data, int n_cols, int n_rows)
{
    g_return_if_fail(AIGC_IS_HEATMAP_VIEW(self));
    g_array_set_size(self->data, 0);
    self->n_cols = 0;
    self->n_rows = data && n_cols > 0 && n_rows > 0 ? n_rows : 0;
    if (self->n_rows)
        aigc_heatmap_view_append_columns(self, data, n_cols);
    invalidate(self);
}

void aigc_heatmap_view_append_columns(AigcHeatmapView *self, const float *data, int n_cols)
{
    g_return_if_fail(AIGC_IS_HEATMAP_VIEW(self) && self->n_rows > 0 && n_cols >= 0);
    g_array_append_vals(self->data, data, (guint)(n_cols * self->n_rows));
    self->n_cols += n_cols;
    invalidate(self);
}

int aigc_heatmap_view_get_n_cols(AigcHeatmapView *self)
{
    return self->n_cols;
}

void aigc_heatmap_view_set_range(AigcHeatmapView *self, float lo, float hi)
{
    self->fixed_lo = lo;
    self->fixed_hi = hi;
    invalidate(self);
}

void aigc_heatmap_view_set_cursor(AigcHeatmapView *self, double fraction)
{
    self->cursor = fraction;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void aigc_heatmap_view_set_captions(AigcHeatmapView *self, const char *x_caption,
                                    const char *y_caption)
{
    g_free(self->x_caption);
    g_free(self->y_caption);
    self->x_caption = g_strdup(x_caption);
    self->y_caption = g_strdup(y_caption);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void render(AigcHeatmapView *self)
{
    const float *d = (const float *)self->data->data;
    gsize n = (gsize)self->n_cols * self->n_rows;
    float lo = self->fixed_lo, hi = self->fixed_hi;
    if (!(lo < hi)) {
        lo = INFINITY;
        hi = -INFINITY;
        for (gsize i = 0; i < n; i++)
            if (isfinite(d[i])) {
                lo = MIN(lo, d[i]);
                hi = MAX(hi, d[i]);
            }
        if (!(lo < hi))
            hi = lo + 1;
    }
    self->image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, self->n_cols, self->n_rows);
    cairo_surface_flush(self->image);
    guint8 *px = cairo_image_surface_get_data(self->image);
    int stride = cairo_image_surface_get_stride(self->image);
    for (int c = 0; c < self->n_cols; c++)
        for (int r = 0; r < self->n_rows; r++) {
            double rgb[3];
            aigc_heatmap_colormap((d[(gsize)c * self->n_rows + r] - lo) / (hi - lo), rgb);
            guint32 v = (guint32)lround(rgb[0] * 255) << 16 | (guint32)lround(rgb[1] * 255) << 8 |
                        (guint32)lround(rgb[2] * 255);
            memcpy(px + (gsize)(self->n_rows - 1 - r) * stride + 4 * c, &v, 4);
        }
    cairo_surface_mark_dirty(self->image);
}

static void aigc_heatmap_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    AigcHeatmapView *self = AIGC_HEATMAP_VIEW(widget);
    int W = gtk_widget_get_width(widget), H = gtk_widget_get_height(widget);
    if (W <= 0 || H <= 0)
        return;
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, W, H));
    if (self->n_cols > 0 && self->n_rows > 0) {
        if (!self->image)
            render(self);
        cairo_save(cr);
        cairo_scale(cr, (double)W / self->n_cols, (double)H / self->n_rows);
        cairo_set_source_surface(cr, self->image, 0, 0);
        gboolean small = self->n_cols < W / 2 || self->n_rows < H / 2;
        cairo_pattern_set_filter(cairo_get_source(cr),
                                 small ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
        cairo_paint(cr);
        cairo_restore(cr);
    } else {
        double rgb[3];
        aigc_heatmap_colormap(0, rgb);
        cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], 0.15);
        cairo_paint(cr);
    }
    if (self->cursor >= 0) {
        double x = floor(CLAMP(self->cursor, 0, 1) * (W - 1)) + 0.5;
        cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
        cairo_set_line_width(cr, 2);
        cairo_move_to(cr, x, 0);
        cairo_line_to(cr, x, H);
        cairo_stroke(cr);
    }
    cairo_destroy(cr);
    /* captions over the image, in the widget's font */
    const char *caps[2] = {self->x_caption, self->y_caption};
    for (int k = 0; k < 2; k++) {
        if (!caps[k] || !*caps[k])
            continue;
        PangoLayout *layout = gtk_widget_create_pango_layout(widget, caps[k]);
        int tw, th;
        pango_layout_get_pixel_size(layout, &tw, &th);
        gtk_snapshot_save(snapshot);
        if (k == 0)
            gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(W - tw - 6, H - th - 2));
        else {
            gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(4, tw + 6));
            gtk_snapshot_rotate(snapshot, -90);
        }
        gtk_snapshot_append_layout(snapshot, layout, &(GdkRGBA){1, 1, 1, 0.85});
        gtk_snapshot_restore(snapshot);
        g_object_unref(layout);
    }
}

static void aigc_heatmap_view_measure(GtkWidget *widget, GtkOrientation orientation,
                                      int for_size, int *minimum, int *natural,
                                      int *min_baseline, int *nat_baseline)
{
    *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 120 : 64;
    *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 600 : 140;
}

static void aigc_heatmap_view_finalize(GObject *object)
{
    AigcHeatmapView *self = AIGC_HEATMAP_VIEW(object);
    g_array_unref(self->data);
    g_clear_pointer(&self->image, cairo_surface_destroy);
    g_free(self->x_caption);
    g_free(self->y_caption);
    G_OBJECT_CLASS(aigc_heatmap_view_parent_class)->finalize(object);
}

static void aigc_heatmap_view_class_init(AigcHeatmapViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->finalize = aigc_heatmap_view_finalize;
    widget_class->snapshot = aigc_heatmap_view_snapshot;
    widget_class->measure = aigc_heatmap_view_measure;
    gtk_widget_class_set_css_name(widget_class, "aigc-heatmap");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void aigc_heatmap_view_init(AigcHeatmapView *self)
{
    self->data = g_array_new(FALSE, FALSE, sizeof(float));
    self->cursor = -1;
}

GtkWidget *aigc_heatmap_view_new(void)
{
    return g_object_new(AIGC_TYPE_HEATMAP_VIEW, NULL);
}
