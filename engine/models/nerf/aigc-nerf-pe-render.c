/* SPDX-License-Identifier: MIT
 *
 * Views of a positional-encoding NeRF, and the PSNR of a dataset's views. Pixels go through
 * the field's render batch in chunks of rays: the ones that miss the scene box show the
 * background, the others get their coarse samples at the bin centres and their fine samples at
 * evenly spaced quantiles of the coarse weights (the deterministic form of the sampling
 * training uses), and are composited over the union.
 */
#include "aigc-nerf-pe.h"

#include <math.h>
#include <string.h>

#define RENDER_ROWS (1 << 14) /* samples per chunk (≈ 60 MiB of batch at the default widths) */

void aigc_nerf_pe_render(AigcNerfPe *pe, const AigcPinhole *camera, const double c2w[16],
                         const float background[3], float *rgb, float *depth, float *opacity)
{
    int S = pe->config.n_coarse + pe->config.n_fine;
    int capacity = MAX(RENDER_ROWS / S, 1);
    if (!pe->render_batch)
        pe->render_batch = aigc_nerf_pe_batch_new(pe, capacity, FALSE);
    AigcNerfPeBatch *b = pe->render_batch;
    float *origins = g_new(float, 3 * capacity), *dirs = g_new(float, 3 * capacity);
    float *out_rgb = g_new(float, 3 * capacity), *out_depth = g_new(float, capacity);
    float *out_opacity = g_new(float, capacity);
    gint64 n_pixels = (gint64)camera->width * camera->height;
    for (gint64 p0 = 0; p0 < n_pixels; p0 += capacity) {
        int n = (int)MIN((gint64)capacity, n_pixels - p0);
        for (int i = 0; i < n; i++) {
            gint64 pixel = p0 + i;
            int x = (int)(pixel % camera->width), y = (int)(pixel / camera->width);
            aigc_pinhole_ray(camera, c2w, x + 0.5, y + 0.5, origins + 3 * i, dirs + 3 * i);
            memcpy(rgb + 3 * pixel, background, 3 * sizeof(float));
            if (depth)
                depth[pixel] = 0.0f;
            if (opacity)
                opacity[pixel] = 0.0f;
        }
        int k = aigc_nerf_pe_batch_set_rays(pe, b, n, origins, dirs);
        if (k == 0)
            continue;
        aigc_nerf_pe_batch_sample(pe, b, NULL, NULL);
        aigc_nerf_pe_batch_forward(pe, b, (gint64)k * b->Nc);
        aigc_nerf_pe_batch_composite(b, background, out_rgb, out_depth, out_opacity);
        for (int r = 0; r < k; r++) {
            gint64 pixel = p0 + b->index[r];
            memcpy(rgb + 3 * pixel, out_rgb + 3 * r, 3 * sizeof(float));
            if (depth)
                depth[pixel] = out_depth[r];
            if (opacity)
                opacity[pixel] = out_opacity[r];
        }
    }
    g_free(origins);
    g_free(dirs);
    g_free(out_rgb);
    g_free(out_depth);
    g_free(out_opacity);
}

double aigc_nerf_pe_eval_psnr(AigcNerfPe *pe, const AigcTransforms *data, double *mse_out)
{
    gint64 n_pixels = (gint64)data->camera.width * data->camera.height;
    float *want = g_new(float, 3 * n_pixels), *got = g_new(float, 3 * n_pixels);
    double psnr_sum = 0.0, se_sum = 0.0;
    for (int f = 0; f < data->n_frames; f++) {
        aigc_transforms_frame_rgb(data, f, want);
        aigc_nerf_pe_render(pe, &data->camera, data->frames[f].c2w, data->background, got, NULL,
                            NULL);
        double se = 0.0;
        for (gint64 i = 0; i < 3 * n_pixels; i++) {
            double e = (double)got[i] - want[i];
            se += e * e;
        }
        psnr_sum += -10.0 * log10(MAX(se / (3.0 * n_pixels), 1e-12));
        se_sum += se;
    }
    g_free(want);
    g_free(got);
    if (mse_out)
        *mse_out = se_sum / (3.0 * n_pixels * MAX(data->n_frames, 1));
    return psnr_sum / MAX(data->n_frames, 1);
}
