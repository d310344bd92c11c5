#!/bin/sh
# SPDX-License-Identifier: MIT
# Takes a screenshot of every page of the studio (and of the preferences and shortcuts windows)
# into BUILD/screenshots/, in English and in Chinese, with a few gallery items to show.
# Usage: tests/ui/screenshots.sh [BUILD_DIR]   (runs itself under Xvfb when there is no display)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
if [ -z "${DISPLAY:-}" ]; then
    exec xvfb-run -a -s "-screen 0 1280x820x24" dbus-run-session -- "$0" "$build"
fi
out="$build/screenshots"
mkdir -p "$out"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

# A small gallery: two images, a text and a sound.
g="$data/aigc-studio/gallery"
now=$(date +%s)
item() { # id kind panel title file text
    mkdir -p "$g/$1"
    printf '{"version":1,"id":"%s","kind":"%s","panel":"%s","title":"%s","created":%s,"model":"demo","seed":7,"file":"%s","text":"%s","params":{}}' \
        "$1" "$2" "$3" "$4" "$now" "$5" "$6" > "$g/$1/record.json"
}
item 20261122-000001 image paint "Sneaker" img.png ""
convert -size 28x28 plasma:fractal -colorspace Gray "$g/20261122-000001/img.png"
item 20261122-000002 image paint "Rose emoji" img.png ""
convert -size 32x32 radial-gradient:'#ff6b9d'-'#ffffff' "$g/20261122-000002/img.png"
item 20261122-000003 text write "The meaning of life" text.txt "The meaning of life is to find your gift. The purpose of life is to give it away."
echo "text" > "$g/20261122-000003/text.txt"
item 20261122-000004 audio speak "Hello" speech.wav "Hello, this is the studio speaking."
echo "wav" > "$g/20261122-000004/speech.wav"

shoot() { # lang
    XDG_DATA_HOME="$data" GSETTINGS_BACKEND=memory LANGUAGE="$1" "$build/app/aigc-studio" \
        >"$out/app-$1.log" 2>&1 &
    app=$!
    sleep 3
    wid=$(xdotool search --sync --onlyvisible --class aigc-studio | head -1)
    n=1
    for page in write paint speak scene gallery; do
        xdotool windowfocus "$wid" key --clearmodifiers "ctrl+$n"
        sleep 0.7
        import -window root "$out/$1-$n-$page.png"
        n=$((n + 1))
    done
    xdotool key --clearmodifiers ctrl+comma; sleep 1
    import -window root "$out/$1-6-preferences.png"
    xdotool key --clearmodifiers Escape; sleep 0.5
    xdotool key --clearmodifiers ctrl+question; sleep 1
    import -window root "$out/$1-7-shortcuts.png"
    kill $app 2>/dev/null || true
    wait $app 2>/dev/null || true
}
shoot C.UTF-8
shoot zh_CN
echo "screenshots in $out"
ls "$out"/*.png
