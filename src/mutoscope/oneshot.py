"""Process settings for a command that runs once and exits (``mutoscope generate``, ``verify``).

Two costs of a short CLI process are the interpreter's, not the work's:

- **Full garbage collections during start-up.** Importing torch, SQLAlchemy and the layers
  leaves ~250k long-lived objects; CPython's default thresholds walk all of them in a full
  collection about five times while they load (0.4-0.6 s of CPU in a cold ``generate`` at
  load 5, for nothing: modules are not garbage). :func:`defer_full_collections` keeps the
  young-generation passes, which free short-lived cycles, and lets a full one wait 100 times
  longer. :func:`long_running` puts the defaults back for ``serve`` and ``worker``.
- **Tearing the interpreter down.** After the last line is printed, finalisation frees every
  module and object one by one and runs a last full collection over them: 0.8-2 s of wall
  time at load 5 in a ``generate`` that had torch loaded. :func:`exit_now` runs what exit
  would run that matters (``atexit`` handlers, which flush logs, coverage data and temporary
  files; the standard streams) and then leaves with ``os._exit``.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading

#: CPython's default collection thresholds (young, middle, full).
DEFAULT_THRESHOLDS = (700, 10, 10)
#: The full generation is collected after this many middle-generation passes (default 10).
DEFERRED_FULL = 1000


def defer_full_collections() -> None:
    """Make full garbage collections 100 times rarer (young cycles are still collected)."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, DEFERRED_FULL)


def long_running() -> None:
    """Undo :func:`defer_full_collections` for a process that serves for hours."""
    gc.set_threshold(*DEFAULT_THRESHOLDS)


def exit_now(code: object) -> None:
    """Exit with ``code`` (as ``sys.exit`` takes it) without the interpreter's teardown.

    Returns, doing nothing, where the teardown is wanted: while a non-daemon thread still
    runs (exit would wait for it), under a profiler or tracer (cProfile and coverage write
    their results after the program), or for a code that is not an int or ``None`` (a
    message, which ``sys.exit`` prints). The caller then exits as usual.
    """
    if code is not None and not isinstance(code, int):
        return
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return
    main = threading.main_thread()
    if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe: exit as the teardown would
            pass
    os._exit(code or 0)
