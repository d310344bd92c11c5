/* SPDX-License-Identifier: MIT
 *
 * Position encodings: RoPE against llama2.c's run.c loop and a float64 formula, one-position
 * decoding against the full op, gradient checks (odd shapes, a strided input); the timestep
 * embedding against the DDPM/diffusers formula. PyTorch goldens for both live in
 * goldens/attention.safetensors (tests/reference/attention.py, prefixes rope. and temb.).
 */
#include "aigc-test-support.h"
#include "nn/aigc-posenc.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

/* llama2.c run.c's RoPE loop, transcribed for one position of q with n_heads·head_size = dim. */
static void run_c_rope(float *q, int dim, int head_size, int pos)
{
    for (int i = 0; i < dim; i += 2) {
        int head_dim = i % head_size;
        float freq = 1.0f / powf(10000.0f, head_dim / (float)head_size);
        float val = pos * freq;
        float fcr = cosf(val);
        float fci = sinf(val);
        float v0 = q[i];
        float v1 = q[i + 1];
        q[i] = v0 * fcr - v1 * fci;
        q[i + 1] = v0 * fci + v1 * fcr;
    }
}

static void check_rope_forward(int B, int T, int H, int D, int offset)
{
    gint64 n = (gint64)B * T * H * D;
    AigcRng rng;
    aigc_rng_init(&rng, 21);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *x = aigc_tensor_new4(ctx, B, T, H, D);
    aigc_rng_fill_uniform(&rng, x->data, n, -1, 1);
    AigcTensor *y = aigc_rope(ctx, x, offset, 10000.0f);

    float *ref = g_memdup2(x->data, (gsize)n * 4);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *row = ref + ((gint64)b * T + t) * H * D; /* (H, D) */
            /* run.c's loop, and the decoding kernel, give the op's bits exactly. */
            float *row2 = g_memdup2(row, (gsize)H * D * 4);
            run_c_rope(row, H * D, D, offset + t);
            aigc_rope_apply(row2, H, D, offset + t, 10000.0f);
            g_assert_cmpmem(row2, H * D * 4, row, H * D * 4);
            g_free(row2);
        }
    g_assert_cmpmem(y->data, n * 4, ref, n * 4);

    /* The float64 formula: pair i rotated by p·θ^(−2i/D). */
    for (gint64 e = 0; e < n; e += 2) {
        int i = (int)(e % D) / 2, t = (int)((e / ((gint64)H * D)) % T);
        double ang = (offset + t) * pow(10000.0, -2.0 * i / D);
        double x0 = x->data[e], x1 = x->data[e + 1];
        g_assert_cmpfloat(fabs(y->data[e] - (x0 * cos(ang) - x1 * sin(ang))), <, 1e-5);
        g_assert_cmpfloat(fabs(y->data[e + 1] - (x0 * sin(ang) + x1 * cos(ang))), <, 1e-5);
    }
    /* Position 0 is the identity; a rotation keeps each pair's length. */
    AigcTensor *y0 = aigc_rope(ctx, x, 0, 10000.0f);
    for (gint64 e = 0; e < (gint64)H * D; e++)
        g_assert_cmpfloat(y0->data[e], ==, x->data[e]);
    for (gint64 e = 0; e < n; e += 2) {
        double a = hypot(x->data[e], x->data[e + 1]), b = hypot(y->data[e], y->data[e + 1]);
        g_assert_cmpfloat(fabs(a - b), <, 1e-6);
    }
    g_free(ref);
}

static void test_rope_forward(void)
{
    check_rope_forward(2, 5, 3, 6, 4);
    check_rope_forward(1, 4, 2, 18, 11); /* vector lanes and a tail pair */
    check_rope_forward(1, 3, 2, 260, 2); /* a head longer than one pass */
}

typedef struct {
    int offset;
    float theta;
    gboolean strided;
} RopeArgs;

static AigcTensor *rope_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const RopeArgs *a = data;
    AigcTensor *x = in[0];
    if (a->strided) /* (B, H, T, D) → a (B, T, H, D) view, as attention code produces */
        x = aigc_transpose(ctx, x, 1, 2);
    return aigc_rope(ctx, x, a->offset, a->theta);
}

static void test_rope_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 22);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    AigcTensor *x = aigc_test_leaf(&rng, 4, (gint64[]){2, 5, 3, 6}, -1, 1, TRUE);
    RopeArgs args = {7, 10000.0f, FALSE};
    aigc_assert_gradcheck(rope_fn, 1, &x, &args, &p);
    aigc_tensor_free_leaf(x);

    AigcTensor *xs = aigc_test_leaf(&rng, 4, (gint64[]){3, 3, 7, 10}, -1, 1, TRUE);
    RopeArgs sargs = {0, 500.0f, TRUE};
    aigc_assert_gradcheck(rope_fn, 1, &xs, &sargs, &p);
    aigc_tensor_free_leaf(xs);
}

