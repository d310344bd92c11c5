/* SPDX-License-Identifier: MIT
 *
 * Elementwise arithmetic and reductions: add, sub, mul and div with NumPy broadcasting, unary
 * maths (scale, add_scalar, exp, ln — the natural log; aigc_log is the logger —, sqrt, neg,
 * square), and sum / mean over one axis or over all elements. Each op is a kernel pair on
 * contiguous float arrays plus a differentiable op.
 *
 * Broadcasting follows NumPy: shapes are aligned on the right, a dimension of size 1 (or a
 * missing one) stretches to the other operand's size. The backward of a broadcast operand sums
 * the gradient over the dimensions it was stretched along.
 *
 * All kernels are deterministic: reductions split their work into blocks chosen from the sizes
 * alone, so results do not depend on the thread count.
 *
 * Also here, for the other nn files: aigc_map_parallel (a chunked parallel loop over flat
 * arrays), aigc_parallel_sum (a deterministic parallel sum), branch-free exp / log that loops
 * can vectorise (aigc_vexpf, aigc_vlogf, …), aigc_unary (a differentiable op from two range
 * kernels) and the AVX2 + FMA dispatch macros for hot kernels.
 */
#pragma once

#include "tensor/aigc-tensor.h"

#include <math.h>
#include <string.h>

G_BEGIN_DECLS

/* ---- helpers shared by the nn kernels ---- */

/* func(out + i, x + i, y + i, param, n) over chunks of [0, n); x / y / out may be NULL (then
 * passed as NULL). Chunks are at least `grain` elements (0 = a default for cheap maps). */
typedef void (*AigcMapFunc)(float *out, const float *x, const float *y, float param, gint64 n);
void aigc_map_parallel(AigcMapFunc func, float *out, const float *x, const float *y, float param,
                       gint64 n, gint64 grain);

/* Deterministic parallel sum: func(begin, end, user) returns Σ over its range (at most 8192
 * items, so float accumulators inside are fine); ranges depend on n alone and their results are
 * added in double in a fixed order, so the total does not depend on the thread count. */
typedef double (*AigcRangeSumFunc)(gint64 begin, gint64 end, gpointer user);
double aigc_parallel_sum(gint64 n, AigcRangeSumFunc func, gpointer user);

/* Deterministic sum of n contiguous floats (aigc_parallel_sum over the array). */
double aigc_sum_floats(const float *x, gint64 n);

/* exp(hi + lo) to about 2 ulp for hi + lo in [-87.3, 88.3], 0 below, +inf above 88.37 (a hair
 * under the float limit, 88.72, which keeps 2^n a normal float); lo carries bits that the
 * float hi + lo cannot, e.g. the rounding error of an argument like −x²/2. Branch-free and
 * without clamping (out-of-range lanes are overwritten at the end), so loops calling it
 * vectorise tightly. */
static inline float aigc_vexpf2(float hi, float lo)
{
    float x = hi + lo;
    /* x = n·ln2 + r, |r| ≤ ln2/2; adding 1.5·2^23 rounds x·log2(e) to an integer in the low
     * mantissa bits. r is taken from hi and lo separately: hi − n·ln2_hi is exact. */
    const float shifter = 12582912.0f;
    float t = x * 1.44269504088896341f + shifter;
    float n = t - shifter;
    float r = hi - n * 0.693145751953125f;
    r = r - n * 1.42860682030941723e-6f;
    r = r + lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    guint32 tb;
    memcpy(&tb, &t, sizeof tb);
    guint32 sb = (tb - 0x4B400000u + 127u) << 23; /* 2^n */
    float s;
    memcpy(&s, &sb, sizeof s);
    float y = p * s;
    y = x < -87.33f ? 0.0f : y;
    return x > 88.37f ? INFINITY : y;
}

/* exp(x), as aigc_vexpf2(x, 0). */
static inline float aigc_vexpf(float x)
{
    return aigc_vexpf2(x, 0.0f);
}

/* exp(−x²/2) with the square carried exactly: x is split into a 12-bit head (whose square is
 * exact) and a tail, so the result keeps its relative accuracy out in the Gaussian's tails. */
static inline float aigc_vexpf_neg_half_square(float x, float extra)
{
    guint32 u;
    memcpy(&u, &x, sizeof u);
    u &= 0xFFFFF000u;
    float head;
    memcpy(&head, &u, sizeof head);
    float tail = x - head;
    return aigc_vexpf2(-0.5f * (head * head), -0.5f * tail * (x + head) + extra);
}

