/* SPDX-License-Identifier: MIT
 *
 * Convolutions as im2col + cblas_sgemm, and col2im for the backward.
 *
 * Every convolution here is a product between an "image" side [N, C, H, W] and a "patch" side
 * [N, OC, OH, OW], through col = im2col(image) [C·KH·KW, OH·OW] and the weight [OC, C·KH·KW]:
 *   conv forward           patch  = W · col(image)          (image = x,  patch = y)
 *   conv backward, data    image += col2im(Wᵀ · patch)      (image = dx, patch = dy)
 *   conv backward, weight  dW    += patch · col(image)ᵀ     (image = x,  patch = dy)
 * A transposed convolution swaps the roles: its input is the patch side and its output the
 * image side. PyTorch's transposed weight [Cin, Cout, k…] is exactly the conv weight [OC, C, k…]
 * of that pairing, so its forward is the data product above and its backward is the forward
 * product (dx = W · col(dy)) plus the weight product with patch = x, image = dy. Two routines,
 * patch_products() and patch_transpose(), serve all four ops and both dimensionalities (1-D is
 * H = OH = KH = 1).
 *
 * Batching: small feature maps (DCGAN's 4×4…16×16 layers, a UNet's bottleneck) make one product
 * per image too thin for BLAS, so images go in chunks of nb whose columns sit side by side,
 * col [C·KH·KW, nb·OH·OW]; the patch side of a chunk is gathered to / scattered from
 * tmp [OC, nb·OH·OW]. One large image (long audio) goes in tiles of output positions instead, so
 * col stays small enough to still be in the cache when the sgemm reads it. A pointwise conv (1×1,
 * stride 1, no padding) with nb = 1 uses the image itself as col: a plain sgemm per image
 * (WaveNet's 1×1 convs on long sequences). Chunks and tiles depend only on the shapes, never on
 * the thread count, so results do not either.
 *
 * Products go through aigc_sgemm, which splits them over the engine's threads (OpenBLAS itself
 * runs single-threaded); im2col, col2im, gather and scatter are parallel loops of their own.
 *
 * Legend: N batch; C, H, W image-side channels and size; OC, OH, OW patch-side channels and
 * size; KH, KW kernel; sh, sw stride; ph, pw leading (top/left) padding; dh, dw dilation;
 * CKK = C·KH·KW rows of col; OHW = OH·OW columns per image.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* See aigc-elementwise.c: the loops here are written to vectorise, -O2 alone would not. */
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math",              \
                     "fp-contract=fast")
#endif

#include "aigc-conv.h"

#include "aigc-elementwise.h"

#include "tensor/aigc-blas.h"
#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <string.h>

/* Columns per product worth batching images up to, and the most floats one product's col may
 * take (2 MB). Measured on this machine: keeping col this small, so that the sgemm still finds it
 * in the cache right after im2col wrote it, saves 10–40 % over 16 MB chunks (most for long 1-D
 * inputs), while larger column counts add nothing. */
#define CONV_TARGET_COLS 2048
#define CONV_COL_BUDGET  (1 << 19)
/* Elements a parallel chunk should at least touch, so small convs stay on one thread. */
#define CONV_GRAIN_FLOATS 16384

typedef struct {
    int N, C, H, W;
    int OC, KH, KW;
    int OH, OW;
    int sh, sw, ph, pw, dh, dw;
    int nb;          /* images per chunk */
    gint64 tile;     /* patch positions per product: OH·OW, less for one large image */
    gboolean direct; /* the image is its own col (pointwise, nb = 1) */
} ConvGeom;

static void geom_finish(ConvGeom *g)
{
    gint64 OHW = (gint64)g->OH * g->OW;
    gint64 CKK = (gint64)g->C * g->KH * g->KW;
    gint64 nb = MAX(CONV_TARGET_COLS / MAX(OHW, 1), 1);
    nb = MIN(nb, MAX(CONV_COL_BUDGET / MAX(CKK * OHW, 1), 1));
    g->nb = (int)CLAMP(nb, 1, MAX(g->N, 1));
    g->direct = g->nb == 1 && g->KH == 1 && g->KW == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 &&
                g->pw == 0 && g->OH == g->H && g->OW == g->W;
    /* A single large image (long audio, big maps) goes through in tiles of output positions, so
     * col stays within the budget however long the input. */
    g->tile = OHW;
    if (g->nb == 1 && !g->direct)
        g->tile = CLAMP(CONV_COL_BUDGET / MAX(CKK, 1), 1, MAX(OHW, 1));
}

/* Scratch: col [CKK, nb·tile] (none when direct), tmp [OC, nb·OHW] (batched only) and
 * dwt [CKK, OC] (the weight gradient, transposed; see weight_product()). */
typedef struct {
    float *col, *tmp, *dwt;
} ConvScratch;

static gint64 geom_scratch_size(const ConvGeom *g)
{
    gint64 CKK = (gint64)g->C * g->KH * g->KW, cols = g->nb * g->tile;
    gint64 n = (g->direct ? 0 : CKK * cols) + CKK * g->OC;
    if (g->nb > 1)
        n += (gint64)g->OC * cols;
    return n;
}

static ConvScratch geom_scratch(const ConvGeom *g, float *scratch)
{
    gint64 CKK = (gint64)g->C * g->KH * g->KW, cols = g->nb * g->tile;
    ConvScratch s = {.col = scratch};
    s.dwt = s.col + (g->direct ? 0 : CKK * cols);
    s.tmp = s.dwt + CKK * g->OC;
    return s;
}

static gint64 grain_for(gint64 floats_per_item)
{
    return MAX(CONV_GRAIN_FLOATS / MAX(floats_per_item, 1), 1);
}

/* The output positions o in [0, n_out) whose input index o·stride + off lies in [0, n_in). */
static void valid_range(int off, int stride, int n_in, int n_out, int *lo, int *hi)
{
    int l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int h = n_in - off <= 0 ? 0 : (n_in - off + stride - 1) / stride;
    h = MIN(h, n_out);
    *lo = MIN(l, h);
    *hi = h;
}

/* d[0, n) += s[0, n). GCC 12 does not vectorise loops at -O2, so this one, the hot loop of
 * col2im, uses 4-float vector extensions (SSE on baseline x86-64; memcpy = unaligned access). */
typedef float V4 __attribute__((vector_size(16)));

