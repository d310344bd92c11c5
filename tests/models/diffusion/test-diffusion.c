/* SPDX-License-Identifier: MIT
 *
 * The diffusion model: configs checked and round-tripped; the UNet's ε̂ equals PyTorch's on the
 * same weights (tests/reference/diffusion_goldens.py) and so do both noise schedules; finite
 * differences agree with the gradients of the UNet (input and a spread of parameters) and of the
 * fused group norm + SiLU; a tiny UNet learns to denoise 8 images; DDIM with eta 0 is
 * deterministic and each image independent of its batch; DDPM equals DDIM with eta 1; samplers
 * call back once per step and honour img2img strength, inpainting masks and a stop request; bad
 * sampler parameters, classes and files are refused with messages; save and load keep the
 * network; the training job gives the same model for the same seed, and the same model when
 * stopped and resumed.
 */
#include "aigc-test-jobs.h"
#include "aigc-test-support.h"
#include "io/aigc-idx.h"
#include "models/diffusion/aigc-ddpm.h"
#include "models/diffusion/aigc-diffusion-ops.h"
#include "models/diffusion/aigc-diffusion-train.h"
#include "models/diffusion/aigc-winograd.h"
#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *dir;
static AigcFashionMnist test_set; /* the Fashion-MNIST test split: images for the small tests */

/* 8×8 × 2 channels, widths 4 and 8, 2-head attention at 4×4, 3 classes: the golden's config. */
static AigcDiffusionConfig tiny_config(void)
{
    AigcDiffusionConfig c = aigc_diffusion_default_config();
    c.image_size = 8;
    c.channels = 2;
    c.ch = 4;
    c.n_levels = 2;
    c.ch_mult[0] = 1;
    c.ch_mult[1] = 2;
    c.ch_mult[2] = 0;
    c.n_heads = 2;
    c.norm_groups = 2;
    c.dropout = 0.0f;
    c.n_classes = 3;
    return c;
}

/* Every parameter random and non-zero (DDPM's zero-initialised convs would hide the gradients
 * of everything before them). */
static AigcDiffusion *tiny_model(guint64 seed)
{
    AigcDiffusionConfig c = tiny_config();
    AigcDiffusion *m = aigc_diffusion_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    AigcParams *params = aigc_diffusion_get_params(m);
    for (guint i = 0; i < aigc_params_get_n(params); i++) {
        AigcTensor *t = aigc_params_get(params, i);
        float bound = t->n_dims == 1 ? 0.3f : 1.0f / sqrtf((float)(t->n_elements / t->shape[0]));
        aigc_rng_fill_uniform(&rng, t->data, t->n_elements, -bound, bound);
        if (strstr(t->name, "norm") && g_str_has_suffix(t->name, ".weight"))
            for (gint64 k = 0; k < t->n_elements; k++)
                t->data[k] += 1.0f;
    }
    return m;
}

static gint64 tiny_values(void)
{
    return 2 * 8 * 8;
}

/* ---- config ---- */

