/* SPDX-License-Identifier: MIT
 *
 * The class-conditional DCGAN: config, parameters, generator and discriminator on the tape,
 * sampling, files. Legend: N batch, S image side, s = S/4 the generator's first side, t the
 * discriminator's last side, K classes, F = 4·ndf·t² the discriminator's features.
 */
#include "aigc-dcgan.h"

#include "aigc-error.h"
#include "aigc-setting.h"
#include "models/aigc-class-names.h"
#include "nn/aigc-nn.h"

#include <math.h>
#include <string.h>

#define BN_MOMENTUM 0.1f
#define BN_EPS      1e-5f
#define LEAK        0.2f
/* Images per forward pass when sampling: bounds the arena. */
#define SAMPLE_BATCH 64

typedef struct {
    AigcTensor *weight, *bias;          /* (C), (C) */
    AigcTensor *running_mean, *running_var; /* (C), (C): buffers; NULL in the discriminator */
} BatchNorm;

struct _AigcDcgan {
    AigcDcganConfig config;
    AigcParams *gen, *disc, *buffers;
    /* generator */
    AigcTensor *g_fc_w;        /* (4·ngf·s², nz) */
    AigcTensor *g_class_embed; /* (nullable) (K, 4·ngf·s²) */
    BatchNorm g_bn0;           /* 4·ngf */
    AigcTensor *g_up1_w;       /* (4·ngf, 2·ngf, 4, 4) */
    BatchNorm g_bn1;           /* 2·ngf */
    AigcTensor *g_up2_w;       /* (2·ngf, ngf, 4, 4) */
    BatchNorm g_bn2;           /* ngf */
    AigcTensor *g_out_w, *g_out_b; /* (channels, ngf, 3, 3), (channels) */
    /* discriminator */
    AigcTensor *d_conv1_w, *d_conv1_b; /* (ndf, channels, 4, 4), (ndf) */
    AigcTensor *d_conv2_w;             /* (2·ndf, ndf, 4, 4) */
    BatchNorm d_bn2;                   /* 2·ndf */
    AigcTensor *d_conv3_w;             /* (4·ndf, 2·ndf, 3, 3) */
    BatchNorm d_bn3;                   /* 4·ndf */
    AigcTensor *d_fc_w, *d_fc_b;       /* (1, F), (1) */
    AigcTensor *d_class_embed;         /* (nullable) (K, F) */
    char **class_names;                /* (K) NULL-terminated */
};

/* ---- config ---- */

AigcDcganConfig aigc_dcgan_default_config(void)
{
    return (AigcDcganConfig){
        .image_size = 28,
        .channels = 1,
        .nz = 100,
        .ngf = 64,
        .ndf = 64,
        .n_classes = 10,
    };
}

static gint64 gen_first_size(const AigcDcganConfig *c)
{
    const gint64 s = c->image_size / 4;
    return 4 * (gint64)c->ngf * s * s;
}

static int disc_last_side(const AigcDcganConfig *c)
{
    return aigc_conv_out_size(c->image_size / 4, 3, 2, 1, 1, 1);
}

static gint64 disc_features(const AigcDcganConfig *c)
{
    const gint64 t = disc_last_side(c);
    return 4 * (gint64)c->ndf * t * t;
}

gboolean aigc_dcgan_config_validate(const AigcDcganConfig *c, GError **error)
{
    const char *fault = NULL;
    if (c->image_size < 8 || c->image_size > 128 || c->image_size % 4 != 0)
        fault = "image_size must be a multiple of 4, 8 … 128";
    else if (c->channels < 1 || c->channels > 4)
        fault = "channels must be 1 … 4";
    else if (c->nz < 1 || c->nz > 1024)
        fault = "nz must be 1 … 1024";
    else if (c->ngf < 1 || c->ngf > 512)
        fault = "ngf must be 1 … 512";
    else if (c->ndf < 1 || c->ndf > 512)
        fault = "ndf must be 1 … 512";
    else if (c->n_classes < 0 || c->n_classes > 1000)
        fault = "n_classes must be 0 … 1000";
    else if ((gint64)(c->nz + c->n_classes) * gen_first_size(c) > (G_GINT64_CONSTANT(1) << 28))
        fault = "the generator's first layer would be too large (lower ngf, nz or image_size)";
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "dcgan config: %s",
                    fault);
        return FALSE;
    }
    return TRUE;
}

