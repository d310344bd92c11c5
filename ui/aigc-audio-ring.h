/* SPDX-License-Identifier: MIT
 *
 * A single-producer single-consumer ring of float samples, lock-free: the main loop writes, the
 * PortAudio callback reads. Neither side allocates, locks or calls GLib once the ring exists —
 * the callback's contract (a real-time thread must never wait on the main loop).
 *
 * DESIGN: capacity is a power of two; `head` counts samples ever written and `tail` samples
 * ever read (64-bit, never wrapping in practice). The writer publishes samples with a release
 * store of head after copying them; the reader acquires head before copying and publishes tail
 * with a release store; so each side sees the other's data complete.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AigcAudioRing AigcAudioRing;

/* (transfer full) Room for at least min_capacity samples (rounded up to a power of two). */
AigcAudioRing *aigc_audio_ring_new(gsize min_capacity);
void aigc_audio_ring_free(AigcAudioRing *ring);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcAudioRing, aigc_audio_ring_free)

gsize aigc_audio_ring_get_capacity(AigcAudioRing *ring);
/* Writer side: free room now; copies up to n samples and returns how many were taken. */
gsize aigc_audio_ring_space(AigcAudioRing *ring);
gsize aigc_audio_ring_write(AigcAudioRing *ring, const float *samples, gsize n);
/* Reader side: samples ready now; copies up to n and returns how many were read. */
gsize aigc_audio_ring_available(AigcAudioRing *ring);
gsize aigc_audio_ring_read(AigcAudioRing *ring, float *out, gsize n);
/* Samples read since the ring was made (for a playhead); safe from either side. */
guint64 aigc_audio_ring_get_total_read(AigcAudioRing *ring);
/* Writer side, only while the reader is stopped: forget everything (position to 0). */
void aigc_audio_ring_reset(AigcAudioRing *ring);

G_END_DECLS
