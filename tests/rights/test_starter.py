"""The starter registry: loaded at start-up as its own source, versioned, switchable."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mutoscope.config import Settings
from mutoscope.rights.cli import app
from mutoscope.rights.service import RightsService
from mutoscope.rights.starter import PACKAGED
from mutoscope.storage.db import make_engine, session_factory, upgrade

STARTER_V1 = """
version: "t1"
entities:
  - id: duck-hero
    name: Quackman
    kind: character
    owner: Pond Pictures
    aliases: [Quackman, Capitaine Canard]
    description: A white cartoon duck in a blue sailor shirt who loses his temper.
    policy: block
  - id: fizz-cola
    name: Fizzbolt Cola
    kind: brand
    owner: Fizzbolt Inc
    aliases: [Fizzbolt]
    description: A red soft-drink can with a silver lightning bolt logo.
    policy: block
  - id: ada-singer
    name: Adaline Vortex
    kind: person
    owner: Adaline Vortex
    aliases: [Adaline Vortex]
    description: A pop singer.
    policy: consent
"""

STARTER_V2 = """
version: "t2"
entities:
  - id: duck-hero
    name: Quackman
    kind: character
    owner: Pond Pictures
    aliases: [Quackman, Capitaine Canard, Pato Quackman]
    description: A white cartoon duck in a blue sailor shirt who loses his temper.
    policy: block
  - id: fizz-cola
    name: Fizzbolt Cola
    kind: brand
    owner: Fizzbolt Inc
    aliases: [Fizzbolt]
    description: A red soft-drink can with a silver lightning bolt logo.
    policy: block
  - id: robo-cat
    name: Gearwhisker
    kind: character
    owner: Tin Toys
    aliases: [Gearwhisker]
    description: A robot cat with clockwork whiskers.
    policy: block
"""

OPERATOR = """
entities:
  - id: duck-hero
    name: Quackman
    kind: character
    owner: Pond Pictures
    aliases: [Quackman]
    description: Licensed here.
    policy: license
    license: {licensees: [partner], attribution: Quackman by Pond Pictures}
