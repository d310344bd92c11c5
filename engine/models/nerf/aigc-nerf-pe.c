/* SPDX-License-Identifier: MIT
 *
 * The positional-encoding NeRF: its network (forward and hand-written backward, every layer a
 * BLAS product on the engine's threads) and the two-pass sampling of a batch of rays.
 *
 * Legend: n sample rows, D depth, W width, P = 3 + 6·pos_freqs, Q = 3 + 6·dir_freqs,
 * Hc colour width; a Linear layer is y = x·Wᵀ + b with W (out, in), so its backward is
 * ∂W += dyᵀ·x, ∂b += Σ_rows dy, dx = dy·W. The network never needs ∂/∂γ (positions and
 * directions are data), so the skip layer's dx keeps only its first W columns and the colour
 * head's only the feature's.
 *
 * DESIGN (a batch): rows are samples, the coarse rows of all rays first, then the fine rows,
 * so the density stage runs on the coarse rows alone (their weights place the fine samples)
 * and then on the fine rows, each time as a few large matrix products; the colour stage runs
 * once on all rows. Compositing walks each ray's samples in depth order through `order` (the
 * union of its coarse and fine rows, merged as both lists are sorted), with the values
 * gathered into contiguous per-ray arrays so aigc-volrender.h composites and differentiates
 * them; the gradients are scattered back to rows before the network's backward pass.
 */
#include "aigc-nerf-pe.h"

#include "aigc-error.h"
#include "models/nerf/aigc-volrender.h"
#include "tensor/aigc-blas.h"
#include "tensor/aigc-rng.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

#define PDF_PADDING 1e-5f /* added to each coarse weight before importance sampling */

AigcNerfPeConfig aigc_nerf_pe_default_config(void)
{
    return (AigcNerfPeConfig){.depth = 4,
                              .width = 128,
                              .skip = 2,
                              .colour_width = 64,
                              .pos_freqs = 10,
                              .dir_freqs = 4,
                              .density = AIGC_NERF_PE_SOFTPLUS,
                              .n_coarse = 32,
                              .n_fine = 32};
}

AigcNerfPeConfig aigc_nerf_pe_paper_config(void)
{
    return (AigcNerfPeConfig){.depth = 8,
                              .width = 256,
                              .skip = 4,
                              .colour_width = 128,
                              .pos_freqs = 10,
                              .dir_freqs = 4,
                              .density = AIGC_NERF_PE_RELU,
                              .n_coarse = 64,
                              .n_fine = 128};
}

void aigc_nerf_pe_encode(gint64 n, const float *p, int n_freqs, float *out, int ld)
{
    for (gint64 i = 0; i < n; i++) {
        float *o = out + i * ld;
        for (int a = 0; a < 3; a++) {
            o[a] = p[3 * i + a];
            /* One sine and cosine in double, then the doubling formulas: exact to ~1e-13
             * after 16 doublings, and 2L times cheaper than calling sin and cos. */
            double s = sin(G_PI * p[3 * i + a]), c = cos(G_PI * p[3 * i + a]);
            for (int k = 0; k < n_freqs; k++) {
                o[3 + 6 * k + a] = (float)s;
                o[6 + 6 * k + a] = (float)c;
                double s2 = 2 * s * c, c2 = (c - s) * (c + s);
                s = s2, c = c2;
            }
        }
    }
}

/* ---- the field ---- */

static gboolean check_config(const AigcNerfPeConfig *c, GError **error)
{
    if (c->depth < 1 || c->depth > AIGC_NERF_PE_MAX_DEPTH || c->width < 8 ||
        c->width > AIGC_NERF_PE_MAX_WIDTH || c->skip < -1 || c->skip > c->depth - 2 ||
        c->colour_width < 4 || c->colour_width > AIGC_NERF_PE_MAX_WIDTH) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "positional-encoding NeRF: depth must be 1–%d, width 8–%d, skip −1 (none) "
                    "to depth − 2 and colour width 4–%d",
                    AIGC_NERF_PE_MAX_DEPTH, AIGC_NERF_PE_MAX_WIDTH, AIGC_NERF_PE_MAX_WIDTH);
        return FALSE;
    }
    if (c->pos_freqs < 0 || c->pos_freqs > AIGC_NERF_PE_MAX_FREQS || c->dir_freqs < 0 ||
        c->dir_freqs > AIGC_NERF_PE_MAX_FREQS ||
        (c->density != AIGC_NERF_PE_SOFTPLUS && c->density != AIGC_NERF_PE_RELU) ||
        c->n_coarse < 2 || c->n_coarse > AIGC_NERF_PE_MAX_SAMPLES || c->n_fine < 0 ||
        c->n_fine > AIGC_NERF_PE_MAX_SAMPLES) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "positional-encoding NeRF: frequencies must be 0–%d, coarse samples 2–%d "
                    "and fine samples 0–%d",
                    AIGC_NERF_PE_MAX_FREQS, AIGC_NERF_PE_MAX_SAMPLES, AIGC_NERF_PE_MAX_SAMPLES);
        return FALSE;
    }
    return TRUE;
}

