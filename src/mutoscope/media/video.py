"""MP4 (H.264, yuv420p, faststart; AAC 48 kHz audio when there is sound) encode and decode with
PyAV; thumbnails and spritesheets."""

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

from mutoscope.media.audio import AAC_RATE, AudioTrack

PRESET = "superfast"
PRESET_PARAMS = "mbtree=1:rc-lookahead=10"
"""x264's superfast with veryfast's macroblock tree (the default until issue 19): the same
size and PSNR as veryfast on the embedded model's clips (241 vs 238 kB, 43.34 vs 43.30 dB for
4 s at 1280x720) for two thirds of its CPU time (0.66 vs 0.98 s); ``bench/cli.py``."""

AAC_BIT_RATE = 128_000
#: Audio held back while video is still coming, so the last 5 ms can fade out at the cut.
_AUDIO_RESERVE = AAC_RATE // 10


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int
    duration: float
    """Seconds, from the container (encoder priming and padding excluded)."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    frame_count: int
    fps: float
    duration: float
    audio: AudioInfo | None = None


def encode_mp4(
    frames: np.ndarray,
    path: Path | str,
    *,
    fps: float = 24.0,
    crf: int = 20,
    preset: str = PRESET,
    audio: AudioTrack | None = None,
) -> None:
    """Write (T, H, W, 3) uint8 RGB frames as H.264/yuv420p MP4 with the moov atom up front,
    and ``audio`` (if any) as AAC at 48 kHz, padded or cut to the frames' duration."""
    with MP4Writer(path, fps=fps, crf=crf, preset=preset, audio=audio) as writer:
        writer.write(frames)


