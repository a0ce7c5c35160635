"""Wrong input at the terminal gets one plain line that names the flag, before any other
output, and never a traceback."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from mutoscope.cli import app


@pytest.fixture
def env(home, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MUTOSCOPE_ENABLE_TEST_BACKEND", "1")
    return home


def _generate(tmp_path, *extra: str):  # type: ignore[no-untyped-def]
    out = tmp_path / "clip.mp4"
    # "a red circle moving left and a tree": the note about the tree comes after the checks
    args = ["generate", "a red circle moving left", "-o", str(out), *extra]
    return out, CliRunner().invoke(app, args)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("--image", "nope.png"), "error: --image: no such file: nope.png"),
        (("--seed", "-1"), "error: --seed: seed must be a whole number from 0 to 2147483647"),
        (("--seconds", "5"), "error: --seconds: seconds must be one of"),
        (("--size", "100x100"), "error: --size: size must be one of"),
    ],
)
def test_a_wrong_flag_is_named_before_anything_is_drawn(env, tmp_path, extra, expected):
    out, result = _generate(tmp_path, *extra)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(expected), result.output
    assert "drawing:" not in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_a_file_that_is_not_an_image_is_named(env, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    _, result = _generate(tmp_path, "--image", str(bad))
    assert result.exit_code == 1
    assert result.output.startswith(f"error: --image: {bad} is not an image"), result.output


def test_an_empty_prompt_is_called_empty(env, tmp_path):
    result = CliRunner().invoke(app, ["generate", "", "-o", str(tmp_path / "x.mp4")])
    assert result.exit_code == 1
    assert "prompt must not be empty" in result.output


def test_users_create_refuses_a_taken_name_before_asking_for_a_password(env):
    assert (
        CliRunner().invoke(app, ["users", "create", "ada", "--password", "long-enough-1"]).exit_code
        == 0
    )
    result = CliRunner().invoke(app, ["users", "create", "ada"], input="")
    assert result.exit_code == 1
    assert "Password" not in result.output and "the name 'ada' is taken" in result.output


def test_keys_create_says_when_it_made_a_new_user(env):
    first = CliRunner().invoke(app, ["keys", "create", "--user", "ada"])
    again = CliRunner().invoke(app, ["keys", "create", "--user", "ada"])
    assert "New user 'ada' created." in first.output
    assert "New user" not in again.output


def test_serve_on_a_busy_port_says_so_without_a_banner(env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: cannot listen on 127.0.0.1:{port}"), result.output
    assert "choose another --port" in result.output and "Mutoscope on" not in result.output


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        (["verify"], "verify [OPTIONS] FILE"),
        (["rights", "import"], "rights import [OPTIONS] FILE"),
        (["rights", "check"], "rights check [OPTIONS] [PROMPT]"),
        (["models", "check"], "models check [OPTIONS] MODEL_ID"),
    ],
)
def test_usage_lines_name_arguments_in_capitals(command, usage):
    result = CliRunner().invoke(app, [*command, "--help"], prog_name="mutoscope")
    assert f"Usage: mutoscope {usage}\n" in result.output, result.output
