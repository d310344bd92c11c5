/* SPDX-License-Identifier: MIT
 *
 * Activations, softmax / log_softmax over the last dimension, and dropout.
 *
 * The transcendental functions are branch-free polynomial forms (aigc_vexpf, and here Φ and
 * tanh) so the element loops vectorise; their coefficients were fitted for this file by least
 * squares in double precision and are accurate to a few float ulp (tests check them against
 * libm). Each hot kernel is built for baseline x86-64 and for AVX2 + FMA and picks one at run
 * time (AIGC_MAP_DISPATCH, see aigc-elementwise.h).
 *
 * Legend: n elements; N rows of C for the softmaxes; inp / out / dinp / dout as in llm.c.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* See aigc-elementwise.c: the loops here are written to vectorise, -O2 alone would not. */
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math",              \
                     "fp-contract=fast")
#endif

#include "aigc-activation.h"

#include "aigc-elementwise.h"
#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <math.h>

#define GRAIN_CHEAP  (1 << 15)
#define GRAIN_COSTLY (1 << 12)
#define LANES        16

#define SQRT_HALF          0.70710678118654752f
#define INV_SQRT_2PI       0.39894228040143268f
#define SQRT_2_OVER_PI     0.79788456080286536f
#define GELU_TANH_C        0.044715f
#define SOFTPLUS_THRESHOLD 20.0f

/* Φ(x) and e^{−x²/2} (the Gaussian density without its constant), sharing one exp: for
 * a = |x|, erfc(a/√2) = t·Q(t)·e^{−a²/2} with t = 1 / (1 + a/(2√2)) and Q a degree-8 polynomial
 * fitted on a/√2 in [0, 9.3] to 4e-8 (relative). The square is carried exactly and each tail
 * is computed as itself (never as 1 − something tiny), so Φ keeps a relative error below ~6e-7
 * wherever it is a normal float. The coefficients below are Q/2 (halving is exact). */
AIGC_KERNEL_BODY float normal_cdf_and_gauss(float x, float *gauss)
{
    float a = fabsf(x);
    float t = 1.0f / (1.0f + (0.5f * SQRT_HALF) * a);
    float q = -2.940184623e-02f;
    q = q * t + 1.416360736e-01f;
    q = q * t - 2.422413081e-01f;
    q = q * t + 1.374666840e-01f;
    q = q * t - 1.222368702e-02f;
    q = q * t + 1.008779183e-01f;
    q = q * t + 1.216708943e-01f;
    q = q * t + 1.411710829e-01f;
    q = q * t + 1.410441697e-01f;
    float e = aigc_vexpf_neg_half_square(x, 0.0f);
    *gauss = e;
    float h = t * q * e; /* Φ(−|x|) = erfc(|x|/√2) / 2 */
    return x < 0.0f ? h : 1.0f - h;
}

AIGC_KERNEL_BODY float normal_cdf(float x)
{
    float gauss;
    return normal_cdf_and_gauss(x, &gauss);
}

/* tanh: an odd polynomial below 0.625 (fitted), 1 − 2 / (e^{2|x|} + 1) above (no cancellation
 * there since the result is ≥ 0.55). */
AIGC_KERNEL_BODY float vtanhf(float x)
{
    float ax = fabsf(x);
    float z = x * x;
    float q = -6.221785210e-03f;
    q = q * z + 2.108588070e-02f;
    q = q * z - 5.387026817e-02f;
    q = q * z + 1.333290190e-01f;
    q = q * z - 3.333333135e-01f;
    float small = x + x * z * q;
    float big = 1.0f - 2.0f / (aigc_vexpf(2.0f * ax) + 1.0f);
    big = x < 0.0f ? -big : big;
    return ax < 0.625f ? small : big;
}

AIGC_KERNEL_BODY float vsigmoidf(float x)
{
    return 1.0f / (1.0f + aigc_vexpf(-x));
}

float aigc_normal_cdf(float x)
{
    return normal_cdf(x);
}

float aigc_tanhf(float x)
{
    return vtanhf(x);
}

/* ---- range kernels (AigcMapFunc) ---- */

