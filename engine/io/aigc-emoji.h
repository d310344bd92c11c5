/* SPDX-License-Identifier: MIT
 *
 * The emoji image set (data/image/prepare-emoji.py): Google's Noto emoji from npm
 * emoji-datasource-google, composited over white and reduced to 32×32 RGB, with their names and
 * categories — the data of the text-conditioned emoji models.
 *
 * DESIGN (file format "aigc-emoji-1"): a safetensors file with
 *   tensor "images"   U8 [N, S, S, 3]  RGB, rows top to bottom
 *   tensor "category" U8 [N]           index into "categories"
 *   metadata "format"     "aigc-emoji-1"
 *   metadata "emoji"      JSON list of N objects {"name", "short_name", "category",
 *                         "subcategory", "unified"} (strings; name lower-case)
 *   metadata "categories" JSON list of category names
 * Everything is checked (shapes, counts, indices, strings) before the set is handed out.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AIGC_EMOJI_FORMAT "aigc-emoji-1"
#define AIGC_EMOJI_FILE   "emoji-32.safetensors"

typedef struct {
    char *name;        /* "grinning face" */
    char *short_name;  /* "grinning" */
    char *category;    /* "Smileys & Emotion" (one of the set's categories) */
    char *subcategory; /* "face-smiling" */
    char *unified;     /* code points, "1F600" */
    int category_index;
} AigcEmojiInfo;

typedef struct {
    int n;                 /* N */
    int size;              /* S (32) */
    guint8 *pixels;        /* (N, S, S, 3) owned */
    AigcEmojiInfo *emoji;  /* (N) owned */
    GStrv categories;      /* owned, NULL-terminated */
    int n_categories;
} AigcEmojiSet;

/* (transfer full) (nullable) Reads and checks a set; AIGC_ENGINE_ERROR_IO when the file cannot
 * be read, _FORMAT naming the file and the fault otherwise. */
AigcEmojiSet *aigc_emoji_set_load(const char *path, GError **error);
void aigc_emoji_set_free(AigcEmojiSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcEmojiSet, aigc_emoji_set_free)

/* (transfer full) Where `aigc train image --data emoji` looks: $AIGC_EMOJI_DIR/emoji-32.safetensors
 * when that variable is set, else data/cache/image/emoji/ of the source tree. */
char *aigc_emoji_default_path(void);

/* Image i as floats (3, S, S) planar, pixel / 255 · (hi − lo) + lo. */
void aigc_emoji_set_get_floats(const AigcEmojiSet *set, int i, float lo, float hi, float *out);
/* The index of the emoji whose name or short name is `name` (ASCII case ignored), or −1. */
int aigc_emoji_set_find(const AigcEmojiSet *set, const char *name);

G_END_DECLS
