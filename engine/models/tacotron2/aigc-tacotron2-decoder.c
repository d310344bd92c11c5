/* SPDX-License-Identifier: MIT
 *
 * Tacotron 2's decoder loop (attention LSTM, location-sensitive attention, decoder LSTM) as one
 * forward/backward pair; see the header for the equations and the legend.
 *
 * Storage: every per-step quantity lives in a batch-major array [B, S, X] with S "slots" per
 * utterance — S = T in training (slot t = step t, so the arrays are the history the backward
 * reads), S = 2 in inference (the two slots alternate). A step's [B, X] matrix therefore has a
 * row stride of S·X, which the BLAS calls take as their leading dimension.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* See aigc-elementwise.c: the loops here are written to vectorise, -O2 alone would not. */
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math",              \
                     "fp-contract=fast")
#endif

#include "aigc-tacotron2-decoder.h"

#include "nn/aigc-elementwise.h"
#include "tensor/aigc-blas.h"
#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <math.h>
#include <string.h>

typedef struct {
    const float *att_w_ih, *att_w_hh, *att_b_ih, *att_b_hh;
    const float *query_w, *loc_conv_w, *loc_dense_w, *v_w;
    const float *dec_w_ih, *dec_w_hh, *dec_b_ih, *dec_b_hh;
} Raw;

/* Gradient buffers of the weights, each nullable. */
typedef struct {
    float *att_w_ih, *att_w_hh, *att_b_ih, *att_b_hh;
    float *query_w, *loc_conv_w, *loc_dense_w, *v_w;
    float *dec_w_ih, *dec_w_hh, *dec_b_ih, *dec_b_hh;
} Grads;

typedef struct {
    int S;
    float *xp;                    /* [B, S, 4Ha] prenet part of the attention gates + biases */
    float *ga, *ca, *ha;          /* [B, S, 4Ha] activated gates, [B, S, Ha] cells, states */
    float *gd, *cd, *hd;          /* [B, S, 4Hd], [B, S, Hd], [B, S, Hd] */
    float *ctx;                   /* [B, S, E] */
    float *alpha, *cum;           /* [B, S, N] weights and their running sum (through step) */
    const float *mask_a, *mask_d; /* [B, S, Ha], [B, S, Hd] dropout multipliers (nullable) */
    float *s_all, *f_all; /* (nullable) [S, B·N, A] tanh terms, [S, B·N, F] location features of
                           * every step, kept for the backward instead of recomputed */
} Seq;

typedef struct {
    float *pq;   /* [B, A] processed query */
    float *cols; /* [B·N, 2K] location inputs unfolded */
    float *f;    /* [B·N, F] location features */
    float *s;    /* [B·N, A] location term, then tanh(pq + pmem + loc); in the backward ds */
} Scratch;

/* Element (b, slot, 0) of a [B, S, X] array. */
#define SLOT(q, base, X, b, slot) ((base) + ((gint64)(b) * (q)->S + (slot)) * (gint64)(X))

static Raw raw_of(const AigcT2DecoderWeights *w)
{
    return (Raw){w->att_w_ih->data, w->att_w_hh->data,   w->att_b_ih->data,    w->att_b_hh->data,
                 w->query_w->data,  w->loc_conv_w->data, w->loc_dense_w->data, w->v_w->data,
                 w->dec_w_ih->data, w->dec_w_hh->data,   w->dec_b_ih->data,    w->dec_b_hh->data};
}

gboolean aigc_t2_decoder_dims(const AigcT2DecoderWeights *w, int B, int N, int E,
                              AigcT2DecoderDims *d)
{
    AigcTensor *all[] = {w->att_w_ih, w->att_w_hh,   w->att_b_ih,    w->att_b_hh,
                         w->query_w,  w->loc_conv_w, w->loc_dense_w, w->v_w,
                         w->dec_w_ih, w->dec_w_hh,   w->dec_b_ih,    w->dec_b_hh};
    for (guint i = 0; i < G_N_ELEMENTS(all); i++)
        if (!all[i] || !aigc_tensor_is_contiguous(all[i]))
            return FALSE;
    if (w->att_w_hh->n_dims != 2 || w->query_w->n_dims != 2 || w->loc_conv_w->n_dims != 3 ||
        w->loc_dense_w->n_dims != 2 || w->dec_w_hh->n_dims != 2 || w->att_w_ih->n_dims != 2 ||
        w->dec_w_ih->n_dims != 2)
        return FALSE;
    d->B = B;
    d->N = N;
    d->E = E;
    d->Ha = (int)w->att_w_hh->shape[1];
    d->Hd = (int)w->dec_w_hh->shape[1];
    d->A = (int)w->query_w->shape[0];
    d->F = (int)w->loc_conv_w->shape[0];
    d->K = (int)w->loc_conv_w->shape[2];
    d->P = (int)w->att_w_ih->shape[1] - E;
    const gint64 Ha = d->Ha, Hd = d->Hd;
    return B > 0 && N > 0 && E > 0 && d->P > 0 && d->K % 2 == 1 &&
           w->att_w_ih->shape[0] == 4 * Ha && w->att_w_hh->shape[0] == 4 * Ha &&
           w->att_b_ih->n_elements == 4 * Ha && w->att_b_hh->n_elements == 4 * Ha &&
           w->query_w->shape[1] == Ha && w->loc_conv_w->shape[1] == 2 &&
           w->loc_dense_w->shape[0] == d->A && w->loc_dense_w->shape[1] == d->F &&
           w->v_w->n_elements == d->A && w->dec_w_ih->shape[0] == 4 * Hd &&
           w->dec_w_ih->shape[1] == Ha + E && w->dec_w_hh->shape[0] == 4 * Hd &&
           w->dec_b_ih->n_elements == 4 * Hd && w->dec_b_hh->n_elements == 4 * Hd;
}

/* ---- matrix products (row-major, leading dimensions in floats) ---- */

