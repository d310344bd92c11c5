/* SPDX-License-Identifier: MIT
 *
 * AigcLinePlot: a small Cairo plot of one series growing point by point (a training curve:
 * validation PSNR over training time), with an optional dashed target line.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define AIGC_TYPE_LINE_PLOT (aigc_line_plot_get_type())
G_DECLARE_FINAL_TYPE(AigcLinePlot, aigc_line_plot, AIGC, LINE_PLOT, GtkWidget)

GtkWidget *aigc_line_plot_new(void);
void aigc_line_plot_clear(AigcLinePlot *self);
void aigc_line_plot_add(AigcLinePlot *self, double x, double y);
guint aigc_line_plot_get_n_points(AigcLinePlot *self);
/* A dashed horizontal line at y with a label; NAN removes it. */
void aigc_line_plot_set_target(AigcLinePlot *self, double y, const char *label);
/* Axis captions, e.g. "s" and "dB"; the y range always includes [y_min, y_max]. */
void aigc_line_plot_set_axes(AigcLinePlot *self, const char *x_unit, const char *y_unit,
                             double y_min, double y_max);

G_END_DECLS
