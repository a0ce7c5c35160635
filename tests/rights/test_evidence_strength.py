"""Which entity the evidence points to: a description's specific traits against one word of
relation or key name; a pet's name against a character's."""

from __future__ import annotations

import pytest

from mutoscope.rights.lexical import someone_else
from mutoscope.rights.normalize import words

from .conftest import blocked_as


def test_a_prompt_describing_one_entity_in_specific_traits_outweighs_a_key_name(
    starter,  # type: ignore[no-untyped-def]
) -> None:
    # "Harry" is a name from other descriptions; the rest is Snape's alone.
    d = starter.check_prompt(
        "the greasy-haired potions master who hated Harry in black robes",
        user_id="someone",
        record=False,
    )
    assert d.decision == "block"
    assert d.entity["id"] == "snape"
    assert d.evidence["method"] == "traits+sharper"


def test_a_relation_gives_way_to_the_entity_the_rest_describes(starter) -> None:  # type: ignore[no-untyped-def]
    prompt = "Han and Leia's son with a crossguard red lightsaber and a black mask on a bridge"
    assert blocked_as(starter, prompt) == "kylo-ren"


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("our bulldog Bowser chewing a slipper", "bowser"),
        ("my cat Garfield staring at the fridge", "garfield"),
        ("her hamster Kirby running in a wheel", "kirby"),
    ],
)
def test_a_name_after_a_possessive_and_a_pet_is_the_pets(prompt: str, name: str) -> None:
    ws = words(prompt)
    i = next(k for k, w in enumerate(ws) if w.text == name)
    assert someone_else(ws, i, prompt)


def test_the_pet_rule_needs_a_possessive(starter) -> None:  # type: ignore[no-untyped-def]
    ws = words("the cat Garfield eating lasagna")
    assert not someone_else(ws, 2, "the cat Garfield eating lasagna")
    assert blocked_as(starter, "our bulldog Bowser chewing a slipper") is None
    # The character described around the pet's name is still the character.
    assert (
        blocked_as(starter, "my cat Garfield, the lasagna-loving orange tabby from the comics")
        == "garfield"
    )


def test_a_capital_after_a_german_article_is_a_noun_not_a_name(starter) -> None:  # type: ignore[no-untyped-def]
    from mutoscope.rights.screening import _german_noun

    prompt = "ein Puma schleicht durch den Wald"
    assert _german_noun(prompt, prompt.index("Puma"))
    assert not _german_noun("a Puma store on the corner", 2)
    assert blocked_as(starter, "ein Puma liegt auf einem Felsen in der Sonne") is None
    # The brand stays the brand where the German context says so.
    assert blocked_as(starter, "Puma Turnschuhe mit dem Logo auf einem Regal") == "puma-brand"


def test_an_unknown_or_unnamed_subject_is_declared_not_to_be_anyone_registered() -> None:
    from mutoscope.rights.screening import declares_original

    assert declares_original("a pop singer on a big stage, unknown artist")
    assert declares_original("an unnamed knight in silver armour")
    assert not declares_original("a pop singer on a big stage")
    # ... in other languages too ("invented", "made up by me").
    assert declares_original("una mascota inventada: un cactus con sombrero")
    assert declares_original("wymyślony przeze mnie robot z czajnika")


def test_a_prompt_in_another_script_is_not_read_against_english_descriptions() -> None:
    """Descriptions are English (and read word for word in five Latin-script languages): a
    Korean or Japanese sentence shares only sub-word fragments with them."""
    from mutoscope.rights.screening import _unread_script

    assert _unread_script("내가 만든 캐릭터, 분홍색 구름 고양이가 하늘을 떠다닌다")
    assert _unread_script("オリジナルの白いウサギのキャラクター")
    assert not _unread_script("un gato naranja que duerme sobre una pila de libros")
    assert not _unread_script("Pikachu ピカチュウ in a Tokyo street at night")


@pytest.mark.parametrize(
    ("prompt", "brand", "cue"),
    [
        ("a silver bmw x5 parked outside a school", "bmw", "x5"),
        ("a yellow porsche gt3 on a track day", "porsche", "gt3"),
        ("crocs 4x4 in the mud", "crocs", None),
        ("a shell 2 inches wide on the sand", "shell", None),
    ],
)
def test_a_model_designation_after_a_lowercase_brand_is_product_use(
    prompt: str, brand: str, cue: str | None
) -> None:
    from mutoscope.rights.facts import brand_cue

    cars = (frozenset({"driving"}), frozenset({"car"}))
    start = prompt.index(brand)
    assert brand_cue(prompt, start, start + len(brand), cars) == cue
