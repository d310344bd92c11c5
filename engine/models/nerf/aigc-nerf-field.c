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
 * stay in the core's cache. Each layer of a chunk is one call of the register-tiled kernels of
 * aigc-nerf-dense.h (AVX2 + FMA, the bias and the activation fused in; cblas_sgemm without
 * AVX2) on weights packed at the start of the stage. Threads take chunks one at a time as
 * they get free (aigc-nerf-parallel.h). The backward pass works on groups of GROUP_CHUNKS
 * chunks, each group with its own copy of the MLP weight gradients, summed in group order at the
 * end: no two threads add to the same numbers, and the sum does not depend on the threads or
 * which of them ran which group. Then the hash-grid scatter runs over levels. For a layer
 * y = act(x·Wᵀ + b): dz = dy ⊙ act′, dW += dzᵀ·x, db += Σ dz, dx = dz·W.
 */
#include "aigc-nerf-field.h"

#include "aigc-error.h"
#include "tensor/aigc-rng.h"
#include "models/nerf/aigc-nerf-parallel.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

#define CHUNK        AIGC_NERF_CHUNK /* rows per work item: a chunk's activations stay in cache */
#define GROUP_CHUNKS 8               /* chunks per weight-gradient buffer of the backward pass */

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
        b->n_groups = (int)((capacity + GROUP_CHUNKS * CHUNK - 1) / (GROUP_CHUNKS * CHUNK));
        b->group_grads = g_new(float, (gsize)b->n_groups * b->n_mlp);
    }
    aigc_nerf_packed_init(&b->packed, field);
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
    g_free(b->group_grads);
    aigc_nerf_packed_clear(&b->packed);
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

/* ---- packed weights ---- */

void aigc_nerf_packed_init(AigcNerfPacked *p, const AigcNerfField *f)
{
    int E = aigc_hashgrid_n_outputs(&f->grid), Hd = f->config.density_hidden,
        Hc = f->config.colour_hidden;
    aigc_nerf_dense_init(&p->d1, E, Hd);
    aigc_nerf_dense_init(&p->d2, Hd, AIGC_NERF_GEO_DIM);
    aigc_nerf_dense_init(&p->c1, AIGC_NERF_COLOUR_IN, Hc);
    aigc_nerf_dense_init(&p->c2, Hc, Hc);
    aigc_nerf_dense_init(&p->c3, Hc, 3);
    aigc_nerf_dense_init(&p->d1_back, Hd, E);
    aigc_nerf_dense_init(&p->d2_back, AIGC_NERF_GEO_DIM, Hd);
    aigc_nerf_dense_init(&p->c1_back, Hc, AIGC_NERF_GEO_DIM);
    aigc_nerf_dense_init(&p->c2_back, Hc, Hc);
    aigc_nerf_dense_init(&p->c3_back, 3, Hc);
}

void aigc_nerf_packed_clear(AigcNerfPacked *p)
{
    AigcNerfDense *all[] = {&p->d1,      &p->d2,      &p->c1,      &p->c2,      &p->c3,
                            &p->d1_back, &p->d2_back, &p->c1_back, &p->c2_back, &p->c3_back};
    for (gsize i = 0; i < G_N_ELEMENTS(all); i++)
        aigc_nerf_dense_clear(all[i]);
}

static void pack_density(AigcNerfPacked *p, const AigcNerfField *f)
{
    aigc_nerf_dense_pack(&p->d1, f->w.d_w1, f->w.d_b1);
    aigc_nerf_dense_pack(&p->d2, f->w.d_w2, f->w.d_b2);
}

static void pack_colour(AigcNerfPacked *p, const AigcNerfField *f)
{
    aigc_nerf_dense_pack(&p->c1, f->w.c_w1, f->w.c_b1);
    aigc_nerf_dense_pack(&p->c2, f->w.c_w2, f->w.c_b2);
    aigc_nerf_dense_pack(&p->c3, f->w.c_w3, f->w.c_b3);
}

static void pack_backward(AigcNerfPacked *p, const AigcNerfField *f)
{
    aigc_nerf_dense_pack_plain(&p->d1_back, f->w.d_w1, p->d1.n_in);
    aigc_nerf_dense_pack_plain(&p->d2_back, f->w.d_w2, p->d2.n_in);
    aigc_nerf_dense_pack_plain(&p->c1_back, f->w.c_w1, AIGC_NERF_COLOUR_IN);
    aigc_nerf_dense_pack_plain(&p->c2_back, f->w.c_w2, p->c2.n_in);
    aigc_nerf_dense_pack_plain(&p->c3_back, f->w.c_w3, p->c3.n_in);
}

