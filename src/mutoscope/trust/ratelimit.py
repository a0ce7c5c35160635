"""Rate limits (the ``limits`` library, fixed windows): sign-in per account and per address,
sign-up and verify per address, video creation per API key or studio session.

Counters live in memory for one process, or in the database (``SqlStorage``, a ``limits``
storage over the ``rate_limits`` table) when several processes serve the same install.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import case, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from mutoscope.config import Settings
from mutoscope.errors import RateLimited
from mutoscope.trust.records import RateLimitRecord

RULES = ("signin_account", "signin_ip", "signup_ip", "videos", "verify_ip")


class SqlStorage(Storage):
    """Fixed-window counters in the ``rate_limits`` table (SQLite or PostgreSQL): one
    upsert per hit, so every process sharing the database shares the counts."""

    STORAGE_SCHEME = ["mutoscope+sql"]  # noqa: RUF012 (the base class declares it so)

    def __init__(self, sessions: sessionmaker, **options: Any):
        super().__init__(None, **options)
        self.sessions = sessions

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        table = RateLimitRecord.__table__
        with self.sessions.begin() as s:
            insert = _insert_for(s.get_bind().dialect.name)
            stmt = insert(table).values(key=key, count=amount, expires_at=now + expiry)
            expired = table.c.expires_at <= now
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "count": case((expired, amount), else_=table.c.count + amount),
                    "expires_at": case((expired, now + expiry), else_=table.c.expires_at),
                },
            ).returning(table.c.count)
            count = int(s.execute(stmt).scalar_one())
            if random.random() < 0.001:  # now and then, forget long-expired windows
                s.execute(delete(RateLimitRecord).where(RateLimitRecord.expires_at < now - 3600))
        return count

    def _row(self, key: str) -> RateLimitRecord | None:
        with self.sessions() as s:
            row = s.get(RateLimitRecord, key)
        return row if row is not None and row.expires_at > time.time() else None

    def get(self, key: str) -> int:
        row = self._row(key)
        return row.count if row is not None else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row.expires_at if row is not None else time.time()

    def check(self) -> bool:
        with self.sessions() as s:
            s.execute(select(1))
        return True

    def reset(self) -> int | None:
        with self.sessions.begin() as s:
            return int(s.execute(delete(RateLimitRecord)).rowcount or 0)

    def clear(self, key: str) -> None:
        with self.sessions.begin() as s:
            s.execute(delete(RateLimitRecord).where(RateLimitRecord.key == key))


class LocalStorage(Storage):
    """Fixed-window counters in this process's memory, forgotten lazily once expired.

    ``limits``' own ``MemoryStorage`` expires keys from a 10 ms ``threading.Timer`` that it
    restarts on every hit once the last one has run: under steady traffic that is a new
    thread for about every other create (≈0.3 ms of CPU and a GIL hand-over each). Here an
    expired window is dropped when its key is next touched, and a sweep every ``SWEEP``
    increments forgets keys that are not (one pass over the live keys)."""

    STORAGE_SCHEME = ["mutoscope+local"]  # noqa: RUF012 (the base class declares it so)
    SWEEP = 1024

    def __init__(self, **options: Any):
        super().__init__(None, **options)
        self._windows: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self._lock = threading.Lock()
        self._until_sweep = self.SWEEP

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            self._until_sweep -= 1
            if self._until_sweep <= 0:
                self._sweep(now)
            count, expires = self._windows.get(key, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + expiry
            self._windows[key] = (count + amount, expires)
            return count + amount

    def _sweep(self, now: float) -> None:
        self._windows = {k: w for k, w in self._windows.items() if w[1] > now}
        self._until_sweep = self.SWEEP

    def get(self, key: str) -> int:
        count, expires = self._windows.get(key, (0, 0.0))
        return count if expires > time.time() else 0

    def get_expiry(self, key: str) -> float:
        expires = self._windows.get(key, (0, 0.0))[1]
        return expires if expires > time.time() else time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            cleared, self._windows = len(self._windows), {}
        return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)


def _insert_for(dialect: str) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@dataclass
class RateLimits:
    """The install's limits. ``hit`` counts one attempt; ``check`` only looks."""

    limiter: FixedWindowRateLimiter
    rules: dict[str, RateLimitItem]
    enabled: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker) -> RateLimits:
        storage: Storage = SqlStorage(sessions) if uses_database(settings) else LocalStorage()
        rules = {name: parse(getattr(settings, f"rate_limit_{name}")) for name in RULES}
        return cls(FixedWindowRateLimiter(storage), rules, settings.rate_limits)

    def hit(self, rule: str, who: str) -> None:
        """Count one attempt; ``RateLimited`` once the window's allowance is spent."""
        if self.enabled and not self.limiter.hit(self.rules[rule], rule, who):
            raise self._limited(rule, who)

    def check(self, rule: str, who: str) -> None:
        """``RateLimited`` if the allowance is already spent (counts nothing)."""
        if self.enabled and not self.limiter.test(self.rules[rule], rule, who):
            raise self._limited(rule, who)

    def _limited(self, rule: str, who: str) -> RateLimited:
        item = self.rules[rule]
        reset = self.limiter.get_window_stats(item, rule, who).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        what = {
            "signin_account": "sign-in attempts for this account",
            "signin_ip": "sign-in attempts from your address",
            "signup_ip": "sign-ups from your address",
            "videos": "videos created with this key",
            "verify_ip": "verifications from your address",
        }[rule]
        return RateLimited(
            f"too many {what} (the limit is {item.amount} per {_window(item)}); "
            f"try again in {wait} s",
            retry_after=wait,
        )


