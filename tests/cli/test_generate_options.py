"""``mutoscope generate --steps --guidance --negative-prompt --lora --preset`` (CliRunner)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mutoscope.media import decode_mp4


@pytest.fixture
def env(home, monkeypatch):
    monkeypatch.setenv("MUTOSCOPE_ENABLE_TEST_BACKEND", "1")
    monkeypatch.setenv("MUTOSCOPE_WATERMARK", "false")
    return home


def _generate(*args: str):  # type: ignore[no-untyped-def]
    from mutoscope.cli import app

    return CliRunner().invoke(app, ["generate", *args])


def test_generate_passes_options_to_the_embedded_model(env, tmp_path) -> None:
    out = tmp_path / "clip.mp4"
    result = _generate(
        "a yellow triangle bouncing on a green background",
        *["--model", "mutoscope-tiny", "--size", "64x64", "--seed", "5", "--json"],
        *["--preset", "fast", "--steps", "2", "--guidance", "1.5", "-o", str(out)],
    )

    assert result.exit_code == 0, result.output
    video = json.loads(result.stdout.splitlines()[-1])
    assert video["options"] == {"steps": 2, "guidance": 1.5, "preset": "fast"}
    assert decode_mp4(out.read_bytes()).shape[1:] == (64, 64, 3)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--lora", "film-grain:0.5"], "mutoscope-test' cannot apply LoRAs"),
        (["--lora", "film-grain:x"], "lora scale must be a number"),
        (["--steps", "0"], "steps must be a number from 1 to 200"),
        (["--preset", "fast"], "does not take option 'preset'"),
        (["--guidance", "99"], "guidance must be a number from 0 to 50"),
    ],
)
def test_generate_refuses_options_clearly(env, tmp_path, args: list[str], says: str) -> None:
    result = _generate(
        "a red circle", "--model", "mutoscope-test", *args, "-o", str(tmp_path / "x.mp4")
    )
    assert result.exit_code != 0
    assert says in " ".join(result.output.split())
    assert not (tmp_path / "x.mp4").exists()
