"""Retention: a video whose ``expires_at`` has passed loses its files.

The worker sets ``expires_at`` when a video completes (``MUTOSCOPE_VIDEO_TTL_SECONDS``; unset
keeps videos for ever). Downloads are refused (410 ``video_expired``) from that moment on;
``sweep_expired`` then deletes the files from the store and records ``expired_at`` on the row,
which stays so that the API can still say what happened to the video. Uploads to /v1/files
expire too (``MUTOSCOPE_FILE_TTL_SECONDS``, ``expire_files``). Every worker process runs a
``RetentionSweeper``; sweeps are idempotent, so several workers may overlap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, select

from mutoscope.errors import VideoExpired
from mutoscope.files import FileRecord
from mutoscope.storage.records import VideoRecord, now

if TYPE_CHECKING:
    from mutoscope.services import Services

log = logging.getLogger(__name__)

SWEEP_BATCH = 200


def is_expired(record: VideoRecord, at: int | None = None) -> bool:
    """Whether ``record``'s retention has passed (swept or not)."""
    if record.expired_at is not None:
        return True
    return record.expires_at is not None and record.expires_at <= (at or now())


def check_not_expired(record: VideoRecord) -> None:
    """Raise ``VideoExpired`` (410) for a video past its ``expires_at``."""
    if is_expired(record):
        raise VideoExpired(record.id, record.expires_at or record.expired_at or 0)


def sweep_expired(services: Services, *, at: int | None = None) -> list[str]:
    """Delete the files of every video past its ``expires_at`` and mark it expired.

    Returns the ids swept. Files go first: a crash in between leaves a row that the next sweep
    picks up again (deleting files that are already gone is a no-op)."""
    at = at or now()
    query = (
        select(VideoRecord.id, VideoRecord.backend, VideoRecord.provenance)
        .where(VideoRecord.expires_at <= at, VideoRecord.expired_at.is_(None))
        .order_by(VideoRecord.expires_at)
    )
    swept: list[str] = []
    for row in _due(services, query):
        services.files.delete(row.id)
        services.backends.forget(row.backend, (row.provenance or {}).get("engine"))
        with services.sessions.begin() as s:
            s.query(VideoRecord).filter(
                VideoRecord.id == row.id, VideoRecord.expired_at.is_(None)
            ).update({"expired_at": at})
        swept.append(row.id)
    if swept:
        log.info("retention: deleted the files of %d expired videos", len(swept))
    return swept


def expire_files(services: Services, *, at: int | None = None) -> list[str]:
    """Delete every /v1/files upload past its expiry: the bytes, then the row (a crash in
    between leaves a row, already answering 404, that the next sweep picks up). Returns the
    ids deleted."""
    ttl = services.settings.file_ttl_seconds
    if not ttl:
        return []
    at = at or now()
    query = (
        select(FileRecord.id)
        .where(FileRecord.created_at <= at - ttl)
        .order_by(FileRecord.created_at)
    )
    deleted: list[str] = []
    for row in _due(services, query):
        services.files.delete(row.id)
        with services.sessions.begin() as s:
            s.query(FileRecord).filter(FileRecord.id == row.id).delete()
        deleted.append(row.id)
    if deleted:
        log.info("retention: deleted %d expired files", len(deleted))
    return deleted


def _due(services: Services, query: Select[Any]) -> Iterator[Row[Any]]:
    """The rows of ``query``, read ``SWEEP_BATCH`` at a time; handling a row must take it out
    of the query (a batch shorter than that ends the sweep)."""
    while True:
        with services.sessions() as s:
            rows = list(s.execute(query.limit(SWEEP_BATCH)))
        yield from rows
        if len(rows) < SWEEP_BATCH:
            return


class RetentionSweeper:
    """A daemon thread that runs ``sweep_expired`` and ``expire_files`` every ``every``
    seconds until ``stop``."""

    def __init__(self, services: Services, every: float):
        self.services, self.every = services, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="mutoscope-retention", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        # The first sweep waits one period: start-up (and a one-off `generate`) stays quick.
        while not self._stop.wait(self.every):
            for sweep in (sweep_expired, expire_files):
                try:
                    sweep(self.services)
                except Exception:  # a store or database fault: try again next round
                    log.exception("retention sweep (%s) failed", sweep.__name__)
