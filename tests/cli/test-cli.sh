#!/bin/sh
# SPDX-License-Identifier: MIT
# The `aigc` command: help, version, exit codes, inspect on valid and malformed files,
# convert, and Ctrl-C leaving no output behind.
# Usage: test-cli.sh AIGC CORPUS_DIR
set -u
aigc=$1
corpus=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
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

expect_rc 0 "--version" "$aigc" --version
grep -qE '^aigc [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" && pass || fail "--version output: $(cat "$tmp/out")"
expect_rc 0 "--help" "$aigc" --help
grep -q inspect "$tmp/out" && grep -q models "$tmp/out" && pass || fail "--help lists commands"
expect_rc 2 "no command" "$aigc"
expect_rc 2 "unknown command" "$aigc" frobnicate
for cmd in inspect models convert; do
    expect_rc 0 "$cmd --help" "$aigc" "$cmd" --help
    grep -q "Usage" "$tmp/out" && pass || fail "$cmd --help prints usage"
done
expect_rc 2 "inspect without file" "$aigc" inspect
expect_rc 2 "inspect with two files" "$aigc" inspect a b
expect_rc 2 "inspect unknown option" "$aigc" inspect --bogus x
expect_rc 2 "models extra argument" "$aigc" models extra
expect_rc 2 "convert without -o" "$aigc" convert "$corpus/good-small.safetensors"
expect_rc 2 "convert bad dtype" "$aigc" convert "$corpus/good-small.safetensors" -o "$tmp/x" --dtype f8
expect_rc 0 "models" "$aigc" models
grep -q "Model families" "$tmp/out" && pass || fail "models output"

# A valid file: every tensor with name, dtype, shape and size.
expect_rc 0 "inspect valid" "$aigc" inspect "$corpus/good-small.safetensors"
grep -qE 'layer\.weight +F32 +\[2, 3\] +24$' "$tmp/out" && pass || fail "inspect lists layer.weight: $(cat "$tmp/out")"
grep -qE 'layer\.half +F16 +\[2, 3\] +12$' "$tmp/out" && pass || fail "inspect lists layer.half"
grep -q 'family: example' "$tmp/out" && pass || fail "inspect shows metadata"
expect_rc 0 "inspect empty" "$aigc" inspect "$corpus/good-empty.safetensors"
expect_rc 1 "inspect missing file" "$aigc" inspect "$tmp/missing.safetensors"
grep -q "missing.safetensors" "$tmp/err" && pass || fail "missing file named in the error"

# Every malformed file: exit 1 (never a signal), exactly one line naming the file.
n_bad=0
for f in "$corpus"/bad-*.safetensors; do
    n_bad=$((n_bad + 1))
    "$aigc" inspect "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 1 ]; then fail "inspect $(basename "$f"): exit $rc"; continue; fi
    lines=$(wc -l <"$tmp/err")
    if [ "$lines" -ne 1 ]; then fail "inspect $(basename "$f"): $lines lines on stderr"; continue; fi
    grep -qF "$f" "$tmp/err" && pass || fail "inspect $(basename "$f") names the file: $(cat "$tmp/err")"
done
[ $n_bad -ge 20 ] && pass || fail "only $n_bad malformed files in the corpus"

# convert to F16 and back.
expect_rc 0 "convert f16" "$aigc" convert "$corpus/good-small.safetensors" -o "$tmp/h.safetensors" --dtype f16
"$aigc" inspect "$tmp/h.safetensors" | grep -qE 'layer\.weight +F16' && pass || fail "converted to F16"
expect_rc 0 "convert f32" "$aigc" convert "$tmp/h.safetensors" -o "$tmp/f.safetensors" --dtype f32
"$aigc" inspect "$tmp/f.safetensors" | grep -qE 'layer\.weight +F32 +\[2, 3\] +24$' && pass || fail "converted back to F32"
expect_rc 1 "convert malformed" "$aigc" convert "$corpus/bad-overlapping.safetensors" -o "$tmp/o.safetensors"
[ ! -e "$tmp/o.safetensors" ] && pass || fail "failed convert left a file"

