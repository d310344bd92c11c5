/* SPDX-License-Identifier: MIT
 *
 * The NeRF scene and its trainer.
 *
 * DESIGN (a training step, after instant-ngp):
 *  1. rays: random pixels of random training frames, a random point inside each pixel, a
 *     random background colour per ray (so transparent pixels teach empty space);
 *  2. march: each ray is clipped to the scene box and stepped at dt through occupied cells
 *     only, at a random lattice offset; one pass counts samples, a prefix sum places them, a
 *     second pass writes them — rays that no longer fit the step's sample budget are dropped;
 *  3. density on every sample, then early ray termination: only samples before a ray's
 *     transmittance falls below 1e-4 can change its colour, so the batch is compacted to those
 *     before the colour MLP and the backward pass run (behind a surface nothing is learnt);
 *  4. colour, fused compositing forward + backward of the squared error, field backward;
 *  5. Adam on the hash tables and on the MLPs, each with its own learning rate;
 *  6. every occupancy_interval steps, the occupancy grid re-measures the density in a set of
 *     cells (all of them during warm-up; then 1/8 at random and 1/8 among the occupied).
 * The number of rays per step adapts so the marched samples meet samples_per_step: a running
 * mean of samples per ray sets the next step's ray count.
 *
 * Every random choice comes from a counter-based stream forked per (step, ray), so a run is
 * reproducible bit for bit, whatever the thread count: no sum depends on how work was shared
 * (the MLP gradients are summed per group of chunks, in group order; see aigc-nerf-field.c).
 */
#include "aigc-nerf.h"

#include "aigc-error.h"
#include "io/aigc-strict-json.h"
#include "models/nerf/aigc-volrender.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

AigcNerfConfig aigc_nerf_default_config(void)
{
    return (AigcNerfConfig){.field = aigc_nerf_field_default_config(),
                            .occupancy_res = 64,
                            .n_steps = 512,
                            .max_samples_per_ray = 1024};
}

AigcNerf *aigc_nerf_new(const AigcNerfConfig *config, const float aabb_min[3],
                        const float aabb_max[3], GError **error)
{
    for (int a = 0; a < 3; a++)
        if (!(aabb_max[a] > aabb_min[a]) || !isfinite(aabb_min[a]) || !isfinite(aabb_max[a])) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "NeRF: the scene box is empty or not finite along axis %d", a);
            return NULL;
        }
    if (config->occupancy_res < 8 || config->occupancy_res > 512 ||
        config->occupancy_res % 4 != 0 || config->n_steps < 16 || config->n_steps > 8192 ||
        config->max_samples_per_ray < 1 || config->max_samples_per_ray > 8192) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "NeRF: occupancy resolution must be 8–512 (a multiple of 4), steps 16–8192 "
                    "and samples per ray 1–8192");
        return NULL;
    }
    AigcNerfField *field = aigc_nerf_field_new(&config->field, error);
    if (!field)
        return NULL;
    AigcNerf *nerf = g_new0(AigcNerf, 1);
    nerf->config = *config;
    nerf->field = field;
    memcpy(nerf->aabb_min, aabb_min, sizeof nerf->aabb_min);
    memcpy(nerf->aabb_max, aabb_max, sizeof nerf->aabb_max);
    nerf->occupancy = aigc_occupancy_new(config->occupancy_res, aabb_min, aabb_max);
    double diag = 0;
    for (int a = 0; a < 3; a++)
        diag += (double)(aabb_max[a] - aabb_min[a]) * (aabb_max[a] - aabb_min[a]);
    nerf->dt = (float)(sqrt(diag) / config->n_steps);
    /* instant-ngp's occupancy threshold: an optical thickness of 0.01 over its finest step, a
     * 1024th of the box diagonal, whatever step this scene marches with. */
    nerf->density_threshold = (float)(0.01 * 1024 / sqrt(diag));
    return nerf;
}

void aigc_nerf_free(AigcNerf *nerf)
{
    if (!nerf)
        return;
    aigc_nerf_field_free(nerf->field);
    aigc_occupancy_free(nerf->occupancy);
    aigc_nerf_renderer_free(nerf->renderer);
    g_free(nerf);
}

void aigc_nerf_init_weights(AigcNerf *nerf, guint64 seed)
{
    aigc_nerf_field_init_weights(nerf->field, seed);
}

