"""A procedural detector that reads a shapes-world clip back into attributes.

It is the judge for ``bench/tiny_adherence.py``: given frames (any size, any count) it finds
the background colour, then each object's colour, shape (best template IoU) and motion (from
its centroid track and area). It knows the palette and the shapes, but not the caption.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import permutations

import cv2
import numpy as np

from mutoscope.models.tiny import world

_PALETTE_NAMES = list(world.COLORS)
_PALETTE = np.array([world.COLORS[c] for c in _PALETTE_NAMES], dtype=np.float32)
_FG_THRESHOLD = 60.0
_MIN_CORE_AREA = 12
_SIGMAS = (0.0, 0.6, 1.0, 1.4)
_SCALES = (0.92, 1.0, 1.08)
_WINDOW = 4
"""Pixels around an object's mask whose coverage counts toward its shape."""


@dataclass(frozen=True)
class DetectedObject:
    color: str
    shape: str
    motion: str
    x: float
    """Mean centre x in 64-pixel units (0 = left edge)."""


@dataclass(frozen=True)
class Detection:
    background: str
    objects: tuple[DetectedObject, ...]


def _nearest(colors: np.ndarray) -> np.ndarray:
    d = ((colors[..., None, :] - _PALETTE) ** 2).sum(-1)
    return d.argmin(-1)


def _to_native(frames: np.ndarray) -> np.ndarray:
    if frames.shape[1:3] != (world.RES, world.RES):
        frames = np.stack(
            [cv2.resize(f, (world.RES, world.RES), interpolation=cv2.INTER_AREA) for f in frames]
        )
    return frames.astype(np.float32)


@cache
def _unit(shape: str) -> tuple[float, float, float]:
    """Area at size 1 and centroid offset (x, y) per unit size of ``shape``'s drawing."""
    size, c = 40.0, world.RES
    probe = np.zeros((2 * c, 2 * c), np.float32)
    world.draw_shape(probe, shape, c, c, size, (1.0,))
    ys, xs = np.mgrid[: 2 * c, : 2 * c]
    area = float(probe.sum())
    off_x = float((probe * xs).sum() / area - c) / size
    off_y = float((probe * ys).sum() / area - c) / size
    return area / size**2, off_x, off_y


def _template(shape: str, area: float, cx: float, cy: float) -> np.ndarray:
    """Anti-aliased coverage (0-1) of ``shape`` with ``area`` and centroid (cx, cy)."""
    unit_area, off_x, off_y = _unit(shape)
    size = float(np.sqrt(area / unit_area))
    canvas = np.zeros((world.RES, world.RES), np.float32)
    world.draw_shape(canvas, shape, cx - off_x * size, cy - off_y * size, size, (1.0,))
    return canvas


def classify_shape(cover: np.ndarray) -> str:
    """Shape whose template explains ``cover`` best.

    ``cover`` is a (64, 64) map of how much of each pixel the object covers (0-1; a binary
    mask works too). Each shape's template is matched to its area and centroid, then allowed a
    little softness (Gaussian blur up to 1.4 px, as anti-aliasing, resizing and decoders give;
    blur keeps both the area and the centroid) and 8 % of size slack; the shape with the
    smallest squared error wins. Matching soft coverage rather than a thresholded mask keeps a
    diamond with rounded tips a diamond, while a circle, whose outline bulges where a diamond's
    edges run straight, stays a circle.
    """
    cov = cover.astype(np.float32)
    area = float(cov.sum())
    ys, xs = np.mgrid[: cov.shape[0], : cov.shape[1]]
    cx, cy = float((cov * xs).sum() / area), float((cov * ys).sum() / area)
    best, best_err = world.SHAPES[0], np.inf
    for shape in world.SHAPES:
        for scale in _SCALES:
            sharp = _template(shape, area * scale, cx, cy)
            for sigma in _SIGMAS:
                t = cv2.GaussianBlur(sharp, (0, 0), sigma) if sigma else sharp
                err = float(((t - cov) ** 2).sum())
                if err < best_err:
                    best, best_err = shape, err
    return best


def coverage(frame: np.ndarray, row_bg: np.ndarray, color: np.ndarray) -> np.ndarray:
    """How much of each pixel of ``frame`` (64, 64, 3) an object of ``color`` covers, read as
    the pixel's place between its row's background colour and ``color`` (0-1)."""
    d = color[None, :] - row_bg  # (rows, 3)
    num = ((frame - row_bg[:, None, :]) * d[:, None, :]).sum(-1)
    den = np.maximum((d**2).sum(-1), 1.0)[:, None]
    return np.clip(num / den, 0.0, 1.0)