static void test_config(void)
{
    AigcDiffusionConfig c = aigc_diffusion_default_config();
    g_assert_true(aigc_diffusion_config_validate(&c, NULL));
    GError *error = NULL;
    g_assert_true(aigc_diffusion_config_set(&c, "ch_mult", "1,2,2,4", &error));
    g_assert_cmpint(c.n_levels, ==, 4);
    g_assert_cmpint(c.ch_mult[3], ==, 4);
    /* 28 is not divisible by 8: four levels do not fit */
    g_assert_false(aigc_diffusion_config_validate(&c, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "image_size"));
    g_clear_error(&error);
    g_assert_true(aigc_diffusion_config_set(&c, "image_size", "32", NULL));
    g_assert_true(aigc_diffusion_config_set(&c, "schedule", "linear", NULL));
    g_assert_true(aigc_diffusion_config_set(&c, "dropout", "0.25", NULL));
    g_assert_true(aigc_diffusion_config_validate(&c, NULL));
    g_autofree char *json = aigc_diffusion_config_to_json(&c);
    AigcDiffusionConfig back;
    g_assert_true(aigc_diffusion_config_from_json(&back, json, &error));
    g_assert_no_error(error);
    g_autofree char *json2 = aigc_diffusion_config_to_json(&back);
    g_assert_cmpstr(json, ==, json2);

    const struct {
        const char *key, *value, *fault;
    } bad[] = {
        {"ch_mult", "1,0", "ch_mult"},     {"ch_mult", "1,2,3,4,5", "ch_mult"},
        {"schedule", "sigmoid", "cosine"}, {"dropout", "1", "dropout"},
        {"depth", "3", "unknown"},         {"ch", "12x", "not a valid number"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        AigcDiffusionConfig d = aigc_diffusion_default_config();
        g_assert_false(aigc_diffusion_config_set(&d, bad[i].key, bad[i].value, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, bad[i].fault));
        g_clear_error(&error);
    }
    const struct {
        const char *key, *value, *fault;
    } invalid[] = {
        {"norm_groups", "5", "norm_groups"},
        {"n_heads", "3", "n_heads"},
        {"n_timesteps", "5", "n_timesteps"},
        {"ch", "0", "ch"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(invalid); i++) {
        AigcDiffusionConfig d = aigc_diffusion_default_config();
        g_assert_true(aigc_diffusion_config_set(&d, invalid[i].key, invalid[i].value, NULL));
        g_assert_false(aigc_diffusion_config_validate(&d, &error));
        g_assert_nonnull(strstr(error->message, invalid[i].fault));
        g_clear_error(&error);
    }
    g_assert_false(aigc_diffusion_config_from_json(&back, "{\"ch\": 4}", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_clear_error(&error);
    g_assert_false(aigc_diffusion_config_from_json(&back, "[1, 2", &error));
    g_clear_error(&error);
}

/* ---- against PyTorch ---- */

static void test_golden(void)
{
    g_autoptr(AigcSafetensors) st = aigc_test_open_golden("diffusion");
    GError *error = NULL;
    g_autoptr(AigcDiffusion) m = aigc_diffusion_load(st, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_diffusion_get_class_name(m, 2), ==, "Triangle");
    g_assert_cmpint(aigc_diffusion_find_class(m, "square", NULL), ==, 1);
    gint64 n;
    const float *x = aigc_test_golden_data(st, "x", &n);
    const float *t = aigc_test_golden_data(st, "t", NULL);
    const float *want = aigc_test_golden_data(st, "eps", NULL);
    const AigcSafetensorsTensor *ct = aigc_safetensors_find(st, "classes");
    gint32 classes[4];
    g_assert_nonnull(ct);
    g_assert_cmpint(ct->dtype, ==, AIGC_DTYPE_I32);
    g_assert_cmpuint(ct->n_bytes, ==, sizeof classes);
    memcpy(classes, ct->data, sizeof classes); /* little-endian, as this machine */
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_ctx_set_training(ctx, FALSE);
    AigcTensor *xt = aigc_tensor_from_data(ctx, 4, (gint64[]){4, 2, 8, 8}, x);
    AigcTensor *eps = aigc_diffusion_forward(ctx, m, xt, t, classes);
    g_assert_cmpint(eps->n_elements, ==, n);
    aigc_test_assert_close(eps->data, want, n, 1e-4, 2e-5, "UNet eps vs PyTorch");

    /* the schedules */
    const char *names[] = {"alphas_cumprod.cosine", "alphas_cumprod.linear"};
    AigcBetaSchedule kinds[] = {AIGC_BETA_COSINE, AIGC_BETA_LINEAR};
    for (int k = 0; k < 2; k++) {
        gint64 T;
        const float *ref = aigc_test_golden_data(st, names[k], &T);
        g_assert_cmpint(T, ==, 1000);
        double abar[1000];
        aigc_beta_schedule_alphas_cumprod(kinds[k], 1000, abar);
        float got[1000];
        for (int i = 0; i < 1000; i++) {
            got[i] = (float)abar[i];
            if (i > 0)
                g_assert_cmpfloat(abar[i], <, abar[i - 1]);
        }
        aigc_test_assert_close(got, ref, 1000, 1e-6, 1e-12, names[k]);
    }
    const double *abar = aigc_diffusion_get_alphas_cumprod(m);
    g_assert_cmpfloat(abar[0], >, 0.9999);
    g_assert_cmpfloat(abar[999], <, 1e-4);
}

/* ---- gradients ---- */

typedef struct {
    AigcDiffusion *m;
    const float *t;
    const gint32 *classes;
} UnetCase;

static AigcTensor *unet_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    UnetCase *uc = data;
    return aigc_diffusion_forward(ctx, uc->m, in[0], uc->t, uc->classes);
}

static void test_gradcheck(void)
{
    g_autoptr(AigcDiffusion) m = tiny_model(3);
    AigcParams *params = aigc_diffusion_get_params(m);
    const char *names[] = {
        "conv_in.weight",
        "time_embed.0.weight",
        "class_embed.weight",
        "down.0.res.0.conv1.weight",
        "down.0.res.0.norm2.bias",
        "down.1.res.0.skip.weight",
        "down.1.attn.0.qkv.weight",
        "mid.attn.proj.weight",
        "mid.res.1.temb_proj.weight",
        "up.1.attn.0.norm.weight",
        "up.1.upsample.weight",
        "up.0.res.0.conv2.bias",
        "norm_out.weight",
        "conv_out.weight",
    };
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    AigcTensor *in[1 + G_N_ELEMENTS(names)];
    in[0] = aigc_test_leaf(&rng, 4, (gint64[]){3, 2, 8, 8}, -1.0f, 1.0f, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        in[1 + i] = aigc_params_find(params, names[i]);
        g_assert_nonnull(in[1 + i]);
    }
    const float t[3] = {3.0f, 250.0f, 900.0f};
    const gint32 classes[3] = {2, AIGC_DIFFUSION_NULL_CLASS, 0};
    UnetCase uc = {m, t, classes};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 12;
    p.training = FALSE;
    p.eps = 1e-2;
    p.atol = 3e-3;
    p.rtol = 3e-2;
    aigc_assert_gradcheck(unet_fn, G_N_ELEMENTS(in), in, &uc, &p);
    aigc_tensor_free_leaf(in[0]);
}

static AigcTensor *gn_silu_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return aigc_groupnorm_silu(ctx, in[0], GPOINTER_TO_INT(data), in[1], in[2], 1e-5f);
}

static AigcTensor *gn_silu_reference(AigcCtx *ctx, AigcTensor *const *in, int groups)
{
    return aigc_silu(ctx, aigc_groupnorm(ctx, in[0], groups, in[1], in[2], 1e-5f));
}

static void test_groupnorm_silu(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 5);
    const int shapes[][4] = {{3, 6, 5, 7}, {2, 8, 28, 28}, {1, 4, 1, 1}};
    const int groups[] = {3, 4, 2};
    for (guint s = 0; s < G_N_ELEMENTS(shapes); s++) {
        const int N = shapes[s][0], C = shapes[s][1], H = shapes[s][2], W = shapes[s][3];
        AigcTensor *in[3] = {
            aigc_test_leaf(&rng, 4, (gint64[]){N, C, H, W}, -2.0f, 3.0f, TRUE),
            aigc_test_leaf(&rng, 1, (gint64[]){C}, 0.5f, 1.5f, TRUE),
            aigc_test_leaf(&rng, 1, (gint64[]){C}, -0.5f, 0.5f, TRUE),
        };
        /* finite differences where float32 sums are still exact enough (small tensors) */
        AigcGradcheckParams p = aigc_gradcheck_default_params();
        if (in[0]->n_elements < 1000)
            aigc_assert_gradcheck(gn_silu_fn, 3, in, GINT_TO_POINTER(groups[s]), &p);
        /* forward and gradients equal the unfused pair (a 28×28 map too) */
        g_autoptr(AigcCtx) ctx = aigc_ctx_new();
        gint64 n = in[0]->n_elements;
        g_autofree float *dy = g_new(float, n);
        aigc_rng_fill_uniform(&rng, dy, n, -1.0f, 1.0f);
        float *grads[2][3] = {{NULL}};
        float *outs[2];
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < 3; i++)
                aigc_tensor_zero_grad(in[i]);
            AigcTensor *y = k ? gn_silu_reference(ctx, in, groups[s])
                              : aigc_groupnorm_silu(ctx, in[0], groups[s], in[1], in[2], 1e-5f);
            outs[k] = y->data;
            aigc_ctx_backward_from(ctx, y, dy);
            for (int i = 0; i < 3; i++)
                grads[k][i] = g_memdup2(in[i]->grad, in[i]->n_elements * sizeof(float));
        }
        aigc_test_assert_close(outs[0], outs[1], n, 1e-5, 1e-6, "fused forward");
        for (int i = 0; i < 3; i++)
            aigc_test_assert_close(grads[0][i], grads[1][i], in[i]->n_elements, 1e-4, 1e-5,
                                   "fused backward");
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < 3; i++)
                g_free(grads[k][i]);
        for (int i = 0; i < 3; i++)
            aigc_tensor_free_leaf(in[i]);
    }
}

