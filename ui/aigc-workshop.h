/* SPDX-License-Identifier: MIT
 *
 * AigcWorkshop: the base of the four workshop panels (Write, Paint, Speak, Scene). It holds
 * what every panel shares — the engine bridge, the gallery, the model list of its modality, the
 * busy state — and the actions the window routes to the visible panel: generate (Ctrl+Enter),
 * stop (Esc), export (Ctrl+S) and "use these settings" from the gallery.
 */
#pragma once

#include "aigc-engine-bridge.h"
#include "aigc-gallery-store.h"

#include <adwaita.h>

G_BEGIN_DECLS

#define AIGC_TYPE_WORKSHOP (aigc_workshop_get_type())
G_DECLARE_DERIVABLE_TYPE(AigcWorkshop, aigc_workshop, AIGC, WORKSHOP, AdwBin)

struct _AigcWorkshopClass {
    AdwBinClass parent_class;

    /* Start the panel's main job; FALSE when there is nothing to run (no model, empty input). */
    gboolean (*generate)(AigcWorkshop *self);
    /* Export the current result (Ctrl+S). */
    void (*export_result)(AigcWorkshop *self);
    /* Restore the panel's parameters and seed from a gallery record. */
    void (*restore_settings)(AigcWorkshop *self, JsonObject *params);
    /* The model list changed (models installed, trained…). */
    void (*models_changed)(AigcWorkshop *self);
};

/* The panel id used in gallery records and job handles: "write", "paint", "speak", "scene". */
const char *aigc_workshop_get_id(AigcWorkshop *self);
AigcModality aigc_workshop_get_modality(AigcWorkshop *self);
void aigc_workshop_setup(AigcWorkshop *self, AigcEngineBridge *bridge, AigcGalleryStore *gallery);
AigcEngineBridge *aigc_workshop_get_bridge(AigcWorkshop *self);
AigcGalleryStore *aigc_workshop_get_gallery(AigcWorkshop *self);

/* (transfer none) Names of the model files of this panel's modality, for a model picker. */
GtkStringList *aigc_workshop_get_models(AigcWorkshop *self);
void aigc_workshop_reload_models(AigcWorkshop *self);

/* TRUE while one of this panel's jobs is queued or running ("busy" property). */
gboolean aigc_workshop_get_busy(AigcWorkshop *self);
/* TRUE when there is a result to export ("has-result" property; panels set it). */
gboolean aigc_workshop_get_has_result(AigcWorkshop *self);
void aigc_workshop_set_has_result(AigcWorkshop *self, gboolean has_result);

gboolean aigc_workshop_generate(AigcWorkshop *self);
void aigc_workshop_stop(AigcWorkshop *self);
void aigc_workshop_export_result(AigcWorkshop *self);
void aigc_workshop_restore_settings(AigcWorkshop *self, JsonObject *params);

/* Asks the window to show a short message (a toast). */
void aigc_workshop_toast(AigcWorkshop *self, const char *message);
/* Hands text to another panel ("speak" for "Speak this"); the window routes it there. */
void aigc_workshop_send_text(AigcWorkshop *self, const char *panel, const char *text);

/* Submits a job for this panel through the bridge; the panel becomes busy until it is done. */
AigcJobHandle *aigc_workshop_submit(AigcWorkshop *self, AigcJob *job, const char *title);

G_END_DECLS