/* A (rows, cols) matrix, or a vector of rows when cols is 0. */
static void add_param(AigcParams *params, const char *name, gint64 rows, gint64 cols)
{
    gint64 shape[2] = {rows, cols};
    aigc_params_add(params, name, cols > 0 ? 2 : 1, shape);
}

/* Points the weights (values or gradients) at the allocated parameters. */
static void bind_weights(AigcNerfPe *pe, AigcNerfPeWeights *w, gboolean grads)
{
#define BIND(field, name)                                                                          \
    do {                                                                                           \
        AigcTensor *t = aigc_params_find(pe->params, name);                                       \
        field = grads ? t->grad : t->data;                                                         \
    } while (0)
    for (int i = 0; i < pe->config.depth; i++) {
        char name[64];
        g_snprintf(name, sizeof name, "density.%d.weight", i);
        BIND(w->w[i], name);
        g_snprintf(name, sizeof name, "density.%d.bias", i);
        BIND(w->b[i], name);
    }
    BIND(w->out_w, "density.out.weight");
    BIND(w->out_b, "density.out.bias");
    BIND(w->c_w1, "colour.0.weight");
    BIND(w->c_b1, "colour.0.bias");
    BIND(w->c_w2, "colour.1.weight");
    BIND(w->c_b2, "colour.1.bias");
#undef BIND
}

/* The layer whose input is [h, γ(x)] (0: none). */
static int skip_layer(const AigcNerfPe *pe)
{
    return pe->config.skip + 1;
}

/* Input width of density layer i. */
static int layer_in_dim(const AigcNerfPe *pe, int i)
{
    int W = pe->config.width;
    return i == 0 ? pe->P : i == skip_layer(pe) ? W + pe->P : W;
}

AigcNerfPe *aigc_nerf_pe_new(const AigcNerfPeConfig *config, const float aabb_min[3],
                             const float aabb_max[3], GError **error)
{
    for (int a = 0; a < 3; a++)
        if (!(aabb_max[a] > aabb_min[a]) || !isfinite(aabb_min[a]) || !isfinite(aabb_max[a])) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                        "NeRF: the scene box is empty or not finite along axis %d", a);
            return NULL;
        }
    if (!check_config(config, error))
        return NULL;
    AigcNerfPe *pe = g_new0(AigcNerfPe, 1);
    pe->config = *config;
    memcpy(pe->aabb_min, aabb_min, sizeof pe->aabb_min);
    memcpy(pe->aabb_max, aabb_max, sizeof pe->aabb_max);
    pe->P = aigc_nerf_pe_encoding_dim(config->pos_freqs);
    pe->Q = aigc_nerf_pe_encoding_dim(config->dir_freqs);
    int W = config->width, Hc = config->colour_width;
    pe->params = aigc_params_new();
    for (int i = 0; i < config->depth; i++) {
        char name[64];
        g_snprintf(name, sizeof name, "density.%d.weight", i);
        add_param(pe->params, name, W, layer_in_dim(pe, i));
        g_snprintf(name, sizeof name, "density.%d.bias", i);
        add_param(pe->params, name, W, 0);
    }
    add_param(pe->params, "density.out.weight", 1 + W, W);
    add_param(pe->params, "density.out.bias", 1 + W, 0);
    add_param(pe->params, "colour.0.weight", Hc, W + pe->Q);
    add_param(pe->params, "colour.0.bias", Hc, 0);
    add_param(pe->params, "colour.1.weight", 3, Hc);
    add_param(pe->params, "colour.1.bias", 3, 0);
    aigc_params_allocate(pe->params);
    bind_weights(pe, &pe->w, FALSE);
    bind_weights(pe, &pe->g, TRUE);
    return pe;
}

void aigc_nerf_pe_free(AigcNerfPe *pe)
{
    if (!pe)
        return;
    aigc_nerf_pe_batch_free(pe->render_batch);
    aigc_params_free(pe->params);
    g_free(pe);
}

