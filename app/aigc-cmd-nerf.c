/* SPDX-License-Identifier: MIT
 *
 * `aigc nerf train DATASET -o SCENE`, `aigc nerf render SCENE (--orbit N|--pose FILE) -o DIR`
 * and `aigc eval nerf SCENE DATASET`: radiance fields from the command line (engine/scene).
 */
#include "aigc-cli.h"

#include <stdio.h>
#include <string.h>

static char *command_line_of(const char *prefix, int argc, char **argv)
{
    GString *cl = g_string_new(prefix);
    for (int i = 1; i < argc; i++) {
        g_autofree char *q = g_shell_quote(argv[i]);
        g_string_append_printf(cl, " %s", q);
    }
    return g_string_free(cl, FALSE);
}

/* A scene by file path or by name in the model folders. */
static AigcScene *open_scene(const char *name, GError **error)
{
    g_autoptr(AigcModelInfo) info = aigc_models_find(name, error);
    if (!info)
        return NULL;
    return aigc_scene_open(info->path, error);
}

static int nerf_train(int argc, char **argv)
{
    g_autofree char *output = NULL, *title = NULL;
    g_auto(GStrv) sets = NULL;
    gint64 steps = 0;
    gboolean resume = FALSE;
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Scene file to write", "SCENE"},
        {"steps", 0, 0, G_OPTION_ARG_INT64, &steps, "Optimisation steps (default 2500)", "N"},
        {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
         "key=value: model (hashgrid|pe), steps, eval_every, val_views, preview_every, "
         "checkpoint_every, seed, background (white|black); hash grid: lr_grid, lr_mlp, "
         "samples_per_step, levels, features, log2_table, base_res, finest_res, density_hidden, "
         "colour_hidden, occupancy_res, n_steps, dtype (f16|f32); model=pe (the original "
         "positional-encoding NeRF): depth, width, skip, colour_width, pos_freqs, dir_freqs, "
         "density (softplus|relu), n_coarse, n_fine, rays_per_step, lr, lr_final, decay_steps, "
         "coarse_weight",
         "KEY=VALUE"},
        {"resume", 0, 0, G_OPTION_ARG_NONE, &resume, "Continue from SCENE.ckpt", NULL},
        {"title", 0, 0, G_OPTION_ARG_STRING, &title, "A title shown in model lists", "TEXT"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("DATASET");
    g_option_context_set_summary(
        context, "Train a radiance field on a dataset folder in the Blender / instant-ngp layout "
                 "(transforms_train.json, transforms_val.json and their images). Progress shows "
                 "the training PSNR; the validation PSNR over every validation view is measured "
                 "every eval_every steps and logged to SCENE.csv; SCENE.ckpt lets --resume "
                 "continue; Ctrl-C saves and stops.");
    g_option_context_add_main_entries(context, entries, NULL);
    g_autofree char *command_line = command_line_of("aigc nerf train", argc, argv);
    int status;
    if (!aigc_cli_parse(context, "nerf train", &argc, &argv, &status))
        return status;
    if (argc != 2 || !output)
        return aigc_cli_usage_error("nerf train", "needs one DATASET folder and -o SCENE");
    if (!g_file_test(argv[1], G_FILE_TEST_EXISTS))
        return aigc_cli_usage_error("nerf train", "“%s” does not exist", argv[1]);
    AigcSceneTrainParams *p = aigc_scene_train_params_new();
    p->dataset = g_strdup(argv[1]);
    p->output = g_strdup(output);
    p->title = g_strdup(title);
    p->resume = resume;
    p->command_line = g_steal_pointer(&command_line);
    status =
        aigc_cli_apply_sets("nerf train", sets, (AigcCliSetFunc)aigc_scene_train_params_set, p);
    if (status != 0) {
        aigc_scene_train_params_free(p);
        return status;
    }
    if (steps < 0) {
        aigc_scene_train_params_free(p);
        return aigc_cli_usage_error("nerf train", "--steps must be positive");
    }
    if (steps > 0)
        p->steps = steps;
    g_autoptr(AigcJob) job = aigc_scene_train_job_new(p);
    status = aigc_cli_run_job(job);
    const AigcSceneTrainResult *r = aigc_job_get_result(job);
    if (r) {
        printf("steps: %" G_GINT64_FORMAT "\ntrain_seconds: %.1f\n", r->steps_done,
               r->train_seconds);
        if (r->time_to_25db >= 0)
            printf("time_to_25db: %.1f\n", r->time_to_25db);
        if (r->val_psnr == r->val_psnr)
            printf("val_psnr: %.2f\n", r->val_psnr);
        printf("scene: %s\n", output);
    }
    return status;
}

static gboolean parse_size(const char *text, int *w, int *h)
{
    char *end;
    gint64 a = g_ascii_strtoll(text, &end, 10);
    if (end == text || (*end != 'x' && *end != 'X'))
        return FALSE;
    const char *p = end + 1;
    gint64 b = g_ascii_strtoll(p, &end, 10);
    if (end == p || *end)
        return FALSE;
    if (a < 1 || b < 1 || a > AIGC_SCENE_MAX_SIDE || b > AIGC_SCENE_MAX_SIDE)
        return FALSE;
    *w = (int)a, *h = (int)b;
    return TRUE;
}

static int nerf_render(int argc, char **argv)
{
    g_autofree char *output = NULL, *pose = NULL, *size = NULL;
    int orbit = 0;
    gboolean depth = FALSE;
    GOptionEntry entries[] = {
        {"orbit", 0, 0, G_OPTION_ARG_INT, &orbit, "N views on a circle around the scene", "N"},
        {"pose", 0, 0, G_OPTION_ARG_FILENAME, &pose,
         "Views from a transforms*.json or a file of 4×4 camera-to-world matrices", "FILE"},
        {"size", 0, 0, G_OPTION_ARG_STRING, &size, "Image size (default 200x200)", "WxH"},
        {"depth", 0, 0, G_OPTION_ARG_NONE, &depth, "Also write depth maps (depth-NNNN.png)", NULL},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Folder for view-NNNN.png", "DIR"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("SCENE");
    g_option_context_set_summary(context,
                                 "Render views of a trained scene (a file or a model name) as "
                                 "PNG frames: a turntable with --orbit, or given camera poses.");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "nerf render", &argc, &argv, &status))
        return status;
    if (argc != 2 || !output)
        return aigc_cli_usage_error("nerf render", "needs one SCENE and -o DIR");
    if ((orbit > 0) == (pose != NULL))
        return aigc_cli_usage_error("nerf render",
                                    "needs exactly one of --orbit N and --pose FILE");
    if (orbit < 0 || orbit > AIGC_SCENE_MAX_VIEWS)
        return aigc_cli_usage_error("nerf render", "--orbit takes 1 to %d views",
                                    AIGC_SCENE_MAX_VIEWS);
    int w = 0, h = 0;
    if (size && !parse_size(size, &w, &h))
        return aigc_cli_usage_error("nerf render",
                                    "--size takes WIDTHxHEIGHT, each 1 to %d, not “%s”",
                                    AIGC_SCENE_MAX_SIDE, size);
    GError *error = NULL;
    g_autoptr(AigcScene) scene = open_scene(argv[1], &error);
    if (!scene) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    AigcSceneRenderParams *p = aigc_scene_render_params_new(scene);
    p->output_dir = g_strdup(output);
    p->depth = depth;
    if (orbit > 0) {
        aigc_scene_poses_orbit(&p->poses, &scene->view, orbit, w ? w : 200, h ? h : 200);
    } else if (!aigc_scene_poses_load(&p->poses, pose, &scene->view, w, h, &error)) {
        aigc_scene_render_params_free(p);
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    g_autoptr(AigcJob) job = aigc_scene_render_job_new(p);
    status = aigc_cli_run_job(job);
    const AigcSceneRenderResult *r = aigc_job_get_result(job);
    if (r && r->n_views > 0) {
        printf("views: %d\nseconds: %.2f\nframes_per_second: %.2f\nfolder: %s\n", r->n_views,
               r->seconds, r->n_views / MAX(r->seconds, 1e-9), output);
    }
    return status;
}

int aigc_cmd_nerf(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "train") == 0)
        return nerf_train(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "render") == 0)
        return nerf_render(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: aigc nerf ACTION [OPTION…]\n\nRadiance fields.\n\nActions:\n"
               "  train   train a scene on a dataset folder\n"
               "  render  render views of a trained scene as PNG frames\n");
        return AIGC_EXIT_OK;
    }
    return aigc_cli_usage_error("nerf", "expected an action: train or render");
}

