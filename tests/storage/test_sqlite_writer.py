"""SQLite's one writer per process: concurrent writers all succeed and the lock never leaks."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from mutoscope.storage.db import _WRITE_LOCKS, FifoLock, make_engine, session_factory, writing


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE n (id INTEGER PRIMARY KEY, v INTEGER)"))
    yield engine
    engine.dispose()


def test_many_threads_write_without_errors_and_the_lock_is_free_after(engine):
    sessions = session_factory(engine)
    errors: list[BaseException] = []

    def write(base: int) -> None:
        try:
            for i in range(20):
                with sessions.begin() as s:
                    s.execute(text("INSERT INTO n (id, v) VALUES (:id, 1)"), {"id": base + i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n * 100,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM n")).scalar() == 320
    assert not _WRITE_LOCKS[engine]._lock.locked()


def test_a_failed_write_releases_the_lock_at_once(engine):
    sessions = session_factory(engine)
    with sessions.begin() as s:
        s.execute(text("INSERT INTO n (id, v) VALUES (1, 1)"))
    with pytest.raises(IntegrityError), sessions.begin() as s:
        s.execute(text("INSERT INTO n (id, v) VALUES (1, 2)"))
    start = time.monotonic()
    with sessions.begin() as s:  # would wait out the 30 s timeout if the lock had leaked
        s.execute(text("INSERT INTO n (id, v) VALUES (2, 1)"))
    assert time.monotonic() - start < 5


def test_read_modify_write_under_writing_never_collides(engine):
    sessions = session_factory(engine)

    def append() -> None:
        for _ in range(15):
            with sessions() as s:
                writing(s)
                last = s.execute(text("SELECT coalesce(max(id), 0) FROM n")).scalar()
                s.execute(text("INSERT INTO n (id, v) VALUES (:id, 1)"), {"id": last + 1})
                s.commit()  # a duplicate id would raise IntegrityError here

    threads = [threading.Thread(target=append) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), max(id) FROM n")).one() == (120, 120)


def test_the_fifo_lock_hands_over_in_arrival_order():
    lock, order = FifoLock(), []
    assert lock.acquire()
    threads = []
    for n in range(5):
        t = threading.Thread(target=lambda n=n: (lock.acquire(), order.append(n), lock.release()))
        t.start()
        threads.append(t)
        time.sleep(0.05)  # each queues before the next starts
    lock.release()
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 3, 4]
    assert lock.acquire(timeout=0.1) and not FifoLock().locked()
    assert not _timed_out_waiter_holds(lock)


def _timed_out_waiter_holds(lock: FifoLock) -> bool:
    # ``lock`` is held: a waiter that gives up must not end up holding it.
    got = lock.acquire(timeout=0.05)
    lock.release()
    return got
