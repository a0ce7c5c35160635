"""Edge sharpness of ``mutoscope-tiny`` at the output size.

Generates a clip per prompt at 1280x720 through the real backend and measures, on eight
evenly spaced frames, how wide each object's edge is: the object's coverage is read per pixel
as its place between the row's backdrop colour and the object's solid colour, and the width is
the number of pixels whose coverage lies between 10 % and 90 %, per pixel of the object's
outline (its 50 % contour). An anti-aliased drawing is about 1 pixel wide; the 64-px frames
resized to 720p are about 20. ``--before`` renders as before the object layers.

    python bench/tiny_sharpness.py            # object layers (the default rendering)
    python bench/tiny_sharpness.py --before   # the decoded 64-px frames, resized
    python bench/tiny_sharpness.py --ideal    # the prompts' scenes drawn at 720p (reference)
"""

from __future__ import annotations

import argparse
import statistics
import sys

import cv2
import numpy as np
import torch

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.tiny import TinyBackend
from mutoscope.models.tiny import world
from mutoscope.models.tiny.vocabulary import read_prompt

PROMPTS = (
    "a red circle moving left on a blue background",
    "a yellow square bouncing on a purple background",
    "a white triangle moving up on a green background",
    "an orange diamond growing on a black background",
    "a blue cross moving right on a yellow background",
    "a green circle moving down on a white background",
    "a purple square moving up-right on an orange background",
    "a black triangle bouncing on a red gradient background",
)


def edge_widths(frame: np.ndarray, min_area: int = 400) -> list[float]:
    """10-90 % edge width (pixels) of each object in ``frame`` (H, W, 3) uint8."""
    img = frame.astype(np.float32)
    rows = np.median(img, axis=1, keepdims=True)
    far = np.abs(img - rows).sum(-1)
    count, labels, stats, _ = cv2.connectedComponentsWithStats((far > 60).astype(np.uint8))
    widths = []
    for j in range(1, count):
        if stats[j, cv2.CC_STAT_AREA] < min_area:
            continue
        inside = labels == j
        solid = inside & (far > 0.9 * np.percentile(far[inside], 90))
        colour = np.median(img[solid], axis=0)
        span = colour - rows
        cover = ((img - rows) * span).sum(-1) / np.maximum((span**2).sum(-1), 1.0)
        near = cv2.dilate(inside.astype(np.uint8), np.ones((41, 41), np.uint8)) > 0
        band = near & (cover > 0.1) & (cover < 0.9)
        contours, _ = cv2.findContours(
            ((cover > 0.5) & near).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
        )
        length = sum(cv2.arcLength(c, True) for c in contours)
        if length > 0:
            widths.append(float(band.sum()) / length)
    return widths


def ideal(prompt: str, width: int, height: int, frames: int) -> np.ndarray:
    """The prompt's scene drawn straight at ``width`` x ``height`` (anti-aliased)."""
    scene = read_prompt(prompt).scene
    assert scene is not None
    scale = min(width, height) / world.RES
    left, top = (width - world.RES * scale) / 2, (height - world.RES * scale) / 2
    backdrop = world.background(scene.background, scene.gradient, world.RES)
    rows = cv2.resize(backdrop[:, :1], (1, height), interpolation=cv2.INTER_LINEAR)
    out = np.empty((frames, height, width, 3), np.uint8)
    n = len(scene.objects)
    tracks = [
        world.object_track(o, i, n, (0.0, 0.0, 0.0), frames) for i, o in enumerate(scene.objects)
    ]
    for f in range(frames):
        canvas = np.repeat(rows, width, axis=1).astype(np.uint8)
        for obj, track in zip(scene.objects, tracks, strict=True):
            cx, cy, size = track[f]
            x, y = left + scale * (cx + 0.5) - 0.5, top + scale * (cy + 0.5) - 0.5
            world.draw_shape(canvas, obj.shape, x, y, size * scale, world.COLORS[obj.color])
        out[f] = canvas
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--size", default="1280x720")
    p.add_argument("--before", action="store_true", help="render as before the object layers")
    p.add_argument("--ideal", action="store_true", help="the scenes drawn at the output size")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.split("x"))

    backend = TinyBackend()
    per_prompt = []
    for i, prompt in enumerate(PROMPTS):
        if args.ideal:
            frames = ideal(prompt, width, height, 96)
        else:
            request = GenerationRequest(
                prompt=prompt,
                size=args.size,
                seconds="4",
                seed=i,
                options={"layers": not args.before, "audio": False},
            )
            frames = backend.generate(request, lambda _f: None).frames
        picks = np.linspace(0, len(frames) - 1, 8).round().astype(int)
        widths = [w for t in picks for w in edge_widths(frames[t])]
        per_prompt.append(statistics.median(widths) if widths else float("nan"))
        print(f"{per_prompt[-1]:6.2f} px  {prompt}")
    how = "ideal" if args.ideal else ("before" if args.before else "object layers")
    print(
        f"# {how}, {args.size}: median 10-90% edge width {statistics.median(per_prompt):.2f} px "
        f"(per prompt {min(per_prompt):.2f}-{max(per_prompt):.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
