"""``SqlJobQueue``: the durable queue in the application database (SQLite or PostgreSQL).

The claim is one named statement; on PostgreSQL its sub-select takes ``FOR UPDATE SKIP LOCKED``
so concurrent workers never block each other, on SQLite the database's write lock serialises it.
On PostgreSQL an enqueue also sends ``NOTIFY mutoscope_jobs`` in its transaction, and a listener
thread wakes this process's idle workers, so a job is claimed within milliseconds on any machine.
While that listener is connected, an idle worker sleeps until the next moment a job becomes
claimable without a notification (a retry's delay or a dead worker's lease runs out), read from
the table, or at most ``LISTENING_POLL_S``; otherwise (SQLite, or the listener reconnecting) it
polls every ``timeout`` it is given.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from typing import Any

from sqlalchemy import Table, bindparam, insert, text
from sqlalchemy.orm import Session, sessionmaker

from mutoscope.jobs.base import ClaimedJob, JobQueue
from mutoscope.storage.records import JobRecord

log = logging.getLogger(__name__)

CHANNEL = "mutoscope_jobs"
_JOBS: Table = JobRecord.__table__  # type: ignore[assignment]
_ENQUEUE = insert(_JOBS)

CLAIM_SQL = """
UPDATE jobs
   SET state = 'running', lease_owner = :owner, lease_expires_at = :lease,
       attempts = attempts + 1
 WHERE video_id = (
        SELECT video_id FROM jobs
         WHERE ((state = 'queued' AND run_after <= :now)
            OR (state = 'running'
                AND lease_expires_at + :crash_backoff * {doubling} < :now))
           AND attempts < max_attempts
           AND (CAST(:video_id AS VARCHAR(64)) IS NULL OR video_id = :video_id)
           {affinity}
         ORDER BY run_after, video_id
         LIMIT 1 {lock})
RETURNING video_id, attempts, max_attempts
"""
# 1, 2, 4, ... 64 times ``crash_backoff`` for the 1st, 2nd, 3rd, ... crashed attempt; a shift
# rather than POWER() because SQLite builds may lack math functions.
DOUBLING = "(1 << (CASE WHEN attempts > 7 THEN 6 WHEN attempts < 1 THEN 0 ELSE attempts - 1 END))"
AFFINITY = "AND video_id IN (SELECT id FROM videos WHERE backend IN :models)"

# When the next job becomes claimable (or, out of attempts, due to be failed) without anyone
# sending a notification: a retry's ``run_after``, a running job's lease expiry (+ back-off).
NEXT_DUE_SQL = """
SELECT min(CASE WHEN state = 'queued' THEN run_after
                WHEN attempts >= max_attempts THEN lease_expires_at
                ELSE lease_expires_at + :crash_backoff * {doubling} END)
  FROM jobs
 WHERE ((state = 'queued' AND attempts < max_attempts) OR state = 'running')
   {affinity}
