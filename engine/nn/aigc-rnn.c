/* SPDX-License-Identifier: MIT
 *
 * Recurrent layers (LSTM, GRU, tanh RNN), their single-step cells and time reversal.
 *
 * Every sequence kernel has the same fused shape. Forward: one sgemm projects the inputs of all
 * T steps at once (x·W_ihᵀ into a gates buffer [B, T, G]); each step then adds h_{t-1}·W_hhᵀ with
 * one sgemm written straight into that step's strided slice of the buffer, and one fused pass
 * per batch row applies the biases, the gate nonlinearities and the state update. Backward
 * through time mirrors it: one fused pass per step turns dh (and dc) into pre-activation gate
 * gradients dgates, one sgemm per step carries dh to the previous step, and after the loop the
 * weight gradients come from ONE sgemm each over all steps (dW_ih = dgatesᵀ·x,
 * dW_hh = dgatesᵀ·h_{t-1}); the bias gradients are column sums of dgates.
 *
 * dW_hh needs h_{t-1} beside every row of dgates. In batch-first layout out[b, t-1] sits one row
 * before out[b, t], so dgates rows 1..BT-1 pair with out rows 0..BT-2 in a single sgemm —
 * except at t = 0, where that pairs row (b, 0) with out[b-1, T-1] instead of h0[b]. One small
 * sgemm over the B rows at t = 0 with hfix[b] = h0[b] - out[b-1, T-1] corrects those B pairs.
 *
 * The gate nonlinearities use 8-lane vector code (GCC/Clang vector extensions; AVX2 or SSE2)
 * with an exp accurate to ~2 ulp and a tanh accurate to ~3 ulp, also near zero, because libm
 * calls are not vectorised at -O2 and would cost as much as the sgemms.
 *
 * Legend: B batch, T time steps, D input features, H hidden size, G gate width (4H LSTM with
 * gates i, f, g, o; 3H GRU with r, z, n; H RNN), BT = B·T rows. Rows of [B, T, ·] buffers are
 * indexed bt = b·T + t.
 */
#include "aigc-rnn.h"

#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <cblas.h>

#include "tensor/aigc-blas.h"
#include <string.h>

/* Row passes split across threads only when a chunk has at least this many elements. */
#define ROW_GRAIN_ELEMENTS 16384

/* ---- vector math ---- */

/* With GCC on x86-64 the row passes use 8 lanes and are compiled twice, for AVX2 (one register)
 * and for the baseline (two SSE registers); the loader picks one. Both round identically, as ISO
 * C mode contracts no FMA. The vector helpers are always inlined, so no 32-byte vector crosses a
 * call and GCC's warning about the AVX calling convention (-Wpsabi) does not apply. Elsewhere
 * (Clang rejects such helpers in a baseline clone) the code uses 4 lanes, one SSE/NEON register. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#pragma GCC diagnostic ignored "-Wpsabi"
#define LANES    8
#define ROW_PASS __attribute__((target_clones("avx2", "default")))
#else
#define LANES 4
#define ROW_PASS
#endif
#define VEC_INLINE static inline __attribute__((always_inline))

typedef float VecF __attribute__((vector_size(4 * LANES)));
typedef gint32 VecI __attribute__((vector_size(4 * LANES)));

VEC_INLINE VecF vf(float a)
{
    return (VecF){0} + a;
}

VEC_INLINE VecI vi(gint32 a)
{
    return (VecI){0} + a;
}

/* Loads n ≤ LANES floats; lanes past n are zero (harmless through every formula below). */
VEC_INLINE VecF vf_load(const float *p, int n)
{
    VecF v = vf(0.0f);
    if (G_LIKELY(n == LANES))
        memcpy(&v, p, sizeof v);
    else
        for (int k = 0; k < n; k++)
            v[k] = p[k];
    return v;
}

VEC_INLINE VecF vf_load_or0(const float *p, int n)
{
    return p ? vf_load(p, n) : vf(0.0f);
}

/* Helpers that take vectors take them by pointer (GCC notes a changed ABI for 32-byte vector
 * parameters even when they are inlined); the macros let callers pass expressions. */
#define vf_store(p, v, n) vf_store_at((p), (VecF[1]){(v)}, (n))
#define vf_sigmoid(x)     vf_sigmoid_at((VecF[1]){(x)})
#define vf_tanh(x)        vf_tanh_at((VecF[1]){(x)})

VEC_INLINE void vf_store_at(float *p, const VecF *v, int n)
{
    if (G_LIKELY(n == LANES))
        memcpy(p, v, sizeof *v);
    else
        for (int k = 0; k < n; k++)
            p[k] = (*v)[k];
}

/* e^x for x clamped to [-87, 88]: x = n·ln2 + r with |r| ≤ ln2/2, e^r by its degree-7 Taylor
 * polynomial (truncation < 1e-8 relative), 2^n built in the exponent bits. */
VEC_INLINE VecF vf_exp_at(const VecF *px)
{
    const VecF lo = vf(-87.0f), hi = vf(88.0f);
    VecF x = *px;
    VecI below = x < lo;
    VecI above = x > hi;
    x = (VecF)((below & (VecI)lo) | (above & (VecI)hi) | (~(below | above) & (VecI)x));
    const VecF shifter = vf(12582912.0f); /* 1.5·2^23: adding it rounds to an integer */
    VecF n = (x * vf(1.44269504088896341f) + shifter) - shifter;
    VecF r = (x - n * vf(0.693145751953125f)) - n * vf(1.42860682030941723e-6f);
    VecF p = vf(1.0f / 5040.0f);
    p = p * r + vf(1.0f / 720.0f);
    p = p * r + vf(1.0f / 120.0f);
    p = p * r + vf(1.0f / 24.0f);
    p = p * r + vf(1.0f / 6.0f);
    p = p * r + vf(0.5f);
    p = p * r + vf(1.0f);
    p = p * r + vf(1.0f);
    VecI e = (__builtin_convertvector(n, VecI) + 127) << 23;
    return p * (VecF)e;
}

