/* SPDX-License-Identifier: MIT
 *
 * Recurrent layers: LSTM, GRU and tanh-RNN forward values against naive double-precision loops
 * (with and without initial states and biases, odd and vector-multiple hidden sizes),
 * finite-difference gradient checks of every op and output (out, h_n, c_n), cells stepped in a
 * chain as a decoder does, strided inputs, time reversal and a bidirectional composition,
 * thread-count independence, inference that records and saves nothing, and PyTorch goldens.
 * With -m perf, times an LSTM forward+backward at B=32, T=128, D=H=256.
 */
#include "aigc-test-support.h"
#include "nn/aigc-rnn.h"
#include "tensor/aigc-threads.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

typedef enum { KIND_LSTM, KIND_GRU, KIND_RNN } Kind;

/* One configuration: sizes, which optional inputs are present, sequence op or single cell. */
typedef struct {
    Kind kind;
    int B, T, D, H;
    gboolean h0, c0, bias, cell;
} Case;

enum { IN_X, IN_H0, IN_C0, IN_W_IH, IN_W_HH, IN_B_IH, IN_B_HH, N_IN };

static int gate_width(Kind kind, int H)
{
    return kind == KIND_LSTM ? 4 * H : kind == KIND_GRU ? 3 * H : H;
}

/* ---- naive references (double) ---- */

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* out [B, T, H], h_n and c_n [B, H] of one recurrence over x [B, T, D]. */
static void naive_rnn(Kind kind, float *out, float *h_n, float *c_n, const float *x,
                      const float *h0, const float *c0, const float *w_ih, const float *w_hh,
                      const float *b_ih, const float *b_hh, int B, int T, int D, int H)
{
    int G = gate_width(kind, H);
    double *h = g_new(double, H), *c = g_new(double, H), *hn = g_new(double, H);
    double *ax = g_new(double, G), *ah = g_new(double, G);
    for (int b = 0; b < B; b++) {
        for (int j = 0; j < H; j++) {
            h[j] = h0 ? h0[b * H + j] : 0.0;
            c[j] = c0 ? c0[b * H + j] : 0.0;
        }
        for (int t = 0; t < T; t++) {
            const float *xt = x + ((gint64)b * T + t) * D;
            for (int k = 0; k < G; k++) {
                ax[k] = b_ih ? b_ih[k] : 0.0;
                ah[k] = b_hh ? b_hh[k] : 0.0;
                for (int d = 0; d < D; d++)
                    ax[k] += (double)w_ih[k * D + d] * xt[d];
                for (int j = 0; j < H; j++)
                    ah[k] += (double)w_hh[k * H + j] * h[j];
            }
            for (int j = 0; j < H; j++) {
                if (kind == KIND_LSTM) {
                    double i = sigmoid(ax[j] + ah[j]), f = sigmoid(ax[H + j] + ah[H + j]);
                    double g = tanh(ax[2 * H + j] + ah[2 * H + j]);
                    double o = sigmoid(ax[3 * H + j] + ah[3 * H + j]);
                    c[j] = f * c[j] + i * g;
                    hn[j] = o * tanh(c[j]);
                } else if (kind == KIND_GRU) {
                    double r = sigmoid(ax[j] + ah[j]), z = sigmoid(ax[H + j] + ah[H + j]);
                    double n = tanh(ax[2 * H + j] + r * ah[2 * H + j]);
                    hn[j] = (1.0 - z) * n + z * h[j];
                } else {
                    hn[j] = tanh(ax[j] + ah[j]);
                }
            }
            for (int j = 0; j < H; j++) {
                h[j] = hn[j];
                out[((gint64)b * T + t) * H + j] = (float)h[j];
            }
        }
        for (int j = 0; j < H; j++) {
            if (h_n)
                h_n[b * H + j] = (float)h[j];
            if (c_n)
                c_n[b * H + j] = (float)c[j];
        }
    }
    g_free(h);
    g_free(c);
    g_free(hn);
    g_free(ax);
    g_free(ah);
}

/* ---- building and running cases ---- */

static void make_inputs(AigcRng *rng, const Case *c, AigcTensor **in)
{
    int G = gate_width(c->kind, c->H);
    if (c->cell)
        in[IN_X] = aigc_test_leaf(rng, 2, (gint64[]){c->B, c->D}, -1, 1, TRUE);
    else
        in[IN_X] = aigc_test_leaf(rng, 3, (gint64[]){c->B, c->T, c->D}, -1, 1, TRUE);
    in[IN_H0] = aigc_test_leaf(rng, 2, (gint64[]){c->B, c->H}, -1, 1, c->h0);
    in[IN_C0] =
        aigc_test_leaf(rng, 2, (gint64[]){c->B, c->H}, -1, 1, c->c0 && c->kind == KIND_LSTM);
    in[IN_W_IH] = aigc_test_leaf(rng, 2, (gint64[]){G, c->D}, -0.6f, 0.6f, TRUE);
    in[IN_W_HH] = aigc_test_leaf(rng, 2, (gint64[]){G, c->H}, -0.6f, 0.6f, TRUE);
    in[IN_B_IH] = aigc_test_leaf(rng, 1, (gint64[]){G}, -0.5f, 0.5f, c->bias);
    in[IN_B_HH] = aigc_test_leaf(rng, 1, (gint64[]){G}, -0.5f, 0.5f, c->bias);
}

