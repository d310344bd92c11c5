/* SPDX-License-Identifier: MIT
 *
 * Winograd F(2×2, 3×3). Legend: N images, C input channels, OC output channels, H×W the map
 * (padding 1 keeps it), TH×TW = ⌈H/2⌉×⌈W/2⌉ tiles of 2×2 outputs per image (T of them; odd
 * sides get a cropped last tile), ξ = 4·i + k one of the 16 points of the transformed 4×4 tile.
 *
 * For a tile d (4×4 input, rows 2ty − 1 … 2ty + 2, zeros outside), a kernel g (3×3) and the
 * 2×2 output y:
 *   V = Bᵀ d B,  U = G g Gᵀ,  y = Aᵀ (Σ_c U ⊙ V) A,
 *   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
 *   Aᵀ = [1 1 1 0; 0 1 −1 −1].
 * The sum over channels at each ξ is a GEMM: M_ξ [OC, tiles] = U_ξ [OC, C] · V_ξ [C, tiles].
 * Backward: the data gradient is the same convolution of dy with the kernel flipped and
 * transposed (w'[c, oc] = w[oc, c] rotated 180°); the weight gradient follows from linearity,
 * dg = Gᵀ (Σ_tiles (A dy Aᵀ) ⊙ V) G, whose sum over tiles is again a GEMM per ξ,
 * P_ξ [OC, C] = Ŷ_ξ [OC, tiles] · V_ξᵀ.
 *
 * DESIGN: images go in chunks whose transformed tiles (V, M: 16 values per tile and channel)
 * stay within about 1 MB, so the GEMMs read them from the cache right after the transforms wrote
 * them. Transforms run in parallel over (image, channel) rows and, within a row, over bands of
 * tile rows: each map row's column transform is made once into a small buffer, and the row
 * transform then runs as flat loops over all the band's tiles (per-tile-row loops of 4 … 14
 * tiles spent most of their time in loop overhead). The 16 GEMMs of a chunk run in parallel,
 * one single-threaded sgemm each. Chunks depend on the shapes only, so results do not
 * depend on the thread count.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* As in engine/nn/aigc-elementwise.c: the loops here are written to vectorise. */
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math")
#endif

#include "aigc-winograd.h"

#include "nn/aigc-elementwise.h"
#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <cblas.h>
#include <string.h>

/* Floats of transformed tiles a chunk may take (V and M together): 1 MB, which measured best
 * on this machine's 1 MB L2 per core among 0.5 … 8 MB. */
#define WINO_CHUNK_FLOATS (1 << 18)
/* Widest map supported by the stack buffers of the transforms (tiles per row). */
#define WINO_MAX_TW 128

typedef struct {
    int N, C, H, W, OC;
    int TH, TW, T; /* tiles per image */
    int nb;        /* images per chunk */
} Geom;

static Geom geom_of(int N, int C, int H, int W, int OC)
{
    Geom g = {N, C, H, W, OC, (H + 1) / 2, (W + 1) / 2, 0, 1};
    g.T = g.TH * g.TW;
    gint64 per_image = 16 * (gint64)g.T * (C + OC);
    g.nb = (int)CLAMP(WINO_CHUNK_FLOATS / MAX(per_image, 1), 1, MAX(N, 1));
    return g;
}

gint64 aigc_conv3x3_scratch_size(int N, int C, int H, int W, int OC)
{
    Geom g = geom_of(N, C, H, W, OC);
    gint64 tiles = (gint64)g.nb * g.T;
    return 32 * (gint64)OC * C + 16 * tiles * ((gint64)C + OC);
}

static gint64 grain_for(gint64 per_item)
{
    return MAX(16384 / MAX(per_item, 1), 1);
}

/* ---- transforms ---- */

typedef struct {
    const Geom *g;
    const float *src; /* input transform: the chunk's images [nbc, Cs, H, W] */
    float *dst;       /* output transform: the chunk's images [nbc, Cs, H, W] */
    float *tiles;     /* [16, Cs, ld] */
    const float *bias;
    int Cs;    /* channels of this side */
    gint64 ld; /* tiles in the chunk: nbc·T */
    gboolean accumulate;
} TileJob;