AIGC_KERNEL_BODY void relu_fwd_body(float *restrict out, const float *restrict inp, const float *y,
                                    float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}
AIGC_MAP_DISPATCH(relu_fwd)

AIGC_KERNEL_BODY void relu_bwd_body(float *restrict dinp, const float *restrict dout,
                                    const float *restrict inp, float p, gint64 n)
{
    /* Both sides loaded up front so the select vectorises (a conditional load would not). */
    for (gint64 i = 0; i < n; i++) {
        float g = dout[i];
        dinp[i] += inp[i] > 0.0f ? g : 0.0f;
    }
}
AIGC_MAP_DISPATCH(relu_bwd)

AIGC_KERNEL_BODY void leaky_relu_fwd_body(float *restrict out, const float *restrict inp,
                                          const float *y, float slope, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = inp[i] > 0.0f ? inp[i] : slope * inp[i];
}
AIGC_MAP_DISPATCH(leaky_relu_fwd)

AIGC_KERNEL_BODY void leaky_relu_bwd_body(float *restrict dinp, const float *restrict dout,
                                          const float *restrict inp, float slope, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        dinp[i] += inp[i] > 0.0f ? dout[i] : slope * dout[i];
}
AIGC_MAP_DISPATCH(leaky_relu_bwd)

AIGC_KERNEL_BODY void gelu_fwd_body(float *restrict out, const float *restrict inp, const float *y,
                                    float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = inp[i] * normal_cdf(inp[i]);
}
AIGC_MAP_DISPATCH(gelu_fwd)

/* d/dx x·Φ(x) = Φ(x) + x·φ(x) */
AIGC_KERNEL_BODY void gelu_bwd_body(float *restrict dinp, const float *restrict dout,
                                    const float *restrict inp, float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++) {
        float x = inp[i];
        float gauss;
        float cdf = normal_cdf_and_gauss(x, &gauss);
        dinp[i] += dout[i] * (cdf + x * INV_SQRT_2PI * gauss);
    }
}
AIGC_MAP_DISPATCH(gelu_bwd)

/* 0.5·x·(1 + tanh u) = x·σ(2u), u = √(2/π)·(x + 0.044715·x³): the sigmoid form keeps the
 * negative tail accurate where 1 + tanh u would cancel. */
AIGC_KERNEL_BODY void gelu_tanh_fwd_body(float *restrict out, const float *restrict inp,
                                         const float *y, float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++) {
        float x = inp[i];
        float u2 = 2.0f * SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x);
        out[i] = x * vsigmoidf(u2);
    }
}
AIGC_MAP_DISPATCH(gelu_tanh_fwd)

/* d/dx x·σ(2u) = σ + x·σ·(1 − σ)·2u′ */
AIGC_KERNEL_BODY void gelu_tanh_bwd_body(float *restrict dinp, const float *restrict dout,
                                         const float *restrict inp, float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++) {
        float x = inp[i];
        float u2 = 2.0f * SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x);
        float s = vsigmoidf(u2);
        float du2 = 2.0f * SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_TANH_C * x * x);
        dinp[i] += dout[i] * (s + x * s * (1.0f - s) * du2);
    }
}
AIGC_MAP_DISPATCH(gelu_tanh_bwd)

AIGC_KERNEL_BODY void silu_fwd_body(float *restrict out, const float *restrict inp, const float *y,
                                    float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = inp[i] * vsigmoidf(inp[i]);
}
AIGC_MAP_DISPATCH(silu_fwd)

/* d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x))) */
AIGC_KERNEL_BODY void silu_bwd_body(float *restrict dinp, const float *restrict dout,
                                    const float *restrict inp, float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++) {
        float x = inp[i];
        float s = vsigmoidf(x);
        dinp[i] += dout[i] * s * (1.0f + x * (1.0f - s));
    }
}
AIGC_MAP_DISPATCH(silu_bwd)

AIGC_KERNEL_BODY void tanh_fwd_body(float *restrict out, const float *restrict inp, const float *y,
                                    float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = vtanhf(inp[i]);
}
AIGC_MAP_DISPATCH(tanh_fwd)