VEC_INLINE VecF vf_sigmoid_at(const VecF *x)
{
    VecF minus_x = -*x;
    return vf(1.0f) / (vf(1.0f) + vf_exp_at(&minus_x));
}

/* tanh: (1 - e^{-2|x|}) / (1 + e^{-2|x|}) with the sign restored, which cancels badly near
 * zero, so |x| < 0.55 uses x·P(x²), a relative-minimax fit (error < 1e-7 in float). */
VEC_INLINE VecF vf_tanh_at(const VecF *px)
{
    const VecI sign_bit = vi((gint32)0x80000000);
    VecF x = *px;
    VecF ax = (VecF)((VecI)x & ~sign_bit);
    VecF minus_2ax = vf(-2.0f) * ax;
    VecF e = vf_exp_at(&minus_2ax);
    VecF big = (vf(1.0f) - e) / (vf(1.0f) + e);
    big = (VecF)((VecI)big | ((VecI)x & sign_bit));
    VecF x2 = x * x;
    VecF p = vf(-0.006235536187887192f);
    p = p * x2 + vf(0.021039610728621483f);
    p = p * x2 + vf(-0.05384267494082451f);
    p = p * x2 + vf(0.13332460820674896f);
    p = p * x2 + vf(-0.3333331048488617f);
    p = p * x2 + vf(1.0f);
    VecI small = ax < vf(0.55f);
    return (VecF)((small & (VecI)(x * p)) | (~small & (VecI)big));
}

/* ---- pieces shared by the three recurrences ---- */

static gint64 row_grain(gint64 row_elements)
{
    return MAX(1, ROW_GRAIN_ELEMENTS / MAX(row_elements, 1));
}

/* dst[b] = src[b·stride] (B rows of H), or zeros without src. */
static void copy_rows(float *dst, const float *src, gint64 src_stride, int B, int H)
{
    for (int b = 0; b < B; b++) {
        if (src)
            memcpy(dst + (gint64)b * H, src + b * src_stride, (gsize)H * sizeof(float));
        else
            memset(dst + (gint64)b * H, 0, (gsize)H * sizeof(float));
    }
}

/* gates [BT, G] = inp [BT, D] · w_ih [G, D]ᵀ (biases are added in the step passes). */
static void input_projection(float *gates, const float *inp, const float *w_ih, gint64 BT, int G,
                             int D)
{
    aigc_sgemm(CblasNoTrans, CblasTrans, (int)BT, G, D, 1.0f, inp, D, w_ih, D, 0.0f,
                gates, G);
}

/* C [B, G] (row stride ldc) (+)= h [B, H] (row stride ldh) · w_hh [G, H]ᵀ. */
static void hidden_projection(float *c, int ldc, const float *h, int ldh, const float *w_hh, int B,
                              int G, int H, float beta)
{
    aigc_sgemm(CblasNoTrans, CblasTrans, B, G, H, 1.0f, h, ldh, w_hh, H, beta, c,
                ldc);
}

/* dh [B, H] (+)= dgates[:, t] [B, G] (row stride T·G) · w_hh [G, H]. */
static void hidden_grad(float *dh, const float *dgates_t, int T, const float *w_hh, int B, int G,
                        int H, float beta)
{
    aigc_sgemm(CblasNoTrans, CblasNoTrans, B, H, G, 1.0f, dgates_t, T * G, w_hh, H,
                beta, dh, H);
}

/* dinp += dgates · w_ih and dw_ih += dgatesᵀ · inp, one sgemm each over all steps. */
static void input_side_backward(float *dinp, float *dw_ih, const float *dgates, const float *inp,
                                const float *w_ih, gint64 BT, int G, int D)
{
    if (dinp)
        aigc_sgemm(CblasNoTrans, CblasNoTrans, (int)BT, D, G, 1.0f, dgates, G, w_ih,
                    D, 1.0f, dinp, D);
    if (dw_ih)
        aigc_sgemm(CblasTrans, CblasNoTrans, G, D, (int)BT, 1.0f, dgates, G, inp, D,
                    1.0f, dw_ih, D);
}

/* dw_hh [G, H] += Σ_{b,t} dgates[b, t]ᵀ · h_{t-1}[b], with h_{-1} = h0 (or zeros); see the file
 * comment for the pairing trick. hfix [B, H] is scratch. */
static void hidden_weight_backward(float *dw_hh, float *hfix, const float *dgates, const float *out,
                                   const float *h0, int B, int T, int G, int H)
{
    if (!dw_hh)
        return;
    gint64 BT = (gint64)B * T;
    if (T > 1)
        aigc_sgemm(CblasTrans, CblasNoTrans, G, H, (int)(BT - 1), 1.0f, dgates + G,
                    G, out, H, 1.0f, dw_hh, H);
    if (!h0 && (T == 1 || B == 1))
        return; /* hfix would be all zeros */
    for (int b = 0; b < B; b++) {
        float *d = hfix + (gint64)b * H;
        const float *wrong = (T > 1 && b > 0) ? out + ((gint64)b * T - 1) * H : NULL;
        for (int j = 0; j < H; j++)
            d[j] = (h0 ? h0[(gint64)b * H + j] : 0.0f) - (wrong ? wrong[j] : 0.0f);
    }
    aigc_sgemm(CblasTrans, CblasNoTrans, G, H, B, 1.0f, dgates, T * G, hfix, H,
                1.0f, dw_hh, H);
}

/* Column sums of a [rows, cols] matrix added into d1 and d2 (either nullable). Threads take
 * blocks of columns, so every sum runs in the same order whatever the thread count. */
#define COLSUM_BLOCK 256

typedef struct {
    float *d1, *d2;
    const float *a;
    gint64 rows;
    int cols;
} ColSum;

