"""Video service: accept, list, fetch, remix, edit, extend, publish and delete videos.

The API, the studio and the CLI all go through here, so validation, rights screening and
ownership rules live in one place.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PIL import Image
from sqlalchemy import Row, Table, bindparam, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from mutoscope.backends.base import GenerationRequest, VideoBackend
from mutoscope.errors import Forbidden, InvalidRequest, VideoNotFound
from mutoscope.retention import check_not_expired
from mutoscope.sources import SourceClip, format_seconds, nearest_size
from mutoscope.storage.records import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    QUEUED,
    JobRecord,
    UserRecord,
    VideoRecord,
    new_id,
    now,
)
from mutoscope.worker.hooks import ScreenRequest

if TYPE_CHECKING:
    from mutoscope.characters.service import CharacterService, Use
    from mutoscope.services import Services

MAX_PROMPT = 32_000
RecordMode = Literal["create", "remix", "extend", "edit"]
_SOURCE_TO_COME = np.zeros((1, 1, 1, 3), np.uint8)
"""Stands in for the source frames when a request is checked at accept time (the worker
decodes the real ones), so a backend's ``check`` knows a source video will be there."""
_PEEK = select(VideoRecord.__table__).where(VideoRecord.__table__.c.id == bindparam("id"))
_VIDEOS: Table = VideoRecord.__table__  # type: ignore[assignment]
_INSERT_VIDEO = insert(_VIDEOS)


def _row(record: VideoRecord) -> dict[str, Any]:
    """A new record's column values for a Core insert: those it was given (unset columns get
    the table's defaults, as an ORM insert would)."""
    given = sa_inspect(record).dict
    return {c.key: given[c.key] for c in _VIDEOS.columns if c.key in given}


@dataclass
class VideoCreate:
    """A validated-shape request to make a video (from the API, studio or CLI)."""

    prompt: str
    model: str | None = None
    seconds: str | None = None
    size: str | None = None
    seed: int | None = None
    image: Image.Image | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """Per-request options, already shape-checked by ``request_options.parse_options``."""
    characters: list[str] = field(default_factory=list)
    """Ids of characters (``char_…``) the video uses; ``@handle`` mentions add more."""


@dataclass(frozen=True)
class Accepted:
    """A validated, screened video whose rows are not written yet: ``write`` inserts the
    video, its job and its audit rows in the session it is given."""

    record: VideoRecord
    write: Callable[[Session], None]


@dataclass(frozen=True)
class Page:
    data: list[VideoRecord]
    has_more: bool


