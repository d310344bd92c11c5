/* SPDX-License-Identifier: MIT
 *
 * The class-conditional convolutional VAE: config, parameters, encoder and decoder on the tape,
 * the loss, inference, files. Legend: N batch, S image side, s = S/4, K classes, H hidden
 * width, L latent dimension, P = channels·S² pixels per image.
 */
#include "aigc-vae.h"

#include "aigc-error.h"
#include "aigc-setting.h"
#include "models/aigc-class-names.h"
#include "nn/aigc-nn.h"

#include <math.h>
#include <string.h>

/* Images per forward pass when running inference: bounds the arena. */
#define INFER_BATCH 128

struct _AigcVae {
    AigcVaeConfig config;
    AigcParams *params;
    /* encoder */
    AigcTensor *e_conv1_w, *e_conv1_b; /* (ch, channels, 4, 4), (ch) */
    AigcTensor *e_conv2_w, *e_conv2_b; /* (2·ch, ch, 4, 4), (2·ch) */
    AigcTensor *e_fc_w, *e_fc_b;       /* (H, 2·ch·s²), (H) */
    AigcTensor *e_class_embed;         /* (nullable) (K, H) */
    AigcTensor *e_mu_w, *e_mu_b;       /* (L, H), (L) */
    AigcTensor *e_logvar_w, *e_logvar_b; /* (L, H), (L) */
    /* decoder */
    AigcTensor *d_fc1_w, *d_fc1_b; /* (H, L), (H) */
    AigcTensor *d_class_embed;     /* (nullable) (K, H) */
    AigcTensor *d_fc2_w, *d_fc2_b; /* (2·ch·s², H), (2·ch·s²) */
    AigcTensor *d_class_map;       /* (nullable) (K, 2·ch·s²) */
    /* the class-conditional prior p(z | c) = N(prior_mu[c], e^prior_logvar[c]) */
    AigcTensor *prior_mu, *prior_logvar; /* (nullable) (K, L) each */
    AigcTensor *d_up1_w, *d_up1_b; /* (2·ch, ch, 4, 4), (ch) */
    AigcTensor *d_up2_w, *d_up2_b; /* (ch, channels, 4, 4), (channels) */
    char **class_names;            /* (K) NULL-terminated */
};

/* ---- config ---- */

AigcVaeConfig aigc_vae_default_config(void)
{
    return (AigcVaeConfig){
        .image_size = 28,
        .channels = 1,
        .ch = 32,
        .hidden = 512,
        .latent = 16,
        .n_classes = 10,
    };
}

static gint64 flat_dim(const AigcVaeConfig *c)
{
    const gint64 s = c->image_size / 4;
    return 2 * (gint64)c->ch * s * s;
}

gboolean aigc_vae_config_validate(const AigcVaeConfig *c, GError **error)
{
    const char *fault = NULL;
    if (c->image_size < 8 || c->image_size > 128 || c->image_size % 4 != 0)
        fault = "image_size must be a multiple of 4, 8 … 128";
    else if (c->channels < 1 || c->channels > 4)
        fault = "channels must be 1 … 4";
    else if (c->ch < 1 || c->ch > 512)
        fault = "ch must be 1 … 512";
    else if (c->hidden < 1 || c->hidden > 8192)
        fault = "hidden must be 1 … 8192";
    else if (c->latent < 1 || c->latent > 1024)
        fault = "latent must be 1 … 1024";
    else if (c->n_classes < 0 || c->n_classes > 1000)
        fault = "n_classes must be 0 … 1000";
    else if (flat_dim(c) * c->hidden > (G_GINT64_CONSTANT(1) << 28))
        fault = "the fully connected layers would be too large (lower ch, hidden or image_size)";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "vae config: %s", fault);
        return FALSE;
    }
    return TRUE;
}

static const AigcSettingField config_fields[] = {
    AIGC_SETTING(AigcVaeConfig, "image_size", image_size, INT, 0, G_MAXINT),
    AIGC_SETTING(AigcVaeConfig, "channels", channels, INT, 0, G_MAXINT),
    AIGC_SETTING(AigcVaeConfig, "ch", ch, INT, 0, G_MAXINT),
    AIGC_SETTING(AigcVaeConfig, "hidden", hidden, INT, 0, G_MAXINT),
    AIGC_SETTING(AigcVaeConfig, "latent", latent, INT, 0, G_MAXINT),
    AIGC_SETTING(AigcVaeConfig, "n_classes", n_classes, INT, 0, G_MAXINT),
};

