"""A shape moving over a flat, saturated backdrop: the mark stays put for the whole chunk, so
the shape's path is flat backdrop in most frames and must not carry a stronger mark (it drew a
visible trail of blocks behind edited videos)."""

from __future__ import annotations

import cv2
import numpy as np

from mutoscope.media.video import decode_mp4, encode_mp4
from mutoscope.provenance.watermark import Watermarker

ORANGE, RED = (255, 140, 0), (220, 30, 30)  # too saturated for v5's chroma steps: v3's mark


def bouncing_triangle(frames: int = 24, h: int = 640, w: int = 360) -> np.ndarray:
    clip = np.empty((frames, h, w, 3), np.uint8)
    clip[:] = ORANGE
    for t in range(frames):
        y, x = int(150 + 300 * abs(np.sin(t / 5))), 100 + 4 * t
        points = np.array([[x, y - 40], [x - 35, y + 25], [x + 35, y + 25]], np.int32)
        cv2.fillPoly(clip[t], [points], RED, lineType=cv2.LINE_AA)
    return clip


def test_a_moving_shape_leaves_no_trail_and_the_mark_survives(tmp_path):
    clip = bouncing_triangle()
    payload = bytes.fromhex("a1b2c3d4e5f6")
    marked = Watermarker().embed(clip, payload)
    change = np.abs(marked.astype(int) - clip.astype(int)).max(axis=-1)
    backdrop = (clip == ORANGE).all(axis=-1)
    trail = backdrop & (~backdrop).any(axis=0)  # backdrop now, the shape in another frame
    assert trail.sum() > 10_000
    # the path is marked like the rest of the backdrop, no stronger
    rest = change[backdrop & ~trail]
    assert change[trail].max() <= rest.max()
    assert change[trail].mean() <= rest.mean() * 1.1
    encode_mp4(marked, tmp_path / "m.mp4", crf=28)
    found = Watermarker().detect(decode_mp4(tmp_path / "m.mp4"))
    assert found.found and found.payload == payload