/* log(x) to about 1 ulp: NaN below 0, -inf at 0, +inf at +inf; branch-free like aigc_vexpf. */
static inline float aigc_vlogf(float x)
{
    /* Subnormals are scaled into the normal range first. */
    gboolean tiny = x < 1.17549435e-38f;
    float xs = tiny ? x * 8388608.0f : x;
    guint32 u;
    memcpy(&u, &xs, sizeof u);
    /* x = m·2^e with m in [√½, √2): take the exponent relative to √½'s bits. */
    guint32 off = u - 0x3F3504F3u;
    gint32 e = (gint32)off >> 23;
    guint32 mu = (off & 0x007FFFFFu) + 0x3F3504F3u;
    float m;
    memcpy(&m, &mu, sizeof m);
    float ef = (float)e - (tiny ? 23.0f : 0.0f);
    /* log m = 2·atanh(s), s = (m − 1) / (m + 1), |s| ≤ 0.1716 */
    float s = (m - 1.0f) / (m + 1.0f);
    float z = s * s;
    float p = 2.0f / 9.0f;
    p = p * z + 2.0f / 7.0f;
    p = p * z + 2.0f / 5.0f;
    p = p * z + 2.0f / 3.0f;
    p = p * z + 2.0f;
    float y = ef * 0.693145751953125f + (s * p + ef * 1.42860682030941723e-6f);
    y = x == INFINITY ? INFINITY : y;
    y = x == 0.0f ? -INFINITY : y;
    return x < 0.0f || x != x ? NAN : y;
}

/* log(1 + x) for x ≥ 0, accurate for tiny x (the rounding of 1 + x is compensated). */
static inline float aigc_vlog1pf(float x)
{
    float u = 1.0f + x;
    float d = u - 1.0f;
    return d == 0.0f ? x : aigc_vlogf(u) * (x / d);
}

/* A differentiable elementwise op from two range kernels (AigcMapFunc): forward(out, inp,
 * NULL, param, n) and backward(dinp, dout, saved, param, n), which adds into dinp; `saved` is
 * the op's input, or its output when backward_uses_out. Descriptors are static. */
typedef struct {
    const char *name;
    AigcMapFunc forward;
    AigcMapFunc backward;
    gboolean backward_uses_out;
    gint64 grain; /* elements per parallel chunk */
} AigcUnaryDesc;

/* (transfer none) y = desc(x) elementwise, recorded on the tape. */
AigcTensor *aigc_unary(AigcCtx *ctx, AigcTensor *x, const AigcUnaryDesc *desc, float param);

/* ---- AVX2 + FMA variants ----
 *
 * The hot kernels (everything calling exp / log, and the row kernels) are compiled twice, for
 * baseline x86-64 and for AVX2 + FMA (8 floats a vector, fused multiply-adds), and pick one at
 * run time: a kernel is written once as `AIGC_KERNEL_BODY … NAME_body(…)` and one of the
 * AIGC_*_DISPATCH macros defines NAME from it. Bodies must only call inline code (the helpers
 * in this header), so that all of it is compiled for the variant's target. Results differ
 * between the two only by rounding. */

/* Whether kernels use their AVX2 + FMA variants: by default when the CPU has both. Tests turn
 * it off to check the baseline code; turning it on where the CPU lacks them does nothing. */
gboolean aigc_simd_get_avx2(void);
void aigc_simd_set_avx2(gboolean enabled);

#define AIGC_KERNEL_BODY static inline __attribute__((always_inline))

#if defined(__x86_64__) && defined(__GNUC__)
#define AIGC_TARGET_AVX2 __attribute__((target("avx2,fma")))
/* NAME: an AigcMapFunc */
#define AIGC_MAP_DISPATCH(NAME)                                                                    \
    AIGC_TARGET_AVX2 static void NAME##_avx2(float *o, const float *x, const float *y, float p,    \
                                             gint64 n)                                             \
    {                                                                                              \
        NAME##_body(o, x, y, p, n);                                                                \
    }                                                                                              \
    static void NAME##_base(float *o, const float *x, const float *y, float p, gint64 n)           \
    {                                                                                              \
        NAME##_body(o, x, y, p, n);                                                                \
    }                                                                                              \
    static void NAME(float *o, const float *x, const float *y, float p, gint64 n)                  \
    {                                                                                              \
        if (aigc_simd_get_avx2())                                                                  \
            NAME##_avx2(o, x, y, p, n);                                                            \
        else                                                                                       \
            NAME##_base(o, x, y, p, n);                                                            \
    }
/* NAME: an AigcParallelFunc (begin, end, data) */
#define AIGC_ROWS_DISPATCH(NAME)                                                                   \
    AIGC_TARGET_AVX2 static void NAME##_avx2(gint64 b, gint64 e, gpointer d)                       \
    {                                                                                              \
        NAME##_body(b, e, d);                                                                      \
    }                                                                                              \
    static void NAME##_base(gint64 b, gint64 e, gpointer d)                                        \
    {                                                                                              \
        NAME##_body(b, e, d);                                                                      \
    }                                                                                              \
    static void NAME(gint64 b, gint64 e, gpointer d)                                               \
    {                                                                                              \
        if (aigc_simd_get_avx2())                                                                  \
            NAME##_avx2(b, e, d);                                                                  \
        else                                                                                       \
            NAME##_base(b, e, d);                                                                  \
    }
