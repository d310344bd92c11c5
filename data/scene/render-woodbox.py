#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Renders POV-Ray's advanced/woodbox.pov into a NeRF dataset (Blender / instant-ngp layout).

Output (default data/scene/woodbox/): transforms_train.json, transforms_val.json,
transforms_test.json, train/r_N.png, val/r_N.png, test/r_N.png (RGBA, transparent background),
SHA256SUMS. Needs POV-Ray 3.7 (Debian: povray povray-includes povray-examples); standard library
only otherwise. Each split is rendered by one povray process, one animation frame per camera.

The scene is Debian's /usr/share/doc/povray/examples/advanced/woodbox.pov (CC-BY-SA-3.0) with
three changes, so that it is a bounded object a radiance field can hold: its camera is removed
(each view declares its own), the infinite floor plane becomes a wooden disc of radius 7.25, 0.25
thick, and the sky sphere's colours get `transmit 1`, so the background is transparent in the
alpha channel (the floor then reflects only the objects, not the sky).

Cameras: on a hemisphere of radius R = 19 POV units around the origin, looking at the origin,
45 degree horizontal field of view, elevations 10 to 80 degrees. Each split follows a golden-angle
spiral, uniform in area over the elevation band; the splits use different phases, so validation
and test views are never training views.

Coordinates. POV-Ray is left-handed: x right, y up, z into the screen. The dataset is in a
right-handed world with z up (as the Blender scenes): a POV point (x, y, z) is the world point
(x, z, y) times SCALE (0.2), so the object spans about [-1.45, 1.45] x [-1.45, 1.45] x
[-0.05, 0.94]. Swapping two axes flips the handedness, which is what turns the left-handed
coordinates into right-handed ones without mirroring the scene. Each transform_matrix is
camera-to-world in the NeRF / OpenGL convention: columns right, up, back (the camera looks down
its -z) and the camera position. aabb_scale 1 with instant-ngp's default scale 0.33 and offset
0.5 gives the cube [-1.515, 1.515]^3, which holds the object.

After rendering, the script checks the matrices: it renders three small self-lit markers at known
POV positions from a few of the written cameras (same camera code), finds each marker's centroid
in the image and compares it with the marker projected through the transform_matrix and
camera_angle_x read back from the JSON. It fails if any lands more than 0.75 pixel away.

Usage: data/scene/render-woodbox.py [--out DIR] [--size N] [--train N] [--val N] [--test N]
                                    [--check-only]
"""
import argparse
import hashlib
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENE = "/usr/share/doc/povray/examples/advanced/woodbox.pov"
INCLUDE = "/usr/share/povray-3.7/include"
RADIUS = 19.0          # POV units
FOV_X_DEG = 45.0
EL_MIN_DEG, EL_MAX_DEG = 10.0, 80.0
SCALE = 0.2            # POV units -> dataset units
GOLDEN_DEG = 180.0 * (3.0 - math.sqrt(5.0))
# split -> (azimuth phase in degrees, index offset as a fraction of one step)
PHASES = {"train": (0.0, 0.5), "val": (61.0, 0.25), "test": (97.0, 0.75)}

CAMERA_INC = """// Written by render-woodbox.py: the camera of frame `frame_number`.
#declare AZ = AZS[frame_number];
#declare EL = ELS[frame_number];
#declare R = %.17g;
#declare CamPos = <R*cos(radians(EL))*sin(radians(AZ)), R*sin(radians(EL)),
                   -R*cos(radians(EL))*cos(radians(AZ))>;
