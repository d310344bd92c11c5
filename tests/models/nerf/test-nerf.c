/* SPDX-License-Identifier: MIT
 *
 * NeRF model pieces. A reference implementation in double, written here from the formulas
 * (hash-grid encoding, the density and colour MLPs, compositing), checks every forward pass;
 * central finite differences of that reference (in double, so there is no float noise) check
 * every analytic gradient of the float kernels: hash tables, MLP weights and biases, densities
 * and colours. Then the spherical harmonics (orthonormality), the occupancy grid (marching
 * skips empty cells and stays on its lattice) and a short training run on the sample scene.
 */
#include "aigc-engine.h"
#include "io/aigc-transforms.h"
#include "models/nerf/aigc-nerf.h"
#include "models/nerf/aigc-volrender.h"
#include "nn/aigc-elementwise.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* ---- the reference field, in double ---- */

static double ref_clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* Encoding of one point, written from the definition: for each level, the trilinear
 * interpolation of the table rows at the 8 vertices of the point's cell. */
static void ref_encode(const AigcHashgrid *g, const double *table, const double x[3], double *out)
{
    int F = g->config.n_features;
    for (int l = 0; l < g->config.n_levels; l++) {
        int res = g->res[l];
        long cell[3];
        double frac[3];
        for (int a = 0; a < 3; a++) {
            double p = ref_clamp01(x[a]) * res;
            cell[a] = MIN((long)floor(p), (long)res - 1);
            frac[a] = p - cell[a];
        }
        for (int f = 0; f < F; f++)
            out[l * F + f] = 0;
        for (int dz = 0; dz < 2; dz++)
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    guint32 vx = (guint32)(cell[0] + dx), vy = (guint32)(cell[1] + dy),
                            vz = (guint32)(cell[2] + dz);
                    guint64 index;
                    if (g->hashed[l])
                        index = (vx ^ (vy * 2654435761u) ^ (vz * 805459861u)) % (guint64)g->size[l];
                    else
                        index = vx + (guint64)vy * (res + 1) + (guint64)vz * (res + 1) * (res + 1);
                    double w = (dx ? frac[0] : 1 - frac[0]) * (dy ? frac[1] : 1 - frac[1]) *
                               (dz ? frac[2] : 1 - frac[2]);
                    for (int f = 0; f < F; f++)
                        out[l * F + f] += w * table[(g->offset[l] + index) * F + f];
                }
    }
}

/* The field's parameters copied to double, in AigcParams order (grid, then MLP). */
typedef struct {
    const AigcNerfField *field;
    double *grid; /* n_grid */
    double *mlp;  /* n_mlp */
    gint64 n_grid, n_mlp;
} RefParams;

static RefParams ref_params_from(const AigcNerfField *field)
{
    RefParams p = {field};
    p.n_grid = aigc_params_get_n_elements(field->grid_params);
    p.n_mlp = aigc_params_get_n_elements(field->mlp_params);
    p.grid = g_new(double, p.n_grid);
    p.mlp = g_new(double, p.n_mlp);
    const float *g = aigc_params_get_data(field->grid_params);
    const float *m = aigc_params_get_data(field->mlp_params);
    for (gint64 i = 0; i < p.n_grid; i++)
        p.grid[i] = g[i];
    for (gint64 i = 0; i < p.n_mlp; i++)
        p.mlp[i] = m[i];
    return p;
}

static void ref_params_clear(RefParams *p)
{
    g_free(p->grid);
    g_free(p->mlp);
}

/* The double copy of MLP parameter `name` (same offset as in the float buffer). */
static const double *ref_mlp(const RefParams *p, const char *name)
{
    AigcTensor *t = aigc_params_find(p->field->mlp_params, name);
    g_assert_nonnull(t);
    return p->mlp + (t->data - aigc_params_get_data(p->field->mlp_params));
}

static void ref_linear(const double *x, int n_in, const double *w, const double *b, int n_out,
                       gboolean relu, double *y)
{
    for (int o = 0; o < n_out; o++) {
        double s = b[o];
        for (int i = 0; i < n_in; i++)
            s += w[o * n_in + i] * x[i];
        y[o] = relu && s < 0 ? 0 : s;
    }
}

static void ref_sh(const double d[3], double *o)
{
    double x = d[0], y = d[1], z = d[2];
    o[0] = 0.28209479177387814;
    o[1] = -0.48860251190291987 * y;
    o[2] = 0.48860251190291987 * z;
    o[3] = -0.48860251190291987 * x;
    o[4] = 1.0925484305920792 * x * y;
    o[5] = -1.0925484305920792 * y * z;
    o[6] = 0.94617469575755997 * z * z - 0.31539156525251999;
    o[7] = -1.0925484305920792 * x * z;
    o[8] = 0.54627421529603959 * (x * x - y * y);
    o[9] = 0.59004358992664352 * y * (-3 * x * x + y * y);
    o[10] = 2.8906114426405538 * x * y * z;
    o[11] = 0.45704579946446572 * y * (1 - 5 * z * z);
    o[12] = 0.3731763325901154 * z * (5 * z * z - 3);
    o[13] = 0.45704579946446572 * x * (1 - 5 * z * z);
    o[14] = 1.4453057213202769 * z * (x * x - y * y);
    o[15] = 0.59004358992664352 * x * (-x * x + 3 * y * y);
}

/* σ and RGB of one sample. */
static void ref_field(const RefParams *p, const double x[3], const double d[3], double *sigma,
                      double rgb[3])
{
    const AigcNerfField *f = p->field;
    int E = aigc_hashgrid_n_outputs(&f->grid), Hd = f->config.density_hidden,
        Hc = f->config.colour_hidden;
    double enc[AIGC_HASHGRID_MAX_LEVELS * AIGC_HASHGRID_MAX_FEATURES], h1[AIGC_NERF_MAX_HIDDEN],
        cin[AIGC_NERF_COLOUR_IN], h2[AIGC_NERF_MAX_HIDDEN], h3[AIGC_NERF_MAX_HIDDEN], out[3];
    ref_encode(&f->grid, p->grid, x, enc);
    ref_linear(enc, E, ref_mlp(p, "density.0.weight"), ref_mlp(p, "density.0.bias"), Hd, TRUE, h1);
    ref_linear(h1, Hd, ref_mlp(p, "density.1.weight"), ref_mlp(p, "density.1.bias"),
               AIGC_NERF_GEO_DIM, FALSE, cin);
    *sigma = exp(MIN(cin[0], (double)AIGC_NERF_LOG_DENSITY_MAX));
    ref_sh(d, cin + AIGC_NERF_GEO_DIM);
    ref_linear(cin, AIGC_NERF_COLOUR_IN, ref_mlp(p, "colour.0.weight"), ref_mlp(p, "colour.0.bias"),
               Hc, TRUE, h2);
    ref_linear(h2, Hc, ref_mlp(p, "colour.1.weight"), ref_mlp(p, "colour.1.bias"), Hc, TRUE, h3);
    ref_linear(h3, Hc, ref_mlp(p, "colour.2.weight"), ref_mlp(p, "colour.2.bias"), 3, FALSE, out);
    for (int c = 0; c < 3; c++)
        rgb[c] = 1 / (1 + exp(-out[c]));
}

