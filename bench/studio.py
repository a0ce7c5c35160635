"""Studio page speed: the feed with 1,000 videos in the database (target: <= 100 ms).

Fills a fresh SQLite database with 1,000 published videos from 20 users (300 of them
remixes, 3,000 likes), then requests pages in-process and prints, per page, the server time
(the ``Server-Timing`` the studio reports: session lookup, queries and template rendering)
and the whole request through the ASGI stack (TestClient, no network).

    python bench/studio.py [--videos 1000] [--requests 200]

``--social`` measures the For You and Following feeds instead (target: p95 <= 50 ms): 10,000
published videos over 30 days from 1,000 users (30 % remixes), 50,000 likes and 50,000
follows, written to the database in bulk; the viewer follows 50 people.

    python bench/studio.py --social [--videos 10000] [--users 1000] [--requests 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert

from mutoscope.api.app import create_app
from mutoscope.backends.registry import load_backends
from mutoscope.backends.testing import register_backends
from mutoscope.config import Settings
from mutoscope.services import build_services
from mutoscope.storage.records import COMPLETED, UserRecord, VideoRecord, new_id, now
from mutoscope.studio.feeds import build_snapshot
from mutoscope.studio.records import LikeRecord
from mutoscope.studio.sessions import COOKIE
from mutoscope.studio.social_records import FollowRecord, ProfileRecord
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


def fill_social(sessions, videos: int, users: int, likes: int, follows: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Bulk rows for the feed benchmark; returns user ids (the first one follows 50 people)."""
    rng = random.Random(0)
    t = now()
    span = 30 * 86400
    user_ids = [f"user_{n:08d}" for n in range(users)]
    video_ids = [f"video_{n:010d}" for n in range(videos)]
    with sessions.begin() as s:
        s.execute(
            insert(UserRecord),
            [
                {"id": u, "name": f"user{n}", "is_admin": False, "created_at": t - span}
                for n, u in enumerate(user_ids)
            ],
        )
        s.execute(
            insert(ProfileRecord),
            [
                {
                    "user_id": u,
                    "handle": f"user{n}",
                    "handle_key": f"user{n}",
                    "bio": "",
                    "updated_at": t - span,
                }
                for n, u in enumerate(user_ids)
            ],
        )
        rows = []
        for n, vid in enumerate(video_ids):
            published = t - span + n * span // videos
            parent = video_ids[rng.randrange(n)] if n and rng.random() < 0.3 else None
            rows.append(
                {
                    "id": vid,
                    "owner_id": rng.choice(user_ids),
                    "model": "mutoscope-test",
                    "backend": "mutoscope-test",
                    "status": COMPLETED,
                    "progress": 100,
                    "prompt": " ".join(rng.choices(WORDS, k=12)),
                    "size": "720x1280",
                    "seconds": "4",
                    "seed": 0,
                    "mode": "remix" if parent else "create",
                    "remixed_from_video_id": parent,
                    "created_at": published - 10,
                    "completed_at": published - 5,
                    "published_at": published,
                    "attributions": [],
                    "provenance": {},
                    "duration": 4.0,
                    "frame_count": 96,
                }
            )
        s.execute(insert(VideoRecord), rows)
        liked: set[tuple[str, str]] = set()
        while len(liked) < likes:
            liked.add((rng.choice(user_ids), rng.choice(video_ids)))
        s.execute(
            insert(LikeRecord),
            [
                {"user_id": u, "video_id": v, "created_at": t - rng.randrange(span)}
                for u, v in liked
            ],
        )
        viewer = user_ids[0]
        followed = {(viewer, u) for u in rng.sample(user_ids[1:], 50)}
        while len(followed) < follows:
            a, b = rng.choice(user_ids[1:]), rng.choice(user_ids)
            if a != b:
                followed.add((a, b))
        s.execute(
            insert(FollowRecord),
            [{"follower_id": a, "followee_id": b, "created_at": t - span} for a, b in followed],
        )
    return user_ids


def social_pages(app, services, args) -> None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    users = fill_social(services.sessions, args.videos, args.users, args.likes, args.follows)
    print(
        f"seeded {args.videos} videos, {args.users} users, {args.likes} likes, {args.follows} "
        f"follows in {time.perf_counter() - started:.1f} s"
    )
    with TestClient(app) as anonymous:
        anonymous.get("/for-you")
        viewer = TestClient(app)
        viewer.cookies.set(COOKIE, app.state.studio.store.start(users[0]))
        second = viewer.get("/for-you").text.split('href="/for-you?cursor=')[1].split('"')[0]
        following = viewer.get("/following").text.split('href="/following?cursor=')[1]
        pages = [
            ("For You (signed in)", viewer, "/for-you"),
            ("For You (anonymous)", anonymous, "/for-you"),
            ("For You, next page", viewer, f"/for-you?cursor={second}"),
            ("Following", viewer, "/following"),
            ("Following, next page", viewer, f"/following?cursor={following.split(chr(34))[0]}"),
            ("phone feed (/watch)", viewer, "/watch"),
            ("profile", viewer, "/@user1"),
            ("feed, most remixed", viewer, "/feed?sort=remixed"),
        ]
        _report(pages, args.requests)
    # The shared For You snapshot is rebuilt every 10 s, in the background (off the request path).
    feeds = app.state.studio.feeds
    builds = []
    for n in range(5):
        started = time.perf_counter()
        build_snapshot(services.sessions, feeds.moment() - 10 * (n + 10))
        builds.append((time.perf_counter() - started) * 1000)
    print(
        f"For You snapshot rebuild (every 10 s, in the background): "
        f"median {statistics.median(builds):.0f} ms"
    )


def _report(pages, requests: int) -> None:  # type: ignore[no-untyped-def]
    print(f"{'page':28} {'server p50':>10} {'p95':>7} {'request p50':>12} {'p95':>7}  (ms)")
    for label, client, url in pages:
        measure(client, url, 5)
        server, wall = measure(client, url, requests)
        print(
            f"{label:28} {statistics.median(server):10.1f} {_p95(server):7.1f} "
            f"{statistics.median(wall):12.1f} {_p95(wall):7.1f}"
        )


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
    parser.add_argument("--videos", type=int, default=None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--social", action="store_true", help="For You / Following feeds")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--likes", type=int, default=50_000)
    parser.add_argument("--follows", type=int, default=50_000)
    args = parser.parse_args()
    args.videos = args.videos or (10_000 if args.social else 1000)

    home = Path(tempfile.mkdtemp(prefix="mutoscope-bench-"))
    settings = Settings(home=home, enable_test_backend=True, default_model="mutoscope-test")
    services = build_services(
        settings,
        backends=load_backends(settings, hooks=[register_backends]),
        rights=NullRights(),
        provenance=NullProvenance(),
    )
    app = create_app(settings, services=services, run_worker=False)
    if args.social:
        social_pages(app, services, args)
        services.close()
        return
    ids = fill(services.sessions, args.videos)
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