camera {
    perspective
    location CamPos
    right x*image_width/image_height
    up y
    angle %.17g
    look_at <0, 0, 0>
}
"""

# Self-lit markers at known POV positions for the check; no lights, black background.
MARKERS = [("red", (1, 0, 0), (3.0, 0.5, 0.0)),
           ("green", (0, 1, 0), (0.0, 3.0, 0.0)),
           ("blue", (0, 0, 1), (-1.0, 0.5, 3.5))]


def scene_text():
    with open(SCENE, encoding="latin-1") as f:
        text = f.read()
    edits = [
        # the scene's own camera: each view declares its own
        (r"\ncamera \{[^}]*\}\n", "\n"),
        # the infinite floor becomes a disc
        (r"\nplane \{ y,0\n", "\ncylinder { <0, -0.25, 0>, <0, 0, 0>, 7.25\n"),
        # a transparent background
        (r"\[0, 1  color Gray50 color Gray80\]",
         "[0, 1  color Gray50 transmit 1 color Gray80 transmit 1]"),
    ]
    for pattern, repl in edits:
        text, n = re.subn(pattern, repl, text)
        if n != 1:
            sys.exit(f"{SCENE}: expected one match of {pattern!r}, found {n}; "
                     "the scene file is not the one this script was written for")
    return "// Derived from POV-Ray's advanced/woodbox.pov by render-woodbox.py\n" + text


def cameras(split, n):
    """(azimuth, elevation) in degrees for each camera of a split."""
    phase, frac = PHASES[split]
    s0, s1 = math.sin(math.radians(EL_MIN_DEG)), math.sin(math.radians(EL_MAX_DEG))
    out = []
    for i in range(n):
        t = (i + frac) / n
        el = math.degrees(math.asin(s0 + (s1 - s0) * t))
        az = (phase + i * GOLDEN_DEG) % 360.0
        out.append((az, el))
    return out


def pov_position(az, el):
    a, e = math.radians(az), math.radians(el)
    return (RADIUS * math.cos(e) * math.sin(a), RADIUS * math.sin(e),
            -RADIUS * math.cos(e) * math.cos(a))


def to_world(p):
    """POV (left-handed, y up) -> dataset (right-handed, z up), scaled."""
    return (SCALE * p[0], SCALE * p[2], SCALE * p[1])


def cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def normalize(v):
    n = math.sqrt(sum(c * c for c in v))
    return tuple(c / n for c in v)


def camera_to_world(az, el):
    """4x4 camera-to-world, OpenGL convention, for a camera looking at the origin."""
    pos = to_world(pov_position(az, el))
    forward = normalize(tuple(-c for c in pos))
    right = normalize(cross(forward, (0.0, 0.0, 1.0)))
    up = cross(right, forward)
    back = tuple(-c for c in forward)
    # (+ 0.0 turns -0.0 into 0.0 for tidier files)
    return [[right[r] + 0.0, up[r] + 0.0, back[r] + 0.0, pos[r] + 0.0] for r in range(3)] + [
        [0.0, 0.0, 0.0, 1.0]]


def pov_array(name, values):
    return "#declare %s = array[%d] {%s};\n" % (name, len(values),
                                                ", ".join("%.17g" % v for v in values))


def write_camera_files(workdir, cams):
    with open(os.path.join(workdir, "cameras.inc"), "w") as f:
        f.write(pov_array("AZS", [c[0] for c in cams]))
        f.write(pov_array("ELS", [c[1] for c in cams]))
    with open(os.path.join(workdir, "camera.inc"), "w") as f:
        f.write(CAMERA_INC % (RADIUS, FOV_X_DEG))


def run_povray(workdir, pov_name, out_prefix, size, n_frames, extra):
    cmd = ["povray", "+I" + pov_name, "+O" + out_prefix, "+W%d" % size, "+H%d" % size, "-D",
           "+KFI0", "+KFF%d" % (n_frames - 1), "+L" + INCLUDE, "+L" + workdir] + extra
    res = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("povray failed (%s):\n%s" % (" ".join(cmd), res.stderr[-3000:]))


def collect_frames(directory, n_frames, ext):
    """Renames POV-Ray's r_<padded>.ext outputs to r_<i>.ext."""
    found = {}
    if n_frames == 1 and os.path.exists(os.path.join(directory, f"r_.{ext}")):
        found[0] = f"r_.{ext}"  # a one-frame "animation" is written without a number
    for name in os.listdir(directory):
        m = re.fullmatch(r"r_(\d+)\." + ext, name)
        if m:
            found[int(m.group(1))] = name
    if sorted(found) != list(range(n_frames)):
        sys.exit(f"{directory}: expected frames 0..{n_frames - 1}, found {sorted(found)}")
    for i, name in found.items():
        if name != f"r_{i}.{ext}":
            os.rename(os.path.join(directory, name), os.path.join(directory, f"r_{i}.{ext}"))


