"""How long ``mutoscope`` takes from a cold process, and where the time goes.

For each command (``--help``, ``generate`` of a 4-s 720p clip with the embedded model,
``verify`` of that clip, ``verify`` of an unmarked clip, ``rights check``) runs a fresh process
``--runs`` times and prints
the median wall time, the median CPU time of the process (all threads: on a loaded machine
the wall time also waits for a core), and the wall time's split: imports (every module
import, wherever it happens), set-up (``build_services``: database, migrations, backends,
layers), model (the backend's ``generate``, weights loading included, imports excluded),
encode (MP4, thumbnail, spritesheet), sign (C2PA), layers (screening, output check,
watermark, verify), and the rest. Then the warm-server figure: a ``mutoscope serve``
process, waited on until its start-up work is done (its CPU idle for a second), one warm-up
request, and ``--runs`` times POST /v1/videos (4 s, 1280x720, the embedded model) polled until
completed.

    python bench/cli.py [--runs 5] [--skip-server | --only-server] [--job-split]

``--job-split`` adds where a warm job's time goes: in this process, jobs run through the real
worker (create, then generate, check, watermark, encode, sign, store, index) after one warm-up,
with the median wall and CPU time of each step. The MP4 is encoded in a thread while the
watermark marks the later frames: "encode" is what the job still waits for it after the
watermark, thumbnail and spritesheet (``MarkedEncoder.finish``), and the encoder's CPU time
lands in the steps it overlaps.

The machine's load average is printed with every figure: on a shared machine it moves them.
"""

from __future__ import annotations

import argparse
import atexit
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
    ("mutoscope.worker.encoding", "MarkedEncoder.finish", "encode"),
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

    def report() -> None:
        # At exit: ``mutoscope`` leaves through ``os._exit`` once its atexit handlers ran.
        wall = time.perf_counter() - start
        split = {"imports": clock.imports, **clock.phases}
        split["rest"] = wall - sum(split.values())
        cpu = time.process_time()  # all threads; on a loaded machine wall time also waits
        out.write_text(json.dumps({"wall": wall, "cpu": cpu, "split": split}))

    atexit.register(report)
    from mutoscope.cli import main

    main()


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
        if not result or proc.returncode not in (0, 1):
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
        assert server.proc is not None
        # Warm: the start-up work (the rights screener's background warm-up encodes every
        # registry description, then collects garbage) is over before anything is timed;
        # otherwise it takes a core from the first requests.
        wait_idle(server.proc.pid)
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


def wait_idle(pid: int, *, quiet_s: float = 1.0, busy: float = 0.05, limit_s: float = 300) -> None:
    """Wait until process ``pid`` uses under ``busy`` of a core over ``quiet_s`` seconds."""

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = cpu()
        time.sleep(quiet_s)
        if cpu() - before < busy * quiet_s:
            return


JOB_STEPS = (  # (module, attribute path, step) timed inside a warm job
    ("mutoscope.backends.tiny", "TinyBackend.generate", "model"),
    ("mutoscope.rights.service", "RightsService.check_output", "output check"),
    ("mutoscope.provenance.service", "ProvenanceService.watermark", "watermark"),
    ("mutoscope.worker.run", "encode_mp4", "encode"),
    ("mutoscope.worker.encoding", "MarkedEncoder.finish", "encode"),
    ("mutoscope.worker.run", "thumbnail", "thumbnail"),
    ("mutoscope.worker.run", "spritesheet", "spritesheet"),
    ("mutoscope.provenance.service", "ProvenanceService.sign", "sign"),
    ("mutoscope.rights.service", "RightsService.index_output", "index"),
)


def job_split(runs: int) -> None:
    """Median wall and CPU time per step of a warm job (4 s, 1280x720, embedded model)."""
    from mutoscope.cli import calm_openmp

    calm_openmp()  # as ``mutoscope serve`` does before its worker loads torch
    from mutoscope.config import Settings
    from mutoscope.services import build_services
    from mutoscope.users import LOCAL_USER, UserService
    from mutoscope.videos import VideoCreate, VideoService
    from mutoscope.worker.pool import Worker

    spent: dict[str, list[float]] = {}

    def timed(step: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[step][-1] += time.perf_counter() - wall
                spent[step + " cpu"][-1] += time.process_time() - cpu

        return wrapper

    for module, attr, step in JOB_STEPS:
        owner_name, _, fn = attr.rpartition(".")
        mod = importlib.import_module(module)
        owner = getattr(mod, owner_name) if owner_name else mod
        setattr(owner, fn, timed(step, getattr(owner, fn)))
    steps = [*dict.fromkeys(s for _, _, s in JOB_STEPS), "total"]
    home = Path(tempfile.mkdtemp(prefix="mutoscope-bench-job-"))
    services = build_services(Settings(home=home))
    user = UserService(services.sessions).get_or_create(LOCAL_USER)
    worker = Worker(services)
    before = load()
    for i in range(runs + 1):  # the first loads the model, MiniLM, keys: not counted
        for step in steps:
            spent.setdefault(step, []).append(0.0)
            spent.setdefault(step + " cpu", []).append(0.0)
        wall, cpu = time.perf_counter(), time.process_time()
        body = VideoCreate(prompt=PROMPT, seconds="4", size="1280x720", seed=i)
        record = VideoService(services).create(user, body)
        job = services.queue.claim(worker.worker_id, video_id=record.id)
        assert job is not None
        worker.run_one(job)
        spent["total"][-1] = time.perf_counter() - wall
        spent["total cpu"][-1] = time.process_time() - cpu
    services.close()
    print(f"warm job in-process (4 s, 1280x720, mutoscope-tiny), median of {runs} (load {before})")
    print(f"{'step':<14}{'wall':>8}{'cpu':>8}")
    for step in steps:
        wall = statistics.median(spent[step][1:])
        cpu = statistics.median(spent[step + " cpu"][1:])
        print(f"{step:<14}{wall:8.3f}{cpu:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--only-server", action="store_true")
    parser.add_argument("--job-split", action="store_true", help="also time a warm job's steps")
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
    if opts.job_split:
        job_split(opts.runs)


def unmarked_clip(env: dict[str, str], home: Path) -> Path:
    """A 4-s 1280x720 clip of the embedded model made without the watermark, re-encoded at
    CRF 23 (which also drops its Content Credentials): what verify sees of a video from
    elsewhere, where the detector tries every mark and crop before it says "not found"."""
    made, clip = home / "unmarked-signed.mp4", home / "unmarked.mp4"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mutoscope",
            "generate",
            PROMPT,
            "--size",
            "1280x720",
            "--seed",
            "7",
            "-o",
            str(made),
        ],
        env={**env, "MUTOSCOPE_WATERMARK": "false"},
        check=True,
        capture_output=True,
    )
    reencode = (
        "import sys; from mutoscope.media.video import decode_mp4, encode_mp4; "
        "encode_mp4(decode_mp4(sys.argv[1]), sys.argv[2], crf=23)"
    )
    subprocess.run([sys.executable, "-c", reencode, str(made), str(clip)], env=env, check=True)
    return clip


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
    unmarked = unmarked_clip(env, home)
    commands = {
        "--help": ["--help"],
        "generate (4 s, 720p)": ["generate", PROMPT, "-o", str(home / "out.mp4")],
        "verify": ["verify", str(clip)],
        "verify, unmarked clip": ["verify", str(unmarked)],
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
