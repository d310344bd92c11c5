#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch peer of the engine's character-transformer training step (see README.md here).

One step = forward, cross-entropy, backward and an AdamW update on a fixed random batch of
32 sequences of 128 tokens. Model: vocab 96, width 256, 4 heads, 2 pre-norm blocks, feed-forward
1024 with GELU (exact, erf), learned positions, causal mask, no dropout, untied output head.

Threads: torch.set_num_threads(1) and OPENBLAS_NUM_THREADS=2 (set below before torch is
imported, unless already in the environment), so the matrix products — nearly all the work —
run on OpenBLAS's 2 threads, as the engine's do.

Run: /usr/bin/python3 tests/bench/torch_transformer_step.py [--steps N] [--threads N]
                                                             [--attention explicit|mha]
The last line printed is `torch_ms_per_step: X` (median of N timed steps after 3 warm-ups).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")  # before importing torch: read at load

import argparse  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

VOCAB, WIDTH, HEADS, LAYERS, FF, SEQ, BATCH = 96, 256, 4, 2, 1024, 128, 32


class ExplicitAttention(nn.Module):
    """softmax(Q Kᵀ / √d + causal mask) V with one Linear for Q, K, V and one for the output."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)
        mask = torch.full((SEQ, SEQ), float("-inf")).triu(1)
        self.register_buffer("mask", mask)  # (T, T): 0 on and below the diagonal, -inf above

    def forward(self, x):
        B, T, C = x.shape
        hd = C // HEADS
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, HEADS, hd).transpose(1, 2)  # (B, H, T, hd)
        k = k.view(B, T, HEADS, hd).transpose(1, 2)
        v = v.view(B, T, HEADS, hd).transpose(1, 2)
        q = q.reshape(B * HEADS, T, hd)
        kt = k.reshape(B * HEADS, T, hd).transpose(1, 2)  # (B·H, hd, T)
        att = torch.baddbmm(self.mask[:T, :T].expand(B * HEADS, T, T), q, kt,
                            alpha=1.0 / math.sqrt(hd))  # (B·H, T, T): Q Kᵀ / √d + mask
        att = F.softmax(att, dim=-1)
        y = torch.bmm(att, v.reshape(B * HEADS, T, hd))  # (B·H, T, hd)
        y = y.view(B, HEADS, T, hd).transpose(1, 2).reshape(B, T, C)
        return self.proj(y)


class MhaAttention(nn.Module):
    """The same computation through nn.MultiheadAttention (in_proj = qkv, out_proj = proj)."""

    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)
        mask = torch.full((SEQ, SEQ), float("-inf")).triu(1)
        self.register_buffer("mask", mask)

    def forward(self, x):
        T = x.shape[1]
        y, _ = self.mha(x, x, x, attn_mask=self.mask[:T, :T], need_weights=False)
        return y


class Block(nn.Module):
    def __init__(self, attention):
        super().__init__()
        self.ln1 = nn.LayerNorm(WIDTH)
        self.attn = ExplicitAttention() if attention == "explicit" else MhaAttention()
        self.ln2 = nn.LayerNorm(WIDTH)
        self.fc = nn.Linear(WIDTH, FF)
        self.fc_proj = nn.Linear(FF, WIDTH)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc_proj(F.gelu(self.fc(self.ln2(x))))


class CharTransformer(nn.Module):
    def __init__(self, attention):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, WIDTH)
        self.pos = nn.Embedding(SEQ, WIDTH)
        self.blocks = nn.ModuleList(Block(attention) for _ in range(LAYERS))
        self.ln_f = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, VOCAB, bias=False)  # untied from self.tok

    def forward(self, idx):
        T = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(T))  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))  # (B, T, V)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps (default 10)")
    parser.add_argument("--attention", choices=["explicit", "mha"], default="explicit",
                        help="explicit softmax(QKᵀ/√d + mask)V (default, the faster here) or "
                             "nn.MultiheadAttention")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1, the benchmark's setting)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = CharTransformer(args.attention)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    data = torch.randint(0, VOCAB, (BATCH, SEQ + 1))
    x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, VOCAB), y.view(-1))
        loss.backward()
        opt.step()
        return loss.item()

    n_params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, intra-op threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"char transformer: {n_params} parameters, attention {args.attention}, "
          f"batch {BATCH} x {SEQ}")
    for _ in range(3):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - t0) * 1000.0)
    print(f"loss after {args.steps + 3} steps: {loss:.4f}")
    print("steps (ms): " + " ".join(f"{t:.1f}" for t in times))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak_rss_mb: {peak_kb / 1024:.1f}")
    print(f"torch_ms_per_step: {statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