ROW_PASS static void colsum_blocks(gint64 i_begin, gint64 i_end, gpointer data)
{
    const ColSum *s = data;
    for (gint64 i_block = i_begin; i_block < i_end; i_block++) {
        int j0 = (int)i_block * COLSUM_BLOCK;
        int width = MIN(COLSUM_BLOCK, s->cols - j0);
        int n_vec = (width + LANES - 1) / LANES;
        VecF acc[COLSUM_BLOCK / LANES];
        for (int q = 0; q < n_vec; q++)
            acc[q] = vf(0.0f);
        for (gint64 r = 0; r < s->rows; r++) {
            const float *row = s->a + r * s->cols + j0;
            for (int q = 0; q < n_vec; q++)
                acc[q] += vf_load(row + LANES * q, MIN(LANES, width - LANES * q));
        }
        for (int q = 0; q < n_vec; q++) {
            for (int k = 0; k < MIN(LANES, width - LANES * q); k++) {
                if (s->d1)
                    s->d1[j0 + LANES * q + k] += acc[q][k];
                if (s->d2)
                    s->d2[j0 + LANES * q + k] += acc[q][k];
            }
        }
    }
}

static void colsum_add(float *d1, float *d2, const float *a, gint64 rows, int cols)
{
    if (!d1 && !d2)
        return;
    ColSum s = {.d1 = d1, .d2 = d2, .a = a, .rows = rows, .cols = cols};
    gint64 n_blocks = (cols + COLSUM_BLOCK - 1) / COLSUM_BLOCK;
    aigc_parallel_for(n_blocks, row_grain(rows * COLSUM_BLOCK), colsum_blocks, &s);
}

/* What a step pass over batch rows needs; each pass reads the fields it uses. */
typedef struct {
    int T, H, t;
    float *out;   /* [B, T, H] */
    float *gates; /* [B, T, G] */
    float *cells; /* [B, T, H] (LSTM, nullable) */
    float *c_run; /* [B, H] running cell state when cells is NULL */
    float *hn;    /* [B, T, H] (GRU, nullable) */
    float *gh;    /* [B, 3H] (GRU) */
    gboolean have_gh;
    float *dgates;  /* [B, T, G] */
    float *dgh;     /* [B, T, 3H] (GRU) */
    float *dh, *dc; /* [B, H] */
    const float *h0, *c0;
    const float *b_ih, *b_hh;
    const float *dout; /* [B, T, H] nullable */
} StepArgs;

static inline const float *offset_or_null(const float *p, gint64 offset)
{
    return p ? p + offset : NULL;
}

/* ---- LSTM ---- */

/* One step of one batch row. g [4H] holds x·W_ihᵀ + h·W_hhᵀ on entry and the activated gates
 * i, f, g, o on return. c_prev may alias c (the running state in inference). */
VEC_INLINE void lstm_step_row(float *restrict h, float *c, float *restrict g, const float *c_prev,
                              const float *b_ih, const float *b_hh, int H)
{
    for (int j = 0; j < H; j += LANES) {
        int n = MIN(LANES, H - j);
        VecF a[4];
        for (int q = 0; q < 4; q++) {
            a[q] = vf_load(g + q * H + j, n);
            if (b_ih)
                a[q] += vf_load(b_ih + q * H + j, n);
            if (b_hh)
                a[q] += vf_load(b_hh + q * H + j, n);
        }
        VecF i = vf_sigmoid(a[0]), f = vf_sigmoid(a[1]), gg = vf_tanh(a[2]);
        VecF o = vf_sigmoid(a[3]);
        VecF cn = f * vf_load_or0(c_prev ? c_prev + j : NULL, n) + i * gg;
        vf_store(c + j, cn, n);
        vf_store(h + j, o * vf_tanh(cn), n);
        vf_store(g + j, i, n);
        vf_store(g + H + j, f, n);
        vf_store(g + 2 * H + j, gg, n);
        vf_store(g + 3 * H + j, o, n);
    }
}

ROW_PASS static void lstm_step_rows(gint64 b_begin, gint64 b_end, gpointer data)
{
    const StepArgs *s = data;
    int H = s->H, t = s->t;
    for (gint64 b = b_begin; b < b_end; b++) {
        gint64 bt = b * s->T + t;
        float *c;
        const float *c_prev;
        if (s->cells) {
            c = s->cells + bt * H;
            c_prev = t > 0 ? c - H : offset_or_null(s->c0, b * H);
        } else {
            c = s->c_run + b * H;
            c_prev = c;
        }
        lstm_step_row(s->out + bt * H, c, s->gates + bt * 4 * H, c_prev, s->b_ih, s->b_hh, H);
    }
}

void aigc_lstm_forward(float *out, float *h_n, float *c_n, float *gates, float *cells,
                       const float *inp, const float *h0, const float *c0, const float *w_ih,
                       const float *w_hh, const float *b_ih, const float *b_hh, int B, int T, int D,
                       int H)
{
    g_return_if_fail(cells || c_n);
    const int G = 4 * H;
    input_projection(gates, inp, w_ih, (gint64)B * T, G, D);
    StepArgs s = {.T = T,
                  .H = H,
                  .out = out,
                  .gates = gates,
                  .cells = cells,
                  .c_run = c_n,
                  .c0 = c0,
                  .b_ih = b_ih,
                  .b_hh = b_hh};
    if (!cells)
        copy_rows(c_n, c0, H, B, H);
    for (int t = 0; t < T; t++) {
        if (t > 0)
            hidden_projection(gates + (gint64)t * G, T * G, out + (gint64)(t - 1) * H, T * H, w_hh,
                              B, G, H, 1.0f);
        else if (h0)
            hidden_projection(gates, T * G, h0, H, w_hh, B, G, H, 1.0f);
        s.t = t;
        aigc_parallel_for(B, row_grain(G), lstm_step_rows, &s);
    }
    if (h_n)
        copy_rows(h_n, out + (gint64)(T - 1) * H, (gint64)T * H, B, H);
    if (cells && c_n)
        copy_rows(c_n, cells + (gint64)(T - 1) * H, (gint64)T * H, B, H);
}

/* One backward step of one batch row: reads dh (+ dout) and the running dc, writes the
 * pre-activation gate gradients dg [4H] and dc for the previous step. */