def strip_png_metadata(path):
    """Drops POV-Ray's text and time chunks (render date, etc.), so renders are reproducible
    byte for byte; every chunk carries its own CRC, so the others stay valid."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG file")
    out, pos = [data[:8]], 8
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if kind not in (b"tEXt", b"zTXt", b"iTXt", b"tIME"):
            out.append(data[pos:end])
        pos = end
    with open(path, "wb") as f:
        f.write(b"".join(out))


def render_split(workdir, out_dir, split, n, size):
    cams = cameras(split, n)
    split_dir = os.path.join(workdir, split)
    os.makedirs(split_dir)
    write_camera_files(split_dir, cams)
    with open(os.path.join(split_dir, "view.pov"), "w") as f:
        f.write('#version 3.7;\n#include "cameras.inc"\n#include "woodbox-nerf.pov"\n'
                '#include "camera.inc"\n')
    shutil.copy(os.path.join(workdir, "woodbox-nerf.pov"), split_dir)
    run_povray(split_dir, "view.pov", "r_.png", size, n, ["+FN", "+UA", "+A0.3"])
    collect_frames(split_dir, n, "png")
    dest = os.path.join(out_dir, split)
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    frames = []
    for i, (az, el) in enumerate(cams):
        shutil.move(os.path.join(split_dir, f"r_{i}.png"), os.path.join(dest, f"r_{i}.png"))
        strip_png_metadata(os.path.join(dest, f"r_{i}.png"))
        frames.append({"file_path": f"./{split}/r_{i}",
                       "azimuth_deg": round(az, 6), "elevation_deg": round(el, 6),
                       "transform_matrix": camera_to_world(az, el)})
    doc = {"camera_angle_x": math.radians(FOV_X_DEG), "w": size, "h": size, "aabb_scale": 1,
           "frames": frames}
    with open(os.path.join(out_dir, f"transforms_{split}.json"), "w") as f:
        f.write(dump_json(doc))
    print(f"{split}: {n} views", flush=True)


def dump_json(doc):
    """Indented JSON with each matrix row on one line."""
    text = json.dumps(doc, indent=2)
    return re.sub(r"\[\s+(-?[0-9][^\[\]{}]*?)\s+\]",
                  lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text) + "\n"


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    # P6, then width, height and depth separated by whitespace or # comments, then one space.
    m = re.match(rb"P6((?:\s+|#[^\n]*\n)+)(\d+)((?:\s+|#[^\n]*\n)+)(\d+)"
                 rb"((?:\s+|#[^\n]*\n)+)(\d+)\s", data)
    if not m:
        sys.exit(f"{path}: not a binary PPM")
    w, h, maxval = int(m.group(2)), int(m.group(4)), int(m.group(6))
    if maxval != 255:
        sys.exit(f"{path}: unexpected PPM depth {maxval}")
    return w, h, data[m.end():]


def project(matrix, angle_x, w, h, p):
    """Pixel (u, v) of world point p, v down from the top, pixel centres at +0.5."""
    d = [p[r] - matrix[r][3] for r in range(3)]
    cam = [sum(matrix[r][c] * d[r] for r in range(3)) for c in range(3)]  # R^T d
    focal = 0.5 * w / math.tan(0.5 * angle_x)
    return (0.5 * w + focal * cam[0] / -cam[2], 0.5 * h - focal * cam[1] / -cam[2])


def check(out_dir, size):
    """Renders markers from some written cameras and compares with the JSON's projection."""
    with open(os.path.join(out_dir, "transforms_train.json")) as f:
        doc = json.load(f)
    picks = [0, len(doc["frames"]) // 3, (2 * len(doc["frames"])) // 3, len(doc["frames"]) - 1]
    cams = [(doc["frames"][i]["azimuth_deg"], doc["frames"][i]["elevation_deg"]) for i in picks]
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="woodbox-check-") as workdir:
        write_camera_files(workdir, cams)
        with open(os.path.join(workdir, "markers.pov"), "w") as f:
            f.write('#version 3.7;\n#include "cameras.inc"\n'
                    "background { rgb 0 }\n")
            for _, rgb, pos in MARKERS:
                f.write("sphere { <%g, %g, %g>, 0.25 pigment { rgb <%d, %d, %d> } "
                        "finish { ambient 1 diffuse 0 } }\n" % (pos + rgb))
            f.write('#include "camera.inc"\n')
        run_povray(workdir, "markers.pov", "m_.ppm", size, len(cams), ["+FP", "-A"])
        for name in os.listdir(workdir):
            m = re.fullmatch(r"m_(\d+)\.ppm", name)
            if not m:
                continue
            k = int(m.group(1))
            frame = doc["frames"][picks[k]]
            w, h, pix = read_ppm(os.path.join(workdir, name))
            for ch, (label, rgb, pos) in enumerate(MARKERS):
                su = sv = sn = 0.0
                for y in range(h):
                    for x in range(w):
                        if pix[3 * (y * w + x) + ch] > 128:
                            su += x + 0.5
                            sv += y + 0.5
                            sn += 1
                if sn == 0:
                    sys.exit(f"check: the {label} marker is not visible in frame {picks[k]}")
                u, v = project(frame["transform_matrix"], doc["camera_angle_x"], w, h,
                               to_world(pos))
                err = math.hypot(su / sn - u, sv / sn - v)
                worst = max(worst, err)
                print(f"check: frame {picks[k]} {label}: rendered ({su / sn:.2f}, {sv / sn:.2f}) "
                      f"projected ({u:.2f}, {v:.2f}) error {err:.2f} px")
    if worst > 0.75:
        sys.exit(f"check failed: a marker lands {worst:.2f} px from its projection")
    print(f"check: passed, worst error {worst:.2f} px")


