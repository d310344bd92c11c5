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

G_END_DECLS
