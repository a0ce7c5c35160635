"""``mutoscope`` starts quickly: commands import only what they need (not a timing test)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

HEAVY = (
    "torch",
    "diffusers",
    "transformers",
    "sqlalchemy",
    "rich",
    "mutoscope.config",
    "mutoscope.rights.service",
    "mutoscope.provenance.service",
)

# ``main()`` leaves through ``os._exit`` after the atexit handlers: the probe is one of them.
PROBE = """
import atexit, json, sys
from mutoscope.cli import main
sys.argv = ["mutoscope", *json.loads(sys.argv[1])]
atexit.register(lambda: sys.stderr.write("\\nLOADED " + json.dumps(sorted(sys.modules)) + "\\n"))
main()
"""


def _loaded(args: list[str]) -> tuple[str, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    line = proc.stderr.rsplit("LOADED ", 1)[1]
    return proc.stdout, set(json.loads(line))


def test_help_lists_every_command_without_importing_the_heavy_layers():
    out, modules = _loaded(["--help"])
    for command in ("generate", "serve", "keys", "users", "rights", "models", "train", "verify"):
        assert f"  {command} " in out
    assert not [m for m in HEAVY if m in modules]


@pytest.mark.parametrize(
    "args, expected",
    [
        (["rights", "--help"], "check"),
        (["verify", "--help"], "--json"),
        (["keys", "init-signing", "--help"], "--force"),
        (["models", "--help"], "list"),
    ],
)
def test_lazy_commands_load_when_asked_for(args, expected):
    from mutoscope.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_an_unknown_command_is_reported_plainly():
    from mutoscope.cli import app

    result = CliRunner().invoke(app, ["verfy"])
    assert result.exit_code == 2
    assert "No such command" in result.output
