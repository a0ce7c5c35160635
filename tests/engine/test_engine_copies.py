"""An engine video through the real worker: what it records, and what deleting it does there."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from mutoscope.backends.registry import load_backends
from mutoscope.retention import sweep_expired
from mutoscope.services import build_services
from mutoscope.storage.records import VideoRecord, now
from mutoscope.users import UserService
from mutoscope.videos import VideoCreate, VideoService
from mutoscope.worker.hooks import NullProvenance, NullRights
from mutoscope.worker.pool import Worker
from tests.engine.fake_engine import FakeEngine
from tests.engine.test_field_mapping import backend


@pytest.fixture
def services(settings, engine: FakeEngine) -> Iterator:
    remote = backend(engine.url, id="remote", sizes=["320x180"], poll_interval=0.05)
    registry = load_backends(settings, hooks=[lambda register, _: register(remote)])
    built = build_services(
        settings, backends=registry, rights=NullRights(), provenance=NullProvenance()
    )
    yield built
    built.close()


def made_on_the_engine(services, prompt: str) -> VideoRecord:
    user = UserService(services.sessions).get_or_create("ada")
    record = VideoService(services).create(
        user, VideoCreate(prompt=prompt, model="remote", size="320x180")
    )
    worker = Worker(services, poll_seconds=0.05)
    worker.start()
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with services.sessions() as s:
                row = s.get(VideoRecord, record.id)
                if row is not None and row.status in ("completed", "failed"):
                    assert row.status == "completed", row.error_message
                    return row
            time.sleep(0.05)
    finally:
        worker.stop()
    raise AssertionError("the job did not finish")


def test_an_engine_video_records_the_engine_and_keeps_its_copy_until_deleted(services, engine):
    row = made_on_the_engine(services, "a lighthouse")
    made = row.provenance["engine"]
    assert made["backend"] == "remote" and made["upstream_video_id"] in engine.jobs
    assert engine.deleted == []  # kept for remix while the video lives here
    user = UserService(services.sessions).get_or_create("ada")
    VideoService(services).delete(user, row.id)
    assert engine.deleted == [made["upstream_video_id"]]


def test_an_expired_engine_video_is_deleted_on_the_engine_too(services, engine):
    row = made_on_the_engine(services, "a harbour")
    with services.sessions.begin() as s:
        s.query(VideoRecord).filter(VideoRecord.id == row.id).update({"expires_at": now() - 1})
    assert sweep_expired(services) == [row.id]
    assert engine.deleted == [row.provenance["engine"]["upstream_video_id"]]
