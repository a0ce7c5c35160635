"""End-to-end job time on the embedded model, and what the watermark adds.

Runs whole jobs through the real worker (generate -> check -> watermark -> encode -> sign ->
store) with the default ``mutoscope-tiny`` backend, alternating watermark off and on in one
process so every variant sees the same machine load, and prints medians of wall and CPU time
(CPU time counts every thread of this process, so it moves less with the load of others).

    python bench/worker.py [--runs 5] [--size 1280x720] [--seconds 4]

``--against FILE`` adds a third variant: the ``Watermarker`` class from another version of
``watermark.py``, for a before/after in one process:

    git show REV:src/mutoscope/provenance/watermark.py > /tmp/old_watermark.py
    python bench/worker.py --runs 7 --against /tmp/old_watermark.py
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def load_watermarker(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("other_watermark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.Watermarker()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--seconds", default="4")
    parser.add_argument("--against", help="another watermark.py to time as well")
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
    provenance = services.provenance
    markers = {"off": None, "on": provenance.watermarker}
    if args.against:
        markers["against"] = load_watermarker(args.against)

    # time the watermark step itself (payload row + embed) inside the real job
    step: list[float] = []
    stamp = provenance.watermark

    def timed_watermark(frames: Any, *, video_id: str) -> Any:
        start = time.perf_counter()
        try:
            return stamp(frames, video_id=video_id)
        finally:
            step.append(time.perf_counter() - start)

    provenance.watermark = timed_watermark  # type: ignore[method-assign]

    def job(variant: str, seed: int) -> tuple[float, float, float]:
        marker = markers[variant]
        settings.watermark = marker is not None
        if marker is not None:
            provenance.watermarker = marker
        body = VideoCreate(
            prompt="a red circle moving left on a blue background",
            size=args.size,
            seconds=args.seconds,
            seed=seed,
        )
        record = videos.create(user, body)
        step.clear()
        start, cpu = time.perf_counter(), time.process_time()
        claimed = services.queue.claim(worker.worker_id, video_id=record.id)
        assert claimed is not None
        worker.run_one(claimed)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        return wall, cpu, sum(step) if marker is not None else 0.0

    for variant in markers:  # warm-up: loads the model, MiniLM and the signing keys
        job(variant, 0)
    times: dict[str, list[tuple[float, float, float]]] = {v: [] for v in markers}
    for i in range(args.runs):
        for variant in markers:
            times[variant].append(job(variant, i + 1))
    med = {v: [statistics.median(r[k] for r in times[v]) for k in range(3)] for v in markers}
    print(
        f"mutoscope-tiny, {args.seconds}-s clip at {args.size}, {args.runs} runs each, "
        f"load average {os.getloadavg()[0]:.1f} (2-core box)"
    )
    base_wall, base_cpu, _ = med["off"]
    print(f"job without watermark: median wall {base_wall:.2f} s, CPU {base_cpu:.2f} s")
    for variant in markers:
        if variant == "off":
            continue
        wall, cpu, mark = med[variant]
        name = "with watermark" if variant == "on" else f"with {args.against}"
        print(
            f"job {name}: median wall {wall:.2f} s ({100 * (wall / base_wall - 1):+.1f} %), "
            f"CPU {cpu:.2f} s ({100 * (cpu / base_cpu - 1):+.1f} %); "
            f"watermark step {mark:.3f} s ({100 * mark / base_wall:.1f} % of the job)"
        )
    services.close()


if __name__ == "__main__":
    main()
