/* SPDX-License-Identifier: MIT
 *
 * AigcScene: a trained radiance field opened from its file, with the orbit its dataset's cameras
 * sat on and the background it was trained for; and the job that renders views of it — an
 * orbit (turntable), poses from a file, or one view for the Scene panel — into images,
 * optionally PNG files with depth maps.
 *
 * The radiance field is either the hash-grid NeRF (family "nerf", aigc-nerf.h) or the original
 * positional-encoding NeRF (family "nerf-pe", aigc-nerf-pe.h); aigc_scene_render_rgb and
 * aigc_scene_eval_psnr work with both.
 *
 * A scene is reference counted so the GUI can keep it while jobs render it; its radiance field
 * has one set of render buffers, so only one job may render a scene at a time (the engine runs
 * jobs one after another).
 */
#pragma once

#include "jobs/aigc-job.h"
#include "models/nerf/aigc-nerf-pe.h"
#include "models/nerf/aigc-nerf.h"
#include "scene/aigc-orbit.h"

G_BEGIN_DECLS

#define AIGC_SCENE_MAX_SIDE  2048 /* pixels per side of a rendered view */
#define AIGC_SCENE_MAX_VIEWS 10000

typedef struct {
    AigcNerf *nerf;      /* (nullable) the hash-grid field, or */
    AigcNerfPe *pe;      /* (nullable) the positional-encoding one: exactly one is set */
    AigcOrbit view;      /* as trained ("nerf.view"), or a default orbit around the box */
    float background[3]; /* ("nerf.background"), white by default */
    char *path;
    char *title; /* (nullable) */
} AigcScene;

/* (transfer full) (nullable) Opens a scene file (family "nerf" or "nerf-pe"); errors name the
 * file. */
AigcScene *aigc_scene_open(const char *path, GError **error);
AigcScene *aigc_scene_ref(AigcScene *scene);
void aigc_scene_unref(AigcScene *scene);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcScene, aigc_scene_unref)

/* (transfer full) (nullable) The sample scene's dataset folder (woodbox, rendered with POV-Ray,
 * data/scene/woodbox in the sources): installed, else the source tree's; NULL if neither. */
char *aigc_scene_find_sample(void);

/* Poses to render: camera-to-world matrices (row-major 4×4) with one camera each. */
typedef struct {
    int n;
    double (*c2w)[16];
    AigcPinhole *cameras;
} AigcScenePoses;

void aigc_scene_poses_clear(AigcScenePoses *poses);
/* n views around the scene's orbit (azimuth steps of 360°/n from the orbit's azimuth), each
 * width × height. */
void aigc_scene_poses_orbit(AigcScenePoses *poses, const AigcOrbit *orbit, int n, int width,
                            int height);
/* Poses from a file: a transforms*.json (its frames and camera, images not needed; sizes scaled
 * to width × height when those are > 0) or a text file of 4×4 matrices, 16 numbers each
 * (whitespace or commas), rendered with the orbit's field of view at width × height. */
gboolean aigc_scene_poses_load(AigcScenePoses *poses, const char *path, const AigcOrbit *orbit,
                               int width, int height, GError **error);

typedef struct {
    AigcScene *scene; /* a reference */
    AigcScenePoses poses;
    char *output_dir;     /* (nullable) writes view-NNNN.png (and depth-NNNN.png) there */
    gboolean depth;       /* also depth maps: near bright, far dark, background black */
    gboolean preview;     /* each view as an image preview labelled "view N/M" */
} AigcSceneRenderParams;

/* (transfer full) Takes a reference to scene; poses empty. */
AigcSceneRenderParams *aigc_scene_render_params_new(AigcScene *scene);
void aigc_scene_render_params_free(AigcSceneRenderParams *params);

typedef struct {
    int n_views;   /* rendered */
    double seconds; /* rendering time (without PNG writing) */
    /* The last view, RGBA8, width × height × 4 */
    GBytes *rgba;
    int width, height;
} AigcSceneRenderResult;

void aigc_scene_render_result_free(AigcSceneRenderResult *result);

/* (transfer full) Takes ownership of params. */
AigcJob *aigc_scene_render_job_new(AigcSceneRenderParams *params);

/* Renders a view of the scene's field on its background: rgb (height, width, 3), depth and
 * opacity (nullable) as aigc_nerf_render. One render at a time per scene. */
void aigc_scene_render_rgb(AigcScene *scene, const AigcPinhole *camera, const double c2w[16],
                           float *rgb, float *depth, float *opacity);
/* The mean PSNR (dB) of the scene's field over a dataset's frames on the dataset's background,
 * as aigc_nerf_eval_psnr; mse nullable. */
double aigc_scene_eval_psnr(AigcScene *scene, const AigcTransforms *transforms, double *mse);

/* Renders one view into rgba (width × height × 4, opaque). depth (nullable) gets the expected
 * distance per pixel. For callers that already run on a job's thread. */
void aigc_scene_render_view(AigcScene *scene, const AigcPinhole *camera, const double c2w[16],
                            guint8 *rgba, float *depth);

G_END_DECLS
