"""A one-shot ``mutoscope`` command skips the interpreter's teardown, not its exit duties."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from mutoscope import oneshot

# Runs ``main()`` as the console script does. ``Finaliser.__del__`` only runs if the
# interpreter tears its modules down; the atexit handler must run either way.
PROBE = """
import atexit, gc, json, sys, threading
from mutoscope.cli import main

class Finaliser:
    def __del__(self):
        sys.stderr.write("TORN DOWN\\n")

finaliser = Finaliser()
args = json.loads(sys.argv[1])
if args[0] == "--hold":
    done = threading.Event()
    threading.Thread(target=done.wait, args=(1.0,)).start()  # not a daemon: exit waits
    args = args[1:]
atexit.register(lambda: sys.stderr.write(f"ATEXIT {gc.get_threshold()[2]}\\n"))
sys.argv = ["mutoscope", *args]
main()
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_command_exits_without_teardown_after_its_atexit_handlers_and_output():
    proc = _run("--help")
    assert proc.returncode == 0
    assert "Usage:" in proc.stdout  # piped, so block-buffered: flushed before leaving
    assert f"ATEXIT {oneshot.DEFERRED_FULL}" in proc.stderr
    assert "TORN DOWN" not in proc.stderr


def test_a_failing_command_keeps_its_exit_code():
    proc = _run("verfy")
    assert proc.returncode == 2
    assert "No such command" in proc.stderr
    assert "ATEXIT" in proc.stderr
    assert "TORN DOWN" not in proc.stderr


def test_a_running_non_daemon_thread_gets_the_usual_exit():
    proc = _run("--hold", "--help")
    assert proc.returncode == 0
    assert "Usage:" in proc.stdout
    assert "ATEXIT" in proc.stderr
    assert "TORN DOWN" in proc.stderr


@pytest.mark.parametrize("code", ["a message for stderr", 3.5])
def test_exit_now_leaves_codes_it_cannot_pass_to_the_usual_exit(code):
    assert oneshot.exit_now(code) is None  # returned: sys.exit handles it


def test_long_running_commands_get_the_default_collection_thresholds():
    before = gc.get_threshold()
    try:
        oneshot.defer_full_collections()
        assert gc.get_threshold()[2] == oneshot.DEFERRED_FULL
        oneshot.long_running()
        assert gc.get_threshold() == oneshot.DEFAULT_THRESHOLDS
    finally:
        gc.set_threshold(*before)