/* The column transform of input row y (zeros outside the map) for the TW tiles of a tile row:
 * e_k[tx] = (Bᵀ d_row)_k over columns 2tx − 1 … 2tx + 2. */
AIGC_KERNEL_BODY void column_transform(float *restrict e0, float *restrict e1, float *restrict e2,
                                       float *restrict e3, const float *restrict src, int y, int H,
                                       int W, int TW)
{
    if (y < 0 || y >= H) {
        for (int tx = 0; tx < TW; tx++)
            e0[tx] = e1[tx] = e2[tx] = e3[tx] = 0.0f;
        return;
    }
    /* straight from the row inside (a copy's stores would stall the loads), with zeros past
     * the edges for the first and the last tiles */
    const float *restrict sr = src + (gint64)y * W;
    const int lo = 1, hi = MAX((W - 3) / 2 + 1, lo); /* interior tiles [lo, hi) */
    for (int tx = lo; tx < hi; tx++) {
        const float a = sr[2 * tx - 1], b = sr[2 * tx], cc = sr[2 * tx + 1], d = sr[2 * tx + 2];
        e0[tx] = a - cc;
        e1[tx] = b + cc;
        e2[tx] = cc - b;
        e3[tx] = b - d;
    }
    for (int tx = 0; tx < TW; tx = tx == 0 ? MAX(hi, 1) : tx + 1) {
        const int x0 = 2 * tx - 1;
        const float a = x0 >= 0 && x0 < W ? sr[x0] : 0.0f;
        const float b = x0 + 1 < W ? sr[x0 + 1] : 0.0f;
        const float cc = x0 + 2 < W ? sr[x0 + 2] : 0.0f;
        const float d = x0 + 3 < W ? sr[x0 + 3] : 0.0f;
        e0[tx] = a - cc;
        e1[tx] = b + cc;
        e2[tx] = cc - b;
        e3[tx] = b - d;
    }
}

/* Tile rows transformed together: each input row's column transform is made once, and the row
 * transform runs over a whole band of tiles as flat loops. */
#define WINO_BAND 8

/* V = Bᵀ d B for every tile of rows r = (image j, channel c). Tile row ty reads input rows
 * 2ty − 1 … 2ty + 2: the "even" rows 2ty − 1, 2ty + 1 (ee[q] holds row 2q − 1) and the "odd"
 * rows 2ty, 2ty + 2 (eo[q] holds row 2q), so within a band
 *   V_{0k} = ee_k[ty] − ee_k[ty + 1],  V_{1k} = eo_k[ty] + ee_k[ty + 1],
 *   V_{2k} = ee_k[ty + 1] − eo_k[ty],  V_{3k} = eo_k[ty] − eo_k[ty + 1],
 * each a flat loop over the band's tiles. */
AIGC_KERNEL_BODY void input_rows_body(gint64 r0, gint64 r1, gpointer data)
{
    const TileJob *job = data;
    const Geom *g = job->g;
    const int H = g->H, W = g->W, TW = g->TW;
    const gint64 plane = (gint64)job->Cs * job->ld;
    float ee[4][(WINO_BAND + 1) * WINO_MAX_TW], eo[4][(WINO_BAND + 1) * WINO_MAX_TW];
    for (gint64 r = r0; r < r1; r++) {
        const int j = (int)(r / job->Cs), c = (int)(r % job->Cs);
        const float *src = job->src + r * H * W;
        float *v = job->tiles + (gint64)c * job->ld + (gint64)j * g->T; /* + ξ·plane + tile */
        for (int ty0 = 0; ty0 < g->TH; ty0 += WINO_BAND) {
            const int nt = MIN(WINO_BAND, g->TH - ty0);
            for (int q = 0; q <= nt; q++) {
                const int y = 2 * (ty0 + q);
                const gint64 o = (gint64)q * TW;
                column_transform(ee[0] + o, ee[1] + o, ee[2] + o, ee[3] + o, src, y - 1, H, W, TW);
                column_transform(eo[0] + o, eo[1] + o, eo[2] + o, eo[3] + o, src, y, H, W, TW);
            }
            float *vt = v + (gint64)ty0 * TW;
            const int n = nt * TW;
            for (int k = 0; k < 4; k++) {
                const float *restrict e0 = ee[k], *restrict e1 = ee[k] + TW, *restrict o0 = eo[k],
                                      *restrict o1 = eo[k] + TW;
                float *restrict v0 = vt + k * plane, *restrict v1 = vt + (4 + k) * plane,
                                *restrict v2 = vt + (8 + k) * plane,
                                *restrict v3 = vt + (12 + k) * plane;
                for (int t = 0; t < n; t++) {
                    v0[t] = e0[t] - e1[t];
                    v1[t] = o0[t] + e1[t];
                    v2[t] = e1[t] - o0[t];
                    v3[t] = o0[t] - o1[t];
                }
            }
        }
    }
}
AIGC_ROWS_DISPATCH(input_rows)

