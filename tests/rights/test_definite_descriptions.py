"""A definite description ("the ... who ...") points to one known individual."""

from __future__ import annotations

import pytest

from mutoscope.rights.screening import _definite_subject, _subject

from .conftest import blocked_as


@pytest.mark.parametrize(
    ("prompt", "definite"),
    [
        ("the bread-headed hero who shares his face", True),
        ("The sorcerer supreme at his window", True),
        ("a video of the masked commander on a bridge", True),
        ("el caballero oscuro de Gotham", True),
        ("der dunkle Ritter auf einem Dach", True),
        ("l'homme de fer au-dessus de Paris", True),
        ("a snowman with a carrot nose", False),
        ("two kids building a snowman", False),
        ("there is the old lighthouse", False),
    ],
)
def test_a_prompt_opening_with_a_definite_article_is_a_definite_description(
    prompt: str, definite: bool
) -> None:
    assert _definite_subject(prompt) is definite


def test_the_subject_ends_at_the_first_preposition_or_relative_word() -> None:
    assert _subject("the chocolate factory owner in a purple coat with children") == (
        "the chocolate factory owner"
    )
    assert _subject("the man who sold the world") == "the man"


def test_the_definite_description_of_a_role_blocks_where_an_indefinite_one_does_not(
    starter,  # type: ignore[no-untyped-def]
) -> None:
    assert (
        blocked_as(starter, "the headmaster of a wizarding school with a long silver beard")
        == "dumbledore"
    )
    assert blocked_as(starter, "a headmaster with a long silver beard") is None


def test_a_definite_description_in_another_language_is_read_through_the_gloss(
    starter,  # type: ignore[no-untyped-def]
) -> None:
    assert blocked_as(starter, "el caballero oscuro de Gotham en un tejado") == "batman"


def test_a_person_in_the_subject_is_not_an_animal_mascot_however_definite(
    starter,  # type: ignore[no-untyped-def]
) -> None:
    assert blocked_as(starter, "the man in a purple top hat riding a unicycle") is None
