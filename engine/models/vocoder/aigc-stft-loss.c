/* SPDX-License-Identifier: MIT
 *
 * Multi-resolution STFT loss (see aigc-stft-loss.h).
 *
 * Threads: an AigcStft serves one thread at a time, so the loss keeps one per resolution and
 * thread slot; slot i handles the batch rows b ≡ i (mod slots). Per-row partial sums are added in
 * row order afterwards, so the result does not depend on the thread count.
 *
 * Adjoint of the uncentred STFT: X_f[k] = Σ_n w[n]·x[f·H + n]·e^{−2πikn/N}, so for bin
 * gradients G_f[k] = ∂L/∂Re X + i·∂L/∂Im X,
 *     ∂L/∂x[f·H + n] += w[n] · Re Σ_k G_f[k]·e^{+2πikn/N}     (k = 0 … N/2).
 * aigc_stft_inverse computes Σ_f w·irfft(Z_f) / env with irfft(Z)[n] = (1/N)(Z_0 + Z_{N/2}(−1)^n
 * + 2 Re Σ_{0<k<N/2} Z_k e^{iθ}) and env = Σ_f w², so Z_0 = N·G_0, Z_{N/2} = N·G_{N/2},
 * Z_k = N·G_k/2 in between, and multiplying its result by env (summed here the same way) gives
 * the adjoint. Where env ≤ 1e-11 the inverse returns 0; such samples see only the window's
 * vanishing ends, so their true gradient is below float noise.
 *
 * Legend: B batch rows, T samples per row, N n_fft, H hop, K = N/2 + 1 bins, F frames.
 */
#include "aigc-stft-loss.h"

#include "aigc-error.h"
#include "dsp/aigc-stft.h"
#include "tensor/aigc-threads.h"
#include "tensor/aigc-view.h"

#include <math.h>
#include <string.h>

#define MAX_SLOTS 8
#define MAG_CLAMP 1e-7f

/* Resolution n_res, when has_mel, is the log-mel term's. */
struct _AigcStftLoss {
    int n_res;
    AigcStftResolution res[AIGC_STFT_LOSS_MAX_RESOLUTIONS + 1];
    int n_slots;
    AigcStft *stft[AIGC_STFT_LOSS_MAX_RESOLUTIONS + 1][MAX_SLOTS];
    gboolean has_mel;
    float *mel_fb; /* [n_mels, K] */
    int n_mels;
    float mel_floor, mel_weight;
};

static gboolean resolution_valid(const AigcStftResolution *x, GError **error)
{
    if (x->n_fft < 16 || x->n_fft > 8192 || x->n_fft % 2 || x->hop_length < 1 ||
        x->hop_length > x->n_fft || x->win_length < 1 || x->win_length > x->n_fft) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "STFT loss: resolution (%d, %d, %d) is not an even FFT size 16 … 8192 "
                    "with hop and window 1 … n_fft",
                    x->n_fft, x->hop_length, x->win_length);
        return FALSE;
    }
    return TRUE;
}

/* One AigcStft per thread slot for resolution r. */
static gboolean make_stfts(AigcStftLoss *l, int r, GError **error)
{
    AigcStftParams p = aigc_stft_default_params();
    p.n_fft = l->res[r].n_fft;
    p.hop_length = l->res[r].hop_length;
    p.win_length = l->res[r].win_length;
    p.center = FALSE;
    for (int s = 0; s < l->n_slots; s++) {
        l->stft[r][s] = aigc_stft_new(&p, error);
        if (!l->stft[r][s])
            return FALSE;
    }
    return TRUE;
}

int aigc_stft_loss_default_resolutions(AigcStftResolution *out)
{
    out[0] = (AigcStftResolution){1024, 120, 600};
    out[1] = (AigcStftResolution){2048, 240, 1200};
    out[2] = (AigcStftResolution){512, 50, 240};
    return 3;
}