static void add_into(float *restrict d, const float *restrict s, int n)
{
    int q = 0;
    for (; q + 8 <= n; q += 8) {
        V4 a0, a1, b0, b1;
        memcpy(&a0, d + q, sizeof a0);
        memcpy(&a1, d + q + 4, sizeof a1);
        memcpy(&b0, s + q, sizeof b0);
        memcpy(&b1, s + q + 4, sizeof b1);
        a0 += b0;
        a1 += b1;
        memcpy(d + q, &a0, sizeof a0);
        memcpy(d + q + 4, &a1, sizeof a1);
    }
    for (; q < n; q++)
        d[q] += s[q];
}

/* ---- im2col / col2im over a chunk: nbc images × patch positions [p0, p1) of each ---- */

typedef struct {
    const ConvGeom *g;
    float *col;       /* [CKK, nbc·(p1 − p0)] */
    const float *img; /* im2col: the chunk's first image [nbc, C, H, W] */
    float *img_acc;   /* col2im: the same, accumulated into */
    int nbc;
    gint64 p0, p1;
} ColJob;

/* Where a chunk's positions [p0, p1) start and end: row oh_a from column ow_a, to row oh_b up to
 * column ow_b (exclusive). Rows in between are whole. */
typedef struct {
    int oh_a, ow_a, oh_b, ow_b;
} RowSpan;

static RowSpan row_span(const ColJob *job)
{
    const int OW = job->g->OW;
    RowSpan sp = {.oh_a = (int)(job->p0 / OW), .ow_a = (int)(job->p0 % OW)};
    sp.oh_b = (int)((job->p1 - 1) / OW);
    sp.ow_b = (int)((job->p1 - 1) % OW) + 1;
    return sp;
}

static void im2col_rows(gint64 r0, gint64 r1, gpointer data)
{
    const ColJob *job = data;
    const ConvGeom *g = job->g;
    const int OW = g->OW, sw = g->sw;
    const gint64 HW = (gint64)g->H * g->W, len = job->p1 - job->p0, cols = job->nbc * len;
    const RowSpan sp = row_span(job);
    for (gint64 r = r0; r < r1; r++) {
        int c = (int)(r / (g->KH * g->KW));
        int ki = (int)(r / g->KW % g->KH), kj = (int)(r % g->KW);
        int off = kj * g->dw - g->pw, ih_off = ki * g->dh - g->ph, lo, hi;
        valid_range(off, sw, g->W, OW, &lo, &hi);
        for (int j = 0; j < job->nbc; j++) {
            const float *src = job->img + ((gint64)j * g->C + c) * HW; /* [H, W] */
            float *dst = job->col + r * cols + j * len;                /* [len] */
            for (int oh = sp.oh_a; oh <= sp.oh_b; oh++) {
                int ow0 = oh == sp.oh_a ? sp.ow_a : 0, ow1 = oh == sp.oh_b ? sp.ow_b : OW;
                int ih = oh * g->sh + ih_off, a = ow0, b = ow0;
                if (ih >= 0 && ih < g->H) {
                    a = CLAMP(lo, ow0, ow1);
                    b = CLAMP(hi, ow0, ow1);
                }
                float *restrict d = dst; /* d[ow − ow0] */
                for (int ow = ow0; ow < a; ow++)
                    d[ow - ow0] = 0.0f;
                if (a < b) {
                    const float *restrict s = src + (gint64)ih * g->W; /* s[ow·sw + off] */
                    if (sw == 1)
                        memcpy(d + (a - ow0), s + (a + off), (gsize)(b - a) * sizeof(float));
                    else
                        for (int ow = a; ow < b; ow++)
                            d[ow - ow0] = s[(gint64)ow * sw + off];
                }
                for (int ow = b; ow < ow1; ow++)
                    d[ow - ow0] = 0.0f;
                dst += ow1 - ow0;
            }
        }
    }
}

/* Parallel over image channels: channel c owns rows c·KH·KW… of col and plane c of every image,
 * so no two threads add into the same element. */
static void col2im_channels(gint64 c0, gint64 c1, gpointer data)
{
    const ColJob *job = data;
    const ConvGeom *g = job->g;
    const int OW = g->OW, sw = g->sw;
    const gint64 HW = (gint64)g->H * g->W, len = job->p1 - job->p0, cols = job->nbc * len;
    const RowSpan sp = row_span(job);
    for (gint64 c = c0; c < c1; c++) {
        for (int j = 0; j < job->nbc; j++) {
            float *dst = job->img_acc + ((gint64)j * g->C + c) * HW; /* [H, W] */
            for (int ki = 0; ki < g->KH; ki++) {
                for (int kj = 0; kj < g->KW; kj++) {
                    gint64 r = (c * g->KH + ki) * g->KW + kj;
                    const float *src = job->col + r * cols + j * len; /* [len] */
                    int off = kj * g->dw - g->pw, ih_off = ki * g->dh - g->ph, lo, hi;
                    valid_range(off, sw, g->W, OW, &lo, &hi);
                    for (int oh = sp.oh_a; oh <= sp.oh_b; oh++) {
                        int ow0 = oh == sp.oh_a ? sp.ow_a : 0, ow1 = oh == sp.oh_b ? sp.ow_b : OW;
                        int ih = oh * g->sh + ih_off;
                        int a = CLAMP(lo, ow0, ow1), b = CLAMP(hi, ow0, ow1);
                        if (ih >= 0 && ih < g->H && a < b) {
                            float *d = dst + (gint64)ih * g->W; /* d[ow·sw + off] */
                            if (sw == 1)
                                add_into(d + (a + off), src + (a - ow0), b - a);
                            else
                                for (int ow = a; ow < b; ow++)
                                    d[(gint64)ow * sw + off] += src[ow - ow0];
                        }
                        src += ow1 - ow0;
                    }
                }
            }
        }
    }
}

/* Small planes (the usual 2-D feature maps, short 1-D signals) go through a zero-padded copy of
 * each plane on the stack instead: every patch row is then a plain copy without clipping, which
 * is 30–40 % faster on 8×8…32×32 maps. Larger planes (long 1-D signals) keep the clipping path
 * above, whose rows are long anyway. The padded plane spans exactly the positions the patches
 * read: input (ih, iw) sits at (ih + ph, iw + pw). */
#define CONV_PAD_PLANE_MAX 8192 /* floats: 32 KB of stack */

static int padded_h(const ConvGeom *g)
{
    return (g->OH - 1) * g->sh + (g->KH - 1) * g->dh + 1;
}