def uses_database(settings: Settings) -> bool:
    if settings.rate_limit_storage == "auto":
        return not settings.db_url.startswith("sqlite")
    return settings.rate_limit_storage == "database"


def _window(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"


# -- the middleware for routes whose handlers belong to other layers ------------------------

VIDEO_ROUTES = re.compile(r"^(/v1/videos(/.*)?|/create|/v/[^/]+/remix)$")
VERIFY_ROUTES = re.compile(r"^/v1/provenance/verify(/.*)?$")


def client_address(scope: Any) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def credential(scope: Any) -> str:
    """Who is creating: the API key, else the studio session, else the address (keyless)."""
    headers = dict(scope.get("headers") or [])
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth[:7].lower() == "bearer ":
        return "key:" + hashlib.sha256(auth[7:].strip().encode()).hexdigest()[:32]
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "mutoscope_session" and value:
            return "session:" + hashlib.sha256(value.encode()).hexdigest()[:32]
    return "ip:" + client_address(scope)


class RateLimitMiddleware:
    """Counts video creation (every POST under /v1/videos and the studio's create and
    remix forms) per credential, and verify per address, before the request is read."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        limits: RateLimits | None = None
        if scope["type"] == "http" and scope["method"] == "POST":
            limits = getattr(scope["app"].state, "limits", None)
        if limits is not None:
            path = scope["path"]
            try:
                if VIDEO_ROUTES.match(path):
                    limits.hit("videos", credential(scope))
                elif VERIFY_ROUTES.match(path):
                    limits.hit("verify_ip", client_address(scope))
            except RateLimited as exc:
                await _send_limited(send, exc, html=not path.startswith("/v1/"))
                return
        await self.app(scope, receive, send)


async def _send_limited(send: Any, exc: RateLimited, *, html: bool) -> None:
    if html:
        body = (
            "<!doctype html><title>Too many requests</title>"
            f"<p>{exc.message.capitalize()}.</p><p><a href='javascript:history.back()'>Back</a></p>"
        ).encode()
        kind = b"text/html; charset=utf-8"
    else:
        error = {"message": exc.message, "type": exc.type, "param": None, "code": exc.code}
        body, kind = json.dumps({"error": error}).encode(), b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(exc.retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
