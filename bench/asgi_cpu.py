"""CPU time the app spends per request, without the network or uvicorn: ASGI calls in-process.

Builds the real app (test backend, no worker), creates an API key and one video, then calls
the ASGI app directly for each endpoint and reports the best of several rounds of CPU time
(``time.process_time``, after start-up threads are done) per request, so figures hold on a
busy machine where wall-clock throughput does not. A bare FastAPI app with one route is the floor.

    python bench/asgi_cpu.py [--requests 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def cpu_per_request(
    app: Any, sc: dict[str, Any], requests: int, rounds: int, body: bytes = b""
) -> float:
    """Best-of-``rounds`` CPU microseconds per request; asserts every answer is 200."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for _ in range(100):  # warm caches
        await app(dict(sc), receive, send)
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            await app(dict(sc), receive, send)
        best = min(best, (time.process_time() - started) / requests * 1e6)
    assert set(statuses) == {200}, set(statuses)
    return best


async def main(requests: int, rounds: int) -> None:
    os.environ.setdefault("MUTOSCOPE_HOME", tempfile.mkdtemp(prefix="mutoscope-asgi-"))
    os.environ.setdefault("MUTOSCOPE_RIGHTS_STARTER", "false")
    from fastapi import FastAPI

    from mutoscope.api.app import create_app
    from mutoscope.config import Settings
    from mutoscope.users import UserService
    from mutoscope.videos import VideoCreate

    bare = FastAPI()

    @bare.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    settings = Settings(
        enable_test_backend=True, default_model="mutoscope-test", workers=0, rate_limits=False
    )
    app = create_app(settings, run_worker=False)
    async with app.router.lifespan_context(app):
        # CPU time is the process's: wait until start-up threads (screening warm-up) are done.
        while any(t.name == "mutoscope-warm-up" for t in threading.enumerate()):
            await asyncio.sleep(0.1)
        services = app.state.services
        users = UserService(services.sessions)
        key = users.create_key("bench", "bench")
        auth = [(b"authorization", f"Bearer {key.key}".encode())]
        user = users.get_or_create("bench")
        video = app.state.videos.create(user, VideoCreate(prompt="bench", size="720x1280"))
        print(f"routes on the app: {len(app.routes)}; {requests} requests x {rounds} rounds")
        print(f"{'endpoint':<28}{'CPU us/request':>16}")
        cases = [
            ("bare FastAPI /healthz", bare, scope("GET", "/healthz", [])),
            ("GET /healthz", app, scope("GET", "/healthz", [])),
            ("GET /v1/models", app, scope("GET", "/v1/models", auth)),
            ("GET /v1/videos/{id}", app, scope("GET", f"/v1/videos/{video.id}", auth)),
        ]
        for name, target, sc in cases:
            cost = await cpu_per_request(target, sc, requests, rounds)
            print(f"{name:<28}{cost:>16.1f}")
        # The accept path of a create: parse, validate, rights screening, durable enqueue.
        post = [*auth, (b"content-type", b"application/json")]
        body = b'{"prompt": "a red circle moving left", "size": "720x1280"}'
        sc = scope("POST", "/v1/videos", post)
        cost = await cpu_per_request(app, sc, max(1, requests // 10), rounds, body)
        print(f"{'POST /v1/videos':<28}{cost:>16.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
