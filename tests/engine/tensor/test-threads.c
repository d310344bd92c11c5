/* SPDX-License-Identifier: MIT
 *
 * The thread budget and aigc_parallel_for: every index visited exactly once, for any size,
 * grain and budget; concurrent and nested calls stay correct.
 */
#include "tensor/aigc-threads.h"

typedef struct {
    gint *hits;
} Hits;

static void mark(gint64 begin, gint64 end, gpointer ctx)
{
    Hits *h = ctx;
    for (gint64 i = begin; i < end; i++)
        g_atomic_int_inc(&h->hits[i]);
}

static void check_cover(gint64 n, gint64 grain)
{
    Hits h = {g_new0(gint, MAX(n, 1))};
    aigc_parallel_for(n, grain, mark, &h);
    for (gint64 i = 0; i < n; i++)
        g_assert_cmpint(h.hits[i], ==, 1);
    g_free(h.hits);
}

static void test_cover(void)
{
    for (int budget = 1; budget <= 4; budget++) {
        g_assert_cmpint(aigc_threads_init(budget), ==, budget);
        g_assert_cmpint(aigc_threads_get(), ==, budget);
        gint64 sizes[] = {0, 1, 2, 3, 7, 64, 1000, 100003};
        gint64 grains[] = {1, 3, 64, 100000};
        for (guint i = 0; i < G_N_ELEMENTS(sizes); i++)
            for (guint j = 0; j < G_N_ELEMENTS(grains); j++)
                check_cover(sizes[i], grains[j]);
    }
    g_assert_cmpint(aigc_threads_init(0), ==, (int)g_get_num_processors());
}

static void nested(gint64 begin, gint64 end, gpointer ctx)
{
    for (gint64 i = begin; i < end; i++) {
        Hits *h = ctx;
        Hits inner = {h->hits + i * 10};
        aigc_parallel_for(10, 1, mark, &inner); /* runs serially inside a parallel region */
    }
}

static void test_nested(void)
{
    aigc_threads_init(2);
    Hits h = {g_new0(gint, 1000)};
    aigc_parallel_for(100, 1, nested, &h);
    for (int i = 0; i < 1000; i++)
        g_assert_cmpint(h.hits[i], ==, 1);
    g_free(h.hits);
}

static gpointer hammer(gpointer data)
{
    for (int k = 0; k < 200; k++)
        check_cover(1000 + k, 7);
    return NULL;
}

static void test_concurrent(void)
{
    aigc_threads_init(2);
    GThread *a = g_thread_new("a", hammer, NULL);
    GThread *b = g_thread_new("b", hammer, NULL);
    g_thread_join(a);
    g_thread_join(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/tensor/threads/cover", test_cover);
    g_test_add_func("/engine/tensor/threads/nested", test_nested);
    g_test_add_func("/engine/tensor/threads/concurrent", test_concurrent);
    return g_test_run();
}