# Ctrl-C while writing: exit 130, no output file, no temporary file.
AIGC_TEST_SLOW_MS=1500 "$aigc" convert "$corpus/good-small.safetensors" -o "$tmp/c.safetensors" 2>"$tmp/cerr" &
pid=$!
i=0
while ! grep -q writing "$tmp/cerr" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] && pass || { fail "Ctrl-C: exit $rc, wanted 130"; cat "$tmp/cerr"; }
[ ! -e "$tmp/c.safetensors" ] && pass || fail "Ctrl-C left the output file"
ls -A "$tmp" | grep -q '\.part$' && fail "Ctrl-C left a temporary file" || pass
grep -q "stopped" "$tmp/cerr" && pass || fail "Ctrl-C message"

# Text: train a small n-gram, generate reproducibly, evaluate; bad input is refused clearly.
for i in 1 2 3 4 5 6 7 8; do echo "The quick brown fox jumps over the lazy dog number $i."; done > "$tmp/c.train.txt"
echo "The lazy dog jumps over the quick brown fox." > "$tmp/c.val.txt"
expect_rc 0 "train ngram" "$aigc" train text --model ngram --corpus "$tmp/c.train.txt" -o "$tmp/ng.safetensors" --set order=4
grep -q "val_bits_per_char:" "$tmp/out" && pass || fail "train prints val_bits_per_char"
expect_rc 0 "text" "$aigc" text --model "$tmp/ng.safetensors" --prompt "The quick" -n 40 --seed 7 -q
cp "$tmp/out" "$tmp/gen1"
expect_rc 0 "text again" "$aigc" text --model "$tmp/ng.safetensors" --prompt "The quick" -n 40 --seed 7 -q
cmp -s "$tmp/out" "$tmp/gen1" && pass || fail "the same seed writes the same text"
[ -s "$tmp/gen1" ] && pass || fail "text wrote something"
expect_rc 0 "eval text" "$aigc" eval text --model "$tmp/ng.safetensors" --file "$tmp/c.val.txt"
tail -n 1 "$tmp/out" | grep -qE '^bits_per_char: [0-9]+\.[0-9]+$' && pass || fail "eval's last line is bits_per_char"
expect_rc 1 "text unknown model" "$aigc" text --model no-such-model --prompt hi
grep -q "no-such-model" "$tmp/err" && pass || fail "unknown model named"
expect_rc 1 "text damaged model" "$aigc" text --model "$corpus/bad-overlapping.safetensors" --prompt hi
expect_rc 2 "text empty prompt" "$aigc" text --model "$tmp/ng.safetensors" --prompt ""
expect_rc 2 "text bad top-p" "$aigc" text --model "$tmp/ng.safetensors" --prompt hi --top-p 3
expect_rc 2 "train unknown family" "$aigc" train text --model transformer-xl --corpus "$tmp/c.train.txt" -o "$tmp/x"
expect_rc 2 "train bad setting" "$aigc" train text --model gpt --corpus "$tmp/c.train.txt" -o "$tmp/x" --set dim=abc
expect_rc 1 "train missing corpus" "$aigc" train text --model ngram --corpus "$tmp/none.txt" -o "$tmp/x"
printf '\377\376 invalid \n' > "$tmp/bad-utf8.txt"
expect_rc 0 "eval invalid UTF-8" "$aigc" eval text --model "$tmp/ng.safetensors" --file "$tmp/bad-utf8.txt"

# Images: a tiny classifier trains and is evaluated; bad input is refused clearly.
expect_rc 0 "train image classifier" "$aigc" train image --model classifier --data fashion \
    -o "$tmp/clf.safetensors" --set steps=2 --set batch_size=8 --set c1=2 --set c2=2 --set c3=2 \
    --set hidden=8 --set limit_train=64 --set limit_test=50 --set eval_every=0