void aigc_nerf_packed_update(AigcNerfPacked *p, const AigcNerfField *f)
{
    pack_density(p, f);
    pack_colour(p, f);
    pack_backward(p, f);
}

/* ---- the stages on one chunk of rows ---- */

/* enc (m, E), h1 (m, Hd), geo (m, 16) and sigma (m) at points x (m, 3). */
static void density_chunk(const AigcNerfField *f, const AigcNerfPacked *p, int m, const float *x,
                          float *enc, float *h1, float *geo, float *sigma)
{
    int E = p->d1.n_in, Hd = p->d1.n_out;
    aigc_hashgrid_encode(&f->grid, f->w.table, m, x, enc);
    aigc_nerf_dense_forward(&p->d1, m, enc, E, h1, Hd, AIGC_NERF_ACT_RELU, NULL, 0);
    aigc_nerf_dense_forward(&p->d2, m, h1, Hd, geo, AIGC_NERF_GEO_DIM, AIGC_NERF_ACT_NONE, NULL, 0);
    for (int i = 0; i < m; i++)
        sigma[i] = expf(MIN(geo[(gsize)i * AIGC_NERF_GEO_DIM], AIGC_NERF_LOG_DENSITY_MAX));
}

/* cin (m, 32), h2, h3 (m, Hc) and rgb (m, 3) from geo (m, 16) and directions dir (m, 3). */
static void colour_chunk(const AigcNerfPacked *p, int m, const float *geo, const float *dir,
                         float *cin, float *h2, float *h3, float *rgb)
{
    int Hc = p->c2.n_in;
    for (int i = 0; i < m; i++)
        memcpy(cin + (gsize)i * AIGC_NERF_COLOUR_IN, geo + (gsize)i * AIGC_NERF_GEO_DIM,
               AIGC_NERF_GEO_DIM * sizeof(float));
    aigc_nerf_sh_encode(m, dir, cin + AIGC_NERF_GEO_DIM, AIGC_NERF_COLOUR_IN);
    aigc_nerf_dense_forward(&p->c1, m, cin, AIGC_NERF_COLOUR_IN, h2, Hc, AIGC_NERF_ACT_RELU, NULL,
                            0);
    aigc_nerf_dense_forward(&p->c2, m, h2, Hc, h3, Hc, AIGC_NERF_ACT_RELU, NULL, 0);
    aigc_nerf_dense_forward(&p->c3, m, h3, Hc, rgb, 3, AIGC_NERF_ACT_NONE, NULL, 0);
    for (int i = 0; i < 3 * m; i++)
        rgb[i] = 1.0f / (1.0f + expf(-rgb[i]));
}

/* ---- stages ---- */

typedef struct {
    const AigcNerfField *field;
    AigcNerfBatch *b;
    gint64 n;
    float *d_rgb;
    const float *d_sigma;
} Stage;

static void density_item(gint64 c, int slot, gpointer data)
{
    const Stage *st = data;
    AigcNerfBatch *b = st->b;
    gint64 i0 = c * CHUNK;
    int m = (int)MIN((gint64)CHUNK, st->n - i0);
    (void)slot;
    density_chunk(st->field, &b->packed, m, b->x + 3 * i0, b->enc + i0 * b->E, b->h1 + i0 * b->Hd,
                  b->geo + i0 * AIGC_NERF_GEO_DIM, b->sigma + i0);
}

void aigc_nerf_field_density(const AigcNerfField *field, AigcNerfBatch *b, gint64 n)
{
    g_return_if_fail(n <= b->capacity);
    pack_density(&b->packed, field);
    Stage st = {field, b, n, NULL, NULL};
    aigc_nerf_parallel_items((n + CHUNK - 1) / CHUNK, G_MAXINT, density_item, &st);
}

