"""``MemoryJobQueue``: an in-process fake that passes the same contract tests as ``SqlJobQueue``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from mutoscope.jobs.base import ClaimedJob, JobQueue


@dataclass
class _Job:
    video_id: str
    max_attempts: int
    state: str = "queued"
    attempts: int = 0
    run_after: float = 0.0
    owner: str | None = None
    lease: float = 0.0
    seq: int = 0


class MemoryJobQueue(JobQueue):
    def __init__(
        self,
        *,
        lease_seconds: float = 15.0,
        crash_backoff: float = 0.0,
        model_of: Callable[[str], str] | None = None,
    ):
        self.lease_seconds = lease_seconds
        self.crash_backoff = crash_backoff
        self.model_of = model_of
        """Which backend makes a video (the SQL queue reads ``videos.backend``)."""
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Condition()
        self._seq = 0

    def enqueue(self, video_id: str, *, session: Any = None, max_attempts: int = 3) -> None:
        with self._lock:
            self._seq += 1
            self._jobs[video_id] = _Job(video_id, max_attempts, seq=self._seq)
            self._lock.notify_all()

    def claim(
        self,
        worker_id: str,
        *,
        video_id: str | None = None,
        models: Collection[str] | None = None,
    ) -> ClaimedJob | None:
        now = time.time()
        with self._lock:
            ready = [
                j
                for j in self._jobs.values()
                if j.attempts < j.max_attempts
                and video_id in (None, j.video_id)
                and (models is None or self._model(j.video_id) in models)
                and (
                    (j.state == "queued" and j.run_after <= now)
                    or (j.state == "running" and j.lease + self._backoff(j) < now)
                )
            ]
            if not ready:
                return None
            job = min(ready, key=lambda j: (j.run_after, j.seq))
            job.state, job.owner, job.lease = "running", worker_id, now + self.lease_seconds
            job.attempts += 1
            return ClaimedJob(job.video_id, job.attempts, job.max_attempts)

    def _backoff(self, job: _Job) -> float:
        """The crash back-off: ``crash_backoff`` doubled per attempt made (as the SQL queue)."""
        return self.crash_backoff * (1 << min(max(job.attempts - 1, 0), 6))

    def _model(self, video_id: str) -> str | None:
        return self.model_of(video_id) if self.model_of else None

    def _held(self, video_id: str, worker_id: str, attempt: int | None) -> _Job | None:
        job = self._jobs.get(video_id)
        if not job or job.owner != worker_id or job.state != "running":
            return None
        return job if attempt is None or job.attempts == attempt else None

    def heartbeat(self, video_id: str, worker_id: str, attempt: int | None = None) -> bool:
        with self._lock:
            job = self._held(video_id, worker_id, attempt)
            if job:
                job.lease = time.time() + self.lease_seconds
            return job is not None

    def finish(
        self, video_id: str, worker_id: str, *, session: Any = None, attempt: int | None = None
    ) -> bool:
        with self._lock:
            job = self._held(video_id, worker_id, attempt)
            if job:
                job.state, job.owner = "done", None
            return job is not None

    def retry(
        self,
        video_id: str,
        worker_id: str,
        *,
        delay: float,
        error: str,
        session: Any = None,
        attempt: int | None = None,
    ) -> bool:
        with self._lock:
            job = self._held(video_id, worker_id, attempt)
            if job:
                job.state, job.owner, job.run_after = "queued", None, time.time() + delay
                self._lock.notify_all()
            return job is not None

    def cancel(self, video_id: str) -> None:
        with self._lock:
            job = self._jobs.get(video_id)
            if job:
                job.state, job.owner = "cancelled", None

    def expired(self) -> list[ClaimedJob]:
        now = time.time()
        with self._lock:
            return [
                ClaimedJob(j.video_id, j.attempts, j.max_attempts)
                for j in self._jobs.values()
                if j.state == "running" and j.lease < now and j.attempts >= j.max_attempts
            ]

    def wait(self, timeout: float, *, models: Collection[str] | None = None) -> None:
        with self._lock:
            self._lock.wait(timeout)

    def notify(self) -> None:
        with self._lock:
            self._lock.notify_all()
