"""Object layers of ``mutoscope-tiny``'s keyframes: the backdrop and each object, apart.

A shapes-world frame is a backdrop constant along rows (solid, or a vertical gradient) with one
or two flat-coloured shapes over it. Splitting each decoded keyframe that way lets the pipeline

1. keep only the objects the prompt names (:func:`keep_named`). The denoiser sometimes leaves a
   faint blob whose colour lies between the backdrop's and a neighbouring palette colour (a
   blue smudge beside a yellow shape on purple), or draws the object in a neighbouring colour
   for a keyframe or two (gold for yellow); either reads as a second object. Both are in the
   denoised latents: the plain autoencoder decodes them too.
2. move each object between keyframes instead of fading it (:func:`interpolate`);
3. draw the objects at the output size from their coverage (:func:`render`): the coverage is
   unsharp-masked (giving back corners the decoder rounded), upsampled (cubic) and its edge
   steepened around the 50 % outline, so a 1280x720 clip has edges about a pixel wide, where
   resizing the 64-px frame smeared each over some 23 output pixels. The backdrop, constant
   along rows, is drawn as rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

OBJECT_CONTRAST = 60.0
"""Summed |RGB| difference from the row's backdrop above which a pixel is part of an object."""
EDGE_SOURCE = 2.0
"""Width (keyframe pixels) over which the decoded coverage rises from 10 % to 90 % at an edge."""
EDGE_OUTPUT = 3.0
"""Width (output pixels) :func:`render` steepens that rise to; with the unsharp mask below
(which about halves it again) an edge ends ~1 pixel wide, as anti-aliased drawing makes it."""
DECODER_BLUR = 1.5
MASK_SHARPEN = 3.0
"""Before upsampling, a coverage map ``c`` becomes ``c + MASK_SHARPEN * (c - blur(c))`` (blur:
Gaussian, ``DECODER_BLUR`` keyframe pixels): an unsharp mask that gives back some of the
corners the decoder rounded. Without it the steepened 50 % outline of a soft cross is a blob;
3 and 1.5 were chosen on 80 training-world scenes (not the benchmark's prompts)."""
SIZE_WEIGHT = 4.0
"""In :func:`keep_named`, colour distance (RGB) worth one pixel of an object's side: a big
blob a little off the named colour beats a speck exactly in it."""
MAX_BLOBS = 8


@dataclass(eq=False)  # compared by identity (it holds arrays)
class _Blob:
    cover: np.ndarray
    """(H, W) float32 0-1: how much of each pixel the object covers."""
    colour: np.ndarray
    """(H, W, 3) float32: the object's colour where it covers (backdrop removed at edges)."""
    centre: np.ndarray
    """(x, y) of the coverage's centroid."""
    mean: np.ndarray
    """Mean colour (RGB), for matching."""
    core: np.ndarray
    """RGB of its solid middle (the median where it covers fully): the shape's own colour."""


def _rows(img: np.ndarray) -> np.ndarray:
    """(H, 1, 3) float32: each row's backdrop colour (its median; objects cover under half)."""
    return np.median(img, axis=1, keepdims=True).astype(np.float32)


