from __future__ import annotations

import pytest

from mutoscope.errors import InvalidRequest
from mutoscope.rights.normalize import squash, words
from mutoscope.rights.registry import parse_registry


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
