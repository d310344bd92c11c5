/* SPDX-License-Identifier: MIT
 *
 * The model registry: every model family registers one AigcModelClass, so jobs, the CLI and the
 * UI can list, load and run models without knowing their code. The catalogue of model *files*
 * (shipped under assets/models/ or trained by the user) lives beside it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    AIGC_MODALITY_TEXT,
    AIGC_MODALITY_IMAGE,
    AIGC_MODALITY_AUDIO,
    AIGC_MODALITY_SCENE,
    AIGC_N_MODALITIES
} AigcModality;

const char *aigc_modality_name(AigcModality modality);

typedef struct {
    const char *name;        /* family id used in files and on the command line, e.g. "gpt" */
    const char *title;       /* e.g. "GPT (decoder-only transformer)" */
    AigcModality modality;
    const char *description; /* one sentence */
    gboolean judge_only;     /* measures other models (the image classifier); the workshops
                              * do not offer it for generating */
} AigcModelClass;

/* Adds a family (the pointer must stay valid for the process); later registrations of the same
 * name are ignored with a warning. Thread-safe. */
void aigc_registry_register(const AigcModelClass *klass);
/* (nullable) (transfer none) */
const AigcModelClass *aigc_registry_find(const char *name);
/* (transfer container) The registered families, sorted by modality then name. */
GPtrArray *aigc_registry_list(void);

/* ---- the catalogue of model files ---- */

typedef struct {
    char *name;   /* file name without .safetensors, e.g. "gpt-en" */
    char *family; /* metadata "family" (may name a family not built into this engine) */
    char *title;  /* (nullable) metadata "title" */
    char *path;
    gint64 size;
} AigcModelInfo;

void aigc_model_info_free(AigcModelInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcModelInfo, aigc_model_info_free)

/* (transfer full) The folders searched for model files, in order: $AIGC_MODELS_DIR (if set),
 * the user's $XDG_DATA_HOME/aigc-studio/models, the installed models, and (for uninstalled
 * builds) the source tree's assets/models. Only existing folders are listed. */
GStrv aigc_models_search_path(void);

/* (transfer full) (element AigcModelInfo) Every readable model file in the search path; the first
 * of two files with the same name wins. Unreadable files are skipped with a logged warning. */
GPtrArray *aigc_models_list(void);

/* (transfer full) (nullable) Finds a model by name (or returns info for an existing path). */
AigcModelInfo *aigc_models_find(const char *name_or_path, GError **error);

G_END_DECLS