static void free_inputs(AigcTensor **in, int n)
{
    for (int k = 0; k < n; k++)
        aigc_tensor_free_leaf(in[k]);
}

/* Runs the op of a case; h_n / c_n receive the extra outputs (NULL when the op has none). */
static AigcTensor *run_case(AigcCtx *ctx, AigcTensor *const *in, const Case *c, AigcTensor **h_n,
                            AigcTensor **c_n)
{
    AigcTensor *h0 = c->h0 ? in[IN_H0] : NULL, *c0 = c->c0 ? in[IN_C0] : NULL;
    AigcTensor *b_ih = c->bias ? in[IN_B_IH] : NULL, *b_hh = c->bias ? in[IN_B_HH] : NULL;
    AigcTensor *x = in[IN_X], *w_ih = in[IN_W_IH], *w_hh = in[IN_W_HH];
    *h_n = NULL;
    *c_n = NULL;
    switch (c->kind) {
    case KIND_LSTM:
        if (c->cell)
            return aigc_lstm_cell(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, c_n);
        return aigc_lstm(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, h_n, c_n);
    case KIND_GRU:
        if (c->cell)
            return aigc_gru_cell(ctx, x, h0, w_ih, w_hh, b_ih, b_hh);
        return aigc_gru(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, h_n);
    case KIND_RNN:
        return aigc_rnn_tanh(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, h_n);
    }
    g_assert_not_reached();
}

/* All given tensors flattened and joined, so one gradcheck covers every output. */
static AigcTensor *flat_concat(AigcCtx *ctx, int n, AigcTensor **ts)
{
    AigcTensor *flat[4];
    int m = 0;
    for (int k = 0; k < n; k++)
        if (ts[k])
            flat[m++] = aigc_reshape(ctx, ts[k], 1, (gint64[]){-1});
    return m == 1 ? flat[0] : aigc_concat(ctx, m, flat, 0);
}

static AigcTensor *case_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    AigcTensor *outs[3];
    outs[0] = run_case(ctx, in, data, &outs[1], &outs[2]);
    return flat_concat(ctx, 3, outs);
}

static void check_forward(const Case *c, guint64 seed)
{
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    AigcTensor *in[N_IN];
    make_inputs(&rng, c, in);
    gint64 n_out = (gint64)c->B * c->T * c->H, n_state = (gint64)c->B * c->H;
    float *want = g_new(float, n_out), *want_h = g_new(float, n_state);
    float *want_c = g_new(float, n_state);
    naive_rnn(c->kind, want, want_h, want_c, in[IN_X]->data, c->h0 ? in[IN_H0]->data : NULL,
              c->c0 ? in[IN_C0]->data : NULL, in[IN_W_IH]->data, in[IN_W_HH]->data,
              c->bias ? in[IN_B_IH]->data : NULL, c->bias ? in[IN_B_HH]->data : NULL, c->B, c->T,
              c->D, c->H);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *first[3] = {NULL};
    for (int mode = 0; mode < 2; mode++) {
        /* mode 0: inference (running cell state, nothing saved); mode 1: training */
        aigc_ctx_set_grad_enabled(ctx, mode == 1);
        AigcTensor *h_n, *c_n;
        AigcTensor *out = run_case(ctx, in, c, &h_n, &c_n);
        g_assert_cmpint(out->n_dims, ==, c->cell ? 2 : 3);
        g_assert_cmpint(out->n_elements, ==, n_out);
        aigc_test_assert_close(out->data, want, n_out, 1e-5, 1e-6, "out");
        if (!c->cell) {
            g_assert_nonnull(h_n);
            aigc_test_assert_close(h_n->data, want_h, n_state, 1e-5, 1e-6, "h_n");
        }
        g_assert_true((c_n != NULL) == (c->kind == KIND_LSTM));
        if (c_n)
            aigc_test_assert_close(c_n->data, want_c, n_state, 1e-5, 1e-6, "c_n");
        g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, mode == 0 ? 0 : 1);
        if (mode == 0) {
            first[0] = out;
            first[1] = h_n;
            first[2] = c_n;
        } else {
            /* Both modes run the same arithmetic. */
            g_assert_cmpmem(out->data, n_out * 4, first[0]->data, n_out * 4);
            if (c_n)
                g_assert_cmpmem(c_n->data, n_state * 4, first[2]->data, n_state * 4);
        }
    }
    g_free(want);
    g_free(want_h);
    g_free(want_c);
    free_inputs(in, N_IN);
}