void aigc_nerf_density_at(AigcNerf *nerf, AigcNerfBatch *batch, gint64 n, const float *points,
                          float *sigma)
{
    for (gint64 i0 = 0; i0 < n; i0 += batch->capacity) {
        gint64 m = MIN(batch->capacity, n - i0);
        for (gint64 i = 0; i < m; i++)
            aigc_nerf_to_unit(nerf, points + 3 * (i0 + i), batch->x + 3 * i);
        aigc_nerf_field_density(nerf->field, batch, m);
        memcpy(sigma + i0, batch->sigma, sizeof(float) * m);
    }
}

/* ---- marching a set of rays into a batch ---- */

/* Rays of one step or one render chunk, and their samples. */
typedef struct {
    gint64 max_rays, max_samples;
    /* per ray */
    float *origin;                    /* (R, 3) */
    float *dir;                       /* (R, 3) unit */
    float *t_enter, *t_exit, *jitter; /* (R) */
    float *background;                /* (R, 3) */
    float *target;                    /* (R, 3) */
    int *count;                       /* (R) marched samples */
    gint64 *offset;                   /* (R + 1) */
    int *n_used;                      /* (R) */
    float *out_rgb;                   /* (R, 3) */
    /* per sample */
    float *t;       /* (S) */
    float *delta;   /* (S) */
    gint64 *keep;   /* (S) */
    float *d_sigma; /* (S) */
    float *d_rgb;   /* (S, 3) */
} Rays;

static Rays *rays_new(gint64 max_rays, gint64 max_samples)
{
    Rays *r = g_new0(Rays, 1);
    r->max_rays = max_rays;
    r->max_samples = max_samples;
    r->origin = g_new(float, 3 * max_rays);
    r->dir = g_new(float, 3 * max_rays);
    r->t_enter = g_new(float, max_rays);
    r->t_exit = g_new(float, max_rays);
    r->jitter = g_new(float, max_rays);
    r->background = g_new(float, 3 * max_rays);
    r->target = g_new(float, 3 * max_rays);
    r->count = g_new(int, max_rays);
    r->offset = g_new(gint64, max_rays + 1);
    r->n_used = g_new(int, max_rays);
    r->out_rgb = g_new(float, 3 * max_rays);
    r->t = g_new(float, max_samples);
    r->delta = g_new(float, max_samples);
    r->keep = g_new(gint64, max_samples);
    r->d_sigma = g_new(float, max_samples);
    r->d_rgb = g_new(float, 3 * max_samples);
    return r;
}

static void rays_free(Rays *r)
{
    if (!r)
        return;
    g_free(r->origin);
    g_free(r->dir);
    g_free(r->t_enter);
    g_free(r->t_exit);
    g_free(r->jitter);
    g_free(r->background);
    g_free(r->target);
    g_free(r->count);
    g_free(r->offset);
    g_free(r->n_used);
    g_free(r->out_rgb);
    g_free(r->t);
    g_free(r->delta);
    g_free(r->keep);
    g_free(r->d_sigma);
    g_free(r->d_rgb);
    g_free(r);
}

typedef struct {
    AigcNerf *nerf;
    Rays *rays;
    AigcNerfBatch *batch;
} MarchCtx;

static void count_samples(gint64 begin, gint64 end, gpointer data)
{
    MarchCtx *c = data;
    Rays *r = c->rays;
    for (gint64 i = begin; i < end; i++)
        r->count[i] =
            r->t_exit[i] > r->t_enter[i]
                ? aigc_occupancy_march(c->nerf->occupancy, r->origin + 3 * i, r->dir + 3 * i,
                                       r->t_enter[i], r->t_exit[i], c->nerf->dt, r->jitter[i],
                                       c->nerf->config.max_samples_per_ray, NULL)
                : 0;
}

static void write_samples(gint64 begin, gint64 end, gpointer data)
{
    MarchCtx *c = data;
    Rays *r = c->rays;
    AigcNerf *nerf = c->nerf;
    for (gint64 i = begin; i < end; i++) {
        gint64 o = r->offset[i];
        if (r->count[i] == 0)
            continue;
        aigc_occupancy_march(nerf->occupancy, r->origin + 3 * i, r->dir + 3 * i, r->t_enter[i],
                             r->t_exit[i], nerf->dt, r->jitter[i], r->count[i], r->t + o);
        for (int k = 0; k < r->count[i]; k++) {
            float p[3];
            for (int a = 0; a < 3; a++)
                p[a] = r->origin[3 * i + a] + r->t[o + k] * r->dir[3 * i + a];
            aigc_nerf_to_unit(nerf, p, c->batch->x + 3 * (o + k));
            memcpy(c->batch->dir + 3 * (o + k), r->dir + 3 * i, 3 * sizeof(float));
            r->delta[o + k] = nerf->dt;
        }
    }
}

