/* SPDX-License-Identifier: MIT
 *
 * STFT / iSTFT on FFTW3f real transforms.
 *
 * DESIGN (threads): FFTW's planner is not thread-safe, its executor is. Plans are therefore made
 * once per FFT size under a process-wide mutex, kept for the life of the process and shared by
 * every AigcStft; each AigcStft owns SIMD-aligned scratch buffers (fftwf_malloc) and runs the
 * shared plans on them with the new-array execute functions, which is allowed because the
 * buffers have the alignment the plans were made for and keep the same in/out-of-place layout.
 * FFTW_ESTIMATE keeps planning cheap and deterministic (no timing runs).
 *
 * Legend: N = n_fft, K = N/2 + 1 bins, H = hop, W = win_length, T = frames, P = N/2 centre pad.
 */
#include "aigc-stft.h"

#include "aigc-error.h"

#include <fftw3.h>
#include <math.h>
#include <string.h>

#define MAX_N_FFT 65536

typedef struct {
    fftwf_plan r2c; /* N real → K complex */
    fftwf_plan c2r; /* K complex → N real (destroys its input) */
} SharedPlans;

static GMutex plan_lock;
static GHashTable *plan_table; /* N → SharedPlans*, never freed */

/* The plans for size n, made on first use. */
static const SharedPlans *get_plans(int n)
{
    g_mutex_lock(&plan_lock);
    if (!plan_table)
        plan_table = g_hash_table_new(g_direct_hash, g_direct_equal);
    SharedPlans *plans = g_hash_table_lookup(plan_table, GINT_TO_POINTER(n));
    if (!plans) {
        float *r = fftwf_malloc(sizeof(float) * (gsize)n);
        fftwf_complex *c = fftwf_malloc(sizeof(fftwf_complex) * (gsize)(n / 2 + 1));
        plans = g_new0(SharedPlans, 1);
        plans->r2c = fftwf_plan_dft_r2c_1d(n, r, c, FFTW_ESTIMATE);
        plans->c2r = fftwf_plan_dft_c2r_1d(n, c, r, FFTW_ESTIMATE);
        fftwf_free(r);
        fftwf_free(c);
        g_hash_table_insert(plan_table, GINT_TO_POINTER(n), plans);
    }
    g_mutex_unlock(&plan_lock);
    return plans;
}

struct _AigcStft {
    AigcStftParams params;
    int n_bins;
    const SharedPlans *plans;
    float *window;       /* [N] Hann of W samples centred in N zeros */
    float *frame;        /* [N] fftwf_malloc scratch */
    fftwf_complex *bins; /* [K] fftwf_malloc scratch */
    float *ola;          /* [len_ola] overlap-add sums */
    float *envelope;     /* [len_ola] Σ window² for env_frames frames */
    gint64 len_ola;      /* capacity of ola and envelope */
    gint64 env_frames;   /* frames the envelope was summed for; -1 = none */
};

AigcStftParams aigc_stft_default_params(void)
{
    return (AigcStftParams){.n_fft = 1024, .hop_length = 256, .win_length = 0, .center = TRUE};
}

AigcStft *aigc_stft_new(const AigcStftParams *params, GError **error)
{
    g_return_val_if_fail(params != NULL, NULL);
    AigcStftParams p = *params;
    if (p.n_fft < 2 || p.n_fft > MAX_N_FFT || p.n_fft % 2 != 0) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "STFT size %d is not an even number from 2 to %d", p.n_fft, MAX_N_FFT);
        return NULL;
    }
    if (p.win_length == 0)
        p.win_length = p.n_fft;
    if (p.win_length < 1 || p.win_length > p.n_fft) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "STFT window length %d is not between 1 and the FFT size %d", p.win_length,
                    p.n_fft);
        return NULL;
    }
    if (p.hop_length < 1 || p.hop_length > p.n_fft) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_INVALID,
                    "STFT hop %d is not between 1 and the FFT size %d", p.hop_length, p.n_fft);
        return NULL;
    }
    AigcStft *s = g_new0(AigcStft, 1);
    s->params = p;
    s->n_bins = p.n_fft / 2 + 1;
    s->plans = get_plans(p.n_fft);
    s->window = g_new0(float, p.n_fft);
    /* Periodic Hann (torch.hann_window(W), periodic=True), centred as torch pads it. */
    const int left = (p.n_fft - p.win_length) / 2;
    for (int i = 0; i < p.win_length; i++)
        s->window[left + i] = (float)(0.5 - 0.5 * cos(2.0 * G_PI * i / p.win_length));
    s->frame = fftwf_malloc(sizeof(float) * (gsize)p.n_fft);
    s->bins = fftwf_malloc(sizeof(fftwf_complex) * (gsize)s->n_bins);
    s->env_frames = -1;
    return s;
}

void aigc_stft_free(AigcStft *stft)
{
    if (!stft)
        return;
    g_free(stft->window);
    fftwf_free(stft->frame);
    fftwf_free(stft->bins);
    g_free(stft->ola);
    g_free(stft->envelope);
    g_free(stft);
}

const AigcStftParams *aigc_stft_get_params(AigcStft *stft)
{
    return &stft->params;
}

int aigc_stft_get_n_bins(AigcStft *stft)
{
    return stft->n_bins;
}

const float *aigc_stft_get_window(AigcStft *stft)
{
    return stft->window;
}

gint64 aigc_stft_get_n_frames(AigcStft *stft, gint64 n_samples)
{
    const AigcStftParams *p = &stft->params;
    if (n_samples <= 0)
        return 0;
    if (p->center)
        return 1 + n_samples / p->hop_length;
    if (n_samples < p->n_fft)
        return 0;
    return 1 + (n_samples - p->n_fft) / p->hop_length;
}

