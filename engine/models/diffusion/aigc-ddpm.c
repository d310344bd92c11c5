/* SPDX-License-Identifier: MIT
 *
 * DDPM loss and the DDIM / DDPM samplers. Legend: n images, P = channels·S·S values per image,
 * T timesteps, ᾱ the cumulative product of (1 − β).
 */
#include "aigc-ddpm.h"

#include "aigc-error.h"
#include "nn/aigc-nn.h"

#include <math.h>
#include <string.h>

/* ---- training ---- */

AigcTensor *aigc_diffusion_loss(AigcCtx *ctx, AigcDiffusion *m, const float *x0,
                                const gint32 *classes, int B, float p_uncond, AigcRng *rng,
                                gint32 *t_out)
{
    const AigcDiffusionConfig *c = aigc_diffusion_get_config(m);
    const double *abar = aigc_diffusion_get_alphas_cumprod(m);
    const gint64 P = (gint64)c->channels * c->image_size * c->image_size;
    const gint64 shape[4] = {B, c->channels, c->image_size, c->image_size};
    float *xt = aigc_ctx_alloc_floats(ctx, B * P);  /* (B, P) */
    float *eps = aigc_ctx_alloc_floats(ctx, B * P); /* (B, P) */
    float *t = aigc_ctx_alloc_floats(ctx, B);
    const int T = MAX(c->text_len, 1); /* condition entries per sample */
    gint32 *cls = aigc_ctx_alloc(ctx, (gsize)MAX(B, 1) * T * sizeof(gint32));
    for (int b = 0; b < B; b++) {
        int tb = (int)aigc_rng_below(rng, (guint32)c->n_timesteps);
        const float sa = (float)sqrt(abar[tb]), sb = (float)sqrt(1.0 - abar[tb]);
        float *e = eps + b * P, *x = xt + b * P;
        const float *x0b = x0 + b * P;
        aigc_rng_fill_normal(rng, e, P, 0.0f, 1.0f);
        for (gint64 i = 0; i < P; i++)
            x[i] = sa * x0b[i] + sb * e[i];
        t[b] = (float)tb;
        if (t_out)
            t_out[b] = tb;
        gboolean drop = aigc_rng_uniform(rng) < p_uncond;
        for (int j = 0; j < T; j++)
            cls[b * T + j] = classes && !drop ? classes[b * T + j] : AIGC_DIFFUSION_NULL_CLASS;
    }
    AigcTensor *x = aigc_tensor_wrap(ctx, 4, shape, xt);
    AigcTensor *target = aigc_tensor_wrap(ctx, 4, shape, eps);
    AigcTensor *pred = aigc_diffusion_forward(ctx, m, x, t, cls);
    return aigc_mse_loss(ctx, pred, target);
}

/* ---- samplers ---- */

const char *aigc_sampler_name(AigcSamplerKind sampler)
{
    return sampler == AIGC_SAMPLER_DDPM ? "DDPM" : "DDIM";
}

gboolean aigc_sampler_from_name(const char *name, AigcSamplerKind *sampler, GError **error)
{
    if (g_ascii_strcasecmp(name, "ddim") == 0)
        *sampler = AIGC_SAMPLER_DDIM;
    else if (g_ascii_strcasecmp(name, "ddpm") == 0)
        *sampler = AIGC_SAMPLER_DDPM;
    else {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "unknown sampler “%s” (ddim or ddpm)", name);
        return FALSE;
    }
    return TRUE;
}

AigcDiffusionSampleParams aigc_diffusion_sample_default_params(void)
{
    return (AigcDiffusionSampleParams){
        .sampler = AIGC_SAMPLER_DDIM,
        .steps = 50,
        .eta = 0.0f,
        .guidance = 3.0f,
        .seed = 0,
        .strength = 1.0f,
        .clip_x0 = TRUE,
    };
}

