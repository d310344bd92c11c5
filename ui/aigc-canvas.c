/* SPDX-License-Identifier: MIT
 *
 * AigcCanvas (see aigc-canvas.h). Strokes are painted as anti-aliased capsules between pointer
 * samples, so a fast drag leaves a continuous line; each stroke is one undo step, recorded as a
 * snapshot of the image and the mask taken when it begins (the images here are a few KB, so
 * snapshots are cheaper and simpler than diffs).
 */
#include "aigc-canvas.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#define MAX_HISTORY 100
#define MAX_SIDE    512

typedef struct {
    guint8 *pixels; /* [h][w][4] */
    guint8 *mask;   /* [h][w] */
    int w, h;
} Snapshot;

struct _AigcCanvas {
    GtkWidget parent_instance;
    int w, h;
    guint8 *pixels; /* [h][w][4] RGBA */
    guint8 *mask;   /* [h][w] */
    GdkRGBA color, background;
    AigcCanvasTool tool;
    gboolean mask_erase;
    double brush_size;
    gboolean blank;
    GPtrArray *undo, *redo; /* of Snapshot */
    /* the stroke in progress */
    gboolean stroking;
    double last_x, last_y;
    /* pointer, for the brush outline; < 0 when outside */
    double pointer_x, pointer_y;
};

G_DEFINE_FINAL_TYPE(AigcCanvas, aigc_canvas, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_CAN_UNDO, PROP_CAN_REDO, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void snapshot_free(gpointer data)
{
    Snapshot *s = data;
    g_free(s->pixels);
    g_free(s->mask);
    g_free(s);
}

static Snapshot *take_snapshot(AigcCanvas *self)
{
    Snapshot *s = g_new(Snapshot, 1);
    s->w = self->w;
    s->h = self->h;
    s->pixels = g_memdup2(self->pixels, (gsize)self->w * self->h * 4);
    s->mask = g_memdup2(self->mask, (gsize)self->w * self->h);
    return s;
}

static void restore_snapshot(AigcCanvas *self, Snapshot *s)
{
    g_free(self->pixels);
    g_free(self->mask);
    self->w = s->w;
    self->h = s->h;
    self->pixels = g_memdup2(s->pixels, (gsize)s->w * s->h * 4);
    self->mask = g_memdup2(s->mask, (gsize)s->w * s->h);
}

static void notify_history(AigcCanvas *self)
{
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CAN_UNDO]);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CAN_REDO]);
}

