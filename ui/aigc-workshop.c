/* SPDX-License-Identifier: MIT */
#include "aigc-workshop.h"

#include "aigc-ui-private.h"

typedef struct {
    char *id;
    AigcModality modality;
    AigcEngineBridge *bridge;
    AigcGalleryStore *gallery;
    GtkStringList *models;
    gboolean has_result;
    gulong jobs_changed_id;
} AigcWorkshopPrivate;

G_DEFINE_TYPE_WITH_PRIVATE(AigcWorkshop, aigc_workshop, ADW_TYPE_BIN)

enum { PROP_0, PROP_ID, PROP_MODALITY, PROP_BUSY, PROP_HAS_RESULT, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_TOAST, SIGNAL_SEND_TEXT, N_SIGNALS };
static guint signals[N_SIGNALS];

static void on_jobs_changed(GListModel *jobs, guint pos, guint removed, guint added,
                            AigcWorkshop *self)
{
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_BUSY]);
}

static void aigc_workshop_dispose(GObject *object)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(AIGC_WORKSHOP(object));
    if (priv->bridge && priv->jobs_changed_id)
        g_signal_handler_disconnect(aigc_engine_bridge_get_jobs(priv->bridge),
                                    priv->jobs_changed_id);
    priv->jobs_changed_id = 0;
    g_clear_object(&priv->bridge);
    g_clear_object(&priv->gallery);
    g_clear_object(&priv->models);
    G_OBJECT_CLASS(aigc_workshop_parent_class)->dispose(object);
}

static void aigc_workshop_finalize(GObject *object)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(AIGC_WORKSHOP(object));
    g_free(priv->id);
    G_OBJECT_CLASS(aigc_workshop_parent_class)->finalize(object);
}

static void aigc_workshop_get_property(GObject *object, guint id, GValue *value,
                                       GParamSpec *pspec)
{
    AigcWorkshop *self = AIGC_WORKSHOP(object);
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    switch (id) {
    case PROP_ID: g_value_set_string(value, priv->id); break;
    case PROP_MODALITY: g_value_set_int(value, priv->modality); break;
    case PROP_BUSY: g_value_set_boolean(value, aigc_workshop_get_busy(self)); break;
    case PROP_HAS_RESULT: g_value_set_boolean(value, priv->has_result); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void aigc_workshop_set_property(GObject *object, guint id, const GValue *value,
                                       GParamSpec *pspec)
{
    AigcWorkshop *self = AIGC_WORKSHOP(object);
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    switch (id) {
    case PROP_ID:
        g_free(priv->id);
        priv->id = g_value_dup_string(value);
        break;
    case PROP_MODALITY: priv->modality = g_value_get_int(value); break;
    case PROP_HAS_RESULT: aigc_workshop_set_has_result(self, g_value_get_boolean(value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void aigc_workshop_class_init(AigcWorkshopClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->dispose = aigc_workshop_dispose;
    object_class->finalize = aigc_workshop_finalize;
    object_class->get_property = aigc_workshop_get_property;
    object_class->set_property = aigc_workshop_set_property;
    /* Set once by each panel's template. */
    props[PROP_ID] = g_param_spec_string("id", NULL, NULL, NULL,
                                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    props[PROP_MODALITY] = g_param_spec_int("modality", NULL, NULL, 0, AIGC_N_MODALITIES - 1, 0,
                                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    props[PROP_BUSY] = g_param_spec_boolean("busy", NULL, NULL, FALSE,
                                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_HAS_RESULT] = g_param_spec_boolean("has-result", NULL, NULL, FALSE,
                                                  G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                      G_PARAM_EXPLICIT_NOTIFY);
    g_object_class_install_properties(object_class, N_PROPS, props);
    /* toast: (const char *message) a short message for the window to show. */
    signals[SIGNAL_TOAST] = g_signal_new("toast", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    /* send-text: (const char *panel, const char *text) hand text to another panel. */
    signals[SIGNAL_SEND_TEXT] = g_signal_new("send-text", G_TYPE_FROM_CLASS(klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                             2, G_TYPE_STRING, G_TYPE_STRING);
}

void aigc_workshop_toast(AigcWorkshop *self, const char *message)
{
    g_debug("%s: %s", aigc_workshop_get_id(self), message);
    g_signal_emit(self, signals[SIGNAL_TOAST], 0, message);
}

void aigc_workshop_send_text(AigcWorkshop *self, const char *panel, const char *text)
{
    g_signal_emit(self, signals[SIGNAL_SEND_TEXT], 0, panel, text);
}

static void aigc_workshop_init(AigcWorkshop *self)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    priv->models = gtk_string_list_new(NULL);
}

const char *aigc_workshop_get_id(AigcWorkshop *self)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    return priv->id;
}

AigcModality aigc_workshop_get_modality(AigcWorkshop *self)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    return priv->modality;
}

void aigc_workshop_setup(AigcWorkshop *self, AigcEngineBridge *bridge, AigcGalleryStore *gallery)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    g_return_if_fail(priv->bridge == NULL);
    priv->bridge = g_object_ref(bridge);
    priv->gallery = g_object_ref(gallery);
    priv->jobs_changed_id = g_signal_connect(aigc_engine_bridge_get_jobs(bridge), "items-changed",
                                             G_CALLBACK(on_jobs_changed), self);
    aigc_workshop_reload_models(self);
}

AigcEngineBridge *aigc_workshop_get_bridge(AigcWorkshop *self)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    return priv->bridge;
}

AigcGalleryStore *aigc_workshop_get_gallery(AigcWorkshop *self)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    return priv->gallery;
}

GtkStringList *aigc_workshop_get_models(AigcWorkshop *self)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    return priv->models;
}

void aigc_workshop_reload_models(AigcWorkshop *self)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    g_autoptr(GPtrArray) models = aigc_models_list();
    g_autoptr(GStrvBuilder) names = g_strv_builder_new();
    for (guint i = 0; i < models->len; i++) {
        const AigcModelInfo *info = models->pdata[i];
        const AigcModelClass *klass = aigc_registry_find(info->family);
        /* Only models this build can run, of this panel's kind. */
        if (klass && klass->modality == priv->modality && !klass->judge_only)
            g_strv_builder_add(names, info->name);
    }
    g_auto(GStrv) strv = g_strv_builder_end(names);
    guint n_old = g_list_model_get_n_items(G_LIST_MODEL(priv->models));
    gtk_string_list_splice(priv->models, 0, n_old, (const char *const *)strv);
    AigcWorkshopClass *klass = AIGC_WORKSHOP_GET_CLASS(self);
    if (klass->models_changed)
        klass->models_changed(self);
}

gboolean aigc_workshop_get_busy(AigcWorkshop *self)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    return priv->bridge && aigc_engine_bridge_is_busy(priv->bridge, priv->id);
}

gboolean aigc_workshop_get_has_result(AigcWorkshop *self)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    return priv->has_result;
}