VEC_INLINE void lstm_backward_row(float *restrict dg, float *restrict dc, const float *restrict dh,
                                  const float *dout, const float *g, const float *c,
                                  const float *c_prev, int H)
{
    for (int j = 0; j < H; j += LANES) {
        int n = MIN(LANES, H - j);
        VecF d = vf_load(dh + j, n) + vf_load_or0(dout ? dout + j : NULL, n);
        VecF i = vf_load(g + j, n), f = vf_load(g + H + j, n);
        VecF gg = vf_load(g + 2 * H + j, n), o = vf_load(g + 3 * H + j, n);
        VecF tc = vf_tanh(vf_load(c + j, n));
        VecF cp = vf_load_or0(c_prev ? c_prev + j : NULL, n);
        VecF one = vf(1.0f);
        VecF dct = vf_load(dc + j, n) + d * o * (one - tc * tc);
        vf_store(dg + j, dct * gg * i * (one - i), n);
        vf_store(dg + H + j, dct * cp * f * (one - f), n);
        vf_store(dg + 2 * H + j, dct * i * (one - gg * gg), n);
        vf_store(dg + 3 * H + j, d * tc * o * (one - o), n);
        vf_store(dc + j, dct * f, n);
    }
}

ROW_PASS static void lstm_backward_rows(gint64 b_begin, gint64 b_end, gpointer data)
{
    const StepArgs *s = data;
    int H = s->H, t = s->t;
    for (gint64 b = b_begin; b < b_end; b++) {
        gint64 bt = b * s->T + t;
        const float *c = s->cells + bt * H;
        const float *c_prev = t > 0 ? c - H : offset_or_null(s->c0, b * H);
        lstm_backward_row(s->dgates + bt * 4 * H, s->dc + b * H, s->dh + b * H,
                          offset_or_null(s->dout, bt * H), s->gates + bt * 4 * H, c, c_prev, H);
    }
}

void aigc_lstm_backward(float *dinp, float *dh0, float *dc0, float *dw_ih, float *dw_hh,
                        float *db_ih, float *db_hh, float *dgates, float *dh, float *dc,
                        const float *dout, const float *dh_n, const float *dc_n, const float *inp,
                        const float *h0, const float *c0, const float *w_ih, const float *w_hh,
                        const float *out, const float *gates, const float *cells, int B, int T,
                        int D, int H)
{
    const int G = 4 * H;
    const gint64 BT = (gint64)B * T;
    StepArgs s = {.T = T,
                  .H = H,
                  .gates = (float *)gates,
                  .cells = (float *)cells,
                  .dgates = dgates,
                  .dh = dh,
                  .dc = dc,
                  .c0 = c0,
                  .dout = dout};
    copy_rows(dc, dc_n, H, B, H);
    for (int t = T - 1; t >= 0; t--) {
        if (t == T - 1)
            copy_rows(dh, dh_n, H, B, H);
        else
            hidden_grad(dh, dgates + (gint64)(t + 1) * G, T, w_hh, B, G, H, 0.0f);
        s.t = t;
        aigc_parallel_for(B, row_grain(G), lstm_backward_rows, &s);
    }
    if (dh0)
        hidden_grad(dh0, dgates, T, w_hh, B, G, H, 1.0f);
    if (dc0)
        for (gint64 k = 0; k < (gint64)B * H; k++)
            dc0[k] += dc[k];
    input_side_backward(dinp, dw_ih, dgates, inp, w_ih, BT, G, D);
    colsum_add(db_ih, db_hh, dgates, BT, G);
    hidden_weight_backward(dw_hh, dh, dgates, out, h0, B, T, G, H);
}

/* ---- GRU ---- */

/* One step of one batch row. g [3H] holds x·W_ihᵀ on entry and the activated r, z, n on return;
 * gh [3H] is h·W_hhᵀ (NULL when h_{t-1} is zero); hn receives W_hn h + b_hn. */
VEC_INLINE void gru_step_row(float *restrict h, float *restrict g, float *restrict hn,
                             const float *gh, const float *h_prev, const float *b_ih,
                             const float *b_hh, int H)
{
    for (int j = 0; j < H; j += LANES) {
        int n = MIN(LANES, H - j);
        VecF a[3], ah[3];
        for (int q = 0; q < 3; q++) {
            a[q] = vf_load(g + q * H + j, n);
            ah[q] = vf_load_or0(gh ? gh + q * H + j : NULL, n);
            if (b_ih)
                a[q] += vf_load(b_ih + q * H + j, n);
            if (b_hh)
                ah[q] += vf_load(b_hh + q * H + j, n);
        }
        VecF r = vf_sigmoid(a[0] + ah[0]), z = vf_sigmoid(a[1] + ah[1]);
        VecF nn = vf_tanh(a[2] + r * ah[2]);
        VecF hp = vf_load_or0(h_prev ? h_prev + j : NULL, n);
        vf_store(h + j, nn + z * (hp - nn), n);
        vf_store(g + j, r, n);
        vf_store(g + H + j, z, n);
        vf_store(g + 2 * H + j, nn, n);
        if (hn)
            vf_store(hn + j, ah[2], n);
    }
}

ROW_PASS static void gru_step_rows(gint64 b_begin, gint64 b_end, gpointer data)
{
    const StepArgs *s = data;
    int H = s->H, t = s->t;
    for (gint64 b = b_begin; b < b_end; b++) {
        gint64 bt = b * s->T + t;
        const float *h_prev = t > 0 ? s->out + (bt - 1) * H : offset_or_null(s->h0, b * H);
        gru_step_row(s->out + bt * H, s->gates + bt * 3 * H, s->hn ? s->hn + bt * H : NULL,
                     s->have_gh ? s->gh + b * 3 * H : NULL, h_prev, s->b_ih, s->b_hh, H);
    }
}

void aigc_gru_forward(float *out, float *h_n, float *gates, float *hn, float *gh, const float *inp,
                      const float *h0, const float *w_ih, const float *w_hh, const float *b_ih,
                      const float *b_hh, int B, int T, int D, int H)
{
    const int G = 3 * H;
    input_projection(gates, inp, w_ih, (gint64)B * T, G, D);
    StepArgs s = {.T = T,
                  .H = H,
                  .out = out,
                  .gates = gates,
                  .hn = hn,
                  .gh = gh,
                  .h0 = h0,
                  .b_ih = b_ih,
                  .b_hh = b_hh};
    for (int t = 0; t < T; t++) {
        s.have_gh = TRUE;
        if (t > 0)
            hidden_projection(gh, G, out + (gint64)(t - 1) * H, T * H, w_hh, B, G, H, 0.0f);
        else if (h0)
            hidden_projection(gh, G, h0, H, w_hh, B, G, H, 0.0f);
        else
            s.have_gh = FALSE;
        s.t = t;
        aigc_parallel_for(B, row_grain(G), gru_step_rows, &s);
    }
    if (h_n)
        copy_rows(h_n, out + (gint64)(T - 1) * H, (gint64)T * H, B, H);
}

