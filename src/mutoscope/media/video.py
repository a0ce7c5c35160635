"""MP4 (H.264, yuv420p, faststart) encode and decode with PyAV; thumbnails and spritesheets."""

from __future__ import annotations

import io
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
from PIL import Image

PRESET = "superfast"
PRESET_PARAMS = "mbtree=1:rc-lookahead=10"
"""x264's superfast with veryfast's macroblock tree (the default until issue 19): the same
size and PSNR as veryfast on the embedded model's clips (241 vs 238 kB, 43.34 vs 43.30 dB for
4 s at 1280x720) for two thirds of its CPU time (0.66 vs 0.98 s); ``bench/cli.py``."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    frame_count: int
    fps: float
    duration: float


def encode_mp4(
    frames: np.ndarray,
    path: Path | str,
    *,
    fps: float = 24.0,
    crf: int = 20,
    preset: str = PRESET,
) -> None:
    """Write (T, H, W, 3) uint8 RGB frames as H.264/yuv420p MP4 with the moov atom up front."""
    with MP4Writer(path, fps=fps, crf=crf, preset=preset) as writer:
        writer.write(frames)


class MP4Writer:
    """Encode frames chunk by chunk (H.264/yuv420p, faststart), so no caller needs the whole clip
    in memory: ``with MP4Writer(path, fps=24) as w: w.write(chunk); w.write(chunk2)``."""

    def __init__(
        self, path: Path | str, *, fps: float = 24.0, crf: int = 20, preset: str = PRESET
    ) -> None:
        self.rate = Fraction(fps).limit_denominator(1001)
        self.crf, self.preset = crf, preset
        self.out = av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"})
        self.stream: av.VideoStream | None = None
        self.count = 0

    def write(self, frames: np.ndarray) -> None:
        """Append (T, H, W, 3) uint8 RGB frames (all chunks the same size)."""
        frames = _even(frames)
        if self.stream is None:
            stream = self.out.add_stream("libx264", rate=self.rate)
            stream.width, stream.height = frames.shape[2], frames.shape[1]
            stream.pix_fmt = "yuv420p"
            options = {"crf": str(self.crf), "preset": self.preset}
            if self.preset == PRESET:
                options["x264-params"] = PRESET_PARAMS
            stream.options = options
            stream.codec_context.time_base = 1 / self.rate
            self.stream = stream
        elif (frames.shape[2], frames.shape[1]) != (self.stream.width, self.stream.height):
            raise ValueError("every chunk must have the size of the first")
        import cv2

        for frame in frames:
            # OpenCV's RGB -> I420 (BT.601, limited range: swscale's default for yuv420p, luma
            # within 1 level) takes 0.4 ms a 720p frame where the encoder's swscale took 6 ms.
            yuv = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420)
            vf = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            vf.pts = self.count
            self.count += 1
            self.out.mux(self.stream.encode(vf))

    def __enter__(self) -> MP4Writer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                if self.stream is None:
                    raise ValueError("no video frames were written")
                self.out.mux(self.stream.encode(None))
        finally:
            self.out.close()


def iter_mp4(source: Path | str | bytes) -> Iterator[np.ndarray]:
    """Yield the video frames one at a time as (H, W, 3) uint8 RGB (never the whole clip)."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with av.open(handle, mode="r") as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def count_frames(source: Path | str) -> int:
    """The number of video frames, counted from the packets (no decoding)."""
    with av.open(str(source), mode="r") as container:
        stream = container.streams.video[0]
        return sum(1 for p in container.demux(stream) if p.size)


def decode_tail(source: Path | str | bytes, count: int) -> np.ndarray:
    """The last ``count`` frames as (T, H, W, 3); at most ``count`` are held while decoding."""
    tail: deque[np.ndarray] = deque(iter_mp4(source), maxlen=max(1, count))
    if not tail:
        raise ValueError("no video frames could be decoded")
    return np.stack(tail)


def decode_sampled(source: Path | str, count: int) -> np.ndarray:
    """Up to ``count`` evenly spaced frames of the clip, holding only those while decoding."""
    total = count_frames(source)
    if total == 0:
        raise ValueError("no video frames could be decoded")
    picks = set(np.linspace(0, total - 1, num=min(count, total)).round().astype(int).tolist())
    kept = [f for i, f in enumerate(iter_mp4(source)) if i in picks]
    if not kept:
        raise ValueError("no video frames could be decoded")
    return np.stack(kept)


def decode_mp4(source: Path | str | bytes, *, max_frames: int | None = None) -> np.ndarray:
    """Decode every video frame as (T, H, W, 3) uint8 RGB."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    frames = []
    with av.open(handle, mode="r") as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if max_frames is not None and len(frames) >= max_frames:
                break
    if not frames:
        raise ValueError("no video frames could be decoded")
    return np.stack(frames)


def probe(source: Path | str | bytes) -> VideoInfo:
    """Size, frame count, rate and duration, counted by decoding (not from the header)."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with av.open(handle, mode="r") as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 24)
        count = sum(1 for _ in container.decode(video=0))
        return VideoInfo(stream.width, stream.height, count, fps, count / fps)


def thumbnail(frames: np.ndarray, path: Path | str, *, max_side: int = 640) -> None:
    """A JPEG poster from the middle of the clip."""
    image = Image.fromarray(frames[len(frames) // 2])
    image.thumbnail((max_side, max_side))
    image.save(path, format="JPEG", quality=85)


def spritesheet(
    frames: np.ndarray, path: Path | str, *, count: int = 16, tile_width: int = 160
) -> None:
    """A JPEG grid of ``count`` evenly spaced frames (for hover-scrubbing)."""
    picks = np.linspace(0, len(frames) - 1, num=min(count, len(frames))).round().astype(int)
    h, w = frames.shape[1:3]
    tile_h = max(2, round(h * tile_width / w))
    cols = math.ceil(math.sqrt(len(picks)))
    rows = math.ceil(len(picks) / cols)
    sheet = Image.new("RGB", (cols * tile_width, rows * tile_h))
    for n, i in enumerate(picks):
        tile = Image.fromarray(frames[i]).resize((tile_width, tile_h), Image.Resampling.BILINEAR)
        sheet.paste(tile, ((n % cols) * tile_width, (n // cols) * tile_h))
    sheet.save(path, format="JPEG", quality=80)


def resize_frames(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize every frame (bicubic) to ``width`` x ``height``."""
    if frames.shape[2] == width and frames.shape[1] == height:
        return frames
    return np.stack(
        [
            np.asarray(Image.fromarray(f).resize((width, height), Image.Resampling.BICUBIC))
            for f in frames
        ]
    )


def _even(frames: np.ndarray) -> np.ndarray:
    """yuv420p needs even dimensions: crop one pixel where needed."""
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    h, w = frames.shape[1] // 2 * 2, frames.shape[2] // 2 * 2
    return frames[:, :h, :w]
