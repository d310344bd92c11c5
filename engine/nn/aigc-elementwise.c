/* SPDX-License-Identifier: MIT
 *
 * Elementwise arithmetic with broadcasting, unary maths and sum/mean reductions.
 *
 * DESIGN: a broadcast is first "collapsed": size-1 dimensions are dropped and neighbouring
 * dimensions merged wherever every operand's strides allow, so the common cases become flat
 * loops — same shape → one dimension, [N, C] op [C] → rows of C with a stride-0 operand. The
 * innermost dimension then has stride 0 or 1 for every operand and each row is a simple loop the
 * compiler vectorises. Backward passes reduce the gradient of a stretched operand with
 * reduce_into(), or for a row vector or column of mul / div in one fused pass, always summing in
 * a fixed order (never across threads), so results do not depend on the thread count. Hot
 * kernels have AVX2 + FMA variants chosen at run time (see aigc-elementwise.h).
 *
 * Legend: N rows, C columns, n elements; out / inp / dout / dinp as in llm.c.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* The build is -O2, whose "very cheap" vectoriser skips loops with a scalar epilogue or a
 * select; these kernels are written to vectorise, so use the dynamic cost model here. No
 * trapping maths lets selects compute both sides (nothing here reads FP exception flags);
 * contraction lets the AVX2 variants use fused multiply-adds (the baseline target has none). */
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math",              \
                     "fp-contract=fast")
#endif

#include "aigc-elementwise.h"

#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <math.h>

#define GRAIN_CHEAP     (1 << 15) /* elements per chunk for memory-bound maps */
#define GRAIN_COSTLY    (1 << 12) /* for maps calling exp / log */
#define SUM_LANES       32        /* independent float accumulators: 4 AVX vectors, 8 SSE ones */
#define SUM_MIN_BLOCK   8192
#define SUM_MAX_BLOCKS  256
#define REDUCE_MAX_COLS 2048 /* column slice of a reduction over rows (2 × 8 KB on the stack) */

/* ---- helpers ---- */

typedef struct {
    AigcMapFunc func;
    float *out;
    const float *x, *y;
    float param;
} MapCtx;

static void map_range(gint64 begin, gint64 end, gpointer data)
{
    MapCtx *c = data;
    c->func(c->out ? c->out + begin : NULL, c->x ? c->x + begin : NULL, c->y ? c->y + begin : NULL,
            c->param, end - begin);
}

void aigc_map_parallel(AigcMapFunc func, float *out, const float *x, const float *y, float param,
                       gint64 n, gint64 grain)
{
    MapCtx c = {func, out, x, y, param};
    aigc_parallel_for(n, grain > 0 ? grain : GRAIN_CHEAP, map_range, &c);
}

/* Σ x in float lanes: vectorises, and each lane adds at most a few thousand terms. */
AIGC_KERNEL_BODY float sum_lanes(const float *restrict x, gint64 n)
{
    float acc[SUM_LANES] = {0};
    gint64 i = 0;
    for (; i + SUM_LANES <= n; i += SUM_LANES)
        for (int j = 0; j < SUM_LANES; j++)
            acc[j] += x[i + j];
    float s = 0;
    for (; i < n; i++)
        s += x[i];
    for (int j = 0; j < SUM_LANES; j++)
        s += acc[j];
    return s;
}

/* Σ x: float lanes within sub-blocks, double across them. */
AIGC_KERNEL_BODY double sum_serial(const float *x, gint64 n)
{
    double s = 0;
    for (gint64 i = 0; i < n; i += SUM_MIN_BLOCK)
        s += sum_lanes(x + i, MIN(SUM_MIN_BLOCK, n - i));
    return s;
}

typedef struct {
    AigcRangeSumFunc func;
    gpointer user;
    gint64 n, block;
    double *partial;
} SumCtx;

static void sum_blocks(gint64 begin, gint64 end, gpointer data)
{
    SumCtx *c = data;
    for (gint64 k = begin; k < end; k++) {
        gint64 i0 = k * c->block, i1 = MIN(c->n, i0 + c->block);
        double s = 0;
        for (gint64 i = i0; i < i1; i += SUM_MIN_BLOCK)
            s += c->func(i, MIN(i1, i + SUM_MIN_BLOCK), c->user);
        c->partial[k] = s;
    }
}

double aigc_parallel_sum(gint64 n, AigcRangeSumFunc func, gpointer user)
{
    if (n <= 0)
        return 0.0;
    if (n <= SUM_MIN_BLOCK)
        return func(0, n, user);
    /* Blocks depend on n only, so the result does not depend on the thread count. */
    gint64 block = MAX(SUM_MIN_BLOCK, (n + SUM_MAX_BLOCKS - 1) / SUM_MAX_BLOCKS);
    gint64 n_blocks = (n + block - 1) / block;
    double partial[SUM_MAX_BLOCKS];
    SumCtx c = {func, user, n, block, partial};
    aigc_parallel_for(n_blocks, 1, sum_blocks, &c);
    double s = 0;
    for (gint64 k = 0; k < n_blocks; k++)
        s += partial[k];
    return s;
}

AIGC_KERNEL_BODY double sum_floats_range_body(gint64 begin, gint64 end, gpointer user)
{
    const float *x = user;
    return sum_lanes(x + begin, end - begin);
}
AIGC_RANGE_SUM_DISPATCH(sum_floats_range)

double aigc_sum_floats(const float *x, gint64 n)
{
    return aigc_parallel_sum(n, sum_floats_range, (gpointer)x);
}

/* -1 until detected, then 0 or 1. */
static gint simd_avx2 = -1;

static gboolean cpu_has_avx2_fma(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return FALSE;
#endif
}

gboolean aigc_simd_get_avx2(void)
{
    gint state = g_atomic_int_get(&simd_avx2);
    if (G_UNLIKELY(state < 0)) {
        state = cpu_has_avx2_fma();
        g_atomic_int_set(&simd_avx2, state);
    }
    return state;
}

