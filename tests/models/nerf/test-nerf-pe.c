/* SPDX-License-Identifier: MIT
 *
 * The positional-encoding NeRF. The encoding against its definition; a reference of the whole
 * training loss in double, written here from the paper's formulas (γ, the MLP with its skip,
 * σ, the colour head, the coarse and the union composites on per-ray backgrounds), checks the
 * forward pass, and its central finite differences check every analytic parameter gradient
 * (softplus and ReLU densities, with and without fine samples); the sampling (stratified bins,
 * fine samples where the coarse weights are, sorted union); files (round trip, a resumed
 * trainer continuing bit for bit, corrupt files refused); and a short training run on a
 * shrunken copy of the sample scene whose validation PSNR must rise clearly.
 */
#include "aigc-engine.h"
#include "io/aigc-transforms.h"
#include "models/nerf/aigc-nerf-pe.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *tmp_dir;

/* ---- the encoding ---- */

static void test_encoding(void)
{
    g_assert_cmpint(aigc_nerf_pe_encoding_dim(10), ==, 63);
    g_assert_cmpint(aigc_nerf_pe_encoding_dim(4), ==, 27);
    const float p[2][3] = {{0.25f, -0.5f, 0.0f}, {1.0f, -1.0f, 0.123456f}};
    const int L = 10, ld = 70;
    float out[2 * 70];
    memset(out, 0xff, sizeof out); /* NaN everywhere: the stride must be respected */
    aigc_nerf_pe_encode(2, &p[0][0], L, out, ld);
    for (int i = 0; i < 2; i++) {
        for (int a = 0; a < 3; a++) {
            g_assert_cmpfloat(out[i * ld + a], ==, p[i][a]);
            for (int k = 0; k < L; k++) {
                double arg = ldexp(G_PI, k) * p[i][a];
                g_assert_cmpfloat(fabs(out[i * ld + 3 + 6 * k + a] - sin(arg)), <, 1e-6);
                g_assert_cmpfloat(fabs(out[i * ld + 6 + 6 * k + a] - cos(arg)), <, 1e-6);
            }
        }
        g_assert_true(isnan(out[i * ld + 63])); /* nothing written past 3 + 6L */
    }
    /* sin(π/4·2^k) at p = 1/4: √½, 1, 0, 0, …; cos: √½, 0, −1, 1, 1, … */
    g_assert_cmpfloat(fabs(out[3] - M_SQRT1_2), <, 1e-7);
    g_assert_cmpfloat(fabs(out[9] - 1), <, 1e-7);
    g_assert_cmpfloat(fabs(out[6 + 12] + 1), <, 1e-7);
    g_assert_cmpfloat(fabs(out[6 + 18] - 1), <, 1e-7);
    /* L = 0: the raw input alone */
    float raw[3];
    aigc_nerf_pe_encode(1, p[1], 0, raw, 3);
    g_assert_cmpmem(raw, sizeof raw, p[1], sizeof raw);
}

/* The paper's network (8 × 256, γ(x) again into the sixth layer, a 128-wide view branch) has
 * nerf-pytorch's 595,844 parameters. */
static void test_paper_config(void)
{
    AigcNerfPeConfig paper = aigc_nerf_pe_paper_config();
    const float lo[3] = {-1, -1, -1}, hi[3] = {1, 1, 1};
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcNerfPe) pe = aigc_nerf_pe_new(&paper, lo, hi, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pe->P, ==, 63);
    g_assert_cmpint(pe->Q, ==, 27);
    g_assert_cmpint(aigc_params_get_n_elements(pe->params), >=, 595844); /* padded to 16 */
    gint64 n = 0;
    for (guint i = 0; i < aigc_params_get_n(pe->params); i++)
        n += aigc_params_get(pe->params, i)->n_elements;
    g_assert_cmpint(n, ==, 595844);
    g_assert_cmpint(aigc_params_find(pe->params, "density.5.weight")->shape[1], ==, 256 + 63);
    AigcNerfPeConfig def = aigc_nerf_pe_default_config();
    g_assert_cmpint(def.depth, ==, 4);
    g_assert_cmpint(def.width, ==, 128);
    g_assert_cmpint(def.skip, ==, 2);
}

/* ---- the reference, in double ---- */

typedef struct {
    const AigcNerfPe *pe;
    double *v;  /* parameter values, laid out as aigc_params_get_data() */
    const float *base;
} Ref;

static const double *ref_at(const Ref *r, const float *p)
{
    return r->v + (p - r->base);
}

static void ref_gamma(const double p[3], int L, double *out)
{
    for (int a = 0; a < 3; a++) {
        out[a] = p[a];
        for (int k = 0; k < L; k++) {
            out[3 + 6 * k + a] = sin(ldexp(G_PI, k) * p[a]);
            out[6 + 6 * k + a] = cos(ldexp(G_PI, k) * p[a]);
        }
    }
}