class VideoService:
    def __init__(self, services: Services):
        self.services = services
        self.sessions = services.sessions

    # -- create ---------------------------------------------------------------------------
    def create(
        self,
        user: UserRecord,
        body: VideoCreate,
        *,
        parent: VideoRecord | None = None,
        mode: RecordMode = "create",
        source: SourceClip | None = None,
        strength: float | None = None,
    ) -> VideoRecord:
        """Validate, screen and durably queue a video; returns its ``queued`` record.

        ``source`` is the clip an edit or extension starts from (an upload is stored with the
        video); an extension's ``seconds`` is recorded as the stitched total."""
        accepted = self.accept(
            user, body, parent=parent, mode=mode, source=source, strength=strength
        )
        self.services.writer.run(accepted.write)
        self.services.queue.notify()
        return accepted.record

    async def create_async(self, user: UserRecord, body: VideoCreate) -> VideoRecord:
        """``create`` for an event loop: the accept step in a worker thread, then the commit
        awaited without holding a thread (on SQLite the writer thread resolves every create
        of a batch with one wake-up of the loop)."""
        from anyio import to_thread  # not at import time: the CLI never needs it

        accepted = await to_thread.run_sync(self.accept, user, body)
        await self.services.writer.run_async(accepted.write)
        self.services.queue.notify()
        return accepted.record

    def accept(
        self,
        user: UserRecord,
        body: VideoCreate,
        *,
        parent: VideoRecord | None = None,
        mode: RecordMode = "create",
        source: SourceClip | None = None,
        strength: float | None = None,
    ) -> Accepted:
        """Everything ``create`` does before the commit: the record and its write, not yet
        run (``Writer.run`` commits it)."""
        # 1. Validate the request (and the characters it uses) against the chosen backend
        uses = self._characters(user, body, parent)
        backend, request = self._checked(body, mode, uses)
        prompt, size, seconds = request.prompt, request.size, request.seconds
        if mode == "extend" and source is not None:
            seconds = format_seconds(source.duration + float(request.seconds))
        warning = self._prompt_warning(backend, _fit_text(prompt, uses))
        video_id = new_id("video")
        # 2. Screen prompt and references before anything is queued
        screening = self.services.rights.screen_request(
            ScreenRequest(
                prompt=prompt,
                user_id=user.id,
                video_id=video_id,
                model=backend.name,
                image=body.image,
                source_video_id=parent.id if parent else None,
                defer_audit=True,
                character_names=tuple(u.character.name for u in uses),
            )
        )
        # 3. Store the reference; then the record, the job and the screening's audit rows in
        #    one transaction (one commit: an accepted video always has its audit rows, and a
        #    create that rolls back leaves none)
        record = VideoRecord(
            id=video_id,
            owner_id=user.id,
            model=body.model or backend.name,
            backend=backend.name,
            status=QUEUED,
            progress=0,
            prompt=prompt,
            size=size,
            seconds=seconds,
            seed=request.seed,
            mode=mode,
            remixed_from_video_id=parent.id if parent else None,
            created_at=now(),
            attributions=screening.attributions,
            provenance={},
            warning=warning,
            segment_seconds=request.seconds if mode == "extend" else None,
            strength=strength,
            options=dict(request.options),
        )
        if source is not None and source.upload is not None:
            self.services.files.put_bytes(video_id, "source", source.upload)
            record.source_video = "source.mp4"
        if body.image is not None:
            buf = io.BytesIO()
            body.image.save(buf, format="PNG")
            self.services.files.put_bytes(video_id, "reference", buf.getvalue())
            record.input_reference = "reference.png"
        row = _row(record)

        def write(s: Session) -> None:
            # Core inserts (the ORM's unit of work cost more than the inserts); run again
            # alone if a write grouped with it fails, so nothing here may outlive a rollback.
            s.execute(_INSERT_VIDEO, row)
            if uses:
                self._character_service().attach(s, video_id, uses, user)
            self.services.queue.enqueue(
                video_id, session=s, max_attempts=self.services.settings.max_attempts
            )
            if screening.record is not None:
                s.flush()  # the writes first: the audit tail is then read under the write lock
                screening.record(s)

        # 4. The caller commits it (on SQLite together with the creates queued meanwhile)
        return Accepted(record, write)

    def validate(self, body: VideoCreate) -> None:
        """Raise the error ``create`` would for ``body``'s fields (its image is not looked at).

        Lets the API refuse a bad request before it fetches a reference image by URL."""
        backend, request = self._checked(body, "create")
        self._prompt_warning(backend, request.prompt)

    def _character_service(self) -> CharacterService:
        from mutoscope.characters.service import CharacterService

        return CharacterService(self.services)

    def _characters(
        self, user: UserRecord, body: VideoCreate, parent: VideoRecord | None
    ) -> list[Use]:
        """The characters a video uses: those asked for, ``@handle`` mentions, and (for a
        remix or extension) the parent's whose names the new prompt repeats."""
        refs = list(body.characters)
        if parent is not None:
            from mutoscope.characters.service import used_by

            refs += [
                c["id"]
                for c in used_by(self.sessions, parent.id)
                if c["name"].lower() in (body.prompt or "").lower()
            ]
        if not refs and "@" not in (body.prompt or ""):
            return []
        return self._character_service().resolve(user, refs, check_prompt(body.prompt))

    def check(self, body: VideoCreate) -> None:
        """Raise ``InvalidRequest`` for what ``create`` would refuse in ``body`` itself
        (prompt, seed, model, size, seconds, options), before anything else is done."""
        self._checked(body, "create")

    def _checked(
        self,
        body: VideoCreate,
        mode: RecordMode,
        uses: list[Use] | None = None,
    ) -> tuple[VideoBackend, GenerationRequest]:
        prompt = check_prompt(body.prompt)
        check_seed(body.seed)
        backend = self.services.backends.get(body.model)
        seconds = str(body.seconds) if body.seconds is not None else backend.seconds[0]
        request = GenerationRequest(
            prompt=prompt,
            size=body.size or _default_size(backend.sizes),
            seconds=seconds,
            image=body.image,
            # A backend sees an edit as a remix of the source clip.
            mode="remix" if mode == "edit" else mode,
            source_video=_SOURCE_TO_COME if mode != "create" else None,
            seed=body.seed if body.seed is not None else secrets.randbelow(2**31),
            options=dict(body.options),
            references=tuple(_first_frames(self.services, uses or [])),
            reference_names=tuple(u.mention for u in uses or []),
        )
        if mode == "edit" and not backend.accepts_video:
            raise InvalidRequest(
                f"model '{backend.name}' cannot edit videos (it has no video-to-video mode); "
                "choose a model whose accepts_video is true in GET /v1/models, such as "
                "mutoscope-tiny",
                param="model",
                code="edit_unsupported",
            )
        backend.check(request)
        return backend, request

    def _prompt_warning(self, backend: VideoBackend, prompt: str) -> str | None:
        """What the model cannot draw of ``prompt``; a strict model refuses instead (400)."""
        fit = backend.fit_prompt(prompt)
        if fit is None or fit.warning is None:
            return None
        if not fit.drawable and backend.name in self.services.settings.strict_prompts:
            raise InvalidRequest(fit.warning, param="prompt", code="prompt_not_drawable")
        return fit.warning

    def remix(
        self,
        user: UserRecord,
        video_id: str,
        prompt: str,
        characters: list[str] | None = None,
        options: dict[str, Any] | None = None,
    ) -> VideoRecord:
        """A new video from ``prompt`` that records (and conditions on) its parent.

        It keeps the parent's model, size, length and options; ``options`` override them."""
        parent = self.completed_parent(user, video_id)
        body = VideoCreate(
            prompt=prompt,
            model=parent.model,
            seconds=parent.seconds,
            size=parent.size,
            options={**(parent.options or {}), **(options or {})},
            characters=list(characters or []),
        )
        return self.create(user, body, parent=parent, mode="remix")

    def extend(
        self,
        user: UserRecord,
        source: SourceClip | str,
        prompt: str,
        seconds: str,
        *,
        model: str | None = None,
        size: str | None = None,
        characters: list[str] | None = None,
        options: dict[str, Any] | None = None,
    ) -> VideoRecord:
        """The source clip (a video id or an upload) followed by ``seconds`` more that
        continue it, generated from ``prompt``; the record's ``seconds`` is the total."""
        clip = self._source(user, source)
        check_total_length(clip, seconds, self.services.settings.max_total_seconds)
        body = self._source_body(clip, prompt, model, size, options, seconds=seconds)
        body.characters = list(characters or [])
        return self.create(user, body, parent=clip.parent, mode="extend", source=clip)

    def edit(
        self,
        user: UserRecord,
        source: SourceClip | str,
        prompt: str,
        *,
        model: str | None = None,
        size: str | None = None,
        strength: float | None = None,
        characters: list[str] | None = None,
        options: dict[str, Any] | None = None,
    ) -> VideoRecord:
        """A new video re-made from the source clip (a video id or an upload) for ``prompt``
        (SDEdit on the embedded model: ``strength`` 0-1 says how far from the source)."""
        if strength is not None and not 0.0 < strength <= 1.0:
            raise InvalidRequest(
                f"strength must be a number above 0 and at most 1 (got {strength:g}); lower "
                "keeps more of the source",
                param="strength",
            )
        clip = self._source(user, source)
        body = self._source_body(clip, prompt, model, size, options)
        body.characters = list(characters or [])
        return self.create(
            user, body, parent=clip.parent, mode="edit", source=clip, strength=strength
        )

    def _source(self, user: UserRecord, source: SourceClip | str) -> SourceClip:
        if isinstance(source, str):
            return SourceClip(parent=self.completed_parent(user, source))
        return source

    def _source_body(
        self,
        clip: SourceClip,
        prompt: str,
        model: str | None,
        size: str | None,
        options: dict[str, Any] | None,
        *,
        seconds: str | None = None,
    ) -> VideoCreate:
        """The request for an edit or extension: the parent's model, size and options (an
        extension must match the clip it continues; ``options`` override the parent's), or
        for an upload the size nearest its own."""
        options = dict(options or {})
        if clip.parent is not None:
            model = model or clip.parent.model
            size = size or clip.parent.size
            if model == clip.parent.model:
                options = {**(clip.parent.options or {}), **options}
        backend = self.services.backends.get(model)
        if size is None:
            assert clip.info is not None
            size = nearest_size(clip.info.width, clip.info.height, backend.sizes)
        if seconds is None:  # an edit lasts as long as its source, as near as the model allows
            seconds = min(backend.seconds, key=lambda s: abs(float(s) - clip.duration))
        return VideoCreate(prompt=prompt, model=model, seconds=seconds, size=size, options=options)

    def completed_parent(self, user: UserRecord, video_id: str) -> VideoRecord:
        parent = self.get_visible(user, video_id)
        if parent.status != COMPLETED:
            raise InvalidRequest(
                f"video '{video_id}' is {parent.status}; only completed videos can be remixed, "
                "edited or extended (poll it until status is 'completed')",
                param="video_id",
            )
        check_not_expired(parent)
        return parent

    # -- read -----------------------------------------------------------------------------
    def get(self, user: UserRecord, video_id: str) -> VideoRecord:
        """The user's own video; another user's is reported as not found."""
        with self.sessions() as s:
            record = s.get(VideoRecord, video_id)
        if record is None or record.owner_id != user.id:
            raise VideoNotFound(video_id)
        return record

    def peek(self, user: UserRecord, video_id: str) -> Row:
        """``get`` without the ORM (the polling hot path): a row with the same attributes."""
        with self.services.engine.connect() as conn:
            row = conn.execute(_PEEK, {"id": video_id}).first()
        if row is None or row.owner_id != user.id:
            raise VideoNotFound(video_id)
        return row

    def peek_visible(self, user: UserRecord, video_id: str) -> Row:
        """``peek`` for the user's own video or anyone's published one (what the feed shows
        may be read through the API too; unpublished videos stay their owner's)."""
        with self.services.engine.connect() as conn:
            row = conn.execute(_PEEK, {"id": video_id}).first()
        if row is None or (row.owner_id != user.id and row.published_at is None):
            raise VideoNotFound(video_id)
        return row

    def get_visible(self, user: UserRecord | None, video_id: str) -> VideoRecord:
        """The user's own video, or anyone's published video."""
        with self.sessions() as s:
            record = s.get(VideoRecord, video_id)
        if record is None:
            raise VideoNotFound(video_id)
        if (user is None or record.owner_id != user.id) and record.published_at is None:
            raise VideoNotFound(video_id)
        return record

    def list(
        self,
        user: UserRecord,
        *,
        after: str | None = None,
        limit: int = 20,
        order: Literal["asc", "desc"] = "desc",
    ) -> Page:
        """Cursor pagination over the user's videos by id (ids follow creation time)."""
        query = select(VideoRecord).where(VideoRecord.owner_id == user.id)
        if after:
            query = query.where(
                VideoRecord.id > after if order == "asc" else VideoRecord.id < after
            )
        query = query.order_by(VideoRecord.id.asc() if order == "asc" else VideoRecord.id.desc())
        with self.sessions() as s:
            rows = list(s.scalars(query.limit(limit + 1)))
        return Page(rows[:limit], len(rows) > limit)

    # -- change ---------------------------------------------------------------------------
    def delete(self, user: UserRecord, video_id: str) -> None:
        """Cancel the job if it is queued or running, then remove the record and its files."""
        record = self.get(user, video_id)
        self.services.queue.cancel(record.id)
        with self.sessions.begin() as s:
            s.query(JobRecord).filter(JobRecord.video_id == record.id).delete()
            s.query(VideoRecord).filter(VideoRecord.id == record.id).delete()
        self.services.files.delete(record.id)
        self.services.backends.forget(record.backend, (record.provenance or {}).get("engine"))

    def cancel(self, user: UserRecord, video_id: str) -> bool:
        """Cancel a queued or running video and remove it; True when it was cancelled.

        A video that is already completed or failed is left as it is (False): cancelling
        never deletes a finished video (``delete`` does that, asked for as such)."""
        record = self.get(user, video_id)
        if record.status not in (QUEUED, IN_PROGRESS):
            return False
        self.services.queue.cancel(record.id)
        with self.sessions() as s:
            row = s.get(VideoRecord, record.id)
            finished = row is not None and row.status not in (QUEUED, IN_PROGRESS)
        if finished:  # it finished while being cancelled
            return False
        self.delete(user, video_id)
        return True

    def set_published(self, user: UserRecord, video_id: str, published: bool) -> VideoRecord:
        record = self.get(user, video_id)
        if published and record.status != COMPLETED:
            raise InvalidRequest("only completed videos can be published", param="video_id")
        if published:
            from mutoscope.characters.service import removed_from_feed

            with self.sessions() as s:
                if removed_from_feed(s, record.id):
                    raise Forbidden(
                        "this video uses a character whose owner removed it from the feed or "
                        "withdrew the character; it can stay in your videos but not be published",
                        param="video_id",
                        code="character_revoked",
                    )
        with self.sessions.begin() as s:
            row = s.get(VideoRecord, record.id)
            assert row is not None
            row.published_at = (row.published_at or now()) if published else None
            return row

    def retry(self, user: UserRecord, video_id: str) -> VideoRecord:
        """Queue a failed video again with the same settings (a new attempt budget)."""
        record = self.get(user, video_id)
        if record.status != FAILED:
            raise InvalidRequest(
                f"only failed videos can be retried (this one is {record.status})", param="video_id"
            )
        with self.sessions.begin() as s:
            row = s.get(VideoRecord, record.id)
            assert row is not None
            row.status, row.progress, row.error_code, row.error_message = QUEUED, 0, None, None
            job = s.get(JobRecord, record.id)
            if job is not None:
                s.delete(job)
                s.flush()
            self.services.queue.enqueue(
                record.id, session=s, max_attempts=self.services.settings.max_attempts
            )
        self.services.queue.notify()
        return row


