/* SPDX-License-Identifier: MIT
 *
 * Layer, RMS, group and batch normalisation.
 *
 * Legend: N rows (layer/RMS norm: every leading dim flattened) or samples, C channels (the
 * normalised dim for layer/RMS norm), S = product of the spatial dims, G groups, L elements per
 * normalised block. m is a block's mean, s its rstd = 1/sqrt(var + eps), xhat = (x − m)·s.
 * `dout` is the gradient of the output, `d<name>` of an input; backward kernels add into them.
 *
 * Every normalised block (row, (sample, group) or channel) is independent, so the kernels run
 * in parallel over blocks with aigc_parallel_for. Parameter gradients sum over many blocks; they
 * never share an accumulator between threads but add up in a fixed grouping and order (per
 * block of rows into scratch, per group, or per channel), so results do not depend on the
 * thread count. Sums over long blocks go in 8 interleaved lanes (vectorised) per run of 1024
 * values, and the runs add up in double, so float rounding stays small for large images.
 */
#include "aigc-norm.h"

#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <math.h>
#include <string.h>

/* GCC 12 at -O2 uses the "very cheap" vectoriser cost model, which leaves loops with a runtime
 * trip count (every row loop here) scalar; the dynamic model vectorises them. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

#define RUN            1024
#define TILE_COLS      1024  /* columns per stack tile in the parameter-gradient passes */
#define BLOCK_ROWS     64    /* rows summed in float before a tile adds them in double */
#define GRAIN_ELEMENTS 16384 /* smallest chunk worth a thread */

/* ---- reductions (fixed order) ---- */

/* With GCC on x86-64 the parallel passes (NORM_PASS) are compiled twice, for AVX2 and for the
 * baseline, and the loader picks one (target_clones); both do the same operations in the same
 * order (ISO C mode contracts no FMA), so they give the same bits. Sums run in eight lanes held
 * in two 4-float vectors of GCC's vector extension: those stay in registers (an array of eight
 * scalar sums is reloaded every iteration) and are native to both clones (an 8-float vector
 * would be spilled to memory in the baseline clone). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#define NORM_PASS __attribute__((target_clones("avx2", "default")))
#else
#define NORM_PASS
#endif
#define NORM_INLINE static inline __attribute__((always_inline))

typedef float Lanes __attribute__((vector_size(4 * sizeof(float))));
#define LANES 8 /* two Lanes a step */

NORM_INLINE Lanes lanes_load(const float *p)
{
    Lanes v;
    memcpy(&v, p, sizeof v); /* unaligned load */
    return v;
}

NORM_INLINE float lanes_total(Lanes a, Lanes b)
{
    Lanes v = a + b;
    return (v[0] + v[1]) + (v[2] + v[3]);
}

/* Σ (x[i] − m) over up to RUN values; m = 0 for a plain sum. */
NORM_INLINE float lane_sum(const float *restrict x, float m, int n)
{
    Lanes a = {0}, b = {0};
    int i = 0;
    for (; i + LANES <= n; i += LANES) {
        a += lanes_load(x + i) - m;
        b += lanes_load(x + i + 4) - m;
    }
    float s = 0.0f;
    for (; i < n; i++)
        s += x[i] - m;
    return s + lanes_total(a, b);
}

/* Σ (x[i] − m)² */
NORM_INLINE float lane_sumsq(const float *restrict x, float m, int n)
{
    Lanes a = {0}, b = {0};
    int i = 0;
    for (; i + LANES <= n; i += LANES) {
        Lanes d0 = lanes_load(x + i) - m, d1 = lanes_load(x + i + 4) - m;
        a += d0 * d0;
        b += d1 * d1;
    }
    float s = 0.0f;
    for (; i < n; i++) {
        float d = x[i] - m;
        s += d * d;
    }
    return s + lanes_total(a, b);
}

/* Σ y[i]·w[i] and Σ y[i]·w[i]·(x[i] − m); w NULL = 1. */
NORM_INLINE void lane_dot_w(const float *restrict y, const float *restrict w,
                            const float *restrict x, float m, int n, float *sum_yw, float *sum_ywx)
{
    Lanes a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
    int i = 0;
    if (w)
        for (; i + LANES <= n; i += LANES) {
            Lanes y0 = lanes_load(y + i) * lanes_load(w + i);
            Lanes y1 = lanes_load(y + i + 4) * lanes_load(w + i + 4);
            a0 += y0;
            a1 += y1;
            b0 += y0 * (lanes_load(x + i) - m);
            b1 += y1 * (lanes_load(x + i + 4) - m);
        }
    else
        for (; i + LANES <= n; i += LANES) {
            Lanes y0 = lanes_load(y + i), y1 = lanes_load(y + i + 4);
            a0 += y0;
            a1 += y1;
            b0 += y0 * (lanes_load(x + i) - m);
            b1 += y1 * (lanes_load(x + i + 4) - m);
        }
    float sa = 0.0f, sb = 0.0f;
    for (; i < n; i++) {
        float yw = w ? y[i] * w[i] : y[i];
        sa += yw;
        sb += yw * (x[i] - m);
    }
    *sum_yw = sa + lanes_total(a0, a1);
    *sum_ywx = sb + lanes_total(b0, b1);
}

