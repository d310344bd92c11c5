/* SPDX-License-Identifier: MIT */
#include "aigc-registry.h"

#include "aigc-config.h"
#include "aigc-error.h"
#include "aigc-log.h"
#include "io/aigc-safetensors.h"

#include <glib/gstdio.h>
#include <string.h>

static GMutex registry_mutex;
static GPtrArray *registry; /* (element const AigcModelClass) */

/* The families built into this engine; each entry exists only once its model code does. */
static const AigcModelClass builtin_classes[] = {
    {"gpt", "GPT (decoder-only transformer)", AIGC_MODALITY_TEXT,
     "A Llama-style transformer language model: RMS norm, rotary positions, SwiGLU."},
    {"lstm", "LSTM language model", AIGC_MODALITY_TEXT,
     "Embedding, stacked LSTM layers and a linear head; no context limit when writing."},
    {"gru", "GRU language model", AIGC_MODALITY_TEXT,
     "Embedding, stacked GRU layers and a linear head; no context limit when writing."},
    {"rnn", "RNN language model (tanh)", AIGC_MODALITY_TEXT,
     "The plain Elman recurrent network: the simplest neural model that remembers."},
    {"ngram", "Character n-gram (Kneser–Ney)", AIGC_MODALITY_TEXT,
     "The counting baseline every neural text model is compared to."},
    {"classifier", "Fashion-MNIST classifier (CNN)", AIGC_MODALITY_IMAGE,
     "A small convolutional network that judges generated images: accuracy and Fréchet "
     "distance.", TRUE},
    {"diffusion", "Diffusion (DDPM/DDIM UNet)", AIGC_MODALITY_IMAGE,
     "A small UNet that turns noise into images step by step, by class, with classifier-free "
     "guidance, img2img and inpainting."},
    {"dcgan", "DCGAN (class-conditional GAN)", AIGC_MODALITY_IMAGE,
     "A convolutional generator trained against a discriminator: one pass from noise to an "
     "image of a class, with latent interpolation."},
    {"vae", "VAE (convolutional, class-conditional)", AIGC_MODALITY_IMAGE,
     "An encoder and a decoder around a small Gaussian latent space: draws by class, "
     "reconstructs a canvas and interpolates between images."},
    {"tacotron2", "Tacotron 2 (text → mel spectrogram)", AIGC_MODALITY_AUDIO,
     "An attention-based sequence-to-sequence voice: phonemes in, a mel spectrogram out, with the "
     "alignment it learnt to read by."},
    {"melgan", "MelGAN vocoder", AIGC_MODALITY_AUDIO,
     "A convolutional GAN generator that turns mel spectrograms into audio many times faster "
     "than real time."},
    {"nerf", "NeRF (hash-grid radiance field)", AIGC_MODALITY_SCENE,
     "A radiance field learnt from photos with known cameras: a multiresolution hash grid and "
     "small networks, rendered by marching rays through an occupancy grid."},
    {"nerf-pe", "NeRF (positional encoding, the original)", AIGC_MODALITY_SCENE,
     "The radiance field of the 2020 NeRF paper: sines and cosines of a point through a plain "
     "MLP, coarse and importance samples along each ray; the slow, classic reference."},
    {"wavenet", "WaveNet vocoder", AIGC_MODALITY_AUDIO,
     "Gated dilated causal convolutions that write audio one μ-law sample at a time from a mel "
     "spectrogram."},
};

/* Called with registry_mutex held. */
static void ensure_builtins_locked(void)
{
    if (registry)
        return;
    registry = g_ptr_array_new();
    for (guint i = 0; i < G_N_ELEMENTS(builtin_classes); i++)
        g_ptr_array_add(registry, (gpointer)&builtin_classes[i]);
}

const char *aigc_modality_name(AigcModality modality)
{
    static const char *names[] = {"text", "image", "audio", "scene"};
    g_return_val_if_fail(modality < AIGC_N_MODALITIES, "?");
    return names[modality];
}

void aigc_registry_register(const AigcModelClass *klass)
{
    g_return_if_fail(klass && klass->name);
    g_mutex_lock(&registry_mutex);
    ensure_builtins_locked();
    for (guint i = 0; i < registry->len; i++) {
        const AigcModelClass *k = registry->pdata[i];
        if (strcmp(k->name, klass->name) == 0) {
            g_mutex_unlock(&registry_mutex);
            aigc_warning("model family “%s” registered twice", klass->name);
            return;
        }
    }
    g_ptr_array_add(registry, (gpointer)klass);
    g_mutex_unlock(&registry_mutex);
}

const AigcModelClass *aigc_registry_find(const char *name)
{
    const AigcModelClass *found = NULL;
    g_mutex_lock(&registry_mutex);
    ensure_builtins_locked();
    for (guint i = 0; i < registry->len && !found; i++) {
        const AigcModelClass *k = registry->pdata[i];
        if (strcmp(k->name, name) == 0)
            found = k;
    }
    g_mutex_unlock(&registry_mutex);
    return found;
}