static void check_gradcheck(const Case *c, guint64 seed)
{
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    AigcTensor *in[N_IN];
    make_inputs(&rng, c, in);
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(case_fn, N_IN, in, (gpointer)c, &p);
    free_inputs(in, N_IN);
}

/* ---- forward values ---- */

static void test_lstm_forward(void)
{
    const Case cases[] = {
        {KIND_LSTM, 3, 5, 5, 7, TRUE, TRUE, TRUE, FALSE},
        {KIND_LSTM, 2, 4, 3, 8, FALSE, FALSE, FALSE, FALSE},
        {KIND_LSTM, 1, 1, 6, 5, TRUE, FALSE, TRUE, FALSE},
        {KIND_LSTM, 4, 3, 9, 13, FALSE, TRUE, TRUE, FALSE},
        {KIND_LSTM, 3, 1, 5, 7, TRUE, TRUE, TRUE, TRUE},
        {KIND_LSTM, 2, 1, 4, 9, FALSE, FALSE, FALSE, TRUE},
    };
    for (guint k = 0; k < G_N_ELEMENTS(cases); k++)
        check_forward(&cases[k], 100 + k);
}

static void test_gru_forward(void)
{
    const Case cases[] = {
        {KIND_GRU, 3, 5, 5, 7, TRUE, FALSE, TRUE, FALSE},
        {KIND_GRU, 2, 4, 3, 8, FALSE, FALSE, FALSE, FALSE},
        {KIND_GRU, 1, 1, 6, 5, TRUE, FALSE, TRUE, FALSE},
        {KIND_GRU, 5, 3, 2, 11, FALSE, FALSE, TRUE, FALSE},
        {KIND_GRU, 3, 1, 5, 7, TRUE, FALSE, TRUE, TRUE},
        {KIND_GRU, 2, 1, 4, 6, FALSE, FALSE, FALSE, TRUE},
    };
    for (guint k = 0; k < G_N_ELEMENTS(cases); k++)
        check_forward(&cases[k], 200 + k);
}

static void test_rnn_tanh_forward(void)
{
    const Case cases[] = {
        {KIND_RNN, 3, 5, 5, 7, TRUE, FALSE, TRUE, FALSE},
        {KIND_RNN, 2, 4, 3, 8, FALSE, FALSE, FALSE, FALSE},
        {KIND_RNN, 1, 1, 6, 5, TRUE, FALSE, TRUE, FALSE},
        {KIND_RNN, 4, 6, 5, 3, FALSE, FALSE, TRUE, FALSE},
    };
    for (guint k = 0; k < G_N_ELEMENTS(cases); k++)
        check_forward(&cases[k], 300 + k);
}

/* ---- gradient checks ---- */

static void test_lstm_gradcheck(void)
{
    const Case cases[] = {
        {KIND_LSTM, 3, 5, 5, 7, TRUE, TRUE, TRUE, FALSE},
        {KIND_LSTM, 2, 4, 3, 5, FALSE, FALSE, FALSE, FALSE},
        {KIND_LSTM, 3, 1, 3, 5, TRUE, TRUE, TRUE, FALSE},  /* T = 1 */
        {KIND_LSTM, 1, 7, 3, 3, TRUE, FALSE, TRUE, FALSE}, /* B = 1, no c0 */
        {KIND_LSTM, 5, 3, 2, 9, FALSE, TRUE, TRUE, FALSE}, /* c0 without h0 */
    };
    for (guint k = 0; k < G_N_ELEMENTS(cases); k++)
        check_gradcheck(&cases[k], 400 + k);
}

static void test_gru_gradcheck(void)
{
    const Case cases[] = {
        {KIND_GRU, 3, 5, 5, 7, TRUE, FALSE, TRUE, FALSE},
        {KIND_GRU, 2, 4, 3, 5, FALSE, FALSE, FALSE, FALSE},
        {KIND_GRU, 3, 1, 3, 5, TRUE, FALSE, TRUE, FALSE},
        {KIND_GRU, 1, 7, 3, 3, TRUE, FALSE, TRUE, FALSE},
        {KIND_GRU, 5, 3, 2, 9, FALSE, FALSE, TRUE, FALSE},
    };
    for (guint k = 0; k < G_N_ELEMENTS(cases); k++)
        check_gradcheck(&cases[k], 500 + k);
}