/* Σ y[i] and Σ y[i]·(x[i] − m) */
NORM_INLINE void lane_dot(const float *restrict y, const float *restrict x, float m, int n,
                          float *sum_y, float *sum_yx)
{
    lane_dot_w(y, NULL, x, m, n, sum_y, sum_yx);
}

NORM_INLINE double block_sum(const float *x, float m, gint64 n)
{
    double s = 0.0;
    for (gint64 i = 0; i < n; i += RUN)
        s += lane_sum(x + i, m, (int)MIN(RUN, n - i));
    return s;
}

NORM_INLINE double block_sumsq(const float *x, float m, gint64 n)
{
    double s = 0.0;
    for (gint64 i = 0; i < n; i += RUN)
        s += lane_sumsq(x + i, m, (int)MIN(RUN, n - i));
    return s;
}

NORM_INLINE void block_dot(const float *y, const float *x, float m, gint64 n, double *sum_y,
                           double *sum_yx)
{
    double sy = 0.0, syx = 0.0;
    for (gint64 i = 0; i < n; i += RUN) {
        float a, b;
        lane_dot(y + i, x + i, m, (int)MIN(RUN, n - i), &a, &b);
        sy += a;
        syx += b;
    }
    *sum_y = sy;
    *sum_yx = syx;
}

/* Mean and rstd of n values, two-pass (the block is in cache for the second). */
NORM_INLINE void block_stats(const float *x, gint64 n, float eps, float *mean, float *rstd)
{
    if (n <= RUN) {
        /* One run: float all the way, which keeps the per-row latency chain short for the
         * many short rows of small models. */
        const float inv_n = 1.0f / (float)n;
        const float m = lane_sum(x, 0.0f, (int)n) * inv_n;
        *mean = m;
        *rstd = 1.0f / sqrtf(lane_sumsq(x, m, (int)n) * inv_n + eps);
        return;
    }
    float m = (float)(block_sum(x, 0.0f, n) / (double)n);
    double var = block_sumsq(x, m, n) / (double)n;
    *mean = m;
    *rstd = (float)(1.0 / sqrt(var + eps));
}

/* rsqrt(mean(x²) + eps) */
NORM_INLINE float block_rms_rstd(const float *x, gint64 n, float eps)
{
    if (n <= RUN)
        return 1.0f / sqrtf(lane_sumsq(x, 0.0f, (int)n) / (float)n + eps);
    return (float)(1.0 / sqrt(block_sumsq(x, 0.0f, n) / (double)n + eps));
}

/* y = x·a + b over n values */
NORM_INLINE void scale_shift(float *restrict y, const float *restrict x, float a, float b, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        y[i] = x[i] * a + b;
}

static gint64 grain_for(gint64 elements_per_item)
{
    return MAX(1, GRAIN_ELEMENTS / MAX(elements_per_item, 1));
}

/* ---- backward of the row norms (layer norm, RMS norm) ----
 *
 * dinp is computed row by row. dweight[c] = Σ_n dout·xhat and dbias[c] = Σ_n dout sum over all
 * rows: rows go in blocks of BLOCK_ROWS, summed in float within a block and in double across
 * blocks, in block order, so the result does not depend on how the work is split. The ops give
 * the backward scratch for per-block sums (from the arena), and one parallel pass over row
 * blocks then does everything while each row is in cache; the raw kernels, which have no
 * scratch, add the parameter sums in a second pass over tiles of columns, with the same grouping
 * and so the same bits. */

typedef struct {
    float *dinp, *dweight, *dbias;
    float *partials; /* (nullable) [n_blocks, 2, C]: per-block Σ dout·xhat, Σ dout */
    const float *dout, *inp, *weight;
    const float *mean, *rstd; /* mean NULL: RMS norm (m = 0) */
    int N, C;
} RowBackward;

static gint64 row_blocks(int N)
{
    return (N + BLOCK_ROWS - 1) / BLOCK_ROWS;
}

/* Layer norm: dinp = s·(dout·w − mean(dout·w) − xhat·mean(dout·w·xhat)).
 * RMS norm: y = x·s·w with s = (Σx²/C + eps)^(−1/2), ∂s/∂x_j = −s³·x_j/C, so
 * dinp_j = s·(dout_j·w_j − x_j·s²·Σ_c dout_c·w_c·x_c / C). */
NORM_INLINE void row_dinp(const RowBackward *p, gint64 n)
{
    const int C = p->C;
    const float *restrict w = p->weight;
    const float *restrict x = p->inp + n * C;
    const float *restrict dy = p->dout + n * C;
    float *restrict dx = p->dinp + n * C;
    const float m = p->mean ? p->mean[n] : 0.0f, s = p->rstd[n];
    float sum_a, sum_b;
    lane_dot_w(dy, w, x, m, C, &sum_a, &sum_b);
    const float k = s * s * sum_b / C;
    if (p->mean) {
        const float ma = sum_a / C;
        if (w)
            for (int c = 0; c < C; c++)
                dx[c] += s * (dy[c] * w[c] - ma - (x[c] - m) * k);
        else
            for (int c = 0; c < C; c++)
                dx[c] += s * (dy[c] - ma - (x[c] - m) * k);
    } else {
        if (w)
            for (int c = 0; c < C; c++)
                dx[c] += s * (dy[c] * w[c] - x[c] * k);
        else
            for (int c = 0; c < C; c++)
                dx[c] += s * (dy[c] - x[c] * k);
    }
}

