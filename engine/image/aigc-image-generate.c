/* SPDX-License-Identifier: MIT
 *
 * Image generation jobs (see aigc-image-generate.h): loading, the diffusion job, and the
 * dispatch to the one-pass families of aigc-image-latent.c.
 */
#include "image/aigc-image-generate.h"
#include "image/aigc-image-model-private.h"

#include "aigc-error.h"

#include <string.h>

AigcImageModel *aigc_image_model_load(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return NULL;
    const char *family = aigc_safetensors_get_metadata(st, "family");
    AigcDiffusion *d = NULL;
    AigcDcgan *g = NULL;
    AigcVae *v = NULL;
    if (g_strcmp0(family, AIGC_DIFFUSION_FAMILY) == 0)
        d = aigc_diffusion_load(st, error);
    else if (g_strcmp0(family, AIGC_DCGAN_FAMILY) == 0)
        g = aigc_dcgan_load(st, error);
    else if (g_strcmp0(family, AIGC_VAE_FAMILY) == 0)
        v = aigc_vae_load(st, error);
    else {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s: not an image model this version can draw with (family “%s”)", path,
                    family ? family : "none");
        return NULL;
    }
    if (!d && !g && !v) {
        g_prefix_error(error, "%s: ", path);
        return NULL;
    }
    AigcImageModel *m = g_new0(AigcImageModel, 1);
    m->ref_count = 1;
    m->path = g_strdup(path);
    g_autofree char *base = g_path_get_basename(path);
    m->name = g_str_has_suffix(base, ".safetensors")
                  ? g_strndup(base, strlen(base) - strlen(".safetensors"))
                  : g_strdup(base);
    m->diffusion = d;
    m->dcgan = g;
    m->vae = v;
    return m;
}

AigcImageModel *aigc_image_model_ref(AigcImageModel *model)
{
    g_atomic_int_inc(&model->ref_count);
    return model;
}

void aigc_image_model_unref(AigcImageModel *model)
{
    if (!model || !g_atomic_int_dec_and_test(&model->ref_count))
        return;
    aigc_diffusion_free(model->diffusion);
    aigc_dcgan_free(model->dcgan);
    aigc_vae_free(model->vae);
    g_free(model->path);
    g_free(model->name);
    g_free(model);
}

const char *aigc_image_model_get_family(AigcImageModel *model)
{
    return model->dcgan ? AIGC_DCGAN_FAMILY : model->vae ? AIGC_VAE_FAMILY : AIGC_DIFFUSION_FAMILY;
}

AigcImageCaps aigc_image_model_get_caps(AigcImageModel *model)
{
    if (model->dcgan)
        return AIGC_IMAGE_CAP_INTERPOLATE;
    if (model->vae)
        return AIGC_IMAGE_CAP_IMG2IMG | AIGC_IMAGE_CAP_INTERPOLATE | AIGC_IMAGE_CAP_RECONSTRUCT;
    AigcImageCaps caps = AIGC_IMAGE_CAP_STEPS | AIGC_IMAGE_CAP_IMG2IMG | AIGC_IMAGE_CAP_INPAINT;
    if (aigc_diffusion_get_config(model->diffusion)->text_len > 0)
        caps |= AIGC_IMAGE_CAP_PROMPT;
    return caps;
}

const char *aigc_image_model_get_name(AigcImageModel *model)
{
    return model->name;
}

int aigc_image_model_get_size(AigcImageModel *model)
{
    if (model->dcgan)
        return aigc_dcgan_get_config(model->dcgan)->image_size;
    if (model->vae)
        return aigc_vae_get_config(model->vae)->image_size;
    return aigc_diffusion_get_config(model->diffusion)->image_size;
}

int aigc_image_model_get_channels(AigcImageModel *model)
{
    if (model->dcgan)
        return aigc_dcgan_get_config(model->dcgan)->channels;
    if (model->vae)
        return aigc_vae_get_config(model->vae)->channels;
    return aigc_diffusion_get_config(model->diffusion)->channels;
}

