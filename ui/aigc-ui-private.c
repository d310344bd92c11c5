/* SPDX-License-Identifier: MIT */
#include "aigc-ui-private.h"

#include "aigc-config.h"

static GThread *main_thread;

void aigc_ui_mark_main_thread(void)
{
    if (!main_thread)
        main_thread = g_thread_self();
}

gboolean aigc_ui_is_main_thread(void)
{
    return main_thread == NULL || main_thread == g_thread_self();
}

GSettings *aigc_ui_settings_new(void)
{
    const char *id = "org.aigcstudio.Studio";
    GSettingsSchemaSource *source = g_settings_schema_source_get_default();
    g_autoptr(GSettingsSchema) schema =
        source ? g_settings_schema_source_lookup(source, id, TRUE) : NULL;
    if (!schema) {
        /* Uninstalled: the schema compiled by the build. */
        g_autoptr(GError) error = NULL;
        g_autoptr(GSettingsSchemaSource) build_source = g_settings_schema_source_new_from_directory(
            AIGC_BUILD_SCHEMA_DIR, source, FALSE, &error);
        if (build_source)
            schema = g_settings_schema_source_lookup(build_source, id, FALSE);
    }
    if (!schema)
        g_error("the settings schema %s is not installed; run `meson install` or start the "
                "studio with build-aux/run.sh",
                id);
    return g_settings_new_full(schema, NULL, NULL);
}

char *aigc_ui_format_duration(double seconds)
{
    int s = (int)(seconds + 0.5);
    if (s < 0)
        s = 0;
    if (s >= 3600)
        return g_strdup_printf("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    return g_strdup_printf("%d:%02d", s / 60, s % 60);
}