gboolean aigc_vae_config_set(AigcVaeConfig *c, const char *key, const char *value,
                             GError **error)
{
    gboolean found;
    if (!aigc_setting_set_field(c, config_fields, G_N_ELEMENTS(config_fields), key, value, &found,
                                error))
        return FALSE;
    if (!found)
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "unknown vae setting “%s” (image_size, channels, ch, hidden, latent, n_classes)", key);
    return found;
}

char *aigc_vae_config_to_json(const AigcVaeConfig *c)
{
    return g_strdup_printf("{\"image_size\": %d, \"channels\": %d, \"ch\": %d, \"hidden\": %d, "
                           "\"latent\": %d, \"n_classes\": %d}",
                           c->image_size, c->channels, c->ch, c->hidden, c->latent, c->n_classes);
}

gboolean aigc_vae_config_from_json(AigcVaeConfig *c, const char *json, GError **error)
{
    if (!aigc_setting_ints_from_json(c, config_fields, G_N_ELEMENTS(config_fields),
                                     "vae config", json, error))
        return FALSE;
    if (!aigc_vae_config_validate(c, error)) {
        g_prefix_error(error, "in the file: ");
        return FALSE;
    }
    return TRUE;
}

/* ---- parameters ---- */

AigcVae *aigc_vae_new(const AigcVaeConfig *config)
{
    g_return_val_if_fail(aigc_vae_config_validate(config, NULL), NULL);
    AigcVae *m = g_new0(AigcVae, 1);
    m->config = *config;
    const AigcVaeConfig *c = config;
    const gint64 ch = c->ch, H = c->hidden, L = c->latent, K = c->n_classes, C = c->channels;
    const gint64 D = flat_dim(c);
    AigcParams *p = m->params = aigc_params_new();
    m->e_conv1_w = aigc_params_add(p, "encoder.conv1.weight", 4, (gint64[]){ch, C, 4, 4});
    m->e_conv1_b = aigc_params_add(p, "encoder.conv1.bias", 1, (gint64[]){ch});
    m->e_conv2_w = aigc_params_add(p, "encoder.conv2.weight", 4, (gint64[]){2 * ch, ch, 4, 4});
    m->e_conv2_b = aigc_params_add(p, "encoder.conv2.bias", 1, (gint64[]){2 * ch});
    m->e_fc_w = aigc_params_add(p, "encoder.fc.weight", 2, (gint64[]){H, D});
    m->e_fc_b = aigc_params_add(p, "encoder.fc.bias", 1, (gint64[]){H});
    if (K > 0)
        m->e_class_embed = aigc_params_add(p, "encoder.class_embed.weight", 2, (gint64[]){K, H});
    m->e_mu_w = aigc_params_add(p, "encoder.fc_mu.weight", 2, (gint64[]){L, H});
    m->e_mu_b = aigc_params_add(p, "encoder.fc_mu.bias", 1, (gint64[]){L});
    m->e_logvar_w = aigc_params_add(p, "encoder.fc_logvar.weight", 2, (gint64[]){L, H});
    m->e_logvar_b = aigc_params_add(p, "encoder.fc_logvar.bias", 1, (gint64[]){L});
    m->d_fc1_w = aigc_params_add(p, "decoder.fc1.weight", 2, (gint64[]){H, L});
    m->d_fc1_b = aigc_params_add(p, "decoder.fc1.bias", 1, (gint64[]){H});
    if (K > 0)
        m->d_class_embed = aigc_params_add(p, "decoder.class_embed.weight", 2, (gint64[]){K, H});
    m->d_fc2_w = aigc_params_add(p, "decoder.fc2.weight", 2, (gint64[]){D, H});
    m->d_fc2_b = aigc_params_add(p, "decoder.fc2.bias", 1, (gint64[]){D});
    if (K > 0)
        m->d_class_map = aigc_params_add(p, "decoder.class_map.weight", 2, (gint64[]){K, D});
    m->d_up1_w = aigc_params_add(p, "decoder.up1.weight", 4, (gint64[]){2 * ch, ch, 4, 4});
    m->d_up1_b = aigc_params_add(p, "decoder.up1.bias", 1, (gint64[]){ch});
    m->d_up2_w = aigc_params_add(p, "decoder.up2.weight", 4, (gint64[]){ch, C, 4, 4});
    m->d_up2_b = aigc_params_add(p, "decoder.up2.bias", 1, (gint64[]){C});
    if (K > 0) {
        m->prior_mu = aigc_params_add(p, "prior.mu.weight", 2, (gint64[]){K, L});
        m->prior_logvar = aigc_params_add(p, "prior.logvar.weight", 2, (gint64[]){K, L});
    }
    aigc_params_allocate(p);
    m->class_names = aigc_class_names_new_numbered(c->n_classes);
    return m;
}