grep -qE '^test_accuracy: [0-9]\.[0-9]{4}$' "$tmp/out" && pass || fail "train image prints test_accuracy"
expect_rc 0 "eval image classifier" "$aigc" eval image --model "$tmp/clf.safetensors" --n 100
tail -n 1 "$tmp/out" | grep -qE '^test_accuracy: [0-9]\.[0-9]{4}$' && pass || fail "eval image's last line is test_accuracy"
grep -q '^test_images: 100$' "$tmp/out" && pass || fail "eval image --n 100 judges 100 images"
# q8: 8-bit weights with a scale per row load and run like any other precision.
expect_rc 0 "convert q8" "$aigc" convert "$tmp/clf.safetensors" -o "$tmp/clf-q8.safetensors" --dtype q8
"$aigc" inspect "$tmp/clf-q8.safetensors" | grep -qE 'fc1\.weight +I8' && pass || fail "converted to I8"
"$aigc" inspect "$tmp/clf-q8.safetensors" | grep -qE 'fc1\.weight\.q8_scale +F32 +\[8\]' && pass || fail "q8 row scales"
expect_rc 0 "eval image q8 model" "$aigc" eval image --model "$tmp/clf-q8.safetensors" --n 100
tail -n 1 "$tmp/out" | grep -qE '^test_accuracy: [0-9]\.[0-9]{4}$' && pass || fail "a q8 model evaluates"
expect_rc 0 "convert q8 to f32" "$aigc" convert "$tmp/clf-q8.safetensors" -o "$tmp/clf-f.safetensors" --dtype f32
"$aigc" inspect "$tmp/clf-f.safetensors" | grep -q "q8_scale" && fail "scales left after converting back" || pass
expect_rc 1 "eval image unknown model" "$aigc" eval image --model no-such-model
grep -q "no-such-model" "$tmp/err" && pass || fail "eval image names the unknown model"
expect_rc 1 "eval image text model" "$aigc" eval image --model "$tmp/ng.safetensors"
grep -q "not an image model" "$tmp/err" && pass || fail "eval image refuses a text model"
expect_rc 1 "eval image damaged model" "$aigc" eval image --model "$corpus/bad-overlapping.safetensors"
expect_rc 2 "eval image without model" "$aigc" eval image
expect_rc 2 "eval image bad --n" "$aigc" eval image --model "$tmp/clf.safetensors" --n 1
expect_rc 2 "train image unknown family" "$aigc" train image --model gan9000 --data fashion -o "$tmp/x"
expect_rc 2 "train image classifier on emoji" "$aigc" train image --model classifier --data emoji -o "$tmp/x"
expect_rc 2 "train image bad setting" "$aigc" train image --model classifier --data fashion -o "$tmp/x" --set c1=-3
expect_rc 2 "train image without -o" "$aigc" train image --model classifier --data fashion
expect_rc 1 "train image missing data" "$aigc" train image --model classifier --data fashion --data-dir "$tmp/none" -o "$tmp/x"
grep -q "none" "$tmp/err" && pass || fail "train image names the missing data folder"
# The diffusion model: a tiny one trains (with a sample grid) and is judged by the tiny
# classifier; bad settings are refused.
expect_rc 0 "train image diffusion" "$aigc" train image --model diffusion --data fashion \
    -o "$tmp/dif.safetensors" --set steps=2 --set batch_size=4 --set ch=8 --set norm_groups=4 \
    --set n_heads=1 --set limit_train=32 --set sample_steps=2 --set sample_columns=1
grep -q '^samples: .*dif\.step-0000002\.png$' "$tmp/out" && pass || fail "train image diffusion writes a sample grid"
expect_rc 0 "eval image diffusion" env XDG_CACHE_HOME="$tmp/cache" "$aigc" eval image \
    --model "$tmp/dif.safetensors" --classifier "$tmp/clf.safetensors" --n 10
tail -n 1 "$tmp/out" | grep -qE '^fid: [0-9.]+$' && pass || fail "eval image diffusion's last line is fid"
grep -qE '^classifier_accuracy: [0-9]\.[0-9]{4}$' "$tmp/out" && pass || fail "eval image diffusion prints classifier_accuracy"
# Drawing with it from the command line: bad requests are refused with a message naming the
# fault; a canvas of another size, depth and interlacing is resized.
printf 'garbage' > "$tmp/garbage.png"
expect_rc 1 "image from a corrupt canvas" "$aigc" image --model "$tmp/dif.safetensors" --class 1 --init "$tmp/garbage.png" -o "$tmp/x.png"
grep -q "garbage.png" "$tmp/err" && pass || fail "image names the corrupt canvas"
if command -v convert >/dev/null; then
    convert -size 40x30 xc:gray -interlace PNG -depth 16 "$tmp/canvas16.png"
    convert -size 10x10 xc:white "$tmp/mask10.png"
    expect_rc 0 "image from a 16-bit interlaced canvas" "$aigc" image --model "$tmp/dif.safetensors" --class 1 \
        --init "$tmp/canvas16.png" --strength 0.5 --steps 2 -o "$tmp/x.png"
    expect_rc 2 "image with a mask of another size" "$aigc" image --model "$tmp/dif.safetensors" --class 1 \
        --init "$tmp/canvas16.png" --mask "$tmp/mask10.png" --steps 2 -o "$tmp/x.png"
    grep -q "same size" "$tmp/err" && pass || fail "image says the mask must be the canvas's size"
