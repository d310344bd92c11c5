/* SPDX-License-Identifier: MIT
 *
 * The one-pass image families behind AigcImageModel (aigc-image-generate.h): the DCGAN and the
 * VAE draw an image by decoding one latent vector. Here: their generate job (a batch from a
 * seed, or for the VAE from an encoded canvas), latent interpolation, the VAE's
 * reconstruction, and the sampling function that judges any image model.
 *
 * Image b of a batch decodes the latent of the noise of (seed, b) — aigc_dcgan_noise, or
 * aigc_vae_noise through the VAE's class prior — so it does not depend on the batch size, and
 * image 1 of a batch is the end an interpolation with that seed starts from.
 */
#include "image/aigc-image-model-private.h"

#include "aigc-error.h"
#include "models/diffusion/aigc-ddpm.h"

#include <math.h>
#include <string.h>

/* ---- the latent families, side by side ---- */

static int latent_dim(AigcImageModel *m)
{
    return m->dcgan ? aigc_dcgan_get_config(m->dcgan)->nz : aigc_vae_get_config(m->vae)->latent;
}

static int n_classes(AigcImageModel *m)
{
    return aigc_image_model_get_n_classes(m);
}

/* The range the family's images come in: DCGAN tanh [−1, 1], VAE sigmoid [0, 1]. */
static float value_lo(AigcImageModel *m)
{
    return m->dcgan ? -1.0f : 0.0f;
}

/* The standard normal noise ε (L) of image `index` of `seed`. */
static void noise(AigcImageModel *m, guint64 seed, gint64 index, float *eps)
{
    if (m->dcgan)
        aigc_dcgan_noise(m->dcgan, seed, index, eps);
    else
        aigc_vae_noise(m->vae, seed, index, eps);
}

/* Latents z (n, L) for noise eps (n, L) and class_mix (n, K): the GAN's are the noise itself,
 * the VAE's come from its class prior. */
static void to_latents(AigcImageModel *m, const float *eps, const float *class_mix, int n,
                       float *z)
{
    if (m->vae)
        aigc_vae_prior_latents(m->vae, eps, class_mix, n, z);
    else
        memcpy(z, eps, (gsize)n * latent_dim(m) * sizeof(float));
}

static int find_class(AigcImageModel *m, const char *name, GError **error)
{
    return m->dcgan ? aigc_dcgan_find_class(m->dcgan, name, error)
                    : aigc_vae_find_class(m->vae, name, error);
}

/* n images (n, C, S, S) in the family's range from latents z (n, L) and class_mix (n, K). */
static gboolean decode(AigcImageModel *m, const float *z, const float *class_mix, int n,
                       float *out, AigcJob *job, GError **error)
{
    return m->dcgan ? aigc_dcgan_sample(m->dcgan, z, class_mix, n, out, job, error)
                    : aigc_vae_decode_images(m->vae, z, class_mix, n, out, job, error);
}

/* The class under which image x (C, S, S) in [0, 1] scores best (VAE, conditional). */
static int likeliest_class(AigcVae *v, const float *x, GError **error)
{
    const AigcVaeConfig *c = aigc_vae_get_config(v);
    const int K = c->n_classes;
    const gint64 P = (gint64)c->channels * c->image_size * c->image_size;
    g_autofree float *copies = g_new(float, K * P); /* (K, C, S, S) */
    g_autofree float *mix = g_new0(float, K * K);   /* (K, K) */
    g_autofree float *scores = g_new(float, K);
    for (int k = 0; k < K; k++) {
        memcpy(copies + k * P, x, (gsize)P * sizeof(float));
        mix[k * K + k] = 1.0f;
    }
    if (!aigc_vae_score_images(v, copies, mix, K, scores, NULL, error))
        return -1;
    int best = 0;
    for (int k = 1; k < K; k++)
        if (scores[k] < scores[best])
            best = k;
    return best;
}

/* The VAE code (posterior mean, L) of image x (C, S, S) in [0, 1] as class *i_class; a class of
 * −1 on a conditional model is replaced by the likeliest one. */