/* ---- helpers ---- */

static AigcNerfFieldConfig small_field_config(void)
{
    AigcNerfFieldConfig c = aigc_nerf_field_default_config();
    /* 4 levels 2…16 cells: the first two dense, the last two hashed into 2^8 entries. */
    c.grid.n_levels = 4;
    c.grid.n_features = 2;
    c.grid.log2_table = 8;
    c.grid.base_res = 2;
    c.grid.finest_res = 16;
    c.density_hidden = 8;
    c.colour_hidden = 8;
    return c;
}

static void random_unit(AigcRng *rng, float d[3])
{
    float n = 0;
    for (int a = 0; a < 3; a++) {
        d[a] = aigc_rng_normal(rng);
        n += d[a] * d[a];
    }
    n = sqrtf(n);
    for (int a = 0; a < 3; a++)
        d[a] /= n;
}

/* Larger-than-initial random weights so every layer matters in the checks. */
static AigcNerfField *make_field(const AigcNerfFieldConfig *config, guint64 seed)
{
    g_autoptr(GError) error = NULL;
    AigcNerfField *f = aigc_nerf_field_new(config, &error);
    g_assert_no_error(error);
    aigc_nerf_field_init_weights(f, seed);
    AigcRng rng;
    aigc_rng_init(&rng, seed + 100);
    aigc_rng_fill_uniform(&rng, aigc_params_get_data(f->grid_params),
                          aigc_params_get_n_elements(f->grid_params), -1.0f, 1.0f);
    float *m = aigc_params_get_data(f->mlp_params);
    for (gint64 i = 0; i < aigc_params_get_n_elements(f->mlp_params); i++)
        m[i] += 0.1f * aigc_rng_normal(&rng); /* biases too */
    return f;
}

/* ---- hash grid ---- */

