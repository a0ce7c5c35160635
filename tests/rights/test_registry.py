from __future__ import annotations

import pytest

from mutoscope.errors import InvalidRequest
from mutoscope.rights.normalize import squash, words
from mutoscope.rights.registry import merge_facts, parse_registry


def test_the_documented_registry_shape_is_accepted() -> None:
    (spec,) = parse_registry(
        """
entities:
  - id: example-mouse
    name: Example Mouse
    kind: character
    owner: Example Studios
    aliases: [Example Mouse, Exmouse]
    description: A cartoon mouse with huge round ears, red shorts and white gloves.
    policy: license
    license:
      licensees: [user-or-group]
      forbidden_themes: [violence]
      attribution: Example Mouse is a trademark of Example Studios
"""
    )
    assert spec.license is not None and spec.license.licensees == ["user-or-group"]
    assert spec.all_names() == ["Example Mouse", "Exmouse"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("entities: [", "not valid YAML"),
        ("things: []", "list under 'entities:'"),
        ("entities:\n  - {id: Bad Id, name: X, kind: character, owner: O}", "lowercase slug"),
        ("entities:\n  - {id: x, name: X, kind: robot, owner: O}", "kind"),
        (
            "entities:\n  - {id: x, name: X, kind: brand, owner: O, policy: block,"
            " license: {licensees: [a]}}",
            "only allowed with policy: license",
        ),
        (
            "entities:\n  - {id: x, name: X, kind: brand, owner: O}\n"
            "  - {id: x, name: Y, kind: brand, owner: O}",
            "repeats entity ids: x",
        ),
    ],
)
def test_bad_registry_files_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_registry(text)
    assert message in info.value.message


def test_normalisation_undoes_common_evasions() -> None:
    assert squash("Ѕоnіс") == "sonic"  # Cyrillic look-alikes
    assert squash("p1k4chu") == "pikachu"
    assert squash("S.o.n.i.c") == "sonic"
    assert squash("Spo\u200bnge-Bob") == "spongebob"
    assert squash("Ｍａｒｉｏ") == "mario"  # full-width
    assert [w.text for w in words("Микки Маус", transliterate=True)] == ["mikki", "maus"]


def test_a_knowledge_file_gives_no_alias_that_names_another_entity_or_someone_addressed() -> None:
    specs = parse_registry(
        """
entities:
  - {id: sully, name: Sully, kind: character, owner: Studio, description: a big blue monster}
  - {id: monster-works, name: Monster Works, kind: work, owner: Studio, description: a film}
  - {id: mika, name: Mika, kind: character, owner: Label, description: a virtual singer}
"""
    )
    merge_facts(
        specs,
        "sully: {aliases: [Monster Works, Sulli]}\nmika: {aliases: [ミカさん, ミカ]}",
    )
    by_id = {s.id: s for s in specs}
    assert by_id["sully"].aliases == ["Sulli"]
    assert by_id["mika"].aliases == ["ミカ"]
