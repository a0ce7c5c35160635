"""Watermark v3: invisible on flat footage (luma PSNR >= 45 dB), still robust, v2 still read."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from mutoscope.media.video import decode_mp4, encode_mp4
from mutoscope.provenance.footage import shapes_clip
from mutoscope.provenance.watermark import Watermarker, encode_bits

PAYLOAD = bytes.fromhex("c0ffee5a1742")
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def luma_psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float32) @ LUMA - b.astype(np.float32) @ LUMA) ** 2)
    return float(10 * np.log10(255**2 / mse))


@pytest.fixture(scope="module")
def flat() -> tuple[np.ndarray, np.ndarray]:
    """One second of flat backdrop with soft moving shapes (the embedded model's look)."""
    clean = shapes_clip(24, 720, 1280, seed=7)
    return clean, Watermarker(version=3).embed(clean, PAYLOAD)


def test_v3_round_trip_reads_payload_and_version(flat: tuple[np.ndarray, np.ndarray]) -> None:
    _, marked = flat

    found = Watermarker().detect(marked)

    assert found.found and found.payload == PAYLOAD and found.version == 3
    assert found.bit_margin == 1.0


def test_v3_is_at_least_45_db_luma_psnr_on_flat_footage(
    flat: tuple[np.ndarray, np.ndarray],
) -> None:
    clean, marked = flat
    assert not np.array_equal(clean, marked)
    assert luma_psnr(marked, clean) >= 45.0


def test_v3_changes_luma_only(flat: tuple[np.ndarray, np.ndarray]) -> None:
    # The same change on R, G and B: no colour speckle for the eye or for x264.
    clean, marked = flat
    delta = marked.astype(int) - clean
    unclipped = (clean > 8).all(axis=-1) & (clean < 247).all(axis=-1)
    d = delta[unclipped]
    assert np.array_equal(d[:, 0], d[:, 1]) and np.array_equal(d[:, 1], d[:, 2])


def test_v3_survives_crf28_and_half_downscale(
    flat: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    _, marked = flat
    encode_mp4(marked, tmp_path / "stored.mp4")  # how Mutoscope stores it (CRF 20)
    stored = decode_mp4(tmp_path / "stored.mp4")
    small = np.stack([cv2.resize(f, (640, 360), interpolation=cv2.INTER_AREA) for f in stored])
    encode_mp4(small, tmp_path / "copy.mp4", crf=28, preset="medium")

    found = Watermarker().detect(decode_mp4(tmp_path / "copy.mp4"))

    assert found.found and found.payload == PAYLOAD and found.version == 3
    assert found.bits is not None and np.mean(found.bits == encode_bits(PAYLOAD)) >= 0.95


def test_v2_marks_written_before_v3_still_read(tmp_path: Path) -> None:
    clean = shapes_clip(24, 360, 640, seed=8)
    encode_mp4(Watermarker(version=2).embed(clean, PAYLOAD), tmp_path / "v2.mp4", crf=23)

    found = Watermarker().detect(decode_mp4(tmp_path / "v2.mp4"))

    assert found.found and found.payload == PAYLOAD and found.version == 2


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version must be 2, 3, 4 or 5"):
        Watermarker(version=6)
