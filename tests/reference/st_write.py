# SPDX-License-Identifier: MIT
"""Writes safetensors files without the `safetensors` package (not in Debian 12).

Used by the golden-value scripts in this folder, run by developers with /usr/bin/python3:
    from st_write import write_safetensors
    write_safetensors(path, {"x": tensor_or_array, ...}, metadata={"source": "..."})
Every tensor is stored as little-endian F32 (int tensors as I32 / I64 keep their type).
"""
import json
import os
import struct

import numpy as np


def _as_array(value):
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    arr = np.ascontiguousarray(value)
    if arr.dtype in (np.float64, np.float32, np.float16):
        return arr.astype("<f4"), "F32"
    if arr.dtype == np.int32:
        return arr.astype("<i4"), "I32"
    if arr.dtype == np.int64:
        return arr.astype("<i8"), "I64"
    if arr.dtype == np.uint8:
        return arr, "U8"
    raise TypeError(f"unsupported dtype {arr.dtype}")


def write_safetensors(path, tensors, metadata=None):
    header = {}
    blobs = []
    offset = 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, value in tensors.items():
        arr, dtype = _as_array(value)
        data = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
