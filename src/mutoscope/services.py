"""The handful of long-lived objects one Mutoscope process needs, built once from Settings.

Built by ``build_services`` and passed down explicitly (to the API through ``app.state``, to
the worker and CLI as an argument): no module-level globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from mutoscope.backends.registry import BackendRegistry, load_backends
from mutoscope.config import Settings
from mutoscope.storage.db import make_engine, session_factory, upgrade
from mutoscope.storage.files import LocalFileStore
from mutoscope.worker.hooks import ProvenanceStamper, RightsGate

if TYPE_CHECKING:
    from mutoscope.jobs.base import JobQueue


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker
    backends: BackendRegistry
    files: LocalFileStore
    queue: JobQueue
    rights: RightsGate
    provenance: ProvenanceStamper

    def close(self) -> None:
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
    files = LocalFileStore(settings.media_dir)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        backends=backends if backends is not None else load_backends(settings),
        files=files,
        queue=SqlJobQueue(sessions, lease_seconds=settings.lease_seconds),
        rights=rights if rights is not None else _default_rights(settings, sessions, files),
        provenance=provenance
        if provenance is not None
        else _default_provenance(settings, sessions),
    )


def _default_rights(
    settings: Settings, sessions: sessionmaker, files: LocalFileStore
) -> RightsGate:
    from mutoscope.rights.service import RightsService

    return RightsService(settings, sessions, files=files)


def _default_provenance(settings: Settings, sessions: sessionmaker) -> ProvenanceStamper:
    from mutoscope.provenance.service import ProvenanceService

    return ProvenanceService(settings, sessions)
