/* SPDX-License-Identifier: MIT
 *
 * Replaceable log handler. The handler pointer and its user data are swapped together under a
 * mutex; messages are formatted before the lock is taken so a slow handler never blocks
 * formatting on other threads for long.
 */
#include "aigc-log.h"

#include <stdarg.h>

static GMutex log_mutex;
static AigcLogFunc log_func;
static gpointer log_user_data;

void aigc_log_set_handler(AigcLogFunc func, gpointer user_data)
{
    g_mutex_lock(&log_mutex);
    log_func = func;
    log_user_data = user_data;
    g_mutex_unlock(&log_mutex);
}

static void default_handler(AigcLogLevel level, const char *message)
{
    static const GLogLevelFlags flags[] = {
        [AIGC_LOG_DEBUG] = G_LOG_LEVEL_DEBUG,
        [AIGC_LOG_INFO] = G_LOG_LEVEL_INFO,
        [AIGC_LOG_WARNING] = G_LOG_LEVEL_WARNING,
        /* ERROR in GLib aborts; an engine fault is reported, never fatal. */
        [AIGC_LOG_ERROR] = G_LOG_LEVEL_CRITICAL,
    };
    g_log("aigc-engine", flags[level], "%s", message);
}

void aigc_log(AigcLogLevel level, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *message = g_strdup_vprintf(format, args);
    va_end(args);

    g_mutex_lock(&log_mutex);
    AigcLogFunc func = log_func;
    gpointer user_data = log_user_data;
    g_mutex_unlock(&log_mutex);

    if (func)
        func(level, message, user_data);
    else
        default_handler(level, message);
    g_free(message);
}