/* The column transform (A d_row)_k of dy row y (zeros outside) for the TW tiles of a tile row:
 * from the tile's columns p = 2tx, q = 2tx + 1: (p, p + q, p − q, −q). */
AIGC_KERNEL_BODY void grad_column_transform(float *restrict e0, float *restrict e1,
                                            float *restrict e2, float *restrict e3,
                                            const float *restrict src, int y, int H, int W, int TW)
{
    if (y >= H) {
        for (int tx = 0; tx < TW; tx++)
            e0[tx] = e1[tx] = e2[tx] = e3[tx] = 0.0f;
        return;
    }
    const float *restrict sr = src + (gint64)y * W;
    const int full = W / 2; /* tiles whose two columns are both inside */
    for (int tx = 0; tx < full; tx++) {
        const float p = sr[2 * tx], q = sr[2 * tx + 1];
        e0[tx] = p;
        e1[tx] = p + q;
        e2[tx] = p - q;
        e3[tx] = -q;
    }
    if (full < TW) { /* odd width: the last tile's second column is outside */
        const float p = sr[2 * full];
        e0[full] = e1[full] = e2[full] = p;
        e3[full] = 0.0f;
    }
}

/* Ŷ = A dy Aᵀ for every tile of rows r = (image j, channel oc) of dy (zeros past the edge). A
 * band of tile rows at a time: the column transforms of its rows 2ty (ee) and 2ty + 1 (eo),
 * then Ŷ_{0k} = ee_k, Ŷ_{1k} = ee_k + eo_k, Ŷ_{2k} = ee_k − eo_k, Ŷ_{3k} = −eo_k in flat loops. */
AIGC_KERNEL_BODY void output_grad_rows_body(gint64 r0, gint64 r1, gpointer data)
{
    const TileJob *job = data;
    const Geom *g = job->g;
    const int H = g->H, W = g->W, TW = g->TW;
    const gint64 plane = (gint64)job->Cs * job->ld;
    float ee[4][WINO_BAND * WINO_MAX_TW], eo[4][WINO_BAND * WINO_MAX_TW];
    for (gint64 r = r0; r < r1; r++) {
        const int j = (int)(r / job->Cs), c = (int)(r % job->Cs);
        const float *src = job->src + r * H * W;
        float *v = job->tiles + (gint64)c * job->ld + (gint64)j * g->T;
        for (int ty0 = 0; ty0 < g->TH; ty0 += WINO_BAND) {
            const int nt = MIN(WINO_BAND, g->TH - ty0), n = nt * TW;
            for (int q = 0; q < nt; q++) {
                const int y = 2 * (ty0 + q);
                const gint64 o = (gint64)q * TW;
                grad_column_transform(ee[0] + o, ee[1] + o, ee[2] + o, ee[3] + o, src, y, H, W, TW);
                grad_column_transform(eo[0] + o, eo[1] + o, eo[2] + o, eo[3] + o, src, y + 1, H, W,
                                      TW);
            }
            float *vt = v + (gint64)ty0 * TW;
            for (int k = 0; k < 4; k++) {
                const float *restrict a = ee[k], *restrict cc = eo[k];
                float *restrict v0 = vt + k * plane, *restrict v1 = vt + (4 + k) * plane,
                                *restrict v2 = vt + (8 + k) * plane,
                                *restrict v3 = vt + (12 + k) * plane;
                for (int t = 0; t < n; t++) {
                    v0[t] = a[t];
                    v1[t] = a[t] + cc[t];
                    v2[t] = a[t] - cc[t];
                    v3[t] = -cc[t];
                }
            }
        }
    }
}
AIGC_ROWS_DISPATCH(output_grad_rows)