/* Marches rays [0, n_rays) (origin, dir, t_enter, t_exit, jitter set) into the batch. Returns
 * how many rays fit the batch (a prefix); their samples fill [0, offset[n]). */
static gint64 march_rays(AigcNerf *nerf, Rays *rays, AigcNerfBatch *batch, gint64 n_rays)
{
    MarchCtx ctx = {nerf, rays, batch};
    aigc_parallel_for(n_rays, 64, count_samples, &ctx);
    gint64 capacity = MIN(batch->capacity, rays->max_samples);
    rays->offset[0] = 0;
    gint64 n = 0;
    for (; n < n_rays; n++) {
        if (rays->offset[n] + rays->count[n] > capacity)
            break;
        rays->offset[n + 1] = rays->offset[n] + rays->count[n];
    }
    aigc_parallel_for(n, 64, write_samples, &ctx);
    return n;
}

/* Density on every sample, then keeps each ray's samples before it turns opaque; rewrites
 * count/offset to the kept samples. Returns the kept total. */
static gint64 density_and_compact(AigcNerf *nerf, Rays *rays, AigcNerfBatch *batch, gint64 n_rays)
{
    gint64 n_samples = rays->offset[n_rays];
    aigc_nerf_field_density(nerf->field, batch, n_samples);
    aigc_volrender_count_used(n_rays, rays->offset, rays->count, batch->sigma, rays->delta,
                              AIGC_VOLRENDER_MIN_TRANSMITTANCE, rays->n_used);
    gint64 n_keep = 0;
    for (gint64 i = 0; i < n_rays; i++) {
        gint64 o = rays->offset[i];
        rays->offset[i] = n_keep;
        for (int k = 0; k < rays->n_used[i]; k++) {
            rays->keep[n_keep] = o + k;
            rays->t[n_keep] = rays->t[o + k];
            rays->delta[n_keep] = rays->delta[o + k];
            n_keep++;
        }
        rays->count[i] = rays->n_used[i];
    }
    rays->offset[n_rays] = n_keep;
    aigc_nerf_batch_compact(batch, rays->keep, n_keep);
    return n_keep;
}

/* ---- training ---- */

AigcNerfTrainParams aigc_nerf_default_train_params(void)
{
    return (AigcNerfTrainParams){.lr_grid = 1e-2f,
                                 .lr_mlp = 1e-2f,
                                 .beta1 = 0.9f,
                                 .beta2 = 0.99f,
                                 .eps = 1e-15f,
                                 .samples_per_step = 1 << 16,
                                 .max_rays_per_step = 1 << 14,
                                 .occupancy_interval = 16,
                                 .occupancy_warmup = 256,
                                 .occupancy_decay = 0.95f,
                                 .random_background = TRUE,
                                 .seed = 1};
}

struct _AigcNerfTrainer {
    AigcNerf *nerf;
    AigcNerfTrainParams params;
    AigcOptimizer *opt_grid, *opt_mlp;
    AigcNerfBatch *batch;
    Rays *rays;
    AigcRng rng;
    gint64 step;
    double samples_per_ray; /* running mean of marched samples per ray */
    gint64 *occ_cells;      /* occupancy refresh scratch */
    float *occ_points, *occ_density;
    gint64 occ_capacity;
};

AigcNerfTrainer *aigc_nerf_trainer_new(AigcNerf *nerf, const AigcNerfTrainParams *params)
{
    AigcNerfTrainer *tr = g_new0(AigcNerfTrainer, 1);
    tr->nerf = nerf;
    tr->params = params ? *params : aigc_nerf_default_train_params();
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    hp.beta1 = tr->params.beta1;
    hp.beta2 = tr->params.beta2;
    hp.eps = tr->params.eps;
    tr->opt_grid = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, nerf->field->grid_params);
    tr->opt_mlp = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, nerf->field->mlp_params);
    gint64 capacity = tr->params.samples_per_step + nerf->config.max_samples_per_ray;
    tr->batch = aigc_nerf_batch_new(nerf->field, capacity, TRUE);
    tr->rays = rays_new(tr->params.max_rays_per_step, capacity);
    aigc_rng_init(&tr->rng, tr->params.seed);
    tr->samples_per_ray = nerf->config.max_samples_per_ray / 4.0;
    tr->occ_capacity = nerf->occupancy->n_cells;
    tr->occ_cells = g_new(gint64, tr->occ_capacity);
    tr->occ_points = g_new(float, 3 * tr->occ_capacity);
    tr->occ_density = g_new(float, tr->occ_capacity);
    return tr;
}

