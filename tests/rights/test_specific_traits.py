"""Traits specific to few descriptions: how they weigh, and where they decide."""

from __future__ import annotations

import numpy as np
import pytest

from mutoscope.rights.screening import SPECIFIC_ENTITIES, Screener, Target
from mutoscope.rights.semantic import (
    DescriptionIndex,
    MiniLMEncoder,
    StaticEmbedder,
    Window,
    specificity,
)

WIZARDS = [
    "An old wizard with a long grey beard, a pointed hat and a wand.",
    "A young wizard apprentice with a wand and a striped scarf.",
    "A wizard queen with a silver crown and a wand of ice.",
    "A pale noseless dark wizard in black robes with a wand.",
]


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return StaticEmbedder()


def _targets(descriptions: list[str]) -> list[Target]:
    return [
        Target(f"e{i}", f"Zorvath Entity {i}", "character", "Example Studios", (), d)
        for i, d in enumerate(descriptions)
    ]


def test_specificity_falls_as_more_descriptions_share_a_word() -> None:
    s = specificity(np.asarray([1, 2, 5, 50, 500], np.float32))
    assert s[0] == pytest.approx(1.0)
    assert all(np.diff(s) < 0)
    assert s[-1] < 0.05


def test_a_trait_one_description_holds_weighs_more_than_one_all_share(
    embedder: StaticEmbedder,
) -> None:
    index = DescriptionIndex(embedder, WIZARDS)
    pw = index.prompt_words("a noseless wizard raising a wand")
    dark, old = index.traits(3, pw), index.traits(0, pw)
    # "wizard" and "wand" are in every description, "noseless" in one.
    assert "noseless" in dark.words and "noseless" not in old.words
    # The shared words count for less than their rarity, the one held alone in full.
    assert old.specific < 0.7 * old.mass
    assert dark.specific - old.specific == pytest.approx(dark.mass - old.mass, rel=1e-4)
    # ``attributes`` is the rarity-only view of the same traits.
    assert index.attributes(3, pw) == (dark.mass, dark.words)


def test_the_candidate_repeating_specific_traits_is_tried_first(
    embedder: StaticEmbedder,
) -> None:
    screener = Screener(_targets(WIZARDS), embedder, MiniLMEncoder(threads=1))
    prompt = "a pale noseless wizard in black robes"
    window = Window(prompt, 0, len(prompt))
    # The static space puts the bearded wizard a little closer; the prompt repeats the
    # noseless one's traits no other description holds.
    ranked = screener._by_evidence([(0, 0.74, window), (3, 0.70, window)], {})
    assert [entity for entity, *_ in ranked] == [3, 0]


def test_specific_traits_count_only_in_a_registry_large_enough_to_say(
    embedder: StaticEmbedder,
) -> None:
    small = Screener(_targets(WIZARDS), embedder, MiniLMEncoder(threads=1))
    assert not small._specific
    many = [f"A {w} creature number {i}." for i in range(SPECIFIC_ENTITIES) for w in ["odd"]]
    assert Screener(_targets(many), embedder, MiniLMEncoder(threads=1))._specific


def test_a_key_name_inside_a_registered_name_is_that_name(embedder: StaticEmbedder) -> None:
    targets = [
        Target(
            "quill",
            "Quill Harrow",
            "work",
            "Example Studios",
            ("Quill Harrow",),
            "The book series of the boy wizard Quill Harrow at a floating school.",
        ),
        Target(
            "mina",
            "Mina Vell",
            "character",
            "Example Studios",
            ("Mina Vell",),
            "Quill Harrow's clever best friend with bushy hair who raises her wand.",
        ),
        Target(
            "sorrel",
            "Dark Sorrel",
            "character",
            "Example Studios",
            ("Dark Sorrel",),
            "The pale noseless dark wizard villain who hunts Quill Harrow.",
        ),
    ]
    screener = Screener(targets, embedder, MiniLMEncoder(threads=1))
    prompt = "the noseless dark lord from the Quill Harrow books raising his wand"
    # "Quill" is a name in the characters' descriptions, but here it is part of the
    # series' registered name: the series answers, not a key name.
    assert any(hit.key == "quill" for hit in screener.keys.find(prompt))
    matches = screener.find(prompt)
    assert matches[0].entity_id == "quill"
    assert all(m.method != "key-name" for m in matches)