gint64 aigc_stft_get_n_samples(AigcStft *stft, gint64 n_frames)
{
    const AigcStftParams *p = &stft->params;
    if (n_frames <= 0)
        return 0;
    return (n_frames - 1) * p->hop_length + (p->center ? 0 : p->n_fft);
}

/* numpy's "reflect" (edge sample not repeated), folded as often as needed: torch rejects a pad
 * as long as the signal, here such short signals are simply mirrored again. */
static gint64 reflect_index(gint64 i, gint64 n)
{
    if (n == 1)
        return 0;
    const gint64 period = 2 * (n - 1);
    i %= period;
    if (i < 0)
        i += period;
    return i < n ? i : period - i;
}

/* Windows frame t into stft->frame and transforms it into stft->bins. */
static void transform_frame(AigcStft *s, const float *x, gint64 n, gint64 t)
{
    const int N = s->params.n_fft;
    const gint64 start = t * s->params.hop_length - (s->params.center ? N / 2 : 0);
    float *f = s->frame;
    const float *w = s->window;
    if (start >= 0 && start + N <= n) {
        const float *src = x + start;
        for (int i = 0; i < N; i++)
            f[i] = src[i] * w[i];
    } else {
        for (int i = 0; i < N; i++)
            f[i] = x[reflect_index(start + i, n)] * w[i];
    }
    fftwf_execute_dft_r2c(s->plans->r2c, f, s->bins);
}

void aigc_stft_forward(AigcStft *stft, const float *x, gint64 n_samples, float *spec)
{
    g_return_if_fail(stft != NULL && (x != NULL || n_samples == 0));
    const gint64 T = aigc_stft_get_n_frames(stft, n_samples);
    const int K = stft->n_bins;
    for (gint64 t = 0; t < T; t++) {
        transform_frame(stft, x, n_samples, t);
        memcpy(spec + t * K * 2, stft->bins, sizeof(float) * 2 * (gsize)K);
    }
}

void aigc_stft_magnitude(AigcStft *stft, const float *x, gint64 n_samples, float power,
                         float *mag)
{
    g_return_if_fail(stft != NULL && (x != NULL || n_samples == 0));
    const gint64 T = aigc_stft_get_n_frames(stft, n_samples);
    const int K = stft->n_bins;
    for (gint64 t = 0; t < T; t++) {
        transform_frame(stft, x, n_samples, t);
        const fftwf_complex *b = stft->bins;
        float *row = mag + t * K;
        if (power == 2.0f) {
            for (int k = 0; k < K; k++)
                row[k] = b[k][0] * b[k][0] + b[k][1] * b[k][1];
        } else if (power == 1.0f) {
            for (int k = 0; k < K; k++)
                row[k] = sqrtf(b[k][0] * b[k][0] + b[k][1] * b[k][1]);
        } else {
            for (int k = 0; k < K; k++)
                row[k] = powf(b[k][0] * b[k][0] + b[k][1] * b[k][1], 0.5f * power);
        }
    }
}

/* Grows the overlap-add buffers to hold T frames and sums the squared window for them. */
static void prepare_envelope(AigcStft *s, gint64 T)
{
    const int N = s->params.n_fft, H = s->params.hop_length;
    const gint64 len = (T - 1) * H + N;
    if (len > s->len_ola) {
        g_free(s->ola);
        g_free(s->envelope);
        s->ola = g_new(float, (gsize)len);
        s->envelope = g_new(float, (gsize)len);
        s->len_ola = len;
        s->env_frames = -1;
    }
    if (s->env_frames == T)
        return;
    memset(s->envelope, 0, sizeof(float) * (gsize)len);
    for (gint64 t = 0; t < T; t++) {
        float *e = s->envelope + t * H;
        for (int i = 0; i < N; i++)
            e[i] += s->window[i] * s->window[i];
    }
    s->env_frames = T;
}

void aigc_stft_inverse(AigcStft *stft, const float *spec, gint64 n_frames, float *y,
                       gint64 n_samples)
{
    g_return_if_fail(stft != NULL && (spec != NULL || n_frames == 0));
    if (n_frames <= 0) {
        memset(y, 0, sizeof(float) * (gsize)MAX(n_samples, 0));
        return;
    }
    const int N = stft->params.n_fft, K = stft->n_bins, H = stft->params.hop_length;
    const gint64 T = n_frames;
    prepare_envelope(stft, T);
    const gint64 len = (T - 1) * H + N;
    float *ola = stft->ola;
    memset(ola, 0, sizeof(float) * (gsize)len);
    const float scale = 1.0f / (float)N; /* FFTW's inverse is unnormalised */
    for (gint64 t = 0; t < T; t++) {
        memcpy(stft->bins, spec + t * K * 2, sizeof(float) * 2 * (gsize)K);
        stft->bins[0][1] = 0.0f;
        stft->bins[K - 1][1] = 0.0f;
        fftwf_execute_dft_c2r(stft->plans->c2r, stft->bins, stft->frame);
        float *o = ola + t * H;
        for (int i = 0; i < N; i++)
            o[i] += stft->frame[i] * stft->window[i] * scale;
    }
    const gint64 pad = stft->params.center ? N / 2 : 0;
    for (gint64 i = 0; i < n_samples; i++) {
        const gint64 j = i + pad;
        const float env = j < len ? stft->envelope[j] : 0.0f;
        y[i] = env > 1e-11f ? ola[j] / env : 0.0f;
    }
}
