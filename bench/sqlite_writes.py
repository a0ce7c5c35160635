"""Concurrent creates on SQLite in one process, with and without the one-writer lock.

32 threads each create videos back to back through ``VideoService.create`` (validation, rights
screening, audit append, video + job insert), in a fresh ``MUTOSCOPE_HOME`` with the test
backend, and the latency of each create is recorded.

    python bench/sqlite_writes.py [--threads 32] [--creates 15] [--busy-wait]

``--busy-wait`` turns the process's write lock off (SQLite's busy handler alone, as before).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--creates", type=int, default=15)
    parser.add_argument("--busy-wait", action="store_true")
    args = parser.parse_args()
    os.environ.update(
        MUTOSCOPE_HOME=tempfile.mkdtemp(prefix="mutoscope-sqlite-"),
        MUTOSCOPE_ENABLE_TEST_BACKEND="1",
        MUTOSCOPE_DEFAULT_MODEL="mutoscope-test",
    )
    from mutoscope.storage import db

    if args.busy_wait:
        db.SqliteWriteLock.install = lambda self, engine: None  # type: ignore[method-assign]
    from mutoscope.config import Settings
    from mutoscope.services import build_services
    from mutoscope.users import UserService
    from mutoscope.videos import VideoCreate, VideoService

    services = build_services(Settings())
    user = UserService(services.sessions).get_or_create("bench")
    videos = VideoService(services)
    body = VideoCreate(prompt="a red circle moving left", size="720x1280")
    videos.create(user, body)  # warm up screening
    latencies: list[float] = []

    def run() -> None:
        for _ in range(args.creates):
            start = time.perf_counter()
            videos.create(user, body)
            latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=run) for _ in range(args.threads)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    services.close()
    ms = sorted(x * 1000 for x in latencies)
    mode = "busy-wait" if args.busy_wait else "one writer"
    print(
        f"{mode}: {len(ms)} creates, {args.threads} threads: {len(ms) / elapsed:.0f}/s, "
        f"p50 {ms[len(ms) // 2]:.0f} ms, p99 {ms[int(len(ms) * 0.99)]:.0f} ms, max {ms[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
