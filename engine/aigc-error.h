/* SPDX-License-Identifier: MIT
 *
 * The engine's error domain. Every public engine call that can fail at run time returns
 * FALSE/NULL and sets a GError in AIGC_ENGINE_ERROR; the message names the file (when there is
 * one) and the fault, in plain words, without advice — advice is written by ui/ and app/.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AIGC_ENGINE_ERROR (aigc_engine_error_quark())

typedef enum {
    AIGC_ENGINE_ERROR_FAILED,      /* anything else */
    AIGC_ENGINE_ERROR_IO,          /* a file could not be read or written */
    AIGC_ENGINE_ERROR_FORMAT,      /* a file's contents are malformed */
    AIGC_ENGINE_ERROR_UNSUPPORTED, /* well-formed, but not something the engine handles */
    AIGC_ENGINE_ERROR_INVALID,     /* an argument or parameter out of range */
    AIGC_ENGINE_ERROR_NOT_FOUND,   /* a named model, tensor or class does not exist */
    AIGC_ENGINE_ERROR_NUMERIC,     /* NaN/Inf where numbers must be finite */
    AIGC_ENGINE_ERROR_CANCELLED,   /* stopped on request: callers show nothing */
} AigcEngineErrorCode;

GQuark aigc_engine_error_quark(void);

G_END_DECLS
