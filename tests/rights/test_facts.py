"""Key names read from descriptions and brand-use cues (``rights.facts``): no model needed."""

from __future__ import annotations

import pytest

from mutoscope.rights.facts import KeyNames, brand_cue, brand_cues
from mutoscope.rights.lexical import compound, known_words

DESCRIPTIONS = [
    (0, "The pirate captain of the Black Pearl from Example Pictures' Sea Films.", "Example"),
    (1, "The clownfish from Example's Finding Fish, son of Marlin, lost on the reef.", "Example"),
    (2, "A young wizard who studies at Hogwarts and plays quidditch.", "Example"),
]


def _index() -> KeyNames:
    return KeyNames(
        ((e, d, owner, ()) for e, d, owner in DESCRIPTIONS),
        known_words(),
        lambda w: 0.0 if w in known_words() else 1.0,
    )


def _keys(index: KeyNames, prompt: str) -> list[tuple[str, tuple[int, ...]]]:
    return [(h.key, h.entities) for h in index.find(prompt)]


def test_capitalised_names_of_a_description_point_to_its_entity() -> None:
    index = _index()
    assert _keys(index, "a captain at the helm of the Black Pearl") == [("blackpearl", (0,))]
    assert _keys(index, "Marlin's missing son hiding in an anemone") == [("marlin", (1,))]


def test_a_coined_name_counts_in_lowercase_and_everyday_words_only_as_a_name() -> None:
    index = _index()
    assert _keys(index, "a castle like hogwarts at dusk") == [("hogwarts", (2,))]
    assert _keys(index, "a black pearl necklace on velvet") == []
    assert _keys(index, "Marlin fishing off a pier") == []  # capitalised only as the first word


def test_a_possessive_ends_a_name_and_owners_are_not_keys() -> None:
    index = _index()
    assert "findingfish" in index.entities
    assert "example" not in index.entities
    assert "examples" not in index.entities


@pytest.mark.parametrize(
    ("prompt", "name", "cue"),
    [
        ("drinking a cold coke on the porch", "coke", "drinking"),
        ("a coke can in the sand", "coke", "can"),
        ("eating a sandwich on the subway", "subway", None),
        ("a nurse in bright green crocs", "crocs", "in"),
        ("kids sleeping in their vans at a festival", "vans", None),
        ("crocs sunbathing on a riverbank", "crocs", None),
    ],
)
def test_a_lowercase_brand_is_the_product_only_next_to_a_word_of_its_use(
    prompt: str, name: str, cue: str | None
) -> None:
    sells = {
        "coke": "A cola soft drink in a red can.",
        "subway": "Sandwich restaurants with a green and yellow logo.",
        "crocs": "Foam clogs with holes, casual shoes.",
        "vans": "Skate shoes and sneakers with a side stripe.",
    }
    start = prompt.index(name)
    assert brand_cue(prompt, start, start + len(name), brand_cues(sells[name])) == cue


def test_two_everyday_words_run_together_are_a_compound() -> None:
    known = known_words()
    assert compound("supercar", known)
    assert not compound("pikachu", known)


def test_registry_text_is_split_into_the_words_prompts_are() -> None:
    from mutoscope.rights.facts import _plain
    from mutoscope.rights.normalize import words

    for text in ["Pixar's Finding Nemo, son of Marlin.", "Pokémon Trainer", "Spider-Man 2099"]:
        assert _plain(text) == [w.text for w in words(text)]
