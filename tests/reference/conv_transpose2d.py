# SPDX-License-Identifier: MIT
"""Golden values for conv_transpose2d (tests/engine/nn/test-conv.c,
/engine/nn/conv-transpose2d/golden).

x [2, 3, 5, 5], weight [3, 4, 3, 3] (PyTorch's [in, out, kh, kw]), bias [4], stride 2,
padding 1, output_padding 1 → out [2, 4, 10, 10]; dout is a random upstream gradient and dx,
dweight, dbias the gradients it gives. Computed in float64, stored as float32.
Run with /usr/bin/python3 from this folder.
"""
import os

import torch
import torch.nn.functional as F

from st_write import write_safetensors

torch.manual_seed(4321)
x = torch.randn(2, 3, 5, 5, dtype=torch.float64, requires_grad=True)
weight = (0.3 * torch.randn(3, 4, 3, 3, dtype=torch.float64)).requires_grad_()
bias = torch.randn(4, dtype=torch.float64, requires_grad=True)
out = F.conv_transpose2d(x, weight, bias, stride=2, padding=1, output_padding=1)
dout = torch.randn_like(out)
out.backward(dout)

here = os.path.dirname(os.path.abspath(__file__))
write_safetensors(os.path.join(here, "goldens", "conv_transpose2d.safetensors"), {
    "x": x, "weight": weight, "bias": bias, "out": out, "dout": dout,
    "dx": x.grad, "dweight": weight.grad, "dbias": bias.grad,
}, metadata={"source": "tests/reference/conv_transpose2d.py", "torch": torch.__version__})
