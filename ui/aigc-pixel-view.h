/* SPDX-License-Identifier: MIT
 *
 * AigcPixelView: a small 8-bit image (28×28 Fashion-MNIST, 32×32 emoji) shown enlarged with
 * crisp nearest-neighbour pixels at the largest whole-number zoom that fits.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define AIGC_TYPE_PIXEL_VIEW (aigc_pixel_view_get_type())
G_DECLARE_FINAL_TYPE(AigcPixelView, aigc_pixel_view, AIGC, PIXEL_VIEW, GtkWidget)

GtkWidget *aigc_pixel_view_new(void);
/* rgba [height][width][4] straight alpha, copied; NULL clears. */
void aigc_pixel_view_set_rgba(AigcPixelView *self, const guint8 *rgba, int width, int height);
/* (transfer none) (nullable) */
const guint8 *aigc_pixel_view_get_rgba(AigcPixelView *self, int *width, int *height);
/* Smooth: the image fills the space it is given (any scale, bilinear filtering), as for the
 * rendered views of a scene, whose size changes while it moves. Default: crisp whole zooms. */
void aigc_pixel_view_set_smooth(AigcPixelView *self, gboolean smooth);
/* Natural size = image size × zoom (default 4). */
void aigc_pixel_view_set_natural_zoom(AigcPixelView *self, int zoom);

G_END_DECLS
