"""The detector's fast paths read what the plain computations they replace read."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest
import scipy.fft as sfft

from mutoscope.provenance.footage import natural_clip
from mutoscope.provenance.watermark import (
    N_BITS,
    PLANE,
    QIM_STEP,
    SEARCH_SIDE,
    TILE,
    V2,
    V3,
    V4,
    Detection,
    _ClipPlanes,
    _first_found,
    _luma,
    _Pattern,
    _Planes,
    _probe_frames,
    _Qim,
    _sample_frames,
    _search_size,
)


@pytest.mark.parametrize("scheme", [V2, V3])
def test_sync_energy_is_the_fft_correlation_energy_of_every_bit(scheme) -> None:
    pattern = _Pattern(scheme)
    fold = np.random.default_rng(1).normal(size=(TILE, TILE)).astype(np.float32)
    tiles = np.stack([pattern.pattern(i)[:TILE, :TILE] for i in range(N_BITS)])
    spectrum = sfft.rfft2(fold)[None] * np.conj(sfft.rfft2(tiles))
    expected = (sfft.irfft2(spectrum, s=(TILE, TILE)) ** 2).sum(axis=0)

    energy = pattern.sync_energy(fold)

    np.testing.assert_allclose(energy, expected, rtol=1e-4, atol=1e-3 * expected.max())
    assert np.argmax(energy) == np.argmax(expected)


def test_tile_agreement_matches_the_soft_bits_of_every_first_block() -> None:
    qim = _Qim(V4, QIM_STEP)
    values = np.random.default_rng(2).normal(scale=3.0, size=(3, 27, 29)).astype(np.float32)
    side = TILE // 8
    expected = np.array(
        [
            [(qim.soft(values, QIM_STEP, by, bx) ** 2).sum(axis=1).max() for bx in range(side)]
            for by in range(side)
        ]
    )

    np.testing.assert_allclose(qim.tile_agreement(values, QIM_STEP), expected, rtol=1e-4)


@pytest.mark.parametrize("size", [(222, 238), (256, 205), (200, 256), (256, 256), (128, 131)])
def test_planes_resize_as_opencv_does_in_one_pass(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(3)
    array = rng.normal(100, 20, (4, 2 * PLANE, 2 * PLANE)).astype(np.float32)
    planes = _Planes(array)
    w, h = size
    expected = np.stack([cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA) for p in array])

    np.testing.assert_allclose(planes.resized(w, h), expected, atol=1e-3)
    assert planes.resized(w, h) is planes.resized(w, h)  # kept for the next reader


def test_clip_planes_hold_what_the_whole_stack_gives() -> None:
    frames = natural_clip(30, 180, 320, seed=4)
    side = 2 * PLANE
    stack = np.stack(
        [_luma(cv2.resize(f, (side, side), interpolation=cv2.INTER_AREA)) for f in frames]
    )

    search = np.stack([_search_size(p) for p in stack])

    clip = _ClipPlanes.of(frames, _luma)

    np.testing.assert_array_equal(clip.whole.array, _Planes(stack).resized(PLANE, PLANE))
    np.testing.assert_allclose(clip.mean.array[0], _search_size(stack.mean(axis=0)), atol=1e-3)
    np.testing.assert_array_equal(clip.sample.array, search[_sample_frames(len(frames))])
    np.testing.assert_array_equal(clip.probe.array, search[_probe_frames(len(frames))])
    assert clip.sample.array.shape[1:] == (SEARCH_SIDE, SEARCH_SIDE)


def _reading(found: bool, score: float) -> Detection:
    return Detection(
        found=found,
        payload=b"\0" * 6 if found else None,
        bit_margin=0.0,
        score=score,
        scale=(1.0, 1.0),
    )


def test_searches_in_threads_report_as_if_run_in_order() -> None:
    finished: list[float] = []

    def slow_find(stop: threading.Event) -> list[Detection]:
        time.sleep(0.2)  # the second search finds first, but the first one has priority
        finished.append(1)
        return [_reading(False, 1), _reading(True, 1)]

    def quick_find(stop: threading.Event) -> list[Detection]:
        finished.append(2)
        return [_reading(True, 2)]

    def never(stop: threading.Event) -> list[Detection]:
        stop.wait(5)  # stops once an earlier search found the mark
        return [_reading(False, 3)]

    tried = _first_found([slow_find, quick_find, never])

    assert [d.score for d in tried] == [1, 1]
    assert tried[-1].found and finished[-1] == 1


def test_searches_that_find_nothing_report_every_reading_in_order() -> None:
    def search(score: float):
        return lambda stop: [_reading(False, score), _reading(False, score + 0.5)]

    tried = _first_found([search(1), search(2), search(3)])

    assert [d.score for d in tried] == [1, 1.5, 2, 2.5, 3, 3.5]