void aigc_simd_set_avx2(gboolean enabled)
{
    g_atomic_int_set(&simd_avx2, enabled && cpu_has_avx2_fma());
}

/* ---- strided index spaces ---- */

#define MAX_OPS 3

/* A contiguous output (operand 0) of `shape` and up to two inputs with strides over it. */
typedef struct {
    int n_dims;
    int n_ops;
    gint64 shape[AIGC_MAX_DIMS];
    gint64 stride[MAX_OPS][AIGC_MAX_DIMS];
} Layout;

static void contiguous_strides(const gint64 *shape, int n_dims, gint64 *stride)
{
    gint64 n = 1;
    for (int d = n_dims - 1; d >= 0; d--) {
        stride[d] = n;
        n *= shape[d];
    }
}

/* Drops size-1 dims and merges neighbours that every operand walks contiguously (a stride-0
 * pair merges too). Leaves at least one dimension. */
static void layout_collapse(Layout *l)
{
    Layout c = {.n_dims = 0, .n_ops = l->n_ops};
    for (int d = 0; d < l->n_dims; d++) {
        if (l->shape[d] == 1)
            continue;
        gboolean merge = c.n_dims > 0;
        for (int k = 0; k < l->n_ops && merge; k++)
            merge = c.stride[k][c.n_dims - 1] == l->stride[k][d] * l->shape[d];
        if (merge) {
            c.shape[c.n_dims - 1] *= l->shape[d];
            for (int k = 0; k < l->n_ops; k++)
                c.stride[k][c.n_dims - 1] = l->stride[k][d];
        } else {
            c.shape[c.n_dims] = l->shape[d];
            for (int k = 0; k < l->n_ops; k++)
                c.stride[k][c.n_dims] = l->stride[k][d];
            c.n_dims++;
        }
    }
    if (c.n_dims == 0) {
        c.n_dims = 1;
        c.shape[0] = 1;
        for (int k = 0; k < l->n_ops; k++)
            c.stride[k][0] = 1;
    }
    *l = c;
}

/* Offsets of row `row` (an index over all dims but the last) for every operand. */
static void layout_row_offsets(const Layout *l, gint64 row, gint64 *off)
{
    for (int k = 0; k < l->n_ops; k++)
        off[k] = 0;
    for (int d = l->n_dims - 2; d >= 0; d--) {
        gint64 i = row % l->shape[d];
        row /= l->shape[d];
        for (int k = 0; k < l->n_ops; k++)
            off[k] += i * l->stride[k][d];
    }
}

static gint64 layout_n_rows(const Layout *l)
{
    gint64 n = 1;
    for (int d = 0; d < l->n_dims - 1; d++)
        n *= l->shape[d];
    return n;
}

/* ---- broadcasting ---- */

gboolean aigc_broadcast_init(AigcBroadcast *bc, int a_n_dims, const gint64 *a_shape, int b_n_dims,
                             const gint64 *b_shape)
{
    g_return_val_if_fail(a_n_dims >= 0 && a_n_dims <= AIGC_MAX_DIMS, FALSE);
    g_return_val_if_fail(b_n_dims >= 0 && b_n_dims <= AIGC_MAX_DIMS, FALSE);
    int n = MAX(a_n_dims, b_n_dims);
    gint64 as[AIGC_MAX_DIMS], bs[AIGC_MAX_DIMS];
    contiguous_strides(a_shape, a_n_dims, as);
    contiguous_strides(b_shape, b_n_dims, bs);
    memset(bc, 0, sizeof *bc);
    bc->n_dims = n;
    bc->n_out = 1;
    for (int d = 0; d < n; d++) {
        int da = d - (n - a_n_dims), db = d - (n - b_n_dims); /* right-aligned */
        gint64 sa = da >= 0 ? a_shape[da] : 1, sb = db >= 0 ? b_shape[db] : 1;
        if (sa != sb && sa != 1 && sb != 1)
            return FALSE;
        bc->shape[d] = sa == 1 ? sb : sa;
        bc->a_stride[d] = (sa == 1) ? 0 : as[da];
        bc->b_stride[d] = (sb == 1) ? 0 : bs[db];
        bc->n_out *= bc->shape[d];
    }
    return TRUE;
}

static void broadcast_layout(Layout *l, const AigcBroadcast *bc, const gint64 *x_stride,
                             const gint64 *y_stride)
{
    l->n_dims = bc->n_dims;
    l->n_ops = 3;
    memcpy(l->shape, bc->shape, sizeof l->shape);
    contiguous_strides(bc->shape, bc->n_dims, l->stride[0]);
    for (int d = 0; d < bc->n_dims; d++) {
        l->stride[1][d] = x_stride ? x_stride[d] : l->stride[0][d];
        l->stride[2][d] = y_stride ? y_stride[d] : l->stride[0][d];
    }
    layout_collapse(l);
}

/* One row: out = x op y (or out += …), with x / y stepping 1 or 0 (broadcast). No restrict:
 * out may be x (in place); the compiler versions the loop for that. */
#define ROW_LOOPS(EXPR, STORE)                                                                     \
    do {                                                                                           \
        if (sx && sy) {                                                                            \
            for (gint64 k = 0; k < n; k++) {                                                       \
                float xv = x[k], yv = y[k];                                                        \
                STORE(EXPR);                                                                       \
            }                                                                                      \
        } else if (sx) {                                                                           \
            const float yv = y[0];                                                                 \
            for (gint64 k = 0; k < n; k++) {                                                       \
                float xv = x[k];                                                                   \
                STORE(EXPR);                                                                       \
            }                                                                                      \
        } else if (sy) {                                                                           \
            const float xv = x[0];                                                                 \
            for (gint64 k = 0; k < n; k++) {                                                       \
                float yv = y[k];                                                                   \
                STORE(EXPR);                                                                       \
            }                                                                                      \
        } else {                                                                                   \
            const float xv = x[0], yv = y[0];                                                      \
            for (gint64 k = 0; k < n; k++)                                                         \
                STORE(EXPR);                                                                       \
        }                                                                                          \
    } while (0)

