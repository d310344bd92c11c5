/* SPDX-License-Identifier: MIT
 *
 * Optimisers, gradient clipping and the weight EMA over AigcParams' flat buffers.
 *
 * A step is one fused pass: each element's value, gradient and state are read once and written
 * once (PyTorch's for-each implementation makes a pass per arithmetic op). The flat buffer is
 * split into "runs" — consecutive parameters sharing a weight decay, frozen parameters left out —
 * and aigc_parallel_for cuts the flat index range into large chunks; a chunk updates the part of
 * each run it overlaps. Every element's update depends only on that element, so results are the
 * same for any thread count. Alignment padding between parameters is zero in values, gradients
 * and state, and stays zero under every update rule here. On CPUs with AVX2 the kernels run
 * 8-wide (chosen at run time); they perform the same IEEE operations in the same order as the
 * portable ones, so the results are the same bits on any x86-64 (the build keeps FMA
 * contraction off: C11 mode).
 *
 * Legend for the kernels: p value, g gradient, m momentum buffer or first moment, v second
 * moment, n elements, lr learning rate, wd weight decay.
 */
#include "aigc-optim.h"

#include "aigc-error.h"
#include "tensor/aigc-threads.h"

#if defined(__SSE__)
#include <immintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define AIGC_OPTIM_AVX2 1 /* AVX2 kernels, picked at run time */
#else
#define AIGC_OPTIM_AVX2 0
#endif
#if defined(__GNUC__) || defined(__clang__)
/* Also into the AVX2 variants, which then compile the code for AVX2. */
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Elements per chunk of a parallel pass: a few hundred KB per array, so small models stay on one
 * thread and big ones split evenly. */
#define STEP_GRAIN (1 << 16)

typedef struct {
    gint64 begin, end; /* flat range, the parameter's alignment padding included */
    float wd;          /* weight decay of this run (0 for parameters excluded from decay) */
} Run;

struct _AigcOptimizer {
    AigcOptimKind kind;
    AigcOptimizerParams hp;
    AigcParams *params; /* borrowed */
    gint64 n;           /* flat elements */
    gint64 step;
    gint32 kind_saved; /* the kind as stored in checkpoints (borrowed by writers) */
    float *m;          /* (n) SGD momentum buffer or Adam first moment; NULL for plain SGD */
    float *v;          /* (n) Adam second moment; NULL for SGD */
    guint n_params;
    gint64 *span;      /* (n_params + 1) flat offset where each parameter starts, then n */
    gboolean *decayed; /* (n_params) */
    Run *runs;         /* (n_params) rebuilt at every step from requires_grad */
    guint n_runs;
};

/* ---- small helpers ---- */

static float *alloc_state(gint64 n)
{
    gsize bytes = (gsize)MAX(n, 16) * sizeof(float);
    bytes = (bytes + 63) & ~(gsize)63; /* aligned_alloc wants a multiple of the alignment */
    float *p = aligned_alloc(64, bytes);
    if (!p)
        g_error("out of memory for %" G_GINT64_FORMAT " optimiser values", n);
    memset(p, 0, bytes);
    return p;
}

static char *state_name(const char *prefix, const char *kind, const char *param)
{
    return g_strconcat(prefix ? prefix : "", kind, param, NULL);
}

/* Checks that `st` holds a float tensor `name` of param's shape and copies it into dest, which
 * must then hold finite values (and non-negative ones when `non_negative`). */
static gboolean read_state(AigcSafetensors *st, const char *name, const AigcTensor *param,
                           float *dest, gboolean non_negative, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const AigcSafetensorsTensor *t = aigc_safetensors_find(st, name);
    if (!t) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: tensor “%s” is missing", label, name);
        return FALSE;
    }
    gboolean same = t->n_dims == param->n_dims;
    for (int d = 0; same && d < param->n_dims; d++)
        same = t->shape[d] == param->shape[d];
    if (!same) {
        char want[64];
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: tensor “%s” has the wrong shape (expected %s)", label, name,
                    aigc_tensor_shape_string(param, want, sizeof want));
        return FALSE;
    }
    if (!aigc_safetensors_read_f32(st, t, dest, param->n_elements, error))
        return FALSE;
    for (gint64 k = 0; k < param->n_elements; k++) {
        if (!isfinite(dest[k]) || (non_negative && dest[k] < 0)) {
            g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC,
                        "%s: tensor “%s” holds an invalid value at element %" G_GINT64_FORMAT,
                        label, name, k);
            return FALSE;
        }
    }
    return TRUE;
}