/* The Winograd 3×3 convolution equals im2col's (aigc_conv2d, stride 1, padding 1): output and
 * every gradient, on even, odd and one-pixel maps, with and without bias. */
static void test_winograd(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 9);
    const int shapes[][5] = {/* N, C, H, W, OC */
                             {2, 3, 8, 8, 5}, {3, 4, 7, 7, 2},   {1, 2, 5, 6, 3},
                             {2, 1, 1, 1, 4}, {5, 8, 28, 28, 6}, {4, 16, 3, 9, 1}};
    for (guint s = 0; s < G_N_ELEMENTS(shapes); s++) {
        const int N = shapes[s][0], C = shapes[s][1], H = shapes[s][2], W = shapes[s][3],
                  OC = shapes[s][4];
        AigcTensor *in[3] = {
            aigc_test_leaf(&rng, 4, (gint64[]){N, C, H, W}, -1.0f, 1.0f, TRUE),
            aigc_test_leaf(&rng, 4, (gint64[]){OC, C, 3, 3}, -0.5f, 0.5f, TRUE),
            aigc_test_leaf(&rng, 1, (gint64[]){OC}, -0.5f, 0.5f, TRUE),
        };
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            g_autoptr(AigcCtx) ctx = aigc_ctx_new();
            const gint64 n_out = (gint64)N * OC * H * W;
            g_autofree float *dy = g_new(float, n_out);
            aigc_rng_fill_uniform(&rng, dy, n_out, -1.0f, 1.0f);
            float *grads[2][3] = {{NULL}};
            float *outs[2];
            AigcTensor *b = with_bias ? in[2] : NULL;
            for (int k = 0; k < 2; k++) {
                for (int i = 0; i < 3; i++)
                    aigc_tensor_zero_grad(in[i]);
                AigcTensor *y = k ? aigc_conv2d(ctx, in[0], in[1], b, 1, 1)
                                  : aigc_conv3x3(ctx, in[0], in[1], b);
                g_assert_cmpint(y->n_elements, ==, n_out);
                outs[k] = y->data;
                aigc_ctx_backward_from(ctx, y, dy);
                for (int i = 0; i < 3; i++)
                    grads[k][i] = g_memdup2(in[i]->grad, in[i]->n_elements * sizeof(float));
            }
            aigc_test_assert_close(outs[0], outs[1], n_out, 1e-4, 1e-5, "winograd forward");
            const char *what[] = {"winograd dx", "winograd dw", "winograd db"};
            for (int i = 0; i < 3; i++) {
                if (i == 2 && !with_bias)
                    continue;
                aigc_test_assert_close(grads[0][i], grads[1][i], in[i]->n_elements, 1e-4, 1e-4,
                                       what[i]);
            }
            for (int k = 0; k < 2; k++)
                for (int i = 0; i < 3; i++)
                    g_free(grads[k][i]);
        }
        for (int i = 0; i < 3; i++)
            aigc_tensor_free_leaf(in[i]);
    }
}

/* ---- learning ---- */

/* A small UNet learns 8 Fashion-MNIST images (the central 24×24 averaged 3×3 down to 8×8): its
 * denoising loss on fixed (t, ε) draws falls well below where it started. */
static void test_overfit(void)
{
    enum { B = 8, S = 8 };
    float x0[B * S * S];
    gint32 labels[B];
    for (int b = 0; b < B; b++) {
        labels[b] = test_set.labels[b] % 3;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                float sum = 0;
                for (int dy = 0; dy < 3; dy++)
                    for (int dx = 0; dx < 3; dx++)
                        sum +=
                            test_set
                                .images[(gint64)b * 784 + (2 + 3 * y + dy) * 28 + 2 + 3 * x + dx];
                x0[(b * S + y) * S + x] = 2.0f * sum / 9.0f - 1.0f;
            }
    }
    AigcDiffusionConfig c = tiny_config();
    c.image_size = S;
    c.channels = 1;
    c.ch = 8;
    c.norm_groups = 4;
    c.n_heads = 2;
    g_autoptr(AigcDiffusion) m = aigc_diffusion_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    aigc_diffusion_init_weights(m, &rng);
    AigcParams *params = aigc_diffusion_get_params(m);
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, NULL, params);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    /* the loss on 4 fixed draws of (t, ε) per image, without learning */
    double before = 0, after = 0;
    for (int phase = 0; phase < 2; phase++) {
        double *sum = phase ? &after : &before;
        for (int k = 0; k < 4; k++) {
            AigcRng fixed;
            aigc_rng_init(&fixed, 100 + k);
            aigc_ctx_reset(ctx);
            aigc_ctx_set_grad_enabled(ctx, FALSE);
            *sum += aigc_diffusion_loss(ctx, m, x0, labels, B, 0.0f, &fixed, NULL)->data[0] / 4;
            aigc_ctx_set_grad_enabled(ctx, TRUE);
        }
        for (int step = 0; phase == 0 && step < 200; step++) {
            aigc_ctx_reset(ctx);
            aigc_params_zero_grad(params);
            AigcTensor *loss = aigc_diffusion_loss(ctx, m, x0, labels, B, 0.1f, &rng, NULL);
            aigc_ctx_backward(ctx, loss);
            aigc_clip_grad_norm(params, 1.0);
            aigc_optimizer_step(opt, 4e-3f);
        }
    }
    g_test_message("denoising loss %.4f before, %.4f after", before, after);
    g_assert_cmpfloat(before, >, 0.9);
    g_assert_cmpfloat(after, <, 0.35 * before);
}

