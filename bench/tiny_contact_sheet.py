"""Before/after contact sheet of ``mutoscope-tiny``'s object layers (docs/benchmarks/).

For each prompt and seed, one 1280x720 frame rendered as before the object layers (the decoded
64-px frames, interpolated and resized) and as now, from the same keyframes: the centre
square of each, then a 2x close-up of the object's edge.

    python bench/tiny_contact_sheet.py docs/benchmarks/tiny-layers.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.tiny import TinyBackend

SHOTS = (  # prompt, seed, frame: the first three drew a ghost before
    ("a yellow lozenge sliding diagonally up-right against a lavender background", 78, 30),
    ("a purple cross heading diagonally down-right over a shaded yellow backdrop", 92, 84),
    ("a golden rhombus heading downward on a snowy backdrop", 86, 20),
    ("a red circle moving left on a blue background", 0, 48),
)
TILE = 300


def _frame(backend: TinyBackend, prompt: str, seed: int, index: int, layers: bool) -> np.ndarray:
    request = GenerationRequest(
        prompt=prompt,
        size="1280x720",
        seconds="4",
        seed=seed,
        options={"layers": layers, "audio": False},
    )
    return backend.generate(request, lambda _f: None).frames[index][:, 280:1000]


def _close_up(frame: np.ndarray, around: np.ndarray) -> np.ndarray:
    far = np.abs(around.astype(int) - np.median(around, axis=(0, 1))).sum(-1) > 150
    ys, xs = np.nonzero(far)
    cy, cx = (int(ys.mean()), int(xs.max())) if len(xs) else (360, 360)
    half = TILE // 4
    cy, cx = min(max(cy, half), 720 - half), min(max(cx, half), 720 - half)
    crop = frame[cy - half : cy + half, cx - half : cx + half]
    return cv2.resize(crop, (TILE, TILE), interpolation=cv2.INTER_NEAREST)


def main(argv: list[str] | None = None) -> int:
    out = Path((argv or sys.argv[1:] or ["docs/benchmarks/tiny-layers.png"])[0])
    torch.set_num_threads(2)
    backend = TinyBackend()
    rows = []
    for prompt, seed, index in SHOTS:
        before = _frame(backend, prompt, seed, index, layers=False)
        after = _frame(backend, prompt, seed, index, layers=True)
        small = [cv2.resize(f, (TILE, TILE), interpolation=cv2.INTER_AREA) for f in (before, after)]
        rows.append(np.concatenate([*small, _close_up(before, after), _close_up(after, after)], 1))
        print(f"{prompt} (seed {seed}, frame {index})")
    sheet = np.concatenate(rows, 0)
    cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"columns: before, after, before close-up, after close-up -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
