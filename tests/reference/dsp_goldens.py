#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Golden values for engine/dsp (tests/engine/dsp/test-stft.c, test-mel.c, test-mulaw.c).

STFT / iSTFT come from torch.stft / torch.istft (Hann window, reflect padding when centred),
transposed to the engine's frame-major [frames, bins, 2] layout. torchaudio and librosa are not
in Debian 12, so the mel filterbank is an independent numpy float64 implementation of the
formula of librosa.filters.mel(htk=False, norm="slaney") (= torchaudio mel_scale="slaney",
norm="slaney"); its pseudo-inverse is numpy.linalg.pinv, and mu-law follows the formula of
torchaudio.functional.mu_law_encoding / mu_law_decoding in float64.
Run from this folder with /usr/bin/python3; writes goldens/dsp.safetensors.
"""
import os

import numpy as np
import torch

from st_write import write_safetensors

rng = np.random.RandomState(20240611)
out = {}
meta = {"source": "tests/reference/dsp_goldens.py", "torch": torch.__version__,
        "numpy": np.__version__}


def stft_frame_major(x, n_fft, hop, win, center):
    spec = torch.stft(torch.from_numpy(x), n_fft, hop_length=hop, win_length=win,
                      window=torch.hann_window(win), center=center, pad_mode="reflect",
                      normalized=False, onesided=True, return_complex=True)
    spec = spec.numpy().T  # [frames, bins]
    return np.stack([spec.real, spec.imag], axis=-1).astype(np.float32)


# ---- STFT: a chirp plus noise, two configurations ----
n = 1000
t = np.arange(n) / 8000.0
x = (0.6 * np.sin(2 * np.pi * (200 * t + 1500 * t * t)) + 0.1 * rng.randn(n)).astype(np.float32)
out["stft.x"] = x
out["stft.center"] = stft_frame_major(x, 128, 32, 128, True)        # [32, 65, 2]
out["stft.nocenter"] = stft_frame_major(x[:500], 64, 16, 40, False)  # [28, 33, 2] of x[:500]
# a signal shorter than the centre pad is folded again (numpy "reflect"); torch refuses it, so
# the golden pads with numpy and takes the non-centred STFT of the padded signal
short = rng.randn(40).astype(np.float32)
padded = np.pad(short.astype(np.float64), 64, mode="reflect").astype(np.float32)
out["stft.short.x"] = short
out["stft.short"] = stft_frame_major(padded, 128, 32, 128, False)   # [2, 65, 2]

# ---- iSTFT of a random (inconsistent) spectrogram: overlap-add with window-sum division ----
spec = (rng.randn(20, 33) + 1j * rng.randn(20, 33)).astype(np.complex64)
out["istft.spec"] = np.stack([spec.real, spec.imag], axis=-1).astype(np.float32)
y = torch.istft(torch.from_numpy(spec.T.copy()), 64, hop_length=16, win_length=64,
                window=torch.hann_window(64), center=True, length=19 * 16)
out["istft.y"] = y.numpy()                                           # [304]


# ---- Griffin-Lim from zero phase (deterministic): 8 fast iterations, momentum 0.99, as
# torchaudio.transforms.GriffinLim(rand_init=False) computes them ----
xg = x[:19 * 16]
win = torch.hann_window(64)
S = torch.stft(torch.from_numpy(xg), 64, 16, window=win, center=True, return_complex=True).abs()
angles = torch.ones_like(S, dtype=torch.complex64)
tprev = torch.zeros_like(angles)
for _ in range(8):
    inverse = torch.istft(S * angles, 64, 16, window=win, length=len(xg))
    rebuilt = torch.stft(inverse, 64, 16, window=win, center=True, return_complex=True)
    angles = rebuilt - tprev * (0.99 / 1.99)
    angles = angles / (angles.abs() + 1e-16)
    tprev = rebuilt
out["gl.mag"] = S.numpy().T                                          # [20, 33]
out["gl.y"] = torch.istft(S * angles, 64, 16, window=win, length=len(xg)).numpy()  # [304]


# ---- mel (Slaney scale, Slaney area normalisation) ----
def hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-300) / min_log_hz)
                    / logstep, mels)


def mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filterbank(sr, n_fft, n_mels, fmin, fmax):
    fftfreqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    weights = np.zeros((n_mels, len(fftfreqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    return weights * enorm[:, None]


hz = np.array([0.0, 100.0, 440.0, 999.0, 1000.0, 1001.0, 4000.0, 8000.0, 11025.0])
out["mel.hz"] = hz
out["mel.mel"] = hz_to_mel(hz)

small = mel_filterbank(16000, 256, 40, 0.0, 8000.0)                 # [40, 129]
out["mel.small.weights"] = small
default = mel_filterbank(22050, 1024, 80, 0.0, 8000.0)              # [80, 513]
rows = np.array([0, 1, 10, 40, 79], dtype=np.int32)
out["mel.default.rows"] = rows
out["mel.default.weights"] = default[rows]                          # [5, 513]
out["mel.default.rowsum"] = default.sum(axis=1)                     # [80]

# log-mel of x at 16 kHz: |STFT| (n_fft 256, hop 64, centred) · weightsᵀ, ln(max(·, 1e-5))
x16 = (0.5 * np.sin(2 * np.pi * 440 * np.arange(1000) / 16000)
       + 0.05 * rng.randn(1000)).astype(np.float32)
out["mel.x"] = x16
mag = np.sqrt((stft_frame_major(x16, 256, 64, 256, True).astype(np.float64) ** 2).sum(-1))
small32 = small.astype(np.float32).astype(np.float64)
mel = mag @ small32.T                                              # [16, 40]
out["mel.logmel"] = np.log(np.maximum(mel, 1e-5))
# pseudo-inverse of the stored float32 weights applied to that mel, clipped at 0
out["mel.inverse"] = np.maximum(mel @ np.linalg.pinv(small32).T, 0.0)   # [16, 129]

# ---- mu-law, 256 levels ----
mu = 255.0
xs = np.concatenate([np.linspace(-1.0, 1.0, 801), rng.uniform(-1, 1, 200),
                     [0.0, -0.0, 1.0, -1.0, 1e-6, -1e-6, 1.5, -3.0]]).astype(np.float32)
v = np.clip(xs.astype(np.float64), -1.0, 1.0)
y_mu = np.sign(v) * np.log1p(mu * np.abs(v)) / np.log1p(mu)
q = np.floor((y_mu + 1) / 2 * mu + 0.5).astype(np.int32)
# the float32 torch formula agrees on these inputs (none sits on a level boundary)
xt = torch.from_numpy(np.clip(xs, -1, 1))
qt = ((torch.sign(xt) * torch.log1p(mu * torch.abs(xt)) / np.log1p(mu) + 1) / 2 * mu + 0.5)
assert (qt.to(torch.int64).numpy() == q).all()
out["mulaw.x"] = xs
levels = np.arange(256, dtype=np.float64)
yd = levels / mu * 2 - 1.0
out["mulaw.decoded"] = np.sign(yd) * (np.exp(np.abs(yd) * np.log1p(mu)) - 1.0) / mu

out["mulaw.q"] = q.astype(np.uint8)  # last: U8 would misalign the float tensors after it

here = os.path.dirname(os.path.abspath(__file__))
write_safetensors(os.path.join(here, "goldens", "dsp.safetensors"), out, metadata=meta)
