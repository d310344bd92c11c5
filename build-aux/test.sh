#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's second command: install what is missing, build with -Werror, run every test
# suite of the default run (engine, models, ui, cli). bench and slow are run by hand.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/build-aux/build.sh"
cd "$root"
meson test -C build --print-errorlogs --no-suite bench --no-suite slow --no-suite fuzz "$@"
