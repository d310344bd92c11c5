#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch peer of the `gpt-en` training step (tests/bench/bench-gpt-train.c).

The Llama layout of engine/models/gpt: token embedding, dropout, then per layer
x += dropout(Wo·attn(rope(Wq·rms(x)), rope(Wk·rms(x)), Wv·rms(x))) and
x += dropout(W2·(silu(W1·rms(x)) * W3·rms(x))), final RMS norm, untied head; no biases.
Rotary positions rotate consecutive pairs (llama2.c's layout). dim 256, 4 layers, 8 heads,
SwiGLU 704, vocabulary 2048, dropout 0.1, batch 16 × 256. One step = forward, cross-entropy,
backward, clip_grad_norm_(1.0), AdamW(lr 1e-3, betas (0.9, 0.95), weight decay 0.1 on matrices,
0 on norms).

Threads: torch.set_num_threads(1) and OPENBLAS_NUM_THREADS=2 (set before torch is imported), the
fastest PyTorch setting on this machine: the matrix products run on OpenBLAS's 2 threads.

Run: /usr/bin/python3 tests/bench/torch_gpt_step.py [--steps N] [--threads N]
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

VOCAB, DIM, LAYERS, HEADS, HIDDEN, SEQ, BATCH, DROPOUT = 2048, 256, 4, 8, 704, 256, 16, 0.1
EPS, THETA = 1e-5, 10000.0


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * self.weight


def rope_tables(hd, T):
    freqs = 1.0 / (THETA ** (torch.arange(0, hd, 2).float() / hd))  # (hd/2)
    ang = torch.outer(torch.arange(T).float(), freqs)  # (T, hd/2)
    return ang.cos(), ang.sin()


def rope(x, cos, sin):
    """x (B, H, T, hd): rotate consecutive pairs (x0, x1) by the position's angle."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn_norm = RMSNorm(DIM)
        self.wq = nn.Linear(DIM, DIM, bias=False)
        self.wk = nn.Linear(DIM, DIM, bias=False)
        self.wv = nn.Linear(DIM, DIM, bias=False)
        self.wo = nn.Linear(DIM, DIM, bias=False)
        self.ffn_norm = RMSNorm(DIM)
        self.w1 = nn.Linear(DIM, HIDDEN, bias=False)
        self.w2 = nn.Linear(HIDDEN, DIM, bias=False)
        self.w3 = nn.Linear(DIM, HIDDEN, bias=False)
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x, cos, sin, mask):
        B, T, C = x.shape
        hd = C // HEADS
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, HEADS, hd).transpose(1, 2)  # (B, H, T, hd)
        k = self.wk(h).view(B, T, HEADS, hd).transpose(1, 2)
        v = self.wv(h).view(B, T, HEADS, hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        att = torch.baddbmm(mask[:T, :T].expand(B * HEADS, T, T), q.reshape(B * HEADS, T, hd),
                            k.reshape(B * HEADS, T, hd).transpose(1, 2), alpha=1.0 / math.sqrt(hd))
        att = F.softmax(att, dim=-1)  # (B·H, T, T)
        y = torch.bmm(att, v.reshape(B * HEADS, T, hd)).view(B, HEADS, T, hd)
        x = x + self.drop(self.wo(y.transpose(1, 2).reshape(B, T, C)))
        h = self.ffn_norm(x)
        return x + self.drop(self.w2(F.silu(self.w1(h)) * self.w3(h)))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, DIM)
        self.drop = nn.Dropout(DROPOUT)
        self.layers = nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = RMSNorm(DIM)
        self.head = nn.Linear(DIM, VOCAB, bias=False)
        cos, sin = rope_tables(DIM // HEADS, SEQ)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)
        self.register_buffer("mask", torch.full((SEQ, SEQ), float("-inf")).triu(1))

    def forward(self, ids):
        x = self.drop(self.tok(ids))
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.mask)
        return self.head(self.norm(x))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps (default 10)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1, the benchmark's setting)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Gpt()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95))
    x = torch.randint(0, VOCAB, (BATCH, SEQ))
    y = torch.randint(0, VOCAB, (BATCH, SEQ))

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, VOCAB), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    n_params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, intra-op threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"gpt: {n_params} parameters, batch {BATCH} x {SEQ}")
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