static void test_hashgrid_layout(void)
{
    AigcHashgridConfig c = aigc_hashgrid_default_config();
    AigcHashgrid g;
    g_assert_true(aigc_hashgrid_init(&g, &c, NULL));
    g_assert_cmpint(g.res[0], ==, 16);
    g_assert_cmpint(g.res[15], ==, 512);
    gint64 total = 0;
    for (int l = 0; l < 16; l++) {
        if (l > 0)
            g_assert_cmpint(g.res[l], >, g.res[l - 1]);
        gint64 dense = (gint64)(g.res[l] + 1) * (g.res[l] + 1) * (g.res[l] + 1);
        g_assert_cmpint(g.hashed[l], ==, dense > (1 << 17));
        g_assert_cmpint(g.size[l], ==, g.hashed[l] ? (1 << 17) : dense);
        g_assert_cmpint(g.offset[l], ==, total);
        total += g.size[l];
    }
    g_assert_cmpint(g.n_entries, ==, total);
    g_assert_false(g.hashed[0]);
    g_assert_true(g.hashed[15]);

    AigcHashgridConfig bad = c;
    bad.finest_res = 8; /* below base */
    g_autoptr(GError) error = NULL;
    g_assert_false(aigc_hashgrid_init(&g, &bad, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
}

static void test_hashgrid_forward_backward(void)
{
    AigcNerfFieldConfig config = small_field_config();
    g_autoptr(AigcNerfField) f = make_field(&config, 7);
    const AigcHashgrid *g = &f->grid;
    g_assert_false(g->hashed[0]);
    g_assert_true(g->hashed[3]);
    enum { N = 40 };
    int E = aigc_hashgrid_n_outputs(g);
    float x[N * 3], out[N * 16], dout[N * 16];
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    for (int i = 0; i < N * 3; i++)
        x[i] = aigc_rng_uniform(&rng) * 1.2f - 0.1f; /* some outside [0, 1]: clamped */
    x[0] = 1.0f;                                     /* the far faces of the cube */
    x[4] = 0.0f;
    aigc_hashgrid_forward(g, f->w.table, N, x, out);
    RefParams p = ref_params_from(f);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double xd[3] = {x[3 * i], x[3 * i + 1], x[3 * i + 2]}, want[16];
        ref_encode(g, p.grid, xd, want);
        for (int k = 0; k < E; k++)
            worst = MAX(worst, fabs(out[i * E + k] - want[k]));
    }
    g_test_message("hash grid forward: worst |float − double| = %.3g", worst);
    g_assert_cmpfloat(worst, <, 1e-6);

    /* Backward: L = Σ dout·out is linear in the table, so ∂L/∂table[j] is exactly the
     * difference of L at table[j] ± 1 over 2, computed with the double reference. */
    aigc_rng_fill_uniform(&rng, dout, N * E, -1.0f, 1.0f);
    aigc_params_zero_grad(f->grid_params);
    aigc_hashgrid_backward(g, N, x, dout, f->g.table);
    int n_checked = 0, n_nonzero = 0;
    for (gint64 j = 0; j < p.n_grid; j++) {
        double saved = p.grid[j], L[2];
        for (int s = 0; s < 2; s++) {
            p.grid[j] = saved + (s ? 1.0 : -1.0);
            L[s] = 0;
            for (int i = 0; i < N; i++) {
                double xd[3] = {x[3 * i], x[3 * i + 1], x[3 * i + 2]}, e[16];
                ref_encode(g, p.grid, xd, e);
                for (int k = 0; k < E; k++)
                    L[s] += dout[i * E + k] * e[k];
            }
        }
        p.grid[j] = saved;
        double fd = (L[1] - L[0]) / 2;
        g_assert_cmpfloat(fabs(f->g.table[j] - fd), <=, 1e-5 + 1e-5 * fabs(fd));
        n_checked++;
        n_nonzero += fd != 0;
    }
    g_test_message("hash grid backward: %d entries checked, %d touched", n_checked, n_nonzero);
    g_assert_cmpint(n_nonzero, >, 100);
    ref_params_clear(&p);
}

/* ---- spherical harmonics ---- */

static void test_sh_orthonormal(void)
{
    /* A Fibonacci sphere of directions approximates ∫ Y_i Y_j dω / 4π … times 4π = δ_ij. */
    enum { N = 20000 };
    double gram[16][16] = {{0}};
    for (int k = 0; k < N; k++) {
        double z = 1 - (2.0 * k + 1) / N, r = sqrt(1 - z * z), phi = k * G_PI * (3 - sqrt(5.0));
        float d[3] = {(float)(r * cos(phi)), (float)(r * sin(phi)), (float)z}, y[16];
        aigc_nerf_sh_encode(1, d, y, 16);
        double dd[3] = {d[0], d[1], d[2]}, want[16];
        ref_sh(dd, want);
        for (int i = 0; i < 16; i++) {
            g_assert_cmpfloat(fabs(y[i] - want[i]), <, 1e-6);
            for (int j = 0; j < 16; j++)
                gram[i][j] += y[i] * y[j] * 4 * G_PI / N;
        }
    }
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            g_assert_cmpfloat(fabs(gram[i][j] - (i == j)), <, 2e-3);
}

/* ---- the field: forward and gradients ---- */

enum { FIELD_MAX_N = 300 };

typedef struct {
    int n;
    float x[FIELD_MAX_N * 3], dir[FIELD_MAX_N * 3];
    double a[FIELD_MAX_N * 3], b[FIELD_MAX_N]; /* L = Σ a·rgb + Σ b·σ */
} FieldCase;

static double ref_field_loss(const RefParams *p, const FieldCase *fc)
{
    double L = 0;
    for (int i = 0; i < fc->n; i++) {
        double x[3] = {fc->x[3 * i], fc->x[3 * i + 1], fc->x[3 * i + 2]};
        double d[3] = {fc->dir[3 * i], fc->dir[3 * i + 1], fc->dir[3 * i + 2]}, sigma, rgb[3];
        ref_field(p, x, d, &sigma, rgb);
        L += fc->b[i] * sigma;
        for (int c = 0; c < 3; c++)
            L += fc->a[3 * i + c] * rgb[c];
    }
    return L;
}

/* Forward values and gradients of n samples against the double reference; max_checks random
 * parameters of each set (0: all of them). */
static void field_gradcheck(int n, int max_checks)
{
    AigcNerfFieldConfig config = small_field_config();
    g_autoptr(AigcNerfField) f = make_field(&config, 3);
    g_autoptr(AigcNerfBatch) batch = aigc_nerf_batch_new(f, n, TRUE);
    FieldCase *fc = g_new0(FieldCase, 1);
    fc->n = n;
    AigcRng rng;
    aigc_rng_init(&rng, 5);
    for (int i = 0; i < n; i++) {
        for (int a = 0; a < 3; a++)
            fc->x[3 * i + a] = aigc_rng_uniform(&rng);
        random_unit(&rng, fc->dir + 3 * i);
        for (int c = 0; c < 3; c++)
            fc->a[3 * i + c] = aigc_rng_uniform(&rng) * 2 - 1;
        fc->b[i] = (aigc_rng_uniform(&rng) * 2 - 1) * 0.1;
    }
    memcpy(batch->x, fc->x, sizeof(float) * 3 * n);
    memcpy(batch->dir, fc->dir, sizeof(float) * 3 * n);
    aigc_nerf_field_density(f, batch, n);
    aigc_nerf_field_colour(f, batch, n);

    /* forward against the reference */
    RefParams p = ref_params_from(f);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double x[3] = {fc->x[3 * i], fc->x[3 * i + 1], fc->x[3 * i + 2]};
        double d[3] = {fc->dir[3 * i], fc->dir[3 * i + 1], fc->dir[3 * i + 2]}, sigma, rgb[3];
        ref_field(&p, x, d, &sigma, rgb);
        worst = MAX(worst, fabs(batch->sigma[i] - sigma) / MAX(1.0, sigma));
        for (int c = 0; c < 3; c++)
            worst = MAX(worst, fabs(batch->rgb[3 * i + c] - rgb[c]));
    }
    g_test_message("field forward, %d samples: worst relative error %.3g", n, worst);
    g_assert_cmpfloat(worst, <, 1e-5);

    /* analytic gradients */
    g_autofree float *d_rgb = g_new(float, 3 * n);
    g_autofree float *d_sigma = g_new(float, n);
    for (int i = 0; i < 3 * n; i++)
        d_rgb[i] = (float)fc->a[i];
    for (int i = 0; i < n; i++)
        d_sigma[i] = (float)fc->b[i];
    aigc_params_zero_grad(f->grid_params);
    aigc_params_zero_grad(f->mlp_params);
    aigc_nerf_field_backward(f, batch, n, d_rgb, d_sigma);

    /* MLP parameters and hash-table entries against central differences in double */
    const float *grads[2] = {aigc_params_get_grad(f->mlp_params),
                             aigc_params_get_grad(f->grid_params)};
    double *values[2] = {p.mlp, p.grid};
    gint64 counts[2] = {p.n_mlp, p.n_grid};
    const double eps = 1e-6;
    for (int set = 0; set < 2; set++) {
        double worst_err = 0, biggest = 0;
        int n_nonzero = 0, n_checked = 0;
        gint64 n_check = max_checks ? MIN(max_checks, counts[set]) : counts[set];
        for (gint64 k = 0; k < n_check; k++) {
            gint64 j = max_checks ? (gint64)aigc_rng_below(&rng, (guint32)counts[set]) : k;
            if (max_checks && set == 1 && grads[set][j] == 0.0f && k % 4 != 0)
                continue; /* mostly entries the samples touch (a few untouched ones too) */
            double saved = values[set][j];
            values[set][j] = saved + eps;
            double up = ref_field_loss(&p, fc);
            values[set][j] = saved - eps;
            double down = ref_field_loss(&p, fc);
            values[set][j] = saved;
            double fd = (up - down) / (2 * eps);
            double err = fabs(grads[set][j] - fd) / (1e-4 + fabs(fd));
            worst_err = MAX(worst_err, err);
            biggest = MAX(biggest, fabs(fd));
            n_nonzero += fabs(fd) > 1e-9;
            n_checked++;
            if (err > 2e-3)
                g_error("%s parameter %" G_GINT64_FORMAT ": analytic %.8g, numeric %.8g",
                        set ? "grid" : "mlp", j, grads[set][j], fd);
        }
        g_test_message("%s: %d of %" G_GINT64_FORMAT " parameters checked, %d with a gradient "
                       "(largest %.3g); worst relative error %.3g",
                       set ? "hash grid" : "MLPs", n_checked, counts[set], n_nonzero, biggest,
                       worst_err);
        g_assert_cmpint(n_nonzero, >, n_checked / 4);
    }
    ref_params_clear(&p);
    g_free(fc);
}

