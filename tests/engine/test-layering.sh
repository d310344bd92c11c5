#!/bin/sh
# SPDX-License-Identifier: MIT
# The engine is headless (STYLE rule 1): no file under engine/ may include GTK, GDK, Cairo,
# PortAudio or SDL headers, and engine/meson.build may not depend on them.
# Usage: test-layering.sh SOURCE_ROOT
set -u
root=$1
status=0
hits=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](gtk/|gdk/|gsk/|cairo|portaudio|SDL|adwaita)' \
    "$root/engine" --include='*.c' --include='*.h' || true)
if [ -n "$hits" ]; then
    echo "engine/ includes a GUI or audio header:"
    echo "$hits"
    status=1
fi
deps=$(grep -nE "dependency\('(gtk4|cairo|portaudio-2.0|sdl2|libadwaita-1)'" "$root"/engine/meson.build \
    "$root"/engine/*/meson.build 2>/dev/null || true)
if [ -n "$deps" ]; then
    echo "engine/ meson files depend on a GUI or audio library:"
    echo "$deps"
    status=1
fi
# ui/ talks to the engine only through its public header.
uihits=$(grep -rnE '#[[:space:]]*include[[:space:]]*"(tensor|nn|optim|models|dsp|io|jobs|text|image|speech|scene)/' \
    "$root/ui" --include='*.c' --include='*.h' 2>/dev/null || true)
if [ -n "$uihits" ]; then
    echo "ui/ includes engine internals (use aigc-engine.h):"
    echo "$uihits"
    status=1
fi
[ $status -eq 0 ] && echo "layering ok"
exit $status
