/* SPDX-License-Identifier: MIT
 *
 * AigcHeatmapView: a matrix drawn as an image with a perceptual colour map — the Speak panel's
 * mel spectrogram (time across, mel bands up) and attention alignment (decoder steps across,
 * input phonemes up). Values are scaled between the matrix's own minimum and maximum (or a
 * fixed range), with an optional time cursor and axis captions.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define AIGC_TYPE_HEATMAP_VIEW (aigc_heatmap_view_get_type())
G_DECLARE_FINAL_TYPE(AigcHeatmapView, aigc_heatmap_view, AIGC, HEATMAP_VIEW, GtkWidget)

GtkWidget *aigc_heatmap_view_new(void);
/* data [n_cols][n_rows] (column-major: one column per time step, as mel frames and decoder
 * steps are stored); row 0 is drawn at the bottom. Copied. NULL clears. */
void aigc_heatmap_view_set_data(AigcHeatmapView *self, const float *data, int n_cols, int n_rows);
/* Adds columns at the right (a spectrogram growing sentence by sentence). */
void aigc_heatmap_view_append_columns(AigcHeatmapView *self, const float *data, int n_cols);
int aigc_heatmap_view_get_n_cols(AigcHeatmapView *self);
/* Fixed value range (lo < hi); lo ≥ hi returns to the data's own range. */
void aigc_heatmap_view_set_range(AigcHeatmapView *self, float lo, float hi);
/* Cursor at a fraction 0 … 1 across; < 0 hides it. */
void aigc_heatmap_view_set_cursor(AigcHeatmapView *self, double fraction);
void aigc_heatmap_view_set_captions(AigcHeatmapView *self, const char *x_caption,
                                    const char *y_caption);
/* The colour of value t in 0 … 1 (for a legend and for tests): dark blue → green → yellow. */
void aigc_heatmap_colormap(double t, double rgb[3]);

G_END_DECLS