static int padded_w(const ConvGeom *g)
{
    return (g->OW - 1) * g->sw + (g->KW - 1) * g->dw + 1;
}

/* d[0, n) = s[0, n) for the short rows of small maps: memcpy's call costs more than the copy. */
static void copy_row(float *restrict d, const float *restrict s, int n)
{
    int q = 0;
    for (; q + 4 <= n; q += 4) {
        V4 v;
        memcpy(&v, s + q, sizeof v);
        memcpy(d + q, &v, sizeof v);
    }
    for (; q < n; q++)
        d[q] = s[q];
}

/* Parallel over image channels, like col2im: channel c owns rows c·KH·KW… of col. */
static void im2col_padded_channels(gint64 c0, gint64 c1, gpointer data)
{
    const ColJob *job = data;
    const ConvGeom *g = job->g;
    const int Hp = padded_h(g), Wp = padded_w(g), sw = g->sw, OW = g->OW;
    const int n_rows = MIN(g->H, Hp - g->ph), n_cols = CLAMP(Wp - g->pw, 0, g->W);
    const gint64 HW = (gint64)g->H * g->W, len = job->p1 - job->p0, cols = job->nbc * len;
    const RowSpan sp = row_span(job);
    float pad[CONV_PAD_PLANE_MAX]; /* [Hp, Wp]; the border stays zero, the interior is rewritten */
    memset(pad, 0, (gsize)Hp * Wp * sizeof(float));
    for (gint64 c = c0; c < c1; c++) {
        for (int j = 0; j < job->nbc; j++) {
            const float *src = job->img + ((gint64)j * g->C + c) * HW; /* [H, W] */
            for (int ih = 0; ih < n_rows && n_cols > 0; ih++)
                copy_row(pad + (ih + g->ph) * Wp + g->pw, src + (gint64)ih * g->W, n_cols);
            for (int ki = 0; ki < g->KH; ki++) {
                for (int kj = 0; kj < g->KW; kj++) {
                    gint64 r = (c * g->KH + ki) * g->KW + kj;
                    float *dst = job->col + r * cols + j * len; /* [len] */
                    for (int oh = sp.oh_a; oh <= sp.oh_b; oh++) {
                        int ow0 = oh == sp.oh_a ? sp.ow_a : 0, ow1 = oh == sp.oh_b ? sp.ow_b : OW;
                        const float *s = pad + (oh * g->sh + ki * g->dh) * Wp + kj * g->dw;
                        if (sw == 1)
                            copy_row(dst, s + ow0, ow1 - ow0);
                        else
                            for (int ow = ow0; ow < ow1; ow++)
                                dst[ow - ow0] = s[ow * sw];
                        dst += ow1 - ow0;
                    }
                }
            }
        }
    }
}

/* Each plane's patches are summed into a zeroed padded plane, whose interior is then added into
 * the image. */
static void col2im_padded_channels(gint64 c0, gint64 c1, gpointer data)
{
    const ColJob *job = data;
    const ConvGeom *g = job->g;
    const int Hp = padded_h(g), Wp = padded_w(g), sw = g->sw, OW = g->OW;
    const int n_rows = MIN(g->H, Hp - g->ph), n_cols = CLAMP(Wp - g->pw, 0, g->W);
    const gint64 HW = (gint64)g->H * g->W, len = job->p1 - job->p0, cols = job->nbc * len;
    const RowSpan sp = row_span(job);
    float pad[CONV_PAD_PLANE_MAX]; /* [Hp, Wp] */
    for (gint64 c = c0; c < c1; c++) {
        for (int j = 0; j < job->nbc; j++) {
            memset(pad, 0, (gsize)Hp * Wp * sizeof(float));
            for (int ki = 0; ki < g->KH; ki++) {
                for (int kj = 0; kj < g->KW; kj++) {
                    gint64 r = (c * g->KH + ki) * g->KW + kj;
                    const float *src = job->col + r * cols + j * len; /* [len] */
                    for (int oh = sp.oh_a; oh <= sp.oh_b; oh++) {
                        int ow0 = oh == sp.oh_a ? sp.ow_a : 0, ow1 = oh == sp.oh_b ? sp.ow_b : OW;
                        float *d = pad + (oh * g->sh + ki * g->dh) * Wp + kj * g->dw;
                        if (sw == 1)
                            add_into(d + ow0, src, ow1 - ow0);
                        else
                            for (int ow = ow0; ow < ow1; ow++)
                                d[ow * sw] += src[ow - ow0];
                        src += ow1 - ow0;
                    }
                }
            }
            float *dst = job->img_acc + ((gint64)j * g->C + c) * HW; /* [H, W] */
            for (int ih = 0; ih < n_rows && n_cols > 0; ih++)
                add_into(dst + (gint64)ih * g->W, pad + (ih + g->ph) * Wp + g->pw, n_cols);
        }
    }
}

static gboolean use_padded(const ConvGeom *g)
{
    return (gint64)padded_h(g) * padded_w(g) <= CONV_PAD_PLANE_MAX;
}

static void im2col(const ConvGeom *g, float *col, const float *img, int nbc, gint64 p0, gint64 p1)
{
    ColJob job = {.g = g, .col = col, .img = img, .nbc = nbc, .p0 = p0, .p1 = p1};
    gint64 CKK = (gint64)g->C * g->KH * g->KW;
    if (use_padded(g))
        aigc_parallel_for(g->C, grain_for((gint64)g->KH * g->KW * nbc * (p1 - p0)),
                          im2col_padded_channels, &job);
    else
        aigc_parallel_for(CKK, grain_for(nbc * (p1 - p0)), im2col_rows, &job);
}

static void col2im(const ConvGeom *g, float *img_acc, float *col, int nbc, gint64 p0, gint64 p1)
{
    ColJob job = {.g = g, .col = col, .img_acc = img_acc, .nbc = nbc, .p0 = p0, .p1 = p1};
    gint64 per_channel = (gint64)g->KH * g->KW * nbc * (p1 - p0);
    aigc_parallel_for(g->C, grain_for(per_channel),
                      use_padded(g) ? col2im_padded_channels : col2im_channels, &job);
}

/* ---- moving the patch side between NCHW and a chunk's [OC, nbc·OHW] ---- */

typedef struct {
    float *tmp;        /* [OC, nbc·OHW] */
    const float *src;  /* gather: the chunk's first image [nbc, OC, OHW] */
    float *dst;        /* scatter: the same, written or accumulated into */
    const float *bias; /* (nullable) [OC], scatter only */
    gint64 OHW;
    int OC, nbc;
    gboolean accumulate;
} PatchJob;