static gboolean encode_one(AigcVae *v, const float *x, int *i_class, float *mu, GError **error)
{
    const int K = aigc_vae_get_config(v)->n_classes;
    if (K > 0 && *i_class < 0 && (*i_class = likeliest_class(v, x, error)) < 0)
        return FALSE;
    g_autofree float *mix = g_new0(float, MAX(K, 1));
    if (K > 0)
        mix[*i_class] = 1.0f;
    return aigc_vae_encode_images(v, x, K > 0 ? mix : NULL, 1, mu, NULL, NULL, error);
}

static const char *class_label(AigcImageModel *m, int i_class)
{
    return i_class >= 0 ? aigc_image_model_get_class_name(m, i_class) : NULL;
}

static char *format_seed(guint64 seed)
{
    return g_strdup_printf("%" G_GUINT64_FORMAT, seed);
}

/* ---- generate ---- */

typedef struct {
    AigcImageModel *model;
    int i_class;  /* −1: none (unconditional), or per image from the seed / the canvas */
    int batch, preview_every;
    guint64 seed;
    float *init;  /* (nullable) VAE: (C, S, S) in [0, 1] */
    float strength;
} GenRun;

static void gen_run_free(gpointer data)
{
    GenRun *r = data;
    aigc_image_model_unref(r->model);
    g_free(r->init);
    g_free(r);
}

static gboolean run_generate(AigcJob *job, gpointer data, GError **error)
{
    GenRun *r = data;
    AigcImageModel *m = r->model;
    const int n = r->batch, L = latent_dim(m), K = n_classes(m);
    const int C = aigc_image_model_get_channels(m), S = aigc_image_model_get_size(m);
    const gint64 P = (gint64)C * S * S;
    gint64 t0 = g_get_monotonic_time();
    aigc_job_report_progress(job, 0, NULL);
    int i_class = r->i_class;
    g_autofree float *mu = NULL;
    if (r->init) {
        mu = g_new(float, L);
        if (!encode_one(m->vae, r->init, &i_class, mu, error))
            return FALSE;
    }
    g_autofree float *eps = g_new(float, (gsize)n * L);
    g_autofree float *z = g_new(float, (gsize)n * L);
    g_autofree float *mix = g_new0(float, (gsize)n * MAX(K, 1));
    g_autofree gint32 *classes = g_new(gint32, n);
    for (int b = 0; b < n; b++) {
        noise(m, r->seed, b, eps + (gsize)b * L);
        classes[b] = i_class;
        if (K > 0 && i_class < 0) {
            /* no class chosen: one per image, drawn from its own stream */
            AigcRng rng;
            aigc_rng_init(&rng, r->seed);
            AigcRng one = aigc_rng_fork(&rng, (guint64)b);
            AigcRng pick = aigc_rng_fork(&one, 1);
            classes[b] = (gint32)aigc_rng_below(&pick, (guint32)K);
        }
        if (K > 0)
            mix[(gsize)b * K + classes[b]] = 1.0f;
    }
    if (mu) {
        /* img2img, in the prior's own coordinates: ε ← √(1 − s)·ε(μ) + √s·ε */
        g_autofree float *u = g_new(float, L);
        aigc_vae_prior_noise(m->vae, mu, K > 0 ? mix : NULL, 1, u);
        for (int b = 0; b < n; b++)
            for (int k = 0; k < L; k++) {
                float *e = eps + (gsize)b * L + k;
                *e = sqrtf(1.0f - r->strength) * u[k] + sqrtf(r->strength) * *e;
            }
    }
    to_latents(m, eps, K > 0 ? mix : NULL, n, z);
    g_autofree float *out = g_new(float, n * P);
    if (!decode(m, z, K > 0 ? mix : NULL, n, out, job, error))
        return FALSE;
    const float lo = value_lo(m);
    if (r->preview_every > 0) {
        g_autoptr(AigcImage) grid = aigc_image_preview_grid(out, n, C, S, lo, 1.0f, 0);
        aigc_image_report_preview(job, grid, "step 1/1");
    }
    AigcImageGenResult *res = g_new0(AigcImageGenResult, 1);
    res->n = n;
    res->images = g_new0(AigcImage *, n);
    for (int i = 0; i < n; i++)
        res->images[i] = aigc_image_from_floats(out + i * P, C, S, S, lo, 1.0f);
    res->seed = r->seed;
    res->class_name = g_strdup(class_label(m, i_class));
    g_autofree char *seed = format_seed(r->seed);
    g_autofree char *size = g_strdup_printf("%dx%d", S, S);
    g_autofree char *strength = g_strdup_printf("%g", r->strength);
    const char *sampler = m->dcgan ? "DCGAN" : r->init ? "VAE encoder" : "VAE prior";
    const char *keys[] = {"Sampler", "Seed", "Size", "Model", r->init ? "Denoising strength" : NULL,
                          NULL};
    const char *values[] = {sampler, seed, size, m->name, strength, NULL};
    const char *prompt = res->class_name ? res->class_name
                         : K > 0         ? "a class per image, from the seed"
                                         : "unconditional";
    res->parameters = aigc_png_format_parameters(prompt, keys, values);
    res->seconds = (g_get_monotonic_time() - t0) / 1e6;
    aigc_job_report_progress(job, 1.0, NULL);
    aigc_job_set_result(job, res, (GDestroyNotify)aigc_image_gen_result_free);
    return TRUE;
}

