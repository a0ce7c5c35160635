"""CogVideoX backend on tiny saved checkpoints: T2V, remix (V2V) and the I2V variant."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutoscope.errors import InvalidRequest
from tests.backends.conftest import Progress, parent_clip, request


def test_text_to_video_makes_the_requested_clip(load_backend) -> None:
    backend = load_backend("cogvideox")
    progress = Progress()

    video = backend.generate(request(size="16x16", seconds="4"), progress)

    assert video.frames.shape == (8, 16, 16, 3)
    assert video.fps == 2
    assert progress.values == pytest.approx([0.475, 0.95, 1.0])


def test_remix_really_conditions_on_the_parent_video(load_backend) -> None:
    backend = load_backend("cogvideox")
    assert backend.accepts_video and not backend.accepts_image
    remix = dict(size="16x16", mode="remix", seed=9, options={"strength": 0.5})

    from_a = backend.generate(request(source_video=parent_clip(seed=1), **remix), Progress())
    from_b = backend.generate(request(source_video=parent_clip(seed=2), **remix), Progress())

    assert from_a.frames.shape == (8, 16, 16, 3)
    assert not np.array_equal(from_a.frames, from_b.frames)


def test_image_to_video_checkpoint_uses_the_reference(load_backend) -> None:
    backend = load_backend("cogvideox-i2v")
    red = Image.new("RGB", (16, 16), (255, 0, 0))
    blue = Image.new("RGB", (16, 16), (0, 0, 255))

    from_red = backend.generate(request(size="16x16", image=red), Progress())
    from_blue = backend.generate(request(size="16x16", image=blue), Progress())

    assert from_red.frames.shape == (8, 16, 16, 3)
    assert not np.array_equal(from_red.frames, from_blue.frames)


def test_remix_on_image_only_checkpoint_starts_from_the_parent_frame(load_backend) -> None:
    backend = load_backend("cogvideox-i2v")
    remix = dict(size="16x16", mode="remix", seed=2)

    from_a = backend.generate(request(source_video=parent_clip(seed=1) + 100, **remix), Progress())
    from_b = backend.generate(request(source_video=parent_clip(seed=2), **remix), Progress())

    assert not np.array_equal(from_a.frames, from_b.frames)


def test_default_sizes_are_landscape_only(load_backend) -> None:
    backend = load_backend("cogvideox", sizes=[])
    assert backend.sizes == ("720x480", "1280x720", "1792x1024")
    with pytest.raises(InvalidRequest, match='"720x480"') as err:
        backend.check(request(size="720x1280"))
    assert err.value.param == "size"
