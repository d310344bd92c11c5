/* SPDX-License-Identifier: MIT
 *
 * The engine's public face, the only header ui/ and app/ include (DESIGN §3.1, item 7):
 * the engine and its jobs, the error domain, logging, the model registry and catalogue, and the
 * file formats the product reads and writes.
 */
#pragma once

#include "aigc-error.h"
#include "aigc-log.h"
#include "dsp/aigc-phonemes.h"
#include "dsp/aigc-speech-eval.h"
#include "dsp/aigc-speech-features.h"
#include "image/aigc-image-generate.h"
#include "io/aigc-atomic-file.h"
#include "io/aigc-emoji.h"
#include "io/aigc-audio-file.h"
#include "io/aigc-png.h"
#include "io/aigc-safetensors.h"
#include "jobs/aigc-engine-core.h"
#include "jobs/aigc-job.h"
#include "models/aigc-registry.h"
#include "models/classifier/aigc-classifier-train.h"
#include "models/classifier/aigc-image-eval.h"
#include "models/diffusion/aigc-ddpm.h"
#include "models/diffusion/aigc-diffusion-train.h"
#include "models/dcgan/aigc-dcgan-train.h"
#include "models/vae/aigc-vae-train.h"
#include "models/gpt/aigc-llama2c.h"
#include "models/tacotron2/aigc-tacotron2-train.h"
#include "models/vocoder/aigc-vocoder.h"
#include "models/vocoder/aigc-vocoder-train.h"
#include "speech/aigc-speak.h"
#include "text/aigc-text-generate.h"
#include "text/aigc-text-model.h"
#include "text/aigc-text-train.h"
#include "text/aigc-tokenizer.h"
#include "text/aigc-verse.h"
#include "scene/aigc-orbit.h"
#include "scene/aigc-scene.h"
#include "scene/aigc-scene-train.h"

G_BEGIN_DECLS

/* The engine library's version, "MAJOR.MINOR.PATCH". */
const char *aigc_engine_version(void);

G_END_DECLS
