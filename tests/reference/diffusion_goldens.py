#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Golden values for the diffusion UNet (tests/models/diffusion/test-diffusion.c).

A tiny UNet of the engine's architecture — the PyTorch module of
tests/bench/torch_diffusion_sample.py — with random weights everywhere (none left at zero), so
every branch counts: 8×8 images with 2 channels, widths 4 and 8, one residual block per level,
2-head attention at 4×4, 4 groups, 3 classes. The file holds the weights under their module
names with the model metadata the engine reads ("family", "diffusion.config",
"diffusion.classes"), so aigc_diffusion_load() opens it as a model, plus the inputs x (4, 2, 8, 8),
t (4) and classes (4; −1 = the null class) and the output eps (4, 2, 8, 8); and ᾱ of the cosine
and linear schedules over 1000 steps (float64 in the script, stored as F32).
Run from this folder with /usr/bin/python3; writes goldens/diffusion.safetensors.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from torch_diffusion_sample import UNet, alphas_cumprod  # noqa: E402
from st_write import write_safetensors  # noqa: E402

CONFIG = dict(image_size=8, channels=2, ch=4, ch_mult=(1, 2), n_res_blocks=1, n_heads=2,
              norm_groups=2, dropout=0.0, n_classes=3, n_timesteps=1000, schedule="cosine")

torch.manual_seed(20240612)
model = UNet(CONFIG).eval()
with torch.no_grad():
    for name, p in model.named_parameters():
        if "norm" in name:  # gains around 1, shifts around 0
            p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.3 * torch.randn_like(p))
        else:
            p.copy_(torch.randn_like(p) / max(1.0, p[0].numel()) ** 0.5)

x = torch.randn(4, 2, 8, 8)
t = torch.tensor([0.0, 17.0, 500.0, 999.0])
classes = torch.tensor([0, 2, 3, 1])  # 3 = the null class (−1 in the engine)
with torch.no_grad():
    eps = model(x, t, classes)

out = {name: p for name, p in model.named_parameters()}
out["x"] = x
out["t"] = t
out["classes"] = torch.where(classes == 3, torch.tensor(-1), classes).to(torch.int32).numpy()
out["eps"] = eps
out["alphas_cumprod.cosine"] = alphas_cumprod("cosine", 1000)
out["alphas_cumprod.linear"] = alphas_cumprod("linear", 1000)
config = {"image_size": 8, "channels": 2, "ch": 4, "ch_mult": [1, 2], "n_res_blocks": 1,
          "n_heads": 2, "norm_groups": 2, "dropout": 0.0, "n_classes": 3, "schedule": "cosine",
          "n_timesteps": 1000, "prediction": "epsilon"}
meta = {"source": "tests/reference/diffusion_goldens.py", "torch": torch.__version__,
        "family": "diffusion", "diffusion.config": json.dumps(config),
        "diffusion.classes": json.dumps(["Circle", "Square", "Triangle"])}
here = os.path.dirname(os.path.abspath(__file__))
write_safetensors(os.path.join(here, "goldens", "diffusion.safetensors"), out, metadata=meta)
print(f"{sum(p.numel() for p in model.parameters())} parameters; eps[0, 0, 0, :4] =",
      eps[0, 0, 0, :4].tolist())
