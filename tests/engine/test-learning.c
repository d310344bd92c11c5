/* SPDX-License-Identifier: MIT
 *
 * Learning, end to end: a 2-layer MLP reaches 100 % on two moons; a small conv net fits 1,000
 * Fashion-MNIST images to over 95 % training accuracy; and after the first training step a step
 * calls malloc not once (counted by wrapping the allocator in this program).
 */
#include "aigc-test-support.h"
#include "io/aigc-idx.h"
#include "io/aigc-toydata.h"
#include "nn/aigc-nn.h"
#include "optim/aigc-optim.h"
#include "tensor/aigc-threads.h"

#include <math.h>
#include <string.h>

/* ---- counting malloc (not with AddressSanitizer, which owns the allocator) ---- */

#if !defined(__SANITIZE_ADDRESS__)
#define COUNT_MALLOC 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static gint counting;
static gint n_allocs;

void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);
void *aligned_alloc(size_t a, size_t n);
int posix_memalign(void **p, size_t a, size_t n);

void *malloc(size_t n)
{
    if (g_atomic_int_get(&counting))
        g_atomic_int_inc(&n_allocs);
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    if (g_atomic_int_get(&counting))
        g_atomic_int_inc(&n_allocs);
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    if (g_atomic_int_get(&counting))
        g_atomic_int_inc(&n_allocs);
    return __libc_realloc(p, n);
}

void *aligned_alloc(size_t a, size_t n)
{
    if (g_atomic_int_get(&counting))
        g_atomic_int_inc(&n_allocs);
    return __libc_memalign(a, n);
}

int posix_memalign(void **p, size_t a, size_t n)
{
    if (g_atomic_int_get(&counting))
        g_atomic_int_inc(&n_allocs);
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}
#endif

static void init_uniform(AigcRng *rng, AigcTensor *t, int fan_in)
{
    float bound = 1.0f / sqrtf((float)fan_in);
    aigc_rng_fill_uniform(rng, t->data, t->n_elements, -bound, bound);
}

static double accuracy(const float *logits, const gint32 *labels, int n, int n_classes)
{
    int correct = 0;
    for (int i = 0; i < n; i++) {
        int best = 0;
        for (int c = 1; c < n_classes; c++)
            if (logits[i * n_classes + c] > logits[i * n_classes + best])
                best = c;
        correct += best == labels[i];
    }
    return (double)correct / n;
}

/* ---- two moons ---- */

typedef struct {
    AigcParams *params;
    AigcTensor *w1, *b1, *w2, *b2;
} Mlp;

static void mlp_init(Mlp *m, AigcRng *rng, int hidden)
{
    m->params = aigc_params_new();
    m->w1 = aigc_params_add(m->params, "w1", 2, (gint64[]){hidden, 2});
    m->b1 = aigc_params_add(m->params, "b1", 1, (gint64[]){hidden});
    m->w2 = aigc_params_add(m->params, "w2", 2, (gint64[]){2, hidden});
    m->b2 = aigc_params_add(m->params, "b2", 1, (gint64[]){2});
    aigc_params_allocate(m->params);
    init_uniform(rng, m->w1, 2);
    init_uniform(rng, m->b1, 2);
    init_uniform(rng, m->w2, hidden);
    init_uniform(rng, m->b2, hidden);
}

static AigcTensor *mlp_forward(AigcCtx *ctx, Mlp *m, const float *x, int n)
{
    AigcTensor *in = aigc_tensor_wrap(ctx, 2, (gint64[]){n, 2}, (float *)x);
    AigcTensor *h = aigc_tanh(ctx, aigc_linear(ctx, in, m->w1, m->b1));
    return aigc_linear(ctx, h, m->w2, m->b2);
}

