"""``mutoscope generate`` records a blocked prompt's decision once; ``rights check`` previews."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner


@pytest.fixture
def starter_home(home, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MUTOSCOPE_RIGHTS_STARTER", "true")
    return home


def _decisions() -> list[str]:
    from mutoscope.cli import app

    out = CliRunner().invoke(app, ["rights", "audit", "export"])
    assert out.exit_code == 0, out.output
    return [json.loads(line)["decision"] for line in out.stdout.splitlines() if line.strip()]


def test_blocked_generate_is_audited_once_and_rights_check_is_a_preview(
    starter_home, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from mutoscope.cli import app

    out = tmp_path / "clip.mp4"
    runner = CliRunner()
    # Undrawable and blocked, with or without --anyway; drawable and blocked: the rights
    # error comes first, with no note about what the model will draw.
    for args in (
        ["Mickey Mouse dancing"],
        ["Mickey Mouse dancing", "--anyway"],
        ["a Mickey Mouse circle moving left on a black background"],
    ):
        result = runner.invoke(app, ["generate", *args, "-o", str(out)])
        text = " ".join(result.output.split())
        assert result.exit_code == 1 and "Mickey Mouse" in text, text
        assert text.endswith("[starter registry]"), text  # where the decision came from
        assert "cannot draw" not in text and "drawing:" not in text, text
    assert _decisions() == ["block", "block", "block"]
    preview = runner.invoke(app, ["rights", "check", "Mickey Mouse dancing"])
    assert preview.exit_code == 1 and "[starter registry]" in preview.output
    assert len(_decisions()) == 3
    recorded = runner.invoke(app, ["rights", "check", "Mickey Mouse dancing", "--record"])
    assert recorded.exit_code == 1
    assert len(_decisions()) == 4
    assert not out.exists()
