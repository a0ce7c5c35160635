"""The ``JobQueue`` interface: durable hand-off of accepted videos to workers.

A job is enqueued in the same transaction that stores its video, claimed under a lease that
the worker's heartbeats extend, and finished exactly once. A lease that runs out (the worker
died) makes the job claimable again, up to ``max_attempts``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
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
    def claim(self, worker_id: str, *, video_id: str | None = None) -> ClaimedJob | None:
        """Take the oldest runnable job (or that video's, if runnable) under a lease."""

    @abstractmethod
    def heartbeat(self, video_id: str, worker_id: str) -> bool:
        """Extend the lease; ``False`` when the job was cancelled or taken by another worker."""

    @abstractmethod
    def finish(self, video_id: str, worker_id: str, *, session: Any = None) -> bool:
        """Mark done (with ``session``, in the caller's transaction); ``False`` if this worker
        no longer holds the job."""

    @abstractmethod
    def retry(self, video_id: str, worker_id: str, *, delay: float, error: str) -> None:
        """Release the job to run again after ``delay`` seconds."""

    @abstractmethod
    def cancel(self, video_id: str) -> None:
        """Stop a queued or running job (its worker notices at the next heartbeat)."""

    @abstractmethod
    def expired(self) -> list[ClaimedJob]:
        """Jobs whose lease ran out and which have no attempts left (to be failed)."""

    def wait(self, timeout: float) -> None:
        """Block until a job may be available (or ``timeout``); default just sleeps."""
        import time

        time.sleep(timeout)

    def notify(self) -> None:
        """Wake waiting workers (after an enqueue in this process)."""
        return None