static const AigcSettingField config_fields[] = {
    AIGC_SETTING(AigcDcganConfig, "image_size", image_size, INT, 0, G_MAXINT),
    AIGC_SETTING(AigcDcganConfig, "channels", channels, INT, 0, G_MAXINT),
    AIGC_SETTING(AigcDcganConfig, "nz", nz, INT, 0, G_MAXINT),
    AIGC_SETTING(AigcDcganConfig, "ngf", ngf, INT, 0, G_MAXINT),
    AIGC_SETTING(AigcDcganConfig, "ndf", ndf, INT, 0, G_MAXINT),
    AIGC_SETTING(AigcDcganConfig, "n_classes", n_classes, INT, 0, G_MAXINT),
};

gboolean aigc_dcgan_config_set(AigcDcganConfig *c, const char *key, const char *value,
                               GError **error)
{
    gboolean found;
    if (!aigc_setting_set_field(c, config_fields, G_N_ELEMENTS(config_fields), key, value, &found,
                                error))
        return FALSE;
    if (!found)
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "unknown dcgan setting “%s” (image_size, channels, nz, ngf, ndf, n_classes)", key);
    return found;
}

char *aigc_dcgan_config_to_json(const AigcDcganConfig *c)
{
    return g_strdup_printf("{\"image_size\": %d, \"channels\": %d, \"nz\": %d, \"ngf\": %d, "
                           "\"ndf\": %d, \"n_classes\": %d}",
                           c->image_size, c->channels, c->nz, c->ngf, c->ndf, c->n_classes);
}

gboolean aigc_dcgan_config_from_json(AigcDcganConfig *c, const char *json, GError **error)
{
    if (!aigc_setting_ints_from_json(c, config_fields, G_N_ELEMENTS(config_fields),
                                     "dcgan config", json, error))
        return FALSE;
    if (!aigc_dcgan_config_validate(c, error)) {
        g_prefix_error(error, "in the file: ");
        return FALSE;
    }
    return TRUE;
}

/* ---- parameters ---- */

static AigcTensor *add(AigcParams *p, const char *name, int n_dims, const gint64 *shape)
{
    return aigc_params_add(p, name, n_dims, shape);
}

static void add_bn(AigcDcgan *m, BatchNorm *bn, AigcParams *p, const char *prefix, gint64 C,
                   gboolean running)
{
    g_autofree char *w = g_strconcat(prefix, ".weight", NULL);
    g_autofree char *b = g_strconcat(prefix, ".bias", NULL);
    bn->weight = add(p, w, 1, (gint64[]){C});
    bn->bias = add(p, b, 1, (gint64[]){C});
    if (running) {
        g_autofree char *rm = g_strconcat(prefix, ".running_mean", NULL);
        g_autofree char *rv = g_strconcat(prefix, ".running_var", NULL);
        bn->running_mean = add(m->buffers, rm, 1, (gint64[]){C});
        bn->running_var = add(m->buffers, rv, 1, (gint64[]){C});
    }
}

static void reset_running(AigcDcgan *m)
{
    BatchNorm *bns[] = {&m->g_bn0, &m->g_bn1, &m->g_bn2};
    for (guint i = 0; i < G_N_ELEMENTS(bns); i++) {
        aigc_tensor_fill(bns[i]->running_mean, 0.0f);
        aigc_tensor_fill(bns[i]->running_var, 1.0f);
    }
}