/* Reads a one-element integer tensor (I32 or I64, little-endian, maybe unaligned). */
static gboolean read_counter(AigcSafetensors *st, const char *name, gint64 *value, GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    const AigcSafetensorsTensor *t = aigc_safetensors_find(st, name);
    if (!t || t->n_elements != 1 || (t->dtype != AIGC_DTYPE_I64 && t->dtype != AIGC_DTYPE_I32)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: tensor “%s” is missing or is not one integer", label, name);
        return FALSE;
    }
    if (t->dtype == AIGC_DTYPE_I64) {
        gint64 le;
        memcpy(&le, t->data, sizeof le);
        *value = GINT64_FROM_LE(le);
    } else {
        gint32 le;
        memcpy(&le, t->data, sizeof le);
        *value = GINT32_FROM_LE(le);
    }
    return TRUE;
}

static const gint64 one_shape[1] = {1};

/* ---- hyperparameters ---- */

AigcOptimizerParams aigc_optimizer_default_params(AigcOptimKind kind)
{
    AigcOptimizerParams hp = {
        .momentum = 0.0f,
        .nesterov = FALSE,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
        .weight_decay = kind == AIGC_OPTIM_ADAMW ? 0.01f : 0.0f,
    };
    return hp;
}

gboolean aigc_optimizer_decay_matrices(const AigcTensor *param, gpointer user_data)
{
    return param->n_dims >= 2;
}

/* ---- the optimiser ---- */

AigcOptimizer *aigc_optimizer_new(AigcOptimKind kind, const AigcOptimizerParams *hp,
                                  AigcParams *params)
{
    g_return_val_if_fail((guint)kind < AIGC_N_OPTIM_KINDS, NULL);
    g_return_val_if_fail(params != NULL, NULL);
    g_return_val_if_fail(aigc_params_get_data(params) != NULL, NULL); /* allocated */
    AigcOptimizerParams p = hp ? *hp : aigc_optimizer_default_params(kind);
    g_return_val_if_fail(p.momentum >= 0.0f && p.weight_decay >= 0.0f && p.eps >= 0.0f, NULL);
    g_return_val_if_fail(p.beta1 >= 0.0f && p.beta1 < 1.0f, NULL);
    g_return_val_if_fail(p.beta2 >= 0.0f && p.beta2 < 1.0f, NULL);
    g_return_val_if_fail(!p.nesterov || (kind == AIGC_OPTIM_SGD && p.momentum > 0.0f), NULL);

    AigcOptimizer *opt = g_new0(AigcOptimizer, 1);
    opt->kind = kind;
    opt->kind_saved = (gint32)kind;
    opt->hp = p;
    opt->params = params;
    opt->n = aigc_params_get_n_elements(params);
    opt->n_params = aigc_params_get_n(params);
    opt->span = g_new(gint64, opt->n_params + 1);
    opt->decayed = g_new(gboolean, MAX(opt->n_params, 1));
    opt->runs = g_new(Run, MAX(opt->n_params, 1));
    const float *flat = aigc_params_get_data(params);
    for (guint i = 0; i < opt->n_params; i++) {
        AigcTensor *t = aigc_params_get(params, i);
        opt->span[i] = t->data - flat;
        g_assert(i == 0 || opt->span[i] >= opt->span[i - 1]);
        opt->decayed[i] = p.decay_func ? p.decay_func(t, p.decay_data) : TRUE;
    }
    opt->span[opt->n_params] = opt->n;
    if (kind != AIGC_OPTIM_SGD || p.momentum > 0.0f)
        opt->m = alloc_state(opt->n);
    if (kind != AIGC_OPTIM_SGD)
        opt->v = alloc_state(opt->n);
    return opt;
}

void aigc_optimizer_free(AigcOptimizer *opt)
{
    if (!opt)
        return;
    free(opt->m);
    free(opt->v);
    g_free(opt->span);
    g_free(opt->decayed);
    g_free(opt->runs);
    g_free(opt);
}

AigcOptimKind aigc_optimizer_get_kind(AigcOptimizer *opt)
{
    return opt->kind;
}

gint64 aigc_optimizer_get_step(AigcOptimizer *opt)
{
    return opt->step;
}

