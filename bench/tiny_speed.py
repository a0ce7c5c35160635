"""Wall time of ``mutoscope-tiny`` for one clip at default settings (median of 5 warm runs).

    python bench/tiny_speed.py [--size 1280x720] [--seconds 4] [--runs 5] [--threads 2]
    python bench/tiny_speed.py --before    # the rendering before the object layers

Prints the cold first call (weights and MiniLM loading included), the warm median in seconds
and as a multiple of real time (clip seconds / wall seconds; above 1 is faster than real time),
and the warm median of the process's CPU time (steadier than wall time on a loaded machine).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.tiny import TinyBackend

PROMPT = "a scarlet triangle bouncing on a blue backdrop"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--size", default="1280x720")
    p.add_argument("--seconds", default="4")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--before", action="store_true", help="render as before the object layers")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    backend = TinyBackend(steps=args.steps)
    options: dict[str, object] = {"layers": not args.before}
    request = GenerationRequest(
        prompt=PROMPT, size=args.size, seconds=args.seconds, seed=0, options=options
    )
    t0 = time.perf_counter()
    video = backend.generate(request, lambda _f: None)
    cold = time.perf_counter() - t0
    times, cpu = [], []
    for i in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        backend.generate(
            GenerationRequest(
                prompt=PROMPT, size=args.size, seconds=args.seconds, seed=i + 1, options=options
            ),
            lambda _f: None,
        )
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    median = statistics.median(times)
    clip = float(args.seconds)
    print(
        f"# mutoscope-tiny, {args.size}, {args.seconds} s ({len(video.frames)} frames), "
        f"{backend.steps} steps, {args.threads} threads"
        + (", previous rendering" if args.before else "")
    )
    print(f"cold first call: {cold:.2f} s")
    print(f"warm runs: {', '.join(f'{t:.2f}' for t in times)} s")
    print(f"median: {median:.2f} s  ({clip / median:.1f}x real time)")
    print(
        f"CPU time: {', '.join(f'{t:.2f}' for t in cpu)} s; median {statistics.median(cpu):.3f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
