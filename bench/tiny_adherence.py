"""Prompt adherence of ``mutoscope-tiny`` on held-out compositions.

Generates a clip per prompt through the real backend and reads it back with the procedural
detector (colour, shape and motion per object, plus background), printing per-attribute and
all-attributes accuracy for one- and two-object prompts, and a flicker score: the mean absolute
difference of consecutive frames (0-255) for the generated clips next to ground truth.

    python bench/tiny_adherence.py                      # held-out prompts, 100 of them
    python bench/tiny_adherence.py --ground-truth       # validate the detector (should be ~100 %)
    python bench/tiny_adherence.py --ceiling keyframes   # truth as 16 keyframes, blended to 24 fps
    python bench/tiny_adherence.py --ceiling autoencoder # ...and through the model's autoencoder
    python bench/tiny_adherence.py --ceiling decoder     # ...encoder and caption decoder
    python bench/tiny_adherence.py --ground-truth --blur 0.8  # detector on slightly soft truth
    python bench/tiny_adherence.py --prompts bench/data/tiny_paraphrases.jsonl
    python bench/tiny_adherence.py --n 200 --repeats 4  # four seed sets, pooled, with intervals
    python bench/tiny_adherence.py --split test         # the paraphrase set's committed test half
    python bench/tiny_adherence.py --size 256x256       # at another size (objects drawn sharp)
    python bench/tiny_adherence.py --before             # the rendering before the object layers

``--prompts`` takes JSONL lines ``{"prompt": ..., "objects": [{"color", "shape", "motion"}],
"background": ...}``. A ``null`` background means the prompt names none: any backdrop that is
not one of the objects' colours counts as right (the clip must not hide its objects).
``--split dev|test`` reads ``bench/data/tiny_paraphrases_<split>.jsonl``: 127 independently
written paraphrases of in-world prompts, split in halves by the SHA-256 of each prompt (the
test half was committed, with its hash in docs/benchmarks/tiny.md, before any tuning).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import torch

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.tiny import TinyBackend
from mutoscope.models.tiny import detector, world

HERE = Path(__file__).parent
ATTRS = ("background", "color", "shape", "motion", "all")


def truth_background(item: dict) -> str:
    """The item's backdrop; for a prompt that names none, the first colour no object uses."""
    used = {o["color"] for o in item["objects"]}
    return item["background"] or next(c for c in world.COLORS if c not in used)


def ground_truth(item: dict, frames: int) -> np.ndarray:
    objects = tuple(world.ObjectSpec(**o) for o in item["objects"])
    return world.render(world.Scene(objects, truth_background(item)), frames=frames)


def expected_for(item: dict, found: detector.Detection) -> dict:
    """``item`` with a ``null`` background resolved: any backdrop unlike every object is right."""
    if item["background"] is not None:
        return item
    used = {o["color"] for o in item["objects"]}
    ok = found.background not in used
    return {**item, "background": found.background if ok else "(an object's colour)"}


def ceiling(backend: TinyBackend, item: dict, kind: str, frames: int) -> np.ndarray:
    """Ground truth as the model represents it: its keyframes, optionally auto-encoded."""
    from mutoscope.models.tiny.pipeline import interpolate

    keyframes = ground_truth(item, world.FRAMES)
    if kind != "keyframes":
        pipe = backend._load()  # the model's own autoencoder (and caption decoder)
        caption = pipe.text.encode([item["prompt"]]) if kind == "decoder" else None
        with torch.no_grad():
            keyframes = pipe.decode(pipe.encode_clip(keyframes), caption)
    return interpolate(keyframes, frames)