/* Every parameter, one chunk of samples. */
static void test_field_gradcheck(void)
{
    field_gradcheck(24, 0);
}

/* Several chunks (the last one partial) spread over the backward pass's work slots. */
static void test_field_gradcheck_chunks(void)
{
    field_gradcheck(FIELD_MAX_N, 80);
}

/* The same checks on the code for CPUs without AVX2 (cblas_sgemm layers, scalar hash grid). */
static void test_field_gradcheck_baseline(void)
{
    gboolean saved = aigc_simd_get_avx2();
    aigc_simd_set_avx2(FALSE);
    field_gradcheck(FIELD_MAX_N, 80);
    aigc_simd_set_avx2(saved);
}

/* Density, colour and every gradient of a batch of several backward groups come out bit for bit
 * the same on one thread as on two (each group sums its own gradients; groups are added in
 * order). */
static void test_field_threads(void)
{
    enum { N = 2500 };
    AigcNerfFieldConfig config = small_field_config();
    g_autoptr(AigcNerfField) f = make_field(&config, 9);
    gint64 n_mlp = aigc_params_get_n_elements(f->mlp_params),
           n_grid = aigc_params_get_n_elements(f->grid_params);
    g_autofree float *x = g_new(float, 3 * N), *dir = g_new(float, 3 * N);
    g_autofree float *d_rgb = g_new(float, 3 * N), *d_sigma = g_new(float, N);
    AigcRng rng;
    aigc_rng_init(&rng, 21);
    for (int i = 0; i < N; i++) {
        for (int a = 0; a < 3; a++)
            x[3 * i + a] = aigc_rng_uniform(&rng);
        random_unit(&rng, dir + 3 * i);
        d_sigma[i] = (aigc_rng_uniform(&rng) * 2 - 1) * 0.1f;
    }
    aigc_rng_fill_uniform(&rng, d_rgb, 3 * N, -1, 1);
    float *out[2], *grads[2];
    for (int run = 0; run < 2; run++) {
        aigc_threads_init(run ? 2 : 1);
        g_autoptr(AigcNerfBatch) b = aigc_nerf_batch_new(f, N, TRUE);
        memcpy(b->x, x, sizeof(float) * 3 * N);
        memcpy(b->dir, dir, sizeof(float) * 3 * N);
        aigc_nerf_field_density(f, b, N);
        aigc_nerf_field_colour(f, b, N);
        g_autofree float *d_rgb_copy = g_memdup2(d_rgb, sizeof(float) * 3 * N);
        aigc_params_zero_grad(f->grid_params);
        aigc_params_zero_grad(f->mlp_params);
        aigc_nerf_field_backward(f, b, N, d_rgb_copy, d_sigma);
        out[run] = g_new(float, 4 * N);
        memcpy(out[run], b->sigma, sizeof(float) * N);
        memcpy(out[run] + N, b->rgb, sizeof(float) * 3 * N);
        grads[run] = g_new(float, n_mlp + n_grid);
        memcpy(grads[run], aigc_params_get_grad(f->mlp_params), sizeof(float) * n_mlp);
        memcpy(grads[run] + n_mlp, aigc_params_get_grad(f->grid_params), sizeof(float) * n_grid);
    }
    aigc_threads_init(2);
    g_assert_cmpmem(out[0], sizeof(float) * 4 * N, out[1], sizeof(float) * 4 * N);
    g_assert_cmpmem(grads[0], sizeof(float) * (n_mlp + n_grid), grads[1],
                    sizeof(float) * (n_mlp + n_grid));
    g_free(out[0]);
    g_free(out[1]);
    g_free(grads[0]);
    g_free(grads[1]);
}

/* ---- volume rendering ---- */

enum { VR_RAYS = 4, VR_SAMPLES = 4 + 7 + 1 + 9 };

typedef struct {
    gint64 offset[VR_RAYS + 1];
    int count[VR_RAYS];
    double sigma[VR_SAMPLES], rgb[VR_SAMPLES * 3], delta[VR_SAMPLES];
    double bg[VR_RAYS * 3], target[VR_RAYS * 3];
} VrCase;

static void ref_composite(const VrCase *v, int ray, double C[3])
{
    double T = 1;
    for (int c = 0; c < 3; c++)
        C[c] = 0;
    for (int k = 0; k < v->count[ray]; k++) {
        gint64 i = v->offset[ray] + k;
        double alpha = 1 - exp(-v->sigma[i] * v->delta[i]);
        for (int c = 0; c < 3; c++)
            C[c] += T * alpha * v->rgb[3 * i + c];
        T *= 1 - alpha;
    }
    for (int c = 0; c < 3; c++)
        C[c] += T * v->bg[3 * ray + c];
}

static double ref_vr_loss(const VrCase *v)
{
    double L = 0;
    for (int r = 0; r < VR_RAYS; r++) {
        double C[3];
        ref_composite(v, r, C);
        for (int c = 0; c < 3; c++)
            L += (C[c] - v->target[3 * r + c]) * (C[c] - v->target[3 * r + c]);
    }
    return L;
}