void aigc_vae_free(AigcVae *m)
{
    if (!m)
        return;
    aigc_params_free(m->params);
    g_strfreev(m->class_names);
    g_free(m);
}

static void fill_layer(AigcRng *rng, AigcTensor *w, AigcTensor *b, double fan_in)
{
    const float bound = (float)(1.0 / sqrt(fan_in));
    aigc_rng_fill_uniform(rng, w->data, w->n_elements, -bound, bound);
    if (b)
        aigc_rng_fill_uniform(rng, b->data, b->n_elements, -bound, bound);
}

void aigc_vae_init_weights(AigcVae *m, AigcRng *rng)
{
    const AigcVaeConfig *c = &m->config;
    const double C = c->channels, ch = c->ch, H = c->hidden, L = c->latent;
    fill_layer(rng, m->e_conv1_w, m->e_conv1_b, C * 16);
    fill_layer(rng, m->e_conv2_w, m->e_conv2_b, ch * 16);
    fill_layer(rng, m->e_fc_w, m->e_fc_b, (double)flat_dim(c));
    if (m->e_class_embed)
        fill_layer(rng, m->e_class_embed, NULL, (double)flat_dim(c));
    fill_layer(rng, m->e_mu_w, m->e_mu_b, H);
    fill_layer(rng, m->e_logvar_w, m->e_logvar_b, H);
    fill_layer(rng, m->d_fc1_w, m->d_fc1_b, L);
    if (m->d_class_embed)
        fill_layer(rng, m->d_class_embed, NULL, L);
    fill_layer(rng, m->d_fc2_w, m->d_fc2_b, H);
    if (m->d_class_map)
        fill_layer(rng, m->d_class_map, NULL, H);
    if (m->prior_mu) { /* N(0, I) for every class to begin with */
        aigc_tensor_fill(m->prior_mu, 0.0f);
        aigc_tensor_fill(m->prior_logvar, 0.0f);
    }
    /* PyTorch takes a transposed conv's fan-in from its weight's second dimension */
    fill_layer(rng, m->d_up1_w, m->d_up1_b, ch * 16);
    fill_layer(rng, m->d_up2_w, m->d_up2_b, C * 16);
}

const AigcVaeConfig *aigc_vae_get_config(AigcVae *m)
{
    return &m->config;
}

AigcParams *aigc_vae_get_params(AigcVae *m)
{
    return m->params;
}

void aigc_vae_set_class_names(AigcVae *m, const char *const *names)
{
    for (int k = 0; k < m->config.n_classes; k++) {
        g_free(m->class_names[k]);
        m->class_names[k] = g_strdup(names[k]);
    }
}

const char *aigc_vae_get_class_name(AigcVae *m, int i)
{
    return i >= 0 && i < m->config.n_classes ? m->class_names[i] : "?";
}

int aigc_vae_find_class(AigcVae *m, const char *name, GError **error)
{
    return aigc_class_names_find((const char *const *)m->class_names, m->config.n_classes, name,
                                 error);
}

/* ---- on the tape ---- */

/* x·weightᵀ + bias (+ class_mix·class_embed when the model is conditional) */
static AigcTensor *linear_with_class(AigcCtx *ctx, AigcVae *m, AigcTensor *x, AigcTensor *w,
                                     AigcTensor *b, AigcTensor *class_embed,
                                     AigcTensor *class_mix)
{
    AigcTensor *h = aigc_linear(ctx, x, w, b);
    if (m->config.n_classes == 0)
        return h;
    g_return_val_if_fail(class_mix && class_mix->shape[0] == x->shape[0] &&
                             class_mix->shape[1] == m->config.n_classes,
                         h);
    return aigc_add(ctx, h, aigc_matmul(ctx, class_mix, class_embed, FALSE, FALSE));
}

