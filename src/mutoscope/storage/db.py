"""Database engine, session factory and schema upgrades (Alembic, run at start-up)."""

from __future__ import annotations

import ast
import re
import threading
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: one process at a time is the operator's job
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x6D75746F  # "muto": the advisory lock every process takes to migrate
_upgrade_lock = threading.Lock()


class Base(DeclarativeBase):
    """Declarative base shared by every layer's tables (core, rights, provenance, studio)."""


def make_engine(url: str) -> Engine:
    """An engine tuned for the URL: SQLite gets WAL, a busy timeout, foreign keys and one
    writer at a time per process (``SqliteWriteLock``)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        SqliteWriteLock(timeout=30.0).install(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10)


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, SqliteWriteLock] = weakref.WeakKeyDictionary()
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class SqliteWriteLock:
    """One write transaction at a time in this process, queued on a lock instead of SQLite's
    busy handler.

    SQLite allows one writer; when 32 request threads race for it, the losers sleep in the
    busy handler's back-off (up to 100 ms a nap), which made create p99 over a second. Here a
    connection takes this lock at its transaction's first write statement (pysqlite begins the
    transaction right there) and releases it at commit or rollback, so waiting writers wake the
    moment the writer is done. Reads never take it. Durability is unchanged (same WAL and
    ``synchronous`` settings); other processes on the same file still meet the busy timeout.
    """

    def __init__(self, *, timeout: float):
        self.timeout = timeout
        self._lock = FifoLock()
        self._holder: Any = None

    def install(self, engine: Engine) -> None:
        _WRITE_LOCKS[engine] = self
        event.listen(engine, "before_cursor_execute", self._before_execute)
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]
        for name in ("close", "invalidate", "soft_invalidate"):
            event.listen(engine.pool, name, lambda conn, *_: self.release(conn))

    def _before_execute(
        self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if _WRITE.match(statement):
            self.acquire(cursor.connection)

    def acquire(self, raw: Any) -> None:
        """Make ``raw`` (a DBAPI connection) this process's writer until it commits or rolls
        back."""
        if self._holder is raw:
            return
        if not self._lock.acquire(timeout=self.timeout):
            import sqlite3

            raise sqlite3.OperationalError("database is locked (waited for this process's writer)")
        self._holder = raw

    def release(self, connection: Any) -> None:
        raw = getattr(connection, "dbapi_connection", connection)
        if raw is not None and self._holder is raw:
            self._holder = None
            self._lock.release()


class FifoLock:
    """A lock handed to waiters in arrival order. ``threading.Lock`` lets a releasing thread
    take it straight back, so under 32 writers a few wait for seconds; here each waiter gets
    its turn, which is what bounds the tail latency."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._locked = False

    def acquire(self, timeout: float = -1) -> bool:
        with self._mutex:
            if not self._locked:
                self._locked = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True  # the previous holder handed the lock over to us
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                return False
        return True  # handed over just as we gave up: we hold it

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # stays locked, now held by the next waiter
            else:
                self._locked = False

    def locked(self) -> bool:
        return self._locked


def writing(session: Session) -> None:
    """Make ``session``'s transaction this process's SQLite writer from now on.

    Call it first in a read-modify-write transaction (read the last row, write the next) so
    that its read already happens under the write lock and no other thread of this process
    can write in between. A no-op on PostgreSQL. The session must commit or roll back.
    """
    connection = session.connection()
    lock = _WRITE_LOCKS.get(connection.engine)
    if lock is not None:
        lock.acquire(connection.connection.dbapi_connection)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to every head (each layer keeps its own migration branch).

    Runs once even when many processes start together: on PostgreSQL under a transaction-level
    advisory lock, on SQLite under an exclusive lock on a file beside the database, so the
    others wait and then find nothing left to do.
    """
    if at_heads(engine):
        return  # the usual case: no Alembic import (~0.1 s) and no lock for a CLI command
    from alembic import command

    with _upgrade_lock, _file_lock(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def migration_heads() -> frozenset[str]:
    """The head revisions of the migration files, read without Alembic: every revision that
    no other revision names as its ``down_revision``."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        names: dict[str, Any] = {}
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                    names[target.id] = ast.literal_eval(node.value)
        if isinstance(names.get("revision"), str):
            revisions.add(names["revision"])
        down = names.get("down_revision")
        parents.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - parents)


def at_heads(engine: Engine) -> bool:
    """Whether the database records exactly the migration files' heads (then ``upgrade``
    has nothing to do). Any doubt (no version table yet, a file that does not parse)
    answers False and leaves the decision to Alembic."""
    try:
        heads = migration_heads()
        with engine.connect() as conn:
            stored = {
                row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))
            }
    except Exception:
        return False
    return bool(heads) and stored == heads


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or fcntl is None:
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