/* NAME: an AigcRangeSumFunc */
#define AIGC_RANGE_SUM_DISPATCH(NAME)                                                              \
    AIGC_TARGET_AVX2 static double NAME##_avx2(gint64 b, gint64 e, gpointer d)                     \
    {                                                                                              \
        return NAME##_body(b, e, d);                                                               \
    }                                                                                              \
    static double NAME##_base(gint64 b, gint64 e, gpointer d)                                      \
    {                                                                                              \
        return NAME##_body(b, e, d);                                                               \
    }                                                                                              \
    static double NAME(gint64 b, gint64 e, gpointer d)                                             \
    {                                                                                              \
        return aigc_simd_get_avx2() ? NAME##_avx2(b, e, d) : NAME##_base(b, e, d);                 \
    }
#else
#define AIGC_MAP_DISPATCH(NAME)                                                                    \
    static void NAME(float *o, const float *x, const float *y, float p, gint64 n)                  \
    {                                                                                              \
        NAME##_body(o, x, y, p, n);                                                                \
    }
#define AIGC_ROWS_DISPATCH(NAME)                                                                   \
    static void NAME(gint64 b, gint64 e, gpointer d)                                               \
    {                                                                                              \
        NAME##_body(b, e, d);                                                                      \
    }
#define AIGC_RANGE_SUM_DISPATCH(NAME)                                                              \
    static double NAME(gint64 b, gint64 e, gpointer d)                                             \
    {                                                                                              \
        return NAME##_body(b, e, d);                                                               \
    }
#endif

/* Row helpers for the nn kernels: the max of x[0..C) (-inf for C = 0), and log Σ e^{x − m} for
 * a shift m (the max, for stability; log-sum-exp = m + the result, kept apart for accuracy). */
AIGC_KERNEL_BODY float aigc_row_max(const float *restrict x, int C)
{
    float m[16];
    for (int j = 0; j < 16; j++)
        m[j] = -INFINITY;
    int i = 0;
    for (; i + 16 <= C; i += 16)
        for (int j = 0; j < 16; j++)
            m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    float r = -INFINITY;
    for (; i < C; i++)
        r = x[i] > r ? x[i] : r;
    for (int j = 0; j < 16; j++)
        r = m[j] > r ? m[j] : r;
    return r;
}

/* Σ x[i] over n floats, in 16 lanes: a single running sum keeps the compiler from vectorising.
 * The order of additions is fixed by n alone, so every caller gets the same bits on every CPU. */
AIGC_KERNEL_BODY float aigc_row_sum(const float *restrict x, gint64 n)
{
    float acc[16] = {0};
    gint64 i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++)
            acc[k] += x[i + k];
    float s = 0;
    for (; i < n; i++)
        s += x[i];
    for (int k = 0; k < 16; k++)
        s += acc[k];
    return s;
}

/* Σ a[i]·b[i] over n floats, in 16 lanes (as aigc_row_sum). */
AIGC_KERNEL_BODY float aigc_row_dot(const float *restrict a, const float *restrict b, gint64 n)
{
    float acc[16] = {0};
    gint64 i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++)
            acc[k] += a[i + k] * b[i + k];
    float s = 0;
    for (; i < n; i++)
        s += a[i] * b[i];
    for (int k = 0; k < 16; k++)
        s += acc[k];
    return s;
}

AIGC_KERNEL_BODY float aigc_row_log_sum_exp_shifted(const float *restrict x, int C, float m)
{
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= C; i += 16)
        for (int j = 0; j < 16; j++)
            acc[j] += aigc_vexpf(x[i + j] - m);
    float s = 0;
    for (; i < C; i++)
        s += aigc_vexpf(x[i] - m);
    for (int j = 0; j < 16; j++)
        s += acc[j];
    return aigc_vlogf(s);
}

/* ---- broadcasting binary ops ---- */

typedef enum {
    AIGC_BINARY_ADD,
    AIGC_BINARY_SUB,
    AIGC_BINARY_MUL,
    AIGC_BINARY_DIV,
} AigcBinaryOp;

/* The layout of a broadcast: the output shape and each operand's strides over the output's
 * dimensions (0 where it is stretched), for contiguous operands. */
typedef struct {
    int n_dims;
    gint64 shape[AIGC_MAX_DIMS];    /* output shape */
    gint64 a_stride[AIGC_MAX_DIMS]; /* in a's contiguous storage, 0 on broadcast dims */
    gint64 b_stride[AIGC_MAX_DIMS];
    gint64 n_out;
} AigcBroadcast;

