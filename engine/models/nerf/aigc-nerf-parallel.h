/* SPDX-License-Identifier: MIT
 *
 * Dynamic work sharing for the NeRF stages, on the engine's pool: aigc_parallel_for gives each
 * thread one fixed share, so on a busy machine a thread that loses its core for a while holds
 * the others up at the join. Here each thread takes the next work item when it is free, and a
 * thread that falls behind just does fewer. Items must be independent (write disjoint outputs)
 * so that results do not depend on which thread ran which item.
 */
#pragma once

#include "tensor/aigc-threads.h"

G_BEGIN_DECLS

/* func(item, slot, data): slot ∈ [0, n_slots) names the calling worker (for its scratch); no
 * two workers have the same slot at the same time. */
typedef void (*AigcNerfItemFunc)(gint64 item, int slot, gpointer data);

typedef struct {
    AigcNerfItemFunc func;
    gpointer data;
    gint64 n_items;
    gint next; /* atomic */
} AigcNerfItems;

static inline void aigc_nerf_items_worker(gint64 begin, gint64 end, gpointer data)
{
    AigcNerfItems *items = data;
    (void)end;
    for (;;) {
        gint64 item = g_atomic_int_add(&items->next, 1);
        if (item >= items->n_items)
            break;
        items->func(item, (int)begin, items->data);
    }
}

/* Runs func on items [0, n_items) with at most n_slots workers (≥ 1). */
static inline void aigc_nerf_parallel_items(gint64 n_items, int n_slots, AigcNerfItemFunc func,
                                            gpointer data)
{
    g_return_if_fail(n_items < G_MAXINT);
    AigcNerfItems items = {func, data, n_items, 0};
    gint64 n_workers = MIN(MIN((gint64)aigc_threads_get(), (gint64)n_slots), n_items);
    aigc_parallel_for(n_workers, 1, aigc_nerf_items_worker, &items);
}

G_END_DECLS