AIGC_KERNEL_BODY void tanh_bwd_body(float *restrict dinp, const float *restrict dout,
                                    const float *restrict out, float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
}
AIGC_MAP_DISPATCH(tanh_bwd)

AIGC_KERNEL_BODY void sigmoid_fwd_body(float *restrict out, const float *restrict inp,
                                       const float *y, float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = vsigmoidf(inp[i]);
}
AIGC_MAP_DISPATCH(sigmoid_fwd)

AIGC_KERNEL_BODY void sigmoid_bwd_body(float *restrict dinp, const float *restrict dout,
                                       const float *restrict out, float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
}
AIGC_MAP_DISPATCH(sigmoid_bwd)

/* PyTorch's softplus: x above the threshold, else log(1 + e^x). */
AIGC_KERNEL_BODY void softplus_fwd_body(float *restrict out, const float *restrict inp,
                                        const float *y, float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++) {
        float x = inp[i];
        float e = aigc_vexpf(x > SOFTPLUS_THRESHOLD ? 0.0f : x);
        out[i] = x > SOFTPLUS_THRESHOLD ? x : aigc_vlog1pf(e);
    }
}
AIGC_MAP_DISPATCH(softplus_fwd)

AIGC_KERNEL_BODY void softplus_bwd_body(float *restrict dinp, const float *restrict dout,
                                        const float *restrict inp, float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++) {
        float x = inp[i];
        dinp[i] += x > SOFTPLUS_THRESHOLD ? dout[i] : dout[i] * vsigmoidf(x);
    }
}
AIGC_MAP_DISPATCH(softplus_bwd)

static void mul_range(float *restrict out, const float *restrict x, const float *restrict y,
                      float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = x[i] * y[i];
}

static void mul_acc_range(float *restrict out, const float *restrict x, const float *restrict y,
                          float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] += x[i] * y[i];
}

/* u in [0, 1) → multiplier: kept with probability 1 − p. */
static void dropout_mask_range(float *restrict mask, const float *x, const float *y, float p,
                               gint64 n)
{
    const float keep_scale = 1.0f / (1.0f - p);
    for (gint64 i = 0; i < n; i++)
        mask[i] = mask[i] >= p ? keep_scale : 0.0f;
}

/* ---- public kernels ---- */

void aigc_relu_forward(float *out, const float *inp, gint64 n)
{
    aigc_map_parallel(relu_fwd, out, inp, NULL, 0.0f, n, GRAIN_CHEAP);
}

void aigc_relu_backward(float *dinp, const float *dout, const float *inp, gint64 n)
{
    aigc_map_parallel(relu_bwd, dinp, dout, inp, 0.0f, n, GRAIN_CHEAP);
}

void aigc_leaky_relu_forward(float *out, const float *inp, float slope, gint64 n)
{
    aigc_map_parallel(leaky_relu_fwd, out, inp, NULL, slope, n, GRAIN_CHEAP);
}

void aigc_leaky_relu_backward(float *dinp, const float *dout, const float *inp, float slope,
                              gint64 n)
{
    aigc_map_parallel(leaky_relu_bwd, dinp, dout, inp, slope, n, GRAIN_CHEAP);
}

void aigc_gelu_forward(float *out, const float *inp, gint64 n)
{
    aigc_map_parallel(gelu_fwd, out, inp, NULL, 0.0f, n, GRAIN_COSTLY);
}

void aigc_gelu_backward(float *dinp, const float *dout, const float *inp, gint64 n)
{
    aigc_map_parallel(gelu_bwd, dinp, dout, inp, 0.0f, n, GRAIN_COSTLY);
}

void aigc_gelu_tanh_forward(float *out, const float *inp, gint64 n)
{
    aigc_map_parallel(gelu_tanh_fwd, out, inp, NULL, 0.0f, n, GRAIN_COSTLY);
}

void aigc_gelu_tanh_backward(float *dinp, const float *dout, const float *inp, gint64 n)
{
    aigc_map_parallel(gelu_tanh_bwd, dinp, dout, inp, 0.0f, n, GRAIN_COSTLY);
}

