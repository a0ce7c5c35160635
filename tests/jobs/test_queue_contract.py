"""One contract, two implementations: the real SQL queue (SQLite) and the in-memory fake."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from mutoscope.jobs.base import JobQueue
from mutoscope.jobs.memory import MemoryJobQueue
from mutoscope.jobs.sql import SqlJobQueue
from mutoscope.storage.db import make_engine, session_factory, upgrade
from mutoscope.storage.records import UserRecord
from tests.jobs.videos import add_queued_video


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def sessions(request, core_services):
    if request.param != "postgresql":
        yield core_services.sessions
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    with engine.begin() as conn:  # a clean schema per test
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def backends() -> dict[str, str]:
    """Which backend makes each video added by ``add_video`` (for the in-memory fake)."""
    return {}


@pytest.fixture
def queue(request, sessions, backends) -> JobQueue:
    if request.node.callspec.params["sessions"] == "memory":
        return MemoryJobQueue(lease_seconds=0.3, model_of=backends.__getitem__)
    return SqlJobQueue(sessions, lease_seconds=0.3)


@pytest.fixture
def add_video(sessions, backends):
    with sessions.begin() as s:
        s.add(UserRecord(id="user_q", name="q", created_at=0))

    def add(backend: str = "m") -> str:
        vid = add_queued_video(sessions, backend)
        backends[vid] = backend
        return vid

    return add


def test_jobs_are_claimed_oldest_first_and_only_once(queue, add_video):
    a, b = add_video(), add_video()
    queue.enqueue(a)
    queue.enqueue(b)
    first, second = queue.claim("w1"), queue.claim("w2")
    assert (first.video_id, second.video_id) == (a, b)
    assert first.attempt == 1 and queue.claim("w3") is None


def test_concurrent_claims_never_hand_out_a_job_twice(queue, add_video):
    ids = [add_video() for _ in range(20)]
    for vid in ids:
        queue.enqueue(vid)
    got: list[str] = []
    lock = threading.Lock()

    def grab(name: str) -> None:
        while (job := queue.claim(name)) is not None:
            with lock:
                got.append(job.video_id)

    threads = [threading.Thread(target=grab, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(ids)


def test_an_expired_lease_is_claimed_again_with_the_next_attempt(queue, add_video):
    vid = add_video()
    queue.enqueue(vid)
    assert queue.claim("dead").attempt == 1
    assert queue.claim("w2") is None
    time.sleep(0.35)
    job = queue.claim("w2")
    assert job.video_id == vid and job.attempt == 2
    assert not queue.heartbeat(vid, "dead") and not queue.finish(vid, "dead")
    assert queue.finish(vid, "w2")


def test_a_crashed_job_waits_longer_after_each_crash(request, sessions, backends, add_video):
    """Exponential back-off on worker crashes: lease + 0.5 s, then lease + 1 s, then 2 s."""
    if request.node.callspec.params["sessions"] == "memory":
        queue: JobQueue = MemoryJobQueue(
            lease_seconds=0.2, crash_backoff=0.5, model_of=backends.__getitem__
        )
    else:
        queue = SqlJobQueue(sessions, lease_seconds=0.2, crash_backoff=0.5)
    vid = add_video()
    queue.enqueue(vid, max_attempts=5)
    waits = []
    # A lease starts inside the claim call, after ``leased`` and before the call returns, so
    # "returned - previous leased" is never under the true wait (wall clock, as the queue's).
    leased = time.time()
    for attempt in (1, 2, 3):
        job = None
        while job is None:
            started = time.time()
            job = queue.claim(f"w{attempt}")
            if job is None:
                time.sleep(0.02)
        assert job.attempt == attempt
        waits.append(time.time() - leased)
        leased = started
        # the claimant dies here: nothing heartbeats, finishes or retries this attempt
    # Never early; late by less than the next doubling even on a loaded machine. The queue keeps
    # wall-clock time (shared across machines), which a virtual machine's clock sync may nudge
    # back by a few milliseconds between two readings (seen once: 1.198 s): 10 ms of slack.
    slack = 0.01
    assert waits[0] < 0.5  # a queued job is claimed at once
    assert 0.2 + 0.5 - slack <= waits[1] < 0.2 + 1.0  # lease + 1x back-off
    assert 0.2 + 1.0 - slack <= waits[2] < 0.2 + 2.0  # lease + 2x back-off
    assert queue.claim("w4") is None  # the third crash waits 4x before attempt 4


def test_heartbeats_keep_the_lease(queue, add_video):
    vid = add_video()
    queue.enqueue(vid)
    queue.claim("w1")
    for _ in range(4):
        time.sleep(0.1)
        assert queue.heartbeat(vid, "w1")
    assert queue.claim("w2") is None


def test_cancel_stops_the_holder_at_its_next_heartbeat(queue, add_video):
    vid = add_video()
    queue.enqueue(vid)
    queue.claim("w1")
    queue.cancel(vid)
    assert not queue.heartbeat(vid, "w1")
    assert queue.claim("w2") is None


def test_retry_waits_for_its_delay(queue, add_video):
    vid = add_video()
    queue.enqueue(vid)
    queue.claim("w1")
    queue.retry(vid, "w1", delay=0.2, error="boom")
    assert queue.claim("w1") is None
    time.sleep(0.25)
    assert queue.claim("w1").attempt == 2


def test_exhausted_jobs_are_reported_not_reclaimed(queue, add_video):
    vid = add_video()
    queue.enqueue(vid, max_attempts=1)
    queue.claim("dead")
    time.sleep(0.35)
    assert queue.claim("w2") is None
    assert [j.video_id for j in queue.expired()] == [vid]


def test_claim_can_ask_for_one_video(queue, add_video):
    older, mine = add_video(), add_video()
    queue.enqueue(older)
    queue.enqueue(mine)
    job = queue.claim("cli", video_id=mine)
    assert job.video_id == mine
    assert queue.claim("cli", video_id=mine) is None
    assert queue.claim("w").video_id == older


def test_a_taken_over_claim_cannot_commit_even_under_the_same_worker_id(queue, add_video):
    vid = add_video()
    queue.enqueue(vid)
    stale = queue.claim("w")
    time.sleep(0.35)  # the lease runs out: another thread of the same worker takes it over
    fresh = queue.claim("w")
    assert (stale.attempt, fresh.attempt) == (1, 2)
    assert not queue.heartbeat(vid, "w", stale.attempt)
    assert not queue.finish(vid, "w", attempt=stale.attempt)
    assert not queue.retry(vid, "w", delay=0, error="stale", attempt=stale.attempt)
    assert queue.heartbeat(vid, "w", fresh.attempt)
    assert queue.finish(vid, "w", attempt=fresh.attempt)
    assert queue.claim("w") is None  # done exactly once


def test_retry_by_a_worker_that_lost_the_job_changes_nothing(queue, add_video):
    vid = add_video()
    queue.enqueue(vid)
    queue.claim("dead")
    time.sleep(0.35)
    assert queue.claim("alive").attempt == 2
    assert not queue.retry(vid, "dead", delay=0, error="late")
    assert queue.claim("other") is None  # still held by "alive"


def test_workers_claim_only_the_models_they_serve(queue, add_video):
    wan, ltx, tiny = add_video("wan"), add_video("ltx"), add_video("tiny")
    for vid in (wan, ltx, tiny):
        queue.enqueue(vid)
    assert queue.claim("gpu0", models={"ltx", "tiny"}).video_id == ltx
    assert queue.claim("gpu0", models={"ltx"}) is None
    assert queue.claim("gpu1", models={"wan"}).video_id == wan
    assert queue.claim("any").video_id == tiny


def test_a_job_is_claimed_by_exactly_one_of_many_workers_per_attempt(queue, add_video):
    vid = add_video()
    queue.enqueue(vid)
    barrier = threading.Barrier(6)
    got: list[int] = []

    def grab(name: str) -> None:
        barrier.wait()
        job = queue.claim(name)
        if job is not None:
            got.append(job.attempt)

    threads = [threading.Thread(target=grab, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [1]
