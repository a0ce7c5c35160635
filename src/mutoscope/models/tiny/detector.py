"""A procedural detector that reads a shapes-world clip back into attributes.

It is the judge for ``bench/tiny_adherence.py``: given frames (any size, any count) it finds
the background colour, then each object's colour, shape (best template IoU) and motion (from
its centroid track and area). It knows the palette and the shapes, but not the caption.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import cv2
import numpy as np

from mutoscope.models.tiny import world

_PALETTE_NAMES = list(world.COLORS)
_PALETTE = np.array([world.COLORS[c] for c in _PALETTE_NAMES], dtype=np.float32)
_FG_THRESHOLD = 60.0
_MIN_CORE_AREA = 12


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


def _template(shape: str, area: float, cx: float, cy: float) -> np.ndarray:
    probe = np.zeros((world.RES * 2, world.RES * 2), np.uint8)
    world.draw_shape(probe, shape, world.RES, world.RES, 40.0, (255,))
    m = probe > 127
    scale = np.sqrt(area / max(1, m.sum())) * 40.0
    ys, xs = np.nonzero(m)
    off_x, off_y = (xs.mean() - world.RES) * scale / 40.0, (ys.mean() - world.RES) * scale / 40.0
    canvas = np.zeros((world.RES, world.RES), np.uint8)
    world.draw_shape(canvas, shape, cx - off_x, cy - off_y, scale, (255,))
    return canvas > 127


def _fill(mask: np.ndarray) -> float:
    ys, xs = np.nonzero(mask)
    return float(mask.sum()) / max(1, (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1))


def classify_shape(mask: np.ndarray) -> str:
    """Shape whose area- and centroid-matched template fits ``mask`` best.

    The fit is the template IoU minus how far the bounding-box fill ratios differ (circles fill
    about 79 % of their box, squares all of it, diamonds and triangles half).
    """
    ys, xs = np.nonzero(mask)
    area = float(mask.sum())
    fill = _fill(mask)
    best, best_fit = world.SHAPES[0], -np.inf
    for shape in world.SHAPES:
        t = _template(shape, area, float(xs.mean()), float(ys.mean()))
        iou = (t & mask).sum() / max(1, (t | mask).sum())
        fit = iou - 1.5 * abs(fill - _fill(t))
        if fit > best_fit:
            best, best_fit = shape, fit
    return best


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
        top = np.argsort(-areas)[:3]
        votes = [classify_shape(comps[t]) for t in top if comps[t] is not None and areas[t] >= 6]
        shape = max(set(votes), key=votes.count) if votes else "none"
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
