"""ProvenanceService: watermark frames, sign MP4s, and verify any file against our records."""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import av
import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from mutoscope.config import Settings
from mutoscope.errors import UnsupportedMediaType
from mutoscope.provenance.credentials import WATERMARK_ALG, read_credentials, sign_mp4
from mutoscope.provenance.keys import load_signing, trust_anchors
from mutoscope.provenance.records import WatermarkRecord
from mutoscope.provenance.report import (
    RecordMatch,
    StreamsReport,
    VerifyReport,
    WatermarkReport,
)
from mutoscope.provenance.watermark import DATA_BYTES, Watermarker
from mutoscope.storage.records import UserRecord, VideoRecord
from mutoscope.worker.hooks import ProvenanceInfo

log = logging.getLogger(__name__)

VERIFY_FRAMES = 96
"""Frames decoded for verification (the watermark is in every frame; 4 s is plenty)."""
VERIFY_SIDE = 640
"""Frames are decoded at most this wide/high for verification (the detector needs far less)."""
_IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "gif", "bmp_pipe", "tiff_pipe")


class OutputMatchLike(Protocol):
    video_id: str
    distance: float
    matched_fraction: float


MatchOutputs = Callable[[np.ndarray], Sequence[OutputMatchLike]]


class ProvenanceService:
    """Implements ``ProvenanceStamper`` (watermark + sign) and the public verify."""

    def __init__(
        self, settings: Settings, sessions: sessionmaker, *, watermarker: Watermarker | None = None
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.watermarker = watermarker or Watermarker()

    # ---- stamping (worker) -----------------------------------------------------------------

    def watermark(
        self,
        frames: np.ndarray,
        *,
        video_id: str,
        on_marked: Callable[[np.ndarray], None] | None = None,
    ) -> tuple[np.ndarray, str | None]:
        """Embed this video's payload in every frame; the same video always gets the same one.

        Writable frames are marked in place (no second full-size buffer); the caller uses the
        returned array either way. ``on_marked`` gets each run of final frames, in order.
        """
        if not self.settings.watermark:
            if on_marked is not None:
                on_marked(frames)
            return frames, None
        payload = self.payload_for(video_id)
        inplace = bool(frames.flags.writeable and frames.flags.c_contiguous)
        marked = self.watermarker.embed(
            frames, bytes.fromhex(payload), inplace=inplace, on_marked=on_marked
        )
        return marked, payload

    def sign(self, mp4_path: Path, info: ProvenanceInfo) -> None:
        """Sign ``mp4_path`` in place (keys are created on first use)."""
        sign_mp4(Path(mp4_path), info, load_signing(self.settings))

    def payload_for(self, video_id: str) -> str:
        """The video's 48-bit payload (hex), allocated at random on first use."""
        with self.sessions() as session:
            existing = session.scalar(
                select(WatermarkRecord.payload).where(WatermarkRecord.video_id == video_id)
            )
            if existing is not None:
                return existing
            for _ in range(8):
                payload = secrets.token_bytes(DATA_BYTES).hex()
                session.add(
                    WatermarkRecord(payload=payload, video_id=video_id, algorithm=WATERMARK_ALG)
                )
                try:
                    session.commit()
                    return payload
                except IntegrityError:  # payload collision, or a concurrent retry won the row
                    session.rollback()
                    existing = session.scalar(
                        select(WatermarkRecord.payload).where(WatermarkRecord.video_id == video_id)
                    )
                    if existing is not None:
                        return existing
        raise RuntimeError("could not allocate a unique watermark payload")

    # ---- verify (public) -------------------------------------------------------------------

    def verify(
        self,
        source: Path | str | bytes | BinaryIO,
        *,
        match_outputs: MatchOutputs | None = None,
        filename: str | None = None,
    ) -> VerifyReport:
        """Check a file's Content Credentials, watermark and our records.

        ``source`` may be an open binary file (the API passes the spooled upload, so a large
        file is never held in memory). Raises ``UnsupportedMediaType`` when ``source`` is not
        a video PyAV can decode.
        """
        # 1. Read the file and decode its frames (this is also the "is it a video" check)
        data: bytes | BinaryIO
        if isinstance(source, bytes):
            data = source
        elif isinstance(source, Path | str):
            data = Path(source).read_bytes()
            filename = filename or Path(source).name
        else:
            data = source
        frames, streams = decode_streams(data)
        # 2. Content Credentials, judged with our root as trust anchor
        c2pa_report = read_credentials(_rewound(data), trust_anchors=trust_anchors(self.settings))
        # 3. Invisible watermark
        detection = self.watermarker.detect(frames, known=self._registered)
        wm = WatermarkReport(
            checked=True,
            found=detection.found,
            payload=detection.payload_hex,
            bit_agreement=round(detection.bit_margin, 4) if detection.found else None,
            score=round(detection.score, 2),
            scale=detection.scale if detection.found else None,
            version=detection.version,
        )
        size = len(data) if isinstance(data, bytes) else data.seek(0, io.SEEK_END)
        report = VerifyReport(
            filename, size, c2pa_report, wm, frames_checked=len(frames), streams=streams
        )
        # 4. Our record: trusted manifest, then watermark, then perceptual match
        report.record = self._match_record(report, frames, match_outputs)
        return report

    def _registered(self, payload: bytes) -> bool:
        with self.sessions() as session:
            return session.get(WatermarkRecord, payload.hex()) is not None

    def _match_record(
        self, report: VerifyReport, frames: np.ndarray, match_outputs: MatchOutputs | None
    ) -> RecordMatch | None:
        by_c2pa = None
        generation = report.c2pa.summary.get("generation") if report.c2pa.summary else None
        if report.c2pa.trusted and isinstance(generation, dict) and generation.get("video_id"):
            by_c2pa = self._record(str(generation["video_id"]), "c2pa")
        by_wm = None
        if report.watermark.payload:
            with self.sessions() as session:
                row = session.get(WatermarkRecord, report.watermark.payload)
                video_id = row.video_id if row is not None else None
            report.watermark.known = video_id is not None
            if video_id is not None:
                by_wm = self._record(video_id, "watermark")
        if by_c2pa and by_wm and by_c2pa.video_id != by_wm.video_id:
            report.notes.append(
                f"The manifest names {by_c2pa.video_id} but the watermark names "
                f"{by_wm.video_id}: the pixels come from another Mutoscope video."
            )
        if by_c2pa or by_wm:
            return by_c2pa or by_wm
        if match_outputs is None:
            report.notes.append("Perceptual search over our outputs is not available here.")
            return None
        return self._perceptual(frames, match_outputs)

    def _perceptual(self, frames: np.ndarray, match_outputs: MatchOutputs) -> RecordMatch | None:
        try:
            matches = list(match_outputs(frames))
        except Exception:  # the rights index is optional evidence; never fail verify over it
            log.exception("perceptual output search failed")
            return None
        if not matches:
            return None
        best = max(matches, key=lambda m: (m.matched_fraction, -m.distance))
        record = self._record(best.video_id, "perceptual_hash")
        record.distance = float(best.distance)
        record.matched_fraction = float(best.matched_fraction)
        return record

    def _record(self, video_id: str, matched_by: str) -> RecordMatch:
        with self.sessions() as session:
            video = session.get(VideoRecord, video_id)
            if video is None:
                return RecordMatch(video_id=video_id, matched_by=matched_by, exists=False)
            owner = session.get(UserRecord, video.owner_id)
            return RecordMatch(
                video_id=video.id,
                matched_by=matched_by,
                created_at=video.created_at,
                model=video.backend or video.model,  # the model that made it, not the alias
                owner=(owner.display_name or owner.name) if owner is not None else None,
                remixed_from_video_id=video.remixed_from_video_id,
                mode=video.mode,
                published=video.published_at is not None,
                status=video.status,
                owner_id=video.owner_id,
            )


def _rewound(data: bytes | BinaryIO) -> bytes | BinaryIO:
    if not isinstance(data, bytes):
        data.seek(0)
    return data


def decode_for_verify(
    data: bytes | BinaryIO, *, max_frames: int = VERIFY_FRAMES, max_side: int = VERIFY_SIDE
) -> np.ndarray:
    """(T, h, w, 3) uint8 frames, downscaled to ``max_side``; refuses anything but video."""
    return decode_streams(data, max_frames=max_frames, max_side=max_side)[0]


def decode_streams(
    data: bytes | BinaryIO, *, max_frames: int = VERIFY_FRAMES, max_side: int = VERIFY_SIDE
) -> tuple[np.ndarray, StreamsReport]:
    """``decode_for_verify``'s frames, and the file's streams as its headers declare them."""
    what = "Upload a video file (MP4, MOV, WebM, ...) to verify."
    try:
        stream = io.BytesIO(data) if isinstance(data, bytes) else _rewound(data)
        container: Any = av.open(stream, mode="r")
    except (av.FFmpegError, ValueError) as exc:
        raise UnsupportedMediaType(
            f"The file is not a readable video ({getattr(exc, 'strerror', None) or exc}). {what}",
            param="file",
        ) from exc
    with container:
        if container.format.name in _IMAGE_FORMATS or not container.streams.video:
            raise UnsupportedMediaType(
                f"The file has no video stream (format '{container.format.name}'). {what}",
                param="file",
            )
        streams = _streams(container)
        frames = []
        try:
            for frame in container.decode(video=0):
                w, h = frame.width, frame.height
                scale = min(1.0, max_side / max(w, h))
                size = (max(2, round(w * scale)), max(2, round(h * scale)))
                frames.append(frame.to_ndarray(format="rgb24", width=size[0], height=size[1]))
                if len(frames) >= max_frames:
                    break
        except (av.FFmpegError, ValueError) as exc:
            if not frames:
                raise UnsupportedMediaType(
                    f"The video could not be decoded ({exc}). {what}", param="file"
                ) from exc
    if not frames:
        raise UnsupportedMediaType(f"The video has no decodable frames. {what}", param="file")
    return np.stack(frames), streams


def _streams(container: Any) -> StreamsReport:
    video = container.streams.video[0]
    report = StreamsReport(
        container=container.format.name,
        video={
            "codec": video.codec_context.name,
            "width": video.width,
            "height": video.height,
            "duration": _seconds(video, container),
        },
    )
    if container.streams.audio:
        audio = container.streams.audio[0]
        report.audio = {
            "codec": audio.codec_context.name,
            "sample_rate": audio.codec_context.sample_rate,
            "channels": audio.codec_context.channels,
            "duration": _seconds(audio, container),
        }
    return report


def _seconds(stream: Any, container: Any) -> float | None:
    """A stream's declared length (the container's when the stream declares none)."""
    if stream.duration is not None and stream.time_base is not None:
        return round(float(stream.duration * stream.time_base), 3)
    if container.duration:
        return round(container.duration / av.time_base, 3)
    return None
