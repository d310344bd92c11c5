/* SPDX-License-Identifier: MIT
 *
 * AigcWaveformView (see aigc-waveform-view.h). Each pixel column draws the minimum and maximum
 * of the samples under it, so a minute of audio draws in the same time as a second; peaks per
 * block of 64 samples are kept so a redraw never touches every sample.
 */
#include "aigc-waveform-view.h"

#include <glib/gi18n.h>
#include <math.h>

#define BLOCK 64

struct _AigcWaveformView {
    GtkWidget parent_instance;
    GArray *lo, *hi; /* per BLOCK samples: min and max */
    gsize n;         /* samples */
    float tail_lo, tail_hi; /* the partial last block */
    int rate;
    double playhead;
};

G_DEFINE_FINAL_TYPE(AigcWaveformView, aigc_waveform_view, GTK_TYPE_WIDGET)

enum { SIGNAL_SEEK, N_SIGNALS };
static guint signals[N_SIGNALS];

void aigc_waveform_view_append(AigcWaveformView *self, const float *samples, gsize n)
{
    g_return_if_fail(AIGC_IS_WAVEFORM_VIEW(self));
    for (gsize i = 0; i < n; i++) {
        float s = isfinite(samples[i]) ? samples[i] : 0.0f;
        if (self->n % BLOCK == 0) {
            self->tail_lo = self->tail_hi = s;
            g_array_append_val(self->lo, s);
            g_array_append_val(self->hi, s);
        }
        self->tail_lo = MIN(self->tail_lo, s);
        self->tail_hi = MAX(self->tail_hi, s);
        g_array_index(self->lo, float, self->lo->len - 1) = self->tail_lo;
        g_array_index(self->hi, float, self->hi->len - 1) = self->tail_hi;
        self->n++;
    }
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void aigc_waveform_view_set_samples(AigcWaveformView *self, const float *samples, gsize n,
                                    int rate)
{
    g_return_if_fail(AIGC_IS_WAVEFORM_VIEW(self));
    g_array_set_size(self->lo, 0);
    g_array_set_size(self->hi, 0);
    self->n = 0;
    self->rate = rate > 0 ? rate : 16000;
    if (samples)
        aigc_waveform_view_append(self, samples, n);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

double aigc_waveform_view_get_duration(AigcWaveformView *self)
{
    return self->rate > 0 ? self->n / (double)self->rate : 0.0;
}

void aigc_waveform_view_set_playhead(AigcWaveformView *self, double seconds)
{
    self->playhead = seconds;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

double aigc_waveform_view_get_playhead(AigcWaveformView *self)
{
    return self->playhead;
}

static void aigc_waveform_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    AigcWaveformView *self = AIGC_WAVEFORM_VIEW(widget);
    int W = gtk_widget_get_width(widget), H = gtk_widget_get_height(widget);
    if (W <= 0 || H <= 0)
        return;
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, W, H));
    double mid = H / 2.0;
    cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.25);
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, 0, floor(mid) + 0.5);
    cairo_line_to(cr, W, floor(mid) + 0.5);
    cairo_stroke(cr);
    if (self->lo->len > 0) {
        /* blue accent, like the rest of the studio's highlights */
        cairo_set_source_rgba(cr, 0.21, 0.52, 0.89, 1.0);
        double blocks_per_px = (double)self->lo->len / W;
        for (int x = 0; x < W; x++) {
            gsize b0 = (gsize)(x * blocks_per_px), b1 = (gsize)((x + 1) * blocks_per_px);
            if (b0 >= self->lo->len)
                break;
            b1 = MIN(MAX(b1, b0 + 1), self->lo->len);
            float lo = 1, hi = -1;
            for (gsize b = b0; b < b1; b++) {
                lo = MIN(lo, g_array_index(self->lo, float, b));
                hi = MAX(hi, g_array_index(self->hi, float, b));
            }
            double y0 = mid - CLAMP(hi, -1, 1) * (mid - 1), y1 = mid - CLAMP(lo, -1, 1) * (mid - 1);
            cairo_rectangle(cr, x, y0, 1, MAX(y1 - y0, 1));
        }
        cairo_fill(cr);
    }
    double dur = aigc_waveform_view_get_duration(self);
    if (self->playhead >= 0 && dur > 0) {
        double x = floor(CLAMP(self->playhead / dur, 0, 1) * (W - 1)) + 0.5;
        cairo_set_source_rgba(cr, 0.88, 0.11, 0.14, 1);
        cairo_set_line_width(cr, 2);
        cairo_move_to(cr, x, 0);
        cairo_line_to(cr, x, H);
        cairo_stroke(cr);
    }
    cairo_destroy(cr);
}

static void aigc_waveform_view_measure(GtkWidget *widget, GtkOrientation orientation,
                                       int for_size, int *minimum, int *natural,
                                       int *min_baseline, int *nat_baseline)
{
    *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 120 : 48;
    *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 600 : 96;
}

static void seek_to(AigcWaveformView *self, double x)
{
    int W = gtk_widget_get_width(GTK_WIDGET(self));
    double dur = aigc_waveform_view_get_duration(self);
    if (W > 0 && dur > 0)
        g_signal_emit(self, signals[SIGNAL_SEEK], 0, CLAMP(x / W, 0, 1) * dur);
}

static void on_pressed(GtkGestureClick *click, int n_press, double x, double y,
                       AigcWaveformView *self)
{
    seek_to(self, x);
}

static void aigc_waveform_view_finalize(GObject *object)
{
    AigcWaveformView *self = AIGC_WAVEFORM_VIEW(object);
    g_array_unref(self->lo);
    g_array_unref(self->hi);
    G_OBJECT_CLASS(aigc_waveform_view_parent_class)->finalize(object);
}

static void aigc_waveform_view_class_init(AigcWaveformViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->finalize = aigc_waveform_view_finalize;
    widget_class->snapshot = aigc_waveform_view_snapshot;
    widget_class->measure = aigc_waveform_view_measure;
    /* The user asks to move the playhead to this many seconds. */
    signals[SIGNAL_SEEK] = g_signal_new("seek", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);
    gtk_widget_class_set_css_name(widget_class, "aigc-waveform");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void aigc_waveform_view_init(AigcWaveformView *self)
{
    self->lo = g_array_new(FALSE, FALSE, sizeof(float));
    self->hi = g_array_new(FALSE, FALSE, sizeof(float));
    self->rate = 16000;
    self->playhead = -1;
    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "pressed", G_CALLBACK(on_pressed), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("Waveform"), -1);
}

GtkWidget *aigc_waveform_view_new(void)
{
    return g_object_new(AIGC_TYPE_WAVEFORM_VIEW, NULL);
}
