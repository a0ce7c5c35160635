"""The multi-machine setup of docs/deploy.md, on one machine: PostgreSQL, an S3-compatible
store, one ``serve --workers 0`` and two ``mutoscope worker`` processes, each with its own
``MUTOSCOPE_HOME`` and, where the machine allows it (root, iproute2), its own network
namespace (``tests/scale/netns.py``), so they share nothing but the database, the store and the
signing identity. The official ``openai`` SDK creates 20 videos while workers are ``kill -9``ed ten
times at random moments (start-up and model load, denoising, encoding, upload) and restarted.

Every video completes exactly once, downloads from the API process, the bucket holds exactly
each video's three files, and the audit chain and C2PA credentials check out.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest
from sqlalchemy import create_engine, text

from tests.e2e.conftest import make_server
from tests.scale.netns import NETWORK, SERVICES, Machine, machines

pytestmark = [
    pytest.mark.slow,
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning"),
]

VIDEOS = 20
KILLS = 10


class WorkerProcess:
    """One ``mutoscope worker`` with its own home, as on its own machine."""

    def __init__(self, home: Path, env: dict[str, str], machine: Machine | None = None):
        self.home, self.env = home, {**env, "MUTOSCOPE_HOME": str(home)}
        self.prefix = machine.prefix if machine else []
        self.proc: subprocess.Popen | None = None
        home.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        log = open(self.home / "worker.log", "a")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", "mutoscope", "worker", "--log-level", "warning"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()


def _new_database(postgres_url: str) -> str:
    name = f"multihost_{secrets.token_hex(4)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def cluster(request, monkeypatch):
    """(database URL, bucket, machines): on two network namespaces with PostgreSQL and the
    store listening on the host's side of their links where the machine allows it, else
    (machines None) on loopback with the session's servers."""
    from tests.servers import Unavailable, postgres, s3_server

    with machines(2) as isolated:
        if isolated is None:
            bucket = request.getfixturevalue("s3_bucket")
            yield _new_database(request.getfixturevalue("postgres_url")), bucket, None
            return
        try:
            with postgres(SERVICES, NETWORK) as url, s3_server(SERVICES) as endpoint:
                import boto3

                for name, value in {
                    "AWS_ENDPOINT_URL": endpoint,
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1",
                }.items():
                    monkeypatch.setenv(name, value)
                boto3.client("s3").create_bucket(Bucket="multihost")
                yield _new_database(url), "multihost", isolated
        except Unavailable as exc:
            pytest.skip(str(exc))


def holder_of_a_job(database: str, workers: list[WorkerProcess]) -> WorkerProcess | None:
    """The worker process running a job right now (waits up to 20 s for one)."""
    engine = create_engine(database)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            with engine.connect() as conn:
                owners = conn.execute(
                    text("SELECT lease_owner FROM jobs WHERE state = 'running'")
                ).scalars()
                pids = {int(owner.split(":")[1]) for owner in owners if owner}
            for worker in workers:
                if worker.proc is not None and worker.proc.pid in pids:
                    return worker
            time.sleep(0.1)
        return None
    finally:
        engine.dispose()


def operator_identity(tmp_path: Path) -> dict[str, str]:
    """What the operator creates once and gives every process: the C2PA signing identity
    (``mutoscope keys init-signing``) and the audit log's MAC and checkpoint keys."""
    operator = tmp_path / "operator"
    keys = operator / "keys"
    identity = {
        "MUTOSCOPE_SIGNING_CERT": str(keys / "c2pa-signing-chain.pem"),
        "MUTOSCOPE_SIGNING_KEY": str(keys / "c2pa-signing.key"),
        "MUTOSCOPE_AUDIT_KEY_FILE": str(keys / "audit_mac_key"),
        "MUTOSCOPE_AUDIT_SIGNING_KEY_FILE": str(keys / "audit_ed25519.pem"),
        "MUTOSCOPE_AUDIT_CHECKPOINT_DIR": str(operator / "audit"),  # shared storage
    }
    env = {**os.environ, "MUTOSCOPE_HOME": str(operator), **identity}
    for command in (["keys", "init-signing"], ["rights", "audit", "verify"]):
        subprocess.run(
            [sys.executable, "-m", "mutoscope", *command], env=env, check=True, capture_output=True
        )
    return identity


