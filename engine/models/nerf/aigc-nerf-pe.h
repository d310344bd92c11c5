/* SPDX-License-Identifier: MIT
 *
 * The original neural radiance field (Mildenhall et al., "NeRF", ECCV 2020) as a CPU reference
 * beside the hash-grid field of aigc-nerf.h: no grid, no occupancy — a point's positional
 * encoding γ(x) goes through a plain MLP, and every ray is sampled in two passes.
 *
 *   γ(p) = (p, sin(2⁰πp), cos(2⁰πp), …, sin(2^(L−1)πp), cos(2^(L−1)πp)) per component;
 *   positions normalised to [−1, 1]³ inside the scene box (L = pos_freqs = 10), unit view
 *   directions (L = dir_freqs = 4);
 *   density MLP: `depth` layers of `width` with ReLU, the output of layer `skip` (0-based)
 *   concatenated with γ(x) as the next layer's input (nerf-pytorch's skips=[skip]);
 *   an output layer to 1 + width numbers: σ = softplus or ReLU of the first, the rest a feature
 *   vector; colour head: [feature, γ(d)] → colour_width, ReLU → 3, sigmoid.
 *   The paper's network is depth 8, width 256, skip 4 (the fifth layer's output is concatenated
 *   with γ(x)), colour_width 128; the default here is CPU-sized: depth 4, width 128, skip 2,
 *   colour_width 64.
 *
 * Sampling (the paper's hierarchical volume sampling, with one network): each ray is clipped to
 * the scene box; n_coarse stratified samples, one uniformly inside each of n_coarse equal bins,
 * give the coarse weights w_k; n_fine more are drawn from the piecewise-constant density of
 * those bins (∝ w_k + 10⁻⁵) by inverse transform of stratified uniforms; the ray's colour is
 * composited over the union of both sets sorted by depth. The paper trains a second ("fine")
 * network for the union; here one network serves both, as mip-NeRF does, so the coarse
 * samples' outputs are reused and a ray costs n_coarse + n_fine evaluations, not
 * 2·n_coarse + n_fine. The loss is |C_fine − C|² + coarse_weight·|C_coarse − C|²; sample
 * positions are not differentiated (as in the paper).
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "io/aigc-transforms.h"
#include "tensor/aigc-params.h"

G_BEGIN_DECLS

#define AIGC_NERF_PE_MAX_DEPTH   16
#define AIGC_NERF_PE_MAX_WIDTH   512
#define AIGC_NERF_PE_MAX_FREQS   16
#define AIGC_NERF_PE_MAX_SAMPLES 1024 /* n_coarse, and n_fine, per ray */

typedef enum {
    AIGC_NERF_PE_SOFTPLUS, /* σ = log(1 + e^raw): never stuck at zero */
    AIGC_NERF_PE_RELU,     /* σ = max(raw, 0), as in the paper */
} AigcNerfPeDensity;

typedef struct {
    int depth;        /* D: layers of the density MLP */
    int width;        /* W: their width */
    int skip;         /* layer (0 … D−2) whose output is concatenated with γ(x); −1 = none */
    int colour_width; /* Hc: the colour head's hidden layer */
    int pos_freqs;    /* L of γ(x) */
    int dir_freqs;    /* L of γ(d) */
    AigcNerfPeDensity density;
    int n_coarse; /* Nc: stratified samples per ray */
    int n_fine;   /* Nf: importance samples per ray (0: the coarse pass alone) */
} AigcNerfPeConfig;

/* The CPU-sized default: depth 4, width 128, skip 2, colour 64, L = 10 and 4, softplus,
 * 32 + 32 samples per ray. */
AigcNerfPeConfig aigc_nerf_pe_default_config(void);
/* The paper's network: depth 8, width 256, skip 4, colour 128, ReLU, 64 + 128 samples. */
AigcNerfPeConfig aigc_nerf_pe_paper_config(void);
/* Width of γ of a 3-vector with L frequencies: 3 + 6L. */
static inline int aigc_nerf_pe_encoding_dim(int n_freqs)
{
    return 3 + 6 * n_freqs;
}

/* γ of n 3-vectors p (n, 3): out (n, 3 + 6L), row stride ld; columns p, then for each
 * frequency k = 0 … L−1 sin(2^k π p) (3 columns) and cos(2^k π p) (3 columns). */
void aigc_nerf_pe_encode(gint64 n, const float *p, int n_freqs, float *out, int ld);

/* Named pointers into the flat parameter buffer (values or gradients); shapes as nn.Linear,
 * (out, in). P = 3 + 6·pos_freqs, Q = 3 + 6·dir_freqs. */
typedef struct {
    float *w[AIGC_NERF_PE_MAX_DEPTH]; /* layer i (W, in_i): in_0 = P, in_{skip+1} = W + P, else W */
    float *b[AIGC_NERF_PE_MAX_DEPTH]; /* (W) */
    float *out_w;                     /* (1 + W, W): row 0 the density, rows 1 … W the feature */
    float *out_b;                     /* (1 + W) */
    float *c_w1;                      /* (Hc, W + Q) */
    float *c_b1;                      /* (Hc) */
    float *c_w2;                      /* (3, Hc) */
    float *c_b2;                      /* (3) */
} AigcNerfPeWeights;