AigcStftLoss *aigc_stft_loss_new(const AigcStftResolution *res, int n_res, GError **error)
{
    if (n_res < 1 || n_res > AIGC_STFT_LOSS_MAX_RESOLUTIONS) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "STFT loss: 1 … %d resolutions, not %d", AIGC_STFT_LOSS_MAX_RESOLUTIONS, n_res);
        return NULL;
    }
    for (int r = 0; r < n_res; r++)
        if (!resolution_valid(&res[r], error))
            return NULL;
    AigcStftLoss *l = g_new0(AigcStftLoss, 1);
    l->n_res = n_res;
    memcpy(l->res, res, sizeof(AigcStftResolution) * (gsize)n_res);
    l->n_slots = CLAMP(aigc_threads_get(), 1, MAX_SLOTS);
    for (int r = 0; r < n_res; r++)
        if (!make_stfts(l, r, error)) {
            aigc_stft_loss_free(l);
            return NULL;
        }
    return l;
}

gboolean aigc_stft_loss_add_mel(AigcStftLoss *l, const AigcStftResolution *res,
                                const float *weights, int n_mels, float floor, float weight,
                                GError **error)
{
    g_return_val_if_fail(l && res && weights, FALSE);
    g_return_val_if_fail(!l->has_mel, FALSE);
    if (!resolution_valid(res, error))
        return FALSE;
    if (n_mels < 1 || n_mels > 1024 || !(floor > 0) || !(weight >= 0) || !isfinite(weight)) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "STFT loss: the mel term needs 1 … 1024 filters, a positive floor and a "
                    "weight ≥ 0");
        return FALSE;
    }
    const int r = l->n_res;
    l->res[r] = *res;
    if (!make_stfts(l, r, error)) {
        for (int s = 0; s < MAX_SLOTS; s++)
            g_clear_pointer(&l->stft[r][s], aigc_stft_free);
        return FALSE;
    }
    l->mel_fb = g_memdup2(weights, sizeof(float) * (gsize)n_mels * (res->n_fft / 2 + 1));
    l->n_mels = n_mels;
    l->mel_floor = floor;
    l->mel_weight = weight;
    l->has_mel = TRUE;
    return TRUE;
}

void aigc_stft_loss_free(AigcStftLoss *l)
{
    if (!l)
        return;
    for (int r = 0; r < l->n_res + l->has_mel; r++)
        for (int s = 0; s < MAX_SLOTS; s++)
            aigc_stft_free(l->stft[r][s]);
    g_free(l->mel_fb);
    g_free(l);
}

int aigc_stft_loss_get_min_length(AigcStftLoss *l)
{
    int n = 0;
    for (int r = 0; r < l->n_res + l->has_mel; r++)
        n = MAX(n, l->res[r].n_fft);
    return n;
}

/* One resolution's state from the forward to the backward. */
typedef struct {
    AigcStftLoss *loss;
    int r;
    int B, K;
    gint64 T, F;
    const float *pred, *target; /* [B, T] */
    float *spec;                /* [B, F, K, 2]: pred's spectrum, then ∂L/∂(Re, Im) */
    float *spec_t;              /* [slots, F, K, 2] target spectra (scratch) */
    float *mag_p, *mag_t;       /* [B, F, K] */
    gboolean mel;               /* the log-mel term's resolution */
    float *mel_g;      /* [B, F, n_mels] mel: sign(ln Mp − ln Mt)/Mp or 0, see mel_rows */
    double *row_sums;  /* [B, 3]: Σ(T − P)², ΣT², Σ|ln T − ln P| (mel: of the mels) */
    float weight;      /* 1 / n_res */
    float c_sc, c_mag; /* gradient factors, see grad_rows (mel: c_sc = 0) */
    /* backward */
    float *dpred;     /* [B, T] */
    float *scratch;   /* [slots, F, K, 2] */
    float *y;         /* [slots, T] */
    const float *env; /* [(F − 1)·H + N] */
    float dloss;
} ResJob;

