/* SPDX-License-Identifier: MIT
 *
 * The NeRF field: hash grid → density MLP → (+ SH of the view) → colour MLP, with hand-written
 * forward and backward passes (no tape).
 *
 * Legend: n samples, E = L·F encoding width, Hd / Hc hidden widths, G = 16 geometry outputs,
 * S = 16 SH coefficients. Layers are nn.Linear-shaped, W (out, in), y = x·Wᵀ + b.
 *
 * DESIGN: the batch is cut into chunks of CHUNK samples, and a chunk goes through a whole stage
 * (encoding and density MLP; colour MLP; the backward pass) before the next, so its activations
 * stay in the core's cache. Each layer of a chunk is one single-threaded OpenBLAS GEMM, which
 * picks the widest SIMD kernel at run time (the build itself targets baseline x86-64), followed
 * by a fused bias + activation loop. The forward stages split chunks over the threads; the
 * backward pass gives each of n_slots work slots every n_slots-th chunk and its own copy of
 * the MLP weight gradients, summed in slot order at the end (so no two threads add to the same
 * numbers, and a thread budget always gives the same bits), then runs the hash-grid scatter
 * over levels. For a layer y = act(x·Wᵀ + b): dz = dy ⊙ act′, dW += dzᵀ·x, db += Σ dz,
 * dx = dz·W.
 */
#include "aigc-nerf-field.h"

#include "aigc-error.h"
#include "tensor/aigc-blas.h"
#include "tensor/aigc-rng.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

#define CHUNK 128 /* rows per work item: a chunk's activations stay in the core's cache */

AigcNerfFieldConfig aigc_nerf_field_default_config(void)
{
    return (AigcNerfFieldConfig){
        .grid = aigc_hashgrid_default_config(), .density_hidden = 64, .colour_hidden = 64};
}

static void bind(AigcParams *grid_params, AigcParams *mlp_params, gboolean grads,
                 AigcNerfWeights *w)
{
#define P(params, name)                                                                            \
    (grads ? aigc_params_find(params, name)->grad : aigc_params_find(params, name)->data)
    w->table = P(grid_params, "encoding.table");
    w->d_w1 = P(mlp_params, "density.0.weight");
    w->d_b1 = P(mlp_params, "density.0.bias");
    w->d_w2 = P(mlp_params, "density.1.weight");
    w->d_b2 = P(mlp_params, "density.1.bias");
    w->c_w1 = P(mlp_params, "colour.0.weight");
    w->c_b1 = P(mlp_params, "colour.0.bias");
    w->c_w2 = P(mlp_params, "colour.1.weight");
    w->c_b2 = P(mlp_params, "colour.1.bias");
    w->c_w3 = P(mlp_params, "colour.2.weight");
    w->c_b3 = P(mlp_params, "colour.2.bias");
#undef P
}

static void add_linear(AigcParams *params, const char *name, int n_out, int n_in)
{
    g_autofree char *wname = g_strdup_printf("%s.weight", name);
    g_autofree char *bname = g_strdup_printf("%s.bias", name);
    gint64 wshape[2] = {n_out, n_in}, bshape[1] = {n_out};
    aigc_params_add(params, wname, 2, wshape);
    aigc_params_add(params, bname, 1, bshape);
}

AigcNerfField *aigc_nerf_field_new(const AigcNerfFieldConfig *config, GError **error)
{
    AigcHashgrid grid;
    if (!aigc_hashgrid_init(&grid, &config->grid, error))
        return NULL;
    if (config->density_hidden < 1 || config->density_hidden > AIGC_NERF_MAX_HIDDEN ||
        config->colour_hidden < 1 || config->colour_hidden > AIGC_NERF_MAX_HIDDEN) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "NeRF field: hidden widths must be 1–%d (got %d and %d)", AIGC_NERF_MAX_HIDDEN,
                    config->density_hidden, config->colour_hidden);
        return NULL;
    }
    AigcNerfField *field = g_new0(AigcNerfField, 1);
    field->config = *config;
    field->grid = grid;
    field->grid_params = aigc_params_new();
    gint64 tshape[2] = {grid.n_entries, config->grid.n_features};
    aigc_params_add(field->grid_params, "encoding.table", 2, tshape);
    aigc_params_allocate(field->grid_params);
    field->mlp_params = aigc_params_new();
    int E = aigc_hashgrid_n_outputs(&grid), Hd = config->density_hidden, Hc = config->colour_hidden;
    add_linear(field->mlp_params, "density.0", Hd, E);
    add_linear(field->mlp_params, "density.1", AIGC_NERF_GEO_DIM, Hd);
    add_linear(field->mlp_params, "colour.0", Hc, AIGC_NERF_COLOUR_IN);
    add_linear(field->mlp_params, "colour.1", Hc, Hc);
    add_linear(field->mlp_params, "colour.2", 3, Hc);
    aigc_params_allocate(field->mlp_params);
    bind(field->grid_params, field->mlp_params, FALSE, &field->w);
    bind(field->grid_params, field->mlp_params, TRUE, &field->g);
    return field;
}

