#!/bin/sh
# SPDX-License-Identifier: MIT
# GPT generation speed against llama2.c's run.c on the same weights, in the same run.
# Needs LLAMA2C_DIR: a llama2.c checkout (the project holds none of its code); run.c is built
# from it into a scratch folder with `gcc -O3` (its Makefile's `run` target).
# Usage: bench-llama2c.sh AIGC [MODEL]   (MODEL defaults to gpt-en)
# Prints both rates and, last, `generate_ratio: X` (ours / llama2.c, target ≥ 1.0).
set -eu
aigc=$1
model=${2:-gpt-en}
if [ -z "${LLAMA2C_DIR:-}" ] || [ ! -f "$LLAMA2C_DIR/run.c" ]; then
    echo "LLAMA2C_DIR is not set to a llama2.c checkout; nothing to compare against"
    echo "generate_ratio: n/a"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O3 -o "$tmp/run" "$LLAMA2C_DIR/run.c" -lm
bos=$("$aigc" export llama2c --model "$model" -o "$tmp" | sed -n 's/^bos: //p')
prompt="The meaning of life is"
# Greedy decoding must give the same text in both: run.c's first 200 steps (it stops early if it
# writes id 1, which for a character vocabulary is the newline).
"$tmp/run" "$tmp/model.bin" -z "$tmp/tokenizer.bin" -t 0 -s 1 -n 200 -i "$prompt" 2>/dev/null |
    head -c 400 > "$tmp/ref.txt"
OPENBLAS_NUM_THREADS=1 "$aigc" text --model "$model" -t 0 -n 200 -q \
    -p "$(printf "%b %s" "$bos" "$prompt")" 2>/dev/null > "$tmp/ours.txt"
n=$(wc -c < "$tmp/ref.txt")
if printf '%s' "$prompt" | cat - "$tmp/ours.txt" | head -c "$n" | cmp -s - "$tmp/ref.txt"; then
    echo "greedy_text_identical: yes ($n bytes)"
else
    echo "greedy_text_identical: NO"
    echo "--- llama2.c:"; cat "$tmp/ref.txt"; echo; echo "--- aigc:"; cat "$tmp/ours.txt"
fi
best_ref=0
best_ours=0
for round in 1 2 3; do
    ref=$("$tmp/run" "$tmp/model.bin" -z "$tmp/tokenizer.bin" -t 0 -s 1 -n 256 -i "$prompt" 2>&1 >/dev/null |
        sed -n 's/achieved tok\/s: //p')
    # The same start as run.c: its beginning-of-text token (our newline) and its space prefix.
    ours=$(OPENBLAS_NUM_THREADS=1 "$aigc" text --model "$model" -t 0 -n 250 \
        -p "$(printf "%b %s" "$bos" "$prompt")" 2>&1 >/dev/null | sed -n 's/.* tokens, \([0-9.]*\) tokens\/s.*/\1/p')
    echo "round $round: llama2.c $ref tok/s, aigc $ours tok/s"
    best_ref=$(awk -v a="$best_ref" -v b="$ref" 'BEGIN { print (b > a) ? b : a }')
    best_ours=$(awk -v a="$best_ours" -v b="$ours" 'BEGIN { print (b > a) ? b : a }')
done
echo "llama2c_tokens_per_second: $best_ref"
echo "aigc_tokens_per_second: $best_ours"
awk -v a="$best_ours" -v b="$best_ref" 'BEGIN { printf "generate_ratio: %.2f (target >= 1.0)\n", a / b }'