def test_two_workers_killed_ten_times_make_every_video_exactly_once(tmp_path, cluster):
    database, s3_bucket, isolated = cluster
    shared = {
        "MUTOSCOPE_DATABASE_URL": database,
        "MUTOSCOPE_STORAGE_URL": f"s3://{s3_bucket}/media",
        "MUTOSCOPE_LEASE_SECONDS": "1.5",
        "MUTOSCOPE_RETRY_BASE_DELAY": "0.2",
        "MUTOSCOPE_CRASH_BACKOFF_SECONDS": "0.2",  # 0.2 s, 0.4 s, 0.8 s ... after each kill
        "MUTOSCOPE_MAX_ATTEMPTS": "20",
        "MUTOSCOPE_TEST_STEP_SECONDS": "0.35",
        **operator_identity(tmp_path),
    }
    api = make_server(tmp_path / "api", MUTOSCOPE_WORKERS="0", **shared)
    api.start()
    workers = [
        WorkerProcess(
            tmp_path / f"gpu{n}", {**api.env, **shared}, isolated[n] if isolated else None
        )
        for n in range(2)
    ]
    try:
        key = api.cli("keys", "create", "--user", "alice", "--name", "sdk")
        client = openai.OpenAI(base_url=f"{api.url}/v1", api_key=key, max_retries=0)
        ids = [
            client.videos.create(prompt=f"scene {n}", size="320x180", seconds="4").id  # type: ignore[arg-type]
            for n in range(VIDEOS)
        ]
        for worker in workers:
            worker.start()
        if isolated:  # each worker's machine reaches the database and store, not the API
            probe = (
                "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)"
            )
            host, port = api.url.rsplit("/", 1)[-1].split(":")
            reach = [*isolated[0].prefix, sys.executable, "-c", probe, host, port]
            assert subprocess.run(reach, capture_output=True).returncode != 0

        # 1. Ten kill -9s at random moments, each worker restarted at once: most while the
        # victim holds a job (denoising, encoding, signing or uploading), some during start-up
        rng = random.Random(15)
        for n in range(KILLS):
            holder = None if n % 3 == 2 else holder_of_a_job(database, workers)
            victim = holder or rng.choice(workers)
            time.sleep(rng.uniform(0.0, 0.8))
            victim.kill9()
            victim.start()

        # 2. Every video completes (none fails, none is left behind)
        deadline = time.time() + 150
        pending = set(ids)
        while pending:
            assert time.time() < deadline, f"{len(pending)} videos never completed"
            for vid in sorted(pending):
                video = client.videos.retrieve(vid)
                assert video.status != "failed", video.error
                if video.status == "completed":
                    pending.discard(vid)
            time.sleep(0.3)

        # 3. Exactly once: one record and one finished job per video
        engine = create_engine(database)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT video_id, state, attempts FROM jobs"))
            jobs = {vid: (state, attempts) for vid, state, attempts in rows}
            videos = conn.execute(text("SELECT count(*) FROM videos")).scalar()
        engine.dispose()
        assert videos == VIDEOS and {vid: state for vid, (state, _) in jobs.items()} == {
            vid: "done" for vid in ids
        }
        # the kills hit running jobs: they were taken over and run again
        assert sum(attempts - 1 for _, attempts in jobs.values()) >= 3

        # 4. Downloads from the API process, which made none of them
        for vid in ids:
            data = client.videos.download_content(vid).read()
            assert data[4:8] == b"ftyp" and len(data) > 1000

        # 5. No orphaned objects, no leftover scratch
        import boto3

        listed = boto3.client("s3").list_objects_v2(Bucket=s3_bucket)
        keys = sorted(obj["Key"] for obj in listed.get("Contents", []))
        expected = sorted(
            f"media/{vid[-2:]}/{vid}/{name}"
            for vid in ids
            for name in ("video.mp4", "thumbnail.jpg", "spritesheet.jpg")
        )
        assert keys == expected
        for worker in workers:
            worker.stop()  # a clean stop leaves its scratch empty
            scratch = worker.home / "staging"
            assert not [p for p in scratch.rglob("*") if p.is_file()]

        # 6. The audit chain holds across processes; every worker signed as the one operator
        assert api.cli("rights", "audit", "verify").startswith("audit log ok")
        sample = tmp_path / "sample.mp4"
        sample.write_bytes(client.videos.download_content(ids[-1]).read())
        report = json.loads(api.cli("verify", str(sample), "--json"))
        assert report["c2pa"]["present"] and not report["c2pa"]["failures"], report["c2pa"]
        assert report["record"]["video_id"] == ids[-1]
    finally:
        for worker in workers:
            worker.stop()
        api.stop()