const AigcOptimizerParams *aigc_optimizer_get_params(AigcOptimizer *opt)
{
    return &opt->hp;
}

gboolean aigc_optimizer_get_decayed(AigcOptimizer *opt, guint i)
{
    g_return_val_if_fail(i < opt->n_params, FALSE);
    return opt->decayed[i];
}

void aigc_optimizer_reset(AigcOptimizer *opt)
{
    gsize bytes = (gsize)opt->n * sizeof(float);
    if (opt->m)
        memset(opt->m, 0, bytes);
    if (opt->v)
        memset(opt->v, 0, bytes);
    opt->step = 0;
}

/* Groups consecutive trainable parameters with the same decay into runs. */
static void build_runs(AigcOptimizer *opt)
{
    opt->n_runs = 0;
    for (guint i = 0; i < opt->n_params; i++) {
        if (!aigc_params_get(opt->params, i)->requires_grad)
            continue;
        float wd = opt->decayed[i] ? opt->hp.weight_decay : 0.0f;
        Run *last = opt->n_runs ? &opt->runs[opt->n_runs - 1] : NULL;
        if (last && last->end == opt->span[i] && last->wd == wd) {
            last->end = opt->span[i + 1];
        } else {
            opt->runs[opt->n_runs++] = (Run){opt->span[i], opt->span[i + 1], wd};
        }
    }
}

/* The kernels work on blocks of LANES elements: GCC vectorises a fixed-count inner loop even at
 * -O2, where it leaves a loop with a remainder scalar. The last n % LANES elements go through the
 * same block code on zero-padded copies, so every element takes exactly the same arithmetic
 * (a chunk boundary that falls inside a block cannot change a result). */
#define LANES 8

/* √x for LANES values ≥ 0. sqrtf itself would keep the loop scalar (it may set errno). */
static inline void sqrt_lanes(float *restrict x)
{
#if defined(__SSE__)
    for (int l = 0; l < LANES; l += 4)
        _mm_storeu_ps(x + l, _mm_sqrt_ps(_mm_loadu_ps(x + l)));
#else
    for (int l = 0; l < LANES; l++)
        x[l] = sqrtf(x[l]);
#endif
}

typedef struct {
    float lr, wd;       /* SGD */
    float momentum;     /* SGD with momentum */
    float nest, keep_m; /* SGD: (1, momentum) for Nesterov, (0, 1) for plain momentum */
    float beta1, beta2, one_minus_beta1, one_minus_beta2, eps; /* Adam */
    float l2, keep;     /* Adam: (wd, 1); AdamW: (0, 1 − lr·wd) */
    float step_size;    /* Adam: lr / (1 − β1^t) */
    float inv_bc2_sqrt; /* Adam: 1 / √(1 − β2^t) */
} Coef;

/* SGD, torch.optim.SGD with dampening 0:
 *   d = g + wd·p;  m = momentum·m + d;  p −= lr·(nesterov ? d + momentum·m : m)
 * (m starts at 0, so the first step sets m = d exactly as PyTorch's clone does). Plain SGD has no
 * m: p −= lr·d. */
static ALWAYS_INLINE void sgd_block(float *restrict p, float *restrict m, const float *restrict g,
                                    const Coef *k)
{
    float lr = k->lr, wd = k->wd, momentum = k->momentum, nest = k->nest, keep_m = k->keep_m;
    if (!m) {
        for (int l = 0; l < LANES; l++)
            p[l] -= lr * (g[l] + wd * p[l]);
        return;
    }
    for (int l = 0; l < LANES; l++) {
        float d = g[l] + wd * p[l];
        float ml = momentum * m[l] + d;
        m[l] = ml;
        p[l] -= lr * (nest * d + keep_m * ml);
    }
}

/* Adam and AdamW, as torch.optim.Adam / AdamW:
 *   d = g + l2·p;  m = β1·m + (1 − β1)·d;  v = β2·v + (1 − β2)·d²
 *   p = keep·p − step_size · m / (√v · inv_bc2_sqrt + eps) */