void aigc_workshop_set_has_result(AigcWorkshop *self, gboolean has_result)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    if (priv->has_result == has_result)
        return;
    priv->has_result = has_result;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_HAS_RESULT]);
}

gboolean aigc_workshop_generate(AigcWorkshop *self)
{
    AigcWorkshopClass *klass = AIGC_WORKSHOP_GET_CLASS(self);
    if (aigc_workshop_get_busy(self) || !klass->generate)
        return FALSE;
    return klass->generate(self);
}

void aigc_workshop_stop(AigcWorkshop *self)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    if (!priv->bridge)
        return;
    GListModel *jobs = aigc_engine_bridge_get_jobs(priv->bridge);
    for (guint i = 0; i < g_list_model_get_n_items(jobs); i++) {
        g_autoptr(AigcJobHandle) h = g_list_model_get_item(jobs, i);
        if (g_strcmp0(aigc_job_handle_get_panel(h), priv->id) == 0)
            aigc_job_handle_cancel(h);
    }
}

void aigc_workshop_export_result(AigcWorkshop *self)
{
    AigcWorkshopClass *klass = AIGC_WORKSHOP_GET_CLASS(self);
    if (aigc_workshop_get_has_result(self) && klass->export_result)
        klass->export_result(self);
}

void aigc_workshop_restore_settings(AigcWorkshop *self, JsonObject *params)
{
    AigcWorkshopClass *klass = AIGC_WORKSHOP_GET_CLASS(self);
    if (klass->restore_settings)
        klass->restore_settings(self, params);
}

AigcJobHandle *aigc_workshop_submit(AigcWorkshop *self, AigcJob *job, const char *title)
{
    AigcWorkshopPrivate *priv = aigc_workshop_get_instance_private(self);
    g_return_val_if_fail(priv->bridge != NULL, NULL);
    return aigc_engine_bridge_submit(priv->bridge, job, title, priv->id);
}