void aigc_nerf_field_free(AigcNerfField *field)
{
    if (!field)
        return;
    aigc_params_free(field->grid_params);
    aigc_params_free(field->mlp_params);
    g_free(field);
}

void aigc_nerf_field_init_weights(AigcNerfField *field, guint64 seed)
{
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    AigcTensor *table = aigc_params_find(field->grid_params, "encoding.table");
    aigc_rng_fill_uniform(&rng, table->data, field->grid.n_entries * field->config.grid.n_features,
                          -1e-4f, 1e-4f);
    for (guint i = 0; i < aigc_params_get_n(field->mlp_params); i++) {
        AigcTensor *t = aigc_params_get(field->mlp_params, i);
        gint64 n = t->n_elements;
        if (t->n_dims == 2) {
            float bound = sqrtf(6.0f / (float)(t->shape[0] + t->shape[1]));
            aigc_rng_fill_uniform(&rng, t->data, n, -bound, bound);
        } else {
            memset(t->data, 0, sizeof(float) * n);
        }
    }
}

/* ---- batches ---- */

/* Per-slot scratch of the backward pass, in floats: d_h3, d_h2 (CHUNK × Hc each), d_geo
 * (CHUNK × 16), d_h1 (CHUNK × Hd), d_logit (CHUNK × 3). */
static gsize slot_work_floats(const AigcNerfBatch *b)
{
    return (gsize)CHUNK * (2 * b->Hc + AIGC_NERF_GEO_DIM + b->Hd + 3);
}

AigcNerfBatch *aigc_nerf_batch_new(const AigcNerfField *field, gint64 capacity, gboolean training)
{
    AigcNerfBatch *b = g_new0(AigcNerfBatch, 1);
    b->capacity = capacity;
    b->E = aigc_hashgrid_n_outputs(&field->grid);
    b->Hd = field->config.density_hidden;
    b->Hc = field->config.colour_hidden;
    gsize n = (gsize)capacity;
    b->x = g_new(float, n * 3);
    b->dir = g_new(float, n * 3);
    b->enc = g_new(float, n * b->E);
    b->h1 = g_new(float, n * b->Hd);
    b->geo = g_new(float, n *AIGC_NERF_GEO_DIM);
    b->sigma = g_new(float, n);
    b->cin = g_new(float, n *AIGC_NERF_COLOUR_IN);
    b->h2 = g_new(float, n * b->Hc);
    b->h3 = g_new(float, n * b->Hc);
    b->rgb = g_new(float, n * 3);
    if (training) {
        b->d_enc = g_new(float, n * b->E);
        b->n_slots = aigc_threads_get();
        b->n_mlp = aigc_params_get_n_elements(field->mlp_params);
        b->slot_work = g_new(float, b->n_slots *slot_work_floats(b));
        b->slot_grads = g_new(float, b->n_slots * b->n_mlp);
    }
    return b;
}

void aigc_nerf_batch_free(AigcNerfBatch *b)
{
    if (!b)
        return;
    g_free(b->x);
    g_free(b->dir);
    g_free(b->enc);
    g_free(b->h1);
    g_free(b->geo);
    g_free(b->sigma);
    g_free(b->cin);
    g_free(b->h2);
    g_free(b->h3);
    g_free(b->rgb);
    g_free(b->d_enc);
    g_free(b->slot_work);
    g_free(b->slot_grads);
    g_free(b);
}

