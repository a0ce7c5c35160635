"""Source clips for edits and extensions: a stored video by id, or a clip the caller uploads.

``POST /v1/videos/edits`` and ``POST /v1/videos/extensions`` take ``video`` as an upload
(multipart), ``{"id": "video_..."}`` or ``{"file_id": "file-..."}``. An uploaded clip is
checked here (it decodes, it is not too long or too large) before anything is queued; the
worker later re-times and crops it to the model's frame rate and the video's size
(:func:`normalize_clip`), streaming, so memory does not grow with the clip's length.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps

from mutoscope.errors import InvalidRequest
from mutoscope.media import MP4Writer, VideoInfo, iter_mp4
from mutoscope.storage.records import VideoRecord

NORMALIZE_CHUNK = 24
"""Frames re-timed and cropped at a time while normalizing an uploaded clip."""


@dataclass(frozen=True)
class SourceClip:
    """What an edit or extension starts from: a stored video, or uploaded bytes."""

    parent: VideoRecord | None = None
    upload: bytes | None = None
    info: VideoInfo | None = None
    """The upload's size, frame count and rate (``None`` for a stored video)."""

    @property
    def duration(self) -> float:
        if self.info is not None:
            return self.info.duration
        assert self.parent is not None
        return self.parent.duration or float(self.parent.seconds or 0)


def probe_clip(data: bytes, *, max_seconds: float, max_pixels: int, param: str) -> VideoInfo:
    """Size, frames and rate of an uploaded clip; 400 if it is not a video this can use.

    Frames are counted from the packets and only the first is decoded, so this is quick."""
    if not data:
        raise InvalidRequest("video is empty; upload an MP4 (H.264) clip", param=param)
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidRequest(
                    "video has no video stream; upload an MP4 (H.264) clip", param=param
                )
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            width, height = stream.width, stream.height
            count = sum(1 for p in container.demux(stream) if p.size)
        next(iter_mp4(data))  # the first frame decodes
    except (av.FFmpegError, StopIteration, ValueError) as exc:
        raise InvalidRequest(
            "video could not be decoded; upload an MP4 (H.264), WebM or QuickTime clip",
            param=param,
        ) from exc
    if not (fps > 0 and count > 0 and width > 0 and height > 0):
        raise InvalidRequest("video has no frames to use", param=param)
    if width * height > max_pixels:
        raise InvalidRequest(
            f"video frames are {width}x{height}; at most {max_pixels:,} pixels per frame "
            "(MUTOSCOPE_MAX_IMAGE_PIXELS)",
            param=param,
        )
    info = VideoInfo(width, height, count, fps, count / fps)
    if info.duration > max_seconds:
        raise InvalidRequest(
            f"video is {info.duration:.1f} s long; at most {max_seconds:g} s "
            "(MUTOSCOPE_MAX_TOTAL_SECONDS)",
            param=param,
        )
    return info


def nearest_size(width: int, height: int, sizes: tuple[str, ...]) -> str:
    """The model size for a ``width`` x ``height`` clip: its own if offered, else the one of
    the nearest aspect ratio (then the nearest area); the clip is cropped to it, never
    stretched."""
    own = f"{width}x{height}"
    if own in sizes:
        return own

    def distance(size: str) -> tuple[float, float]:
        w, h = (int(v) for v in size.split("x"))
        return (abs(math.log((w / h) / (width / height))), abs(math.log(w * h / (width * height))))

    return min(sizes, key=distance)


def format_seconds(seconds: float) -> str:
    """``8.0`` -> ``"8"``, ``6.5`` -> ``"6.5"`` (the wire's ``seconds`` is a string)."""
    return f"{round(seconds, 2):g}"


def crop_resize(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """Centre-crop every frame to the target aspect ratio, then resize (no stretching)."""
    if frames.shape[1:3] == (height, width):
        return frames
    return np.stack([np.asarray(ImageOps.fit(Image.fromarray(f), (width, height))) for f in frames])


def retimed(frames: Iterator[np.ndarray], fps_in: float, fps_out: float) -> Iterator[np.ndarray]:
    """The frames of a ``fps_in`` clip shown at ``fps_out`` (nearest frame in time: frames are
    repeated or dropped, so the clip keeps its duration)."""
    emitted = 0
    for index, frame in enumerate(frames):
        end = (index + 1) / fps_in  # this frame is on screen until ``end``
        while (emitted + 0.5) / fps_out <= end:
            yield frame
            emitted += 1


def normalize_clip(
    source: Path, dest: Path, *, fps_in: float, fps: float, width: int, height: int
) -> int:
    """Re-encode ``source`` as ``dest`` at ``fps`` and ``width`` x ``height`` (centre-cropped),
    ``NORMALIZE_CHUNK`` frames at a time. Returns the frame count written."""
    with MP4Writer(dest, fps=fps) as writer:
        chunk: list[np.ndarray] = []
        for frame in retimed(iter_mp4(source), fps_in, fps):
            chunk.append(frame)
            if len(chunk) == NORMALIZE_CHUNK:
                writer.write(crop_resize(np.stack(chunk), width, height))
                chunk = []
        if chunk:
            writer.write(crop_resize(np.stack(chunk), width, height))
        return writer.count
