"""Crops of marked flat footage, to look at: writes the pictures in docs/benchmarks/.

    python bench/watermark_crops.py docs/benchmarks/watermark-v5-flat.png

Rows: a grey-20 backdrop with a red disc, and two of the embedded model's clips (seeds 2 and 1
of bench/watermark.py's prompts: a dark-grey and a near-white backdrop), frame 0 at
1280x720. Columns of the first picture (1:1, 320x180 px each): unmarked, v5 as first landed
(margin 2.0, no colour limit), v5 now, then the Cb change of each (blurred sigma 2 px, x16
around mid-grey). The second picture (``-x8`` beside it, half size) shows the three crops with
their difference from the backdrop amplified 8x: what a careful look could find.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from watermark import backdrop_clip, tiny_clips

from mutoscope.provenance.watermark import Watermarker

PAYLOAD = bytes.fromhex("5eed00c0ffee")
_CB = np.array([-0.168736, -0.331264, 0.5], np.float32)
Y0, X0, H, W = 240, 640, 180, 320


def rows(clips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    marks = (None, Watermarker(chroma_strength=2.0, chroma_de=0.0), Watermarker())
    plain, amplified = [], []
    for clip in clips:
        frames = [clip[0] if m is None else m.embed(clip, PAYLOAD)[0] for m in marks]
        crops = [f[Y0 : Y0 + H, X0 : X0 + W] for f in frames]
        changes = []
        for f in frames[1:]:
            cb = cv2.GaussianBlur((f.astype(np.float32) - clip[0]) @ _CB, (0, 0), 2.0)
            grey = np.clip(128 + 16 * cb[Y0 : Y0 + H, X0 : X0 + W], 0, 255).astype(np.uint8)
            changes.append(cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB))
        plain.append(_join([*crops, *changes], axis=1))
        backdrop = np.median(crops[0].reshape(-1, 3), axis=0)
        stretched = [
            np.clip(
                128 + 8 * (cv2.GaussianBlur(c.astype(np.float32), (0, 0), 1.0) - backdrop), 0, 255
            ).astype(np.uint8)
            for c in crops
        ]
        amplified.append(_join(stretched, axis=1))
    return _join(plain, axis=0), _join(amplified, axis=0)


def _join(images: list[np.ndarray], axis: int) -> np.ndarray:
    """Images side by side (axis 1) or stacked (axis 0) with 4-px grey separators."""
    out = [images[0]]
    for image in images[1:]:
        shape = list(image.shape)
        shape[axis] = 4
        out += [np.full(shape, 128, np.uint8), image]
    return np.concatenate(out, axis=axis)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG to write (the x8 one goes beside it)")
    args = parser.parse_args()
    model = tiny_clips(3, 24, "1280x720")
    clips = [backdrop_clip(4, 720, 1280, (20, 20, 20))]
    if model is not None:
        clips += [model[0][2], model[0][1]]
    plain, amplified = rows(clips)
    png = [cv2.IMWRITE_PNG_COMPRESSION, 9]
    cv2.imwrite(str(args.out), cv2.cvtColor(plain, cv2.COLOR_RGB2BGR), png)
    small = cv2.resize(amplified, (amplified.shape[1] // 2, amplified.shape[0] // 2))
    x8 = args.out.with_name(args.out.stem + "-x8" + args.out.suffix)
    cv2.imwrite(str(x8), cv2.cvtColor(small, cv2.COLOR_RGB2BGR), png)
    print(f"wrote {args.out} and {x8}")


if __name__ == "__main__":
    main()