void aigc_nerf_batch_compact(AigcNerfBatch *b, const gint64 *keep, gint64 n_keep)
{
    /* keep[] increases, so keep[i] ≥ i: copying forwards never overwrites a row still needed. */
    for (gint64 i = 0; i < n_keep; i++) {
        gint64 k = keep[i];
        if (k == i)
            continue;
        memcpy(b->x + 3 * i, b->x + 3 * k, 3 * sizeof(float));
        memcpy(b->dir + 3 * i, b->dir + 3 * k, 3 * sizeof(float));
        memcpy(b->enc + i * b->E, b->enc + k * b->E, b->E * sizeof(float));
        memcpy(b->h1 + i * b->Hd, b->h1 + k * b->Hd, b->Hd * sizeof(float));
        memcpy(b->geo + i * AIGC_NERF_GEO_DIM, b->geo + k * AIGC_NERF_GEO_DIM,
               AIGC_NERF_GEO_DIM * sizeof(float));
        b->sigma[i] = b->sigma[k];
    }
}

/* ---- spherical harmonics ---- */

void aigc_nerf_sh_encode(gint64 n, const float *dir, float *out, int ld)
{
    /* Real spherical harmonics, degrees 0–3, in the usual (l, m) order. */
    for (gint64 i = 0; i < n; i++) {
        float x = dir[3 * i], y = dir[3 * i + 1], z = dir[3 * i + 2];
        float xx = x * x, yy = y * y, zz = z * z;
        float *o = out + i * ld;
        o[0] = 0.28209479177387814f;
        o[1] = -0.48860251190291987f * y;
        o[2] = 0.48860251190291987f * z;
        o[3] = -0.48860251190291987f * x;
        o[4] = 1.0925484305920792f * x * y;
        o[5] = -1.0925484305920792f * y * z;
        o[6] = 0.94617469575755997f * zz - 0.31539156525251999f;
        o[7] = -1.0925484305920792f * x * z;
        o[8] = 0.54627421529603959f * (xx - yy);
        o[9] = 0.59004358992664352f * y * (-3.0f * xx + yy);
        o[10] = 2.8906114426405538f * x * y * z;
        o[11] = 0.45704579946446572f * y * (1.0f - 5.0f * zz);
        o[12] = 0.3731763325901154f * z * (5.0f * zz - 3.0f);
        o[13] = 0.45704579946446572f * x * (1.0f - 5.0f * zz);
        o[14] = 1.4453057213202769f * z * (xx - yy);
        o[15] = 0.59004358992664352f * x * (-xx + 3.0f * yy);
    }
}

/* ---- layers on one chunk of rows ---- */

/* y (m, out) = x (m, in; row stride ldx) · Wᵀ + b, then ReLU when `relu`. */
static void dense(int m, int n_in, int n_out, const float *x, int ldx, const float *w,
                  const float *b, float *y, gboolean relu)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n_out, n_in, 1.0f, x, ldx, w, n_in,
                0.0f, y, n_out);
    for (int i = 0; i < m; i++) {
        float *row = y + (gsize)i * n_out;
        if (relu)
            for (int j = 0; j < n_out; j++) {
                float v = row[j] + b[j];
                row[j] = v > 0.0f ? v : 0.0f;
            }
        else
            for (int j = 0; j < n_out; j++)
                row[j] += b[j];
    }
}

/* Given dz (m, out) = ∂L/∂(x·Wᵀ + b): dW += dzᵀ·x, db += Σ_rows dz, and, when dx is not NULL,
 * dx (m, n_dx) = dz · W[:, :n_dx]. */
static void dense_backward(int m, int n_in, int n_out, const float *x, int ldx, const float *w,
                           const float *dz, float *dw, float *db, float *dx, int n_dx)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, m, 1.0f, dz, n_out, x, ldx,
                1.0f, dw, n_in);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n_out; j++)
            db[j] += dz[(gsize)i * n_out + j];
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n_dx, n_out, 1.0f, dz, n_out, w,
                    n_in, 0.0f, dx, n_dx);
}

/* dz ⊙= [y > 0] for the ReLU outputs y (m, width). */
static void relu_backward(int m, int width, float *dz, const float *y)
{
    for (gsize i = 0; i < (gsize)m * width; i++)
        if (y[i] <= 0.0f)
            dz[i] = 0.0f;
}

/* ---- stages ---- */

typedef struct {
    const AigcNerfField *field;
    AigcNerfBatch *b;
    gint64 n;
    float *d_rgb;
    const float *d_sigma;
    int n_slots; /* backward: chunk c belongs to slot c mod n_slots */
} Stage;

