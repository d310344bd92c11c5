/* SPDX-License-Identifier: MIT
 *
 * NeRF datasets in the Blender / instant-ngp layout: a transforms*.json file beside the images
 * it names, with a pinhole camera and one camera-to-world matrix per frame.
 *
 * Accepted keys: camera_angle_x (and camera_angle_y) or fl_x (fl_y, cx, cy), w and h,
 * aabb_scale, scale and offset (instant-ngp's mapping, defaults 0.33 and 0.5), frames[] with
 * file_path and transform_matrix (4×4, OpenGL convention: the camera looks down its −z, +y is up
 * in the image, +x to the right). Other keys are ignored, except lens distortion and per-frame
 * intrinsics, which are refused as unsupported rather than silently dropped.
 *
 * Image paths are relative to the folder holding the JSON and must stay inside it after
 * symlinks are resolved; a path without an extension gets ".png". Images are PNG (8- or 16-bit,
 * grey, palette, RGB or RGBA), stored as 8-bit straight RGBA; colours are read composited on the
 * dataset's background. Every error names the JSON file and, where there is one, the frame.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AIGC_TRANSFORMS_MAX_SIDE   4096 /* pixels per image side */
#define AIGC_TRANSFORMS_MAX_FRAMES 100000
#define AIGC_TRANSFORMS_MAX_PIXELS (1 << 28) /* over all frames: 1 GiB of RGBA */
#define AIGC_TRANSFORMS_MAX_JSON   (64 << 20)

/* A pinhole camera in pixels: pixel (x, y) covers [x, x+1) × [y, y+1), y down from the top. */
typedef struct {
    int width, height;
    double fl_x, fl_y; /* focal lengths */
    double cx, cy;     /* principal point, from the image's top-left corner */
} AigcPinhole;

typedef struct {
    char *file_path;  /* as written in the JSON */
    char *image_path; /* the resolved file */
    double c2w[16];   /* camera to world, row-major 4×4 */
} AigcTransformsFrame;

typedef struct {
    char *json_path;
    char *dir; /* the dataset folder, symlinks resolved */
    AigcPinhole camera;
    double aabb_scale;
    float aabb_min[3], aabb_max[3]; /* the scene box in world coordinates */
    float background[3];            /* colour under transparent pixels, in [0, 1] */
    int n_frames;
    AigcTransformsFrame *frames; /* (n_frames) */
    guint8 *rgba;                /* (n_frames, height, width, 4) straight alpha */
} AigcTransforms;

typedef struct {
    float background[3];  /* default white, as the Blender scenes are usually shown */
    gboolean load_images; /* FALSE: check that every image exists and stays inside the folder
                           * but decode none (rgba stays NULL, camera size from w/h or the
                           * first image's header) */
} AigcTransformsOptions;

AigcTransformsOptions aigc_transforms_default_options(void);

/* (transfer full) (nullable) Loads and checks a transforms*.json and its images. `options` may
 * be NULL. Returns NULL with `error` set (AIGC_ENGINE_ERROR) on any fault. */
AigcTransforms *aigc_transforms_load(const char *json_path, const AigcTransformsOptions *options,
                                     GError **error);
void aigc_transforms_free(AigcTransforms *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcTransforms, aigc_transforms_free)

/* (transfer full) (nullable) The JSON of split `split` ("train", "val", "test") in a dataset
 * folder: transforms_SPLIT.json, else transforms.json. NULL with `error` set if neither exists. */
char *aigc_transforms_find_split(const char *dir, const char *split, GError **error);

/* The colour of pixel (x, y) of a frame composited on t->background. */
void aigc_transforms_get_rgb(const AigcTransforms *t, int frame, int x, int y, float rgb[3]);
/* A whole frame composited on t->background: out is (height, width, 3). */
void aigc_transforms_frame_rgb(const AigcTransforms *t, int frame, float *out);

/* The ray through image point (px, py) (pixel centres at x + 0.5): origin o and unit direction d
 * in world coordinates. c2w is a frame's row-major camera-to-world matrix. */
void aigc_pinhole_ray(const AigcPinhole *cam, const double c2w[16], double px, double py,
                      float o[3], float d[3]);
/* The rays through every pixel centre of an image, row by row: origins and directions are
 * (height, width, 3). */
void aigc_pinhole_rays(const AigcPinhole *cam, const double c2w[16], float *origins,
                       float *directions);
/* Where world point p lands in the image (px, py as for aigc_pinhole_ray); FALSE if p is not in
 * front of the camera. */
gboolean aigc_pinhole_project(const AigcPinhole *cam, const double c2w[16], const double p[3],
                              double *px, double *py);

G_END_DECLS
