/* SPDX-License-Identifier: MIT
 *
 * Training the positional-encoding NeRF (the paper's recipe, CPU-sized).
 *
 * DESIGN (a step): rays_per_step random pixels of random training frames, a random point
 * inside each pixel and, with random_background, a random background colour per ray (the
 * target is the pixel composited on it, so transparent pixels teach empty space — as the
 * hash-grid trainer does); each ray also draws its Nc coarse bin offsets and Nf fine
 * quantile offsets. The rays go through the trainer's batch in chunks (the gradients of the
 * chunks add up, so the chunk size changes nothing but memory), then one Adam step at the
 * exponentially decaying learning rate. Every random number comes from a stream forked per
 * (step, ray), so a run is reproducible and a resumed run continues the same sequence.
 */
#include "aigc-nerf-pe.h"

#include "aigc-error.h"
#include "io/aigc-strict-json.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-rng.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

#define CHUNK_ROWS (1 << 14) /* samples per chunk (≈ 77 MiB of batch at the default widths) */

AigcNerfPeTrainParams aigc_nerf_pe_default_train_params(void)
{
    return (AigcNerfPeTrainParams){.lr = 4e-3f,
                                   .lr_final = 4e-4f,
                                   .decay_steps = 2500,
                                   .beta1 = 0.9f,
                                   .beta2 = 0.999f,
                                   .eps = 1e-7f,
                                   .rays_per_step = 128,
                                   .coarse_weight = 0.1f,
                                   .random_background = TRUE,
                                   .seed = 1};
}

struct _AigcNerfPeTrainer {
    AigcNerfPe *pe;
    AigcNerfPeTrainParams params;
    AigcOptimizer *opt;
    AigcNerfPeBatch *batch;
    AigcRng rng;
    gint64 step;
    /* the step's rays */
    const AigcTransforms *data;
    float *origin, *dir;        /* (R, 3) */
    float *background, *target; /* (R, 3) */
    float *jitter;              /* (R, S) Nc coarse offsets, then Nf fine ones */
    /* one chunk's, for the rays that hit the box, in batch order */
    float *chunk_bg, *chunk_target; /* (capacity, 3) */
    float *chunk_jc, *chunk_jf;     /* (capacity, Nc), (capacity, Nf) */
    gboolean *hit;                  /* (capacity) */
};

AigcNerfPeTrainer *aigc_nerf_pe_trainer_new(AigcNerfPe *pe, const AigcNerfPeTrainParams *params)
{
    AigcNerfPeTrainer *tr = g_new0(AigcNerfPeTrainer, 1);
    tr->pe = pe;
    tr->params = params ? *params : aigc_nerf_pe_default_train_params();
    tr->params.rays_per_step = MAX(tr->params.rays_per_step, 1);
    tr->params.decay_steps = MAX(tr->params.decay_steps, 1);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    hp.beta1 = tr->params.beta1;
    hp.beta2 = tr->params.beta2;
    hp.eps = tr->params.eps;
    tr->opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, pe->params);
    int Nc = pe->config.n_coarse, Nf = pe->config.n_fine, S = Nc + Nf;
    int capacity = CLAMP(CHUNK_ROWS / S, 1, tr->params.rays_per_step);
    tr->batch = aigc_nerf_pe_batch_new(pe, capacity, TRUE);
    aigc_rng_init(&tr->rng, tr->params.seed);
    gsize R = (gsize)tr->params.rays_per_step;
    tr->origin = g_new(float, 3 * R);
    tr->dir = g_new(float, 3 * R);
    tr->background = g_new(float, 3 * R);
    tr->target = g_new(float, 3 * R);
    tr->jitter = g_new(float, R * S);
    tr->chunk_bg = g_new(float, 3 * capacity);
    tr->chunk_target = g_new(float, 3 * capacity);
    tr->chunk_jc = g_new(float, (gsize)capacity * Nc);
    tr->chunk_jf = g_new(float, (gsize)capacity * MAX(Nf, 1));
    tr->hit = g_new(gboolean, capacity);
    return tr;
}

void aigc_nerf_pe_trainer_free(AigcNerfPeTrainer *tr)
{
    if (!tr)
        return;
    aigc_optimizer_free(tr->opt);
    aigc_nerf_pe_batch_free(tr->batch);
    g_free(tr->origin);
    g_free(tr->dir);
    g_free(tr->background);
    g_free(tr->target);
    g_free(tr->jitter);
    g_free(tr->chunk_bg);
    g_free(tr->chunk_target);
    g_free(tr->chunk_jc);
    g_free(tr->chunk_jf);
    g_free(tr->hit);
    g_free(tr);
}

gint64 aigc_nerf_pe_trainer_get_step(AigcNerfPeTrainer *tr)
{
    return tr->step;
}