ACTORS = [
    Target(
        "vessa",
        "Vessa Quill",
        "person",
        "Vessa Quill",
        ("Vessa Quill", "Vessa"),
        "The actress with short dark hair who played the spy Korrin Dax in the Dax films.",
    ),
    Target(
        "korrin",
        "Korrin Dax",
        "character",
        "Example Studios",
        ("Korrin Dax", "Korrin"),
        "The retired spy in a grey trench coat who avenges her stolen falcon.",
    ),
    Target(
        "brun",
        "Brun Ollo",
        "character",
        "Example Studios",
        ("Brun Ollo", "Ollo Tales"),
        "The huge furry blue monster with horns, the top scarer of the scare floor and best "
        "friend of the one-eyed Pim Zaro.",
    ),
    Target(
        "pim",
        "Pim Zaro",
        "character",
        "Example Studios",
        ("Pim Zaro",),
        "The small round green one-eyed monster, Brun Ollo's wisecracking best friend.",
    ),
]


@pytest.fixture(scope="module")
def actors(embedder: StaticEmbedder) -> Screener:
    return Screener(ACTORS, embedder, MiniLMEncoder(threads=1))


def test_an_actor_and_a_role_point_to_each_other(actors: Screener) -> None:
    # The role's actor, found among the entities whose descriptions name the role ...
    assert actors.find("the actress who played Korrin Dax at a premiere")[0].entity_id == "vessa"
    # ... and the actor's role, found among the entities the actor's description names.
    first = actors.find("the retired spy Vessa Quill plays, avenging her falcon")[0]
    assert (first.entity_id, first.method) == ("korrin", "relation")
    # The one person whose description names the role is "the actor who plays" it, with
    # nothing else of theirs in the prompt; someone who plays it at a party is not.
    first = actors.find("the actress who plays Korrin Dax selling perfume")[0]
    assert (first.entity_id, first.method) == ("vessa", "relation")
    assert actors.find("a kid who plays Korrin Dax at a party")[0].entity_id == "korrin"


def test_a_relation_hangs_on_any_place_the_entity_is_named(actors: Screener) -> None:
    # The name index keeps one hit per entity (here "Ollo Tales", with no relation word);
    # "Brun Ollo's ... best friend" still points to Pim.
    prompt = "Brun Ollo's one-eyed best friend on the Ollo Tales scare floor"
    first = actors.find(prompt)[0]
    assert (first.entity_id, first.method) == ("pim", "relation")


def _many(extra: list[Target]) -> list[Target]:
    """A registry large enough for specificity to mean something: invented filler."""
    filler = [
        Target(
            f"filler-{i}",
            f"Qarvex Filler {i}",
            "character",
            "Example Studios",
            (),
            f"A small {colour} robot with a lamp from the example cartoon series.",
        )
        for i, colour in enumerate(["red", "blue", "green", "grey", "pink"] * 20)
    ]
    return [*extra, *filler]


PEOPLE = [
    Target(
        "zelna",
        "Zelna Morrow",
        "person",
        "Zelna Morrow",
        ("Zelna Morrow",),
        "The Icelandic chess grandmaster with silver hair who won the world championship.",
    ),
    Target(
        "dorun",
        "Dorun Vale",
        "person",
        "Dorun Vale",
        ("Dorun Vale",),
        "The Canadian figure skater in a sequinned costume with three olympic gold medals.",
    ),
]