/* y (n_out) = W x + b, W (n_out, n_in) */
static void ref_linear(const double *W, const double *b, const double *x, int n_in, int n_out,
                       double *y)
{
    for (int o = 0; o < n_out; o++) {
        double s = b[o];
        for (int i = 0; i < n_in; i++)
            s += W[o * n_in + i] * x[i];
        y[o] = s;
    }
}

static void ref_field(const Ref *r, const double pos[3], const double dir[3], double *sigma,
                      double rgb[3])
{
    const AigcNerfPe *pe = r->pe;
    const AigcNerfPeConfig *c = &pe->config;
    int W = c->width, P = pe->P, Q = pe->Q, Hc = c->colour_width;
    double x[3], gx[128], in[512], h[512], out[513], cin[512], hc[512], o3[3];
    for (int a = 0; a < 3; a++)
        x[a] = 2 * (pos[a] - pe->aabb_min[a]) / (pe->aabb_max[a] - pe->aabb_min[a]) - 1;
    ref_gamma(x, c->pos_freqs, gx);
    memcpy(in, gx, sizeof(double) * P);
    int n_in = P;
    for (int i = 0; i < c->depth; i++) {
        if (i > 0 && i == c->skip + 1) {
            memcpy(in + W, gx, sizeof(double) * P);
            n_in = W + P;
        }
        ref_linear(ref_at(r, pe->w.w[i]), ref_at(r, pe->w.b[i]), in, n_in, W, h);
        for (int k = 0; k < W; k++)
            in[k] = h[k] > 0 ? h[k] : 0;
        n_in = W;
    }
    ref_linear(ref_at(r, pe->w.out_w), ref_at(r, pe->w.out_b), in, W, 1 + W, out);
    *sigma = c->density == AIGC_NERF_PE_RELU ? (out[0] > 0 ? out[0] : 0) : log1p(exp(out[0]));
    memcpy(cin, out + 1, sizeof(double) * W);
    ref_gamma(dir, c->dir_freqs, cin + W);
    ref_linear(ref_at(r, pe->w.c_w1), ref_at(r, pe->w.c_b1), cin, W + Q, Hc, hc);
    for (int k = 0; k < Hc; k++)
        hc[k] = hc[k] > 0 ? hc[k] : 0;
    ref_linear(ref_at(r, pe->w.c_w2), ref_at(r, pe->w.c_b2), hc, Hc, 3, o3);
    for (int k = 0; k < 3; k++)
        rgb[k] = 1 / (1 + exp(-o3[k]));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* C of one ray over sorted sample distances t (n) in [.., t_far]: δ_i = t_{i+1} − t_i, the last
 * reaching t_far. */
static void ref_composite(const Ref *r, const double o[3], const double d[3], const double *t,
                          int n, double t_far, const double bg[3], double C[3])
{
    double T = 1;
    for (int k = 0; k < 3; k++)
        C[k] = 0;
    for (int i = 0; i < n; i++) {
        double pos[3], sigma, rgb[3];
        for (int a = 0; a < 3; a++)
            pos[a] = o[a] + t[i] * d[a];
        ref_field(r, pos, d, &sigma, rgb);
        double delta = (i + 1 < n ? t[i + 1] : t_far) - t[i];
        double alpha = 1 - exp(-sigma * delta);
        for (int k = 0; k < 3; k++)
            C[k] += T * alpha * rgb[k];
        T *= 1 - alpha;
    }
    for (int k = 0; k < 3; k++)
        C[k] += T * bg[k];
}

typedef struct {
    int n_rays;
    const AigcNerfPeBatch *b;
    const float *bg, *target;
    float scale, coarse_weight;
} LossCase;

/* The loss of aigc_nerf_pe_batch_backward at the batch's sample positions. */
static double ref_loss(const Ref *r, const LossCase *lc, double *se_fine)
{
    const AigcNerfPeBatch *b = lc->b;
    int Nc = b->Nc, Nf = b->Nf;
    double L = 0, sef = 0;
    for (int ray = 0; ray < lc->n_rays; ray++) {
        double o[3], d[3], bg[3], tc[AIGC_NERF_PE_MAX_SAMPLES], tu[2 * AIGC_NERF_PE_MAX_SAMPLES];
        for (int a = 0; a < 3; a++) {
            o[a] = b->origin[3 * ray + a];
            d[a] = b->dir[3 * ray + a];
            bg[a] = lc->bg[3 * ray + a];
        }
        for (int k = 0; k < Nc; k++)
            tu[k] = tc[k] = b->t[ray * Nc + k];
        for (int k = 0; k < Nf; k++)
            tu[Nc + k] = b->t[(gint64)lc->n_rays * Nc + ray * Nf + k];
        qsort(tu, Nc + Nf, sizeof(double), cmp_double);
        double Cf[3], Cc[3];
        ref_composite(r, o, d, tu, Nc + Nf, b->t_far[ray], bg, Cf);
        ref_composite(r, o, d, tc, Nc, b->t_far[ray], bg, Cc);
        for (int k = 0; k < 3; k++) {
            double ef = Cf[k] - lc->target[3 * ray + k], ec = Cc[k] - lc->target[3 * ray + k];
            sef += ef * ef;
            L += lc->scale * (ef * ef + (Nf > 0 ? lc->coarse_weight * ec * ec : 0));
        }
    }
    if (se_fine)
        *se_fine = sef;
    return L;
}

/* ---- helpers ---- */

static const float box_min[3] = {-1.0f, -1.0f, -0.5f}, box_max[3] = {1.0f, 1.5f, 0.5f};

static AigcNerfPeConfig small_config(AigcNerfPeDensity density, int n_fine)
{
    AigcNerfPeConfig c = aigc_nerf_pe_default_config();
    c.depth = 3;
    c.width = 12;
    c.skip = 1;
    c.colour_width = 8;
    c.pos_freqs = 3;
    c.dir_freqs = 2;
    c.density = density;
    c.n_coarse = 6;
    c.n_fine = n_fine;
    return c;
}

/* Weights and biases large enough that every layer matters, and a positive density bias so
 * the rays are neither empty nor opaque. */
static AigcNerfPe *make_field(const AigcNerfPeConfig *config, guint64 seed)
{
    g_autoptr(GError) error = NULL;
    AigcNerfPe *pe = aigc_nerf_pe_new(config, box_min, box_max, &error);
    g_assert_no_error(error);
    aigc_nerf_pe_init_weights(pe, seed);
    AigcRng rng;
    aigc_rng_init(&rng, seed + 100);
    float *v = aigc_params_get_data(pe->params);
    for (gint64 i = 0; i < aigc_params_get_n_elements(pe->params); i++)
        v[i] += 0.2f * aigc_rng_normal(&rng);
    pe->w.out_b[0] = 0.5f;
    return pe;
}

static void random_rays(AigcRng *rng, int n, float *origins, float *dirs)
{
    for (int i = 0; i < n; i++) {
        /* from outside the box towards a random point inside it */
        float target[3], len = 0;
        for (int a = 0; a < 3; a++) {
            float u = 0.2f + 0.6f * aigc_rng_uniform(rng);
            target[a] = box_min[a] + u * (box_max[a] - box_min[a]);
            origins[3 * i + a] = 3.0f * aigc_rng_normal(rng);
        }
        origins[3 * i + 2] = 3.0f + aigc_rng_uniform(rng); /* above the box */
        for (int a = 0; a < 3; a++) {
            dirs[3 * i + a] = target[a] - origins[3 * i + a];
            len += dirs[3 * i + a] * dirs[3 * i + a];
        }
        for (int a = 0; a < 3; a++)
            dirs[3 * i + a] /= sqrtf(len);
    }
}

/* ---- sampling ---- */

static void test_sampling(void)
{
    AigcNerfPeConfig config = small_config(AIGC_NERF_PE_SOFTPLUS, 16);
    config.n_coarse = 16;
    g_autoptr(AigcNerfPe) pe = make_field(&config, 3);
    g_autoptr(AigcNerfPeBatch) b = aigc_nerf_pe_batch_new(pe, 4, FALSE);
    /* Two rays along x through the box (one from inside it), one that misses. */
    float o[9] = {-3, 0, 0, 0.5f, 0.2f, 0.1f, -3, 5, 0}, d[9] = {1, 0, 0, 1, 0, 0, 1, 0, 0};
    g_assert_cmpint(aigc_nerf_pe_batch_set_rays(pe, b, 3, o, d), ==, 2);
    g_assert_cmpint(b->index[1], ==, 1);
    g_assert_cmpfloat(fabs(b->t_near[0] - 2.0f), <, 1e-6);
    g_assert_cmpfloat(fabs(b->t_far[0] - 4.0f), <, 1e-6);
    g_assert_cmpfloat(b->t_near[1], ==, 0.0f);
    g_assert_cmpfloat(fabs(b->t_far[1] - 0.5f), <, 1e-6);
    /* A wall: density only where x > 0.25 (a steep ramp of the output bias along x's raw
     * input), so the first ray's coarse weight sits from t = 3.25 on. */
    memset(aigc_params_get_data(pe->params), 0,
           sizeof(float) * aigc_params_get_n_elements(pe->params));
    for (int k = 0; k < config.width; k++)
        pe->w.w[0][k * pe->P] = k == 0 ? 1.0f : 0.0f; /* h_0[0] = relu(x) */
    pe->w.b[0][0] = -0.25f;
    for (int i = 1; i < config.depth; i++)
        pe->w.w[i][0] = 1.0f; /* h_i[0] = h_{i−1}[0] (the skip layer's input starts with h) */
    pe->w.out_w[0] = 400.0f;
    pe->w.out_b[0] = -20.0f;
    aigc_nerf_pe_batch_sample(pe, b, NULL, NULL);
    /* coarse: bin centres; fine: in the bins with weight (t ≥ 3.25 for ray 0) */
    for (int k = 0; k < 16; k++)
        g_assert_cmpfloat(fabs(b->t[k] - (2.0f + (k + 0.5f) * 2.0f / 16)), <, 1e-5);
    int n_behind = 0;
    for (int k = 0; k < 16; k++)
        n_behind += b->t[2 * 16 + k] >= 3.25f - 0.125f;
    g_assert_cmpint(n_behind, >=, 15);
    /* the union is every row once, in depth order */
    for (int r = 0; r < 2; r++) {
        gboolean seen[64] = {0};
        for (int m = 0; m < b->S; m++) {
            int row = b->order[r * b->S + m];
            g_assert_false(seen[row]);
            seen[row] = TRUE;
            g_assert_cmpfloat(b->t_u[r * b->S + m], ==, b->t[row]);
            if (m > 0)
                g_assert_cmpfloat(b->t_u[r * b->S + m], >=, b->t_u[r * b->S + m - 1]);
            g_assert_cmpfloat(b->delta_u[r * b->S + m], >=, 0.0f);
        }
        float span = 0;
        for (int m = 0; m < b->S; m++)
            span += b->delta_u[r * b->S + m];
        g_assert_cmpfloat(fabs(b->t_u[r * b->S] + span - b->t_far[r]), <, 1e-5);
    }
    /* jittered coarse samples stay in their bins */
    float jc[2 * 16], jf[2 * 16];
    for (int k = 0; k < 32; k++)
        jc[k] = jf[k] = (float)k / 32;
    aigc_nerf_pe_batch_sample(pe, b, jc, jf);
    for (int k = 0; k < 16; k++) {
        float lo = 2.0f + k * 0.125f;
        g_assert_cmpfloat(b->t[k], >=, lo - 1e-6f);
        g_assert_cmpfloat(b->t[k], <, lo + 0.125f + 1e-6f);
    }
}

/* ---- the gradient check ---- */

static void gradcheck(AigcNerfPeDensity density, int n_fine, int max_checks)
{
    enum { N_RAYS = 4 };
    AigcNerfPeConfig config = small_config(density, n_fine);
    if (n_fine == 0)
        config.skip = -1; /* and no skip connection: γ(x) feeds the first layer only */
    g_autoptr(AigcNerfPe) pe = make_field(&config, 7 + n_fine);
    /* capacity 3 would drop the fourth ray: the batch holds at most its capacity */
    g_autoptr(AigcNerfPeBatch) b = aigc_nerf_pe_batch_new(pe, N_RAYS, TRUE);
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    float origins[3 * N_RAYS], dirs[3 * N_RAYS], bg[3 * N_RAYS], target[3 * N_RAYS];
    float jc[N_RAYS * 16], jf[N_RAYS * 16];
    random_rays(&rng, N_RAYS, origins, dirs);
    for (int i = 0; i < 3 * N_RAYS; i++) {
        bg[i] = aigc_rng_uniform(&rng);
        target[i] = aigc_rng_uniform(&rng);
    }
    for (int i = 0; i < N_RAYS * 16; i++) {
        jc[i] = aigc_rng_uniform(&rng);
        jf[i] = aigc_rng_uniform(&rng);
    }
    g_assert_cmpint(aigc_nerf_pe_batch_set_rays(pe, b, N_RAYS, origins, dirs), ==, N_RAYS);
    aigc_nerf_pe_batch_sample(pe, b, jc, n_fine ? jf : NULL);
    aigc_nerf_pe_batch_forward(pe, b, (gint64)N_RAYS * b->Nc);
    LossCase lc = {N_RAYS, b, bg, target, 0.37f, 0.6f};
    aigc_params_zero_grad(pe->params);
    double se_coarse;
    double se = aigc_nerf_pe_batch_backward(pe, b, bg, target, lc.scale, lc.coarse_weight,
                                            &se_coarse);

    gint64 n_params = aigc_params_get_n_elements(pe->params);
    const float *values = aigc_params_get_data(pe->params);
    const float *grads = aigc_params_get_grad(pe->params);
    Ref ref = {pe, g_new(double, n_params), values};
    for (gint64 i = 0; i < n_params; i++)
        ref.v[i] = values[i];
    double ref_se;
    double L = ref_loss(&ref, &lc, &ref_se);
    double loss = lc.scale * (se + (n_fine ? lc.coarse_weight * se_coarse : 0));
    g_test_message("loss %.6g (reference %.6g); fine SE %.6g, coarse SE %.6g", loss, L, se,
                   se_coarse);
    g_assert_cmpfloat(fabs(se - ref_se), <, 1e-4 * MAX(1, ref_se));
    g_assert_cmpfloat(fabs(loss - L), <, 1e-4 * MAX(1, L));
    /* Recomputing every row from scratch gives the same loss. */
    aigc_nerf_pe_batch_forward(pe, b, 0);
    g_autofree float *grads_before = g_memdup2(grads, sizeof(float) * n_params);
    aigc_params_zero_grad(pe->params);
    double se2 = aigc_nerf_pe_batch_backward(pe, b, bg, target, lc.scale, lc.coarse_weight, NULL);
    g_assert_cmpfloat(fabs(se2 - se), <=, 1e-6 * se);
    for (gint64 i = 0; i < n_params; i++)
        g_assert_cmpfloat(fabs(grads[i] - grads_before[i]), <=, 1e-5 * (1e-3 + fabs(grads[i])));

    const double eps = 1e-6;
    double worst = 0, biggest = 0;
    int n_nonzero = 0, n_checked = 0;
    gint64 n_check = max_checks ? MIN(max_checks, n_params) : n_params;
    for (gint64 k = 0; k < n_check; k++) {
        gint64 j = max_checks ? (gint64)aigc_rng_below(&rng, (guint32)n_params) : k;
        double saved = ref.v[j];
        ref.v[j] = saved + eps;
        double up = ref_loss(&ref, &lc, NULL);
        ref.v[j] = saved - eps;
        double down = ref_loss(&ref, &lc, NULL);
        ref.v[j] = saved;
        double fd = (up - down) / (2 * eps);
        double err = fabs(grads[j] - fd) / (1e-4 + fabs(fd));
        worst = MAX(worst, err);
        biggest = MAX(biggest, fabs(fd));
        n_nonzero += fabs(fd) > 1e-8;
        n_checked++;
        if (err > 2e-3)
            g_error("parameter %" G_GINT64_FORMAT ": analytic %.8g, numeric %.8g", j, grads[j],
                    fd);
    }
    g_test_message("%d of %" G_GINT64_FORMAT " parameters checked, %d with a gradient (largest "
                   "%.3g); worst relative error %.3g",
                   n_checked, n_params, n_nonzero, biggest, worst);
    g_assert_cmpint(n_nonzero, >, n_checked / 2);
    g_free(ref.v);
}

static void test_gradcheck_softplus(void)
{
    gradcheck(AIGC_NERF_PE_SOFTPLUS, 5, 0);
}

static void test_gradcheck_relu(void)
{
    gradcheck(AIGC_NERF_PE_RELU, 5, 400);
}

/* Without fine samples (and without the skip). */
static void test_gradcheck_coarse_only(void)
{
    gradcheck(AIGC_NERF_PE_SOFTPLUS, 0, 400);
}

/* ---- a shrunken sample scene ---- */

/* n_train + n_val views of the sample scene at side × side, in tmp_dir/name. */
static char *write_small_dataset(const char *name, int n_train, int n_val, int side)
{
    g_autofree char *sample = aigc_scene_find_sample();
    g_assert_nonnull(sample);
    char *ds = g_build_filename(tmp_dir, name, NULL);
    g_assert_cmpint(g_mkdir_with_parents(ds, 0755), ==, 0);
    const char *splits[] = {"train", "val"};
    const int counts[] = {n_train, n_val};
    for (int s = 0; s < 2; s++) {
        g_autofree char *src = g_strdup_printf("%s/transforms_%s.json", sample, splits[s]);
        AigcTransformsOptions opt = aigc_transforms_default_options();
        opt.load_images = FALSE;
        g_autoptr(AigcTransforms) t = aigc_transforms_load(src, &opt, NULL);
        g_assert_nonnull(t);
        g_assert_cmpint(t->n_frames, >=, counts[s]);
        GString *json = g_string_new("{\"camera_angle_x\": 0.7853981633974483, \"frames\": [");
        for (int f = 0; f < counts[s]; f++) {
            /* spread over the orbit: every (n_frames / count)-th view */
            int fi = f * (t->n_frames / counts[s]);
            g_autoptr(AigcImage) img = aigc_png_read(t->frames[fi].image_path, NULL, NULL, NULL);
            g_autoptr(AigcImage) small = aigc_image_resize(img, side, side);
            g_autofree char *file = g_strdup_printf("%s-%d.png", splits[s], f);
            g_autofree char *path = g_build_filename(ds, file, NULL);
            g_assert_true(aigc_png_write(path, small, NULL, NULL, NULL));
            g_string_append_printf(json, "%s{\"file_path\": \"%s\", \"transform_matrix\": [",
                                   f ? ", " : "", file);
            for (int r = 0; r < 4; r++)
                g_string_append_printf(json, "%s[%.17g, %.17g, %.17g, %.17g]", r ? ", " : "",
                                       t->frames[fi].c2w[4 * r], t->frames[fi].c2w[4 * r + 1],
                                       t->frames[fi].c2w[4 * r + 2], t->frames[fi].c2w[4 * r + 3]);
            g_string_append(json, "]}");
        }
        g_string_append(json, "]}");
        g_autofree char *dst = g_strdup_printf("%s/transforms_%s.json", ds, splits[s]);
        g_assert_true(g_file_set_contents(dst, json->str, -1, NULL));
        g_string_free(json, TRUE);
    }
    return ds;
}

static AigcTransforms *load_split(const char *ds, const char *split)
{
    g_autofree char *json = g_strdup_printf("%s/transforms_%s.json", ds, split);
    g_autoptr(GError) error = NULL;
    AigcTransforms *t = aigc_transforms_load(json, NULL, &error);
    g_assert_no_error(error);
    return t;
}

static AigcNerfPeConfig train_config(void)
{
    AigcNerfPeConfig c = aigc_nerf_pe_default_config();
    c.width = 64;
    c.colour_width = 32;
    c.pos_freqs = 6;
    c.n_coarse = 16;
    c.n_fine = 16;
    return c;
}

static void test_train(void)
{
    g_autofree char *ds = write_small_dataset("train", 20, 2, 32);
    g_autoptr(AigcTransforms) train = load_split(ds, "train");
    g_autoptr(AigcTransforms) val = load_split(ds, "val");
    AigcNerfPeConfig config = train_config();
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcNerfPe) pe = aigc_nerf_pe_new(&config, train->aabb_min, train->aabb_max, &error);
    g_assert_no_error(error);
    aigc_nerf_pe_init_weights(pe, 1);
    double psnr0 = aigc_nerf_pe_eval_psnr(pe, val, NULL);
    AigcNerfPeTrainParams tp = aigc_nerf_pe_default_train_params();
    tp.rays_per_step = 192;
    tp.lr = 5e-3f;
    tp.lr_final = 1e-3f;
    tp.decay_steps = 100;
    g_autoptr(AigcNerfPeTrainer) tr = aigc_nerf_pe_trainer_new(pe, &tp);
    double first = 0, last = 0;
    const int n_steps = 100;
    for (int s = 0; s < n_steps; s++) {
        AigcNerfPeStepStats st;
        aigc_nerf_pe_trainer_step(tr, train, &st);
        g_assert_true(isfinite(st.mse) && isfinite(st.mse_coarse));
        g_assert_cmpint(st.n_rays, ==, 192);
        if (s < 10)
            first += st.mse / 10;
        if (s >= n_steps - 10)
            last += st.mse / 10;
    }
    g_assert_cmpint(aigc_nerf_pe_trainer_get_step(tr), ==, n_steps);
    double mse;
    double psnr = aigc_nerf_pe_eval_psnr(pe, val, &mse);
    g_test_message("training MSE %.4f → %.4f; validation PSNR %.2f → %.2f dB", first, last, psnr0,
                   psnr);
    g_assert_cmpfloat(last, <, 0.5 * first);
    g_assert_cmpfloat(psnr, >, psnr0 + 5.0);
    g_assert_cmpfloat(fabs(psnr + 10 * log10(mse)), <, 3.0); /* two views of similar error */

    /* A render: finite, with depth inside the box's span along the ray and opacity in [0, 1]. */
    AigcPinhole cam = val->camera;
    int n = cam.width * cam.height;
    g_autofree float *rgb = g_new(float, 3 * n), *depth = g_new(float, n);
    g_autofree float *opacity = g_new(float, n);
    aigc_nerf_pe_render(pe, &cam, val->frames[0].c2w, val->background, rgb, depth, opacity);
    int n_opaque = 0;
    for (int i = 0; i < n; i++) {
        g_assert_true(isfinite(rgb[3 * i]) && isfinite(depth[i]));
        g_assert_cmpfloat(opacity[i], >=, 0.0f);
        g_assert_cmpfloat(opacity[i], <=, 1.0f + 1e-5f);
        n_opaque += opacity[i] > 0.5f;
    }
    g_assert_cmpint(n_opaque, >, n / 4); /* the box fills much of the view */
}