static void colour_item(gint64 c, int slot, gpointer data)
{
    const Stage *st = data;
    AigcNerfBatch *b = st->b;
    gint64 i0 = c * CHUNK;
    int m = (int)MIN((gint64)CHUNK, st->n - i0);
    (void)slot;
    colour_chunk(&b->packed, m, b->geo + i0 * AIGC_NERF_GEO_DIM, b->dir + 3 * i0,
                 b->cin + i0 * AIGC_NERF_COLOUR_IN, b->h2 + i0 * b->Hc, b->h3 + i0 * b->Hc,
                 b->rgb + 3 * i0);
}

void aigc_nerf_field_colour(const AigcNerfField *field, AigcNerfBatch *b, gint64 n)
{
    g_return_if_fail(n <= b->capacity);
    pack_colour(&b->packed, field);
    Stage st = {field, b, n, NULL, NULL};
    aigc_nerf_parallel_items((n + CHUNK - 1) / CHUNK, G_MAXINT, colour_item, &st);
}

/* ---- inference on the calling thread ---- */

gsize aigc_nerf_field_rows_scratch(const AigcNerfField *f)
{
    int E = aigc_hashgrid_n_outputs(&f->grid), Hd = f->config.density_hidden,
        Hc = f->config.colour_hidden;
    return (gsize)CHUNK * (MAX(E + Hd, AIGC_NERF_COLOUR_IN + 2 * Hc));
}

void aigc_nerf_field_density_rows(const AigcNerfField *field, const AigcNerfPacked *packed,
                                  float *scratch, gint64 n, const float *x, float *geo,
                                  float *sigma)
{
    float *enc = scratch, *h1 = scratch + CHUNK * packed->d1.n_in;
    for (gint64 i0 = 0; i0 < n; i0 += CHUNK) {
        int m = (int)MIN((gint64)CHUNK, n - i0);
        density_chunk(field, packed, m, x + 3 * i0, enc, h1, geo + i0 * AIGC_NERF_GEO_DIM,
                      sigma + i0);
    }
}

void aigc_nerf_field_colour_rows(const AigcNerfField *field, const AigcNerfPacked *packed,
                                 float *scratch, gint64 n, const float *geo, const float *dir,
                                 float *rgb)
{
    (void)field;
    int Hc = packed->c2.n_in;
    float *cin = scratch, *h2 = cin + CHUNK * AIGC_NERF_COLOUR_IN, *h3 = h2 + CHUNK * Hc;
    for (gint64 i0 = 0; i0 < n; i0 += CHUNK) {
        int m = (int)MIN((gint64)CHUNK, n - i0);
        colour_chunk(packed, m, geo + i0 * AIGC_NERF_GEO_DIM, dir + 3 * i0, cin, h2, h3,
                     rgb + 3 * i0);
    }
}

/* The MLP gradients of group g as named pointers into its part of group_grads (same layout as
 * the field's flat gradient buffer). */