void aigc_vae_encode(AigcCtx *ctx, AigcVae *m, AigcTensor *x, AigcTensor *class_mix,
                     AigcTensor **mu, AigcTensor **logvar)
{
    const AigcVaeConfig *c = &m->config;
    g_return_if_fail(x && x->n_dims == 4 && x->shape[1] == c->channels &&
                     x->shape[2] == c->image_size && x->shape[3] == c->image_size);
    const gint64 N = x->shape[0];
    AigcTensor *h = aigc_add_scalar(ctx, aigc_scale(ctx, x, 2.0f), -1.0f);
    h = aigc_relu(ctx, aigc_conv2d(ctx, h, m->e_conv1_w, m->e_conv1_b, 2, 1)); /* (N, ch, S/2) */
    h = aigc_relu(ctx, aigc_conv2d(ctx, h, m->e_conv2_w, m->e_conv2_b, 2, 1)); /* (N, 2ch, s) */
    h = aigc_reshape(ctx, h, 2, (gint64[]){N, flat_dim(c)});
    h = aigc_relu(ctx, linear_with_class(ctx, m, h, m->e_fc_w, m->e_fc_b, m->e_class_embed,
                                         class_mix)); /* (N, H) */
    *mu = aigc_linear(ctx, h, m->e_mu_w, m->e_mu_b);             /* (N, L) */
    *logvar = aigc_linear(ctx, h, m->e_logvar_w, m->e_logvar_b); /* (N, L) */
}

AigcTensor *aigc_vae_decode(AigcCtx *ctx, AigcVae *m, AigcTensor *z, AigcTensor *class_mix)
{
    const AigcVaeConfig *c = &m->config;
    g_return_val_if_fail(z && z->n_dims == 2 && z->shape[1] == c->latent, NULL);
    const gint64 N = z->shape[0], s = c->image_size / 4;
    AigcTensor *h = aigc_relu(ctx, linear_with_class(ctx, m, z, m->d_fc1_w, m->d_fc1_b,
                                                     m->d_class_embed, class_mix)); /* (N, H) */
    h = aigc_relu(ctx, linear_with_class(ctx, m, h, m->d_fc2_w, m->d_fc2_b, m->d_class_map,
                                         class_mix)); /* (N, D) */
    h = aigc_reshape(ctx, h, 4, (gint64[]){N, 2 * c->ch, s, s});
    h = aigc_relu(ctx, aigc_conv_transpose2d(ctx, h, m->d_up1_w, m->d_up1_b, 2, 1, 0));
    return aigc_conv_transpose2d(ctx, h, m->d_up2_w, m->d_up2_b, 2, 1, 0); /* (N, C, S, S) */
}

AigcTensor *aigc_vae_loss(AigcCtx *ctx, AigcVae *m, const float *x, const gint32 *classes, int B,
                          float beta, AigcRng *rng, AigcVaeLossTerms *terms)
{
    const AigcVaeConfig *c = &m->config;
    g_return_val_if_fail(x && B >= 1 && rng, NULL);
    g_return_val_if_fail(c->n_classes == 0 || classes, NULL);
    const gint64 S = c->image_size, P = (gint64)c->channels * S * S;
    AigcTensor *xt = aigc_tensor_from_data(ctx, 4, (gint64[]){B, c->channels, S, S}, x);
    AigcTensor *mix = c->n_classes > 0 ? aigc_class_one_hot(ctx, classes, B, c->n_classes) : NULL;
    AigcTensor *mu, *logvar;
    aigc_vae_encode(ctx, m, xt, mix, &mu, &logvar);
    AigcTensor *eps = aigc_tensor_new2(ctx, B, c->latent);
    aigc_rng_fill_normal(rng, eps->data, eps->n_elements, 0.0f, 1.0f);
    AigcTensor *std = aigc_exp(ctx, aigc_scale(ctx, logvar, 0.5f));
    AigcTensor *z = aigc_add(ctx, mu, aigc_mul(ctx, std, eps));
    AigcTensor *logits = aigc_vae_decode(ctx, m, z, mix);
    /* the mean over every pixel of the batch, times the pixels of one image */
    AigcTensor *recon = aigc_scale(ctx, aigc_bce_with_logits(ctx, logits, xt), (float)P);
    AigcTensor *kl;
    if (mix)
        kl = aigc_kl_diag_gaussians(ctx, mu, logvar,
                                    aigc_matmul(ctx, mix, m->prior_mu, FALSE, FALSE),
                                    aigc_matmul(ctx, mix, m->prior_logvar, FALSE, FALSE));
    else
        kl = aigc_kl_normal(ctx, mu, logvar);
    if (terms) {
        terms->recon = recon->data[0];
        terms->kl = kl->data[0];
    }
    return aigc_add(ctx, recon, aigc_scale(ctx, kl, beta));
}

