#!/bin/sh
# SPDX-License-Identifier: MIT
# `aigc-view` without a display (SDL's dummy video driver): it renders frames of an untrained
# scene and saves the last one as a PNG of the asked size; a missing, a malformed, a truncated
# and a non-scene file each end it with status 1 and one line naming the file; bad options with
# status 2.
# Usage: test-view.sh AIGC_VIEW VIEW_HELPER CORPUS_DIR
set -u
view=$1
helper=$2
corpus=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SDL_VIDEODRIVER=dummy
export SDL_VIDEODRIVER
n_fail=0
n_pass=0

pass() { n_pass=$((n_pass + 1)); }
fail() { echo "FAIL: $*"; n_fail=$((n_fail + 1)); }
expect_rc() { # expected-rc description command...
    want=$1; what=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq "$want" ]; then pass; else fail "$what: exit $rc, wanted $want"; cat "$tmp/err"; fi
}
# The error is one line on stderr that names the file.
expect_one_line_naming() { # description file
    lines=$(wc -l <"$tmp/err")
    [ "$lines" -eq 1 ] && pass || fail "$1: $lines lines on stderr: $(cat "$tmp/err")"
    grep -qF "$2" "$tmp/err" && pass || fail "$1: the message does not name $2: $(cat "$tmp/err")"
}

expect_rc 0 "--help" "$view" --help
grep -q "Usage" "$tmp/out" && grep -q -- "--frames" "$tmp/out" && pass || fail "--help prints usage"
expect_rc 0 "--version" "$view" --version
grep -qE '^aigc-view [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" && pass || fail "--version: $(cat "$tmp/out")"

# Usage errors, before any file is read.
expect_rc 2 "no scene" "$view"
expect_rc 2 "two scenes" "$view" a b
expect_rc 2 "unknown option" "$view" --bogus x
expect_rc 2 "--size without a height" "$view" --size 64 x
expect_rc 2 "--size zero" "$view" --size 0x64 x
expect_rc 2 "--size huge" "$view" --size 64x100000 x
expect_rc 2 "--fov zero" "$view" --fov 0 x
expect_rc 2 "--up w" "$view" --up w x
expect_rc 2 "--frames negative" "$view" --frames -1 x

# Files that are not scenes.
expect_rc 1 "missing scene" "$view" --frames 1 "$tmp/missing.safetensors"
expect_one_line_naming "missing scene" "$tmp/missing.safetensors"
expect_rc 1 "malformed file" "$view" --frames 1 "$corpus/bad-pickle.safetensors"
expect_one_line_naming "malformed file" "$corpus/bad-pickle.safetensors"
expect_rc 1 "weights that are not a scene" "$view" --frames 1 "$corpus/good-small.safetensors"
expect_one_line_naming "weights that are not a scene" "$corpus/good-small.safetensors"
grep -q "not a NeRF scene" "$tmp/err" && pass || fail "not a scene: $(cat "$tmp/err")"

# An untrained scene, made by the helper.
expect_rc 0 "make a scene" "$helper" scene "$tmp/scene.safetensors" small
size=$(wc -c <"$tmp/scene.safetensors")
head -c $((size / 2)) "$tmp/scene.safetensors" >"$tmp/half.safetensors"
expect_rc 1 "truncated scene" "$view" --frames 1 "$tmp/half.safetensors"
expect_one_line_naming "truncated scene" "$tmp/half.safetensors"

# Three frames, headless, the last saved: a PNG of the asked size that is not one flat colour.
expect_rc 0 "three frames" "$view" "$tmp/scene.safetensors" --size 40x30 --frames 3 \
    --screenshot "$tmp/shot.png"
grep -qE '^aigc-view: 3 frames of 40×30 in [0-9.]+ s: [0-9.]+ frames/s$' "$tmp/out" && pass ||
    fail "frame rate line: $(cat "$tmp/out")"
[ -f "$tmp/shot.png" ] && pass || fail "no screenshot written"
"$helper" png "$tmp/shot.png" >"$tmp/png" 2>&1
read -r dims n_colours <"$tmp/png"
[ "$dims" = "40x30" ] && pass || fail "screenshot size: $(cat "$tmp/png")"
[ "${n_colours:-0}" -gt 1 ] && pass || fail "screenshot is one flat colour: $(cat "$tmp/png")"
ls "$tmp" | grep -q '\.tmp' && fail "temporary file left: $(ls "$tmp")" || pass

# A screenshot that cannot be written: status 1, the path named, no crash.
expect_rc 1 "screenshot into a missing folder" "$view" "$tmp/scene.safetensors" --size 8x8 \
    --frames 1 --screenshot "$tmp/no/such/dir/shot.png"
grep -qF "$tmp/no/such/dir/shot.png" "$tmp/err" && pass ||
    fail "unwritable screenshot not named: $(cat "$tmp/err")"

echo "test-view: $n_pass passed, $n_fail failed"
[ $n_fail -eq 0 ]