static void test_volrender(void)
{
    VrCase v;
    int counts[VR_RAYS] = {4, 7, 1, 9};
    AigcRng rng;
    aigc_rng_init(&rng, 9);
    v.offset[0] = 0;
    for (int r = 0; r < VR_RAYS; r++) {
        v.count[r] = counts[r];
        v.offset[r + 1] = v.offset[r] + counts[r];
        for (int c = 0; c < 3; c++) {
            v.bg[3 * r + c] = aigc_rng_uniform(&rng);
            v.target[3 * r + c] = aigc_rng_uniform(&rng);
        }
    }
    g_assert_cmpint(v.offset[VR_RAYS], ==, VR_SAMPLES);
    for (int i = 0; i < VR_SAMPLES; i++) {
        v.sigma[i] = aigc_rng_uniform(&rng) * 30;
        v.delta[i] = 0.01 + 0.05 * aigc_rng_uniform(&rng);
        for (int c = 0; c < 3; c++)
            v.rgb[3 * i + c] = aigc_rng_uniform(&rng);
    }
    float sigma[VR_SAMPLES], rgb[VR_SAMPLES * 3], delta[VR_SAMPLES], t[VR_SAMPLES];
    float bg[VR_RAYS * 3], target[VR_RAYS * 3];
    for (int i = 0; i < VR_SAMPLES; i++) {
        sigma[i] = (float)v.sigma[i];
        delta[i] = (float)v.delta[i];
        t[i] = 1.0f + 0.1f * i;
        for (int c = 0; c < 3; c++)
            rgb[3 * i + c] = (float)v.rgb[3 * i + c];
    }
    for (int i = 0; i < VR_RAYS * 3; i++) {
        bg[i] = (float)v.bg[i];
        target[i] = (float)v.target[i];
    }
    /* Exact float copies back into the reference, so both start from the same numbers. */
    for (int i = 0; i < VR_SAMPLES; i++) {
        v.sigma[i] = sigma[i];
        v.delta[i] = delta[i];
        for (int c = 0; c < 3; c++)
            v.rgb[3 * i + c] = rgb[3 * i + c];
    }
    for (int i = 0; i < VR_RAYS * 3; i++) {
        v.bg[i] = bg[i];
        v.target[i] = target[i];
    }

    /* forward (one shared background: ray 0's) */
    float out[VR_RAYS * 3], depth[VR_RAYS], opacity[VR_RAYS];
    aigc_volrender_forward(VR_RAYS, v.offset, v.count, sigma, rgb, delta, t, bg, out, depth,
                           opacity);
    for (int r = 0; r < VR_RAYS; r++) {
        VrCase shared = v;
        for (int c = 0; c < 3; c++)
            shared.bg[3 * r + c] = v.bg[c];
        double C[3], T = 1, D = 0;
        ref_composite(&shared, r, C);
        for (int c = 0; c < 3; c++)
            g_assert_cmpfloat(fabs(out[3 * r + c] - C[c]), <, 1e-6);
        for (int k = 0; k < v.count[r]; k++) {
            gint64 i = v.offset[r] + k;
            double alpha = 1 - exp(-v.sigma[i] * v.delta[i]);
            D += T * alpha * t[i];
            T *= 1 - alpha;
        }
        g_assert_cmpfloat(fabs(depth[r] - D), <, 1e-5);
        g_assert_cmpfloat(fabs(opacity[r] - (1 - T)), <, 1e-6);
    }

    /* fused forward + backward against central differences of the double reference */
    float d_sigma[VR_SAMPLES], d_rgb[VR_SAMPLES * 3], C[VR_RAYS * 3];
    double sum = aigc_volrender_train(VR_RAYS, v.offset, v.count, sigma, rgb, delta, bg, target,
                                      1.0f, d_sigma, d_rgb, C);
    g_assert_cmpfloat(fabs(sum - ref_vr_loss(&v)), <, 1e-6);
    const double eps = 1e-6;
    for (int i = 0; i < VR_SAMPLES; i++) {
        double *params[4] = {&v.sigma[i], &v.rgb[3 * i], &v.rgb[3 * i + 1], &v.rgb[3 * i + 2]};
        float analytic[4] = {d_sigma[i], d_rgb[3 * i], d_rgb[3 * i + 1], d_rgb[3 * i + 2]};
        for (int k = 0; k < 4; k++) {
            double saved = *params[k];
            *params[k] = saved + eps;
            double up = ref_vr_loss(&v);
            *params[k] = saved - eps;
            double down = ref_vr_loss(&v);
            *params[k] = saved;
            double fd = (up - down) / (2 * eps);
            if (fabs(analytic[k] - fd) > 1e-5 + 1e-4 * fabs(fd))
                g_error("sample %d, %s: analytic %.8g, numeric %.8g", i, k ? "colour" : "sigma",
                        analytic[k], fd);
        }
    }

    /* early termination: the first sample that leaves transmittance below the limit is the
     * last one counted */
    float dense_sigma[VR_SAMPLES];
    for (int i = 0; i < VR_SAMPLES; i++)
        dense_sigma[i] = 400.0f; /* α ≈ 0.98 … 1 per sample */
    int n_used[VR_RAYS];
    aigc_volrender_count_used(VR_RAYS, v.offset, v.count, dense_sigma, delta,
                              AIGC_VOLRENDER_MIN_TRANSMITTANCE, n_used);
    for (int r = 0; r < VR_RAYS; r++) {
        double T = 1;
        int want = 0;
        while (want < v.count[r] && T >= AIGC_VOLRENDER_MIN_TRANSMITTANCE)
            T *= exp(-400.0 * delta[v.offset[r] + want++]);
        g_assert_cmpint(n_used[r], ==, want);
        g_assert_cmpint(n_used[r], <=, v.count[r]);
    }
    g_assert_cmpint(n_used[3], <, 9);
}

/* ---- occupancy grid ---- */