/* One backward step of one batch row: d = dh + dout; writes the pre-activation gradients of the
 * input side dgx [3H] and of the hidden side dgh [3H] (they differ in the n block, which the
 * hidden side sees through r), and leaves the direct part z ⊙ d in dh. */
VEC_INLINE void gru_backward_row(float *restrict dgx, float *restrict dgh, float *restrict dh,
                                 const float *dout, const float *g, const float *hn,
                                 const float *h_prev, int H)
{
    for (int j = 0; j < H; j += LANES) {
        int n = MIN(LANES, H - j);
        VecF one = vf(1.0f);
        VecF d = vf_load(dh + j, n) + vf_load_or0(dout ? dout + j : NULL, n);
        VecF r = vf_load(g + j, n), z = vf_load(g + H + j, n), nn = vf_load(g + 2 * H + j, n);
        VecF hp = vf_load_or0(h_prev ? h_prev + j : NULL, n);
        VecF dn = d * (one - z) * (one - nn * nn);
        VecF dz = d * (hp - nn) * z * (one - z);
        VecF dr = dn * vf_load(hn + j, n) * r * (one - r);
        vf_store(dgx + j, dr, n);
        vf_store(dgx + H + j, dz, n);
        vf_store(dgx + 2 * H + j, dn, n);
        vf_store(dgh + j, dr, n);
        vf_store(dgh + H + j, dz, n);
        vf_store(dgh + 2 * H + j, dn * r, n);
        vf_store(dh + j, d * z, n);
    }
}

ROW_PASS static void gru_backward_rows(gint64 b_begin, gint64 b_end, gpointer data)
{
    const StepArgs *s = data;
    int H = s->H, t = s->t;
    for (gint64 b = b_begin; b < b_end; b++) {
        gint64 bt = b * s->T + t;
        const float *h_prev = t > 0 ? s->out + (bt - 1) * H : offset_or_null(s->h0, b * H);
        gru_backward_row(s->dgates + bt * 3 * H, s->dgh + bt * 3 * H, s->dh + b * H,
                         offset_or_null(s->dout, bt * H), s->gates + bt * 3 * H, s->hn + bt * H,
                         h_prev, H);
    }
}

void aigc_gru_backward(float *dinp, float *dh0, float *dw_ih, float *dw_hh, float *db_ih,
                       float *db_hh, float *dgx, float *dgh, float *dh, const float *dout,
                       const float *dh_n, const float *inp, const float *h0, const float *w_ih,
                       const float *w_hh, const float *out, const float *gates, const float *hn,
                       int B, int T, int D, int H)
{
    const int G = 3 * H;
    const gint64 BT = (gint64)B * T;
    StepArgs s = {.T = T,
                  .H = H,
                  .out = (float *)out,
                  .gates = (float *)gates,
                  .hn = (float *)hn,
                  .dgates = dgx,
                  .dgh = dgh,
                  .dh = dh,
                  .h0 = h0,
                  .dout = dout};
    for (int t = T - 1; t >= 0; t--) {
        if (t == T - 1)
            copy_rows(dh, dh_n, H, B, H);
        else
            hidden_grad(dh, dgh + (gint64)(t + 1) * G, T, w_hh, B, G, H, 1.0f);
        s.t = t;
        aigc_parallel_for(B, row_grain(G), gru_backward_rows, &s);
    }
    if (dh0) {
        for (gint64 k = 0; k < (gint64)B * H; k++)
            dh0[k] += dh[k];
        hidden_grad(dh0, dgh, T, w_hh, B, G, H, 1.0f);
    }
    input_side_backward(dinp, dw_ih, dgx, inp, w_ih, BT, G, D);
    colsum_add(db_ih, NULL, dgx, BT, G);
    colsum_add(db_hh, NULL, dgh, BT, G);
    hidden_weight_backward(dw_hh, dh, dgh, out, h0, B, T, G, H);
}

/* ---- tanh RNN ---- */

ROW_PASS static void rnn_step_rows(gint64 b_begin, gint64 b_end, gpointer data)
{
    const StepArgs *s = data;
    int H = s->H;
    for (gint64 b = b_begin; b < b_end; b++) {
        float *h = s->out + (b * s->T + s->t) * H;
        for (int j = 0; j < H; j += LANES) {
            int n = MIN(LANES, H - j);
            VecF a = vf_load(h + j, n);
            if (s->b_ih)
                a += vf_load(s->b_ih + j, n);
            if (s->b_hh)
                a += vf_load(s->b_hh + j, n);
            vf_store(h + j, vf_tanh(a), n);
        }
    }
}

void aigc_rnn_tanh_forward(float *out, float *h_n, const float *inp, const float *h0,
                           const float *w_ih, const float *w_hh, const float *b_ih,
                           const float *b_hh, int B, int T, int D, int H)
{
    /* The pre-activations are built in out itself: step t reads only out[:, t-1], final by then. */
    input_projection(out, inp, w_ih, (gint64)B * T, H, D);
    StepArgs s = {.T = T, .H = H, .out = out, .b_ih = b_ih, .b_hh = b_hh};
    for (int t = 0; t < T; t++) {
        if (t > 0)
            hidden_projection(out + (gint64)t * H, T * H, out + (gint64)(t - 1) * H, T * H, w_hh, B,
                              H, H, 1.0f);
        else if (h0)
            hidden_projection(out, T * H, h0, H, w_hh, B, H, H, 1.0f);
        s.t = t;
        aigc_parallel_for(B, row_grain(H), rnn_step_rows, &s);
    }
    if (h_n)
        copy_rows(h_n, out + (gint64)(T - 1) * H, (gint64)T * H, B, H);
}