typedef struct _AigcNerfPeBatch AigcNerfPeBatch;

typedef struct {
    AigcNerfPeConfig config;
    float aabb_min[3], aabb_max[3];
    int P, Q;           /* encoding widths */
    AigcParams *params; /* "density.{i}.*", "density.out.*", "colour.{0,1}.*" */
    AigcNerfPeWeights w, g;
    AigcNerfPeBatch *render_batch; /* (lazily made) scratch of aigc_nerf_pe_render */
} AigcNerfPe;

/* (transfer full) (nullable) A field in the box [aabb_min, aabb_max], weights zero; NULL +
 * error for a bad config or box. */
AigcNerfPe *aigc_nerf_pe_new(const AigcNerfPeConfig *config, const float aabb_min[3],
                             const float aabb_max[3], GError **error);
void aigc_nerf_pe_free(AigcNerfPe *pe);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcNerfPe, aigc_nerf_pe_free)
/* Glorot-uniform weights and zero biases (the paper's TensorFlow defaults). */
void aigc_nerf_pe_init_weights(AigcNerfPe *pe, guint64 seed);

/* ---- batches of rays ----
 * The steps of a render or of a training step, public for the tests. A batch holds up to
 * `capacity` rays that hit the box, each with Nc + Nf samples. Sample rows: the coarse samples
 * of all n rays first (ray r's k-th at r·Nc + k), then the fine ones (n·Nc + r·Nf + k). */
struct _AigcNerfPeBatch {
    int capacity, n_rays, Nc, Nf, S; /* S = Nc + Nf */
    gboolean training;
    /* per ray */
    float *origin, *dir;     /* (capacity, 3) unit directions */
    float *t_near, *t_far;   /* (capacity) the box along the ray */
    int *index;              /* (capacity) the input ray each batch ray came from */
    gint64 *offset_c, *offset_u; /* (capacity + 1) r·Nc, r·S */
    int *count_c, *count_u;      /* (capacity) Nc, S */
    /* per sample */
    float *t;       /* (capacity·S) rows as above */
    float *delta_c; /* (capacity·Nc) coarse interval lengths, per ray in order */
    int *order;     /* (capacity·S) per ray, its rows sorted by t (the union) */
    float *t_u, *delta_u, *sigma_u, *rgb_u; /* (capacity·S [, 3]) gathered in union order */
    /* activations, one row per sample */
    float *enc;    /* (capacity·S, enc_ld) γ(x): inside skip_in when there is a skip */
    int enc_ld;
    float *h;      /* (D, capacity·S, W) layer outputs (layer skip's inside skip_in) */
    float *skip_in; /* (capacity·S, W + P) [h, γ(x)] (NULL without a skip) */
    float *head;   /* (capacity·S, 1 + W + Q) [raw density, feature, γ(d)] */
    float *hc;     /* (capacity·S, Hc) */
    float *rgb;    /* (capacity·S, 3) */
    float *sigma;  /* (capacity·S) */
    /* training only (NULL otherwise) */
    float *d_sigma, *d_rgb;     /* (capacity·S [, 3]) ∂L/∂σ, ∂L/∂c per row */
    float *d_sigma_u, *d_rgb_u; /* (capacity·S [, 3]) in union order */
    float *d_a, *d_b;           /* (capacity·S, max(1 + W, Hc)) backward scratch */
};

/* (transfer full) Room for `capacity` rays of pe's sample counts (about 3.7 KiB per sample
 * with the default widths, 4.7 KiB when training). */
AigcNerfPeBatch *aigc_nerf_pe_batch_new(const AigcNerfPe *pe, int capacity, gboolean training);
void aigc_nerf_pe_batch_free(AigcNerfPeBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcNerfPeBatch, aigc_nerf_pe_batch_free)

/* Clips rays (origins, unit dirs (n, 3)) to the box and keeps those that hit it, at most the
 * capacity; returns how many were kept (batch->n_rays, their input indices in batch->index). */
int aigc_nerf_pe_batch_set_rays(const AigcNerfPe *pe, AigcNerfPeBatch *batch, int n,
                                const float *origins, const float *dirs);
/* Places every sample: coarse ones at bin offsets jitter_c (n_rays, Nc) in [0, 1) (NULL: bin
 * centres), the density stage on them, then fine ones from their weights at stratified
 * uniforms (k + jitter_f)/Nf, jitter_f (n_rays, Nf) (NULL: ½); and the union order. */
void aigc_nerf_pe_batch_sample(AigcNerfPe *pe, AigcNerfPeBatch *batch, const float *jitter_c,
                               const float *jitter_f);
