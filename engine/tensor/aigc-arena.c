/* SPDX-License-Identifier: MIT */
#include "aigc-arena.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN 64

typedef struct Block {
    struct Block *next;
    gsize size; /* usable bytes */
    gsize used;
    guint8 *mem;
} Block;

struct _AigcArena {
    Block *head; /* current block (newest first) */
    gsize used_total;
    gsize peak;
    gsize reserved;
    guint n_system_allocs;
};

static Block *block_new(AigcArena *arena, gsize size)
{
    size = MAX(size, (gsize)1 << 20);
    size = (size + ALIGN - 1) & ~(gsize)(ALIGN - 1);
    Block *b = g_new0(Block, 1);
    b->mem = aligned_alloc(ALIGN, size);
    if (!b->mem)
        g_error("out of memory: could not reserve %" G_GSIZE_FORMAT " bytes", size);
    b->size = size;
    arena->reserved += size;
    arena->n_system_allocs++;
    return b;
}

AigcArena *aigc_arena_new(gsize initial_bytes)
{
    AigcArena *arena = g_new0(AigcArena, 1);
    arena->head = block_new(arena, initial_bytes);
    return arena;
}

void aigc_arena_free(AigcArena *arena)
{
    if (!arena)
        return;
    for (Block *b = arena->head, *next; b; b = next) {
        next = b->next;
        free(b->mem);
        g_free(b);
    }
    g_free(arena);
}

gpointer aigc_arena_alloc(AigcArena *arena, gsize n_bytes)
{
    n_bytes = (MAX(n_bytes, 1) + ALIGN - 1) & ~(gsize)(ALIGN - 1);
    Block *b = arena->head;
    if (b->used + n_bytes > b->size) {
        /* Grow geometrically so a first step needs few blocks. */
        Block *nb = block_new(arena, MAX(n_bytes, b->size * 2));
        nb->next = b;
        arena->head = nb;
        b = nb;
    }
    gpointer p = b->mem + b->used;
    b->used += n_bytes;
    arena->used_total += n_bytes;
    arena->peak = MAX(arena->peak, arena->used_total);
    return p;
}

gpointer aigc_arena_alloc0(AigcArena *arena, gsize n_bytes)
{
    gpointer p = aigc_arena_alloc(arena, n_bytes);
    memset(p, 0, n_bytes);
    return p;
}

void aigc_arena_reset(AigcArena *arena)
{
    if (arena->head->next) {
        /* Several blocks were needed: replace them with one that holds the peak. */
        gsize want = MAX(arena->peak, arena->reserved);
        for (Block *b = arena->head, *next; b; b = next) {
            next = b->next;
            free(b->mem);
            g_free(b);
        }
        arena->reserved = 0;
        arena->head = block_new(arena, want);
    }
    arena->head->used = 0;
    arena->used_total = 0;
}

gsize aigc_arena_get_used(AigcArena *arena)
{
    return arena->used_total;
}

gsize aigc_arena_get_peak(AigcArena *arena)
{
    return arena->peak;
}

gsize aigc_arena_get_reserved(AigcArena *arena)
{
    return arena->reserved;
}

guint aigc_arena_get_n_system_allocs(AigcArena *arena)
{
    return arena->n_system_allocs;
}
