"""``run_job``: one claimed job, start to finish.

screen (done at accept time) -> generate -> check output -> watermark -> encode -> sign -> store.
Files are staged and moved into place before the record flips to ``completed`` in the same
transaction that finishes the job, so a crash at any point leaves either nothing or a
complete video, and a re-run overwrites rather than duplicates.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np
from PIL import Image

from mutoscope.backends.base import GenerationRequest, VideoBackend
from mutoscope.characters.service import (
    CharacterService,
    check_video_characters,
    notify_uses,
    used_by,
)
from mutoscope.errors import JobCancelled
from mutoscope.jobs.base import ClaimedJob
from mutoscope.jobs.retry import RetryPolicy
from mutoscope.media import (
    AudioTrack,
    MP4Writer,
    count_frames,
    decode_sampled,
    decode_tail,
    encode_mp4,
    iter_mp4,
    probe_header,
    read_audio,
    resize_frames,
    spritesheet,
    thumbnail,
)
from mutoscope.media.audio import audio_requested, join
from mutoscope.sources import format_seconds, normalize_clip
from mutoscope.storage.records import COMPLETED, IN_PROGRESS, UserRecord, VideoRecord, now
from mutoscope.worker.encoding import MarkedEncoder
from mutoscope.worker.hooks import ProvenanceInfo
from mutoscope.worker.lease import JobLease

if TYPE_CHECKING:
    from mutoscope.services import Services

log = logging.getLogger(__name__)


class Progress:
    """Turns backend step callbacks into throttled progress writes: a step's percent is written
    when it moved and ``every`` seconds have passed since the last write (a model that makes
    ten steps a second would otherwise cost ten transactions a second); ``set`` always writes.

    The lease is kept by the job's ``JobLease`` thread, not here; this raises ``JobCancelled``
    when that lease was lost (the video was deleted or the job taken over).
    """

    every = 1.0

    def __init__(
        self,
        services: Services,
        video_id: str,
        worker_id: str,
        *,
        span: float = 0.9,
        lease: JobLease | None = None,
    ):
        self.services, self.video_id, self.worker_id = services, video_id, worker_id
        self.span = span  # generation is this share of the bar; the rest is encode + sign
        self.lease = lease
        self._last_percent = -1
        self._written_at = -self.every

    def __call__(self, fraction: float) -> None:
        if self.lease is not None:
            self.lease.check()
        percent = min(99, int(max(0.0, min(1.0, fraction)) * self.span * 100))
        if percent == self._last_percent or time.monotonic() - self._written_at < self.every:
            return
        self.set(percent)

    def set(self, percent: int) -> None:
        if self.lease is not None:
            self.lease.check()
        self._last_percent, self._written_at = percent, time.monotonic()
        with self.services.sessions.begin() as s:
            s.query(VideoRecord).filter(VideoRecord.id == self.video_id).update(
                {"progress": percent}
            )


def run_job(services: Services, job: ClaimedJob, worker_id: str) -> None:
    """Generate, check, mark, encode, sign and store one video. Raises on failure.

    The whole job runs under its own heartbeat thread (``JobLease``), and the final commit
    is fenced on this claim's attempt, so a worker whose job was taken over commits nothing.
    """
    every = services.settings.lease_seconds / 3
    with JobLease(services.queue, job, worker_id, every=every) as lease:
        _run_steps(services, job, worker_id, lease)


@contextmanager
def _stopped_on_error(early: list[tuple[MarkedEncoder, dict[str, Path]]]) -> Iterator[None]:
    """Stop the early encoders' threads if the job stops before ``encode_and_sign`` takes
    them over; else a thread waits for frames forever, holding the clip and an open file."""
    try:
        yield
    except BaseException:
        for encoder, _ in early:
            encoder.abandon()
        raise


def _run_steps(services: Services, job: ClaimedJob, worker_id: str, lease: JobLease) -> None:
    # 1. Load the record and mark it in progress
    with services.sessions.begin() as s:
        record = s.get(VideoRecord, job.video_id)
        if record is None:
            raise JobCancelled(job.video_id)
        # A character's owner may have withdrawn it (or its creator's permission) since the
        # video was queued: refuse before anything is generated (fails with character_revoked).
        check_video_characters(s, record)
        record.status, record.started_at = IN_PROGRESS, record.started_at or now()
        record.progress = 0
        owner = s.get(UserRecord, record.owner_id)
        parent = (
            s.get(VideoRecord, record.remixed_from_video_id)
            if record.remixed_from_video_id
            else None
        )
    # 2. Generate the frames (an extension continues the clip's tail, an edit or a remix
    #    re-makes its frames; an uploaded clip is checked like an output first)
    backend = services.backends.get(record.backend)
    # A fast model's denoising is a small share of the job (the checks, watermark and encode
    # take the rest): its bar should not sit at 90 % from the first second.
    share = float(getattr(backend, "progress_share", 0.9))
    progress = Progress(services, record.id, worker_id, span=share, lease=lease)
    after = [round(share * 100 + (95 - share * 100) * k / 3) for k in (1, 2)]
    parent_path = _parent_path(services, record, parent)
    source_path = _source_path(services, record, backend, parent_path)
    request = _request(services, record, parent, source_path)
    # Transient faults (engine down, disk full, storage 5xx) are retried in place, so the
    # frames already made are kept; see jobs/retry.py.
    policy = RetryPolicy.from_settings(services.settings)
    result = policy.run(
        lambda: backend.generate(request, progress),
        what=f"{record.id}: generate",
        check=lease.check,
    )
    frames = resize_frames(result.frames, request.width, request.height)
    # The soundtrack (if any) rides along untouched by the checks and the watermark below,
    # which read and mark pixels only; the encoder fits it to the frames' duration.
    sound = audio_requested(request.options)
    audio = result.audio if sound else None
    # An extension is the parent's frames then the new ones. The parent is streamed from its MP4
    # into the encoder in step 5 (never held whole: 12 s at 1792x1024 is 5 GB of RGB), so from
    # here on ``frames`` are the new frames only; the parent passed its own output check.
    stitch = source_path if record.mode == "extend" and request.source_video is not None else None
    total_frames = len(frames)
    progress.set(int(progress.span * 100))

    # 3. Check the output against protected references (may raise OutputBlocked)
    lease.check()
    services.rights.check_output(video_id=record.id, user_id=record.owner_id, frames=frames)
    progress.set(after[0])

    # 4. Embed the invisible watermark; the MP4 encoder (5.) codes each run of frames in its
    #    own thread as soon as it is marked (not for an extension, which encodes the parent
    #    first)
    early: list[tuple[MarkedEncoder, dict[str, Path]]] = []
    if stitch is None:
        first = _staged(services, record.id)
        early.append((MarkedEncoder(first["video"], fps=result.fps, audio=audio), first))
    with _stopped_on_error(early):
        frames, payload = services.provenance.watermark(
            frames, video_id=record.id, on_marked=early[0][0].write if early else None
        )
        progress.set(after[1])  # may find the job cancelled or taken over

    # 5. Encode the MP4, thumbnail and spritesheet into a private staging folder
    # 6. Sign the MP4 with C2PA Content Credentials (both again from the frames after a fault)
    def encode_and_sign() -> dict[str, Path]:
        # the first attempt finishes the encode begun in step 4; a retry starts afresh
        encoder, staged = early.pop() if early else (None, _staged(services, record.id))
        nonlocal total_frames
        if encoder is not None and encoder.count != len(frames):
            encoder.abandon()  # a stamper that did not hand every frame over: encode here
            encoder = None
        if encoder is not None:
            try:
                thumbnail(frames, staged["thumbnail"])
                spritesheet(frames, staged["spritesheet"])
                encoder.finish()
            except BaseException:
                encoder.abandon()
                raise
        elif stitch is not None:
            total_frames = _stitch(
                services,
                record.id,
                stitch,
                frames,
                staged,
                result.fps,
                audio=audio,
                sound=sound,
                sound_from=parent_path,
            )
        else:
            encode_mp4(frames, staged["video"], fps=result.fps, audio=audio)
            thumbnail(frames, staged["thumbnail"])
            spritesheet(frames, staged["spritesheet"])
        services.provenance.sign(
            staged["video"],
            ProvenanceInfo(
                video_id=record.id,
                model=record.backend,
                prompt=record.prompt,
                created_at=record.created_at,
                owner=(owner.display_name or owner.name) if owner else "",
                mode=record.mode,
                parent_video_id=parent.id if parent else None,
                parent_path=parent_path if parent_path and parent_path.is_file() else None,
                attributions=list(record.attributions or []),
                watermark_payload=payload,
                characters=used_by(services.sessions, record.id),
                engine=result.provenance or None,
            ),
        )
        return staged

    with _stopped_on_error(early):  # the lease check before the first attempt may raise
        staged = policy.run(
            encode_and_sign, what=f"{record.id}: encode and sign", check=lease.check
        )
    progress.set(95)

    # 7. Move files into place, then complete the record and the job together (fenced)
    lease.check()
    with services.sessions() as s:
        check_video_characters(s, record)  # revoked while it was being made: never completes
    policy.run(
        lambda: services.files.commit(record.id, staged),
        what=f"{record.id}: store",
        check=lease.check,
    )
    with services.sessions.begin() as s:
        row = s.get(VideoRecord, record.id)
        held = row is not None and services.queue.finish(
            record.id, worker_id, session=s, attempt=job.attempt
        )
        if row is None or not held:
            # Deleted (or taken over) while we worked: leave nothing behind.
            if row is None:
                services.files.delete(record.id)
                backend.forget(result.provenance)
            raise JobCancelled(record.id)
        row.status, row.progress, row.completed_at = COMPLETED, 100, now()
        row.duration, row.frame_count = total_frames / result.fps, total_frames
        if stitch is not None:  # the stitched total, as the frames made it
            row.seconds = format_seconds(row.duration)
        ttl = services.settings.video_ttl_seconds
        row.expires_at = row.completed_at + ttl if ttl else None
        engine = {"engine": result.provenance} if result.provenance else {}
        row.provenance = {**(row.provenance or {}), "watermark_payload": payload, **engine}
        notify_uses(s, row)  # owners hear of a use only once the video exists

    if source_path is not None and source_path != parent_path:
        shutil.rmtree(source_path.parent, ignore_errors=True)

    # 8. Index the output for reverse search. The video is completed and its job done: a
    # failure here is logged, never retried (a retry could not claim it and would leave the
    # record queued for ever).
    try:
        services.rights.index_output(video_id=record.id, frames=frames)
    except Exception:
        log.exception("video %s completed, but indexing its output failed", record.id)


def _staged(services: Services, video_id: str) -> dict[str, Path]:
    """The files of one attempt, in a fresh private staging folder."""
    staging = services.files.staging(video_id)
    return {
        "video": staging / "video.mp4",
        "thumbnail": staging / "thumbnail.jpg",
        "spritesheet": staging / "spritesheet.jpg",
    }


#: Parent frames handed to a backend for an extension (its conditioning tail; the LTX backend
#: uses the last 9, the image-to-video ones the last 1).
EXTEND_TAIL_FRAMES = 24
#: Parent frames a remix decodes, evenly spaced over the whole clip: every backend resamples
#: the source to its own frame count (at most 161 for LTX), so memory stays bounded however
#: long the parent is.
REMIX_SOURCE_FRAMES = 192
#: Parent frames decoded, resized and watermarked at a time while stitching an extension.
STITCH_CHUNK = 24


def _stitch(
    services: Services,
    video_id: str,
    parent_path: Path,
    frames: np.ndarray,
    staged: dict[str, Path],
    fps: float,
    *,
    audio: AudioTrack | None = None,
    sound: bool = True,
    sound_from: Path | None = None,
) -> int:
    """Encode the parent's frames (streamed from its MP4, resized and watermarked
    ``STITCH_CHUNK`` at a time) then the new, already marked ``frames``; write the thumbnail
    and spritesheet from frames picked on the way. Returns the total frame count.

    With ``sound``, the file carries the parent's sound for the parent's frames, then
    ``audio`` (the new segment's) for the new ones, silence standing in for either one that
    has none; without, or when neither has any, it is silent. ``sound_from`` is the file the
    parent's sound is read from when ``parent_path`` is a re-timed copy without it (an
    upload)."""
    height, width = frames.shape[1:3]
    parent_count = count_frames(parent_path)
    total = parent_count + len(frames)
    track = None
    if sound:
        track = join(
            [
                (_sound_of(sound_from or parent_path), parent_count / fps),
                (audio, len(frames) / fps),
            ]
        )
    picks = set(np.linspace(0, total - 1, num=min(16, total)).round().astype(int).tolist())
    middle = total // 2
    kept: dict[int, np.ndarray] = {}
    index = 0

    def keep(chunk: np.ndarray) -> None:
        nonlocal index
        for frame in chunk:
            if index in picks or index == middle:
                kept[index] = frame.copy()
            index += 1

    with MP4Writer(staged["video"], fps=fps, audio=track) as writer:
        chunk: list[np.ndarray] = []
        for frame in iter_mp4(parent_path):
            chunk.append(frame)
            if len(chunk) == STITCH_CHUNK:
                marked = _mark(services, video_id, np.stack(chunk), width, height)
                writer.write(marked)
                keep(marked)
                chunk = []
        if chunk:
            marked = _mark(services, video_id, np.stack(chunk), width, height)
            writer.write(marked)
            keep(marked)
        writer.write(frames)
        keep(frames)
        total = writer.count
    shown = [kept[i] for i in sorted(kept) if i in picks] or [frames[-1]]
    thumbnail(np.stack([kept.get(total // 2, shown[len(shown) // 2])]), staged["thumbnail"])
    spritesheet(np.stack(shown), staged["spritesheet"], count=len(shown))
    return total


def _sound_of(path: Path) -> AudioTrack | None:
    """The clip's sound; a sound track that cannot be decoded is logged and left out (the
    frames are what the extension continues), never a reason to fail the job."""
    try:
        return read_audio(path)
    except (av.FFmpegError, ValueError):
        log.warning("the sound of %s could not be decoded; the extension starts silent", path.name)
        return None


def _mark(
    services: Services, video_id: str, chunk: np.ndarray, width: int, height: int
) -> np.ndarray:
    marked, _ = services.provenance.watermark(
        np.ascontiguousarray(resize_frames(chunk, width, height)), video_id=video_id
    )
    return marked


#: Frames of an uploaded clip checked against protected references before it is used.
UPLOAD_CHECK_FRAMES = 32


def _parent_path(
    services: Services, record: VideoRecord, parent: VideoRecord | None
) -> Path | None:
    """The clip this video starts from as stored: an upload, or the parent's MP4."""
    if record.source_video:
        return services.files.path(record.id, "source")
    return services.files.path(parent.id, "video") if parent else None