fi
expect_rc 2 "image of an unknown class" "$aigc" image --model "$tmp/dif.safetensors" --class Cat -o "$tmp/x.png"
grep -q "Cat" "$tmp/err" && pass || fail "image names the unknown class"
expect_rc 2 "image with 0 steps" "$aigc" image --model "$tmp/dif.safetensors" --class 1 --steps 0 -o "$tmp/x.png"
expect_rc 2 "image with 100000 steps" "$aigc" image --model "$tmp/dif.safetensors" --class 1 --steps 100000 -o "$tmp/x.png"
expect_rc 2 "image with guidance 50" "$aigc" image --model "$tmp/dif.safetensors" --class 1 --guidance 50 -o "$tmp/x.png"
grep -q "guidance" "$tmp/err" && pass || fail "image names the guidance range"
expect_rc 2 "image with an empty prompt" "$aigc" image --model "$tmp/dif.safetensors" --prompt " " -o "$tmp/x.png"
expect_rc 2 "train image diffusion bad setting" "$aigc" train image --model diffusion --data fashion -o "$tmp/x" --set ch_mult=1,0
grep -q "ch_mult" "$tmp/err" && pass || fail "train image diffusion names the bad setting"
# The emoji: text-conditioned on their names (the committed 16-emoji sample); the full set is
# made by data/image/prepare-emoji.py, and its absence is explained.
emoji_sample="$corpus/../../data/emoji-sample/emoji-sample.safetensors"
expect_rc 0 "train image diffusion on emoji" "$aigc" train image --model diffusion --data emoji \
    --data-dir "$emoji_sample" -o "$tmp/emo.safetensors" --set steps=1 --set batch_size=2 \
    --set ch=8 --set ch_mult=1,2 --set norm_groups=4 --set n_heads=1 --set sample_steps=1 \
    --set sample_columns=1
grep -q '^samples: .*emo\.step-0000001\.png$' "$tmp/out" && pass || fail "train image diffusion on emoji writes a grid"
expect_rc 0 "image from a prompt" "$aigc" image --model "$tmp/emo.safetensors" --prompt "grinning face" \
    --steps 2 --seed 4 -o "$tmp/emo.png"
grep -q "grinning face" "$tmp/emo.png" && grep -q "Steps: 2" "$tmp/emo.png" && pass || fail "image from a prompt writes the prompt into its parameters"
expect_rc 0 "eval image of a text model" "$aigc" eval image --model "$tmp/emo.safetensors" \
    --data-dir "$emoji_sample" --n 4
tail -n 1 "$tmp/out" | grep -qE '^name_top5: [0-9]\.[0-9]{4}$' && grep -q '^prompts: 4$' "$tmp/out" && pass || fail "eval image of a text model ends with name_top5"
grep -qE '^category_nearest: [0-9]\.[0-9]{4}$' "$tmp/out" && pass || fail "eval image of a text model prints category_nearest"
expect_rc 0 "eval image of a text model with DDPM" "$aigc" eval image --model "$tmp/emo.safetensors" \
    --data-dir "$emoji_sample" --n 2 --sampler ddpm --steps 3
grep -q '^sampler: DDPM 3 steps' "$tmp/out" && pass || fail "eval image --sampler ddpm --steps 3 samples so"
expect_rc 2 "eval image with an unknown sampler" "$aigc" eval image --model "$tmp/emo.safetensors" --sampler euler
expect_rc 2 "image of a text model without a prompt" "$aigc" image --model "$tmp/emo.safetensors" -o "$tmp/x.png"
grep -q -- "--prompt" "$tmp/err" && pass || fail "image of a text model asks for --prompt"
expect_rc 2 "image of a text model with a class" "$aigc" image --model "$tmp/emo.safetensors" --class face -o "$tmp/x.png"
expect_rc 2 "image from a prompt of unknown words" "$aigc" image --model "$tmp/emo.safetensors" \
    --prompt "zzqx wobble" -o "$tmp/x.png"