/* The mel term of one row's F frames: returns Σ |ln max(Mt, floor) − ln max(Mp, floor)| with
 * M = FB·magnitudes, and stores its derivative per mel, sign(ln Mp − ln Mt)/Mp (0 where Mp is
 * under the floor, which clamps it), in g [F, n_mels]. */
static double mel_rows(const AigcStftLoss *l, const float *mp, const float *mt, gint64 F, int K,
                       float *g)
{
    double l1 = 0;
    for (gint64 f = 0; f < F; f++)
        for (int m = 0; m < l->n_mels; m++) {
            const float *w = l->mel_fb + (gint64)m * K;
            float p = 0, t = 0;
            for (int k = 0; k < K; k++) {
                p += w[k] * mp[f * K + k];
                t += w[k] * mt[f * K + k];
            }
            float lp = logf(MAX(p, l->mel_floor)), lt = logf(MAX(t, l->mel_floor));
            l1 += fabsf(lt - lp);
            float sgn = lp > lt ? 1.0f : (lp < lt ? -1.0f : 0.0f);
            g[f * l->n_mels + m] = p < l->mel_floor ? 0.0f : sgn / p;
        }
    return l1;
}

static void forward_slots(gint64 s0, gint64 s1, gpointer data)
{
    ResJob *j = data;
    const gint64 FK = j->F * j->K;
    for (gint64 s = s0; s < s1; s++) {
        AigcStft *stft = j->loss->stft[j->r][s];
        float *st = j->spec_t + s * FK * 2;
        for (int b = (int)s; b < j->B; b += j->loss->n_slots) {
            float *sp = j->spec + b * FK * 2;
            aigc_stft_forward(stft, j->pred + b * j->T, j->T, sp);
            aigc_stft_forward(stft, j->target + b * j->T, j->T, st);
            float *mp = j->mag_p + b * FK, *mt = j->mag_t + b * FK;
            double d2 = 0, t2 = 0, l1 = 0;
            for (gint64 i = 0; i < FK; i++) {
                float p =
                    sqrtf(MAX(sp[2 * i] * sp[2 * i] + sp[2 * i + 1] * sp[2 * i + 1], MAG_CLAMP));
                float t =
                    sqrtf(MAX(st[2 * i] * st[2 * i] + st[2 * i + 1] * st[2 * i + 1], MAG_CLAMP));
                mp[i] = p;
                mt[i] = t;
                d2 += (double)(t - p) * (t - p);
                t2 += (double)t * t;
                l1 += fabs(log((double)t) - log((double)p));
            }
            if (j->mel)
                l1 = mel_rows(j->loss, mp, mt, j->F, j->K, j->mel_g + b * j->F * j->loss->n_mels);
            j->row_sums[3 * b] = d2;
            j->row_sums[3 * b + 1] = t2;
            j->row_sums[3 * b + 2] = l1;
        }
    }
}

/* ∂L/∂P = c_sc·(P − T) + c_mag·sign(ln P − ln T)/P, then through P = |X| (0 where clamped). */
static void grad_rows(gint64 b0, gint64 b1, gpointer data)
{
    ResJob *j = data;
    const gint64 FK = j->F * j->K;
    for (gint64 b = b0; b < b1; b++) {
        float *sp = j->spec + b * FK * 2;
        const float *mp = j->mag_p + b * FK, *mt = j->mag_t + b * FK;
        const int M = j->loss->n_mels;
        const float *mg = j->mel ? j->mel_g + b * j->F * M : NULL;
        for (gint64 i = 0; i < FK; i++) {
            float re = sp[2 * i], im = sp[2 * i + 1], p = mp[i], t = mt[i];
            float dp;
            if (mg) { /* Σ_m FB[m, k]·g[f, m] */
                const gint64 f = i / j->K, k = i % j->K;
                float acc = 0;
                for (int m = 0; m < M; m++)
                    acc += j->loss->mel_fb[(gint64)m * j->K + k] * mg[f * M + m];
                dp = j->c_mag * acc;
            } else {
                float sgn = p > t ? 1.0f : (p < t ? -1.0f : 0.0f);
                dp = j->c_sc * (p - t) + j->c_mag * sgn / p;
            }
            gboolean clamped = re * re + im * im < MAG_CLAMP;
            sp[2 * i] = clamped ? 0.0f : dp * re / p;
            sp[2 * i + 1] = clamped ? 0.0f : dp * im / p;
        }
    }
}

