"""``mutoscope models check ID`` on engine entries: the entry, its API key, the engine itself."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mutoscope.backends.models_cli import app
from tests.engine.fake_engine import FakeEngine
from tests.servers import free_port

ENTRY = """
[[models]]
id = "remote"
family = "openai-videos"
engine = "openai"
base_url = "{url}"
upstream_model = "wan-a14b"
api_key_env = "CHECK_ENGINE_KEY"
"""


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # one finding a line
    monkeypatch.setenv("CHECK_ENGINE_KEY", "sk-engine")


def check(tmp_path: Path, url: str, *args: str, entry: str = ENTRY) -> Result:
    models = tmp_path / "models.toml"
    models.write_text(entry.format(url=url))
    return CliRunner().invoke(app, ["check", "remote", "--file", str(models), *args])


def test_a_working_engine_entry_passes_with_what_it_serves(tmp_path, engine: FakeEngine) -> None:
    engine.served, engine.api_key = ["wan-a14b", "ltx-2"], "sk-engine"

    result = check(tmp_path, engine.url)

    assert result.exit_code == 0, result.output
    assert f"remote: wan-a14b on a openai engine at {engine.url}" in result.output
    assert "API key from CHECK_ENGINE_KEY" in result.output
    assert "reachable; it serves wan-a14b, ltx-2" in result.output


def test_a_missing_api_key_is_named_before_anything_is_called(
    tmp_path, engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHECK_ENGINE_KEY")

    result = check(tmp_path, engine.url)

    assert result.exit_code == 1
    assert "CHECK_ENGINE_KEY is not set: export the engine's API key" in result.output
    assert "reachable" not in result.output


def test_a_key_the_engine_refuses_is_reported_with_its_reason(tmp_path, engine) -> None:
    engine.served, engine.api_key = ["wan-a14b"], "sk-other"

    result = check(tmp_path, engine.url)

    assert result.exit_code == 1
    assert "answered 401: its API key was refused" in result.output
    assert "Incorrect API key provided." in result.output


def test_an_upstream_model_the_engine_does_not_serve_fails(tmp_path, engine) -> None:
    engine.served = ["ltx-2"]

    result = check(tmp_path, engine.url)

    assert result.exit_code == 1
    assert "does not serve upstream_model 'wan-a14b'; it serves ltx-2" in result.output


def test_no_connect_checks_only_the_entry_and_key(tmp_path) -> None:
    result = check(tmp_path, f"http://127.0.0.1:{free_port()}/v1", "--no-connect")

    assert result.exit_code == 0, result.output
    assert "reach" not in result.output


def test_an_engine_that_is_not_running_fails_with_what_to_check(tmp_path) -> None:
    result = check(tmp_path, f"http://127.0.0.1:{free_port()}/v1")

    assert result.exit_code == 1
    assert "could not reach" in result.output and "is the engine running" in result.output


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        yield listener.getsockname()[1]


def test_an_engine_that_does_not_answer_fails_after_the_timeout(tmp_path, silent_port) -> None:
    started = time.monotonic()

    result = check(tmp_path, f"http://127.0.0.1:{silent_port}/v1", "--timeout", "0.3")

    assert result.exit_code == 1
    assert "did not answer within 0.3 s" in result.output
    assert time.monotonic() - started < 30  # bounded by the timeout, not a default minute


def test_a_malformed_engine_entry_names_the_key_to_fix(tmp_path) -> None:
    result = check(tmp_path, "gpu-node-1:8091/v1")

    assert result.exit_code == 1
    assert "[[models]] remote: base_url must be http(s)://host:port/v1" in result.output


def test_an_unknown_id_lists_engine_entries_too(tmp_path) -> None:
    models = tmp_path / "models.toml"
    models.write_text(ENTRY.format(url="http://127.0.0.1:9/v1"))

    result = CliRunner().invoke(app, ["check", "nope", "--file", str(models)])

    assert result.exit_code == 1
    assert "no model 'nope' in models.toml; declared: ['remote']" in result.output
