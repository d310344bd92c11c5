/* SPDX-License-Identifier: MIT
 *
 * The sound output devices of this machine, for the preferences (PortAudio, with ALSA's own
 * diagnostics silenced). A headless machine has none; that is normal, not an error.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* (transfer full) Names of the output devices, in PortAudio's order; empty when there are none
 * or no audio system answers. */
GStrv aigc_audio_output_devices(void);

/* Pa_Initialize with ALSA's and JACK's diagnostics silenced; the PaError it returned. Pair with
 * Pa_Terminate() when it returned paNoError (0). */
int aigc_audio_initialize_quietly(void);

G_END_DECLS