gboolean aigc_diffusion_sample_params_validate(AigcDiffusion *m, const AigcDiffusionSampleParams *p,
                                               GError **error)
{
    const AigcDiffusionConfig *c = aigc_diffusion_get_config(m);
    g_autofree char *fault = NULL;
    if (p->sampler != AIGC_SAMPLER_DDIM && p->sampler != AIGC_SAMPLER_DDPM)
        fault = g_strdup("the sampler must be DDIM or DDPM");
    else if (p->steps < 1 || p->steps > c->n_timesteps)
        fault = g_strdup_printf("steps must be 1 … %d (the model's timesteps), not %d",
                                c->n_timesteps, p->steps);
    else if (!(p->eta >= 0 && p->eta <= 1))
        fault = g_strdup_printf("eta must be 0 … 1, not %g", p->eta);
    else if (!(p->guidance >= 0 && p->guidance <= AIGC_DIFFUSION_MAX_GUIDANCE))
        fault = g_strdup_printf("the guidance scale must be 0 … %g, not %g",
                                AIGC_DIFFUSION_MAX_GUIDANCE, p->guidance);
    else if (p->mask && !p->init)
        fault = g_strdup("a mask needs an init image (inpainting repaints part of one)");
    else if (p->init && !(p->strength > 0 && p->strength <= 1))
        fault = g_strdup_printf("the strength must be in (0, 1], not %g", p->strength);
    const gint64 SS = (gint64)c->image_size * c->image_size;
    for (gint64 i = 0; !fault && p->init && i < SS * c->channels; i++)
        if (!isfinite(p->init[i]))
            fault = g_strdup("the init image holds NaN or infinity");
    for (gint64 i = 0; !fault && p->mask && i < SS; i++)
        if (!(p->mask[i] >= 0 && p->mask[i] <= 1))
            fault = g_strdup_printf("mask values must be 0 … 1 (value %" G_GINT64_FORMAT " is %g)",
                                    i, p->mask[i]);
    if (fault) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID, "%s", fault);
        return FALSE;
    }
    return TRUE;
}

void aigc_diffusion_timesteps(int T, int steps, int *tau)
{
    for (int i = 0; i < steps; i++)
        tau[i] = (int)((gint64)(i + 1) * T / steps) - 1;
}

typedef struct {
    AigcDiffusion *m;
    const AigcDiffusionSampleParams *p;
    int n, nf; /* images; images per forward (2n with guidance) */
    gint64 P;
    gboolean guided;
    AigcCtx *ctx;
    float *tf;     /* (nf) */
    gint32 *cls;   /* (nf) */
    float *x0;     /* (n, P) */
    float *eps;    /* (n, P) */
    AigcRng *rngs; /* (n) one stream per image */
} Sampler;

/* ε̂ for x (n, P) at timestep t into s->eps, guided when s->guided. */
static void predict(Sampler *s, const float *x, int t)
{
    const AigcDiffusionConfig *c = aigc_diffusion_get_config(s->m);
    const gint64 nP = (gint64)s->n * s->P;
    aigc_ctx_reset(s->ctx);
    AigcTensor *xin = aigc_tensor_new4(s->ctx, s->nf, c->channels, c->image_size, c->image_size);
    memcpy(xin->data, x, (gsize)nP * sizeof(float));
    if (s->guided)
        memcpy(xin->data + nP, x, (gsize)nP * sizeof(float));
    for (int b = 0; b < s->nf; b++)
        s->tf[b] = (float)t;
    AigcTensor *e = aigc_diffusion_forward(s->ctx, s->m, xin, s->tf, s->cls);
    if (!s->guided) {
        memcpy(s->eps, e->data, (gsize)nP * sizeof(float));
        return;
    }
    const float g = s->p->guidance;
    const float *ec = e->data, *eu = e->data + nP;
    for (gint64 i = 0; i < nP; i++)
        s->eps[i] = eu[i] + g * (ec[i] - eu[i]);
}

/* One step from timestep t (ᾱ a_t) to the previous one (ᾱ a_prev; 1 at the end): x (n, P) is
 * updated in place, s->x0 receives x̂₀. */