#define STORE_SET(v) (out[k] = (v))
#define STORE_ACC(v) (out[k] += (v))

#define DEFINE_BINARY_ROW(NAME, STORE)                                                             \
    static void NAME(float *out, const float *x, const float *y, gint64 n, gboolean sx,            \
                     gboolean sy, AigcBinaryOp op)                                                 \
    {                                                                                              \
        switch (op) {                                                                              \
        case AIGC_BINARY_ADD:                                                                      \
            ROW_LOOPS(xv + yv, STORE);                                                             \
            break;                                                                                 \
        case AIGC_BINARY_SUB:                                                                      \
            ROW_LOOPS(xv - yv, STORE);                                                             \
            break;                                                                                 \
        case AIGC_BINARY_MUL:                                                                      \
            ROW_LOOPS(xv *yv, STORE);                                                              \
            break;                                                                                 \
        case AIGC_BINARY_DIV:                                                                      \
            ROW_LOOPS(xv / yv, STORE);                                                             \
            break;                                                                                 \
        }                                                                                          \
    }

DEFINE_BINARY_ROW(binary_row_set, STORE_SET)
DEFINE_BINARY_ROW(binary_row_acc, STORE_ACC)

static void binary_row(float *out, const float *x, const float *y, gint64 n, gboolean sx,
                       gboolean sy, AigcBinaryOp op, gboolean acc)
{
    if (acc)
        binary_row_acc(out, x, y, n, sx, sy, op);
    else
        binary_row_set(out, x, y, n, sx, sy, op);
}

typedef struct {
    Layout l;
    float *out;
    const float *x, *y;
    AigcBinaryOp op;
    gboolean acc;
} BinaryCtx;

static void binary_rows(gint64 begin, gint64 end, gpointer data)
{
    BinaryCtx *c = data;
    const Layout *l = &c->l;
    int last = l->n_dims - 1;
    gint64 inner = l->shape[last];
    if (l->n_dims == 1) {
        /* Flat: `begin`..`end` index elements here, not rows. */
        gboolean sx = l->stride[1][0] != 0, sy = l->stride[2][0] != 0;
        binary_row(c->out + begin, c->x + (sx ? begin : 0), c->y + (sy ? begin : 0), end - begin,
                   sx, sy, c->op, c->acc);
        return;
    }
    for (gint64 row = begin; row < end; row++) {
        gint64 off[MAX_OPS];
        layout_row_offsets(l, row, off);
        binary_row(c->out + off[0], c->x + off[1], c->y + off[2], inner, l->stride[1][last] != 0,
                   l->stride[2][last] != 0, c->op, c->acc);
    }
}

/* out (+)= x op y over a collapsed layout. */
static void binary_run(float *out, const float *x, const float *y, const Layout *layout,
                       AigcBinaryOp op, gboolean acc)
{
    BinaryCtx c = {*layout, out, x, y, op, acc};
    if (layout->n_dims == 1) {
        aigc_parallel_for(layout->shape[0], GRAIN_CHEAP, binary_rows, &c);
    } else {
        gint64 inner = layout->shape[layout->n_dims - 1];
        aigc_parallel_for(layout_n_rows(layout), MAX(1, GRAIN_CHEAP / inner), binary_rows, &c);
    }
}

void aigc_binary_forward(float *out, const float *a, const float *b, const AigcBroadcast *bc,
                         AigcBinaryOp op)
{
    if (bc->n_out == 0)
        return;
    Layout l;
    broadcast_layout(&l, bc, bc->a_stride, bc->b_stride);
    binary_run(out, a, b, &l, op, FALSE);
}

/* ---- reductions into a broadcast operand ---- */

typedef struct {
    Layout l; /* operand 0: the contiguous source; operand 1: dst strides (0 = reduced) */
    float *dst;
    const float *src;
    float scale;
    /* outer dims (all but the last) split into kept and reduced ones */
    int n_kept, n_red;
    int kept_dim[AIGC_MAX_DIMS], red_dim[AIGC_MAX_DIMS];
    gint64 n_red_rows;
    gint64 col_block, n_col_blocks;
} ReduceCtx;

/* Width of the column slices of a reduction over rows of `inner` columns: whole rows where
 * possible (long unit-stride reads), split across the threads when there are fewer than one
 * independent unit each. Each column's sum is the same whatever the split. */
static gint64 column_slice(gint64 inner, gint64 n_units)
{
    int n_threads = aigc_threads_get();
    gint64 width = n_units >= n_threads ? inner : (inner + n_threads - 1) / n_threads;
    width = CLAMP((width + 15) / 16 * 16, 16, REDUCE_MAX_COLS);
    return MIN(width, inner);
}

static void reduce_offsets(const ReduceCtx *c, const int *dims, int n_dims, gint64 idx,
                           gint64 *src_off, gint64 *dst_off)
{
    *src_off = 0;
    *dst_off = 0;
    for (int k = n_dims - 1; k >= 0; k--) {
        int d = dims[k];
        gint64 i = idx % c->l.shape[d];
        idx /= c->l.shape[d];
        *src_off += i * c->l.stride[0][d];
        *dst_off += i * c->l.stride[1][d];
    }
}

/* Inner dim kept: each unit is (kept outer row, column slice); rows of the reduced outer dims
 * are added in order, in blocks of 256 rows so float error stays small for tall reductions. */
