/* SPDX-License-Identifier: MIT
 *
 * AigcCanvas: the Paint workshop's drawing surface — a small image (28×28 or 32×32 for the
 * models here) shown enlarged with crisp nearest-neighbour pixels, painted with a round brush
 * or an eraser, with a separate mask layer (the region inpainting repaints) drawn as a red
 * overlay, and undo/redo of whole strokes.
 *
 * Pixels are 8-bit RGBA, straight alpha, row-major; the mask is one byte per pixel (255 =
 * repaint). Coordinates in the API are image pixels.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define AIGC_TYPE_CANVAS (aigc_canvas_get_type())
G_DECLARE_FINAL_TYPE(AigcCanvas, aigc_canvas, AIGC, CANVAS, GtkWidget)

typedef enum {
    AIGC_CANVAS_BRUSH,  /* paints the colour */
    AIGC_CANVAS_ERASER, /* paints the background colour */
    AIGC_CANVAS_MASK,   /* marks the mask layer; with the eraser flag, unmarks */
} AigcCanvasTool;

GtkWidget *aigc_canvas_new(void);

/* Starts over: a width × height image (1 … 512 each) filled with the background colour, an
 * empty mask, no history. */
void aigc_canvas_reset(AigcCanvas *self, int width, int height, const GdkRGBA *background);
int aigc_canvas_get_image_width(AigcCanvas *self);
int aigc_canvas_get_image_height(AigcCanvas *self);

/* Replaces the image (an undoable step): rgba [height][width][4]. */
void aigc_canvas_set_pixels(AigcCanvas *self, const guint8 *rgba, int width, int height);
/* (transfer none) The image, [height][width][4]; valid until the next change. */
const guint8 *aigc_canvas_get_pixels(AigcCanvas *self);
/* (transfer none) The mask, [height][width]; 255 where the mask is painted. */
const guint8 *aigc_canvas_get_mask(AigcCanvas *self);
gboolean aigc_canvas_has_mask(AigcCanvas *self);
/* TRUE when anything was painted or set since the last reset. */
gboolean aigc_canvas_is_blank(AigcCanvas *self);
void aigc_canvas_clear_mask(AigcCanvas *self);

void aigc_canvas_set_tool(AigcCanvas *self, AigcCanvasTool tool);
AigcCanvasTool aigc_canvas_get_tool(AigcCanvas *self);
/* When set, the mask tool removes mask instead of adding it. */
void aigc_canvas_set_mask_erase(AigcCanvas *self, gboolean erase);
void aigc_canvas_set_color(AigcCanvas *self, const GdkRGBA *color);
void aigc_canvas_get_color(AigcCanvas *self, GdkRGBA *color);
/* Brush diameter in image pixels, 0.5 … 32. */
void aigc_canvas_set_brush_size(AigcCanvas *self, double size);
double aigc_canvas_get_brush_size(AigcCanvas *self);

/* A stroke through points (image pixel coordinates, centres at +0.5), as a drag paints it:
 * one undo step. Also what the pointer gestures call. */
void aigc_canvas_stroke(AigcCanvas *self, const double *xy, int n_points);

gboolean aigc_canvas_can_undo(AigcCanvas *self);
gboolean aigc_canvas_can_redo(AigcCanvas *self);
void aigc_canvas_undo(AigcCanvas *self);
void aigc_canvas_redo(AigcCanvas *self);

/* The widget point (x, y) in image pixel coordinates; FALSE outside the image. */
gboolean aigc_canvas_widget_to_image(AigcCanvas *self, double x, double y, double *ix,
                                     double *iy);

G_END_DECLS
