#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's first command: install what is missing, build, and open the studio window.
# Without a display (a headless machine) it shows the command line instead.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/build-aux/build.sh"
cd "$root"
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    exec build/app/aigc-studio "$@"
fi
echo
echo "No display here, so instead of the studio window, the command line:"
aigc=build/app/aigc
echo
echo "\$ aigc --version"; $aigc --version
echo
echo "\$ aigc models"; $aigc models
echo
echo "\$ aigc text --model ngram-en --prompt \"A fool and his money\" --max-tokens 200 --seed 42"
$aigc text --model ngram-en --prompt "A fool and his money" --max-tokens 200 --seed 42