static void density_chunks(gint64 begin, gint64 end, gpointer data)
{
    const Stage *st = data;
    const AigcNerfField *f = st->field;
    AigcNerfBatch *b = st->b;
    for (gint64 c = begin; c < end; c++) {
        gint64 i0 = c * CHUNK;
        int m = (int)MIN((gint64)CHUNK, st->n - i0);
        float *enc = b->enc + i0 * b->E, *h1 = b->h1 + i0 * b->Hd,
              *geo = b->geo + i0 * AIGC_NERF_GEO_DIM;
        aigc_hashgrid_encode(&f->grid, f->w.table, m, b->x + 3 * i0, enc);
        dense(m, b->E, b->Hd, enc, b->E, f->w.d_w1, f->w.d_b1, h1, TRUE);
        dense(m, b->Hd, AIGC_NERF_GEO_DIM, h1, b->Hd, f->w.d_w2, f->w.d_b2, geo, FALSE);
        for (int i = 0; i < m; i++)
            b->sigma[i0 + i] =
                expf(MIN(geo[(gsize)i * AIGC_NERF_GEO_DIM], AIGC_NERF_LOG_DENSITY_MAX));
    }
}

void aigc_nerf_field_density(const AigcNerfField *field, AigcNerfBatch *b, gint64 n)
{
    g_return_if_fail(n <= b->capacity);
    Stage st = {field, b, n, NULL, NULL, 0};
    aigc_parallel_for((n + CHUNK - 1) / CHUNK, 1, density_chunks, &st);
}

static void colour_chunks(gint64 begin, gint64 end, gpointer data)
{
    const Stage *st = data;
    const AigcNerfField *f = st->field;
    AigcNerfBatch *b = st->b;
    for (gint64 c = begin; c < end; c++) {
        gint64 i0 = c * CHUNK;
        int m = (int)MIN((gint64)CHUNK, st->n - i0);
        float *cin = b->cin + i0 * AIGC_NERF_COLOUR_IN, *h2 = b->h2 + i0 * b->Hc,
              *h3 = b->h3 + i0 * b->Hc, *rgb = b->rgb + 3 * i0;
        for (int i = 0; i < m; i++)
            memcpy(cin + (gsize)i * AIGC_NERF_COLOUR_IN, b->geo + (i0 + i) * AIGC_NERF_GEO_DIM,
                   AIGC_NERF_GEO_DIM * sizeof(float));
        aigc_nerf_sh_encode(m, b->dir + 3 * i0, cin + AIGC_NERF_GEO_DIM, AIGC_NERF_COLOUR_IN);
        dense(m, AIGC_NERF_COLOUR_IN, b->Hc, cin, AIGC_NERF_COLOUR_IN, f->w.c_w1, f->w.c_b1, h2,
              TRUE);
        dense(m, b->Hc, b->Hc, h2, b->Hc, f->w.c_w2, f->w.c_b2, h3, TRUE);
        dense(m, b->Hc, 3, h3, b->Hc, f->w.c_w3, f->w.c_b3, rgb, FALSE);
        for (int i = 0; i < 3 * m; i++)
            rgb[i] = 1.0f / (1.0f + expf(-rgb[i]));
    }
}

void aigc_nerf_field_colour(const AigcNerfField *field, AigcNerfBatch *b, gint64 n)
{
    g_return_if_fail(n <= b->capacity);
    Stage st = {field, b, n, NULL, NULL, 0};
    aigc_parallel_for((n + CHUNK - 1) / CHUNK, 1, colour_chunks, &st);
}

/* The MLP gradients of slot s as named pointers into its part of slot_grads (same layout as the
 * field's flat gradient buffer). */
static AigcNerfWeights slot_weights(const AigcNerfField *f, AigcNerfBatch *b, gint64 s)
{
    float *base = b->slot_grads + s * b->n_mlp;
    const float *flat = aigc_params_get_grad(f->mlp_params);
    AigcNerfWeights w = {0};
#define AT(field) w.field = base + (f->g.field - flat)
    AT(d_w1);
    AT(d_b1);
    AT(d_w2);
    AT(d_b2);
    AT(c_w1);
    AT(c_b1);
    AT(c_w2);
    AT(c_b2);
    AT(c_w3);
    AT(c_b3);
#undef AT
    return w;
}