/* ---- files ---- */

static void assert_same_params(AigcParams *a, AigcParams *b)
{
    g_assert_cmpint(aigc_params_get_n_elements(a), ==, aigc_params_get_n_elements(b));
    g_assert_cmpmem(aigc_params_get_data(a), sizeof(float) * aigc_params_get_n_elements(a),
                    aigc_params_get_data(b), sizeof(float) * aigc_params_get_n_elements(b));
}

static void write_field(AigcNerfPe *pe, AigcNerfPeTrainer *tr, const char *path,
                        const char *key, const char *value)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
    g_assert_true(aigc_nerf_pe_save(pe, w, &error));
    if (tr)
        g_assert_true(aigc_nerf_pe_trainer_save(tr, w, &error));
    if (key)
        aigc_safetensors_writer_set_metadata(w, key, value);
    g_assert_true(aigc_safetensors_writer_write(w, path, NULL, NULL, &error));
    g_assert_no_error(error);
}

static void assert_refused(const char *path, int code, const char *want)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, &error);
    g_assert_no_error(error);
    g_autoptr(AigcNerfPe) pe = aigc_nerf_pe_load(st, &error);
    g_assert_null(pe);
    g_assert_error(error, AIGC_ENGINE_ERROR, code);
    if (!strstr(error->message, want))
        g_error("“%s” does not say “%s”", error->message, want);
}

