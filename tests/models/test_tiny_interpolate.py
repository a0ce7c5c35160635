"""Keyframe interpolation of ``mutoscope-tiny``: in-between frames move objects, not fade them."""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from mutoscope.models.tiny.pipeline import interpolate


def _keyframe(x: int) -> np.ndarray:
    frame = np.full((64, 64, 3), (30, 70, 230), np.uint8)
    cv2.rectangle(frame, (x, 24), (x + 13, 37), (220, 30, 30), -1)
    return frame


def _object_mask(frame: np.ndarray) -> np.ndarray:
    return frame[..., 0].astype(int) - frame[..., 2].astype(int) > 0  # red over blue


def test_in_between_frame_shows_one_whole_object_halfway() -> None:
    keys = np.stack([_keyframe(20), _keyframe(26)])
    frames = interpolate(keys, 3)
    assert np.array_equal(frames[0], keys[0]) and np.array_equal(frames[2], keys[1])
    mask = _object_mask(frames[1])
    count, _ = cv2.connectedComponents(mask.astype(np.uint8))
    assert count == 2  # background + one object, no ghost
    _ys, xs = np.nonzero(mask)
    assert abs(xs.mean() - (23 + 6.5)) < 1.0
    assert abs(mask.sum() - 14 * 14) < 0.15 * 14 * 14  # not a half-faded smear


def test_covers_every_requested_frame_in_order() -> None:
    keys = np.stack([_keyframe(x) for x in range(4, 50, 3)])
    frames = interpolate(keys, 96)
    assert frames.shape == (96, 64, 64, 3)
    xs = [np.nonzero(_object_mask(f))[1].mean() for f in frames]
    assert all(b >= a - 0.5 for a, b in itertools.pairwise(xs))