/* C[M, N] = beta·C + X[M, K] · W[N, K]ᵀ. One row (inference) is a matrix-vector product: a
 * GEMM would repack W on every call, which costs more than the product. */
static void mm_nt(float *C, int ldc, const float *X, int ldx, const float *W, int ldw, int M, int N,
                  int K, float beta)
{
    if (M == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, 1.0f, W, ldw, X, 1, beta, C, 1);
    else
        aigc_sgemm(CblasNoTrans, CblasTrans, M, N, K, 1.0f, X, ldx, W, ldw, beta, C, ldc);
}

/* C[M, N] = beta·C + X[M, K] · W[K, N] */
static void mm_nn(float *C, int ldc, const float *X, int ldx, const float *W, int ldw, int M, int N,
                  int K, float beta)
{
    aigc_sgemm(CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, X, ldx, W, ldw, beta, C, ldc);
}

/* C[M, N] += X[K, M]ᵀ · Y[K, N] (weight gradients) */
static void mm_tn_acc(float *C, int ldc, const float *X, int ldx, const float *Y, int ldy, int M,
                      int N, int K)
{
    aigc_sgemm(CblasTrans, CblasNoTrans, M, N, K, 1.0f, X, ldx, Y, ldy, 1.0f, C, ldc);
}

/* ---- LSTM pointwise parts ---- */

/* tanh and the logistic function inline, so the loops below vectorise (the same formulas as the
 * engine's activation kernels: an odd polynomial for small |x|, 1 − 2 / (e^{2|x|} + 1) above). */
AIGC_KERNEL_BODY float t2_tanhf(float x)
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

AIGC_KERNEL_BODY float t2_sigmoidf(float x)
{
    return 1.0f / (1.0f + aigc_vexpf(-x));
}

typedef struct {
    float *g;            /* [B, 4H] (ldg): pre-activations in, activated (i, f, g, o) out */
    float *c, *h;        /* [B, H] (ldh) out */
    const float *c_prev; /* [B, H] (ldh) nullable: zeros */
    const float *mask;   /* [B, H] (ldh) nullable */
    float *dg;           /* backward: [B, 4H] (ldg) pre-activation gradients out */
    float *dc;           /* backward: [B, H] dense, carried cell gradient in, d c_prev out */
    const float *dh;     /* backward: [B, H] dense, gradient of the stored (dropped) state */
    int ldg, ldh, H;
} LstmJob;

/* One row; `has_prev` is a constant at each call, so the loop is specialised without the branch
 * that would keep it from vectorising. */
AIGC_KERNEL_BODY void lstm_fwd_row(float *restrict gb, float *restrict cb, float *restrict hb,
                                   const float *restrict cp, int H, gboolean has_prev)
{
    for (int k = 0; k < H; k++) {
        float i = t2_sigmoidf(gb[k]), f = t2_sigmoidf(gb[H + k]);
        float gg = t2_tanhf(gb[2 * H + k]), o = t2_sigmoidf(gb[3 * H + k]);
        gb[k] = i;
        gb[H + k] = f;
        gb[2 * H + k] = gg;
        gb[3 * H + k] = o;
        float cn = has_prev ? i * gg + f * cp[k] : i * gg;
        cb[k] = cn;
        hb[k] = o * t2_tanhf(cn);
    }
}

AIGC_KERNEL_BODY void lstm_fwd_rows_body(gint64 b0, gint64 b1, gpointer data)
{
    const LstmJob *j = data;
    const int H = j->H;
    for (gint64 b = b0; b < b1; b++) {
        float *gb = j->g + b * j->ldg;
        float *cb = j->c + b * j->ldh, *hb = j->h + b * j->ldh;
        if (j->c_prev)
            lstm_fwd_row(gb, cb, hb, j->c_prev + b * j->ldh, H, TRUE);
        else
            lstm_fwd_row(gb, cb, hb, NULL, H, FALSE);
        if (j->mask) {
            const float *restrict mb = j->mask + b * j->ldh;
            for (int k = 0; k < H; k++)
                hb[k] *= mb[k];
        }
    }
}
AIGC_ROWS_DISPATCH(lstm_fwd_rows)

/* One row, specialised like lstm_fwd_row on whether there is a previous cell and a mask. */
AIGC_KERNEL_BODY void lstm_bwd_row(float *restrict dgb, float *restrict dcb, const float *gb,
                                   const float *cb, const float *cp, const float *mb,
                                   const float *dhb, int H, gboolean has_prev, gboolean has_mask)
{
    for (int k = 0; k < H; k++) {
        float i = gb[k], f = gb[H + k], gg = gb[2 * H + k], o = gb[3 * H + k];
        float dhv = has_mask ? dhb[k] * mb[k] : dhb[k];
        float tc = t2_tanhf(cb[k]);
        float dcc = dcb[k] + dhv * o * (1.0f - tc * tc);
        float cpk = has_prev ? cp[k] : 0.0f;
        dgb[k] = dcc * gg * i * (1.0f - i);
        dgb[H + k] = dcc * cpk * f * (1.0f - f);
        dgb[2 * H + k] = dcc * i * (1.0f - gg * gg);
        dgb[3 * H + k] = dhv * tc * o * (1.0f - o);
        dcb[k] = dcc * f;
    }
}

AIGC_KERNEL_BODY void lstm_bwd_rows_body(gint64 b0, gint64 b1, gpointer data)
{
    const LstmJob *j = data;
    const int H = j->H;
    for (gint64 b = b0; b < b1; b++) {
        float *dgb = j->dg + b * j->ldg;
        const float *gb = j->g + b * j->ldg;
        const float *cb = j->c + b * j->ldh;
        const float *cp = j->c_prev ? j->c_prev + b * j->ldh : NULL;
        const float *mb = j->mask ? j->mask + b * j->ldh : NULL;
        float *dcb = j->dc + b * H;
        const float *dhb = j->dh + b * H;
        if (cp && mb)
            lstm_bwd_row(dgb, dcb, gb, cb, cp, mb, dhb, H, TRUE, TRUE);
        else if (cp)
            lstm_bwd_row(dgb, dcb, gb, cb, cp, NULL, dhb, H, TRUE, FALSE);
        else if (mb)
            lstm_bwd_row(dgb, dcb, gb, cb, NULL, mb, dhb, H, FALSE, TRUE);
        else
            lstm_bwd_row(dgb, dcb, gb, cb, NULL, NULL, dhb, H, FALSE, FALSE);
    }
}
AIGC_ROWS_DISPATCH(lstm_bwd_rows)

