"""The newer families (LTX-2, HunyuanVideo 1.5, Wan VACE, Wan 2.2) in ``mutoscope models list``
and ``models check``, loaded from tiny checkpoints through the real loading code."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mutoscope.backends.models_cli import app


def test_models_list_shows_each_new_family_with_what_it_can_do(
    write_models, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_models(
        ("tiny-ltx2", "ltx2", {}),
        ("tiny-hunyuan", "hunyuanvideo15", {}),
        ("tiny-vace", "wan-vace", {}),
        ("tiny-ti2v", "wan-ti2v", {}),
        ("tiny-a14b", "wan-a14b", {}),
    )
    monkeypatch.setenv("COLUMNS", "250")

    result = CliRunner().invoke(app, ["list", "--file", str(path)])

    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "ltx2" in rows["tiny-ltx2"] and "text, image, video, audio" in rows["tiny-ltx2"]
    assert "hunyuanvideo15" in rows["tiny-hunyuan"] and "text" in rows["tiny-hunyuan"]
    assert "wan-vace" in rows["tiny-vace"] and "text, image, references" in rows["tiny-vace"]
    assert "text, image" in rows["tiny-ti2v"]
    assert all("yes" in rows[name] for name in rows if name.startswith("tiny-"))


def test_models_check_loads_ltx2_with_its_audio_components(write_models, monkeypatch) -> None:
    path = write_models(("tiny-ltx2", "ltx2", {}))
    monkeypatch.setenv("COLUMNS", "250")

    result = CliRunner().invoke(app, ["check", "tiny-ltx2", "--file", str(path)])

    assert result.exit_code == 0, result.output
    assert "LTX2Pipeline" in result.output
    for component in ("transformer", "audio_vae", "vocoder", "connectors"):
        assert component in result.output