grep -q "zzqx" "$tmp/err" || grep -qi "know" "$tmp/err" && pass || fail "image from unknown words says which words it knows"
expect_rc 1 "train image diffusion without the emoji" env AIGC_EMOJI_DIR="$tmp/none" "$aigc" train image \
    --model diffusion --data emoji -o "$tmp/x"
grep -q "prepare-emoji" "$tmp/err" && pass || fail "train image diffusion says how to make the emoji set"
expect_rc 2 "train image diffusion on cifar" "$aigc" train image --model diffusion --data cifar -o "$tmp/x"
# The DCGAN and the VAE: tiny ones train (with a sample grid) and resume, draw, interpolate and
# reconstruct, and are judged by the tiny classifier; bad settings are refused.
expect_rc 0 "train image dcgan" "$aigc" train image --model dcgan --data fashion \
    -o "$tmp/gan.safetensors" --set steps=2 --set batch_size=4 --set ngf=4 --set ndf=4 \
    --set nz=8 --set limit_train=32 --set sample_columns=1
grep -q '^samples: .*gan\.step-0000002\.png$' "$tmp/out" && pass || fail "train image dcgan writes a sample grid"
expect_rc 0 "train image dcgan --resume" "$aigc" train image --model dcgan --data fashion \
    -o "$tmp/gan.safetensors" --set steps=3 --set batch_size=4 --set limit_train=32 \
    --set sample_columns=1 --resume
grep -q '^steps: 3$' "$tmp/out" && pass || fail "train image dcgan --resume continues to 3 steps"
expect_rc 0 "eval image dcgan" env XDG_CACHE_HOME="$tmp/cache" "$aigc" eval image \
    --model "$tmp/gan.safetensors" --classifier "$tmp/clf.safetensors" --n 10
tail -n 1 "$tmp/out" | grep -qE '^fid: [0-9.]+$' && pass || fail "eval image dcgan's last line is fid"
grep -qE '^classifier_accuracy: [0-9]\.[0-9]{4}$' "$tmp/out" && pass || fail "eval image dcgan prints classifier_accuracy"
expect_rc 0 "image dcgan" "$aigc" image --model "$tmp/gan.safetensors" --class Sneaker --seed 3 -o "$tmp/sneaker.png"
grep -q "Sampler: DCGAN" "$tmp/sneaker.png" && pass || fail "image dcgan writes its parameters"
expect_rc 0 "image dcgan interpolation" "$aigc" image --model "$tmp/gan.safetensors" \
    --class Sneaker --to-class Bag --seed 1 --to-seed 2 --batch 4 -o "$tmp/strip.png"
[ -f "$tmp/strip-4.png" ] && grep -q "Interpolation: slerp" "$tmp/strip.png" && pass || fail "image dcgan interpolation writes the strip"
expect_rc 2 "image dcgan from an image" "$aigc" image --model "$tmp/gan.safetensors" --class Bag \
    --init "$tmp/sneaker.png" -o "$tmp/x.png"
grep -q "no encoder" "$tmp/err" && pass || fail "image dcgan says it cannot start from an image"
expect_rc 2 "train image dcgan bad setting" "$aigc" train image --model dcgan --data fashion -o "$tmp/x" --set ngf=wide
grep -q "ngf" "$tmp/err" && pass || fail "train image dcgan names the bad setting"
expect_rc 2 "train image dcgan bad config" "$aigc" train image --model dcgan --data fashion -o "$tmp/x" --set nz=0
expect_rc 2 "train image dcgan bad label" "$aigc" train image --model dcgan --data fashion -o "$tmp/x" --set real_label=2
expect_rc 0 "train image vae" "$aigc" train image --model vae --data fashion \
    -o "$tmp/vae.safetensors" --set steps=2 --set batch_size=4 --set ch=4 --set hidden=16 \
    --set latent=4 --set limit_train=32 --set sample_columns=1