static void reduce_rows_kept(gint64 begin, gint64 end, gpointer data)
{
    ReduceCtx *c = data;
    int last = c->l.n_dims - 1;
    gint64 inner = c->l.shape[last];
    float acc[REDUCE_MAX_COLS], part[REDUCE_MAX_COLS];
    for (gint64 u = begin; u < end; u++) {
        gint64 k = u / c->n_col_blocks, cb = u % c->n_col_blocks;
        gint64 c0 = cb * c->col_block, w = MIN(c->col_block, inner - c0);
        gint64 src_k, dst_k;
        reduce_offsets(c, c->kept_dim, c->n_kept, k, &src_k, &dst_k);
        for (gint64 j = 0; j < w; j++)
            acc[j] = 0;
        for (gint64 r0 = 0; r0 < c->n_red_rows; r0 += 256) {
            for (gint64 j = 0; j < w; j++)
                part[j] = 0;
            for (gint64 r = r0; r < MIN(r0 + 256, c->n_red_rows); r++) {
                gint64 src_r, dst_r;
                reduce_offsets(c, c->red_dim, c->n_red, r, &src_r, &dst_r);
                const float *restrict s = c->src + src_k + src_r + c0;
                for (gint64 j = 0; j < w; j++)
                    part[j] += s[j];
            }
            for (gint64 j = 0; j < w; j++)
                acc[j] += part[j];
        }
        float *restrict d = c->dst + dst_k + c0;
        for (gint64 j = 0; j < w; j++)
            d[j] += c->scale * acc[j];
    }
}

/* Inner dim reduced: each kept outer row sums its rows of the source. */
AIGC_KERNEL_BODY void reduce_rows_summed_body(gint64 begin, gint64 end, gpointer data)
{
    ReduceCtx *c = data;
    gint64 inner = c->l.shape[c->l.n_dims - 1];
    for (gint64 k = begin; k < end; k++) {
        gint64 src_k, dst_k;
        reduce_offsets(c, c->kept_dim, c->n_kept, k, &src_k, &dst_k);
        double s = 0;
        for (gint64 r = 0; r < c->n_red_rows; r++) {
            gint64 src_r, dst_r;
            reduce_offsets(c, c->red_dim, c->n_red, r, &src_r, &dst_r);
            s += sum_serial(c->src + src_k + src_r, inner);
        }
        c->dst[dst_k] += c->scale * (float)s;
    }
}
AIGC_ROWS_DISPATCH(reduce_rows_summed)

static void accumulate_range(float *out, const float *x, const float *y, float s, gint64 n)
{
    float *restrict o = out;
    const float *restrict xr = x;
    if (s == 1.0f)
        for (gint64 i = 0; i < n; i++)
            o[i] += xr[i];
    else
        for (gint64 i = 0; i < n; i++)
            o[i] += s * xr[i];
}

/* dst[j] += scale · Σ src[i] over every i that maps to j: src is contiguous over `shape`,
 * dst_stride gives dst's strides over the same dims, 0 where dst is reduced. */
static void reduce_into(float *dst, const float *src, int n_dims, const gint64 *shape,
                        const gint64 *dst_stride, float scale)
{
    ReduceCtx c = {.dst = dst, .src = src, .scale = scale};
    c.l.n_dims = n_dims;
    c.l.n_ops = 2;
    gint64 n = 1;
    for (int d = 0; d < n_dims; d++) {
        c.l.shape[d] = shape[d];
        c.l.stride[1][d] = dst_stride[d];
        n *= shape[d];
    }
    if (n == 0)
        return;
    contiguous_strides(shape, n_dims, c.l.stride[0]);
    layout_collapse(&c.l);
    int last = c.l.n_dims - 1;
    gboolean any_reduced = FALSE, any_kept = FALSE;
    for (int d = 0; d <= last; d++) {
        any_reduced |= c.l.stride[1][d] == 0;
        any_kept |= c.l.stride[1][d] != 0;
    }
    if (!any_reduced) { /* nothing stretched: dst has src's layout */
        aigc_map_parallel(accumulate_range, dst, src, NULL, scale, n, GRAIN_CHEAP);
        return;
    }
    if (!any_kept) {
        dst[0] += scale * (float)aigc_sum_floats(src, n);
        return;
    }
    gint64 n_kept_rows = 1;
    c.n_red_rows = 1;
    for (int d = 0; d < last; d++) {
        if (c.l.stride[1][d] != 0) {
            c.kept_dim[c.n_kept++] = d;
            n_kept_rows *= c.l.shape[d];
        } else {
            c.red_dim[c.n_red++] = d;
            c.n_red_rows *= c.l.shape[d];
        }
    }
    gint64 inner = c.l.shape[last];
    if (c.l.stride[1][last] != 0) {
        c.col_block = column_slice(inner, n_kept_rows);
        c.n_col_blocks = (inner + c.col_block - 1) / c.col_block;
        gint64 units = n_kept_rows * c.n_col_blocks;
        gint64 work = MAX(1, c.n_red_rows * c.col_block);
        aigc_parallel_for(units, MAX(1, GRAIN_CHEAP / work), reduce_rows_kept, &c);
    } else {
        gint64 work = MAX(1, c.n_red_rows * inner);
        aigc_parallel_for(n_kept_rows, MAX(1, GRAIN_CHEAP / work), reduce_rows_summed, &c);
    }
}

/* ---- fused gradients of a stretched operand of mul / div ---- */

typedef struct {
    float *dx;
    const float *dout, *other, *div;
    gint64 R, K; /* rows and columns of the collapsed [R, K] (row) or [K, R] (column) */
    gint64 col_block;
    AigcBinaryOp op;
    float scale;
} FusedCtx;

#define FUSED_ROW_BLOCK 256

/* Row vector: dx[k] += scale · Σ_r dout[r, k] (·|÷) other[r, k]  (÷ div[k]); the column
 * slices are independent, rows are added in blocks so float error stays small. */
static void fused_row_cols(gint64 begin, gint64 end, gpointer data)
{
    FusedCtx *c = data;
    float acc[REDUCE_MAX_COLS], part[REDUCE_MAX_COLS];
    for (gint64 blk = begin; blk < end; blk++) {
        gint64 c0 = blk * c->col_block, w = MIN(c->col_block, c->K - c0);
        for (gint64 j = 0; j < w; j++)
            acc[j] = 0;
        for (gint64 r0 = 0; r0 < c->R; r0 += FUSED_ROW_BLOCK) {
            for (gint64 j = 0; j < w; j++)
                part[j] = 0;
            for (gint64 r = r0; r < MIN(r0 + FUSED_ROW_BLOCK, c->R); r++) {
                const float *restrict g = c->dout + r * c->K + c0;
                const float *restrict o = c->other + r * c->K + c0;
                if (c->op == AIGC_BINARY_MUL)
                    for (gint64 j = 0; j < w; j++)
                        part[j] += g[j] * o[j];
                else
                    for (gint64 j = 0; j < w; j++)
                        part[j] += g[j] / o[j];
            }
            for (gint64 j = 0; j < w; j++)
                acc[j] += part[j];
        }
        float *restrict d = c->dx + c0;
        if (c->div)
            for (gint64 j = 0; j < w; j++)
                d[j] += c->scale * acc[j] / c->div[c0 + j];
        else
            for (gint64 j = 0; j < w; j++)
                d[j] += c->scale * acc[j];
    }
}

