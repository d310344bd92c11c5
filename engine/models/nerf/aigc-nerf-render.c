/* SPDX-License-Identifier: MIT
 *
 * Rendering a view of a NeRF scene, and the PSNR of a dataset's views.
 *
 * DESIGN: the image is cut into tiles of 16 × 16 pixels that the threads take from a shared
 * counter, so a thread that got easy tiles (background) takes more of them; each thread renders
 * its tile alone with its own scratch, the field's stages running on the calling thread
 * (aigc_nerf_field_*_rows), with nothing shared but the packed weights.
 *
 * Within a tile, rays are marched in rounds, as instant-ngp's renderer does, so that density is
 * not computed behind surfaces: every alive ray takes its next K samples through occupied cells
 * (K grows 8, 16, 32 as rounds go by, bounded by the round's room; only 4 for a ray that is
 * inside a surface — its last sample's α above 0.3 or its transmittance below ½ — as it will
 * soon be opaque: a fifth fewer densities for twice the rounds), the density stage runs on
 * all of them, each ray keeps the samples before its transmittance drops below 1e-4, the colour
 * stage runs on those, and they are composited into the ray's running colour, depth and
 * transmittance. A ray dies when it is opaque, leaves the box or reaches max_samples_per_ray.
 * The colour stage (two thirds of the MLP work) also skips a ray's samples of negligible
 * weight w = T·α while their total stays within SKIP_WEIGHT, the tolerance early termination
 * already allows: their colour could move the pixel by at most that much (in [0, 1] units), and
 * they still count in the transmittance, depth and opacity.
 * Samples lie on each ray's lattice t_enter + (k + ½)·dt, the same points the one-shot path of
 * training would use. A pixel's value depends only on its own ray, never on the tile or thread
 * that rendered it.
 */
#include "aigc-nerf.h"

#include "models/nerf/aigc-nerf-parallel.h"
#include "models/nerf/aigc-volrender.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

#define TILE          16 /* pixels per tile side */
#define TILE_RAYS     (TILE * TILE)
#define ROUND_SAMPLES (TILE_RAYS * 16) /* samples of one round at most */
#define ROUND_FIRST   8
#define ROUND_MAX     32
#define ROUND_SURFACE 4                                /* samples for a ray inside a surface */
#define SKIP_WEIGHT   AIGC_VOLRENDER_MIN_TRANSMITTANCE /* colour left out per ray, at most */

typedef struct {
    float o[3], d[3];
    float t_start; /* the lattice origin for the next march (first sample at + dt/2) */
    float t_exit;
    float T; /* transmittance so far */
    float acc[3], depth;
    float skip_left;  /* weight whose colour may still be skipped */
    int n_samples;    /* taken so far */
    int first, count; /* this round's samples */
    int asked;        /* samples asked for this round */
    float alpha;      /* of the last sample composited */
    gboolean alive;
} TileRay;

/* One thread's scratch. */
typedef struct {
    TileRay rays[TILE_RAYS];
    int alive[TILE_RAYS]; /* indices of alive rays */
    float t[ROUND_SAMPLES];
    float x[3 * ROUND_SAMPLES]; /* unit-cube positions */
    float sigma[ROUND_SAMPLES];
    float geo[AIGC_NERF_GEO_DIM * ROUND_SAMPLES]; /* density MLP outputs */
    float dir[3 * ROUND_SAMPLES];                 /* of the kept samples */
    float w[ROUND_SAMPLES];                       /* weights of the kept samples */
    float rgb[3 * ROUND_SAMPLES];
    float *mlp; /* (aigc_nerf_field_rows_scratch) */
} Slot;

struct _AigcNerfRenderer {
    int n_slots;
    Slot *slots;
    float *mlp; /* (n_slots, mlp_floats) */
    AigcNerfPacked packed;
};
typedef struct _AigcNerfRenderer Renderer;

void aigc_nerf_renderer_free(Renderer *r)
{
    if (!r)
        return;
    g_free(r->slots);
    g_free(r->mlp);
    aigc_nerf_packed_clear(&r->packed);
    g_free(r);
}