static inline void adam_block(float *restrict p, float *restrict m, float *restrict v,
                              const float *restrict g, const Coef *k)
{
    float beta1 = k->beta1, beta2 = k->beta2, omb1 = k->one_minus_beta1, omb2 = k->one_minus_beta2,
          eps = k->eps, l2 = k->l2, keep = k->keep, step_size = k->step_size,
          inv_bc2_sqrt = k->inv_bc2_sqrt;
    float root[LANES]; /* √v */
    for (int l = 0; l < LANES; l++) {
        float d = g[l] + l2 * p[l];
        m[l] = beta1 * m[l] + omb1 * d;
        root[l] = v[l] = beta2 * v[l] + omb2 * d * d;
    }
    sqrt_lanes(root);
    for (int l = 0; l < LANES; l++)
        p[l] = p[l] * keep - step_size * m[l] / (root[l] * inv_bc2_sqrt + eps);
}

static ALWAYS_INLINE void sgd_update_impl(float *p, float *m, const float *g, gint64 n,
                                          const Coef *k)
{
    gint64 i = 0;
    for (; i + LANES <= n; i += LANES)
        sgd_block(p + i, m ? m + i : NULL, g + i, k);
    if (i == n)
        return;
    gsize bytes = (gsize)(n - i) * sizeof(float);
    float tp[LANES] = {0}, tm[LANES] = {0}, tg[LANES] = {0};
    memcpy(tp, p + i, bytes);
    memcpy(tg, g + i, bytes);
    if (m)
        memcpy(tm, m + i, bytes);
    sgd_block(tp, m ? tm : NULL, tg, k);
    memcpy(p + i, tp, bytes);
    if (m)
        memcpy(m + i, tm, bytes);
}

static void sgd_update_generic(float *p, float *m, const float *g, gint64 n, const Coef *k)
{
    sgd_update_impl(p, m, g, n, k);
}

typedef void (*AdamBlockFunc)(float *p, float *m, float *v, const float *g, const Coef *k);

/* The last n < LANES elements, through zero-padded copies and the same block code. */
static void adam_tail(float *p, float *m, float *v, const float *g, gint64 n, const Coef *k,
                      AdamBlockFunc block)
{
    gsize bytes = (gsize)n * sizeof(float);
    float tp[LANES] = {0}, tm[LANES] = {0}, tv[LANES] = {0}, tg[LANES] = {0};
    memcpy(tp, p, bytes);
    memcpy(tm, m, bytes);
    memcpy(tv, v, bytes);
    memcpy(tg, g, bytes);
    block(tp, tm, tv, tg, k);
    memcpy(p, tp, bytes);
    memcpy(m, tm, bytes);
    memcpy(v, tv, bytes);
}

static void adam_block_generic(float *p, float *m, float *v, const float *g, const Coef *k)
{
    adam_block(p, m, v, g, k);
}

static void adam_update_generic(float *p, float *m, float *v, const float *g, gint64 n,
                                const Coef *k)
{
    gint64 i = 0;
    for (; i + LANES <= n; i += LANES)
        adam_block(p + i, m + i, v + i, g + i, k);
    if (i < n)
        adam_tail(p + i, m + i, v + i, g + i, n - i, k, adam_block_generic);
}

#if AIGC_OPTIM_AVX2
/* The same arithmetic, operation for operation (and without FMA), on 8-wide AVX2 vectors: the
 * results are bitwise those of adam_block, twice as fast where the data sits in cache (the
 * square root and the division dominate). Chosen at run time when the CPU has AVX2. */
__attribute__((target("avx2"))) static void adam_block_avx2(float *p, float *m, float *v,
                                                            const float *g, const Coef *k)
{
    __m256 d =
        _mm256_add_ps(_mm256_loadu_ps(g), _mm256_mul_ps(_mm256_set1_ps(k->l2), _mm256_loadu_ps(p)));
    __m256 mm = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(k->beta1), _mm256_loadu_ps(m)),
                              _mm256_mul_ps(_mm256_set1_ps(k->one_minus_beta1), d));
    __m256 vv =
        _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(k->beta2), _mm256_loadu_ps(v)),
                      _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(k->one_minus_beta2), d), d));
    _mm256_storeu_ps(m, mm);
    _mm256_storeu_ps(v, vv);
    __m256 den = _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(vv), _mm256_set1_ps(k->inv_bc2_sqrt)),
                               _mm256_set1_ps(k->eps));
    __m256 step = _mm256_div_ps(_mm256_mul_ps(_mm256_set1_ps(k->step_size), mm), den);
    _mm256_storeu_ps(
        p, _mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(p), _mm256_set1_ps(k->keep)), step));
}

