"""Watermark v5: on flat footage the mark goes into blue-yellow chroma (luma all but unchanged)
and survives a real H.264 store, 50 % downscale and CRF 28; v4 marks on flat footage still read."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from mutoscope.media.video import decode_mp4, encode_mp4
from mutoscope.provenance.colour import ciede2000, lab_of_linear, linear
from mutoscope.provenance.footage import shapes_clip
from mutoscope.provenance.watermark import (
    CB_FALLBACKS,
    CB_MAX_STEPS,
    CB_VECTOR,
    Watermarker,
    encode_bits,
)

PAYLOAD = bytes.fromhex("5eed00c0ffee")
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
CB = np.array([-0.168736, -0.331264, 0.5], np.float32)


@pytest.fixture(scope="module")
def flat() -> tuple[np.ndarray, np.ndarray]:
    """One second of flat backdrop with soft moving shapes (the embedded model's look)."""
    clean = shapes_clip(24, 720, 1280, seed=31)
    return clean, Watermarker().embed(clean, PAYLOAD)


def test_v5_moves_chroma_not_luma_on_flat_footage(flat: tuple[np.ndarray, np.ndarray]) -> None:
    clean, marked = flat
    delta = marked.astype(np.float32) - clean
    changed = np.abs(delta).sum(axis=-1) > 0
    assert changed.mean() > 0.05  # a dithered carrier of about half a Cb level on greys
    # every change is a whole number of steps along CB_VECTOR or, where it would clip, a fallback
    d = delta[changed]
    along = np.zeros(len(d), bool)
    for vec in (CB_VECTOR, *CB_FALLBACKS):
        v = np.array(vec, np.float32)
        steps = d[:, 2] / v[2]
        this = (steps == np.round(steps)) & np.all(d == steps[:, None] * v, axis=1)
        assert np.abs(steps[this]).max(initial=0) <= CB_MAX_STEPS
        along |= this
    assert along.all()
    worst = max(abs(float(np.array(v, np.float32) @ LUMA)) for v in (CB_VECTOR, *CB_FALLBACKS))
    assert np.abs(delta @ LUMA).max() <= CB_MAX_STEPS * worst + 1e-4
    assert np.sqrt(np.mean((delta @ CB) ** 2)) > 0.5


def test_first_v5_vector_marks_still_read(tmp_path: Path) -> None:
    # v5 as first landed stepped along (0, -1, +5); the reader sees only Cb, so those read too
    clean = shapes_clip(24, 360, 640, seed=34)
    marked = Watermarker(chroma_vector=(0, -1, 5)).embed(clean, PAYLOAD)
    assert np.array_equal((marked.astype(np.int16) - clean)[..., 0], np.zeros(clean.shape[:3]))
    encode_mp4(marked, tmp_path / "first.mp4", crf=23)

    found = Watermarker().detect(decode_mp4(tmp_path / "first.mp4"))

    assert found.found and found.payload == PAYLOAD and found.version == 5


def test_v5_survives_store_half_downscale_and_crf28(
    flat: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    _, marked = flat
    encode_mp4(marked, tmp_path / "stored.mp4")  # how Mutoscope stores it (CRF 20)
    stored = decode_mp4(tmp_path / "stored.mp4")
    small = np.stack([cv2.resize(f, (640, 360), interpolation=cv2.INTER_AREA) for f in stored])
    encode_mp4(small, tmp_path / "copy.mp4", crf=28, preset="medium")

    found = Watermarker().detect(decode_mp4(tmp_path / "copy.mp4"))

    assert found.found and found.payload == PAYLOAD and found.version == 5
    assert found.bits is not None and np.mean(found.bits == encode_bits(PAYLOAD)) >= 0.95


def test_v5_leaves_pixels_that_would_clip_alone() -> None:
    # A saturated blue backdrop: a blue step would clip there and stop being luma-neutral.
    frames = np.zeros((4, 360, 640, 3), np.uint8)
    frames[..., 2] = 252
    frames[:, :, 320:] = (40, 60, 120)

    marked = Watermarker().embed(frames, PAYLOAD)

    assert np.array_equal(marked[:, :, :320], frames[:, :, :320])
    assert not np.array_equal(marked[:, :, 320:], frames[:, :, 320:])


def test_v4_marks_on_flat_footage_still_read(tmp_path: Path) -> None:
    clean = shapes_clip(24, 360, 640, seed=32)
    encode_mp4(Watermarker(version=4).embed(clean, PAYLOAD), tmp_path / "v4.mp4", crf=23)

    found = Watermarker().detect(decode_mp4(tmp_path / "v4.mp4"))

    assert found.found and found.payload == PAYLOAD and found.version == 3  # v4's flat mark


def test_unmarked_flat_footage_reads_no_payload(tmp_path: Path) -> None:
    encode_mp4(shapes_clip(12, 360, 640, seed=33), tmp_path / "clean.mp4", crf=23)

    found = Watermarker().detect(decode_mp4(tmp_path / "clean.mp4"))

    assert not found.found and found.payload is None and found.version is None


@pytest.mark.parametrize("level", [0, 255])
def test_pure_black_or_white_flat_footage_takes_the_luma_mark(tmp_path: Path, level: int) -> None:
    # no luma-neutral chroma step fits at 0 or 255: such a chunk (a title card) keeps v3's mark,
    # which saturates one way, instead of going unmarked
    clean = np.full((24, 360, 640, 3), level, np.uint8)
    for t in range(24):
        cv2.circle(clean[t], (120 + 8 * t, 180), 40, (220, 30, 30), -1)
    marked = Watermarker().embed(clean, PAYLOAD)
    assert (marked != clean).any(axis=-1).mean() > 0.1
    encode_mp4(marked, tmp_path / "card.mp4", crf=20)
    found = Watermarker().detect(decode_mp4(tmp_path / "card.mp4"))
    assert found.payload == PAYLOAD


def _eye_delta_e(marked: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """CIEDE2000 per pixel of two frames blurred in linear light (sigma 2 px: the dither goes,
    the mark's blocks stay), as bench/watermark.py measures it."""

    def seen(f: np.ndarray) -> np.ndarray:
        lin = linear(f)
        return lab_of_linear(
            np.stack([cv2.GaussianBlur(lin[..., k], (0, 0), 2.0) for k in range(3)], -1)
        )

    return ciede2000(seen(clean), seen(marked))


@pytest.mark.parametrize("grey", [20, 128, 240])
def test_v5_chroma_mark_stays_below_a_just_noticeable_difference_on_grey(grey: int) -> None:
    # a flat grey is where a blue-yellow mark shows most; the carrier is limited per colour
    clean = np.full((4, 360, 640, 3), grey, np.uint8)
    marked = Watermarker().embed(clean, PAYLOAD)
    de = _eye_delta_e(marked[0], clean[0])
    assert de.mean() < 0.5 and np.percentile(de, 99) <= 1.0
    # a mark it is: the unlimited carrier v5 first wrote was over 2x stronger
    before = _eye_delta_e(
        Watermarker(chroma_strength=2.0, chroma_de=0).embed(clean, PAYLOAD)[0], clean[0]
    )
    assert 0.1 < de.mean() < before.mean() / 2


def test_v5_spends_more_chroma_where_it_shows_less() -> None:
    # the same Cb step is about a quarter as visible on a saturated blue as on a grey
    grey = np.full((4, 360, 640, 3), 128, np.uint8)
    blue = np.zeros_like(grey)
    blue[...] = (30, 60, 160)
    cb_rms = [
        float(
            np.sqrt(np.mean(((Watermarker().embed(f, PAYLOAD) - f.astype(np.float32)) @ CB) ** 2))
        )
        for f in (grey, blue)
    ]
    assert cb_rms[1] > 1.5 * cb_rms[0]


def test_marks_written_by_v5_before_the_visibility_limit_still_read(tmp_path: Path) -> None:
    clean = shapes_clip(24, 360, 640, seed=35)
    marked = Watermarker(chroma_strength=2.0, chroma_de=0).embed(clean, PAYLOAD)
    encode_mp4(marked, tmp_path / "before.mp4", crf=23)

    found = Watermarker().detect(decode_mp4(tmp_path / "before.mp4"))

    assert found.found and found.payload == PAYLOAD and found.version == 5