static void test_rnn_tanh_gradcheck(void)
{
    const Case cases[] = {
        {KIND_RNN, 3, 5, 5, 7, TRUE, FALSE, TRUE, FALSE},
        {KIND_RNN, 2, 4, 3, 5, FALSE, FALSE, FALSE, FALSE},
        {KIND_RNN, 3, 1, 3, 5, TRUE, FALSE, TRUE, FALSE},
        {KIND_RNN, 1, 7, 3, 3, TRUE, FALSE, TRUE, FALSE},
    };
    for (guint k = 0; k < G_N_ELEMENTS(cases); k++)
        check_gradcheck(&cases[k], 600 + k);
}

static void test_lstm_cell_gradcheck(void)
{
    const Case cases[] = {
        {KIND_LSTM, 3, 1, 5, 7, TRUE, TRUE, TRUE, TRUE},
        {KIND_LSTM, 2, 1, 3, 5, FALSE, FALSE, FALSE, TRUE},
        {KIND_LSTM, 1, 1, 4, 3, TRUE, FALSE, TRUE, TRUE},
    };
    for (guint k = 0; k < G_N_ELEMENTS(cases); k++)
        check_gradcheck(&cases[k], 700 + k);
}

static void test_gru_cell_gradcheck(void)
{
    const Case cases[] = {
        {KIND_GRU, 3, 1, 5, 7, TRUE, FALSE, TRUE, TRUE},
        {KIND_GRU, 2, 1, 3, 5, FALSE, FALSE, FALSE, TRUE},
        {KIND_GRU, 1, 1, 4, 3, TRUE, FALSE, TRUE, TRUE},
    };
    for (guint k = 0; k < G_N_ELEMENTS(cases); k++)
        check_gradcheck(&cases[k], 800 + k);
}

/* Only one output carries a gradient (the others' grads stay NULL): c_n alone, h_n alone. */
typedef struct {
    Kind kind;
    int which; /* 1 = h_n, 2 = c_n */
} PartialCase;

static AigcTensor *partial_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const PartialCase *pc = data;
    AigcTensor *h_n, *c_n;
    if (pc->kind == KIND_LSTM)
        aigc_lstm(ctx, in[0], in[1], in[2], in[3], in[4], NULL, NULL, &h_n, &c_n);
    else
        aigc_gru(ctx, in[0], in[1], in[3], in[4], NULL, NULL, &h_n);
    return pc->which == 1 ? h_n : c_n;
}

static void test_partial_outputs(void)
{
    const PartialCase cases[] = {{KIND_LSTM, 1}, {KIND_LSTM, 2}, {KIND_GRU, 1}};
    for (guint k = 0; k < G_N_ELEMENTS(cases); k++) {
        Case c = {cases[k].kind, 3, 4, 3, 5, TRUE, TRUE, FALSE, FALSE};
        AigcRng rng;
        aigc_rng_init(&rng, 900 + k);
        AigcTensor *in[N_IN];
        make_inputs(&rng, &c, in);
        /* x needs no gradient here: only states and weights are checked. */
        in[IN_X]->requires_grad = FALSE;
        AigcGradcheckParams p = aigc_gradcheck_default_params();
        p.max_checks = 0;
        aigc_assert_gradcheck(partial_fn, 5, in, (gpointer)&cases[k], &p);
        free_inputs(in, N_IN);
    }
}

/* x given as a transposed view of a [T, B, D] leaf. */
static AigcTensor *strided_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    AigcTensor *x = aigc_transpose(ctx, in[0], 0, 1);
    AigcTensor *outs[3];
    outs[0] = aigc_lstm(ctx, x, in[1], in[2], in[3], in[4], in[5], in[6], &outs[1], &outs[2]);
    return flat_concat(ctx, 3, outs);
}

static void test_lstm_strided(void)
{
    Case c = {KIND_LSTM, 3, 4, 5, 7, TRUE, TRUE, TRUE, FALSE};
    AigcRng rng;
    aigc_rng_init(&rng, 31);
    AigcTensor *in[N_IN];
    make_inputs(&rng, &c, in);
    AigcTensor *x_tbd = aigc_test_leaf(&rng, 3, (gint64[]){c.T, c.B, c.D}, -1, 1, TRUE);
    AigcTensor *ins[N_IN] = {x_tbd, in[1], in[2], in[3], in[4], in[5], in[6]};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(strided_fn, N_IN, ins, NULL, &p);
    aigc_tensor_free_leaf(x_tbd);
    free_inputs(in, N_IN);
}

/* A decoder loop: T steps of a cell on slices of x [B, T, D], h and c carried between steps. */
typedef struct {
    Kind kind;
    int T;
} ChainCase;