AigcJob *aigc_image_latent_generate_job_new(AigcImageModel *model,
                                            const AigcImageGenParams *params, GError **error)
{
    g_return_val_if_fail(model && (model->dcgan || model->vae) && params, NULL);
    if (params->batch < 1 || params->batch > 64) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "batch must be 1 … 64, not %d", params->batch);
        return NULL;
    }
    int i_class = -1;
    if (params->class_name && *params->class_name) {
        if (n_classes(model) == 0) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "%s draws without classes; leave the class empty", model->name);
            return NULL;
        }
        if ((i_class = find_class(model, params->class_name, error)) < 0)
            return NULL;
    }
    if (params->mask) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s (%s) cannot inpaint a masked region: use a diffusion model", model->name,
                    aigc_image_model_get_family(model));
        return NULL;
    }
    if (params->init && model->dcgan) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s (a DCGAN) has no encoder, so it cannot start from an image: use a VAE or "
                    "a diffusion model",
                    model->name);
        return NULL;
    }
    if (params->init && !(params->strength >= 0 && params->strength <= 1)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "strength must be 0 … 1 for a VAE (0 = the reconstruction), not %g",
                    params->strength);
        return NULL;
    }
    GenRun *r = g_new0(GenRun, 1);
    r->model = aigc_image_model_ref(model);
    r->i_class = i_class;
    r->batch = params->batch;
    r->preview_every = MAX(params->preview_every, 0);
    r->seed = params->seed >= 0 ? (guint64)params->seed : aigc_image_random_seed();
    if (params->init) {
        r->init = aigc_image_model_floats(params->init, aigc_image_model_get_channels(model),
                                          aigc_image_model_get_size(model), 0, 1);
        r->strength = params->strength;
    }
    return aigc_job_new("generate images", run_generate, r, gen_run_free);
}

/* ---- interpolate ---- */

AigcImageInterpParams aigc_image_interp_default_params(void)
{
    return (AigcImageInterpParams){.seed_a = -1, .seed_b = -1, .n = 8};
}

typedef struct {
    AigcImageModel *model;
    int class_a, class_b; /* −1: none, or (VAE images) the likeliest */
    guint64 seed_a, seed_b;
    float *image_a, *image_b; /* (nullable) VAE: (C, S, S) in [0, 1] */
    int n;
} InterpRun;

static void interp_run_free(gpointer data)
{
    InterpRun *r = data;
    aigc_image_model_unref(r->model);
    g_free(r->image_a);
    g_free(r->image_b);
    g_free(r);
}

/* out = slerp(a, b, t) over L values; the straight line when a and b are (nearly) parallel. */
static void slerp(const float *a, const float *b, float t, int L, float *out)
{
    double ab = 0, aa = 0, bb = 0;
    for (int k = 0; k < L; k++) {
        ab += (double)a[k] * b[k];
        aa += (double)a[k] * a[k];
        bb += (double)b[k] * b[k];
    }
    const double cosine = aa > 0 && bb > 0 ? CLAMP(ab / sqrt(aa * bb), -1.0, 1.0) : 1.0;
    const double omega = acos(cosine), so = sin(omega);
    double wa = 1.0 - t, wb = t;
    if (so > 1e-6) {
        wa = sin((1.0 - t) * omega) / so;
        wb = sin(t * omega) / so;
    }
    for (int k = 0; k < L; k++)
        out[k] = (float)(wa * a[k] + wb * b[k]);
}

