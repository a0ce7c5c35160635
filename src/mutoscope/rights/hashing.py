"""PDQ frame hashes (vPDQ-style) and a FAISS binary index to search them at scale.

A clip is hashed by sampling frames, computing Meta's 256-bit PDQ hash of each, and
dropping frames whose PDQ quality is too low to be meaningful (flat colour). A query clip
matches a stored clip when enough of its frames lie within ``MAX_DISTANCE`` bits of some
frame of that clip. PDQ does not survive a horizontal flip, so queries are also hashed
flipped.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pdqhash
from PIL import Image

if TYPE_CHECKING:
    import faiss

MAX_DISTANCE = 31
"""vPDQ's default Hamming threshold for two frames to be the same picture."""
MIN_QUALITY = 50
"""PDQ quality below this (near-flat frames) carries no identity; such frames are skipped."""
MATCH_FRACTION = 0.5
"""Share of a query's usable frames that must match one stored clip."""
MAX_SAMPLES = 32
HASH_SIDE = 256


@dataclass(frozen=True)
class FrameHashes:
    hashes: np.ndarray
    """(n, 32) uint8: packed 256-bit PDQ hashes."""
    quality: np.ndarray
    """(n,) int quality per hash (0-100)."""
    frame_index: np.ndarray


def hash_frame(frame: np.ndarray) -> tuple[np.ndarray, int]:
    """PDQ of one RGB uint8 frame: (32,) uint8 packed hash and quality."""
    return _pdq(_small(frame))


def _small(frame: np.ndarray) -> np.ndarray:
    """The frame at most ``HASH_SIDE`` pixels on its long side (what PDQ reads)."""
    h, w = frame.shape[:2]
    if max(h, w) > HASH_SIDE:
        scale = HASH_SIDE / max(h, w)
        frame = cv2.resize(
            frame,
            (max(1, round(w * scale)), max(1, round(h * scale))),
            interpolation=cv2.INTER_AREA,
        )
    return frame


def _pdq(frame: np.ndarray) -> tuple[np.ndarray, int]:
    bits, quality = pdqhash.compute(np.ascontiguousarray(frame))
    return np.packbits(bits.astype(np.uint8)), int(quality)


def _picks(frames: np.ndarray, max_samples: int) -> np.ndarray:
    return np.unique(
        np.linspace(0, len(frames) - 1, num=min(max_samples, len(frames))).round().astype(int)
    )


def hash_frames(
    frames: np.ndarray, *, max_samples: int = MAX_SAMPLES, flip: bool = False
) -> FrameHashes:
    """Hash up to ``max_samples`` evenly spaced frames of a (T, H, W, 3) clip."""
    if frames.ndim == 3:
        frames = frames[None]
    picks = _picks(frames, max_samples)
    hashes, quality = [], []
    for i in picks:
        frame = frames[i][:, ::-1] if flip else frames[i]
        h, q = hash_frame(frame)
        hashes.append(h)
        quality.append(q)
    return FrameHashes(np.stack(hashes), np.asarray(quality), picks)


def hash_frames_and_mirror(
    frames: np.ndarray, *, max_samples: int = MAX_SAMPLES
) -> tuple[FrameHashes, FrameHashes]:
    """``hash_frames(frames)`` and ``hash_frames(frames, flip=True)``, each sampled frame
    downscaled once and mirrored small (the downscale is most of the cost)."""
    if frames.ndim == 3:
        frames = frames[None]
    picks = _picks(frames, max_samples)
    straight, mirrored = [], []
    for i in picks:
        small = _small(frames[i])
        straight.append(_pdq(small))
        mirrored.append(_pdq(small[:, ::-1]))
    return _collect(straight, picks), _collect(mirrored, picks)


def _collect(hashed: list[tuple[np.ndarray, int]], picks: np.ndarray) -> FrameHashes:
    return FrameHashes(np.stack([h for h, _ in hashed]), np.asarray([q for _, q in hashed]), picks)


def hash_image(image: Image.Image) -> FrameHashes:
    return hash_frames(np.asarray(image.convert("RGB"))[None])


