/* SPDX-License-Identifier: MIT
 *
 * `aigc models`: the registered model families and the model files found on this machine.
 */
#include "aigc-cli.h"

#include <stdio.h>

int aigc_cmd_models(int argc, char **argv)
{
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(context,
                                 "List the model families built into this program and the model "
                                 "files found in the model folders.");
    int status;
    if (!aigc_cli_parse(context, "models", &argc, &argv, &status))
        return status;
    if (argc != 1)
        return aigc_cli_usage_error("models", "unexpected argument “%s”", argv[1]);

    g_autoptr(GPtrArray) families = aigc_registry_list();
    printf("Model families (%u):\n", families->len);
    if (families->len == 0)
        printf("  (none built into this version)\n");
    for (guint i = 0; i < families->len; i++) {
        const AigcModelClass *k = families->pdata[i];
        printf("  %-10s %-6s %s\n", k->name, aigc_modality_name(k->modality), k->title);
    }

    g_autoptr(GPtrArray) models = aigc_models_list();
    g_auto(GStrv) dirs = aigc_models_search_path();
    printf("\nModels (%u):\n", models->len);
    if (models->len == 0)
        printf("  (no model files found)\n");
    for (guint i = 0; i < models->len; i++) {
        const AigcModelInfo *m = models->pdata[i];
        g_autofree char *size = g_format_size((guint64)MAX(m->size, 0));
        gboolean known = aigc_registry_find(m->family) != NULL;
        printf("  %-18s %-10s %9s  %s%s\n", m->name, m->family, size, m->title ? m->title : "",
               known ? "" : "  (family not built in)");
    }
    printf("\nSearched:%s\n", dirs[0] ? "" : " (no model folder exists)");
    for (guint i = 0; dirs[i]; i++)
        printf("  %s\n", dirs[i]);
    return AIGC_EXIT_OK;
}