AigcDcgan *aigc_dcgan_new(const AigcDcganConfig *config)
{
    g_return_val_if_fail(aigc_dcgan_config_validate(config, NULL), NULL);
    AigcDcgan *m = g_new0(AigcDcgan, 1);
    m->config = *config;
    const AigcDcganConfig *c = config;
    const gint64 ngf = c->ngf, ndf = c->ndf, K = c->n_classes, C = c->channels;
    const gint64 G0 = gen_first_size(c), F = disc_features(c);
    m->gen = aigc_params_new();
    m->disc = aigc_params_new();
    m->buffers = aigc_params_new();
    AigcParams *g = m->gen, *d = m->disc;
    m->g_fc_w = add(g, "generator.fc.weight", 2, (gint64[]){G0, c->nz});
    if (K > 0)
        m->g_class_embed = add(g, "generator.class_embed.weight", 2, (gint64[]){K, G0});
    add_bn(m, &m->g_bn0, g, "generator.bn0", 4 * ngf, TRUE);
    m->g_up1_w = add(g, "generator.up1.weight", 4, (gint64[]){4 * ngf, 2 * ngf, 4, 4});
    add_bn(m, &m->g_bn1, g, "generator.bn1", 2 * ngf, TRUE);
    m->g_up2_w = add(g, "generator.up2.weight", 4, (gint64[]){2 * ngf, ngf, 4, 4});
    add_bn(m, &m->g_bn2, g, "generator.bn2", ngf, TRUE);
    m->g_out_w = add(g, "generator.out.weight", 4, (gint64[]){C, ngf, 3, 3});
    m->g_out_b = add(g, "generator.out.bias", 1, (gint64[]){C});
    m->d_conv1_w = add(d, "discriminator.conv1.weight", 4, (gint64[]){ndf, C, 4, 4});
    m->d_conv1_b = add(d, "discriminator.conv1.bias", 1, (gint64[]){ndf});
    m->d_conv2_w = add(d, "discriminator.conv2.weight", 4, (gint64[]){2 * ndf, ndf, 4, 4});
    add_bn(m, &m->d_bn2, d, "discriminator.bn2", 2 * ndf, FALSE);
    m->d_conv3_w = add(d, "discriminator.conv3.weight", 4, (gint64[]){4 * ndf, 2 * ndf, 3, 3});
    add_bn(m, &m->d_bn3, d, "discriminator.bn3", 4 * ndf, FALSE);
    m->d_fc_w = add(d, "discriminator.fc.weight", 2, (gint64[]){1, F});
    m->d_fc_b = add(d, "discriminator.fc.bias", 1, (gint64[]){1});
    if (K > 0)
        m->d_class_embed = add(d, "discriminator.class_embed.weight", 2, (gint64[]){K, F});
    aigc_params_allocate(g);
    aigc_params_allocate(d);
    aigc_params_allocate(m->buffers);
    reset_running(m);
    m->class_names = aigc_class_names_new_numbered(c->n_classes);
    return m;
}

void aigc_dcgan_free(AigcDcgan *m)
{
    if (!m)
        return;
    aigc_params_free(m->gen);
    aigc_params_free(m->disc);
    aigc_params_free(m->buffers);
    g_strfreev(m->class_names);
    g_free(m);
}

void aigc_dcgan_init_weights(AigcDcgan *m, AigcRng *rng)
{
    AigcParams *sets[] = {m->gen, m->disc};
    for (guint k = 0; k < G_N_ELEMENTS(sets); k++)
        for (guint i = 0; i < aigc_params_get_n(sets[k]); i++) {
            AigcTensor *t = aigc_params_get(sets[k], i);
            const gboolean is_bn = strstr(t->name, ".bn") != NULL;
            if (t->n_dims >= 2)
                aigc_rng_fill_normal(rng, t->data, t->n_elements, 0.0f, 0.02f);
            else if (is_bn && g_str_has_suffix(t->name, ".weight"))
                aigc_rng_fill_normal(rng, t->data, t->n_elements, 1.0f, 0.02f);
            else
                aigc_tensor_fill(t, 0.0f);
        }
    reset_running(m);
}

const AigcDcganConfig *aigc_dcgan_get_config(AigcDcgan *m)
{
    return &m->config;
}

AigcParams *aigc_dcgan_get_generator(AigcDcgan *m)
{
    return m->gen;
}

AigcParams *aigc_dcgan_get_discriminator(AigcDcgan *m)
{
    return m->disc;
}

AigcParams *aigc_dcgan_get_buffers(AigcDcgan *m)
{
    return m->buffers;
}

void aigc_dcgan_set_class_names(AigcDcgan *m, const char *const *names)
{
    for (int k = 0; k < m->config.n_classes; k++) {
        g_free(m->class_names[k]);
        m->class_names[k] = g_strdup(names[k]);
    }
}

const char *aigc_dcgan_get_class_name(AigcDcgan *m, int i)
{
    return i >= 0 && i < m->config.n_classes ? m->class_names[i] : "?";
}

int aigc_dcgan_find_class(AigcDcgan *m, const char *name, GError **error)
{
    return aigc_class_names_find((const char *const *)m->class_names, m->config.n_classes, name,
                                 error);
}

/* ---- on the tape ---- */