static AigcTensor *chain_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    const ChainCase *cc = data;
    AigcTensor *x = in[0], *h = in[1], *c = in[2];
    gint64 B = x->shape[0], D = x->shape[2];
    for (int t = 0; t < cc->T; t++) {
        AigcTensor *xt = aigc_reshape(ctx, aigc_slice(ctx, x, 1, t, t + 1), 2, (gint64[]){B, D});
        if (cc->kind == KIND_LSTM)
            h = aigc_lstm_cell(ctx, xt, h, c, in[3], in[4], in[5], in[6], &c);
        else
            h = aigc_gru_cell(ctx, xt, h, in[3], in[4], in[5], in[6]);
    }
    AigcTensor *outs[2] = {h, cc->kind == KIND_LSTM ? c : NULL};
    return flat_concat(ctx, 2, outs);
}

static void test_cell_chain(void)
{
    for (Kind kind = KIND_LSTM; kind <= KIND_GRU; kind++) {
        Case c = {kind, 3, 4, 5, 7, TRUE, TRUE, TRUE, FALSE};
        ChainCase cc = {kind, c.T};
        AigcRng rng;
        aigc_rng_init(&rng, 41 + kind);
        AigcTensor *in[N_IN];
        make_inputs(&rng, &c, in);
        AigcGradcheckParams p = aigc_gradcheck_default_params();
        p.max_checks = 0;
        aigc_assert_gradcheck(chain_fn, N_IN, in, &cc, &p);

        /* The chain computes what the sequence op does. */
        g_autoptr(AigcCtx) ctx = aigc_ctx_new();
        AigcTensor *seq_h, *seq_c = NULL;
        if (kind == KIND_LSTM)
            aigc_lstm(ctx, in[0], in[1], in[2], in[3], in[4], in[5], in[6], &seq_h, &seq_c);
        else
            aigc_gru(ctx, in[0], in[1], in[3], in[4], in[5], in[6], &seq_h);
        AigcTensor *chained = chain_fn(ctx, in, &cc);
        gint64 n = (gint64)c.B * c.H;
        aigc_test_assert_close(chained->data, seq_h->data, n, 1e-5, 1e-6, "chained h");
        if (seq_c)
            aigc_test_assert_close(chained->data + n, seq_c->data, n, 1e-5, 1e-6, "chained c");
        free_inputs(in, N_IN);
    }
}

/* ---- time reversal and bidirectional composition ---- */

static AigcTensor *reverse_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    /* Reversing a strided view, then a second reversal of a slice. */
    AigcTensor *r = aigc_reverse_time(ctx, aigc_transpose(ctx, in[0], 0, 1));
    return aigc_reverse_time(ctx, aigc_slice(ctx, r, 1, 1, 4));
}

static void test_reverse_time(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    float v[2 * 3 * 2];
    for (int i = 0; i < 12; i++)
        v[i] = (float)i;
    AigcTensor *x = aigc_tensor_from_data(ctx, 3, (gint64[]){2, 3, 2}, v);
    AigcTensor *y = aigc_reverse_time(ctx, x);
    const float want[12] = {4, 5, 2, 3, 0, 1, 10, 11, 8, 9, 6, 7};
    g_assert_cmpmem(y->data, sizeof want, want, sizeof want);

    AigcRng rng;
    aigc_rng_init(&rng, 51);
    AigcTensor *leaf = aigc_test_leaf(&rng, 3, (gint64[]){5, 3, 7}, -1, 1, TRUE); /* [T, B, C] */
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(reverse_fn, 1, &leaf, NULL, &p);
    aigc_tensor_free_leaf(leaf);
}

/* concat(lstm_fwd(x), reverse(lstm_bwd(reverse(x)))) along features, as the header documents. */
static AigcTensor *bidir(AigcCtx *ctx, AigcTensor *const *in)
{
    AigcTensor *fwd = aigc_lstm(ctx, in[0], NULL, NULL, in[1], in[2], in[3], in[4], NULL, NULL);
    AigcTensor *back = aigc_lstm(ctx, aigc_reverse_time(ctx, in[0]), NULL, NULL, in[5], in[6], NULL,
                                 NULL, NULL, NULL);
    AigcTensor *halves[2] = {fwd, aigc_reverse_time(ctx, back)};
    return aigc_concat(ctx, 2, halves, 2);
}

static AigcTensor *bidir_fn(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    return bidir(ctx, in);
}