/* The scene's renderer with a slot for each thread and the current weights. */
static Renderer *get_renderer(AigcNerf *nerf)
{
    int n_slots = aigc_threads_get();
    if (nerf->renderer && nerf->renderer->n_slots < n_slots)
        g_clear_pointer(&nerf->renderer, aigc_nerf_renderer_free);
    if (!nerf->renderer) {
        Renderer *r = g_new0(Renderer, 1);
        r->n_slots = n_slots;
        r->slots = g_new(Slot, n_slots);
        gsize mlp_floats = aigc_nerf_field_rows_scratch(nerf->field);
        gsize all_floats = n_slots * mlp_floats;
        r->mlp = g_new(float, all_floats);
        for (int s = 0; s < n_slots; s++)
            r->slots[s].mlp = r->mlp + s * mlp_floats;
        aigc_nerf_packed_init(&r->packed, nerf->field);
        nerf->renderer = r;
    }
    aigc_nerf_packed_update(&nerf->renderer->packed, nerf->field);
    return nerf->renderer;
}

typedef struct {
    AigcNerf *nerf;
    Renderer *renderer;
    const AigcPinhole *camera;
    const double *c2w;
    const float *background;
    float *rgb, *depth, *opacity;
    int tiles_x;
} Frame;

/* Marches, shades and composites the alive rays of a tile until none is left. */
static void render_rays(const Frame *fr, Slot *sl, int n_alive)
{
    AigcNerf *nerf = fr->nerf;
    const AigcNerfPacked *packed = &fr->renderer->packed;
    const int cap = nerf->config.max_samples_per_ray;
    const float dt = nerf->dt;
    int round_size = ROUND_FIRST;
    while (n_alive > 0) {
        int K = MAX(1, MIN(round_size, ROUND_SAMPLES / n_alive));
        round_size = MIN(round_size * 2, ROUND_MAX);
        /* march: each alive ray's next samples, one after the other */
        int n_samples = 0;
        for (int k = 0; k < n_alive; k++) {
            TileRay *r = &sl->rays[sl->alive[k]];
            r->asked = r->alpha > 0.3f || r->T < 0.5f ? MIN(K, ROUND_SURFACE) : K;
            int n =
                aigc_occupancy_march(nerf->occupancy, r->o, r->d, r->t_start, r->t_exit, dt, 0.5f,
                                     MIN(r->asked, cap - r->n_samples), sl->t + n_samples);
            r->first = n_samples;
            r->count = n;
            for (int j = n_samples; j < n_samples + n; j++) {
                float p[3];
                for (int a = 0; a < 3; a++)
                    p[a] = r->o[a] + sl->t[j] * r->d[a];
                aigc_nerf_to_unit(nerf, p, sl->x + 3 * j);
            }
            n_samples += n;
        }
        /* density, then each ray's samples before it turns opaque, moved to the front */
        aigc_nerf_field_density_rows(nerf->field, packed, sl->mlp, n_samples, sl->x, sl->geo,
                                     sl->sigma);
        int n_keep = 0;
        for (int k = 0; k < n_alive; k++) {
            TileRay *r = &sl->rays[sl->alive[k]];
            int first = n_keep, j = 0;
            for (; j < r->count && r->T >= AIGC_VOLRENDER_MIN_TRANSMITTANCE; j++) {
                int i = r->first + j;
                float tr = expf(-sl->sigma[i] * dt);
                float w = r->T * (1.0f - tr);
                r->depth += w * sl->t[i];
                r->T *= tr;
                r->alpha = 1.0f - tr;
                if (w <= r->skip_left) {
                    r->skip_left -= w;
                    continue;
                }
                /* kept for the colour stage: moved to the front (n_keep ≤ i) */
                sl->w[n_keep] = w;
                memmove(sl->geo + (gsize)n_keep * AIGC_NERF_GEO_DIM,
                        sl->geo + (gsize)i * AIGC_NERF_GEO_DIM, AIGC_NERF_GEO_DIM * sizeof(float));
                memcpy(sl->dir + 3 * n_keep, r->d, sizeof r->d);
                n_keep++;
            }
            r->n_samples += r->count;
            /* Fewer samples than asked for: the ray left the box (or hit its cap). */
            gboolean exhausted = r->count < r->asked || r->n_samples >= cap;
            if (r->count > 0)
                r->t_start = sl->t[r->first + r->count - 1] + 0.5f * dt;
            r->first = first;
            r->count = n_keep - first;
            r->alive = !exhausted && r->T >= AIGC_VOLRENDER_MIN_TRANSMITTANCE;
        }
        /* colour on what is left, and compositing */
        aigc_nerf_field_colour_rows(nerf->field, packed, sl->mlp, n_keep, sl->geo, sl->dir,
                                    sl->rgb);
        int n_next = 0;
        for (int k = 0; k < n_alive; k++) {
            TileRay *r = &sl->rays[sl->alive[k]];
            for (int i = r->first; i < r->first + r->count; i++)
                for (int c = 0; c < 3; c++)
                    r->acc[c] += sl->w[i] * sl->rgb[3 * i + c];
            if (r->alive)
                sl->alive[n_next++] = sl->alive[k];
        }
        n_alive = n_next;
    }
}

