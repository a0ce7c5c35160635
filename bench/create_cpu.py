"""CPU per accepted video, without HTTP: ``VideoService.create`` with real rights screening.

Measures the accept path's own cost (validate, screen, record the audit row, store the video
and job rows, commit) in one thread on the embedded SQLite database, as process CPU time, so
that a loaded machine inflates it less than wall-clock latency.

    python bench/create_cpu.py [--creates 200] [--rounds 5]

Prints the minimum and median CPU milliseconds per create over the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.rights.test_api import _services_on_test_backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import mutoscope
    from mutoscope.storage.records import UserRecord
    from mutoscope.videos import VideoCreate, VideoService

    _, services = _services_on_test_backend(Path(tempfile.mkdtemp()) / "home")
    user = UserRecord(id="user_bench", name="bench")
    with services.sessions.begin() as s:
        s.merge(user)
    videos = VideoService(services)

    def create() -> None:
        body = VideoCreate(prompt="a red circle moving left", size="720x1280", model="sora-2")
        videos.create(user, body)

    for _ in range(50):  # warm-up: indexes, caches, first connections
        create()
    per_create = []
    for _ in range(args.rounds):
        start = time.process_time()
        for _ in range(args.creates):
            create()
        per_create.append((time.process_time() - start) / args.creates * 1000)
    print(f"code: {Path(mutoscope.__file__).parent}")
    print(
        f"CPU ms/create: min {min(per_create):.2f} median {statistics.median(per_create):.2f} "
        f"({args.rounds} rounds of {args.creates}); audit verify ok: "
        f"{services.rights.audit.report().ok}"
    )
    services.close()


if __name__ == "__main__":
    main()
