/* SPDX-License-Identifier: MIT
 *
 * Volume rendering: compositing forward and the fused forward + backward of the training loss.
 *
 * Legend: σ_i density, δ_i sample length, α_i = 1 − exp(−σ_i δ_i), T_i transmittance before
 * sample i, w_i = T_i α_i, c_i colour, bg background, C = Σ w_i c_i + T_n bg, g = ∂L/∂C.
 *
 * Backward (as instant-ngp): ∂C/∂c_i = w_i, and since T_j for j > i and α_i both depend on σ_i,
 * ∂C/∂σ_i = δ_i (T_{i+1} c_i − S_i) where S_i = Σ_{j>i} w_j c_j + T_n bg is what the ray
 * gathers after sample i — C minus the running sum up to i. So one pass computes C, and a
 * second pass, in the same order, gives every gradient without storing T or w.
 */
#include "aigc-volrender.h"

#include "tensor/aigc-threads.h"

#include <math.h>

#define MAX_BLOCKS 64 /* loss partial sums: fixed blocks keep the sum independent of threads */

typedef struct {
    gint64 n_rays;
    const gint64 *offset;
    const int *count;
    const float *sigma, *rgb, *delta, *t;
    const float *background; /* per ray (train) or shared (forward) */
    const float *target;
    float scale, t_min;
    float *d_sigma, *d_rgb, *out_rgb, *out_depth, *out_opacity;
    int *n_used;
    double partial[MAX_BLOCKS];
    gint64 n_blocks;
} Render;

static void count_rays(gint64 begin, gint64 end, gpointer data)
{
    Render *r = data;
    for (gint64 ray = begin; ray < end; ray++) {
        const float *sigma = r->sigma + r->offset[ray], *delta = r->delta + r->offset[ray];
        float T = 1.0f;
        int i = 0;
        for (; i < r->count[ray] && T >= r->t_min; i++)
            T *= expf(-sigma[i] * delta[i]);
        r->n_used[ray] = i;
    }
}

void aigc_volrender_count_used(gint64 n_rays, const gint64 *offset, const int *count,
                               const float *sigma, const float *delta, float t_min, int *n_used)
{
    Render r = {.n_rays = n_rays,
                .offset = offset,
                .count = count,
                .sigma = sigma,
                .delta = delta,
                .t_min = t_min,
                .n_used = n_used};
    aigc_parallel_for(n_rays, 256, count_rays, &r);
}

static void forward_rays(gint64 begin, gint64 end, gpointer data)
{
    Render *r = data;
    for (gint64 ray = begin; ray < end; ray++) {
        gint64 o = r->offset[ray];
        float T = 1.0f, acc[3] = {0.0f, 0.0f, 0.0f}, depth = 0.0f;
        for (int i = 0; i < r->count[ray]; i++) {
            float tr = expf(-r->sigma[o + i] * r->delta[o + i]);
            float w = T * (1.0f - tr);
            for (int c = 0; c < 3; c++)
                acc[c] += w * r->rgb[3 * (o + i) + c];
            if (r->t)
                depth += w * r->t[o + i];
            T *= tr;
        }
        for (int c = 0; c < 3; c++)
            r->out_rgb[3 * ray + c] = acc[c] + T * r->background[c];
        if (r->out_depth)
            r->out_depth[ray] = depth;
        if (r->out_opacity)
            r->out_opacity[ray] = 1.0f - T;
    }
}

void aigc_volrender_forward(gint64 n_rays, const gint64 *offset, const int *count,
                            const float *sigma, const float *rgb, const float *delta,
                            const float *t, const float background[3], float *out_rgb,
                            float *out_depth, float *out_opacity)
{
    g_return_if_fail(out_depth == NULL || t != NULL);
    Render r = {.n_rays = n_rays,
                .offset = offset,
                .count = count,
                .sigma = sigma,
                .rgb = rgb,
                .delta = delta,
                .t = t,
                .background = background,
                .out_rgb = out_rgb,
                .out_depth = out_depth,
                .out_opacity = out_opacity};
    aigc_parallel_for(n_rays, 256, forward_rays, &r);
}

static void train_blocks(gint64 begin, gint64 end, gpointer data)
{
    Render *r = data;
    for (gint64 b = begin; b < end; b++) {
        gint64 ray0 = b * r->n_rays / r->n_blocks, ray1 = (b + 1) * r->n_rays / r->n_blocks;
        double sum = 0.0;
        for (gint64 ray = ray0; ray < ray1; ray++) {
            gint64 o = r->offset[ray];
            int n = r->count[ray];
            const float *sigma = r->sigma + o, *delta = r->delta + o, *rgb = r->rgb + 3 * o;
            const float *bg = r->background + 3 * ray, *target = r->target + 3 * ray;
            /* pass 1: C */
            float T = 1.0f, C[3] = {0.0f, 0.0f, 0.0f};
            for (int i = 0; i < n; i++) {
                float tr = expf(-sigma[i] * delta[i]);
                float w = T * (1.0f - tr);
                for (int c = 0; c < 3; c++)
                    C[c] += w * rgb[3 * i + c];
                T *= tr;
            }
            float g[3];
            for (int c = 0; c < 3; c++) {
                C[c] += T * bg[c];
                float e = C[c] - target[c];
                sum += (double)e * e;
                g[c] = 2.0f * r->scale * e;
                if (r->out_rgb)
                    r->out_rgb[3 * ray + c] = C[c];
            }
            /* pass 2: gradients, with S_i = C − Σ_{j≤i} w_j c_j */
            float *d_sigma = r->d_sigma + o, *d_rgb = r->d_rgb + 3 * o;
            float prefix[3] = {0.0f, 0.0f, 0.0f};
            T = 1.0f;
            for (int i = 0; i < n; i++) {
                float tr = expf(-sigma[i] * delta[i]);
                float w = T * (1.0f - tr);
                float T_next = T * tr, dot = 0.0f;
                for (int c = 0; c < 3; c++) {
                    prefix[c] += w * rgb[3 * i + c];
                    d_rgb[3 * i + c] = w * g[c];
                    dot += g[c] * (T_next * rgb[3 * i + c] - (C[c] - prefix[c]));
                }
                d_sigma[i] = delta[i] * dot;
                T = T_next;
            }
        }
        r->partial[b] = sum;
    }
}

double aigc_volrender_train(gint64 n_rays, const gint64 *offset, const int *count,
                            const float *sigma, const float *rgb, const float *delta,
                            const float *background, const float *target, float scale,
                            float *d_sigma, float *d_rgb, float *out_rgb)
{
    if (n_rays <= 0)
        return 0.0;
    Render r = {.n_rays = n_rays,
                .offset = offset,
                .count = count,
                .sigma = sigma,
                .rgb = rgb,
                .delta = delta,
                .background = background,
                .target = target,
                .scale = scale,
                .d_sigma = d_sigma,
                .d_rgb = d_rgb,
                .out_rgb = out_rgb,
                .n_blocks = MIN(n_rays, (gint64)MAX_BLOCKS)};
    aigc_parallel_for(r.n_blocks, 1, train_blocks, &r);
    double sum = 0.0;
    for (gint64 b = 0; b < r.n_blocks; b++)
        sum += r.partial[b];
    return sum;
}
