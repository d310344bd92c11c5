/* SPDX-License-Identifier: MIT */
#include "bench-common.h"

#include "aigc-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof(double), compare_doubles);
    return n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
}

double bench_peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

double bench_run_torch_peer(const char *script, const char *const *extra_args, const char *key)
{
    if (!g_file_test("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE) ||
        g_getenv("AIGC_BENCH_NO_PEER")) /* profiling ours alone */
        return -1;
    g_autofree char *path = g_build_filename(AIGC_SOURCE_DIR, "tests", "bench", script, NULL);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "/usr/bin/python3");
    g_ptr_array_add(argv, path);
    for (int i = 0; extra_args && extra_args[i]; i++)
        g_ptr_array_add(argv, (gpointer)extra_args[i]);
    g_ptr_array_add(argv, NULL);
    g_auto(GStrv) env = g_get_environ();
    env = g_environ_setenv(env, "OPENBLAS_NUM_THREADS", "2", TRUE);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = 0;
    gboolean ok = g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               &err, &status, NULL);
    g_ptr_array_free(argv, TRUE);
    if (!ok || !g_spawn_check_wait_status(status, NULL)) {
        fprintf(stderr, "the PyTorch peer %s did not run: %s\n", script, err ? err : "");
        return -1;
    }
    g_strstrip(out);
    const char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    g_autofree char *prefix = g_strdup_printf("%s: ", key);
    if (!g_str_has_prefix(last, prefix))
        return -1;
    printf("%s", out);
    printf("\n");
    return g_ascii_strtod(last + strlen(prefix), NULL);
}