int aigc_cmd_eval_nerf(int argc, char **argv)
{
    int limit = 0;
    GOptionEntry entries[] = {
        {"limit", 0, 0, G_OPTION_ARG_INT, &limit, "Only the first N views (quick checks)", "N"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("SCENE DATASET");
    g_option_context_set_summary(context,
                                 "The PSNR of a trained scene on the test views of a dataset "
                                 "folder (transforms_test.json; transforms.json if there is "
                                 "none), each rendered at full size and composited on the "
                                 "scene's background; `psnr: X` (dB) is the last line.");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "eval nerf", &argc, &argv, &status))
        return status;
    if (argc != 3)
        return aigc_cli_usage_error("eval nerf", "needs a SCENE and a DATASET folder");
    if (limit < 0)
        return aigc_cli_usage_error("eval nerf", "--limit must be positive");
    GError *error = NULL;
    g_autoptr(AigcScene) scene = open_scene(argv[1], &error);
    g_autofree char *json = scene ? (g_file_test(argv[2], G_FILE_TEST_IS_DIR)
                                         ? aigc_transforms_find_split(argv[2], "test", &error)
                                         : g_strdup(argv[2]))
                                  : NULL;
    AigcTransformsOptions opt = aigc_transforms_default_options();
    if (scene)
        memcpy(opt.background, scene->background, sizeof opt.background);
    g_autoptr(AigcTransforms) test = json ? aigc_transforms_load(json, &opt, &error) : NULL;
    if (!test) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    if (test->n_frames == 0) {
        fprintf(stderr, "aigc: %s: no frames to evaluate\n", json);
        return AIGC_EXIT_FAILURE;
    }
    AigcTransforms subset = *test;
    if (limit > 0)
        subset.n_frames = MIN(limit, subset.n_frames);
    gint64 t0 = g_get_monotonic_time();
    double mse;
    double psnr = aigc_scene_eval_psnr(scene, &subset, &mse);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    printf("views: %d\nsize: %dx%d\nmse: %.6f\nseconds: %.1f\npsnr: %.2f\n", subset.n_frames,
           test->camera.width, test->camera.height, mse, secs, psnr);
    return AIGC_EXIT_OK;
}
