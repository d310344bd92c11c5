/* SPDX-License-Identifier: MIT
 *
 * libFuzzer target for the safetensors loader: any bytes must give either a valid file whose
 * every tensor can be read, or a GError — never a crash, hang or leak.
 */
#include "aigc-engine.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GBytes *bytes = g_bytes_new_static(data, size);
    GError *error = NULL;
    AigcSafetensors *st = aigc_safetensors_new_from_bytes(bytes, "fuzz", &error);
    if (st) {
        for (gsize i = 0; i < aigc_safetensors_get_n_tensors(st); i++) {
            const AigcSafetensorsTensor *t = aigc_safetensors_get_tensor(st, i);
            g_assert(t->data + t->n_bytes <= data + size);
            if (t->n_elements <= 1 << 16) {
                float *buf = g_new(float, t->n_elements + 1);
                aigc_safetensors_read_f32(st, t, buf, t->n_elements, NULL);
                g_free(buf);
            }
        }
        aigc_safetensors_free(st);
    } else {
        g_assert(error != NULL);
        g_error_free(error);
    }
    g_bytes_unref(bytes);
    return 0;
}