ROW_PASS static void rnn_backward_rows(gint64 b_begin, gint64 b_end, gpointer data)
{
    const StepArgs *s = data;
    int H = s->H;
    for (gint64 b = b_begin; b < b_end; b++) {
        gint64 bt = b * s->T + s->t;
        const float *h = s->out + bt * H, *dh = s->dh + b * H;
        const float *dout = offset_or_null(s->dout, bt * H);
        float *dg = s->dgates + bt * H;
        for (int j = 0; j < H; j += LANES) {
            int n = MIN(LANES, H - j);
            VecF hv = vf_load(h + j, n);
            VecF d = vf_load(dh + j, n) + vf_load_or0(dout ? dout + j : NULL, n);
            vf_store(dg + j, d * (vf(1.0f) - hv * hv), n);
        }
    }
}

void aigc_rnn_tanh_backward(float *dinp, float *dh0, float *dw_ih, float *dw_hh, float *db_ih,
                            float *db_hh, float *dgates, float *dh, const float *dout,
                            const float *dh_n, const float *inp, const float *h0, const float *w_ih,
                            const float *w_hh, const float *out, int B, int T, int D, int H)
{
    const gint64 BT = (gint64)B * T;
    StepArgs s = {.T = T, .H = H, .out = (float *)out, .dgates = dgates, .dh = dh, .dout = dout};
    for (int t = T - 1; t >= 0; t--) {
        if (t == T - 1)
            copy_rows(dh, dh_n, H, B, H);
        else
            hidden_grad(dh, dgates + (gint64)(t + 1) * H, T, w_hh, B, H, H, 0.0f);
        s.t = t;
        aigc_parallel_for(B, row_grain(H), rnn_backward_rows, &s);
    }
    if (dh0)
        hidden_grad(dh0, dgates, T, w_hh, B, H, H, 1.0f);
    input_side_backward(dinp, dw_ih, dgates, inp, w_ih, BT, H, D);
    colsum_add(db_ih, db_hh, dgates, BT, H);
    hidden_weight_backward(dw_hh, dh, dgates, out, h0, B, T, H, H);
}

/* ---- time reversal ---- */

void aigc_reverse_time_forward(float *out, const float *inp, int B, int T, int C)
{
    for (gint64 b = 0; b < B; b++)
        for (gint64 t = 0; t < T; t++)
            memcpy(out + (b * T + t) * C, inp + (b * T + (T - 1 - t)) * C,
                   (gsize)C * sizeof(float));
}

void aigc_reverse_time_backward(float *dinp, const float *dout, int B, int T, int C)
{
    for (gint64 b = 0; b < B; b++) {
        for (gint64 t = 0; t < T; t++) {
            float *restrict dx = dinp + (b * T + (T - 1 - t)) * C;
            const float *restrict dy = dout + (b * T + t) * C;
            for (int k = 0; k < C; k++)
                dx[k] += dy[k];
        }
    }
}

/* ---- differentiable ops ---- */

enum { IN_X, IN_H0, IN_C0, IN_W_IH, IN_W_HH, IN_B_IH, IN_B_HH, N_IN };

static const float *data_or_null(const AigcTensor *t)
{
    return t ? t->data : NULL;
}

static AigcTensor *contiguous_or_null(AigcCtx *ctx, AigcTensor *t)
{
    return t ? aigc_contiguous(ctx, t) : NULL;
}

static gboolean has_shape2(const AigcTensor *t, gint64 d0, gint64 d1)
{
    return t->n_dims == 2 && t->shape[0] == d0 && t->shape[1] == d1;
}

/* Checks the shapes of a recurrence with G gate blocks and returns its sizes. x is [B, T, D]
 * for a sequence, [B, D] for a cell. */
static gboolean check_shapes(AigcTensor *const *in, gboolean is_cell, int n_gates, int *B, int *T,
                             int *D, int *H)
{
    const AigcTensor *x = in[IN_X], *w_ih = in[IN_W_IH], *w_hh = in[IN_W_HH];
    g_return_val_if_fail(x != NULL && w_ih != NULL && w_hh != NULL, FALSE);
    g_return_val_if_fail(x->n_dims == (is_cell ? 2 : 3), FALSE);
    *B = (int)x->shape[0];
    *T = is_cell ? 1 : (int)x->shape[1];
    *D = (int)x->shape[x->n_dims - 1];
    g_return_val_if_fail(w_hh->n_dims == 2 && w_hh->shape[0] == n_gates * w_hh->shape[1], FALSE);
    *H = (int)w_hh->shape[1];
    g_return_val_if_fail(*B > 0 && *T > 0 && *D > 0 && *H > 0, FALSE);
    g_return_val_if_fail(has_shape2(w_ih, (gint64)n_gates * *H, *D), FALSE);
    for (int k = IN_H0; k <= IN_C0; k++)
        g_return_val_if_fail(!in[k] || has_shape2(in[k], *B, *H), FALSE);
    for (int k = IN_B_IH; k <= IN_B_HH; k++)
        g_return_val_if_fail(
            !in[k] || (in[k]->n_dims == 1 && in[k]->shape[0] == (gint64)n_gates * *H), FALSE);
    return TRUE;
}

/* Makes every present input contiguous (recording those copies) in place. */
static void make_inputs_contiguous(AigcCtx *ctx, AigcTensor **in)
{
    for (int k = 0; k < N_IN; k++)
        in[k] = contiguous_or_null(ctx, in[k]);
}

static void set_sizes(AigcNode *node, int B, int T, int D, int H, gboolean is_cell)
{
    node->i[0] = B;
    node->i[1] = T;
    node->i[2] = D;
    node->i[3] = H;
    node->i[4] = is_cell;
}

typedef struct {
    float *gates; /* [B, T, G] activated gates */
    float *extra; /* [B, T, H]: LSTM cells c_t, GRU W_hn h + b_hn */
} RnnSaved;

