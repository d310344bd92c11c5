/* SPDX-License-Identifier: MIT
 *
 * Tensor core: arena reuse, RNG streams, views and their gradients, the tape, no-grad mode,
 * parameters and their checkpoint round trip.
 */
#include "aigc-test-support.h"
#include "tensor/aigc-threads.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static void test_arena_reuse(void)
{
    AigcArena *arena = aigc_arena_new(1024);
    for (int step = 0; step < 5; step++) {
        for (int i = 0; i < 100; i++) {
            float *p = aigc_arena_alloc(arena, 100000);
            g_assert_cmpuint((guintptr)p % 64, ==, 0);
            p[0] = 1;
        }
        aigc_arena_reset(arena);
    }
    /* After the first reset the arena is one block big enough for the step. */
    guint n = aigc_arena_get_n_system_allocs(arena);
    for (int i = 0; i < 100; i++)
        aigc_arena_alloc(arena, 100000);
    aigc_arena_reset(arena);
    g_assert_cmpuint(aigc_arena_get_n_system_allocs(arena), ==, n);
    g_assert_cmpuint(aigc_arena_get_peak(arena), >=, 100 * 100000);
    aigc_arena_free(arena);
}

static void test_rng(void)
{
    AigcRng a, b;
    aigc_rng_init(&a, 42);
    aigc_rng_init(&b, 42);
    for (int i = 0; i < 100; i++)
        g_assert_cmpuint(aigc_rng_u64(&a), ==, aigc_rng_u64(&b));

    /* Fills give the same numbers with 1 or 2 threads, and match scalar draws. */
    enum { N = 100000 };
    float *x1 = g_new(float, N), *x2 = g_new(float, N);
    for (int threads = 1; threads <= 2; threads++) {
        aigc_threads_init(threads);
        aigc_rng_init(&a, 7);
        aigc_rng_fill_normal(&a, threads == 1 ? x1 : x2, N, 0, 1);
    }
    g_assert_cmpmem(x1, N * 4, x2, N * 4);
    double mean = 0, var = 0;
    for (int i = 0; i < N; i++)
        mean += x1[i];
    mean /= N;
    for (int i = 0; i < N; i++)
        var += (x1[i] - mean) * (x1[i] - mean);
    var /= N;
    g_assert_cmpfloat(fabs(mean), <, 0.02);
    g_assert_cmpfloat(fabs(var - 1.0), <, 0.03);

    aigc_rng_init(&a, 7);
    aigc_rng_fill_uniform(&a, x1, N, -1, 3);
    for (int i = 0; i < N; i++)
        g_assert_true(x1[i] >= -1 && x1[i] < 3);

    /* Categorical follows its weights. */
    float w[3] = {1, 0, 3};
    int counts[3] = {0};
    for (int i = 0; i < 40000; i++)
        counts[aigc_rng_categorical(&a, w, 3)]++;
    g_assert_cmpint(counts[1], ==, 0);
    g_assert_cmpfloat(fabs(counts[2] / 40000.0 - 0.75), <, 0.02);

    int perm[100];
    aigc_rng_permutation(&a, perm, 100);
    gboolean seen[100] = {FALSE};
    for (int i = 0; i < 100; i++) {
        g_assert_false(seen[perm[i]]);
        seen[perm[i]] = TRUE;
    }
    AigcRng f1 = aigc_rng_fork(&a, 1), f2 = aigc_rng_fork(&a, 2);
    g_assert_cmpuint(aigc_rng_u64(&f1), !=, aigc_rng_u64(&f2));
    g_free(x1);
    g_free(x2);
}

/* Permute, slice, reshape, transpose, concat and split chained; every element checked. */
static AigcTensor *views_fn2(AigcCtx *ctx, AigcTensor *const *in, gpointer data)
{
    AigcTensor *x = in[0]; /* [2, 3, 4] */
    AigcTensor *p = aigc_permute(ctx, x, (int[]){2, 0, 1});    /* [4, 2, 3] */
    AigcTensor *s = aigc_slice(ctx, p, 0, 1, 3);                /* [2, 2, 3] */
    AigcTensor *r = aigc_reshape(ctx, s, 2, (gint64[]){-1, 3}); /* [4, 3] */
    AigcTensor *t = aigc_transpose(ctx, aigc_slice(ctx, x, 2, 1, 4), 1, 2); /* [2, 3, 3] */
    AigcTensor *tr = aigc_reshape(ctx, t, 2, (gint64[]){6, 3});
    AigcTensor *parts[3] = {r, tr, in[1]};                      /* + [1, 3] */
    AigcTensor *c = aigc_concat(ctx, 3, parts, 0);              /* [11, 3] */
    AigcTensor *halves[2];
    aigc_split(ctx, c, 1, 2, (gint64[]){1, 2}, halves);
    AigcTensor *swapped[2] = {halves[1], halves[0]};
    return aigc_concat(ctx, 2, swapped, 1);                     /* [11, 3] */
}

static void test_views_gradcheck(void)
{
    AigcRng rng;
    aigc_rng_init(&rng, 1);
    AigcTensor *in[2] = {
        aigc_test_leaf(&rng, 3, (gint64[]){2, 3, 4}, -1, 1, TRUE),
        aigc_test_leaf(&rng, 2, (gint64[]){1, 3}, -1, 1, TRUE),
    };
    AigcGradcheckParams p = aigc_gradcheck_default_params();
    p.max_checks = 0;
    aigc_assert_gradcheck(views_fn2, 2, in, NULL, &p);
    aigc_tensor_free_leaf(in[0]);
    aigc_tensor_free_leaf(in[1]);
}