static void update(Sampler *s, float *x, double a_t, double a_prev, gboolean last)
{
    const AigcDiffusionSampleParams *p = s->p;
    const double sa = sqrt(a_t), sb = sqrt(1.0 - a_t);
    double c_x0, c_eps, sigma;
    double c_xt = 0.0; /* DDPM's posterior mean weighs x_t itself */
    if (p->sampler == AIGC_SAMPLER_DDPM) {
        const double beta = 1.0 - a_t / a_prev, alpha = a_t / a_prev;
        c_x0 = sqrt(a_prev) * beta / (1.0 - a_t);
        c_xt = sqrt(alpha) * (1.0 - a_prev) / (1.0 - a_t);
        c_eps = 0.0;
        sigma = sqrt((1.0 - a_prev) / (1.0 - a_t) * beta);
    } else {
        sigma = p->eta * sqrt((1.0 - a_prev) / (1.0 - a_t)) * sqrt(1.0 - a_t / a_prev);
        c_x0 = sqrt(a_prev);
        c_eps = sqrt(MAX(0.0, 1.0 - a_prev - sigma * sigma));
    }
    if (last)
        sigma = 0.0;
    float *z = NULL;
    if (sigma > 0)
        z = aigc_ctx_alloc_floats(s->ctx, s->P);
    for (int b = 0; b < s->n; b++) {
        float *xb = x + b * s->P, *x0 = s->x0 + b * s->P, *e = s->eps + b * s->P;
        if (z)
            aigc_rng_fill_normal(&s->rngs[b], z, s->P, 0.0f, 1.0f);
        for (gint64 i = 0; i < s->P; i++) {
            double xt = xb[i], eps = e[i];
            double x0i = (xt - sb * eps) / sa;
            if (p->clip_x0 && (x0i > 1.0 || x0i < -1.0)) {
                x0i = CLAMP(x0i, -1.0, 1.0);
                eps = (xt - sa * x0i) / sb;
            }
            double next = c_x0 * x0i + c_eps * eps + c_xt * xt;
            if (z)
                next += sigma * z[i];
            x0[i] = (float)x0i;
            xb[i] = (float)next;
        }
    }
}

/* Inpainting: the kept region (mask 0) of x becomes the init image noised to ᾱ a. */
static void impose_known(Sampler *s, float *x, double a, gboolean clean)
{
    const AigcDiffusionSampleParams *p = s->p;
    const gint64 SS = s->P / aigc_diffusion_get_config(s->m)->channels;
    const float sa = (float)sqrt(a), sb = (float)sqrt(MAX(0.0, 1.0 - a));
    float *z = aigc_ctx_alloc_floats(s->ctx, s->P);
    for (int b = 0; b < s->n; b++) {
        float *xb = x + b * s->P;
        if (!clean)
            aigc_rng_fill_normal(&s->rngs[b], z, s->P, 0.0f, 1.0f);
        for (gint64 i = 0; i < s->P; i++) {
            float known = clean ? p->init[i] : sa * p->init[i] + sb * z[i];
            float m = p->mask[i % SS];
            xb[i] = m * xb[i] + (1.0f - m) * known;
        }
    }
}