/* The network on every sample: density on rows [first_row, n_rays·S) — 0 to recompute all,
 * n_rays·Nc after aigc_nerf_pe_batch_sample with unchanged weights — then colour on all rows,
 * and the union gathered. */
void aigc_nerf_pe_batch_forward(AigcNerfPe *pe, AigcNerfPeBatch *batch, gint64 first_row);
/* Each ray's colour over the union on one background (3), expected depth Σ w·t and opacity
 * Σ w (nullable): out_rgb (n_rays, 3). */
void aigc_nerf_pe_batch_composite(const AigcNerfPeBatch *batch, const float background[3],
                                  float *out_rgb, float *out_depth, float *out_opacity);
/* The loss scale·Σ_rays (|C_fine − target|² + coarse_weight·|C_coarse − target|²) with a
 * background per ray (n_rays, 3), and its gradient added to pe's parameter gradients. Returns
 * Σ |C_fine − target|²; se_coarse (nullable) gets Σ |C_coarse − target|². */
double aigc_nerf_pe_batch_backward(AigcNerfPe *pe, AigcNerfPeBatch *batch,
                                   const float *background, const float *target, float scale,
                                   float coarse_weight, double *se_coarse);

/* ---- views ---- */

/* Renders a view as aigc_nerf_render does: rgb (height, width, 3) on `background`, depth and
 * opacity nullable. One render at a time per field. */
void aigc_nerf_pe_render(AigcNerfPe *pe, const AigcPinhole *camera, const double c2w[16],
                         const float background[3], float *rgb, float *depth, float *opacity);
/* Mean over frames of each frame's PSNR (dB) against the dataset on its background; mse
 * (nullable) over all pixels. */
double aigc_nerf_pe_eval_psnr(AigcNerfPe *pe, const AigcTransforms *data, double *mse);

/* ---- files (aigc-nerf-pe-io.c) ---- */

/* Adds the field (metadata "family" = "nerf-pe" and "nerf.config", the F32 weights, borrowed
 * until the write) to a writer. */
gboolean aigc_nerf_pe_save(AigcNerfPe *pe, AigcSafetensorsWriter *writer, GError **error);
/* (transfer full) (nullable) A field from a file written by aigc_nerf_pe_save(): the config is
 * checked, every tensor must be present, shaped as the config says and finite. */
AigcNerfPe *aigc_nerf_pe_load(AigcSafetensors *st, GError **error);

/* ---- training (aigc-nerf-pe-train.c) ---- */

typedef struct {
    float lr, lr_final;     /* Adam, decaying exponentially from lr to lr_final … */
    gint64 decay_steps;     /* … over this many steps, then constant */
    float beta1, beta2, eps; /* 0.9, 0.999, 1e-7 (the paper's) */
    int rays_per_step;
    float coarse_weight;    /* of the coarse loss */
    gboolean random_background;
    guint64 seed;
} AigcNerfPeTrainParams;

/* lr 4e-3 → 4e-4 over 2,500 steps, 128 rays per step, coarse weight 0.1, random backgrounds:
 * on woodbox the best of the settings tried for five minutes on two cores (small batches,
 * many steps). The paper: 5e-4 → 5e-5 over 500k steps, 4,096 rays — use its lower rate with
 * the paper's network. */
AigcNerfPeTrainParams aigc_nerf_pe_default_train_params(void);

typedef struct {
    double mse;        /* of the fine colours over the step's rays (on their backgrounds) */
    double mse_coarse; /* of the coarse colours */
    gint64 n_rays;     /* picked */
    gint64 n_samples;  /* network evaluations */
    float lr;
} AigcNerfPeStepStats;

typedef struct _AigcNerfPeTrainer AigcNerfPeTrainer;

/* (transfer full) A trainer for `pe` (borrowed; must outlive it). */
AigcNerfPeTrainer *aigc_nerf_pe_trainer_new(AigcNerfPe *pe, const AigcNerfPeTrainParams *params);
void aigc_nerf_pe_trainer_free(AigcNerfPeTrainer *trainer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcNerfPeTrainer, aigc_nerf_pe_trainer_free)
gint64 aigc_nerf_pe_trainer_get_step(AigcNerfPeTrainer *trainer);
/* One Adam step on random pixels of `data` (images loaded). stats nullable. */
void aigc_nerf_pe_trainer_step(AigcNerfPeTrainer *trainer, const AigcTransforms *data,
                               AigcNerfPeStepStats *stats);
/* Adds the Adam state ("optim.") and "nerf.train" metadata (step, seed) to a writer holding the
 * field, so a run resumes bit for bit; borrowed until the write. */
gboolean aigc_nerf_pe_trainer_save(AigcNerfPeTrainer *trainer, AigcSafetensorsWriter *writer,
                                   GError **error);
/* Restores that state; on failure the trainer is left fresh (step 0), never half restored. */
gboolean aigc_nerf_pe_trainer_load(AigcNerfPeTrainer *trainer, AigcSafetensors *st,
                                   GError **error);

G_END_DECLS
