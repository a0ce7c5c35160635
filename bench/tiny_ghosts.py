"""Ghost rate of ``mutoscope-tiny``: clips that show more objects than the prompt names.

Every object colour on every other backdrop colour (56 pairs), one object each, its shape and
motion taken in turn, a few seed sets; optionally as many two-object prompts. Each clip is
generated through the real backend and read back by the project's detector (the judge of
``bench/tiny_adherence.py``), allowed up to four objects; a clip with more objects than the
prompt names has a ghost. ``--before`` renders as before the object layers (the decoded 64-px
frames, interpolated and resized), for comparison.

    python bench/tiny_ghosts.py                   # 56 pairs x 2 seed sets, one object
    python bench/tiny_ghosts.py --before          # the same clips, previous rendering
    python bench/tiny_ghosts.py --two 56          # ...and 56 two-object prompts
    python bench/tiny_ghosts.py --heldout 200     # ...and the adherence bench's prompts
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path

import torch

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.tiny import TinyBackend
from mutoscope.models.tiny import detector, world
from mutoscope.models.tiny.vocabulary import canonical_caption


def one_object_scenes() -> list[world.Scene]:
    """Each (object colour, backdrop colour) pair once; shapes and motions in turn."""
    pairs = [(c, b) for c, b in itertools.product(world.COLORS, world.COLORS) if c != b]
    return [
        world.Scene((world.ObjectSpec(c, world.SHAPES[k % 5], world.MOTIONS[(3 * k) % 10]),), b)
        for k, (c, b) in enumerate(pairs)
    ]


def two_object_scenes(n: int) -> list[world.Scene]:
    rng = random.Random(19)
    return [world.sample_scene(rng, "train", 2) for _ in range(n)]


def heldout_scenes(n: int) -> list[tuple[str, world.Scene]]:
    """The first ``n`` prompts of ``bench/data/tiny_heldout.jsonl`` (as written) and scenes."""
    lines = (Path(__file__).parent / "data" / "tiny_heldout.jsonl").read_text().splitlines()
    out = []
    for line in lines[:n]:
        item = json.loads(line)
        objects = tuple(world.ObjectSpec(**o) for o in item["objects"])
        out.append((item["prompt"], world.Scene(objects, item["background"])))
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeats", type=int, default=2, help="seed sets (1000 apart)")
    p.add_argument("--two", type=int, default=0, help="also this many two-object prompts")
    p.add_argument(
        "--heldout",
        type=int,
        default=0,
        help="also the first N prompts of bench/tiny_adherence.py, seed = line number (its "
        "first seed set)",
    )
    p.add_argument("--size", default="64x64")
    p.add_argument("--before", action="store_true", help="render as before the object layers")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    scenes = one_object_scenes() + two_object_scenes(args.two)
    prompts = [(canonical_caption(s), s, args.seed + i) for i, s in enumerate(scenes)]
    prompts += [(p, s, i) for i, (p, s) in enumerate(heldout_scenes(args.heldout))]
    backend = TinyBackend()
    ghosts: Counter[int] = Counter()
    totals: Counter[int] = Counter()
    missing: Counter[int] = Counter()
    listed = []
    t0 = time.monotonic()
    for r, (prompt, scene, seed) in itertools.product(range(args.repeats), prompts):
        request = GenerationRequest(
            prompt=prompt,
            size=args.size,
            seconds="4",
            seed=seed + 1000 * r,
            options={"layers": not args.before, "audio": False},
        )
        frames = backend.generate(request, lambda _f: None).frames
        found = detector.detect(frames, max_objects=4)
        named = len(scene.objects)
        totals[named] += 1
        if len(found.objects) > named:
            ghosts[named] += 1
            extra = [
                o.color for o in found.objects if o.color not in {x.color for x in scene.objects}
            ]
            listed.append(f"seed {request.seed}: {prompt} -> also {', '.join(extra) or 'a copy'}")
        elif len(found.objects) < named:
            missing[named] += 1
    elapsed = time.monotonic() - t0

    how = "previous rendering (--before)" if args.before else "object layers"
    print(f"# mutoscope-tiny ghosts, {how}, {args.size}, {args.repeats} seed sets, {elapsed:.0f} s")
    for named in sorted(totals):
        k, n = ghosts[named], totals[named]
        low, high = wilson(k, n)
        print(
            f"{named} object{'s' if named > 1 else ''} named: ghost in {k}/{n} clips "
            f"= {100 * k / n:.1f}% (95% Wilson interval {100 * low:.1f}-{100 * high:.1f}%); "
            f"an object missing in {missing[named]}"
        )
    for line in listed:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