static void test_bidirectional(void)
{
    const int B = 2, T = 5, D = 3, H = 5;
    Case c = {KIND_LSTM, B, T, D, H, FALSE, FALSE, TRUE, FALSE};
    AigcRng rng;
    aigc_rng_init(&rng, 61);
    AigcTensor *in[N_IN];
    make_inputs(&rng, &c, in);
    AigcTensor *w_ih_r = aigc_test_leaf(&rng, 2, (gint64[]){4 * H, D}, -0.6f, 0.6f, TRUE);
    AigcTensor *w_hh_r = aigc_test_leaf(&rng, 2, (gint64[]){4 * H, H}, -0.6f, 0.6f, TRUE);
    AigcTensor *ins[7] = {in[IN_X],    in[IN_W_IH], in[IN_W_HH], in[IN_B_IH],
                          in[IN_B_HH], w_ih_r,      w_hh_r};
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(bidir_fn, 7, ins, NULL, &p);

    /* The backward half at step t is the reverse-direction LSTM having read x[T-1] … x[t]. */
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *y = bidir(ctx, ins); /* [B, T, 2H] */
    gsize n_x = (gsize)B * T * D, n_out = (gsize)B * T * H;
    float *xr = g_new(float, n_x), *want = g_new(float, n_out);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(xr + (b * T + t) * D, in[IN_X]->data + (b * T + T - 1 - t) * D, D * 4);
    naive_rnn(KIND_LSTM, want, NULL, NULL, xr, NULL, NULL, w_ih_r->data, w_hh_r->data, NULL, NULL,
              B, T, D, H);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            aigc_test_assert_close(y->data + (b * T + t) * 2 * H + H,
                                   want + (b * T + T - 1 - t) * H, H, 1e-5, 1e-6, "backward half");
    g_free(xr);
    g_free(want);
    aigc_tensor_free_leaf(w_ih_r);
    aigc_tensor_free_leaf(w_hh_r);
    free_inputs(in, N_IN);
}

/* ---- threads and inference ---- */

/* Large enough that the step passes and bias sums split across two threads. */
static void run_threads_case(Kind kind, int n_threads, float **results, gint64 *n_results)
{
    Case c = {kind, 180, 3, 4, 96, TRUE, TRUE, TRUE, FALSE};
    aigc_threads_init(n_threads);
    /* BLAS keeps one thread: OpenBLAS blocks K differently in its threaded driver, so its sums
     * change with the thread count; what is checked here is the engine's own row passes. */
    openblas_set_num_threads(1);
    AigcRng rng;
    aigc_rng_init(&rng, 71);
    AigcTensor *in[N_IN];
    make_inputs(&rng, &c, in);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *out = case_fn(ctx, in, &c);
    float *dout = g_new(float, out->n_elements);
    aigc_rng_fill_normal(&rng, dout, out->n_elements, 0, 1);
    aigc_ctx_backward_from(ctx, out, dout);
    g_free(dout);
    gint64 n = out->n_elements;
    for (int k = 0; k < N_IN; k++)
        if (in[k]->grad)
            n += in[k]->n_elements;
    float *r = g_new(float, n), *p = r;
    memcpy(p, out->data, out->n_elements * 4);
    p += out->n_elements;
    for (int k = 0; k < N_IN; k++)
        if (in[k]->grad) {
            memcpy(p, in[k]->grad, in[k]->n_elements * 4);
            p += in[k]->n_elements;
        }
    *results = r;
    *n_results = n;
    free_inputs(in, N_IN);
}

static void test_threads(void)
{
    for (Kind kind = KIND_LSTM; kind <= KIND_RNN; kind++) {
        float *one, *two;
        gint64 n1, n2;
        run_threads_case(kind, 1, &one, &n1);
        run_threads_case(kind, 2, &two, &n2);
        g_assert_cmpint(n1, ==, n2);
        g_assert_cmpmem(one, n1 * 4, two, n2 * 4);
        g_free(one);
        g_free(two);
    }
    aigc_threads_init(2);
}

static void test_inference_saves_nothing(void)
{
    const int B = 4, T = 9, D = 5, H = 16;
    Case c = {KIND_LSTM, B, T, D, H, TRUE, TRUE, TRUE, FALSE};
    AigcRng rng;
    aigc_rng_init(&rng, 81);
    AigcTensor *in[N_IN];
    make_inputs(&rng, &c, in);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcArena *arena = aigc_ctx_get_arena(ctx);
    gsize used[2];
    for (int mode = 0; mode < 2; mode++) {
        aigc_ctx_reset(ctx);
        aigc_ctx_set_grad_enabled(ctx, mode == 1);
        AigcTensor *h_n, *c_n;
        run_case(ctx, in, &c, &h_n, &c_n);
        g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, mode);
        used[mode] = aigc_arena_get_used(arena);
    }
    /* Training keeps every c_t [B, T, H] for the backward; inference does not. */
    g_assert_cmpuint(used[1], >=, used[0] + (gsize)B * T * H * sizeof(float));
    free_inputs(in, N_IN);
}

