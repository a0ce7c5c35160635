"""No ghost objects on prompts where the shipped ``mutoscope-tiny`` drew them.

Each prompt and seed below made a clip with a second object before the object layers (the
decoded frames, interpolated and resized, as ``options={"layers": False}`` still renders them):
a faint blob in a colour between the backdrop's and a neighbouring palette colour, or the
object itself drawn in a neighbouring colour for a keyframe or two. Read back by the project's
detector (the judge of ``bench/tiny_adherence.py``, allowed four objects), each clip must show
exactly the object the prompt names, in its colour.
"""

from __future__ import annotations

import pytest

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.tiny import TinyBackend
from mutoscope.models.tiny import detector

KNOWN_GHOSTS = [  # prompt, seed, the named colour, the ghost's colour before
    ("Against a lime background, a violet triangle growing", 2, "purple", "blue"),
    (
        "a yellow lozenge sliding diagonally up-right against a lavender background",
        78,
        "yellow",
        "blue",
    ),
    ("a golden rhombus heading downward on a snowy backdrop", 86, "yellow", "orange"),
    (
        "a purple cross heading diagonally down-right over a shaded yellow backdrop",
        92,
        "purple",
        "orange",
    ),
    ("an orange diamond growing on a black background", 13, "orange", "red"),
]


@pytest.fixture(scope="module")
def backend() -> TinyBackend:
    return TinyBackend(threads=2)


@pytest.mark.parametrize(("prompt", "seed", "colour", "ghost"), KNOWN_GHOSTS)
def test_a_prompt_that_drew_a_ghost_shows_only_its_object(
    backend: TinyBackend, prompt: str, seed: int, colour: str, ghost: str
) -> None:
    request = GenerationRequest(
        prompt=prompt, size="64x64", seconds="4", seed=seed, options={"audio": False}
    )
    found = detector.detect(backend.generate(request, lambda _f: None).frames, max_objects=4)
    assert [o.color for o in found.objects] == [colour], f"{ghost} ghost is back"
