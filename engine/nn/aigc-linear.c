/* SPDX-License-Identifier: MIT
 *
 * Linear layers and matrix products, all on OpenBLAS.
 *
 * Legend: linear maps N rows (every leading dim of x flattened) of C input features to OC output
 * features. matmul multiplies B batches of [M, K] · [K, N]. `dout` is the gradient of the
 * output, `d<name>` the gradient of an input; backward kernels add into them.
 *
 * A linear layer is one sgemm over all rows at once (sgemv/sger when N = 1, the
 * token-by-token generation case, where gemm would waste its packing). The bias is written into
 * the output first and the product added on top (beta = 1), which costs no more than the zeroing
 * pass a beta = 0 sgemm does anyway.
 *
 * matmul describes each operand as (data, BLAS transpose, leading dimension, batch strides), so
 * any view whose last two dims have a unit stride in one of them (a transpose, heads permuted out
 * of [B, T, H, D]) goes to BLAS in place; only other layouts are copied. A batched product is a
 * loop of sgemm calls, or a single call when the right operand is shared and the left one's
 * batches stack into one tall matrix.
 */
#include "aigc-linear.h"

#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <cblas.h>

#include "tensor/aigc-blas.h"
#include <string.h>

/* GCC 12 at -O2 uses the "very cheap" vectoriser cost model, which leaves loops with a runtime
 * trip count (the column sums here) scalar; the dynamic model vectorises them. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

/* The column-sum pass is compiled twice with GCC on x86-64, for AVX2 and the baseline (the
 * loader picks one); it only adds, element by element, so both give the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#define LINEAR_PASS __attribute__((target_clones("avx2", "default")))
#else
#define LINEAR_PASS
#endif

/* ---- linear kernels ---- */

typedef struct {
    float *dbias;      /* [OC] */
    const float *dout; /* [N, OC] */
    int N, OC;
} ColumnSums;

/* Rows are summed in blocks of BLOCK_ROWS and the block sums added up, which keeps the float
 * rounding error near (BLOCK_ROWS + N / BLOCK_ROWS)·ε instead of N·ε; the order is fixed, so
 * the result does not depend on how columns are split between threads. */
#define BLOCK_ROWS 64
#define TILE_COLS  1024

LINEAR_PASS static void column_sums_range(gint64 begin, gint64 end, gpointer data)
{
    const ColumnSums *cs = data;
    const int N = cs->N, OC = cs->OC;
    float total[TILE_COLS], part[TILE_COLS];
    for (gint64 o0 = begin; o0 < end; o0 += TILE_COLS) {
        const int w = (int)MIN(TILE_COLS, end - o0);
        memset(total, 0, sizeof total);
        for (int n0 = 0; n0 < N; n0 += BLOCK_ROWS) {
            const int n1 = MIN(N, n0 + BLOCK_ROWS);
            memset(part, 0, sizeof part);
            for (int n = n0; n < n1; n++) {
                const float *restrict row = cs->dout + (gint64)n * OC + o0;
                for (int j = 0; j < w; j++)
                    part[j] += row[j];
            }
            for (int j = 0; j < w; j++)
                total[j] += part[j];
        }
        float *restrict db = cs->dbias + o0;
        for (int j = 0; j < w; j++)
            db[j] += total[j];
    }
}

void aigc_linear_forward(float *out, const float *inp, const float *weight, const float *bias,
                         int N, int C, int OC)
{
    g_return_if_fail(N >= 0 && C >= 0 && OC >= 0);
    if (N == 0 || OC == 0)
        return;
    float beta = 0.0f;
    if (bias) {
        for (int n = 0; n < N; n++)
            memcpy(out + (gint64)n * OC, bias, (gsize)OC * sizeof(float));
        beta = 1.0f;
    }
    if (C == 0) {
        if (!bias)
            memset(out, 0, (gsize)N * OC * sizeof(float));
        return;
    }
    if (N == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, OC, C, 1.0f, weight, C, inp, 1, beta, out, 1);
    else
        aigc_sgemm(CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, weight, C,
                    beta, out, OC);
}