void aigc_nerf_pe_init_weights(AigcNerfPe *pe, guint64 seed)
{
    AigcRng rng;
    aigc_rng_init(&rng, seed);
    for (guint i = 0; i < aigc_params_get_n(pe->params); i++) {
        AigcTensor *t = aigc_params_get(pe->params, i);
        if (t->n_dims == 1) {
            memset(t->data, 0, sizeof(float) * t->shape[0]);
            continue;
        }
        float limit = sqrtf(6.0f / (float)(t->shape[0] + t->shape[1]));
        AigcRng stream = aigc_rng_fork(&rng, i);
        aigc_rng_fill_uniform(&stream, t->data, t->shape[0] * t->shape[1], -limit, limit);
    }
}

/* ---- batches ---- */

AigcNerfPeBatch *aigc_nerf_pe_batch_new(const AigcNerfPe *pe, int capacity, gboolean training)
{
    g_return_val_if_fail(capacity > 0, NULL);
    const AigcNerfPeConfig *c = &pe->config;
    AigcNerfPeBatch *b = g_new0(AigcNerfPeBatch, 1);
    int W = c->width, Hc = c->colour_width;
    b->capacity = capacity;
    b->Nc = c->n_coarse;
    b->Nf = c->n_fine;
    b->S = b->Nc + b->Nf;
    b->training = training;
    gsize R = (gsize)capacity, rows = R * b->S;
    b->origin = g_new(float, 3 * R);
    b->dir = g_new(float, 3 * R);
    b->t_near = g_new(float, R);
    b->t_far = g_new(float, R);
    b->index = g_new(int, R);
    b->offset_c = g_new(gint64, R + 1);
    b->offset_u = g_new(gint64, R + 1);
    b->count_c = g_new(int, R);
    b->count_u = g_new(int, R);
    for (gsize r = 0; r <= R; r++) {
        b->offset_c[r] = (gint64)r * b->Nc;
        b->offset_u[r] = (gint64)r * b->S;
        if (r < R) {
            b->count_c[r] = b->Nc;
            b->count_u[r] = b->S;
        }
    }
    b->t = g_new(float, rows);
    b->delta_c = g_new(float, R * b->Nc);
    b->order = g_new(int, rows);
    b->t_u = g_new(float, rows);
    b->delta_u = g_new(float, rows);
    b->sigma_u = g_new(float, rows);
    b->rgb_u = g_new(float, 3 * rows);
    if (c->skip >= 0) {
        b->skip_in = g_new(float, rows * (W + pe->P));
        b->enc = b->skip_in + W;
        b->enc_ld = W + pe->P;
    } else {
        b->enc = g_new(float, rows * pe->P);
        b->enc_ld = pe->P;
    }
    b->h = g_new(float, (gsize)c->depth * rows * W);
    b->head = g_new(float, rows * (1 + W + pe->Q));
    b->hc = g_new(float, rows * Hc);
    b->rgb = g_new(float, 3 * rows);
    b->sigma = g_new(float, rows);
    if (training) {
        gsize scratch = rows * MAX(1 + W, Hc);
        b->d_sigma = g_new(float, rows);
        b->d_rgb = g_new(float, 3 * rows);
        b->d_sigma_u = g_new(float, rows);
        b->d_rgb_u = g_new(float, 3 * rows);
        b->d_a = g_new(float, scratch);
        b->d_b = g_new(float, scratch);
    }
    return b;
}

void aigc_nerf_pe_batch_free(AigcNerfPeBatch *b)
{
    if (!b)
        return;
    g_free(b->origin);
    g_free(b->dir);
    g_free(b->t_near);
    g_free(b->t_far);
    g_free(b->index);
    g_free(b->offset_c);
    g_free(b->offset_u);
    g_free(b->count_c);
    g_free(b->count_u);
    g_free(b->t);
    g_free(b->delta_c);
    g_free(b->order);
    g_free(b->t_u);
    g_free(b->delta_u);
    g_free(b->sigma_u);
    g_free(b->rgb_u);
    if (b->skip_in)
        g_free(b->skip_in);
    else
        g_free(b->enc);
    g_free(b->h);
    g_free(b->head);
    g_free(b->hc);
    g_free(b->rgb);
    g_free(b->sigma);
    g_free(b->d_sigma);
    g_free(b->d_rgb);
    g_free(b->d_sigma_u);
    g_free(b->d_rgb_u);
    g_free(b->d_a);
    g_free(b->d_b);
    g_free(b);
}

