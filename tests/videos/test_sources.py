"""Source clips for edits and extensions: checks on uploads, sizes, re-timing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mutoscope.errors import InvalidRequest
from mutoscope.media import encode_mp4, probe
from mutoscope.sources import (
    crop_resize,
    format_seconds,
    nearest_size,
    normalize_clip,
    probe_clip,
    retimed,
)

SIZES = ("720x1280", "1280x720", "256x256")


def _clip(n: int, w: int = 64, h: int = 48) -> np.ndarray:
    return np.stack([np.full((h, w, 3), 4 * i, np.uint8) for i in range(n)])


def _mp4(tmp_path: Path, frames: np.ndarray, fps: float) -> bytes:
    path = tmp_path / "c.mp4"
    encode_mp4(frames, path, fps=fps)
    return path.read_bytes()


def test_retimed_keeps_the_duration_and_order() -> None:
    out = list(retimed(iter(range(60)), 30.0, 24.0))  # 2 s at 30 fps
    assert len(out) == 48 and out == sorted(out) and out[0] == 0 and out[-1] == 59
    assert list(retimed(iter(range(24)), 24.0, 24.0)) == list(range(24))
    assert len(list(retimed(iter(range(16)), 16.0, 24.0))) == 24  # 1 s at 16 fps -> 24 frames


def test_nearest_size_keeps_the_aspect_ratio() -> None:
    assert nearest_size(256, 256, SIZES) == "256x256"
    assert nearest_size(320, 180, SIZES) == "1280x720"
    assert nearest_size(180, 320, SIZES) == "720x1280"
    assert nearest_size(100, 100, SIZES) == "256x256"


def test_crop_resize_crops_instead_of_stretching() -> None:
    frame = np.zeros((1, 100, 200, 3), np.uint8)
    frame[:, :, 50:150] = 255  # a white square in the middle of a wide frame
    out = crop_resize(frame, 64, 64)
    assert out.shape == (1, 64, 64, 3) and out.min() > 200  # only the square is left


def test_format_seconds() -> None:
    assert (format_seconds(8.0), format_seconds(6.5), format_seconds(7.041666)) == (
        "8",
        "6.5",
        "7.04",
    )


def test_probe_clip_reads_an_upload(tmp_path: Path) -> None:
    info = probe_clip(
        _mp4(tmp_path, _clip(30), 30.0), max_seconds=60, max_pixels=10**6, param="video"
    )
    assert (info.width, info.height, info.frame_count, info.fps) == (64, 48, 30, 30.0)
    assert info.duration == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("data", "limits", "words"),
    [
        (b"", {}, "empty"),
        (b"not a video at all", {}, "could not be decoded"),
        (None, {"max_seconds": 0.5}, "at most 0.5 s"),
        (None, {"max_pixels": 1000}, "pixels per frame"),
    ],
)
def test_probe_clip_refuses_what_it_cannot_use(tmp_path: Path, data, limits, words) -> None:
    data = _mp4(tmp_path, _clip(30), 30.0) if data is None else data
    kwargs = {"max_seconds": 60.0, "max_pixels": 10**6, **limits}
    with pytest.raises(InvalidRequest, match=words) as err:
        probe_clip(data, param="video.file_id", **kwargs)
    assert err.value.param == "video.file_id"


def test_normalize_clip_re_times_and_crops(tmp_path: Path) -> None:
    src = tmp_path / "src.mp4"
    encode_mp4(_clip(45, 96, 48), src, fps=30.0)  # 1.5 s, 2:1
    dest = tmp_path / "out.mp4"
    count = normalize_clip(src, dest, fps_in=30.0, fps=24.0, width=32, height=32)
    info = probe(dest)
    assert count == info.frame_count == 36 and (info.width, info.height) == (32, 32)
    assert info.fps == pytest.approx(24.0) and info.duration == pytest.approx(1.5)
