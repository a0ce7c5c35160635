"""HunyuanVideo 1.5 backend on a tiny saved checkpoint: text-to-video with its own frame and
size rules read from the checkpoint, guidance on its guider, progress without a step callback."""

from __future__ import annotations

import numpy as np
import pytest

from mutoscope.errors import JobCancelled
from tests.backends.conftest import Progress, request


def test_text_to_video_makes_the_requested_clip(load_backend) -> None:
    backend = load_backend("hunyuanvideo15")
    assert not backend.accepts_image and not backend.accepts_video
    # The tiny VAE compresses time 2x and space 4x: the rules come from the checkpoint.
    assert (backend.frame_step, backend.size_multiple) == (2, 4)
    progress = Progress()

    video = backend.generate(request(size="16x16", seconds="4"), progress)

    assert video.frames.shape == (8, 16, 16, 3) and video.fps == 2
    assert video.frames.std() > 0
    # Progress follows the scheduler's steps (the pipeline has no step callback).
    assert progress.values == pytest.approx([0.475, 0.95, 1.0])


def test_guidance_reaches_the_guider_and_changes_the_video(load_backend) -> None:
    backend = load_backend("hunyuanvideo15")

    plain = backend.generate(request(size="16x16", options={"guidance": 1.0}), Progress())
    guided = backend.generate(request(size="16x16", options={"guidance": 6.0}), Progress())

    assert not np.array_equal(plain.frames, guided.frames)
    with backend.pool.use(backend.spec) as model:
        assert model.pipeline.guider.guidance_scale == 6.0


def test_cancelling_stops_at_the_next_scheduler_step(load_backend) -> None:
    backend = load_backend("hunyuanvideo15", steps=6)
    progress = Progress(cancel_at=2, exc=JobCancelled)

    with pytest.raises(JobCancelled):
        backend.generate(request(size="16x16"), progress)

    assert len(progress.values) == 2


def test_native_sizes_are_the_buckets_of_the_checkpoints_target_size(
    tiny_checkpoints,
) -> None:
    from mutoscope.backends.diffusers_models import ModelSpec, PipelinePool, backend_class

    path = tiny_checkpoints["hunyuanvideo15"]
    spec = ModelSpec(id="h", family="hunyuanvideo15", path=path, device="cpu")
    backend = backend_class("hunyuanvideo15")(spec, PipelinePool(0), path)

    # target_size 16, multiples of 4: the 16:9 bucket of 16x16 pixels, and its portrait.
    assert backend.native_sizes == ("20x12", "12x20")
    assert (backend.fps, backend.max_frames, backend.steps) == (24.0, 121, 50)
    assert backend.guidance == 6.0  # the checkpoint's guider