static void lstm_point_forward(float *g, int ldg, float *c, float *h, const float *c_prev,
                               const float *mask, int ldh, int B, int H)
{
    LstmJob j = {
        .g = g, .c = c, .h = h, .c_prev = c_prev, .mask = mask, .ldg = ldg, .ldh = ldh, .H = H};
    lstm_fwd_rows(0, B, &j);
}

static void lstm_point_backward(float *dg, int ldg, float *dc, const float *dh, const float *g,
                                const float *c, const float *c_prev, const float *mask, int ldh,
                                int B, int H)
{
    LstmJob j = {.g = (float *)g,
                 .c = (float *)c,
                 .c_prev = c_prev,
                 .mask = mask,
                 .dg = dg,
                 .dc = dc,
                 .dh = dh,
                 .ldg = ldg,
                 .ldh = ldh,
                 .H = H};
    lstm_bwd_rows(0, B, &j);
}

/* ---- attention ---- */

/* The window of utterance b: [lo, hi) inside [0, len). */
static inline void window_of(int b, int len, const int *lo, const int *hi, int *wlo, int *whi)
{
    int l = lo ? MAX(lo[b], 0) : 0;
    int h = hi ? MIN(hi[b], len) : len;
    if (l >= h) {
        l = 0;
        h = len;
    }
    *wlo = l;
    *whi = h;
}

/* cols[b·N + j, c·K + k] = in_c[b, j + k − K/2] (0 outside), in_0 = α_prev, in_1 = cum_prev. */
static void unfold_location(float *cols, const Seq *q, int prev, int B, int N, int K)
{
    const int pad = K / 2;
    for (int b = 0; b < B; b++) {
        const float *src[2] = {SLOT(q, q->alpha, N, b, prev), SLOT(q, q->cum, N, b, prev)};
        for (int j = 0; j < N; j++) {
            float *row = cols + ((gint64)b * N + j) * 2 * K;
            for (int c = 0; c < 2; c++)
                for (int k = 0; k < K; k++) {
                    int jj = j + k - pad;
                    row[c * K + k] = jj >= 0 && jj < N ? src[c][jj] : 0.0f;
                }
        }
    }
}

typedef struct {
    const AigcT2DecoderDims *d;
    const Raw *w;
    const Seq *q;
    const Scratch *sc;
    const float *pmem;
    const gint32 *len;
    const int *lo, *hi;
    int cur;
    gboolean loc;
} EnergyJob;

/* s ← tanh(x + y + s) and returns v · s: two loops, the tanh's and the dot product's, as one
 * would keep the compiler from vectorising; the tanh dominates the attention's cost. */
AIGC_KERNEL_BODY float t2_tanh_dot(float *restrict s, const float *restrict x,
                                   const float *restrict y, const float *restrict v, int A)
{
    for (int a = 0; a < A; a++)
        s[a] = t2_tanhf(x[a] + y[a] + s[a]);
    return aigc_row_dot(v, s, A);
}

/* For utterances [b0, b1): s ← tanh(pq + pmem + loc) on the window's rows, then α = softmax of
 * v · s over the window (0 elsewhere). */
AIGC_KERNEL_BODY void energy_rows_body(gint64 b0, gint64 b1, gpointer data)
{
    const EnergyJob *job = data;
    const int N = job->d->N, A = job->d->A;
    const float *restrict v = job->w->v_w;
    for (gint64 b = b0; b < b1; b++) {
        int lo, hi;
        window_of((int)b, job->len[b], job->lo, job->hi, &lo, &hi);
        float *alpha = SLOT(job->q, job->q->alpha, N, b, job->cur);
        const float *restrict pq = job->sc->pq + b * A;
        float m = -INFINITY;
        for (int j = lo; j < hi; j++) {
            float *restrict s = job->sc->s + (b * N + j) * A;
            const float *restrict pm = job->pmem + (b * N + j) * A;
            if (!job->loc)
                memset(s, 0, sizeof(float) * A);
            alpha[j] = t2_tanh_dot(s, pq, pm, v, A);
            m = MAX(m, alpha[j]);
        }
        float sum = 0;
        for (int j = lo; j < hi; j++) {
            alpha[j] = aigc_vexpf(alpha[j] - m);
            sum += alpha[j];
        }
        float inv = 1.0f / sum;
        for (int j = 0; j < N; j++)
            alpha[j] = j >= lo && j < hi ? alpha[j] * inv : 0.0f;
    }
}
AIGC_ROWS_DISPATCH(energy_rows)

/* The processed query, the location term and the energies of step `cur` into sc->s / α. */
static void attention_energies(const AigcT2DecoderDims *d, const Raw *w, const Seq *q,
                               const Scratch *sc, const float *pmem, const gint32 *len, int cur,
                               int prev, const int *lo, const int *hi)
{
    const int B = d->B, N = d->N, A = d->A, F = d->F, K = d->K, Ha = d->Ha;
    const int S = q->S;
    mm_nt(sc->pq, A, SLOT(q, q->ha, Ha, 0, cur), S * Ha, w->query_w, Ha, B, A, Ha, 0.0f);
    gboolean loc = prev >= 0;
    if (loc) {
        unfold_location(sc->cols, q, prev, B, N, K);
        mm_nt(sc->f, F, sc->cols, 2 * K, w->loc_conv_w, 2 * K, B * N, F, 2 * K, 0.0f);
        mm_nt(sc->s, A, sc->f, F, w->loc_dense_w, F, B * N, A, F, 0.0f);
    }
    EnergyJob job = {d, w, q, sc, pmem, len, lo, hi, cur, loc};
    if (B > 1)
        aigc_parallel_for(B, 1, energy_rows, &job);
    else
        energy_rows(0, B, &job);
}