/* Outputs: sequence (out, h_n, c_n), cell (h, c). */
static void lstm_node_backward(AigcCtx *ctx, AigcNode *node)
{
    int B = (int)node->i[0], T = (int)node->i[1], D = (int)node->i[2], H = (int)node->i[3];
    gboolean is_cell = (gboolean)node->i[4];
    const RnnSaved *saved = node->saved;
    AigcTensor *const *in = node->in;
    const float *dh_n = is_cell ? NULL : node->out[1]->grad;
    const float *dc_n = node->out[is_cell ? 1 : 2]->grad;
    float *dgates = aigc_ctx_alloc_floats(ctx, (gint64)B * T * 4 * H);
    float *dh = aigc_ctx_alloc_floats(ctx, (gint64)B * H);
    float *dc = aigc_ctx_alloc_floats(ctx, (gint64)B * H);
    aigc_lstm_backward(
        aigc_grad(ctx, in[IN_X]), aigc_grad(ctx, in[IN_H0]), aigc_grad(ctx, in[IN_C0]),
        aigc_grad(ctx, in[IN_W_IH]), aigc_grad(ctx, in[IN_W_HH]), aigc_grad(ctx, in[IN_B_IH]),
        aigc_grad(ctx, in[IN_B_HH]), dgates, dh, dc, node->out[0]->grad, dh_n, dc_n, in[IN_X]->data,
        data_or_null(in[IN_H0]), data_or_null(in[IN_C0]), in[IN_W_IH]->data, in[IN_W_HH]->data,
        node->out[0]->data, saved->gates, saved->extra, B, T, D, H);
}

static AigcTensor *lstm_apply(AigcCtx *ctx, gboolean is_cell, AigcTensor **in, AigcTensor **h_n,
                              AigcTensor **c_n)
{
    int B, T, D, H;
    if (!check_shapes(in, is_cell, 4, &B, &T, &D, &H))
        return NULL;
    make_inputs_contiguous(ctx, in);
    gboolean train = aigc_ctx_needs_grad(ctx, N_IN, in);
    AigcTensor *out = is_cell ? aigc_tensor_new2(ctx, B, H) : aigc_tensor_new3(ctx, B, T, H);
    AigcTensor *h_last = is_cell ? NULL : aigc_tensor_new2(ctx, B, H);
    AigcTensor *c_last = aigc_tensor_new2(ctx, B, H);
    RnnSaved saved = {
        .gates = aigc_ctx_alloc_floats(ctx, (gint64)B * T * 4 * H),
        .extra = train ? aigc_ctx_alloc_floats(ctx, (gint64)B * T * H) : NULL,
    };
    aigc_lstm_forward(out->data, h_last ? h_last->data : NULL, c_last->data, saved.gates,
                      saved.extra, in[IN_X]->data, data_or_null(in[IN_H0]), data_or_null(in[IN_C0]),
                      in[IN_W_IH]->data, in[IN_W_HH]->data, data_or_null(in[IN_B_IH]),
                      data_or_null(in[IN_B_HH]), B, T, D, H);
    AigcNode *node =
        aigc_ctx_record(ctx, is_cell ? "lstm_cell" : "lstm", lstm_node_backward, out, N_IN, in);
    if (node) {
        if (h_last)
            aigc_node_add_output(node, h_last);
        aigc_node_add_output(node, c_last);
        set_sizes(node, B, T, D, H, is_cell);
        node->saved = aigc_ctx_alloc(ctx, sizeof saved);
        memcpy(node->saved, &saved, sizeof saved);
    }
    if (h_n)
        *h_n = h_last;
    if (c_n)
        *c_n = c_last;
    return out;
}

AigcTensor *aigc_lstm(AigcCtx *ctx, AigcTensor *x, AigcTensor *h0, AigcTensor *c0, AigcTensor *w_ih,
                      AigcTensor *w_hh, AigcTensor *b_ih, AigcTensor *b_hh, AigcTensor **h_n,
                      AigcTensor **c_n)
{
    AigcTensor *in[N_IN] = {x, h0, c0, w_ih, w_hh, b_ih, b_hh};
    return lstm_apply(ctx, FALSE, in, h_n, c_n);
}

AigcTensor *aigc_lstm_cell(AigcCtx *ctx, AigcTensor *x, AigcTensor *h, AigcTensor *c,
                           AigcTensor *w_ih, AigcTensor *w_hh, AigcTensor *b_ih, AigcTensor *b_hh,
                           AigcTensor **c_out)
{
    AigcTensor *in[N_IN] = {x, h, c, w_ih, w_hh, b_ih, b_hh};
    return lstm_apply(ctx, TRUE, in, NULL, c_out);
}

/* Outputs: sequence (out, h_n), cell (h). */
static void gru_node_backward(AigcCtx *ctx, AigcNode *node)
{
    int B = (int)node->i[0], T = (int)node->i[1], D = (int)node->i[2], H = (int)node->i[3];
    const RnnSaved *saved = node->saved;
    AigcTensor *const *in = node->in;
    const float *dh_n = node->n_out > 1 ? node->out[1]->grad : NULL;
    float *dgx = aigc_ctx_alloc_floats(ctx, (gint64)B * T * 3 * H);
    float *dgh = aigc_ctx_alloc_floats(ctx, (gint64)B * T * 3 * H);
    float *dh = aigc_ctx_alloc_floats(ctx, (gint64)B * H);
    aigc_gru_backward(aigc_grad(ctx, in[IN_X]), aigc_grad(ctx, in[IN_H0]),
                      aigc_grad(ctx, in[IN_W_IH]), aigc_grad(ctx, in[IN_W_HH]),
                      aigc_grad(ctx, in[IN_B_IH]), aigc_grad(ctx, in[IN_B_HH]), dgx, dgh, dh,
                      node->out[0]->grad, dh_n, in[IN_X]->data, data_or_null(in[IN_H0]),
                      in[IN_W_IH]->data, in[IN_W_HH]->data, node->out[0]->data, saved->gates,
                      saved->extra, B, T, D, H);
}

