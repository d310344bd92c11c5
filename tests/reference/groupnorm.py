#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Golden values for aigc_groupnorm (tests/engine/nn/test-norm.c).

GroupNorm with 3 groups over x [N=2, C=6, H=5, W=3], affine weight and bias, eps 1e-5, and the
gradients of x, weight and bias for a random upstream gradient dout. Computed in float64 from
float32 inputs, stored as float32. Run from this folder with /usr/bin/python3; writes
goldens/groupnorm.safetensors.
"""
import os

import torch

from st_write import write_safetensors

torch.manual_seed(4321)
N, C, G, H, W = 2, 6, 3, 5, 3
EPS = 1e-5
# An offset and a per-channel scale, so the statistics are not those of a standard normal.
x = (0.5 + torch.randn(N, C, H, W) * torch.linspace(0.5, 2.0, C).view(1, C, 1, 1))
x = x.float().double().requires_grad_()
weight = (1.0 + 0.5 * torch.randn(C)).float().double().requires_grad_()
bias = (0.3 * torch.randn(C)).float().double().requires_grad_()
dout = torch.randn(N, C, H, W).float().double()

out = torch.nn.functional.group_norm(x, G, weight, bias, EPS)
out.backward(dout)

here = os.path.dirname(os.path.abspath(__file__))
write_safetensors(os.path.join(here, "goldens", "groupnorm.safetensors"), {
    "x": x, "weight": weight, "bias": bias, "out": out, "dout": dout,
    "dx": x.grad, "dweight": weight.grad, "dbias": bias.grad,
}, metadata={"source": "tests/reference/groupnorm.py", "groups": G, "eps": EPS,
             "torch": torch.__version__})
