/* SPDX-License-Identifier: MIT
 *
 * Rendering a view of a NeRF scene, and the PSNR of a dataset's views.
 *
 * DESIGN: rays are marched in rounds, as instant-ngp's renderer does, so that density is not
 * computed behind surfaces. A chunk of rays starts all alive; each round every alive ray takes
 * its next K samples through occupied cells (K grows 8, 16, 32 as rays die, bounded by the
 * batch), the density stage runs on all of them, each ray keeps the samples before its
 * transmittance drops below 1e-4, the colour stage runs on those, and they are composited into
 * the ray's running colour, depth and transmittance. A ray dies when it is opaque, leaves the
 * box or reaches max_samples_per_ray. Samples lie on each ray's lattice t_enter + (k + ½)·dt,
 * the same points the one-shot path of training would use.
 */
#include "aigc-nerf.h"

#include "models/nerf/aigc-volrender.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

#define RENDER_RAYS    4096      /* rays per chunk */
#define RENDER_SAMPLES (1 << 16) /* samples per round at most (≈ 70 MiB of batch) */
#define ROUND_FIRST    8
#define ROUND_MAX      32

struct _AigcNerfRenderRay {
    float o[3], d[3];
    float t_start; /* the lattice origin for the next march (first sample at + dt/2) */
    float t_exit;
    float T; /* transmittance so far */
    float acc[3], depth;
    int n_samples;    /* taken so far */
    int first, count; /* this round's samples in the batch */
    gboolean alive;
};
typedef struct _AigcNerfRenderRay RenderRay;

typedef struct {
    AigcNerf *nerf;
    RenderRay *rays;
    const AigcPinhole *camera;
    const double *c2w;
    gint64 first_pixel;
    int *alive; /* indices of alive rays */
    int n_alive, K;
    float *t;     /* (RENDER_SAMPLES) sample distances */
    gint64 *keep; /* (RENDER_SAMPLES) */
    AigcNerfBatch *batch;
} Frame;

static void setup_rays(gint64 begin, gint64 end, gpointer data)
{
    Frame *fr = data;
    for (gint64 i = begin; i < end; i++) {
        RenderRay *r = &fr->rays[i];
        gint64 pixel = fr->first_pixel + i;
        int x = (int)(pixel % fr->camera->width), y = (int)(pixel / fr->camera->width);
        aigc_pinhole_ray(fr->camera, fr->c2w, x + 0.5, y + 0.5, r->o, r->d);
        float t0, t1;
        r->alive = aigc_occupancy_clip(fr->nerf->occupancy, r->o, r->d, 0.0f, &t0, &t1);
        r->t_start = t0;
        r->t_exit = t1;
        r->T = 1.0f;
        r->acc[0] = r->acc[1] = r->acc[2] = r->depth = 0.0f;
        r->n_samples = 0;
    }
}

/* How many samples each alive ray takes this round (count), or, with fr->t set, the samples. */
static void march_round(gint64 begin, gint64 end, gpointer data)
{
    Frame *fr = data;
    AigcNerf *nerf = fr->nerf;
    for (gint64 k = begin; k < end; k++) {
        RenderRay *r = &fr->rays[fr->alive[k]];
        int max = MIN(fr->K, nerf->config.max_samples_per_ray - r->n_samples);
        float *t = fr->t ? fr->t + r->first : NULL;
        int n = aigc_occupancy_march(nerf->occupancy, r->o, r->d, r->t_start, r->t_exit, nerf->dt,
                                     0.5f, t ? r->count : max, t);
        if (!t) {
            r->count = n;
            continue;
        }
        for (int j = 0; j < n; j++) {
            float p[3];
            for (int a = 0; a < 3; a++)
                p[a] = r->o[a] + t[j] * r->d[a];
            aigc_nerf_to_unit(nerf, p, fr->batch->x + 3 * (r->first + j));
            memcpy(fr->batch->dir + 3 * (r->first + j), r->d, sizeof r->d);
        }
    }
}

/* Each ray's samples before it turns opaque, from its current transmittance. */
static void count_used(gint64 begin, gint64 end, gpointer data)
{
    Frame *fr = data;
    float dt = fr->nerf->dt;
    for (gint64 k = begin; k < end; k++) {
        RenderRay *r = &fr->rays[fr->alive[k]];
        float T = r->T;
        int j = 0;
        for (; j < r->count && T >= AIGC_VOLRENDER_MIN_TRANSMITTANCE; j++)
            T *= expf(-fr->batch->sigma[r->first + j] * dt);
        r->n_samples += r->count;
        /* Fewer samples than asked for: the ray left the box (or hit its cap). */
        gboolean exhausted =
            r->count < fr->K || r->n_samples >= fr->nerf->config.max_samples_per_ray;
        if (r->count > 0)
            r->t_start = fr->t[r->first + r->count - 1] + 0.5f * dt;
        r->count = j;
        r->alive = !exhausted && T >= AIGC_VOLRENDER_MIN_TRANSMITTANCE;
    }
}

