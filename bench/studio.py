"""Studio page speed: the feed with 1,000 videos in the database (target: <= 100 ms).

Fills a fresh SQLite database with 1,000 published videos from 20 users (300 of them
remixes, 3,000 likes), then requests pages in-process and prints, per page, the server time
(the ``Server-Timing`` the studio reports: session lookup, queries and template rendering)
and the whole request through the ASGI stack (TestClient, no network).

    python bench/studio.py [--videos 1000] [--requests 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from mutoscope.api.app import create_app
from mutoscope.backends.registry import load_backends
from mutoscope.backends.testing import register_backends
from mutoscope.config import Settings
from mutoscope.services import build_services
from mutoscope.storage.records import COMPLETED, UserRecord, VideoRecord, new_id, now
from mutoscope.studio.records import LikeRecord
from mutoscope.studio.sessions import COOKIE
from mutoscope.worker.hooks import NullProvenance, NullRights

WORDS = ("paper boat rainy street dusk neon city fox forest river lantern kite desert").split()  # noqa: SIM905


def fill(sessions, videos: int, users: int = 20) -> list[str]:  # type: ignore[no-untyped-def]
    """Users, published videos (30 % remixes of earlier ones) and likes; returns video ids."""
    rng = random.Random(0)
    t0 = now() - videos * 60
    user_ids = [new_id("user") for _ in range(users)]
    ids: list[str] = []
    with sessions.begin() as s:
        s.add_all(UserRecord(id=u, name=f"user{n}", created_at=t0) for n, u in enumerate(user_ids))
        for n in range(videos):
            vid = new_id("video")
            parent = rng.choice(ids) if ids and rng.random() < 0.3 else None
            s.add(
                VideoRecord(
                    id=vid,
                    owner_id=rng.choice(user_ids),
                    model="mutoscope-test",
                    backend="mutoscope-test",
                    status=COMPLETED,
                    progress=100,
                    prompt=" ".join(rng.choices(WORDS, k=12)),
                    size="720x1280",
                    seconds="4",
                    mode="remix" if parent else "create",
                    remixed_from_video_id=parent,
                    created_at=t0 + n * 60,
                    completed_at=t0 + n * 60 + 5,
                    published_at=t0 + n * 60 + 10,
                    attributions=[],
                    provenance={},
                    duration=4.0,
                    frame_count=96,
                )
            )
            ids.append(vid)
        likes = {(rng.choice(user_ids), rng.choice(ids)) for _ in range(3 * videos)}
        s.flush()
        s.add_all(LikeRecord(user_id=u, video_id=v, created_at=t0) for u, v in likes)
    return ids


def measure(client: TestClient, url: str, n: int) -> tuple[list[float], list[float]]:
    server, wall = [], []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        wall.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        server.append(float(response.headers["server-timing"].split("dur=")[1]))
    return server, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="mutoscope-bench-"))
    settings = Settings(home=home, enable_test_backend=True, default_model="mutoscope-test")
    services = build_services(
        settings,
        backends=load_backends(settings, hooks=[register_backends]),
        rights=NullRights(),
        provenance=NullProvenance(),
    )
    ids = fill(services.sessions, args.videos)
    app = create_app(settings, services=services, run_worker=False)
    with TestClient(app) as anonymous:
        anonymous.get("/feed")  # build the studio state and warm template caches
        signed_in = TestClient(app)
        with services.sessions() as s:
            user = s.query(UserRecord).first()
        assert user is not None
        signed_in.cookies.set(COOKIE, app.state.studio.store.start(user.id))
        pages = [
            ("feed, newest (signed in)", signed_in, "/feed"),
            ("feed, newest (anonymous)", anonymous, "/feed"),
            ("feed, most remixed", signed_in, "/feed?sort=remixed"),
            ("feed, page 20", signed_in, "/feed?page=20"),
            ("video page with chain", signed_in, f"/v/{ids[-1]}"),
            ("my videos", signed_in, "/videos"),
        ]
        print(f"{args.videos} published videos, {args.requests} requests per page")
        print(f"{'page':28} {'server p50':>10} {'p95':>7} {'request p50':>12} {'p95':>7}  (ms)")
        for label, client, url in pages:
            measure(client, url, 5)
            server, wall = measure(client, url, args.requests)
            print(
                f"{label:28} {statistics.median(server):10.1f} {_p95(server):7.1f} "
                f"{statistics.median(wall):12.1f} {_p95(wall):7.1f}"
            )
    services.close()


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


if __name__ == "__main__":
    main()