def hash_file(path: Path) -> FrameHashes:
    """Hash a reference file (an image, or a video decoded with PyAV), with its crops."""
    suffix = path.suffix.lower()
    if suffix in {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"}:
        from mutoscope.media.images import MAX_IMAGE_PIXELS, check_pixels

        with Image.open(path) as img:
            check_pixels(img.size, MAX_IMAGE_PIXELS, "reference")  # decompression bombs
            return reference_hashes(np.asarray(img.convert("RGB"))[None])
    from mutoscope.media.video import decode_mp4

    return reference_hashes(decode_mp4(path, max_frames=24 * 60))


@dataclass(frozen=True)
class ClipMatch:
    key: str
    """The stored clip (``reference:<entity>:<path>`` or a video id)."""
    matched_fraction: float
    distance: float
    """Mean Hamming distance of the matched frames."""
    matched_frames: int
    query_frames: int


REFERENCE_CROPS = (0.0, 0.1, 0.2)
"""Centre crops registered for each reference frame: PDQ does not survive cropping, so a
cropped copy is caught by the matching cropped variant of the reference."""


def reference_hashes(frames: np.ndarray, *, max_samples: int = MAX_SAMPLES) -> FrameHashes:
    """A reference clip's hashes: sampled frames, each also centre-cropped (``REFERENCE_CROPS``)."""
    if frames.ndim == 3:
        frames = frames[None]
    parts = []
    for frac in REFERENCE_CROPS:
        h, w = frames.shape[1:3]
        dy, dx = int(h * frac / 2), int(w * frac / 2)
        parts.append(hash_frames(frames[:, dy : h - dy, dx : w - dx], max_samples=max_samples))
    return FrameHashes(
        np.concatenate([p.hashes for p in parts]),
        np.concatenate([p.quality for p in parts]),
        np.concatenate([p.frame_index for p in parts]),
    )


def _new_faiss_index() -> faiss.IndexBinary:
    """Multi-index hashing: 16 tables of 16 bits, probing one flipped bit per table. Any two
    hashes within 31 bits agree within one bit on at least one 16-bit chunk (pigeonhole), so
    every match within ``MAX_DISTANCE`` is found without scanning the whole index."""
    import faiss  # ~0.2 s: imported when the first index is built, not for a prompt check

    index = faiss.IndexBinaryMultiHash(256, 16, 16)
    index.nflip = 1
    return index


class HashIndex:
    """Frame hashes of many clips in a FAISS multi-index hash; thread-safe.

    FAISS's OpenMP pool is pinned to one thread: per-query work is small and on a busy
    machine spinning threads cost far more than they give.
    """

    def __init__(self) -> None:
        # FAISS (~0.1-0.2 s to import) is loaded with the first hash: a registry without
        # reference clips (the usual CLI case) checks outputs against an empty index.
        self._index: faiss.IndexBinary | None = None
        self._data: list[np.ndarray] = []
        self._keys: list[str] = []
        self._key_ids: dict[str, int] = {}
        self._row_key: list[int] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._index.ntotal if self._index is not None else 0

    def _faiss(self) -> faiss.IndexBinary:
        if self._index is None:
            import faiss

            faiss.omp_set_num_threads(1)
            self._index = _new_faiss_index()
        return self._index

    def add(self, key: str, hashes: np.ndarray) -> None:
        if not len(hashes):
            return
        with self._lock:
            kid = self._key_ids.setdefault(key, len(self._keys))
            if kid == len(self._keys):
                self._keys.append(key)
            data = np.ascontiguousarray(hashes, dtype=np.uint8)
            self._faiss().add(data)
            self._data.append(data)
            self._row_key.extend([kid] * len(hashes))

    def add_bulk(self, keys: np.ndarray, names: list[str], hashes: np.ndarray) -> None:
        """Benchmark helper: many rows at once (``keys`` index into ``names``)."""
        with self._lock:
            base = len(self._keys)
            self._keys.extend(names)
            self._key_ids.update({n: base + i for i, n in enumerate(names)})
            data = np.ascontiguousarray(hashes, dtype=np.uint8)
            self._faiss().add(data)
            self._data.append(data)
            self._row_key.extend((keys + base).tolist())

    def remove(self, key: str) -> None:
        """Forget a clip (rebuilds the index without it)."""
        with self._lock:
            kid = self._key_ids.pop(key, None)
            if kid is None or not self._data:
                return
            rows = np.asarray(self._row_key)
            keep = rows != kid
            data = np.concatenate(self._data)[keep]
            self._row_key = rows[keep].tolist()
            self._data = [data]
            self._index = _new_faiss_index()
            if len(data):
                self._index.add(np.ascontiguousarray(data))

    def search(
        self, hashes: np.ndarray, *, k: int = 16, max_distance: int = MAX_DISTANCE
    ) -> list[dict[str, int]]:
        """Per query hash: ``{key: best distance}`` of stored clips within ``max_distance``."""
        index = self._index
        if index is None or not index.ntotal or not len(hashes):
            return [{} for _ in range(len(hashes))]
        with self._lock:
            index = self._faiss()
            dist, rows = index.search(
                np.ascontiguousarray(hashes, dtype=np.uint8), min(k, index.ntotal)
            )
            row_key = self._row_key
            keys = self._keys
            out: list[dict[str, int]] = []
            for drow, rrow in zip(dist, rows, strict=True):
                found: dict[str, int] = {}
                for d, r in zip(drow, rrow, strict=True):
                    if r < 0 or d > max_distance:
                        continue
                    key = keys[row_key[r]]
                    found[key] = min(found.get(key, 999), int(d))
                out.append(found)
            return out

    def match(
        self,
        query: FrameHashes,
        *,
        flipped: FrameHashes | None = None,
        min_quality: int = MIN_QUALITY,
        fraction: float = MATCH_FRACTION,
        max_distance: int = MAX_DISTANCE,
    ) -> list[ClipMatch]:
        """Stored clips that enough of the query's usable frames match (flips count too)."""
        usable = query.quality >= min_quality
        if not usable.any():
            return []
        hits = self.search(query.hashes[usable], max_distance=max_distance)
        if flipped is not None:
            fhits = self.search(
                flipped.hashes[usable[: len(flipped.hashes)]], max_distance=max_distance
            )
            for a, b in zip(hits, fhits, strict=False):
                for key, d in b.items():
                    a[key] = min(a.get(key, 999), d)
        per_key: dict[str, list[int]] = defaultdict(list)
        for found in hits:
            for key, d in found.items():
                per_key[key].append(d)
        n = int(usable.sum())
        out = [
            ClipMatch(key, len(ds) / n, float(np.mean(ds)), len(ds), n)
            for key, ds in per_key.items()
            if len(ds) / n >= fraction
        ]
        return sorted(out, key=lambda m: (-m.matched_fraction, m.distance))