/* Mismatched shapes are programmer errors: a critical and NULL, nothing recorded. */
static void test_bad_shapes(void)
{
    Case c = {KIND_LSTM, 2, 3, 4, 5, TRUE, TRUE, TRUE, FALSE};
    AigcRng rng;
    aigc_rng_init(&rng, 95);
    AigcTensor *in[N_IN];
    make_inputs(&rng, &c, in);
    AigcTensor *h_wrong = aigc_test_leaf(&rng, 2, (gint64[]){3, 5}, -1, 1, FALSE);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *h_n = NULL;

    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*has_shape2*");
    g_assert_null(
        aigc_lstm(ctx, in[IN_X], h_wrong, NULL, in[IN_W_IH], in[IN_W_HH], NULL, NULL, &h_n, NULL));
    g_test_assert_expected_messages();
    /* A GRU given LSTM weights: w_hh [4H, H] is not [3H, H]. */
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*n_gates*");
    g_assert_null(aigc_gru(ctx, in[IN_X], NULL, in[IN_W_IH], in[IN_W_HH], NULL, NULL, &h_n));
    g_test_assert_expected_messages();
    /* A cell given a sequence. */
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*n_dims*");
    g_assert_null(
        aigc_lstm_cell(ctx, in[IN_X], NULL, NULL, in[IN_W_IH], in[IN_W_HH], NULL, NULL, NULL));
    g_test_assert_expected_messages();
    g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, 0);
    aigc_tensor_free_leaf(h_wrong);
    free_inputs(in, N_IN);
}

/* ---- PyTorch goldens ---- */

/* Loads the named inputs (absent names stay NULL), runs the op, checks outputs and gradients. */
static void check_golden(const char *file, Kind kind, gboolean cell)
{
    g_autoptr(AigcSafetensors) st = aigc_test_open_golden(file);
    char name[64];
#define GOLDEN(n) (g_snprintf(name, sizeof name, "%s%s", cell ? "cell." : "", n), name)
    const char *in_names[N_IN] = {
        "x", cell ? "h" : "h0", cell ? "c" : "c0", "w_ih", "w_hh", "b_ih", "b_hh"};
    const char *grad_names[N_IN] = {
        "dx", cell ? "dh" : "dh0", cell ? "dc" : "dc0", "dw_ih", "dw_hh", "db_ih", "db_hh"};
    AigcTensor *in[N_IN] = {NULL};
    for (int k = 0; k < N_IN; k++) {
        /* The cell shares the sequence's weights, stored once without the prefix. */
        const char *n = k >= IN_W_IH ? in_names[k] : GOLDEN(in_names[k]);
        if (kind == KIND_GRU && k == IN_C0)
            continue;
        in[k] = aigc_test_golden_leaf(st, n, TRUE);
    }
    Case c = {.kind = kind,
              .B = (int)in[IN_X]->shape[0],
              .T = cell ? 1 : (int)in[IN_X]->shape[1],
              .h0 = TRUE,
              .c0 = kind == KIND_LSTM,
              .bias = TRUE,
              .cell = cell};
    AigcTensor *dummy_c0 = NULL;
    if (!in[IN_C0])
        in[IN_C0] = dummy_c0 = aigc_tensor_new_leaf(1, (gint64[]){1}, FALSE);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    AigcTensor *h_n, *c_n;
    AigcTensor *out = run_case(ctx, in, &c, &h_n, &c_n);
    gint64 n;
    const float *want = aigc_test_golden_data(st, GOLDEN(cell ? "h_out" : "out"), &n);
    g_assert_cmpint(n, ==, out->n_elements);
    aigc_test_assert_close(out->data, want, n, 1e-4, 1e-5, name);
    /* Upstream gradients for the extra outputs go straight into their grad buffers. */
    AigcTensor *extra[2] = {h_n, c_n};
    const char *extra_names[2][2] = {{"h_n", "dh_n"},
                                     {cell ? "c_out" : "c_n", cell ? "dc_out" : "dc_n"}};
    for (int e = 0; e < 2; e++) {
        if (!extra[e])
            continue;
        want = aigc_test_golden_data(st, GOLDEN(extra_names[e][0]), &n);
        g_assert_cmpint(n, ==, extra[e]->n_elements);
        aigc_test_assert_close(extra[e]->data, want, n, 1e-4, 1e-5, name);
        const float *up = aigc_test_golden_data(st, GOLDEN(extra_names[e][1]), &n);
        memcpy(aigc_grad(ctx, extra[e]), up, (gsize)n * sizeof(float));
    }
    const float *dout = aigc_test_golden_data(st, GOLDEN(cell ? "dh_out" : "dout"), &n);
    aigc_ctx_backward_from(ctx, out, dout);
    for (int k = 0; k < N_IN; k++) {
        if (in[k] == dummy_c0)
            continue;
        want = aigc_test_golden_data(st, GOLDEN(grad_names[k]), &n);
        g_assert_cmpint(n, ==, in[k]->n_elements);
        aigc_test_assert_close(in[k]->grad, want, n, 1e-4, 1e-5, name);
    }
#undef GOLDEN
    free_inputs(in, N_IN);
}

static void test_lstm_golden(void)
{
    check_golden("lstm", KIND_LSTM, FALSE);
}