void aigc_silu_forward(float *out, const float *inp, gint64 n)
{
    aigc_map_parallel(silu_fwd, out, inp, NULL, 0.0f, n, GRAIN_COSTLY);
}

void aigc_silu_backward(float *dinp, const float *dout, const float *inp, gint64 n)
{
    aigc_map_parallel(silu_bwd, dinp, dout, inp, 0.0f, n, GRAIN_COSTLY);
}

void aigc_tanh_forward(float *out, const float *inp, gint64 n)
{
    aigc_map_parallel(tanh_fwd, out, inp, NULL, 0.0f, n, GRAIN_COSTLY);
}

void aigc_tanh_backward(float *dinp, const float *dout, const float *out, gint64 n)
{
    aigc_map_parallel(tanh_bwd, dinp, dout, out, 0.0f, n, GRAIN_CHEAP);
}

void aigc_sigmoid_forward(float *out, const float *inp, gint64 n)
{
    aigc_map_parallel(sigmoid_fwd, out, inp, NULL, 0.0f, n, GRAIN_COSTLY);
}

void aigc_sigmoid_backward(float *dinp, const float *dout, const float *out, gint64 n)
{
    aigc_map_parallel(sigmoid_bwd, dinp, dout, out, 0.0f, n, GRAIN_CHEAP);
}

void aigc_softplus_forward(float *out, const float *inp, gint64 n)
{
    aigc_map_parallel(softplus_fwd, out, inp, NULL, 0.0f, n, GRAIN_COSTLY);
}

void aigc_softplus_backward(float *dinp, const float *dout, const float *inp, gint64 n)
{
    aigc_map_parallel(softplus_bwd, dinp, dout, inp, 0.0f, n, GRAIN_COSTLY);
}

void aigc_dropout_forward(float *out, float *mask, const float *inp, float p, gint64 n)
{
    g_return_if_fail(p >= 0.0f && p < 1.0f);
    aigc_map_parallel(dropout_mask_range, mask, NULL, NULL, p, n, GRAIN_CHEAP);
    aigc_map_parallel(mul_range, out, inp, mask, 0.0f, n, GRAIN_CHEAP);
}

void aigc_dropout_backward(float *dinp, const float *dout, const float *mask, gint64 n)
{
    aigc_map_parallel(mul_acc_range, dinp, dout, mask, 0.0f, n, GRAIN_CHEAP);
}

/* ---- softmax / log_softmax ---- */

/* e[i] = exp(x[i] − m), returns Σ e. */
AIGC_KERNEL_BODY float row_exp_sum(float *restrict e, const float *restrict x, float m, int C)
{
    float acc[LANES] = {0};
    int i = 0;
    for (; i + LANES <= C; i += LANES)
        for (int j = 0; j < LANES; j++) {
            float v = aigc_vexpf(x[i + j] - m);
            e[i + j] = v;
            acc[j] += v;
        }
    float s = 0;
    for (; i < C; i++) {
        e[i] = aigc_vexpf(x[i] - m);
        s += e[i];
    }
    for (int j = 0; j < LANES; j++)
        s += acc[j];
    return s;
}

/* Σ x[i]·y[i] (y may be NULL: Σ x). */
AIGC_KERNEL_BODY float row_dot(const float *restrict x, const float *restrict y, int C)
{
    float acc[LANES] = {0};
    float s = 0;
    int i = 0;
    if (y) {
        for (; i + LANES <= C; i += LANES)
            for (int j = 0; j < LANES; j++)
                acc[j] += x[i + j] * y[i + j];
        for (; i < C; i++)
            s += x[i] * y[i];
    } else {
        for (; i + LANES <= C; i += LANES)
            for (int j = 0; j < LANES; j++)
                acc[j] += x[i + j];
        for (; i < C; i++)
            s += x[i];
    }
    for (int j = 0; j < LANES; j++)
        s += acc[j];
    return s;
}

typedef struct {
    float *out;
    float *dinp;
    const float *inp, *dout;
    int C;
    gboolean log;
} SoftmaxCtx;