static void test_files(void)
{
    g_autofree char *ds = write_small_dataset("files", 4, 1, 16);
    g_autoptr(AigcTransforms) train = load_split(ds, "train");
    AigcNerfPeConfig config = train_config();
    config.density = AIGC_NERF_PE_RELU;
    config.n_fine = 8;
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcNerfPe) pe = aigc_nerf_pe_new(&config, train->aabb_min, train->aabb_max, &error);
    g_assert_no_error(error);
    aigc_nerf_pe_init_weights(pe, 2);
    AigcNerfPeTrainParams tp = aigc_nerf_pe_default_train_params();
    tp.rays_per_step = 800; /* two chunks: a batch holds 16384 / (16 + 8) rays */
    g_autoptr(AigcNerfPeTrainer) tr = aigc_nerf_pe_trainer_new(pe, &tp);
    for (int s = 0; s < 3; s++)
        aigc_nerf_pe_trainer_step(tr, train, NULL);

    g_autofree char *file = g_build_filename(tmp_dir, "pe.safetensors", NULL);
    write_field(pe, tr, file, NULL, NULL);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(file, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(aigc_safetensors_get_metadata(st, "family"), ==, "nerf-pe");
    g_assert_nonnull(strstr(aigc_safetensors_get_metadata(st, "nerf.config"), "\"relu\""));
    g_autoptr(AigcNerfPe) back = aigc_nerf_pe_load(st, &error);
    g_assert_no_error(error);
    g_assert_cmpint(back->config.n_fine, ==, 8);
    g_assert_cmpint(back->config.density, ==, AIGC_NERF_PE_RELU);
    assert_same_params(pe->params, back->params);
    for (int a = 0; a < 3; a++)
        g_assert_cmpfloat(back->aabb_max[a], ==, pe->aabb_max[a]);
    AigcPinhole cam = train->camera;
    float x[16 * 16 * 3], y[16 * 16 * 3];
    aigc_nerf_pe_render(pe, &cam, train->frames[1].c2w, train->background, x, NULL, NULL);
    aigc_nerf_pe_render(back, &cam, train->frames[1].c2w, train->background, y, NULL, NULL);
    g_assert_cmpmem(x, sizeof x, y, sizeof y);

    /* Resuming: two more steps from the file give what two more steps in memory give. */
    g_autoptr(AigcNerfPeTrainer) tr2 = aigc_nerf_pe_trainer_new(back, &tp);
    g_assert_true(aigc_nerf_pe_trainer_load(tr2, st, &error));
    g_assert_no_error(error);
    g_assert_cmpint(aigc_nerf_pe_trainer_get_step(tr2), ==, 3);
    for (int s = 0; s < 2; s++) {
        aigc_nerf_pe_trainer_step(tr, train, NULL);
        aigc_nerf_pe_trainer_step(tr2, train, NULL);
    }
    assert_same_params(pe->params, back->params);

    /* Corrupt files are refused, each with its reason. */
    g_autofree char *bad = g_build_filename(tmp_dir, "bad.safetensors", NULL);
    {
        g_autoptr(AigcSafetensorsWriter) w = aigc_safetensors_writer_new();
        g_assert_true(aigc_params_save(pe->params, w, NULL, AIGC_DTYPE_F32, NULL));
        g_assert_true(aigc_safetensors_writer_write(w, bad, NULL, NULL, NULL));
        assert_refused(bad, AIGC_ENGINE_ERROR_FORMAT, "not a NeRF scene");
        g_autoptr(AigcSafetensors) s = aigc_safetensors_open(bad, NULL);
        g_autoptr(GError) e = NULL;
        g_assert_false(aigc_nerf_pe_trainer_load(tr2, s, &e));
        g_assert_error(e, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    }
    const char *good = aigc_safetensors_get_metadata(st, "nerf.config");
    const struct {
        const char *from, *to, *want;
        int code;
    } edits[] = {
        {"\"model\": \"pe\"", "\"grid\": {}", "positional-encoding", AIGC_ENGINE_ERROR_FORMAT},
        {"\"relu\"", "\"tanh\"", "“density”", AIGC_ENGINE_ERROR_FORMAT},
        {"\"width\": 64", "\"width\": 48", "wrong shape", AIGC_ENGINE_ERROR_FORMAT},
        {"\"depth\": 4", "\"depth\": 40", "depth must be", AIGC_ENGINE_ERROR_INVALID},
        {"\"skip\": 2", "\"skip\": 4", "skip", AIGC_ENGINE_ERROR_INVALID},
        {"\"n_fine\": 8", "\"n_fine\": -8", "“n_fine”", AIGC_ENGINE_ERROR_FORMAT},
        {"\"n_coarse\": 16", "\"n_coarse\": 2.5", "“n_coarse”", AIGC_ENGINE_ERROR_FORMAT},
        {"\"aabb_min\": [", "\"aabb_min\": [1e40, ", "“aabb_min”", AIGC_ENGINE_ERROR_FORMAT},
        {"\"pos_freqs\": 6", "\"pos_freqs\": 17", "frequencies", AIGC_ENGINE_ERROR_INVALID},
        {"}", "]", "not valid JSON", AIGC_ENGINE_ERROR_FORMAT},
    };
    for (guint i = 0; i < G_N_ELEMENTS(edits); i++) {
        const char *at = strstr(good, edits[i].from);
        g_assert_nonnull(at);
        g_autofree char *json = g_strdup_printf("%.*s%s%s", (int)(at - good), good, edits[i].to,
                                                at + strlen(edits[i].from));
        write_field(pe, NULL, bad, "nerf.config", json);
        assert_refused(bad, edits[i].code, edits[i].want);
    }
    /* A non-finite weight, and a missing tensor. */
    float saved = pe->w.c_w1[5];
    pe->w.c_w1[5] = NAN;
    write_field(pe, NULL, bad, NULL, NULL);
    pe->w.c_w1[5] = saved;
    assert_refused(bad, AIGC_ENGINE_ERROR_NUMERIC, "colour.0.weight");
    {
        g_autoptr(AigcNerfPe) shallow = NULL;
        AigcNerfPeConfig c3 = config;
        c3.depth = 3; /* layers 0–2 shaped as in the depth-4 file (its skip feeds layer 3) */
        c3.skip = -1;
        shallow = aigc_nerf_pe_new(&c3, pe->aabb_min, pe->aabb_max, NULL);
        g_assert_nonnull(shallow);
        write_field(shallow, NULL, bad, "nerf.config", good); /* says depth 4 */
        assert_refused(bad, AIGC_ENGINE_ERROR_FORMAT, "“density.3.weight” is missing");
    }
    /* Config checks at creation. */
    AigcNerfPeConfig wrong = config;
    wrong.n_coarse = 1;
    g_assert_null(aigc_nerf_pe_new(&wrong, pe->aabb_min, pe->aabb_max, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_clear_error(&error);
    float flat[3] = {1, 1, 1};
    g_assert_null(aigc_nerf_pe_new(&config, flat, flat, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID);
    g_unlink(file);
    g_unlink(bad);
}

static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(path, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR))
            remove_tree(p);
        else
            g_remove(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    tmp_dir = g_dir_make_tmp("aigc-nerf-pe-XXXXXX", NULL);
    g_test_add_func("/models/nerf-pe/encoding", test_encoding);
    g_test_add_func("/models/nerf-pe/paper-config", test_paper_config);
    g_test_add_func("/models/nerf-pe/sampling", test_sampling);
    g_test_add_func("/models/nerf-pe/gradcheck/softplus", test_gradcheck_softplus);
    g_test_add_func("/models/nerf-pe/gradcheck/relu", test_gradcheck_relu);
    g_test_add_func("/models/nerf-pe/gradcheck/coarse-only", test_gradcheck_coarse_only);
    g_test_add_func("/models/nerf-pe/file/save-load-resume", test_files);
    g_test_add_func("/models/nerf-pe/train/woodbox", test_train);
    int status = g_test_run();
    remove_tree(tmp_dir);
    g_free(tmp_dir);
    return status;
}