static void backward_slots(gint64 s0, gint64 s1, gpointer data)
{
    ResJob *j = data;
    const AigcStftResolution *res = &j->loss->res[j->r];
    const gint64 FK = j->F * j->K, len = (j->F - 1) * res->hop_length + res->n_fft;
    const float N = (float)res->n_fft;
    for (gint64 s = s0; s < s1; s++) {
        AigcStft *stft = j->loss->stft[j->r][s];
        float *z = j->scratch + s * FK * 2, *y = j->y + s * j->T;
        for (int b = (int)s; b < j->B; b += j->loss->n_slots) {
            const float *g = j->spec + b * FK * 2;
            for (gint64 f = 0; f < j->F; f++)
                for (int k = 0; k < j->K; k++) {
                    float c = (k == 0 || k == j->K - 1) ? N : 0.5f * N;
                    gint64 i = (f * j->K + k) * 2;
                    z[i] = c * g[i];
                    z[i + 1] = c * g[i + 1];
                }
            aigc_stft_inverse(stft, z, j->F, y, j->T);
            float *dx = j->dpred + b * j->T;
            for (gint64 i = 0; i < len && i < j->T; i++)
                dx[i] += j->dloss * y[i] * j->env[i];
        }
    }
}

typedef struct {
    AigcStftLoss *loss;
    ResJob res[AIGC_STFT_LOSS_MAX_RESOLUTIONS + 1];
} Saved;

static void stft_loss_backward_node(AigcCtx *ctx, AigcNode *node)
{
    AigcTensor *pred = node->in[0], *out = node->out[0];
    float *dpred = aigc_grad(ctx, pred);
    if (!out->grad || !dpred)
        return;
    Saved *sv = node->saved;
    const gboolean mel_grad = sv->loss->has_mel && sv->loss->mel_weight > 0;
    for (int r = 0; r < sv->loss->n_res + mel_grad; r++) {
        ResJob *j = &sv->res[r];
        const AigcStftResolution *res = &sv->loss->res[r];
        const gint64 FK = j->F * j->K, len = (j->F - 1) * res->hop_length + res->n_fft;
        const int slots = sv->loss->n_slots;
        AigcStft *s0 = sv->loss->stft[r][0];
        const float *w = aigc_stft_get_window(s0);
        float *env = aigc_ctx_alloc_floats0(ctx, len); /* [len] Σ_f w², as the inverse sums it */
        for (gint64 f = 0; f < j->F; f++)
            for (int n = 0; n < res->n_fft; n++)
                env[f * res->hop_length + n] += w[n] * w[n];
        j->env = env;
        j->dpred = dpred;
        j->dloss = out->grad[0];
        j->scratch = aigc_ctx_alloc_floats(ctx, slots * FK * 2);
        j->y = aigc_ctx_alloc_floats(ctx, slots * j->T);
        aigc_parallel_for(slots, 1, backward_slots, j);
    }
}