/* The latent of image 1 of a generation with `seed` and class i_class (−1: none). */
static void end_latent(AigcImageModel *m, guint64 seed, int i_class, float *z)
{
    const int L = latent_dim(m), K = n_classes(m);
    g_autofree float *eps = g_new(float, L);
    g_autofree float *mix = g_new0(float, MAX(K, 1));
    if (K > 0)
        mix[i_class] = 1.0f;
    noise(m, seed, 0, eps);
    to_latents(m, eps, K > 0 ? mix : NULL, 1, z);
}

static gboolean run_interpolate(AigcJob *job, gpointer data, GError **error)
{
    InterpRun *r = data;
    AigcImageModel *m = r->model;
    const int n = r->n, L = latent_dim(m), K = n_classes(m);
    const int C = aigc_image_model_get_channels(m), S = aigc_image_model_get_size(m);
    const gint64 P = (gint64)C * S * S;
    gint64 t0 = g_get_monotonic_time();
    aigc_job_report_progress(job, 0, NULL);
    g_autofree float *za = g_new(float, L), *zb = g_new(float, L);
    int ca = r->class_a, cb = r->class_b;
    if (!r->image_a)
        end_latent(m, r->seed_a, ca, za);
    else if (!encode_one(m->vae, r->image_a, &ca, za, error))
        return FALSE;
    if (!r->image_b)
        end_latent(m, r->seed_b, cb, zb);
    else if (!encode_one(m->vae, r->image_b, &cb, zb, error))
        return FALSE;
    g_autofree float *z = g_new(float, (gsize)n * L);
    g_autofree float *mix = g_new0(float, (gsize)n * MAX(K, 1));
    for (int i = 0; i < n; i++) {
        const float t = (float)i / (float)(n - 1);
        float *zi = z + (gsize)i * L;
        if (m->dcgan)
            slerp(za, zb, t, L, zi);
        else
            for (int k = 0; k < L; k++)
                zi[k] = (1.0f - t) * za[k] + t * zb[k];
        if (K > 0) {
            mix[(gsize)i * K + ca] += 1.0f - t;
            mix[(gsize)i * K + cb] += t;
        }
    }
    g_autofree float *out = g_new(float, n * P);
    if (!decode(m, z, K > 0 ? mix : NULL, n, out, job, error))
        return FALSE;
    const float lo = value_lo(m);
    /* a strip: one row (of 8 at most, so a long walk stays legible) */
    g_autoptr(AigcImage) grid = aigc_image_preview_grid(out, n, C, S, lo, 1.0f, MIN(n, 8));
    aigc_image_report_preview(job, grid, "interpolation");
    AigcImageGenResult *res = g_new0(AigcImageGenResult, 1);
    res->n = n;
    res->images = g_new0(AigcImage *, n);
    for (int i = 0; i < n; i++)
        res->images[i] = aigc_image_from_floats(out + i * P, C, S, S, lo, 1.0f);
    res->seed = r->seed_a;
    g_autofree char *prompt =
        K > 0 ? g_strdup_printf("%s → %s", class_label(m, ca), class_label(m, cb))
              : g_strdup("unconditional");
    res->class_name = K > 0 ? g_strdup(prompt) : NULL; /* the gallery's title: both ends */
    g_autofree char *seed_a = r->image_a ? g_strdup("image") : format_seed(r->seed_a);
    g_autofree char *seed_b = r->image_b ? g_strdup("image") : format_seed(r->seed_b);
    g_autofree char *seeds = g_strdup_printf("%s → %s", seed_a, seed_b);
    g_autofree char *size = g_strdup_printf("%dx%d", S, S);
    g_autofree char *count = g_strdup_printf("%d", n);
    const char *keys[] = {"Sampler", "Seed", "Interpolation", "Images", "Size", "Model", NULL};
    const char *values[] = {m->dcgan ? "DCGAN" : "VAE", seeds, m->dcgan ? "slerp" : "linear",
                            count, size, m->name, NULL};
    res->parameters = aigc_png_format_parameters(prompt, keys, values);
    res->seconds = (g_get_monotonic_time() - t0) / 1e6;
    aigc_job_report_progress(job, 1.0, NULL);
    aigc_job_set_result(job, res, (GDestroyNotify)aigc_image_gen_result_free);
    return TRUE;
}

