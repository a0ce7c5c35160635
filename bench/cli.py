"""How long ``mutoscope`` takes from a cold process, and where the time goes.

For each command (``--help``, ``generate`` of a 4-s 720p clip with the embedded model,
``verify`` of that clip, ``rights check``) runs a fresh process ``--runs`` times and prints
the median wall time, the median CPU time of the process (all threads: on a loaded machine
the wall time also waits for a core), and the wall time's split: imports (every module
import, wherever it happens), set-up (``build_services``: database, migrations, backends,
layers), model (the backend's ``generate``, weights loading included, imports excluded),
encode (MP4, thumbnail, spritesheet), sign (C2PA), layers (screening, output check,
watermark, verify), and the rest. Then the warm-server figure: a ``mutoscope serve``
process, one warm-up request, and ``--runs`` times POST /v1/videos (4 s, 1280x720, the
embedded model) polled until completed.

    python bench/cli.py [--runs 5] [--skip-server | --only-server]

The machine's load average is printed with every figure: on a shared machine it moves them.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import importlib.abc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "a red circle moving left on a blue background"

# (module, attribute path, phase): wrapped in the child process once the module is imported.
PHASES = (
    ("mutoscope.services", "build_services", "set-up"),
    ("mutoscope.backends.tiny", "TinyBackend.generate", "model"),
    ("mutoscope.worker.run", "encode_mp4", "encode"),
    ("mutoscope.worker.run", "thumbnail", "encode"),
    ("mutoscope.worker.run", "spritesheet", "encode"),
    ("mutoscope.provenance.service", "ProvenanceService.sign", "sign"),
    ("mutoscope.provenance.service", "ProvenanceService.watermark", "layers"),
    ("mutoscope.provenance.service", "ProvenanceService.verify", "layers"),
    ("mutoscope.rights.service", "RightsService.screen_request", "layers"),
    ("mutoscope.rights.service", "RightsService.check_prompt", "layers"),
    ("mutoscope.rights.service", "RightsService.check_output", "layers"),
    ("mutoscope.rights.service", "RightsService.index_output", "layers"),
)
SPLIT = ("imports", "set-up", "model", "encode", "sign", "layers", "rest")


# ----------------------------------------------------------------------------- child process
class _Clock:
    """Import time (outermost imports only) and phase times net of the imports inside them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.local = threading.local()
        self.imports = 0.0
        self.phases: dict[str, float] = {}

    def timed_import(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self.local, "depth", 0)
            if depth:
                return real(*args, **kwargs)
            self.local.depth = 1
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.local.depth = 0
                with self.lock:
                    self.imports += time.perf_counter() - start

        return wrapper

    def timed_phase(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if getattr(self.local, "phase", None):  # nested phases count once, as the outer
                return real(*args, **kwargs)
            self.local.phase = name
            start, imports = time.perf_counter(), self.imports
            try:
                return real(*args, **kwargs)
            finally:
                self.local.phase = None
                spent = time.perf_counter() - start - (self.imports - imports)
                with self.lock:
                    self.phases[name] = self.phases.get(name, 0.0) + spent

        return wrapper


class _Patcher(importlib.abc.MetaPathFinder):
    """Wraps the PHASES functions as soon as their module has been executed."""

    def __init__(self, clock: _Clock) -> None:
        self.clock = clock
        self.wanted = {m for m, _, _ in PHASES}

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in self.wanted:
            return None
        self.wanted.discard(name)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return None
        loader, clock = spec.loader, self.clock
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            for mod, attr, phase in PHASES:
                if mod == name:
                    owner, _, fn = attr.rpartition(".")
                    target = getattr(module, owner) if owner else module
                    setattr(target, fn, clock.timed_phase(phase, getattr(target, fn)))

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def child(args: list[str], out: Path) -> None:
    start = time.perf_counter()
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
    clock = _Clock()
    builtins.__import__ = clock.timed_import(builtins.__import__)
    importlib.import_module = clock.timed_import(importlib.import_module)
    sys.meta_path.insert(0, _Patcher(clock))
    sys.argv = ["mutoscope", *args]
    code = 0
    try:
        from mutoscope.cli import main

        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    wall = time.perf_counter() - start
    split = {"imports": clock.imports, **clock.phases}
    split["rest"] = wall - sum(split.values())
    cpu = time.process_time()  # all threads; on a loaded machine wall time also waits
    out.write_text(json.dumps({"wall": wall, "cpu": cpu, "split": split, "code": code}))


# ----------------------------------------------------------------------------- parent process
def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_cold(args: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    walls, cpus, splits = [], [], []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, __file__, "--child", f.name, "--", *args],
                env=env,
                capture_output=True,
                text=True,
            )
            walls.append(time.perf_counter() - started)  # includes interpreter start-up
            result = json.loads(Path(f.name).read_text() or "{}")
        if not result or result["code"] not in (0, 1) or proc.returncode not in (0, 1):
            raise SystemExit(f"mutoscope {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
        splits.append(result["split"])
        cpus.append(result["cpu"])
    median = statistics.median(walls)
    split = {k: statistics.median(s.get(k, 0.0) for s in splits) for k in SPLIT}
    return {"median": median, "min": min(walls), "cpu": statistics.median(cpus), "split": split}


def warm_server(home: Path, runs: int) -> list[float]:
    import httpx

    sys.path.insert(0, str(ROOT))
    from tests.e2e.conftest import Server

    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MUTOSCOPE_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    server = Server(home=home, env=env)
    server.start()
    try:
        times = []
        for i in range(runs + 1):  # the first request loads the model: not counted
            body = {"prompt": PROMPT, "seconds": "4", "size": "1280x720", "seed": i}
            with httpx.Client(base_url=server.url, timeout=120) as client:
                started = time.perf_counter()
                video = client.post("/v1/videos", json=body).raise_for_status().json()
                while video["status"] not in ("completed", "failed"):
                    time.sleep(0.02)
                    video = client.get(f"/v1/videos/{video['id']}").json()
                elapsed = time.perf_counter() - started
            if video["status"] != "completed":
                raise SystemExit(f"warm-server video failed: {video['error']}")
            if i:
                times.append(elapsed)
        return times
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--only-server", action="store_true")
    opts = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="mutoscope-bench-cli-"))
    if not opts.only_server:
        cold(home, opts.runs)
    if not opts.skip_server:
        before = load()
        times = warm_server(home / "server", opts.runs)
        print(
            f"warm server POST -> completed (4 s, 1280x720, mutoscope-tiny): median "
            f"{statistics.median(times):.2f} s, min {min(times):.2f} s over {len(times)} "
            f"(load {before})"
        )