__attribute__((target("avx2"))) static void
adam_update_avx2(float *p, float *m, float *v, const float *g, gint64 n, const Coef *k)
{
    gint64 i = 0;
    for (; i + LANES <= n; i += LANES)
        adam_block_avx2(p + i, m + i, v + i, g + i, k);
    if (i < n)
        adam_tail(p + i, m + i, v + i, g + i, n - i, k, adam_block_avx2);
}

/* SGD's portable code compiled for AVX2: the compiler widens each block to one 8-float vector,
 * with the same operations as the portable build. */
__attribute__((target("avx2"))) static void sgd_update_avx2(float *p, float *m, const float *g,
                                                            gint64 n, const Coef *k)
{
    sgd_update_impl(p, m, g, n, k);
}
#endif

static gint avx2_allowed = TRUE; /* atomic */

void aigc_optimizer_set_avx2_allowed(gboolean allowed)
{
    g_atomic_int_set(&avx2_allowed, allowed ? TRUE : FALSE);
}

static void sgd_update(float *p, float *m, const float *g, gint64 n, const Coef *k, gboolean avx2)
{
#if AIGC_OPTIM_AVX2
    if (avx2) {
        sgd_update_avx2(p, m, g, n, k);
        return;
    }
#endif
    sgd_update_generic(p, m, g, n, k);
}

static void adam_update(float *p, float *m, float *v, const float *g, gint64 n, const Coef *k,
                        gboolean avx2)
{
#if AIGC_OPTIM_AVX2
    if (avx2) {
        adam_update_avx2(p, m, v, g, n, k);
        return;
    }
#endif
    adam_update_generic(p, m, v, g, n, k);
}

typedef struct {
    AigcOptimizer *opt;
    float *p;       /* flat values */
    const float *g; /* flat gradients */
    Coef coef;      /* wd, l2 and keep are set per run */
    gboolean avx2;  /* use the AVX2 kernels */
} StepCtx;

static void step_chunk(gint64 begin, gint64 end, gpointer data)
{
    StepCtx *c = data;
    AigcOptimizer *opt = c->opt;
    Coef k = c->coef;
    for (guint r = 0; r < opt->n_runs; r++) {
        gint64 b = MAX(begin, opt->runs[r].begin), e = MIN(end, opt->runs[r].end);
        if (b >= e)
            continue;
        float wd = opt->runs[r].wd;
        switch (opt->kind) {
        case AIGC_OPTIM_SGD:
            k.wd = wd;
            sgd_update(c->p + b, opt->m ? opt->m + b : NULL, c->g + b, e - b, &k, c->avx2);
            break;
        case AIGC_OPTIM_ADAM:
            k.l2 = wd;
            k.keep = 1.0f;
            adam_update(c->p + b, opt->m + b, opt->v + b, c->g + b, e - b, &k, c->avx2);
            break;
        case AIGC_OPTIM_ADAMW:
            k.l2 = 0.0f;
            k.keep = (float)(1.0 - (double)k.lr * wd);
            adam_update(c->p + b, opt->m + b, opt->v + b, c->g + b, e - b, &k, c->avx2);
            break;
        default:
            g_assert_not_reached();
        }
    }
}

void aigc_optimizer_step(AigcOptimizer *opt, float lr)
{
    g_return_if_fail(opt != NULL);
    opt->step++;
    build_runs(opt);
    const AigcOptimizerParams *hp = &opt->hp;
    Coef coef = {
        .lr = lr,
        .momentum = hp->momentum,
        .nest = hp->nesterov ? 1.0f : 0.0f,
        .keep_m = hp->nesterov ? hp->momentum : 1.0f,
        .beta1 = hp->beta1,
        .beta2 = hp->beta2,
        .one_minus_beta1 = 1.0f - hp->beta1,
        .one_minus_beta2 = 1.0f - hp->beta2,
        .eps = hp->eps,
    };
    if (opt->kind != AIGC_OPTIM_SGD) {
        double bc1 = 1.0 - pow(hp->beta1, (double)opt->step);
        double bc2 = 1.0 - pow(hp->beta2, (double)opt->step);
        coef.step_size = (float)(lr / bc1);
        coef.inv_bc2_sqrt = (float)(1.0 / sqrt(bc2));
    }
    StepCtx c = {
        .opt = opt,
        .p = aigc_params_get_data(opt->params),
        .g = aigc_params_get_grad(opt->params),
        .coef = coef,
#if AIGC_OPTIM_AVX2
        .avx2 = g_atomic_int_get(&avx2_allowed) && __builtin_cpu_supports("avx2"),
#endif
    };
    aigc_parallel_for(opt->n, STEP_GRAIN, step_chunk, &c);
}

