"""Short faults (a full disk, storage 5xx, an engine restarting) do not fail jobs for good."""

from __future__ import annotations

import errno
import math
import time
from pathlib import Path

import pytest

from mutoscope.errors import InvalidRequest
from mutoscope.jobs.retry import RetryPolicy, TransientFault, is_transient, public_reason
from mutoscope.storage.files import LocalFileStore
from mutoscope.storage.records import JobRecord, VideoRecord
from mutoscope.users import UserService
from mutoscope.videos import VideoCreate, VideoService
from mutoscope.worker.pool import Worker


class FullDisk(LocalFileStore):
    """A store whose disk is full for its first ``full_commits`` commits, then has room again.

    Counted, not timed: how long a busy machine takes to reach the first commit must not
    decide how many times the job meets the full disk."""

    def __init__(self, root: Path, full_commits: float):
        super().__init__(root)
        self.full_commits, self.failures = full_commits, 0

    def commit(self, video_id: str, staged: dict[str, Path]) -> None:
        if self.failures < self.full_commits:
            self.failures += 1
            raise OSError(errno.ENOSPC, "No space left on device", str(self.root / "secret"))
        super().commit(video_id, staged)


def _run(core_services, settings, *, full_commits: float, max_seconds: float) -> VideoRecord:
    core_services.settings = settings.model_copy(
        update={"retry_base_delay": 0.05, "retry_max_seconds": max_seconds}
    )
    store = FullDisk(settings.media_dir, full_commits)
    core_services.files = store
    backend = core_services.backends.get("mutoscope-test")
    calls = []
    real_generate = backend.generate
    backend.generate = lambda *a, **k: calls.append(1) or real_generate(*a, **k)  # type: ignore[method-assign]
    user = UserService(core_services.sessions).get_or_create("ada")
    record = VideoService(core_services).create(
        user, VideoCreate(prompt="a red circle", size="320x180")
    )
    worker = Worker(core_services, poll_seconds=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 300  # a hang guard: the loop waits on the status
        while time.monotonic() < deadline:
            with core_services.sessions() as s:
                row = s.get(VideoRecord, record.id)
                assert row is not None
                if row.status in ("completed", "failed"):
                    job = s.get(JobRecord, record.id)
                    row.attempts = job.attempts if job else None  # type: ignore[attr-defined]
                    row.generated = len(calls)  # type: ignore[attr-defined]
                    row.store_failures = store.failures  # type: ignore[attr-defined]
                    return row
            time.sleep(0.05)
    finally:
        worker.stop()
    raise AssertionError("the job did not finish")


def test_full_disk_for_a_while_then_the_job_completes_without_regenerating(core_services, settings):
    row = _run(core_services, settings, full_commits=4, max_seconds=600)
    assert row.status == "completed", row.error_message
    assert row.store_failures == 4  # it really hit the full disk several times
    assert row.generated == 1 and row.attempts == 1  # frames kept; no new attempt used


def test_a_fault_that_outlasts_the_budget_fails_with_a_clean_message(core_services, settings):
    row = _run(core_services, settings, full_commits=math.inf, max_seconds=0.5)
    assert row.status == "failed"
    assert row.error_code == "server_unavailable"
    assert "no space left on device" in row.error_message
    assert str(settings.home) not in row.error_message


def test_faults_are_told_apart_from_decisions():
    from botocore.exceptions import ClientError

    s3_500 = ClientError(
        {"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "Put"
    )
    s3_403 = ClientError(
        {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "Put"
    )
    for fault in (
        OSError(errno.ENOSPC, "full"),
        OSError(errno.EROFS, "read-only"),
        OSError(errno.EIO, "io"),
        s3_500,
        ConnectionRefusedError(),
        TransientFault("engine restarting"),
    ):
        assert is_transient(fault), fault
    try:
        try:
            raise OSError(errno.ENOSPC, "full")
        except OSError as inner:
            raise RuntimeError("encoder failed") from inner
    except RuntimeError as chained:
        assert is_transient(chained)
    for final in (
        InvalidRequest("bad size"),
        FileNotFoundError(2, "gone"),
        ValueError("bug"),
        s3_403,
    ):
        assert not is_transient(final), final


def test_retry_in_place_gives_up_at_once_on_a_decision():
    policy = RetryPolicy(base_delay=0.01, max_seconds=5)
    tries = []

    def refuse() -> None:
        tries.append(1)
        raise InvalidRequest("prompt blocked")

    with pytest.raises(InvalidRequest):
        policy.run(refuse, what="test", sleep=lambda s: None)
    assert tries == [1]


def test_public_reason_hides_paths():
    err = OSError(errno.ENOSPC, "No space left on device", "/srv/media/x")
    assert public_reason(err) == "no space left on device"
    assert "/srv" not in public_reason(RuntimeError("cannot open /srv/media/ab/video.mp4 now"))
