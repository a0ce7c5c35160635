"""Throwaway servers for tests and benchmarks: a PostgreSQL cluster and an S3-compatible store.

Both listen on loopback ports the OS picks and live in temporary folders; ``bench/`` scripts
use them the same way the test fixtures do.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Unavailable(RuntimeError):
    """The server's binaries are not installed here."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres(address: str = "127.0.0.1", clients: str = "") -> Iterator[str]:
    """A PostgreSQL cluster (Debian's server binaries); yields a SQLAlchemy URL.

    It listens on loopback, or on ``address``, and trusts connections from loopback and from
    the ``clients`` network (e.g. ``10.213.0.0/16``: the network namespaces of a test)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise Unavailable("PostgreSQL server binaries are not installed (scripts/setup does)")
    bindir = Path(bins[-1]).parent
    # Not under pytest's tmp dir: that one is private to root, and the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="mutoscope-pg-")) / "data"
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if shutil.which("runuser") is None:
            raise Unavailable("running as root without runuser")
        shutil.chown(data.parent, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "mutoscope"]
    subprocess.run([*as_postgres, *initdb, "--no-sync"], check=True, capture_output=True)
    if clients:
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {clients} trust\n")
    opts = f"-p {port} -k {data} -c listen_addresses={address} -c fsync=off -c max_connections=300"
    pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data)]
    log = str(data.parent / "log")
    subprocess.run([*pg_ctl, "-o", opts, "-w", "-l", log, "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://mutoscope@{address}:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)


@contextmanager
def s3_server(address: str = "127.0.0.1") -> Iterator[str]:
    """moto's standalone S3-compatible server in its own process, listening on loopback (or
    ``address``); yields its endpoint URL."""
    import httpx

    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        raise Unavailable("moto[server] is not installed") from exc
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", address, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://{address}:{port}"
    deadline = time.time() + 60
    while True:
        try:
            httpx.get(f"{url}/moto-api/", timeout=1)
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("moto server did not start") from None
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