gboolean aigc_diffusion_sample(AigcDiffusion *m, const AigcDiffusionSampleParams *p,
                               const gint32 *classes, int n, float *out, AigcJob *job,
                               GError **error)
{
    const AigcDiffusionConfig *c = aigc_diffusion_get_config(m);
    if (!aigc_diffusion_sample_params_validate(m, p, error))
        return FALSE;
    if (n < 0 || n > 4096) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the batch must be 0 … 4096 images, not %d", n);
        return FALSE;
    }
    const int K = c->n_classes, T = MAX(c->text_len, 1);
    gboolean any_class = FALSE;
    for (int b = 0; classes && b < n * T; b++) {
        gint32 k = classes[b];
        if (k == AIGC_DIFFUSION_NULL_CLASS)
            continue;
        if (k < 0 || k >= K) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND,
                        K ? "unknown class %d (the model has classes 0 … %d)"
                          : "unknown class %d (the model is unconditional)",
                        k, K - 1);
            return FALSE;
        }
        any_class = TRUE;
    }
    if (n == 0)
        return TRUE;

    Sampler s = {.m = m, .p = p, .n = n};
    s.P = (gint64)c->channels * c->image_size * c->image_size;
    s.guided = any_class && p->guidance != 1.0f && p->guidance != 0.0f;
    s.nf = s.guided ? 2 * n : n;
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    aigc_ctx_set_training(ctx, FALSE);
    s.ctx = ctx;
    g_autofree float *tf = g_new(float, s.nf);
    g_autofree gint32 *cls = g_new(gint32, (gsize)s.nf * T);
    g_autofree float *x0 = g_new(float, n *s.P);
    g_autofree float *eps = g_new(float, n *s.P);
    g_autofree AigcRng *rngs = g_new(AigcRng, n);
    s.tf = tf;
    s.cls = cls;
    s.x0 = x0;
    s.eps = eps;
    s.rngs = rngs;
    for (int b = 0; b < s.nf; b++) {
        /* guided: the classes, then the null class; guidance 0: the null class alone */
        gboolean null = b >= n || !classes || p->guidance == 0.0f;
        for (int j = 0; j < T; j++)
            cls[b * T + j] = null ? AIGC_DIFFUSION_NULL_CLASS : classes[b * T + j];
    }
    AigcRng base;
    aigc_rng_init(&base, p->seed);
    for (int b = 0; b < n; b++)
        rngs[b] = aigc_rng_fork(&base, (guint64)b);

    const double *abar = aigc_diffusion_get_alphas_cumprod(m);
    g_autofree int *tau = g_new(int, p->steps);
    aigc_diffusion_timesteps(c->n_timesteps, p->steps, tau);
    int n_run = p->steps;
    if (p->init)
        n_run = CLAMP((int)ceil(p->steps * (double)p->strength - 1e-9), 1, p->steps);

    /* the start: noise, or the init image noised to the first timestep walked */
    float *x = out;
    const double a0 = abar[tau[n_run - 1]];
    for (int b = 0; b < n; b++) {
        float *xb = x + b * s.P;
        aigc_rng_fill_normal(&rngs[b], xb, s.P, 0.0f, 1.0f);
        if (p->init)
            for (gint64 i = 0; i < s.P; i++)
                xb[i] = (float)(sqrt(a0) * p->init[i] + sqrt(1.0 - a0) * xb[i]);
    }
    for (int i = n_run - 1; i >= 0; i--) {
        const double a_t = abar[tau[i]], a_prev = i > 0 ? abar[tau[i - 1]] : 1.0;
        predict(&s, x, tau[i]);
        update(&s, x, a_t, a_prev, i == 0);
        if (p->mask)
            impose_known(&s, x, a_prev, i == 0);
        int step = n_run - i;
        gboolean go_on = !p->step_func || p->step_func(step, n_run, x0, n, p->user_data);
        if (!go_on || (job && aigc_job_is_cancelled(job))) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED,
                        "sampling stopped after step %d of %d", step, n_run);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- judging ---- */

gboolean aigc_diffusion_eval_sample(gpointer data, const gint32 *labels, gint64 n, guint64 seed,
                                    float *images, AigcJob *job, GError **error)
{
    AigcDiffusionEvalSampler *es = data;
    const AigcDiffusionConfig *c = aigc_diffusion_get_config(es->model);
    if (c->channels != 1) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "only one-channel (gray) diffusion models can be judged, not %d channels",
                    c->channels);
        return FALSE;
    }
    const gint64 P = (gint64)c->image_size * c->image_size, batch = 64;
    AigcDiffusionSampleParams p = es->params;
    for (gint64 b0 = 0; b0 < n; b0 += batch) {
        const int nb = (int)MIN(batch, n - b0);
        p.seed = seed + (guint64)(b0 / batch);
        float *dst = images + b0 * P;
        if (!aigc_diffusion_sample(es->model, &p, labels + b0, nb, dst, job, error))
            return FALSE;
        for (gint64 i = 0; i < nb * P; i++)
            dst[i] = CLAMP(0.5f * (dst[i] + 1.0f), 0.0f, 1.0f);
    }
    return TRUE;
}
