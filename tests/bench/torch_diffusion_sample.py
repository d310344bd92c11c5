#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch peer of the engine's diffusion UNet (engine/models/diffusion; see README.md here).

The same network as aigc-diffusion.h, with the same module names (so the engine's weights load
into it by name): sinusoidal timestep embedding → Linear, SiLU, Linear, plus a class embedding
with a null row; conv_in; per level residual blocks (GroupNorm, SiLU, 3×3 conv, + projected
embedding, GroupNorm, SiLU, dropout, 3×3 conv, 1×1 skip where the width changes), 4-head
self-attention at the lowest resolution, stride-2 conv down; a middle res/attn/res; the up path
concatenating skips, nearest ×2 + 3×3 conv up; GroupNorm, SiLU, conv_out.
Default config: 28×28×1, widths 32/64/128, one residual block per level, 10 classes.

Modes:
  --mode sample  DDIM with `trailing` timesteps, eta 0, x̂₀ clipped to [−1, 1], guidance 3 with the
                 conditional and unconditional halves in one batched forward: 50 steps, batch 16.
                 Last line: `torch_sample_ms: X` (median of --runs runs after one warm-up).
  --mode train   one step of batch 64: ε-prediction MSE, backward, clip_grad_norm_(1.0), AdamW,
                 and an EMA update of the weights. Last line: `torch_train_ms_per_step: X`.

Threads: torch.set_num_threads(1) and OPENBLAS_NUM_THREADS=2 (set before torch is imported),
the benchmarks' setting (DESIGN §5).
Run: /usr/bin/python3 tests/bench/torch_diffusion_sample.py [--mode sample|train] [--runs N]
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")  # before importing torch: read at load

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DEFAULT_CONFIG = dict(image_size=28, channels=1, ch=32, ch_mult=(1, 2, 4), n_res_blocks=1,
                      n_heads=4, norm_groups=8, dropout=0.1, n_classes=10, n_timesteps=1000,
                      schedule="cosine")
EPS = 1e-5


