"""Scale-out: jobs/s with N ``mutoscope worker`` processes, queue latency, per-job CPU.

Starts PostgreSQL and an S3-compatible server (moto), then 1, 2, 4 and 8 ``mutoscope worker``
processes (each with its own ``MUTOSCOPE_HOME``) running the test backend with a fixed "GPU
time" per job (it sleeps), and prints:

- jobs/s for each N over the steady state, and efficiency = throughput / (N x one-worker
  throughput), with the CPU each job cost the workers, PostgreSQL and the store;
- enqueue -> claim latency p50/p99 across processes (all workers idle, one job at a time);
- what N idle workers cost (polling, LISTEN, heartbeats): CPU per second of waiting;
- the per-job CPU outside the backend, stage by stage (claim, output check, watermark, encode,
  sign, upload, commit), for the bench's 256x256 clip and a 4-s 1280x720 one, in this process
  on the same database and store.

    python bench/scale.py [--workers 1,2,4,8] [--gpu-seconds 6] [--jobs-per-worker 6]

Throughput is steady-state: every N enqueues N x jobs-per-worker jobs at once and counts the
completions between the N-th (every worker has finished its first job: start-up and a new
worker's first-job warm-up are behind) and the (total - N)-th (no worker has yet gone idle for
want of work), the one-worker baseline the same way.

The sleeping backend does not use the CPU, but every job's output check, watermark, encode,
signing and upload does: when the workers' CPU per job x jobs/s nears the cores there are, the
workers queue for them and efficiency drops; the printed CPU figures say how near that is.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import postgres, s3_server

SIZE, SECONDS = "256x256", "4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--gpu-seconds", type=float, default=6.0)
    parser.add_argument("--jobs-per-worker", type=int, default=6)
    parser.add_argument("--latency-samples", type=int, default=30)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--stage-runs", type=int, default=5)
    args = parser.parse_args()
    if args.jobs_per_worker < 3:
        parser.error("--jobs-per-worker must be at least 3 (the first and last rounds are cut)")
    counts = [int(n) for n in args.workers.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="mutoscope-scale-"))
    with postgres() as database, s3_server() as endpoint:
        env = _environment(tmp, database, endpoint, args.gpu_seconds)
        os.environ.update(env)
        import boto3

        boto3.client("s3").create_bucket(Bucket="bench")
        bench = Bench(database)
        meters = Meters(database)
        print(
            f"PostgreSQL + S3 (moto) on loopback; test backend sleeping {args.gpu_seconds:g} s "
            f"per job ({SIZE}, {SECONDS} s); cores={os.cpu_count()}, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(
            f"{'workers':>8}{'jobs':>6}{'jobs/s':>9}{'efficiency':>12}"
            "   CPU ms/job:" + "".join(f"{k:>{w}}" for k, w in Meters.COLUMNS.items())
        )
        workers: list[subprocess.Popen] = []
        base = 0.0
        try:
            for n in counts:
                while len(workers) < n:
                    workers.append(_start_worker(tmp / f"worker{len(workers)}", env))
                jobs = args.jobs_per_worker * n
                rate, cpu = bench.throughput(jobs, n, lambda: meters.read(workers))
                base = base or rate / n
                print(
                    f"{n:>8}{jobs:>6}{rate:>9.3f}{rate / (n * base):>12.2f}{'':>15}"
                    + "".join(f"{cpu[k] * 1000:>{w}.0f}" for k, w in Meters.COLUMNS.items())
                )
            # Space the probes so that a worker is always idle: one job takes 1/base seconds.
            spacing = max(0.3, 1.5 / (base * len(workers)))
            lat = bench.claim_latency(args.latency_samples, spacing=spacing)
            print(
                f"enqueue -> claim across processes ({len(workers)} idle workers, "
                f"{len(lat)} jobs): p50 {_pct(lat, 50):.1f} ms, p99 {_pct(lat, 99):.1f} ms"
            )
            bench.drain()  # the probes' jobs finish: idle means no job anywhere
            before = meters.read(workers)
            time.sleep(args.idle_seconds)
            idle = {k: (v - before[k]) / args.idle_seconds for k, v in meters.read(workers).items()}
            print(
                f"{len(workers)} idle workers, {args.idle_seconds:g} s: CPU "
                f"{idle['workers'] * 1000:.1f} ms/s in all (postgres {idle['postgres'] * 1000:.1f}"
                f" ms/s, store {idle['store'] * 1000:.1f} ms/s)"
            )
        finally:
            for proc in workers:
                proc.terminate()
            for proc in workers:
                proc.wait(30)
        print(
            f"per-job CPU outside the backend in one worker, by stage (ms, median of "
            f"{args.stage_runs} jobs; wall = the job's time less the backend's):"
        )
        for size in (SIZE, "1280x720"):
            stages = stage_cpu(size, args.stage_runs)
            print(f"  {size}: " + ", ".join(f"{k} {v:.0f}" for k, v in stages.items()))


def _environment(tmp: Path, database: str, endpoint: str, gpu_seconds: float) -> dict[str, str]:
    keys = tmp / "operator" / "keys"
    from mutoscope.provenance.keys import init_signing

    init_signing(keys)
    return {
        "MUTOSCOPE_HOME": str(tmp / "bench"),
        "MUTOSCOPE_DATABASE_URL": database,
        "MUTOSCOPE_STORAGE_URL": "s3://bench/media",
        "MUTOSCOPE_ENABLE_TEST_BACKEND": "1",
        "MUTOSCOPE_DEFAULT_MODEL": "mutoscope-test",
        "MUTOSCOPE_TEST_STEP_SECONDS": str(gpu_seconds / 8),  # 8 steps per job
        "MUTOSCOPE_SIGNING_CERT": str(keys / "c2pa-signing-chain.pem"),
        "MUTOSCOPE_SIGNING_KEY": str(keys / "c2pa-signing.key"),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "HF_HUB_OFFLINE": "1",
    }


def _start_worker(home: Path, env: dict[str, str]) -> subprocess.Popen:
    home.mkdir(parents=True)
    log = home / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mutoscope", "worker", "--log-level", "warning"],
        env={**os.environ, **env, "MUTOSCOPE_HOME": str(home)},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 180
    while "worker " not in log.read_text():
        if proc.poll() is not None or time.time() > deadline:
            sys.exit(f"worker did not start:\n{log.read_text()}")
        time.sleep(0.1)
    return proc


class Meters:
    """CPU seconds (user + system) spent so far by the workers, PostgreSQL and the store,
    read from ``/proc`` (Linux; zeros elsewhere)."""

    COLUMNS: ClassVar[dict[str, int]] = {"workers": 8, "postgres": 10, "store": 7}  # printed widths

    def __init__(self, database: str):
        port = database.rsplit(":", 1)[1].split("/")[0]
        self.postmaster = _find(lambda cmd: "postgres" in cmd and f"-p {port} " in cmd)
        self.store = _find(lambda cmd: "moto.server" in cmd, parent=os.getpid())

    def read(self, workers: list[subprocess.Popen]) -> dict[str, float]:
        pg = _cpu(self.postmaster, reaped=True) if self.postmaster else 0.0
        pg += sum(_cpu(pid) for pid in _children(self.postmaster))
        return {
            "workers": sum(_cpu(w.pid) for w in workers),
            "postgres": pg,
            "store": _cpu(self.store) if self.store else 0.0,
        }


def _stat(pid: int) -> list[str]:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text.rsplit(")", 1)[1].split()  # fields from the 3rd (state) on


def _cpu(pid: int | None, *, reaped: bool = False) -> float:
    """utime + stime (+ the reaped children's, for PostgreSQL's exited backends)."""
    fields = _stat(pid) if pid else []
    if not fields:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int | None) -> list[int]:
    if not pid:
        return []
    return [p for p in _pids() if (f := _stat(p)) and int(f[1]) == pid]


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()] if Path("/proc").is_dir() else []


def _find(match: Callable[[str], bool], *, parent: int | None = None) -> int | None:
    """The process whose command line (arguments joined by spaces) ``match``es."""
    for pid in _pids():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
        except OSError:
            continue
        if match(cmd) and (parent is None or (_stat(pid) or ["", "0"])[1] == str(parent)):
            return pid
    return None


class Bench:
    """Enqueues jobs the way the API does (video row + job in one transaction) and watches."""

    def __init__(self, database: str):
        from mutoscope.jobs.sql import SqlJobQueue
        from mutoscope.storage.db import make_engine, session_factory, upgrade
        from mutoscope.storage.records import UserRecord

        self.engine = make_engine(database)
        upgrade(self.engine)
        self.sessions = session_factory(self.engine)
        self.queue = SqlJobQueue(self.sessions)
        with self.sessions.begin() as s:
            if s.get(UserRecord, "user_bench") is None:
                s.add(UserRecord(id="user_bench", name="bench", created_at=0))

    def enqueue(self) -> str:
        from mutoscope.storage.records import VideoRecord, new_id, now

        vid = new_id("video")
        with self.sessions.begin() as s:
            s.add(
                VideoRecord(
                    id=vid,
                    owner_id="user_bench",
                    model="mutoscope-test",
                    backend="mutoscope-test",
                    status="queued",
                    progress=0,
                    prompt=f"bench {vid}",
                    size=SIZE,
                    seconds=SECONDS,
                    seed=0,
                    mode="create",
                    created_at=now(),
                    attributions=[],
                    provenance={},
                )
            )
            s.flush()
            self.queue.enqueue(vid, session=s)
        return vid

    def _scalar(self, sql: str, **params: Any) -> Any:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def throughput(
        self, jobs: int, workers: int, meter: Callable[[], dict[str, float]]
    ) -> tuple[float, dict[str, float]]:
        """Jobs/s between the ``workers``-th and the (``jobs - workers``)-th completion, and
        the CPU seconds per job ``meter`` counted between them."""
        ids = [self.enqueue() for _ in range(jobs)]
        first, last = workers - 1, jobs - workers - 1
        finished: list[float] = []
        cpu: list[dict[str, float]] = []
        while len(finished) < jobs:
            # Ten reads a second: ±0.1 s on a window of several jobs' time, and PostgreSQL's CPU
            # per job stays the workers' (at 50 a second the bench's reads were most of it).
            time.sleep(0.1)
            done = self._scalar(
                "SELECT count(*) FROM videos WHERE status IN ('completed', 'failed') "
                "AND id >= :first AND id <= :last",
                first=ids[0],
                last=ids[-1],
            )
            if len(finished) <= first < done or len(finished) <= last < done:
                cpu.append(meter())
            finished += [time.perf_counter()] * (done - len(finished))
        if len(cpu) == 1:  # both ends seen in one poll: no window to measure CPU over
            cpu.append(cpu[0])
        per_job = {k: (cpu[-1][k] - cpu[0][k]) / max(1, last - first) for k in cpu[0]}
        return (last - first) / (finished[last] - finished[first]), per_job

    def drain(self) -> None:
        """Wait until every job is done (then one more second for the workers to settle)."""
        while self._scalar("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')"):
            time.sleep(0.2)
        time.sleep(1)

    def claim_latency(self, samples: int, *, spacing: float) -> list[float]:
        """Milliseconds from an enqueue's commit until a worker process holds the job."""
        out = []
        time.sleep(spacing * 2)  # let the throughput run's last jobs drain
        for _ in range(samples):
            start = time.perf_counter()
            vid = self.enqueue()
            committed = time.perf_counter()
            while not self._scalar("SELECT attempts FROM jobs WHERE video_id = :id", id=vid):
                time.sleep(0.002)
            out.append((time.perf_counter() - committed) * 1000)
            time.sleep(max(0.0, spacing - (time.perf_counter() - start)))
        return out


