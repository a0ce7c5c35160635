"""Everyday scenes and everyday uses of names are not the registered entity (round 7).

Each mechanism has an allow (the everyday reading) and a block that must stay (the same
words framed as the entity).
"""

from __future__ import annotations

import pytest

from mutoscope.rights.service import RightsService

from .conftest import blocked_as


@pytest.mark.parametrize(
    "prompt",
    [
        # An ordinary animal or person, a few ordinary traits, no character frame.
        "a pink pig rolling in a mud puddle behind a barn",
        "a tennis player practising a one-handed backhand on a clay court",
        "a pop singer in a sparkly outfit on a stage",
        # A name before a place noun, a landform part before "of".
        "commuters hurrying across the concourse of Paddington station",
        "ice climbers roped together on the north face of the Matterhorn",
        # A species adjective, a courtesy title.
        "two common nighthawks circling over a meadow at dusk",
        "il signor Ferrari che legge il giornale al bar",
        # A look-alike spelt across a function word of another language.
        "un gorrión picoteando migas en la plaza mayor",
        # A public-domain tale.
        "the Snow Queen from Andersen's tale riding her sleigh over a frozen lake",
    ],
)
def test_everyday_scenes_and_uses_are_allowed(starter: RightsService, prompt: str) -> None:
    assert blocked_as(starter, prompt) is None


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        # The same subjects framed as the character: a cartoon, clothes, a maker named.
        ("a pink cartoon pig in a red dress jumping in muddy puddles", "peppa-pig"),
        ("a fat orange cartoon cat eating lasagna and hating mondays", "garfield"),
        ("a yellow sea sponge with square pants and buck teeth", "spongebob"),
        ("a lazy orange tabby cat licking his lips over a tray of lasagna", "garfield"),
        # A definite description still points to one person.
        ("the swiss tennis legend with a one-handed backhand at wimbledon", "roger-federer"),
        # The name as a name, not before a place noun or after a title.
        ("Paddington in his blue duffel coat eating a marmalade sandwich", "paddington"),
        ("a red Ferrari racing past the pits at Monza", "ferrari"),
        ("a puffer jacket with The North Face logo on the chest", "north-face"),
        ("the Road Runner outrunning the coyote across the desert", "road-runner"),
        ("Mega Man firing his arm cannon at a robot master", "mega-man"),
        ("Elsa, the Snow Queen of Disney's Frozen, building an ice palace", "elsa"),
        # A myth retold by a maker named is that maker's.
        ("Kratos from the Sony game fighting Zeus in greek mythology", "kratos"),
    ],
)
def test_the_same_words_framed_as_the_entity_still_block(
    starter: RightsService, prompt: str, entity: str
) -> None:
    assert blocked_as(starter, prompt) == entity
