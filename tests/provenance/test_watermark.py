"""The invisible watermark on its own: capacity, invisibility, robustness, no false positives."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mutoscope.media.video import decode_mp4, encode_mp4
from mutoscope.provenance.footage import natural_clip
from mutoscope.provenance.visible import draw_visible_mark
from mutoscope.provenance.watermark import (
    BLOCK,
    N_BITS,
    PLANE,
    Watermarker,
    _block_sums,
    _expand,
    _interp_matrix,
    encode_bits,
)

PAYLOAD = bytes.fromhex("5a17c0ffee42")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float(10 * np.log10(255**2 / mse))


@pytest.fixture(scope="module")
def hd() -> tuple[np.ndarray, np.ndarray]:
    clean = natural_clip(24, 720, 1280, seed=11, pan=100)  # 4 px/frame, as in the bench
    return clean, Watermarker().embed(clean, PAYLOAD)


def test_payload_is_48_bits_with_error_correction() -> None:
    assert len(PAYLOAD) * 8 == 48 and N_BITS > 48
    assert encode_bits(PAYLOAD).shape == (N_BITS,)


def test_mark_is_invisible_by_psnr(hd: tuple[np.ndarray, np.ndarray]) -> None:
    clean, marked = hd
    assert psnr(marked, clean) >= 38.0


def test_payload_survives_crf28_and_half_size(hd: tuple[np.ndarray, np.ndarray], tmp_path) -> None:
    _, marked = hd
    small = np.stack([cv2.resize(f, (640, 360), interpolation=cv2.INTER_AREA) for f in marked])
    encode_mp4(small, tmp_path / "s.mp4", crf=28)

    found = Watermarker().detect(decode_mp4(tmp_path / "s.mp4"))

    assert found.found and found.payload == PAYLOAD
    assert found.bit_margin >= 0.95


def test_payload_survives_ten_percent_crop(hd: tuple[np.ndarray, np.ndarray], tmp_path) -> None:
    _, marked = hd
    cropped = np.ascontiguousarray(marked[:, 20:668, 100:1252])  # 90 % of each side, off-centre
    encode_mp4(cropped, tmp_path / "c.mp4", crf=23)

    found = Watermarker().detect(decode_mp4(tmp_path / "c.mp4"))

    assert found.found and found.payload == PAYLOAD
    assert found.scale != (1.0, 1.0)


@pytest.mark.parametrize(("version", "least", "step"), [(2, 4, 2), (3, 1, 1)])
def test_mark_has_no_sharp_steps_on_flat_frames(version: int, least: int, step: int) -> None:
    # Flat squares (v1) left 3-4 level steps at block edges, which showed on flat backdrops;
    # v3 also keeps a flat frame's mark to single-level steps.
    grey = np.full((4, 720, 1280, 3), 128, np.uint8)

    green = Watermarker(version=version).embed(grey, PAYLOAD)[0, :, :, 1].astype(int)

    assert np.abs(green - 128).max() >= least  # the mark is there...
    assert np.abs(np.diff(green, axis=0)).max() <= step  # ...without edges
    assert np.abs(np.diff(green, axis=1)).max() <= step


def test_block_reshapes_match_the_pattern_matrices() -> None:
    rng = np.random.default_rng(5)
    u = _interp_matrix(PLANE // BLOCK)
    plane = rng.normal(size=(PLANE, PLANE)).astype(np.float32)
    blocks = rng.normal(size=(PLANE // BLOCK, PLANE // BLOCK)).astype(np.float32)

    np.testing.assert_allclose(_block_sums(plane), u.T @ plane @ u, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(_expand(blocks), u @ blocks @ u.T, rtol=1e-4, atol=1e-5)


def test_clean_footage_yields_no_payload() -> None:
    other = natural_clip(12, 360, 640, seed=99)
    found = Watermarker().detect(other)
    assert not found.found and found.payload is None


def test_visible_mark_is_small_and_moves() -> None:
    frames = np.full((96, 360, 640, 3), 128, np.uint8)

    marked = draw_visible_mark(frames, "Made with Mutoscope")

    changed = np.any(marked != frames, axis=-1)
    assert 0 < changed[0].mean() < 0.05
    first = np.argwhere(changed[0]).mean(axis=0)
    later = np.argwhere(changed[60]).mean(axis=0)
    assert np.linalg.norm(first - later) > 50
    assert np.array_equal(draw_visible_mark(frames, "  "), frames)


def test_inplace_embedding_matches_copy() -> None:
    clean = natural_clip(6, 144, 256, seed=4)
    copy = Watermarker().embed(clean, PAYLOAD)
    frames = clean.copy()

    same = Watermarker().embed(frames, PAYLOAD, inplace=True)

    assert same is frames and np.array_equal(same, copy)
    assert not np.array_equal(copy, clean)


def test_strided_frames_are_marked_like_contiguous_ones() -> None:
    # Backends often hand over views, e.g. (T, C, H, W) tensors transposed to (T, H, W, C).
    rng = np.random.default_rng(3)
    channels_first = rng.integers(0, 256, (4, 3, 64, 96), dtype=np.uint8)
    view = channels_first.transpose(0, 2, 3, 1)
    assert not view.flags.c_contiguous
    marked = Watermarker().embed(view, PAYLOAD)
    np.testing.assert_array_equal(marked, Watermarker().embed(np.ascontiguousarray(view), PAYLOAD))
