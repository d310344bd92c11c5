#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch peer of the engine's DCGAN training step on 32×32×1 images (see README.md here).

One step = a discriminator update (real batch, then a generated batch, as PyTorch's DCGAN
example: two forward passes, so each batch norm sees one kind of image) followed by a generator
update through the discriminator; BCE-with-logits; two Adam optimisers (lr 2e-4, betas 0.5,
0.999). Batch 64, nz 100, ngf = ndf = 64, convolutions without bias (DCGAN's choice, the batch
norms supply it) except the discriminator's last, weights drawn as N(0, 0.02) as in DCGAN.
The real images are a fixed random batch in [-1, 1); the noise is redrawn every step.

Threads: torch.set_num_threads(1) and OPENBLAS_NUM_THREADS=2 (set below before torch is
imported, unless already in the environment). With oneDNN (PyTorch's default, kept here) the
convolutions run on oneDNN's single OpenMP thread; with --no-mkldnn they are lowered to
im2col + OpenBLAS GEMMs on 2 threads, which measured about 1.8× slower on this machine
(transposed convolutions above all), so oneDNN is the peer to beat.

Run: /usr/bin/python3 tests/bench/torch_dcgan_step.py [--steps N] [--threads N]
                                                       [--no-mkldnn | --mkldnn]
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

BATCH, NZ, NGF, NDF, NC = 64, 100, 64, 64, 1


def generator():
    return nn.Sequential(  # (B, 100, 1, 1) → (B, 1, 32, 32)
        nn.ConvTranspose2d(NZ, NGF * 4, 4, 1, 0, bias=False),  # → 4×4
        nn.BatchNorm2d(NGF * 4), nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False),  # → 8×8
        nn.BatchNorm2d(NGF * 2), nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False),  # → 16×16
        nn.BatchNorm2d(NGF), nn.ReLU(True),
        nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False),  # → 32×32
        nn.Tanh(),
    )


def discriminator():
    return nn.Sequential(  # (B, 1, 32, 32) → (B, 1, 1, 1) logits
        nn.Conv2d(NC, NDF, 4, 2, 1, bias=False),  # → 16×16
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),  # → 8×8
        nn.BatchNorm2d(NDF * 2), nn.LeakyReLU(0.2, True),
        nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False),  # → 4×4
        nn.BatchNorm2d(NDF * 4), nn.LeakyReLU(0.2, True),
        nn.Conv2d(NDF * 4, 1, 4, 1, 0),  # → 1×1
    )


def dcgan_init(module):
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    parser.add_argument("--mkldnn", dest="mkldnn", action="store_true",
                        help="convolutions through oneDNN (the default, faster here)")
    parser.add_argument("--no-mkldnn", dest="mkldnn", action="store_false",
                        help="convolutions as im2col + OpenBLAS GEMMs")
    parser.set_defaults(mkldnn=True)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1, the benchmark's setting)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = args.mkldnn
    torch.manual_seed(0)
    G, D = generator(), discriminator()
    G.apply(dcgan_init)
    D.apply(dcgan_init)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(BATCH, NC, 32, 32) * 2 - 1
    ones, zeros = torch.ones(BATCH), torch.zeros(BATCH)

    def step():
        # Discriminator: real → 1, generated → 0.
        opt_d.zero_grad(set_to_none=True)
        loss_real = F.binary_cross_entropy_with_logits(D(real).view(-1), ones)
        fake = G(torch.randn(BATCH, NZ, 1, 1))
        loss_fake = F.binary_cross_entropy_with_logits(D(fake.detach()).view(-1), zeros)
        loss_d = loss_real + loss_fake
        loss_d.backward()
        opt_d.step()
        # Generator: make the updated discriminator say 1.
        opt_g.zero_grad(set_to_none=True)
        loss_g = F.binary_cross_entropy_with_logits(D(fake).view(-1), ones)
        loss_g.backward()
        opt_g.step()
        return loss_d.item(), loss_g.item()

    n_g = sum(p.numel() for p in G.parameters())
    n_d = sum(p.numel() for p in D.parameters())
    print(f"torch {torch.__version__}, intra-op threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"mkldnn {'on' if args.mkldnn else 'off'}")
    print(f"DCGAN 32x32x1: G {n_g} parameters, D {n_d} parameters, batch {BATCH}")
    for _ in range(3):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss_d, loss_g = step()
        times.append((time.perf_counter() - t0) * 1000.0)
    print(f"after {args.steps + 3} steps: loss_d {loss_d:.4f}, loss_g {loss_g:.4f}")
    print("steps (ms): " + " ".join(f"{t:.1f}" for t in times))
    print(f"torch_ms_per_step: {statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