/* The distances where the ray o + t·d enters and leaves the box (slabs), t ≥ 0. */
static gboolean clip_box(const AigcNerfPe *pe, const float o[3], const float d[3], float *t0,
                         float *t1)
{
    float lo = 0.0f, hi = INFINITY;
    for (int a = 0; a < 3; a++) {
        if (fabsf(d[a]) < 1e-12f) {
            if (o[a] < pe->aabb_min[a] || o[a] > pe->aabb_max[a])
                return FALSE;
            continue;
        }
        float inv = 1.0f / d[a];
        float ta = (pe->aabb_min[a] - o[a]) * inv, tb = (pe->aabb_max[a] - o[a]) * inv;
        lo = MAX(lo, MIN(ta, tb));
        hi = MIN(hi, MAX(ta, tb));
    }
    *t0 = lo;
    *t1 = hi;
    return hi > lo + 1e-6f;
}

int aigc_nerf_pe_batch_set_rays(const AigcNerfPe *pe, AigcNerfPeBatch *b, int n,
                                const float *origins, const float *dirs)
{
    int k = 0;
    for (int i = 0; i < n && k < b->capacity; i++) {
        float t0, t1;
        if (!clip_box(pe, origins + 3 * i, dirs + 3 * i, &t0, &t1))
            continue;
        memcpy(b->origin + 3 * k, origins + 3 * i, 3 * sizeof(float));
        memcpy(b->dir + 3 * k, dirs + 3 * i, 3 * sizeof(float));
        b->t_near[k] = t0;
        b->t_far[k] = t1;
        b->index[k] = i;
        k++;
    }
    b->n_rays = k;
    return k;
}

/* ---- the network ---- */

#define ROW_BLOCK 256 /* rows per block of the forward pass: a layer's input and output rows
                       * stay in the core's cache between the product and the activation */

typedef struct {
    AigcNerfPe *pe;
    AigcNerfPeBatch *b;
    const float *jitter_c, *jitter_f;
    gint64 r0, r1; /* the rows of a forward stage */
} Ctx;

/* Output of density layer i (ld in *ld): the one feeding the skip layer lives in skip_in. */
static float *layer_out(const AigcNerfPe *pe, AigcNerfPeBatch *b, int i, int *ld)
{
    int W = pe->config.width;
    if (i == pe->config.skip) {
        *ld = W + pe->P;
        return b->skip_in;
    }
    *ld = W;
    return b->h + (gsize)i * b->capacity * b->S * W;
}

static float *layer_in(const AigcNerfPe *pe, AigcNerfPeBatch *b, int i, int *ld)
{
    if (i == 0) {
        *ld = b->enc_ld;
        return b->enc;
    }
    if (i == skip_layer(pe)) {
        *ld = pe->config.width + pe->P;
        return b->skip_in;
    }
    return layer_out(pe, b, i - 1, ld);
}

/* The ray of sample row j. */
static inline int row_ray(const AigcNerfPeBatch *b, gint64 j)
{
    gint64 n_coarse = (gint64)b->n_rays * b->Nc;
    return (int)(j < n_coarse ? j / b->Nc : (j - n_coarse) / b->Nf);
}

/* The elementwise kernels work in groups of 8 columns so that -O2 vectorises them. */
static inline void bias_relu(float *restrict y, const float *restrict bias, int n)
{
    int k = 0;
    for (; k + 8 <= n; k += 8)
        for (int u = 0; u < 8; u++) {
            float v = y[k + u] + bias[k + u];
            y[k + u] = v > 0.0f ? v : 0.0f;
        }
    for (; k < n; k++) {
        float v = y[k] + bias[k];
        y[k] = v > 0.0f ? v : 0.0f;
    }
}

static inline void add_bias(float *restrict y, const float *restrict bias, int n)
{
    int k = 0;
    for (; k + 8 <= n; k += 8)
        for (int u = 0; u < 8; u++)
            y[k + u] += bias[k + u];
    for (; k < n; k++)
        y[k] += bias[k];
}

static inline float softplus(float x)
{
    return x > 20.0f ? x : log1pf(expf(x));
}

static inline float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* rows (m, N) = in (m, K) · wᵀ, w (N, K); one single-threaded product per block. */
static void block_gemm(int m, int N, int K, const float *in, int lda, const float *w, float *out,
                       int ldc)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, N, K, 1.0f, in, lda, w, K, 0.0f, out,
                ldc);
}