/* One decoder step into slot `cur` from slot `prev` (−1: the zero initial state). */
static void step_forward(const AigcT2DecoderDims *d, const Raw *w, Seq *q, const Scratch *sc,
                         const float *memory, const float *pmem, const gint32 *len, int cur,
                         int prev, const int *lo, const int *hi)
{
    const int B = d->B, N = d->N, E = d->E, P = d->P, Ha = d->Ha, Hd = d->Hd;
    const int S = q->S;
    /* attention LSTM */
    float *ga = SLOT(q, q->ga, 4 * Ha, 0, cur);
    for (int b = 0; b < B; b++)
        memcpy(SLOT(q, q->ga, 4 * Ha, b, cur), SLOT(q, q->xp, 4 * Ha, b, cur),
               sizeof(float) * 4 * Ha);
    if (prev >= 0) {
        mm_nt(ga, S * 4 * Ha, SLOT(q, q->ctx, E, 0, prev), S * E, w->att_w_ih + P, P + E, B, 4 * Ha,
              E, 1.0f);
        mm_nt(ga, S * 4 * Ha, SLOT(q, q->ha, Ha, 0, prev), S * Ha, w->att_w_hh, Ha, B, 4 * Ha, Ha,
              1.0f);
    }
    lstm_point_forward(ga, S * 4 * Ha, SLOT(q, q->ca, Ha, 0, cur), SLOT(q, q->ha, Ha, 0, cur),
                       prev >= 0 ? SLOT(q, q->ca, Ha, 0, prev) : NULL,
                       q->mask_a ? SLOT(q, q->mask_a, Ha, 0, cur) : NULL, S * Ha, B, Ha);
    /* attention */
    Scratch st = *sc;
    if (q->s_all) {
        const gint64 BN = (gint64)B * N;
        st.s = q->s_all + cur * BN * d->A;
        st.f = q->f_all + cur * BN * d->F;
    }
    attention_energies(d, w, q, &st, pmem, len, cur, prev, lo, hi);
    for (int b = 0; b < B; b++) {
        float *alpha = SLOT(q, q->alpha, N, b, cur), *cum = SLOT(q, q->cum, N, b, cur);
        const float *cum_prev = prev >= 0 ? SLOT(q, q->cum, N, b, prev) : NULL;
        for (int j = 0; j < N; j++)
            cum[j] = alpha[j] + (cum_prev ? cum_prev[j] : 0.0f);
        cblas_sgemv(CblasRowMajor, CblasTrans, len[b], E, 1.0f, memory + (gint64)b * N * E, E,
                    alpha, 1, 0.0f, SLOT(q, q->ctx, E, b, cur), 1);
    }
    /* decoder LSTM */
    float *gd = SLOT(q, q->gd, 4 * Hd, 0, cur);
    for (int b = 0; b < B; b++) {
        float *g = SLOT(q, q->gd, 4 * Hd, b, cur);
        for (int k = 0; k < 4 * Hd; k++)
            g[k] = w->dec_b_ih[k] + w->dec_b_hh[k];
    }
    mm_nt(gd, S * 4 * Hd, SLOT(q, q->ha, Ha, 0, cur), S * Ha, w->dec_w_ih, Ha + E, B, 4 * Hd, Ha,
          1.0f);
    mm_nt(gd, S * 4 * Hd, SLOT(q, q->ctx, E, 0, cur), S * E, w->dec_w_ih + Ha, Ha + E, B, 4 * Hd, E,
          1.0f);
    if (prev >= 0)
        mm_nt(gd, S * 4 * Hd, SLOT(q, q->hd, Hd, 0, prev), S * Hd, w->dec_w_hh, Hd, B, 4 * Hd, Hd,
              1.0f);
    lstm_point_forward(gd, S * 4 * Hd, SLOT(q, q->cd, Hd, 0, cur), SLOT(q, q->hd, Hd, 0, cur),
                       prev >= 0 ? SLOT(q, q->cd, Hd, 0, prev) : NULL,
                       q->mask_d ? SLOT(q, q->mask_d, Hd, 0, cur) : NULL, S * Hd, B, Hd);
}

/* xp[b, t] = W_ih_a[:, :P] · prenet[b, t] + b_ih + b_hh for all rows (B·T) at once. */
static void prenet_gates(float *xp, const float *prenet, const AigcT2DecoderDims *d, const Raw *w,
                         int rows)
{
    const int P = d->P, E = d->E, G = 4 * d->Ha;
    mm_nt(xp, G, prenet, P, w->att_w_ih, P + E, rows, G, P, 0.0f);
    for (int r = 0; r < rows; r++) {
        float *x = xp + (gint64)r * G;
        for (int k = 0; k < G; k++)
            x[k] += w->att_b_ih[k] + w->att_b_hh[k];
    }
}

/* ---- backward through time ---- */

typedef struct {
    const AigcT2DecoderDims *d;
    const Raw *w;
    const Seq *q;
    const Scratch *sc;
    const float *dalpha; /* [B, N] */
    const gint32 *len;
    float *dpq;   /* [B, A] of this step */
    float *dpmem; /* nullable */
    float *dv;    /* [B, A] per-utterance partial sums */
    int t;
} SoftmaxBackJob;

