"""The ``JobQueue`` interface: durable hand-off of accepted videos to workers.

A job is enqueued in the same transaction that stores its video, claimed under a lease that
the worker's heartbeat thread extends, and finished exactly once. A lease that runs out (the
worker died) makes the job claimable again, up to ``max_attempts``.

Fencing: every claim increments ``attempt``. ``heartbeat``, ``finish`` and ``retry`` given the
``attempt`` they were claimed with succeed only while that exact claim still holds the job, so
a worker whose lease was taken over (even by another thread of the same worker) can no longer
commit anything.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ClaimedJob:
    video_id: str
    attempt: int
    max_attempts: int


class JobQueue(ABC):
    @abstractmethod
    def enqueue(self, video_id: str, *, session: Any = None, max_attempts: int = 3) -> None:
        """Add a job; with ``session``, inside the caller's transaction."""

    @abstractmethod
    def claim(
        self,
        worker_id: str,
        *,
        video_id: str | None = None,
        models: Collection[str] | None = None,
    ) -> ClaimedJob | None:
        """Take the oldest runnable job (or that video's, if runnable) under a lease.

        ``models``: only jobs whose video is made by one of these backends (model affinity).
        """

    @abstractmethod
    def heartbeat(self, video_id: str, worker_id: str, attempt: int | None = None) -> bool:
        """Extend the lease; ``False`` when the job was cancelled or taken by another claim."""

    @abstractmethod
    def finish(
        self, video_id: str, worker_id: str, *, session: Any = None, attempt: int | None = None
    ) -> bool:
        """Mark done (with ``session``, in the caller's transaction); ``False`` if this claim
        no longer holds the job (nothing is changed then)."""

    @abstractmethod
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
        """Release the job to run again after ``delay`` seconds; ``False`` if this claim no
        longer holds it (nothing is changed then)."""

    @abstractmethod
    def cancel(self, video_id: str) -> None:
        """Stop a queued or running job (its worker notices at the next heartbeat)."""

    @abstractmethod
    def expired(self) -> list[ClaimedJob]:
        """Jobs whose lease ran out and which have no attempts left (to be failed)."""

    def wait(self, timeout: float, *, models: Collection[str] | None = None) -> None:
        """Block until a job may be available (for ``models``, if given) or ``timeout``; a
        queue that is told of new jobs may sleep longer. The default just sleeps."""
        import time

        time.sleep(timeout)

    def notify(self) -> None:
        """Wake waiting workers (after an enqueue in this process)."""
        return None

    def close(self) -> None:
        """Release background resources (listener connections)."""
        return None