/* Density stage on row blocks: γ(x), the layers, the output layer, σ. */
static void density_blocks(gint64 begin, gint64 end, gpointer data)
{
    Ctx *c = data;
    AigcNerfPe *pe = c->pe;
    AigcNerfPeBatch *b = c->b;
    int W = pe->config.width, ld_head = 1 + W + pe->Q;
    gboolean relu = pe->config.density == AIGC_NERF_PE_RELU;
    for (gint64 blk = begin; blk < end; blk++) {
        gint64 j0 = c->r0 + blk * ROW_BLOCK, j1 = MIN(j0 + ROW_BLOCK, c->r1);
        int m = (int)(j1 - j0);
        for (gint64 j = j0; j < j1; j++) {
            int r = row_ray(b, j);
            float x[3];
            for (int a = 0; a < 3; a++) {
                float p = b->origin[3 * r + a] + b->t[j] * b->dir[3 * r + a];
                x[a] = 2.0f * (p - pe->aabb_min[a]) / (pe->aabb_max[a] - pe->aabb_min[a]) - 1.0f;
            }
            aigc_nerf_pe_encode(1, x, pe->config.pos_freqs, b->enc + j * b->enc_ld, b->enc_ld);
        }
        for (int i = 0; i < pe->config.depth; i++) {
            int lda, ldc;
            const float *in = layer_in(pe, b, i, &lda) + j0 * lda;
            float *out = layer_out(pe, b, i, &ldc) + j0 * ldc;
            block_gemm(m, W, layer_in_dim(pe, i), in, lda, pe->w.w[i], out, ldc);
            for (int j = 0; j < m; j++)
                bias_relu(out + (gsize)j * ldc, pe->w.b[i], W);
        }
        int ld_last;
        const float *last = layer_out(pe, b, pe->config.depth - 1, &ld_last) + j0 * ld_last;
        float *head = b->head + j0 * ld_head;
        block_gemm(m, 1 + W, W, last, ld_last, pe->w.out_w, head, ld_head);
        for (int j = 0; j < m; j++) {
            float *y = head + (gsize)j * ld_head;
            add_bias(y, pe->w.out_b, 1 + W);
            b->sigma[j0 + j] = relu ? MAX(y[0], 0.0f) : softplus(y[0]);
        }
    }
}

static void density_rows(AigcNerfPe *pe, AigcNerfPeBatch *b, gint64 r0, gint64 r1)
{
    if (r1 <= r0)
        return;
    Ctx c = {.pe = pe, .b = b, .r0 = r0, .r1 = r1};
    aigc_parallel_for((r1 - r0 + ROW_BLOCK - 1) / ROW_BLOCK, 1, density_blocks, &c);
}

/* Colour stage on row blocks: γ(d), the hidden layer, RGB. */
static void colour_blocks(gint64 begin, gint64 end, gpointer data)
{
    Ctx *c = data;
    AigcNerfPe *pe = c->pe;
    AigcNerfPeBatch *b = c->b;
    int W = pe->config.width, Hc = pe->config.colour_width, ld_head = 1 + W + pe->Q;
    for (gint64 blk = begin; blk < end; blk++) {
        gint64 j0 = c->r0 + blk * ROW_BLOCK, j1 = MIN(j0 + ROW_BLOCK, c->r1);
        int m = (int)(j1 - j0);
        /* γ(d) once per ray: consecutive rows mostly share their ray */
        int prev = -1;
        for (gint64 j = j0; j < j1; j++) {
            int r = row_ray(b, j);
            float *out = b->head + j * ld_head + 1 + W;
            if (r == prev)
                memcpy(out, out - ld_head, sizeof(float) * pe->Q);
            else
                aigc_nerf_pe_encode(1, b->dir + 3 * r, pe->config.dir_freqs, out, ld_head);
            prev = r;
        }
        float *hc = b->hc + j0 * Hc, *rgb = b->rgb + 3 * j0;
        block_gemm(m, Hc, W + pe->Q, b->head + j0 * ld_head + 1, ld_head, pe->w.c_w1, hc, Hc);
        for (int j = 0; j < m; j++)
            bias_relu(hc + (gsize)j * Hc, pe->w.c_b1, Hc);
        block_gemm(m, 3, Hc, hc, Hc, pe->w.c_w2, rgb, 3);
        for (int j = 0; j < 3 * m; j++)
            rgb[j] = sigmoid(rgb[j] + pe->w.c_b2[j % 3]);
    }
}

static void colour_rows(AigcNerfPe *pe, AigcNerfPeBatch *b, gint64 n)
{
    if (n <= 0)
        return;
    Ctx c = {.pe = pe, .b = b, .r0 = 0, .r1 = n};
    aigc_parallel_for((n + ROW_BLOCK - 1) / ROW_BLOCK, 1, colour_blocks, &c);
}

/* ---- the network's backward pass ---- */

typedef struct {
    gint64 n;
    int cols, ld;
    const float *x;
    float *out;
} ColSum;

