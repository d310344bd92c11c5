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
#include "dsp/aigc-speech-features.h"
#include "io/aigc-atomic-file.h"
#include "io/aigc-audio-file.h"
#include "io/aigc-safetensors.h"
#include "jobs/aigc-engine-core.h"
#include "jobs/aigc-job.h"
#include "models/aigc-registry.h"
#include "models/gpt/aigc-llama2c.h"
#include "text/aigc-text-generate.h"
#include "text/aigc-text-model.h"
#include "text/aigc-text-train.h"
#include "text/aigc-tokenizer.h"
#include "text/aigc-verse.h"

G_BEGIN_DECLS

/* The engine library's version, "MAJOR.MINOR.PATCH". */
const char *aigc_engine_version(void);

G_END_DECLS