static void changed(AigcCanvas *self)
{
    gtk_widget_queue_draw(GTK_WIDGET(self));
    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

/* Records the state before a change as an undo step; a new change forgets what was undone. */
static void push_undo(AigcCanvas *self)
{
    g_ptr_array_add(self->undo, take_snapshot(self));
    if (self->undo->len > MAX_HISTORY)
        g_ptr_array_remove_index(self->undo, 0);
    g_ptr_array_set_size(self->redo, 0);
    notify_history(self);
}

static void fill(guint8 *px, int n, const GdkRGBA *c)
{
    guint8 r = (guint8)lround(CLAMP(c->red, 0, 1) * 255), g = (guint8)lround(CLAMP(c->green, 0, 1) * 255),
           b = (guint8)lround(CLAMP(c->blue, 0, 1) * 255), a = (guint8)lround(CLAMP(c->alpha, 0, 1) * 255);
    for (int i = 0; i < n; i++) {
        px[4 * i] = r;
        px[4 * i + 1] = g;
        px[4 * i + 2] = b;
        px[4 * i + 3] = a;
    }
}

void aigc_canvas_reset(AigcCanvas *self, int width, int height, const GdkRGBA *background)
{
    g_return_if_fail(AIGC_IS_CANVAS(self));
    g_return_if_fail(width >= 1 && width <= MAX_SIDE && height >= 1 && height <= MAX_SIDE);
    g_free(self->pixels);
    g_free(self->mask);
    self->w = width;
    self->h = height;
    if (background)
        self->background = *background;
    self->pixels = g_new(guint8, (gsize)width * height * 4);
    self->mask = g_new0(guint8, (gsize)width * height);
    fill(self->pixels, width * height, &self->background);
    self->blank = TRUE;
    g_ptr_array_set_size(self->undo, 0);
    g_ptr_array_set_size(self->redo, 0);
    notify_history(self);
    gtk_widget_queue_resize(GTK_WIDGET(self));
    changed(self);
}

int aigc_canvas_get_image_width(AigcCanvas *self)
{
    return self->w;
}

int aigc_canvas_get_image_height(AigcCanvas *self)
{
    return self->h;
}

void aigc_canvas_set_pixels(AigcCanvas *self, const guint8 *rgba, int width, int height)
{
    g_return_if_fail(AIGC_IS_CANVAS(self) && rgba);
    g_return_if_fail(width >= 1 && width <= MAX_SIDE && height >= 1 && height <= MAX_SIDE);
    push_undo(self);
    if (width != self->w || height != self->h) {
        g_free(self->mask);
        self->mask = g_new0(guint8, (gsize)width * height);
        self->w = width;
        self->h = height;
        gtk_widget_queue_resize(GTK_WIDGET(self));
    }
    g_free(self->pixels);
    self->pixels = g_memdup2(rgba, (gsize)width * height * 4);
    self->blank = FALSE;
    changed(self);
}

const guint8 *aigc_canvas_get_pixels(AigcCanvas *self)
{
    return self->pixels;
}

const guint8 *aigc_canvas_get_mask(AigcCanvas *self)
{
    return self->mask;
}

gboolean aigc_canvas_has_mask(AigcCanvas *self)
{
    for (int i = 0; i < self->w * self->h; i++)
        if (self->mask[i] >= 128)
            return TRUE;
    return FALSE;
}

gboolean aigc_canvas_is_blank(AigcCanvas *self)
{
    return self->blank;
}

void aigc_canvas_clear_mask(AigcCanvas *self)
{
    if (!aigc_canvas_has_mask(self))
        return;
    push_undo(self);
    memset(self->mask, 0, (gsize)self->w * self->h);
    changed(self);
}

void aigc_canvas_set_tool(AigcCanvas *self, AigcCanvasTool tool)
{
    self->tool = tool;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

AigcCanvasTool aigc_canvas_get_tool(AigcCanvas *self)
{
    return self->tool;
}

void aigc_canvas_set_mask_erase(AigcCanvas *self, gboolean erase)
{
    self->mask_erase = erase;
}

void aigc_canvas_set_color(AigcCanvas *self, const GdkRGBA *color)
{
    self->color = *color;
    self->color.alpha = 1.0;
}

void aigc_canvas_get_color(AigcCanvas *self, GdkRGBA *color)
{
    *color = self->color;
}

void aigc_canvas_set_brush_size(AigcCanvas *self, double size)
{
    self->brush_size = CLAMP(size, 0.5, 32.0);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

double aigc_canvas_get_brush_size(AigcCanvas *self)
{
    return self->brush_size;
}

/* Distance from (px, py) to the segment a–b. */
static double segment_distance(double px, double py, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? CLAMP(((px - ax) * dx + (py - ay) * dy) / len2, 0, 1) : 0;
    double cx = ax + t * dx - px, cy = ay + t * dy - py;
    return sqrt(cx * cx + cy * cy);
}

/* Paints the capsule a–b with the current tool: coverage falls from 1 to 0 over the pixel at
 * the edge (anti-aliasing), and a pixel keeps the strongest coverage it got. */
static void paint_segment(AigcCanvas *self, double ax, double ay, double bx, double by)
{
    const double r = self->brush_size / 2;
    int x0 = MAX((int)floor(MIN(ax, bx) - r - 1), 0), x1 = MIN((int)ceil(MAX(ax, bx) + r + 1), self->w - 1);
    int y0 = MAX((int)floor(MIN(ay, by) - r - 1), 0), y1 = MIN((int)ceil(MAX(ay, by) + r + 1), self->h - 1);
    const GdkRGBA *c = self->tool == AIGC_CANVAS_ERASER ? &self->background : &self->color;
    const double rgba[4] = {c->red * 255, c->green * 255, c->blue * 255, c->alpha * 255};
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            double d = segment_distance(x + 0.5, y + 0.5, ax, ay, bx, by);
            double a = CLAMP(r + 0.5 - d, 0, 1);
            if (a <= 0)
                continue;
            if (self->tool == AIGC_CANVAS_MASK) {
                guint8 *m = &self->mask[y * self->w + x];
                if (self->mask_erase)
                    *m = (guint8)MIN(*m, lround((1 - a) * 255));
                else
                    *m = (guint8)MAX(*m, lround(a * 255));
                continue;
            }
            guint8 *p = &self->pixels[4 * (y * self->w + x)];
            for (int k = 0; k < 4; k++)
                p[k] = (guint8)lround(p[k] + (rgba[k] - p[k]) * a);
        }
    if (self->tool != AIGC_CANVAS_MASK)
        self->blank = FALSE;
}

static void stroke_begin(AigcCanvas *self, double x, double y)
{
    push_undo(self);
    self->stroking = TRUE;
    self->last_x = x;
    self->last_y = y;
    paint_segment(self, x, y, x, y);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void stroke_to(AigcCanvas *self, double x, double y)
{
    if (!self->stroking)
        return;
    paint_segment(self, self->last_x, self->last_y, x, y);
    self->last_x = x;
    self->last_y = y;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void stroke_end(AigcCanvas *self)
{
    if (!self->stroking)
        return;
    self->stroking = FALSE;
    changed(self);
}

void aigc_canvas_stroke(AigcCanvas *self, const double *xy, int n_points)
{
    g_return_if_fail(AIGC_IS_CANVAS(self) && xy && n_points >= 1);
    stroke_begin(self, xy[0], xy[1]);
    for (int i = 1; i < n_points; i++)
        stroke_to(self, xy[2 * i], xy[2 * i + 1]);
    stroke_end(self);
}

gboolean aigc_canvas_can_undo(AigcCanvas *self)
{
    return self->undo->len > 0;
}

gboolean aigc_canvas_can_redo(AigcCanvas *self)
{
    return self->redo->len > 0;
}

void aigc_canvas_undo(AigcCanvas *self)
{
    if (!self->undo->len || self->stroking)
        return;
    g_ptr_array_add(self->redo, take_snapshot(self));
    Snapshot *s = g_ptr_array_steal_index(self->undo, self->undo->len - 1);
    restore_snapshot(self, s);
    snapshot_free(s);
    self->blank = FALSE;
    notify_history(self);
    gtk_widget_queue_resize(GTK_WIDGET(self));
    changed(self);
}

void aigc_canvas_redo(AigcCanvas *self)
{
    if (!self->redo->len || self->stroking)
        return;
    g_ptr_array_add(self->undo, take_snapshot(self));
    Snapshot *s = g_ptr_array_steal_index(self->redo, self->redo->len - 1);
    restore_snapshot(self, s);
    snapshot_free(s);
    self->blank = FALSE;
    notify_history(self);
    gtk_widget_queue_resize(GTK_WIDGET(self));
    changed(self);
}

/* The image is drawn at the largest whole-number scale that fits (crisp pixels), centred. */
static double layout(AigcCanvas *self, double *ox, double *oy)
{
    int W = gtk_widget_get_width(GTK_WIDGET(self)), H = gtk_widget_get_height(GTK_WIDGET(self));
    double fit = MIN((double)W / self->w, (double)H / self->h);
    double scale = fit >= 1 ? floor(fit) : fit;
    *ox = floor((W - self->w * scale) / 2);
    *oy = floor((H - self->h * scale) / 2);
    return scale;
}

gboolean aigc_canvas_widget_to_image(AigcCanvas *self, double x, double y, double *ix, double *iy)
{
    double ox, oy, s = layout(self, &ox, &oy);
    *ix = (x - ox) / s;
    *iy = (y - oy) / s;
    return *ix >= 0 && *iy >= 0 && *ix < self->w && *iy < self->h;
}

static void aigc_canvas_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    AigcCanvas *self = AIGC_CANVAS(widget);
    double ox, oy, s = layout(self, &ox, &oy);
    int W = gtk_widget_get_width(widget), H = gtk_widget_get_height(widget);
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, W, H));
    /* the image, premultiplied for Cairo */
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, self->w, self->h);
    cairo_surface_flush(img);
    guint8 *dst = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (int y = 0; y < self->h; y++)
        for (int x = 0; x < self->w; x++) {
            const guint8 *p = &self->pixels[4 * (y * self->w + x)];
            guint32 a = p[3];
            guint32 v = a << 24 | (p[0] * a / 255) << 16 | (p[1] * a / 255) << 8 | (p[2] * a / 255);
            memcpy(dst + y * stride + 4 * x, &v, 4);
        }
    cairo_surface_mark_dirty(img);
    cairo_save(cr);
    cairo_translate(cr, ox, oy);
    cairo_scale(cr, s, s);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, self->w, self->h);
    cairo_fill(cr);
    /* the mask as a red veil */
    cairo_surface_t *mask = cairo_image_surface_create(CAIRO_FORMAT_A8, self->w, self->h);
    cairo_surface_flush(mask);
    guint8 *md = cairo_image_surface_get_data(mask);
    int mstride = cairo_image_surface_get_stride(mask);
    for (int y = 0; y < self->h; y++)
        memcpy(md + y * mstride, self->mask + y * self->w, (gsize)self->w);
    cairo_surface_mark_dirty(mask);
    cairo_set_source_rgba(cr, 0.93, 0.11, 0.14, 0.5);
    cairo_mask_surface(cr, mask, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_restore(cr);
    cairo_surface_destroy(mask);
    cairo_surface_destroy(img);
    /* frame */
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.25);
    cairo_rectangle(cr, ox - 0.5, oy - 0.5, self->w * s + 1, self->h * s + 1);
    cairo_stroke(cr);
    /* brush outline under the pointer */
    if (self->pointer_x >= 0 && gtk_widget_is_sensitive(widget)) {
        double r = self->brush_size / 2 * s;
        cairo_arc(cr, self->pointer_x, self->pointer_y, MAX(r, 2), 0, 2 * G_PI);
        cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
        cairo_set_line_width(cr, 2.5);
        cairo_stroke_preserve(cr);
        cairo_set_source_rgba(cr, 0, 0, 0, 0.9);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
    }
    cairo_destroy(cr);
}

