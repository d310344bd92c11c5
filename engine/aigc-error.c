/* SPDX-License-Identifier: MIT */
#include "aigc-error.h"

G_DEFINE_QUARK(aigc-engine-error-quark, aigc_engine_error)