void aigc_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, int N, int C, int OC)
{
    g_return_if_fail(N >= 0 && C >= 0 && OC >= 0);
    if (N == 0 || OC == 0)
        return;
    if (C > 0 && dinp) {
        /* dinp [N, C] += dout [N, OC] · weight [OC, C] */
        if (N == 1)
            cblas_sgemv(CblasRowMajor, CblasTrans, OC, C, 1.0f, weight, C, dout, 1, 1.0f, dinp, 1);
        else
            aigc_sgemm(CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, weight,
                        C, 1.0f, dinp, C);
    }
    if (C > 0 && dweight) {
        /* dweight [OC, C] += doutᵀ [OC, N] · inp [N, C] */
        if (N == 1)
            cblas_sger(CblasRowMajor, OC, C, 1.0f, dout, 1, inp, 1, dweight, C);
        else
            aigc_sgemm(CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C,
                        1.0f, dweight, C);
    }
    if (dbias) {
        ColumnSums cs = {.dbias = dbias, .dout = dout, .N = N, .OC = OC};
        /* Chunks of at least ~32k additions, so small layers stay on one thread. */
        gint64 grain = MAX(TILE_COLS / 8, 32768 / N);
        aigc_parallel_for(OC, grain, column_sums_range, &cs);
    }
}

/* ---- linear op ---- */

static void linear_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *weight = node->in[1], *bias = node->in[2];
    AigcTensor *y = node->out[0];
    aigc_linear_backward(aigc_grad(ctx, x), aigc_grad(ctx, weight), aigc_grad(ctx, bias), y->grad,
                         x->data, weight->data, (int)node->i[0], (int)node->i[1], (int)node->i[2]);
}

AigcTensor *aigc_linear(AigcCtx *ctx, AigcTensor *x, AigcTensor *weight, AigcTensor *bias)
{
    g_return_val_if_fail(ctx != NULL && x != NULL && weight != NULL, NULL);
    g_return_val_if_fail(x->n_dims >= 1 && weight->n_dims == 2, NULL);
    const gint64 OC = weight->shape[0], C = weight->shape[1];
    g_return_val_if_fail(x->shape[x->n_dims - 1] == C, NULL);
    g_return_val_if_fail(bias == NULL || (bias->n_dims == 1 && bias->shape[0] == OC), NULL);
    gint64 N = 1;
    for (int d = 0; d < x->n_dims - 1; d++)
        N *= x->shape[d];
    g_return_val_if_fail(N <= G_MAXINT && C <= G_MAXINT && OC <= G_MAXINT, NULL);

    x = aigc_contiguous(ctx, x);
    weight = aigc_contiguous(ctx, weight);
    if (bias)
        bias = aigc_contiguous(ctx, bias);
    gint64 shape[AIGC_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->n_dims - 1] = OC;
    AigcTensor *y = aigc_tensor_new(ctx, x->n_dims, shape); /* [..., OC] */
    aigc_linear_forward(y->data, x->data, weight->data, bias ? bias->data : NULL, (int)N, (int)C,
                        (int)OC);
    AigcNode *node = aigc_record3(ctx, "linear", linear_backward, y, x, weight, bias);
    if (node) {
        node->i[0] = N;
        node->i[1] = C;
        node->i[2] = OC;
    }
    return y;
}

/* ---- matmul kernels ---- */

/* One operand of a batched product, as BLAS sees it. */
typedef struct {
    const float *data;
    CBLAS_TRANSPOSE op;           /* turns the stored row-major matrix into the logical one */
    int ld;                       /* leading dimension of the stored matrix */
    gboolean shared;              /* one matrix for every batch */
    gint64 stride[AIGC_MAX_DIMS]; /* of the batch dims, in elements */
} MatOperand;

typedef struct {
    int n_batch_dims;
    gint64 shape[AIGC_MAX_DIMS]; /* the batch dims */
    gint64 n_batch;
    int M, K, N;
} MatShape;