static void test_occupancy_march(void)
{
    float lo[3] = {-1, -1, -1}, hi[3] = {1, 1, 1};
    g_autoptr(AigcOccupancy) occ = aigc_occupancy_new(8, lo, hi);
    g_assert_cmpint(occ->n_occupied, ==, 512);
    /* Measure one cell dense, the rest empty: only it stays occupied. */
    gint64 cells[512];
    float dens[512];
    for (int i = 0; i < 512; i++) {
        cells[i] = i;
        dens[i] = 0.0f;
    }
    gint64 target = 3 + 8 * (4 + 8 * 4); /* x ∈ [−0.25, 0], y, z ∈ [0, 0.25] */
    dens[target] = 50.0f;
    aigc_occupancy_update(occ, 512, cells, dens, 0.5f, 1.0f);
    g_assert_cmpint(occ->n_occupied, ==, 1);
    g_assert_true(aigc_occupancy_get(occ, target));

    /* A ray along +x through that cell's centre line. */
    float o[3] = {-3, 0.125f, 0.125f}, d[3] = {1, 0, 0}, t0, t1;
    g_assert_true(aigc_occupancy_clip(occ, o, d, 0.0f, &t0, &t1));
    g_assert_cmpfloat_with_epsilon(t0, 2.0, 1e-6);
    g_assert_cmpfloat_with_epsilon(t1, 4.0, 1e-6);
    float t[64];
    float dt = 0.01f, jitter = 0.3f;
    int n = aigc_occupancy_march(occ, o, d, t0, t1, dt, jitter, 64, t);
    g_assert_cmpint(n, >=, 24);
    g_assert_cmpint(n, <=, 26);
    for (int i = 0; i < n; i++) {
        float x = o[0] + t[i] * d[0];
        g_assert_cmpfloat(x, >=, -0.25f - 1e-5f);
        g_assert_cmpfloat(x, <=, 0.0f + 1e-5f);
        /* on the lattice t0 + (k + jitter)·dt */
        float k = (t[i] - t0) / dt - jitter;
        g_assert_cmpfloat(fabsf(k - roundf(k)), <, 1e-3);
    }
    /* counting only agrees with writing, and the cap holds */
    g_assert_cmpint(aigc_occupancy_march(occ, o, d, t0, t1, dt, jitter, 64, NULL), ==, n);
    g_assert_cmpint(aigc_occupancy_march(occ, o, d, t0, t1, dt, jitter, 5, t), ==, 5);
    /* A ray that misses the cell gets nothing; one that misses the box is clipped away. */
    float o2[3] = {-3, -0.5f, 0.125f};
    g_assert_cmpint(aigc_occupancy_march(occ, o2, d, t0, t1, dt, jitter, 64, t), ==, 0);
    float o3[3] = {-3, 2, 0};
    g_assert_false(aigc_occupancy_clip(occ, o3, d, 0.0f, &t0, &t1));

    /* Without new measurements a cell's value decays geometrically. */
    for (int k = 0; k < 8; k++)
        aigc_occupancy_update(occ, 0, cells, dens, 0.5f, 1.0f);
    g_assert_cmpfloat(occ->density[target], ==, 50.0f / 256.0f);
    /* A measurement above the decayed value replaces it, and the threshold is the smaller of
     * the given one and the mean: everything at 2 with threshold 1 is all occupied … */
    for (int i = 0; i < 512; i++)
        dens[i] = 2.0f;
    aigc_occupancy_update(occ, 512, cells, dens, 0.5f, 1.0f);
    g_assert_cmpint(occ->n_occupied, ==, 512);
    /* … and with a high threshold, only cells above the mean are. */
    for (int i = 0; i < 512; i++)
        dens[i] = i < 100 ? 10.0f : 0.0f;
    aigc_occupancy_update(occ, 512, cells, dens, 0.0f, 1e6f);
    g_assert_cmpint(occ->n_occupied, ==, 100);
}

/* ---- training on the sample scene ---- */

static void test_train_woodbox(void)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", "data", "scene", "woodbox",
                                                  "transforms_train.json", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTransforms) data = aigc_transforms_load(path, NULL, &error);
    g_assert_no_error(error);
    AigcNerfConfig config = aigc_nerf_default_config();
    config.field.grid.n_levels = 8;
    config.field.grid.log2_table = 14;
    config.field.grid.finest_res = 128;
    config.field.density_hidden = 32;
    config.field.colour_hidden = 32;
    config.occupancy_res = 32;
    config.n_steps = 128;
    g_autoptr(AigcNerf) nerf = aigc_nerf_new(&config, data->aabb_min, data->aabb_max, &error);
    g_assert_no_error(error);
    aigc_nerf_init_weights(nerf, 1);
    AigcNerfTrainParams tp = aigc_nerf_default_train_params();
    tp.samples_per_step = 1 << 13;
    tp.occupancy_warmup = 32;
    g_autoptr(AigcNerfTrainer) tr = aigc_nerf_trainer_new(nerf, &tp);
    double first = 0, last = 0;
    const int n_steps = 120;
    for (int s = 0; s < n_steps; s++) {
        AigcNerfStepStats st;
        aigc_nerf_trainer_step(tr, data, &st);
        g_assert_true(isfinite(st.mse));
        g_assert_cmpint(st.n_rays, >, 0);
        g_assert_cmpint(st.n_used, <=, st.n_samples);
        g_assert_cmpint(st.n_samples, <=, tp.samples_per_step + config.max_samples_per_ray);
        if (s < 5)
            first += st.mse / 5;
        if (s >= n_steps - 5)
            last += st.mse / 5;
    }
    g_assert_cmpint(aigc_nerf_trainer_get_step(tr), ==, n_steps);
    g_test_message("training MSE: %.4f over the first 5 steps, %.4f over the last 5", first, last);
    g_assert_cmpfloat(last, <, first / 3);
    /* The occupancy grid has found empty space. */
    g_assert_cmpfloat((double)nerf->occupancy->n_occupied / nerf->occupancy->n_cells, <, 0.9);

    /* A quarter-size render of a training view resembles the (box-filtered) image. */
    AigcPinhole cam = data->camera;
    cam.width /= 4;
    cam.height /= 4;
    cam.fl_x /= 4;
    cam.fl_y /= 4;
    cam.cx /= 4;
    cam.cy /= 4;
    gint64 n_px = (gint64)cam.width * cam.height;
    g_autofree float *got = g_new(float, 3 * n_px);
    g_autofree float *opacity = g_new(float, n_px);
    g_autofree float *full = g_new(float, 3 * data->camera.width * data->camera.height);
    aigc_nerf_render(nerf, &cam, data->frames[0].c2w, data->background, got, NULL, opacity);
    aigc_transforms_frame_rgb(data, 0, full);
    double se = 0;
    for (int y = 0; y < cam.height; y++)
        for (int x = 0; x < cam.width; x++)
            for (int c = 0; c < 3; c++) {
                double want = 0;
                for (int dy = 0; dy < 4; dy++)
                    for (int dx = 0; dx < 4; dx++)
                        want += full[((4 * y + dy) * data->camera.width + 4 * x + dx) * 3 + c];
                want /= 16;
                double e = got[(y * cam.width + x) * 3 + c] - want;
                se += e * e;
            }
    double psnr = -10 * log10(se / (3.0 * n_px));
    g_test_message("quarter-size render of training view 0: %.2f dB", psnr);
    g_assert_cmpfloat(psnr, >, 15.0);
    /* The world origin (on the box floor, in the image centre) is opaque. */
    g_assert_cmpfloat(opacity[(cam.height / 2) * cam.width + cam.width / 2], >, 0.9f);
}

/* ---- rendering ---- */

/* The renderer marches in rounds and stops at opacity; marching each ray whole and compositing
 * every sample must give the same picture (up to the 1e-4 transmittance it leaves out). */
/* A scene in [−1, 1]³ with random weights: densities from thin (rays cross the box) to thick
 * (rays stop after a few samples), about half the occupancy cells occupied. */
