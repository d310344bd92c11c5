# SPDX-License-Identifier: MIT
"""Golden values for tests/engine/nn/test-embedding.c: an embedding, a linear head and cross
entropy with ignored targets, as PyTorch computes them (float64, stored as float32).

Run by developers with Debian's python3-torch:
    /usr/bin/python3 tests/reference/embedding_ce.py
writes tests/reference/goldens/embedding_ce.safetensors.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from st_write import write_safetensors  # noqa: E402

V, C, K = 11, 7, 13  # vocabulary, channels, classes
B, T = 3, 5
IGNORE = -100


def main():
    torch.manual_seed(1234)
    emb = torch.nn.Embedding(V, C).double()
    head = torch.nn.Linear(C, K).double()
    # 15 ids from 11 rows: some repeat, so the backward must accumulate rows.
    ids = torch.randint(0, V, (B, T))
    targets = torch.randint(0, K, (B * T,))
    targets[4] = IGNORE
    targets[11] = IGNORE

    x = emb(ids)                       # [B, T, C]
    logits = head(x).reshape(B * T, K)  # [B·T, K]
    loss = torch.nn.functional.cross_entropy(logits, targets, ignore_index=IGNORE)
    loss.backward()

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "goldens",
                       "embedding_ce.safetensors")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_safetensors(out, {
        "ids": ids.to(torch.int32).numpy(),
        "targets": targets.to(torch.int32).numpy(),
        "embedding.weight": emb.weight,
        "head.weight": head.weight,
        "head.bias": head.bias,
        "logits": logits,
        "loss": loss.reshape(1),
        "grad.embedding.weight": emb.weight.grad,
        "grad.head.weight": head.weight.grad,
        "grad.head.bias": head.bias.grad,
    }, metadata={"source": "tests/reference/embedding_ce.py", "torch": torch.__version__})
    print(f"wrote {out}: loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