/* Rows are (j, oc) pairs: image j of the chunk, channel oc. */
static void gather_rows(gint64 r0, gint64 r1, gpointer data)
{
    const PatchJob *job = data;
    for (gint64 r = r0; r < r1; r++) {
        gint64 j = r / job->OC, oc = r % job->OC;
        memcpy(job->tmp + (oc * job->nbc + j) * job->OHW, job->src + r * job->OHW,
               (gsize)job->OHW * sizeof(float));
    }
}

static void scatter_rows(gint64 r0, gint64 r1, gpointer data)
{
    const PatchJob *job = data;
    for (gint64 r = r0; r < r1; r++) {
        gint64 j = r / job->OC, oc = r % job->OC;
        const float *restrict s = job->tmp + (oc * job->nbc + j) * job->OHW;
        float *restrict d = job->dst + r * job->OHW;
        float b = job->bias ? job->bias[oc] : 0.0f;
        if (job->accumulate)
            for (gint64 p = 0; p < job->OHW; p++)
                d[p] += s[p] + b;
        else
            for (gint64 p = 0; p < job->OHW; p++)
                d[p] = s[p] + b;
    }
}

typedef struct {
    float *x;          /* [n_rows, n] */
    const float *bias; /* [n_channels] */
    gint64 n;
    int n_channels;
    gboolean fill; /* set to the bias instead of adding it */
} BiasJob;

static void bias_rows(gint64 r0, gint64 r1, gpointer data)
{
    const BiasJob *job = data;
    for (gint64 r = r0; r < r1; r++) {
        float b = job->bias ? job->bias[r % job->n_channels] : 0.0f;
        float *restrict d = job->x + r * job->n;
        if (job->fill)
            for (gint64 p = 0; p < job->n; p++)
                d[p] = b;
        else
            for (gint64 p = 0; p < job->n; p++)
                d[p] += b;
    }
}

/* x [N, n_channels, n] += bias[channel], or = bias (0 when bias is NULL) with fill. */
static void apply_bias(float *x, const float *bias, int N, int n_channels, gint64 n, gboolean fill)
{
    BiasJob job = {.x = x, .bias = bias, .n = n, .n_channels = n_channels, .fill = fill};
    aigc_parallel_for((gint64)N * n_channels, grain_for(n), bias_rows, &job);
}

typedef struct {
    float *dbias;   /* [n_channels] */
    const float *d; /* [N, n_channels, n] */
    gint64 n;
    int N, n_channels;
} BiasGradJob;

AIGC_KERNEL_BODY void bias_grad_channels_body(gint64 c0, gint64 c1, gpointer data)
{
    const BiasGradJob *job = data;
    for (gint64 c = c0; c < c1; c++) {
        double acc = 0.0;
        for (int i = 0; i < job->N; i++)
            acc += aigc_row_sum(job->d + ((gint64)i * job->n_channels + c) * job->n, job->n);
        job->dbias[c] += (float)acc;
    }
}
AIGC_ROWS_DISPATCH(bias_grad_channels)

/* dbias[c] += Σ over images and positions of d[n, c, ·]. */
static void bias_backward(float *dbias, const float *d, int N, int n_channels, gint64 n)
{
    BiasGradJob job = {.dbias = dbias, .d = d, .n = n, .N = N, .n_channels = n_channels};
    aigc_parallel_for(n_channels, grain_for((gint64)N * n), bias_grad_channels, &job);
}

/* ---- the two products ---- */

/* dwt [CKK, OC] (+)= col · aᵀ, i.e. dWᵀ: with OC (often 32…128) as the short side of the
 * output, OpenBLAS runs this 10–20 % faster than dW = a · colᵀ. The first chunk overwrites. */
static void weight_product(float *dwt, const float *a_mat, int ld, const float *c_mat, int tcols,
                           int OC, int CKK, gboolean first)
{
    aigc_sgemm(CblasNoTrans, CblasTrans, CKK, OC, tcols, 1.0f, c_mat, tcols, a_mat, ld,
               first ? 0.0f : 1.0f, dwt, OC);
}

typedef struct {
    float *dweight;   /* [OC, CKK] */
    const float *dwt; /* [CKK, OC] */
    int OC, CKK;
} TransposeJob;

static void add_transposed_rows(gint64 oc0, gint64 oc1, gpointer data)
{
    const TransposeJob *job = data;
    for (gint64 oc = oc0; oc < oc1; oc++) {
        float *restrict d = job->dweight + oc * job->CKK;
        const float *restrict s = job->dwt + oc;
        for (gint64 r = 0; r < job->CKK; r++)
            d[r] += s[r * job->OC];
    }
}

/* dweight += dwtᵀ. */
static void add_transposed(float *dweight, const float *dwt, int OC, int CKK)
{
    TransposeJob job = {.dweight = dweight, .dwt = dwt, .OC = OC, .CKK = CKK};
    aigc_parallel_for(OC, grain_for(CKK), add_transposed_rows, &job);
}

/* Both routines walk the batch in chunks of nb images and, for one large image, its patch
 * positions in tiles [p0, p1). A product's patch-side operand is tmp (batched: leading dimension
 * nbc·OHW) or a column slice of the image's own [OC, OHW] rows (leading dimension OHW); its col
 * has tcols = nbc·(p1 − p0) columns, or is the image itself when direct. */

/* pat_out (+)= W · col(img) + bias, and/or dW += pat_in · col(img)ᵀ, sharing one im2col.
 * img [N, C, H, W]; weight [OC, CKK]; pat_out, pat_in [N, OC, OH, OW]. */
