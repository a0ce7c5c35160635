"""Which failures are worth another try, and how long to keep trying.

Three kinds of failure, told apart by ``is_transient``:

- **decisions** (``MutoscopeError``: bad input, a rights block) are final at once;
- **transient faults** (a full or read-only disk, an I/O error, object storage answering 5xx or
  not at all, the database unreachable, an engine that is down) pass with time: the step that
  hit one is run again in place, with exponential back-off, for up to ``max_seconds``
  (``MUTOSCOPE_RETRY_MAX_SECONDS``), keeping the frames already generated;
- **anything else** (a bug, a crash) gets the queue's bounded ``max_attempts``.
"""

from __future__ import annotations

import errno
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from mutoscope.errors import JobCancelled, MutoscopeError

if TYPE_CHECKING:
    from mutoscope.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EROFS,
        errno.EIO,
        errno.EDQUOT,
        errno.EAGAIN,
        errno.EBUSY,
        errno.ESTALE,
        errno.ETIMEDOUT,
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
    }
)
_S3_RETRYABLE_CODES = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout"}
_TRANSIENT_NAMES = {
    # botocore / urllib3 connection failures, matched by name so neither is imported here
    "EndpointConnectionError",
    "ConnectionClosedError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    # httpx/httpcore transport failures (a remote engine that is down or restarting)
    "ConnectError",
    "ReadError",
    "WriteError",
    "RemoteProtocolError",
    "PoolTimeout",
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
}


class TransientFault(Exception):
    """Raise (or chain) this for a fault that will likely pass: e.g. an engine that is down."""


def is_transient(error: BaseException) -> bool:
    """True for faults that pass with time (see the module docstring); never for decisions."""
    for exc in _chain(error):
        if isinstance(exc, MutoscopeError | JobCancelled):
            return False
        if isinstance(exc, TransientFault | TimeoutError | ConnectionError):
            return True
        if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
            return True
        if type(exc).__name__ in _TRANSIENT_NAMES or _is_storage_5xx(exc):
            return True
        if type(exc).__name__ == "OperationalError" and "sqlalchemy" in type(exc).__module__:
            return True  # database unreachable, locked or full
    return False


def public_reason(error: BaseException) -> str:
    """A short cause for users: no file paths, no internal addresses."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return re.sub(r"(?:[A-Za-z]:)?(?:/[\w.@+-]+){2,}/?", "<path>", text)[:200]


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    exc: BaseException | None = error
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _is_storage_5xx(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):  # botocore ClientError keeps a parsed dict here
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    code = response.get("Error", {}).get("Code", "")
    return int(status) >= 500 or code in _S3_RETRYABLE_CODES


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 60.0
    max_seconds: float = 600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.max_attempts,
            base_delay=settings.retry_base_delay,
            max_seconds=settings.retry_max_seconds,
        )

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        return min(self.max_delay, self.base_delay * self.factor ** max(0, attempt - 1))

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """Domain errors (bad input, blocked output) are final; faults are retried."""
        if isinstance(error, MutoscopeError | JobCancelled):
            return False
        return attempt < self.max_attempts

    def run(
        self,
        step: Callable[[], T],
        *,
        what: str,
        check: Callable[[], None] = lambda: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> T:
        """``step()``, run again after each transient fault until ``max_seconds`` have passed.

        ``check`` runs before every new try (the job's lease check, so a deleted video stops
        waiting). Any other error, or a fault that outlasts the budget, is raised.
        """
        started, tries = time.monotonic(), 0
        while True:
            try:
                return step()
            except Exception as exc:
                tries += 1
                wait = self.delay(tries)
                if not is_transient(exc) or time.monotonic() - started + wait > self.max_seconds:
                    raise
                log.warning("%s hit a transient fault (%s); trying again in %.1fs", what, exc, wait)
            sleep(wait)
            check()
