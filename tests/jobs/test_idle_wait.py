"""Idle workers on PostgreSQL: woken by notifications, asleep (and costing nothing) otherwise."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from mutoscope.jobs.sql import SqlJobQueue
from mutoscope.storage.db import make_engine, session_factory, upgrade
from mutoscope.storage.records import UserRecord
from tests.jobs.videos import add_queued_video


@pytest.fixture
def sessions(postgres_url) -> Iterator[sessionmaker]:
    engine = make_engine(postgres_url)
    with engine.begin() as conn:  # a clean schema per test
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    with session_factory(engine).begin() as s:
        s.add(UserRecord(id="user_q", name="q", created_at=0))
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def listening(sessions) -> Iterator[SqlJobQueue]:
    """A worker's queue whose notification listener is connected."""
    queue = SqlJobQueue(sessions, lease_seconds=1.0)
    queue.wait(0.01)  # starts the listener
    deadline = time.monotonic() + 10
    while not queue._listening.is_set():
        assert time.monotonic() < deadline, "the listener did not connect"
        time.sleep(0.01)
    yield queue
    queue.close()


def timed_wait(queue: SqlJobQueue, poll: float) -> float:
    start = time.monotonic()
    queue.wait(poll)
    return time.monotonic() - start


def test_an_idle_worker_sleeps_past_its_poll_until_another_process_enqueues(sessions, listening):
    assert listening.claim("w") is None
    other = SqlJobQueue(sessions)  # another process's queue: the API's
    vid = add_queued_video(sessions)
    threading.Timer(0.5, lambda: other.enqueue(vid)).start()
    took = timed_wait(listening, poll=0.05)
    assert 0.45 <= took < 3.0  # not 10 polls: one wake-up, by the enqueue's NOTIFY
    assert listening.claim("w").video_id == vid


def test_an_idle_worker_wakes_when_a_retry_comes_due(sessions, listening):
    vid = add_queued_video(sessions)
    listening.enqueue(vid)
    job = listening.claim("w")
    listening.retry(vid, "w", delay=1.0, error="boom", attempt=job.attempt)
    time.sleep(0.2)  # the retry's own NOTIFY arrives (and finds nothing claimable yet)
    assert listening.claim("w") is None
    took = timed_wait(listening, poll=0.05)  # nobody notifies when the delay runs out
    assert 0.5 <= took < 3.0
    assert listening.claim("w").attempt == 2


def test_an_idle_worker_wakes_when_a_dead_workers_lease_runs_out(sessions, listening):
    vid = add_queued_video(sessions)
    listening.enqueue(vid)
    listening.claim("dead")  # its lease (1 s) runs out unrenewed
    time.sleep(0.2)  # the enqueue's NOTIFY arrives
    assert listening.claim("w") is None
    took = timed_wait(listening, poll=0.05)
    assert 0.5 <= took < 3.0
    assert listening.claim("w").attempt == 2


def test_a_notification_just_after_a_failed_claim_is_not_slept_through(sessions, listening):
    assert listening.claim("w") is None
    listening.notify()  # say, the listener's wake-up for a job committed after the claim
    assert timed_wait(listening, poll=5.0) < 0.5


def test_notifications_wake_a_worker_whose_claims_fail_once_each(sessions, listening):
    vid = add_queued_video(sessions)
    listening.enqueue(vid)
    job = listening.claim("w")
    listening.retry(vid, "w", delay=0.8, error="boom", attempt=job.attempt)
    time.sleep(0.2)  # the retry's NOTIFY arrives
    # The database is down, say: no claim runs, while the listener keeps reconnecting.
    listening.notify()
    assert timed_wait(listening, poll=0.05) < 0.2  # woken at once...
    assert timed_wait(listening, poll=0.05) >= 0.3  # ...once: then asleep until the retry
