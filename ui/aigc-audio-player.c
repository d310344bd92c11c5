/* SPDX-License-Identifier: MIT
 *
 * AigcAudioPlayer (see aigc-audio-player.h).
 *
 * DESIGN (threads): PortAudio calls `callback` on its own real-time thread; it touches only the
 * ring (lock-free) and an atomic underrun counter. Everything else — the audio buffer, the feed
 * cursor, opening and closing the stream, GObject notifications — stays on the main thread,
 * in `tick`, a 10 ms timeout that keeps the ring ≥ 100 ms ahead and reports the playhead.
 */
#include "aigc-audio-player.h"

#include "aigc-audio-devices.h"
#include "aigc-audio-ring.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <math.h>
#include <portaudio.h>
#include <stdatomic.h>

#define RING_SECONDS 0.5

struct _AigcAudioPlayer {
    GObject parent_instance;
    gboolean pa_ready;   /* Pa_Initialize succeeded: Pa_Terminate owed */
    PaDeviceIndex device;
    char *unavailable;   /* (nullable) why not */
    GArray *audio;       /* of float */
    int rate;
    gboolean complete, loop;
    gsize fed;           /* samples of `audio` pushed into the ring (this lap) */
    guint64 lap_base;    /* ring samples before this lap began */
    AigcAudioRing *ring;
    PaStream *stream;
    guint tick_id;
    gint64 last_notify;
    double position;
    _Atomic guint64 underruns;
};

G_DEFINE_FINAL_TYPE(AigcAudioPlayer, aigc_audio_player, G_TYPE_OBJECT)

enum { PROP_0, PROP_PLAYING, PROP_POSITION, PROP_AVAILABLE, PROP_LOOP, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* The real-time side: copy what is ready, silence for the rest. */
static int callback(const void *input, void *output, unsigned long frames,
                    const PaStreamCallbackTimeInfo *time_info, PaStreamCallbackFlags flags,
                    void *user_data)
{
    AigcAudioPlayer *self = user_data;
    float *out = output;
    gsize got = aigc_audio_ring_read(self->ring, out, frames);
    for (gsize i = got; i < frames; i++)
        out[i] = 0.0f;
    if (got < frames)
        atomic_fetch_add_explicit(&self->underruns, 1, memory_order_relaxed);
    return paContinue;
}

static void close_stream(AigcAudioPlayer *self)
{
    if (self->stream) {
        Pa_StopStream(self->stream); /* returns after the last callback */
        Pa_CloseStream(self->stream);
        self->stream = NULL;
    }
    g_clear_handle_id(&self->tick_id, g_source_remove);
}

/* Pushes audio into the ring; TRUE when everything (of a complete, non-looping audio) is in. */
static gboolean feed(AigcAudioPlayer *self)
{
    for (;;) {
        gsize space = aigc_audio_ring_space(self->ring);
        gsize left = self->audio->len - self->fed;
        if (left > 0 && space > 0) {
            self->fed += aigc_audio_ring_write(self->ring,
                                               &g_array_index(self->audio, float, self->fed),
                                               MIN(left, space));
            continue;
        }
        if (left == 0 && self->complete && self->loop && self->audio->len > 0 && space > 0) {
            self->lap_base += self->fed;
            self->fed = 0;
            continue;
        }
        return left == 0 && self->complete && !self->loop;
    }
}

static gboolean tick(gpointer data)
{
    AigcAudioPlayer *self = data;
    gboolean all_in = feed(self);
    guint64 read = aigc_audio_ring_get_total_read(self->ring);
    double len = self->audio->len ? (double)self->audio->len : 1.0;
    double pos = self->loop && self->complete ? fmod((double)read, len) : MIN((double)read, len);
    self->position = pos / self->rate;
    gint64 now = g_get_monotonic_time();
    if (now - self->last_notify >= G_USEC_PER_SEC / 30) {
        self->last_notify = now;
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_POSITION]);
    }
    if (all_in && aigc_audio_ring_available(self->ring) == 0) {
        self->tick_id = 0;
        close_stream(self);
        self->position = self->audio->len / (double)self->rate;
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_POSITION]);
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PLAYING]);
        g_signal_emit(self, signals[SIGNAL_FINISHED], 0);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

gboolean aigc_audio_player_play(AigcAudioPlayer *self, GError **error)
{
    g_return_val_if_fail(AIGC_IS_AUDIO_PLAYER(self), FALSE);
    if (self->unavailable) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, self->unavailable);
        return FALSE;
    }
    if (self->audio->len == 0 && self->complete) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("There is no sound to play yet"));
        return FALSE;
    }
    aigc_audio_player_stop(self);
    aigc_audio_ring_free(self->ring);
    self->ring = aigc_audio_ring_new((gsize)(self->rate * RING_SECONDS));
    self->fed = 0;
    self->lap_base = 0;
    feed(self);
    PaStreamParameters out = {
        .device = self->device,
        .channelCount = 1,
        .sampleFormat = paFloat32,
        .suggestedLatency = Pa_GetDeviceInfo(self->device)->defaultLowOutputLatency,
    };
    PaError e = Pa_OpenStream(&self->stream, NULL, &out, self->rate, paFramesPerBufferUnspecified,
                              paClipOff, callback, self);
    if (e == paNoError)
        e = Pa_StartStream(self->stream);
    if (e != paNoError) {
        if (self->stream)
            Pa_CloseStream(self->stream);
        self->stream = NULL;
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("The sound device refused to play: %s"),
                    Pa_GetErrorText(e));
        return FALSE;
    }
    self->tick_id = g_timeout_add(10, tick, self);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PLAYING]);
    return TRUE;
}