/* Softmax and tanh backward of one step for utterances [b0, b1): sc->s becomes ds. */
AIGC_KERNEL_BODY void softmax_back_rows_body(gint64 b0, gint64 b1, gpointer data)
{
    const SoftmaxBackJob *job = data;
    const int N = job->d->N, A = job->d->A;
    const float *v = job->w->v_w;
    for (gint64 b = b0; b < b1; b++) {
        const float *alpha = SLOT(job->q, job->q->alpha, N, b, job->t);
        const float *da = job->dalpha + b * N;
        const int len = job->len[b];
        double dot = 0;
        for (int j = 0; j < len; j++)
            dot += (double)alpha[j] * da[j];
        float *dpq = job->dpq + b * A, *dv = job->dv + b * A;
        memset(dpq, 0, sizeof(float) * A);
        for (int j = 0; j < N; j++) {
            float *s = job->sc->s + (b * N + j) * A;
            if (j >= len) {
                memset(s, 0, sizeof(float) * A);
                continue;
            }
            float de = alpha[j] * (da[j] - (float)dot);
            float *dpm = job->dpmem ? job->dpmem + (b * N + j) * A : NULL;
            for (int a = 0; a < A; a++) {
                dv[a] += de * s[a];
                float ds = de * v[a] * (1.0f - s[a] * s[a]);
                s[a] = ds;
                dpq[a] += ds;
            }
            if (dpm)
                for (int a = 0; a < A; a++)
                    dpm[a] += s[a];
        }
    }
}
AIGC_ROWS_DISPATCH(softmax_back_rows)

typedef struct {
    const float *memory, *pmem, *prenet;
    const gint32 *len;
    const float *dout;                /* [B, T, Hd + E] nullable */
    const float *dalign;              /* [B, T, N] nullable */
    float *dmemory, *dpmem, *dprenet; /* nullable */
} BackIO;

static float *alloc0(AigcCtx *ctx, gint64 n)
{
    return aigc_ctx_alloc_floats0(ctx, n);
}