def _cover(img: np.ndarray, rows: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Each pixel's place between its row's backdrop and ``colour`` (unclipped)."""
    span = colour - rows
    return ((img - rows) * span).sum(-1) / np.maximum((span**2).sum(-1), 1.0)


def _split(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[_Blob]]:
    """``frame`` as its rows' backdrop colours, its backdrop image and its objects."""
    img = frame.astype(np.float32)
    rows = _rows(img)
    full = np.repeat(rows, img.shape[1], axis=1)
    core = (np.abs(img - full).sum(-1) > OBJECT_CONTRAST).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    blobs = []
    backdrop = img.copy()
    near = np.ones((3, 3), np.uint8)
    for j in range(1, count):
        if stats[j, cv2.CC_STAT_AREA] < 3:
            continue
        inside = labels == j
        mean = img[inside].mean(0)
        region = cv2.dilate(inside.astype(np.uint8), near) > 0  # with its soft edge
        rough = np.where(region, np.clip(_cover(img, rows, mean), 0.0, 1.0), 0.0)
        if rough.sum() < 1.0:
            continue
        solid = rough > 0.95
        own = np.median(img[solid], axis=0) if solid.sum() >= 3 else mean
        cover = np.where(region, np.clip(_cover(img, rows, own), 0.0, 1.0), 0.0)
        cover = cover.astype(np.float32)
        if cover.sum() < 1.0:
            continue
        colour = np.where(region[..., None], np.where(solid[..., None], img, mean), 0.0)
        ys, xs = np.nonzero(cover)
        w = cover[ys, xs]
        centre = np.array([(xs * w).sum() / w.sum(), (ys * w).sum() / w.sum()], np.float32)
        blobs.append(_Blob(cover, colour.astype(np.float32), centre, mean, own.astype(np.float32)))
        backdrop[region] = full[region]  # the backdrop behind the object, from its row
    return rows[:, 0], backdrop, blobs


def _layers(frame: np.ndarray) -> tuple[np.ndarray, list[_Blob]]:
    """``frame`` as its backdrop (float32, objects removed) and its objects."""
    _rows_of, backdrop, blobs = _split(frame)
    return backdrop, blobs


# -- 1. keep the objects the prompt names --------------------------------------------------


def keep_named(keyframes: np.ndarray, colours: Sequence[Sequence[float]]) -> np.ndarray:
    """``keyframes`` with only the objects the prompt names, each in one colour throughout.

    ``colours`` are the named objects' palette colours (RGB). In each keyframe every named
    object claims at most one blob: the one nearest its colour (size breaking near-ties), and
    only a blob closer to that colour than to the backdrop behind it. Each object is then drawn
    in its median colour over the keyframes (its shape and place as decoded), over the
    keyframes' median backdrop, constant along rows and in time; every other blob is painted
    out.
    """
    targets = np.asarray(colours, np.float32).reshape(-1, 3)
    split = [_split(k) for k in keyframes]
    picks = [_assign(blobs, targets, rows) for rows, _, blobs in split]
    tones = []
    for j in range(len(targets)):
        seen = [b.core for b in (p[j] for p in picks) if b is not None]
        tones.append(np.median(np.stack(seen), axis=0) if seen else targets[j])
    # the world's backdrops stand still: one for the whole clip, the keyframes' median
    rows = np.median(np.stack([r for r, _, _ in split]), axis=0)
    out = np.empty_like(keyframes)
    for f, chosen in enumerate(picks):
        frame = np.repeat(rows[:, None, :], keyframes.shape[2], axis=1)
        for blob, tone in zip(chosen, tones, strict=True):
            if blob is not None:
                c = blob.cover[..., None]
                frame = frame * (1 - c) + tone * c
        out[f] = np.clip(frame + 0.5, 0, 255).astype(np.uint8)
    return out


def _assign(blobs: list[_Blob], targets: np.ndarray, rows: np.ndarray) -> list[_Blob | None]:
    """For each target colour, its blob (or ``None``): as many targets as can be given one,
    then the smallest total of colour distance less ``SIZE_WEIGHT`` x sqrt(area)."""
    blobs = sorted(blobs, key=lambda b: -float(b.cover.sum()))[:MAX_BLOBS]
    cost = np.full((len(targets), len(blobs)), np.inf)
    for i, blob in enumerate(blobs):
        behind = rows[int(np.clip(round(float(blob.centre[1])), 0, len(rows) - 1))]
        to_backdrop = float(np.linalg.norm(blob.core - behind))
        for j, target in enumerate(targets):
            d = float(np.linalg.norm(blob.core - target))
            if d < to_backdrop:  # more the named object than the backdrop
                cost[j, i] = d - SIZE_WEIGHT * float(np.sqrt(blob.cover.sum()))
    best: tuple[int, float] = (0, 0.0)
    chosen: list[_Blob | None] = [None] * len(targets)
    slots = [*range(len(blobs)), *([-1] * len(targets))]
    for perm in set(itertools.permutations(slots, len(targets))):
        picked = [(j, i) for j, i in enumerate(perm) if i >= 0 and np.isfinite(cost[j, i])]
        if len(picked) < sum(i >= 0 for i in perm):
            continue
        score = (len(picked), -sum(float(cost[j, i]) for j, i in picked))
        if score > best:
            best = score
            chosen = [blobs[i] if i >= 0 else None for i in perm]
    return chosen


# -- 2. move objects between keyframes -----------------------------------------------------


def interpolate(keyframes: np.ndarray, n: int) -> np.ndarray:
    """``n`` frames spanning the keyframes; objects move between keyframes, they do not fade.

    Each keyframe is split into its backdrop (constant along rows: solid or vertical gradient)
    and its objects (connected regions far from the backdrop, with soft edges). An object found
    in both neighbouring keyframes (matched by colour, then distance) is moved along the line
    between its two positions and blended with itself; so an object that moves far between
    keyframes, as a bounce does near the floor, shows once, where optical flow (used before)
    lost it and showed it twice. Anything unmatched (a faint blob in one keyframe) cross-fades.
    """
    lo, hi, alpha = _timeline(len(keyframes), n)
    layers = [_layers(k) for k in keyframes]
    pairs: dict[int, list[tuple[_Blob | None, _Blob | None]]] = {}
    out = np.empty((n, *keyframes.shape[1:]), np.uint8)
    for i in range(n):
        a, k0, k1 = float(alpha[i]), int(lo[i]), int(hi[i])
        if a < 1e-3 or k0 == k1:
            out[i] = keyframes[k0]
            continue
        if k0 not in pairs:
            pairs[k0] = _match(layers[k0][1], layers[k1][1])
        frame = (1 - a) * layers[k0][0] + a * layers[k1][0]
        for b0, b1 in pairs[k0]:
            # one layer per object: its two keyframe views moved to this time and blended
            shift = (b1.centre - b0.centre) if b0 is not None and b1 is not None else np.zeros(2)
            cover = np.zeros(frame.shape[:2], np.float32)
            paint = np.zeros(frame.shape, np.float32)
            for blob, weight, offset in ((b0, 1 - a, a * shift), (b1, a, (a - 1) * shift)):
                if blob is not None:
                    c = _shifted(blob.cover, offset) * weight
                    cover += c
                    paint += _shifted(blob.colour, offset) * c[..., None]
            frame = frame * (1 - np.minimum(cover, 1.0)[..., None]) + paint
        out[i] = np.clip(frame + 0.5, 0, 255).astype(np.uint8)
    return out


def _timeline(keys: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``n`` frames spread over ``keys`` keyframes: the keyframe before each, the one
    after, and how far between them (0-1)."""
    pos = np.linspace(0, keys - 1, n)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, keys - 1)
    return lo, hi, (pos - lo).astype(np.float32)


def _match(before: list[_Blob], after: list[_Blob]) -> list[tuple[_Blob | None, _Blob | None]]:
    """Pairs of the same object in two keyframes (similar colour, nearest first)."""
    pairs: list[tuple[_Blob | None, _Blob | None]] = []
    free = list(after)
    for b0 in sorted(before, key=lambda b: -float(b.cover.sum())):
        scored = [
            (float(np.abs(b0.mean - b1.mean).sum()), float(np.abs(b0.centre - b1.centre).sum()), b1)
            for b1 in free
        ]
        scored = [s for s in scored if s[0] < 90]
        if not scored:
            pairs.append((b0, None))
            continue
        _, _, best = min(scored, key=lambda s: (s[0] > 45, s[1]))
        free.remove(best)
        pairs.append((b0, best))
    pairs.extend((None, b1) for b1 in free)
    return pairs


def _shifted(image: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """``image`` moved by ``offset`` (x, y) pixels, sub-pixel (bilinear), zeros coming in."""
    if not offset.any():
        return image
    m = np.array([[1, 0, offset[0]], [0, 1, offset[1]]], np.float32)
    h, w = image.shape[:2]
    return np.asarray(cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR))


# -- 3. draw at the output size ------------------------------------------------------------


@dataclass(frozen=True)
class _Canvas:
    """Where the square keyframe lands in a ``width`` x ``height`` frame: scaled by ``scale``
    and centred; the backdrop's rows extend sideways (and its top and bottom rows up and down)
    to fill the rest, as ``fit_size`` extends the backdrop."""

    width: int
    height: int
    scale: float
    left: float
    top: float
    gain: float
    """How much :func:`render` steepens an edge (1: as decoded)."""

    @property
    def sharpen(self) -> bool:
        """Whether edges are sharpened (only when upsampling; native size stays as decoded)."""
        return self.gain > 1.0

    @classmethod
    def fit(cls, res: int, width: int, height: int) -> _Canvas:
        scale = min(width, height) / res
        gain = max(1.0, scale * EDGE_SOURCE / EDGE_OUTPUT) if scale > 1.0 else 1.0
        return cls(
            width, height, scale, (width - res * scale) / 2, (height - res * scale) / 2, gain
        )

    def row_map(self, res: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each output row: the keyframe rows above and below it and the weight of the
        lower one (linear; clamped at the top and bottom)."""
        v = (np.arange(self.height) + 0.5 - self.top) / self.scale - 0.5
        v = np.clip(v, 0, res - 1)
        lo = np.floor(v).astype(int)
        hi = np.minimum(lo + 1, res - 1)
        return lo, hi, (v - lo).astype(np.float32)[:, None]


def render(keyframes: np.ndarray, n: int, width: int, height: int) -> np.ndarray:
    """``n`` frames at ``width`` x ``height`` spanning ``keyframes`` whose backdrops are
    constant along rows (as :func:`keep_named` leaves them): objects move between keyframes as
    :func:`interpolate` moves them, and are drawn from their coverage in their solid colour.
    When upsampling, the coverage is unsharp-masked, upsampled (cubic) and steepened to an edge
    about ``EDGE_OUTPUT`` output pixels wide; at the keyframes' own size it is drawn as
    decoded."""
    res = keyframes.shape[1]
    canvas = _Canvas.fit(res, width, height)
    row_lo, row_hi, row_w = canvas.row_map(res)
    lo, hi, alpha = _timeline(len(keyframes), n)
    split = [_split(k) for k in keyframes]
    pairs: dict[int, list[tuple[_Blob | None, _Blob | None]]] = {}
    out = np.empty((n, height, width, 3), np.uint8)
    shown, base = np.empty(0), np.empty(0)  # the last backdrop drawn: its column, its frame
    for i in range(n):
        a, k0, k1 = float(alpha[i]), int(lo[i]), int(hi[i])
        if a < 1e-3 or k0 == k1:
            a, k1 = 0.0, k0
            layer_pairs: list[tuple[_Blob | None, _Blob | None]] = [(b, None) for b in split[k0][2]]
        else:
            if k0 not in pairs:
                pairs[k0] = _match(split[k0][2], split[k1][2])
            layer_pairs = pairs[k0]
        rows = (1 - a) * split[k0][0] + a * split[k1][0]
        column = rows[row_lo] * (1 - row_w) + rows[row_hi] * row_w
        column = np.clip(column + 0.5, 0, 255).astype(np.uint8)[:, None, :]
        if not np.array_equal(column, shown):  # a still backdrop is copied, not resized
            base = cv2.resize(column, (width, height), interpolation=cv2.INTER_NEAREST)
            shown = column
        out[i] = base
        for b0, b1 in layer_pairs:
            _draw(out[i], *_between(b0, b1, a), canvas)
    return out


def _between(b0: _Blob | None, b1: _Blob | None, a: float) -> tuple[np.ndarray, float, np.ndarray]:
    """An object's coverage, opacity and colour a fraction ``a`` of the way from its view
    ``b0`` to its view ``b1`` (one of them ``None``: it fades in or out where it is)."""
    if b0 is not None and b1 is not None:
        shift = b1.centre - b0.centre
        cover = (1 - a) * _shifted(b0.cover, a * shift) + a * _shifted(b1.cover, (a - 1) * shift)
        return cover, 1.0, (1 - a) * b0.core + a * b1.core
    if b0 is not None:
        return b0.cover, 1 - a, b0.core
    assert b1 is not None
    return b1.cover, a, b1.core


def _draw(
    frame: np.ndarray, cover: np.ndarray, opacity: float, colour: np.ndarray, canvas: _Canvas
) -> None:
    """Paint an object of keyframe coverage ``cover`` into the output ``frame`` in place."""
    ys, xs = np.nonzero(cover > 1e-3)
    if opacity < 1e-3 or not len(xs):
        return
    res = cover.shape[0]
    x0, x1 = max(int(xs.min()) - 3, 0), min(int(xs.max()) + 4, res)
    y0, y1 = max(int(ys.min()) - 3, 0), min(int(ys.max()) + 4, res)
    crop = np.ascontiguousarray(cover[y0:y1, x0:x1])
    if canvas.sharpen:
        crop = crop + MASK_SHARPEN * (crop - cv2.GaussianBlur(crop, (0, 0), DECODER_BLUR))
    # the crop's corner lands at the nearest output pixel (resizing is ~10x faster than an
    # affine warp that would place it to the sub-pixel; the error is under 0.1 keyframe px)
    s = canvas.scale
    left, top = round(canvas.left + s * x0), round(canvas.top + s * y0)
    size = (round(s * (x1 - x0)), round(s * (y1 - y0)))
    up: np.ndarray = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC), np.float32)
    right, bottom = min(left + size[0], canvas.width), min(top + size[1], canvas.height)
    edge = up[max(-top, 0) : bottom - top, max(-left, 0) : right - left]
    left, top = max(left, 0), max(top, 0)
    if canvas.gain != 1.0:  # steepen the edge around the 50 % outline
        edge *= canvas.gain
        edge -= 0.5 * canvas.gain - 0.5
    np.clip(edge, 0.0, 1.0, out=edge)
    if opacity < 1.0:
        edge *= opacity
    patch = frame[top:bottom, left:right]
    paint = np.empty_like(patch)
    paint[:] = np.clip(colour + 0.5, 0, 255).astype(np.uint8)
    patch[:] = cv2.blendLinear(patch, paint, 1.0 - edge, edge)
