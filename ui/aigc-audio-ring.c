/* SPDX-License-Identifier: MIT
 *
 * The lock-free sample ring of the audio player (see aigc-audio-ring.h).
 */
#include "aigc-audio-ring.h"

#include <stdatomic.h>
#include <string.h>

struct _AigcAudioRing {
    float *data; /* [capacity] */
    gsize capacity, mask;
    _Atomic guint64 head; /* samples written */
    _Atomic guint64 tail; /* samples read */
};

AigcAudioRing *aigc_audio_ring_new(gsize min_capacity)
{
    gsize cap = 1;
    while (cap < min_capacity)
        cap <<= 1;
    AigcAudioRing *ring = g_new0(AigcAudioRing, 1);
    ring->data = g_new0(float, cap);
    ring->capacity = cap;
    ring->mask = cap - 1;
    atomic_init(&ring->head, 0);
    atomic_init(&ring->tail, 0);
    return ring;
}

void aigc_audio_ring_free(AigcAudioRing *ring)
{
    if (!ring)
        return;
    g_free(ring->data);
    g_free(ring);
}

gsize aigc_audio_ring_get_capacity(AigcAudioRing *ring)
{
    return ring->capacity;
}

gsize aigc_audio_ring_space(AigcAudioRing *ring)
{
    guint64 head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    guint64 tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    return ring->capacity - (gsize)(head - tail);
}

gsize aigc_audio_ring_write(AigcAudioRing *ring, const float *samples, gsize n)
{
    guint64 head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    gsize room = aigc_audio_ring_space(ring);
    n = MIN(n, room);
    gsize at = (gsize)head & ring->mask, first = MIN(n, ring->capacity - at);
    memcpy(ring->data + at, samples, first * sizeof(float));
    memcpy(ring->data, samples + first, (n - first) * sizeof(float));
    atomic_store_explicit(&ring->head, head + n, memory_order_release);
    return n;
}

gsize aigc_audio_ring_available(AigcAudioRing *ring)
{
    guint64 head = atomic_load_explicit(&ring->head, memory_order_acquire);
    guint64 tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    return (gsize)(head - tail);
}

gsize aigc_audio_ring_read(AigcAudioRing *ring, float *out, gsize n)
{
    guint64 tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    /* Read the writer's position once: MIN evaluates its arguments twice, and a second look
     * could see more samples than the caller's buffer holds. */
    gsize available = aigc_audio_ring_available(ring);
    n = MIN(n, available);
    gsize at = (gsize)tail & ring->mask, first = MIN(n, ring->capacity - at);
    memcpy(out, ring->data + at, first * sizeof(float));
    memcpy(out + first, ring->data, (n - first) * sizeof(float));
    atomic_store_explicit(&ring->tail, tail + n, memory_order_release);
    return n;
}

guint64 aigc_audio_ring_get_total_read(AigcAudioRing *ring)
{
    return atomic_load_explicit(&ring->tail, memory_order_acquire);
}

void aigc_audio_ring_reset(AigcAudioRing *ring)
{
    atomic_store(&ring->head, 0);
    atomic_store(&ring->tail, 0);
}
