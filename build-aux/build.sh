#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs missing Debian packages, then configures (once) and builds into ./build.
# Warnings are errors: the tree is kept warning-free.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
./build-aux/setup.sh
if [ -f build/build.ninja ]; then
    meson configure build -Dwerror=true >/dev/null
else
    meson setup build -Dwerror=true
fi
meson compile -C build
