"""``mutoscope-test``: a deterministic, model-free backend for tests and benchmarks only.

It draws a square whose colour and path come from a hash of the prompt, with a quiet tone whose
pitch follows the square's height (unless ``options["audio"]`` is false), so tests see sound
on the default path as they would with the embedded model. It is registered only
when ``MUTOSCOPE_ENABLE_TEST_BACKEND=1``, and is never the default model.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING

import numpy as np

from mutoscope.backends.base import (
    GeneratedVideo,
    GenerationRequest,
    ProgressCallback,
    VideoBackend,
)

if TYPE_CHECKING:
    from mutoscope.backends.registry import Register
    from mutoscope.config import Settings
    from mutoscope.media.audio import AudioTrack


class TestPatternBackend(VideoBackend):
    """Renders a hashed test pattern; ``step_seconds`` slows it down for crash tests."""

    __test__ = False  # not a pytest class
    name = "mutoscope-test"
    description = "Deterministic test pattern (tests and benchmarks only; not a generative model)"
    accepts_image = True
    accepts_video = True
    continues = True
    accepts_references = True
    sizes = ("720x1280", "1280x720", "1024x1792", "1792x1024", "256x256", "320x180")
    request_options = frozenset({"steps", "guidance", "negative_prompt"})
    """``steps`` sets how many progress steps it reports; all three change the pattern."""

    def __init__(self, steps: int = 8, step_seconds: float = 0.0):
        self.steps = steps
        self.step_seconds = step_seconds
        self.calls = 0

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        from mutoscope.media.audio import audio_requested

        self.calls += 1
        # 1. Derive colours and motion from the prompt and seed
        key = f"{request.prompt}|{request.seed}"
        if picked := {k: request.options[k] for k in self.request_options if k in request.options}:
            key += "|" + json.dumps(picked, sort_keys=True)
        digest = hashlib.sha256(key.encode()).digest()
        fg = np.frombuffer(digest[:3], dtype=np.uint8)
        bg = 255 - fg
        # 2. "Denoise": report progress step by step (cancellation raises from the callback)
        steps = int(request.options.get("steps", self.steps))  # type: ignore[call-overload]
        for step in range(steps):
            if self.step_seconds:
                time.sleep(self.step_seconds)
            on_progress((step + 1) / steps)
        # 3. Render frames at the requested size
        count = round(int(request.seconds) * self.fps)
        w, h = request.width, request.height
        frames = np.empty((count, h, w, 3), dtype=np.uint8)
        frames[:] = bg
        if request.image is not None:
            ref = np.asarray(request.image.convert("RGB").resize((w, h)))
            frames[:] = (ref // 2 + bg // 2).astype(np.uint8)
        if request.mode == "extend" and request.source_video is not None:
            # "Continue" the parent: its last frame, dimmed, is the backdrop of the new frames
            last = request.source_video[-1]
            if last.shape[:2] == (h, w):
                frames[:] = (last // 2 + bg // 2).astype(np.uint8)
        if request.references:
            # A character keeps its look: the square takes the colour of the reference's
            # foreground (the pixels far from the border's colour).
            ref = np.asarray(request.references[0].convert("RGB")).astype(np.float32)
            border = np.concatenate([ref[0], ref[-1], ref[:, 0], ref[:, -1]])
            far = np.abs(ref - np.median(border, axis=0)).sum(-1) > 120
            fg = (ref[far].mean(0) if far.any() else ref.reshape(-1, 3).mean(0)).astype(np.uint8)
        side = max(8, min(w, h) // 5)
        heights = np.empty(count)
        for i in range(count):
            t = i / max(1, count - 1)
            x = int((w - side) * (0.5 + 0.45 * np.sin(2 * np.pi * t + digest[3])))
            y = int((h - side) * (0.5 + 0.45 * np.cos(2 * np.pi * t + digest[4])))
            frames[i, y : y + side, x : x + side] = fg
            heights[i] = 1 - y / max(1, h - side)
        # 4. A tone whose pitch follows the square's height (200-800 Hz)
        audio = _tone(heights, self.fps) if audio_requested(request.options) else None
        return GeneratedVideo(frames=frames, fps=self.fps, audio=audio)


def _tone(heights: np.ndarray, fps: float, rate: int = 16_000) -> AudioTrack:
    """Mono at 16 kHz (the encoder resamples to 48 kHz): ``heights`` (0-1) per frame."""
    from mutoscope.media.audio import AudioTrack

    n = round(len(heights) / fps * rate)
    freq = 200.0 * 4.0 ** np.repeat(heights, -(-n // len(heights)))[:n]
    phase = np.cumsum(freq) * (2 * np.pi / rate)
    return AudioTrack((0.1 * np.sin(phase)).astype(np.float32), rate)


def register_backends(register: Register, settings: Settings) -> None:
    if settings.enable_test_backend:
        import os

        step_seconds = float(os.environ.get("MUTOSCOPE_TEST_STEP_SECONDS", "0"))
        register(TestPatternBackend(step_seconds=step_seconds))
