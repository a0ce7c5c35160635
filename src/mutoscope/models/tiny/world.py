"""The procedural "shapes world" that ``mutoscope-tiny`` learns from.

A clip is a :class:`Scene` (one or two coloured shapes, each with a motion, over a solid or
gradient background) rendered as ``FRAMES`` keyframes of ``RES`` x ``RES`` pixels spanning the
whole clip, plus a caption drawn from many templates and synonyms. Everything is deterministic
for a given seed.

Motion is laid out so the caption alone fixes where things are: a one-object clip uses the
whole frame, in a two-object clip the first-mentioned object lives in the left half and the
second in the right half, and a moving object starts on the side opposite its direction.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import cv2
import numpy as np

RES = 64
FRAMES = 16

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (250, 140, 0),
    "yellow": (245, 225, 30),
    "green": (30, 170, 50),
    "blue": (30, 70, 230),
    "purple": (140, 40, 190),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
SHAPES = ("circle", "square", "triangle", "diamond", "cross")
DIRECTIONS: dict[str, tuple[int, int]] = {
    "left": (-1, 0),
    "right": (1, 0),
    "up": (0, -1),
    "down": (0, 1),
    "up-left": (-1, -1),
    "up-right": (1, -1),
    "down-left": (-1, 1),
    "down-right": (1, 1),
}
MOTIONS = (*DIRECTIONS, "bounce", "grow")

COLOR_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red", "crimson", "scarlet"),
    "orange": ("orange", "tangerine", "amber"),
    "yellow": ("yellow", "golden", "lemon"),
    "green": ("green", "emerald", "lime"),
    "blue": ("blue", "azure", "cobalt"),
    "purple": ("purple", "violet", "lavender"),
    "white": ("white", "snowy", "ivory"),
    "black": ("black", "jet-black", "ebony"),
}
SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "disc", "ball", "dot"),
    "square": ("square", "box", "block"),
    "triangle": ("triangle", "wedge"),
    "diamond": ("diamond", "rhombus", "lozenge"),
    "cross": ("cross", "plus sign", "plus"),
}
_VERBS = ("moving", "drifting", "sliding", "heading", "gliding", "travelling", "going")
_DIR_PHRASES: dict[str, tuple[str, ...]] = {
    "left": ("left", "to the left", "leftward"),
    "right": ("right", "to the right", "rightward"),
    "up": ("up", "upward", "toward the top"),
    "down": ("down", "downward", "toward the bottom"),
    "up-left": ("up and to the left", "diagonally up-left", "toward the top left"),
    "up-right": ("up and to the right", "diagonally up-right", "toward the top right"),
    "down-left": ("down and to the left", "diagonally down-left", "toward the bottom left"),
    "down-right": ("down and to the right", "diagonally down-right", "toward the bottom right"),
}
_MOTION_PHRASES: dict[str, tuple[str, ...]] = {
    "bounce": ("bouncing", "bouncing up and down", "hopping", "bouncing in place"),
    "grow": ("growing", "expanding", "getting bigger", "swelling"),
}
_BG_TEMPLATES = (
    "on a {c} background",
    "on a {c} backdrop",
    "against a {c} background",
    "over a {c} backdrop",
    "in front of a {c} background",
)
_GRADIENT_TEMPLATES = (
    "on a {c} gradient background",
    "on a {c} gradient backdrop",
    "against a {c} gradient",
    "over a shaded {c} backdrop",
)
HOLDOUT_FRACTION = 0.12


@dataclass(frozen=True)
class ObjectSpec:
    color: str
    shape: str
    motion: str


@dataclass(frozen=True)
class Scene:
    objects: tuple[ObjectSpec, ...]
    background: str
    gradient: bool = False
    jitter: tuple[float, ...] = field(default=(0.0, 0.0, 0.0, 0.0, 0.0, 0.0))
    """Per-clip nuisance in [-1, 1]: object 1 dx, dy, size, object 2 dx, dy, size."""

    def to_json(self) -> dict[str, object]:
        return {"objects": [asdict(o) for o in self.objects], "background": self.background}


@lru_cache(maxsize=1)
def heldout_combinations() -> frozenset[tuple[str, str, str]]:
    """(colour, shape, motion) triples never shown in training (about 12 % of them)."""
    triples = [(c, s, m) for c in COLORS for s in SHAPES for m in MOTIONS]
    rng = random.Random(1234)
    rng.shuffle(triples)
    return frozenset(triples[: round(len(triples) * HOLDOUT_FRACTION)])


def is_heldout(obj: ObjectSpec) -> bool:
    return (obj.color, obj.shape, obj.motion) in heldout_combinations()


def sample_scene(rng: random.Random, split: str = "train", n_objects: int | None = None) -> Scene:
    """A random scene. ``split="train"`` avoids held-out triples; ``"heldout"`` puts one in."""
    n = n_objects or (1 if rng.random() < 0.5 else 2)
    while True:
        bg = rng.choice(list(COLORS))
        colors = rng.sample([c for c in COLORS if c != bg], n)
        objects = tuple(ObjectSpec(c, rng.choice(SHAPES), rng.choice(MOTIONS)) for c in colors)
        held = [is_heldout(o) for o in objects]
        if split == "train" and any(held):
            continue
        if split == "heldout" and not any(held):
            continue
        jitter = tuple(rng.uniform(-1, 1) for _ in range(6))
        return Scene(objects, bg, gradient=rng.random() < 0.3, jitter=jitter)


# -- captions -------------------------------------------------------------------------------


def _object_phrase(rng: random.Random, obj: ObjectSpec) -> str:
    color = rng.choice(COLOR_WORDS[obj.color])
    shape = rng.choice(SHAPE_WORDS[obj.shape])
    if obj.motion in DIRECTIONS:
        motion = f"{rng.choice(_VERBS)} {rng.choice(_DIR_PHRASES[obj.motion])}"
    else:
        motion = rng.choice(_MOTION_PHRASES[obj.motion])
    article = "an" if color[0] in "aeiou" else "a"
    if rng.random() < 0.85:
        return f"{article} {color} {shape} {motion}"
    return f"a {shape} in {color} {motion}"


def caption(scene: Scene, rng: random.Random) -> str:
    """One of many phrasings of ``scene``."""
    parts = [_object_phrase(rng, o) for o in scene.objects]
    subject = " and ".join(parts)
    templates = _GRADIENT_TEMPLATES if scene.gradient else _BG_TEMPLATES
    bg = rng.choice(templates).format(c=rng.choice(COLOR_WORDS[scene.background]))
    text = f"{subject} {bg}" if rng.random() < 0.8 else f"{bg[0].upper()}{bg[1:]}, {subject}"
    return text


# -- rendering ------------------------------------------------------------------------------


def _shape_polygon(shape: str, cx: float, cy: float, size: float) -> np.ndarray | None:
    h = size / 2
    if shape == "square":
        s = h * 0.85
        pts = [(-s, -s), (s, -s), (s, s), (-s, s)]
    elif shape == "triangle":
        pts = [(0, -h), (h, h * 0.8), (-h, h * 0.8)]
    elif shape == "diamond":
        pts = [(0, -h), (h, 0), (0, h), (-h, 0)]
    elif shape == "cross":
        a = h / 3
        pts = [(-a, -h), (a, -h), (a, -a), (h, -a), (h, a), (a, a), (a, h), (-a, h)]
        pts += [(-a, a), (-h, a), (-h, -a), (-a, -a)]
    else:
        return None
    return np.array([(cx + x, cy + y) for x, y in pts])


def draw_shape(
    img: np.ndarray, shape: str, cx: float, cy: float, size: float, color: tuple[float, ...]
) -> None:
    """Draw anti-aliased ``shape`` centred on (cx, cy) with bounding size ``size`` into ``img``."""
    shift = 4
    scale = 1 << shift
    if shape == "circle":
        center = (round(cx * scale), round(cy * scale))
        cv2.circle(img, center, round(size / 2 * scale), color, -1, cv2.LINE_AA, shift)
        return
    poly = _shape_polygon(shape, cx, cy, size)
    assert poly is not None
    cv2.fillPoly(img, [np.round(poly * scale).astype(np.int32)], color, cv2.LINE_AA, shift)


def background(color: str, gradient: bool, res: int = RES) -> np.ndarray:
    base = np.array(COLORS[color], dtype=np.float32)
    img = np.empty((res, res, 3), np.float32)
    if gradient:
        t = np.linspace(0.0, 1.0, res, dtype=np.float32)[:, None, None]
        light = base + (255 - base) * 0.25
        dark = base * 0.7
        img[:] = light * (1 - t) + dark * t
    else:
        img[:] = base
    return img.astype(np.uint8)


def object_track(
    obj: ObjectSpec, slot: int, n_objects: int, jitter: tuple[float, float, float], frames: int
) -> np.ndarray:
    """(frames, 3) array of centre x, centre y and size in pixels for one object."""
    x0, x1 = (0.0, RES) if n_objects == 1 else ((0.0, RES / 2) if slot == 0 else (RES / 2, RES))
    base = (15.0 if n_objects == 1 else 12.0) * (1 + 0.08 * jitter[2])
    cx = (x0 + x1) / 2 + 1.5 * jitter[0]
    cy = RES / 2 + 1.5 * jitter[1]
    travel_x = (x1 - x0) - base - 6
    travel_y = RES - base - 14
    t = np.linspace(0.0, 1.0, frames)
    xs = np.full(frames, cx)
    ys = np.full(frames, cy)
    sizes = np.full(frames, base)
    if obj.motion in DIRECTIONS:
        dx, dy = DIRECTIONS[obj.motion]
        xs = cx + dx * travel_x * (t - 0.5)
        ys = cy + dy * travel_y * (t - 0.5)
    elif obj.motion == "bounce":
        floor = cy + travel_y / 2
        ys = floor - travel_y * np.abs(np.sin(2 * np.pi * t))
    elif obj.motion == "grow":
        sizes = base * (0.5 + 1.0 * t)
    return np.stack([xs, ys, sizes], axis=1)


def render(scene: Scene, frames: int = FRAMES, res: int = RES) -> np.ndarray:
    """(frames, res, res, 3) uint8 clip of ``scene``; keyframes span the whole clip."""
    bg = background(scene.background, scene.gradient, RES)
    n = len(scene.objects)
    jit = [
        (scene.jitter[3 * i], scene.jitter[3 * i + 1], scene.jitter[3 * i + 2]) for i in range(n)
    ]
    tracks = [object_track(o, i, n, jit[i], frames) for i, o in enumerate(scene.objects)]
    clip = np.empty((frames, RES, RES, 3), np.uint8)
    for f in range(frames):
        img = bg.copy()
        for obj, track in zip(scene.objects, tracks, strict=True):
            cx, cy, size = track[f]
            draw_shape(img, obj.shape, cx, cy, size, COLORS[obj.color])
        clip[f] = img
    if res != RES:
        clip = np.stack([cv2.resize(f, (res, res), interpolation=cv2.INTER_AREA) for f in clip])
    return clip


def sample_clip(
    seed: int, split: str = "train", n_objects: int | None = None
) -> tuple[Scene, str, np.ndarray]:
    """Scene, caption and rendered keyframes for ``seed`` (deterministic)."""
    rng = random.Random(seed)
    scene = sample_scene(rng, split, n_objects)
    return scene, caption(scene, rng), render(scene)
