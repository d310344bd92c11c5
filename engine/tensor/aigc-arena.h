/* SPDX-License-Identifier: MIT
 *
 * A per-step bump allocator. Allocations are 64-byte aligned and live until the next reset.
 * Reset keeps the memory: when a step needed more than one block, the blocks are replaced by
 * one block of the combined size, so from the second identical step on nothing is allocated.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AigcArena AigcArena;

AigcArena *aigc_arena_new(gsize initial_bytes);
void aigc_arena_free(AigcArena *arena);
/* (transfer none) Uninitialised, 64-byte aligned; never NULL (aborts only if the OS has no
 * memory, like g_malloc). */
gpointer aigc_arena_alloc(AigcArena *arena, gsize n_bytes);
gpointer aigc_arena_alloc0(AigcArena *arena, gsize n_bytes);
void aigc_arena_reset(AigcArena *arena);
/* Bytes handed out since the last reset, and the high-water mark over the arena's life. */
gsize aigc_arena_get_used(AigcArena *arena);
gsize aigc_arena_get_peak(AigcArena *arena);
/* Bytes reserved from the system right now. */
gsize aigc_arena_get_reserved(AigcArena *arena);
/* Number of blocks obtained from the system so far (a test counts these). */
guint aigc_arena_get_n_system_allocs(AigcArena *arena);

G_END_DECLS
