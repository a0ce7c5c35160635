"""LTX-Video backend on a tiny saved checkpoint: T2V, I2V and remix through the condition
pipeline, all on one set of weights."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutoscope.errors import InvalidRequest
from tests.backends.conftest import Progress, parent_clip, request


def test_text_to_video_makes_the_requested_clip(load_backend) -> None:
    backend = load_backend("ltx")
    progress = Progress()

    video = backend.generate(request(size="32x32", seconds="4"), progress)

    # 4 s at 2 fps is 8 frames: LTX generates 9 (8k+1), the clip keeps 8.
    assert video.frames.shape == (8, 32, 32, 3)
    assert video.frames.dtype == np.uint8
    assert progress.values[-1] == 1.0 and len(progress.values) == 3


def test_one_checkpoint_serves_image_to_video(load_backend) -> None:
    backend = load_backend("ltx")
    assert backend.accepts_image and backend.accepts_video
    red = Image.new("RGB", (64, 64), (255, 0, 0))
    blue = Image.new("RGB", (64, 64), (0, 0, 255))

    from_red = backend.generate(request(size="32x32", image=red), Progress())
    from_blue = backend.generate(request(size="32x32", image=blue), Progress())

    assert from_red.frames.shape == (8, 32, 32, 3)
    assert not np.array_equal(from_red.frames, from_blue.frames)
    assert backend.pool.loads[backend.name] == 1


def test_remix_conditions_on_the_parent_video(load_backend) -> None:
    backend = load_backend("ltx")
    remix = dict(size="32x32", mode="remix", seed=5)

    from_a = backend.generate(
        request(source_video=parent_clip(size=32, seed=1), **remix), Progress()
    )
    from_b = backend.generate(
        request(source_video=parent_clip(size=32, seed=2), **remix), Progress()
    )
    plain = backend.generate(request(size="32x32", seed=5), Progress())

    assert from_a.frames.shape == (8, 32, 32, 3)
    assert not np.array_equal(from_a.frames, from_b.frames)
    assert not np.array_equal(from_a.frames, plain.frames)


def test_frame_counts_follow_the_8k_plus_1_rule(load_backend) -> None:
    backend = load_backend("ltx", fps=24, max_frames=257)
    assert backend.frames_for("4") == 97
    assert backend.frames_for("8") == 193
    assert backend.seconds == ("4", "8")
    with pytest.raises(InvalidRequest, match="at most 257 frames at 24 fps"):
        backend.check(request(size="32x32", seconds="12"))


def test_extend_continues_from_the_parent_tail_and_returns_new_frames(load_backend) -> None:
    backend = load_backend("ltx")
    extend = dict(size="32x32", mode="extend", seed=5)

    after_a = backend.generate(
        request(source_video=parent_clip(size=32, seed=1), **extend), Progress()
    )
    after_b = backend.generate(
        request(source_video=parent_clip(size=32, seed=2), **extend), Progress()
    )

    # 9 frames asked for; 9 + 9 - 1 generated with the parent's tail first, tail dropped.
    assert after_a.frames.shape == (8, 32, 32, 3)
    assert not np.array_equal(after_a.frames, after_b.frames)