/* pw[j] += dout·xhat, pb[j] += dout over n values of one row */
NORM_INLINE void row_param_terms(float *restrict pw, float *restrict pb, const float *restrict dy,
                                 const float *restrict x, float m, float s, int n)
{
    for (int j = 0; j < n; j++) {
        pw[j] += dy[j] * ((x[j] - m) * s);
        pb[j] += dy[j];
    }
}

NORM_PASS static void row_dinp_rows(gint64 begin, gint64 end, gpointer data)
{
    for (gint64 n = begin; n < end; n++)
        row_dinp(data, n);
}

/* One item = one block of rows: dinp and the block's parameter sums. */
NORM_PASS static void row_backward_blocks(gint64 begin, gint64 end, gpointer data)
{
    const RowBackward *p = data;
    const int C = p->C;
    for (gint64 blk = begin; blk < end; blk++) {
        float *pw = p->partials + blk * 2 * C, *pb = pw + C;
        memset(pw, 0, 2 * (gsize)C * sizeof(float));
        for (gint64 n = blk * BLOCK_ROWS; n < MIN(p->N, (blk + 1) * BLOCK_ROWS); n++) {
            if (p->dinp)
                row_dinp(p, n);
            row_param_terms(pw, pb, p->dout + n * C, p->inp + n * C, p->mean ? p->mean[n] : 0.0f,
                            p->rstd[n], C);
        }
    }
}

/* Adds a tile's double sums to dweight and dbias. */
NORM_INLINE void row_param_store(const RowBackward *p, gint64 c0, int w, const double *tw,
                                 const double *tb)
{
    for (int j = 0; j < w; j++) {
        if (p->dweight)
            p->dweight[c0 + j] += (float)tw[j];
        if (p->dbias)
            p->dbias[c0 + j] += (float)tb[j];
    }
}

/* Columns: the per-block sums added up in block order. */
NORM_PASS static void row_partials_cols(gint64 begin, gint64 end, gpointer data)
{
    const RowBackward *p = data;
    const int C = p->C;
    const gint64 n_blocks = row_blocks(p->N);
    double tw[TILE_COLS], tb[TILE_COLS];
    for (gint64 c0 = begin; c0 < end; c0 += TILE_COLS) {
        const int w = (int)MIN(TILE_COLS, end - c0);
        memset(tw, 0, sizeof tw);
        memset(tb, 0, sizeof tb);
        for (gint64 blk = 0; blk < n_blocks; blk++) {
            const float *pw = p->partials + blk * 2 * C + c0, *pb = pw + C;
            for (int j = 0; j < w; j++) {
                tw[j] += pw[j];
                tb[j] += pb[j];
            }
        }
        row_param_store(p, c0, w, tw, tb);
    }
}

/* Columns, without scratch: each tile reads its columns of every row. */
NORM_PASS static void row_param_cols(gint64 begin, gint64 end, gpointer data)
{
    const RowBackward *p = data;
    const int N = p->N, C = p->C;
    double tw[TILE_COLS], tb[TILE_COLS];
    float pw[TILE_COLS], pb[TILE_COLS];
    for (gint64 c0 = begin; c0 < end; c0 += TILE_COLS) {
        const int w = (int)MIN(TILE_COLS, end - c0);
        memset(tw, 0, sizeof tw);
        memset(tb, 0, sizeof tb);
        for (int n0 = 0; n0 < N; n0 += BLOCK_ROWS) {
            memset(pw, 0, sizeof pw);
            memset(pb, 0, sizeof pb);
            for (int n = n0; n < MIN(N, n0 + BLOCK_ROWS); n++)
                row_param_terms(pw, pb, p->dout + (gint64)n * C + c0, p->inp + (gint64)n * C + c0,
                                p->mean ? p->mean[n] : 0.0f, p->rstd[n], w);
            for (int j = 0; j < w; j++) {
                tw[j] += pw[j];
                tb[j] += pb[j];
            }
        }
        row_param_store(p, c0, w, tw, tb);
    }
}

static void row_backward(RowBackward *p)
{
    if (p->N == 0 || p->C == 0)
        return;
    if ((p->dweight || p->dbias) && p->partials) {
        const gint64 n_blocks = row_blocks(p->N);
        aigc_parallel_for(n_blocks, grain_for((gint64)BLOCK_ROWS * p->C), row_backward_blocks, p);
        aigc_parallel_for(p->C, MAX(TILE_COLS / 8, grain_for(n_blocks)), row_partials_cols, p);
        return;
    }
    if (p->dinp)
        aigc_parallel_for(p->N, grain_for(p->C), row_dinp_rows, p);
    if (p->dweight || p->dbias)
        aigc_parallel_for(p->C, MAX(TILE_COLS / 8, grain_for(p->N)), row_param_cols, p);
}

/* Scratch for row_backward: n_blocks·2·C floats from the arena, or NULL when no parameter
 * gradient is wanted. */
static float *row_partials_new(AigcCtx *ctx, float *dweight, float *dbias, int N, int C)
{
    if (!dweight && !dbias)
        return NULL;
    return aigc_ctx_alloc_floats(ctx, row_blocks(N) * 2 * C);
}

/* ---- layer norm ---- */

