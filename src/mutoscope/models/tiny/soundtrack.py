"""A procedural soundtrack for ``mutoscope-tiny``, synchronised with what the model drew.

The sound is read off the keyframes the model actually sampled (not the prompt), with the same
object layers ``pipeline.interpolate`` moves between keyframes, and laid out in time exactly as
``interpolate`` lays the video frames over them. So:

- each object hums a soft tone whose pitch follows its height (higher on screen, higher note;
  the object on the right a fifth above the one on the left) and whose loudness follows its
  size (two shapes that touch become one blob, and one tone, as they do for ``interpolate``);
- a low "tock" sounds when an object lands (it was moving down, then moves up: a bounce), or
  turns back sideways;
- a brighter click sounds when an object reaches the edge of the frame it was moving toward.

Everything is vectorised numpy over the whole clip (a few milliseconds for 12 s). The track is
mono: stereo panning from the objects' x positions costs about three times as much to encode
as AAC, which the CLI's time budget does not afford.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from mutoscope.media.audio import AAC_RATE, AudioTrack
from mutoscope.models.tiny.layers import _Blob, _layers, _match

#: Base notes of the first, second, ... object (A3, E4, A4, C#5): at most four objects hum.
BASE_NOTES = (220.0, 330.0, 440.0, 554.37)
#: Octaves a tone rises from the bottom of the frame to the top.
PITCH_RANGE = 1.5
TONE_LEVEL = 0.12
CLICK_LEVEL = 0.35
#: Keyframe-to-keyframe movement (pixels of the 64-pixel keyframe) that counts as moving.
MOVING = 1.0
#: A run of movement shorter than this (pixels) before a turn is jitter.
MIN_TRAVEL = 3.0
#: An object this close (pixels) to the edge it moves toward is touching it.
EDGE = 4.0
#: Objects smaller than this (pixels of cover) or seen in fewer keyframes are noise.
MIN_AREA = 8.0
MIN_KEYFRAMES = 3


@dataclass
class ObjectPath:
    """One object through the keyframes: positions, size and bounds (NaN where unseen)."""

    x: np.ndarray
    y: np.ndarray
    area: np.ndarray
    bounds: np.ndarray
    """(K, 4) left, top, right, bottom of its cover, in keyframe pixels."""

    @property
    def seen(self) -> np.ndarray:
        return ~np.isnan(self.x)


@dataclass(frozen=True)
class Contact:
    position: float
    """When, in keyframes (0 = first keyframe, K-1 = last)."""
    kind: str
    """``bounce`` (landing or turning back) or ``edge`` (reaching the frame's edge)."""
    strength: float
    """0-1: how large the object is (a big object knocks louder)."""


def soundtrack(
    keyframes: np.ndarray,
    positions: np.ndarray,
    fps: float,
    *,
    seed: int = 0,
    rate: int = AAC_RATE,
) -> AudioTrack:
    """A mono track as long as the clip (``len(positions) / fps`` seconds).

    ``keyframes`` are the (K, H, W, 3) uint8 keyframes the model sampled and ``positions``
    each video frame's place among them (0..K-1, as ``pipeline.interpolate`` spaced them).
    """
    # 1. Follow each object through the keyframes
    paths = follow(keyframes)
    res = float(keyframes.shape[1])

    # 2. Each sample's place among the keyframes (a frame is shown for 1/fps seconds)
    n = round(len(positions) / fps * rate)
    frame = np.arange(n, dtype=np.float64) * (fps / rate)
    where = np.interp(frame, np.arange(len(positions)), positions)

    # 3. A tone per object, then 4. a knock or a tick at each contact
    out = np.zeros(n, dtype=np.float32)
    for i, path in enumerate(paths[: len(BASE_NOTES)]):
        out += _tone(path, where, BASE_NOTES[i], res, rate)
        for contact in contacts(path, res):
            shown = np.nonzero(positions >= contact.position - 1e-6)[0]
            if len(shown) and positions[shown[0]] - contact.position < 1.0:
                _add_click(out, round(shown[0] / fps * rate), contact, BASE_NOTES[i], rate, seed)

    # 5. Soft start and end; keep peaks below full scale
    ramp = min(n // 2, rate // 50)
    if ramp:
        out[:ramp] *= np.linspace(0.0, 1.0, ramp, dtype=np.float32)
        out[n - ramp :] *= np.linspace(1.0, 0.0, ramp, dtype=np.float32)
    peak = float(np.abs(out).max()) if n else 0.0
    if peak > 0.9:
        out *= 0.9 / peak
    return AudioTrack(out[None, :], rate)


def follow(keyframes: np.ndarray) -> list[ObjectPath]:
    """The objects of the clip in ``_order``, each matched from keyframe to keyframe as
    ``interpolate`` matches them (similar colour, nearest)."""
    k = len(keyframes)
    layers = [_layers(frame)[1] for frame in keyframes]
    chains: list[dict[int, _Blob]] = [{0: blob} for blob in layers[0]]
    open_chains = {id(blob): chain for blob, chain in zip(layers[0], chains, strict=True)}
    for i in range(k - 1):
        carried: dict[int, dict[int, _Blob]] = {}
        for before, after in _match(layers[i], layers[i + 1]):
            if after is None:
                continue
            chain = open_chains.get(id(before)) if before is not None else None
            if chain is None:
                chain = {}
                chains.append(chain)
            chain[i + 1] = after
            carried[id(after)] = chain
        open_chains = carried
    paths = [_path(chain, k) for chain in chains if len(chain) >= MIN_KEYFRAMES]
    paths = [p for p in paths if np.nanmean(p.area) >= MIN_AREA]
    return sorted(paths, key=_order)


def _order(path: ObjectPath) -> tuple[int, float]:
    """Objects there from the start first, then left to right (the left one hums lowest)."""
    first = int(np.argmax(path.seen))
    return first, float(path.x[first])


def contacts(path: ObjectPath, res: float) -> list[Contact]:
    """Where ``path`` lands or turns back, and where it reaches the frame's edge."""
    seen = path.seen
    keys = np.arange(len(seen))
    if seen.sum() < 2:
        return []
    x = np.interp(keys, keys[seen], path.x[seen])
    y = np.interp(keys, keys[seen], path.y[seen])
    size = float(np.clip(np.sqrt(np.nanmean(path.area)) / 15.0, 0.3, 1.0))
    found = [Contact(float(k), "bounce", size) for k in _turns(y, downward_only=True)]
    found += [Contact(float(k), "bounce", size) for k in _turns(x, downward_only=False)]
    if (end := _landing_at_end(y)) is not None:
        found.append(Contact(float(end), "bounce", size))
    found += [Contact(float(k), "edge", size) for k in _edges(path, x, y, res)]
    found.sort(key=lambda c: c.position)
    # one sound per moment: a landing in a corner is not two knocks
    kept: list[Contact] = []
    for contact in found:
        if not kept or contact.position - kept[-1].position >= 1.0:
            kept.append(contact)
    return kept


def _runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    """Stretches of movement along one axis as (direction, first keyframe, last keyframe),
    pauses skipped; a stretch shorter than ``MIN_TRAVEL`` pixels is the model's jitter."""
    step = np.diff(values)
    sign = np.where(step > MOVING, 1, np.where(step < -MOVING, -1, 0))
    runs: list[list[int]] = []
    for i, s in enumerate(sign.tolist()):
        if s == 0:
            continue
        if runs and runs[-1][0] == s:
            runs[-1][2] = i + 1
        else:
            runs.append([s, i, i + 1])
    return [(d, a, b) for d, a, b in runs if abs(float(values[b] - values[a])) >= MIN_TRAVEL]


def _turns(values: np.ndarray, *, downward_only: bool) -> list[int]:
    """Keyframes where movement along one axis arrives and reverses (through any pause):
    increasing then decreasing; with ``downward_only`` False, also decreasing then increasing.
    The sound goes where the motion stops (the landing), not where it starts again."""
    runs = _runs(values)
    return [
        a[2]
        for a, b in itertools.pairwise(runs)
        if a[0] != b[0] and (a[0] > 0 or not downward_only)
    ]


def _landing_at_end(y: np.ndarray) -> int | None:
    """The last keyframe, when the clip ends on a fall back to the floor it rose from (a
    bounce cut at its landing, which ``_turns`` cannot see: nothing follows it)."""
    runs = _runs(y)
    if len(runs) < 2 or runs[-1][0] != 1 or runs[-2][0] != -1:
        return None
    floor = float(y[: runs[-1][1] + 1].max())
    return runs[-1][2] if y[runs[-1][2]] >= floor - 1.5 else None


def _edges(path: ObjectPath, x: np.ndarray, y: np.ndarray, res: float) -> list[int]:
    """Keyframes where the object first comes within ``EDGE`` pixels of the frame's edge it is
    moving toward."""
    seen = path.seen
    hits = []
    for i in range(1, len(x)):
        if not (seen[i] and seen[i - 1]):
            continue
        left, top, right, bottom = path.bounds[i]
        before = path.bounds[i - 1]
        dx, dy = x[i] - x[i - 1], y[i] - y[i - 1]
        gaps_now = (left, top, res - 1 - right, res - 1 - bottom)
        gaps_then = (before[0], before[1], res - 1 - before[2], res - 1 - before[3])
        toward = (dx < -MOVING, dy < -MOVING, dx > MOVING, dy > MOVING)
        if any(
            t and now <= EDGE < then
            for t, now, then in zip(toward, gaps_now, gaps_then, strict=True)
        ):
            hits.append(i)
    return hits


def _tone(path: ObjectPath, where: np.ndarray, base: float, res: float, rate: int) -> np.ndarray:
    seen = path.seen
    keys = np.arange(len(seen), dtype=np.float64)
    y = np.interp(where, keys[seen], path.y[seen])
    area = np.interp(where, keys[seen], path.area[seen])
    present = np.interp(where, keys, seen.astype(np.float64))
    freq = base * np.exp2(PITCH_RANGE * np.clip(1.0 - y / res, 0.0, 1.0))
    # phase summed in float64 (it grows to ~1e5 rad), wrapped, then float32 for speed
    phase = np.mod(np.cumsum(freq) * (2 * np.pi / rate), 2 * np.pi).astype(np.float32)
    loud = (TONE_LEVEL * present * np.clip(0.5 + 0.5 * np.sqrt(area) / 15.0, 0.3, 1.2)).astype(
        np.float32
    )
    return loud * (np.sin(phase) + np.float32(0.2) * np.sin(2 * phase))


def _add_click(
    out: np.ndarray, at: int, contact: Contact, base: float, rate: int, seed: int
) -> None:
    """Mix a short knock into ``out`` starting at sample ``at`` (cut at the end of the clip)."""
    length = min(rate * 60 // 1000, len(out) - at)
    if length <= 0 or at < 0:
        return
    t = np.arange(length, dtype=np.float32) / rate
    if contact.kind == "bounce":  # a low, woody tock
        body = np.sin(2 * np.pi * base * 0.75 * t) + 0.5 * np.sin(2 * np.pi * base * 3.1 * t)
        decay = np.exp(-t / 0.018)
    else:  # a bright tick at the frame's edge
        body = np.sin(2 * np.pi * base * 6.0 * t)
        decay = np.exp(-t / 0.008)
    noise = np.random.default_rng(seed + at).standard_normal(length, np.float32) * np.exp(
        -t / 0.002
    )
    out[at : at + length] += CLICK_LEVEL * contact.strength * (decay * body + 0.4 * noise)


def _path(chain: dict[int, _Blob], k: int) -> ObjectPath:
    x, y, area = np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan)
    bounds = np.full((k, 4), np.nan)
    for i, blob in chain.items():
        x[i], y[i] = float(blob.centre[0]), float(blob.centre[1])
        area[i] = float(blob.cover.sum())
        ys, xs = np.nonzero(blob.cover > 0.5)
        if len(xs):
            bounds[i] = (xs.min(), ys.min(), xs.max(), ys.max())
        else:
            bounds[i] = (x[i], y[i], x[i], y[i])
    return ObjectPath(x, y, area, bounds)