/* ---- sampling ---- */

typedef struct {
    int calls, last_step, n_steps;
    int stop_at;
} StepLog;

static gboolean log_step(int step, int n_steps, const float *x0, int n, gpointer data)
{
    StepLog *log = data;
    log->calls++;
    g_assert_cmpint(step, ==, log->last_step + 1);
    log->last_step = step;
    log->n_steps = n_steps;
    for (gint64 i = 0; i < n * tiny_values(); i++)
        g_assert_true(x0[i] >= -1.0f && x0[i] <= 1.0f);
    return log->stop_at == 0 || step < log->stop_at;
}

static void test_sample_deterministic(void)
{
    g_autoptr(AigcDiffusion) m = tiny_model(4);
    const gint64 P = tiny_values();
    gint32 classes[3] = {0, 1, 2};
    float a[3 * 128], b[3 * 128], one[128];
    AigcDiffusionSampleParams p = aigc_diffusion_sample_default_params();
    p.steps = 7;
    p.seed = 42;
    GError *error = NULL;
    g_assert_true(aigc_diffusion_sample(m, &p, classes, 3, a, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(aigc_diffusion_sample(m, &p, classes, 3, b, NULL, NULL));
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    for (gint64 i = 0; i < 3 * P; i++)
        g_assert_true(a[i] >= -1.0f && a[i] <= 1.0f);
    /* image 0 alone is image 0 of the batch */
    g_assert_true(aigc_diffusion_sample(m, &p, classes, 1, one, NULL, NULL));
    aigc_test_assert_close(one, a, P, 1e-4, 1e-5, "image independent of its batch");
    /* another seed, another image; eta > 0 adds noise along the way */
    p.seed = 43;
    g_assert_true(aigc_diffusion_sample(m, &p, classes, 3, b, NULL, NULL));
    g_assert_true(memcmp(a, b, sizeof a) != 0);
    p.seed = 42;
    p.eta = 1.0f;
    g_assert_true(aigc_diffusion_sample(m, &p, classes, 3, b, NULL, NULL));
    g_assert_true(memcmp(a, b, sizeof a) != 0);
    /* DDPM is DDIM with eta 1 (same noise, same order) */
    float ddpm[3 * 128];
    p.sampler = AIGC_SAMPLER_DDPM;
    g_assert_true(aigc_diffusion_sample(m, &p, classes, 3, ddpm, NULL, NULL));
    aigc_test_assert_close(ddpm, b, 3 * P, 1e-3, 1e-4, "DDPM = DDIM(eta 1)");
    /* guidance 1 is the class alone, and differs from guided */
    p.sampler = AIGC_SAMPLER_DDIM;
    p.eta = 0.0f;
    p.guidance = 1.0f;
    g_assert_true(aigc_diffusion_sample(m, &p, classes, 3, b, NULL, NULL));
    g_assert_true(memcmp(a, b, sizeof a) != 0);
}

static void test_sample_steps(void)
{
    g_autoptr(AigcDiffusion) m = tiny_model(5);
    const gint64 P = tiny_values();
    gint32 classes[2] = {1, AIGC_DIFFUSION_NULL_CLASS};
    float out[2 * 128];
    int tau[1000];
    aigc_diffusion_timesteps(1000, 7, tau);
    g_assert_cmpint(tau[0], ==, 141);
    g_assert_cmpint(tau[6], ==, 999);
    aigc_diffusion_timesteps(1000, 1000, tau);
    for (int i = 0; i < 1000; i++)
        g_assert_cmpint(tau[i], ==, i);
    const int step_counts[] = {1, 3, 20};
    for (guint k = 0; k < G_N_ELEMENTS(step_counts); k++) {
        for (int sampler = 0; sampler < 2; sampler++) {
            StepLog log = {0};
            AigcDiffusionSampleParams p = aigc_diffusion_sample_default_params();
            p.sampler = sampler ? AIGC_SAMPLER_DDPM : AIGC_SAMPLER_DDIM;
            p.steps = step_counts[k];
            p.step_func = log_step;
            p.user_data = &log;
            g_assert_true(aigc_diffusion_sample(m, &p, classes, 2, out, NULL, NULL));
            g_assert_cmpint(log.calls, ==, step_counts[k]);
            g_assert_cmpint(log.n_steps, ==, step_counts[k]);
        }
    }
    /* img2img: ⌈steps·strength⌉ steps; a light touch stays near the init image */
    float init[128];
    for (gint64 i = 0; i < P; i++)
        init[i] = (i % 8 < 4) ? 0.8f : -0.6f;
    StepLog log = {0};
    AigcDiffusionSampleParams p = aigc_diffusion_sample_default_params();
    p.steps = 20;
    p.init = init;
    p.strength = 0.26f;
    p.step_func = log_step;
    p.user_data = &log;
    g_assert_true(aigc_diffusion_sample(m, &p, classes, 2, out, NULL, NULL));
    g_assert_cmpint(log.calls, ==, 6);
    double dist[2] = {0, 0}; /* strength 0.05 (one step from t = 49), then 1 */
    p.step_func = NULL;
    for (int k = 0; k < 2; k++) {
        p.strength = k ? 1.0f : 0.05f;
        g_assert_true(aigc_diffusion_sample(m, &p, classes, 2, out, NULL, NULL));
        for (gint64 i = 0; i < P; i++)
            dist[k] += fabs(out[i] - init[i]) / P;
    }
    g_test_message("mean distance to the init image: %.3f (strength 0.05), %.3f (1)", dist[0],
                   dist[1]);
    g_assert_cmpfloat(dist[0], <, 0.3);
    g_assert_cmpfloat(dist[0], <, 0.3 * dist[1]);
    /* inpainting: the kept half (mask 0) is the init image exactly, the rest is repainted */
    float mask[64];
    for (int i = 0; i < 64; i++)
        mask[i] = i < 32 ? 0.0f : 1.0f;
    p.strength = 1.0f;
    p.mask = mask;
    g_assert_true(aigc_diffusion_sample(m, &p, classes, 2, out, NULL, NULL));
    double changed = 0;
    for (int b = 0; b < 2; b++)
        for (gint64 i = 0; i < P; i++) {
            float got = out[b * P + i];
            if (mask[i % 64] == 0.0f)
                g_assert_cmpfloat(got, ==, init[i]);
            else
                changed += fabs(got - init[i]);
        }
    g_assert_cmpfloat(changed, >, 1.0);
    /* a stop request from the callback: CANCELLED after that step */
    StepLog stop = {.stop_at = 2};
    p.mask = NULL;
    p.init = NULL;
    p.step_func = log_step;
    p.user_data = &stop;
    GError *error = NULL;
    g_assert_false(aigc_diffusion_sample(m, &p, classes, 2, out, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
    g_assert_cmpint(stop.calls, ==, 2);
    g_clear_error(&error);
}

static gboolean do_nothing(AigcJob *job, gpointer params, GError **error)
{
    return TRUE;
}

static void test_sample_bad_params(void)
{
    g_autoptr(AigcDiffusion) m = tiny_model(6);
    gint32 classes[1] = {0};
    float out[128], init[128] = {0}, mask[64];
    for (int i = 0; i < 64; i++)
        mask[i] = 0.5f;
    const struct {
        int steps;
        float guidance, eta, strength;
        gboolean with_init, with_mask;
        float mask_value;
        const char *fault;
    } cases[] = {
        {0, 3, 0, 1, FALSE, FALSE, 0, "steps must be 1 … 1000"},
        {100000, 3, 0, 1, FALSE, FALSE, 0, "not 100000"},
        {10, -1, 0, 1, FALSE, FALSE, 0, "guidance"},
        {10, 31, 0, 1, FALSE, FALSE, 0, "guidance scale must be 0 … 30"},
        {10, NAN, 0, 1, FALSE, FALSE, 0, "guidance"},
        {10, 3, 1.5f, 1, FALSE, FALSE, 0, "eta"},
        {10, 3, 0, 0, TRUE, FALSE, 0, "strength"},
        {10, 3, 0, 1.5f, TRUE, FALSE, 0, "strength"},
        {10, 3, 0, 1, FALSE, TRUE, 0, "needs an init image"},
        {10, 3, 0, 1, TRUE, TRUE, 2.0f, "mask values"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        AigcDiffusionSampleParams p = aigc_diffusion_sample_default_params();
        p.steps = cases[i].steps;
        p.guidance = cases[i].guidance;
        p.eta = cases[i].eta;
        p.strength = cases[i].strength;
        p.init = cases[i].with_init ? init : NULL;
        p.mask = cases[i].with_mask ? mask : NULL;
        if (cases[i].mask_value)
            mask[10] = cases[i].mask_value;
        GError *error = NULL;
        g_assert_false(aigc_diffusion_sample(m, &p, classes, 1, out, NULL, &error));
        g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
        if (!strstr(error->message, cases[i].fault))
            g_error("case %u: “%s” does not mention “%s”", i, error->message, cases[i].fault);
        g_clear_error(&error);
        mask[10] = 0.5f;
    }
    /* classes */
    AigcDiffusionSampleParams p = aigc_diffusion_sample_default_params();
    p.steps = 2;
    GError *error = NULL;
    gint32 unknown[1] = {3};
    g_assert_false(aigc_diffusion_sample(m, &p, unknown, 1, out, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "unknown class 3"));
    g_clear_error(&error);
    g_assert_cmpint(aigc_diffusion_find_class(m, "Sneaker", &error), ==, -1);
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "“Sneaker”"));
    g_assert_nonnull(strstr(error->message, "0, 1, 2"));
    g_clear_error(&error);
    g_assert_cmpint(aigc_diffusion_find_class(m, "2", NULL), ==, 2);
    AigcSamplerKind kind;
    g_assert_false(aigc_sampler_from_name("euler", &kind, &error));
    g_assert_nonnull(strstr(error->message, "euler"));
    g_clear_error(&error);
    g_assert_true(aigc_sampler_from_name("DDPM", &kind, NULL));
    g_assert_cmpint(kind, ==, AIGC_SAMPLER_DDPM);
    /* a job that is cancelled stops the sampling */
    g_autoptr(AigcJob) job = aigc_job_new("sample", do_nothing, NULL, NULL);
    aigc_job_cancel(job);
    g_assert_false(aigc_diffusion_sample(m, &p, classes, 1, out, job, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_CANCELLED);
    g_clear_error(&error);
}

/* The sampler that `aigc eval image` judges: gray images in [0, 1], the same for the same seed,
 * in batches of 64 (image i of batch b seeded seed + b); colour models are refused. */
static void test_eval_sample(void)
{
    AigcDiffusionConfig c = tiny_config();
    c.channels = 1;
    g_autoptr(AigcDiffusion) m = aigc_diffusion_new(&c);
    AigcRng rng;
    aigc_rng_init(&rng, 8);
    aigc_diffusion_init_weights(m, &rng);
    AigcDiffusionEvalSampler es = {.model = m, .params = aigc_diffusion_sample_default_params()};
    es.params.steps = 2;
    enum { N = 70 };
    gint32 labels[N];
    for (int i = 0; i < N; i++)
        labels[i] = i % 3;
    g_autofree float *a = g_new(float, N * 64);
    g_autofree float *b = g_new(float, N * 64);
    GError *error = NULL;
    g_assert_true(aigc_diffusion_eval_sample(&es, labels, N, 5, a, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(aigc_diffusion_eval_sample(&es, labels, N, 5, b, NULL, NULL));
    g_assert_cmpmem(a, N * 64 * sizeof(float), b, N * 64 * sizeof(float));
    for (int i = 0; i < N * 64; i++)
        g_assert_true(a[i] >= 0.0f && a[i] <= 1.0f);
    /* the second batch (images 64…) is seeded 6: as the first images of a call seeded 6 */
    g_assert_true(aigc_diffusion_eval_sample(&es, labels + 64, 6, 6, b, NULL, NULL));
    aigc_test_assert_close(b, a + 64 * 64, 6 * 64, 1e-5, 1e-6, "batches seeded in turn");
    g_autoptr(AigcDiffusion) rgb = tiny_model(9);
    AigcDiffusionEvalSampler bad = {.model = rgb, .params = es.params};
    g_assert_false(aigc_diffusion_eval_sample(&bad, labels, 2, 5, a, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED);
    g_clear_error(&error);
}

/* ---- files ---- */

static void test_save_load(void)
{
    g_autoptr(AigcDiffusion) m = tiny_model(7);
    const char *names[] = {"Circle", "Square", "Triangle"};
    aigc_diffusion_set_class_names(m, names);
    g_autofree char *path = g_build_filename(dir, "tiny.safetensors", NULL);
    GError *error = NULL;
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_diffusion_save(m, w, AIGC_DTYPE_F32, &error));
        g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, &error));
        g_assert_no_error(error);
    }
    g_autoptr(AigcDiffusion) back = aigc_diffusion_load_file(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_diffusion_get_class_name(back, 1), ==, "Square");
    AigcParams *a = aigc_diffusion_get_params(m), *b = aigc_diffusion_get_params(back);
    g_assert_cmpint(aigc_params_get_n_elements(a), ==, aigc_params_get_n_elements(b));
    g_assert_cmpmem(aigc_params_get_data(a), aigc_params_get_n_elements(a) * sizeof(float),
                    aigc_params_get_data(b), aigc_params_get_n_elements(b) * sizeof(float));
    gint32 classes[1] = {2};
    float x1[128], x2[128];
    AigcDiffusionSampleParams p = aigc_diffusion_sample_default_params();
    p.steps = 3;
    g_assert_true(aigc_diffusion_sample(m, &p, classes, 1, x1, NULL, NULL));
    g_assert_true(aigc_diffusion_sample(back, &p, classes, 1, x2, NULL, NULL));
    g_assert_cmpmem(x1, sizeof x1, x2, sizeof x2);

    /* damaged files: each refused with a message naming the fault */
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    const struct {
        const char *key, *value, *fault;
    } bad[] = {
        {"family", "gpt", "not a diffusion model"},
        {"diffusion.config", "{\"ch\": 4", "not JSON"},
        {"diffusion.config",
         "{\"image_size\": 8, \"channels\": 2, \"ch\": 4, \"ch_mult\": [1, 2], \"n_res_blocks\": "
         "1, \"n_heads\": 2, \"norm_groups\": 3, \"dropout\": 0, \"n_classes\": 3, "
         "\"schedule\": \"cosine\", \"n_timesteps\": 1000}",
         "norm_groups"},
        {"diffusion.config",
         "{\"image_size\": 8, \"channels\": 2, \"ch\": 8, \"ch_mult\": [1, 2], \"n_res_blocks\": "
         "1, \"n_heads\": 2, \"norm_groups\": 2, \"dropout\": 0, \"n_classes\": 3, "
         "\"schedule\": \"cosine\", \"n_timesteps\": 1000}",
         "disagrees with the config"},
        {"diffusion.config",
         "{\"image_size\": 8, \"channels\": 2, \"ch\": 4, \"ch_mult\": [1, 2], \"n_res_blocks\": "
         "2, \"n_heads\": 2, \"norm_groups\": 2, \"dropout\": 0, \"n_classes\": 3, "
         "\"schedule\": \"cosine\", \"n_timesteps\": 1000}",
         "is missing"},
        {"diffusion.classes", "[\"a\", \"b\"]", "3 class names"},
        {"diffusion.classes", "[\"a\", \"b\", \"A\"]", "repeated"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *copy = g_build_filename(dir, "bad.safetensors", NULL);
        const char *keys[] = {bad[i].key, NULL}, *values[] = {bad[i].value, NULL};
        g_assert_true(g_file_set_contents(copy, "", 0, NULL));
        g_autofree char *contents = NULL;
        gsize len;
        g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
        g_assert_true(g_file_set_contents(copy, contents, (gssize)len, NULL));
        g_assert_true(aigc_safetensors_update_metadata(copy, keys, values, &error));
        g_assert_no_error(error);
        AigcDiffusion *d = aigc_diffusion_load_file(copy, &error);
        g_assert_null(d);
        g_assert_nonnull(error);
        if (!strstr(error->message, bad[i].fault))
            g_error("case %u: “%s” does not mention “%s”", i, error->message, bad[i].fault);
        g_clear_error(&error);
        g_unlink(copy);
    }
    g_unlink(path);
}

/* ---- the training job ---- */


/* A training set of the first n test images, as IDX files in `folder` (the training job reads
 * {train-images-idx3,train-labels-idx1}-ubyte): small, so a job starts at once. */
static void write_small_fashion(const char *folder, int n)
{
    g_autofree guint8 *pixels = g_new(guint8, (gsize)n * 784);
    g_autofree guint8 *labels = g_new(guint8, n);
    for (gint64 k = 0; k < (gint64)n * 784; k++)
        pixels[k] = (guint8)lrintf(test_set.images[k] * 255.0f);
    for (int i = 0; i < n; i++)
        labels[i] = (guint8)test_set.labels[i];
    aigc_test_write_fashion(folder, n, pixels, labels);
}

static AigcDiffusionTrainParams *small_run(const char *output, gint64 steps)
{
    AigcDiffusionTrainParams *p = aigc_diffusion_train_params_new();
    p->output = g_strdup(output);
    p->data_dir = g_strdup(dir);
    const char *sets[][2] = {
        {"ch", "8"},
        {"norm_groups", "4"},
        {"n_heads", "1"},
        {"batch_size", "4"},
        {"limit_train", "48"},
        {"warmup", "2"},
        {"sample_every", "3"},
        {"sample_steps", "2"},
        {"sample_columns", "1"},
        {"checkpoint_every", "2"},
        {"dropout", "0.1"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(sets); i++)
        g_assert_true(aigc_diffusion_train_params_set(p, sets[i][0], sets[i][1], NULL));
    p->steps = steps;
    return p;
}



static float *read_weights(const char *path, gint64 *n)
{
    GError *error = NULL;
    g_autoptr(AigcDiffusion) m = aigc_diffusion_load_file(path, &error);
    g_assert_no_error(error);
    AigcParams *params = aigc_diffusion_get_params(m);
    *n = aigc_params_get_n_elements(params);
    return g_memdup2(aigc_params_get_data(params), *n * sizeof(float));
}

static void test_train_job(void)
{
    g_autofree char *a = g_build_filename(dir, "a.safetensors", NULL);
    g_autofree char *b = g_build_filename(dir, "b.safetensors", NULL);
    {
        g_autoptr(AigcJob) job = aigc_diffusion_train_job_new(small_run(a, 6));
        g_assert_cmpint(aigc_test_run_training(job, FALSE), ==, AIGC_JOB_SUCCEEDED);
        AigcDiffusionTrainResult *r = aigc_job_get_result(job);
        g_assert_cmpint(r->steps_done, ==, 6);
        g_assert_true(isfinite(r->train_loss));
        g_assert_nonnull(r->samples_path);
        g_assert_true(g_str_has_suffix(r->samples_path, "a.step-0000006.png"));
        g_autoptr(GHashTable) text = NULL;
        g_autoptr(AigcImage) grid = aigc_png_read(r->samples_path, NULL, &text, NULL);
        g_assert_nonnull(grid);
        /* one row per class, one column: 10 rows of 28 + gutters */
        g_assert_cmpint(grid->height, >, 10 * 28);
        g_assert_cmpint(grid->width, <, 2 * 28);
        g_assert_nonnull(strstr(g_hash_table_lookup(text, "parameters"), "Training step: 6"));
    }
    {
        /* stopped after step 3 (it saves before stopping) and resumed: the uninterrupted model */
        g_autoptr(AigcJob) first = aigc_diffusion_train_job_new(small_run(b, 6));
        g_assert_cmpint(aigc_test_run_training(first, TRUE), ==, AIGC_JOB_CANCELLED);
        AigcDiffusionTrainParams *p = small_run(b, 6);
        p->resume = TRUE;
        g_autoptr(AigcJob) second = aigc_diffusion_train_job_new(p);
        g_assert_cmpint(aigc_test_run_training(second, FALSE), ==, AIGC_JOB_SUCCEEDED);
    }
    gint64 na, nb;
    g_autofree float *wa = read_weights(a, &na);
    g_autofree float *wb = read_weights(b, &nb);
    g_assert_cmpint(na, ==, nb);
    g_assert_cmpmem(wa, na * sizeof(float), wb, nb * sizeof(float));
    GError *error = NULL;
    g_autoptr(AigcDiffusion) m = aigc_diffusion_load_file(a, &error);
    g_assert_cmpstr(aigc_diffusion_get_class_name(m, 7), ==, "Sneaker");
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(a, &error);
    g_assert_nonnull(strstr(aigc_safetensors_get_metadata(st, "training"), "\"steps\": 6"));

    /* a model the data cannot feed is refused before training */
    AigcDiffusionTrainParams *p = small_run(a, 2);
    g_assert_true(aigc_diffusion_train_params_set(p, "image_size", "32", NULL));
    g_autoptr(AigcJob) job = aigc_diffusion_train_job_new(p);
    g_assert_cmpint(aigc_test_run_training(job, FALSE), ==, AIGC_JOB_FAILED);
    g_assert_nonnull(strstr(aigc_job_get_error(job)->message, "28×28"));
    g_assert_false(aigc_diffusion_train_params_set(p, "sample_guidance", "40", &error));
    g_clear_error(&error);
}

/* Text conditioning: words looked up in the vocabulary (case, punctuation and unknown words
 * handled), the mean of their embeddings as the condition — so the gradient reaches exactly the
 * rows of the words used — and the null condition for a row without words. */
static void test_text(void)
{
    AigcDiffusionConfig c = tiny_config();
    c.n_classes = 5;
    c.text_len = 3;
    g_assert_true(aigc_diffusion_config_validate(&c, NULL));
    g_autofree char *json = aigc_diffusion_config_to_json(&c);
    AigcDiffusionConfig back;
    g_assert_true(aigc_diffusion_config_from_json(&back, json, NULL));
    g_assert_cmpint(back.text_len, ==, 3);
    AigcDiffusionConfig bad = c;
    bad.n_classes = 0;
    g_assert_false(aigc_diffusion_config_validate(&bad, NULL));
    g_autoptr(AigcDiffusion) m = aigc_diffusion_new(&c);
    const char *vocab[] = {"apple", "face", "green", "red", "smiling", NULL};
    aigc_diffusion_set_class_names(m, vocab);
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    /* random weights everywhere (DDPM's zero-initialised output layers would stop gradients) */
    AigcParams *all = aigc_diffusion_get_params(m);
    for (guint i = 0; i < aigc_params_get_n(all); i++) {
        AigcTensor *w = aigc_params_get(all, i);
        aigc_rng_fill_uniform(&rng, w->data, w->n_elements, -0.3f, 0.3f);
    }

    gint32 ids[6];
    g_autofree char *unknown = NULL;
    g_assert_cmpint(aigc_diffusion_encode_text(m, "Red, shiny APPLE!", ids, &unknown, NULL), ==, 2);
    g_assert_cmpint(ids[0], ==, 3);
    g_assert_cmpint(ids[1], ==, 0);
    g_assert_cmpint(ids[2], ==, AIGC_DIFFUSION_NULL_CLASS);
    g_assert_cmpstr(unknown, ==, "shiny");
    /* at most text_len words */
    g_assert_cmpint(aigc_diffusion_encode_text(m, "red green red apple face", ids, NULL, NULL), ==,
                    3);
    GError *error = NULL;
    g_assert_cmpint(aigc_diffusion_encode_text(m, "purple banana", ids, NULL, &error), ==, 0);
    g_assert_nonnull(strstr(error->message, "purple banana"));
    g_clear_error(&error);
    g_assert_cmpint(aigc_diffusion_encode_text(m, "  \xff ", ids, NULL, &error), ==, 0);
    g_assert_nonnull(strstr(error->message, "empty"));
    g_clear_error(&error);
    g_auto(GStrv) words = aigc_diffusion_text_words("Grinning face—with big eyes (1F603)");
    g_assert_cmpuint(g_strv_length(words), ==, 6);
    g_assert_cmpstr(words[5], ==, "1f603");

    /* The loss's gradient reaches the rows of "red" and "apple" and the null row, no others. */
    const gint64 P = (gint64)c.channels * c.image_size * c.image_size;
    g_autofree float *x0 = g_new(float, 2 * P);
    aigc_rng_fill_uniform(&rng, x0, 2 * P, -1, 1);
    gint32 cond[6] = {3, 0, AIGC_DIFFUSION_NULL_CLASS, AIGC_DIFFUSION_NULL_CLASS,
                      AIGC_DIFFUSION_NULL_CLASS, AIGC_DIFFUSION_NULL_CLASS};
    AigcParams *params = aigc_diffusion_get_params(m);
    AigcTensor *table = aigc_params_find(params, "class_embed.weight");
    g_assert_nonnull(table);
    g_assert_cmpint(table->shape[0], ==, 6);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    aigc_params_zero_grad(params);
    AigcTensor *loss = aigc_diffusion_loss(ctx, m, x0, cond, 2, 0.0f, &rng, NULL);
    aigc_ctx_backward(ctx, loss);
    const gint64 E = table->shape[1];
    for (int row = 0; row < 6; row++) {
        double g = 0;
        for (gint64 e = 0; e < E; e++)
            g += fabs(table->grad[row * E + e]);
        if (row == 0 || row == 3 || row == 5)
            g_assert_cmpfloat(g, >, 0);
        else
            g_assert_cmpfloat(g, ==, 0);
    }
    /* the sampler takes text conditions too, with guidance */
    AigcDiffusionSampleParams sp = aigc_diffusion_sample_default_params();
    sp.steps = 2;
    g_autofree float *out = g_new(float, 2 * P);
    g_assert_true(aigc_diffusion_sample(m, &sp, cond, 2, out, NULL, NULL));
    for (gint64 i = 0; i < 2 * P; i++)
        g_assert_true(isfinite(out[i]));
    cond[1] = 5; /* out of the vocabulary */
    g_assert_false(aigc_diffusion_sample(m, &sp, cond, 2, out, NULL, &error));
    g_clear_error(&error);
}

/* The emoji: a text model of their names trains on the committed 16-emoji sample, its grid has
 * one row per prompt, and its vocabulary is the words of the names. */
static void test_train_emoji(void)
{
    g_autofree char *out = g_build_filename(dir, "emoji.safetensors", NULL);
    AigcDiffusionTrainParams *p = small_run(out, 2);
    g_free(p->data);
    p->data = g_strdup("emoji");
    g_free(p->data_dir);
    p->data_dir = g_test_build_filename(G_TEST_DIST, "data", "emoji-sample",
                                        "emoji-sample.safetensors", NULL);
    g_assert_true(aigc_diffusion_train_params_set(p, "ch_mult", "1,2", NULL));
    g_assert_true(aigc_diffusion_train_params_set(p, "sample_every", "0", NULL));
    g_autoptr(AigcJob) job = aigc_diffusion_train_job_new(p);
    g_assert_cmpint(aigc_test_run_training(job, FALSE), ==, AIGC_JOB_SUCCEEDED);
    AigcDiffusionTrainResult *r = aigc_job_get_result(job);
    g_autoptr(GHashTable) text = NULL;
    g_autoptr(AigcImage) grid = aigc_png_read(r->samples_path, NULL, &text, NULL);
    g_assert_nonnull(grid);
    g_assert_cmpint(grid->channels, >=, 3); /* colour */
    g_assert_cmpint(grid->height, >, 8 * 32);
    g_assert_nonnull(strstr(g_hash_table_lookup(text, "parameters"), "one row per prompt: "));
    GError *error = NULL;
    g_autoptr(AigcDiffusion) m = aigc_diffusion_load_file(out, &error);
    g_assert_no_error(error);
    const AigcDiffusionConfig *c = aigc_diffusion_get_config(m);
    g_assert_cmpint(c->text_len, ==, 8);
    g_assert_cmpint(c->channels, ==, 3);
    g_assert_cmpint(c->image_size, ==, 32);
    gint32 ids[8];
    g_assert_cmpint(aigc_diffusion_encode_text(m, "grinning face", ids, NULL, NULL), ==, 2);
    /* Fashion-MNIST cannot feed a text model */
    AigcDiffusionTrainParams *q = small_run(out, 1);
    g_assert_true(aigc_diffusion_train_params_set(q, "text_len", "4", NULL));
    g_autoptr(AigcJob) bad = aigc_diffusion_train_job_new(q);
    g_assert_cmpint(aigc_test_run_training(bad, FALSE), ==, AIGC_JOB_FAILED);
    g_assert_nonnull(strstr(aigc_job_get_error(bad)->message, "text_len"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    dir = g_dir_make_tmp("aigc-diffusion-XXXXXX", NULL);
    GError *error = NULL;
    if (!aigc_fashion_mnist_load(NULL, FALSE, &test_set, &error))
        g_error("%s", error->message);
    write_small_fashion(dir, 64);
    g_test_add_func("/models/diffusion/config", test_config);
    g_test_add_func("/models/diffusion/golden", test_golden);
    g_test_add_func("/models/diffusion/gradcheck", test_gradcheck);
    g_test_add_func("/models/diffusion/groupnorm-silu", test_groupnorm_silu);
    g_test_add_func("/models/diffusion/winograd", test_winograd);
    g_test_add_func("/models/diffusion/overfit", test_overfit);
    g_test_add_func("/models/diffusion/sample/deterministic", test_sample_deterministic);
    g_test_add_func("/models/diffusion/sample/steps", test_sample_steps);
    g_test_add_func("/models/diffusion/sample/bad-params", test_sample_bad_params);
    g_test_add_func("/models/diffusion/sample/eval", test_eval_sample);
    g_test_add_func("/models/diffusion/save-load", test_save_load);
    g_test_add_func("/models/diffusion/train-job", test_train_job);
    g_test_add_func("/models/diffusion/text", test_text);
    g_test_add_func("/models/diffusion/train-emoji", test_train_emoji);
    int status = g_test_run();
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
    g_free(dir);
    aigc_fashion_mnist_clear(&test_set);
    return status;
}
