"""Wan backend on a tiny saved checkpoint: T2V, I2V, remix (V2V), size/frame validation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutoscope.errors import InvalidRequest
from tests.backends.conftest import Progress, parent_clip, request


def test_text_to_video_makes_the_requested_clip(load_backend) -> None:
    backend = load_backend("wan")
    progress = Progress()

    video = backend.generate(request(size="16x16", seconds="4"), progress)

    # 4 s at the tiny model's 2 fps is 8 frames; Wan needs 4k+1, so 9.
    assert video.frames.shape == (9, 16, 16, 3)
    assert video.frames.dtype == np.uint8
    assert video.fps == 2
    assert video.frames.std() > 0
    assert progress.values == pytest.approx([0.475, 0.95, 1.0])


def test_same_seed_same_video_other_seed_differs(load_backend) -> None:
    backend = load_backend("wan")
    a = backend.generate(request(size="16x16", seed=3), Progress()).frames
    b = backend.generate(request(size="16x16", seed=3), Progress()).frames
    c = backend.generate(request(size="16x16", seed=4), Progress()).frames
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_openai_size_maps_onto_native_size_and_back(load_backend) -> None:
    backend = load_backend("wan", sizes=["32x16"])
    assert "1280x720" in backend.sizes and "720x1280" not in backend.sizes

    video = backend.generate(request(size="1280x720"), Progress())

    assert video.frames.shape == (9, 720, 1280, 3)


def test_remix_really_conditions_on_the_parent_video(load_backend) -> None:
    backend = load_backend("wan")
    assert backend.accepts_video
    remix = dict(size="16x16", mode="remix", seed=7, options={"strength": 0.5})

    from_a = backend.generate(request(source_video=parent_clip(seed=1), **remix), Progress())
    from_b = backend.generate(request(source_video=parent_clip(seed=2), **remix), Progress())
    plain = backend.generate(request(size="16x16", seed=7), Progress())

    assert from_a.frames.shape == (9, 16, 16, 3)
    assert not np.array_equal(from_a.frames, from_b.frames)
    assert not np.array_equal(from_a.frames, plain.frames)


def test_image_to_video_checkpoint_uses_the_reference(load_backend) -> None:
    backend = load_backend("wan-i2v")
    assert backend.accepts_image and not backend.accepts_video
    red = Image.new("RGB", (40, 20), (255, 0, 0))
    blue = Image.new("RGB", (40, 20), (0, 0, 255))

    from_red = backend.generate(request(size="16x16", image=red), Progress())
    from_blue = backend.generate(request(size="16x16", image=blue), Progress())

    assert from_red.frames.shape == (9, 16, 16, 3)
    assert not np.array_equal(from_red.frames, from_blue.frames)


def test_image_only_checkpoint_asks_for_a_reference(load_backend) -> None:
    backend = load_backend("wan-i2v")
    with pytest.raises(InvalidRequest, match="image-to-video only") as err:
        backend.check(request(size="16x16"))
    assert err.value.param == "input_reference"


def test_text_to_video_checkpoint_rejects_a_reference_image(load_backend) -> None:
    backend = load_backend("wan")
    with pytest.raises(InvalidRequest) as err:
        backend.check(request(size="16x16", image=Image.new("RGB", (16, 16))))
    assert err.value.param == "input_reference"


def test_unsupported_size_names_the_sizes_that_work(load_backend) -> None:
    backend = load_backend("wan", sizes=["32x16"])
    with pytest.raises(InvalidRequest, match='"32x16"') as err:
        backend.check(request(size="720x1280"))
    assert err.value.param == "size"


def test_clip_longer_than_the_model_makes_is_rejected_with_the_limit(load_backend) -> None:
    backend = load_backend("wan")
    assert backend.seconds == ("4",)
    with pytest.raises(InvalidRequest, match=r'one of "4".*at most 9 frames at 2 fps') as err:
        backend.check(request(size="16x16", seconds="8"))
    assert err.value.param == "seconds"
