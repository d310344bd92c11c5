/* SPDX-License-Identifier: MIT */
#include "aigc-engine.h"

#include "aigc-config.h"

const char *aigc_engine_version(void)
{
    return AIGC_VERSION;
}
