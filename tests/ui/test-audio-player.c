/* SPDX-License-Identifier: MIT
 *
 * Playback's real-time path: the lock-free ring passes every sample once, in order, between a
 * writer and a reader thread racing each other, across many wrap-arounds; and a player with no
 * sound device says so (Play refused with the reason) instead of failing later.
 */
#include "aigc-audio-player.h"
#include "aigc-audio-ring.h"

#include <gio/gio.h>

#define N_SAMPLES 2000000

static gpointer reader_thread(gpointer data)
{
    AigcAudioRing *ring = data;
    float buf[97];
    guint64 expect = 0;
    while (expect < N_SAMPLES) {
        gsize n = aigc_audio_ring_read(ring, buf, G_N_ELEMENTS(buf));
        for (gsize i = 0; i < n; i++, expect++)
            if (buf[i] != (float)(expect % 65536))
                return GINT_TO_POINTER(0);
        if (n == 0)
            g_thread_yield();
    }
    return GINT_TO_POINTER(1);
}

static void test_ring_threads(void)
{
    g_autoptr(AigcAudioRing) ring = aigc_audio_ring_new(1000);
    g_assert_cmpuint(aigc_audio_ring_get_capacity(ring), ==, 1024);
    g_assert_cmpuint(aigc_audio_ring_space(ring), ==, 1024);
    GThread *reader = g_thread_new("reader", reader_thread, ring);
    float chunk[61];
    guint64 next = 0;
    while (next < N_SAMPLES) {
        gsize want = MIN(G_N_ELEMENTS(chunk), N_SAMPLES - next);
        for (gsize i = 0; i < want; i++)
            chunk[i] = (float)((next + i) % 65536);
        gsize put = aigc_audio_ring_write(ring, chunk, want);
        next += put;
        if (put == 0)
            g_thread_yield();
    }
    g_assert_true(GPOINTER_TO_INT(g_thread_join(reader)));
    g_assert_cmpuint(aigc_audio_ring_get_total_read(ring), ==, N_SAMPLES);
    g_assert_cmpuint(aigc_audio_ring_available(ring), ==, 0);
}

static void test_ring_full(void)
{
    g_autoptr(AigcAudioRing) ring = aigc_audio_ring_new(8);
    float in[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, out[12];
    g_assert_cmpuint(aigc_audio_ring_write(ring, in, 12), ==, 8); /* only what fits */
    g_assert_cmpuint(aigc_audio_ring_space(ring), ==, 0);
    g_assert_cmpuint(aigc_audio_ring_read(ring, out, 5), ==, 5);
    g_assert_cmpuint(aigc_audio_ring_write(ring, in + 8, 4), ==, 4); /* wraps */
    g_assert_cmpuint(aigc_audio_ring_read(ring, out + 5, 12), ==, 7);
    for (int i = 0; i < 12; i++)
        g_assert_cmpfloat(out[i], ==, i);
    aigc_audio_ring_reset(ring);
    g_assert_cmpuint(aigc_audio_ring_get_total_read(ring), ==, 0);
}

/* Tests run with AIGC_NO_AUDIO, as a machine without sound: never a crash, a reason to show. */
static void test_player_without_device(void)
{
    g_setenv("AIGC_NO_AUDIO", "1", TRUE);
    g_autoptr(AigcAudioPlayer) p = aigc_audio_player_new(NULL);
    g_assert_false(aigc_audio_player_get_available(p));
    g_assert_nonnull(aigc_audio_player_get_unavailable_reason(p));
    float tone[1600] = {0};
    aigc_audio_player_set_audio(p, tone, G_N_ELEMENTS(tone), 16000);
    g_assert_cmpfloat_with_epsilon(aigc_audio_player_get_duration(p), 0.1, 1e-9);
    GError *error = NULL;
    g_assert_false(aigc_audio_player_play(p, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_clear_error(&error);
    g_assert_false(aigc_audio_player_get_playing(p));
    aigc_audio_player_stop(p); /* harmless */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/audio/ring/threads", test_ring_threads);
    g_test_add_func("/ui/audio/ring/full", test_ring_full);
    g_test_add_func("/ui/audio/player/without-device", test_player_without_device);
    return g_test_run();
}