static void aigc_canvas_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                int *minimum, int *natural, int *min_baseline,
                                int *nat_baseline)
{
    AigcCanvas *self = AIGC_CANVAS(widget);
    int side = orientation == GTK_ORIENTATION_HORIZONTAL ? self->w : self->h;
    *minimum = MAX(side * 4, 96);
    *natural = MAX(side * 12, 256);
}

static void on_drag_begin(GtkGestureDrag *gesture, double x, double y, AigcCanvas *self)
{
    double ix, iy;
    aigc_canvas_widget_to_image(self, x, y, &ix, &iy);
    stroke_begin(self, ix, iy);
}

static void on_drag_update(GtkGestureDrag *gesture, double dx, double dy, AigcCanvas *self)
{
    double sx, sy, ix, iy;
    gtk_gesture_drag_get_start_point(gesture, &sx, &sy);
    aigc_canvas_widget_to_image(self, sx + dx, sy + dy, &ix, &iy);
    self->pointer_x = sx + dx;
    self->pointer_y = sy + dy;
    stroke_to(self, ix, iy);
}

static void on_drag_end(GtkGestureDrag *gesture, double dx, double dy, AigcCanvas *self)
{
    stroke_end(self);
}

static void on_motion(GtkEventControllerMotion *motion, double x, double y, AigcCanvas *self)
{
    self->pointer_x = x;
    self->pointer_y = y;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void on_leave(GtkEventControllerMotion *motion, AigcCanvas *self)
{
    self->pointer_x = self->pointer_y = -1;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void aigc_canvas_get_property(GObject *object, guint prop_id, GValue *value,
                                     GParamSpec *pspec)
{
    AigcCanvas *self = AIGC_CANVAS(object);
    switch (prop_id) {
    case PROP_CAN_UNDO:
        g_value_set_boolean(value, aigc_canvas_can_undo(self));
        break;
    case PROP_CAN_REDO:
        g_value_set_boolean(value, aigc_canvas_can_redo(self));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void aigc_canvas_finalize(GObject *object)
{
    AigcCanvas *self = AIGC_CANVAS(object);
    g_free(self->pixels);
    g_free(self->mask);
    g_ptr_array_unref(self->undo);
    g_ptr_array_unref(self->redo);
    G_OBJECT_CLASS(aigc_canvas_parent_class)->finalize(object);
}

static void aigc_canvas_class_init(AigcCanvasClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->get_property = aigc_canvas_get_property;
    object_class->finalize = aigc_canvas_finalize;
    widget_class->snapshot = aigc_canvas_snapshot;
    widget_class->measure = aigc_canvas_measure;
    props[PROP_CAN_UNDO] = g_param_spec_boolean("can-undo", NULL, NULL, FALSE,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_CAN_REDO] = g_param_spec_boolean("can-redo", NULL, NULL, FALSE,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, props);
    /* After every finished change: a stroke, new pixels, undo, redo, reset. */
    signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    gtk_widget_class_set_css_name(widget_class, "aigc-canvas");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void aigc_canvas_init(AigcCanvas *self)
{
    self->undo = g_ptr_array_new_with_free_func(snapshot_free);
    self->redo = g_ptr_array_new_with_free_func(snapshot_free);
    self->color = (GdkRGBA){1, 1, 1, 1};
    self->brush_size = 3;
    self->pointer_x = self->pointer_y = -1;
    aigc_canvas_reset(self, 28, 28, &(GdkRGBA){0, 0, 0, 1});
    GtkGesture *drag = gtk_gesture_drag_new();
    gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), GDK_BUTTON_PRIMARY);
    g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
    g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
    g_signal_connect(drag, "drag-end", G_CALLBACK(on_drag_end), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drag));
    GtkEventController *motion = gtk_event_controller_motion_new();
    g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
    g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
    gtk_widget_add_controller(GTK_WIDGET(self), motion);
    gtk_widget_set_cursor_from_name(GTK_WIDGET(self), "crosshair");
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("Canvas"), -1);
}

GtkWidget *aigc_canvas_new(void)
{
    return g_object_new(AIGC_TYPE_CANVAS, NULL);
}
