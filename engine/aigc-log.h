/* SPDX-License-Identifier: MIT
 *
 * Engine logging. The engine never prints: it hands each message to a handler the application
 * can replace (the CLI prints warnings to stderr, the studio shows them in its log). The default
 * handler forwards to g_log() under the "aigc-engine" domain.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    AIGC_LOG_DEBUG,
    AIGC_LOG_INFO,
    AIGC_LOG_WARNING,
    AIGC_LOG_ERROR, /* a runtime fault reported to the log as well as through GError */
} AigcLogLevel;

typedef void (*AigcLogFunc)(AigcLogLevel level, const char *message, gpointer user_data);

/* Replaces the handler for all threads; NULL restores the default. Thread-safe. */
void aigc_log_set_handler(AigcLogFunc func, gpointer user_data);

void aigc_log(AigcLogLevel level, const char *format, ...) G_GNUC_PRINTF(2, 3);

#define aigc_debug(...)   aigc_log(AIGC_LOG_DEBUG, __VA_ARGS__)
#define aigc_info(...)    aigc_log(AIGC_LOG_INFO, __VA_ARGS__)
#define aigc_warning(...) aigc_log(AIGC_LOG_WARNING, __VA_ARGS__)

G_END_DECLS
