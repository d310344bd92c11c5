#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch peer of the engine's Fashion-MNIST generators (bench-generators; see README.md here).

The networks of engine/models/dcgan/aigc-dcgan.h and engine/models/vae/aigc-vae.h with their
default configs (28×28×1, 10 classes), with the engine's parameter names and shapes; the class
enters as a one-hot matrix (N, K) times a (K, F) class matrix, as in the engine. Batch 64, under
torch.no_grad(), batch norms in eval mode (running statistics):

  --model dcgan            generator: h = fc(z) + onehot·class_embed (no fc bias)
                           → (256, 7, 7) → BN → ReLU → ConvT 4×4 s2 p1 (128, 14, 14) → BN → ReLU
                           → ConvT 4×4 s2 p1 (64, 28, 28) → BN → ReLU → conv 3×3 p1 (+ bias)
                           → tanh; nz 100, ngf 64; no transposed-conv biases.
  --model vae-decode       decoder: z (16) → fc1 + onehot·class_embed → ReLU (512)
                           → fc2 + onehot·class_map → ReLU → (64, 7, 7)
                           → ConvT 4×4 s2 p1 (32, 14, 14) → ReLU → ConvT 4×4 s2 p1 (1, 28, 28)
                           → sigmoid; every layer with a bias.
  --model vae-reconstruct  encoder (2x − 1 → conv 4×4 s2 p1 → ReLU (32, 14, 14) → conv 4×4 s2 p1
                           → ReLU (64, 7, 7) → fc + onehot·class_embed → ReLU (512) → fc_mu,
                           fc_logvar (16 each)), then the decoder of mu.

The last line printed is `torch_<model>_images_per_s: X` (model with `_` for `-`): 64 divided
by the median time of --runs batches after 5 warm-ups.

Threads: torch.set_num_threads(1) and OPENBLAS_NUM_THREADS=2 (set before torch is imported),
the benchmarks' setting (DESIGN §5).
Run: /usr/bin/python3 tests/bench/torch_generators.py --model dcgan|vae-decode|vae-reconstruct
                                                       [--runs N] [--threads N]
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")  # before importing torch: read at load

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

BATCH, IMAGE, CHANNELS, CLASSES = 64, 28, 1, 10
WARMUP = 5


def class_matrix(rows, cols, fan_in):
    """A (K, F) class matrix, U(±1/√fan_in) as aigc_vae_init_weights (fan_in of the layer it adds
    into)."""
    bound = 1.0 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(rows, cols).uniform_(-bound, bound))


class DcganGenerator(nn.Module):
    def __init__(self, nz=100, ngf=64):
        super().__init__()
        s = IMAGE // 4
        self.ngf, self.s = ngf, s
        self.fc = nn.Linear(nz, 4 * ngf * s * s, bias=False)
        self.class_embed = nn.Parameter(torch.empty(CLASSES, 4 * ngf * s * s))
        self.bn0 = nn.BatchNorm2d(4 * ngf)
        self.up1 = nn.ConvTranspose2d(4 * ngf, 2 * ngf, 4, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(2 * ngf)
        self.up2 = nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ngf)
        self.out = nn.Conv2d(ngf, CHANNELS, 3, 1, 1)
        for p in self.parameters():  # DCGAN's initialisation, as aigc_dcgan_init_weights
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)
        for bn in (self.bn0, self.bn1, self.bn2):
            nn.init.normal_(bn.weight, 1.0, 0.02)
            nn.init.zeros_(bn.bias)
        nn.init.zeros_(self.out.bias)

    def forward(self, z, onehot):
        h = self.fc(z) + onehot @ self.class_embed
        h = h.view(-1, 4 * self.ngf, self.s, self.s)
        h = torch.relu(self.bn0(h))
        h = torch.relu(self.bn1(self.up1(h)))
        h = torch.relu(self.bn2(self.up2(h)))
        return torch.tanh(self.out(h))


