"""The handful of long-lived objects one Mutoscope process needs, built once from Settings.

Built by ``build_services`` and passed down explicitly (to the API through ``app.state``, to
the worker and CLI as an argument): no module-level globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from mutoscope.backends.registry import BackendRegistry, load_backends
from mutoscope.config import Settings
from mutoscope.storage.db import make_engine, session_factory, upgrade
from mutoscope.storage.files import FileStore, LocalFileStore, S3FileStore
from mutoscope.storage.writer import BatchWriter, Writer
from mutoscope.worker.hooks import ProvenanceStamper, RightsGate

if TYPE_CHECKING:
    from mutoscope.jobs.base import JobQueue


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker
    backends: BackendRegistry
    files: FileStore
    queue: JobQueue
    rights: RightsGate
    provenance: ProvenanceStamper
    writer: Writer = field(default=None)  # type: ignore[assignment]  # set in __post_init__
    """Runs the accept path's write transactions (creates): grouped on one thread on SQLite."""

    def __post_init__(self) -> None:
        if self.writer is None:
            sqlite = self.engine.dialect.name == "sqlite"
            self.writer = BatchWriter(self.sessions) if sqlite else Writer(self.sessions)

    def close(self) -> None:
        self.writer.close()
        self.queue.close()
        self.backends.close()
        self.engine.dispose()


def build_services(
    settings: Settings,
    *,
    backends: BackendRegistry | None = None,
    rights: RightsGate | None = None,
    provenance: ProvenanceStamper | None = None,
) -> Services:
    """Open the database (migrating it), the file store, the backends and the layers."""
    from mutoscope.jobs.sql import SqlJobQueue

    settings.ensure_dirs()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    files = build_file_store(settings)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        backends=backends if backends is not None else load_backends(settings),
        files=files,
        queue=SqlJobQueue(
            sessions,
            lease_seconds=settings.lease_seconds,
            crash_backoff=settings.crash_backoff_seconds,
        ),
        rights=rights if rights is not None else _default_rights(settings, sessions, files),
        provenance=provenance
        if provenance is not None
        else _default_provenance(settings, sessions),
    )


def build_file_store(settings: Settings) -> FileStore:
    """``HOME/media`` on this disk, or the S3-compatible store ``MUTOSCOPE_STORAGE_URL`` names."""
    url = settings.storage_url
    if not url:
        return LocalFileStore(settings.media_dir)
    if url.startswith("s3://"):
        return S3FileStore(
            url,
            scratch=settings.home / "staging",
            cache=settings.home / "cache" / "media",
            presign_seconds=settings.storage_presign_seconds,
        )
    if url.startswith("file://"):
        return LocalFileStore(Path(url.removeprefix("file://")))
    raise ValueError(
        f"MUTOSCOPE_STORAGE_URL must be s3://bucket/prefix or file:///path (got {url!r})"
    )


def _default_rights(settings: Settings, sessions: sessionmaker, files: FileStore) -> RightsGate:
    from mutoscope.rights.service import RightsService

    return RightsService(settings, sessions, files=files)


def _default_provenance(settings: Settings, sessions: sessionmaker) -> ProvenanceStamper:
    from mutoscope.provenance.service import ProvenanceService

    return ProvenanceService(settings, sessions)