static void render_tile(const Frame *fr, Slot *sl, int tile)
{
    const AigcPinhole *cam = fr->camera;
    int x0 = (tile % fr->tiles_x) * TILE, y0 = (tile / fr->tiles_x) * TILE;
    int w = MIN(TILE, cam->width - x0), h = MIN(TILE, cam->height - y0);
    int n_alive = 0;
    for (int i = 0; i < w * h; i++) {
        TileRay *r = &sl->rays[i];
        aigc_pinhole_ray(cam, fr->c2w, x0 + i % w + 0.5, y0 + i / w + 0.5, r->o, r->d);
        float t0, t1;
        r->alive = aigc_occupancy_clip(fr->nerf->occupancy, r->o, r->d, 0.0f, &t0, &t1);
        r->t_start = t0;
        r->t_exit = t1;
        r->T = 1.0f;
        r->acc[0] = r->acc[1] = r->acc[2] = r->depth = 0.0f;
        r->skip_left = SKIP_WEIGHT;
        r->alpha = 0.0f;
        r->n_samples = 0;
        if (r->alive)
            sl->alive[n_alive++] = i;
    }
    render_rays(fr, sl, n_alive);
    for (int i = 0; i < w * h; i++) {
        const TileRay *r = &sl->rays[i];
        gint64 p = (gint64)(y0 + i / w) * cam->width + x0 + i % w;
        for (int c = 0; c < 3; c++)
            fr->rgb[3 * p + c] = r->acc[c] + r->T * fr->background[c];
        if (fr->depth)
            fr->depth[p] = r->depth;
        if (fr->opacity)
            fr->opacity[p] = 1.0f - r->T;
    }
}

static void render_tile_item(gint64 tile, int slot, gpointer data)
{
    const Frame *fr = data;
    render_tile(fr, &fr->renderer->slots[slot], (int)tile);
}

void aigc_nerf_render(AigcNerf *nerf, const AigcPinhole *camera, const double c2w[16],
                      const float background[3], float *rgb, float *depth, float *opacity)
{
    Renderer *renderer = get_renderer(nerf);
    int tiles_x = (camera->width + TILE - 1) / TILE, tiles_y = (camera->height + TILE - 1) / TILE;
    Frame fr = {.nerf = nerf,
                .renderer = renderer,
                .camera = camera,
                .c2w = c2w,
                .background = background,
                .rgb = rgb,
                .depth = depth,
                .opacity = opacity,
                .tiles_x = tiles_x};
    aigc_nerf_parallel_items((gint64)tiles_x * tiles_y, renderer->n_slots, render_tile_item, &fr);
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