static void decoder_backward(AigcCtx *ctx, const AigcT2DecoderDims *d, const Raw *w, const Grads *g,
                             const Seq *q, const Scratch *sc, int T, const BackIO *io)
{
    const int B = d->B, N = d->N, E = d->E, A = d->A, F = d->F, K = d->K, P = d->P;
    const int Ha = d->Ha, Hd = d->Hd, O = Hd + E;
    const int S = q->S; /* == T */
    const gint64 BT = (gint64)B * T;
    float *dga = alloc0(ctx, BT * 4 * Ha), *dgd = alloc0(ctx, BT * 4 * Hd);
    float *dctx_all = alloc0(ctx, BT * E), *dpq_all = alloc0(ctx, BT * A);
    float *dha_c = alloc0(ctx, (gint64)B * Ha), *dca = alloc0(ctx, (gint64)B * Ha);
    float *dhd_c = alloc0(ctx, (gint64)B * Hd), *dcd = alloc0(ctx, (gint64)B * Hd);
    float *dctx_c = alloc0(ctx, (gint64)B * E), *dalpha_c = alloc0(ctx, (gint64)B * N);
    float *G = alloc0(ctx, (gint64)B * N), *dcum = alloc0(ctx, (gint64)B * N);
    float *dalpha = alloc0(ctx, (gint64)B * N), *dv = alloc0(ctx, (gint64)B * A);
    float *dh_d = alloc0(ctx, (gint64)B * Hd), *dh_a = alloc0(ctx, (gint64)B * Ha);
    float *df = alloc0(ctx, (gint64)B * N * F), *dcols = alloc0(ctx, (gint64)B * N * 2 * K);
    float *dpq = alloc0(ctx, (gint64)B * A);
    g_assert(q->s_all && q->f_all); /* kept by the forward whenever it records a node */

    for (int t = T - 1; t >= 0; t--) {
        const int prev = t - 1;
        /* decoder LSTM */
        for (int b = 0; b < B; b++)
            for (int k = 0; k < Hd; k++)
                dh_d[b * Hd + k] =
                    dhd_c[b * Hd + k] + (io->dout ? io->dout[((gint64)b * T + t) * O + k] : 0.0f);
        float *dgd_t = SLOT(q, dgd, 4 * Hd, 0, t);
        lstm_point_backward(dgd_t, S * 4 * Hd, dcd, dh_d, SLOT(q, q->gd, 4 * Hd, 0, t),
                            SLOT(q, q->cd, Hd, 0, t),
                            prev >= 0 ? SLOT(q, q->cd, Hd, 0, prev) : NULL,
                            q->mask_d ? SLOT(q, q->mask_d, Hd, 0, t) : NULL, S * Hd, B, Hd);
        if (prev >= 0)
            mm_nn(dhd_c, Hd, dgd_t, S * 4 * Hd, w->dec_w_hh, Hd, B, Hd, 4 * Hd, 0.0f);
        memcpy(dh_a, dha_c, sizeof(float) * B * Ha);
        mm_nn(dh_a, Ha, dgd_t, S * 4 * Hd, w->dec_w_ih, Ha + E, B, Ha, 4 * Hd, 1.0f);
        float *dctx_t = SLOT(q, dctx_all, E, 0, t);
        for (int b = 0; b < B; b++) {
            float *dc = SLOT(q, dctx_all, E, b, t);
            for (int k = 0; k < E; k++)
                dc[k] = dctx_c[b * E + k] +
                        (io->dout ? io->dout[((gint64)b * T + t) * O + Hd + k] : 0.0f);
        }
        mm_nn(dctx_t, S * E, dgd_t, S * 4 * Hd, w->dec_w_ih + Ha, Ha + E, B, E, 4 * Hd, 1.0f);

        /* attention: the gradient of α_t from every use (alignment loss, next step's location
         * features, later cumulative sums, this step's context) */
        for (int b = 0; b < B; b++) {
            float *da = dalpha + (gint64)b * N;
            for (int j = 0; j < N; j++)
                da[j] = dalpha_c[b * N + j] + G[b * N + j] +
                        (io->dalign ? io->dalign[((gint64)b * T + t) * N + j] : 0.0f);
            cblas_sgemv(CblasRowMajor, CblasNoTrans, io->len[b], E, 1.0f,
                        io->memory + (gint64)b * N * E, E, SLOT(q, dctx_all, E, b, t), 1, 1.0f, da,
                        1);
        }
        Scratch st = *sc;
        st.s = q->s_all + (gint64)t * B * N * A;
        st.f = q->f_all + (gint64)t * B * N * F;
        if (prev >= 0)
            unfold_location(st.cols, q, prev, B, N, K);
        SoftmaxBackJob job = {d, w, q, &st, dalpha, io->len, dpq, io->dpmem, dv, t};
        if (B > 1)
            aigc_parallel_for(B, 1, softmax_back_rows, &job);
        else
            softmax_back_rows(0, B, &job);
        for (int b = 0; b < B; b++)
            memcpy(SLOT(q, dpq_all, A, b, t), dpq + (gint64)b * A, sizeof(float) * A);
        if (prev >= 0) {
            /* location layer: ds → df → dcols → (d α_{t−1}, d cum_{t−1}) */
            mm_nn(df, F, st.s, A, w->loc_dense_w, F, B * N, F, A, 0.0f);
            if (g->loc_dense_w)
                mm_tn_acc(g->loc_dense_w, F, st.s, A, st.f, F, A, F, B * N);
            mm_nn(dcols, 2 * K, df, F, w->loc_conv_w, 2 * K, B * N, 2 * K, F, 0.0f);
            if (g->loc_conv_w)
                mm_tn_acc(g->loc_conv_w, 2 * K, df, F, st.cols, 2 * K, F, 2 * K, B * N);
            memset(dalpha_c, 0, sizeof(float) * B * N);
            memset(dcum, 0, sizeof(float) * B * N);
            const int pad = K / 2;
            for (int b = 0; b < B; b++)
                for (int j = 0; j < N; j++) {
                    const float *row = dcols + ((gint64)b * N + j) * 2 * K;
                    for (int k = 0; k < K; k++) {
                        int jj = j + k - pad;
                        if (jj < 0 || jj >= N)
                            continue;
                        dalpha_c[b * N + jj] += row[k];
                        dcum[b * N + jj] += row[K + k];
                    }
                }
            for (gint64 i = 0; i < (gint64)B * N; i++)
                G[i] += dcum[i];
        }
        mm_nn(dh_a, Ha, dpq, A, w->query_w, Ha, B, Ha, A, 1.0f);

        /* attention LSTM */
        float *dga_t = SLOT(q, dga, 4 * Ha, 0, t);
        lstm_point_backward(dga_t, S * 4 * Ha, dca, dh_a, SLOT(q, q->ga, 4 * Ha, 0, t),
                            SLOT(q, q->ca, Ha, 0, t),
                            prev >= 0 ? SLOT(q, q->ca, Ha, 0, prev) : NULL,
                            q->mask_a ? SLOT(q, q->mask_a, Ha, 0, t) : NULL, S * Ha, B, Ha);
        if (prev >= 0) {
            mm_nn(dha_c, Ha, dga_t, S * 4 * Ha, w->att_w_hh, Ha, B, Ha, 4 * Ha, 0.0f);
            mm_nn(dctx_c, E, dga_t, S * 4 * Ha, w->att_w_ih + P, P + E, B, E, 4 * Ha, 0.0f);
        }
    }

    /* weight gradients over all steps at once: rows are (b, t) pairs, B·T of them */
    float *ctx_sh = alloc0(ctx, BT * E), *ha_sh = alloc0(ctx, BT * Ha),
          *hd_sh = alloc0(ctx, BT * Hd);
    for (int b = 0; b < B; b++)
        for (int t = 1; t < T; t++) {
            memcpy(SLOT(q, ctx_sh, E, b, t), SLOT(q, q->ctx, E, b, t - 1), sizeof(float) * E);
            memcpy(SLOT(q, ha_sh, Ha, b, t), SLOT(q, q->ha, Ha, b, t - 1), sizeof(float) * Ha);
            memcpy(SLOT(q, hd_sh, Hd, b, t), SLOT(q, q->hd, Hd, b, t - 1), sizeof(float) * Hd);
        }
    if (g->query_w)
        mm_tn_acc(g->query_w, Ha, dpq_all, A, q->ha, Ha, A, Ha, (int)BT);
    if (g->v_w)
        for (int b = 0; b < B; b++)
            for (int a = 0; a < A; a++)
                g->v_w[a] += dv[b * A + a];
    if (g->att_w_ih) {
        mm_tn_acc(g->att_w_ih, P + E, dga, 4 * Ha, io->prenet, P, 4 * Ha, P, (int)BT);
        mm_tn_acc(g->att_w_ih + P, P + E, dga, 4 * Ha, ctx_sh, E, 4 * Ha, E, (int)BT);
    }
    if (g->att_w_hh)
        mm_tn_acc(g->att_w_hh, Ha, dga, 4 * Ha, ha_sh, Ha, 4 * Ha, Ha, (int)BT);
    if (g->dec_w_ih) {
        mm_tn_acc(g->dec_w_ih, Ha + E, dgd, 4 * Hd, q->ha, Ha, 4 * Hd, Ha, (int)BT);
        mm_tn_acc(g->dec_w_ih + Ha, Ha + E, dgd, 4 * Hd, q->ctx, E, 4 * Hd, E, (int)BT);
    }
    if (g->dec_w_hh)
        mm_tn_acc(g->dec_w_hh, Hd, dgd, 4 * Hd, hd_sh, Hd, 4 * Hd, Hd, (int)BT);
    for (gint64 r = 0; r < BT; r++) {
        const float *ra = dga + r * 4 * Ha, *rd = dgd + r * 4 * Hd;
        for (int k = 0; k < 4 * Ha; k++) {
            if (g->att_b_ih)
                g->att_b_ih[k] += ra[k];
            if (g->att_b_hh)
                g->att_b_hh[k] += ra[k];
        }
        for (int k = 0; k < 4 * Hd; k++) {
            if (g->dec_b_ih)
                g->dec_b_ih[k] += rd[k];
            if (g->dec_b_hh)
                g->dec_b_hh[k] += rd[k];
        }
    }
    if (io->dprenet)
        mm_nn(io->dprenet, P, dga, 4 * Ha, w->att_w_ih, P + E, (int)BT, P, 4 * Ha, 1.0f);
    if (io->dmemory)
        for (int b = 0; b < B; b++)
            mm_tn_acc(io->dmemory + (gint64)b * N * E, E, q->alpha + (gint64)b * T * N, N,
                      dctx_all + (gint64)b * T * E, E, N, E, T);
}