gboolean aigc_optimizer_save(AigcOptimizer *opt, AigcSafetensorsWriter *writer, const char *prefix,
                             GError **error)
{
    g_autofree char *kind_name = state_name(prefix, "kind", "");
    g_autofree char *step_name = state_name(prefix, "step", "");
    if (!aigc_safetensors_writer_add(writer, kind_name, AIGC_DTYPE_I32, 1, one_shape,
                                     &opt->kind_saved, error) ||
        !aigc_safetensors_writer_add(writer, step_name, AIGC_DTYPE_I64, 1, one_shape, &opt->step,
                                     error))
        return FALSE;
    const char *m_kind = opt->kind == AIGC_OPTIM_SGD ? "momentum_buffer." : "exp_avg.";
    for (guint i = 0; i < opt->n_params; i++) {
        AigcTensor *t = aigc_params_get(opt->params, i);
        if (opt->m) {
            g_autofree char *name = state_name(prefix, m_kind, t->name);
            if (!aigc_safetensors_writer_add_f32(writer, name, AIGC_DTYPE_F32, t->n_dims, t->shape,
                                                 opt->m + opt->span[i], error))
                return FALSE;
        }
        if (opt->v) {
            g_autofree char *name = state_name(prefix, "exp_avg_sq.", t->name);
            if (!aigc_safetensors_writer_add_f32(writer, name, AIGC_DTYPE_F32, t->n_dims, t->shape,
                                                 opt->v + opt->span[i], error))
                return FALSE;
        }
    }
    return TRUE;
}

gboolean aigc_optimizer_load(AigcOptimizer *opt, AigcSafetensors *st, const char *prefix,
                             GError **error)
{
    const char *label = aigc_safetensors_get_label(st);
    g_autofree char *kind_name = state_name(prefix, "kind", "");
    g_autofree char *step_name = state_name(prefix, "step", "");
    gint64 kind, step;
    if (!read_counter(st, kind_name, &kind, error) || !read_counter(st, step_name, &step, error))
        return FALSE;
    if (kind != opt->kind) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_UNSUPPORTED,
                    "%s: the optimiser state is of another kind (%" G_GINT64_FORMAT
                    ", expected %d)",
                    label, kind, (int)opt->kind);
        return FALSE;
    }
    if (step < 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: tensor “%s” is negative", label, step_name);
        return FALSE;
    }
    /* Fresh buffers (padding zeroed), swapped in only when everything has been read. */
    float *m = opt->m ? alloc_state(opt->n) : NULL;
    float *v = opt->v ? alloc_state(opt->n) : NULL;
    const char *m_kind = opt->kind == AIGC_OPTIM_SGD ? "momentum_buffer." : "exp_avg.";
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < opt->n_params; i++) {
        AigcTensor *t = aigc_params_get(opt->params, i);
        if (m) {
            g_autofree char *name = state_name(prefix, m_kind, t->name);
            ok = read_state(st, name, t, m + opt->span[i], FALSE, error);
        }
        if (ok && v) {
            g_autofree char *name = state_name(prefix, "exp_avg_sq.", t->name);
            ok = read_state(st, name, t, v + opt->span[i], TRUE, error);
        }
    }
    if (!ok) {
        free(m);
        free(v);
        return FALSE;
    }
    free(opt->m);
    free(opt->v);
    opt->m = m;
    opt->v = v;
    opt->step = step;
    return TRUE;
}

/* ---- gradient clipping ---- */

/* The sum of squares is taken over fixed blocks (their size depends only on n) and the block sums
 * are added in order, so the norm is bitwise the same for any thread count. */
#define CLIP_MAX_BLOCKS 256
#define CLIP_MIN_BLOCK  (1 << 16)

typedef struct {
    const float *g;
    float *g_mut;
    gint64 n, block;
    double partial[CLIP_MAX_BLOCKS];
    float scale;
} ClipCtx;

