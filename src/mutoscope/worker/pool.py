"""The in-process worker: threads that claim jobs and run them, with bounded retries."""

from __future__ import annotations

import logging
import os
import threading
import traceback
from typing import TYPE_CHECKING, Any

from mutoscope.errors import JobCancelled, MutoscopeError
from mutoscope.jobs.retry import RetryPolicy, is_transient, public_reason
from mutoscope.retention import RetentionSweeper
from mutoscope.storage.records import FAILED, QUEUED, VideoRecord, now
from mutoscope.worker.run import run_job

if TYPE_CHECKING:
    from collections.abc import Collection

    from sqlalchemy.orm import Session

    from mutoscope.jobs.base import ClaimedJob
    from mutoscope.services import Services

log = logging.getLogger(__name__)


class Worker:
    """``concurrency`` threads pulling from ``services.queue`` until ``stop()``.

    ``models``: claim only videos made by these backends (``None``: any), so a worker on a GPU
    that holds some models never takes jobs for the others.
    """

    def __init__(
        self,
        services: Services,
        *,
        concurrency: int = 1,
        poll_seconds: float = 0.5,
        models: Collection[str] | None = None,
    ):
        self.services = services
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.models = frozenset(models) if models is not None else None
        self.policy = RetryPolicy.from_settings(services.settings)
        self.worker_id = f"{os.uname().nodename}:{os.getpid()}:{id(self):x}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.sweeper = RetentionSweeper(services, services.settings.retention_sweep_seconds)

    def start(self) -> None:
        self.services.files.clean_staging()
        self.sweeper.start()
        for n in range(self.concurrency):
            thread = threading.Thread(target=self._loop, name=f"mutoscope-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.sweeper.stop(timeout)
        self.services.queue.notify()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.fail_exhausted()
                job = self.services.queue.claim(self.worker_id, models=self.models)
            except Exception:
                log.exception("could not claim a job")
                job = None
            if job is None:
                self.services.queue.wait(self.poll_seconds, models=self.models)
                continue
            self.run_one(job)

    def run_one(self, job: ClaimedJob) -> None:
        """Run one claimed job and record its outcome (completed, retried or failed)."""
        try:
            run_job(self.services, job, self.worker_id)
        except JobCancelled:
            log.info("job %s cancelled", job.video_id)
        except Exception as exc:
            self._failed(job, exc)

    def _failed(self, job: ClaimedJob, exc: Exception) -> None:
        if self.policy.should_retry(exc, job.attempt):
            delay = self.policy.delay(job.attempt)
            log.warning(
                "job %s attempt %d failed (%s); retrying in %.1fs",
                job.video_id,
                job.attempt,
                exc,
                delay,
            )
            error = "".join(traceback.format_exception_only(exc))
            with self.services.sessions.begin() as s:
                # Fenced: if another claim took the job over, its outcome stands, not ours.
                if self.services.queue.retry(
                    job.video_id,
                    self.worker_id,
                    delay=delay,
                    error=error,
                    session=s,
                    attempt=job.attempt,
                ):
                    self._update(s, job.video_id, status=QUEUED, progress=0)
            self.services.queue.notify()
            return
        if isinstance(exc, MutoscopeError):
            code, message = exc.code or "generation_failed", exc.message
        elif is_transient(exc):
            log.error("job %s failed: fault outlasted its retries", job.video_id, exc_info=exc)
            code = "server_unavailable"
            message = (
                f"the server could not finish this video ({public_reason(exc)}) after retrying "
                "for several minutes; retry it later"
            )
        else:
            log.exception("job %s failed", job.video_id, exc_info=exc)
            code, message = "internal_error", f"generation failed: {public_reason(exc)}"
        with self.services.sessions.begin() as s:
            if self.services.queue.finish(
                job.video_id, self.worker_id, session=s, attempt=job.attempt
            ):
                self._update(
                    s,
                    job.video_id,
                    status=FAILED,
                    error_code=code,
                    error_message=message,
                    completed_at=now(),
                )

    def fail_exhausted(self) -> None:
        """Fail jobs whose worker died on their last allowed attempt."""
        for job in self.services.queue.expired():
            self.services.queue.cancel(job.video_id)
            self._set(
                job.video_id,
                status=FAILED,
                error_code="worker_crashed",
                error_message=f"the worker stopped {job.attempt} times while making this video",
                completed_at=now(),
            )

    def _set(self, video_id: str, **values: object) -> None:
        with self.services.sessions.begin() as s:
            self._update(s, video_id, **values)

    @staticmethod
    def _update(session: Session, video_id: str, **values: Any) -> None:
        changes: dict[Any, Any] = values
        session.query(VideoRecord).filter(VideoRecord.id == video_id).update(changes)
