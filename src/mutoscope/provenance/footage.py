"""Natural-looking synthetic footage (textured, moving) for watermark tests and benchmarks.

A 1/f-noise colour texture (the power spectrum of natural images) with a sky gradient,
panned like a camera move, with solid objects moving across it: hard for a watermark,
because the texture and its motion interfere with the mark and with the codec.
"""

from __future__ import annotations

import cv2
import numpy as np


def natural_clip(
    frames: int = 48, height: int = 720, width: int = 1280, *, seed: int = 0, pan: int = 300
) -> np.ndarray:
    """(frames, height, width, 3) uint8 RGB."""
    rng = np.random.default_rng(seed)
    big_h, big_w = height + pan // 3 + 1, width + pan + 1
    fy = np.fft.fftfreq(big_h)[:, None]
    fx = np.fft.fftfreq(big_w)[None, :]
    f = np.hypot(fx, fy)
    f[0, 0] = 1.0
    channels = []
    for _ in range(3):
        spec = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f
        img = np.real(np.fft.ifft2(spec))
        channels.append((img - img.mean()) / img.std())
    texture = np.stack(channels, axis=-1).astype(np.float32)
    tint = rng.uniform(80, 150, size=3).astype(np.float32)
    base = (tint + 40 * texture) * (0.6 + 0.6 * np.linspace(0, 1, big_h)[:, None, None])
    out = np.empty((frames, height, width, 3), np.uint8)
    colours = rng.uniform(30, 230, size=(3, 3))
    for t in range(frames):
        x0 = round(t * pan / max(1, frames))
        y0 = round(t * pan / 3 / max(1, frames))
        frame = base[y0 : y0 + height, x0 : x0 + width].copy()
        for k in range(3):
            cx = int((0.2 + 0.3 * k) * width + (t * 4 * (k + 1)) % max(1, width // 4))
            cy = int(height * (0.3 + 0.2 * k))
            axes = (max(2, width // (20 - 3 * k)), max(2, height // 18))
            cv2.ellipse(frame, (cx, cy), axes, t * 3.0, 0, 360, colours[k].tolist(), -1)
        out[t] = np.clip(frame, 0, 255).astype(np.uint8)
    return out


def shapes_clip(
    frames: int = 48, height: int = 720, width: int = 1280, *, seed: int = 0
) -> np.ndarray:
    """Flat gradient backdrop with soft-edged shapes gliding across it: the look of the
    embedded tiny model's output (upscaled 64x64 renders), where flat areas leave a watermark
    nowhere to hide and codecs spend few bits."""
    rng = np.random.default_rng(seed)
    top, bottom = rng.uniform(20, 235, size=(2, 3))
    ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    backdrop = np.broadcast_to(top + (bottom - top) * ramp, (height, width, 3)).astype(np.float32)
    shapes = [
        (
            rng.uniform(0, width),
            rng.uniform(0.2, 0.8) * height,
            rng.uniform(-8, 8),
            rng.uniform(-3, 3),
            rng.uniform(0.05, 0.15) * height,
            rng.uniform(20, 235, size=3),
        )
        for _ in range(3)
    ]
    out = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        frame = backdrop.copy()
        for x, y, vx, vy, r, colour in shapes:
            centre = (int(x + vx * t) % width, int(y + vy * t) % height)
            cv2.circle(frame, centre, int(r), colour.tolist(), -1, lineType=cv2.LINE_AA)
        out[t] = np.clip(cv2.GaussianBlur(frame, (0, 0), 3), 0, 255).astype(np.uint8)
    return out