grep -q '^samples: .*vae\.step-0000002\.png$' "$tmp/out" && pass || fail "train image vae writes a sample grid"
grep -qE '^kl: [0-9.]+$' "$tmp/out" && pass || fail "train image vae prints the KL term"
expect_rc 0 "eval image vae" env XDG_CACHE_HOME="$tmp/cache" "$aigc" eval image \
    --model "$tmp/vae.safetensors" --classifier "$tmp/clf.safetensors" --n 10
tail -n 1 "$tmp/out" | grep -qE '^fid: [0-9.]+$' && pass || fail "eval image vae's last line is fid"
grep -qE '^classifier_accuracy: [0-9]\.[0-9]{4}$' "$tmp/out" && pass || fail "eval image vae prints classifier_accuracy"
expect_rc 0 "image vae reconstruction" "$aigc" image --model "$tmp/vae.safetensors" \
    --init "$tmp/sneaker.png" --strength 0 -o "$tmp/rec.png"
grep -q "Sampler: VAE encoder" "$tmp/rec.png" && pass || fail "image vae reconstruction writes its parameters"
expect_rc 2 "train image vae bad setting" "$aigc" train image --model vae --data fashion -o "$tmp/x" --set latent=0
grep -q "latent" "$tmp/err" && pass || fail "train image vae names the bad setting"
expect_rc 2 "train image vae bad number" "$aigc" train image --model vae --data fashion -o "$tmp/x" --set beta=lots
expect_rc 2 "train image vae on emoji" "$aigc" train image --model vae --data emoji -o "$tmp/x"

# Speech: bad Tacotron 2 training requests are refused clearly.
mkdir -p "$tmp/nocorpus"
expect_rc 2 "train speech without --data" "$aigc" train speech -o "$tmp/x"
expect_rc 2 "train speech bad setting" "$aigc" train speech --data "$tmp/nocorpus" -o "$tmp/x" --set r=0
expect_rc 2 "train speech unknown family" "$aigc" train speech --model wavenet --data "$tmp/nocorpus" -o "$tmp/x"
expect_rc 1 "train speech without a corpus" "$aigc" train speech --data "$tmp/nocorpus" -o "$tmp/x"
grep -q "train.txt" "$tmp/err" && pass || fail "train speech names the missing list"
expect_rc 2 "eval speech without audio or voice" "$aigc" eval speech --file "$tmp/x"
expect_rc 2 "eval speech vocoder without voice or recordings" "$aigc" eval speech --file "$tmp/x" --vocoder melgan
grep -q "\-\-audio-dir" "$tmp/err" && pass || fail "eval speech says --vocoder needs --voice or --audio-dir"
expect_rc 2 "eval speech --keep of recordings" "$aigc" eval speech --file "$tmp/x" --audio-dir "$tmp" --keep "$tmp/k"
# A vocoder alone re-synthesises the recordings from their own mels (copy synthesis).
if command -v pocketsphinx_continuous >/dev/null; then
    mkdir -p "$tmp/rec"
    python3 -c 'import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 220 * i / 16000))) for i in range(16000)))' "$tmp/rec/00000.wav"
    echo "00000|a tone" >"$tmp/rec/list.txt"
    expect_rc 0 "eval speech copy synthesis" "$aigc" eval speech --file "$tmp/rec/list.txt" --audio-dir "$tmp/rec" --vocoder griffin-lim
    grep -q "^mcd: " "$tmp/out" && tail -n 1 "$tmp/out" | grep -q "^wer: " && pass || fail "copy synthesis prints mcd and wer: $(cat "$tmp/out")"
    expect_rc 0 "eval speech --keep" "$aigc" eval speech --file "$tmp/rec/list.txt" --audio-dir "$tmp/rec" --vocoder griffin-lim --keep "$tmp/heard"
    python3 -c "import sys, wave; assert wave.open(sys.argv[1]).getnframes() > 0" "$tmp/heard/00000.wav" 2>/dev/null && pass || fail "eval speech --keep leaves the WAV that was heard"
