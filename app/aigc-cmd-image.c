/* SPDX-License-Identifier: MIT
 *
 * `aigc image`: generate images with an image model — from a class (or, for a text model such
 * as the emoji one, a prompt), or from an initial image (img2img) and a mask (inpainting) — and
 * write 8-bit PNGs whose `parameters` text chunk makes them reproducible. A batch writes a grid (OUT.png) and the single images (OUT-1.png, …).
 * DCGAN and VAE models also interpolate (--to-seed, --to-class, --to-init: a strip of --batch
 * images from one end to the other), and a VAE reconstructs an image (--init IMG --strength 0).
 */
#include "aigc-cli.h"

#include "image/aigc-image-generate.h"

#include <stdio.h>
#include <string.h>

static int fail_with(GError *error)
{
    int status = aigc_cli_fail(error);
    g_error_free(error);
    return status;
}

static char *class_list(AigcImageModel *model)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < aigc_image_model_get_n_classes(model); i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", aigc_image_model_get_class_name(model, i));
    return g_string_free(s, FALSE);
}

int aigc_cmd_image(int argc, char **argv)
{
    g_autofree char *model_name = NULL, *class_name = NULL, *prompt = NULL, *sampler = NULL;
    g_autofree char *init_path = NULL, *mask_path = NULL, *output = NULL;
    g_autofree char *to_class = NULL, *to_init_path = NULL;
    int steps = 50, batch = 0;
    double guidance = 3.0, eta = 0.0, strength = 0.75;
    gint64 seed = -1, to_seed = -2;
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &model_name, "Model name or file", "NAME"},
        {"class", 'c', 0, G_OPTION_ARG_STRING, &class_name, "The class to draw", "NAME"},
        {"prompt", 'p', 0, G_OPTION_ARG_STRING, &prompt,
         "What to draw (for class models: a class name)", "TEXT"},
        {"steps", 0, 0, G_OPTION_ARG_INT, &steps, "Sampling steps (50)", "N"},
        {"sampler", 0, 0, G_OPTION_ARG_STRING, &sampler, "ddim or ddpm (ddim)", "NAME"},
        {"guidance", 'g', 0, G_OPTION_ARG_DOUBLE, &guidance,
         "Classifier-free guidance scale, 0 … 30 (3)", "G"},
        {"eta", 0, 0, G_OPTION_ARG_DOUBLE, &eta, "DDIM noise, 0 … 1 (0)", "E"},
        {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (−1 = random, reported)", "S"},
        {"batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Images to make, 1 … 64 (1)", "B"},
        {"init", 0, 0, G_OPTION_ARG_FILENAME, &init_path, "Start from this PNG (img2img)", "IMG"},
        {"strength", 0, 0, G_OPTION_ARG_DOUBLE, &strength,
         "With --init: how much to change it, (0, 1] (0.75); a VAE also takes 0, its "
         "reconstruction",
         "F"},
        {"mask", 0, 0, G_OPTION_ARG_FILENAME, &mask_path,
         "With --init: repaint where this PNG is bright (inpainting)", "IMG"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "PNG file to write", "OUT.png"},
        {"to-seed", 0, 0, G_OPTION_ARG_INT64, &to_seed,
         "DCGAN, VAE: interpolate from --seed's latent to this seed's (−1 = random)", "S"},
        {"to-class", 0, 0, G_OPTION_ARG_STRING, &to_class,
         "DCGAN, VAE: interpolate from --class to this class", "NAME"},
        {"to-init", 0, 0, G_OPTION_ARG_FILENAME, &to_init_path,
         "VAE: interpolate from the code of --init (or --seed) to this PNG's", "IMG"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(context,
                                 "Generate images with an image model and write them as PNG "
                                 "with their parameters (see `aigc models` for the models).");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "image", &argc, &argv, &status))
        return status;
    if (argc != 1)
        return aigc_cli_usage_error("image", "unexpected argument “%s”", argv[1]);
    if (!model_name || !output)
        return aigc_cli_usage_error("image", "needs --model NAME and -o OUT.png");
    if (class_name && prompt)
        return aigc_cli_usage_error("image", "give --class or --prompt, not both");
    if (prompt && !*g_strstrip(prompt))
        return aigc_cli_usage_error("image", "the prompt is empty");
    const gboolean interpolate = to_seed != -2 || to_class || to_init_path;
    if (to_seed < -2 || seed < -1)
        return aigc_cli_usage_error("image", "seeds are −1 (random) or not negative");
    if (batch == 0)
        batch = interpolate ? 8 : 1;
    if (interpolate && mask_path)
        return aigc_cli_usage_error("image", "an interpolation takes no --mask");
    AigcImageGenParams p = aigc_image_gen_default_params();
    GError *error = NULL;
    if (sampler && !aigc_sampler_from_name(sampler, &p.sampler, &error)) {
        status = aigc_cli_usage_error("image", "%s", error->message);
        g_error_free(error);
        return status;
    }
    g_autoptr(AigcModelInfo) info = aigc_models_find(model_name, &error);
    if (!info)
        return fail_with(error);
    g_autoptr(AigcImageModel) model = aigc_image_model_load(info->path, &error);
    if (!model)
        return fail_with(error);
    const gboolean text_model = (aigc_image_model_get_caps(model) & AIGC_IMAGE_CAP_PROMPT) != 0;
    if (text_model && !prompt)
        return aigc_cli_usage_error("image", "%s draws from a prompt: give --prompt \"…\"",
                                    aigc_image_model_get_name(model));
    if (text_model && class_name)
        return aigc_cli_usage_error("image", "%s draws from a prompt, not a class: use --prompt",
                                    aigc_image_model_get_name(model));
    if (prompt && !text_model && aigc_image_model_get_n_classes(model) > 0) {
        /* A class model understands its class names only. */
        g_autofree char *classes = class_list(model);
        GError *find_error = NULL;
        AigcImageGenParams probe = aigc_image_gen_default_params();
        probe.class_name = prompt;
        g_autoptr(AigcJob) probe_job = aigc_image_generate_job_new(model, &probe, &find_error);
        if (!probe_job) {
            g_error_free(find_error);
            return aigc_cli_usage_error("image", "%s draws classes, not free text: use --class "
                                        "with one of %s", aigc_image_model_get_name(model),
                                        classes);
        }
    }
    g_autoptr(AigcImage) init = NULL, mask = NULL;
    if (init_path && !(init = aigc_png_read(init_path, NULL, NULL, &error)))
        return fail_with(error);
    if (mask_path) {
        AigcPngReadOptions gray = aigc_png_read_default_options();
        gray.channels = 1;
        memset(gray.background, 0, sizeof gray.background);
        if (!(mask = aigc_png_read(mask_path, &gray, NULL, &error)))
            return fail_with(error);
    }
    p.class_name = text_model ? NULL : class_name ? class_name : prompt;
    p.prompt = text_model ? prompt : NULL;
    p.steps = steps;
    p.guidance = (float)guidance;
    p.eta = (float)eta;
    p.seed = seed;
    p.batch = batch;
    p.init = init;
    p.strength = (float)strength;
    p.mask = mask;
    p.preview_every = 0;
    g_autoptr(AigcImage) to_init = NULL;
    if (to_init_path && !(to_init = aigc_png_read(to_init_path, NULL, NULL, &error)))
        return fail_with(error);
    AigcImageInterpParams ip = aigc_image_interp_default_params();
    ip.class_a = p.class_name;
    ip.class_b = to_class;
    ip.seed_a = seed;
    ip.seed_b = to_seed == -2 ? seed : to_seed;
    ip.image_a = init;
    ip.image_b = to_init;
    ip.n = batch;
    g_autoptr(AigcJob) job = interpolate ? aigc_image_interpolate_job_new(model, &ip, &error)
                                         : aigc_image_generate_job_new(model, &p, &error);
    if (!job) {
        status = aigc_cli_usage_error("image", "%s", error->message);
        g_error_free(error);
        return status;
    }
    status = aigc_cli_run_job(job);
    if (status != AIGC_EXIT_OK)
        return status;
    AigcImageGenResult *r = aigc_job_get_result(job);
    const char *keys[] = {"parameters", "Software", NULL};
    const char *values[] = {r->parameters, "aigc-studio", NULL};
    gboolean ok;
    if (r->n == 1) {
        ok = aigc_png_write(output, r->images[0], keys, values, &error);
    } else {
        ok = aigc_png_write_grid(output, r->images, r->n, interpolate ? r->n : 0, 2, keys, values,
                                 &error);
        g_autofree char *stem = g_str_has_suffix(output, ".png")
                                    ? g_strndup(output, strlen(output) - 4)
                                    : g_strdup(output);
        for (int i = 0; ok && i < r->n; i++) {
            g_autofree char *one = g_strdup_printf("%s-%d.png", stem, i + 1);
            ok = aigc_png_write(one, r->images[i], keys, values, &error);
        }
    }
    if (!ok)
        return fail_with(error);
    fprintf(stderr, "aigc: %d image%s, seed %" G_GUINT64_FORMAT ", %.1f s → %s\n", r->n,
            r->n == 1 ? "" : "s", r->seed, r->seconds, output);
    return AIGC_EXIT_OK;
}
