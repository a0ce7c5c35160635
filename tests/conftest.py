"""Shared fixtures: an isolated MUTOSCOPE_HOME, settings with the test backend, services."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Keep every test offline and away from the user's real data.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tests screen against the registries they import; the packaged starter registry is on by
# default for users, and its own tests turn it on (tests/rights/test_starter.py).
os.environ.setdefault("MUTOSCOPE_RIGHTS_STARTER", "false")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("MUTOSCOPE_HOME", str(path))
    return path


@pytest.fixture
def settings(home: Path):  # type: ignore[no-untyped-def]
    from mutoscope.config import Settings

    return Settings(
        home=home,
        enable_test_backend=True,
        default_model="mutoscope-test",
        model_aliases={"sora-2": "mutoscope-test", "sora-2-pro": "mutoscope-test"},
    )


@pytest.fixture
def core_services(settings) -> Iterator:  # type: ignore[no-untyped-def]
    """Services with the test backend and no rights/provenance layers (core unit tests)."""
    from mutoscope.backends.registry import load_backends
    from mutoscope.backends.testing import register_backends
    from mutoscope.services import build_services
    from mutoscope.worker.hooks import NullProvenance, NullRights

    services = build_services(
        settings,
        backends=load_backends(settings, hooks=[register_backends]),
        rights=NullRights(),
        provenance=NullProvenance(),
    )
    yield services
    services.close()


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway PostgreSQL cluster on loopback (Debian's postgresql, started by the test)."""
    import glob
    import shutil
    import socket
    import subprocess

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        pytest.skip("PostgreSQL server binaries are not installed (scripts/setup installs them)")
    bindir = Path(bins[-1]).parent
    import tempfile

    # Not under pytest's tmp dir: that one is private to root, and the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="mutoscope-pg-")) / "data"
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser")
        shutil.chown(data.parent, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        [
            *as_postgres,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "mutoscope",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *as_postgres,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-w",
            "-l",
            str(data.parent / "log"),
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://mutoscope@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on loopback (moto's standalone server, in its own process)."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    pytest.importorskip("moto.server", reason="moto[server] is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            httpx.get(f"{url}/moto-api/", timeout=1)
            break
        except httpx.HTTPError:
            assert proc.poll() is None and time.time() < deadline, "moto server did not start"
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the test S3 server, with the AWS variables pointing at it."""
    import secrets

    import boto3

    for name, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    bucket = f"mutoscope-{secrets.token_hex(6)}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return bucket