static double sum_squares(const float *restrict g, gint64 n)
{
    /* Eight independent accumulators: the compiler may vectorise them without reassociating. */
    double acc[8] = {0};
    gint64 i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += (double)g[i + l] * (double)g[i + l];
    for (; i < n; i++)
        acc[0] += (double)g[i] * (double)g[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static void clip_sum_blocks(gint64 begin, gint64 end, gpointer data)
{
    ClipCtx *c = data;
    for (gint64 b = begin; b < end; b++) {
        gint64 lo = b * c->block, hi = MIN(c->n, lo + c->block);
        c->partial[b] = sum_squares(c->g + lo, hi - lo);
    }
}

static void clip_scale(gint64 begin, gint64 end, gpointer data)
{
    ClipCtx *c = data;
    float *restrict g = c->g_mut;
    float s = c->scale;
    gint64 i = begin;
    for (; i + LANES <= end; i += LANES)
        for (int l = 0; l < LANES; l++)
            g[i + l] *= s;
    for (; i < end; i++)
        g[i] *= s;
}

double aigc_clip_grad_norm(AigcParams *params, double max_norm)
{
    g_return_val_if_fail(params != NULL, 0.0);
    g_return_val_if_fail(max_norm >= 0.0, 0.0);
    ClipCtx c = {.g = aigc_params_get_grad(params), .n = aigc_params_get_n_elements(params)};
    if (c.n == 0)
        return 0.0;
    c.block = MAX(CLIP_MIN_BLOCK, (c.n + CLIP_MAX_BLOCKS - 1) / CLIP_MAX_BLOCKS);
    gint64 n_blocks = (c.n + c.block - 1) / c.block;
    aigc_parallel_for(n_blocks, 1, clip_sum_blocks, &c);
    double total = 0.0;
    for (gint64 b = 0; b < n_blocks; b++)
        total += c.partial[b];
    double norm = sqrt(total);
    if (!isfinite(norm))
        return norm;
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        c.g_mut = aigc_params_get_grad(params);
        c.scale = (float)coef;
        aigc_parallel_for(c.n, STEP_GRAIN, clip_scale, &c);
    }
    return norm;
}

/* ---- exponential moving average ---- */

struct _AigcEma {
    AigcParams *params; /* borrowed */
    float *shadow;      /* (n) the average; the live values while swapped in */
    gint64 n;
    float decay;
    gboolean warmup;
    gboolean swapped;
    gint64 n_updates;
};

typedef struct {
    float *restrict a;
    float *restrict b;
    float w; /* 1 − decay */
} EmaCtx;

static void ema_update_chunk(gint64 begin, gint64 end, gpointer data)
{
    EmaCtx *c = data;
    float *restrict s = c->a;
    const float *restrict p = c->b;
    float w = c->w;
    /* s + (1 − d)(p − s): equal to d·s + (1 − d)·p, and leaves s exactly unchanged when p = s. */
    gint64 i = begin;
    for (; i + LANES <= end; i += LANES)
        for (int l = 0; l < LANES; l++)
            s[i + l] += w * (p[i + l] - s[i + l]);
    for (; i < end; i++)
        s[i] += w * (p[i] - s[i]);
}

static void ema_swap_chunk(gint64 begin, gint64 end, gpointer data)
{
    EmaCtx *c = data;
    float *restrict a = c->a;
    float *restrict b = c->b;
    for (gint64 i = begin; i < end; i++) {
        float t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

AigcEma *aigc_ema_new(AigcParams *params, float decay, gboolean warmup)
{
    g_return_val_if_fail(params != NULL, NULL);
    g_return_val_if_fail(aigc_params_get_data(params) != NULL, NULL);
    g_return_val_if_fail(decay >= 0.0f && decay <= 1.0f, NULL);
    AigcEma *ema = g_new0(AigcEma, 1);
    ema->params = params;
    ema->n = aigc_params_get_n_elements(params);
    ema->shadow = alloc_state(ema->n);
    memcpy(ema->shadow, aigc_params_get_data(params), (gsize)ema->n * sizeof(float));
    ema->decay = decay;
    ema->warmup = warmup;
    return ema;
}

void aigc_ema_free(AigcEma *ema)
{
    if (!ema)
        return;
    free(ema->shadow);
    g_free(ema);
}

float aigc_ema_get_decay(AigcEma *ema)
{
    if (!ema->warmup)
        return ema->decay;
    double n = (double)ema->n_updates;
    return (float)MIN((double)ema->decay, (1.0 + n) / (10.0 + n));
}

gint64 aigc_ema_get_n_updates(AigcEma *ema)
{
    return ema->n_updates;
}

void aigc_ema_update(AigcEma *ema)
{
    g_return_if_fail(!ema->swapped);
    EmaCtx c = {
        .a = ema->shadow,
        .b = aigc_params_get_data(ema->params),
        .w = (float)(1.0 - (double)aigc_ema_get_decay(ema)),
    };
    aigc_parallel_for(ema->n, STEP_GRAIN, ema_update_chunk, &c);
    ema->n_updates++;
}

const float *aigc_ema_get_data(AigcEma *ema)
{
    return ema->swapped ? aigc_params_get_data(ema->params) : ema->shadow;
}

static gboolean same_layout(AigcParams *a, AigcParams *b)
{
    if (aigc_params_get_n(a) != aigc_params_get_n(b) ||
        aigc_params_get_n_elements(a) != aigc_params_get_n_elements(b))
        return FALSE;
    for (guint i = 0; i < aigc_params_get_n(a); i++) {
        AigcTensor *ta = aigc_params_get(a, i), *tb = aigc_params_get(b, i);
        if (!aigc_tensor_same_shape(ta, tb) || strcmp(ta->name, tb->name) != 0 ||
            ta->data - aigc_params_get_data(a) != tb->data - aigc_params_get_data(b))
            return FALSE;
    }
    return TRUE;
}

void aigc_ema_copy_to(AigcEma *ema, AigcParams *dest)
{
    g_return_if_fail(dest != NULL && aigc_params_get_data(dest) != NULL);
    g_return_if_fail(same_layout(ema->params, dest));
    float *dst = aigc_params_get_data(dest);
    const float *src = aigc_ema_get_data(ema);
    if (dst != src)
        memcpy(dst, src, (gsize)ema->n * sizeof(float));
}

void aigc_ema_swap(AigcEma *ema)
{
    EmaCtx c = {.a = ema->shadow, .b = aigc_params_get_data(ema->params)};
    aigc_parallel_for(ema->n, STEP_GRAIN, ema_swap_chunk, &c);
    ema->swapped = !ema->swapped;
}

gboolean aigc_ema_get_swapped(AigcEma *ema)
{
    return ema->swapped;
}

gboolean aigc_ema_save(AigcEma *ema, AigcSafetensorsWriter *writer, const char *prefix,
                       GError **error)
{
    g_autofree char *count_name = state_name(prefix, "n_updates", "");
    if (!aigc_safetensors_writer_add(writer, count_name, AIGC_DTYPE_I64, 1, one_shape,
                                     &ema->n_updates, error))
        return FALSE;
    const float *avg = aigc_ema_get_data(ema);
    const float *flat = aigc_params_get_data(ema->params);
    for (guint i = 0; i < aigc_params_get_n(ema->params); i++) {
        AigcTensor *t = aigc_params_get(ema->params, i);
        g_autofree char *name = state_name(prefix, "shadow.", t->name);
        if (!aigc_safetensors_writer_add_f32(writer, name, AIGC_DTYPE_F32, t->n_dims, t->shape,
                                             avg + (t->data - flat), error))
            return FALSE;
    }
    return TRUE;
}

gboolean aigc_ema_load(AigcEma *ema, AigcSafetensors *st, const char *prefix, GError **error)
{
    g_return_val_if_fail(!ema->swapped, FALSE);
    g_autofree char *count_name = state_name(prefix, "n_updates", "");
    gint64 n_updates;
    if (!read_counter(st, count_name, &n_updates, error))
        return FALSE;
    if (n_updates < 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT,
                    "%s: tensor “%s” is negative", aigc_safetensors_get_label(st), count_name);
        return FALSE;
    }
    float *shadow = alloc_state(ema->n);
    const float *flat = aigc_params_get_data(ema->params);
    for (guint i = 0; i < aigc_params_get_n(ema->params); i++) {
        AigcTensor *t = aigc_params_get(ema->params, i);
        g_autofree char *name = state_name(prefix, "shadow.", t->name);
        if (!read_state(st, name, t, shadow + (t->data - flat), FALSE, error)) {
            free(shadow);
            return FALSE;
        }
    }
    free(ema->shadow);
    ema->shadow = shadow;
    ema->n_updates = n_updates;
    return TRUE;
}