/* y = Aᵀ M A (+ bias) for every tile of rows r = (image j, channel oc), written or added.
 * Computed a band of tile rows at a time in flat loops, then interleaved into the output rows:
 * y[2ty][2tx] = y00, y[2ty][2tx + 1] = y01, y[2ty + 1][2tx] = y10, y[2ty + 1][2tx + 1] = y11. */
AIGC_KERNEL_BODY void output_rows_body(gint64 r0, gint64 r1, gpointer data)
{
    const TileJob *job = data;
    const Geom *g = job->g;
    const int H = g->H, W = g->W, TW = g->TW;
    const gint64 plane = (gint64)job->Cs * job->ld;
    float s0[4][WINO_BAND * WINO_MAX_TW], s1[4][WINO_BAND * WINO_MAX_TW];
    float y[4][WINO_BAND * WINO_MAX_TW]; /* y00, y01, y10, y11 */
    for (gint64 r = r0; r < r1; r++) {
        const int j = (int)(r / job->Cs), c = (int)(r % job->Cs);
        const float bias = job->bias ? job->bias[c] : 0.0f;
        float *dst = job->dst + r * H * W;
        const float *m = job->tiles + (gint64)c * job->ld + (gint64)j * g->T;
        for (int ty0 = 0; ty0 < g->TH; ty0 += WINO_BAND) {
            const int nt = MIN(WINO_BAND, g->TH - ty0), n = nt * TW;
            const float *mt = m + (gint64)ty0 * TW;
            for (int k = 0; k < 4; k++) {
                const float *restrict a = mt + k * plane, *restrict b = mt + (4 + k) * plane,
                                      *restrict cc = mt + (8 + k) * plane,
                                      *restrict d = mt + (12 + k) * plane;
                float *restrict t0 = s0[k], *restrict t1 = s1[k];
                for (int t = 0; t < n; t++) {
                    t0[t] = a[t] + b[t] + cc[t];
                    t1[t] = b[t] - cc[t] - d[t];
                }
            }
            for (int i = 0; i < 2; i++) {
                const float *restrict a = i ? s1[0] : s0[0], *restrict b = i ? s1[1] : s0[1],
                                      *restrict cc = i ? s1[2] : s0[2],
                                      *restrict d = i ? s1[3] : s0[3];
                float *restrict ya = y[2 * i], *restrict yb = y[2 * i + 1];
                for (int t = 0; t < n; t++) {
                    ya[t] = a[t] + b[t] + cc[t] + bias;
                    yb[t] = b[t] - cc[t] - d[t] + bias;
                }
            }
            for (int q = 0; q < nt; q++) {
                for (int i = 0; i < 2 && 2 * (ty0 + q) + i < H; i++) {
                    const float *restrict ya = y[2 * i] + q * TW, *restrict yb =
                                                                      y[2 * i + 1] + q * TW;
                    float *restrict dy = dst + (gint64)(2 * (ty0 + q) + i) * W;
                    const int pairs = W / 2; /* whole pairs; an odd width's last column below */
                    if (job->accumulate) {
                        for (int tx = 0; tx < pairs; tx++) {
                            dy[2 * tx] += ya[tx];
                            dy[2 * tx + 1] += yb[tx];
                        }
                        if (W % 2)
                            dy[W - 1] += ya[pairs];
                    } else {
                        for (int tx = 0; tx < pairs; tx++) {
                            dy[2 * tx] = ya[tx];
                            dy[2 * tx + 1] = yb[tx];
                        }
                        if (W % 2)
                            dy[W - 1] = ya[pairs];
                    }
                }
            }
        }
    }
}
AIGC_ROWS_DISPATCH(output_rows)

static void transform(const Geom *g, AigcParallelFunc func, TileJob *job, int nbc)
{
    aigc_parallel_for((gint64)nbc * job->Cs, grain_for((gint64)g->H * g->W * 4), func, job);
}

/* ---- kernels: U = G g Gᵀ and dg = Gᵀ P G ---- */

