"""A character made from the embedded model's own clip (any aspect) keeps that clip's look."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.tiny import TinyBackend
from mutoscope.characters import look
from mutoscope.media.video import encode_mp4


@pytest.fixture(scope="module")
def backend() -> TinyBackend:
    return TinyBackend()


@pytest.mark.slow  # about 8 s a shape: the real model at 720x1280, encoded and decoded
@pytest.mark.parametrize("shape", ["circle", "square", "diamond"])
def test_a_model_clip_of_each_shape_reads_back_as_that_shape(
    backend: TinyBackend, shape: str
) -> None:
    # The default size is portrait: squeezing it into the detector's square read a red
    # circle as a diamond.
    prompt = f"a red {shape} moving left on a green background"
    request = GenerationRequest(prompt=prompt, size="720x1280", seconds="4", seed=1)
    frames = backend.generate(request, lambda _f: None).frames
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        encode_mp4(frames, path, fps=24)
        clip = look.read_character_video(path.read_bytes())
    assert clip.look == {"color": "red", "shape": shape, "background": "green"}
    assert look.look_of(clip.frames) == clip.look  # as a backend reads the stored frames
