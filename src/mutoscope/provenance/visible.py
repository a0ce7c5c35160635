"""The visible "Made with Mutoscope" mark: small, translucent, and drifting so it is not
trivially cropped or inpainted away. Drawn after generation, on copies of the frames."""

from __future__ import annotations

import cv2
import numpy as np

from mutoscope.errors import InvalidRequest

OPACITY = 0.55
MARGIN = 0.03
"""Distance from the frame edge, as a fraction of the shorter side."""


def draw_visible_mark(frames: np.ndarray, text: str = "Made with Mutoscope") -> np.ndarray:
    """Return (T, H, W, 3) uint8 frames with ``text`` drawn as a small moving badge.

    The badge is about 4 % of the shorter side tall and glides between the four corners
    (one corner to the next every two seconds at 24 fps).
    """
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise InvalidRequest(f"frames must be (T, H, W, 3) uint8, got {frames.shape}")
    text = text.strip()
    if not text:
        return frames
    h, w = frames.shape[1:3]
    sprite, alpha = _badge(text, height=max(12, round(min(h, w) * 0.04)))
    sh, sw = sprite.shape[:2]
    if sw > w or sh > h:  # tiny frames: shrink the badge to fit
        scale = min(w / sw, h / sh) * 0.9
        sprite = cv2.resize(sprite, (max(1, int(sw * scale)), max(1, int(sh * scale))))
        alpha = cv2.resize(alpha, (sprite.shape[1], sprite.shape[0]))
        sh, sw = sprite.shape[:2]
    out = frames.copy()
    for t in range(len(out)):
        y, x = _position(t, h - sh, w - sw, margin=round(min(h, w) * MARGIN))
        region = out[t, y : y + sh, x : x + sw].astype(np.float32)
        blended = region * (1 - alpha[..., None]) + sprite * alpha[..., None]
        out[t, y : y + sh, x : x + sw] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out


def _badge(text: str, *, height: int) -> tuple[np.ndarray, np.ndarray]:
    """White text on a dark rounded plate: (sprite RGB float32, alpha float32)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = height / 30.0
    thickness = max(1, round(height / 14))
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    pad = max(2, height // 4)
    sw, sh = tw + 2 * pad, th + base + 2 * pad
    plate = np.zeros((sh, sw), np.uint8)
    cv2.rectangle(plate, (0, 0), (sw - 1, sh - 1), 255, thickness=-1)
    ink = np.zeros((sh, sw), np.uint8)
    cv2.putText(ink, text, (pad, pad + th), font, scale, 255, thickness, cv2.LINE_AA)
    ink_f = ink.astype(np.float32) / 255
    sprite = np.repeat((20 + 235 * ink_f)[..., None], 3, axis=2)
    alpha = (plate.astype(np.float32) / 255) * (0.35 + 0.65 * ink_f) * OPACITY / 0.65
    return sprite, np.clip(alpha, 0, 1)


def _position(t: int, max_y: int, max_x: int, *, margin: int) -> tuple[int, int]:
    """Glide clockwise between the corners; ``t`` in frames, 48 frames per leg."""
    corners = [
        (margin, margin),
        (margin, max_x - margin),
        (max_y - margin, max_x - margin),
        (max_y - margin, margin),
    ]
    leg, frac = divmod(t / 48.0, 1.0)
    a, b = corners[int(leg) % 4], corners[(int(leg) + 1) % 4]
    ease = frac * frac * (3 - 2 * frac)
    y = round(a[0] + (b[0] - a[0]) * ease)
    x = round(a[1] + (b[1] - a[1]) * ease)
    return min(max(y, 0), max(max_y, 0)), min(max(x, 0), max(max_x, 0))