def classify_motion(track: np.ndarray) -> str:
    """Motion name from a (T, 3) track of centre x, centre y and area (NaN where unseen)."""
    ok = ~np.isnan(track[:, 0])
    tr = track[ok]
    if len(tr) < 3:
        return "none"
    k = max(1, len(tr) // 8)
    start, end = tr[:k].mean(0), tr[-k:].mean(0)
    dx, dy = end[0] - start[0], end[1] - start[1]
    sx = int(np.sign(dx)) if abs(dx) > 6 else 0
    sy = int(np.sign(dy)) if abs(dy) > 8 else 0
    if sx or sy:
        for name, vec in world.DIRECTIONS.items():
            if vec == (sx, sy):
                return name
    if end[2] > 2.0 * start[2]:
        return "grow"
    if tr[:, 1].max() - tr[:, 1].min() > 10:
        return "bounce"
    return "none"


def _read_shape(
    clip: np.ndarray,
    row_bg: np.ndarray,
    color: np.ndarray,
    comps: list[np.ndarray | None],
    areas: np.ndarray,
    others: np.ndarray,
) -> str:
    """Majority shape over the three frames where the object (``comps``, its per-frame masks)
    is largest, read from its coverage of palette ``color`` within a few pixels of its mask
    (``others``: pixels of the other objects, left out)."""
    top = [int(t) for t in np.argsort(-areas)[:3] if comps[t] is not None and areas[t] >= 6]
    if not top:
        return "none"
    near = np.ones((2 * _WINDOW + 1, 2 * _WINDOW + 1), np.uint8)
    votes = []
    for t in top:
        window = cv2.dilate(comps[t].astype(np.uint8), near) > 0  # type: ignore[union-attr]
        votes.append(classify_shape(coverage(clip[t], row_bg, color) * (window & ~others[t])))
    return max(set(votes), key=votes.count)


def detect(frames: np.ndarray, max_objects: int = 2) -> Detection:
    """Read ``frames`` (T, H, W, 3) uint8 back into background and objects."""
    if len(frames) > 32:  # motion is smooth; 32 evenly spaced frames tell it all
        frames = frames[np.linspace(0, len(frames) - 1, 32).round().astype(int)]
    clip = _to_native(frames)
    # 1. Background: colour of the left and right edges (their middle rows sit at the base colour)
    edges = np.concatenate([clip[:, :, 0], clip[:, :, -1]]).reshape(-1, 3)
    bg_idx = int(_nearest(np.median(edges, axis=0)[None])[0])
    # 2. Foreground: pixels far from their row's typical colour (gradients are vertical)
    row_bg = np.median(clip.transpose(1, 0, 2, 3).reshape(world.RES, -1, 3), axis=1)
    fg = np.abs(clip - row_bg[None, :, None, :]).sum(-1) > _FG_THRESHOLD
    labels = _nearest(clip)
    # 3. Objects: palette colours whose eroded (edge blends removed) area is large in some frame
    kernel = np.ones((3, 3), np.uint8)
    candidates = []
    for ci in range(len(_PALETTE_NAMES)):
        if ci == bg_idx:
            continue
        masks = (fg & (labels == ci)).astype(np.uint8)
        core = np.array([cv2.erode(m, kernel).sum() for m in masks])
        if core.max() >= _MIN_CORE_AREA:
            candidates.append((float(core.sum()), ci, masks))
    candidates.sort(key=lambda c: -c[0])
    chosen = [ci for _, ci, _ in candidates[:max_objects]]
    objects = []
    for _, ci, masks in candidates[:max_objects]:
        track = np.full((len(masks), 3), np.nan)
        areas = np.zeros(len(masks))
        comps: list[np.ndarray | None] = []
        for t, m in enumerate(masks):
            n, lab, stats, cents = cv2.connectedComponentsWithStats(m, connectivity=8)
            if n <= 1:
                comps.append(None)
                continue
            j = 1 + int(stats[1:, cv2.CC_STAT_AREA].argmax())
            comp = lab == j
            comps.append(comp)
            areas[t] = comp.sum()
            track[t] = (cents[j][0], cents[j][1], areas[t])
        others = np.isin(labels, [c for c in chosen if c != ci]) & fg
        shape = _read_shape(clip, row_bg, _PALETTE[ci], comps, areas, others)
        objects.append(
            DetectedObject(
                _PALETTE_NAMES[ci], shape, classify_motion(track), float(np.nanmean(track[:, 0]))
            )
        )
    objects.sort(key=lambda o: o.x)
    return Detection(_PALETTE_NAMES[bg_idx], tuple(objects))


def score(expected: dict, detection: Detection) -> dict[str, bool]:
    """Per-attribute correctness of ``detection`` against ``{"objects": [...], "background": ...}``.

    Objects are matched to detections by the assignment that gets the most attributes right;
    a missing detection gets every attribute wrong.
    """
    exp = expected["objects"]
    found = list(detection.objects)
    best: list[dict[str, bool]] = []
    best_total = -1
    slots: list[DetectedObject | None] = [*found, *([None] * max(0, len(exp) - len(found)))]
    for perm in permutations(slots, len(exp)):
        res = []
        for e, d in zip(exp, perm, strict=True):
            res.append(
                {a: d is not None and getattr(d, a) == e[a] for a in ("color", "shape", "motion")}
            )
        total = sum(sum(r.values()) for r in res)
        if total > best_total:
            best, best_total = res, total
    out = {"background": detection.background == expected["background"]}
    for attr in ("color", "shape", "motion"):
        out[attr] = all(r[attr] for r in best)
    out["count"] = len(found) == len(exp)
    out["all"] = out["background"] and out["count"] and all(all(r.values()) for r in best)
    return out
