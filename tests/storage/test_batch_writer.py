"""Group commit on SQLite: writes queued together commit together, each caller returns only
once its write is on disk, and a bad write fails only its own caller."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError

from mutoscope.storage.db import make_engine, session_factory
from mutoscope.storage.writer import BatchWriter


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE n (id INTEGER PRIMARY KEY, v INTEGER)"))
    commits: list[int] = []
    event.listen(engine, "commit", lambda conn: commits.append(1))
    writer = BatchWriter(session_factory(engine))
    yield url, writer, commits
    writer.close()
    engine.dispose()


def _insert(i: int, v: int = 1):
    def write(s):
        s.execute(text("INSERT INTO n (id, v) VALUES (:id, :v)"), {"id": i, "v": v})
        return i

    return write


def _count(url: str) -> int:
    """Rows another connection sees: only what was committed."""
    other = create_engine(url)
    try:
        with other.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM n")).scalar_one())
    finally:
        other.dispose()


def test_writes_queued_behind_a_commit_share_the_next_one(db):
    url, writer, commits = db
    busy, release = threading.Event(), threading.Event()

    def slow(s):
        busy.set()
        release.wait(10)
        s.execute(text("INSERT INTO n (id, v) VALUES (0, 0)"))

    with ThreadPoolExecutor(17) as pool:
        first = pool.submit(writer.run, slow)
        assert busy.wait(10)
        queued = [pool.submit(writer.run, _insert(i)) for i in range(1, 17)]
        while writer._queue.qsize() < 16:  # all sixteen are waiting behind the first
            threading.Event().wait(0.01)
        release.set()
        assert sorted(f.result(10) for f in queued) == list(range(1, 17))
        first.result(10)
    assert len(commits) == 2
    assert _count(url) == 17


def test_a_write_returns_only_once_committed(db):
    url, writer, _ = db
    for i in range(5):
        writer.run(_insert(i))
        assert _count(url) == i + 1


def test_a_bad_write_fails_alone_and_the_rest_of_its_batch_commits(db):
    url, writer, _ = db
    writer.run(_insert(1))
    busy, release = threading.Event(), threading.Event()

    def slow(s):
        busy.set()
        release.wait(10)

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(writer.run, slow)
        assert busy.wait(10)
        good = [pool.submit(writer.run, _insert(i)) for i in (2, 3)]
        bad = pool.submit(writer.run, _insert(1, v=2))  # duplicate key
        while writer._queue.qsize() < 3:
            threading.Event().wait(0.01)
        release.set()
        first.result(10)
        assert [f.result(10) for f in good] == [2, 3]
        with pytest.raises(IntegrityError):
            bad.result(10)
    assert _count(url) == 3
    writer.run(_insert(4))  # the writer thread is still serving
    assert _count(url) == 4


def test_a_closed_writer_refuses_new_writes(db):
    _, writer, _ = db
    writer.run(_insert(1))
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.run(_insert(2))