static void patch_products(const ConvGeom *g, float *scratch, const float *img, const float *weight,
                           float *pat_out, gboolean accumulate, const float *bias, float *dweight,
                           const float *pat_in)
{
    if (!pat_out && !dweight)
        return;
    const int CKK = g->C * g->KH * g->KW, OC = g->OC;
    const gint64 HW = (gint64)g->H * g->W, OHW = (gint64)g->OH * g->OW;
    const gboolean batched = g->nb > 1;
    ConvScratch sc = geom_scratch(g, scratch);
    float *col = sc.col, *tmp = sc.tmp;
    gboolean first = TRUE;
    for (int n0 = 0; n0 < g->N; n0 += g->nb) {
        int nbc = MIN(g->nb, g->N - n0);
        const float *img_n = img + (gint64)n0 * g->C * HW;
        for (gint64 p0 = 0; p0 < OHW; p0 += g->tile) {
            gint64 p1 = MIN(OHW, p0 + g->tile);
            int tcols = (int)(nbc * (p1 - p0)), ld = batched ? tcols : (int)OHW;
            const float *c_mat = img_n;
            if (!g->direct) {
                im2col(g, col, img_n, nbc, p0, p1);
                c_mat = col;
            }
            if (pat_out) {
                float *dst = batched ? tmp : pat_out + (gint64)n0 * OC * OHW + p0;
                float beta = !batched && accumulate ? 1.0f : 0.0f;
                aigc_sgemm(CblasNoTrans, CblasNoTrans, OC, tcols, CKK, 1.0f, weight, CKK, c_mat,
                           tcols, beta, dst, ld);
                if (batched) {
                    PatchJob job = {.tmp = tmp, .bias = bias, .OHW = OHW, .OC = OC, .nbc = nbc};
                    job.dst = pat_out + (gint64)n0 * OC * OHW;
                    job.accumulate = accumulate;
                    aigc_parallel_for((gint64)nbc * OC, grain_for(OHW), scatter_rows, &job);
                }
            }
            if (dweight) {
                const float *a_mat = pat_in + (gint64)n0 * OC * OHW + p0;
                if (batched) {
                    PatchJob job = {.tmp = tmp, .src = a_mat, .OHW = OHW, .OC = OC, .nbc = nbc};
                    aigc_parallel_for((gint64)nbc * OC, grain_for(OHW), gather_rows, &job);
                    a_mat = tmp;
                }
                weight_product(sc.dwt, a_mat, ld, c_mat, tcols, OC, CKK, first);
                first = FALSE;
            }
        }
    }
    if (pat_out && bias && !batched)
        apply_bias(pat_out, bias, g->N, OC, OHW, FALSE);
    if (dweight && !first) /* first: no image at all (N = 0), nothing to add */
        add_transposed(dweight, sc.dwt, OC, CKK);
}

/* img_acc += col2im(Wᵀ · pat), and/or dW += pat · col(img)ᵀ, sharing one gather of pat.
 * pat [N, OC, OH, OW]; weight [OC, CKK]; img_acc, img [N, C, H, W]. */
static void patch_transpose(const ConvGeom *g, float *scratch, const float *pat,
                            const float *weight, float *img_acc, float *dweight, const float *img)
{
    if (!img_acc && !dweight)
        return;
    const int CKK = g->C * g->KH * g->KW, OC = g->OC;
    const gint64 HW = (gint64)g->H * g->W, OHW = (gint64)g->OH * g->OW;
    const gboolean batched = g->nb > 1;
    ConvScratch sc = geom_scratch(g, scratch);
    float *col = sc.col, *tmp = sc.tmp;
    gboolean first = TRUE;
    for (int n0 = 0; n0 < g->N; n0 += g->nb) {
        int nbc = MIN(g->nb, g->N - n0);
        const float *img_n = img ? img + (gint64)n0 * g->C * HW : NULL;
        float *acc_n = img_acc ? img_acc + (gint64)n0 * g->C * HW : NULL;
        const float *pat_n = pat + (gint64)n0 * OC * OHW;
        if (batched) {
            PatchJob job = {.tmp = tmp, .src = pat_n, .OHW = OHW, .OC = OC, .nbc = nbc};
            aigc_parallel_for((gint64)nbc * OC, grain_for(OHW), gather_rows, &job);
        }
        for (gint64 p0 = 0; p0 < OHW; p0 += g->tile) {
            gint64 p1 = MIN(OHW, p0 + g->tile);
            int tcols = (int)(nbc * (p1 - p0)), ld = batched ? tcols : (int)OHW;
            const float *a_mat = batched ? tmp : pat_n + p0;
            if (dweight) {
                const float *c_mat = img_n;
                if (!g->direct) {
                    im2col(g, col, img_n, nbc, p0, p1);
                    c_mat = col;
                }
                weight_product(sc.dwt, a_mat, ld, c_mat, tcols, OC, CKK, first);
                first = FALSE;
            }
            if (acc_n && g->direct) {
                aigc_sgemm(CblasTrans, CblasNoTrans, CKK, tcols, OC, 1.0f, weight, CKK, a_mat, ld,
                           1.0f, acc_n, tcols);
            } else if (acc_n) {
                aigc_sgemm(CblasTrans, CblasNoTrans, CKK, tcols, OC, 1.0f, weight, CKK, a_mat, ld,
                           0.0f, col, tcols);
                col2im(g, acc_n, col, nbc, p0, p1);
            }
        }
    }
    if (dweight && !first) /* first: no image at all (N = 0), nothing to add */
        add_transposed(dweight, sc.dwt, OC, CKK);
}

/* ---- geometry of each op ---- */

int aigc_conv_out_size(int in, int kernel, int stride, int pad_begin, int pad_end, int dilation)
{
    g_return_val_if_fail(stride > 0 && dilation > 0 && kernel > 0, 0);
    gint64 span = (gint64)in + pad_begin + pad_end - (gint64)dilation * (kernel - 1) - 1;
    return span < 0 ? 0 : (int)(span / stride + 1);
}

