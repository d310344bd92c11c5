#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch peer of the engine's STFT (see README.md here).

The magnitude STFT of 10 s of audio at 22,050 Hz (n_fft 1024, hop 256, Hann window, centred,
reflect padding), the same work as tests/bench/bench-dsp.c measures, with one torch thread.

Run: /usr/bin/python3 tests/bench/torch_stft.py
The last line printed is `torch_stft_ms: X` (median of 30 runs after 3 warm-ups).
"""
import statistics
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
x = torch.randn(10 * 22050)
window = torch.hann_window(1024)
times = []
for i in range(33):
    t0 = time.perf_counter()
    torch.stft(x, 1024, hop_length=256, window=window, center=True, pad_mode="reflect",
               return_complex=True).abs()
    if i >= 3:
        times.append((time.perf_counter() - t0) * 1000.0)
print(f"torch_stft_ms: {statistics.median(times):.3f}")
