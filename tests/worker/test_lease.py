"""The job's own heartbeat keeps its lease through long silent steps; fencing and outcomes."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from mutoscope.backends.base import GeneratedVideo, GenerationRequest, ProgressCallback
from mutoscope.backends.registry import load_backends
from mutoscope.backends.testing import TestPatternBackend
from mutoscope.services import build_services
from mutoscope.storage.records import JobRecord, VideoRecord
from mutoscope.users import LOCAL_USER, UserService
from mutoscope.videos import VideoCreate, VideoService
from mutoscope.worker.hooks import NullProvenance, NullRights
from mutoscope.worker.pool import Worker

LEASE = 0.6


class SlowLoad(TestPatternBackend):
    """Loads for three lease periods without reporting progress (a big model from disk)."""

    name = "slow-load"

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback) -> GeneratedVideo:
        time.sleep(3 * LEASE)
        return super().generate(request, on_progress)


class Other(TestPatternBackend):
    name = "other-model"


class FailingIndex(NullRights):
    def index_output(self, *, video_id: str, frames: np.ndarray) -> None:
        raise RuntimeError("index is down")


@pytest.fixture
def services(settings):
    settings.lease_seconds = LEASE
    settings.retry_base_delay = 0.05

    def register(add, _settings):  # type: ignore[no-untyped-def]
        add(SlowLoad())
        add(Other())

    svc = build_services(
        settings,
        backends=load_backends(settings, hooks=[register]),
        rights=NullRights(),
        provenance=NullProvenance(),
    )
    yield svc
    svc.close()


def create(services, model: str) -> str:  # type: ignore[no-untyped-def]
    user = UserService(services.sessions).get_or_create(LOCAL_USER, is_admin=True)
    body = VideoCreate(prompt="a slow start", model=model, size="256x256", seconds="4")
    return VideoService(services).create(user, body).id


def record(services, video_id: str) -> tuple[VideoRecord, JobRecord]:  # type: ignore[no-untyped-def]
    with services.sessions() as s:
        return s.get(VideoRecord, video_id), s.get(JobRecord, video_id)


def test_a_load_of_three_lease_periods_is_never_taken_over_while_its_worker_lives(services):
    vid = create(services, "slow-load")
    job = services.queue.claim("gpu-a")
    assert job is not None and job.video_id == vid
    runner = Worker(services)
    runner.worker_id = "gpu-a"
    thread = threading.Thread(target=runner.run_one, args=(job,))
    thread.start()
    stolen = []
    while thread.is_alive():  # another worker keeps trying to take it the whole time
        if (other := services.queue.claim("gpu-b")) is not None:
            stolen.append(other)
        time.sleep(0.05)
    thread.join()
    video, row = record(services, vid)
    assert stolen == []
    assert video.status == "completed" and row.attempts == 1 and row.state == "done"


def test_a_worker_whose_job_was_taken_over_commits_nothing(services):
    vid = create(services, "other-model")
    stale = services.queue.claim("gpu-a")
    time.sleep(LEASE + 0.1)  # gpu-a stalled (e.g. a stopped VM); its lease ran out
    fresh = services.queue.claim("gpu-b")
    assert fresh is not None and fresh.attempt == 2
    loser = Worker(services)
    loser.worker_id = "gpu-a"
    loser.run_one(stale)  # wakes up and tries to finish: refused, nothing written
    video, row = record(services, vid)
    assert video.status != "completed" and row.lease_owner == "gpu-b"
    winner = Worker(services)
    winner.worker_id = "gpu-b"
    winner.run_one(fresh)
    video, row = record(services, vid)
    assert video.status == "completed" and row.state == "done" and row.attempts == 2


def test_an_error_after_completion_does_not_put_the_video_back_in_the_queue(settings):
    settings.lease_seconds = LEASE
    from mutoscope.backends.testing import register_backends

    svc = build_services(
        settings,
        backends=load_backends(settings, hooks=[register_backends]),
        rights=FailingIndex(),
        provenance=NullProvenance(),
    )
    try:
        vid = create(svc, "mutoscope-test")
        worker = Worker(svc)
        worker.run_one(svc.queue.claim(worker.worker_id))
        video, row = record(svc, vid)
        assert video.status == "completed" and row.state == "done"
        assert svc.files.exists(vid, "video")
    finally:
        svc.close()


def test_a_worker_claims_only_the_models_it_serves(services):
    vid = create(services, "other-model")
    only_slow = Worker(services, models={"slow-load"}, poll_seconds=0.05)
    only_slow.start()
    time.sleep(0.4)
    only_slow.stop()
    assert record(services, vid)[0].status == "queued"
    serves_it = Worker(services, models={"other-model"}, poll_seconds=0.05)
    serves_it.start()
    deadline = time.time() + 30
    while record(services, vid)[0].status != "completed":
        assert time.time() < deadline
        time.sleep(0.05)
    serves_it.stop()