/* Fills `bc` for operands of these shapes; FALSE if they do not broadcast. */
gboolean aigc_broadcast_init(AigcBroadcast *bc, int a_n_dims, const gint64 *a_shape, int b_n_dims,
                             const gint64 *b_shape);

/* out = a op b over the broadcast (out: bc->n_out floats). */
void aigc_binary_forward(float *out, const float *a, const float *b, const AigcBroadcast *bc,
                         AigcBinaryOp op);
/* da += ∂L/∂a, db += ∂L/∂b (either may be NULL). out is the forward's output (used by div).
 * scratch: bc->n_out floats when aigc_binary_backward_needs_scratch() says so, else NULL. A
 * stretched operand of mul / div is reduced in one fused pass when it is a row vector or a
 * column of the other ([N, C] · [C], [N, C] · [N, 1]); other layouts go through scratch. */
void aigc_binary_backward(float *da, float *db, float *scratch, const float *dout, const float *a,
                          const float *b, const float *out, const AigcBroadcast *bc,
                          AigcBinaryOp op);
gboolean aigc_binary_backward_needs_scratch(const AigcBroadcast *bc, AigcBinaryOp op,
                                            gboolean need_da, gboolean need_db);

/* (transfer none) a op b with broadcasting; NULL if the shapes do not broadcast. */
AigcTensor *aigc_binary(AigcCtx *ctx, AigcTensor *a, AigcTensor *b, AigcBinaryOp op);
AigcTensor *aigc_add(AigcCtx *ctx, AigcTensor *a, AigcTensor *b);
AigcTensor *aigc_sub(AigcCtx *ctx, AigcTensor *a, AigcTensor *b);
AigcTensor *aigc_mul(AigcCtx *ctx, AigcTensor *a, AigcTensor *b);
AigcTensor *aigc_div(AigcCtx *ctx, AigcTensor *a, AigcTensor *b);

/* ---- unary maths: kernels (n elements; backward adds into dinp) ---- */

void aigc_scale_forward(float *out, const float *inp, float s, gint64 n);
void aigc_scale_backward(float *dinp, const float *dout, float s, gint64 n);
void aigc_add_scalar_forward(float *out, const float *inp, float c, gint64 n);
void aigc_exp_forward(float *out, const float *inp, gint64 n);
void aigc_exp_backward(float *dinp, const float *dout, const float *out, gint64 n);
void aigc_ln_forward(float *out, const float *inp, gint64 n);
void aigc_ln_backward(float *dinp, const float *dout, const float *inp, gint64 n);
void aigc_sqrt_forward(float *out, const float *inp, gint64 n);
void aigc_sqrt_backward(float *dinp, const float *dout, const float *out, gint64 n);
void aigc_square_forward(float *out, const float *inp, gint64 n);
void aigc_square_backward(float *dinp, const float *dout, const float *inp, gint64 n);
/* Plain accumulation dinp += dout (the backward of add_scalar). */
void aigc_accumulate(float *dinp, const float *dout, gint64 n);

/* ---- unary maths: differentiable ops (transfer none) ---- */

AigcTensor *aigc_scale(AigcCtx *ctx, AigcTensor *x, float s);
AigcTensor *aigc_add_scalar(AigcCtx *ctx, AigcTensor *x, float c);
AigcTensor *aigc_neg(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_exp(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_ln(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_sqrt(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_square(AigcCtx *ctx, AigcTensor *x);

/* ---- reductions ---- */

/* out[o, i] = scale · Σ_a inp[o, a, i]: inp is [n_outer, n_axis, n_inner], out [n_outer, n_inner].
 * scale is 1 for sum and 1 / n_axis for mean. */
void aigc_sum_forward(float *out, const float *inp, gint64 n_outer, gint64 n_axis, gint64 n_inner,
                      float scale);
/* dinp[o, a, i] += scale · dout[o, i] */
void aigc_sum_backward(float *dinp, const float *dout, gint64 n_outer, gint64 n_axis,
                       gint64 n_inner, float scale);

/* Sum / mean over dimension `dim` (negative counts from the end); keepdim keeps it as size 1. */
AigcTensor *aigc_sum(AigcCtx *ctx, AigcTensor *x, int dim, gboolean keepdim);
AigcTensor *aigc_mean(AigcCtx *ctx, AigcTensor *x, int dim, gboolean keepdim);
/* Sum / mean of all elements, as a 1-element tensor of shape [1]. */
AigcTensor *aigc_sum_all(AigcCtx *ctx, AigcTensor *x);
AigcTensor *aigc_mean_all(AigcCtx *ctx, AigcTensor *x);

G_END_DECLS
