# SPDX-License-Identifier: MIT
"""Golden values for a causal dilated conv1d (tests/engine/nn/test-conv.c,
/engine/nn/conv1d/golden), as in WaveNet: the input is padded with (k − 1)·dilation zeros on
the left only, so out[t] depends on x[≤ t].

x [2, 3, 9], weight [4, 3, 3], bias [4], dilation 2, stride 1 → out [2, 4, 9]; dout is a random
upstream gradient and dx, dweight, dbias the gradients it gives. Computed in float64, stored as
float32. Run with /usr/bin/python3 from this folder.
"""
import os

import torch
import torch.nn.functional as F

from st_write import write_safetensors

torch.manual_seed(2024)
k, dilation = 3, 2
x = torch.randn(2, 3, 9, dtype=torch.float64, requires_grad=True)
weight = (0.3 * torch.randn(4, 3, k, dtype=torch.float64)).requires_grad_()
bias = torch.randn(4, dtype=torch.float64, requires_grad=True)
out = F.conv1d(F.pad(x, ((k - 1) * dilation, 0)), weight, bias, dilation=dilation)
dout = torch.randn_like(out)
out.backward(dout)

here = os.path.dirname(os.path.abspath(__file__))
write_safetensors(os.path.join(here, "goldens", "conv1d_causal.safetensors"), {
    "x": x, "weight": weight, "bias": bias, "out": out, "dout": dout,
    "dx": x.grad, "dweight": weight.grad, "dbias": bias.grad,
}, metadata={"source": "tests/reference/conv1d_causal.py", "torch": torch.__version__})
