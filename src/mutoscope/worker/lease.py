"""``JobLease``: a heartbeat thread that belongs to one claimed job.

The lease is renewed every ``lease_seconds / 3`` from its own thread for as long as the job
runs — model load, lock waits, denoising, VAE decode, watermark, encode, sign and upload alike —
so a live worker never loses its job to another, however long a step takes without reporting
progress. When a renewal is refused (the video was deleted, or the lease was taken over after
this process stalled), ``lost`` is set and the job's next ``check()`` raises ``JobCancelled``.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from mutoscope.errors import JobCancelled
from mutoscope.jobs.base import ClaimedJob, JobQueue

log = logging.getLogger(__name__)


class JobLease:
    def __init__(self, queue: JobQueue, job: ClaimedJob, worker_id: str, *, every: float):
        self.queue, self.job, self.worker_id, self.every = queue, job, worker_id, every
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"mutoscope-lease-{job.video_id}", daemon=True
        )

    def __enter__(self) -> JobLease:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def check(self) -> None:
        """Raise ``JobCancelled`` if this claim no longer holds the job."""
        if self.lost.is_set():
            raise JobCancelled(self.job.video_id)

    def _beat(self) -> None:
        while not self._done.wait(self.every):
            try:
                held = self.queue.heartbeat(self.job.video_id, self.worker_id, self.job.attempt)
            except Exception:
                # A database hiccup: keep the job and try again; the lease has two more beats
                # of slack before anyone else may take it.
                log.warning("lease renewal for %s failed", self.job.video_id, exc_info=True)
                continue
            if not held:
                log.info("job %s: lease lost (cancelled or taken over)", self.job.video_id)
                self.lost.set()
                return