/* Column: dx[k] += scale · Σ_r dout[k, r] (·|÷) other[k, r]  (÷ div[k]) */
static void fused_col_rows(gint64 begin, gint64 end, gpointer data)
{
    FusedCtx *c = data;
    for (gint64 k = begin; k < end; k++) {
        const float *restrict g = c->dout + k * c->R;
        const float *restrict o = c->other + k * c->R;
        float lanes[SUM_LANES] = {0};
        float s = 0;
        gint64 i = 0;
        if (c->op == AIGC_BINARY_MUL) {
            for (; i + SUM_LANES <= c->R; i += SUM_LANES)
                for (int j = 0; j < SUM_LANES; j++)
                    lanes[j] += g[i + j] * o[i + j];
            for (; i < c->R; i++)
                s += g[i] * o[i];
        } else {
            for (; i + SUM_LANES <= c->R; i += SUM_LANES)
                for (int j = 0; j < SUM_LANES; j++)
                    lanes[j] += g[i + j] / o[i + j];
            for (; i < c->R; i++)
                s += g[i] / o[i];
        }
        for (int j = 0; j < SUM_LANES; j++)
            s += lanes[j];
        c->dx[k] += c->div ? c->scale * s / c->div[k] : c->scale * s;
    }
}

/* dx += scale · Σ (dout op other) (÷ div) over the dims where x is stretched, in one pass, when
 * the layout collapses to x being a row vector ([R, K] with x strides (0, 1)) or a column
 * ([K, R], strides (1, 0)) of a full `other`. Returns FALSE (doing nothing) otherwise. */
typedef enum { FUSED_NONE, FUSED_ROW, FUSED_COL } FusedKind;

/* How x, stretched over bc, collapses: a row vector ([R, K], x strides (0, 1)), a column
 * ([K, R], strides (1, 0)) or neither. R and K are filled for the first two. */
static FusedKind fused_kind(const AigcBroadcast *bc, const gint64 *x_stride, gint64 *R, gint64 *K)
{
    Layout l = {.n_dims = bc->n_dims, .n_ops = 2};
    memcpy(l.shape, bc->shape, sizeof l.shape);
    contiguous_strides(bc->shape, bc->n_dims, l.stride[0]);
    memcpy(l.stride[1], x_stride, sizeof l.stride[1]);
    layout_collapse(&l);
    if (l.n_dims != 2)
        return FUSED_NONE;
    if (l.stride[1][0] == 0 && l.stride[1][1] == 1) {
        *R = l.shape[0];
        *K = l.shape[1];
        return FUSED_ROW;
    }
    if (l.stride[1][0] == 1 && l.stride[1][1] == 0) {
        *K = l.shape[0];
        *R = l.shape[1];
        return FUSED_COL;
    }
    return FUSED_NONE;
}

/* dx += scale · Σ (dout op other) (÷ div) over the dims where x is stretched, in one pass, when
 * x is a row vector or a column of the full `other` (see fused_kind). Returns FALSE (doing
 * nothing) otherwise. */
static gboolean fused_broadcast_grad(float *dx, const float *dout, const float *other,
                                     const float *div, const AigcBroadcast *bc,
                                     const gint64 *x_stride, AigcBinaryOp op, float scale)
{
    FusedCtx c = {dx, dout, other, div, 0, 0, 0, op, scale};
    switch (fused_kind(bc, x_stride, &c.R, &c.K)) {
    case FUSED_ROW: {
        c.col_block = column_slice(c.K, 1);
        gint64 n_blocks = (c.K + c.col_block - 1) / c.col_block;
        aigc_parallel_for(n_blocks, MAX(1, GRAIN_CHEAP / (c.R * c.col_block)), fused_row_cols, &c);
        return TRUE;
    }
    case FUSED_COL:
        aigc_parallel_for(c.K, MAX(1, GRAIN_CHEAP / c.R), fused_col_rows, &c);
        return TRUE;
    case FUSED_NONE:
        break;
    }
    return FALSE;
}

static gboolean is_full(const AigcBroadcast *bc, const gint64 *x_stride)
{
    gint64 full[AIGC_MAX_DIMS];
    contiguous_strides(bc->shape, bc->n_dims, full);
    for (int d = 0; d < bc->n_dims; d++)
        if (bc->shape[d] != 1 && x_stride[d] != full[d])
            return FALSE;
    return TRUE;
}

gboolean aigc_binary_backward_needs_scratch(const AigcBroadcast *bc, AigcBinaryOp op,
                                            gboolean need_da, gboolean need_db)
{
    if (op == AIGC_BINARY_ADD || op == AIGC_BINARY_SUB || bc->n_out == 0)
        return FALSE;
    gboolean a_full = is_full(bc, bc->a_stride), b_full = is_full(bc, bc->b_stride);
    gint64 R, K;
    if (need_da && !a_full && !(b_full && fused_kind(bc, bc->a_stride, &R, &K) != FUSED_NONE))
        return TRUE;
    if (need_db && !b_full) {
        /* mul needs a full a for the fused pass; div uses the (always full) output */
        gboolean other_full = op == AIGC_BINARY_DIV || a_full;
        if (!(other_full && fused_kind(bc, bc->b_stride, &R, &K) != FUSED_NONE))
            return TRUE;
    }
    return FALSE;
}