def timestep_embedding(t, dim, max_period=10000.0):
    """cos then sin halves, as aigc_timestep_embedding (DDPM / diffusers flip_sin_to_cos)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb_dim, groups, dropout):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=EPS)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb_proj = nn.Linear(emb_dim, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=EPS)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb_act):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(temb_act)[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (x if self.skip is None else self.skip(x)) + h


class AttnBlock(nn.Module):
    def __init__(self, c, n_heads, groups):
        super().__init__()
        self.n_heads = n_heads
        self.norm = nn.GroupNorm(groups, c, eps=EPS)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.proj = nn.Conv2d(c, c, 1)

    def forward(self, x):
        N, C, H, W = x.shape
        nh, D = self.n_heads, C // self.n_heads
        qkv = self.qkv(self.norm(x)).reshape(N, 3, nh, D, H * W).transpose(-1, -2)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]  # (N, nh, P, D)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D), dim=-1)
        y = (att @ v).transpose(-1, -2).reshape(N, C, H, W)
        return x + self.proj(y)


class Level(nn.Module):
    pass


class Mid(nn.Module):
    pass


class UNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        ch, L, G = cfg["ch"], len(cfg["ch_mult"]), cfg["norm_groups"]
        E = 4 * ch
        widths = [ch * m for m in cfg["ch_mult"]]
        self.time_embed = nn.Sequential(nn.Linear(ch, E), nn.SiLU(), nn.Linear(E, E))
        if cfg["n_classes"]:
            self.class_embed = nn.Embedding(cfg["n_classes"] + 1, E)
        self.conv_in = nn.Conv2d(cfg["channels"], ch, 3, padding=1)
        attn_here = [l == L - 1 and cfg["n_heads"] > 0 for l in range(L)]
        self.down = nn.ModuleList()
        cin = ch
        for l in range(L):
            lv = Level()
            lv.res = nn.ModuleList()
            for _ in range(cfg["n_res_blocks"]):
                lv.res.append(ResBlock(cin, widths[l], E, G, cfg["dropout"]))
                cin = widths[l]
            if attn_here[l]:
                lv.attn = nn.ModuleList(AttnBlock(cin, cfg["n_heads"], G)
                                        for _ in range(cfg["n_res_blocks"]))
            if l < L - 1:
                lv.downsample = nn.Conv2d(cin, cin, 3, stride=2, padding=1)
            self.down.append(lv)
        self.mid = Mid()
        self.mid.res = nn.ModuleList([ResBlock(cin, cin, E, G, cfg["dropout"]) for _ in range(2)])
        if cfg["n_heads"] > 0:
            self.mid.attn = AttnBlock(cin, cfg["n_heads"], G)
        self.up = nn.ModuleList()
        for l in range(L):
            lv = Level()
            W = widths[l]
            lv.res = nn.ModuleList(ResBlock(2 * W, W, E, G, cfg["dropout"])
                                   for _ in range(cfg["n_res_blocks"]))
            if attn_here[l]:
                lv.attn = nn.ModuleList(AttnBlock(W, cfg["n_heads"], G)
                                        for _ in range(cfg["n_res_blocks"]))
            if l > 0:
                lv.upsample = nn.Conv2d(W, widths[l - 1], 3, padding=1)
            self.up.append(lv)
        self.norm_out = nn.GroupNorm(G, widths[0], eps=EPS)
        self.conv_out = nn.Conv2d(widths[0], cfg["channels"], 3, padding=1)

    def forward(self, x, t, classes):
        """classes: (N) long, n_classes meaning the null class."""
        emb = self.time_embed(timestep_embedding(t, self.cfg["ch"]))
        if self.cfg["n_classes"]:
            emb = emb + self.class_embed(classes)
        temb_act = F.silu(emb)
        h = self.conv_in(x)
        skips = []
        for lv in self.down:
            for i, res in enumerate(lv.res):
                h = res(h, temb_act)
                if hasattr(lv, "attn"):
                    h = lv.attn[i](h)
                skips.append(h)
            if hasattr(lv, "downsample"):
                h = lv.downsample(h)
        h = self.mid.res[0](h, temb_act)
        if hasattr(self.mid, "attn"):
            h = self.mid.attn(h)
        h = self.mid.res[1](h, temb_act)
        for lv in reversed(self.up):
            for i, res in enumerate(lv.res):
                h = res(torch.cat([h, skips.pop()], dim=1), temb_act)
                if hasattr(lv, "attn"):
                    h = lv.attn[i](h)
            if hasattr(lv, "upsample"):
                h = lv.upsample(F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


def alphas_cumprod(schedule, T):
    """As aigc_beta_schedule_alphas_cumprod (float64)."""
    out, prod = [], 1.0
    for t in range(T):
        if schedule == "linear":
            scale = 1000.0 / T
            lo, hi = scale * 1e-4, scale * 0.02
            beta = lo + (hi - lo) * t / (T - 1)
        else:
            s = 0.008
            f1 = math.cos((t / T + s) / (1 + s) * math.pi / 2)
            f2 = math.cos(((t + 1) / T + s) / (1 + s) * math.pi / 2)
            beta = 1.0 - (f2 * f2) / (f1 * f1)
        prod *= 1.0 - min(beta, 0.999)
        out.append(prod)
    return torch.tensor(out, dtype=torch.float64)


@torch.no_grad()
def ddim_sample(model, abar, classes, steps, guidance, x):
    """DDIM (eta 0) over trailing timesteps with guidance in one batched forward."""
    T = abar.shape[0]
    n = x.shape[0]
    tau = [(i + 1) * T // steps - 1 for i in range(steps)]
    null = torch.full_like(classes, model.cfg["n_classes"])
    cls2 = torch.cat([classes, null])
    for i in reversed(range(steps)):
        a_t = abar[tau[i]].item()
        a_prev = abar[tau[i - 1]].item() if i > 0 else 1.0
        t = torch.full((2 * n,), float(tau[i]))
        e = model(torch.cat([x, x]), t, cls2)
        eps = e[n:] + guidance * (e[:n] - e[n:])
        x0 = ((x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)).clamp(-1, 1)
        eps = (x - math.sqrt(a_t) * x0) / math.sqrt(1 - a_t)
        x = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
    return x


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["sample", "train"], default="sample")
    parser.add_argument("--runs", type=int, default=3, help="timed sampling runs (default 3)")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps (default 10)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1, the benchmark's setting)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = DEFAULT_CONFIG
    model = UNet(cfg)
    abar = alphas_cumprod(cfg["schedule"], cfg["n_timesteps"])
    n_params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, intra-op threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    print(f"UNet: {n_params} parameters")
    S, C = cfg["image_size"], cfg["channels"]
    if args.mode == "sample":
        model.eval()
        classes = torch.arange(16) % cfg["n_classes"]
        times = []
        for r in range(args.runs + 1):
            x = torch.randn(16, C, S, S, generator=torch.Generator().manual_seed(r))
            t0 = time.perf_counter()
            ddim_sample(model, abar, classes, 50, 3.0, x)
            if r > 0:
                times.append((time.perf_counter() - t0) * 1000.0)
        print("runs (ms): " + " ".join(f"{t:.0f}" for t in times))
        print(f"torch_ms_per_sampling_step: {statistics.median(times) / 50:.2f}")
        print(f"torch_sample_ms: {statistics.median(times):.1f}")
        return
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-4, weight_decay=0.0)
    ema = [p.detach().clone() for p in model.parameters()]
    x0 = torch.rand(64, C, S, S) * 2 - 1
    labels = torch.arange(64) % cfg["n_classes"]
    abar32 = abar.float()

    def step(n_updates):
        opt.zero_grad(set_to_none=True)
        t = torch.randint(0, cfg["n_timesteps"], (64,))
        eps = torch.randn_like(x0)
        a = abar32[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        drop = torch.rand(64) < 0.1
        cls = torch.where(drop, torch.full_like(labels, cfg["n_classes"]), labels)
        loss = F.mse_loss(model(xt, t.float(), cls), eps)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        d = min(0.999, (1 + n_updates) / (10 + n_updates))
        with torch.no_grad():
            for e, p in zip(ema, model.parameters()):
                e.mul_(d).add_(p, alpha=1 - d)
        return loss.item()

    for i in range(2):
        step(i)
    times = []
    for i in range(args.steps):
        t0 = time.perf_counter()
        loss = step(i + 2)
        times.append((time.perf_counter() - t0) * 1000.0)
    print(f"loss after {args.steps + 2} steps: {loss:.4f}")
    print("steps (ms): " + " ".join(f"{t:.0f}" for t in times))
    print(f"torch_train_ms_per_step: {statistics.median(times):.1f}")


if __name__ == "__main__":
    main()