typedef struct {
    float *out, *mean, *rstd;
    const float *inp, *weight, *bias;
    int C;
    float eps;
} RowNorm;

NORM_PASS static void layernorm_forward_rows(gint64 begin, gint64 end, gpointer data)
{
    const RowNorm *p = data;
    const int C = p->C;
    const float *restrict w = p->weight, *restrict b = p->bias;
    for (gint64 n = begin; n < end; n++) {
        const float *restrict x = p->inp + n * C;
        float *restrict y = p->out + n * C;
        float m, s;
        block_stats(x, C, p->eps, &m, &s);
        if (w && b)
            for (int c = 0; c < C; c++)
                y[c] = (x[c] - m) * s * w[c] + b[c];
        else if (w)
            for (int c = 0; c < C; c++)
                y[c] = (x[c] - m) * s * w[c];
        else if (b)
            for (int c = 0; c < C; c++)
                y[c] = (x[c] - m) * s + b[c];
        else
            for (int c = 0; c < C; c++)
                y[c] = (x[c] - m) * s;
        if (p->mean)
            p->mean[n] = m;
        if (p->rstd)
            p->rstd[n] = s;
    }
}

void aigc_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                            const float *weight, const float *bias, int N, int C, float eps)
{
    g_return_if_fail(N >= 0 && C >= 0);
    if (C == 0)
        return;
    RowNorm p = {.out = out,
                 .mean = mean,
                 .rstd = rstd,
                 .inp = inp,
                 .weight = weight,
                 .bias = bias,
                 .C = C,
                 .eps = eps};
    aigc_parallel_for(N, grain_for(C), layernorm_forward_rows, &p);
}

void aigc_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const float *mean,
                             const float *rstd, int N, int C)
{
    g_return_if_fail(N >= 0 && C >= 0);
    RowBackward p = {.dinp = dinp,
                     .dweight = dweight,
                     .dbias = dbias,
                     .dout = dout,
                     .inp = inp,
                     .weight = weight,
                     .mean = mean,
                     .rstd = rstd,
                     .N = N,
                     .C = C};
    row_backward(&p);
}

/* Rows of x [..., C]: N and C, or FALSE. */
static gboolean rows_of(const AigcTensor *x, gint64 *N, gint64 *C)
{
    g_return_val_if_fail(x->n_dims >= 1, FALSE);
    *C = x->shape[x->n_dims - 1];
    *N = 1;
    for (int d = 0; d < x->n_dims - 1; d++)
        *N *= x->shape[d];
    g_return_val_if_fail(*N <= G_MAXINT && *C <= G_MAXINT, FALSE);
    return TRUE;
}

static gboolean is_channel_vector(const AigcTensor *t, gint64 C)
{
    return t == NULL || (t->n_dims == 1 && t->shape[0] == C);
}

static AigcTensor *contiguous_or_null(AigcCtx *ctx, AigcTensor *t)
{
    return t ? aigc_contiguous(ctx, t) : NULL;
}

static void layernorm_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    const int N = (int)node->i[0], C = (int)node->i[1];
    const float *mean = node->saved;
    RowBackward p = {.dinp = aigc_grad(ctx, x),
                     .dweight = aigc_grad(ctx, weight),
                     .dbias = aigc_grad(ctx, bias),
                     .dout = node->out[0]->grad,
                     .inp = x->data,
                     .weight = weight ? weight->data : NULL,
                     .mean = mean,
                     .rstd = mean + N,
                     .N = N,
                     .C = C};
    p.partials = row_partials_new(ctx, p.dweight, p.dbias, N, C);
    row_backward(&p);
}

AigcTensor *aigc_layernorm(AigcCtx *ctx, AigcTensor *x, AigcTensor *weight, AigcTensor *bias,
                           float eps)
{
    g_return_val_if_fail(ctx != NULL && x != NULL, NULL);
    gint64 N, C;
    if (!rows_of(x, &N, &C))
        return NULL;
    g_return_val_if_fail(is_channel_vector(weight, C) && is_channel_vector(bias, C), NULL);
    x = aigc_contiguous(ctx, x);
    weight = contiguous_or_null(ctx, weight);
    bias = contiguous_or_null(ctx, bias);
    AigcTensor *in[3] = {x, weight, bias};
    float *stats = NULL; /* [2, N]: mean, rstd */
    if (aigc_ctx_needs_grad(ctx, 3, in))
        stats = aigc_ctx_alloc_floats(ctx, 2 * N);
    AigcTensor *y = aigc_tensor_new_like(ctx, x);
    aigc_layernorm_forward(y->data, stats, stats ? stats + N : NULL, x->data,
                           weight ? weight->data : NULL, bias ? bias->data : NULL, (int)N, (int)C,
                           eps);
    AigcNode *node = aigc_ctx_record(ctx, "layernorm", layernorm_backward, y, 3, in);
    if (node) {
        node->saved = stats;
        node->i[0] = N;
        node->i[1] = C;
    }
    return y;
}

/* ---- RMS norm ---- */

