/* SPDX-License-Identifier: MIT
 *
 * AigcWaveformView: a sound's waveform (the peak envelope per pixel column) with a playhead;
 * a click or drag asks to move the playhead ("seek", in seconds).
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define AIGC_TYPE_WAVEFORM_VIEW (aigc_waveform_view_get_type())
G_DECLARE_FINAL_TYPE(AigcWaveformView, aigc_waveform_view, AIGC, WAVEFORM_VIEW, GtkWidget)

GtkWidget *aigc_waveform_view_new(void);
/* Copies the samples (mono, rate Hz); NULL/0 clears the view. */
void aigc_waveform_view_set_samples(AigcWaveformView *self, const float *samples, gsize n,
                                    int rate);
/* Adds samples at the end (audio that grows sentence by sentence). */
void aigc_waveform_view_append(AigcWaveformView *self, const float *samples, gsize n);
double aigc_waveform_view_get_duration(AigcWaveformView *self);
/* Seconds; < 0 hides the playhead. */
void aigc_waveform_view_set_playhead(AigcWaveformView *self, double seconds);
double aigc_waveform_view_get_playhead(AigcWaveformView *self);

G_END_DECLS