/* u[4][4] = G g Gᵀ of a 3×3 kernel read as g[ky·sy + kx·sx] (sy, sx negative: flipped). */
static void kernel_transform(float *u, gint64 stride, const float *g, int sy, int sx)
{
    float t[4][3];
    for (int kx = 0; kx < 3; kx++) {
        const float a = g[0 * sy + kx * sx], b = g[1 * sy + kx * sx], c = g[2 * sy + kx * sx];
        t[0][kx] = a;
        t[1][kx] = 0.5f * (a + b + c);
        t[2][kx] = 0.5f * (a - b + c);
        t[3][kx] = c;
    }
    for (int i = 0; i < 4; i++) {
        const float a = t[i][0], b = t[i][1], c = t[i][2];
        u[(4 * i + 0) * stride] = a;
        u[(4 * i + 1) * stride] = 0.5f * (a + b + c);
        u[(4 * i + 2) * stride] = 0.5f * (a - b + c);
        u[(4 * i + 3) * stride] = c;
    }
}

typedef struct {
    float *u;       /* [16, rows, cols] */
    const float *w; /* [OC, C, 3, 3] */
    int OC, C;
    gboolean flipped; /* rows c, cols oc, kernel rotated 180° (the data gradient) */
} KernelJob;

static void kernel_rows(gint64 r0, gint64 r1, gpointer data)
{
    const KernelJob *job = data;
    const gint64 stride = (gint64)job->OC * job->C;
    for (gint64 r = r0; r < r1; r++) {
        const int oc = (int)(r / job->C), c = (int)(r % job->C);
        const float *g = job->w + r * 9;
        if (job->flipped)
            kernel_transform(job->u + (gint64)c * job->OC + oc, stride, g + 8, -3, -1);
        else
            kernel_transform(job->u + (gint64)oc * job->C + c, stride, g, 3, 1);
    }
}

typedef struct {
    float *dweight; /* [OC, C, 3, 3] */
    const float *p; /* [16, OC, C] */
    int OC, C;
} KernelGradJob;

/* dg = Gᵀ P G, Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]. */
static void kernel_grad_rows(gint64 r0, gint64 r1, gpointer data)
{
    const KernelGradJob *job = data;
    const gint64 stride = (gint64)job->OC * job->C;
    for (gint64 r = r0; r < r1; r++) {
        float t[3][4];
        for (int k = 0; k < 4; k++) {
            const float a = job->p[(0 + k) * stride + r], b = job->p[(4 + k) * stride + r],
                        c = job->p[(8 + k) * stride + r], d = job->p[(12 + k) * stride + r];
            t[0][k] = a + 0.5f * (b + c);
            t[1][k] = 0.5f * (b - c);
            t[2][k] = 0.5f * (b + c) + d;
        }
        float *dw = job->dweight + r * 9;
        for (int i = 0; i < 3; i++) {
            const float a = t[i][0], b = t[i][1], c = t[i][2], d = t[i][3];
            dw[3 * i + 0] += a + 0.5f * (b + c);
            dw[3 * i + 1] += 0.5f * (b - c);
            dw[3 * i + 2] += 0.5f * (b + c) + d;
        }
    }
}

/* ---- the 16 products of a chunk ---- */

typedef struct {
    const float *a; /* [16, M, K] or, with trans_b, [16, M, ld] */
    const float *b; /* [16, K, ld] or, with trans_b, [16, N, ld] */
    float *c;       /* [16, M, ld] or, with trans_b, [16, M, N] */
    int M, N, K;
    gint64 ld; /* tiles in the chunk */
    gboolean trans_b;
    float beta;
} GemmJob;

static void gemm_points(gint64 x0, gint64 x1, gpointer data)
{
    const GemmJob *job = data;
    for (gint64 x = x0; x < x1; x++) {
        if (job->trans_b) /* P_ξ [M, N] (+)= Ŷ_ξ [M, ld] · V_ξ [N, ld]ᵀ */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, job->M, job->N, (int)job->ld, 1.0f,
                        job->a + x * job->M * job->ld, (int)job->ld, job->b + x * job->N * job->ld,
                        (int)job->ld, job->beta, job->c + x * job->M * job->N, job->N);
        else /* M_ξ [M, ld] = U_ξ [M, K] · V_ξ [K, ld] */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, job->M, (int)job->ld, job->K,
                        1.0f, job->a + x * job->M * job->K, job->K, job->b + x * job->K * job->ld,
                        (int)job->ld, 0.0f, job->c + x * job->M * job->ld, (int)job->ld);
    }
}

