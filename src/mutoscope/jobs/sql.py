"""``SqlJobQueue``: the durable queue in the application database (SQLite or PostgreSQL).

The claim is one named statement; on PostgreSQL its sub-select takes ``FOR UPDATE SKIP LOCKED``
so concurrent workers never block each other, on SQLite the database's write lock serialises it.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from mutoscope.jobs.base import ClaimedJob, JobQueue
from mutoscope.storage.records import JobRecord

CLAIM_SQL = """
UPDATE jobs
   SET state = 'running', lease_owner = :owner, lease_expires_at = :lease,
       attempts = attempts + 1
 WHERE video_id = (
        SELECT video_id FROM jobs
         WHERE ((state = 'queued' AND run_after <= :now)
            OR (state = 'running' AND lease_expires_at < :now))
           AND attempts < max_attempts
           AND (CAST(:video_id AS VARCHAR(64)) IS NULL OR video_id = :video_id)
         ORDER BY run_after, video_id
         LIMIT 1 {lock})
RETURNING video_id, attempts, max_attempts
"""


class SqlJobQueue(JobQueue):
    def __init__(self, sessions: sessionmaker, *, lease_seconds: float = 15.0):
        self.sessions = sessions
        self.lease_seconds = lease_seconds
        self._wake = threading.Condition()
        dialect = sessions.kw["bind"].dialect.name if "bind" in sessions.kw else "sqlite"
        self._claim = text(
            CLAIM_SQL.format(lock="FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else "")
        )

    def enqueue(
        self, video_id: str, *, session: Session | None = None, max_attempts: int = 3
    ) -> None:
        job = JobRecord(
            video_id=video_id, state="queued", attempts=0, max_attempts=max_attempts, run_after=0.0
        )
        if session is not None:
            session.add(job)
            return
        with self.sessions.begin() as s:
            s.add(job)

    def claim(self, worker_id: str, *, video_id: str | None = None) -> ClaimedJob | None:
        now = time.time()
        params = {
            "owner": worker_id,
            "lease": now + self.lease_seconds,
            "now": now,
            "video_id": video_id,
        }
        with self.sessions.begin() as s:
            row = s.execute(self._claim, params).first()
        return ClaimedJob(row[0], row[1], row[2]) if row else None

    def heartbeat(self, video_id: str, worker_id: str) -> bool:
        with self.sessions.begin() as s:
            result = s.execute(
                text(
                    "UPDATE jobs SET lease_expires_at = :lease WHERE video_id = :id "
                    "AND lease_owner = :owner AND state = 'running'"
                ),
                {"lease": time.time() + self.lease_seconds, "id": video_id, "owner": worker_id},
            )
        return result.rowcount == 1  # type: ignore[attr-defined,unused-ignore]

    def finish(self, video_id: str, worker_id: str, *, session: Session | None = None) -> bool:
        if session is None:
            with self.sessions.begin() as s:
                return self.finish(video_id, worker_id, session=s)
        result = session.execute(
            text(
                "UPDATE jobs SET state = 'done', lease_owner = NULL WHERE video_id = :id "
                "AND lease_owner = :owner AND state = 'running'"
            ),
            {"id": video_id, "owner": worker_id},
        )
        return result.rowcount == 1  # type: ignore[attr-defined,unused-ignore]

    def retry(self, video_id: str, worker_id: str, *, delay: float, error: str) -> None:
        with self.sessions.begin() as s:
            s.execute(
                text(
                    "UPDATE jobs SET state = 'queued', lease_owner = NULL, run_after = :after, "
                    "last_error = :error WHERE video_id = :id AND lease_owner = :owner"
                ),
                {"after": time.time() + delay, "error": error, "id": video_id, "owner": worker_id},
            )
        self.notify()

    def cancel(self, video_id: str) -> None:
        with self.sessions.begin() as s:
            s.execute(
                text(
                    "UPDATE jobs SET state = 'cancelled', lease_owner = NULL WHERE video_id = :id"
                ),
                {"id": video_id},
            )

    def expired(self) -> list[ClaimedJob]:
        with self.sessions.begin() as s:
            rows = s.execute(
                text(
                    "SELECT video_id, attempts, max_attempts FROM jobs WHERE state = 'running' "
                    "AND lease_expires_at < :now AND attempts >= max_attempts"
                ),
                {"now": time.time()},
            ).all()
        return [ClaimedJob(*row) for row in rows]

    def wait(self, timeout: float) -> None:
        with self._wake:
            self._wake.wait(timeout)

    def notify(self) -> None:
        with self._wake:
            self._wake.notify_all()