static float mlp_step(AigcCtx *ctx, Mlp *m, AigcOptimizer *opt, const float *x, const gint32 *y,
                      int n)
{
    aigc_ctx_reset(ctx);
    aigc_params_zero_grad(m->params);
    AigcTensor *loss = aigc_cross_entropy(ctx, mlp_forward(ctx, m, x, n), y, -100);
    aigc_ctx_backward(ctx, loss);
    aigc_optimizer_step(opt, 0.01f);
    return loss->data[0];
}

static void test_two_moons(void)
{
    enum { N = 1000, HIDDEN = 32 };
    AigcRng rng;
    aigc_rng_init(&rng, 11);
    float *x = g_new(float, N * 2);
    gint32 *y = g_new(gint32, N);
    aigc_two_moons(&rng, N, 0.1f, x, y);
    Mlp m;
    mlp_init(&m, &rng, HIDDEN);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, m.params);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    gint64 t0 = g_get_monotonic_time();
    float loss = 0;
    double acc = 0;
    int step;
    for (step = 0; step < 3000; step++) {
        loss = mlp_step(ctx, &m, opt, x, y, N);
        if (step % 100 == 99) {
            aigc_ctx_reset(ctx);
            aigc_ctx_set_grad_enabled(ctx, FALSE);
            acc = accuracy(mlp_forward(ctx, &m, x, N)->data, y, N, 2);
            aigc_ctx_set_grad_enabled(ctx, TRUE);
            if (acc == 1.0)
                break;
        }
    }
    g_test_message("two moons: %d steps, loss %.4f, accuracy %.4f, %.2f s", step + 1, loss, acc,
                   (g_get_monotonic_time() - t0) / 1e6);
    g_assert_cmpfloat(acc, ==, 1.0);
    aigc_params_free(m.params);
    g_free(x);
    g_free(y);
}

/* After the first step has sized the arena, a step makes no system allocation at all. */
static void test_no_malloc_after_first_step(void)
{
    enum { N = 256, HIDDEN = 64 };
    AigcRng rng;
    aigc_rng_init(&rng, 5);
    float *x = g_new(float, N * 2);
    gint32 *y = g_new(gint32, N);
    aigc_two_moons(&rng, N, 0.1f, x, y);
    Mlp m;
    mlp_init(&m, &rng, HIDDEN);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAMW);
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAMW, &hp, m.params);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    mlp_step(ctx, &m, opt, x, y, N);
    mlp_step(ctx, &m, opt, x, y, N); /* the arena coalesces at the first reset */
    guint arena_allocs = aigc_arena_get_n_system_allocs(aigc_ctx_get_arena(ctx));
#ifdef COUNT_MALLOC
    g_atomic_int_set(&n_allocs, 0);
    g_atomic_int_set(&counting, 1);
#endif
    for (int i = 0; i < 20; i++)
        mlp_step(ctx, &m, opt, x, y, N);
#ifdef COUNT_MALLOC
    g_atomic_int_set(&counting, 0);
    g_test_message("mallocs in 20 steps: %d", n_allocs);
    g_assert_cmpint(n_allocs, ==, 0);
#endif
    g_assert_cmpuint(aigc_arena_get_n_system_allocs(aigc_ctx_get_arena(ctx)), ==, arena_allocs);
    aigc_params_free(m.params);
    g_free(x);
    g_free(y);
}

/* ---- Fashion-MNIST conv net ---- */

typedef struct {
    AigcParams *params;
    AigcTensor *c1w, *c1b, *c2w, *c2b, *fw, *fb;
} ConvNet;

static void convnet_init(ConvNet *m, AigcRng *rng)
{
    m->params = aigc_params_new();
    m->c1w = aigc_params_add(m->params, "c1.w", 4, (gint64[]){16, 1, 3, 3});
    m->c1b = aigc_params_add(m->params, "c1.b", 1, (gint64[]){16});
    m->c2w = aigc_params_add(m->params, "c2.w", 4, (gint64[]){32, 16, 3, 3});
    m->c2b = aigc_params_add(m->params, "c2.b", 1, (gint64[]){32});
    m->fw = aigc_params_add(m->params, "fc.w", 2, (gint64[]){10, 32 * 7 * 7});
    m->fb = aigc_params_add(m->params, "fc.b", 1, (gint64[]){10});
    aigc_params_allocate(m->params);
    init_uniform(rng, m->c1w, 9);
    init_uniform(rng, m->c1b, 9);
    init_uniform(rng, m->c2w, 16 * 9);
    init_uniform(rng, m->c2b, 16 * 9);
    init_uniform(rng, m->fw, 32 * 49);
    init_uniform(rng, m->fb, 32 * 49);
}

