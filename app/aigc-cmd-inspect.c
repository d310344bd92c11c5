/* SPDX-License-Identifier: MIT
 *
 * `aigc inspect FILE`: a safetensors file's metadata and tensors.
 */
#include "aigc-cli.h"

#include <stdio.h>

static void print_shape(GString *s, const AigcSafetensorsTensor *t)
{
    g_string_append_c(s, '[');
    for (int d = 0; d < t->n_dims; d++)
        g_string_append_printf(s, "%s%" G_GINT64_FORMAT, d ? ", " : "", t->shape[d]);
    g_string_append_c(s, ']');
}

int aigc_cmd_inspect(int argc, char **argv)
{
    g_autoptr(GOptionContext) context = g_option_context_new("FILE");
    g_option_context_set_summary(context,
                                 "Print a safetensors file's metadata and, for each tensor, its "
                                 "name, dtype, shape and size in bytes.");
    int status;
    if (!aigc_cli_parse(context, "inspect", &argc, &argv, &status))
        return status;
    if (argc != 2)
        return aigc_cli_usage_error("inspect", "expected one FILE, got %d", argc - 1);

    GError *error = NULL;
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(argv[1], &error);
    if (!st) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }

    gsize n = aigc_safetensors_get_n_tensors(st);
    gint64 n_params = 0;
    gsize n_bytes = 0;
    for (gsize i = 0; i < n; i++) {
        const AigcSafetensorsTensor *t = aigc_safetensors_get_tensor(st, i);
        n_params += t->n_elements;
        n_bytes += t->n_bytes;
    }
    g_autofree char *size = g_format_size(n_bytes);
    printf("file: %s\n", argv[1]);
    printf("header: %" G_GSIZE_FORMAT " bytes\n", aigc_safetensors_get_header_size(st));

    const char *const *keys = aigc_safetensors_get_metadata_keys(st);
    printf("metadata: %u %s\n", g_strv_length((GStrv)keys),
           g_strv_length((GStrv)keys) == 1 ? "entry" : "entries");
    for (guint i = 0; keys[i]; i++) {
        const char *value = aigc_safetensors_get_metadata(st, keys[i]);
        /* Long values (configs, vocabularies) are shortened; the file keeps them whole. */
        glong len = g_utf8_strlen(value, -1);
        g_autofree char *shown = len > 200 ? g_utf8_substring(value, 0, 200) : g_strdup(value);
        g_strdelimit(shown, "\n\r\t", ' ');
        printf("  %s: %s%s\n", keys[i], shown, len > 200 ? "…" : "");
    }

    printf("tensors: %" G_GSIZE_FORMAT " (%" G_GINT64_FORMAT " elements, %s)\n", n, n_params,
           size);
    int name_width = 4;
    for (gsize i = 0; i < n; i++)
        name_width = MAX(name_width, (int)g_utf8_strlen(aigc_safetensors_get_tensor(st, i)->name, -1));
    name_width = MIN(name_width, 60);
    if (n > 0)
        printf("  %-*s  %-5s  %-20s  %s\n", name_width, "name", "dtype", "shape", "bytes");
    for (gsize i = 0; i < n; i++) {
        const AigcSafetensorsTensor *t = aigc_safetensors_get_tensor(st, i);
        g_autoptr(GString) shape = g_string_new(NULL);
        print_shape(shape, t);
        printf("  %-*s  %-5s  %-20s  %" G_GSIZE_FORMAT "\n", name_width, t->name,
               aigc_dtype_name(t->dtype), shape->str, t->n_bytes);
    }
    return AIGC_EXIT_OK;
}
