"""API throughput and latency on loopback: GET /v1/videos/{id} and POST /v1/videos.

Starts a real ``mutoscope serve`` process (uvicorn, one process) with the test backend and no
worker (so POST measures the accept path: validation, screening, durable enqueue), then drives
it with ``wrk`` (Debian package) using N connections.

    python bench/api.py [--connections 32] [--duration 10]

Prints requests/s and p50/p99 latency for each endpoint, and the CPU each request cost the
server process and the client (``wrk``), which a shared machine's load inflates far less than
latency. Measuring starts once the server's start-up work (the screening warm-up thread) is
done, so the figures are the steady state a running server gives.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.conftest import make_server

LUA_POST = """
wrk.method = "POST"
wrk.body = '{"prompt": "a red circle moving left", "size": "720x1280"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, *, below: float = 0.05, timeout_s: float = 120.0) -> float:
    """Wait until the process uses less than ``below`` of a core over half a second (its
    start-up warm-up is done); returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        before = process_cpu_s(pid)
        time.sleep(0.5)
        if process_cpu_s(pid) - before < below * 0.5:
            break
    return time.monotonic() - start


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(url: str, key: str, connections: int, duration: int, lua: str | None) -> dict:
    cmd = [
        "wrk",
        "-t",
        "1",
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {key}",
        url,
    ]
    if lua:
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(lua % key)
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": _ms(lat["50"]),
        "p99": _ms(lat["99"]),
        "non2xx": int(errors.group(1)) if errors else 0,
        "requests": requests,
    }


def _ms(text: str) -> float:
    value, unit = float(re.match(r"[\d.]+", text).group()), re.sub(r"[\d.]", "", text)  # type: ignore[union-attr]
    return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    import httpx

    tmp = Path(tempfile.mkdtemp(prefix="mutoscope-bench-"))
    # Throughput, not throttling: the per-key creation limit (120/minute by default) would
    # answer most POSTs with 429 and measure the limiter instead of the create path.
    server = make_server(tmp, MUTOSCOPE_WORKERS="0", MUTOSCOPE_RATE_LIMIT_VIDEOS="100000000/minute")
    server.start()
    try:
        key = server.cli("keys", "create", "--user", "bench", "--name", "bench")
        vid = httpx.post(
            f"{server.url}/v1/videos",
            headers={"Authorization": f"Bearer {key}"},
            json={"prompt": "bench", "size": "720x1280"},
        ).json()["id"]
        assert server.proc is not None
        pid = server.proc.pid
        waited = wait_until_idle(pid)
        print(
            f"server: 1 uvicorn process (idle after {waited:.0f}s of warm-up); load: wrk, "
            f"{args.connections} connections, {args.duration}s each, cores={os.cpu_count()}, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(
            f"{'endpoint':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}"
            f"{'vs base':>10}{'srv CPU ms':>12}{'wrk CPU ms':>12}"
        )
        base = 0.0
        for name, url, lua in (
            ("GET /healthz (baseline)", f"{server.url}/healthz", None),
            ("GET /v1/videos/{id}", f"{server.url}/v1/videos/{vid}", None),
            ("POST /v1/videos", f"{server.url}/v1/videos", LUA_POST),
        ):
            server_cpu, client_cpu = process_cpu_s(pid), children_cpu_s()
            r = wrk(url, key, args.connections, args.duration, lua)
            server_cpu = (process_cpu_s(pid) - server_cpu) / r["requests"] * 1000
            client_cpu = (children_cpu_s() - client_cpu) / r["requests"] * 1000
            base = base or r["rps"]
            print(
                f"{name:<28}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}"
                f"{r['non2xx']:>10}{r['rps'] / base:>10.2f}{server_cpu:>12.3f}{client_cpu:>12.3f}"
            )
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