static AigcNerf *make_random_scene(void)
{
    AigcNerfConfig config = aigc_nerf_default_config();
    config.field = small_field_config();
    config.occupancy_res = 16;
    config.n_steps = 96;
    float lo[3] = {-1, -1, -1}, hi[3] = {1, 1, 1};
    g_autoptr(GError) error = NULL;
    AigcNerf *nerf = aigc_nerf_new(&config, lo, hi, &error);
    g_assert_no_error(error);
    aigc_nerf_init_weights(nerf, 8);
    /* Densities from thin (rays cross the box) to thick (rays stop after a few samples). */
    AigcRng rng;
    aigc_rng_init(&rng, 12);
    aigc_rng_fill_uniform(&rng, nerf->field->w.table, nerf->field->grid.n_entries * 2, -2, 2);
    nerf->field->w.d_b2[0] = 3.0f;
    /* About half the cells occupied. */
    AigcOccupancy *occ = nerf->occupancy;
    g_autofree gint64 *cells = g_new(gint64, occ->n_cells);
    g_autofree float *dens = g_new(float, occ->n_cells);
    for (gint64 i = 0; i < occ->n_cells; i++) {
        cells[i] = i;
        dens[i] = aigc_rng_uniform(&rng);
    }
    aigc_occupancy_update(occ, occ->n_cells, cells, dens, 0.0f, 1e6f);
    g_assert_cmpfloat(occ->n_occupied, >, occ->n_cells / 3);
    g_assert_cmpfloat(occ->n_occupied, <, 2 * occ->n_cells / 3);
    return nerf;
}

static void test_render_matches_full_march(void)
{
    g_autoptr(AigcNerf) nerf = make_random_scene();
    const AigcNerfConfig config = nerf->config;
    AigcOccupancy *occ = nerf->occupancy;
    AigcPinhole cam = {.width = 20, .height = 14, .fl_x = 18, .fl_y = 18, .cx = 10, .cy = 7};
    double c2w[16] = {1, 0, 0, 0.1, 0, 0, 1, 2.8, 0, -1, 0, 0.2, 0, 0, 0, 1}; /* looks along +y */
    gint64 n_px = (gint64)cam.width * cam.height;
    float bg[3] = {0.2f, 0.5f, 0.9f};
    g_autofree float *rgb = g_new(float, 3 * n_px);
    g_autofree float *depth = g_new(float, n_px);
    g_autofree float *opacity = g_new(float, n_px);
    aigc_nerf_render(nerf, &cam, c2w, bg, rgb, depth, opacity);

    g_autoptr(AigcNerfBatch) batch =
        aigc_nerf_batch_new(nerf->field, config.max_samples_per_ray, FALSE);
    g_autofree float *t = g_new(float, config.max_samples_per_ray);
    int n_opaque = 0, n_clear = 0;
    double worst = 0;
    for (gint64 p = 0; p < n_px; p++) {
        float o[3], d[3], t0, t1;
        aigc_pinhole_ray(&cam, c2w, p % cam.width + 0.5, p / cam.width + 0.5, o, d);
        int n = 0;
        if (aigc_occupancy_clip(occ, o, d, 0.0f, &t0, &t1))
            n = aigc_occupancy_march(occ, o, d, t0, t1, nerf->dt, 0.5f, config.max_samples_per_ray,
                                     t);
        for (int k = 0; k < n; k++) {
            float q[3] = {o[0] + t[k] * d[0], o[1] + t[k] * d[1], o[2] + t[k] * d[2]};
            aigc_nerf_to_unit(nerf, q, batch->x + 3 * k);
            memcpy(batch->dir + 3 * k, d, sizeof d);
        }
        aigc_nerf_field_density(nerf->field, batch, n);
        aigc_nerf_field_colour(nerf->field, batch, n);
        double T = 1, C[3] = {0, 0, 0}, D = 0;
        for (int k = 0; k < n; k++) {
            double a = 1 - exp(-(double)batch->sigma[k] * nerf->dt);
            for (int c = 0; c < 3; c++)
                C[c] += T * a * batch->rgb[3 * k + c];
            D += T * a * t[k];
            T *= 1 - a;
        }
        for (int c = 0; c < 3; c++)
            worst = MAX(worst, fabs(rgb[3 * p + c] - (C[c] + T * bg[c])));
        worst = MAX(worst, fabs(opacity[p] - (1 - T)));
        worst = MAX(worst, fabs(depth[p] - D) / 5);
        n_opaque += T < 1e-3;
        n_clear += T > 0.5;
    }
    g_test_message("render vs full march: worst difference %.3g; %d opaque and %d clear rays",
                   worst, n_opaque, n_clear);
    g_assert_cmpfloat(worst, <, 5e-4);
    g_assert_cmpint(n_opaque, >, 10); /* both kinds are exercised */
    g_assert_cmpint(n_clear, >, 10);
}

/* Tiles go to whichever thread is free: a picture is the same bits on one thread as on two. */
static void test_render_threads(void)
{
    g_autoptr(AigcNerf) nerf = make_random_scene();
    AigcPinhole cam = {.width = 45, .height = 37, .fl_x = 40, .fl_y = 40, .cx = 22, .cy = 18};
    double c2w[16] = {1, 0, 0, 0.1, 0, 0, 1, 2.8, 0, -1, 0, 0.2, 0, 0, 0, 1};
    float bg[3] = {0.2f, 0.5f, 0.9f};
    gint64 n_px = (gint64)cam.width * cam.height;
    g_autofree float *a = g_new(float, 5 * n_px), *b = g_new(float, 5 * n_px);
    float *out[2] = {a, b};
    for (int run = 0; run < 2; run++) {
        aigc_threads_init(run ? 2 : 1);
        aigc_nerf_render(nerf, &cam, c2w, bg, out[run], out[run] + 3 * n_px, out[run] + 4 * n_px);
    }
    aigc_threads_init(2);
    g_assert_cmpmem(a, sizeof(float) * 5 * n_px, b, sizeof(float) * 5 * n_px);
}

/* ---- files ---- */

static AigcNerfConfig tiny_config(void)
{
    AigcNerfConfig config = aigc_nerf_default_config();
    config.field = small_field_config();
    config.field.grid.log2_table = 10;
    config.occupancy_res = 16;
    config.n_steps = 64;
    return config;
}