class MP4Writer:
    """Encode frames chunk by chunk (H.264/yuv420p, faststart), so no caller needs the whole clip
    in memory: ``with MP4Writer(path, fps=24) as w: w.write(chunk); w.write(chunk2)``.

    With ``audio``, the file also carries it as AAC (48 kHz, mono or stereo), interleaved with
    the video as the frames arrive and padded with silence or cut (with a 5 ms fade) so that it
    ends with the last frame.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        fps: float = 24.0,
        crf: int = 20,
        preset: str = PRESET,
        audio: AudioTrack | None = None,
    ) -> None:
        self.rate = Fraction(fps).limit_denominator(1001)
        self.crf, self.preset = crf, preset
        self.out = av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"})
        self.stream: av.VideoStream | None = None
        self.count = 0
        self.audio = _for_aac(audio) if audio is not None else None
        self.audio_stream: av.AudioStream | None = None
        self.audio_pos = 0

    def write(self, frames: np.ndarray) -> None:
        """Append (T, H, W, 3) uint8 RGB frames (all chunks the same size)."""
        frames = _even(frames)
        if self.stream is None:
            stream = self.out.add_stream("libx264", rate=self.rate)
            stream.width, stream.height = frames.shape[2], frames.shape[1]
            stream.pix_fmt = "yuv420p"
            options: dict[str, object] = {"crf": str(self.crf), "preset": self.preset}
            if self.preset == PRESET:
                options["x264-params"] = PRESET_PARAMS
            stream.options = options
            stream.codec_context.time_base = 1 / self.rate
            self.stream = stream
            if self.audio is not None:  # every stream must exist before the first packet
                self.audio_stream = self._add_audio_stream(self.audio.channels)
        elif (frames.shape[2], frames.shape[1]) != (self.stream.width, self.stream.height):
            raise ValueError("every chunk must have the size of the first")
        import cv2

        for frame in frames:
            # OpenCV's RGB -> I420 (BT.601, limited range: swscale's default for yuv420p, luma
            # within 1 level) takes 0.4 ms a 720p frame where the encoder's swscale took 6 ms.
            yuv = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420)
            vf = av.VideoFrame.from_ndarray(np.asarray(yuv, np.uint8), format="yuv420p")
            vf.pts = self.count
            self.count += 1
            self.out.mux(self.stream.encode(vf))
        self._write_audio(self._audio_samples_at(self.count) - _AUDIO_RESERVE)

    def _add_audio_stream(self, channels: int) -> av.AudioStream:
        stream = self.out.add_stream("aac", rate=AAC_RATE)
        stream.codec_context.layout = "stereo" if channels == 2 else "mono"
        stream.codec_context.format = "fltp"
        stream.codec_context.bit_rate = AAC_BIT_RATE
        return stream

    def _audio_samples_at(self, frames: int) -> int:
        return round(frames / self.rate * AAC_RATE)

    def _write_audio(self, until: int, *, fade: bool = False) -> None:
        """Encode the soundtrack up to sample ``until`` (silence past its end)."""
        if self.audio is None or self.audio_stream is None or until <= self.audio_pos:
            return
        chunk = self.audio.samples[:, self.audio_pos : until]
        if chunk.shape[1] < until - self.audio_pos:
            pad = np.zeros((chunk.shape[0], until - self.audio_pos - chunk.shape[1]), np.float32)
            chunk = np.concatenate([chunk, pad], axis=1)
        chunk = np.clip(np.nan_to_num(chunk), -1.0, 1.0)
        if fade and self.audio.length > until:  # cut mid-sound: fade out instead of a click
            n = min(chunk.shape[1], AAC_RATE // 200)
            chunk[:, chunk.shape[1] - n :] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
        layout = self.audio_stream.codec_context.layout.name
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(chunk), format="fltp", layout=layout
        )
        frame.sample_rate, frame.pts = AAC_RATE, self.audio_pos
        frame.time_base = Fraction(1, AAC_RATE)
        self.out.mux(self.audio_stream.encode(frame))
        self.audio_pos = until

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
                if self.audio_stream is not None:
                    self._write_audio(self._audio_samples_at(self.count), fade=True)
                    self.out.mux(self.audio_stream.encode(None))
        finally:
            self.out.close()


def _for_aac(track: AudioTrack) -> AudioTrack:
    """``track`` at 48 kHz in one or two channels (more are mixed down to stereo)."""
    if track.channels > 2:
        track = track.with_channels(1).with_channels(2)
    return track.resampled(AAC_RATE)


def read_audio(source: Path | str | bytes) -> AudioTrack | None:
    """The first audio stream as float32 (channels, n) at its own rate, cut to the duration the
    container gives it (without the encoder's padding); ``None`` when the file has no sound."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with av.open(handle, mode="r") as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or AAC_RATE
        channels = stream.codec_context.channels or 1
        resampler = av.AudioResampler(format="fltp", layout=stream.codec_context.layout, rate=rate)
        parts: list[np.ndarray] = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(channels, -1))
        for out in resampler.resample(None):
            parts.append(out.to_ndarray().reshape(channels, -1))
        samples = np.concatenate(parts, axis=1) if parts else np.zeros((channels, 0), np.float32)
        duration = _stream_seconds(stream)
        if duration is not None:
            samples = samples[:, : round(duration * rate)]
        return AudioTrack(samples, rate)


def audio_info(container: av.container.InputContainer) -> AudioInfo | None:
    """The first audio stream of an open file, read from its headers (no decoding)."""
    if not container.streams.audio:
        return None
    stream = container.streams.audio[0]
    duration = _stream_seconds(stream)
    if duration is None and container.duration:
        duration = container.duration / av.time_base
    return AudioInfo(
        codec=stream.codec_context.name,
        sample_rate=int(stream.codec_context.sample_rate or 0),
        channels=int(stream.codec_context.channels or 0),
        duration=float(duration or 0.0),
    )


def _stream_seconds(stream: av.stream.Stream) -> float | None:
    if stream.duration is None or stream.time_base is None:
        return None
    return float(stream.duration * stream.time_base)


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
        sound = audio_info(container)
        return VideoInfo(stream.width, stream.height, count, fps, count / fps, sound)


def probe_header(source: Path | str) -> VideoInfo:
    """Size and rate from the container header, and the frame count from its packets (no
    decoding); the duration follows from them."""
    with av.open(str(source), mode="r") as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 24)
        count = sum(1 for p in container.demux(stream) if p.size)
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