AigcTensor *aigc_stft_loss(AigcCtx *ctx, AigcStftLoss *loss, AigcTensor *pred, AigcTensor *target,
                           float *sc_out, float *mag_out, float *mel_out)
{
    g_return_val_if_fail(loss && pred && target, NULL);
    g_return_val_if_fail(aigc_tensor_same_shape(pred, target), NULL);
    g_return_val_if_fail(pred->n_dims == 2 || (pred->n_dims == 3 && pred->shape[1] == 1), NULL);
    const gint64 T = pred->shape[pred->n_dims - 1];
    const int B = (int)pred->shape[0];
    g_return_val_if_fail(T >= aigc_stft_loss_get_min_length(loss), NULL);
    pred = aigc_contiguous(ctx, pred);
    target = aigc_contiguous(ctx, target);
    AigcTensor *in[1] = {pred};
    gboolean need_grad = aigc_ctx_needs_grad(ctx, 1, in);
    Saved *sv = aigc_ctx_alloc(ctx, sizeof(Saved));
    memset(sv, 0, sizeof(Saved));
    sv->loss = loss;
    double total = 0, sc_sum = 0, mag_sum = 0, mel = 0;
    for (int r = 0; r < loss->n_res + loss->has_mel; r++) {
        const AigcStftResolution *res = &loss->res[r];
        ResJob *j = &sv->res[r];
        j->loss = loss;
        j->r = r;
        j->mel = r == loss->n_res;
        j->B = B;
        j->T = T;
        j->K = res->n_fft / 2 + 1;
        j->F = 1 + (T - res->n_fft) / res->hop_length;
        j->pred = pred->data;
        j->target = target->data;
        const gint64 FK = j->F * j->K;
        j->spec = aigc_ctx_alloc_floats(ctx, B * FK * 2);
        j->spec_t = aigc_ctx_alloc_floats(ctx, loss->n_slots * FK * 2);
        j->mag_p = aigc_ctx_alloc_floats(ctx, B * FK);
        j->mag_t = aigc_ctx_alloc_floats(ctx, B * FK);
        j->row_sums = aigc_ctx_alloc(ctx, sizeof(double) * 3 * (gsize)B);
        if (j->mel)
            j->mel_g = aigc_ctx_alloc_floats(ctx, B * j->F * loss->n_mels);
        aigc_parallel_for(loss->n_slots, 1, forward_slots, j);
        double d2 = 0, t2 = 0, l1 = 0;
        for (int b = 0; b < B; b++) {
            d2 += j->row_sums[3 * b];
            t2 += j->row_sums[3 * b + 1];
            l1 += j->row_sums[3 * b + 2];
        }
        double dn = sqrt(d2), tn = sqrt(t2), n = (double)B * FK;
        if (j->mel) {
            const double nm = (double)B * j->F * loss->n_mels;
            mel = l1 / nm;
            if (need_grad && loss->mel_weight > 0) {
                j->c_sc = 0.0f;
                j->c_mag = (float)(loss->mel_weight / nm);
                aigc_parallel_for(B, 1, grad_rows, j);
            }
            continue;
        }
        double sc = tn > 0 ? dn / tn : 0, mag = l1 / n;
        sc_sum += sc;
        mag_sum += mag;
        total += sc + mag;
        if (need_grad) {
            j->weight = 1.0f / (float)loss->n_res;
            j->c_sc = dn > 0 && tn > 0 ? (float)(j->weight / (dn * tn)) : 0.0f;
            j->c_mag = (float)(j->weight / n);
            aigc_parallel_for(B, 1, grad_rows, j);
        }
    }
    AigcTensor *out = aigc_tensor_new1(ctx, 1);
    out->data[0] = (float)(total / loss->n_res + loss->mel_weight * mel);
    if (sc_out)
        *sc_out = (float)(sc_sum / loss->n_res);
    if (mag_out)
        *mag_out = (float)(mag_sum / loss->n_res);
    if (mel_out)
        *mel_out = (float)mel;
    if (need_grad) {
        AigcNode *node = aigc_record1(ctx, "stft_loss", stft_loss_backward_node, out, pred);
        if (node)
            node->saved = sv;
    }
    return out;
}