static int compare_classes(gconstpointer a, gconstpointer b)
{
    const AigcModelClass *x = *(const AigcModelClass *const *)a;
    const AigcModelClass *y = *(const AigcModelClass *const *)b;
    if (x->modality != y->modality)
        return (int)x->modality - (int)y->modality;
    return strcmp(x->name, y->name);
}

GPtrArray *aigc_registry_list(void)
{
    GPtrArray *list = g_ptr_array_new();
    g_mutex_lock(&registry_mutex);
    ensure_builtins_locked();
    for (guint i = 0; i < registry->len; i++)
        g_ptr_array_add(list, registry->pdata[i]);
    g_mutex_unlock(&registry_mutex);
    g_ptr_array_sort(list, compare_classes);
    return list;
}

void aigc_model_info_free(AigcModelInfo *info)
{
    if (!info)
        return;
    g_free(info->name);
    g_free(info->family);
    g_free(info->title);
    g_free(info->path);
    g_free(info);
}

GStrv aigc_models_search_path(void)
{
    GStrvBuilder *b = g_strv_builder_new();
    const char *candidates[4] = {
        g_getenv("AIGC_MODELS_DIR"),
        NULL,
        AIGC_DATADIR "/models",
        AIGC_SOURCE_ASSETS_DIR "/models",
    };
    g_autofree char *user = g_build_filename(g_get_user_data_dir(), "aigc-studio", "models", NULL);
    candidates[1] = user;
    for (guint i = 0; i < G_N_ELEMENTS(candidates); i++)
        if (candidates[i] && *candidates[i] && g_file_test(candidates[i], G_FILE_TEST_IS_DIR))
            g_strv_builder_add(b, candidates[i]);
    GStrv dirs = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    return dirs;
}

static AigcModelInfo *info_from_file(const char *path, GError **error)
{
    g_autoptr(AigcSafetensors) st = aigc_safetensors_open(path, error);
    if (!st)
        return NULL;
    AigcModelInfo *info = g_new0(AigcModelInfo, 1);
    g_autofree char *base = g_path_get_basename(path);
    if (g_str_has_suffix(base, ".safetensors"))
        base[strlen(base) - strlen(".safetensors")] = '\0';
    info->name = g_steal_pointer(&base);
    info->family = g_strdup(aigc_safetensors_get_metadata(st, "family"));
    if (!info->family)
        info->family = g_strdup("unknown");
    info->title = g_strdup(aigc_safetensors_get_metadata(st, "title"));
    info->path = g_strdup(path);
    GStatBuf sb;
    info->size = g_stat(path, &sb) == 0 ? (gint64)sb.st_size : -1;
    return info;
}

static int compare_infos(gconstpointer a, gconstpointer b)
{
    const AigcModelInfo *x = *(const AigcModelInfo *const *)a;
    const AigcModelInfo *y = *(const AigcModelInfo *const *)b;
    return strcmp(x->name, y->name);
}

GPtrArray *aigc_models_list(void)
{
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)aigc_model_info_free);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_auto(GStrv) dirs = aigc_models_search_path();
    for (guint d = 0; dirs[d]; d++) {
        g_autoptr(GDir) dir = g_dir_open(dirs[d], 0, NULL);
        if (!dir)
            continue;
        const char *entry;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        while ((entry = g_dir_read_name(dir)))
            if (g_str_has_suffix(entry, ".safetensors"))
                g_ptr_array_add(names, g_strdup(entry));
        for (guint i = 0; i < names->len; i++) {
            g_autofree char *path = g_build_filename(dirs[d], names->pdata[i], NULL);
            GError *error = NULL;
            AigcModelInfo *info = info_from_file(path, &error);
            if (!info) {
                aigc_warning("skipping model file: %s", error->message);
                g_error_free(error);
                continue;
            }
            if (!g_hash_table_add(seen, g_strdup(info->name))) {
                aigc_model_info_free(info);
                continue;
            }
            g_ptr_array_add(list, info);
        }
    }
    g_ptr_array_sort(list, compare_infos);
    return list;
}

AigcModelInfo *aigc_models_find(const char *name_or_path, GError **error)
{
    if (strchr(name_or_path, '/') || g_str_has_suffix(name_or_path, ".safetensors"))
        return info_from_file(name_or_path, error);
    g_auto(GStrv) dirs = aigc_models_search_path();
    g_autofree char *file = g_strconcat(name_or_path, ".safetensors", NULL);
    for (guint d = 0; dirs[d]; d++) {
        g_autofree char *path = g_build_filename(dirs[d], file, NULL);
        if (g_file_test(path, G_FILE_TEST_EXISTS))
            return info_from_file(path, error);
    }
    g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_NOT_FOUND,
                "no model named “%s”", name_or_path);
    return NULL;
}