void aigc_binary_backward(float *da, float *db, float *scratch, const float *dout, const float *a,
                          const float *b, const float *out, const AigcBroadcast *bc,
                          AigcBinaryOp op)
{
    if (bc->n_out == 0)
        return;
    gboolean a_full = is_full(bc, bc->a_stride), b_full = is_full(bc, bc->b_stride);
    Layout l;
    switch (op) {
    case AIGC_BINARY_ADD:
    case AIGC_BINARY_SUB:
        if (da)
            reduce_into(da, dout, bc->n_dims, bc->shape, bc->a_stride, 1.0f);
        if (db)
            reduce_into(db, dout, bc->n_dims, bc->shape, bc->b_stride,
                        op == AIGC_BINARY_ADD ? 1.0f : -1.0f);
        break;
    case AIGC_BINARY_MUL:
    case AIGC_BINARY_DIV:
        /* da = Σ dout · b   or   Σ dout / b */
        if (da) {
            broadcast_layout(&l, bc, NULL, bc->b_stride);
            if (a_full) {
                binary_run(da, dout, b, &l, op, TRUE);
            } else if (!b_full ||
                       !fused_broadcast_grad(da, dout, b, NULL, bc, bc->a_stride, op, 1.0f)) {
                g_return_if_fail(scratch != NULL);
                binary_run(scratch, dout, b, &l, op, FALSE);
                reduce_into(da, scratch, bc->n_dims, bc->shape, bc->a_stride, 1.0f);
            }
        }
        if (db && op == AIGC_BINARY_MUL) { /* db = Σ dout · a */
            broadcast_layout(&l, bc, NULL, bc->a_stride);
            if (b_full) {
                binary_run(db, dout, a, &l, op, TRUE);
            } else if (!a_full ||
                       !fused_broadcast_grad(db, dout, a, NULL, bc, bc->b_stride, op, 1.0f)) {
                g_return_if_fail(scratch != NULL);
                binary_run(scratch, dout, a, &l, op, FALSE);
                reduce_into(db, scratch, bc->n_dims, bc->shape, bc->b_stride, 1.0f);
            }
        } else if (db) { /* db = −Σ dout · out / b  (= −dout · a / b²) */
            if (b_full) {
                /* db -= (dout · out) / b, without a scratch buffer: b is contiguous here. */
                const float *restrict go = dout, *restrict o = out, *restrict bb = b;
                float *restrict g = db;
                const gint64 n = bc->n_out;
                for (gint64 i = 0; i < n; i++)
                    g[i] -= go[i] * o[i] / bb[i];
            } else if (!fused_broadcast_grad(db, dout, out, b, bc, bc->b_stride, AIGC_BINARY_MUL,
                                             -1.0f)) {
                g_return_if_fail(scratch != NULL);
                Layout full_l;
                broadcast_layout(&full_l, bc, NULL, NULL);
                broadcast_layout(&l, bc, NULL, bc->b_stride);
                binary_run(scratch, dout, out, &full_l, AIGC_BINARY_MUL, FALSE);
                binary_run(scratch, scratch, b, &l, AIGC_BINARY_DIV, FALSE);
                reduce_into(db, scratch, bc->n_dims, bc->shape, bc->b_stride, -1.0f);
            }
        }
        break;
    }
}

static void binary_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *a = node->in[0], *b = node->in[1], *out = node->out[0];
    AigcBinaryOp op = (AigcBinaryOp)node->i[0];
    AigcBroadcast bc;
    aigc_broadcast_init(&bc, a->n_dims, a->shape, b->n_dims, b->shape);
    float *da = aigc_grad(ctx, a);
    float *db = aigc_grad(ctx, b);
    float *scratch = NULL;
    if (aigc_binary_backward_needs_scratch(&bc, op, da != NULL, db != NULL))
        scratch = aigc_ctx_alloc_floats(ctx, bc.n_out);
    aigc_binary_backward(da, db, scratch, out->grad, a->data, b->data, out->data, &bc, op);
}

static const char *const binary_names[] = {"add", "sub", "mul", "div"};

AigcTensor *aigc_binary(AigcCtx *ctx, AigcTensor *a, AigcTensor *b, AigcBinaryOp op)
{
    g_return_val_if_fail(ctx != NULL && a != NULL && b != NULL, NULL);
    g_return_val_if_fail(op >= AIGC_BINARY_ADD && op <= AIGC_BINARY_DIV, NULL);
    AigcBroadcast bc;
    gboolean ok = aigc_broadcast_init(&bc, a->n_dims, a->shape, b->n_dims, b->shape);
    g_return_val_if_fail(ok, NULL);
    a = aigc_contiguous(ctx, a);
    b = aigc_contiguous(ctx, b);
    AigcTensor *out = aigc_tensor_new(ctx, bc.n_dims, bc.shape);
    aigc_binary_forward(out->data, a->data, b->data, &bc, op);
    AigcNode *node = aigc_record2(ctx, binary_names[op], binary_backward, out, a, b);
    if (node)
        node->i[0] = op;
    return out;
}

AigcTensor *aigc_add(AigcCtx *ctx, AigcTensor *a, AigcTensor *b)
{
    return aigc_binary(ctx, a, b, AIGC_BINARY_ADD);
}

AigcTensor *aigc_sub(AigcCtx *ctx, AigcTensor *a, AigcTensor *b)
{
    return aigc_binary(ctx, a, b, AIGC_BINARY_SUB);
}

AigcTensor *aigc_mul(AigcCtx *ctx, AigcTensor *a, AigcTensor *b)
{
    return aigc_binary(ctx, a, b, AIGC_BINARY_MUL);
}

AigcTensor *aigc_div(AigcCtx *ctx, AigcTensor *a, AigcTensor *b)
{
    return aigc_binary(ctx, a, b, AIGC_BINARY_DIV);
}

/* ---- unary maths ---- */

static void scale_fwd(float *restrict out, const float *restrict inp, const float *y, float s,
                      gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = s * inp[i];
}

