/* SPDX-License-Identifier: MIT
 *
 * Text to IPA phonemes with libespeak-ng.
 *
 * DESIGN (threads): espeak-ng keeps its state in globals (voice, dictionaries, the phoneme
 * buffer that espeak_TextToPhonemes returns), so one mutex covers initialisation, voice changes
 * and every translation, and the returned text is copied before the mutex is released. It is
 * initialised through espeak_ng_Initialize, which reports a missing data folder as a status
 * (espeak_Initialize would exit the process).
 */
#include "aigc-phonemes.h"

#include "aigc-error.h"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include <string.h>

static GMutex espeak_lock;
static gboolean espeak_started;
static char *espeak_start_error; /* set when starting failed; never retried */
static char *current_voice;      /* the voice espeak-ng has selected */

static char *status_message(espeak_ng_STATUS status)
{
    char buf[512];
    espeak_ng_GetStatusCodeMessage(status, buf, sizeof buf);
    return g_strdup(buf);
}

/* With espeak_lock held. */
static gboolean start_locked(GError **error)
{
    if (!espeak_started && !espeak_start_error) {
        espeak_ng_InitializePath(NULL);
        espeak_ng_ERROR_CONTEXT context = NULL;
        espeak_ng_STATUS status = espeak_ng_Initialize(&context);
        if (context)
            espeak_ng_ClearErrorContext(&context);
        if (status == ENS_OK)
            status = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
        if (status == ENS_OK) {
            espeak_started = TRUE;
        } else {
            espeak_start_error = status_message(status);
        }
    }
    if (espeak_start_error) {
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FAILED,
                    "espeak-ng could not start: %s", espeak_start_error);
        return FALSE;
    }
    return TRUE;
}

gboolean aigc_phonemes_init(GError **error)
{
    g_mutex_lock(&espeak_lock);
    const gboolean ok = start_locked(error);
    g_mutex_unlock(&espeak_lock);
    return ok;
}

static gboolean set_voice_locked(const char *voice, GError **error)
{
    if (current_voice && strcmp(current_voice, voice) == 0)
        return TRUE;
    const espeak_ng_STATUS status = espeak_ng_SetVoiceByName(voice);
    if (status != ENS_OK) {
        g_autofree char *msg = status_message(status);
        g_set_error(error, AIGC_ENGINE_ERROR,
                    status == ENS_VOICE_NOT_FOUND ? AIGC_ENGINE_ERROR_NOT_FOUND
                                                  : AIGC_ENGINE_ERROR_FAILED,
                    "espeak-ng voice “%s”: %s", voice, msg);
        g_clear_pointer(&current_voice, g_free); /* unknown state: select again next time */
        return FALSE;
    }
    g_free(current_voice);
    current_voice = g_strdup(voice);
    return TRUE;
}

/* Appends espeak's IPA with "(xx)" language-switch tags and control characters left out. */
static void append_ipa(GString *out, const char *ipa)
{
    for (const char *p = ipa; *p;) {
        if (*p == '(') {
            const char *q = p + 1;
            while (g_ascii_islower(*q) || *q == '-')
                q++;
            if (*q == ')' && q > p + 1) {
                p = q + 1;
                continue;
            }
        }
        const gunichar c = g_utf8_get_char(p);
        const char *next = g_utf8_next_char(p);
        if (g_unichar_isspace(c)) {
            if (out->len > 0 && out->str[out->len - 1] != ' ')
                g_string_append_c(out, ' ');
        } else if (!g_unichar_iscntrl(c) && c != '(' && c != ')') {
            g_string_append_len(out, p, next - p);
        }
        p = next;
    }
}

/* Phonemes of one clause (no pause marks in it), with espeak_lock held. */
static void phonemize_clause_locked(GString *out, const char *clause)
{
    const void *cursor = clause;
    while (cursor && *(const char *)cursor) {
        const void *before = cursor;
        const char *ipa = espeak_TextToPhonemes(&cursor, espeakCHARS_UTF8, espeakPHONEMES_IPA);
        if (cursor == before)
            break; /* no progress: never loop forever on text espeak-ng cannot take */
        if (!ipa || !*ipa)
            continue;
        if (out->len > 0 && out->str[out->len - 1] != ' ')
            g_string_append_c(out, ' ');
        append_ipa(out, ipa);
    }
    while (out->len > 0 && out->str[out->len - 1] == ' ')
        g_string_truncate(out, out->len - 1);
}

static gboolean is_pause_mark(gunichar c)
{
    return c == '.' || c == ',' || c == '!' || c == '?' || c == ';' || c == ':' || c == 0x2026;
}

char *aigc_phonemes_from_normalized(const char *normalized, const char *voice, GError **error)
{
    g_return_val_if_fail(normalized != NULL, NULL);
    if (!voice)
        voice = AIGC_PHONEMES_DEFAULT_VOICE;
    g_autofree char *text = g_utf8_make_valid(normalized, -1);
    GString *out = g_string_new(NULL);
    g_mutex_lock(&espeak_lock);
    if (!start_locked(error) || !set_voice_locked(voice, error)) {
        g_mutex_unlock(&espeak_lock);
        g_string_free(out, TRUE);
        return NULL;
    }
    const char *start = text;
    for (const char *p = text;; p = g_utf8_next_char(p)) {
        const gunichar c = g_utf8_get_char(p);
        if (c != 0 && !is_pause_mark(c))
            continue;
        g_autofree char *clause = g_strndup(start, (gsize)(p - start));
        if (*g_strstrip(clause))
            phonemize_clause_locked(out, clause);
        if (c == 0)
            break;
        /* The mark goes after the clause's phonemes, or after the last mark if it had none. */
        if (out->len > 0) {
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
            g_string_append_c(out, ' ');
        }
        start = g_utf8_next_char(p);
    }
    g_mutex_unlock(&espeak_lock);
    while (out->len > 0 && out->str[out->len - 1] == ' ')
        g_string_truncate(out, out->len - 1);
    return g_string_free(out, FALSE);
}

char *aigc_phonemes_from_text(const char *text, gssize len, const char *voice, GError **error)
{
    g_autofree char *normalized = aigc_text_normalize(text, len);
    return aigc_phonemes_from_normalized(normalized, voice, error);
}
