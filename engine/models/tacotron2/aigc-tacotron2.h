/* SPDX-License-Identifier: MIT
 *
 * Tacotron 2 (Shen et al. 2018): phoneme ids → log-mel spectrogram, the Speak workshop's voice.
 *
 *   embedding → n × (conv1d k5 → batch norm → ReLU → dropout) → BiLSTM          = the memory
 *   prenet (2 × linear → ReLU → dropout, dropout ON at inference too, as in the paper)
 *   → attention LSTM → location-sensitive attention → decoder LSTM   (aigc-tacotron2-decoder.h)
 *   → linear projection to r frames of n_mels, and a stop-token logit per step
 *   → post-net (n × conv1d k5 → batch norm → tanh (none on the last) → dropout), residual
 *
 * r frames come out of each decoder step (the reduction factor); the decoder reads the last frame
 * of the previous step through the prenet (a zero "go" frame first). Features are the shared
 * speech features (aigc-speech-features.h): the model file records them ("speech.features") and
 * its phoneme vocabulary ("speech.phoneme_vocab"), so text is encoded exactly as in training.
 *
 * Training losses: MSE of the decoder's and of the post-net's mel against the target on the
 * real frames, binary cross entropy of the stop token (positive weight, the target is 1 from the
 * step holding the last frame on), and the guided-attention loss of Tachibana et al. 2018 (a
 * penalty on attention far from the diagonal, so alignment is learnt within a few hundred steps;
 * here summed over the symbols and averaged over the decoder steps, so it lies in [0, 1)).
 *
 * Inference cannot babble past the end: the attention is confined to a window around the
 * previous peak (monotonic), the stop token ends it, so does the attention resting on the final
 * symbol, and a cap proportional to the input length is never passed.
 *
 * Weight names follow NVIDIA's PyTorch tacotron2 ("encoder.convolutions.0.conv.weight",
 * "decoder.attention_rnn.weight_ih", "postnet.convolutions.4.bn.running_var", …).
 * Model file metadata: "family" = "tacotron2", "tacotron2.config", "speech.features",
 * "speech.phoneme_vocab" (JSON each).
 */
#pragma once

#include "dsp/aigc-phoneme-vocab.h"
#include "dsp/aigc-speech-features.h"
#include "io/aigc-safetensors.h"
#include "jobs/aigc-job.h"
#include "models/tacotron2/aigc-tacotron2-decoder.h"
#include "tensor/aigc-params.h"

G_BEGIN_DECLS

#define AIGC_TACOTRON2_FAMILY "tacotron2"

typedef struct {
    int n_symbols;         /* V: the phoneme vocabulary's size */
    int embed_dim;         /* symbol embedding (256) */
    int encoder_dim;       /* E: conv channels and BiLSTM output, 2 × E/2 (256) */
    int encoder_n_convs;   /* (3) */
    int encoder_kernel;    /* odd (5) */
    int n_mels;            /* M (80, = the features') */
    int r;                 /* frames per decoder step (3) */
    int prenet_dim;        /* P (256) */
    int attention_rnn_dim; /* Ha (512) */
    int decoder_rnn_dim;   /* Hd (512) */
    int attention_dim;     /* A (128) */
    int location_filters;  /* F (32) */
    int location_kernel;   /* odd (31) */
    int postnet_dim;       /* (256) */
    int postnet_n_convs;   /* (5) */
    int postnet_kernel;    /* odd (5) */
    float p_prenet;        /* (0.5), also at inference */
    float p_encoder;       /* (0.5) */
    float p_attention;     /* dropout of the attention LSTM state (0.1) */
    float p_decoder;       /* dropout of the decoder LSTM state (0.1) */
    float p_postnet;       /* (0.5) */
} AigcTacotron2Config;

AigcTacotron2Config aigc_tacotron2_default_config(void);
/* FALSE + AIGC_ENGINE_ERROR_INVALID naming the field when a number is out of range. */
gboolean aigc_tacotron2_config_validate(const AigcTacotron2Config *config, GError **error);
/* Sets a field from "key=value" text (the field names above); FALSE + error for unknown keys or
 * bad numbers. */
