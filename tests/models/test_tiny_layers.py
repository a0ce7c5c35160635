"""Object layers of ``mutoscope-tiny``: only the named objects are kept, each in one colour, and
they are drawn with crisp edges at the output size."""

from __future__ import annotations

import cv2
import numpy as np

from mutoscope.models.tiny import detector, world
from mutoscope.models.tiny.layers import interpolate, keep_named, render
from mutoscope.models.tiny.pipeline import fit_size

PURPLE, YELLOW, BLUE = world.COLORS["purple"], world.COLORS["yellow"], world.COLORS["blue"]
ORANGE, GREEN, RED = world.COLORS["orange"], world.COLORS["green"], world.COLORS["red"]


def _clip(
    objects: list[tuple[str, tuple[int, int, int], int]], backdrop: tuple[int, int, int]
) -> np.ndarray:
    """Eight soft (decoder-like) keyframes; each object (shape, colour, start x) moves right."""
    keys = []
    for k in range(8):
        frame = np.zeros((64, 64, 3), np.float32)
        frame[:] = backdrop
        for shape, colour, x in objects:
            world.draw_shape(frame, shape, x + 2 * k, 32, 14, colour)
        keys.append(cv2.GaussianBlur(frame, (0, 0), 0.9))
    return np.clip(np.stack(keys) + 0.5, 0, 255).astype(np.uint8)


def _smudge(keys: np.ndarray, colour: tuple[int, int, int], at: tuple[int, int]) -> None:
    """A faint blob, halfway between the backdrop and ``colour``, in every keyframe."""
    for frame in keys:
        spot = np.zeros(frame.shape[:2], np.float32)
        cv2.circle(spot, at, 5, 1.0, -1)
        spot = cv2.GaussianBlur(spot, (0, 0), 1.0)[..., None] * 0.6
        frame[:] = np.clip(frame * (1 - spot) + np.array(colour) * spot + 0.5, 0, 255)


def _colours(frames: np.ndarray) -> set[str]:
    return {o.color for o in detector.detect(frames, max_objects=4).objects}


def test_a_faint_blob_in_a_neighbouring_colour_is_painted_out() -> None:
    keys = _clip([("diamond", YELLOW, 14)], PURPLE)
    _smudge(keys, BLUE, (46, 16))
    assert _colours(interpolate(keys, 48)) == {"yellow", "blue"}  # the ghost, as decoded
    kept = keep_named(keys, [YELLOW])
    assert _colours(interpolate(kept, 48)) == {"yellow"}
    assert np.abs(kept[:, 10:22, 40:52].astype(int) - PURPLE).max() <= 2  # plain backdrop


def test_an_object_keeps_one_colour_when_a_keyframe_draws_it_in_a_neighbouring_one() -> None:
    keys = _clip([("square", YELLOW, 14)], world.COLORS["white"])
    keys[2:4] = _clip([("square", ORANGE, 18)], world.COLORS["white"])[2:4]
    assert _colours(interpolate(keys, 48)) == {"yellow", "orange"}
    kept = keep_named(keys, [YELLOW])
    assert _colours(interpolate(kept, 48)) == {"yellow"}
    solid = kept[:, 31, :].astype(int)  # the middle row crosses the square in every keyframe
    assert all(np.abs(row - YELLOW).sum(-1).min() < 25 for row in solid)


def test_two_named_objects_stay_and_a_third_blob_goes() -> None:
    keys = _clip([("circle", RED, 10), ("triangle", GREEN, 40)], YELLOW)
    _smudge(keys, ORANGE, (30, 52))
    kept = keep_named(keys, [RED, GREEN])
    found = detector.detect(interpolate(kept, 48), max_objects=4)
    assert [(o.color, o.shape) for o in found.objects] == [("red", "circle"), ("green", "triangle")]


def test_a_keyframe_with_only_a_faint_blob_shows_no_object_rather_than_the_blob() -> None:
    keys = _clip([("circle", RED, 14)], BLUE)
    keys[5] = world.COLORS["blue"]
    _smudge(keys[5:6], PURPLE, (30, 30))
    kept = keep_named(keys, [RED])
    assert np.abs(kept[5].astype(int) - BLUE).max() <= 2


def _edge_width(frame: np.ndarray, backdrop: tuple[int, int, int], colour: tuple) -> float:
    """Pixels between 10 % and 90 % coverage per pixel of the 50 % outline."""
    span = np.array(colour, np.float32) - backdrop
    cover = ((frame.astype(np.float32) - backdrop) * span).sum(-1) / (span**2).sum()
    band = ((cover > 0.1) & (cover < 0.9)).sum()
    contours, _ = cv2.findContours(
        (cover > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
    )
    return float(band) / sum(cv2.arcLength(c, True) for c in contours)


def _red(frame: np.ndarray) -> np.ndarray:
    return (frame[..., 0].astype(int) - frame[..., 2]) > 0  # more red than blue


def test_720p_edges_are_a_pixel_or_two_wide_where_resizing_smeared_them() -> None:
    keys = _clip([("square", RED, 20)], BLUE)
    frames = render(keys, 15, 1280, 720)  # even frames on keyframes, odd ones halfway
    soft = fit_size(keys, 1280, 720)
    assert _edge_width(frames[6], BLUE, RED) < 2.5
    assert _edge_width(frames[7], BLUE, RED) < 2.5
    assert _edge_width(soft[3], BLUE, RED) > 10
    # the same object in the same place as the resized keyframe (its corners a little less
    # rounded), and whole halfway
    area = int(_red(soft[3]).sum())
    assert abs(int(_red(frames[6]).sum()) - area) < 0.08 * area
    assert abs(int(_red(frames[7]).sum()) - area) < 0.08 * area
    _ys, xs = np.nonzero(_red(frames[6]))
    _ys, xs_soft = np.nonzero(_red(soft[3]))
    _ys, xs_next = np.nonzero(_red(soft[4]))
    assert abs(xs.mean() - xs_soft.mean()) < 2
    _ys, xs_half = np.nonzero(_red(frames[7]))
    assert abs(xs_half.mean() - (xs_soft.mean() + xs_next.mean()) / 2) < 2


def test_a_gradient_backdrop_extends_to_any_aspect() -> None:
    grad = world.background("green", gradient=True)
    keys = np.stack([grad.copy() for _ in range(4)])
    for k, frame in enumerate(keys):
        world.draw_shape(frame, "circle", 20 + 4 * k, 30, 14, RED)
    for width, height in ((1280, 720), (720, 1280), (64, 64)):
        frames = render(keys, 8, width, height)
        assert frames.shape == (8, height, width, 3)
        expected = fit_size(grad[None], width, height)[0]
        corner = (slice(0, height // 8), slice(0, width // 8))  # no object there
        assert np.abs(frames[0][corner].astype(int) - expected[corner]).max() <= 3
