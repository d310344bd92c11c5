/* SPDX-License-Identifier: MIT
 *
 * AigcPixelView (see aigc-pixel-view.h).
 */
#include "aigc-pixel-view.h"

#include <math.h>
#include <string.h>

struct _AigcPixelView {
    GtkWidget parent_instance;
    guint8 *rgba;
    int width, height, zoom;
    gboolean smooth;
    cairo_surface_t *surface;
};

G_DEFINE_FINAL_TYPE(AigcPixelView, aigc_pixel_view, GTK_TYPE_WIDGET)

void aigc_pixel_view_set_rgba(AigcPixelView *self, const guint8 *rgba, int width, int height)
{
    g_return_if_fail(AIGC_IS_PIXEL_VIEW(self));
    gboolean resized = width != self->width || height != self->height;
    g_clear_pointer(&self->rgba, g_free);
    g_clear_pointer(&self->surface, cairo_surface_destroy);
    self->width = self->height = 0;
    if (rgba && width > 0 && height > 0) {
        self->rgba = g_memdup2(rgba, (gsize)width * height * 4);
        self->width = width;
        self->height = height;
        self->surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
        cairo_surface_flush(self->surface);
        guint8 *dst = cairo_image_surface_get_data(self->surface);
        int stride = cairo_image_surface_get_stride(self->surface);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) {
                const guint8 *p = rgba + 4 * ((gsize)y * width + x);
                guint32 a = p[3];
                guint32 v = a << 24 | (p[0] * a / 255) << 16 | (p[1] * a / 255) << 8 |
                            (p[2] * a / 255);
                memcpy(dst + (gsize)y * stride + 4 * x, &v, 4);
            }
        cairo_surface_mark_dirty(self->surface);
    }
    if (resized)
        gtk_widget_queue_resize(GTK_WIDGET(self));
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

const guint8 *aigc_pixel_view_get_rgba(AigcPixelView *self, int *width, int *height)
{
    if (width)
        *width = self->width;
    if (height)
        *height = self->height;
    return self->rgba;
}

void aigc_pixel_view_set_smooth(AigcPixelView *self, gboolean smooth)
{
    self->smooth = smooth;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void aigc_pixel_view_set_natural_zoom(AigcPixelView *self, int zoom)
{
    self->zoom = CLAMP(zoom, 1, 64);
    gtk_widget_queue_resize(GTK_WIDGET(self));
}

static void aigc_pixel_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    AigcPixelView *self = AIGC_PIXEL_VIEW(widget);
    int W = gtk_widget_get_width(widget), H = gtk_widget_get_height(widget);
    if (!self->surface || W <= 0 || H <= 0)
        return;
    double fit = MIN((double)W / self->width, (double)H / self->height);
    double s = fit >= 1 && !self->smooth ? floor(fit) : fit;
    double ox = floor((W - self->width * s) / 2), oy = floor((H - self->height * s) / 2);
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, W, H));
    cairo_translate(cr, ox, oy);
    cairo_scale(cr, s, s);
    cairo_set_source_surface(cr, self->surface, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr),
                             self->smooth ? CAIRO_FILTER_GOOD : CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, self->width, self->height);
    cairo_fill(cr);
    cairo_destroy(cr);
}

static void aigc_pixel_view_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                    int *minimum, int *natural, int *min_baseline,
                                    int *nat_baseline)
{
    AigcPixelView *self = AIGC_PIXEL_VIEW(widget);
    int side = orientation == GTK_ORIENTATION_HORIZONTAL ? self->width : self->height;
    if (self->smooth) { /* a steady size, whatever the resolution of the frame */
        *minimum = 64;
        *natural = 256;
        return;
    }
    *minimum = MAX(side, 16);
    *natural = MAX(side * self->zoom, 16);
}

static void aigc_pixel_view_finalize(GObject *object)
{
    AigcPixelView *self = AIGC_PIXEL_VIEW(object);
    g_free(self->rgba);
    g_clear_pointer(&self->surface, cairo_surface_destroy);
    G_OBJECT_CLASS(aigc_pixel_view_parent_class)->finalize(object);
}

static void aigc_pixel_view_class_init(AigcPixelViewClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = aigc_pixel_view_finalize;
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    widget_class->snapshot = aigc_pixel_view_snapshot;
    widget_class->measure = aigc_pixel_view_measure;
    gtk_widget_class_set_css_name(widget_class, "aigc-pixel-view");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void aigc_pixel_view_init(AigcPixelView *self)
{
    self->zoom = 4;
}

GtkWidget *aigc_pixel_view_new(void)
{
    return g_object_new(AIGC_TYPE_PIXEL_VIEW, NULL);
}
