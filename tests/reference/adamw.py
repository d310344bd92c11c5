# SPDX-License-Identifier: MIT
"""Golden values for the AdamW optimiser (tests/engine/optim/test-optim.c).

Run by developers with /usr/bin/python3 (python3-torch); writes goldens/adamw.safetensors:
  w0 [3, 5], b0 [5]                  the initial parameters
  grad_w [10, 3, 5], grad_b [10, 5]  the gradient fed at each of the 10 steps
  w_steps [10, 3, 5], b_steps [10, 5]        parameters after each torch.optim.AdamW step
                                             (lr 1e-2, betas (0.9, 0.95), eps 1e-8, wd 0.1)
  w_steps_nd [10, 3, 5], b_steps_nd [10, 5]  the same with b in a group without weight decay
Computed in float64, stored as float32.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from st_write import write_safetensors  # noqa: E402

N_STEPS = 10
LR, BETAS, EPS, WD = 1e-2, (0.9, 0.95), 1e-8, 0.1


def run(w0, b0, grads_w, grads_b, decay_b):
    w = torch.nn.Parameter(w0.clone())
    b = torch.nn.Parameter(b0.clone())
    groups = [{"params": [w]}, {"params": [b], "weight_decay": WD if decay_b else 0.0}]
    opt = torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
    w_steps, b_steps = [], []
    for k in range(N_STEPS):
        w.grad = grads_w[k].clone()
        b.grad = grads_b[k].clone()
        opt.step()
        w_steps.append(w.detach().clone())
        b_steps.append(b.detach().clone())
    return torch.stack(w_steps), torch.stack(b_steps)


def main():
    torch.manual_seed(1234)
    # Rounded to float32 first, so the C test starts from exactly the same numbers.
    w0 = torch.randn(3, 5).float().double()
    b0 = torch.randn(5).float().double()
    # Gradients of varied scale (some tiny, so eps and the bias correction both matter).
    scale_w = torch.logspace(-3, 0, 5).repeat(3, 1)
    grads_w = (torch.randn(N_STEPS, 3, 5) * scale_w).float().double()
    grads_b = (torch.randn(N_STEPS, 5) * 0.5).float().double()
    w_steps, b_steps = run(w0, b0, grads_w, grads_b, decay_b=True)
    w_steps_nd, b_steps_nd = run(w0, b0, grads_w, grads_b, decay_b=False)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "goldens", "adamw.safetensors")
    write_safetensors(out, {
        "w0": w0, "b0": b0, "grad_w": grads_w, "grad_b": grads_b,
        "w_steps": w_steps, "b_steps": b_steps,
        "w_steps_nd": w_steps_nd, "b_steps_nd": b_steps_nd,
    }, metadata={"source": "tests/reference/adamw.py", "torch": torch.__version__,
                 "lr": LR, "betas": BETAS, "eps": EPS, "weight_decay": WD})
    print("wrote", out)


if __name__ == "__main__":
    main()
