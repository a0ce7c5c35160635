"""Reading free-form prompts into the shapes world (``models.tiny.vocabulary``)."""

from __future__ import annotations

import random

import pytest

from mutoscope.backends.tiny import prompt_fit
from mutoscope.models.tiny import world
from mutoscope.models.tiny.vocabulary import canonical_caption, default_backdrop, read_prompt


def _objects(prompt: str) -> list[tuple[str, str, str]]:
    reading = read_prompt(prompt)
    assert reading.scene is not None, reading
    return [(o.color, o.shape, o.motion) for o in reading.scene.objects]


@pytest.mark.parametrize(
    ("prompt", "objects", "background"),
    [
        (
            "a red sphere travels eastward across a navy backdrop",
            [("red", "circle", "right")],
            "blue",
        ),
        ("Blue background. A yellow triangle bounces.", [("yellow", "triangle", "bounce")], "blue"),
        ("On white, a jet black lozenge ascends", [("black", "diamond", "up")], "white"),
        (
            "background black; a plum cube heading northeast",
            [("purple", "square", "up-right")],
            "black",
        ),
        (
            "Moving left: a snow-white pyramid over a red wall",
            [("white", "triangle", "left")],
            "red",
        ),
        (
            "a sphere in emerald sinking toward the lower left",
            [("green", "circle", "down-left")],
            None,
        ),
        ("an orange plus symbol getting bigger and bigger", [("orange", "cross", "grow")], None),
        (
            "from the top left corner, an amber cube moves to the bottom right, white background",
            [("orange", "square", "down-right")],
            "white",
        ),
        (
            "green and yellow squares moving upward on a black background",
            [("green", "square", "up"), ("yellow", "square", "up")],
            "black",
        ),
        (
            "Two triangles, one orange and one purple, drifting left across a white background",
            [("orange", "triangle", "left"), ("purple", "triangle", "left")],
            "white",
        ),
        (
            "a ruby ball hops beside an azure rhombus that swells up, on a lime backdrop",
            [("red", "circle", "bounce"), ("blue", "diamond", "grow")],
            "green",
        ),
    ],
)
def test_paraphrases_resolve_to_the_scene_they_describe(
    prompt: str, objects: list[tuple[str, str, str]], background: str | None
) -> None:
    reading = read_prompt(prompt)
    assert _objects(prompt) == objects
    assert reading.scene is not None
    if background is not None:
        assert reading.scene.background == background
    assert reading.unknown == ()


def test_every_training_caption_reads_back_as_its_scene() -> None:
    for seed in range(400):
        rng = random.Random(seed)
        scene = world.sample_scene(rng)
        reading = read_prompt(world.caption(scene, rng))
        assert reading.scene is not None
        assert reading.scene.objects == scene.objects
        assert (reading.scene.background, reading.scene.gradient) == (
            scene.background,
            scene.gradient,
        )


def test_canonical_caption_is_a_training_phrasing() -> None:
    scene = world.Scene(
        (world.ObjectSpec("blue", "square", "up-left"), world.ObjectSpec("red", "cross", "grow")),
        "yellow",
        gradient=True,
    )
    caption = canonical_caption(scene)
    assert caption == (
        "a blue square moving up and to the left and a red cross growing "
        "on a yellow gradient background"
    )
    assert read_prompt(caption).scene == scene


@pytest.mark.parametrize(
    "prompt",
    [
        "a golden retriever running on a beach at sunset",
        "an astronaut riding a horse on mars",
        "A paper boat drifting down a rainy street at dusk",
    ],
)
def test_prompts_outside_the_world_are_not_drawable_and_say_why(prompt: str) -> None:
    fit = prompt_fit(prompt)
    assert not fit.drawable
    assert fit.warning is not None
    assert "cannot draw" in fit.warning and "docs/models.md" in fit.warning
    assert "for example" in fit.warning
    assert fit.unknown and all(word in prompt.lower() for word in fit.unknown)


def test_a_missing_backdrop_contrasts_with_the_objects() -> None:
    reading = read_prompt("a red circle moving left")
    assert reading.scene is not None and reading.scene.background == "white"
    assert any("backdrop" in a for a in reading.assumed)
    assert default_backdrop(["yellow"]) == "black"
    assert default_backdrop(["white", "black"]) not in ("white", "black")
    # Yellow is nearly invisible on white whatever the other objects are: black goes behind.
    assert default_backdrop(["green", "yellow"]) == "black"
    two = read_prompt("green and yellow squares")
    assert two.scene is not None and two.scene.background == "black"


def test_the_world_limits_are_reported_not_ignored() -> None:
    reading = read_prompt("a red circle, a blue square and a green cross moving up")
    assert reading.scene is not None and len(reading.scene.objects) == 2
    assert any("at most two" in n for n in reading.notes)
    clash = read_prompt("a red square bouncing on a red background")
    assert clash.scene is not None and clash.scene.background != "red"
    partial = prompt_fit("a red circle moving left past a sleeping dog")
    assert partial.drawable and partial.warning and '"dog"' in partial.warning


def test_missing_colour_and_motion_are_filled_in_and_said() -> None:
    reading = read_prompt("a circle on a red backdrop")
    assert reading.scene is not None
    (obj,) = reading.scene.objects
    assert obj.color != "red" and obj.motion in world.MOTIONS
    assert len(reading.assumed) == 2


def test_a_prompt_already_worded_as_training_captions_conditions_as_written() -> None:
    for seed in range(50):
        rng = random.Random(seed)
        text = world.caption(world.sample_scene(rng), rng)
        assert read_prompt(text).caption == text
    paraphrase = read_prompt("Blue background. A yellow triangle bounces.")
    assert paraphrase.caption == "a yellow triangle bouncing on a blue background"
    no_backdrop = read_prompt("a red circle moving left")
    assert no_backdrop.caption == "a red circle moving left on a white background"


def test_messages_quote_whole_foreign_words_and_say_an_orange() -> None:
    from mutoscope.backends.tiny import prompt_fit

    spanish = prompt_fit("un círculo rojo moviéndose a la izquierda")
    assert not spanish.drawable and "círculo" in spanish.unknown and "moviéndose" in spanish.unknown
    assert "rculo" not in spanish.unknown and "English words only" in (spanish.warning or "")
    orange = prompt_fit("a blue circle moving left on an orange background")
    assert orange.will_draw == "a blue circle moving left on an orange background"
    assert "English" not in (prompt_fit("a red circle and a cat").warning or "")


@pytest.mark.parametrize(
    "prompt",
    [
        "a circle of friends dancing around a campfire",
        "a love triangle drama in Paris",
        "a diamond ring sparkling",
        "a town square full of pigeons",
    ],
)
def test_a_shape_word_used_as_an_idiom_is_not_a_shape(prompt: str) -> None:
    assert read_prompt(prompt).scene is None


def test_shape_words_followed_by_their_own_words_stay_shapes() -> None:
    reading = read_prompt("squares of red and blue moving up")
    assert reading.scene is not None and len(reading.scene.objects) == 2
