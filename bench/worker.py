"""End-to-end job time on the embedded model, and what each provenance step adds.

Runs whole jobs through the real worker (generate -> check -> watermark -> encode -> sign ->
store) with the default ``mutoscope-tiny`` backend, alternating watermark on and off in one
process so both see the same machine load, and prints medians and the watermark's share.

    python bench/worker.py [--runs 5] [--size 1280x720] [--seconds 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--seconds", default="4")
    args = parser.parse_args()

    from mutoscope.config import Settings
    from mutoscope.services import build_services
    from mutoscope.users import LOCAL_USER, UserService
    from mutoscope.videos import VideoCreate, VideoService
    from mutoscope.worker.pool import Worker

    home = Path(tempfile.mkdtemp(prefix="mutoscope-bench-"))
    settings = Settings(home=home)
    services = build_services(settings)
    user = UserService(services.sessions).get_or_create(LOCAL_USER)
    videos, worker = VideoService(services), Worker(services)

    def job(watermark: bool, seed: int) -> float:
        settings.watermark = watermark
        body = VideoCreate(
            prompt="a red circle moving left on a blue background",
            size=args.size,
            seconds=args.seconds,
            seed=seed,
        )
        record = videos.create(user, body)
        start = time.perf_counter()
        claimed = services.queue.claim(worker.worker_id, video_id=record.id)
        assert claimed is not None
        worker.run_one(claimed)
        return time.perf_counter() - start

    job(True, 0)  # warm-up: loads the model, MiniLM and the signing keys
    times: dict[bool, list[float]] = {True: [], False: []}
    for i in range(args.runs):
        for flag in (False, True):
            times[flag].append(job(flag, i + 1))
    off, on = statistics.median(times[False]), statistics.median(times[True])
    print(
        f"mutoscope-tiny, {args.seconds}-s clip at {args.size}, {args.runs} runs each, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"job without watermark (generate+encode+sign+store): median {off:.2f} s")
    print(f"job with watermark:                                 median {on:.2f} s")
    print(f"watermark adds {on - off:.2f} s = {100 * (on - off) / off:+.1f} % of the job")
    services.close()


if __name__ == "__main__":
    main()
