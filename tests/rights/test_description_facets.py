"""Descriptions searched as facets: the whole text and its leading clauses."""

from __future__ import annotations

import numpy as np
import pytest

from mutoscope.rights.semantic import FACET_WEIGHT, DescriptionIndex, StaticEmbedder, facets

from .conftest import blocked_as

HERO = (
    "A flying hero from a distant planet in a blue suit with a red cape and a red and yellow "
    "shield on the chest, the shy reporter of a city newspaper, weakened by a green crystal."
)


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return StaticEmbedder()


def test_a_description_is_searched_whole_and_as_its_leading_clauses() -> None:
    parts = facets(HERO)
    assert parts[0] == HERO
    assert parts[1].startswith("A flying hero") and parts[1].endswith("on the chest")
    # A relation clause alone is not a facet: it says too little to stand for the entity.
    assert not any(p.startswith("the shy reporter") for p in parts)
    # A short leading clause (under four content words) does not stand alone either.
    assert facets("A blue hedgehog, fast.") == ["A blue hedgehog, fast."]


def test_parts_separated_by_semicolons_are_facets() -> None:
    parts = facets("A cartoon mouse with round black ears and red shorts; the studio's mascot.")
    assert parts[1:] == [
        "A cartoon mouse with round black ears and red shorts",
        "the studio's mascot.",
    ]


def test_a_prompt_giving_only_the_look_scores_with_the_opening_clause(
    embedder: StaticEmbedder,
) -> None:
    index = DescriptionIndex(embedder, [HERO, "An orange tabby cat who loves lasagna."])
    prompt = "a flying hero in blue tights with a red cape and a shield on his chest"
    ((entity, score, _),) = index.search(prompt, k=1, floor=0.0)
    whole = float(embedder.embed_windows(prompt)[0][0] @ embedder.embed(HERO))
    part = float(embedder.embed_windows(prompt)[0][0] @ embedder.embed(facets(HERO)[1]))
    assert entity == 0
    # The entity's score is its best facet's, a part weighted below the whole.
    assert score == pytest.approx(max(whole, FACET_WEIGHT * part), abs=1e-5)
    assert score > whole
    # The stages calibrated on whole descriptions still read the whole.
    ((whole_score, _),) = index.scores_for(prompt, [0])
    assert whole_score == pytest.approx(whole, abs=1e-5)


def test_search_returns_each_entity_once_best_facet_first(embedder: StaticEmbedder) -> None:
    index = DescriptionIndex(embedder, [HERO, HERO.replace("blue", "green"), ""])
    found = index.search("a flying hero with a red cape", k=5, floor=0.1)
    assert sorted(e for e, _, _ in found) == [0, 1]
    assert np.all(np.diff([s for _, s, _ in found]) <= 0)


def test_starter_paraphrases_of_the_look_alone_are_found(starter) -> None:  # type: ignore[no-untyped-def]
    # Their registry descriptions go on with relations and places the prompts leave out.
    assert (
        blocked_as(
            starter,
            "little blue people in white floppy hats living in mushroom houses in the forest",
        )
        == "smurfs"
    )
    assert (
        blocked_as(
            starter, "a blue steam locomotive with a grey smiling face and the number 1 on its side"
        )
        == "thomas-tank-engine"
    )
    assert blocked_as(starter, "a snowman with a carrot nose in a front yard") is None
