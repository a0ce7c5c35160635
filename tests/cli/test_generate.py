"""``mutoscope generate`` end to end in-process (CliRunner), with the real rights and provenance."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mutoscope.backends.testing import TestPatternBackend
from mutoscope.media import probe


@pytest.fixture
def env(home, monkeypatch):
    monkeypatch.setenv("MUTOSCOPE_ENABLE_TEST_BACKEND", "1")
    monkeypatch.setenv("MUTOSCOPE_RETRY_BASE_DELAY", "0")
    return home


def test_generate_writes_a_decodable_mp4_and_json(env, tmp_path):
    from mutoscope.cli import app

    out = tmp_path / "clip.mp4"
    result = CliRunner().invoke(
        app,
        [
            "generate",
            "a red circle",
            "--model",
            "mutoscope-test",
            "--size",
            "320x180",
            "--seconds",
            "8",
            "-o",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    video = json.loads(result.stdout.strip().splitlines()[-1])
    assert video["status"] == "completed" and video["seconds"] == "8"
    info = probe(out)
    assert (info.width, info.height, info.frame_count) == (320, 180, 192)


def test_generate_survives_a_backend_crash_by_retrying(env, tmp_path, monkeypatch):
    from mutoscope.cli import app

    original = TestPatternBackend.generate
    calls = {"n": 0}

    def flaky(self, request, on_progress):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("transient fault")
        return original(self, request, on_progress)

    monkeypatch.setattr(TestPatternBackend, "generate", flaky)
    out = tmp_path / "clip.mp4"
    result = CliRunner().invoke(
        app,
        [
            "generate",
            "a blue square",
            "--model",
            "mutoscope-test",
            "--size",
            "320x180",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert calls["n"] == 2 and probe(out).frame_count == 96


def test_generate_reports_a_bad_value_clearly(env, tmp_path):
    from mutoscope.cli import app

    result = CliRunner().invoke(
        app,
        [
            "generate",
            "x",
            "--model",
            "mutoscope-test",
            "--seconds",
            "5",
            "-o",
            str(tmp_path / "x.mp4"),
        ],
    )
    assert result.exit_code == 1
    assert '"4", "8", "12"' in result.output


def test_generate_defaults_to_the_shipped_tiny_model(home, tmp_path, monkeypatch):
    """The README's first command: no --model, no test backend, a real trained model."""
    from mutoscope.cli import app

    monkeypatch.delenv("MUTOSCOPE_ENABLE_TEST_BACKEND", raising=False)
    out = tmp_path / "first.mp4"
    result = CliRunner().invoke(
        app,
        [
            "generate",
            "a scarlet triangle bouncing on a blue backdrop",
            "--seed",
            "1",
            "--size",
            "1280x720",
            "-o",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    video = json.loads(result.stdout.strip().splitlines()[-1])
    assert video["model"] == "mutoscope-tiny"
    info = probe(out)
    assert (info.width, info.height, info.frame_count) == (1280, 720, 96)
    # the default model's videos have sound, as long as the frames
    assert info.audio is not None and info.audio.codec == "aac"
    assert abs(info.audio.duration - info.duration) <= 1 / 24

    verify = CliRunner().invoke(app, ["verify", str(out), "--json"])
    assert verify.exit_code == 0, verify.output
    report = json.loads(verify.stdout)
    assert json.dumps(report).count(video["id"]) >= 1
    assert report["streams"]["audio"]["codec"] == "aac"


def test_generate_no_audio_makes_a_silent_video(env, tmp_path):
    from mutoscope.cli import app

    out = tmp_path / "silent.mp4"
    args = ["generate", "a red circle", "--model", "mutoscope-test", "--size", "320x180"]
    result = CliRunner().invoke(app, [*args, "--no-audio", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert probe(out).audio is None
    verify = CliRunner().invoke(app, ["verify", str(out)])
    assert "no audio" in verify.stdout


def test_generate_says_before_generating_that_the_tiny_model_cannot_draw_a_prompt(env, tmp_path):
    from mutoscope.cli import app

    out = tmp_path / "clip.mp4"
    prompt = "an astronaut riding a horse on mars"
    result = CliRunner().invoke(
        app, ["generate", prompt, "--model", "mutoscope-tiny", "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())  # undo the console's wrapping
    assert "cannot draw this prompt" in text and '"astronaut"' in text
    assert "for example" in text and "docs/models.md" in text and "--anyway" in text
    assert not out.exists()