/* ---- inference ---- */

void aigc_vae_noise(AigcVae *m, guint64 seed, gint64 index, float *eps)
{
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    AigcRng one = aigc_rng_fork(&rng, (guint64)index);
    aigc_rng_fill_normal(&one, eps, m->config.latent, 0.0f, 1.0f);
}

/* The prior's mean and log-variance (L) for one row of class_mix (K); 0 and 0 when
 * unconditional. */
static void prior_of(AigcVae *m, const float *mix_row, float *mean, float *logvar)
{
    const int K = m->config.n_classes, L = m->config.latent;
    for (int l = 0; l < L; l++) {
        double a = 0, b = 0;
        for (int k = 0; k < K; k++) {
            a += (double)mix_row[k] * m->prior_mu->data[k * L + l];
            b += (double)mix_row[k] * m->prior_logvar->data[k * L + l];
        }
        mean[l] = (float)a;
        logvar[l] = (float)b;
    }
}

void aigc_vae_prior_latents(AigcVae *m, const float *eps, const float *class_mix, gint64 n,
                            float *z)
{
    const int K = m->config.n_classes, L = m->config.latent;
    g_autofree float *mean = g_new(float, L), *logvar = g_new(float, L);
    for (gint64 i = 0; i < n; i++) {
        if (K > 0)
            prior_of(m, class_mix + i * K, mean, logvar);
        for (int l = 0; l < L; l++)
            z[i * L + l] = K > 0 ? mean[l] + expf(0.5f * logvar[l]) * eps[i * L + l]
                                 : eps[i * L + l];
    }
}

void aigc_vae_prior_noise(AigcVae *m, const float *z, const float *class_mix, gint64 n,
                          float *eps)
{
    const int K = m->config.n_classes, L = m->config.latent;
    g_autofree float *mean = g_new(float, L), *logvar = g_new(float, L);
    for (gint64 i = 0; i < n; i++) {
        if (K > 0)
            prior_of(m, class_mix + i * K, mean, logvar);
        for (int l = 0; l < L; l++)
            eps[i * L + l] = K > 0 ? (z[i * L + l] - mean[l]) * expf(-0.5f * logvar[l])
                                   : z[i * L + l];
    }
}

static AigcCtx *inference_ctx(void)
{
    AigcCtx *ctx = aigc_ctx_new();
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    aigc_ctx_set_training(ctx, FALSE);
    return ctx;
}

static gboolean poll_cancel(AigcJob *job, GError **error)
{
    if (job && aigc_job_is_cancelled(job)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "cancelled");
        return FALSE;
    }
    return TRUE;
}

static AigcTensor *mix_tensor(AigcCtx *ctx, AigcVae *m, const float *class_mix, gint64 i0,
                              gint64 B)
{
    const int K = m->config.n_classes;
    return K > 0 ? aigc_tensor_from_data(ctx, 2, (gint64[]){B, K}, class_mix + i0 * K) : NULL;
}

