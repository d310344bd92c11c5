#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Golden values for aigc_layernorm (tests/engine/nn/test-norm.c).

LayerNorm over the last dim of x [3, 5, 7] with affine weight and bias, eps 1e-5, and the
gradients of x, weight and bias for a random upstream gradient dout. Computed in float64 from
float32 inputs, stored as float32. Run from this folder with /usr/bin/python3; writes
goldens/layernorm.safetensors.
"""
import os

import torch

from st_write import write_safetensors

torch.manual_seed(1234)
C = 7
EPS = 1e-5
x = torch.randn(3, 5, C).float().double().requires_grad_()
weight = (1.0 + 0.5 * torch.randn(C)).float().double().requires_grad_()
bias = (0.3 * torch.randn(C)).float().double().requires_grad_()
dout = torch.randn(3, 5, C).float().double()

out = torch.nn.functional.layer_norm(x, (C,), weight, bias, EPS)
out.backward(dout)

here = os.path.dirname(os.path.abspath(__file__))
write_safetensors(os.path.join(here, "goldens", "layernorm.safetensors"), {
    "x": x, "weight": weight, "bias": bias, "out": out, "dout": dout,
    "dx": x.grad, "dweight": weight.grad, "dbias": bias.grad,
}, metadata={"source": "tests/reference/layernorm.py", "eps": EPS,
             "torch": torch.__version__})