/* out[k] += Σ_rows x[j, k], over blocks of 32 columns in double. */
static void colsum_blocks(gint64 begin, gint64 end, gpointer data)
{
    ColSum *s = data;
    for (gint64 blk = begin; blk < end; blk++) {
        int k0 = (int)blk * 32, k1 = MIN(k0 + 32, s->cols);
        double acc[32] = {0};
        for (gint64 j = 0; j < s->n; j++) {
            const float *row = s->x + j * s->ld;
            for (int k = k0; k < k1; k++)
                acc[k - k0] += row[k];
        }
        for (int k = k0; k < k1; k++)
            s->out[k] += (float)acc[k - k0];
    }
}

static void colsum_add(gint64 n, int cols, const float *x, int ld, float *out)
{
    ColSum s = {n, cols, ld, x, out};
    aigc_parallel_for((cols + 31) / 32, 1, colsum_blocks, &s);
}

typedef struct {
    AigcNerfPe *pe;
    AigcNerfPeBatch *b;
    float *d;           /* gradient rows being masked or filled */
    const float *y;     /* activations */
    int ld_d, ld_y, cols;
} Mask;

static inline void relu_mask_row(float *restrict d, const float *restrict y, int n)
{
    int k = 0;
    for (; k + 8 <= n; k += 8)
        for (int u = 0; u < 8; u++)
            d[k + u] = y[k + u] > 0.0f ? d[k + u] : 0.0f;
    for (; k < n; k++)
        d[k] = y[k] > 0.0f ? d[k] : 0.0f;
}

/* d *= (y > 0): ReLU's derivative from its output. */
static void relu_mask(gint64 begin, gint64 end, gpointer data)
{
    Mask *m = data;
    for (gint64 j = begin; j < end; j++)
        relu_mask_row(m->d + j * m->ld_d, m->y + j * m->ld_y, m->cols);
}

/* ∂L/∂(pre-sigmoid) of the colour, into d (n, 3). */
static void rgb_backward(gint64 begin, gint64 end, gpointer data)
{
    Mask *m = data;
    for (gint64 j = begin; j < end; j++)
        for (int k = 0; k < 3; k++) {
            float y = m->b->rgb[3 * j + k];
            m->d[3 * j + k] = m->b->d_rgb[3 * j + k] * y * (1.0f - y);
        }
}

/* Column 0 of the output layer's gradient: ∂L/∂σ · σ'(raw). */
static void density_backward(gint64 begin, gint64 end, gpointer data)
{
    Mask *m = data;
    gboolean relu = m->pe->config.density == AIGC_NERF_PE_RELU;
    for (gint64 j = begin; j < end; j++) {
        float raw = m->y[j * m->ld_y];
        float slope = relu ? (raw > 0.0f ? 1.0f : 0.0f) : sigmoid(raw);
        m->d[j * m->ld_d] = m->b->d_sigma[j] * slope;
    }
}

/* Adds ∂L/∂parameters for rows [0, n) given b->d_sigma and b->d_rgb. */
static void network_backward(AigcNerfPe *pe, AigcNerfPeBatch *b, gint64 n64)
{
    int n = (int)n64, W = pe->config.width, Hc = pe->config.colour_width;
    int ld_head = 1 + W + pe->Q;
    const AigcNerfPeWeights *w = &pe->w, *g = &pe->g;
    Mask m = {.pe = pe, .b = b};
    /* colour head */
    float *dz = b->d_b; /* (n, 3) */
    m.d = dz;
    aigc_parallel_for(n, 256, rgb_backward, &m);
    aigc_sgemm(CblasTrans, CblasNoTrans, 3, Hc, n, 1.0f, dz, 3, b->hc, Hc, 1.0f, g->c_w2, Hc);
    colsum_add(n, 3, dz, 3, g->c_b2);
    float *dhc = b->d_a; /* (n, Hc) */
    aigc_sgemm(CblasNoTrans, CblasNoTrans, n, Hc, 3, 1.0f, dz, 3, w->c_w2, Hc, 0.0f, dhc, Hc);
    m.d = dhc, m.ld_d = Hc, m.y = b->hc, m.ld_y = Hc, m.cols = Hc;
    aigc_parallel_for(n, 256, relu_mask, &m);
    aigc_sgemm(CblasTrans, CblasNoTrans, Hc, W + pe->Q, n, 1.0f, dhc, Hc, b->head + 1, ld_head,
               1.0f, g->c_w1, W + pe->Q);
    colsum_add(n, Hc, dhc, Hc, g->c_b1);
    /* output layer: [∂raw density, ∂feature] */
    float *dout = b->d_b; /* (n, 1 + W) */
    aigc_sgemm(CblasNoTrans, CblasNoTrans, n, W, Hc, 1.0f, dhc, Hc, w->c_w1, W + pe->Q, 0.0f,
               dout + 1, 1 + W);
    m.d = dout, m.ld_d = 1 + W, m.y = b->head, m.ld_y = ld_head;
    aigc_parallel_for(n, 256, density_backward, &m);
    int ld_last;
    const float *last = layer_out(pe, b, pe->config.depth - 1, &ld_last);
    aigc_sgemm(CblasTrans, CblasNoTrans, 1 + W, W, n, 1.0f, dout, 1 + W, last, ld_last, 1.0f,
               g->out_w, W);
    colsum_add(n, 1 + W, dout, 1 + W, g->out_b);
    float *dh = b->d_a, *dprev = b->d_b; /* (n, W) */
    aigc_sgemm(CblasNoTrans, CblasNoTrans, n, W, 1 + W, 1.0f, dout, 1 + W, w->out_w, W, 0.0f, dh,
               W);
    /* density layers, last to first */
    for (int i = pe->config.depth - 1; i >= 0; i--) {
        int ld_out, ld_in, K = layer_in_dim(pe, i);
        const float *out = layer_out(pe, b, i, &ld_out), *in = layer_in(pe, b, i, &ld_in);
        m.d = dh, m.ld_d = W, m.y = out, m.ld_y = ld_out, m.cols = W;
        aigc_parallel_for(n, 256, relu_mask, &m);
        aigc_sgemm(CblasTrans, CblasNoTrans, W, K, n, 1.0f, dh, W, in, ld_in, 1.0f, g->w[i], K);
        colsum_add(n, W, dh, W, g->b[i]);
        if (i == 0)
            break;
        /* only the h part of the input (the first W columns of the skip layer's) */
        aigc_sgemm(CblasNoTrans, CblasNoTrans, n, W, W, 1.0f, dh, W, w->w[i], K, 0.0f, dprev, W);
        float *tmp = dh;
        dh = dprev;
        dprev = tmp;
    }
}

