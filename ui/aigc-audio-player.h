/* SPDX-License-Identifier: MIT
 *
 * AigcAudioPlayer: plays mono float audio through PortAudio. The main loop feeds a lock-free
 * ring (aigc-audio-ring.h) a few tens of milliseconds ahead; PortAudio's callback only copies
 * from the ring (zeros on underrun), so it never allocates or locks. Audio can grow while it
 * plays (aigc_audio_player_append: a long text is synthesised sentence by sentence and plays
 * from the first). With no output device — a headless machine — the player says it is
 * unavailable and why; ALSA's own chatter is silenced.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define AIGC_TYPE_AUDIO_PLAYER (aigc_audio_player_get_type())
G_DECLARE_FINAL_TYPE(AigcAudioPlayer, aigc_audio_player, AIGC, AUDIO_PLAYER, GObject)

/* (transfer full) device_name (nullable): an output device's name as listed by
 * aigc_audio_output_devices(); NULL or unknown = the default output. */
AigcAudioPlayer *aigc_audio_player_new(const char *device_name);

/* Whether sound can play here; when not, a sentence for a tooltip. */
gboolean aigc_audio_player_get_available(AigcAudioPlayer *self);
const char *aigc_audio_player_get_unavailable_reason(AigcAudioPlayer *self);

/* Replaces the audio (copied; stops playback). rate in Hz. */
void aigc_audio_player_set_audio(AigcAudioPlayer *self, const float *samples, gsize n, int rate);
/* Adds samples at the end (same rate), also while playing. */
void aigc_audio_player_append(AigcAudioPlayer *self, const float *samples, gsize n);
/* Marks the audio complete: playback ends (or loops) when it reaches the end. Until then an
 * underrun waits for more. set_audio marks it complete. */
void aigc_audio_player_set_complete(AigcAudioPlayer *self, gboolean complete);

void aigc_audio_player_set_loop(AigcAudioPlayer *self, gboolean loop);
gboolean aigc_audio_player_get_loop(AigcAudioPlayer *self);

/* Starts from the beginning; FALSE + error when unavailable or the device refuses. */
gboolean aigc_audio_player_play(AigcAudioPlayer *self, GError **error);
void aigc_audio_player_stop(AigcAudioPlayer *self);
gboolean aigc_audio_player_get_playing(AigcAudioPlayer *self);

/* Seconds played (within the loop), and the audio's length. "notify::position" fires ~30 times a
 * second while playing; "finished" when it ends by itself. */
double aigc_audio_player_get_position(AigcAudioPlayer *self);
double aigc_audio_player_get_duration(AigcAudioPlayer *self);

G_END_DECLS