AIGC_KERNEL_BODY void softmax_rows_body(gint64 begin, gint64 end, gpointer data)
{
    SoftmaxCtx *c = data;
    int C = c->C;
    for (gint64 r = begin; r < end; r++) {
        const float *restrict x = c->inp + r * C;
        float *restrict y = c->out + r * C;
        float m = aigc_row_max(x, C);
        float s = row_exp_sum(y, x, m, C);
        if (c->log) {
            /* (x − m) − log s, not x − (m + log s): exact for huge logits */
            float ls = aigc_vlogf(s);
            for (int i = 0; i < C; i++)
                y[i] = (x[i] - m) - ls;
        } else {
            float inv = 1.0f / s;
            for (int i = 0; i < C; i++)
                y[i] *= inv;
        }
    }
}
AIGC_ROWS_DISPATCH(softmax_rows)

/* softmax: dinp += y·(dout − Σ dout·y); log_softmax: dinp += dout − e^y·Σ dout */
AIGC_KERNEL_BODY void softmax_back_rows_body(gint64 begin, gint64 end, gpointer data)
{
    SoftmaxCtx *c = data;
    int C = c->C;
    for (gint64 r = begin; r < end; r++) {
        const float *restrict y = c->out + r * C;
        const float *restrict g = c->dout + r * C;
        float *restrict d = c->dinp + r * C;
        if (c->log) {
            float s = row_dot(g, NULL, C);
            for (int i = 0; i < C; i++)
                d[i] += g[i] - aigc_vexpf(y[i]) * s;
        } else {
            float s = row_dot(g, y, C);
            for (int i = 0; i < C; i++)
                d[i] += y[i] * (g[i] - s);
        }
    }
}
AIGC_ROWS_DISPATCH(softmax_back_rows)

static void softmax_run(AigcParallelFunc func, SoftmaxCtx *c, int N)
{
    aigc_parallel_for(N, MAX(1, GRAIN_COSTLY / MAX(c->C, 1)), func, c);
}

void aigc_softmax_forward(float *out, const float *inp, int N, int C)
{
    SoftmaxCtx c = {.out = out, .inp = inp, .C = C, .log = FALSE};
    softmax_run(softmax_rows, &c, N);
}

void aigc_softmax_backward(float *dinp, const float *dout, const float *out, int N, int C)
{
    SoftmaxCtx c = {.out = (float *)out, .dinp = dinp, .dout = dout, .C = C, .log = FALSE};
    softmax_run(softmax_back_rows, &c, N);
}

void aigc_log_softmax_forward(float *out, const float *inp, int N, int C)
{
    SoftmaxCtx c = {.out = out, .inp = inp, .C = C, .log = TRUE};
    softmax_run(softmax_rows, &c, N);
}

void aigc_log_softmax_backward(float *dinp, const float *dout, const float *out, int N, int C)
{
    SoftmaxCtx c = {.out = (float *)out, .dinp = dinp, .dout = dout, .C = C, .log = TRUE};
    softmax_run(softmax_back_rows, &c, N);
}

/* ---- differentiable ops ---- */

static const AigcUnaryDesc relu_desc = {"relu", relu_fwd, relu_bwd, FALSE, GRAIN_CHEAP};
static const AigcUnaryDesc leaky_relu_desc = {"leaky_relu", leaky_relu_fwd, leaky_relu_bwd, FALSE,
                                              GRAIN_CHEAP};
static const AigcUnaryDesc gelu_desc = {"gelu", gelu_fwd, gelu_bwd, FALSE, GRAIN_COSTLY};
static const AigcUnaryDesc gelu_tanh_desc = {"gelu_tanh", gelu_tanh_fwd, gelu_tanh_bwd, FALSE,
                                             GRAIN_COSTLY};
static const AigcUnaryDesc silu_desc = {"silu", silu_fwd, silu_bwd, FALSE, GRAIN_COSTLY};
static const AigcUnaryDesc tanh_desc = {"tanh", tanh_fwd, tanh_bwd, TRUE, GRAIN_COSTLY};
static const AigcUnaryDesc sigmoid_desc = {"sigmoid", sigmoid_fwd, sigmoid_bwd, TRUE, GRAIN_COSTLY};
static const AigcUnaryDesc softplus_desc = {"softplus", softplus_fwd, softplus_bwd, FALSE,
                                            GRAIN_COSTLY};