static void scale_bwd(float *restrict dinp, const float *restrict dout, const float *y, float s,
                      gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        dinp[i] += s * dout[i];
}

static void add_scalar_fwd(float *restrict out, const float *restrict inp, const float *y, float c,
                           gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = inp[i] + c;
}

static void add_scalar_bwd(float *restrict dinp, const float *restrict dout, const float *y,
                           float c, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        dinp[i] += dout[i];
}

AIGC_KERNEL_BODY void exp_fwd_body(float *restrict out, const float *restrict inp, const float *y,
                                   float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = aigc_vexpf(inp[i]);
}
AIGC_MAP_DISPATCH(exp_fwd)

/* Saves the output: d exp(x) = exp(x) dx. */
static void exp_bwd(float *restrict dinp, const float *restrict dout, const float *restrict out,
                    float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        dinp[i] += dout[i] * out[i];
}

AIGC_KERNEL_BODY void log_fwd_body(float *restrict out, const float *restrict inp, const float *y,
                                   float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = aigc_vlogf(inp[i]);
}
AIGC_MAP_DISPATCH(log_fwd)

static void log_bwd(float *restrict dinp, const float *restrict dout, const float *restrict inp,
                    float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        dinp[i] += dout[i] / inp[i];
}

static void sqrt_fwd(float *restrict out, const float *restrict inp, const float *y, float p,
                     gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = sqrtf(inp[i]);
}

static void sqrt_bwd(float *restrict dinp, const float *restrict dout, const float *restrict out,
                     float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        dinp[i] += 0.5f * dout[i] / out[i];
}

static void square_fwd(float *restrict out, const float *restrict inp, const float *y, float p,
                       gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        out[i] = inp[i] * inp[i];
}

static void square_bwd(float *restrict dinp, const float *restrict dout, const float *restrict inp,
                       float p, gint64 n)
{
    for (gint64 i = 0; i < n; i++)
        dinp[i] += 2.0f * inp[i] * dout[i];
}

void aigc_scale_forward(float *out, const float *inp, float s, gint64 n)
{
    aigc_map_parallel(scale_fwd, out, inp, NULL, s, n, GRAIN_CHEAP);
}

void aigc_scale_backward(float *dinp, const float *dout, float s, gint64 n)
{
    aigc_map_parallel(scale_bwd, dinp, dout, NULL, s, n, GRAIN_CHEAP);
}

void aigc_add_scalar_forward(float *out, const float *inp, float c, gint64 n)
{
    aigc_map_parallel(add_scalar_fwd, out, inp, NULL, c, n, GRAIN_CHEAP);
}

void aigc_accumulate(float *dinp, const float *dout, gint64 n)
{
    aigc_map_parallel(add_scalar_bwd, dinp, dout, NULL, 0.0f, n, GRAIN_CHEAP);
}

void aigc_exp_forward(float *out, const float *inp, gint64 n)
{
    aigc_map_parallel(exp_fwd, out, inp, NULL, 0.0f, n, GRAIN_COSTLY);
}

void aigc_exp_backward(float *dinp, const float *dout, const float *out, gint64 n)
{
    aigc_map_parallel(exp_bwd, dinp, dout, out, 0.0f, n, GRAIN_CHEAP);
}

void aigc_ln_forward(float *out, const float *inp, gint64 n)
{
    aigc_map_parallel(log_fwd, out, inp, NULL, 0.0f, n, GRAIN_COSTLY);
}

void aigc_ln_backward(float *dinp, const float *dout, const float *inp, gint64 n)
{
    aigc_map_parallel(log_bwd, dinp, dout, inp, 0.0f, n, GRAIN_CHEAP);
}

void aigc_sqrt_forward(float *out, const float *inp, gint64 n)
{
    aigc_map_parallel(sqrt_fwd, out, inp, NULL, 0.0f, n, GRAIN_CHEAP);
}

void aigc_sqrt_backward(float *dinp, const float *dout, const float *out, gint64 n)
{
    aigc_map_parallel(sqrt_bwd, dinp, dout, out, 0.0f, n, GRAIN_CHEAP);
}

void aigc_square_forward(float *out, const float *inp, gint64 n)
{
    aigc_map_parallel(square_fwd, out, inp, NULL, 0.0f, n, GRAIN_CHEAP);
}

void aigc_square_backward(float *dinp, const float *dout, const float *inp, gint64 n)
{
    aigc_map_parallel(square_bwd, dinp, dout, inp, 0.0f, n, GRAIN_CHEAP);
}

/* ---- differentiable unary ops ---- */

static void unary_backward(AigcCtx *ctx, AigcNode *node)
{
    const AigcUnaryDesc *desc = node->saved;
    AigcTensor *x = node->in[0], *y = node->out[0];
    float *dx = aigc_grad(ctx, x);
    if (!dx)
        return;
    const float *saved = desc->backward_uses_out ? y->data : x->data;
    aigc_map_parallel(desc->backward, dx, y->grad, saved, node->f[0], x->n_elements, desc->grain);
}

AigcTensor *aigc_unary(AigcCtx *ctx, AigcTensor *x, const AigcUnaryDesc *desc, float param)
{
    g_return_val_if_fail(ctx != NULL && x != NULL && desc != NULL, NULL);
    x = aigc_contiguous(ctx, x);
    AigcTensor *y = aigc_tensor_new_like(ctx, x);
    aigc_map_parallel(desc->forward, y->data, x->data, NULL, param, x->n_elements, desc->grain);
    AigcNode *node = aigc_record1(ctx, desc->name, unary_backward, y, x);
    if (node) {
        node->saved = (gpointer)desc;
        node->f[0] = param;
    }
    return y;
}

static const AigcUnaryDesc scale_desc = {"scale", scale_fwd, scale_bwd, FALSE, GRAIN_CHEAP};
static const AigcUnaryDesc add_scalar_desc = {"add_scalar", add_scalar_fwd, add_scalar_bwd, FALSE,
                                              GRAIN_CHEAP};