int aigc_conv_transpose_out_size(int in, int kernel, int stride, int pad, int output_padding,
                                 int dilation)
{
    return (in - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1;
}

/* Image [N, C, H, W], patch side with OC channels, KH×KW kernel; stride and dilation 1, no
 * padding until the caller says otherwise. */
static ConvGeom geom_new(int N, int C, int H, int W, int OC, int KH, int KW)
{
    ConvGeom g = {.N = N, .C = C, .H = H, .W = W, .OC = OC, .KH = KH, .KW = KW};
    g.sh = g.sw = g.dh = g.dw = 1;
    return g;
}

static ConvGeom conv1d_geom(int N, int C, int L, int OC, int K, int stride, int pad_left,
                            int pad_right, int dilation)
{
    ConvGeom g = geom_new(N, C, 1, L, OC, 1, K);
    g.sw = stride;
    g.pw = pad_left;
    g.dw = dilation;
    g.OH = 1;
    g.OW = aigc_conv_out_size(L, K, stride, pad_left, pad_right, dilation);
    geom_finish(&g);
    return g;
}

static ConvGeom conv2d_geom(int N, int C, int H, int W, int OC, int KH, int KW, int stride, int pad)
{
    ConvGeom g = geom_new(N, C, H, W, OC, KH, KW);
    g.sh = g.sw = stride;
    g.ph = g.pw = pad;
    g.OH = aigc_conv_out_size(H, KH, stride, pad, pad, 1);
    g.OW = aigc_conv_out_size(W, KW, stride, pad, pad, 1);
    geom_finish(&g);
    return g;
}

/* The image side is the transposed conv's output [N, OC_t, OH_t, OW_t], the patch side its input
 * [N, C_t, H_t, W_t]. */
static ConvGeom conv_transpose2d_geom(int N, int C, int H, int W, int OC, int KH, int KW,
                                      int stride, int pad, int output_padding)
{
    int OH = aigc_conv_transpose_out_size(H, KH, stride, pad, output_padding, 1);
    int OW = aigc_conv_transpose_out_size(W, KW, stride, pad, output_padding, 1);
    ConvGeom g = geom_new(N, OC, OH, OW, C, KH, KW);
    g.sh = g.sw = stride;
    g.ph = g.pw = pad;
    g.OH = H;
    g.OW = W;
    geom_finish(&g);
    return g;
}

static ConvGeom conv_transpose1d_geom(int N, int C, int L, int OC, int K, int stride, int pad,
                                      int output_padding)
{
    int Lout = aigc_conv_transpose_out_size(L, K, stride, pad, output_padding, 1);
    ConvGeom g = geom_new(N, OC, 1, Lout, C, 1, K);
    g.sw = stride;
    g.pw = pad;
    g.OH = 1;
    g.OW = L;
    geom_finish(&g);
    return g;
}

/* ---- kernels ---- */

static void conv_forward(const ConvGeom *g, float *out, float *scratch, const float *inp,
                         const float *weight, const float *bias)
{
    patch_products(g, scratch, inp, weight, out, FALSE, bias, NULL, NULL);
}

static void conv_backward(const ConvGeom *g, float *dinp, float *dweight, float *dbias,
                          float *scratch, const float *dout, const float *inp, const float *weight)
{
    patch_transpose(g, scratch, dout, weight, dinp, dweight, inp);
    if (dbias)
        bias_backward(dbias, dout, g->N, g->OC, (gint64)g->OH * g->OW);
}

static void conv_transpose_forward(const ConvGeom *g, float *out, float *scratch, const float *inp,
                                   const float *weight, const float *bias)
{
    /* Start from the bias (or zeros) and let col2im add the products in. */
    apply_bias(out, bias, g->N, g->C, (gint64)g->H * g->W, TRUE);
    patch_transpose(g, scratch, inp, weight, out, NULL, NULL);
}

static void conv_transpose_backward(const ConvGeom *g, float *dinp, float *dweight, float *dbias,
                                    float *scratch, const float *dout, const float *inp,
                                    const float *weight)
{
    patch_products(g, scratch, dout, weight, dinp, TRUE, NULL, dweight, inp);
    if (dbias)
        bias_backward(dbias, dout, g->N, g->C, (gint64)g->H * g->W);
}

gint64 aigc_conv1d_scratch_size(int N, int C, int L, int OC, int K, int stride, int pad_left,
                                int pad_right, int dilation)
{
    ConvGeom g = conv1d_geom(N, C, L, OC, K, stride, pad_left, pad_right, dilation);
    return geom_scratch_size(&g);
}

void aigc_conv1d_forward(float *out, float *scratch, const float *inp, const float *weight,
                         const float *bias, int N, int C, int L, int OC, int K, int stride,
                         int pad_left, int pad_right, int dilation)
{
    ConvGeom g = conv1d_geom(N, C, L, OC, K, stride, pad_left, pad_right, dilation);
    conv_forward(&g, out, scratch, inp, weight, bias);
}

void aigc_conv1d_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                          const float *dout, const float *inp, const float *weight, int N, int C,
                          int L, int OC, int K, int stride, int pad_left, int pad_right,
                          int dilation)
{
    ConvGeom g = conv1d_geom(N, C, L, OC, K, stride, pad_left, pad_right, dilation);
    conv_backward(&g, dinp, dweight, dbias, scratch, dout, inp, weight);
}

gint64 aigc_conv2d_scratch_size(int N, int C, int H, int W, int OC, int KH, int KW, int stride,
                                int pad)
{
    ConvGeom g = conv2d_geom(N, C, H, W, OC, KH, KW, stride, pad);
    return geom_scratch_size(&g);
}

void aigc_conv2d_forward(float *out, float *scratch, const float *inp, const float *weight,
                         const float *bias, int N, int C, int H, int W, int OC, int KH, int KW,
                         int stride, int pad)
{
    ConvGeom g = conv2d_geom(N, C, H, W, OC, KH, KW, stride, pad);
    conv_forward(&g, out, scratch, inp, weight, bias);
}

void aigc_conv2d_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                          const float *dout, const float *inp, const float *weight, int N, int C,
                          int H, int W, int OC, int KH, int KW, int stride, int pad)
{
    ConvGeom g = conv2d_geom(N, C, H, W, OC, KH, KW, stride, pad);
    conv_backward(&g, dinp, dweight, dbias, scratch, dout, inp, weight);
}

gint64 aigc_conv_transpose1d_scratch_size(int N, int C, int L, int OC, int K, int stride, int pad,
                                          int output_padding)
{
    ConvGeom g = conv_transpose1d_geom(N, C, L, OC, K, stride, pad, output_padding);
    return geom_scratch_size(&g);
}

void aigc_conv_transpose1d_forward(float *out, float *scratch, const float *inp,
                                   const float *weight, const float *bias, int N, int C, int L,
                                   int OC, int K, int stride, int pad, int output_padding)
{
    ConvGeom g = conv_transpose1d_geom(N, C, L, OC, K, stride, pad, output_padding);
    conv_transpose_forward(&g, out, scratch, inp, weight, bias);
}

void aigc_conv_transpose1d_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                                    const float *dout, const float *inp, const float *weight, int N,
                                    int C, int L, int OC, int K, int stride, int pad,
                                    int output_padding)
{
    ConvGeom g = conv_transpose1d_geom(N, C, L, OC, K, stride, pad, output_padding);
    conv_transpose_backward(&g, dinp, dweight, dbias, scratch, dout, inp, weight);
}