MAX_SEED = 2**31 - 1
"""Seeds are stored as 32-bit integers (PostgreSQL ``integer``); larger ones are refused."""


def check_seed(seed: int | None, given: object = None) -> int | None:
    """``seed`` if it is None or 0..MAX_SEED; ``given`` is what the caller typed, for the
    message (a form's text, which may not be a number at all)."""
    if seed is not None and not 0 <= seed <= MAX_SEED:
        shown = str(seed if given is None else given)[:40]
        raise InvalidRequest(
            f"seed must be a whole number from 0 to {MAX_SEED} (got '{shown}')", param="seed"
        )
    return seed


def check_prompt(prompt: str | None) -> str:
    if prompt is None or not prompt.strip():
        raise InvalidRequest("prompt must not be empty (1 to 32,000 characters)", param="prompt")
    if len(prompt) > MAX_PROMPT:
        raise InvalidRequest(
            f"prompt is too long: {len(prompt):,} characters (the limit is 32,000)", param="prompt"
        )
    return prompt


def check_total_length(clip: SourceClip, seconds: str, limit: float) -> None:
    """Refuse an extension whose result (the clip plus ``seconds``) would pass ``limit``."""
    try:
        added = float(seconds)
    except ValueError:
        return  # the backend's own check names the allowed values
    total = clip.duration + added
    if total > limit:
        name = f"'{clip.parent.id}'" if clip.parent is not None else "the uploaded video"
        raise InvalidRequest(
            f"extending {name} by {seconds} s would make a {total:g}-second video; "
            f"videos may be at most {limit:g} seconds (MUTOSCOPE_MAX_TOTAL_SECONDS)",
            param="seconds",
        )


def _fit_text(prompt: str, uses: list[Use]) -> str:
    """The prompt as a model with a vocabulary reads it: each character's mention replaced
    by its look in the model's words (``Blobby`` -> ``red circle``), where one was read."""
    from mutoscope.characters.look import describe

    for use in uses:
        words = describe(use.character.look or {})
        if words and use.mention:
            prompt = prompt.replace(use.mention, words)
    return prompt


def _first_frames(services: Services, uses: list[Use]) -> list[Image.Image]:
    """Each character's first reference frame (enough for ``backend.check``)."""
    out = []
    for use in uses:
        with Image.open(services.files.path(use.character.id, "reference")) as img:
            out.append(img.convert("RGB"))
    return out


def _default_size(sizes: tuple[str, ...]) -> str:
    # The OpenAI default is portrait 720x1280; fall back to the backend's first size.
    return "720x1280" if "720x1280" in sizes else sizes[0]