static CBLAS_TRANSPOSE flip(CBLAS_TRANSPOSE op)
{
    return op == CblasNoTrans ? CblasTrans : CblasNoTrans;
}

static const float *batch_ptr(const MatOperand *x, const MatShape *s, gint64 i_batch)
{
    if (x->shared)
        return x->data;
    gint64 offset = 0;
    for (int d = s->n_batch_dims - 1; d >= 0; d--) {
        offset += (i_batch % s->shape[d]) * x->stride[d];
        i_batch /= s->shape[d];
    }
    return x->data + offset;
}

/* When b is shared and a is an untransposed row-major stack whose batches follow each other at
 * M rows apart, the whole product is one sgemm with n_batch·M rows. */
static MatShape flatten_batches(const MatOperand *a, const MatOperand *b, const MatShape *s,
                                gboolean transpose_a)
{
    MatShape flat = *s;
    if (!b->shared || a->shared || transpose_a || a->op != CblasNoTrans || s->n_batch <= 1)
        return flat;
    if ((gint64)s->M * s->n_batch > G_MAXINT)
        return flat;
    gint64 expected = (gint64)s->M * a->ld;
    for (int d = s->n_batch_dims - 1; d >= 0; d--) {
        if (s->shape[d] != 1 && a->stride[d] != expected)
            return flat;
        expected *= s->shape[d];
    }
    flat.M = (int)(s->M * s->n_batch);
    flat.n_batch = 1;
    return flat;
}

static void matmul_forward_operands(float *out, const MatOperand *a, const MatOperand *b,
                                    const MatShape *shape, gboolean transpose_a)
{
    MatShape s = flatten_batches(a, b, shape, transpose_a);
    const int M = s.M, K = s.K, N = s.N;
    if (M == 0 || N == 0 || s.n_batch == 0)
        return;
    if (K == 0) {
        memset(out, 0, (gsize)s.n_batch * M * N * sizeof(float));
        return;
    }
    for (gint64 i = 0; i < s.n_batch; i++)
        aigc_sgemm(a->op, b->op, M, N, K, 1.0f, batch_ptr(a, &s, i), a->ld,
                    batch_ptr(b, &s, i), b->ld, 0.0f, out + i * M * N, N);
}

/* da and db are contiguous in the shapes of a and b (whatever their views' strides), so a
 * transposed operand's gradient is stored transposed: [K, M] per batch for da. */
static void matmul_backward_operands(float *da, float *db, const float *dout, const MatOperand *a,
                                     const MatOperand *b, const MatShape *shape,
                                     gboolean transpose_a, gboolean transpose_b)
{
    MatShape s = flatten_batches(a, b, shape, transpose_a);
    const int M = s.M, K = s.K, N = s.N;
    if (M == 0 || N == 0 || K == 0 || s.n_batch == 0)
        return;
    for (gint64 i = 0; i < s.n_batch; i++) {
        const float *dc = dout + i * M * N; /* [M, N] */
        const float *pa = batch_ptr(a, &s, i), *pb = batch_ptr(b, &s, i);
        if (da) {
            float *dai = a->shared ? da : da + i * M * K;
            if (!transpose_a) /* da [M, K] += dc · op(b)ᵀ */
                aigc_sgemm(CblasNoTrans, flip(b->op), M, K, N, 1.0f, dc, N, pb,
                            b->ld, 1.0f, dai, K);
            else /* da [K, M] += op(b) · dcᵀ */
                aigc_sgemm(b->op, CblasTrans, K, M, N, 1.0f, pb, b->ld, dc, N, 1.0f,
                            dai, M);
        }
        if (db) {
            float *dbi = b->shared ? db : db + i * K * N;
            if (!transpose_b) /* db [K, N] += op(a)ᵀ · dc */
                aigc_sgemm(flip(a->op), CblasNoTrans, K, N, M, 1.0f, pa, a->ld, dc,
                            N, 1.0f, dbi, N);
            else /* db [N, K] += dcᵀ · op(a) */
                aigc_sgemm(CblasTrans, a->op, N, K, M, 1.0f, dc, N, pa, a->ld, 1.0f,
                            dbi, K);
        }
    }
}