gboolean aigc_tacotron2_config_set(AigcTacotron2Config *config, const char *key, const char *value,
                                   GError **error);
/* (transfer full) */
char *aigc_tacotron2_config_to_json(const AigcTacotron2Config *config);
/* Every field must be present; the result is validated. */
gboolean aigc_tacotron2_config_from_json(AigcTacotron2Config *config, const char *json,
                                         GError **error);

typedef struct _AigcTacotron2 AigcTacotron2;

/* (transfer full) (nullable) A zero model; config->n_symbols must equal the vocabulary's size
 * and config->n_mels the features'. The vocabulary is copied. */
AigcTacotron2 *aigc_tacotron2_new(const AigcTacotron2Config *config,
                                  const AigcSpeechFeatures *features, AigcPhonemeVocab *vocab,
                                  GError **error);
void aigc_tacotron2_free(AigcTacotron2 *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcTacotron2, aigc_tacotron2_free)
/* Xavier-uniform linear and conv weights, PyTorch's ±1/√H for the LSTMs, batch norms 1 / 0
 * with running statistics 0 / 1. */
void aigc_tacotron2_init_weights(AigcTacotron2 *m, AigcRng *rng);
const AigcTacotron2Config *aigc_tacotron2_get_config(AigcTacotron2 *m);
const AigcSpeechFeatures *aigc_tacotron2_get_features(AigcTacotron2 *m);
/* (transfer none) */
AigcPhonemeVocab *aigc_tacotron2_get_vocab(AigcTacotron2 *m);
/* (transfer none) */
AigcParams *aigc_tacotron2_get_params(AigcTacotron2 *m);
/* The batch norms' running statistics (not trained by the optimiser), one flat block. */
float *aigc_tacotron2_get_bn_stats(AigcTacotron2 *m, gint64 *n);

/* ---- training (on the tape) ---- */

/* A padded batch. Decoder steps T = f_max / r. */
typedef struct {
    int B;
    int n_max;              /* N: symbols of the longest input */
    int f_max;              /* frames of the longest target, a multiple of r */
    const gint32 *ids;      /* [B, N], padded with the vocabulary's pad id */
    const gint32 *n_ids;    /* [B] each in [1, N] */
    const float *mels;      /* [B, f_max, M] log-mel targets, padding = the features' log floor */
    const gint32 *n_frames; /* [B] each in [1, f_max] */
} AigcTacotron2Batch;

typedef struct {
    float stop_pos_weight; /* weight of the (rare) stop = 1 targets (8) */
    float guided_weight;   /* 0 = off (1) */
    float guided_sigma;    /* width of the diagonal band, in fractions of the lengths (0.2) */
} AigcTacotron2LossParams;

AigcTacotron2LossParams aigc_tacotron2_default_loss_params(void);

typedef struct {
    AigcTensor *loss;        /* [1] mel + post + stop + guided_weight · guided */
    AigcTensor *mel_loss;    /* [1] MSE of the decoder's frames */
    AigcTensor *post_loss;   /* [1] MSE after the post-net */
    AigcTensor *stop_loss;   /* [1] weighted BCE of the stop logits */
    AigcTensor *guided_loss; /* [1] guided attention (unweighted); NULL when off */
    AigcTensor *mel;         /* [B, f_max, M] */
    AigcTensor *mel_post;    /* [B, f_max, M] */
    AigcTensor *stop;        /* [B, T] logits */
    AigcTensor *align;       /* [B, T, N] */
} AigcTacotron2Output;

/* Teacher-forced forward of a batch with its losses. Dropout and batch norm follow the context's
 * training mode, except the prenet's dropout, which is always on. The batch must be valid (ids
 * inside the vocabulary, lengths in range): a programmer error otherwise. */