static AigcTensor *batchnorm(AigcCtx *ctx, BatchNorm *bn, AigcTensor *x)
{
    return aigc_batchnorm(ctx, x, bn->weight, bn->bias,
                          bn->running_mean ? bn->running_mean->data : NULL,
                          bn->running_var ? bn->running_var->data : NULL, BN_MOMENTUM, BN_EPS);
}

AigcTensor *aigc_dcgan_generate(AigcCtx *ctx, AigcDcgan *m, AigcTensor *z, AigcTensor *class_mix)
{
    const AigcDcganConfig *c = &m->config;
    g_return_val_if_fail(z && z->n_dims == 2 && z->shape[1] == c->nz, NULL);
    const gint64 N = z->shape[0], s = c->image_size / 4;
    AigcTensor *h = aigc_linear(ctx, z, m->g_fc_w, NULL); /* (N, 4·ngf·s²) */
    if (c->n_classes > 0) {
        g_return_val_if_fail(class_mix && class_mix->shape[0] == N &&
                                 class_mix->shape[1] == c->n_classes,
                             NULL);
        h = aigc_add(ctx, h, aigc_matmul(ctx, class_mix, m->g_class_embed, FALSE, FALSE));
    }
    h = aigc_reshape(ctx, h, 4, (gint64[]){N, 4 * c->ngf, s, s});
    h = aigc_relu(ctx, batchnorm(ctx, &m->g_bn0, h));
    h = aigc_conv_transpose2d(ctx, h, m->g_up1_w, NULL, 2, 1, 0); /* (N, 2·ngf, 2s, 2s) */
    h = aigc_relu(ctx, batchnorm(ctx, &m->g_bn1, h));
    h = aigc_conv_transpose2d(ctx, h, m->g_up2_w, NULL, 2, 1, 0); /* (N, ngf, S, S) */
    h = aigc_relu(ctx, batchnorm(ctx, &m->g_bn2, h));
    h = aigc_conv2d(ctx, h, m->g_out_w, m->g_out_b, 1, 1); /* (N, channels, S, S) */
    return aigc_tanh(ctx, h);
}

AigcTensor *aigc_dcgan_discriminate(AigcCtx *ctx, AigcDcgan *m, AigcTensor *x,
                                    AigcTensor *class_mix)
{
    const AigcDcganConfig *c = &m->config;
    g_return_val_if_fail(x && x->n_dims == 4 && x->shape[1] == c->channels &&
                             x->shape[2] == c->image_size && x->shape[3] == c->image_size,
                         NULL);
    const gint64 N = x->shape[0];
    AigcTensor *h = aigc_conv2d(ctx, x, m->d_conv1_w, m->d_conv1_b, 2, 1); /* (N, ndf, S/2) */
    h = aigc_leaky_relu(ctx, h, LEAK);
    h = aigc_conv2d(ctx, h, m->d_conv2_w, NULL, 2, 1); /* (N, 2·ndf, S/4) */
    h = aigc_leaky_relu(ctx, batchnorm(ctx, &m->d_bn2, h), LEAK);
    h = aigc_conv2d(ctx, h, m->d_conv3_w, NULL, 2, 1); /* (N, 4·ndf, t, t) */
    h = aigc_leaky_relu(ctx, batchnorm(ctx, &m->d_bn3, h), LEAK);
    AigcTensor *phi = aigc_reshape(ctx, h, 2, (gint64[]){N, disc_features(c)}); /* (N, F) */
    AigcTensor *logit = aigc_linear(ctx, phi, m->d_fc_w, m->d_fc_b);           /* (N, 1) */
    if (c->n_classes > 0) {
        g_return_val_if_fail(class_mix && class_mix->shape[0] == N &&
                                 class_mix->shape[1] == c->n_classes,
                             NULL);
        AigcTensor *e = aigc_matmul(ctx, class_mix, m->d_class_embed, FALSE, FALSE); /* (N, F) */
        logit = aigc_add(ctx, logit, aigc_sum(ctx, aigc_mul(ctx, phi, e), 1, TRUE));
    }
    return logit;
}

/* ---- inference ---- */

void aigc_dcgan_noise(AigcDcgan *m, guint64 seed, gint64 index, float *z)
{
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    AigcRng one = aigc_rng_fork(&rng, (guint64)index);
    aigc_rng_fill_normal(&one, z, m->config.nz, 0.0f, 1.0f);
}