static void assert_same_params(AigcParams *a, AigcParams *b)
{
    g_assert_cmpint(aigc_params_get_n_elements(a), ==, aigc_params_get_n_elements(b));
    g_assert_cmpmem(aigc_params_get_data(a), sizeof(float) * aigc_params_get_n_elements(a),
                    aigc_params_get_data(b), sizeof(float) * aigc_params_get_n_elements(b));
}

static void test_save_load_resume(void)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", "data", "scene", "woodbox",
                                                  "transforms_val.json", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcTransforms) data = aigc_transforms_load(path, NULL, &error);
    g_assert_no_error(error);
    AigcNerfConfig config = tiny_config();
    g_autoptr(AigcNerf) nerf = aigc_nerf_new(&config, data->aabb_min, data->aabb_max, &error);
    g_assert_no_error(error);
    aigc_nerf_init_weights(nerf, 4);
    AigcNerfTrainParams tp = aigc_nerf_default_train_params();
    tp.samples_per_step = 4096;
    tp.occupancy_interval = 4;
    g_autoptr(AigcNerfTrainer) tr = aigc_nerf_trainer_new(nerf, &tp);
    for (int s = 0; s < 10; s++)
        aigc_nerf_trainer_step(tr, data, NULL);

    g_autofree char *dir = g_dir_make_tmp("aigc-nerf-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "scene.safetensors", NULL);
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_nerf_save(nerf, w, &error));
        g_assert_true(aigc_nerf_trainer_save(tr, w, &error));
        g_assert_true(aigc_safetensors_writer_write(w, file, NULL, NULL, &error));
        g_assert_no_error(error);
    }
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(file, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_safetensors_get_metadata(st, "family"), ==, "nerf");
    g_autoptr(AigcNerf) back = aigc_nerf_load(st, &error);
    g_assert_no_error(error);
    assert_same_params(nerf->field->grid_params, back->field->grid_params);
    assert_same_params(nerf->field->mlp_params, back->field->mlp_params);
    for (int a = 0; a < 3; a++) {
        g_assert_cmpfloat(back->aabb_min[a], ==, nerf->aabb_min[a]);
        g_assert_cmpfloat(back->aabb_max[a], ==, nerf->aabb_max[a]);
    }
    g_assert_cmpint(back->occupancy->n_occupied, ==, nerf->occupancy->n_occupied);
    g_assert_cmpmem(back->occupancy->bits, back->occupancy->n_cells / 8, nerf->occupancy->bits,
                    nerf->occupancy->n_cells / 8);

    /* The same pixels from both. */
    AigcPinhole cam = data->camera;
    cam.width = cam.height = 24;
    cam.fl_x = cam.fl_y = data->camera.fl_x * 24 / data->camera.width;
    cam.cx = cam.cy = 12;
    float a[24 * 24 * 3], b[24 * 24 * 3];
    aigc_nerf_render(nerf, &cam, data->frames[1].c2w, data->background, a, NULL, NULL);
    aigc_nerf_render(back, &cam, data->frames[1].c2w, data->background, b, NULL, NULL);
    g_assert_cmpmem(a, sizeof a, b, sizeof b);

    /* Resuming: one more step from the file gives what one more step in memory gives. */
    g_autoptr(AigcNerfTrainer) tr2 = aigc_nerf_trainer_new(back, &tp);
    g_assert_true(aigc_nerf_trainer_load(tr2, st, &error));
    g_assert_no_error(error);
    g_assert_cmpint(aigc_nerf_trainer_get_step(tr2), ==, 10);
    for (int s = 0; s < 3; s++) {
        aigc_nerf_trainer_step(tr, data, NULL);
        aigc_nerf_trainer_step(tr2, data, NULL);
    }
    assert_same_params(nerf->field->grid_params, back->field->grid_params);
    assert_same_params(nerf->field->mlp_params, back->field->mlp_params);

    /* A file that is not a scene, and one whose table disagrees with its config. */
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_params_save(nerf->field->mlp_params, w, NULL, AIGC_DTYPE_F32, NULL));
        g_assert_true(aigc_safetensors_writer_write(w, file, NULL, NULL, NULL));
        g_autoptr(AigcSafetensors) bad = aigc_safetensors_open(file, NULL);
        g_autoptr(GError) e1 = NULL;
        g_assert_null(aigc_nerf_load(bad, &e1));
        g_assert_error(e1, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
        g_assert_nonnull(strstr(e1->message, "not a NeRF scene"));
        g_autoptr(GError) e2 = NULL;
        g_assert_false(aigc_nerf_trainer_load(tr2, bad, &e2));
        g_assert_error(e2, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    }
    {
        AigcNerfConfig other = config;
        other.field.grid.log2_table = 9;
        g_autoptr(AigcNerf) small = aigc_nerf_new(&other, data->aabb_min, data->aabb_max, NULL);
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_nerf_save(small, w, NULL));
        aigc_safetensors_writer_set_metadata(
            w, "nerf.config",
            aigc_safetensors_get_metadata(st, "nerf.config")); /* says 2^10 entries */
        g_assert_true(aigc_safetensors_writer_write(w, file, NULL, NULL, NULL));
        g_autoptr(AigcSafetensors) bad = aigc_safetensors_open(file, NULL);
        g_autoptr(GError) e3 = NULL;
        g_assert_null(aigc_nerf_load(bad, &e3));
        g_assert_nonnull(strstr(e3->message, "“encoding.table” is missing or disagrees"));
    }
    g_unlink(file);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/models/nerf/hashgrid/layout", test_hashgrid_layout);
    g_test_add_func("/models/nerf/hashgrid/forward-backward", test_hashgrid_forward_backward);
    g_test_add_func("/models/nerf/sh/orthonormal", test_sh_orthonormal);
    g_test_add_func("/models/nerf/field/gradcheck", test_field_gradcheck);
    g_test_add_func("/models/nerf/field/gradcheck-chunks", test_field_gradcheck_chunks);
    g_test_add_func("/models/nerf/field/gradcheck-baseline", test_field_gradcheck_baseline);
    g_test_add_func("/models/nerf/field/threads", test_field_threads);
    g_test_add_func("/models/nerf/volrender/gradcheck", test_volrender);
    g_test_add_func("/models/nerf/occupancy/march", test_occupancy_march);
    g_test_add_func("/models/nerf/render/matches-full-march", test_render_matches_full_march);
    g_test_add_func("/models/nerf/render/threads", test_render_threads);
    g_test_add_func("/models/nerf/train/woodbox", test_train_woodbox);
    g_test_add_func("/models/nerf/file/save-load-resume", test_save_load_resume);
    return g_test_run();
}