static void test_view_values(void)
{
    g_autoptr(AigcCtx) ctx = aigc_ctx_new();
    float v[24];
    for (int i = 0; i < 24; i++)
        v[i] = (float)i;
    AigcTensor *x = aigc_tensor_from_data(ctx, 3, (gint64[]){2, 3, 4}, v);
    AigcTensor *t = aigc_transpose(ctx, x, 0, 2); /* [4, 3, 2] */
    g_assert_false(aigc_tensor_is_contiguous(t));
    g_assert_cmpfloat(aigc_tensor_get(t, (gint64[]){3, 2, 1}), ==, 1 * 12 + 2 * 4 + 3);
    AigcTensor *c = aigc_contiguous(ctx, t);
    g_assert_true(aigc_tensor_is_contiguous(c));
    g_assert_cmpfloat(c->data[3 * 6 + 2 * 2 + 1], ==, 23);
    AigcTensor *s = aigc_slice(ctx, x, 1, 1, 2); /* [2, 1, 4] */
    g_assert_cmpint(s->n_elements, ==, 8);
    g_assert_cmpfloat(aigc_tensor_get(s, (gint64[]){1, 0, 2}), ==, 12 + 4 + 2);
    /* No-grad mode: nothing is recorded even for inputs that require grad. */
    AigcTensor *leaf = aigc_tensor_new_leaf(1, (gint64[]){4}, TRUE);
    aigc_ctx_set_grad_enabled(ctx, FALSE);
    aigc_reshape(ctx, aigc_slice(ctx, leaf, 0, 0, 2), 2, (gint64[]){1, 2});
    g_assert_cmpuint(aigc_ctx_get_n_nodes(ctx), ==, 0);
    aigc_tensor_free_leaf(leaf);
}

static void test_params_roundtrip(void)
{
    g_autoptr(AigcParams) params = aigc_params_new();
    AigcTensor *w = aigc_params_add(params, "w", 2, (gint64[]){3, 5});
    AigcTensor *b = aigc_params_add(params, "b", 1, (gint64[]){5});
    aigc_params_allocate(params);
    g_assert_cmpuint((guintptr)w->data % 64, ==, 0);
    g_assert_cmpuint((guintptr)b->data % 64, ==, 0);
    g_assert_cmpint(aigc_params_get_n_elements(params), >=, 20);
    for (int i = 0; i < 15; i++)
        w->data[i] = 0.25f * i;
    for (int i = 0; i < 5; i++)
        b->data[i] = -1.0f * i;

    g_autofree char *dir = g_dir_make_tmp("aigc-params-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "p.safetensors", NULL);
    g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
    g_assert_true(aigc_params_save(params, wr, "model.", AIGC_DTYPE_F16, NULL));
    g_assert_true(aigc_safetensors_writer_write(wr, path, NULL, NULL, NULL));

    g_autoptr(AigcParams) other = aigc_params_new();
    AigcTensor *w2 = aigc_params_add(other, "w", 2, (gint64[]){3, 5});
    AigcTensor *b2 = aigc_params_add(other, "b", 1, (gint64[]){5});
    aigc_params_allocate(other);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, NULL);
    GError *error = NULL;
    g_assert_true(aigc_params_load(other, st, "model.", &error));
    g_assert_no_error(error);
    g_assert_cmpmem(w2->data, 60, w->data, 60); /* all exact in F16 */
    g_assert_cmpmem(b2->data, 20, b->data, 20);

    /* Wrong shape and missing tensor are named. */
    g_autoptr(AigcParams) wrong = aigc_params_new();
    aigc_params_add(wrong, "w", 2, (gint64[]){5, 3});
    aigc_params_allocate(wrong);
    g_assert_false(aigc_params_load(wrong, st, "model.", &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "model.w"));
    g_clear_error(&error);
    g_assert_false(aigc_params_load(wrong, st, "other.", &error));
    g_assert_nonnull(strstr(error->message, "missing"));
    g_clear_error(&error);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_nan_weights_refused(void)
{
    g_autofree char *dir = g_dir_make_tmp("aigc-params-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "nan.safetensors", NULL);
    float bad[2] = {1.0f, NAN};
    g_autoptr(AigcSafetensorsWriter) wr = aigc_safetensors_writer_new();
    aigc_safetensors_writer_add_f32(wr, "w", AIGC_DTYPE_F32, 1, (gint64[]){2}, bad, NULL);
    g_assert_true(aigc_safetensors_writer_write(wr, path, NULL, NULL, NULL));
    g_autoptr(AigcParams) params = aigc_params_new();
    aigc_params_add(params, "w", 1, (gint64[]){2});
    aigc_params_allocate(params);
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, NULL);
    GError *error = NULL;
    g_assert_false(aigc_params_load(params, st, NULL, &error));
    g_assert_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NUMERIC);
    g_clear_error(&error);
    g_unlink(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    aigc_threads_init(2);
    g_test_add_func("/engine/tensor/arena/reuse", test_arena_reuse);
    g_test_add_func("/engine/tensor/rng", test_rng);
    g_test_add_func("/engine/tensor/views/values", test_view_values);
    g_test_add_func("/engine/tensor/views/gradcheck", test_views_gradcheck);
    g_test_add_func("/engine/tensor/params/roundtrip", test_params_roundtrip);
    g_test_add_func("/engine/tensor/params/nan-refused", test_nan_weights_refused);
    return g_test_run();
}
