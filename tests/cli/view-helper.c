/* SPDX-License-Identifier: MIT
 *
 * A helper of test-view.sh, so the shell test needs no Python and no trained scene:
 *   view-helper scene OUT [small]  writes an untrained NeRF scene (default config, or a small
 *                                  one for quick sanitizer runs) in the woodbox's scene box;
 *   view-helper png FILE           prints "WIDTHxHEIGHT DISTINCT" for a PNG: its size and how
 *                                  many different RGB colours it holds.
 * Exit status 0, or 1 with a message.
 */
#include "aigc-engine.h"
#include "models/nerf/aigc-nerf.h"

#include <stdio.h>
#include <string.h>

static int make_scene(const char *path, gboolean small)
{
    AigcNerfConfig config = aigc_nerf_default_config();
    if (small) {
        config.field.grid.n_levels = 8;
        config.field.grid.log2_table = 12;
        config.field.density_hidden = config.field.colour_hidden = 16;
        config.occupancy_res = 16;
        config.n_steps = 64;
    }
    /* About data/scene/woodbox's box: aabb_scale 1 at instant-ngp's scale 0.33, ±0.5 / 0.33 */
    const float box_min[3] = {-1.515f, -1.515f, -1.515f}, box_max[3] = {1.515f, 1.515f, 1.515f};
    g_autoptr(GError) error = NULL;
    g_autoptr(AigcNerf) nerf = aigc_nerf_new(&config, box_min, box_max, &error);
    if (!nerf) {
        fprintf(stderr, "view-helper: %s\n", error->message);
        return 1;
    }
    aigc_nerf_init_weights(nerf, 1);
    g_autoptr(AigcSafetensorsWriter) writer = aigc_safetensors_writer_new();
    if (!aigc_nerf_save(nerf, writer, &error) ||
        !aigc_safetensors_writer_write(writer, path, NULL, NULL, &error)) {
        fprintf(stderr, "view-helper: %s\n", error->message);
        return 1;
    }
    return 0;
}

static int png_info(const char *path)
{
    g_autoptr(GError) error = NULL;
    AigcPngReadOptions options = aigc_png_read_default_options();
    options.channels = 3;
    g_autoptr(AigcImage) image = aigc_png_read(path, &options, NULL, &error);
    if (!image) {
        fprintf(stderr, "view-helper: %s\n", error->message);
        return 1;
    }
    g_autoptr(GHashTable) colours = g_hash_table_new(NULL, NULL);
    for (gsize i = 0; i < (gsize)image->width * image->height; i++) {
        const guint8 *p = image->data + 3 * i;
        guint rgb = (guint)p[0] << 16 | (guint)p[1] << 8 | p[2];
        g_hash_table_add(colours, GUINT_TO_POINTER(rgb + 1));
    }
    printf("%dx%d %u\n", image->width, image->height, g_hash_table_size(colours));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "scene") == 0)
        return make_scene(argv[2], argc >= 4 && strcmp(argv[3], "small") == 0);
    if (argc == 3 && strcmp(argv[1], "png") == 0)
        return png_info(argv[2]);
    fprintf(stderr, "usage: view-helper scene OUT [small] | view-helper png FILE\n");
    return 1;
}
