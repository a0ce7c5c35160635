"""Output matching benchmark: PDQ frame hashes against registered reference clips.

    python bench/rights_outputs.py [--clips 20] [--scale 100000 1000000]

Registers ``--clips`` synthetic natural-looking clips (1/f textures the camera pans over,
with drifting blobs), then checks transformed copies of each (re-encode at CRF 35, 50 %
resize, 10 % crop, brightness ±20 %, a 2-second excerpt, horizontal flip) and as many
unrelated clips. Finally it fills a FAISS binary index with 100k and 1M random frame hashes
plus the references and times one frame-hash query and one whole-clip query.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from mutoscope.media.video import decode_mp4, encode_mp4
from mutoscope.rights.hashing import HashIndex, hash_frames, reference_hashes

FPS = 24


def clip(seed: int, frames: int = 72, size: int = 256) -> np.ndarray:
    """A 3-second 256x256 clip: a 1/f-textured field panned across, blobs drifting over it."""
    rng = np.random.default_rng(seed)
    field = sum(
        cv2.resize(
            rng.normal(0, k**-0.5, (k, k, 3)).astype(np.float32),
            (size * 2, size * 2),
            interpolation=cv2.INTER_CUBIC,
        )
        for k in (4, 8, 16, 32)
    )
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    blobs = rng.uniform(0, 1, (4, 4))
    dx, dy = rng.uniform(0.5, 2.0), rng.uniform(0.3, 1.2)
    out = []
    for t in range(frames):
        x, y = int(t * dx), int(t * dy)
        img = field[y : y + size, x : x + size].copy()
        for bx, by, r, c in blobs:
            cx, cy = (bx + 0.004 * t) % 1, (by + 0.003 * t) % 1
            img += (c - 0.5) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (0.01 + 0.02 * r))[
                ..., None
            ]
        out.append(np.clip(img * 90 + 128, 0, 255).astype(np.uint8))
    return np.stack(out)


def reencode(frames: np.ndarray, crf: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.mp4"
        encode_mp4(frames, path, fps=FPS, crf=crf)
        return decode_mp4(path)


def resize(frames: np.ndarray, scale: float) -> np.ndarray:
    h, w = frames.shape[1:3]
    size = (int(w * scale) // 2 * 2, int(h * scale) // 2 * 2)
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])


def crop(frames: np.ndarray, frac: float) -> np.ndarray:
    h, w = frames.shape[1:3]
    dy, dx = int(h * frac / 2), int(w * frac / 2)
    return frames[:, dy : h - dy, dx : w - dx]


def brightness(frames: np.ndarray, delta: float) -> np.ndarray:
    return np.clip(frames.astype(np.float32) * (1 + delta), 0, 255).astype(np.uint8)


TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "re-encode CRF 35": lambda f: reencode(f, 35),
    "50% resize (+CRF 23)": lambda f: reencode(resize(f, 0.5), 23),
    "10% crop (+CRF 23)": lambda f: reencode(crop(f, 0.10), 23),
    "brightness +20%": lambda f: reencode(brightness(f, 0.2), 23),
    "brightness -20%": lambda f: reencode(brightness(f, -0.2), 23),
    "2-second excerpt": lambda f: reencode(f[12 : 12 + 2 * FPS], 23),
    "horizontal flip": lambda f: reencode(f[:, :, ::-1], 23),
}
COMPOUND: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "(compound) 50% resize + CRF 35": lambda f: reencode(resize(f, 0.5), 35),
    "(compound) 10% crop + CRF 35": lambda f: reencode(crop(f, 0.10), 35),
}


def accuracy(n: int) -> None:
    index = HashIndex()
    refs = [reencode(clip(seed), 20) for seed in range(n)]
    for seed, frames in enumerate(refs):
        index.add(f"ref-{seed}", reference_hashes(frames).hashes)
    print(f"registered {n} reference clips ({len(index)} frame hashes)")
    total_hits = total = 0
    for name, fn in {**TRANSFORMS, **COMPOUND}.items():
        hits, dists = 0, []
        for seed, frames in enumerate(refs):
            q = fn(frames)
            found = index.match(hash_frames(q), flipped=hash_frames(q, flip=True))
            ok = bool(found) and found[0].key == f"ref-{seed}"
            hits += ok
            if found:
                dists.append(found[0].distance)
        if name in TRANSFORMS:
            total_hits, total = total_hits + hits, total + n
        mean = np.mean(dists) if dists else float("nan")
        print(f"  {name:31s} recall {hits / n:6.1%}  mean distance {mean:.1f}")
    print(f"recall over the issue's transforms: {total_hits / total:.1%} ({total_hits}/{total})")
    false = 0
    for seed in range(10_000, 10_000 + n * 4):
        q = reencode(clip(seed), 28)
        false += bool(index.match(hash_frames(q), flipped=hash_frames(q, flip=True)))
    print(f"false matches on unrelated clips: {false / (n * 4):.1%} ({false}/{n * 4})")


def scale(sizes: list[int]) -> None:
    rng = np.random.default_rng(0)
    query = hash_frames(reencode(clip(3), 28))
    flipped = hash_frames(reencode(clip(3), 28), flip=True)
    for size in sizes:
        index = HashIndex()
        random_hashes = rng.integers(0, 256, (size, 32), dtype=np.uint8)
        index.add_bulk(
            np.arange(size) // 32, [f"clip-{i}" for i in range((size + 31) // 32)], random_hashes
        )
        index.add("ref-3", reference_hashes(reencode(clip(3), 20)).hashes)
        one = query.hashes[:1]
        index.search(one)
        t = time.perf_counter()
        reps = 50
        for _ in range(reps):
            index.search(one)
        per_frame = (time.perf_counter() - t) / reps * 1000
        t = time.perf_counter()
        found = index.match(query, flipped=flipped)
        per_clip = (time.perf_counter() - t) * 1000
        ok = bool(found) and found[0].key == "ref-3"
        print(
            f"{len(index):>9,} hashes: {per_frame:.2f} ms per frame-hash query, "
            f"{per_clip:.1f} ms per clip ({len(query.hashes)} frames + flipped), match found: {ok}"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--scale", type=int, nargs="*", default=[100_000, 1_000_000])
    args = ap.parse_args()
    accuracy(args.clips)
    scale(args.scale)


if __name__ == "__main__":
    main()
