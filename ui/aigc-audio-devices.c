/* SPDX-License-Identifier: MIT */
#include "aigc-audio-devices.h"

#include <alsa/asoundlib.h>
#include <fcntl.h>
#include <portaudio.h>
#include <unistd.h>

/* ALSA prints dozens of "cannot find card" lines on machines without sound; they mean nothing
 * to the user here. */
static void quiet_alsa(const char *file, int line, const char *function, int err,
                       const char *fmt, ...)
{
}

int aigc_audio_initialize_quietly(void)
{
    snd_lib_error_set_handler(quiet_alsa);
    /* JACK's client library, probed by PortAudio, prints to stderr when no server runs; the
     * probe happens once here, so stderr is muted for its duration. */
    fflush(stderr);
    int saved = dup(STDERR_FILENO), null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved >= 0 && null_fd >= 0)
        dup2(null_fd, STDERR_FILENO);
    int e = Pa_Initialize();
    fflush(stderr);
    if (saved >= 0 && null_fd >= 0)
        dup2(saved, STDERR_FILENO);
    if (saved >= 0)
        close(saved);
    if (null_fd >= 0)
        close(null_fd);
    return e;
}

GStrv aigc_audio_output_devices(void)
{
    GStrvBuilder *b = g_strv_builder_new();
    if (aigc_audio_initialize_quietly() == paNoError) {
        int n = Pa_GetDeviceCount();
        for (int i = 0; i < n; i++) {
            const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
            if (info && info->maxOutputChannels > 0 && info->name)
                g_strv_builder_add(b, info->name);
        }
        Pa_Terminate();
    }
    GStrv out = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    return out;
}