static void composite(gint64 begin, gint64 end, gpointer data)
{
    Frame *fr = data;
    float dt = fr->nerf->dt;
    for (gint64 k = begin; k < end; k++) {
        RenderRay *r = &fr->rays[fr->alive[k]];
        for (int j = 0; j < r->count; j++) {
            int i = r->first + j;
            float tr = expf(-fr->batch->sigma[i] * dt);
            float w = r->T * (1.0f - tr);
            for (int c = 0; c < 3; c++)
                r->acc[c] += w * fr->batch->rgb[3 * i + c];
            r->depth += w * fr->t[i];
            r->T *= tr;
        }
    }
}

/* Renders rays [0, n) of the chunk to the end. */
static void render_chunk(Frame *fr, gint64 n)
{
    aigc_parallel_for(n, 256, setup_rays, fr);
    fr->n_alive = 0;
    for (gint64 i = 0; i < n; i++)
        if (fr->rays[i].alive)
            fr->alive[fr->n_alive++] = (int)i;
    int round_size = ROUND_FIRST;
    while (fr->n_alive > 0) {
        fr->K = MAX(1, MIN(round_size, (int)(RENDER_SAMPLES / fr->n_alive)));
        round_size = MIN(round_size * 2, ROUND_MAX);
        /* march: count, place, write */
        float *t = fr->t;
        fr->t = NULL;
        aigc_parallel_for(fr->n_alive, 64, march_round, fr);
        fr->t = t;
        gint64 n_samples = 0;
        for (int k = 0; k < fr->n_alive; k++) {
            RenderRay *r = &fr->rays[fr->alive[k]];
            r->first = (int)n_samples;
            n_samples += r->count;
        }
        aigc_parallel_for(fr->n_alive, 64, march_round, fr);
        /* density, early termination, colour on what is left, compositing */
        aigc_nerf_field_density(fr->nerf->field, fr->batch, n_samples);
        int n_round = fr->n_alive;
        aigc_parallel_for(n_round, 64, count_used, fr);
        gint64 n_keep = 0;
        for (int k = 0; k < n_round; k++) {
            RenderRay *r = &fr->rays[fr->alive[k]];
            for (int j = 0; j < r->count; j++) {
                fr->keep[n_keep] = r->first + j;
                fr->t[n_keep] = fr->t[r->first + j];
                n_keep++;
            }
            r->first = (int)(n_keep - r->count);
        }
        aigc_nerf_batch_compact(fr->batch, fr->keep, n_keep);
        aigc_nerf_field_colour(fr->nerf->field, fr->batch, n_keep);
        aigc_parallel_for(n_round, 64, composite, fr);
        int n_alive = 0;
        for (int k = 0; k < n_round; k++)
            if (fr->rays[fr->alive[k]].alive)
                fr->alive[n_alive++] = fr->alive[k];
        fr->n_alive = n_alive;
    }
}

void aigc_nerf_render(AigcNerf *nerf, const AigcPinhole *camera, const double c2w[16],
                      const float background[3], float *rgb, float *depth, float *opacity)
{
    if (!nerf->render_batch)
        nerf->render_batch = aigc_nerf_batch_new(nerf->field, RENDER_SAMPLES, FALSE);
    if (!nerf->render_rays)
        nerf->render_rays = g_new(RenderRay, RENDER_RAYS);
    Frame fr = {.nerf = nerf,
                .rays = nerf->render_rays,
                .camera = camera,
                .c2w = c2w,
                .batch = nerf->render_batch};
    int alive[RENDER_RAYS];
    fr.alive = alive;
    fr.t = g_new(float, RENDER_SAMPLES);
    fr.keep = g_new(gint64, RENDER_SAMPLES);
    gint64 n_pixels = (gint64)camera->width * camera->height;
    for (gint64 p0 = 0; p0 < n_pixels; p0 += RENDER_RAYS) {
        gint64 n = MIN((gint64)RENDER_RAYS, n_pixels - p0);
        fr.first_pixel = p0;
        render_chunk(&fr, n);
        for (gint64 i = 0; i < n; i++) {
            const RenderRay *r = &fr.rays[i];
            for (int c = 0; c < 3; c++)
                rgb[3 * (p0 + i) + c] = r->acc[c] + r->T * background[c];
            if (depth)
                depth[p0 + i] = r->depth;
            if (opacity)
                opacity[p0 + i] = 1.0f - r->T;
        }
    }
    g_free(fr.t);
    g_free(fr.keep);
}

double aigc_nerf_eval_psnr(AigcNerf *nerf, const AigcTransforms *data, double *mse_out)
{
    gint64 n_pixels = (gint64)data->camera.width * data->camera.height;
    float *want = g_new(float, 3 * n_pixels), *got = g_new(float, 3 * n_pixels);
    double psnr_sum = 0.0, se_sum = 0.0;
    for (int f = 0; f < data->n_frames; f++) {
        aigc_transforms_frame_rgb(data, f, want);
        aigc_nerf_render(nerf, &data->camera, data->frames[f].c2w, data->background, got, NULL,
                         NULL);
        double se = 0.0;
        for (gint64 i = 0; i < 3 * n_pixels; i++) {
            double e = (double)got[i] - want[i];
            se += e * e;
        }
        double mse = se / (3.0 * n_pixels);
        psnr_sum += -10.0 * log10(MAX(mse, 1e-12));
        se_sum += se;
    }
    g_free(want);
    g_free(got);
    if (mse_out)
        *mse_out = se_sum / (3.0 * n_pixels * data->n_frames);
    return psnr_sum / data->n_frames;
}
