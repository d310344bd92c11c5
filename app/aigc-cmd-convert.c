/* SPDX-License-Identifier: MIT
 *
 * `aigc convert IN -o OUT --dtype f16`: rewrites a weights file with its floating-point tensors
 * stored in another precision (metadata and integer tensors are kept). Runs as an engine job:
 * progress on stderr, Ctrl-C leaves no output file.
 */
#include "aigc-cli.h"

#include <string.h>

typedef struct {
    char *input;
    char *output;
    AigcDtype dtype;
    guint slow_ms; /* AIGC_TEST_SLOW_MS: per-tensor delay, lets tests interrupt a short job */
} ConvertParams;

static void convert_params_free(gpointer data)
{
    ConvertParams *p = data;
    g_free(p->input);
    g_free(p->output);
    g_free(p);
}

typedef struct {
    AigcJob *job;
    guint slow_ms;
} WriteState;

static gboolean on_write_progress(double fraction, gpointer user_data)
{
    WriteState *ws = user_data;
    if (ws->slow_ms)
        g_usleep(ws->slow_ms * 1000);
    aigc_job_report_progress(ws->job, fraction, "writing");
    return !aigc_job_is_cancelled(ws->job);
}

static gboolean run_convert(AigcJob *job, gpointer data, GError **error)
{
    ConvertParams *p = data;
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(p->input, error);
    if (!st)
        return FALSE;
    g_autoptr(AigcSafetensorsWriter) writer = aigc_safetensors_writer_new();
    g_autoptr(GPtrArray) buffers = g_ptr_array_new_with_free_func(g_free);

    const char *const *keys = aigc_safetensors_get_metadata_keys(st);
    for (guint i = 0; keys[i]; i++)
        aigc_safetensors_writer_set_metadata(writer, keys[i],
                                             aigc_safetensors_get_metadata(st, keys[i]));
    gsize n = aigc_safetensors_get_n_tensors(st);
    for (gsize i = 0; i < n; i++) {
        if (aigc_job_is_cancelled(job))
            return FALSE;
        const AigcSafetensorsTensor *t = aigc_safetensors_get_tensor(st, i);
        /* A quantized tensor's scales go with it: written again when q8 is asked for. */
        g_autofree char *scale_name = g_strconcat(t->name, AIGC_Q8_SCALE_SUFFIX, NULL);
        gboolean quantized = t->dtype == AIGC_DTYPE_I8 && aigc_safetensors_find(st, scale_name);
        if (g_str_has_suffix(t->name, AIGC_Q8_SCALE_SUFFIX)) {
            g_autofree char *owner =
                g_strndup(t->name, strlen(t->name) - strlen(AIGC_Q8_SCALE_SUFFIX));
            const AigcSafetensorsTensor *o = aigc_safetensors_find(st, owner);
            if (o && o->dtype == AIGC_DTYPE_I8)
                continue;
        }
        gboolean is_float = t->dtype == AIGC_DTYPE_F32 || t->dtype == AIGC_DTYPE_F16 ||
                            t->dtype == AIGC_DTYPE_BF16 || quantized;
        gboolean ok;
        if (!is_float || (t->dtype == p->dtype && !quantized)) {
            ok = aigc_safetensors_writer_add(writer, t->name, t->dtype, t->n_dims, t->shape,
                                             t->data, error);
        } else {
            const float *src = (const float *)t->data;
            if (t->dtype != AIGC_DTYPE_F32 || ((guintptr)src % sizeof(float)) != 0) {
                float *buf = g_try_malloc(MAX(t->n_elements, 1) * sizeof(float));
                if (!buf) {
                    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FAILED,
                                "%s: not enough memory for tensor “%s”", p->input, t->name);
                    return FALSE;
                }
                g_ptr_array_add(buffers, buf);
                if (!aigc_safetensors_read_f32(st, t, buf, t->n_elements, error))
                    return FALSE;
                src = buf;
            }
            ok = aigc_safetensors_writer_add_f32(writer, t->name, p->dtype, t->n_dims, t->shape,
                                                 src, error);
        }
        if (!ok)
            return FALSE;
        aigc_job_report_progress(job, 0.0, "reading");
    }
    WriteState ws = {job, p->slow_ms};
    return aigc_safetensors_writer_write(writer, p->output, on_write_progress, &ws, error);
}

int aigc_cmd_convert(int argc, char **argv)
{
    g_autofree char *output = NULL;
    g_autofree char *dtype_name = NULL;
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to OUT", "OUT"},
        {"dtype", 0, 0, G_OPTION_ARG_STRING, &dtype_name,
         "f32, f16 (default), bf16, or q8 (8-bit integers with a scale per row)", "TYPE"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("INPUT -o OUT");
    g_option_context_set_summary(context,
                                 "Store a safetensors file's floating-point tensors in another "
                                 "precision; metadata and integer tensors are copied unchanged.");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "convert", &argc, &argv, &status))
        return status;
    if (argc != 2)
        return aigc_cli_usage_error("convert", "expected one INPUT file, got %d", argc - 1);
    if (!output)
        return aigc_cli_usage_error("convert", "missing -o OUT");

    AigcDtype dtype = AIGC_DTYPE_F16;
    if (dtype_name) {
        g_autofree char *upper = g_ascii_strup(dtype_name, -1);
        if (!strcmp(upper, "Q8"))
            dtype = AIGC_DTYPE_I8;
        else if (!aigc_dtype_from_name(upper, &dtype) ||
                 (dtype != AIGC_DTYPE_F32 && dtype != AIGC_DTYPE_F16 && dtype != AIGC_DTYPE_BF16))
            return aigc_cli_usage_error("convert",
                                        "--dtype must be f32, f16, bf16 or q8, not “%s”",
                                        dtype_name);
    }

    ConvertParams *p = g_new0(ConvertParams, 1);
    p->input = g_strdup(argv[1]);
    p->output = g_strdup(output);
    p->dtype = dtype;
    const char *slow = g_getenv("AIGC_TEST_SLOW_MS");
    p->slow_ms = slow ? (guint)g_ascii_strtoull(slow, NULL, 10) : 0;
    g_autoptr(AigcJob) job = aigc_job_new("convert", run_convert, p, convert_params_free);
    return aigc_cli_run_job(job);
}