int aigc_image_model_get_n_classes(AigcImageModel *model)
{
    if (model->dcgan)
        return aigc_dcgan_get_config(model->dcgan)->n_classes;
    if (model->vae)
        return aigc_vae_get_config(model->vae)->n_classes;
    return aigc_diffusion_get_config(model->diffusion)->n_classes;
}

const char *aigc_image_model_get_class_name(AigcImageModel *model, int i)
{
    if (model->dcgan)
        return aigc_dcgan_get_class_name(model->dcgan, i);
    if (model->vae)
        return aigc_vae_get_class_name(model->vae, i);
    return aigc_diffusion_get_class_name(model->diffusion, i);
}

int aigc_image_model_get_max_steps(AigcImageModel *model)
{
    if (!model->diffusion)
        return 1; /* one pass */
    return aigc_diffusion_get_config(model->diffusion)->n_timesteps;
}

AigcImageGenParams aigc_image_gen_default_params(void)
{
    return (AigcImageGenParams){
        .sampler = AIGC_SAMPLER_DDIM,
        .steps = 50,
        .eta = 0.0f,
        .guidance = 3.0f,
        .seed = -1,
        .batch = 1,
        .strength = 0.75f,
        .preview_every = 2,
    };
}

void aigc_image_gen_result_free(AigcImageGenResult *result)
{
    if (!result)
        return;
    for (int i = 0; i < result->n; i++)
        aigc_image_free(result->images[i]);
    g_free(result->images);
    g_free(result->parameters);
    g_free(result->class_name);
    g_free(result);
}

typedef struct {
    AigcImageModel *model;
    AigcDiffusionSampleParams sample;
    int i_class; /* AIGC_DIFFUSION_NULL_CLASS when none */
    gint32 *text;  /* (nullable) a text model's prompt as text_len word ids */
    char *prompt;  /* (nullable) that prompt as given */
    char *unknown; /* (nullable) its words the model does not know */
    int batch, preview_every;
    float *init;  /* (nullable) (channels, S, S) in [−1, 1] */
    float *mask;  /* (nullable) (S, S) in [0, 1] */
    AigcJob *job; /* borrowed while running */
    guint64 seed;
} Run;

static void run_free(gpointer data)
{
    Run *r = data;
    aigc_image_model_unref(r->model);
    g_free(r->text);
    g_free(r->prompt);
    g_free(r->unknown);
    g_free(r->init);
    g_free(r->mask);
    g_free(r);
}

guint64 aigc_image_random_seed(void)
{
    return ((guint64)g_random_int() << 31 ^ g_random_int()) & G_MAXINT64;
}

AigcImage *aigc_image_preview_grid(const float *x, int n, int C, int S, float lo, float hi,
                                   int columns)
{
    g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func((GDestroyNotify)aigc_image_free);
    for (int i = 0; i < n; i++) {
        g_autoptr(AigcImage) img =
            aigc_image_from_floats(x + (gsize)i * C * S * S, C, S, S, lo, hi);
        g_ptr_array_add(images, aigc_image_convert(img, 4, NULL));
    }
    static const guint8 gutter[4] = {0x30, 0x30, 0x30, 0xff};
    return aigc_image_grid((AigcImage *const *)images->pdata, n, columns, n > 1 ? 1 : 0, gutter,
                           NULL);
}

void aigc_image_report_preview(AigcJob *job, const AigcImage *grid, const char *label)
{
    if (!grid)
        return;
    AigcPreview *p = aigc_preview_new(AIGC_PREVIEW_IMAGE_RGBA8, label,
                                      g_bytes_new(grid->data,
                                                  (gsize)grid->width * grid->height * 4));
    p->width = grid->width;
    p->height = grid->height;
    aigc_job_report_preview(job, p);
}

