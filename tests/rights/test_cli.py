from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mutoscope.rights.cli import app

runner = CliRunner()


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry_dir: Path) -> Path:
    monkeypatch.setenv("MUTOSCOPE_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["import", str(registry_dir / "registry.yaml")])
    assert result.exit_code == 0, result.output
    return tmp_path


def test_import_list_and_remove(cli_home: Path) -> None:
    listed = runner.invoke(app, ["list"]).output
    assert "example-mouse" in listed and "Example Studios" in listed
    assert runner.invoke(app, ["remove", "sonic"]).exit_code == 0
    assert "sonic" not in runner.invoke(app, ["list"]).output
    missing = runner.invoke(app, ["remove", "nope"])
    assert missing.exit_code == 2 and "No rights entity with id 'nope'" in missing.output


def test_check_prints_reason_and_exits_nonzero_when_blocked(cli_home: Path) -> None:
    blocked = runner.invoke(app, ["check", "Exmoose surfing"])
    assert blocked.exit_code == 1
    assert "looks like Example Mouse (character, Example Studios)" in blocked.output
    allowed = runner.invoke(app, ["check", "a hedgehog in a garden"])
    assert allowed.exit_code == 0 and allowed.output.strip() == "allow"


def test_check_json_and_file_give_one_json_line_per_prompt(cli_home: Path) -> None:
    out = runner.invoke(app, ["check", "Licensed Cat dancing", "--user", "partner", "--json"])
    body = json.loads(out.output)
    assert body["decision"] == "allow"
    assert body["attributions"][0]["attribution"] == "Licensed Cat is a trademark of Cat Co"
    prompts = cli_home / "prompts.txt"
    prompts.write_text("a cat on a sofa\nSonic the Hedgehog racing\n")
    lines = runner.invoke(app, ["check", "--file", str(prompts)]).output.strip().splitlines()
    assert [json.loads(line)["decision"] for line in lines] == ["allow", "block"]
    assert json.loads(lines[1])["evidence"]["method"] == "exact"


def test_audit_verify_detects_tampering_and_export_lists_decisions(cli_home: Path) -> None:
    runner.invoke(app, ["check", "Exmouse", "--record"])
    runner.invoke(app, ["check", "a dog", "--record"])
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    rows = [json.loads(x) for x in runner.invoke(app, ["audit", "export"]).output.splitlines()]
    assert [r["decision"] for r in rows] == ["block", "allow"]
    import sqlite3

    db = sqlite3.connect(cli_home / "home" / "mutoscope.db")
    db.execute("UPDATE rights_audit SET entity_id = NULL WHERE seq = 1")
    db.commit()
    db.close()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "row 1" in result.output
