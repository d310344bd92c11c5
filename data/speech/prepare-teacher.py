#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Build the teacher speech corpus the Speak models learn from.

Sentences of the Brown Corpus (from data/text/prepare-text.py's brown.{train,val}.txt) are spoken
by festival with the HTS voice cmu_us_slt_arctic_hts (32 kHz), then resampled to 16 kHz 16-bit
mono with sox and trimmed of leading and trailing silence (below -45 dB, 50 ms kept at each end).

Output, in data/cache/speech/slt/ (ignored by git):
  train/NNNNN.wav, test/NNNNN.wav    the audio
  train.txt, test.txt                 "NNNNN|sentence" per line
  manifest.json                       counts, durations, sha256 of the two lists

Selection (fixed, no randomness): sentences of 24–140 characters made only of letters, spaces and
, . ; : ' ? ! - (no digits, quotes or abbreviations with inner dots), with 4 to 28 words, in
corpus order; duplicates dropped. The train list takes the first N (default 3,000) from
brown.train, the test list the first 100 from brown.val.

Needs: festival, festvox-us-slt-hts, sox (build-aux/debian-packages.txt lists them).
Usage: /usr/bin/python3 data/speech/prepare-teacher.py [--train N] [--test N] [--jobs J]
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEXT = os.path.join(ROOT, "data", "cache", "text")
OUT = os.path.join(ROOT, "data", "cache", "speech", "slt")
RATE = 16000
ALLOWED = re.compile(r"^[A-Za-z][A-Za-z ,.;:'?!-]*[.?!]$")


def sentences(path, n):
    seen, out = set(), []
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = " ".join(line.split())
            if not (24 <= len(s) <= 140) or not ALLOWED.match(s):
                continue
            words = s.split()
            if not (4 <= len(words) <= 28) or "--" in s or "''" in s:
                continue
            if any(re.search(r"[A-Za-z]\.[A-Za-z]", w) for w in words):
                continue  # U.S., i.e.
            if any(w.isupper() and len(w) > 1 for w in words):
                continue  # acronyms are read letter by letter
            key = s.lower()
            if key in seen:
                continue
            seen.add(key)
            out.append(s)
            if len(out) == n:
                break
    return out


def scheme_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def synthesise(items, workdir, job):
    """items: [(raw_wav_path, text)] spoken by one festival process (number `job`)."""
    scm = os.path.join(workdir, "batch-%d.scm" % job)
    with open(scm, "w", encoding="utf-8") as f:
        f.write("(voice_cmu_us_slt_arctic_hts)\n")
        for path, text in items:
            f.write("(utt.save.wave (SynthText %s) %s 'riff)\n"
                    % (scheme_string(text), scheme_string(path)))
    return subprocess.Popen(["festival", "-b", scm], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def duration(path):
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


def build(split, lines, jobs, tmp):
    d = os.path.join(OUT, split)
    os.makedirs(d, exist_ok=True)
    todo = []
    for i, text in enumerate(lines):
        name = "%05d" % i
        if not os.path.exists(os.path.join(d, name + ".wav")):
            todo.append((os.path.join(tmp, split + "-" + name + ".raw.wav"), name, text))
    print("%s: %d sentences, %d to synthesise" % (split, len(lines), len(todo)), flush=True)
    # festival in `jobs` processes, each a contiguous share
    share = (len(todo) + jobs - 1) // max(jobs, 1)
    procs = []
    for j in range(jobs):
        part = todo[j * share:(j + 1) * share]
        if part:
            procs.append(synthesise([(p, t) for p, _, t in part], tmp, j))
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            sys.exit("festival failed: " + err.decode(errors="replace")[-500:])
    for raw, name, _ in todo:
        out = os.path.join(d, name + ".wav")
        part = out + ".part.wav"
        subprocess.run(["sox", "-q", raw, "-r", str(RATE), "-b", "16", "-c", "1", part,
                        "silence", "1", "0.02", "-45d", "reverse", "silence", "1", "0.02", "-45d",
                        "reverse", "pad", "0.05", "0.05"], check=True)
        os.replace(part, out)
        os.remove(raw)
    listing = "".join("%05d|%s\n" % (i, t) for i, t in enumerate(lines))
    with open(os.path.join(OUT, split + ".txt"), "w", encoding="utf-8") as f:
        f.write(listing)
    total = sum(duration(os.path.join(d, "%05d.wav" % i)) for i in range(len(lines)))
    return {"sentences": len(lines), "seconds": round(total, 1),
            "characters": sum(len(t) for t in lines),
            "sha256_list": hashlib.sha256(listing.encode()).hexdigest()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", type=int, default=3000)
    ap.add_argument("--test", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    for need in ("brown.train.txt", "brown.val.txt"):
        if not os.path.exists(os.path.join(TEXT, need)):
            sys.exit("missing %s: run data/text/prepare-text.py first" % os.path.join(TEXT, need))
    os.makedirs(OUT, exist_ok=True)
    manifest = {"voice": "festival cmu_us_slt_arctic_hts", "rate": RATE, "format": "PCM16 mono"}
    with tempfile.TemporaryDirectory() as tmp:
        manifest["train"] = build("train", sentences(os.path.join(TEXT, "brown.train.txt"),
                                                     args.train), args.jobs, tmp)
        manifest["test"] = build("test", sentences(os.path.join(TEXT, "brown.val.txt"),
                                                   args.test), args.jobs, tmp)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