NORM_PASS static void rmsnorm_forward_rows(gint64 begin, gint64 end, gpointer data)
{
    const RowNorm *p = data;
    const int C = p->C;
    const float *restrict w = p->weight;
    for (gint64 n = begin; n < end; n++) {
        const float *restrict x = p->inp + n * C;
        float *restrict y = p->out + n * C;
        const float s = block_rms_rstd(x, C, p->eps);
        if (w)
            for (int c = 0; c < C; c++)
                y[c] = x[c] * s * w[c];
        else
            scale_shift(y, x, s, 0.0f, C);
        if (p->rstd)
            p->rstd[n] = s;
    }
}

void aigc_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *weight, int N,
                          int C, float eps)
{
    g_return_if_fail(N >= 0 && C >= 0);
    if (C == 0)
        return;
    RowNorm p = {.out = out, .rstd = rstd, .inp = inp, .weight = weight, .C = C, .eps = eps};
    aigc_parallel_for(N, grain_for(C), rmsnorm_forward_rows, &p);
}

void aigc_rmsnorm_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                           const float *weight, const float *rstd, int N, int C)
{
    g_return_if_fail(N >= 0 && C >= 0);
    RowBackward p = {.dinp = dinp,
                     .dweight = dweight,
                     .dout = dout,
                     .inp = inp,
                     .weight = weight,
                     .rstd = rstd,
                     .N = N,
                     .C = C};
    row_backward(&p);
}

static void rmsnorm_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *weight = node->in[1];
    const int N = (int)node->i[0], C = (int)node->i[1];
    RowBackward p = {.dinp = aigc_grad(ctx, x),
                     .dweight = aigc_grad(ctx, weight),
                     .dout = node->out[0]->grad,
                     .inp = x->data,
                     .weight = weight ? weight->data : NULL,
                     .rstd = node->saved,
                     .N = N,
                     .C = C};
    p.partials = row_partials_new(ctx, p.dweight, NULL, N, C);
    row_backward(&p);
}

AigcTensor *aigc_rmsnorm(AigcCtx *ctx, AigcTensor *x, AigcTensor *weight, float eps)
{
    g_return_val_if_fail(ctx != NULL && x != NULL, NULL);
    gint64 N, C;
    if (!rows_of(x, &N, &C))
        return NULL;
    g_return_val_if_fail(is_channel_vector(weight, C), NULL);
    x = aigc_contiguous(ctx, x);
    weight = contiguous_or_null(ctx, weight);
    AigcTensor *in[2] = {x, weight};
    float *rstd = NULL; /* [N] */
    if (aigc_ctx_needs_grad(ctx, 2, in))
        rstd = aigc_ctx_alloc_floats(ctx, N);
    AigcTensor *y = aigc_tensor_new_like(ctx, x);
    aigc_rmsnorm_forward(y->data, rstd, x->data, weight ? weight->data : NULL, (int)N, (int)C, eps);
    AigcNode *node = aigc_ctx_record(ctx, "rmsnorm", rmsnorm_backward, y, 2, in);
    if (node) {
        node->saved = rstd;
        node->i[0] = N;
        node->i[1] = C;
    }
    return y;
}

/* ---- group norm ---- */

typedef struct {
    float *out, *mean, *rstd, *dinp, *dweight, *dbias;
    const float *inp, *weight, *bias, *dout, *saved_mean, *saved_rstd;
    int N, C, S, G;
    float eps;
} GroupNorm;

/* One item = one (sample, group) block of C/G·S contiguous values. */
NORM_PASS static void groupnorm_forward_blocks(gint64 begin, gint64 end, gpointer data)
{
    const GroupNorm *p = data;
    const int Cg = p->C / p->G, S = p->S;
    const gint64 L = (gint64)Cg * S;
    for (gint64 ng = begin; ng < end; ng++) {
        const float *x = p->inp + ng * L;
        float *y = p->out + ng * L;
        float m, s;
        block_stats(x, L, p->eps, &m, &s);
        const int c0 = (int)(ng % p->G) * Cg;
        for (int j = 0; j < Cg; j++) {
            const float a = s * (p->weight ? p->weight[c0 + j] : 1.0f);
            const float b = (p->bias ? p->bias[c0 + j] : 0.0f) - m * a;
            scale_shift(y + (gint64)j * S, x + (gint64)j * S, a, b, S);
        }
        if (p->mean)
            p->mean[ng] = m;
        if (p->rstd)
            p->rstd[ng] = s;
    }
}

void aigc_groupnorm_forward(float *out, float *mean, float *rstd, const float *inp,
                            const float *weight, const float *bias, int N, int C, int S, int G,
                            float eps)
{
    g_return_if_fail(N >= 0 && C >= 0 && S >= 0 && G >= 1 && C % G == 0);
    if (C == 0 || S == 0)
        return;
    GroupNorm p = {.out = out,
                   .mean = mean,
                   .rstd = rstd,
                   .inp = inp,
                   .weight = weight,
                   .bias = bias,
                   .N = N,
                   .C = C,
                   .S = S,
                   .G = G,
                   .eps = eps};
    aigc_parallel_for((gint64)N * G, grain_for((gint64)C / G * S), groupnorm_forward_blocks, &p);
}

/* Block ng = (sample, group): dinp = s·(dout·w − mean(dout·w) − xhat·mean(dout·w·xhat)) with
 * the per-channel w, so the block sums are per-channel sums of dout and dout·(x − m) weighted
 * by w. Those per-channel sums are also what the parameter gradients need: when tw and tb
 * [C/G] are given, s·Σ dout·(x − m) and Σ dout of each channel are added to them. */
