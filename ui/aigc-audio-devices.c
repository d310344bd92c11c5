/* SPDX-License-Identifier: MIT */
#include "aigc-audio-devices.h"

#include <alsa/asoundlib.h>
#include <portaudio.h>

/* ALSA prints dozens of "cannot find card" lines on machines without sound; they mean nothing
 * to the user here. */
static void quiet_alsa(const char *file, int line, const char *function, int err,
                       const char *fmt, ...)
{
}

GStrv aigc_audio_output_devices(void)
{
    snd_lib_error_set_handler(quiet_alsa);
    GStrvBuilder *b = g_strv_builder_new();
    if (Pa_Initialize() == paNoError) {
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