/* ---- sampling ---- */

static void sample_coarse(gint64 begin, gint64 end, gpointer data)
{
    Ctx *c = data;
    AigcNerfPeBatch *b = c->b;
    int Nc = b->Nc;
    for (gint64 r = begin; r < end; r++) {
        float t0 = b->t_near[r], t1 = b->t_far[r], bin = (t1 - t0) / Nc;
        float *t = b->t + r * Nc, *delta = b->delta_c + r * Nc;
        for (int k = 0; k < Nc; k++)
            t[k] = t0 + ((float)k + (c->jitter_c ? c->jitter_c[r * Nc + k] : 0.5f)) * bin;
        for (int k = 0; k < Nc; k++)
            delta[k] = (k + 1 < Nc ? t[k + 1] : t1) - t[k];
    }
}

/* Fine samples from the coarse weights (inverse transform of the bins' piecewise-constant
 * density), then the union of both sets in depth order with its interval lengths. */
static void sample_fine(gint64 begin, gint64 end, gpointer data)
{
    Ctx *c = data;
    AigcNerfPeBatch *b = c->b;
    int Nc = b->Nc, Nf = b->Nf, S = b->S;
    gint64 fine0 = (gint64)b->n_rays * Nc;
    float cdf[AIGC_NERF_PE_MAX_SAMPLES + 1];
    for (gint64 r = begin; r < end; r++) {
        float t0 = b->t_near[r], t1 = b->t_far[r], bin = (t1 - t0) / Nc;
        const float *tc = b->t + r * Nc;
        float *tf = b->t + fine0 + r * Nf;
        if (Nf > 0) {
            const float *sigma = b->sigma + r * Nc, *delta = b->delta_c + r * Nc;
            float T = 1.0f;
            cdf[0] = 0.0f;
            for (int k = 0; k < Nc; k++) {
                float tr = expf(-sigma[k] * delta[k]);
                cdf[k + 1] = cdf[k] + T * (1.0f - tr) + PDF_PADDING;
                T *= tr;
            }
            float total = cdf[Nc];
            int k = 0;
            for (int j = 0; j < Nf; j++) {
                float u = ((float)j + (c->jitter_f ? c->jitter_f[r * Nf + j] : 0.5f)) / Nf * total;
                while (k < Nc - 1 && cdf[k + 1] <= u)
                    k++;
                float frac = (u - cdf[k]) / MAX(cdf[k + 1] - cdf[k], 1e-30f);
                tf[j] = MIN(t0 + ((float)k + CLAMP(frac, 0.0f, 1.0f)) * bin, t1);
            }
        }
        /* merge: both lists are sorted */
        int *order = b->order + r * S;
        float *tu = b->t_u + r * S, *du = b->delta_u + r * S;
        int i = 0, j = 0;
        for (int m = 0; m < S; m++) {
            if (j >= Nf || (i < Nc && tc[i] <= tf[j])) {
                order[m] = (int)(r * Nc + i);
                tu[m] = tc[i++];
            } else {
                order[m] = (int)(fine0 + r * Nf + j);
                tu[m] = tf[j++];
            }
        }
        for (int m = 0; m < S; m++)
            du[m] = (m + 1 < S ? tu[m + 1] : t1) - tu[m];
    }
}

