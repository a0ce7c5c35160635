"""What sound adds to a default ``mutoscope generate`` (4 s, 720x1280, mutoscope-tiny).

    python bench/audio.py [--size 720x1280] [--seconds 4] [--runs 7]

Generates one clip with the shipped model (once, not timed), then times the two steps sound
adds: the soundtrack (follow the objects through the keyframes, synthesise the tones and
knocks) and the AAC encode (a 16x16 clip of the same length encoded with and without the
sound: the difference is the audio's share; at full size the H.264 encode's own run-to-run
spread hides it). Prints the median CPU seconds (process time: less sensitive to other load
on a shared machine than wall time) and wall seconds of each, and the added total.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mutoscope.backends.base import GenerationRequest
from mutoscope.backends.tiny import TinyBackend
from mutoscope.media import encode_mp4
from mutoscope.models.tiny.soundtrack import soundtrack

PROMPT = "a scarlet circle bouncing on a blue backdrop"


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median (CPU seconds, wall seconds) of ``runs`` calls."""
    cpu, wall = [], []
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--size", default="720x1280")
    p.add_argument("--seconds", default="4")
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args(argv)

    # 1. One clip from the shipped model (its keyframes and frames are what the steps see)
    backend = TinyBackend()
    request = GenerationRequest(prompt=PROMPT, size=args.size, seconds=args.seconds, seed=0)
    made = backend.generate(request, lambda _f: None)
    out = backend._load()(PROMPT, num_frames=len(made.frames), width=64, height=64)
    positions = out.frame_positions()
    assert made.audio is not None

    # 2. Time the soundtrack, and the encode with and without it
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        synth = timed(lambda: soundtrack(out.keyframes, positions, made.fps), args.runs)
        small = made.frames[:, :16, :16].copy()
        silent = timed(lambda: encode_mp4(small, path, fps=made.fps), args.runs)
        sound = timed(lambda: encode_mp4(small, path, fps=made.fps, audio=made.audio), args.runs)
    added = (synth[0] + sound[0] - silent[0], synth[1] + sound[1] - silent[1])

    # 3. Report
    print(f"clip: {args.seconds} s at {args.size}, {len(made.frames)} frames; runs: {args.runs}")
    print(f"{'step':<28}{'CPU s':>8}{'wall s':>8}")
    print(f"{'soundtrack (tiny)':<28}{synth[0]:>8.3f}{synth[1]:>8.3f}")
    print(f"{'encode 16x16, video only':<28}{silent[0]:>8.3f}{silent[1]:>8.3f}")
    print(f"{'encode 16x16, video + AAC':<28}{sound[0]:>8.3f}{sound[1]:>8.3f}")
    print(f"{'added by sound':<28}{added[0]:>8.3f}{added[1]:>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
