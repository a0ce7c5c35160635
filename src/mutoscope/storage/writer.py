"""Where short write transactions run: in the caller's thread, or (SQLite) grouped on one
writer thread so that several commit together.

``Writer.run(write)`` calls ``write(session)`` inside a transaction and returns its result
once that transaction has committed (or raises its error). Callers hand over only the write
itself: validation, screening and anything slow happen before, in their own thread.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
Write = Callable[[Session], T]


class Writer:
    """Each write in its own transaction, in the caller's thread (PostgreSQL: its row locks
    and MVCC let writers run side by side)."""

    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    def run(self, write: Write[T]) -> T:
        with self.sessions.begin() as s:
            return write(s)

    async def run_async(self, write: Write[T]) -> T:
        """``run`` awaited from an event loop (here: in a worker thread)."""
        from anyio import to_thread

        return await to_thread.run_sync(self.run, write)

    def close(self) -> None:
        return None


class BatchWriter(Writer):
    """Group commit for SQLite, which allows one writer at a time anyway: writes queue for
    one thread, which runs every write waiting at that moment in one transaction and commits
    once. Each caller returns only after the commit that holds its write (the durability is
    the database's, as with its own transaction), and no write waits for others to arrive:
    a batch is whatever queued while the previous one was committing.

    If any write of a batch raises (or the commit fails), the batch rolls back and each of
    its writes is run again alone, so one bad write fails only its own caller. Writes must
    therefore do nothing outside the session that a rollback would not undo."""

    def __init__(self, sessions: sessionmaker, *, max_batch: int = 64):
        super().__init__(sessions)
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Write[object], Future[object]] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._closed = False

    def run(self, write: Write[T]) -> T:
        return self.submit(write).result()

    async def run_async(self, write: Write[T]) -> T:
        """Awaits the commit without holding a thread. Cancelled before its batch starts,
        the write is dropped; once started, it commits (or fails) with its batch."""
        return await asyncio.wrap_future(self.submit(write))

    def submit(self, write: Write[T]) -> Future[T]:
        """Queue ``write``; the future is resolved after the commit that holds it."""
        done: Future[T] = Future()
        self._ensure_thread()
        self._queue.put((write, done))  # type: ignore[arg-type]
        return done

    def close(self) -> None:
        with self._start:
            self._closed = True
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(10)

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._start:
            if self._closed:
                raise RuntimeError("the database writer is closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="mutoscope-db-writer", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            batch = [item for item in batch if item[1].set_running_or_notify_cancel()]
            if batch:
                self._commit(batch)

    def _commit(self, batch: list[tuple[Write[object], Future[object]]]) -> None:
        try:
            with self.sessions.begin() as s:
                results = [write(s) for write, _ in batch]
        except BaseException as exc:
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            for item in batch:  # find the bad one: each write alone
                self._commit([item])
            return
        for (_, done), result in zip(batch, results, strict=True):
            done.set_result(result)