void aigc_nerf_trainer_free(AigcNerfTrainer *tr)
{
    if (!tr)
        return;
    aigc_optimizer_free(tr->opt_grid);
    aigc_optimizer_free(tr->opt_mlp);
    aigc_nerf_batch_free(tr->batch);
    rays_free(tr->rays);
    g_free(tr->occ_cells);
    g_free(tr->occ_points);
    g_free(tr->occ_density);
    g_free(tr);
}

gint64 aigc_nerf_trainer_get_step(AigcNerfTrainer *tr)
{
    return tr->step;
}

typedef struct {
    AigcNerfTrainer *tr;
    const AigcTransforms *data;
} PickCtx;

static void pick_rays(gint64 begin, gint64 end, gpointer data)
{
    PickCtx *c = data;
    AigcNerfTrainer *tr = c->tr;
    const AigcTransforms *d = c->data;
    Rays *r = tr->rays;
    for (gint64 i = begin; i < end; i++) {
        AigcRng rng = aigc_rng_fork(&tr->rng, (guint64)tr->step * (guint64)r->max_rays + i);
        int f = (int)aigc_rng_below(&rng, (guint32)d->n_frames);
        int x = (int)aigc_rng_below(&rng, (guint32)d->camera.width);
        int y = (int)aigc_rng_below(&rng, (guint32)d->camera.height);
        double px = x + aigc_rng_uniform(&rng), py = y + aigc_rng_uniform(&rng);
        aigc_pinhole_ray(&d->camera, d->frames[f].c2w, px, py, r->origin + 3 * i, r->dir + 3 * i);
        r->jitter[i] = aigc_rng_uniform(&rng);
        const guint8 *p = d->rgba + (((gsize)f * d->camera.height + y) * d->camera.width + x) * 4;
        float a = p[3] * (1.0f / 255.0f);
        for (int k = 0; k < 3; k++) {
            float bg = tr->params.random_background ? aigc_rng_uniform(&rng) : d->background[k];
            r->background[3 * i + k] = bg;
            r->target[3 * i + k] = p[k] * (1.0f / 255.0f) * a + bg * (1.0f - a);
        }
        if (!aigc_occupancy_clip(tr->nerf->occupancy, r->origin + 3 * i, r->dir + 3 * i, 0.0f,
                                 &r->t_enter[i], &r->t_exit[i]))
            r->t_enter[i] = r->t_exit[i] = 0.0f;
    }
}

static void refresh_occupancy(AigcNerfTrainer *tr)
{
    AigcNerf *nerf = tr->nerf;
    AigcOccupancy *occ = nerf->occupancy;
    gint64 n_uniform, n_occupied;
    if (tr->step < tr->params.occupancy_warmup) {
        n_uniform = occ->n_cells;
        n_occupied = 0;
    } else {
        n_uniform = occ->n_cells / 8;
        n_occupied = occ->n_cells / 8;
    }
    AigcRng rng = aigc_rng_fork(&tr->rng, G_MAXUINT64 - (guint64)tr->step);
    if (n_occupied == 0) {
        /* Warm-up: one random point in every cell. */
        int res = occ->res;
        for (gint64 cell = 0; cell < occ->n_cells; cell++) {
            tr->occ_cells[cell] = cell;
            gint64 c[3] = {cell % res, (cell / res) % res, cell / ((gint64)res * res)};
            for (int a = 0; a < 3; a++)
                tr->occ_points[3 * cell + a] =
                    occ->aabb_min[a] + ((float)c[a] + aigc_rng_uniform(&rng)) *
                                           (occ->aabb_max[a] - occ->aabb_min[a]) / res;
        }
    } else {
        aigc_occupancy_pick(occ, &rng, n_uniform, n_occupied, tr->occ_cells, tr->occ_points);
    }
    gint64 n = n_uniform + n_occupied;
    aigc_nerf_density_at(nerf, tr->batch, n, tr->occ_points, tr->occ_density);
    aigc_occupancy_update(occ, n, tr->occ_cells, tr->occ_density, tr->params.occupancy_decay,
                          nerf->density_threshold);
}

