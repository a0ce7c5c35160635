"""The registry version: how every process learns that the registry or a consent changed.

Each change (import, removal, consent, starter switch) bumps one row in the same transaction
as the change itself, so a process that reads the new version also reads the change. Each
process's ``RightsService`` compares the version its screener was built from with the row
at most every ``POLL_S`` seconds (a primary-key read: under a millisecond with the
session around it) and rebuilds when it moved. This works the same on SQLite and
PostgreSQL, and across machines that share the database.
"""

from __future__ import annotations

import time

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from mutoscope.rights.records import RegistryVersionRecord

POLL_S = 0.25
"""How stale a process's view of the registry may get before it reads the version again
(changes reach every process within this plus the rebuild time)."""


def bump(session: Session) -> None:
    """Mark the registry changed, inside the caller's transaction (commit with the change)."""
    done = session.execute(
        update(RegistryVersionRecord)
        .where(RegistryVersionRecord.id == 1)
        .values(version=RegistryVersionRecord.version + 1, changed_at=time.time())
    )
    if getattr(done, "rowcount", 1) == 0:
        session.execute(
            insert(RegistryVersionRecord).values(id=1, version=2, changed_at=time.time())
        )


def current(session: Session) -> int:
    """The registry version now (1 for a registry nobody has changed)."""
    return (
        session.scalar(select(RegistryVersionRecord.version).where(RegistryVersionRecord.id == 1))
        or 1
    )