"""

runner = CliRunner()


@pytest.fixture
def starter_file(tmp_path: Path) -> Path:
    path = tmp_path / "starter.yaml"
    path.write_text(STARTER_V1)
    return path


def _service(home: Path, starter_file: Path, *, on: bool = True) -> Iterator[RightsService]:
    settings = Settings(home=home, rights_starter=on, rights_starter_file=starter_file)
    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    yield RightsService(settings, session_factory(engine))
    engine.dispose()


@pytest.fixture
def service(tmp_path: Path, starter_file: Path) -> Iterator[RightsService]:
    yield from _service(tmp_path / "home", starter_file)


def test_fresh_install_blocks_starter_entities_and_names_the_registry(service) -> None:
    d = service.check_prompt("Quackman dancing on a pier")
    assert d.decision == "block" and d.registry == "starter"
    assert d.entity["source"] == "starter" and "Pond Pictures" in d.reason
    assert service.check_prompt("Capitaine Canard au marché").decision == "block"
    st = service.starter.status()
    assert (st.packaged_version, st.loaded_version, st.entries, st.screened) == (
        "t1",
        "t1",
        3,
        True,
    )


def test_a_new_packaged_version_upserts_and_keeps_the_operators_switches(
    tmp_path: Path, starter_file: Path, service: RightsService
) -> None:
    service.starter.set_enabled(["fizz-cola"], False)
    service.import_specs(service_specs(OPERATOR))  # the operator's own duck-hero
    assert service.starter.sync() is False  # same file: nothing to do
    starter_file.write_text(STARTER_V2)
    (upgraded,) = list(_service(tmp_path / "home", starter_file))
    assert upgraded.starter.status().loaded_version == "t2"
    ids = {e.id: e for e in upgraded.list_entities()}
    assert "ada-singer" not in ids and ids["robo-cat"].source == "starter"
    assert ids["fizz-cola"].enabled is False  # the operator's choice survived the upgrade
    assert ids["duck-hero"].source == "operator" and ids["duck-hero"].policy == "license"
    assert upgraded.check_prompt("a can of Fizzbolt on ice").decision == "allow"
    assert upgraded.check_prompt("Gearwhisker purring").registry == "starter"
    licensed = upgraded.check_prompt("Quackman waving", user_id="partner")
    assert licensed.decision == "allow" and licensed.registry == "operator"


def test_setting_off_neither_loads_nor_screens_it(tmp_path: Path, starter_file: Path) -> None:
    (svc,) = list(_service(tmp_path / "home", starter_file, on=False))
    d = svc.check_prompt("Quackman dancing")
    assert d.decision == "allow" and d.screened_entities == 0
    assert "registry is empty" in d.note and "starter" in d.note
    assert svc.starter.entries() == []


def test_disable_all_then_enable_all_switches_every_process(
    tmp_path: Path, starter_file: Path, service: RightsService
) -> None:
    (other,) = list(_service(tmp_path / "home", starter_file))
    assert other.check_prompt("Quackman").decision == "block"
    service.starter.set_enabled(["duck-hero"], False)
    service.starter.set_enabled(None, False)
    d = _within_a_second(lambda: other.check_prompt("Quackman"), "allow")
    assert "registry is empty" in d.note
    service.starter.set_enabled(None, True)  # every entry back on, duck-hero included
    _within_a_second(lambda: other.check_prompt("Quackman"), "block")


def _within_a_second(check, expected: str):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    while (d := check()).decision != expected:
        assert time.perf_counter() - start < 1.0, f"still {d.decision} after 1 s"
        time.sleep(0.02)
    return d


def test_unknown_ids_are_refused_with_a_hint(service: RightsService) -> None:
    from mutoscope.errors import NotFound

    with pytest.raises(NotFound, match="rights starter list"):
        service.starter.set_enabled(["mickey"], False)


@pytest.fixture
def cli_env(tmp_path: Path, starter_file: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MUTOSCOPE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MUTOSCOPE_RIGHTS_STARTER", "true")
    monkeypatch.setenv("MUTOSCOPE_RIGHTS_STARTER_FILE", str(starter_file))
    return tmp_path


def test_cli_status_list_disable_enable_and_check(cli_env: Path) -> None:
    status = runner.invoke(app, ["starter", "status"]).output
    assert "screened: yes" in status and "loaded version: t1" in status
    assert "entries: 3 (0 disabled)" in status
    blocked = runner.invoke(app, ["check", "Quackman in the rain"])
    assert blocked.exit_code == 1 and "[starter registry]" in blocked.output
    out = runner.invoke(app, ["starter", "disable", "duck-hero", "fizz-cola"])
    assert out.exit_code == 0 and "disabled: duck-hero, fizz-cola" in out.output
    listed = [
        json.loads(x)
        for x in runner.invoke(app, ["starter", "list", "--json"]).output.split("\n")
        if x
    ]
    assert {x["id"]: x["enabled"] for x in listed} == {
        "ada-singer": True,
        "duck-hero": False,
        "fizz-cola": False,
    }
    assert runner.invoke(app, ["check", "Quackman in the rain"]).exit_code == 0
    assert runner.invoke(app, ["starter", "enable", "duck-hero"]).exit_code == 0
    assert runner.invoke(app, ["check", "Quackman in the rain"]).exit_code == 1
    both = runner.invoke(app, ["starter", "disable"])
    assert both.exit_code == 2 and "--all" in both.output
    off = runner.invoke(app, ["starter", "disable", "--all"])
    assert off.exit_code == 0 and "starter registry disabled" in off.output
    empty = runner.invoke(app, ["check", "Quackman in the rain"])
    assert empty.exit_code == 0 and "allow" in empty.output and "registry is empty" in empty.output


def service_specs(text: str):  # type: ignore[no-untyped-def]
    from mutoscope.rights.registry import parse_registry

    return parse_registry(text)


@pytest.mark.skipif(not PACKAGED.is_file(), reason="the packaged starter registry is not here yet")
def test_fresh_install_refuses_to_generate_mickey_mouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mutoscope.cli import app as main

    monkeypatch.setenv("MUTOSCOPE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MUTOSCOPE_RIGHTS_STARTER", "true")
    monkeypatch.setenv("MUTOSCOPE_ENABLE_TEST_BACKEND", "1")
    monkeypatch.setenv("MUTOSCOPE_DEFAULT_MODEL", "mutoscope-test")
    out = runner.invoke(main, ["generate", "Mickey Mouse dancing", "-o", str(tmp_path / "m.mp4")])
    assert out.exit_code != 0 and not (tmp_path / "m.mp4").exists()
    said = " ".join(out.output.split())  # the console wraps long lines
    assert "names Mickey Mouse (character, Disney)" in said and "may not be generated" in said
    check = runner.invoke(app, ["check", "Mickey Mouse dancing"])
    assert check.exit_code == 1 and "[starter registry]" in check.output