def cold(home: Path, runs: int) -> None:
    env = {**os.environ, "MUTOSCOPE_HOME": str(home / "home"), "HF_HUB_OFFLINE": "1"}
    clip = home / "clip.mp4"
    # One generate first: the database, signing keys and caches exist from here on, as they
    # do for a user after the first command.
    subprocess.run(
        [sys.executable, "-m", "mutoscope", "generate", PROMPT, "-o", str(clip)],
        env=env,
        check=True,
        capture_output=True,
    )
    commands = {
        "--help": ["--help"],
        "generate (4 s, 720p)": ["generate", PROMPT, "-o", str(home / "out.mp4")],
        "verify": ["verify", str(clip)],
        "rights check": ["rights", "check", "a knight riding a dragon"],
    }
    header = f"{'command':<22}{'median':>8}{'min':>7}{'cpu':>7}  "
    header += "".join(f"{k:>9}" for k in SPLIT)
    print(f"cold process, median of {runs} runs (seconds)")
    print(header + "   load (1/5/15 min)")
    for name, args in commands.items():
        before = load()
        r = run_cold(args, env, runs)
        cells = "".join(f"{r['split'][k]:9.2f}" for k in SPLIT)
        print(f"{name:<22}{r['median']:8.2f}{r['min']:7.2f}{r['cpu']:7.2f}  {cells}   {before}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[4:], Path(sys.argv[2]))
    else:
        main()