void aigc_nerf_pe_batch_sample(AigcNerfPe *pe, AigcNerfPeBatch *b, const float *jitter_c,
                               const float *jitter_f)
{
    Ctx c = {.pe = pe, .b = b, .jitter_c = jitter_c, .jitter_f = jitter_f};
    aigc_parallel_for(b->n_rays, 16, sample_coarse, &c);
    density_rows(pe, b, 0, (gint64)b->n_rays * b->Nc);
    aigc_parallel_for(b->n_rays, 16, sample_fine, &c);
}

static void gather_union(gint64 begin, gint64 end, gpointer data)
{
    Ctx *c = data;
    AigcNerfPeBatch *b = c->b;
    for (gint64 m = begin * b->S; m < end * b->S; m++) {
        int row = b->order[m];
        b->sigma_u[m] = b->sigma[row];
        for (int k = 0; k < 3; k++)
            b->rgb_u[3 * m + k] = b->rgb[3 * row + k];
    }
}

void aigc_nerf_pe_batch_forward(AigcNerfPe *pe, AigcNerfPeBatch *b, gint64 first_row)
{
    gint64 n_rows = (gint64)b->n_rays * b->S;
    density_rows(pe, b, first_row, n_rows);
    colour_rows(pe, b, n_rows);
    Ctx c = {.pe = pe, .b = b};
    aigc_parallel_for(b->n_rays, 16, gather_union, &c);
}

void aigc_nerf_pe_batch_composite(const AigcNerfPeBatch *b, const float background[3],
                                  float *out_rgb, float *out_depth, float *out_opacity)
{
    aigc_volrender_forward(b->n_rays, b->offset_u, b->count_u, b->sigma_u, b->rgb_u, b->delta_u,
                           b->t_u, background, out_rgb, out_depth, out_opacity);
}

static void scatter_union(gint64 begin, gint64 end, gpointer data)
{
    Ctx *c = data;
    AigcNerfPeBatch *b = c->b;
    for (gint64 m = begin * b->S; m < end * b->S; m++) {
        int row = b->order[m];
        b->d_sigma[row] += b->d_sigma_u[m];
        for (int k = 0; k < 3; k++)
            b->d_rgb[3 * row + k] += b->d_rgb_u[3 * m + k];
    }
}

double aigc_nerf_pe_batch_backward(AigcNerfPe *pe, AigcNerfPeBatch *b, const float *background,
                                   const float *target, float scale, float coarse_weight,
                                   double *se_coarse)
{
    g_return_val_if_fail(b->training, 0.0);
    gint64 n_rows = (gint64)b->n_rays * b->S, n_coarse = (gint64)b->n_rays * b->Nc;
    if (b->n_rays == 0) {
        if (se_coarse)
            *se_coarse = 0.0;
        return 0.0;
    }
    /* The coarse loss writes the coarse rows' gradients; the fine rows start at zero. Without
     * fine samples the union is the coarse set and that loss alone is used. */
    double se_c = 0.0;
    if (b->Nf > 0)
        se_c = aigc_volrender_train(b->n_rays, b->offset_c, b->count_c, b->sigma, b->rgb,
                                    b->delta_c, background, target, scale * coarse_weight,
                                    b->d_sigma, b->d_rgb, NULL);
    gint64 zero_from = b->Nf > 0 ? n_coarse : 0;
    memset(b->d_sigma + zero_from, 0, sizeof(float) * (n_rows - zero_from));
    memset(b->d_rgb + 3 * zero_from, 0, sizeof(float) * 3 * (n_rows - zero_from));
    double se_f = aigc_volrender_train(b->n_rays, b->offset_u, b->count_u, b->sigma_u, b->rgb_u,
                                       b->delta_u, background, target, scale, b->d_sigma_u,
                                       b->d_rgb_u, NULL);
    Ctx c = {.pe = pe, .b = b};
    aigc_parallel_for(b->n_rays, 16, scatter_union, &c);
    network_backward(pe, b, n_rows);
    if (se_coarse)
        *se_coarse = b->Nf > 0 ? se_c : se_f;
    return se_f;
}
