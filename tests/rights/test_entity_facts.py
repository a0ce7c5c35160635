"""What an entity is known for (``facts:``) and knowledge files beside a registry file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mutoscope.config import Settings
from mutoscope.errors import InvalidRequest
from mutoscope.rights.facts import KeyNames
from mutoscope.rights.lexical import known_words
from mutoscope.rights.registry import load_registry, merge_facts, parse_registry
from mutoscope.rights.service import RightsService
from mutoscope.storage.db import make_engine, session_factory, upgrade
from tests.rights.conftest import blocked_as

REGISTRY = """
version: "f1"
entities:
  - id: ada-singer
    name: Adaline Vortex
    kind: person
    owner: Adaline Vortex
    aliases: [Adaline Vortex]
    description: A pop singer with a silver microphone.
    facts:
      - sang Glass Harbour Nights
      - married to the drummer Oren Pike
      - her fans are the Vortexers
    policy: consent
  - id: duck-hero
    name: Quackman
    kind: character
    owner: Pond Pictures
    aliases: [Quackman]
    description: A white cartoon duck in a blue sailor shirt who loses his temper.
    policy: block
"""

KNOWLEDGE = """
duck-hero:
  aliases: [Capitaine Canard, クワックマン, Pato Blanco]
  facts:
    - captain of the paddle steamer Mallard Queen
    - rides a zoomquacker scooter