def _source_path(
    services: Services, record: VideoRecord, backend: VideoBackend, parent_path: Path | None
) -> Path | None:
    """The clip as the backend reads it. An extension's clip is re-timed to the backend's
    rate and cropped to the video's size when it differs (an upload, or another model's
    parent), streaming, so the stitched MP4 plays it at its own speed; an uploaded clip is
    checked against protected references like an output (it may raise ``OutputBlocked``)."""
    if parent_path is None or not parent_path.is_file():
        return None
    if record.source_video:
        frames = decode_sampled(parent_path, UPLOAD_CHECK_FRAMES)
        services.rights.check_output(video_id=record.id, user_id=record.owner_id, frames=frames)
    if record.mode != "extend":
        return parent_path
    header = probe_header(parent_path)
    width, height = (int(v) for v in record.size.split("x"))
    if abs(header.fps - backend.fps) < 1e-3 and (header.width, header.height) == (width, height):
        return parent_path
    dest = services.files.staging(f"{record.id}.source") / "source.mp4"
    normalize_clip(
        parent_path, dest, fps_in=header.fps, fps=backend.fps, width=width, height=height
    )
    return dest


def _request(
    services: Services, record: VideoRecord, parent: VideoRecord | None, parent_path: Path | None
) -> GenerationRequest:
    image = None
    if record.input_reference:
        with Image.open(services.files.path(record.id, "reference")) as img:
            image = img.convert("RGB")
    source = None
    if parent_path and parent_path.is_file():
        # Extend conditions on the parent's tail, remix on evenly spaced frames: both bounded.
        source = (
            decode_tail(parent_path, EXTEND_TAIL_FRAMES)
            if record.mode == "extend"
            else decode_sampled(parent_path, REMIX_SOURCE_FRAMES)
        )
    options: dict[str, object] = dict(record.options or {})
    if record.strength is not None:
        options["strength"] = record.strength
    references, names = CharacterService(services).references(record.id)
    return GenerationRequest(
        prompt=record.prompt,
        size=record.size,
        # An extension makes its own segment; ``seconds`` is the stitched total.
        seconds=record.segment_seconds or record.seconds,
        seed=record.seed,
        image=image,
        source_video=source,
        source_prompt=parent.prompt if parent else None,
        # A backend sees an edit as a remix of the source clip.
        mode="remix" if record.mode == "edit" else record.mode,  # type: ignore[arg-type]
        options=options,
        references=references,
        reference_names=names,
        parent_engine=(parent.provenance or {}).get("engine") if parent else None,
    )