gboolean aigc_dcgan_sample(AigcDcgan *m, const float *z, const float *class_mix, gint64 n,
                           float *out, AigcJob *job, GError **error)
{
    const AigcDcganConfig *c = &m->config;
    g_return_val_if_fail(z && out && n >= 0, FALSE);
    g_return_val_if_fail(c->n_classes == 0 || class_mix, FALSE);
    const gint64 P = (gint64)c->channels * c->image_size * c->image_size;
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    aigc_ctx_set_training(ctx, FALSE);
    for (gint64 i = 0; i < n; i += SAMPLE_BATCH) {
        if (job && aigc_job_is_cancelled(job)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED, "cancelled");
            return FALSE;
        }
        const gint64 B = MIN(SAMPLE_BATCH, n - i);
        aigc_ctx_reset(ctx);
        AigcTensor *zt = aigc_tensor_from_data(ctx, 2, (gint64[]){B, c->nz}, z + i * c->nz);
        AigcTensor *mix = c->n_classes > 0
                              ? aigc_tensor_from_data(ctx, 2, (gint64[]){B, c->n_classes},
                                                      class_mix + i * c->n_classes)
                              : NULL;
        AigcTensor *x = aigc_dcgan_generate(ctx, m, zt, mix);
        memcpy(out + i * P, x->data, (gsize)(B * P) * sizeof(float));
    }
    return TRUE;
}

void aigc_dcgan_recalibrate(AigcDcgan *m, int n_batches, int B, AigcRng *rng)
{
    g_return_if_fail(n_batches >= 1 && B >= 2);
    const AigcDcganConfig *c = &m->config;
    const int K = c->n_classes;
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    aigc_ctx_set_training(ctx, TRUE);
    BatchNorm *bns[] = {&m->g_bn0, &m->g_bn1, &m->g_bn2};
    for (int i = 0; i < n_batches; i++) {
        aigc_ctx_reset(ctx);
        AigcTensor *z = aigc_tensor_new2(ctx, B, c->nz);
        aigc_rng_fill_normal(rng, z->data, z->n_elements, 0.0f, 1.0f);
        AigcTensor *mix = NULL;
        if (K > 0) {
            gint32 *classes = aigc_ctx_alloc(ctx, (gsize)B * sizeof(gint32));
            for (int b = 0; b < B; b++)
                classes[b] = (gint32)aigc_rng_below(rng, (guint32)K);
            mix = aigc_class_one_hot(ctx, classes, B, K);
        }
        /* momentum 1/(i + 1): running = the mean of the batch statistics so far */
        const float momentum = 1.0f / (float)(i + 1);
        AigcTensor *h = aigc_linear(ctx, z, m->g_fc_w, NULL);
        if (mix)
            h = aigc_add(ctx, h, aigc_matmul(ctx, mix, m->g_class_embed, FALSE, FALSE));
        const gint64 s = c->image_size / 4;
        h = aigc_reshape(ctx, h, 4, (gint64[]){B, 4 * c->ngf, s, s});
        AigcTensor *ups[] = {m->g_up1_w, m->g_up2_w, NULL};
        for (guint l = 0; l < G_N_ELEMENTS(bns); l++) {
            BatchNorm *bn = bns[l];
            h = aigc_batchnorm(ctx, h, bn->weight, bn->bias, bn->running_mean->data,
                               bn->running_var->data, momentum, BN_EPS);
            h = aigc_relu(ctx, h);
            if (ups[l])
                h = aigc_conv_transpose2d(ctx, h, ups[l], NULL, 2, 1, 0);
        }
    }
}

/* ---- files ---- */

gboolean aigc_dcgan_save(AigcDcgan *m, AigcSafetensorsWriter *writer, AigcDtype dtype,
                         GError **error)
{
    g_autofree char *json = aigc_dcgan_config_to_json(&m->config);
    aigc_safetensors_writer_set_metadata(writer, "family", AIGC_DCGAN_FAMILY);
    aigc_safetensors_writer_set_metadata(writer, "dcgan.config", json);
    if (m->config.n_classes > 0) {
        g_autofree char *names =
            aigc_class_names_to_json((const char *const *)m->class_names, m->config.n_classes);
        aigc_safetensors_writer_set_metadata(writer, "dcgan.classes", names);
    }
    return aigc_params_save(m->gen, writer, NULL, dtype, error) &&
           aigc_params_save(m->buffers, writer, NULL, AIGC_DTYPE_F32, error);
}