class VaeEncoder(nn.Module):
    def __init__(self, ch=32, hidden=512, latent=16):
        super().__init__()
        s = IMAGE // 4
        self.conv1 = nn.Conv2d(CHANNELS, ch, 4, 2, 1)
        self.conv2 = nn.Conv2d(ch, 2 * ch, 4, 2, 1)
        self.fc = nn.Linear(2 * ch * s * s, hidden)
        self.class_embed = class_matrix(CLASSES, hidden, 2 * ch * s * s)
        self.fc_mu = nn.Linear(hidden, latent)
        self.fc_logvar = nn.Linear(hidden, latent)

    def forward(self, x, onehot):
        h = torch.relu(self.conv1(x * 2 - 1))
        h = torch.relu(self.conv2(h))
        h = torch.relu(self.fc(h.flatten(1)) + onehot @ self.class_embed)
        return self.fc_mu(h), self.fc_logvar(h)


class VaeDecoder(nn.Module):
    def __init__(self, ch=32, hidden=512, latent=16):
        super().__init__()
        s = IMAGE // 4
        self.ch, self.s = ch, s
        self.fc1 = nn.Linear(latent, hidden)
        self.class_embed = class_matrix(CLASSES, hidden, latent)
        self.fc2 = nn.Linear(hidden, 2 * ch * s * s)
        self.class_map = class_matrix(CLASSES, 2 * ch * s * s, hidden)
        self.up1 = nn.ConvTranspose2d(2 * ch, ch, 4, 2, 1)
        self.up2 = nn.ConvTranspose2d(ch, CHANNELS, 4, 2, 1)

    def forward(self, z, onehot):
        h = torch.relu(self.fc1(z) + onehot @ self.class_embed)
        h = torch.relu(self.fc2(h) + onehot @ self.class_map)
        h = h.view(-1, 2 * self.ch, self.s, self.s)
        h = torch.relu(self.up1(h))
        return torch.sigmoid(self.up2(h))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=("dcgan", "vae-decode", "vae-reconstruct"),
                        default="dcgan")
    parser.add_argument("--runs", type=int, default=20, help="timed batches (default 20)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1, the benchmark's setting)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    onehot = torch.zeros(BATCH, CLASSES)
    onehot[torch.arange(BATCH), torch.arange(BATCH) % CLASSES] = 1.0
    if args.model == "dcgan":
        gen = DcganGenerator().eval()
        z = torch.randn(BATCH, 100)
        modules = [gen]

        def run():
            return gen(z, onehot)
    else:
        encoder, decoder = VaeEncoder().eval(), VaeDecoder().eval()
        z = torch.randn(BATCH, 16)
        images = torch.rand(BATCH, CHANNELS, IMAGE, IMAGE)
        modules = [encoder, decoder]
        if args.model == "vae-decode":
            modules = [decoder]

            def run():
                return decoder(z, onehot)
        else:
            def run():
                mu, _logvar = encoder(images, onehot)
                return decoder(mu, onehot)

    n_params = sum(p.numel() for m in modules for p in m.parameters())
    print(f"torch {torch.__version__}, intra-op threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"mkldnn {'on' if torch.backends.mkldnn.is_available() else 'off'}")
    print(f"{args.model}: {n_params} parameters, batch {BATCH}")
    times = []
    with torch.no_grad():
        for i in range(WARMUP + args.runs):
            t0 = time.perf_counter()
            out = run()
            if i >= WARMUP:
                times.append((time.perf_counter() - t0) * 1000.0)
    assert out.shape == (BATCH, CHANNELS, IMAGE, IMAGE)
    median = statistics.median(times)
    print(f"torch_{args.model.replace('-', '_')}_ms_per_batch: {median:.3f}")
    print(f"torch_{args.model.replace('-', '_')}_images_per_s: {BATCH / (median / 1000.0):.0f}")


if __name__ == "__main__":
    main()