gint64 aigc_conv_transpose2d_scratch_size(int N, int C, int H, int W, int OC, int KH, int KW,
                                          int stride, int pad, int output_padding)
{
    ConvGeom g = conv_transpose2d_geom(N, C, H, W, OC, KH, KW, stride, pad, output_padding);
    return geom_scratch_size(&g);
}

void aigc_conv_transpose2d_forward(float *out, float *scratch, const float *inp,
                                   const float *weight, const float *bias, int N, int C, int H,
                                   int W, int OC, int KH, int KW, int stride, int pad,
                                   int output_padding)
{
    ConvGeom g = conv_transpose2d_geom(N, C, H, W, OC, KH, KW, stride, pad, output_padding);
    conv_transpose_forward(&g, out, scratch, inp, weight, bias);
}

void aigc_conv_transpose2d_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                                    const float *dout, const float *inp, const float *weight, int N,
                                    int C, int H, int W, int OC, int KH, int KW, int stride,
                                    int pad, int output_padding)
{
    ConvGeom g = conv_transpose2d_geom(N, C, H, W, OC, KH, KW, stride, pad, output_padding);
    conv_transpose_backward(&g, dinp, dweight, dbias, scratch, dout, inp, weight);
}

/* ---- differentiable ops ----
 * All four record the same way: inputs x, w, b (b may be NULL), the geometry in node->i, and
 * nothing saved: the backward recomputes im2col, which costs less than keeping col alive. */

enum { I_STRIDE, I_PAD, I_PAD2, I_DIL, I_OUTPAD };

static gboolean check_bias(AigcTensor *b, gint64 n_channels)
{
    return !b || (b->n_dims == 1 && b->shape[0] == n_channels);
}

static AigcNode *record_conv(AigcCtx *ctx, const char *op, AigcBackwardFunc backward, AigcTensor *y,
                             AigcTensor *x, AigcTensor *w, AigcTensor *b, int stride, int pad,
                             int pad2, int dilation, int output_padding)
{
    AigcNode *node = aigc_record3(ctx, op, backward, y, x, w, b);
    if (node) {
        node->i[I_STRIDE] = stride;
        node->i[I_PAD] = pad;
        node->i[I_PAD2] = pad2;
        node->i[I_DIL] = dilation;
        node->i[I_OUTPAD] = output_padding;
    }
    return node;
}

/* Gradient buffers of a conv node's inputs (each NULL when not needed). */
static void node_grads(AigcCtx *ctx, AigcNode *node, float **dx, float **dw, float **db)
{
    *dx = aigc_grad(ctx, node->in[0]);
    *dw = aigc_grad(ctx, node->in[1]);
    *db = aigc_grad(ctx, node->in[2]);
}

static void conv1d_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *w = node->in[1], *y = node->out[0];
    float *dx, *dw, *db;
    node_grads(ctx, node, &dx, &dw, &db);
    int N = (int)x->shape[0], C = (int)x->shape[1], L = (int)x->shape[2];
    int OC = (int)w->shape[0], K = (int)w->shape[2];
    int s = (int)node->i[I_STRIDE], pl = (int)node->i[I_PAD], pr = (int)node->i[I_PAD2];
    int d = (int)node->i[I_DIL];
    float *scratch =
        aigc_ctx_alloc_floats(ctx, aigc_conv1d_scratch_size(N, C, L, OC, K, s, pl, pr, d));
    aigc_conv1d_backward(dx, dw, db, scratch, y->grad, x->data, w->data, N, C, L, OC, K, s, pl, pr,
                         d);
}

AigcTensor *aigc_conv1d(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b, int stride,
                        int padding, int dilation, gboolean causal)
{
    g_return_val_if_fail(x->n_dims == 3 && w->n_dims == 3, NULL);
    g_return_val_if_fail(w->shape[1] == x->shape[1], NULL);
    g_return_val_if_fail(check_bias(b, w->shape[0]), NULL);
    g_return_val_if_fail(stride > 0 && dilation > 0 && padding >= 0, NULL);
    g_return_val_if_fail(!causal || padding == 0, NULL);
    x = aigc_contiguous(ctx, x);
    w = aigc_contiguous(ctx, w);
    b = b ? aigc_contiguous(ctx, b) : NULL;
    int N = (int)x->shape[0], C = (int)x->shape[1], L = (int)x->shape[2];
    int OC = (int)w->shape[0], K = (int)w->shape[2];
    int pl = causal ? (K - 1) * dilation : padding, pr = causal ? 0 : padding;
    int Lout = aigc_conv_out_size(L, K, stride, pl, pr, dilation);
    g_return_val_if_fail(Lout > 0, NULL);
    AigcTensor *y = aigc_tensor_new3(ctx, N, OC, Lout); /* [N, OC, Lout] */
    float *scratch = aigc_ctx_alloc_floats(
        ctx, aigc_conv1d_scratch_size(N, C, L, OC, K, stride, pl, pr, dilation));
    aigc_conv1d_forward(y->data, scratch, x->data, w->data, b ? b->data : NULL, N, C, L, OC, K,
                        stride, pl, pr, dilation);
    record_conv(ctx, "conv1d", conv1d_backward_node, y, x, w, b, stride, pl, pr, dilation, 0);
    return y;
}

static void conv2d_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *w = node->in[1], *y = node->out[0];
    float *dx, *dw, *db;
    node_grads(ctx, node, &dx, &dw, &db);
    int N = (int)x->shape[0], C = (int)x->shape[1], H = (int)x->shape[2], W = (int)x->shape[3];
    int OC = (int)w->shape[0], KH = (int)w->shape[2], KW = (int)w->shape[3];
    int s = (int)node->i[I_STRIDE], p = (int)node->i[I_PAD];
    float *scratch =
        aigc_ctx_alloc_floats(ctx, aigc_conv2d_scratch_size(N, C, H, W, OC, KH, KW, s, p));
    aigc_conv2d_backward(dx, dw, db, scratch, y->grad, x->data, w->data, N, C, H, W, OC, KH, KW, s,
                         p);
}