/* ---- the tape op ---- */

typedef struct {
    AigcT2DecoderDims d;
    AigcT2DecoderWeights w;
    Seq q;
    Scratch sc;
    gint32 *len;
    int T;
} Saved;

static void decoder_node_backward(AigcCtx *ctx, AigcNode *node)
{
    Saved *sv = node->saved;
    const AigcT2DecoderWeights *w = &sv->w;
    Raw raw = raw_of(w);
    Grads g = {
        aigc_grad(ctx, w->att_w_ih),    aigc_grad(ctx, w->att_w_hh), aigc_grad(ctx, w->att_b_ih),
        aigc_grad(ctx, w->att_b_hh),    aigc_grad(ctx, w->query_w),  aigc_grad(ctx, w->loc_conv_w),
        aigc_grad(ctx, w->loc_dense_w), aigc_grad(ctx, w->v_w),      aigc_grad(ctx, w->dec_w_ih),
        aigc_grad(ctx, w->dec_w_hh),    aigc_grad(ctx, w->dec_b_ih), aigc_grad(ctx, w->dec_b_hh)};
    AigcTensor *memory = node->in[0], *pmem = node->in[1], *prenet = node->in[2];
    BackIO io = {
        .memory = memory->data,
        .pmem = pmem->data,
        .prenet = prenet->data,
        .len = sv->len,
        .dout = node->out[0]->grad,
        .dalign = node->n_out > 1 ? node->out[1]->grad : NULL,
        .dmemory = aigc_grad(ctx, memory),
        .dpmem = aigc_grad(ctx, pmem),
        .dprenet = aigc_grad(ctx, prenet),
    };
    decoder_backward(ctx, &sv->d, &raw, &g, &sv->q, &sv->sc, sv->T, &io);
}

static void fill_dropout_mask(AigcCtx *ctx, float *mask, gint64 n, float p)
{
    aigc_rng_fill_uniform(aigc_ctx_get_rng(ctx), mask, n, 0.0f, 1.0f);
    const float keep = 1.0f / (1.0f - p);
    for (gint64 i = 0; i < n; i++)
        mask[i] = mask[i] < p ? 0.0f : keep;
}

static void scratch_alloc(Scratch *sc, const AigcT2DecoderDims *d,
                          float *(*alloc)(gpointer, gint64), gpointer data)
{
    const gint64 BN = (gint64)d->B * d->N;
    sc->pq = alloc(data, (gint64)d->B * d->A);
    sc->cols = alloc(data, BN * 2 * d->K);
    sc->f = alloc(data, BN * d->F);
    sc->s = alloc(data, BN * d->A);
}

static float *ctx_alloc(gpointer ctx, gint64 n)
{
    return aigc_ctx_alloc_floats(ctx, n);
}