void aigc_tacotron2_forward(AigcCtx *ctx, AigcTacotron2 *m, const AigcTacotron2Batch *batch,
                            const AigcTacotron2LossParams *loss_params, AigcTacotron2Output *out);

/* ---- inference ---- */

typedef enum {
    AIGC_TACOTRON2_STOP_TOKEN, /* the stop token passed its threshold */
    AIGC_TACOTRON2_STOP_END,   /* the attention rested on the last symbol long enough */
    AIGC_TACOTRON2_STOP_CAP,   /* the length cap */
} AigcTacotron2StopReason;

typedef struct {
    guint64 seed;                /* the prenet's dropout draws (1) */
    float stop_threshold;        /* sigmoid(stop logit) above this ends (0.5) */
    float max_frames_per_symbol; /* cap: frames ≤ this × symbols (10, ≈ 0.16 s a symbol) */
    int max_frames;              /* absolute cap (2000 = 32 s at 62.5 frames/s) */
    int min_frames;              /* the stop token is ignored before this (0) */
    int window_back;             /* attention window: [peak − back, peak + forward] (1) */
    int window_forward;          /* (3); back = forward = 0 turns the window off */
    int end_steps;               /* steps the attention may rest on the last symbol (8; 0 = off) */
} AigcTacotron2SynthParams;

AigcTacotron2SynthParams aigc_tacotron2_default_synth_params(void);

typedef struct {
    float *mel; /* [n_frames, M] after the post-net, natural-log mel */
    gint64 n_frames;
    float *alignment; /* [n_steps, n_symbols] attention weights per decoder step */
    int n_steps;
    int n_symbols;
    gint32 *ids; /* [n_symbols] the input (BOS … EOS) */
    AigcTacotron2StopReason stop_reason;
    double seconds; /* compute time */
} AigcTacotron2Synthesis;

void aigc_tacotron2_synthesis_free(AigcTacotron2Synthesis *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AigcTacotron2Synthesis, aigc_tacotron2_synthesis_free)

/* (transfer full) (nullable) The mel of ids [n_ids] (1 ≤ n_ids ≤ 10,000, each inside the
 * vocabulary, else AIGC_ENGINE_ERROR_INVALID). `params` nullable: defaults. `job` (nullable) is
 * polled before every decoder step: cancelled → NULL + AIGC_ENGINE_ERROR_CANCELLED. Callable from
 * one thread at a time per model. */
AigcTacotron2Synthesis *aigc_tacotron2_synthesize_ids(AigcTacotron2 *m, const gint32 *ids,
                                                      int n_ids,
                                                      const AigcTacotron2SynthParams *params,
                                                      AigcJob *job, GError **error);
/* (transfer full) (nullable) Text → normalised → phonemes (the vocabulary's espeak-ng voice) →
 * ids framed by BOS/EOS → aigc_tacotron2_synthesize_ids. Text with nothing to say fails with
 * AIGC_ENGINE_ERROR_INVALID. */
AigcTacotron2Synthesis *aigc_tacotron2_synthesize_text(AigcTacotron2 *m, const char *text,
                                                       const AigcTacotron2SynthParams *params,
                                                       AigcJob *job, GError **error);
/* (transfer full) The ids of a text as the model reads them (BOS … EOS); NULL + error when the
 * phonemiser fails or nothing is left. */
gint32 *aigc_tacotron2_encode_text(AigcTacotron2 *m, const char *text, int *n_ids, GError **error);

/* ---- files ---- */

/* Adds weights (as dtype; running statistics always F32) and the metadata above. */
gboolean aigc_tacotron2_save(AigcTacotron2 *m, AigcSafetensorsWriter *writer, AigcDtype dtype,
                             GError **error);
/* (transfer full) (nullable) Family, config, features and vocabulary checked; every tensor
 * present with its shape and finite; variances positive. */
AigcTacotron2 *aigc_tacotron2_load(AigcSafetensors *st, GError **error);
AigcTacotron2 *aigc_tacotron2_load_file(const char *path, GError **error);

G_END_DECLS
