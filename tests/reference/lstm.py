#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Golden values for aigc_lstm and aigc_lstm_cell (tests/engine/nn/test-rnn.c).

Run by developers with /usr/bin/python3 (Debian python3-torch); writes goldens/lstm.safetensors.
A one-layer batch_first nn.LSTM (B=2, T=16, I=5, H=7) with random h0/c0, and an nn.LSTMCell
(B=3) sharing its weights, both in float64: inputs, weights, outputs, the upstream gradients
used and the gradients of every input and weight.
"""
import os

import torch

from st_write import write_safetensors

B, T, I, H = 2, 16, 5, 7
B_CELL = 3


def main():
    torch.manual_seed(1234)
    lstm = torch.nn.LSTM(I, H, batch_first=True).double()
    x = torch.randn(B, T, I, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)
    out, (h_n, c_n) = lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
    h_n, c_n = h_n.squeeze(0), c_n.squeeze(0)
    dout = torch.randn_like(out)
    dh_n = torch.randn_like(h_n)
    dc_n = torch.randn_like(c_n)
    torch.autograd.backward([out, h_n, c_n], [dout, dh_n, dc_n])
    t = {
        "x": x, "h0": h0, "c0": c0,
        "w_ih": lstm.weight_ih_l0, "w_hh": lstm.weight_hh_l0,
        "b_ih": lstm.bias_ih_l0, "b_hh": lstm.bias_hh_l0,
        "out": out, "h_n": h_n, "c_n": c_n,
        "dout": dout, "dh_n": dh_n, "dc_n": dc_n,
        "dx": x.grad, "dh0": h0.grad, "dc0": c0.grad,
        "dw_ih": lstm.weight_ih_l0.grad, "dw_hh": lstm.weight_hh_l0.grad,
        "db_ih": lstm.bias_ih_l0.grad, "db_hh": lstm.bias_hh_l0.grad,
    }

    cell = torch.nn.LSTMCell(I, H).double()
    with torch.no_grad():
        cell.weight_ih.copy_(lstm.weight_ih_l0)
        cell.weight_hh.copy_(lstm.weight_hh_l0)
        cell.bias_ih.copy_(lstm.bias_ih_l0)
        cell.bias_hh.copy_(lstm.bias_hh_l0)
    cx = torch.randn(B_CELL, I, dtype=torch.float64, requires_grad=True)
    ch = torch.randn(B_CELL, H, dtype=torch.float64, requires_grad=True)
    cc = torch.randn(B_CELL, H, dtype=torch.float64, requires_grad=True)
    h1, c1 = cell(cx, (ch, cc))
    dh1 = torch.randn_like(h1)
    dc1 = torch.randn_like(c1)
    torch.autograd.backward([h1, c1], [dh1, dc1])
    t.update({
        "cell.x": cx, "cell.h": ch, "cell.c": cc, "cell.h_out": h1, "cell.c_out": c1,
        "cell.dh_out": dh1, "cell.dc_out": dc1,
        "cell.dx": cx.grad, "cell.dh": ch.grad, "cell.dc": cc.grad,
        "cell.dw_ih": cell.weight_ih.grad, "cell.dw_hh": cell.weight_hh.grad,
        "cell.db_ih": cell.bias_ih.grad, "cell.db_hh": cell.bias_hh.grad,
    })
    here = os.path.dirname(os.path.abspath(__file__))
    write_safetensors(os.path.join(here, "goldens", "lstm.safetensors"), t,
                      metadata={"source": "tests/reference/lstm.py",
                                "torch": torch.__version__})


if __name__ == "__main__":
    main()