static void pick_rays(gint64 begin, gint64 end, gpointer data)
{
    AigcNerfPeTrainer *tr = data;
    const AigcTransforms *d = tr->data;
    int S = tr->batch->S;
    for (gint64 i = begin; i < end; i++) {
        AigcRng rng =
            aigc_rng_fork(&tr->rng, (guint64)tr->step * (guint64)tr->params.rays_per_step + i);
        int f = (int)aigc_rng_below(&rng, (guint32)d->n_frames);
        int x = (int)aigc_rng_below(&rng, (guint32)d->camera.width);
        int y = (int)aigc_rng_below(&rng, (guint32)d->camera.height);
        double px = x + aigc_rng_uniform(&rng), py = y + aigc_rng_uniform(&rng);
        aigc_pinhole_ray(&d->camera, d->frames[f].c2w, px, py, tr->origin + 3 * i,
                         tr->dir + 3 * i);
        const guint8 *p = d->rgba + (((gsize)f * d->camera.height + y) * d->camera.width + x) * 4;
        float a = p[3] * (1.0f / 255.0f);
        for (int k = 0; k < 3; k++) {
            float bg = tr->params.random_background ? aigc_rng_uniform(&rng) : d->background[k];
            tr->background[3 * i + k] = bg;
            tr->target[3 * i + k] = p[k] * (1.0f / 255.0f) * a + bg * (1.0f - a);
        }
        for (int k = 0; k < S; k++)
            tr->jitter[i * S + k] = aigc_rng_uniform(&rng);
    }
}

static float learning_rate(const AigcNerfPeTrainParams *p, gint64 step)
{
    double progress = MIN((double)step / (double)p->decay_steps, 1.0);
    return (float)(p->lr * pow((double)p->lr_final / p->lr, progress));
}

void aigc_nerf_pe_trainer_step(AigcNerfPeTrainer *tr, const AigcTransforms *data,
                               AigcNerfPeStepStats *stats)
{
    g_return_if_fail(data->rgba != NULL && data->n_frames > 0);
    AigcNerfPe *pe = tr->pe;
    AigcNerfPeBatch *b = tr->batch;
    int R = tr->params.rays_per_step, Nc = b->Nc, Nf = b->Nf, S = b->S;
    tr->data = data;
    aigc_parallel_for(R, 64, pick_rays, tr);
    tr->data = NULL;
    aigc_params_zero_grad(pe->params);
    float scale = 1.0f / (3.0f * (float)R);
    double se_f = 0.0, se_c = 0.0;
    gint64 n_samples = 0;
    for (int r0 = 0; r0 < R; r0 += b->capacity) {
        int n = MIN(b->capacity, R - r0);
        int k = aigc_nerf_pe_batch_set_rays(pe, b, n, tr->origin + 3 * r0, tr->dir + 3 * r0);
        memset(tr->hit, 0, sizeof(gboolean) * n);
        for (int r = 0; r < k; r++) {
            int i = r0 + b->index[r];
            tr->hit[b->index[r]] = TRUE;
            memcpy(tr->chunk_bg + 3 * r, tr->background + 3 * i, 3 * sizeof(float));
            memcpy(tr->chunk_target + 3 * r, tr->target + 3 * i, 3 * sizeof(float));
            memcpy(tr->chunk_jc + (gsize)r * Nc, tr->jitter + (gsize)i * S, Nc * sizeof(float));
            memcpy(tr->chunk_jf + (gsize)r * Nf, tr->jitter + (gsize)i * S + Nc,
                   Nf * sizeof(float));
        }
        /* A ray that misses the box shows its background: error, but nothing to learn. */
        for (int r = 0; r < n; r++)
            if (!tr->hit[r])
                for (int c = 0; c < 3; c++) {
                    double e = tr->background[3 * (r0 + r) + c] - tr->target[3 * (r0 + r) + c];
                    se_f += e * e;
                    se_c += e * e;
                }
        if (k == 0)
            continue;
        aigc_nerf_pe_batch_sample(pe, b, tr->chunk_jc, tr->chunk_jf);
        aigc_nerf_pe_batch_forward(pe, b, (gint64)k * Nc);
        double sec;
        se_f += aigc_nerf_pe_batch_backward(pe, b, tr->chunk_bg, tr->chunk_target, scale,
                                            tr->params.coarse_weight, &sec);
        se_c += sec;
        n_samples += (gint64)k * S;
    }
    float lr = learning_rate(&tr->params, tr->step);
    aigc_optimizer_step(tr->opt, lr);
    tr->step++;
    if (stats) {
        stats->mse = se_f / (3.0 * R);
        stats->mse_coarse = se_c / (3.0 * R);
        stats->n_rays = R;
        stats->n_samples = n_samples;
        stats->lr = lr;
    }
}

gboolean aigc_nerf_pe_trainer_save(AigcNerfPeTrainer *tr, AigcSafetensorsWriter *writer,
                                   GError **error)
{
    g_autofree char *json = g_strdup_printf(
        "{\"step\": %" G_GINT64_FORMAT ", \"seed\": %" G_GUINT64_FORMAT "}", tr->step,
        tr->params.seed);
    aigc_safetensors_writer_set_metadata(writer, "nerf.train", json);
    return aigc_optimizer_save(tr->opt, writer, "optim.", error);
}

gboolean aigc_nerf_pe_trainer_load(AigcNerfPeTrainer *tr, AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *json = aigc_safetensors_get_metadata(st, "nerf.train");
    g_autoptr(AigcJsonDoc) doc = json ? aigc_json_parse(json, strlen(json), NULL) : NULL;
    const AigcJsonValue *root = doc ? aigc_json_doc_get_root(doc) : NULL;
    const AigcJsonValue *step = aigc_json_object_get(root, "step");
    if (!step || step->type != AIGC_JSON_NUMBER || !step->is_integer || step->integer < 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: no training state (“nerf.train” metadata missing or malformed)", label);
        return FALSE;
    }
    if (!aigc_optimizer_load(tr->opt, st, "optim.", error))
        return FALSE;
    tr->step = step->integer;
    return TRUE;
}