NORM_INLINE void groupnorm_backward_block(const GroupNorm *p, gint64 ng, double *tw, double *tb)
{
    const int Cg = p->C / p->G, S = p->S;
    const gint64 L = (gint64)Cg * S;
    const float *x = p->inp + ng * L, *dy = p->dout + ng * L;
    const float m = p->saved_mean[ng], s = p->saved_rstd[ng];
    const int c0 = (int)(ng % p->G) * Cg;
    double sum_a = 0.0, sum_b = 0.0;
    for (int j = 0; j < Cg; j++) {
        double sy, syx;
        block_dot(dy + (gint64)j * S, x + (gint64)j * S, m, S, &sy, &syx);
        const double w = p->weight ? p->weight[c0 + j] : 1.0;
        sum_a += w * sy;
        sum_b += w * syx;
        if (tw) {
            tw[j] += syx * s;
            tb[j] += sy;
        }
    }
    if (!p->dinp)
        return;
    float *dx = p->dinp + ng * L;
    const float ma = (float)(sum_a / L), k = (float)(s * s * sum_b / L);
    for (int j = 0; j < Cg; j++) {
        const float w = p->weight ? p->weight[c0 + j] : 1.0f;
        /* dx += s·w·dy − s·ma − s·k·(x − m) = a·dy + b·x + c */
        const float a = s * w, b = -s * k, c = -s * ma + s * k * m;
        const float *restrict dyj = dy + (gint64)j * S, *restrict xj = x + (gint64)j * S;
        float *restrict dxj = dx + (gint64)j * S;
        for (int i = 0; i < S; i++)
            dxj[i] += a * dyj[i] + b * xj[i] + c;
    }
}

NORM_PASS static void groupnorm_backward_blocks(gint64 begin, gint64 end, gpointer data)
{
    for (gint64 ng = begin; ng < end; ng++)
        groupnorm_backward_block(data, ng, NULL, NULL);
}

/* Groups narrow enough for their parameter sums to live on the stack, and enough of them to
 * keep two threads busy, take the one-pass path below. */
#define FUSED_MAX_CG 128
#define FUSED_MIN_G  8

/* One item = one group over all samples: dinp and, from the same pass, the parameter gradients
 * of the group's channels (no other item touches them; samples add up in order). */
NORM_PASS static void groupnorm_backward_groups(gint64 begin, gint64 end, gpointer data)
{
    const GroupNorm *p = data;
    const int Cg = p->C / p->G;
    double tw[FUSED_MAX_CG], tb[FUSED_MAX_CG];
    for (gint64 g = begin; g < end; g++) {
        memset(tw, 0, sizeof tw);
        memset(tb, 0, sizeof tb);
        for (int n = 0; n < p->N; n++)
            groupnorm_backward_block(p, (gint64)n * p->G + g, tw, tb);
        for (int j = 0; j < Cg; j++) {
            if (p->dweight)
                p->dweight[g * Cg + j] += (float)tw[j];
            if (p->dbias)
                p->dbias[g * Cg + j] += (float)tb[j];
        }
    }
}

/* One item = one channel: dweight[c] += Σ_n s·Σ_s dout·(x − m), dbias[c] += Σ_n Σ_s dout. */
NORM_PASS static void groupnorm_param_channels(gint64 begin, gint64 end, gpointer data)
{
    const GroupNorm *p = data;
    const int C = p->C, S = p->S, G = p->G, Cg = C / G;
    for (gint64 c = begin; c < end; c++) {
        double tw = 0.0, tb = 0.0;
        for (int n = 0; n < p->N; n++) {
            const gint64 ng = (gint64)n * G + c / Cg;
            const gint64 off = ((gint64)n * C + c) * S;
            double sy, syx;
            block_dot(p->dout + off, p->inp + off, p->saved_mean[ng], S, &sy, &syx);
            tw += syx * p->saved_rstd[ng];
            tb += sy;
        }
        if (p->dweight)
            p->dweight[c] += (float)tw;
        if (p->dbias)
            p->dbias[c] += (float)tb;
    }
}

void aigc_groupnorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const float *mean,
                             const float *rstd, int N, int C, int S, int G)
{
    g_return_if_fail(N >= 0 && C >= 0 && S >= 0 && G >= 1 && C % G == 0);
    if (N == 0 || C == 0 || S == 0)
        return;
    GroupNorm p = {.dinp = dinp,
                   .dweight = dweight,
                   .dbias = dbias,
                   .inp = inp,
                   .weight = weight,
                   .dout = dout,
                   .saved_mean = mean,
                   .saved_rstd = rstd,
                   .N = N,
                   .C = C,
                   .S = S,
                   .G = G};
    const gint64 L = (gint64)C / G * S;
    if ((dweight || dbias) && C / G <= FUSED_MAX_CG && G >= FUSED_MIN_G) {
        aigc_parallel_for(G, grain_for(N * L), groupnorm_backward_groups, &p);
        return;
    }
    /* Otherwise dinp per block, then the parameter sums per channel in a second pass (the
     * same terms added in the same order as above). */
    if (dinp)
        aigc_parallel_for((gint64)N * G, grain_for(L), groupnorm_backward_blocks, &p);
    if (dweight || dbias)
        aigc_parallel_for(C, grain_for((gint64)N * S), groupnorm_param_channels, &p);
}