void aigc_nerf_trainer_step(AigcNerfTrainer *tr, const AigcTransforms *data,
                            AigcNerfStepStats *stats)
{
    g_return_if_fail(data->rgba != NULL);
    AigcNerf *nerf = tr->nerf;
    Rays *rays = tr->rays;
    AigcNerfBatch *batch = tr->batch;
    if (tr->step % tr->params.occupancy_interval == 0)
        refresh_occupancy(tr);

    gint64 want = (gint64)(tr->params.samples_per_step / MAX(tr->samples_per_ray, 1.0));
    gint64 n_rays = CLAMP(want, 16, rays->max_rays);
    PickCtx pick = {tr, data};
    aigc_parallel_for(n_rays, 64, pick_rays, &pick);
    gint64 n_fit = march_rays(nerf, rays, batch, n_rays);
    gint64 n_marched = rays->offset[n_fit];
    /* The running mean counts every picked ray, so an overfull step asks for fewer next. */
    double per_ray = 0;
    for (gint64 i = 0; i < n_rays; i++)
        per_ray += rays->count[i];
    per_ray /= (double)n_rays;
    tr->samples_per_ray = 0.9 * tr->samples_per_ray + 0.1 * MAX(per_ray, 1.0);

    gint64 n_keep = density_and_compact(nerf, rays, batch, n_fit);
    aigc_nerf_field_colour(nerf->field, batch, n_keep);
    float scale = 1.0f / (3.0f * (float)MAX(n_fit, 1));
    double se = aigc_volrender_train(n_fit, rays->offset, rays->count, batch->sigma, batch->rgb,
                                     rays->delta, rays->background, rays->target, scale,
                                     rays->d_sigma, rays->d_rgb, NULL);
    aigc_params_zero_grad(nerf->field->grid_params);
    aigc_params_zero_grad(nerf->field->mlp_params);
    aigc_nerf_field_backward(nerf->field, batch, n_keep, rays->d_rgb, rays->d_sigma);
    aigc_optimizer_step(tr->opt_grid, tr->params.lr_grid);
    aigc_optimizer_step(tr->opt_mlp, tr->params.lr_mlp);
    tr->step++;
    if (stats) {
        stats->mse = se / (3.0 * MAX(n_fit, 1));
        stats->n_rays = n_fit;
        stats->n_samples = n_marched;
        stats->n_used = n_keep;
        stats->occupied = (double)nerf->occupancy->n_occupied / nerf->occupancy->n_cells;
    }
}

gboolean aigc_nerf_trainer_save(AigcNerfTrainer *tr, AigcSafetensorsWriter *writer, GError **error)
{
    g_autofree char *json =
        g_strdup_printf("{\"step\": %" G_GINT64_FORMAT
                        ", \"samples_per_ray\": %.17g, \"seed\": %" G_GUINT64_FORMAT "}",
                        tr->step, tr->samples_per_ray, tr->params.seed);
    aigc_safetensors_writer_set_metadata(writer, "nerf.train", json);
    return aigc_optimizer_save(tr->opt_grid, writer, "optim.grid.", error) &&
           aigc_optimizer_save(tr->opt_mlp, writer, "optim.mlp.", error);
}

gboolean aigc_nerf_trainer_load(AigcNerfTrainer *tr, AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *json = aigc_safetensors_get_metadata(st, "nerf.train");
    g_autoptr(AigcJsonDoc) doc = json ? aigc_json_parse(json, strlen(json), NULL) : NULL;
    const AigcJsonValue *root = doc ? aigc_json_doc_get_root(doc) : NULL;
    const AigcJsonValue *step = aigc_json_object_get(root, "step");
    const AigcJsonValue *spr = aigc_json_object_get(root, "samples_per_ray");
    if (!step || step->type != AIGC_JSON_NUMBER || !step->is_integer || step->integer < 0 || !spr ||
        spr->type != AIGC_JSON_NUMBER || !isfinite(spr->number) || spr->number < 1 ||
        spr->number > 1e6) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: no training state (“nerf.train” metadata missing or malformed)", label);
        return FALSE;
    }
    /* Each optimiser loads all or nothing; if the second fails, the first is reset too, so the
     * trainer never holds half a restored state. */
    if (!aigc_optimizer_load(tr->opt_grid, st, "optim.grid.", error))
        return FALSE;
    if (!aigc_optimizer_load(tr->opt_mlp, st, "optim.mlp.", error)) {
        aigc_optimizer_reset(tr->opt_grid);
        return FALSE;
    }
    tr->step = step->integer;
    tr->samples_per_ray = spr->number;
    return TRUE;
}
