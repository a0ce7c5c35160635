"""Scale-out: jobs/s with N ``mutoscope worker`` processes, queue latency, per-job overhead.

Starts PostgreSQL and an S3-compatible server (moto), then 1, 2, 4 and 8 ``mutoscope worker``
processes (each with its own ``MUTOSCOPE_HOME``) running the test backend with a fixed "GPU
time" per job (it sleeps), and prints:

- jobs/s for each N, and efficiency = throughput / (N x one-worker throughput);
- enqueue -> claim latency p50/p99 across processes (all workers idle, one job at a time);
- the per-job overhead outside the backend (claim, output check, watermark, encode, sign,
  upload, commit) for a 4-s 1280x720 clip, in this process on the same database and store.

    python bench/scale.py [--workers 1,2,4,8] [--gpu-seconds 2] [--jobs-per-worker 3]

The sleeping backend does not use the CPU, but every job's encode/watermark/sign does: on a
machine with few cores the workers compete for them, which caps efficiency at high N.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import postgres, s3_server

SIZE, SECONDS = "256x256", "4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--gpu-seconds", type=float, default=2.0)
    parser.add_argument("--jobs-per-worker", type=int, default=3)
    parser.add_argument("--latency-samples", type=int, default=30)
    parser.add_argument("--overhead-runs", type=int, default=3)
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="mutoscope-scale-"))
    with postgres() as database, s3_server() as endpoint:
        env = _environment(tmp, database, endpoint, args.gpu_seconds)
        os.environ.update(env)
        import boto3

        boto3.client("s3").create_bucket(Bucket="bench")
        bench = Bench(database)
        print(
            f"PostgreSQL + S3 (moto) on loopback; test backend sleeping {args.gpu_seconds:g} s "
            f"per job ({SIZE}, {SECONDS} s); cores={os.cpu_count()}"
        )
        print(f"{'workers':>8}{'jobs':>6}{'jobs/s':>9}{'efficiency':>12}")
        workers: list[subprocess.Popen] = []
        base = 0.0
        try:
            for n in counts:
                while len(workers) < n:
                    workers.append(_start_worker(tmp / f"worker{len(workers)}", env))
                jobs = args.jobs_per_worker * n
                rate = bench.throughput(jobs)
                base = base or rate / n
                print(f"{n:>8}{jobs:>6}{rate:>9.3f}{rate / (n * base):>12.2f}")
            # Space the probes so that a worker is always idle: one job takes 1/base seconds.
            spacing = max(0.3, 1.5 / (base * len(workers)))
            lat = bench.claim_latency(args.latency_samples, spacing=spacing)
            print(
                f"enqueue -> claim across processes ({len(workers)} idle workers, "
                f"{len(lat)} jobs): p50 {_pct(lat, 50):.1f} ms, p99 {_pct(lat, 99):.1f} ms"
            )
        finally:
            for proc in workers:
                proc.terminate()
            for proc in workers:
                proc.wait(30)
        overhead = per_job_overhead(args.overhead_runs)
        print(
            f"per-job overhead outside the backend, 4 s 1280x720 (median of "
            f"{len(overhead)}): {statistics.median(overhead):.2f} s"
        )


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

    def throughput(self, jobs: int) -> float:
        start = time.perf_counter()
        ids = [self.enqueue() for _ in range(jobs)]
        while True:
            done = self._scalar(
                "SELECT count(*) FROM videos WHERE status IN ('completed', 'failed') "
                "AND id >= :first AND id <= :last",
                first=ids[0],
                last=ids[-1],
            )
            if done == jobs:
                return jobs / (time.perf_counter() - start)
            time.sleep(0.02)

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


def per_job_overhead(runs: int) -> list[float]:
    """Seconds per job spent outside ``backend.generate`` (real rights + provenance layers)."""
    from mutoscope.config import Settings
    from mutoscope.services import build_services
    from mutoscope.users import LOCAL_USER, UserService
    from mutoscope.videos import VideoCreate, VideoService
    from mutoscope.worker.pool import Worker

    os.environ["MUTOSCOPE_TEST_STEP_SECONDS"] = "0"
    services = build_services(Settings())
    backend = services.backends.get("mutoscope-test")
    generate = backend.generate
    spent: list[float] = []

    def timed(*a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return generate(*a, **kw)
        finally:
            spent.append(time.perf_counter() - t)

    backend.generate = timed  # type: ignore[method-assign]
    user = UserService(services.sessions).get_or_create(LOCAL_USER, is_admin=True)
    worker = Worker(services)
    out = []
    try:
        for n in range(runs + 1):  # the first run warms up (screening models, codecs)
            body = VideoCreate(prompt=f"overhead {n}", size="1280x720", seconds="4")
            vid = VideoService(services).create(user, body).id
            start = time.perf_counter()
            job = services.queue.claim(worker.worker_id, video_id=vid)
            worker.run_one(job)
            if n:
                out.append(time.perf_counter() - start - spent[-1])
    finally:
        services.close()
    return out


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