static AigcTensor *gru_apply(AigcCtx *ctx, gboolean is_cell, AigcTensor **in, AigcTensor **h_n)
{
    int B, T, D, H;
    if (!check_shapes(in, is_cell, 3, &B, &T, &D, &H))
        return NULL;
    make_inputs_contiguous(ctx, in);
    gboolean train = aigc_ctx_needs_grad(ctx, N_IN, in);
    AigcTensor *out = is_cell ? aigc_tensor_new2(ctx, B, H) : aigc_tensor_new3(ctx, B, T, H);
    AigcTensor *h_last = is_cell ? NULL : aigc_tensor_new2(ctx, B, H);
    RnnSaved saved = {
        .gates = aigc_ctx_alloc_floats(ctx, (gint64)B * T * 3 * H),
        .extra = train ? aigc_ctx_alloc_floats(ctx, (gint64)B * T * H) : NULL,
    };
    float *gh = aigc_ctx_alloc_floats(ctx, (gint64)B * 3 * H);
    aigc_gru_forward(out->data, h_last ? h_last->data : NULL, saved.gates, saved.extra, gh,
                     in[IN_X]->data, data_or_null(in[IN_H0]), in[IN_W_IH]->data, in[IN_W_HH]->data,
                     data_or_null(in[IN_B_IH]), data_or_null(in[IN_B_HH]), B, T, D, H);
    AigcNode *node =
        aigc_ctx_record(ctx, is_cell ? "gru_cell" : "gru", gru_node_backward, out, N_IN, in);
    if (node) {
        if (h_last)
            aigc_node_add_output(node, h_last);
        set_sizes(node, B, T, D, H, is_cell);
        node->saved = aigc_ctx_alloc(ctx, sizeof saved);
        memcpy(node->saved, &saved, sizeof saved);
    }
    if (h_n)
        *h_n = h_last;
    return out;
}

AigcTensor *aigc_gru(AigcCtx *ctx, AigcTensor *x, AigcTensor *h0, AigcTensor *w_ih,
                     AigcTensor *w_hh, AigcTensor *b_ih, AigcTensor *b_hh, AigcTensor **h_n)
{
    AigcTensor *in[N_IN] = {x, h0, NULL, w_ih, w_hh, b_ih, b_hh};
    return gru_apply(ctx, FALSE, in, h_n);
}

AigcTensor *aigc_gru_cell(AigcCtx *ctx, AigcTensor *x, AigcTensor *h, AigcTensor *w_ih,
                          AigcTensor *w_hh, AigcTensor *b_ih, AigcTensor *b_hh)
{
    AigcTensor *in[N_IN] = {x, h, NULL, w_ih, w_hh, b_ih, b_hh};
    return gru_apply(ctx, TRUE, in, NULL);
}

/* Outputs: out, h_n. */
static void rnn_tanh_node_backward(AigcCtx *ctx, AigcNode *node)
{
    int B = (int)node->i[0], T = (int)node->i[1], D = (int)node->i[2], H = (int)node->i[3];
    AigcTensor *const *in = node->in;
    float *dgates = aigc_ctx_alloc_floats(ctx, (gint64)B * T * H);
    float *dh = aigc_ctx_alloc_floats(ctx, (gint64)B * H);
    aigc_rnn_tanh_backward(
        aigc_grad(ctx, in[IN_X]), aigc_grad(ctx, in[IN_H0]), aigc_grad(ctx, in[IN_W_IH]),
        aigc_grad(ctx, in[IN_W_HH]), aigc_grad(ctx, in[IN_B_IH]), aigc_grad(ctx, in[IN_B_HH]),
        dgates, dh, node->out[0]->grad, node->out[1]->grad, in[IN_X]->data, data_or_null(in[IN_H0]),
        in[IN_W_IH]->data, in[IN_W_HH]->data, node->out[0]->data, B, T, D, H);
}

AigcTensor *aigc_rnn_tanh(AigcCtx *ctx, AigcTensor *x, AigcTensor *h0, AigcTensor *w_ih,
                          AigcTensor *w_hh, AigcTensor *b_ih, AigcTensor *b_hh, AigcTensor **h_n)
{
    AigcTensor *in[N_IN] = {x, h0, NULL, w_ih, w_hh, b_ih, b_hh};
    int B, T, D, H;
    if (!check_shapes(in, FALSE, 1, &B, &T, &D, &H))
        return NULL;
    make_inputs_contiguous(ctx, in);
    AigcTensor *out = aigc_tensor_new3(ctx, B, T, H);
    AigcTensor *h_last = aigc_tensor_new2(ctx, B, H);
    aigc_rnn_tanh_forward(out->data, h_last->data, in[IN_X]->data, data_or_null(in[IN_H0]),
                          in[IN_W_IH]->data, in[IN_W_HH]->data, data_or_null(in[IN_B_IH]),
                          data_or_null(in[IN_B_HH]), B, T, D, H);
    AigcNode *node = aigc_ctx_record(ctx, "rnn_tanh", rnn_tanh_node_backward, out, N_IN, in);
    if (node) {
        aigc_node_add_output(node, h_last);
        set_sizes(node, B, T, D, H, FALSE);
    }
    if (h_n)
        *h_n = h_last;
    return out;
}

static void reverse_time_node_backward(AigcCtx *ctx, AigcNode *node)
{
    float *dx = aigc_grad(ctx, node->in[0]);
    if (dx)
        aigc_reverse_time_backward(dx, node->out[0]->grad, (int)node->i[0], (int)node->i[1],
                                   (int)node->i[2]);
}

AigcTensor *aigc_reverse_time(AigcCtx *ctx, AigcTensor *x)
{
    g_return_val_if_fail(x != NULL && x->n_dims == 3, NULL);
    x = aigc_contiguous(ctx, x);
    AigcTensor *y = aigc_tensor_new_like(ctx, x);
    int B = (int)x->shape[0], T = (int)x->shape[1], C = (int)x->shape[2];
    aigc_reverse_time_forward(y->data, x->data, B, T, C);
    AigcNode *node = aigc_record1(ctx, "reverse_time", reverse_time_node_backward, y, x);
    if (node) {
        node->i[0] = B;
        node->i[1] = T;
        node->i[2] = C;
    }
    return y;
}
