/* SPDX-License-Identifier: MIT
 *
 * MelGAN multi-scale discriminator and the GAN losses (see aigc-melgan-disc.h).
 *
 * Legend: B batch, T samples at a scale, c channels.
 */
#include "aigc-melgan-disc.h"

#include "models/vocoder/aigc-vocoder-ops.h"
#include "nn/aigc-nn.h"

#include <string.h>

#define N_LAYERS 7 /* conv 15, 4 grouped, conv 5, conv 3 */

typedef struct {
    int cin, cout, K, stride, pad, groups;
    AigcTensor *v, *g, *b; /* v [cout, cin/groups, K], g [cout], b [cout] */
} DLayer;

struct _AigcMelganDisc {
    AigcMelganConfig config;
    AigcParams *params;
    DLayer layers[AIGC_MELGAN_DISC_MAX_SCALES][N_LAYERS];
};

static void add_layer(AigcMelganDisc *d, int s, int l, int cin, int cout, int K, int stride,
                      int pad, int groups)
{
    DLayer *ly = &d->layers[s][l];
    *ly =
        (DLayer){.cin = cin, .cout = cout, .K = K, .stride = stride, .pad = pad, .groups = groups};
    char key[64];
    g_snprintf(key, sizeof key, "disc.%d.%d.weight_v", s, l);
    ly->v = aigc_params_add(d->params, key, 3, (gint64[]){cout, cin / groups, K});
    g_snprintf(key, sizeof key, "disc.%d.%d.weight_g", s, l);
    ly->g = aigc_params_add(d->params, key, 1, (gint64[]){cout});
    g_snprintf(key, sizeof key, "disc.%d.%d.bias", s, l);
    ly->b = aigc_params_add(d->params, key, 1, (gint64[]){cout});
}

AigcMelganDisc *aigc_melgan_disc_new(const AigcMelganConfig *config)
{
    g_return_val_if_fail(aigc_melgan_config_validate(config, NULL), NULL);
    AigcMelganDisc *d = g_new0(AigcMelganDisc, 1);
    d->config = *config;
    d->params = aigc_params_new();
    const int cmax = config->disc_max_channels;
    for (int s = 0; s < config->disc_scales; s++) {
        int c = config->disc_channels, l = 0;
        add_layer(d, s, l++, 1, c, 15, 1, 7, 1);
        for (int i = 0; i < 4; i++) {
            int next = MIN(c * 4, cmax);
            add_layer(d, s, l++, c, next, 41, 4, 20, c / 4);
            c = next;
        }
        add_layer(d, s, l++, c, MIN(c * 2, cmax), 5, 1, 2, 1);
        c = MIN(c * 2, cmax);
        add_layer(d, s, l++, c, 1, 3, 1, 1, 1);
    }
    aigc_params_allocate(d->params);
    return d;
}

void aigc_melgan_disc_free(AigcMelganDisc *d)
{
    if (!d)
        return;
    aigc_params_free(d->params);
    g_free(d);
}

void aigc_melgan_disc_init_weights(AigcMelganDisc *d, AigcRng *rng)
{
    for (int s = 0; s < d->config.disc_scales; s++)
        for (int l = 0; l < N_LAYERS; l++) {
            DLayer *ly = &d->layers[s][l];
            aigc_rng_fill_normal(rng, ly->v->data, ly->v->n_elements, 0.0f, 0.02f);
            aigc_tensor_fill(ly->b, 0.0f);
            int D0 = (int)ly->v->shape[0];
            g_autofree float *tmp = g_new(float, ly->v->n_elements);
            aigc_weight_norm_unfold(tmp, ly->g->data, ly->v->data, D0, ly->v->n_elements / D0);
        }
}

AigcParams *aigc_melgan_disc_get_params(AigcMelganDisc *d)
{
    return d->params;
}

void aigc_melgan_disc_set_trainable(AigcMelganDisc *d, gboolean trainable)
{
    for (guint i = 0; i < aigc_params_get_n(d->params); i++)
        aigc_params_get(d->params, i)->requires_grad = trainable;
}

void aigc_melgan_disc_forward(AigcCtx *ctx, AigcMelganDisc *d, AigcTensor *audio,
                              AigcMelganDiscOutput *out)
{
    g_return_if_fail(audio->n_dims == 3 && audio->shape[1] == 1);
    const float slope = 0.2f;
    memset(out, 0, sizeof *out);
    out->n_scales = d->config.disc_scales;
    AigcTensor *x = audio;
    for (int s = 0; s < d->config.disc_scales; s++) {
        if (s > 0)
            x = aigc_avg_pool1d(ctx, x, 4, 2, 1, FALSE);
        AigcTensor *h = x;
        for (int l = 0; l < N_LAYERS; l++) {
            const DLayer *ly = &d->layers[s][l];
            AigcTensor *w = aigc_weight_norm(ctx, ly->v, ly->g);
            h = aigc_conv1d_grouped(ctx, h, w, ly->b, ly->stride, ly->pad, ly->groups);
            if (l < N_LAYERS - 1) {
                h = aigc_leaky_relu(ctx, h, slope);
                out->features[s][l] = h;
            }
        }
        out->score[s] = h;
    }
}

/* A constant copy of t (no gradient, no graph). */
static AigcTensor *detached(AigcCtx *ctx, AigcTensor *t)
{
    t = aigc_contiguous(ctx, t);
    return aigc_tensor_from_data(ctx, t->n_dims, t->shape, t->data);
}

static AigcTensor *filled_like(AigcCtx *ctx, AigcTensor *t, float value)
{
    AigcTensor *c = aigc_tensor_new(ctx, t->n_dims, t->shape);
    aigc_tensor_fill(c, value);
    return c;
}

static AigcTensor *sum_into(AigcCtx *ctx, AigcTensor *acc, AigcTensor *term)
{
    return acc ? aigc_add(ctx, acc, term) : term;
}

AigcTensor *aigc_melgan_disc_loss(AigcCtx *ctx, const AigcMelganDiscOutput *real,
                                  const AigcMelganDiscOutput *fake)
{
    AigcTensor *total = NULL;
    for (int s = 0; s < real->n_scales; s++) {
        total = sum_into(ctx, total,
                         aigc_mse_loss(ctx, real->score[s], filled_like(ctx, real->score[s], 1)));
        total = sum_into(ctx, total,
                         aigc_mse_loss(ctx, fake->score[s], filled_like(ctx, fake->score[s], 0)));
    }
    return aigc_scale(ctx, total, 1.0f / (float)real->n_scales);
}

AigcTensor *aigc_melgan_adv_loss(AigcCtx *ctx, const AigcMelganDiscOutput *fake)
{
    AigcTensor *total = NULL;
    for (int s = 0; s < fake->n_scales; s++)
        total = sum_into(ctx, total,
                         aigc_mse_loss(ctx, fake->score[s], filled_like(ctx, fake->score[s], 1)));
    return aigc_scale(ctx, total, 1.0f / (float)fake->n_scales);
}

AigcTensor *aigc_melgan_feature_loss(AigcCtx *ctx, const AigcMelganDiscOutput *real,
                                     const AigcMelganDiscOutput *fake)
{
    AigcTensor *total = NULL;
    for (int s = 0; s < real->n_scales; s++)
        for (int l = 0; l < AIGC_MELGAN_DISC_N_FEATURES; l++)
            total = sum_into(
                ctx, total,
                aigc_l1_loss(ctx, fake->features[s][l], detached(ctx, real->features[s][l])));
    return aigc_scale(ctx, total, 1.0f / (float)real->n_scales);
}