AigcTensor *aigc_t2_decoder(AigcCtx *ctx, AigcTensor *memory, AigcTensor *pmem, AigcTensor *prenet,
                            const gint32 *mem_len, const AigcT2DecoderWeights *w, float p_attention,
                            float p_decoder, AigcTensor **align)
{
    g_return_val_if_fail(memory->n_dims == 3 && pmem->n_dims == 3 && prenet->n_dims == 3, NULL);
    const int B = (int)memory->shape[0], N = (int)memory->shape[1], E = (int)memory->shape[2];
    AigcT2DecoderDims d;
    g_return_val_if_fail(aigc_t2_decoder_dims(w, B, N, E, &d), NULL);
    g_return_val_if_fail(pmem->shape[0] == B && pmem->shape[1] == N && pmem->shape[2] == d.A, NULL);
    g_return_val_if_fail(prenet->shape[0] == B && prenet->shape[2] == d.P, NULL);
    g_return_val_if_fail(p_attention >= 0 && p_attention < 1 && p_decoder >= 0 && p_decoder < 1,
                         NULL);
    const int T = (int)prenet->shape[1];
    g_return_val_if_fail(T >= 1, NULL);
    for (int b = 0; b < B; b++)
        g_return_val_if_fail(mem_len[b] >= 1 && mem_len[b] <= N, NULL);
    memory = aigc_contiguous(ctx, memory);
    pmem = aigc_contiguous(ctx, pmem);
    prenet = aigc_contiguous(ctx, prenet);

    const gint64 BT = (gint64)B * T;
    const int Ha = d.Ha, Hd = d.Hd;
    AigcTensor *out = aigc_tensor_new3(ctx, B, T, Hd + E);
    AigcTensor *al = aigc_tensor_new3(ctx, B, T, N);
    Seq q = {.S = T};
    q.xp = aigc_ctx_alloc_floats(ctx, BT * 4 * Ha);
    q.ga = aigc_ctx_alloc_floats(ctx, BT * 4 * Ha);
    q.ca = aigc_ctx_alloc_floats(ctx, BT * Ha);
    q.ha = aigc_ctx_alloc_floats(ctx, BT * Ha);
    q.gd = aigc_ctx_alloc_floats(ctx, BT * 4 * Hd);
    q.cd = aigc_ctx_alloc_floats(ctx, BT * Hd);
    q.hd = aigc_ctx_alloc_floats(ctx, BT * Hd);
    q.ctx = aigc_ctx_alloc_floats(ctx, BT * E);
    q.alpha = al->data;
    q.cum = aigc_ctx_alloc_floats(ctx, BT * N);
    const gboolean training = aigc_ctx_get_training(ctx);
    if (training && p_attention > 0) {
        float *m = aigc_ctx_alloc_floats(ctx, BT * Ha);
        fill_dropout_mask(ctx, m, BT * Ha, p_attention);
        q.mask_a = m;
    }
    if (training && p_decoder > 0) {
        float *m = aigc_ctx_alloc_floats(ctx, BT * Hd);
        fill_dropout_mask(ctx, m, BT * Hd, p_decoder);
        q.mask_d = m;
    }
    AigcTensor *in[8] = {memory,      pmem,       prenet,      w->att_w_ih,
                         w->att_w_hh, w->query_w, w->dec_w_ih, w->dec_w_hh};
    if (aigc_ctx_needs_grad(ctx, 8, in)) {
        q.s_all = aigc_ctx_alloc_floats(ctx, BT * N * d.A);
        q.f_all = aigc_ctx_alloc_floats(ctx, BT * N * d.F);
    }
    Scratch sc;
    scratch_alloc(&sc, &d, ctx_alloc, ctx);
    Raw raw = raw_of(w);
    prenet_gates(q.xp, prenet->data, &d, &raw, (int)BT);
    for (int t = 0; t < T; t++)
        step_forward(&d, &raw, &q, &sc, memory->data, pmem->data, mem_len, t, t - 1, NULL, NULL);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out->data + ((gint64)b * T + t) * (Hd + E);
            memcpy(o, SLOT(&q, q.hd, Hd, b, t), sizeof(float) * Hd);
            memcpy(o + Hd, SLOT(&q, q.ctx, E, b, t), sizeof(float) * E);
        }

    AigcNode *node = aigc_ctx_record(ctx, "t2_decoder", decoder_node_backward, out, 8, in);
    if (node) {
        aigc_node_add_output(node, al);
        Saved *sv = aigc_ctx_alloc(ctx, sizeof(Saved));
        sv->d = d;
        sv->w = *w;
        sv->q = q;
        sv->sc = sc;
        sv->T = T;
        sv->len = aigc_ctx_alloc(ctx, sizeof(gint32) * B);
        memcpy(sv->len, mem_len, sizeof(gint32) * B);
        node->saved = sv;
    }
    if (align)
        *align = al;
    return out;
}

/* ---- inference ---- */

struct _AigcT2DecoderRun {
    AigcT2DecoderDims d;
    Raw w;
    const float *memory, *pmem;
    gint32 len;
    Seq q;
    Scratch sc;
    float *block; /* every array above, one allocation */
    gint64 step;
};

static float *bump(gpointer data, gint64 n)
{
    float **next = data;
    float *p = *next;
    *next += n;
    return p;
}

AigcT2DecoderRun *aigc_t2_decoder_run_new(const AigcT2DecoderWeights *w, const float *memory,
                                          const float *pmem, int N, int E)
{
    AigcT2DecoderDims d;
    g_return_val_if_fail(aigc_t2_decoder_dims(w, 1, N, E, &d), NULL);
    AigcT2DecoderRun *run = g_new0(AigcT2DecoderRun, 1);
    run->d = d;
    run->w = raw_of(w);
    run->memory = memory;
    run->pmem = pmem;
    run->len = N;
    const gint64 S = 2, Ha = d.Ha, Hd = d.Hd;
    gint64 n = S * (4 * Ha * 2 + 2 * Ha + 4 * Hd + 2 * Hd + E + 2 * (gint64)N) + d.A +
               (gint64)N * (2 * d.K + d.F + d.A);
    run->block = g_new0(float, n);
    float *next = run->block;
    Seq *q = &run->q;
    q->S = 2;
    q->xp = bump(&next, S * 4 * Ha);
    q->ga = bump(&next, S * 4 * Ha);
    q->ca = bump(&next, S * Ha);
    q->ha = bump(&next, S * Ha);
    q->gd = bump(&next, S * 4 * Hd);
    q->cd = bump(&next, S * Hd);
    q->hd = bump(&next, S * Hd);
    q->ctx = bump(&next, S * E);
    q->alpha = bump(&next, S * N);
    q->cum = bump(&next, S * N);
    scratch_alloc(&run->sc, &d, bump, &next);
    g_assert(next - run->block == n);
    return run;
}

void aigc_t2_decoder_run_free(AigcT2DecoderRun *run)
{
    if (!run)
        return;
    g_free(run->block);
    g_free(run);
}

void aigc_t2_decoder_run_step(AigcT2DecoderRun *run, const float *prenet, int lo, int hi,
                              float *out, float *alpha)
{
    const AigcT2DecoderDims *d = &run->d;
    Seq *q = &run->q;
    const int cur = (int)(run->step % 2), prev = run->step == 0 ? -1 : 1 - cur;
    const int P = d->P, E = d->E, G = 4 * d->Ha;
    float *xp = SLOT(q, q->xp, G, 0, cur);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, G, P, 1.0f, run->w.att_w_ih, P + E, prenet, 1, 0.0f,
                xp, 1);
    for (int k = 0; k < G; k++)
        xp[k] += run->w.att_b_ih[k] + run->w.att_b_hh[k];
    int wlo[1] = {lo}, whi[1] = {hi};
    step_forward(d, &run->w, q, &run->sc, run->memory, run->pmem, &run->len, cur, prev, wlo, whi);
    memcpy(out, SLOT(q, q->hd, d->Hd, 0, cur), sizeof(float) * d->Hd);
    memcpy(out + d->Hd, SLOT(q, q->ctx, E, 0, cur), sizeof(float) * E);
    memcpy(alpha, SLOT(q, q->alpha, d->N, 0, cur), sizeof(float) * d->N);
    run->step++;
}