class StageClock:
    """Exclusive CPU time (this thread's) per stage: a stage called inside another (a progress
    write from the backend's step callback) counts for itself only."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self._stack: list[list[float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        frame = [time.thread_time(), 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            took = time.thread_time() - frame[0]
            self.spent[name] += took - frame[1]
            if self._stack:
                self._stack[-1][1] += took

    def wrap(self, owner: Any, attribute: str, name: str) -> Callable[[], None]:
        """Time ``owner.attribute`` calls as ``name``; returns the function that undoes it."""
        inner = getattr(owner, attribute)

        def timed(*a: Any, **kw: Any) -> Any:
            with self.stage(name):
                return inner(*a, **kw)

        setattr(owner, attribute, timed)
        return lambda: setattr(owner, attribute, inner)


def stage_cpu(size: str, runs: int) -> dict[str, float]:
    """Median CPU ms per stage of a job outside ``backend.generate`` (real rights, provenance,
    database and store), plus ``other threads`` (heartbeat, encoder and upload threads),
    ``total`` and ``wall``."""
    from mutoscope.config import Settings
    from mutoscope.services import build_services
    from mutoscope.users import LOCAL_USER, UserService
    from mutoscope.videos import VideoCreate, VideoService
    from mutoscope.worker import run as run_module
    from mutoscope.worker.pool import Worker

    os.environ["MUTOSCOPE_TEST_STEP_SECONDS"] = "0"
    services = build_services(Settings())
    backend = services.backends.get("mutoscope-test")
    clock = StageClock()
    generate, backend_wall = backend.generate, [0.0]

    def timed_generate(*a: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            with clock.stage("backend"):
                return generate(*a, **kw)
        finally:
            backend_wall[0] += time.perf_counter() - start

    backend.generate = timed_generate  # type: ignore[method-assign]
    undo = [
        clock.wrap(services.queue, "claim", "claim"),
        clock.wrap(run_module.Progress, "set", "progress"),
        clock.wrap(services.rights, "check_output", "check"),
        clock.wrap(services.provenance, "watermark", "watermark"),
        clock.wrap(run_module, "encode_mp4", "encode"),
        clock.wrap(run_module, "thumbnail", "posters"),
        clock.wrap(run_module, "spritesheet", "posters"),
        clock.wrap(services.provenance, "sign", "sign"),
        clock.wrap(services.files, "commit", "upload"),
        clock.wrap(services.rights, "index_output", "index"),
    ]
    user = UserService(services.sessions).get_or_create(LOCAL_USER, is_admin=True)
    worker = Worker(services)
    per_run: list[dict[str, float]] = []
    try:
        for n in range(runs + 1):  # the first run warms up (codecs, indexes, connections)
            body = VideoCreate(prompt=f"stages {n}", size=size, seconds=SECONDS)
            vid = VideoService(services).create(user, body).id
            clock.spent.clear()
            backend_wall[0] = 0.0
            wall, cpu = time.perf_counter(), time.process_time()
            # "records": loading and marking the video, progress, the final commit: the rest
            with clock.stage("records"):
                worker.run_one(services.queue.claim(worker.worker_id, video_id=vid))
            cpu = time.process_time() - cpu
            run = {k: clock.spent.get(k, 0.0) for k in STAGES}
            run["other threads"] = cpu - sum(run.values()) - clock.spent["backend"]
            run["total"] = cpu - clock.spent["backend"]
            run["wall"] = time.perf_counter() - wall - backend_wall[0]
            if n:
                per_run.append(run)
    finally:
        for restore in undo:
            restore()
        services.close()
    return {k: statistics.median(r[k] for r in per_run) * 1000 for k in per_run[0]}


STAGES = (
    "claim",
    "records",
    "progress",
    "check",
    "watermark",
    "encode",
    "posters",
    "sign",
    "upload",
    "index",
)


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