gboolean aigc_vae_decode_images(AigcVae *m, const float *z, const float *class_mix, gint64 n,
                                float *out, AigcJob *job, GError **error)
{
    const AigcVaeConfig *c = &m->config;
    g_return_val_if_fail(z && out && n >= 0 && (c->n_classes == 0 || class_mix), FALSE);
    const gint64 P = (gint64)c->channels * c->image_size * c->image_size;
    g_autoptr(AigcCtx) ctx = inference_ctx();
    for (gint64 i = 0; i < n; i += INFER_BATCH) {
        if (!poll_cancel(job, error))
            return FALSE;
        const gint64 B = MIN(INFER_BATCH, n - i);
        aigc_ctx_reset(ctx);
        AigcTensor *zt = aigc_tensor_from_data(ctx, 2, (gint64[]){B, c->latent}, z + i * c->latent);
        AigcTensor *x = aigc_sigmoid(ctx, aigc_vae_decode(ctx, m, zt, mix_tensor(ctx, m, class_mix,
                                                                                 i, B)));
        memcpy(out + i * P, x->data, (gsize)(B * P) * sizeof(float));
    }
    return TRUE;
}

gboolean aigc_vae_encode_images(AigcVae *m, const float *images, const float *class_mix, gint64 n,
                                float *mu, float *logvar, AigcJob *job, GError **error)
{
    const AigcVaeConfig *c = &m->config;
    g_return_val_if_fail(images && mu && n >= 0 && (c->n_classes == 0 || class_mix), FALSE);
    const gint64 S = c->image_size, P = (gint64)c->channels * S * S, L = c->latent;
    g_autoptr(AigcCtx) ctx = inference_ctx();
    for (gint64 i = 0; i < n; i += INFER_BATCH) {
        if (!poll_cancel(job, error))
            return FALSE;
        const gint64 B = MIN(INFER_BATCH, n - i);
        aigc_ctx_reset(ctx);
        AigcTensor *x =
            aigc_tensor_from_data(ctx, 4, (gint64[]){B, c->channels, S, S}, images + i * P);
        AigcTensor *m_t, *lv_t;
        aigc_vae_encode(ctx, m, x, mix_tensor(ctx, m, class_mix, i, B), &m_t, &lv_t);
        memcpy(mu + i * L, m_t->data, (gsize)(B * L) * sizeof(float));
        if (logvar)
            memcpy(logvar + i * L, lv_t->data, (gsize)(B * L) * sizeof(float));
    }
    return TRUE;
}

gboolean aigc_vae_score_images(AigcVae *m, const float *images, const float *class_mix, gint64 n,
                               float *out, AigcJob *job, GError **error)
{
    const AigcVaeConfig *c = &m->config;
    g_return_val_if_fail(images && out && n >= 0 && (c->n_classes == 0 || class_mix), FALSE);
    const gint64 S = c->image_size, P = (gint64)c->channels * S * S, L = c->latent;
    g_autoptr(AigcCtx) ctx = inference_ctx();
    for (gint64 i = 0; i < n; i += INFER_BATCH) {
        if (!poll_cancel(job, error))
            return FALSE;
        const gint64 B = MIN(INFER_BATCH, n - i);
        aigc_ctx_reset(ctx);
        AigcTensor *x =
            aigc_tensor_from_data(ctx, 4, (gint64[]){B, c->channels, S, S}, images + i * P);
        AigcTensor *mix = mix_tensor(ctx, m, class_mix, i, B);
        AigcTensor *mu, *logvar;
        aigc_vae_encode(ctx, m, x, mix, &mu, &logvar);
        AigcTensor *logits = aigc_vae_decode(ctx, m, mu, mix);
        g_autofree float *pm = g_new0(float, L), *pv = g_new0(float, L);
        for (gint64 b = 0; b < B; b++) {
            double loss = 0;
            const float *lg = logits->data + b * P, *y = x->data + b * P;
            for (gint64 k = 0; k < P; k++)
                loss += fmax(lg[k], 0.0) - (double)lg[k] * y[k] + log1p(exp(-fabs(lg[k])));
            if (c->n_classes > 0)
                prior_of(m, class_mix + (i + b) * c->n_classes, pm, pv);
            const float *mb = mu->data + b * L, *vb = logvar->data + b * L;
            for (gint64 k = 0; k < L; k++) {
                const double d = (double)mb[k] - pm[k];
                loss += 0.5 * (pv[k] - vb[k] + exp(vb[k] - pv[k]) + d * d * exp(-pv[k]) - 1.0);
            }
            out[i + b] = (float)loss;
        }
    }
    return TRUE;
}

