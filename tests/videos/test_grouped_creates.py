"""Creates grouped in one commit (SQLite): every video, job and audit row lands, the audit
chain and its signed head check out, and a create dropped before its batch leaves nothing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mutoscope.rights.records import AuditRecord
from mutoscope.storage.records import JobRecord, UserRecord, VideoRecord
from mutoscope.storage.writer import BatchWriter
from mutoscope.videos import VideoCreate, VideoService
from tests.rights.test_api import _services_on_test_backend


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Any]:
    _, services = _services_on_test_backend(tmp_path / "home")
    with services.sessions.begin() as s:
        s.add(UserRecord(id="user_a", name="a"))
    yield services
    services.close()


def _count(services: Any, table: type) -> int:
    with services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(table)))


def _hold_writer(writer: BatchWriter) -> threading.Event:
    """Keep the writer thread busy until the returned event is set."""
    busy, release = threading.Event(), threading.Event()

    def slow(_s: Any) -> None:
        busy.set()
        release.wait(30)

    writer.submit(slow)
    assert busy.wait(10)
    return release


def test_creates_that_share_a_commit_all_land_with_a_valid_audit_chain(services: Any) -> None:
    writer = services.writer
    assert isinstance(writer, BatchWriter)  # the embedded default groups commits
    videos, user = VideoService(services), UserRecord(id="user_a", name="a")
    release = _hold_writer(writer)
    with ThreadPoolExecutor(12) as pool:
        body = VideoCreate(prompt="a red circle moving left", size="720x1280")
        futures = [pool.submit(videos.create, user, body) for _ in range(12)]
        while writer._queue.qsize() < 12:  # all twelve screened and waiting for one commit
            threading.Event().wait(0.01)
        release.set()
        ids = {f.result(30).id for f in futures}
    assert len(ids) == 12
    assert _count(services, VideoRecord) == _count(services, JobRecord) == 12
    assert _count(services, AuditRecord) == 12
    report = services.rights.audit.report()
    assert report.ok, report.problems
    head = services.rights.audit.keys.head()
    assert head is not None and head.seq == 12  # the head moved to the batch's last row


def test_a_create_abandoned_before_its_batch_starts_writes_nothing(services: Any) -> None:
    videos, user = VideoService(services), UserRecord(id="user_a", name="a")
    release = _hold_writer(services.writer)

    async def abandoned() -> None:
        body = VideoCreate(prompt="a red circle moving left", size="720x1280")
        task = asyncio.ensure_future(videos.create_async(user, body))
        while services.writer._queue.qsize() < 1:  # accepted and queued for the writer
            await asyncio.sleep(0.01)
        task.cancel()  # the client went away
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(abandoned())
    release.set()
    kept = videos.create(user, VideoCreate(prompt="a blue square", size="720x1280"))
    assert _count(services, VideoRecord) == 1
    assert _count(services, AuditRecord) == 1
    assert services.rights.audit.report().ok
    assert kept.status == "queued"