def write_checksums(out_dir):
    lines = []
    for dirpath, _, names in os.walk(out_dir):
        for name in names:
            if name.endswith((".png", ".json")):
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                lines.append(f"{digest}  {os.path.relpath(path, out_dir)}\n")
    lines.sort(key=lambda l: l.split("  ", 1)[1])
    with open(os.path.join(out_dir, "SHA256SUMS"), "w") as f:
        f.writelines(lines)
    total = hashlib.sha256("".join(lines).encode()).hexdigest()
    print(f"SHA256SUMS: {len(lines)} files, sha256 of SHA256SUMS {total}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "data", "scene", "woodbox"))
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--train", type=int, default=100)
    ap.add_argument("--val", type=int, default=10)
    ap.add_argument("--test", type=int, default=20)
    ap.add_argument("--check-only", action="store_true",
                    help="only run the marker check against an existing dataset")
    args = ap.parse_args()
    if shutil.which("povray") is None or not os.path.exists(SCENE):
        sys.exit("needs POV-Ray 3.7 and its examples: apt-get install povray povray-includes "
                 "povray-examples")
    if not args.check_only:
        os.makedirs(args.out, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="woodbox-") as workdir:
            with open(os.path.join(workdir, "woodbox-nerf.pov"), "w") as f:
                f.write(scene_text())
            for split in ("train", "val", "test"):
                render_split(workdir, args.out, split, getattr(args, split), args.size)
    check(args.out, args.size)
    if not args.check_only:
        write_checksums(args.out)


if __name__ == "__main__":
    main()