/* ---- files ---- */

gboolean aigc_vae_save(AigcVae *m, AigcSafetensorsWriter *writer, AigcDtype dtype, GError **error)
{
    g_autofree char *json = aigc_vae_config_to_json(&m->config);
    aigc_safetensors_writer_set_metadata(writer, "family", AIGC_VAE_FAMILY);
    aigc_safetensors_writer_set_metadata(writer, "vae.config", json);
    if (m->config.n_classes > 0) {
        g_autofree char *names =
            aigc_class_names_to_json((const char *const *)m->class_names, m->config.n_classes);
        aigc_safetensors_writer_set_metadata(writer, "vae.classes", names);
    }
    return aigc_params_save(m->params, writer, NULL, dtype, error);
}

/* Every tensor of the file belongs to the model (nothing left unread). */
static gboolean check_tensors_known(AigcVae *m, AigcSafetensors *st, GError **error)
{
    for (gsize i = 0; i < aigc_safetensors_get_n_tensors(st); i++) {
        const char *name = aigc_safetensors_get_tensor(st, i)->name;
        if (!aigc_params_find(m->params, name)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "%s: tensor “%s” does not belong to a VAE of this config",
                        aigc_safetensors_get_label(st), name);
            return FALSE;
        }
    }
    return TRUE;
}

AigcVae *aigc_vae_load(AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *family = aigc_safetensors_get_metadata(st, "family");
    const char *json = aigc_safetensors_get_metadata(st, "vae.config");
    if (!json || g_strcmp0(family, AIGC_VAE_FAMILY) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a VAE model (family “%s”)", label, family ? family : "none");
        return NULL;
    }
    AigcVaeConfig config;
    GError *config_error = NULL;
    if (!aigc_vae_config_from_json(&config, json, &config_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", label,
                    config_error->message);
        g_error_free(config_error);
        return NULL;
    }
    /* Refuse a config the tensors disagree with before allocating its size. */
    const AigcSafetensorsTensor *fc = aigc_safetensors_find(st, "encoder.fc.weight");
    if (!fc || fc->n_dims != 2 || fc->shape[0] != config.hidden ||
        fc->shape[1] != flat_dim(&config)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: encoder.fc.weight is missing or disagrees with the config", label);
        return NULL;
    }
    g_auto(GStrv) names = NULL;
    if (config.n_classes > 0) {
        const char *classes = aigc_safetensors_get_metadata(st, "vae.classes");
        if (classes && !(names = aigc_class_names_from_json(classes, config.n_classes,
                                                            "vae.classes", label, error)))
            return NULL;
    }
    AigcVae *m = aigc_vae_new(&config);
    if (!aigc_params_load(m->params, st, NULL, error) || !check_tensors_known(m, st, error)) {
        aigc_vae_free(m);
        return NULL;
    }
    if (names)
        aigc_vae_set_class_names(m, (const char *const *)names);
    return m;
}

AigcVae *aigc_vae_load_file(const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    return st ? aigc_vae_load(st, error) : NULL;
}

/* ---- judging ---- */

gboolean aigc_vae_eval_sample(gpointer model, const gint32 *labels, gint64 n, guint64 seed,
                              float *images, AigcJob *job, GError **error)
{
    AigcVae *m = model;
    const AigcVaeConfig *c = &m->config;
    if (c->channels != 1 || c->n_classes == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "only gray, class-conditional VAEs can be judged by class");
        return FALSE;
    }
    const int K = c->n_classes;
    g_autofree float *eps = g_new(float, MAX(n, 1) * c->latent); /* (n, L) */
    g_autofree float *z = g_new(float, MAX(n, 1) * c->latent);   /* (n, L) */
    g_autofree float *mix = g_new0(float, MAX(n, 1) * K);        /* (n, K) */
    for (gint64 i = 0; i < n; i++) {
        g_return_val_if_fail(labels[i] >= 0 && labels[i] < K, FALSE);
        aigc_vae_noise(m, seed, i, eps + i * c->latent);
        mix[i * K + labels[i]] = 1.0f;
    }
    aigc_vae_prior_latents(m, eps, mix, n, z);
    return aigc_vae_decode_images(m, z, mix, n, images, job, error);
}
