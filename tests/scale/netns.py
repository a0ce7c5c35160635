"""Network namespaces for the multi-host test: each worker on a network of its own.

Each "machine" gets a namespace with a veth pair to the host: the host side is
``10.213.N.1/24``, the machine's side ``10.213.N.2/24`` with a default route through the host.
The shared services (PostgreSQL, the S3-compatible store) listen on ``SERVICES`` (the host
side of the first pair), which every namespace reaches through its own link, so a worker shares
nothing with the API process but the database and the store (and the files the operator hands
out). Needs root and iproute2; where the machine does not allow it, ``machines`` yields None and
the test runs its processes on loopback instead.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SERVICES = "10.213.0.1"
NETWORK = "10.213.0.0/16"


@dataclass(frozen=True)
class Machine:
    namespace: str
    address: str

    @property
    def prefix(self) -> list[str]:
        """Command prefix that runs a program inside this machine's namespace (exec, so the
        program keeps the prefix's process id)."""
        return ["ip", "netns", "exec", self.namespace]


def _ip(*args: str, namespace: str | None = None) -> None:
    command = ["ip", "netns", "exec", namespace, "ip", *args] if namespace else ["ip", *args]
    subprocess.run(command, check=True, capture_output=True, timeout=30)


@contextmanager
def machines(count: int) -> Iterator[list[Machine] | None]:
    """``count`` namespaced machines, or None where namespaces cannot be made here."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        yield None
        return
    tag = secrets.token_hex(3)
    made: list[Machine] = []
    try:
        for n in range(count):
            ns, host, peer = f"mts-{tag}-{n}", f"mts{tag}h{n}", f"mts{tag}w{n}"
            _ip("netns", "add", ns)
            made.append(Machine(ns, f"10.213.{n}.2"))
            _ip("link", "add", host, "type", "veth", "peer", "name", peer)
            _ip("link", "set", peer, "netns", ns)
            _ip("addr", "add", f"10.213.{n}.1/24", "dev", host)
            _ip("link", "set", host, "up")
            _ip("addr", "add", f"10.213.{n}.2/24", "dev", peer, namespace=ns)
            _ip("link", "set", peer, "up", namespace=ns)
            _ip("link", "set", "lo", "up", namespace=ns)
            _ip("route", "add", "default", "via", f"10.213.{n}.1", namespace=ns)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        _remove(made)
        yield None
        return
    try:
        yield made
    finally:
        _remove(made)


def _remove(made: list[Machine]) -> None:
    # Deleting a namespace deletes the veth end inside it, and with it the host's end.
    for machine in made:
        subprocess.run(["ip", "netns", "del", machine.namespace], capture_output=True, timeout=30)
