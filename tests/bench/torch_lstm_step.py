#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch peer of the engine's character-LSTM training step (see README.md here).

One step = forward, cross-entropy, backward and an Adam update (lr 1e-3, PyTorch's defaults)
on a fixed random batch of 32 sequences of 128 tokens. Model: Embedding(96, 256) → 2-layer
nn.LSTM(256, 256, batch_first=True), zero initial state, no dropout → Linear(256, 96).

Threads: torch.set_num_threads(1) and OPENBLAS_NUM_THREADS=2 (set below before torch is
imported, unless already in the environment), so the matrix products run on OpenBLAS's
2 threads, as the engine's do.

Run: /usr/bin/python3 tests/bench/torch_lstm_step.py [--steps N] [--threads N]
The last line printed is `torch_ms_per_step: X` (median of N timed steps after 3 warm-ups).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")  # before importing torch: read at load

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

VOCAB, WIDTH, LAYERS, SEQ, BATCH = 96, 256, 2, 128, 32


class CharLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, WIDTH)
        self.lstm = nn.LSTM(WIDTH, WIDTH, num_layers=LAYERS, batch_first=True)
        self.head = nn.Linear(WIDTH, VOCAB)

    def forward(self, idx):
        h, _ = self.lstm(self.embed(idx))  # (B, T, C); gates i, f, g, o
        return self.head(h)  # (B, T, V)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps (default 10)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1, the benchmark's setting)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = CharLstm()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.randint(0, VOCAB, (BATCH, SEQ + 1))
    x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.view(-1))
        loss.backward()
        opt.step()
        return loss.item()

    n_params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, intra-op threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"char LSTM: {n_params} parameters, batch {BATCH} x {SEQ}")
    for _ in range(3):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - t0) * 1000.0)
    print(f"loss after {args.steps + 3} steps: {loss:.4f}")
    print("steps (ms): " + " ".join(f"{t:.1f}" for t in times))
    print(f"torch_ms_per_step: {statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