void aigc_audio_player_stop(AigcAudioPlayer *self)
{
    g_return_if_fail(AIGC_IS_AUDIO_PLAYER(self));
    if (!self->stream)
        return;
    close_stream(self);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PLAYING]);
}

gboolean aigc_audio_player_get_playing(AigcAudioPlayer *self)
{
    return self->stream != NULL;
}

void aigc_audio_player_set_audio(AigcAudioPlayer *self, const float *samples, gsize n, int rate)
{
    g_return_if_fail(AIGC_IS_AUDIO_PLAYER(self) && (samples || n == 0) && rate > 0);
    aigc_audio_player_stop(self);
    g_array_set_size(self->audio, 0);
    g_array_append_vals(self->audio, samples, (guint)n);
    self->rate = rate;
    self->complete = TRUE;
    self->position = 0;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_POSITION]);
}

void aigc_audio_player_append(AigcAudioPlayer *self, const float *samples, gsize n)
{
    g_return_if_fail(AIGC_IS_AUDIO_PLAYER(self) && (samples || n == 0));
    g_array_append_vals(self->audio, samples, (guint)n);
}

void aigc_audio_player_set_complete(AigcAudioPlayer *self, gboolean complete)
{
    self->complete = complete;
}

void aigc_audio_player_set_loop(AigcAudioPlayer *self, gboolean loop)
{
    self->loop = loop;
}

gboolean aigc_audio_player_get_loop(AigcAudioPlayer *self)
{
    return self->loop;
}

double aigc_audio_player_get_position(AigcAudioPlayer *self)
{
    return self->position;
}

double aigc_audio_player_get_duration(AigcAudioPlayer *self)
{
    return self->rate > 0 ? self->audio->len / (double)self->rate : 0.0;
}

gboolean aigc_audio_player_get_available(AigcAudioPlayer *self)
{
    return self->unavailable == NULL;
}

const char *aigc_audio_player_get_unavailable_reason(AigcAudioPlayer *self)
{
    return self->unavailable;
}

static void aigc_audio_player_get_property(GObject *object, guint prop_id, GValue *value,
                                           GParamSpec *pspec)
{
    AigcAudioPlayer *self = AIGC_AUDIO_PLAYER(object);
    switch (prop_id) {
    case PROP_PLAYING:
        g_value_set_boolean(value, aigc_audio_player_get_playing(self));
        break;
    case PROP_POSITION:
        g_value_set_double(value, self->position);
        break;
    case PROP_AVAILABLE:
        g_value_set_boolean(value, aigc_audio_player_get_available(self));
        break;
    case PROP_LOOP:
        g_value_set_boolean(value, self->loop);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void aigc_audio_player_set_property(GObject *object, guint prop_id, const GValue *value,
                                           GParamSpec *pspec)
{
    AigcAudioPlayer *self = AIGC_AUDIO_PLAYER(object);
    switch (prop_id) {
    case PROP_LOOP:
        aigc_audio_player_set_loop(self, g_value_get_boolean(value));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void aigc_audio_player_finalize(GObject *object)
{
    AigcAudioPlayer *self = AIGC_AUDIO_PLAYER(object);
    close_stream(self);
    if (self->pa_ready)
        Pa_Terminate();
    aigc_audio_ring_free(self->ring);
    g_array_unref(self->audio);
    g_free(self->unavailable);
    G_OBJECT_CLASS(aigc_audio_player_parent_class)->finalize(object);
}

static void aigc_audio_player_class_init(AigcAudioPlayerClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->get_property = aigc_audio_player_get_property;
    object_class->set_property = aigc_audio_player_set_property;
    object_class->finalize = aigc_audio_player_finalize;
    props[PROP_PLAYING] = g_param_spec_boolean("playing", NULL, NULL, FALSE,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_POSITION] = g_param_spec_double("position", NULL, NULL, 0, G_MAXDOUBLE, 0,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_AVAILABLE] = g_param_spec_boolean("available", NULL, NULL, FALSE,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_LOOP] = g_param_spec_boolean("loop", NULL, NULL, FALSE,
                                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, props);
    signals[SIGNAL_FINISHED] = g_signal_new("finished", G_TYPE_FROM_CLASS(klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 0);
}

static void aigc_audio_player_init(AigcAudioPlayer *self)
{
    self->audio = g_array_new(FALSE, FALSE, sizeof(float));
    self->rate = 16000;
    self->complete = TRUE;
    self->ring = aigc_audio_ring_new((gsize)(self->rate * RING_SECONDS));
}

AigcAudioPlayer *aigc_audio_player_new(const char *device_name)
{
    AigcAudioPlayer *self = g_object_new(AIGC_TYPE_AUDIO_PLAYER, NULL);
    if (g_getenv("AIGC_NO_AUDIO")) {
        self->unavailable = g_strdup(_("Sound output is turned off (AIGC_NO_AUDIO is set)"));
        return self;
    }
    if (aigc_audio_initialize_quietly() != paNoError) {
        self->unavailable = g_strdup(_("No sound system answered; the audio can still be "
                                       "exported as a WAV file"));
        return self;
    }
    self->pa_ready = TRUE;
    self->device = Pa_GetDefaultOutputDevice();
    for (int i = 0; device_name && *device_name && i < Pa_GetDeviceCount(); i++) {
        const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
        if (info && info->maxOutputChannels > 0 && g_strcmp0(info->name, device_name) == 0)
            self->device = i;
    }
    if (self->device == paNoDevice || !Pa_GetDeviceInfo(self->device))
        self->unavailable = g_strdup(_("This machine has no sound output device; the audio can "
                                       "still be exported as a WAV file"));
    return self;
}