static void test_rope_backward_kernel(void)
{
    /* The backward adds Rᵀ·dout: for an orthogonal R, rotating the result forward gives dout
     * back (plus what was in the buffer). Large enough to run on two threads. */
    int B = 4, T = 33, H = 5, D = 14;
    gint64 n = (gint64)B * T * H * D;
    AigcRng rng;
    aigc_rng_init(&rng, 23);
    float *fcos = g_new(float, T *D / 2), *fsin = g_new(float, T *D / 2);
    aigc_rope_freqs(fcos, fsin, T, D, 9, 10000.0f);
    float *dout = g_new(float, n), *dx = g_new0(float, n), *back = g_new(float, n);
    aigc_rng_fill_uniform(&rng, dout, n, -1, 1);
    aigc_rope_backward(dx, dout, fcos, fsin, B, T, H, D);
    aigc_rope_forward(back, dx, fcos, fsin, B, T, H, D);
    aigc_test_assert_close(back, dout, n, 1e-5, 1e-6, "R Rᵀ dout");
    /* In place forward equals out-of-place. */
    aigc_rope_forward(dx, dx, fcos, fsin, B, T, H, D);
    g_assert_cmpmem(dx, n * 4, back, n * 4);
    g_free(fcos);
    g_free(fsin);
    g_free(dout);
    g_free(dx);
    g_free(back);
}

static void test_rope_golden(void)
{
    g_autoptr(AigcSafetensors) st = aigc_test_open_golden("attention");
    AigcTensor *x = aigc_test_golden_leaf(st, "rope.x", TRUE);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *y = aigc_rope(ctx, x, 3, 10000.0f);
    gint64 n;
    const float *want = aigc_test_golden_data(st, "rope.out", &n);
    g_assert_cmpint(n, ==, y->n_elements);
    aigc_test_assert_close(y->data, want, n, 1e-4, 1e-5, "rope.out");
    aigc_ctx_backward_from(ctx, y, aigc_test_golden_data(st, "rope.dout", NULL));
    want = aigc_test_golden_data(st, "rope.dx", &n);
    aigc_test_assert_close(x->grad, want, n, 1e-4, 1e-5, "rope.dx");
    aigc_tensor_free_leaf(x);
}

/* The float32 result differs from the exact one mostly through the rounding of t·f_i to float:
 * about 2 ulp of the argument, i.e. 2.4e-7·|t|. */
static double temb_tolerance(float t)
{
    return 1e-6 + 2.4e-7 * fabs(t);
}

static void test_timestep_values(void)
{
    const float t[5] = {0.0f, 1.0f, 17.5f, 250.0f, 999.0f};
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    for (int dim = 7; dim <= 10; dim++) {
        AigcTensor *e = aigc_timestep_embedding(ctx, t, 5, dim, 10000.0f);
        g_assert_cmpint(e->n_dims, ==, 2);
        g_assert_cmpint(e->shape[0], ==, 5);
        g_assert_cmpint(e->shape[1], ==, dim);
        g_assert_false(e->requires_grad);
        int half = dim / 2;
        for (int r = 0; r < 5; r++) {
            const float *o = e->data + r * dim;
            for (int i = 0; i < half; i++) {
                double f = exp(-log(10000.0) * i / half);
                g_assert_cmpfloat(fabs(o[i] - cos(t[r] * f)), <=, temb_tolerance(t[r]));
                g_assert_cmpfloat(fabs(o[half + i] - sin(t[r] * f)), <=, temb_tolerance(t[r]));
            }
            if (dim % 2)
                g_assert_cmpfloat(o[dim - 1], ==, 0.0f);
        }
        /* t = 0: cos half is 1, sin half is 0; column 0 is cos(t), column half is sin(t). */
        for (int i = 0; i < half; i++) {
            g_assert_cmpfloat(e->data[i], ==, 1.0f);
            g_assert_cmpfloat(e->data[half + i], ==, 0.0f);
        }
        g_assert_cmpfloat(e->data[dim], ==, cosf(1.0f));
        g_assert_cmpfloat(e->data[dim + half], ==, sinf(1.0f));
    }
    /* Another max_period changes the frequencies: column 1 of dim 4 is cos(t / √max_period). */
    AigcTensor *e = aigc_timestep_embedding(ctx, (const float[]){3.0f}, 1, 4, 100.0f);
    g_assert_cmpfloat(fabs(e->data[1] - cos(0.3)), <, 1e-6);
    g_assert_cmpfloat(fabs(e->data[3] - sin(0.3)), <, 1e-6);
}

static void test_timestep_golden(void)
{
    g_autoptr(AigcSafetensors) st = aigc_test_open_golden("attention");
    gint64 n_t, n;
    const float *t = aigc_test_golden_data(st, "temb.t", &n_t);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    for (int dim = 8; dim <= 9; dim++) {
        AigcTensor *e = aigc_timestep_embedding(ctx, t, (int)n_t, dim, 10000.0f);
        const float *want = aigc_test_golden_data(st, dim == 8 ? "temb.out8" : "temb.out9", &n);
        g_assert_cmpint(n, ==, e->n_elements);
        for (int r = 0; r < n_t; r++)
            aigc_test_assert_close(e->data + r * dim, want + r * dim, dim, 1e-4,
                                   temb_tolerance(t[r]), "timestep embedding");
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/nn/rope/forward", test_rope_forward);
    g_test_add_func("/engine/nn/rope/gradcheck", test_rope_gradcheck);
    g_test_add_func("/engine/nn/rope/backward-kernel", test_rope_backward_kernel);
    g_test_add_func("/engine/nn/rope/golden", test_rope_golden);
    g_test_add_func("/engine/nn/timestep-embedding/values", test_timestep_values);
    g_test_add_func("/engine/nn/timestep-embedding/golden", test_timestep_golden);
    return g_test_run();
}