fi
# Vocoders: bad training requests are refused clearly.
expect_rc 2 "train vocoder without --model" "$aigc" train vocoder --data "$tmp/nocorpus" -o "$tmp/x"
expect_rc 2 "train vocoder unknown family" "$aigc" train vocoder --model hifigan --data "$tmp/nocorpus" -o "$tmp/x"
expect_rc 2 "train vocoder bad setting" "$aigc" train vocoder --model melgan --data "$tmp/nocorpus" -o "$tmp/x" --set upsample=8,1
expect_rc 1 "train vocoder without audio" "$aigc" train vocoder --model melgan --data "$tmp/nocorpus" -o "$tmp/x"
grep -q "nocorpus" "$tmp/err" && pass || fail "train vocoder names the empty corpus"

# Scenes: a tiny radiance field trains on the sample scene, renders a turntable with depth maps
# and is measured on test views; bad requests are refused clearly.
woodbox=$(cd "$corpus/../../../data/scene/woodbox" && pwd)
expect_rc 0 "nerf train" "$aigc" nerf train "$woodbox" -o "$tmp/box.safetensors" --steps 2 \
    --set levels=2 --set log2_table=10 --set finest_res=32 --set occupancy_res=16 \
    --set n_steps=64 --set samples_per_step=2048 --set val_views=1
grep -qE '^val_psnr: [0-9]+\.[0-9]{2}$' "$tmp/out" && pass || fail "nerf train prints val_psnr"
grep -q 'steps\\": 2,' "$tmp/box.safetensors" && pass || fail "nerf train records its steps"
expect_rc 0 "nerf train --resume" "$aigc" nerf train "$woodbox" -o "$tmp/box.safetensors" \
    --steps 3 --resume --set val_views=1
grep -q '^steps: 3$' "$tmp/out" && pass || fail "nerf train --resume continues to 3 steps"
expect_rc 0 "nerf render orbit" "$aigc" nerf render "$tmp/box.safetensors" --orbit 2 --size 16x12 \
    --depth -o "$tmp/turn"
[ -f "$tmp/turn/view-0001.png" ] && [ -f "$tmp/turn/depth-0001.png" ] && pass || fail "nerf render writes views and depth maps"
grep -q '^views: 2$' "$tmp/out" && pass || fail "nerf render counts its views"
expect_rc 0 "eval nerf" "$aigc" eval nerf "$tmp/box.safetensors" "$woodbox" --limit 1
tail -n 1 "$tmp/out" | grep -qE '^psnr: [0-9]+\.[0-9]{2}$' && pass || fail "eval nerf's last line is psnr"
expect_rc 2 "nerf without action" "$aigc" nerf
expect_rc 2 "nerf train without -o" "$aigc" nerf train "$woodbox"
expect_rc 2 "nerf train missing dataset" "$aigc" nerf train "$tmp/nowhere" -o "$tmp/x"
expect_rc 2 "nerf train bad setting" "$aigc" nerf train "$woodbox" -o "$tmp/x" --set levels=99
grep -q "levels" "$tmp/err" && pass || fail "nerf train names the bad setting"
expect_rc 1 "nerf train not a dataset" "$aigc" nerf train "$tmp/nocorpus" -o "$tmp/x"
grep -q "transforms" "$tmp/err" && pass || fail "nerf train says what is missing"
expect_rc 2 "nerf render both orbit and pose" "$aigc" nerf render "$tmp/box.safetensors" --orbit 2 --pose x -o "$tmp/y"
expect_rc 2 "nerf render absurd size" "$aigc" nerf render "$tmp/box.safetensors" --orbit 2 --size 99999x2 -o "$tmp/y"
expect_rc 1 "nerf render not a scene" "$aigc" nerf render "$corpus/good-small.safetensors" --orbit 1 -o "$tmp/y"
grep -q "not a scene" "$tmp/err" && pass || fail "nerf render says the file is not a scene"
printf '1 0 0 0\n0 1 0 0\n' > "$tmp/half.txt"
expect_rc 1 "nerf render half a pose" "$aigc" nerf render "$tmp/box.safetensors" --pose "$tmp/half.txt" -o "$tmp/y"
grep -q "half.txt" "$tmp/err" && pass || fail "nerf render names the bad pose file"
expect_rc 2 "eval nerf one argument" "$aigc" eval nerf "$tmp/box.safetensors"

echo "cli: $n_pass passed, $n_fail failed"
[ $n_fail -eq 0 ]