/* dst (+)= conv of src [N, Cin, H, W] with the transformed kernel u [16, Cout, Cin]. */
static void convolve(const Geom *g, float *scratch, float *dst, const float *src, const float *u,
                     const float *bias, int Cin, int Cout, gboolean accumulate)
{
    const gint64 chunk = (gint64)g->nb * g->T;
    float *v = scratch, *m = v + 16 * chunk * Cin; /* [16, Cin, ld], [16, Cout, ld] */
    for (int n0 = 0; n0 < g->N; n0 += g->nb) {
        const int nbc = MIN(g->nb, g->N - n0);
        const gint64 ld = (gint64)nbc * g->T, HW = (gint64)g->H * g->W;
        TileJob in = {.g = g, .src = src + (gint64)n0 * Cin * HW, .tiles = v, .Cs = Cin, .ld = ld};
        transform(g, input_rows, &in, nbc);
        GemmJob gj = {.a = u, .b = v, .c = m, .M = Cout, .K = Cin, .ld = ld};
        aigc_parallel_for(16, 1, gemm_points, &gj);
        TileJob out = {.g = g,
                       .dst = dst + (gint64)n0 * Cout * HW,
                       .tiles = m,
                       .bias = bias,
                       .Cs = Cout,
                       .ld = ld,
                       .accumulate = accumulate};
        transform(g, output_rows, &out, nbc);
    }
}

void aigc_conv3x3_forward(float *out, float *scratch, const float *inp, const float *weight,
                          const float *bias, int N, int C, int H, int W, int OC)
{
    g_return_if_fail(N >= 0 && C >= 1 && OC >= 1 && H >= 1 && W >= 1 && W <= 2 * WINO_MAX_TW);
    if (N == 0)
        return;
    const Geom g = geom_of(N, C, H, W, OC);
    float *u = scratch; /* [16, OC, C] */
    KernelJob kj = {.u = u, .w = weight, .OC = OC, .C = C};
    aigc_parallel_for((gint64)OC * C, grain_for(64), kernel_rows, &kj);
    convolve(&g, u + 16 * (gint64)OC * C, out, inp, u, bias, C, OC, FALSE);
}

typedef struct {
    float *dbias;      /* [OC] */
    const float *dout; /* [N, OC, HW] */
    int N, OC;
    gint64 HW;
} BiasJob;

/* dbias[oc] += Σ over images and positions of dout[n, oc, ·], in 8 float lanes per image. */
static void bias_channels(gint64 oc0, gint64 oc1, gpointer data)
{
    const BiasJob *job = data;
    for (gint64 oc = oc0; oc < oc1; oc++) {
        double s = 0.0;
        for (int n = 0; n < job->N; n++) {
            const float *restrict d = job->dout + ((gint64)n * job->OC + oc) * job->HW;
            float lanes[8] = {0};
            gint64 i = 0;
            for (; i + 8 <= job->HW; i += 8)
                for (int l = 0; l < 8; l++)
                    lanes[l] += d[i + l];
            for (; i < job->HW; i++)
                s += d[i];
            for (int l = 0; l < 8; l++)
                s += lanes[l];
        }
        job->dbias[oc] += (float)s;
    }
}