def test_a_living_person_is_found_by_a_role_only_they_hold(embedder: StaticEmbedder) -> None:
    screener = Screener(_many(PEOPLE), embedder, MiniLMEncoder(threads=1))
    first = screener.find("the icelandic chess champion walking a dog in the snow")[0]
    assert (first.entity_id, first.method) == ("zelna", "description+role")
    # A role word most descriptions share, or none, is no one.
    assert not screener.find("a chess player thinking over a board in a park")
    # In a registry too small to tell a specific word from a common one, no role counts.
    small = Screener(PEOPLE, embedder, MiniLMEncoder(threads=1))
    assert all(
        m.method != "description+role"
        for m in small.find("the icelandic chess champion walking a dog in the snow")
    )


MAKER = [
    Target(
        "zentro",
        "Zentro",
        "brand",
        "Zentro",
        ("Zentro",),
        "The Zentro games company's red logo on consoles and cartridges.",
    ),
    Target(
        "bilo",
        "Lucas Brask",
        "character",
        "Zentro",
        ("Lucas Brask",),
        "Zentro's short plumber hero in a red cap who jumps on turtles, rescues the queen.",
    ),
    Target(
        "vuno",
        "Vuno Brask",
        "character",
        "Zentro",
        ("Vuno Brask",),
        "Zentro's tall plumber in a green cap, Lucas Brask's younger brother.",
    ),
    Target(
        "queen-ora",
        "Queen Ora",
        "character",
        "Zentro",
        ("Queen Ora",),
        "Zentro's queen in a pink gown whom Lucas Brask rescues from the castle.",
    ),
]


def test_a_maker_named_and_one_trait_shared_by_two_is_the_main_character(
    embedder: StaticEmbedder,
) -> None:
    screener = Screener(MAKER, embedder, MiniLMEncoder(threads=1))
    # "plumber" is Lucas's and Vuno's; more of Zentro's descriptions name Lucas.
    first = screener.find("Zentro's plumber fixing a sink")[0]
    assert (first.entity_id, first.method) == ("bilo", "franchise")
    # A trait only one of them has tells them apart as before.
    assert screener.find("Zentro's tall plumber in a green cap")[0].entity_id == "vuno"


def test_a_relation_spoken_with_a_first_name_as_the_registry_says_it(
    embedder: StaticEmbedder,
) -> None:
    screener = Screener(MAKER, embedder, MiniLMEncoder(threads=1))
    first = screener.find("Lucas's younger brother waving")[0]
    assert (first.entity_id, first.method) == ("vuno", "relation")
    # Not a relation the registry names, nor a first name that is plainly someone else's.
    assert not screener.find("Lucas's uncle waving")
    assert not screener.find("my neighbour Lucas's brother waving")


def test_a_brand_mark_described_as_the_registry_does_needs_no_mark_word(
    embedder: StaticEmbedder,
) -> None:
    brand = Target(
        "quintor",
        "Quintor Games",
        "brand",
        "Quintor",
        ("Quintor",),
        "The Quintor symbol of three interlocking triangles, orange, teal and violet, on a "
        "black background.",
    )
    screener = Screener([brand], embedder, MiniLMEncoder(threads=1))
    prompt = "three interlocking triangles in orange, teal and violet on a black flag"
    assert [m.entity_id for m in screener.find(prompt)] == ["quintor"]
    # A loose resemblance (no sure static score) still needs a logo or mascot word.
    assert not screener.find("a black flag with orange stripes waving at a stadium")


def test_an_owners_company_is_the_brand_the_owner_description_names(
    embedder: StaticEmbedder,
) -> None:
    targets = [
        Target(
            "orin-tal",
            "Orin Tal",
            "person",
            "Orin Tal",
            ("Orin Tal",),
            "The billionaire founder of Kelvara with round glasses and a grey sweater.",
        ),
        Target(
            "kelvara",
            "Kelvara",
            "brand",
            "Kelvara",
            ("Kelvara",),
            "Kelvara's software brand with the four coloured squares logo.",
        ),
    ]
    screener = Screener(targets, embedder, MiniLMEncoder(threads=1))
    first = screener.find("Orin Tal's software company's coloured squares logo on a screen")[0]
    assert (first.entity_id, first.method) == ("kelvara", "relation")