def centre_square(frames: np.ndarray) -> np.ndarray:
    """The middle square of wide or tall frames, where the 64-px keyframe was drawn."""
    h, w = frames.shape[1:3]
    s = min(h, w)
    return frames[:, (h - s) // 2 : (h + s) // 2, (w - s) // 2 : (w + s) // 2]


def flicker(frames: np.ndarray) -> float:
    small = detector._to_native(frames)
    return float(np.abs(np.diff(small, axis=0)).mean())


def wilson(hits: list[bool], z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval for the share of ``hits`` that are true."""
    n, k = len(hits), sum(hits)
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


def save_strip(path: Path, frames: np.ndarray, count: int = 8, size: int = 128) -> None:
    """``count`` evenly spaced frames side by side, each ``size`` pixels square."""
    from PIL import Image

    idx = np.linspace(0, len(frames) - 1, count).round().astype(int)
    tiles = [
        np.asarray(Image.fromarray(frames[i]).resize((size, size), Image.Resampling.NEAREST))
        for i in idx
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(tiles, axis=1)).save(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--prompts", type=Path, default=HERE / "data" / "tiny_heldout.jsonl")
    p.add_argument(
        "--split",
        choices=("dev", "test"),
        default=None,
        help="score a half of the paraphrase set (bench/data/tiny_paraphrases_<split>.jsonl)",
    )
    p.add_argument("--n", type=int, default=100, help="how many prompts to use (from the top)")
    p.add_argument(
        "--ground-truth", action="store_true", help="score rendered ground truth instead"
    )
    p.add_argument(
        "--ceiling",
        choices=("keyframes", "autoencoder", "decoder"),
        default=None,
        help="score ground truth squeezed through the model's keyframes (and autoencoder, or "
        "encoder and caption decoder): the best the model's design allows",
    )
    p.add_argument(
        "--blur", type=float, default=0.0, help="with --ground-truth: Gaussian blur sigma (px)"
    )
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default: backend's)")
    p.add_argument("--guidance", type=float, default=None, help="CFG scale (default: backend's)")
    p.add_argument("--weights", type=Path, default=None)
    p.add_argument("--seed", type=int, default=0, help="prompt i is generated with seed + i")
    p.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="generate each prompt this many times, seed sets 1000 apart, and pool the scores",
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--size",
        default="64x64",
        help="generate at this size (a wider or taller frame is judged on its centre square)",
    )
    p.add_argument(
        "--before",
        action="store_true",
        help="render as before the object layers (the decoded 64-px frames, resized)",
    )
    p.add_argument(
        "--raw-prompts",
        action="store_true",
        help="condition on the prompts as written (no vocabulary reading and canonical caption)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the per-prompt results here")
    p.add_argument("--strips", type=Path, default=None, help="save a PNG strip per prompt here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.split:
        args.prompts = HERE / "data" / f"tiny_paraphrases_{args.split}.jsonl"
        args.n = max(args.n, 10_000)

    items = [json.loads(line) for line in args.prompts.read_text().splitlines() if line.strip()][
        : args.n
    ]
    backend = TinyBackend(steps=args.steps, weights=args.weights, guidance=args.guidance)
    fps, seconds = 24, 4
    hits: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    flick_gen, flick_gt, rows = [], [], []
    per_shape: dict[str, list[bool]] = defaultdict(list)
    per_set: dict[str, list[list[bool]]] = defaultdict(lambda: [[] for _ in range(args.repeats)])
    t0 = time.monotonic()
    runs = [(r, i, item) for r in range(args.repeats) for i, item in enumerate(items)]
    for r, i, item in runs:
        seed = args.seed + 1000 * r + i
        truth = ground_truth(item, fps * seconds)
        if args.ground_truth:
            frames = truth
            if args.blur:
                frames = np.stack([cv2.GaussianBlur(f, (0, 0), args.blur) for f in truth])
        elif args.ceiling:
            frames = ceiling(backend, item, args.ceiling, fps * seconds)
        else:
            req = GenerationRequest(
                prompt=item["prompt"],
                size=args.size,
                seconds=str(seconds),
                seed=seed,
                options={"canonical": not args.raw_prompts, "layers": not args.before},
            )
            frames = centre_square(backend.generate(req, lambda _f: None).frames)
        if args.strips:
            suffix = f"_{r}" if args.repeats > 1 else ""
            save_strip(args.strips / f"{args.prompts.stem}_{i:02d}{suffix}.png", frames)
        found = detector.detect(frames)
        result = detector.score(expected_for(item, found), found)
        group = "one-object" if len(item["objects"]) == 1 else "two-object"
        for attr in ATTRS:
            hits[group][attr].append(result[attr])
            hits["overall"][attr].append(result[attr])
        per_set[group][r].append(result["all"])
        flick_gen.append(flicker(frames))
        flick_gt.append(flicker(truth))
        rows.append({**item, "seed": seed, "detected": repr(found), "score": result})
        drawn = {o.color: o.shape for o in found.objects}
        for obj in item["objects"]:
            per_shape[obj["shape"]].append(drawn.get(obj["color"]) == obj["shape"])
    elapsed = time.monotonic() - t0

    source = "ground truth (detector validation)" if args.ground_truth else "mutoscope-tiny"
    if args.ceiling:
        source = f"ground truth through the model's {args.ceiling} (ceiling)"
    times = f" x {args.repeats} seed sets" if args.repeats > 1 else ""
    print(f"# {source} on {args.prompts.name}: {len(items)} prompts{times}, {elapsed:.0f} s")
    if not (args.ground_truth or args.ceiling):
        print(
            f"# steps {backend.steps}, guidance {backend.guidance}, "
            f"weights {backend.weights.name if backend.weights else 'packaged'}"
            + (", prompts as written" if args.raw_prompts else ", canonical captions")
            + f", {args.size}"
            + (", previous rendering" if args.before else "")
        )
    print(f"{'group':<12} {'n':>4} " + " ".join(f"{a:>10}" for a in ATTRS))
    for group in ("one-object", "two-object", "overall"):
        if group not in hits:
            continue
        n = len(hits[group]["all"])
        print(
            f"{group:<12} {n:>4} "
            + " ".join(f"{100 * np.mean(hits[group][a]):>9.1f}%" for a in ATTRS)
        )
    if args.repeats > 1:
        for group in ("one-object", "two-object"):
            if group in per_set:
                sets = ", ".join(f"{100 * np.mean(v):.0f}%" for v in per_set[group])
                low, high = wilson(hits[group]["all"])
                print(
                    f"{group} all, per seed set: {sets}; "
                    f"pooled 95% interval {100 * low:.1f}-{100 * high:.1f}%"
                )
    else:
        for group in ("one-object", "two-object", "overall"):
            if group in hits:
                h = hits[group]["all"]
                low, high = wilson(h)
                print(
                    f"{group} all attributes: {sum(h)}/{len(h)} = {100 * np.mean(h):.1f}% "
                    f"(95% Wilson interval {100 * low:.1f}-{100 * high:.1f}%)"
                )
    print(
        "flicker (mean |frame[t+1]-frame[t]|, 0-255): "
        f"generated {np.mean(flick_gen):.2f}, ground truth {np.mean(flick_gt):.2f}"
    )
    print(
        "shape right, per object: "
        + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(per_shape.items()))
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
