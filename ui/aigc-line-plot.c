/* SPDX-License-Identifier: MIT
 *
 * AigcLinePlot (see aigc-line-plot.h).
 */
#include "aigc-line-plot.h"

#include <math.h>

struct _AigcLinePlot {
    GtkWidget parent_instance;
    GArray *points; /* of double[2] */
    double target;
    char *target_label;
    char *x_unit, *y_unit;
    double y_min, y_max;
};

G_DEFINE_FINAL_TYPE(AigcLinePlot, aigc_line_plot, GTK_TYPE_WIDGET)

GtkWidget *aigc_line_plot_new(void)
{
    return g_object_new(AIGC_TYPE_LINE_PLOT, NULL);
}

static void update_label(AigcLinePlot *self)
{
    g_autofree char *text = NULL;
    if (self->points->len == 0) {
        text = g_strdup("");
    } else {
        const double *last =
            (const double *)self->points->data + 2 * (aigc_line_plot_get_n_points(self) - 1);
        text = g_strdup_printf("%.1f %s at %.0f %s", last[1], self->y_unit ? self->y_unit : "",
                               last[0], self->x_unit ? self->x_unit : "");
    }
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text,
                                   -1);
}

void aigc_line_plot_clear(AigcLinePlot *self)
{
    g_array_set_size(self->points, 0);
    update_label(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void aigc_line_plot_add(AigcLinePlot *self, double x, double y)
{
    if (!isfinite(x) || !isfinite(y))
        return;
    double p[2] = {x, y};
    g_array_append_vals(self->points, p, 2);
    update_label(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

guint aigc_line_plot_get_n_points(AigcLinePlot *self)
{
    return self->points->len / 2;
}

void aigc_line_plot_set_target(AigcLinePlot *self, double y, const char *label)
{
    self->target = y;
    g_free(self->target_label);
    self->target_label = g_strdup(label);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void aigc_line_plot_set_axes(AigcLinePlot *self, const char *x_unit, const char *y_unit,
                             double y_min, double y_max)
{
    g_free(self->x_unit);
    g_free(self->y_unit);
    self->x_unit = g_strdup(x_unit);
    self->y_unit = g_strdup(y_unit);
    self->y_min = y_min;
    self->y_max = y_max;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void set_color(cairo_t *cr, const GdkRGBA *c, double alpha)
{
    cairo_set_source_rgba(cr, c->red, c->green, c->blue, c->alpha * alpha);
}

static void aigc_line_plot_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    AigcLinePlot *self = AIGC_LINE_PLOT(widget);
    int W = gtk_widget_get_width(widget), H = gtk_widget_get_height(widget);
    if (W < 40 || H < 30)
        return;
    GdkRGBA fg, accent = {0.21, 0.52, 0.89, 1};
    gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);
    const double *pts = (const double *)self->points->data;
    guint n = aigc_line_plot_get_n_points(self);
    double x_max = 1, y_lo = self->y_min, y_hi = self->y_max;
    for (guint i = 0; i < n; i++) {
        x_max = MAX(x_max, pts[2 * i]);
        y_lo = MIN(y_lo, floor(pts[2 * i + 1] / 5) * 5);
        y_hi = MAX(y_hi, ceil(pts[2 * i + 1] / 5) * 5);
    }
    if (!(y_hi > y_lo))
        y_hi = y_lo + 1;
    const double left = 34, right = 8, top = 8, bottom = 20;
    const double pw = W - left - right, ph = H - top - bottom;
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, W, H));
    PangoLayout *layout = gtk_widget_create_pango_layout(widget, NULL);
    /* Grid lines and y labels every 5 units. */
    cairo_set_line_width(cr, 1);
    for (double y = y_lo; y <= y_hi + 1e-9; y += 5) {
        double py = top + ph * (1 - (y - y_lo) / (y_hi - y_lo));
        set_color(cr, &fg, 0.12);
        cairo_move_to(cr, left, floor(py) + 0.5);
        cairo_line_to(cr, left + pw, floor(py) + 0.5);
        cairo_stroke(cr);
        g_autofree char *t = g_strdup_printf("%.0f", y);
        pango_layout_set_text(layout, t, -1);
        int tw, th;
        pango_layout_get_pixel_size(layout, &tw, &th);
        set_color(cr, &fg, 0.6);
        cairo_move_to(cr, left - 6 - tw, py - th / 2.0);
        pango_cairo_show_layout(cr, layout);
    }
    /* x axis: 0 and the last value, with the unit. */
    {
        g_autofree char *t0 = g_strdup_printf("0 %s", self->x_unit ? self->x_unit : "");
        g_autofree char *t1 = g_strdup_printf("%.0f", x_max);
        int tw, th;
        set_color(cr, &fg, 0.6);
        pango_layout_set_text(layout, t0, -1);
        cairo_move_to(cr, left, top + ph + 3);
        pango_cairo_show_layout(cr, layout);
        pango_layout_set_text(layout, t1, -1);
        pango_layout_get_pixel_size(layout, &tw, &th);
        cairo_move_to(cr, left + pw - tw, top + ph + 3);
        pango_cairo_show_layout(cr, layout);
    }
    if (isfinite(self->target) && self->target >= y_lo && self->target <= y_hi) {
        double py = top + ph * (1 - (self->target - y_lo) / (y_hi - y_lo));
        double dash[] = {4, 3};
        cairo_set_dash(cr, dash, 2, 0);
        set_color(cr, &fg, 0.45);
        cairo_move_to(cr, left, floor(py) + 0.5);
        cairo_line_to(cr, left + pw, floor(py) + 0.5);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        if (self->target_label) {
            pango_layout_set_text(layout, self->target_label, -1);
            int tw, th;
            pango_layout_get_pixel_size(layout, &tw, &th);
            cairo_move_to(cr, left + pw - tw - 2, py - th - 1);
            pango_cairo_show_layout(cr, layout);
        }
    }
    if (n > 0) {
        set_color(cr, &accent, 1);
        cairo_set_line_width(cr, 2);
        for (guint i = 0; i < n; i++) {
            double px = left + pw * pts[2 * i] / x_max;
            double py = top + ph * (1 - (pts[2 * i + 1] - y_lo) / (y_hi - y_lo));
            if (i == 0)
                cairo_move_to(cr, px, py);
            else
                cairo_line_to(cr, px, py);
        }
        cairo_stroke(cr);
        for (guint i = 0; i < n; i++) {
            double px = left + pw * pts[2 * i] / x_max;
            double py = top + ph * (1 - (pts[2 * i + 1] - y_lo) / (y_hi - y_lo));
            cairo_arc(cr, px, py, 2.5, 0, 2 * G_PI);
            cairo_fill(cr);
        }
    }
    g_object_unref(layout);
    cairo_destroy(cr);
}

static void aigc_line_plot_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                   int *minimum, int *natural, int *min_baseline,
                                   int *nat_baseline)
{
    *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 160 : 100;
    *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 280 : 140;
}

static void aigc_line_plot_finalize(GObject *object)
{
    AigcLinePlot *self = AIGC_LINE_PLOT(object);
    g_array_unref(self->points);
    g_free(self->target_label);
    g_free(self->x_unit);
    g_free(self->y_unit);
    G_OBJECT_CLASS(aigc_line_plot_parent_class)->finalize(object);
}

static void aigc_line_plot_class_init(AigcLinePlotClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = aigc_line_plot_finalize;
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    widget_class->snapshot = aigc_line_plot_snapshot;
    widget_class->measure = aigc_line_plot_measure;
    gtk_widget_class_set_css_name(widget_class, "aigc-line-plot");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void aigc_line_plot_init(AigcLinePlot *self)
{
    self->points = g_array_new(FALSE, FALSE, sizeof(double));
    self->target = NAN;
    self->y_min = 10;
    self->y_max = 30;
}