void aigc_conv3x3_backward(float *dinp, float *dweight, float *dbias, float *scratch,
                           const float *dout, const float *inp, const float *weight, int N, int C,
                           int H, int W, int OC)
{
    g_return_if_fail(N >= 0 && C >= 1 && OC >= 1 && H >= 1 && W >= 1 && W <= 2 * WINO_MAX_TW);
    if (N == 0)
        return;
    const Geom g = geom_of(N, C, H, W, OC);
    const gint64 HW = (gint64)H * W;
    if (dbias) {
        BiasJob bj = {.dbias = dbias, .dout = dout, .N = N, .OC = OC, .HW = HW};
        aigc_parallel_for(OC, grain_for((gint64)N * HW), bias_channels, &bj);
    }
    float *u = scratch;                 /* [16, C, OC]: the flipped kernel */
    float *p = u + 16 * (gint64)OC * C; /* [16, OC, C] */
    float *rest = p + 16 * (gint64)OC * C;
    if (dinp) {
        KernelJob kj = {.u = u, .w = weight, .OC = OC, .C = C, .flipped = TRUE};
        aigc_parallel_for((gint64)OC * C, grain_for(64), kernel_rows, &kj);
        /* the data gradient: dy (OC channels) convolved into dx (C channels) */
        const Geom gd = geom_of(N, OC, H, W, C);
        convolve(&gd, rest, dinp, dout, u, NULL, OC, C, TRUE);
    }
    if (!dweight)
        return;
    const gint64 chunk = (gint64)g.nb * g.T;
    float *v = rest, *yh = v + 16 * chunk * C; /* [16, C, ld], [16, OC, ld] */
    for (int n0 = 0; n0 < N; n0 += g.nb) {
        const int nbc = MIN(g.nb, N - n0);
        const gint64 ld = (gint64)nbc * g.T;
        TileJob in = {.g = &g, .src = inp + (gint64)n0 * C * HW, .tiles = v, .Cs = C, .ld = ld};
        transform(&g, input_rows, &in, nbc);
        TileJob gy = {.g = &g, .src = dout + (gint64)n0 * OC * HW, .tiles = yh, .Cs = OC, .ld = ld};
        transform(&g, output_grad_rows, &gy, nbc);
        GemmJob gj = {.a = yh,
                      .b = v,
                      .c = p,
                      .M = OC,
                      .N = C,
                      .ld = ld,
                      .trans_b = TRUE,
                      .beta = n0 == 0 ? 0.0f : 1.0f};
        aigc_parallel_for(16, 1, gemm_points, &gj);
    }
    KernelGradJob kg = {.dweight = dweight, .p = p, .OC = OC, .C = C};
    aigc_parallel_for((gint64)OC * C, grain_for(64), kernel_grad_rows, &kg);
}

/* ---- the op ---- */

static void conv3x3_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *x = node->in[0], *w = node->in[1], *b = node->in[2], *y = node->out[0];
    const int N = (int)x->shape[0], C = (int)x->shape[1], H = (int)x->shape[2],
              W = (int)x->shape[3], OC = (int)w->shape[0];
    float *scratch = aigc_ctx_alloc_floats(ctx, aigc_conv3x3_scratch_size(N, C, H, W, OC));
    aigc_conv3x3_backward(aigc_grad(ctx, x), aigc_grad(ctx, w), aigc_grad(ctx, b), scratch, y->grad,
                          x->data, w->data, N, C, H, W, OC);
}

AigcTensor *aigc_conv3x3(AigcCtx *ctx, AigcTensor *x, AigcTensor *w, AigcTensor *b)
{
    g_return_val_if_fail(ctx && x && w && x->n_dims == 4 && w->n_dims == 4, NULL);
    g_return_val_if_fail(w->shape[1] == x->shape[1] && w->shape[2] == 3 && w->shape[3] == 3, NULL);
    g_return_val_if_fail(!b || b->n_elements == w->shape[0], NULL);
    g_return_val_if_fail(x->shape[3] <= 2 * WINO_MAX_TW, NULL);
    x = aigc_contiguous(ctx, x);
    w = aigc_contiguous(ctx, w);
    const int N = (int)x->shape[0], C = (int)x->shape[1], H = (int)x->shape[2],
              W = (int)x->shape[3], OC = (int)w->shape[0];
    AigcTensor *y = aigc_tensor_new4(ctx, N, OC, H, W);
    float *scratch = aigc_ctx_alloc_floats(ctx, aigc_conv3x3_scratch_size(N, C, H, W, OC));
    aigc_conv3x3_forward(y->data, scratch, x->data, w->data, b ? b->data : NULL, N, C, H, W, OC);
    aigc_record3(ctx, "conv3x3", conv3x3_backward_node, y, x, w, b);
    return y;
}
