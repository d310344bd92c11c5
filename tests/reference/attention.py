# SPDX-License-Identifier: MIT
"""Golden values for engine/nn/aigc-attention.c and engine/nn/aigc-posenc.c.

Run by developers (not by CI) with Debian's PyTorch:
    cd tests/reference && /usr/bin/python3 attention.py
Writes goldens/attention.safetensors. Inputs are drawn in float32; every reference value is then
computed in float64 from those float32 inputs and stored as float32.

Contents (prefix.name):
  causal.*  B=2, H=4, T=6, D=5, causal self-attention, scale 1/sqrt(D):
            q, k, v, out, dout (an upstream gradient), dq, dk, dv
  cross.*   B=2, H=4, Tq=3, Tk=7, D=5, non-causal, key_lengths (I32) = {7, 4}: the same names
  rope.*    x (B=2, T=5, H=3, D=6), pos_offset 3, theta 10000: x, out, dout, dx; interleaved
            pairs as in llama2.c / Meta's llama (view_as_complex on (..., D/2, 2))
  temb.*    t (5), out9 (5, 9), out8 (5, 8): diffusers' get_timestep_embedding with
            flip_sin_to_cos=True, downscale_freq_shift=0, max_period 10000
Attention is written out explicitly, softmax(q kᵀ·scale + mask) v, not with a fused torch op.
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from st_write import write_safetensors  # noqa: E402


def f32_then_f64(*shape):
    return torch.randn(*shape, dtype=torch.float32).double().requires_grad_(True)


def attention_case(prefix, B, H, Tq, Tk, D, causal, key_lengths, out):
    q = f32_then_f64(B, H, Tq, D)
    k = f32_then_f64(B, H, Tk, D)
    v = f32_then_f64(B, H, Tk, D)
    dout = torch.randn(B, H, Tq, D, dtype=torch.float32).double()
    scale = 1.0 / math.sqrt(D)
    mask = torch.zeros(B, 1, Tq, Tk, dtype=torch.float64)
    i = torch.arange(Tq)[:, None]
    j = torch.arange(Tk)[None, :]
    if causal:  # the queries are the last Tq positions of the keys
        mask = mask.masked_fill((j > i + (Tk - Tq))[None, None], float("-inf"))
    if key_lengths is not None:
        for b, n in enumerate(key_lengths):
            mask[b, :, :, n:] = float("-inf")
    scores = (q @ k.transpose(-1, -2)) * scale + mask
    probs = torch.softmax(scores, dim=-1)
    o = probs @ v
    o.backward(dout)
    for name, t in (("q", q), ("k", k), ("v", v), ("out", o), ("dout", dout), ("dq", q.grad),
                    ("dk", k.grad), ("dv", v.grad)):
        out[f"{prefix}.{name}"] = t.detach().float()
    if key_lengths is not None:
        out[f"{prefix}.key_lengths"] = torch.tensor(key_lengths, dtype=torch.int32).numpy()


def rope_case(out):
    B, T, H, D, offset, theta = 2, 5, 3, 6, 3, 10000.0
    x = f32_then_f64(B, T, H, D)
    dout = torch.randn(B, T, H, D, dtype=torch.float32).double()
    freqs = 1.0 / theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D)  # (D/2)
    angles = torch.outer(torch.arange(offset, offset + T, dtype=torch.float64), freqs)  # (T, D/2)
    rot = torch.polar(torch.ones_like(angles), angles)[None, :, None, :]  # (1, T, 1, D/2)
    xc = torch.view_as_complex(x.reshape(B, T, H, D // 2, 2))
    y = torch.view_as_real(xc * rot).reshape(B, T, H, D)
    y.backward(dout)
    out["rope.x"] = x.detach().float()
    out["rope.out"] = y.detach().float()
    out["rope.dout"] = dout.float()
    out["rope.dx"] = x.grad.float()


def timestep_embedding(t, dim, max_period=10000.0):
    """diffusers' get_timestep_embedding(flip_sin_to_cos=True, downscale_freq_shift=0)."""
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float64) / half
    args = t[:, None] * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)  # flipped: cos first
    if dim % 2 == 1:
        emb = torch.nn.functional.pad(emb, (0, 1))
    return emb


def main():
    torch.manual_seed(20240611)
    out = {}
    attention_case("causal", 2, 4, 6, 6, 5, True, None, out)
    attention_case("cross", 2, 4, 3, 7, 5, False, [7, 4], out)
    rope_case(out)
    t = torch.tensor([0.0, 1.0, 17.5, 250.0, 999.0], dtype=torch.float32)
    out["temb.t"] = t
    out["temb.out9"] = timestep_embedding(t.double(), 9).float()
    out["temb.out8"] = timestep_embedding(t.double(), 8).float()
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "goldens", "attention.safetensors")
    write_safetensors(path, out, metadata={"source": "tests/reference/attention.py",
                                           "torch": torch.__version__})
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