static void test_lstm_cell_golden(void)
{
    check_golden("lstm", KIND_LSTM, TRUE);
}

static void test_gru_golden(void)
{
    check_golden("gru", KIND_GRU, FALSE);
}

static void test_gru_cell_golden(void)
{
    check_golden("gru", KIND_GRU, TRUE);
}

/* ---- performance (-m perf) ---- */

static void bench_kind(Kind kind, int n_layers)
{
    const int B = 32, T = 128, D = 256, H = 256, n_rounds = 5;
    AigcRng rng;
    aigc_rng_init(&rng, 91);
    Case c = {kind, B, T, D, H, FALSE, FALSE, TRUE, FALSE};
    AigcTensor *layers[2][N_IN];
    for (int l = 0; l < n_layers; l++)
        make_inputs(&rng, &c, layers[l]);
    gsize n_out = (gsize)B * T * H;
    float *dout = g_new(float, n_out);
    aigc_rng_fill_normal(&rng, dout, (gint64)B * T * H, 0, 1);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    double best_fwd = G_MAXDOUBLE, best_total = G_MAXDOUBLE;
    for (int round = 0; round < n_rounds; round++) {
        aigc_ctx_reset(ctx);
        gint64 t0 = g_get_monotonic_time();
        AigcTensor *h = layers[0][IN_X], *h_n, *c_n;
        for (int l = 0; l < n_layers; l++) {
            AigcTensor *in[N_IN];
            memcpy(in, layers[l], sizeof in);
            in[IN_X] = h;
            h = run_case(ctx, in, &c, &h_n, &c_n);
        }
        gint64 t1 = g_get_monotonic_time();
        aigc_ctx_backward_from(ctx, h, dout);
        gint64 t2 = g_get_monotonic_time();
        best_fwd = MIN(best_fwd, (t1 - t0) / 1000.0);
        best_total = MIN(best_total, (t2 - t0) / 1000.0);
    }
    const char *names[] = {"lstm", "gru", "rnn_tanh"};
    g_test_message("%s x %d layers B=%d T=%d D=H=%d, %d threads: forward %.1f ms, "
                   "forward+backward %.1f ms (best of %d)",
                   names[kind], n_layers, B, T, H, aigc_threads_get(), best_fwd, best_total,
                   n_rounds);
    g_test_minimized_result(best_total, "%s x%d forward+backward %.1f ms", names[kind], n_layers,
                            best_total);
    g_free(dout);
    for (int l = 0; l < n_layers; l++)
        free_inputs(layers[l], N_IN);
}

static void test_bench(void)
{
    bench_kind(KIND_LSTM, 1);
    bench_kind(KIND_LSTM, 2);
    bench_kind(KIND_GRU, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/nn/rnn/lstm/forward", test_lstm_forward);
    g_test_add_func("/engine/nn/rnn/gru/forward", test_gru_forward);
    g_test_add_func("/engine/nn/rnn/rnn-tanh/forward", test_rnn_tanh_forward);
    g_test_add_func("/engine/nn/rnn/lstm/gradcheck", test_lstm_gradcheck);
    g_test_add_func("/engine/nn/rnn/gru/gradcheck", test_gru_gradcheck);
    g_test_add_func("/engine/nn/rnn/rnn-tanh/gradcheck", test_rnn_tanh_gradcheck);
    g_test_add_func("/engine/nn/rnn/lstm-cell/gradcheck", test_lstm_cell_gradcheck);
    g_test_add_func("/engine/nn/rnn/gru-cell/gradcheck", test_gru_cell_gradcheck);
    g_test_add_func("/engine/nn/rnn/partial-outputs/gradcheck", test_partial_outputs);
    g_test_add_func("/engine/nn/rnn/lstm/strided", test_lstm_strided);
    g_test_add_func("/engine/nn/rnn/cells/chain", test_cell_chain);
    g_test_add_func("/engine/nn/rnn/reverse-time", test_reverse_time);
    g_test_add_func("/engine/nn/rnn/bidirectional", test_bidirectional);
    g_test_add_func("/engine/nn/rnn/threads", test_threads);
    g_test_add_func("/engine/nn/rnn/inference-saves-nothing", test_inference_saves_nothing);
    g_test_add_func("/engine/nn/rnn/bad-shapes", test_bad_shapes);
    g_test_add_func("/engine/nn/rnn/lstm/golden", test_lstm_golden);
    g_test_add_func("/engine/nn/rnn/lstm-cell/golden", test_lstm_cell_golden);
    g_test_add_func("/engine/nn/rnn/gru/golden", test_gru_golden);
    g_test_add_func("/engine/nn/rnn/gru-cell/golden", test_gru_cell_golden);
    if (g_test_perf())
        g_test_add_func("/engine/nn/rnn/bench", test_bench);
    return g_test_run();
}