static void contiguous_operands(MatOperand *a, MatOperand *b, MatShape *s, const float *pa,
                                const float *pb, int B, int M, int K, int N, gboolean transpose_a,
                                gboolean transpose_b, gboolean broadcast_b)
{
    *a = (MatOperand){.data = pa,
                      .op = transpose_a ? CblasTrans : CblasNoTrans,
                      .ld = transpose_a ? M : K,
                      .stride = {(gint64)M * K}};
    *b = (MatOperand){.data = pb,
                      .op = transpose_b ? CblasTrans : CblasNoTrans,
                      .ld = transpose_b ? K : N,
                      .shared = broadcast_b,
                      .stride = {(gint64)K * N}};
    *s = (MatShape){.n_batch_dims = 1, .shape = {B}, .n_batch = B, .M = M, .K = K, .N = N};
    /* BLAS wants leading dimensions ≥ 1 even for empty matrices. */
    a->ld = MAX(a->ld, 1);
    b->ld = MAX(b->ld, 1);
}

void aigc_matmul_forward(float *out, const float *a, const float *b, int B, int M, int K, int N,
                         gboolean transpose_a, gboolean transpose_b, gboolean broadcast_b)
{
    g_return_if_fail(B >= 0 && M >= 0 && K >= 0 && N >= 0);
    MatOperand oa, ob;
    MatShape s;
    contiguous_operands(&oa, &ob, &s, a, b, B, M, K, N, transpose_a, transpose_b, broadcast_b);
    matmul_forward_operands(out, &oa, &ob, &s, transpose_a);
}

void aigc_matmul_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                          int B, int M, int K, int N, gboolean transpose_a, gboolean transpose_b,
                          gboolean broadcast_b)
{
    g_return_if_fail(B >= 0 && M >= 0 && K >= 0 && N >= 0);
    MatOperand oa, ob;
    MatShape s;
    contiguous_operands(&oa, &ob, &s, a, b, B, M, K, N, transpose_a, transpose_b, broadcast_b);
    matmul_backward_operands(da, db, dout, &oa, &ob, &s, transpose_a, transpose_b);
}

/* ---- matmul op ---- */

/* Describes tensor t (its last two dims [r, c]; logical matrix t or tᵀ when `transpose`) for
 * BLAS, or returns FALSE when neither of the two dims has a unit stride. */
static gboolean describe_operand(const AigcTensor *t, gboolean transpose, gboolean shared,
                                 MatOperand *x)
{
    const int nd = t->n_dims;
    const gint64 r = t->shape[nd - 2], c = t->shape[nd - 1];
    const gint64 sr = t->stride[nd - 2], sc = t->stride[nd - 1];
    *x = (MatOperand){.data = t->data, .shared = shared};
    for (int d = 0; d < nd - 2; d++)
        x->stride[d] = t->stride[d];
    gint64 ld;
    if (r == 0 || c == 0) {
        /* empty: never read, but BLAS checks the leading dimension */
        ld = MAX(c, 1);
        x->op = transpose ? CblasTrans : CblasNoTrans;
    } else if ((c == 1 || sc == 1) && (r == 1 || sr >= c)) {
        /* stored row-major as [r, c] */
        ld = r == 1 ? MAX(c, 1) : sr;
        x->op = transpose ? CblasTrans : CblasNoTrans;
    } else if ((r == 1 || sr == 1) && (c == 1 || sc >= r)) {
        /* stored row-major as [c, r]: t is its transpose */
        ld = c == 1 ? MAX(r, 1) : sc;
        x->op = transpose ? CblasNoTrans : CblasTrans;
    } else {
        return FALSE;
    }
    if (ld > G_MAXINT)
        return FALSE;
    x->ld = (int)ld;
    return TRUE;
}