/* x [N, C, *spatial]: N, C and S, or FALSE. */
static gboolean channels_of(const AigcTensor *x, gint64 *N, gint64 *C, gint64 *S)
{
    g_return_val_if_fail(x->n_dims >= 2, FALSE);
    *N = x->shape[0];
    *C = x->shape[1];
    *S = 1;
    for (int d = 2; d < x->n_dims; d++)
        *S *= x->shape[d];
    g_return_val_if_fail(*N <= G_MAXINT && *C <= G_MAXINT && *S <= G_MAXINT, FALSE);
    return TRUE;
}

static void groupnorm_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    const int N = (int)node->i[0], C = (int)node->i[1], S = (int)node->i[2];
    const int G = (int)node->i[3];
    const float *mean = node->saved, *rstd = mean + (gint64)N * G;
    aigc_groupnorm_backward(aigc_grad(ctx, x), aigc_grad(ctx, weight), aigc_grad(ctx, bias),
                            node->out[0]->grad, x->data, weight ? weight->data : NULL, mean, rstd,
                            N, C, S, G);
}

AigcTensor *aigc_groupnorm(AigcCtx *ctx, AigcTensor *x, int n_groups, AigcTensor *weight,
                           AigcTensor *bias, float eps)
{
    g_return_val_if_fail(ctx != NULL && x != NULL, NULL);
    gint64 N, C, S;
    if (!channels_of(x, &N, &C, &S))
        return NULL;
    g_return_val_if_fail(n_groups >= 1 && C % n_groups == 0, NULL);
    g_return_val_if_fail(is_channel_vector(weight, C) && is_channel_vector(bias, C), NULL);
    x = aigc_contiguous(ctx, x);
    weight = contiguous_or_null(ctx, weight);
    bias = contiguous_or_null(ctx, bias);
    AigcTensor *in[3] = {x, weight, bias};
    const gint64 NG = N * n_groups;
    float *stats = NULL; /* [2, N, G]: mean, rstd */
    if (aigc_ctx_needs_grad(ctx, 3, in))
        stats = aigc_ctx_alloc_floats(ctx, 2 * NG);
    AigcTensor *y = aigc_tensor_new_like(ctx, x);
    aigc_groupnorm_forward(y->data, stats, stats ? stats + NG : NULL, x->data,
                           weight ? weight->data : NULL, bias ? bias->data : NULL, (int)N, (int)C,
                           (int)S, n_groups, eps);
    AigcNode *node = aigc_ctx_record(ctx, "groupnorm", groupnorm_backward, y, 3, in);
    if (node) {
        node->saved = stats;
        node->i[0] = N;
        node->i[1] = C;
        node->i[2] = S;
        node->i[3] = n_groups;
    }
    return y;
}

/* ---- batch norm ---- */

typedef struct {
    float *out, *mean, *rstd, *running_mean, *running_var, *dinp, *dweight, *dbias;
    const float *inp, *weight, *bias, *dout, *saved_mean, *saved_rstd;
    int N, C, S;
    float momentum, eps;
    gboolean training;
} BatchNorm;

/* One item = one channel, whose values are N runs of S. */
NORM_PASS static void batchnorm_forward_channels(gint64 begin, gint64 end, gpointer data)
{
    const BatchNorm *p = data;
    const int N = p->N, C = p->C, S = p->S;
    const gint64 M = (gint64)N * S;
    for (gint64 c = begin; c < end; c++) {
        float m, s;
        if (p->training) {
            double sum = 0.0;
            for (int n = 0; n < N; n++)
                sum += block_sum(p->inp + ((gint64)n * C + c) * S, 0.0f, S);
            m = (float)(sum / (double)M);
            double ss = 0.0;
            for (int n = 0; n < N; n++)
                ss += block_sumsq(p->inp + ((gint64)n * C + c) * S, m, S);
            const double var = ss / (double)M;
            s = (float)(1.0 / sqrt(var + p->eps));
            if (p->running_mean)
                p->running_mean[c] = (1.0f - p->momentum) * p->running_mean[c] + p->momentum * m;
            if (p->running_var)
                p->running_var[c] = (float)((1.0 - p->momentum) * p->running_var[c] +
                                            p->momentum * (ss / (double)(M - 1)));
        } else {
            m = p->running_mean[c];
            s = (float)(1.0 / sqrt((double)p->running_var[c] + p->eps));
        }
        const float a = s * (p->weight ? p->weight[c] : 1.0f);
        const float b = (p->bias ? p->bias[c] : 0.0f) - m * a;
        for (int n = 0; n < N; n++) {
            const gint64 off = ((gint64)n * C + c) * S;
            scale_shift(p->out + off, p->inp + off, a, b, S);
        }
        if (p->mean)
            p->mean[c] = m;
        if (p->rstd)
            p->rstd[c] = s;
    }
}

