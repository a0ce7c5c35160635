"""Block messages quote what the user typed, not the normalised text screening read."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mutoscope.rights.messages import original_words


def test_translated_words_are_quoted_as_typed() -> None:
    prompt = "please: el erizo azul de Sega corriendo, fast"
    said = original_words(prompt, "el hedgehog blue de Sega running")
    assert said == "el erizo azul de Sega corriendo"


def test_text_already_in_the_prompt_keeps_the_users_case_and_accents() -> None:
    assert original_words("Mickey Mouse dancing", "mickey mouse") == "Mickey Mouse"
    assert original_words("un Pokémon jaune", "pokemon") == "Pokémon"
    assert original_words("a cat", "zzz qqq") == "zzz qqq"  # nothing shared: as matched


def test_a_translated_block_reason_quotes_the_original_prompt(
    home, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from mutoscope.cli import app

    monkeypatch.setenv("MUTOSCOPE_RIGHTS_STARTER", "true")
    result = CliRunner().invoke(app, ["rights", "check", "el erizo azul de Sega corriendo"])
    assert result.exit_code == 1
    assert result.output.startswith("block: 'el erizo azul de Sega corriendo' "), result.output
    assert "hedgehog blue" not in result.output
