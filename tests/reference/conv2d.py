# SPDX-License-Identifier: MIT
"""Golden values for conv2d (tests/engine/nn/test-conv.c, /engine/nn/conv2d/golden).

x [2, 3, 7, 7], weight [4, 3, 3, 3], bias [4], stride 2, padding 1 → out [2, 4, 4, 4];
dout is a random upstream gradient and dx, dweight, dbias the gradients it gives.
Computed in float64, stored as float32. Run with /usr/bin/python3 from this folder.
"""
import os

import torch
import torch.nn.functional as F

from st_write import write_safetensors

torch.manual_seed(1234)
x = torch.randn(2, 3, 7, 7, dtype=torch.float64, requires_grad=True)
weight = (0.3 * torch.randn(4, 3, 3, 3, dtype=torch.float64)).requires_grad_()
bias = torch.randn(4, dtype=torch.float64, requires_grad=True)
out = F.conv2d(x, weight, bias, stride=2, padding=1)
dout = torch.randn_like(out)
out.backward(dout)

here = os.path.dirname(os.path.abspath(__file__))
write_safetensors(os.path.join(here, "goldens", "conv2d.safetensors"), {
    "x": x, "weight": weight, "bias": bias, "out": out, "dout": dout,
    "dx": x.grad, "dweight": weight.grad, "dbias": bias.grad,
}, metadata={"source": "tests/reference/conv2d.py", "torch": torch.__version__})
