"""Every prompt the docs, the quickstart and the studio offer for the embedded model makes what
it says, read back by the project's detector (the judge of ``bench/tiny_adherence.py``).

The first test finds the example prompts in README.md, docs/ and scripts/quickstart, so a new
example cannot be added without an entry here saying what it should show.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.tiny import TinyBackend
from mutoscope.models.tiny import detector

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    ROOT / "README.md",
    ROOT / "scripts" / "quickstart",
    *sorted((ROOT / "docs").rglob("*.md")),
]
PATTERNS = (
    r'prompt="([^"$]+)"',
    r'"prompt": "([^"…]+)"',
    r'mutoscope generate "([^"$]+)"',
    r'prompt=\$\{1:-"([^"]+)"\}',
    r'prompts like "([^"]+)"',
    r'or "([^"]+)"\.',
)

# prompt -> (objects as colour/shape/motion, backdrop or None when the prompt names none)
EXAMPLES: dict[str, tuple[list[tuple[str, str, str]], str | None]] = {
    "a red circle moving left": ([("red", "circle", "left")], None),
    "a red circle moving left on a yellow background": ([("red", "circle", "left")], "yellow"),
    "a red circle moving left on a blue background": ([("red", "circle", "left")], "blue"),
    "a red circle moving right on a yellow background": ([("red", "circle", "right")], "yellow"),
    "a red circle moving up on a yellow background": ([("red", "circle", "up")], "yellow"),
    "a blue square moving up": ([("blue", "square", "up")], None),
    "a scarlet triangle bouncing on a blue backdrop": ([("red", "triangle", "bounce")], "blue"),
    "a blue square moving up and a red circle moving left on a yellow background": (
        [("blue", "square", "up"), ("red", "circle", "left")],
        "yellow",
    ),
    "a red circle bouncing": ([("red", "circle", "bounce")], None),
    "a red ball bouncing": ([("red", "circle", "bounce")], None),
    "a red ball bouncing on a green background": ([("red", "circle", "bounce")], "green"),
    "a red triangle bouncing on an orange background": ([("red", "triangle", "bounce")], "orange"),
    "a red triangle bouncing on a blue background": ([("red", "triangle", "bounce")], "blue"),
    TinyBackend.example_prompt: ([("blue", "triangle", "bounce")], "orange"),
}
NOT_FOR_THE_TINY_MODEL = {
    "PROMPT": "the command's usage line",
    "animate this": "image-to-video, shown with a model that accepts a reference",
    "Exmoose dancing on a rooftop": "a rights-check example, not a generation",
    "Mickey Mouse dancing": "a rights example: refused before anything is generated",
    "a red fox running through snow": "shown with an open-weight model (--model wan...)",
    "…": "a placeholder for any prompt in prose",
    "Zorp moving up": "a character example (docs/characters.md): Zorp's look comes from its "
    "owner's clip",
    "Blobby crossing a quiet street": "a character example: Blobby's look comes from its own "
    "clip (tests/characters/test_tiny_character.py checks that the clip shows it)",
}


def _documented() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        if "benchmarks" in path.parts:
            continue  # measured prompts, reported with their outcomes
        text = path.read_text()
        for pattern in PATTERNS:
            found.update(" ".join(m.split()) for m in re.findall(pattern, text))
    return found


def test_every_documented_example_prompt_has_an_expected_outcome() -> None:
    documented = _documented()
    assert "a red circle moving left" in documented  # the scan sees the README's SDK example
    unknown = documented - set(EXAMPLES) - set(NOT_FOR_THE_TINY_MODEL)
    assert not unknown, f"add these documented prompts to EXAMPLES with what they show: {unknown}"


@pytest.fixture(scope="module")
def backend() -> TinyBackend:
    return TinyBackend()


@pytest.mark.parametrize("prompt", sorted(EXAMPLES))
def test_documented_example_makes_what_it_says(backend: TinyBackend, prompt: str) -> None:
    objects, background = EXAMPLES[prompt]
    request = GenerationRequest(prompt=prompt, size="64x64", seconds="4", seed=0)
    frames = backend.generate(request, lambda _f: None).frames
    found = detector.detect(frames)
    expected = {
        "objects": [{"color": c, "shape": s, "motion": m} for c, s, m in objects],
        "background": background or found.background,
    }
    result = detector.score(expected, found)
    assert result["all"], f"{prompt!r} was drawn as {found}"
    if background is None:  # the default backdrop must let the objects show
        assert found.background not in {c for c, _, _ in objects}, found