/* Slot s runs the MLP backward of chunks s, s + n_slots, … into its own weight gradients. */
static void backward_slots(gint64 begin, gint64 end, gpointer data)
{
    const Stage *st = data;
    const AigcNerfField *f = st->field;
    AigcNerfBatch *b = st->b;
    const AigcNerfWeights *w = &f->w;
    gint64 n_chunks = (st->n + CHUNK - 1) / CHUNK;
    for (gint64 s = begin; s < end; s++) {
        memset(b->slot_grads + s * b->n_mlp, 0, sizeof(float) * b->n_mlp);
        AigcNerfWeights g = slot_weights(f, b, s);
        float *work = b->slot_work + s * slot_work_floats(b);
        float *d_h3 = work, *d_h2 = d_h3 + CHUNK * b->Hc, *d_geo = d_h2 + CHUNK * b->Hc,
              *d_h1 = d_geo + CHUNK * AIGC_NERF_GEO_DIM, *d_logit = d_h1 + CHUNK * b->Hd;
        for (gint64 c = s; c < n_chunks; c += st->n_slots) {
            gint64 i0 = c * CHUNK;
            int m = (int)MIN((gint64)CHUNK, st->n - i0);
            const float *rgb = b->rgb + 3 * i0, *h3 = b->h3 + i0 * b->Hc, *h2 = b->h2 + i0 * b->Hc,
                        *cin = b->cin + i0 * AIGC_NERF_COLOUR_IN,
                        *geo = b->geo + i0 * AIGC_NERF_GEO_DIM, *h1 = b->h1 + i0 * b->Hd,
                        *enc = b->enc + i0 * b->E;
            const float *d_rgb = st->d_rgb + 3 * i0, *d_sigma = st->d_sigma + i0;
            /* colour MLP, from the sigmoid back */
            for (int i = 0; i < 3 * m; i++)
                d_logit[i] = d_rgb[i] * rgb[i] * (1.0f - rgb[i]);
            dense_backward(m, b->Hc, 3, h3, b->Hc, w->c_w3, d_logit, g.c_w3, g.c_b3, d_h3, b->Hc);
            relu_backward(m, b->Hc, d_h3, h3);
            dense_backward(m, b->Hc, b->Hc, h2, b->Hc, w->c_w2, d_h3, g.c_w2, g.c_b2, d_h2, b->Hc);
            relu_backward(m, b->Hc, d_h2, h2);
            /* only the geometry columns of the colour input have parameters behind them */
            dense_backward(m, AIGC_NERF_COLOUR_IN, b->Hc, cin, AIGC_NERF_COLOUR_IN, w->c_w1, d_h2,
                           g.c_w1, g.c_b1, d_geo, AIGC_NERF_GEO_DIM);
            /* σ = exp(raw) joins through geo[0], with trunc_exp's clamped derivative */
            for (int i = 0; i < m; i++) {
                float raw = geo[(gsize)i * AIGC_NERF_GEO_DIM];
                raw = CLAMP(raw, -AIGC_NERF_LOG_DENSITY_MAX, AIGC_NERF_LOG_DENSITY_MAX);
                d_geo[(gsize)i * AIGC_NERF_GEO_DIM] += d_sigma[i] * expf(raw);
            }
            /* density MLP */
            dense_backward(m, b->Hd, AIGC_NERF_GEO_DIM, h1, b->Hd, w->d_w2, d_geo, g.d_w2, g.d_b2,
                           d_h1, b->Hd);
            relu_backward(m, b->Hd, d_h1, h1);
            dense_backward(m, b->E, b->Hd, enc, b->E, w->d_w1, d_h1, g.d_w1, g.d_b1,
                           b->d_enc + i0 * b->E, b->E);
        }
    }
}

void aigc_nerf_field_backward(AigcNerfField *field, AigcNerfBatch *b, gint64 n, float *d_rgb,
                              const float *d_sigma)
{
    g_return_if_fail(n <= b->capacity && b->d_enc != NULL);
    if (n == 0)
        return;
    gint64 n_chunks = (n + CHUNK - 1) / CHUNK;
    int n_slots = (int)MIN(MIN((gint64)b->n_slots, (gint64)aigc_threads_get()), n_chunks);
    Stage st = {field, b, n, d_rgb, d_sigma, n_slots};
    aigc_parallel_for(n_slots, 1, backward_slots, &st);
    /* Slot gradients, added in slot order: the same sum for the same thread budget. */
    float *g = aigc_params_get_grad(field->mlp_params);
    for (int s = 0; s < n_slots; s++) {
        const float *sg = b->slot_grads + (gsize)s * b->n_mlp;
        for (gint64 i = 0; i < b->n_mlp; i++)
            g[i] += sg[i];
    }
    aigc_hashgrid_backward(&field->grid, n, b->x, b->d_enc, field->g.table);
}