AigcJob *aigc_image_interpolate_job_new(AigcImageModel *model,
                                        const AigcImageInterpParams *params, GError **error)
{
    g_return_val_if_fail(model && params, NULL);
    if (!(aigc_image_model_get_caps(model) & AIGC_IMAGE_CAP_INTERPOLATE)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s (%s) has no latent space to walk: interpolation needs a DCGAN or a VAE",
                    model->name, aigc_image_model_get_family(model));
        return NULL;
    }
    if (params->n < 2 || params->n > 64) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "an interpolation has 2 … 64 images, not %d", params->n);
        return NULL;
    }
    if ((params->image_a || params->image_b) && !model->vae) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s (a DCGAN) has no encoder: the ends of its interpolations are seeds",
                    model->name);
        return NULL;
    }
    const int K = n_classes(model);
    int ca = -1, cb = -1;
    const char *names[2] = {params->class_a, params->class_b};
    int *found[2] = {&ca, &cb};
    for (int e = 0; e < 2; e++) {
        if (!names[e] || !*names[e])
            continue;
        if (K == 0) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "%s draws without classes; leave the classes empty", model->name);
            return NULL;
        }
        if ((*found[e] = find_class(model, names[e], error)) < 0)
            return NULL;
    }
    if (ca < 0)
        ca = cb;
    if (cb < 0)
        cb = ca;
    if (K > 0 && ca < 0 && !(params->image_a && params->image_b)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "choose a class for the ends of the interpolation");
        return NULL;
    }
    InterpRun *r = g_new0(InterpRun, 1);
    r->model = aigc_image_model_ref(model);
    r->class_a = ca;
    r->class_b = cb;
    r->seed_a = params->seed_a >= 0 ? (guint64)params->seed_a : aigc_image_random_seed();
    r->seed_b = params->seed_b >= 0 ? (guint64)params->seed_b : aigc_image_random_seed();
    const int C = aigc_image_model_get_channels(model), S = aigc_image_model_get_size(model);
    if (params->image_a)
        r->image_a = aigc_image_model_floats(params->image_a, C, S, 0, 1);
    if (params->image_b)
        r->image_b = aigc_image_model_floats(params->image_b, C, S, 0, 1);
    r->n = params->n;
    return aigc_job_new("interpolate images", run_interpolate, r, interp_run_free);
}

/* ---- reconstruct ---- */

AigcImage *aigc_image_model_reconstruct(AigcImageModel *model, const AigcImage *image,
                                        const char *class_name, int *i_class, GError **error)
{
    g_return_val_if_fail(model && image, NULL);
    if (!model->vae) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s (%s) has no encoder: only a VAE reconstructs images", model->name,
                    aigc_image_model_get_family(model));
        return NULL;
    }
    const int K = n_classes(model), L = latent_dim(model);
    const int C = aigc_image_model_get_channels(model), S = aigc_image_model_get_size(model);
    int k = -1;
    if (class_name && *class_name && K > 0 && (k = find_class(model, class_name, error)) < 0)
        return NULL;
    g_autofree float *x = aigc_image_model_floats(image, C, S, 0, 1);
    g_autofree float *mu = g_new(float, L);
    if (!encode_one(model->vae, x, &k, mu, error))
        return NULL;
    g_autofree float *mix = g_new0(float, MAX(K, 1));
    if (K > 0)
        mix[k] = 1.0f;
    g_autofree float *out = g_new(float, (gsize)C * S * S);
    if (!aigc_vae_decode_images(model->vae, mu, K > 0 ? mix : NULL, 1, out, NULL, error))
        return NULL;
    if (i_class)
        *i_class = k;
    return aigc_image_from_floats(out, C, S, S, 0.0f, 1.0f);
}

/* ---- judging ---- */

gboolean aigc_image_model_eval_sample(gpointer data, const gint32 *labels, gint64 n, guint64 seed,
                                      float *images, AigcJob *job, GError **error)
{
    AigcImageModel *m = data;
    if (m->dcgan)
        return aigc_dcgan_eval_sample(m->dcgan, labels, n, seed, images, job, error);
    if (m->vae)
        return aigc_vae_eval_sample(m->vae, labels, n, seed, images, job, error);
    AigcDiffusionEvalSampler sampler = {.model = m->diffusion,
                                        .params = aigc_diffusion_sample_default_params()};
    return aigc_diffusion_eval_sample(&sampler, labels, n, seed, images, job, error);
}