static const AigcUnaryDesc exp_desc = {"exp", exp_fwd, exp_bwd, TRUE, GRAIN_COSTLY};
static const AigcUnaryDesc log_desc = {"ln", log_fwd, log_bwd, FALSE, GRAIN_COSTLY};
static const AigcUnaryDesc sqrt_desc = {"sqrt", sqrt_fwd, sqrt_bwd, TRUE, GRAIN_CHEAP};
static const AigcUnaryDesc square_desc = {"square", square_fwd, square_bwd, FALSE, GRAIN_CHEAP};

AigcTensor *aigc_scale(AigcCtx *ctx, AigcTensor *x, float s)
{
    return aigc_unary(ctx, x, &scale_desc, s);
}

AigcTensor *aigc_add_scalar(AigcCtx *ctx, AigcTensor *x, float c)
{
    return aigc_unary(ctx, x, &add_scalar_desc, c);
}

AigcTensor *aigc_neg(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &scale_desc, -1.0f);
}

AigcTensor *aigc_exp(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &exp_desc, 0.0f);
}

AigcTensor *aigc_ln(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &log_desc, 0.0f);
}

AigcTensor *aigc_sqrt(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &sqrt_desc, 0.0f);
}

AigcTensor *aigc_square(AigcCtx *ctx, AigcTensor *x)
{
    return aigc_unary(ctx, x, &square_desc, 0.0f);
}

/* ---- sum / mean ---- */

void aigc_sum_forward(float *out, const float *inp, gint64 n_outer, gint64 n_axis, gint64 n_inner,
                      float scale)
{
    memset(out, 0, (gsize)(n_outer * n_inner) * sizeof(float));
    gint64 shape[3] = {n_outer, n_axis, n_inner};
    gint64 dst_stride[3] = {n_inner, 0, 1};
    reduce_into(out, inp, 3, shape, dst_stride, scale);
}

void aigc_sum_backward(float *dinp, const float *dout, gint64 n_outer, gint64 n_axis,
                       gint64 n_inner, float scale)
{
    /* dinp[o, a, i] += scale · dout[o, i]: a broadcast multiply-accumulate by a 1-element
     * "tensor" holding scale. */
    AigcBroadcast bc = {.n_dims = 3,
                        .shape = {n_outer, n_axis, n_inner},
                        .a_stride = {n_inner, 0, 1},
                        .b_stride = {0, 0, 0},
                        .n_out = n_outer * n_axis * n_inner};
    if (bc.n_out == 0)
        return;
    Layout l;
    broadcast_layout(&l, &bc, bc.a_stride, bc.b_stride);
    binary_run(dinp, dout, &scale, &l, AIGC_BINARY_MUL, TRUE);
}

static void sum_backward_node(AigcCtx *ctx, AigcNode *node)
{
    float *dx = aigc_grad(ctx, node->in[0]);
    if (dx)
        aigc_sum_backward(dx, node->out[0]->grad, node->i[0], node->i[1], node->i[2], node->f[0]);
}

static AigcTensor *reduce_op(AigcCtx *ctx, AigcTensor *x, int dim, gboolean keepdim, gboolean mean,
                             const char *name)
{
    g_return_val_if_fail(ctx != NULL && x != NULL, NULL);
    if (dim < 0)
        dim += x->n_dims;
    g_return_val_if_fail(dim >= 0 && dim < x->n_dims, NULL);
    x = aigc_contiguous(ctx, x);
    gint64 n_outer = 1, n_inner = 1, n_axis = x->shape[dim];
    for (int d = 0; d < dim; d++)
        n_outer *= x->shape[d];
    for (int d = dim + 1; d < x->n_dims; d++)
        n_inner *= x->shape[d];
    gint64 shape[AIGC_MAX_DIMS];
    int n_dims = 0;
    for (int d = 0; d < x->n_dims; d++) {
        if (d != dim)
            shape[n_dims++] = x->shape[d];
        else if (keepdim)
            shape[n_dims++] = 1;
    }
    if (n_dims == 0)
        shape[n_dims++] = 1;
    float scale = mean ? 1.0f / (float)n_axis : 1.0f;
    AigcTensor *y = aigc_tensor_new(ctx, n_dims, shape);
    aigc_sum_forward(y->data, x->data, n_outer, n_axis, n_inner, scale);
    AigcNode *node = aigc_record1(ctx, name, sum_backward_node, y, x);
    if (node) {
        node->i[0] = n_outer;
        node->i[1] = n_axis;
        node->i[2] = n_inner;
        node->f[0] = scale;
    }
    return y;
}

AigcTensor *aigc_sum(AigcCtx *ctx, AigcTensor *x, int dim, gboolean keepdim)
{
    return reduce_op(ctx, x, dim, keepdim, FALSE, "sum");
}

AigcTensor *aigc_mean(AigcCtx *ctx, AigcTensor *x, int dim, gboolean keepdim)
{
    return reduce_op(ctx, x, dim, keepdim, TRUE, "mean");
}

static AigcTensor *reduce_all_op(AigcCtx *ctx, AigcTensor *x, gboolean mean, const char *name)
{
    g_return_val_if_fail(ctx != NULL && x != NULL, NULL);
    x = aigc_contiguous(ctx, x);
    float scale = mean ? 1.0f / (float)x->n_elements : 1.0f;
    AigcTensor *y = aigc_tensor_new1(ctx, 1);
    y->data[0] = scale * (float)aigc_sum_floats(x->data, x->n_elements);
    AigcNode *node = aigc_record1(ctx, name, sum_backward_node, y, x);
    if (node) {
        node->i[0] = 1;
        node->i[1] = x->n_elements;
        node->i[2] = 1;
        node->f[0] = scale;
    }
    return y;
}

AigcTensor *aigc_sum_all(AigcCtx *ctx, AigcTensor *x)
{
    return reduce_all_op(ctx, x, FALSE, "sum_all");
}

AigcTensor *aigc_mean_all(AigcCtx *ctx, AigcTensor *x)
{
    return reduce_all_op(ctx, x, TRUE, "mean_all");
}