static gboolean on_step(int step, int n_steps, const float *x0_pred, int n, gpointer user_data)
{
    Run *r = user_data;
    aigc_job_report_progress(r->job, (double)step / n_steps, NULL);
    if (r->preview_every > 0 && (step % r->preview_every == 0 || step == n_steps)) {
        const AigcDiffusionConfig *c = aigc_diffusion_get_config(r->model->diffusion);
        g_autoptr(AigcImage) grid =
            aigc_image_preview_grid(x0_pred, n, c->channels, c->image_size, -1, 1, 0);
        g_autofree char *label = g_strdup_printf("step %d/%d", step, n_steps);
        aigc_image_report_preview(r->job, grid, label);
    }
    return !aigc_job_is_cancelled(r->job);
}

static char *parameters_text(Run *r)
{
    const AigcDiffusionConfig *c = aigc_diffusion_get_config(r->model->diffusion);
    const char *prompt = r->prompt  ? r->prompt
                         : r->i_class >= 0
                             ? aigc_diffusion_get_class_name(r->model->diffusion, r->i_class)
                             : "unconditional";
    g_autofree char *steps = g_strdup_printf("%d", r->sample.steps);
    g_autofree char *cfg = g_strdup_printf("%g", r->sample.guidance);
    g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, r->seed);
    g_autofree char *size = g_strdup_printf("%dx%d", c->image_size, c->image_size);
    g_autofree char *eta = g_strdup_printf("%g", r->sample.eta);
    g_autofree char *strength = g_strdup_printf("%g", r->sample.strength);
    const char *keys[11], *values[11];
    int k = 0;
#define KV(key, value) (keys[k] = (key), values[k] = (value), k++)
    KV("Steps", steps);
    KV("Sampler", r->sample.sampler == AIGC_SAMPLER_DDIM ? "DDIM" : "DDPM");
    KV("CFG scale", cfg);
    KV("Seed", seed);
    KV("Size", size);
    KV("Model", r->model->name);
    if (r->sample.sampler == AIGC_SAMPLER_DDIM && r->sample.eta > 0)
        KV("Eta", eta);
    if (r->init)
        KV("Denoising strength", strength);
    if (r->mask)
        KV("Inpaint", "masked region");
    if (r->unknown && *r->unknown)
        KV("Unknown words", r->unknown);
#undef KV
    keys[k] = values[k] = NULL;
    return aigc_png_format_parameters(prompt, keys, values);
}

static gboolean run_job(AigcJob *job, gpointer data, GError **error)
{
    Run *r = data;
    r->job = job;
    const AigcDiffusionConfig *c = aigc_diffusion_get_config(r->model->diffusion);
    const int C = c->channels, S = c->image_size, n = r->batch;
    gint64 t0 = g_get_monotonic_time();
    const int T = r->text ? c->text_len : 1;
    g_autofree gint32 *classes = g_new(gint32, (gsize)n * T);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < T; j++)
            classes[(gsize)i * T + j] = r->text ? r->text[j] : r->i_class;
    g_autofree float *out = g_new(float, (gsize)n * C * S * S);
    r->sample.step_func = on_step;
    r->sample.user_data = r;
    if (!aigc_diffusion_sample(r->model->diffusion, &r->sample, c->n_classes > 0 ? classes : NULL,
                               n, out, job, error))
        return FALSE;
    AigcImageGenResult *res = g_new0(AigcImageGenResult, 1);
    res->n = n;
    res->images = g_new0(AigcImage *, n);
    for (int i = 0; i < n; i++)
        res->images[i] = aigc_image_from_floats(out + (gsize)i * C * S * S, C, S, S, -1, 1);
    res->seed = r->seed;
    res->parameters = parameters_text(r);
    res->class_name =
        r->prompt        ? g_strdup(r->prompt)
        : r->i_class >= 0 ? g_strdup(aigc_diffusion_get_class_name(r->model->diffusion, r->i_class))
                          : NULL;
    res->seconds = (g_get_monotonic_time() - t0) / 1e6;
    aigc_job_set_result(job, res, (GDestroyNotify)aigc_image_gen_result_free);
    return TRUE;
}