/* Every tensor of the file belongs to the generator or its buffers (nothing left unread). */
static gboolean check_tensors_known(AigcDcgan *m, AigcSafetensors *st, GError **error)
{
    for (gsize i = 0; i < aigc_safetensors_get_n_tensors(st); i++) {
        const char *name = aigc_safetensors_get_tensor(st, i)->name;
        if (!aigc_params_find(m->gen, name) && !aigc_params_find(m->buffers, name)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                        "%s: tensor “%s” does not belong to a generator of this config",
                        aigc_safetensors_get_label(st), name);
            return FALSE;
        }
    }
    return TRUE;
}

AigcDcgan *aigc_dcgan_load(AigcSafetensors *st, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const char *family = aigc_safetensors_get_metadata(st, "family");
    const char *json = aigc_safetensors_get_metadata(st, "dcgan.config");
    if (!json || g_strcmp0(family, AIGC_DCGAN_FAMILY) != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: not a DCGAN model (family “%s”)", label, family ? family : "none");
        return NULL;
    }
    AigcDcganConfig config;
    GError *config_error = NULL;
    if (!aigc_dcgan_config_from_json(&config, json, &config_error)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT, "%s: %s", label,
                    config_error->message);
        g_error_free(config_error);
        return NULL;
    }
    /* Refuse a config the tensors disagree with before allocating its size. */
    const AigcSafetensorsTensor *fc = aigc_safetensors_find(st, "generator.fc.weight");
    if (!fc || fc->n_dims != 2 || fc->shape[0] != gen_first_size(&config) ||
        fc->shape[1] != config.nz) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: generator.fc.weight is missing or disagrees with the config", label);
        return NULL;
    }
    g_auto(GStrv) names = NULL;
    if (config.n_classes > 0) {
        const char *classes = aigc_safetensors_get_metadata(st, "dcgan.classes");
        if (classes && !(names = aigc_class_names_from_json(classes, config.n_classes,
                                                            "dcgan.classes", label, error)))
            return NULL;
    }
    AigcDcgan *m = aigc_dcgan_new(&config);
    if (!aigc_params_load(m->gen, st, NULL, error) ||
        !aigc_params_load(m->buffers, st, NULL, error) || !check_tensors_known(m, st, error)) {
        aigc_dcgan_free(m);
        return NULL;
    }
    BatchNorm *bns[] = {&m->g_bn0, &m->g_bn1, &m->g_bn2};
    for (guint i = 0; i < G_N_ELEMENTS(bns); i++) {
        const AigcTensor *v = bns[i]->running_var;
        for (gint64 k = 0; k < v->n_elements; k++)
            if (v->data[k] < 0) {
                g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                            "%s: %s holds a negative variance", label, v->name);
                aigc_dcgan_free(m);
                return NULL;
            }
    }
    if (names)
        aigc_dcgan_set_class_names(m, (const char *const *)names);
    return m;
}

AigcDcgan *aigc_dcgan_load_file(const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    return st ? aigc_dcgan_load(st, error) : NULL;
}

/* ---- judging ---- */

gboolean aigc_dcgan_eval_sample(gpointer model, const gint32 *labels, gint64 n, guint64 seed,
                                float *images, AigcJob *job, GError **error)
{
    AigcDcgan *m = model;
    const AigcDcganConfig *c = &m->config;
    if (c->channels != 1 || c->n_classes == 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "only gray, class-conditional DCGANs can be judged by class");
        return FALSE;
    }
    const int K = c->n_classes;
    g_autofree float *z = g_new(float, MAX(n, 1) * c->nz);         /* (n, nz) */
    g_autofree float *mix = g_new0(float, MAX(n, 1) * K);          /* (n, K) */
    for (gint64 i = 0; i < n; i++) {
        g_return_val_if_fail(labels[i] >= 0 && labels[i] < K, FALSE);
        aigc_dcgan_noise(m, seed, i, z + i * c->nz);
        mix[i * K + labels[i]] = 1.0f;
    }
    if (!aigc_dcgan_sample(m, z, mix, n, images, job, error))
        return FALSE;
    const gint64 P = (gint64)c->image_size * c->image_size;
    for (gint64 i = 0; i < n * P; i++)
        images[i] = CLAMP(0.5f * (images[i] + 1.0f), 0.0f, 1.0f);
    return TRUE;
}
