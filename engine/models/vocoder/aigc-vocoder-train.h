/* SPDX-License-Identifier: MIT
 *
 * Training a neural vocoder as an engine job: `aigc train vocoder --model melgan|wavenet`.
 * Random aligned segments of audio and log-mel (aigc-vocoder-data.h) from a speech corpus;
 * progress with the losses, segments per second and the time left; a CSV log; a WAV of a test
 * utterance every sample_every steps; atomic checkpoints; --resume; on cancel the work so far is
 * saved before the job stops. The same seed gives the same model.
 *
 * MelGAN: each step first updates the multi-scale discriminator on real and generated segments
 * (once step ≥ disc_start), then the generator on
 *     stft_weight · (multi-resolution STFT loss + mel_weight · log-mel L1) + adv_weight · LSGAN
 *     loss + fm_weight · feature matching
 * (before disc_start: the STFT loss alone, which teaches the spectral envelope quickly; Parallel
 * WaveGAN and Multi-band MelGAN train this way). Adam for both networks.
 * WaveNet: teacher forcing, cross-entropy over 256 μ-law levels of the pre-emphasised signal
 * (aigc_wavenet_teacher_forcing); the input at each position is the previous level decoded, as
 * generation will feed it.
 */
#pragma once

#include "io/aigc-safetensors.h"
#include "jobs/aigc-job.h"
#include "models/melgan/aigc-melgan.h"
#include "models/wavenet/aigc-wavenet.h"

G_BEGIN_DECLS

typedef struct {
    char *family;       /* "melgan" or "wavenet" */
    char *data_dir;     /* a speech corpus (aigc-vocoder-data.h) */
    char *output;       /* the model file; its checkpoint is OUTPUT.ckpt */
    char *title;        /* (nullable) */
    char *command_line; /* (nullable) recorded in the metadata */
    char *log_csv;      /* (nullable) default OUTPUT.csv */
    char *samples_dir;  /* (nullable) default OUTPUT without .safetensors + ".samples" */
    AigcSpeechFeatures features;
    AigcMelganConfig melgan;
    AigcWavenetConfig wavenet;
    int batch_size; /* segments per step */
    int segment;    /* samples per segment, a multiple of the hop */
    gint64 steps;
    gint64 warmup;      /* linear learning-rate warm-up steps */
    float lr, lr_min;   /* the generator's (WaveNet's) rate: warm-up, then cosine to lr_min */
    float lr_d;         /* MelGAN discriminator (same schedule shape) */
    float beta1, beta2; /* Adam */
    float grad_clip;    /* global norm, each network; 0 = off */
    gint64 disc_start;  /* MelGAN: first step with the discriminator */
    float stft_weight, adv_weight, fm_weight;
    float mel_weight; /* MelGAN: weight of the log-mel L1 (HiFi-GAN's mel loss) in the STFT term */
    gint64 checkpoint_every;
    gint64 sample_every; /* 0 = only at the end */
    guint64 seed;
    int threads; /* compute threads for this job (0 = the engine's) */
    int limit;   /* training utterances used (0 = all) */
    gboolean resume;
    AigcDtype save_dtype;
} AigcVocoderTrainParams;

/* (transfer full) Defaults for "melgan" or "wavenet". */
AigcVocoderTrainParams *aigc_vocoder_train_params_new(const char *family);
void aigc_vocoder_train_params_free(AigcVocoderTrainParams *params);
/* "key=value": batch_size, segment, steps, warmup, lr, lr_min, lr_d, beta1, beta2, grad_clip,
 * disc_start, stft_weight, adv_weight, fm_weight, mel_weight, checkpoint_every, sample_every, seed,
 * threads, limit, dtype, or a model key (aigc_melgan_config_set / aigc_wavenet_config_set). */
gboolean aigc_vocoder_train_params_set(AigcVocoderTrainParams *params, const char *key,
                                       const char *value, GError **error);

typedef struct {
    gint64 steps_done;
    double loss; /* MelGAN: the generator's total; WaveNet: nats per sample */
    double stft; /* MelGAN: the STFT loss (SC + log magnitude); WaveNet: 0 */
    double seconds;
    double seconds_per_step; /* over this session */
    char *last_sample;       /* (nullable) the newest WAV written */
} AigcVocoderTrainResult;

void aigc_vocoder_train_result_free(AigcVocoderTrainResult *r);

/* (transfer full) Takes ownership of params. */
AigcJob *aigc_vocoder_train_job_new(AigcVocoderTrainParams *params);

G_END_DECLS
