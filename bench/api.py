"""API throughput and latency on loopback: GET /v1/videos/{id} and POST /v1/videos.

Starts a real ``mutoscope serve`` process (uvicorn, one process) with the test backend and no
worker (so POST measures the accept path: validation, screening, durable enqueue), then drives
it with ``wrk`` (Debian package) using N connections.

    python bench/api.py [--connections 32] [--duration 10]

Prints requests/s and p50/p99 latency for each endpoint.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.conftest import make_server

LUA_POST = """
wrk.method = "POST"
wrk.body = '{"prompt": "a red circle moving left", "size": "720x1280"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


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
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": _ms(lat["50"]),
        "p99": _ms(lat["99"]),
        "non2xx": int(errors.group(1)) if errors else 0,
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
        print(
            f"server: 1 uvicorn process; load: wrk, {args.connections} connections, "
            f"{args.duration}s each, cores={os.cpu_count()}"
        )
        print(
            f"{'endpoint':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}"
            f"{'vs base':>10}"
        )
        base = 0.0
        for name, url, lua in (
            ("GET /healthz (baseline)", f"{server.url}/healthz", None),
            ("GET /v1/videos/{id}", f"{server.url}/v1/videos/{vid}", None),
            ("POST /v1/videos", f"{server.url}/v1/videos", LUA_POST),
        ):
            r = wrk(url, key, args.connections, args.duration, lua)
            base = base or r["rps"]
            print(
                f"{name:<28}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}"
                f"{r['non2xx']:>10}{r['rps'] / base:>10.2f}"
            )
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