static AigcNerfWeights group_weights(const AigcNerfField *f, AigcNerfBatch *b, gint64 g)
{
    float *base = b->group_grads + g * b->n_mlp;
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

/* The MLP backward of the chunks of group `group` into the group's weight gradients, with the
 * scratch of worker `slot`. */
static void backward_group(gint64 group, int slot, gpointer data)
{
    const Stage *st = data;
    const AigcNerfField *f = st->field;
    AigcNerfBatch *b = st->b;
    gint64 n_chunks = (st->n + CHUNK - 1) / CHUNK;
    memset(b->group_grads + group * b->n_mlp, 0, sizeof(float) * b->n_mlp);
    AigcNerfWeights g = group_weights(f, b, group);
    float *work = b->slot_work + slot * slot_work_floats(b);
    float *d_h3 = work, *d_h2 = d_h3 + CHUNK * b->Hc, *d_geo = d_h2 + CHUNK * b->Hc,
          *d_h1 = d_geo + CHUNK * AIGC_NERF_GEO_DIM, *d_logit = d_h1 + CHUNK * b->Hd;
    for (gint64 c = group * GROUP_CHUNKS; c < MIN(n_chunks, (group + 1) * GROUP_CHUNKS); c++) {
        gint64 i0 = c * CHUNK;
        int m = (int)MIN((gint64)CHUNK, st->n - i0);
        const float *rgb = b->rgb + 3 * i0, *h3 = b->h3 + i0 * b->Hc, *h2 = b->h2 + i0 * b->Hc,
                    *cin = b->cin + i0 * AIGC_NERF_COLOUR_IN,
                    *geo = b->geo + i0 * AIGC_NERF_GEO_DIM, *h1 = b->h1 + i0 * b->Hd,
                    *enc = b->enc + i0 * b->E;
        const float *d_rgb = st->d_rgb + 3 * i0, *d_sigma = st->d_sigma + i0;
        /* colour MLP, from the sigmoid back; each dx product applies the ReLU mask of
         * the layer below */
        const AigcNerfPacked *p = &b->packed;
        for (int i = 0; i < 3 * m; i++)
            d_logit[i] = d_rgb[i] * rgb[i] * (1.0f - rgb[i]);
        aigc_nerf_dense_grad(m, 3, b->Hc, d_logit, 3, h3, b->Hc, g.c_w3, g.c_b3);
        aigc_nerf_dense_forward(&p->c3_back, m, d_logit, 3, d_h3, b->Hc, AIGC_NERF_ACT_RELU_MASK,
                                h3, b->Hc);
        aigc_nerf_dense_grad(m, b->Hc, b->Hc, d_h3, b->Hc, h2, b->Hc, g.c_w2, g.c_b2);
        aigc_nerf_dense_forward(&p->c2_back, m, d_h3, b->Hc, d_h2, b->Hc, AIGC_NERF_ACT_RELU_MASK,
                                h2, b->Hc);
        /* only the geometry columns of the colour input have parameters behind them */
        aigc_nerf_dense_grad(m, b->Hc, AIGC_NERF_COLOUR_IN, d_h2, b->Hc, cin, AIGC_NERF_COLOUR_IN,
                             g.c_w1, g.c_b1);
        aigc_nerf_dense_forward(&p->c1_back, m, d_h2, b->Hc, d_geo, AIGC_NERF_GEO_DIM,
                                AIGC_NERF_ACT_NONE, NULL, 0);
        /* σ = exp(raw) joins through geo[0], with trunc_exp's clamped derivative */
        for (int i = 0; i < m; i++) {
            float raw = geo[(gsize)i * AIGC_NERF_GEO_DIM];
            raw = CLAMP(raw, -AIGC_NERF_LOG_DENSITY_MAX, AIGC_NERF_LOG_DENSITY_MAX);
            d_geo[(gsize)i * AIGC_NERF_GEO_DIM] += d_sigma[i] * expf(raw);
        }
        /* density MLP */
        aigc_nerf_dense_grad(m, AIGC_NERF_GEO_DIM, b->Hd, d_geo, AIGC_NERF_GEO_DIM, h1, b->Hd,
                             g.d_w2, g.d_b2);
        aigc_nerf_dense_forward(&p->d2_back, m, d_geo, AIGC_NERF_GEO_DIM, d_h1, b->Hd,
                                AIGC_NERF_ACT_RELU_MASK, h1, b->Hd);
        aigc_nerf_dense_grad(m, b->Hd, b->E, d_h1, b->Hd, enc, b->E, g.d_w1, g.d_b1);
        aigc_nerf_dense_forward(&p->d1_back, m, d_h1, b->Hd, b->d_enc + i0 * b->E, b->E,
                                AIGC_NERF_ACT_NONE, NULL, 0);
    }
}

void aigc_nerf_field_backward(AigcNerfField *field, AigcNerfBatch *b, gint64 n, float *d_rgb,
                              const float *d_sigma)
{
    g_return_if_fail(n <= b->capacity && b->d_enc != NULL);
    if (n == 0)
        return;
    gint64 n_chunks = (n + CHUNK - 1) / CHUNK;
    gint64 n_groups = (n_chunks + GROUP_CHUNKS - 1) / GROUP_CHUNKS;
    pack_backward(&b->packed, field);
    Stage st = {field, b, n, d_rgb, d_sigma};
    aigc_nerf_parallel_items(n_groups, b->n_slots, backward_group, &st);
    /* Group gradients, added in group order: the same sum whatever the threads. */
    float *g = aigc_params_get_grad(field->mlp_params);
    for (gint64 s = 0; s < n_groups; s++) {
        const float *sg = b->group_grads + (gsize)s * b->n_mlp;
        for (gint64 i = 0; i < b->n_mlp; i++)
            g[i] += sg[i];
    }
    aigc_hashgrid_backward(&field->grid, n, b->x, b->d_enc, field->g.table);
}