static AigcTensor *convnet_forward(AigcCtx *ctx, ConvNet *m, const float *images, int n)
{
    AigcTensor *x = aigc_tensor_wrap(ctx, 4, (gint64[]){n, 1, 28, 28}, (float *)images);
    x = aigc_max_pool2d(ctx, aigc_relu(ctx, aigc_conv2d(ctx, x, m->c1w, m->c1b, 1, 1)), 2, 2, 0);
    x = aigc_max_pool2d(ctx, aigc_relu(ctx, aigc_conv2d(ctx, x, m->c2w, m->c2b, 1, 1)), 2, 2, 0);
    x = aigc_reshape(ctx, x, 2, (gint64[]){n, 32 * 7 * 7});
    return aigc_linear(ctx, x, m->fw, m->fb);
}

static void test_fashion_conv(void)
{
    enum { N = 1000, BATCH = 50 };
    AigcFashionMnist data;
    GError *error = NULL;
    g_assert_true(aigc_fashion_mnist_load(NULL, TRUE, &data, &error));
    g_assert_no_error(error);
    AigcRng rng;
    aigc_rng_init(&rng, 3);
    ConvNet m;
    convnet_init(&m, &rng);
    AigcOptimizerParams hp = aigc_optimizer_default_params(AIGC_OPTIM_ADAM);
    g_autoptr(AigcOptimizer) opt = aigc_optimizer_new(AIGC_OPTIM_ADAM, &hp, m.params);
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    int order[N];
    float *batch = g_new(float, BATCH * 784);
    gint32 labels[BATCH];
    gint64 t0 = g_get_monotonic_time();
    double acc = 0;
    int epoch;
    for (epoch = 0; epoch < 40 && acc <= 0.95; epoch++) {
        aigc_rng_permutation(&rng, order, N);
        for (int b = 0; b < N / BATCH; b++) {
            for (int i = 0; i < BATCH; i++) {
                int k = order[b * BATCH + i];
                memcpy(batch + i * 784, data.images + (gint64)k * 784, 784 * sizeof(float));
                labels[i] = data.labels[k];
            }
            aigc_ctx_reset(ctx);
            aigc_params_zero_grad(m.params);
            AigcTensor *loss =
                aigc_cross_entropy(ctx, convnet_forward(ctx, &m, batch, BATCH), labels, -100);
            aigc_ctx_backward(ctx, loss);
            aigc_optimizer_step(opt, 4e-3f);
        }
        /* Training accuracy over all 1,000 images. */
        aigc_ctx_reset(ctx);
        aigc_ctx_set_grad_enabled(ctx, FALSE);
        AigcTensor *logits = convnet_forward(ctx, &m, data.images, N);
        acc = accuracy(logits->data, data.labels, N, 10);
        aigc_ctx_set_grad_enabled(ctx, TRUE);
    }
    double seconds = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("fashion-mnist: %d epochs, training accuracy %.3f, %.2f s", epoch, acc,
                   seconds);
    g_assert_cmpfloat(acc, >, 0.95);
    g_free(batch);
    aigc_params_free(m.params);
    aigc_fashion_mnist_clear(&data);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(0);
    g_test_add_func("/engine/learning/two-moons", test_two_moons);
    g_test_add_func("/engine/learning/no-malloc-after-first-step", test_no_malloc_after_first_step);
    g_test_add_func("/engine/learning/fashion-conv", test_fashion_conv);
    return g_test_run();
}