void aigc_batchnorm_forward(float *out, float *mean, float *rstd, float *running_mean,
                            float *running_var, const float *inp, const float *weight,
                            const float *bias, int N, int C, int S, float momentum, float eps,
                            gboolean training)
{
    g_return_if_fail(N >= 0 && C >= 0 && S >= 0);
    g_return_if_fail(!training || (gint64)N * S > 1);
    g_return_if_fail(training || (running_mean != NULL && running_var != NULL));
    BatchNorm p = {.out = out,
                   .mean = mean,
                   .rstd = rstd,
                   .running_mean = running_mean,
                   .running_var = running_var,
                   .inp = inp,
                   .weight = weight,
                   .bias = bias,
                   .N = N,
                   .C = C,
                   .S = S,
                   .momentum = momentum,
                   .eps = eps,
                   .training = training};
    aigc_parallel_for(C, grain_for((gint64)N * S), batchnorm_forward_channels, &p);
}

/* Training: dinp = w·s·(dout − mean(dout) − xhat·mean(dout·xhat)); with running statistics
 * m and s are constants and dinp = w·s·dout. */
NORM_PASS static void batchnorm_backward_channels(gint64 begin, gint64 end, gpointer data)
{
    const BatchNorm *p = data;
    const int N = p->N, C = p->C, S = p->S;
    const gint64 M = (gint64)N * S;
    for (gint64 c = begin; c < end; c++) {
        const float m = p->saved_mean[c], s = p->saved_rstd[c];
        double sy = 0.0, syx = 0.0;
        if (p->training || p->dweight || p->dbias)
            for (int n = 0; n < N; n++) {
                const gint64 off = ((gint64)n * C + c) * S;
                double a, b;
                block_dot(p->dout + off, p->inp + off, m, S, &a, &b);
                sy += a;
                syx += b;
            }
        if (p->dweight)
            p->dweight[c] += (float)(syx * s);
        if (p->dbias)
            p->dbias[c] += (float)sy;
        if (!p->dinp)
            continue;
        const float ws = s * (p->weight ? p->weight[c] : 1.0f);
        float a = ws, b = 0.0f, k = 0.0f;
        if (p->training) {
            /* dinp += ws·dy − ws·sy/M − ws·s²·syx/M·(x − m) = a·dy + b·x + k */
            const float kx = (float)(s * s * syx / (double)M);
            b = -ws * kx;
            k = -ws * (float)(sy / (double)M) + ws * kx * m;
        }
        for (int n = 0; n < N; n++) {
            const gint64 off = ((gint64)n * C + c) * S;
            const float *restrict dy = p->dout + off, *restrict x = p->inp + off;
            float *restrict dx = p->dinp + off;
            for (int i = 0; i < S; i++)
                dx[i] += a * dy[i] + b * x[i] + k;
        }
    }
}

void aigc_batchnorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const float *mean,
                             const float *rstd, int N, int C, int S, gboolean training)
{
    g_return_if_fail(N >= 0 && C >= 0 && S >= 0);
    BatchNorm p = {.dinp = dinp,
                   .dweight = dweight,
                   .dbias = dbias,
                   .inp = inp,
                   .weight = weight,
                   .dout = dout,
                   .saved_mean = mean,
                   .saved_rstd = rstd,
                   .N = N,
                   .C = C,
                   .S = S,
                   .training = training};
    aigc_parallel_for(C, grain_for((gint64)N * S), batchnorm_backward_channels, &p);
}

static void batchnorm_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    const int N = (int)node->i[0], C = (int)node->i[1], S = (int)node->i[2];
    const float *mean = node->saved, *rstd = mean + C;
    aigc_batchnorm_backward(aigc_grad(ctx, x), aigc_grad(ctx, weight), aigc_grad(ctx, bias),
                            node->out[0]->grad, x->data, weight ? weight->data : NULL, mean, rstd,
                            N, C, S, (gboolean)node->i[3]);
}

AigcTensor *aigc_batchnorm(AigcCtx *ctx, AigcTensor *x, AigcTensor *weight, AigcTensor *bias,
                           float *running_mean, float *running_var, float momentum, float eps)
{
    g_return_val_if_fail(ctx != NULL && x != NULL, NULL);
    g_return_val_if_fail((running_mean == NULL) == (running_var == NULL), NULL);
    gint64 N, C, S;
    if (!channels_of(x, &N, &C, &S))
        return NULL;
    g_return_val_if_fail(is_channel_vector(weight, C) && is_channel_vector(bias, C), NULL);
    const gboolean training = aigc_ctx_get_training(ctx) || running_mean == NULL;
    g_return_val_if_fail(!training || N * S > 1, NULL);
    x = aigc_contiguous(ctx, x);
    weight = contiguous_or_null(ctx, weight);
    bias = contiguous_or_null(ctx, bias);
    AigcTensor *in[3] = {x, weight, bias};
    float *stats = NULL; /* [2, C]: mean, rstd used */
    if (aigc_ctx_needs_grad(ctx, 3, in))
        stats = aigc_ctx_alloc_floats(ctx, 2 * C);
    AigcTensor *y = aigc_tensor_new_like(ctx, x);
    aigc_batchnorm_forward(y->data, stats, stats ? stats + C : NULL, running_mean, running_var,
                           x->data, weight ? weight->data : NULL, bias ? bias->data : NULL, (int)N,
                           (int)C, (int)S, momentum, eps, training);
    AigcNode *node = aigc_ctx_record(ctx, "batchnorm", batchnorm_backward, y, 3, in);
    if (node) {
        node->saved = stats;
        node->i[0] = N;
        node->i[1] = C;
        node->i[2] = S;
        node->i[3] = training;
    }
    return y;
}
