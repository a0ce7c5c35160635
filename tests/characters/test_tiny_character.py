"""The embedded model keeps a character's look: its colour and shape, read from the
character's video, drawn where and how the prompt says (checked with the procedural detector)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.tiny import TinyBackend, with_characters
from mutoscope.characters import look
from mutoscope.models.tiny import detector, world


def _reference_frames(color: str, shape: str) -> tuple:
    """The reference frames ``characters`` keeps of a 3-second clip of the character."""
    scene = world.Scene((world.ObjectSpec(color, shape, "up"),), "blue")
    clip = world.render(scene, frames=72, res=128)
    picks = np.linspace(0, len(clip) - 1, look.REFERENCE_FRAMES).round().astype(int)
    return tuple(look._small(clip[i]) for i in picks)


def test_the_look_is_read_from_the_character_video() -> None:
    refs = _reference_frames("red", "square")
    assert look.look_of(refs) == {"color": "red", "shape": "square", "background": "blue"}
    request = GenerationRequest(
        prompt="Rosie moving left on a green background",
        references=refs,
        reference_names=("Rosie",) * len(refs),
    )
    assert with_characters(request) == "red square moving left on a green background"


@pytest.mark.slow
def test_a_tiny_clip_shows_the_character_colour_and_shape() -> None:
    color, shape = "yellow", "circle"
    refs = _reference_frames(color, shape)
    request = GenerationRequest(
        prompt="Nib moving right on a purple background",
        size="64x64",
        seed=3,
        references=refs,
        reference_names=("Nib",) * len(refs),
    )
    frames = TinyBackend(steps=8).generate(request, lambda _f: None).frames
    _save_picture(refs, frames)
    found = detector.detect(frames)
    assert found.background == "purple"
    assert [(o.color, o.shape, o.motion) for o in found.objects] == [(color, shape, "right")]


def test_a_backend_without_references_refuses_characters() -> None:
    from mutoscope.backends.testing import TestPatternBackend
    from mutoscope.errors import InvalidRequest

    class NoRefs(TestPatternBackend):
        accepts_references = False

    refs = _reference_frames("red", "circle")
    with pytest.raises(InvalidRequest) as err:
        NoRefs().check(GenerationRequest(prompt="Nib", size="256x256", references=refs[:1]))
    assert err.value.param == "characters" and "cannot keep a character" in err.value.message


def _save_picture(refs: tuple, frames: np.ndarray) -> None:
    """With ``MUTOSCOPE_SCREENSHOTS`` set: the reference frames above four generated frames."""
    folder = os.environ.get("MUTOSCOPE_SCREENSHOTS")
    if not folder:
        return
    from PIL import Image

    tile = 128
    picks = np.linspace(0, len(frames) - 1, 4).round().astype(int)
    canvas = Image.new("RGB", (4 * tile, 2 * tile))
    for i, ref in enumerate(refs[:4]):
        canvas.paste(ref.resize((tile, tile)), (i * tile, 0))
    for i, k in enumerate(picks):
        canvas.paste(
            Image.fromarray(frames[k]).resize((tile, tile), Image.NEAREST), (i * tile, tile)
        )
    Path(folder).mkdir(parents=True, exist_ok=True)
    canvas.save(Path(folder) / "character-tiny.png")