float *aigc_image_model_floats(const AigcImage *img, int channels, int S, float lo, float hi)
{
    /* Fashion-MNIST draws light on black; colour models draw on white. */
    static const guint8 black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
    g_autoptr(AigcImage) conv = aigc_image_convert(img, channels, channels == 1 ? black : white);
    g_autoptr(AigcImage) sized = aigc_image_resize(conv, S, S);
    float *out = g_new(float, (gsize)channels * S * S);
    aigc_image_to_floats(sized, lo, hi, out);
    return out;
}

AigcJob *aigc_image_generate_job_new(AigcImageModel *model, const AigcImageGenParams *params,
                                     GError **error)
{
    g_return_val_if_fail(model && params, NULL);
    if (!model->diffusion)
        return aigc_image_latent_generate_job_new(model, params, error);
    const AigcDiffusionConfig *c = aigc_diffusion_get_config(model->diffusion);
    if (params->batch < 1 || params->batch > 64) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "batch must be 1 … 64, not %d", params->batch);
        return NULL;
    }
    int i_class = AIGC_DIFFUSION_NULL_CLASS;
    g_autofree gint32 *text = NULL;
    g_autofree char *unknown = NULL;
    if (c->text_len > 0) {
        if (params->class_name && *params->class_name) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "%s draws from a prompt, not a class: describe what to draw",
                        model->name);
            return NULL;
        }
        const char *prompt = params->prompt ? params->prompt : "";
        text = g_new(gint32, c->text_len);
        if (aigc_diffusion_encode_text(model->diffusion, prompt, text, &unknown, error) == 0)
            return NULL;
    } else if (params->prompt && *params->prompt) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "%s draws classes, not free text: choose a class", model->name);
        return NULL;
    } else if (params->class_name && *params->class_name) {
        if (c->n_classes == 0) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "%s draws without classes; leave the class empty", model->name);
            return NULL;
        }
        i_class = aigc_diffusion_find_class(model->diffusion, params->class_name, error);
        if (i_class < 0)
            return NULL;
    }
    if (params->mask && !params->init) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "a mask needs an image to inpaint (the canvas)");
        return NULL;
    }
    if (params->mask && (params->mask->width != params->init->width ||
                         params->mask->height != params->init->height)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "the mask is %d×%d but the image is %d×%d; they must be the same size",
                    params->mask->width, params->mask->height, params->init->width,
                    params->init->height);
        return NULL;
    }
    Run *r = g_new0(Run, 1);
    r->model = aigc_image_model_ref(model);
    r->i_class = i_class;
    r->text = g_steal_pointer(&text);
    r->prompt = r->text ? g_strstrip(g_strdup(params->prompt)) : NULL;
    r->unknown = g_steal_pointer(&unknown);
    r->batch = params->batch;
    r->preview_every = MAX(params->preview_every, 0);
    r->seed = params->seed >= 0 ? (guint64)params->seed : aigc_image_random_seed();
    r->sample = aigc_diffusion_sample_default_params();
    r->sample.sampler = params->sampler;
    r->sample.steps = params->steps;
    r->sample.eta = params->eta;
    r->sample.guidance = params->guidance;
    r->sample.seed = r->seed;
    if (params->init) {
        r->init = aigc_image_model_floats(params->init, c->channels, c->image_size, -1, 1);
        r->sample.init = r->init;
        r->sample.strength = params->strength;
    }
    if (params->mask) {
        r->mask = aigc_image_model_floats(params->mask, 1, c->image_size, 0, 1);
        r->sample.mask = r->mask;
    }
    if (!aigc_diffusion_sample_params_validate(model->diffusion, &r->sample, error)) {
        run_free(r);
        return NULL;
    }
    return aigc_job_new("generate images", run_job, r, run_free);
}