"""


def _keys(index: KeyNames, prompt: str) -> list[str]:
    return [h.key for h in index.find(prompt)]


def _index(*facts: str) -> KeyNames:
    return KeyNames(
        [(0, "A pop singer.", "", ())],
        known_words(),
        lambda w: 0.0 if w in known_words() else 1.0,
        facts=[(0, facts)],
    )


def test_a_title_in_a_fact_is_a_key_with_its_inner_lowercase_words() -> None:
    index = _index("Agent Q in Men at Midnight", "sang Glass Harbour Nights")
    assert "menatmidnight" in _keys(index, "the Men at Midnight star in a suit")
    assert "glassharbournights" in _keys(index, "the singer of Glass Harbour Nights")
    # Everyday words are a title only written as one.
    assert _keys(index, "two men at midnight on a bench") == []


def test_a_facts_lone_everyday_word_is_no_key_but_a_coined_lowercase_word_is() -> None:
    index = _index("Red in Prison Days", "toured Paris", "invented the zoomquacker")
    assert "red" not in index.entities and "paris" not in index.entities
    assert _keys(index, "a kid on a zoomquacker") == ["zoomquacker"]
    assert "zoomquacker" in index.words


def test_a_knowledge_file_adds_aliases_and_facts_by_id() -> None:
    specs = parse_registry(REGISTRY)
    merge_facts(specs, KNOWLEDGE)
    duck = next(s for s in specs if s.id == "duck-hero")
    assert duck.aliases == ["Quackman", "Capitaine Canard", "クワックマン", "Pato Blanco"]
    assert duck.facts[0] == "captain of the paddle steamer Mallard Queen"
    merge_facts(specs, KNOWLEDGE)  # nothing is repeated
    assert len(duck.facts) == 2 and len(duck.aliases) == 4
    with pytest.raises(InvalidRequest, match="not an entity"):
        merge_facts(specs, "duck-heroo:\n  facts: [a typo]\n")
    with pytest.raises(InvalidRequest, match="list of strings"):
        merge_facts(specs, "duck-hero:\n  facts: just one string\n")


def test_a_registry_file_reads_the_knowledge_files_beside_it(tmp_path: Path) -> None:
    (tmp_path / "reg.yaml").write_text(REGISTRY)
    (tmp_path / "reg_facts_part1.yaml").write_text(KNOWLEDGE)
    (tmp_path / "other_facts_part1.yaml").write_text("nobody:\n  facts: [x]\n")
    duck = next(s for s in load_registry(tmp_path / "reg.yaml") if s.id == "duck-hero")
    assert "rides a zoomquacker scooter" in duck.facts


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RightsService]:
    (tmp_path / "starter.yaml").write_text(REGISTRY)
    (tmp_path / "starter_facts_part1.yaml").write_text(KNOWLEDGE)
    settings = Settings(
        home=tmp_path / "home", rights_starter=True, rights_starter_file=tmp_path / "starter.yaml"
    )
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    yield RightsService(settings, session_factory(engine))
    engine.dispose()


def test_the_starter_loads_its_knowledge_files_and_reloads_when_they_change(
    tmp_path: Path, service: RightsService
) -> None:
    duck = next(e for e in service.starter.entries() if e.id == "duck-hero")
    assert "rides a zoomquacker scooter" in duck.facts
    assert blocked_as(service, "Capitaine Canard au marché") == "duck-hero"
    (tmp_path / "starter_facts_part1.yaml").write_text(
        KNOWLEDGE + "    - sings Quack Quack Boogie\n"
    )
    assert service.starter.sync() is True  # same starter.yaml, new knowledge: loaded again
    duck = next(e for e in service.starter.entries() if e.id == "duck-hero")
    assert duck.facts[-1] == "sings Quack Quack Boogie"


def test_a_name_from_a_persons_facts_and_a_role_blocks_and_the_name_alone_does_not(
    service: RightsService,
) -> None:
    assert blocked_as(service, "the singer of Glass Harbour Nights on a stage") == "ada-singer"
    assert blocked_as(service, "a framed poster of Glass Harbour Nights on a wall") is None
    assert blocked_as(service, "a glass harbour at night with fishing boats") is None
    # The person's relative named outright is where the prompt points from, not who is meant.
    prompt = "the Glass Harbour Nights singer who is married to Oren Pike"
    assert blocked_as(service, prompt) == "ada-singer"


def test_a_fact_names_a_place_of_a_character(service: RightsService) -> None:
    assert blocked_as(service, "the duck captain of the Mallard Queen") == "duck-hero"
    assert blocked_as(service, "a duck swimming past a paddle steamer") is None


def test_a_name_of_everyday_words_of_another_language_is_a_name_only_written_as_one(
    service: RightsService,
) -> None:
    assert blocked_as(service, "Pato Blanco bailando en el muelle") == "duck-hero"
    assert blocked_as(service, "un pato blanco en el estanque del parque") is None


def test_operator_entities_keep_their_facts(service: RightsService) -> None:
    spec = parse_registry(REGISTRY.replace("ada-singer", "ada-own"))[0]
    spec.facts.append("won the Golden Gull award")
    service.import_specs([spec])
    row = next(e for e in service.list_entities() if e.id == "ada-own")
    assert row.facts[-1] == "won the Golden Gull award"


@pytest.mark.parametrize(
    ("prompt", "entity"),
    [
        ("the one-eyed green monster from Monsters Inc doing the paperwork", "mike-wazowski"),
        ("la hermana pequeña de Elsa patinando sobre un lago helado", "anna-frozen"),
        ("Bugs Bunny, le lapin des Looney Tunes, mange une carotte", "bugs-bunny"),
        ("el comecocos amarillo comiendo puntos en el laberinto", "pac-man"),
        ("o Sr. Incrível levantando um carro com a família", "mr-incredible"),
        ("the hobbit who carries the One Ring to Mount Doom", "frodo"),
        ("a soldier with a vibranium shield and a star on his chest", "captain-america"),
    ],
)
def test_the_starter_knowledge_points_to_its_entities(starter, prompt: str, entity: str) -> None:
    assert blocked_as(starter, prompt) == entity


@pytest.mark.parametrize(
    "prompt",
    [
        "a chef tasting soup in a busy restaurant kitchen",
        "a tourist taking a selfie with a green monster statue",
        "a librarian reading a fairy tale to children",
        "a man in a grey cloak walking with a staff through the rain",
        # Someone's nickname, and a woman dressed like a doll, are not the character.
        "a bus driver everyone calls Chucky eating lunch in his cab",
        "a blonde woman in a pink dress and pink heels walking a small white dog",
    ],
)
def test_the_starter_knowledge_leaves_ordinary_scenes_alone(starter, prompt: str) -> None:
    assert blocked_as(starter, prompt) is None