AigcTensor *aigc_conv2d(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b, int stride,
                        int padding)
{
    g_return_val_if_fail(x->n_dims == 4 && w->n_dims == 4, NULL);
    g_return_val_if_fail(w->shape[1] == x->shape[1], NULL);
    g_return_val_if_fail(check_bias(b, w->shape[0]), NULL);
    g_return_val_if_fail(stride > 0 && padding >= 0, NULL);
    x = aigc_contiguous(ctx, x);
    w = aigc_contiguous(ctx, w);
    b = b ? aigc_contiguous(ctx, b) : NULL;
    int N = (int)x->shape[0], C = (int)x->shape[1], H = (int)x->shape[2], W = (int)x->shape[3];
    int OC = (int)w->shape[0], KH = (int)w->shape[2], KW = (int)w->shape[3];
    int OH = aigc_conv_out_size(H, KH, stride, padding, padding, 1);
    int OW = aigc_conv_out_size(W, KW, stride, padding, padding, 1);
    g_return_val_if_fail(OH > 0 && OW > 0, NULL);
    AigcTensor *y = aigc_tensor_new4(ctx, N, OC, OH, OW); /* [N, OC, OH, OW] */
    float *scratch = aigc_ctx_alloc_floats(
        ctx, aigc_conv2d_scratch_size(N, C, H, W, OC, KH, KW, stride, padding));
    aigc_conv2d_forward(y->data, scratch, x->data, w->data, b ? b->data : NULL, N, C, H, W, OC, KH,
                        KW, stride, padding);
    record_conv(ctx, "conv2d", conv2d_backward_node, y, x, w, b, stride, padding, padding, 1, 0);
    return y;
}

static void conv_transpose1d_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *w = node->in[1], *y = node->out[0];
    float *dx, *dw, *db;
    node_grads(ctx, node, &dx, &dw, &db);
    int N = (int)x->shape[0], C = (int)x->shape[1], L = (int)x->shape[2];
    int OC = (int)w->shape[1], K = (int)w->shape[2];
    int s = (int)node->i[I_STRIDE], p = (int)node->i[I_PAD], op = (int)node->i[I_OUTPAD];
    float *scratch =
        aigc_ctx_alloc_floats(ctx, aigc_conv_transpose1d_scratch_size(N, C, L, OC, K, s, p, op));
    aigc_conv_transpose1d_backward(dx, dw, db, scratch, y->grad, x->data, w->data, N, C, L, OC, K,
                                   s, p, op);
}

AigcTensor *aigc_conv_transpose1d(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b,
                                  int stride, int padding, int output_padding)
{
    g_return_val_if_fail(x->n_dims == 3 && w->n_dims == 3, NULL);
    g_return_val_if_fail(w->shape[0] == x->shape[1], NULL);
    g_return_val_if_fail(check_bias(b, w->shape[1]), NULL);
    g_return_val_if_fail(stride > 0 && padding >= 0, NULL);
    g_return_val_if_fail(output_padding >= 0 && output_padding < stride, NULL);
    x = aigc_contiguous(ctx, x);
    w = aigc_contiguous(ctx, w);
    b = b ? aigc_contiguous(ctx, b) : NULL;
    int N = (int)x->shape[0], C = (int)x->shape[1], L = (int)x->shape[2];
    int OC = (int)w->shape[1], K = (int)w->shape[2];
    int Lout = aigc_conv_transpose_out_size(L, K, stride, padding, output_padding, 1);
    g_return_val_if_fail(Lout > 0, NULL);
    AigcTensor *y = aigc_tensor_new3(ctx, N, OC, Lout); /* [N, OC, Lout] */
    float *scratch = aigc_ctx_alloc_floats(
        ctx, aigc_conv_transpose1d_scratch_size(N, C, L, OC, K, stride, padding, output_padding));
    aigc_conv_transpose1d_forward(y->data, scratch, x->data, w->data, b ? b->data : NULL, N, C, L,
                                  OC, K, stride, padding, output_padding);
    record_conv(ctx, "conv_transpose1d", conv_transpose1d_backward_node, y, x, w, b, stride,
                padding, padding, 1, output_padding);
    return y;
}

static void conv_transpose2d_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *w = node->in[1], *y = node->out[0];
    float *dx, *dw, *db;
    node_grads(ctx, node, &dx, &dw, &db);
    int N = (int)x->shape[0], C = (int)x->shape[1], H = (int)x->shape[2], W = (int)x->shape[3];
    int OC = (int)w->shape[1], KH = (int)w->shape[2], KW = (int)w->shape[3];
    int s = (int)node->i[I_STRIDE], p = (int)node->i[I_PAD], op = (int)node->i[I_OUTPAD];
    float *scratch = aigc_ctx_alloc_floats(
        ctx, aigc_conv_transpose2d_scratch_size(N, C, H, W, OC, KH, KW, s, p, op));
    aigc_conv_transpose2d_backward(dx, dw, db, scratch, y->grad, x->data, w->data, N, C, H, W, OC,
                                   KH, KW, s, p, op);
}

AigcTensor *aigc_conv_transpose2d(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b,
                                  int stride, int padding, int output_padding)
{
    g_return_val_if_fail(x->n_dims == 4 && w->n_dims == 4, NULL);
    g_return_val_if_fail(w->shape[0] == x->shape[1], NULL);
    g_return_val_if_fail(check_bias(b, w->shape[1]), NULL);
    g_return_val_if_fail(stride > 0 && padding >= 0, NULL);
    g_return_val_if_fail(output_padding >= 0 && output_padding < stride, NULL);
    x = aigc_contiguous(ctx, x);
    w = aigc_contiguous(ctx, w);
    b = b ? aigc_contiguous(ctx, b) : NULL;
    int N = (int)x->shape[0], C = (int)x->shape[1], H = (int)x->shape[2], W = (int)x->shape[3];
    int OC = (int)w->shape[1], KH = (int)w->shape[2], KW = (int)w->shape[3];
    int OH = aigc_conv_transpose_out_size(H, KH, stride, padding, output_padding, 1);
    int OW = aigc_conv_transpose_out_size(W, KW, stride, padding, output_padding, 1);
    g_return_val_if_fail(OH > 0 && OW > 0, NULL);
    AigcTensor *y = aigc_tensor_new4(ctx, N, OC, OH, OW); /* [N, OC, OH, OW] */
    float *scratch =
        aigc_ctx_alloc_floats(ctx, aigc_conv_transpose2d_scratch_size(
                                       N, C, H, W, OC, KH, KW, stride, padding, output_padding));
    aigc_conv_transpose2d_forward(y->data, scratch, x->data, w->data, b ? b->data : NULL, N, C, H,
                                  W, OC, KH, KW, stride, padding, output_padding);
    record_conv(ctx, "conv_transpose2d", conv_transpose2d_backward_node, y, x, w, b, stride,
                padding, padding, 1, output_padding);
    return y;
}
