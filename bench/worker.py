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
from collections.abc import Callable
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
    measure(parser.parse_args())


def measure(args: argparse.Namespace) -> dict[str, float]:
    """Run the paired jobs and print the figures; returns the watermark's paired shares (%):
    ``wall``, ``cpu`` and ``steps`` (watermark step + encode change over the job without)."""
    from mutoscope.config import Settings
    from mutoscope.services import build_services
    from mutoscope.users import LOCAL_USER, UserService
    from mutoscope.videos import VideoCreate, VideoService
    from mutoscope.worker import run as run_module
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

    # time the watermark and encode steps inside the real job
    steps: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                steps[name] = steps.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    provenance.watermark = timed("mark", provenance.watermark)  # type: ignore[method-assign]
    run_module.encode_mp4 = timed("encode", run_module.encode_mp4)
    # with the watermark on, the worker encodes in a thread as frames are marked: what the job
    # waits for then is the encoder's finish
    encoder = run_module.MarkedEncoder
    encoder.finish = timed("encode", encoder.finish)  # type: ignore[method-assign]

    def job(variant: str, seed: int) -> dict[str, float]:
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
        steps.clear()
        start, cpu = time.perf_counter(), time.process_time()
        claimed = services.queue.claim(worker.worker_id, video_id=record.id)
        assert claimed is not None
        worker.run_one(claimed)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        return {"wall": wall, "cpu": cpu, "mark": 0.0, "encode": 0.0, **steps}

    for variant in markers:  # warm-up: loads the model, MiniLM and the signing keys
        job(variant, 0)
    rounds: list[dict[str, dict[str, float]]] = []
    order = list(markers)
    for i in range(args.runs):  # each variant once per round, same seed, rotating order
        turn = order[i % len(order) :] + order[: i % len(order)]
        rounds.append({variant: job(variant, i + 1) for variant in turn})

    def med(variant: str, key: str) -> float:
        return statistics.median(r[variant][key] for r in rounds)

    def paired(variant: str, key: str) -> float:
        """Median over rounds of variant / off - 1: cancels load that drifts between rounds."""
        return 100 * statistics.median(r[variant][key] / r["off"][key] - 1 for r in rounds)

    print(
        f"mutoscope-tiny, {args.seconds}-s clip at {args.size}, {args.runs} rounds, "
        f"load average {os.getloadavg()[0]:.1f} (2-core box)"
    )
    base = med("off", "wall")
    print(
        f"job without watermark: median wall {base:.2f} s, CPU {med('off', 'cpu'):.2f} s; "
        f"encode step {med('off', 'encode'):.2f} s"
    )
    shares: dict[str, float] = {}
    for variant in markers:
        if variant == "off":
            continue
        name = "with watermark" if variant == "on" else f"with {args.against}"
        mark = med(variant, "mark")
        extra = statistics.median(r[variant]["encode"] - r["off"]["encode"] for r in rounds)
        print(
            f"job {name}: median wall {med(variant, 'wall'):.2f} s "
            f"(paired {paired(variant, 'wall'):+.1f} %), CPU {med(variant, 'cpu'):.2f} s "
            f"(paired {paired(variant, 'cpu'):+.1f} %)\n"
            f"  watermark step {mark:.3f} s + encode {extra:+.3f} s = "
            f"{100 * (mark + extra) / base:+.1f} % of the job without watermark"
        )
        if variant == "on":
            shares = {
                "wall": paired(variant, "wall"),
                "cpu": paired(variant, "cpu"),
                "steps": 100 * (mark + extra) / base,
            }
    services.close()
    return shares


if __name__ == "__main__":
    main()