"""
LISTENING_POLL_S = 10.0
"""An idle worker's longest sleep while notifications wake it: a safety net only (say a
notification lost to a network partition), since every enqueue and retry sends one."""

# Fencing: a claim holds the job while it is running under this owner and attempt number.
HELD = (
    "video_id = :id AND lease_owner = :owner AND state = 'running' "
    "AND (CAST(:attempt AS INTEGER) IS NULL OR attempts = :attempt)"
)


class SqlJobQueue(JobQueue):
    def __init__(
        self, sessions: sessionmaker, *, lease_seconds: float = 15.0, crash_backoff: float = 0.0
    ):
        self.sessions = sessions
        self.lease_seconds = lease_seconds
        self.crash_backoff = crash_backoff
        """Seconds a job whose worker died waits after its lease ran out before another claim
        may take it, doubled for each attempt already made (exponential back-off on crashes)."""
        self._wake = threading.Condition()
        self._wakes = 0  # notifications so far: a wait returns at once if one came since...
        self._seen = threading.local()  # ...this thread's last claim began (``seen.wakes``)
        bind = sessions.kw.get("bind")
        self.dialect = bind.dialect.name if bind is not None else "sqlite"
        lock = "FOR UPDATE SKIP LOCKED" if self.dialect == "postgresql" else ""
        self._claim = text(CLAIM_SQL.format(lock=lock, affinity="", doubling=DOUBLING))
        self._claim_models = text(
            CLAIM_SQL.format(lock=lock, affinity=AFFINITY, doubling=DOUBLING)
        ).bindparams(bindparam("models", expanding=True))
        self._next_due = text(NEXT_DUE_SQL.format(affinity="", doubling=DOUBLING))
        self._next_due_models = text(
            NEXT_DUE_SQL.format(affinity=AFFINITY, doubling=DOUBLING)
        ).bindparams(bindparam("models", expanding=True))
        self._listener: threading.Thread | None = None
        self._listening = threading.Event()
        self._closed = threading.Event()

    def enqueue(
        self, video_id: str, *, session: Session | None = None, max_attempts: int = 3
    ) -> None:
        if session is None:
            with self.sessions.begin() as s:
                self.enqueue(video_id, session=s, max_attempts=max_attempts)
            return
        # A Core insert: on the accept path the ORM's unit of work cost more than the insert.
        session.execute(
            _ENQUEUE,
            {
                "video_id": video_id,
                "state": "queued",
                "attempts": 0,
                "max_attempts": max_attempts,
                "run_after": 0.0,
            },
        )
        self._announce(session)

    def _announce(self, session: Session) -> None:
        """Wake workers in other processes once this transaction commits (PostgreSQL)."""
        if self.dialect == "postgresql":
            session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})

    def claim(
        self,
        worker_id: str,
        *,
        video_id: str | None = None,
        models: Collection[str] | None = None,
    ) -> ClaimedJob | None:
        self._seen.wakes = self._wakes
        now = time.time()
        params: dict[str, Any] = {
            "owner": worker_id,
            "lease": now + self.lease_seconds,
            "now": now,
            "video_id": video_id,
            "crash_backoff": self.crash_backoff,
        }
        statement = self._claim
        if models is not None:
            statement, params["models"] = self._claim_models, sorted(models)
        with self.sessions.begin() as s:
            row = s.execute(statement, params).first()
        return ClaimedJob(row[0], row[1], row[2]) if row else None

    def heartbeat(self, video_id: str, worker_id: str, attempt: int | None = None) -> bool:
        with self.sessions.begin() as s:
            result = s.execute(
                text(f"UPDATE jobs SET lease_expires_at = :lease WHERE {HELD}"),
                {
                    "lease": time.time() + self.lease_seconds,
                    "id": video_id,
                    "owner": worker_id,
                    "attempt": attempt,
                },
            )
        return result.rowcount == 1  # type: ignore[attr-defined,unused-ignore]

    def finish(
        self,
        video_id: str,
        worker_id: str,
        *,
        session: Session | None = None,
        attempt: int | None = None,
    ) -> bool:
        if session is None:
            with self.sessions.begin() as s:
                return self.finish(video_id, worker_id, session=s, attempt=attempt)
        result = session.execute(
            text(f"UPDATE jobs SET state = 'done', lease_owner = NULL WHERE {HELD}"),
            {"id": video_id, "owner": worker_id, "attempt": attempt},
        )
        return result.rowcount == 1  # type: ignore[attr-defined,unused-ignore]

    def retry(
        self,
        video_id: str,
        worker_id: str,
        *,
        delay: float,
        error: str,
        session: Session | None = None,
        attempt: int | None = None,
    ) -> bool:
        if session is None:
            with self.sessions.begin() as s:
                held = self.retry(
                    video_id, worker_id, delay=delay, error=error, session=s, attempt=attempt
                )
            self.notify()
            return held
        result = session.execute(
            text(
                "UPDATE jobs SET state = 'queued', lease_owner = NULL, run_after = :after, "
                f"last_error = :error WHERE {HELD}"
            ),
            {
                "after": time.time() + delay,
                "error": error,
                "id": video_id,
                "owner": worker_id,
                "attempt": attempt,
            },
        )
        self._announce(session)
        return result.rowcount == 1  # type: ignore[attr-defined,unused-ignore]

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

    def wait(self, timeout: float, *, models: Collection[str] | None = None) -> None:
        if self.dialect == "postgresql" and self._listener is None:
            self._start_listener()
        if self._listening.is_set():
            timeout = max(timeout, self._seconds_until_due(models))
        with self._wake:
            # Once per notification: a claim that never ran (its database down) must not
            # leave this thread returning at once for ever.
            seen, self._seen.wakes = getattr(self._seen, "wakes", self._wakes), self._wakes
            if self._wakes == seen:
                self._wake.wait(timeout)

    def _seconds_until_due(self, models: Collection[str] | None) -> float:
        """Seconds until a job becomes claimable with no notification (at most
        ``LISTENING_POLL_S``)."""
        params: dict[str, Any] = {"crash_backoff": self.crash_backoff}
        statement = self._next_due
        if models is not None:
            statement, params["models"] = self._next_due_models, sorted(models)
        try:
            with self.sessions() as s:
                due = s.execute(statement, params).scalar()
        except Exception:
            log.warning("could not read when the next job is due", exc_info=True)
            return 0.0
        return LISTENING_POLL_S if due is None else min(LISTENING_POLL_S, due - time.time())

    def notify(self) -> None:
        with self._wake:
            self._wakes += 1
            self._wake.notify_all()

    def close(self) -> None:
        self._closed.set()
        if self._listener is not None:
            self._listener.join(3)

    # -- cross-process wake-ups (PostgreSQL LISTEN/NOTIFY) -------------------------------------
    def _start_listener(self) -> None:
        with self._wake:
            if self._listener is not None:
                return
            self._listener = threading.Thread(
                target=self._listen, name="mutoscope-queue-listener", daemon=True
            )
            self._listener.start()

    def _listen(self) -> None:
        import psycopg

        bind = self.sessions.kw["bind"]
        dsn = bind.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._closed.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    # Jobs enqueued while no one listened sent their notifications to no one.
                    self.notify()
                    while not self._closed.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.notify()
            except Exception:
                self._listening.clear()
                self.notify()  # idle workers go back to polling until it reconnects
                log.warning("job queue listener lost its connection; reconnecting", exc_info=True)
                self._closed.wait(1.0)
        self._listening.clear()