AigcTensor *aigc_relu(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &relu_desc, 0.0f);
}

AigcTensor *aigc_leaky_relu(AigcCtx *ctx, AigcTensor *x, float slope)
{
    return aigc_unary(ctx, x, &leaky_relu_desc, slope);
}

AigcTensor *aigc_gelu(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &gelu_desc, 0.0f);
}

AigcTensor *aigc_gelu_tanh(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &gelu_tanh_desc, 0.0f);
}

AigcTensor *aigc_silu(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &silu_desc, 0.0f);
}

AigcTensor *aigc_tanh(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &tanh_desc, 0.0f);
}

AigcTensor *aigc_sigmoid(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &sigmoid_desc, 0.0f);
}

AigcTensor *aigc_softplus(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &softplus_desc, 0.0f);
}

static void softmax_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *y = node->out[0];
    float *dx = aigc_grad(ctx, x);
    if (!dx)
        return;
    int C = (int)node->i[0];
    int N = C ? (int)(x->n_elements / C) : 0;
    if (node->i[1])
        aigc_log_softmax_backward(dx, y->grad, y->data, N, C);
    else
        aigc_softmax_backward(dx, y->grad, y->data, N, C);
}

static AigcTensor *softmax_op(AigcCtx *ctx, AigcTensor *x, gboolean log)
{
    g_return_val_if_fail(ctx != NULL && x != NULL && x->n_dims >= 1, NULL);
    x = aigc_contiguous(ctx, x);
    int C = (int)x->shape[x->n_dims - 1];
    int N = C ? (int)(x->n_elements / C) : 0;
    AigcTensor *y = aigc_tensor_new_like(ctx, x);
    if (log)
        aigc_log_softmax_forward(y->data, x->data, N, C);
    else
        aigc_softmax_forward(y->data, x->data, N, C);
    AigcNode *node =
        aigc_record1(ctx, log ? "log_softmax" : "softmax", softmax_backward_node, y, x);
    if (node) {
        node->i[0] = C;
        node->i[1] = log;
    }
    return y;
}

AigcTensor *aigc_softmax(AigcCtx *ctx, AigcTensor *x)
{
    return softmax_op(ctx, x, FALSE);
}

AigcTensor *aigc_log_softmax(AigcCtx *ctx, AigcTensor *x)
{
    return softmax_op(ctx, x, TRUE);
}

static void dropout_backward_node(AigcCtx *ctx, AigcNode *node)
{
    float *dx = aigc_grad(ctx, node->in[0]);
    if (dx)
        aigc_dropout_backward(dx, node->out[0]->grad, node->saved, node->in[0]->n_elements);
}

AigcTensor *aigc_dropout(AigcCtx *ctx, AigcTensor *x, float p)
{
    g_return_val_if_fail(ctx != NULL && x != NULL, NULL);
    g_return_val_if_fail(p >= 0.0f && p <= 1.0f, NULL);
    if (!aigc_ctx_get_training(ctx) || p == 0.0f)
        return x;
    x = aigc_contiguous(ctx, x);
    AigcTensor *y = aigc_tensor_new_like(ctx, x);
    gint64 n = x->n_elements;
    /* The mask is scratch for the forward in any case; it doubles as the saved state. */
    float *mask = aigc_ctx_alloc_floats(ctx, n);
    if (p >= 1.0f) {
        memset(mask, 0, (gsize)n * sizeof(float));
        memset(y->data, 0, (gsize)n * sizeof(float));
    } else {
        aigc_rng_fill_uniform(aigc_ctx_get_rng(ctx), mask, n, 0.0f, 1.0f);
        aigc_dropout_forward(y->data, mask, x->data, p, n);
    }
    AigcNode *node = aigc_record1(ctx, "dropout", dropout_backward_node, y, x);
    if (node)
        node->saved = mask;
    return y;
}