/* The batch dims come from whichever of a and b has them (both agree when both do). */
static void matmul_shape(const AigcTensor *a, const AigcTensor *b, gboolean transpose_a,
                         gboolean transpose_b, MatShape *s)
{
    const AigcTensor *batched = a->n_dims > 2 ? a : b;
    s->n_batch_dims = batched->n_dims - 2;
    s->n_batch = 1;
    for (int d = 0; d < s->n_batch_dims; d++) {
        s->shape[d] = batched->shape[d];
        s->n_batch *= s->shape[d];
    }
    const int na = a->n_dims, nb = b->n_dims;
    s->M = (int)(transpose_a ? a->shape[na - 1] : a->shape[na - 2]);
    s->K = (int)(transpose_a ? a->shape[na - 2] : a->shape[na - 1]);
    s->N = (int)(transpose_b ? b->shape[nb - 2] : b->shape[nb - 1]);
}

static void matmul_backward(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *a = node->in[0], *b = node->in[1], *y = node->out[0];
    const gboolean transpose_a = (gboolean)node->i[0], transpose_b = (gboolean)node->i[1];
    float *da = aigc_grad(ctx, a), *db = aigc_grad(ctx, b);
    MatOperand oa, ob;
    MatShape s;
    matmul_shape(a, b, transpose_a, transpose_b, &s);
    /* The forward only recorded operands that BLAS takes as they are. */
    if (!describe_operand(a, transpose_a, a->n_dims == 2 && b->n_dims > 2, &oa) ||
        !describe_operand(b, transpose_b, b->n_dims == 2 && a->n_dims > 2, &ob))
        g_return_if_reached();
    matmul_backward_operands(da, db, y->grad, &oa, &ob, &s, transpose_a, transpose_b);
}

AigcTensor *aigc_matmul(AigcCtx *ctx, AigcTensor *a, AigcTensor *b, gboolean transpose_a,
                        gboolean transpose_b)
{
    g_return_val_if_fail(ctx != NULL && a != NULL && b != NULL, NULL);
    g_return_val_if_fail(a->n_dims >= 2 && b->n_dims >= 2, NULL);
    g_return_val_if_fail(a->n_dims == b->n_dims || a->n_dims == 2 || b->n_dims == 2, NULL);
    for (int d = 0; d < a->n_dims - 2 && a->n_dims == b->n_dims; d++)
        g_return_val_if_fail(a->shape[d] == b->shape[d], NULL);
    const int na = a->n_dims, nb = b->n_dims;
    const gint64 K_a = transpose_a ? a->shape[na - 2] : a->shape[na - 1];
    const gint64 K_b = transpose_b ? b->shape[nb - 1] : b->shape[nb - 2];
    g_return_val_if_fail(K_a == K_b, NULL);
    for (int d = 0; d < 2; d++)
        g_return_val_if_fail(a->shape[na - 1 - d] <= G_MAXINT && b->shape[nb - 1 - d] <= G_MAXINT,
                             NULL);

    const gboolean a_shared = na == 2 && nb > 2, b_shared = nb == 2 && na > 2;
    MatOperand oa, ob;
    if (!describe_operand(a, transpose_a, a_shared, &oa)) {
        a = aigc_contiguous(ctx, a);
        describe_operand(a, transpose_a, a_shared, &oa);
    }
    if (!describe_operand(b, transpose_b, b_shared, &ob)) {
        b = aigc_contiguous(ctx, b);
        describe_operand(b, transpose_b, b_shared, &ob);
    }
    MatShape s;
    matmul_shape(a, b, transpose_a, transpose_b, &s);
    gint64 shape[AIGC_MAX_DIMS];
    for (int d = 0; d < s.n_batch_dims; d++)
        shape[d] = s.shape[d];
    shape[s.n_batch_dims] = s.M;
    shape[s.n_batch_dims + 1] = s.N;
    AigcTensor *y = aigc_tensor_new(ctx, s.n_batch_dims + 2, shape); /* [..., M, N] */
    matmul_forward_operands(y->data, &oa, &ob, &s, transpose_a);
    AigcNode *node = aigc_record2(ctx, "matmul", matmul_backward, y, a, b);
    if (node) {
        node->i[0] = transpose_a;
        node->i[1] = transpose_b;
    }
    return y;
}
